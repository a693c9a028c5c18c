/* feeds/sanitize.c - HTML from feeds made safe to show (feeds/sanitize.h).
 *
 * The fragment is parsed as a browser would parse it (gumbo, the HTML5
 * parsing algorithm, in the context of a <div>), so that what is checked
 * is what a reader's browser would build, not what the bytes look like.
 * The tree is then written back with only what an allow-list names:
 *
 * - elements of text and structure keep their tags; elements that run
 *   code, load other documents, take input or escape the page (script,
 *   style, iframe, object, form and its controls, svg, math, ...) are
 *   dropped with all they hold; any other element (unknown ones too) is
 *   dropped but its content kept;
 * - each kept element keeps only its listed attributes, never an event
 *   handler or a style; numbers must be numbers;
 * - a URL (href, src, cite) is kept when it is relative or its scheme is
 *   http, https or mailto (a link only), or data: with a raster image
 *   type (an image only); the scheme is read as browsers read it, after
 *   dropping tabs and newlines and leading controls and spaces;
 * - links get rel="noopener noreferrer"; comments go; text is escaped.
 *
 * The walk follows parent links, not recursion, so no nesting depth can
 * exhaust the stack.
 *
 * gumbo's tree building costs, for each tag, up to the depth of the open
 * elements (measured: 4x the <div>s took 20x the time; 4x unclosed <b>s
 * 11x). So a long fragment is parsed in pieces of at most PIECE_MAX
 * bytes, each cut before a tag: each piece's tree is whole, so the output
 * stays balanced and safe, and the work stays linear. An element open
 * across a cut is closed there (its formatting stops early); articles
 * are rarely that long. */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <gumbo.h>

#include "feeds/buf.h"
#include "feeds/sanitize.h"

/* The longest piece of a fragment parsed at once. */
#define PIECE_MAX ((size_t)16 << 10)

enum rule { DROP, UNWRAP, KEEP };

/* Kinds of attribute value. */
enum kind { TEXT, URL_LINK, URL_IMAGE, NUMBER };

struct attr_rule {
    const char *name;
    enum kind kind;
};

/* Allowed on every kept element. */
static const struct attr_rule global_attrs[] = {
    {"title", TEXT}, {"lang", TEXT}, {"dir", TEXT}, {NULL, TEXT}};

static const struct attr_rule a_attrs[] = {{"href", URL_LINK}, {NULL, TEXT}};
static const struct attr_rule img_attrs[] = {{"src", URL_IMAGE},
                                             {"alt", TEXT},
                                             {"width", NUMBER},
                                             {"height", NUMBER},
                                             {NULL, TEXT}};
static const struct attr_rule cite_attrs[] = {
    {"cite", URL_LINK}, {"datetime", TEXT}, {NULL, TEXT}};
static const struct attr_rule cell_attrs[] = {{"colspan", NUMBER},
                                              {"rowspan", NUMBER},
                                              {"scope", TEXT},
                                              {"abbr", TEXT},
                                              {NULL, TEXT}};
static const struct attr_rule ol_attrs[] = {
    {"start", NUMBER}, {"reversed", TEXT}, {"type", TEXT}, {NULL, TEXT}};
static const struct attr_rule li_attrs[] = {{"value", NUMBER}, {NULL, TEXT}};
static const struct attr_rule span_attrs[] = {{"span", NUMBER}, {NULL, TEXT}};
static const struct attr_rule time_attrs[] = {{"datetime", TEXT}, {NULL, TEXT}};
static const struct attr_rule none[] = {{NULL, TEXT}};

/* What becomes of an element, and the attributes it may keep. */
static enum rule
rule_of(const GumboNode *n, const struct attr_rule **attrs)
{
    *attrs = none;
    if (n->type != GUMBO_NODE_ELEMENT)
        return DROP; /* a template */
    /* SVG and MathML can carry scripts and styles of their own. */
    if (n->v.element.tag_namespace != GUMBO_NAMESPACE_HTML)
        return DROP;
    switch (n->v.element.tag) {
    case GUMBO_TAG_A:
        *attrs = a_attrs;
        return KEEP;
    case GUMBO_TAG_IMG:
        *attrs = img_attrs;
        return KEEP;
    case GUMBO_TAG_BLOCKQUOTE:
    case GUMBO_TAG_Q:
    case GUMBO_TAG_DEL:
    case GUMBO_TAG_INS:
        *attrs = cite_attrs;
        return KEEP;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
        *attrs = cell_attrs;
        return KEEP;
    case GUMBO_TAG_OL:
        *attrs = ol_attrs;
        return KEEP;
    case GUMBO_TAG_LI:
        *attrs = li_attrs;
        return KEEP;
    case GUMBO_TAG_COL:
    case GUMBO_TAG_COLGROUP:
        *attrs = span_attrs;
        return KEEP;
    case GUMBO_TAG_TIME:
        *attrs = time_attrs;
        return KEEP;
    case GUMBO_TAG_ABBR:
    case GUMBO_TAG_ACRONYM:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_B:
    case GUMBO_TAG_BDI:
    case GUMBO_TAG_BIG:
    case GUMBO_TAG_BR:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_CITE:
    case GUMBO_TAG_CODE:
    case GUMBO_TAG_DD:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_DFN:
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_EM:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_HR:
    case GUMBO_TAG_I:
    case GUMBO_TAG_KBD:
    case GUMBO_TAG_MARK:
    case GUMBO_TAG_P:
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_RT:
    case GUMBO_TAG_RUBY:
    case GUMBO_TAG_S:
    case GUMBO_TAG_SAMP:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_SMALL:
    case GUMBO_TAG_SPAN:
    case GUMBO_TAG_STRIKE:
    case GUMBO_TAG_STRONG:
    case GUMBO_TAG_SUB:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_SUP:
    case GUMBO_TAG_TABLE:
    case GUMBO_TAG_TBODY:
    case GUMBO_TAG_TFOOT:
    case GUMBO_TAG_THEAD:
    case GUMBO_TAG_TR:
    case GUMBO_TAG_TT:
    case GUMBO_TAG_U:
    case GUMBO_TAG_UL:
    case GUMBO_TAG_VAR:
    case GUMBO_TAG_WBR:
        return KEEP;
    /* Code, other documents, input, and what must not show as text. */
    case GUMBO_TAG_APPLET:
    case GUMBO_TAG_AREA:
    case GUMBO_TAG_BASE:
    case GUMBO_TAG_BASEFONT:
    case GUMBO_TAG_BGSOUND:
    case GUMBO_TAG_BUTTON:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FRAME:
    case GUMBO_TAG_FRAMESET:
    case GUMBO_TAG_HEAD:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_ISINDEX:
    case GUMBO_TAG_KEYGEN:
    case GUMBO_TAG_LINK:
    case GUMBO_TAG_MATH:
    case GUMBO_TAG_META:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_OPTGROUP:
    case GUMBO_TAG_OPTION:
    case GUMBO_TAG_OUTPUT:
    case GUMBO_TAG_PARAM:
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_SOURCE:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_SVG:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_TEXTAREA:
    case GUMBO_TAG_TITLE:
    case GUMBO_TAG_TRACK:
        return DROP;
    default:
        return UNWRAP;
    }
}

static int
void_element(GumboTag tag)
{
    return tag == GUMBO_TAG_BR || tag == GUMBO_TAG_HR || tag == GUMBO_TAG_IMG ||
           tag == GUMBO_TAG_WBR || tag == GUMBO_TAG_COL;
}

/* 1 when the bytes at p start with prefix, ASCII case folded, tabs and
 * newlines in p skipped; *end is then just past the match. */
static int
starts_with(const char *p, const char *prefix, const char **end)
{
    for (; *prefix; p++) {
        if (*p == '\t' || *p == '\n' || *p == '\r')
            continue;
        if (tolower((unsigned char)*p) != *prefix++)
            return 0;
    }
    *end = p;
    return 1;
}

/* 1 for a URL kind allows: relative, or of a scheme kind allows. */
int
feed_sanitize_url(const char *v, int image)
{
    static const char *const images[] = {"image/png", "image/gif", "image/jpeg",
                                         "image/webp", NULL};
    const char *p = v, *rest;
    char scheme[16];
    size_t n = 0, i;
    int bad = 0;

    /* What browsers skip before a URL, and ignore within one. */
    while (*p && (unsigned char)*p <= ' ')
        p++;
    for (; *p && *p != ':'; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\t' || c == '\n' || c == '\r')
            continue;
        if (c == '/' || c == '?' || c == '#')
            return 1; /* relative: a colon further on is no scheme's */
        /* A scheme is a letter, then letters, digits, '+', '-' or '.'. */
        if (!(isalpha(c) || (n > 0 && (isdigit(c) || strchr("+-.", c)))) ||
            n == sizeof(scheme) - 1)
            bad = 1;
        else
            scheme[n++] = (char)tolower(c);
    }
    if (*p != ':')
        return 1; /* no colon: relative */
    /* A colon in a first segment that is no scheme makes no relative URL
     * either (RFC 3986 §4.2). */
    if (bad || n == 0)
        return 0;
    scheme[n] = '\0';
    if (strcmp(scheme, "http") == 0 || strcmp(scheme, "https") == 0)
        return 1;
    if (!image)
        return strcmp(scheme, "mailto") == 0;
    if (strcmp(scheme, "data") != 0)
        return 0;
    for (i = 0; images[i]; i++)
        if (starts_with(p + 1, images[i], &rest) &&
            (*rest == ';' || *rest == ','))
            return 1;
    return 0;
}

static int
number(const char *v)
{
    size_t n = strlen(v);

    return n > 0 && n <= 6 && strspn(v, "0123456789") == n;
}

static int
attr_ok(const struct attr_rule *r, const char *v)
{
    switch (r->kind) {
    case URL_LINK:
        return feed_sanitize_url(v, 0);
    case URL_IMAGE:
        return feed_sanitize_url(v, 1);
    case NUMBER:
        return number(v);
    default:
        return 1;
    }
}

static const struct attr_rule *
find_attr(const struct attr_rule *list, const char *name)
{
    for (; list->name; list++)
        if (strcasecmp(list->name, name) == 0)
            return list;
    return NULL;
}

static int
open_tag(struct feed_buf *out, const GumboElement *e,
         const struct attr_rule *attrs)
{
    unsigned i;
    int rc;

    if ((rc = feed_buf_printf(out, "<%s", gumbo_normalized_tagname(e->tag))) !=
        0)
        return rc;
    for (i = 0; i < e->attributes.length; i++) {
        const GumboAttribute *a = e->attributes.data[i];
        const struct attr_rule *r = find_attr(attrs, a->name);

        if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE)
            continue;
        if (r == NULL && (r = find_attr(global_attrs, a->name)) == NULL)
            continue;
        if (!attr_ok(r, a->value))
            continue;
        if ((rc = feed_buf_printf(out, " %s=\"", r->name)) != 0 ||
            (rc = feed_buf_xml(out, a->value)) != 0 ||
            (rc = feed_buf_puts(out, "\"")) != 0)
            return rc;
    }
    if (e->tag == GUMBO_TAG_A &&
        (rc = feed_buf_puts(out, " rel=\"noopener noreferrer\"")) != 0)
        return rc;
    return feed_buf_puts(out, ">");
}

/* The end tag of n, if it is a kept element that has one. */
static int
close_tag(struct feed_buf *out, const GumboNode *n)
{
    const struct attr_rule *attrs;

    if (rule_of(n, &attrs) != KEEP || void_element(n->v.element.tag))
        return 0;
    return feed_buf_printf(out, "</%s>",
                           gumbo_normalized_tagname(n->v.element.tag));
}

static const GumboVector *
children(const GumboNode *n)
{
    return n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children
                                          : &n->v.element.children;
}

/* Writes what root holds, in document order, by the rules above. */
static int
walk(struct feed_buf *out, const GumboNode *root)
{
    const GumboNode *n =
        children(root)->length ? children(root)->data[0] : NULL;
    const struct attr_rule *attrs;
    int rc = 0;

    while (n != NULL && rc == 0) {
        int enter = 0;

        switch (n->type) {
        case GUMBO_NODE_TEXT:
        case GUMBO_NODE_CDATA:
        case GUMBO_NODE_WHITESPACE:
            rc = feed_buf_xml(out, n->v.text.text);
            break;
        case GUMBO_NODE_ELEMENT:
            switch (rule_of(n, &attrs)) {
            case KEEP:
                rc = open_tag(out, &n->v.element, attrs);
                enter = !void_element(n->v.element.tag);
                break;
            case UNWRAP:
                enter = 1;
                break;
            case DROP:
                break;
            }
            break;
        default: /* comments, templates */
            break;
        }
        if (rc != 0)
            break;
        if (enter && n->v.element.children.length > 0) {
            n = n->v.element.children.data[0];
            continue;
        }
        if (enter)
            rc = close_tag(out, n);
        /* On to the next sibling, closing each parent left. */
        while (rc == 0 && n != root) {
            const GumboNode *parent = n->parent;
            size_t next = n->index_within_parent + 1;

            if (next < children(parent)->length) {
                n = children(parent)->data[next];
                break;
            }
            n = parent;
            if (n != root)
                rc = close_tag(out, n);
        }
        if (n == root)
            break;
    }
    return rc;
}

/* The length of the next piece of the n bytes at p: all of them when
 * they fit in PIECE_MAX, else up to the last '<' that starts a tag in the
 * first PIECE_MAX bytes, else up to the last whole UTF-8 character. */
static size_t
piece_len(const char *p, size_t n)
{
    size_t i;

    if (n <= PIECE_MAX)
        return n;
    for (i = PIECE_MAX - 1; i > 0; i--)
        if (p[i] == '<' &&
            (isalpha((unsigned char)p[i + 1]) || p[i + 1] == '/'))
            return i;
    for (i = PIECE_MAX; i > 1 && ((unsigned char)p[i] & 0xc0) == 0x80; i--)
        ;
    return i;
}

int
feed_sanitize_html(struct feed_buf *out, const char *html, size_t len)
{
    GumboOptions opt = kGumboDefaultOptions;
    int rc = 0;

    opt.max_errors = 0;
    opt.fragment_context = GUMBO_TAG_DIV;
    opt.fragment_namespace = GUMBO_NAMESPACE_HTML;
    while (len > 0 && rc == 0) {
        size_t n = piece_len(html, len);
        GumboOutput *doc = gumbo_parse_with_options(&opt, html, n);

        if (doc == NULL)
            return -ENOMEM;
        rc = walk(out, doc->root);
        gumbo_destroy_output(&opt, doc);
        html += n;
        len -= n;
    }
    return rc;
}

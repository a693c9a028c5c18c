/* feeds/text.c - the text surgery the parser does on fields, in place:
 * trimming, HTML entities, markup removal (titles are plain text), base64,
 * relative URLs in HTML made absolute. Internal to feeds/.
 *
 * Every pass here reads untrusted text and is linear in it: a look-ahead
 * is bounded (a reference is at most REF_MAX bytes), or what a search
 * found is remembered for the next search from further on, so that no
 * byte is read again for each '&', '<' or '=' before it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
#include "feeds/url.h"
#include "text.h"
#include "utf8.h"

void
feed_text_trim(struct feed_buf *b)
{
    size_t i = 0, n = b->len;

    if (b->data == NULL)
        return;
    while (n > 0 && isspace((unsigned char)b->data[n - 1]))
        n--;
    while (i < n && isspace((unsigned char)b->data[i]))
        i++;
    memmove(b->data, b->data + i, n - i);
    b->len = n - i;
    b->data[b->len] = '\0';
}

/* The longest reference decoded, from '&' to ';': "&thetasym;" (the
 * longest HTML 4.01 name) and "&#1114111;" fit. */
#define REF_MAX 10

/* The code point of the digits s[0..n) of a numeric reference ("65" or
 * "x41"), or 0 when they are none or name no Unicode scalar value. */
static unsigned long
ref_number(const char *s, size_t n)
{
    unsigned long cp = 0;
    int hex = n > 0 && (s[0] == 'x' || s[0] == 'X');
    size_t i = (size_t)hex;

    if (i == n)
        return 0;
    for (; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int d;

        if (isdigit(c))
            d = c - '0';
        else if (hex && isxdigit(c))
            d = tolower(c) - 'a' + 10;
        else
            return 0;
        cp = cp * (hex ? 16 : 10) + (unsigned long)d;
    }
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return cp;
}

/* The UTF-8 of the reference r[0..n) ('&' to before its ';') into out
 * (room for REF_MAX bytes); its length, never more than n + 1, or 0 when
 * r is not a reference this decodes. */
static size_t
ref_decode(const char *r, size_t n, char *out)
{
    char name[REF_MAX];
    const char *utf8;
    size_t len;

    if (r[1] == '#') {
        unsigned long cp = ref_number(r + 2, n - 2);

        return cp ? feed_utf8_encode((uint32_t)cp, out) : 0;
    }
    memcpy(name, r + 1, n - 1);
    name[n - 1] = '\0';
    if ((utf8 = feed_html_entity(name)) == NULL || (len = strlen(utf8)) > n + 1)
        return 0;
    memcpy(out, utf8, len);
    return len;
}

/* Decodes character references and HTML's named entities in place; used
 * on titles, which must be plain text. A reference is looked for within
 * REF_MAX bytes of its '&' only. */
void
feed_text_decode_entities(struct feed_buf *b)
{
    char *r, *w, out[REF_MAX];

    if (b->data == NULL)
        return;
    for (r = w = b->data; *r;) {
        size_t n = 0, len = 0;

        if (*r == '&') {
            /* n: from '&' to before the ';', when there is one in
             * reach. */
            for (n = 1; n <= REF_MAX && r[n] && r[n] != ';'; n++)
                ;
            if (n >= 3 && n <= REF_MAX && r[n] == ';')
                len = ref_decode(r, n, out);
        }
        if (len == 0) {
            *w++ = *r++;
            continue;
        }
        memcpy(w, out, len);
        w += len;
        r += n + 1;
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
}

/* A search that remembers its answer: the first place at or after from
 * where what is looked for is (end when nowhere). Searches are asked from
 * positions that only move forward, so the last answer stands while it
 * is not behind: the text is read once, however many times it is asked. */
struct memo {
    char *at;
};

/* The first c in [p, end) (end when none), remembered in m. */
static char *
memo_chr(struct memo *m, char *p, char *end, char c)
{
    if (m->at == NULL || m->at < p) {
        char *q = memchr(p, c, (size_t)(end - p));

        m->at = q ? q : end;
    }
    return m->at;
}

/* The first tag name (lower case, "</script") in [p, end), in any case,
 * remembered in m. Each '<' is compared once. */
static char *
memo_tag(struct memo *m, char *p, char *end, const char *name)
{
    size_t n = strlen(name);
    char *q;

    if (m->at != NULL && m->at >= p)
        return m->at;
    m->at = end;
    for (; (q = memchr(p, '<', (size_t)(end - p))) != NULL; p = q + 1)
        if ((size_t)(end - q) >= n && strncasecmp(q, name, n) == 0) {
            m->at = q;
            break;
        }
    return m->at;
}

/* The '>' of the first "-->" in [p, end), or end - 1 when there is
 * none. */
static char *
comment_end(char *p, char *end)
{
    char *q = end - p > 2 ? p + 2 : end;

    while (q < end && (q = memchr(q, '>', (size_t)(end - q))) != NULL) {
        if (q[-1] == '-' && q[-2] == '-')
            return q;
        q++;
    }
    return end - 1;
}

/* The longest name in html_elements[]: "blockquote", "figcaption". */
#define ELEMENT_MAX 10

static int
name_cmp(const void *key, const void *name)
{
    return strcmp(key, *(const char *const *)name);
}

/* 1 when p, before end, starts with the name of an element of HTML 4.01
 * or HTML 5 (obsolete ones included), in any case, then white space, a
 * '>' or a '/': "<b>" and "<br/>" are tags, "<bool>" and "<bold>" are
 * not. At most ELEMENT_MAX + 1 bytes are read. */
static int
html_element_at(const char *p, const char *end)
{
    static const char *const names[] = {
        /* Sorted, for bsearch(). */
        "a",       "abbr",     "acronym",    "address",  "applet",
        "area",    "article",  "aside",      "audio",    "b",
        "base",    "basefont", "bdi",        "bdo",      "bgsound",
        "big",     "blink",    "blockquote", "body",     "br",
        "button",  "canvas",   "caption",    "center",   "cite",
        "code",    "col",      "colgroup",   "data",     "datalist",
        "dd",      "del",      "details",    "dfn",      "dialog",
        "dir",     "div",      "dl",         "dt",       "em",
        "embed",   "fieldset", "figcaption", "figure",   "font",
        "footer",  "form",     "frame",      "frameset", "h1",
        "h2",      "h3",       "h4",         "h5",       "h6",
        "head",    "header",   "hgroup",     "hr",       "html",
        "i",       "iframe",   "img",        "input",    "ins",
        "isindex", "kbd",      "keygen",     "label",    "legend",
        "li",      "link",     "listing",    "main",     "map",
        "mark",    "marquee",  "math",       "menu",     "menuitem",
        "meta",    "meter",    "multicol",   "nav",      "nextid",
        "nobr",    "noembed",  "noframes",   "noscript", "object",
        "ol",      "optgroup", "option",     "output",   "p",
        "param",   "picture",  "plaintext",  "pre",      "progress",
        "q",       "rb",       "rp",         "rt",       "rtc",
        "ruby",    "s",        "samp",       "script",   "search",
        "section", "select",   "slot",       "small",    "source",
        "spacer",  "span",     "strike",     "strong",   "style",
        "sub",     "summary",  "sup",        "svg",      "table",
        "tbody",   "td",       "template",   "textarea", "tfoot",
        "th",      "thead",    "time",       "title",    "tr",
        "track",   "tt",       "u",          "ul",       "var",
        "video",   "wbr",      "xmp",
    };
    char name[ELEMENT_MAX + 1];
    size_t n = 0;

    for (; p < end && isalnum((unsigned char)*p); p++) {
        if (n == ELEMENT_MAX)
            return 0;
        name[n++] = (char)tolower((unsigned char)*p);
    }
    name[n] = '\0';
    if (n == 0 || p == end ||
        !(isspace((unsigned char)*p) || *p == '>' || *p == '/'))
        return 0;
    return bsearch(name, names, sizeof(names) / sizeof(names[0]),
                   sizeof(names[0]), name_cmp) != NULL;
}

/* 1 when the '<' at r, before end, opens markup: any tag, comment,
 * declaration or processing instruction; or, when tags_only, only a tag
 * of an HTML element (its start or its end) or a comment. */
static int
markup_at(const char *r, const char *end, int tags_only)
{
    if (!tags_only)
        return isalpha((unsigned char)r[1]) || r[1] == '/' || r[1] == '!' ||
               r[1] == '?';
    if (r[1] == '!')
        return strncmp(r, "<!--", 4) == 0;
    return html_element_at(r + 1 + (r[1] == '/'), end);
}

/* Removes markup (what markup_at() takes for it) in place, then decodes
 * entities. */
static void
strip(struct feed_buf *b, int tags_only)
{
    static const char *const closes[] = {"</script", "</style"};
    struct memo gt_memo = {0}, close_memo[2] = {{0}, {0}};
    char *r, *w, *end;

    if (b->data == NULL)
        return;
    end = b->data + strlen(b->data);
    for (r = w = b->data; r < end; r++) {
        if (*r == '<' && markup_at(r, end, tags_only)) {
            char *gt = memo_chr(&gt_memo, r, end, '>');

            if (gt != end && strncmp(r, "<!--", 4) == 0) {
                /* A comment ends at "-->", whatever it holds. */
                r = comment_end(r + 4, end);
                continue;
            }
            if (gt != end) {
                /* What a script or a style holds is not text at all. */
                if (strncasecmp(r + 1, "script", 6) == 0 ||
                    strncasecmp(r + 1, "style", 5) == 0) {
                    int k = r[2] == 'c' || r[2] == 'C' ? 0 : 1;
                    char *close = memo_tag(&close_memo[k], gt, end, closes[k]);

                    if (close != end &&
                        (gt = memchr(close, '>', (size_t)(end - close))) ==
                            NULL)
                        gt = end - 1;
                }
                r = gt;
                continue;
            }
        }
        *w++ = *r;
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
    feed_text_decode_entities(b);
}

/* Removes markup from HTML text in place: tags dropped, entities decoded,
 * so that a title is plain text. A '<' that is never closed by a '>'
 * stays text; so does what follows a script or a style that is never
 * closed. */
void
feed_text_strip_markup(struct feed_buf *b)
{
    strip(b, 0);
}

/* The same for text of no type, which holds text shaped like a tag
 * ("vector<bool>") as often as HTML: only HTML's own tags go. */
void
feed_text_strip_tags(struct feed_buf *b)
{
    strip(b, 1);
}

/* The value of base64 digit c (RFC 4648 §4, Table 1), or -1. */
static int
base64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* 1 when s is base64 as RFC 4648 §4 writes it: digits, then at most two
 * '=', in groups of four; white space anywhere is skipped. */
static int
base64_valid(const char *s)
{
    size_t digits = 0, pad = 0;

    for (; *s; s++) {
        if (isspace((unsigned char)*s))
            continue;
        if (*s == '=')
            pad++;
        else if (pad > 0 || base64_value((unsigned char)*s) < 0)
            return 0;
        else
            digits++;
    }
    return pad <= 2 && (digits + pad) % 4 == 0 && (pad == 0 || digits % 4);
}

/* Decodes base64 in place (RFC 4648 §4; white space skipped). -1 when it
 * is not base64, which leaves b as it was. */
int
feed_text_base64_decode(struct feed_buf *b)
{
    unsigned acc = 0;
    int bits = 0;
    char *r, *w;

    if (b->data == NULL)
        return 0;
    if (!base64_valid(b->data))
        return -1;
    for (r = w = b->data; *r; r++) {
        int v;

        if (isspace((unsigned char)*r))
            continue;
        if (*r == '=')
            break;
        if ((v = base64_value((unsigned char)*r)) < 0)
            return -1;
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *w++ = (char)((acc >> bits) & 0xff);
        }
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
    return 0;
}

/* HTML's white space (and the form feed). */
static int
html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* 1 when s[0..n) starts with a URI scheme and its colon (RFC 3986 §3.1),
 * so is not relative. */
static int
has_scheme(const char *s, size_t n)
{
    size_t i = 0;

    if (n == 0 || !isalpha((unsigned char)s[0]))
        return 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' ||
                     s[i] == '-' || s[i] == '.'))
        i++;
    return i < n && s[i] == ':';
}

/* What an attribute of name[0..n) holds, in any case: 1 a URL, 2 a
 * srcset (URLs with descriptors, comma-separated), 0 anything else. */
static int
url_attr(const char *name, size_t n)
{
    static const struct {
        const char *name;
        int kind;
    } attrs[] = {
        {"src", 1},      {"href", 1},       {"cite", 1},       {"srcset", 2},
        {"poster", 1},   {"action", 1},     {"usemap", 1},     {"codebase", 1},
        {"longdesc", 1}, {"background", 1}, {"formaction", 1},
    };

    for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
        if (strlen(attrs[i].name) == n &&
            strncasecmp(name, attrs[i].name, n) == 0)
            return attrs[i].kind;
    return 0;
}

struct rewrite {
    const char *base;
    struct feed_url_base **cache; /* the caller's split base */
    struct feed_url_base *ub;     /* base split, once a URL needs it */
    const char *data, *end;       /* the whole text */
    /* How far the text is read, and whether that is in text, in a tag
     * or in a quoted value in a tag: read forward only, once, however
     * many '=' are asked about. */
    const char *at;
    enum { AT_TEXT, AT_TAG, AT_QUOTE } state;
    char quote;
    const char *run;      /* the start of what is not yet in out */
    struct feed_buf *out; /* the text so far, once anything changed */
    struct feed_buf url;  /* one value, NUL-terminated for the resolver */
    int rc;
};

/* Reads the text on to `to`. A '<' opens a tag only before a letter:
 * "a < b" and comments stay text. */
static void
read_to(struct rewrite *w, const char *to)
{
    const char *p = w->at, *q;

    while (p < to) {
        switch (w->state) {
        case AT_TEXT:
            if ((q = memchr(p, '<', (size_t)(to - p))) == NULL) {
                p = to;
            } else {
                p = q + 1;
                if (p < w->end && isalpha((unsigned char)*p))
                    w->state = AT_TAG;
            }
            break;
        case AT_TAG:
            for (; p < to; p++)
                if (*p == '>' || *p == '"' || *p == '\'')
                    break;
            if (p < to) {
                w->state = *p == '>' ? AT_TEXT : AT_QUOTE;
                w->quote = *p++;
            }
            break;
        case AT_QUOTE:
            if ((q = memchr(p, w->quote, (size_t)(to - p))) == NULL) {
                p = to;
            } else {
                p = q + 1;
                w->state = AT_TAG;
            }
            break;
        }
    }
    w->at = p;
}

/* *v[0..*n) without the white space at its ends. */
static void
trim_value(const char **v, size_t *n)
{
    while (*n > 0 && html_space(**v))
        ++*v, --*n;
    while (*n > 0 && html_space((*v)[*n - 1]))
        --*n;
}

/* 1 when v[0..n), trimmed, is a relative URL. */
static int
relative(const char *v, size_t n)
{
    trim_value(&v, &n);
    return n > 0 && !has_scheme(v, n);
}

/* Resolves the URL in v[0..n) in place of it, when it is relative. The
 * text before it goes to out first, once: a URL that cannot be resolved
 * stays in it as written. */
static void
rewrite_url(struct rewrite *w, const char *v, size_t n)
{
    size_t at;
    int rc;

    trim_value(&v, &n);
    if (n == 0 || has_scheme(v, n) || w->rc != 0)
        return;
    feed_buf_reset(&w->url);
    if ((w->rc = feed_buf_append(&w->url, v, n)) != 0 ||
        (w->rc = feed_buf_append(w->out, w->run, (size_t)(v - w->run))) != 0)
        return;
    w->run = v;
    at = w->out->len;
    /* Looked up once a text: the base is compared whole. */
    if (w->ub == NULL &&
        (w->ub = feed_url_base_cached(w->cache, w->base)) == NULL) {
        w->rc = FEED_E_NOMEM;
        return;
    }
    switch ((rc = feed_url_base_resolve(w->ub, w->url.data, w->out))) {
    case 0:
        w->run = v + n;
        break;
    case FEED_E_INVAL: /* not resolvable: left as it is */
        w->out->len = at;
        break;
    default:
        w->rc = rc;
    }
}

/* Each URL of a srcset ("a.png 1x, b.png 2x"), as HTML splits them. */
static void
rewrite_srcset(struct rewrite *w, const char *v, const char *end)
{
    while (v < end) {
        const char *u;

        while (v < end && (html_space(*v) || *v == ','))
            v++;
        u = v;
        while (v < end && !html_space(*v))
            v++;
        if (v > u) {
            const char *e = v;

            while (e > u && e[-1] == ',')
                e--;
            rewrite_url(w, u, (size_t)(e - u));
            if (e < v) /* "a.png," ends the candidate */
                continue;
        }
        while (v < end && *v != ',') /* the descriptors */
            v++;
    }
}

/* 1 when the '=' at eq is an attribute's: in a tag, not in a quoted
 * value. The text is read forward once, however many '=' are asked about
 * (read_to()). */
static int
in_tag_at(struct rewrite *w, const char *eq)
{
    read_to(w, eq);
    return w->state == AT_TAG;
}

/* The attribute whose '=' may be at eq: rewritten when it holds relative
 * URLs. HTML allows white space on both sides of the '='. Returns where
 * to look for the next '='. */
static const char *
url_attribute(struct rewrite *w, const char *eq)
{
    const char *data = w->data, *end = w->end, *p = eq + 1, *q = eq;
    const char *name, *v, *vend;
    int kind;

    /* Back to the name: no further than the '=' before this one. */
    while (q > data && html_space(q[-1]))
        q--;
    name = q;
    while (name > data &&
           (isalnum((unsigned char)name[-1]) || name[-1] == '-' ||
            name[-1] == '_' || name[-1] == ':'))
        name--;
    /* An attribute's name follows white space. */
    if ((kind = url_attr(name, (size_t)(q - name))) == 0 || name == data ||
        !html_space(name[-1]))
        return p;
    while (p < end && html_space(*p))
        p++;
    if (p < end && (*p == '"' || *p == '\'')) {
        v = p + 1;
        if ((vend = memchr(v, *p, (size_t)(end - v))) == NULL)
            /* Unterminated: in a tag, the rest is left as it is. */
            return in_tag_at(w, eq) ? end : eq + 1;
        p = vend + 1;
    } else {
        v = p;
        while (p < end && !html_space(*p) && *p != '>')
            p++;
        vend = p;
    }
    if (!in_tag_at(w, eq))
        return eq + 1;
    if (kind == 1 && !relative(v, (size_t)(vend - v)))
        return p;
    if (kind == 1)
        rewrite_url(w, v, (size_t)(vend - v));
    else
        rewrite_srcset(w, v, vend);
    w->at = p; /* the value is read: still in the tag */
    return p;
}

int
feed_text_resolve_urls(struct feed_buf *b, const char *base,
                       struct feed_url_base **ub, struct feed_buf *tmp)
{
    struct rewrite w = {.base = base, .cache = ub, .out = tmp};
    const char *p, *eq;
    size_t max = tmp->max;

    if (b->data == NULL || base == NULL)
        return 0;
    feed_buf_reset(tmp);
    /* The rewritten text takes the field's place only within its limit:
     * tmp stops there, so that neither time nor memory goes past it. */
    tmp->max = b->max;
    feed_buf_init(&w.url, 0);
    w.run = w.data = w.at = p = b->data;
    w.end = b->data + b->len;
    /* Every attribute with a value has an '='; the text between is
     * passed over at memchr's speed, and read once (read_to()). */
    while (w.rc == 0 && p < w.end &&
           (eq = memchr(p, '=', (size_t)(w.end - p))) != NULL)
        p = url_attribute(&w, eq);
    feed_buf_free(&w.url);
    if (w.rc == 0 && w.run != b->data)
        w.rc = feed_buf_append(tmp, w.run, (size_t)(w.end - w.run));
    tmp->max = max;
    if (w.rc == FEED_E_TOOBIG)
        return 0; /* too long resolved: the field stays as it was */
    if (w.rc != 0 || w.run == b->data)
        return w.rc;
    {
        struct feed_buf swap = *b;

        b->data = tmp->data;
        b->len = tmp->len;
        b->cap = tmp->cap;
        tmp->data = swap.data;
        tmp->len = swap.len;
        tmp->cap = swap.cap;
    }
    return 0;
}

/* feeds/grammar.c - what each element of RSS (0.9x, 1.0, 1.1, 2.0), Atom
 * (0.3, 1.0) and CDF means: expat's element handlers.
 *
 * The meaning of an element is a row of one table, looked up once per
 * start tag by its context (where it stands: in an entry, in an Atom
 * author, at the feed's level, in CDF), its vocabulary (the document's
 * own, or a module's: Dublin Core, Media RSS, iTunes...) and its local
 * name. A row names the field the element fills and how (the mode its
 * markup is kept in, whether it is a weaker source, whether only the
 * first counts), or a handler for what a field cannot say (a link's rank,
 * an enclosure's attributes, the start of an entry). The rules that
 * decide between elements filling the same field (docs/internals.md,
 * "Repeated elements") live in fields.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

/* Where an element stands, as far as its meaning goes. */
enum context {
    CX_ENTRY,       /* in an entry (RSS item, Atom entry) */
    CX_AUTHOR,      /* a child of an Atom author, in an entry */
    CX_FEED,        /* outside entries: the channel or feed */
    CX_CDF_CHANNEL, /* CDF, outside an ITEM */
    CX_CDF_ITEM,    /* CDF, in an ITEM */
};

/* Where in its context an element must be for its row to apply. */
enum place {
    AT_CHILD,  /* a child of the entry, or of the channel or feed */
    AT_ANY,    /* at any depth */
    AT_AUTHOR, /* a child of the feed's Atom author */
};

/* What a row without a handler does beyond capturing its field. */
enum {
    R_WEAK = 1,        /* a weaker source: see feed_cap_weak() */
    R_FIRST = 2,       /* only when the field has not been seen */
    R_STRIP = 4,       /* plain text: HTML's tags stripped at the end */
    R_STRIP_HTML = 8,  /* stripped when its type makes it markup */
    R_ATOM_TYPE = 16,  /* the mode from an Atom text construct's type */
    R_MEDIA_TYPE = 32, /* the mode from Media RSS's type="html" */
    R_BASE64 = 64,     /* base64 when its type or mode says so */
};

/* The element a handler is called for. */
struct element {
    enum ns ns;
    const char *local;
    const char **atts;
};

struct rule;
typedef void rule_fn(struct feed_parser *, const struct rule *,
                     const struct element *);

struct rule {
    enum context ctx;
    enum vocab vocab;
    const char *name; /* local name; CDF's are matched in any case */
    enum place at;
    enum field field;
    enum mode mode;
    int flags;   /* R_* */
    rule_fn *fn; /* or NULL: capture field as mode and flags say */
};

static rule_fn atom_author, atom_category, atom_link, cdf_item, channel,
    entry_start, feed_author, guid, itunes_image, link_href, media_content,
    media_thumbnail, rss_enclosure, rss_link;

/* Sorted by context, vocabulary and name (rule_cmp()), for bsearch(). */
static const struct rule rules[] = {
    /* Atom's entry (RFC 4287 §4.1.2; Atom 0.3's issued and modified). */
    {CX_ENTRY, V_ATOM, "author", AT_CHILD, F_NONE, M_TEXT, 0, atom_author},
    {CX_ENTRY, V_ATOM, "category", AT_CHILD, F_NONE, M_TEXT, 0, atom_category},
    {CX_ENTRY, V_ATOM, "content", AT_CHILD, F_CONTENT, M_TEXT,
     R_ATOM_TYPE | R_BASE64, NULL},
    {CX_ENTRY, V_ATOM, "id", AT_CHILD, F_GUID, M_TEXT, 0, NULL},
    {CX_ENTRY, V_ATOM, "issued", AT_CHILD, F_PUBLISHED, M_TEXT, R_WEAK, NULL},
    {CX_ENTRY, V_ATOM, "link", AT_CHILD, F_LINK, M_TEXT, 0, atom_link},
    {CX_ENTRY, V_ATOM, "modified", AT_CHILD, F_UPDATED, M_TEXT, R_WEAK, NULL},
    {CX_ENTRY, V_ATOM, "published", AT_CHILD, F_PUBLISHED, M_TEXT, 0, NULL},
    {CX_ENTRY, V_ATOM, "summary", AT_CHILD, F_SUMMARY, M_TEXT,
     R_ATOM_TYPE | R_BASE64, NULL},
    {CX_ENTRY, V_ATOM, "title", AT_CHILD, F_TITLE, M_TEXT,
     R_ATOM_TYPE | R_BASE64 | R_STRIP_HTML, NULL},
    {CX_ENTRY, V_ATOM, "updated", AT_CHILD, F_UPDATED, M_TEXT, 0, NULL},
    /* RSS's item. RSS says nothing of markup in titles; publishers put
     * HTML there, escaped or not. A title is plain text. */
    {CX_ENTRY, V_RSS, "author", AT_CHILD, F_AUTHOR, M_TEXT, 0, NULL},
    {CX_ENTRY, V_RSS, "category", AT_CHILD, F_CATEGORY, M_TEXT, 0, NULL},
    {CX_ENTRY, V_RSS, "description", AT_CHILD, F_SUMMARY, M_HTML, 0, NULL},
    {CX_ENTRY, V_RSS, "enclosure", AT_CHILD, F_NONE, M_TEXT, 0, rss_enclosure},
    {CX_ENTRY, V_RSS, "guid", AT_CHILD, F_GUID, M_TEXT, 0, guid},
    {CX_ENTRY, V_RSS, "link", AT_CHILD, F_LINK, M_TEXT, 0, rss_link},
    {CX_ENTRY, V_RSS, "pubDate", AT_CHILD, F_PUBLISHED, M_TEXT, 0, NULL},
    {CX_ENTRY, V_RSS, "title", AT_CHILD, F_TITLE, M_TEXT, R_STRIP, NULL},
    /* Dublin Core: weaker than the format's own elements. */
    {CX_ENTRY, V_DC, "creator", AT_CHILD, F_AUTHOR, M_TEXT, R_WEAK, NULL},
    {CX_ENTRY, V_DC, "date", AT_CHILD, F_UPDATED, M_TEXT, R_WEAK, NULL},
    {CX_ENTRY, V_DC, "subject", AT_CHILD, F_CATEGORY, M_TEXT, 0, NULL},
    {CX_ENTRY, V_DC, "title", AT_CHILD, F_TITLE2, M_TEXT, R_STRIP, NULL},
    {CX_ENTRY, V_DCTERMS, "issued", AT_CHILD, F_PUBLISHED, M_TEXT, R_WEAK,
     NULL},
    {CX_ENTRY, V_DCTERMS, "modified", AT_CHILD, F_UPDATED, M_TEXT, R_WEAK,
     NULL},
    {CX_ENTRY, V_CONTENT, "encoded", AT_CHILD, F_CONTENT, M_HTML, 0, NULL},
    /* Media RSS, also inside a media:group. */
    {CX_ENTRY, V_MEDIA, "content", AT_ANY, F_NONE, M_TEXT, 0, media_content},
    {CX_ENTRY, V_MEDIA, "description", AT_ANY, F_SUMMARY2, M_TEXT,
     R_MEDIA_TYPE | R_FIRST, NULL},
    {CX_ENTRY, V_MEDIA, "thumbnail", AT_ANY, F_NONE, M_TEXT, 0,
     media_thumbnail},
    {CX_ENTRY, V_MEDIA, "title", AT_ANY, F_TITLE2, M_TEXT,
     R_MEDIA_TYPE | R_STRIP, NULL},
    {CX_ENTRY, V_ITUNES, "author", AT_CHILD, F_AUTHOR2, M_TEXT, R_FIRST, NULL},
    {CX_ENTRY, V_ITUNES, "image", AT_CHILD, F_NONE, M_TEXT, 0, itunes_image},
    {CX_ENTRY, V_ITUNES, "summary", AT_CHILD, F_SUMMARY2, M_TEXT, R_FIRST,
     NULL},
    /* An entry's Atom author (RFC 4287 §3.2). */
    {CX_AUTHOR, V_ATOM, "email", AT_ANY, F_AUTHOR, M_TEXT, R_FIRST, NULL},
    {CX_AUTHOR, V_ATOM, "name", AT_ANY, F_AUTHOR, M_TEXT, 0, NULL},
    /* Outside entries: where one starts, and the feed's own fields. */
    {CX_FEED, V_ATOM, "author", AT_CHILD, F_FEED_AUTHOR, M_TEXT, 0,
     feed_author},
    {CX_FEED, V_ATOM, "entry", AT_ANY, F_NONE, M_TEXT, 0, entry_start},
    {CX_FEED, V_ATOM, "link", AT_CHILD, F_FEED_LINK, M_TEXT, 0, link_href},
    {CX_FEED, V_ATOM, "name", AT_AUTHOR, F_FEED_AUTHOR, M_TEXT, 0, NULL},
    {CX_FEED, V_ATOM, "title", AT_CHILD, F_FEED_TITLE, M_TEXT,
     R_FIRST | R_ATOM_TYPE | R_STRIP_HTML, NULL},
    {CX_FEED, V_RSS, "channel", AT_ANY, F_NONE, M_TEXT, 0, channel},
    {CX_FEED, V_RSS, "day", AT_ANY, F_FEED_DAY, M_TEXT, 0, NULL},
    {CX_FEED, V_RSS, "hour", AT_ANY, F_FEED_HOUR, M_TEXT, 0, NULL},
    {CX_FEED, V_RSS, "item", AT_ANY, F_NONE, M_TEXT, 0, entry_start},
    {CX_FEED, V_RSS, "link", AT_CHILD, F_FEED_LINK, M_TEXT, R_FIRST, rss_link},
    {CX_FEED, V_RSS, "title", AT_CHILD, F_FEED_TITLE, M_TEXT, R_FIRST | R_STRIP,
     NULL},
    {CX_FEED, V_RSS, "ttl", AT_ANY, F_FEED_TTL, M_TEXT, 0, NULL},
    /* The syndication module (RSS 1.0): how often the channel changes. */
    {CX_FEED, V_SY, "updateFrequency", AT_ANY, F_FEED_FREQUENCY, M_TEXT, 0,
     NULL},
    {CX_FEED, V_SY, "updatePeriod", AT_ANY, F_FEED_PERIOD, M_TEXT, 0, NULL},
    /* CDF (W3C NOTE-CDFsubmit): upper-case elements, the links in
     * attributes. */
    {CX_CDF_CHANNEL, V_ANY, "ITEM", AT_ANY, F_NONE, M_TEXT, 0, cdf_item},
    {CX_CDF_CHANNEL, V_ANY, "TITLE", AT_CHILD, F_FEED_TITLE, M_TEXT, 0, NULL},
    {CX_CDF_ITEM, V_ANY, "ABSTRACT", AT_CHILD, F_SUMMARY, M_TEXT, 0, NULL},
    {CX_CDF_ITEM, V_ANY, "TITLE", AT_CHILD, F_TITLE, M_TEXT, 0, NULL},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int
rule_cmp(const void *key, const void *row)
{
    const struct rule *a = key, *b = row;

    if (a->ctx != b->ctx)
        return a->ctx < b->ctx ? -1 : 1;
    if (a->vocab != b->vocab)
        return a->vocab < b->vocab ? -1 : 1;
    if (a->ctx == CX_CDF_CHANNEL || a->ctx == CX_CDF_ITEM)
        return strcasecmp(a->name, b->name);
    return strcmp(a->name, b->name);
}

int
feed_grammar_sorted(void)
{
    for (size_t i = 1; i < COUNT(rules); i++)
        if (rule_cmp(&rules[i - 1], &rules[i]) >= 0)
            return 0;
    return 1;
}

static const struct rule *
lookup(enum context ctx, enum vocab vocab, const char *local)
{
    struct rule key;

    memset(&key, 0, sizeof(key));
    key.ctx = ctx;
    key.vocab = vocab;
    key.name = local;
    return bsearch(&key, rules, COUNT(rules), sizeof(rules[0]), rule_cmp);
}

/* 1 when the element stands where row r applies. */
static int
in_place(const struct feed_parser *p, const struct rule *r)
{
    size_t parent;

    switch (r->at) {
    case AT_ANY:
        return 1;
    case AT_AUTHOR:
        return p->feed_author_depth && p->depth == p->feed_author_depth + 1;
    case AT_CHILD:
        break;
    }
    parent = r->ctx == CX_FEED || r->ctx == CX_CDF_CHANNEL ? p->container_depth
                                                           : p->entry_depth;
    return parent && p->depth == parent + 1;
}

/* ---- the rows' own work ---- */

/* The mode of an Atom text construct (RFC 4287 §3.1) or Atom 0.3
 * content (mode="escaped", or mode="xml": the children are the markup,
 * and text escaped in them is text, as in xhtml). */
static enum mode
atom_mode(const char **atts)
{
    const char *type = attr(atts, "type"), *mode = attr(atts, "mode");

    if (mode && strcmp(mode, "escaped") == 0)
        return M_HTML;
    if (type == NULL || strcmp(type, "text") == 0 ||
        strcmp(type, "text/plain") == 0)
        return M_TEXT;
    if (strcmp(type, "xhtml") == 0 ||
        strcmp(type, "application/xhtml+xml") == 0 ||
        (mode && strcmp(mode, "xml") == 0 && strstr(type, "html") != NULL))
        return M_XHTML;
    return M_HTML;
}

/* 1 for Atom 0.3's mode="base64", and RFC 4287 §4.1.3.3: a MIME type
 * that is neither text nor XML is base64. */
static int
atom_base64(const char **atts)
{
    const char *type = attr(atts, "type"), *mode = attr(atts, "mode");

    return (mode && strcmp(mode, "base64") == 0) ||
           (type && strchr(type, '/') && strncmp(type, "text/", 5) != 0 &&
            !strstr(type, "xml") && !strstr(type, "html"));
}

/* 1 for an Atom element in an RSS item. Its dates and links are weaker
 * sources: the item's own pubDate and link win wherever they stand, as
 * over dc:date. (Its id and text stay as they were: the id is the entry's
 * identity.) */
static int
atom_in_rss(const struct feed_parser *p, const struct rule *r)
{
    return r->ctx == CX_ENTRY && r->vocab == V_ATOM && !p->is_atom;
}

/* The field of row r, captured as its mode and flags say. */
static void
capture(struct feed_parser *p, const struct rule *r, const char **atts)
{
    const char *type = attr(atts, "type");
    enum mode m = r->mode;

    if ((r->flags & R_FIRST) && p->have[r->field])
        return;
    if (r->flags & R_ATOM_TYPE)
        m = atom_mode(atts);
    else if (r->flags & R_MEDIA_TYPE)
        m = type && strcmp(type, "html") == 0 ? M_HTML : M_TEXT;
    if ((r->flags & R_WEAK) || (atom_in_rss(p, r) && (r->field == F_PUBLISHED ||
                                                      r->field == F_UPDATED)))
        feed_cap_weak(p, r->field, m);
    else
        feed_cap_start(p, r->field, m);
    /* A title of no type may hold HTML, or text shaped like it. */
    if (r->flags & R_STRIP)
        p->cap_strip = p->cap_mode == M_TEXT ? STRIP_TAGS : STRIP_MARKUP;
    if (r->flags & R_STRIP_HTML)
        p->cap_strip = p->cap_mode != M_TEXT ? STRIP_MARKUP : STRIP_NONE;
    if ((r->flags & R_BASE64) && atom_base64(atts)) {
        /* Decoded at the end; its type says whether it is HTML. */
        p->cap_b64 = 1;
        p->cap_mode = M_TEXT;
        p->cap_strip =
            (r->flags & R_STRIP_HTML) && type && strstr(type, "html") != NULL
                ? STRIP_MARKUP
                : STRIP_NONE;
    }
}

static void
atom_author(struct feed_parser *p, const struct rule *r,
            const struct element *el)
{
    (void)r;
    (void)el;
    p->author_depth = p->depth;
}

static void
atom_category(struct feed_parser *p, const struct rule *r,
              const struct element *el)
{
    const char *term = attr(el->atts, "term");

    (void)r;
    if (term)
        feed_fields_category(p, term, strlen(term));
}

static void
atom_link(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    const char *rel = attr(el->atts, "rel");

    if (rel && strcmp(rel, "enclosure") == 0)
        feed_fields_enclosure(p, attr(el->atts, "href"), attr(el->atts, "type"),
                              attr(el->atts, "length"));
    else if (!atom_in_rss(p, r))
        (void)feed_fields_link(p, r->field, el->atts);
    else if (!p->have[r->field] || p->f[r->field].len == 0 ||
             p->weak[r->field]) {
        if (feed_fields_link(p, r->field, el->atts))
            p->weak[r->field] = 1;
    }
}

static void
link_href(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    if (feed_fields_feed_rel(p, el->atts))
        return;
    (void)feed_fields_link(p, r->field, el->atts);
}

/* RSS's <link>text</link>; some RSS borrows Atom's <link href=.../>. */
static void
rss_link(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    if (r->field == F_FEED_LINK && feed_fields_feed_rel(p, el->atts))
        return;
    if (attr(el->atts, "href")) {
        if (feed_fields_link(p, r->field, el->atts))
            p->weak[r->field] = 0;
    } else if (!(r->flags & R_FIRST) || !p->have[r->field])
        feed_cap_start(p, r->field, M_TEXT);
}

static void
guid(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    const char *pl = attr(el->atts, "isPermaLink");

    feed_cap_start(p, r->field, M_TEXT);
    p->guid_is_permalink = pl == NULL || strcmp(pl, "false") != 0;
}

static void
rss_enclosure(struct feed_parser *p, const struct rule *r,
              const struct element *el)
{
    (void)r;
    feed_fields_enclosure(p, attr(el->atts, "url"), attr(el->atts, "type"),
                          attr(el->atts, "length"));
}

static void
media_content(struct feed_parser *p, const struct rule *r,
              const struct element *el)
{
    (void)r;
    feed_fields_enclosure(p, attr(el->atts, "url"), attr(el->atts, "type"),
                          attr(el->atts, "fileSize"));
}

static void
media_thumbnail(struct feed_parser *p, const struct rule *r,
                const struct element *el)
{
    (void)r;
    feed_fields_image(p, attr(el->atts, "url"));
}

static void
itunes_image(struct feed_parser *p, const struct rule *r,
             const struct element *el)
{
    (void)r;
    feed_fields_image(p, attr(el->atts, "href"));
}

static void
entry_start(struct feed_parser *p, const struct rule *r,
            const struct element *el)
{
    const char *about = attr(el->atts, "rdf:about");

    (void)r;
    p->entry_depth = p->depth;
    feed_fields_reset(p);
    /* RSS 1.0 §5.5: rdf:about is the item's URI. */
    if (about && *about) {
        p->have[F_GUID] = 1;
        (void)feed_fields_error(p, F_GUID, feed_buf_puts(&p->f[F_GUID], about));
    }
}

static void
channel(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    (void)r;
    p->container_depth = p->depth;
    if (el->ns == NS_RSS090)
        p->info.format = FEED_FORMAT_RSS090;
}

/* The feed's first Atom author: its name is read (AT_AUTHOR). */
static void
feed_author(struct feed_parser *p, const struct rule *r,
            const struct element *el)
{
    (void)el;
    if (!p->have[r->field])
        p->feed_author_depth = p->depth;
}

/* A field from an attribute, as a URL when it is one. */
static void
attr_field(struct feed_parser *p, enum field f, const char *v, int url)
{
    if (v == NULL)
        return;
    if (feed_fields_set(p, f, v, 0) == 0 && url &&
        feed_fields_absolutize(p, &p->f[f]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
}

static void
cdf_item(struct feed_parser *p, const struct rule *r, const struct element *el)
{
    (void)r;
    p->entry_depth = p->depth;
    feed_fields_reset(p);
    attr_field(p, F_LINK, attr(el->atts, "HREF"), 1);
    attr_field(p, F_UPDATED, attr(el->atts, "LASTMOD"), 0);
}

/* ---- expat's handlers ---- */

/* Decides the document's format from its root element. */
static void
root_start(struct feed_parser *p, enum ns ns, const char *local,
           const char **atts)
{
    const char *v = attr(atts, "version");

    p->root_ns = ns;
    if (strcmp(local, "rss") == 0 && feed_ns_is_rss(ns)) {
        p->info.format = FEED_FORMAT_RSS20;
        if (v && strncmp(v, "0.9", 3) == 0 && v[3] >= '1' && v[3] <= '4' &&
            v[4] == '\0')
            p->info.format = FEED_FORMAT_RSS091 + (v[3] - '1');
    } else if (strcmp(local, "RDF") == 0 && ns == NS_RDF) {
        p->info.format = FEED_FORMAT_RSS10;
        p->root_ns = NS_RSS10;
    } else if (strcmp(local, "Channel") == 0 && ns == NS_RSS11) {
        /* RSS 1.1: the root is the channel. */
        p->info.format = FEED_FORMAT_RSS11;
        p->container_depth = p->depth;
    } else if (strcasecmp(local, "CHANNEL") == 0 && ns == NS_NONE) {
        p->is_cdf = 1;
        p->info.format = FEED_FORMAT_CDF;
        p->container_depth = p->depth;
        if (feed_ns_set_base(p, attr(atts, "BASE")) != 0)
            set_error(p, FEED_E_NOMEM, "out of memory");
        attr_field(p, F_FEED_LINK, attr(atts, "HREF"), 1);
        feed_fields_sync_info(p);
    } else if ((strcmp(local, "feed") == 0 || strcmp(local, "entry") == 0) &&
               (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE ||
                ns == NS_OTHER)) {
        p->is_atom = 1;
        p->info.format = ns == NS_ATOM03 || (v && strcmp(v, "0.3") == 0)
                             ? FEED_FORMAT_ATOM03
                             : FEED_FORMAT_ATOM10;
        if (strcmp(local, "entry") == 0) {
            p->entry_depth = p->depth;
            feed_fields_reset(p);
        } else {
            p->container_depth = p->depth;
        }
    } else {
        char msg[160];

        snprintf(msg, sizeof(msg), "not a feed: the root element is <%.100s>",
                 local);
        set_error(p, FEED_E_NOTFEED, msg);
    }
}

/* The context and vocabulary an element is looked up in; 0 when no row
 * can apply to it. */
static int
context_of(const struct feed_parser *p, enum ns ns, enum context *ctx,
           enum vocab *vocab)
{
    if (p->is_cdf) {
        *ctx = p->entry_depth ? CX_CDF_ITEM : CX_CDF_CHANNEL;
        *vocab = V_ANY;
        return 1;
    }
    *vocab = feed_ns_vocab(p, ns);
    if (p->entry_depth) {
        *ctx = p->author_depth && p->depth == p->author_depth + 1 &&
                       *vocab == V_ATOM
                   ? CX_AUTHOR
                   : CX_ENTRY;
        return 1;
    }
    /* Outside entries only the document's own elements count, and they
     * mean what they mean in the document's format; and the syndication
     * module's, which says how often the feed changes. */
    *ctx = CX_FEED;
    if (*vocab == V_SY)
        return 1;
    if (*vocab != V_ATOM && *vocab != V_RSS)
        return 0;
    *vocab = p->is_atom ? V_ATOM : V_RSS;
    return 1;
}

void XMLCALL
feed_grammar_start(void *ud, const char *name, const char **atts)
{
    struct feed_parser *p = ud;
    const struct rule *r;
    struct element el;
    enum context ctx;
    enum vocab vocab;

    if (p->error)
        return;
    if (p->depth >= p->lim.max_depth) {
        char msg[96];

        snprintf(msg, sizeof(msg), "elements nested deeper than %zu",
                 p->lim.max_depth);
        set_error(p, FEED_E_LIMIT, msg);
        return;
    }
    el.atts = atts;
    if (feed_ns_enter(p, name, atts, &el.ns, &el.local) != 0) {
        set_error(p, FEED_E_NOMEM, "out of memory");
        return;
    }
    if (p->depth == 1) {
        root_start(p, el.ns, el.local, atts);
        return;
    }
    /* Inside a captured field: markup is kept or dropped by mode. */
    if (p->cap != F_NONE) {
        feed_cap_open_tag(p, el.local, atts);
        return;
    }
    /* CDF's BASE attribute is its xml:base. */
    if (p->is_cdf && feed_ns_set_base(p, attr(atts, "BASE")) != 0) {
        set_error(p, FEED_E_NOMEM, "out of memory");
        return;
    }
    if (!context_of(p, el.ns, &ctx, &vocab))
        return;
    r = lookup(ctx, vocab, el.local);
    if (r == NULL || !in_place(p, r))
        return;
    if (r->fn)
        r->fn(p, r, &el);
    else
        capture(p, r, atts);
}

void XMLCALL
feed_grammar_end(void *ud, const char *name)
{
    struct feed_parser *p = ud;

    if (p->error || p->depth == 0)
        return;
    if (p->cap != F_NONE) {
        const char *colon = strchr(name, ':');

        if (p->depth == p->cap_depth)
            feed_cap_end(p);
        else
            feed_cap_close_tag(p, colon ? colon + 1 : name);
    }
    if (p->entry_depth && p->depth == p->entry_depth) {
        feed_fields_emit(p);
        feed_fields_reset(p);
        p->entry_depth = 0;
    } else if (p->author_depth == p->depth) {
        p->author_depth = 0;
    } else if (p->feed_author_depth == p->depth) {
        p->feed_author_depth = 0;
    }
    if (p->container_depth == p->depth)
        p->container_depth = 0;
    feed_ns_leave(p);
}

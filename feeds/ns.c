/* feeds/ns.c - the scope of each open element: the namespaces its
 * prefixes are bound to, and its xml:base.
 *
 * Namespaces are resolved here rather than by expat so that a feed using
 * a well-known prefix it forgot to declare (dc:, content:) is read
 * instead of refused.
 *
 * Each prefix ever declared in the document is a node of a search tree
 * (an AA tree: balanced, insert only) holding the binding in force; each
 * binding remembers the one of the same prefix it hides, restored when
 * its element closes. Finding an element's namespace thus costs the
 * same whatever the number of declarations in force: a document that
 * declares a hundred thousand prefixes reads as fast as one that
 * declares five. */
#include <stdlib.h>
#include <string.h>

#include "feeds/url.h"
#include "parse_int.h"

static const struct {
    const char *uri;
    enum ns ns;
} known_ns[] = {
    {"http://www.w3.org/2005/Atom", NS_ATOM10},
    {"http://purl.org/atom/ns#", NS_ATOM03},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS090},
    {"http://purl.org/rss/1.0/", NS_RSS10},
    {"http://purl.org/net/rss1.1#", NS_RSS11},
    {"http://backend.userland.com/rss2", NS_RSS20},
    {"http://backend.userland.com/rss", NS_RSS20},
    {"http://blogs.law.harvard.edu/tech/rss", NS_RSS20},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://www.itunes.com/DTDs/Podcast-1.0.dtd", NS_ITUNES},
    {"http://purl.org/rss/1.0/modules/syndication/", NS_SY},
};

/* Prefixes feeds use without declaring them. */
static const struct {
    const char *prefix;
    enum ns ns;
} known_prefix[] = {
    {"atom", NS_ATOM10},     {"rdf", NS_RDF},         {"dc", NS_DC},
    {"dcterms", NS_DCTERMS}, {"content", NS_CONTENT}, {"xhtml", NS_XHTML},
    {"media", NS_MEDIA},     {"itunes", NS_ITUNES},   {"sy", NS_SY},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static enum ns
ns_of_uri(const char *uri)
{
    size_t i;

    if (*uri == '\0') /* xmlns="": no namespace */
        return NS_NONE;
    for (i = 0; i < COUNT(known_ns); i++)
        if (strcmp(uri, known_ns[i].uri) == 0)
            return known_ns[i].ns;
    /* Spellings of Atom 1.0's namespace with a trailing slash or case
     * changes turn up; anything else Atom-like is handled by is_atom. */
    if (strncmp(uri, "http://www.w3.org/2005/Atom", 27) == 0)
        return NS_ATOM10;
    return NS_OTHER;
}

int
feed_ns_is_rss(enum ns ns)
{
    return ns == NS_NONE || ns == NS_RSS090 || ns == NS_RSS10 ||
           ns == NS_RSS11 || ns == NS_RSS20;
}

enum vocab
feed_ns_vocab(const struct feed_parser *p, enum ns ns)
{
    /* The document's own: its root's namespace, or no namespace (feeds
     * that forget Atom's), or RSS's. Atom's elements are Atom's in RSS
     * too (atom:link in a channel). */
    int own = ns == p->root_ns ||
              (p->is_atom ? ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE
                          : feed_ns_is_rss(ns));

    if (ns == NS_ATOM10 || ns == NS_ATOM03 || (own && p->is_atom))
        return V_ATOM;
    if (own)
        return V_RSS;
    switch (ns) {
    case NS_DC:
        return V_DC;
    case NS_DCTERMS:
        return V_DCTERMS;
    case NS_CONTENT:
        return V_CONTENT;
    case NS_MEDIA:
        return V_MEDIA;
    case NS_ITUNES:
        return V_ITUNES;
    case NS_SY:
        return V_SY;
    default:
        return V_OTHER;
    }
}

/* ---- the prefixes: an AA tree (Andersson, "Balanced search trees made
 * simple", 1993), nodes in p->prefixes, linked by index ---- */

static int
prefix_cmp(const struct feed_parser *p, const char *s, size_t n, size_t at)
{
    const struct prefix *x = &p->prefixes[at];
    size_t m = n < x->len ? n : x->len;
    int c = memcmp(s, p->names.data + x->name, m);

    if (c != 0)
        return c;
    return n < x->len ? -1 : n > x->len;
}

/* The node of prefix s[0..n), or NONE. */
static size_t
prefix_find(const struct feed_parser *p, const char *s, size_t n)
{
    size_t at = p->prefix_root;

    while (at != NONE) {
        int c = prefix_cmp(p, s, n, at);

        if (c == 0)
            return at;
        at = c < 0 ? p->prefixes[at].left : p->prefixes[at].right;
    }
    return NONE;
}

/* A left child on the node's level becomes its parent. */
static size_t
skew(struct prefix *t, size_t at)
{
    size_t l = t[at].left;

    if (l == NONE || t[l].level != t[at].level)
        return at;
    t[at].left = t[l].right;
    t[l].right = at;
    return l;
}

/* Two right children on the node's level: the middle one goes up. */
static size_t
split(struct prefix *t, size_t at)
{
    size_t r = t[at].right;

    if (r == NONE || t[r].right == NONE || t[t[r].right].level != t[at].level)
        return at;
    t[at].right = t[r].left;
    t[r].left = at;
    t[r].level++;
    return r;
}

/* Inserts node x (not in the tree yet) below at; the subtree's new
 * root. The recursion is as deep as the tree: twice log2 of the nodes. */
static size_t
insert(struct feed_parser *p, size_t at, size_t x)
{
    const struct prefix *nx = &p->prefixes[x];

    if (at == NONE)
        return x;
    if (prefix_cmp(p, p->names.data + nx->name, nx->len, at) < 0)
        p->prefixes[at].left = insert(p, p->prefixes[at].left, x);
    else
        p->prefixes[at].right = insert(p, p->prefixes[at].right, x);
    at = skew(p->prefixes, at);
    return split(p->prefixes, at);
}

/* The node of prefix s[0..n), added when new; NONE when out of memory. */
static size_t
prefix_get(struct feed_parser *p, const char *s, size_t n)
{
    size_t at = prefix_find(p, s, n), name = p->names.len;
    struct prefix *x;

    if (at != NONE)
        return at;
    if (p->nprefixes == p->capprefixes) {
        size_t cap = p->capprefixes ? p->capprefixes * 2 : 16;

        x = realloc(p->prefixes, cap * sizeof(*x));
        if (x == NULL)
            return NONE;
        p->prefixes = x;
        p->capprefixes = cap;
    }
    if (feed_buf_append(&p->names, s, n) != 0)
        return NONE;
    at = p->nprefixes++;
    x = &p->prefixes[at];
    x->name = name;
    x->len = n;
    x->top = NONE;
    x->left = x->right = NONE;
    x->level = 1;
    p->prefix_root = insert(p, p->prefix_root, at);
    return at;
}

/* ---- bindings ---- */

static int
bind_push(struct feed_parser *p, const char *prefix, const char *uri)
{
    struct binding *b;
    size_t at;

    if (p->nbind == p->capbind) {
        size_t cap = p->capbind ? p->capbind * 2 : 16;

        b = realloc(p->bind, cap * sizeof(*b));
        if (b == NULL)
            return FEED_E_NOMEM;
        p->bind = b;
        p->capbind = cap;
    }
    if ((at = prefix_get(p, prefix, strlen(prefix))) == NONE)
        return FEED_E_NOMEM;
    b = &p->bind[p->nbind];
    b->prefix = at;
    b->prev = p->prefixes[at].top;
    b->ns = ns_of_uri(uri);
    b->depth = p->depth;
    p->prefixes[at].top = p->nbind++;
    return 0;
}

/* The namespace of a qualified name, and its local part. */
static enum ns
resolve(const struct feed_parser *p, const char *qname, const char **local)
{
    const char *colon = strchr(qname, ':');
    size_t n = colon ? (size_t)(colon - qname) : 0, at, i;

    *local = colon ? colon + 1 : qname;
    at = prefix_find(p, qname, n);
    if (at != NONE && p->prefixes[at].top != NONE)
        return p->bind[p->prefixes[at].top].ns;
    if (!colon)
        return NS_NONE;
    for (i = 0; i < COUNT(known_prefix); i++)
        if (strlen(known_prefix[i].prefix) == n &&
            memcmp(known_prefix[i].prefix, qname, n) == 0)
            return known_prefix[i].ns;
    return NS_OTHER;
}

/* ---- the open elements ---- */

/* href resolved against the base in force as the innermost element's
 * base, unless it is longer than MAX_BASE. */
static int
set_base(struct feed_parser *p, const char *href)
{
    struct level *lv = &p->levels[p->depth - 1];

    feed_buf_reset(&p->tmp);
    if (feed_url_resolve_cached(&p->ub, lv->base ? lv->base : p->base_url, href,
                                &p->tmp) != 0 ||
        p->tmp.len == 0 || p->tmp.len > MAX_BASE)
        return 0;
    if ((lv->base = strdup(p->tmp.data)) == NULL)
        return FEED_E_NOMEM;
    lv->set_base = 1;
    return 0;
}

int
feed_ns_set_base(struct feed_parser *p, const char *href)
{
    if (href == NULL || p->levels[p->depth - 1].set_base)
        return 0;
    return set_base(p, href);
}

int
feed_ns_enter(struct feed_parser *p, const char *qname, const char **atts,
              enum ns *ns, const char **local)
{
    struct level *lv;
    const char *xbase;
    size_t i;

    *ns = NS_NONE;
    *local = qname;
    if (p->depth == p->nlevels) {
        size_t n = p->nlevels ? p->nlevels * 2 : 16;

        lv = realloc(p->levels, n * sizeof(*lv));
        if (lv == NULL)
            return FEED_E_NOMEM;
        p->levels = lv;
        p->nlevels = n;
    }
    p->depth++;
    lv = &p->levels[p->depth - 1];
    lv->base = p->depth > 1 ? p->levels[p->depth - 2].base : NULL;
    lv->set_base = 0;

    /* Declarations first: they apply to the element itself. */
    for (i = 0; atts[i]; i += 2) {
        const char *a = atts[i];

        if (strncmp(a, "xmlns", 5) == 0 && (a[5] == '\0' || a[5] == ':') &&
            bind_push(p, a[5] ? a + 6 : "", atts[i + 1]) != 0)
            return FEED_E_NOMEM;
    }
    *ns = resolve(p, qname, local);
    if ((xbase = attr(atts, "xml:base")) != NULL)
        return set_base(p, xbase);
    return 0;
}

void
feed_ns_leave(struct feed_parser *p)
{
    struct level *lv = &p->levels[p->depth - 1];

    if (lv->set_base)
        free(lv->base);
    while (p->nbind > 0 && p->bind[p->nbind - 1].depth == p->depth) {
        const struct binding *b = &p->bind[--p->nbind];

        p->prefixes[b->prefix].top = b->prev;
    }
    p->depth--;
}

void
feed_ns_clear(struct feed_parser *p)
{
    while (p->depth > 0) {
        if (p->levels[p->depth - 1].set_base)
            free(p->levels[p->depth - 1].base);
        p->depth--;
    }
    p->nbind = 0;
    p->nprefixes = 0;
    p->prefix_root = NONE;
    feed_buf_reset(&p->names);
}

void
feed_ns_free(struct feed_parser *p)
{
    feed_ns_clear(p);
    free(p->bind);
    free(p->prefixes);
    free(p->levels);
    feed_buf_free(&p->names);
}

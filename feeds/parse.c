/* feeds/parse.c - the streaming feed parser: expat in, entries out.
 *
 * Bytes go straight into expat as they arrive; each entry is handed to the
 * caller the moment its end tag closes, and its field buffers are reused
 * for the next one. Namespaces are resolved here rather than by expat so
 * that a feed using a well-known prefix it forgot to declare (dc:, content:)
 * is read instead of refused.
 *
 * Below expat sits feeds/input.c, which finds the encoding and hands on
 * clean UTF-8; a document whose first character is '{' is a JSON Feed,
 * read with jansson once it is whole (JSON Feeds are small). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>
#include <jansson.h>

#include "entities.h"
#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "feeds/url.h"
#include "input.h"
#include "scan.h"
#include "text.h"

enum ns {
    NS_NONE,
    NS_ATOM10,
    NS_ATOM03,
    NS_RSS090,
    NS_RSS10,
    NS_RSS11,
    NS_RSS20, /* http://backend.userland.com/rss2 and friends */
    NS_RDF,
    NS_DC,
    NS_DCTERMS,
    NS_CONTENT,
    NS_XHTML,
    NS_MEDIA,
    NS_ITUNES,
    NS_OTHER,
};

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
};


/* An element's local name is lit: strcmp() only when the first letters
 * agree, which most names in a dispatch chain do not. */
#define IS(name, lit) ((name)[0] == (lit)[0] && strcmp((name), (lit)) == 0)

/* Prefixes feeds use without declaring them. */
static const struct {
    const char *prefix;
    enum ns ns;
} known_prefix[] = {
    {"atom", NS_ATOM10}, {"rdf", NS_RDF},       {"dc", NS_DC},
    {"dcterms", NS_DCTERMS}, {"content", NS_CONTENT}, {"xhtml", NS_XHTML},
    {"media", NS_MEDIA}, {"itunes", NS_ITUNES},
};

/* The fields of an entry. */
enum field {
    F_GUID,
    F_LINK,
    F_TITLE,
    F_AUTHOR,
    F_SUMMARY,
    F_CONTENT,
    F_PUBLISHED,
    F_UPDATED,
    F_CATEGORY, /* one category's text, moved to the list when it ends */
    F_AUTHOR2,  /* itunes:author: used when nothing else names one */
    F_SUMMARY2, /* itunes:summary, media:description: likewise */
    F_TITLE2,   /* dc:title, media:title: likewise */
    F_SCRATCH,  /* a repeated element: read, then dropped */
    F_FEED_TITLE, /* the feed's own, outside any entry */
    F_FEED_LINK,
    F_FEED_AUTHOR,
    F_NFIELDS,
    F_NONE = F_NFIELDS,
};

/* How character data inside a captured field is kept. */
enum mode {
    M_TEXT,  /* child elements dropped, their text kept */
    M_HTML,  /* escaped HTML; child elements kept as markup */
    M_XHTML, /* Atom type="xhtml": the children are the markup */
};

struct binding {
    char *prefix; /* "" for the default namespace */
    size_t plen;
    enum ns ns;
    char *uri; /* for NS_OTHER: to tell two unknown ones apart */
    size_t depth;
};

struct level {
    enum ns ns;
    char *base;    /* xml:base in force (owned when set_base) */
    int set_base;
};

#define MAX_ENCLOSURES 64
#define MAX_CATEGORIES 256
#define MAX_ENTITY_DECLS 64
#define NONE ((size_t)-1)

/* An enclosure while its entry is read: offsets into the arena. */
struct pending_enclosure {
    size_t url, type;
    int64_t length;
};

enum input_mode { IN_UNKNOWN, IN_XML, IN_JSON };

struct feed_parser {
    XML_Parser xp;
    struct feed_input *in;
    int in_use; /* in has had this document's first bytes */
    int ended;  /* the last push was made */
    enum input_mode mode;
    char *charset;
    struct feed_buf json; /* a JSON Feed, until it is whole */
    int entity_decls;
    struct feed_limits lim;
    feed_entry_fn *fn;
    void *arg;
    char *base_url;

    struct feed_info info;
    enum ns root_ns;
    int is_atom; /* the document is Atom (a <feed> or <entry> root) */
    int is_cdf;  /* Microsoft's Channel Definition Format (CHANNEL/ITEM) */

    struct level *levels;
    size_t depth, nlevels;
    struct binding *bind;
    size_t nbind, capbind;

    /* The entry being read: its depth (0 when outside one) and fields. */
    size_t entry_depth;
    size_t container_depth; /* channel / feed: feed-level fields */
    struct feed_buf f[F_NFIELDS];
    int have[F_NFIELDS];
    int weak[F_NFIELDS]; /* filled from a weaker source: see cap_weak() */
    int link_rank; /* how good the link in f[F_LINK] is */
    int guid_is_permalink;
    size_t author_depth; /* inside an Atom <author> */
    size_t feed_author_depth;

    /* The entry's enclosures, categories and image: strings in arena. */
    struct feed_buf arena;
    struct pending_enclosure enc[MAX_ENCLOSURES];
    size_t nenc;
    size_t cat[MAX_CATEGORIES];
    size_t ncat;
    size_t image;
    struct feed_enclosure out_enc[MAX_ENCLOSURES];
    const char *out_cat[MAX_CATEGORIES];

    /* The field being captured, if any. */
    enum field cap;
    enum mode cap_mode;
    size_t cap_depth;
    int cap_strip; /* html or xhtml title: strip the markup at the end */
    int cap_b64;   /* Atom 0.3 mode="base64": decode at the end */

    size_t bytes;
    size_t entries;
    size_t skip;      /* entries read again after a retry, not emitted */
    int syntax_error; /* the error is expat's: the document is ill-formed */
    int error;
    char errmsg[256];
    struct feed_buf tmp;
    struct feed_buf bad_date; /* the first date that did not read */
};

static void
set_error(struct feed_parser *p, int code, const char *msg)
{
    if (p->error)
        return;
    p->error = code;
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    XML_StopParser(p->xp, XML_FALSE);
}

void
feed_limits_default(struct feed_limits *lim)
{
    lim->max_bytes = 32u << 20;
    lim->max_depth = 128;
    lim->max_field = 2u << 20;
    lim->max_entries = 10000;
}

const char *
feed_format_name(enum feed_format f)
{
    static const char *const names[] = {
        "unknown", "rss090", "rss091", "rss092", "rss093", "rss094",
        "rss10",   "rss11",  "rss20",  "atom03", "atom10", "json10",
        "json11",  "cdf",
    };

    if ((size_t)f >= sizeof(names) / sizeof(names[0]))
        return "unknown";
    return names[f];
}

/* ---- namespaces ---- */

static enum ns
ns_of_uri(const char *uri)
{
    size_t i;

    for (i = 0; i < sizeof(known_ns) / sizeof(known_ns[0]); i++)
        if (strcmp(uri, known_ns[i].uri) == 0)
            return known_ns[i].ns;
    /* Spellings of Atom 1.0's namespace with a trailing slash or case
     * changes turn up; anything else Atom-like is handled by is_atom. */
    if (strncmp(uri, "http://www.w3.org/2005/Atom", 27) == 0)
        return NS_ATOM10;
    return NS_OTHER;
}

static int
bind_push(struct feed_parser *p, const char *prefix, const char *uri)
{
    struct binding *b;

    if (p->nbind == p->capbind) {
        size_t cap = p->capbind ? p->capbind * 2 : 16;

        b = realloc(p->bind, cap * sizeof(*b));
        if (b == NULL)
            return FEED_E_NOMEM;
        p->bind = b;
        p->capbind = cap;
    }
    b = &p->bind[p->nbind];
    b->prefix = strdup(prefix);
    b->uri = strdup(uri);
    if (b->prefix == NULL || b->uri == NULL) {
        free(b->prefix);
        free(b->uri);
        return FEED_E_NOMEM;
    }
    b->plen = strlen(b->prefix);
    b->ns = *uri ? ns_of_uri(uri) : NS_NONE;
    b->depth = p->depth;
    p->nbind++;
    return 0;
}

/* The namespace of a qualified name, and its local part. */
static enum ns
resolve(const struct feed_parser *p, const char *qname, const char **local)
{
    const char *colon = strchr(qname, ':');
    size_t n = colon ? (size_t)(colon - qname) : 0, i;

    *local = colon ? colon + 1 : qname;
    for (i = p->nbind; i > 0; i--) {
        const struct binding *b = &p->bind[i - 1];

        if (b->plen == n && memcmp(b->prefix, qname, n) == 0)
            return b->ns;
    }
    if (!colon)
        return NS_NONE;
    for (i = 0; i < sizeof(known_prefix) / sizeof(known_prefix[0]); i++)
        if (strlen(known_prefix[i].prefix) == n &&
            strncmp(known_prefix[i].prefix, qname, n) == 0)
            return known_prefix[i].ns;
    return NS_OTHER;
}

static const char *
attr(const char **atts, const char *name)
{
    for (; atts && atts[0]; atts += 2)
        if (strcmp(atts[0], name) == 0)
            return atts[1];
    return NULL;
}

/* ---- helpers ---- */

static int
is_rss_ns(enum ns ns)
{
    return ns == NS_NONE || ns == NS_RSS090 || ns == NS_RSS10 ||
           ns == NS_RSS11 || ns == NS_RSS20;
}

/* 1 when an element in ns is one of the document's own: in its root's
 * namespace, or no namespace (feeds that forget Atom's namespace). */
static int
is_own(const struct feed_parser *p, enum ns ns)
{
    if (ns == p->root_ns)
        return 1;
    if (p->is_atom)
        return ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE;
    return is_rss_ns(ns);
}

static int
is_atom_ns(const struct feed_parser *p, enum ns ns)
{
    return ns == NS_ATOM10 || ns == NS_ATOM03 || (p->is_atom && is_own(p, ns));
}

static const char *
current_base(const struct feed_parser *p)
{
    if (p->depth > 0 && p->levels[p->depth - 1].base)
        return p->levels[p->depth - 1].base;
    if (p->have[F_FEED_LINK] && p->f[F_FEED_LINK].len)
        return p->f[F_FEED_LINK].data;
    return p->base_url;
}

/* Points info at the feed-level fields after one of them changed. */
static void
sync_info(struct feed_parser *p)
{
    p->info.title = p->have[F_FEED_TITLE] && p->f[F_FEED_TITLE].len
                        ? p->f[F_FEED_TITLE].data
                        : NULL;
    p->info.link = p->have[F_FEED_LINK] && p->f[F_FEED_LINK].len
                       ? p->f[F_FEED_LINK].data
                       : NULL;
}

static const char *
local_name(const char *qname)
{
    const char *colon = strchr(qname, ':');

    return colon ? colon + 1 : qname;
}

static void
entry_reset(struct feed_parser *p)
{
    int i;

    for (i = 0; i < F_FEED_TITLE; i++) {
        feed_buf_reset(&p->f[i]);
        p->have[i] = 0;
        p->weak[i] = 0;
    }
    p->link_rank = 0;
    p->guid_is_permalink = 0;
    p->author_depth = 0;
    feed_buf_reset(&p->arena);
    p->nenc = 0;
    p->ncat = 0;
    p->image = NONE;
}

/* Copies s into the arena; its offset, or NONE when it does not fit. */
static size_t
arena_put(struct feed_parser *p, const char *s, size_t n)
{
    size_t at = p->arena.len;

    if (feed_buf_append(&p->arena, s, n) != 0 ||
        feed_buf_append(&p->arena, "", 1) != 0) {
        p->arena.len = at;
        return NONE;
    }
    return at;
}

/* Makes f[F_LINK] (or any URL field) absolute against the base in force. */
static int
absolutize(struct feed_parser *p, struct feed_buf *b)
{
    const char *base = current_base(p);
    int rc;

    if (b->len == 0 || base == NULL)
        return 0;
    feed_buf_reset(&p->tmp);
    rc = feed_url_resolve(base, b->data, &p->tmp);
    if (rc == FEED_E_INVAL)
        return 0;
    if (rc != 0)
        return rc;
    feed_buf_reset(b);
    return feed_buf_append(b, p->tmp.data, p->tmp.len);
}

/* A date field, counted in info.bad_dates when it cannot be read: the
 * entry gets none rather than a guess, and the caller can say why. */
static int64_t
read_date(struct feed_parser *p, const char *s)
{
    int64_t t = feed_date_parse(s);

    if (s == NULL || t != FEED_TIME_NONE)
        return t;
    if (p->info.bad_dates++ == 0 &&
        feed_buf_puts(&p->bad_date, s) == 0)
        p->info.bad_date = p->bad_date.data;
    return t;
}

static void
entry_emit(struct feed_parser *p)
{
    struct feed_entry e;
    const char *guid;
#define FIELD(i) (p->have[i] && p->f[i].len ? p->f[i].data : NULL)

    if (p->entries >= p->lim.max_entries) {
        char msg[96];

        snprintf(msg, sizeof(msg), "more than %zu entries",
                 p->lim.max_entries);
        set_error(p, FEED_E_LIMIT, msg);
        return;
    }
    /* RSS 2.0 "guid": a permalink guid is the link when there is none;
     * so is an Atom id that is a web address. */
    guid = FIELD(F_GUID);
    if (p->is_atom)
        p->guid_is_permalink = 1;
    /* The guid is taken as it is: one that is not a URL ("urn:uuid:...")
     * is no relative link either. */
    if (!FIELD(F_LINK) && guid && p->guid_is_permalink) {
        feed_buf_reset(&p->f[F_LINK]);
        if (feed_buf_append(&p->f[F_LINK], guid, p->f[F_GUID].len) != 0) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return;
        }
        p->have[F_LINK] = 1;
    }
    memset(&e, 0, sizeof(e));
    e.guid = FIELD(F_GUID);
    e.link = FIELD(F_LINK);
    e.title = FIELD(F_TITLE);
    if (e.title == NULL)
        e.title = FIELD(F_TITLE2);
    e.author = FIELD(F_AUTHOR);
    if (e.author == NULL)
        e.author = FIELD(F_AUTHOR2);
    /* RFC 4287 §4.2.1: an entry without an author has its feed's. */
    if (e.author == NULL && (p->is_atom || p->mode == IN_JSON))
        e.author = FIELD(F_FEED_AUTHOR);
    e.summary = FIELD(F_SUMMARY);
    if (e.summary == NULL)
        e.summary = FIELD(F_SUMMARY2);
    e.content = FIELD(F_CONTENT);
    e.published = read_date(p, FIELD(F_PUBLISHED));
    e.updated = read_date(p, FIELD(F_UPDATED));
#undef FIELD
    if (p->image != NONE)
        e.image = p->arena.data + p->image;
    for (size_t i = 0; i < p->nenc; i++) {
        p->out_enc[i].url = p->arena.data + p->enc[i].url;
        p->out_enc[i].type =
            p->enc[i].type == NONE ? NULL : p->arena.data + p->enc[i].type;
        p->out_enc[i].length = p->enc[i].length;
    }
    e.enclosures = p->nenc ? p->out_enc : NULL;
    e.nenclosures = p->nenc;
    for (size_t i = 0; i < p->ncat; i++)
        p->out_cat[i] = p->arena.data + p->cat[i];
    e.categories = p->ncat ? p->out_cat : NULL;
    e.ncategories = p->ncat;
    p->entries++;
    if (p->skip > 0) { /* emitted before the retry */
        p->skip--;
        return;
    }
    if (p->fn && p->fn(&e, p->arg) != 0)
        set_error(p, FEED_E_STOPPED, "stopped by the caller");
}

/* ---- capture of character data and markup ---- */

/* Turns a failed append to a field into the parser's error. */
__attribute__((noinline, cold)) static int
field_error(struct feed_parser *p, int rc)
{
    if (rc == FEED_E_TOOBIG) {
        char msg[96];

        snprintf(msg, sizeof(msg), "a field is longer than %zu bytes",
                 p->lim.max_field);
        set_error(p, FEED_E_LIMIT, msg);
    } else if (rc != 0) {
        set_error(p, rc, "out of memory");
    }
    return rc;
}

static inline int
cap_append(struct feed_parser *p, const char *s, size_t n)
{
    int rc = feed_buf_append(&p->f[p->cap], s, n);

    return rc ? field_error(p, rc) : 0;
}

/* Appends s[0..n) as XML character data (for markup kept in a field):
 * the text between elements must be escaped again to stay markup-safe. */
__attribute__((noinline)) static void
cap_escaped(struct feed_parser *p, const char *s, size_t n)
{
    const char *run = s, *end = s + n;

    for (; s < end; s++) {
        const char *rep;

        s += scan_xml_plain((const unsigned char *)s, (size_t)(end - s));
        if (s == end)
            break;
        switch (*s) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: continue;
        }
        if (cap_append(p, run, (size_t)(s - run)) != 0 ||
            cap_append(p, rep, strlen(rep)) != 0)
            return;
        run = s + 1;
    }
    (void)cap_append(p, run, (size_t)(s - run));
}

static void XMLCALL on_text(void *ud, const char *s, int len);

static void
cap_start(struct feed_parser *p, enum field f, enum mode m)
{
    /* The first of repeated elements wins (two <title>s, two <guid>s):
     * later ones are read into a field nobody looks at; but a field
     * filled from a weaker source (Atom 0.3's issued, dc:date) gives way
     * to the element that is the format's own. */
    if (p->have[f] && p->f[f].len > 0 && f != F_CATEGORY && !p->weak[f])
        f = F_SCRATCH;
    p->weak[f] = 0;
    /* Character data matters only while a field is captured: the rest
     * of the time expat need not call back at all. */
    if (p->cap == F_NONE)
        XML_SetCharacterDataHandler(p->xp, on_text);
    p->cap = f;
    p->cap_mode = m;
    p->cap_depth = p->depth;
    p->cap_strip = 0;
    p->cap_b64 = 0;
    feed_buf_reset(&p->f[f]);
    p->have[f] = 1;
}

/* cap_start() for a weaker source of f: it fills f only when nothing
 * has, and anything stronger that comes later replaces it. */
static void
cap_weak(struct feed_parser *p, enum field f, enum mode m)
{
    if (p->have[f] && p->f[f].len > 0)
        f = F_SCRATCH;
    cap_start(p, f, m);
    p->weak[f] = 1;
}

/* The mode of an Atom text construct (RFC 4287 §3.1) or Atom 0.3
 * content (mode="escaped"). */
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
        strcmp(type, "application/xhtml+xml") == 0)
        return M_XHTML;
    return M_HTML;
}

/* Starts capturing an Atom text construct (or Atom 0.3 content) into f.
 * A title ends up plain text whatever its type. */
static void
atom_cap(struct feed_parser *p, enum field f, const char **atts, int title)
{
    const char *mode = attr(atts, "mode");

    const char *type = attr(atts, "type");

    cap_start(p, f, atom_mode(atts));
    p->cap_strip = title && p->cap_mode != M_TEXT;
    /* Atom 0.3's mode="base64", and RFC 4287 §4.1.3.3: a MIME type that
     * is neither text nor XML is base64. */
    if ((mode && strcmp(mode, "base64") == 0) ||
        (type && strchr(type, '/') && strncmp(type, "text/", 5) != 0 &&
         !strstr(type, "xml") && !strstr(type, "html"))) {
        /* Decoded at the end; its type says whether it is HTML. */
        p->cap_b64 = 1;
        p->cap_mode = M_TEXT;
        p->cap_strip = title && type && strstr(type, "html") != NULL;
    }
}

/* 1 when an Atom link is the entry's page: rel="alternate" (RFC 4287
 * §4.2.7.2 makes a link without rel one) of an HTML type or of no type.
 * Any other relation, or an alternate in another format (an Atom or RSS
 * version of the entry), is not where a reader goes. */
static int
link_rank(const char **atts)
{
    const char *rel = attr(atts, "rel"), *type = attr(atts, "type");

    if (rel != NULL && strcmp(rel, "alternate") != 0 &&
        strcmp(rel, "http://www.iana.org/assignments/relation/alternate") != 0)
        return 0;
    return type == NULL || *type == '\0' || strstr(type, "html") != NULL;
}

static void
take_link_attr(struct feed_parser *p, enum field f, const char **atts)
{
    const char *href = attr(atts, "href");
    int rank = link_rank(atts);

    /* Of two links that rank alike, the later one wins, as with any
     * other repeated element. */
    if (href == NULL || rank == 0 || (p->have[f] && rank < p->link_rank))
        return;
    feed_buf_reset(&p->f[f]);
    if (feed_buf_puts(&p->f[f], href) != 0) {
        set_error(p, FEED_E_LIMIT, "a link is too long");
        return;
    }
    text_trim(&p->f[f]);
    if (absolutize(p, &p->f[f]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    p->have[f] = 1;
    p->link_rank = rank;
    if (f == F_FEED_LINK)
        sync_info(p);
}

/* url resolved against the base in force, into p->tmp. */
static int
resolve_into_tmp(struct feed_parser *p, const char *url, size_t n)
{
    const char *base = current_base(p);

    while (n > 0 && isspace((unsigned char)*url)) {
        url++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)url[n - 1]))
        n--;
    feed_buf_reset(&p->tmp);
    if (feed_buf_append(&p->tmp, url, n) != 0)
        return FEED_E_NOMEM;
    if (n == 0 || base == NULL)
        return 0;
    {
        struct feed_buf abs;
        int rc;

        feed_buf_init(&abs, 0);
        rc = feed_url_resolve(base, p->tmp.data, &abs);
        if (rc == 0 && abs.len > 0) {
            feed_buf_free(&p->tmp);
            p->tmp = abs;
            return 0;
        }
        feed_buf_free(&abs);
        return rc == FEED_E_INVAL ? 0 : rc;
    }
}

/* An enclosure of the entry being read, unless it has one with that URL
 * already (media:content and <enclosure> often name the same file). */
static void
add_enclosure(struct feed_parser *p, const char *url, const char *type,
              const char *length)
{
    struct pending_enclosure *e;
    char *end;
    size_t i;

    if (url == NULL || p->nenc == MAX_ENCLOSURES ||
        resolve_into_tmp(p, url, strlen(url)) != 0 || p->tmp.len == 0)
        return;
    for (i = 0; i < p->nenc; i++)
        if (strcmp(p->arena.data + p->enc[i].url, p->tmp.data) == 0) {
            if (p->enc[i].type == NONE && type && *type)
                p->enc[i].type = arena_put(p, type, strlen(type));
            return;
        }
    e = &p->enc[p->nenc];
    if ((e->url = arena_put(p, p->tmp.data, p->tmp.len)) == NONE)
        return;
    e->type = type && *type ? arena_put(p, type, strlen(type)) : NONE;
    e->length = -1;
    if (length) {
        long long v = strtoll(length, &end, 10);

        if (end != length && *end == '\0' && v >= 0)
            e->length = v;
    }
    p->nenc++;
}

static void
add_category(struct feed_parser *p, const char *s, size_t n)
{
    size_t i;

    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n == 0 || p->ncat == MAX_CATEGORIES)
        return;
    for (i = 0; i < p->ncat; i++)
        if (strlen(p->arena.data + p->cat[i]) == n &&
            memcmp(p->arena.data + p->cat[i], s, n) == 0)
            return;
    if ((p->cat[p->ncat] = arena_put(p, s, n)) != NONE)
        p->ncat++;
}

static void
set_image(struct feed_parser *p, const char *url)
{
    if (url == NULL || p->image != NONE ||
        resolve_into_tmp(p, url, strlen(url)) != 0 || p->tmp.len == 0)
        return;
    p->image = arena_put(p, p->tmp.data, p->tmp.len);
}

/* Media RSS (media:content, media:thumbnail, media:description), also
 * inside a media:group. */
static void
media_child(struct feed_parser *p, const char *local, const char **atts)
{
    if (IS(local, "content")) {
        add_enclosure(p, attr(atts, "url"), attr(atts, "type"),
                      attr(atts, "fileSize"));
    } else if (IS(local, "thumbnail")) {
        set_image(p, attr(atts, "url"));
    } else if (IS(local, "title")) {
        const char *type = attr(atts, "type");

        cap_start(p, F_TITLE2,
                  type && strcmp(type, "html") == 0 ? M_HTML : M_TEXT);
        p->cap_strip = 1;
    } else if (IS(local, "description") && !p->have[F_SUMMARY2]) {
        const char *type = attr(atts, "type");

        cap_start(p, F_SUMMARY2,
                  type && strcmp(type, "html") == 0 ? M_HTML : M_TEXT);
    }
}

/* What the element (ns, local) at the current depth means inside an
 * entry; starts a capture when it is a field. */
static void
entry_child(struct feed_parser *p, enum ns ns, const char *local,
            const char **atts)
{
    int atom = is_atom_ns(p, ns), own = is_own(p, ns);

    if (atom) {
        if (IS(local, "title")) {
            atom_cap(p, F_TITLE, atts, 1);
        } else if (IS(local, "link")) {
            const char *rel = attr(atts, "rel");

            if (rel && strcmp(rel, "enclosure") == 0)
                add_enclosure(p, attr(atts, "href"), attr(atts, "type"),
                              attr(atts, "length"));
            else
                take_link_attr(p, F_LINK, atts);
        } else if (IS(local, "category")) {
            const char *term = attr(atts, "term");

            if (term)
                add_category(p, term, strlen(term));
        } else if (IS(local, "id")) {
            cap_start(p, F_GUID, M_TEXT);
        } else if (IS(local, "published")) {
            cap_start(p, F_PUBLISHED, M_TEXT);
        } else if (IS(local, "issued")) {
            cap_weak(p, F_PUBLISHED, M_TEXT);
        } else if (IS(local, "updated")) {
            cap_start(p, F_UPDATED, M_TEXT);
        } else if (IS(local, "modified")) {
            cap_weak(p, F_UPDATED, M_TEXT);
        } else if (IS(local, "author")) {
            p->author_depth = p->depth;
        } else if (IS(local, "summary")) {
            atom_cap(p, F_SUMMARY, atts, 0);
        } else if (IS(local, "content")) {
            atom_cap(p, F_CONTENT, atts, 0);
        }
        if (p->is_atom || !own)
            return;
    }
    if (own) {
        if (IS(local, "title")) {
            /* RSS says nothing of markup in titles; publishers put HTML
             * there, escaped or not. A title is plain text. */
            cap_start(p, F_TITLE, M_TEXT);
            p->cap_strip = 1;
        } else if (IS(local, "enclosure")) {
            add_enclosure(p, attr(atts, "url"), attr(atts, "type"),
                          attr(atts, "length"));
        } else if (IS(local, "category")) {
            cap_start(p, F_CATEGORY, M_TEXT);
        } else if (IS(local, "link")) {
            /* Some RSS borrows Atom's <link href=.../>. */
            if (attr(atts, "href"))
                take_link_attr(p, F_LINK, atts);
            else
                cap_start(p, F_LINK, M_TEXT);
        } else if (IS(local, "guid")) {
            const char *pl = attr(atts, "isPermaLink");

            cap_start(p, F_GUID, M_TEXT);
            p->guid_is_permalink = pl == NULL || strcmp(pl, "false") != 0;
        } else if (IS(local, "description")) {
            cap_start(p, F_SUMMARY, M_HTML);
        } else if (IS(local, "pubDate")) {
            cap_start(p, F_PUBLISHED, M_TEXT);
        } else if (IS(local, "author")) {
            cap_start(p, F_AUTHOR, M_TEXT);
        }
        return;
    }
    switch (ns) {
    case NS_DC:
        if (IS(local, "creator"))
            cap_weak(p, F_AUTHOR, M_TEXT);
        else if (IS(local, "subject"))
            cap_start(p, F_CATEGORY, M_TEXT);
        else if (IS(local, "title")) {
            cap_start(p, F_TITLE2, M_TEXT);
            p->cap_strip = 1;
        }
        else if (IS(local, "date"))
            cap_weak(p, F_UPDATED, M_TEXT);
        break;
    case NS_DCTERMS:
        if (IS(local, "modified"))
            cap_weak(p, F_UPDATED, M_TEXT);
        else if (IS(local, "issued"))
            cap_weak(p, F_PUBLISHED, M_TEXT);
        break;
    case NS_CONTENT:
        if (IS(local, "encoded"))
            cap_start(p, F_CONTENT, M_HTML);
        break;
    case NS_MEDIA:
        media_child(p, local, atts);
        break;
    case NS_ITUNES:
        if (IS(local, "author") && !p->have[F_AUTHOR2])
            cap_start(p, F_AUTHOR2, M_TEXT);
        else if (IS(local, "summary") && !p->have[F_SUMMARY2])
            cap_start(p, F_SUMMARY2, M_TEXT);
        else if (IS(local, "image"))
            set_image(p, attr(atts, "href"));
        break;
    default:
        break;
    }
}

static int set_field(struct feed_parser *p, enum field f, const char *s,
                     int escape);
static void cdf_base(struct feed_parser *p, const char **atts);

/* Decides the document's format from its root element. */
static void
root_start(struct feed_parser *p, enum ns ns, const char *local,
           const char **atts)
{
    const char *v = attr(atts, "version");

    p->root_ns = ns;
    if (IS(local, "rss") && is_rss_ns(ns)) {
        p->info.format = FEED_FORMAT_RSS20;
        if (v && strncmp(v, "0.9", 3) == 0 && v[3] >= '1' && v[3] <= '4' &&
            v[4] == '\0')
            p->info.format = FEED_FORMAT_RSS091 + (v[3] - '1');
    } else if (IS(local, "RDF") && ns == NS_RDF) {
        p->info.format = FEED_FORMAT_RSS10;
        p->root_ns = NS_RSS10;
    } else if (IS(local, "Channel") && ns == NS_RSS11) {
        /* RSS 1.1: the root is the channel. */
        p->info.format = FEED_FORMAT_RSS11;
        p->container_depth = p->depth;
    } else if (strcasecmp(local, "CHANNEL") == 0 && ns == NS_NONE) {
        /* CDF (W3C NOTE-CDFsubmit): upper-case elements, the links in
         * attributes. */
        p->is_cdf = 1;
        p->info.format = FEED_FORMAT_CDF;
        p->container_depth = p->depth;
        cdf_base(p, atts);
        if (attr(atts, "HREF")) {
            if (set_field(p, F_FEED_LINK, attr(atts, "HREF"), 0) == 0 &&
                absolutize(p, &p->f[F_FEED_LINK]) != 0)
                set_error(p, FEED_E_NOMEM, "out of memory");
            sync_info(p);
        }
    } else if ((IS(local, "feed") || IS(local, "entry")) &&
               (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_NONE ||
                ns == NS_OTHER)) {
        p->is_atom = 1;
        p->info.format = ns == NS_ATOM03 || (v && strcmp(v, "0.3") == 0)
                             ? FEED_FORMAT_ATOM03
                             : FEED_FORMAT_ATOM10;
        if (IS(local, "entry")) {
            p->entry_depth = p->depth;
            entry_reset(p);
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

/* CDF's BASE attribute is its xml:base. */
static void
cdf_base(struct feed_parser *p, const char **atts)
{
    struct level *lv = &p->levels[p->depth - 1];
    const char *base = attr(atts, "BASE");

    if (base == NULL || lv->set_base)
        return;
    feed_buf_reset(&p->tmp);
    if (feed_url_resolve(lv->base ? lv->base : p->base_url, base, &p->tmp) ==
            0 &&
        p->tmp.len) {
        if ((lv->base = strdup(p->tmp.data)) == NULL) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return;
        }
        lv->set_base = 1;
    }
}

/* Elements of a CDF document below its root. */
static void
cdf_start(struct feed_parser *p, const char *local, const char **atts)
{
    const char *v;

    cdf_base(p, atts);
    if (p->entry_depth == 0 && strcasecmp(local, "ITEM") == 0) {
        p->entry_depth = p->depth;
        entry_reset(p);
        if ((v = attr(atts, "HREF")) && set_field(p, F_LINK, v, 0) == 0 &&
            absolutize(p, &p->f[F_LINK]) != 0)
            set_error(p, FEED_E_NOMEM, "out of memory");
        if ((v = attr(atts, "LASTMOD")))
            (void)set_field(p, F_UPDATED, v, 0);
        return;
    }
    if (p->depth == (p->entry_depth ? p->entry_depth : p->container_depth) + 1) {
        int item = p->entry_depth != 0;

        if (strcasecmp(local, "TITLE") == 0)
            cap_start(p, item ? F_TITLE : F_FEED_TITLE, M_TEXT);
        else if (item && strcasecmp(local, "ABSTRACT") == 0)
            cap_start(p, F_SUMMARY, M_TEXT);
    }
}

static void XMLCALL
on_start(void *ud, const char *name, const char **atts)
{
    struct feed_parser *p = ud;
    struct level *lv;
    const char *local, *xbase;
    enum ns ns;
    size_t i;

    if (p->error)
        return;
    if (p->depth >= p->lim.max_depth) {
        char msg[96];

        snprintf(msg, sizeof(msg), "elements nested deeper than %zu",
                 p->lim.max_depth);
        set_error(p, FEED_E_LIMIT, msg);
        return;
    }
    if (p->depth == p->nlevels) {
        size_t n = p->nlevels ? p->nlevels * 2 : 16;

        lv = realloc(p->levels, n * sizeof(*lv));
        if (lv == NULL) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return;
        }
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

        if (strcmp(a, "xmlns") == 0 || strncmp(a, "xmlns:", 6) == 0) {
            if (bind_push(p, a[5] ? a + 6 : "", atts[i + 1]) != 0) {
                set_error(p, FEED_E_NOMEM, "out of memory");
                return;
            }
        }
    }
    ns = resolve(p, name, &local);
    lv->ns = ns;
    if ((xbase = attr(atts, "xml:base")) != NULL) {
        const char *parent = lv->base ? lv->base : p->base_url;

        feed_buf_reset(&p->tmp);
        if (feed_url_resolve(parent, xbase, &p->tmp) == 0 && p->tmp.len) {
            lv->base = strdup(p->tmp.data);
            if (lv->base == NULL) {
                set_error(p, FEED_E_NOMEM, "out of memory");
                return;
            }
            lv->set_base = 1;
        }
    }

    if (p->depth == 1) {
        root_start(p, ns, local, atts);
        return;
    }

    /* Inside a captured field: markup is kept or dropped by mode. */
    if (p->cap != F_NONE) {
        if (p->cap_mode == M_TEXT)
            return;
        /* The <div> that wraps Atom xhtml content is not part of it
         * (RFC 4287 §3.1.1.3). */
        if (p->cap_mode == M_XHTML && p->depth == p->cap_depth + 1 &&
            IS(local, "div"))
            return;
        if (cap_append(p, "<", 1) || cap_append(p, local, strlen(local)))
            return;
        for (i = 0; atts[i]; i += 2) {
            if (strncmp(atts[i], "xmlns", 5) == 0)
                continue;
            if (cap_append(p, " ", 1) ||
                cap_append(p, atts[i], strlen(atts[i])) ||
                cap_append(p, "=\"", 2))
                return;
            cap_escaped(p, atts[i + 1], strlen(atts[i + 1]));
            if (cap_append(p, "\"", 1))
                return;
        }
        (void)cap_append(p, ">", 1);
        return;
    }

    if (p->entry_depth && !p->is_cdf) {
        if (p->depth == p->entry_depth + 1) {
            entry_child(p, ns, local, atts);
        } else if (p->author_depth && p->depth == p->author_depth + 1 &&
                   is_atom_ns(p, ns)) {
            if (IS(local, "name"))
                cap_start(p, F_AUTHOR, M_TEXT);
            else if (IS(local, "email") && !p->have[F_AUTHOR])
                cap_start(p, F_AUTHOR, M_TEXT);
        } else if (ns == NS_MEDIA) {
            media_child(p, local, atts);
        }
        return;
    }

    if (p->is_cdf) {
        cdf_start(p, local, atts);
        return;
    }

    /* Outside entries: the start of one, the channel, and the feed's own
     * title and link. */
    if (is_own(p, ns) || is_atom_ns(p, ns)) {
        if ((!p->is_atom && IS(local, "item")) ||
            (p->is_atom && IS(local, "entry"))) {
            const char *about = attr(atts, "rdf:about");

            p->entry_depth = p->depth;
            entry_reset(p);
            /* RSS 1.0 §5.5: rdf:about is the item's URI. */
            if (about && *about) {
                if (feed_buf_puts(&p->f[F_GUID], about) != 0)
                    set_error(p, FEED_E_LIMIT, "an rdf:about is too long");
                p->have[F_GUID] = 1;
            }
            return;
        }
        if (!p->is_atom && IS(local, "channel")) {
            p->container_depth = p->depth;
            if (ns == NS_RSS090)
                p->info.format = FEED_FORMAT_RSS090;
            return;
        }
        if (p->feed_author_depth && p->depth == p->feed_author_depth + 1 &&
            IS(local, "name")) {
            cap_start(p, F_FEED_AUTHOR, M_TEXT);
            return;
        }
        if (p->container_depth && p->depth == p->container_depth + 1) {
            if (p->is_atom && IS(local, "author") &&
                !p->have[F_FEED_AUTHOR]) {
                p->feed_author_depth = p->depth;
            } else if (IS(local, "title") &&
                       !p->have[F_FEED_TITLE]) {
                cap_start(p, F_FEED_TITLE,
                          p->is_atom ? atom_mode(atts) : M_TEXT);
                p->cap_strip = !p->is_atom || p->cap_mode != M_TEXT;
            } else if (IS(local, "link")) {
                if (p->is_atom || attr(atts, "href"))
                    take_link_attr(p, F_FEED_LINK, atts);
                else if (!p->have[F_FEED_LINK])
                    cap_start(p, F_FEED_LINK, M_TEXT);
            }
        }
    }
}

/* Finishes the captured field when its element closes. */
static void
cap_end(struct feed_parser *p)
{
    struct feed_buf *b = &p->f[p->cap];
    enum field f = p->cap;

    p->cap = F_NONE;
    XML_SetCharacterDataHandler(p->xp, NULL);
    /* Decoded bytes must be UTF-8 like everything else, or go. */
    if (p->cap_b64 &&
        (text_base64_decode(b) != 0 ||
         !feed_utf8_valid(b->data ? b->data : "", b->len) ||
         memchr(b->data ? b->data : "", '\0', b->len) != NULL)) {
        feed_buf_reset(b);
        p->have[f] = 0;
    }
    if (p->cap_strip)
        text_strip_markup(b);
    text_trim(b);
    if (f == F_CATEGORY) {
        add_category(p, b->data ? b->data : "", b->len);
        feed_buf_reset(b);
        p->have[f] = 0;
        return;
    }
    if ((f == F_LINK || f == F_FEED_LINK) && absolutize(p, b) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    /* HTML republished in another feed loses its page: its relative
     * links and images must carry their base with them. */
    if ((f == F_SUMMARY || f == F_SUMMARY2 || f == F_CONTENT) &&
        p->cap_mode != M_TEXT &&
        text_resolve_urls(b, current_base(p), &p->tmp) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    if (f == F_LINK)
        p->link_rank = 3; /* <link>text</link> is the RSS permalink */
    if (f == F_FEED_TITLE || f == F_FEED_LINK)
        sync_info(p);
}

/* 1 for HTML's void elements, which take no end tag. */
static int
html_void(const char *local)
{
    static const char *const names[] = {"area",  "base", "br",    "col",
                                        "embed", "hr",   "img",   "input",
                                        "link",  "meta", "param", "source",
                                        "track", "wbr"};
    size_t n = strlen(local);

    if (n < 2 || n > 6) /* the common <p>, <div>, <strong> at once */
        return 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i][0] == (local[0] | 0x20) && strcasecmp(local, names[i]) == 0)
            return 1;
    return 0;
}

static void XMLCALL
on_end(void *ud, const char *name)
{
    struct feed_parser *p = ud;
    struct level *lv;

    if (p->error || p->depth == 0)
        return;
    if (p->cap != F_NONE) {
        if (p->depth == p->cap_depth) {
            cap_end(p);
        } else if (p->cap_mode != M_TEXT &&
                   !(p->cap_mode == M_XHTML &&
                     p->depth == p->cap_depth + 1 &&
                     strcmp(local_name(name), "div") == 0)) {
            const char *local = local_name(name);

            /* <img>, <br> and their kind have no end tag in HTML. */
            if (!html_void(local) && cap_append(p, "</", 2) == 0 &&
                cap_append(p, local, strlen(local)) == 0)
                (void)cap_append(p, ">", 1);
        }
    }
    if (p->entry_depth && p->depth == p->entry_depth) {
        entry_emit(p);
        entry_reset(p);
        p->entry_depth = 0;
    } else if (p->author_depth == p->depth) {
        p->author_depth = 0;
    } else if (p->feed_author_depth == p->depth) {
        p->feed_author_depth = 0;
    }
    if (p->container_depth == p->depth)
        p->container_depth = 0;

    lv = &p->levels[p->depth - 1];
    if (lv->set_base)
        free(lv->base);
    while (p->nbind > 0 && p->bind[p->nbind - 1].depth == p->depth) {
        p->nbind--;
        free(p->bind[p->nbind].prefix);
        free(p->bind[p->nbind].uri);
    }
    p->depth--;
}

static void XMLCALL
on_text(void *ud, const char *s, int len)
{
    struct feed_parser *p = ud;

    if (p->error || p->cap == F_NONE)
        return;
    /* In Atom xhtml, text between the kept elements is escaped again so
     * that the field stays HTML; anywhere else the text is the field
     * (escaped HTML arrives unescaped: it is the HTML). */
    if (p->cap_mode == M_XHTML)
        cap_escaped(p, s, (size_t)len);
    else
        (void)cap_append(p, s, (size_t)len);
}

/* A document may declare a few internal entities (some do, for a
 * repeated prefix); expat's amplification limit, set tight below, bounds
 * what they expand to. External entities are never read. */
static void XMLCALL
on_entity_decl(void *ud, const XML_Char *name, int is_param,
               const XML_Char *value, int value_length, const XML_Char *base,
               const XML_Char *system_id, const XML_Char *public_id,
               const XML_Char *notation)
{
    struct feed_parser *p = ud;

    (void)name;
    (void)is_param;
    (void)value;
    (void)base;
    (void)system_id;
    (void)public_id;
    (void)notation;
    if (++p->entity_decls > MAX_ENTITY_DECLS)
        set_error(p, FEED_E_LIMIT, "more than 64 entity declarations");
    else if (value_length > 4096)
        set_error(p, FEED_E_LIMIT, "an entity longer than 4096 bytes");
}

/* An entity the document uses without declaring it. expat calls this
 * rather than failing only because on_external_entity "read" an empty
 * external DTD: so &nbsp; and its kind, which feeds copy from HTML, are
 * read as HTML means them. */
static void XMLCALL
on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
    struct feed_parser *p = ud;
    const char *utf8;
    char lit[80];

    if (is_param || p->error)
        return;
    utf8 = feed_html_entity(name);
    if (utf8 == NULL) {
        /* Unknown: kept as written, so nothing silently vanishes. */
        snprintf(lit, sizeof(lit), "&%.64s;", name);
        utf8 = lit;
    }
    on_text(p, utf8, (int)strlen(utf8));
}

/* Every external entity, the DTD included, reads as empty: nothing is
 * ever fetched or opened. Parsing the empty text is what makes expat
 * treat undeclared entities as skipped instead of fatal. */
static int XMLCALL
on_external_entity(XML_Parser xp, const XML_Char *context,
                   const XML_Char *base, const XML_Char *system_id,
                   const XML_Char *public_id)
{
    XML_Parser ep;
    enum XML_Status st;

    (void)base;
    (void)system_id;
    (void)public_id;
    ep = XML_ExternalEntityParserCreate(xp, context, NULL);
    if (ep == NULL)
        return XML_STATUS_ERROR;
    st = XML_Parse(ep, "", 0, 1);
    XML_ParserFree(ep);
    return st;
}

/* ---- JSON Feed (https://www.jsonfeed.org/version/1.1/) ---- */

/* s into field f of the entry (or feed) being built. */
static int
set_field(struct feed_parser *p, enum field f, const char *s, int escape)
{
    int rc;

    feed_buf_reset(&p->f[f]);
    p->have[f] = 1;
    rc = escape ? feed_buf_xml(&p->f[f], s) : feed_buf_puts(&p->f[f], s);
    (void)field_error(p, rc);
    text_trim(&p->f[f]);
    return rc;
}

static const char *
jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The first author's name: "authors" (1.1) or "author" (1.0). */
static const char *
jauthor(const json_t *o)
{
    const json_t *a = json_object_get(o, "authors");

    if (json_is_array(a) && json_array_size(a) > 0)
        return jstr(json_array_get(a, 0), "name");
    return jstr(json_object_get(o, "author"), "name");
}

static void
json_item(struct feed_parser *p, const json_t *it)
{
    const json_t *v, *x;
    const char *str;
    char num[32];
    size_t i;

    entry_reset(p);
    v = json_object_get(it, "id");
    if (json_is_string(v)) {
        (void)set_field(p, F_GUID, json_string_value(v), 0);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        (void)set_field(p, F_GUID, num, 0);
    }
    if ((str = jstr(it, "url")) || (str = jstr(it, "external_url"))) {
        if (set_field(p, F_LINK, str, 0) == 0 &&
            absolutize(p, &p->f[F_LINK]) != 0)
            set_error(p, FEED_E_NOMEM, "out of memory");
    }
    if ((str = jstr(it, "title")))
        (void)set_field(p, F_TITLE, str, 0);
    if ((str = jstr(it, "content_html"))) {
        if (set_field(p, F_CONTENT, str, 0) == 0 &&
            text_resolve_urls(&p->f[F_CONTENT], current_base(p), &p->tmp))
            set_error(p, FEED_E_NOMEM, "out of memory");
    } else if ((str = jstr(it, "content_text")))
        (void)set_field(p, F_CONTENT, str, 1);
    if ((str = jstr(it, "summary")))
        (void)set_field(p, F_SUMMARY, str, 1);
    if ((str = jstr(it, "date_published")))
        (void)set_field(p, F_PUBLISHED, str, 0);
    if ((str = jstr(it, "date_modified")))
        (void)set_field(p, F_UPDATED, str, 0);
    if ((str = jauthor(it)))
        (void)set_field(p, F_AUTHOR, str, 0);
    set_image(p, jstr(it, "image"));
    v = json_object_get(it, "tags");
    json_array_foreach(v, i, x) {
        if (json_is_string(x))
            add_category(p, json_string_value(x), json_string_length(x));
    }
    v = json_object_get(it, "attachments");
    json_array_foreach(v, i, x) {
        const json_t *size = json_object_get(x, "size_in_bytes");

        num[0] = '\0';
        if (json_is_integer(size))
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(size));
        add_enclosure(p, jstr(x, "url"), jstr(x, "mime_type"),
                      num[0] ? num : NULL);
    }
    if (!p->error)
        entry_emit(p);
}

/* A whole JSON Feed document, in p->json. */
static int
json_parse(struct feed_parser *p)
{
    json_error_t jerr;
    json_t *root, *items, *it;
    const char *version, *str;
    size_t i;

    root = json_loadb(p->json.data, p->json.len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (root == NULL) {
        snprintf(p->errmsg, sizeof(p->errmsg), "line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        p->error = FEED_E_XML;
        return p->error;
    }
    version = jstr(root, "version");
    if (version == NULL ||
        (strncmp(version, "https://jsonfeed.org/version/", 29) != 0 &&
         strncmp(version, "http://jsonfeed.org/version/", 28) != 0)) {
        json_decref(root);
        set_error(p, FEED_E_NOTFEED, "not a feed: JSON without a JSON Feed "
                                     "version");
        return p->error;
    }
    p->info.format = strstr(version, "/1.1") ? FEED_FORMAT_JSON11
                                             : FEED_FORMAT_JSON10;
    if ((str = jstr(root, "title")))
        (void)set_field(p, F_FEED_TITLE, str, 0);
    if ((str = jstr(root, "home_page_url")) &&
        set_field(p, F_FEED_LINK, str, 0) == 0 &&
        absolutize(p, &p->f[F_FEED_LINK]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    if ((str = jauthor(root)))
        (void)set_field(p, F_FEED_AUTHOR, str, 0);
    sync_info(p);
    items = json_object_get(root, "items");
    json_array_foreach(items, i, it) {
        if (p->error)
            break;
        if (json_is_object(it))
            json_item(p, it);
    }
    json_decref(root);
    return p->error;
}

/* The handlers and limits of p's expat parser (again after a reset,
 * which clears them). */
static void
xml_setup(struct feed_parser *p)
{
    XML_SetUserData(p->xp, p);
    XML_SetElementHandler(p->xp, on_start, on_end);
    XML_SetCharacterDataHandler(p->xp, NULL);
    XML_SetEntityDeclHandler(p->xp, on_entity_decl);
    XML_SetSkippedEntityHandler(p->xp, on_skipped_entity);
    XML_SetExternalEntityRefHandler(p->xp, on_external_entity);
    XML_SetParamEntityParsing(p->xp,
                              XML_PARAM_ENTITY_PARSING_UNLESS_STANDALONE);
    XML_UseForeignDTD(p->xp, XML_TRUE);
    /* Far below expat's defaults (100x once past 8 MiB): declared
     * entities may not expand a document more than fourfold once it has
     * produced 256 KiB. */
    XML_SetBillionLaughsAttackProtectionMaximumAmplification(p->xp, 4.0f);
    XML_SetBillionLaughsAttackProtectionActivationThreshold(p->xp,
                                                            256u << 10);
}

struct feed_parser *
feed_parser_new(const struct feed_limits *lim, const char *base_url,
                feed_entry_fn *fn, void *arg)
{
    struct feed_parser *p;
    int i;

    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    if (lim)
        p->lim = *lim;
    else
        feed_limits_default(&p->lim);
    p->fn = fn;
    p->arg = arg;
    p->cap = F_NONE;
    /* Only a web address anchors relative links: those of a local file
     * would point nowhere a reader can follow. */
    if (base_url && (strncasecmp(base_url, "http://", 7) == 0 ||
                     strncasecmp(base_url, "https://", 8) == 0) &&
        (p->base_url = strdup(base_url)) == NULL)
        goto fail;
    for (i = 0; i < F_NFIELDS; i++)
        feed_buf_init(&p->f[i], p->lim.max_field);
    feed_buf_init(&p->tmp, 0);
    feed_buf_init(&p->bad_date, 256);
    feed_buf_init(&p->arena, 0);
    feed_buf_init(&p->json, p->lim.max_bytes);
    p->image = NONE;
    /* feeds/input.c hands expat UTF-8 whatever the document declares. */
    p->xp = XML_ParserCreate("UTF-8");
    if (p->xp == NULL)
        goto fail;
    xml_setup(p);
    return p;
fail:
    feed_parser_free(p);
    return NULL;
}

/* Drops what the last document left in p, keeping the buffers. */
/* Forgets the open elements and their namespace bindings. */
static void
tree_clear(struct feed_parser *p)
{
    while (p->depth > 0) {
        if (p->levels[p->depth - 1].set_base)
            free(p->levels[p->depth - 1].base);
        p->depth--;
    }
    while (p->nbind > 0) {
        p->nbind--;
        free(p->bind[p->nbind].prefix);
        free(p->bind[p->nbind].uri);
    }
}

static void
parser_clear(struct feed_parser *p)
{
    tree_clear(p);
    p->in_use = 0; /* the input layer stays, for its buffers */
    free(p->charset);
    p->charset = NULL;
    free(p->base_url);
    p->base_url = NULL;
}

/* Readies p to read a document from its start: what was read of one is
 * forgotten, the input, charset and base are not. */
static int
document_reset(struct feed_parser *p)
{
    int i;

    tree_clear(p);
    if (XML_ParserReset(p->xp, "UTF-8") != XML_TRUE)
        return FEED_E_NOMEM;
    for (i = 0; i < F_NFIELDS; i++) {
        feed_buf_reset(&p->f[i]);
        p->have[i] = 0;
        p->weak[i] = 0;
    }
    feed_buf_reset(&p->tmp);
    feed_buf_reset(&p->bad_date);
    feed_buf_reset(&p->arena);
    feed_buf_reset(&p->json);
    memset(&p->info, 0, sizeof(p->info));
    p->mode = IN_UNKNOWN;
    p->entity_decls = 0;
    p->root_ns = NS_NONE;
    p->is_atom = p->is_cdf = 0;
    p->entry_depth = p->container_depth = 0;
    p->link_rank = p->guid_is_permalink = 0;
    p->author_depth = p->feed_author_depth = 0;
    p->nenc = p->ncat = 0;
    p->image = NONE;
    p->cap = F_NONE;
    p->entries = p->skip = 0;
    p->error = p->syntax_error = 0;
    p->errmsg[0] = '\0';
    xml_setup(p);
    return 0;
}

int
feed_parser_reset(struct feed_parser *p, const char *base_url)
{
    int rc;

    parser_clear(p);
    if ((rc = document_reset(p)) != 0)
        return rc;
    p->bytes = 0;
    p->ended = 0;
    if (base_url && (strncasecmp(base_url, "http://", 7) == 0 ||
                     strncasecmp(base_url, "https://", 8) == 0) &&
        (p->base_url = strdup(base_url)) == NULL)
        return FEED_E_NOMEM;
    return 0;
}

/* Hands UTF-8 to expat, an int's worth at a time. */
static int
xml_feed(struct feed_parser *p, const char *s, size_t n, int last)
{
    while (n > 0 || last) {
        int len = n > (1u << 30) ? 1 << 30 : (int)n;
        int fin = last && (size_t)len == n;

        if (XML_Parse(p->xp, s, len, fin) == XML_STATUS_ERROR) {
            if (!p->error) {
                enum XML_Error code = XML_GetErrorCode(p->xp);

                p->error = FEED_E_XML;
                /* Worth a careful second reading: not what no repair
                 * touches (entity limits, memory, an empty document). */
                p->syntax_error = code != XML_ERROR_NO_MEMORY &&
                                  code != XML_ERROR_NO_ELEMENTS &&
                                  code != XML_ERROR_EXTERNAL_ENTITY_HANDLING &&
                                  code != XML_ERROR_AMPLIFICATION_LIMIT_BREACH;
                snprintf(p->errmsg, sizeof(p->errmsg),
                         "line %lu, column %lu: %s",
                         (unsigned long)XML_GetCurrentLineNumber(p->xp),
                         (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1,
                         XML_ErrorString(XML_GetErrorCode(p->xp)));
            }
            return p->error;
        }
        s += len;
        n -= (size_t)len;
        if (fin)
            break;
    }
    return p->error;
}

static int json_parse(struct feed_parser *p);

/* feed_input_fn: clean UTF-8 from feeds/input.c. */
static int
on_input(const char *s, size_t n, int last, void *arg)
{
    struct feed_parser *p = arg;
    int rc;

    if (p->mode == IN_UNKNOWN && n > 0)
        p->mode = s[0] == '{' ? IN_JSON : IN_XML;
    if (p->mode == IN_JSON) {
        if ((rc = feed_buf_append(&p->json, s, n)) != 0) {
            set_error(p, rc == FEED_E_TOOBIG ? FEED_E_LIMIT : rc,
                      rc == FEED_E_TOOBIG ? "the document is too large"
                                          : "out of memory");
            return p->error;
        }
        return last ? json_parse(p) : 0;
    }
    if (p->mode == IN_UNKNOWN) {
        if (last)
            set_error(p, FEED_E_NOTFEED, "not a feed: the document is empty");
        return p->error;
    }
    return xml_feed(p, s, n, last);
}

int
feed_parser_charset(struct feed_parser *p, const char *charset)
{
    char *copy;

    if (p->in_use)
        return FEED_E_INVAL;
    copy = charset ? strdup(charset) : NULL;
    if (charset && copy == NULL)
        return FEED_E_NOMEM;
    free(p->charset);
    p->charset = copy;
    return 0;
}

int
feed_parser_base(struct feed_parser *p, const char *base_url)
{
    char *copy = NULL;

    if (p->in_use)
        return FEED_E_INVAL;
    if (base_url && (strncasecmp(base_url, "http://", 7) == 0 ||
                     strncasecmp(base_url, "https://", 8) == 0) &&
        (copy = strdup(base_url)) == NULL)
        return FEED_E_NOMEM;
    free(p->base_url);
    p->base_url = copy;
    return 0;
}

/* The input went to expat as it came, unrepaired, and expat found it
 * ill-formed: read it all again from the start, the careful way (see
 * input.c), without emitting again the entries already emitted. Up to
 * the first fault, repairs change nothing, so those entries come again
 * the same and in the same order. */
static int
retry(struct feed_parser *p, int last)
{
    size_t done = p->entries;
    int rc;

    if ((rc = document_reset(p)) != 0)
        return rc;
    p->skip = done;
    return feed_input_retry(p->in, last);
}

int
feed_parser_push(struct feed_parser *p, const char *s, size_t n, int last)
{
    int rc;

    if (p->error)
        return p->error;
    if (p->ended) {
        /* Also what keeps a document pushed whole from being read again
         * after its caller's buffer is gone (input.c). */
        set_error(p, FEED_E_INVAL, "a push after the last");
        return p->error;
    }
    p->ended = last != 0;
    if (n > p->lim.max_bytes - p->bytes) {
        snprintf(p->errmsg, sizeof(p->errmsg),
                 "the document is larger than %zu bytes", p->lim.max_bytes);
        p->error = FEED_E_LIMIT;
        return p->error;
    }
    p->bytes += n;
    if (!p->in_use) {
        if (p->in == NULL)
            p->in = feed_input_new(p->charset, on_input, p);
        else if (feed_input_reset(p->in, p->charset) != 0) {
            feed_input_free(p->in);
            p->in = NULL;
        }
        p->in_use = 1;
        if (p->in == NULL) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return p->error;
        }
    }
    rc = feed_input_push(p->in, s, n, last);
    if (p->syntax_error && feed_input_can_retry(p->in))
        rc = retry(p, last);
    p->info.encoding = feed_input_encoding(p->in);
    if (rc != 0 && !p->error)
        set_error(p, rc, rc == FEED_E_NOMEM ? "out of memory"
                                            : "cannot decode the document");
    if (p->error)
        return p->error;
    if (last && p->info.format == FEED_FORMAT_UNKNOWN)
        set_error(p, FEED_E_NOTFEED, "not a feed: no root element");
    return p->error;
}

const char *
feed_parser_error(const struct feed_parser *p)
{
    return p->errmsg;
}

const struct feed_info *
feed_parser_info(const struct feed_parser *p)
{
    return &p->info;
}

size_t
feed_parser_entries(const struct feed_parser *p)
{
    return p->entries;
}

void
feed_parser_free(struct feed_parser *p)
{
    int i;

    if (p == NULL)
        return;
    if (p->xp)
        XML_ParserFree(p->xp);
    parser_clear(p);
    feed_input_free(p->in);
    feed_buf_free(&p->json);
    feed_buf_free(&p->arena);
    feed_buf_free(&p->bad_date);
    free(p->bind);
    free(p->levels);
    for (i = 0; i < F_NFIELDS; i++)
        feed_buf_free(&p->f[i]);
    feed_buf_free(&p->tmp);
    free(p);
}

/* feeds/feeds.h - the entry model, the streaming feed parser, dates, URLs,
 * stable IDs and the output writers. A plain library: no I/O scheduling, no
 * logging, no libuv or libcurl. Every function that can fail returns 0 or a
 * negative FEED_E* code. */
#ifndef FEEDS_H
#define FEEDS_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define FEEDS_WUR __attribute__((warn_unused_result))

enum {
    FEED_E_NOMEM = -1,   /* out of memory */
    FEED_E_TOOBIG = -2,  /* a buffer's cap was reached */
    FEED_E_XML = -3,     /* the document is not well-formed */
    FEED_E_LIMIT = -4,   /* a parser limit (depth, entries, bytes) was hit */
    FEED_E_STOPPED = -5, /* the entry callback asked to stop */
    FEED_E_NOTFEED = -6, /* well-formed, but not RSS or Atom */
    FEED_E_INVAL = -7,   /* bad argument (an unusable URL, say) */
};

/* A time as seconds since the epoch, UTC; FEED_TIME_NONE when unknown. */
#define FEED_TIME_NONE INT64_MIN

/* ---- capped byte buffer ------------------------------------------------
 * Everything a peer sends goes into one of these. data is always
 * NUL-terminated once anything was appended. max == 0 means no cap. */
struct feed_buf {
    char *data;
    size_t len, cap, max;
};

void feed_buf_init(struct feed_buf *, size_t max);

/* Internal to feed_buf_append(): room for n more bytes and a NUL. */
int feed_buf_grow_(struct feed_buf *, size_t n) FEEDS_WUR;

/* Internal to feed_buf_append(): memcpy() without the call for the few
 * bytes that most appends are (expat hands text over a line or a
 * reference at a time): two overlapping fixed-size moves cover them. */
static inline void
feed_copy_(char *d, const void *src, size_t n)
{
    const char *s = (const char *)src;

    if (n >= 8 && n <= 16) {
        size_t k = n - 8;

        __builtin_memcpy(d, s, 8);
        __builtin_memcpy(d + k, s + k, 8);
    } else if (n >= 4 && n < 8) {
        size_t k = n - 4;

        __builtin_memcpy(d, s, 4);
        __builtin_memcpy(d + k, s + k, 4);
    } else if (n > 16) {
        __builtin_memcpy(d, s, n);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* 0, FEED_E_TOOBIG (nothing appended) or FEED_E_NOMEM. Inline: the
 * parser appends in small pieces, and most fit. */
static inline FEEDS_WUR int
feed_buf_append(struct feed_buf *b, const void *p, size_t n)
{
    if (b->data == NULL || b->cap - b->len <= n ||
        (b->max && n > b->max - b->len)) {
        int rc = feed_buf_grow_(b, n);

        if (rc != 0)
            return rc;
    }
    feed_copy_(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}
int feed_buf_puts(struct feed_buf *, const char *) FEEDS_WUR;
int feed_buf_printf(struct feed_buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) FEEDS_WUR;
/* The contents as a C string ("" when empty); valid until the next change. */
const char *feed_buf_str(struct feed_buf *);
void feed_buf_reset(struct feed_buf *);
void feed_buf_free(struct feed_buf *);

/* s as a JSON string ("null" when s is NULL); bytes that are not UTF-8
 * become U+FFFD. */
int feed_buf_json(struct feed_buf *, const char *s) FEEDS_WUR;
/* The same for s known to be valid UTF-8, as every string the parser
 * hands out is: faster, and the same result for such strings. */
int feed_buf_json_utf8(struct feed_buf *, const char *s) FEEDS_WUR;
/* s as XML character data: & < > " escaped, characters that XML 1.0 forbids
 * dropped. */
int feed_buf_xml(struct feed_buf *, const char *s) FEEDS_WUR;

/* ---- the entry model --------------------------------------------------- */

enum feed_format {
    FEED_FORMAT_UNKNOWN,
    FEED_FORMAT_RSS090,
    FEED_FORMAT_RSS091,
    FEED_FORMAT_RSS092,
    FEED_FORMAT_RSS093,
    FEED_FORMAT_RSS094,
    FEED_FORMAT_RSS10,
    FEED_FORMAT_RSS11,
    FEED_FORMAT_RSS20,
    FEED_FORMAT_ATOM03,
    FEED_FORMAT_ATOM10,
    FEED_FORMAT_JSON10, /* JSON Feed */
    FEED_FORMAT_JSON11,
    FEED_FORMAT_CDF, /* Microsoft's Channel Definition Format */
};

/* "rss20", "atom10", ... ("unknown"). */
const char *feed_format_name(enum feed_format);

/* A file attached to an entry: RSS <enclosure>, Atom rel="enclosure",
 * media:content. */
struct feed_enclosure {
    const char *url; /* absolute when it could be resolved */
    const char *type; /* MIME type, or NULL */
    int64_t length;   /* bytes, or -1 when unknown */
};

/* One entry. Strings are UTF-8, NULL when absent; title is plain text,
 * summary and content are HTML; link is absolute when it could be
 * resolved. */
struct feed_entry {
    const char *guid;    /* the entry's own guid / atom:id */
    const char *link;
    const char *title;
    const char *author;
    const char *summary;
    const char *content;
    const char *image; /* a thumbnail (media:thumbnail, itunes:image) */
    int64_t published;
    int64_t updated;
    const struct feed_enclosure *enclosures;
    size_t nenclosures;
    const char *const *categories; /* RSS category, Atom term, dc:subject */
    size_t ncategories;
};

/* What the document says about itself. */
struct feed_info {
    enum feed_format format;
    const char *title;
    const char *link;
    const char *encoding; /* what the bytes were read as: "utf-8", ... */
    size_t bad_dates;     /* dates that could not be read (null instead) */
    const char *bad_date; /* the first of them, as written */
};

/* ---- the streaming parser ---------------------------------------------- */

struct feed_limits {
    size_t max_bytes;   /* whole document */
    size_t max_depth;   /* element nesting */
    size_t max_field;   /* one field of one entry */
    size_t max_entries; /* entries in one document */
};

/* Limits for feeds from the web: generous for real feeds, small enough
 * that a hostile one cannot hurt the daemon. */
void feed_limits_default(struct feed_limits *);

/* Called once per entry, when its end tag closes. The entry is borrowed:
 * valid only during the call. Return non-zero to stop: feed_parser_push()
 * then returns FEED_E_STOPPED. */
typedef int feed_entry_fn(const struct feed_entry *, void *arg);

struct feed_parser;

/* base_url (may be NULL) resolves relative links when the document gives
 * no xml:base or channel link of its own. Caller owns the result and frees
 * it with feed_parser_free(). NULL when out of memory. */
struct feed_parser *feed_parser_new(const struct feed_limits *lim,
                                    const char *base_url, feed_entry_fn *fn,
                                    void *arg);

/* Readies p for another document, keeping its buffers (cheaper than a
 * new parser for each of many documents). base_url as for
 * feed_parser_new(); the charset is forgotten. 0 or FEED_E_NOMEM (then
 * free p). */
int feed_parser_reset(struct feed_parser *, const char *base_url) FEEDS_WUR;

/* The HTTP Content-Type charset, when there is one. It beats the XML
 * declaration but not a byte order mark (RFC 7303 §3). Only before the
 * first push: FEED_E_INVAL after. */
int feed_parser_charset(struct feed_parser *, const char *charset) FEEDS_WUR;

/* The URL the document came from after redirects, in place of the one
 * given to feed_parser_new(): relative links resolve against it. Only
 * before the first push: FEED_E_INVAL after. */
int feed_parser_base(struct feed_parser *, const char *base_url) FEEDS_WUR;

/* Any encoding, any chunking: chunks may split anywhere, even inside a
 * character. A document starting with '{' is read as a JSON Feed once it
 * is whole; an XML one streams. last != 0 marks
 * the end of the document (a push after it is FEED_E_INVAL). 0, or a negative FEED_E* code, after which
 * feed_parser_error() says why; entries already handed over stay valid.
 * UTF-8 is kept until the end, in case it must be read again; a document
 * pushed whole, in one call with last set, is not copied. */
int feed_parser_push(struct feed_parser *, const char *, size_t,
                     int last) FEEDS_WUR;

/* The one-line reason for the last error ("" when none). */
const char *feed_parser_error(const struct feed_parser *);
/* Borrowed; valid until feed_parser_free(). */
const struct feed_info *feed_parser_info(const struct feed_parser *);
size_t feed_parser_entries(const struct feed_parser *);
void feed_parser_free(struct feed_parser *);

/* ---- dates -------------------------------------------------------------- */

/* RFC 822/1123 (RSS) and RFC 3339 / W3C-DTF (Atom, dc:date) dates, in UTC.
 * FEED_TIME_NONE when s is not a date it can read: never a guess. */
int64_t feed_date_parse(const char *s);
/* "YYYY-MM-DDTHH:MM:SSZ" into out; returns out. */
#define FEED_DATE_LEN 20
char *feed_date_format(int64_t t, char out[FEED_DATE_LEN + 1]);
/* "Fri, 17 May 2024 10:00:00 GMT" (RFC 1123) into out; returns out. */
#define FEED_HTTPDATE_LEN 29
char *feed_date_format_http(int64_t t, char out[FEED_HTTPDATE_LEN + 1]);

/* ---- URLs --------------------------------------------------------------- */

/* ref resolved against base (RFC 3986 §5.2), appended to out. A ref that
 * is already absolute is appended as it is. FEED_E_INVAL when base is not
 * absolute and ref is relative. */
int feed_url_resolve(const char *base, const char *ref,
                     struct feed_buf *out) FEEDS_WUR;

/* The comparison key of an http(s) URL, appended to out: scheme folded
 * (http = https, so "//" + rest), host lower-cased, default port and
 * fragment dropped, tracking parameters (utm_*, fbclid, ...) dropped, the
 * other parameters sorted. FEED_E_INVAL when url is not http(s). */
int feed_url_key(const char *url, struct feed_buf *out) FEEDS_WUR;

/* ---- stable IDs (DESIGN.md "Stable IDs") -------------------------------- */

enum feed_id_rule {
    FEED_ID_AUTO,    /* the first rule below that applies */
    FEED_ID_SLUG,    /* host + the article ID at the end of the link */
    FEED_ID_GUID,    /* the guid, scoped to the feed unless URL-shaped */
    FEED_ID_LINK,    /* the normalized link */
    FEED_ID_CONTENT, /* title + date + content */
};

#define FEED_ID_LEN 16

/* The stable ID of e, as FEED_ID_LEN lower-case hex digits, into id. feed
 * scopes non-URL GUIDs and content hashes to their feed. Returns the rule
 * that was used (never FEED_ID_AUTO), or FEED_E_NOMEM. */
int feed_entry_id(const struct feed_entry *e, const char *feed,
                  enum feed_id_rule rule, char id[FEED_ID_LEN + 1]);

/* Rule FEED_ID_SLUG with a feed's own pattern (config "id_pattern"): re is
 * matched against e's link; its first group (else the whole match) is the
 * article ID, keyed with the link's host as the built-in rule keys it, so
 * that both give one article one ID. FEED_ID_SLUG, FEED_E_INVAL when the
 * link does not match (fall back to feed_entry_id()), or FEED_E_NOMEM. */
int feed_entry_id_pattern(const struct feed_entry *e, const regex_t *re,
                          char id[FEED_ID_LEN + 1]);

/* The ID of one of several different entries that share the ID base
 * (two items with one guid): base and what tells this one apart, kind
 * ('l' link, 't' title, 'h' content hash) and its value, hashed. */
void feed_id_derive(const char *base, char kind, const char *value,
                    char id[FEED_ID_LEN + 1]);

/* The article ID at the end of an http(s) link's last path segment, and
 * its host: the key of rule FEED_ID_SLUG, appended to out as
 * "host/article-id". 0 when found, FEED_E_INVAL when the link has none. */
int feed_slug_key(const char *link, struct feed_buf *out) FEEDS_WUR;

/* ---- output writers ----------------------------------------------------- */

/* A hash of what a reader sees of e (title, link, dates, author,
 * summary, content, image, enclosures, categories): a stored entry whose
 * hash changes has been edited. */
uint64_t feed_entry_hash(const struct feed_entry *e);

/* An entry as the store and the merged outputs see it. */
struct feed_item {
    char id[FEED_ID_LEN + 1];
    struct feed_entry entry;
    const char *feed;       /* the first feed that carried it (config name) */
    const char *feed_title; /* that feed's own title, or NULL */
    const char *feed_url;   /* where that feed was fetched from */
    const char *const *also; /* names of other feeds that carried it */
    size_t nalso;
    int64_t stored;  /* when feedd first stored it */
    int64_t changed; /* when feedd last stored an edited version of it, or
                      * FEED_TIME_NONE when never */
    uint64_t hash;   /* feed_entry_hash() of this version */
    /* Its ID was once shared by different entries of its feed (two items
     * with one guid): it keeps the ID only while it is the same entry
     * (the same link, else the same title). */
    int shared;
};

/* A deep copy of it in one allocation: the caller frees it with free().
 * NULL when out of memory. */
struct feed_item *feed_item_copy(const struct feed_item *it);

/* The date an item sorts by: published, else updated, else stored; a
 * date more than a day after stored is taken as stored. */
int64_t feed_item_date(const struct feed_item *);

struct feed_meta {
    const char *title;    /* the merged feed's title */
    const char *self_url; /* where readers fetch it, or NULL */
    const char *id;       /* its atom:id (a URI) */
    int64_t updated;
};

/* A whole Atom 1.0 document (RFC 4287) holding items[0..n), in the order
 * given, appended to out. */
int feed_write_atom(struct feed_buf *out, const struct feed_meta *,
                    const struct feed_item *items, size_t n) FEEDS_WUR;

#endif

/* feeds/fields.c - the entry being read: the capture of its fields'
 * character data and markup, its links, enclosures, categories and
 * image, and the entry handed to the caller when its end tag closes.
 *
 * The field buffers are reused from one entry to the next. Enclosures,
 * categories and the image are strings in one arena, emptied per entry. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feeds/date.h"
#include "feeds/url.h"
#include "parse_int.h"
#include "text.h"
#include "utf8.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *
feed_fields_base(const struct feed_parser *p)
{
    if (p->depth > 0 && p->levels[p->depth - 1].base)
        return p->levels[p->depth - 1].base;
    if (p->have[F_FEED_LINK] && p->f[F_FEED_LINK].len &&
        p->f[F_FEED_LINK].len <= MAX_BASE)
        return p->f[F_FEED_LINK].data;
    return p->base_url;
}

void
feed_fields_sync_info(struct feed_parser *p)
{
    p->info.title = p->have[F_FEED_TITLE] && p->f[F_FEED_TITLE].len
                        ? p->f[F_FEED_TITLE].data
                        : NULL;
    p->info.link = p->have[F_FEED_LINK] && p->f[F_FEED_LINK].len
                       ? p->f[F_FEED_LINK].data
                       : NULL;
    p->info.hub = p->have[F_FEED_HUB] && p->f[F_FEED_HUB].len
                      ? p->f[F_FEED_HUB].data
                      : NULL;
    p->info.self = p->have[F_FEED_SELF] && p->f[F_FEED_SELF].len
                       ? p->f[F_FEED_SELF].data
                       : NULL;
}

void
feed_fields_reset(struct feed_parser *p)
{
    int i;

    for (i = 0; i < F_FEED_TITLE; i++) {
        feed_buf_reset(&p->f[i]);
        p->have[i] = 0;
        p->weak[i] = 0;
    }
    p->link_rank = 0;
    p->entry_big = 0;
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

/* b made absolute against base (NULL: left as it is). 0 or
 * FEED_E_NOMEM. */
static int
absolutize(struct feed_parser *p, const char *base, struct feed_buf *b)
{
    int rc;

    if (b->len == 0 || base == NULL)
        return 0;
    feed_buf_reset(&p->tmp);
    rc = feed_url_resolve_cached(&p->ub, base, b->data, &p->tmp);
    if (rc == FEED_E_INVAL)
        return 0;
    if (rc != 0)
        return rc;
    /* Resolved past b's cap: it stays as written. */
    if (b->max && p->tmp.len > b->max)
        return 0;
    feed_buf_reset(b);
    return feed_buf_append(b, p->tmp.data, p->tmp.len);
}

int
feed_fields_absolutize(struct feed_parser *p, struct feed_buf *b)
{
    return absolutize(p, feed_fields_base(p), b);
}

/* A date field, counted in info.bad_dates when it cannot be read: the
 * entry gets none rather than a guess, and the caller can say why. */
static int64_t
read_date(struct feed_parser *p, const char *s)
{
    int64_t t = feed_date_parse(s);

    if (s == NULL || t != FEED_TIME_NONE)
        return t;
    if (p->info.bad_dates++ == 0 && feed_buf_puts(&p->bad_date, s) == 0)
        p->info.bad_date = p->bad_date.data;
    return t;
}

/* Field f as the entry hands it on: NULL when absent or empty. */
static const char *
field(const struct feed_parser *p, enum field f)
{
    return p->have[f] && p->f[f].len ? p->f[f].data : NULL;
}

void
feed_fields_emit(struct feed_parser *p)
{
    struct feed_entry e;
    const char *guid;

    /* The limits drop an entry, not the document: the first max_entries
     * are the newest of a feed, and the rest is still read, so that the
     * document is checked whole and the counts are exact. */
    if (p->entries >= p->lim.max_entries) {
        p->info.over_entries++;
        return;
    }
    if (p->entry_big) {
        p->info.big_entries++;
        return;
    }
    /* RSS 2.0 "guid": a permalink guid is the link when there is none;
     * so is an Atom id that is a web address. */
    guid = field(p, F_GUID);
    if (p->is_atom)
        p->guid_is_permalink = 1;
    /* The guid is taken as it is ("abc123" is no relative link), unless
     * an explicit xml:base is in force: then a relative id is a link
     * relative to it (an absolute one, "urn:uuid:...", stays). */
    if (!field(p, F_LINK) && guid && p->guid_is_permalink) {
        const char *xbase = p->depth ? p->levels[p->depth - 1].base : NULL;

        feed_buf_reset(&p->f[F_LINK]);
        if (feed_buf_append(&p->f[F_LINK], guid, p->f[F_GUID].len) != 0 ||
            absolutize(p, xbase, &p->f[F_LINK]) != 0) {
            set_error(p, FEED_E_NOMEM, "out of memory");
            return;
        }
        p->have[F_LINK] = 1;
    }
    memset(&e, 0, sizeof(e));
    e.guid = field(p, F_GUID);
    e.link = field(p, F_LINK);
    e.title = field(p, F_TITLE);
    if (e.title == NULL)
        e.title = field(p, F_TITLE2);
    e.author = field(p, F_AUTHOR);
    if (e.author == NULL)
        e.author = field(p, F_AUTHOR2);
    /* RFC 4287 §4.2.1: an entry without an author has its feed's. */
    if (e.author == NULL && (p->is_atom || p->mode == IN_JSON))
        e.author = field(p, F_FEED_AUTHOR);
    e.summary = field(p, F_SUMMARY);
    if (e.summary == NULL)
        e.summary = field(p, F_SUMMARY2);
    e.content = field(p, F_CONTENT);
    e.published = read_date(p, field(p, F_PUBLISHED));
    e.updated = read_date(p, field(p, F_UPDATED));
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
    if (p->fn && p->fn(&e, p->arg) != 0)
        set_error(p, FEED_E_STOPPED, "stopped by the caller");
}

/* ---- capture of character data and markup ---- */

int
feed_fields_error(struct feed_parser *p, enum field f, int rc)
{
    if (rc == FEED_E_TOOBIG) {
        feed_buf_reset(&p->f[f]);
        p->have[f] = 0;
        /* A repeat, read only to be dropped, may be any length. */
        if (f == F_SCRATCH)
            return rc;
        if (f < F_FEED_TITLE) {
            p->entry_big = 1;
        } else {
            p->info.big_feed_fields++;
            feed_fields_sync_info(p);
        }
    } else if (rc != 0) {
        set_error(p, rc, "out of memory");
    }
    return rc;
}

/* Appends to the captured field. Once it is over max_field, nothing more
 * is: feed_cap_end() drops it. */
static int
cap_append(struct feed_parser *p, const char *s, size_t n)
{
    int rc;

    if (p->cap_big)
        return FEED_E_TOOBIG;
    rc = feed_buf_append(&p->f[p->cap], s, n);
    if (rc == FEED_E_TOOBIG)
        p->cap_big = 1;
    else if (rc != 0)
        set_error(p, rc, "out of memory");
    return rc;
}

/* The characters cap_escaped() escapes. */
static const unsigned char xml_special[256] = {
    ['&'] = 1,
    ['<'] = 1,
    ['>'] = 1,
    ['"'] = 1,
};

/* Appends s[0..n) as XML character data (for markup kept in a field):
 * the text between elements must be escaped again to stay markup-safe.
 * One pass: the runs between the characters escaped are copied whole. */
static void
cap_escaped(struct feed_parser *p, const char *s, size_t n)
{
    const char *end = s + n;

    for (;;) {
        const char *run = s, *rep;

        while (s < end && !xml_special[(unsigned char)*s])
            s++;
        if (cap_append(p, run, (size_t)(s - run)) != 0 || s == end)
            return;
        switch (*s++) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        default:
            rep = "&quot;";
            break;
        }
        if (cap_append(p, rep, strlen(rep)) != 0)
            return;
    }
}

void
feed_cap_text(struct feed_parser *p, const char *s, size_t n)
{
    if (p->error || p->cap == F_NONE || p->cap_big)
        return;
    /* In Atom xhtml (and mode="xml"), text between the kept elements is escaped
     * again so that the field stays HTML; anywhere else the text is the field
     * (escaped HTML arrives unescaped: it is the HTML). */
    if (p->cap_mode == M_XHTML)
        cap_escaped(p, s, n);
    else
        (void)cap_append(p, s, n);
}

static void XMLCALL
on_text(void *ud, const char *s, int len)
{
    feed_cap_text(ud, s, (size_t)len);
}

void
feed_cap_start(struct feed_parser *p, enum field f, enum mode m)
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
    p->cap_strip = STRIP_NONE;
    p->cap_b64 = 0;
    p->cap_big = 0;
    feed_buf_reset(&p->f[f]);
    p->have[f] = 1;
}

void
feed_cap_weak(struct feed_parser *p, enum field f, enum mode m)
{
    if (p->have[f] && p->f[f].len > 0)
        f = F_SCRATCH;
    feed_cap_start(p, f, m);
    p->weak[f] = 1;
}

/* 1 when the element is the <div> that wraps Atom xhtml content, which
 * is not part of it (RFC 4287 §3.1.1.3). */
static int
xhtml_wrapper(const struct feed_parser *p, const char *local)
{
    return p->cap_mode == M_XHTML && p->depth == p->cap_depth + 1 &&
           strcmp(local, "div") == 0;
}

void
feed_cap_open_tag(struct feed_parser *p, const char *local, const char **atts)
{
    size_t i;

    if (p->cap_mode == M_TEXT || xhtml_wrapper(p, local))
        return;
    if (cap_append(p, "<", 1) || cap_append(p, local, strlen(local)))
        return;
    for (i = 0; atts[i]; i += 2) {
        if (strncmp(atts[i], "xmlns", 5) == 0)
            continue;
        if (cap_append(p, " ", 1) || cap_append(p, atts[i], strlen(atts[i])) ||
            cap_append(p, "=\"", 2))
            return;
        cap_escaped(p, atts[i + 1], strlen(atts[i + 1]));
        if (cap_append(p, "\"", 1))
            return;
    }
    (void)cap_append(p, ">", 1);
}

static int
name_cmp(const void *key, const void *name)
{
    return strcasecmp(key, *(const char *const *)name);
}

/* 1 for HTML's void elements, which take no end tag. */
static int
html_void(const char *local)
{
    static const char *const names[] = {
        /* Sorted, for bsearch(). */
        "area",  "base", "br",   "col",   "embed",  "hr",    "img",
        "input", "link", "meta", "param", "source", "track", "wbr",
    };

    return bsearch(local, names, COUNT(names), sizeof(names[0]), name_cmp) !=
           NULL;
}

void
feed_cap_close_tag(struct feed_parser *p, const char *local)
{
    /* <img>, <br> and their kind have no end tag in HTML. */
    if (p->cap_mode == M_TEXT || xhtml_wrapper(p, local) || html_void(local))
        return;
    if (cap_append(p, "</", 2) == 0 && cap_append(p, local, strlen(local)) == 0)
        (void)cap_append(p, ">", 1);
}
/* A whole number of at most 9 digits, or -1. */
static long
hint_number(const char *s)
{
    long n = 0;
    int d = 0;

    for (; *s >= '0' && *s <= '9'; s++, d++)
        if (d < 9)
            n = n * 10 + (*s - '0');
    return d > 0 && d <= 9 && *s == '\0' ? n : -1;
}

/* One schedule hint of the feed's own, as its element ends: into
 * p->info (struct feed_info says what each means). What does not read
 * is left out. */
static void
feed_fields_hint(struct feed_parser *p, enum field f, const char *s)
{
    static const char *const days[] = {"sunday",    "monday",   "tuesday",
                                       "wednesday", "thursday", "friday",
                                       "saturday"};
    static const struct {
        const char *name;
        int64_t seconds;
    } periods[] = {{"hourly", 3600},
                   {"daily", 86400},
                   {"weekly", 604800},
                   {"monthly", 2592000},
                   {"yearly", 31536000}};
    long n = hint_number(s);
    size_t i;

    switch (f) {
    case F_FEED_TTL:
        if (n > 0)
            p->info.ttl = (int64_t)(n < 525600 ? n : 525600) * 60;
        break;
    case F_FEED_HOUR:
        if (n >= 0 && n <= 24)
            p->info.skip_hours |= UINT32_C(1) << (n % 24);
        break;
    case F_FEED_DAY:
        for (i = 0; i < sizeof(days) / sizeof(days[0]); i++)
            if (strcasecmp(s, days[i]) == 0)
                p->info.skip_days |= UINT32_C(1) << i;
        break;
    case F_FEED_PERIOD:
        for (i = 0; i < sizeof(periods) / sizeof(periods[0]); i++)
            if (strcasecmp(s, periods[i].name) == 0)
                p->info.update_period = periods[i].seconds;
        break;
    default:
        if (n > 0)
            p->info.update_frequency = n;
        break;
    }
}

void
feed_cap_end(struct feed_parser *p)
{
    struct feed_buf *b = &p->f[p->cap];
    enum field f = p->cap;

    p->cap = F_NONE;
    XML_SetCharacterDataHandler(p->xp, NULL);
    if (p->cap_big) {
        p->cap_big = 0;
        (void)feed_fields_error(p, f, FEED_E_TOOBIG);
        return;
    }
    /* Text that is no base64 (type="application/x-custom" on words) is
     * kept as written; decoded bytes must be UTF-8 like everything else,
     * or go (an image is no text). */
    if (p->cap_b64 && feed_text_base64_decode(b) == 0 &&
        (!feed_utf8_valid(b->data ? b->data : "", b->len) ||
         memchr(b->data ? b->data : "", '\0', b->len) != NULL)) {
        feed_buf_reset(b);
        p->have[f] = 0;
    }
    if (p->cap_strip == STRIP_MARKUP)
        feed_text_strip_markup(b);
    else if (p->cap_strip == STRIP_TAGS)
        feed_text_strip_tags(b);
    feed_text_trim(b);
    if (f >= F_FEED_TTL) {
        feed_fields_hint(p, f, b->data ? b->data : "");
        feed_buf_reset(b);
        p->have[f] = 0;
        return;
    }
    if (f == F_CATEGORY) {
        feed_fields_category(p, b->data ? b->data : "", b->len);
        feed_buf_reset(b);
        p->have[f] = 0;
        return;
    }
    if ((f == F_LINK || f == F_FEED_LINK) && feed_fields_absolutize(p, b) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    /* HTML republished in another feed loses its page: its relative
     * links and images must carry their base with them. */
    if ((f == F_SUMMARY || f == F_SUMMARY2 || f == F_CONTENT) &&
        p->cap_mode != M_TEXT &&
        feed_text_resolve_urls(b, feed_fields_base(p), &p->ub, &p->tmp) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    if (f == F_LINK)
        p->link_rank = 3; /* <link>text</link> is the RSS permalink */
    if (f == F_FEED_TITLE || f == F_FEED_LINK)
        feed_fields_sync_info(p);
}

int
feed_fields_set(struct feed_parser *p, enum field f, const char *s, int escape)
{
    int rc;

    feed_buf_reset(&p->f[f]);
    p->have[f] = 1;
    rc = escape ? feed_buf_xml(&p->f[f], s) : feed_buf_puts(&p->f[f], s);
    if (rc != 0)
        return feed_fields_error(p, f, rc);
    feed_text_trim(&p->f[f]);
    return 0;
}

/* ---- links, enclosures, categories, the image ---- */

/* How good an Atom link is as the entry's page: 1 for rel="alternate"
 * (RFC 4287 §4.2.7.2 makes a link without rel one) of an HTML type or of
 * no type, else 0: any other relation, or an alternate in another format
 * (an Atom or RSS version of the entry), is not where a reader goes. */
static int
link_rank(const char **atts)
{
    const char *rel = attr(atts, "rel"), *type = attr(atts, "type");

    if (rel != NULL && strcmp(rel, "alternate") != 0 &&
        strcmp(rel, "http://www.iana.org/assignments/relation/alternate") != 0)
        return 0;
    return type == NULL || *type == '\0' || strstr(type, "html") != NULL;
}

int
feed_fields_link(struct feed_parser *p, enum field f, const char **atts)
{
    const char *href = attr(atts, "href");
    int rank = link_rank(atts), rc;

    /* Of two links that rank alike, the later one wins, as with any
     * other repeated element. */
    if (href == NULL || rank == 0 || (p->have[f] && rank < p->link_rank))
        return 0;
    feed_buf_reset(&p->f[f]);
    if ((rc = feed_buf_puts(&p->f[f], href)) != 0) {
        (void)feed_fields_error(p, f, rc);
        return 0;
    }
    feed_text_trim(&p->f[f]);
    if (feed_fields_absolutize(p, &p->f[f]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    p->have[f] = 1;
    p->link_rank = rank;
    if (f == F_FEED_LINK)
        feed_fields_sync_info(p);
    return 1;
}

int
feed_fields_feed_rel(struct feed_parser *p, const char **atts)
{
    const char *rel = attr(atts, "rel"), *href = attr(atts, "href");
    enum field f;
    int rc;

    if (rel == NULL)
        return 0;
    if (strcmp(rel, "hub") == 0)
        f = F_FEED_HUB;
    else if (strcmp(rel, "self") == 0)
        f = F_FEED_SELF;
    else
        return 0;
    if (href == NULL || p->have[f])
        return 1;
    feed_buf_reset(&p->f[f]);
    if ((rc = feed_buf_puts(&p->f[f], href)) != 0) {
        (void)feed_fields_error(p, f, rc);
        return 1;
    }
    feed_text_trim(&p->f[f]);
    if (feed_fields_absolutize(p, &p->f[f]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    p->have[f] = 1;
    feed_fields_sync_info(p);
    return 1;
}

/* url, trimmed and resolved against the base in force, into p->tmp. */
static int
resolve_into_tmp(struct feed_parser *p, const char *url, size_t n)
{
    const char *base = feed_fields_base(p);
    struct feed_buf abs;
    int rc;

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
    feed_buf_init(&abs, 0);
    rc = feed_url_resolve_cached(&p->ub, base, p->tmp.data, &abs);
    if (rc == 0 && abs.len > 0) {
        feed_buf_free(&p->tmp);
        p->tmp = abs;
        return 0;
    }
    feed_buf_free(&abs);
    return rc == FEED_E_INVAL ? 0 : rc;
}

/* The length of an enclosure: a whole non-negative number, or -1. */
static int64_t
enclosure_length(const char *s)
{
    char *end;
    long long v;

    if (s == NULL)
        return -1;
    v = strtoll(s, &end, 10);
    return end != s && *end == '\0' && v >= 0 ? v : -1;
}

void
feed_fields_enclosure(struct feed_parser *p, const char *url, const char *type,
                      const char *length)
{
    struct pending_enclosure *e;
    size_t i;

    if (url == NULL || p->nenc == MAX_ENCLOSURES ||
        resolve_into_tmp(p, url, strlen(url)) != 0 || p->tmp.len == 0)
        return;
    if (p->tmp.len > p->lim.max_field ||
        (type && strlen(type) > p->lim.max_field)) {
        p->entry_big = 1;
        return;
    }
    /* media:content and <enclosure> often name the same file. */
    for (i = 0; i < p->nenc; i++)
        if (p->enc[i].url_len == p->tmp.len &&
            memcmp(p->arena.data + p->enc[i].url, p->tmp.data, p->tmp.len) ==
                0) {
            if (p->enc[i].type == NONE && type && *type)
                p->enc[i].type = arena_put(p, type, strlen(type));
            return;
        }
    e = &p->enc[p->nenc];
    if ((e->url = arena_put(p, p->tmp.data, p->tmp.len)) == NONE)
        return;
    e->url_len = p->tmp.len;
    e->type = type && *type ? arena_put(p, type, strlen(type)) : NONE;
    e->length = enclosure_length(length);
    p->nenc++;
}

void
feed_fields_category(struct feed_parser *p, const char *s, size_t n)
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
    if (n > p->lim.max_field) {
        p->entry_big = 1;
        return;
    }
    /* At most MAX_CATEGORIES compared, each by its length first (a
     * category from JSON may hold a NUL: it ends there). */
    for (i = 0; i < p->ncat; i++)
        if (p->cat_len[i] == n && memcmp(p->arena.data + p->cat[i], s, n) == 0)
            return;
    if ((p->cat[p->ncat] = arena_put(p, s, n)) == NONE)
        return;
    p->cat_len[p->ncat] = strlen(p->arena.data + p->cat[p->ncat]);
    p->ncat++;
}

void
feed_fields_image(struct feed_parser *p, const char *url)
{
    if (url == NULL || p->image != NONE ||
        resolve_into_tmp(p, url, strlen(url)) != 0 || p->tmp.len == 0)
        return;
    if (p->tmp.len > p->lim.max_field) {
        p->entry_big = 1;
        return;
    }
    p->image = arena_put(p, p->tmp.data, p->tmp.len);
}

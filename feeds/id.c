/* feeds/id.c - stable entry IDs (DESIGN.md "Stable IDs"). The ID is a
 * 64-bit XXH3 hash of a key; the key is what identifies the article:
 *
 *   slug:HOST/ARTICLE-ID   the article ID at the end of the link
 *   url://HOST/PATH?Q      a URL-shaped guid or the link, normalized
 *   guid:FEED\0GUID        any other guid, scoped to its feed
 *   content:FEED\0...      title, date and content, as a last resort
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

/* The state of XXH3 on the stack: a hash per entry, no malloc. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"
#include "feeds/url.h"

/* 1 when tok[0..n) reads as a date, YYYYMMDD: a day's worth of articles
 * shares that, so it is no article ID. */
static int
looks_like_date(const char *tok, size_t n)
{
    int y, m, d;

    if (n != 8)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)tok[i]))
            return 0;
    y = (tok[0] - '0') * 1000 + (tok[1] - '0') * 100 + (tok[2] - '0') * 10 +
        (tok[3] - '0');
    m = (tok[4] - '0') * 10 + (tok[5] - '0');
    d = (tok[6] - '0') * 10 + (tok[7] - '0');
    return y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* 1 when tok[0..n) is an article identifier a publisher keeps while it
 * rewrites the words of a slug: "a85146", "1234567", a hex hash. It must
 * be mostly digits (or all hex) so that a word ("update", "2024") is never
 * taken for one: two articles sharing a word would become one. */
static int
is_article_id(const char *tok, size_t n)
{
    size_t digits = 0, hex = 0, i;

    if (n < 5 || n > 40)
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)tok[i];

        if (!isalnum(c))
            return 0;
        digits += isdigit(c) != 0;
        hex += isxdigit(c) != 0;
    }
    if (looks_like_date(tok, n))
        return 0;
    if (digits >= 4 && digits * 2 >= n)
        return 1;
    /* A hash (Medium and others): all hex, long, some digits. */
    return hex == n && n >= 8 && digits >= 2;
}

/* Query parameters whose numeric value is the article ("?p=123" is a
 * WordPress post). */
static int
query_id(const char *q, size_t nq, const char **val, size_t *nval, size_t *nkey)
{
    static const char *const keys[] = {
        "p",         "id",       "post",    "story",      "article",
        "articleid", "story_id", "storyid", "article_id", "postid",
        "newsid",    "nid",      "sid",     "aid"};
    const char *end = q + nq;

    while (q < end) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        size_t n = amp ? (size_t)(amp - q) : (size_t)(end - q);
        const char *eq = memchr(q, '=', n);

        if (eq && eq + 1 < q + n) {
            size_t k = (size_t)(eq - q), v = n - k - 1, i;

            for (i = 0; i < v && isdigit((unsigned char)eq[1 + i]); i++)
                ;
            if (i == v) {
                for (size_t j = 0; j < sizeof(keys) / sizeof(keys[0]); j++)
                    if (strlen(keys[j]) == k &&
                        strncasecmp(q, keys[j], k) == 0) {
                        *val = eq + 1;
                        *nval = v;
                        *nkey = k;
                        return 1;
                    }
            }
        }
        q += n + 1;
    }
    return 0;
}

int
feed_slug_key(const char *link, struct feed_buf *out)
{
    struct feed_buf key;
    const char *path, *seg, *end, *q, *tok, *dot;
    size_t nhost, n;
    int rc = FEED_E_INVAL;

    feed_buf_init(&key, 0);
    /* Normalize first: the host lower-cased, tracking parameters gone. */
    if (link == NULL || feed_url_key(link, &key) != 0)
        goto done;
    path = key.data + 2 + strcspn(key.data + 2, "/");
    nhost = (size_t)(path - key.data) - 2;
    q = strchr(path, '?');
    end = q ? q : path + strlen(path);

    /* "?p=123" */
    if (q) {
        const char *val;
        size_t nval, nk;

        if (query_id(q + 1, strlen(q + 1), &val, &nval, &nk)) {
            if ((rc = feed_buf_append(out, key.data + 2, nhost)) == 0 &&
                (rc = feed_buf_append(out, "?", 1)) == 0)
                rc = feed_buf_append(out, val - nk - 1, nk + 1 + nval);
            goto done;
        }
    }
    /* The last path segment, without a trailing '/' or an extension. */
    while (end > path && end[-1] == '/')
        end--;
    for (seg = end; seg > path && seg[-1] != '/'; seg--)
        ;
    dot = memchr(seg, '.', (size_t)(end - seg));
    if (dot)
        end = dot;
    n = (size_t)(end - seg);
    /* "...-a85146": the token after the final hyphen; "/1234567/": the
     * whole segment. */
    for (tok = end; tok > seg && tok[-1] != '-' && tok[-1] != '_'; tok--)
        ;
    if (is_article_id(tok, (size_t)(end - tok)) &&
        (tok > seg || n == (size_t)(end - tok))) {
        /* A whole segment without a hyphen must be all digits: "/about/"
         * or "/abcdef12/" names a page, not a numbered article. */
        if (tok == seg) {
            for (const char *c = tok; c < end; c++)
                if (!isdigit((unsigned char)*c))
                    goto done;
        }
        if ((rc = feed_buf_append(out, key.data + 2, nhost)) == 0 &&
            (rc = feed_buf_append(out, "/", 1)) == 0)
            rc = feed_buf_append(out, tok, (size_t)(end - tok));
    }
done:
    feed_buf_free(&key);
    return rc;
}

/* The key of value: "url:" and its normalized form when it is an http(s)
 * URL (global: the same URL in any feed is one article), else
 * "TAG:FEED\0value" (scoped to its feed). */
static int
url_or_scoped_key(struct feed_buf *key, const char *tag, const char *feed,
                  const char *value)
{
    int rc;

    if ((rc = feed_buf_puts(key, "url:")) != 0)
        return rc;
    if (feed_url_key(value, key) == 0)
        return 0;
    feed_buf_reset(key);
    if ((rc = feed_buf_puts(key, tag)) != 0 ||
        (rc = feed_buf_append(key, ":", 1)) != 0 ||
        (rc = feed_buf_puts(key, feed ? feed : "")) != 0 ||
        (rc = feed_buf_append(key, "", 1)) != 0)
        return rc;
    return feed_buf_puts(key, value);
}

static int
has_text(const char *s)
{
    return s && *s;
}

/* Builds the key of e under rule into key; the rule used, or a negative
 * code when rule does not apply to e. */
static int
make_key(const struct feed_entry *e, const char *feed, enum feed_id_rule rule,
         struct feed_buf *key)
{
    char date[FEED_DATE_LEN + 1];
    int rc;

    switch (rule) {
    case FEED_ID_SLUG:
        if ((rc = feed_buf_puts(key, "slug:")) != 0)
            return rc;
        return feed_slug_key(e->link, key) == 0 ? FEED_ID_SLUG : FEED_E_INVAL;
    case FEED_ID_GUID:
        if (!has_text(e->guid))
            return FEED_E_INVAL;
        /* A guid that is a URL is as global as a link: http and https
         * spellings of it are one. */
        rc = url_or_scoped_key(key, "guid", feed, e->guid);
        return rc ? rc : FEED_ID_GUID;
    case FEED_ID_LINK:
        if (!has_text(e->link))
            return FEED_E_INVAL;
        rc = url_or_scoped_key(key, "link", feed, e->link);
        return rc ? rc : FEED_ID_LINK;
    case FEED_ID_CONTENT:
    default:
        if ((rc = feed_buf_printf(key, "content:%s", feed ? feed : "")) ||
            (rc = feed_buf_append(key, "", 1)) != 0 ||
            (rc = feed_buf_puts(key, e->title ? e->title : "")) != 0 ||
            (rc = feed_buf_append(key, "", 1)) != 0)
            return rc;
        if (e->published != FEED_TIME_NONE)
            rc = feed_buf_puts(key, feed_date_format(e->published, date));
        if (rc == 0)
            rc = feed_buf_append(key, "", 1);
        if (rc == 0)
            rc = feed_buf_puts(key, e->content   ? e->content
                                    : e->summary ? e->summary
                                                 : "");
        return rc ? rc : FEED_ID_CONTENT;
    }
}

void
feed_id_format(uint64_t h, char id[FEED_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < FEED_ID_LEN; i++)
        id[i] = hex[(h >> (60 - 4 * i)) & 15];
    id[FEED_ID_LEN] = '\0';
}

int
feed_id_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int d;

    if (s == NULL)
        return FEED_E_INVAL;
    for (size_t i = 0; i < FEED_ID_LEN; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else if (s[i] >= 'A' && s[i] <= 'F')
            d = s[i] - 'A' + 10;
        else
            return FEED_E_INVAL;
        v = v << 4 | (uint64_t)d;
    }
    if (s[FEED_ID_LEN] != '\0')
        return FEED_E_INVAL;
    *out = v;
    return 0;
}

/* The ID of key[0..n): XXH3-64, in hex. */
static void
id_hex(const void *key, size_t n, char id[FEED_ID_LEN + 1])
{
    feed_id_format(XXH3_64bits(key, n), id);
}

int
feed_entry_id_pattern(const struct feed_entry *e, const regex_t *re,
                      char id[FEED_ID_LEN + 1])
{
    struct feed_buf url, key;
    regmatch_t m[2];
    const char *host;
    size_t nhost;
    int rc = FEED_E_INVAL;

    if (e->link == NULL)
        return FEED_E_INVAL;
    feed_buf_init(&url, 0);
    feed_buf_init(&key, 0);
    /* Matched against the normalized link: no tracking parameters, the
     * host in lower case. */
    if (feed_url_key(e->link, &url) != 0)
        goto done;
    if (regexec(re, url.data, 2, m, 0) != 0)
        goto done;
    if (m[1].rm_so < 0)
        m[1] = m[0];
    if (m[1].rm_eo <= m[1].rm_so)
        goto done;
    host = url.data + 2;
    nhost = strcspn(host, "/?");
    rc = FEED_E_NOMEM;
    if (feed_buf_puts(&key, "slug:") != 0 ||
        feed_buf_append(&key, host, nhost) != 0 ||
        feed_buf_append(&key, "/", 1) != 0 ||
        feed_buf_append(&key, url.data + m[1].rm_so,
                        (size_t)(m[1].rm_eo - m[1].rm_so)) != 0)
        goto done;
    id_hex(key.data, key.len, id);
    rc = FEED_ID_SLUG;
done:
    feed_buf_free(&url);
    feed_buf_free(&key);
    return rc;
}

void
feed_id_derive(const char *base, char kind, const char *value,
               char id[FEED_ID_LEN + 1])
{
    XXH3_state_t st;

    XXH3_64bits_reset(&st);
    XXH3_64bits_update(&st, "dup:", 4);
    XXH3_64bits_update(&st, base, strlen(base) + 1);
    XXH3_64bits_update(&st, &kind, 1);
    if (value)
        XXH3_64bits_update(&st, value, strlen(value));
    feed_id_format(XXH3_64bits_digest(&st), id);
}

int
feed_entry_id(const struct feed_entry *e, const char *feed,
              enum feed_id_rule rule, char id[FEED_ID_LEN + 1])
{
    static const enum feed_id_rule order[] = {FEED_ID_SLUG, FEED_ID_GUID,
                                              FEED_ID_LINK, FEED_ID_CONTENT};
    struct feed_buf key;
    size_t i;
    int used = FEED_E_INVAL;

    feed_buf_init(&key, 0);
    if (rule != FEED_ID_AUTO)
        used = make_key(e, feed, rule, &key);
    for (i = 0; used == FEED_E_INVAL && i < 4; i++) {
        feed_buf_reset(&key);
        used = make_key(e, feed, order[i], &key);
    }
    if (used < 0) {
        feed_buf_free(&key);
        return used;
    }
    id_hex(key.data, key.len, id);
    feed_buf_free(&key);
    return used;
}

/* Adds s (or a marker for none) and a separator to the hash state. */
static void
hash_str(XXH3_state_t *st, const char *s)
{
    static const char none[] = "\xff";

    if (s)
        XXH3_64bits_update(st, s, strlen(s) + 1);
    else
        XXH3_64bits_update(st, none, sizeof(none));
}

static void
hash_int(XXH3_state_t *st, int64_t v)
{
    XXH3_64bits_update(st, &v, sizeof(v));
}

uint64_t
feed_entry_hash(const struct feed_entry *e)
{
    XXH3_state_t st;
    size_t i;

    /* The guid is the entry's name, not its content: it is left out, so
     * that a guid's http -> https flip alone is no edit. */
    XXH3_64bits_reset(&st);
    hash_str(&st, e->title);
    hash_str(&st, e->link);
    hash_str(&st, e->author);
    hash_str(&st, e->summary);
    hash_str(&st, e->content);
    hash_str(&st, e->image);
    hash_int(&st, e->published);
    hash_int(&st, e->updated);
    for (i = 0; i < e->nenclosures; i++) {
        hash_str(&st, e->enclosures[i].url);
        hash_str(&st, e->enclosures[i].type);
        hash_int(&st, e->enclosures[i].length);
    }
    hash_int(&st, (int64_t)e->nenclosures);
    for (i = 0; i < e->ncategories; i++)
        hash_str(&st, e->categories[i]);
    hash_int(&st, (int64_t)e->ncategories);
    return XXH3_64bits_digest(&st);
}

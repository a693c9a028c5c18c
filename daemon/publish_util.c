/* daemon/publish_util.c - the publisher's helpers (publish_int.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feeds/sanitize.h"
#include "publish_int.h"

uint64_t
publish_digest(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    while (n--)
        h = (h ^ *c++) * UINT64_C(0x100000001b3);
    return h;
}

uint64_t
publish_digest_str(uint64_t h, const char *str)
{
    h = publish_digest(h, str, strlen(str));
    return (h ^ 0xff) * UINT64_C(0x100000001b3);
}

uint64_t
publish_digest_u64(uint64_t h, uint64_t v)
{
    unsigned char b[8];
    size_t i;

    for (i = 0; i < 8; i++)
        b[i] = (unsigned char)(v >> (8 * i));
    return publish_digest(h, b, sizeof(b));
}

/* 1 for a listen host that stands for every address of the machine. */
static int
wildcard(const char *host)
{
    return *host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
           strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0;
}

void
publish_base_url(const struct config *cfg, char base[PUBLISH_BASE_MAX])
{
    const char *host = cfg->listen_host;
    char name[256];
    size_t n;

    if (cfg->public_url != NULL) {
        n = strlen(cfg->public_url);
        snprintf(base, PUBLISH_BASE_MAX, "%s%s", cfg->public_url,
                 n > 0 && cfg->public_url[n - 1] == '/' ? "" : "/");
        return;
    }
    if (wildcard(host)) {
        if (gethostname(name, sizeof(name)) != 0 || name[0] == '\0')
            snprintf(name, sizeof(name), "localhost");
        name[sizeof(name) - 1] = '\0';
        host = name;
    }
    snprintf(base, PUBLISH_BASE_MAX, "%s://%s%s%s:%d/",
             cfg->tls_cert != NULL ? "https" : "http",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
             cfg->listen_port);
}

int
publish_collect(const struct feed_item *it, void *arg)
{
    struct publish_items *c = arg;
    size_t cap;
    void *p;

    if (c->n == c->cap) {
        cap = c->cap ? 2 * c->cap : 64;
        if ((p = realloc(c->items, cap * sizeof(*c->items))) == NULL)
            return -ENOMEM;
        c->items = p;
        c->cap = cap;
    }
    if ((c->items[c->n] = feed_item_copy(it)) == NULL)
        return -ENOMEM;
    c->n++;
    return 0;
}

void
publish_items_free(struct publish_items *c)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        free(c->items[i]);
    free(c->items);
    memset(c, 0, sizeof(*c));
}

/* One HTML field of an item made safe to show, into b, and the item
 * pointed at it. */
static int
sanitize_field(const char **field, struct feed_buf *b)
{
    feed_buf_init(b, 0);
    if (*field == NULL)
        return 0;
    if (feed_sanitize_html(b, *field, strlen(*field)) != 0 ||
        feed_buf_append(b, "", 0) != 0)
        return -ENOMEM;
    *field = feed_buf_str(b);
    return 0;
}

int
publish_prepare(const struct publish_items *c, struct publish_cache *cache,
                int keep, struct feed_item **flat, struct feed_buf **safe)
{
    struct feed_item *items = calloc(c->n ? c->n : 1, sizeof(*items));
    struct feed_buf *bufs = calloc(2 * c->n + 1, sizeof(*bufs));
    size_t i;
    int rc = 0;

    if (items == NULL || bufs == NULL) {
        free(items);
        free(bufs);
        return -ENOMEM;
    }
    for (i = 0; i < c->n; i++)
        items[i] = *c->items[i];
    for (i = 0; i < c->n && rc == 0; i++) {
        struct feed_entry *e = &items[i].entry;

        if (publish_cache_get(cache, &items[i], keep, &e->summary, &e->content))
            continue;
        if ((rc = sanitize_field(&e->summary, &bufs[2 * i])) == 0 &&
            (rc = sanitize_field(&e->content, &bufs[2 * i + 1])) == 0 &&
            cache != NULL && keep)
            /* The strings move to the cache, where the item points. */
            (void)publish_cache_put(cache, &items[i], &bufs[2 * i],
                                    &bufs[2 * i + 1]);
    }
    if (rc != 0) {
        publish_prepared_free(items, bufs, c->n);
        return rc;
    }
    *flat = items;
    *safe = bufs;
    return 0;
}

void
publish_prepared_free(struct feed_item *flat, struct feed_buf *safe, size_t n)
{
    size_t i;

    if (safe != NULL)
        for (i = 0; i < 2 * n; i++)
            feed_buf_free(&safe[i]);
    free(safe);
    free(flat);
}

int64_t
publish_updated(const struct feed_item *items, size_t n)
{
    int64_t updated = n ? feed_item_date(&items[0]) : 0, t;
    size_t i;

    for (i = 0; i < n; i++) {
        t = feed_item_date(&items[i]);
        if (items[i].changed != FEED_TIME_NONE && items[i].changed > t)
            t = items[i].changed;
        if (t > updated)
            updated = t;
    }
    return updated;
}

int
publish_file_same(const char *path, const void *data, size_t len)
{
    const char *p = data;
    char buf[65536];
    size_t got, at = 0;
    int same = 1;
    FILE *fp;

    if ((fp = fopen(path, "rb")) == NULL)
        return 0;
    while (same && (got = fread(buf, 1, sizeof(buf), fp)) > 0) {
        same = got <= len - at && memcmp(buf, p + at, got) == 0;
        at += got;
    }
    same = same && !ferror(fp) && at == len;
    fclose(fp);
    return same;
}

char *
publish_path(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

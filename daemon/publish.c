/* daemon/publish.c - the merged outputs: the newest max_items entries of
 * every feed, written atomically under state_dir/public/ and handed to the
 * HTTP server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "feeds/write.h"
#include "httpd.h"
#include "log.h"

/* How long after a poll brings news the outputs are rewritten: polls that
 * end close together share one rewrite. */
#define PUBLISH_DELAY_MS 500

struct collect {
    struct feed_item **items;
    size_t n, cap;
};

/* store_recent() lends each item only for the call: keep a copy. */
static int
collect_item(const struct feed_item *it, void *arg)
{
    struct collect *c = arg;

    if (c->n == c->cap)
        return -ENOMEM;
    if ((c->items[c->n] = feed_item_copy(it)) == NULL)
        return -ENOMEM;
    c->n++;
    return 0;
}

static int
write_file(const char *dir, const char *name, const struct feed_buf *b)
{
    char *path = path_join(dir, name);
    int rc;

    if (path == NULL)
        return -ENOMEM;
    if ((rc = store_file_replace(path, b->data, b->len)) != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", path);
    }
    free(path);
    return rc;
}

int
publish(struct daemon *d)
{
    struct collect c;
    struct feed_item *items = NULL;
    struct feed_meta meta;
    struct feed_buf out;
    char self[300];
    const char *host = d->cfg->listen_host;
    size_t i, n = d->cfg->max_items;
    int rc;

    memset(&c, 0, sizeof(c));
    feed_buf_init(&out, 0);
    c.cap = n;
    c.items = calloc(n ? n : 1, sizeof(*c.items));
    items = calloc(n ? n : 1, sizeof(*items));
    if (c.items == NULL || items == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = store_recent(d->store, n, collect_item, &c)) != 0)
        goto fail;
    for (i = 0; i < c.n; i++)
        items[i] = *c.items[i];
    snprintf(self, sizeof(self), "http://%s%s%s:%d/feed.atom",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
             d->cfg->listen_port);
    meta.title = d->cfg->title;
    meta.self_url = self;
    meta.id = self;
    /* From the entries alone, so that the same entries make the same
     * bytes (and an empty river a fixed date). */
    meta.updated = c.n ? feed_item_date(&items[0]) : 0;
    for (i = 0; i < c.n; i++) {
        int64_t t = feed_item_date(&items[i]);

        if (items[i].changed != FEED_TIME_NONE && items[i].changed > t)
            t = items[i].changed;
        if (t > meta.updated)
            meta.updated = t;
    }
    if (feed_write_atom(&out, &meta, items, c.n) != 0) {
        rc = -ENOMEM;
        goto fail;
    }
    /* Unchanged bytes: no write, and readers' validators stay valid. */
    if (d->published.data && out.len == d->published.len &&
        memcmp(out.data, d->published.data, out.len) == 0) {
        rc = 0;
        if (d->httpd && !d->served) {
            /* A restart with the same entries: serve what is there. */
            if ((rc = httpd_set(d->httpd, "/feed.atom",
                                "application/atom+xml; charset=utf-8",
                                out.data, out.len, now_s())) != 0)
                goto fail;
            d->served = 1;
        }
        goto done;
    }
    if ((rc = write_file(d->public_dir, "feed.atom", &out)) != 0)
        goto done;
    if (d->httpd &&
        (rc = httpd_set(d->httpd, "/feed.atom",
                        "application/atom+xml; charset=utf-8", out.data,
                        out.len, now_s())) != 0)
        goto fail;
    d->served = d->httpd != NULL;
    log_debug("publish: %zu entries in feed.atom", c.n);
    feed_buf_free(&d->published);
    d->published = out;
    feed_buf_init(&out, 0);
    goto done;
fail:
    errno = -rc;
    log_warn("publish");
done:
    for (i = 0; i < c.n; i++)
        free(c.items[i]);
    free(c.items);
    free(items);
    feed_buf_free(&out);
    return rc;
}

void
publish_load(struct daemon *d)
{
    char *path = path_join(d->public_dir, "feed.atom"), buf[65536];
    FILE *fp;
    size_t got;

    if (path == NULL)
        return;
    if ((fp = fopen(path, "rb")) != NULL) {
        feed_buf_free(&d->published);
        while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
            if (feed_buf_append(&d->published, buf, got) != 0) {
                feed_buf_free(&d->published);
                break;
            }
        fclose(fp);
    }
    free(path);
}

static void
on_publish_timer(uv_timer_t *t)
{
    (void)publish(t->data);
}

void
publish_soon(struct daemon *d)
{
    if (d->once || d->stopping)
        return;
    if (!uv_is_active((uv_handle_t *)&d->publish_timer))
        uv_timer_start(&d->publish_timer, on_publish_timer, PUBLISH_DELAY_MS,
                       0);
}

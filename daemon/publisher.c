/* daemon/publisher.c - the merged outputs (publisher.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "feeds/buf.h"
#include "feeds/sanitize.h"
#include "feeds/write.h"
#include "log.h"
#include "publisher.h"

/* How long after a poll brings news the outputs are rewritten: polls that
 * end close together share one rewrite. */
#define PUBLISH_DELAY_MS 500
#define ATOM_TYPE "application/atom+xml; charset=utf-8"
/* Changes when the same entries and settings make other bytes (a writer
 * or the sanitizer changed): part of the stamp. */
#define OUTPUT_FORMAT "2"

struct publisher {
    struct store *store;
    const struct config *cfg;
    struct httpd *httpd;
    uv_timer_t timer;
    char *path;                /* state_dir/public/feed.atom */
    char *stamp_path;          /* state_dir/public/.feed.atom.stamp */
    struct feed_buf published; /* the last feed.atom made, once loaded */
    int loaded;                /* published holds it (or there is none) */
    uint64_t stamp;            /* what it was made from (stamp()), or 0 */
    uint64_t stamp_len;        /* and its length */
    int unwritten;             /* the file does not hold it yet */
    int served;                /* the HTTP server has it */
    int closing;
    publisher_done_fn *done;
    void *done_arg;
};

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

/* The feed's own URL, from the listen address. */
static void
self_url(const struct publisher *pub, char self[300])
{
    const char *host = pub->cfg->listen_host;

    snprintf(self, 300, "http://%s%s%s:%d/feed.atom",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
             pub->cfg->listen_port);
}

/* h with the bytes of str folded in (FNV-1a), and its end. */
static uint64_t
stamp_str(uint64_t h, const char *str)
{
    for (; *str != '\0'; str++)
        h = (h ^ (unsigned char)*str) * UINT64_C(0x100000001b3);
    return (h ^ 0xff) * UINT64_C(0x100000001b3);
}

/* What feed.atom would be made from now: the store's files
 * (store_stamp()), the title, the feed's own URL, max_items and the
 * version of feedd (whose writer may change). The same value means the
 * same bytes; 0 when it cannot be known. */
static uint64_t
stamp(const struct publisher *pub)
{
    uint64_t rs = store_stamp(pub->store);
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    char self[300];
    size_t i;

    if (rs == 0)
        return 0;
    self_url(pub, self);
    h = stamp_str(h, FEEDD_VERSION "/" OUTPUT_FORMAT);
    h = stamp_str(h, pub->cfg->title != NULL ? pub->cfg->title : "");
    h = stamp_str(h, self);
    for (i = 0; i < 8; i++) {
        h = (h ^ ((uint64_t)pub->cfg->max_items >> (8 * i) & 0xff)) *
            UINT64_C(0x100000001b3);
        h = (h ^ (rs >> (8 * i) & 0xff)) * UINT64_C(0x100000001b3);
    }
    return h != 0 ? h : 1;
}

/* The stamp and length of the feed.atom a previous run wrote into
 * pub->stamp and pub->stamp_len; 0 when there is none (or it does not
 * read). */
static void
stamp_load(struct publisher *pub)
{
    char line[80];
    uint64_t v = 0, len = 0;
    FILE *fp;

    if ((fp = fopen(pub->stamp_path, "r")) == NULL)
        return;
    if (fgets(line, sizeof(line), fp) == NULL ||
        sscanf(line, "feedd feed.atom %" SCNx64 " %" SCNu64, &v, &len) != 2)
        v = len = 0;
    fclose(fp);
    pub->stamp = v;
    pub->stamp_len = len;
}

/* Records that feed.atom, as written, was made from st. A failure only
 * costs the next start a rebuild of the same bytes: logged at debug. */
static void
stamp_save(struct publisher *pub, uint64_t st)
{
    char line[80];
    int n, rc;

    if (st == pub->stamp && pub->published.len == pub->stamp_len)
        return;
    pub->stamp = st;
    pub->stamp_len = pub->published.len;
    n = snprintf(line, sizeof(line), "feedd feed.atom %016" PRIx64 " %zu\n", st,
                 pub->published.len);
    if ((rc = store_file_replace(pub->stamp_path, line, (size_t)n)) != 0) {
        errno = -rc;
        log_debug("publish: cannot write %s: %s", pub->stamp_path,
                  strerror(errno));
    }
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

/* The merged feed of items into out, their HTML sanitized first: 0 or
 * -ENOMEM. */
static int
render(const struct publisher *pub, struct feed_item *items, size_t n,
       struct feed_buf *out)
{
    struct feed_meta meta;
    struct feed_buf *safe = calloc(2 * n + 1, sizeof(*safe));
    char self[300];
    size_t i;
    int rc = 0;

    if (safe == NULL)
        return -ENOMEM;
    memset(&meta, 0, sizeof(meta));
    for (i = 0; i < n && rc == 0; i++)
        if ((rc = sanitize_field(&items[i].entry.summary, &safe[2 * i])) == 0)
            rc = sanitize_field(&items[i].entry.content, &safe[2 * i + 1]);
    self_url(pub, self);
    meta.title = pub->cfg->title;
    meta.self_url = self;
    meta.id = self;
    /* From the entries alone, so that the same entries make the same
     * bytes (and an empty river a fixed date). */
    meta.updated = n ? feed_item_date(&items[0]) : 0;
    for (i = 0; i < n; i++) {
        int64_t t = feed_item_date(&items[i]);

        if (items[i].changed != FEED_TIME_NONE && items[i].changed > t)
            t = items[i].changed;
        if (t > meta.updated)
            meta.updated = t;
    }
    if (rc == 0 && feed_write_atom(out, &meta, items, n) != 0)
        rc = -ENOMEM;
    for (i = 0; i < 2 * n; i++)
        feed_buf_free(&safe[i]);
    free(safe);
    return rc;
}

static int
serve(struct publisher *pub, const struct feed_buf *b)
{
    int rc;

    if (pub->httpd == NULL)
        return 0;
    rc = httpd_set(pub->httpd, "/feed.atom", ATOM_TYPE, b->data, b->len,
                   (int64_t)time(NULL));
    if (rc == 0)
        pub->served = 1;
    return rc;
}

/* Writes the last feed.atom made to its file: 0, or a negative errno
 * (logged; the next publish tries again). */
static int
write_file(struct publisher *pub)
{
    int rc =
        store_file_replace(pub->path, pub->published.data, pub->published.len);

    pub->unwritten = rc != 0;
    if (rc != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", pub->path);
    }
    return rc;
}

/* The feed.atom a previous run wrote, if any, as the last one written;
 * read once, when first needed. */
static void
load(struct publisher *pub)
{
    char buf[65536];
    FILE *fp;
    size_t got;

    if (pub->loaded)
        return;
    pub->loaded = 1;
    if ((fp = fopen(pub->path, "rb")) == NULL)
        return;
    while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
        if (feed_buf_append(&pub->published, buf, got) != 0) {
            feed_buf_free(&pub->published);
            break;
        }
    fclose(fp);
}

/* 1 when the feed.atom in place is the one that stamp st and the settings
 * make: its stamp is st and it is there, whole. The file is read only
 * when the HTTP server is to get it. */
static int
current(struct publisher *pub, uint64_t st)
{
    struct stat sb;

    if (st == 0 || st != pub->stamp || pub->unwritten)
        return 0;
    if (!pub->loaded && pub->httpd != NULL && !pub->served)
        load(pub);
    if (pub->loaded)
        return pub->published.data != NULL &&
               pub->published.len == pub->stamp_len;
    return stat(pub->path, &sb) == 0 && (uint64_t)sb.st_size == pub->stamp_len;
}

int
publisher_publish(struct publisher *pub)
{
    struct collect c;
    struct feed_item *items;
    struct feed_buf out;
    size_t i, n = pub->cfg->max_items;
    uint64_t st = stamp(pub);
    int rc = 0;

    memset(&c, 0, sizeof(c));
    feed_buf_init(&out, 0);
    items = NULL;
    /* The store's files and the settings are as they were when the
     * feed.atom in place was made (by this run or a previous one): the
     * same bytes, so nothing is read back, or even loaded. */
    if (current(pub, st)) {
        if (!pub->served && (rc = serve(pub, &pub->published)) != 0) {
            errno = -rc;
            log_warn("publish: cannot serve feed.atom");
        }
        goto out;
    }
    c.cap = n;
    c.items = calloc(n ? n : 1, sizeof(*c.items));
    items = calloc(n ? n : 1, sizeof(*items));
    if (c.items == NULL || items == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = store_recent(pub->store, n, collect_item, &c)) != 0)
        goto fail;
    for (i = 0; i < c.n; i++)
        items[i] = *c.items[i];
    if ((rc = render(pub, items, c.n, &out)) != 0)
        goto fail;
    load(pub);
    /* Unchanged bytes: no write, and readers' validators stay valid; a
     * restart with the same entries serves what is there. */
    if (pub->published.data == NULL || out.len != pub->published.len ||
        memcmp(out.data, pub->published.data, out.len) != 0) {
        feed_buf_free(&pub->published);
        pub->published = out;
        feed_buf_init(&out, 0);
        pub->served = 0;
        pub->unwritten = 1;
    }
    /* Readers get what was committed even when the file cannot be
     * written (a full disk); a file not written is tried again at the
     * next publish. */
    if (!pub->served && (rc = serve(pub, &pub->published)) != 0) {
        errno = -rc;
        log_warn("publish: cannot serve feed.atom");
    }
    if (pub->unwritten) {
        int wrc = write_file(pub);

        if (wrc == 0)
            log_debug("publish: %zu entries in feed.atom", c.n);
        else if (rc == 0)
            rc = wrc;
    }
    /* The files as they are now that it is made: the load of the items
     * may have rebuilt items/index. */
    if (!pub->unwritten && (st = stamp(pub)) != 0)
        stamp_save(pub, st);
    goto out;
fail:
    if (rc == -ENOMEM) {
        log_warnx("publish: out of memory");
    } else {
        errno = -rc;
        log_warn("publish");
    }
out:
    for (i = 0; i < c.n; i++)
        free(c.items[i]);
    free(c.items);
    free(items);
    feed_buf_free(&out);
    if (pub->done != NULL)
        pub->done(pub->done_arg);
    return rc;
}

static void
on_timer(uv_timer_t *t)
{
    (void)publisher_publish(t->data);
}

void
publisher_soon(struct publisher *pub)
{
    int rc;

    if (pub->closing || uv_is_active((uv_handle_t *)&pub->timer))
        return;
    if ((rc = uv_timer_start(&pub->timer, on_timer, PUBLISH_DELAY_MS, 0)) !=
        0) {
        log_warnx("publish: cannot arm its timer (%s): publishing now",
                  uv_strerror(rc));
        (void)publisher_publish(pub);
    }
}

void
publisher_reconfig(struct publisher *pub, const struct config *cfg,
                   struct httpd *httpd)
{
    pub->cfg = cfg;
    if (httpd != pub->httpd)
        pub->served = 0;
    pub->httpd = httpd;
}

static void
on_closed(uv_handle_t *h)
{
    struct publisher *pub = h->data;

    feed_buf_free(&pub->published);
    free(pub->path);
    free(pub->stamp_path);
    free(pub);
}

void
publisher_close(struct publisher *pub)
{
    pub->closing = 1;
    (void)uv_timer_stop(&pub->timer);
    uv_close((uv_handle_t *)&pub->timer, on_closed);
}

struct publisher *
publisher_new(uv_loop_t *loop, struct store *s, const struct config *cfg,
              struct httpd *httpd, publisher_done_fn *done, void *arg)
{
    static const char tail[] = "/public/feed.atom";
    static const char stamp_tail[] = "/public/.feed.atom.stamp";
    struct publisher *pub = calloc(1, sizeof(*pub));
    size_t n = strlen(cfg->state_dir) + sizeof(tail);
    size_t sn = strlen(cfg->state_dir) + sizeof(stamp_tail);
    int rc;

    if (pub == NULL || (pub->path = malloc(n)) == NULL ||
        (pub->stamp_path = malloc(sn)) == NULL) {
        log_warnx("out of memory");
        if (pub != NULL)
            free(pub->path);
        free(pub);
        return NULL;
    }
    snprintf(pub->path, n, "%s%s", cfg->state_dir, tail);
    snprintf(pub->stamp_path, sn, "%s%s", cfg->state_dir, stamp_tail);
    pub->store = s;
    pub->cfg = cfg;
    pub->httpd = httpd;
    pub->done = done;
    pub->done_arg = arg;
    feed_buf_init(&pub->published, 0);
    if ((rc = uv_timer_init(loop, &pub->timer)) != 0) {
        log_warnx("publish: cannot make its timer: %s", uv_strerror(rc));
        free(pub->path);
        free(pub->stamp_path);
        free(pub);
        return NULL;
    }
    pub->timer.data = pub;
    stamp_load(pub);
    return pub;
}

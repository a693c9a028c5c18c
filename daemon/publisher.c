/* daemon/publisher.c - the merged outputs (publisher.h): one table of
 * outputs, each made by its writer from the same items, sanitized once. */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feeds/buf.h"
#include "feeds/sanitize.h"
#include "feeds/write.h"
#include "log.h"
#include "opml.h"
#include "publisher.h"

/* How long after a poll brings news the outputs are rewritten: polls that
 * end close together share one rewrite. */
#define PUBLISH_DELAY_MS 500
/* Changes when the same entries and settings make other bytes (a writer
 * or the sanitizer changed): part of the stamp. */
#define OUTPUT_FORMAT "4"

typedef int writer_fn(struct feed_buf *, const struct feed_meta *,
                      const struct feed_item *, size_t);

/* The outputs, each a file in public/ and a path on the server. */
static const struct kind {
    const char *name;
    const char *type;
    writer_fn *write;
} kinds[] = {
    {"feed.atom", "application/atom+xml; charset=utf-8", feed_write_atom},
    {"feed.rss", "application/rss+xml; charset=utf-8", feed_write_rss},
    {"feed.json", "application/feed+json; charset=utf-8", feed_write_json},
    {"index.html", "text/html; charset=utf-8", feed_write_html},
};
#define NOUT (sizeof(kinds) / sizeof(kinds[0]))

/* The longest base URL: public_url is at most this long. */
#define BASE_URL_MAX (CONFIG_URL_MAX + 2)

struct output {
    char *path;                /* state_dir/public/NAME */
    struct feed_buf published; /* the last one made, once loaded */
    int loaded;                /* published holds it (or there is none) */
    uint64_t stamp_len;        /* its length when the stamp was saved */
    int unwritten;             /* the file does not hold it yet */
    int served;                /* the HTTP server has it */
    int64_t mtime;             /* when its bytes last changed, or 0 */
};

struct publisher {
    struct store *store;
    const struct config *cfg;
    struct httpd *httpd;
    uv_timer_t timer;
    char *stamp_path; /* state_dir/public/.outputs.stamp */
    struct output out[NOUT];
    uint64_t stamp;       /* what the outputs were made from (stamp()), or 0 */
    char *opml_path;      /* state_dir/public/feeds.opml */
    uint64_t opml_digest; /* of the one written (digest()), or 0 */
    uint64_t opml_len;
    int opml_due;    /* the config changed: feeds.opml is to be made */
    int opml_served; /* the HTTP server reads it from its file */
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

/* 1 for a listen host that stands for every address of the machine. */
static int
wildcard(const char *host)
{
    return *host == '\0' || strcmp(host, "0.0.0.0") == 0 ||
           strcmp(host, "::") == 0 || strcmp(host, "[::]") == 0;
}

/* Where readers find the outputs, with a '/' at its end: public_url,
 * else the listen address (the machine's name for a wildcard one). */
static void
base_url(const struct publisher *pub, char base[BASE_URL_MAX])
{
    const char *host = pub->cfg->listen_host;
    char name[256];
    size_t n;

    if (pub->cfg->public_url != NULL) {
        n = strlen(pub->cfg->public_url);
        snprintf(base, BASE_URL_MAX, "%s%s", pub->cfg->public_url,
                 n > 0 && pub->cfg->public_url[n - 1] == '/' ? "" : "/");
        return;
    }
    if (wildcard(host)) {
        if (gethostname(name, sizeof(name)) != 0 || name[0] == '\0')
            snprintf(name, sizeof(name), "localhost");
        name[sizeof(name) - 1] = '\0';
        host = name;
    }
    snprintf(base, BASE_URL_MAX, "%s://%s%s%s:%d/",
             pub->cfg->tls_cert != NULL ? "https" : "http",
             strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
             pub->cfg->listen_port);
}

/* h with n bytes at p folded in (FNV-1a): the stamp of the outputs, and
 * the digest that tells one feed list from another without keeping it. */
static uint64_t
digest(uint64_t h, const void *p, size_t n)
{
    const unsigned char *c = p;

    while (n--)
        h = (h ^ *c++) * UINT64_C(0x100000001b3);
    return h;
}

/* h with the bytes of str folded in (digest()), and its end. */
static uint64_t
stamp_str(uint64_t h, const char *str)
{
    h = digest(h, str, strlen(str));
    return (h ^ 0xff) * UINT64_C(0x100000001b3);
}

/* What the outputs would be made from now: the store's files
 * (store_stamp()), the title, their base URL, max_items and the version
 * of feedd and of its outputs. The same value means the same bytes; 0
 * when it cannot be known. */
static uint64_t
stamp(const struct publisher *pub)
{
    uint64_t rs = store_stamp(pub->store);
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    char base[BASE_URL_MAX];
    size_t i;

    if (rs == 0)
        return 0;
    base_url(pub, base);
    h = stamp_str(h, FEEDD_VERSION "/" OUTPUT_FORMAT);
    h = stamp_str(h, pub->cfg->title != NULL ? pub->cfg->title : "");
    h = stamp_str(h, base);
    for (i = 0; i < 8; i++) {
        h = (h ^ ((uint64_t)pub->cfg->max_items >> (8 * i) & 0xff)) *
            UINT64_C(0x100000001b3);
        h = (h ^ (rs >> (8 * i) & 0xff)) * UINT64_C(0x100000001b3);
    }
    return h != 0 ? h : 1;
}

/* The stamp and the lengths of the outputs a previous run wrote, from
 * public/.outputs.stamp; none (0) when it is missing or does not read. */
static void
stamp_load(struct publisher *pub)
{
    char line[256];
    unsigned long long len[NOUT];
    uint64_t v = 0;
    size_t i;
    FILE *fp;

    if ((fp = fopen(pub->stamp_path, "r")) == NULL)
        return;
    if (fgets(line, sizeof(line), fp) == NULL ||
        sscanf(line, "feedd outputs %" SCNx64 " %llu %llu %llu %llu", &v,
               &len[0], &len[1], &len[2], &len[3]) != 1 + NOUT)
        v = 0;
    fclose(fp);
    pub->stamp = v;
    for (i = 0; i < NOUT; i++)
        pub->out[i].stamp_len = v ? len[i] : 0;
}

/* Records that the outputs, as written, were made from st. A failure only
 * costs the next start a rebuild of the same bytes: logged at debug. */
static void
stamp_save(struct publisher *pub, uint64_t st)
{
    char line[256];
    size_t i, same = st == pub->stamp;
    int n, rc;

    for (i = 0; i < NOUT; i++)
        same = same && pub->out[i].published.len == pub->out[i].stamp_len;
    if (same)
        return;
    pub->stamp = st;
    for (i = 0; i < NOUT; i++)
        pub->out[i].stamp_len = pub->out[i].published.len;
    n = snprintf(line, sizeof(line),
                 "feedd outputs %016" PRIx64 " %zu %zu %zu %zu\n", st,
                 pub->out[0].published.len, pub->out[1].published.len,
                 pub->out[2].published.len, pub->out[3].published.len);
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

/* Every output of items into made[], their HTML sanitized first (once,
 * for all): 0 or -ENOMEM. */
static int
render(const struct publisher *pub, struct feed_item *items, size_t n,
       struct feed_buf made[NOUT])
{
    struct feed_meta meta;
    struct feed_buf *safe = calloc(2 * n + 1, sizeof(*safe));
    char base[BASE_URL_MAX], self[BASE_URL_MAX + 16], id[BASE_URL_MAX + 16];
    size_t i;
    int rc = 0;

    if (safe == NULL)
        return -ENOMEM;
    for (i = 0; i < n && rc == 0; i++)
        if ((rc = sanitize_field(&items[i].entry.summary, &safe[2 * i])) == 0)
            rc = sanitize_field(&items[i].entry.content, &safe[2 * i + 1]);
    base_url(pub, base);
    snprintf(id, sizeof(id), "%sfeed.atom", base);
    memset(&meta, 0, sizeof(meta));
    meta.title = pub->cfg->title;
    meta.id = id;
    meta.home_url = base;
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
    for (i = 0; i < NOUT && rc == 0; i++) {
        snprintf(self, sizeof(self), "%s%s", base, kinds[i].name);
        meta.self_url = self;
        if (kinds[i].write(&made[i], &meta, items, n) != 0)
            rc = -ENOMEM;
    }
    for (i = 0; i < 2 * n; i++)
        feed_buf_free(&safe[i]);
    free(safe);
    return rc;
}

/* Hands output o, of kind k, to the HTTP server (which serves index.html
 * at "/" too), with when its bytes last changed as Last-Modified. */
static int
serve(struct publisher *pub, struct output *o, const struct kind *k)
{
    const struct feed_buf *b = &o->published;
    int64_t now = (int64_t)time(NULL);
    char path[32];
    int rc;

    if (pub->httpd == NULL || b->data == NULL)
        return 0;
    snprintf(path, sizeof(path), "/%s", k->name);
    rc = httpd_set(pub->httpd, path, k->type, b->data, b->len,
                   o->mtime ? o->mtime : now);
    if (rc == 0)
        o->served = 1;
    else
        log_warnx("publish: cannot serve %s: %s", k->name, strerror(-rc));
    return rc;
}

/* Writes the last output o made to its file: 0, or a negative errno
 * (logged; the next publish tries again). */
static int
write_file(struct output *o)
{
    int rc = store_file_replace(o->path, o->published.data, o->published.len);

    o->unwritten = rc != 0;
    if (rc != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", o->path);
    }
    return rc;
}

/* The output o a previous run wrote, if any, as the last one written;
 * read once, when first needed. */
static void
load(struct output *o)
{
    struct stat sb;
    char buf[65536];
    FILE *fp;
    size_t got;

    if (o->loaded)
        return;
    o->loaded = 1;
    if ((fp = fopen(o->path, "rb")) == NULL)
        return;
    if (fstat(fileno(fp), &sb) == 0)
        o->mtime = (int64_t)sb.st_mtime;
    while ((got = fread(buf, 1, sizeof(buf), fp)) > 0)
        if (feed_buf_append(&o->published, buf, got) != 0) {
            feed_buf_free(&o->published);
            break;
        }
    fclose(fp);
}

/* 1 when the outputs in place are those that stamp st and the settings
 * make: their stamp is st and each is there, whole. A file is read only
 * when the HTTP server is to get it. */
static int
current(struct publisher *pub, uint64_t st)
{
    struct stat sb;
    size_t i;

    if (st == 0 || st != pub->stamp)
        return 0;
    for (i = 0; i < NOUT; i++) {
        struct output *o = &pub->out[i];

        if (o->unwritten)
            return 0;
        if (!o->loaded && pub->httpd != NULL && !o->served)
            load(o);
        if (o->loaded
                ? o->published.data == NULL || o->published.len != o->stamp_len
                : stat(o->path, &sb) != 0 ||
                      (uint64_t)sb.st_size != o->stamp_len)
            return 0;
    }
    return 1;
}

/* The digest and length of the file at path, read through; 0 when it
 * cannot be read. */
static uint64_t
file_digest(const char *path, uint64_t *len)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    char buf[65536];
    size_t got;
    FILE *fp;

    *len = 0;
    if ((fp = fopen(path, "rb")) == NULL)
        return 0;
    while ((got = fread(buf, 1, sizeof(buf), fp)) > 0) {
        h = digest(h, buf, got);
        *len += got;
    }
    if (ferror(fp))
        h = 0;
    fclose(fp);
    return h;
}

/* feeds.opml, the feed list (without a date, so that the same list makes
 * the same bytes): made when the config changed, written when its bytes
 * did. Only its digest is kept: the list grows with the feeds, and the
 * server reads the file at each request. */
static void
publish_opml(struct publisher *pub)
{
    struct feed_buf b;
    uint64_t h, len;

    /* Served from its file: memory does not grow with the feeds. */
    if (!pub->opml_served && pub->httpd != NULL) {
        int rc = httpd_set_file(pub->httpd, "/feeds.opml",
                                "text/x-opml; charset=utf-8", pub->opml_path);

        pub->opml_served = rc == 0;
        if (rc != 0)
            log_warnx("publish: cannot serve feeds.opml: %s", strerror(-rc));
    }
    if (!pub->opml_due)
        return;
    feed_buf_init(&b, 0);
    if (opml_write_at(pub->cfg, -1, &b) != 0) {
        log_warnx("publish: out of memory");
        feed_buf_free(&b);
        return;
    }
    if (pub->opml_digest == 0)
        pub->opml_digest = file_digest(pub->opml_path, &pub->opml_len);
    h = digest(UINT64_C(0xcbf29ce484222325), b.data, b.len);
    len = b.len;
    if (h != pub->opml_digest || len != pub->opml_len) {
        int rc = store_file_replace(pub->opml_path, b.data, b.len);

        if (rc != 0) {
            errno = -rc;
            log_warn("publish: cannot write %s", pub->opml_path);
            h = 0;
        }
        pub->opml_digest = h;
        pub->opml_len = len;
    }
    feed_buf_free(&b);
    pub->opml_due = pub->opml_digest == 0;
}

int
publisher_publish(struct publisher *pub)
{
    struct collect c;
    struct feed_item *items;
    struct feed_buf made[NOUT];
    size_t i, n = pub->cfg->max_items;
    uint64_t st = stamp(pub);
    int rc = 0, unwritten = 0;

    memset(&c, 0, sizeof(c));
    for (i = 0; i < NOUT; i++)
        feed_buf_init(&made[i], 0);
    items = NULL;
    publish_opml(pub);
    /* The store's files and the settings are as they were when the
     * outputs in place were made (by this run or a previous one): the
     * same bytes, so nothing is read back, or even loaded. */
    if (current(pub, st)) {
        for (i = 0; i < NOUT; i++)
            if (!pub->out[i].served)
                (void)serve(pub, &pub->out[i], &kinds[i]);
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
    if ((rc = render(pub, items, c.n, made)) != 0)
        goto fail;
    for (i = 0; i < NOUT; i++) {
        struct output *o = &pub->out[i];

        load(o);
        /* Unchanged bytes: no write, and readers' validators stay valid;
         * a restart with the same entries serves what is there. */
        if (o->published.data == NULL || made[i].len != o->published.len ||
            memcmp(made[i].data, o->published.data, made[i].len) != 0) {
            feed_buf_free(&o->published);
            o->published = made[i];
            feed_buf_init(&made[i], 0);
            o->served = 0;
            o->unwritten = 1;
            o->mtime = (int64_t)time(NULL);
        }
        /* Readers get what was committed even when the file cannot be
         * written (a full disk); a file not written is tried again at the
         * next publish. */
        if (!o->served)
            (void)serve(pub, o, &kinds[i]);
        if (o->unwritten && write_file(o) != 0 && rc == 0)
            rc = -errno;
        unwritten |= o->unwritten;
    }
    if (rc == 0)
        log_debug("publish: %zu entries", c.n);
    /* The files as they are now that they are made: the load of the
     * items may have rebuilt items/index. */
    if (!unwritten && (st = stamp(pub)) != 0)
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
    for (i = 0; i < NOUT; i++)
        feed_buf_free(&made[i]);
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
    size_t i;

    pub->cfg = cfg;
    pub->opml_due = 1;
    if (httpd != pub->httpd) {
        for (i = 0; i < NOUT; i++)
            pub->out[i].served = 0;
        pub->opml_served = 0;
    }
    pub->httpd = httpd;
}

static void
publisher_free(struct publisher *pub)
{
    size_t i;

    for (i = 0; i < NOUT; i++) {
        feed_buf_free(&pub->out[i].published);
        free(pub->out[i].path);
    }
    free(pub->opml_path);
    free(pub->stamp_path);
    free(pub);
}

static void
on_closed(uv_handle_t *h)
{
    publisher_free(h->data);
}

void
publisher_close(struct publisher *pub)
{
    pub->closing = 1;
    (void)uv_timer_stop(&pub->timer);
    uv_close((uv_handle_t *)&pub->timer, on_closed);
}

/* state_dir/public/name, in a new string; NULL when out of memory. */
static char *
public_path(const struct config *cfg, const char *name)
{
    size_t n = strlen(cfg->state_dir) + strlen("/public/") + strlen(name) + 1;
    char *p = malloc(n);

    if (p != NULL)
        snprintf(p, n, "%s/public/%s", cfg->state_dir, name);
    return p;
}

struct publisher *
publisher_new(uv_loop_t *loop, struct store *s, const struct config *cfg,
              struct httpd *httpd, publisher_done_fn *done, void *arg)
{
    struct publisher *pub = calloc(1, sizeof(*pub));
    size_t i;
    int rc, nomem;

    if (pub == NULL) {
        log_warnx("out of memory");
        return NULL;
    }
    nomem = (pub->stamp_path = public_path(cfg, ".outputs.stamp")) == NULL;
    nomem |= (pub->opml_path = public_path(cfg, "feeds.opml")) == NULL;
    pub->opml_due = 1;
    for (i = 0; i < NOUT; i++) {
        feed_buf_init(&pub->out[i].published, 0);
        nomem |= (pub->out[i].path = public_path(cfg, kinds[i].name)) == NULL;
    }
    if (nomem) {
        log_warnx("out of memory");
        publisher_free(pub);
        return NULL;
    }
    pub->store = s;
    pub->cfg = cfg;
    pub->httpd = httpd;
    pub->done = done;
    pub->done_arg = arg;
    if ((rc = uv_timer_init(loop, &pub->timer)) != 0) {
        log_warnx("publish: cannot make its timer: %s", uv_strerror(rc));
        publisher_free(pub);
        return NULL;
    }
    pub->timer.data = pub;
    stamp_load(pub);
    return pub;
}

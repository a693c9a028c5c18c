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
#include "feeds/id.h"
#include "feeds/write.h"
#include "log.h"
#include "opml.h"
#include "publish_int.h"
#include "publisher.h"

/* How long after a poll brings news the outputs are rewritten: polls that
 * end close together share one rewrite. */
#define PUBLISH_DELAY_MS 500
/* Changes when the same entries and settings make other bytes (a writer
 * or the sanitizer changed): part of the stamp. */
#define OUTPUT_FORMAT "5"

/* The outputs, each a file in public/ and a path on the server. */
static const struct kind {
    const char *name;
    const char *type;
    publish_writer_fn *write;
} kinds[] = {
    {"feed.atom", "application/atom+xml; charset=utf-8", feed_write_atom},
    {"feed.rss", "application/rss+xml; charset=utf-8", feed_write_rss},
    {"feed.json", "application/feed+json; charset=utf-8", feed_write_json},
    {"index.html", "text/html; charset=utf-8", feed_write_html},
};
#define NOUT (sizeof(kinds) / sizeof(kinds[0]))

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
    int opml_due;            /* the config changed: feeds.opml is to be made */
    int opml_served;         /* the HTTP server reads it from its file */
    struct archive *archive; /* public/archive/ */
    struct publish_tags *tags;   /* public/tag/ */
    struct publish_cache *cache; /* the merged feed's sanitized HTML */
    int closing;
    publisher_done_fn *done;
    void *done_arg;
};

/* A digest of what the outputs' bytes depend on besides the entries:
 * the version of feedd and of its outputs, the title, the base URL and
 * max_items. */
static uint64_t
settings(const struct publisher *pub)
{
    char base[PUBLISH_BASE_MAX];
    uint64_t h = PUBLISH_FNV;

    publish_base_url(pub->cfg, base);
    h = publish_digest_str(h, FEEDD_VERSION "/" OUTPUT_FORMAT);
    h = publish_digest_str(h, pub->cfg->title != NULL ? pub->cfg->title : "");
    h = publish_digest_str(h, base);
    return publish_digest_u64(h, (uint64_t)pub->cfg->max_items);
}

/* What the outputs would be made from now: the store's files
 * (store_stamp()), the settings() and the tags of the feeds. The same
 * value means the same bytes; 0 when it cannot be known. */
static uint64_t
stamp(const struct publisher *pub)
{
    uint64_t rs = store_stamp(pub->store), h;
    size_t i, j;

    if (rs == 0)
        return 0;
    h = publish_digest_u64(settings(pub), rs);
    for (i = 0; i < pub->cfg->nfeeds; i++) {
        const struct config_feed *f = &pub->cfg->feeds[i];

        if (f->ntags == 0)
            continue;
        h = publish_digest_str(h, f->name);
        for (j = 0; j < f->ntags; j++)
            h = publish_digest_str(h, f->tags[j]);
        h = publish_digest_str(h, "");
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

/* Every output of items[0, n) (sanitized) into made[]; the feeds link
 * to archive page newest when it is not -1. 0 or -ENOMEM. */
static int
render(const struct publisher *pub, const struct feed_item *items, size_t n,
       long newest, struct feed_buf made[NOUT])
{
    struct feed_meta meta;
    char base[PUBLISH_BASE_MAX], self[PUBLISH_BASE_MAX + 16],
        id[PUBLISH_BASE_MAX + 16], prev[PUBLISH_BASE_MAX + 48];
    const char *ext;
    size_t i;

    publish_base_url(pub->cfg, base);
    snprintf(id, sizeof(id), "%sfeed.atom", base);
    memset(&meta, 0, sizeof(meta));
    meta.title = pub->cfg->title;
    meta.id = id;
    meta.home_url = base;
    meta.sanitized = 1; /* by publish_prepare() */
    /* From the entries alone, so that the same entries make the same
     * bytes (and an empty river a fixed date). */
    meta.updated = publish_updated(items, n);
    for (i = 0; i < NOUT; i++) {
        snprintf(self, sizeof(self), "%s%s", base, kinds[i].name);
        meta.self_url = self;
        /* RFC 5005 §4: the subscription documents lead to the newest
         * archive page of their format (JSON Feed's next_url). */
        ext = strrchr(kinds[i].name, '.') + 1;
        meta.prev_archive = NULL;
        if (newest >= 0 && strcmp(ext, "html") != 0) {
            snprintf(prev, sizeof(prev), "%sarchive/%ld.%s", base, newest, ext);
            meta.prev_archive = prev;
        }
        if (kinds[i].write(&made[i], &meta, items, n) != 0)
            return -ENOMEM;
    }
    return 0;
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
    uint64_t h = PUBLISH_FNV;
    char buf[65536];
    size_t got;
    FILE *fp;

    *len = 0;
    if ((fp = fopen(path, "rb")) == NULL)
        return 0;
    while ((got = fread(buf, 1, sizeof(buf), fp)) > 0) {
        h = publish_digest(h, buf, got);
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
    h = publish_digest(PUBLISH_FNV, b.data, b.len);
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

static int
id_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Newest first by date; ties by ID, so that the order is the same each
 * time. */
static int
item_cmp(const void *a, const void *b)
{
    const struct feed_item *x = *(struct feed_item *const *)a,
                           *y = *(struct feed_item *const *)b;
    int64_t dx = feed_item_date(x), dy = feed_item_date(y);

    if (dx != dy)
        return dx > dy ? -1 : 1;
    return strcmp(y->id, x->id);
}

/* The items of open that c lacks, moved into c, which is then sorted
 * newest first: the subscription documents' newest entries and those
 * that no archive page holds yet. open is left empty. */
static int
merge_open(struct publish_items *c, struct publish_items *open)
{
    uint64_t *ids = calloc(c->n ? c->n : 1, sizeof(*ids)), v;
    size_t i, nids = 0;
    int rc = 0;

    if (ids == NULL)
        return -ENOMEM;
    for (i = 0; i < c->n; i++)
        if (feed_id_parse(c->items[i]->id, &v) == 0)
            ids[nids++] = v;
    qsort(ids, nids, sizeof(*ids), id_cmp);
    for (i = 0; i < open->n; i++) {
        struct feed_item *it = open->items[i];

        /* publish_collect() keeps a copy: the item itself goes. */
        if (rc == 0 && (feed_id_parse(it->id, &v) != 0 ||
                        bsearch(&v, ids, nids, sizeof(*ids), id_cmp) == NULL))
            rc = publish_collect(it, c);
        free(it);
    }
    free(open->items);
    memset(open, 0, sizeof(*open));
    free(ids);
    if (c->n > 0)
        qsort(c->items, c->n, sizeof(*c->items), item_cmp);
    return rc;
}

int
publisher_publish(struct publisher *pub)
{
    struct publish_items c, open;
    struct feed_item *items = NULL;
    struct feed_buf made[NOUT], *safe = NULL;
    size_t i, n = pub->cfg->max_items;
    uint64_t st = stamp(pub);
    long newest = -1;
    int rc = 0, more, unwritten = 0;

    memset(&c, 0, sizeof(c));
    memset(&open, 0, sizeof(open));
    for (i = 0; i < NOUT; i++)
        feed_buf_init(&made[i], 0);
    publish_opml(pub);
    /* The store's files and the settings are as they were when the
     * outputs in place were made (by this run or a previous one): the
     * same bytes, so nothing is read back, or even loaded. */
    if (current(pub, st)) {
        /* The pages first: a reader given feed.atom on the server's
         * thread may follow its prev-archive link at once. */
        (void)archive_served(pub->archive, pub->httpd);
        publish_tags_serve(pub->tags, pub->cfg, pub->httpd);
        for (i = 0; i < NOUT; i++)
            if (!pub->out[i].served)
                (void)serve(pub, &pub->out[i], &kinds[i]);
        goto out;
    }
    /* The archive pages first: the subscription documents link to the
     * newest, and carry the entries that none holds yet. A failure
     * leaves them to the next publish (no stamp is saved). */
    more = archive_update(pub->archive, pub->store, pub->cfg, pub->httpd, &open,
                          &newest);
    if ((rc = store_recent(pub->store, n, publish_collect, &c)) != 0 ||
        (rc = merge_open(&c, &open)) != 0 ||
        (rc = publish_prepare(&c, pub->cache, 1, &items, &safe)) != 0 ||
        (rc = render(pub, items, c.n, newest, made)) != 0)
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
    if (publish_tags_update(pub->tags, pub->store, pub->cfg, pub->httpd,
                            settings(pub)) != 0 ||
        more != 0)
        unwritten = 1;
    if (rc == 0)
        log_debug("publish: %zu entries, %zu sanitized", c.n,
                  publish_cache_made(pub->cache));
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
    if (items != NULL) {
        publish_prepared_free(items, safe, c.n);
        /* What this publish did not use goes (the tags are made). */
        publish_cache_sweep(pub->cache);
    }
    publish_items_free(&c);
    publish_items_free(&open);
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
    publish_tags_sweep(pub->tags);
    if (httpd != pub->httpd) {
        for (i = 0; i < NOUT; i++)
            pub->out[i].served = 0;
        pub->opml_served = 0;
        archive_unserve(pub->archive);
        publish_tags_unserve(pub->tags);
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
    archive_free(pub->archive);
    publish_tags_free(pub->tags);
    publish_cache_free(pub->cache);
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
    {
        char *dir = public_path(cfg, "");

        nomem |= dir == NULL;
        if (dir != NULL) {
            dir[strlen(dir) - 1] = '\0'; /* state_dir/public */
            nomem |= (pub->archive = archive_new(dir, s, &pub->cfg)) == NULL;
            nomem |= (pub->tags = publish_tags_new(dir)) == NULL;
        }
        free(dir);
    }
    nomem |= (pub->cache = publish_cache_new()) == NULL;
    if (pub->tags != NULL)
        publish_tags_use_cache(pub->tags, pub->cache);
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

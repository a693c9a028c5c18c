/* daemon/archive.c - the merged feed's archive pages (RFC 5005 §4):
 * /archive/K.atom, K.rss and K.json, page K holding the P items stored
 * after those of page K - 1 (P is max_items when the page is made), in
 * the store's commit order (store_first_except()). A page is fixed once,
 * when it is complete: public/archive/K.ids lists its IDs, newest first,
 * and never changes. Its documents are made from those IDs when a reader
 * asks (httpd_set_dynamic()), each entry as the store has it then: a
 * cold start with a large store writes the small .ids files, not
 * thousands of sanitized documents nobody may read. Every
 * item stored is in a page or among the open ones, those not in any page
 * yet (fewer than P), which the subscription documents carry beside
 * their newest max_items. Retention: a page goes (its three files) once
 * the store has none of its items and no older page is left, so that
 * the prev-archive links of the pages that stay never lead to a missing
 * one; a page with some of its items gone stays as it was written. The
 * IDs of every page are read from the .ids files at each update (8
 * bytes an archived entry, freed after it) to tell the open entries
 * from the others in one pass over the store's index. */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feeds/id.h"
#include "httpd.h"
#include "log.h"
#include "publish_int.h"

/* The documents of a page: K.ext, of this content type and writer. */
static const struct {
    const char *ext;
    const char *type;
    publish_writer_fn *write;
} fmts[] = {
    {"atom", "application/atom+xml; charset=utf-8", feed_write_atom},
    {"rss", "application/rss+xml; charset=utf-8", feed_write_rss},
    {"json", "application/feed+json; charset=utf-8", feed_write_json},
};
#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

struct archive {
    char *dir;   /* state_dir/public/archive */
    long *pages; /* the numbers of the pages there, ascending */
    size_t npages, pages_cap;
    long next;     /* the number of the next page */
    int listed;    /* pages and next are read from dir */
    uint64_t *ids; /* of every page, ascending, in an update */
    size_t nids, ids_cap;
    int ids_loaded;
    long served;         /* pages up to this one are set on the server */
    struct httpd *httpd; /* the server they are set on */
    /* What a page is made from when asked: the publisher's. */
    struct store *store;
    const struct config **cfg;
};

static httpd_render_fn archive_render;

static int
u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* Sorts v[0..n) ascending: eight passes of a byte each (LSD radix) when
 * a buffer of n more can be had, else qsort(). Every archived ID is
 * sorted at each update: qsort() of the 117,000 of a cold poll of 2,000
 * feeds took a fifth of its final publish. */
static void
sort_ids(uint64_t *v, size_t n)
{
    uint64_t *tmp, *src = v, *dst, *t;
    size_t count[256], i, b, sum;
    int shift;

    if (n < 2)
        return;
    if (n < 64 || (tmp = malloc(n * sizeof(*tmp))) == NULL) {
        qsort(v, n, sizeof(*v), u64_cmp);
        return;
    }
    dst = tmp;
    for (shift = 0; shift < 64; shift += 8) {
        memset(count, 0, sizeof(count));
        for (i = 0; i < n; i++)
            count[(src[i] >> shift) & 0xff]++;
        if (count[(src[0] >> shift) & 0xff] == n)
            continue; /* one value of this byte: already in order */
        for (b = sum = 0; b < 256; b++) {
            size_t c = count[b];

            count[b] = sum;
            sum += c;
        }
        for (i = 0; i < n; i++)
            dst[count[(src[i] >> shift) & 0xff]++] = src[i];
        t = src;
        src = dst;
        dst = t;
    }
    if (src != v)
        memcpy(v, src, n * sizeof(*v));
    free(tmp);
}

static int
long_cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;

    return x < y ? -1 : x > y;
}

struct archive *
archive_new(const char *public_dir, struct store *s, const struct config **cfg)
{
    struct archive *a = calloc(1, sizeof(*a));

    if (a == NULL || (a->dir = publish_path(public_dir, "archive")) == NULL) {
        free(a);
        return NULL;
    }
    a->served = -1;
    a->cfg = cfg;
    a->store = s;
    return a;
}

void
archive_free(struct archive *a)
{
    if (a == NULL)
        return;
    free(a->pages);
    free(a->ids);
    free(a->dir);
    free(a);
}

/* dir/K.ext into buf. */
static void
page_path(const struct archive *a, long k, const char *ext, char *buf,
          size_t len)
{
    snprintf(buf, len, "%s/%ld.%s", a->dir, k, ext);
}

static int
pages_add(struct archive *a, long k)
{
    size_t cap;
    void *p;

    if (a->npages == a->pages_cap) {
        cap = a->pages_cap ? 2 * a->pages_cap : 16;
        if ((p = realloc(a->pages, cap * sizeof(*a->pages))) == NULL)
            return -ENOMEM;
        a->pages = p;
        a->pages_cap = cap;
    }
    a->pages[a->npages++] = k;
    return 0;
}

/* The pages in dir (each K.ids), and the next number: one past the
 * newest page, or what .next says when that is more (pages all gone do
 * not give their numbers again). */
static int
archive_list(struct archive *a)
{
    struct dirent *de;
    char *end, line[32], path[PATH_MAX];
    FILE *fp;
    long k;
    DIR *d;
    int rc = 0;

    if (a->listed)
        return 0;
    a->npages = 0;
    if ((d = opendir(a->dir)) == NULL && errno == ENOENT) {
        a->next = 0;
        a->listed = 1; /* no page yet: made with the first */
        return 0;
    }
    if (d == NULL) {
        rc = -errno;
        log_warn("publish: cannot read %s", a->dir);
        return rc;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        errno = 0;
        k = strtol(de->d_name, &end, 10);
        if (errno == 0 && k >= 0 && strcmp(end, ".ids") == 0)
            rc = pages_add(a, k);
    }
    closedir(d);
    if (rc != 0)
        return rc;
    if (a->npages > 0)
        qsort(a->pages, a->npages, sizeof(*a->pages), long_cmp);
    a->next = a->npages ? a->pages[a->npages - 1] + 1 : 0;
    snprintf(path, sizeof(path), "%s/.next", a->dir);
    if ((fp = fopen(path, "r")) != NULL) {
        if (fgets(line, sizeof(line), fp) != NULL &&
            (k = strtol(line, NULL, 10)) > a->next)
            a->next = k;
        fclose(fp);
    }
    a->listed = 1;
    return 0;
}

/* The IDs of page k, appended to *ids (grown as needed). 0, or a
 * negative errno (-ENOENT: no such page). */
static int
page_ids(const struct archive *a, long k, uint64_t **ids, size_t *n,
         size_t *cap)
{
    char path[PATH_MAX], line[64];
    uint64_t v;
    size_t len;
    FILE *fp;
    void *p;

    page_path(a, k, "ids", path, sizeof(path));
    if ((fp = fopen(path, "r")) == NULL)
        return -errno;
    while (fgets(line, sizeof(line), fp) != NULL) {
        len = strcspn(line, "\n");
        line[len] = '\0';
        if (feed_id_parse(line, &v) != 0)
            continue;
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            if ((p = realloc(*ids, *cap * sizeof(**ids))) == NULL) {
                fclose(fp);
                return -ENOMEM;
            }
            *ids = p;
        }
        (*ids)[(*n)++] = v;
    }
    fclose(fp);
    return 0;
}

/* Every page's IDs, once. */
static int
archive_load_ids(struct archive *a)
{
    size_t i;
    int rc;

    if (a->ids_loaded)
        return 0;
    a->nids = 0;
    for (i = 0; i < a->npages; i++)
        if ((rc = page_ids(a, a->pages[i], &a->ids, &a->nids, &a->ids_cap)) !=
                0 &&
            rc != -ENOENT)
            return rc;
    sort_ids(a->ids, a->nids);
    a->ids_loaded = 1;
    return 0;
}

/* Removes the oldest pages whose items the store no longer has, up to the
 * first that has one: their files, and their IDs from memory. */
static int
archive_retire(struct archive *a, struct store *s)
{
    uint64_t *gone = NULL;
    size_t n, cap = 0, i, j, w;
    char path[PATH_MAX];
    int rc = 0, live;

    while (a->npages > 0) {
        n = 0;
        if ((rc = page_ids(a, a->pages[0], &gone, &n, &cap)) != 0 &&
            rc != -ENOENT)
            break;
        rc = 0;
        for (i = 0, live = 0; i < n && !live; i++)
            live = store_has(s, gone[i]);
        if (live)
            break;
        /* Its IDs first: a page is there while they are. */
        for (i = 0; i <= NFMTS; i++) {
            page_path(a, a->pages[0], i == 0 ? "ids" : fmts[i - 1].ext, path,
                      sizeof(path));
            if (unlink(path) != 0 && errno != ENOENT)
                log_warn("publish: cannot remove %s", path);
        }
        log_info("publish: archive page %ld removed: its entries are gone",
                 a->pages[0]);
        sort_ids(gone, n);
        for (i = j = w = 0; i < a->nids; i++) {
            while (j < n && gone[j] < a->ids[i])
                j++;
            if (j < n && gone[j] == a->ids[i])
                continue;
            a->ids[w++] = a->ids[i];
        }
        a->nids = w;
        memmove(a->pages, a->pages + 1, --a->npages * sizeof(*a->pages));
    }
    free(gone);
    return rc;
}

/* Sets the pages not set yet on the server, each served from its file. */
static void
archive_serve(struct archive *a, struct httpd *httpd)
{
    char path[64];
    size_t i, k;
    int rc;

    if (httpd != a->httpd) {
        a->httpd = httpd;
        a->served = -1;
    }
    if (httpd == NULL)
        return;
    for (i = 0; i < a->npages; i++) {
        if (a->pages[i] <= a->served)
            continue;
        for (k = 0, rc = 0; k < NFMTS && rc == 0; k++) {
            snprintf(path, sizeof(path), "/archive/%ld.%s", a->pages[i],
                     fmts[k].ext);
            rc =
                httpd_set_dynamic(httpd, path, fmts[k].type, archive_render, a);
        }
        if (rc != 0) {
            log_warnx("publish: cannot serve archive page %ld: %s", a->pages[i],
                      strerror(-rc));
            return;
        }
        a->served = a->pages[i];
    }
}

/* Writes data to the file at path, logged on failure. */
static int
put_file(const char *path, const void *data, size_t len)
{
    int rc = store_file_replace(path, data, len);

    if (rc != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", path);
    }
    return rc;
}

/* Fixes page k as the items whose IDs are ids[0, n) (in commit order,
 * oldest first): their IDs, newest first, into K.ids. Not synced: a page
 * is made again from the store when a crash loses its file (its entries
 * are open again). */
static int
archive_write(struct archive *a, long k, const uint64_t *ids_in, size_t n)
{
    char id[FEED_ID_LEN + 1];
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    struct feed_buf ids;
    size_t i;
    FILE *fp = NULL;
    int rc = 0;

    feed_buf_init(&ids, 0);
    for (i = n; i-- > 0 && rc == 0;) {
        feed_id_format(ids_in[i], id);
        id[FEED_ID_LEN] = '\n';
        if (feed_buf_append(&ids, id, sizeof(id)) != 0)
            rc = -ENOMEM;
    }
    page_path(a, k, "ids", path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    errno = 0;
    /* The folder is made by the first page that finds it missing. */
    if (rc == 0 && (fp = fopen(tmp, "w")) == NULL && errno == ENOENT &&
        (mkdir(a->dir, 0755) == 0 || errno == EEXIST))
        fp = fopen(tmp, "w");
    if (rc == 0 && fp == NULL)
        rc = errno ? -errno : -EIO;
    if (fp != NULL) {
        if (fwrite(ids.data, 1, ids.len, fp) != ids.len)
            rc = errno ? -errno : -EIO;
        if (fclose(fp) != 0 && rc == 0)
            rc = errno ? -errno : -EIO;
    }
    if (rc == 0 && rename(tmp, path) != 0)
        rc = errno ? -errno : -EIO;
    if (rc != 0 && rc != -ENOMEM) {
        errno = -rc;
        log_warn("publish: cannot write %s", path);
        (void)unlink(tmp);
    }
    feed_buf_free(&ids);
    return rc;
}

/* An httpd_render_fn: the document at /archive/K.EXT, made of the
 * entries of page K's IDs that the store still has. */
static int
archive_render(void *arg, const char *path, struct feed_buf *out)
{
    struct archive *a = arg;
    const struct config *cfg = *a->cfg;
    char base[PUBLISH_BASE_MAX], self[PUBLISH_BASE_MAX + 64],
        prev[PUBLISH_BASE_MAX + 64], cur[PUBLISH_BASE_MAX + 16], ext[8],
        id[FEED_ID_LEN + 1], file[PATH_MAX];
    struct publish_items c;
    struct feed_item *flat;
    struct feed_buf *safe;
    struct feed_meta meta;
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0, i, f;
    long k;
    int rc;

    if (sscanf(path, "/archive/%ld.%7s", &k, ext) != 2 || k < 0)
        return -ENOENT;
    for (f = 0; f < NFMTS && strcmp(ext, fmts[f].ext) != 0; f++)
        ;
    if (f == NFMTS)
        return -ENOENT;
    if ((rc = page_ids(a, k, &ids, &n, &cap)) != 0)
        return rc;
    memset(&c, 0, sizeof(c));
    for (i = 0; i < n && rc >= 0; i++) {
        feed_id_format(ids[i], id);
        rc = store_get(a->store, id, publish_collect, &c);
        if (rc == -ENOENT || rc == -EBADMSG) /* dropped, or damaged */
            rc = 0;
    }
    free(ids);
    if (rc < 0 || (rc = publish_prepare(&c, NULL, 0, &flat, &safe)) != 0) {
        publish_items_free(&c);
        return rc;
    }
    publish_base_url(cfg, base);
    snprintf(self, sizeof(self), "%sarchive/%ld.%s", base, k, ext);
    snprintf(prev, sizeof(prev), "%sarchive/%ld.%s", base, k - 1, ext);
    snprintf(cur, sizeof(cur), "%sfeed.%s", base, ext);
    page_path(a, k - 1, "ids", file, sizeof(file));
    memset(&meta, 0, sizeof(meta));
    meta.title = cfg->title;
    meta.home_url = base;
    meta.updated = publish_updated(flat, c.n);
    meta.archive = 1;
    meta.self_url = self;
    meta.id = self;
    meta.current_url = cur;
    meta.prev_archive = k > 0 && access(file, F_OK) == 0 ? prev : NULL;
    rc = fmts[f].write(out, &meta, flat, c.n) != 0 ? -ENOMEM : 0;
    publish_prepared_free(flat, safe, c.n);
    publish_items_free(&c);
    return rc;
}

/* The pages made in one pass over the entries in no page yet. */
struct pager {
    struct archive *a;
    size_t p;      /* entries a page */
    uint64_t *ids; /* of the pages made, then of the page to come */
    size_t nids, cap;
    size_t start; /* where the page to come begins in ids */
    int logged;   /* a failure that archive_write() logged */
};

/* A store_id_fn: the next entry in commit order; each p make a page. */
static int
pager_add(uint64_t id, void *arg)
{
    struct pager *pg = arg;
    struct archive *a = pg->a;
    size_t cap;
    void *q;
    int rc;

    if (pg->nids == pg->cap) {
        cap = pg->cap ? 2 * pg->cap : 256;
        if ((q = realloc(pg->ids, cap * sizeof(*pg->ids))) == NULL)
            return -ENOMEM;
        pg->ids = q;
        pg->cap = cap;
    }
    pg->ids[pg->nids++] = id;
    if (pg->nids - pg->start < pg->p)
        return 0;
    if ((rc = archive_write(a, a->next, pg->ids + pg->start, pg->p)) != 0) {
        pg->logged = rc != -ENOMEM;
        pg->nids = pg->start;
        return rc;
    }
    if ((rc = pages_add(a, a->next)) != 0) {
        pg->nids = pg->start;
        return rc;
    }
    log_debug("publish: archive page %ld fixed", a->next);
    a->next++;
    pg->start = pg->nids;
    return 0;
}

int
archive_update(struct archive *a, struct store *s, const struct config *cfg,
               struct httpd *httpd, struct publish_items *open, long *newest)
{
    struct pager pg;
    char path[PATH_MAX], line[32];
    size_t count, p = cfg->max_items ? cfg->max_items : 1;
    long next; /* a->next before this update */
    int rc, n;

    *newest = -1;
    memset(&pg, 0, sizeof(pg));
    if ((rc = archive_list(a)) != 0) {
        pg.logged = rc != -ENOMEM;
        goto out;
    }
    if ((rc = archive_load_ids(a)) != 0 || (rc = archive_retire(a, s)) != 0)
        goto out;
    next = a->next;
    if ((rc = store_first_except(s, a->ids, a->nids, 0, &count, NULL, NULL)) !=
        0)
        goto out;
    /* Every complete page in one pass: O(count log pages' entries). A
     * damaged record on the way leaves the last page short: not made,
     * its entries are open ones. */
    pg.a = a;
    pg.p = p;
    if (count >= p)
        rc = store_first_ids_except(s, a->ids, a->nids, count - count % p,
                                    pager_add, &pg);
    pg.nids = pg.start; /* a page not made: its entries stay open */
    /* The pages made count even when a later one failed. */
    if (pg.nids > 0 && a->nids + pg.nids > a->ids_cap) {
        void *q = realloc(a->ids, (a->nids + pg.nids) * sizeof(*a->ids));

        if (q != NULL) {
            a->ids = q;
            a->ids_cap = a->nids + pg.nids;
        } else {
            a->ids_loaded = 0; /* read again from the pages' files */
        }
    }
    if (pg.nids > 0 && a->ids_loaded) {
        memcpy(a->ids + a->nids, pg.ids, pg.nids * sizeof(*a->ids));
        a->nids += pg.nids;
        sort_ids(a->ids, a->nids);
    }
    if (a->next != next) {
        snprintf(path, sizeof(path), "%s/.next", a->dir);
        n = snprintf(line, sizeof(line), "%ld\n", a->next);
        (void)put_file(path, line, (size_t)n);
    }
    if (rc == 0 && a->ids_loaded)
        rc = store_first_except(s, a->ids, a->nids, p, NULL, publish_collect,
                                open);
    else if (rc == 0)
        rc = -ENOMEM;
out:
    if (rc != 0 && !pg.logged)
        log_warnx("publish: archive pages not brought up to date: %s",
                  strerror(-rc));
    free(pg.ids);
    /* Read again at the next update rather than kept: 8 bytes an
     * archived entry would stay in memory between publishes. */
    free(a->ids);
    a->ids = NULL;
    a->nids = a->ids_cap = 0;
    a->ids_loaded = 0;
    if (a->listed) {
        archive_serve(a, httpd);
        *newest = a->npages ? a->pages[a->npages - 1] : -1;
    }
    return rc;
}

long
archive_served(struct archive *a, struct httpd *httpd)
{
    if (archive_list(a) != 0)
        return -1;
    archive_serve(a, httpd);
    return a->npages ? a->pages[a->npages - 1] : -1;
}

void
archive_unserve(struct archive *a)
{
    a->httpd = NULL;
    a->served = -1;
}

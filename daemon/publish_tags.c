/* daemon/publish_tags.c - the outputs of each tag (publish_int.h):
 * public/tag/NAME.atom, .rss, .json and .html, made of the newest
 * max_items entries of the feeds that have the tag. They are served from
 * their files, not kept in memory: there may be many tags, and what
 * feedd keeps of each is its name and one digest. A tag is made again
 * only when the digest of what it is made of changed (which entries and
 * which versions, from the store's index in memory; the settings; its
 * feeds), and each of its files is written only when its bytes change.
 * The digests are kept in public/.tags.stamp, one "DIGEST NAME" a line,
 * so that a restart does not make them again. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httpd.h"
#include "httpd_doc.h"
#include "log.h"
#include "publish_int.h"

/* The outputs of a tag: NAME.ext, of this content type and writer. */
static const struct {
    const char *ext;
    const char *type;
    publish_writer_fn *write;
} kinds[] = {
    {"atom", "application/atom+xml; charset=utf-8", feed_write_atom},
    {"rss", "application/rss+xml; charset=utf-8", feed_write_rss},
    {"json", "application/feed+json; charset=utf-8", feed_write_json},
    {"html", "text/html; charset=utf-8", feed_write_html},
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))
/* The longest tag: the config's limit on names (config/parser.h). */
#define TAG_MAX 64

/* A tag whose files are in place, and the digest they were made from. */
struct tag_state {
    uint64_t digest;
    int live; /* a feed of the config has it */
    char name[TAG_MAX + 1];
};

struct publish_tags {
    char *dir;        /* state_dir/public/tag */
    char *stamp_path; /* state_dir/public/.tags.stamp */
    struct tag_state *t;
    size_t n, cap;
    int loaded;          /* t holds the stamp's lines */
    int dirty;           /* t differs from the stamp */
    int sweep;           /* the config changed: look for files of tags gone */
    struct httpd *httpd; /* what the tags were set on, for served */
    uint64_t served;     /* the digest of the tags set on it, or 0 */
    struct publish_cache *cache; /* sanitized HTML to take, or NULL */
};

/* A tag of a feed: groups of these, sorted by tag, are the tags. */
struct tag_feed {
    const char *tag;
    const char *feed;
};

static int
tag_feed_cmp(const void *a, const void *b)
{
    const struct tag_feed *x = a, *y = b;
    int c = strcmp(x->tag, y->tag);

    return c != 0 ? c : strcmp(x->feed, y->feed);
}

/* 1 for a tag that is safe as a file name and a URL path segment: the
 * config's letters, digits, '.', '_' and '-', and no '.' first (no
 * hidden file, no "." or ".."). */
static int
tag_ok(const char *name)
{
    size_t i, n = strlen(name);

    if (n == 0 || n > TAG_MAX || name[0] == '.')
        return 0;
    for (i = 0; i < n; i++)
        if (!((name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= 'A' && name[i] <= 'Z') ||
              (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
              name[i] == '_' || name[i] == '-'))
            return 0;
    return 1;
}

/* Every (tag, feed) of cfg whose tag is safe, sorted: *pairs (the caller
 * frees it) and *n. Unsafe tags are logged when log_bad. -ENOMEM or 0. */
static int
tag_pairs(const struct config *cfg, struct tag_feed **pairs, size_t *n,
          int log_bad)
{
    size_t i, j, k = 0, total = 0;
    struct tag_feed *p;

    for (i = 0; i < cfg->nfeeds; i++)
        total += cfg->feeds[i].ntags;
    if ((p = calloc(total ? total : 1, sizeof(*p))) == NULL)
        return -ENOMEM;
    for (i = 0; i < cfg->nfeeds; i++)
        for (j = 0; j < cfg->feeds[i].ntags; j++) {
            if (!tag_ok(cfg->feeds[i].tags[j])) {
                if (log_bad)
                    log_warnx("publish: feed %s: tag \"%s\" is not published: "
                              "a tag that starts with '.' names no file",
                              cfg->feeds[i].name, cfg->feeds[i].tags[j]);
                continue;
            }
            p[k].tag = cfg->feeds[i].tags[j];
            p[k++].feed = cfg->feeds[i].name;
        }
    qsort(p, k, sizeof(*p), tag_feed_cmp);
    *pairs = p;
    *n = k;
    return 0;
}

struct publish_tags *
publish_tags_new(const char *public_dir)
{
    struct publish_tags *pt = calloc(1, sizeof(*pt));

    if (pt == NULL)
        return NULL;
    pt->dir = publish_path(public_dir, "tag");
    pt->stamp_path = publish_path(public_dir, ".tags.stamp");
    if (pt->dir == NULL || pt->stamp_path == NULL) {
        publish_tags_free(pt);
        return NULL;
    }
    pt->sweep = 1;
    return pt;
}

void
publish_tags_free(struct publish_tags *pt)
{
    if (pt == NULL)
        return;
    free(pt->t);
    free(pt->dir);
    free(pt->stamp_path);
    free(pt);
}

void
publish_tags_use_cache(struct publish_tags *pt, struct publish_cache *cache)
{
    pt->cache = cache;
}

void
publish_tags_sweep(struct publish_tags *pt)
{
    pt->sweep = 1;
}

void
publish_tags_unserve(struct publish_tags *pt)
{
    pt->httpd = NULL;
    pt->served = 0;
}

/* The state of tag name, added when add; NULL when there is none (or no
 * memory). */
static struct tag_state *
tag_find(struct publish_tags *pt, const char *name, int add)
{
    struct tag_state *t;
    size_t i, cap;

    for (i = 0; i < pt->n; i++)
        if (strcmp(pt->t[i].name, name) == 0)
            return &pt->t[i];
    if (!add || strlen(name) > TAG_MAX)
        return NULL;
    if (pt->n == pt->cap) {
        cap = pt->cap ? 2 * pt->cap : 16;
        if ((t = realloc(pt->t, cap * sizeof(*t))) == NULL)
            return NULL;
        pt->t = t;
        pt->cap = cap;
    }
    t = &pt->t[pt->n++];
    memset(t, 0, sizeof(*t));
    snprintf(t->name, sizeof(t->name), "%s", name);
    return t;
}

/* The stamp's lines, once; a line that does not read is left out (its
 * tag is made again). */
static void
tags_load(struct publish_tags *pt)
{
    char line[128], name[TAG_MAX + 1];
    struct tag_state *t;
    uint64_t d;
    FILE *fp;

    if (pt->loaded)
        return;
    pt->loaded = 1;
    if ((fp = fopen(pt->stamp_path, "r")) == NULL)
        return;
    while (fgets(line, sizeof(line), fp) != NULL)
        if (sscanf(line, "%" SCNx64 " %64s", &d, name) == 2 && tag_ok(name) &&
            (t = tag_find(pt, name, 1)) != NULL)
            t->digest = d;
    fclose(fp);
}

static void
tags_save(struct publish_tags *pt)
{
    struct feed_buf b;
    size_t i;
    int rc = 0;

    if (!pt->dirty)
        return;
    feed_buf_init(&b, 0);
    for (i = 0; i < pt->n && rc == 0; i++)
        if (pt->t[i].digest != 0)
            rc = feed_buf_printf(&b, "%016" PRIx64 " %s\n", pt->t[i].digest,
                                 pt->t[i].name);
    if (rc == 0)
        rc = store_file_replace(pt->stamp_path, b.data ? b.data : "", b.len);
    if (rc != 0) {
        errno = rc < 0 ? -rc : ENOMEM;
        log_debug("publish: cannot write %s: %s", pt->stamp_path,
                  strerror(errno));
    } else {
        pt->dirty = 0;
    }
    feed_buf_free(&b);
}

/* dir/NAME.ext into buf. */
static void
tag_file(const struct publish_tags *pt, const char *name, const char *ext,
         char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.%s", pt->dir, name, ext);
}

/* path.gz, the gzip copy of the document b that the server sends to a
 * client that takes gzip: compressed once, here, when path was just
 * written (written set), or when the copy is missing or older than path
 * (NULL from httpd_gzip(): not smaller, none). */
static void
tag_gzip(const char *path, const struct feed_buf *b, int written)
{
    char gz[PATH_MAX + 4];
    struct stat a, z;
    unsigned char *data;
    size_t len;
    int rc;

    snprintf(gz, sizeof(gz), "%s.gz", path);
    if (!written && stat(path, &a) == 0 && stat(gz, &z) == 0 &&
        (z.st_mtim.tv_sec > a.st_mtim.tv_sec ||
         (z.st_mtim.tv_sec == a.st_mtim.tv_sec &&
          z.st_mtim.tv_nsec >= a.st_mtim.tv_nsec)))
        return;
    if ((data = httpd_gzip(b->data, b->len, 6, &len)) == NULL) {
        (void)unlink(gz);
        return;
    }
    if ((rc = store_file_replace(gz, data, len)) != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", gz);
        (void)unlink(gz);
    }
    free(data);
}

/* Removes the files of tag name. */
static void
tag_remove(const struct publish_tags *pt, const char *name)
{
    char path[PATH_MAX], gz[PATH_MAX + 4];
    size_t k;

    for (k = 0; k < NKINDS; k++) {
        tag_file(pt, name, kinds[k].ext, path, sizeof(path));
        snprintf(gz, sizeof(gz), "%s.gz", path);
        if ((unlink(path) != 0 && errno != ENOENT) ||
            (unlink(gz) != 0 && errno != ENOENT))
            log_warn("publish: cannot remove %s", path);
    }
    log_info("publish: tag %s is gone: its outputs removed", name);
}

/* 1 when tag name is among pairs[0, n) (sorted). */
static int
tag_live(const struct tag_feed *pairs, size_t n, const char *name)
{
    size_t lo = 0, hi = n, mid;
    int c;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if ((c = strcmp(pairs[mid].tag, name)) == 0)
            return 1;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

/* Removes from dir the outputs of tags that are not in pairs: those a
 * run left before the config changed without its stamp knowing. */
static void
tags_sweep(struct publish_tags *pt, const struct tag_feed *pairs, size_t n)
{
    char name[NAME_MAX + 1], path[PATH_MAX];
    struct dirent *de;
    size_t k, len, el;
    DIR *d;

    if ((d = opendir(pt->dir)) == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        len = strlen(de->d_name);
        /* NAME.EXT.gz goes with NAME.EXT. */
        if (len > 3 && strcmp(de->d_name + len - 3, ".gz") == 0)
            len -= 3;
        for (k = 0; k < NKINDS; k++) {
            el = strlen(kinds[k].ext);
            if (len > el + 1 && de->d_name[len - el - 1] == '.' &&
                strcmp(de->d_name + len - el, kinds[k].ext) == 0)
                break;
        }
        if (k == NKINDS)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(len - el - 1), de->d_name);
        if (tag_live(pairs, n, name))
            continue;
        snprintf(path, sizeof(path), "%s/%s", pt->dir, de->d_name);
        if (unlink(path) != 0 && errno != ENOENT)
            log_warn("publish: cannot remove %s", path);
    }
    closedir(d);
}

/* 1 when every file of tag name is there. */
static int
tag_files_there(const struct publish_tags *pt, const char *name)
{
    char path[PATH_MAX];
    struct stat sb;
    size_t k;

    for (k = 0; k < NKINDS; k++) {
        tag_file(pt, name, kinds[k].ext, path, sizeof(path));
        if (stat(path, &sb) != 0)
            return 0;
    }
    return 1;
}

/* Makes the outputs of tag name from c and writes those whose bytes
 * changed. 0 or a negative errno (logged). */
static int
tag_write(const struct publish_tags *pt, const struct config *cfg,
          const char *name, const struct publish_items *c)
{
    char base[PUBLISH_BASE_MAX], title[512], self[PUBLISH_BASE_MAX + 96],
        id[PUBLISH_BASE_MAX + 96], home[PUBLISH_BASE_MAX + 96],
        opml[PUBLISH_BASE_MAX + 16], path[PATH_MAX];
    struct feed_item *flat;
    struct feed_buf *safe, b;
    struct feed_meta meta;
    size_t k;
    int rc, same;

    if ((rc = publish_prepare(c, pt->cache, 0, &flat, &safe)) != 0)
        return rc;
    publish_base_url(cfg, base);
    snprintf(title, sizeof(title), "%s \xe2\x80\x94 %s",
             cfg->title != NULL ? cfg->title : "feedd", name);
    snprintf(id, sizeof(id), "%stag/%s.atom", base, name);
    snprintf(home, sizeof(home), "%stag/%s.html", base, name);
    snprintf(opml, sizeof(opml), "%sfeeds.opml", base);
    memset(&meta, 0, sizeof(meta));
    meta.title = title;
    meta.id = id;
    meta.home_url = home;
    meta.updated = publish_updated(flat, c->n);
    meta.stem = name;
    meta.opml_url = opml;
    meta.sanitized = 1;
    for (k = 0; k < NKINDS && rc == 0; k++) {
        snprintf(self, sizeof(self), "%stag/%s.%s", base, name, kinds[k].ext);
        meta.self_url = self;
        feed_buf_init(&b, 0);
        if (kinds[k].write(&b, &meta, flat, c->n) != 0) {
            rc = -ENOMEM;
            log_warnx("publish: out of memory");
        } else {
            tag_file(pt, name, kinds[k].ext, path, sizeof(path));
            same = publish_file_same(path, b.data, b.len);
            if (!same && (rc = store_file_replace(path, b.data, b.len)) != 0) {
                errno = -rc;
                log_warn("publish: cannot write %s", path);
            } else {
                tag_gzip(path, &b, !same);
            }
        }
        feed_buf_free(&b);
    }
    publish_prepared_free(flat, safe, c->n);
    return rc;
}

/* Brings tag pairs[0, n)'s outputs up to date (all the pairs are of the
 * one tag). */
static int
tag_update(struct publish_tags *pt, struct store *s, const struct config *cfg,
           const struct tag_feed *pairs, size_t n, uint64_t settings)
{
    const char *name = pairs[0].tag, **feeds = calloc(n, sizeof(*feeds));
    struct publish_items c;
    struct tag_state *t;
    uint64_t sel = 0, h;
    size_t i;
    int rc;

    if (feeds == NULL)
        return -ENOMEM;
    h = publish_digest_str(settings, name);
    for (i = 0; i < n; i++) {
        feeds[i] = pairs[i].feed;
        h = publish_digest_str(h, feeds[i]);
    }
    memset(&c, 0, sizeof(c));
    rc = store_recent_feeds(s, cfg->max_items, feeds, n, &sel, NULL, NULL);
    h = publish_digest_u64(h, sel);
    h = h != 0 ? h : 1;
    t = tag_find(pt, name, 1);
    if (rc == 0 && t != NULL && t->digest == h && tag_files_there(pt, name))
        goto out;
    if (rc == 0)
        rc = store_recent_feeds(s, cfg->max_items, feeds, n, NULL,
                                publish_collect, &c);
    if (rc != 0)
        log_warnx("publish: tag %s: cannot read its entries: %s", name,
                  rc == -ENOMEM ? "out of memory" : store_error(s));
    else
        rc = tag_write(pt, cfg, name, &c);
    if (t != NULL && t->digest != (rc == 0 ? h : 0)) {
        t->digest = rc == 0 ? h : 0;
        pt->dirty = 1;
    }
out:
    if (t != NULL)
        t->live = 1;
    publish_items_free(&c);
    free(feeds);
    return rc;
}

int
publish_tags_update(struct publish_tags *pt, struct store *s,
                    const struct config *cfg, struct httpd *httpd,
                    uint64_t settings)
{
    struct tag_feed *pairs;
    size_t n, i, j, w;
    int rc, r;

    tags_load(pt);
    if ((rc = tag_pairs(cfg, &pairs, &n, pt->sweep)) != 0) {
        log_warnx("publish: out of memory");
        return rc;
    }
    if (n > 0 && mkdir(pt->dir, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        log_warn("publish: cannot make %s", pt->dir);
        free(pairs);
        return rc;
    }
    for (i = 0; i < pt->n; i++)
        pt->t[i].live = 0;
    for (i = 0; i < n; i = j) {
        for (j = i + 1; j < n && strcmp(pairs[j].tag, pairs[i].tag) == 0; j++)
            ;
        if ((r = tag_update(pt, s, cfg, pairs + i, j - i, settings)) != 0 &&
            rc == 0)
            rc = r;
    }
    /* The tags no feed has any more: their files go, and their paths
     * answer 404 from now on (the server finds no file). */
    for (i = w = 0; i < pt->n; i++) {
        if (pt->t[i].live) {
            pt->t[i].live = 0;
            pt->t[w++] = pt->t[i];
            continue;
        }
        tag_remove(pt, pt->t[i].name);
        pt->dirty = 1;
    }
    pt->n = w;
    if (pt->sweep) {
        tags_sweep(pt, pairs, n);
        pt->sweep = 0;
    }
    tags_save(pt);
    free(pairs);
    publish_tags_serve(pt, cfg, httpd);
    return rc;
}

void
publish_tags_serve(struct publish_tags *pt, const struct config *cfg,
                   struct httpd *httpd)
{
    char path[TAG_MAX + 16], file[PATH_MAX];
    struct tag_feed *pairs;
    uint64_t h = PUBLISH_FNV;
    size_t n, i, k;
    int rc = 0;

    if (httpd == NULL || tag_pairs(cfg, &pairs, &n, 0) != 0)
        return;
    for (i = 0; i < n; i++)
        if (i == 0 || strcmp(pairs[i].tag, pairs[i - 1].tag) != 0)
            h = publish_digest_str(h, pairs[i].tag);
    if (httpd == pt->httpd && h == pt->served) {
        free(pairs);
        return;
    }
    for (i = 0; i < n && rc == 0; i++) {
        if (i > 0 && strcmp(pairs[i].tag, pairs[i - 1].tag) == 0)
            continue;
        for (k = 0; k < NKINDS && rc == 0; k++) {
            snprintf(path, sizeof(path), "/tag/%s.%s", pairs[i].tag,
                     kinds[k].ext);
            tag_file(pt, pairs[i].tag, kinds[k].ext, file, sizeof(file));
            rc = httpd_set_file(httpd, path, kinds[k].type, file);
        }
    }
    free(pairs);
    if (rc != 0) {
        log_warnx("publish: cannot serve the tags' outputs: %s", strerror(-rc));
        return;
    }
    pt->httpd = httpd;
    pt->served = h;
}

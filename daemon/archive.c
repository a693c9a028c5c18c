/* daemon/archive.c - the merged feed's archive pages (RFC 5005 §4):
 * /archive/K.atom, K.rss and K.json, page K holding the P items stored
 * after those of page K - 1 (P is max_items when the page is made), in
 * the store's commit order (store_first_except()). A page is fixed once,
 * when it is complete, by its IDs, and never changes. Its documents are
 * made from those IDs when a reader asks (httpd_set_dynamic()), each
 * entry as the store has it then: a cold start with a large store
 * writes IDs, not thousands of sanitized documents nobody may read.
 *
 * The IDs of every page are in one file, public/archive/pages, page
 * after page, oldest first: a line "page K N", then its N IDs a line,
 * newest first. An update appends the pages it fixes in one write,
 * unsynced: a crash may lose or tear the last pages, which the next
 * start cuts off (their entries are open again and make new pages).
 * Every ID line is FEED_ID_LEN + 1 bytes, so the pages are listed from
 * their headers alone. The files of an older feedd, K.ids a page, are
 * moved into pages when found.
 *
 * Every item stored is in a page or among the open ones, those not in
 * any page yet (fewer than P), which the subscription documents carry
 * beside their newest max_items. Retention: a page goes once the store
 * has none of its items and no older page is left, so that the
 * prev-archive links of the pages that stay never lead to a missing
 * one (pages is written again without it); a page with some of its
 * items gone stays as it was written. The IDs of every page are read at
 * each update (8 bytes an archived entry, freed after it) to tell the
 * open entries from the others in one pass over the store's index. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
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

/* An ID line of pages, and the most IDs a page header may claim. */
#define ID_LINE (FEED_ID_LEN + 1)
#define PAGE_MAX_IDS 1000000L

/* A page in pages: its number, where its header line begins, its IDs. */
struct page {
    long k;
    off_t off;
    size_t n;
};

struct archive {
    char *dir;          /* state_dir/public/archive */
    char *file;         /* dir/pages */
    struct page *pages; /* those in file, ascending */
    size_t npages, pages_cap;
    long next;     /* the number of the next page */
    int listed;    /* pages and next are read from file and dir */
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

    if (a == NULL || (a->dir = publish_path(public_dir, "archive")) == NULL ||
        (a->file = publish_path(a->dir, "pages")) == NULL) {
        if (a != NULL)
            free(a->dir);
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
    free(a->file);
    free(a->dir);
    free(a);
}

/* dir/K.ext into buf: a file of an older feedd's page K. */
static void
page_path(const struct archive *a, long k, const char *ext, char *buf,
          size_t len)
{
    snprintf(buf, len, "%s/%ld.%s", a->dir, k, ext);
}

static int
pages_add(struct archive *a, const struct page *pg)
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
    a->pages[a->npages++] = *pg;
    return 0;
}

/* The index in pages of page k, or -1. */
static long
page_find(const struct archive *a, long k)
{
    size_t lo = 0, hi = a->npages, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (a->pages[mid].k < k)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->npages && a->pages[lo].k == k ? (long)lo : -1;
}

/* The ID on line (with its '\n' or not) appended to *ids, grown as
 * needed; a line that is not one is passed over. 0 or -ENOMEM. */
static int
id_push(char *line, uint64_t **ids, size_t *n, size_t *cap)
{
    uint64_t v;
    void *p;

    line[strcspn(line, "\n")] = '\0';
    if (feed_id_parse(line, &v) != 0)
        return 0;
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        if ((p = realloc(*ids, *cap * sizeof(**ids))) == NULL)
            return -ENOMEM;
        *ids = p;
    }
    (*ids)[(*n)++] = v;
    return 0;
}

/* The IDs of page pg of the file open in fp, appended to *ids: each read
 * as the ID_LINE bytes it takes, so that a damaged line is passed over
 * alone. 0, or a negative errno. */
static int
page_read(FILE *fp, const struct page *pg, uint64_t **ids, size_t *n,
          size_t *cap)
{
    char line[64];
    size_t i;
    int rc = 0;

    if (fseeko(fp, pg->off, SEEK_SET) != 0 ||
        fgets(line, sizeof(line), fp) == NULL)
        return -EIO;
    for (i = 0; rc == 0 && i < pg->n; i++) {
        if (fread(line, 1, ID_LINE, fp) != ID_LINE)
            return -EIO;
        line[ID_LINE] = '\0';
        if (line[FEED_ID_LEN] == '\n')
            rc = id_push(line, ids, n, cap);
    }
    return rc;
}

/* The IDs of pages[i], appended to *ids. 0, or a negative errno. */
static int
page_ids(const struct archive *a, size_t i, uint64_t **ids, size_t *n,
         size_t *cap)
{
    FILE *fp;
    int rc;

    if ((fp = fopen(a->file, "re")) == NULL)
        return -errno;
    rc = page_read(fp, &a->pages[i], ids, n, cap);
    fclose(fp);
    return rc;
}

/* The page whose header is at off in fd, of a file of size bytes, into
 * *pg: the length of the page, header and IDs, or 0 when there is none
 * there whole, with a number above prev. */
static off_t
page_header(int fd, off_t off, off_t size, long prev, struct page *pg)
{
    char buf[64], *end, *p;
    ssize_t got = pread(fd, buf, sizeof(buf) - 1, off);
    long k, n;
    off_t len;

    if (got <= 0)
        return 0;
    buf[got] = '\0';
    if ((end = memchr(buf, '\n', (size_t)got)) == NULL ||
        strncmp(buf, "page ", 5) != 0)
        return 0;
    *end = '\0';
    errno = 0;
    k = strtol(buf + 5, &p, 10);
    if (errno != 0 || p == buf + 5 || *p != ' ' || k <= prev)
        return 0;
    n = strtol(p + 1, &p, 10);
    if (errno != 0 || *p != '\0' || n < 1 || n > PAGE_MAX_IDS)
        return 0;
    len = (off_t)(end + 1 - buf) + (off_t)n * ID_LINE;
    if (len > size - off)
        return 0;
    pg->k = k;
    pg->off = off;
    pg->n = (size_t)n;
    return len;
}

/* Pages appended to the file in one go: their lines gathered and written
 * APPEND_CHUNK at a time; all undone when a write fails. */
#define APPEND_CHUNK 65536

struct appender {
    struct archive *a;
    int fd;     /* the file, open to write; -1 until the first page */
    off_t base; /* its size before */
    off_t done; /* bytes written since */
    struct feed_buf buf;
    size_t made; /* pages added to a->pages */
    int logged;  /* a failure to write, logged */
};

static void
append_init(struct appender *w, struct archive *a)
{
    memset(w, 0, sizeof(*w));
    w->a = a;
    w->fd = -1;
    feed_buf_init(&w->buf, 0);
}

/* Writes the lines gathered after those written. 0 or a negative
 * errno. */
static int
append_flush(struct appender *w)
{
    int rc = store_write_all(w->fd, w->buf.data, w->buf.len,
                             (uint64_t)(w->base + w->done));

    if (rc == 0) {
        w->done += (off_t)w->buf.len;
        w->buf.len = 0;
    }
    return rc;
}

/* Page k of the IDs ids[0, n) (in commit order, oldest first) added to
 * the pages and its lines to those to write. 0 or a negative errno. */
static int
append_page(struct appender *w, long k, const uint64_t *ids, size_t n)
{
    struct archive *a = w->a;
    char id[ID_LINE], head[64];
    struct page pg;
    struct stat st;
    size_t i;
    int len, rc;

    if (w->fd < 0) {
        errno = 0;
        /* The folder is made by the first page that finds it missing. */
        if ((w->fd = open(a->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)) < 0 &&
            errno == ENOENT && (mkdir(a->dir, 0755) == 0 || errno == EEXIST))
            w->fd = open(a->file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        if (w->fd < 0 || fstat(w->fd, &st) != 0) {
            rc = errno ? -errno : -EIO;
            log_warn("publish: cannot write %s", a->file);
            w->logged = 1;
            return rc;
        }
        w->base = st.st_size;
    }
    len = snprintf(head, sizeof(head), "page %ld %zu\n", k, n);
    pg.k = k;
    pg.n = n;
    pg.off = w->base + w->done + (off_t)w->buf.len;
    if (feed_buf_append(&w->buf, head, (size_t)len) != 0)
        return -ENOMEM;
    for (i = n; i-- > 0;) {
        feed_id_format(ids[i], id);
        id[FEED_ID_LEN] = '\n';
        if (feed_buf_append(&w->buf, id, sizeof(id)) != 0)
            return -ENOMEM;
    }
    if ((rc = pages_add(a, &pg)) != 0)
        return rc;
    w->made++;
    return w->buf.len >= APPEND_CHUNK ? append_flush(w) : 0;
}

/* Ends the appending begun with append_init(): when rc is 0, writes what
 * is left. When rc or that fails, the pages made are taken back and the
 * file cut to its size before. rc, or the write's failure (logged, as
 * w->logged says). */
static int
append_end(struct appender *w, int rc)
{
    struct archive *a = w->a;

    if (rc == 0 && w->fd >= 0 && (rc = append_flush(w)) != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", a->file);
        w->logged = 1;
    }
    if (rc != 0) {
        a->npages -= w->made;
        if (w->fd >= 0 && w->done > 0 && ftruncate(w->fd, w->base) != 0) {
            log_warn("publish: cannot cut %s back to %lld bytes", a->file,
                     (long long)w->base);
            a->listed = 0; /* read again: the pages may be there */
        }
    }
    if (w->fd >= 0)
        (void)close(w->fd);
    w->fd = -1;
    feed_buf_free(&w->buf);
    return rc;
}

/* Moves the pages of an older feedd, a file K.ids each (its IDs, newest
 * first), into pages: those after its last page are appended in one
 * go, then every such file goes, with K.atom, K.rss and K.json (older
 * still). 0 or a negative errno (logged). */
static int
archive_legacy(struct archive *a)
{
    struct appender w;
    struct dirent *de;
    char *end, path[PATH_MAX], line[64];
    uint64_t *ids = NULL, t;
    long *old = NULL, k;
    size_t nold = 0, cap = 0, n, idcap = 0, i, j;
    FILE *fp;
    DIR *d;
    int rc = 0;

    if ((d = opendir(a->dir)) == NULL) {
        if (errno == ENOENT)
            return 0;
        rc = -errno;
        log_warn("publish: cannot read %s", a->dir);
        return rc;
    }
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        errno = 0;
        k = strtol(de->d_name, &end, 10);
        if (errno != 0 || k < 0 || strcmp(end, ".ids") != 0)
            continue;
        if (nold == cap) {
            void *p = realloc(old, (cap = cap ? 2 * cap : 64) * sizeof(*old));

            if (p == NULL) {
                rc = -ENOMEM;
                break;
            }
            old = p;
        }
        old[nold++] = k;
    }
    closedir(d);
    if (rc != 0 || nold == 0) {
        free(old);
        return rc;
    }
    qsort(old, nold, sizeof(*old), long_cmp);
    append_init(&w, a);
    for (i = 0; i < nold && rc == 0; i++) {
        if (a->npages > 0 && old[i] <= a->pages[a->npages - 1].k)
            continue; /* moved before the last start ended */
        page_path(a, old[i], "ids", path, sizeof(path));
        if ((fp = fopen(path, "re")) == NULL)
            continue;
        n = 0;
        while (rc == 0 && fgets(line, sizeof(line), fp) != NULL)
            rc = id_push(line, &ids, &n, &idcap);
        fclose(fp);
        for (j = 0; j < n / 2; j++) {
            t = ids[j];
            ids[j] = ids[n - 1 - j];
            ids[n - 1 - j] = t;
        }
        if (rc == 0 && n > 0)
            rc = append_page(&w, old[i], ids, n);
    }
    if ((rc = append_end(&w, rc)) == 0) {
        for (i = 0; i < nold; i++)
            for (j = 0; j <= NFMTS; j++) {
                page_path(a, old[i], j == 0 ? "ids" : fmts[j - 1].ext, path,
                          sizeof(path));
                if (unlink(path) != 0 && errno != ENOENT)
                    log_warn("publish: cannot remove %s", path);
            }
        log_info("publish: %zu archive pages moved from their own files into "
                 "%s",
                 nold, a->file);
    } else if (!w.logged && rc != -ENOMEM) {
        log_warnx("publish: cannot move the archive pages of %s into %s: %s",
                  a->dir, a->file, strerror(-rc));
    }
    free(ids);
    free(old);
    return rc;
}

/* The pages in the file, from their headers, and the next number: one
 * past the newest page, or what .next says when that is more (pages all
 * gone do not give their numbers again). What follows the last whole
 * page (one torn by a crash, or damage) is cut off. */
static int
archive_list(struct archive *a)
{
    char line[32], path[PATH_MAX];
    struct page pg;
    struct stat st;
    off_t off = 0, len;
    FILE *fp;
    long k;
    int fd, rc = 0;

    if (a->listed)
        return 0;
    a->npages = 0;
    if ((fd = open(a->file, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT) {
        rc = -errno;
        log_warn("publish: cannot read %s", a->file);
        return rc;
    }
    if (fd >= 0 && fstat(fd, &st) != 0) {
        rc = -errno;
        log_warn("publish: cannot read %s", a->file);
        close(fd);
        return rc;
    }
    while (fd >= 0 && rc == 0 && off < st.st_size &&
           (len = page_header(fd, off, st.st_size,
                              a->npages ? a->pages[a->npages - 1].k : -1,
                              &pg)) > 0) {
        rc = pages_add(a, &pg);
        off += len;
    }
    if (fd >= 0)
        close(fd);
    if (rc != 0)
        return rc;
    if (fd >= 0 && off < st.st_size) {
        log_warnx("publish: %s: the pages after byte %lld of %lld are torn "
                  "or damaged: cut off, their entries are open again",
                  a->file, (long long)off, (long long)st.st_size);
        if (truncate(a->file, off) != 0)
            log_warn("publish: cannot cut %s", a->file);
    }
    if ((rc = archive_legacy(a)) != 0)
        return rc;
    a->next = a->npages ? a->pages[a->npages - 1].k + 1 : 0;
    snprintf(path, sizeof(path), "%s/.next", a->dir);
    if ((fp = fopen(path, "re")) != NULL) {
        if (fgets(line, sizeof(line), fp) != NULL &&
            (k = strtol(line, NULL, 10)) > a->next)
            a->next = k;
        fclose(fp);
    }
    a->listed = 1;
    return 0;
}

/* Every page's IDs, once, in one read of the file. */
static int
archive_load_ids(struct archive *a)
{
    size_t i;
    FILE *fp;
    int rc = 0;

    if (a->ids_loaded)
        return 0;
    a->nids = 0;
    if (a->npages > 0) {
        if ((fp = fopen(a->file, "re")) == NULL)
            return -errno;
        for (i = 0; i < a->npages && rc == 0; i++)
            rc = page_read(fp, &a->pages[i], &a->ids, &a->nids, &a->ids_cap);
        fclose(fp);
        if (rc != 0)
            return rc;
    }
    sort_ids(a->ids, a->nids);
    a->ids_loaded = 1;
    return 0;
}

/* The bytes of the file from off to its end: a store_fill_fn. */
struct tail {
    const char *file;
    off_t off; /* -1: none */
};

static int
copy_tail(int fd, void *arg)
{
    const struct tail *t = arg;
    char buf[65536];
    off_t at = t->off;
    ssize_t got;
    int in, rc = 0;

    if (t->off < 0)
        return 0;
    if ((in = open(t->file, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    while (rc == 0 && (got = pread(in, buf, sizeof(buf), at)) != 0) {
        if (got < 0) {
            rc = errno == EINTR ? 0 : -errno;
            continue;
        }
        rc = store_write_all(fd, buf, (size_t)got, (uint64_t)(at - t->off));
        at += got;
    }
    close(in);
    return rc;
}

/* Removes the oldest pages whose items the store no longer has, up to the
 * first that has one: the file is written again without them, and their
 * IDs leave memory. 0 or a negative errno (logged). */
static int
archive_retire(struct archive *a, struct store *s)
{
    uint64_t *gone = NULL;
    size_t n = 0, cap = 0, first = 0, r, i, j, w;
    struct tail t;
    off_t delta;
    int rc = 0, live = 0;

    for (r = 0; r < a->npages && rc == 0 && !live;) {
        first = n;
        if ((rc = page_ids(a, r, &gone, &n, &cap)) != 0)
            break;
        for (i = first; i < n && !live; i++)
            live = store_has(s, gone[i]);
        if (!live)
            r++;
    }
    if (live)
        n = first; /* the IDs of the page that stays */
    if (rc != 0 || r == 0) {
        if (rc != 0 && rc != -ENOMEM) {
            errno = -rc;
            log_warn("publish: cannot read %s", a->file);
        }
        free(gone);
        return rc;
    }
    t.file = a->file;
    t.off = r < a->npages ? a->pages[r].off : -1;
    if ((rc = store_file_replace_fn(a->file, copy_tail, &t)) != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", a->file);
        free(gone);
        return rc;
    }
    for (i = 0; i < r; i++)
        log_info("publish: archive page %ld removed: its entries are gone",
                 a->pages[i].k);
    delta = r < a->npages ? a->pages[r].off : 0;
    a->npages -= r;
    memmove(a->pages, a->pages + r, a->npages * sizeof(*a->pages));
    for (i = 0; i < a->npages; i++)
        a->pages[i].off -= delta;
    sort_ids(gone, n);
    for (i = j = w = 0; i < a->nids; i++) {
        while (j < n && gone[j] < a->ids[i])
            j++;
        if (j < n && gone[j] == a->ids[i])
            continue;
        a->ids[w++] = a->ids[i];
    }
    a->nids = w;
    free(gone);
    return 0;
}

/* Sets the pages not set yet on the server. */
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
        if (a->pages[i].k <= a->served)
            continue;
        for (k = 0, rc = 0; k < NFMTS && rc == 0; k++) {
            snprintf(path, sizeof(path), "/archive/%ld.%s", a->pages[i].k,
                     fmts[k].ext);
            rc =
                httpd_set_dynamic(httpd, path, fmts[k].type, archive_render, a);
        }
        if (rc != 0) {
            log_warnx("publish: cannot serve archive page %ld: %s",
                      a->pages[i].k, strerror(-rc));
            return;
        }
        a->served = a->pages[i].k;
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

/* An httpd_render_fn: the document at /archive/K.EXT, made of the
 * entries of page K's IDs that the store still has. */
static int
archive_render(void *arg, const char *path, struct feed_buf *out)
{
    struct archive *a = arg;
    const struct config *cfg = *a->cfg;
    char base[PUBLISH_BASE_MAX], self[PUBLISH_BASE_MAX + 64],
        prev[PUBLISH_BASE_MAX + 64], cur[PUBLISH_BASE_MAX + 16], ext[8],
        id[FEED_ID_LEN + 1];
    struct publish_items c;
    struct feed_item *flat;
    struct feed_buf *safe;
    struct feed_meta meta;
    uint64_t *ids = NULL;
    size_t n = 0, cap = 0, i, f;
    long k, at;
    int rc;

    if (sscanf(path, "/archive/%ld.%7s", &k, ext) != 2 || k < 0)
        return -ENOENT;
    for (f = 0; f < NFMTS && strcmp(ext, fmts[f].ext) != 0; f++)
        ;
    if (f == NFMTS)
        return -ENOENT;
    if ((rc = archive_list(a)) != 0)
        return rc;
    if ((at = page_find(a, k)) < 0)
        return -ENOENT;
    if ((rc = page_ids(a, (size_t)at, &ids, &n, &cap)) != 0)
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
    memset(&meta, 0, sizeof(meta));
    meta.title = cfg->title;
    meta.home_url = base;
    meta.updated = publish_updated(flat, c.n);
    meta.archive = 1;
    meta.self_url = self;
    meta.id = self;
    meta.current_url = cur;
    meta.prev_archive = k > 0 && page_find(a, k - 1) >= 0 ? prev : NULL;
    rc = fmts[f].write(out, &meta, flat, c.n) != 0 ? -ENOMEM : 0;
    publish_prepared_free(flat, safe, c.n);
    publish_items_free(&c);
    return rc;
}

/* The IDs of the entries in no page yet, in commit order. */
struct open_ids {
    uint64_t *v;
    size_t n, cap;
};

/* A store_id_fn: the next entry in no page. */
static int
open_add(uint64_t id, void *arg)
{
    struct open_ids *o = arg;
    void *q;

    if (o->n == o->cap) {
        size_t cap = o->cap ? 2 * o->cap : 256;

        if ((q = realloc(o->v, cap * sizeof(*o->v))) == NULL)
            return -ENOMEM;
        o->v = q;
        o->cap = cap;
    }
    o->v[o->n++] = id;
    return 0;
}

int
archive_update(struct archive *a, struct store *s, const struct config *cfg,
               struct httpd *httpd, struct publish_items *open, long *newest)
{
    struct appender w;
    struct open_ids o;
    char path[PATH_MAX], line[32], id[FEED_ID_LEN + 1];
    size_t p = cfg->max_items ? cfg->max_items : 1, i, made = 0;
    long next; /* a->next before this update */
    int rc, n, logged = 0;

    *newest = -1;
    memset(&o, 0, sizeof(o));
    append_init(&w, a);
    /* list() and retire() log their failures; load_ids() does not. */
    if ((rc = archive_list(a)) != 0) {
        logged = rc != -ENOMEM;
        goto out;
    }
    if ((rc = archive_load_ids(a)) != 0)
        goto out;
    if ((rc = archive_retire(a, s)) != 0) {
        logged = rc != -ENOMEM;
        goto out;
    }
    next = a->next;
    /* One pass over the index, O(entries log archived): every entry in
     * no page, in commit order. Each p of them make a page, in one
     * write; the rest (fewer than p) are the open ones. A failure makes
     * none. */
    rc = store_first_ids_except(s, a->ids, a->nids, SIZE_MAX, open_add, &o);
    for (; rc == 0 && o.n - made >= p; made += p) {
        rc = append_page(&w, a->next, o.v + made, p);
        if (rc == 0)
            log_debug("publish: archive page %ld fixed", a->next++);
    }
    if ((rc = append_end(&w, rc)) != 0) {
        logged = w.logged;
        a->next = next;
        made = 0;
    }
    if (a->next != next) {
        snprintf(path, sizeof(path), "%s/.next", a->dir);
        n = snprintf(line, sizeof(line), "%ld\n", a->next);
        (void)put_file(path, line, (size_t)n);
    }
    /* The open ones, as the store has them (a damaged record is passed
     * over, and forgotten). */
    for (i = made; rc == 0 && i < o.n; i++) {
        feed_id_format(o.v[i], id);
        rc = store_get(s, id, publish_collect, open);
        if (rc == -ENOENT || rc == -EBADMSG)
            rc = 0;
    }
out:
    if (rc != 0 && !logged)
        log_warnx("publish: archive pages not brought up to date: %s",
                  strerror(-rc));
    free(o.v);
    /* Read again at the next update rather than kept: 8 bytes an
     * archived entry would stay in memory between publishes. */
    free(a->ids);
    a->ids = NULL;
    a->nids = a->ids_cap = 0;
    a->ids_loaded = 0;
    if (a->listed) {
        archive_serve(a, httpd);
        *newest = a->npages ? a->pages[a->npages - 1].k : -1;
    }
    return rc;
}

long
archive_served(struct archive *a, struct httpd *httpd)
{
    if (archive_list(a) != 0)
        return -1;
    archive_serve(a, httpd);
    return a->npages ? a->pages[a->npages - 1].k : -1;
}

void
archive_unserve(struct archive *a)
{
    a->httpd = NULL;
    a->served = -1;
}

/* store/compact.c - retention and compaction: store_compact() writes a
 * whole new generation of items/ in items.new/ (the kept lines copied as
 * they are, their index, items/dropped) and swaps it in with two renames;
 * store_gen_recover() finishes or undoes at open a swap that a crash cut
 * short. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* ---- recovery at open --------------------------------------------------- */

/* Finishes or undoes a compaction that a crash cut short. store_compact()
 * writes items.new/ whole and syncs it, renames items/ to items.old/ and
 * items.new/ to items/, syncs the state folder and only then removes
 * items.old/. So:
 *   - items.old/ without items/: the crash came between the renames; the
 *     old generation, complete, goes back (the new one is dropped below,
 *     as if the compaction had not begun);
 *   - items.new/ beside items/: an unfinished new generation, removed;
 *   - items.old/ beside items/: the swap is done, the old one is removed.
 * An empty items/ beside items.old/ was made by an open that did not know
 * about compaction: items.old/ wins over it. */
int
store_gen_recover(struct store *s)
{
    int items, old, new, rc;

    if ((items = store_dir_exists(s->dir_fd, "items")) < 0 ||
        (old = store_dir_exists(s->dir_fd, "items.old")) < 0 ||
        (new = store_dir_exists(s->dir_fd, "items.new")) < 0) {
        rc = items < 0 ? items : old < 0 ? old : new;
        store_fail(s, "%s/items: %s", s->dir, strerror(-rc));
        return rc;
    }
    if (old && items && store_dir_empty(s->dir_fd, "items") == 1 &&
        unlinkat(s->dir_fd, "items", AT_REMOVEDIR) == 0)
        items = 0;
    if (old && !items) {
        if (renameat(s->dir_fd, "items.old", s->dir_fd, "items") != 0) {
            rc = -errno;
            store_fail(s, "%s/items.old: rename to items: %s", s->dir,
                       strerror(errno));
            return rc;
        }
        if ((rc = store_dir_sync(s->dir_fd)) != 0) {
            store_fail(s, "%s: fsync: %s", s->dir, strerror(-rc));
            return rc;
        }
        store_warn(s, "items: a compaction was cut short; the items "
                      "from before it are back");
        old = 0;
    }
    if (new && (rc = store_dir_remove(s->dir_fd, "items.new")) != 0)
        store_warn(s,
                   "items.new: left by a compaction cut short, cannot "
                   "be removed: %s",
                   strerror(-rc));
    else if (new)
        store_warn(s, "items.new: left by a compaction cut short, removed");
    if (old && (rc = store_dir_remove(s->dir_fd, "items.old")) != 0)
        store_warn(s,
                   "items.old: left by a compaction, cannot be "
                   "removed: %s",
                   strerror(-rc));
    return 0;
}

/* ---- compaction --------------------------------------------------------- */

/* An item that store_compact() keeps, in the order of the log. */
struct store_keep {
    uint64_t off;
    uint32_t seg;
    uint32_t rec; /* its index in s->recs */
};

static int
store_keep_cmp(const void *a, const void *b)
{
    const struct store_keep *x = a, *y = b;

    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The lines of the old generation, read ahead in one buffer. */
struct store_reader {
    char *buf;
    size_t cap, len;
    uint32_t seg; /* index in s->segs of what buf holds, or UINT32_MAX */
    uint64_t at;  /* where buf[0] is in it */
};

/* A new generation of items/ being written in items.new/. */
struct store_gen {
    int dir_fd; /* items.new/ */
    struct store_seg *segs;
    size_t nsegs, segs_cap;
    uint64_t size;          /* of the last segment, out included */
    uint32_t lines;         /* of the last segment */
    struct feed_buf out;    /* the last segment's bytes not yet written */
    uint64_t out_at;        /* where out goes */
    int idx_fd;             /* items.new/index */
    uint64_t idx_size;      /* idx included */
    struct feed_buf idx;    /* records not yet written */
    uint64_t idx_at;        /* where idx goes */
    struct store_rec *recs; /* the kept items, with their new places */
    size_t nrecs;
};

/* Writes what g holds back, when there is more than flush_at of it. 0 or
 * -errno with s->err set. */
static int
store_gen_flush(struct store *s, struct store_gen *g, size_t flush_at)
{
    int rc;

    if (g->out.len > flush_at) {
        rc = store_write_all(g->segs[g->nsegs - 1].fd, g->out.data, g->out.len,
                             g->out_at);
        if (rc != 0) {
            store_fail(s, "items.new/%06" PRIu32 ".jsonl: write: %s",
                       g->segs[g->nsegs - 1].no, strerror(-rc));
            return rc;
        }
        g->out_at += g->out.len;
        feed_buf_reset(&g->out);
    }
    if (g->idx.len > flush_at) {
        rc = store_write_all(g->idx_fd, g->idx.data, g->idx.len, g->idx_at);
        if (rc != 0) {
            store_fail(s, "items.new/index: write: %s", strerror(-rc));
            return rc;
        }
        g->idx_at += g->idx.len;
        feed_buf_reset(&g->idx);
    }
    return 0;
}

/* Writes and syncs the last segment of g; it stays open. */
static int
store_gen_seg_end(struct store *s, struct store_gen *g)
{
    struct store_seg *seg = &g->segs[g->nsegs - 1];
    int rc;

    if ((rc = store_gen_flush(s, g, 0)) != 0)
        return rc;
    if (fsync(seg->fd) != 0) {
        store_fail(s, "items.new/%06" PRIu32 ".jsonl: fsync: %s", seg->no,
                   strerror(errno));
        return -errno;
    }
    seg->size = g->size;
    return 0;
}

/* Ends the last segment of g and starts the next, with its header. */
static int
store_gen_seg_new(struct store *s, struct store_gen *g)
{
    struct store_irec ir;
    char name[32];
    void *p;
    int rc;

    if (g->nsegs > 0) {
        if ((rc = store_gen_seg_end(s, g)) != 0)
            return rc;
        close(g->segs[g->nsegs - 1].fd);
        g->segs[g->nsegs - 1].fd = -1;
    }
    p = store_array_grow(g->segs, &g->segs_cap, g->nsegs, sizeof *g->segs);
    if (p == NULL) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->segs = p;
    g->segs[g->nsegs].no = (uint32_t)g->nsegs + 1;
    g->segs[g->nsegs].size = 0;
    store_seg_name(name, (uint32_t)g->nsegs + 1);
    g->segs[g->nsegs].fd =
        openat(g->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->segs[g->nsegs].fd < 0) {
        store_fail(s, "items.new/%s: create: %s", name, strerror(errno));
        return -errno;
    }
    g->nsegs++;
    g->size = g->out_at = 0;
    memset(&ir, 0, sizeof ir);
    ir.kind = STORE_IK_HEADER;
    ir.len = sizeof STORE_SEG_HEADER - 2;
    ir.seg = (uint32_t)g->nsegs;
    ir.line = g->lines = 1;
    if (feed_buf_puts(&g->out, STORE_SEG_HEADER) != 0 ||
        store_irec_emit(&g->idx, &ir) != 0) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->size = sizeof STORE_SEG_HEADER - 1;
    g->idx_size += STORE_IDX_REC;
    return 0;
}

/* The line of rec r, read through rd, appended to out with its '\n'. 0;
 * 1 when the line no longer fits its place (a warning says so); or a
 * negative errno, with s->err set. */
static int
store_line_copy(struct store *s, struct store_reader *rd,
                const struct store_rec *r, struct feed_buf *out)
{
    const char *p;
    char *nb;
    ssize_t n;
    int fd;

    if (rd->seg != r->seg || r->off < rd->at ||
        r->off - rd->at + r->len > rd->len) {
        if (r->len > rd->cap) {
            if ((nb = realloc(rd->buf, r->len)) == NULL) {
                store_fail(s, "items: out of memory");
                return -ENOMEM;
            }
            rd->buf = nb;
            rd->cap = r->len;
        }
        if ((fd = store_seg_fd(s, r->seg)) < 0)
            return fd;
        rd->seg = r->seg;
        rd->at = r->off;
        for (rd->len = 0; rd->len < rd->cap; rd->len += (size_t)n) {
            n = pread(fd, rd->buf + rd->len, rd->cap - rd->len,
                      (off_t)(rd->at + rd->len));
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }
            if (n < 0) {
                rd->seg = UINT32_MAX;
                store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s",
                           s->segs[r->seg].no, strerror(errno));
                return -errno;
            }
            if (n == 0)
                break;
        }
    }
    p = rd->buf + (r->off - rd->at);
    /* Lines are copied as they are, unparsed; one that no longer fits its
     * place was changed behind the store's back. */
    if (r->len > rd->len - (size_t)(r->off - rd->at) ||
        memchr(p, '\n', r->len) != NULL) {
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl: record at byte %" PRIu64
                   " changed on disk, dropped",
                   s->segs[r->seg].no, r->off);
        return 1;
    }
    if (feed_buf_append(out, p, r->len) != 0 ||
        feed_buf_append(out, "\n", 1) != 0) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Writes the items of a new generation of the store in items.new/: the
 * kept ones keep[0, nkeep), in the order of the log, and their index,
 * all synced. map[rec] becomes the new rec of each plus one; a line that
 * no longer reads is left out, its ID appended to gone[*ngone]. 0 or a
 * negative errno, with s->err set; g holds what was made, for the caller
 * to free. */
static int
store_gen_write(struct store *s, struct store_gen *g,
                const struct store_keep *keep, size_t nkeep,
                const uint64_t *ids, uint32_t *map, uint64_t *gone,
                size_t *ngone)
{
    const struct store_rec *r;
    struct store_reader rd;
    struct store_irec ir;
    size_t i;
    int rc;

    memset(&rd, 0, sizeof rd);
    rd.seg = UINT32_MAX;
    if ((rc = store_dir_remove(s->dir_fd, "items.new")) != 0 ||
        mkdirat(s->dir_fd, "items.new", 0755) != 0) {
        rc = rc ? rc : -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(-rc));
        goto fail;
    }
    g->dir_fd =
        openat(s->dir_fd, "items.new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g->idx_fd = g->dir_fd < 0
                    ? -1
                    : openat(g->dir_fd, "index",
                             O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->idx_fd < 0) {
        rc = -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (store_file_header(&g->idx, STORE_IDX_MAGIC, STORE_IDX_VERSION,
                          STORE_IDX_REC) != 0 ||
        (g->recs = malloc((nkeep ? nkeep : 1) * sizeof *g->recs)) == NULL ||
        (rd.buf = malloc(STORE_COPY_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items.new: out of memory");
        goto fail;
    }
    rd.cap = STORE_COPY_BUF;
    g->idx_size = STORE_IDX_HDR;
    memset(&ir, 0, sizeof ir);
    for (i = 0; i < nkeep; i++) {
        r = &s->recs[keep[i].rec];
        if ((g->nsegs == 0 || g->size >= s->seg_max) &&
            (rc = store_gen_seg_new(s, g)) != 0)
            goto fail;
        if ((rc = store_line_copy(s, &rd, r, &g->out)) < 0)
            goto fail;
        if (rc == 1) {
            /* Dropped, and so still seen. */
            gone[(*ngone)++] = ids[keep[i].rec];
            rc = 0;
            continue;
        }
        map[keep[i].rec] = (uint32_t)g->nrecs + 1;
        g->recs[g->nrecs] = *r;
        g->recs[g->nrecs].seg = (uint32_t)g->nsegs - 1;
        g->recs[g->nrecs++].off = g->size;
        ir.kind = STORE_IK_ITEM;
        ir.id = ids[keep[i].rec];
        ir.date = r->date;
        ir.hash = r->hash;
        ir.off = g->size;
        ir.len = r->len;
        ir.seg = (uint32_t)g->nsegs;
        ir.line = g->lines < UINT32_MAX ? ++g->lines : g->lines;
        if (store_irec_emit(&g->idx, &ir) != 0) {
            rc = -ENOMEM;
            store_fail(s, "items.new: out of memory");
            goto fail;
        }
        g->size += (uint64_t)r->len + 1;
        g->idx_size += STORE_IDX_REC;
        if ((rc = store_gen_flush(s, g, STORE_COPY_BUF)) != 0)
            goto fail;
    }
    if (g->nsegs > 0 && (rc = store_gen_seg_end(s, g)) != 0)
        goto fail;
    if ((rc = store_gen_flush(s, g, 0)) != 0)
        goto fail;
    /* Synced like the rest: the index is only a cache, but rebuilding
     * it costs a full scan. */
    if (fsync(g->idx_fd) != 0) {
        rc = -errno;
        store_fail(s, "items.new/index: fsync: %s", strerror(errno));
    }
fail: /* also the way out when all went well */
    free(rd.buf);
    return rc;
}

/* Ends the new generation g: its items/dropped (dropped[0, ndropped)),
 * then a sync of the folder, so that every name in it is as durable as
 * the file. 0 or a negative errno, with s->err set. */
static int
store_gen_finish(struct store *s, struct store_gen *g, const uint64_t *dropped,
                 size_t ndropped)
{
    struct feed_buf b;
    int fd = -1, rc = 0;

    feed_buf_init(&b, 0);
    if (ndropped > 0) {
        if (store_dropped_encode(&b, dropped, ndropped) != 0)
            goto oom;
        fd = openat(g->dir_fd, "dropped",
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            store_fail(s, "items.new/dropped: %s", strerror(errno));
            goto fail;
        }
        if ((rc = store_write_all(fd, b.data, b.len, 0)) == 0 && fsync(fd) != 0)
            rc = -errno;
        if (rc != 0) {
            store_fail(s, "items.new/dropped: %s", strerror(-rc));
            goto fail;
        }
    }
    if ((rc = store_dir_sync(g->dir_fd)) != 0)
        store_fail(s, "items.new: fsync: %s", strerror(-rc));
    goto fail;
oom:
    rc = -ENOMEM;
    store_fail(s, "items.new: out of memory");
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    feed_buf_free(&b);
    return rc;
}

/* Frees what g holds; its folder stays. */
static void
store_gen_free(struct store_gen *g)
{
    size_t i;

    for (i = 0; i < g->nsegs; i++)
        if (g->segs[i].fd >= 0)
            close(g->segs[i].fd);
    if (g->idx_fd >= 0)
        close(g->idx_fd);
    if (g->dir_fd >= 0)
        close(g->dir_fd);
    free(g->segs);
    free(g->recs);
    feed_buf_free(&g->out);
    feed_buf_free(&g->idx);
}

/* Flags of store_compact()'s verdict on each rec. */
#define STORE_KEEP 1   /* it stays */
#define STORE_PINNED 2 /* a pending version of it waits: it stays */
#define STORE_RANKED 4 /* among the newest keep_items */

int
store_compact(struct store *s, int64_t now, int64_t keep_seconds,
              size_t keep_items)
{
    struct store_gen g;
    struct store_keep *keep = NULL;
    struct store_set ids_new = {0};
    struct store_slot e;
    uint64_t *ids = NULL, *gone = NULL, *dropped = NULL;
    uint32_t *newest = NULL, *map = NULL;
    unsigned char *flag = NULL;
    uint64_t live = 0, total = 0;
    size_t n = s->nrecs, nkeep = 0, ngone = 0, ndropped = 0, i;
    int64_t cutoff = INT64_MIN;
    int rc = 0, src;

    memset(&g, 0, sizeof g);
    g.dir_fd = g.idx_fd = -1;
    feed_buf_init(&g.out, 0);
    feed_buf_init(&g.idx, 0);
    if (keep_seconds < 0)
        return -EINVAL;
    if (keep_seconds > 0 && now >= INT64_MIN + keep_seconds)
        cutoff = now - keep_seconds;
    if ((ids = malloc((n ? n : 1) * sizeof *ids)) == NULL ||
        (flag = calloc(n ? n : 1, 1)) == NULL ||
        (map = calloc(n ? n : 1, sizeof *map)) == NULL ||
        (keep = malloc((n ? n : 1) * sizeof *keep)) == NULL ||
        (gone = malloc((n ? n : 1) * sizeof *gone)) == NULL) {
        rc = -ENOMEM;
        goto oom;
    }
    for (i = 0; i < s->ids.cap; i++) {
        e = s->ids.slots[i];
        if (e.ref == 0 || e.ref == STORE_SLOT_PENDING)
            continue;
        ids[e.ref - 1] = e.id;
        flag[e.ref - 1] = STORE_KEEP | (e.pend != 0 ? STORE_PINNED : 0);
    }
    if (keep_items > 0 && keep_items < n) {
        if ((newest = store_newest(s, keep_items)) == NULL) {
            rc = -ENOMEM;
            goto oom;
        }
        for (i = 0; i < keep_items; i++)
            flag[newest[i]] |= STORE_RANKED;
    }
    /* The verdicts, and the old store's size against what it would be
     * rewritten: with nothing to drop and no dead line, it stays. */
    for (i = 0; i < n; i++) {
        if (!(flag[i] & STORE_PINNED) &&
            (s->recs[i].date < cutoff ||
             (keep_items > 0 && keep_items < n && !(flag[i] & STORE_RANKED))))
            flag[i] &= (unsigned char)~STORE_KEEP;
        if (flag[i] & STORE_KEEP) {
            keep[nkeep].seg = s->recs[i].seg;
            keep[nkeep].off = s->recs[i].off;
            keep[nkeep++].rec = (uint32_t)i;
            live += (uint64_t)s->recs[i].len + 1;
        } else {
            gone[ngone++] = ids[i];
        }
    }
    for (i = 0; i < s->nsegs; i++) {
        total += i + 1 < s->nsegs ? s->segs[i].size : s->tail;
        if ((i + 1 < s->nsegs ? s->segs[i].size : s->tail) > 0)
            live += sizeof STORE_SEG_HEADER - 1;
    }
    if (ngone == 0 && live == total)
        goto done;
    qsort(keep, nkeep, sizeof *keep, store_keep_cmp);
    if ((rc = store_gen_write(s, &g, keep, nkeep, ids, map, gone, &ngone)) != 0)
        goto fail;
    qsort(gone, ngone, sizeof *gone, store_u64_cmp);
    if ((dropped = store_ids_merge(s->dropped, s->ndropped, gone, ngone,
                                   &ndropped)) == NULL) {
        rc = -ENOMEM;
        goto oom;
    }
    if ((rc = store_gen_finish(s, &g, dropped, ndropped)) != 0)
        goto fail;
    /* The seen set as it will be, made before the swap, so that nothing
     * can fail after it: the kept items at their new recs, the IDs only
     * the pending batch holds as they are, the dropped ones gone. */
    if ((rc = store_set_remap(&s->ids, map, &ids_new)) != 0)
        goto oom;

    /* The swap. Until the first rename the old generation is items/;
     * between the two, items.old/ without items/, which store_open()
     * renames back; after the second, items/ is the new one, complete
     * and synced. items.old/ goes only once the renames are durable. */
    if (renameat(s->dir_fd, "items", s->dir_fd, "items.old") != 0) {
        rc = -errno;
        store_fail(s, "%s/items: rename to items.old: %s", s->dir,
                   strerror(errno));
        goto fail;
    }
    if (renameat(s->dir_fd, "items.new", s->dir_fd, "items") != 0) {
        rc = -errno;
        store_fail(s, "%s/items.new: rename to items: %s", s->dir,
                   strerror(errno));
        if (renameat(s->dir_fd, "items.old", s->dir_fd, "items") != 0)
            store_fail(s,
                       "%s/items.new: rename to items: %s; and items.old "
                       "could not be renamed back (the next start will)",
                       s->dir, strerror(-rc));
        goto fail;
    }
    src = store_dir_sync(s->dir_fd);

    /* The new generation is the store now. */
    for (i = 0; i < s->nsegs; i++)
        if (s->segs[i].fd >= 0)
            close(s->segs[i].fd);
    free(s->segs);
    s->segs = g.segs;
    s->nsegs = g.nsegs;
    s->segs_cap = g.segs_cap;
    g.segs = NULL;
    g.nsegs = 0;
    s->tail = s->nsegs > 0 ? g.size : 0;
    s->tail_lines = s->nsegs > 0 ? g.lines : 0;
    s->tail_dirty = 0;
    s->items_unsynced = 0;
    close(s->items_fd);
    s->items_fd = g.dir_fd;
    g.dir_fd = -1;
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    s->idx_fd = g.idx_fd;
    s->idx_size = g.idx_size;
    g.idx_fd = -1;
    free(s->recs);
    s->recs = g.recs;
    s->recs_cap = nkeep ? nkeep : 1;
    s->nrecs = g.nrecs;
    g.recs = NULL;
    store_set_free(&s->ids);
    s->ids = ids_new;
    ids_new.slots = NULL;
    free(s->dropped);
    s->dropped = dropped;
    s->ndropped = ndropped;
    dropped = NULL;
    if (src != 0) {
        /* Not known to be durable: items.old/ stays, and the next start
         * removes it once items/ is there. */
        rc = src;
        store_fail(s, "%s: fsync: %s", s->dir, strerror(-src));
    } else if ((src = store_dir_remove(s->dir_fd, "items.old")) != 0) {
        store_warn(s, "items.old: cannot be removed: %s", strerror(-src));
    }
    goto done;
oom:
    store_fail(s, "items: out of memory");
fail:
    (void)store_dir_remove(s->dir_fd, "items.new");
done:
    store_gen_free(&g);
    free(ids);
    free(flag);
    free(map);
    free(keep);
    free(gone);
    free(newest);
    free(dropped);
    store_set_free(&ids_new);
    return rc;
}

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

static int
store_keep_cmp(const void *a, const void *b)
{
    const struct store_keep *x = a, *y = b;

    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Flags of store_compact()'s verdict on each rec. */
#define STORE_KEEP 1   /* it stays */
#define STORE_PINNED 2 /* a pending version of it waits: it stays */
#define STORE_RANKED 4 /* among the newest keep_items */

/* store_compact() of a store whose items are loaded. */
/* What store_remap_slot() renumbers the seen set by. */
struct store_remap {
    const struct store *s;
    const uint32_t *map; /* old rec index -> new rec number, or 0 */
};

/* The new value of a slot of the seen set: a rec's new number, or 0 when
 * it is dropped; a slot that points at a pending version stays (that
 * version's rec is renumbered at the swap). */
static uint32_t
store_remap_slot(const void *arg, uint32_t v)
{
    const struct store_remap *rm = arg;

    return (v & STORE_SLOT_PEND) ? v : rm->map[v - 1];
}

static int
store_compact_items(struct store *s, int64_t now, int64_t keep_seconds,
                    size_t keep_items)
{
    struct store_gen g;
    struct store_keep *keep = NULL;
    struct store_set ids_new = {0};
    struct store_remap rm;
    uint32_t ref;
    uint64_t *ids = NULL, *gone = NULL, *dropped = NULL;
    uint32_t *newest = NULL, *map = NULL;
    unsigned char *flag = NULL;
    uint64_t live = 0, total = 0;
    size_t n = s->nrecs, nlive = store_count(s), nkeep = 0, ngone = 0,
           ndropped = 0, ndead = s->ndead, i;
    int64_t cutoff = INT64_MIN;
    int rc = 0, src;

    memset(&g, 0, sizeof g);
    g.dir_fd = g.idx_fd = -1;
    feed_buf_init(&g.out, 0);
    feed_buf_init(&g.idx, 0);
    if (keep_seconds < 0)
        return -EINVAL;
    /* The batch in flight is written where the new generation would not
     * have it. */
    if (s->nflight > 0) {
        store_fail(s, "a commit is under way");
        return -EBUSY;
    }
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
        if (s->ids.slots[i] == 0 ||
            (ref = store_slot_ref(s, s->ids.slots[i])) == STORE_SLOT_PENDING)
            continue;
        ids[ref - 1] = s->recs[ref - 1].id;
        flag[ref - 1] =
            STORE_KEEP |
            (store_slot_pend(s->ids.slots[i]) != 0 ? STORE_PINNED : 0);
    }
    if (keep_items > 0 && keep_items < nlive) {
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
        /* A damaged line's ID is forgotten already: neither kept nor
         * dropped. */
        if (s->recs[i].len == STORE_REC_DEAD)
            continue;
        if (!(flag[i] & STORE_PINNED) &&
            (s->recs[i].date < cutoff ||
             (keep_items > 0 && keep_items < nlive &&
              !(flag[i] & STORE_RANKED))))
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
    rc = store_gen_write(s, &g, keep, nkeep, ids, map);
    /* Lines found damaged on the way: their IDs are no longer seen,
     * whether the compaction goes on or not. */
    if (s->ndead != ndead)
        store_recs_forget(s);
    if (rc != 0)
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
    rm.s = s;
    rm.map = map;
    if ((rc = store_set_remap(&s->ids, store_remap_slot, &rm, &ids_new)) != 0)
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
    s->ndead = 0;
    store_byfeed_reset(s);
    g.recs = NULL;
    store_set_free(&s->ids);
    s->ids = ids_new;
    ids_new.slots = NULL;
    /* The pending versions' recs, renumbered likewise (a pinned rec is
     * always kept). Only an ID's latest version's counts. */
    for (i = 0; i < s->npends; i++)
        if (s->pends[i].ref != STORE_SLOT_PENDING)
            s->pends[i].ref = map[s->pends[i].ref - 1];
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

int
store_compact(struct store *s, int64_t now, int64_t keep_seconds,
              size_t keep_items)
{
    int rc = store_load(s);

    return rc != 0 ? rc : store_compact_items(s, now, keep_seconds, keep_items);
}

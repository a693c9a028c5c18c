/* store/store.c - the store's public API: opening (locking, recovery,
 * loading), the pending batch and its commit, lookups, and reading items
 * back. The layout of the store and who does what are at the top of
 * store_int.h. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store_int.h"

/* ---- opening and closing ------------------------------------------------ */

/* Creates dir/name unless it exists; *made is set when it was made. */
static int
store_subdir(struct store *s, const char *name, int *made)
{
    if (mkdirat(s->dir_fd, name, 0755) == 0) {
        *made = 1;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    store_fail(s, "%s/%s: mkdir: %s", s->dir, name, strerror(errno));
    return -errno;
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
    struct store *s;
    struct timespec ts;
    int made = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        if (err != NULL)
            snprintf(err, errlen, "%s: out of memory", dir);
        return NULL;
    }
    s->dir_fd = s->items_fd = s->idx_fd = s->state_fd = -1;
    s->seg_max = STORE_SEG_MAX;
    feed_buf_init(&s->pend, 0);
    feed_buf_init(&s->warn, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    s->ids.seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
                  (uint64_t)(uintptr_t)s ^ (uint64_t)getpid();
    s->ids.key = store_slot_id;
    s->ids.arg = s;

    if (store_mkdirs(s, dir) != 0)
        goto fail;
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        store_fail(s, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    /* Two writers would interleave their batches in one segment. */
    if (flock(s->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            store_fail(s,
                       "%s: in use by another process (is feedd "
                       "already running?)",
                       dir);
        else
            store_fail(s, "%s: lock: %s", dir, strerror(errno));
        goto fail;
    }
    /* Before items/ is made: a crash may have left it renamed. */
    if (store_gen_recover(s) != 0)
        goto fail;
    if (store_subdir(s, "items", &made) != 0 ||
        store_subdir(s, "public", &made) != 0)
        goto fail;
    if (made && fsync(s->dir_fd) != 0) {
        store_fail(s, "%s: fsync: %s", dir, strerror(errno));
        goto fail;
    }
    s->items_fd =
        openat(s->dir_fd, "items", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->items_fd < 0) {
        store_fail(s, "%s/items: %s", dir, strerror(errno));
        goto fail;
    }
    if (store_dropped_load(s) != 0 || store_segs_load(s) != 0 ||
        store_states_load(s) != 0)
        goto fail;
    return s;
fail:
    if (err != NULL)
        snprintf(err, errlen, "%s", s->err);
    store_close(s);
    return NULL;
}

void
store_close(struct store *s)
{
    size_t i;

    if (s == NULL)
        return;
    /* A batch in flight is on disk: it is finished, not left half. */
    if (s->nflight > 0 && store_commit_finish(s, store_commit_sync(s)) != 0)
        s->nflight = 0; /* it failed: store_error() says why */
    for (i = 0; i < s->nsegs; i++)
        if (s->segs[i].fd >= 0)
            close(s->segs[i].fd);
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    if (s->items_fd >= 0)
        close(s->items_fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd); /* and the lock goes with it */
    store_states_free(s);
    free(s->segs);
    free(s->recs);
    store_set_free(&s->ids);
    free(s->dropped);
    free(s->pends);
    feed_buf_free(&s->pend);
    feed_buf_free(&s->warn);
    store_byfeed_free(s);
    free(s->line);
    free(s->dir);
    free(s);
}
/* ---- items -------------------------------------------------------------- */

int
store_load(struct store *s)
{
    int rc;

    if (s->items_failed != 0)
        return s->items_failed;
    if (!s->items_later)
        return 0;
    if ((rc = store_segs_read(s)) != 0) {
        /* Half loaded: nothing of the items may be used. */
        s->items_later = 0;
        s->items_failed = rc;
    }
    return rc;
}

int
store_loaded(const struct store *s)
{
    return !s->items_later && s->items_failed == 0;
}

int
store_seen(struct store *s, const char *id)
{
    uint64_t v;

    if (store_load(s) != 0 || feed_id_parse(id, &v) != 0)
        return 0;
    return store_set_find(&s->ids, v) != NULL || store_dropped_has(s, v);
}

int
store_lookup(struct store *s, const char *id, uint64_t *hash)
{
    const uint32_t *slot;
    uint64_t v, h;
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    if (feed_id_parse(id, &v) != 0)
        return -EINVAL;
    if ((slot = store_set_find(&s->ids, v)) != NULL)
        h = store_slot_pend(*slot) != 0
                ? s->pends[store_slot_pend(*slot) - 1].hash
                : s->recs[*slot - 1].hash;
    else if (store_dropped_has(s, v))
        h = 0;
    else
        return 0;
    if (hash != NULL)
        *hash = h;
    return 1;
}

size_t
store_pending(const struct store *s)
{
    return s->pend.len - s->flight_bytes;
}

size_t
store_count(struct store *s)
{
    if (store_load(s) != 0)
        return 0;
    return s->nrecs - s->ndead;
}

uint64_t
store_waste(struct store *s, uint64_t *total)
{
    uint64_t all = 0, live = 0;
    size_t i;

    if (store_load(s) != 0) {
        if (total != NULL)
            *total = 0;
        return 0;
    }
    /* The last segment's size is s->tail: segs[].size of the last one is
     * only brought up to date when the next segment starts. A live line's
     * '\n' is part of it. */
    for (i = 0; i < s->nsegs; i++)
        all += i + 1 < s->nsegs ? s->segs[i].size : s->tail;
    for (i = 0; i < s->nrecs; i++)
        if (s->recs[i].len != STORE_REC_DEAD)
            live += (uint64_t)s->recs[i].len + 1;
    if (total != NULL)
        *total = all;
    return all > live ? all - live : 0;
}

int
store_record_prepare(struct feed_buf *b, const struct feed_item *item)
{
    uint64_t id;

    if (feed_id_parse(item->id, &id) != 0 || item->feed == NULL ||
        item->stored == FEED_TIME_NONE)
        return -EINVAL;
    return store_record_encode(b, id, item) != 0 ? -ENOMEM : 0;
}

/* store_add(), with item's line made already when line is not NULL. */
static int
add(struct store *s, const struct feed_item *item, const char *line,
    size_t linelen)
{
    size_t start = s->pend.len, len;
    uint32_t *slot, pend;
    struct store_pend *pe;
    struct feed_item it;
    uint64_t id;
    void *p;
    int rc, fresh;

    if ((rc = store_load(s)) != 0)
        return rc;
    /* A record names its feed: one without would not read back. */
    if (feed_id_parse(item->id, &id) != 0 || item->feed == NULL)
        return -EINVAL;
    if (s->npends >= STORE_REC_MAX - s->nrecs)
        return -EOVERFLOW;
    p = store_array_grow(s->pends, &s->pends_cap, s->npends, sizeof *s->pends);
    if (p == NULL)
        return -ENOMEM;
    s->pends = p;
    it = *item;
    if (it.stored == FEED_TIME_NONE)
        it.stored = (int64_t)time(NULL);
    if ((line ? feed_buf_append(&s->pend, line, linelen)
              : store_record_encode(&s->pend, id, &it)) != 0) {
        rc = -ENOMEM;
        goto fail;
    }
    len = s->pend.len - start;
    if (len - 1 > STORE_LINE_MAX) {
        rc = -EFBIG;
        goto fail;
    }
    /* An ID already stored is an update: its slot keeps pointing at the
     * stored version until the commit, so that a failed one leaves the
     * item as it was. pend points at the latest pending version. */
    slot = store_set_find(&s->ids, id);
    fresh = slot == NULL || store_slot_ref(s, *slot) == STORE_SLOT_PENDING;
    pend = (uint32_t)s->npends + 1;
    pe = &s->pends[s->npends];
    pe->id = id;
    pe->date = feed_item_date(&it);
    pe->hash = it.hash;
    pe->off = start;
    pe->len = (uint32_t)len;
    pe->ref = STORE_SLOT_PENDING;
    pe->fresh = fresh;
    if (slot != NULL)
        store_slot_set_pend(s, slot, pend);
    else if ((rc = store_set_add(&s->ids, id, STORE_SLOT_PEND | pend)) != 0)
        goto fail;
    s->npends++;
    return 0;
fail:
    s->pend.len = start;
    if (s->pend.data != NULL)
        s->pend.data[start] = '\0';
    return rc;
}

int
store_add(struct store *s, const struct feed_item *item)
{
    return add(s, item, NULL, 0);
}

int
store_add_line(struct store *s, const struct feed_item *item, const char *line,
               size_t len)
{
    return add(s, item, line, len);
}

/* Forgets the first n pending items (the batch in flight, or all), the
 * rest moving to the front. Unless they were committed, their IDs that
 * had no rec are no longer seen (unless dropped before, or pending again
 * after them), and the others point at their stored version again, as
 * before the batch. */
static void
store_batch_drop(struct store *s, size_t n, int committed)
{
    uint32_t *slot;
    size_t bytes = n == s->npends ? s->pend.len : s->pends[n].off, i;

    for (i = 0; i < n; i++) {
        /* A fresh ID added twice was removed at its first version. */
        if ((slot = store_set_find(&s->ids, s->pends[i].id)) == NULL)
            continue;
        if (store_slot_pend(*slot) != i + 1)
            continue; /* a later version is pending: it stays */
        assert(committed || !s->pends[i].fresh ||
               store_slot_ref(s, *slot) == STORE_SLOT_PENDING);
        if (!committed && s->pends[i].fresh)
            store_set_del(&s->ids, slot);
        else
            store_slot_set_pend(s, slot, 0);
    }
    /* What was added after them comes to the front. */
    for (i = n; i < s->npends; i++) {
        struct store_pend *pe = &s->pends[i - n];

        *pe = s->pends[i];
        pe->off -= bytes;
        slot = store_set_find(&s->ids, pe->id);
        if (slot != NULL && store_slot_pend(*slot) == i + 1)
            *slot = STORE_SLOT_PEND | (uint32_t)(i - n + 1);
        /* Its ID has a rec now: it is an update, no longer new. */
        if (pe->fresh && slot != NULL &&
            store_slot_ref(s, *slot) != STORE_SLOT_PENDING)
            pe->fresh = 0;
    }
    s->npends -= n;
    if (s->npends > 0) {
        memmove(s->pend.data, s->pend.data + bytes, s->pend.len - bytes);
        s->pend.len -= bytes;
        s->pend.data[s->pend.len] = '\0';
        return;
    }
    /* A batch far larger than usual does not keep its memory. */
    if (s->pend.cap > STORE_PEND_KEEP) {
        feed_buf_free(&s->pend);
        feed_buf_init(&s->pend, 0);
    }
    feed_buf_reset(&s->pend);
}

int
store_in_flight(const struct store *s)
{
    return s->nflight > 0;
}

int
store_commit_write(struct store *s)
{
    uint64_t base;
    size_t hlen = 0;
    uint32_t segi, no;
    int fd, rc;

    if (s->nflight > 0)
        return -EBUSY;
    if (s->npends == 0)
        return 0;
    if ((rc = store_recs_reserve(s, s->npends)) != 0) {
        store_fail(s, "items: %s", strerror(-rc));
        goto fail;
    }
    /* A batch that failed and could not be cut off must go before this
     * one lands after it, or the segment is left behind. */
    if (s->tail_dirty) {
        segi = (uint32_t)(s->nsegs - 1);
        if (ftruncate(s->segs[segi].fd, (off_t)s->tail) != 0) {
            rc = -errno;
            store_fail(s, "items/%06" PRIu32 ".jsonl: truncate: %s",
                       s->segs[segi].no, strerror(errno));
            goto fail;
        }
        s->tail_dirty = 0;
    }
    /* Lines go only to a segment of this format: one of format 1 (or
     * without a header) is left as it is. */
    if ((s->nsegs == 0 || s->tail >= s->seg_max ||
         (s->tail > 0 && s->segs[s->nsegs - 1].format != STORE_FORMAT)) &&
        (rc = store_seg_new(s)) != 0)
        goto fail;
    segi = (uint32_t)(s->nsegs - 1);
    no = s->segs[segi].no;
    fd = s->segs[segi].fd;
    base = s->tail;
    if (base == 0)
        hlen = sizeof STORE_SEG_HEADER - 1;
    rc = store_write_all(fd, STORE_SEG_HEADER, hlen, base);
    if (rc == 0)
        rc = store_write_all(fd, s->pend.data, s->pend.len, base + hlen);
    if (rc != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: append: %s", no,
                   strerror(-rc));
        if (ftruncate(fd, (off_t)base) != 0)
            s->tail_dirty = 1;
        goto fail;
    }
    s->nflight = s->npends;
    s->flight_bytes = s->pend.len;
    s->flight_base = base;
    s->flight_hlen = hlen;
    s->flight_seg = segi;
    s->flight_fd = fd;
    s->flight_dirsync = s->items_unsynced;
    s->tail = base + hlen + s->pend.len;
    return 0;
fail:
    store_batch_drop(s, s->npends, 0);
    return rc;
}

int
store_commit_sync(struct store *s)
{
    if (s->nflight == 0)
        return 0;
    if (fdatasync(s->flight_fd) != 0)
        return -errno;
    /* A new segment's name must be as durable as its contents. */
    if (s->flight_dirsync && fsync(s->items_fd) != 0)
        return -errno;
    return 0;
}

int
store_commit_finish(struct store *s, int sync_rc)
{
    struct store_irec ir;
    struct feed_buf ib;
    struct store_rec r;
    uint64_t base = s->flight_base;
    size_t hlen = s->flight_hlen, i;
    uint32_t segi = s->flight_seg, no;
    int rc, ok = 1;

    if (s->nflight == 0)
        return sync_rc;
    no = s->segs[segi].no;
    if (sync_rc != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: append: %s", no,
                   strerror(-sync_rc));
        s->tail = base;
        if (ftruncate(s->flight_fd, (off_t)base) != 0)
            s->tail_dirty = 1;
        store_batch_drop(s, s->nflight, 0);
        s->nflight = s->flight_bytes = 0;
        return sync_rc;
    }
    if (s->flight_dirsync)
        s->items_unsynced = 0;
    feed_buf_init(&ib, 0);
    memset(&ir, 0, sizeof ir);
    ir.seg = no;
    if (hlen > 0) {
        s->segs[segi].format = STORE_FORMAT;
        ir.kind = STORE_IK_HEADER;
        ir.date = STORE_FORMAT;
        ir.len = (uint32_t)hlen - 1;
        ir.line = s->tail_lines = 1;
        ok = store_irec_emit(&ib, &ir) == 0;
    }
    ir.kind = STORE_IK_ITEM;
    ir.date = 0;
    for (i = 0; i < s->nflight; i++) {
        r.id = s->pends[i].id;
        r.date = s->pends[i].date;
        r.hash = s->pends[i].hash;
        r.off = base + hlen + s->pends[i].off;
        r.seg = segi;
        r.len = s->pends[i].len - 1;
        /* Cannot fail: the IDs are in the set and the recs reserved. Of
         * two versions in the batch, the later is put last and wins. */
        rc = store_rec_put(s, s->pends[i].id, &r);
        assert(rc == 0);
        (void)rc;
        ir.id = s->pends[i].id;
        ir.date = r.date;
        ir.hash = r.hash;
        ir.off = r.off;
        ir.len = r.len;
        if (s->tail_lines < UINT32_MAX)
            s->tail_lines++;
        ir.line = s->tail_lines;
        ok = ok && store_irec_emit(&ib, &ir) == 0;
    }
    store_idx_append(s, &ib, ok);
    feed_buf_free(&ib);
    store_batch_drop(s, s->nflight, 1);
    s->nflight = s->flight_bytes = 0;
    return 0;
}

int
store_commit(struct store *s)
{
    int rc;

    if ((rc = store_commit_write(s)) != 0)
        return rc;
    return store_commit_finish(s, store_commit_sync(s));
}

void
store_rec_damaged(struct store *s, uint32_t rec, int why)
{
    const struct store_rec *r = &s->recs[rec];

    store_warn_damage(s, s->segs[r->seg].no, r->off, 0, why);
    store_rec_kill(s, rec);
    s->ndamaged++;
}

size_t
store_damaged(const struct store *s)
{
    return s->ndamaged;
}

int
store_recent_if(struct store *s, size_t n, store_rec_keep_fn *keep,
                const void *karg, store_item_fn *fn, void *arg)
{
    struct store_lists lists;
    struct feed_item it;
    uint32_t *h;
    size_t want, done = 0, nbad, i;
    json_t *o;
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    /* One rec per ID: an update replaced its item's rec, so no item
     * comes twice. A damaged one is killed and the next takes its place:
     * the newest after it are then the ones handed over, in the same
     * order, and more. */
    for (;;) {
        want = n < store_count(s) ? n : store_count(s);
        if (done >= want)
            break;
        if ((h = store_newest_if(s, want, keep, karg, &want)) == NULL) {
            store_fail(s, "items: out of memory");
            return -ENOMEM;
        }
        for (i = done, nbad = 0; i < want && rc == 0; i++) {
            rc = store_rec_read(s, &s->recs[h[i]], NULL, &it, &lists, &o);
            if (rc > 0) {
                store_rec_damaged(s, h[i], rc);
                nbad++;
                rc = 0;
                continue;
            }
            if (rc == 0) {
                rc = fn(&it, arg);
                done++;
            }
            json_decref(o);
        }
        free(h);
        if (nbad > 0)
            store_recs_forget(s);
        if (rc != 0 || nbad == 0)
            break;
    }
    return rc;
}

int
store_recent(struct store *s, size_t n, store_item_fn *fn, void *arg)
{
    return store_recent_if(s, n, NULL, NULL, fn, arg);
}

/* h with the word w folded in: a multiply-xorshift step. */
static uint64_t
store_stamp_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * UINT64_C(0x9e3779b97f4a7c15);
    return h ^ h >> 32;
}

uint64_t
store_stamp(struct store *s)
{
    static const char *const others[] = {"index", "dropped"};
    uint64_t h = store_stamp_mix(UINT64_C(0x6a09e667f3bcc909), s->nsegs);
    const char *name;
    char seg[32];
    struct stat st;
    size_t i;

    for (i = 0; i < s->nsegs + 2; i++) {
        if (i < s->nsegs) {
            store_seg_name(seg, s->segs[i].no);
            name = seg;
        } else {
            name = others[i - s->nsegs];
        }
        h = store_stamp_mix(h, i);
        if (fstatat(s->items_fd, name, &st, 0) != 0) {
            if (errno != ENOENT)
                return 0;
            h = store_stamp_mix(h, UINT64_MAX); /* not there */
            continue;
        }
        h = store_stamp_mix(h, i < s->nsegs ? s->segs[i].no : 0);
        h = store_stamp_mix(h, (uint64_t)st.st_size);
        h = store_stamp_mix(h, (uint64_t)st.st_ino);
        h = store_stamp_mix(h, (uint64_t)st.st_mtim.tv_sec);
        h = store_stamp_mix(h, (uint64_t)st.st_mtim.tv_nsec);
        h = store_stamp_mix(h, (uint64_t)st.st_ctim.tv_sec);
        h = store_stamp_mix(h, (uint64_t)st.st_ctim.tv_nsec);
    }
    return h != 0 ? h : 1;
}

int
store_record_item(const char *line, size_t len, store_item_fn *fn, void *arg)
{
    struct store_lists lists;
    struct feed_item it;
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr);
    int rc;

    if (o == NULL || store_record_decode(&it, o, &lists) != 0) {
        json_decref(o);
        return -EINVAL;
    }
    rc = fn(&it, arg);
    json_decref(o);
    return rc;
}

int
store_get(struct store *s, const char *id, store_item_fn *fn, void *arg)
{
    uint32_t *slot;
    struct store_lists lists;
    struct feed_item it;
    json_error_t jerr;
    json_t *o = NULL;
    uint32_t rec;
    uint64_t v;
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    if (feed_id_parse(id, &v) != 0)
        return -EINVAL;
    if ((slot = store_set_find(&s->ids, v)) == NULL)
        return -ENOENT;
    if (store_slot_pend(*slot) != 0) {
        /* The latest version is still in the pending batch, in memory. */
        const struct store_pend *pd = &s->pends[store_slot_pend(*slot) - 1];

        o = json_loadb(s->pend.data + pd->off, pd->len, 0, &jerr);
        if (o == NULL || store_record_decode(&it, o, &lists) != 0) {
            json_decref(o);
            store_fail(s, "items: the record of %s does not read back", id);
            return -EIO;
        }
    } else {
        rec = *slot - 1;
        rc = store_rec_read(s, &s->recs[rec], &v, &it, &lists, &o);
        if (rc < 0)
            return rc;
        if (rc > 0) {
            store_rec_damaged(s, rec, rc);
            store_id_forget(s, slot);
            return -EBADMSG;
        }
    }
    rc = fn(&it, arg);
    json_decref(o);
    return rc;
}

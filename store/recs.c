/* store/recs.c - the table of committed items (recs): one struct
 * store_rec per live item, found through the seen set, and the newest
 * ones first for store_recent() and retention. A rec whose line turned
 * out damaged is killed in place (STORE_REC_DEAD), so that the indexes of
 * the others stay valid, and its ID forgotten; the next compaction leaves
 * it out of the new table. */
#include <errno.h>
#include <stdlib.h>

#include "store_int.h"

int
store_recs_reserve(struct store *s, size_t n)
{
    size_t ncap;
    void *p;

    if (n > STORE_REC_MAX - s->nrecs)
        return -EOVERFLOW;
    if (s->nrecs + n <= s->recs_cap)
        return 0;
    ncap = s->recs_cap ? s->recs_cap : 1024;
    while (ncap < s->nrecs + n)
        ncap *= 2;
    if (ncap > SIZE_MAX / sizeof *s->recs)
        return -ENOMEM;
    p = realloc(s->recs, ncap * sizeof *s->recs);
    if (p == NULL)
        return -ENOMEM;
    s->recs = p;
    s->recs_cap = ncap;
    /* The part that is about to be written. */
    store_prefault(s->recs + s->nrecs, n * sizeof *s->recs);
    return 0;
}

uint64_t
store_slot_id(const void *store, uint32_t v)
{
    const struct store *s = store;

    return (v & STORE_SLOT_PEND) ? s->pends[store_slot_pend(v) - 1].id
                                 : s->recs[v - 1].id;
}

uint32_t
store_slot_ref(const struct store *s, uint32_t v)
{
    return (v & STORE_SLOT_PEND) ? s->pends[store_slot_pend(v) - 1].ref : v;
}

void
store_slot_set_ref(struct store *s, uint32_t *slot, uint32_t ref)
{
    if (*slot & STORE_SLOT_PEND)
        s->pends[store_slot_pend(*slot) - 1].ref = ref;
    else
        *slot = ref;
}

void
store_slot_set_pend(struct store *s, uint32_t *slot, uint32_t pend)
{
    uint32_t ref = store_slot_ref(s, *slot);

    if (pend == 0) {
        *slot = ref;
        return;
    }
    s->pends[pend - 1].ref = ref;
    *slot = STORE_SLOT_PEND | pend;
}

int
store_rec_put(struct store *s, uint64_t id, const struct store_rec *r)
{
    uint32_t *slot = store_set_find(&s->ids, id), ref;
    int rc;

    ref = slot != NULL ? store_slot_ref(s, *slot) : STORE_SLOT_PENDING;
    if (ref != STORE_SLOT_PENDING) {
        store_byfeed_forget(s, ref - 1);
        s->recs[ref - 1] = *r;
        s->recs[ref - 1].id = id;
        return 0;
    }
    if ((rc = store_recs_reserve(s, 1)) != 0)
        return rc;
    s->recs[s->nrecs] = *r;
    s->recs[s->nrecs].id = id;
    if (slot != NULL)
        store_slot_set_ref(s, slot, (uint32_t)s->nrecs + 1);
    else if ((rc = store_set_add(&s->ids, id, (uint32_t)s->nrecs + 1)) != 0)
        return rc;
    s->nrecs++;
    return 0;
}

int
store_recs_put(struct store *s, const uint64_t *ids, const struct store_rec *r,
               size_t n)
{
    const struct store_set *set = &s->ids;
    volatile uint32_t sink = 0;
    size_t i;
    int rc;

    /* The home slot of each is read first, in a loop whose reads do not
     * wait on each other: their cache misses overlap, and the puts then
     * find the slots in the cache. */
    if (set->cap > 0)
        for (i = 0; i < n; i++)
            sink = set->slots[store_set_home(set->seed, set->cap, ids[i])];
    (void)sink;
    for (i = 0; i < n; i++)
        if ((rc = store_rec_put(s, ids[i], &r[i])) != 0)
            return rc;
    return 0;
}

void
store_rec_kill(struct store *s, uint32_t rec)
{
    if (s->recs[rec].len != STORE_REC_DEAD) {
        s->recs[rec].len = STORE_REC_DEAD;
        s->ndead++;
    }
}

void
store_id_forget(struct store *s, uint32_t *slot)
{
    uint64_t id;
    size_t i;

    if (store_slot_pend(*slot) == 0) {
        store_set_del(&s->ids, slot);
        return;
    }
    /* A pending version stays: it has no rec to go back to now, so a
     * failed commit must forget the ID as it does a new one. */
    id = store_slot_id(s, *slot);
    store_slot_set_ref(s, slot, STORE_SLOT_PENDING);
    for (i = 0; i < s->npends; i++)
        if (s->pends[i].id == id)
            s->pends[i].fresh = 1;
}

void
store_recs_forget(struct store *s)
{
    uint32_t *slot, ref;
    size_t i = 0, keep;

    /* A removal shifts later entries of its run back, into the slot just
     * looked at (which is then looked at again) or, when the run wraps,
     * into slots still ahead: none is missed, none matters twice. */
    while (i < s->ids.cap) {
        slot = &s->ids.slots[i];
        ref = *slot != 0 ? store_slot_ref(s, *slot) : 0;
        if (ref == 0 || ref == STORE_SLOT_PENDING ||
            s->recs[ref - 1].len != STORE_REC_DEAD) {
            i++;
            continue;
        }
        keep = store_slot_pend(*slot) != 0; /* the slot stays, pending only */
        store_id_forget(s, slot);
        i += keep;
    }
}

/* 1 when a sorts before b in store_recent() (is newer): a later date, or
 * the same date and a later place in the log. */
static int
store_rec_newer(const struct store_rec *a, const struct store_rec *b)
{
    if (a->date != b->date)
        return a->date > b->date;
    if (a->seg != b->seg)
        return a->seg > b->seg;
    return a->off > b->off;
}

/* Sifts h[i] down the heap h[0, n) whose root is the oldest rec. */
static void
store_heap_down(const struct store_rec *recs, uint32_t *h, size_t n, size_t i)
{
    size_t c;
    uint32_t t;

    for (;;) {
        c = 2 * i + 1;
        if (c >= n)
            break;
        if (c + 1 < n && store_rec_newer(&recs[h[c]], &recs[h[c + 1]]))
            c++;
        if (!store_rec_newer(&recs[h[i]], &recs[h[c]]))
            break;
        t = h[i];
        h[i] = h[c];
        h[c] = t;
        i = c;
    }
}

uint32_t *
store_newest_if(const struct store *s, size_t k, store_rec_keep_fn *keep,
                const void *arg, size_t *found)
{
    uint32_t *h, t;
    size_t hn = 0, i;

    *found = 0;
    if ((h = malloc((k ? k : 1) * sizeof *h)) == NULL)
        return NULL;
    if (k == 0)
        return h;
    /* The k newest in a heap whose root is the oldest of them: one pass,
     * O(count log k). */
    for (i = 0; i < s->nrecs; i++) {
        if (s->recs[i].len == STORE_REC_DEAD ||
            (keep != NULL && !keep(s, (uint32_t)i, arg)))
            continue;
        if (hn < k) {
            h[hn++] = (uint32_t)i;
            if (hn == k)
                for (t = (uint32_t)(k / 2); t-- > 0;)
                    store_heap_down(s->recs, h, k, t);
        } else if (store_rec_newer(&s->recs[i], &s->recs[h[0]])) {
            h[0] = (uint32_t)i;
            store_heap_down(s->recs, h, k, 0);
        }
    }
    /* Fewer than k: the heap is made now. */
    if (hn < k)
        for (t = (uint32_t)(hn / 2); t-- > 0;)
            store_heap_down(s->recs, h, hn, t);
    *found = hn;
    /* Heapsort: each oldest goes to the end, so h ends newest first. */
    for (; hn > 1; hn--) {
        t = h[0];
        h[0] = h[hn - 1];
        h[hn - 1] = t;
        store_heap_down(s->recs, h, hn - 1, 0);
    }
    return h;
}

uint32_t *
store_newest(const struct store *s, size_t k)
{
    size_t found;

    return store_newest_if(s, k, NULL, NULL, &found);
}

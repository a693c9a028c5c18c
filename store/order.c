/* store/order.c - reads in commit order (store_first_except()), for
 * outputs that page the items by when they were stored: the recs are in
 * that order, as each ID's first rec took the next place. */
#include <errno.h>
#include <stdlib.h>

#include <jansson.h>

#include "store_int.h"

/* 1 when id is in ids[0, n), sorted ascending. */
static int
order_among(const uint64_t *ids, size_t n, uint64_t id)
{
    size_t lo = 0, hi = n, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (ids[mid] == id)
            return 1;
        if (ids[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
}

int
store_first_except(struct store *s, const uint64_t *ids, size_t nids, size_t n,
                   size_t *count, store_item_fn *fn, void *arg)
{
    struct store_lists lists;
    struct feed_item it;
    size_t i, done = 0, total = 0, nbad = 0;
    json_t *o;
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    for (i = 0; i < s->nrecs && rc == 0; i++) {
        if (s->recs[i].len == STORE_REC_DEAD ||
            order_among(ids, nids, s->recs[i].id))
            continue;
        if (done == n || fn == NULL) {
            total++;
            continue;
        }
        rc = store_rec_read(s, &s->recs[i], NULL, &it, &lists, &o);
        if (rc > 0) {
            store_rec_damaged(s, (uint32_t)i, rc);
            nbad++;
            rc = 0;
            continue;
        }
        if (rc == 0) {
            total++;
            done++;
            rc = fn(&it, arg);
            json_decref(o);
        }
    }
    if (nbad > 0)
        store_recs_forget(s);
    if (count != NULL)
        *count = total;
    return rc;
}

int
store_first_ids_except(struct store *s, const uint64_t *ids, size_t nids,
                       size_t n, store_id_fn *fn, void *arg)
{
    size_t i, done = 0;
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    for (i = 0; i < s->nrecs && done < n && rc == 0; i++) {
        if (s->recs[i].len == STORE_REC_DEAD ||
            order_among(ids, nids, s->recs[i].id))
            continue;
        done++;
        rc = fn(s->recs[i].id, arg);
    }
    return rc;
}

int
store_has(struct store *s, uint64_t id)
{
    uint32_t *slot, ref;

    if (store_load(s) != 0 || (slot = store_set_find(&s->ids, id)) == NULL)
        return 0;
    ref = store_slot_ref(s, *slot);
    return ref != STORE_SLOT_PENDING && ref != 0 &&
           s->recs[ref - 1].len != STORE_REC_DEAD;
}

/* store/byfeed.c - reads by feed (store_recent_feeds()): the feed of each
 * rec, learnt from its record the first time a read by feed needs it and
 * kept beside the index (4 bytes a rec, and each feed's name once), so
 * that later reads filter the index in memory. An update forgets its
 * rec's feed and a compaction all of them (the recs are renumbered): they
 * are learnt again at the next read by feed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "store_int.h"

/* FNV-1a of a feed's name. */
static uint64_t
byfeed_hash(const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    while (*name)
        h = (h ^ (unsigned char)*name++) * UINT64_C(0x100000001b3);
    return h;
}

/* The slot of name in the table of names: where its number is, or the
 * free slot where it would go. The table has room (load under 1/2). */
static uint32_t *
byfeed_slot(const struct store *s, const char *name)
{
    size_t mask = s->feed_name_slots_cap - 1;
    size_t i = (size_t)byfeed_hash(name) & mask;
    uint32_t *slot;

    for (;; i = (i + 1) & mask) {
        slot = &s->feed_name_slots[i];
        if (*slot == 0 || strcmp(s->feed_names[*slot - 1], name) == 0)
            return slot;
    }
}

/* The number (plus one) of the feed named name, 0 when no rec learnt
 * has it. */
static uint32_t
byfeed_find(const struct store *s, const char *name)
{
    return s->feed_name_slots_cap ? *byfeed_slot(s, name) : 0;
}

/* The number (plus one) of name, given one when it has none; 0 when out
 * of memory. */
static uint32_t
byfeed_intern(struct store *s, const char *name)
{
    uint32_t *slot, v;
    size_t i, cap;
    void *p;

    if ((v = byfeed_find(s, name)) != 0)
        return v;
    if (s->nfeed_names == s->feed_names_cap) {
        cap = s->feed_names_cap ? 2 * s->feed_names_cap : 64;
        if ((p = realloc(s->feed_names, cap * sizeof *s->feed_names)) == NULL)
            return 0;
        s->feed_names = p;
        s->feed_names_cap = cap;
    }
    if (2 * (s->nfeed_names + 1) > s->feed_name_slots_cap) {
        cap = s->feed_name_slots_cap ? 2 * s->feed_name_slots_cap : 128;
        if ((p = calloc(cap, sizeof(uint32_t))) == NULL)
            return 0;
        free(s->feed_name_slots);
        s->feed_name_slots = p;
        s->feed_name_slots_cap = cap;
        for (i = 0; i < s->nfeed_names; i++)
            *byfeed_slot(s, s->feed_names[i]) = (uint32_t)i + 1;
    }
    if ((s->feed_names[s->nfeed_names] = strdup(name)) == NULL)
        return 0;
    slot = byfeed_slot(s, name);
    *slot = (uint32_t)++s->nfeed_names;
    return *slot;
}

void
store_byfeed_forget(struct store *s, size_t i)
{
    if (i < s->rec_feed_n)
        s->rec_feed[i] = 0;
}

void
store_byfeed_reset(struct store *s)
{
    s->rec_feed_n = 0;
}

void
store_byfeed_free(struct store *s)
{
    size_t i;

    for (i = 0; i < s->nfeed_names; i++)
        free(s->feed_names[i]);
    free(s->feed_names);
    free(s->feed_name_slots);
    free(s->rec_feed);
}

/* Learns the feed of every live rec not known yet, reading their records
 * in the order of the index (the order of the log). 0, or a negative
 * errno. */
static int
byfeed_learn(struct store *s)
{
    struct store_lists lists;
    struct feed_item it;
    size_t i, nbad = 0;
    json_t *o;
    uint32_t v;
    void *p;
    int rc = 0;

    if (s->nrecs > s->rec_feed_cap) {
        if ((p = realloc(s->rec_feed, s->nrecs * sizeof *s->rec_feed)) == NULL)
            return -ENOMEM;
        s->rec_feed = p;
        s->rec_feed_cap = s->nrecs;
    }
    if (s->rec_feed_n > s->nrecs)
        s->rec_feed_n = 0;
    if (s->rec_feed_n < s->nrecs)
        memset(s->rec_feed + s->rec_feed_n, 0,
               (s->nrecs - s->rec_feed_n) * sizeof *s->rec_feed);
    s->rec_feed_n = s->nrecs;
    for (i = 0; i < s->nrecs && rc == 0; i++) {
        if (s->rec_feed[i] != 0 || s->recs[i].len == STORE_REC_DEAD)
            continue;
        rc = store_rec_read(s, &s->recs[i], NULL, &it, &lists, &o);
        if (rc > 0) {
            store_rec_damaged(s, (uint32_t)i, rc);
            nbad++;
            rc = 0;
            continue;
        }
        if (rc == 0) {
            v = byfeed_intern(s, it.feed != NULL ? it.feed : "");
            if (v == 0)
                rc = -ENOMEM;
            s->rec_feed[i] = v;
            json_decref(o);
        }
    }
    if (nbad > 0)
        store_recs_forget(s);
    return rc;
}

/* The feeds a read by feed keeps: want[number] for each feed number. */
struct byfeed_want {
    const struct store *s;
    const unsigned char *want;
};

static int
byfeed_keep(const struct store *s, uint32_t i, const void *arg)
{
    const struct byfeed_want *w = arg;

    (void)s;
    return w->want[w->s->rec_feed[i]];
}

int
store_recent_feeds(struct store *s, size_t n, const char *const *feeds,
                   size_t nfeeds, uint64_t *digest, store_item_fn *fn,
                   void *arg)
{
    struct byfeed_want w;
    unsigned char *want;
    uint32_t *h;
    size_t i, j, found;
    uint64_t d = UINT64_C(0xcbf29ce484222325);
    int rc;

    if ((rc = store_load(s)) != 0)
        return rc;
    if ((rc = byfeed_learn(s)) != 0) {
        store_fail(s, "items: cannot learn the feeds of the items: %s",
                   strerror(-rc));
        return rc;
    }
    if ((want = calloc(s->nfeed_names + 1, 1)) == NULL) {
        store_fail(s, "items: out of memory");
        return -ENOMEM;
    }
    for (i = 0; i < nfeeds; i++)
        want[byfeed_find(s, feeds[i])] = 1;
    want[0] = 0; /* unknown feeds, and dead recs */
    w.s = s;
    w.want = want;
    if (digest != NULL) {
        if ((h = store_newest_if(s, n, byfeed_keep, &w, &found)) == NULL) {
            free(want);
            store_fail(s, "items: out of memory");
            return -ENOMEM;
        }
        for (i = 0; i < found; i++)
            for (j = 0; j < 16; j++)
                d = (d ^ ((j < 8 ? s->recs[h[i]].id : s->recs[h[i]].hash) >>
                              (8 * (j % 8)) &
                          0xff)) *
                    UINT64_C(0x100000001b3);
        free(h);
        *digest = d;
    }
    rc = fn != NULL ? store_recent_if(s, n, byfeed_keep, &w, fn, arg) : 0;
    free(want);
    return rc;
}

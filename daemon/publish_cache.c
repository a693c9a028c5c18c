/* daemon/publish_cache.c - the sanitized HTML of the items the last
 * publish put in the merged feed (publish_int.h), so that a publish
 * sanitizes only the entries new or changed since: gumbo's parse of every
 * summary and content was most of a publish, and a running daemon
 * publishes after every poll that brought something.
 *
 * The entries sit in an array in the order they were put, each with the
 * content hash of the version it was made from (an edited entry is a
 * miss) and a mark set when a publish uses it, found by ID through an
 * open-addressed table of their places (so that the first publish after
 * a start, which puts the whole merged feed in no order of its IDs, moves
 * nothing); publish_cache_sweep() drops the unmarked and makes the table
 * again.
 * It holds at most what one publish of the merged feed holds (max_items
 * and the entries in no archive page yet): tag documents and archive
 * pages read it but add nothing to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "publish_int.h"
#include "strhash.h"

struct cached {
    char id[FEED_ID_LEN + 1];
    uint64_t hash;
    char *summary, *content; /* sanitized; NULL when the item had none */
    int used;                /* by the publish under way */
};

struct publish_cache {
    struct cached *v;
    size_t n, cap;
    size_t *slot; /* 1 + the place in v of an entry, 0 empty; linear probing */
    size_t nslot; /* a power of two, over twice n; 0 before the first put */
    size_t made;  /* entries put since the last sweep */
};

struct publish_cache *
publish_cache_new(void)
{
    return calloc(1, sizeof(struct publish_cache));
}

static void
cached_free(struct cached *e)
{
    free(e->summary);
    free(e->content);
}

void
publish_cache_free(struct publish_cache *pc)
{
    size_t i;

    if (pc == NULL)
        return;
    for (i = 0; i < pc->n; i++)
        cached_free(&pc->v[i]);
    free(pc->v);
    free(pc->slot);
    free(pc);
}

/* The slot of the table where id is, or where it would go. */
static size_t
find(const struct publish_cache *pc, const char *id, int *found)
{
    size_t mask = pc->nslot - 1, k = (size_t)strhash(id) & mask;

    *found = 0;
    for (; pc->slot[k] != 0; k = (k + 1) & mask)
        if (strcmp(pc->v[pc->slot[k] - 1].id, id) == 0) {
            *found = 1;
            break;
        }
    return k;
}

/* The table made again for pc->v[0, n), of nslot slots (a power of two
 * over 2 n): 0, or -ENOMEM (the table as it was). */
static int
reindex(struct publish_cache *pc, size_t nslot)
{
    size_t *slot = calloc(nslot, sizeof(*slot)), *old = pc->slot, i;
    int found;

    if (slot == NULL)
        return -ENOMEM;
    pc->slot = slot;
    pc->nslot = nslot;
    for (i = 0; i < pc->n; i++)
        slot[find(pc, pc->v[i].id, &found)] = i + 1;
    free(old);
    return 0;
}

int
publish_cache_get(struct publish_cache *pc, const struct feed_item *it,
                  int mark, const char **summary, const char **content)
{
    int found;
    size_t i;

    /* A record written before content hashes were kept has none: its
     * versions cannot be told apart, so it is never taken from here. */
    if (pc == NULL || it->hash == 0 || pc->nslot == 0)
        return 0;
    i = find(pc, it->id, &found);
    if (found)
        i = pc->slot[i] - 1;
    if (!found || pc->v[i].hash != it->hash)
        return 0;
    if (mark)
        pc->v[i].used = 1;
    *summary = pc->v[i].summary;
    *content = pc->v[i].content;
    return 1;
}

/* The string b holds, taken from it (b is left empty), or NULL when b
 * holds none. */
static char *
take(struct feed_buf *b)
{
    char *s = b->data;

    feed_buf_init(b, 0);
    return s;
}

int
publish_cache_put(struct publish_cache *pc, const struct feed_item *it,
                  struct feed_buf *summary, struct feed_buf *content)
{
    struct cached *e;
    int found;
    size_t i;

    if (it->hash == 0)
        return 0;
    if (2 * (pc->n + 1) > pc->nslot &&
        reindex(pc, pc->nslot ? 2 * pc->nslot : 128) != 0)
        return -ENOMEM;
    i = find(pc, it->id, &found);
    if (found) {
        e = &pc->v[pc->slot[i] - 1];
        /* Another version that this publish uses already: its strings
         * stay (items point at them); this one's stay in the buffers. */
        if (e->used)
            return -EEXIST;
        cached_free(e);
    } else {
        if (pc->n == pc->cap) {
            size_t cap = pc->cap ? 2 * pc->cap : 64;
            struct cached *v = realloc(pc->v, cap * sizeof(*v));

            if (v == NULL)
                return -ENOMEM;
            pc->v = v;
            pc->cap = cap;
        }
        e = &pc->v[pc->n++];
        pc->slot[i] = pc->n;
        memcpy(e->id, it->id, sizeof(e->id));
    }
    e->hash = it->hash;
    e->summary = take(summary);
    e->content = take(content);
    e->used = 1;
    pc->made++;
    return 0;
}

void
publish_cache_sweep(struct publish_cache *pc)
{
    size_t i, k = 0;

    if (pc == NULL)
        return;
    pc->made = 0;
    for (i = 0; i < pc->n; i++) {
        if (!pc->v[i].used) {
            cached_free(&pc->v[i]);
            continue;
        }
        pc->v[i].used = 0;
        pc->v[k++] = pc->v[i];
    }
    pc->n = k;
    /* A publish of fewer items gives the rest of the room back. */
    if (pc->cap > 64 && pc->n < pc->cap / 4) {
        struct cached *v = realloc(pc->v, (pc->cap / 2) * sizeof(*v));

        if (v != NULL) {
            pc->v = v;
            pc->cap /= 2;
        }
    }
    /* The places moved: the table is made again, of a size for them;
     * without memory for it, the cache is emptied (a miss is only a
     * sanitize more). */
    if (pc->nslot > 0) {
        size_t nslot = 128;

        while (nslot < 2 * pc->n + 2)
            nslot *= 2;
        if (reindex(pc, nslot) != 0) {
            for (i = 0; i < pc->n; i++)
                cached_free(&pc->v[i]);
            pc->n = 0;
            memset(pc->slot, 0, pc->nslot * sizeof(*pc->slot));
        }
    }
}

size_t
publish_cache_count(const struct publish_cache *pc)
{
    return pc ? pc->n : 0;
}

size_t
publish_cache_made(const struct publish_cache *pc)
{
    return pc ? pc->made : 0;
}

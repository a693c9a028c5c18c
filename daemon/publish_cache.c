/* daemon/publish_cache.c - the sanitized HTML of the items the last
 * publish put in the merged feed (publish_int.h), so that a publish
 * sanitizes only the entries new or changed since: gumbo's parse of every
 * summary and content was most of a publish, and a running daemon
 * publishes after every poll that brought something.
 *
 * The entries sit in an array sorted by ID, each with the content hash
 * of the version it was made from (an edited entry is a miss) and a mark
 * set when a publish uses it; publish_cache_sweep() drops the unmarked.
 * It holds at most what one publish of the merged feed holds (max_items
 * and the entries in no archive page yet): tag documents and archive
 * pages read it but add nothing to it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "publish_int.h"

struct cached {
    char id[FEED_ID_LEN + 1];
    uint64_t hash;
    char *summary, *content; /* sanitized; NULL when the item had none */
    int used;                /* by the publish under way */
};

struct publish_cache {
    struct cached *v;
    size_t n, cap;
    size_t made; /* entries put since the last sweep */
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
    free(pc);
}

/* Where id is, or would go, in pc->v. */
static size_t
find(const struct publish_cache *pc, const char *id, int *found)
{
    size_t lo = 0, hi = pc->n;

    *found = 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(pc->v[mid].id, id);

        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int
publish_cache_get(struct publish_cache *pc, const struct feed_item *it,
                  int mark, const char **summary, const char **content)
{
    int found;
    size_t i;

    /* A record written before content hashes were kept has none: its
     * versions cannot be told apart, so it is never taken from here. */
    if (pc == NULL || it->hash == 0)
        return 0;
    i = find(pc, it->id, &found);
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
    i = find(pc, it->id, &found);
    if (found) {
        e = &pc->v[i];
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
        memmove(&pc->v[i + 1], &pc->v[i], (pc->n - i) * sizeof(*pc->v));
        pc->n++;
        e = &pc->v[i];
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

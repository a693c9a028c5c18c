/* daemon/schedule.c - the due-poll queue (schedule.h).
 *
 * Each feed is in one of four states: idle, in the heap (scheduled, by
 * due time), waiting in its host's queue (due, no connection free), or
 * running; a fifth, free, is a number no feed holds (removed, to be given
 * to the next feed added). Feeds are numbered slots in arrays that grow
 * by doubling, so a daemon that reloads its config adds and removes feeds
 * in O(log n) each. The heap is an array with each feed's place in it, so
 * that a feed is moved in O(log n). Each host lists its feeds by rank, so
 * that one leaves in O(1): the last-ranked takes its place. Hosts with
 * waiting feeds and a free connection are in a ring (the ready ring), each
 * at most once, and take turns: one feed per turn. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "strhash.h"

#define NONE UINT32_MAX

/* STALLED: running, but no longer counted against its host's cap. */
enum { IDLE, HEAP, WAITING, RUNNING, FREE, STALLED };

struct host {
    char *key;
    uint32_t head, tail; /* the waiting feeds, oldest first */
    uint32_t running;
    uint32_t *members; /* its feeds, by rank */
    uint32_t nfeeds, members_cap;
    int ready; /* in the ready ring */
    /* Retry-After: until when a feed of it was last told to wait, which
     * one, and until when the whole host waits (a second feed was told
     * while the first waited); 0 when none. */
    uint64_t told_until, hold_until;
    uint32_t told_feed;
};

struct sched {
    size_t nslots, cap; /* numbers given out, and room for */
    uint32_t free_head; /* free numbers, linked through next[] */
    uint32_t parallel, per_host;
    /* Per feed number: cap places. */
    uint64_t *due;
    uint32_t *pos;         /* its place in heap, while in it */
    uint32_t *host;        /* index into hosts */
    uint32_t *rank;        /* among the feeds of its host */
    uint32_t *prev, *next; /* its host's queue, while waiting */
    unsigned char *state;
    /* The heap of scheduled feeds. */
    uint32_t *heap;
    size_t nheap;
    /* Hosts, and a table from key to host (index plus one; 0 is free). */
    struct host *hosts;
    size_t nhosts, hosts_cap;
    uint32_t *slots;
    size_t slots_cap;
    /* The ready ring: hosts_cap places. */
    uint32_t *ring;
    size_t ring_head, ring_len;
    size_t running, waiting;
};

/* Room for feed numbers up to cap (more than s->cap): 0 or -ENOMEM,
 * and then s->cap is as it was (the arrays grown so far only have more
 * room than they need). */
static int
slots_grow(struct sched *s, size_t cap)
{
#define SCHED_GROW(a)                                                          \
    do {                                                                       \
        void *m = realloc(s->a, cap * sizeof *s->a);                           \
        if (m == NULL)                                                         \
            return -ENOMEM;                                                    \
        s->a = m;                                                              \
    } while (0)
    if (cap >= NONE)
        return -ENOMEM;
    SCHED_GROW(due);
    SCHED_GROW(pos);
    SCHED_GROW(host);
    SCHED_GROW(rank);
    SCHED_GROW(prev);
    SCHED_GROW(next);
    SCHED_GROW(state);
    SCHED_GROW(heap);
#undef SCHED_GROW
    s->cap = cap;
    return 0;
}

struct sched *
sched_new(size_t nfeeds, int parallel, int per_host)
{
    struct sched *s = calloc(1, sizeof *s);

    if (s == NULL)
        return NULL;
    s->free_head = NONE;
    s->parallel = parallel > 0 ? (uint32_t)parallel : 1;
    s->per_host = per_host > 0 ? (uint32_t)per_host : 1;
    if (slots_grow(s, nfeeds ? nfeeds : 1) != 0) {
        sched_free(s);
        return NULL;
    }
    s->nslots = nfeeds;
    memset(s->state, IDLE, nfeeds);
    return s;
}

void
sched_free(struct sched *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nhosts; i++) {
        free(s->hosts[i].key);
        free(s->hosts[i].members);
    }
    free(s->hosts);
    free(s->slots);
    free(s->ring);
    free(s->due);
    free(s->pos);
    free(s->host);
    free(s->rank);
    free(s->prev);
    free(s->next);
    free(s->state);
    free(s->heap);
    free(s);
}

/* ---- hosts ---- */

/* The host part of url into a new string: "scheme://host:port" in lower
 * case, without user info; "file:" for every file URL. NULL when out of
 * memory. */
static char *
host_key(const char *url)
{
    const char *p = strstr(url, "://"), *a, *end, *at;
    size_t n, i;
    char *k;

    if (p == NULL || strncmp(url, "file:", 5) == 0)
        return strdup("file:");
    a = p + 3;
    end = a + strcspn(a, "/?#");
    /* user:password@ is not part of the host. */
    for (at = end; at > a && at[-1] != '@'; at--)
        ;
    if (at > a)
        a = at;
    n = (size_t)(p + 3 - url) + (size_t)(end - a);
    if ((k = malloc(n + 1)) == NULL)
        return NULL;
    memcpy(k, url, (size_t)(p + 3 - url));
    memcpy(k + (p + 3 - url), a, (size_t)(end - a));
    for (i = 0; i < n; i++)
        k[i] = (char)tolower((unsigned char)k[i]);
    k[n] = '\0';
    return k;
}

static void
slot_place(struct sched *s, uint32_t hi)
{
    size_t mask = s->slots_cap - 1,
           j = (size_t)strhash(s->hosts[hi].key) & mask;

    while (s->slots[j] != 0)
        j = (j + 1) & mask;
    s->slots[j] = hi + 1;
}

/* Room for one more host: in the table (load at most 1/2), the array and
 * the ring. 0 or -ENOMEM. */
static int
hosts_grow(struct sched *s)
{
    size_t cap, i, k;
    uint32_t *slots, *ring;
    struct host *h;

    if ((s->nhosts + 1) * 2 > s->slots_cap) {
        cap = s->slots_cap ? s->slots_cap * 2 : 16;
        if ((slots = calloc(cap, sizeof *slots)) == NULL)
            return -ENOMEM;
        free(s->slots);
        s->slots = slots;
        s->slots_cap = cap;
        for (i = 0; i < s->nhosts; i++)
            slot_place(s, (uint32_t)i);
    }
    if (s->nhosts == s->hosts_cap) {
        cap = s->hosts_cap ? s->hosts_cap * 2 : 8;
        if ((h = realloc(s->hosts, cap * sizeof *h)) == NULL)
            return -ENOMEM;
        s->hosts = h;
        if ((ring = malloc(cap * sizeof *ring)) == NULL)
            return -ENOMEM;
        /* The ring, unrolled into the new one from its head. */
        for (k = 0; k < s->ring_len; k++)
            ring[k] = s->ring[(s->ring_head + k) % s->hosts_cap];
        free(s->ring);
        s->ring = ring;
        s->ring_head = 0;
        s->hosts_cap = cap;
    }
    return 0;
}

/* The host of url, made when it is new, with room for one more feed:
 * 0 and *hi, or -ENOMEM. */
static int
host_get(struct sched *s, const char *url, uint32_t *hi)
{
    char *k = host_key(url);
    size_t j;
    struct host *h;

    if (k == NULL)
        return -ENOMEM;
    *hi = NONE;
    if (s->slots_cap != 0)
        for (j = (size_t)strhash(k) & (s->slots_cap - 1); s->slots[j] != 0;
             j = (j + 1) & (s->slots_cap - 1))
            if (strcmp(s->hosts[s->slots[j] - 1].key, k) == 0) {
                *hi = s->slots[j] - 1;
                break;
            }
    if (*hi == NONE) {
        if (hosts_grow(s) != 0) {
            free(k);
            return -ENOMEM;
        }
        *hi = (uint32_t)s->nhosts++;
        h = &s->hosts[*hi];
        memset(h, 0, sizeof *h);
        h->key = k;
        h->head = h->tail = NONE;
        slot_place(s, *hi);
    } else {
        free(k);
    }
    h = &s->hosts[*hi];
    if (h->nfeeds == h->members_cap) {
        uint32_t cap = h->members_cap ? h->members_cap * 2 : 4, *m;

        if (cap <= h->members_cap ||
            (m = realloc(h->members, cap * sizeof *m)) == NULL)
            return -ENOMEM;
        h->members = m;
        h->members_cap = cap;
    }
    return 0;
}

/* feed joins host hi (host_get() made room), last in rank. */
static void
host_join(struct sched *s, uint32_t feed, uint32_t hi)
{
    struct host *h = &s->hosts[hi];

    s->host[feed] = hi;
    s->rank[feed] = h->nfeeds;
    h->members[h->nfeeds++] = feed;
}

/* feed leaves its host: the host's last-ranked feed takes its rank. */
static void
host_leave(struct sched *s, uint32_t feed)
{
    struct host *h = &s->hosts[s->host[feed]];
    uint32_t last = h->members[--h->nfeeds];

    h->members[s->rank[feed]] = last;
    s->rank[last] = s->rank[feed];
}

int
sched_host(struct sched *s, size_t feed, const char *url)
{
    uint32_t hi;

    if (host_get(s, url, &hi) != 0)
        return -ENOMEM;
    host_join(s, (uint32_t)feed, hi);
    return 0;
}

/* ---- the heap ---- */

/* 1 when feed a is due before feed b: by time, then by number, so that
 * feeds due together start in the order of the config. */
static int
before(const struct sched *s, uint32_t a, uint32_t b)
{
    return s->due[a] < s->due[b] || (s->due[a] == s->due[b] && a < b);
}

static void
heap_set(struct sched *s, size_t i, uint32_t feed)
{
    s->heap[i] = feed;
    s->pos[feed] = (uint32_t)i;
}

static void
heap_up(struct sched *s, size_t i)
{
    uint32_t f = s->heap[i];

    while (i > 0 && before(s, f, s->heap[(i - 1) / 2])) {
        heap_set(s, i, s->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    heap_set(s, i, f);
}

static void
heap_down(struct sched *s, size_t i)
{
    uint32_t f = s->heap[i];
    size_t c;

    while ((c = 2 * i + 1) < s->nheap) {
        if (c + 1 < s->nheap && before(s, s->heap[c + 1], s->heap[c]))
            c++;
        if (!before(s, s->heap[c], f))
            break;
        heap_set(s, i, s->heap[c]);
        i = c;
    }
    heap_set(s, i, f);
}

static void
heap_remove(struct sched *s, uint32_t feed)
{
    size_t i = s->pos[feed];
    uint32_t last = s->heap[--s->nheap];

    if (i == s->nheap)
        return;
    heap_set(s, i, last);
    heap_up(s, i);
    heap_down(s, s->pos[last]);
}

void
sched_at(struct sched *s, size_t feed, uint64_t at)
{
    uint32_t f = (uint32_t)feed;

    if (s->state[f] == WAITING || s->state[f] == RUNNING ||
        s->state[f] == STALLED)
        return;
    s->due[f] = at;
    if (s->state[f] == HEAP) {
        heap_up(s, s->pos[f]);
        heap_down(s, s->pos[f]);
        return;
    }
    s->state[f] = HEAP;
    heap_set(s, s->nheap++, f);
    heap_up(s, s->nheap - 1);
}

uint64_t
sched_next(const struct sched *s)
{
    return s->nheap ? s->due[s->heap[0]] : SCHED_NEVER;
}

/* ---- the queues ---- */

static void
ring_push(struct sched *s, uint32_t hi)
{
    s->ring[(s->ring_head + s->ring_len++) % s->hosts_cap] = hi;
    s->hosts[hi].ready = 1;
}

/* Puts host hi in the ready ring when it has a waiting feed and a free
 * connection. */
static void
maybe_ready(struct sched *s, uint32_t hi)
{
    struct host *h = &s->hosts[hi];

    if (!h->ready && h->head != NONE && h->running < s->per_host)
        ring_push(s, hi);
}

static void
queue_push(struct sched *s, uint32_t f)
{
    struct host *h = &s->hosts[s->host[f]];

    s->prev[f] = h->tail;
    s->next[f] = NONE;
    if (h->tail != NONE)
        s->next[h->tail] = f;
    else
        h->head = f;
    h->tail = f;
    s->state[f] = WAITING;
    s->waiting++;
    maybe_ready(s, s->host[f]);
}

static void
queue_remove(struct sched *s, uint32_t f)
{
    struct host *h = &s->hosts[s->host[f]];

    if (s->prev[f] != NONE)
        s->next[s->prev[f]] = s->next[f];
    else
        h->head = s->next[f];
    if (s->next[f] != NONE)
        s->prev[s->next[f]] = s->prev[f];
    else
        h->tail = s->prev[f];
    s->waiting--;
    s->state[f] = IDLE;
}

void
sched_cancel(struct sched *s, size_t feed)
{
    uint32_t f = (uint32_t)feed;

    if (s->state[f] == HEAP) {
        heap_remove(s, f);
        s->state[f] = IDLE;
    } else if (s->state[f] == WAITING) {
        /* Its host may stay in the ring with nothing to take: a turn
         * finds that out and drops it. */
        queue_remove(s, f);
    }
}

void
sched_due(struct sched *s, uint64_t now)
{
    while (s->nheap > 0 && s->due[s->heap[0]] <= now) {
        uint32_t f = s->heap[0];
        uint64_t hold = s->hosts[s->host[f]].hold_until;

        /* A host that asked to be left alone: its feeds fall due when
         * it is over. */
        if (hold > now) {
            s->due[f] = hold;
            heap_down(s, 0);
            continue;
        }
        heap_remove(s, f);
        queue_push(s, f);
    }
}

uint64_t
sched_host_wait(struct sched *s, size_t feed, uint64_t now, uint64_t until)
{
    struct host *h = &s->hosts[s->host[feed]];

    if (h->told_until > now && h->told_feed != (uint32_t)feed)
        h->hold_until = until > h->told_until ? until : h->told_until;
    if (h->told_until <= now || until > h->told_until)
        h->told_until = until;
    h->told_feed = (uint32_t)feed;
    return h->hold_until > now ? h->hold_until : 0;
}

int
sched_take(struct sched *s, size_t *feed)
{
    while (s->running < s->parallel && s->ring_len > 0) {
        uint32_t hi = s->ring[s->ring_head];
        struct host *h = &s->hosts[hi];
        uint32_t f;

        s->ring_head = (s->ring_head + 1) % s->hosts_cap;
        s->ring_len--;
        h->ready = 0;
        if (h->head == NONE || h->running >= s->per_host)
            continue;
        f = h->head;
        queue_remove(s, f);
        s->state[f] = RUNNING;
        s->running++;
        h->running++;
        maybe_ready(s, hi); /* to the back of the ring: hosts take turns */
        *feed = f;
        return 1;
    }
    return 0;
}

int
sched_ready(const struct sched *s)
{
    size_t k;

    if (s->running >= s->parallel)
        return 0;
    /* Hosts in the ring with nothing left to take (cancelled) do not
     * count: a turn would drop them. */
    for (k = 0; k < s->ring_len; k++) {
        const struct host *h =
            &s->hosts[s->ring[(s->ring_head + k) % s->hosts_cap]];

        if (h->head != NONE && h->running < s->per_host)
            return 1;
    }
    return 0;
}

void
sched_done(struct sched *s, size_t feed)
{
    uint32_t f = (uint32_t)feed;

    if (s->state[f] != RUNNING && s->state[f] != STALLED)
        return;
    if (s->state[f] == RUNNING)
        s->hosts[s->host[f]].running--;
    s->state[f] = IDLE;
    s->running--;
    maybe_ready(s, s->host[f]);
}

void
sched_stalled(struct sched *s, size_t feed)
{
    uint32_t f = (uint32_t)feed;

    if (s->state[f] != RUNNING)
        return;
    s->state[f] = STALLED;
    s->hosts[s->host[f]].running--;
    maybe_ready(s, s->host[f]);
}

size_t
sched_running(const struct sched *s)
{
    return s->running;
}

size_t
sched_waiting(const struct sched *s)
{
    return s->waiting;
}

size_t
sched_scheduled(const struct sched *s)
{
    return s->nheap;
}

uint64_t
sched_spread(const struct sched *s, size_t feed, uint64_t now,
             uint64_t interval)
{
    const struct host *h = &s->hosts[s->host[feed]];
    uint64_t phase, from = now + interval / 2;

    /* The host's own offset, then the feed's share of the interval. */
    phase = strhash(h->key) % interval +
            (uint64_t)s->rank[feed] * interval / (h->nfeeds ? h->nfeeds : 1);
    phase %= interval;
    return from + (phase + interval - from % interval) % interval;
}

/* ---- feeds added and removed, caps changed ---- */

int
sched_add(struct sched *s, const char *url, size_t *feed)
{
    uint32_t hi, f;

    if (s->free_head == NONE && s->nslots == s->cap &&
        slots_grow(s, s->cap * 2) != 0)
        return -ENOMEM;
    if (host_get(s, url, &hi) != 0)
        return -ENOMEM;
    if (s->free_head != NONE) {
        f = s->free_head;
        s->free_head = s->next[f];
    } else {
        f = (uint32_t)s->nslots++;
    }
    s->state[f] = IDLE;
    host_join(s, f, hi);
    *feed = f;
    return 0;
}

void
sched_remove(struct sched *s, size_t feed)
{
    uint32_t f = (uint32_t)feed;

    if (s->state[f] == RUNNING || s->state[f] == STALLED || s->state[f] == FREE)
        return;
    sched_cancel(s, feed);
    host_leave(s, f);
    s->state[f] = FREE;
    s->next[f] = s->free_head;
    s->free_head = f;
}

int
sched_set_host(struct sched *s, size_t feed, const char *url)
{
    uint32_t f = (uint32_t)feed, hi;
    int waiting = s->state[f] == WAITING;

    if (s->state[f] == RUNNING || s->state[f] == STALLED || s->state[f] == FREE)
        return -EBUSY;
    if (host_get(s, url, &hi) != 0)
        return -ENOMEM;
    if (hi == s->host[f])
        return 0;
    /* A waiting feed goes to the back of its new host's queue. */
    if (waiting)
        queue_remove(s, f);
    host_leave(s, f);
    host_join(s, f, hi);
    if (waiting)
        queue_push(s, f);
    return 0;
}

void
sched_caps(struct sched *s, int parallel, int per_host)
{
    size_t i;

    s->parallel = parallel > 0 ? (uint32_t)parallel : 1;
    s->per_host = per_host > 0 ? (uint32_t)per_host : 1;
    /* A host held back by the old per_host may start one now. */
    for (i = 0; i < s->nhosts; i++)
        maybe_ready(s, (uint32_t)i);
}

uint64_t
sched_due_at(const struct sched *s, size_t feed)
{
    return s->state[feed] == HEAP ? s->due[feed] : SCHED_NEVER;
}

size_t
sched_slots(const struct sched *s)
{
    return s->nslots;
}

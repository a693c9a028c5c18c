/* store/state.c - feeds.state, the per-feed HTTP and poll state: a log
 * of JSON lines,
 *
 *   {"feedd_state":2}
 *   {"feed":..,"etag":..,"last_modified":..,"last_poll":T,"last_ok":T,
 *    "next_poll":T,"errors":N,"last_error":..,"sum":"XXXXXXXX"}
 *   {"feed":..,"gone":true,"sum":"XXXXXXXX"}
 *
 * (strings may be null, times are seconds or null; the sum is a crc32, as
 * in the segments: store_record_seal()). "last_ok" came later: a line
 * without it reads as none.
 * A feed's state is its last line; "gone" forgets a feed. A save
 * appends a line for each feed whose state changed since the last save,
 * and nothing for the others, without an fdatasync (store.h says why):
 * its cost follows the polls that ended, not the length of the feed list. When
 * the lines that no longer count outweigh the live ones (plus some slack), the
 * save writes the file whole instead (store_file_replace()), so it stays within
 * about twice its live size.
 *
 * Read once at open. A line whose sum does not match is skipped with a
 * warning (the feed's earlier line, if any, counts): the state is only a
 * cache of the last poll, and the worst a lost line does is a full
 * download. An unfinished last line (a save cut short) is cut off. A
 * file without the first line (written before the log) is read without
 * sums and written whole at the next save. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"

/* A feed's state lives in one allocation: the struct, then its name,
 * etag, last_modified and last_error, each NUL-terminated, which the
 * state's pointers point into. One block instead of five keeps malloc's
 * overhead per feed to one header (a daemon holds a state for each of
 * its feeds for ever). */

static size_t
store_strsize(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s (when not NULL) to *at and moves *at past it; the copy, or
 * NULL. */
static char *
store_strput(char **at, const char *s)
{
    char *d = *at;
    size_t n = store_strsize(s);

    if (s == NULL)
        return NULL;
    memcpy(d, s, n);
    *at += n;
    return d;
}

/* A new feed called name holding a copy of st (which may point into
 * another feed's block). NULL when out of memory. */
static struct store_feed *
store_feed_make(const char *name, const struct store_feed_state *st)
{
    size_t n = strlen(name) + 1;
    struct store_feed *f;
    char *at;

    f = malloc(sizeof *f + n + store_strsize(st->etag) +
               store_strsize(st->last_modified) +
               store_strsize(st->last_error));
    if (f == NULL)
        return NULL;
    memcpy(f->name, name, n);
    at = f->name + n;
    f->st = *st;
    f->st.etag = store_strput(&at, st->etag);
    f->st.last_modified = store_strput(&at, st->last_modified);
    f->st.last_error = store_strput(&at, st->last_error);
    f->len = 0;
    f->dirty = 0;
    return f;
}

/* ---- finding a feed by name ---------------------------------------------- */

/* Feeds are found through a hash table of their indexes in s->feeds (plus
 * one; 0 is a free slot), linear probing, load at most 1/2, so that
 * loading a feeds.state of n lines costs O(n). */

uint64_t
store_name_hash(uint64_t seed, const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325) ^ seed;

    for (; *name != '\0'; name++)
        h = (h ^ (unsigned char)*name) * UINT64_C(0x100000001b3);
    h ^= h >> 30;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 27;
    h *= UINT64_C(0x94d049bb133111eb);
    return h ^ (h >> 31);
}

/* Puts s->feeds[i] in the table, which has room. */
static void
store_feeds_place(struct store *s, size_t i)
{
    size_t mask = s->feed_slots_cap - 1,
           j = (size_t)store_name_hash(s->ids.seed, s->feeds[i]->name) & mask;

    while (s->feed_slots[j] != 0)
        j = (j + 1) & mask;
    s->feed_slots[j] = (uint32_t)i + 1;
}

/* A new table for s->feeds[0, nfeeds) with room for want feeds. 0, or
 * -ENOMEM with the table as it was. */
static int
store_feeds_rehash(struct store *s, size_t want)
{
    size_t cap = 16, i;
    uint32_t *t;

    while (cap / 2 < want)
        cap *= 2;
    if ((t = calloc(cap, sizeof *t)) == NULL)
        return -ENOMEM;
    free(s->feed_slots);
    s->feed_slots = t;
    s->feed_slots_cap = cap;
    for (i = 0; i < s->nfeeds; i++)
        store_feeds_place(s, i);
    return 0;
}

/* The feed called name, and its index in *at (when at is not NULL), or
 * NULL. Without a table (out of memory after a removal), a linear
 * search. */
static struct store_feed *
store_feed_find(const struct store *s, const char *name, size_t *at)
{
    size_t i, j, mask = s->feed_slots_cap - 1;

    if (s->feed_slots_cap == 0) {
        for (i = 0; i < s->nfeeds && strcmp(s->feeds[i]->name, name) != 0; i++)
            ;
    } else {
        j = (size_t)store_name_hash(s->ids.seed, name) & mask;
        for (;; j = (j + 1) & mask) {
            if ((i = s->feed_slots[j]) == 0) {
                i = s->nfeeds;
                break;
            }
            if (strcmp(s->feeds[--i]->name, name) == 0)
                break;
        }
    }
    if (i == s->nfeeds)
        return NULL;
    if (at != NULL)
        *at = i;
    return s->feeds[i];
}

/* Takes s->feeds[at] out of the table and the array: the last feed takes
 * its place, and the table's slots stay gapless for linear probing (each
 * entry after the freed slot moves back when its home allows), so that
 * forgetting a feed costs O(1) however many there are. */
static void
store_feed_unplace(struct store *s, size_t at)
{
    size_t mask = s->feed_slots_cap - 1, i, j, k, home;

    if (s->feed_slots_cap != 0) {
        for (j = (size_t)store_name_hash(s->ids.seed, s->feeds[at]->name) &
                 mask;
             s->feed_slots[j] != at + 1; j = (j + 1) & mask)
            ;
        for (i = j;;) {
            s->feed_slots[i] = 0;
            for (k = (i + 1) & mask;; k = (k + 1) & mask) {
                if (s->feed_slots[k] == 0)
                    goto placed;
                home = (size_t)store_name_hash(
                           s->ids.seed, s->feeds[s->feed_slots[k] - 1]->name) &
                       mask;
                /* k's entry may fill i when its home is not in (i, k]. */
                if (i <= k ? (home <= i || home > k) : (home <= i && home > k))
                    break;
            }
            s->feed_slots[i] = s->feed_slots[k];
            i = k;
        }
    }
placed:
    s->nfeeds--;
    if (at == s->nfeeds)
        return;
    s->feeds[at] = s->feeds[s->nfeeds];
    if (s->feed_slots_cap != 0) {
        for (j = (size_t)store_name_hash(s->ids.seed, s->feeds[at]->name) &
                 mask;
             s->feed_slots[j] != s->nfeeds + 1; j = (j + 1) & mask)
            ;
        s->feed_slots[j] = (uint32_t)at + 1;
    }
}

/* ---- what changed since the last save --------------------------------- */

/* Puts f on the list of feeds the next save writes. 0 or -ENOMEM. */
static int
store_feed_dirty(struct store *s, struct store_feed *f)
{
    void *p;

    if (f->dirty != 0)
        return 0;
    p = store_array_grow(s->state_dirty, &s->dirty_cap, s->ndirty,
                         sizeof *s->state_dirty);
    if (p == NULL)
        return -ENOMEM;
    s->state_dirty = p;
    s->state_dirty[s->ndirty++] = f;
    f->dirty = (uint32_t)s->ndirty;
    return 0;
}

/* Takes f off that list. */
static void
store_feed_clean(struct store *s, struct store_feed *f)
{
    struct store_feed *last;

    if (f->dirty == 0)
        return;
    last = s->state_dirty[--s->ndirty];
    s->state_dirty[f->dirty - 1] = last;
    last->dirty = f->dirty;
    f->dirty = 0;
}

/* Remembers that the next save must say feed name is gone: it has a
 * line in the file. 0 or -ENOMEM. */
static int
store_feed_gone(struct store *s, const char *name)
{
    void *p;
    char *copy;

    p = store_array_grow(s->state_gone, &s->gone_cap, s->ngone,
                         sizeof *s->state_gone);
    if (p == NULL)
        return -ENOMEM;
    s->state_gone = p;
    if ((copy = strdup(name)) == NULL)
        return -ENOMEM;
    s->state_gone[s->ngone++] = copy;
    return 0;
}

void
store_gone_free(struct store *s)
{
    size_t i;

    for (i = 0; i < s->ngone; i++)
        free(s->state_gone[i]);
    s->ngone = 0;
}

static int
store_str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int
store_feed_state_eq(const struct store_feed_state *a,
                    const struct store_feed_state *b)
{
    return store_str_eq(a->etag, b->etag) &&
           store_str_eq(a->last_modified, b->last_modified) &&
           a->last_poll == b->last_poll && a->last_ok == b->last_ok &&
           a->next_poll == b->next_poll && a->errors == b->errors &&
           a->why == b->why && store_str_eq(a->last_error, b->last_error);
}

/* ---- the state in memory ----------------------------------------------- */

int
store_feed_put(struct store *s, const char *feed,
               const struct store_feed_state *st, struct store_feed **out)
{
    struct store_feed *f, *nf;
    size_t at = 0;
    void *p;

    *out = NULL;
    f = store_feed_find(s, feed, &at);
    if (st == NULL) {
        if (f == NULL)
            return 0;
        if (f->len != 0 && store_feed_gone(s, f->name) != 0)
            return -ENOMEM;
        s->state_live -= f->len;
        store_feed_clean(s, f);
        store_feed_unplace(s, at);
        free(f);
        return 0;
    }
    if (f != NULL && store_str_eq(f->st.etag, st->etag) &&
        store_str_eq(f->st.last_modified, st->last_modified) &&
        store_str_eq(f->st.last_error, st->last_error)) {
        /* The same strings (the usual poll): the times change in place. */
        f->st.last_poll = st->last_poll;
        f->st.last_ok = st->last_ok;
        f->st.next_poll = st->next_poll;
        f->st.errors = st->errors;
        f->st.why = st->why;
        *out = f;
        return 0;
    }
    if (f != NULL) {
        /* A new block: st may point into the old one, freed after. */
        if ((nf = store_feed_make(f->name, st)) == NULL)
            return -ENOMEM;
        nf->len = f->len;
        nf->dirty = f->dirty;
        if (nf->dirty != 0)
            s->state_dirty[nf->dirty - 1] = nf;
        s->feeds[at] = nf;
        free(f);
        *out = nf;
        return 0;
    }
    p = store_array_grow(s->feeds, &s->feeds_cap, s->nfeeds, sizeof *s->feeds);
    if (p == NULL)
        return -ENOMEM;
    s->feeds = p;
    if ((s->nfeeds + 1) * 2 > s->feed_slots_cap &&
        store_feeds_rehash(s, s->nfeeds + 1) != 0)
        return -ENOMEM;
    if ((f = store_feed_make(feed, st)) == NULL)
        return -ENOMEM;
    s->feeds[s->nfeeds] = f;
    store_feeds_place(s, s->nfeeds++);
    *out = f;
    return 0;
}

const struct store_feed_state *
store_feed_state_get(const struct store *s, const char *feed)
{
    const struct store_feed *f;

    if (feed == NULL || (f = store_feed_find(s, feed, NULL)) == NULL)
        return NULL;
    return &f->st;
}

int
store_feed_state_set(struct store *s, const char *feed,
                     const struct store_feed_state *st)
{
    struct store_feed *f;

    if (feed == NULL)
        return -EINVAL;
    f = st ? store_feed_find(s, feed, NULL) : NULL;
    /* What did not change is not written. */
    if (f != NULL && store_feed_state_eq(&f->st, st))
        return 0;
    /* Only times changed: synced only when `run` stops. */
    if (f == NULL || !store_str_eq(f->st.etag, st->etag) ||
        !store_str_eq(f->st.last_modified, st->last_modified) ||
        !store_str_eq(f->st.last_error, st->last_error) ||
        f->st.errors != st->errors)
        s->state_must_sync = 1;
    if (store_feed_put(s, feed, st, &f) != 0)
        return -ENOMEM;
    return f != NULL ? store_feed_dirty(s, f) : 0;
}

void
store_states_free(struct store *s)
{
    size_t i;

    for (i = 0; i < s->nfeeds; i++)
        free(s->feeds[i]);
    free(s->feeds);
    free(s->feed_slots);
    store_gone_free(s);
    free(s->state_gone);
    free(s->state_dirty);
    if (s->state_fd >= 0)
        close(s->state_fd);
    s->feeds = NULL;
    s->feed_slots = NULL;
    s->state_gone = NULL;
    s->state_dirty = NULL;
    s->state_fd = -1;
    s->nfeeds = s->feeds_cap = s->feed_slots_cap = 0;
    s->ndirty = s->dirty_cap = s->gone_cap = 0;
}

/* ---- writing feeds.state ----------------------------------------------- */

/* The line of feed f, '\n' included, appended to b. 0 or non-zero. */
static int
store_state_put(struct feed_buf *b, const struct store_feed *f)
{
    const struct store_feed_state *st = &f->st;
    size_t start = b->len;

    return feed_buf_puts(b, "{\"feed\":") != 0 ||
           feed_buf_json(b, f->name) != 0 ||
           store_put_str(b, "etag", st->etag) != 0 ||
           store_put_str(b, "last_modified", st->last_modified) != 0 ||
           store_put_time(b, "last_poll", st->last_poll) != 0 ||
           store_put_time(b, "last_ok", st->last_ok) != 0 ||
           store_put_time(b, "next_poll", st->next_poll) != 0 ||
           feed_buf_printf(b, ",\"errors\":%d", st->errors) != 0 ||
           (st->why != 0 && feed_buf_printf(b, ",\"why\":%d", st->why) != 0) ||
           store_put_str(b, "last_error", st->last_error) != 0 ||
           store_record_seal(b, start) != 0;
}

/* Every saved line is clean again: lens[i] is the new line's length of
 * the i-th dirty feed. */
static void
store_state_saved(struct store *s, const uint32_t *lens)
{
    size_t i;

    for (i = 0; i < s->ndirty; i++) {
        struct store_feed *f = s->state_dirty[i];

        s->state_live += lens[i];
        s->state_live -= f->len;
        f->len = lens[i];
        f->dirty = 0;
    }
    s->ndirty = 0;
    store_gone_free(s);
}

/* The bytes of feeds.state a rewrite holds before it writes them: the
 * file is written in pieces, so that a daemon's memory does not grow by
 * the size of its feed list each time the file is rewritten (the
 * allocator keeps what a large buffer touched). */
#define STORE_STATE_CHUNK ((size_t)256 << 10)

struct store_rewrite {
    struct store *s;
    uint64_t size; /* written so far */
};

/* store_file_replace_fn()'s fill: the header, then every feed's line,
 * each one's length set on the way. */
static int
store_state_fill(int fd, void *arg)
{
    struct store_rewrite *w = arg;
    struct store *s = w->s;
    struct feed_buf b;
    size_t i, prev;
    int rc = 0;

    feed_buf_init(&b, 0);
    if (feed_buf_puts(&b, STATE_HEADER) != 0)
        rc = -ENOMEM;
    for (i = 0; rc == 0 && i <= s->nfeeds; i++) {
        if (b.len >= STORE_STATE_CHUNK || (i == s->nfeeds && b.len > 0)) {
            if ((rc = store_write_all(fd, b.data, b.len, w->size)) != 0)
                break;
            w->size += b.len;
            feed_buf_reset(&b);
        }
        if (i == s->nfeeds)
            break;
        prev = b.len;
        if (store_state_put(&b, s->feeds[i]) != 0)
            rc = -ENOMEM;
        else
            s->feeds[i]->len = (uint32_t)(b.len - prev);
    }
    feed_buf_free(&b);
    return rc;
}

/* Writes feeds.state whole. 0 or a negative errno, with s->err set. */
static int
store_state_rewrite(struct store *s)
{
    struct store_rewrite w = {s, 0};
    char *path = NULL;
    size_t i, len;
    int rc = 0, fd;

    len = strlen(s->dir) + sizeof "/feeds.state";
    if ((path = malloc(len)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    snprintf(path, len, "%s/feeds.state", s->dir);
    if ((rc = store_file_replace_fn(path, store_state_fill, &w)) != 0)
        goto fail;
    /* The lengths just set are those of the new file's lines. */
    s->state_live = w.size - (sizeof STATE_HEADER - 1);
    s->state_size = w.size;
    s->state_rewrite = 0;
    s->state_must_sync = s->state_unsynced = 0; /* all of it synced */
    for (i = 0; i < s->ndirty; i++)
        s->state_dirty[i]->dirty = 0;
    s->ndirty = 0;
    store_gone_free(s);
    fd = openat(s->dir_fd, "feeds.state", O_RDWR | O_CLOEXEC);
    if (s->state_fd >= 0)
        close(s->state_fd);
    s->state_fd = fd;
    if (fd < 0)
        s->state_rewrite = 1; /* the next save tries again */
    free(path);
    return 0;
fail:
    if (rc == -ENOMEM)
        store_fail(s, "feeds.state: out of memory");
    else
        store_fail(s, "feeds.state: %s", strerror(-rc));
    /* Lengths may be half set: only a whole write sets them right. */
    s->state_rewrite = 1;
    free(path);
    return rc;
}

int
store_feed_state_sync(struct store *s, int times)
{
    if (!s->state_unsynced || s->state_fd < 0 ||
        (!times && !s->state_must_sync))
        return 0;
    if (fdatasync(s->state_fd) != 0) {
        int rc = -errno;

        store_fail(s, "feeds.state: %s", strerror(-rc));
        return rc;
    }
    s->state_unsynced = s->state_must_sync = 0;
    return 0;
}

int
store_feed_state_save(struct store *s)
{
    struct feed_buf b;
    uint32_t *lens = NULL;
    uint64_t waste;
    size_t i, prev;
    int rc = 0;

    waste = s->state_size - s->state_live;
    if (s->state_rewrite || s->state_fd < 0 ||
        waste > s->state_live + STORE_STATE_SLACK)
        return store_state_rewrite(s);
    if (s->ndirty == 0 && s->ngone == 0)
        return 0;
    feed_buf_init(&b, 0);
    if ((lens = malloc((s->ndirty + 1) * sizeof *lens)) == NULL)
        goto nomem;
    /* Gone first: a feed forgotten and set again is set. */
    for (i = 0; i < s->ngone; i++) {
        prev = b.len;
        if (feed_buf_puts(&b, "{\"feed\":") != 0 ||
            feed_buf_json(&b, s->state_gone[i]) != 0 ||
            feed_buf_puts(&b, ",\"gone\":true") != 0 ||
            store_record_seal(&b, prev) != 0)
            goto nomem;
    }
    for (i = 0; i < s->ndirty; i++) {
        prev = b.len;
        if (store_state_put(&b, s->state_dirty[i]) != 0)
            goto nomem;
        lens[i] = (uint32_t)(b.len - prev);
    }
    if (s->ngone > 0)
        s->state_must_sync = 1;
    if ((rc = store_write_all(s->state_fd, b.data, b.len, s->state_size)) !=
        0) {
        store_fail(s, "feeds.state: %s", strerror(-rc));
        /* Nothing of it counts: the next save writes it again, over
         * what this one may have left. */
        if (ftruncate(s->state_fd, (off_t)s->state_size) != 0)
            s->state_rewrite = 1;
        goto out;
    }
    s->state_size += b.len;
    s->state_unsynced = 1;
    store_state_saved(s, lens);
    goto out;
nomem:
    rc = -ENOMEM;
    store_fail(s, "feeds.state: out of memory");
out:
    free(lens);
    feed_buf_free(&b);
    return rc;
}

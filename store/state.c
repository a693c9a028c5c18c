/* store/state.c - feeds.state, the per-feed HTTP and poll state: one JSON
 * object per line,
 *
 *   {"feed":..,"etag":..,"last_modified":..,"last_poll":T,"next_poll":T,
 *    "errors":N,"last_error":..}
 *
 * (strings may be null, times are seconds or null), read once at open and
 * written whole by store_feed_state_save() through store_file_replace().
 * A line that does not read is skipped with a warning. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "store_int.h"

static char *
store_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void
store_feed_state_clear(struct store_feed_state *st)
{
    free(st->etag);
    free(st->last_modified);
    free(st->last_error);
    st->etag = st->last_modified = st->last_error = NULL;
}

/* A deep copy of src into dst. 0, or -ENOMEM with dst holding nothing. */
static int
store_feed_state_copy(struct store_feed_state *dst,
                      const struct store_feed_state *src)
{
    *dst = *src;
    dst->etag = store_strdup(src->etag);
    dst->last_modified = store_strdup(src->last_modified);
    dst->last_error = store_strdup(src->last_error);
    if ((src->etag && !dst->etag) ||
        (src->last_modified && !dst->last_modified) ||
        (src->last_error && !dst->last_error)) {
        store_feed_state_clear(dst);
        return -ENOMEM;
    }
    return 0;
}

/* ---- finding a feed by name ---------------------------------------------- */

/* Feeds are found through a hash table of their indexes in s->feeds (plus
 * one; 0 is a free slot), linear probing, load at most 1/2, so that
 * loading a feeds.state of n lines costs O(n). */

/* A seeded FNV-1a of name, mixed by splitmix64's finalizer. */
static uint64_t
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
    s->feed_slots[j] = i + 1;
}

/* A new table for s->feeds[0, nfeeds) with room for want feeds. 0, or
 * -ENOMEM with the table as it was. */
static int
store_feeds_rehash(struct store *s, size_t want)
{
    size_t cap = 16, i;
    size_t *t;

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

static void
store_feed_free(struct store_feed *f)
{
    if (f == NULL)
        return;
    store_feed_state_clear(&f->st);
    free(f->name);
    free(f);
}

/* One line of feeds.state. Bad data only warns; 0 or -ENOMEM. */
static int
store_state_line(struct store *s, size_t lineno, const char *line, size_t len)
{
    struct store_feed_state st;
    const json_t *v;
    json_error_t jerr;
    json_t *o;
    json_int_t e;
    int rc = 0;

    o = json_loadb(line, len, 0, &jerr);
    if (!json_is_object(o) || store_json_str(o, "feed") == NULL) {
        store_warn(s, "feeds.state:%zu: corrupt record skipped", lineno);
        goto fail;
    }
    v = json_object_get(o, "errors");
    e = json_is_integer(v) ? json_integer_value(v) : 0;
    st.etag = (char *)store_json_str(o, "etag");
    st.last_modified = (char *)store_json_str(o, "last_modified");
    st.last_poll = store_json_time(o, "last_poll");
    st.next_poll = store_json_time(o, "next_poll");
    st.errors = e < 0 ? 0 : e > INT_MAX ? INT_MAX : (int)e;
    st.last_error = (char *)store_json_str(o, "last_error");
    rc = store_feed_state_set(s, store_json_str(o, "feed"), &st);
fail: /* also the way out when all went well */
    json_decref(o);
    return rc;
}

int
store_states_load(struct store *s)
{
    struct feed_buf b;
    char chunk[65536];
    const char *p, *end, *nl;
    size_t lineno = 0;
    ssize_t n;
    int fd, rc = 0;

    feed_buf_init(&b, STORE_STATE_MAX);
    fd = openat(s->dir_fd, "feeds.state", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0) {
        rc = -errno;
        store_fail(s, "feeds.state: %s", strerror(errno));
        goto fail;
    }
    for (;;) {
        n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            store_fail(s, "feeds.state: read: %s", strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        if (feed_buf_append(&b, chunk, (size_t)n) != 0) {
            rc = -EFBIG;
            store_fail(s,
                       "feeds.state: larger than %zu bytes or out of "
                       "memory",
                       STORE_STATE_MAX);
            goto fail;
        }
    }
    /* Written whole by store_file_replace(), so a last line without its
     * '\n' was written by hand: it is read like the others. */
    for (p = b.data, end = b.data + b.len; p != NULL && p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL)
            nl = end;
        lineno++;
        if (nl == p)
            continue; /* a blank line */
        if ((rc = store_state_line(s, lineno, p, (size_t)(nl - p))) != 0) {
            store_fail(s, "feeds.state: out of memory");
            goto fail;
        }
    }
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    feed_buf_free(&b);
    return rc;
}

void
store_states_free(struct store *s)
{
    size_t i;

    for (i = 0; i < s->nfeeds; i++)
        store_feed_free(s->feeds[i]);
    free(s->feeds);
    free(s->feed_slots);
    s->feeds = NULL;
    s->feed_slots = NULL;
    s->nfeeds = s->feeds_cap = s->feed_slots_cap = 0;
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
    struct store_feed_state copy;
    struct store_feed *f;
    size_t at = 0;
    void *p;

    if (feed == NULL)
        return -EINVAL;
    f = store_feed_find(s, feed, &at);
    if (st == NULL) {
        /* Forgets the feed (one that left the config). */
        if (f != NULL) {
            store_feed_free(f);
            memmove(&s->feeds[at], &s->feeds[at + 1],
                    (s->nfeeds - at - 1) * sizeof *s->feeds);
            s->nfeeds--;
            /* The indexes past it moved. Out of memory, finds go linear. */
            if (store_feeds_rehash(s, s->nfeeds) != 0) {
                free(s->feed_slots);
                s->feed_slots = NULL;
                s->feed_slots_cap = 0;
            }
        }
        return 0;
    }
    if (store_feed_state_copy(&copy, st) != 0)
        return -ENOMEM;
    if (f != NULL) {
        store_feed_state_clear(&f->st);
        f->st = copy;
        return 0;
    }
    p = store_array_grow(s->feeds, &s->feeds_cap, s->nfeeds, sizeof *s->feeds);
    if (p == NULL)
        goto fail;
    s->feeds = p;
    if ((s->nfeeds + 1) * 2 > s->feed_slots_cap &&
        store_feeds_rehash(s, s->nfeeds + 1) != 0)
        goto fail;
    if ((f = calloc(1, sizeof *f)) == NULL)
        goto fail;
    if ((f->name = strdup(feed)) == NULL) {
        free(f);
        goto fail;
    }
    f->st = copy;
    s->feeds[s->nfeeds] = f;
    store_feeds_place(s, s->nfeeds++);
    return 0;
fail:
    store_feed_state_clear(&copy);
    return -ENOMEM;
}

int
store_feed_state_save(struct store *s)
{
    const struct store_feed_state *st;
    struct feed_buf b;
    char *path = NULL;
    size_t i, len;
    int rc = 0;

    feed_buf_init(&b, 0);
    for (i = 0; i < s->nfeeds; i++) {
        st = &s->feeds[i]->st;
        if (feed_buf_puts(&b, "{\"feed\":") != 0 ||
            feed_buf_json(&b, s->feeds[i]->name) != 0 ||
            store_put_str(&b, "etag", st->etag) != 0 ||
            store_put_str(&b, "last_modified", st->last_modified) != 0 ||
            store_put_time(&b, "last_poll", st->last_poll) != 0 ||
            store_put_time(&b, "next_poll", st->next_poll) != 0 ||
            feed_buf_printf(&b, ",\"errors\":%d", st->errors) != 0 ||
            store_put_str(&b, "last_error", st->last_error) != 0 ||
            feed_buf_puts(&b, "}\n") != 0) {
            rc = -ENOMEM;
            store_fail(s, "feeds.state: out of memory");
            goto fail;
        }
    }
    len = strlen(s->dir) + sizeof "/feeds.state";
    if ((path = malloc(len)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "feeds.state: out of memory");
        goto fail;
    }
    snprintf(path, len, "%s/feeds.state", s->dir);
    if ((rc = store_file_replace(path, b.data ? b.data : "", b.len)) != 0)
        store_fail(s, "feeds.state: %s", strerror(-rc));
fail: /* also the way out when all went well */
    free(path);
    feed_buf_free(&b);
    return rc;
}

/* store/state_read.c - reading feeds.state (its format: state.c): at
 * open, into the store's feeds, and beside the process that holds the
 * store (feedd list), without its lock and writing nothing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_int.h"

/* ---- reading feeds.state ----------------------------------------------- */

/* What the load of feeds.state knows as it goes. */
struct state_load {
    size_t lineno;
    int legacy;           /* no header: lines without a sum are read */
    int summed;           /* a line had a sum */
    int skipping;         /* the line being read is too long: skipped */
    int header;           /* line 1 was this format's header */
    struct feed_buf strs; /* the strings of the line being read */
};

/* Line 1, when it is a header: 1 when it is this format's, -1 when it is
 * another's (a warning says so), 0 when it is no header. */
static int
store_state_header(struct store *s, const char *line, size_t len)
{
    size_t klen = sizeof STATE_HEADER_KEY - 1;
    long v = 0;
    size_t i;

    if (len < klen || memcmp(line, STATE_HEADER_KEY, klen) != 0)
        return 0;
    if (len == sizeof STATE_HEADER - 2 && memcmp(line, STATE_HEADER, len) == 0)
        return 1;
    for (i = klen; i < len && line[i] >= '0' && line[i] <= '9' && v < 1000; i++)
        v = v * 10 + (line[i] - '0');
    store_warn(s,
               "feeds.state: format %ld, not %d: every feed's poll state "
               "starts afresh",
               v, STATE_FORMAT);
    return -1;
}

/* The members of a line of feeds.state, as store_flat_read() finds
 * them: strings by their offset in the load's buffer, or -1. */
struct state_fields {
    long feed, etag, last_modified, last_error;
    int64_t last_poll, last_ok, next_poll, errors, why;
    int gone;
};

#define FIELD_IS(k, n, name)                                                   \
    ((n) == sizeof(name) - 1 && memcmp((k), (name), sizeof(name) - 1) == 0)

static void
state_field(const char *key, size_t klen, int type, size_t str, int64_t num,
            void *arg)
{
    struct state_fields *sf = arg;
    long s = type == STORE_FLAT_STR ? (long)str : -1;
    int64_t t = type == STORE_FLAT_INT ? num : FEED_TIME_NONE;

    if (FIELD_IS(key, klen, "feed"))
        sf->feed = s;
    else if (FIELD_IS(key, klen, "etag"))
        sf->etag = s;
    else if (FIELD_IS(key, klen, "last_modified"))
        sf->last_modified = s;
    else if (FIELD_IS(key, klen, "last_error"))
        sf->last_error = s;
    else if (FIELD_IS(key, klen, "last_poll"))
        sf->last_poll = t;
    else if (FIELD_IS(key, klen, "last_ok"))
        sf->last_ok = t;
    else if (FIELD_IS(key, klen, "next_poll"))
        sf->next_poll = t;
    else if (FIELD_IS(key, klen, "errors"))
        sf->errors = type == STORE_FLAT_INT ? num : 0;
    else if (FIELD_IS(key, klen, "why"))
        sf->why = type == STORE_FLAT_INT ? num : 0;
    else if (FIELD_IS(key, klen, "gone"))
        sf->gone = type == STORE_FLAT_TRUE;
}

/* One line of feeds.state (not line 1's header). Bad data only warns;
 * 0 or -ENOMEM. */
static int
store_state_line(struct store *s, struct state_load *ld, const char *line,
                 size_t len)
{
    struct state_fields sf = {.feed = -1,
                              .etag = -1,
                              .last_modified = -1,
                              .last_error = -1,
                              .last_poll = FEED_TIME_NONE,
                              .last_ok = FEED_TIME_NONE,
                              .next_poll = FEED_TIME_NONE};
    struct store_feed_state st;
    struct store_feed *f;
    const char *name, *b;
    int rc, sum = store_record_verify(line, len, 2);

    if (sum == 0)
        ld->summed = 1;
    if (sum == STORE_DMG_SUM || (sum == STORE_DMG_NOSUM && !ld->legacy)) {
        store_warn(s, "feeds.state:%zu: damaged record skipped", ld->lineno);
        goto damaged;
    }
    feed_buf_reset(&ld->strs);
    if (store_flat_read(line, len, &ld->strs, state_field, &sf) != 0 ||
        sf.feed < 0) {
        store_warn(s, "feeds.state:%zu: corrupt record skipped", ld->lineno);
        goto damaged;
    }
    b = ld->strs.data;
    name = b + sf.feed;
    if (sf.gone)
        return store_feed_put(s, name, NULL, &f);
    st.etag = sf.etag < 0 ? NULL : (char *)b + sf.etag;
    st.last_modified =
        sf.last_modified < 0 ? NULL : (char *)b + sf.last_modified;
    st.last_poll = sf.last_poll;
    st.last_ok = sf.last_ok;
    st.next_poll = sf.next_poll;
    st.errors = sf.errors < 0         ? 0
                : sf.errors > INT_MAX ? INT_MAX
                                      : (int)sf.errors;
    st.last_error = sf.last_error < 0 ? NULL : (char *)b + sf.last_error;
    st.why = sf.why > 0 && sf.why < 256 ? (int)sf.why : 0;
    if ((rc = store_feed_put(s, name, &st, &f)) == 0) {
        s->state_live += len + 1 - f->len;
        f->len = (uint32_t)(len + 1);
    }
    return rc;
damaged:
    /* Written whole at the next save, so that it warns once. */
    s->state_rewrite = 1;
    return 0;
}

/* The complete line p[0, len) of feeds.state. */
static int
store_state_take(struct store *s, struct state_load *ld, const char *p,
                 size_t len)
{
    ld->lineno++;
    if (ld->lineno == 1) {
        int h = store_state_header(s, p, len);

        if (h == 1) {
            ld->header = 1;
            return 0;
        }
        if (h < 0)
            return 1; /* nothing of it is read */
        ld->legacy = 1;
        s->state_rewrite = 1;
    }
    if (len == 0)
        return 0; /* a blank line */
    return store_state_line(s, ld, p, len) != 0 ? -ENOMEM : 0;
}

/* Reads feeds.state from fd, to its end. An unfinished last line is a
 * save cut short, which warns and has the next save write the file whole;
 * or, with appending set, a line that the process holding the store is
 * appending as this one reads, left out without a word. 0 or -ENOMEM or
 * a negative errno, with s->err set. */
static int
store_states_scan(struct store *s, int fd, int appending)
{
    struct state_load ld;
    struct feed_buf line;
    char chunk[65536];
    const char *p, *end, *nl;
    uint64_t at = 0, whole = 0; /* bytes read; of them, whole lines */
    ssize_t n;
    int rc = 0, stop = 0;

    memset(&ld, 0, sizeof ld);
    feed_buf_init(&ld.strs, 0);
    feed_buf_init(&line, STORE_STATE_LINE_MAX);
    while (!stop) {
        n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            store_fail(s, "feeds.state: read: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        for (p = chunk, end = chunk + n; p < end && !stop; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(end - p));
            if (!ld.skipping &&
                feed_buf_append(&line, p, (size_t)((nl ? nl : end) - p)) != 0) {
                ld.skipping = 1;
                feed_buf_reset(&line);
            }
            if (nl == NULL) {
                at += (uint64_t)(end - p);
                break;
            }
            at += (uint64_t)(nl - p) + 1;
            whole = at;
            if (ld.skipping) {
                ld.lineno++;
                store_warn(s, "feeds.state:%zu: longer than %zu bytes, skipped",
                           ld.lineno, STORE_STATE_LINE_MAX);
                s->state_rewrite = 1;
                ld.skipping = 0;
            } else if ((rc =
                            store_state_take(s, &ld, line.data ? line.data : "",
                                             line.len)) != 0) {
                if (rc < 0) {
                    store_fail(s, "feeds.state: out of memory");
                    goto out;
                }
                /* Another format: none of it counts. */
                rc = 0;
                stop = 1;
                s->state_rewrite = 1;
            }
            feed_buf_reset(&line);
        }
    }
    if (!stop && at > whole) {
        if (ld.legacy || (ld.lineno == 0 && !ld.skipping)) {
            /* Before the log, the file was written whole: a last line
             * without its '\n' was written by hand. */
            if (!ld.skipping &&
                (rc = store_state_take(s, &ld, line.data ? line.data : "",
                                       line.len)) < 0) {
                store_fail(s, "feeds.state: out of memory");
                goto out;
            }
            rc = 0;
        } else if (!appending) {
            store_warn(s,
                       "feeds.state:%zu: an unfinished last line (a save "
                       "cut short) dropped",
                       ld.lineno + 1);
            s->state_rewrite = 1;
        }
    }
    if (ld.legacy && ld.summed)
        store_warn(s, "feeds.state: its first line is damaged");
    if (!ld.header)
        s->state_rewrite = 1;
    /* Forgetting feeds as the lines say is no news for the next save. */
    store_gone_free(s);
    s->state_size = whole;
out:
    feed_buf_free(&ld.strs);
    feed_buf_free(&line);
    return rc;
}

int
store_states_load(struct store *s)
{
    int rc;

    s->state_fd = openat(s->dir_fd, "feeds.state", O_RDWR | O_CLOEXEC);
    if (s->state_fd < 0 && errno == ENOENT) {
        s->state_rewrite = 1;
        return 0;
    }
    if (s->state_fd < 0) {
        rc = -errno;
        store_fail(s, "feeds.state: %s", strerror(errno));
        return rc;
    }
    return store_states_scan(s, s->state_fd, 0);
}

/* ---- reading feeds.state beside the process that holds the store ------- */

/* A store of which only the per-feed state is used: store_states_scan()
 * fills it as it does at open, and store_feed_state_get() finds a feed
 * in it. No lock, no fd kept, nothing written. */
struct store_states {
    struct store s;
};

struct store_states *
store_states_open(const char *dir, char *err, size_t errlen)
{
    struct store_states *r;
    struct store *s;
    char *path = NULL;
    size_t len;
    int fd = -1;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    len = strlen(dir) + sizeof "/feeds.state";
    if ((r = calloc(1, sizeof *r)) == NULL || (path = malloc(len)) == NULL) {
        if (err != NULL)
            snprintf(err, errlen, "%s/feeds.state: out of memory", dir);
        free(r);
        return NULL;
    }
    s = &r->s;
    s->dir_fd = s->items_fd = s->idx_fd = s->state_fd = -1;
    feed_buf_init(&s->warn, 0);
    s->ids.seed = store_seed(s);
    snprintf(path, len, "%s/feeds.state", dir);
    /* No state_dir or no feeds.state yet: no feed was polled. */
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 && errno != ENOENT &&
        errno != ENOTDIR) {
        if (err != NULL)
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (fd >= 0 && store_states_scan(s, fd, 1) != 0) {
        if (err != NULL)
            snprintf(err, errlen, "%s/%s", dir, s->err);
        goto fail;
    }
    if (fd >= 0)
        close(fd);
    free(path);
    return r;
fail:
    if (fd >= 0)
        close(fd);
    free(path);
    store_states_close(r);
    return NULL;
}

const struct store_feed_state *
store_states_find(const struct store_states *r, const char *feed)
{
    return store_feed_state_get(&r->s, feed);
}

void
store_states_close(struct store_states *r)
{
    if (r == NULL)
        return;
    store_states_free(&r->s);
    feed_buf_free(&r->s.warn);
    free(r);
}

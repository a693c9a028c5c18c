/* store/census.c - how many live entries each feed carries, read from the
 * segments beside the process that holds the store (`feedd list` while
 * the daemon runs): no lock, nothing written, nothing of struct store.
 *
 * The segments of items/ are read in order, as the scan at open reads
 * them (segment.c): a line counts once its '\n' is there (a last line
 * without one is being appended, and is left out); a line that does not
 * check (its sum, then its members, record.c) is skipped, so that the
 * version before it stays in force; of an ID the latest line wins. Each
 * ID keeps where the feeds of its latest line are: those feeds are the
 * record's "feed" and its "also", each once, as indexes in a table of the
 * names met (an update puts its feeds over those of the line before
 * when they fit). The counts are made at the end, in one pass over the
 * IDs.
 *
 * Retention rewrites items/ as a new generation and swaps it in with two
 * renames (compact.c); the folder read is held open, so a swap while it
 * is read changes nothing of it, but removing the old generation does: a
 * segment that is gone before it is opened starts the census again, on
 * the new generation. Between the two renames there is no items/, and
 * items.old/ is what counts (as store_gen_recover() would decide). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "store_int.h"

/* How many times a census starts again when retention removes the
 * segments it is reading. */
#define CENSUS_TRIES 5

struct census_feed {
    size_t name;  /* its offset in store_census.names */
    size_t count; /* live entries */
    size_t stamp; /* the last line that named it: a feed named twice in a
                   * line counts once */
};

struct store_census {
    struct feed_buf names; /* the feeds' names, each NUL-terminated */
    struct census_feed *feeds;
    size_t nfeeds, feeds_cap;
    size_t *slots; /* a feed's index plus one, or 0: linear probing, load
                    * at most 1/2 */
    size_t slots_cap;
    uint64_t seed;

    /* ID -> the offset in sets of its latest line's count of feeds, plus
     * one. */
    struct store_set ids;
    /* Per line that counted: its ID (low and high 32 bits), how many
     * feeds, then their indexes. */
    uint32_t *sets;
    size_t nsets, sets_cap;
    size_t line; /* lines taken so far: the stamp of the next one */

    size_t total, damaged;
    struct store_lists lists; /* store_record_decode() lends them */
    char err[256];
};

/* ---- the feeds' names ------------------------------------------------ */

/* Where name is in the table, or the free slot where it would go. */
static size_t *
census_slot(const struct store_census *c, const char *name)
{
    size_t mask = c->slots_cap - 1,
           j = (size_t)store_name_hash(c->seed, name) & mask;

    while (c->slots[j] != 0 &&
           strcmp(c->names.data + c->feeds[c->slots[j] - 1].name, name) != 0)
        j = (j + 1) & mask;
    return &c->slots[j];
}

/* A table twice as big, or the first one. 0 or -ENOMEM. */
static int
census_rehash(struct store_census *c)
{
    size_t cap = c->slots_cap ? c->slots_cap * 2 : 64, *old = c->slots, i;

    if ((c->slots = calloc(cap, sizeof *c->slots)) == NULL) {
        c->slots = old;
        return -ENOMEM;
    }
    free(old);
    c->slots_cap = cap;
    for (i = 0; i < c->nfeeds; i++)
        *census_slot(c, c->names.data + c->feeds[i].name) = i + 1;
    return 0;
}

/* The index of feed name, added when it is new. -ENOMEM, -EOVERFLOW or
 * the index. */
static int64_t
census_feed(struct store_census *c, const char *name)
{
    size_t *slot;
    void *p;

    if ((c->nfeeds + 1) * 2 > c->slots_cap && census_rehash(c) != 0)
        return -ENOMEM;
    slot = census_slot(c, name);
    if (*slot != 0)
        return (int64_t)(*slot - 1);
    if (c->nfeeds >= UINT32_MAX)
        return -EOVERFLOW;
    p = store_array_grow(c->feeds, &c->feeds_cap, c->nfeeds, sizeof *c->feeds);
    if (p == NULL)
        return -ENOMEM;
    c->feeds = p;
    c->feeds[c->nfeeds].name = c->names.len;
    c->feeds[c->nfeeds].count = 0;
    c->feeds[c->nfeeds].stamp = 0;
    if (feed_buf_append(&c->names, name, strlen(name) + 1) != 0)
        return -ENOMEM;
    *slot = ++c->nfeeds;
    return (int64_t)(c->nfeeds - 1);
}

/* ---- one line --------------------------------------------------------- */

/* Appends v to c->sets. 0 or -ENOMEM. */
static int
census_push(struct store_census *c, uint32_t v)
{
    void *p;

    if (c->nsets == c->sets_cap) {
        p = store_array_grow(c->sets, &c->sets_cap, c->nsets, sizeof *c->sets);
        if (p == NULL)
            return -ENOMEM;
        c->sets = p;
    }
    c->sets[c->nsets++] = v;
    return 0;
}

/* Adds feed name to the set being built from start, unless the line
 * named it already. 0 or a negative errno. */
static int
census_name(struct store_census *c, size_t start, const char *name)
{
    int64_t f = census_feed(c, name);
    int rc;

    if (f < 0)
        return (int)f;
    if (c->feeds[f].stamp == c->line)
        return 0;
    c->feeds[f].stamp = c->line;
    if ((rc = census_push(c, (uint32_t)f)) != 0)
        return rc;
    c->sets[start]++;
    return 0;
}

/* The seen set's key: the ID of the line whose count of feeds is at
 * sets[v - 1]. */
static uint64_t
census_id(const void *arg, uint32_t v)
{
    const struct store_census *c = arg;

    return (uint64_t)c->sets[v - 3] | (uint64_t)c->sets[v - 2] << 32;
}

/* The item it, the latest version of its ID so far. 0 or a negative
 * errno. */
static int
census_item(struct store_census *c, uint64_t id, const struct feed_item *it)
{
    uint32_t *slot;
    size_t start = c->nsets + 2, old, i;
    int rc;

    if (start >= STORE_REC_MAX)
        return -EOVERFLOW;
    c->line++;
    if ((rc = census_push(c, (uint32_t)id)) != 0 ||
        (rc = census_push(c, (uint32_t)(id >> 32))) != 0 ||
        (rc = census_push(c, 0)) != 0 || (rc = census_name(c, start, it->feed)))
        return rc;
    for (i = 0; i < it->nalso; i++)
        if ((rc = census_name(c, start, it->also[i])) != 0)
            return rc;
    if ((slot = store_set_find(&c->ids, id)) != NULL) {
        /* An update: its earlier line's feeds no longer count. When the
         * new ones fit where those were (the same feeds, most often),
         * they go there, so that updates cost no memory. */
        old = *slot - 1;
        if (c->sets[start] <= c->sets[old]) {
            memmove(c->sets + old, c->sets + start,
                    (c->sets[start] + 1) * sizeof *c->sets);
            c->nsets = start - 2;
        } else {
            *slot = (uint32_t)start + 1;
        }
        return 0;
    }
    return store_set_add(&c->ids, id, (uint32_t)start + 1);
}

/* Line lineno of a segment (no '\n'); *format is the segment's, which
 * line 1 sets. 0, or a negative errno with c->err set (a segment of a
 * newer format is -ENOTSUP). */
static int
census_line(struct store_census *c, const char *seg, unsigned *format,
            uint32_t lineno, const char *line, size_t len)
{
    struct feed_item it;
    json_error_t jerr;
    const json_t *v;
    json_t *o = NULL;
    uint64_t id;
    int rc = 0;

    if (lineno == 1) {
        *format = 0;
        o = json_loadb(line, len, 0, &jerr);
        v = json_object_get(o, "feedd_store");
        if (json_is_integer(v) && json_integer_value(v) > STORE_FORMAT) {
            snprintf(c->err, sizeof c->err,
                     "items/%s: written by a newer feedd (store format "
                     "%lld); this one reads format %d",
                     seg, (long long)json_integer_value(v), STORE_FORMAT);
            rc = -ENOTSUP;
            goto out;
        }
        if (json_is_integer(v) && json_integer_value(v) >= 1) {
            *format = (unsigned)json_integer_value(v);
            goto out;
        }
        if (v != NULL)
            goto out; /* a header of no format: skipped, as at open */
    }
    if (store_record_verify(line, len, *format) != 0) {
        c->damaged++;
        goto out;
    }
    if (lineno != 1)
        o = json_loadb(line, len, 0, &jerr);
    if (o == NULL || store_record_decode(&it, o, &c->lists) != 0 ||
        feed_id_parse(it.id, &id) != 0) {
        c->damaged++;
        goto out;
    }
    if ((rc = census_item(c, id, &it)) != 0)
        snprintf(c->err, sizeof c->err, "items/%s: %s", seg, strerror(-rc));
out:
    json_decref(o);
    return rc;
}

/* ---- the segments ----------------------------------------------------- */

/* Reads segment fd (named seg) line by line to its end; a last line
 * without its '\n' is being appended, and is left out. buf has
 * STORE_SCAN_BUF bytes. 0 or a negative errno with c->err set. */
static int
census_seg(struct store_census *c, int fd, const char *seg, char *buf,
           struct feed_buf *carry)
{
    const char *p, *end, *nl;
    uint64_t line_len = 0; /* of the line being read, so far */
    uint32_t lineno = 0;
    unsigned format = 0;
    size_t chunk;
    ssize_t n;
    int rc;

    feed_buf_reset(carry);
    for (;;) {
        n = read(fd, buf, STORE_SCAN_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            snprintf(c->err, sizeof c->err, "items/%s: read: %s", seg,
                     strerror(errno));
            return rc;
        }
        if (n == 0)
            return 0;
        for (p = buf, end = buf + n; p < end; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(end - p));
            chunk = (size_t)((nl ? nl : end) - p);
            /* A line that spans reads is gathered in carry; one that
             * grows past STORE_LINE_MAX is only measured. */
            if (nl == NULL || line_len > 0) {
                if (line_len + chunk <= STORE_LINE_MAX &&
                    feed_buf_append(carry, p, chunk) != 0) {
                    snprintf(c->err, sizeof c->err, "items/%s: out of memory",
                             seg);
                    return -ENOMEM;
                }
                line_len += chunk;
                if (nl == NULL)
                    break;
                p = carry->data ? carry->data : "";
                chunk = carry->len;
            } else {
                line_len = chunk;
            }
            if (lineno < UINT32_MAX)
                lineno++;
            if (line_len > STORE_LINE_MAX)
                c->damaged++;
            else if ((rc = census_line(c, seg, &format, lineno, p, chunk)) != 0)
                return rc;
            line_len = 0;
            feed_buf_reset(carry);
        }
    }
}

static int
census_no_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

/* The numbers of the segments in items (an open folder), sorted, in a new
 * array (*n of them). 0 or a negative errno with c->err set. */
static int
census_list(struct store_census *c, int items, uint32_t **out, size_t *n)
{
    struct dirent *de;
    uint32_t no, *nos = NULL;
    size_t cap = 0;
    DIR *d;
    void *p;
    int fd, rc = 0;

    *n = 0;
    if ((fd = dup(items)) < 0 || (d = fdopendir(fd)) == NULL) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        snprintf(c->err, sizeof c->err, "items: %s", strerror(-rc));
        return rc;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (!store_seg_parse(de->d_name, &no))
            continue;
        if ((p = store_array_grow(nos, &cap, *n, sizeof *nos)) == NULL) {
            errno = ENOMEM;
            break;
        }
        nos = p;
        nos[(*n)++] = no;
    }
    if (errno != 0) {
        rc = -errno;
        snprintf(c->err, sizeof c->err, "items: %s", strerror(errno));
        free(nos);
        nos = NULL;
        *n = 0;
    } else if (*n > 1) {
        qsort(nos, *n, sizeof *nos, census_no_cmp);
    }
    closedir(d);
    *out = nos;
    return rc;
}

/* Forgets every line taken. */
static void
census_reset(struct store_census *c)
{
    store_set_clear(&c->ids);
    c->nsets = 0;
    c->damaged = 0;
}

/* One census of the generation in the open folder items. 0, 1 when a
 * segment was removed before it could be read (retention swapped the
 * generation: start again), or a negative errno with c->err set. buf has
 * STORE_SCAN_BUF bytes. */
static int
census_items(struct store_census *c, int items, char *buf,
             struct feed_buf *carry)
{
    uint32_t *nos = NULL;
    char name[32];
    size_t i, n;
    int fd, rc;

    if ((rc = census_list(c, items, &nos, &n)) != 0)
        return rc;
    for (i = 0; i < n && rc == 0; i++) {
        store_seg_name(name, nos[i]);
        if ((fd = openat(items, name, O_RDONLY | O_CLOEXEC)) < 0) {
            rc = errno == ENOENT ? 1 : -errno;
            if (rc < 0)
                snprintf(c->err, sizeof c->err, "items/%s: %s", name,
                         strerror(errno));
            break;
        }
        rc = census_seg(c, fd, name, buf, carry);
        close(fd);
    }
    free(nos);
    return rc;
}

/* The folder of the generation that counts in dir_fd: items/, or between
 * the two renames of a swap items.old/. -ENOENT when there is neither (no
 * item was ever stored), or a negative errno. */
static int
census_open_items(int dir_fd)
{
    int fd = openat(dir_fd, "items", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0 && errno == ENOENT)
        fd = openat(dir_fd, "items.old", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    return fd >= 0 ? fd : -errno;
}

/* The census of dir into c. 0 or a negative errno with c->err set. */
static int
census_take(struct store_census *c, const char *dir)
{
    struct feed_buf carry;
    char *buf = NULL;
    int dir_fd, items = -1, rc = 0, tries;

    dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0 && (errno == ENOENT || errno == ENOTDIR))
        return 0; /* no state_dir yet: nothing stored */
    if (dir_fd < 0) {
        rc = -errno;
        snprintf(c->err, sizeof c->err, "%s", strerror(errno));
        return rc;
    }
    feed_buf_init(&carry, 0);
    if ((buf = malloc(STORE_SCAN_BUF)) == NULL) {
        rc = -ENOMEM;
        snprintf(c->err, sizeof c->err, "out of memory");
        goto out;
    }
    for (tries = 0; tries < CENSUS_TRIES; tries++) {
        census_reset(c);
        if ((items = census_open_items(dir_fd)) == -ENOENT) {
            rc = 0;
            break;
        }
        if (items < 0) {
            rc = items;
            snprintf(c->err, sizeof c->err, "items: %s", strerror(-rc));
            break;
        }
        rc = census_items(c, items, buf, &carry);
        close(items);
        if (rc != 1)
            break;
    }
    if (rc == 1) {
        rc = -EAGAIN;
        snprintf(c->err, sizeof c->err,
                 "items: rewritten by retention %d times while being read",
                 CENSUS_TRIES);
    }
out:
    feed_buf_free(&carry);
    free(buf);
    close(dir_fd);
    return rc;
}

/* The counts, from the latest line of every ID. */
static void
census_count(struct store_census *c)
{
    const uint32_t *set;
    size_t i, k;

    c->total = 0;
    for (i = 0; i < c->nfeeds; i++)
        c->feeds[i].count = 0;
    for (i = 0; i < c->ids.cap; i++) {
        if (c->ids.slots[i] == 0)
            continue;
        set = c->sets + c->ids.slots[i] - 1;
        for (k = 1; k <= set[0]; k++)
            c->feeds[set[k]].count++;
        c->total++;
    }
}

/* ---- the API ---------------------------------------------------------- */

struct store_census *
store_census_open(const char *dir, char *err, size_t errlen)
{
    struct store_census *c;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if ((c = calloc(1, sizeof *c)) == NULL) {
        if (err != NULL)
            snprintf(err, errlen, "%s: out of memory", dir);
        return NULL;
    }
    feed_buf_init(&c->names, 0);
    c->seed = store_seed(c);
    c->ids.seed = c->seed ^ UINT64_C(0x9e3779b97f4a7c15);
    c->ids.key = census_id;
    c->ids.arg = c;
    if (census_take(c, dir) != 0) {
        if (err != NULL)
            snprintf(err, errlen, "%s: %s", dir, c->err);
        store_census_close(c);
        return NULL;
    }
    census_count(c);
    /* What only the census needed. */
    store_set_free(&c->ids);
    free(c->sets);
    c->sets = NULL;
    c->nsets = c->sets_cap = 0;
    return c;
}

size_t
store_census_count(const struct store_census *c, const char *feed)
{
    size_t slot;

    if (c->slots_cap == 0 || feed == NULL)
        return 0;
    slot = *census_slot(c, feed);
    return slot != 0 ? c->feeds[slot - 1].count : 0;
}

size_t
store_census_total(const struct store_census *c)
{
    return c->total;
}

size_t
store_census_damaged(const struct store_census *c)
{
    return c->damaged;
}

void
store_census_close(struct store_census *c)
{
    if (c == NULL)
        return;
    feed_buf_free(&c->names);
    free(c->feeds);
    free(c->slots);
    store_set_free(&c->ids);
    free(c->sets);
    free(c);
}

/* store/store.c - the flat-file store: append-only item segments, the
 * seen-ID index, per-feed state and atomic file replacement.
 *
 * In memory there is only an index. For every committed item it holds the
 * 64-bit value of its ID, its sort date and where its line is (segment,
 * offset, length); the seen set is an open-addressing hash table from ID to
 * index entry that also holds the IDs of the pending batch. Items are read
 * back from disk, one line at a time, when store_recent() asks for them.
 *
 * A segment is items/NNNNNN.jsonl: a header line {"feedd_store":1}, then
 * one JSON object per item. A line only counts once its '\n' is on disk:
 * a last line without one is a torn write and is cut off at open. When an
 * ID appears twice in the log (an update), the later line wins.
 *
 * Keys are only ever added to a record within one format: a reader takes
 * a missing key as "none" and ignores keys it does not know, so adding one
 * does not change STORE_FORMAT. "image", "enclosures" and "categories"
 * came that way. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "store.h"

/* The last segment takes no more appends once it has grown past this; the
 * next batch starts a new one. */
static const uint64_t store_segment_max = (uint64_t)64 << 20;

/* The longest line store_add() writes and the scan at open accepts. */
#define STORE_LINE_MAX ((size_t)32 << 20)
/* The read buffer of the scan at open. */
#define STORE_SCAN_BUF ((size_t)1 << 20)
/* The largest feeds.state that is read. */
#define STORE_STATE_MAX ((size_t)64 << 20)
/* Warnings kept between two store_warnings() calls; the rest are counted. */
#define STORE_WARN_MAX 100
/* The most enclosures and categories one record keeps, both ways: the
 * first ones are kept and the rest dropped, so that store_recent() can
 * hand them over from arrays of a fixed size. */
#define STORE_ENCLOSURES_MAX 64
#define STORE_CATEGORIES_MAX 256

/* store_slot.ref of an ID that only the pending batch holds; recs stay
 * below STORE_REC_MAX so that no rec's ref reaches it. */
#define STORE_SLOT_PENDING UINT32_MAX
#define STORE_REC_MAX (UINT32_MAX - 2)

struct store_seg {
    uint32_t no; /* the NNNNNN of its name */
    int fd;      /* -1 until it is needed */
};

/* A committed item: what it sorts by and where its line is. */
struct store_rec {
    int64_t date; /* feed_item_date() */
    uint64_t off; /* of its line in the segment */
    uint32_t seg; /* index into store.segs */
    uint32_t len; /* of its line, without the '\n' */
};

/* A slot of the seen set. ref is 0 when the slot is free (so calloc()
 * makes an empty table), the index of the ID's rec plus one, or
 * STORE_SLOT_PENDING while only the pending batch holds the ID. */
struct store_slot {
    uint64_t id;
    uint32_t ref;
};

/* An item added but not committed: its line, '\n' included, is
 * pend.data[off, off + len]. */
struct store_pend {
    uint64_t id;
    int64_t date;
    size_t off;
    uint32_t len;
    int fresh; /* the ID was not seen before this item was added */
};

struct store_feed {
    char *name;
    struct store_feed_state st;
};

struct store {
    char *dir;
    int dir_fd; /* holds the lock */
    int items_fd;

    struct store_seg *segs; /* by number; the last one takes appends */
    size_t nsegs, segs_cap;
    uint64_t tail;      /* the last segment's committed size */
    int tail_dirty;     /* a failed batch may lie past tail */
    int items_unsynced; /* the last segment's name is not fsynced yet */

    struct store_rec *recs;
    size_t nrecs, recs_cap;

    struct store_slot *slots;
    size_t slots_cap, slots_used; /* cap is 0 or a power of two */
    uint64_t seed;

    struct feed_buf pend;
    struct store_pend *pends;
    size_t npends, pends_cap;

    struct store_feed **feeds; /* pointers, so that a get stays valid */
    size_t nfeeds, feeds_cap;

    char *line; /* store_recent()'s read buffer */
    size_t line_cap;

    struct feed_buf warn;
    size_t nwarn, nwarn_dropped;
    char err[256];
};

static void store_fail(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
static void store_warn(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- small helpers ------------------------------------------------------ */

static void
store_fail(struct store *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

/* Adds one line to the warnings. Out of memory, the warning is lost: a
 * warning is never worth failing for. */
static void
store_warn(struct store *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (s->nwarn >= STORE_WARN_MAX) {
        s->nwarn_dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if ((s->warn.len > 0 && feed_buf_puts(&s->warn, "\n") != 0) ||
        feed_buf_puts(&s->warn, line) != 0)
        return;
    s->nwarn++;
}

/* arr (holding n of *cap elements of size sz) with room for one more:
 * arr itself, or a new pointer that replaces it. NULL when out of memory,
 * arr left as it was. */
static void *
store_array_grow(void *arr, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return arr;
    ncap = *cap ? *cap * 2 : 16;
    if (ncap > SIZE_MAX / sz)
        return NULL;
    p = realloc(arr, ncap * sz);
    if (p == NULL)
        return NULL;
    *cap = ncap;
    return p;
}

static char *
store_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* The value of an ID of FEED_ID_LEN hex digits into *out. 0, or -EINVAL
 * when s is not one. */
static int
store_id_parse(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    int i, d;

    if (s == NULL)
        return -EINVAL;
    for (i = 0; i < FEED_ID_LEN; i++) {
        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else if (s[i] >= 'A' && s[i] <= 'F')
            d = s[i] - 'A' + 10;
        else
            return -EINVAL;
        v = v << 4 | (uint64_t)d;
    }
    if (s[FEED_ID_LEN] != '\0')
        return -EINVAL;
    *out = v;
    return 0;
}

/* Writes all of p at off, through EINTR and short writes. 0 or -errno. */
static int
store_write_all(int fd, const void *p, size_t len, uint64_t off)
{
    const char *c = p;
    ssize_t n;

    while (len > 0) {
        n = pwrite(fd, c, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        c += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Reads exactly len bytes at off. 0, -EIO when the file is shorter, or
 * -errno. */
static int
store_read_all(int fd, void *p, size_t len, uint64_t off)
{
    char *c = p;
    ssize_t n;

    while (len > 0) {
        n = pread(fd, c, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        if (n == 0)
            return -EIO;
        c += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* A string member of o, or NULL. Borrowed from o. */
static const char *
store_json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* An integer member of o, or FEED_TIME_NONE when absent or null. */
static int64_t
store_json_time(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : FEED_TIME_NONE;
}

/* ,"key":"s" (or null) appended to b. 0, or non-zero when out of memory. */
static int
store_put_str(struct feed_buf *b, const char *key, const char *s)
{
    return feed_buf_printf(b, ",\"%s\":", key) != 0 || feed_buf_json(b, s) != 0;
}

/* ,"key":t (or null) appended to b. */
static int
store_put_time(struct feed_buf *b, const char *key, int64_t t)
{
    if (t == FEED_TIME_NONE)
        return feed_buf_printf(b, ",\"%s\":null", key) != 0;
    return feed_buf_printf(b, ",\"%s\":%" PRId64, key, t) != 0;
}

/* ---- the seen set ------------------------------------------------------- */

/* The home slot of id. IDs are already hashes, but of keys a publisher
 * chooses: the seeded mix (splitmix64's finalizer) keeps a crafted set of
 * IDs from piling up in one run of slots. */
static size_t
store_slot_home(const struct store *s, uint64_t id)
{
    uint64_t x = id ^ s->seed;

    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (size_t)x & (s->slots_cap - 1);
}

static struct store_slot *
store_slot_find(const struct store *s, uint64_t id)
{
    size_t i, mask = s->slots_cap - 1;

    if (s->slots_cap == 0)
        return NULL;
    for (i = store_slot_home(s, id); s->slots[i].ref != 0; i = (i + 1) & mask)
        if (s->slots[i].id == id)
            return &s->slots[i];
    return NULL;
}

/* Puts id in a free slot; the table has room and does not hold id. */
static void
store_slot_place(struct store *s, uint64_t id, uint32_t ref)
{
    size_t i, mask = s->slots_cap - 1;

    for (i = store_slot_home(s, id); s->slots[i].ref != 0; i = (i + 1) & mask)
        ;
    s->slots[i].id = id;
    s->slots[i].ref = ref;
    s->slots_used++;
}

/* Adds id, which the set does not hold, keeping the load under 0.7.
 * 0 or -ENOMEM. */
static int
store_slot_add(struct store *s, uint64_t id, uint32_t ref)
{
    struct store_slot *old = s->slots;
    size_t i, ncap, ocap = s->slots_cap;

    if ((s->slots_used + 1) * 10 > s->slots_cap * 7) {
        ncap = ocap ? ocap * 2 : 1024;
        if ((s->slots = calloc(ncap, sizeof *s->slots)) == NULL) {
            s->slots = old;
            return -ENOMEM;
        }
        s->slots_cap = ncap;
        s->slots_used = 0;
        for (i = 0; i < ocap; i++)
            if (old[i].ref != 0)
                store_slot_place(s, old[i].id, old[i].ref);
        free(old);
    }
    store_slot_place(s, id, ref);
    return 0;
}

/* Removes a slot by shifting back the entries of its run that would not
 * be found past the hole (linear probing needs no tombstones). */
static void
store_slot_del(struct store *s, const struct store_slot *slot)
{
    size_t i = (size_t)(slot - s->slots), j = i, k, mask = s->slots_cap - 1;

    for (;;) {
        j = (j + 1) & mask;
        if (s->slots[j].ref == 0)
            break;
        k = store_slot_home(s, s->slots[j].id);
        /* j's entry may fill the hole at i unless its home lies
         * cyclically in (i, j]. */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        s->slots[i] = s->slots[j];
        i = j;
    }
    s->slots[i].ref = 0;
    s->slots_used--;
}

/* ---- the index ---------------------------------------------------------- */

/* Room for n more recs, so that a commit cannot fail after its write.
 * 0, -ENOMEM or -EOVERFLOW. */
static int
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
    return 0;
}

/* Records that id's line is r: a new item, or a later line (an update)
 * that replaces the one indexed. 0, -ENOMEM or -EOVERFLOW. */
static int
store_rec_put(struct store *s, uint64_t id, const struct store_rec *r)
{
    struct store_slot *slot = store_slot_find(s, id);
    int rc;

    if (slot != NULL && slot->ref != STORE_SLOT_PENDING) {
        s->recs[slot->ref - 1] = *r;
        return 0;
    }
    if ((rc = store_recs_reserve(s, 1)) != 0)
        return rc;
    if (slot != NULL)
        slot->ref = (uint32_t)s->nrecs + 1;
    else if ((rc = store_slot_add(s, id, (uint32_t)s->nrecs + 1)) != 0)
        return rc;
    s->recs[s->nrecs++] = *r;
    return 0;
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

/* ---- segments ----------------------------------------------------------- */

/* Indexes one line of segment segi, number lineno, at off. Bad data only
 * warns; 0, or a negative errno when the store cannot be used. */
static int
store_line_index(struct store *s, uint32_t segi, size_t lineno, uint64_t off,
                 const char *line, size_t len)
{
    uint32_t no = s->segs[segi].no;
    const json_t *v;
    json_error_t jerr;
    struct feed_item it;
    struct store_rec r;
    json_t *o;
    uint64_t id;
    int rc = 0;

    o = json_loadb(line, len, 0, &jerr);
    if (lineno == 1 && json_is_object(o)) {
        v = json_object_get(o, "feedd_store");
        if (json_is_integer(v) && json_integer_value(v) > STORE_FORMAT) {
            store_fail(s,
                       "items/%06" PRIu32 ".jsonl: written by a newer feedd "
                       "(store format %lld); this one reads format %d",
                       no, (long long)json_integer_value(v), STORE_FORMAT);
            rc = -ENOTSUP;
            goto fail;
        }
        if (json_is_integer(v) && json_integer_value(v) >= 1)
            goto fail; /* a good header */
        if (v != NULL) {
            store_warn(s, "items/%06" PRIu32 ".jsonl:1: bad store header", no);
            goto fail;
        }
        store_warn(s, "items/%06" PRIu32 ".jsonl:1: no store header", no);
    }
    if (!json_is_object(o) ||
        store_id_parse(store_json_str(o, "id"), &id) != 0) {
        store_warn(s, "items/%06" PRIu32 ".jsonl:%zu: corrupt record skipped",
                   no, lineno);
        goto fail;
    }
    memset(&it, 0, sizeof it);
    it.stored = store_json_time(o, "stored");
    it.entry.published = store_json_time(o, "published");
    it.entry.updated = store_json_time(o, "updated");
    r.date = feed_item_date(&it);
    r.off = off;
    r.seg = segi;
    r.len = (uint32_t)len;
    if ((rc = store_rec_put(s, id, &r)) != 0)
        store_fail(s, "items/%06" PRIu32 ".jsonl: %s", no, strerror(-rc));
fail: /* also the way out when all went well */
    json_decref(o);
    return rc;
}

/* Reads segment segi from its start: indexes its items and cuts off a
 * torn last line. *size is then the segment's size. buf has
 * STORE_SCAN_BUF bytes. 0 or a negative errno, with s->err set. */
static int
store_seg_scan(struct store *s, uint32_t segi, char *buf, uint64_t *size)
{
    const struct store_seg *seg = &s->segs[segi];
    uint64_t line_off = 0, line_len = 0; /* the line being read */
    struct feed_buf carry;               /* its start, when it spans reads */
    size_t lineno = 0, chunk;
    const char *p, *end, *nl;
    ssize_t n;
    int rc = 0;

    feed_buf_init(&carry, 0);
    for (;;) {
        n = read(seg->fd, buf, STORE_SCAN_BUF);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s", seg->no,
                       strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        for (p = buf, end = buf + n; p < end; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(end - p));
            chunk = (size_t)((nl ? nl : end) - p);
            /* A line that spans reads is gathered in carry; one that
             * grows past STORE_LINE_MAX is only counted. */
            if (nl == NULL || line_len > 0) {
                if (line_len + chunk <= STORE_LINE_MAX &&
                    feed_buf_append(&carry, p, chunk) != 0) {
                    rc = -ENOMEM;
                    store_fail(s, "items/%06" PRIu32 ".jsonl: out of memory",
                               seg->no);
                    goto fail;
                }
                line_len += chunk;
                if (nl == NULL)
                    break;
                p = carry.data ? carry.data : "";
                chunk = carry.len;
            } else {
                line_len = chunk;
            }
            lineno++;
            if (line_len > STORE_LINE_MAX)
                store_warn(s,
                           "items/%06" PRIu32 ".jsonl:%zu: corrupt record "
                           "skipped (longer than %zu bytes)",
                           seg->no, lineno, STORE_LINE_MAX);
            else if ((rc = store_line_index(s, segi, lineno, line_off, p,
                                            chunk)) != 0)
                goto fail;
            line_off += line_len + 1;
            line_len = 0;
            feed_buf_reset(&carry);
        }
    }
    if (line_len > 0) {
        /* The write of the last line was cut short: DESIGN.md says such
         * a line is cut off, never parsed. */
        if (ftruncate(seg->fd, (off_t)line_off) != 0 || fsync(seg->fd) != 0) {
            rc = -errno;
            store_fail(s,
                       "items/%06" PRIu32 ".jsonl: cutting off a torn "
                       "last line: %s",
                       seg->no, strerror(errno));
            goto fail;
        }
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl:%zu: torn last line cut off "
                   "(%" PRIu64 " bytes)",
                   seg->no, lineno + 1, line_len);
    }
    *size = line_off;
fail: /* also the way out when all went well */
    feed_buf_free(&carry);
    return rc;
}

static int
store_seg_cmp(const void *a, const void *b)
{
    const struct store_seg *x = a, *y = b;

    return x->no < y->no ? -1 : x->no > y->no;
}

/* Finds the segments in items/ and scans them in order. 0 or a negative
 * errno, with s->err set. */
static int
store_segs_load(struct store *s)
{
    char name[32], *buf = NULL;
    struct dirent *de;
    struct store_seg *seg;
    unsigned long no;
    DIR *d = NULL;
    char *endp;
    uint64_t size = 0;
    size_t i;
    void *p;
    int fd, rc = 0;

    if ((fd = dup(s->items_fd)) < 0 || (d = fdopendir(fd)) == NULL) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        store_fail(s, "items: %s", strerror(-rc));
        goto fail;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        errno = 0;
        no = strtoul(de->d_name, &endp, 10);
        if (errno != 0 || no == 0 || no >= UINT32_MAX ||
            strcmp(endp, ".jsonl") != 0)
            continue;
        /* Only names as store_seg_new() writes them. */
        snprintf(name, sizeof name, "%06lu.jsonl", no);
        if (strcmp(name, de->d_name) != 0)
            continue;
        p = store_array_grow(s->segs, &s->segs_cap, s->nsegs, sizeof *s->segs);
        if (p == NULL) {
            rc = -ENOMEM;
            store_fail(s, "items: out of memory");
            goto fail;
        }
        s->segs = p;
        s->segs[s->nsegs].no = (uint32_t)no;
        s->segs[s->nsegs++].fd = -1;
    }
    if (errno != 0) {
        rc = -errno;
        store_fail(s, "items: %s", strerror(errno));
        goto fail;
    }
    if (s->nsegs == 0)
        goto fail; /* a new store: the first commit makes 000001 */
    qsort(s->segs, s->nsegs, sizeof *s->segs, store_seg_cmp);
    if ((buf = malloc(STORE_SCAN_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items: out of memory");
        goto fail;
    }
    for (i = 0; i < s->nsegs; i++) {
        seg = &s->segs[i];
        snprintf(name, sizeof name, "%06" PRIu32 ".jsonl", seg->no);
        seg->fd = openat(s->items_fd, name, O_RDWR | O_CLOEXEC);
        if (seg->fd < 0) {
            rc = -errno;
            store_fail(s, "items/%s: %s", name, strerror(errno));
            goto fail;
        }
        if ((rc = store_seg_scan(s, (uint32_t)i, buf, &size)) != 0)
            goto fail;
        /* Only the last one stays open: it takes the appends. */
        if (i + 1 < s->nsegs) {
            close(seg->fd);
            seg->fd = -1;
        }
    }
    s->tail = size;
fail: /* also the way out when all went well */
    free(buf);
    if (d != NULL)
        closedir(d);
    return rc;
}

/* Starts the next segment, empty; its header goes in with the first
 * batch. 0 or a negative errno, with s->err set. */
static int
store_seg_new(struct store *s)
{
    uint32_t no = s->nsegs ? s->segs[s->nsegs - 1].no + 1 : 1;
    char name[32];
    void *p;
    int fd;

    if (no == UINT32_MAX) {
        store_fail(s, "items: out of segment numbers");
        return -EOVERFLOW;
    }
    p = store_array_grow(s->segs, &s->segs_cap, s->nsegs, sizeof *s->segs);
    if (p == NULL) {
        store_fail(s, "items: out of memory");
        return -ENOMEM;
    }
    s->segs = p;
    snprintf(name, sizeof name, "%06" PRIu32 ".jsonl", no);
    fd = openat(s->items_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        store_fail(s, "items/%s: create: %s", name, strerror(errno));
        return -errno;
    }
    /* The full one is read from now on, through an fd opened when
     * needed. */
    if (s->nsegs > 0 && s->segs[s->nsegs - 1].fd >= 0) {
        close(s->segs[s->nsegs - 1].fd);
        s->segs[s->nsegs - 1].fd = -1;
    }
    s->segs[s->nsegs].no = no;
    s->segs[s->nsegs++].fd = fd;
    s->tail = 0;
    s->tail_dirty = 0;
    s->items_unsynced = 1;
    return 0;
}

/* The fd of segment segi, opened for reading when it is not open. */
static int
store_seg_fd(struct store *s, uint32_t segi)
{
    struct store_seg *seg = &s->segs[segi];
    char name[32];

    if (seg->fd >= 0)
        return seg->fd;
    snprintf(name, sizeof name, "%06" PRIu32 ".jsonl", seg->no);
    seg->fd = openat(s->items_fd, name, O_RDONLY | O_CLOEXEC);
    if (seg->fd < 0) {
        store_fail(s, "items/%s: %s", name, strerror(errno));
        return -errno;
    }
    return seg->fd;
}

/* ---- feed state --------------------------------------------------------- */

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

static struct store_feed *
store_feed_find(const struct store *s, const char *name, size_t *at)
{
    size_t i;

    for (i = 0; i < s->nfeeds; i++) {
        if (strcmp(s->feeds[i]->name, name) == 0) {
            if (at != NULL)
                *at = i;
            return s->feeds[i];
        }
    }
    return NULL;
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

/* Reads feeds.state when there is one. 0 or a negative errno, with
 * s->err set. */
static int
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

/* ---- opening and closing ------------------------------------------------ */

/* mkdir -p dir. 0 or a negative errno, with s->err set. */
static int
store_mkdirs(struct store *s, const char *dir)
{
    char *p = strdup(dir), *q;
    int rc = 0;

    if (p == NULL) {
        store_fail(s, "%s: out of memory", dir);
        return -ENOMEM;
    }
    for (q = p + 1; *q != '\0'; q++) {
        if (*q != '/')
            continue;
        *q = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = -errno;
            store_fail(s, "%s: mkdir: %s", p, strerror(errno));
            goto fail;
        }
        *q = '/';
    }
    if (mkdir(p, 0755) != 0 && errno != EEXIST) {
        rc = -errno;
        store_fail(s, "%s: mkdir: %s", p, strerror(errno));
    }
fail: /* also the way out when all went well */
    free(p);
    return rc;
}

/* Creates dir/name unless it exists; *made is set when it was made. */
static int
store_subdir(struct store *s, const char *name, int *made)
{
    if (mkdirat(s->dir_fd, name, 0755) == 0) {
        *made = 1;
        return 0;
    }
    if (errno == EEXIST)
        return 0;
    store_fail(s, "%s/%s: mkdir: %s", s->dir, name, strerror(errno));
    return -errno;
}

struct store *
store_open(const char *dir, char *err, size_t errlen)
{
    struct store *s;
    struct timespec ts;
    int made = 0;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        if (err != NULL)
            snprintf(err, errlen, "%s: out of memory", dir);
        return NULL;
    }
    s->dir_fd = s->items_fd = -1;
    feed_buf_init(&s->pend, 0);
    feed_buf_init(&s->warn, 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    s->seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
              (uint64_t)(uintptr_t)s ^ (uint64_t)getpid();

    if (store_mkdirs(s, dir) != 0)
        goto fail;
    s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dir_fd < 0) {
        store_fail(s, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    /* Two writers would interleave their batches in one segment. */
    if (flock(s->dir_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            store_fail(s,
                       "%s: in use by another process (is feedd "
                       "already running?)",
                       dir);
        else
            store_fail(s, "%s: lock: %s", dir, strerror(errno));
        goto fail;
    }
    if (store_subdir(s, "items", &made) != 0 ||
        store_subdir(s, "public", &made) != 0)
        goto fail;
    if (made && fsync(s->dir_fd) != 0) {
        store_fail(s, "%s: fsync: %s", dir, strerror(errno));
        goto fail;
    }
    s->items_fd =
        openat(s->dir_fd, "items", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->items_fd < 0) {
        store_fail(s, "%s/items: %s", dir, strerror(errno));
        goto fail;
    }
    if (store_segs_load(s) != 0 || store_states_load(s) != 0)
        goto fail;
    return s;
fail:
    if (err != NULL)
        snprintf(err, errlen, "%s", s->err);
    store_close(s);
    return NULL;
}

void
store_close(struct store *s)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nsegs; i++)
        if (s->segs[i].fd >= 0)
            close(s->segs[i].fd);
    if (s->items_fd >= 0)
        close(s->items_fd);
    if (s->dir_fd >= 0)
        close(s->dir_fd); /* and the lock goes with it */
    for (i = 0; i < s->nfeeds; i++)
        store_feed_free(s->feeds[i]);
    free(s->feeds);
    free(s->segs);
    free(s->recs);
    free(s->slots);
    free(s->pends);
    feed_buf_free(&s->pend);
    feed_buf_free(&s->warn);
    free(s->line);
    free(s->dir);
    free(s);
}

/* ---- items -------------------------------------------------------------- */

int
store_seen(const struct store *s, const char *id)
{
    uint64_t v;

    if (store_id_parse(id, &v) != 0)
        return 0;
    return store_slot_find(s, v) != NULL;
}

size_t
store_count(const struct store *s)
{
    return s->nrecs;
}

/* ,"image":..,"enclosures":[..],"categories":[..] of e appended to b,
 * the lists written even when empty ([]). Additive keys: format 1 records
 * written before them read back as having none. An enclosure without a
 * URL and a NULL category carry nothing and are left out; past
 * STORE_ENCLOSURES_MAX and STORE_CATEGORIES_MAX the rest are dropped.
 * 0, or non-zero when out of memory. */
static int
store_put_lists(struct feed_buf *b, const struct feed_entry *e)
{
    const struct feed_enclosure *enc;
    size_t i, n;

    if (store_put_str(b, "image", e->image) != 0 ||
        feed_buf_puts(b, ",\"enclosures\":[") != 0)
        return 1;
    for (i = n = 0; e->enclosures != NULL && i < e->nenclosures &&
                    n < STORE_ENCLOSURES_MAX;
         i++) {
        enc = &e->enclosures[i];
        if (enc->url == NULL)
            continue;
        if (feed_buf_puts(b, n++ > 0 ? ",{\"url\":" : "{\"url\":") != 0 ||
            feed_buf_json(b, enc->url) != 0 ||
            store_put_str(b, "type", enc->type) != 0)
            return 1;
        /* Any negative length is the "unknown" of the model. */
        if ((enc->length >= 0
                 ? feed_buf_printf(b, ",\"length\":%" PRId64 "}", enc->length)
                 : feed_buf_puts(b, ",\"length\":null}")) != 0)
            return 1;
    }
    if (feed_buf_puts(b, "],\"categories\":[") != 0)
        return 1;
    for (i = n = 0; e->categories != NULL && i < e->ncategories &&
                    n < STORE_CATEGORIES_MAX;
         i++) {
        if (e->categories[i] == NULL)
            continue;
        if ((n++ > 0 && feed_buf_puts(b, ",") != 0) ||
            feed_buf_json(b, e->categories[i]) != 0)
            return 1;
    }
    return feed_buf_puts(b, "]") != 0;
}

/* The line of it (id already parsed), '\n' included, appended to b.
 * 0, or non-zero when out of memory. */
static int
store_item_line(struct feed_buf *b, uint64_t id, const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;

    return feed_buf_printf(b, "{\"id\":\"%016" PRIx64 "\"", id) != 0 ||
           store_put_str(b, "feed", it->feed) != 0 ||
           store_put_str(b, "feed_title", it->feed_title) != 0 ||
           store_put_str(b, "feed_url", it->feed_url) != 0 ||
           store_put_time(b, "stored", it->stored) != 0 ||
           store_put_str(b, "guid", e->guid) != 0 ||
           store_put_str(b, "link", e->link) != 0 ||
           store_put_str(b, "title", e->title) != 0 ||
           store_put_str(b, "author", e->author) != 0 ||
           store_put_time(b, "published", e->published) != 0 ||
           store_put_time(b, "updated", e->updated) != 0 ||
           store_put_str(b, "summary", e->summary) != 0 ||
           store_put_str(b, "content", e->content) != 0 ||
           store_put_lists(b, e) != 0 || feed_buf_puts(b, "}\n") != 0;
}

int
store_add(struct store *s, const struct feed_item *item)
{
    size_t start = s->pend.len, len;
    struct store_slot *slot;
    struct store_pend *pe;
    struct feed_item it;
    uint64_t id;
    void *p;
    int rc;

    if (store_id_parse(item->id, &id) != 0)
        return -EINVAL;
    if (s->npends >= STORE_REC_MAX - s->nrecs)
        return -EOVERFLOW;
    p = store_array_grow(s->pends, &s->pends_cap, s->npends, sizeof *s->pends);
    if (p == NULL)
        return -ENOMEM;
    s->pends = p;
    it = *item;
    if (it.stored == FEED_TIME_NONE)
        it.stored = (int64_t)time(NULL);
    if (store_item_line(&s->pend, id, &it) != 0) {
        rc = -ENOMEM;
        goto fail;
    }
    len = s->pend.len - start;
    if (len - 1 > STORE_LINE_MAX) {
        rc = -EFBIG;
        goto fail;
    }
    slot = store_slot_find(s, id);
    if (slot == NULL && (rc = store_slot_add(s, id, STORE_SLOT_PENDING)) != 0)
        goto fail;
    pe = &s->pends[s->npends++];
    pe->id = id;
    pe->date = feed_item_date(&it);
    pe->off = start;
    pe->len = (uint32_t)len;
    pe->fresh = slot == NULL;
    return 0;
fail:
    s->pend.len = start;
    if (s->pend.data != NULL)
        s->pend.data[start] = '\0';
    return rc;
}

/* Forgets the pending batch. Unless it was committed, its new IDs are no
 * longer seen. */
static void
store_batch_drop(struct store *s, int committed)
{
    struct store_slot *slot;
    size_t i;

    for (i = 0; !committed && i < s->npends; i++) {
        if (!s->pends[i].fresh)
            continue;
        slot = store_slot_find(s, s->pends[i].id);
        assert(slot != NULL && slot->ref == STORE_SLOT_PENDING);
        if (slot != NULL)
            store_slot_del(s, slot);
    }
    s->npends = 0;
    feed_buf_reset(&s->pend);
}

int
store_commit(struct store *s)
{
    char hdr[32];
    struct store_rec r;
    uint64_t base;
    size_t hlen = 0, i;
    uint32_t segi;
    int fd, rc;

    if (s->npends == 0)
        return 0;
    if ((rc = store_recs_reserve(s, s->npends)) != 0) {
        store_fail(s, "items: %s", strerror(-rc));
        goto fail;
    }
    if ((s->nsegs == 0 || s->tail >= store_segment_max) &&
        (rc = store_seg_new(s)) != 0)
        goto fail;
    segi = (uint32_t)(s->nsegs - 1);
    fd = s->segs[segi].fd;
    base = s->tail;
    /* A batch that failed and could not be cut off must go before this
     * one lands after it. */
    if (s->tail_dirty) {
        if (ftruncate(fd, (off_t)base) != 0) {
            rc = -errno;
            store_fail(s, "items/%06" PRIu32 ".jsonl: truncate: %s",
                       s->segs[segi].no, strerror(errno));
            goto fail;
        }
        s->tail_dirty = 0;
    }
    if (base == 0)
        hlen = (size_t)snprintf(hdr, sizeof hdr, "{\"feedd_store\":%d}\n",
                                STORE_FORMAT);
    rc = store_write_all(fd, hdr, hlen, base);
    if (rc == 0)
        rc = store_write_all(fd, s->pend.data, s->pend.len, base + hlen);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    /* A new segment's name must be as durable as its contents. */
    if (rc == 0 && s->items_unsynced && fsync(s->items_fd) != 0)
        rc = -errno;
    if (rc != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: append: %s", s->segs[segi].no,
                   strerror(-rc));
        if (ftruncate(fd, (off_t)base) != 0)
            s->tail_dirty = 1;
        goto fail;
    }
    s->items_unsynced = 0;
    s->tail = base + hlen + s->pend.len;
    for (i = 0; i < s->npends; i++) {
        r.date = s->pends[i].date;
        r.off = base + hlen + s->pends[i].off;
        r.seg = segi;
        r.len = s->pends[i].len - 1;
        /* Cannot fail: the IDs are in the set and the recs reserved. */
        rc = store_rec_put(s, s->pends[i].id, &r);
        assert(rc == 0);
    }
    store_batch_drop(s, 1);
    return 0;
fail:
    store_batch_drop(s, 0);
    return rc;
}

/* Reads the line of rec r and parses it. *o is NULL when the line is no
 * longer an item (the file was changed behind our back). 0 or a negative
 * errno, with s->err set. */
static int
store_rec_load(struct store *s, const struct store_rec *r, json_t **o)
{
    json_error_t jerr;
    char *p;
    int fd, rc;

    *o = NULL;
    if ((fd = store_seg_fd(s, r->seg)) < 0)
        return fd;
    if (r->len > s->line_cap) {
        p = realloc(s->line, r->len);
        if (p == NULL) {
            store_fail(s, "items: out of memory");
            return -ENOMEM;
        }
        s->line = p;
        s->line_cap = r->len;
    }
    if ((rc = store_read_all(fd, s->line, r->len, r->off)) != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s", s->segs[r->seg].no,
                   strerror(-rc));
        return rc;
    }
    *o = json_loadb(s->line, r->len, 0, &jerr);
    return 0;
}

/* The per-call arrays that store_recent() lends the lists of an item
 * in: on its stack, so that a callback may call it again. */
struct store_lists {
    struct feed_enclosure enc[STORE_ENCLOSURES_MAX];
    const char *cat[STORE_CATEGORIES_MAX];
};

/* e's image, enclosures and categories from o, in l's arrays, borrowing
 * the strings from o. A missing or malformed key (a record written before
 * the keys existed, or edited by hand) gives none: NULL and 0. Like
 * store_put_lists(), skips enclosures without a URL and categories that
 * are not strings, and keeps at most the first STORE_*_MAX. */
static void
store_lists_from_json(struct feed_entry *e, const json_t *o,
                      struct store_lists *l)
{
    const json_t *a, *v, *len;
    json_int_t x;
    size_t i, n;

    e->image = store_json_str(o, "image");
    a = json_object_get(o, "enclosures");
    for (i = n = 0; i < json_array_size(a) && n < STORE_ENCLOSURES_MAX; i++) {
        v = json_array_get(a, i);
        if ((l->enc[n].url = store_json_str(v, "url")) == NULL)
            continue;
        l->enc[n].type = store_json_str(v, "type");
        len = json_object_get(v, "length");
        x = json_is_integer(len) ? json_integer_value(len) : -1;
        l->enc[n++].length = x >= 0 ? (int64_t)x : -1;
    }
    e->enclosures = n > 0 ? l->enc : NULL;
    e->nenclosures = n;
    a = json_object_get(o, "categories");
    for (i = n = 0; i < json_array_size(a) && n < STORE_CATEGORIES_MAX; i++)
        if ((l->cat[n] = json_string_value(json_array_get(a, i))) != NULL)
            n++;
    e->categories = n > 0 ? l->cat : NULL;
    e->ncategories = n;
}

/* it, borrowing its strings from o and its lists from l. 0, or -EINVAL
 * when o is no item. */
static int
store_item_from_json(struct feed_item *it, const json_t *o,
                     struct store_lists *l)
{
    uint64_t id;

    if (store_id_parse(store_json_str(o, "id"), &id) != 0)
        return -EINVAL;
    memset(it, 0, sizeof *it);
    snprintf(it->id, sizeof it->id, "%016" PRIx64, id);
    it->feed = store_json_str(o, "feed");
    it->feed_title = store_json_str(o, "feed_title");
    it->feed_url = store_json_str(o, "feed_url");
    it->stored = store_json_time(o, "stored");
    it->entry.guid = store_json_str(o, "guid");
    it->entry.link = store_json_str(o, "link");
    it->entry.title = store_json_str(o, "title");
    it->entry.author = store_json_str(o, "author");
    it->entry.published = store_json_time(o, "published");
    it->entry.updated = store_json_time(o, "updated");
    it->entry.summary = store_json_str(o, "summary");
    it->entry.content = store_json_str(o, "content");
    store_lists_from_json(&it->entry, o, l);
    return 0;
}

int
store_recent(struct store *s, size_t n, store_item_fn *fn, void *arg)
{
    const struct store_rec *r;
    struct store_lists lists;
    struct feed_item it;
    uint32_t *h = NULL, t;
    size_t k, hn = 0, i;
    json_t *o;
    int rc = 0;

    k = n < s->nrecs ? n : s->nrecs;
    if (k == 0)
        return 0;
    if ((h = malloc(k * sizeof *h)) == NULL) {
        store_fail(s, "items: out of memory");
        return -ENOMEM;
    }
    /* The k newest in a heap whose root is the oldest of them: one pass,
     * O(count log k). */
    for (i = 0; i < s->nrecs; i++) {
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
    /* Heapsort: each oldest goes to the end, so h ends newest first. */
    for (hn = k; hn > 1; hn--) {
        t = h[0];
        h[0] = h[hn - 1];
        h[hn - 1] = t;
        store_heap_down(s->recs, h, hn - 1, 0);
    }
    for (i = 0; i < k && rc == 0; i++) {
        r = &s->recs[h[i]];
        if ((rc = store_rec_load(s, r, &o)) != 0)
            break;
        if (o == NULL || store_item_from_json(&it, o, &lists) != 0)
            store_warn(s,
                       "items/%06" PRIu32 ".jsonl: record at byte %" PRIu64
                       " changed on disk, skipped",
                       s->segs[r->seg].no, r->off);
        else
            rc = fn(&it, arg);
        json_decref(o);
    }
    free(h);
    return rc;
}

/* ---- feed state, public ------------------------------------------------- */

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
    if ((f = calloc(1, sizeof *f)) == NULL)
        goto fail;
    if ((f->name = strdup(feed)) == NULL) {
        free(f);
        goto fail;
    }
    f->st = copy;
    s->feeds[s->nfeeds++] = f;
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

/* ---- helpers, public ---------------------------------------------------- */

const char *
store_error(const struct store *s)
{
    return s != NULL ? s->err : "";
}

char *
store_warnings(struct store *s)
{
    char *w;

    if (s->nwarn_dropped > 0 &&
        feed_buf_printf(&s->warn, "%s%zu more warnings not shown",
                        s->warn.len > 0 ? "\n" : "", s->nwarn_dropped) != 0) {
        /* Out of memory: the count is lost, the warnings are not. */
    }
    if (s->warn.len == 0)
        return NULL;
    w = s->warn.data; /* the caller takes it */
    feed_buf_init(&s->warn, 0);
    s->nwarn = 0;
    s->nwarn_dropped = 0;
    return w;
}

int
store_file_replace(const char *path, const void *data, size_t len)
{
    static atomic_uint seq;
    size_t plen = strlen(path), tlen = plen + 48;
    char *tmp = NULL, *dir = NULL, *slash;
    const char *dname = ".";
    int fd = -1, dfd = -1, made = 0, rc = 0, tries;

    if ((tmp = malloc(tlen)) == NULL || (dir = strdup(path)) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    /* O_EXCL under a fresh name rather than mkstemp(): the file gets
     * 0666 less the umask, as if written in place, and a stale temporary
     * left by a crash is never written through. */
    for (tries = 0;; tries++) {
        snprintf(tmp, tlen, "%s.tmp.%ld.%u", path, (long)getpid(),
                 atomic_fetch_add(&seq, 1u));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0)
            break;
        if (errno != EEXIST || tries == 100) {
            rc = -errno;
            goto fail;
        }
    }
    made = 1;
    if ((rc = store_write_all(fd, data, len, 0)) != 0)
        goto fail;
    if (fsync(fd) != 0) {
        rc = -errno;
        goto fail;
    }
    rc = close(fd) != 0 ? -errno : 0;
    fd = -1;
    if (rc != 0)
        goto fail;
    if (rename(tmp, path) != 0) {
        rc = -errno;
        goto fail;
    }
    made = 0;
    /* The rename is durable once the folder is synced. Past this point
     * the new file is in place even when an error is returned. */
    if ((slash = strrchr(dir, '/')) != NULL) {
        slash[slash == dir] = '\0'; /* "/x" lives in "/" */
        dname = dir;
    }
    dfd = open(dname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || (fsync(dfd) != 0 && errno != EINVAL))
        rc = -errno;
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    if (made)
        unlink(tmp);
    if (dfd >= 0)
        close(dfd);
    free(tmp);
    free(dir);
    return rc;
}

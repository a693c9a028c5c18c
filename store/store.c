/* store/store.c - the flat-file store: append-only item segments, the
 * seen-ID index and its side file, retention, per-feed state and atomic
 * file replacement.
 *
 * In memory there is only an index. For every committed item it holds
 * its sort date, the hash of its version and where its line is (segment,
 * offset, length): 32 bytes. The seen set is an open-addressing hash table
 * from ID to index entry that also holds the IDs of the pending batch;
 * IDs dropped by retention are a sorted array beside it. Items are read
 * back from disk, one line at a time, when store_recent() asks for them.
 *
 * A segment is items/NNNNNN.jsonl: a header line {"feedd_store":1}, then
 * one JSON object per item. A line only counts once its '\n' is on disk:
 * a last line without one is a torn write and is cut off at open. When an
 * ID appears twice in the log (an update), the later line wins.
 *
 * Keys are only ever added to a record within one format: a reader takes
 * a missing key as "none" and ignores keys it does not know, so adding one
 * does not change STORE_FORMAT. "image", "enclosures", "categories",
 * "also", "changed", "hash" and "shared" came that way.
 *
 * items/index is a cache of what the scan of the segments finds, so that
 * start-up reads 48 bytes per line instead of parsing every record: a
 * 16-byte header ("feeddidx", version, record size), then one record per
 * line of the segments, in log order (see struct store_irec). It is
 * appended after each commit's fsync, without an fsync of its own. At open
 * its records must tile the segments as they are, from their first byte
 * on, with no gap; the bytes past the last record are scanned as before
 * and their records appended. A torn last record is cut off; anything
 * else that does not fit makes the index rebuilt from the segments, with a
 * warning. The log stays the truth: the worst a bad index can do is cost
 * a full scan.
 *
 * items/dropped holds the IDs that store_compact() dropped, so that they
 * stay seen: a 16-byte header ("feedddrp", version, 0), then the IDs as
 * 8-byte little-endian numbers in increasing order. It is written with
 * the rest of a generation, never appended.
 *
 * store_compact() writes a whole new generation of items/ in items.new/
 * and swaps it in with two renames; store_open() finishes or undoes a swap
 * that a crash cut short (store_gen_recover()). */
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
/* The read buffer of the scan at open, and of the index. */
#define STORE_SCAN_BUF ((size_t)1 << 20)
/* The largest feeds.state that is read. */
#define STORE_STATE_MAX ((size_t)64 << 20)
/* Warnings kept between two store_warnings() calls; the rest are counted. */
#define STORE_WARN_MAX 100
/* The most enclosures, categories and other feeds one record keeps, both
 * ways: the first ones are kept and the rest dropped, so that
 * store_recent() can hand them over from arrays of a fixed size. */
#define STORE_ENCLOSURES_MAX 64
#define STORE_CATEGORIES_MAX 256
#define STORE_ALSO_MAX 256
/* What store_compact() buffers before a write, and reads ahead. */
#define STORE_COPY_BUF ((size_t)4 << 20)

/* store_slot.ref of an ID that only the pending batch holds; recs stay
 * below STORE_REC_MAX so that no rec's ref reaches it. */
#define STORE_SLOT_PENDING UINT32_MAX
#define STORE_REC_MAX (UINT32_MAX - 2)

/* The header of a segment as this version writes it. */
#define STORE_SEG_HEADER "{\"feedd_store\":1}\n"

/* items/index: header and record sizes. */
#define STORE_IDX_MAGIC "feeddidx"
#define STORE_IDX_VERSION 1
#define STORE_IDX_HDR 16
#define STORE_IDX_REC 48
/* How many records ahead the load of the index fetches a slot. */
#define STORE_IDX_PREFETCH 16

/* items/dropped. */
#define STORE_DROP_MAGIC "feedddrp"
#define STORE_DROP_VERSION 1
#define STORE_DROP_HDR 16

/* What a line of a segment is, as the index records it. Every line has
 * one record, so that the records tile the segment; the kinds other than
 * ITEM carry the warning the scan gave, which an open through the index
 * gives again. */
enum {
    STORE_IK_HEADER = 1, /* a good header (line 1) */
    STORE_IK_ITEM,       /* an item */
    STORE_IK_BADHDR,     /* line 1: a "feedd_store" that is not a format */
    STORE_IK_CORRUPT,    /* no item: skipped */
    STORE_IK_LONG,       /* longer than STORE_LINE_MAX: skipped */
};
/* Or'ed into the kind of line 1 when it is not a header at all. */
#define STORE_IK_NOHDR 0x80

struct store_seg {
    uint32_t no;   /* the NNNNNN of its name */
    int fd;        /* -1 until it is needed */
    uint64_t size; /* its committed size; s->tail for the last one */
};

/* A committed item: what it sorts by, its version and where its line is. */
struct store_rec {
    int64_t date;  /* feed_item_date() */
    uint64_t hash; /* feed_item.hash of this version */
    uint64_t off;  /* of its line in the segment */
    uint32_t seg;  /* index into store.segs */
    uint32_t len;  /* of its line, without the '\n' */
};

/* A slot of the seen set. ref is 0 when the slot is free (so calloc()
 * makes an empty table), the index of the ID's rec plus one, or
 * STORE_SLOT_PENDING while only the pending batch holds the ID. pend is
 * the index of the ID's latest pending version plus one, or 0; it fills
 * what would be padding. */
struct store_slot {
    uint64_t id;
    uint32_t ref;
    uint32_t pend;
};

/* An item added but not committed: its line, '\n' included, is
 * pend.data[off, off + len]. */
struct store_pend {
    uint64_t id;
    int64_t date;
    uint64_t hash;
    size_t off;
    uint32_t len;
    int fresh; /* the ID had no rec when the batch began */
};

/* A record of items/index, decoded. On disk, little-endian: id 8, date 8,
 * hash 8, off 8, len 4, seg 4, line 4, kind 1, check 3 (the low 24 bits
 * of store_irec_check(), so that a record of zeros or of garbage is
 * told from a good one). */
struct store_irec {
    uint64_t id;   /* ITEM only; 0 otherwise */
    int64_t date;  /* ITEM only */
    uint64_t hash; /* ITEM only */
    uint64_t off;  /* of the line */
    uint32_t len;  /* of the line, without the '\n' */
    uint32_t seg;  /* the segment's number (NNNNNN), not its index */
    uint32_t line; /* the line's number, for warnings */
    unsigned kind; /* STORE_IK_* */
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
    uint64_t tail;       /* the last segment's committed size */
    uint32_t tail_lines; /* and how many lines it holds */
    int tail_dirty;      /* a failed batch may lie past tail */
    int items_unsynced;  /* the last segment's name is not fsynced yet */

    /* items/index, open for appends while what it holds is a gapless
     * prefix of the log; -1 once an append failed or when there is
     * none. */
    int idx_fd;
    uint64_t idx_size;
    struct feed_buf *idx_out; /* where the scan puts its records */
    int idx_unusable;         /* the scan met a line it cannot record */

    struct store_rec *recs;
    size_t nrecs, recs_cap;

    struct store_slot *slots;
    size_t slots_cap, slots_used; /* cap is 0 or a power of two */
    uint64_t seed;

    uint64_t *dropped; /* sorted */
    size_t ndropped;

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
static int store_seg_new(struct store *);
static int store_seg_fd(struct store *, uint32_t);

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

/* Writes (write != 0) or reads exactly len bytes at off, through EINTR
 * and short transfers. 0, -EIO when a read meets the end of the file, or
 * -errno. */
static int
store_io_all(int fd, int write, void *p, size_t len, uint64_t off)
{
    char *c = p;
    ssize_t n;

    while (len > 0) {
        n = write ? pwrite(fd, c, len, (off_t)off)
                  : pread(fd, c, len, (off_t)off);
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

static int
store_write_all(int fd, const void *p, size_t len, uint64_t off)
{
    return store_io_all(fd, 1, (void *)(uintptr_t)p, len, off);
}

static int
store_read_all(int fd, void *p, size_t len, uint64_t off)
{
    return store_io_all(fd, 0, p, len, off);
}

/* fsync of a folder; a file system that cannot sync folders (EINVAL) has
 * nothing to sync. 0 or -errno. */
static int
store_dir_sync(int fd)
{
    return fsync(fd) != 0 && errno != EINVAL ? -errno : 0;
}

/* 1 when dir_fd/name is a folder, 0 when there is nothing by that name,
 * -errno otherwise (ENOTDIR for something else). */
static int
store_dir_exists(int dir_fd, const char *name)
{
    struct stat st;

    if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -errno;
    return S_ISDIR(st.st_mode) ? 1 : -ENOTDIR;
}

/* Removes dir_fd/name, a folder of files (items/ holds no folders).
 * 0 when it is gone or was never there, else the first -errno. */
static int
store_dir_remove(int dir_fd, const char *name)
{
    struct dirent *de;
    DIR *d;
    int fd, rc = 0;

    fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -errno;
    if ((d = fdopendir(fd)) == NULL) {
        rc = -errno;
        close(fd);
        return rc;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (unlinkat(fd, de->d_name, 0) != 0 && rc == 0)
            rc = -errno;
    }
    if (errno != 0 && rc == 0)
        rc = -errno;
    closedir(d);
    if (unlinkat(dir_fd, name, AT_REMOVEDIR) != 0 && rc == 0)
        rc = -errno;
    return rc;
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

/* The "hash" member of o, 16 hex digits, or 0 when absent (a record
 * written before hashes were kept) or malformed. */
static uint64_t
store_json_hash(const json_t *o)
{
    uint64_t h;

    return store_id_parse(store_json_str(o, "hash"), &h) == 0 ? h : 0;
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

/* ---- fixed-size binary records ------------------------------------------ */

static void
store_put_le(unsigned char *p, uint64_t v, int n)
{
    int i;

    for (i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t
store_get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    int i;

    for (i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* The check of an index record: a multiply-xorshift mix of its fields.
 * Its seed makes the check of a record of zeros non-zero. */
static uint32_t
store_irec_check(const struct store_irec *r)
{
    const uint64_t w[6] = {
        r->id,
        (uint64_t)r->date,
        r->hash,
        r->off,
        (uint64_t)r->len | (uint64_t)r->seg << 32,
        (uint64_t)r->line | (uint64_t)r->kind << 32,
    };
    uint64_t h = UINT64_C(0x6a09e667f3bcc909);
    size_t i;

    for (i = 0; i < 6; i++) {
        h = (h ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15);
        h ^= h >> 32;
    }
    return (uint32_t)(h >> 40);
}

/* r encoded into p[0, STORE_IDX_REC). */
static void
store_irec_encode(unsigned char *p, const struct store_irec *r)
{
    store_put_le(p, r->id, 8);
    store_put_le(p + 8, (uint64_t)r->date, 8);
    store_put_le(p + 16, r->hash, 8);
    store_put_le(p + 24, r->off, 8);
    store_put_le(p + 32, r->len, 4);
    store_put_le(p + 36, r->seg, 4);
    store_put_le(p + 40, r->line, 4);
    p[44] = (unsigned char)r->kind;
    store_put_le(p + 45, store_irec_check(r), 3);
}

/* p[0, STORE_IDX_REC) decoded into r. 0, or -1 when its check fails. */
static int
store_irec_decode(const unsigned char *p, struct store_irec *r)
{
    r->id = store_get_le(p, 8);
    r->date = (int64_t)store_get_le(p + 8, 8);
    r->hash = store_get_le(p + 16, 8);
    r->off = store_get_le(p + 24, 8);
    r->len = (uint32_t)store_get_le(p + 32, 4);
    r->seg = (uint32_t)store_get_le(p + 36, 4);
    r->line = (uint32_t)store_get_le(p + 40, 4);
    r->kind = p[44];
    return store_get_le(p + 45, 3) == store_irec_check(r) ? 0 : -1;
}

/* r appended to b. 0, or non-zero when out of memory. */
static int
store_irec_emit(struct feed_buf *b, const struct store_irec *r)
{
    unsigned char p[STORE_IDX_REC];

    store_irec_encode(p, r);
    return feed_buf_append(b, p, sizeof p);
}

/* The 16-byte header of items/index or items/dropped appended to b. */
static int
store_file_header(struct feed_buf *b, const char *magic, uint32_t version,
                  uint32_t extra)
{
    unsigned char p[16];

    memcpy(p, magic, 8);
    store_put_le(p + 8, version, 4);
    store_put_le(p + 12, extra, 4);
    return feed_buf_append(b, p, sizeof p);
}

/* The warning the scan gives for a line of kind r->kind in segment r->seg;
 * an open through the index gives it again. */
static void
store_line_warn(struct store *s, const struct store_irec *r)
{
    if (r->kind & STORE_IK_NOHDR)
        store_warn(s, "items/%06" PRIu32 ".jsonl:1: no store header", r->seg);
    switch (r->kind & ~STORE_IK_NOHDR) {
    case STORE_IK_BADHDR:
        store_warn(s, "items/%06" PRIu32 ".jsonl:1: bad store header", r->seg);
        break;
    case STORE_IK_CORRUPT:
        store_warn(
            s, "items/%06" PRIu32 ".jsonl:%" PRIu32 ": corrupt record skipped",
            r->seg, r->line);
        break;
    case STORE_IK_LONG:
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl:%" PRIu32 ": corrupt record "
                   "skipped (longer than %zu bytes)",
                   r->seg, r->line, STORE_LINE_MAX);
        break;
    default:
        break;
    }
}

static int
store_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* ---- the seen set ------------------------------------------------------- */

/* The home slot of id. IDs are already hashes, but of keys a publisher
 * chooses: the seeded mix (splitmix64's finalizer) keeps a crafted set of
 * IDs from piling up in one run of slots. */
static size_t
store_slot_home(uint64_t seed, size_t cap, uint64_t id)
{
    uint64_t x = id ^ seed;

    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return (size_t)x & (cap - 1);
}

static struct store_slot *
store_slot_find(const struct store *s, uint64_t id)
{
    size_t i, mask = s->slots_cap - 1;

    if (s->slots_cap == 0)
        return NULL;
    for (i = store_slot_home(s->seed, s->slots_cap, id); s->slots[i].ref != 0;
         i = (i + 1) & mask)
        if (s->slots[i].id == id)
            return &s->slots[i];
    return NULL;
}

/* Puts e in a free slot of the table t of cap slots, which has room and
 * does not hold e's ID. */
static void
store_slot_place(struct store_slot *t, size_t cap, uint64_t seed,
                 const struct store_slot *e)
{
    size_t i, mask = cap - 1;

    for (i = store_slot_home(seed, cap, e->id); t[i].ref != 0;
         i = (i + 1) & mask)
        ;
    t[i] = *e;
}

/* The slot count that holds n IDs with the load under 0.7. */
static size_t
store_slots_for(size_t n)
{
    size_t cap = 1024;

    while (n * 10 > cap * 7)
        cap *= 2;
    return cap;
}

/* Room for n more IDs in the seen set. 0 or -ENOMEM. */
static int
store_slots_reserve(struct store *s, size_t n)
{
    struct store_slot *t;
    size_t i, cap;

    if ((s->slots_used + n) * 10 <= s->slots_cap * 7)
        return 0;
    cap = store_slots_for(s->slots_used + n);
    if ((t = calloc(cap, sizeof *t)) == NULL)
        return -ENOMEM;
    for (i = 0; i < s->slots_cap; i++)
        if (s->slots[i].ref != 0)
            store_slot_place(t, cap, s->seed, &s->slots[i]);
    free(s->slots);
    s->slots = t;
    s->slots_cap = cap;
    return 0;
}

/* Adds id, which the set does not hold. 0 or -ENOMEM. */
static int
store_slot_add(struct store *s, uint64_t id, uint32_t ref, uint32_t pend)
{
    const struct store_slot e = {id, ref, pend};
    int rc;

    if ((rc = store_slots_reserve(s, 1)) != 0)
        return rc;
    store_slot_place(s->slots, s->slots_cap, s->seed, &e);
    s->slots_used++;
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
        k = store_slot_home(s->seed, s->slots_cap, s->slots[j].id);
        /* j's entry may fill the hole at i unless its home lies
         * cyclically in (i, j]. */
        if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
            continue;
        s->slots[i] = s->slots[j];
        i = j;
    }
    s->slots[i].ref = 0;
    s->slots[i].pend = 0;
    s->slots_used--;
}

/* 1 when store_compact() dropped id. */
static int
store_dropped_has(const struct store *s, uint64_t id)
{
    size_t lo = 0, hi = s->ndropped, mid;

    while (lo < hi) {
        mid = lo + (hi - lo) / 2;
        if (s->dropped[mid] == id)
            return 1;
        if (s->dropped[mid] < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return 0;
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
    else if ((rc = store_slot_add(s, id, (uint32_t)s->nrecs + 1, 0)) != 0)
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

/* The indexes of the k newest recs (k <= nrecs), newest first, in a new
 * array the caller frees. NULL when out of memory. */
static uint32_t *
store_newest(const struct store *s, size_t k)
{
    uint32_t *h, t;
    size_t hn = 0, i;

    if ((h = malloc((k ? k : 1) * sizeof *h)) == NULL)
        return NULL;
    if (k == 0)
        return h;
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
    return h;
}

/* ---- segments ----------------------------------------------------------- */

/* Indexes one line of segment segi, number lineno, at off: an item goes
 * into the index, a bad line gives its warning, and the line's record
 * goes to s->idx_out when the scan gathers them. 0, or a negative errno
 * when the store cannot be used. */
static int
store_line_index(struct store *s, uint32_t segi, uint32_t lineno, uint64_t off,
                 const char *line, size_t len)
{
    struct store_irec ir;
    const json_t *v;
    json_error_t jerr;
    struct feed_item it;
    struct store_rec r;
    json_t *o;
    int rc = 0;

    memset(&ir, 0, sizeof ir);
    ir.off = off;
    ir.len = (uint32_t)len;
    ir.seg = s->segs[segi].no;
    ir.line = lineno;
    o = json_loadb(line, len, 0, &jerr);
    if (lineno == 1 && json_is_object(o)) {
        v = json_object_get(o, "feedd_store");
        if (json_is_integer(v) && json_integer_value(v) > STORE_FORMAT) {
            store_fail(s,
                       "items/%06" PRIu32 ".jsonl: written by a newer feedd "
                       "(store format %lld); this one reads format %d",
                       ir.seg, (long long)json_integer_value(v), STORE_FORMAT);
            rc = -ENOTSUP;
            goto fail;
        }
        if (json_is_integer(v) && json_integer_value(v) >= 1) {
            ir.kind = STORE_IK_HEADER;
            goto done;
        }
        if (v != NULL) {
            ir.kind = STORE_IK_BADHDR;
            goto done;
        }
        ir.kind = STORE_IK_NOHDR;
    }
    if (!json_is_object(o) ||
        store_id_parse(store_json_str(o, "id"), &ir.id) != 0) {
        ir.id = 0;
        ir.kind |= STORE_IK_CORRUPT;
        goto done;
    }
    memset(&it, 0, sizeof it);
    it.stored = store_json_time(o, "stored");
    it.entry.published = store_json_time(o, "published");
    it.entry.updated = store_json_time(o, "updated");
    ir.kind |= STORE_IK_ITEM;
    ir.date = feed_item_date(&it);
    ir.hash = store_json_hash(o);
    r.date = ir.date;
    r.hash = ir.hash;
    r.off = off;
    r.seg = segi;
    r.len = ir.len;
    if ((rc = store_rec_put(s, ir.id, &r)) != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: %s", ir.seg, strerror(-rc));
        goto fail;
    }
done:
    store_line_warn(s, &ir);
    if (s->idx_out != NULL && store_irec_emit(s->idx_out, &ir) != 0) {
        rc = -ENOMEM;
        store_fail(s, "items/index: out of memory");
    }
fail: /* also the way out when all went well */
    json_decref(o);
    return rc;
}

/* A line of segment segi longer than STORE_LINE_MAX: skipped, with a
 * warning. 0 or -ENOMEM. */
static int
store_line_long(struct store *s, uint32_t segi, uint32_t lineno, uint64_t off,
                uint64_t len)
{
    struct store_irec ir;

    memset(&ir, 0, sizeof ir);
    ir.off = off;
    ir.len = (uint32_t)len;
    ir.seg = s->segs[segi].no;
    ir.line = lineno;
    ir.kind = STORE_IK_LONG;
    store_line_warn(s, &ir);
    if (len > UINT32_MAX) {
        /* No record can say how long it is: the index would have a gap. */
        s->idx_unusable = 1;
        return 0;
    }
    if (s->idx_out != NULL && store_irec_emit(s->idx_out, &ir) != 0) {
        store_fail(s, "items/index: out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Reads segment segi from byte start, where line lineno + 1 begins:
 * indexes its lines and cuts off a torn last line. *size is then the
 * segment's size and *lines the number of its last line. buf has
 * STORE_SCAN_BUF bytes. 0 or a negative errno, with s->err set. */
static int
store_seg_scan(struct store *s, uint32_t segi, char *buf, uint64_t start,
               uint32_t lineno, uint64_t *size, uint32_t *lines)
{
    const struct store_seg *seg = &s->segs[segi];
    uint64_t pos = start, line_off = start; /* the line being read */
    uint64_t line_len = 0;
    struct feed_buf carry; /* its start, when it spans reads */
    const char *p, *end, *nl;
    size_t chunk;
    ssize_t n;
    int rc = 0;

    feed_buf_init(&carry, 0);
    for (;;) {
        n = pread(seg->fd, buf, STORE_SCAN_BUF, (off_t)pos);
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
        pos += (uint64_t)n;
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
            if (lineno < UINT32_MAX)
                lineno++;
            if (line_len > STORE_LINE_MAX)
                rc = store_line_long(s, segi, lineno, line_off, line_len);
            else
                rc = store_line_index(s, segi, lineno, line_off, p, chunk);
            if (rc != 0)
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
                   "items/%06" PRIu32 ".jsonl:%" PRIu64 ": torn last line "
                   "cut off (%" PRIu64 " bytes)",
                   seg->no, (uint64_t)lineno + 1, line_len);
    }
    *size = line_off;
    *lines = lineno;
fail: /* also the way out when all went well */
    feed_buf_free(&carry);
    return rc;
}

/* 1 when ir is a record the scan could have written. */
static int
store_irec_valid(const struct store_irec *ir)
{
    unsigned kind = ir->kind & ~(unsigned)STORE_IK_NOHDR;

    if (kind < STORE_IK_HEADER || kind > STORE_IK_LONG)
        return 0;
    if (ir->kind & STORE_IK_NOHDR)
        return (kind == STORE_IK_ITEM || kind == STORE_IK_CORRUPT) &&
               ir->off == 0;
    if (kind == STORE_IK_HEADER || kind == STORE_IK_BADHDR)
        return ir->off == 0;
    return 1;
}

/* 1 when byte off of segment segi is a '\n', 0 when not, or -errno. */
static int
store_seg_newline_at(struct store *s, size_t segi, uint64_t off)
{
    char name[32], c;
    int fd, rc;

    snprintf(name, sizeof name, "%06" PRIu32 ".jsonl", s->segs[segi].no);
    if ((fd = openat(s->items_fd, name, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    rc = store_read_all(fd, &c, 1, off);
    close(fd);
    return rc != 0 ? rc : c == '\n';
}

/* Loads items/index (see the top of this file): the lines it records are
 * indexed as the scan would have, without reading them. Then the scan
 * must go on in segment *segi, from byte *off, after line *line, and
 * read the segments after it whole. 0 when the index was used (s->idx_fd
 * is then open on it for appends); 1 when the segments must be scanned
 * whole: there is no index, or it was unreadable or inconsistent (a
 * warning says so, and what it had loaded is undone); or -ENOMEM. */
static int
store_idx_load(struct store *s, char *buf, size_t *segi, uint64_t *off,
               uint32_t *line)
{
    const size_t warn_len = s->warn.len, nwarn = s->nwarn,
                 nwarn_dropped = s->nwarn_dropped;
    const size_t chunk = STORE_SCAN_BUF / STORE_IDX_REC * STORE_IDX_REC;
    const size_t ahead = STORE_IDX_PREFETCH * STORE_IDX_REC;
    unsigned char hdr[STORE_IDX_HDR];
    const unsigned char *p;
    struct store_irec ir;
    struct store_rec r;
    char why[160];
    uint64_t size, nrec, i = 0, pos, cov = 0, end;
    size_t cur = 0, want, at, j;
    uint32_t lines = 0;
    int fd, rc, started = 0;
    struct stat st;

    *segi = 0;
    *off = 0;
    *line = 0;
    why[0] = '\0';
    fd = openat(s->items_fd, "index", O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1; /* a new store, or one from before the index */
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, sizeof why, "%s", strerror(errno));
        goto bad;
    }
    size = (uint64_t)st.st_size;
    if (size < STORE_IDX_HDR || store_read_all(fd, hdr, sizeof hdr, 0) != 0 ||
        memcmp(hdr, STORE_IDX_MAGIC, 8) != 0) {
        snprintf(why, sizeof why, "not an index");
        goto bad;
    }
    if (store_get_le(hdr + 8, 4) != STORE_IDX_VERSION ||
        store_get_le(hdr + 12, 4) != STORE_IDX_REC) {
        snprintf(why, sizeof why, "an index of another version");
        goto bad;
    }
    nrec = (size - STORE_IDX_HDR) / STORE_IDX_REC;
    /* Each record stands for a line of at least one byte. */
    for (j = 0, end = 0; j < s->nsegs; j++)
        end += s->segs[j].size;
    if (nrec > end) {
        snprintf(why, sizeof why, "lists more lines than the segments hold");
        goto bad;
    }
    /* Sized once, so that a large store loads without a rehash. Records
     * of superseded lines make it a bound, not a count; and a failure
     * here is no failure: the tables grow as they go. */
    if (nrec < STORE_REC_MAX && store_recs_reserve(s, (size_t)nrec) == 0)
        (void)store_slots_reserve(s, (size_t)nrec);
    for (pos = STORE_IDX_HDR; i < nrec; pos += want) {
        want = (size_t)(nrec - i) * STORE_IDX_REC;
        if (want > chunk)
            want = chunk;
        if ((rc = store_read_all(fd, buf, want, pos)) != 0) {
            snprintf(why, sizeof why, "read: %s", strerror(-rc));
            goto bad;
        }
        for (at = 0; at < want; at += STORE_IDX_REC, i++) {
            p = (const unsigned char *)buf + at;
            /* The seen set is larger than the caches and IDs are random:
             * fetching the slot of a record a few ahead hides much of the
             * miss (a million items: 0.38 s -> 0.27 s). */
            if (at + ahead < want && s->slots_cap > 0)
                __builtin_prefetch(
                    &s->slots[store_slot_home(s->seed, s->slots_cap,
                                              store_get_le(p + ahead, 8))],
                    1);
            if (store_irec_decode(p, &ir) != 0 || !store_irec_valid(&ir)) {
                snprintf(why, sizeof why, "record %" PRIu64 " is damaged",
                         i + 1);
                goto bad;
            }
            if (!started || ir.seg != s->segs[cur].no) {
                if (started && cov != s->segs[cur].size) {
                    snprintf(why, sizeof why,
                             "items/%06" PRIu32 ".jsonl has lines it "
                             "does not list",
                             s->segs[cur].no);
                    goto bad;
                }
                cur += started;
                /* Segments it skips must be empty (made, never used). */
                while (cur < s->nsegs && s->segs[cur].no < ir.seg &&
                       s->segs[cur].size == 0)
                    cur++;
                if (cur == s->nsegs || s->segs[cur].no != ir.seg) {
                    snprintf(why, sizeof why,
                             "record %" PRIu64 " is for items/%06" PRIu32
                             ".jsonl, out of order or not there",
                             i + 1, ir.seg);
                    goto bad;
                }
                started = 1;
                cov = 0;
            }
            /* Lines follow each other with no gap, inside the segment. */
            if (ir.off != cov || ir.len >= s->segs[cur].size - cov) {
                snprintf(why, sizeof why,
                         "record %" PRIu64 " does not fit items/%06" PRIu32
                         ".jsonl",
                         i + 1, ir.seg);
                goto bad;
            }
            cov += (uint64_t)ir.len + 1;
            lines = ir.line;
            if ((ir.kind & ~STORE_IK_NOHDR) == STORE_IK_ITEM) {
                r.date = ir.date;
                r.hash = ir.hash;
                r.off = ir.off;
                r.seg = (uint32_t)cur;
                r.len = ir.len;
                if ((rc = store_rec_put(s, ir.id, &r)) != 0) {
                    store_fail(s, "items/index: %s", strerror(-rc));
                    goto fail;
                }
            }
            store_line_warn(s, &ir);
        }
    }
    /* Every segment listed still ends its last listed line where the
     * index says: a cheap check that it is the same file. */
    for (j = 0; started && j <= cur; j++) {
        end = j < cur ? s->segs[j].size : cov;
        if (end > 0 && store_seg_newline_at(s, j, end - 1) != 1) {
            snprintf(why, sizeof why,
                     "items/%06" PRIu32 ".jsonl does not match it",
                     s->segs[j].no);
            goto bad;
        }
    }
    if ((size - STORE_IDX_HDR) % STORE_IDX_REC != 0) {
        if (ftruncate(fd, (off_t)(STORE_IDX_HDR + nrec * STORE_IDX_REC)) != 0) {
            snprintf(why, sizeof why, "cutting off a torn record: %s",
                     strerror(errno));
            goto bad;
        }
        store_warn(s, "items/index: torn last record cut off");
    }
    s->idx_fd = fd;
    s->idx_size = STORE_IDX_HDR + nrec * STORE_IDX_REC;
    if (started) {
        *segi = cur;
        *off = cov;
        *line = lines;
    }
    return 0;
bad:
    /* Back to nothing loaded, and none of its warnings. */
    s->nrecs = 0;
    if (s->slots != NULL)
        memset(s->slots, 0, s->slots_cap * sizeof *s->slots);
    s->slots_used = 0;
    s->warn.len = warn_len;
    if (s->warn.data != NULL)
        s->warn.data[warn_len] = '\0';
    s->nwarn = nwarn;
    s->nwarn_dropped = nwarn_dropped;
    store_warn(s, "items/index: %s; rebuilt from the segments", why);
    if (fd >= 0)
        close(fd);
    return 1;
fail:
    close(fd);
    return rc;
}

/* Puts the records the scan at open gathered (out) into items/index: a
 * whole new file when rebuild is set (out then starts with the header),
 * else appended. The index is a cache, so a failure only warns, and stops
 * the appends: what it holds stays a gapless prefix of the log. */
static void
store_idx_save(struct store *s, const struct feed_buf *out, int rebuild)
{
    size_t plen = strlen(s->dir) + sizeof "/items/index";
    char *path = NULL;
    int rc = 0;

    if (s->idx_unusable) {
        store_warn(s, "items/index: a line is too long to be listed; "
                      "each start scans the segments");
        /* Not a stale index either: it would be rebuilt at each start. */
        if (rebuild)
            (void)unlinkat(s->items_fd, "index", 0);
        rc = -EFBIG;
        goto fail;
    }
    if (!rebuild) {
        if (out->len == 0)
            return;
        if ((rc = store_write_all(s->idx_fd, out->data, out->len,
                                  s->idx_size)) != 0)
            goto warn;
        s->idx_size += out->len;
        return;
    }
    if ((path = malloc(plen)) == NULL) {
        rc = -ENOMEM;
        goto warn;
    }
    snprintf(path, plen, "%s/items/index", s->dir);
    /* Whole or not at all: a rebuild cut short must not look like an
     * index that covers less than it says. */
    if ((rc = store_file_replace(path, out->data, out->len)) != 0)
        goto warn;
    s->idx_fd = openat(s->items_fd, "index", O_RDWR | O_CLOEXEC);
    if (s->idx_fd < 0) {
        rc = -errno;
        goto warn;
    }
    s->idx_size = out->len;
    free(path);
    return;
warn:
    store_warn(s, "items/index: %s; the next start scans the segments",
               strerror(-rc));
fail:
    free(path);
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    s->idx_fd = -1;
}

static int
store_seg_cmp(const void *a, const void *b)
{
    const struct store_seg *x = a, *y = b;

    return x->no < y->no ? -1 : x->no > y->no;
}

/* Finds the segments in items/, loads what items/index lists of them and
 * scans the rest in order. 0 or a negative errno, with s->err set. */
static int
store_segs_load(struct store *s)
{
    char name[32], *buf = NULL;
    struct feed_buf out;
    struct dirent *de;
    struct store_seg *seg;
    unsigned long no;
    struct stat st;
    DIR *d = NULL;
    char *endp;
    uint64_t from_off = 0;
    uint32_t from_line = 0, lines = 0;
    size_t i, from = 0;
    void *p;
    int fd, rc = 0, rebuild;

    feed_buf_init(&out, 0);
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
        if (fstatat(s->items_fd, name, &st, 0) != 0) {
            rc = -errno;
            store_fail(s, "items/%s: %s", name, strerror(errno));
            goto fail;
        }
        p = store_array_grow(s->segs, &s->segs_cap, s->nsegs, sizeof *s->segs);
        if (p == NULL) {
            rc = -ENOMEM;
            store_fail(s, "items: out of memory");
            goto fail;
        }
        s->segs = p;
        s->segs[s->nsegs].no = (uint32_t)no;
        s->segs[s->nsegs].size = (uint64_t)st.st_size;
        s->segs[s->nsegs++].fd = -1;
    }
    if (errno != 0) {
        rc = -errno;
        store_fail(s, "items: %s", strerror(errno));
        goto fail;
    }
    if (s->nsegs > 1)
        qsort(s->segs, s->nsegs, sizeof *s->segs, store_seg_cmp);
    if ((buf = malloc(STORE_SCAN_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items: out of memory");
        goto fail;
    }
    if ((rc = store_idx_load(s, buf, &from, &from_off, &from_line)) < 0)
        goto fail;
    rebuild = rc == 1;
    rc = 0;
    if (rebuild && store_file_header(&out, STORE_IDX_MAGIC, STORE_IDX_VERSION,
                                     STORE_IDX_REC) != 0) {
        rc = -ENOMEM;
        store_fail(s, "items/index: out of memory");
        goto fail;
    }
    /* The rest, from where the index ends: the whole store when there is
     * none, else the lines of the last batches, whose records a crash
     * kept from the index; and always the end of the last segment, where
     * a torn line may be. */
    s->idx_out = &out;
    for (i = from; i < s->nsegs; i++) {
        seg = &s->segs[i];
        snprintf(name, sizeof name, "%06" PRIu32 ".jsonl", seg->no);
        seg->fd = openat(s->items_fd, name, O_RDWR | O_CLOEXEC);
        if (seg->fd < 0) {
            rc = -errno;
            store_fail(s, "items/%s: %s", name, strerror(errno));
            goto fail;
        }
        if ((rc = store_seg_scan(s, (uint32_t)i, buf, i == from ? from_off : 0,
                                 i == from ? from_line : 0, &seg->size,
                                 &lines)) != 0)
            goto fail;
        /* Only the last one stays open: it takes the appends. */
        if (i + 1 < s->nsegs) {
            close(seg->fd);
            seg->fd = -1;
        }
    }
    s->idx_out = NULL;
    if (s->nsegs > 0) {
        s->tail = s->segs[s->nsegs - 1].size;
        s->tail_lines = lines;
    }
    store_idx_save(s, &out, rebuild);
fail: /* also the way out when all went well */
    s->idx_out = NULL;
    feed_buf_free(&out);
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
    if (s->nsegs > 0) {
        s->segs[s->nsegs - 1].size = s->tail;
        if (s->segs[s->nsegs - 1].fd >= 0) {
            close(s->segs[s->nsegs - 1].fd);
            s->segs[s->nsegs - 1].fd = -1;
        }
    }
    s->segs[s->nsegs].no = no;
    s->segs[s->nsegs].size = 0;
    s->segs[s->nsegs++].fd = fd;
    s->tail = 0;
    s->tail_lines = 0;
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

/* 1 when the folder dir_fd/name holds nothing, 0 when it holds something,
 * or -errno. */
static int
store_dir_empty(int dir_fd, const char *name)
{
    struct dirent *de;
    DIR *d;
    int fd, empty = 1;

    fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    if ((d = fdopendir(fd)) == NULL) {
        close(fd);
        return -errno;
    }
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            empty = 0;
    closedir(d);
    return empty;
}

/* Finishes or undoes a compaction that a crash cut short. store_compact()
 * writes items.new/ whole and syncs it, renames items/ to items.old/ and
 * items.new/ to items/, syncs the state folder and only then removes
 * items.old/. So:
 *   - items.old/ without items/: the crash came between the renames; the
 *     old generation, complete, goes back (the new one is dropped below,
 *     as if the compaction had not begun);
 *   - items.new/ beside items/: an unfinished new generation, removed;
 *   - items.old/ beside items/: the swap is done, the old one is removed.
 * An empty items/ beside items.old/ was made by an open that did not know
 * about compaction: items.old/ wins over it. 0 or a negative errno, with
 * s->err set. */
static int
store_gen_recover(struct store *s)
{
    int items, old, new, rc;

    if ((items = store_dir_exists(s->dir_fd, "items")) < 0 ||
        (old = store_dir_exists(s->dir_fd, "items.old")) < 0 ||
        (new = store_dir_exists(s->dir_fd, "items.new")) < 0) {
        rc = items < 0 ? items : old < 0 ? old : new;
        store_fail(s, "%s/items: %s", s->dir, strerror(-rc));
        return rc;
    }
    if (old && items && store_dir_empty(s->dir_fd, "items") == 1 &&
        unlinkat(s->dir_fd, "items", AT_REMOVEDIR) == 0)
        items = 0;
    if (old && !items) {
        if (renameat(s->dir_fd, "items.old", s->dir_fd, "items") != 0) {
            rc = -errno;
            store_fail(s, "%s/items.old: rename to items: %s", s->dir,
                       strerror(errno));
            return rc;
        }
        if ((rc = store_dir_sync(s->dir_fd)) != 0) {
            store_fail(s, "%s: fsync: %s", s->dir, strerror(-rc));
            return rc;
        }
        store_warn(s, "items: a compaction was cut short; the items "
                      "from before it are back");
        old = 0;
    }
    if (new && (rc = store_dir_remove(s->dir_fd, "items.new")) != 0)
        store_warn(s,
                   "items.new: left by a compaction cut short, cannot "
                   "be removed: %s",
                   strerror(-rc));
    else if (new)
        store_warn(s, "items.new: left by a compaction cut short, removed");
    if (old && (rc = store_dir_remove(s->dir_fd, "items.old")) != 0)
        store_warn(s,
                   "items.old: left by a compaction, cannot be "
                   "removed: %s",
                   strerror(-rc));
    return 0;
}

/* Reads items/dropped when there is one. A damaged file only warns: the
 * worst that can come of losing it is that dropped items come back. 0 or
 * -ENOMEM, with s->err set. */
static int
store_dropped_load(struct store *s)
{
    unsigned char hdr[STORE_DROP_HDR], *raw = NULL;
    struct stat st;
    uint64_t n, i;
    int fd, rc = 0, sorted = 1;

    fd = openat(s->items_fd, "dropped", O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        store_warn(s, "items/dropped: %s; the items it lists may come back",
                   strerror(errno));
        goto fail;
    }
    if (st.st_size < STORE_DROP_HDR ||
        store_read_all(fd, hdr, sizeof hdr, 0) != 0 ||
        memcmp(hdr, STORE_DROP_MAGIC, 8) != 0 ||
        store_get_le(hdr + 8, 4) != STORE_DROP_VERSION) {
        store_warn(s, "items/dropped: not a list of dropped IDs, ignored; "
                      "the items it lists may come back");
        goto fail;
    }
    n = ((uint64_t)st.st_size - STORE_DROP_HDR) / 8;
    if (((uint64_t)st.st_size - STORE_DROP_HDR) % 8 != 0)
        store_warn(s, "items/dropped: torn at the end; the last ID is lost");
    if (n > SIZE_MAX / 8 / 2 || (raw = malloc(n ? n * 8 : 1)) == NULL ||
        (s->dropped = malloc((n ? n : 1) * sizeof *s->dropped)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items/dropped: out of memory");
        goto fail;
    }
    if ((rc = store_read_all(fd, raw, n * 8, STORE_DROP_HDR)) != 0) {
        store_warn(s,
                   "items/dropped: read: %s; the items it lists may "
                   "come back",
                   strerror(-rc));
        rc = 0;
        goto fail;
    }
    for (i = 0; i < n; i++) {
        s->dropped[i] = store_get_le(raw + i * 8, 8);
        if (i > 0 && s->dropped[i] <= s->dropped[i - 1])
            sorted = 0;
    }
    s->ndropped = n;
    /* The lookups bisect: a file edited out of order is still usable
     * once sorted (and duplicates do no harm). */
    if (!sorted) {
        store_warn(s, "items/dropped: out of order, sorted");
        qsort(s->dropped, n, sizeof *s->dropped, store_u64_cmp);
    }
fail: /* also the way out when all went well */
    free(raw);
    if (fd >= 0)
        close(fd);
    return rc;
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
    s->dir_fd = s->items_fd = s->idx_fd = -1;
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
    /* Before items/ is made: a crash may have left it renamed. */
    if (store_gen_recover(s) != 0)
        goto fail;
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
    if (store_dropped_load(s) != 0 || store_segs_load(s) != 0 ||
        store_states_load(s) != 0)
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
    if (s->idx_fd >= 0)
        close(s->idx_fd);
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
    free(s->dropped);
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
    return store_slot_find(s, v) != NULL || store_dropped_has(s, v);
}

int
store_lookup(const struct store *s, const char *id, uint64_t *hash)
{
    const struct store_slot *slot;
    uint64_t v, h;

    if (store_id_parse(id, &v) != 0)
        return -EINVAL;
    if ((slot = store_slot_find(s, v)) != NULL)
        h = slot->pend != 0 ? s->pends[slot->pend - 1].hash
                            : s->recs[slot->ref - 1].hash;
    else if (store_dropped_has(s, v))
        h = 0;
    else
        return 0;
    if (hash != NULL)
        *hash = h;
    return 1;
}

size_t
store_count(const struct store *s)
{
    return s->nrecs;
}

uint64_t
store_waste(const struct store *s, uint64_t *total)
{
    uint64_t all = 0, live = 0;
    size_t i;

    for (i = 0; i < s->nsegs; i++)
        all += s->segs[i].size;
    for (i = 0; i < s->nrecs; i++)
        live += s->recs[i].len;
    if (total != NULL)
        *total = all;
    return all > live ? all - live : 0;
}

/* ,"key":[strings] of the first max non-NULL strings of a[0, n),
 * appended to b. 0, or non-zero when out of memory. */
static int
store_put_strs(struct feed_buf *b, const char *key, const char *const *a,
               size_t n, size_t max)
{
    size_t i, k;

    if (feed_buf_printf(b, ",\"%s\":[", key) != 0)
        return 1;
    for (i = k = 0; a != NULL && i < n && k < max; i++) {
        if (a[i] == NULL)
            continue;
        if ((k++ > 0 && feed_buf_puts(b, ",") != 0) ||
            feed_buf_json(b, a[i]) != 0)
            return 1;
    }
    return feed_buf_puts(b, "]") != 0;
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
    if (feed_buf_puts(b, "]") != 0)
        return 1;
    return store_put_strs(b, "categories", e->categories, e->ncategories,
                          STORE_CATEGORIES_MAX);
}

/* The line of it (id already parsed), '\n' included, appended to b.
 * "also", "changed" and "hash" are additive keys too (see the top of
 * this file). 0, or non-zero when out of memory. */
static int
store_item_line(struct feed_buf *b, uint64_t id, const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;

    return feed_buf_printf(b, "{\"id\":\"%016" PRIx64 "\"", id) != 0 ||
           store_put_str(b, "feed", it->feed) != 0 ||
           store_put_str(b, "feed_title", it->feed_title) != 0 ||
           store_put_str(b, "feed_url", it->feed_url) != 0 ||
           store_put_strs(b, "also", it->also, it->nalso, STORE_ALSO_MAX) !=
               0 ||
           store_put_time(b, "stored", it->stored) != 0 ||
           store_put_time(b, "changed", it->changed) != 0 ||
           feed_buf_printf(b, ",\"hash\":\"%016" PRIx64 "\"", it->hash) != 0 ||
           (it->shared && feed_buf_puts(b, ",\"shared\":true") != 0) ||
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
    int rc, fresh;

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
    /* An ID already stored is an update: its slot keeps pointing at the
     * stored version until the commit, so that a failed one leaves the
     * item as it was. pend points at the latest pending version. */
    slot = store_slot_find(s, id);
    fresh = slot == NULL || slot->ref == STORE_SLOT_PENDING;
    if (slot != NULL)
        slot->pend = (uint32_t)s->npends + 1;
    else if ((rc = store_slot_add(s, id, STORE_SLOT_PENDING,
                                  (uint32_t)s->npends + 1)) != 0)
        goto fail;
    pe = &s->pends[s->npends++];
    pe->id = id;
    pe->date = feed_item_date(&it);
    pe->hash = it.hash;
    pe->off = start;
    pe->len = (uint32_t)len;
    pe->fresh = fresh;
    return 0;
fail:
    s->pend.len = start;
    if (s->pend.data != NULL)
        s->pend.data[start] = '\0';
    return rc;
}

/* Forgets the pending batch. Unless it was committed, its IDs that had
 * no rec are no longer seen (unless dropped before), and the others point
 * at their stored version again, as before the batch. */
static void
store_batch_drop(struct store *s, int committed)
{
    struct store_slot *slot;
    size_t i;

    for (i = 0; i < s->npends; i++) {
        /* A fresh ID added twice was removed at its first version. */
        if ((slot = store_slot_find(s, s->pends[i].id)) == NULL)
            continue;
        assert(committed || !s->pends[i].fresh ||
               slot->ref == STORE_SLOT_PENDING);
        if (!committed && s->pends[i].fresh)
            store_slot_del(s, slot);
        else
            slot->pend = 0;
    }
    s->npends = 0;
    feed_buf_reset(&s->pend);
}

/* Appends the records of a committed batch (b) to items/index; ok is 0
 * when b could not be built whole. A failure only stops the appends for
 * good: the index then stays a gapless prefix of the log, and the next
 * open scans what it does not list. */
static void
store_idx_append(struct store *s, const struct feed_buf *b, int ok)
{
    int rc;

    if (s->idx_fd < 0)
        return;
    rc =
        ok ? store_write_all(s->idx_fd, b->data, b->len, s->idx_size) : -ENOMEM;
    if (rc == 0) {
        s->idx_size += b->len;
        return;
    }
    store_warn(s, "items/index: %s; the next start scans the segments",
               strerror(-rc));
    close(s->idx_fd);
    s->idx_fd = -1;
}

int
store_commit(struct store *s)
{
    struct store_irec ir;
    struct feed_buf ib;
    struct store_rec r;
    uint64_t base;
    size_t hlen = 0, i;
    uint32_t segi, no;
    int fd, rc, ok = 1;

    if (s->npends == 0)
        return 0;
    if ((rc = store_recs_reserve(s, s->npends)) != 0) {
        store_fail(s, "items: %s", strerror(-rc));
        goto fail;
    }
    /* A batch that failed and could not be cut off must go before this
     * one lands after it, or the segment is left behind. */
    if (s->tail_dirty) {
        segi = (uint32_t)(s->nsegs - 1);
        if (ftruncate(s->segs[segi].fd, (off_t)s->tail) != 0) {
            rc = -errno;
            store_fail(s, "items/%06" PRIu32 ".jsonl: truncate: %s",
                       s->segs[segi].no, strerror(errno));
            goto fail;
        }
        s->tail_dirty = 0;
    }
    if ((s->nsegs == 0 || s->tail >= store_segment_max) &&
        (rc = store_seg_new(s)) != 0)
        goto fail;
    segi = (uint32_t)(s->nsegs - 1);
    no = s->segs[segi].no;
    fd = s->segs[segi].fd;
    base = s->tail;
    if (base == 0)
        hlen = sizeof STORE_SEG_HEADER - 1;
    rc = store_write_all(fd, STORE_SEG_HEADER, hlen, base);
    if (rc == 0)
        rc = store_write_all(fd, s->pend.data, s->pend.len, base + hlen);
    if (rc == 0 && fdatasync(fd) != 0)
        rc = -errno;
    /* A new segment's name must be as durable as its contents. */
    if (rc == 0 && s->items_unsynced && fsync(s->items_fd) != 0)
        rc = -errno;
    if (rc != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: append: %s", no,
                   strerror(-rc));
        if (ftruncate(fd, (off_t)base) != 0)
            s->tail_dirty = 1;
        goto fail;
    }
    s->items_unsynced = 0;
    s->tail = base + hlen + s->pend.len;
    feed_buf_init(&ib, 0);
    memset(&ir, 0, sizeof ir);
    ir.seg = no;
    if (hlen > 0) {
        ir.kind = STORE_IK_HEADER;
        ir.len = (uint32_t)hlen - 1;
        ir.line = s->tail_lines = 1;
        ok = store_irec_emit(&ib, &ir) == 0;
    }
    ir.kind = STORE_IK_ITEM;
    for (i = 0; i < s->npends; i++) {
        r.date = s->pends[i].date;
        r.hash = s->pends[i].hash;
        r.off = base + hlen + s->pends[i].off;
        r.seg = segi;
        r.len = s->pends[i].len - 1;
        /* Cannot fail: the IDs are in the set and the recs reserved. Of
         * two versions in the batch, the later is put last and wins. */
        rc = store_rec_put(s, s->pends[i].id, &r);
        assert(rc == 0);
        ir.id = s->pends[i].id;
        ir.date = r.date;
        ir.hash = r.hash;
        ir.off = r.off;
        ir.len = r.len;
        if (s->tail_lines < UINT32_MAX)
            s->tail_lines++;
        ir.line = s->tail_lines;
        ok = ok && store_irec_emit(&ib, &ir) == 0;
    }
    store_idx_append(s, &ib, ok);
    feed_buf_free(&ib);
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
    const char *also[STORE_ALSO_MAX];
};

/* The first max strings of the array o[key] into out, borrowed from o;
 * members that are not strings are skipped. Their count. */
static size_t
store_strs_from_json(const json_t *o, const char *key, const char **out,
                     size_t max)
{
    const json_t *a = json_object_get(o, key);
    size_t i, n;

    for (i = n = 0; i < json_array_size(a) && n < max; i++)
        if ((out[n] = json_string_value(json_array_get(a, i))) != NULL)
            n++;
    return n;
}

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
    n = store_strs_from_json(o, "categories", l->cat, STORE_CATEGORIES_MAX);
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
    it->nalso = store_strs_from_json(o, "also", l->also, STORE_ALSO_MAX);
    it->also = it->nalso > 0 ? l->also : NULL;
    it->stored = store_json_time(o, "stored");
    it->changed = store_json_time(o, "changed");
    it->hash = store_json_hash(o);
    it->shared = json_is_true(json_object_get(o, "shared"));
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
    uint32_t *h;
    size_t k, i;
    json_t *o;
    int rc = 0;

    k = n < s->nrecs ? n : s->nrecs;
    if (k == 0)
        return 0;
    if ((h = store_newest(s, k)) == NULL) {
        store_fail(s, "items: out of memory");
        return -ENOMEM;
    }
    /* One rec per ID: an update replaced its item's rec, so no item
     * comes twice. */
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

int
store_get(struct store *s, const char *id, store_item_fn *fn, void *arg)
{
    const struct store_slot *slot;
    struct store_lists lists;
    struct feed_item it;
    json_error_t jerr;
    json_t *o = NULL;
    uint64_t v;
    int rc;

    if (store_id_parse(id, &v) != 0)
        return -EINVAL;
    if ((slot = store_slot_find(s, v)) == NULL ||
        (slot->pend == 0 && slot->ref == STORE_SLOT_PENDING))
        return -ENOENT;
    if (slot->pend != 0) {
        /* The latest version is still in the pending batch. */
        const struct store_pend *pd = &s->pends[slot->pend - 1];

        o = json_loadb(s->pend.data + pd->off, pd->len, 0, &jerr);
    } else if ((rc = store_rec_load(s, &s->recs[slot->ref - 1], &o)) != 0) {
        return rc;
    }
    if (o == NULL || store_item_from_json(&it, o, &lists) != 0) {
        json_decref(o);
        store_fail(s, "items: the record of %s does not read back", id);
        return -EIO;
    }
    rc = fn(&it, arg);
    json_decref(o);
    return rc;
}

/* ---- compaction --------------------------------------------------------- */

/* An item that store_compact() keeps, in the order of the log. */
struct store_keep {
    uint64_t off;
    uint32_t seg;
    uint32_t rec; /* its index in s->recs */
};

static int
store_keep_cmp(const void *a, const void *b)
{
    const struct store_keep *x = a, *y = b;

    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* The lines of the old generation, read ahead in one buffer. */
struct store_reader {
    char *buf;
    size_t cap, len;
    uint32_t seg; /* index in s->segs of what buf holds, or UINT32_MAX */
    uint64_t at;  /* where buf[0] is in it */
};

/* A new generation of items/ being written in items.new/. */
struct store_gen {
    int dir_fd; /* items.new/ */
    struct store_seg *segs;
    size_t nsegs, segs_cap;
    uint64_t size;          /* of the last segment, out included */
    uint32_t lines;         /* of the last segment */
    struct feed_buf out;    /* the last segment's bytes not yet written */
    uint64_t out_at;        /* where out goes */
    int idx_fd;             /* items.new/index */
    uint64_t idx_size;      /* idx included */
    struct feed_buf idx;    /* records not yet written */
    uint64_t idx_at;        /* where idx goes */
    struct store_rec *recs; /* the kept items, with their new places */
    size_t nrecs;
};

/* Writes what g holds back, when there is more than flush_at of it. 0 or
 * -errno with s->err set. */
static int
store_gen_flush(struct store *s, struct store_gen *g, size_t flush_at)
{
    int rc;

    if (g->out.len > flush_at) {
        rc = store_write_all(g->segs[g->nsegs - 1].fd, g->out.data, g->out.len,
                             g->out_at);
        if (rc != 0) {
            store_fail(s, "items.new/%06" PRIu32 ".jsonl: write: %s",
                       g->segs[g->nsegs - 1].no, strerror(-rc));
            return rc;
        }
        g->out_at += g->out.len;
        feed_buf_reset(&g->out);
    }
    if (g->idx.len > flush_at) {
        rc = store_write_all(g->idx_fd, g->idx.data, g->idx.len, g->idx_at);
        if (rc != 0) {
            store_fail(s, "items.new/index: write: %s", strerror(-rc));
            return rc;
        }
        g->idx_at += g->idx.len;
        feed_buf_reset(&g->idx);
    }
    return 0;
}

/* Writes and syncs the last segment of g; it stays open. */
static int
store_gen_seg_end(struct store *s, struct store_gen *g)
{
    struct store_seg *seg = &g->segs[g->nsegs - 1];
    int rc;

    if ((rc = store_gen_flush(s, g, 0)) != 0)
        return rc;
    if (fsync(seg->fd) != 0) {
        store_fail(s, "items.new/%06" PRIu32 ".jsonl: fsync: %s", seg->no,
                   strerror(errno));
        return -errno;
    }
    seg->size = g->size;
    return 0;
}

/* Ends the last segment of g and starts the next, with its header. */
static int
store_gen_seg_new(struct store *s, struct store_gen *g)
{
    struct store_irec ir;
    char name[32];
    void *p;
    int rc;

    if (g->nsegs > 0) {
        if ((rc = store_gen_seg_end(s, g)) != 0)
            return rc;
        close(g->segs[g->nsegs - 1].fd);
        g->segs[g->nsegs - 1].fd = -1;
    }
    p = store_array_grow(g->segs, &g->segs_cap, g->nsegs, sizeof *g->segs);
    if (p == NULL) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->segs = p;
    g->segs[g->nsegs].no = (uint32_t)g->nsegs + 1;
    g->segs[g->nsegs].size = 0;
    snprintf(name, sizeof name, "%06zu.jsonl", g->nsegs + 1);
    g->segs[g->nsegs].fd =
        openat(g->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->segs[g->nsegs].fd < 0) {
        store_fail(s, "items.new/%s: create: %s", name, strerror(errno));
        return -errno;
    }
    g->nsegs++;
    g->size = g->out_at = 0;
    memset(&ir, 0, sizeof ir);
    ir.kind = STORE_IK_HEADER;
    ir.len = sizeof STORE_SEG_HEADER - 2;
    ir.seg = (uint32_t)g->nsegs;
    ir.line = g->lines = 1;
    if (feed_buf_puts(&g->out, STORE_SEG_HEADER) != 0 ||
        store_irec_emit(&g->idx, &ir) != 0) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->size = sizeof STORE_SEG_HEADER - 1;
    g->idx_size += STORE_IDX_REC;
    return 0;
}

/* The line of rec r, read through rd, appended to out with its '\n'. 0;
 * 1 when the line no longer fits its place (a warning says so); or a
 * negative errno, with s->err set. */
static int
store_line_copy(struct store *s, struct store_reader *rd,
                const struct store_rec *r, struct feed_buf *out)
{
    const char *p;
    char *nb;
    ssize_t n;
    int fd;

    if (rd->seg != r->seg || r->off < rd->at ||
        r->off - rd->at + r->len > rd->len) {
        if (r->len > rd->cap) {
            if ((nb = realloc(rd->buf, r->len)) == NULL) {
                store_fail(s, "items: out of memory");
                return -ENOMEM;
            }
            rd->buf = nb;
            rd->cap = r->len;
        }
        if ((fd = store_seg_fd(s, r->seg)) < 0)
            return fd;
        rd->seg = r->seg;
        rd->at = r->off;
        for (rd->len = 0; rd->len < rd->cap; rd->len += (size_t)n) {
            n = pread(fd, rd->buf + rd->len, rd->cap - rd->len,
                      (off_t)(rd->at + rd->len));
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }
            if (n < 0) {
                rd->seg = UINT32_MAX;
                store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s",
                           s->segs[r->seg].no, strerror(errno));
                return -errno;
            }
            if (n == 0)
                break;
        }
    }
    p = rd->buf + (r->off - rd->at);
    /* Lines are copied as they are, unparsed; one that no longer fits its
     * place was changed behind the store's back. */
    if (r->len > rd->len - (size_t)(r->off - rd->at) ||
        memchr(p, '\n', r->len) != NULL) {
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl: record at byte %" PRIu64
                   " changed on disk, dropped",
                   s->segs[r->seg].no, r->off);
        return 1;
    }
    if (feed_buf_append(out, p, r->len) != 0 ||
        feed_buf_append(out, "\n", 1) != 0) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    return 0;
}

/* Writes the items of a new generation of the store in items.new/: the
 * kept ones keep[0, nkeep), in the order of the log, and their index,
 * all synced. map[rec] becomes the new rec of each plus one; a line that
 * no longer reads is left out, its ID appended to gone[*ngone]. 0 or a
 * negative errno, with s->err set; g holds what was made, for the caller
 * to free. */
static int
store_gen_write(struct store *s, struct store_gen *g,
                const struct store_keep *keep, size_t nkeep,
                const uint64_t *ids, uint32_t *map, uint64_t *gone,
                size_t *ngone)
{
    const struct store_rec *r;
    struct store_reader rd;
    struct store_irec ir;
    size_t i;
    int rc;

    memset(&rd, 0, sizeof rd);
    rd.seg = UINT32_MAX;
    if ((rc = store_dir_remove(s->dir_fd, "items.new")) != 0 ||
        mkdirat(s->dir_fd, "items.new", 0755) != 0) {
        rc = rc ? rc : -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(-rc));
        goto fail;
    }
    g->dir_fd =
        openat(s->dir_fd, "items.new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g->idx_fd = g->dir_fd < 0
                    ? -1
                    : openat(g->dir_fd, "index",
                             O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->idx_fd < 0) {
        rc = -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (store_file_header(&g->idx, STORE_IDX_MAGIC, STORE_IDX_VERSION,
                          STORE_IDX_REC) != 0 ||
        (g->recs = malloc((nkeep ? nkeep : 1) * sizeof *g->recs)) == NULL ||
        (rd.buf = malloc(STORE_COPY_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items.new: out of memory");
        goto fail;
    }
    rd.cap = STORE_COPY_BUF;
    g->idx_size = STORE_IDX_HDR;
    memset(&ir, 0, sizeof ir);
    for (i = 0; i < nkeep; i++) {
        r = &s->recs[keep[i].rec];
        if ((g->nsegs == 0 || g->size >= store_segment_max) &&
            (rc = store_gen_seg_new(s, g)) != 0)
            goto fail;
        if ((rc = store_line_copy(s, &rd, r, &g->out)) < 0)
            goto fail;
        if (rc == 1) {
            /* Dropped, and so still seen. */
            gone[(*ngone)++] = ids[keep[i].rec];
            rc = 0;
            continue;
        }
        map[keep[i].rec] = (uint32_t)g->nrecs + 1;
        g->recs[g->nrecs] = *r;
        g->recs[g->nrecs].seg = (uint32_t)g->nsegs - 1;
        g->recs[g->nrecs++].off = g->size;
        ir.kind = STORE_IK_ITEM;
        ir.id = ids[keep[i].rec];
        ir.date = r->date;
        ir.hash = r->hash;
        ir.off = g->size;
        ir.len = r->len;
        ir.seg = (uint32_t)g->nsegs;
        ir.line = g->lines < UINT32_MAX ? ++g->lines : g->lines;
        if (store_irec_emit(&g->idx, &ir) != 0) {
            rc = -ENOMEM;
            store_fail(s, "items.new: out of memory");
            goto fail;
        }
        g->size += (uint64_t)r->len + 1;
        g->idx_size += STORE_IDX_REC;
        if ((rc = store_gen_flush(s, g, STORE_COPY_BUF)) != 0)
            goto fail;
    }
    if (g->nsegs > 0 && (rc = store_gen_seg_end(s, g)) != 0)
        goto fail;
    if ((rc = store_gen_flush(s, g, 0)) != 0)
        goto fail;
    /* Synced like the rest: the index is only a cache, but rebuilding
     * it costs a full scan. */
    if (fsync(g->idx_fd) != 0) {
        rc = -errno;
        store_fail(s, "items.new/index: fsync: %s", strerror(errno));
    }
fail: /* also the way out when all went well */
    free(rd.buf);
    return rc;
}

/* Ends the new generation g: its items/dropped (dropped[0, ndropped)),
 * then a sync of the folder, so that every name in it is as durable as
 * the file. 0 or a negative errno, with s->err set. */
static int
store_gen_finish(struct store *s, struct store_gen *g, const uint64_t *dropped,
                 size_t ndropped)
{
    unsigned char v[8];
    struct feed_buf b;
    size_t i;
    int fd = -1, rc = 0;

    feed_buf_init(&b, 0);
    if (ndropped > 0) {
        if (store_file_header(&b, STORE_DROP_MAGIC, STORE_DROP_VERSION, 0) != 0)
            goto oom;
        for (i = 0; i < ndropped; i++) {
            store_put_le(v, dropped[i], 8);
            if (feed_buf_append(&b, v, sizeof v) != 0)
                goto oom;
        }
        fd = openat(g->dir_fd, "dropped",
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            store_fail(s, "items.new/dropped: %s", strerror(errno));
            goto fail;
        }
        if ((rc = store_write_all(fd, b.data, b.len, 0)) == 0 && fsync(fd) != 0)
            rc = -errno;
        if (rc != 0) {
            store_fail(s, "items.new/dropped: %s", strerror(-rc));
            goto fail;
        }
    }
    if ((rc = store_dir_sync(g->dir_fd)) != 0)
        store_fail(s, "items.new: fsync: %s", strerror(-rc));
    goto fail;
oom:
    rc = -ENOMEM;
    store_fail(s, "items.new: out of memory");
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    feed_buf_free(&b);
    return rc;
}

/* Frees what g holds; its folder stays. */
static void
store_gen_free(struct store_gen *g)
{
    size_t i;

    for (i = 0; i < g->nsegs; i++)
        if (g->segs[i].fd >= 0)
            close(g->segs[i].fd);
    if (g->idx_fd >= 0)
        close(g->idx_fd);
    if (g->dir_fd >= 0)
        close(g->dir_fd);
    free(g->segs);
    free(g->recs);
    feed_buf_free(&g->out);
    feed_buf_free(&g->idx);
}

/* a[0, na) and b[0, nb), both sorted, merged into a new sorted array
 * without duplicates; *n is its length. NULL when out of memory. */
static uint64_t *
store_merge(const uint64_t *a, size_t na, const uint64_t *b, size_t nb,
            size_t *n)
{
    uint64_t *m, v;
    size_t i = 0, j = 0, k = 0;

    if (na > SIZE_MAX / 8 - nb - 1 ||
        (m = malloc((na + nb + 1) * sizeof *m)) == NULL)
        return NULL;
    while (i < na || j < nb) {
        if (j == nb || (i < na && a[i] <= b[j]))
            v = a[i++];
        else
            v = b[j++];
        if (k == 0 || m[k - 1] != v)
            m[k++] = v;
    }
    *n = k;
    return m;
}

/* Flags of store_compact()'s verdict on each rec. */
#define STORE_KEEP 1   /* it stays */
#define STORE_PINNED 2 /* a pending version of it waits: it stays */
#define STORE_RANKED 4 /* among the newest keep_items */

int
store_compact(struct store *s, int64_t now, int64_t keep_seconds,
              size_t keep_items)
{
    struct store_gen g;
    struct store_keep *keep = NULL;
    struct store_slot *slots = NULL, e;
    uint64_t *ids = NULL, *gone = NULL, *dropped = NULL;
    uint32_t *newest = NULL, *map = NULL;
    unsigned char *flag = NULL;
    uint64_t live = 0, total = 0;
    size_t n = s->nrecs, nkeep = 0, ngone = 0, ndropped = 0, used = 0, i;
    size_t slots_cap;
    int64_t cutoff = INT64_MIN;
    int rc = 0, src;

    memset(&g, 0, sizeof g);
    g.dir_fd = g.idx_fd = -1;
    feed_buf_init(&g.out, 0);
    feed_buf_init(&g.idx, 0);
    if (keep_seconds < 0)
        return -EINVAL;
    if (keep_seconds > 0 && now >= INT64_MIN + keep_seconds)
        cutoff = now - keep_seconds;
    if ((ids = malloc((n ? n : 1) * sizeof *ids)) == NULL ||
        (flag = calloc(n ? n : 1, 1)) == NULL ||
        (map = calloc(n ? n : 1, sizeof *map)) == NULL ||
        (keep = malloc((n ? n : 1) * sizeof *keep)) == NULL ||
        (gone = malloc((n ? n : 1) * sizeof *gone)) == NULL) {
        rc = -ENOMEM;
        goto oom;
    }
    for (i = 0; i < s->slots_cap; i++) {
        e = s->slots[i];
        if (e.ref == 0 || e.ref == STORE_SLOT_PENDING)
            continue;
        ids[e.ref - 1] = e.id;
        flag[e.ref - 1] = STORE_KEEP | (e.pend != 0 ? STORE_PINNED : 0);
    }
    if (keep_items > 0 && keep_items < n) {
        if ((newest = store_newest(s, keep_items)) == NULL) {
            rc = -ENOMEM;
            goto oom;
        }
        for (i = 0; i < keep_items; i++)
            flag[newest[i]] |= STORE_RANKED;
    }
    /* The verdicts, and the old store's size against what it would be
     * rewritten: with nothing to drop and no dead line, it stays. */
    for (i = 0; i < n; i++) {
        if (!(flag[i] & STORE_PINNED) &&
            (s->recs[i].date < cutoff ||
             (keep_items > 0 && keep_items < n && !(flag[i] & STORE_RANKED))))
            flag[i] &= (unsigned char)~STORE_KEEP;
        if (flag[i] & STORE_KEEP) {
            keep[nkeep].seg = s->recs[i].seg;
            keep[nkeep].off = s->recs[i].off;
            keep[nkeep++].rec = (uint32_t)i;
            live += (uint64_t)s->recs[i].len + 1;
        } else {
            gone[ngone++] = ids[i];
        }
    }
    for (i = 0; i < s->nsegs; i++) {
        total += i + 1 < s->nsegs ? s->segs[i].size : s->tail;
        if ((i + 1 < s->nsegs ? s->segs[i].size : s->tail) > 0)
            live += sizeof STORE_SEG_HEADER - 1;
    }
    if (ngone == 0 && live == total)
        goto done;
    qsort(keep, nkeep, sizeof *keep, store_keep_cmp);
    if ((rc = store_gen_write(s, &g, keep, nkeep, ids, map, gone, &ngone)) != 0)
        goto fail;
    qsort(gone, ngone, sizeof *gone, store_u64_cmp);
    if ((dropped = store_merge(s->dropped, s->ndropped, gone, ngone,
                               &ndropped)) == NULL) {
        rc = -ENOMEM;
        goto oom;
    }
    if ((rc = store_gen_finish(s, &g, dropped, ndropped)) != 0)
        goto fail;
    /* The seen set as it will be, made before the swap, so that nothing
     * can fail after it: the kept items at their new recs, the IDs only
     * the pending batch holds as they are, the dropped ones gone. */
    slots_cap = store_slots_for(s->slots_used);
    if ((slots = calloc(slots_cap, sizeof *slots)) == NULL) {
        rc = -ENOMEM;
        goto oom;
    }
    for (i = 0; i < s->slots_cap; i++) {
        e = s->slots[i];
        if (e.ref == 0)
            continue;
        if (e.ref != STORE_SLOT_PENDING && (e.ref = map[e.ref - 1]) == 0)
            continue;
        store_slot_place(slots, slots_cap, s->seed, &e);
        used++;
    }

    /* The swap. Until the first rename the old generation is items/;
     * between the two, items.old/ without items/, which store_open()
     * renames back; after the second, items/ is the new one, complete
     * and synced. items.old/ goes only once the renames are durable. */
    if (renameat(s->dir_fd, "items", s->dir_fd, "items.old") != 0) {
        rc = -errno;
        store_fail(s, "%s/items: rename to items.old: %s", s->dir,
                   strerror(errno));
        goto fail;
    }
    if (renameat(s->dir_fd, "items.new", s->dir_fd, "items") != 0) {
        rc = -errno;
        store_fail(s, "%s/items.new: rename to items: %s", s->dir,
                   strerror(errno));
        if (renameat(s->dir_fd, "items.old", s->dir_fd, "items") != 0)
            store_fail(s,
                       "%s/items.new: rename to items: %s; and items.old "
                       "could not be renamed back (the next start will)",
                       s->dir, strerror(-rc));
        goto fail;
    }
    src = store_dir_sync(s->dir_fd);

    /* The new generation is the store now. */
    for (i = 0; i < s->nsegs; i++)
        if (s->segs[i].fd >= 0)
            close(s->segs[i].fd);
    free(s->segs);
    s->segs = g.segs;
    s->nsegs = g.nsegs;
    s->segs_cap = g.segs_cap;
    g.segs = NULL;
    g.nsegs = 0;
    s->tail = s->nsegs > 0 ? g.size : 0;
    s->tail_lines = s->nsegs > 0 ? g.lines : 0;
    s->tail_dirty = 0;
    s->items_unsynced = 0;
    close(s->items_fd);
    s->items_fd = g.dir_fd;
    g.dir_fd = -1;
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    s->idx_fd = g.idx_fd;
    s->idx_size = g.idx_size;
    g.idx_fd = -1;
    free(s->recs);
    s->recs = g.recs;
    s->recs_cap = nkeep ? nkeep : 1;
    s->nrecs = g.nrecs;
    g.recs = NULL;
    free(s->slots);
    s->slots = slots;
    s->slots_cap = slots_cap;
    s->slots_used = used;
    slots = NULL;
    free(s->dropped);
    s->dropped = dropped;
    s->ndropped = ndropped;
    dropped = NULL;
    if (src != 0) {
        /* Not known to be durable: items.old/ stays, and the next start
         * removes it once items/ is there. */
        rc = src;
        store_fail(s, "%s: fsync: %s", s->dir, strerror(-src));
    } else if ((src = store_dir_remove(s->dir_fd, "items.old")) != 0) {
        store_warn(s, "items.old: cannot be removed: %s", strerror(-src));
    }
    goto done;
oom:
    store_fail(s, "items: out of memory");
fail:
    (void)store_dir_remove(s->dir_fd, "items.new");
done:
    store_gen_free(&g);
    free(ids);
    free(flag);
    free(map);
    free(keep);
    free(gone);
    free(newest);
    free(dropped);
    free(slots);
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

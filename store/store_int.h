/* store/store_int.h - the private header of store/: what its files share.
 * Not on any include path but store/'s own (and its unit tests').
 *
 * In memory there is only an index. For every committed item it holds
 * its ID, its sort date, the hash of its version and where its line is
 * (segment, offset, length): 40 bytes (struct store_rec, recs.c). The
 * seen set (seen.c) is an open-addressing hash table of 4-byte slots from
 * ID to rec (the ID itself is read from the rec) that also holds the IDs
 * of the pending batch; IDs dropped by retention are a sorted array
 * beside it. Items are read back from disk, one line at a
 * time, when store_recent() asks for them. The index is built from
 * items/index by the first call that needs it (store_load()) when the
 * open found that file whole; a run that needs no item never builds it.
 *
 * The files, and whom each may call (edges one way, down this list):
 *
 *   store.c    the public API: open/close, add/commit, recent/get
 *   compact.c  retention: what stays, the swap of generations, and the
 *              recovery of a swap cut short
 *   generation.c  a new generation of items/ written in items.new/
 *   segment.c  the segments: the scan at open, torn lines, new segments
 *   index.c    items/index, the side index: load, rebuild, append
 *   census.c   the entries per feed, counted from the segments beside
 *              the process that holds the store (no lock, no struct
 *              store)
 *   state.c    feeds.state, the per-feed state: in memory, and saved
 *   state_read.c  feeds.state read: at open, and beside the process
 *              that holds the store
 *   flat.c     the reader of feeds.state's flat JSON lines
 *   record.c   the record codec: an item to its line and back
 *   recs.c     the table of committed items, newest first
 *   seen.c     the seen set and the list of dropped IDs
 *   fsutil.c   file utilities: whole reads and writes, folders, atomic
 *              replacement
 *   msg.c      the last error and the warnings of a store
 *
 * The on-disk format of each file is described at the top of the file
 * that owns it. */
#ifndef STORE_INT_H
#define STORE_INT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "feeds/buf.h"
#include "store.h"

/* jansson's type, declared here so that the header does not need
 * jansson.h (its typedef names this struct). */
struct json_t;

/* The size past which the last segment takes no more appends; the next
 * batch starts a new one (store.seg_max, which tests may lower). */
#define STORE_SEG_MAX ((uint64_t)64 << 20)
/* The longest line store_add() writes and the scan at open accepts. */
#define STORE_LINE_MAX ((size_t)32 << 20)
/* The read buffer of the scan at open, and of the index. */
#define STORE_SCAN_BUF ((size_t)1 << 20)
/* The longest line of feeds.state that is read. */
#define STORE_STATE_LINE_MAX ((size_t)1 << 20)
/* The bytes of feeds.state's dead lines past which a save writes it
 * whole, beyond as many as its live ones. */
#define STORE_STATE_SLACK ((uint64_t)64 << 10)
/* Warnings kept between two store_warnings() calls; the rest are counted. */
#define STORE_WARN_MAX 100
/* The most enclosures, categories and other feeds one record keeps, both
 * ways: the first ones are kept and the rest dropped, so that
 * store_recent() can hand them over from arrays of a fixed size. */
#define STORE_ENCLOSURES_MAX 64
#define STORE_CATEGORIES_MAX 256
#define STORE_ALSO_MAX 256
/* The memory a pending batch keeps for the next after a commit. */
#define STORE_PEND_KEEP ((size_t)8 << 20)
/* What store_compact() buffers before a write, and reads ahead. */
#define STORE_COPY_BUF ((size_t)4 << 20)

/* A slot of the store's seen set holds, for its ID, either the number of
 * its rec (its index plus one), or, while a version of the ID is pending,
 * STORE_SLOT_PEND | the number of its latest pending version, whose ref
 * then says what the rec is: its number, or STORE_SLOT_PENDING when only
 * the pending batch holds the ID. recs stay below STORE_REC_MAX so that
 * no rec's number has the STORE_SLOT_PEND bit or reaches
 * STORE_SLOT_PENDING; pending versions likewise. */
#define STORE_SLOT_PEND ((uint32_t)1 << 31)
#define STORE_SLOT_PENDING UINT32_MAX
#define STORE_REC_MAX (STORE_SLOT_PEND - 2)

/* The header of a segment as this version writes it (STORE_FORMAT). */
#define STORE_SEG_HEADER "{\"feedd_store\":2}\n"
/* The end of every record of a format 2 segment: ,"sum":"XXXXXXXX"} where
 * XXXXXXXX is the crc32 of the line's bytes before it, in lowercase hex. */
#define STORE_SUM_KEY ",\"sum\":\""
#define STORE_SUM_LEN (sizeof STORE_SUM_KEY - 1 + 8 + 2)

/* store_rec.len of a rec whose line turned out damaged: its ID is no
 * longer seen, and the rec counts for nothing until the next compaction
 * rebuilds the table. */
#define STORE_REC_DEAD UINT32_MAX

/* Why a line read back is not the record it should be (0: it is). */
enum {
    STORE_DMG_SUM = 1, /* its checksum does not match its bytes */
    STORE_DMG_NOSUM,   /* no checksum, in a segment whose lines all have one */
    STORE_DMG_EOL,     /* it does not end where its place says */
    STORE_DMG_JSON,    /* not JSON */
    STORE_DMG_RECORD,  /* a member missing or of the wrong type */
    STORE_DMG_INDEX,   /* not the item its place says (ID, version) */
    STORE_DMG_CORRUPT, /* not JSON, or not a record (the scan's verdict) */
};

/* items/index: header and record sizes. */
#define STORE_IDX_MAGIC "feeddidx"
#define STORE_IDX_VERSION 1
#define STORE_IDX_HDR 16
#define STORE_IDX_REC 48

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
    STORE_IK_BADSUM,     /* a checksum that does not match, or none where
                          * there must be one: skipped */
};
/* Or'ed into the kind of line 1 when it is not a header at all. */
#define STORE_IK_NOHDR 0x80

struct store_seg {
    uint32_t no;     /* the NNNNNN of its name */
    int fd;          /* -1 until it is needed */
    uint64_t size;   /* its committed size; s->tail for the last one */
    unsigned format; /* its header's format; 0 when it has none */
};

/* A committed item: its ID, what it sorts by, its version and where its
 * line is. */
struct store_rec {
    uint64_t id;
    int64_t date;  /* feed_item_date() */
    uint64_t hash; /* feed_item.hash of this version */
    uint64_t off;  /* of its line in the segment */
    uint32_t seg;  /* index into store.segs */
    uint32_t len;  /* of its line, without the '\n' */
};

/* The ID that the value v of a slot stands for: the set's owner knows. */
typedef uint64_t store_set_key_fn(const void *arg, uint32_t v);

/* The seen set: linear probing over a power-of-two table of values (0:
 * a free slot), load under 0.7. seed is mixed into every home slot (see
 * store_set_home()); key(arg, v) is the ID of value v. A zeroed struct
 * with a seed and a key is an empty set. */
struct store_set {
    uint32_t *slots;
    size_t cap, used; /* cap is 0 or a power of two */
    uint64_t seed;
    store_set_key_fn *key;
    const void *arg;
};

/* An item added but not committed: its line, '\n' included, is
 * pend.data[off, off + len]. */
struct store_pend {
    uint64_t id;
    int64_t date;
    uint64_t hash;
    size_t off;
    uint32_t len;
    /* The ID's rec number (or STORE_SLOT_PENDING) while this is its
     * latest pending version: see STORE_SLOT_PEND. */
    uint32_t ref;
    int fresh; /* the ID had no rec when the batch began */
};

/* A record of items/index, decoded. On disk, little-endian: id 8, date 8,
 * hash 8, off 8, len 4, seg 4, line 4, kind 1, check 3 (the low 24 bits
 * of a mix of the fields, so that a record of zeros or of garbage is told
 * from a good one). */
struct store_irec {
    uint64_t id;   /* ITEM only; 0 otherwise */
    int64_t date;  /* ITEM; for a HEADER the segment's format (0 in an
                    * index written before format 2: format 1) */
    uint64_t hash; /* ITEM only */
    uint64_t off;  /* of the line */
    uint32_t len;  /* of the line, without the '\n' */
    uint32_t seg;  /* the segment's number (NNNNNN), not its index */
    uint32_t line; /* the line's number, for warnings */
    unsigned kind; /* STORE_IK_* */
};

/* A feed's state: one allocation (state.c), its strings after the
 * struct; st's pointers point into them. */
struct store_feed {
    struct store_feed_state st;
    uint32_t len;   /* of its line in feeds.state, '\n' included; 0: none */
    uint32_t dirty; /* its place in store.state_dirty plus one, or 0 */
    char name[];    /* then st's strings */
};

/* The arrays that the decoder of a record lends an item's lists in: the
 * caller's, so that a store_recent() callback may call it again. */
struct store_lists {
    struct feed_enclosure enc[STORE_ENCLOSURES_MAX];
    const char *cat[STORE_CATEGORIES_MAX];
    const char *also[STORE_ALSO_MAX];
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
    int items_later;     /* store_segs_read() is still to be done */
    int items_failed;    /* it failed: the negative errno it gave */
    uint64_t seg_max;    /* STORE_SEG_MAX */

    /* items/index, open for appends while what it holds is a gapless
     * prefix of the log; -1 once an append failed or when there is
     * none. */
    int idx_fd;
    uint64_t idx_size;
    struct feed_buf *idx_out; /* where the scan puts its records */
    int idx_unusable;         /* the scan met a line it cannot record */

    struct store_rec *recs;
    size_t nrecs, recs_cap;
    size_t ndead; /* recs of STORE_REC_DEAD, counted in nrecs */

    struct store_set ids; /* the seen set */

    uint64_t *dropped; /* sorted */
    size_t ndropped;

    struct feed_buf pend;
    struct store_pend *pends;
    size_t npends, pends_cap;
    /* The batch in flight (store_commit_write() to _finish()): pends[0,
     * nflight), the first flight_bytes of pend, written at flight_base +
     * flight_hlen of segment segs[flight_seg] (flight_fd), its sync to
     * come; what was added since follows it in pends and pend. */
    size_t nflight, flight_bytes;
    uint64_t flight_base;
    size_t flight_hlen;
    uint32_t flight_seg;
    int flight_fd;
    int flight_dirsync; /* the segment is new: items/ is synced too */

    struct store_feed **feeds; /* pointers, so that a get stays valid */
    size_t nfeeds, feeds_cap;
    uint32_t *feed_slots; /* finds a feed by name (state.c) */
    size_t feed_slots_cap;

    /* feeds.state (state.c): a log of lines, the latest per feed
     * counting. */
    int state_fd;        /* open for writing, or -1 */
    uint64_t state_size; /* its whole lines, which appends follow */
    uint64_t state_live; /* of which the lines that count */
    int state_rewrite;   /* the next save writes it whole */
    int state_must_sync; /* a change beyond times is not yet synced */
    int state_unsynced;  /* lines written without an fdatasync */
    struct store_feed **state_dirty; /* changed since the last save */
    size_t ndirty, dirty_cap;
    char **state_gone; /* feeds forgotten since the last save */
    size_t ngone, gone_cap;

    /* byfeed.c: the feed of each rec, learnt from its record when a
     * read by feed first needs it. rec_feed[i] is the number (in
     * feed_names, plus one) of rec i's feed, 0 while unknown; the recs
     * from rec_feed_n on are unknown. */
    uint32_t *rec_feed;
    size_t rec_feed_n, rec_feed_cap;
    char **feed_names;
    size_t nfeed_names, feed_names_cap;
    uint32_t *feed_name_slots; /* open addressing: number plus one */
    size_t feed_name_slots_cap;

    char *line; /* store_recent()'s read buffer */
    size_t line_cap;

    struct feed_buf warn;
    size_t nwarn, nwarn_dropped;
    size_t ndamaged; /* store_damaged() */
    char err[256];
};

/* ---- msg.c: the last error and the warnings ---- */

/* Sets the store's error line (store_error()). */
void store_fail(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* Adds one line to the warnings (store_warnings()); past STORE_WARN_MAX
 * they are only counted. Out of memory, the warning is lost: a warning is
 * never worth failing for. */
void store_warn(struct store *, const char *, ...)
    __attribute__((format(printf, 2, 3)));
/* The warning of a damaged line: segment no, at byte off, why a
 * STORE_DMG_*; line is its number, or 0 when not known. */
void store_warn_damage(struct store *, uint32_t no, uint64_t off, uint32_t line,
                       int why);

/* ---- fsutil.c: file utilities ---- */

/* store_write_all() is in store.h. Reads exactly len bytes at off,
 * through EINTR and short transfers: 0, -EIO when it meets the end of the
 * file, or -errno. */
int store_read_all(int fd, void *p, size_t len, uint64_t off);
/* fsync of a folder; a file system that cannot sync folders (EINVAL) has
 * nothing to sync. 0 or -errno. */
int store_dir_sync(int fd);
/* 1 when dir_fd/name is a folder, 0 when there is nothing by that name,
 * -errno otherwise (-ENOTDIR for something else). */
int store_dir_exists(int dir_fd, const char *name);
/* 1 when the folder dir_fd/name holds nothing, 0 when it holds something,
 * or -errno. */
int store_dir_empty(int dir_fd, const char *name);
/* Removes dir_fd/name, a folder of files (no folders in it). 0 when it is
 * gone or was never there, else the first -errno. */
int store_dir_remove(int dir_fd, const char *name);
/* mkdir -p dir. 0 or a negative errno, with s->err set. */
int store_mkdirs(struct store *s, const char *dir);
/* arr (holding n of *cap elements of size sz) with room for one more:
 * arr itself, or a new pointer that replaces it. NULL when out of memory,
 * arr left as it was. */
void *store_array_grow(void *arr, size_t *cap, size_t n, size_t sz);
/* Asks the kernel to map p[0, len), memory just allocated and not yet
 * written, in one call rather than a page fault per page as it is first
 * written; for arrays of a MiB or more that are about to be filled.
 * Where the system cannot (not Linux, or older than 5.14) it does
 * nothing; the memory is the same either way. */
void store_prefault(void *p, size_t len);
/* The 16-byte header of items/index or items/dropped appended to b. 0, or
 * non-zero when out of memory. */
int store_file_header(struct feed_buf *b, const char *magic, uint32_t version,
                      uint32_t extra);
/* The name of segment no ("NNNNNN.jsonl") into name. */
void store_seg_name(char name[32], uint32_t no);
/* 1 when name is a segment's name as store_seg_name() makes it, with its
 * number in *no; else 0. */
int store_seg_parse(const char *name, uint32_t *no);

/* A seed for a hash table of obj: another in every process and for every
 * object, so that keys chosen to collide in one do not in the next. */
static inline uint64_t
store_seed(const void *obj)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
           (uint64_t)(uintptr_t)obj ^ (uint64_t)getpid();
}

/* n little-endian bytes of v at p, and back. */
static inline void
store_put_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static inline uint64_t
store_get_le(const unsigned char *p, int n)
{
    uint64_t v = 0;

    for (int i = n; i-- > 0;)
        v = v << 8 | p[i];
    return v;
}

/* ---- seen.c: the seen set, and the dropped IDs ---- */

/* The home slot of id in a table of cap slots (a power of two). */
size_t store_set_home(uint64_t seed, size_t cap, uint64_t id);
/* id's slot, or NULL when the set does not hold it. */
uint32_t *store_set_find(const struct store_set *, uint64_t id);
/* Room for n more IDs without a rehash. 0 or -ENOMEM (the set as it
 * was). */
int store_set_reserve(struct store_set *, size_t n);
/* Adds id, which the set does not hold, with value v (not 0). 0 or
 * -ENOMEM. */
int store_set_add(struct store_set *, uint64_t id, uint32_t v);
/* Removes slot, one of the set's (no tombstone is left). */
void store_set_del(struct store_set *, uint32_t *slot);
/* Empties the set, keeping its table. */
void store_set_clear(struct store_set *);
/* A new value for v, or 0 to leave its ID out. */
typedef uint32_t store_set_map_fn(const void *arg, uint32_t v);
/* A new set in *out (same seed and key) holding the IDs of old, each
 * with the value map(arg, v) gives its value v, and without those it
 * gives 0 (the IDs are read through old's key). 0 or -ENOMEM (out
 * untouched). */
int store_set_remap(const struct store_set *old, store_set_map_fn *map,
                    const void *arg, struct store_set *out);
void store_set_free(struct store_set *);

/* 1 when store_compact() dropped id, else 0. */
int store_dropped_has(const struct store *, uint64_t id);
/* Reads items/dropped into s->dropped when there is one. A damaged file
 * only warns. 0 or -ENOMEM, with s->err set. */
int store_dropped_load(struct store *);
/* The contents of an items/dropped listing ids[0, n) (sorted) appended
 * to b. 0, or non-zero when out of memory. */
int store_dropped_encode(struct feed_buf *b, const uint64_t *ids, size_t n);
/* a[0, na) and b[0, nb), both sorted, merged into a new sorted array
 * without duplicates; *n is its length. NULL when out of memory. */
uint64_t *store_ids_merge(const uint64_t *a, size_t na, const uint64_t *b,
                          size_t nb, size_t *n);
/* qsort()'s comparison of uint64_t. */
int store_u64_cmp(const void *a, const void *b);

/* ---- byfeed.c: the feed of each rec ---- */

/* Rec i changed (an update replaced it): its feed is to be learnt again. */
void store_byfeed_forget(struct store *, size_t i);
/* The recs were renumbered (a compaction): every feed is to be learnt
 * again. */
void store_byfeed_reset(struct store *);
/* Frees what byfeed.c holds (store_close()). */
void store_byfeed_free(struct store *);

/* ---- recs.c: the table of committed items ---- */

/* Room for n more recs, so that a commit cannot fail after its write.
 * 0, -ENOMEM or -EOVERFLOW. */
int store_recs_reserve(struct store *, size_t n);
/* Records that id's line is r: a new item, or a later line (an update)
 * that replaces the one indexed. 0, -ENOMEM or -EOVERFLOW. */
int store_rec_put(struct store *, uint64_t id, const struct store_rec *r);
/* The indexes of the k newest live recs (k <= store_count()) by
 * store_recent()'s order, newest first, in a new array the caller frees.
 * NULL when out of memory. */
uint32_t *store_newest(const struct store *, size_t k);
/* Whether rec number i counts for a filtered read (store_newest_if()). */
typedef int store_rec_keep_fn(const struct store *, uint32_t i,
                              const void *arg);
/* store_newest() among the live recs that keep (when not NULL) keeps,
 * with k that may exceed their number: *found gets how many the array
 * holds (min(k, those kept)). One pass, O(count log k). NULL when out of
 * memory. */
uint32_t *store_newest_if(const struct store *, size_t k,
                          store_rec_keep_fn *keep, const void *arg,
                          size_t *found);
/* (store.c) Rec rec, whose line was found damaged (why): its one
 * warning, and the rec killed; the caller forgets its ID
 * (store_recs_forget()). */
void store_rec_damaged(struct store *, uint32_t rec, int why);
/* (store.c) store_recent() among the recs that keep (when not NULL)
 * keeps. */
int store_recent_if(struct store *, size_t n, store_rec_keep_fn *keep,
                    const void *karg, store_item_fn *fn, void *arg);
/* store_rec_put() of ids[i] and r[i] for each i in [0, n), in that order,
 * for a run of lines read from items/index: the slots are looked at in
 * one pass first, so that a large index is not one cache miss after the
 * other. 0, -ENOMEM or -EOVERFLOW (the puts before it are done). */
int store_recs_put(struct store *, const uint64_t *ids,
                   const struct store_rec *r, size_t n);
/* Marks rec dead (its line is damaged): it no longer counts. Its ID stays
 * in the seen set until store_recs_forget(). */
void store_rec_kill(struct store *, uint32_t rec);
/* Forgets the ID of slot, whose rec is dead: no longer seen, unless a
 * pending version holds it (that version then commits as new). */
void store_id_forget(struct store *, uint32_t *slot);
/* The seen set's key: the ID of slot value v (see STORE_SLOT_PEND). */
uint64_t store_slot_id(const void *store, uint32_t v);
/* The rec number of slot value v (its index plus one), or
 * STORE_SLOT_PENDING when only the pending batch holds the ID. */
uint32_t store_slot_ref(const struct store *, uint32_t v);
/* The number of the latest pending version of slot value v (its index in
 * pends plus one), or 0 when none is pending. */
static inline uint32_t
store_slot_pend(uint32_t v)
{
    return (v & STORE_SLOT_PEND) ? v & ~STORE_SLOT_PEND : 0;
}
/* Sets the rec number of *slot (STORE_SLOT_PENDING only while a version
 * is pending). */
void store_slot_set_ref(struct store *, uint32_t *slot, uint32_t ref);
/* Sets the latest pending version of *slot: pend is its number, or 0 for
 * none (the slot then has a rec). */
void store_slot_set_pend(struct store *, uint32_t *slot, uint32_t pend);
/* store_id_forget() of every ID whose rec is dead: one pass over the
 * seen set. */
void store_recs_forget(struct store *);

/* ---- record.c: the record codec ---- */

/* The line of item (id already parsed), '\n' included, appended to b,
 * with its checksum (format 2). 0, or non-zero when out of memory. */
int store_record_encode(struct feed_buf *b, uint64_t id,
                        const struct feed_item *item);
/* Ends the line that b holds from byte start, a record without its
 * closing '}': its checksum, '}' and '\n' appended. 0, or non-zero when
 * out of memory. */
int store_record_seal(struct feed_buf *b, size_t start);
/* Checks the checksum of line[0, len) (no '\n'), a line of a segment of
 * format format: 0 when it holds, or a STORE_DMG_*. In format 2 every
 * record has one; in a segment of format 1 or without a header, a line
 * without one is not checked here (only its JSON is). No JSON parse. */
int store_record_verify(const char *line, size_t len, unsigned format);
/* The words of a STORE_DMG_* for a warning ("checksum"). */
const char *store_damage_why(int why);
/* The item o holds into it, borrowing its strings from o and its lists
 * from l. 0, or -EINVAL when o is no item: not an object, a member the
 * writer always writes missing, or one with a type the writer does not
 * give it. */
int store_record_decode(struct feed_item *it, const struct json_t *o,
                        struct store_lists *l);
/* What the scan at open needs of a record: its ID, its sort date
 * (feed_item_date()) and its hash. 0, or -EINVAL when o is no item (the
 * same check as store_record_decode()). */
int store_record_peek(const struct json_t *o, uint64_t *id, int64_t *date,
                      uint64_t *hash);
/* A string member of o, or NULL. Borrowed from o. */
const char *store_json_str(const struct json_t *o, const char *key);
/* An integer member of o, or FEED_TIME_NONE when absent or null. */
int64_t store_json_time(const struct json_t *o, const char *key);
/* ,"key":"s" (or null) and ,"key":t (or null) appended to b. 0, or
 * non-zero when out of memory. */
int store_put_str(struct feed_buf *b, const char *key, const char *s);
int store_put_time(struct feed_buf *b, const char *key, int64_t t);

/* ---- flat.c: flat JSON objects ---- */

enum {
    STORE_FLAT_NULL,
    STORE_FLAT_STR,
    STORE_FLAT_INT,
    STORE_FLAT_TRUE,
    STORE_FLAT_FALSE,
    STORE_FLAT_OTHER, /* an array, an object, a number that is no int64 */
};
/* Called for each member, in order: key[0, klen) as written (empty when
 * it holds escapes); a string's value is decoded into the caller's buffer
 * at offset str (NUL-terminated), an integer's is num. */
typedef void store_flat_fn(const char *key, size_t klen, int type, size_t str,
                           int64_t num, void *arg);
/* Reads line[0, len), one JSON object, calling fn on each member; the
 * strings go to strs (appended, not reset). 0, or -1 when the line is no
 * JSON object or strs could not grow. */
int store_flat_read(const char *line, size_t len, struct feed_buf *strs,
                    store_flat_fn *fn, void *arg);

/* ---- state.c, state_read.c: feeds.state ---- */

/* Its first line, and the format it names. */
#define STATE_HEADER "{\"feedd_state\":2}\n"
#define STATE_HEADER_KEY "{\"feedd_state\":"
#define STATE_FORMAT 2

/* Sets (st) or forgets (NULL) the state of feed in memory, without
 * marking it for the next save; *out is the feed set, or NULL. 0 or
 * -ENOMEM. */
int store_feed_put(struct store *s, const char *feed,
                   const struct store_feed_state *st, struct store_feed **out);
/* Forgets the feeds the next save would have said are gone. */
void store_gone_free(struct store *s);

/* Reads feeds.state when there is one. 0 or a negative errno, with
 * s->err set. */
int store_states_load(struct store *);
/* A seeded FNV-1a of name, mixed by splitmix64's finalizer: where a feed
 * goes in a table of names. */
uint64_t store_name_hash(uint64_t seed, const char *name);
/* Frees every feed's state. */
void store_states_free(struct store *);

/* ---- index.c: items/index ---- */

/* r encoded into p[0, STORE_IDX_REC), and back (0, or -1 when its check
 * fails). */
void store_irec_encode(unsigned char *p, const struct store_irec *r);
int store_irec_decode(const unsigned char *p, struct store_irec *r);
/* r appended to b. 0, or non-zero when out of memory. */
int store_irec_emit(struct feed_buf *b, const struct store_irec *r);
/* The warning the scan gives for a line of kind r->kind in segment r->seg;
 * an open through the index gives it again. */
void store_line_warn(struct store *, const struct store_irec *r);
/* Loads items/index: the lines it records are indexed as the scan would
 * have, without reading them. Then the scan must go on in segment *segi,
 * from byte *off, after line *line, and read the segments after it
 * whole. 0 when the index was used (s->idx_fd is then open on it for
 * appends); 1 when the segments must be scanned whole: there is no index,
 * or it was unreadable or inconsistent (a warning says so, and what it
 * had loaded is undone); or -ENOMEM. buf has STORE_SCAN_BUF bytes. */
int store_idx_load(struct store *, char *buf, size_t *segi, uint64_t *off,
                   uint32_t *line);
/* 1 when items/index, as far as can be told without reading it all,
 * lists every line of the segments as a clean stop leaves it: a whole
 * number of records, the last of which is sound and ends where the last
 * segment with lines ends; and each segment that has lines starts with
 * a header this version writes. Then loading it can only warn (a damaged
 * index is rebuilt) or run out of memory, and can wait. 0 when not, or
 * when there is no index or it cannot be read. */
int store_idx_covers(struct store *);
/* Puts the records the scan at open gathered (out) into items/index: a
 * whole new file when rebuild is set (out then starts with the header),
 * else appended. A failure only warns, and stops the appends. */
void store_idx_save(struct store *, const struct feed_buf *out, int rebuild);
/* Appends the records of a committed batch (b) to items/index; ok is 0
 * when b could not be built whole. A failure only warns, and stops the
 * appends for good. */
void store_idx_append(struct store *, const struct feed_buf *b, int ok);

/* ---- segment.c: the segments ---- */

/* Finds the segments in items/; then, unless items/index lists every
 * line of them as it should (store_idx_covers(): s->items_later is then
 * set, and store_segs_read() is left for later), store_segs_read(). 0 or
 * a negative errno, with s->err set. */
int store_segs_load(struct store *);
/* Loads what items/index lists of the segments store_segs_load() found
 * and scans the rest in order, cutting off a torn last line; clears
 * s->items_later. 0 or a negative errno, with s->err set. */
int store_segs_read(struct store *);
/* Reads segment segi from byte start, where line lineno + 1 begins:
 * indexes its lines and cuts off a torn last line. *size is then the
 * segment's size and *lines the number of its last line. buf has
 * STORE_SCAN_BUF bytes. 0 or a negative errno, with s->err set. */
int store_seg_scan(struct store *, uint32_t segi, char *buf, uint64_t start,
                   uint32_t lineno, uint64_t *size, uint32_t *lines);
/* Starts the next segment, empty; its header goes in with the first
 * batch. 0 or a negative errno, with s->err set. */
int store_seg_new(struct store *);
/* The fd of segment segi, opened for reading when it is not open;
 * -errno with s->err set. */
int store_seg_fd(struct store *, uint32_t segi);
/* Reads the line of rec r, '\n' included, into s->line and checks its
 * end and its checksum (store_record_verify()): 0; a STORE_DMG_* when the
 * line is damaged (nothing warned); or a negative errno with s->err
 * set. In a segment of format 2, where every line has a checksum, a line
 * that passes is the one its writer wrote. */
int store_rec_line(struct store *, const struct store_rec *r);
/* Reads the line of rec r back into it: checked (its end, its checksum,
 * its members and their types, and that it is the item r says: id when
 * not NULL, and its version), and decoded with its strings in
 * *o (the caller json_decref()s it) and its lists in l. 0; a STORE_DMG_*
 * when the line is damaged (*o NULL, nothing warned); or a negative
 * errno with s->err set. */
int store_rec_read(struct store *, const struct store_rec *r,
                   const uint64_t *id, struct feed_item *it,
                   struct store_lists *l, struct json_t **o);
/* The header line of format format into buf; its length. */
size_t store_seg_header(char buf[32], unsigned format);

/* ---- generation.c: a new generation of items/ ---- */

/* An item that store_compact() keeps, in the order of the log. */
struct store_keep {
    uint64_t off;
    uint32_t seg;
    uint32_t rec; /* its index in s->recs */
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

/* Writes the items of a new generation of the store in items.new/: the
 * kept ones keep[0, nkeep), in the order of the log, and their index,
 * all synced; lines of format 1 get their checksum. map[rec] becomes the
 * new rec of each plus one; a line that is damaged is left out with a
 * warning and its rec killed (store_rec_kill(): the caller forgets its
 * ID, which is not dropped, so that its feed stores it again). 0 or a
 * negative errno, with s->err set; g holds what was made, for the caller
 * to free. */
int store_gen_write(struct store *, struct store_gen *g,
                    const struct store_keep *keep, size_t nkeep,
                    const uint64_t *ids, uint32_t *map);
/* Ends the new generation g: its items/dropped (dropped[0, ndropped)),
 * then a sync of the folder, so that every name in it is as durable as
 * the file. 0 or a negative errno, with s->err set. */
int store_gen_finish(struct store *, struct store_gen *g,
                     const uint64_t *dropped, size_t ndropped);
/* Frees what g holds; its folder stays. */
void store_gen_free(struct store_gen *g);

/* ---- compact.c: retention ---- */

/* Finishes or undoes a compaction that a crash cut short. 0 or a
 * negative errno, with s->err set. */
int store_gen_recover(struct store *);

#endif

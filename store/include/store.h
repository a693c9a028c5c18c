/* store/store.h - feedd's flat-file store under state_dir:
 *
 *     items/NNNNNN.jsonl   append-only segments, one JSON object per line
 *     items/index          a cache of where each line is and what it holds,
 *                          so that start-up need not parse the segments;
 *                          rebuilt from them when missing or damaged
 *     items/dropped        the IDs store_compact() dropped, which stay seen
 *     feeds.state          per-feed HTTP and poll state, one JSON object per
 * line public/              the published outputs (written by the daemon
 *                          through store_file_replace())
 *
 * No I/O scheduling and no logging: problems come back as return codes and
 * as messages the caller may log (store_error(), store_warnings()). */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"

struct feed_buf;

#define STORE_WUR __attribute__((warn_unused_result))

/* The format version written in every segment's first line. A segment of
 * a newer version is refused. Format 2 ends every record with its
 * checksum; segments of format 1 are still read (without one), and
 * appends then go to a new segment. */
#define STORE_FORMAT 2

struct store;

/* Opens (creating what is missing) the store in dir: takes an exclusive
 * lock on it (a second process gets "in use by another process"), loads
 * the seen IDs through items/index, or leaves them for store_load() when
 * the index lists every line, and recovers from a crash (a torn last
 * line is cut off; a corrupt line in the middle is skipped with a warning;
 * a compaction cut short is finished or undone; an index that does not
 * match the segments is rebuilt from them, with a warning). NULL on
 * failure, with a one-line reason in err. Caller frees with
 * store_close(). */
struct store *store_open(const char *dir, char *err, size_t errlen);

/* Commits nothing: pending items not yet committed are dropped. */
void store_close(struct store *);

/* When items/index lists every line of the segments (as a clean stop
 * leaves it), store_open() checks only its last record and the segments'
 * headers, and what it lists is loaded by the first call that needs the
 * items: store_seen(), store_lookup(), store_add(), store_count(),
 * store_waste(), store_recent(), store_get() and store_compact() call
 * this first. A run that needs none (a poll where every feed answers
 * 304) never loads them. Loads them now if they are not: 0, or a
 * negative errno with store_error() set (out of memory, an I/O error),
 * and then the same errno from every later call; warnings (a damaged
 * index rebuilt) go to store_warnings() as they would at open. */
int store_load(struct store *);

/* 1 when the items are loaded (store_load() has nothing left to do). */
int store_loaded(const struct store *);

/* 1 when an item with this ID is stored or pending, or was dropped by
 * store_compact() (dropped IDs stay seen for ever: the feeds still carry
 * them, and readers must not get them twice), else 0 (also when
 * store_load() fails). */
int store_seen(struct store *, const char *id);

/* store_seen(), and the version: 1 when the ID is seen, with *hash (when
 * hash is not NULL) the feed_item.hash of its latest pending version, or
 * else of its stored one; 0 for a dropped ID or a record written before
 * hashes were kept. 0 when not seen (*hash untouched), -EINVAL for an ID
 * that is not FEED_ID_LEN hex digits, or the error of store_load(). */
int store_lookup(struct store *, const char *id, uint64_t *hash);

/* Copies item into the pending batch and marks its ID seen; a stored of
 * FEED_TIME_NONE becomes now. An ID already stored (or dropped) makes an
 * update: once committed, the new version is the item (store_count() does
 * not grow; a dropped one comes back) and the old line stays in the log
 * until store_compact(). Of two versions of one ID in a batch, the later
 * wins. 0, -ENOMEM, -EINVAL (an ID that is not FEED_ID_LEN hex digits),
 * -EFBIG (a record over 32 MiB) or -EOVERFLOW. Nothing is on disk until
 * store_commit(). */
int store_add(struct store *, const struct feed_item *) STORE_WUR;
/* The line store_add() writes for item appended to b, made where the
 * store is not at hand (the parse thread), so that the loop only copies
 * it: item's ID and stored time are set. 0, -EINVAL (an ID that is not
 * FEED_ID_LEN hex digits, or no feed) or -ENOMEM. */
int store_record_prepare(struct feed_buf *b,
                         const struct feed_item *item) STORE_WUR;
/* store_add() of item with its line (len bytes) as store_record_prepare()
 * wrote it for this very item, unchanged since. */
int store_add_line(struct store *, const struct feed_item *item,
                   const char *line, size_t len) STORE_WUR;

/* Appends the pending batch to the current segment and fsyncs it, then
 * lists it in items/index (no fsync: a cache). 0, or a negative errno; on
 * failure the batch is dropped and the store is as before it: its new IDs
 * are no longer seen (so the next poll stores them again), the items it
 * updated are their previous version again, and what was stored before is
 * untouched. */
int store_commit(struct store *) STORE_WUR;

/* store_commit() in three steps, so that the wait for the disk does not
 * hold up the caller's thread:
 *
 * store_commit_write() appends the pending batch to the current segment
 * without a sync; it is then the batch in flight, and what store_add()
 * adds from then on is a new pending batch, which the next commit writes
 * after it. 0 (also when nothing is pending: then no batch is in flight),
 * -EBUSY while a batch is in flight, or a negative errno, after which all
 * is as after a failed store_commit().
 *
 * store_commit_sync() makes the batch in flight durable (fdatasync, and
 * an fsync of items/ for a new segment): 0 or a negative errno. It may
 * run on another thread while the owner uses the store, as long as the
 * owner calls neither store_commit*() nor store_compact() nor
 * store_close() meanwhile: it touches only the files written to.
 *
 * store_commit_finish() takes store_commit_sync()'s result: 0 lists the
 * batch in flight as stored (items/index, no fsync); an error drops it as
 * a failed store_commit() does (the batch added since stays pending), and
 * is returned. */
int store_commit_write(struct store *) STORE_WUR;
int store_commit_sync(struct store *) STORE_WUR;
int store_commit_finish(struct store *, int sync_rc) STORE_WUR;

/* 1 while a batch is in flight (written, not yet finished). */
int store_in_flight(const struct store *);

/* The bytes of the pending batch (not the batch in flight), for a caller
 * that puts the polls of several feeds in one commit and commits early
 * when they grow. */
size_t store_pending(const struct store *);

/* Live items committed so far (each version of an updated item counts
 * once; dropped ones not at all); 0 when store_load() fails. */
size_t store_count(struct store *);

/* The bytes of the segments that hold no live item (superseded versions,
 * dropped items, headers), and in *total (when not NULL) all of their
 * bytes: whether a compaction is worth its rewrite. 0 (and *total 0)
 * when store_load() fails. */
uint64_t store_waste(struct store *, uint64_t *total);

/* Retention. Drops the committed items whose feed_item_date() is before
 * now - keep_seconds (keep_seconds 0: no age limit), and those beyond the
 * newest keep_items in store_recent()'s order (0: no count limit), and the
 * old versions of updated items and any corrupt line; an item with a
 * pending version is never dropped, and the pending batch is left as it
 * is. Dropped IDs stay seen (store_seen()), also after a restart.
 *
 * Rewrites items/ as a new generation: written whole in items.new/ and
 * synced, then swapped in with two renames (items -> items.old, items.new
 * -> items) and a sync of dir; a crash anywhere leaves either the old or
 * the new store, which store_open() then completes. Nothing is rewritten
 * when there is nothing to drop. 0, or a negative errno (-EINVAL for a
 * negative keep_seconds) with the store as it was; but for a failed sync
 * of dir after the renames, which is reported with the new store in
 * place. */
int store_compact(struct store *, int64_t now, int64_t keep_seconds,
                  size_t keep_items) STORE_WUR;

/* Damaged records. Every record read back is checked first (its
 * checksum, its members and their types, that it is the item its place
 * says). One that fails gives one warning naming its segment and byte,
 * and its ID is forgotten: no longer seen (store_lookup() gives 0), not
 * counted, not listed, and not dropped either, so that the next poll of
 * its feed stores the entry again as new. */

/* How many damaged lines the store has found since it was opened (by the
 * scan at open, a torn last line included, and by reading records back).
 * Their entries are no longer in it: a caller that fetches its feeds
 * conditionally (ETag, Last-Modified) should fetch them whole once when
 * this grows, so that those entries are stored again. */
size_t store_damaged(const struct store *);

/* Calls fn on the newest n committed items, newest first by
 * feed_item_date() (ties: the later record first). The item is borrowed
 * for the call. A damaged record is skipped (and forgotten, above) and
 * the next one takes its place. Returns 0, the first non-zero value fn
 * returned, or a negative errno. */
typedef int store_item_fn(const struct feed_item *, void *arg);
int store_recent(struct store *, size_t n, store_item_fn *fn, void *arg);
/* Calls fn with the item of line (len bytes), a record that
 * store_record_prepare() made, valid during the call: fn's return, or
 * -EINVAL when line is not such a record. */
int store_record_item(const char *line, size_t len, store_item_fn *fn,
                      void *arg) STORE_WUR;

/* store_recent() among the items of the feeds named feeds[0, nfeeds)
 * (an item belongs to the feed that first carried it, its "feed"): the
 * newest n of them, newest first, from one pass over the index in memory
 * (O(count log n)). The first call reads every committed item's record
 * once to learn its feed; later calls read only those committed (or
 * rewritten by a compaction) since. When digest is not NULL it gets a
 * digest of which items and which versions those n are, before any is
 * read; fn may then be NULL, and none is read. Returns as store_recent(). */
int store_recent_feeds(struct store *, size_t n, const char *const *feeds,
                       size_t nfeeds, uint64_t *digest, store_item_fn *fn,
                       void *arg);

/* Commit order: the order of the index in memory, in which an item's
 * first version took its place (an update keeps it; a compaction keeps
 * the order of the items' latest versions in the log). */

/* Calls fn on the first n live committed items in commit order whose ID
 * is not among ids[0, nids) (sorted ascending), oldest first, borrowed
 * for the call; *count (when not NULL) gets how many such items there are
 * in all. One pass over the index, O(count log nids); only the records
 * handed to fn are read. A damaged record is skipped (and forgotten). 0,
 * fn's first non-zero value, or a negative errno. */
int store_first_except(struct store *, const uint64_t *ids, size_t nids,
                       size_t n, size_t *count, store_item_fn *fn, void *arg);

/* The same walk as store_first_except(), over the index alone: fn gets
 * the IDs (as numbers) of the first n committed items in commit order
 * whose IDs are not among ids[0, nids), no record read. 0, fn's first
 * non-zero value, or a negative errno. */
typedef int store_id_fn(uint64_t id, void *arg);
int store_first_ids_except(struct store *, const uint64_t *ids, size_t nids,
                           size_t n, store_id_fn *fn, void *arg);

/* 1 when a live committed item has this ID (not dropped, not damaged,
 * not only pending), else 0. */
int store_has(struct store *, uint64_t id);

/* A digest of the files of items/ as they are now: each segment's number,
 * size, inode and time of last change, and those of items/index and
 * items/dropped; from fstatat() alone, without loading the items. The
 * same value while none of them changed (a commit, a compaction, an index
 * rebuilt, damage written to one all change it), so that a caller who
 * made something of the items (store_recent()) can tell whether it is
 * still current. Not seeded: a later process gets the same value for the
 * same files. Never 0; 0 when a file cannot be looked at. */
uint64_t store_stamp(struct store *);

/* Calls fn on the latest version of the item with this ID (pending or
 * committed), borrowed for the call. fn's value, -ENOENT when there is
 * none (a dropped ID has none), -EBADMSG when its record is damaged (the
 * ID is then forgotten, above: store it again), -EINVAL for a bad ID, or
 * another negative errno when its record cannot be read. */
int store_get(struct store *, const char *id, store_item_fn *fn, void *arg);

/* ---- per-feed state ---- */

struct store_feed_state {
    char *etag;          /* NULL when none */
    char *last_modified; /* the Last-Modified header as sent */
    int64_t last_poll;   /* FEED_TIME_NONE when never */
    int64_t last_ok;     /* the last poll that succeeded; FEED_TIME_NONE
                          * when none, or in a line saved before it was
                          * kept */
    int64_t next_poll;
    int errors; /* consecutive failed polls */
    /* Why next_poll is then, as its owner numbers the reasons (0: the
     * interval); kept as a number, saved only when not 0. */
    int why;
    char *last_error; /* NULL when the last poll succeeded */
};

/* The state of feed, or NULL when none is kept. Borrowed: valid until the
 * next store_feed_state_set() for that feed or store_close(). */
const struct store_feed_state *store_feed_state_get(const struct store *,
                                                    const char *feed);
/* Copies st as the state of feed (st may point into the current state);
 * st == NULL forgets the feed. 0 or -ENOMEM. Saved by
 * store_feed_state_save(). */
int store_feed_state_set(struct store *, const char *feed,
                         const struct store_feed_state *st) STORE_WUR;
/* Appends to feeds.state the line of each feed whose state changed since
 * the last save (or writes the file whole, atomically, when most of it
 * is dead lines). The lines are written without an fdatasync, which
 * would make the caller (the loop) wait for the disk: a kill -9 keeps
 * them (they are in the page cache); a power failure may lose the last
 * ones, and their feeds are then polled again sooner, with the
 * validators before, which costs a full download and never an entry
 * (the entries a line vouches for are synced before it is written).
 * 0 or a negative errno. */
int store_feed_state_save(struct store *) STORE_WUR;
/* Syncs the lines store_feed_state_save() wrote, for a clean stop: with
 * times set, all of them; else only when one of them says more than
 * times (the last and next poll, the last success: an ETag,
 * Last-Modified, an error, a feed added or gone). 0 or a negative
 * errno. */
int store_feed_state_sync(struct store *, int times) STORE_WUR;

/* ---- reading beside the process that holds the store ----
 *
 * What `feedd list` shows while the daemon runs: read without the lock
 * that store_open() takes, writing nothing (and making no folder). A
 * line that the daemon is appending as they read (an unfinished last
 * line) is left out without a word; so is a damaged line, as at open.
 * A state_dir that does not exist yet reads as empty. */

/* The per-feed state as feeds.state holds it now: the latest line of
 * each feed counting, "gone" lines forgetting one, as store_open() would
 * load it. NULL on failure (a read error, out of memory), with a
 * one-line reason in err. Caller frees with store_states_close(). */
struct store_states;
struct store_states *store_states_open(const char *dir, char *err,
                                       size_t errlen);
/* The state of feed, or NULL when none is kept. Borrowed from st. */
const struct store_feed_state *store_states_find(const struct store_states *st,
                                                 const char *feed);
void store_states_close(struct store_states *);

/* A census of the stored entries: how many live entries each feed
 * carries, as store_count() would count them after store_open(). The
 * segments are read in order; of each ID the latest line that checks
 * (its checksum, its members) counts, so an updated entry counts once and
 * a damaged line leaves the version before it in force; IDs that
 * retention dropped are in no segment and count for nothing (one that
 * came back after it was dropped is in a segment, and counts). An entry
 * carried by several feeds (its record's "feed" and "also") counts once
 * for each of them. Memory is one slot per ID plus the feeds of each
 * line; time is linear in the size of the segments. If a retention
 * swaps the generation of items/ while it reads, it reads the new one.
 * NULL on failure (a read error, out of memory, a segment of a newer
 * format), with a one-line reason in err. Caller frees with
 * store_census_close(). */
struct store_census;
struct store_census *store_census_open(const char *dir, char *err,
                                       size_t errlen);
/* The live entries that feed carries (0 when none). */
size_t store_census_count(const struct store_census *, const char *feed);
/* The live entries in all (each counted once). */
size_t store_census_total(const struct store_census *);
/* The lines that did not check and were skipped. */
size_t store_census_damaged(const struct store_census *);
void store_census_close(struct store_census *);

/* ---- helpers ---- */

/* The last error's one-line reason ("" when none). */
const char *store_error(const struct store *);

/* Warnings gathered since the last call (recovery at open, skipped lines),
 * one per line, or NULL when there are none. The caller frees the string. */
char *store_warnings(struct store *);

/* Replaces path with data atomically: a temporary file in the same folder,
 * fsync, rename, fsync of the folder. 0 or a negative errno; on failure
 * before the rename the old file is untouched (a failed fsync of the
 * folder is reported after the new file is in place). */
int store_file_replace(const char *path, const void *data,
                       size_t len) STORE_WUR;
/* Writes exactly len bytes at off, through EINTR and short writes: 0 or
 * -errno. */
int store_write_all(int fd, const void *p, size_t len, uint64_t off) STORE_WUR;
/* Writes the contents of a file from its start to fd, which is open for
 * writing: 0 or a negative errno. */
typedef int store_fill_fn(int fd, void *arg);
/* store_file_replace() of a file whose contents fill() writes, so that
 * they need not be in memory at once. 0 or a negative errno (fill()'s
 * own, or the replacement's), as store_file_replace(). */
int store_file_replace_fn(const char *path, store_fill_fn *fill,
                          void *arg) STORE_WUR;

#endif

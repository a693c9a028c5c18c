/* daemon/ingest.h - what one poll of one feed brought, decided and stored:
 * each entry's stable ID, entries of one document that share an ID told
 * apart, and each entry then new (stored), edited (stored again under its
 * ID: an update, never a second entry), carried by one more feed (its list
 * of feeds grows) or the same as before (nothing written); then one commit.
 *
 * No event loop, no network, no logging: the entries come in through
 * ingest_add() and what happened comes back in struct ingest_result, for
 * the caller to log. Uses only the feeds/ and store/ public APIs. */
#ifndef FEEDD_INGEST_H
#define FEEDD_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <regex.h>

#include "feeds/id.h"
#include "feeds/item.h"
#include "store.h"

/* One feed's ingest, from one poll to the next. Opaque. */
struct ingest;

/* For the feed named feed (its config name, borrowed: it must outlive the
 * ingest), storing into s (borrowed likewise). rule is how its entries'
 * IDs are made; id_re (borrowed, may be NULL) is the feed's id_pattern,
 * tried first. NULL when out of memory. Free with ingest_free(). */
struct ingest *ingest_new(struct store *s, const char *feed,
                          enum feed_id_rule rule, const regex_t *id_re);
/* Frees ing and the batch it holds (nothing of that batch is stored). */
void ingest_free(struct ingest *ing);

/* Adds a copy of e to the poll's batch; its ID (by the feed's rule) and
 * content hash are worked out by ingest_prepare() or ingest_stage().
 * Touches nothing but the
 * batch, so it may run on another thread than the store's, as long as
 * the two do not overlap. feed_title (the document's own title, may be NULL)
 * and feed_url (where the feed is fetched from) are copied; now is when
 * it is first stored, if it is new. 0 or -ENOMEM (the batch keeps what it
 * had). */
int ingest_add(struct ingest *ing, const struct feed_entry *e,
               const char *feed_title, const char *feed_url, int64_t now);

/* At the end of the batch's document, on the thread that parsed it:
 * works out each entry's ID and content hash and makes its store record
 * (store_record_prepare()), the part of ingest_stage() that needs
 * nothing but the batch, so that the loop only copies the records of new
 * entries. Like ingest_add(), touches nothing but the batch. 0, or
 * -ENOMEM: ingest_stage() makes what is missing. */
int ingest_prepare(struct ingest *ing);

/* Entries of the batch whose store record ingest_prepare() made. */
size_t ingest_prepared(const struct ingest *ing);

/* Entries in the batch, repeats included. */
size_t ingest_pending(const struct ingest *ing);

struct ingest_result {
    size_t fresh;   /* new entries committed */
    size_t changed; /* entries committed again: edited, or one more feed */
    /* Entries left out, their record over the store's limit (store_add()'s
     * -EFBIG): not a failure; the first one's ID. */
    size_t too_big;
    char too_big_id[FEED_ID_LEN + 1];
    /* Entries that could not be stored (the others were): the first one's
     * ID and negative errno; -EIO means store_error() says why. */
    size_t failed;
    char failed_id[FEED_ID_LEN + 1];
    int failed_rc;
    /* When the commit failed (store_commit()'s negative errno; store_error()
     * says why): the entries it held, none of which is stored. fresh and
     * changed are then 0. */
    int commit_rc;
    size_t lost;
    /* After ingest_stage(): the batch staged, for the caller to free with
     * ingest_spent_free(), on the thread whose mallocs made most of it
     * when it can (parsing_release()). NULL when there is none. */
    void *spent;
};

/* Frees what ingest_stage() left in a result's spent (NULL: nothing). */
void ingest_spent_free(void *spent);

/* Resolves the batch as a whole, stores what is new or changed and
 * commits it (one write, one sync; no commit when nothing changed). whole
 * says the document was read to its end without error: only then are its
 * IDs remembered (a digest of them), so that at the next poll
 * of a document with the same IDs an entry that is the same as stored
 * costs no read of the store. now is the time of any edit. The
 * batch is emptied and freed whatever happens.
 * Returns 0 (then *res says what was stored and what failed, including a
 * failed commit), or a negative errno when the batch could not be
 * resolved at all (-ENOMEM): then nothing of it was stored. */
int ingest_finish(struct ingest *ing, int whole, int64_t now,
                  struct ingest_result *res);

/* ingest_finish() in two steps, so that the polls of several feeds can
 * share one commit: ingest_stage() resolves the batch and adds what is
 * new or changed to the store's pending batch, without committing, and
 * leaves the batch's memory in res->spent for the caller to free; the
 * caller then commits (store_commit(), for every feed staged since the
 * last commit) and tells each feed's ingest how that went with
 * ingest_committed(), which completes *res (commit_rc, lost) and
 * remembers the poll's IDs only when the commit held. */
int ingest_stage(struct ingest *ing, int whole, int64_t now,
                 struct ingest_result *res);
void ingest_committed(struct ingest *ing, int commit_rc,
                      struct ingest_result *res);

#endif

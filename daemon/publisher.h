/* daemon/publisher.h - the merged outputs: the newest max_items entries of
 * every feed as state_dir/public/feed.atom, feed.rss, feed.json and
 * index.html (written atomically, and only when their bytes change, so
 * that readers' validators stay valid) and handed to the HTTP server;
 * the same per tag as public/tag/NAME.* (publish_tags.c); and the merged
 * feed's RFC 5005 archive pages as public/archive/K.atom and K.rss
 * (archive.c), which the subscription documents (feed.atom, feed.rss)
 * link to and complete: they hold their newest max_items and every entry
 * no page holds yet. Publishes when its owner says so, at once or a
 * little later. Internal to daemon/; runs on the caller's libuv loop. */
#ifndef FEEDD_PUBLISHER_H
#define FEEDD_PUBLISHER_H

#include <uv.h>

#include "config.h"
#include "httpd.h"
#include "store.h"

struct publisher;

/* Called after each publish, well or not (the store may then hold
 * warnings from reading its records back). */
typedef void publisher_done_fn(void *arg);

/* A publisher of the entries of s, as cfg says (title, max_items, the
 * listen address for the feed's own URL, state_dir/public/), serving them
 * through httpd when it is not NULL. All three are borrowed and must
 * outlive it. done (may be NULL) is called with arg after each publish.
 * Reads what a previous run left beside feed.atom (public/.feed.atom.stamp:
 * what it was made from); feed.atom itself is read when first needed,
 * so that the same bytes are not written again. NULL on failure, logged
 * (out of memory, libuv).
 * Ended by publisher_close(). */
struct publisher *publisher_new(uv_loop_t *loop, struct store *s,
                                const struct config *cfg, struct httpd *httpd,
                                publisher_done_fn *done, void *arg);

/* Makes feed.atom now, hands it to the HTTP server (when its bytes
 * changed) and writes it to its file (when its bytes changed, or the last
 * write failed). The server gets the new bytes even when the file cannot
 * be written; the write is tried again at the next call. When the store's
 * files (store_stamp()), the title, the listen address, max_items and
 * feedd's version are what the feed.atom in place was made from, nothing
 * is made: the items are not read, not even loaded (store_load()), and
 * the server gets the file's bytes if it has none. 0, or a negative errno
 * (logged). */
int publisher_publish(struct publisher *);

/* publisher_publish() a little later: polls that end together share one.
 * Does nothing once the publisher is closing. */
void publisher_soon(struct publisher *);

/* From now on, publishes as cfg says (title, max_items, the listen
 * address for the feed's own URL), through httpd (may be NULL), both
 * borrowed as for publisher_new(); the old ones may be freed once this
 * returns. cfg's state_dir must be the one publisher_new() had. The next
 * publish hands its bytes to httpd even when they did not change. */
void publisher_reconfig(struct publisher *, const struct config *cfg,
                        struct httpd *httpd);

/* Stops its timer and closes its handle; the publisher frees itself from
 * the loop once it is closed. It must not be used after this call. */
void publisher_close(struct publisher *);

#endif

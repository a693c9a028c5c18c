/* daemon/websub.h - WebSub subscriptions (W3C WebSub): for each feed
 * whose document advertises a hub and a self URL, when public_url is set,
 * feedd subscribes at the hub with a callback under
 * <public_url>/websub/<token> and a secret of its own, answers the hub's
 * verification of that request, takes the pushes the hub then signs with
 * the secret as if the feed had been polled (poller_push()), renews the
 * lease at three quarters of what the hub granted, and unsubscribes from
 * a feed that left the config. While the hub pushes, the poller polls the
 * feed only every max(interval, a day), as a fallback (poller_websub()).
 *
 * The subscriptions persist in <state_dir>/websub.state (websub_int.h),
 * rewritten whole on each change (temp file, fsync, rename), so that a
 * restart neither loses a subscription nor asks for it again early.
 * Requests to hubs go through a fetcher of its own, on the loop, with the
 * settings' user_agent and timeouts. Internal to daemon/. */
#ifndef FEEDD_WEBSUB_H
#define FEEDD_WEBSUB_H

#include <uv.h>

#include "config.h"
#include "httpd.h"
#include "poller.h"

struct websub;

/* The path prefix of the callbacks. */
#define WEBSUB_PREFIX "/websub/"

/* WebSub for cfg's feeds (cfg borrowed, as by the poller, until
 * websub_reload() replaces it), with its callbacks served by httpd
 * (websub_serve()) from now on: made before the loop runs, it misses no
 * push, which waits for the loop. cfg->public_url must be set. Reads the
 * state file; bad lines of it are logged and skipped. Nothing is sent
 * before websub_start(). NULL on failure, with the reason logged. */
struct websub *websub_new(uv_loop_t *loop, const struct config *cfg,
                          struct httpd *httpd);

/* From now on pushes go into poller (borrowed: it must outlive the
 * websub, or websub_close() come first), whose feeds with a verified
 * subscription are polled only as the fallback, and requests to hubs are
 * sent when due. */
void websub_start(struct websub *, struct poller *poller);

/* Serves the callbacks on httpd (a new server after a reload's rebind),
 * a push's body capped at the largest max_size of the config's feeds
 * (each is held to its own). 0, or -1 with the reason logged. */
int websub_serve(struct websub *, struct httpd *httpd);

/* A whole document of feed advertised hub and self: subscribes when it
 * is not (or was to another hub or topic, then unsubscribes from that). */
void websub_seen(struct websub *, const char *feed, const char *hub,
                 const char *self);

/* A whole document of feed named no hub: a subscription of it is ended
 * (unsubscribed from, the feed polled at its interval again). */
void websub_unseen(struct websub *, const char *feed);

/* cfg replaces the config given before (which may be freed after): the
 * subscriptions of feeds no longer in it are unsubscribed from. */
void websub_reload(struct websub *, const struct config *cfg);

/* Saves the state, cancels the requests to hubs under way and frees the
 * websub once its handles are closed (the loop must run). Not to be used
 * after; the poller is not touched. */
void websub_close(struct websub *);

#endif

/* daemon/poller.h - when each feed is polled, and each poll: a timer per
 * feed, the schedule and the back-off after errors, the fetch, the bytes
 * into the feed's parser and its entries into its ingest (ingest.h), the
 * feed's state in the store. A finished poll is reported through the
 * callback its owner set; the poller calls nothing else above it.
 * Internal to daemon/; runs on the caller's libuv loop. */
#ifndef FEEDD_POLLER_H
#define FEEDD_POLLER_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "store.h"

struct poller;

/* What one finished poll brought. */
struct poller_report {
    const char *feed; /* its config name */
    size_t fresh;     /* new entries committed */
    size_t changed;   /* entries committed again (edited, one more feed) */
    int unstored;     /* some of its entries could not be stored */
    size_t active;    /* polls still under way, this one not counted */
    /* The URL the feed was permanently redirected to (301, 308) on this
     * and its two polls before, or NULL. */
    const char *moved_to;
    /* The WebSub hub and self URL the whole document advertised, or
     * NULL (both or neither). */
    const char *hub, *self;
    /* A whole document was read and parsed (not a 304, not a failure, not
     * a push): hub NULL then means the feed names no hub. */
    int whole;
};

/* Why a feed's next poll is when it is: store_feed_state's why. */
enum poller_why {
    POLLER_WHY_INTERVAL,    /* its interval, at its place in its host's cycle */
    POLLER_WHY_BACKOFF,     /* failed polls: the interval doubled */
    POLLER_WHY_RETRY_AFTER, /* the server's Retry-After (429, 503) */
    POLLER_WHY_CACHE,       /* Cache-Control max-age or Expires */
    POLLER_WHY_TTL,         /* the feed's ttl or sy:updatePeriod */
    POLLER_WHY_SKIP,        /* the feed's skipHours or skipDays */
    POLLER_WHY_WEBSUB,      /* its hub pushes: the long fallback interval */
    POLLER_NWHY
};

/* Called from the loop after each poll that ran to its end, well or not
 * (not for those poller_close() cancels), once its entries are committed
 * and the feed's state is saved. The report is borrowed for the call. */
typedef void poller_report_fn(const struct poller_report *, void *arg);

/* A poller for the feeds of cfg (borrowed: cfg must outlive it, or be
 * replaced by poller_reload() first), on loop,
 * storing into s (borrowed likewise), with cfg's caps on connections.
 * With once set, each feed is polled once by poller_start() and never
 * scheduled again. NULL on failure, with the reason logged (libcurl or
 * libuv failed, an id_pattern does not compile, out of memory); the loop
 * may then hold closing handles, so it must run before uv_loop_close().
 * Ended by poller_close(). */
struct poller *poller_new(uv_loop_t *loop, struct store *s,
                          const struct config *cfg, int once,
                          poller_report_fn *report, void *arg);

/* Polls every feed now (once), or arms each feed's first poll: when the
 * last run set a next poll still in the future, then (capped by the
 * feed's interval, or by the longest back-off for a failing feed);
 * otherwise soon, staggered. 0, or -1 with the reason logged. */
int poller_start(struct poller *);

/* Why the last save of feeds.state after a poll failed (a negative
 * errno, already logged), or 0 when it did not fail. */
int poller_save_rc(const struct poller *);

/* What poller_reload() did, by feed name. */
struct poller_changes {
    size_t added;   /* new names: polled at once */
    size_t removed; /* names gone: no longer polled */
    size_t changed; /* the same name, another location, interval, tags,
                       ID rule or id_pattern */
};

/* Polls the feeds of cfg from now on, instead of those of the config
 * given before (borrowed likewise; the old one may be freed once this
 * returns, whatever it returns). Feeds are told apart by name. A new
 * feed is polled at once. A removed one is no longer polled; a poll of
 * it under way is let finish, and what it brought is stored and
 * reported; nothing stored is forgotten. A changed feed's location, ID
 * rule and id_pattern apply from its next poll; its interval from its
 * next poll too, except that a shorter interval brings the next poll of
 * a feed without errors forward to within the new interval. cfg's
 * parallel and per_host apply at once: polls over the new caps go on,
 * and no more start until the count is under them. 0 with *changes set,
 * or -1 (out of memory, logged) with nothing changed: the old config is
 * still the one in force. Not for a poller made with once set. */
int poller_reload(struct poller *, const struct config *cfg,
                  struct poller_changes *changes);

/* Polls started and not yet done. */
size_t poller_active(const struct poller *);

/* Polls ended since the poller started, by result. */
struct poller_counts {
    uint64_t ok;           /* a body read whole (new entries or not) */
    uint64_t not_modified; /* 304 */
    uint64_t failed;       /* an error of any kind */
};
void poller_counts(const struct poller *, struct poller_counts *);

/* What the poller knows of a feed beyond the store's state of it. */
struct poller_feed_info {
    const char *name;     /* its config name */
    const char *location; /* its URL or path, as the config has it */
    int status;           /* its last poll's HTTP status; 0: none yet */
    uint32_t stored;      /* new entries stored from it since start */
};
/* Calls fn(info, arg) for each feed of the config. */
void poller_each(const struct poller *,
                 void (*fn)(const struct poller_feed_info *, void *arg),
                 void *arg);

/* Takes body (len bytes, borrowed for the call; content_type may be
 * NULL), pushed by the WebSub hub of feed, as if a poll of feed had
 * fetched it: parsed, its entries stored, the feed's poll line logged
 * ("pushed") and reported, its next poll armed again from now. 0 when
 * taken; 1 when feed was polling: the body is dropped and feed is polled
 * again as soon as that poll ends; -ENOENT when there is no such feed;
 * -ENOMEM. */
int poller_push(struct poller *, const char *feed, const char *body, size_t len,
                const char *content_type);

/* Whether feed's hub pushes to it (a verified subscription): then feed is
 * polled only every max(interval, a day), as a fallback; when it no
 * longer does, its next poll is within its interval again. */
void poller_websub(struct poller *, const char *feed, int on);

/* Ends the poller: no poll starts after this; polls under way are
 * cancelled and store what they had parsed (not reported); every handle
 * is closed, and the poller frees itself from the loop once they are.
 * It must not be used after this call. Call it exactly once. */
void poller_close(struct poller *);

#endif

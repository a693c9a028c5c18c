/* daemon/poller_int.h - what poller.c (the polls), poller_commit.c (their
 * group commit) and poller_feeds.c (a poller's feeds: made, freed, and
 * added, removed or changed by a reload) share. Internal to the poller. */
#ifndef FEEDD_POLLER_INT_H
#define FEEDD_POLLER_INT_H

#include <regex.h>
#include <stddef.h>

#include <uv.h>

#include "config.h"
#include "feeds/parse.h"
#include "fetch.h"
#include "ingest.h"
#include "parsing.h"
#include "poller.h"
#include "schedule.h"
#include "store.h"

/* What a poll's transfer said, kept from its end to the group commit. */
struct poll_outcome {
    int not_modified, cancelled;
    int ok; /* the whole body arrived without error (not a 304) */
    long status;
    int64_t retry_after, fresh_for; /* as struct fetch_result has them */
    int moved;                      /* url reached by permanent redirects */
    size_t entries;                 /* handed out by the parser */
    char *error;                    /* NULL when none */
    char *url;                      /* after redirects */
    char *etag;                     /* of a whole, clean response only */
    char *last_modified;
    char *location;   /* where this poll fetches from: the config's then */
    char *hub, *self; /* what a whole document advertised (WebSub), or NULL */
    unsigned char hub_unknown; /* its hub could not be copied (memory) */
    unsigned char push; /* its body was pushed (poller_push()): no fetch */
    int stage_rc;       /* ingest_stage()'s */
    struct ingest_result res;
    /* What the poll's end reads of its feed (name, location, interval)
     * once a reload removed it: the feed's cf points here. */
    struct config_feed own;
    /* The parse: made when the first byte of a body comes. On the parse
     * thread, from the document's first chunk to its end, the parser and
     * what on_entry() touches (entries, entry_rc, the ingest's batch) are
     * the thread's alone. */
    struct feed_parser *parser;
    struct parsing_doc doc;
    int entry_rc;           /* why on_entry() stopped the parser */
    uint32_t inline_bytes;  /* parsed on the loop, before (INLINE_MAX) */
    unsigned char pushed;   /* the parser has had bytes */
    unsigned char threaded; /* bytes of it went to the parse thread */
    unsigned char on_loop;  /* parsed on the loop in whole (LOOP_DOCS) */
    unsigned char begun;    /* a chunk of it was parsed or queued */
    /* Its transfer is held (the parse queue was full): in the poller's
     * list of held feeds, oldest first. */
    unsigned char held;
    struct poller_feed *held_next;
    /* While its transfer runs: in the poller's list of running polls,
     * when its last byte came (uv_now()), and whether it stalled (left
     * its host's count: sched_stalled()). */
    struct poller_feed *run_prev, *run_next;
    uint64_t last_byte;
    unsigned char stalled;
};

/* One configured feed. A daemon holds one for every feed for ever, so
 * what only a poll needs is small here or made at the poll's start (the
 * outcome, the parser, the ingest's batch). */
struct poller_feed {
    struct poller *p;
    /* In the config; a removed feed whose poll is under way points to
     * out->own, which holds what that poll's end reads. */
    const struct config_feed *cf;
    regex_t *id_re; /* cf->id_pattern, compiled; NULL when none */
    struct ingest *ing;
    struct poll_outcome *out; /* from the poll's start to the group commit */
    uint32_t slot;            /* its number in the schedule */
    uint32_t stored;          /* new entries stored from it since start */
    uint16_t status;          /* its last poll's HTTP status; 0: none */
    unsigned char removed;    /* freed once its poll is committed */
    unsigned char stale;  /* ID rules changed: a new ingest at the next poll */
    unsigned char rehost; /* location changed while running: host after */
    signed char kept;     /* during a reload: in the new config (-1: new) */
    unsigned char busy;
    unsigned char websub; /* its hub pushes: polled at the long interval */
    unsigned char repoll; /* a push came while it polled: poll again */
    /* Polls in a row that were permanently redirected to the URL whose
     * hash is moved_hash (a feed that moved for good is written so in the
     * config at the third). */
    unsigned char moved_polls;
    uint32_t moved_hash;
    /* What its last whole document said of when to ask again: ttl or
     * the syndication module's period (minutes, a day at most; 0: none),
     * skipHours (bit h: hour h UTC) and skipDays (bit d: 0 Sunday). */
    uint16_t hint_minutes;
    unsigned char skip_days;
    uint32_t skip_hours;
    char name[]; /* its own copy: the ingest and a removed feed use it */
};

struct poller {
    uv_loop_t *loop;
    struct poller_counts counts;
    struct store *store;
    const struct config *cfg;
    struct fetcher *fetcher;
    struct parsing *parsing;
    struct poller_feed *held, **held_tail; /* held transfers' feeds */
    size_t on_loop;       /* documents parsed on the loop in whole, now */
    uv_prepare_t prepare; /* before each wait of the loop */
    struct sched *sched;
    uv_timer_t timer;            /* the next due poll, or a free connection */
    uv_timer_t group_timer;      /* the group commit */
    uv_timer_t stall_timer;      /* while polls run: which are stalled */
    struct poller_feed *running; /* polls transferring, newest first */
    struct poller_feed **group;  /* polls ended, to be committed: room
                                    for every feed (cap) */
    size_t ngroup;
    size_t nflushed;   /* of the group, reported */
    size_t ncommitted; /* of the group, committed */
    int flushing;
    /* The commit in flight: group[ncommitted, nsync) are in it, its sync
     * runs on libuv's thread pool (sync_req), which sets sync_rc and
     * sync_ran under sync_mu. */
    int syncing;
    size_t nsync;
    uv_work_t sync_req;
    uv_mutex_t sync_mu;
    uv_cond_t sync_cv;
    int sync_init; /* sync_mu and sync_cv are made */
    int sync_ran, sync_rc;
    int flush_wanted, flush_report; /* a flush waits for the commit */
    struct poller_feed **feeds;     /* by number; NULL: a free number */
    size_t cap;                     /* of feeds and group */
    size_t open; /* handles not yet closed, the fetcher and the parsing
                    counted as one each */
    int once;
    int closing;
    int save_rc; /* why feeds.state could not be saved last time, or 0 */
    poller_report_fn *report;
    void *arg;
};

/* Sets the timer for what comes next: at once when a due poll may start
 * (a connection came free), else the earliest due time. */
void poller_rearm(struct poller *p);

/* poller_commit.c: f's poll, staged, joins the next group commit. */
void poller_group_add(struct poller_feed *f);
/* The group commit now (with commit set; else only the polls already
 * committed are reported): see poller_commit.c. */
void poller_group_flush(struct poller *p, int report, int commit);

/* poller.c, for the group commit: records f's state after its commit,
 * logs the poll's one line, schedules its next poll and (with report
 * set) reports it; saves feeds.state; one of p's handles is closed. */
void poller_poll_result(struct poller_feed *f, int report);
void poller_save_state(struct poller *p);
void poller_closed(struct poller *p);
/* Frees f's outcome: a feed between polls holds none. */
void poller_outcome_free(struct poller_feed *f);

/* A new feed of p for cf, without its number in the schedule: NULL, with
 * the reason logged, when out of memory or its id_pattern does not
 * compile. */
struct poller_feed *poller_feed_new(struct poller *p,
                                    const struct config_feed *cf);
/* Frees f and all it holds (not its number in the schedule). NULL is
 * nothing. */
void poller_feed_free(struct poller_feed *f);
/* f is no more: its number is freed in the schedule, and f itself. Not
 * while it polls or waits for the group commit. */
void poller_feed_drop(struct poller_feed *f);
/* f's ingest, for f->cf's ID rules: the regex of its id_pattern and a
 * new ingest, which replace the old ones (not while a poll of f is under
 * way or waits for the group commit). 0, or -1 with the reason logged
 * and f as it was. */
int poller_feed_rules(struct poller_feed *f);

/* poller_body.c: the fetch's data callback (a push goes through it as a
 * fetched body would): the body's bytes to f's parser, on the loop or
 * queued for the thread; FETCH_PAUSE when the transfer is held. */
int poller_on_data(const char *p, size_t n, const struct fetch_chunk *c,
                   const char **error, void *arg);
/* f's parser, made when the poll's first byte comes (a poll answered
 * 304, or failed, needs none): 0, or -1 when out of memory. */
int poller_parser_make(struct poller_feed *f);
/* Why f's parser failed: out of memory when the ingest stopped it so, or
 * when there is none; else the parser's own error. */
const char *poller_parse_error(const struct poller_feed *f);
/* Takes f out of the list of held feeds (nothing when it is not). */
void poller_unhold(struct poller_feed *f);
/* parsing_room_fn: the held transfers the thread would take now go on. */
void poller_on_room(void *arg);
/* Before each wait of the loop: see poller_body.c. */
void poller_on_prepare(uv_prepare_t *h);
/* f's document, if the loop parsed it in whole, no longer counts
 * against LOOP_DOCS. */
void poller_loop_doc_end(struct poller_feed *f);

/* poller.c, for poller_push.c: the fetch's end callback; the next poll
 * of f armed after a poll (errors in a row, the server's wait or -1,
 * why); what of the poll's entries could not be stored (see
 * poller_poll_result()). */
void poller_on_done(const struct fetch_result *r, void *arg);
void poller_schedule(struct poller_feed *f, int errors, int64_t wait, int why);
const char *poller_unstored_why(const struct poller_feed *f, char *what,
                                size_t size);
/* poller_push.c: a pushed document's end, in place of poller_poll_result()
 * for it: logged, reported, and the feed's next poll armed again. */
void poller_push_result(struct poller_feed *f, int report);
/* A push came while f polled (its repoll set): its next poll is now.
 * After its poll's next one was armed. */
void poller_repoll(struct poller_feed *f);

/* A feed whose hub pushes is polled at least this often, as a fallback. */
#define POLLER_WEBSUB_INTERVAL ((int64_t)24 * 3600)

/* Back-off after errors never waits longer than this; nor does the first
 * poll of a failing feed after a restart, nor what a server or a feed
 * asks. */
#define MAX_BACKOFF ((int64_t)24 * 3600)

/* poller_polite.c. */
/* Keeps what whole document fi said of when to ask again (ttl, else the
 * syndication period over its frequency, a day at most; skipHours,
 * skipDays) for f's polls after it. */
void poller_take_hints(struct poller_feed *f, const struct feed_info *fi);
/* The first time at or after t (seconds since the epoch) that f's
 * skipHours and skipDays allow; t when they allow it, or allow nothing. */
int64_t poller_skip_to(const struct poller_feed *f, int64_t t);
/* How long the server asked f to wait (seconds) and why (enum
 * poller_why), or -1: Retry-After on a 429 or 503 (the whole host waits
 * when a second feed of it is told so), or after a good poll (failed 0)
 * Cache-Control max-age or Expires longer than the interval. */
int64_t poller_server_wait(struct poller_feed *f, int failed, int *why);
/* The URL f moved to when this good poll (ok) is the third in a row
 * permanently redirected there; else NULL. */
const char *poller_moved_for_good(struct poller_feed *f, int ok);

#endif

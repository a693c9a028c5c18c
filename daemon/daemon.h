/* daemon/daemon.h - the running daemon's state, shared by daemon.c (start,
 * stop, signals), poll.c (one poll of one feed) and publish.c (the merged
 * outputs). Internal to daemon/. */
#ifndef FEEDD_DAEMON_H
#define FEEDD_DAEMON_H

#include <stddef.h>
#include <stdint.h>

#include <regex.h>
#include <uv.h>

#include "config.h"
#include "feeds/buf.h"
#include "store.h"

struct daemon;
struct poll_batch;

/* A configured feed at run time. */
struct feed_rt {
    struct daemon *d;
    const struct config_feed *cf;
    uv_timer_t timer;
    regex_t id_re; /* cf->id_pattern, compiled */
    int have_re;
    struct feed_parser *parser; /* while a poll is under way */
    struct poll_batch *batch;   /* the entries of that poll */
    size_t entries;
    int pushed;             /* the parser has had bytes */
    int busy;
    /* The IDs this feed carried at its last poll, sorted: an entry seen
     * there unchanged needs no look at the store. */
    uint64_t *known;
    size_t nknown;
};

struct daemon {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct fetcher *fetcher;
    struct httpd *httpd;
    struct feed_rt *feeds;
    size_t nfeeds;
    uv_signal_t sig[3];
    uv_timer_t publish_timer;
    uv_timer_t compact_timer; /* retention, once a day */
    char *public_dir;
    struct feed_buf published; /* the last feed.atom written */
    int served;                /* the HTTP server has it */
    int once;
    int stopping;
    int exit_code;
};

int64_t now_s(void);
/* dir "/" name, malloc'd; NULL when out of memory. */
char *path_join(const char *dir, const char *name);

/* daemon.c */
void daemon_stop(struct daemon *);
/* Applies keep and keep_items, and drops the old versions of updated
 * entries; logs what it did or why it could not. */
void daemon_compact(struct daemon *);

/* poll.c */
/* Sets up fr for cf (its timer on d's loop, its id_pattern). 0, or -1
 * with the reason logged. */
int feed_rt_init(struct feed_rt *fr, struct daemon *d,
                 const struct config_feed *cf);
/* Closes fr's timer and frees what it holds; after its poll ended. */
void feed_rt_close(struct feed_rt *fr);
void poll_feed(struct feed_rt *fr);
/* Arms fr's timer for its first poll, delay_ms from now. */
void poll_first(struct feed_rt *fr, uint64_t delay_ms);

/* publish.c */
/* Writes public/feed.atom from the newest max_items entries and hands it
 * to the HTTP server. 0, or a negative errno (logged). */
int publish(struct daemon *d);
/* Reads the feed.atom a previous run wrote, so that publishing the same
 * bytes again writes nothing (readers' validators stay valid). */
void publish_load(struct daemon *d);
/* publish() a little later: polls that end together share one. */
void publish_soon(struct daemon *d);

#endif

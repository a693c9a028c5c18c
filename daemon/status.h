/* daemon/status.h - how the daemon and each feed are doing, as the
 * documents readers' tools ask for: /metrics (Prometheus text format
 * 0.0.4), /status (an HTML table), /status.json and /healthz (a short
 * JSON summary). Pure rendering: the caller gathers the numbers (the
 * store's feed states, the poller's counts) into the structs below. No
 * libuv, no I/O. */
#ifndef FEEDD_STATUS_H
#define FEEDD_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/buf.h"

/* One feed. Strings are borrowed. */
struct status_feed {
    const char *name;
    const char *location;
    int64_t last_poll; /* FEED_TIME_NONE when never */
    int64_t last_ok;   /* the last successful poll, or FEED_TIME_NONE */
    int64_t next_poll; /* or FEED_TIME_NONE */
    int errors;        /* consecutive failed polls */
    const char *error; /* the last poll's error, or NULL */
    int status;        /* the last poll's HTTP status; 0: none */
    uint32_t stored;   /* new entries stored from it since start */
};

/* The whole daemon. */
struct status_totals {
    uint64_t polls_ok, polls_not_modified, polls_failed;
    size_t entries;       /* live entries in the store */
    uint64_t store_bytes; /* of its segments */
    int64_t started;      /* when the daemon started */
    int64_t now;
};

/* A feed is ok (its last poll succeeded), failing (it failed), or not yet
 * polled. */
enum status_health { STATUS_PENDING, STATUS_OK, STATUS_FAILING };
enum status_health status_health(const struct status_feed *);

/* Each appends its document to out: 0 or the buffer's error. */
int status_metrics(struct feed_buf *out, const struct status_totals *,
                   const struct status_feed *feeds, size_t n);
int status_json(struct feed_buf *out, const struct status_totals *,
                const struct status_feed *feeds, size_t n);
int status_html(struct feed_buf *out, const char *title,
                const struct status_totals *, const struct status_feed *feeds,
                size_t n);
/* {"status":"ok","feeds":N,"ok":N,"failing":N,"pending":N,"updated":T}:
 * the counts of feeds by status_health(), and now (so that each render
 * differs from the last: the server's staleness check reads its time). */
int status_healthz(struct feed_buf *out, size_t ok, size_t failing,
                   size_t pending, int64_t now);

#endif

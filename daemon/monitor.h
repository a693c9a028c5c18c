/* daemon/monitor.h - what `feedd run` says of its own health over HTTP:
 * /healthz, made on the loop every MONITOR_HEALTH_MS (the server answers
 * 503 once it is stale: the loop stopped), and /metrics, /status and
 * /status.json (status.h), made on the loop when asked (httpd.h's
 * httpd_set_dynamic()) from the poller's and the store's numbers, so
 * that nothing per feed is kept for them between requests. Internal to
 * daemon/; runs on the caller's libuv loop. */
#ifndef FEEDD_MONITOR_H
#define FEEDD_MONITOR_H

#include <stdint.h>

#include <uv.h>

#include "config.h"
#include "httpd.h"
#include "poller.h"
#include "store.h"

/* How often /healthz is made again (see HTTPD_HEALTHZ_STALE_S). */
#define MONITOR_HEALTH_MS 5000

struct monitor;

/* A monitor of the store s (borrowed: it must outlive the monitor) on
 * loop, for a daemon started at started (seconds since the epoch). NULL
 * on failure, logged. Ended by monitor_close(). */
struct monitor *monitor_new(uv_loop_t *loop, struct store *s, int64_t started);

/* Reports the feeds of cfg as the poller p sees them, served by h, from
 * now on (all borrowed, until the next call or monitor_close(); h may be
 * NULL: nothing is served): /metrics, /status and /status.json are set on
 * h, and /healthz is made now and every MONITOR_HEALTH_MS. Call it again
 * after a reload and whenever the server is replaced. 0, or -1 with the
 * reason logged (the paths not set on h then answer 404). */
int monitor_serve(struct monitor *, const struct config *cfg, struct poller *p,
                  struct httpd *h);

/* Ends the monitor: nothing is made after this, and its memory is freed
 * once its timer is closed. The server it was serving on must be closed
 * (httpd_close()) before the loop runs again, or served by another
 * monitor. Call it exactly once. */
void monitor_close(struct monitor *);

#endif

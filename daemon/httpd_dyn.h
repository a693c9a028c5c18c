/* daemon/httpd_dyn.h - the paths whose document the loop makes at request
 * time (httpd_set_dynamic()): the requests held for a render, the render
 * shared between them, and the 503s when the loop is late or the server
 * stops. Private to the server (httpd.c).
 *
 * Three threads meet here. libmicrohttpd's suspends a request and asks
 * the loop for a render (a uv_async_t); the loop makes it and resumes the
 * requests waiting for it; a watchdog thread of its own answers 503 to
 * those the loop leaves waiting past HTTPD_DYN_WAIT_MS, and lets go of a
 * render once HTTPD_DYN_SHARE_MS is over. What they share is under one
 * lock, never held while rendering nor while calling into libmicrohttpd
 * to resume. */
#ifndef HTTPD_DYN_H
#define HTTPD_DYN_H

#include <microhttpd.h>
#include <uv.h>

#include "httpd.h"

struct httpd_dyns;

/* An empty table: no handle, no thread yet. NULL for want of memory. */
struct httpd_dyns *httpd_dyns_new(void);

/* Adds or replaces path (see httpd_set_dynamic(), which checks the
 * arguments). The first makes the table's uv_async_t on loop (which keeps
 * the loop running until httpd_dyns_close()) and its watchdog thread. 0 or
 * -ENOMEM. On the loop. */
int httpd_dyns_set(struct httpd_dyns *, uv_loop_t *loop, const char *path,
                   const char *content_type, httpd_render_fn *render,
                   void *arg);

/* On libmicrohttpd's thread, for a whole GET or HEAD of path that no
 * document or file serves: 0 when path is not dynamic. Otherwise 1, with
 * *rc set: the request was answered (with a render still fresh, or 503),
 * or it was suspended with *con_cls set to its wait, to come back through
 * httpd_dyns_resumed(). gzip: the client accepts it. */
int httpd_dyns_answer(struct httpd_dyns *, struct MHD_Connection *conn,
                      const char *path, int gzip, void **con_cls,
                      enum MHD_Result *rc);

/* On libmicrohttpd's thread: answers a resumed request, whose *con_cls
 * is the wait httpd_dyns_answer() set. */
enum MHD_Result httpd_dyns_resumed(struct httpd_dyns *,
                                   struct MHD_Connection *conn, void *wait);

/* On libmicrohttpd's thread, when a request whose con_cls is a wait ends
 * (answered or not): frees the wait. */
void httpd_dyns_completed(struct httpd_dyns *, void *wait);

/* On the loop, before libmicrohttpd stops: every request held gets 503
 * ("Connection: close"), and so does every later one; waits until the
 * held ones are answered, HTTPD_DYN_STOP_WAIT_MS at most. */
void httpd_dyns_stop(struct httpd_dyns *);

/* On the loop, once libmicrohttpd has stopped (or before it started):
 * joins the watchdog, closes the handle and frees everything. 1 when
 * done(arg) will be called from the loop once the handle is closed and
 * all is freed; 0 when it was all freed at once (no handle was made), and
 * done is not called. */
int httpd_dyns_close(struct httpd_dyns *, void (*done)(void *), void *arg);

#endif

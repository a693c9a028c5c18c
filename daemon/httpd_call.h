/* daemon/httpd_call.h - the paths handed to a handler on the loop
 * (httpd_set_handler()): each request's query arguments, headers and
 * body taken on libmicrohttpd's thread, the request held while the loop
 * answers it, and the 503s when the server stops. Private to the server
 * (httpd.c).
 *
 * Two threads meet here. libmicrohttpd's reads a request, suspends it
 * and queues it for the loop (a uv_async_t); the loop calls the handler
 * and resumes it; libmicrohttpd's then sends the answer and frees the
 * request when it completes. What they share (the queue, the counts) is
 * under one lock, never held while calling the handler nor while
 * calling into libmicrohttpd to resume. */
#ifndef HTTPD_CALL_H
#define HTTPD_CALL_H

#include <microhttpd.h>
#include <uv.h>

#include "httpd.h"

struct httpd_calls;

/* An empty table: no handle yet. NULL for want of memory. */
struct httpd_calls *httpd_calls_new(void);

/* See httpd_set_handler(). 0, -EINVAL or -ENOMEM. On the loop. */
int httpd_calls_set(struct httpd_calls *, uv_loop_t *loop, const char *prefix,
                    size_t max_body, httpd_call_fn *fn, void *arg);

/* On libmicrohttpd's thread, for every call of the access handler: 0
 * when the request is not a handler's (its path is not under the prefix,
 * or it is neither GET nor POST, or it began before the handler was
 * set: con_cls is then the server's own h); else 1 with *rc set. */
int httpd_calls_answer(struct httpd_calls *, struct MHD_Connection *conn,
                       const char *url, const char *method, const void *h,
                       const char *upload, size_t *upload_len, void **con_cls,
                       enum MHD_Result *rc);

/* On libmicrohttpd's thread, when a request ends: 1 when con_cls was a
 * request of this table (then freed), else 0. */
int httpd_calls_completed(struct httpd_calls *, const void *con_cls);

/* On the loop, before libmicrohttpd stops: every request held gets 503,
 * and so does every later one; waits until the held ones are answered,
 * two seconds at most. */
void httpd_calls_stop(struct httpd_calls *);

/* On the loop, once libmicrohttpd has stopped (or never started): 1 when
 * done(arg) will be called from the loop once the handle is closed and
 * all freed; 0 when it was all freed at once (done is not called). */
int httpd_calls_close(struct httpd_calls *, void (*done)(void *), void *arg);

#endif

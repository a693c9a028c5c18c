/* daemon/httpd_dyn.c - documents made on the loop at request time (see
 * httpd_dyn.h and httpd_set_dynamic()).
 *
 * A render, once made, is an output: an identity response and maybe a
 * gzip one, each owning its bytes, counted by refs under the lock (the
 * path's "last" holds one while it is fresh, each request given it another
 * until its response is queued; libmicrohttpd then holds the response
 * until it is written). A request is held as a wait: in its path's list
 * while suspended, then, resumed, with its answer (an output, or a 503),
 * until libmicrohttpd says the request ended. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zlib.h>

#include "httpd_doc.h"
#include "httpd_dyn.h"
#include "strhash.h"

/* A render is fresh for HTTPD_DYN_SHARE_MS, or this many times as long
 * as it took when that is longer. */
#define HTTPD_DYN_FRESH_FACTOR 10

#ifndef HTTPD_DYN_STOP_WAIT_MS
#define HTTPD_DYN_STOP_WAIT_MS 2000
#endif

/* One render, shared. */
struct httpd_dyn_out {
    unsigned refs; /* under the lock */
    struct MHD_Response *resp, *resp_gz;
};

/* The 503s, and the 404 of a document the render says is gone. */
enum { DYN_LATE, DYN_FAILED, DYN_STOPPING, DYN_GONE, DYN_NCANNED };

/* One request held. */
struct httpd_dyn_wait {
    struct httpd_dyn_wait *next; /* in its path's list, while suspended */
    struct MHD_Connection *conn;
    int gzip;
    struct httpd_dyn_out *out; /* the answer once resumed; NULL: fail */
    int fail;                  /* which 503 */
};

/* One path. */
struct httpd_dyn {
    struct httpd_dyn *next;  /* every path, for the watchdog and the end */
    struct httpd_dyn *hnext; /* in its bucket of the table by path */
    struct httpd_dyn *wnext; /* in the wanted list, while want is set */
    char *path, *content_type;
    httpd_render_fn *render;
    void *arg;
    int want;                   /* a render asked of the loop, not yet begun */
    int rendering;              /* asked, not yet made */
    int want_gz;                /* one of the requests waiting takes gzip */
    int late;                   /* past HTTPD_DYN_WAIT_MS: 503 until it comes */
    int64_t asked_ms;           /* when the render was asked */
    int64_t made_ms;            /* when last was made */
    int64_t fresh_ms;           /* and how long it is given to requests */
    struct httpd_dyn_out *last; /* fresh: given to requests as they come */
    struct httpd_dyn_wait *waiting; /* suspended for the render */
};

struct httpd_dyns {
    uv_async_t async;
    void (*done)(void *);
    void *done_arg;
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the watchdog: a deadline moved, or quit */
    pthread_cond_t idle; /* httpd_dyns_stop(): a wait ended */
    pthread_t watchdog;
    int watching;            /* the watchdog runs */
    int quit;                /* under lock: the watchdog ends */
    int stopping;            /* under lock: every request gets 503 */
    unsigned live;           /* under lock: waits not yet ended */
    struct httpd_dyn *paths; /* changed on the loop under the lock */
    /* The same paths by their path (a power of two of buckets), so that
     * setting thousands of archive pages and answering a request do not
     * walk them all; and those with a render asked, for the loop. Under
     * the lock. */
    struct httpd_dyn **tab;
    size_t tab_cap, npaths;
    struct httpd_dyn *wanted;
    struct MHD_Response *canned[DYN_NCANNED];
};

static int64_t
now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- outputs ------------------------------------------------------------ */

static struct MHD_Response *
dyn_response(void *bytes, size_t len, const char *content_type, int gzip)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer_with_free_callback(len, bytes, free);
    if (r == NULL) {
        free(bytes);
        return NULL;
    }
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") !=
            MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") !=
            MHD_YES ||
        (gzip && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                         "gzip") != MHD_YES)) {
        MHD_destroy_response(r); /* frees bytes */
        return NULL;
    }
    return r;
}

/* An output of b's bytes, which it takes (freed on failure too), with a
 * gzip copy when gzip is set and that is smaller; refs 1. NULL for want of
 * memory. */
static struct httpd_dyn_out *
dyn_out_new(struct feed_buf *b, const char *content_type, int gzip)
{
    struct httpd_dyn_out *out = calloc(1, sizeof(*out));
    unsigned char *gz = NULL;
    size_t gz_len = 0;
    char *data = b->data;

    b->data = NULL;
    if (data == NULL)
        data = calloc(1, 1);
    if (out == NULL || data == NULL) {
        free(out);
        free(data);
        return NULL;
    }
    if (gzip)
        gz = httpd_gzip(data, b->len, Z_BEST_SPEED, &gz_len);
    out->refs = 1;
    if ((out->resp = dyn_response(data, b->len, content_type, 0)) == NULL) {
        free(gz);
        free(out);
        return NULL;
    }
    /* Without its gzip copy (no memory for it) it is still an answer. */
    if (gz != NULL)
        out->resp_gz = dyn_response(gz, gz_len, content_type, 1);
    return out;
}

/* Drops a reference taken under the lock; the caller does not hold it. */
static void
dyn_out_release(struct httpd_dyns *ds, struct httpd_dyn_out *out)
{
    unsigned refs;

    if (out == NULL)
        return;
    pthread_mutex_lock(&ds->lock);
    refs = --out->refs;
    pthread_mutex_unlock(&ds->lock);
    if (refs > 0)
        return;
    if (out->resp_gz != NULL)
        MHD_destroy_response(out->resp_gz);
    MHD_destroy_response(out->resp);
    free(out);
}

/* Resumes each wait of the list (taken out of its path's under the lock,
 * its answer set): libmicrohttpd then calls httpd_dyns_resumed(), which
 * may end it at once, so nothing of a wait is read after its resume. */
static void
dyn_resume(struct httpd_dyn_wait *list)
{
    while (list != NULL) {
        struct httpd_dyn_wait *next = list->next;

        list->next = NULL;
        MHD_resume_connection(list->conn);
        list = next;
    }
}

/* The waits of d, taken out under the lock, each answered with out (a
 * reference each) or else with the 503 fail. */
static struct httpd_dyn_wait *
dyn_take(struct httpd_dyn *d, struct httpd_dyn_out *out, int fail)
{
    struct httpd_dyn_wait *list = d->waiting;

    for (struct httpd_dyn_wait *w = list; w != NULL; w = w->next) {
        w->out = out;
        w->fail = fail;
        if (out != NULL)
            out->refs++;
    }
    d->waiting = NULL;
    return list;
}

/* ---- the watchdog (a thread of its own) --------------------------------- */

static void
deadline(struct timespec *ts, int64_t ms)
{
    ts->tv_sec = (time_t)(ms / 1000);
    ts->tv_nsec = (long)(ms % 1000) * 1000000L;
}

/* Answers 503 to the requests the loop left waiting too long, and lets
 * go of renders once they are no longer fresh; sleeps until the next of
 * those is due. */
static void *
dyn_watch(void *arg)
{
    struct httpd_dyns *ds = arg;
    struct timespec ts;

    pthread_mutex_lock(&ds->lock);
    while (!ds->quit) {
        struct httpd_dyn_wait *late = NULL;
        struct httpd_dyn_out *stale = NULL;
        int64_t now = now_ms(), next = INT64_MAX;

        for (struct httpd_dyn *d = ds->paths; d != NULL; d = d->next) {
            if (d->rendering && !d->late) {
                if (now - d->asked_ms >= HTTPD_DYN_WAIT_MS) {
                    d->late = 1;
                    late = dyn_take(d, NULL, DYN_LATE);
                } else if (d->asked_ms + HTTPD_DYN_WAIT_MS < next) {
                    next = d->asked_ms + HTTPD_DYN_WAIT_MS;
                }
            }
            if (d->last != NULL && stale == NULL) {
                if (now - d->made_ms >= d->fresh_ms) {
                    stale = d->last;
                    d->last = NULL;
                } else if (d->made_ms + d->fresh_ms < next) {
                    next = d->made_ms + d->fresh_ms;
                }
            }
            if (late != NULL || stale != NULL)
                break;
        }
        if (late != NULL || stale != NULL) {
            pthread_mutex_unlock(&ds->lock);
            dyn_resume(late);
            dyn_out_release(ds, stale);
            pthread_mutex_lock(&ds->lock);
            continue;
        }
        if (next == INT64_MAX) {
            pthread_cond_wait(&ds->wake, &ds->lock);
        } else {
            deadline(&ts, next);
            (void)pthread_cond_timedwait(&ds->wake, &ds->lock, &ts);
        }
    }
    pthread_mutex_unlock(&ds->lock);
    return NULL;
}

static size_t
path_bucket(const char *path, size_t cap)
{
    return (size_t)strhash(path) & (cap - 1);
}

/* The path's entry, or NULL. Under the lock (or on the loop, which alone
 * changes the table). */
static struct httpd_dyn *
dyn_find(const struct httpd_dyns *ds, const char *path)
{
    struct httpd_dyn *d;

    if (ds->tab_cap == 0)
        return NULL;
    for (d = ds->tab[path_bucket(path, ds->tab_cap)]; d != NULL; d = d->hnext)
        if (strcmp(d->path, path) == 0)
            return d;
    return NULL;
}

/* ---- the loop's side ---------------------------------------------------- */

/* Makes what was asked: each path wanted is rendered, and the requests
 * waiting for it resumed with it. */
static void
dyn_on_async(uv_async_t *a)
{
    struct httpd_dyns *ds = a->data;
    struct httpd_dyn *d, *next;

    /* The paths asked for: each was put on the list as its want was set,
     * and is taken off it (its next read) as its want is cleared, under
     * the lock; until its render is made no request sets it again. Only
     * the loop changes the paths: they stay while it runs. */
    pthread_mutex_lock(&ds->lock);
    d = ds->wanted;
    ds->wanted = NULL;
    pthread_mutex_unlock(&ds->lock);
    for (; d != NULL; d = next) {
        struct httpd_dyn_wait *list;
        struct httpd_dyn_out *out = NULL, *old;
        struct feed_buf b;
        int64_t t0;
        int want, rc;

        pthread_mutex_lock(&ds->lock);
        next = d->wnext;
        d->wnext = NULL;
        want = d->want && !ds->stopping;
        d->want = 0;
        pthread_mutex_unlock(&ds->lock);
        if (!want)
            continue;
        t0 = now_ms();
        feed_buf_init(&b, 0);
        if ((rc = d->render(d->arg, d->path, &b)) == 0) {
            int gz;

            pthread_mutex_lock(&ds->lock);
            gz = d->want_gz;
            pthread_mutex_unlock(&ds->lock);
            out = dyn_out_new(&b, d->content_type, gz);
        }
        feed_buf_free(&b);

        pthread_mutex_lock(&ds->lock);
        d->rendering = 0;
        d->late = 0;
        d->want_gz = 0;
        old = d->last;
        d->last = out; /* its reference */
        d->made_ms = now_ms();
        /* The loop spends a tenth of its time at most on each path. */
        d->fresh_ms = (d->made_ms - t0) * HTTPD_DYN_FRESH_FACTOR;
        if (d->fresh_ms < HTTPD_DYN_SHARE_MS)
            d->fresh_ms = HTTPD_DYN_SHARE_MS;
        list = dyn_take(d, out, rc == -ENOENT ? DYN_GONE : DYN_FAILED);
        pthread_cond_signal(&ds->wake);
        pthread_mutex_unlock(&ds->lock);
        dyn_resume(list);
        dyn_out_release(ds, old);
    }
}

/* httpd_canned() with Retry-After, and Connection: close when close. */
static struct MHD_Response *
dyn_canned(const char *body, int close)
{
    struct MHD_Response *r =
        httpd_canned(body, MHD_HTTP_HEADER_RETRY_AFTER, "5");

    if (r != NULL && close &&
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close") !=
            MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

static void dyn_free(struct httpd_dyns *ds);

struct httpd_dyns *
httpd_dyns_new(void)
{
    struct httpd_dyns *ds = calloc(1, sizeof(*ds));
    pthread_condattr_t attr;
    int ok;

    if (ds == NULL)
        return NULL;
    if (pthread_mutex_init(&ds->lock, NULL) != 0) {
        free(ds);
        return NULL;
    }
    if (pthread_condattr_init(&attr) != 0) {
        pthread_mutex_destroy(&ds->lock);
        free(ds);
        return NULL;
    }
    ok = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) == 0 &&
         pthread_cond_init(&ds->wake, &attr) == 0;
    if (ok && pthread_cond_init(&ds->idle, &attr) != 0) {
        pthread_cond_destroy(&ds->wake);
        ok = 0;
    }
    pthread_condattr_destroy(&attr);
    if (!ok) {
        pthread_mutex_destroy(&ds->lock);
        free(ds);
        return NULL;
    }
    ds->canned[DYN_LATE] = dyn_canned("503 Service Unavailable: the daemon's "
                                      "loop did not answer in time\n",
                                      0);
    ds->canned[DYN_FAILED] = dyn_canned(
        "503 Service Unavailable: the document could not be made\n", 0);
    ds->canned[DYN_STOPPING] =
        dyn_canned("503 Service Unavailable: the server is stopping\n", 1);
    ds->canned[DYN_GONE] = httpd_canned("404 Not Found\n", NULL, NULL);
    for (int i = 0; i < DYN_NCANNED; i++) {
        if (ds->canned[i] == NULL) {
            dyn_free(ds);
            return NULL;
        }
    }
    return ds;
}

/* The handle and the watchdog, made for the first path. */
static int
dyn_start(struct httpd_dyns *ds, uv_loop_t *loop)
{
    if (ds->async.data == NULL) {
        if (uv_async_init(loop, &ds->async, dyn_on_async) != 0)
            return -ENOMEM;
        ds->async.data = ds;
    }
    /* Without it, made, the handle waits for httpd_dyns_close(). */
    if (pthread_create(&ds->watchdog, NULL, dyn_watch, ds) != 0)
        return -ENOMEM;
    ds->watching = 1;
    return 0;
}

/* Twice the buckets (64 at first), the paths put in again: on the loop,
 * the new table made before the lock is taken. 0 or -ENOMEM. */
static int
dyn_grow(struct httpd_dyns *ds)
{
    size_t cap = ds->tab_cap ? 2 * ds->tab_cap : 64;
    struct httpd_dyn **tab = calloc(cap, sizeof(*tab)), **old;
    struct httpd_dyn *d;

    if (tab == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&ds->lock);
    for (d = ds->paths; d != NULL; d = d->next) {
        size_t b = path_bucket(d->path, cap);

        d->hnext = tab[b];
        tab[b] = d;
    }
    old = ds->tab;
    ds->tab = tab;
    ds->tab_cap = cap;
    pthread_mutex_unlock(&ds->lock);
    free(old);
    return 0;
}

int
httpd_dyns_set(struct httpd_dyns *ds, uv_loop_t *loop, const char *path,
               const char *content_type, httpd_render_fn *render, void *arg)
{
    struct httpd_dyn *d;
    char *type;

    if (!ds->watching && dyn_start(ds, loop) != 0)
        return -ENOMEM;
    if ((d = dyn_find(ds, path)) != NULL) {
        if ((type = strdup(content_type)) == NULL)
            return -ENOMEM;
        pthread_mutex_lock(&ds->lock);
        free(d->content_type);
        d->content_type = type;
        d->render = render;
        d->arg = arg;
        pthread_mutex_unlock(&ds->lock);
        return 0;
    }
    if ((d = calloc(1, sizeof(*d))) == NULL ||
        (d->path = strdup(path)) == NULL ||
        (d->content_type = strdup(content_type)) == NULL) {
        if (d != NULL)
            free(d->path);
        free(d);
        return -ENOMEM;
    }
    d->render = render;
    d->arg = arg;
    if (ds->npaths + 1 > ds->tab_cap / 4 * 3 && dyn_grow(ds) != 0) {
        free(d->content_type);
        free(d->path);
        free(d);
        return -ENOMEM;
    }
    pthread_mutex_lock(&ds->lock);
    d->next = ds->paths;
    ds->paths = d;
    {
        size_t b = path_bucket(path, ds->tab_cap);

        d->hnext = ds->tab[b];
        ds->tab[b] = d;
    }
    ds->npaths++;
    pthread_mutex_unlock(&ds->lock);
    return 0;
}

/* ---- libmicrohttpd's side ----------------------------------------------- */

int
httpd_dyns_answer(struct httpd_dyns *ds, struct MHD_Connection *conn,
                  const char *path, int gzip, void **con_cls,
                  enum MHD_Result *rc)
{
    struct httpd_dyn *d;
    struct httpd_dyn_out *out = NULL;
    struct httpd_dyn_wait *w;
    int fail = -1, ask = 0;

    pthread_mutex_lock(&ds->lock);
    if ((d = dyn_find(ds, path)) == NULL) {
        pthread_mutex_unlock(&ds->lock);
        return 0;
    }
    if (ds->stopping) {
        fail = DYN_STOPPING;
    } else if (d->last != NULL && now_ms() - d->made_ms < d->fresh_ms) {
        /* Without a gzip copy when none of the requests it was made for
         * took gzip: identity then, rather than a render more. */
        out = d->last;
        out->refs++;
    } else if (d->late) {
        fail = DYN_LATE;
    } else if ((w = calloc(1, sizeof(*w))) == NULL) {
        fail = DYN_FAILED;
    } else {
        /* Suspended under the lock: the loop, which resumes what it
         * finds in the list, never resumes it before. */
        w->conn = conn;
        w->gzip = gzip;
        w->next = d->waiting;
        d->waiting = w;
        d->want_gz |= gzip;
        if (!d->rendering) {
            d->rendering = 1;
            d->want = 1;
            d->wnext = ds->wanted;
            ds->wanted = d;
            d->asked_ms = now_ms();
            ask = 1;
            pthread_cond_signal(&ds->wake);
        }
        ds->live++;
        *con_cls = w;
        MHD_suspend_connection(conn);
    }
    pthread_mutex_unlock(&ds->lock);
    if (ask)
        (void)uv_async_send(&ds->async);
    if (out != NULL) {
        *rc = MHD_queue_response(
            conn, MHD_HTTP_OK, gzip && out->resp_gz ? out->resp_gz : out->resp);
        dyn_out_release(ds, out);
    } else if (fail >= 0) {
        *rc = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                 ds->canned[fail]);
    } else {
        *rc = MHD_YES;
    }
    return 1;
}

enum MHD_Result
httpd_dyns_resumed(struct httpd_dyns *ds, struct MHD_Connection *conn,
                   void *wait)
{
    struct httpd_dyn_wait *w = wait;
    struct httpd_dyn_out *out = w->out;
    enum MHD_Result rc;

    if (out == NULL)
        return MHD_queue_response(conn,
                                  w->fail == DYN_GONE
                                      ? MHD_HTTP_NOT_FOUND
                                      : MHD_HTTP_SERVICE_UNAVAILABLE,
                                  ds->canned[w->fail]);
    w->out = NULL;
    rc = MHD_queue_response(conn, MHD_HTTP_OK,
                            w->gzip && out->resp_gz ? out->resp_gz : out->resp);
    dyn_out_release(ds, out);
    return rc;
}

void
httpd_dyns_completed(struct httpd_dyns *ds, void *wait)
{
    struct httpd_dyn_wait *w = wait;

    dyn_out_release(ds, w->out);
    free(w);
    pthread_mutex_lock(&ds->lock);
    if (--ds->live == 0)
        pthread_cond_broadcast(&ds->idle);
    pthread_mutex_unlock(&ds->lock);
}

/* ---- the end ------------------------------------------------------------ */

void
httpd_dyns_stop(struct httpd_dyns *ds)
{
    struct httpd_dyn_wait *list = NULL, *tail;
    struct timespec ts;
    int64_t until = now_ms() + HTTPD_DYN_STOP_WAIT_MS;

    pthread_mutex_lock(&ds->lock);
    ds->stopping = 1;
    for (struct httpd_dyn *d = ds->paths; d != NULL; d = d->next) {
        struct httpd_dyn_wait *some = dyn_take(d, NULL, DYN_STOPPING);

        if (some == NULL)
            continue;
        for (tail = some; tail->next != NULL; tail = tail->next)
            ;
        tail->next = list;
        list = some;
    }
    pthread_mutex_unlock(&ds->lock);
    dyn_resume(list);
    deadline(&ts, until);
    pthread_mutex_lock(&ds->lock);
    while (ds->live > 0 && now_ms() < until)
        (void)pthread_cond_timedwait(&ds->idle, &ds->lock, &ts);
    pthread_mutex_unlock(&ds->lock);
}

/* Everything but the handle. */
static void
dyn_free(struct httpd_dyns *ds)
{
    while (ds->paths != NULL) {
        struct httpd_dyn *next = ds->paths->next;

        dyn_out_release(ds, ds->paths->last);
        free(ds->paths->path);
        free(ds->paths->content_type);
        free(ds->paths);
        ds->paths = next;
    }
    free(ds->tab);
    for (int i = 0; i < DYN_NCANNED; i++)
        if (ds->canned[i] != NULL)
            MHD_destroy_response(ds->canned[i]);
    pthread_cond_destroy(&ds->idle);
    pthread_cond_destroy(&ds->wake);
    pthread_mutex_destroy(&ds->lock);
    free(ds);
}

static void
dyn_on_closed(uv_handle_t *handle)
{
    struct httpd_dyns *ds = handle->data;
    void (*done)(void *) = ds->done;
    void *arg = ds->done_arg;

    dyn_free(ds);
    if (done != NULL)
        done(arg);
}

int
httpd_dyns_close(struct httpd_dyns *ds, void (*done)(void *), void *arg)
{
    if (ds->watching) {
        pthread_mutex_lock(&ds->lock);
        ds->quit = 1;
        pthread_cond_signal(&ds->wake);
        pthread_mutex_unlock(&ds->lock);
        pthread_join(ds->watchdog, NULL);
        ds->watching = 0;
    }
    if (ds->async.data == NULL) {
        dyn_free(ds);
        return 0;
    }
    ds->done = done;
    ds->done_arg = arg;
    uv_close((uv_handle_t *)&ds->async, dyn_on_closed);
    return 1;
}

/* daemon/httpd_call.c - requests answered by a handler on the loop (see
 * httpd_call.h and httpd_set_handler()).
 *
 * A request's life: libmicrohttpd's thread makes its struct call with
 * the head (method, path, query arguments and headers copied), reads a
 * POST's body into it, then suspends the connection and queues the call
 * under the lock; the loop, woken by the uv_async_t, takes the queue,
 * calls the handler for each call and resumes its connection, after
 * which it never touches the call again; libmicrohttpd's thread queues
 * the answer, and frees the call when the request completes (answered or
 * not). The calls alive are in a list, so that a request's end can tell
 * a call from the server's other uses of con_cls. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "httpd_call.h"
#include "httpd_doc.h"

#define CALL_STOP_WAIT_MS 2000
/* The query arguments and headers of one request: the head is 32 KiB at
 * most, and each pair costs 3 bytes more than it did there. */
#define CALL_PAIRS_MAX ((size_t)128 << 10)

enum call_stage { CALL_READING, CALL_HELD, CALL_ANSWERED };

struct call {
    struct httpd_call c;
    struct call *prev, *next; /* in the table's list of calls alive */
    struct call *queued;      /* in the loop's queue */
    struct MHD_Connection *conn;
    enum call_stage stage;
    int too_big; /* the body went past max_body */
    int early;   /* answered 413 with its head */
    int status;  /* the answer, once CALL_ANSWERED */
    struct feed_buf reply;
    struct feed_buf body;
};

struct httpd_calls {
    pthread_mutex_t lock;
    pthread_cond_t idle;
    char *prefix; /* set once, on the loop; read under the lock */
    size_t max_body;
    httpd_call_fn *fn;
    void *arg;
    uv_async_t async;             /* data set once made */
    struct call *alive;           /* under the lock */
    struct call *queue, **qtail;  /* under the lock */
    unsigned held;                /* suspended and not yet answered */
    int stopping;                 /* under the lock */
    struct MHD_Response *refused; /* 503, with Connection: close */
    struct MHD_Response *too_large;
    void (*done)(void *);
    void *done_arg;
};

/* ---- the request's pairs ---- */

static const char *
pairs_find(const struct httpd_call *c, char kind, const char *name)
{
    const char *p = c->pairs.data, *end;

    if (p == NULL)
        return NULL;
    for (end = p + c->pairs.len; p < end;) {
        const char *key = p + 1, *value = key + strlen(key) + 1;

        if (*p == kind &&
            (kind == 'h' ? strcasecmp(key, name) == 0 : strcmp(key, name) == 0))
            return value;
        p = value + strlen(value) + 1;
    }
    return NULL;
}

const char *
httpd_call_arg(const struct httpd_call *c, const char *name)
{
    return pairs_find(c, 'a', name);
}

const char *
httpd_call_header(const struct httpd_call *c, const char *name)
{
    return pairs_find(c, 'h', name);
}

static enum MHD_Result
pair_add(void *arg, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct call *x = arg;
    char k = kind == MHD_GET_ARGUMENT_KIND ? 'a' : 'h';

    if (value == NULL)
        value = "";
    /* What does not fit is left out: the head was capped already. */
    if (feed_buf_append(&x->c.pairs, &k, 1) != 0 ||
        feed_buf_append(&x->c.pairs, key, strlen(key) + 1) != 0 ||
        feed_buf_append(&x->c.pairs, value, strlen(value) + 1) != 0)
        return MHD_NO;
    return MHD_YES;
}

static void
call_free(struct call *x)
{
    feed_buf_free(&x->c.pairs);
    feed_buf_free(&x->body);
    free(x->c.body);
    feed_buf_free(&x->reply);
    free((char *)x->c.method);
    free((char *)x->c.path);
    free(x);
}

/* ---- the table ---- */

struct httpd_calls *
httpd_calls_new(void)
{
    struct httpd_calls *cs = calloc(1, sizeof(*cs));

    if (cs == NULL)
        return NULL;
    if (pthread_mutex_init(&cs->lock, NULL) != 0) {
        free(cs);
        return NULL;
    }
    if (pthread_cond_init(&cs->idle, NULL) != 0) {
        pthread_mutex_destroy(&cs->lock);
        free(cs);
        return NULL;
    }
    cs->qtail = &cs->queue;
    cs->refused = httpd_canned("503 Service Unavailable\n",
                               MHD_HTTP_HEADER_CONNECTION, "close");
    cs->too_large = httpd_canned("413 Content Too Large\n",
                                 MHD_HTTP_HEADER_CONNECTION, "close");
    if (cs->refused == NULL || cs->too_large == NULL) {
        (void)httpd_calls_close(cs, NULL, NULL);
        return NULL;
    }
    return cs;
}

/* ---- the loop's side ---- */

static void
calls_resume(struct call *list)
{
    while (list != NULL) {
        struct call *next = list->queued;
        struct MHD_Connection *conn = list->conn;

        /* The call is libmicrohttpd's thread's once resumed. */
        MHD_resume_connection(conn);
        list = next;
    }
}

static void
calls_on_async(uv_async_t *a)
{
    struct httpd_calls *cs = a->data;
    struct call *list, *x;
    int stopping;

    pthread_mutex_lock(&cs->lock);
    list = cs->queue;
    cs->queue = NULL;
    cs->qtail = &cs->queue;
    stopping = cs->stopping;
    pthread_mutex_unlock(&cs->lock);
    for (x = list; x != NULL; x = x->queued) {
        feed_buf_init(&x->reply, 0);
        x->status = stopping ? MHD_HTTP_SERVICE_UNAVAILABLE
                             : cs->fn(cs->arg, &x->c, &x->reply);
        x->stage = CALL_ANSWERED;
    }
    calls_resume(list);
}

int
httpd_calls_set(struct httpd_calls *cs, uv_loop_t *loop, const char *prefix,
                size_t max_body, httpd_call_fn *fn, void *arg)
{
    char *copy;

    if (prefix == NULL || prefix[0] != '/' || fn == NULL)
        return -EINVAL;
    if (cs->async.data != NULL) {
        /* Set again: the same prefix, a new cap or handler. */
        if (strcmp(prefix, cs->prefix) != 0)
            return -EINVAL;
        pthread_mutex_lock(&cs->lock);
        cs->max_body = max_body;
        cs->fn = fn;
        cs->arg = arg;
        pthread_mutex_unlock(&cs->lock);
        return 0;
    }
    if ((copy = strdup(prefix)) == NULL)
        return -ENOMEM;
    if (uv_async_init(loop, &cs->async, calls_on_async) != 0) {
        free(copy);
        return -ENOMEM;
    }
    cs->async.data = cs;
    pthread_mutex_lock(&cs->lock);
    cs->max_body = max_body;
    cs->fn = fn;
    cs->arg = arg;
    cs->prefix = copy;
    pthread_mutex_unlock(&cs->lock);
    return 0;
}

/* ---- libmicrohttpd's side ---- */

/* A new call for the head of a GET or POST of url, listed as alive. */
static struct call *
call_new(struct MHD_Connection *conn, const char *url, const char *method,
         size_t max_body)
{
    struct call *x = calloc(1, sizeof(*x));

    if (x == NULL)
        return NULL;
    feed_buf_init(&x->c.pairs, CALL_PAIRS_MAX);
    feed_buf_init(&x->body, max_body);
    feed_buf_init(&x->reply, 0);
    x->conn = conn;
    x->c.method = strdup(method);
    x->c.path = strdup(url);
    if (x->c.method == NULL || x->c.path == NULL) {
        call_free(x);
        return NULL;
    }
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, pair_add, x);
    (void)MHD_get_connection_values(conn, MHD_HEADER_KIND, pair_add, x);
    return x;
}

int
httpd_calls_answer(struct httpd_calls *cs, struct MHD_Connection *conn,
                   const char *url, const char *method, const void *h,
                   const char *upload, size_t *upload_len, void **con_cls,
                   enum MHD_Result *rc)
{
    struct call *x = *con_cls;
    int post = strcmp(method, MHD_HTTP_METHOD_POST) == 0, mine;
    size_t max_body;
    struct MHD_Response *resp;

    if (x == h)
        return 0;
    pthread_mutex_lock(&cs->lock);
    mine = cs->prefix != NULL &&
           strncmp(url, cs->prefix, strlen(cs->prefix)) == 0 &&
           (post || strcmp(method, MHD_HTTP_METHOD_GET) == 0);
    max_body = cs->max_body;
    pthread_mutex_unlock(&cs->lock);
    if (!mine)
        return 0;
    if (x == NULL) {
        const char *cl = MHD_lookup_connection_value(
            conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

        if ((x = call_new(conn, url, method, max_body)) == NULL) {
            *rc = MHD_NO;
            return 1;
        }
        pthread_mutex_lock(&cs->lock);
        x->next = cs->alive;
        if (cs->alive != NULL)
            cs->alive->prev = x;
        cs->alive = x;
        pthread_mutex_unlock(&cs->lock);
        *con_cls = x;
        /* Too large by its own account: answered before its body. */
        if (post && cl != NULL && strtoull(cl, NULL, 10) > max_body) {
            x->early = 1;
            *rc = MHD_queue_response(conn, MHD_HTTP_CONTENT_TOO_LARGE,
                                     cs->too_large);
            return 1;
        }
        *rc = MHD_YES;
        return 1;
    }
    if (x->early) {
        *upload_len = 0;
        *rc = MHD_YES;
        return 1;
    }
    if (*upload_len != 0) {
        /* A GET's body is dropped; a POST's too long one ends it all. */
        if (post && !x->too_big &&
            feed_buf_append(&x->body, upload, *upload_len) != 0)
            x->too_big = 1;
        *upload_len = 0;
        *rc = x->too_big ? MHD_NO : MHD_YES;
        return 1;
    }
    if (x->stage == CALL_READING) {
        if (post) {
            x->c.body = x->body.data != NULL ? x->body.data : strdup("");
            x->c.len = x->body.len;
            feed_buf_init(&x->body, 0);
            if (x->c.body == NULL) {
                *rc = MHD_NO;
                return 1;
            }
        }
        /* Suspended under the lock: the loop, which resumes what it
         * finds queued, never resumes it before. */
        pthread_mutex_lock(&cs->lock);
        if (cs->stopping) {
            pthread_mutex_unlock(&cs->lock);
            *rc = MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                     cs->refused);
            return 1;
        }
        x->stage = CALL_HELD;
        x->queued = NULL;
        *cs->qtail = x;
        cs->qtail = &x->queued;
        cs->held++;
        MHD_suspend_connection(conn);
        pthread_mutex_unlock(&cs->lock);
        (void)uv_async_send(&cs->async);
        *rc = MHD_YES;
        return 1;
    }
    /* Resumed: the loop's answer. */
    resp = MHD_create_response_from_buffer(
        x->reply.len, x->reply.len ? x->reply.data : (void *)"",
        MHD_RESPMEM_MUST_COPY);
    if (resp != NULL &&
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; charset=utf-8") != MHD_YES) {
        MHD_destroy_response(resp);
        resp = NULL;
    }
    if (resp != NULL) {
        *rc = MHD_queue_response(conn, (unsigned)x->status, resp);
        MHD_destroy_response(resp);
    } else
        *rc =
            MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, cs->refused);
    pthread_mutex_lock(&cs->lock);
    if (--cs->held == 0)
        pthread_cond_broadcast(&cs->idle);
    pthread_mutex_unlock(&cs->lock);
    return 1;
}

int
httpd_calls_completed(struct httpd_calls *cs, const void *con_cls)
{
    struct call *x;

    pthread_mutex_lock(&cs->lock);
    for (x = cs->alive; x != NULL && x != con_cls; x = x->next)
        ;
    if (x != NULL) {
        if (x->prev != NULL)
            x->prev->next = x->next;
        else
            cs->alive = x->next;
        if (x->next != NULL)
            x->next->prev = x->prev;
    }
    pthread_mutex_unlock(&cs->lock);
    if (x == NULL)
        return 0;
    call_free(x);
    return 1;
}

/* ---- the end ---- */

void
httpd_calls_stop(struct httpd_calls *cs)
{
    struct call *list, *x;
    struct timespec ts;

    pthread_mutex_lock(&cs->lock);
    cs->stopping = 1;
    list = cs->queue;
    cs->queue = NULL;
    cs->qtail = &cs->queue;
    pthread_mutex_unlock(&cs->lock);
    for (x = list; x != NULL; x = x->queued) {
        x->status = MHD_HTTP_SERVICE_UNAVAILABLE;
        x->stage = CALL_ANSWERED;
    }
    calls_resume(list);
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += CALL_STOP_WAIT_MS / 1000;
    pthread_mutex_lock(&cs->lock);
    while (cs->held > 0)
        if (pthread_cond_timedwait(&cs->idle, &cs->lock, &ts) != 0)
            break;
    pthread_mutex_unlock(&cs->lock);
}

static void
calls_free(struct httpd_calls *cs)
{
    /* libmicrohttpd has stopped: every call was completed, and freed. */
    while (cs->alive != NULL) {
        struct call *next = cs->alive->next;

        call_free(cs->alive);
        cs->alive = next;
    }
    if (cs->refused != NULL)
        MHD_destroy_response(cs->refused);
    if (cs->too_large != NULL)
        MHD_destroy_response(cs->too_large);
    free(cs->prefix);
    pthread_cond_destroy(&cs->idle);
    pthread_mutex_destroy(&cs->lock);
    free(cs);
}

static void
calls_on_closed(uv_handle_t *handle)
{
    struct httpd_calls *cs = handle->data;
    void (*done)(void *) = cs->done;
    void *arg = cs->done_arg;

    calls_free(cs);
    if (done != NULL)
        done(arg);
}

int
httpd_calls_close(struct httpd_calls *cs, void (*done)(void *), void *arg)
{
    if (cs->async.data == NULL) {
        calls_free(cs);
        return 0;
    }
    cs->done = done;
    cs->done_arg = arg;
    uv_close((uv_handle_t *)&cs->async, calls_on_closed);
    return 1;
}

/* daemon/httpd.c - the reader-facing HTTP server on libmicrohttpd (see
 * httpd.h).
 *
 * Two threads touch the server. The loop's makes it, sets documents and
 * closes it; libmicrohttpd's own (one internal thread polling with epoll)
 * accepts, reads requests and writes responses, calling back into this file
 * for each connection and request. What they share is the table of
 * documents, under h->lock, held only to find or swap a document and to
 * count references to it.
 *
 * A document is immutable once made: its bytes, its gzip copy, validators
 * and two libmicrohttpd responses (identity and gzip) that point at those
 * bytes. The table holds one reference; a request being answered holds
 * another between finding the document and queueing its response. Once
 * queued, libmicrohttpd holds the response (its own reference count) until
 * the last byte is written, and the bytes are freed by the response's free
 * callback when the last response goes. So a document swapped out while a
 * slow reader is still being served lives until that reader is done. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "feeds/date.h"
#include "httpd.h"
#include "httpd_call.h"
#include "httpd_doc.h"
#include "httpd_dyn.h"
#include "httpd_file.h"
#include "httpd_request.h"
#include "httpd_setup.h"
#include "log.h"

/* The timeouts can be lowered at build time, which the unit test does to
 * reach them quickly; so can the limits (httpd_setup.c). */
#ifndef HTTPD_TIMEOUT_S
#define HTTPD_TIMEOUT_S 10 /* a connection idle this long is closed */
#endif

#ifndef HTTPD_HEAD_TIMEOUT_S
#define HTTPD_HEAD_TIMEOUT_S 10 /* for a whole request head to arrive */
#endif
#ifndef HTTPD_READY_WAIT_S
#define HTTPD_READY_WAIT_S 10 /* before the first document, at most */
#endif

#define HTTPD_MAX_FIELD 256 /* path and content type in httpd_set() */
#define HTTPD_BUCKETS 64

/* The fixed answers, made once per server. */
enum httpd_canned {
    HTTPD_HEALTHZ,
    HTTPD_BAD_REQUEST,
    HTTPD_NOT_FOUND,
    HTTPD_NOT_ALLOWED,
    HTTPD_UNAVAILABLE,
    HTTPD_STALE,
    HTTPD_NCANNED
};

/* A connection waiting for a request head, in h->waiting: oldest first,
 * since each is appended when it starts waiting and all wait as long. */
struct httpd_wait {
    struct httpd_wait *prev, *next;
    int fd;
    int listed;
    int64_t deadline; /* CLOCK_MONOTONIC seconds */
};

struct httpd {
    uv_loop_t *loop;
    uv_timer_t closer; /* never started: calls done from the loop */
    struct MHD_Daemon *mhd;
    int port;
    unsigned soft_limit; /* more connections than this get 503 */
    unsigned nconns;     /* open; only libmicrohttpd's thread counts */
    struct httpd_wait *waiting, *waiting_tail; /* only that thread, too */
    atomic_int starting; /* libmicrohttpd's messages go to start_err */
    char start_err[256];
    char *tls_cert, *tls_key; /* PEM, kept while the server runs */
    struct MHD_Response *canned[HTTPD_NCANNED];
    pthread_mutex_t lock;
    pthread_cond_t ready_cond;
    int ready; /* under lock: a document was set, or waiting ended */
    struct httpd_doc *docs[HTTPD_BUCKETS]; /* under lock */
    struct httpd_file *files;              /* under lock */
    struct httpd_dyns *dyns;   /* paths made at request time: its own lock */
    struct httpd_calls *calls; /* paths a handler answers: its own lock */
    int closing;               /* handles still to close */
    void (*done)(void *);
    void *done_arg;
};

/* ---- documents --------------------------------------------------------- */

static unsigned
httpd_bucket(const char *path)
{
    uint32_t hash = UINT32_C(2166136261);

    for (; *path != '\0'; path++) {
        hash ^= (unsigned char)*path;
        hash *= UINT32_C(16777619);
    }
    return hash % HTTPD_BUCKETS;
}

/* The document at path, or NULL; under h->lock, or on the loop. */
static struct httpd_doc *
httpd_doc_find(struct httpd *h, const char *path)
{
    for (struct httpd_doc *d = h->docs[httpd_bucket(path)]; d != NULL;
         d = d->next)
        if (strcmp(d->path, path) == 0)
            return d;
    return NULL;
}

/* Drops a reference taken under h->lock; the last lets go of the
 * responses, which libmicrohttpd frees once no connection writes them. */
static void
httpd_doc_release(struct httpd *h, struct httpd_doc *doc)
{
    unsigned refs;

    pthread_mutex_lock(&h->lock);
    refs = --doc->refs;
    pthread_mutex_unlock(&h->lock);
    if (refs == 0)
        httpd_doc_drop(doc);
}

/* Whether s is short and free of control characters, so that it can go
 * into a header line or name a document. */
static int
httpd_field_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return i <= HTTPD_MAX_FIELD;
}

int
httpd_set(struct httpd *h, const char *path, const char *content_type,
          const void *data, size_t len, int64_t mtime)
{
    struct httpd_doc *doc, *old, **pp;

    assert(h != NULL);
    if (path == NULL || path[0] != '/' || strchr(path, '?') != NULL ||
        !httpd_field_ok(path) || content_type == NULL ||
        !httpd_field_ok(content_type) || (data == NULL && len > 0))
        return -EINVAL;
    /* Only the loop writes the table: it reads it without the lock. */
    old = httpd_doc_find(h, path);
    if (old != NULL && httpd_doc_same(old, content_type, data, len))
        return 0;
    if ((doc = httpd_doc_new(path, content_type, data, len, mtime)) == NULL)
        return -ENOMEM;

    pthread_mutex_lock(&h->lock);
    for (pp = &h->docs[httpd_bucket(path)]; *pp != old; pp = &(*pp)->next)
        ;
    doc->next = old != NULL ? old->next : NULL;
    *pp = doc;
    if (!h->ready) {
        h->ready = 1;
        pthread_cond_broadcast(&h->ready_cond);
    }
    pthread_mutex_unlock(&h->lock);
    if (old != NULL)
        httpd_doc_release(h, old);
    return 0;
}

/* ---- requests (on libmicrohttpd's thread) ------------------------------ */

/* What the request's header fields ask, gathered in two passes: the
 * representation first, then its validators. */
struct httpd_conds {
    int hosts;        /* Host fields */
    int gzip;         /* Accept-Encoding takes gzip */
    int has_inm;      /* an If-None-Match field came */
    int inm_match;    /* one matched etag */
    int64_t ims;      /* the first valid If-Modified-Since, or NONE */
    const char *etag; /* of the representation chosen */
};

static enum MHD_Result
httpd_scan_encoding(void *arg, enum MHD_ValueKind kind, const char *key,
                    const char *value)
{
    struct httpd_conds *c = arg;

    if (strcasecmp(key, MHD_HTTP_HEADER_HOST) == 0)
        c->hosts++;
    else if (value != NULL &&
             strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0 &&
             httpd_accepts_gzip(value))
        c->gzip = 1;
    return MHD_YES;
}

static enum MHD_Result
httpd_scan_validators(void *arg, enum MHD_ValueKind kind, const char *key,
                      const char *value)
{
    struct httpd_conds *c = arg;

    if (value == NULL)
        return MHD_YES;
    if (strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
        c->has_inm = 1;
        if (httpd_etag_match(value, c->etag))
            c->inm_match = 1;
    } else if (c->ims == FEED_TIME_NONE &&
               strcasecmp(key, MHD_HTTP_HEADER_IF_MODIFIED_SINCE) == 0) {
        c->ims = feed_date_parse_http(value);
    }
    return MHD_YES;
}

/* Finds the document for path, with a reference the caller drops with
 * httpd_doc_release(); NULL when there is none. Until the first document
 * is set (the loop publishes right after making the server), waits for
 * it, up to HTTPD_READY_WAIT_S once: a reader who comes that early waits,
 * as the connection would in the backlog, rather than hear 404. */
static struct httpd_doc *
httpd_doc_get(struct httpd *h, const char *path)
{
    struct httpd_doc *doc;
    struct timespec until;

    pthread_mutex_lock(&h->lock);
    if (!h->ready) {
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += HTTPD_READY_WAIT_S;
        while (!h->ready)
            if (pthread_cond_timedwait(&h->ready_cond, &h->lock, &until) ==
                ETIMEDOUT)
                h->ready = 1;
    }
    doc = httpd_doc_find(h, path);
    if (doc == NULL && strcmp(path, "/") == 0)
        doc = httpd_doc_find(h, "/index.html");
    if (doc != NULL)
        doc->refs++;
    pthread_mutex_unlock(&h->lock);
    return doc;
}

/* ---- request heads' deadline (on libmicrohttpd's thread) --------------
 * libmicrohttpd closes a connection idle for HTTPD_TIMEOUT_S, but a client
 * sending a byte a second is never idle. So each connection has
 * HTTPD_HEAD_TIMEOUT_S from its start, or from the end of its previous
 * response, to send a whole request head; past that it is shut down, when
 * the next connection or request comes: what it would keep out. */

static int64_t
httpd_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void
httpd_wait_unlist(struct httpd *h, struct httpd_wait *w)
{
    if (!w->listed)
        return;
    if (w->prev != NULL)
        w->prev->next = w->next;
    else
        h->waiting = w->next;
    if (w->next != NULL)
        w->next->prev = w->prev;
    else
        h->waiting_tail = w->prev;
    w->prev = w->next = NULL;
    w->listed = 0;
}

static void
httpd_wait_list(struct httpd *h, struct httpd_wait *w)
{
    httpd_wait_unlist(h, w);
    w->deadline = httpd_now() + HTTPD_HEAD_TIMEOUT_S;
    w->prev = h->waiting_tail;
    if (h->waiting_tail != NULL)
        h->waiting_tail->next = w;
    else
        h->waiting = w;
    h->waiting_tail = w;
    w->listed = 1;
}

/* Shuts down the connections past their deadline; libmicrohttpd then sees
 * them end and closes them. */
static void
httpd_wait_sweep(struct httpd *h)
{
    int64_t now = httpd_now();

    while (h->waiting != NULL && h->waiting->deadline <= now) {
        struct httpd_wait *w = h->waiting;

        httpd_wait_unlist(h, w);
        (void)shutdown(w->fd, SHUT_RDWR);
    }
}

/* The connection's wait, or NULL when it has none (out of memory). */
static struct httpd_wait *
httpd_wait_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return info != NULL ? info->socket_context : NULL;
}

/* A request answered: its connection waits for the next head. */
static void
httpd_on_completed(void *arg, struct MHD_Connection *conn, void **con_cls,
                   enum MHD_RequestTerminationCode code)
{
    struct httpd *h = arg;
    struct httpd_wait *w = httpd_wait_of(conn);

    /* A request held for a render: its wait ends with it. */
    if (*con_cls != NULL && *con_cls != h &&
        httpd_calls_completed(h->calls, *con_cls))
        *con_cls = NULL;
    if (*con_cls != NULL && *con_cls != h) {
        httpd_dyns_completed(h->dyns, *con_cls);
        *con_cls = NULL;
    }
    if (w != NULL && code == MHD_REQUEST_TERMINATED_COMPLETED_OK)
        httpd_wait_list(h, w);
}

/* The response for path when a file serves it (httpd_set_file()), with
 * *status; NULL when none does or it cannot be read. */
static struct MHD_Response *
httpd_file_get(struct httpd *h, struct MHD_Connection *conn, const char *path,
               int gzip, unsigned *status)
{
    char filename[4096], type[256];
    const struct httpd_file *f;
    const char *ims;

    pthread_mutex_lock(&h->lock);
    for (f = h->files; f != NULL && strcmp(f->path, path) != 0; f = f->next)
        ;
    if (f != NULL) {
        snprintf(filename, sizeof(filename), "%s", f->filename);
        snprintf(type, sizeof(type), "%s", f->content_type);
    }
    pthread_mutex_unlock(&h->lock);
    if (f == NULL)
        return NULL;
    ims = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                      MHD_HTTP_HEADER_IF_MODIFIED_SINCE);
    return httpd_file_response(
        filename, type,
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                    MHD_HTTP_HEADER_IF_NONE_MATCH),
        ims ? feed_date_parse_http(ims) : FEED_TIME_NONE, gzip, status);
}

static enum MHD_Result
httpd_answer(void *arg, struct MHD_Connection *conn, const char *url,
             const char *method, const char *version, const char *upload,
             size_t *upload_len, void **con_cls)
{
    struct httpd *h = arg;
    struct httpd_conds c = {0, 0, 0, 0, FEED_TIME_NONE, NULL};
    struct httpd_doc *doc;
    struct MHD_Response *resp;
    unsigned status = MHD_HTTP_OK;
    enum MHD_Result rc;

    if (*con_cls == NULL) {
        struct httpd_wait *w = httpd_wait_of(conn);

        if (w != NULL)
            httpd_wait_unlist(h, w); /* the head is in */
        httpd_wait_sweep(h);
    }
    /* Answered at once, before any body, the connection is closed after
     * the response: right for these two. */
    if (h->nconns > h->soft_limit)
        return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                  h->canned[HTTPD_UNAVAILABLE]);
    if (httpd_calls_answer(h->calls, conn, url, method, h, upload, upload_len,
                           con_cls, &rc))
        return rc;
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 &&
        strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                  h->canned[HTTPD_NOT_ALLOWED]);
    /* The others once the request is whole, which keeps the connection
     * open: the first call comes with the head, the last with no more
     * body (a GET's body, if any, is read and dropped in between). */
    if (*con_cls == NULL) {
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_len != 0) {
        *upload_len = 0;
        return MHD_YES;
    }
    /* Back from a render (httpd_dyns_answer() set its wait). */
    if (*con_cls != h)
        return httpd_dyns_resumed(h->dyns, conn, *con_cls);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, httpd_scan_encoding, &c);
    /* RFC 9112 §3.2: exactly one Host in HTTP/1.1, at most one before. */
    if (c.hosts > 1 ||
        (c.hosts == 0 && strcmp(version, MHD_HTTP_VERSION_1_0) != 0))
        return MHD_queue_response(conn, MHD_HTTP_BAD_REQUEST,
                                  h->canned[HTTPD_BAD_REQUEST]);
    /* httpd_unescape() left "" for a target that names no path. */
    if ((doc = httpd_doc_get(h, url)) == NULL) {
        if ((resp = httpd_file_get(h, conn, url, c.gzip, &status)) != NULL) {
            rc = MHD_queue_response(conn, status, resp);
            MHD_destroy_response(resp);
            return rc;
        }
        if (httpd_dyns_answer(h->dyns, conn, url, c.gzip, con_cls, &rc))
            return rc;
        if (strcmp(url, "/healthz") == 0)
            return MHD_queue_response(conn, MHD_HTTP_OK,
                                      h->canned[HTTPD_HEALTHZ]);
        return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND,
                                  h->canned[HTTPD_NOT_FOUND]);
    }

    /* A /healthz the loop stopped making: the loop no longer runs. */
    if (strcmp(url, "/healthz") == 0 &&
        doc->mtime + HTTPD_HEALTHZ_STALE_S < (int64_t)time(NULL)) {
        httpd_doc_release(h, doc);
        return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                  h->canned[HTTPD_STALE]);
    }
    if (c.gzip && doc->resp_gz != NULL) {
        resp = doc->resp_gz;
        c.etag = doc->etag_gz;
    } else {
        resp = doc->resp;
        c.etag = doc->etag;
    }
    MHD_get_connection_values(conn, MHD_HEADER_KIND, httpd_scan_validators, &c);
    /* RFC 9110 §13.2.2: If-None-Match when present, else
     * If-Modified-Since. The 304 is the 200's response without its body:
     * the same validators, and a Content-Length equal to the 200's. */
    if (c.has_inm ? c.inm_match
                  : c.ims != FEED_TIME_NONE && doc->mtime <= c.ims)
        status = MHD_HTTP_NOT_MODIFIED;
    rc = MHD_queue_response(conn, status, resp);
    httpd_doc_release(h, doc);
    return rc;
}

/* libmicrohttpd's decoding of the target's path (and of query arguments),
 * replaced for the path by httpd_target_path()'s, which refuses NUL and
 * bad escapes and takes the absolute form: what it refuses becomes "",
 * which names no document. Anything else (query arguments, a target
 * that is neither form) as libmicrohttpd decodes it, unless that would
 * give a NUL or a path: then "" too. */
static size_t
httpd_unescape(void *arg, struct MHD_Connection *conn, char *s)
{
    if (s[0] != '/' && strncasecmp(s, "http://", 7) != 0 &&
        strncasecmp(s, "https://", 8) != 0) {
        if (strstr(s, "%00") != NULL || MHD_http_unescape(s) == 0 ||
            s[0] == '/')
            s[0] = '\0';
        return strlen(s);
    }
    if (httpd_target_path(s, s, strlen(s) + 1) != 0)
        s[0] = '\0';
    return strlen(s);
}

/* Counts connections for the soft limit, and gives each its wait for a
 * request head. libmicrohttpd calls it on its one thread, as it does
 * httpd_answer(): no lock. */
static void
httpd_on_conn(void *arg, struct MHD_Connection *conn, void **socket_context,
              enum MHD_ConnectionNotificationCode code)
{
    struct httpd *h = arg;
    struct httpd_wait *w;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *info;

        h->nconns++;
        httpd_wait_sweep(h);
        info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (info != NULL && (w = calloc(1, sizeof(*w))) != NULL) {
            w->fd = info->connect_fd;
            httpd_wait_list(h, w);
            *socket_context = w;
        }
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        h->nconns--;
        if ((w = *socket_context) != NULL) {
            httpd_wait_unlist(h, w);
            free(w);
            *socket_context = NULL;
        }
    }
}

static void httpd_on_log(void *arg, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* libmicrohttpd's messages: while starting, the first is kept for the
 * error; after, debug lines (a connection refused over a limit is one). */
static void
httpd_on_log(void *arg, const char *fmt, va_list ap)
{
    struct httpd *h = arg;
    char line[256];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    while (n > 0 && line[n - 1] == '.')
        line[--n] = '\0';
    /* The first says most: the others are its consequences. */
    if (atomic_load(&h->starting) && h->start_err[0] == '\0')
        memcpy(h->start_err, line, n + 1);
    else
        log_debug("httpd: %s", line);
}

/* ---- the server -------------------------------------------------------- */

static void httpd_free(struct httpd *);

/* The server on fd, a listening socket bound to port, which it takes:
 * closed on failure too. NULL on failure, with the reason in err after
 * where (e.g. "listen on fd 3"), or naming the TLS file at fault. */
static struct httpd *
httpd_serve(uv_loop_t *loop, int fd, int port, const struct httpd_tls *tls,
            const char *where, char *err, size_t errlen)
{
    unsigned total, soft, per_ip;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                     MHD_ALLOW_SUSPEND_RESUME;
    struct httpd *h = calloc(1, sizeof(*h));
    pthread_condattr_t attr;

    if (h == NULL || pthread_mutex_init(&h->lock, NULL) != 0) {
        free(h);
        close(fd);
        snprintf(err, errlen, "%s: %s", where, strerror(ENOMEM));
        return NULL;
    }
    if (pthread_condattr_init(&attr) != 0 ||
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC) != 0 ||
        pthread_cond_init(&h->ready_cond, &attr) != 0) {
        pthread_mutex_destroy(&h->lock);
        free(h);
        close(fd);
        snprintf(err, errlen, "%s: %s", where, strerror(ENOMEM));
        return NULL;
    }
    pthread_condattr_destroy(&attr);
    h->loop = loop;
    h->port = port;
    if (tls != NULL) {
        h->tls_cert = httpd_read_pem("tls_cert", tls->cert_file,
                                     "-----BEGIN CERTIFICATE-----",
                                     "certificate", err, errlen);
        if (h->tls_cert == NULL)
            goto fail;
        h->tls_key =
            httpd_read_pem("tls_key", tls->key_file, "PRIVATE KEY-----",
                           "private key", err, errlen);
        if (h->tls_key == NULL)
            goto fail;
        flags |= MHD_USE_TLS;
    }
    h->canned[HTTPD_HEALTHZ] = httpd_canned("ok\n", NULL, NULL);
    h->canned[HTTPD_BAD_REQUEST] =
        httpd_canned("400 Bad Request\n", NULL, NULL);
    h->canned[HTTPD_NOT_FOUND] = httpd_canned("404 Not Found\n", NULL, NULL);
    h->canned[HTTPD_NOT_ALLOWED] = httpd_canned(
        "405 Method Not Allowed\n", MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    h->canned[HTTPD_STALE] =
        httpd_canned("503 Service Unavailable: the daemon's loop has not "
                     "answered for a while\n",
                     NULL, NULL);
    h->canned[HTTPD_UNAVAILABLE] = httpd_canned(
        "503 Service Unavailable\n", MHD_HTTP_HEADER_CONNECTION, "close");
    h->dyns = httpd_dyns_new();
    h->calls = httpd_calls_new();
    for (int i = 0; i < HTTPD_NCANNED; i++) {
        if (h->canned[i] == NULL || h->dyns == NULL || h->calls == NULL) {
            snprintf(err, errlen, "%s: %s", where, strerror(ENOMEM));
            goto fail;
        }
    }

    httpd_limits(&total, &soft, &per_ip);
    h->soft_limit = soft;
    atomic_init(&h->starting, 1);
    /* From here libmicrohttpd owns fd, and closes it when it fails. */
    /* The logger first, for libmicrohttpd to use it from the start; the
     * TLS options last, cut off by MHD_OPTION_END without TLS. */
    h->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, httpd_answer, h, MHD_OPTION_EXTERNAL_LOGGER,
        httpd_on_log, h, MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, total, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
        per_ip, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTPD_TIMEOUT_S,
        MHD_OPTION_NOTIFY_CONNECTION, httpd_on_conn, h,
        MHD_OPTION_NOTIFY_COMPLETED, httpd_on_completed, h,
        MHD_OPTION_UNESCAPE_CALLBACK, httpd_unescape, h,
        tls != NULL ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, h->tls_cert,
        MHD_OPTION_HTTPS_MEM_KEY, h->tls_key, MHD_OPTION_END);
    fd = -1;
    atomic_store(&h->starting, 0);
    if (h->mhd == NULL) {
        if (tls != NULL)
            snprintf(err, errlen, "tls_cert %s, tls_key %s: %s", tls->cert_file,
                     tls->key_file,
                     h->start_err[0] != '\0' ? h->start_err
                                             : "cannot start TLS");
        else
            snprintf(err, errlen, "%s: %s", where,
                     h->start_err[0] != '\0' ? h->start_err
                                             : "cannot start the server");
        goto fail;
    }
    if (uv_timer_init(loop, &h->closer) != 0) {
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
        snprintf(err, errlen, "%s: %s", where, strerror(ENOMEM));
        goto fail;
    }
    h->closer.data = h;
    return h;

fail:
    if (fd >= 0)
        close(fd);
    httpd_free(h);
    return NULL;
}

/* Everything but the libmicrohttpd daemon, which is stopped. */
static void
httpd_free(struct httpd *h)
{
    for (int b = 0; b < HTTPD_BUCKETS; b++) {
        while (h->docs[b] != NULL) {
            struct httpd_doc *next = h->docs[b]->next;

            httpd_doc_release(h, h->docs[b]);
            h->docs[b] = next;
        }
    }
    while (h->files != NULL) {
        struct httpd_file *next = h->files->next;

        httpd_file_free(h->files);
        h->files = next;
    }
    for (int i = 0; i < HTTPD_NCANNED; i++)
        if (h->canned[i] != NULL)
            MHD_destroy_response(h->canned[i]);
    /* Closed already, unless the server never started (no handle). */
    if (h->dyns != NULL)
        (void)httpd_dyns_close(h->dyns, NULL, NULL);
    if (h->calls != NULL)
        (void)httpd_calls_close(h->calls, NULL, NULL);
    pthread_cond_destroy(&h->ready_cond);
    pthread_mutex_destroy(&h->lock);
    free(h->tls_cert);
    free(h->tls_key);
    free(h);
}

struct httpd *
httpd_new_tls(uv_loop_t *loop, const char *host, int port, int fd,
              const struct httpd_tls *tls, char *err, size_t errlen)
{
    const char *why = NULL;
    char where[96], ignored[8];
    int bound = 0;

    if (err == NULL || errlen == 0) {
        err = ignored;
        errlen = sizeof(ignored);
    }
    if (fd >= 0) {
        snprintf(where, sizeof(where), "listen on fd %d", fd);
        if (httpd_adopt(fd, &bound, &why) != 0) {
            snprintf(err, errlen, "%s: %s", where, why);
            return NULL;
        }
    } else {
        int v6;

        if (host == NULL)
            host = "";
        v6 = strchr(host, ':') != NULL && host[0] != '[';
        snprintf(where, sizeof(where), "listen %s%s%s:%d", v6 ? "[" : "", host,
                 v6 ? "]" : "", port);
        if ((fd = httpd_listen(host, port, &bound, &why)) < 0) {
            snprintf(err, errlen, "%s: %s", where, why);
            return NULL;
        }
    }
    return httpd_serve(loop, fd, bound, tls, where, err, errlen);
}

struct httpd *
httpd_new(uv_loop_t *loop, const char *host, int port, char *err, size_t errlen)
{
    return httpd_new_tls(loop, host, port, -1, NULL, err, errlen);
}

struct httpd *
httpd_new_fd(uv_loop_t *loop, int fd, char *err, size_t errlen)
{
    if (fd < 0) {
        if (err != NULL && errlen > 0)
            snprintf(err, errlen, "listen on fd %d: %s", fd, strerror(EBADF));
        return NULL;
    }
    return httpd_new_tls(loop, NULL, 0, fd, NULL, err, errlen);
}

int
httpd_set_file(struct httpd *h, const char *path, const char *content_type,
               const char *filename)
{
    struct httpd_file *f, **pp;

    if (path[0] != '/' || strlen(path) > 256 || strlen(content_type) > 255 ||
        strlen(filename) >= 4096)
        return -EINVAL;
    if ((f = httpd_file_new(path, content_type, filename)) == NULL)
        return -ENOMEM;
    pthread_mutex_lock(&h->lock);
    for (pp = &h->files; *pp != NULL && strcmp((*pp)->path, path) != 0;
         pp = &(*pp)->next)
        ;
    if (*pp != NULL) {
        f->next = (*pp)->next;
        httpd_file_free(*pp);
    }
    *pp = f;
    pthread_mutex_unlock(&h->lock);
    return 0;
}

int
httpd_set_dynamic(struct httpd *h, const char *path, const char *content_type,
                  httpd_render_fn *render, void *arg)
{
    assert(h != NULL && render != NULL);
    if (path == NULL || path[0] != '/' || strchr(path, '?') != NULL ||
        !httpd_field_ok(path) || content_type == NULL ||
        !httpd_field_ok(content_type))
        return -EINVAL;
    return httpd_dyns_set(h->dyns, h->loop, path, content_type, render, arg);
}

int
httpd_set_handler(struct httpd *h, const char *prefix, size_t max_body,
                  httpd_call_fn *fn, void *arg)
{
    assert(h != NULL && fn != NULL);
    if (prefix == NULL || !httpd_field_ok(prefix))
        return -EINVAL;
    return httpd_calls_set(h->calls, h->loop, prefix, max_body, fn, arg);
}

int
httpd_port(const struct httpd *h)
{
    return h->port;
}

/* One handle closed; the last frees the server. */
static void
httpd_close_step(void *arg)
{
    struct httpd *h = arg;
    void (*done)(void *) = h->done;
    void *done_arg = h->done_arg;

    if (--h->closing > 0)
        return;
    httpd_free(h);
    if (done != NULL)
        done(done_arg);
}

static void
httpd_on_closed(uv_handle_t *handle)
{
    httpd_close_step(handle->data);
}

void
httpd_close(struct httpd *h, void (*done)(void *arg), void *arg)
{
    assert(h->mhd != NULL);
    pthread_mutex_lock(&h->lock);
    h->ready = 1; /* a request waiting for the first document ends */
    pthread_cond_broadcast(&h->ready_cond);
    pthread_mutex_unlock(&h->lock);
    /* Requests held for a render are answered before libmicrohttpd
     * stops, which it cannot do while any is suspended. */
    httpd_dyns_stop(h->dyns);
    httpd_calls_stop(h->calls);
    /* Joins libmicrohttpd's thread, which closes every connection: no
     * callback of ours runs after this. */
    MHD_stop_daemon(h->mhd);
    h->mhd = NULL;
    h->done = done;
    h->done_arg = arg;
    h->closing = 1 + httpd_dyns_close(h->dyns, httpd_close_step, h) +
                 httpd_calls_close(h->calls, httpd_close_step, h);
    h->dyns = NULL;
    h->calls = NULL;
    uv_close((uv_handle_t *)&h->closer, httpd_on_closed);
}

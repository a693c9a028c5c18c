/* daemon/httpd.c - the reader-facing HTTP server (see httpd.h).
 *
 * A connection lives through three states. READING: bytes go into a fixed
 * buffer until the empty line that ends the header block; the whole request
 * must arrive within HTTPD_REQUEST_TIMEOUT_MS of the accept and fit in
 * HTTPD_MAX_REQUEST bytes. WRITING: the response head and the body (the
 * document's own bytes, which the write holds a reference to) are queued in
 * one uv_write. DRAINING: our side is shut down and whatever the peer still
 * sends is read and dropped until its EOF, so that closing cannot turn into
 * a reset that destroys the response before the client read it (RFC 7230
 * §6.6). Every state has a deadline, and every end goes through
 * httpd_conn_close(); the memory is freed when both handles are closed. */
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "feeds/date.h"
#include "feeds/id.h"
#include "httpd.h"
#include "httpd_request.h"
#include "log.h"

/* The timeouts, the retry delay and the connection cap can be lowered at
 * build time, which the unit test does to exercise them quickly. */
#ifndef HTTPD_REQUEST_TIMEOUT_MS
#define HTTPD_REQUEST_TIMEOUT_MS 10000 /* accept to end of the headers */
#endif
#ifndef HTTPD_WRITE_TIMEOUT_MS
#define HTTPD_WRITE_TIMEOUT_MS 60000 /* the whole response */
#endif
#ifndef HTTPD_LINGER_MS
#define HTTPD_LINGER_MS 2000 /* waiting for the peer's EOF after ours */
#endif
#ifndef HTTPD_RETRY_MS
#define HTTPD_RETRY_MS 1000 /* accepting again after running out of memory */
#endif
#ifndef HTTPD_MAX_CONNS
#define HTTPD_MAX_CONNS 256
#endif

#define HTTPD_MAX_REQUEST 8192 /* request line and header fields */
#define HTTPD_MAX_FIELD 256    /* path and content type in httpd_set() */
#define HTTPD_HEAD_SIZE 1024
#define HTTPD_BACKLOG 128
#define HTTPD_CACHE_CONTROL "max-age=60"

struct httpd_doc {
    struct httpd_doc *next;
    unsigned refs; /* 1 while it is the one set, +1 per write in flight */
    int64_t mtime;
    const char *path;
    const char *content_type;
    const char *data;
    size_t len;
    char etag[FEED_ID_LEN + 3]; /* '"', 16 hex digits, '"' */
    char last_modified[FEED_HTTPDATE_LEN + 1];
    /* path, content type and data follow in the same allocation */
};

enum httpd_state {
    HTTPD_READING,
    HTTPD_WRITING,
    HTTPD_DRAINING,
};

struct httpd_conn {
    struct httpd_conn *prev, *next;
    struct httpd *httpd;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    struct httpd_doc *doc; /* the body of the write in flight, if a doc */
    enum httpd_state state;
    int closing;
    int open_handles;
    int peer_eof;
    size_t len;      /* bytes of the request in req */
    size_t lead;     /* httpd_header_end()'s */
    size_t head_len; /* bytes of the response head (and error body) */
    char req[HTTPD_MAX_REQUEST + 1];
    char head[HTTPD_HEAD_SIZE];
};

struct httpd {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_timer_t retry; /* accepting again after running out of memory */
    int open_handles; /* listener and retry, until closed */
    int closing;
    int port;
    unsigned nconns;
    struct httpd_conn *conns;
    struct httpd_doc *docs;
    void (*done)(void *);
    void *done_arg;
};

static void httpd_conn_close(struct httpd_conn *);
static void httpd_on_shutdown(uv_shutdown_t *, int);
static void httpd_on_timeout(uv_timer_t *);

/* ---- dates ------------------------------------------------------------ */

/* t as an IMF-fixdate (RFC 9110 §5.6.7), clamped to the years 1970 to
 * 9999: the format has four year digits, and nothing served here predates
 * the epoch. */
static void
httpd_date(int64_t t, char out[FEED_HTTPDATE_LEN + 1])
{
    if (t < 0)
        t = 0;
    if (t > INT64_C(253402300799)) /* 9999-12-31T23:59:59Z */
        t = INT64_C(253402300799);
    feed_date_format_http(t, out);
}

/* ---- documents --------------------------------------------------------- */

static void
httpd_doc_release(struct httpd_doc *doc)
{
    if (doc != NULL && --doc->refs == 0)
        free(doc);
}

static struct httpd_doc *
httpd_doc_find(const struct httpd *h, const char *path)
{
    for (struct httpd_doc *d = h->docs; d != NULL; d = d->next)
        if (strcmp(d->path, path) == 0)
            return d;
    return NULL;
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
    struct httpd_doc *doc, **pp;
    size_t plen, clen;
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    char *p;

    assert(h != NULL && !h->closing);
    if (path == NULL || path[0] != '/' || strchr(path, '?') != NULL ||
        !httpd_field_ok(path) || content_type == NULL ||
        !httpd_field_ok(content_type) || (data == NULL && len > 0))
        return -EINVAL;
    plen = strlen(path) + 1;
    clen = strlen(content_type) + 1;
    if (len > SIZE_MAX - sizeof(*doc) - plen - clen)
        return -ENOMEM;
    doc = malloc(sizeof(*doc) + plen + clen + len);
    if (doc == NULL)
        return -ENOMEM;

    p = (char *)(doc + 1);
    memcpy(p, path, plen);
    doc->path = p;
    p += plen;
    memcpy(p, content_type, clen);
    doc->content_type = p;
    p += clen;
    if (len > 0)
        memcpy(p, data, len);
    doc->data = p;
    doc->len = len;
    doc->mtime = mtime;
    doc->refs = 1;
    for (size_t i = 0; i < len; i++) { /* 64-bit FNV-1a */
        hash ^= (unsigned char)p[i];
        hash *= UINT64_C(0x100000001b3);
    }
    doc->etag[0] = '"';
    feed_id_format(hash, doc->etag + 1);
    doc->etag[FEED_ID_LEN + 1] = '"';
    doc->etag[FEED_ID_LEN + 2] = '\0';
    httpd_date(mtime, doc->last_modified);

    /* Replace in place, so the list keeps its order. */
    for (pp = &h->docs; *pp != NULL; pp = &(*pp)->next) {
        if (strcmp((*pp)->path, path) == 0) {
            struct httpd_doc *old = *pp;

            doc->next = old->next;
            *pp = doc;
            httpd_doc_release(old);
            return 0;
        }
    }
    doc->next = NULL;
    *pp = doc;
    return 0;
}

/* Whether the request's preconditions make the answer a 304, in the order
 * of RFC 7232 §6: If-None-Match when present (every field of it), else the
 * first If-Modified-Since that is a valid date. */
static int
httpd_not_modified(const struct httpd_request *r, const struct httpd_doc *doc)
{
    int inm = 0;

    for (size_t i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, "If-None-Match") != 0)
            continue;
        inm = 1;
        if (httpd_etag_match(r->headers[i].value, doc->etag))
            return 1;
    }
    if (inm)
        return 0;
    for (size_t i = 0; i < r->nheaders; i++) {
        int64_t since;

        if (strcasecmp(r->headers[i].name, "If-Modified-Since") == 0 &&
            (since = feed_date_parse_http(r->headers[i].value)) !=
                FEED_TIME_NONE)
            return doc->mtime <= since;
    }
    return 0;
}

/* ---- responses --------------------------------------------------------- */

static const char *
httpd_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 431:
        return "Request Header Fields Too Large";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Internal Server Error";
    }
}

static void httpd_conn_add(struct httpd_conn *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends to the response head. What goes in is bounded (the longest value
 * is a content type of HTTPD_MAX_FIELD bytes), so it always fits. */
static void
httpd_conn_add(struct httpd_conn *c, const char *fmt, ...)
{
    size_t room = sizeof(c->head) - c->head_len;
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(c->head + c->head_len, room, fmt, ap);
    va_end(ap);
    assert(n >= 0 && (size_t)n < room);
    if (n > 0)
        c->head_len += (size_t)n < room ? (size_t)n : room - 1;
}

static void
httpd_conn_begin(struct httpd_conn *c, int status)
{
    char date[FEED_HTTPDATE_LEN + 1];

    httpd_date((int64_t)time(NULL), date);
    c->head_len = 0;
    httpd_conn_add(c,
                   "HTTP/1.1 %d %s\r\n"
                   "Date: %s\r\n"
                   "Server: feedd\r\n",
                   status, httpd_reason(status), date);
}

static void
httpd_on_write(uv_write_t *req, int status)
{
    struct httpd_conn *c = req->data;

    httpd_doc_release(c->doc);
    c->doc = NULL;
    if (c->closing)
        return; /* cancelled by httpd_conn_close() */
    if (status < 0 || c->peer_eof) {
        httpd_conn_close(c);
        return;
    }
    c->shutdown_req.data = c;
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
                    httpd_on_shutdown) != 0)
        httpd_conn_close(c);
}

static void
httpd_on_shutdown(uv_shutdown_t *req, int status)
{
    struct httpd_conn *c = req->data;

    if (c->closing)
        return;
    if (status < 0 || c->peer_eof) {
        httpd_conn_close(c);
        return;
    }
    c->state = HTTPD_DRAINING;
    if (uv_timer_start(&c->timer, httpd_on_timeout, HTTPD_LINGER_MS, 0) != 0)
        httpd_conn_close(c);
}

/* Ends the head and queues it with body (which may be NULL), taking a
 * reference to doc when the body is its bytes. */
static void
httpd_conn_send(struct httpd_conn *c, const char *body, size_t len,
                struct httpd_doc *doc)
{
    uv_buf_t bufs[2];
    unsigned nbufs = 1;

    httpd_conn_add(c, "Connection: close\r\n\r\n");
    bufs[0] = uv_buf_init(c->head, (unsigned)c->head_len);
    if (body != NULL && len > 0) {
        /* Not uv_buf_init(), whose length is an unsigned int. */
        bufs[1].base = (char *)body;
        bufs[1].len = len;
        nbufs = 2;
        if (doc != NULL) {
            doc->refs++;
            c->doc = doc;
        }
    }
    c->state = HTTPD_WRITING;
    c->write_req.data = c;
    /* On failure the write callback is never called, and the reference
     * goes when the connection is closed. */
    if (uv_timer_start(&c->timer, httpd_on_timeout, HTTPD_WRITE_TIMEOUT_MS,
                       0) != 0 ||
        uv_write(&c->write_req, (uv_stream_t *)&c->tcp, bufs, nbufs,
                 httpd_on_write) != 0)
        httpd_conn_close(c);
}

/* A short text/plain answer for status; head_only leaves out the body but
 * not its length. */
static void
httpd_conn_error(struct httpd_conn *c, int status, int head_only)
{
    char body[64];
    int n =
        snprintf(body, sizeof(body), "%d %s\n", status, httpd_reason(status));
    size_t len;

    len = n > 0 ? (size_t)n : 0;
    httpd_conn_begin(c, status);
    if (status == 405)
        httpd_conn_add(c, "Allow: GET, HEAD\r\n");
    httpd_conn_add(c,
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n",
                   len);
    httpd_conn_send(c, head_only ? NULL : body, len, NULL);
}

static void
httpd_conn_healthz(struct httpd_conn *c, int head_only)
{
    static const char ok[] = "ok\n";

    httpd_conn_begin(c, 200);
    httpd_conn_add(c,
                   "Content-Type: text/plain; charset=utf-8\r\n"
                   "Content-Length: %zu\r\n"
                   "Cache-Control: no-store\r\n",
                   sizeof(ok) - 1);
    httpd_conn_send(c, head_only ? NULL : ok, sizeof(ok) - 1, NULL);
}

/* 200 or 304 with doc. A 304 carries the validators and Cache-Control of
 * the 200 (RFC 7232 §4.1) but no body and no Content-Length. */
static void
httpd_conn_doc(struct httpd_conn *c, struct httpd_doc *doc, int status,
               int head_only)
{
    httpd_conn_begin(c, status);
    if (status == 200)
        httpd_conn_add(c,
                       "Content-Type: %s\r\n"
                       "Content-Length: %zu\r\n",
                       doc->content_type, doc->len);
    httpd_conn_add(c,
                   "Last-Modified: %s\r\n"
                   "ETag: %s\r\n"
                   "Cache-Control: " HTTPD_CACHE_CONTROL "\r\n",
                   doc->last_modified, doc->etag);
    if (status == 200 && !head_only)
        httpd_conn_send(c, doc->data, doc->len, doc);
    else
        httpd_conn_send(c, NULL, 0, NULL);
}

/* Answers the request whose header block is req[0..end). */
static void
httpd_conn_handle(struct httpd_conn *c, size_t end)
{
    struct httpd_request r;
    struct httpd_doc *doc;
    char path[HTTPD_MAX_REQUEST];
    size_t hosts;
    int status, head_only;

    c->req[end] = '\0';
    status = httpd_request_parse(c->req, c->req + end, &r);
    if (status != 0) {
        httpd_conn_error(c, status, 0);
        return;
    }
    head_only = strcmp(r.method, "HEAD") == 0;
    hosts = httpd_header_count(&r, "Host");
    /* RFC 7230 §5.4: HTTP/1.1 requires exactly one Host. */
    if (hosts > 1 || (r.minor >= 1 && hosts == 0) ||
        httpd_target_path(r.target, path, sizeof(path)) != 0) {
        httpd_conn_error(c, 400, head_only);
        return;
    }
    if (!head_only && strcmp(r.method, "GET") != 0) {
        httpd_conn_error(c, 405, 0);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        httpd_conn_healthz(c, head_only);
        return;
    }
    doc = httpd_doc_find(c->httpd, path);
    if (doc == NULL && strcmp(path, "/") == 0)
        doc = httpd_doc_find(c->httpd, "/index.html");
    if (doc == NULL) {
        httpd_conn_error(c, 404, head_only);
        return;
    }
    httpd_conn_doc(c, doc, httpd_not_modified(&r, doc) ? 304 : 200, head_only);
}

/* ---- connections ------------------------------------------------------- */

static void
httpd_maybe_done(struct httpd *h)
{
    void (*done)(void *);
    void *arg;

    if (!h->closing || h->open_handles > 0 || h->conns != NULL)
        return;
    while (h->docs != NULL) {
        struct httpd_doc *next = h->docs->next;

        httpd_doc_release(h->docs);
        h->docs = next;
    }
    done = h->done;
    arg = h->done_arg;
    free(h);
    if (done != NULL)
        done(arg);
}

static void
httpd_on_conn_closed(uv_handle_t *handle)
{
    struct httpd_conn *c = handle->data;
    struct httpd *h = c->httpd;

    if (--c->open_handles > 0)
        return;
    /* libuv cancels a write in flight, whose callback releases the doc,
     * before the close callbacks run; this covers a write never queued. */
    httpd_doc_release(c->doc);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        h->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    h->nconns--;
    free(c);
    httpd_maybe_done(h);
}

static void
httpd_conn_close(struct httpd_conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_close((uv_handle_t *)&c->tcp, httpd_on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, httpd_on_conn_closed);
}

static void
httpd_on_timeout(uv_timer_t *timer)
{
    struct httpd_conn *c = timer->data;

    /* A client that sent part of a request hears why it is cut off; one
     * that sent nothing is just closed. */
    if (c->state == HTTPD_READING && c->len > 0)
        httpd_conn_error(c, 408, 0);
    else
        httpd_conn_close(c);
}

static void
httpd_on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    struct httpd_conn *c = handle->data;

    /* Once the request is parsed the buffer is free: what the client sends
     * after it is read into it and dropped. */
    if (c->state == HTTPD_READING)
        *buf = uv_buf_init(c->req + c->len,
                           (unsigned)(HTTPD_MAX_REQUEST - c->len));
    else
        *buf = uv_buf_init(c->req, HTTPD_MAX_REQUEST);
}

static void
httpd_on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    struct httpd_conn *c = stream->data;
    size_t from, end;

    if (nread == 0)
        return;
    if (nread < 0) {
        /* A client may half-close once it has sent its request: finish
         * the response, then close. libuv has stopped reading. */
        if (nread == UV_EOF && c->state == HTTPD_WRITING)
            c->peer_eof = 1;
        else
            httpd_conn_close(c);
        return;
    }
    if (c->state != HTTPD_READING)
        return;
    from = c->len;
    c->len += (size_t)nread;
    end = httpd_header_end(c->req, from, c->len, &c->lead);
    if (end > 0)
        httpd_conn_handle(c, end);
    else if (c->len == HTTPD_MAX_REQUEST)
        httpd_conn_error(c, 431, 0);
}

static void httpd_on_connection(uv_stream_t *, int);

static void
httpd_on_retry(uv_timer_t *timer)
{
    struct httpd *h = timer->data;

    httpd_on_connection((uv_stream_t *)&h->listener, 0);
}

/* Tries accepting again in a while: libuv stops watching the listener until
 * the connection it holds is accepted, so this is not left to the next
 * connection. */
static void
httpd_retry_later(struct httpd *h, const char *why)
{
    int rc;

    log_warnx("httpd: %s: accepting again in %d ms", why, HTTPD_RETRY_MS);
    if ((rc = uv_timer_start(&h->retry, httpd_on_retry, HTTPD_RETRY_MS, 0)) !=
        0)
        log_warnx("httpd: cannot accept again: %s", uv_strerror(rc));
}

static void
httpd_on_connection(uv_stream_t *server, int status)
{
    struct httpd *h = server->data;
    struct httpd_conn *c;
    uv_stream_t *stream;
    int rc;

    if (status < 0 || h->closing)
        return;
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        httpd_retry_later(h, "out of memory");
        return;
    }
    if ((rc = uv_timer_init(h->loop, &c->timer)) != 0) {
        free(c);
        httpd_retry_later(h, uv_strerror(rc));
        return;
    }
    c->httpd = h;
    c->tcp.data = c;
    c->timer.data = c;
    c->open_handles = 1;
    c->state = HTTPD_READING;
    c->next = h->conns;
    if (h->conns != NULL)
        h->conns->prev = c;
    h->conns = c;
    h->nconns++;
    if ((rc = uv_tcp_init(h->loop, &c->tcp)) != 0) {
        /* Only the timer to close; the connection waits for the retry. */
        c->closing = 1;
        uv_close((uv_handle_t *)&c->timer, httpd_on_conn_closed);
        httpd_retry_later(h, uv_strerror(rc));
        return;
    }
    c->open_handles = 2;

    /* Over the cap the connection is taken and closed at once, which tells
     * the client more than a connection left hanging in the backlog. */
    stream = (uv_stream_t *)&c->tcp;
    if (uv_accept(server, stream) != 0 || h->nconns > HTTPD_MAX_CONNS)
        goto fail;
    if (uv_read_start(stream, httpd_on_alloc, httpd_on_read) != 0)
        goto fail;
    if (uv_timer_start(&c->timer, httpd_on_timeout, HTTPD_REQUEST_TIMEOUT_MS,
                       0) != 0)
        goto fail;
    return;

fail:
    httpd_conn_close(c);
}

/* ---- the server -------------------------------------------------------- */

static void
httpd_on_handle_closed(uv_handle_t *handle)
{
    struct httpd *h = handle->data;

    h->open_handles--;
    httpd_maybe_done(h);
}

/* host and port as a socket address, host maybe an IPv6 address in
 * brackets. Whether it is one is config_listen_addr()'s answer, so that
 * "feedd check" refuses exactly what the server would. 0 or UV_EINVAL. */
static int
httpd_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    size_t len = strlen(host);
    char buf[64];

    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof(buf))
            return UV_EINVAL;
        memcpy(buf, host + 1, len - 2);
        buf[len - 2] = '\0';
        host = buf;
    }
    return config_listen_addr(host, port, ss) == 0 ? 0 : UV_EINVAL;
}

/* The server on fd, a listening socket bound to port, which it takes:
 * closed on failure too. NULL with the reason in *why on failure. */
static struct httpd *
httpd_serve(uv_loop_t *loop, int fd, int port, const char **why)
{
    struct httpd *h;
    int rc;

    h = calloc(1, sizeof(*h));
    if (h == NULL) {
        close(fd);
        *why = uv_strerror(UV_ENOMEM);
        return NULL;
    }
    h->loop = loop;
    h->port = port;
    rc = uv_tcp_init(loop, &h->listener);
    if (rc != 0)
        goto fail;
    h->listener.data = h;
    h->open_handles = 1;
    rc = uv_timer_init(loop, &h->retry);
    if (rc != 0)
        goto fail;
    h->retry.data = h;
    h->open_handles = 2;
    rc = uv_tcp_open(&h->listener, fd);
    if (rc != 0)
        goto fail;
    fd = -1; /* the handle owns it now */
    rc = uv_listen((uv_stream_t *)&h->listener, HTTPD_BACKLOG,
                   httpd_on_connection);
    if (rc != 0)
        goto fail;
    return h;

fail:
    *why = uv_strerror(rc);
    if (fd >= 0)
        close(fd);
    if (h->open_handles > 0) {
        h->closing = 1; /* freed from the loop, by httpd_maybe_done() */
        if (h->open_handles == 2)
            uv_close((uv_handle_t *)&h->retry, httpd_on_handle_closed);
        uv_close((uv_handle_t *)&h->listener, httpd_on_handle_closed);
    } else {
        free(h);
    }
    return NULL;
}

static int
httpd_sockport(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET6
                     ? ((const struct sockaddr_in6 *)ss)->sin6_port
                     : ((const struct sockaddr_in *)ss)->sin_port);
}

struct httpd *
httpd_new(uv_loop_t *loop, const char *host, int port, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    struct httpd *h = NULL;
    const char *why = NULL;
    int fd = -1, on = 1;

    if (host == NULL)
        host = "";
    if (port < 0 || port > 65535) {
        why = "invalid port";
        goto fail;
    }
    if (httpd_addr(host, port, &ss) != 0) {
        why = "invalid address";
        goto fail;
    }
    sslen = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);

    /* Bind and listen on a plain socket first, so that the usual failures
     * (address in use, permission denied) leave no libuv handle behind. */
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
        listen(fd, HTTPD_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        why = uv_strerror(uv_translate_sys_error(errno));
        if (fd >= 0)
            close(fd);
        goto fail;
    }
    if ((h = httpd_serve(loop, fd, httpd_sockport(&ss), &why)) != NULL)
        return h;

fail:
    if (err != NULL && errlen > 0) {
        int v6 = strchr(host, ':') != NULL && host[0] != '[';

        snprintf(err, errlen, "listen %s%s%s:%d: %s", v6 ? "[" : "", host,
                 v6 ? "]" : "", port, why);
    }
    return NULL;
}

struct httpd *
httpd_new_fd(uv_loop_t *loop, int fd, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    struct httpd *h;
    const char *why;

    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        why = uv_strerror(uv_translate_sys_error(errno));
        close(fd);
    } else if ((h = httpd_serve(loop, fd, httpd_sockport(&ss), &why)) != NULL) {
        return h;
    }
    if (err != NULL && errlen > 0)
        snprintf(err, errlen, "listen on fd %d: %s", fd, why);
    return NULL;
}

int
httpd_port(const struct httpd *h)
{
    return h->port;
}

void
httpd_close(struct httpd *h, void (*done)(void *arg), void *arg)
{
    assert(!h->closing);
    h->closing = 1;
    h->done = done;
    h->done_arg = arg;
    uv_close((uv_handle_t *)&h->listener, httpd_on_handle_closed);
    uv_close((uv_handle_t *)&h->retry, httpd_on_handle_closed);
    for (struct httpd_conn *c = h->conns; c != NULL; c = c->next)
        httpd_conn_close(c);
}

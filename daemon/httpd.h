/* daemon/httpd.h - the HTTP server readers fetch the merged outputs from,
 * built on libmicrohttpd.
 * The server runs on a thread of its own (libmicrohttpd's, with epoll) and
 * serves documents from memory: httpd_set(), called on the loop, makes an
 * immutable document and swaps it in under a short lock, so the loop never
 * waits for a reader and a reader never waits for the loop; documents too
 * large to keep are made on the loop when asked (httpd_set_dynamic()), the
 * request held meanwhile without holding up the others. HTTP/1.0 and
 * 1.1 with keep-alive; GET and HEAD (and POST under a handler's prefix,
 * httpd_set_handler()), other methods get 405 with "Allow: GET, HEAD"; an
 * HTTP/1.1 request without exactly one Host gets 400. Only the paths set are
 * served, by exact match after percent- decoding (a target with a NUL or bad
 * escape matches none): 404 for anything else. Documents go out with ETag,
 * Last-Modified, "Cache-Control: max-age=60" and "Vary: Accept-Encoding",
 * gzip-compressed when the client accepts it and that is smaller; If-None-Match
 * / If-Modified-Since get 304 (RFC 9110 §13). "/healthz" is built in and
 * answers "ok" until a document is set there; one set more than
 * HTTPD_HEALTHZ_STALE_S ago (by its mtime) gets 503: whoever sets it (the
 * loop) stopped. The query string plays no part in finding a document. Limits
 * (httpd.c): 4096 connections in all and 1024 from one address, fewer when the
 * open file limit cannot be raised to allow them (more are accepted and closed
 * at once); past seven eighths of the total, requests get 503 with "Connection:
 * close"; a connection idle for 10 s is closed, and so is one that has not sent
 * a whole request head within 10 s of its start or of its previous response;
 * the head must fit in 32 KiB. A request that comes before the first
 * httpd_set() waits for it, 10 s at most. Failures come back as return codes or
 * as text in err; the server's own messages (a connection refused over a limit)
 * are logged at debug level. */
#ifndef HTTPD_H
#define HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "feeds/buf.h"

#define HTTPD_WUR __attribute__((warn_unused_result))

/* A /healthz document older than this, in seconds, is answered 503. */
#define HTTPD_HEALTHZ_STALE_S 30

/* A document made at request time (httpd_set_dynamic()) answers the
 * requests that come this long after it was made, in milliseconds; a
 * request whose render the loop has not made this long after it was asked
 * gets 503. Lower at build time for tests. */
#ifndef HTTPD_DYN_SHARE_MS
#define HTTPD_DYN_SHARE_MS 1000
#endif
#ifndef HTTPD_DYN_WAIT_MS
#define HTTPD_DYN_WAIT_MS 5000
#endif

struct httpd; /* opaque */

/* TLS for a server: the PEM files of its certificate (chain) and private
 * key, read once when the server starts. */
struct httpd_tls {
    const char *cert_file;
    const char *key_file;
};

/* Listens on host:port, host being an IPv4 literal, an IPv6 literal (with or
 * without brackets) or "localhost" (127.0.0.1); port 0 picks a free port,
 * see httpd_port(). Caller owns the result and releases it with
 * httpd_close(). NULL on failure, with a one-line reason in err, e.g.
 * "listen 127.0.0.1:8080: address already in use"; the loop then holds no
 * handle of ours. */
struct httpd *httpd_new(uv_loop_t *loop, const char *host, int port, char *err,
                        size_t errlen) HTTPD_WUR;

/* Like httpd_new(), on fd: a bound, listening TCP socket (IPv4 or IPv6) that
 * someone else made, e.g. systemd by socket activation. The server takes
 * fd, which is closed on failure too. The error in err reads "listen on fd
 * 3: <reason>". */
struct httpd *httpd_new_fd(uv_loop_t *loop, int fd, char *err,
                           size_t errlen) HTTPD_WUR;

/* httpd_new() and httpd_new_fd() (fd >= 0: host and port are ignored)
 * serving HTTPS when tls is not NULL. An unreadable or invalid file fails
 * with err naming it, e.g. "tls_cert /etc/feedd/cert.pem: No such file or
 * directory". */
struct httpd *httpd_new_tls(uv_loop_t *loop, const char *host, int port, int fd,
                            const struct httpd_tls *tls, char *err,
                            size_t errlen) HTTPD_WUR;

/* Serves data at path (which starts with '/', e.g. "/feed.atom"), replacing
 * any document previously set there. The bytes are copied, and compressed
 * once with gzip; content_type (e.g. "application/atom+xml;
 * charset=utf-8") goes out as Content-Type, mtime (seconds since the epoch,
 * UTC) as Last-Modified, and a strong ETag is derived from the bytes (64-bit
 * FNV-1a, in hex, quoted; "-gz" added for the gzip copy). Setting the same
 * bytes and type again changes nothing, so ETag and Last-Modified stay
 * those of the first time. Responses already being written keep the
 * document they started with. "/" is served by the document set at "/" or
 * else at "/index.html". Call it on the loop (the thread that made the
 * server).
 * 0, -EINVAL (a path without a leading '/', or a path or content_type with
 * control characters or longer than 256 bytes) or -ENOMEM; on failure the
 * previous document, if any, stays in place. */
int httpd_set(struct httpd *, const char *path, const char *content_type,
              const void *data, size_t len, int64_t mtime) HTTPD_WUR;

/* Serves the file filename at path (which starts with '/'), read at each
 * request rather than kept in memory: for a document that grows with the
 * feeds. Its bytes go out as they are then (a file replaced by rename is
 * read whole, old or new), with content_type, an ETag from its size,
 * mtime (to the nanosecond) and inode and its mtime as Last-Modified, 304 to a
 * matching validator; to a client that takes gzip, filename.gz instead when
 * it is there and no older than filename (another ETag, "-gz" at its end;
 * whoever writes filename keeps it in step); 404 while filename cannot be
 * opened. A document set at path with httpd_set() comes first. Call it on the
 * loop. 0, -EINVAL (a path without a leading '/' or names too long) or -ENOMEM.
 */
int httpd_set_file(struct httpd *, const char *path, const char *content_type,
                   const char *filename) HTTPD_WUR;

/* Makes the document at path (the path the request named) into out, an
 * empty buffer without a cap: 0; -ENOENT when there is no such document
 * (the request then gets 404); or another non-zero value when it cannot
 * be made (503). Called on the loop; out's bytes then belong to
 * the server. */
typedef int httpd_render_fn(void *arg, const char *path, struct feed_buf *out);

/* Serves path (which starts with '/') with a document made on the loop at
 * request time by render(arg, path, out), for documents too large to keep
 * made in advance. A request for it is held (its connection suspended, the
 * server's thread free for others) while the loop makes the document; a
 * request that comes while one is being made, or within
 * HTTPD_DYN_SHARE_MS after (or ten times as long as the render and its
 * gzip copy took, when that is longer), is answered with that one, so that
 * many readers cost one render a second at most, and the loop spends at
 * most a tenth of its time on each such path. Nothing is kept longer: the
 * document is let go once that time is over and the last reader has it.
 * Answers go out with content_type, "Cache-Control: no-store" and no
 * validators, gzip-compressed (fast) when a client waiting for the render
 * accepts it. 503 when the loop has not answered within HTTPD_DYN_WAIT_MS
 * (and at once to later requests, until it answers), when render() fails,
 * and to requests held when the server closes. A document set at path
 * with httpd_set(), or a file with httpd_set_file(), comes first. Call it
 * on the loop; setting path again replaces render and arg. From the first
 * call on, the server holds a handle that keeps the loop running until
 * httpd_close(). 0, -EINVAL (a path without a leading '/', or names too
 * long) or -ENOMEM. */
int httpd_set_dynamic(struct httpd *, const char *path,
                      const char *content_type, httpd_render_fn *render,
                      void *arg) HTTPD_WUR;

/* A request for a path under a handler's prefix (httpd_set_handler()),
 * as the loop sees it. Strings are the server's, valid during the call. */
struct httpd_call {
    const char *method; /* "GET" or "POST" */
    const char *path;   /* percent-decoded, the prefix included */
    char *body;         /* a POST's body (NUL after it), or NULL; the
                         * handler may take it (then sets body to NULL and
                         * frees it with free()) */
    size_t len;
    struct feed_buf pairs; /* internal: the query arguments and headers */
};

/* The value of the query argument name, or NULL. */
const char *httpd_call_arg(const struct httpd_call *, const char *name);
/* The value of the request header name (any case), or NULL. */
const char *httpd_call_header(const struct httpd_call *, const char *name);

/* Answers call into reply (an empty buffer; "text/plain" goes out with
 * it): returns the HTTP status. Called on the loop. */
typedef int httpd_call_fn(void *arg, struct httpd_call *call,
                          struct feed_buf *reply);

/* Hands every GET and POST of a path that starts with prefix (e.g.
 * "/websub/") to fn(arg, ...) on the loop, the request held meanwhile
 * (its connection suspended, the server's thread free for others), the
 * way httpd_set_dynamic() holds its requests; documents, files and
 * dynamic paths are not looked up for them. A POST's body is read first,
 * up to max_body bytes: 413 when its Content-Length says more, and a
 * body without one that grows past it closes the connection. Other
 * methods stay 405. 503 when the server closes with requests held. Call
 * it on the loop; again with the same prefix for a new max_body, fn or
 * arg (for requests from then on). From the first call on, the server
 * holds a handle that keeps the loop running until httpd_close(). 0,
 * -EINVAL (a prefix without a leading '/', or another prefix than the
 * first call's) or -ENOMEM. */
int httpd_set_handler(struct httpd *, const char *prefix, size_t max_body,
                      httpd_call_fn *fn, void *arg) HTTPD_WUR;

/* The port actually bound. */
int httpd_port(const struct httpd *);

/* Stops listening and closes every connection, cutting short responses in
 * flight (requests waiting for a render(), see httpd_set_dynamic(), get 503
 * first: the loop waits for them, a second or two at most); waits only for the
 * server's thread to see it, not for any client. done(arg), which may be NULL,
 * is called from the loop once all memory is released; the httpd must not be
 * used after this call. Call it exactly once. */
void httpd_close(struct httpd *, void (*done)(void *arg), void *arg);

#endif

/* daemon/httpd.h - the HTTP server readers fetch the merged outputs from.
 * HTTP/1.0 and 1.1, GET and HEAD (other methods get 405), one request per
 * connection: every response carries "Connection: close". Documents are
 * served from memory with ETag, Last-Modified and "Cache-Control:
 * max-age=60", and If-None-Match / If-Modified-Since get 304 (RFC 7232).
 * "/healthz" is built in and answers "ok". The query string plays no part in
 * finding a document.
 * Limits: the request line and headers must fit in 8 KiB (else 431) and
 * arrive within 10 s of the connect (else 408, or a silent close if nothing
 * came); a response must be written within 60 s; beyond 256 connections a
 * new one is accepted and closed at once.
 * Everything runs on the caller's libuv loop. Failures come back as return
 * codes or as text in err; the one logged (log.h) is a connection that
 * cannot be accepted for want of memory, which has no caller to go back
 * to: one warning, and accepting resumes a second later. */
#ifndef HTTPD_H
#define HTTPD_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#define HTTPD_WUR __attribute__((warn_unused_result))

struct httpd; /* opaque */

/* Listens on host:port, host being an IPv4 literal, an IPv6 literal (with or
 * without brackets) or "localhost" (127.0.0.1); port 0 picks a free port,
 * see httpd_port(). Caller owns the result and releases it with
 * httpd_close(). NULL on failure, with a one-line reason in err, e.g.
 * "listen 127.0.0.1:8080: address already in use"; the loop then holds no
 * handle of ours, except after a failure of libuv itself past the bind, when
 * a handle is closing and the loop must run once more before
 * uv_loop_close(). */
struct httpd *httpd_new(uv_loop_t *loop, const char *host, int port, char *err,
                        size_t errlen) HTTPD_WUR;

/* Like httpd_new(), on fd: a bound, listening TCP socket (IPv4 or IPv6) that
 * someone else made, e.g. systemd by socket activation. The server takes
 * fd, which is closed on failure too. The error in err reads "listen on fd
 * 3: <reason>". */
struct httpd *httpd_new_fd(uv_loop_t *loop, int fd, char *err,
                           size_t errlen) HTTPD_WUR;

/* Serves data at path (which starts with '/', e.g. "/feed.atom"), replacing
 * any document previously set there. The bytes are copied; content_type
 * (e.g. "application/atom+xml; charset=utf-8") goes out as Content-Type,
 * mtime (seconds since the epoch, UTC) as Last-Modified, and a strong ETag
 * is derived from the bytes (64-bit FNV-1a, in hex, quoted), so setting the
 * same bytes again keeps the ETag. Responses already being written keep the
 * document they started with. "/" is served by the document set at "/" or
 * else at "/index.html".
 * 0, -EINVAL (a path without a leading '/', or a path or content_type with
 * control characters or longer than 256 bytes) or -ENOMEM; on failure the
 * previous document, if any, stays in place. */
int httpd_set(struct httpd *, const char *path, const char *content_type,
              const void *data, size_t len, int64_t mtime) HTTPD_WUR;

/* The port actually bound. */
int httpd_port(const struct httpd *);

/* Stops listening and closes every connection, cutting short responses in
 * flight. done(arg), which may be NULL, is called from the loop once every
 * handle is closed and all memory released; the httpd must not be used
 * after this call. Call it exactly once. */
void httpd_close(struct httpd *, void (*done)(void *arg), void *arg);

#endif

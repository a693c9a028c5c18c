/* tests/unit/httpd_fixture.h - the loop the server is made on, a failing
 * allocator, and a blocking HTTP client on 127.0.0.x for test_httpd.c (one
 * test executable: everything here is static). The server runs on a thread
 * of its own, so the client can block. */
#ifndef FEEDD_TEST_HTTPD_FIXTURE_H
#define FEEDD_TEST_HTTPD_FIXTURE_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "httpd.h"

/* ---- allocation failures -----------------------------------------------
 * The next fail_allocs calls to malloc or calloc from this executable's own
 * objects (not from libmicrohttpd, zlib or cmocka) return NULL. */
static int fail_allocs;

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);

void *
__wrap_malloc(size_t n)
{
    if (fail_allocs > 0) {
        fail_allocs--;
        return NULL;
    }
    return __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    if (fail_allocs > 0) {
        fail_allocs--;
        return NULL;
    }
    return __real_calloc(n, size);
}

#define ATOM "application/atom+xml; charset=utf-8"
#define FEED                                                                   \
    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>"
#define MTIME INT64_C(1700000000)
#define MTIME_HTTP "Tue, 14 Nov 2023 22:13:20 GMT"

struct fixture {
    uv_loop_t loop;
    struct httpd *httpd;
    int port;
    int done;
};

static void
on_httpd_done(void *arg)
{
    struct fixture *fx = arg;

    fx->done++;
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];

    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    fx->httpd = httpd_new(&fx->loop, "127.0.0.1", 0, err, sizeof(err));
    assert_non_null(fx->httpd);
    fx->port = httpd_port(fx->httpd);
    assert_true(fx->port > 0);
    assert_int_equal(
        httpd_set(fx->httpd, "/feed.atom", ATOM, FEED, strlen(FEED), MTIME), 0);
    *state = fx;
    return 0;
}

/* Closes the server, runs the loop until done() came, and checks that the
 * loop holds nothing more. */
static void
close_server(struct fixture *fx)
{
    if (fx->httpd == NULL)
        return;
    httpd_close(fx->httpd, on_httpd_done, fx);
    fx->httpd = NULL;
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->done, 1);
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;

    close_server(fx);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

/* ---- the client -------------------------------------------------------- */

struct conn {
    int fd;
    char buf[1 << 16]; /* bytes read past the last response */
    size_t len;
};

struct response {
    int code;
    char head[8192]; /* status line and fields, NUL-terminated */
    char *body;      /* malloc'd, NUL-terminated */
    size_t body_len;
};

/* A connection to port from 127.0.0.src (the client's address, so that a
 * test can be several clients), with a 5 s receive timeout; rcvbuf, when
 * not 0, is the socket's receive buffer. */
static struct conn *
conn_open_from(int port, int src, int rcvbuf)
{
    struct conn *c = calloc(1, sizeof(*c));
    struct sockaddr_in sa;
    struct timeval tv = {5, 0};

    assert_non_null(c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(c->fd >= 0);
    assert_int_equal(
        setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
    if (rcvbuf > 0)
        assert_int_equal(
            setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)),
            0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(UINT32_C(0x7f000000) | (uint32_t)src);
    assert_int_equal(bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return c;
}

static struct conn *
conn_open(int port)
{
    return conn_open_from(port, 1, 0);
}

static void
conn_close(struct conn *c)
{
    close(c->fd);
    free(c);
}

static void
conn_send(struct conn *c, const char *s)
{
    size_t len = strlen(s);

    while (len > 0) {
        ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL);

        assert_true(n > 0);
        s += n;
        len -= (size_t)n;
    }
}

/* Reads more into c->buf: the count, 0 at EOF, -1 on error or timeout. */
static ssize_t
conn_fill(struct conn *c)
{
    ssize_t n;

    assert_true(c->len < sizeof(c->buf));
    n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
    if (n > 0)
        c->len += (size_t)n;
    return n;
}

/* Whether the server closed the connection without a byte more (EOF or a
 * reset), within the receive timeout. */
static int
conn_closed(struct conn *c)
{
    size_t before = c->len;
    ssize_t n;

    while ((n = conn_fill(c)) > 0)
        ;
    return c->len == before && (n == 0 || errno == ECONNRESET);
}

/* The value of field name in r's head (the first), in out; 1 if there. */
static int
header(const struct response *r, const char *name, char *out, size_t cap)
{
    size_t nlen = strlen(name);

    for (const char *p = strstr(r->head, "\r\n"); p != NULL;
         p = strstr(p, "\r\n")) {
        p += 2;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1, *e;

            while (*v == ' ')
                v++;
            e = strstr(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(e - v), v);
            return 1;
        }
    }
    return 0;
}

/* Where the header block in c->buf ends (past its empty line), or 0. */
static size_t
head_end(const struct conn *c)
{
    for (size_t i = 0; i + 4 <= c->len; i++)
        if (memcmp(c->buf + i, "\r\n\r\n", 4) == 0)
            return i + 4;
    return 0;
}

/* Reads one response; its body by Content-Length, none for a 304 or when
 * no_body (HEAD). 0, or -1 when the connection ended first. */
static int
conn_response(struct conn *c, struct response *r, int no_body)
{
    char cl[32];
    size_t head_len, want = 0;

    memset(r, 0, sizeof(*r));
    while ((head_len = head_end(c)) == 0)
        if (conn_fill(c) <= 0)
            return -1;
    assert_true(head_len < sizeof(r->head));
    memcpy(r->head, c->buf, head_len);
    r->head[head_len] = '\0';
    assert_int_equal(sscanf(r->head, "HTTP/1.%*d %d", &r->code), 1);
    if (!no_body && r->code != 304 &&
        header(r, "Content-Length", cl, sizeof(cl)))
        want = strtoul(cl, NULL, 10);
    r->body = malloc(want + 1);
    assert_non_null(r->body);
    memmove(c->buf, c->buf + head_len, c->len - head_len);
    c->len -= head_len;
    while (r->body_len < want) {
        size_t take;

        if (c->len == 0 && conn_fill(c) <= 0)
            return -1;
        take = want - r->body_len < c->len ? want - r->body_len : c->len;
        memcpy(r->body + r->body_len, c->buf, take);
        r->body_len += take;
        memmove(c->buf, c->buf + take, c->len - take);
        c->len -= take;
    }
    r->body[r->body_len] = '\0';
    return 0;
}

static void
response_free(struct response *r)
{
    free(r->body);
    r->body = NULL;
}

/* One request on a new connection from 127.0.0.1, its response in r. */
static void
fetch(int port, const char *request, struct response *r)
{
    struct conn *c = conn_open(port);
    int no_body = strncmp(request, "HEAD ", 5) == 0;

    conn_send(c, request);
    assert_int_equal(conn_response(c, r, no_body), 0);
    if (r->code == 304)
        assert_int_equal(r->body_len, 0);
    conn_close(c);
}

/* The status of GET target on a new connection. */
static int
get_status(int port, const char *target)
{
    struct response r;
    char req[512];

    snprintf(req, sizeof(req),
             "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", target);
    fetch(port, req, &r);
    response_free(&r);
    return r.code;
}

static void
sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Waits until n more requests than now are counted in *sent by the
 * clients' threads (10 s at most), then 200 ms for the server to read
 * them: threads may be slow to start on a loaded machine, the server's is
 * not that slow to read. Counts from the value at the call: the clients
 * are to be started after it. */
static void __attribute__((unused)) wait_sent(atomic_int *sent, int base, int n)
{
    for (int tries = 0; atomic_load(sent) < base + n; tries++) {
        assert_true(tries < 10000);
        sleep_ms(1);
    }
    sleep_ms(200);
}

#endif

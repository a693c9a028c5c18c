/* tests/unit/httpd_fixture.h - the loop, a failing allocator and a client
 * on the same loop, for test_httpd.c (one test executable: everything here
 * is static). */
#ifndef FEEDD_TEST_HTTPD_FIXTURE_H
#define FEEDD_TEST_HTTPD_FIXTURE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "httpd.h"

#define GUARD_MS 5000

/* ---- allocation failures -----------------------------------------------
 * The next fail_allocs calls to malloc or calloc from this executable's own
 * objects (not from libuv or cmocka) return NULL. */
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

struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    struct httpd *httpd;
    int port;
    int done;
};

struct client {
    struct fixture *fx;
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_connect_t connect_req;
    uv_write_t write_req;
    uv_shutdown_t shutdown_req;
    const char *parts[4];
    size_t nparts, next;
    int half_close; /* shut our side down once the request is sent */
    int closed;     /* close callbacks run, out of 2 */
    int connected;
    int eof;
    int error;
    char *buf;
    size_t len, cap;
    void (*on_data)(struct client *);
    size_t hook_len; /* bytes received when on_data acted */
    /* the response, once parsed */
    int code;
    const char *body;
    size_t body_len;
};

/* ---- the loop and the fixture ----------------------------------------- */

static void
on_guard(uv_timer_t *t)
{
    struct fixture *fx = t->data;

    fx->timed_out = 1;
}

/* Runs the loop until *flag reaches want; fails the test after GUARD_MS. */
static void
run_until(struct fixture *fx, const int *flag, int want)
{
    fx->timed_out = 0;
    assert_int_equal(uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0), 0);
    while (*flag < want && !fx->timed_out)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->timed_out);
}

static void
on_pause(uv_timer_t *t)
{
    (*(int *)t->data)++;
}

static void
on_pause_closed(uv_handle_t *h)
{
    (*(int *)h->data)++;
}

/* Lets the loop run for ms milliseconds. */
static void
run_for(struct fixture *fx, unsigned ms)
{
    uv_timer_t t;
    int fired = 0, closed = 0;

    uv_timer_init(&fx->loop, &t);
    t.data = &fired;
    uv_timer_start(&t, on_pause, ms, 0);
    run_until(fx, &fired, 1);
    t.data = &closed;
    uv_close((uv_handle_t *)&t, on_pause_closed);
    run_until(fx, &closed, 1);
}

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
    char err[128];

    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    uv_timer_init(&fx->loop, &fx->guard);
    fx->guard.data = fx;
    fx->httpd = httpd_new(&fx->loop, "127.0.0.1", 0, err, sizeof(err));
    assert_non_null(fx->httpd);
    fx->port = httpd_port(fx->httpd);
    assert_true(fx->port > 0);
    assert_int_equal(
        httpd_set(fx->httpd, "/feed.atom", ATOM, FEED, strlen(FEED), MTIME), 0);
    *state = fx;
    return 0;
}

/* Closes the server unless the test did, and asserts that done ran once
 * and that the loop closes clean: no handle, no request left behind. */
static int
teardown(void **state)
{
    struct fixture *fx = *state;

    if (fx->httpd != NULL)
        httpd_close(fx->httpd, on_httpd_done, fx);
    fx->httpd = NULL;
    uv_close((uv_handle_t *)&fx->guard, NULL);
    assert_int_equal(uv_run(&fx->loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fx->done, 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    free(fx);
    return 0;
}

/* ---- a client on the same loop ---------------------------------------- */

static void
client_on_closed(uv_handle_t *h)
{
    struct client *c = h->data;

    c->closed++;
}

static void
client_close(struct client *c)
{
    if (uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    uv_close((uv_handle_t *)&c->tcp, client_on_closed);
    uv_close((uv_handle_t *)&c->timer, client_on_closed);
}

static void
client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct client *c = h->data;

    if (c->cap - c->len < suggested) {
        /* Doubling: the big test reads 16 MiB. */
        c->cap =
            c->cap * 2 > c->len + suggested ? c->cap * 2 : c->len + suggested;
        c->buf = realloc(c->buf, c->cap + 1);
        assert_non_null(c->buf);
    }
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void
client_on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct client *c = s->data;

    if (n == 0)
        return;
    if (n < 0) {
        if (n == UV_EOF)
            c->eof = 1;
        else
            c->error = (int)n;
        client_close(c);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (c->on_data != NULL)
        c->on_data(c);
}

static void client_send_next(struct client *);

static void
client_on_pause(uv_timer_t *t)
{
    client_send_next(t->data);
}

static void
client_on_shutdown(uv_shutdown_t *req, int status)
{
    (void)req;
    (void)status;
}

static void
client_on_write(uv_write_t *req, int status)
{
    struct client *c = req->data;

    if (status < 0)
        return; /* the server closed first; the read side tells */
    if (c->next < c->nparts)
        uv_timer_start(&c->timer, client_on_pause, 30, 0);
    else if (c->half_close)
        uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp,
                    client_on_shutdown);
}

/* Writes the next part of the request, each in its own write and, with a
 * pause between them, most likely in its own segment. */
static void
client_send_next(struct client *c)
{
    uv_buf_t b;

    if (c->next >= c->nparts || uv_is_closing((uv_handle_t *)&c->tcp))
        return;
    b = uv_buf_init((char *)c->parts[c->next],
                    (unsigned)strlen(c->parts[c->next]));
    c->next++;
    c->write_req.data = c;
    if (uv_write(&c->write_req, (uv_stream_t *)&c->tcp, &b, 1,
                 client_on_write) != 0)
        client_close(c);
}

static void
client_on_connect(uv_connect_t *req, int status)
{
    struct client *c = req->data;

    if (status < 0) {
        c->error = status;
        client_close(c);
        return;
    }
    c->connected = 1;
    assert_int_equal(
        uv_read_start((uv_stream_t *)&c->tcp, client_alloc, client_on_read), 0);
    client_send_next(c);
}

/* A connection that will send the n parts, each in its own write. */
static struct client *
client_start_parts(struct fixture *fx, size_t n, const char *const *parts)
{
    struct client *c = calloc(1, sizeof(*c));
    struct sockaddr_in sin;

    assert_non_null(c);
    assert_true(n <= 4);
    c->fx = fx;
    for (c->nparts = 0; c->nparts < n; c->nparts++)
        c->parts[c->nparts] = parts[c->nparts];
    uv_tcp_init(&fx->loop, &c->tcp);
    uv_timer_init(&fx->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    c->connect_req.data = c;
    assert_int_equal(uv_ip4_addr("127.0.0.1", fx->port, &sin), 0);
    assert_int_equal(uv_tcp_connect(&c->connect_req, &c->tcp,
                                    (const struct sockaddr *)&sin,
                                    client_on_connect),
                     0);
    return c;
}

/* A connection that will send request, or nothing when it is NULL. */
static struct client *
client_start(struct fixture *fx, const char *request)
{
    return client_start_parts(fx, request != NULL, &request);
}

/* Waits for the server to close, then splits the response. */
static void
client_finish(struct client *c)
{
    char *end;

    run_until(c->fx, &c->closed, 2);
    assert_true(c->eof);
    c->code = 0;
    c->body = NULL;
    c->body_len = 0;
    if (c->buf == NULL)
        return;
    if (strncmp(c->buf, "HTTP/1.1 ", 9) == 0)
        c->code = atoi(c->buf + 9);
    end = strstr(c->buf, "\r\n\r\n");
    if (end != NULL) {
        c->body = end + 4;
        c->body_len = c->len - (size_t)(c->body - c->buf);
    }
}

static void
client_free(struct client *c)
{
    if (c != NULL)
        free(c->buf);
    free(c);
}

/* One request, run to the end. */
static struct client *
fetch(struct fixture *fx, const char *request)
{
    struct client *c = client_start(fx, request);

    client_finish(c);
    return c;
}

/* The value of the response header name (the last one if repeated) or
 * NULL. The returned string lives in a static buffer. */
static const char *
header(const struct client *c, const char *name)
{
    static char value[512];
    const char *p, *end;
    size_t nlen = strlen(name);
    const char *found = NULL;

    if (c->buf == NULL)
        return NULL;
    end = c->body != NULL ? c->body : c->buf + c->len;
    for (p = strstr(c->buf, "\r\n"); p != NULL && p + 2 < end;
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;

        if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1, *eol;
            size_t n;

            while (*v == ' ')
                v++;
            eol = strstr(v, "\r\n");
            n = (size_t)(eol - v);
            assert_true(n < sizeof(value));
            memcpy(value, v, n);
            value[n] = '\0';
            found = value;
        }
    }
    return found;
}

static int
status_of(struct fixture *fx, const char *request)
{
    struct client *c = fetch(fx, request);
    int code = c->code;

    client_free(c);
    return code;
}

#define GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\n\r\n"

#endif

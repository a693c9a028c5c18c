/* tests/unit/test_httpd_dyn.c - paths made on the loop at request time
 * (httpd_set_dynamic()): requests held while the loop renders, one render
 * shared by those that come together, 503 when the loop is late, when the
 * render fails and when the server closes on a request held. Built with
 * HTTPD_DYN_WAIT_MS=1000 and HTTPD_DYN_SHARE_MS=300. Clients run on
 * threads of their own; the loop runs here, only when a test says so. */
#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>

#include "httpd_dyn.h"
#include "httpd_fixture.h"
#include "linear.h"

#define METRICS "text/plain; version=0.0.4; charset=utf-8"

static atomic_int renders;
static int render_fails;
static unsigned render_ms;         /* how long a render takes */
static atomic_llong render_end_ms; /* when the last render ended */

static long long
mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A document that says which render made it, long enough to compress. */
static int
render(void *arg, const char *path, struct feed_buf *out)
{
    int n = atomic_fetch_add(&renders, 1) + 1;

    (void)arg;
    if (render_ms > 0)
        sleep_ms(render_ms);
    atomic_store(&render_end_ms, mono_ms());
    if (render_fails)
        return -1;
    if (feed_buf_printf(out, "render %d of %s\n", n, path) != 0)
        return -1;
    for (int i = 0; i < 200; i++)
        if (feed_buf_puts(out, "feedd_feed_consecutive_failures 0\n") != 0)
            return -1;
    return 0;
}

/* Requests the clients have written, counted up. */
static atomic_int requests_sent;

/* A client's request, on a thread of its own. */
struct client {
    pthread_t thread;
    int port;
    const char *request;
    struct response r;
    int closed; /* the server closed the connection after the response */
    atomic_int done;
};

static void *
client_main(void *arg)
{
    struct client *c = arg;
    struct conn *conn = conn_open(c->port);

    conn_send(conn, c->request);
    atomic_fetch_add(&requests_sent, 1);
    if (conn_response(conn, &c->r, 0) != 0)
        c->r.code = -1;
    c->closed = conn_closed(conn);
    conn_close(conn);
    atomic_store(&c->done, 1);
    return NULL;
}

static void
client_start(struct client *c, int port, const char *request)
{
    memset(c, 0, sizeof(*c));
    c->port = port;
    c->request = request;
    assert_int_equal(pthread_create(&c->thread, NULL, client_main, c), 0);
}

/* Runs the loop until every client of cs[0..n) has its response. */
static void
run_until_done(struct fixture *fx, struct client *cs, int n)
{
    for (int tries = 0; tries < 5000; tries++) {
        int left = 0;

        for (int i = 0; i < n; i++)
            left += !atomic_load(&cs[i].done);
        if (left == 0)
            break;
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        sleep_ms(1);
    }
    for (int i = 0; i < n; i++)
        assert_int_equal(pthread_join(cs[i].thread, NULL), 0);
}

/* Asks with request, the loop running, until render n answers (r), at
 * most 5 s after render n - 1 ended; every answer before is render n - 1.
 * How long a render stays fresh depends on how long it took, which a
 * loaded machine stretches ten times over, so the tests wait for the end
 * of it rather than sleep past it. */
static void
wait_render(struct fixture *fx, const char *request, int n, struct response *r)
{
    char want[32], before[32];
    long long t0 = atomic_load(&render_end_ms);

    snprintf(want, sizeof(want), "render %d of", n);
    snprintf(before, sizeof(before), "render %d of", n - 1);
    for (;;) {
        struct client c;

        assert_true(mono_ms() - t0 < 5000);
        client_start(&c, fx->port, request);
        run_until_done(fx, &c, 1);
        assert_int_equal(c.r.code, 200);
        if (strncmp(c.r.body, want, strlen(want)) == 0) {
            *r = c.r;
            return;
        }
        assert_true(strncmp(c.r.body, before, strlen(before)) == 0);
        response_free(&c.r);
        sleep_ms(50);
    }
}

static const char get_m[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                            "Connection: close\r\n\r\n";
static const char get_m_gz[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                               "Accept-Encoding: gzip\r\n"
                               "Connection: close\r\n\r\n";

static int
dyn_setup(void **state)
{
    struct fixture *fx;

    setup(state);
    fx = *state;
    atomic_store(&renders, 0);
    render_fails = 0;
    render_ms = 0;
    assert_int_equal(
        httpd_set_dynamic(fx->httpd, "/metrics", METRICS, render, NULL), 0);
    return 0;
}

/* Requests that come while a render is asked share it; one that comes
 * once it is no longer fresh gets another. */
static void
test_shared(void **state)
{
    struct fixture *fx = *state;
    struct client cs[8];
    char v[128];
    int sent = atomic_load(&requests_sent);

    for (int i = 0; i < 8; i++)
        client_start(&cs[i], fx->port, get_m);
    wait_sent(&requests_sent, sent, 8); /* all held: the loop does not run */
    assert_int_equal(atomic_load(&renders), 0);
    run_until_done(fx, cs, 8);
    assert_int_equal(atomic_load(&renders), 1);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(cs[i].r.code, 200);
        assert_true(strncmp(cs[i].r.body, "render 1 of /metrics\n", 21) == 0);
        assert_true(header(&cs[i].r, "Content-Type", v, sizeof(v)));
        assert_string_equal(v, METRICS);
        assert_true(header(&cs[i].r, "Cache-Control", v, sizeof(v)));
        assert_string_equal(v, "no-store");
        assert_false(header(&cs[i].r, "ETag", v, sizeof(v)));
        assert_false(header(&cs[i].r, "Last-Modified", v, sizeof(v)));
        response_free(&cs[i].r);
    }
    /* Fresh still: answered without the loop, when the clients above
     * took less than the 300 ms it is fresh for (they do, but for a
     * machine too loaded to show it). */
    if (mono_ms() - atomic_load(&render_end_ms) < 150) {
        fetch(fx->port, get_m, &cs[0].r);
        assert_int_equal(cs[0].r.code, 200);
        assert_true(strncmp(cs[0].r.body, "render 1 of", 11) == 0);
        response_free(&cs[0].r);
    }
    /* Then no longer. */
    wait_render(fx, get_m, 2, &cs[0].r);
    response_free(&cs[0].r);
    assert_int_equal(atomic_load(&renders), 2);
}

/* A slow render stays fresh ten times as long as it took, when that is
 * longer than HTTPD_DYN_SHARE_MS: the loop spends a tenth of its time on
 * it at most. */
static void
test_slow_render(void **state)
{
    struct fixture *fx = *state;
    struct client c;

    render_ms = 100; /* fresh for 1 s at least, not 300 ms */
    client_start(&c, fx->port, get_m);
    run_until_done(fx, &c, 1);
    assert_int_equal(c.r.code, 200);
    response_free(&c.r);
    sleep_ms(500);
    client_start(&c, fx->port, get_m);
    run_until_done(fx, &c, 1);
    assert_true(strncmp(c.r.body, "render 1 of", 11) == 0);
    response_free(&c.r);
    wait_render(fx, get_m, 2, &c.r);
    response_free(&c.r);
    assert_int_equal(atomic_load(&renders), 2);
}

/* gzip for a client that takes it, HEAD without a body, other methods
 * refused. */
static void
test_gzip_head_method(void **state)
{
    struct fixture *fx = *state;
    struct client c;
    struct response r;
    char v[64];
    size_t plain_len;

    client_start(&c, fx->port, get_m_gz);
    run_until_done(fx, &c, 1);
    assert_int_equal(c.r.code, 200);
    assert_true(header(&c.r, "Content-Encoding", v, sizeof(v)));
    assert_string_equal(v, "gzip");
    assert_true(c.r.body_len > 2 && (unsigned char)c.r.body[0] == 0x1f &&
                (unsigned char)c.r.body[1] == 0x8b);
    response_free(&c.r);

    wait_render(fx, get_m, 2, &c.r);
    assert_false(header(&c.r, "Content-Encoding", v, sizeof(v)));
    plain_len = c.r.body_len;
    response_free(&c.r);
    /* The same render, fresh, for HEAD: its length, no body. */
    fetch(fx->port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.code, 200);
    assert_int_equal(r.body_len, 0);
    assert_true(header(&r, "Content-Length", v, sizeof(v)));
    assert_int_equal(strtoul(v, NULL, 10), plain_len);
    response_free(&r);
    fetch(fx->port, "POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n", &r);
    assert_int_equal(r.code, 405);
    response_free(&r);
    assert_int_equal(atomic_load(&renders), 2);
}

/* A loop that does not answer: 503 after HTTPD_DYN_WAIT_MS, then at once
 * until it does; then served again. */
static void
test_late(void **state)
{
    struct fixture *fx = *state;
    struct timespec t0, t1;
    struct response r;
    long ms;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    fetch(fx->port, get_m, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_int_equal(r.code, 503);
    assert_non_null(strstr(r.body, "did not answer in time"));
    assert_true(ms >= 900 && ms < 3000);
    response_free(&r);

    clock_gettime(CLOCK_MONOTONIC, &t0);
    fetch(fx->port, get_m, &r);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    assert_int_equal(r.code, 503);
    assert_true(ms < 500);
    response_free(&r);

    /* The loop runs: the render asked long ago is made, and shared. */
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_int_equal(atomic_load(&renders), 1);
    fetch(fx->port, get_m, &r);
    assert_int_equal(r.code, 200);
    response_free(&r);
}

/* A render that fails: 503 to the requests that waited for it. */
static void
test_render_fails(void **state)
{
    struct fixture *fx = *state;
    struct client c;

    render_fails = 1;
    client_start(&c, fx->port, get_m);
    run_until_done(fx, &c, 1);
    assert_int_equal(c.r.code, 503);
    assert_non_null(strstr(c.r.body, "could not be made"));
    response_free(&c.r);
    assert_int_equal(atomic_load(&renders), 1);
}

/* The server closed while requests are held: each gets 503 with
 * "Connection: close", and the close ends with everything freed. */
static void
test_close_while_held(void **state)
{
    struct fixture *fx = *state;
    struct client cs[3];
    char v[64];
    int sent = atomic_load(&requests_sent);

    for (int i = 0; i < 3; i++)
        client_start(&cs[i], fx->port, get_m);
    wait_sent(&requests_sent, sent, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&cs[i].done), 0);
    close_server(fx);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(cs[i].thread, NULL), 0);
        assert_int_equal(cs[i].r.code, 503);
        assert_non_null(strstr(cs[i].r.body, "stopping"));
        assert_true(header(&cs[i].r, "Connection", v, sizeof(v)));
        assert_string_equal(v, "close");
        assert_true(cs[i].closed);
        response_free(&cs[i].r);
    }
    assert_int_equal(atomic_load(&renders), 0);
}

/* A document set at the path comes first; bad paths are refused; a path
 * set again takes its new render. */
static void
test_set(void **state)
{
    struct fixture *fx = *state;
    struct response r;

    assert_int_equal(
        httpd_set_dynamic(fx->httpd, "metrics", METRICS, render, NULL),
        -EINVAL);
    assert_int_equal(
        httpd_set_dynamic(fx->httpd, "/a?b", METRICS, render, NULL), -EINVAL);
    assert_int_equal(httpd_set_dynamic(fx->httpd, "/x", "a\nb", render, NULL),
                     -EINVAL);
    assert_int_equal(
        httpd_set_dynamic(fx->httpd, "/metrics", "text/plain", render, NULL),
        0);
    assert_int_equal(
        httpd_set(fx->httpd, "/metrics", "text/plain", "doc", 3, MTIME), 0);
    fetch(fx->port, get_m, &r);
    assert_int_equal(r.code, 200);
    assert_string_equal(r.body, "doc");
    response_free(&r);
    assert_int_equal(atomic_load(&renders), 0);
    assert_int_equal(get_status(fx->port, "/metrics.json"), 404);
}

/* Thousands of paths (an archive's pages): each request gets its own
 * path's render, and setting them is linear in their number. */
static void
test_many_paths(void **state)
{
    struct fixture *fx = *state;
    static const int ks[] = {0, 7777, 19999};
    char path[64], req[160], want[80];

    for (int k = 0; k < 20000; k++) {
        snprintf(path, sizeof(path), "/archive/%d.atom", k);
        assert_int_equal(
            httpd_set_dynamic(fx->httpd, path, METRICS, render, NULL), 0);
    }
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
        struct client c;

        snprintf(req, sizeof(req),
                 "GET /archive/%d.atom HTTP/1.1\r\nHost: x\r\n"
                 "Connection: close\r\n\r\n",
                 ks[i]);
        client_start(&c, fx->port, req);
        run_until_done(fx, &c, 1);
        assert_int_equal(c.r.code, 200);
        snprintf(want, sizeof(want), " of /archive/%d.atom\n", ks[i]);
        assert_non_null(strstr(c.r.body, want));
        response_free(&c.r);
    }
    assert_int_equal(get_status(fx->port, "/archive/20000.atom"), 404);
}

static void
on_dyns_closed(void *arg)
{
    *(int *)arg = 1;
}

static void
set_paths(size_t n, void *arg)
{
    struct fixture *fx = arg;
    struct httpd_dyns *ds = httpd_dyns_new();
    char path[64];
    int closed = 0;

    assert_non_null(ds);
    for (size_t k = 0; k < n / 16; k++) {
        snprintf(path, sizeof(path), "/archive/%zu.json", k);
        assert_int_equal(
            httpd_dyns_set(ds, &fx->loop, path, METRICS, render, NULL), 0);
    }
    if (httpd_dyns_close(ds, on_dyns_closed, &closed))
        while (!closed)
            uv_run(&fx->loop, UV_RUN_ONCE);
}

static void
test_set_linear(void **state)
{
    assert_linear("httpd_dyns_set", set_paths, *state, LINEAR_N0,
                  (size_t)1 << 22);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_shared, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_slow_render, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_gzip_head_method, dyn_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_late, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_render_fails, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_held, dyn_setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_set, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_paths, dyn_setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_linear, dyn_setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

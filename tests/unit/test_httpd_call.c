/* tests/unit/test_httpd_call.c - paths a handler answers on the loop
 * (httpd_set_handler()): a GET's query arguments and headers, a POST's
 * body, 413 for a body over the cap, 405 for a POST elsewhere, 503 when
 * the server closes on a request held. Clients run on threads of their
 * own; the loop runs here, only when a test says so. */
#include <pthread.h>
#include <stdatomic.h>

#include <uv.h>

#include "httpd_fixture.h"

/* What the handler saw of the last call. */
static atomic_int calls;
static char seen_method[16], seen_path[64], seen_arg[64], seen_header[64];
static char seen_body[64];
static size_t seen_len;

static int
handler(void *arg, struct httpd_call *c, struct feed_buf *reply)
{
    const char *v;

    (void)arg;
    atomic_fetch_add(&calls, 1);
    snprintf(seen_method, sizeof(seen_method), "%s", c->method);
    snprintf(seen_path, sizeof(seen_path), "%s", c->path);
    v = httpd_call_arg(c, "hub.challenge");
    snprintf(seen_arg, sizeof(seen_arg), "%s", v ? v : "(none)");
    v = httpd_call_header(c, "x-hub-signature");
    snprintf(seen_header, sizeof(seen_header), "%s", v ? v : "(none)");
    seen_len = c->len;
    snprintf(seen_body, sizeof(seen_body), "%s", c->body ? c->body : "(none)");
    if (strcmp(c->method, "GET") == 0) {
        if (feed_buf_puts(reply, seen_arg) != 0)
            return 503;
        return 200;
    }
    return 202;
}

/* Requests the clients have written, counted up. */
static atomic_int requests_sent;

struct client {
    pthread_t thread;
    int port;
    const char *request;
    struct response r;
    int failed; /* no response: the connection was closed */
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
        c->failed = 1;
    else
        c->closed = conn_closed(conn);
    conn_close(conn);
    atomic_store(&c->done, 1);
    return NULL;
}

/* Sends request from a thread and runs the loop until it is answered. */
static void
ask(struct fixture *fx, const char *request, struct client *c)
{
    memset(c, 0, sizeof(*c));
    c->port = fx->port;
    c->request = request;
    assert_int_equal(pthread_create(&c->thread, NULL, client_main, c), 0);
    for (int tries = 0; tries < 5000 && !atomic_load(&c->done); tries++) {
        uv_run(&fx->loop, UV_RUN_NOWAIT);
        sleep_ms(1);
    }
    assert_int_equal(pthread_join(c->thread, NULL), 0);
}

static int
call_setup(void **state)
{
    struct fixture *fx;

    setup(state);
    fx = *state;
    atomic_store(&calls, 0);
    assert_int_equal(
        httpd_set_handler(fx->httpd, "/websub/", 16, handler, NULL), 0);
    return 0;
}

static void
test_get(void **state)
{
    struct fixture *fx = *state;
    struct client c;
    char v[64];

    ask(fx,
        "GET /websub/tok?hub.mode=subscribe&hub.challenge=a%20b+c HTTP/1.1\r\n"
        "Host: x\r\nX-Hub-Signature: sha1=00\r\nConnection: close\r\n\r\n",
        &c);
    assert_int_equal(c.r.code, 200);
    assert_string_equal(c.r.body, "a b c");
    assert_true(header(&c.r, "Content-Type", v, sizeof(v)));
    assert_string_equal(v, "text/plain; charset=utf-8");
    response_free(&c.r);
    assert_int_equal(atomic_load(&calls), 1);
    assert_string_equal(seen_method, "GET");
    assert_string_equal(seen_path, "/websub/tok");
    assert_string_equal(seen_header, "sha1=00");
    assert_string_equal(seen_body, "(none)");
    /* No arguments, no headers of note: NULL for each. */
    ask(fx, "GET /websub/ HTTP/1.0\r\n\r\n", &c);
    assert_int_equal(c.r.code, 200);
    assert_string_equal(seen_arg, "(none)");
    response_free(&c.r);
    /* Other paths are the server's as before. */
    assert_int_equal(get_status(fx->port, "/feed.atom"), 200);
    assert_int_equal(get_status(fx->port, "/websu"), 404);
    assert_int_equal(atomic_load(&calls), 2);
}

static void
test_post(void **state)
{
    struct fixture *fx = *state;
    struct client c;

    ask(fx,
        "POST /websub/t HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n"
        "X-Hub-Signature: sha256=ab\r\nConnection: close\r\n\r\nhello world",
        &c);
    assert_int_equal(c.r.code, 202);
    response_free(&c.r);
    assert_string_equal(seen_method, "POST");
    assert_string_equal(seen_body, "hello world");
    assert_int_equal(seen_len, 11);
    assert_string_equal(seen_header, "sha256=ab");
    /* A chunked body within the cap. */
    ask(fx,
        "POST /websub/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        &c);
    assert_int_equal(c.r.code, 202);
    response_free(&c.r);
    assert_string_equal(seen_body, "abcde");
    assert_int_equal(atomic_load(&calls), 2);
}

/* Over the cap: 413 by its Content-Length, before its body; a chunked
 * one that grows past it is cut off. Neither reaches the handler. A POST
 * elsewhere, and other methods under the prefix, are the server's. */
static void
test_refused(void **state)
{
    struct fixture *fx = *state;
    struct client c;

    ask(fx,
        "POST /websub/t HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n"
        "Connection: close\r\n\r\n12345678901234567",
        &c);
    assert_int_equal(c.r.code, 413);
    assert_true(c.closed);
    response_free(&c.r);
    ask(fx,
        "POST /websub/t HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        "Connection: close\r\n\r\n10\r\n0123456789abcdef\r\n1\r\nx\r\n0\r\n"
        "\r\n",
        &c);
    assert_true(c.failed || c.r.code >= 400);
    response_free(&c.r);
    ask(fx,
        "POST /feed.atom HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        "Connection: close\r\n\r\nx",
        &c);
    assert_int_equal(c.r.code, 405);
    response_free(&c.r);
    ask(fx,
        "PUT /websub/t HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
        "Connection: close\r\n\r\nx",
        &c);
    assert_int_equal(c.r.code, 405);
    response_free(&c.r);
    assert_int_equal(atomic_load(&calls), 0);
    /* Set again: the same prefix only, and the new cap holds. */
    assert_int_equal(httpd_set_handler(fx->httpd, "/x/", 1, handler, NULL),
                     -EINVAL);
    assert_int_equal(
        httpd_set_handler(fx->httpd, "/websub/", 32, handler, NULL), 0);
    ask(fx,
        "POST /websub/t HTTP/1.1\r\nHost: x\r\nContent-Length: 17\r\n"
        "Connection: close\r\n\r\n12345678901234567",
        &c);
    assert_int_equal(c.r.code, 202);
    response_free(&c.r);
    assert_string_equal(seen_body, "12345678901234567");
}

/* The server closed on requests held: each gets 503, none reaches the
 * handler, and the close ends with everything freed. */
static void
test_close_while_held(void **state)
{
    struct fixture *fx = *state;
    struct client cs[3];
    int sent = atomic_load(&requests_sent);

    for (int i = 0; i < 3; i++) {
        memset(&cs[i], 0, sizeof(cs[i]));
        cs[i].port = fx->port;
        cs[i].request = "POST /websub/t HTTP/1.1\r\nHost: x\r\n"
                        "Content-Length: 2\r\nConnection: close\r\n\r\nhi";
        assert_int_equal(
            pthread_create(&cs[i].thread, NULL, client_main, &cs[i]), 0);
    }
    wait_sent(&requests_sent, sent, 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(atomic_load(&cs[i].done), 0);
    close_server(fx);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(pthread_join(cs[i].thread, NULL), 0);
        assert_int_equal(cs[i].r.code, 503);
        assert_true(cs[i].closed);
        response_free(&cs[i].r);
    }
    assert_int_equal(atomic_load(&calls), 0);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_get, call_setup, teardown),
        cmocka_unit_test_setup_teardown(test_post, call_setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused, call_setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_held, call_setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

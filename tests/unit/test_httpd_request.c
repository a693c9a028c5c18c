/* tests/unit/test_httpd_request.c - reading a request head
 * (daemon/httpd_request.c): its results, and that every pass is linear in
 * the bytes however hostile their shape and however they arrive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "httpd_request.h"
#include "linear.h"

#define MAX_N (1u << 22)

static size_t
end_of(const char *s)
{
    size_t lead = 0;

    return httpd_header_end(s, 0, strlen(s), &lead);
}

/* s fed one byte at a time: where the head ends, 0 when it does not. */
static size_t
end_bytewise(const char *s)
{
    size_t lead = 0, len = strlen(s), end = 0;

    for (size_t i = 1; i <= len && end == 0; i++)
        end = httpd_header_end(s, i - 1, i, &lead);
    return end;
}

static void
test_header_end(void **state)
{
    static const char *const heads[] = {
        "GET / HTTP/1.1\r\n\r\n",
        "GET / HTTP/1.1\n\n",
        "\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: x\n\r\n",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
        assert_int_equal(end_of(heads[i]), strlen(heads[i]));
        assert_int_equal(end_bytewise(heads[i]), strlen(heads[i]));
    }
    /* Not yet: empty lines before the request line, a bare CR. */
    assert_int_equal(end_of("\r\n\r\n\n\n"), 0);
    assert_int_equal(end_bytewise("\r\n\r\n\n\n"), 0);
    assert_int_equal(end_of("GET / HTTP/1.1\r\r"), 0);
    assert_int_equal(end_of("GET / HTTP/1.1\r\n"), 0);
}

static void
test_request_parse(void **state)
{
    struct httpd_request r;
    char ok[] = "GET /a%20b?q HTTP/1.1\r\nHost: x \r\nIf-None-Match: "
                "W/\"1\", \"2\"\r\n\r\n";
    char v2[] = "GET / HTTP/2.0\r\n\r\n";
    char fold[] = "GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n";
    char cr[] = "GET / HTTP/1.1\r\nA: b\rc\r\n\r\n";
    char path[64];

    (void)state;
    assert_int_equal(httpd_request_parse(ok, ok + strlen(ok), &r), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.target, "/a%20b?q");
    assert_int_equal(r.minor, 1);
    assert_int_equal(r.nheaders, 2);
    assert_string_equal(r.headers[0].value, "x");
    assert_int_equal(httpd_header_count(&r, "host"), 1);
    assert_true(httpd_etag_match(r.headers[1].value, "\"1\""));
    assert_true(httpd_etag_match(r.headers[1].value, "\"2\""));
    assert_false(httpd_etag_match(r.headers[1].value, "\"3\""));
    assert_int_equal(httpd_target_path(r.target, path, sizeof(path)), 0);
    assert_string_equal(path, "/a b");
    assert_int_equal(httpd_request_parse(v2, v2 + strlen(v2), &r), 505);
    assert_int_equal(httpd_request_parse(fold, fold + strlen(fold), &r), 400);
    assert_int_equal(httpd_request_parse(cr, cr + strlen(cr), &r), 400);
}

static void
test_target_path(void **state)
{
    char out[16];

    (void)state;
    assert_int_equal(httpd_target_path("http://h:80/x%2Fy#f", out, 16), 0);
    assert_string_equal(out, "/x/y");
    assert_int_equal(httpd_target_path("https://h", out, 16), 0);
    assert_string_equal(out, "/");
    assert_int_equal(httpd_target_path("/%4a%4A", out, 16), 0);
    assert_string_equal(out, "/JJ");
    assert_int_equal(httpd_target_path("/%00", out, 16), -1);
    assert_int_equal(httpd_target_path("/%4", out, 16), -1);
    assert_int_equal(httpd_target_path("/%g0", out, 16), -1);
    assert_int_equal(httpd_target_path("ftp://h/", out, 16), -1);
    assert_int_equal(httpd_target_path("/0123456789abcdef", out, 16), -1);
}

/* ---- linear time --------------------------------------------------------
 * Each shape is a string of n bytes made of one piece repeated, with a
 * prefix and a suffix. */

struct shape {
    const char *prefix, *piece, *suffix;
    int bytewise; /* header_end: fed one byte at a time */
};

/* One buffer for every input, so that the page faults of fresh memory are
 * not timed with the pass. */
static char *buf;
static char *out_buf;
#define BUF_SIZE (4 * MAX_N + 64)

static char *
make(const struct shape *sh, size_t n)
{
    size_t plen = strlen(sh->prefix), k = strlen(sh->piece);
    size_t slen = strlen(sh->suffix), len = plen;

    assert_true(plen + n + k + slen + 1 <= BUF_SIZE);
    memcpy(buf, sh->prefix, plen);
    while (len < plen + n) {
        memcpy(buf + len, sh->piece, k);
        len += k;
    }
    memcpy(buf + len, sh->suffix, slen + 1);
    return buf;
}

static void
run_header_end(size_t n, void *arg)
{
    const struct shape *sh = arg;
    char *s = make(sh, n);
    size_t len = strlen(s), lead = 0;

    if (sh->bytewise)
        for (size_t i = 1; i <= len; i++)
            (void)httpd_header_end(s, i - 1, i, &lead);
    else
        (void)httpd_header_end(s, 0, len, &lead);
}

static void
run_request_parse(size_t n, void *arg)
{
    char *s = make(arg, n);
    struct httpd_request r;

    (void)httpd_request_parse(s, s + strlen(s), &r);
}

static void
run_target_path(size_t n, void *arg)
{
    char *s = make(arg, n);

    (void)httpd_target_path(s, out_buf, BUF_SIZE);
}

static void
run_etag_match(size_t n, void *arg)
{
    char *s = make(arg, n);

    (void)httpd_etag_match(s, "\"0123456789abcdef\"");
}

static void
test_linear(void **state)
{
    static const struct shape ends[] = {
        {"", "\r\n", "", 1},                    /* empty lines only */
        {"", "\n", "GET / HTTP/1.1\r\n", 1},    /* then a request line */
        {"GET / HTTP/1.1\r\n", "\r", "", 1},    /* bare CRs */
        {"GET / HTTP/1.1\r\n", "a:b\n", "", 1}, /* many short fields */
        {"", "\r\n", "", 0},
    };
    static const struct shape parses[] = {
        {"GET / HTTP/1.1\r\n", "\r\n", "", 0},
        {"GET / HTTP/1.1\r\nA: ", " ", "b\r\n\r\n", 0},   /* spaces */
        {"GET / HTTP/1.1\r\nA: ", "b \t", "\r\n\r\n", 0}, /* trailing OWS */
        {"GET /", "a", " HTTP/1.1\r\n\r\n", 0},           /* a long target */
        {"", "\r\n", "GET / HTTP/1.1\r\n\r\n", 0},
    };
    static const struct shape targets[] = {
        {"/", "%41", "", 0},
        {"http://", "h", "/x", 0},
        {"/", "%", "", 0},
    };
    static const struct shape etags[] = {
        {"", "\"a\",", "", 0},
        {"", "W/\"\"", "", 0},
        {"", " ,\t", "\"", 0},
        {"\"", "a", "", 0}, /* unterminated */
    };
    char name[64];

    (void)state;
    buf = malloc(BUF_SIZE);
    out_buf = malloc(BUF_SIZE);
    assert_non_null(buf);
    assert_non_null(out_buf);
    /* Touched once before any timing. */
    memset(buf, 'x', BUF_SIZE);
    memset(out_buf, 'x', BUF_SIZE);
    for (size_t i = 0; i < sizeof(ends) / sizeof(ends[0]); i++) {
        snprintf(name, sizeof(name), "header_end %zu", i);
        assert_linear(name, run_header_end, (void *)&ends[i], 4096, MAX_N);
    }
    for (size_t i = 0; i < sizeof(parses) / sizeof(parses[0]); i++) {
        snprintf(name, sizeof(name), "request_parse %zu", i);
        assert_linear(name, run_request_parse, (void *)&parses[i], 4096, MAX_N);
    }
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        snprintf(name, sizeof(name), "target_path %zu", i);
        assert_linear(name, run_target_path, (void *)&targets[i], 4096, MAX_N);
    }
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
        snprintf(name, sizeof(name), "etag_match %zu", i);
        assert_linear(name, run_etag_match, (void *)&etags[i], 4096, MAX_N);
    }
    free(buf);
    free(out_buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_end),
        cmocka_unit_test(test_request_parse),
        cmocka_unit_test(test_target_path),
        cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

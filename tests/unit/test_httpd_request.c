/* tests/unit/test_httpd_request.c - the request target and header values
 * the server reads itself (daemon/httpd_request.c): their results, and
 * that every pass is linear in the bytes however hostile their shape. */
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

static void
test_target_path_in_place(void **state)
{
    char t[] = "http://h/a%2Fb?q";

    (void)state;
    assert_int_equal(httpd_target_path(t, t, sizeof(t)), 0);
    assert_string_equal(t, "/a/b");
}

static void
test_etag_match(void **state)
{
    (void)state;
    assert_true(httpd_etag_match("\"a\"", "\"a\""));
    assert_true(httpd_etag_match("\"b\", W/\"a\"", "\"a\""));
    assert_true(httpd_etag_match(" *", "\"a\""));
    assert_false(httpd_etag_match("\"ab\"", "\"a\""));
    assert_false(httpd_etag_match("a, \"a\"", "\"a\""));
    assert_false(httpd_etag_match("", "\"a\""));
}

static void
test_accepts_gzip(void **state)
{
    (void)state;
    assert_true(httpd_accepts_gzip("gzip"));
    assert_true(httpd_accepts_gzip("br, GZIP;q=0.5, deflate"));
    assert_true(httpd_accepts_gzip("x-gzip"));
    assert_true(httpd_accepts_gzip("*"));
    assert_true(httpd_accepts_gzip("gzip ; q=1.0"));
    assert_true(httpd_accepts_gzip("gzip;q=0.001"));
    assert_false(httpd_accepts_gzip(""));
    assert_false(httpd_accepts_gzip("identity"));
    assert_false(httpd_accepts_gzip("br, deflate"));
    assert_false(httpd_accepts_gzip("gzip;q=0"));
    assert_false(httpd_accepts_gzip("gzip; Q=0.000"));
    assert_false(httpd_accepts_gzip("gzip;q=0, *"));
    assert_false(httpd_accepts_gzip("*;q=0"));
    assert_false(httpd_accepts_gzip("gzipx, xgzip"));
    assert_true(httpd_accepts_gzip("*, gzip;foo=bar"));
}

/* ---- linear time --------------------------------------------------------
 * Each shape is a string of n bytes made of one piece repeated, with a
 * prefix and a suffix. */

struct shape {
    const char *prefix, *piece, *suffix;
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
run_accepts_gzip(size_t n, void *arg)
{
    char *s = make(arg, n);

    (void)httpd_accepts_gzip(s);
}

static void
test_linear(void **state)
{
    static const struct shape targets[] = {
        {"/", "%41", ""},
        {"http://", "h", "/x"},
        {"/", "%", ""},
    };
    static const struct shape etags[] = {
        {"", "\"a\",", ""},
        {"", "W/\"\"", ""},
        {"", " ,\t", "\""},
        {"\"", "a", ""}, /* unterminated */
    };
    static const struct shape encodings[] = {
        {"", "gzip;q=0.5,", ""}, {"gzip", ";", ""}, /* empty parameters */
        {"gzip;q=0.", "0", ""},                     /* a long qvalue */
        {"", " \t", "gzip"},                        /* whitespace */
        {"", "x", ", gzip"},                        /* a long coding */
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
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        snprintf(name, sizeof(name), "target_path %zu", i);
        assert_linear(name, run_target_path, (void *)&targets[i], 4096, MAX_N);
    }
    for (size_t i = 0; i < sizeof(etags) / sizeof(etags[0]); i++) {
        snprintf(name, sizeof(name), "etag_match %zu", i);
        assert_linear(name, run_etag_match, (void *)&etags[i], 4096, MAX_N);
    }
    for (size_t i = 0; i < sizeof(encodings) / sizeof(encodings[0]); i++) {
        snprintf(name, sizeof(name), "accepts_gzip %zu", i);
        assert_linear(name, run_accepts_gzip, (void *)&encodings[i], 4096,
                      MAX_N);
    }
    free(buf);
    free(out_buf);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_path),
        cmocka_unit_test(test_target_path_in_place),
        cmocka_unit_test(test_etag_match),
        cmocka_unit_test(test_accepts_gzip),
        cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_config_path.c - the path and URL helpers of config/
 * (config/path.h, private to the module): paths made absolute, file://
 * URLs, URL schemes and the host check, each linear in its input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "linear.h"
#include "path.h"

static void
check_resolve(const char *dir, const char *rel, const char *expected)
{
    char *got = config_path_resolve(dir, rel);

    assert_non_null(got);
    assert_string_equal(got, expected);
    free(got);
}

static void
test_resolve(void **state)
{
    (void)state;
    check_resolve("/etc/feedd", "feeds/a.xml", "/etc/feedd/feeds/a.xml");
    check_resolve("/etc/feedd", "./a.xml", "/etc/feedd/a.xml");
    check_resolve("/etc/feedd/", "a//b/./c/", "/etc/feedd/a/b/c");
    /* An absolute rel ignores dir. */
    check_resolve("/etc/feedd", "/var//lib/./feedd", "/var/lib/feedd");
    /* ".." stays: only the file system knows where it leads. */
    check_resolve("/etc/feedd", "../x", "/etc/feedd/../x");
    check_resolve("/", ".", "/");
    check_resolve("/", "", "/");
    check_resolve("//", "/./", "/");
    check_resolve("/a", "..", "/a/..");
    /* A segment starting with a dot is not ".". */
    check_resolve("/a", ".hidden/..x", "/a/.hidden/..x");
}

static void
check_url(const char *path, const char *expected)
{
    char *got = config_path_to_url(path);

    assert_non_null(got);
    assert_string_equal(got, expected);
    free(got);
}

static void
test_path_to_url(void **state)
{
    (void)state;
    check_url("/", "file:///");
    check_url("/srv/feeds/a-b_c.d~e.xml", "file:///srv/feeds/a-b_c.d~e.xml");
    check_url("/my feeds/100%.xml", "file:///my%20feeds/100%25.xml");
    check_url("/a?b#c", "file:///a%3Fb%23c");
    check_url("/caf\xc3\xa9", "file:///caf%C3%A9");
    check_url("/\x01\x7f\xff", "file:///%01%7F%FF");
}

static void
test_cwd(void **state)
{
    char *cwd = config_cwd(), buf[4096];

    (void)state;
    assert_non_null(cwd);
    assert_non_null(getcwd(buf, sizeof buf));
    assert_string_equal(cwd, buf);
    free(cwd);
}

static void
test_ascii_prefix(void **state)
{
    (void)state;
    assert_true(config_ascii_prefix("HTTP:x", "http:"));
    assert_true(config_ascii_prefix("hTtPs:", "https:"));
    assert_true(config_ascii_prefix("anything", ""));
    assert_false(config_ascii_prefix("htt", "http"));
    assert_false(config_ascii_prefix("ftp:", "http:"));
    /* ASCII folding only: a byte above 0x7f never matches a letter. */
    assert_false(config_ascii_prefix("\xc4\xb0ttp:", "http:"));
}

static void
test_scheme_len(void **state)
{
    (void)state;
    assert_int_equal(config_url_scheme_len("http://a/"), 4);
    assert_int_equal(config_url_scheme_len("HTTPS://a/"), 5);
    assert_int_equal(config_url_scheme_len("file:///x"), 4);
    assert_int_equal(config_url_scheme_len("svn+ssh://a"), 7);
    assert_int_equal(config_url_scheme_len("a.b-c://"), 5);
    assert_int_equal(config_url_scheme_len("http:/a"), 0);
    assert_int_equal(config_url_scheme_len("http:a"), 0);
    assert_int_equal(config_url_scheme_len("1http://a"), 0);
    assert_int_equal(config_url_scheme_len("://a"), 0);
    assert_int_equal(config_url_scheme_len("a b://"), 0);
    assert_int_equal(config_url_scheme_len("feeds/a.xml"), 0);
    assert_int_equal(config_url_scheme_len(""), 0);

    assert_int_equal(config_url_scheme_colon_len("javascript:alert(1)"), 10);
    assert_int_equal(config_url_scheme_colon_len("http://a/"), 4);
    assert_int_equal(config_url_scheme_colon_len("mailto:x"), 6);
    assert_int_equal(config_url_scheme_colon_len("./a:b"), 0);
    assert_int_equal(config_url_scheme_colon_len("a/b:c"), 0);
    assert_int_equal(config_url_scheme_colon_len(":x"), 0);
    assert_int_equal(config_url_scheme_colon_len("feeds/a.xml"), 0);
    assert_int_equal(config_url_scheme_colon_len(""), 0);
}

static void
test_has_control(void **state)
{
    (void)state;
    assert_false(config_has_control(""));
    assert_false(config_has_control("/var/lib/feedd \xc3\xbc~"));
    assert_true(config_has_control("a\x01"));
    assert_true(config_has_control("\x1f"));
    assert_true(config_has_control("a\tb"));
    assert_true(config_has_control("a\x7f"));
}

static void
test_url_check(void **state)
{
    static const struct {
        const char *url;
        enum config_url_problem expected;
    } cases[] = {
        {"http://a.example/", CONFIG_URL_OK},
        {"http://a.example", CONFIG_URL_OK},
        {"https://a.example:8443/x?y#z", CONFIG_URL_OK},
        {"http://user:pw@a.example/", CONFIG_URL_OK},
        {"http://a@b@c.example/", CONFIG_URL_OK},
        {"http://[::1]:8080/", CONFIG_URL_OK},
        {"http://127.0.0.1/", CONFIG_URL_OK},
        {"http://a.example/%20b", CONFIG_URL_OK},
        {"http://a.example/ b", CONFIG_URL_SPACE},
        {"http://a.example/\tb", CONFIG_URL_SPACE},
        {"http://a.example/\x7f", CONFIG_URL_SPACE},
        {"http://a.example/\x01", CONFIG_URL_SPACE},
        {"http://", CONFIG_URL_NO_HOST},
        {"http:///path", CONFIG_URL_NO_HOST},
        {"http://?q", CONFIG_URL_NO_HOST},
        {"http://#f", CONFIG_URL_NO_HOST},
        {"http://:8080/", CONFIG_URL_NO_HOST},
        {"http://user@/", CONFIG_URL_NO_HOST},
        {"http://user@:80/", CONFIG_URL_NO_HOST},
        {"http://[]/", CONFIG_URL_NO_HOST},
        {"http://[", CONFIG_URL_NO_HOST},
        {"https://@", CONFIG_URL_NO_HOST},
        {"http://[::1/feed", CONFIG_URL_BRACKET},
        {"http://[::1", CONFIG_URL_BRACKET},
        {"http://[::1]x/", CONFIG_URL_BRACKET},
        {"http://u@[::1?q", CONFIG_URL_BRACKET},
        {"http://[::1]", CONFIG_URL_OK},
        {"http://[::1]:80?q", CONFIG_URL_OK},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = config_url_scheme_len(cases[i].url);

        assert_true(n > 0);
        if (config_url_check(cases[i].url, n) != cases[i].expected) {
            print_message("config_url_check(\"%s\")\n", cases[i].url);
            fail();
        }
    }
}

#define LINEAR_MAX (1 << 18)

/* The input of the complexity tests: n bytes repeating pattern after
 * prefix, NUL-terminated, in one buffer allocated once, so that malloc's
 * fresh pages are not what is measured. */
static char *
repeat(const char *prefix, const char *pattern, size_t n)
{
    static char buf[4 * LINEAR_MAX + 16];
    size_t plen = strlen(prefix), len = strlen(pattern), i;

    assert_true(plen + n < sizeof buf);
    memcpy(buf, prefix, plen);
    for (i = 0; i < n; i++)
        buf[plen + i] = pattern[i % len];
    buf[plen + n] = '\0';
    return buf;
}

static void
run_resolve(size_t n, void *arg)
{
    char *rel = repeat("", arg, n), *out = config_path_resolve("/d", rel);

    assert_non_null(out);
    free(out);
}

static void
run_to_url(size_t n, void *arg)
{
    char *path = repeat("/", arg, n), *out = config_path_to_url(path);

    assert_non_null(out);
    free(out);
}

static void
run_url_check(size_t n, void *arg)
{
    char *url = repeat("http://", arg, n);

    (void)config_url_check(url, 4);
}

static void
run_scheme_len(size_t n, void *arg)
{
    char *s = repeat("a", arg, n);

    assert_int_equal(config_url_scheme_len(s), 0);
}

static void
run_scheme_colon_len(size_t n, void *arg)
{
    char *s = repeat("a", arg, n);

    assert_int_equal(config_url_scheme_colon_len(s), 0);
}

static void
run_has_control(size_t n, void *arg)
{
    char *s = repeat("/", arg, n);

    assert_false(config_has_control(s));
}

static void
test_linear(void **state)
{
    (void)state;
    assert_linear("path_resolve ./", run_resolve, "./", 1 << 10, LINEAR_MAX);
    assert_linear("path_resolve //", run_resolve, "/", 1 << 10, LINEAR_MAX);
    assert_linear("path_resolve a/", run_resolve, "a/", 1 << 10, LINEAR_MAX);
    assert_linear("path_to_url %", run_to_url, "% ", 1 << 10, LINEAR_MAX);
    assert_linear("url_check @", run_url_check, "@", 1 << 10, LINEAR_MAX);
    assert_linear("url_check a@", run_url_check, "a@", 1 << 10, LINEAR_MAX);
    assert_linear("url_check [@", run_url_check, "[@:", 1 << 10, LINEAR_MAX);
    assert_linear("url_check [:", run_url_check, "[:", 1 << 10, LINEAR_MAX);
    assert_linear("url_scheme_len", run_scheme_len, "a+-.", 1 << 10,
                  LINEAR_MAX);
    assert_linear("url_scheme_colon_len", run_scheme_colon_len, "a+-.", 1 << 10,
                  LINEAR_MAX);
    assert_linear("has_control", run_has_control, "a~\xc3\xbc", 1 << 10,
                  LINEAR_MAX);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve),     cmocka_unit_test(test_path_to_url),
        cmocka_unit_test(test_cwd),         cmocka_unit_test(test_ascii_prefix),
        cmocka_unit_test(test_scheme_len),  cmocka_unit_test(test_url_check),
        cmocka_unit_test(test_has_control), cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_url.c - resolution (RFC 3986 §5.4's own examples) and
 * the comparison key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/buf.h"
#include "feeds/url.h"
#include "linear.h"

static void
test_resolve(void **state)
{
    /* RFC 3986 §5.4.1 and §5.4.2, base "http://a/b/c/d;p?q". */
    static const char *const cases[][2] = {
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
    };
    struct feed_buf b;
    size_t i;

    (void)state;
    feed_buf_init(&b, 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        feed_buf_reset(&b);
        assert_int_equal(
            feed_url_resolve("http://a/b/c/d;p?q", cases[i][0], &b), 0);
        if (strcmp(feed_buf_str(&b), cases[i][1]) != 0)
            fail_msg("\"%s\" gave \"%s\", not \"%s\"", cases[i][0],
                     feed_buf_str(&b), cases[i][1]);
    }
    feed_buf_reset(&b);
    assert_int_equal(feed_url_resolve("http://example.com", "x", &b), 0);
    assert_string_equal(feed_buf_str(&b), "http://example.com/x");
    feed_buf_reset(&b);
    assert_int_equal(feed_url_resolve(NULL, "x", &b), FEED_E_INVAL);
    assert_int_equal(feed_url_resolve("relative/base", "x", &b), FEED_E_INVAL);
    feed_buf_free(&b);
}

/* One base for many references gives what feed_url_resolve() gives. */
static void
test_base(void **state)
{
    static const char *const bases[] = {
        "http://a/b/c/d;p?q",
        "http://a",
        "http://a/x/../y/./z/",
        "http://a/../..//x",
        "x:a/b",
        "x:",
        "mailto:a@b",
        "relative/base",
        "",
        NULL,
    };
    static const char *const refs[] = {
        "g",          "./g",          "../g",    "../../../g", "/g",
        "//g/h/../i", "?y",           "#s",      "",           ".",
        "..",         "g/..",         "g/../..", "a//b/../c",  " http://x/y",
        "g?y#s",      "../../x/./y/",
    };
    struct feed_buf x, y;

    (void)state;
    feed_buf_init(&x, 0);
    feed_buf_init(&y, 0);
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        struct feed_url_base *b = feed_url_base_new(bases[i]);

        assert_non_null(b);
        for (size_t j = 0; j < sizeof(refs) / sizeof(refs[0]); j++) {
            int rx, ry;

            feed_buf_reset(&x);
            feed_buf_reset(&y);
            rx = feed_url_base_resolve(b, refs[j], &x);
            ry = feed_url_resolve(bases[i], refs[j], &y);
            assert_int_equal(rx, ry);
            if (rx == 0 && strcmp(feed_buf_str(&x), feed_buf_str(&y)) != 0)
                fail_msg("%s against %s: %s, not %s", refs[j], bases[i],
                         feed_buf_str(&x), feed_buf_str(&y));
        }
        feed_url_base_free(b);
    }
    feed_buf_reset(&x);
    assert_int_equal(feed_url_resolve("http://a/x/../y/./z/", "../g", &x), 0);
    assert_string_equal(feed_buf_str(&x), "http://a/y/g");
    feed_buf_reset(&x);
    assert_int_equal(feed_url_resolve("x:a/b", "c", &x), 0);
    assert_string_equal(feed_buf_str(&x), "x:a/c");
    feed_url_base_free(NULL);
    feed_buf_free(&x);
    feed_buf_free(&y);
}

/* One cache across bases that change, come back, and go (NULL): each
 * reference resolves as against its own base, and the cache is split
 * again only when the base changes. */
static void
test_cached(void **state)
{
    static const char *const bases[] = {
        "http://a/b/c", "http://a/b/c", "http://x/y/", NULL,
        "http://a/b/c", "http://a/b/",  NULL,          NULL,
    };
    struct feed_url_base *cache = NULL, *was;
    struct feed_buf x, y;

    (void)state;
    feed_buf_init(&x, 0);
    feed_buf_init(&y, 0);
    for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
        int rx, ry;

        was = cache;
        feed_buf_reset(&x);
        feed_buf_reset(&y);
        rx = feed_url_resolve_cached(&cache, bases[i], "../g?q", &x);
        ry = feed_url_resolve(bases[i], "../g?q", &y);
        assert_int_equal(rx, ry);
        assert_string_equal(feed_buf_str(&x), feed_buf_str(&y));
        if (i > 0 && (bases[i] == NULL ? bases[i - 1] == NULL
                                       : bases[i - 1] != NULL &&
                                             !strcmp(bases[i], bases[i - 1])))
            assert_ptr_equal(cache, was);
        assert_ptr_equal(feed_url_base_cached(&cache, bases[i]), cache);
    }
    feed_url_base_free(cache);
    feed_buf_free(&x);
    feed_buf_free(&y);
}

static void
test_key(void **state)
{
    static const char *const same[][2] = {
        {"http://Example.COM/a", "https://example.com/a"},
        {"https://example.com:443/a", "https://example.com/a"},
        {"http://example.com:80/a", "http://example.com/a"},
        {"https://example.com/a#section", "https://example.com/a"},
        {"https://example.com/a?utm_source=rss&utm_medium=feed",
         "https://example.com/a"},
        {"https://example.com/a?b=2&fbclid=xyz&a=1",
         "https://example.com/a?a=1&b=2"},
        {"https://example.com", "https://example.com/"},
        {"https://example.com./a", "https://example.com/a"},
        {"https://user@example.com/a", "https://example.com/a"},
        {"https://example.com/x/../a", "https://example.com/a"},
    };
    static const char *const differ[][2] = {
        {"https://example.com/a", "https://example.com/A"},
        {"https://example.com/a?id=1", "https://example.com/a?id=2"},
        {"https://example.com:8080/a", "https://example.com/a"},
        {"https://example.com/a", "https://example.org/a"},
    };
    struct feed_buf x, y;
    size_t i;

    (void)state;
    feed_buf_init(&x, 0);
    feed_buf_init(&y, 0);
    for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        feed_buf_reset(&x);
        feed_buf_reset(&y);
        assert_int_equal(feed_url_key(same[i][0], &x), 0);
        assert_int_equal(feed_url_key(same[i][1], &y), 0);
        if (strcmp(feed_buf_str(&x), feed_buf_str(&y)) != 0)
            fail_msg("%s -> %s but %s -> %s", same[i][0], feed_buf_str(&x),
                     same[i][1], feed_buf_str(&y));
    }
    for (i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        feed_buf_reset(&x);
        feed_buf_reset(&y);
        assert_int_equal(feed_url_key(differ[i][0], &x), 0);
        assert_int_equal(feed_url_key(differ[i][1], &y), 0);
        assert_string_not_equal(feed_buf_str(&x), feed_buf_str(&y));
    }
    feed_buf_reset(&x);
    assert_int_equal(feed_url_key("https://Example.com:8443/p?b&a", &x), 0);
    assert_string_equal(feed_buf_str(&x), "//example.com:8443/p?a&b");
    assert_int_equal(feed_url_key("ftp://example.com/a", &x), FEED_E_INVAL);
    assert_int_equal(feed_url_key("/relative", &x), FEED_E_INVAL);
    assert_int_equal(feed_url_key("tag:example.com,2024:1", &x), FEED_E_INVAL);
    feed_buf_free(&x);
    feed_buf_free(&y);
}

/* ---- linear in the URL ---- */

enum op { RESOLVE, RESOLVE_BASE, MANY, KEY };

/* head, unit repeated to about n bytes, tail: the reference resolved
 * against a short base (RESOLVE), the base a short reference is resolved
 * against, the reference being unit again (RESOLVE_BASE), the base that
 * tail is resolved against n / 8 times (MANY: when the result holds the
 * base, as "?q" does, it is as long as the base: a cap on the output
 * bounds that, as in feed_text_resolve_urls()), or the URL of a key (KEY). */
struct shape {
    enum op op;
    const char *head, *unit, *tail;
};

static void
run_shape(size_t n, void *arg)
{
    const struct shape *sh = arg;
    size_t lu = strlen(sh->unit), k = n / lu + 1;
    struct feed_buf s, out;
    int rc;

    feed_buf_init(&s, 0);
    feed_buf_init(&out, 0);
    assert_int_equal(feed_buf_puts(&s, sh->head), 0);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(feed_buf_append(&s, sh->unit, lu), 0);
    if (sh->op != MANY)
        assert_int_equal(feed_buf_puts(&s, sh->tail), 0);
    switch (sh->op) {
    case RESOLVE:
        assert_int_equal(feed_url_resolve("http://a/b/c", s.data, &out), 0);
        break;
    case RESOLVE_BASE:
        assert_int_equal(feed_url_resolve(s.data, sh->unit, &out), 0);
        break;
    case MANY: {
        struct feed_url_base *b = feed_url_base_new(s.data);

        assert_non_null(b);
        for (size_t i = 0; i < n / 8; i++) {
            feed_buf_reset(&out);
            assert_int_equal(feed_url_base_resolve(b, sh->tail, &out), 0);
        }
        feed_url_base_free(b);
        break;
    }
    case KEY:
        rc = feed_url_key(s.data, &out);
        assert_true(rc == 0 || rc == FEED_E_INVAL);
        break;
    }
    feed_buf_free(&s);
    feed_buf_free(&out);
}

static void
test_linear(void **state)
{
    static const struct shape shapes[] = {
        {RESOLVE, "", "a/../", ""},
        {RESOLVE, "", "../", "x"},
        {RESOLVE, "", "./", "x"},
        {RESOLVE, "/", "./", ""},
        {RESOLVE, "", "/..", ""},
        {RESOLVE, "", "/.", ""},
        {RESOLVE, "", "a/", ""},
        {RESOLVE, "x", "/", ""},
        {RESOLVE, "", ".", ""},
        {RESOLVE, "//h/", "a/../", ""},
        {RESOLVE, "?", "a=1&", "#x"},
        {RESOLVE, "http://h/", "../", ""},
        {RESOLVE, "", " ", "x"},
        {RESOLVE_BASE, "http://a/", "b/", ""},
        {RESOLVE_BASE, "http://a/", "../", ""},
        {RESOLVE_BASE, "http://a/?", "q", ""},
        {MANY, "http://a/?", "q", "/b"},
        {MANY, "http://a/?", "q", "b"},
        {MANY, "http://a/#", "f", "b"},
        {MANY, "http://a/", "p", "/b"},
        {MANY, "http://a/", "p", "b"},
        {MANY, "http://a/", "p", "../b"},
        {MANY, "http://a/x/", "p", "../../b"},
        {MANY, "http://a/", "./", "b"},
        {MANY, "http://a/", "../", "../b"},
        {KEY, "http://a/?", "a=1&", ""},
        {KEY, "http://a/?", "b=1&a=1&", ""},
        {KEY, "http://a/?", "utm_x=1&", ""},
        {KEY, "http://a/?", "fbclid=1&", ""},
        {KEY, "http://a/?", "&", ""},
        {KEY, "http://a/?", "a", "#b=c"},
        {KEY, "http://", "A", "/"},
        {KEY, "http://", "@", "a/"},
        {KEY, "http://a:", "1", "/"},
        {KEY, "http://a", "/..", ""},
        {KEY, "http://a/", "a/../", ""},
        {KEY, "http://a/", "./", ""},
        {KEY, "", " ", "http://a/"},
        {KEY, "h", "t", "://a/"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "%s %s|%s|%s",
                 shapes[i].op == KEY    ? "key"
                 : shapes[i].op == MANY ? "many"
                                        : "resolve",
                 shapes[i].head, shapes[i].unit, shapes[i].tail);
        assert_linear(name, run_shape, (void *)&shapes[i], LINEAR_N0, 1u << 20);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resolve), cmocka_unit_test(test_base),
        cmocka_unit_test(test_cached),  cmocka_unit_test(test_key),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

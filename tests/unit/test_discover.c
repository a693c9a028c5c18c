/* tests/unit/test_discover.c - a web page's feed links (daemon/discover.c):
 * which links count, how they resolve, and that hostile pages cost linear
 * time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "discover.h"
#include "linear.h"

static void
check_found(const char *html, const char *page, const char *const *want,
            size_t nwant)
{
    char **urls;
    size_t n, i;

    assert_int_equal(discover_feeds(html, strlen(html), page, &urls, &n), 0);
    for (i = 0; i < n && i < nwant; i++)
        assert_string_equal(urls[i], want[i]);
    assert_int_equal(n, nwant);
    discover_free(urls, n);
}

static void
test_links(void **state)
{
    static const char html[] =
        "<!doctype html><html><head>"
        "<link rel=stylesheet type=text/css href=/s.css>"
        "<LINK REL=\"feed Alternate\" TYPE=\" Application/RSS+XML ; "
        "charset=utf-8\" HREF=\"../rss.xml\">"
        "<link rel=alternate type=application/atom+xml href=atom.xml>"
        "<link rel=alternate type=application/feed+json "
        "href=//cdn.example/feed.json>"
        "<link rel=alternate type=text/html href=/fr/>"
        "<link rel=alternate type=application/rss+xml>"
        "<link rel=alternate type=application/rss+xml href=\"../rss.xml\">"
        "<link rel=alternate type=application/rss+xml href=javascript:x>"
        "<link rel=alternate type=application/rss+xml href=file:///etc/x>"
        "</head><body><p>text <b>unclosed <i>tags"
        "<link rel=alternate type=application/rss+xml href=/body.xml>";
    static const char *const want[] = {
        "https://blog.example/rss.xml",
        "https://blog.example/a/atom.xml",
        "https://cdn.example/feed.json",
        "https://blog.example/body.xml",
    };

    (void)state;
    check_found(html, "https://blog.example/a/page", want, 4);
    check_found("<p>nothing here", "https://x.example/", NULL, 0);
    check_found("", "https://x.example/", NULL, 0);
}

static void
test_base_and_file(void **state)
{
    static const char *const based[] = {"http://other.example/dir/f.xml"};
    static const char *const local[] = {"file:///srv/www/f.xml"};
    static const char html[] =
        "<head><base href=http://other.example/dir/>"
        "<link rel=alternate type=application/rss+xml href=f.xml>";

    (void)state;
    check_found(html, "https://blog.example/", based, 1);
    /* A page read from a file may name a file next to it. */
    check_found("<link rel=alternate type=application/rss+xml href=f.xml>",
                "file:///srv/www/index.html", local, 1);
}

struct page {
    char *html;
    size_t len;
    const char *unit;
};

static void
find_in(size_t n, void *arg)
{
    struct page *p = arg;
    size_t ulen = strlen(p->unit), i;
    char **urls;
    size_t nurls;

    p->html = realloc(p->html, n * ulen + 1);
    assert_non_null(p->html);
    for (i = 0; i < n; i++)
        memcpy(p->html + i * ulen, p->unit, ulen);
    p->html[n * ulen] = '\0';
    assert_int_equal(
        discover_feeds(p->html, n * ulen, "https://x.example/", &urls, &nurls),
        0);
    discover_free(urls, nurls);
}

/* gumbo builds the tree in time quadratic in the depth of nested elements
 * (each <div> looks down the stack of open ones): discover_feeds() parses
 * at most 4096 tags, so that past them a page costs time linear in its
 * size only, and the deepest page stays cheap. Timed from 4096 units up. */
static void
test_linear(void **state)
{
    static const char *const units[] = {
        "<link rel=alternate type=application/rss+xml href=/f.xml>",
        "<link rel=\"alternate ",
        "<div>",
        "<b><i><a href=x>",
        "<table><tr><td>",
        "</p>",
        "<p>x",
    };
    struct page p = {0};
    struct timespec t0, t1;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        p.unit = units[i];
        assert_linear(units[i], find_in, &p, 4096, (size_t)1 << 18);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        find_in(4096, &p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        print_message("# %s at the cut: %.1f ms\n", units[i],
                      (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
                          (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        assert_true(t1.tv_sec - t0.tv_sec < 2);
    }
    free(p.html);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_links),
        cmocka_unit_test(test_base_and_file),
        cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_tags.c - feeds/tags.c, the open elements' stack the
 * repairs keep: what an end tag closes, names read across their bounds,
 * and what is known past the stack's bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tags.h"

/* Reads the name at s (whole) and pushes it. */
static void
open_el(struct feed_tags *t, const char *s)
{
    uint32_t h;
    unsigned high;
    int n = feed_tags_name((const unsigned char *)s, strlen(s), 1, &h, &high);

    assert_true(n > 0);
    feed_tags_push(t, (const unsigned char *)s, (size_t)n, h);
}

/* What an end tag naming s closes. */
static size_t
closes(const struct feed_tags *t, const char *s)
{
    uint32_t h;
    unsigned high;
    int n = feed_tags_name((const unsigned char *)s, strlen(s), 1, &h, &high);

    assert_true(n > 0);
    return feed_tags_close(t, (const unsigned char *)s, (size_t)n, h);
}

static void
test_names(void **state)
{
    uint32_t h1, h2;
    unsigned high;
    char name[TAGS_NAME + 8];

    (void)state;
    assert_true(feed_tags_name_start('a') && feed_tags_name_start(':') &&
                feed_tags_name_start(0xc3) && feed_tags_name_start('_'));
    assert_false(feed_tags_name_start('1') || feed_tags_name_start('-') ||
                 feed_tags_name_start('/') || feed_tags_name_start(' '));
    /* Up to the first byte that cannot be in a name. */
    assert_int_equal(
        feed_tags_name((const unsigned char *)"a:b-1.c d", 9, 0, &h1, &high),
        7);
    assert_int_equal(high, 0);
    assert_int_equal(
        feed_tags_name((const unsigned char *)"a:b-1.c>", 8, 0, &h2, &high), 7);
    assert_int_equal(h1, h2);
    assert_int_equal(
        feed_tags_name((const unsigned char *)"\xc3\xa9>", 3, 0, &h1, &high),
        2);
    assert_true(high != 0);
    /* Cut: not known yet, unless the document ends there. */
    assert_int_equal(
        feed_tags_name((const unsigned char *)"abc", 3, 0, &h1, &high), -1);
    assert_int_equal(
        feed_tags_name((const unsigned char *)"abc", 3, 1, &h1, &high), 3);
    /* Longer than TAGS_NAME: known as soon as one byte more is seen. */
    memset(name, 'x', sizeof(name));
    assert_int_equal(feed_tags_name((const unsigned char *)name, TAGS_NAME + 1,
                                    0, &h1, &high),
                     TAGS_NAME + 1);
    assert_int_equal(
        feed_tags_name((const unsigned char *)name, TAGS_NAME, 0, &h1, &high),
        -1);
}

static void
test_close(void **state)
{
    struct feed_tags t;

    (void)state;
    memset(&t, 0, sizeof(t));
    assert_int_equal(closes(&t, "a"), 0);
    open_el(&t, "rss");
    open_el(&t, "item");
    open_el(&t, "description");
    open_el(&t, "p");
    open_el(&t, "br");
    assert_int_equal(closes(&t, "br"), 1);
    assert_int_equal(closes(&t, "p"), 2);
    assert_int_equal(closes(&t, "rss"), 5);
    assert_int_equal(closes(&t, "b"), 0);
    assert_int_equal(closes(&t, "P"), 0); /* exact, as XML */
    assert_int_equal(closes(&t, "item:x"), 0);
    assert_int_equal(feed_tags_is_top(&t, (const unsigned char *)"br>", 3), 2);
    assert_int_equal(feed_tags_is_top(&t, (const unsigned char *)"brx>", 4), 0);
    assert_int_equal(feed_tags_is_top(&t, (const unsigned char *)"br", 2), 0);
    /* The same name twice: the innermost. */
    open_el(&t, "p");
    assert_int_equal(closes(&t, "p"), 1);
    feed_tags_pop(&t);
    feed_tags_pop(&t);
    assert_int_equal(closes(&t, "p"), 1);
    while (t.depth > 0)
        feed_tags_pop(&t);
    feed_tags_pop(&t); /* nothing open: nothing happens */
    assert_int_equal(t.nnames, 0);
    for (size_t i = 0; i < TAGS_FILTER; i++)
        assert_int_equal(t.filter[i], 0);
}

static void
test_bounds(void **state)
{
    struct feed_tags t;
    char name[TAGS_NAME + 8];

    (void)state;
    memset(&t, 0, sizeof(t));
    memset(name, 'n', sizeof(name));
    name[TAGS_NAME + 1] = '\0';
    /* A long name: its element has none; only a long end tag matches it,
     * and only when no element stands between whose name is not kept. */
    open_el(&t, "a");
    open_el(&t, name);
    open_el(&t, "b");
    assert_int_equal(t.nameless, 1);
    assert_int_equal(t.unsure, 0);
    assert_int_equal(closes(&t, name), 2);
    assert_int_equal(closes(&t, "a"), TAGS_UNKNOWN);
    assert_int_equal(closes(&t, "c"), 0);
    /* A name not valid UTF-8 is not kept either, and may be any short
     * name. */
    open_el(&t, "\xe9t");
    assert_int_equal(t.unsure, 1);
    assert_int_equal(closes(&t, "c"), TAGS_UNKNOWN);
    assert_int_equal(closes(&t, name), TAGS_UNKNOWN);
    feed_tags_pop(&t);
    assert_int_equal(t.unsure, 0);
    /* Deeper than TAGS_DEPTH: counted; what an end tag closes there is
     * not known. */
    while (t.depth < TAGS_DEPTH)
        open_el(&t, "d");
    open_el(&t, "e");
    assert_int_equal(t.over, 1);
    assert_int_equal(closes(&t, "e"), TAGS_UNKNOWN);
    feed_tags_pop(&t);
    assert_int_equal(t.over, 0);
    assert_int_equal(closes(&t, "d"), 1);
    assert_true(t.nnames <= TAGS_NAMES);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_close),
        cmocka_unit_test(test_bounds),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

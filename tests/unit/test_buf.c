/* tests/unit/test_buf.c - the capped buffer and the JSON/XML escapers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "feeds/buf.h"

static void
test_cap(void **state)
{
    struct feed_buf b;

    (void)state;
    feed_buf_init(&b, 8);
    assert_int_equal(feed_buf_puts(&b, "12345"), 0);
    assert_int_equal(feed_buf_puts(&b, "6789"), FEED_E_TOOBIG);
    /* A refused append leaves the buffer as it was. */
    assert_string_equal(feed_buf_str(&b), "12345");
    assert_int_equal(feed_buf_puts(&b, "678"), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(feed_buf_printf(&b, "%d", 1), FEED_E_TOOBIG);
    feed_buf_free(&b);
    assert_null(b.data);
    assert_string_equal(feed_buf_str(&b), "");
}

static void
test_json(void **state)
{
    struct feed_buf b;

    (void)state;
    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_json(&b, "a\"b\\c\n\x01 \xc3\xa9"), 0);
    assert_string_equal(feed_buf_str(&b), "\"a\\\"b\\\\c\\n\\u0001 \xc3\xa9\"");
    feed_buf_reset(&b);
    /* Invalid UTF-8 (a lone continuation byte, an overlong '/') becomes
     * U+FFFD, so the line stays valid JSON. */
    assert_int_equal(feed_buf_json(&b, "x\x80y\xc0\xaf"), 0);
    assert_string_equal(feed_buf_str(&b),
                        "\"x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd\"");
    feed_buf_reset(&b);
    assert_int_equal(feed_buf_json(&b, NULL), 0);
    assert_string_equal(feed_buf_str(&b), "null");
    feed_buf_free(&b);
}

static void
test_xml(void **state)
{
    struct feed_buf b;

    (void)state;
    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_xml(&b, "<a href=\"x\">&amp;</a>\x0b\xef\xbf\xbe!"),
                     0);
    assert_string_equal(feed_buf_str(&b),
                        "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;!");
    feed_buf_free(&b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_buf.c - the capped buffer and the JSON/XML escapers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/buf.h"
#include "linear.h"

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
check_json(const char *in, const char *want)
{
    struct feed_buf b;

    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_json(&b, in), 0);
    assert_string_equal(feed_buf_str(&b), want);
    assert_int_equal(b.len, strlen(want));
    feed_buf_free(&b);
}

/* Every kind of byte: what JSON must escape, UTF-8 of each length, and
 * each way a sequence can be invalid (RFC 3629 §4's syntax). */
static void
test_json_bytes(void **state)
{
    char in[2] = {0, 0}, want[16];
    struct feed_buf b;

    (void)state;
    for (int c = 1; c < 0x20; c++) {
        in[0] = (char)c;
        if (c == '\n' || c == '\t' || c == '\r')
            snprintf(want, sizeof(want), "\"\\%c\"",
                     c == '\n'   ? 'n'
                     : c == '\t' ? 't'
                                 : 'r');
        else
            snprintf(want, sizeof(want), "\"\\u%04x\"", c);
        check_json(in, want);
    }
    check_json("\x7f/'<", "\"\x7f/'<\"");
    check_json("\xc2\x80\xdf\xbf", "\"\xc2\x80\xdf\xbf\"");
    check_json("\xe0\xa0\x80\xef\xbf\xbf", "\"\xe0\xa0\x80\xef\xbf\xbf\"");
    check_json("\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",
               "\"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"");
#define FFFD "\xef\xbf\xbd"
    check_json("\xc1\xbf", "\"" FFFD FFFD "\"");          /* overlong */
    check_json("\xe0\x9f\xbf", "\"" FFFD FFFD FFFD "\""); /* overlong */
    check_json("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\""); /* surrogate */
    check_json("\xf4\x90\x80\x80",
               "\"" FFFD FFFD FFFD FFFD "\""); /* above U+10FFFF */
    check_json("\xf5\xff", "\"" FFFD FFFD "\"");
    /* Cut short, at the end and before other text. */
    check_json("a\xe2\x82", "\"a" FFFD FFFD "\"");
    check_json("\xe2\x82"
               "a\"",
               "\"" FFFD FFFD "a\\\"\"");
    check_json("\xf0\x9f\x98", "\"" FFFD FFFD FFFD "\"");
#undef FFFD
    check_json("", "\"\"");
    /* Within a cap: the output's size counts, not the worst case. */
    feed_buf_init(&b, 8);
    assert_int_equal(feed_buf_json(&b, "abcdef"), 0);
    assert_string_equal(feed_buf_str(&b), "\"abcdef\"");
    feed_buf_reset(&b);
    assert_int_equal(feed_buf_json(&b, "abcdefg"), FEED_E_TOOBIG);
    feed_buf_free(&b);
}

static void
test_xml(void **state)
{
    struct feed_buf b;

    (void)state;
    feed_buf_init(&b, 0);
    assert_int_equal(
        feed_buf_xml(&b, "<a href=\"x\">&amp;</a>\x0b\xef\xbf\xbe!"), 0);
    assert_string_equal(feed_buf_str(&b),
                        "&lt;a href=&quot;x&quot;&gt;&amp;amp;&lt;/a&gt;!");
    feed_buf_free(&b);
}

static void
check_iri(const char *in, int xml, const char *want)
{
    struct feed_buf b;

    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_iri(&b, in, xml), 0);
    assert_string_equal(feed_buf_str(&b), want);
    feed_buf_free(&b);
}

/* URLs as IRIs: what RFC 3987 leaves out is percent-encoded, UTF-8 kept,
 * '&' escaped for XML only; a URL already encoded is left as it is. */
static void
test_iri(void **state)
{
    (void)state;
    check_iri("http://a/b c.mp3 mp3", 1, "http://a/b%20c.mp3%20mp3");
    check_iri("http://a/?x=1&y=\"2\"", 1, "http://a/?x=1&amp;y=%222%22");
    check_iri("http://a/?x=1&y=\"2\"", 0, "http://a/?x=1&y=%222%22");
    check_iri("http://a/<{|}>\\^`", 0, "http://a/%3C%7B%7C%7D%3E%5C%5E%60");
    check_iri("http://a/\t\n\x7f", 1, "http://a/%09%0A%7F");
    check_iri("http://a/caf\xc3\xa9/%20", 1, "http://a/caf\xc3\xa9/%20");
    /* A byte of no character, a lone lead byte, U+FFFE. */
    check_iri("http://a/\xff\xe2\x82x\xef\xbf\xbe", 1,
              "http://a/%FF%E2%82x%EF%BF%BE");
    check_iri("", 1, "");
}

/* ---- linear in the text ---- */

enum writer { JSON, XML, IRI, APPEND };

struct shape {
    enum writer writer;
    const char *unit;
};

static void
run_shape(size_t n, void *arg)
{
    const struct shape *sh = arg;
    size_t lu = strlen(sh->unit), k = n / lu + 1;
    struct feed_buf in, out;

    feed_buf_init(&in, 0);
    feed_buf_init(&out, 0);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(feed_buf_append(&in, sh->unit, lu), 0);
    switch (sh->writer) {
    case JSON:
        assert_int_equal(feed_buf_json(&out, in.data), 0);
        break;
    case XML:
        assert_int_equal(feed_buf_xml(&out, in.data), 0);
        break;
    case IRI:
        assert_int_equal(feed_buf_iri(&out, in.data, 1), 0);
        break;
    case APPEND:
        for (size_t i = 0; i < k; i++)
            assert_int_equal(feed_buf_printf(&out, "%s", sh->unit), 0);
        break;
    }
    feed_buf_free(&in);
    feed_buf_free(&out);
}

/* The escaper reads eight bytes between checks: each kind of piece, at
 * every offset from a block's start, between plain text and before the
 * end, must come out as it does alone. */
static void
test_json_blocks(void **state)
{
#define FFFD "\xef\xbf\xbd"
    static const char *const piece[][2] = {
        {"\xc3\xa9", "\xc3\xa9"},
        {"\xe2\x82\xac", "\xe2\x82\xac"},
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},
        {"\xef\xbf\xbe", "\xef\xbf\xbe"},
        {"\"", "\\\""},
        {"\n", "\\n"},
        {"\x80", FFFD},
        {"\xe2\x82", FFFD FFFD},
        {"\xed\xa0\x80", FFFD FFFD FFFD},
        {"\xf5", FFFD},
    };
#undef FFFD
    char in[64], want[128];

    (void)state;
    for (size_t k = 0; k < sizeof(piece) / sizeof(piece[0]); k++) {
        for (int at = 0; at < 17; at++) {
            for (int tail = 0; tail < 10; tail += 9) {
                snprintf(in, sizeof(in), "%.*s%s%.*s", at, "abcdefghijklmnopq",
                         piece[k][0], tail, "xyzxyzxyz");
                snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", at,
                         "abcdefghijklmnopq", piece[k][1], tail, "xyzxyzxyz");
                check_json(in, want);
            }
        }
    }
}

static void
test_linear(void **state)
{
    static const struct shape shapes[] = {
        {JSON, "a"},
        {JSON, "\""},
        {JSON, "\x01"},
        {JSON, "\xc3\xa9"},
        {JSON, "\xff"},
        {JSON, "\xf0\x9f\x98"},
        {JSON, "a\\\xe2"},
        {JSON, "a\xe2\x82\xac"},
        {XML, "&"},
        {XML, "<a>"},
        {XML, "\xff"},
        {XML, "\x01"},
        {XML, "\xef\xbf\xbe"},
        {XML, "\xc3\xa9"},
        {IRI, " "},
        {IRI, "&"},
        {IRI, "\xe2\x82"},
        {IRI, "a\xc3\xa9"},
        {APPEND, "ab"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[32];

        snprintf(name, sizeof(name), "%s %02x...",
                 shapes[i].writer == JSON  ? "json"
                 : shapes[i].writer == XML ? "xml"
                 : shapes[i].writer == IRI ? "iri"
                                           : "printf",
                 (unsigned char)shapes[i].unit[0]);
        assert_linear(name, run_shape, (void *)&shapes[i], LINEAR_N0, 1u << 20);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap),        cmocka_unit_test(test_json),
        cmocka_unit_test(test_json_bytes), cmocka_unit_test(test_json_blocks),
        cmocka_unit_test(test_xml),        cmocka_unit_test(test_iri),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

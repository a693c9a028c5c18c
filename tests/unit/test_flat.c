/* tests/unit/test_flat.c - the reader of flat JSON objects (store/flat.c):
 * every kind of value, escapes, what is refused, and linear time. */
#include "store_fixture.h"

#include "linear.h"
#include "store_int.h"

/* The members read, as one line of text: key=type:value;... */
struct seen {
    struct feed_buf out;
    struct feed_buf *strs;
};

static void
member(const char *key, size_t klen, int type, size_t str, int64_t num,
       void *arg)
{
    struct seen *sn = arg;
    static const char *const types[] = {"null", "str",   "int",
                                        "true", "false", "other"};

    assert_int_equal(
        feed_buf_printf(&sn->out, "%.*s=%s", (int)klen, key, types[type]), 0);
    if (type == STORE_FLAT_STR)
        assert_int_equal(feed_buf_printf(&sn->out, ":%s", sn->strs->data + str),
                         0);
    if (type == STORE_FLAT_INT)
        assert_int_equal(feed_buf_printf(&sn->out, ":%lld", (long long)num), 0);
    assert_int_equal(feed_buf_puts(&sn->out, ";"), 0);
}

/* Reads line; returns what was seen ("" for an empty object) or NULL
 * when it was refused. The caller frees it. */
static char *
read_line(const char *line)
{
    struct feed_buf strs;
    struct seen sn;
    char *out = NULL;

    feed_buf_init(&strs, 0);
    feed_buf_init(&sn.out, 0);
    sn.strs = &strs;
    if (store_flat_read(line, strlen(line), &strs, member, &sn) == 0)
        out = strdup(sn.out.data ? sn.out.data : "");
    feed_buf_free(&strs);
    feed_buf_free(&sn.out);
    return out;
}

static void
expect(const char *line, const char *want)
{
    char *got = read_line(line);

    if (want == NULL) {
        if (got != NULL)
            fail_msg("%s: read as %s, should be refused", line, got);
        return;
    }
    if (got == NULL)
        fail_msg("%s: refused, should read as %s", line, want);
    assert_string_equal(got, want);
    free(got);
}

static void
test_values(void **state)
{
    (void)state;
    expect("{}", "");
    expect(" { } ", "");
    expect("{\"a\":\"x\",\"b\":-12,\"c\":null,\"d\":true,\"e\":false}",
           "a=str:x;b=int:-12;c=null;d=true;e=false;");
    expect("{\"a\":[1,\"]\",{\"b\":2}],\"c\":{\"d\":\"}\"},\"e\":1.5}",
           "a=other;c=other;e=other;");
    expect("{\"big\":99999999999,\"huge\":99999999999999999999,"
           "\"min\":-9223372036854775808}",
           "big=int:99999999999;huge=other;min=int:-9223372036854775808;");
    expect("{ \"a\" : \"x\" , \"b\" : 1 }", "a=str:x;b=int:1;");
}

static void
test_escapes(void **state)
{
    (void)state;
    expect("{\"s\":\"a\\\"b\\\\c\\/d\\n\\t\\r\\b\\f\"}",
           "s=str:a\"b\\c/d\n\t\r\b\f;");
    expect("{\"s\":\"\\u00e9\\u20ac\\ud83d\\ude00\"}",
           "s=str:\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80;");
    /* A lone surrogate is no character. */
    expect("{\"s\":\"\\ud83dx\"}", "s=str:\xef\xbf\xbdx;");
    /* A key with an escape names nothing known. */
    expect("{\"f\\u0065ed\":\"x\"}", "=str:x;");
    expect("{\"s\":\"caf\xc3\xa9\"}", "s=str:caf\xc3\xa9;");
}

static void
test_refused(void **state)
{
    static const char *const bad[] = {
        "",
        "[]",
        "{",
        "{\"a\"}",
        "{\"a\":}",
        "{\"a\":1,}",
        "{\"a\":1} x",
        "{\"a\":\"x}",
        "{\"a\":\"\\q\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"x\ty\"}",
        "{\"a\":nul}",
        "{\"a\":-}",
        "{\"a\":[1,2}",
        "{a:1}",
        "{\"a\":1 \"b\":2}",
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        expect(bad[i], NULL);
}

/* Lines of about n bytes of one hostile shape. */
static void
read_n(size_t n, void *arg)
{
    int kind = *(int *)arg;
    struct feed_buf b;
    char *got;

    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_puts(&b, "{\"a\":"), 0);
    if (kind == 0) {
        assert_int_equal(feed_buf_puts(&b, "\""), 0);
        while (b.len < n)
            assert_int_equal(feed_buf_puts(&b, "\\u00e9\\\"x"), 0);
        assert_int_equal(feed_buf_puts(&b, "\"}"), 0);
    } else if (kind == 1) {
        while (b.len < n)
            assert_int_equal(feed_buf_puts(&b, "[\"]\\\"\","), 0);
        assert_int_equal(feed_buf_puts(&b, "1"), 0);
        while (b.len < 2 * n)
            assert_int_equal(feed_buf_puts(&b, "]"), 0);
    } else {
        while (b.len < n)
            assert_int_equal(feed_buf_puts(&b, "1,\"a\":"), 0);
        assert_int_equal(feed_buf_puts(&b, "2}"), 0);
    }
    got = read_line(b.data);
    free(got);
    feed_buf_free(&b);
}

static void
test_linear(void **state)
{
    static const char *const names[] = {
        "flat read, a string of n bytes of escapes",
        "flat read, arrays nested n deep",
        "flat read, n bytes of members",
    };
    int kind;

    (void)state;
    for (kind = 0; kind < 3; kind++)
        assert_linear(names[kind], read_n, &kind, 1 << 14, 1 << 24);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_escapes),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

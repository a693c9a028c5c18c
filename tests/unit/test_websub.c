/* tests/unit/test_websub.c - WebSub's parts that need no loop
 * (daemon/websub_int.h): the signature of a push against known HMAC
 * vectors, and the state file written, read back, and read when bad. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linear.h"
#include "websub_int.h"

/* RFC 4231 test case 2 (RFC 2202's for SHA-1): key "Jefe". */
#define JEFE_DATA "what do ya want for nothing?"

static void
test_sig_vectors(void **state)
{
    char key20[21];
    (void)state;

    assert_true(websub_sig_check(
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
        "3843",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    /* Upper-case hex is the same digest. */
    assert_true(websub_sig_check(
        "sha256=5BDCC146BF60754E6A042426089575C75A003F089D2739839DEC58B964EC"
        "3843",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_true(websub_sig_check(
        "sha384=af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322"
        "445e8e2240ca5e69e2c78b3239ecfab21649",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_true(websub_sig_check(
        "sha512=164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea25"
        "05549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_true(
        websub_sig_check("sha1=effcdf6ae5eb2fa2d27416d5f184df9c259a7c79",
                         "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    /* RFC 4231 test case 1: twenty 0x0b bytes, "Hi There". */
    memset(key20, 0x0b, 20);
    key20[20] = '\0';
    assert_true(websub_sig_check(
        "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32"
        "cff7",
        key20, "Hi There", 8));
}

static void
test_sig_refused(void **state)
{
    static const char good[] = "sha256=5bdcc146bf60754e6a042426089575c75a003f"
                               "089d2739839dec58b964ec3843";
    char bad[sizeof(good)];
    (void)state;

    /* Another key, another body, one digit changed, a digest cut short
     * or too long, another method's name, none at all. */
    assert_false(websub_sig_check(good, "Jeff", JEFE_DATA, strlen(JEFE_DATA)));
    assert_false(websub_sig_check(good, "Jefe", JEFE_DATA, 10));
    memcpy(bad, good, sizeof(good));
    bad[sizeof(good) - 2] = '4';
    assert_false(websub_sig_check(bad, "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    bad[sizeof(good) - 2] = 'x';
    assert_false(websub_sig_check(bad, "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    bad[sizeof(good) - 2] = '\0';
    assert_false(websub_sig_check(bad, "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_false(websub_sig_check(
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
        "384300",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_false(websub_sig_check(
        "md5=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_false(websub_sig_check(
        "sha512=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec"
        "3843",
        "Jefe", JEFE_DATA, strlen(JEFE_DATA)));
    assert_false(websub_sig_check("sha256", "Jefe", JEFE_DATA, 4));
    assert_false(websub_sig_check("", "Jefe", JEFE_DATA, 4));
    assert_false(websub_sig_check(NULL, "Jefe", JEFE_DATA, 4));
}

/* ---- the state file ---- */

struct bad_lines {
    char text[1024];
};

static void
on_bad(size_t line, const char *why, void *arg)
{
    struct bad_lines *b = arg;
    size_t n = strlen(b->text);

    snprintf(b->text + n, sizeof(b->text) - n, "%zu: %s\n", line, why);
}

static void
free_list(struct websub_sub *s)
{
    while (s != NULL) {
        struct websub_sub *next = s->next;

        websub_sub_free(s);
        s = next;
    }
}

static struct websub_sub *
sub(const char *feed, const char *hub, const char *topic, char c)
{
    struct websub_sub *s = websub_sub_new(feed, hub, topic);

    assert_non_null(s);
    memset(s->token, c, WEBSUB_TOKEN_LEN);
    memset(s->secret, c, WEBSUB_SECRET_LEN);
    return s;
}

static void
test_state_round_trip(void **state)
{
    struct websub_sub *a = sub("blog", "http://hub/", "http://e/feed", 'a');
    struct websub_sub *b = sub("odd\tname%\n", "https://h2/", "t\r", '9');
    struct websub_sub *got = NULL, *s;
    struct bad_lines bad = {""};
    struct feed_buf out;
    (void)state;

    a->state = WEBSUB_VERIFIED;
    a->lease_end = 1790000000;
    a->due = 1789000000;
    a->busy = 1; /* not in the file */
    b->state = WEBSUB_UNSUB;
    b->asked = 1;
    b->errors = 3;
    a->next = b;
    feed_buf_init(&out, 0);
    assert_int_equal(websub_state_format(a, &out), 0);
    assert_int_equal(websub_state_parse(out.data, out.len, &got, on_bad, &bad),
                     0);
    assert_string_equal(bad.text, "");
    s = got;
    assert_non_null(s);
    assert_string_equal(s->feed, "blog");
    assert_string_equal(s->hub, "http://hub/");
    assert_string_equal(s->topic, "http://e/feed");
    assert_string_equal(s->token, a->token);
    assert_string_equal(s->secret, a->secret);
    assert_int_equal(s->state, WEBSUB_VERIFIED);
    assert_int_equal(s->asked, 0);
    assert_int_equal(s->lease_end, 1790000000);
    assert_int_equal(s->due, 1789000000);
    assert_int_equal(s->busy, 0);
    s = s->next;
    assert_non_null(s);
    assert_string_equal(s->feed, "odd\tname%\n");
    assert_string_equal(s->topic, "t\r");
    assert_int_equal(s->state, WEBSUB_UNSUB);
    assert_int_equal(s->asked, 1);
    assert_int_equal(s->errors, 3);
    assert_null(s->next);
    free_list(got);
    free_list(a);
    feed_buf_free(&out);
}

#define TOK "0123456789abcdef0123456789abcdef"
#define SEC TOK TOK
#define GOOD(name)                                                             \
    name "\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tverified\t0\t5\t6\t0\n"

/* Each bad line is told of and skipped; the good ones around it count. */
static void
test_state_bad(void **state)
{
    static const char text[] = "feedd-websub 1\n" GOOD("one")
        /* 2: fields missing, and one too many */
        "two\thttp://h/\n"
        "three\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tverified\t0\t5\t6\t0"
        "\tx\n"
        /* 4: a token too short, a secret in upper case */
        "four\thttp://h/\thttp://t/\t0123\t" SEC "\tverified\t0\t5\t6\t0\n"
        "five\thttp://h/\thttp://t/\t" TOK "\t" TOK "0123456789ABCDEF0123456789"
        "abcdef\tverified\t0\t5\t6\t0\n"
        /* 6: a state unknown, a number that is not one, too large */
        "six\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tmaybe\t0\t5\t6\t0\n"
        "seven\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tpending\t2\t5\t6\t0\n"
        "eight\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tpending\t0\t-5\t6\t0\n"
        "nine\thttp://h/\thttp://t/\t" TOK "\t" SEC
        "\tpending\t0\t99999999999999999999\t6\t0\n"
        /* 10: a bad escape, an empty name, a control character */
        "t%e\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tpending\t0\t5\t6\t0\n"
        "\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tpending\t0\t5\t6\t0\n"
        "a\x01\thttp://h/\thttp://t/\t" TOK "\t" SEC "\tpending\t0\t5\t6\t0\n"
        "\n" GOOD("last")
        /* a torn last line */
        "torn\thttp://h/";
    struct websub_sub *got = NULL;
    struct bad_lines bad = {""};
    (void)state;

    assert_int_equal(
        websub_state_parse(text, sizeof(text) - 1, &got, on_bad, &bad), 0);
    assert_string_equal(bad.text, "3: not 10 fields\n"
                                  "4: not 10 fields\n"
                                  "5: a bad token\n"
                                  "6: a bad secret\n"
                                  "7: an unknown state\n"
                                  "8: a bad number\n"
                                  "9: a bad number\n"
                                  "10: a bad number\n"
                                  "11: a bad escape\n"
                                  "12: an empty name or URL\n"
                                  "13: a control character\n"
                                  "14: not 10 fields\n"
                                  "16: no end of line\n");
    assert_non_null(got);
    assert_string_equal(got->feed, "one");
    assert_non_null(got->next);
    assert_string_equal(got->next->feed, "last");
    assert_null(got->next->next);
    free_list(got);
    got = NULL;

    /* Not the header: nothing is read. */
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(websub_state_parse(GOOD("x") GOOD("y"),
                                        strlen(GOOD("x") GOOD("y")), &got,
                                        on_bad, &bad),
                     0);
    assert_null(got);
    assert_string_equal(bad.text, "1: not a feedd WebSub state file\n");
    /* Empty: nothing, and nothing to say. */
    memset(&bad, 0, sizeof(bad));
    assert_int_equal(websub_state_parse("", 0, &got, on_bad, &bad), 0);
    assert_null(got);
    assert_string_equal(bad.text, "");
}

static void
count_bad(size_t line, const char *why, void *arg)
{
    (void)line;
    (void)why;
    (*(size_t *)arg)++;
}

/* n lines, good and bad, and one line n bytes long: one pass. */
static void
read_many(size_t n, void *arg)
{
    struct websub_sub *got = NULL;
    struct feed_buf text;
    size_t nbad = 0, i;

    feed_buf_init(&text, 0);
    assert_int_equal(feed_buf_puts(&text, "feedd-websub 1\n"), 0);
    if (arg != NULL) {
        assert_int_equal(feed_buf_puts(&text, "long"), 0);
        for (i = 0; i < n; i++)
            assert_int_equal(feed_buf_puts(&text, "%41"), 0);
        assert_int_equal(feed_buf_puts(&text,
                                       "\thttp://h/\thttp://t/\t" TOK "\t" SEC
                                       "\tverified\t0\t5\t6\t0\n"),
                         0);
    } else
        for (i = 0; i < n; i++)
            assert_int_equal(
                feed_buf_printf(&text,
                                i % 2 ? GOOD("f%zu") : "f%zu\t%%zz\t\t\n", i),
                0);
    assert_int_equal(
        websub_state_parse(text.data, text.len, &got, count_bad, &nbad), 0);
    assert_int_equal(nbad, arg != NULL ? 0 : (n + 1) / 2);
    assert_non_null(arg != NULL || n < 2 ? got : got->next);
    free_list(got);
    feed_buf_free(&text);
}

static void
test_state_linear(void **state)
{
    static int one_line = 1;
    (void)state;

    assert_linear("state file lines", read_many, NULL, 1000, 1u << 16);
    assert_linear("a long state file line", read_many, &one_line, 1000,
                  1u << 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sig_vectors),
        cmocka_unit_test(test_sig_refused),
        cmocka_unit_test(test_state_round_trip),
        cmocka_unit_test(test_state_bad),
        cmocka_unit_test(test_state_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

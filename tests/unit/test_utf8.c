/* tests/unit/test_utf8.c - feeds/utf8.c, the one UTF-8 decoder, validator
 * and encoder: each against a decoder written here from RFC 3629's
 * definition, exhaustively where the space is small. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linear.h"
#include "utf8.h"

/* The definition, decoded the long way: a lead's bit pattern says the
 * length, continuations carry six bits each, and the code point must
 * need that length, be at most U+10FFFF and not be a surrogate. Returns
 * the length of the character at s, 0 when invalid or cut short. */
static size_t
reference(const unsigned char *s, size_t n, uint32_t *out)
{
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    unsigned c, len;
    uint32_t cp;

    if (n == 0)
        return 0;
    c = s[0];
    if (c < 0x80)
        len = 1, cp = c;
    else if ((c & 0xe0) == 0xc0)
        len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0)
        len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (unsigned k = 1; k < len; k++) {
        if ((s[k] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[k] & 0x3f);
    }
    if ((len > 1 && cp < min[len]) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out = cp;
    return len;
}

/* 1 when some continuation of s[0..n) makes a valid character longer
 * than n: the reference's idea of a cut. */
static int
reference_cut(const unsigned char *s, size_t n)
{
    unsigned char buf[4];
    uint32_t cp;

    if (n == 0 || n >= 4)
        return 0;
    memcpy(buf, s, n);
    /* Every continuation byte for the next position (later ones: any
     * continuation works once the second byte is right). */
    for (unsigned b = 0x80; b < 0xc0; b++) {
        buf[n] = (unsigned char)b;
        for (size_t k = n + 1; k < 4; k++)
            buf[k] = 0x80;
        for (size_t len = n + 1; len <= 4; len++)
            if (reference(buf, len, &cp) == len)
                return 1;
    }
    return 0;
}

static void
check(const unsigned char *s, size_t n)
{
    uint32_t want = 0, got = 0;
    size_t wl = reference(s, n, &want), gl = feed_utf8_decode(s, n, &got);

    if (wl != gl || (wl && want != got))
        fail_msg("%02x %02x %02x %02x (n %zu): want %zu U+%04X, got %zu U+%04X",
                 s[0], n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n > 3 ? s[3] : 0, n,
                 wl, (unsigned)want, gl, (unsigned)got);
    if (wl == 0 && feed_utf8_cut(s, n) != reference_cut(s, n))
        fail_msg("feed_utf8_cut(%02x %02x %02x, %zu) wrong", s[0],
                 n > 1 ? s[1] : 0, n > 2 ? s[2] : 0, n);
}

static void
test_known(void **state)
{
    static const struct {
        const char *bytes;
        uint32_t cp; /* 0: invalid */
    } cases[] = {
        {"a", 'a'},
        {"\x7f", 0x7f},
        {"\xc2\x80", 0x80},
        {"\xd0\x9f", 0x41f},
        {"\xe2\x82\xac", 0x20ac},
        {"\xef\xbf\xbd", 0xfffd},
        {"\xef\xbf\xbe", 0xfffe}, /* valid UTF-8; XML forbids it */
        {"\xf0\x9f\x98\x80", 0x1f600},
        {"\xf4\x8f\xbf\xbf", 0x10ffff},
        {"\xf4\x90\x80\x80", 0}, /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\xc0\x80", 0}, /* overlong NUL */
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 0}, /* overlong three */
        {"\xe0\xa0\x80", 0x800},
        {"\xf0\x8f\xbf\xbf", 0}, /* overlong four */
        {"\xed\x9f\xbf", 0xd7ff},
        {"\xed\xa0\x80", 0}, /* a surrogate */
        {"\x80", 0},         /* a lone continuation */
    };

    uint32_t cp0 = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const unsigned char *s = (const unsigned char *)cases[i].bytes;
        size_t n = strlen(cases[i].bytes);
        uint32_t cp = 0;

        assert_int_equal(feed_utf8_decode(s, n, &cp), cases[i].cp ? n : 0);
        if (cases[i].cp)
            assert_int_equal(cp, cases[i].cp);
        assert_int_equal(feed_utf8_valid(cases[i].bytes, n), cases[i].cp != 0);
        check(s, n);
    }
    /* Cut short: invalid to decode, but a cut. */
    assert_int_equal(
        feed_utf8_decode((const unsigned char *)"\xe2\x82", 2, &cp0), 0);
    assert_true(feed_utf8_cut((const unsigned char *)"\xe2\x82", 2));
    assert_true(feed_utf8_cut((const unsigned char *)"\xf0\x9f\x98", 3));
    assert_true(feed_utf8_cut((const unsigned char *)"\xc3", 1));
    assert_false(feed_utf8_cut((const unsigned char *)"\xe0\x80", 2));
    assert_false(feed_utf8_cut((const unsigned char *)"\xed\xa0", 2));
    assert_false(feed_utf8_cut((const unsigned char *)"a", 1));
    assert_false(feed_utf8_cut((const unsigned char *)"", 0));
    assert_int_equal(feed_utf8_valid("", 0), 1);
    assert_int_equal(feed_utf8_valid("\xc3\xa9\xa9", 3), 0);
    assert_int_equal(feed_utf8_valid("abcdefgh\xc3", 9), 0);
    assert_int_equal(feed_utf8_valid("abcdefghijklmnop\xc3\xa9", 18), 1);
    /* XML's characters. */
    assert_true(feed_utf8_xml_char('\t') && feed_utf8_xml_char(0x20) &&
                feed_utf8_xml_char(0xfffd) && feed_utf8_xml_char(0x10000));
    assert_false(feed_utf8_xml_char(0) || feed_utf8_xml_char(0x1f) ||
                 feed_utf8_xml_char(0xd800) || feed_utf8_xml_char(0xfffe) ||
                 feed_utf8_xml_char(0xffff) || feed_utf8_xml_char(0x110000));
}

/* Every one- and two-byte input, every three-byte one with a lead of
 * 0xe0 or more, and four-byte ones over every lead and second byte. */
static void
test_exhaustive(void **state)
{
    unsigned char s[4];

    (void)state;
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (unsigned char)a;
        check(s, 1);
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (unsigned char)b;
            check(s, 2);
        }
    }
    for (unsigned a = 0xe0; a < 0x100; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned c = 0; c < 256; c++) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = (unsigned char)c;
                check(s, 3);
            }
    for (unsigned a = 0xf0; a < 0x100; a++)
        for (unsigned b = 0; b < 256; b++)
            for (unsigned d = 0x70; d < 0xd0; d += 0x0f) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = 0x80;
                s[3] = (unsigned char)d;
                check(s, 4);
            }
}

/* The automaton, on every character from the first bytes of each kind
 * on: it ends in UTF8_OK exactly on one whole valid character other than
 * U+FFFE and U+FFFF, stays short of UTF8_STOP exactly on a valid start,
 * and stops at the ASCII bytes its table names. */
#define NO_STOPS(b) 0
#define STOP_AT_AMP(b) ((b) == '&')
static const uint64_t plain[256] = UTF8_TABLE(NO_STOPS);
static const uint64_t amp[256] = UTF8_TABLE(STOP_AT_AMP);

static void
test_automaton(void **state)
{
    unsigned char s[4] = {0};
    unsigned long n = 0;

    (void)state;
    for (uint32_t x = 0; x < 1u << 24; x++) {
        /* Leads in full; later bytes 0x00..0xff on byte 2, a spread of
         * edges on bytes 3 and 4. */
        static const unsigned char edge[] = {0x41, 0x7f, 0x80, 0x8f,
                                             0x90, 0x9f, 0xa0, 0xbd,
                                             0xbe, 0xbf, 0xc0, 0xff};
        unsigned a = x >> 16, b = (x >> 8) & 0xff, c = (x >> 4) & 0xf,
                 d = x & 0xf;
        uint64_t st = UTF8_OK;
        uint32_t cp;

        if (c >= sizeof(edge) || d >= sizeof(edge))
            continue;
        s[0] = (unsigned char)a;
        s[1] = (unsigned char)b;
        s[2] = edge[c];
        s[3] = edge[d];
        for (size_t len = 1; len <= 4; len++) {
            int want_ok, want_more, r = feed_utf8_decode_(s, len, &cp);

            st = (plain[s[len - 1]] >> (st & 63)) & 63;
            want_ok = r == (int)len && cp != 0xfffe && cp != 0xffff;
            want_more = r < 0;
            assert_int_equal(st == UTF8_OK, want_ok);
            if (want_more)
                assert_true(st != UTF8_OK && st != UTF8_STOP);
            if (!want_ok && !want_more) {
                assert_int_equal(st, UTF8_STOP);
                break;
            }
            if (want_ok)
                break;
        }
        n++;
    }
    assert_true(n > 1000000);
    assert_int_equal(amp['&'] >> UTF8_OK & 63, UTF8_STOP);
    assert_int_equal(amp['a'] >> UTF8_OK & 63, UTF8_OK);
    assert_int_equal(plain['&'] >> UTF8_OK & 63, UTF8_OK);
    assert_int_equal(plain[0] >> UTF8_OK & 63, UTF8_OK);
    for (unsigned b = 0; b < 256; b++)
        assert_int_equal(plain[b] & 63, UTF8_STOP); /* STOP stays */
}

/* feed_utf8_encode() and feed_utf8_decode() are inverses on every scalar value.
 */
static void
test_encode(void **state)
{
    (void)state;
    for (uint32_t cp = 0; cp <= 0x10ffff; cp++) {
        char buf[4];
        uint32_t back = 0;
        size_t n;

        if (cp >= 0xd800 && cp <= 0xdfff)
            continue;
        n = feed_utf8_encode(cp, buf);
        assert_int_equal(n, cp < 0x80      ? 1
                            : cp < 0x800   ? 2
                            : cp < 0x10000 ? 3
                                           : 4);
        assert_int_equal(feed_utf8_decode((unsigned char *)buf, n, &back), n);
        assert_int_equal(back, cp);
    }
}

/* Long random texts of valid characters with the odd bad byte: the
 * validator agrees with the reference on every prefix near the end. */
static void
test_random(void **state)
{
    static const char *const pieces[] = {
        "a",
        "<p>",
        " ",
        "\n",
        "\xc3\xa9",
        "\xd0\xb6",
        "\xe4\xb8\xad",
        "\xe2\x80\x94",
        "\xf0\x9f\x98\x80",
        "\xef\xbf\xbd",
        "&amp;",
    };
    static const char *const bad[] = {
        "\x80",         "\xc3",     "\xe4\xb8", "\xf0\x9f\x98",
        "\xed\xa0\x80", "\xc0\xaf", "\xff",
    };
    unsigned char buf[600];
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 5000; round++) {
        size_t len = 0;

        while (len < 500) {
            const char *p;

            seed = seed * 1103515245u + 12345u;
            p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        }
        seed = seed * 1103515245u + 12345u;
        if ((seed >> 16) % 3 == 0) {
            const char *b = bad[(seed >> 8) % (sizeof(bad) / sizeof(bad[0]))];

            seed = seed * 1103515245u + 12345u;
            memcpy(buf + (seed >> 16) % (len - 4), b, strlen(b));
        }
        for (size_t n = len - 40; n <= len; n++) {
            size_t i = 0;
            uint32_t cp;
            int want = 1;

            while (i < n) {
                size_t k = reference(buf + i, n - i, &cp);

                if (k == 0) {
                    want = 0;
                    break;
                }
                i += k;
            }
            assert_int_equal(feed_utf8_valid((const char *)buf, n), want);
        }
    }
}

static char *big;

static void
valid_run(size_t n, void *arg)
{
    (void)arg;
    assert_true(feed_utf8_valid(big, n));
}

/* Linear in its input, ASCII or not. */
static void
test_linear(void **state)
{
    size_t max = 64u << 20;

    (void)state;
    big = malloc(max);
    assert_non_null(big);
    for (size_t i = 0; i + 3 <= max; i += 3)
        memcpy(big + i, i % 2 ? "\xe4\xb8\xad" : "ab<", 3);
    assert_linear("feed_utf8_valid", valid_run, NULL, 3 << 10, max / 4 / 3 * 3);
    free(big);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),     cmocka_unit_test(test_exhaustive),
        cmocka_unit_test(test_automaton), cmocka_unit_test(test_encode),
        cmocka_unit_test(test_random),    cmocka_unit_test(test_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_utf8.c - utf8_xml_clean(), the check every chunk
 * passes before expat: the vector version against the scalar one, and
 * both against a decoder written here from RFC 3629's definition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "scan.h"

/* Every version this machine runs: scalar, SSSE3, AVX2. */
static utf8_clean_fn versions[8];
static const char *names[8];
static size_t nversions;

static int
setup(void **state)
{
    (void)state;
    nversions = utf8_xml_clean_versions(versions, names, 8);
    return nversions >= 1 ? 0 : -1;
}

/* The definition, decoded the long way: a lead's bit pattern says the
 * length, continuations carry six bits each, and the code point must
 * need that length, be at most U+10FFFF and not be a surrogate, U+FFFE,
 * U+FFFF or a control character other than tab, LF and CR. */
static int
reference(const unsigned char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        unsigned c = s[i], len, cp;
        static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};

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
        if (n - i < len)
            return 0;
        for (unsigned k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (s[i + k] & 0x3f);
        }
        if (len > 1 && cp < min[len])
            return 0;
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ||
            cp == 0xfffe || cp == 0xffff)
            return 0;
        if (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r')
            return 0;
        i += len;
    }
    return 1;
}

/* s placed after `at` bytes of ASCII and followed by `after`, so that it
 * falls on every position of a 16-byte block and at the very end. */
static void
check_placed(const unsigned char *s, size_t n, size_t at, size_t after)
{
    unsigned char buf[128];
    size_t len = at + n + after;
    int want;

    assert_true(len <= sizeof(buf));
    memset(buf, 'a', sizeof(buf));
    memcpy(buf + at, s, n);
    want = reference(buf, len);
    for (size_t v = 0; v < nversions; v++)
        if (versions[v](buf, len) != want) {
            char hex[3 * 8 + 1] = "";

            for (size_t k = 0; k < n && k < 8; k++)
                snprintf(hex + 3 * k, 4, "%02x ", s[k]);
            fail_msg("%sat %zu of %zu: want %d, %s says %d", hex, at, len,
                     want, names[v], !want);
        }
    if (utf8_xml_clean(buf, len) != want)
        fail_msg("utf8_xml_clean() disagrees with its versions");
}

static void
check_everywhere(const unsigned char *s, size_t n)
{
    for (size_t at = 0; at < 34; at++) {
        check_placed(s, n, at, 0);
        check_placed(s, n, at, 1);
        check_placed(s, n, at, 17);
    }
}

static void
test_known(void **state)
{
    static const struct {
        const char *bytes;
        int clean;
    } cases[] = {
        {"plain ascii", 1},
        {"tab\tlf\ncr\r", 1},
        {"\x01", 0},
        {"\x1f", 0},
        {"\x7f", 1},
        {"\xc2\x80", 1},             /* U+0080, a C1 control: XML allows it */
        {"\xd0\x9f\xd1\x80", 1},     /* Cyrillic */
        {"\xe2\x82\xac", 1},         /* U+20AC */
        {"\xef\xbf\xbd", 1},         /* U+FFFD */
        {"\xef\xbf\xbe", 0},         /* U+FFFE */
        {"\xef\xbf\xbf", 0},         /* U+FFFF */
        {"\xf0\x9f\x98\x80", 1},     /* U+1F600 */
        {"\xf4\x8f\xbf\xbf", 1},     /* U+10FFFF */
        {"\xf4\x90\x80\x80", 0},     /* above U+10FFFF */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\xc0\x80", 0},             /* overlong NUL */
        {"\xc1\xbf", 0},
        {"\xe0\x9f\xbf", 0},         /* overlong three */
        {"\xe0\xa0\x80", 1},
        {"\xf0\x8f\xbf\xbf", 0},     /* overlong four */
        {"\xed\x9f\xbf", 1},         /* U+D7FF */
        {"\xed\xa0\x80", 0},         /* a surrogate */
        {"\xed\xbf\xbf", 0},
        {"\x80", 0},                 /* a lone continuation */
        {"\xc3", 0},                 /* cut short */
        {"\xe2\x82", 0},
        {"\xf0\x9f\x98", 0},
        {"\xc3\xa9\xa9", 0},         /* one continuation too many */
        {"\xe2\x82\xac\x80", 0},
    };

    (void)state;
    print_message("versions:");
    for (size_t v = 0; v < nversions; v++)
        print_message(" %s", names[v]);
    print_message("\n");
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const unsigned char *s = (const unsigned char *)cases[i].bytes;
        size_t n = strlen(cases[i].bytes);

        assert_int_equal(reference(s, n), cases[i].clean);
        check_everywhere(s, n);
    }
    /* The empty buffer is clean. */
    assert_int_equal(utf8_xml_clean((const unsigned char *)"", 0), 1);
}

/* Every pair of bytes and every three-byte sequence with a lead >= 0xe0,
 * at a block boundary and inside a block. */
static void
test_exhaustive(void **state)
{
    unsigned char s[3];

    (void)state;
    for (unsigned a = 0; a < 256; a++)
        for (unsigned b = 0; b < 256; b++) {
            s[0] = (unsigned char)a;
            s[1] = (unsigned char)b;
            check_placed(s, 2, 14, 0);
            check_placed(s, 2, 15, 3);
            check_placed(s, 2, 5, 20);
        }
    for (unsigned a = 0xe0; a < 0x100; a++)
        for (unsigned b = 0x80; b < 0xc0; b++)
            for (unsigned c = 0; c < 256; c++) {
                s[0] = (unsigned char)a;
                s[1] = (unsigned char)b;
                s[2] = (unsigned char)c;
                check_placed(s, 3, 14, 0);
                check_placed(s, 3, 29, 2);
            }
}

/* Long random texts of valid characters with the odd bad byte: the two
 * versions agree on each, and on each prefix that a chunk might be. */
static void
test_random(void **state)
{
    static const char *const pieces[] = {
        "a", "<p>", " ", "\n", "\xc3\xa9", "\xd0\xb6", "\xe4\xb8\xad",
        "\xe2\x80\x94", "\xf0\x9f\x98\x80", "\xef\xbf\xbd", "&amp;",
    };
    static const char *const bad[] = {
        "\x80", "\xc3", "\xe4\xb8", "\xf0\x9f\x98", "\x01", "\xef\xbf\xbe",
        "\xed\xa0\x80", "\xc0\xaf", "\xff",
    };
    unsigned char buf[600];
    unsigned seed = 12345;

    (void)state;
    for (int round = 0; round < 20000; round++) {
        size_t len = 0;
        int with_bad;

        seed = seed * 1103515245u + 12345u;
        with_bad = (seed >> 16) % 3 == 0;
        while (len < 500) {
            const char *p;

            seed = seed * 1103515245u + 12345u;
            p = pieces[(seed >> 16) % (sizeof(pieces) / sizeof(pieces[0]))];
            memcpy(buf + len, p, strlen(p));
            len += strlen(p);
        }
        if (with_bad) {
            const char *b;
            size_t at;

            seed = seed * 1103515245u + 12345u;
            b = bad[(seed >> 16) % (sizeof(bad) / sizeof(bad[0]))];
            seed = seed * 1103515245u + 12345u;
            at = (seed >> 16) % (len - 4);
            memcpy(buf + at, b, strlen(b));
        }
        for (size_t n = len - 40; n <= len; n++) {
            int want = reference(buf, n);

            for (size_t v = 0; v < nversions; v++)
                assert_int_equal(versions[v](buf, n), want);
        }
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known),
        cmocka_unit_test(test_exhaustive),
        cmocka_unit_test(test_random),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}

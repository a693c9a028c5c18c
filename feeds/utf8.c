/* feeds/utf8.c - UTF-8 decoding, validation and encoding (RFC 3629 §3-4),
 * byte by byte in plain C. The shortest form is enforced by the range of
 * the second byte, which depends on the first (the table of §4):
 *
 *   C2..DF  80..BF
 *   E0      A0..BF  80..BF            (E0 80..9F would be overlong)
 *   E1..EC  80..BF  80..BF
 *   ED      80..9F  80..BF            (ED A0..BF are surrogates)
 *   EE..EF  80..BF  80..BF
 *   F0      90..BF  80..BF  80..BF    (F0 80..8F would be overlong)
 *   F1..F3  80..BF  80..BF  80..BF
 *   F4      80..8F  80..BF  80..BF    (F4 90.. is above U+10FFFF)
 */
#include "utf8.h"

#include <string.h>

/* How the sequence at s[0..n) reads: its length when whole and valid,
 * 0 when invalid, -1 when valid as far as n goes but cut short. */
static int
decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    unsigned char lo = 0x80, hi = 0xbf;
    uint32_t c;
    int len;

    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] < 0xc2 || s[0] > 0xf4)
        return 0;
    if (s[0] < 0xe0) {
        len = 2;
        c = s[0] & 0x1f;
    } else if (s[0] < 0xf0) {
        len = 3;
        c = s[0] & 0x0f;
    } else {
        len = 4;
        c = s[0] & 0x07;
    }
    if (s[0] == 0xe0)
        lo = 0xa0;
    else if (s[0] == 0xed)
        hi = 0x9f;
    else if (s[0] == 0xf0)
        lo = 0x90;
    else if (s[0] == 0xf4)
        hi = 0x8f;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        if (s[i] < lo || s[i] > hi)
            return 0;
        c = c << 6 | (s[i] & 0x3f);
        lo = 0x80;
        hi = 0xbf;
    }
    *cp = c;
    return len;
}

size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    int len = decode(s, n, cp);

    return len > 0 ? (size_t)len : 0;
}

int
utf8_cut(const unsigned char *s, size_t n)
{
    uint32_t cp;

    return decode(s, n, &cp) < 0;
}

int
utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str, *end = s + n;

    while (s < end) {
        uint64_t w;
        uint32_t cp;
        size_t len;

        /* Eight bytes of ASCII at a time: no byte has its high bit. */
        if (end - s >= 8) {
            memcpy(&w, s, 8);
            if ((w & 0x8080808080808080u) == 0) {
                s += 8;
                continue;
            }
        }
        if (*s < 0x80) {
            s++;
            continue;
        }
        if ((len = utf8_decode(s, (size_t)(end - s), &cp)) == 0)
            return 0;
        s += len;
    }
    return 1;
}

size_t
utf8_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

int
utf8_xml_char(uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd ||
           (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
           (cp >= 0x10000 && cp <= 0x10ffff);
}

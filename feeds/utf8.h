/* feeds/utf8.h - UTF-8 (RFC 3629), the one decoder, validator and encoder
 * of feeds/ (internal to feeds/). Valid means: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Whether a character is allowed in
 * XML is the caller's question (utf8_xml_char()). */
#ifndef FEEDS_UTF8_H
#define FEEDS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Internal to utf8_decode() and utf8_cut(): the length of the sequence
 * at s[0..n) when whole and valid, 0 when invalid, -1 when valid as far
 * as n goes but cut short. The shortest form is enforced by the range of
 * the second byte, which depends on the first (RFC 3629 §4):
 *
 *   C2..DF  80..BF
 *   E0      A0..BF  80..BF            (E0 80..9F would be overlong)
 *   E1..EC  80..BF  80..BF
 *   ED      80..9F  80..BF            (ED A0..BF are surrogates)
 *   EE..EF  80..BF  80..BF
 *   F0      90..BF  80..BF  80..BF    (F0 80..8F would be overlong)
 *   F1..F3  80..BF  80..BF  80..BF
 *   F4      80..8F  80..BF  80..BF    (F4 90.. is above U+10FFFF)
 *
 * Inline: the byte layer asks it of every character that is not ASCII. */
static inline int
utf8_decode_(const unsigned char *s, size_t n, uint32_t *cp)
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

/* The character that starts s[0..n): its length (1 to 4), with its code
 * point in *cp; 0 when s does not start a whole valid sequence (n == 0,
 * a bad byte, or a valid start that n cuts short: utf8_cut() tells). */
static inline size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    int len = utf8_decode_(s, n, cp);

    return len > 0 ? (size_t)len : 0;
}

/* 1 when s[0..n) is the valid start of a sequence longer than n: the
 * end of a chunk cut a character that the next chunk completes. */
int utf8_cut(const unsigned char *s, size_t n);

/* 1 when s[0..n) is whole, valid UTF-8 (n == 0 included). */
int utf8_valid(const char *s, size_t n);

/* Writes cp, a Unicode scalar value (not a surrogate, at most U+10FFFF),
 * to out; returns its length, 1 to 4. */
size_t utf8_encode(uint32_t cp, char out[4]);

/* 1 when cp is a character XML 1.0 allows (§2.2 Char): tab, LF, CR,
 * U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF. */
int utf8_xml_char(uint32_t cp);

#endif

/* feeds/utf8.h - UTF-8 (RFC 3629), the one decoder, validator and encoder
 * of feeds/ (internal to feeds/). Valid means: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Whether a character is allowed in
 * XML is the caller's question (feed_utf8_xml_char()). */
#ifndef FEEDS_UTF8_H
#define FEEDS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Internal to feed_utf8_decode() and feed_utf8_cut(): the length of the
 * sequence at s[0..n) when whole and valid, 0 when invalid, -1 when valid as
 * far as n goes but cut short. The shortest form is enforced by the range of
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
feed_utf8_decode_(const unsigned char *s, size_t n, uint32_t *cp)
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

/* A table-driven automaton that checks UTF-8 a byte at a time with no
 * branch, for scans of long runs (feed_utf8_decode() is for one character).
 * A state is a bit offset, and t[byte] holds, at each state's offset, the
 * 6-bit state that follows:
 *
 *     s = t[byte] >> (s & 63);
 *
 * from UTF8_OK before a document's first byte; UTF8_OK again after each
 * whole character; UTF8_STOP (which stays UTF8_STOP) at a byte that is
 * not valid UTF-8 there, at the last byte of U+FFFE or U+FFFF (which XML
 * forbids), and at each ASCII byte the table's maker chose. A table is
 * made, as a constant, by UTF8_TABLE(STOPS), where STOPS(b) is a macro
 * that is nonzero for the ASCII bytes to stop at. Eleven states fit in
 * the 64 bits: the last, at offset 60, has 4 bits, enough for the states
 * it goes to.
 *
 *   OK    between characters             C1..C3  1 to 3 bytes 80..BF to go
 *   E0    E0 read: A0..BF, then 1        ED      ED read: 80..9F, then 1
 *   F0    F0 read: 90..BF, then 2        F4      F4 read: 80..8F, then 2
 *   EF    EF read: BF may start U+FFFE or U+FFFF
 *   EFBF  EF BF read: 80..BD, done */
enum {
    UTF8_STOP = 0,
    UTF8_OK = 6,
    UTF8_C1_ = 12,
    UTF8_C2_ = 18,
    UTF8_C3_ = 24,
    UTF8_E0_ = 30,
    UTF8_ED_ = 36,
    UTF8_F0_ = 42,
    UTF8_F4_ = 48,
    UTF8_EF_ = 54,
    UTF8_EFBF_ = 60,
};

#define UTF8_IN_(b, lo, hi) ((b) >= (lo) && (b) <= (hi))
#define UTF8_FROM_OK_(b, stops)                                                \
    ((b) < 0x80    ? ((stops(b)) ? UTF8_STOP : UTF8_OK)                        \
     : (b) < 0xc2  ? UTF8_STOP                                                 \
     : (b) < 0xe0  ? UTF8_C1_                                                  \
     : (b) == 0xe0 ? UTF8_E0_                                                  \
     : (b) == 0xed ? UTF8_ED_                                                  \
     : (b) == 0xef ? UTF8_EF_                                                  \
     : (b) < 0xf0  ? UTF8_C2_                                                  \
     : (b) == 0xf0 ? UTF8_F0_                                                  \
     : (b) < 0xf4  ? UTF8_C3_                                                  \
     : (b) == 0xf4 ? UTF8_F4_                                                  \
                   : UTF8_STOP)
#define UTF8_TO_(b, lo, hi, st)                                                \
    ((uint64_t)(UTF8_IN_(b, lo, hi) ? (st) : UTF8_STOP))
#define UTF8_ROW_(b, stops)                                                    \
    ((uint64_t)UTF8_FROM_OK_(b, stops) << UTF8_OK |                            \
     UTF8_TO_(b, 0x80, 0xbf, UTF8_OK) << UTF8_C1_ |                            \
     UTF8_TO_(b, 0x80, 0xbf, UTF8_C1_) << UTF8_C2_ |                           \
     UTF8_TO_(b, 0x80, 0xbf, UTF8_C2_) << UTF8_C3_ |                           \
     UTF8_TO_(b, 0xa0, 0xbf, UTF8_C1_) << UTF8_E0_ |                           \
     UTF8_TO_(b, 0x80, 0x9f, UTF8_C1_) << UTF8_ED_ |                           \
     UTF8_TO_(b, 0x90, 0xbf, UTF8_C2_) << UTF8_F0_ |                           \
     UTF8_TO_(b, 0x80, 0x8f, UTF8_C2_) << UTF8_F4_ |                           \
     (uint64_t)((b) == 0xbf               ? UTF8_EFBF_                         \
                : UTF8_IN_(b, 0x80, 0xbe) ? UTF8_C1_                           \
                                          : UTF8_STOP)                         \
         << UTF8_EF_ |                                                         \
     UTF8_TO_(b, 0x80, 0xbd, UTF8_OK) << UTF8_EFBF_)
#define UTF8_R4_(b, stops)                                                     \
    UTF8_ROW_(b, stops), UTF8_ROW_(b + 1, stops), UTF8_ROW_(b + 2, stops),     \
        UTF8_ROW_(b + 3, stops)
#define UTF8_R16_(b, stops)                                                    \
    UTF8_R4_(b, stops), UTF8_R4_(b + 4, stops), UTF8_R4_(b + 8, stops),        \
        UTF8_R4_(b + 12, stops)
#define UTF8_R64_(b, stops)                                                    \
    UTF8_R16_(b, stops), UTF8_R16_(b + 16, stops), UTF8_R16_(b + 32, stops),   \
        UTF8_R16_(b + 48, stops)
#define UTF8_TABLE(stops)                                                      \
    {                                                                          \
        UTF8_R64_(0, stops), UTF8_R64_(64, stops), UTF8_R64_(128, stops),      \
            UTF8_R64_(192, stops)                                              \
    }

/* The state after the eight bytes at p, from state s, by table t: the
 * step of a scan that checks for UTF8_STOP once a word. */
static inline uint64_t
feed_utf8_step8(const uint64_t *t, const unsigned char *p, uint64_t s)
{
    s = t[p[0]] >> (s & 63);
    s = t[p[1]] >> (s & 63);
    s = t[p[2]] >> (s & 63);
    s = t[p[3]] >> (s & 63);
    s = t[p[4]] >> (s & 63);
    s = t[p[5]] >> (s & 63);
    s = t[p[6]] >> (s & 63);
    s = t[p[7]] >> (s & 63);
    return s & 63;
}

/* The character that starts s[0..n): its length (1 to 4), with its code
 * point in *cp; 0 when s does not start a whole valid sequence (n == 0,
 * a bad byte, or a valid start that n cuts short: feed_utf8_cut() tells). */
static inline size_t
feed_utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    int len = feed_utf8_decode_(s, n, cp);

    return len > 0 ? (size_t)len : 0;
}

/* 1 when s[0..n) is the valid start of a sequence longer than n: the
 * end of a chunk cut a character that the next chunk completes. */
int feed_utf8_cut(const unsigned char *s, size_t n);

/* 1 when s[0..n) is whole, valid UTF-8 (n == 0 included). */
int feed_utf8_valid(const char *s, size_t n);

/* Writes cp, a Unicode scalar value (not a surrogate, at most U+10FFFF),
 * to out; returns its length, 1 to 4. */
size_t feed_utf8_encode(uint32_t cp, char out[4]);

/* 1 when cp is a character XML 1.0 allows (§2.2 Char): tab, LF, CR,
 * U+0020..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF. */
int feed_utf8_xml_char(uint32_t cp);

#endif

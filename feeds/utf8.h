/* feeds/utf8.h - UTF-8 (RFC 3629), the one decoder, validator and encoder
 * of feeds/ (internal to feeds/). Valid means: no overlong forms, no
 * surrogates, nothing above U+10FFFF. Whether a character is allowed in
 * XML is the caller's question (utf8_xml_char()). */
#ifndef FEEDS_UTF8_H
#define FEEDS_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The character that starts s[0..n): its length (1 to 4), with its code
 * point in *cp; 0 when s does not start a whole valid sequence (n == 0,
 * a bad byte, or a valid start that n cuts short: utf8_cut() tells). */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);

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

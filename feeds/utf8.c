/* feeds/utf8.c - UTF-8 validation and encoding (RFC 3629), byte by byte
 * in plain C; the decoder both use is inline, in utf8.h. */
#include "utf8.h"

#include <string.h>

int
feed_utf8_cut(const unsigned char *s, size_t n)
{
    uint32_t cp;

    return feed_utf8_decode_(s, n, &cp) < 0;
}

int
feed_utf8_valid(const char *str, size_t n)
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
        if ((len = feed_utf8_decode(s, (size_t)(end - s), &cp)) == 0)
            return 0;
        s += len;
    }
    return 1;
}

size_t
feed_utf8_encode(uint32_t cp, char out[4])
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
feed_utf8_xml_char(uint32_t cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd ||
           (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
           (cp >= 0x10000 && cp <= 0x10ffff);
}

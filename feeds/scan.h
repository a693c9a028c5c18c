/* feeds/scan.h - what is left of the vectorised scans, in plain C, for
 * the two files that still include it: buf.c (the JSON escaping) and
 * parse.c (cap_escaped). To be deleted once they no longer do; nothing
 * new should use it. Each returns how many bytes at the start of s need
 * no attention. */
#ifndef FEEDS_SCAN_H
#define FEEDS_SCAN_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bytes that go into a JSON string as they are, copied to out: all but
 * control characters, '"' and '\\', and, unless utf8, bytes >= 0x80. */
static inline size_t
scan_json_(const unsigned char *s, size_t n, char *out, int utf8)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;

    /* Eight bytes at a time while none is < 0x20, '"', '\\' (or, unless
     * utf8, >= 0x80): each test sets a byte's high bit where it hits. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w, q, b;

        memcpy(&w, s + i, 8);
        q = w ^ (ones * '"');
        b = w ^ (ones * '\\');
        if ((((w - ones * 0x20) & ~w) | ((q - ones) & ~q) | ((b - ones) & ~b) |
             (utf8 ? 0 : w)) &
            highs)
            break;
        memcpy(out + i, s + i, 8);
    }
    for (; i < n; i++) {
        if (s[i] < 0x20 || (!utf8 && s[i] >= 0x80) || s[i] == '"' ||
            s[i] == '\\')
            break;
        out[i] = (char)s[i];
    }
    return i;
}

static inline size_t
scan_json_plain(const unsigned char *s, size_t n, char *out)
{
    return scan_json_(s, n, out, 0);
}

static inline size_t
scan_json_utf8_sse2(const unsigned char *s, size_t n, char *out)
{
    return scan_json_(s, n, out, 1);
}

/* Bytes that XML character data takes as they are: all but & < > ". */
static inline size_t
scan_xml_plain(const unsigned char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (s[i] == '&' || s[i] == '<' || s[i] == '>' || s[i] == '"')
            break;
    return i;
}

#endif

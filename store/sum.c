/* store/sum.c - the checksum at the end of a line the store writes:
 *
 *     {...,"sum":"XXXXXXXX"}
 *
 * XXXXXXXX is the crc32 (zlib's), in lowercase hex, of the line's bytes
 * before ,"sum". It sits at a fixed place from the end so that a line is
 * checked before it is parsed, and a line still parses as JSON (the sum
 * is one more member). */
#include <string.h>

#include <zlib.h>

#include "store_int.h"

#define SUM_HEAD ",\"sum\":\""
#define SUM_HEAD_LEN (sizeof SUM_HEAD - 1)

static uint32_t
sum_of(const char *p, size_t len)
{
    uLong c = crc32(0L, Z_NULL, 0);

    /* crc32() takes lengths as uInt: feed it in pieces. */
    while (len > 0) {
        uInt n = len > (1u << 30) ? (1u << 30) : (uInt)len;

        c = crc32(c, (const Bytef *)p, n);
        p += n;
        len -= n;
    }
    return (uint32_t)c;
}

int
store_sum_close(struct feed_buf *b, size_t start)
{
    return feed_buf_printf(b, SUM_HEAD "%08x\"}",
                           (unsigned)sum_of(b->data + start, b->len - start));
}

int
store_sum_check(const char *line, size_t len)
{
    const char *hex;
    uint32_t want = 0;
    size_t i;

    if (len < STORE_SUM_LEN + 1 || line[len - 1] != '}' ||
        line[len - 2] != '"' ||
        memcmp(line + len - STORE_SUM_LEN, SUM_HEAD, SUM_HEAD_LEN) != 0)
        return -1;
    hex = line + len - STORE_SUM_LEN + SUM_HEAD_LEN;
    for (i = 0; i < 8; i++) {
        int c = hex[i], d;

        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else
            return -2;
        want = want << 4 | (uint32_t)d;
    }
    return sum_of(line, len - STORE_SUM_LEN) == want ? 0 : -2;
}

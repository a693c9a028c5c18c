/* store/flat.c - the reader of flat JSON objects: one object whose values
 * are strings, integers, true, false or null (arrays and objects are
 * skipped), as feeds.state holds one per line. A line is read in one pass
 * with no allocation but the caller's buffer of decoded strings: jansson
 * builds a tree per line, which made loading the state of 100,000 feeds
 * take a second. */
#include <string.h>

#include "store_int.h"

static const char *
skip_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        p++;
    return p;
}

static int
hex4(const char *p, const char *end, uint32_t *v)
{
    int i;

    *v = 0;
    if (end - p < 4)
        return -1;
    for (i = 0; i < 4; i++) {
        int c = p[i], d = c >= '0' && c <= '9'   ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                 : -1;

        if (d < 0)
            return -1;
        *v = *v << 4 | (uint32_t)d;
    }
    return 0;
}

/* The string whose opening quote is at p, decoded and appended to out
 * with its NUL. The position after its closing quote, or NULL. */
static const char *
read_string(const char *p, const char *end, struct feed_buf *out)
{
    const char *run;
    uint32_t cp, lo;

    for (run = ++p; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if (c < 0x20)
            return NULL;
        if (c != '"' && c != '\\')
            continue;
        if (feed_buf_append(out, run, (size_t)(p - run)) != 0)
            return NULL;
        if (c == '"')
            return feed_buf_append(out, "", 1) == 0 ? p + 1 : NULL;
        if (++p == end)
            return NULL;
        switch (*p) {
        case '"':
        case '\\':
        case '/':
            c = (unsigned char)*p;
            break;
        case 'b':
            c = '\b';
            break;
        case 'f':
            c = '\f';
            break;
        case 'n':
            c = '\n';
            break;
        case 'r':
            c = '\r';
            break;
        case 't':
            c = '\t';
            break;
        case 'u':
            if (hex4(p + 1, end, &cp) != 0)
                return NULL;
            p += 4;
            /* A surrogate pair is one character; a lone half is none. */
            if (cp >= 0xd800 && cp < 0xdc00 && end - p > 6 && p[1] == '\\' &&
                p[2] == 'u' && hex4(p + 3, end, &lo) == 0 && lo >= 0xdc00 &&
                lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                p += 6;
            } else if (cp >= 0xd800 && cp < 0xe000) {
                cp = 0xfffd;
            }
            if (feed_buf_utf8(out, cp) != 0)
                return NULL;
            run = p + 1;
            continue;
        default:
            return NULL;
        }
        if (feed_buf_append(out, &c, 1) != 0)
            return NULL;
        run = p + 1;
    }
    return NULL;
}

/* Skips the array or object that opens at p. The position after it, or
 * NULL. Strings inside are skipped whole, so their brackets do not
 * count. */
static const char *
skip_nested(const char *p, const char *end)
{
    size_t depth = 0;

    for (; p < end; p++) {
        if (*p == '[' || *p == '{') {
            depth++;
        } else if (*p == ']' || *p == '}') {
            if (--depth == 0)
                return p + 1;
        } else if (*p == '"') {
            for (p++; p < end && *p != '"'; p++)
                if (*p == '\\' && ++p == end)
                    return NULL;
            if (p == end)
                return NULL;
        }
    }
    return NULL;
}

/* The integer at p into *v; an integer out of range, or a number with a
 * fraction or an exponent, is OTHER. The position after it, or NULL. */
static const char *
read_number(const char *p, const char *end, int *type, int64_t *v)
{
    int neg = *p == '-';
    uint64_t n = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
    int over = 0;

    if (neg)
        p++;
    if (p == end || *p < '0' || *p > '9')
        return NULL;
    for (; p < end && *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');

        if (n > (lim - d) / 10)
            over = 1;
        else
            n = n * 10 + d;
    }
    *type = STORE_FLAT_INT;
    if (p < end && (*p == '.' || *p == 'e' || *p == 'E')) {
        *type = STORE_FLAT_OTHER;
        for (p++; p < end && strchr("0123456789+-eE", *p) != NULL; p++)
            ;
    }
    if (over)
        *type = STORE_FLAT_OTHER;
    *v = neg ? (int64_t)(0 - n) : (int64_t)n;
    return p;
}

int
store_flat_read(const char *line, size_t len, struct feed_buf *strs,
                store_flat_fn *fn, void *arg)
{
    const char *p = line, *end = line + len, *key, *w;
    size_t klen, off;
    int64_t num;
    int type;

    p = skip_ws(p, end);
    if (p == end || *p++ != '{')
        return -1;
    p = skip_ws(p, end);
    if (p < end && *p == '}')
        return skip_ws(p + 1, end) == end ? 0 : -1;
    for (;;) {
        p = skip_ws(p, end);
        if (p == end || *p != '"')
            return -1;
        /* A key is compared as written: one with escapes names nothing
         * the caller knows. */
        key = p + 1;
        if ((w = memchr(key, '"', (size_t)(end - key))) == NULL)
            return -1;
        klen = (size_t)(w - key);
        if (memchr(key, '\\', klen) != NULL) {
            off = strs->len;
            if ((p = read_string(p, end, strs)) == NULL)
                return -1;
            strs->len = off;
            key = "";
            klen = 0;
        } else {
            p = w + 1;
        }
        p = skip_ws(p, end);
        if (p == end || *p++ != ':')
            return -1;
        p = skip_ws(p, end);
        if (p == end)
            return -1;
        off = strs->len;
        num = 0;
        if (*p == '"') {
            type = STORE_FLAT_STR;
            p = read_string(p, end, strs);
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            p = read_number(p, end, &type, &num);
        } else if (*p == '[' || *p == '{') {
            type = STORE_FLAT_OTHER;
            p = skip_nested(p, end);
        } else if (end - p >= 4 && memcmp(p, "null", 4) == 0) {
            type = STORE_FLAT_NULL;
            p += 4;
        } else if (end - p >= 4 && memcmp(p, "true", 4) == 0) {
            type = STORE_FLAT_TRUE;
            p += 4;
        } else if (end - p >= 5 && memcmp(p, "false", 5) == 0) {
            type = STORE_FLAT_FALSE;
            p += 5;
        } else {
            return -1;
        }
        if (p == NULL)
            return -1;
        fn(key, klen, type, off, num, arg);
        p = skip_ws(p, end);
        if (p < end && *p == ',') {
            p++;
            continue;
        }
        if (p < end && *p == '}')
            return skip_ws(p + 1, end) == end ? 0 : -1;
        return -1;
    }
}

/* feeds/buf.c - the capped byte buffer, and JSON and XML escaping into it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/buf.h"
#include "scan.h"

void
feed_buf_init(struct feed_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

/* Makes room for n more bytes plus the terminating NUL. */
int
feed_buf_grow_(struct feed_buf *b, size_t n)
{
    size_t need, cap;
    char *p;

    if (b->max && (n > b->max || b->len > b->max - n))
        return FEED_E_TOOBIG;
    if (n > SIZE_MAX / 2 - b->len)
        return FEED_E_NOMEM;
    need = b->len + n + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        return FEED_E_NOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int
feed_buf_puts(struct feed_buf *b, const char *s)
{
    return feed_buf_append(b, s, strlen(s));
}

int
feed_buf_printf(struct feed_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return FEED_E_INVAL;
    if ((rc = feed_buf_grow_(b, (size_t)n)) != 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

const char *
feed_buf_str(struct feed_buf *b)
{
    return b->data ? b->data : "";
}

void
feed_buf_reset(struct feed_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

void
feed_buf_free(struct feed_buf *b)
{
    free(b->data);
    feed_buf_init(b, b->max);
}

/* Length of the valid UTF-8 sequence at s (1 to 4), or 0 when s does not
 * start one. Overlong forms and surrogates are invalid (RFC 3629 §4). */
static inline size_t
utf8_seq(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        return (s[1] & 0xc0) == 0x80 ? 2 : 0;
    if (s[0] >= 0xe0 && s[0] <= 0xef) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (s[0] == 0xe0 && s[1] < 0xa0)
            return 0;
        if (s[0] == 0xed && s[1] >= 0xa0)
            return 0;
        return 3;
    }
    if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
            (s[3] & 0xc0) != 0x80)
            return 0;
        if (s[0] == 0xf0 && s[1] < 0x90)
            return 0;
        if (s[0] == 0xf4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

/* The escape of control character or '"' or '\\' c, into esc; its
 * length. */
static inline size_t
json_escape(unsigned char c, char *esc)
{
    static const char hex[] = "0123456789abcdef";

    esc[0] = '\\';
    switch (c) {
    case '"': esc[1] = '"'; return 2;
    case '\\': esc[1] = '\\'; return 2;
    case '\n': esc[1] = 'n'; return 2;
    case '\t': esc[1] = 't'; return 2;
    case '\r': esc[1] = 'r'; return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

/* The body of a JSON string for s[0..n), known to be valid UTF-8: only
 * control characters, '"' and '\\' change. Written to w, which has room
 * for the worst case; returns the end. The loop is the same for each
 * vector width; with AVX2 it takes 32 bytes a time. */
#define JSON_UTF8_BODY(scan)                                                   \
    {                                                                          \
        const unsigned char *end = s + n;                                      \
                                                                               \
        while (s < end) {                                                      \
            size_t k = scan(s, (size_t)(end - s), w);                          \
                                                                               \
            s += k;                                                            \
            w += k;                                                            \
            if (s == end)                                                      \
                break;                                                         \
            w += json_escape(*s++, w);                                         \
        }                                                                      \
        return w;                                                              \
    }

static char *
json_utf8_sse2(const unsigned char *s, size_t n, char *w)
JSON_UTF8_BODY(scan_json_utf8_sse2)

#ifdef SCAN_HAVE_AVX2
__attribute__((target("avx2"))) static char *
json_utf8_avx2(const unsigned char *s, size_t n, char *w)
JSON_UTF8_BODY(scan_json_utf8_avx2)
#endif

static char *
json_utf8(const unsigned char *s, size_t n, char *w)
{
#ifdef SCAN_HAVE_AVX2
    if (__builtin_cpu_supports("avx2"))
        return json_utf8_avx2(s, n, w);
#endif
    return json_utf8_sse2(s, n, w);
}

/* s as a JSON string; trusted says s is known to be valid UTF-8, so that
 * only what JSON must escape is looked at. Room for the worst case (every
 * byte a \u escape) is made first, so the loop writes without checks. */
static int
json_string(struct feed_buf *b, const char *s, int trusted)
{
    const unsigned char *p, *end;
    char *w;
    size_t len, n;
    int rc;

    if (s == NULL)
        return feed_buf_append(b, "null", 4);
    len = strlen(s);
    if (len > (SIZE_MAX - 2) / 6)
        return FEED_E_NOMEM;
    if ((rc = feed_buf_grow_(b, len * 6 + 2)) != 0)
        return rc;
    w = b->data + b->len;
    *w++ = '"';
    p = (const unsigned char *)s;
    end = p + len;
    if (trusted)
        p = end, w = json_utf8((const unsigned char *)s, len, w);
    while (p < end) {
        n = scan_json_plain(p, (size_t)(end - p), w);
        w += n;
        p += n;
        if (p == end)
            break;
        if (*p >= 0x80) {
            /* Non-ASCII characters, checked one by one. */
            const unsigned char *q = p;

            while (q < end && *q >= 0x80 && (n = utf8_seq(q)) > 0)
                q += n;
            memcpy(w, p, (size_t)(q - p));
            w += q - p;
            p = q;
            if (p < end && *p >= 0x80) {
                /* Not UTF-8: U+FFFD keeps the output valid JSON. */
                memcpy(w, "\xef\xbf\xbd", 3);
                w += 3;
                p++;
            }
            continue;
        }
        w += json_escape(*p++, w);
    }
    *w++ = '"';
    b->len = (size_t)(w - b->data);
    b->data[b->len] = '\0';
    return 0;
}

int
feed_buf_json(struct feed_buf *b, const char *s)
{
    return json_string(b, s, 0);
}

int
feed_buf_json_utf8(struct feed_buf *b, const char *s)
{
    return json_string(b, s, 1);
}

int
feed_buf_xml(struct feed_buf *b, const char *s)
{
    const unsigned char *p, *run;
    const char *rep;
    size_t n;
    int rc;

    if (s == NULL)
        return 0;
    p = run = (const unsigned char *)s;
    while (*p) {
        rep = NULL;
        n = 1;
        switch (*p) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        case '\t': case '\n': case '\r': break;
        default:
            if (*p < 0x20) {
                rep = ""; /* XML 1.0 §2.2: not a Char */
            } else if (*p >= 0x80) {
                n = utf8_seq(p);
                if (n == 0) {
                    rep = "\xef\xbf\xbd";
                    n = 1;
                } else if (n == 3 && p[0] == 0xef && p[1] == 0xbf &&
                           (p[2] == 0xbe || p[2] == 0xbf)) {
                    rep = ""; /* U+FFFE, U+FFFF */
                }
            }
        }
        if (rep == NULL) {
            p += n;
            continue;
        }
        if ((rc = feed_buf_append(b, run, (size_t)(p - run))) != 0 ||
            (rc = feed_buf_puts(b, rep)) != 0)
            return rc;
        p += n;
        run = p;
    }
    return feed_buf_append(b, run, (size_t)(p - run));
}

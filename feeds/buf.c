/* feeds/buf.c - the capped byte buffer, and JSON and XML escaping into it. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/buf.h"
#include "utf8.h"

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

/* The length of the valid UTF-8 character at s (1 to 4), or 0 when s
 * does not start one. s is NUL-terminated, and a NUL is no continuation
 * byte: the decoder stops there, so no byte past it is read. */
static size_t
char_len(const unsigned char *s, uint32_t *cp)
{
    return feed_utf8_decode(s, 4, cp);
}

/* The JSON escape of c, a control character, '"' or '\\' (RFC 8259
 * §7), into esc; its length. */
static size_t
json_escape(unsigned char c, char esc[6])
{
    static const char hex[] = "0123456789abcdef";

    esc[0] = '\\';
    switch (c) {
    case '"':
        esc[1] = '"';
        return 2;
    case '\\':
        esc[1] = '\\';
        return 2;
    case '\n':
        esc[1] = 'n';
        return 2;
    case '\t':
        esc[1] = 't';
        return 2;
    case '\r':
        esc[1] = 'r';
        return 2;
    default:
        memcpy(esc + 1, "u00", 3);
        esc[4] = hex[c >> 4];
        esc[5] = hex[c & 15];
        return 6;
    }
}

/* What JSON takes as it is: whole, valid UTF-8 characters, but not the
 * control characters, '"' and '\\' (RFC 8259 §7). */
#define JSON_STOPS(b) ((b) < 0x20 || (b) == '"' || (b) == '\\')
static const uint64_t json_plain[256] = UTF8_TABLE(JSON_STOPS);

/* The length of the run at the start of s[0..n) that JSON takes as it
 * is: whole characters up to the first byte the table stops at, or to a
 * character n cuts short. Eight bytes between checks; the block that
 * stopped is walked again a byte at a time from the last block end that
 * fell between characters, so that no byte is read more than twice. */
static size_t
json_run(const unsigned char *s, size_t n)
{
    const unsigned char *p = s, *end = s + n, *mark = s, *last;
    uint64_t st = UTF8_OK;

    while (end - p >= 8) {
        uint64_t u = feed_utf8_step8(json_plain, p, st);

        if (u == UTF8_STOP)
            break;
        st = u;
        p += 8;
        if (st == UTF8_OK)
            mark = p;
    }
    for (p = last = mark, st = UTF8_OK; p < end; p++) {
        st = (json_plain[*p] >> st) & 63;
        if (st == UTF8_STOP)
            break;
        if (st == UTF8_OK)
            last = p + 1;
    }
    return (size_t)(last - s);
}

size_t
feed_utf8_len(const char *s, size_t n)
{
    uint32_t cp;

    return feed_utf8_decode((const unsigned char *)s, n, &cp);
}

int
feed_buf_utf8(struct feed_buf *b, uint32_t cp)
{
    char out[4];

    return feed_buf_append(b, out, feed_utf8_encode(cp, out));
}

int
feed_buf_json(struct feed_buf *b, const char *s)
{
    const unsigned char *p, *end;
    int rc;

    if (s == NULL)
        return feed_buf_append(b, "null", 4);
    if ((rc = feed_buf_append(b, "\"", 1)) != 0)
        return rc;
    p = (const unsigned char *)s;
    end = p + strlen(s);
    while (p < end) {
        size_t n = json_run(p, (size_t)(end - p));
        uint32_t cp;

        if ((rc = feed_buf_append(b, p, n)) != 0)
            return rc;
        if ((p += n) == end)
            break;
        if (*p < 0x80) {
            char esc[6];
            size_t len = json_escape(*p, esc);

            rc = feed_buf_append(b, esc, len);
            n = 1;
        } else if ((n = char_len(p, &cp)) > 0) {
            rc = feed_buf_append(b, p, n); /* U+FFFE or U+FFFF: JSON's own */
        } else {
            /* Not UTF-8: U+FFFD keeps the output valid JSON. */
            rc = feed_buf_append(b, "\xef\xbf\xbd", 3);
            n = 1;
        }
        if (rc != 0)
            return rc;
        p += n;
    }
    return feed_buf_append(b, "\"", 1);
}

int
feed_buf_xml(struct feed_buf *b, const char *s)
{
    const unsigned char *p, *run;
    const char *rep;
    uint32_t cp;
    size_t n;
    int rc;

    if (s == NULL)
        return 0;
    p = run = (const unsigned char *)s;
    while (*p) {
        rep = NULL;
        n = 1;
        switch (*p) {
        case '&':
            rep = "&amp;";
            break;
        case '<':
            rep = "&lt;";
            break;
        case '>':
            rep = "&gt;";
            break;
        case '"':
            rep = "&quot;";
            break;
        case '\t':
        case '\n':
        case '\r':
            break;
        default:
            if (*p < 0x20) {
                rep = ""; /* XML 1.0 §2.2: not a Char */
            } else if (*p >= 0x80) {
                n = char_len(p, &cp);
                if (n == 0) {
                    rep = "\xef\xbf\xbd";
                    n = 1;
                } else if (!feed_utf8_xml_char(cp)) {
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

/* RFC 3987 §2.2: ASCII that an IRI may not hold as it is. */
static int
iri_excluded(unsigned char c)
{
    return c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' ||
           c == '\\' || c == '^' || c == '`' || c == '{' || c == '|' ||
           c == '}';
}

int
feed_buf_iri(struct feed_buf *b, const char *s, int xml)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p, *run;
    char pct[3];
    uint32_t cp;
    size_t n, i;
    int rc;

    if (s == NULL)
        return 0;
    p = run = (const unsigned char *)s;
    while (*p) {
        n = *p < 0x80 ? 1 : char_len(p, &cp);
        if (n > 0 && !(n == 1 && iri_excluded(*p)) && !(xml && *p == '&') &&
            !(n > 1 && !feed_utf8_xml_char(cp))) {
            p += n;
            continue;
        }
        if ((rc = feed_buf_append(b, run, (size_t)(p - run))) != 0)
            return rc;
        if (xml && *p == '&') {
            if ((rc = feed_buf_puts(b, "&amp;")) != 0)
                return rc;
            n = 1;
        } else {
            /* An excluded byte, each byte of a character XML cannot
             * hold, or a byte of no character: percent-encoded, as
             * RFC 3987 §3.1 maps an IRI to a URI. */
            for (i = 0; i < (n ? n : 1); i++) {
                pct[0] = '%';
                pct[1] = hex[p[i] >> 4];
                pct[2] = hex[p[i] & 15];
                if ((rc = feed_buf_append(b, pct, 3)) != 0)
                    return rc;
            }
            n = n ? n : 1;
        }
        p += n;
        run = p;
    }
    return feed_buf_append(b, run, (size_t)(p - run));
}

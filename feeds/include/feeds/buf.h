/* feeds/buf.h - capped byte buffers, escaping, and the
 * error codes every function of feeds/ returns. A plain library: no I/O
 * scheduling, no logging, no libuv or libcurl. */
#ifndef FEEDS_BUF_H
#define FEEDS_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define FEEDS_WUR __attribute__((warn_unused_result))

enum {
    FEED_E_NOMEM = -1,   /* out of memory */
    FEED_E_TOOBIG = -2,  /* a buffer's cap was reached */
    FEED_E_XML = -3,     /* the document is not well-formed */
    FEED_E_LIMIT = -4,   /* a parser limit (depth, entries, bytes) was hit */
    FEED_E_STOPPED = -5, /* the entry callback asked to stop */
    FEED_E_NOTFEED = -6, /* well-formed, but not RSS or Atom */
    FEED_E_INVAL = -7,   /* bad argument (an unusable URL, say) */
};

/* Everything a peer sends goes into one of these. data is always
 * NUL-terminated once anything was appended. max == 0 means no cap. */
struct feed_buf {
    char *data;
    size_t len, cap, max;
};

void feed_buf_init(struct feed_buf *, size_t max);

/* Internal to feed_buf_append(): room for n more bytes and a NUL. */
int feed_buf_grow_(struct feed_buf *, size_t n) FEEDS_WUR;

/* 0, FEED_E_TOOBIG (nothing appended) or FEED_E_NOMEM. Inline: the
 * parser appends in small pieces, and most fit. */
static inline FEEDS_WUR int
feed_buf_append(struct feed_buf *b, const void *p, size_t n)
{
    if (b->data == NULL || b->cap - b->len <= n ||
        (b->max && n > b->max - b->len)) {
        int rc = feed_buf_grow_(b, n);

        if (rc != 0)
            return rc;
    }
    if (n > 0) /* p may be NULL then, which memcpy does not allow */
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}
int feed_buf_puts(struct feed_buf *, const char *) FEEDS_WUR;
int feed_buf_printf(struct feed_buf *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3))) FEEDS_WUR;
/* The contents as a C string ("" when empty); valid until the next change. */
const char *feed_buf_str(struct feed_buf *);
void feed_buf_reset(struct feed_buf *);
void feed_buf_free(struct feed_buf *);

/* s as a JSON string (RFC 8259 §7: '"', '\\' and control characters
 * escaped), appended; "null" when s is NULL. Each byte that is not part
 * of a valid UTF-8 character becomes U+FFFD, so that the output is valid
 * JSON whatever s holds. 0, FEED_E_TOOBIG or FEED_E_NOMEM; on failure
 * part of the string may have been appended. */
int feed_buf_json(struct feed_buf *, const char *s) FEEDS_WUR;
/* The length (1 to 4) of the UTF-8 character at s[0, n) (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF), or 0 when s
 * does not start with a whole one. */
size_t feed_utf8_len(const char *s, size_t n);
/* The code point cp (a Unicode scalar value: not a surrogate, at most
 * U+10FFFF) in UTF-8, appended. 0, FEED_E_TOOBIG or FEED_E_NOMEM. */
int feed_buf_utf8(struct feed_buf *, uint32_t cp) FEEDS_WUR;
/* s as XML character data: & < > " escaped, characters that XML 1.0 forbids
 * dropped. */
int feed_buf_xml(struct feed_buf *, const char *s) FEEDS_WUR;
/* s as an IRI (RFC 3987) that XML (xml != 0: '&' as "&amp;") or a JSON
 * string (xml == 0; the caller writes the quotes) can hold as it is: the
 * ASCII an IRI may not hold (controls, space, " < > \ ^ ` { | }) and
 * each byte that is not part of a valid UTF-8 character XML allows are
 * percent-encoded; nothing when s is NULL. Linear in s. 0, FEED_E_TOOBIG
 * or FEED_E_NOMEM. */
int feed_buf_iri(struct feed_buf *, const char *s, int xml) FEEDS_WUR;

#endif

/* feeds/parse.h - the streaming feed parser: bytes in any
 * encoding and chunking in, entries out. No I/O. */
#ifndef FEEDS_PARSE_H
#define FEEDS_PARSE_H

#include <stddef.h>

#include "feeds/buf.h"
#include "feeds/item.h"

struct feed_limits {
    size_t max_bytes;   /* whole document */
    size_t max_depth;   /* element nesting */
    size_t max_field;   /* one field of one entry */
    size_t max_entries; /* entries in one document */
};

/* Limits for feeds from the web: generous for real feeds, small enough
 * that a hostile one cannot hurt the daemon. */
void feed_limits_default(struct feed_limits *);

/* Called once per entry, when its end tag closes. The entry is borrowed:
 * valid only during the call. Return non-zero to stop: feed_parser_push()
 * then returns FEED_E_STOPPED. */
typedef int feed_entry_fn(const struct feed_entry *, void *arg);

struct feed_parser;

/* base_url (may be NULL) resolves relative links when the document gives
 * no xml:base or channel link of its own. Caller owns the result and frees
 * it with feed_parser_free(). NULL when out of memory. */
struct feed_parser *feed_parser_new(const struct feed_limits *lim,
                                    const char *base_url, feed_entry_fn *fn,
                                    void *arg);

/* Readies p for another document, keeping its buffers (cheaper than a
 * new parser for each of many documents). base_url as for
 * feed_parser_new(); the charset is forgotten. 0 or FEED_E_NOMEM (then
 * free p). */
int feed_parser_reset(struct feed_parser *, const char *base_url) FEEDS_WUR;

/* The HTTP Content-Type charset, when there is one. It beats the XML
 * declaration but not a byte order mark (RFC 7303 §3). Only before the
 * first push: FEED_E_INVAL after. */
int feed_parser_charset(struct feed_parser *, const char *charset) FEEDS_WUR;

/* The URL the document came from after redirects, in place of the one
 * given to feed_parser_new(): relative links resolve against it. Only
 * before the first push: FEED_E_INVAL after. */
int feed_parser_base(struct feed_parser *, const char *base_url) FEEDS_WUR;

/* Any encoding, any chunking: chunks may split anywhere, even inside a
 * character. A document starting with '{' is read as a JSON Feed once it
 * is whole; an XML one streams. last != 0 marks
 * the end of the document (a push after it is FEED_E_INVAL). 0, or a negative
 * FEED_E* code, after which feed_parser_error() says why; entries already
 * handed over stay valid. UTF-8 is kept until the end, in case it must be read
 * again; a document pushed whole, in one call with last set, is not copied. */
int feed_parser_push(struct feed_parser *, const char *, size_t,
                     int last) FEEDS_WUR;

/* The one-line reason for the last error ("" when none). */
const char *feed_parser_error(const struct feed_parser *);
/* Borrowed; valid until feed_parser_free(). */
const struct feed_info *feed_parser_info(const struct feed_parser *);
size_t feed_parser_entries(const struct feed_parser *);
void feed_parser_free(struct feed_parser *);

#endif

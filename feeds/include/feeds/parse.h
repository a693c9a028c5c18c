/* feeds/parse.h - the streaming feed parser: bytes in any
 * encoding and chunking in, entries out. No I/O. */
#ifndef FEEDS_PARSE_H
#define FEEDS_PARSE_H

#include <stddef.h>

#include "feeds/buf.h"
#include "feeds/item.h"

/* max_bytes and max_depth fail the document (FEED_E_LIMIT); the other two
 * drop what is over them and read on, and struct feed_info counts what
 * they dropped (feed_parser_limits_note() says it in a line). */
struct feed_limits {
    size_t max_bytes;   /* whole document */
    size_t max_depth;   /* element nesting */
    size_t max_field;   /* one field: an entry with a longer one is not
                         * handed on; a longer field of the feed's own is
                         * dropped */
    size_t max_entries; /* entries handed on: the first ones in document
                         * order (the newest, in a feed); the rest are not */
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
 * handed over stay valid. Kept between calls: the first 4 KiB until the
 * encoding is known, the few bytes of a character or markup a chunk cut
 * short, and a JSON Feed until it is whole; nothing else. */
int feed_parser_push(struct feed_parser *, const char *, size_t,
                     int last) FEEDS_WUR;

/* The one-line reason for the last error ("" when none). */
const char *feed_parser_error(const struct feed_parser *);
/* Borrowed; valid until feed_parser_free(). */
const struct feed_info *feed_parser_info(const struct feed_parser *);
/* Entries handed to the callback so far. */
size_t feed_parser_entries(const struct feed_parser *);
/* What the limits dropped from the document so far (feed_info's
 * over_entries, big_entries, big_feed_fields), as one line for a log
 * into buf (always terminated when size > 0): "more than 10000 entries,
 * the first 10000 were taken", "2 entries skipped, a field over 2 MiB",
 * ... joined by "; ". 1 when something was dropped, else 0 (buf ""). */
int feed_parser_limits_note(const struct feed_parser *, char *buf, size_t size);
void feed_parser_free(struct feed_parser *);

#endif

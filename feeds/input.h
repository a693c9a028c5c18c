/* feeds/input.h - the byte layer under the parser (internal to feeds/):
 * finds a document's encoding and turns its bytes, chunk by chunk, into
 * clean UTF-8 that expat (or the JSON reader) can take whatever the
 * publisher sent. */
#ifndef FEEDS_INPUT_H
#define FEEDS_INPUT_H

#include <stddef.h>

struct feed_input;

/* Receives clean UTF-8: valid sequences only, no control characters XML
 * forbids, no BOM or white space before the first character. last != 0
 * on the final call (n may be 0 then). Return 0, or a negative FEED_E*
 * code to stop: feed_input_push() returns it. */
typedef int feed_input_fn(const char *utf8, size_t n, int last, void *arg);

/* charset is the HTTP Content-Type charset, or NULL. Which encoding wins
 * (RFC 7303 §3): a byte order mark, then charset, then the XML
 * declaration, then UTF-8. Names iconv does not know are read as UTF-8.
 * NULL when out of memory. */
struct feed_input *feed_input_new(const char *charset, feed_input_fn *fn,
                                  void *arg);

/* 0, or what fn returned, or FEED_E_NOMEM. */
int feed_input_push(struct feed_input *, const char *s, size_t n, int last);

/* The encoding the document is read in ("utf-8", "windows-1251", ...);
 * "" until the first bytes are seen. */
const char *feed_input_encoding(const struct feed_input *);

/* 1 once bytes that were not valid in that encoding were replaced. */
int feed_input_repaired(const struct feed_input *);

void feed_input_free(struct feed_input *);

/* 1 when s[0..n) is whole, valid UTF-8 (U+FFFE and U+FFFF excluded). */
int feed_utf8_valid(const char *s, size_t n);

#endif

/* feeds/input.h - the byte layer under the parser (internal to feeds/):
 * finds a document's encoding and turns its bytes, chunk by chunk, into
 * clean UTF-8 that expat (or the JSON reader) can take whatever the
 * publisher sent. */
#ifndef FEEDS_INPUT_H
#define FEEDS_INPUT_H

#include <stddef.h>

struct feed_input;

/* Receives UTF-8 with no BOM or white space before the first character:
 * clean (valid sequences only, no control characters XML forbids) once
 * careful (see feed_input_retry()), as it came before. last != 0
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

/* UTF-8 is handed on as it comes, on the hope that it is well-formed,
 * and kept. When the receiver finds it is not, and can_retry says 1,
 * the receiver starts over and calls retry: everything kept is handed on
 * again from the start, checked, cleaned and repaired, and so is all that
 * comes after. last as for the push that failed. A document pushed
 * whole in one call (last set) is not copied: the retry, if any, must
 * come before that push's caller reuses its buffer. */
int feed_input_can_retry(const struct feed_input *);
int feed_input_retry(struct feed_input *, int last);

/* The encoding the document is read in ("utf-8", "windows-1251", ...);
 * "" until the first bytes are seen. */
const char *feed_input_encoding(const struct feed_input *);

/* 1 once bytes that were not valid in that encoding were replaced. */
int feed_input_repaired(const struct feed_input *);

/* Readies in for another document, as feed_input_new() would, keeping
 * its buffers. 0 or FEED_E_NOMEM (then free in). */
int feed_input_reset(struct feed_input *, const char *charset);

void feed_input_free(struct feed_input *);

/* 1 when s[0..n) is whole, valid UTF-8 (U+FFFE and U+FFFF excluded). */
int feed_utf8_valid(const char *s, size_t n);

#endif

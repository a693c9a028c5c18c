/* feeds/input.h - the byte layer under the parser (internal to feeds/):
 * finds a document's encoding and turns its bytes, chunk by chunk, into
 * clean UTF-8 that expat (or the JSON reader) can take whatever the
 * publisher sent. It streams: besides the first bytes, held until the
 * encoding is known (encoding.h), it keeps only the few bytes of a token
 * that a chunk's end cut (repair.h). */
#ifndef FEEDS_INPUT_H
#define FEEDS_INPUT_H

#include <stddef.h>

struct feed_input;

/* Receives UTF-8 with no BOM or white space before the first character,
 * valid, with only characters XML allows, and repaired (repair.h). last
 * != 0 on the final call (n may be 0 then). Return 0, or a negative
 * FEED_E* code to stop: feed_input_push() returns it. */
typedef int feed_input_fn(const char *utf8, size_t n, int last, void *arg);

/* charset is the HTTP Content-Type charset, or NULL. Which encoding wins
 * (RFC 7303 §3): a byte order mark, then charset, then the XML
 * declaration, then UTF-8. Names iconv does not know are read as UTF-8.
 * NULL when out of memory. */
struct feed_input *feed_input_new(const char *charset, feed_input_fn *fn,
                                  void *arg);

/* Chunks may split anywhere. 0, or what fn returned, or FEED_E_NOMEM,
 * or FEED_E_INVAL when the conversion failed. */
int feed_input_push(struct feed_input *, const char *s, size_t n, int last);

/* The encoding the document is read in ("utf-8", "windows-1251", ...);
 * "" until the first bytes are seen. */
const char *feed_input_encoding(const struct feed_input *);

/* 1 once something was repaired or replaced. */
int feed_input_repaired(const struct feed_input *);

/* Readies in for another document, as feed_input_new() would, keeping
 * its buffers. 0 or FEED_E_NOMEM (then free in). */
int feed_input_reset(struct feed_input *, const char *charset);

void feed_input_free(struct feed_input *);

#endif

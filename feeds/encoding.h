/* feeds/encoding.h - which encoding a document is in, and its conversion
 * into UTF-8 (internal to feeds/). */
#ifndef FEEDS_ENCODING_H
#define FEEDS_ENCODING_H

#include <iconv.h>
#include <stddef.h>

#include "feeds/buf.h"

/* How many of a document's first bytes decide its encoding: the XML
 * declaration is at the start, but a document that declares nothing and
 * is not UTF-8 needs a sample for uchardet to guess from. */
#define ENCODING_SNIFF 4096

/* Picks the encoding of a document from charset, the HTTP Content-Type
 * charset (or NULL), and its first bytes b[0..n), of which the first
 * ENCODING_SNIFF only count (the same bytes are always read the same way,
 * whatever the chunks). Which wins (RFC 7303 §3): a byte order mark, then
 * charset, then the XML declaration, then UTF-8; a document that says
 * nothing and is not UTF-8 is guessed with uchardet. Labels map to the
 * supersets browsers use (ISO-8859-1 is WINDOWS-1252), and a single-byte
 * label over bytes that are plainly UTF-8 is overruled.
 * Writes iconv's name for the encoding into name[0..size), or "" for
 * UTF-8 (and ASCII); returns the length of a byte order mark to drop. */
size_t feed_encoding_choose(const char *charset, const unsigned char *b,
                            size_t n, char *name, size_t size);

/* Receives UTF-8; returns 0, or non-zero to stop. */
typedef int feed_encoding_fn(const char *utf8, size_t n, int last, void *arg);

/* A conversion into UTF-8 with iconv. */
struct feed_encoding_conv {
    iconv_t cd;
    struct feed_buf stage; /* a character cut by a chunk's end */
    int replaced;          /* a byte that meant nothing became U+FFFD */
};

/* 0, or -1 when iconv cannot convert from name (conv is then closed). */
int feed_encoding_conv_open(struct feed_encoding_conv *, const char *name);

/* Converts s[0..n) and hands the UTF-8 to fn, in pieces; a character cut
 * by the chunk's end waits for the next. A byte that means nothing in
 * the encoding becomes U+FFFD. Returns 0, FEED_E_NOMEM, FEED_E_INVAL
 * (iconv failed), or what fn returned. */
int feed_encoding_conv_push(struct feed_encoding_conv *, const char *s,
                            size_t n, int last, feed_encoding_fn *fn,
                            void *arg);

/* Closes conv; a no-op on one that is not open. */
void feed_encoding_conv_close(struct feed_encoding_conv *);

#endif

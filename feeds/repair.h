/* feeds/repair.h - the repairs the byte layer makes as a document streams
 * by, before expat sees it (internal to feeds/). What claims to be UTF-8
 * goes in, in chunks split anywhere; what comes out is valid UTF-8 with
 * only characters XML allows, and the slips publishers make that expat
 * refuses are mended:
 *
 *   - a byte that is not valid UTF-8 is read as windows-1252;
 *   - a character XML forbids (a control character, U+FFFE) is a space;
 *   - a bare '&' is "&amp;", "&#X41;" is "&#x41;", and a reference to a
 *     character XML forbids ("&#x1a;") is a space;
 *   - an XML declaration that does not come first is blanked out;
 *   - white space and byte order marks before the first character go;
 *   - an end tag closes up to the open element it names: the end tags of
 *     the elements opened inside that one are put before it ("<p>a<br>b
 *     </p>" reads "<p>a<br>b</br></p>"), and an end tag that names no
 *     open element is dropped ("</b>" after "<i>x" goes).
 *
 * The open elements are followed in tags.h's bounded stack, where names
 * are compared as XML does (byte for byte: "</P>" does not close "<p>").
 * Past its bounds nothing is repaired: an end tag whose element is not
 * known for sure passes as it is, and closes the innermost (expat judges
 * it, as it would without the repair).
 *
 * CDATA sections, comments and processing instructions are left alone,
 * and so are a DOCTYPE's declarations. A document whose first character
 * is '{' is JSON: it gets the character repairs only. Only the bytes of a
 * token cut by a chunk's end wait for the next chunk (at most
 * REPAIR_HOLD, a tag's up to the end of its name); where the lexer
 * stands (in a tag, a quoted value, an end tag being dropped) and the open
 * elements are carried over in the state below, nothing else is kept. */
#ifndef FEEDS_REPAIR_H
#define FEEDS_REPAIR_H

#include <stddef.h>

#include "feeds/buf.h"
#include "tags.h"

#define REPAIR_HOLD 64
#define REPAIR_JOIN 256

/* Receives the repaired text. last != 0 on the final call (n may be 0
 * then). Return 0, or non-zero to stop: feed_repair_push() returns it. */
typedef int feed_repair_fn(const char *s, size_t n, int last, void *arg);

/* The state of one document; the fields are repair.c's. */
struct feed_repair {
    int lex;          /* where the lexer stands */
    int blank;        /* blanking out a misplaced XML declaration */
    int begun;        /* a character after the first was passed */
    int repaired;     /* something was changed */
    int ret;          /* the state a quoted value or a comment returns to */
    int drop;         /* dropping the rest of an end tag */
    unsigned bracket; /* '[' open in a DOCTYPE */
    size_t dropped;   /* end tags that named no open element */
    size_t closed;    /* end tags put in */
    struct feed_tags tags; /* the open elements */
    unsigned char hold[REPAIR_HOLD];
    size_t nhold;
    unsigned char join[REPAIR_HOLD + REPAIR_JOIN];
    struct feed_buf out; /* the text of one chunk, when it changed */
};

void feed_repair_init(struct feed_repair *);

/* Readies r for another document, keeping its buffer. */
void feed_repair_reset(struct feed_repair *);

void feed_repair_free(struct feed_repair *);

/* Repairs s[0..n) and hands what is settled to fn: the chunk itself when
 * nothing changed, else a repaired copy (so fn gets at most a few times
 * n bytes plus REPAIR_HOLD). fn is not called before the document's
 * first character, except once with n == 0 when last comes first.
 * Returns 0, FEED_E_NOMEM, or what fn returned. */
int feed_repair_push(struct feed_repair *, const char *s, size_t n, int last,
                     feed_repair_fn *fn, void *arg);

#endif

/* feeds/tags.h - the open elements of a document, as the byte layer's
 * repairs (repair.h) follow them (internal to feeds/): a bounded stack of
 * their qualified names, so that an end tag can be told what it closes.
 *
 * Names are compared as XML does: byte for byte, so "</P>" does not
 * close "<p>". At most TAGS_DEPTH elements are kept (the parser's default
 * max_depth; it refuses deeper documents anyway), with names of up to
 * TAGS_NAME bytes, TAGS_NAMES bytes of names in all. Past those bounds an
 * element is only counted: one nested deeper than TAGS_DEPTH is "over";
 * one whose name is longer, or does not fit, or is not valid UTF-8, is
 * kept without its name. What an end tag closes is then sometimes not
 * known, and feed_tags_close() says so. Nothing is allocated. */
#ifndef FEEDS_TAGS_H
#define FEEDS_TAGS_H

#include <stddef.h>
#include <stdint.h>

#define TAGS_DEPTH 128
#define TAGS_NAME 56
#define TAGS_NAMES 4096
#define TAGS_FILTER 1024
#define TAGS_UNKNOWN ((size_t)-1)

/* One open element: its name is names[off..off + len), or it has none
 * (len 0): a name longer than TAGS_NAME, or (unsure) a shorter one that
 * had no room or was not valid UTF-8. */
struct feed_tag {
    uint32_t hash;
    uint16_t off;
    uint8_t len;
    uint8_t unsure;
};

/* All zero is empty. The fields are tags.c's (tests read them). */
struct feed_tags {
    size_t depth;    /* elements open[0..depth) */
    size_t over;     /* elements open beyond TAGS_DEPTH */
    size_t nameless; /* of open[], those with no name */
    size_t unsure;   /* of those, the ones whose name was short */
    size_t nnames;   /* bytes of names[] in use */
    struct feed_tag open[TAGS_DEPTH];
    /* How many of open[] have a name whose hash ends in each value. */
    uint8_t filter[TAGS_FILTER];
    char names[TAGS_NAMES];
};

/* Internal to feed_tags_name_start(): 1 for a byte that may start a
 * name (and continue it), 2 for one that may only continue it. */
extern const unsigned char feed_tags_class_[256];

/* 1 when the byte c may start an XML name. Every byte from 0x80 on may:
 * a name's characters are checked when it is kept. */
static inline int
feed_tags_name_start(unsigned char c)
{
    return feed_tags_class_[c] == 1;
}

/* The length of the name that starts s[0..n) (s[0] may start one),
 * TAGS_NAME + 1 when it is longer than TAGS_NAME, or -1 when n ends
 * before that is known (never when last). *hash is the hash of what was
 * read of it; *high is nonzero when that holds a byte from 0x80 on. */
int feed_tags_name(const unsigned char *s, size_t n, int last, uint32_t *hash,
                   unsigned *high);

/* An element named s[0..n) opens; n and hash are feed_tags_name()'s. */
void feed_tags_push(struct feed_tags *, const unsigned char *s, size_t n,
                    uint32_t hash);

/* The innermost open element closes (none open: nothing happens). */
void feed_tags_pop(struct feed_tags *);

/* The length of the innermost element's name when s[0..n) starts with it
 * and a byte that ends a name follows; else 0. The common end tag. */
size_t feed_tags_is_top(const struct feed_tags *, const unsigned char *s,
                        size_t n);

/* What an end tag naming s[0..n) (n and hash as from feed_tags_name())
 * closes: k > 0, the k innermost elements (k - 1 of them left open
 * inside the one it names); 0, none (no open element has that name); or
 * TAGS_UNKNOWN, when an element without a name may be the one it names
 * (then it should close the innermost). No more than a compare of hash
 * and length for each open element, only when the filter errs. */
size_t feed_tags_close(const struct feed_tags *, const unsigned char *s,
                       size_t n, uint32_t hash);

#endif

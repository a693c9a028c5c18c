/* feeds/write.h - the output writers. */
#ifndef FEEDS_WRITE_H
#define FEEDS_WRITE_H

#include <stddef.h>

#include "feeds/buf.h"
#include "feeds/item.h"

struct feed_meta {
    const char *title;    /* the merged feed's title */
    const char *self_url; /* where readers fetch it, or NULL */
    const char *id;       /* its atom:id (a URI) */
    int64_t updated;
};

/* A whole Atom 1.0 document (RFC 4287) holding items[0..n), in the order
 * given, appended to out. */
int feed_write_atom(struct feed_buf *out, const struct feed_meta *,
                    const struct feed_item *items, size_t n) FEEDS_WUR;

#endif

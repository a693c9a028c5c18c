/* feeds/write_int.h - what the output writers (write.c, write_rss.c,
 * write_json.c) share. */
#ifndef FEEDS_WRITE_INT_H
#define FEEDS_WRITE_INT_H

#include <stdint.h>

#include "feeds/buf.h"
#include "feeds/item.h"

/* indent<name attrs>text</name> and a newline, text escaped; nothing when
 * text is NULL. 0 or the buffer's error. */
int feed_xml_elem(struct feed_buf *out, const char *indent, const char *name,
                  const char *attrs, const char *text);

/* indent<name>url</name> and a newline, url as an IRI (feed_buf_iri());
 * nothing when url is NULL. 0 or the buffer's error. */
int feed_xml_iri(struct feed_buf *out, const char *indent, const char *name,
                 const char *url);

/* indent<name>RFC 3339 date</name>; nothing for FEED_TIME_NONE. */
int feed_xml_date(struct feed_buf *out, const char *indent, const char *name,
                  int64_t t);

/* indent<link rel="rel" href="href"/> (Atom's); nothing when href is
 * NULL. */
int feed_xml_link(struct feed_buf *out, const char *indent, const char *rel,
                  const char *href);

/* The RFC 5005 links of m (current, prev-archive, next-archive), each
 * as indent<NAME rel="REL"TYPE href="URL"/> where NAME is "link" or
 * "atom:link" and TYPE, when not NULL, adds type="TYPE"; then
 * <fh:archive/> when m->archive. 0 or the buffer's error. */
struct feed_meta;
int feed_xml_history(struct feed_buf *out, const char *indent, const char *name,
                     const char *type, const struct feed_meta *m);
/* The namespace declaration of <fh:archive/>, with a space before it:
 * for the root element of an archive document. */
#define FEED_FH_XMLNS " xmlns:fh=\"http://purl.org/syndication/history/1.0\""

/* 1 for an absolute http(s) URL: the only links worth a reader's click
 * (an entry whose "link" is its urn:uuid id has none). */
int feed_web_url(const char *s);

/* When the item last changed: its own updated date, else its date; an
 * edit feedd stored later moves it on. */
int64_t feed_item_updated(const struct feed_item *it);

#endif

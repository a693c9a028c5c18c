/* feeds/write.h - the merged output writers: Atom 1.0, RSS 2.0, JSON Feed
 * 1.1. Each writes items in the order given; text is escaped for its
 * format, HTML fields are written as they are given (sanitizing them is
 * the caller's). */
#ifndef FEEDS_WRITE_H
#define FEEDS_WRITE_H

#include <stddef.h>

#include "feeds/buf.h"
#include "feeds/item.h"

struct feed_meta {
    const char *title;    /* the merged feed's title */
    const char *self_url; /* where readers fetch this document, or NULL */
    const char *id;       /* its atom:id (a URI) */
    int64_t updated;
    const char *home_url; /* the page it stands for (the river), or NULL */
    /* RFC 5005 (Feed Paging and Archiving), each NULL when there is none:
     * the subscription document (in an archive document), and the
     * archive documents just older and just newer than this one. */
    const char *current_url;
    const char *prev_archive;
    const char *next_archive;
    int archive; /* 1: an archive document, marked <fh:archive/> */
    /* The HTML page's links to its documents in other formats:
     * STEM.atom, STEM.rss and STEM.json, relative ("feed" when NULL);
     * and to the feed list (relative "feeds.opml" when NULL). */
    const char *stem;
    const char *opml_url;
    /* 1: each item's summary and content are feed_sanitize_html()'s
     * output already, and the HTML page takes them as they are. */
    int sanitized;
};

/* A whole Atom 1.0 document (RFC 4287) holding items[0..n), in the order
 * given, appended to out; with the RFC 5005 links (rel="current",
 * "prev-archive", "next-archive") that m has, and <fh:archive/> when
 * m->archive. */
int feed_write_atom(struct feed_buf *out, const struct feed_meta *,
                    const struct feed_item *items, size_t n) FEEDS_WUR;

/* A whole RSS 2.0 document holding items[0..n), appended to out: the
 * channel's link is home_url (else self_url), atom:link rel="self" is
 * self_url; each item's guid is its stable ID (not a permalink), its
 * author a dc:creator, its source the feed that carried it. The RFC 5005
 * links and marker as in feed_write_atom(), as atom:link and
 * <fh:archive/> in the channel. */
int feed_write_rss(struct feed_buf *out, const struct feed_meta *,
                   const struct feed_item *items, size_t n) FEEDS_WUR;

/* A whole JSON Feed 1.1 document holding items[0..n), appended to out:
 * feed_url is self_url, home_page_url is home_url; each item's id is its
 * stable ID, content_html its content (else summary); "_feedd" names the
 * feeds that carried it. next_url, the older entries, is prev_archive. */
int feed_write_json(struct feed_buf *out, const struct feed_meta *,
                    const struct feed_item *items, size_t n) FEEDS_WUR;

/* A whole HTML5 page to read items[0..n) in (a river: title, source,
 * time, summary), appended to out; its links to STEM.atom, STEM.rss and
 * STEM.json are relative (m->stem), and so is the one to feeds.opml (the
 * feed list) unless m->opml_url says otherwise. Each summary (else
 * content) is sanitized here (feeds/sanitize.h), as the page is what a
 * browser runs, unless m->sanitized says the caller did. */
int feed_write_html(struct feed_buf *out, const struct feed_meta *,
                    const struct feed_item *items, size_t n) FEEDS_WUR;

#endif

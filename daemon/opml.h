/* daemon/opml.h - OPML subscription lists: reading OPML 1.0 and 2.0 (the
 * outlines with an xmlUrl are feeds; the outlines around them give their
 * tags) and writing OPML 2.0 from the config. */
#ifndef FEEDD_OPML_H
#define FEEDD_OPML_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "feeds/buf.h"

struct opml_feed {
    char *title;    /* the outline's title, else its text; NULL when neither */
    char *url;      /* its xmlUrl */
    char *interval; /* feedd's own interval attribute, as written, or NULL */
    /* The text (else title) of each enclosing outline, outermost first,
     * then each entry of its category attribute ("/a/b,/c": "a/b", "c"),
     * as written, repeats included. */
    char **tags;
    size_t ntags;
};

struct opml_list {
    struct opml_feed *feeds;
    size_t n, cap;
};

/* Reads the OPML file at path into *list (zeroed first; free it with
 * opml_list_free(), even on failure). 0, or -1 with one line in err: the
 * file cannot be read, is not XML ("FILE:LINE: message"), or is not OPML
 * (its root is not <opml>). */
int opml_read(const char *path, struct opml_list *list, char *err,
              size_t errlen);

void opml_list_free(struct opml_list *);

/* The feeds of cfg as an OPML 2.0 document appended to out: a head with
 * the config's title and the time now (dateCreated), then one outline per
 * feed (type="rss", text and title its name, xmlUrl its location, and
 * feedd:interval, in the namespace urn:feedd:opml, when its interval is
 * not the config's). A
 * feed without tags stands in the body; one with tags stands once, in the
 * outline of its first tag, and when it has more than one all of them are
 * in its category attribute ("/a,/b"), so that opml_read() gives each
 * feed back with every tag. 0, or FEED_E_NOMEM. */
int opml_write(const struct config *cfg, struct feed_buf *out);

/* opml_write() with created (seconds since the epoch) as dateCreated, or
 * without one when created is negative: the same config, the same bytes. */
int opml_write_at(const struct config *cfg, int64_t created,
                  struct feed_buf *out);

#endif

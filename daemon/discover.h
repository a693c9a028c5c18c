/* daemon/discover.h - the feeds a web page names in its head: <link
 * rel="alternate" type="application/rss+xml|atom+xml|feed+json" href>,
 * read with an HTML parser (gumbo), as browsers and feed readers find
 * them. */
#ifndef FEEDD_DISCOVER_H
#define FEEDD_DISCOVER_H

#include <stddef.h>

/* The hrefs of the feed links in html[0..len) (its first MiB
 * and 4096 tags), in document order, each
 * resolved against the page's <base href> when it has one, else against
 * page_url (the URL the page came from after redirects). Links that do
 * not resolve to an http(s) URL (or a file:// one, on a file:// page) are
 * left out, and so are repeats; the first 64 are kept. 0 with *urls (NULL
 * when none; the caller frees it with discover_free()) and *n, or -1 when
 * out of memory. */
int discover_feeds(const char *html, size_t len, const char *page_url,
                   char ***urls, size_t *n);

void discover_free(char **urls, size_t n);

#endif

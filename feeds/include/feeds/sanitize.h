/* feeds/sanitize.h - HTML from feeds made safe to show in a reader or a
 * browser: parsed as an HTML5 fragment and written back with only the
 * elements, attributes and URL schemes of an allow-list (sanitize.c
 * lists them). No scripts, event handlers, styles, frames, forms,
 * objects, javascript: or data: URLs (but raster images) survive it. */
#ifndef FEEDS_SANITIZE_H
#define FEEDS_SANITIZE_H

#include <stddef.h>

#include "feeds/buf.h"

/* Appends to out the safe form of the len bytes of HTML at html (UTF-8;
 * invalid bytes become U+FFFD). 0, or the buffer's error (FEED_E_TOOBIG
 * when over its cap, -ENOMEM). Linear in len. */
int feed_sanitize_html(struct feed_buf *out, const char *html,
                       size_t len) FEEDS_WUR;

/* 1 when the URL v may stay: relative, or http, https, mailto (not for an
 * image), or a data: URL of a PNG, GIF, JPEG or WebP image (only for
 * one); read as browsers read it (leading spaces and controls skipped,
 * tabs and newlines dropped, the scheme's case folded). */
int feed_sanitize_url(const char *v, int image);

#endif

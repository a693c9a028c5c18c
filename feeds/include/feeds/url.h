/* feeds/url.h - URL resolution and comparison keys. */
#ifndef FEEDS_URL_H
#define FEEDS_URL_H

#include "feeds/buf.h"

/* ref resolved against base (RFC 3986 §5.2), appended to out. A ref that
 * is already absolute is appended as it is. FEED_E_INVAL when base is not
 * absolute and ref is relative. */
int feed_url_resolve(const char *base, const char *ref,
                     struct feed_buf *out) FEEDS_WUR;

/* The comparison key of an http(s) URL, appended to out: scheme folded
 * (http = https, so "//" + rest), host lower-cased, default port and
 * fragment dropped, tracking parameters (utm_*, fbclid, ...) dropped, the
 * other parameters sorted. FEED_E_INVAL when url is not http(s). */
int feed_url_key(const char *url, struct feed_buf *out) FEEDS_WUR;

#endif

/* feeds/url.h - URL resolution and comparison keys. */
#ifndef FEEDS_URL_H
#define FEEDS_URL_H

#include "feeds/buf.h"

/* ref resolved against base (RFC 3986 §5.2), appended to out. A ref that
 * is already absolute is appended as it is. FEED_E_INVAL when base is not
 * absolute and ref is relative; FEED_E_NOMEM, FEED_E_TOOBIG (out's cap).
 * On failure part of the result may have been appended. */
int feed_url_resolve(const char *base, const char *ref,
                     struct feed_buf *out) FEEDS_WUR;

/* A base URL split once, to resolve many references against it (the
 * links of one HTML field): each in time proportional to the reference
 * and its result, however long the base. base is copied; it may be NULL
 * or not absolute (then only absolute references resolve). Free it with
 * feed_url_base_free(). NULL when out of memory. */
struct feed_url_base;
struct feed_url_base *feed_url_base_new(const char *base);
void feed_url_base_free(struct feed_url_base *);
/* As feed_url_resolve(), against b. */
int feed_url_base_resolve(struct feed_url_base *b, const char *ref,
                          struct feed_buf *out) FEEDS_WUR;
/* *cache, made of base when it is NULL or made of another (the links of
 * one document share a base or a few, split once): *cache, or NULL when
 * out of memory. Free *cache with feed_url_base_free(). */
struct feed_url_base *feed_url_base_cached(struct feed_url_base **cache,
                                           const char *base);
/* As feed_url_resolve(), against feed_url_base_cached(cache, base). */
int feed_url_resolve_cached(struct feed_url_base **cache, const char *base,
                            const char *ref, struct feed_buf *out) FEEDS_WUR;

/* The comparison key of an http(s) URL, appended to out: scheme folded
 * (http = https, so "//" + rest), host lower-cased, default port and
 * fragment dropped, tracking parameters (utm_*, fbclid, ...) dropped, the
 * other parameters sorted. FEED_E_INVAL when url is not http(s). */
int feed_url_key(const char *url, struct feed_buf *out) FEEDS_WUR;

#endif

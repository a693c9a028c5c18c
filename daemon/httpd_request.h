/* daemon/httpd_request.h - the parts of a request httpd.c reads itself:
 * its target's path and the values of If-None-Match and Accept-Encoding.
 * Private to the server; no I/O, no allocation, each pass linear. */
#ifndef HTTPD_REQUEST_H
#define HTTPD_REQUEST_H

#include <stddef.h>

/* The path of the request target t, percent-decoded, without query or
 * fragment, into out (cap bytes; out may be t itself, the path never
 * being longer than its target). 0, or -1 when it is not a usable target
 * (a bad or NUL escape, too long, another scheme). Both origin-form and
 * absolute-form are accepted (RFC 9112 §3.2). */
int httpd_target_path(const char *t, char *out, size_t cap);

/* Whether the If-None-Match list matches etag (quotes included), by the
 * weak comparison RFC 9110 §13.1.2 asks for: a W/ prefix is ignored. "*"
 * matches any document. A malformed list matches nothing from the fault
 * on. */
int httpd_etag_match(const char *list, const char *etag);

/* Whether an Accept-Encoding value accepts gzip (RFC 9110 §12.5.3):
 * "gzip" or "x-gzip" with a qvalue above 0, or else "*" with one. A
 * coding listed with q=0 is refused even when "*" would take it. */
int httpd_accepts_gzip(const char *value);

#endif

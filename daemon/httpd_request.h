/* daemon/httpd_request.h - the request head as httpd.c reads it (RFC 7230
 * §3): where it ends, its request line and fields, its target's path and
 * If-None-Match lists. Private to the server; no I/O, no allocation. */
#ifndef HTTPD_REQUEST_H
#define HTTPD_REQUEST_H

#include <stddef.h>

#define HTTPD_MAX_HEADERS 100

struct httpd_header {
    const char *name;
    const char *value;
};

/* Points into the buffer httpd_request_parse() split. */
struct httpd_request {
    const char *method;
    const char *target;
    int minor; /* HTTP/1.minor */
    size_t nheaders;
    struct httpd_header headers[HTTPD_MAX_HEADERS];
};

/* Offset just past the empty line that ends the header block in p[0..len),
 * or 0 when it has not arrived yet. Called again as more bytes arrive, the
 * search resumes near from (the len of the previous call). *lead, 0 before
 * the first call, keeps how far the empty lines before the request line
 * reach: they do not count (RFC 7230 §3.5), nor does a bare LF stand for
 * less than CRLF. */
size_t httpd_header_end(const char *p, size_t from, size_t len, size_t *lead);

/* Splits the header block p[0..end) in place into r; *end must be
 * writable. 0, or the status to answer with: 400 for bad syntax (a NUL or
 * a bare CR included, obs-fold too), 431 for more than HTTPD_MAX_HEADERS
 * fields, 505 for a major version other than 1. */
int httpd_request_parse(char *p, char *end, struct httpd_request *r);

/* The path of the request target t, percent-decoded, without query or
 * fragment, into out (cap bytes). 0, or -1 when it is not a usable target
 * (a bad or NUL escape, too long, another scheme). Both origin-form and
 * absolute-form are accepted (RFC 7230 §5.3). */
int httpd_target_path(const char *t, char *out, size_t cap);

/* How many fields of r are called name (case-insensitive). */
size_t httpd_header_count(const struct httpd_request *r, const char *name);

/* Whether the If-None-Match list matches etag (quotes included), by the
 * weak comparison RFC 7232 §3.2 asks for: a W/ prefix is ignored. "*"
 * matches any document. A malformed list matches nothing from the fault
 * on. */
int httpd_etag_match(const char *list, const char *etag);

#endif

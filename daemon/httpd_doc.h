/* daemon/httpd_doc.h - one document the server serves (httpd.c): its
 * bytes, a gzip copy, validators, and the two libmicrohttpd responses
 * (identity and gzip) that point at them. Private to the server.
 *
 * Immutable once made. Its memory goes with the last of its responses:
 * httpd_doc_drop() lets go of them, and libmicrohttpd frees a response
 * once no connection is writing it, so a reader still being served keeps
 * the bytes it reads. */
#ifndef HTTPD_DOC_H
#define HTTPD_DOC_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "feeds/date.h"
#include "feeds/id.h"

#define HTTPD_CACHE_CONTROL "max-age=60"
#define HTTPD_ETAG_LEN (FEED_ID_LEN + 5) /* '"', hex, "-gz", '"' */

struct httpd_doc {
    struct httpd_doc *next; /* in its bucket */
    unsigned refs;          /* under h->lock: the table's, and requests' */
    atomic_int holders;     /* responses alive, and the builder while it is */
    struct MHD_Response *resp;    /* identity */
    struct MHD_Response *resp_gz; /* gzip, NULL when not smaller */
    int64_t mtime;
    const char *path;
    const char *content_type;
    const char *data;
    size_t len;
    const char *gz;
    size_t gz_len;
    char etag[HTTPD_ETAG_LEN + 1];
    char etag_gz[HTTPD_ETAG_LEN + 1];
    char last_modified[FEED_HTTPDATE_LEN + 1];
    /* path, content type, data and gzip copy follow in the same block */
};

/* A new document: path, content_type and data[0..len) copied, the gzip
 * copy made when smaller, refs 1. NULL for want of memory. */
struct httpd_doc *httpd_doc_new(const char *path, const char *content_type,
                                const void *data, size_t len, int64_t mtime);

/* Whether doc holds content_type and data[0..len) already. */
int httpd_doc_same(const struct httpd_doc *doc, const char *content_type,
                   const void *data, size_t len);

/* data[0..len) gzip-compressed at zlib's level (1 fastest to 9 smallest,
 * or Z_DEFAULT_COMPRESSION) into a new block the caller frees, its length
 * in *out_len; NULL when that fails or is not smaller. */
unsigned char *httpd_gzip(const void *data, size_t len, int level,
                          size_t *out_len);

/* A short plain-text answer kept for the server's life (body is a
 * literal): text/plain, no-store, and the header given (NULL: none).
 * NULL when libmicrohttpd cannot make it. */
struct MHD_Response *httpd_canned(const char *body, const char *header,
                                  const char *value);

/* Lets go of doc's responses, once no one looks it up any more (refs 0):
 * its memory is freed when libmicrohttpd is done with them. */
void httpd_doc_drop(struct httpd_doc *doc);

#endif

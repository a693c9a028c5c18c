/* daemon/httpd_doc.c - one document the server serves (see httpd_doc.h):
 * made on the loop, read by libmicrohttpd's thread, never changed. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "httpd_doc.h"

/* libmicrohttpd's free callback of a document's responses, and the
 * builder's end: the last one frees the block. */
static void
httpd_doc_unhold(void *arg)
{
    struct httpd_doc *doc = arg;

    if (atomic_fetch_sub(&doc->holders, 1) == 1)
        free(doc);
}

/* t as an IMF-fixdate (RFC 9110 §5.6.7), clamped to the years 1970 to
 * 9999: the format has four year digits. */
static void
httpd_date(int64_t t, char out[FEED_HTTPDATE_LEN + 1])
{
    if (t < 0)
        t = 0;
    if (t > INT64_C(253402300799)) /* 9999-12-31T23:59:59Z */
        t = INT64_C(253402300799);
    feed_date_format_http(t, out);
}

unsigned char *
httpd_gzip(const void *data, size_t len, int level, size_t *out_len)
{
    z_stream z;
    unsigned char *out;
    uLong bound;

    if (len == 0 || len > UINT32_MAX / 2)
        return NULL;
    memset(&z, 0, sizeof(z));
    /* 15 + 16: a gzip header and trailer around deflate. */
    if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK)
        return NULL;
    bound = deflateBound(&z, (uLong)len);
    if ((out = malloc(bound)) == NULL) {
        deflateEnd(&z);
        return NULL;
    }
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)bound;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END || z.total_out >= len) {
        deflateEnd(&z);
        free(out);
        return NULL;
    }
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* A response over bytes of doc, with its headers; NULL for want of
 * memory. */
static struct MHD_Response *
httpd_doc_response(struct httpd_doc *doc, const char *bytes, size_t len,
                   const char *etag, int gzip)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer_with_free_callback_cls(
        len, (void *)(uintptr_t)bytes, httpd_doc_unhold, doc);
    if (r == NULL)
        return NULL;
    atomic_fetch_add(&doc->holders, 1);
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                doc->content_type) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED,
                                doc->last_modified) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                HTTPD_CACHE_CONTROL) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") !=
            MHD_YES ||
        (gzip && MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING,
                                         "gzip") != MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

struct httpd_doc *
httpd_doc_new(const char *path, const char *content_type, const void *data,
              size_t len, int64_t mtime)
{
    struct httpd_doc *doc;
    unsigned char *gz;
    size_t plen = strlen(path) + 1, clen = strlen(content_type) + 1;
    size_t gz_len = 0;
    uint64_t hash = UINT64_C(0xcbf29ce484222325);
    char *p;

    gz = httpd_gzip(data, len, Z_DEFAULT_COMPRESSION, &gz_len);
    if (len > SIZE_MAX - sizeof(*doc) - plen - clen - gz_len ||
        (doc = calloc(1, sizeof(*doc) + plen + clen + len + gz_len)) == NULL) {
        free(gz);
        return NULL;
    }
    p = (char *)(doc + 1);
    doc->path = memcpy(p, path, plen);
    p += plen;
    doc->content_type = memcpy(p, content_type, clen);
    p += clen;
    if (len > 0)
        memcpy(p, data, len);
    doc->data = p;
    doc->len = len;
    p += len;
    if (gz != NULL) {
        memcpy(p, gz, gz_len);
        doc->gz = p;
        doc->gz_len = gz_len;
        free(gz);
    }
    doc->mtime = mtime;
    doc->refs = 1;
    atomic_init(&doc->holders, 1);     /* the builder's, until the end here */
    for (size_t i = 0; i < len; i++) { /* 64-bit FNV-1a */
        hash ^= (unsigned char)doc->data[i];
        hash *= UINT64_C(0x100000001b3);
    }
    doc->etag[0] = '"';
    feed_id_format(hash, doc->etag + 1);
    snprintf(doc->etag_gz, sizeof(doc->etag_gz), "%.*s-gz\"", FEED_ID_LEN + 1,
             doc->etag);
    doc->etag[FEED_ID_LEN + 1] = '"';
    doc->etag[FEED_ID_LEN + 2] = '\0';
    httpd_date(mtime, doc->last_modified);

    doc->resp = httpd_doc_response(doc, doc->data, len, doc->etag, 0);
    if (doc->resp != NULL && doc->gz != NULL) {
        doc->resp_gz =
            httpd_doc_response(doc, doc->gz, doc->gz_len, doc->etag_gz, 1);
        if (doc->resp_gz == NULL) {
            MHD_destroy_response(doc->resp);
            doc->resp = NULL;
        }
    }
    if (doc->resp == NULL) {
        httpd_doc_unhold(doc);
        return NULL;
    }
    httpd_doc_unhold(doc); /* the responses hold it now */
    return doc;
}

int
httpd_doc_same(const struct httpd_doc *doc, const char *content_type,
               const void *data, size_t len)
{
    return doc->len == len && strcmp(doc->content_type, content_type) == 0 &&
           (len == 0 || memcmp(doc->data, data, len) == 0);
}

void
httpd_doc_drop(struct httpd_doc *doc)
{
    if (doc->resp_gz != NULL)
        MHD_destroy_response(doc->resp_gz);
    MHD_destroy_response(doc->resp);
}

struct MHD_Response *
httpd_canned(const char *body, const char *header, const char *value)
{
    struct MHD_Response *r;

    r = MHD_create_response_from_buffer(strlen(body), (void *)(uintptr_t)body,
                                        MHD_RESPMEM_PERSISTENT);
    if (r == NULL)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "text/plain; charset=utf-8") != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") !=
            MHD_YES ||
        (header != NULL &&
         MHD_add_response_header(r, header, value) != MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* daemon/httpd_file.h - documents the server reads from a file at each
 * request instead of keeping them in memory (httpd_set_file()): those
 * that grow with the feeds, such as the feed list. Private to the server
 * (httpd.c). */
#ifndef HTTPD_FILE_H
#define HTTPD_FILE_H

#include <microhttpd.h>

/* One path served from a file; a list, under the server's lock. */
struct httpd_file {
    struct httpd_file *next;
    char *path;
    char *content_type;
    char *filename;
};

/* A new entry (strings copied), or NULL for want of memory. */
struct httpd_file *httpd_file_new(const char *path, const char *content_type,
                                  const char *filename);
void httpd_file_free(struct httpd_file *);

/* The response to a GET or HEAD of the file filename: 200 with its bytes
 * as they are now (a file replaced by rename is read whole, old or new),
 * or 304 when inm (an If-None-Match field, or NULL) matches its ETag or
 * ims (an If-Modified-Since time, or FEED_TIME_NONE) is not before its
 * mtime. ETag from its size, mtime (to the nanosecond) and inode,
 * Last-Modified its mtime. When gzip
 * is set (the client takes it) and filename.gz, its compressed copy, is
 * there and no older, that is sent (Content-Encoding: gzip, an ETag of
 * its own); "Vary: Accept-Encoding" either way. *status is set; NULL
 * when the file cannot be opened (404). */
struct MHD_Response *httpd_file_response(const char *filename,
                                         const char *content_type,
                                         const char *inm, int64_t ims, int gzip,
                                         unsigned *status);

#endif

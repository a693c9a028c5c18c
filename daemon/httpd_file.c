/* daemon/httpd_file.c - documents served from a file (httpd_file.h). */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feeds/date.h"
#include "httpd_doc.h"
#include "httpd_file.h"
#include "httpd_request.h"

struct httpd_file *
httpd_file_new(const char *path, const char *content_type, const char *filename)
{
    struct httpd_file *f = calloc(1, sizeof(*f));

    if (f == NULL || (f->path = strdup(path)) == NULL ||
        (f->content_type = strdup(content_type)) == NULL ||
        (f->filename = strdup(filename)) == NULL) {
        httpd_file_free(f);
        return NULL;
    }
    return f;
}

void
httpd_file_free(struct httpd_file *f)
{
    if (f == NULL)
        return;
    free(f->path);
    free(f->content_type);
    free(f->filename);
    free(f);
}

/* filename.gz when it is a regular file no older than the file st
 * describes: open, its size in *size; else -1. */
static int
gz_open(const char *filename, const struct stat *st, uint64_t *size)
{
    char gz[4096 + 4];
    struct stat zs;
    int fd;

    snprintf(gz, sizeof(gz), "%s.gz", filename);
    if ((fd = open(gz, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    if (fstat(fd, &zs) != 0 || !S_ISREG(zs.st_mode) ||
        zs.st_mtim.tv_sec < st->st_mtim.tv_sec ||
        (zs.st_mtim.tv_sec == st->st_mtim.tv_sec &&
         zs.st_mtim.tv_nsec < st->st_mtim.tv_nsec)) {
        close(fd);
        return -1;
    }
    *size = (uint64_t)zs.st_size;
    return fd;
}

struct MHD_Response *
httpd_file_response(const char *filename, const char *content_type,
                    const char *inm, int64_t ims, int gzip, unsigned *status)
{
    char etag[96], date[FEED_HTTPDATE_LEN + 1];
    struct MHD_Response *r;
    struct stat st;
    uint64_t size;
    int fd, zfd = -1, fresh;

    if ((fd = open(filename, O_RDONLY | O_CLOEXEC)) < 0)
        return NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return NULL;
    }
    size = (uint64_t)st.st_size;
    if (gzip && (zfd = gz_open(filename, &st, &size)) >= 0) {
        close(fd);
        fd = zfd;
    }
    /* The compressed copy is another representation: another ETag. A
     * file replaced within a second by one of the same size has another
     * mtime to the nanosecond, or another inode (a rename). */
    snprintf(etag, sizeof(etag),
             "\"%" PRIx64 "-%" PRIx64 ".%lx-%" PRIx64 "%s\"",
             (uint64_t)st.st_size, (uint64_t)st.st_mtime,
             (unsigned long)st.st_mtim.tv_nsec, (uint64_t)st.st_ino,
             zfd >= 0 ? "-gz" : "");
    feed_date_format_http((int64_t)st.st_mtime, date);
    /* RFC 9110 §13.2.2: If-None-Match when present, else
     * If-Modified-Since. */
    fresh = inm != NULL ? httpd_etag_match(inm, etag)
                        : ims != FEED_TIME_NONE && (int64_t)st.st_mtime <= ims;
    if (fresh) {
        close(fd);
        r = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
        *status = MHD_HTTP_NOT_MODIFIED;
    } else {
        /* libmicrohttpd closes fd with the response. */
        r = MHD_create_response_from_fd(size, fd);
        if (r == NULL)
            close(fd);
        *status = MHD_HTTP_OK;
    }
    if (r == NULL)
        return NULL;
    if (MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                content_type) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_ETAG, etag) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_LAST_MODIFIED, date) !=
            MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL,
                                HTTPD_CACHE_CONTROL) != MHD_YES ||
        MHD_add_response_header(r, MHD_HTTP_HEADER_VARY, "Accept-Encoding") !=
            MHD_YES ||
        (zfd >= 0 &&
         MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_ENCODING, "gzip") !=
             MHD_YES)) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

/* tests/unit/test_publish_tags.c - daemon/publish_tags.c against a real
 * store: a tag's outputs and their gzip copies beside them. The server is
 * a fake that takes the paths set on it. */
#include <fcntl.h>
#include <sys/stat.h>
#include <zlib.h>

#include "store_fixture.h"

#include "config.h"
#include "httpd.h"
#include "httpd_doc.h"
#include "publish_int.h"

/* ---- the fake server, and the gzip it would make ---- */

int
httpd_set_file(struct httpd *h, const char *path, const char *content_type,
               const char *filename)
{
    (void)h;
    (void)path;
    (void)content_type;
    (void)filename;
    return 0;
}

int
httpd_set_dynamic(struct httpd *h, const char *path, const char *content_type,
                  httpd_render_fn *render, void *arg)
{
    (void)h;
    (void)path;
    (void)content_type;
    (void)render;
    (void)arg;
    return 0;
}

unsigned char *
httpd_gzip(const void *data, size_t len, int level, size_t *out_len)
{
    z_stream z;
    unsigned char *out;
    uLong bound;

    memset(&z, 0, sizeof(z));
    assert_int_equal(
        deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY),
        Z_OK);
    bound = deflateBound(&z, (uLong)len);
    assert_non_null(out = malloc(bound));
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)len;
    z.next_out = out;
    z.avail_out = (uInt)bound;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_len = z.total_out;
    deflateEnd(&z);
    return out;
}

/* The bytes of the gzip file p, inflated (the caller frees them). */
static char *
gunzip_file(const char *p)
{
    gzFile g = gzopen(p, "rb");
    char *out = calloc(1, 1 << 20);
    int n;

    assert_non_null(g);
    assert_non_null(out);
    n = gzread(g, out, (1 << 20) - 1);
    assert_true(n >= 0);
    out[n] = '\0';
    gzclose(g);
    return out;
}

static struct config *
config_for(struct fixture *f)
{
    char text[512], *errors = NULL;
    struct config *cfg;

    snprintf(text, sizeof(text),
             "state_dir %s\nmax_items 3\npublic_url https://e.org/r\n"
             "feed lwn https://lwn.net/headlines/rss tags news\n",
             f->dir);
    cfg = config_parse(text, strlen(text), "test", f->dir, &errors);
    if (cfg == NULL)
        fail_msg("config: %s", errors ? errors : "out of memory");
    return cfg;
}

/* The .gz of a tag's output is made again whenever the output is: one
 * whose mtime is later than the new output's (the clock was set back
 * since it was written) is not taken for the new bytes' copy. */
static void
test_gzip_follows_file(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    struct publish_tags *pt;
    struct timespec t[2];
    char pub[128], file[256], gz[264], *bytes, *inflated;

    snprintf(pub, sizeof(pub), "%s/public", f->dir);
    assert_true(mkdir(pub, 0755) == 0 || errno == EEXIST);
    add_ok(s, "0000000000000001", "first entry", 100);
    assert_int_equal(store_commit(s), 0);
    assert_non_null(pt = publish_tags_new(pub));
    assert_int_equal(publish_tags_update(pt, s, cfg, NULL, 1), 0);
    snprintf(file, sizeof(file), "%s/tag/news.atom", pub);
    snprintf(gz, sizeof(gz), "%s.gz", file);
    bytes = read_file(file);
    inflated = gunzip_file(gz);
    assert_string_equal(inflated, bytes);
    free(bytes);
    free(inflated);
    /* Written an hour ahead of the clock as it is now. */
    t[0].tv_sec = t[1].tv_sec = time(NULL) + 3600;
    t[0].tv_nsec = t[1].tv_nsec = 0;
    assert_int_equal(utimensat(AT_FDCWD, gz, t, 0), 0);
    add_ok(s, "0000000000000002", "second entry", 200);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(publish_tags_update(pt, s, cfg, NULL, 1), 0);
    bytes = read_file(file);
    assert_non_null(strstr(bytes, "second entry"));
    inflated = gunzip_file(gz);
    assert_string_equal(inflated, bytes);
    free(bytes);
    free(inflated);
    publish_tags_free(pt);
    config_free(cfg);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_gzip_follows_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_archive.c - daemon/archive.c against a real store: the
 * pages fixed once complete, made when asked with their RFC 5005 links,
 * the entries in no page, a restart, an update, retention, a file of
 * pages torn by a crash, a full disk, and the pages of an older feedd
 * (a file each) moved into the one file. The HTTP server is a fake that
 * lists the paths set on it and makes their documents when the test
 * asks. */
#include "store_fixture.h"

#include "config.h"
#include "feeds/parse.h"
#include "httpd.h"
#include "publish_int.h"

/* ---- the fake server ---- */

static char served[64][64];
static httpd_render_fn *renders[64];
static void *render_args[64];
static size_t nserved;

int
httpd_set_file(struct httpd *h, const char *path, const char *content_type,
               const char *filename)
{
    (void)h;
    (void)content_type;
    (void)filename;
    (void)path;
    fail_msg("archive pages are made when asked, not served from files");
    return -1;
}

int
httpd_set_dynamic(struct httpd *h, const char *path, const char *content_type,
                  httpd_render_fn *render, void *arg)
{
    size_t i;

    (void)h;
    (void)content_type;
    for (i = 0; i < nserved && strcmp(served[i], path) != 0; i++)
        ;
    if (i == nserved) {
        assert_true(nserved < 64);
        snprintf(served[nserved++], sizeof(served[0]), "%s", path);
    }
    renders[i] = render;
    render_args[i] = arg;
    return 0;
}

static int
was_served(const char *path)
{
    size_t i;

    for (i = 0; i < nserved; i++)
        if (strcmp(served[i], path) == 0)
            return 1;
    return 0;
}

/* What the render set at via makes of path, into b (initialized here):
 * 0, or -ENOENT for a page that is gone. */
static int
render_via(const char *via, const char *path, struct feed_buf *b)
{
    size_t i;

    for (i = 0; i < nserved && strcmp(served[i], via) != 0; i++)
        ;
    assert_true(i < nserved);
    feed_buf_init(b, 0);
    return renders[i](render_args[i], path, b);
}

/* The document a reader gets at path (the caller frees it), or NULL when
 * it is none (404: the page is gone). */
static char *
doc(const char *path)
{
    struct feed_buf b;
    int rc = render_via(path, path, &b);

    if (rc == -ENOENT) {
        feed_buf_free(&b);
        return NULL;
    }
    assert_int_equal(rc, 0);
    if (feed_buf_append(&b, "", 1) != 0)
        fail();
    return b.data;
}

/* Whether the document at path holds text. */
static int
doc_has(const char *path, const char *text)
{
    char *d = doc(path);
    int has = d != NULL && strstr(d, text) != NULL;

    free(d);
    return has;
}

/* Whether the archive that serves via says path is gone (404): for a
 * page a restart found torn, which the archive that served it is no
 * longer there to answer. */
static int
gone_via(const char *via, const char *path)
{
    struct feed_buf b;
    int rc = render_via(via, path, &b);

    feed_buf_free(&b);
    return rc == -ENOENT;
}

static int
gone(const char *path)
{
    char *d = doc(path);

    free(d);
    return d == NULL;
}

/* ---- helpers ---- */

/* Page k of public/archive/pages, its header and IDs, as written (the
 * caller frees it); NULL when the file has no such page. */
static char *
page_text(struct fixture *f, long k)
{
    char head[32], *all, *at, *next, *out;

    if (!exists(path(f, "public/archive/pages")))
        return NULL;
    all = read_file(path(f, "public/archive/pages"));
    snprintf(head, sizeof(head), "page %ld ", k);
    for (at = all; at != NULL && strncmp(at, head, strlen(head)) != 0;
         at = (next = strstr(at, "\npage ")) ? next + 1 : NULL)
        ;
    out = NULL;
    if (at != NULL) {
        next = strstr(at, "\npage ");
        out = strndup(at, next ? (size_t)(next + 1 - at) : strlen(at));
    }
    free(all);
    return out;
}

/* Whether public/archive/pages has page k. */
static int
has_page(struct fixture *f, long k)
{
    char *t = page_text(f, k);

    free(t);
    return t != NULL;
}

/* f's public folder, made if need be, its path into pub. */
static void
make_pub(struct fixture *f, char *pub, size_t size)
{
    snprintf(pub, size, "%s/public", f->dir);
    assert_true(mkdir(pub, 0755) == 0 || errno == EEXIST);
}

static struct config *
config_for(struct fixture *f)
{
    char text[512], *errors = NULL;
    struct config *cfg;

    snprintf(text, sizeof(text),
             "state_dir %s\nmax_items 3\npublic_url https://e.org/r\n", f->dir);
    cfg = config_parse(text, strlen(text), "test", f->dir, &errors);
    if (cfg == NULL)
        fail_msg("config: %s", errors ? errors : "out of memory");
    return cfg;
}

/* An item whose ID ends in n (two hex digits) dated n * 100. */
static void
add_n(struct store *s, unsigned n, uint64_t version)
{
    char id[FEED_ID_LEN + 1], title[16];

    snprintf(id, sizeof(id), "00000000000000%02x", n);
    snprintf(title, sizeof(title), "e%u.%u", n, (unsigned)version);
    add_v(s, id, title, (int64_t)n * 100, version);
}

static int
count_entry(const struct feed_entry *e, void *arg)
{
    (void)e;
    ++*(size_t *)arg;
    return 0;
}

/* The entries of the document at path, read with feedd's own parser. */
static size_t
parsed_entries(const char *path)
{
    char *data = doc(path);
    size_t n = 0;
    struct feed_parser *fp = feed_parser_new(NULL, NULL, count_entry, &n);

    assert_non_null(fp);
    assert_int_equal(feed_parser_push(fp, data, strlen(data), 1), 0);
    feed_parser_free(fp);
    free(data);
    return n;
}

/* archive_update(), which must succeed: the newest page, and the IDs'
 * last two digits of the open entries into open_ids. */
static long
update(struct archive *a, struct store *s, const struct config *cfg,
       char *open_ids)
{
    struct publish_items open;
    long newest = -7;
    size_t i;

    memset(&open, 0, sizeof(open));
    assert_int_equal(
        archive_update(a, s, cfg, (struct httpd *)1, &open, &newest), 0);
    open_ids[0] = '\0';
    for (i = 0; i < open.n; i++) {
        strcat(open_ids, open.items[i]->id + 14);
        strcat(open_ids, i + 1 < open.n ? " " : "");
    }
    publish_items_free(&open);
    return newest;
}

static void
test_pages(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    const struct config *cfgp = cfg;
    char pub[128], open[128], *page0, *text;
    struct archive *a;
    unsigned n;

    make_pub(f, pub, sizeof(pub));
    for (n = 1; n <= 7; n++)
        add_n(s, n, 1);
    assert_int_equal(store_commit(s), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    /* Two complete pages of 3 and one entry in none. */
    assert_int_equal(update(a, s, cfg, open), 1);
    assert_string_equal(open, "07");
    /* Only the IDs are written: the documents are made when asked. */
    assert_false(exists(path(f, "public/archive/0.atom")));
    assert_false(exists(path(f, "public/archive/0.ids")));
    assert_true(has_page(f, 0));
    assert_true(has_page(f, 1));
    assert_false(has_page(f, 2));
    assert_false(was_served("/archive/2.atom"));
    assert_true(was_served("/archive/0.atom"));
    assert_true(was_served("/archive/1.rss"));
    /* Its IDs, newest first. */
    text = page_text(f, 0);
    assert_string_equal(text, "page 0 3\n0000000000000003\n"
                              "0000000000000002\n0000000000000001\n");
    free(text);
    assert_true(doc_has("/archive/0.atom", "<fh:archive/>"));
    assert_true(doc_has("/archive/0.atom",
                        "<link rel=\"current\" "
                        "href=\"https://e.org/r/feed.atom\"/>"));
    assert_false(doc_has("/archive/0.atom", "prev-archive"));
    assert_true(doc_has("/archive/1.atom",
                        "<link rel=\"prev-archive\" "
                        "href=\"https://e.org/r/archive/0.atom\"/>"));
    assert_true(doc_has("/archive/1.rss",
                        "rel=\"prev-archive\" type=\"application/rss+xml\" "
                        "href=\"https://e.org/r/archive/0.rss\"/>"));
    assert_true(
        doc_has("/archive/1.atom", "<id>https://e.org/r/archive/1.atom</id>"));
    assert_true(doc_has("/archive/1.json",
                        "\"next_url\":\"https://e.org/r/archive/0.json\""));
    assert_false(doc_has("/archive/0.json", "next_url"));
    assert_true(was_served("/archive/1.json"));
    assert_int_equal(parsed_entries("/archive/1.json"), 3);
    assert_int_equal(parsed_entries("/archive/0.atom"), 3);
    assert_int_equal(parsed_entries("/archive/1.rss"), 3);
    page0 = doc("/archive/0.atom");

    /* An update of an entry in page 0 shows in it (the page is made of
     * the store as it is, its entries the same); three more make page 2,
     * and page 0 is otherwise as it was. */
    add_n(s, 1, 2);
    for (n = 8; n <= 10; n++)
        add_n(s, n, 1);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_string_equal(open, "0a");
    assert_true(doc_has("/archive/0.atom", "e1.2"));
    assert_int_equal(parsed_entries("/archive/0.atom"), 3);
    assert_true(was_served("/archive/2.atom"));
    /* Nothing new: nothing written. */
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_string_equal(open, "0a");

    /* A restart reads what is there. */
    archive_free(a);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_string_equal(open, "0a");
    assert_false(has_page(f, 3));

    /* Retention: page 0's entries all gone, it goes. */
    assert_int_equal(store_compact(s, 2000, 0, 7), 0);
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_false(has_page(f, 0));
    assert_true(has_page(f, 1));
    assert_true(has_page(f, 2));
    assert_true(gone("/archive/0.atom"));
    assert_true(gone("/archive/0.json"));
    assert_false(gone("/archive/1.atom"));
    assert_string_equal(open, "0a");
    /* Page 1 with some gone stays as written. */
    assert_int_equal(store_compact(s, 2000, 0, 5), 0);
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_true(has_page(f, 1));
    /* All gone: the numbers are not given again. */
    assert_int_equal(store_compact(s, 2000, 0, 1), 0);
    assert_int_equal(update(a, s, cfg, open), -1);
    assert_true(gone("/archive/1.atom"));
    assert_true(gone("/archive/2.rss"));
    assert_string_equal(open, "0a");
    add_n(s, 11, 1);
    add_n(s, 12, 1);
    assert_int_equal(store_commit(s), 0);
    archive_free(a);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 3);
    assert_string_equal(open, "");
    text = page_text(f, 3);
    assert_non_null(text);
    assert_non_null(strstr(text, "000000000000000a"));
    free(text);
    assert_false(doc_has("/archive/3.atom", "prev-archive"));

    free(page0);
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

/* A page whose entries are all gone stays while an older one is left:
 * the prev-archive links of those that stay lead to pages that are
 * there. */
static void
test_no_hole(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    const struct config *cfgp = cfg;
    static const int64_t dates[] = {5000, 100, 200, 300, 400, 500, 6000};
    char pub[128], open[128], id[FEED_ID_LEN + 1];
    struct archive *a;
    unsigned n;

    make_pub(f, pub, sizeof(pub));
    for (n = 1; n <= 7; n++) {
        snprintf(id, sizeof(id), "00000000000000%02x", n);
        add_v(s, id, id, dates[n - 1], 1);
    }
    assert_int_equal(store_commit(s), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 1);
    /* Keeps 07 and 01 (page 0): page 1 has none left, and stays. */
    assert_int_equal(store_compact(s, 9000, 0, 2), 0);
    assert_int_equal(update(a, s, cfg, open), 1);
    assert_true(has_page(f, 0));
    assert_true(has_page(f, 1));
    assert_false(gone("/archive/1.atom"));
    assert_string_equal(open, "07");
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

/* The descriptors this process has open. */
static size_t
open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    size_t n = 0;

    assert_non_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Pages that cannot be written (the disk is full: the file of pages is
 * /dev/full) fail the update, logged, and leave no file open: a full
 * disk that lasts does not use up the descriptors publish by publish.
 * None is made, its number is not used up, and the next update with
 * room makes it. */
static void
test_full_disk(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char text[512], *errors = NULL, pub[128], tmp[256];
    struct publish_items open;
    const struct config *cfgp;
    struct config *cfg;
    struct archive *a;
    size_t before;
    long newest;
    unsigned n;

    /* A page of 400 IDs: more than a stdio buffer of /dev/full. */
    snprintf(text, sizeof(text),
             "state_dir %s\nmax_items 400\npublic_url https://e.org/r\n",
             f->dir);
    cfg = config_parse(text, strlen(text), "test", f->dir, &errors);
    assert_non_null(cfg);
    cfgp = cfg;
    make_pub(f, pub, sizeof(pub));
    snprintf(tmp, sizeof(tmp), "%s/public/archive", f->dir);
    assert_true(mkdir(tmp, 0755) == 0 || errno == EEXIST);
    snprintf(tmp, sizeof(tmp), "%s/public/archive/pages", f->dir);
    assert_int_equal(symlink("/dev/full", tmp), 0);
    for (n = 1; n <= 401; n++) {
        char id[FEED_ID_LEN + 1];

        snprintf(id, sizeof(id), "%016x", n);
        add_v(s, id, "e", (int64_t)n * 100, 1);
    }
    assert_int_equal(store_commit(s), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    memset(&open, 0, sizeof(open));
    before = open_fds();
    assert_int_not_equal(
        archive_update(a, s, cfg, (struct httpd *)1, &open, &newest), 0);
    assert_int_equal(open_fds(), before);
    assert_int_equal(newest, -1);
    publish_items_free(&open);
    assert_int_equal(unlink(tmp), 0);
    archive_free(a);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    memset(&open, 0, sizeof(open));
    assert_int_equal(
        archive_update(a, s, cfg, (struct httpd *)1, &open, &newest), 0);
    assert_int_equal(newest, 0);
    assert_int_equal(open.n, 1);
    assert_true(has_page(f, 0));
    publish_items_free(&open);
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

/* Many pages of IDs that differ in every byte: each update (the first,
 * which fixes them, and the next, which reads them back from their
 * files) sorts every archived ID to tell the open entries from them, so
 * one entry out of place would show as an archived entry left open. */
static void
test_many_ids_sorted(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    const struct config *cfgp = cfg;
    char pub[128], last[FEED_ID_LEN + 1], id[FEED_ID_LEN + 1];
    struct publish_items open;
    struct archive *a;
    uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
    long newest;
    int k;
    unsigned n;

    make_pub(f, pub, sizeof(pub));
    for (n = 0; n < 1000; n++) {
        /* splitmix64: distinct, and spread over all eight bytes. */
        uint64_t z = (x += UINT64_C(0x9e3779b97f4a7c15));

        z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
        z ^= z >> 31;
        feed_id_format(z, id);
        add_v(s, id, "e", (int64_t)n * 100, 1);
        memcpy(last, id, sizeof(last));
    }
    assert_int_equal(store_commit(s), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    for (k = 0; k < 2; k++) {
        memset(&open, 0, sizeof(open));
        /* No server: more pages than the fake one keeps. */
        assert_int_equal(archive_update(a, s, cfg, NULL, &open, &newest), 0);
        /* 333 pages of 3; the thousandth entry is the one left open. */
        assert_int_equal(newest, 332);
        assert_int_equal(open.n, 1);
        assert_string_equal(open.items[0]->id, last);
        publish_items_free(&open);
    }
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

/* A crash that tore the last page (the file is written unsynced) or
 * damage: the pages from there are cut off at the next start, their
 * entries open again, and made into new pages with new numbers; the
 * pages before stay as they were. */
static void
test_torn(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    const struct config *cfgp = cfg;
    char pub[128], open[128], *text, *page0;
    const char *file = path(f, "public/archive/pages");
    struct archive *a;
    struct stat st;
    unsigned n;

    make_pub(f, pub, sizeof(pub));
    for (n = 1; n <= 7; n++)
        add_n(s, n, 1);
    assert_int_equal(store_commit(s), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 1);
    archive_free(a);
    page0 = page_text(f, 0);
    /* Page 1 loses its last line. */
    assert_int_equal(stat(file, &st), 0);
    assert_int_equal(truncate(file, st.st_size - 1), 0);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 2);
    assert_string_equal(open, "07");
    text = page_text(f, 0);
    assert_string_equal(text, page0);
    free(text);
    assert_false(has_page(f, 1));
    text = page_text(f, 2);
    assert_string_equal(text, "page 2 3\n0000000000000006\n"
                              "0000000000000005\n0000000000000004\n");
    free(text);
    assert_true(gone_via("/archive/2.atom", "/archive/1.atom"));
    assert_int_equal(parsed_entries("/archive/2.atom"), 3);
    /* No link to a page that is not there. */
    assert_false(doc_has("/archive/2.atom", "prev-archive"));
    archive_free(a);
    /* A damaged header: cut there. */
    poke(file, find_in_file(file, "page 2"), "pag? 2", 6);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 3);
    assert_true(has_page(f, 0));
    assert_false(has_page(f, 2));
    assert_true(has_page(f, 3));
    assert_false(file_has(file, "pag?"));
    free(page0);
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

/* The pages of an older feedd, a file K.ids each, are moved into the
 * one file at the first update, each with its number and IDs, and the
 * old files go; the entries in them stay out of new pages. */
static void
test_legacy(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct config *cfg = config_for(f);
    const struct config *cfgp = cfg;
    char pub[128], open[128], *text;
    struct archive *a;
    unsigned n;
    FILE *fp;

    make_pub(f, pub, sizeof(pub));
    assert_int_equal(mkdir(path(f, "public/archive"), 0755), 0);
    for (n = 1; n <= 8; n++)
        add_n(s, n, 1);
    assert_int_equal(store_commit(s), 0);
    /* Pages 4 and 5 (1-3 and 4-6, newest first), and a stale document. */
    assert_non_null(fp = fopen(path(f, "public/archive/4.ids"), "w"));
    fputs("0000000000000003\n0000000000000002\n0000000000000001\n", fp);
    fclose(fp);
    assert_non_null(fp = fopen(path(f, "public/archive/5.ids"), "w"));
    fputs("0000000000000006\n0000000000000005\n0000000000000004\n", fp);
    fclose(fp);
    assert_non_null(fp = fopen(path(f, "public/archive/4.atom"), "w"));
    fclose(fp);
    assert_non_null(a = archive_new(pub, s, &cfgp));
    assert_int_equal(update(a, s, cfg, open), 5);
    assert_string_equal(open, "07 08");
    assert_false(exists(path(f, "public/archive/4.ids")));
    assert_false(exists(path(f, "public/archive/5.ids")));
    assert_false(exists(path(f, "public/archive/4.atom")));
    text = page_text(f, 4);
    assert_string_equal(text, "page 4 3\n0000000000000003\n"
                              "0000000000000002\n0000000000000001\n");
    free(text);
    assert_true(has_page(f, 5));
    assert_true(doc_has("/archive/5.atom", "archive/4.atom"));
    assert_int_equal(parsed_entries("/archive/4.atom"), 3);
    /* The next page follows them. */
    add_n(s, 9, 1);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(update(a, s, cfg, open), 6);
    assert_string_equal(open, "");
    archive_free(a);
    config_free(cfg);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_pages), T(test_no_hole), T(test_full_disk),
        T(test_torn),  T(test_legacy),  T(test_many_ids_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_config_edit.c - edits of the config file in place: what
 * each edit writes, that every other line stays byte for byte, and that a
 * refused edit leaves the file as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "linear.h"

static char dir[64];
static char path[128];

static void
write_file(const char *text)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    assert_int_equal(fclose(f), 0);
}

/* The file's bytes (the caller frees them). */
static char *
read_file(void)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 16);
    size_t n;

    assert_non_null(f);
    assert_non_null(buf);
    n = fread(buf, 1, (1 << 16) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void
assert_file(const char *expected)
{
    char *got = read_file();

    assert_string_equal(got, expected);
    free(got);
}

static struct config_edit *
open_ok(void)
{
    char err[512] = "";
    struct config_edit *ed = config_edit_open(path, err, sizeof err);

    if (ed == NULL)
        print_message("open: %s\n", err);
    assert_non_null(ed);
    return ed;
}

static void
commit_ok(struct config_edit *ed)
{
    char err[512] = "";

    int rc = config_edit_commit(ed, err, sizeof err);

    if (rc != 0)
        print_message("commit: %s\n", err);
    assert_int_equal(rc, 0);
    config_edit_free(ed);
}

static int
setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/feedd-edit-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/feedd.conf", dir);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    unlink(path);
    rmdir(dir);
    return 0;
}

static const char conf[] = "# feedd\n"
                           "state_dir state   # here\n"
                           "\n"
                           "feed a https://a.example/feed   # first\n"
                           "\t# between\n"
                           "feed b https://b.example/rss interval 2h\n"
                           "\n"
                           "# the end\n"
                           "title \"my  river\"\n";

static void
test_add_after_last_feed(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file(conf);
    ed = open_ok();
    assert_int_equal(config_edit_add(ed, "c", "feeds/c d#1.xml", "1h",
                                     "news,tech", err, sizeof err),
                     0);
    commit_ok(ed);
    assert_file("# feedd\n"
                "state_dir state   # here\n"
                "\n"
                "feed a https://a.example/feed   # first\n"
                "\t# between\n"
                "feed b https://b.example/rss interval 2h\n"
                "feed c \"feeds/c d#1.xml\" interval 1h tags news,tech\n"
                "\n"
                "# the end\n"
                "title \"my  river\"\n");
}

static void
test_add_quotes_what_needs_it(void **state)
{
    struct config_edit *ed;
    const struct config *cfg;
    char err[256];

    (void)state;
    write_file("state_dir /var/lib/feedd\n");
    ed = open_ok();
    assert_int_equal(config_edit_add(ed, "q", "dir with \"quote\"\\x#y", NULL,
                                     NULL, err, sizeof err),
                     0);
    cfg = config_edit_config(ed, err, sizeof err);
    assert_non_null(cfg);
    assert_int_equal(cfg->nfeeds, 1);
    assert_non_null(
        strstr(cfg->feeds[0].location, "dir%20with%20%22quote%22%5Cx%23y"));
    commit_ok(ed);
    assert_file("state_dir /var/lib/feedd\n"
                "feed q \"dir with \\\"quote\\\"\\\\x#y\"\n");
}

static void
test_add_without_final_newline_and_crlf(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file("# no feeds\r\ntitle t\r\n# last, no end");
    ed = open_ok();
    assert_int_equal(
        config_edit_add(ed, "a", "http://a/", NULL, NULL, err, sizeof err), 0);
    assert_int_equal(
        config_edit_add(ed, "b", "http://b/", NULL, NULL, err, sizeof err), 0);
    commit_ok(ed);
    assert_file("# no feeds\r\ntitle t\r\n# last, no end\r\n"
                "feed a http://a/\r\nfeed b http://b/\r\n");
}

static void
test_add_refused(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file(conf);
    ed = open_ok();
    assert_int_equal(config_edit_add(ed, "bad name", "http://x/", NULL, NULL,
                                     err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "name"));
    assert_int_equal(
        config_edit_add(ed, "x", "http://x/", "soon", NULL, err, sizeof err),
        -1);
    assert_int_equal(
        config_edit_add(ed, "x", "ftp://x/", NULL, NULL, err, sizeof err), -1);
    assert_non_null(strstr(err, "unsupported URL scheme"));
    assert_int_equal(config_edit_add(ed, "x", "http://x/\nfeed y http://y/",
                                     NULL, NULL, err, sizeof err),
                     -1);
    /* A duplicate passes alone but not in the whole file: refused when
     * committing, the file untouched. */
    assert_int_equal(
        config_edit_add(ed, "a", "http://other/", NULL, NULL, err, sizeof err),
        0);
    assert_int_equal(config_edit_commit(ed, err, sizeof err), -1);
    assert_non_null(strstr(err, "would not parse"));
    config_edit_free(ed);
    assert_file(conf);
}

static void
test_remove(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file(conf);
    ed = open_ok();
    assert_int_equal(config_edit_remove(ed, "a", err, sizeof err), 0);
    commit_ok(ed);
    assert_file("# feedd\n"
                "state_dir state   # here\n"
                "\n"
                "\t# between\n"
                "feed b https://b.example/rss interval 2h\n"
                "\n"
                "# the end\n"
                "title \"my  river\"\n");
    /* By location, the last feed, then the only one left is gone. */
    ed = open_ok();
    assert_int_equal(
        config_edit_remove(ed, "https://b.example/rss", err, sizeof err), 0);
    assert_int_equal(config_edit_remove(ed, "b", err, sizeof err), -1);
    assert_non_null(strstr(err, "no feed"));
    commit_ok(ed);
    assert_file("# feedd\n"
                "state_dir state   # here\n"
                "\n"
                "\t# between\n"
                "\n"
                "# the end\n"
                "title \"my  river\"\n");
}

static void
test_remove_only_feed_without_newline(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file("# one\nfeed only http://o/");
    ed = open_ok();
    assert_int_equal(config_edit_remove(ed, "only", err, sizeof err), 0);
    assert_int_equal(config_edit_remove(ed, "only", err, sizeof err), -1);
    /* The next feed goes at the end, after a line end for the last line. */
    assert_int_equal(
        config_edit_add(ed, "n", "http://n/", NULL, NULL, err, sizeof err), 0);
    commit_ok(ed);
    assert_file("# one\nfeed n http://n/\n");
}

static void
test_set_location(void **state)
{
    struct config_edit *ed;
    char err[256];

    (void)state;
    write_file("\xef\xbb\xbf"
               "feed  a   \"https://old/#x\"\tinterval 1h  # moved?\r\n"
               "feed b http://b/ tags x,y # b\n");
    ed = open_ok();
    assert_int_equal(
        config_edit_set_location(ed, "a", "https://new/a", err, sizeof err), 0);
    assert_int_equal(
        config_edit_set_location(ed, "b", "b 2.xml", err, sizeof err), 0);
    assert_int_equal(
        config_edit_set_location(ed, "c", "http://c/", err, sizeof err), -1);
    assert_int_equal(
        config_edit_set_location(ed, "b", "gopher://b/", err, sizeof err), -1);
    commit_ok(ed);
    assert_file("\xef\xbb\xbf"
                "feed  a   https://new/a\tinterval 1h  # moved?\r\n"
                "feed b \"b 2.xml\" tags x,y # b\n");
}

static void
test_bad_file_untouched(void **state)
{
    static const char bad[] = "# bad\nfeed a http://a/\nnonsense 1\n";
    struct config_edit *ed;
    char err[256], other[200];

    (void)state;
    write_file(bad);
    assert_null(config_edit_open(path, err, sizeof err));
    assert_non_null(strstr(err, "feedd.conf:3: "));
    assert_file(bad);
    snprintf(other, sizeof other, "%s/missing.conf", dir);
    assert_null(config_edit_open(other, err, sizeof err));
    assert_non_null(strstr(err, "cannot read"));
    /* A write that fails (a read-only folder, for a user other than root)
     * leaves the file and no temporary file behind. */
    write_file(conf);
    ed = open_ok();
    assert_int_equal(config_edit_remove(ed, "a", err, sizeof err), 0);
    chmod(dir, 0500);
    if (access(dir, W_OK) != 0) {
        assert_int_equal(config_edit_commit(ed, err, sizeof err), -1);
        assert_non_null(strstr(err, "cannot create a temporary file"));
    }
    chmod(dir, 0700);
    config_edit_free(ed);
    if (access(dir, W_OK) == 0)
        assert_file(conf);
}

static void
test_mode_kept(void **state)
{
    struct config_edit *ed;
    struct stat st;
    char err[256];

    (void)state;
    write_file(conf);
    assert_int_equal(chmod(path, 0640), 0);
    ed = open_ok();
    assert_int_equal(
        config_edit_add(ed, "m", "http://m/", NULL, NULL, err, sizeof err), 0);
    commit_ok(ed);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0640);
}

/* n feeds added in one edit and parsed once: an import. */
static void
add_many(size_t n, void *arg)
{
    struct config_edit *ed = open_ok();
    char name[32], loc[64], err[256];
    size_t i;

    (void)arg;
    for (i = 0; i < n / 32 + 1; i++) {
        snprintf(name, sizeof name, "f%zu", i);
        snprintf(loc, sizeof loc, "http://h.example/%zu", i);
        assert_int_equal(
            config_edit_add(ed, name, loc, NULL, NULL, err, sizeof err), 0);
    }
    assert_non_null(config_edit_config(ed, err, sizeof err));
    config_edit_free(ed);
}

static void
test_add_linear(void **state)
{
    (void)state;
    write_file(conf);
    assert_linear("config_edit_add", add_many, NULL, 1024, (size_t)1 << 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_after_last_feed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_quotes_what_needs_it, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_add_without_final_newline_and_crlf,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_only_feed_without_newline,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_set_location, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_file_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mode_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_linear, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

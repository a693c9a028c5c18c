/* tests/unit/test_opml.c - OPML lists (daemon/opml.c): feeds and the tags
 * their enclosing outlines give, refusals, the export read back, and
 * linear time on large and deep lists. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "linear.h"
#include "opml.h"

static char path[] = "/tmp/feedd-opml-XXXXXX";

static void
write_text(const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void
test_read(void **state)
{
    static const char doc[] =
        "<?xml version='1.0'?><opml version='1.0'><head/><body>"
        "<outline text='Top' xmlUrl='http://t/'/>"
        "<outline title='News &amp; more'>"
        "  <outline text='Inner'>"
        "    <outline text='a' title='A feed' xmlUrl='http://a/'"
        "             category='/x/y,,/z'/>"
        "  </outline>"
        "  <outline text='no url' xmlUrl=''/>"
        "  <outline text='b' xmlUrl='http://b/'><outline xmlUrl='http://c/'/>"
        "  </outline>"
        "</outline>"
        "<outline xmlUrl='http://d/'/>"
        "</body></opml>";
    struct opml_list l;
    char err[256];

    (void)state;
    write_text(doc, strlen(doc));
    assert_int_equal(opml_read(path, &l, err, sizeof err), 0);
    assert_int_equal(l.n, 5);
    assert_string_equal(l.feeds[0].title, "Top");
    assert_int_equal(l.feeds[0].ntags, 0);
    assert_string_equal(l.feeds[1].title, "A feed");
    assert_string_equal(l.feeds[1].url, "http://a/");
    assert_int_equal(l.feeds[1].ntags, 4);
    assert_string_equal(l.feeds[1].tags[0], "News & more");
    assert_string_equal(l.feeds[1].tags[1], "Inner");
    assert_string_equal(l.feeds[1].tags[2], "x/y");
    assert_string_equal(l.feeds[1].tags[3], "z");
    assert_string_equal(l.feeds[2].title, "b");
    assert_int_equal(l.feeds[2].ntags, 1);
    /* An outline inside a feed's outline gives no tag. */
    assert_null(l.feeds[3].title);
    assert_int_equal(l.feeds[3].ntags, 1);
    assert_string_equal(l.feeds[4].url, "http://d/");
    assert_int_equal(l.feeds[4].ntags, 0);
    opml_list_free(&l);
}

static void
test_refused(void **state)
{
    struct opml_list l;
    char err[256];

    (void)state;
    write_text("<rss><channel/></rss>", 21);
    assert_int_equal(opml_read(path, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "not an OPML file (the root"));
    opml_list_free(&l);
    write_text("<opml>\n<body><outline></body>", 29);
    assert_int_equal(opml_read(path, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: not an OPML file: mismatched tag"));
    opml_list_free(&l);
    write_text("", 0);
    assert_int_equal(opml_read(path, &l, err, sizeof err), -1);
    opml_list_free(&l);
    assert_int_equal(opml_read("/nonexistent/x.opml", &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot read /nonexistent/x.opml"));
    opml_list_free(&l);
}

static void
test_write_read(void **state)
{
    static const char conf[] = "title \"a <river> & more\"\n"
                               "feed plain http://p/?a=1&b=2 interval 90m\n"
                               "feed two http://two/ tags y,x\n"
                               "feed one http://one/ tags x\n"
                               "feed three http://three/ tags x,z,y\n";
    struct config *cfg;
    struct feed_buf out;
    struct opml_list l;
    char *errors, err[256];

    (void)state;
    cfg = config_parse(conf, strlen(conf), "t.conf", "/", &errors);
    assert_non_null(cfg);
    feed_buf_init(&out, 0);
    assert_int_equal(opml_write(cfg, &out), 0);
    assert_non_null(strstr(out.data, "<title>a &lt;river&gt; &amp; more"));
    assert_non_null(strstr(out.data, "<dateCreated>"));
    write_text(out.data, out.len);
    assert_int_equal(opml_read(path, &l, err, sizeof err), 0);
    /* Untagged first, then by first tag, config order within a tag. */
    assert_int_equal(l.n, 4);
    assert_string_equal(l.feeds[0].url, "http://p/?a=1&b=2");
    assert_string_equal(l.feeds[0].interval, "90m");
    assert_null(l.feeds[1].interval);
    assert_string_equal(l.feeds[1].title, "one");
    assert_int_equal(l.feeds[1].ntags, 1);
    assert_string_equal(l.feeds[2].title, "three");
    assert_int_equal(l.feeds[2].ntags, 4);
    assert_string_equal(l.feeds[2].tags[0], "x");
    assert_string_equal(l.feeds[2].tags[2], "z");
    assert_string_equal(l.feeds[2].tags[3], "y");
    assert_string_equal(l.feeds[3].title, "two");
    assert_string_equal(l.feeds[3].tags[0], "y");
    assert_string_equal(l.feeds[3].tags[2], "x");
    opml_list_free(&l);
    feed_buf_free(&out);
    config_free(cfg);
}

/* n outlines in a row, or nested n deep. */
static void
read_many(size_t n, void *arg)
{
    int deep = *(int *)arg;
    struct feed_buf doc;
    struct opml_list l;
    char err[256];
    size_t i;

    feed_buf_init(&doc, 0);
    assert_int_equal(feed_buf_puts(&doc, "<opml><body>"), 0);
    for (i = 0; i < n; i++)
        assert_int_equal(
            feed_buf_puts(&doc, deep
                                    ? "<outline text='t' xmlUrl='http://x/'>"
                                    : "<outline text='t' xmlUrl='http://x/'/>"),
            0);
    for (i = 0; deep && i < n; i++)
        assert_int_equal(feed_buf_puts(&doc, "</outline>"), 0);
    assert_int_equal(feed_buf_puts(&doc, "</body></opml>"), 0);
    write_text(doc.data, doc.len);
    assert_int_equal(opml_read(path, &l, err, sizeof err), 0);
    assert_int_equal(l.n, n);
    opml_list_free(&l);
    feed_buf_free(&doc);
}

static void
test_linear(void **state)
{
    int deep;

    (void)state;
    deep = 0;
    assert_linear("opml_read", read_many, &deep, 256, (size_t)1 << 18);
    deep = 1;
    assert_linear("opml_read deep", read_many, &deep, 256, (size_t)1 << 16);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_write_read),
        cmocka_unit_test(test_linear),
    };
    int fd = mkstemp(path), rc;

    if (fd < 0)
        return 1;
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    close(fd);
    unlink(path);
    return rc;
}

/* tests/unit/test_grammar.c - the parts of the parser below its API:
 * the grammar's table (grammar.c), and the cost of the document shapes
 * that are the parser's own rather than its text functions': elements
 * with many attributes, deep nesting, many entries, many categories and
 * enclosures in one entry, many namespace declarations, long names.
 * Each must parse in time linear in its size (tests/unit/linear.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "linear.h"
#include "parse_int.h"

/* bsearch() finds a row only in a sorted table. */
static void
test_table_sorted(void **state)
{
    (void)state;
    assert_true(feed_grammar_sorted());
}

struct seen {
    size_t entries, categories, enclosures;
    int titled;      /* an entry had the title "t" */
    size_t link_len; /* the longest link */
};

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct seen *s = arg;

    s->entries++;
    if (e->ncategories > s->categories)
        s->categories = e->ncategories;
    if (e->nenclosures > s->enclosures)
        s->enclosures = e->nenclosures;
    if (e->title && strcmp(e->title, "t") == 0)
        s->titled = 1;
    if (e->link && strlen(e->link) > s->link_len)
        s->link_len = strlen(e->link);
    return 0;
}

static void
put(struct feed_buf *b, const char *s)
{
    assert_int_equal(feed_buf_puts(b, s), 0);
}

/* Parses doc whole with limits that let it through; what it saw. */
static struct seen
parse(struct feed_buf *doc)
{
    struct feed_limits lim;
    struct feed_parser *p;
    struct seen s;
    int rc;

    memset(&s, 0, sizeof(s));
    feed_limits_default(&lim);
    lim.max_bytes = 256u << 20;
    lim.max_field = 256u << 20;
    lim.max_entries = SIZE_MAX;
    p = feed_parser_new(&lim, "http://example.com/feed", on_entry, &s);
    assert_non_null(p);
    rc = feed_parser_push(p, doc->data, doc->len, 1);
    if (rc != 0)
        fail_msg("%s", feed_parser_error(p));
    feed_parser_free(p);
    feed_buf_free(doc);
    return s;
}

static void
rss_open(struct feed_buf *b)
{
    feed_buf_init(b, 0);
    put(b, "<rss version=\"2.0\"><channel><title>c</title>");
}

static void
rss_close(struct feed_buf *b)
{
    put(b, "</channel></rss>");
}

/* n attributes on an element looked up (an enclosure, whose three are
 * last), on one kept as markup in a description, and on one skipped. */
static void
many_attributes(size_t n, void *arg)
{
    struct feed_buf b;
    struct seen s;

    (void)arg;
    rss_open(&b);
    put(&b, "<item><title>t</title><enclosure");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&b, " a%zu=\"v\"", i), 0);
    put(&b, " url=\"e\" type=\"audio/mpeg\" length=\"1\"/><description><p");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&b, " a%zu=\"&quot;\"", i), 0);
    put(&b, ">x</p></description><foo");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&b, " a%zu=\"v\"", i), 0);
    put(&b, "/></item>");
    rss_close(&b);
    s = parse(&b);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.enclosures, 1);
}

static void
test_many_attributes_linear(void **state)
{
    (void)state;
    assert_linear("many attributes", many_attributes, NULL, 4000, 1u << 20);
}

/* n elements in subtrees as deep as the limit allows, plain and kept as
 * markup in a description. */
static void
deep_nesting(size_t n, void *arg)
{
    const size_t depth = 120; /* rss, channel, item, description: 124 */
    struct feed_buf b;

    (void)arg;
    rss_open(&b);
    for (size_t done = 0; done < n; done += 2 * depth) {
        put(&b, "<item><title>t</title>");
        for (size_t i = 0; i < depth; i++)
            put(&b, "<x>");
        for (size_t i = 0; i < depth; i++)
            put(&b, "</x>");
        put(&b, "<description>");
        for (size_t i = 0; i < depth; i++)
            put(&b, "<b>");
        for (size_t i = 0; i < depth; i++)
            put(&b, "</b>");
        put(&b, "</description></item>");
    }
    rss_close(&b);
    assert_true(parse(&b).titled);
}

static void
test_deep_nesting_linear(void **state)
{
    (void)state;
    assert_linear("deep nesting", deep_nesting, NULL, 1000, 1u << 22);
}

/* n entries with a little of everything. */
static void
many_entries(size_t n, void *arg)
{
    struct feed_buf b;

    (void)arg;
    rss_open(&b);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(
            feed_buf_printf(&b,
                            "<item><title>t</title><guid>g%zu</guid>"
                            "<link>/a/%zu</link><category>c</category>"
                            "<pubDate>Mon, 02 Jan 2006 15:04:05 GMT"
                            "</pubDate></item>",
                            i, i),
            0);
    rss_close(&b);
    assert_int_equal(parse(&b).entries, n);
}

static void
test_many_entries_linear(void **state)
{
    (void)state;
    assert_linear("many entries", many_entries, NULL, 100, 1u << 20);
}

/* One entry: long distinct categories, one short, then n times the
 * short one, each compared with all those kept before it is found a
 * repeat. The same with Atom's term. */
static void
many_categories(size_t n, void *arg)
{
    const int atom = arg != NULL;
    struct feed_buf b, pad;
    struct seen s;

    feed_buf_init(&pad, 0);
    /* Long enough that measuring each again would be quadratic. */
    for (size_t i = 0; i < n / 16 + 1; i++)
        put(&pad, "x");
    feed_buf_init(&b, 0);
    put(&b, atom ? "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry>"
                   "<title>t</title>"
                 : "<rss><channel><item><title>t</title>");
    for (size_t i = 0; i < 254; i++)
        assert_int_equal(feed_buf_printf(&b,
                                         atom ? "<category term=\"%s%zu\"/>"
                                              : "<category>%s%zu</category>",
                                         pad.data, i),
                         0);
    for (size_t i = 0; i < n + 1; i++)
        put(&b, atom ? "<category term=\"c\"/>" : "<category>c</category>");
    put(&b, atom ? "</entry></feed>" : "</item></channel></rss>");
    feed_buf_free(&pad);
    s = parse(&b);
    assert_int_equal(s.entries, 1);
    assert_int_equal(s.categories, 255);
}

static void
test_many_categories_linear(void **state)
{
    static int atom;

    (void)state;
    assert_linear("many categories", many_categories, NULL, 8000, 1u << 20);
    assert_linear("many Atom categories", many_categories, &atom, 8000,
                  1u << 20);
}

/* One entry: distinct enclosures up to the most kept, then n that repeat
 * the last, each compared with those kept. */
static void
many_enclosures(size_t n, void *arg)
{
    struct feed_buf b;

    (void)arg;
    rss_open(&b);
    put(&b, "<item xmlns:media=\"http://search.yahoo.com/mrss/\">"
            "<title>t</title>");
    for (size_t i = 0; i < 63; i++)
        assert_int_equal(
            feed_buf_printf(&b, "<enclosure url=\"http://e/%zu\"/>", i), 0);
    for (size_t i = 0; i < n; i++)
        put(&b, "<media:content url=\"http://e/62\" type=\"audio/mpeg\"/>");
    put(&b, "</item>");
    rss_close(&b);
    assert_int_equal(parse(&b).enclosures, 63);
}

static void
test_many_enclosures_linear(void **state)
{
    (void)state;
    assert_linear("many enclosures", many_enclosures, NULL, 1000, 1u << 20);
}

/* n namespace declarations in force, on the 100 elements around n
 * elements whose names must be resolved, prefixed and not; then n
 * declared and dropped in turn. */
static void
many_namespaces(size_t n, void *arg)
{
    const size_t levels = 100;
    struct feed_buf b;

    (void)arg;
    rss_open(&b);
    put(&b, "<item><title>t</title>");
    for (size_t i = 0; i < levels; i++) {
        put(&b, "<g");
        for (size_t j = i; j < n; j += levels)
            assert_int_equal(
                feed_buf_printf(&b, " xmlns:p%zu=\"http://ns.example/%zu\"", j,
                                j),
                0);
        put(&b, ">");
    }
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&b, "<p%zu:x/><y/>", i), 0);
    for (size_t i = 0; i < levels; i++)
        put(&b, "</g>");
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&b, "<q%zu:x xmlns:q%zu=\"u\"/>",
                                         i % 1000, i % 1000),
                         0);
    put(&b, "</item>");
    rss_close(&b);
    assert_true(parse(&b).titled);
}

static void
test_many_namespaces_linear(void **state)
{
    (void)state;
    assert_linear("many namespaces", many_namespaces, NULL, 4000, 1u << 20);
}

/* Element names of n bytes: looked up, skipped, and kept as markup. */
static void
long_names(size_t n, void *arg)
{
    struct feed_buf b, name;

    (void)arg;
    feed_buf_init(&name, 0);
    for (size_t i = 0; i < n; i++)
        put(&name, i % 2 ? "e" : "t");
    rss_open(&b);
    assert_int_equal(
        feed_buf_printf(&b,
                        "<item><title>t</title><%s>x</%s><dc:%s>x</dc:%s>"
                        "<description><%s>x</%s></description></item>",
                        name.data, name.data, name.data, name.data, name.data,
                        name.data),
        0);
    rss_close(&b);
    feed_buf_free(&name);
    assert_true(parse(&b).titled);
}

static void
test_long_names_linear(void **state)
{
    (void)state;
    assert_linear("long names", long_names, NULL, 1000, 1u << 22);
}

/* A channel whose xml:base is n bytes, and n / 64 entries with relative
 * links, enclosures and HTML: each would copy the base. */
static void
long_base(size_t n, void *arg)
{
    struct feed_buf b;
    struct seen s;

    (void)arg;
    feed_buf_init(&b, 0);
    put(&b, "<rss version=\"2.0\"><channel xml:base=\"http://example.com/");
    for (size_t i = 0; i < n; i++)
        put(&b, "a");
    put(&b, "/\"><title>c</title>");
    for (size_t i = 0; i < n / 64; i++)
        put(&b, "<item><title>t</title><link>x</link><enclosure url=\"e\"/>"
                "<description>&lt;a href=\"y\"&gt;</description></item>");
    rss_close(&b);
    s = parse(&b);
    assert_int_equal(s.entries, n / 64);
    assert_true(s.link_len < 4096);
}

static void
test_long_base_linear(void **state)
{
    (void)state;
    assert_linear("long base", long_base, NULL, 16000, 1u << 22);
}

/* An xml:base or feed link up to MAX_BASE bytes is the base of relative
 * links; a longer one is not (the document's URL is). */
static void
test_long_base(void **state)
{
    static const size_t lens[] = {MAX_BASE - 19, MAX_BASE - 18};
    struct feed_buf b;
    struct seen s;

    (void)state;
    for (size_t k = 0; k < 2; k++) {
        for (int feed_link = 0; feed_link < 2; feed_link++) {
            /* "http://example.com/" and "/": 20 bytes around the a's. */
            rss_open(&b);
            put(&b, feed_link ? "<link>http://example.com/"
                              : "<g xml:base=\"http://example.com/");
            for (size_t i = 0; i < lens[k] - 1; i++)
                put(&b, "a");
            put(&b, feed_link ? "/</link>" : "/\">");
            put(&b, "<item><link>x</link></item>");
            if (!feed_link)
                put(&b, "</g>");
            rss_close(&b);
            s = parse(&b);
            assert_int_equal(s.entries, 1);
            if (k == 0)
                assert_int_equal(s.link_len, MAX_BASE + 1);
            else /* against the document's URL */
                assert_int_equal(s.link_len, strlen("http://example.com/x"));
        }
    }
}

/* Atom xhtml content: its text escaped again, n characters that must be. */
static void
xhtml_escapes(size_t n, void *arg)
{
    struct feed_buf b;

    (void)arg;
    feed_buf_init(&b, 0);
    put(&b, "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><title>t"
            "</title><content type=\"xhtml\"><div><p>");
    for (size_t i = 0; i < n; i++)
        put(&b, i % 2 ? "&lt;a" : "&amp;\"");
    put(&b, "</p></div></content></entry></feed>");
    assert_true(parse(&b).titled);
}

static void
test_xhtml_escapes_linear(void **state)
{
    (void)state;
    assert_linear("xhtml escapes", xhtml_escapes, NULL, 1000, 1u << 20);
}

int
main(void)
{
#ifdef __GLIBC__
    /* Buffers of a few MiB would otherwise be mapped afresh by each run,
     * their page faults counted: a cost that jumps where glibc's mapping
     * threshold moves, which is no cost of the parser's. */
    mallopt(M_MMAP_THRESHOLD, 256 << 20);
    mallopt(M_TRIM_THRESHOLD, 512 << 20);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_sorted),
        cmocka_unit_test(test_many_attributes_linear),
        cmocka_unit_test(test_deep_nesting_linear),
        cmocka_unit_test(test_many_entries_linear),
        cmocka_unit_test(test_many_categories_linear),
        cmocka_unit_test(test_many_enclosures_linear),
        cmocka_unit_test(test_many_namespaces_linear),
        cmocka_unit_test(test_long_names_linear),
        cmocka_unit_test(test_xhtml_escapes_linear),
        cmocka_unit_test(test_long_base_linear),
        cmocka_unit_test(test_long_base),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_parse.c - the streaming parser.
 *
 * Every fixture under fixtures/parse/ is parsed whole, in 1-byte chunks and
 * in 7-byte chunks; all three must print exactly its .expected file (set
 * FEEDD_UPDATE_GOLDEN=1 to rewrite those, then read the diff). The limits
 * and the caller's stop are tested on generated documents. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "linear.h"

#define DIR FIXTURES "/parse/"

static char *
slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    if (fp == NULL)
        return NULL;
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, fp), (size_t)n);
    buf[n] = '\0';
    fclose(fp);
    *len = (size_t)n;
    return buf;
}

struct out {
    struct feed_buf b;
    struct feed_parser *p;
};

static void
put_date(struct feed_buf *b, const char *key, int64_t t)
{
    char d[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        assert_int_equal(feed_buf_printf(b, ",\"%s\":null", key), 0);
    else
        assert_int_equal(
            feed_buf_printf(b, ",\"%s\":\"%s\"", key, feed_date_format(t, d)),
            0);
}

static void
put(struct feed_buf *b, const char *key, const char *v)
{
    assert_int_equal(feed_buf_printf(b, ",\"%s\":", key), 0);
    assert_int_equal(feed_buf_json(b, v), 0);
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct out *o = arg;
    char id[FEED_ID_LEN + 1];

    assert_true(feed_entry_id(e, "test", FEED_ID_AUTO, id) > 0);
    assert_int_equal(feed_buf_printf(&o->b, "{\"id\":\"%s\"", id), 0);
    put(&o->b, "feed_title", feed_parser_info(o->p)->title);
    put(&o->b, "guid", e->guid);
    put(&o->b, "link", e->link);
    put(&o->b, "title", e->title);
    put_date(&o->b, "published", e->published);
    put_date(&o->b, "updated", e->updated);
    put(&o->b, "author", e->author);
    put(&o->b, "summary", e->summary);
    put(&o->b, "content", e->content);
    put(&o->b, "image", e->image);
    for (size_t i = 0; i < e->nenclosures; i++) {
        put(&o->b, "enclosure", e->enclosures[i].url);
        put(&o->b, "type", e->enclosures[i].type);
        assert_int_equal(feed_buf_printf(&o->b, ",\"length\":%lld",
                                         (long long)e->enclosures[i].length),
                         0);
    }
    for (size_t i = 0; i < e->ncategories; i++)
        put(&o->b, "category", e->categories[i]);
    assert_int_equal(feed_buf_puts(&o->b, "}\n"), 0);
    return 0;
}

/* Parses doc in chunks of step bytes (0: whole) and returns what it
 * printed; the caller frees it. With reuse, the parser first reads
 * another document (ill-formed, mid-entry) and is reset: what it prints
 * then must be the same. */
static char *
run_reuse(const char *doc, size_t len, size_t step, const char *base, int reuse)
{
    struct out o;
    size_t off = 0;
    int rc = 0;

    feed_buf_init(&o.b, 0);
    o.p = feed_parser_new(NULL, reuse ? "http://other.example/" : base,
                          on_entry, &o);
    assert_non_null(o.p);
    if (reuse) {
        static const char other[] =
            "<?xml version=\"1.0\" encoding=\"koi8-r\"?><feed xmlns=\""
            "http://www.w3.org/2005/Atom\" xml:base=\"http://x/\"><title>o"
            "</title><entry><title>cut <b>here";

        assert_int_equal(feed_parser_charset(o.p, "koi8-r"), 0);
        assert_int_equal(feed_parser_push(o.p, other, sizeof(other) - 1, 0), 0);
        feed_buf_reset(&o.b);
        assert_int_equal(feed_parser_reset(o.p, base), 0);
    }
    if (step == 0)
        step = len ? len : 1;
    while (off < len && rc == 0) {
        size_t n = len - off < step ? len - off : step;

        rc = feed_parser_push(o.p, doc + off, n, 0);
        off += n;
    }
    if (rc == 0)
        rc = feed_parser_push(o.p, NULL, 0, 1);
    assert_int_equal(
        feed_buf_printf(&o.b,
                        "{\"format\":\"%s\",\"entries\":%zu,"
                        "\"feed_link\":",
                        feed_format_name(feed_parser_info(o.p)->format),
                        feed_parser_entries(o.p)),
        0);
    assert_int_equal(feed_buf_json(&o.b, feed_parser_info(o.p)->link), 0);
    assert_int_equal(feed_buf_printf(&o.b, ",\"bad_dates\":%zu,\"bad_date\":",
                                     feed_parser_info(o.p)->bad_dates),
                     0);
    assert_int_equal(feed_buf_json(&o.b, feed_parser_info(o.p)->bad_date), 0);
    assert_int_equal(feed_buf_puts(&o.b, ",\"encoding\":"), 0);
    assert_int_equal(feed_buf_json(&o.b, feed_parser_info(o.p)->encoding), 0);
    assert_int_equal(feed_buf_puts(&o.b, ",\"error\":"), 0);
    assert_int_equal(feed_buf_json(&o.b, rc ? feed_parser_error(o.p) : NULL),
                     0);
    assert_int_equal(feed_buf_puts(&o.b, "}\n"), 0);
    feed_parser_free(o.p);
    return o.b.data;
}

static char *
run(const char *doc, size_t len, size_t step, const char *base)
{
    return run_reuse(doc, len, step, base, 0);
}

static void
fixture(const char *name)
{
    char path[512], *doc, *whole, *one, *seven, *reused, *expected;
    size_t len, elen;

    snprintf(path, sizeof(path), DIR "%s", name);
    doc = slurp(path, &len);
    assert_non_null(doc);
    whole = run(doc, len, 0, "http://base.example/feeds/x.xml");
    one = run(doc, len, 1, "http://base.example/feeds/x.xml");
    seven = run(doc, len, 7, "http://base.example/feeds/x.xml");
    reused = run_reuse(doc, len, 0, "http://base.example/feeds/x.xml", 1);
    /* Chunk boundaries never change what comes out, nor does a parser
     * reset after another document. */
    assert_string_equal(whole, one);
    assert_string_equal(whole, seven);
    assert_string_equal(whole, reused);
    snprintf(path, sizeof(path), DIR "%s.expected", name);
    if (getenv("FEEDD_UPDATE_GOLDEN")) {
        FILE *fp = fopen(path, "w");

        assert_non_null(fp);
        fputs(whole, fp);
        fclose(fp);
    }
    expected = slurp(path, &elen);
    assert_non_null(expected);
    assert_string_equal(whole, expected);
    free(doc);
    free(whole);
    free(one);
    free(seven);
    free(reused);
    free(expected);
}

#define FIXTURE_TEST(fn, file)                                                 \
    static void fn(void **state)                                               \
    {                                                                          \
        (void)state;                                                           \
        fixture(file);                                                         \
    }

FIXTURE_TEST(test_rss20, "rss20.xml")
FIXTURE_TEST(test_atom10, "atom10.xml")
FIXTURE_TEST(test_rss10, "rss10.rdf")
FIXTURE_TEST(test_undeclared_prefix, "undeclared-prefix.xml")
FIXTURE_TEST(test_malformed, "malformed.xml")
FIXTURE_TEST(test_entities, "entities.xml")
FIXTURE_TEST(test_laughs, "laughs.xml")
FIXTURE_TEST(test_rss091, "rss091.xml")
FIXTURE_TEST(test_rss11, "rss11.xml")
FIXTURE_TEST(test_atom03, "atom03.xml")
FIXTURE_TEST(test_atom_entry, "atom-entry.xml")
FIXTURE_TEST(test_media, "media.xml")
FIXTURE_TEST(test_cdf, "cdf.xml")
FIXTURE_TEST(test_jsonfeed, "jsonfeed.json")
FIXTURE_TEST(test_no_namespace_atom, "atom-no-namespace.xml")
/* Found by fuzz_parse: an undeclared legacy encoding was guessed from
 * however many bytes the first chunks held. */
FIXTURE_TEST(test_sniff_chunking, "sniff-chunking.xml")
FIXTURE_TEST(test_external, "external.xml")
FIXTURE_TEST(test_notfeed, "notfeed.xml")
FIXTURE_TEST(test_relative_urls, "relative-urls.xml")
/* Found in review: a JSON Feed behind a line break and a BOM went to the
 * JSON reader unchecked, and one windows-1252 byte past the first 4 KiB
 * lost the whole feed. */
FIXTURE_TEST(test_jsonfeed_late_bad_byte, "jsonfeed-late-bad-byte.json")
FIXTURE_TEST(test_relative_urls_rss, "relative-urls-rss.xml")
/* The grammar's rows (feeds/grammar.c): every module element, the rules
 * between elements that fill one field, Atom's text constructs and
 * links, CDF in lower case. */
FIXTURE_TEST(test_modules, "modules.xml")
FIXTURE_TEST(test_atom_rows, "atom-rows.xml")
FIXTURE_TEST(test_cdf_rows, "cdf-rows.xml")
/* Issue 9, rules A, E and D of the comparison with other parsers. */
FIXTURE_TEST(test_atom_other_type, "atom-other-type.xml")
FIXTURE_TEST(test_rss_atom_weak, "rss-atom-weak.xml")
FIXTURE_TEST(test_atom_id_base, "atom-id-base.xml")
FIXTURE_TEST(test_rss_guid_base, "rss-guid-base.xml")
FIXTURE_TEST(test_rss_title_text, "rss-title-text.xml")
FIXTURE_TEST(test_atom03_mode_xml, "atom03-mode-xml.xml")
/* Issue 9 F: mismatched end tags (feeds/repair.c). */
FIXTURE_TEST(test_rss_mismatched_end, "rss-mismatched-end.xml")

/* on_entry for test_mismatched_end: the titles, one a line. */
static int
title_entry(const struct feed_entry *e, void *arg)
{
    struct feed_buf *b = arg;

    assert_int_equal(feed_buf_printf(b, "%s\n", e->title ? e->title : "(null)"),
                     0);
    return 0;
}

/* Issue 9 F, the issue's own example: an HTML end tag that closes an
 * element left open inside a description (and the HTML's <br>) lost that
 * entry and every one after it. Both are read, whole and in chunks of 1
 * and 7 bytes. */
static void
test_mismatched_end(void **state)
{
    static const char doc[] =
        "<rss version=\"2.0\"><channel><title>F</title>"
        "<item><title>one</title><description><p>a<br>b</p></description>"
        "</item><item><title>two</title></item></channel></rss>";
    static const size_t steps[] = {sizeof(doc) - 1, 1, 7};

    (void)state;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        struct feed_buf titles;
        struct feed_parser *p;
        int rc = 0;

        feed_buf_init(&titles, 0);
        p = feed_parser_new(NULL, NULL, title_entry, &titles);
        assert_non_null(p);
        for (size_t off = 0; off < sizeof(doc) - 1 && rc == 0;
             off += steps[i]) {
            size_t n = sizeof(doc) - 1 - off;

            rc = feed_parser_push(p, doc + off, n < steps[i] ? n : steps[i], 0);
        }
        if (rc == 0)
            rc = feed_parser_push(p, NULL, 0, 1);
        if (rc != 0)
            fail_msg("in chunks of %zu: %s", steps[i], feed_parser_error(p));
        assert_int_equal(feed_parser_entries(p), 2);
        assert_string_equal(feed_buf_str(&titles), "one\ntwo\n");
        feed_parser_free(p);
        feed_buf_free(&titles);
    }
}

/* doc, parsed in chunks of each size in steps, reads as whole (what it
 * printed parsed whole); both are freed. */
static void
same_in_chunks(struct feed_buf *doc, char *whole, const size_t *steps,
               size_t nsteps)
{
    for (size_t i = 0; i < nsteps; i++) {
        char *got = run(doc->data, doc->len, steps[i], NULL);

        if (strcmp(got, whole) != 0)
            fail_msg("in chunks of %zu bytes the entries differ", steps[i]);
        free(got);
    }
    free(whole);
    feed_buf_free(doc);
}

/* A long document with every kind of place a chunk can end badly: in
 * CDATA and its "]]>", in comments, in references good and bad, in
 * multi-byte characters, at a '<'. Parsed in chunks of every size
 * around the byte layer's own lengths (the 4096 bytes sniffed, the 256
 * that complete what waited), it must read the same as whole. */
static void
test_chunk_sizes(void **state)
{
    static const size_t steps[] = {1,   2,    3,    5,    255,  256,  257,
                                   300, 1000, 4095, 4096, 4097, 8191, 20000};
    struct feed_buf doc;
    char *whole;

    (void)state;
    feed_buf_init(&doc, 0);
    assert_int_equal(
        feed_buf_puts(&doc, "<?xml version=\"1.0\"?>\n<!-- a comment -->\n"
                            "<rss version=\"2.0\"><channel><title>T</title>"
                            "<link>http://example.org/</link>\n"),
        0);
    for (int i = 0; i < 120; i++)
        assert_int_equal(
            feed_buf_printf(
                &doc,
                "<item><title>Item %d &amp; caf\xc3\xa9 &#X41; &lt;b&gt;"
                "</title><link>http://example.org/a?x=1&y=%d</link>"
                "<guid>g%d</guid><!-- c%d --><description><![CDATA[<p>"
                "\xd0\x9c\xd0\xbe\xd1\x81\xd0\xba\xd0\xb2\xd0\xb0 "
                "\xe6\x9d\xb1\xe4\xba\xac \xf0\x9f\x93\x88 & ]] ]]]"
                "%.*s</p>]]></description><pubDate>Mon, 06 May 2024 "
                "10:%02d:00 GMT</pubDate></item>\n",
                i, i, i, i, i % 40,
                "...................................................", i % 60),
            0);
    assert_int_equal(feed_buf_puts(&doc, "</channel></rss>\n"), 0);
    whole = run(doc.data, doc.len, 0, NULL);
    assert_non_null(strstr(whole, "\"entries\":120"));
    assert_null(strstr(whole, "\"error\":\""));
    same_in_chunks(&doc, whole, steps, sizeof(steps) / sizeof(steps[0]));
}

/* Well-formed UTF-8 goes to expat as it is; the first fault found late
 * in a document (here a bare '&', a stray byte and a control character
 * after 40 good items) makes the parser read it all again with repairs.
 * Each entry must still come exactly once, in order, however the
 * document is cut: the 40 before the fault are not emitted twice. */
static void
test_late_fault(void **state)
{
    static const size_t steps[] = {0, 1, 7, 100, 4096, 5000};
    struct feed_buf doc;
    char *whole;

    (void)state;
    feed_buf_init(&doc, 0);
    assert_int_equal(feed_buf_puts(&doc, "<?xml version=\"1.0\"?><rss "
                                         "version=\"2.0\"><channel><title>"
                                         "T</title>"),
                     0);
    for (int i = 0; i < 81; i++)
        assert_int_equal(
            feed_buf_printf(
                &doc,
                "<item><guid>g%02d</guid><title>%s</title>"
                "<description>%.*s</description></item>\n",
                i, i == 40 ? "Fish & chips \xe9t\xe9 \x01 bell" : "fine",
                i * 3 % 200,
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
                "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
            0);
    assert_int_equal(feed_buf_puts(&doc, "</channel></rss>\n"), 0);
    whole = run(doc.data, doc.len, 0, NULL);
    assert_non_null(strstr(whole, "\"entries\":81"));
    assert_null(strstr(whole, "\"error\":\""));
    /* Repaired, not dropped: the '&' kept, the bytes read as
     * windows-1252, the control character a space. */
    assert_non_null(strstr(whole, "\"title\":\"Fish & chips \xc3\xa9t\xc3\xa9"
                                  "   bell\""));
    for (int i = 0; i < 81; i++) {
        char guid[32];
        const char *at;

        snprintf(guid, sizeof(guid), "\"guid\":\"g%02d\"", i);
        at = strstr(whole, guid);
        assert_non_null(at);
        assert_null(strstr(at + 1, guid)); /* once */
    }
    same_in_chunks(&doc, whole, steps + 1,
                   sizeof(steps) / sizeof(steps[0]) - 1);
}

/* Found in review: each relative URL looked back for the tag it was in,
 * so a field of many "href=x" outside any tag (or in one huge tag) took
 * quadratic time; at the 2 MiB field limit, minutes per field. Now the
 * text is read forward once. Text outside tags stays as it is. */
static void
test_many_attributes(void **state)
{
    struct feed_buf doc;
    char *got;

    (void)state;
    feed_buf_init(&doc, 0);
    assert_int_equal(feed_buf_puts(&doc, "<rss version=\"2.0\"><channel>"
                                         "<link>http://example.com/</link>"
                                         "<item><guid>1</guid><description>"
                                         "<![CDATA["),
                     0);
    for (int i = 0; i < 200000; i++)
        assert_int_equal(feed_buf_puts(&doc, " href=a"), 0);
    assert_int_equal(feed_buf_puts(&doc, "<p"), 0);
    for (int i = 0; i < 20000; i++)
        assert_int_equal(feed_buf_puts(&doc, " href=a"), 0);
    assert_int_equal(feed_buf_puts(&doc, ">]]></description></item>"
                                         "</channel></rss>"),
                     0);
    got = run(doc.data, doc.len, 0, NULL);
    assert_non_null(strstr(got, "\"entries\":1"));
    assert_null(strstr(got, "\"error\":\""));
    assert_non_null(strstr(got, "\"summary\":\"href=a href=a"));
    assert_non_null(strstr(got, "<p href=http://example.com/a href="));
    free(got);
    feed_buf_free(&doc);
}

/* Nothing comes after the last push: a document pushed whole is read
 * again, on a retry, from the caller's buffer, which is gone by then. */
static void
test_push_after_last(void **state)
{
    static const char doc[] = "<rss><channel><item><title>a & b</title>"
                              "</item></channel></rss>";
    struct feed_parser *p = feed_parser_new(NULL, NULL, NULL, NULL);

    (void)state;
    assert_non_null(p);
    assert_int_equal(feed_parser_push(p, doc, sizeof(doc) - 1, 1), 0);
    assert_int_equal(feed_parser_entries(p), 1);
    assert_int_equal(feed_parser_push(p, "<rss/>", 6, 1), FEED_E_INVAL);
    assert_non_null(strstr(feed_parser_error(p), "after the last"));
    /* A reset parser takes a new document. */
    assert_int_equal(feed_parser_reset(p, NULL), 0);
    assert_int_equal(feed_parser_push(p, doc, sizeof(doc) - 1, 1), 0);
    feed_parser_free(p);
}

static int
count_entry(const struct feed_entry *e, void *arg)
{
    (void)e;
    ++*(int *)arg;
    return 0;
}

static int
stop_at_two(const struct feed_entry *e, void *arg)
{
    (void)e;
    return ++*(int *)arg == 2;
}

/* n items in an RSS document. */
static char *
many_items(int n)
{
    struct feed_buf b;

    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_puts(&b, "<rss><channel>"), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(
            feed_buf_printf(&b, "<item><title>%d</title></item>", i), 0);
    assert_int_equal(feed_buf_puts(&b, "</channel></rss>"), 0);
    return b.data;
}

/* The guids handed on, each followed by a space. */
static int
list_guid(const struct feed_entry *e, void *arg)
{
    assert_int_equal(feed_buf_printf(arg, "%s ", e->guid ? e->guid : "-"), 0);
    return 0;
}

/* doc parsed with lim in chunks of step bytes (0: whole); the guids
 * handed on into out, and the parser, still to be freed, returned. */
static struct feed_parser *
parse_lim(const struct feed_limits *lim, const char *doc, size_t step,
          struct feed_buf *out)
{
    struct feed_parser *p = feed_parser_new(lim, NULL, list_guid, out);
    size_t len = strlen(doc), off = 0;

    assert_non_null(p);
    feed_buf_reset(out);
    if (step == 0)
        step = len;
    while (off < len) {
        size_t n = len - off < step ? len - off : step;

        assert_int_equal(feed_parser_push(p, doc + off, n, 0), 0);
        off += n;
    }
    assert_int_equal(feed_parser_push(p, NULL, 0, 1), 0);
    assert_string_equal(feed_parser_error(p), "");
    return p;
}

/* Past max_entries the entries are dropped, not the document: the first
 * ones are handed on, the rest is read to its end and counted. */
static void
test_limit_entries(void **state)
{
    static const size_t steps[] = {0, 1, 7};
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf got;
    char note[128];

    (void)state;
    feed_buf_init(&got, 0);
    feed_limits_default(&lim);
    lim.max_entries = 3;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        p = parse_lim(&lim,
                      "<rss><channel><item><guid>a</guid></item><item><guid>b"
                      "</guid></item><item><guid>c</guid></item><item><guid>d"
                      "</guid></item><item><guid>e</guid></item></channel>"
                      "<title>after the items</title></rss>",
                      steps[i], &got);
        assert_string_equal(got.data, "a b c ");
        assert_int_equal(feed_parser_entries(p), 3);
        assert_int_equal(feed_parser_info(p)->over_entries, 2);
        assert_int_equal(feed_parser_info(p)->big_entries, 0);
        assert_int_equal(feed_parser_info(p)->max_entries, 3);
        assert_int_equal(feed_parser_limits_note(p, note, sizeof(note)), 1);
        assert_string_equal(note,
                            "more than 3 entries, the first 3 were taken");
        feed_parser_free(p);
    }
    /* Exactly max_entries: nothing dropped, nothing said. */
    p = parse_lim(&lim,
                  "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>a"
                  "</id></entry><entry><id>b</id></entry><entry><id>c</id>"
                  "</entry></feed>",
                  0, &got);
    assert_string_equal(got.data, "a b c ");
    assert_int_equal(feed_parser_info(p)->over_entries, 0);
    assert_int_equal(feed_parser_limits_note(p, note, sizeof(note)), 0);
    assert_string_equal(note, "");
    /* The counts start again with the next document. */
    assert_int_equal(feed_parser_reset(p, NULL), 0);
    assert_int_equal(feed_parser_info(p)->max_entries, 3);
    feed_parser_free(p);
    /* A JSON Feed likewise. */
    lim.max_entries = 1;
    p = parse_lim(&lim,
                  "{\"version\":\"https://jsonfeed.org/version/1.1\","
                  "\"items\":[{\"id\":\"a\"},{\"id\":\"b\"}]}",
                  0, &got);
    assert_string_equal(got.data, "a ");
    assert_int_equal(feed_parser_info(p)->over_entries, 1);
    feed_parser_free(p);
    feed_buf_free(&got);
}

/* An entry with a field over max_field is dropped, and the rest of the
 * document read on; a field of the feed's own over it is dropped. */
static void
test_limit_field(void **state)
{
    static const size_t steps[] = {0, 1, 5};
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf got;
    char note[256];

    (void)state;
    feed_buf_init(&got, 0);
    feed_limits_default(&lim);
    lim.max_field = 10;
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        p = parse_lim(&lim,
                      "<rss><channel><title>a feed title too long</title>"
                      "<link>http://e/</link>"
                      "<item><guid>a</guid><title>1234567890</title></item>"
                      "<item><guid>b</guid><description>0123<b>45678</b>"
                      "</description></item>"
                      "<item><guid>c</guid><category>ok</category><category>"
                      "0123456789X</category></item>"
                      /* A repeat is read only to be dropped: any length. */
                      "<item><guid>d</guid><guid>0123456789X</guid></item>"
                      "<item><guid>e</guid><title><![CDATA[0123456789X]]>"
                      "</title></item>"
                      "<item><guid>f</guid></item></channel></rss>",
                      steps[i], &got);
        assert_string_equal(got.data, "a d f ");
        assert_int_equal(feed_parser_entries(p), 3);
        assert_int_equal(feed_parser_info(p)->big_entries, 3);
        assert_int_equal(feed_parser_info(p)->big_feed_fields, 1);
        assert_int_equal(feed_parser_info(p)->over_entries, 0);
        assert_null(feed_parser_info(p)->title);
        assert_string_equal(feed_parser_info(p)->link, "http://e/");
        assert_int_equal(feed_parser_limits_note(p, note, sizeof(note)), 1);
        assert_string_equal(note, "3 entries skipped, a field over 10 bytes; "
                                  "the feed's own field over 10 bytes dropped");
        feed_parser_free(p);
    }
    /* A link, an rdf:about, an Atom link or a JSON Feed field: the same. */
    p = parse_lim(
        &lim,
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-"
        "syntax-ns#\" xmlns=\"http://purl.org/rss/1.0/\"><channel>"
        "<title>T</title></channel><item rdf:about=\"http://e/12\">"
        "</item><item rdf:about=\"x\"><link>http://e/10x</link></item>"
        "<item rdf:about=\"y\"/></rdf:RDF>",
        0, &got);
    assert_string_equal(got.data, "y ");
    assert_int_equal(feed_parser_info(p)->big_entries, 2);
    feed_parser_free(p);
    p = parse_lim(&lim,
                  "<feed xmlns=\"http://www.w3.org/2005/Atom\"><link href=\""
                  "http://e/long\"/><entry><id>a</id><link href=\"http://e/"
                  "22x\"/></entry><entry><id>b</id></entry></feed>",
                  0, &got);
    assert_string_equal(got.data, "b ");
    assert_null(feed_parser_info(p)->link);
    assert_int_equal(feed_parser_info(p)->big_entries, 1);
    assert_int_equal(feed_parser_info(p)->big_feed_fields, 1);
    feed_parser_free(p);
    p = parse_lim(&lim,
                  "{\"version\":\"https://jsonfeed.org/version/1.1\","
                  "\"title\":\"0123456789X\",\"items\":[{\"id\":\"a\","
                  "\"content_text\":\"0123456789X\"},{\"id\":\"b\"}]}",
                  0, &got);
    assert_string_equal(got.data, "b ");
    assert_null(feed_parser_info(p)->title);
    assert_int_equal(feed_parser_info(p)->big_entries, 1);
    assert_int_equal(feed_parser_info(p)->big_feed_fields, 1);
    feed_parser_free(p);
    /* Enclosures, images and a JSON Feed's tags: the same. */
    p = parse_lim(&lim,
                  "<rss xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0"
                  ".dtd\"><channel><item><guid>a</guid><enclosure url=\"http:"
                  "//e/long\"/></item><item><guid>b</guid><enclosure url=\""
                  "http://e/\" type=\"audio/mpeg3\"/></item><item><guid>c"
                  "</guid><itunes:image href=\"http://e/long\"/></item><item>"
                  "<guid>d</guid><enclosure url=\"http://e/\" type=\"x\"/>"
                  "</item></channel></rss>",
                  0, &got);
    assert_string_equal(got.data, "d ");
    assert_int_equal(feed_parser_info(p)->big_entries, 3);
    feed_parser_free(p);
    p = parse_lim(&lim,
                  "{\"version\":\"https://jsonfeed.org/version/1.1\","
                  "\"items\":[{\"id\":\"a\",\"tags\":[\"x\","
                  "\"0123456789X\"]},{\"id\":\"b\",\"tags\":[\"x\"]}]}",
                  0, &got);
    assert_string_equal(got.data, "b ");
    assert_int_equal(feed_parser_info(p)->big_entries, 1);
    feed_parser_free(p);
    /* A dropped entry takes no place among the max_entries. */
    lim.max_entries = 2;
    p = parse_lim(&lim,
                  "<rss><channel><item><guid>0123456789X</guid></item><item>"
                  "<guid>a</guid></item><item><guid>b</guid></item><item>"
                  "<guid>c</guid></item></channel></rss>",
                  0, &got);
    assert_string_equal(got.data, "a b ");
    assert_int_equal(feed_parser_info(p)->big_entries, 1);
    assert_int_equal(feed_parser_info(p)->over_entries, 1);
    assert_int_equal(feed_parser_limits_note(p, note, sizeof(note)), 1);
    assert_string_equal(note, "more than 2 entries, the first 2 were taken; "
                              "1 entry skipped, a field over 10 bytes");
    /* A short buffer is cut, and terminated. */
    assert_int_equal(feed_parser_limits_note(p, note, 10), 1);
    assert_string_equal(note, "more than");
    feed_parser_free(p);
    feed_buf_free(&got);
}

/* At the default limits: 2 MiB is the most a field may hold. */
static void
test_limit_field_default(void **state)
{
    struct feed_parser *p;
    struct feed_buf doc, got;
    char note[256];

    (void)state;
    feed_buf_init(&doc, 0);
    feed_buf_init(&got, 0);
    assert_int_equal(feed_buf_puts(&doc, "<rss><channel><item><guid>a</guid>"
                                         "<description>"),
                     0);
    for (int i = 0; i < (2 << 20) / 8; i++)
        assert_int_equal(feed_buf_puts(&doc, "12345678"), 0);
    assert_int_equal(feed_buf_puts(&doc, "</description></item><item><guid>b"
                                         "</guid><description>x"),
                     0);
    for (int i = 0; i < (2 << 20) / 8; i++)
        assert_int_equal(feed_buf_puts(&doc, "12345678"), 0);
    assert_int_equal(feed_buf_puts(&doc, "</description></item>"
                                         "</channel></rss>"),
                     0);
    p = parse_lim(NULL, doc.data, 0, &got);
    assert_string_equal(got.data, "a ");
    assert_int_equal(feed_parser_info(p)->big_entries, 1);
    assert_int_equal(feed_parser_limits_note(p, note, sizeof(note)), 1);
    assert_string_equal(note, "1 entry skipped, a field over 2 MiB");
    feed_parser_free(p);
    feed_buf_free(&doc);
    feed_buf_free(&got);
}

/* Parses, with a field limit of 16 bytes and max_entries n / 2, n
 * entries whose fields go over it (split by references and markup into
 * many pieces), or (arg set) one field of n pieces. */
static void
over_limits(size_t n, void *arg)
{
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf doc;

    feed_limits_default(&lim);
    lim.max_field = 16;
    lim.max_entries = n / 2;
    feed_buf_init(&doc, 0);
    assert_int_equal(feed_buf_puts(&doc, "<rss><channel>"), 0);
    if (arg) {
        assert_int_equal(feed_buf_puts(&doc, "<item><description>"), 0);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(feed_buf_puts(&doc, "a&amp;<b>b</b>"), 0);
        assert_int_equal(feed_buf_puts(&doc, "</description></item>"), 0);
    } else {
        for (size_t i = 0; i < n; i++)
            assert_int_equal(
                feed_buf_printf(&doc,
                                "<item><guid>%zu</guid><title>a&amp;b&lt;c"
                                "&gt;d&amp;e&amp;f&amp;g&amp;h&amp;i&amp;j"
                                "</title><category>k</category></item>",
                                i),
                0);
    }
    assert_int_equal(feed_buf_puts(&doc, "</channel></rss>"), 0);
    p = feed_parser_new(&lim, NULL, NULL, NULL);
    assert_non_null(p);
    assert_int_equal(feed_parser_push(p, doc.data, doc.len, 1), 0);
    assert_int_equal(feed_parser_info(p)->big_entries +
                         feed_parser_info(p)->over_entries,
                     arg ? 1 : n);
    feed_parser_free(p);
    feed_buf_free(&doc);
}

/* What is over a limit costs no more than what is within it. */
static void
test_limits_linear(void **state)
{
    static int one_field = 1;

    (void)state;
    assert_linear("entries over the limits", over_limits, NULL, 1000, 1u << 18);
    assert_linear("a field over the limit", over_limits, &one_field, 1000,
                  1u << 20);
}

/* WebSub discovery (W3C WebSub §4): the first hub and self links of the
 * feed, in Atom and as atom:link in an RSS channel, resolved; an entry's
 * own links and later repeats are not the feed's. */
static void
test_websub_links(void **state)
{
    static const size_t steps[] = {0, 1, 7};
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf got;

    (void)state;
    feed_buf_init(&got, 0);
    feed_limits_default(&lim);
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        p = parse_lim(&lim,
                      "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                      "xml:base=\"http://e.org/d/\"><link rel=\"alternate\" "
                      "href=\"http://e.org/\"/><link rel=\"hub\" href=\" "
                      "http://hub.e/ \"/><link rel=\"self\" href=\"f.atom\"/>"
                      "<link rel=\"hub\" href=\"http://second.e/\"/><entry>"
                      "<id>a</id><link rel=\"self\" href=\"http://e/x\"/>"
                      "</entry></feed>",
                      steps[i], &got);
        assert_string_equal(got.data, "a ");
        assert_string_equal(feed_parser_info(p)->link, "http://e.org/");
        assert_string_equal(feed_parser_info(p)->hub, "http://hub.e/");
        assert_string_equal(feed_parser_info(p)->self, "http://e.org/d/f.atom");
        feed_parser_free(p);
        p = parse_lim(&lim,
                      "<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/"
                      "2005/Atom\"><channel><title>T</title><link>http://e/"
                      "</link><atom:link rel=\"self\" type=\"application/"
                      "rss+xml\" href=\"http://e/rss\"/><atom:link rel=\"hub\""
                      " href=\"https://pubsubhubbub.appspot.com/\"/><item>"
                      "<guid>b</guid></item></channel></rss>",
                      steps[i], &got);
        assert_string_equal(got.data, "b ");
        assert_string_equal(feed_parser_info(p)->link, "http://e/");
        assert_string_equal(feed_parser_info(p)->hub,
                            "https://pubsubhubbub.appspot.com/");
        assert_string_equal(feed_parser_info(p)->self, "http://e/rss");
        feed_parser_free(p);
    }
    /* JSON Feed 1.1: "hubs" of type WebSub, and "feed_url". */
    p = parse_lim(&lim,
                  "{\"version\":\"https://jsonfeed.org/version/1.1\","
                  "\"feed_url\":\"http://e/feed.json\",\"hubs\":[{\"type\":"
                  "\"rssCloud\",\"url\":\"http://cloud/\"},{\"type\":"
                  "\"websub\",\"url\":\"http://hub/\"}],\"items\":[{\"id\":"
                  "\"d\"}]}",
                  0, &got);
    assert_string_equal(got.data, "d ");
    assert_string_equal(feed_parser_info(p)->hub, "http://hub/");
    assert_string_equal(feed_parser_info(p)->self, "http://e/feed.json");
    feed_parser_free(p);
    /* None advertised: NULL. */
    p = parse_lim(&lim,
                  "<rss><channel><link>http://e/</link><item><guid>c</guid>"
                  "</item></channel></rss>",
                  0, &got);
    assert_null(feed_parser_info(p)->hub);
    assert_null(feed_parser_info(p)->self);
    feed_parser_free(p);
    feed_buf_free(&got);
}

/* n hub and self links: the first of each is taken, in time linear in n. */
static void
many_hubs(size_t n, void *arg)
{
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf doc;

    (void)arg;
    feed_limits_default(&lim);
    feed_buf_init(&doc, 0);
    assert_int_equal(
        feed_buf_puts(&doc, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"), 0);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(feed_buf_printf(&doc,
                                         "<link rel=\"hub\" href=\"http://h/"
                                         "%zu\"/><link rel=\"self\" "
                                         "href=\"http://s/%zu\"/>",
                                         i, i),
                         0);
    assert_int_equal(feed_buf_puts(&doc, "</feed>"), 0);
    p = feed_parser_new(&lim, NULL, NULL, NULL);
    assert_non_null(p);
    assert_int_equal(feed_parser_push(p, doc.data, doc.len, 1), 0);
    assert_string_equal(feed_parser_info(p)->hub, "http://h/0");
    assert_string_equal(feed_parser_info(p)->self, "http://s/0");
    feed_parser_free(p);
    feed_buf_free(&doc);
}

static void
test_websub_links_linear(void **state)
{
    (void)state;
    assert_linear("hub and self links", many_hubs, NULL, 1000, 1u << 18);
}

static void
test_limits(void **state)
{
    struct feed_limits lim;
    struct feed_parser *p;
    struct feed_buf deep;
    char *doc;
    int n = 0;

    (void)state;
    /* Bytes per document: refused before they reach expat, and unlike
     * the entries and fields, they fail the document. */
    doc = many_items(5);
    feed_limits_default(&lim);
    lim.max_bytes = 40;
    n = 0;
    p = feed_parser_new(&lim, NULL, count_entry, &n);
    assert_int_equal(feed_parser_push(p, doc, 30, 0), 0);
    assert_int_equal(feed_parser_push(p, doc + 30, 30, 0), FEED_E_LIMIT);
    assert_string_equal(feed_parser_error(p),
                        "the document is larger than the limit of 40 bytes");
    feed_parser_free(p);
    free(doc);
    lim.max_bytes = 32u << 20;
    p = feed_parser_new(&lim, NULL, count_entry, &n);
    assert_int_equal(feed_parser_push(p, "<rss>", 5, 0), 0);
    assert_int_equal(feed_parser_push(p, "", lim.max_bytes, 0), FEED_E_LIMIT);
    assert_string_equal(feed_parser_error(p),
                        "the document is larger than the limit of 32 MiB");
    feed_parser_free(p);

    /* Nesting depth. */
    feed_limits_default(&lim);
    lim.max_depth = 16;
    feed_buf_init(&deep, 0);
    assert_int_equal(feed_buf_puts(&deep, "<rss><channel><item>"), 0);
    /* More than the 4 KiB the parser holds to find the encoding, so that
     * this one push reaches expat. */
    for (int i = 0; i < 2000; i++)
        assert_int_equal(feed_buf_puts(&deep, "<x>"), 0);
    p = feed_parser_new(&lim, NULL, count_entry, &n);
    assert_int_equal(feed_parser_push(p, deep.data, deep.len, 0), FEED_E_LIMIT);
    assert_string_equal(feed_parser_error(p), "elements nested deeper than 16");
    /* An error is sticky. */
    assert_int_equal(feed_parser_push(p, "<y/>", 4, 1), FEED_E_LIMIT);
    feed_parser_free(p);
    feed_buf_free(&deep);
}

static void
test_stop(void **state)
{
    struct feed_parser *p;
    char *doc = many_items(4);
    int n = 0;

    (void)state;
    p = feed_parser_new(NULL, NULL, stop_at_two, &n);
    assert_int_equal(feed_parser_push(p, doc, strlen(doc), 1), FEED_E_STOPPED);
    assert_int_equal(n, 2);
    assert_int_equal(feed_parser_entries(p), 2);
    feed_parser_free(p);
    free(doc);
    /* Freeing a parser mid-document, or none, is fine. */
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, "<rss><channel><item>", 20, 0), 0);
    feed_parser_free(p);
    feed_parser_free(NULL);
}

/* When to ask again, as the feed says: ttl (minutes), skipHours (24 is
 * midnight), skipDays (any case), the syndication module; what does not
 * read is left out. */
static void
test_schedule_hints(void **state)
{
    static const char rss[] =
        "<rss version=\"2.0\"><channel><title>T</title><ttl>180</ttl>"
        "<skipHours><hour>0</hour><hour>7</hour><hour>24</hour>"
        "<hour>25</hour><hour>x</hour></skipHours>"
        "<skipDays><day>Saturday</day><day>sunday</day><day>Caturday</day>"
        "</skipDays><item><title>a</title></item></channel></rss>";
    static const char rdf[] =
        "<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" "
        "xmlns=\"http://purl.org/rss/1.0/\" "
        "xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\">"
        "<channel><title>T</title><sy:updatePeriod> daily </sy:updatePeriod>"
        "<sy:updateFrequency>4</sy:updateFrequency></channel>"
        "<item><title>a</title></item></rdf:RDF>";
    static const char none[] =
        "<rss version=\"2.0\"><channel><ttl>soon</ttl><item><title>a</title>"
        "<ttl>5</ttl></item></channel></rss>";
    const struct feed_info *fi;
    struct feed_parser *p;

    (void)state;
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, rss, sizeof(rss) - 1, 1), 0);
    fi = feed_parser_info(p);
    assert_int_equal(fi->ttl, 180 * 60);
    assert_int_equal(fi->skip_hours, (1u << 0) | (1u << 7));
    assert_int_equal(fi->skip_days, (1u << 6) | (1u << 0));
    assert_int_equal(fi->update_period, 0);
    feed_parser_free(p);
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, rdf, sizeof(rdf) - 1, 1), 0);
    fi = feed_parser_info(p);
    assert_int_equal(fi->update_period, 86400);
    assert_int_equal(fi->update_frequency, 4);
    assert_int_equal(fi->ttl, 0);
    feed_parser_free(p);
    /* A ttl that is no number; one inside an item is no channel's. */
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, none, sizeof(none) - 1, 1), 0);
    assert_int_equal(feed_parser_info(p)->ttl, 0);
    feed_parser_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rss20),
        cmocka_unit_test(test_atom10),
        cmocka_unit_test(test_rss10),
        cmocka_unit_test(test_undeclared_prefix),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_entities),
        cmocka_unit_test(test_laughs),
        cmocka_unit_test(test_rss091),
        cmocka_unit_test(test_rss11),
        cmocka_unit_test(test_atom03),
        cmocka_unit_test(test_atom_entry),
        cmocka_unit_test(test_media),
        cmocka_unit_test(test_cdf),
        cmocka_unit_test(test_jsonfeed),
        cmocka_unit_test(test_no_namespace_atom),
        cmocka_unit_test(test_sniff_chunking),
        cmocka_unit_test(test_chunk_sizes),
        cmocka_unit_test(test_late_fault),
        cmocka_unit_test(test_many_attributes),
        cmocka_unit_test(test_push_after_last),
        cmocka_unit_test(test_relative_urls),
        cmocka_unit_test(test_jsonfeed_late_bad_byte),
        cmocka_unit_test(test_relative_urls_rss),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_atom_rows),
        cmocka_unit_test(test_cdf_rows),
        cmocka_unit_test(test_atom_other_type),
        cmocka_unit_test(test_rss_atom_weak),
        cmocka_unit_test(test_atom_id_base),
        cmocka_unit_test(test_rss_guid_base),
        cmocka_unit_test(test_rss_title_text),
        cmocka_unit_test(test_atom03_mode_xml),
        cmocka_unit_test(test_rss_mismatched_end),
        cmocka_unit_test(test_mismatched_end),
        cmocka_unit_test(test_external),
        cmocka_unit_test(test_notfeed),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_limit_entries),
        cmocka_unit_test(test_limit_field),
        cmocka_unit_test(test_limit_field_default),
        cmocka_unit_test(test_limits_linear),
        cmocka_unit_test(test_websub_links),
        cmocka_unit_test(test_websub_links_linear),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_schedule_hints),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

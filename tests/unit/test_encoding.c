/* tests/unit/test_encoding.c - what the parser makes of the bytes
 * publishers send: encodings (declared, by BOM, by HTTP charset, or not at
 * all), bytes that are not what they claim, and the XML slips feeds.c
 * repairs. Every case is parsed whole and in 1- and 7-byte chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <iconv.h>

#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/parse.h"

struct got {
    char title[512];
    char link[512];
    char summary[512];
    int n;
};

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct got *g = arg;

    if (g->n++ == 0) {
        snprintf(g->title, sizeof(g->title), "%s", e->title ? e->title : "");
        snprintf(g->link, sizeof(g->link), "%s", e->link ? e->link : "");
        snprintf(g->summary, sizeof(g->summary), "%s",
                 e->summary ? e->summary : "");
    }
    return 0;
}

/* Parses doc[0..len) in chunks of step (0: whole) with an HTTP charset;
 * checks the first entry's title (and the encoding used, when given). */
static void
expect_one(const char *doc, size_t len, const char *charset, size_t step,
           const char *title, const char *encoding)
{
    struct feed_parser *p;
    struct got g;
    size_t off = 0;
    int rc = 0;

    memset(&g, 0, sizeof(g));
    p = feed_parser_new(NULL, NULL, on_entry, &g);
    assert_non_null(p);
    assert_int_equal(feed_parser_charset(p, charset), 0);
    if (step == 0)
        step = len ? len : 1;
    while (off < len && rc == 0) {
        size_t n = len - off < step ? len - off : step;

        rc = feed_parser_push(p, doc + off, n, 0);
        off += n;
    }
    if (rc == 0)
        rc = feed_parser_push(p, NULL, 0, 1);
    if (rc != 0)
        fail_msg("parse failed: %s", feed_parser_error(p));
    assert_int_equal(g.n, 1);
    assert_string_equal(g.title, title);
    if (encoding)
        assert_string_equal(feed_parser_info(p)->encoding, encoding);
    feed_parser_free(p);
}

static void
expect(const char *doc, size_t len, const char *charset, const char *title,
       const char *encoding)
{
    expect_one(doc, len, charset, 0, title, encoding);
    expect_one(doc, len, charset, 1, title, encoding);
    expect_one(doc, len, charset, 7, title, encoding);
}

/* utf8 converted to encoding, into a malloc'd buffer; *len its size. */
static char *
encode(const char *utf8, const char *encoding, size_t *len)
{
    iconv_t cd = iconv_open(encoding, "UTF-8");
    size_t in = strlen(utf8), cap = in * 4 + 16, out = cap;
    char *buf = malloc(cap), *ip = (char *)utf8, *op = buf;

    assert_true(cd != (iconv_t)-1);
    assert_non_null(buf);
    assert_true(iconv(cd, &ip, &in, &op, &out) != (size_t)-1);
    iconv_close(cd);
    *len = cap - out;
    return buf;
}

/* An RSS document whose one item has title t, declaring decl (or no
 * declaration when NULL). */
static char *
rss(const char *decl, const char *t)
{
    char *doc = malloc(1024);

    assert_non_null(doc);
    if (decl)
        snprintf(doc, 1024,
                 "<?xml version=\"1.0\" encoding=\"%s\"?>\n<rss version=\"2.0\">"
                 "<channel><title>c</title><item><title>%s</title></item>"
                 "</channel></rss>\n",
                 decl, t);
    else
        snprintf(doc, 1024,
                 "<rss version=\"2.0\"><channel><title>c</title><item>"
                 "<title>%s</title></item></channel></rss>\n",
                 t);
    return doc;
}

static void
test_declared(void **state)
{
    static const struct {
        const char *iconv, *decl, *text, *used;
    } cases[] = {
        {"WINDOWS-1251", "windows-1251", "Путин в Харбине", "windows-1251"},
        {"KOI8-R", "KOI8-R", "Новости дня", "koi8-r"},
        {"ISO-8859-15", "iso-8859-15", "Prix: 5 € ou plus", "iso-8859-15"},
        {"SHIFT_JIS", "Shift_JIS", "日本語のニュース", "cp932"},
        {"EUC-JP", "EUC-JP", "日本語のニュース", "euc-jp"},
        {"GB18030", "GB2312", "中文新闻标题", "gb18030"},
        {"BIG5", "Big5", "中文新聞標題", "big5-hkscs"},
        {"WINDOWS-1252", "ISO-8859-1", "Café “quoted”", "windows-1252"},
    };
    size_t i, len;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *utf8 = rss(cases[i].decl, cases[i].text);
        char *doc = encode(utf8, cases[i].iconv, &len);

        expect(doc, len, NULL, cases[i].text, cases[i].used);
        free(doc);
        free(utf8);
    }
}

static void
test_bom_and_utf16(void **state)
{
    char *utf8 = rss("UTF-16", "Grüße, 世界");
    char *le = NULL, *be, *u32;
    size_t len, blen, ulen;

    (void)state;
    /* UTF-16LE with a BOM (iconv's "UTF-16" writes one, little-endian
     * here), and big-endian without one. */
    le = encode(utf8, "UTF-16LE", &len);
    {
        char *bom = malloc(len + 2);

        memcpy(bom, "\xff\xfe", 2);
        memcpy(bom + 2, le, len);
        expect(bom, len + 2, NULL, "Grüße, 世界", "utf-16le");
        free(bom);
    }
    be = encode(utf8, "UTF-16BE", &blen);
    expect(be, blen, NULL, "Grüße, 世界", "utf-16be");
    u32 = encode(utf8, "UTF-32LE", &ulen);
    expect(u32, ulen, NULL, "Grüße, 世界", "utf-32le");
    free(le);
    free(be);
    free(u32);
    free(utf8);

    /* A UTF-8 BOM, and white space before the XML declaration. */
    utf8 = rss("utf-8", "BOM first");
    {
        char doc[1100];

        snprintf(doc, sizeof(doc), "\xef\xbb\xbf  \n%s", utf8);
        expect(doc, strlen(doc), NULL, "BOM first", "utf-8");
    }
    free(utf8);
}

static void
test_precedence(void **state)
{
    char *utf8 = rss("windows-1251", "Привет");
    char *doc;
    size_t len;

    (void)state;
    /* RFC 7303 §3: the HTTP charset beats the XML declaration. */
    doc = encode(utf8, "KOI8-R", &len);
    expect(doc, len, "koi8-r", "Привет", "koi8-r");
    free(doc);
    /* A charset of UTF-16 over 8-bit bytes is plainly wrong: ignored. */
    doc = encode(utf8, "WINDOWS-1251", &len);
    expect(doc, len, "utf-16", "Привет", "windows-1251");
    free(doc);
    free(utf8);
    /* A single-byte declaration over bytes that are UTF-8 is wrong. */
    utf8 = rss("iso-8859-1", "Café");
    expect(utf8, strlen(utf8), NULL, "Café", "utf-8");
    free(utf8);
}

static void
test_not_what_it_says(void **state)
{
    char *doc;
    size_t len;

    (void)state;
    /* Declared UTF-8, but windows-1252 bytes: read as windows-1252. */
    doc = rss("utf-8", "caf\xe9 \x93quoted\x94");
    expect(doc, strlen(doc), NULL, "café “quoted”", "utf-8");
    free(doc);
    /* No declaration, not UTF-8: guessed (uchardet). */
    {
        char *utf8 = rss(NULL, "Как пережить новогоднюю ночь: советы и "
                               "рецепты для праздничного стола");

        doc = encode(utf8, "KOI8-R", &len);
        expect(doc, len, NULL,
               "Как пережить новогоднюю ночь: советы и рецепты для "
               "праздничного стола",
               "koi8-r");
        free(doc);
        free(utf8);
    }
    /* Characters XML forbids become spaces, the feed is kept. */
    doc = rss("utf-8", "a\x01" "b\x0b" "c");
    expect(doc, strlen(doc), NULL, "a b c", NULL);
    free(doc);
    /* An unknown encoding name: read as UTF-8, not lost. */
    doc = rss("x-no-such-charset", "plain");
    expect(doc, strlen(doc), NULL, "plain", "utf-8");
    free(doc);
}

static void
test_repairs(void **state)
{
    static const char bare_amp[] =
        "<rss><channel><item><title>Fish & Chips &copy; &#X41;&#x1a;!</title>"
        "<link>http://example.com/?a=1&b=2</link></item></channel></rss>";
    static const char late_decl[] =
        "<!-- generated -->\n<?xml version=\"1.0\"?>\n<rss><channel><item>"
        "<title>late declaration</title></item></channel></rss>";
    static const char cdata[] =
        "<rss><channel><item><title><![CDATA[a & b &amp; <c>]]></title>"
        "<!-- & in a comment --></item></channel></rss>";
    struct feed_parser *p;
    struct got g;

    (void)state;
    expect(bare_amp, strlen(bare_amp), NULL, "Fish & Chips © A !", NULL);
    memset(&g, 0, sizeof(g));
    p = feed_parser_new(NULL, NULL, on_entry, &g);
    assert_int_equal(feed_parser_push(p, bare_amp, strlen(bare_amp), 1), 0);
    assert_string_equal(g.link, "http://example.com/?a=1&b=2");
    feed_parser_free(p);
    expect(late_decl, strlen(late_decl), NULL, "late declaration", NULL);
    /* CDATA is left alone: its '&' is text; the title is then plain text
     * with entities decoded, as every title is. */
    expect(cdata, strlen(cdata), NULL, "a & b &", NULL);
    /* The charset can only be set before the first push. */
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, "<rss>", 5, 0), 0);
    assert_int_equal(feed_parser_charset(p, "utf-8"), FEED_E_INVAL);
    feed_parser_free(p);
}

static void
test_json_feed(void **state)
{
    static const char doc[] =
        "  {\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": \"J\","
        " \"home_page_url\": \"https://example.org/\","
        " \"authors\": [{\"name\": \"Feed Author\"}],"
        " \"items\": [{\"id\": \"1\", \"url\": \"/a\", \"title\": \"A & B\","
        " \"content_text\": \"x < y\", \"date_published\": "
        "\"2024-05-17T10:00:00+02:00\", \"tags\": [\"t1\", \"t2\"],"
        " \"attachments\": [{\"url\": \"https://example.org/a.mp3\","
        " \"mime_type\": \"audio/mpeg\", \"size_in_bytes\": 1234}]}]}";
    struct feed_parser *p;
    struct got g;

    (void)state;
    expect(doc, strlen(doc), NULL, "A & B", NULL);
    memset(&g, 0, sizeof(g));
    p = feed_parser_new(NULL, NULL, on_entry, &g);
    assert_int_equal(feed_parser_push(p, doc, strlen(doc), 1), 0);
    assert_int_equal(feed_parser_info(p)->format, FEED_FORMAT_JSON11);
    assert_string_equal(feed_parser_info(p)->title, "J");
    /* Relative URLs resolve against home_page_url. */
    assert_string_equal(g.link, "https://example.org/a");
    feed_parser_free(p);
    /* JSON that is no JSON Feed, and JSON that does not parse. */
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, "{\"a\": 1}", 8, 1), FEED_E_NOTFEED);
    feed_parser_free(p);
    p = feed_parser_new(NULL, NULL, NULL, NULL);
    assert_int_equal(feed_parser_push(p, "{\"version\": ", 12, 1), FEED_E_XML);
    assert_non_null(strstr(feed_parser_error(p), "line 1"));
    feed_parser_free(p);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_declared),
        cmocka_unit_test(test_bom_and_utf16),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_not_what_it_says),
        cmocka_unit_test(test_repairs),
        cmocka_unit_test(test_json_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

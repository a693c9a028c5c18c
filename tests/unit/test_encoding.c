/* tests/unit/test_encoding.c - feeds/encoding.c directly (which encoding
 * wins, the conversion), then what the parser makes of the bytes
 * publishers send: encodings (declared, by BOM, by HTTP charset, or not at
 * all), bytes that are not what they claim, and the XML slips the byte
 * layer repairs. Every parser case is parsed whole and in 1- and 7-byte
 * chunks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <iconv.h>

#include "encoding.h"
#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "linear.h"

/* feed_encoding_choose() on s (n bytes) with charset: the name and BOM. */
static void
expect_choice(const char *charset, const char *s, size_t n, const char *name,
              size_t bom)
{
    char got[48];

    assert_int_equal(feed_encoding_choose(charset, (const unsigned char *)s, n,
                                          got, sizeof(got)),
                     bom);
    assert_string_equal(got, name);
}

#define CHOICE(charset, lit, name, bom)                                        \
    expect_choice(charset, lit, sizeof(lit) - 1, name, bom)

static void
test_choose(void **state)
{
    char big[ENCODING_SNIFF + 64];

    (void)state;
    /* Byte order marks, and the zero bytes around a first '<'. */
    CHOICE(NULL, "\xef\xbb\xbf<a/>", "", 3);
    CHOICE("koi8-r", "\xef\xbb\xbf<a/>", "", 3);
    CHOICE(NULL, "\xff\xfe<\0a\0", "UTF-16LE", 2);
    CHOICE(NULL, "\xfe\xff\0<\0a", "UTF-16BE", 2);
    CHOICE(NULL, "\xff\xfe\0\0<\0\0\0", "UTF-32LE", 4);
    CHOICE(NULL, "\0\0\xfe\xff\0\0\0<", "UTF-32BE", 4);
    CHOICE(NULL, "<\0?\0", "UTF-16LE", 0);
    CHOICE(NULL, "\0<\0?", "UTF-16BE", 0);
    CHOICE(NULL, "<\0\0\0", "UTF-32LE", 0);
    /* The HTTP charset, then the declaration (RFC 7303 §3). */
    CHOICE("windows-1251", "<?xml version='1.0' encoding='koi8-r'?>",
           "windows-1251", 0);
    CHOICE(NULL, "<?xml version='1.0' encoding='koi8-r'?>", "koi8-r", 0);
    CHOICE(NULL, " \n<?xml version=\"1.0\" encoding = \"KOI8-R\" ?>", "KOI8-R",
           0);
    CHOICE("utf-16", "<?xml version='1.0' encoding='koi8-r'?>", "koi8-r", 0);
    CHOICE(NULL, "<?xml version='1.0' encoding='utf-16'?><a/>", "", 0);
    CHOICE(NULL, "<?xml version='1.0'?><a>x</a>", "", 0);
    CHOICE(NULL, "<a encoding='koi8-r'/>", "", 0);
    /* Labels to what browsers read them as; UTF-8's names to "". */
    CHOICE("ISO-8859-1", "<a/>", "WINDOWS-1252", 0);
    CHOICE("latin1", "<a/>", "WINDOWS-1252", 0);
    CHOICE("Shift_JIS", "<a/>", "CP932", 0);
    CHOICE("gb2312", "<a/>", "GB18030", 0);
    CHOICE("us-ascii", "<a/>", "", 0);
    CHOICE("UTF8", "<a/>", "", 0);
    CHOICE("x-unknown", "<a/>", "x-unknown", 0);
    /* A single-byte label over what is plainly UTF-8 is the mistake. */
    CHOICE("iso-8859-1", "<a>caf\xc3\xa9</a>", "", 0);
    CHOICE("iso-8859-1", "<a>caf\xe9</a>", "WINDOWS-1252", 0);
    CHOICE("shift_jis", "<a>caf\xc3\xa9</a>", "CP932", 0);
    /* Only the first ENCODING_SNIFF bytes count. */
    memset(big, 'a', sizeof(big));
    big[sizeof(big) - 1] = (char)0xe9;
    expect_choice(NULL, big, sizeof(big), "", 0);
    /* A character cut at the end of the sample is still UTF-8. */
    memcpy(big + ENCODING_SNIFF - 1, "\xc3\xa9", 2);
    expect_choice(NULL, big, sizeof(big), "", 0);
}

struct conv_out {
    struct feed_buf b;
    int lasts;
};

static int
conv_collect(const char *s, size_t n, int last, void *arg)
{
    struct conv_out *o = arg;

    o->lasts += last != 0;
    return feed_buf_append(&o->b, s, n);
}

/* in (n bytes, from encoding name) converted in pieces of step. */
static void
expect_conv(const char *name, const char *in, size_t n, size_t step,
            const char *want, int replaced)
{
    struct feed_encoding_conv conv;
    struct conv_out o = {{0}, 0};

    feed_buf_init(&o.b, 0);
    assert_int_equal(feed_encoding_conv_open(&conv, name), 0);
    for (size_t at = 0; at < n; at += step)
        assert_int_equal(feed_encoding_conv_push(&conv, in + at,
                                                 n - at < step ? n - at : step,
                                                 0, conv_collect, &o),
                         0);
    assert_int_equal(
        feed_encoding_conv_push(&conv, NULL, 0, 1, conv_collect, &o), 0);
    assert_int_equal(o.lasts, 1);
    assert_string_equal(feed_buf_str(&o.b), want);
    assert_int_equal(conv.replaced, replaced);
    feed_encoding_conv_close(&conv);
    feed_buf_free(&o.b);
}

static void
test_conv(void **state)
{
    static const char cp1251[] = "\xcf\xf0\xe8\xe2\xe5\xf2";
    static const char sjis[] = "\x93\xfa\x96\x7b";

    (void)state;
    for (size_t step = 1; step <= 7; step++) {
        expect_conv("WINDOWS-1251", cp1251, 6, step, "Привет", 0);
        /* Characters of two bytes cut anywhere. */
        expect_conv("CP932", sjis, 4, step, "日本", 0);
        /* What means nothing, and what the end cuts: U+FFFD. */
        expect_conv("CP932", "a\x93", 2, step, "a\xef\xbf\xbd", 1);
    }
    {
        struct feed_encoding_conv conv;

        assert_int_equal(feed_encoding_conv_open(&conv, "x-no-such-charset"),
                         -1);
        feed_encoding_conv_close(&conv);
    }
}

static int
conv_count(const char *s, size_t n, int last, void *arg)
{
    (void)s;
    (void)last;
    *(size_t *)arg += n;
    return 0;
}

/* A body of n bytes that each mean nothing in windows-1252 (0x81),
 * converted in 16 KiB chunks: a call of iconv per byte. */
static void
conv_bad_run(size_t n, void *arg)
{
    struct feed_encoding_conv conv;
    size_t got = 0;
    char *in = malloc(n);

    (void)arg;
    assert_non_null(in);
    memset(in, 0x81, n);
    assert_int_equal(feed_encoding_conv_open(&conv, "WINDOWS-1252"), 0);
    for (size_t at = 0; at < n; at += 16384)
        assert_int_equal(feed_encoding_conv_push(
                             &conv, in + at, n - at < 16384 ? n - at : 16384, 0,
                             conv_count, &got),
                         0);
    assert_int_equal(
        feed_encoding_conv_push(&conv, NULL, 0, 1, conv_count, &got), 0);
    assert_int_equal(got, 3 * n);
    feed_encoding_conv_close(&conv);
    free(in);
}

static void
choose_run(size_t n, void *arg)
{
    char name[48];
    char *in = malloc(n);

    (void)arg;
    assert_non_null(in);
    memcpy(in, "<?xml ", 6);
    for (size_t i = 6; i < n; i++)
        in[i] = "encodin"[i % 7];
    feed_encoding_choose(NULL, (const unsigned char *)in, n, name,
                         sizeof(name));
    free(in);
}

static void
test_linear(void **state)
{
    (void)state;
    assert_linear("feed_encoding_conv_push of bytes that mean nothing",
                  conv_bad_run, NULL, 1 << 14, 1 << 22);
    /* Bounded by ENCODING_SNIFF: flat, which passes too. */
    assert_linear("feed_encoding_choose", choose_run, NULL, 1 << 10, 1 << 20);
}

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
        snprintf(
            doc, 1024,
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
    doc = rss("utf-8", "a\x01"
                       "b\x0b"
                       "c");
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
     * with entities decoded, as every title is ("<c>" is no HTML tag: it
     * stays, issue 9 B). */
    expect(cdata, strlen(cdata), NULL, "a & b & <c>", NULL);
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
        "  {\"version\": \"https://jsonfeed.org/version/1.1\", \"title\": "
        "\"J\","
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
        cmocka_unit_test(test_choose),
        cmocka_unit_test(test_conv),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_declared),
        cmocka_unit_test(test_bom_and_utf16),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_not_what_it_says),
        cmocka_unit_test(test_repairs),
        cmocka_unit_test(test_json_feed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

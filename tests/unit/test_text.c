/* tests/unit/test_text.c - the in-place text passes of text.c (entities,
 * markup, trimming, base64, relative URLs in HTML): what each does, and
 * that each is linear in its text however hostile the text is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "entities.h"
#include "feeds/buf.h"
#include "feeds/url.h"
#include "linear.h"
#include "text.h"

#define BASE "http://example.com/dir/page.html"

/* s into a fresh buffer with cap max (0: none). */
static struct feed_buf
make(const char *s, size_t max)
{
    struct feed_buf b;

    feed_buf_init(&b, max);
    assert_int_equal(feed_buf_puts(&b, s), 0);
    return b;
}

static void
check_decode(const char *in, const char *want)
{
    struct feed_buf b = make(in, 0);

    feed_text_decode_entities(&b);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    feed_buf_free(&b);
}

static void
test_decode(void **state)
{
    (void)state;
    check_decode("a &amp; b", "a & b");
    check_decode("&lt;&gt;&quot;&apos;", "<>\"'");
    check_decode("&#65;&#x42;&#X43;&#x6a;", "ABCj");
    check_decode("caf&eacute; &Eacute;", "caf\xc3\xa9 \xc3\x89");
    /* The longest name and the largest code point, each just in reach. */
    check_decode("&thetasym;", "\xcf\x91");
    check_decode("&#1114111;", "\xf4\x8f\xbf\xbf");
    check_decode("&#x10FFFF;", "\xf4\x8f\xbf\xbf");
    check_decode("&#x1F600;", "\xf0\x9f\x98\x80");
    check_decode("&#8212;", "\xe2\x80\x94");
    check_decode("&&amp;&", "&&&");
    /* What is not a reference this decodes stays as written. */
    check_decode("&nosuch;", "&nosuch;");
    check_decode("&AMP;", "&AMP;"); /* names are case-sensitive */
    check_decode("&amp", "&amp");
    check_decode("& amp;", "& amp;");
    check_decode("&;&a;", "&;&a;");
    check_decode("&#;&#x;", "&#;&#x;");
    check_decode("&#0;", "&#0;");
    check_decode("&#xd800;", "&#xd800;");
    check_decode("&#x110000;", "&#x110000;");
    check_decode("&#12a;", "&#12a;");
    check_decode("&#x 41;", "&#x 41;");
    check_decode("&#+65;", "&#+65;");
    check_decode("&#x0x41;", "&#x0x41;");
    /* Past REF_MAX: "&#" and 9 digits. */
    check_decode("&#000000065;", "&#000000065;");
    check_decode("&#00000065;", "A");
    check_decode("&longername;x", "&longername;x");
}

static void
check_strip(const char *in, const char *want)
{
    struct feed_buf b = make(in, 0);

    feed_text_strip_markup(&b);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    feed_buf_free(&b);
}

static void
test_strip(void **state)
{
    (void)state;
    check_strip("a <b>bold</b> c", "a bold c");
    check_strip("<p class=\"x\">a &amp; b</p>", "a & b");
    check_strip("x < y and y > z", "x < y and y > z");
    check_strip("a <!-- <b>c</b> --> b", "a  b");
    check_strip("<?php echo 1 ?>t", "t");
    check_strip("<![CDATA[x]]>y", "y");
    check_strip("<script>var x = '<b>';</script>after", "after");
    check_strip("<SCRIPT>x</Script >after", "after");
    check_strip("<style>p{}</STYLE>t", "t");
    check_strip("<script>a</script><style>b</style>c<script>d</script>e", "ce");
    /* Decoded after the tags go: an escaped tag is text. */
    check_strip("&lt;b&gt;x", "<b>x");
    /* What is never closed is text; but a comment with a '>' after it
     * and no "-->" takes the rest. */
    check_strip("a <b and more", "a <b and more");
    check_strip("<script>never closed", "never closed");
    check_strip("<script>x</script", "");
    check_strip("<!-- unclosed", "<!-- unclosed");
    check_strip("a <!-- x > y", "a ");
    check_strip("<a<b>c", "c");
    check_strip("", "");
}

static void
check_tags(const char *in, const char *want)
{
    struct feed_buf b = make(in, 0);

    feed_text_strip_tags(&b);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    feed_buf_free(&b);
}

/* Text of no type: only HTML's element tags and comments are markup. */
static void
test_strip_tags(void **state)
{
    (void)state;
    check_tags("Why std::vector<bool> is odd", "Why std::vector<bool> is odd");
    check_tags("Nice <gorilla> what's he weigh?",
               "Nice <gorilla> what's he weigh?");
    check_tags("<bold>x</bold> <bold/>", "<bold>x</bold> <bold/>");
    check_tags("<b>Bold</b> and <B>BOLD</B>", "Bold and BOLD");
    check_tags("a<br/>b<br />c<BR>d", "abcd");
    check_tags("<a href=\"x\">link</a>", "link");
    check_tags("<h1>t</h1><blockquote>q</blockquote>", "tq");
    check_tags("<figcaption>f</figcaption>", "f");
    check_tags("a <!-- c --> b", "a  b");
    check_tags("<script>x</script>after", "after");
    check_tags("<style>p{}</style>t", "t");
    /* The first name, the last, and names too long to be one. */
    check_tags("<a>1<xmp>2<blockquotes>3<figcaptionx>4",
               "12<blockquotes>3<figcaptionx>4");
    /* Not element tags: kept as text. */
    check_tags("<?php x ?>t", "<?php x ?>t");
    check_tags("<!DOCTYPE html>t", "<!DOCTYPE html>t");
    check_tags("</bool>x</ b>", "</bool>x</ b>");
    check_tags("a <b and more", "a <b and more");
    check_tags("<b", "<b");
    check_tags("</", "</");
    check_tags("x < y > z", "x < y > z");
    check_tags("List<T> and Map<K, V>", "List<T> and Map<K, V>");
    /* Decoded after the tags go: an escaped tag is text. */
    check_tags("&lt;b&gt;x", "<b>x");
    check_tags("", "");
}

static void
test_trim(void **state)
{
    struct feed_buf b = make(" \t a b \r\n", 0);

    (void)state;
    feed_text_trim(&b);
    assert_string_equal(b.data, "a b");
    assert_int_equal(b.len, 3);
    feed_buf_free(&b);
    b = make("   ", 0);
    feed_text_trim(&b);
    assert_string_equal(b.data, "");
    assert_int_equal(b.len, 0);
    feed_buf_free(&b);
}

static void
test_base64(void **state)
{
    struct feed_buf b = make("aGVs\nbG8g d29y bGQ=", 0);

    (void)state;
    assert_int_equal(feed_text_base64_decode(&b), 0);
    assert_string_equal(b.data, "hello world");
    assert_int_equal(b.len, 11);
    feed_buf_free(&b);
    b = make("+/+/", 0);
    assert_int_equal(feed_text_base64_decode(&b), 0);
    assert_memory_equal(b.data, "\xfb\xff\xbf", 3);
    feed_buf_free(&b);
    b = make("aGV*", 0);
    assert_int_equal(feed_text_base64_decode(&b), -1);
    feed_buf_free(&b);
    /* Not in groups of four, or padded wrong: no base64, left as it was
     * (a word under an Atom type that is neither text nor XML). */
    b = make("Hello", 0);
    assert_int_equal(feed_text_base64_decode(&b), -1);
    assert_string_equal(b.data, "Hello");
    feed_buf_free(&b);
    b = make("aGVsbG8", 0);
    assert_int_equal(feed_text_base64_decode(&b), -1);
    feed_buf_free(&b);
    b = make("aGVsbA===", 0);
    assert_int_equal(feed_text_base64_decode(&b), -1);
    feed_buf_free(&b);
    b = make("aG=Vs", 0);
    assert_int_equal(feed_text_base64_decode(&b), -1);
    assert_string_equal(b.data, "aG=Vs");
    feed_buf_free(&b);
    b = make("aGVsbA==", 0);
    assert_int_equal(feed_text_base64_decode(&b), 0);
    assert_string_equal(b.data, "hell");
    feed_buf_free(&b);
}

/* feed_text_resolve_urls() with a base split of its own, freed after. */
static int
resolve_urls(struct feed_buf *b, const char *base, struct feed_buf *tmp)
{
    struct feed_url_base *ub = NULL;
    int rc = feed_text_resolve_urls(b, base, &ub, tmp);

    feed_url_base_free(ub);
    return rc;
}

/* in with its relative URLs resolved against base, within cap max. */
static void
check_resolve_max(const char *base, const char *in, const char *want,
                  size_t max)
{
    struct feed_buf b = make(in, max), tmp;

    feed_buf_init(&tmp, 0);
    assert_int_equal(resolve_urls(&b, base, &tmp), 0);
    assert_string_equal(b.data, want);
    assert_int_equal(b.len, strlen(want));
    assert_int_equal(b.max, max);
    assert_int_equal(tmp.max, 0);
    feed_buf_free(&b);
    feed_buf_free(&tmp);
}

static void
check_resolve(const char *in, const char *want)
{
    check_resolve_max(BASE, in, want, 0);
}

static void
test_resolve(void **state)
{
    (void)state;
    check_resolve("<a href=\"x.html\">x</a>",
                  "<a href=\"http://example.com/dir/x.html\">x</a>");
    check_resolve("<img src='/i.png'>", "<img src='http://example.com/i.png'>");
    check_resolve("<a href=x.html>", "<a href=http://example.com/dir/x.html>");
    check_resolve("<a HREF=\" ../up \">",
                  "<a HREF=\" http://example.com/up \">");
    check_resolve("<video poster=p.jpg src=v.mp4>",
                  "<video poster=http://example.com/dir/p.jpg "
                  "src=http://example.com/dir/v.mp4>");
    check_resolve("<blockquote cite=\"q\">",
                  "<blockquote cite=\"http://example.com/dir/q\">");
    /* What is absolute, not a URL attribute, or not in a tag stays. */
    check_resolve("<a href=\"http://other/x\">", "<a href=\"http://other/x\">");
    check_resolve("<a href=\"mailto:a@b\">", "<a href=\"mailto:a@b\">");
    check_resolve("<a title=\"x.html\">", "<a title=\"x.html\">");
    check_resolve("<a data-href=\"x\">", "<a data-href=\"x\">");
    check_resolve("say href=\"x\" here", "say href=\"x\" here");
    check_resolve("<a title=\" href=x\">", "<a title=\" href=x\">");
    check_resolve("<a href=\"\">", "<a href=\"\">");
    check_resolve("<a href=\"x", "<a href=\"x");
    check_resolve("a < b href=x", "a < b href=x");
    /* srcset: each candidate, its descriptors kept. */
    check_resolve("<img srcset=\"a.png 1x, b.png 2x\">",
                  "<img srcset=\"http://example.com/dir/a.png 1x, "
                  "http://example.com/dir/b.png 2x\">");
    /* A comma inside a URL is the URL's (HTML's "parse a srcset
     * attribute"): only commas after it end a candidate. */
    check_resolve("<img srcset=\"a.png,b.png 2x\">",
                  "<img srcset=\"http://example.com/dir/a.png,b.png 2x\">");
    check_resolve("<img srcset=\"a.png, b.png,, c.png\">",
                  "<img srcset=\"http://example.com/dir/a.png, "
                  "http://example.com/dir/b.png,, "
                  "http://example.com/dir/c.png\">");
    check_resolve("<img srcset=\"http://cdn/a.png 1x, b.png 2x\">",
                  "<img srcset=\"http://cdn/a.png 1x, "
                  "http://example.com/dir/b.png 2x\">");
    /* A URL that cannot be resolved is left, and the text around it
     * is whole. */
    check_resolve_max("nobase", "<a href=x>1</a><a href=y>2</a>",
                      "<a href=x>1</a><a href=y>2</a>", 0);
    check_resolve_max("", "<a href=x>", "<a href=x>", 0);
    /* Resolved longer than the field's cap: left as it was. */
    check_resolve_max(BASE, "<a href=x><a href=y>", "<a href=x><a href=y>", 30);
    check_resolve_max(BASE, "<a href=x>", "<a href=http://example.com/dir/x>",
                      35);
}

/* HTML allows white space around an attribute's '=' (HTML §13.1.2.3). */
static void
test_resolve_spaces(void **state)
{
    (void)state;
    check_resolve("<img srcset =\"a 1x, b 2x\">",
                  "<img srcset =\"http://example.com/dir/a 1x, "
                  "http://example.com/dir/b 2x\">");
    check_resolve("<img srcset =\"http://cdn/a 1x, b 2x\">",
                  "<img srcset =\"http://cdn/a 1x, "
                  "http://example.com/dir/b 2x\">");
    check_resolve("<img srcset= \"http://cdn/a 1x, b 2x\">",
                  "<img srcset= \"http://cdn/a 1x, "
                  "http://example.com/dir/b 2x\">");
    check_resolve("<img srcset\n=\n'a 1x'>",
                  "<img srcset\n=\n'http://example.com/dir/a 1x'>");
    check_resolve("<img src = \"a.png\">",
                  "<img src = \"http://example.com/dir/a.png\">");
    check_resolve("<img src= a.png>",
                  "<img src= http://example.com/dir/a.png>");
    check_resolve("<a href =x>", "<a href =http://example.com/dir/x>");
}

/* ---- linear in the text ---- */

enum pass {
    DECODE,
    STRIP,
    TAGS,
    TRIM,
    BASE64,
    RESOLVE,
    RESOLVE_NOBASE,
    LONG_BASE
};

/* A hostile text: head, then unit repeated to about n bytes, then tail;
 * and the pass to run over it. LONG_BASE: the text is tail repeated to
 * about n bytes, resolved against head, then unit repeated to about n
 * bytes, within a cap of twice the text. */
struct shape {
    enum pass pass;
    const char *head, *unit, *tail;
};

static void
run_long_base(size_t n, const struct shape *s)
{
    size_t lu = strlen(s->unit), lt = strlen(s->tail);
    struct feed_buf b, base, tmp;

    feed_buf_init(&b, 0);
    feed_buf_init(&base, 0);
    feed_buf_init(&tmp, 0);
    assert_int_equal(feed_buf_puts(&base, s->head), 0);
    for (size_t i = 0; i < n / lu + 1; i++)
        assert_int_equal(feed_buf_append(&base, s->unit, lu), 0);
    for (size_t i = 0; i < n / lt + 1; i++)
        assert_int_equal(feed_buf_append(&b, s->tail, lt), 0);
    b.max = 2 * b.len;
    assert_int_equal(resolve_urls(&b, base.data, &tmp), 0);
    feed_buf_free(&b);
    feed_buf_free(&base);
    feed_buf_free(&tmp);
}

static void
run_shape(size_t n, void *arg)
{
    const struct shape *s = arg;
    size_t lu = strlen(s->unit), k = n / lu + 1;
    struct feed_buf b, tmp;

    if (s->pass == LONG_BASE) {
        run_long_base(n, s);
        return;
    }
    feed_buf_init(&b, 0);
    feed_buf_init(&tmp, 0);
    assert_int_equal(feed_buf_puts(&b, s->head), 0);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(feed_buf_append(&b, s->unit, lu), 0);
    assert_int_equal(feed_buf_puts(&b, s->tail), 0);
    switch (s->pass) {
    case DECODE:
        feed_text_decode_entities(&b);
        break;
    case STRIP:
        feed_text_strip_markup(&b);
        break;
    case TAGS:
        feed_text_strip_tags(&b);
        break;
    case TRIM:
        feed_text_trim(&b);
        break;
    case BASE64:
        (void)feed_text_base64_decode(&b);
        break;
    case RESOLVE:
        assert_int_equal(resolve_urls(&b, BASE, &tmp), 0);
        break;
    case RESOLVE_NOBASE:
        assert_int_equal(resolve_urls(&b, "nobase", &tmp), 0);
        break;
    case LONG_BASE:
        break;
    }
    feed_buf_free(&b);
    feed_buf_free(&tmp);
}

static void
check_linear(const struct shape *shapes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char name[64];

        snprintf(name, sizeof(name), "%.20s|%.20s|%.10s", shapes[i].head,
                 shapes[i].unit, shapes[i].tail);
        assert_linear(name, run_shape, (void *)&shapes[i], LINEAR_N0, 1u << 20);
    }
}

static void
test_decode_linear(void **state)
{
    static const struct shape shapes[] = {
        {DECODE, "", "&", ""},         {DECODE, "", "&", ";"},
        {DECODE, "", "&amp;", ""},     {DECODE, "", "&lt;a", ""},
        {DECODE, "", "&a", ";"},       {DECODE, "", "&#1", ";"},
        {DECODE, "", "&#x", ""},       {DECODE, "&#", "9", ";"},
        {DECODE, "", "&thetasym", ""},
    };

    (void)state;
    check_linear(shapes, sizeof(shapes) / sizeof(shapes[0]));
}

static void
test_strip_linear(void **state)
{
    static const struct shape shapes[] = {
        {STRIP, "", "<a", ""},
        {STRIP, "", "<a", ">"},
        {STRIP, "", "<a ", ""},
        {STRIP, "", "<", ""},
        {STRIP, "", "</", ""},
        {STRIP, "", "<!--", ""},
        {STRIP, "", "<!--", ">"},
        {STRIP, "", "<!-- -->", ""},
        {STRIP, "", "<script>", ""},
        {STRIP, "", "<style>", ""},
        {STRIP, "", "<script>", "</"},
        {STRIP, "", "<script></script", ""},
        {STRIP, "", "&lt;a", ""},
        {STRIP, "", "&", ""},
        {STRIP, "<script>", "</scrip", ">"},
        {TAGS, "", "<b", ""},
        {TAGS, "", "<b", ">"},
        {TAGS, "", "<bool", ">"},
        {TAGS, "", "<blockquotex", ""},
        {TAGS, "", "</blockquote", ""},
        {TAGS, "", "<", ""},
        {TAGS, "", "</", ">"},
        {TAGS, "", "<!--", ">"},
        {TAGS, "", "<!-", ">"},
        {TAGS, "", "<script>", "</"},
        {TAGS, "<script>", "</scrip", ">"},
        {TAGS, "", "&lt;b", ""},
    };

    (void)state;
    check_linear(shapes, sizeof(shapes) / sizeof(shapes[0]));
}

static void
test_trim_base64_linear(void **state)
{
    static const struct shape shapes[] = {
        {TRIM, "", " ", "a"},        {TRIM, "a", " ", ""},
        {TRIM, "", " a", " "},       {BASE64, "", "QUJD", ""},
        {BASE64, "", " \n", "QQ=="},
    };

    (void)state;
    check_linear(shapes, sizeof(shapes) / sizeof(shapes[0]));
}

static void
test_resolve_linear(void **state)
{
    static const struct shape shapes[] = {
        {RESOLVE, "<a href=x ", "=", ""},
        {RESOLVE, "<a ", "a=", ""},
        {RESOLVE, "<a", " =", ""},
        {RESOLVE, "", " href= ", ""},
        {RESOLVE, "<img", " src=a/b", ">"},
        {RESOLVE, "<img", " src=\"a/b\"", ">"},
        {RESOLVE, "", "<img src=a>", ""},
        {RESOLVE, "<img", " src=http://a/b", ">"},
        {RESOLVE, "<img srcset=\"", "a.png 1x, ", "\">"},
        {RESOLVE, "<img srcset=\"", "a.png,", "\">"},
        {RESOLVE, "<img srcset=\"", " 1x", "\">"},
        {RESOLVE, "<a href=\"", "a/../", "\">"},
        {RESOLVE, "<a href=\"", "../", "\">"},
        {RESOLVE, "<a href=\"", "a/", "\">"},
        {RESOLVE, "", " src=\"", ""},
        {RESOLVE, "", " src='", ""},
        {RESOLVE, "", " src=\" src='", ""},
        {RESOLVE, "<a", " href='", ""},
        {RESOLVE, "", "<a", ""},
        {RESOLVE, "<a title=\"", " href=x", "\">"},
        {RESOLVE, "", "href=x ", ""},
        {RESOLVE_NOBASE, "", "<a href=b>", ""},
        {RESOLVE_NOBASE, "", " src=\"x\"", ""},
        /* Many links, and a base as long as the text. */
        {LONG_BASE, "http://e/?", "q", "<a href=/b>"},
        {LONG_BASE, "http://e/#", "f", "<a href=b>"},
        {LONG_BASE, "http://e/", "p", "<a href=/b>"},
        {LONG_BASE, "http://e/", "p", "<a href=b>"},
        {LONG_BASE, "http://e/", "p", "<a href=?b>"},
        {LONG_BASE, "http://e/", "p", "<a href=#b>"},
        {LONG_BASE, "http://e/", "p", "<a href=../b>"},
        {LONG_BASE, "http://e/", "p/", "<a href=../../b>"},
        {LONG_BASE, "http://e/", "p/", "<a href=b>"},
        {LONG_BASE, "http://e/", "a/../", "<a href=b>"},
        {LONG_BASE, "http://", "h", "<a href=b>"},
    };

    (void)state;
    check_linear(shapes, sizeof(shapes) / sizeof(shapes[0]));
}

/* bsearch() in feed_html_entity() needs the table sorted by strcmp; a
 * name twice would make one of them unreachable. */
static void
test_entity_table(void **state)
{
    size_t n = feed_html_entity_count();

    (void)state;
    assert_int_equal(n, 253); /* HTML 4.01's 252 and apos */
    for (size_t i = 0; i < n; i++) {
        const char *name = feed_html_entity_name(i);

        assert_non_null(name);
        assert_true(strlen(name) <= 9); /* text.c reads no longer names */
        if (i > 0)
            assert_true(strcmp(feed_html_entity_name(i - 1), name) < 0);
        assert_non_null(feed_html_entity(name));
    }
    assert_null(feed_html_entity_name(n));
    assert_string_equal(feed_html_entity("amp"), "&");
    assert_string_equal(feed_html_entity("nbsp"), "\xc2\xa0");
    assert_null(feed_html_entity("Amp"));
    assert_null(feed_html_entity(""));
}

int
main(void)
{
    linear_setup();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode),
        cmocka_unit_test(test_strip),
        cmocka_unit_test(test_strip_tags),
        cmocka_unit_test(test_trim),
        cmocka_unit_test(test_base64),
        cmocka_unit_test(test_resolve),
        cmocka_unit_test(test_resolve_spaces),
        cmocka_unit_test(test_entity_table),
        cmocka_unit_test(test_decode_linear),
        cmocka_unit_test(test_strip_linear),
        cmocka_unit_test(test_trim_base64_linear),
        cmocka_unit_test(test_resolve_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_sanitize.c - the HTML sanitizer (feeds/sanitize.c):
 * every attack of tests/fixtures/sanitize/xss.txt comes out with nothing
 * but allowed elements, attributes and URLs, checked by parsing the
 * output again (as a browser would) with a checker of this file's own;
 * what is safe is kept as it was; URLs; nesting too deep for recursion;
 * linear time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>
#include <gumbo.h>

#include "feeds/buf.h"
#include "feeds/sanitize.h"
#include "linear.h"

/* The checker's own allow-list: tag names. */
static const char *const ok_tags[] = {
    "a",      "abbr",       "acronym", "address",    "article",  "aside",
    "b",      "bdi",        "big",     "blockquote", "br",       "caption",
    "center", "cite",       "code",    "col",        "colgroup", "dd",
    "del",    "details",    "dfn",     "div",        "dl",       "dt",
    "em",     "figcaption", "figure",  "footer",     "h1",       "h2",
    "h3",     "h4",         "h5",      "h6",         "header",   "hr",
    "i",      "img",        "ins",     "kbd",        "li",       "mark",
    "ol",     "p",          "pre",     "q",          "rp",       "rt",
    "ruby",   "s",          "samp",    "section",    "small",    "span",
    "strike", "strong",     "sub",     "summary",    "sup",      "table",
    "tbody",  "td",         "tfoot",   "th",         "thead",    "time",
    "tr",     "tt",         "u",       "ul",         "var",      "wbr",
    NULL};

static const char *const ok_attrs[] = {
    "href",  "src",      "alt",  "width",   "height",  "cite",  "datetime",
    "title", "lang",     "dir",  "colspan", "rowspan", "scope", "abbr",
    "start", "reversed", "type", "value",   "span",    "rel",   NULL};

static int
listed(const char *const *list, const char *s)
{
    for (; *list; list++)
        if (strcasecmp(*list, s) == 0)
            return 1;
    return 0;
}

/* v with what browsers ignore in a URL taken out, lower case. */
static void
url_key(const char *v, char *out, size_t size)
{
    size_t n = 0;

    while (*v && (unsigned char)*v <= ' ')
        v++;
    for (; *v && n + 1 < size; v++)
        if (*v != '\t' && *v != '\n' && *v != '\r')
            out[n++] = (char)(*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
    out[n] = '\0';
}

static void
check_url(const char *tag, const char *name, const char *v, const char *in)
{
    char key[64];

    url_key(v, key, sizeof(key));
    if (strncmp(key, "data:", 5) == 0) {
        if (strcmp(tag, "img") == 0 && strcmp(name, "src") == 0 &&
            (strncmp(key, "data:image/png", 14) == 0 ||
             strncmp(key, "data:image/gif", 14) == 0 ||
             strncmp(key, "data:image/jpeg", 15) == 0 ||
             strncmp(key, "data:image/webp", 15) == 0))
            return;
        fail_msg("data: URL kept in <%s %s=\"%s\"> from %s", tag, name, v, in);
    }
    if (strstr(key, "script:") != NULL || strstr(key, "script&colon;") != NULL)
        fail_msg("script URL kept in <%s %s=\"%s\"> from %s", tag, name, v, in);
    if (strchr(key, ':') != NULL && strncmp(key, "http:", 5) != 0 &&
        strncmp(key, "https:", 6) != 0 && strncmp(key, "mailto:", 7) != 0 &&
        strcspn(key, ":") < strcspn(key, "/?#"))
        fail_msg("scheme kept in <%s %s=\"%s\"> from %s", tag, name, v, in);
}

/* Fails the test unless every element under n and every attribute is
 * allowed. Recursive: what it checks is shallow. */
static void
check_tree(const GumboNode *n, const char *in)
{
    const GumboVector *kids;
    unsigned i;

    if (n->type == GUMBO_NODE_COMMENT)
        fail_msg("comment kept from %s", in);
    if (n->type == GUMBO_NODE_TEMPLATE)
        fail_msg("template kept from %s", in);
    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT)
        return;
    kids = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children
                                          : &n->v.element.children;
    if (n->type == GUMBO_NODE_ELEMENT) {
        const GumboElement *e = &n->v.element;
        const char *tag = gumbo_normalized_tagname(e->tag);

        if (e->tag_namespace != GUMBO_NAMESPACE_HTML)
            fail_msg("foreign element kept from %s", in);
        /* The fragment's own wrapper. */
        if (e->tag != GUMBO_TAG_HTML && !listed(ok_tags, tag))
            fail_msg("<%s> kept from %s", tag[0] ? tag : "?", in);
        for (i = 0; i < e->attributes.length; i++) {
            const GumboAttribute *a = e->attributes.data[i];

            if (!listed(ok_attrs, a->name))
                fail_msg("attribute %s kept on <%s> from %s", a->name, tag, in);
            if (strcmp(a->name, "href") == 0 || strcmp(a->name, "src") == 0 ||
                strcmp(a->name, "cite") == 0)
                check_url(tag, a->name, a->value, in);
        }
    }
    for (i = 0; i < kids->length; i++)
        check_tree(kids->data[i], in);
}

static void
sanitize(const char *in, struct feed_buf *out)
{
    feed_buf_init(out, 0);
    assert_int_equal(feed_sanitize_html(out, in, strlen(in)), 0);
    /* Something, so that even an empty result is a string. */
    assert_int_equal(feed_buf_append(out, "", 0), 0);
    assert_non_null(feed_buf_str(out));
}

/* Parses the output as a browser would and checks it. */
static void
check_safe(const char *in, const char *out)
{
    GumboOptions opt = kGumboDefaultOptions;
    GumboOutput *doc;

    opt.fragment_context = GUMBO_TAG_DIV;
    doc = gumbo_parse_with_options(&opt, out, strlen(out));
    assert_non_null(doc);
    check_tree(doc->root, in);
    gumbo_destroy_output(&opt, doc);
}

/* The sanitizer's output is a fixed point: the page takes what the
 * publisher sanitized as it is (feed_meta.sanitized), and must show what
 * it would show had it sanitized it again. (A fragment over one of the
 * sanitizer's 16 KiB pieces is cut again elsewhere the second time; its
 * first output is whole and safe.) */
static void
check_fixed(const char *out)
{
    struct feed_buf again;

    sanitize(out, &again);
    assert_string_equal(feed_buf_str(&again), out);
    feed_buf_free(&again);
}

static void
test_attacks(void **state)
{
    FILE *fp = fopen(FIXTURES "/sanitize/xss.txt", "r");
    char line[4096];
    int n = 0;

    (void)state;
    assert_non_null(fp);
    while (fgets(line, sizeof(line), fp)) {
        struct feed_buf out;

        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        sanitize(line, &out);
        check_safe(line, feed_buf_str(&out));
        check_fixed(feed_buf_str(&out));
        feed_buf_free(&out);
        n++;
    }
    fclose(fp);
    assert_true(n >= 90);
}

static void
expect(const char *in, const char *want)
{
    struct feed_buf out;

    sanitize(in, &out);
    assert_string_equal(feed_buf_str(&out), want);
    check_safe(in, feed_buf_str(&out));
    check_fixed(feed_buf_str(&out));
    feed_buf_free(&out);
}

/* What is safe comes out as it went in (tags in lower case, attributes
 * quoted), links with rel="noopener noreferrer". */
static void
test_kept(void **state)
{
    (void)state;
    expect("<p>Hello <a href=\"https://example.com/?a=1&amp;b=2\" "
           "title=t>world</a></p>",
           "<p>Hello <a href=\"https://example.com/?a=1&amp;b=2\" title=\"t\" "
           "rel=\"noopener noreferrer\">world</a></p>");
    expect("<IMG SRC=\"https://example.com/a.png\" ALT=\"A &lt;b&gt;\" "
           "width=300>",
           "<img src=\"https://example.com/a.png\" alt=\"A &lt;b&gt;\" "
           "width=\"300\">");
    expect("<ul><li>one<li>two</ul><br><hr>",
           "<ul><li>one</li><li>two</li></ul><br><hr>");
    expect("<table><tr><td colspan=2>x</td></tr></table>",
           "<table><tbody><tr><td colspan=\"2\">x</td></tr></tbody></table>");
    expect("<blockquote cite=\"/quote\">q</blockquote>",
           "<blockquote cite=\"/quote\">q</blockquote>");
    expect("a &lt; b &amp;&amp; c &gt; d", "a &lt; b &amp;&amp; c &gt; d");
    expect("<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
           "<img src=\"data:image/png;base64,iVBORw0KGgo=\">");
    expect(
        "<a href=\"mailto:a@example.com\">m</a>",
        "<a href=\"mailto:a@example.com\" rel=\"noopener noreferrer\">m</a>");
}

/* What is not allowed goes: with its content for code and the like, its
 * tags alone for the rest. */
static void
test_dropped(void **state)
{
    (void)state;
    expect("<script>alert(1)</script>after", "after");
    expect("<style>p{}</style><p>x</p>", "<p>x</p>");
    expect("<custom-el>kept <b>text</b></custom-el>", "kept <b>text</b>");
    expect("<font color=red>red</font>", "red");
    expect("<!-- a comment -->x", "x");
    expect("<p onclick=\"x()\" style=\"color:red\" class=\"c\" id=\"i\">t</p>",
           "<p>t</p>");
    expect("<a href=\"javascript:alert(1)\">x</a>",
           "<a rel=\"noopener noreferrer\">x</a>");
    expect("<img src=\"x\" width=\"100%\" height=\"1e9\">", "<img src=\"x\">");
    expect("<form><input value=v><button>b</button><select><option>o"
           "</select></form>after",
           "after");
    expect("<svg><a href=\"https://e/\">x</a></svg>y", "y");
    expect("<iframe src=\"https://e/\">fallback</iframe>z", "z");
}

static void
test_urls(void **state)
{
    (void)state;
    assert_true(feed_sanitize_url("https://example.com/", 0));
    assert_true(feed_sanitize_url("HTTP://example.com/", 1));
    assert_true(feed_sanitize_url("/relative?a:b", 0));
    assert_true(feed_sanitize_url("page.html#x:y", 0));
    assert_true(feed_sanitize_url("./a:b", 0));
    /* A colon in a first segment that is no scheme: not a relative URL
     * either (RFC 3986 §4.2), and old browsers read "`" as a quote. */
    assert_false(feed_sanitize_url("`javascript:alert(1)`", 1));
    assert_false(feed_sanitize_url("a b:c", 0));
    assert_true(feed_sanitize_url("mailto:a@b", 0));
    assert_false(feed_sanitize_url("mailto:a@b", 1));
    assert_false(feed_sanitize_url("javascript:alert(1)", 0));
    assert_false(feed_sanitize_url(" \x01javascript:alert(1)", 0));
    assert_false(feed_sanitize_url("java\tscript:alert(1)", 0));
    assert_false(feed_sanitize_url("java\nscript:alert(1)", 1));
    assert_false(feed_sanitize_url("JAVASCRIPT:alert(1)", 0));
    assert_false(feed_sanitize_url("vbscript:x", 0));
    assert_false(feed_sanitize_url("data:text/html,<script>", 0));
    assert_false(feed_sanitize_url("data:image/png;base64,AA", 0));
    assert_true(feed_sanitize_url("data:image/png;base64,AA", 1));
    assert_true(feed_sanitize_url("DATA:Image/JPEG,AA", 1));
    assert_false(feed_sanitize_url("data:image/svg+xml,<svg/>", 1));
    assert_false(feed_sanitize_url("data:image/pngx,AA", 1));
    assert_false(feed_sanitize_url("averyveryverylongscheme:x", 0));
    assert_false(feed_sanitize_url("ftp://example.com/", 0));
}

/* Nesting far deeper than any stack would allow a recursive walk. */
static void
test_deep(void **state)
{
    size_t depth = 100000, i;
    struct feed_buf in, out;
    size_t opens = 0, closes = 0;
    const char *p;

    (void)state;
    feed_buf_init(&in, 0);
    for (i = 0; i < depth; i++)
        assert_int_equal(feed_buf_puts(&in, "<div><span>"), 0);
    assert_int_equal(feed_buf_puts(&in, "deep"), 0);
    sanitize(in.data, &out);
    assert_non_null(strstr(out.data, "deep"));
    for (p = out.data; (p = strstr(p, "<div>")) != NULL; p++)
        opens++;
    for (p = out.data; (p = strstr(p, "</div>")) != NULL; p++)
        closes++;
    assert_true(opens > 0);
    assert_int_equal(opens, closes);
    feed_buf_free(&in);
    feed_buf_free(&out);
}

/* ---- linear ---- */

static void
run_unit(size_t n, void *arg)
{
    const char *unit = arg;
    size_t lu = strlen(unit), i;
    struct feed_buf in, out;

    feed_buf_init(&in, 0);
    feed_buf_init(&out, 0);
    for (i = 0; i < n / lu + 1; i++)
        assert_int_equal(feed_buf_append(&in, unit, lu), 0);
    assert_int_equal(feed_sanitize_html(&out, in.data, in.len), 0);
    feed_buf_free(&in);
    feed_buf_free(&out);
}

static void
test_linear(void **state)
{
    static const char *const units[] = {
        "<div>",                      /* nesting */
        "<b><i><u>x</b></i></u>",     /* misnested formatting */
        "<a href=\"https://e/\">",    /* open links, reconstructed */
        "<p title=\"a\" onclick=x>t", /* attributes to drop */
        "<table><td>",                /* tables, fostering */
        "<script>x</script>",         /* dropped content */
        "a &amp; b ",                 /* text */
        "<img src=javascript:x>",     /* URLs to check */
    };

    (void)state;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        assert_linear(units[i], run_unit, (void *)units[i], LINEAR_N0,
                      1u << 18);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attacks), cmocka_unit_test(test_kept),
        cmocka_unit_test(test_dropped), cmocka_unit_test(test_urls),
        cmocka_unit_test(test_deep),    cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

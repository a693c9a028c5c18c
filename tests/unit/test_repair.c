/* tests/unit/test_repair.c - feeds/repair.c, the repairs made as the bytes
 * stream by: each repair, each at every split into chunks, the bound on
 * what waits between chunks and on the open elements kept, and linear
 * time on hostile input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linear.h"
#include "repair.h"
#include "utf8.h"

struct sink {
    struct feed_buf out;
    int lasts; /* calls with last set */
    int calls;
};

static int
collect(const char *s, size_t n, int last, void *arg)
{
    struct sink *k = arg;

    if (k->lasts > 0)
        fail_msg("a call after the last");
    if (n == 0 && !last)
        fail_msg("an empty call that is not the last");
    k->calls++;
    k->lasts += last != 0;
    return feed_buf_append(&k->out, s, n);
}

/* in[0..n) pushed in the pieces that cuts[0..ncuts) (ascending offsets)
 * make, then a final empty push; the output must be want. */
static void
run_split(const char *in, size_t n, const size_t *cuts, size_t ncuts,
          const char *want, size_t nwant)
{
    struct feed_repair r;
    struct sink k = {{0}, 0, 0};
    size_t at = 0;

    feed_repair_init(&r);
    feed_buf_init(&k.out, 0);
    for (size_t i = 0; i <= ncuts; i++) {
        size_t to = i < ncuts ? cuts[i] : n;

        assert_int_equal(feed_repair_push(&r, in + at, to - at, 0, collect, &k),
                         0);
        assert_true(r.nhold <= REPAIR_HOLD);
        at = to;
    }
    assert_int_equal(feed_repair_push(&r, NULL, 0, 1, collect, &k), 0);
    assert_int_equal(k.lasts, 1);
    if (k.out.len != nwant ||
        memcmp(k.out.data ? k.out.data : "", want, nwant) != 0)
        fail_msg("\"%s\" in %zu pieces (first cut %zu): got \"%s\", want "
                 "\"%s\"",
                 in, ncuts + 1, ncuts ? cuts[0] : n, feed_buf_str(&k.out),
                 want);
    feed_buf_free(&k.out);
    feed_repair_free(&r);
}

/* in must repair to want: whole (also with last on the one push), in
 * one-byte pieces, and cut at every one and every two places. */
static void
expect_n(const char *in, size_t n, const char *want, size_t nwant)
{
    struct feed_repair r;
    struct sink k = {{0}, 0, 0};
    size_t cuts[2048];

    feed_repair_init(&r);
    feed_buf_init(&k.out, 0);
    assert_int_equal(feed_repair_push(&r, in, n, 1, collect, &k), 0);
    assert_int_equal(k.lasts, 1);
    if (k.out.len != nwant ||
        memcmp(k.out.data ? k.out.data : "", want, nwant) != 0)
        fail_msg("\"%s\": got \"%s\", want \"%s\"", in, feed_buf_str(&k.out),
                 want);
    feed_buf_free(&k.out);
    feed_repair_free(&r);

    run_split(in, n, NULL, 0, want, nwant);
    assert_true(n < sizeof(cuts) / sizeof(cuts[0]));
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    run_split(in, n, cuts, n ? n - 1 : 0, want, nwant);
    for (size_t i = 0; i <= n; i++) {
        run_split(in, n, &i, 1, want, nwant);
        for (size_t j = i; j <= n && n <= 64; j++) {
            cuts[0] = i;
            cuts[1] = j;
            run_split(in, n, cuts, 2, want, nwant);
        }
    }
}

static void
expect(const char *in, const char *want)
{
    expect_n(in, strlen(in), want, strlen(want));
}

static void
test_references(void **state)
{
    (void)state;
    expect("<a>Fish & Chips</a>", "<a>Fish &amp; Chips</a>");
    expect("<a href=\"/?a=1&b=2\">", "<a href=\"/?a=1&amp;b=2\">");
    expect("&amp; &lt; &gt; &quot; &apos; &copy; &#65; &#x41; &eacute;",
           "&amp; &lt; &gt; &quot; &apos; &copy; &#65; &#x41; &eacute;");
    expect("&#X41;", "&#x41;");
    expect("&#x1a;|&#0;|&#xD800;|&#1114112;|&#xFFFE;", " | | | | ");
    expect("&;&#;&#x;&a b;&#12a;&1a;", "&amp;;&amp;#;&amp;#x;&amp;a b;"
                                       "&amp;#12a;&amp;1a;");
    expect("&caf\xc3\xa9;", "&caf\xc3\xa9;");
    expect("&abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz;",
           "&amp;abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz;");
    /* The end of the document decides what was cut. */
    expect("x &am", "x &amp;am");
    expect("x &", "x &amp;");
    expect("x &#x4", "x &amp;#x4");
    expect("&&&", "&amp;&amp;&amp;");
}

static void
test_sections(void **state)
{
    (void)state;
    expect("<![CDATA[a & b <c> &#X41;]]>&",
           "<![CDATA[a & b <c> &#X41;]]>&amp;");
    expect("<![CDATA[x]]]>&", "<![CDATA[x]]]>&amp;");
    expect("<![CDATA[x]]", "<![CDATA[x]]");
    expect("<!-- & - -- -->&", "<!-- & - -- -->&amp;");
    expect("<?pi a & b ? ?>&", "<?pi a & b ? ?>&amp;");
    expect("<!DOCTYPE x SYSTEM \"a&b\">", "<!DOCTYPE x SYSTEM \"a&amp;b\">");
    expect("<", "<");
    expect("<!-", "<!-");
    /* But bad bytes are repaired everywhere. */
    expect("<!-- \x01\xe9 -->", "<!--  \xc3\xa9 -->");
    expect("<![CDATA[\x93]]>", "<![CDATA[\xe2\x80\x9c]]>");
}

static void
test_declarations(void **state)
{
    static const char decl[] = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";
    char in[256], want[256];

    (void)state;
    /* First: kept, after white space and a BOM that go. */
    expect(" \r\n\xef\xbb\xbf<?xml version=\"1.0\"?><a/>",
           "<?xml version=\"1.0\"?><a/>");
    /* After a comment: blanked. */
    snprintf(in, sizeof(in), "<!-- c -->\n%s<a>&</a>", decl);
    snprintf(want, sizeof(want), "<!-- c -->\n%*s<a>&amp;</a>",
             (int)strlen(decl), "");
    expect(in, want);
    /* Not a declaration. */
    expect("<a/><?xml-stylesheet href=\"s\"?>",
           "<a/><?xml-stylesheet href=\"s\"?>");
    snprintf(want, sizeof(want), "<a/>%*s", 23, "");
    expect("<a/><?xml\tversion='1.0' \xe9?>", want);
    /* Unterminated: blanked to the end. */
    expect("<a/><?xml a", "<a/>       ");
}

static void
test_characters(void **state)
{
    (void)state;
    /* Not UTF-8: windows-1252; undefined there: U+FFFD. */
    expect("caf\xe9 \x93q\x94", "caf\xc3\xa9 \xe2\x80\x9cq\xe2\x80\x9d");
    expect("\x81|\xc0\xaf|\xff", "\xef\xbf\xbd|\xc3\x80\xc2\xaf|\xc3\xbf");
    expect("\xed\xa0\x80", "\xc3\xad\xc2\xa0\xe2\x82\xac");
    /* Cut by the end of the document. */
    expect("a\xe2\x82", "a\xc3\xa2\xe2\x80\x9a");
    /* Valid, and kept whole across any cut. */
    expect("<t>\xf0\x9f\x98\x80\xe4\xb8\xad\xc3\xa9</t>",
           "<t>\xf0\x9f\x98\x80\xe4\xb8\xad\xc3\xa9</t>");
    /* What XML forbids: spaces. */
    expect("<t>a\x01"
           "b\x0b"
           "c\x7f\xef\xbf\xbe\xef\xbf\xbf</t>",
           "<t>a b c\x7f  </t>");
    expect_n("<t>\0</t>", 8, "<t> </t>", 8);
    /* Before the first character, all of that goes. */
    expect("\x0c\xef\xbb\xbf\xef\xbf\xbe <a/>", "<a/>");
    expect("\xe9<a/>", "\xc3\xa9<a/>");
}

/* What the character repairs make of s[0..n) (text with no '&', '<', '!'
 * or '?'), worked out character by character with feed_utf8_decode(): the
 * reference the scan's automaton is held to. */
static size_t
reference(const unsigned char *s, size_t n, char *out)
{
    static const uint16_t cp1252[32] = {
        0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
        0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017d, 0,
        0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
        0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
    };
    size_t o = 0;

    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = feed_utf8_decode(s + i, n - i, &cp);

        if (len > 0 && (cp == 0xfffe || cp == 0xffff ||
                        (cp < 0x20 && cp != 9 && cp != 10 && cp != 13))) {
            out[o++] = ' ';
        } else if (len > 0) {
            memcpy(out + o, s + i, len);
            o += len;
        } else {
            cp = s[i] >= 0xa0 ? s[i] : cp1252[s[i] - 0x80];
            o += feed_utf8_encode(cp ? cp : 0xfffd, out + o);
            len = 1;
        }
        i += len;
    }
    return o;
}

/* Every sequence of up to three bytes from those that decide UTF-8's
 * ranges, and of four from fewer, at each of the 8 places in a word,
 * between ASCII: the scan agrees with the decoder. */
static void
test_every_sequence(void **state)
{
    static const unsigned char edge[] = {
        0x00, 0x09, 0x0a, 0x1f, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f,
        0xa0, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1,
        0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff,
    };
    static const unsigned char few[] = {0x41, 0x80, 0x8f, 0x90, 0xbf,
                                        0xe0, 0xef, 0xf0, 0xf4};
    size_t ne = sizeof(edge), nf = sizeof(few);
    struct feed_repair r;
    struct sink k = {{0}, 0, 0};
    unsigned long cases = 0;

    (void)state;
    feed_repair_init(&r);
    feed_buf_init(&k.out, 0);
    for (size_t len = 1; len <= 4; len++) {
        const unsigned char *set = len < 4 ? edge : few;
        size_t ns = len < 4 ? ne : nf, total = 1;

        for (size_t i = 0; i < len; i++)
            total *= ns;
        for (size_t c = 0; c < total; c++) {
            unsigned char seq[4];

            for (size_t i = 0, x = c; i < len; i++, x /= ns)
                seq[i] = set[x % ns];
            for (size_t at = 0; at < 8; at++) {
                unsigned char in[48];
                char want[160];
                size_t n = 0, nw;

                memcpy(in, "<t>", 3);
                memset(in + 3, 'x', 5 + at);
                n = 8 + at;
                memcpy(in + n, seq, len);
                n += len;
                memset(in + n, 'y', 17);
                n += 17;
                nw = 3 + reference(in + 3, n - 3, want + 3);
                memcpy(want, "<t>", 3);
                feed_repair_reset(&r);
                feed_buf_reset(&k.out);
                k.lasts = 0;
                assert_int_equal(
                    feed_repair_push(&r, (char *)in, n, 1, collect, &k), 0);
                if (k.out.len != nw || memcmp(k.out.data, want, nw) != 0)
                    fail_msg("bytes %02x %02x %02x %02x (%zu) at %zu", seq[0],
                             len > 1 ? seq[1] : 0, len > 2 ? seq[2] : 0,
                             len > 3 ? seq[3] : 0, len, at);
                cases++;
            }
        }
    }
    assert_true(cases > 200000);
    feed_buf_free(&k.out);
    feed_repair_free(&r);
}

static void
test_json_and_empty(void **state)
{
    struct feed_repair r;
    struct sink k = {{0}, 0, 0};

    (void)state;
    expect("  {\"a\": \"x & y\x01 <![CDATA[\xe9\"}",
           "{\"a\": \"x & y  <![CDATA[\xc3\xa9\"}");
    expect("", "");
    expect(" \n\t ", "");
    /* Nothing is handed on before the first character. */
    feed_repair_init(&r);
    feed_buf_init(&k.out, 0);
    assert_int_equal(feed_repair_push(&r, "  \xef\xbb", 4, 0, collect, &k), 0);
    assert_int_equal(k.calls, 0);
    assert_int_equal(feed_repair_push(&r, "\xbf<", 2, 0, collect, &k), 0);
    assert_int_equal(feed_repair_push(&r, "a/>", 3, 1, collect, &k), 0);
    assert_string_equal(feed_buf_str(&k.out), "<a/>");
    /* Clean text is handed on in place, and repaired says no. */
    assert_int_equal(r.repaired, 0);
    feed_repair_reset(&r);
    feed_buf_reset(&k.out);
    k.lasts = 0;
    assert_int_equal(feed_repair_push(&r, "<a>&</a>", 8, 1, collect, &k), 0);
    assert_int_equal(r.repaired, 1);
    assert_string_equal(feed_buf_str(&k.out), "<a>&amp;</a>");
    feed_buf_free(&k.out);
    feed_repair_free(&r);
}

static int
discard(const char *s, size_t n, int last, void *arg)
{
    (void)s;
    (void)last;
    *(size_t *)arg += n;
    return 0;
}

/* Memory is bounded by the chunk, not the document: 8 MiB of text that
 * needs a repair every few bytes (end tags put in and dropped among
 * them), in 16 KiB chunks, leaves a buffer of a few chunks' size at most,
 * never more than REPAIR_HOLD waiting, and no element left open. */
static void
test_bounded(void **state)
{
    static const char unit[] = "a & b \xe9 <![CDATA[ ]]> &#X41; "
                               "<p t='>/'>a<br>b</p></x><hr/> ";
    char chunk[16384];
    struct feed_repair r;
    size_t got = 0;
    /* Whole units in each chunk. */
    size_t len = sizeof(chunk) - sizeof(chunk) % (sizeof(unit) - 1);

    (void)state;
    for (size_t i = 0; i < sizeof(chunk); i++)
        chunk[i] = unit[i % (sizeof(unit) - 1)];
    feed_repair_init(&r);
    assert_int_equal(feed_repair_push(&r, "<a>", 3, 0, discard, &got), 0);
    for (int i = 0; i < 512; i++) {
        assert_int_equal(feed_repair_push(&r, chunk, len, 0, discard, &got), 0);
        assert_true(r.nhold <= REPAIR_HOLD);
    }
    assert_int_equal(feed_repair_push(&r, "</a>", 4, 1, discard, &got), 0);
    assert_true(got > 512 * len);
    assert_int_equal(r.tags.depth + r.tags.over, 0);
    assert_int_equal(r.closed, 512 * (len / (sizeof(unit) - 1)));
    assert_int_equal(r.dropped, r.closed);
    assert_true(r.out.cap <= 5 * sizeof(chunk) + 2 * REPAIR_JOIN);
    feed_repair_free(&r);
}

/* What fn returns stops the push. */
static int
stop(const char *s, size_t n, int last, void *arg)
{
    (void)s;
    (void)n;
    (void)last;
    (void)arg;
    return -42;
}

static void
test_stop(void **state)
{
    struct feed_repair r;

    (void)state;
    feed_repair_init(&r);
    assert_int_equal(feed_repair_push(&r, "<a>", 3, 0, stop, NULL), -42);
    feed_repair_free(&r);
}

/* Hostile shapes, each pushed in 16 KiB chunks and whole. */
struct hostile {
    const char *head, *unit, *tail;
};

static void
hostile_run(size_t n, void *arg)
{
    const struct hostile *h = arg;
    size_t hl = strlen(h->head), ul = strlen(h->unit), got = 0;
    size_t tl = h->tail ? strlen(h->tail) : 0;
    char *doc = malloc(hl + n + ul + tl);
    struct feed_repair r;

    assert_non_null(doc);
    memcpy(doc, h->head, hl);
    for (size_t i = hl; i < hl + n; i += ul)
        memcpy(doc + i, h->unit, ul);
    memcpy(doc + hl + n, h->tail ? h->tail : "", tl);
    n += tl;
    feed_repair_init(&r);
    for (size_t at = 0; at < hl + n; at += 16384) {
        size_t k = hl + n - at < 16384 ? hl + n - at : 16384;

        assert_int_equal(feed_repair_push(&r, doc + at, k, 0, discard, &got),
                         0);
    }
    assert_int_equal(feed_repair_push(&r, NULL, 0, 1, discard, &got), 0);
    feed_repair_reset(&r);
    assert_int_equal(feed_repair_push(&r, doc, hl + n, 1, discard, &got), 0);
    assert_true(got > 0 || hl == 0); /* white space alone gives nothing */
    feed_repair_free(&r);
    free(doc);
}

static void
test_linear(void **state)
{
    static const struct hostile shapes[] = {
        {"<a>", "&", NULL},
        {"<a>", "&#", NULL},
        {"<a>", "&#x", NULL},
        {"<a>", "&abcdefghijklmnopqrstuvwxyzabcdef", NULL},
        {"<a>", "&lt;a", NULL},
        {"<a>", "<", NULL},
        {"<a>", "<!", NULL},
        {"<a>", "<?xml ", NULL},
        {"<a>", "<![CDATA[", NULL},
        {"<a>", "<!--", NULL},
        {"<a><![CDATA[", "]]", NULL},
        {"<a><![CDATA[", "&", NULL},
        {"<a><!--", "-", NULL},
        {"<a><?pi ", "?", NULL},
        {"<a/><?xml ", "?&", NULL},
        {"<a>", "\xff", NULL},
        {"<a>", "\xe2\x82", NULL},
        {"<a>", "\xef\xbf", NULL},
        {"<a>", "!?", NULL},
        {"<a>", "&quot;&amp;", NULL},
        {"<a>", "\x01", NULL},
        {"", " ", NULL},
        {"", "\xef\xbb\xbf", NULL},
        {"{", "\xe9\x01&<", NULL},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "repair of \"%s\" + \"%s\"...",
                 shapes[i].head, shapes[i].unit);
        assert_linear(name, hostile_run, (void *)&shapes[i], 1 << 12, 1 << 22);
    }
}

/* A name of n bytes: "n" then letters. */
static const char *
long_name(size_t n)
{
    static char name[128];

    assert_true(n < sizeof(name));
    for (size_t i = 0; i < n; i++)
        name[i] = (char)('a' + i % 26);
    name[0] = 'n';
    name[n] = '\0';
    return name;
}

static void
test_end_tags(void **state)
{
    char in[512], want[512], name[128];

    (void)state;
    /* The issue's example: the HTML's <br> is closed by </p>. */
    expect("<i><d><p>a<br>b</p></d></i><i><t>two</t></i>",
           "<i><d><p>a<br>b</br></p></d></i><i><t>two</t></i>");
    /* An end tag that names no open element goes. */
    expect("<a>x</b>y</a>", "<a>xy</a>");
    expect("<a></a></a>z", "<a></a>z");
    expect("<a>x</b  >y</b\n>z</a>", "<a>xyz</a>");
    expect("<a>x</b", "<a>x");
    /* The root's end closes everything. */
    expect("<r><a><b><c></r>", "<r><a><b><c></c></b></a></r>");
    expect("<r><b></r >", "<r><b></b></r >");
    /* Quoted values may hold '>' and '/'; an empty element opens nothing. */
    expect("<a><p t=\"a>b/c\" u='>/'>x</a>",
           "<a><p t=\"a>b/c\" u='>/'>x</p></a>");
    expect("<a><br/><hr /><img src=\"/x\"/></b></a>",
           "<a><br/><hr /><img src=\"/x\"/></a>");
    expect("<a t=\"x&y\">&<b></a>", "<a t=\"x&amp;y\">&amp;<b></b></a>");
    /* Names are qualified names, compared byte for byte. */
    expect("<a><P>x</p></a>", "<a><P>x</P></a>");
    expect("<a:b><c:d>x</a:b>", "<a:b><c:d>x</c:d></a:b>");
    expect("<a><b>x</a:b></a>", "<a><b>x</b></a>");
    expect("<a><\xc3\xa9>x</a>", "<a><\xc3\xa9>x</\xc3\xa9></a>");
    /* Sections and a DOCTYPE's declarations hold no tags. */
    expect("<a><![CDATA[</a><b>]]><!-- </a> <b> --><?pi </a>?></a>",
           "<a><![CDATA[</a><b>]]><!-- </a> <b> --><?pi </a>?></a>");
    expect("<!DOCTYPE a [<!ENTITY e \"<b>\"> <!-- ' --> <?p ]>?>]><a>x</a>",
           "<!DOCTYPE a [<!ENTITY e \"<b>\"> <!-- ' --> <?p ]>?>]><a>x</a>");
    expect("<!DOCTYPE a SYSTEM 'a>b'><a></b></a>",
           "<!DOCTYPE a SYSTEM 'a>b'><a></a>");
    /* What is not a tag. */
    expect("<a>1 < 2 </ 3 <>", "<a>1 < 2 </ 3 <>");

    /* The longest name kept, and one longer: an element with a name too
     * long has none; an end tag that may be its own passes as it is, and
     * a long one closes up to the innermost element without a name. */
    snprintf(name, sizeof(name), "%s", long_name(TAGS_NAME));
    snprintf(in, sizeof(in), "<a><%s><b>x</%s></a>", name, name);
    snprintf(want, sizeof(want), "<a><%s><b>x</b></%s></a>", name, name);
    expect(in, want);
    snprintf(name, sizeof(name), "%s", long_name(TAGS_NAME + 1));
    snprintf(in, sizeof(in), "<a><%s>x</a>", name);
    expect(in, in);
    snprintf(in, sizeof(in), "<a><%s><b>x</%s></a>", name, name);
    snprintf(want, sizeof(want), "<a><%s><b>x</b></%s></a>", name, name);
    expect(in, want);
    /* A short name is not its name; it is not that of one not valid. */
    snprintf(in, sizeof(in), "<a><%s>x</b></a>", name);
    snprintf(want, sizeof(want), "<a><%s>x</a>", name);
    expect(in, want);
    expect("<a><b\xe9>x</c></a>", "<a><b\xc3\xa9>x</c></a>");
    expect("<a><b\xe9 t='1'>x</b\xe9></a>",
           "<a><b\xc3\xa9 t='1'>x</b\xc3\xa9></a>");
    snprintf(in, sizeof(in), "<a><\xe9%s>x", name);
    snprintf(want, sizeof(want), "<a><\xc3\xa9%s>x", name);
    expect(in, want);
    snprintf(in, sizeof(in), "<a>x</%s></a>", name);
    expect(in, "<a>x</a>");
    /* A start tag much longer than what may wait between chunks. */
    snprintf(in, sizeof(in), "<a><p title=\"%s>/%s\" class='%s'>x</a>",
             long_name(100), long_name(100), long_name(100));
    snprintf(want, sizeof(want), "<a><p title=\"%s>/%s\" class='%s'>x</p></a>",
             long_name(100), long_name(100), long_name(100));
    expect(in, want);
}

/* What the open elements' stack holds after in, pushed whole. */
static void
stack_after(struct feed_repair *r, const char *in)
{
    size_t got = 0;

    feed_repair_reset(r);
    assert_int_equal(feed_repair_push(r, in, strlen(in), 1, discard, &got), 0);
}

static void
test_stack_bounds(void **state)
{
    struct feed_repair r;
    struct feed_buf doc;

    (void)state;
    feed_repair_init(&r);
    feed_buf_init(&doc, 0);

    stack_after(&r, "<r><a><b/><c></b></c><d>x</r></r>");
    assert_int_equal(r.tags.depth, 0);
    assert_int_equal(r.dropped, 2);
    assert_int_equal(r.closed, 2);
    assert_int_equal(r.tags.nnames, 0);
    assert_int_equal(r.repaired, 1);
    stack_after(&r, "<r><a>x</a></r>");
    assert_int_equal(r.repaired, 0);

    /* Deeper than TAGS_DEPTH: counted, and their end tags pass. */
    for (int i = 0; i < TAGS_DEPTH + 50; i++)
        assert_int_equal(feed_buf_printf(&doc, "<e%d>", i), 0);
    stack_after(&r, feed_buf_str(&doc));
    assert_int_equal(r.tags.depth, TAGS_DEPTH);
    assert_int_equal(r.tags.over, 50);
    for (int i = TAGS_DEPTH + 49; i >= 0; i--)
        assert_int_equal(feed_buf_printf(&doc, "</e%d>", i), 0);
    stack_after(&r, feed_buf_str(&doc));
    assert_int_equal(r.tags.depth, 0);
    assert_int_equal(r.tags.over, 0);
    assert_int_equal(r.closed + r.dropped, 0);

    /* Names past TAGS_NAMES bytes are not kept: their elements have
     * none. */
    feed_buf_reset(&doc);
    for (int i = 0; i < TAGS_DEPTH; i++)
        assert_int_equal(feed_buf_printf(&doc, "<%s%03d>", long_name(50), i),
                         0);
    stack_after(&r, feed_buf_str(&doc));
    assert_int_equal(r.tags.depth, TAGS_DEPTH);
    assert_true(r.tags.nnames <= TAGS_NAMES);
    assert_int_equal(r.tags.nameless, TAGS_DEPTH - TAGS_NAMES / 53);
    assert_int_equal(r.tags.unsure, r.tags.nameless);
    feed_buf_free(&doc);
    feed_repair_free(&r);
}

/* Tag soup made of the tokens the lexer cares about, in a fixed
 * pseudo-random order: cut anywhere, it repairs to what it does whole. */
static void
test_soup(void **state)
{
    static const char *const tokens[] = {
        "<a>",
        "</a>",
        "<b t='>/'>",
        "</b>",
        "<br/>",
        "<p x=\"/>\" />",
        "</p>",
        "<c:d>",
        "</c:d>",
        "<",
        "</",
        "/",
        ">",
        "\"",
        "'",
        "&",
        "&amp;",
        "\xe9",
        "\x01",
        "<![CDATA[",
        "]]>",
        "<!--",
        "-->",
        "<?pi ",
        "?>",
        "<!DOCTYPE r [",
        "]",
        "[",
        "text ",
        "</nbcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh>",
        "<nbcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefgh>",
    };
    size_t nt = sizeof(tokens) / sizeof(tokens[0]);
    uint32_t seed = 12345;
    struct feed_buf doc;

    (void)state;
    feed_buf_init(&doc, 0);
    for (int round = 0; round < 300; round++) {
        struct feed_repair r;
        struct sink k = {{0}, 0, 0};
        size_t cuts[64], nc = 0;

        feed_buf_reset(&doc);
        assert_int_equal(feed_buf_puts(&doc, "<r>"), 0);
        for (int i = 0; i < 60; i++) {
            seed = seed * 1103515245u + 12345u;
            assert_int_equal(feed_buf_puts(&doc, tokens[(seed >> 16) % nt]), 0);
        }
        feed_repair_init(&r);
        feed_buf_init(&k.out, 0);
        assert_int_equal(
            feed_repair_push(&r, doc.data, doc.len, 1, collect, &k), 0);
        for (size_t at = 0; nc < 64; nc++) {
            seed = seed * 1103515245u + 12345u;
            at += 1 + (seed >> 16) % 40;
            if (at >= doc.len)
                break;
            cuts[nc] = at;
        }
        run_split(doc.data, doc.len, cuts, nc, feed_buf_str(&k.out), k.out.len);
        if (round % 10 == 0) { /* and in pieces of one byte */
            size_t *every = malloc(doc.len * sizeof(*every));

            assert_non_null(every);
            for (size_t i = 0; i + 1 < doc.len; i++)
                every[i] = i + 1;
            run_split(doc.data, doc.len, every, doc.len - 1,
                      feed_buf_str(&k.out), k.out.len);
            free(every);
        }
        feed_buf_free(&k.out);
        feed_repair_free(&r);
    }
    feed_buf_free(&doc);
}

/* The end tags' repair on hostile shapes: each end tag costs O(1) plus
 * the end tags it puts in, each put in once for each start tag. */
static void
test_linear_tags(void **state)
{
    static char deep[TAGS_DEPTH * 8], named[TAGS_DEPTH * 64];
    static char long_start[160], long_end[160], long_attr[160];
    const struct hostile shapes[] = {
        /* Never closed, then one end tag of another name. */
        {"<r>", "<a>", "</b>"},
        /* Deep nesting, then end tags that name nothing, or the deepest
         * (which close, then name nothing). */
        {deep, "</b>", NULL},
        {deep, "</e0>", NULL},
        {named, "</zz>", NULL},
        {named, "</b c>", NULL},
        /* Long names, as start and end tags. */
        {"<r>", long_start, NULL},
        {"<r>", long_end, NULL},
        {"<r><s>", long_attr, NULL},
        /* End tags of an outer element between inner opens. */
        {"<r><x>", "<a><b><c></x><x>", NULL},
        {"<r>", "<a><b><c></r><r>", NULL},
        {"<r>", "<a/><b /><c t='/>'/>", NULL},
        /* Cut-off tags and values, and a DOCTYPE that never ends. */
        {"<r>", "</", NULL},
        {"<r>", "</a", NULL},
        {"<r><a t=\"", ">/'<", NULL},
        {"<r><a t='", "&>\"", NULL},
        {"<!DOCTYPE r [", "<!ENTITY e \"<b>\">[]", NULL},
    };

    (void)state;
    deep[0] = named[0] = '\0';
    for (int i = 0; i < TAGS_DEPTH; i++)
        snprintf(deep + strlen(deep), sizeof(deep) - strlen(deep), "<e%d>",
                 i % 10);
    /* Names whose hashes fill the filter, some of them sharing a slot
     * with the end tags that follow. */
    for (int i = 0; i < TAGS_DEPTH; i++)
        snprintf(named + strlen(named), sizeof(named) - strlen(named), "<n%d>",
                 i * 7919);
    snprintf(long_start, sizeof(long_start), "<%s>", long_name(120));
    snprintf(long_end, sizeof(long_end), "</%s>", long_name(120));
    snprintf(long_attr, sizeof(long_attr), "<%s t=\"%s\"/>",
             long_name(TAGS_NAME), long_name(60));
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[96];

        snprintf(name, sizeof(name), "tags: \"%.20s\" + \"%.20s\"...",
                 shapes[i].head, shapes[i].unit);
        assert_linear(name, hostile_run, (void *)&shapes[i], 1 << 12, 1 << 22);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_references),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_declarations),
        cmocka_unit_test(test_characters),
        cmocka_unit_test(test_every_sequence),
        cmocka_unit_test(test_json_and_empty),
        cmocka_unit_test(test_stop),
        cmocka_unit_test(test_bounded),
        cmocka_unit_test(test_linear),
        cmocka_unit_test(test_end_tags),
        cmocka_unit_test(test_stack_bounds),
        cmocka_unit_test(test_linear_tags),
        cmocka_unit_test(test_soup),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

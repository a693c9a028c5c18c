/* tests/unit/test_id.c - stable IDs: the rules of DESIGN.md on real URL
 * shapes. */
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
#include "linear.h"

static struct feed_entry
entry(const char *guid, const char *link, const char *title)
{
    struct feed_entry e;

    memset(&e, 0, sizeof(e));
    e.guid = guid;
    e.link = link;
    e.title = title;
    e.published = e.updated = FEED_TIME_NONE;
    return e;
}

/* The ID of e in feed, and the rule that made it. */
static int
id_of(const struct feed_entry *e, const char *feed, enum feed_id_rule rule,
      char id[FEED_ID_LEN + 1])
{
    int used = feed_entry_id(e, feed, rule, id);

    assert_true(used > 0);
    assert_int_equal(strlen(id), FEED_ID_LEN);
    assert_int_equal(strspn(id, "0123456789abcdef"), FEED_ID_LEN);
    return used;
}

static void
test_slug_key(void **state)
{
    static const char *const found[][2] = {
        {"https://www.themoscowtimes.com/2024/05/17/"
         "putin-touts-economic-ties-on-final-day-of-china-trip-a85146",
         "www.themoscowtimes.com/a85146"},
        {"https://example.com/news/some-headline-1234567",
         "example.com/1234567"},
        {"https://example.com/news/1234567/", "example.com/1234567"},
        {"https://example.com/news/1234567.html", "example.com/1234567"},
        {"https://example.com/story/headline-words-1234567.html?utm_source=x",
         "example.com/1234567"},
        {"http://blog.example.com/?p=123", "blog.example.com?p=123"},
        {"https://example.com/index.php?lang=en&id=98765",
         "example.com?id=98765"},
        {"https://medium.com/@someone/a-title-here-3f2a9c1b4d5e",
         "medium.com/3f2a9c1b4d5e"},
        {"HTTPS://Example.COM/a-b-c_55555", "example.com/55555"},
        {"https://www.bbc.co.uk/news/world-europe-68123456",
         "www.bbc.co.uk/68123456"},
        {"https://lwn.net/Articles/975312/", "lwn.net/975312"},
        {"https://www.example.com/news/2024/05/17/story.php?story_id=88123&"
         "utm_campaign=rss",
         "www.example.com?story_id=88123"},
    };
    /* Words and dates are not article IDs: two articles that share one
     * would become one. */
    static const char *const none[] = {
        "https://example.com/2024/05/17/best-of-2024",
        "https://example.com/about/",
        "https://example.com/news/page-2",
        "https://example.com/news/daily-briefing-20240517",
        "https://example.com/news/update",
        "https://example.com/news/abcdef12",
        "https://example.com/",
        "https://example.com/x?p=abc",
        "https://example.com/posts/iphone15-review",
        "https://example.com/2024/05/17/",
        "https://example.com/tag/covid19",
        "tag:example.com,2024:a85146",
        "not a url",
    };
    struct feed_buf b;
    size_t i;

    (void)state;
    feed_buf_init(&b, 0);
    for (i = 0; i < sizeof(found) / sizeof(found[0]); i++) {
        feed_buf_reset(&b);
        if (feed_slug_key(found[i][0], &b) != 0)
            fail_msg("no article ID found in %s", found[i][0]);
        assert_string_equal(feed_buf_str(&b), found[i][1]);
    }
    for (i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
        feed_buf_reset(&b);
        if (feed_slug_key(none[i], &b) != FEED_E_INVAL)
            fail_msg("%s gave article key %s", none[i], feed_buf_str(&b));
    }
    feed_buf_free(&b);
}

static void
test_slug_edit_keeps_id(void **state)
{
    struct feed_entry a =
        entry("https://www.themoscowtimes.com/2024/05/17/"
              "putin-touts-economic-ties-on-final-day-of-china-trip-a85146",
              "https://www.themoscowtimes.com/2024/05/17/"
              "putin-touts-economic-ties-on-final-day-of-china-trip-a85146",
              "Putin Touts Economic Ties on Final Day of China Trip");
    struct feed_entry b = entry("https://www.themoscowtimes.com/2024/05/17/"
                                "putin-ends-china-visit-in-harbin-a85146",
                                "https://www.themoscowtimes.com/2024/05/17/"
                                "putin-ends-china-visit-in-harbin-a85146",
                                "Putin Ends China Visit in Harbin");
    struct feed_entry other = entry(
        NULL, "https://www.themoscowtimes.com/2024/05/17/another-story-a85147",
        "Another story");
    char ida[FEED_ID_LEN + 1], idb[FEED_ID_LEN + 1], idc[FEED_ID_LEN + 1];

    (void)state;
    assert_int_equal(id_of(&a, "moscow-times", FEED_ID_AUTO, ida),
                     FEED_ID_SLUG);
    assert_int_equal(id_of(&b, "moscow-times", FEED_ID_AUTO, idb),
                     FEED_ID_SLUG);
    assert_string_equal(ida, idb);
    /* The same article through another feed is the same entry. */
    assert_int_equal(id_of(&b, "russia-aggregator", FEED_ID_AUTO, idb),
                     FEED_ID_SLUG);
    assert_string_equal(ida, idb);
    id_of(&other, "moscow-times", FEED_ID_AUTO, idc);
    assert_string_not_equal(ida, idc);
}

static void
test_guid_rule(void **state)
{
    struct feed_entry a =
        entry("tag:example.com,2024:1", "https://example.com/a", "A");
    struct feed_entry a_moved =
        entry("tag:example.com,2024:1", "https://example.com/renamed", "A");
    struct feed_entry http = entry("http://example.com/?guid=7", NULL, "X");
    struct feed_entry https = entry("https://example.com/?guid=7", NULL, "X");
    char x[FEED_ID_LEN + 1], y[FEED_ID_LEN + 1];

    (void)state;
    /* No article ID in the link: the guid decides, so a changed link
     * keeps the entry. */
    assert_int_equal(id_of(&a, "f", FEED_ID_AUTO, x), FEED_ID_GUID);
    assert_int_equal(id_of(&a_moved, "f", FEED_ID_AUTO, y), FEED_ID_GUID);
    assert_string_equal(x, y);
    /* A plain guid belongs to its feed: another feed's "1" is another
     * entry. */
    id_of(&a, "g", FEED_ID_AUTO, y);
    assert_string_not_equal(x, y);
    /* A URL-shaped guid flipping from http to https is the same entry, in
     * any feed. */
    assert_int_equal(id_of(&http, "f", FEED_ID_AUTO, x), FEED_ID_GUID);
    id_of(&https, "g", FEED_ID_AUTO, y);
    assert_string_equal(x, y);
}

static void
test_link_rule(void **state)
{
    struct feed_entry a = entry(NULL, "http://example.com/post/hello", "Hi");
    struct feed_entry b =
        entry(NULL, "https://EXAMPLE.com/post/hello?utm_source=rss#top",
              "Hi, edited");
    struct feed_entry c = entry(NULL, "https://example.com/post/other", "Hi");
    char x[FEED_ID_LEN + 1], y[FEED_ID_LEN + 1];

    (void)state;
    assert_int_equal(id_of(&a, "f", FEED_ID_AUTO, x), FEED_ID_LINK);
    assert_int_equal(id_of(&b, "f", FEED_ID_AUTO, y), FEED_ID_LINK);
    assert_string_equal(x, y);
    id_of(&c, "f", FEED_ID_AUTO, y);
    assert_string_not_equal(x, y);
}

static void
test_content_rule(void **state)
{
    struct feed_entry a = entry(NULL, NULL, "Only a title");
    struct feed_entry b = entry(NULL, NULL, "Only a title");
    struct feed_entry c = entry(NULL, NULL, "Another title");
    char x[FEED_ID_LEN + 1], y[FEED_ID_LEN + 1];

    (void)state;
    a.published = b.published = c.published = 1715948040;
    a.summary = b.summary = c.summary = "text";
    assert_int_equal(id_of(&a, "f", FEED_ID_AUTO, x), FEED_ID_CONTENT);
    id_of(&b, "f", FEED_ID_AUTO, y);
    assert_string_equal(x, y);
    id_of(&c, "f", FEED_ID_AUTO, y);
    assert_string_not_equal(x, y);
    b.published = 1715948041;
    id_of(&b, "f", FEED_ID_AUTO, y);
    assert_string_not_equal(x, y);
}

static void
test_forced_rule(void **state)
{
    struct feed_entry e =
        entry("guid-1", "https://example.com/story-1234567", "T");
    char slug[FEED_ID_LEN + 1], guid[FEED_ID_LEN + 1], link[FEED_ID_LEN + 1];

    (void)state;
    assert_int_equal(id_of(&e, "f", FEED_ID_AUTO, slug), FEED_ID_SLUG);
    assert_int_equal(id_of(&e, "f", FEED_ID_GUID, guid), FEED_ID_GUID);
    assert_int_equal(id_of(&e, "f", FEED_ID_LINK, link), FEED_ID_LINK);
    assert_string_not_equal(slug, guid);
    assert_string_not_equal(guid, link);
    /* A forced rule that cannot apply falls back to the usual order. */
    e.guid = NULL;
    assert_int_equal(id_of(&e, "f", FEED_ID_GUID, guid), FEED_ID_SLUG);
    assert_string_equal(slug, guid);
}

static void
test_pattern_rule(void **state)
{
    struct feed_entry a = entry(NULL,
                                "https://example.com/story/1234/"
                                "first-headline?utm_source=x",
                                "T");
    struct feed_entry b =
        entry("guid-b", "http://EXAMPLE.com/story/1234/edited-headline", "T2");
    struct feed_entry other = entry(NULL, "https://example.com/about", "A");
    struct feed_entry slug =
        entry(NULL, "https://example.com/x/words-here-55555", "S");
    char x[FEED_ID_LEN + 1], y[FEED_ID_LEN + 1];
    regex_t re, whole;

    (void)state;
    assert_int_equal(regcomp(&re, "/story/([0-9]+)/", REG_EXTENDED), 0);
    /* The group is the article ID: the headline and the guid around it
     * do not matter, nor does the scheme or a tracking parameter. */
    assert_int_equal(feed_entry_id_pattern(&a, &re, x), FEED_ID_SLUG);
    assert_int_equal(feed_entry_id_pattern(&b, &re, y), FEED_ID_SLUG);
    assert_string_equal(x, y);
    assert_int_equal(feed_entry_id_pattern(&other, &re, x), FEED_E_INVAL);
    regfree(&re);
    /* Without a group the whole match counts; a pattern that picks what
     * the built-in rule picks gives the same ID. */
    assert_int_equal(regcomp(&whole, "[0-9]{5}$", REG_EXTENDED), 0);
    assert_int_equal(feed_entry_id_pattern(&slug, &whole, x), FEED_ID_SLUG);
    assert_int_equal(feed_entry_id(&slug, "f", FEED_ID_AUTO, y), FEED_ID_SLUG);
    assert_string_equal(x, y);
    regfree(&whole);
}

static void
test_derive(void **state)
{
    char a[FEED_ID_LEN + 1], b[FEED_ID_LEN + 1], c[FEED_ID_LEN + 1];

    (void)state;
    feed_id_derive("0123456789abcdef", 'l', "https://e.example/one", a);
    feed_id_derive("0123456789abcdef", 'l', "https://e.example/two", b);
    feed_id_derive("0123456789abcdef", 'l', "https://e.example/one", c);
    assert_string_not_equal(a, b);
    assert_string_equal(a, c);
    assert_string_not_equal(a, "0123456789abcdef");
    /* A link and a title that read alike are different discriminators. */
    feed_id_derive("0123456789abcdef", 't', "https://e.example/one", c);
    assert_string_not_equal(a, c);
}

static void
test_entry_hash(void **state)
{
    struct feed_enclosure enc = {"https://e.example/a.mp3", "audio/mpeg", 1};
    struct feed_entry a = entry("g", "https://e.example/a", "Title");
    struct feed_entry b;
    uint64_t h;

    (void)state;
    h = feed_entry_hash(&a);
    b = a;
    assert_true(feed_entry_hash(&b) == h);
    /* The guid is a name, not content: a flip alone is no edit. */
    b.guid = "https://other";
    assert_true(feed_entry_hash(&b) == h);
    b = a;
    b.title = "Title edited";
    assert_true(feed_entry_hash(&b) != h);
    b = a;
    b.published = 1;
    assert_true(feed_entry_hash(&b) != h);
    b = a;
    b.enclosures = &enc;
    b.nenclosures = 1;
    assert_true(feed_entry_hash(&b) != h);
    /* A field moving to the next one is still a change. */
    b = a;
    b.title = NULL;
    b.summary = "Title";
    assert_true(feed_entry_hash(&b) != h);
}

/* The one hex codec of IDs: FEED_ID_LEN lower-case digits out, either
 * case in, nothing else. */
static void
test_hex(void **state)
{
    static const char *const bad[] = {
        "",
        "0123456789abcde",   /* one short */
        "0123456789abcdef0", /* one more */
        "0123456789abcdeg",
        " 0123456789abcdef",
        "0123456789abcdef ",
        "+123456789abcdef",
        "0x23456789abcdef",
        "0123456789abcd\nf",
        "0123456789abcd\0f",
    };
    char id[FEED_ID_LEN + 1];
    uint64_t v, h = 0x9e3779b97f4a7c15u;

    (void)state;
    feed_id_format(0, id);
    assert_string_equal(id, "0000000000000000");
    feed_id_format(0x0123456789abcdefu, id);
    assert_string_equal(id, "0123456789abcdef");
    feed_id_format(UINT64_MAX, id);
    assert_string_equal(id, "ffffffffffffffff");
    assert_int_equal(feed_id_parse("0123456789ABCDEF", &v), 0);
    assert_true(v == 0x0123456789abcdefu);
    assert_int_equal(feed_id_parse("FfFfFfFfFfFfFfFf", &v), 0);
    assert_true(v == UINT64_MAX);
    for (int i = 0; i < 1000; i++) {
        h ^= h << 13, h ^= h >> 7, h ^= h << 17;
        feed_id_format(h, id);
        assert_int_equal(strlen(id), FEED_ID_LEN);
        assert_int_equal(feed_id_parse(id, &v), 0);
        assert_true(v == h);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 42;
        if (feed_id_parse(bad[i], &v) != FEED_E_INVAL)
            fail_msg("\"%s\" was taken", bad[i]);
        assert_true(v == 42); /* untouched */
    }
    assert_int_equal(feed_id_parse(NULL, &v), FEED_E_INVAL);
}

/* ---- linear in the link, guid and content ---- */

enum field { LINK, GUID, TITLE, SLUG };

struct shape {
    enum field field;
    const char *head, *unit, *tail;
};

static void
run_shape(size_t n, void *arg)
{
    const struct shape *sh = arg;
    size_t lu = strlen(sh->unit), k = n / lu + 1;
    struct feed_entry e = entry(NULL, NULL, NULL);
    struct feed_buf s, out;
    char id[FEED_ID_LEN + 1];

    feed_buf_init(&s, 0);
    feed_buf_init(&out, 0);
    assert_int_equal(feed_buf_puts(&s, sh->head), 0);
    for (size_t i = 0; i < k; i++)
        assert_int_equal(feed_buf_append(&s, sh->unit, lu), 0);
    assert_int_equal(feed_buf_puts(&s, sh->tail), 0);
    switch (sh->field) {
    case LINK:
        e.link = s.data;
        break;
    case GUID:
        e.guid = s.data;
        break;
    case TITLE:
        e.title = e.content = s.data;
        break;
    case SLUG: {
        int rc = feed_slug_key(s.data, &out);

        assert_true(rc == 0 || rc == FEED_E_INVAL);
        break;
    }
    }
    if (sh->field != SLUG) {
        assert_true(feed_entry_id(&e, "feed", FEED_ID_AUTO, id) > 0);
        (void)feed_entry_hash(&e);
    }
    feed_buf_free(&s);
    feed_buf_free(&out);
}

static void
test_linear(void **state)
{
    static const struct shape shapes[] = {
        {LINK, "http://e.example/", "a-", "12345"},
        {LINK, "http://e.example/", "a-", ""},
        {LINK, "http://e.example/", "1", "/"},
        {LINK, "http://e.example/a", "/", ""},
        {LINK, "http://e.example/a", ".", ""},
        {LINK, "http://e.example/", "-", "1234567"},
        {LINK, "http://e.example/", "_1", ""},
        {LINK, "http://e.example/?", "p=1x&", ""},
        {LINK, "http://e.example/?", "id=&", ""},
        {LINK, "http://e.example/?", "x=1&", "p=1"},
        {LINK, "http://e.example/?p=", "1", ""},
        {LINK, "http://e.example/", "a/../", ""},
        {LINK, "", "a", ""},
        {GUID, "http://e.example/?", "b=1&a=1&", ""},
        {GUID, "", "guid", ""},
        {TITLE, "", "t", ""},
        {SLUG, "http://e.example/", "a-1", ""},
        {SLUG, "http://e.example/x", "/", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "%d %s|%s|%s", (int)shapes[i].field,
                 shapes[i].head, shapes[i].unit, shapes[i].tail);
        assert_linear(name, run_shape, (void *)&shapes[i], LINEAR_N0, 1u << 20);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_slug_key),
        cmocka_unit_test(test_slug_edit_keeps_id),
        cmocka_unit_test(test_guid_rule),
        cmocka_unit_test(test_link_rule),
        cmocka_unit_test(test_content_rule),
        cmocka_unit_test(test_forced_rule),
        cmocka_unit_test(test_pattern_rule),
        cmocka_unit_test(test_derive),
        cmocka_unit_test(test_entry_hash),
        cmocka_unit_test(test_hex),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

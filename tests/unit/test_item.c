/* tests/unit/test_item.c - an item copied whole (item.c): every string
 * and list in one block of its own, equal to the original, NULL where it
 * was NULL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/item.h"

/* a and b are both NULL, or equal strings at different addresses. */
static void
same_string(const char *a, const char *b)
{
    if (a == NULL) {
        assert_null(b);
        return;
    }
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_string_equal(a, b);
}

static void
same_item(const struct feed_item *a, const struct feed_item *b)
{
    const struct feed_entry *x = &a->entry, *y = &b->entry;
    size_t i;

    assert_string_equal(a->id, b->id);
    same_string(x->guid, y->guid);
    same_string(x->link, y->link);
    same_string(x->title, y->title);
    same_string(x->author, y->author);
    same_string(x->summary, y->summary);
    same_string(x->content, y->content);
    same_string(x->image, y->image);
    same_string(a->feed, b->feed);
    same_string(a->feed_title, b->feed_title);
    same_string(a->feed_url, b->feed_url);
    assert_int_equal(x->published, y->published);
    assert_int_equal(x->updated, y->updated);
    assert_int_equal(a->stored, b->stored);
    assert_int_equal(a->changed, b->changed);
    assert_true(a->hash == b->hash);
    assert_int_equal(a->shared, b->shared);
    assert_int_equal(x->nenclosures, y->nenclosures);
    for (i = 0; i < x->nenclosures; i++) {
        same_string(x->enclosures[i].url, y->enclosures[i].url);
        same_string(x->enclosures[i].type, y->enclosures[i].type);
        assert_int_equal(x->enclosures[i].length, y->enclosures[i].length);
    }
    assert_int_equal(x->ncategories, y->ncategories);
    for (i = 0; i < x->ncategories; i++)
        same_string(x->categories[i], y->categories[i]);
    assert_int_equal(a->nalso, b->nalso);
    for (i = 0; i < a->nalso; i++)
        same_string(a->also[i], b->also[i]);
}

/* Every field set, long text among them; then every string NULL. */
static void
test_copy(void **state)
{
    static const struct feed_enclosure enc[] = {
        {"http://e.example/a.mp3", "audio/mpeg", 1234},
        {"http://e.example/b.ogg", NULL, -1}};
    static const char *const cats[] = {"one", "two", "three"};
    static const char *const also[] = {"f2", "f3"};
    const size_t n = 20000;
    char *summary = malloc(n + 1);
    struct feed_item it, *c;

    (void)state;
    assert_non_null(summary);
    for (size_t i = 0; i < n; i++)
        summary[i] = (char)('a' + i % 26);
    summary[n] = '\0';
    memset(&it, 0, sizeof it);
    strcpy(it.id, "0123456789abcdef");
    it.entry.guid = "tag:e.example,2024:1";
    it.entry.link = "http://e.example/1";
    it.entry.title = "A title";
    it.entry.author = "Ann";
    it.entry.summary = summary;
    it.entry.content = "<p>content</p>";
    it.entry.image = "http://e.example/i.png";
    it.entry.published = 1700000000;
    it.entry.updated = 1700000100;
    it.entry.enclosures = enc;
    it.entry.nenclosures = 2;
    it.entry.categories = cats;
    it.entry.ncategories = 3;
    it.feed = "f1";
    it.feed_title = "Feed one";
    it.feed_url = "http://e.example/feed.xml";
    it.also = also;
    it.nalso = 2;
    it.stored = 1700000200;
    it.changed = 1700000300;
    it.hash = UINT64_C(0x0123456789abcdef);
    it.shared = 1;
    assert_non_null(c = feed_item_copy(&it));
    same_item(&it, c);
    /* The copy owns its bytes: the original may change or go. */
    summary[0] = 'Z';
    assert_int_equal(c->entry.summary[0], 'a');
    free(c);
    free(summary);

    memset(&it, 0, sizeof it);
    it.feed = "f1";
    assert_non_null(c = feed_item_copy(&it));
    same_item(&it, c);
    assert_null(c->entry.enclosures);
    assert_null(c->entry.categories);
    assert_null(c->also);
    free(c);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_publish_cache.c - the sanitized HTML kept from one
 * publish to the next (daemon/publish_cache.c), and publish_prepare()
 * taking from it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/item.h"
#include "linear.h"
#include "publish_int.h"

static struct feed_item *
item(const char *id, uint64_t hash, const char *summary, const char *content)
{
    struct feed_item it;

    memset(&it, 0, sizeof(it));
    assert_true(strlen(id) < sizeof(it.id));
    memcpy(it.id, id, strlen(id) + 1);
    it.hash = hash;
    it.feed = "f";
    it.entry.summary = summary;
    it.entry.content = content;
    return feed_item_copy(&it);
}

static void
items_add(struct publish_items *c, struct feed_item *it)
{
    assert_non_null(it);
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->items = realloc(c->items, c->cap * sizeof(*c->items));
        assert_non_null(c->items);
    }
    c->items[c->n++] = it;
}

/* What the first publish sanitized, the second takes as it is (the very
 * strings), but for an entry whose content changed (another hash) and
 * one with no hash (an old record): those are sanitized again. */
static void
test_prepare_takes_what_was_kept(void **state)
{
    struct publish_cache *pc = publish_cache_new();
    struct publish_items c = {0};
    struct feed_item *flat1, *flat2;
    struct feed_buf *safe1, *safe2;

    (void)state;
    assert_non_null(pc);
    items_add(&c, item("aaaaaaaaaaaaaaaa", 1, "<p onclick=x>one</p>", NULL));
    items_add(&c, item("bbbbbbbbbbbbbbbb", 2, NULL, "<b>two</b><script>"));
    items_add(&c, item("cccccccccccccccc", 0, "<i>old</i>", NULL));
    assert_int_equal(publish_prepare(&c, pc, 1, &flat1, &safe1), 0);
    assert_string_equal(flat1[0].entry.summary, "<p>one</p>");
    assert_null(flat1[0].entry.content);
    assert_string_equal(flat1[1].entry.content, "<b>two</b>");
    assert_string_equal(flat1[2].entry.summary, "<i>old</i>");
    assert_int_equal(publish_cache_count(pc), 2); /* not the one without */
    /* The same items again: the cached strings themselves. */
    c.items[1]->hash = 3; /* b was edited */
    assert_int_equal(publish_prepare(&c, pc, 1, &flat2, &safe2), 0);
    assert_ptr_equal(flat2[0].entry.summary, flat1[0].entry.summary);
    assert_ptr_not_equal(flat2[1].entry.content, flat1[1].entry.content);
    assert_string_equal(flat2[1].entry.content, "<b>two</b>");
    assert_ptr_not_equal(flat2[2].entry.summary, flat1[2].entry.summary);
    publish_prepared_free(flat1, safe1, c.n);
    publish_prepared_free(flat2, safe2, c.n);
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 2);
    publish_items_free(&c);
    publish_cache_free(pc);
}

/* A sweep keeps what the publish under way used (marked), and drops the
 * rest; a reader that does not keep (tags, archive pages) takes what is
 * there without marking it, and adds nothing. */
static void
test_sweep(void **state)
{
    struct publish_cache *pc = publish_cache_new();
    struct publish_items c = {0}, d = {0};
    struct feed_item *flat;
    struct feed_buf *safe;
    const char *s = NULL, *x = NULL;

    (void)state;
    items_add(&c, item("aaaaaaaaaaaaaaaa", 1, "a", NULL));
    items_add(&c, item("bbbbbbbbbbbbbbbb", 2, "b", NULL));
    assert_int_equal(publish_prepare(&c, pc, 1, &flat, &safe), 0);
    publish_prepared_free(flat, safe, c.n);
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 2);
    /* A reader that does not keep: b comes from the cache, z is not
     * added. */
    items_add(&d, item("bbbbbbbbbbbbbbbb", 2, "b", NULL));
    items_add(&d, item("zzzzzzzzzzzzzzzz", 9, "z", NULL));
    assert_int_equal(publish_prepare(&d, pc, 0, &flat, &safe), 0);
    assert_true(publish_cache_get(pc, d.items[0], 0, &s, &x));
    assert_ptr_equal(flat[0].entry.summary, s);
    publish_prepared_free(flat, safe, d.n);
    assert_int_equal(publish_cache_count(pc), 2);
    /* The next publish holds only a: b goes at the sweep. */
    publish_items_free(&c);
    items_add(&c, item("aaaaaaaaaaaaaaaa", 1, "a", NULL));
    assert_int_equal(publish_prepare(&c, pc, 1, &flat, &safe), 0);
    publish_prepared_free(flat, safe, c.n);
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 1);
    assert_false(publish_cache_get(pc, d.items[0], 0, &s, &x));
    assert_true(publish_cache_get(pc, c.items[0], 0, &s, &x));
    publish_items_free(&c);
    publish_items_free(&d);
    publish_cache_free(pc);
}

/* Many entries, in any order: each found, none lost as the array grows
 * and shrinks. */
static void
test_many(void **state)
{
    struct publish_cache *pc = publish_cache_new();
    struct publish_items c = {0};
    struct feed_item *flat;
    struct feed_buf *safe;
    char id[32], html[32];
    const char *s, *x;
    size_t i;

    (void)state;
    for (i = 0; i < 500; i++) {
        snprintf(id, sizeof(id), "%016zx", (i * 7919) % 500);
        snprintf(html, sizeof(html), "<p>%zu</p>", (i * 7919) % 500);
        items_add(&c, item(id, i + 1, html, NULL));
    }
    assert_int_equal(publish_prepare(&c, pc, 1, &flat, &safe), 0);
    publish_prepared_free(flat, safe, c.n);
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 500);
    for (i = 0; i < c.n; i++) {
        assert_true(publish_cache_get(pc, c.items[i], i < 10, &s, &x));
        snprintf(html, sizeof(html), "<p>%zu</p>", (i * 7919) % 500);
        assert_string_equal(s, html);
    }
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 10);
    publish_items_free(&c);
    publish_cache_free(pc);
}

/* Two versions of one ID in one publish: the second does not free the
 * strings the first's item points at. */
static void
test_two_versions(void **state)
{
    struct publish_cache *pc = publish_cache_new();
    struct publish_items c = {0};
    struct feed_item *flat;
    struct feed_buf *safe;

    (void)state;
    items_add(&c, item("aaaaaaaaaaaaaaaa", 1, "<b>one</b>", NULL));
    items_add(&c, item("aaaaaaaaaaaaaaaa", 2, "<i>two</i>", NULL));
    assert_int_equal(publish_prepare(&c, pc, 1, &flat, &safe), 0);
    assert_string_equal(flat[0].entry.summary, "<b>one</b>");
    assert_string_equal(flat[1].entry.summary, "<i>two</i>");
    publish_prepared_free(flat, safe, c.n);
    publish_cache_sweep(pc);
    assert_int_equal(publish_cache_count(pc), 1);
    publish_items_free(&c);
    publish_cache_free(pc);
}

/* n entries put into an empty cache, as the first publish after a start
 * puts the whole merged feed: their IDs come in no order of theirs (here
 * the worst, descending), and each put must not move the ones before. */
static void
run_puts(size_t n, void *arg)
{
    struct publish_cache *pc = publish_cache_new();
    struct feed_item it;
    struct feed_buf s, x;
    size_t i;

    (void)arg;
    assert_non_null(pc);
    memset(&it, 0, sizeof(it));
    for (i = 0; i < n; i++) {
        snprintf(it.id, sizeof(it.id), "%016zx", n - i);
        it.hash = i + 1;
        feed_buf_init(&s, 0);
        feed_buf_init(&x, 0);
        assert_int_equal(publish_cache_put(pc, &it, &s, &x), 0);
    }
    assert_int_equal(publish_cache_count(pc), n);
    publish_cache_free(pc);
}

static void
test_puts_linear(void **state)
{
    (void)state;
    assert_linear("publish_cache_put", run_puts, NULL, 256, (size_t)1 << 16);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prepare_takes_what_was_kept),
        cmocka_unit_test(test_sweep),
        cmocka_unit_test(test_many),
        cmocka_unit_test(test_two_versions),
        cmocka_unit_test(test_puts_linear),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

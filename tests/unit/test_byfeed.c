/* tests/unit/test_byfeed.c - store_recent_feeds(): the newest items of a
 * set of feeds, filtered in memory once each rec's feed is known. */
#include "store_fixture.h"

/* An item of feed feed. */
static void
add_f(struct store *s, const char *id, const char *feed, int64_t published,
      uint64_t hash)
{
    struct feed_item it = item(id, id, published);

    it.feed = feed;
    it.hash = hash;
    assert_int_equal(store_add(s, &it), 0);
}

static const char *const ac[] = {"a", "c"};

/* The IDs store_recent_feeds() hands over for feeds a and c, n at most,
 * joined with ' '. */
static void
ids_of(struct store *s, size_t n, char *out, uint64_t *digest)
{
    struct collect c;
    size_t i;

    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent_feeds(s, n, ac, 2, digest, collect_fn, &c),
                     0);
    out[0] = '\0';
    for (i = 0; i < c.n; i++) {
        strcat(out, c.items[i].id + 14);
        strcat(out, i + 1 < c.n ? " " : "");
    }
}

static void
test_filter(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char got[128];
    uint64_t d1 = 0, d2 = 0, d3 = 0;

    add_f(s, "0000000000000001", "a", 100, 1);
    add_f(s, "0000000000000002", "b", 900, 1);
    add_f(s, "0000000000000003", "c", 300, 1);
    add_f(s, "0000000000000004", "a", 500, 1);
    add_f(s, "0000000000000005", "b", 800, 1);
    add_f(s, "0000000000000006", "c", 200, 1);
    assert_int_equal(store_commit(s), 0);
    ids_of(s, 3, got, &d1);
    assert_string_equal(got, "04 03 06");
    ids_of(s, 100, got, NULL);
    assert_string_equal(got, "04 03 06 01");
    /* The digest alone reads nothing and is that of the same choice. */
    assert_int_equal(store_recent_feeds(s, 3, ac, 2, &d2, NULL, NULL), 0);
    assert_true(d1 == d2);
    /* A feed of no item, and none at all. */
    {
        const char *none[] = {"zz"};
        struct collect c;

        memset(&c, 0, sizeof c);
        assert_int_equal(
            store_recent_feeds(s, 5, none, 1, NULL, collect_fn, &c), 0);
        assert_int_equal(c.n, 0);
        assert_int_equal(
            store_recent_feeds(s, 5, none, 0, NULL, collect_fn, &c), 0);
        assert_int_equal(c.n, 0);
    }
    /* A new item, learnt at the next read; a new version changes the
     * digest of the same choice. */
    add_f(s, "0000000000000007", "c", 400, 1);
    add_f(s, "0000000000000003", "c", 300, 2);
    assert_int_equal(store_commit(s), 0);
    ids_of(s, 3, got, &d3);
    assert_string_equal(got, "04 07 03");
    assert_true(d3 != d1);
    store_close(s);
    /* The same from the files. */
    s = open_ok(f);
    ids_of(s, 3, got, &d2);
    assert_string_equal(got, "04 07 03");
    assert_true(d2 == d3);
    /* A compaction renumbers the recs: the feeds are learnt again. */
    assert_int_equal(store_compact(s, 1000, 0, 4), 0);
    ids_of(s, 10, got, NULL);
    assert_string_equal(got, "04 07");
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_filter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

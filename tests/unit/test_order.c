/* tests/unit/test_order.c - store_first_except() and store_has(): the
 * items in commit order, less those already listed. */
#include "store_fixture.h"

#include "feeds/id.h"

/* A store_id_fn: each ID's last two digits, appended to out. */
static int
id_fn(uint64_t id, void *arg)
{
    char *out = arg, hex[FEED_ID_LEN + 1];

    feed_id_format(id, hex);
    if (out[0] != '\0')
        strcat(out, " ");
    strcat(out, hex + 14);
    return 0;
}

/* The last two digits of the IDs store_first_except() hands over, and
 * the count it gives; store_first_ids_except() must name the same IDs
 * from the index alone. */
static size_t
first(struct store *s, const uint64_t *ids, size_t nids, size_t n, char *out)
{
    struct collect c;
    size_t i, count = 12345;
    char by_id[128] = "";

    memset(&c, 0, sizeof c);
    assert_int_equal(
        store_first_except(s, ids, nids, n, &count, collect_fn, &c), 0);
    out[0] = '\0';
    for (i = 0; i < c.n; i++) {
        strcat(out, c.items[i].id + 14);
        strcat(out, i + 1 < c.n ? " " : "");
    }
    assert_int_equal(store_first_ids_except(s, ids, nids, n, id_fn, by_id), 0);
    assert_string_equal(by_id, out);
    return count;
}

static void
test_order(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const uint64_t none[] = {0}, some[] = {0x1, 0x3, 0x5};
    char got[128];

    /* Committed in this order, dated in another. */
    add_v(s, "0000000000000004", "4", 400, 1);
    add_v(s, "0000000000000001", "1", 900, 1);
    add_v(s, "0000000000000003", "3", 100, 1);
    assert_int_equal(store_commit(s), 0);
    add_v(s, "0000000000000002", "2", 500, 1);
    add_v(s, "0000000000000005", "5", 300, 1);
    assert_int_equal(store_commit(s), 0);
    add_v(s, "0000000000000006", "6", 50, 1); /* pending: not listed */
    assert_int_equal(first(s, none, 0, 100, got), 5);
    assert_string_equal(got, "04 01 03 02 05");
    assert_int_equal(first(s, none, 0, 2, got), 5);
    assert_string_equal(got, "04 01");
    assert_int_equal(first(s, some, 3, 100, got), 2);
    assert_string_equal(got, "04 02");
    assert_int_equal(first(s, some, 3, 0, got), 2);
    assert_string_equal(got, "");
    /* An update keeps its item's place. */
    assert_int_equal(store_commit(s), 0);
    add_v(s, "0000000000000001", "1 again", 900, 2);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(first(s, none, 0, 100, got), 6);
    assert_string_equal(got, "04 01 03 02 05 06");
    assert_int_equal(store_has(s, 0x1), 1);
    assert_int_equal(store_has(s, 0x77), 0);
    store_close(s);
    /* The same from the files; a compaction keeps the order of what it
     * keeps, and what it drops is no longer had. */
    s = open_ok(f);
    assert_int_equal(first(s, none, 0, 100, got), 6);
    assert_string_equal(got, "04 01 03 02 05 06");
    assert_int_equal(store_compact(s, 1000, 1000 - 200, 0), 0);
    assert_int_equal(first(s, none, 0, 100, got), 4);
    /* but an updated item goes to the place of its latest version. */
    assert_string_equal(got, "04 02 05 01");
    assert_int_equal(store_has(s, 0x3), 0);
    assert_int_equal(store_has(s, 0x6), 0);
    assert_int_equal(store_has(s, 0x4), 1);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/test_seen.c - the seen set (seen.c) directly: insert, find,
 * growth, collisions, removal inside and across the end of a run, many
 * IDs; the dropped IDs: merge, and the file at open; and the index's
 * bytes per entry. */
#include "store_fixture.h"
#include "store_int.h"

/* The sets here stand value v for the ID keys[v]: as the store's values
 * point at the recs that hold the IDs. */
static uint64_t
key_of(const void *arg, uint32_t v)
{
    return ((const uint64_t *)arg)[v];
}

static void
test_set_insert_find(void **state)
{
    uint64_t keys[] = {0, 7, 8};
    struct store_set set = {.seed = 42, .key = key_of, .arg = keys};
    uint32_t *slot;

    (void)state;
    assert_null(store_set_find(&set, 7)); /* an empty set has no table */
    assert_int_equal(store_set_add(&set, 7, 1), 0);
    assert_int_equal(store_set_add(&set, 8, 2), 0);
    assert_int_equal(set.used, 2);
    slot = store_set_find(&set, 7);
    assert_non_null(slot);
    assert_int_equal(*slot, 1);
    slot = store_set_find(&set, 8);
    assert_non_null(slot);
    assert_int_equal(*slot, 2);
    assert_null(store_set_find(&set, 9));
    assert_null(store_set_find(&set, 0));
    store_set_del(&set, store_set_find(&set, 7));
    assert_null(store_set_find(&set, 7));
    assert_non_null(store_set_find(&set, 8));
    assert_int_equal(set.used, 1);
    store_set_clear(&set);
    assert_null(store_set_find(&set, 8));
    assert_int_equal(set.used, 0);
    store_set_free(&set);
    store_set_free(&set); /* twice: a no-op */
}

/* A slot is 4 bytes, and 1M IDs take a table of 2^21 slots (load under
 * 0.7): 8 MiB, where slots that held the ID itself took 32. */
static void
test_set_slot_size(void **state)
{
    uint64_t keys[1] = {0};
    struct store_set set = {.seed = 1, .key = key_of, .arg = keys};

    (void)state;
    assert_int_equal(sizeof *set.slots, 4);
    assert_int_equal(store_set_reserve(&set, 1000000), 0);
    assert_int_equal(set.cap, (size_t)1 << 21);
    assert_true(set.cap * sizeof *set.slots <= (size_t)8 << 20);
    store_set_free(&set);
}

/* n IDs that all have the same home slot in a table of cap slots. */
static void
colliding(uint64_t seed, size_t cap, uint64_t *ids, size_t n)
{
    size_t home = store_set_home(seed, cap, 1), k = 0;

    for (uint64_t id = 1; k < n; id++)
        if (store_set_home(seed, cap, id) == home)
            ids[k++] = id;
}

static void
test_set_collisions(void **state)
{
    uint64_t keys[13] = {0};
    struct store_set set = {.seed = 0x1234, .key = key_of, .arg = keys};
    size_t i, j;

    (void)state;
    assert_int_equal(store_set_reserve(&set, 1), 0);
    colliding(set.seed, set.cap, keys + 1, 12);
    for (i = 1; i <= 12; i++)
        assert_int_equal(store_set_add(&set, keys[i], (uint32_t)i), 0);
    for (i = 1; i <= 12; i++)
        assert_int_equal(*store_set_find(&set, keys[i]), i);
    /* Removing one in the middle of the run shifts the rest back: every
     * other is still found, and the removed one is not. */
    for (i = 1; i <= 12; i += 3) {
        store_set_del(&set, store_set_find(&set, keys[i]));
        for (j = 1; j <= 12; j++) {
            if (j % 3 == 1 && j <= i)
                assert_null(store_set_find(&set, keys[j]));
            else
                assert_int_equal(*store_set_find(&set, keys[j]), j);
        }
    }
    assert_int_equal(set.used, 8);
    store_set_free(&set);
}

/* A run that wraps from the last slot to the first, then loses its
 * head: the entries past the end must still be found. */
static void
test_set_wrap(void **state)
{
    uint64_t keys[7] = {0}, id;
    struct store_set set = {.seed = 99, .key = key_of, .arg = keys};
    size_t k = 1;

    (void)state;
    assert_int_equal(store_set_reserve(&set, 1), 0);
    for (id = 1; k <= 6; id++)
        if (store_set_home(set.seed, set.cap, id) == set.cap - 2)
            keys[k++] = id;
    for (k = 1; k <= 6; k++)
        assert_int_equal(store_set_add(&set, keys[k], (uint32_t)k), 0);
    assert_int_equal(set.slots[1] != 0, 1); /* it wrapped */
    store_set_del(&set, store_set_find(&set, keys[1]));
    store_set_del(&set, store_set_find(&set, keys[4]));
    for (k = 1; k <= 6; k++) {
        if (k == 1 || k == 4)
            assert_null(store_set_find(&set, keys[k]));
        else
            assert_int_equal(*store_set_find(&set, keys[k]), k);
    }
    store_set_free(&set);
}

static void
test_set_grow_many(void **state)
{
    const size_t n = 200000;
    uint64_t *keys = calloc(n + 1, sizeof *keys);
    struct store_set set = {.seed = 7, .key = key_of, .arg = keys};
    size_t i, cap0;
    uint64_t x = 0x9e3779b97f4a7c15;

    (void)state;
    assert_non_null(keys);
    for (i = 1; i <= n; i++)
        keys[i] = i == 1 ? 1 : i * x;
    assert_int_equal(store_set_add(&set, 1, 1), 0);
    cap0 = set.cap;
    for (i = 2; i <= n; i++)
        assert_int_equal(store_set_add(&set, keys[i], (uint32_t)i), 0);
    assert_true(set.cap > cap0);
    assert_true(set.used * 10 <= set.cap * 7); /* the load stays under 0.7 */
    assert_int_equal(set.used, n);
    for (i = 1; i <= n; i++)
        assert_int_equal(*store_set_find(&set, keys[i]), i);
    assert_null(store_set_find(&set, 2));
    /* Half removed, the other half still found. */
    for (i = 2; i <= n; i += 2)
        store_set_del(&set, store_set_find(&set, keys[i]));
    for (i = 2; i <= n; i++) {
        if (i % 2 == 0)
            assert_null(store_set_find(&set, keys[i]));
        else
            assert_int_equal(*store_set_find(&set, keys[i]), i);
    }
    store_set_free(&set);
    free(keys);
}

/* A reserve sizes the table once: the adds that follow do not move it. */
static void
test_set_reserve(void **state)
{
    uint64_t *keys = calloc(5001, sizeof *keys);
    struct store_set set = {.seed = 3, .key = key_of, .arg = keys};
    uint32_t *t;
    size_t i;

    (void)state;
    assert_non_null(keys);
    assert_int_equal(store_set_reserve(&set, 5000), 0);
    t = set.slots;
    for (i = 1; i <= 5000; i++) {
        keys[i] = i;
        assert_int_equal(store_set_add(&set, i, (uint32_t)i), 0);
    }
    assert_ptr_equal(set.slots, t);
    store_set_free(&set);
    free(keys);
}

/* rec 1 -> 2, rec 2 dropped, rec 3 -> 1; values of 100 and more stay. */
static uint32_t
map_of(const void *arg, uint32_t v)
{
    const uint32_t *map = arg;

    return v >= 100 ? v : map[v - 1];
}

static void
test_set_remap(void **state)
{
    static uint64_t keys[101];
    struct store_set set = {.seed = 5, .key = key_of, .arg = keys}, out;
    const uint32_t map[3] = {2, 0, 1};

    (void)state;
    keys[1] = 10;
    keys[2] = 20;
    keys[3] = 30;
    keys[100] = 40;
    assert_int_equal(store_set_add(&set, 10, 1), 0);
    assert_int_equal(store_set_add(&set, 20, 2), 0);
    assert_int_equal(store_set_add(&set, 30, 3), 0);
    assert_int_equal(store_set_add(&set, 40, 100), 0);
    assert_int_equal(store_set_remap(&set, map_of, map, &out), 0);
    assert_int_equal(out.seed, set.seed);
    assert_ptr_equal(out.key, set.key);
    assert_int_equal(out.used, 3);
    /* The new values' IDs are read through the same key: point it at
     * where the renumbered recs are. */
    keys[2] = 10;
    keys[1] = 30;
    assert_int_equal(*store_set_find(&out, 10), 2);
    assert_null(store_set_find(&out, 20));
    assert_int_equal(*store_set_find(&out, 30), 1);
    assert_int_equal(*store_set_find(&out, 40), 100);
    store_set_free(&set);
    store_set_free(&out);
}

static void
test_ids_merge(void **state)
{
    const uint64_t a[] = {1, 3, 5, 7}, b[] = {2, 3, 8};
    uint64_t *m;
    size_t n;

    (void)state;
    m = store_ids_merge(a, 4, b, 3, &n);
    assert_non_null(m);
    assert_int_equal(n, 6);
    assert_int_equal(m[0], 1);
    assert_int_equal(m[1], 2);
    assert_int_equal(m[2], 3);
    assert_int_equal(m[3], 5);
    assert_int_equal(m[4], 7);
    assert_int_equal(m[5], 8);
    free(m);
    m = store_ids_merge(NULL, 0, NULL, 0, &n);
    assert_non_null(m);
    assert_int_equal(n, 0);
    free(m);
}

/* items/dropped as written, and as edited by hand out of order. */
static void
test_dropped_file(void **state)
{
    struct fixture *f = *state;
    const uint64_t ids[] = {0x30, 0x10, 0x20};
    struct feed_buf b;
    struct store *s;
    int fd;

    s = open_ok(f);
    store_close(s);
    feed_buf_init(&b, 0);
    assert_int_equal(store_dropped_encode(&b, ids, 3), 0);
    assert_int_equal(b.len, STORE_DROP_HDR + 3 * 8);
    assert_memory_equal(b.data, STORE_DROP_MAGIC, 8);
    fd = open(path(f, "items/dropped"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b.data, b.len), (ssize_t)b.len);
    close(fd);
    feed_buf_free(&b);
    s = open_ok(f);
    warnings_have(s, "items/dropped: out of order, sorted");
    assert_int_equal(s->ndropped, 3);
    assert_int_equal(s->dropped[0], 0x10);
    assert_int_equal(store_dropped_has(s, 0x20), 1);
    assert_int_equal(store_dropped_has(s, 0x21), 0);
    assert_int_equal(store_seen(s, "0000000000000030"), 1);
    assert_int_equal(store_lookup(s, "0000000000000030", NULL), 1);
    store_close(s);

    /* Not a list of IDs: ignored, with a warning. */
    write_file(path(f, "items/dropped"), "garbage garbage garbage");
    s = open_ok(f);
    warnings_have(s, "not a list of dropped IDs");
    assert_int_equal(store_seen(s, "0000000000000030"), 0);
    store_close(s);
}

/* The index in memory per stored entry: a 40-byte rec (which holds the
 * ID) and a 4-byte slot of the seen set at a load of at least 0.35, so
 * under 52 bytes; with the ID in 16-byte slots it was 58 here (20,000
 * IDs in 32,768 slots) and 65 at 1M. Then the same after a reopen, which
 * loads the index from items/index, and every ID is still found. */
static void
test_index_bytes_per_entry(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const size_t n = 20000;
    char id[FEED_ID_LEN + 1];
    uint64_t hash;
    size_t i, bytes;

    for (i = 1; i <= n; i++) {
        snprintf(id, sizeof id, "%016zx", i * 0x9e3779b1u);
        add_ok(s, id, "t", (int64_t)i);
        if (i % 2000 == 0)
            assert_int_equal(store_commit(s), 0);
    }
    assert_int_equal(store_count(s), n);
    assert_int_equal(sizeof *s->ids.slots, 4);
    assert_int_equal(sizeof *s->recs, 40);
    bytes = s->ids.cap * sizeof *s->ids.slots + s->nrecs * sizeof *s->recs;
    assert_true(bytes < 52 * n);
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_count(s), n);
    bytes = s->ids.cap * sizeof *s->ids.slots + s->nrecs * sizeof *s->recs;
    assert_true(bytes < 52 * n);
    for (i = 1; i <= n; i++) {
        snprintf(id, sizeof id, "%016zx", i * 0x9e3779b1u);
        assert_int_equal(store_lookup(s, id, &hash), 1);
    }
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_insert_find),
        cmocka_unit_test(test_set_slot_size),
        cmocka_unit_test(test_set_collisions),
        cmocka_unit_test(test_set_wrap),
        cmocka_unit_test(test_set_grow_many),
        cmocka_unit_test(test_set_reserve),
        cmocka_unit_test(test_set_remap),
        cmocka_unit_test(test_ids_merge),
        T(test_dropped_file),
        T(test_index_bytes_per_entry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

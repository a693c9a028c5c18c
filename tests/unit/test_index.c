/* tests/unit/test_index.c - items/index, the side index (index.c): used at
 * open, damaged, torn, past or behind the log, rebuilt; its records encoded
 * and decoded directly. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"

/* ---- the side index ----------------------------------------------------- */

static void
test_index_used(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    char seg[256];
    off_t off;

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* A header, then a record per line: the segment header and three
     * items. */
    assert_int_equal(file_size(path(f, "items/index")), 16 + 4 * 48);

    /* Damage the middle record in a way the scan would see. An open
     * through the index does not read it... */
    snprintf(seg, sizeof seg, "%s", path(f, "items/000001.jsonl"));
    off = find_in_file(seg, "{\"id\":\"0000000000000002\"");
    poke(seg, off, "X", 1);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    /* ...only store_recent() does. */
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    warnings_have(s, "items/000001.jsonl: record at byte");
    store_close(s);

    /* Without the index, the scan parses every line, finds the damage and
     * writes the index again. */
    assert_int_equal(unlink(path(f, "items/index")), 0);
    s = open_ok(f);
    warnings_have(s, "items/000001.jsonl:3: corrupt record skipped");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    store_close(s);
    assert_int_equal(file_size(path(f, "items/index")), 16 + 4 * 48);
    /* The rebuilt index remembers the bad line and its warning. */
    s = open_ok(f);
    warnings_have(s, "items/000001.jsonl:3: corrupt record skipped");
    assert_int_equal(store_count(s), 2);
    store_close(s);
}

static void
test_index_damaged(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char idx[256];
    char id[FEED_ID_LEN + 1];
    int i;

    for (i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "%016x", i);
        add_ok(s, id, "x", i);
    }
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(idx, sizeof idx, "%s", path(f, "items/index"));

    /* One byte of the third record. */
    poke(idx, 16 + 2 * 48 + 20, "\x55", 1);
    s = open_ok(f);
    warnings_have(s, "items/index: record 3 is damaged; rebuilt from the "
                     "segments");
    assert_int_equal(store_count(s), 5);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 5);
    store_close(s);

    /* Not an index at all. */
    write_file(idx, "hello");
    s = open_ok(f);
    warnings_have(s, "items/index: not an index; rebuilt from the segments");
    assert_int_equal(store_count(s), 5);
    store_close(s);
    assert_int_equal(file_size(idx), 16 + 6 * 48);

    /* A record of zeros, as a crash may leave in a file not synced. */
    poke(idx, 16 + 48,
         "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
         "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0",
         48);
    s = open_ok(f);
    warnings_have(s, "items/index: record 2 is damaged");
    assert_int_equal(store_count(s), 5);
    for (i = 1; i <= 5; i++) {
        snprintf(id, sizeof id, "%016x", i);
        assert_int_equal(store_seen(s, id), 1);
    }
    store_close(s);
}

static void
test_index_torn_tail(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    off_t good;

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    good = file_size(path(f, "items/index"));
    append_file(path(f, "items/index"), "twenty bytes of junk");

    s = open_ok(f);
    warnings_have(s, "items/index: torn last record cut off");
    assert_int_equal(file_size(path(f, "items/index")), good);
    assert_int_equal(store_count(s), 2);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    assert_int_equal(file_size(path(f, "items/index")), good + 48);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    store_close(s);
}

static void
test_index_past_segment(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char seg[256];
    off_t two;

    snprintf(seg, sizeof seg, "%s", path(f, "items/000001.jsonl"));
    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    two = file_size(seg);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    /* The segment lost its last line behind the index's back. */
    assert_int_equal(truncate(seg, two), 0);
    s = open_ok(f);
    warnings_have(s, "items/index: record 4 does not fit "
                     "items/000001.jsonl; rebuilt from the segments");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    add_ok(s, "0000000000000004", "d", 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    store_close(s);

    /* Cut in the middle of a line: the rebuild cuts the torn line too. */
    assert_int_equal(truncate(seg, file_size(seg) - 10), 0);
    s = open_ok(f);
    warnings_have(s, "torn last line cut off");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000004"), 0);
    store_close(s);
}

/* A crash between the fsync of a batch and the index append: the index
 * lists less than the log holds. */
static void
test_index_behind_log(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char idx[256], saved[256];
    struct collect c;

    snprintf(idx, sizeof idx, "%s", path(f, "items/index"));
    snprintf(saved, sizeof saved, "%s", path(f, "index.saved"));
    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    copy_file(idx, saved);
    add_ok(s, "0000000000000002", "b", 2);
    add_ok(s, "0000000000000001", "a v2", 5);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    copy_file(saved, idx);

    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].title, "a v2");
    store_close(s);
    /* The scan listed what it found. */
    assert_int_equal(file_size(idx), 16 + 4 * 48);
}

/* A store written before the index (and the fields of issue 4) existed. */
static void
test_store_before_index(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct collect c;
    int pass, calls;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"),
               "{\"feedd_store\":1}\n"
               "{\"id\":\"0000000000000001\",\"feed\":\"lwn\","
               "\"feed_title\":null,\"feed_url\":\"https://lwn.net/\","
               "\"stored\":1700000000,\"guid\":null,\"link\":null,"
               "\"title\":\"old\",\"author\":null,\"published\":5,"
               "\"updated\":null,\"summary\":null,\"content\":null,"
               "\"image\":null,\"enclosures\":[],\"categories\":[]}\n");
    write_file(path(f, "items/000002.jsonl"),
               "{\"feedd_store\":1}\n" RECORD("0000000000000002", "\"older\"",
                                              "3") "\n");
    for (pass = 0; pass < 2; pass++) {
        s = open_ok(f);
        /* An upgrade, not a fault: no warning. */
        warnings_have(s, NULL);
        assert_int_equal(store_count(s), 2);
        assert_true(hash_of(s, "0000000000000001") == 0);
        calls = 0;
        assert_int_equal(store_recent(s, 10, old_fn, &calls), 0);
        assert_int_equal(calls, 2);
        store_close(s);
        assert_int_equal(file_size(path(f, "items/index")), 16 + 4 * 48);
    }
    s = open_ok(f);
    add_ok(s, "0000000000000003", "new", 9);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].title, "new");
    assert_string_equal(c.items[2].title, "older");
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 2);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_index_used),       T(test_index_damaged),
        T(test_index_torn_tail),  T(test_index_past_segment),
        T(test_index_behind_log), T(test_store_before_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

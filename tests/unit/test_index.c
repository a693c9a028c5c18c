/* tests/unit/test_index.c - items/index, the side index (index.c): used at
 * open, damaged, torn, past or behind the log, rebuilt; its records encoded
 * and decoded directly. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"
#include "store_int.h"

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
    warnings_have(s, "items/000001.jsonl at byte 360: damaged record "
                     "(checksum), skipped: the entry will be stored again "
                     "from its feed");
    /* Forgotten, so that its feed stores it again; and warned once. */
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    assert_int_equal(store_count(s), 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    warnings_have(s, NULL);
    store_close(s);

    /* Without the index, the scan parses every line, finds the damage and
     * writes the index again. */
    assert_int_equal(unlink(path(f, "items/index")), 0);
    s = open_ok(f);
    warnings_have(s, "items/000001.jsonl at byte 360 (line 3): damaged "
                     "record (checksum)");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    store_close(s);
    assert_int_equal(file_size(path(f, "items/index")), 16 + 4 * 48);
    /* The rebuilt index remembers the bad line and its warning. */
    s = open_ok(f);
    warnings_have(s, "items/000001.jsonl at byte 360 (line 3): damaged "
                     "record (checksum)");
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
    /* The new item went to a segment of the new format. */
    assert_int_equal(count_segments(path(f, "items")), 3);
    assert_true(
        file_has(path(f, "items/000003.jsonl"), "{\"feedd_store\":2}\n"));
}

/* ---- directly ----------------------------------------------------------- */

static void
test_irec_codec(void **state)
{
    const struct store_irec in = {
        .id = UINT64_C(0x0123456789abcdef),
        .date = -1234567890123,
        .hash = UINT64_C(0xfedcba9876543210),
        .off = UINT64_C(0x1122334455667788),
        .len = 0x99aabbcc,
        .seg = 0xddeeff01,
        .line = 0x02030405,
        .kind = STORE_IK_ITEM | STORE_IK_NOHDR,
    };
    unsigned char p[STORE_IDX_REC], q[STORE_IDX_REC];
    struct store_irec out;
    struct feed_buf b;
    size_t i;
    int bit;

    (void)state;
    store_irec_encode(p, &in);
    assert_int_equal(store_irec_decode(p, &out), 0);
    assert_true(out.id == in.id);
    assert_true(out.date == in.date);
    assert_true(out.hash == in.hash);
    assert_true(out.off == in.off);
    assert_int_equal(out.len, in.len);
    assert_int_equal(out.seg, in.seg);
    assert_int_equal(out.line, in.line);
    assert_int_equal(out.kind, in.kind);
    /* Little-endian, whatever the machine. */
    assert_int_equal(p[0], 0xef);
    assert_int_equal(p[7], 0x01);
    assert_int_equal(p[44], STORE_IK_ITEM | STORE_IK_NOHDR);
    /* Any one bit flipped anywhere is caught. */
    for (i = 0; i < STORE_IDX_REC; i++) {
        for (bit = 0; bit < 8; bit++) {
            memcpy(q, p, sizeof q);
            q[i] ^= (unsigned char)(1u << bit);
            if (store_irec_decode(q, &out) == 0)
                fail_msg("byte %zu bit %d flipped: not caught", i, bit);
        }
    }
    /* Zeros, as a crash may leave them, are no record. */
    memset(q, 0, sizeof q);
    assert_int_equal(store_irec_decode(q, &out), -1);
    feed_buf_init(&b, 0);
    assert_int_equal(store_irec_emit(&b, &in), 0);
    assert_int_equal(b.len, STORE_IDX_REC);
    assert_memory_equal(b.data, p, STORE_IDX_REC);
    feed_buf_free(&b);
}

static int
rec_cmp(const void *a, const void *b)
{
    const struct store_rec *x = a, *y = b;

    if (x->seg != y->seg)
        return x->seg < y->seg ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

/* s, opened through the index, holds the recs a full scan finds: the
 * same dates, hashes and places. Closes s. The scan's warnings are
 * dropped when warned is set, else there must be none. */
static void
same_as_scan(struct fixture *f, struct store *s, int warned)
{
    size_t n = s->nrecs, i;
    struct store_rec *a = malloc(n * sizeof *a);

    assert_non_null(a);
    memcpy(a, s->recs, n * sizeof *a);
    store_close(s);
    assert_int_equal(unlink(path(f, "items/index")), 0);
    s = open_ok(f); /* a full scan */
    if (warned)
        free(store_warnings(s));
    else
        warnings_have(s, NULL);
    assert_int_equal(s->nrecs, n);
    qsort(a, n, sizeof *a, rec_cmp);
    qsort(s->recs, n, sizeof *a, rec_cmp);
    for (i = 0; i < n; i++) {
        assert_int_equal(a[i].date, s->recs[i].date);
        assert_true(a[i].hash == s->recs[i].hash);
        assert_int_equal(a[i].seg, s->recs[i].seg);
        assert_int_equal(a[i].off, s->recs[i].off);
        assert_int_equal(a[i].len, s->recs[i].len);
    }
    store_close(s);
    free(a);
}

/* An open through the index gives the same table as a full scan: every
 * rec, its date, hash and place; and the same warnings. */
static void
test_index_same_as_scan(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char id[32], *wa, *wb;
    size_t i;

    s->seg_max = 2000; /* a few segments */
    for (i = 1; i <= 40; i++) {
        snprintf(id, sizeof id, "%016zx", i % 30 + 1); /* updates too */
        add_v(s, id, "t", (int64_t)(i * 7 % 13), i * 1000003);
        if (i % 3 == 0)
            assert_int_equal(store_commit(s), 0);
    }
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* A line past what the index lists, in the last segment. */
    snprintf(id, sizeof id, "items/%06zu.jsonl",
             count_segments(path(f, "items")));
    assert_true(count_segments(path(f, "items")) > 2);
    append_file(path(f, id), "garbage\n");

    s = open_ok(f); /* scans what the index does not list */
    wa = store_warnings(s);
    store_close(s);
    s = open_ok(f); /* through the index only */
    assert_true(s->idx_fd >= 0);
    wb = store_warnings(s);
    assert_non_null(wa);
    assert_non_null(wb);
    assert_string_equal(wa, wb);
    assert_int_equal(s->nrecs, 30);
    same_as_scan(f, s, 1);
    free(wa);
    free(wb);
}

/* A larger store, with IDs stored up to three times, loaded through the
 * index (whose lines go into the seen set in batches, the slots of a
 * batch looked at before any goes in): each ID once, with its latest
 * version and its place, the same table as a full scan gives. */
static void
test_index_load_many(void **state)
{
    enum { NIDS = 3000 };
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    uint64_t last[NIDS];
    char id[32];
    size_t i, k;

    /* Every ID once, then every 2nd again and every 6th a third time,
     * the versions in other batches than the first. */
    for (k = 0; k < 3; k++) {
        for (i = 0; i < NIDS; i++) {
            if ((k == 1 && i % 2 != 0) || (k == 2 && i % 6 != 0))
                continue;
            snprintf(id, sizeof id, "%016zx", i * 0x9e3779b97f4a7c15u);
            last[i] = (i + 1) * 1000 + k;
            add_v(s, id, "t", (int64_t)(i % 97), last[i]);
            if (i % 500 == 499)
                assert_int_equal(store_commit(s), 0);
        }
        assert_int_equal(store_commit(s), 0);
    }
    store_close(s);

    s = open_ok(f); /* through the index */
    assert_true(s->idx_fd >= 0);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), NIDS);
    assert_int_equal(s->nrecs, NIDS);
    assert_int_equal(s->ids.used, NIDS);
    for (i = 0; i < NIDS; i++) {
        snprintf(id, sizeof id, "%016zx", i * 0x9e3779b97f4a7c15u);
        assert_true(hash_of(s, id) == last[i]);
    }
    same_as_scan(f, s, 0);
}

/* A segment of the size the index says whose last listed line does not
 * end where it says (another store's segment, say): the index is
 * rebuilt. The check is cheap: one byte per segment. */
static void
test_index_other_segments(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    off_t end;

    s->seg_max = 100;
    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 2);
    end = file_size(path(f, "items/000001.jsonl"));
    poke(path(f, "items/000001.jsonl"), end - 1, " ", 1);
    s = open_ok(f);
    warnings_have(s, "items/index: items/000001.jsonl does not match it; "
                     "rebuilt from the segments");
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    store_close(s);
    s = open_ok(f);
    assert_true(s->idx_fd >= 0);
    warnings_have(s, NULL);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_irec_codec),
        T(test_index_same_as_scan),
        T(test_index_load_many),
        T(test_index_other_segments),
        T(test_index_used),
        T(test_index_damaged),
        T(test_index_torn_tail),
        T(test_index_past_segment),
        T(test_index_behind_log),
        T(test_store_before_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

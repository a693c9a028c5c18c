/* tests/unit/test_compact.c - retention and compaction (compact.c): age and
 * count limits, pending items kept, damaged lines, a compaction cut short
 * at every step, failures. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"
#include "store_int.h"

/* ---- retention and compaction ------------------------------------------- */

static void
test_compact_age(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    int pass;

    add_v(s, "0000000000000001", "t1000", 1000, 11);
    add_v(s, "0000000000000002", "t2000", 2000, 12);
    assert_int_equal(store_commit(s), 0);
    add_v(s, "0000000000000003", "t3000", 3000, 13);
    add_v(s, "0000000000000004", "t4000", 4000, 14);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_compact(s, 5000, -1, 0), -EINVAL);
    /* Older than 5000 - 2500: 1000 and 2000 go; 3000 is not older than
     * 2500. */
    assert_int_equal(store_compact(s, 5000, 2500, 0), 0);
    for (pass = 0; pass < 2; pass++) {
        assert_int_equal(store_count(s), 2);
        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
        assert_int_equal(c.n, 2);
        assert_string_equal(c.items[0].title, "t4000");
        assert_string_equal(c.items[1].title, "t3000");
        /* Dropped, still seen, also after a restart. */
        assert_int_equal(store_seen(s, "0000000000000001"), 1);
        assert_int_equal(store_seen(s, "0000000000000002"), 1);
        assert_true(hash_of(s, "0000000000000001") == 0);
        assert_true(hash_of(s, "0000000000000003") == 13);
        assert_int_equal(store_seen(s, "0000000000000005"), 0);
        store_close(s);
        assert_false(file_has(path(f, "items/000001.jsonl"), "t1000"));
        assert_int_equal(file_size(path(f, "items/dropped")), 16 + 2 * 8);
        assert_false(exists(path(f, "items.old")));
        assert_false(exists(path(f, "items.new")));
        s = open_ok(f);
        warnings_have(s, NULL);
    }
    /* Appends go on in the new generation. */
    add_v(s, "0000000000000006", "t6000", 6000, 16);
    assert_int_equal(store_commit(s), 0);
    /* A dropped ID added again comes back, as an update would. */
    add_v(s, "0000000000000001", "t1000 again", 1000, 21);
    assert_true(hash_of(s, "0000000000000001") == 21);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 4);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 4);
    assert_true(hash_of(s, "0000000000000001") == 21);
    assert_true(hash_of(s, "0000000000000002") == 0);
    /* Dropped again: one tombstone, not two. */
    assert_int_equal(store_compact(s, 5000, 2500, 0), 0);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    store_close(s);
    assert_int_equal(file_size(path(f, "items/dropped")), 16 + 2 * 8);
}

static void
test_compact_count(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char id[FEED_ID_LEN + 1], title[16];
    struct collect c;
    struct stat before, after;
    int i;

    for (i = 1; i <= 10; i++) {
        snprintf(id, sizeof id, "%016x", i);
        snprintf(title, sizeof title, "n%d", i);
        /* 9 and 10 share a date: the later line is newer. */
        add_v(s, id, title, i == 10 ? 9 : i, (uint64_t)i);
        if (i % 3 == 0)
            assert_int_equal(store_commit(s), 0);
    }
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_compact(s, 0, 0, 3), 0);
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].title, "n10");
    assert_string_equal(c.items[1].title, "n9");
    assert_string_equal(c.items[2].title, "n8");
    for (i = 1; i <= 10; i++) {
        snprintf(id, sizeof id, "%016x", i);
        assert_int_equal(store_seen(s, id), 1);
    }
    /* The limit counts items, not tombstones: nothing more goes. */
    assert_int_equal(stat(path(f, "items/000001.jsonl"), &before), 0);
    assert_int_equal(store_compact(s, 0, 0, 3), 0);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    assert_int_equal(store_count(s), 3);
    /* Nothing to drop and no dead line: nothing rewritten. */
    assert_int_equal(stat(path(f, "items/000001.jsonl"), &after), 0);
    assert_int_equal(before.st_ino, after.st_ino);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_string_equal(c.items[0].title, "n10");
    assert_string_equal(c.items[1].title, "n9");
    store_close(s);
}

static void
test_compact_keeps_pending(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;

    add_v(s, "0000000000000001", "old stored", 10, 1);
    add_v(s, "0000000000000002", "old, updated", 20, 2);
    add_v(s, "0000000000000003", "new", 5000, 3);
    assert_int_equal(store_commit(s), 0);
    /* Pending: an update of an item that is old enough to drop, and a new
     * item that is just as old. */
    add_v(s, "0000000000000002", "old, updated v2", 30, 22);
    add_v(s, "0000000000000004", "old pending", 40, 4);
    assert_int_equal(store_compact(s, 5000, 100, 1), 0);
    /* 1 is gone; 2 stays for its pending version; 4 is untouched. */
    assert_int_equal(store_count(s), 2);
    assert_true(hash_of(s, "0000000000000001") == 0);
    assert_true(hash_of(s, "0000000000000002") == 22);
    assert_true(hash_of(s, "0000000000000004") == 4);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 3);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].title, "new");
    assert_string_equal(c.items[1].title, "old pending");
    assert_string_equal(c.items[2].title, "old, updated v2");
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    store_close(s);

    /* By count: the newest stays, and so does an item with a pending
     * version, even past the limit; a batch never committed after the
     * compaction leaves its items as the compaction kept them. */
    s = open_ok(f);
    add_v(s, "0000000000000004", "old pending v2", 40, 44);
    add_v(s, "0000000000000005", "five", 5000, 5);
    assert_int_equal(store_compact(s, 5000, 0, 1), 0);
    assert_int_equal(store_count(s), 2); /* 3, the newest, and 4 */
    assert_true(hash_of(s, "0000000000000002") == 0);
    assert_true(hash_of(s, "0000000000000004") == 44);
    store_close(s); /* the batch is dropped */
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2);
    assert_true(hash_of(s, "0000000000000003") == 3);
    assert_true(hash_of(s, "0000000000000004") == 4);
    assert_true(hash_of(s, "0000000000000002") == 0);
    assert_int_equal(store_seen(s, "0000000000000005"), 0);
    store_close(s);
}

/* A line changed behind the store's back so that it no longer fits its
 * place: compaction drops it (its ID stays seen) rather than failing,
 * which would stop retention for good. */
static void
test_compact_damaged(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    char seg[256], want[160];
    off_t off;

    add_v(s, "0000000000000001", "a", 1, 1);
    add_v(s, "0000000000000002", "b", 2, 2);
    add_v(s, "0000000000000003", "c", 3, 3);
    add_v(s, "0000000000000004", "d", 4, 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(seg, sizeof seg, "%s", path(f, "items/000001.jsonl"));
    off = find_in_file(seg, "{\"id\":\"0000000000000003\"");
    poke(seg, off + 10, "\n", 1);

    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_compact(s, 0, 0, 3), 0);
    snprintf(want, sizeof want,
             "items/000001.jsonl at byte %lld: damaged record (checksum), "
             "skipped: the entry will be stored again from its feed",
             (long long)off);
    warnings_have(s, want);
    /* 1 dropped by retention, 3 damaged: forgotten, not dropped, so that
     * its feed stores it again. */
    assert_int_equal(store_count(s), 2);
    assert_true(hash_of(s, "0000000000000001") == 0);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    assert_true(hash_of(s, "0000000000000002") == 2);
    assert_true(hash_of(s, "0000000000000004") == 4);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    add_v(s, "0000000000000003", "c", 3, 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].id, "0000000000000004");
    assert_string_equal(c.items[1].id, "0000000000000003");
    assert_string_equal(c.items[2].id, "0000000000000002");
    store_close(s);
}

/* A record read back damaged before the compaction (killed, forgotten)
 * is neither kept nor dropped by it; and one with a pending version
 * keeps that version, which commits as new. */
static void
test_compact_after_damage(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    char seg[256];
    off_t off;

    add_v(s, "0000000000000001", "a", 1, 1);
    add_v(s, "0000000000000002", "b", 2, 2);
    add_v(s, "0000000000000003", "c", 3, 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(seg, sizeof seg, "%s", path(f, "items/000001.jsonl"));
    off = find_in_file(seg, "{\"id\":\"0000000000000002\"");
    poke(seg, off + 30, "#", 1);
    off = find_in_file(seg, "{\"id\":\"0000000000000003\"");
    poke(seg, off + 30, "#", 1);

    s = open_ok(f);
    /* 3 gets a pending version before its stored one is found damaged. */
    add_v(s, "0000000000000003", "c2", 3, 33);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 1);
    assert_string_equal(c.items[0].id, "0000000000000001");
    free(store_warnings(s));
    assert_int_equal(store_count(s), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    assert_true(hash_of(s, "0000000000000003") == 33);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    assert_true(hash_of(s, "0000000000000003") == 33);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 2);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    assert_false(exists(path(f, "items/dropped")));
    store_close(s);
}

/* A compaction over a segment of format 1: its lines are checked by
 * parsing them (one whose key was renamed in place, same length, is
 * damaged though it is still JSON) and copied with their checksums. */
static void
test_compact_format1(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct collect c;
    char seg[256];
    off_t off;
    char *text;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    snprintf(seg, sizeof seg, "%s", path(f, "items/000001.jsonl"));
    write_file(seg, "{\"feedd_store\":1}\n" RECORD(
                        "0000000000000001", "\"a\"",
                        "1") "\n" RECORD("0000000000000002", "\"b\"",
                                         "2") "\n" RECORD("0000000000000003",
                                                          "\"c\"", "3") "\n");
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    store_close(s);
    /* Same length, so that the index still fits. */
    off = find_in_file(seg, "{\"id\":\"0000000000000002\"");
    poke(seg, off + 26, "XXXX", 4); /* "feed" */
    s = open_ok(f);
    warnings_have(s, NULL);
    /* An old version to drop, so that the compaction rewrites. */
    add_v(s, "0000000000000001", "a2", 1, 11);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(count_segments(path(f, "items")), 2);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    warnings_have(s, "damaged record (a member missing or mistyped)");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    store_close(s);
    text = read_file(seg);
    assert_true(strncmp(text, "{\"feedd_store\":2}\n", 18) == 0);
    assert_non_null(strstr(text, "\"content\":null,\"sum\":\""));
    free(text);
    s = open_ok(f);
    warnings_have(s, NULL);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].title, "c");
    assert_string_equal(c.items[1].title, "a2");
    warnings_have(s, NULL);
    store_close(s);
}

static void
make_three(struct fixture *f)
{
    struct store *s = open_ok(f);

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
}

static void
check_three(struct fixture *f)
{
    struct store *s = open_ok(f);

    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    warnings_have(s, NULL);
    store_close(s);
    assert_false(exists(path(f, "items.new")));
    assert_false(exists(path(f, "items.old")));
}

static void
test_compact_crash_leftovers(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char a[256], b[256];

    make_three(f);
    /* Cut short while writing items.new/: the old store stays. */
    assert_int_equal(mkdir(path(f, "items.new"), 0755), 0);
    write_file(path(f, "items.new/000001.jsonl"), "{\"feedd_store\":1}\n{\"i");
    s = open_ok(f);
    warnings_have(s, "items.new: left by a compaction cut short, removed");
    store_close(s);
    check_three(f);

    /* Cut short between the renames: items.old/ goes back. */
    snprintf(a, sizeof a, "%s", path(f, "items"));
    snprintf(b, sizeof b, "%s", path(f, "items.old"));
    assert_int_equal(rename(a, b), 0);
    assert_int_equal(mkdir(path(f, "items.new"), 0755), 0);
    write_file(path(f, "items.new/000001.jsonl"), "{\"feedd_store\":1}\n");
    s = open_ok(f);
    warnings_have(s, "items: a compaction was cut short; the items from "
                     "before it are back");
    store_close(s);
    check_three(f);

    /* The same without items.new/ (it was renamed, then the crash came
     * before the sync made the second rename durable). */
    assert_int_equal(rename(a, b), 0);
    s = open_ok(f);
    warnings_have(s, "the items from before it are back");
    store_close(s);
    check_three(f);

    /* An empty items/ beside items.old/: made by an open that knew nothing
     * of compaction. items.old/ wins. */
    assert_int_equal(rename(a, b), 0);
    assert_int_equal(mkdir(a, 0755), 0);
    s = open_ok(f);
    store_close(s);
    check_three(f);

    /* Cut short after the swap, while removing items.old/: the new store
     * is items/, and what is left of the old one goes. */
    assert_int_equal(mkdir(b, 0755), 0);
    write_file(path(f, "items.old/000001.jsonl"), "{\"feedd_store\":1}\n");
    s = open_ok(f);
    store_close(s);
    check_three(f);
}

static void
test_compact_failure(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct rlimit old, lim;
    char id[FEED_ID_LEN + 1];
    static char big[8192];
    struct feed_item it;
    struct collect c;
    int i, rc;

    memset(big, 'z', sizeof big - 1);
    for (i = 1; i <= 20; i++) {
        snprintf(id, sizeof id, "%016x", i);
        it = item(id, "kept", i);
        it.entry.content = big;
        assert_int_equal(store_add(s, &it), 0);
    }
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000001", "updated", 100);
    assert_int_equal(store_commit(s), 0);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 50000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = store_compact(s, 0, 0, 10);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_non_null(strstr(store_error(s), "items.new/000001.jsonl"));
    assert_false(exists(path(f, "items.new")));
    assert_false(exists(path(f, "items.old")));
    /* All as it was, in memory and on disk. */
    assert_int_equal(store_count(s), 20);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    assert_false(exists(path(f, "items/dropped")));
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 16, collect_fn, &c), 0);
    assert_int_equal(c.n, 16);
    assert_string_equal(c.items[0].title, "updated");
    add_ok(s, "0000000000000099", "after", 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 21);
    assert_int_equal(store_compact(s, 0, 0, 10), 0);
    assert_int_equal(store_count(s), 10);
    store_close(s);
}

/* ---- the store as compaction leaves it, directly ------------------------ */

/* After a compaction every ID of the seen set points at a rec whose line,
 * read from the new segments, is that ID's record; the segments hold no
 * dead byte; the dropped IDs are sorted and seen; and a pending item
 * kept through it commits after it. */
static void
test_compact_consistent(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char id[FEED_ID_LEN + 1], want[32], line[64];
    const struct store_rec *r;
    uint64_t total, total2;
    uint32_t ref;
    size_t i, live = 0, old_len;
    int fd;

    s->seg_max = 3000;
    for (i = 1; i <= 60; i++) {
        snprintf(id, sizeof id, "%016zx", i % 45 + 1);
        add_v(s, id, "t", (int64_t)i, i);
        if (i % 4 == 0)
            assert_int_equal(store_commit(s), 0);
    }
    assert_int_equal(store_commit(s), 0);
    add_v(s, "0000000000000011", "pending", 1, 7); /* the oldest, pinned */
    assert_int_equal(store_compact(s, 0, 0, 20), 0);
    assert_int_equal(s->nrecs, 21); /* the newest 20, and the pinned one */
    assert_int_equal(s->ids.used, 21);
    assert_int_equal(s->ndropped, 45 - 21);
    for (i = 1; i < s->ndropped; i++)
        assert_true(s->dropped[i - 1] < s->dropped[i]);
    for (i = 0; i < s->ndropped; i++) {
        snprintf(id, sizeof id, "%016llx", (unsigned long long)s->dropped[i]);
        assert_int_equal(store_seen(s, id), 1);
        assert_null(store_set_find(&s->ids, s->dropped[i]));
    }
    for (i = 0; i < s->ids.cap; i++) {
        if (s->ids.slots[i] == 0)
            continue;
        ref = store_slot_ref(s, s->ids.slots[i]);
        assert_true(ref >= 1 && ref <= s->nrecs);
        r = &s->recs[ref - 1];
        assert_true(r->seg < s->nsegs);
        fd = store_seg_fd(s, r->seg);
        assert_true(fd >= 0);
        assert_int_equal(store_read_all(fd, line, 25, r->off), 0);
        snprintf(want, sizeof want, "{\"id\":\"%016llx\"",
                 (unsigned long long)store_slot_id(s, s->ids.slots[i]));
        assert_memory_equal(line, want, 24);
        live += r->len + 1;
    }
    /* Nothing but the headers is waste, the last segment included. */
    assert_int_equal(store_waste(s, &total),
                     s->nsegs * (sizeof STORE_SEG_HEADER - 1));
    assert_int_equal(total, live + s->nsegs * (sizeof STORE_SEG_HEADER - 1));
    assert_true(s->nsegs >= 2);
    old_len =
        s->recs[store_slot_ref(s, *store_set_find(&s->ids, 0x11)) - 1].len;
    assert_int_equal(store_commit(s), 0);
    assert_true(hash_of(s, "0000000000000011") == 7);
    /* The commit appended to the last segment and superseded a line: that
     * line is waste now, and total counts what was appended. */
    assert_int_equal(store_waste(s, &total2),
                     s->nsegs * (sizeof STORE_SEG_HEADER - 1) + old_len + 1);
    assert_true(total2 > total);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 21);
    assert_true(hash_of(s, "0000000000000011") == 7);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_compact_age),
        T(test_compact_count),
        T(test_compact_keeps_pending),
        T(test_compact_damaged),
        T(test_compact_after_damage),
        T(test_compact_format1),
        T(test_compact_crash_leftovers),
        T(test_compact_failure),
        T(test_compact_consistent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

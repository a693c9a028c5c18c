/* tests/unit/test_store.c - the public API: add and commit, the seen set
 * through store_seen() and store_lookup(), reopening, the lock,
 * store_recent(), updates and failed commits. Each test gets a fresh folder
 * under /tmp. */
#include "store_fixture.h"

/* ---- tests -------------------------------------------------------------- */

static void
test_add_commit_seen(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item bad = item("not-an-id", "x", 0);
    struct stat st;
    char *seg;

    assert_int_equal(stat(path(f, "public"), &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(store_seen(s, "00000000000000a1"), 0);
    add_ok(s, "00000000000000a1", "one", 100);
    /* Seen as soon as it is pending, so one poll cannot add it twice. */
    assert_int_equal(store_seen(s, "00000000000000a1"), 1);
    assert_int_equal(store_seen(s, "00000000000000A1"), 1);
    assert_int_equal(store_count(s), 0);
    assert_int_equal(store_add(s, &bad), -EINVAL);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 1);
    assert_int_equal(store_seen(s, "00000000000000a1"), 1);
    assert_int_equal(store_seen(s, "00000000000000a2"), 0);
    assert_int_equal(store_seen(s, "a1"), 0);
    /* An empty commit writes nothing. */
    assert_int_equal(store_commit(s), 0);
    assert_null(store_warnings(s));
    store_close(s);

    seg = read_file(path(f, "items/000001.jsonl"));
    assert_true(strncmp(seg,
                        "{\"feedd_store\":2}\n{\"id\":\"00000000000000a1\"",
                        42) == 0);
    assert_int_equal(seg[strlen(seg) - 1], '\n');
    free(seg);
    store_close(NULL);
}

static void
test_reopen(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    assert_int_equal(store_seen(s, "0000000000000003"), 1);
    assert_int_equal(store_seen(s, "0000000000000004"), 0);
    assert_null(store_warnings(s));
    /* Appends go on in the same segment, behind a single header. */
    add_ok(s, "0000000000000004", "d", 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_count(s), 4);
    assert_null(store_warnings(s));
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 1);
}

static void
test_pending_not_committed(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);

    add_ok(s, "00000000000000a1", "kept", 1);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "00000000000000b2", "lost", 2);
    assert_int_equal(store_seen(s, "00000000000000b2"), 1);
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_seen(s, "00000000000000a1"), 1);
    assert_int_equal(store_seen(s, "00000000000000b2"), 0);
    assert_int_equal(store_count(s), 1);
    store_close(s);
}

static void
test_lock(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char err[256];

    assert_null(store_open(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "in use by another process"));
    store_close(s);
    s = open_ok(f);
    store_close(s);
}

static void
test_recent(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    struct feed_item it;
    int pass;

    add_ok(s, "0000000000000001", "old", 1000);
    add_ok(s, "0000000000000002", "newest", 5000);
    add_ok(s, "0000000000000003", "tie-first", 3000);
    add_ok(s, "0000000000000004", "tie-second", 3000);
    /* No published date: sorts by updated. */
    it = item("0000000000000005", "by-updated", FEED_TIME_NONE);
    it.entry.updated = 4000;
    assert_int_equal(store_add(s, &it), 0);
    /* No dates at all: sorts by stored. */
    it = item("0000000000000006", "by-stored", FEED_TIME_NONE);
    it.stored = 2000;
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    add_ok(s, "0000000000000007", "pending", 9999);

    for (pass = 0; pass < 2; pass++) {
        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 4, collect_fn, &c), 0);
        assert_int_equal(c.n, 4);
        assert_string_equal(c.items[0].title, "newest");
        assert_string_equal(c.items[1].title, "by-updated");
        /* Same date: the one written later is newer. */
        assert_string_equal(c.items[2].title, "tie-second");
        assert_string_equal(c.items[3].title, "tie-first");
        assert_int_equal(c.items[1].date, 4000);

        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 100, collect_fn, &c), 0);
        assert_int_equal(c.n, 6);
        assert_string_equal(c.items[4].title, "by-stored");
        assert_string_equal(c.items[5].title, "old");
        assert_string_equal(c.items[5].id, "0000000000000001");

        memset(&c, 0, sizeof c);
        c.stop_after = 2;
        assert_int_equal(store_recent(s, 100, collect_fn, &c), 42);
        assert_int_equal(c.n, 2);

        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 0, collect_fn, &c), 0);
        assert_int_equal(c.n, 0);
        /* The same again from the files alone. */
        store_close(s);
        s = open_ok(f);
    }
    store_close(s);
}

static void
test_update(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;

    add_ok(s, "00000000000000aa", "first version", 100);
    add_ok(s, "00000000000000bb", "other", 50);
    assert_int_equal(store_commit(s), 0);
    /* The same ID again is an update: one item, the later line wins. */
    add_ok(s, "00000000000000aa", "edited", 100);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].title, "edited");
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_count(s), 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].title, "edited");
    assert_string_equal(c.items[1].title, "other");
    store_close(s);
}

static void
test_commit_failure(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct rlimit old, lim;
    char id[FEED_ID_LEN + 1], *w;
    struct feed_item it;
    static char big[4096];
    off_t size;
    int i, rc;

    /* Enough IDs that removing the failed batch's from the seen set
     * shifts entries around in it. */
    for (i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "%016x", i * 2);
        add_ok(s, id, "kept", i);
    }
    assert_int_equal(store_commit(s), 0);
    size = file_size(path(f, "items/000001.jsonl"));

    memset(big, 'x', sizeof big - 1);
    for (i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "%016x", i * 2 + 1);
        it = item(id, "lost", i);
        it.entry.content = big;
        assert_int_equal(store_add(s, &it), 0);
    }
    /* An update of a stored item in the failed batch: still seen after. */
    add_ok(s, "0000000000000000", "lost update", 0);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 100000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = store_commit(s);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);
    assert_non_null(strstr(store_error(s), "items/000001.jsonl"));
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), size);
    assert_int_equal(store_count(s), 2000);
    for (i = 0; i < 4000; i++) {
        snprintf(id, sizeof id, "%016x", i);
        if (store_seen(s, id) != !(i & 1))
            fail_msg("after the failed commit, seen(%s) is %d", id,
                     store_seen(s, id));
    }
    /* The next batch goes where the failed one was. */
    add_ok(s, "00000000000fffff", "after", 5000);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    s = open_ok(f);
    w = store_warnings(s);
    assert_null(w);
    assert_int_equal(store_count(s), 2001);
    assert_int_equal(store_seen(s, "0000000000000001"), 0);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    assert_int_equal(store_seen(s, "00000000000fffff"), 1);
    store_close(s);
}

/* ---- updates ------------------------------------------------------------ */

static void
test_update_versions(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    int pass;

    add_v(s, "00000000000000aa", "aa v1", 100, 1);
    add_v(s, "00000000000000cc", "cc", 50, 7);
    assert_int_equal(store_commit(s), 0);
    assert_true(hash_of(s, "00000000000000aa") == 1);
    /* A pending update is what store_lookup() sees, not yet what
     * store_recent() shows. */
    add_v(s, "00000000000000aa", "aa v2", 300, 2);
    assert_true(hash_of(s, "00000000000000aa") == 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].title, "aa v1");
    /* Two versions of a new ID in one batch: the later wins. */
    add_v(s, "00000000000000bb", "bb v1", 200, 3);
    add_v(s, "00000000000000bb", "bb v2", 200, 4);
    assert_true(hash_of(s, "00000000000000bb") == 4);
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 3);
    for (pass = 0; pass < 2; pass++) {
        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
        assert_int_equal(c.n, 3);
        assert_string_equal(c.items[0].title, "aa v2");
        assert_int_equal(c.items[0].date, 300);
        assert_string_equal(c.items[1].title, "bb v2");
        assert_string_equal(c.items[2].title, "cc");
        assert_true(hash_of(s, "00000000000000aa") == 2);
        assert_true(hash_of(s, "00000000000000bb") == 4);
        assert_true(hash_of(s, "00000000000000cc") == 7);
        assert_int_equal(store_count(s), 3);
        store_close(s);
        s = open_ok(f);
        warnings_have(s, NULL);
    }
    /* The old versions stay in the log until a compaction. */
    assert_true(file_has(path(f, "items/000001.jsonl"), "aa v1"));
    assert_true(file_has(path(f, "items/000001.jsonl"), "bb v1"));
    assert_int_equal(store_compact(s, 1000, 0, 0), 0);
    assert_false(file_has(path(f, "items/000001.jsonl"), "aa v1"));
    assert_false(file_has(path(f, "items/000001.jsonl"), "bb v1"));
    assert_true(file_has(path(f, "items/000001.jsonl"), "aa v2"));
    for (pass = 0; pass < 2; pass++) {
        assert_int_equal(store_count(s), 3);
        memset(&c, 0, sizeof c);
        assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
        assert_int_equal(c.n, 3);
        assert_string_equal(c.items[0].title, "aa v2");
        assert_string_equal(c.items[1].title, "bb v2");
        assert_string_equal(c.items[2].title, "cc");
        assert_true(hash_of(s, "00000000000000aa") == 2);
        store_close(s);
        s = open_ok(f);
        warnings_have(s, NULL);
    }
    store_close(s);
}

static void
test_update_failed_commit(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    static char big[1 << 16];
    struct rlimit old, lim;
    struct feed_item it;
    struct collect c;
    char id[FEED_ID_LEN + 1];
    off_t size;
    int i, rc;

    /* Enough IDs that taking the failed batch's out of the seen set
     * moves others in it. */
    for (i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "%016x", 0x1000 + i);
        add_v(s, id, "filler", 1, (uint64_t)i);
    }
    add_v(s, "00000000000000aa", "aa v1", 100, 1);
    assert_int_equal(store_commit(s), 0);
    size = file_size(path(f, "items/000001.jsonl"));

    memset(big, 'x', sizeof big - 1);
    it = item("00000000000000aa", "aa v2", 500);
    it.hash = 2;
    it.entry.content = big;
    assert_int_equal(store_add(s, &it), 0);
    add_v(s, "00000000000000aa", "aa v3", 600, 3);
    add_v(s, "00000000000000dd", "new", 700, 9);
    add_v(s, "00000000000000ee", "new twice", 700, 10);
    add_v(s, "00000000000000ee", "new twice v2", 700, 11);
    for (i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "%016x", 0x9000 + i);
        add_v(s, id, "new filler", 1, 1);
    }
    assert_true(hash_of(s, "00000000000000aa") == 3);

    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)size + 1000;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rc = store_commit(s);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    assert_int_equal(rc, -EFBIG);

    /* As before the batch: the update's old version is the item again,
     * the new IDs are unseen, the others still seen. */
    assert_int_equal(store_count(s), 2001);
    assert_true(hash_of(s, "00000000000000aa") == 1);
    assert_int_equal(store_lookup(s, "00000000000000dd", NULL), 0);
    assert_int_equal(store_lookup(s, "00000000000000ee", NULL), 0);
    for (i = 0; i < 2000; i++) {
        snprintf(id, sizeof id, "%016x", 0x1000 + i);
        assert_true(hash_of(s, id) == (uint64_t)i);
    }
    for (i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "%016x", 0x9000 + i);
        assert_int_equal(store_seen(s, id), 0);
    }
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 1, collect_fn, &c), 0);
    assert_string_equal(c.items[0].title, "aa v1");
    assert_int_equal(c.items[0].date, 100);
    store_close(s);

    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2001);
    assert_true(hash_of(s, "00000000000000aa") == 1);
    assert_int_equal(store_seen(s, "00000000000000dd"), 0);
    store_close(s);
}

static void
test_lookup(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    uint64_t h = 77;

    assert_int_equal(store_lookup(s, "xyz", &h), -EINVAL);
    assert_int_equal(store_lookup(s, "00000000000000a1x", &h), -EINVAL);
    assert_int_equal(store_lookup(s, NULL, &h), -EINVAL);
    assert_int_equal(store_lookup(s, "00000000000000a1", &h), 0);
    assert_true(h == 77); /* untouched when not seen */
    add_v(s, "00000000000000a1", "a", 1, UINT64_C(0xffffffffffffffff));
    assert_int_equal(store_lookup(s, "00000000000000a1", NULL), 1);
    assert_true(hash_of(s, "00000000000000A1") == UINT64_MAX);
    assert_int_equal(store_commit(s), 0);
    assert_true(hash_of(s, "00000000000000a1") == UINT64_MAX);
    store_close(s);
    s = open_ok(f);
    assert_true(hash_of(s, "00000000000000a1") == UINT64_MAX);
    store_close(s);

    /* A record from before hashes (a segment of format 1): seen, hash 0. */
    write_file(path(f, "items/000002.jsonl"),
               "{\"feedd_store\":1}\n" RECORD("00000000000000b2", "\"old\"",
                                              "null") "\n");
    s = open_ok(f);
    assert_true(hash_of(s, "00000000000000b2") == 0);
    store_close(s);
}

/* Three items, committed, and the store closed. */
static void
commit_three(struct fixture *f)
{
    struct store *s = open_ok(f);

    add_v(s, "00000000000000a1", "one", 1, 1);
    add_v(s, "00000000000000a2", "two", 2, 2);
    add_v(s, "00000000000000a3", "three", 3, 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
}

/* A record damaged in place, reached through the index by store_get():
 * -EBADMSG (not the -ENOENT of a dropped ID), one warning naming the
 * segment and byte, and the ID forgotten: not seen, not counted, not
 * listed, not warned about again. Stored again, it is there once, also
 * after a restart. */
/* store_get()'s callback: counts the calls. */
static int
old_count(const struct feed_item *it, void *arg)
{
    (void)it;
    ++*(int *)arg;
    return 0;
}

static void
test_damaged_get(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct collect c;
    char want[160];
    off_t off;
    int calls = 0;

    commit_three(f);
    off = find_in_file(path(f, "items/000001.jsonl"),
                       "{\"id\":\"00000000000000a2");
    poke(path(f, "items/000001.jsonl"), off + 100, "~", 1);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_damaged(s), 0);
    assert_int_equal(store_lookup(s, "00000000000000a2", NULL), 1);
    assert_int_equal(store_get(s, "00000000000000a2", collect_fn, &c),
                     -EBADMSG);
    snprintf(want, sizeof want,
             "items/000001.jsonl at byte %lld: damaged record (checksum), "
             "skipped: the entry will be stored again from its feed",
             (long long)off);
    warnings_have(s, want);
    assert_int_equal(store_damaged(s), 1);
    assert_int_equal(store_lookup(s, "00000000000000a2", NULL), 0);
    assert_int_equal(store_get(s, "00000000000000a2", collect_fn, &c), -ENOENT);
    assert_int_equal(store_count(s), 2);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].id, "00000000000000a3");
    assert_string_equal(c.items[1].id, "00000000000000a1");
    warnings_have(s, NULL);
    add_v(s, "00000000000000a2", "two", 2, 2);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_get(s, "00000000000000a2", old_count, &calls), 0);
    assert_int_equal(calls, 1);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[1].id, "00000000000000a2");
    warnings_have(s, NULL);
    store_close(s);
}

/* store_recent() over damaged records: each skipped, the next taking its
 * place, so that it still hands over n items when the store has them. */
static void
test_damaged_recent_fills(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct collect c;
    off_t off;

    commit_three(f);
    s = open_ok(f);
    add_v(s, "00000000000000a4", "four", 4, 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    off = find_in_file(path(f, "items/000001.jsonl"),
                       "{\"id\":\"00000000000000a3");
    poke(path(f, "items/000001.jsonl"), off + 60, "~", 1);
    off = find_in_file(path(f, "items/000001.jsonl"),
                       "{\"id\":\"00000000000000a4");
    poke(path(f, "items/000001.jsonl"), off + 60, "~", 1);
    s = open_ok(f);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 2, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].id, "00000000000000a2");
    assert_string_equal(c.items[1].id, "00000000000000a1");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "00000000000000a3"), 0);
    assert_int_equal(store_seen(s, "00000000000000a4"), 0);
    free(store_warnings(s));
    store_close(s);
}

/* store_stamp(): the same while the files of items/ are, also in the
 * next process and whether the items are loaded or not; another after a
 * commit, and after a byte of a segment is written over in place. */
static void
test_stamp(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    uint64_t st, st2;
    off_t off;

    commit_three(f);
    s = open_later(f);
    st = store_stamp(s);
    assert_true(st != 0);
    assert_true(store_stamp(s) == st);
    assert_int_equal(store_count(s), 3); /* loads the items */
    assert_true(store_stamp(s) == st);
    add_v(s, "00000000000000a4", "four", 4, 4);
    assert_true(store_stamp(s) == st); /* pending only */
    assert_int_equal(store_commit(s), 0);
    st2 = store_stamp(s);
    assert_true(st2 != st);
    store_close(s);
    s = open_later(f);
    assert_true(store_stamp(s) == st2);
    store_close(s);
    off = find_in_file(path(f, "items/000001.jsonl"),
                       "{\"id\":\"00000000000000a2");
    /* Not within the clock's last tick of the commit. */
    usleep(20000);
    poke(path(f, "items/000001.jsonl"), off + 60, "~", 1);
    s = open_later(f);
    assert_true(store_stamp(s) != st2);
    store_close(s);
}

/* A store whose index lists every line opens without loading it; the
 * first call that needs the items loads them, warnings and all. A line
 * past the index, or a segment whose header is not one feedd writes,
 * makes the open load them at once, as before. */
static void
test_load_later(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    uint64_t h = 0;

    commit_three(f);
    s = open_later(f);
    assert_int_equal(store_loaded(s), 0);
    warnings_have(s, NULL);
    assert_int_equal(store_lookup(s, "00000000000000a2", &h), 1);
    assert_true(h == 2);
    assert_int_equal(store_loaded(s), 1);
    assert_int_equal(store_load(s), 0);
    assert_int_equal(store_count(s), 3);
    store_close(s);

    /* An index damaged in the middle: found, and rebuilt, when loaded. */
    poke(path(f, "items/index"), 16 + 48 + 3, "\xff", 1);
    s = open_later(f);
    assert_int_equal(store_loaded(s), 0);
    warnings_have(s, NULL);
    assert_int_equal(store_seen(s, "00000000000000a1"), 1);
    warnings_have(s, "items/index: record 2 is damaged; rebuilt from the "
                     "segments");
    assert_int_equal(store_count(s), 3);
    store_close(s);
    s = open_later(f);
    assert_int_equal(store_loaded(s), 0);
    warnings_have(s, NULL);
    store_close(s);

    /* A line the index does not list: loaded at open. */
    append_file(path(f, "items/000001.jsonl"), "garbage\n");
    s = open_later(f);
    assert_int_equal(store_loaded(s), 1);
    free(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    store_close(s);
}

/* A segment's header changed while the index still fits: the index is
 * not trusted (the header is read back at open) and is rebuilt; the
 * items still read, and new ones go to a new segment. */
static void
test_damaged_header(void **state)
{
    struct fixture *f = *state;
    struct store *s;

    commit_three(f);
    poke(path(f, "items/000001.jsonl"), 8, "S", 1);
    s = open_later(f);
    warnings_have(s, "items/index: items/000001.jsonl does not match it; "
                     "rebuilt from the segments");
    assert_int_equal(store_count(s), 3);
    add_ok(s, "00000000000000a4", "four", 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 2);
    s = open_later(f);
    warnings_have(s, "items/000001.jsonl:1: no store header");
    assert_int_equal(store_count(s), 4);
    store_close(s);
}

/* The title store_get() gives id, into out ("" when none). */
static int
title_fn(const struct feed_item *it, void *arg)
{
    snprintf(arg, 64, "%s", it->entry.title ? it->entry.title : "");
    return 0;
}

static const char *
title_of(struct store *s, const char *id, char *out)
{
    out[0] = '\0';
    (void)store_get(s, id, title_fn, out);
    return out;
}

/* A commit in three steps: what is added while a batch is in flight is
 * a new batch, seen and read at once; a sync that succeeds lists the
 * batch in flight as stored, one that fails drops it alone (a new ID is
 * unseen again, an update is its old version again), and the batch added
 * meanwhile commits as usual; retention waits. */
static void
test_in_flight(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char t[64];
    off_t size;

    add_v(s, "00000000000000a1", "a1 v1", 100, 1);
    add_v(s, "00000000000000b1", "b1 v1", 100, 1);
    assert_int_equal(store_commit(s), 0);
    size = file_size(path(f, "items/000001.jsonl"));

    /* A batch that lands. */
    add_v(s, "00000000000000a1", "a1 v2", 100, 2);
    add_v(s, "00000000000000c1", "c1", 100, 1);
    assert_false(store_in_flight(s));
    assert_int_equal(store_commit_write(s), 0);
    assert_true(store_in_flight(s));
    assert_int_equal(store_pending(s), 0);
    assert_int_equal(store_commit_write(s), -EBUSY);
    assert_int_equal(store_compact(s, 1000, 0, 0), -EBUSY);
    /* Added while it is in flight: c1 again, and d1. */
    add_v(s, "00000000000000c1", "c1 v2", 100, 2);
    add_v(s, "00000000000000d1", "d1", 100, 1);
    assert_true(store_pending(s) > 0);
    assert_true(hash_of(s, "00000000000000c1") == 2);
    assert_string_equal(title_of(s, "00000000000000a1", t), "a1 v2");
    assert_string_equal(title_of(s, "00000000000000d1", t), "d1");
    assert_int_equal(store_commit_finish(s, store_commit_sync(s)), 0);
    assert_false(store_in_flight(s));
    assert_int_equal(store_count(s), 3); /* a1 b1 c1; d1 pending */
    assert_string_equal(title_of(s, "00000000000000c1", t), "c1 v2");
    assert_string_equal(title_of(s, "00000000000000d1", t), "d1");
    assert_true(size < file_size(path(f, "items/000001.jsonl")));
    size = file_size(path(f, "items/000001.jsonl"));

    /* A batch whose sync fails: d1 (pending since the last) and e1 new,
     * b1 updated; f1 and a second e1 added while it is in flight. */
    add_v(s, "00000000000000e1", "e1", 100, 1);
    add_v(s, "00000000000000b1", "b1 v2", 100, 2);
    assert_int_equal(store_commit_write(s), 0);
    add_v(s, "00000000000000f1", "f1", 100, 1);
    add_v(s, "00000000000000e1", "e1 again", 100, 3);
    assert_int_equal(store_commit_finish(s, -EIO), -EIO);
    assert_non_null(strstr(store_error(s), "append"));
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), size);
    assert_string_equal(title_of(s, "00000000000000b1", t), "b1 v1");
    assert_int_equal(store_seen(s, "00000000000000d1"), 0);
    /* e1 is pending again after it, as new; f1 too. */
    assert_int_equal(store_seen(s, "00000000000000e1"), 1);
    assert_string_equal(title_of(s, "00000000000000e1", t), "e1 again");
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_count(s), 5); /* a1 b1 c1 f1 e1 */
    store_close(s);

    s = open_ok(f);
    assert_int_equal(store_count(s), 5);
    assert_string_equal(title_of(s, "00000000000000a1", t), "a1 v2");
    assert_string_equal(title_of(s, "00000000000000b1", t), "b1 v1");
    /* c1 v2 was pending in the batch that failed. */
    assert_string_equal(title_of(s, "00000000000000c1", t), "c1");
    assert_int_equal(store_seen(s, "00000000000000d1"), 0);
    assert_string_equal(title_of(s, "00000000000000e1", t), "e1 again");
    assert_string_equal(title_of(s, "00000000000000f1", t), "f1");
    assert_null(store_warnings(s));
    /* A new ID in flight whose sync fails, and nothing after it. */
    add_v(s, "00000000000000a9", "a9", 100, 1);
    assert_int_equal(store_commit_write(s), 0);
    assert_int_equal(store_commit_finish(s, -EIO), -EIO);
    assert_int_equal(store_seen(s, "00000000000000a9"), 0);
    assert_int_equal(store_pending(s), 0);
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_add_commit_seen),
        T(test_reopen),
        T(test_pending_not_committed),
        T(test_lock),
        T(test_recent),
        T(test_update),
        T(test_commit_failure),
        T(test_update_versions),
        T(test_update_failed_commit),
        T(test_lookup),
        T(test_damaged_get),
        T(test_damaged_recent_fills),
        T(test_damaged_header),
        T(test_in_flight),
        T(test_stamp),
        T(test_load_later),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

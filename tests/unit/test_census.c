/* tests/unit/test_census.c - the census of entries per feed (census.c):
 * read beside a store that holds the lock, checked against the store's
 * own count; updates, entries of several feeds, damaged and torn lines,
 * retention, and the census in linear time. Each test gets a fresh folder
 * under /tmp. */
#include "store_fixture.h"

#include "linear.h"
#include "store_int.h"

/* Adds an item of feed with the other feeds also[0, nalso) and version
 * hash. */
static void
add_feed(struct store *s, const char *id, const char *feed,
         const char *const *also, size_t nalso, uint64_t hash)
{
    struct feed_item it = item(id, "t", 1700000000);

    it.feed = feed;
    it.also = also;
    it.nalso = nalso;
    it.hash = hash;
    assert_int_equal(store_add(s, &it), 0);
}

static struct store_census *
census_ok(const char *dir)
{
    char err[256];
    struct store_census *c = store_census_open(dir, err, sizeof err);

    if (c == NULL)
        fail_msg("store_census_open: %s", err);
    assert_string_equal(err, "");
    return c;
}

/* The census's total is what a store opened on dir counts. */
static void
total_is_store_count(struct fixture *f, const struct store_census *c)
{
    struct store *s = open_ok(f);

    free(store_warnings(s));
    assert_int_equal(store_census_total(c), store_count(s));
    store_close(s);
}

/* Counts per feed over several segments, read while the store is open
 * (and so locked): an update counts once, for the feed of its latest
 * version; nothing in the folder changes. */
static void
test_census_counts(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_census *c;
    char id[17];
    off_t size;
    size_t i, entries;

    s->seg_max = 600; /* a few records per segment */
    for (i = 0; i < 30; i++) {
        snprintf(id, sizeof id, "%016zx", i + 1);
        add_feed(s, id, i % 3 == 0 ? "a" : "b", NULL, 0, 1);
        assert_int_equal(store_commit(s), 0);
    }
    /* Updates: 1 stays a's, 2 moves from b to a, 3 stays b's; twice. */
    add_feed(s, "0000000000000001", "a", NULL, 0, 2);
    add_feed(s, "0000000000000002", "a", NULL, 0, 2);
    add_feed(s, "0000000000000003", "b", NULL, 0, 2);
    assert_int_equal(store_commit(s), 0);
    add_feed(s, "0000000000000003", "b", NULL, 0, 3);
    assert_int_equal(store_commit(s), 0);
    assert_true(count_segments(path(f, "items")) > 3);
    entries = count_entries(path(f, "items"));
    size = file_size(path(f, "items/000001.jsonl"));

    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 11);
    assert_int_equal(store_census_count(c, "b"), 19);
    assert_int_equal(store_census_count(c, "nobody"), 0);
    assert_int_equal(store_census_total(c), 30);
    assert_int_equal(store_census_total(c), store_count(s));
    assert_int_equal(store_census_damaged(c), 0);
    store_census_close(c);
    assert_int_equal(count_entries(path(f, "items")), entries);
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), size);
    store_close(s);
    c = census_ok(f->dir);
    total_is_store_count(f, c);
    store_census_close(c);
}

/* An entry carried by two feeds counts for each, once (also when its
 * "also" names its own feed or one feed twice); in all it counts once. */
static void
test_census_also(void **state)
{
    struct fixture *f = *state;
    static const char *const b[] = {"b"};
    static const char *const abb[] = {"a", "b", "b", "c"};
    static const char *const c_only[] = {"c"};
    struct store *s = open_ok(f);
    struct store_census *c;

    add_feed(s, "0000000000000001", "a", b, 1, 1);
    add_feed(s, "0000000000000002", "a", abb, 4, 1);
    add_feed(s, "0000000000000003", "b", NULL, 0, 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 2);
    assert_int_equal(store_census_count(c, "b"), 3);
    assert_int_equal(store_census_count(c, "c"), 1);
    assert_int_equal(store_census_total(c), 3);
    total_is_store_count(f, c);
    store_census_close(c);

    /* The later version carries it for a alone: b no longer counts it. */
    s = open_ok(f);
    add_feed(s, "0000000000000001", "a", NULL, 0, 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 2);
    assert_int_equal(store_census_count(c, "b"), 2);
    store_census_close(c);

    /* 3 carried by c as well, then by b alone again, then by c alone. */
    s = open_ok(f);
    add_feed(s, "0000000000000003", "b", c_only, 1, 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "b"), 2);
    assert_int_equal(store_census_count(c, "c"), 2);
    store_census_close(c);
    s = open_ok(f);
    add_feed(s, "0000000000000003", "b", NULL, 0, 3);
    assert_int_equal(store_commit(s), 0);
    add_feed(s, "0000000000000003", "c", NULL, 0, 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 2);
    assert_int_equal(store_census_count(c, "b"), 1);
    assert_int_equal(store_census_count(c, "c"), 2);
    assert_int_equal(store_census_total(c), 3);
    store_census_close(c);
}

/* Damaged lines are skipped: the version before a damaged update counts,
 * an entry whose only line is damaged does not; as the store counts at
 * open. */
static void
test_census_damaged(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_census *c;
    const char *seg = "items/000001.jsonl";
    char p[256];
    off_t at;

    add_feed(s, "0000000000000001", "a", NULL, 0, 1);
    add_feed(s, "0000000000000002", "a", NULL, 0, 1);
    assert_int_equal(store_commit(s), 0);
    add_feed(s, "0000000000000001", "b", NULL, 0, 2);
    add_feed(s, "0000000000000003", "b", NULL, 0, 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(p, sizeof p, "%s", path(f, seg));
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 1);
    assert_int_equal(store_census_count(c, "b"), 2);
    store_census_close(c);

    /* 1's update (b's) damaged: its first version, a's, counts again. */
    at = find_in_file(p, "\"feed\":\"b\"");
    poke(p, at + 8, "c", 1);
    /* 3 damaged: not counted. Both lines stay JSON of the same length. */
    at = find_in_file(p, "\"id\":\"0000000000000003\"");
    poke(p, at + 6, "1", 1);
    /* And a line that is no JSON at all. */
    append_file(p, "{\"id\": nothing\n");
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 2);
    assert_int_equal(store_census_count(c, "b"), 0);
    assert_int_equal(store_census_count(c, "c"), 0);
    assert_int_equal(store_census_total(c), 2);
    assert_int_equal(store_census_damaged(c), 3);
    /* The store finds damage in what its index lists only when it reads
     * the line back: without the index, its scan at open finds it all. */
    assert_int_equal(unlink(path(f, "items/index")), 0);
    total_is_store_count(f, c);
    store_census_close(c);
}

/* A last line being appended (no '\n' yet) is left out, and the file is
 * left as it is; once whole, it counts. */
static void
test_census_torn(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_census *c;
    struct feed_buf b;
    struct feed_item it = item("0000000000000009", "t", 1700000000);
    char p[256];
    off_t size;

    add_feed(s, "0000000000000001", "a", NULL, 0, 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(p, sizeof p, "%s", path(f, "items/000001.jsonl"));
    feed_buf_init(&b, 0);
    it.feed = "a";
    assert_int_equal(store_record_encode(&b, 9, &it), 0);
    size = file_size(p);
    b.data[b.len - 1] = '\0'; /* all but its '\n' */
    append_file(p, b.data);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 1);
    assert_int_equal(store_census_damaged(c), 0);
    store_census_close(c);
    assert_int_equal(file_size(p), size + (off_t)b.len - 1);
    append_file(p, "\n");
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 2);
    total_is_store_count(f, c);
    store_census_close(c);
    feed_buf_free(&b);
}

/* Retention: dropped entries count for nothing; one that comes back
 * after it was dropped (it is in a segment again, and in items/dropped
 * still) counts, as the store counts it. */
static void
test_census_dropped(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_census *c;
    char id[17];
    size_t i;

    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof id, "%016zx", i + 1);
        add_feed(s, id, i < 5 ? "a" : "b", NULL, 0, 1);
    }
    assert_int_equal(store_commit(s), 0);
    /* Keeps the 4 newest by date: all share one, the later records win
     * (b's 7 to 10). */
    assert_int_equal(store_compact(s, 1800000000, 0, 4), 0);
    assert_int_equal(store_count(s), 4);
    assert_true(exists(path(f, "items/dropped")));
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 0);
    assert_int_equal(store_census_count(c, "b"), 4);
    store_census_close(c);
    /* 1 comes back. */
    add_feed(s, "0000000000000001", "a", NULL, 0, 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 1);
    assert_int_equal(store_census_count(c, "b"), 4);
    total_is_store_count(f, c);
    store_census_close(c);
}

/* Between the two renames of a swap, items.old/ is what counts; no
 * state_dir, or no items/ yet: nothing, and nothing is made. */
static void
test_census_folders(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_census *c;
    char from[256];

    add_feed(s, "0000000000000001", "a", NULL, 0, 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    snprintf(from, sizeof from, "%s", path(f, "items"));
    assert_int_equal(rename(from, path(f, "items.old")), 0);
    c = census_ok(f->dir);
    assert_int_equal(store_census_count(c, "a"), 1);
    store_census_close(c);
    assert_false(exists(path(f, "items")));
    snprintf(from, sizeof from, "%s", path(f, "items.old"));
    assert_int_equal(rename(from, path(f, "gone")), 0);
    c = census_ok(f->dir);
    assert_int_equal(store_census_total(c), 0);
    store_census_close(c);
    c = census_ok(path(f, "not/yet"));
    assert_int_equal(store_census_count(c, "a"), 0);
    store_census_close(c);
    assert_false(exists(path(f, "not")));
    store_census_close(NULL);
}

/* A segment of a newer format is refused with a reason. */
static void
test_census_newer(void **state)
{
    struct fixture *f = *state;
    char err[256];

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"), "{\"feedd_store\":99}\n");
    assert_null(store_census_open(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "items/000001.jsonl: written by a newer"));
}

/* A segment of about n bytes, of one shape. */
struct shape {
    struct fixture *f;
    int kind; /* 0: new entries; 1: one entry updated; 2: damaged lines;
               * 3: entries of 256 feeds each; 4: one long torn line */
};

static void
census_n(size_t n, void *arg)
{
    static const char *names[STORE_ALSO_MAX];
    static char buf[STORE_ALSO_MAX][16];
    struct shape *sh = arg;
    struct feed_item it = item("0000000000000001", "t", 1700000000);
    struct store_census *c;
    struct feed_buf b;
    size_t i, len;

    for (i = 0; i < STORE_ALSO_MAX; i++) {
        snprintf(buf[i], sizeof buf[i], "feed-%zu", i);
        names[i] = buf[i];
    }
    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_puts(&b, STORE_SEG_HEADER), 0);
    if (sh->kind == 4)
        assert_int_equal(feed_buf_puts(&b, "{\"id\":\""), 0);
    for (i = 0; b.len < n; i++) {
        it.feed = names[i % 7];
        it.hash = i;
        if (sh->kind == 3) {
            it.also = names;
            it.nalso = STORE_ALSO_MAX;
        }
        if (sh->kind == 2)
            assert_int_equal(feed_buf_puts(&b, "{\"id\":\"00000001\"}\n"), 0);
        else if (sh->kind == 4)
            assert_int_equal(feed_buf_puts(&b, "0123456789abcdef"), 0);
        else
            assert_int_equal(
                store_record_encode(&b, sh->kind == 1 ? 1 : i + 1, &it), 0);
    }
    len = i;
    write_file(path(sh->f, "items/000001.jsonl"), b.data);
    feed_buf_free(&b);
    c = census_ok(sh->f->dir);
    if (sh->kind == 0 || sh->kind == 3)
        assert_int_equal(store_census_total(c), len);
    else if (sh->kind == 1)
        assert_int_equal(store_census_total(c), 1);
    else
        assert_int_equal(store_census_total(c), 0);
    if (sh->kind == 3)
        assert_int_equal(store_census_count(c, "feed-200"), len);
    store_census_close(c);
}

static void
test_census_linear(void **state)
{
    static const char *const names[] = {
        "census, n bytes of new entries",
        "census, n bytes of one entry updated",
        "census, n bytes of damaged lines",
        "census, n bytes of entries of 256 feeds",
        "census, a torn last line of n bytes",
    };
    struct shape sh = {*state, 0};

    assert_int_equal(mkdir(path(sh.f, "items"), 0755), 0);
    /* Up to 4n of 8 MiB: a buffer past linear.h's mmap threshold would
     * time page faults, not the census. */
    for (sh.kind = 0; sh.kind < 5; sh.kind++)
        assert_linear(names[sh.kind], census_n, &sh, 1 << 16, 1 << 21);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_census_counts), T(test_census_also),    T(test_census_damaged),
        T(test_census_torn),   T(test_census_dropped), T(test_census_folders),
        T(test_census_newer),  T(test_census_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

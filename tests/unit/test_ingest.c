/* tests/unit/test_ingest.c - daemon/ingest.c against a real store in a
 * fresh folder under /tmp: what a poll's entries become (new, updated,
 * one more feed, nothing), entries of one document that share a guid, and
 * one article carried by two feeds. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ingest.h"
#include "store.h"

#define T0 ((int64_t)1715940000) /* 2024-05-17 10:00:00 UTC */

struct fixture {
    char dir[64];
    struct store *store;
};

/* ---- helpers ------------------------------------------------------------ */

static void
rm_rf(const char *path)
{
    char sub[512];
    struct dirent *de;
    DIR *d = opendir(path);

    if (d == NULL) {
        unlink(path);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        snprintf(sub, sizeof sub, "%s/%s", path, de->d_name);
        rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
}

static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    char err[256];

    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/feedd-test-ingest-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    if ((f->store = store_open(f->dir, err, sizeof err)) == NULL) {
        fprintf(stderr, "store_open: %s\n", err);
        rm_rf(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    store_close(f->store);
    rm_rf(f->dir);
    free(f);
    return 0;
}

/* The bytes of the store's segments: what a commit appends to. */
static long long
segment_bytes(const struct fixture *f)
{
    char dir[128], file[512];
    struct dirent *de;
    struct stat st;
    long long n = 0;
    DIR *d;

    snprintf(dir, sizeof dir, "%s/items", f->dir);
    assert_non_null(d = opendir(dir));
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len < 6 || strcmp(de->d_name + len - 6, ".jsonl") != 0)
            continue;
        snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
        assert_int_equal(stat(file, &st), 0);
        n += (long long)st.st_size;
    }
    closedir(d);
    return n;
}

static struct feed_entry
entry(const char *guid, const char *link, const char *title)
{
    struct feed_entry e;

    memset(&e, 0, sizeof e);
    e.guid = guid;
    e.link = link;
    e.title = title;
    e.published = T0;
    e.updated = FEED_TIME_NONE;
    return e;
}

/* One poll of feed with the n entries of v: added, finished whole at
 * time now. ingest_finish()'s value is checked; *res is what it said. */
static void
poll(struct ingest *ing, const struct feed_entry *v, size_t n, int64_t now,
     struct ingest_result *res)
{
    size_t i;

    for (i = 0; i < n; i++)
        assert_int_equal(ingest_add(ing, &v[i], "Feed title",
                                    "https://example.com/feed", now),
                         0);
    assert_int_equal(ingest_pending(ing), n);
    assert_int_equal(ingest_finish(ing, 1, now, res), 0);
    assert_int_equal(ingest_pending(ing), 0);
    assert_int_equal(res->failed, 0);
    assert_int_equal(res->commit_rc, 0);
}

struct found {
    struct feed_item *v[8];
    size_t n;
};

static int
keep(const struct feed_item *it, void *arg)
{
    struct found *fd = arg;

    if (fd->n == 8)
        return -1;
    assert_non_null(fd->v[fd->n] = feed_item_copy(it));
    fd->n++;
    return 0;
}

/* Every committed item (up to 8), newest first; the caller frees them. */
static void
recent(struct fixture *f, struct found *fd)
{
    memset(fd, 0, sizeof *fd);
    assert_int_equal(store_recent(f->store, 8, keep, fd), 0);
}

static void
found_free(struct found *fd)
{
    for (size_t i = 0; i < fd->n; i++)
        free(fd->v[i]);
}

/* ---- tests -------------------------------------------------------------- */

static void
test_new_entry_is_stored(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct feed_entry e = entry("g1", "https://a.example/p/1", "First");
    struct ingest_result res;
    struct found fd;

    assert_non_null(ing);
    assert_int_equal(segment_bytes(f), 0);
    poll(ing, &e, 1, T0, &res);
    assert_int_equal(res.fresh, 1);
    assert_int_equal(res.changed, 0);
    assert_int_equal(store_count(f->store), 1);
    assert_true(segment_bytes(f) > 0);
    recent(f, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0]->entry.title, "First");
    assert_string_equal(fd.v[0]->feed, "a");
    assert_string_equal(fd.v[0]->feed_title, "Feed title");
    assert_int_equal(fd.v[0]->stored, T0);
    assert_int_equal(fd.v[0]->changed, FEED_TIME_NONE);
    assert_int_equal(fd.v[0]->nalso, 0);
    found_free(&fd);
    ingest_free(ing);
}

static void
test_unchanged_repoll_writes_nothing(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct ingest *again;
    struct feed_entry v[2] = {entry("g1", "https://a.example/p/1", "One"),
                              entry("g2", "https://a.example/p/2", "Two")};
    struct ingest_result res;
    long long bytes;

    assert_non_null(ing);
    poll(ing, v, 2, T0, &res);
    assert_int_equal(res.fresh, 2);
    bytes = segment_bytes(f);
    /* The same ingest: the IDs it remembers from the last poll. */
    poll(ing, v, 2, T0 + 60, &res);
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 0);
    assert_int_equal(segment_bytes(f), bytes);
    /* A fresh one (a restart): it must read the store to know. */
    assert_non_null(again = ingest_new(f->store, "a", FEED_ID_AUTO, NULL));
    poll(again, v, 2, T0 + 120, &res);
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 0);
    assert_int_equal(segment_bytes(f), bytes);
    assert_int_equal(store_count(f->store), 2);
    ingest_free(again);
    ingest_free(ing);
}

static void
test_edited_entry_is_an_update(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct feed_entry e = entry("g1", "https://a.example/p/1", "Draft");
    struct ingest_result res;
    struct found fd;
    long long bytes;

    assert_non_null(ing);
    poll(ing, &e, 1, T0, &res);
    bytes = segment_bytes(f);
    e.title = "Final";
    poll(ing, &e, 1, T0 + 600, &res);
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 1);
    assert_true(segment_bytes(f) > bytes);
    assert_int_equal(store_count(f->store), 1);
    recent(f, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0]->entry.title, "Final");
    assert_int_equal(fd.v[0]->stored, T0);
    assert_int_equal(fd.v[0]->changed, T0 + 600);
    found_free(&fd);
    ingest_free(ing);
}

static void
test_shared_guid_both_kept(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_GUID, NULL);
    /* Two different entries under one guid, and an exact repeat of the
     * first, which goes. */
    struct feed_entry v[3] = {entry("same", "https://a.example/p/1", "One"),
                              entry("same", "https://a.example/p/2", "Two"),
                              entry("same", "https://a.example/p/1", "One")};
    struct ingest_result res;
    struct found fd;
    long long bytes;

    assert_non_null(ing);
    poll(ing, v, 3, T0, &res);
    assert_int_equal(res.fresh, 2);
    assert_int_equal(store_count(f->store), 2);
    recent(f, &fd);
    assert_int_equal(fd.n, 2);
    assert_string_not_equal(fd.v[0]->id, fd.v[1]->id);
    assert_true((strcmp(fd.v[0]->entry.title, "One") == 0 &&
                 strcmp(fd.v[1]->entry.title, "Two") == 0) ||
                (strcmp(fd.v[0]->entry.title, "Two") == 0 &&
                 strcmp(fd.v[1]->entry.title, "One") == 0));
    found_free(&fd);
    /* The same document again, in the other order: the same two IDs,
     * nothing written. */
    bytes = segment_bytes(f);
    {
        struct feed_entry w[2] = {v[1], v[0]};

        poll(ing, w, 2, T0 + 60, &res);
    }
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 0);
    assert_int_equal(segment_bytes(f), bytes);
    assert_int_equal(store_count(f->store), 2);
    ingest_free(ing);
}

/* An article both feeds carry, with no guid: its link makes its ID, the
 * same in both. */
static void
test_one_article_two_feeds(void **state)
{
    struct fixture *f = *state;
    struct ingest *a = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct ingest *b = ingest_new(f->store, "b", FEED_ID_AUTO, NULL);
    struct feed_entry e = entry(NULL, "https://news.example/story", "Story");
    struct ingest_result res;
    struct found fd;
    long long bytes;

    assert_non_null(a);
    assert_non_null(b);
    poll(a, &e, 1, T0, &res);
    assert_int_equal(res.fresh, 1);
    poll(b, &e, 1, T0 + 10, &res);
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 1);
    assert_int_equal(store_count(f->store), 1);
    recent(f, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0]->feed, "a");
    assert_int_equal(fd.v[0]->nalso, 1);
    assert_string_equal(fd.v[0]->also[0], "b");
    assert_int_equal(fd.v[0]->stored, T0);
    found_free(&fd);
    /* b again: it is already listed, nothing to write. */
    bytes = segment_bytes(f);
    poll(b, &e, 1, T0 + 20, &res);
    assert_int_equal(res.fresh + res.changed, 0);
    assert_int_equal(segment_bytes(f), bytes);
    ingest_free(b);
    ingest_free(a);
}

static void
test_only_first_feed_edits(void **state)
{
    struct fixture *f = *state;
    struct ingest *a = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct ingest *b = ingest_new(f->store, "b", FEED_ID_AUTO, NULL);
    struct feed_entry e = entry(NULL, "https://news.example/story", "Story");
    struct ingest_result res;
    struct found fd;
    long long bytes;

    assert_non_null(a);
    assert_non_null(b);
    poll(a, &e, 1, T0, &res);
    poll(b, &e, 1, T0, &res);
    assert_int_equal(res.changed, 1);
    /* b carries it differently: not an edit, nothing written. */
    bytes = segment_bytes(f);
    e.title = "Story, as b words it";
    poll(b, &e, 1, T0 + 60, &res);
    assert_int_equal(res.fresh + res.changed, 0);
    assert_int_equal(segment_bytes(f), bytes);
    recent(f, &fd);
    assert_string_equal(fd.v[0]->entry.title, "Story");
    found_free(&fd);
    /* a edits it: an update, and b stays listed. */
    e.title = "Story (updated)";
    poll(a, &e, 1, T0 + 120, &res);
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 1);
    assert_int_equal(store_count(f->store), 1);
    recent(f, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0]->entry.title, "Story (updated)");
    assert_string_equal(fd.v[0]->feed, "a");
    assert_int_equal(fd.v[0]->nalso, 1);
    assert_string_equal(fd.v[0]->also[0], "b");
    assert_int_equal(fd.v[0]->changed, T0 + 120);
    found_free(&fd);
    ingest_free(b);
    ingest_free(a);
}

/* Entries parsed before an error (a document that was not whole) are
 * stored as on a clean end; an empty batch is no commit and no error. */
static void
test_partial_poll_stores_and_forgets(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct feed_entry e = entry("g1", "https://a.example/p/1", "One");
    struct ingest_result res;

    assert_non_null(ing);
    assert_int_equal(ingest_add(ing, &e, NULL, "https://example.com/feed", T0),
                     0);
    assert_int_equal(ingest_finish(ing, 0, T0, &res), 0);
    assert_int_equal(res.fresh, 1);
    assert_int_equal(store_count(f->store), 1);
    assert_int_equal(ingest_finish(ing, 1, T0, &res), 0);
    assert_int_equal(res.fresh + res.changed + res.failed, 0);
    ingest_free(ing);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_new_entry_is_stored, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_repoll_writes_nothing,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_edited_entry_is_an_update, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_shared_guid_both_kept, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_one_article_two_feeds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_only_first_feed_edits, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_partial_poll_stores_and_forgets,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

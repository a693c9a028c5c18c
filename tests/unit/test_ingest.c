/* tests/unit/test_ingest.c - daemon/ingest.c against a real store in a
 * fresh folder under /tmp: what a poll's entries become (new, updated,
 * one more feed, nothing), entries of one document that share a guid, one
 * article carried by two feeds, and running out of memory anywhere on the
 * way (malloc, calloc and realloc are wrapped by the linker, so that the
 * test can make them fail). */
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
#include "rm_rf.h"
#include "store.h"

#define T0 ((int64_t)1715940000) /* 2024-05-17 10:00:00 UTC */

/* Allocations left before they all fail; -1: none fails. */
static long alloc_left = -1;

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);

static int
alloc_fails(void)
{
    if (alloc_left == 0)
        return 1;
    if (alloc_left > 0)
        alloc_left--;
    return 0;
}

void *
__wrap_malloc(size_t n)
{
    return alloc_fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    return alloc_fails() ? NULL : __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
    return alloc_fails() ? NULL : __real_realloc(p, n);
}

/* Set by the setup of the tests run a second time with each document
 * prepared (ingest_prepare()) before it is staged, as the parse thread
 * does. */
static int prepared;

struct fixture {
    char dir[64];
    struct store *store;
};

/* ---- helpers ------------------------------------------------------------ */

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
setup_prepared(void **state)
{
    prepared = 1;
    return setup(state);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;

    prepared = 0;
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
    if (prepared) {
        assert_int_equal(ingest_prepared(ing), 0);
        assert_int_equal(ingest_prepare(ing), 0);
    }
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

/* Overwrites the first occurrence of what in the file dir/rel with with
 * (as long), in place. */
static void
damage(const char *dir, const char *rel, const char *what, const char *with)
{
    char p[256], buf[1 << 16], *at;
    FILE *fp;
    size_t n;

    snprintf(p, sizeof p, "%s/%s", dir, rel);
    assert_non_null(fp = fopen(p, "r+b"));
    n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    assert_non_null(at = strstr(buf, what));
    assert_int_equal(fseek(fp, at - buf, SEEK_SET), 0);
    assert_int_equal(fwrite(with, 1, strlen(with), fp), strlen(with));
    fclose(fp);
}

/* The store of f closed and opened again (a restart). */
static void
reopen(struct fixture *f)
{
    char err[256];

    store_close(f->store);
    f->store = store_open(f->dir, err, sizeof err);
    if (f->store == NULL)
        fail_msg("store_open: %s", err);
}

/* The store's warnings hold want. */
static void
warned(struct fixture *f, const char *want)
{
    char *w = store_warnings(f->store);

    if (w == NULL || strstr(w, want) == NULL)
        fail_msg("no warning \"%s\" in: %s", want, w ? w : "(none)");
    free(w);
}

/* A record damaged in place (same length: the index still fits) is not
 * taken for one that retention dropped: the next poll after a restart
 * reads it, the store warns and forgets it, and the entry is stored again
 * from the feed, as new, once. */
static void
test_damaged_record_stored_again(void **state)
{
    struct fixture *f = *state;
    struct feed_entry v[3] = {entry("g1", "https://a.example/p/1", "One"),
                              entry("g2", "https://a.example/p/2", "Two"),
                              entry("g3", "https://a.example/p/3", "Three")};
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    struct ingest_result res;
    struct found fd;

    assert_non_null(ing);
    poll(ing, v, 3, T0, &res);
    assert_int_equal(res.fresh, 3);
    ingest_free(ing);
    damage(f->dir, "items/000001.jsonl", "\"title\":\"Two\"",
           "\"title\":\"Tw0\"");
    reopen(f);
    assert_null(store_warnings(f->store));
    assert_non_null(ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL));
    poll(ing, v, 3, T0 + 60, &res);
    assert_int_equal(res.fresh, 1);
    assert_int_equal(res.changed, 0);
    warned(f, "damaged record (checksum), skipped: the entry will be stored "
              "again from its feed");
    assert_int_equal(store_count(f->store), 3);
    ingest_free(ing);
    reopen(f);
    assert_null(store_warnings(f->store));
    assert_int_equal(store_count(f->store), 3);
    recent(f, &fd);
    /* Same dates: the one stored again is the latest in the log. */
    assert_int_equal(fd.n, 3);
    assert_string_equal(fd.v[0]->entry.title, "Two");
    assert_string_equal(fd.v[1]->entry.title, "Three");
    assert_string_equal(fd.v[2]->entry.title, "One");
    found_free(&fd);
    /* And the poll after that finds everything in place. */
    assert_non_null(ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL));
    poll(ing, v, 3, T0 + 120, &res);
    assert_int_equal(res.fresh + res.changed, 0);
    assert_null(store_warnings(f->store));
    ingest_free(ing);
}

/* The damage the issue met: in a store of format 1 (no checksums), a key
 * renamed in place ("feed" to "feedXXXXXXXX"), so that the record is still
 * JSON but has no feed. Every later poll of the feed crashed in strcmp;
 * now the record is refused and the entry stored again. */
static void
test_renamed_key_stored_again(void **state)
{
    struct fixture *f = *state;
    struct feed_entry e = entry("g1", "https://a.example/p/1", "One");
    struct ingest *ing;
    struct ingest_result res;
    char id[FEED_ID_LEN + 1], p[256], line[640];
    struct found fd;
    FILE *fp;

    assert_true(feed_entry_id(&e, "a", FEED_ID_AUTO, id) > 0);
    store_close(f->store);
    f->store = NULL;
    snprintf(p, sizeof p, "%s/items/000001.jsonl", f->dir);
    snprintf(line, sizeof line,
             "{\"feedd_store\":1}\n"
             "{\"id\":\"%s\",\"feed\":\"a\",\"feed_title\":null,"
             "\"feed_url\":null,\"stored\":1700000000,\"guid\":\"g1\","
             "\"link\":\"https://a.example/p/1\",\"title\":\"One\","
             "\"author\":null,\"published\":%lld,\"updated\":null,"
             "\"summary\":null,\"content\":null}\n",
             id, (long long)T0);
    assert_non_null(fp = fopen(p, "wb"));
    assert_int_equal(fputs(line, fp) >= 0, 1);
    fclose(fp);
    reopen(f); /* the index made */
    assert_int_equal(store_count(f->store), 1);
    /* Same length: "feed":"a","feed_title" becomes "feedXXXXXXXX":"a","fe". */
    damage(f->dir, "items/000001.jsonl", "\"feed\":\"a\",\"feed_title\"",
           "\"feedXXXXXXXX\":\"a\",\"fe\"");
    reopen(f);
    assert_null(store_warnings(f->store));
    assert_non_null(ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL));
    poll(ing, &e, 1, T0 + 60, &res);
    assert_int_equal(res.fresh, 1);
    warned(f, "damaged record (a member missing or mistyped)");
    ingest_free(ing);
    reopen(f);
    assert_null(store_warnings(f->store));
    recent(f, &fd);
    assert_int_equal(fd.n, 1);
    assert_string_equal(fd.v[0]->feed, "a");
    assert_string_equal(fd.v[0]->id, id);
    found_free(&fd);
}

/* Memory runs out at every point of a poll in turn, from the k-th
 * allocation of ingest_finish() on: it says so (-ENOMEM for the batch, or
 * for the entries or the commit that failed), stores nothing it does not
 * count, and the next poll, with memory back, stores every entry once. */
static void
test_out_of_memory_anywhere(void **state)
{
    struct fixture *f = *state;
    struct feed_entry v[3] = {entry("same", "https://a.example/p/1", "One"),
                              entry("same", "https://a.example/p/2", "Two"),
                              entry("g3", "https://a.example/p/3", "Three")};
    struct ingest_result res;
    char dir[128], err[256];
    long k;
    int hit = 0, rc;

    /* ingest_add() itself: -ENOMEM, and the batch as it was. */
    {
        struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);

        assert_non_null(ing);
        alloc_left = 0;
        rc = ingest_add(ing, &v[0], NULL, "https://example.com/feed", T0);
        alloc_left = -1;
        assert_int_equal(rc, -ENOMEM);
        assert_int_equal(ingest_pending(ing), 0);
        ingest_free(ing);
    }
    for (k = 0; k < 1000; k++) {
        struct store *s;
        struct ingest *ing;
        size_t i;

        snprintf(dir, sizeof dir, "%s/%ld", f->dir, k);
        assert_non_null(s = store_open(dir, err, sizeof err));
        assert_non_null(ing = ingest_new(s, "a", FEED_ID_GUID, NULL));
        for (i = 0; i < 3; i++)
            assert_int_equal(ingest_add(ing, &v[i], NULL, "https://x/", T0), 0);
        alloc_left = k;
        /* Out of memory in ingest_prepare() is no failure: staging makes
         * what it left out. */
        if (prepared)
            (void)ingest_prepare(ing);
        rc = ingest_finish(ing, 1, T0, &res);
        hit = alloc_left == 0;
        alloc_left = -1;
        assert_int_equal(ingest_pending(ing), 0);
        if (rc != 0) {
            assert_int_equal(rc, -ENOMEM);
            assert_int_equal(store_count(s), 0);
        } else {
            if (res.failed > 0)
                assert_int_equal(res.failed_rc, -ENOMEM);
            assert_true(res.commit_rc == 0 || res.commit_rc == -ENOMEM);
            assert_int_equal(store_count(s), res.fresh);
            assert_int_equal(
                res.fresh + res.failed + (res.commit_rc ? res.lost : 0), 3);
        }
        /* Memory is back: the next poll stores the rest, once each. */
        for (i = 0; i < 3; i++)
            assert_int_equal(ingest_add(ing, &v[i], NULL, "https://x/", T0), 0);
        assert_int_equal(ingest_finish(ing, 1, T0 + 60, &res), 0);
        assert_int_equal(res.failed, 0);
        assert_int_equal(res.commit_rc, 0);
        assert_int_equal(store_count(s), 3);
        ingest_free(ing);
        store_close(s);
        if (!hit)
            break; /* the poll needed fewer than k allocations */
    }
    print_message("out of memory at each of %ld points\n", k);
    assert_true(k > 3);
    assert_false(hit);
}

/* An entry whose record would be over the store's 32 MiB (store_add()
 * says -EFBIG) is left out and counted; the poll's other entries are
 * committed, and a stored entry whose edit is too big keeps its older
 * version. Neither is a failure of the poll. */
static void
test_too_big_entry_is_skipped(void **state)
{
    struct fixture *f = *state;
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_AUTO, NULL);
    size_t big_len = (size_t)33 << 20;
    char *big = malloc(big_len + 1), id[FEED_ID_LEN + 1];
    struct feed_entry v[3] = {entry("g1", "https://a.example/p/1", "One"),
                              entry("g2", "https://a.example/p/2", "Two"),
                              entry("g3", "https://a.example/p/3", "Three")};
    struct ingest_result res;
    struct found fd;

    assert_non_null(ing);
    assert_non_null(big);
    memset(big, 'a', big_len);
    big[big_len] = '\0';
    v[1].content = big;
    assert_true(feed_entry_id(&v[1], "a", FEED_ID_AUTO, id) > 0);
    poll(ing, v, 3, T0, &res);
    assert_int_equal(res.fresh, 2);
    assert_int_equal(res.too_big, 1);
    assert_string_equal(res.too_big_id, id);
    assert_int_equal(store_count(f->store), 2);
    recent(f, &fd);
    assert_int_equal(fd.n, 2);
    assert_true(strcmp(fd.v[0]->entry.title, "Two") != 0);
    assert_true(strcmp(fd.v[1]->entry.title, "Two") != 0);
    found_free(&fd);
    /* Polled again: left out again, and said again. */
    poll(ing, v, 3, T0 + 60, &res);
    assert_int_equal(res.fresh + res.changed, 0);
    assert_int_equal(res.too_big, 1);
    /* An edit too big to store: the stored version stays. */
    v[1].content = NULL;
    v[2].content = big;
    poll(ing, v, 3, T0 + 120, &res);
    assert_int_equal(res.fresh, 1);
    assert_int_equal(res.too_big, 1);
    assert_true(feed_entry_id(&v[2], "a", FEED_ID_AUTO, id) > 0);
    assert_string_equal(res.too_big_id, id);
    assert_int_equal(store_count(f->store), 3);
    recent(f, &fd);
    assert_int_equal(fd.n, 3);
    for (size_t i = 0; i < fd.n; i++)
        assert_null(fd.v[i]->entry.content);
    found_free(&fd);
    free(big);
    ingest_free(ing);
}

/* ---- records made beside the loop (ingest_prepare()) -------------------- */

/* The bytes of every segment of the store in dir, concatenated. */
static char *
segments_of(const char *dir, size_t *len)
{
    char path[512];
    char *all = NULL;
    size_t n = 0;
    int no;

    for (no = 1; no < 100; no++) {
        FILE *fp;
        char buf[4096];
        size_t k;

        snprintf(path, sizeof path, "%s/items/%06d.jsonl", dir, no);
        if ((fp = fopen(path, "rb")) == NULL)
            continue;
        while ((k = fread(buf, 1, sizeof buf, fp)) > 0) {
            assert_non_null(all = realloc(all, n + k + 1));
            memcpy(all + n, buf, k);
            n += k;
        }
        fclose(fp);
    }
    assert_non_null(all);
    all[n] = '\0';
    *len = n;
    return all;
}

/* A document with everything an entry can carry: two entries sharing a
 * guid (one gets a derived ID), and the rest. */
static void
rich_entries(struct feed_entry *v, struct feed_enclosure *enc,
             const char **cats)
{
    size_t i;

    enc[0].url = "https://a.example/a.mp3";
    enc[0].type = "audio/mpeg";
    enc[0].length = 12345;
    enc[1].url = "https://a.example/b.ogg";
    enc[1].type = NULL;
    enc[1].length = -1;
    cats[0] = "news";
    cats[1] = "\"quoted\" \\ and \x01 control";
    v[0] = entry("same", "https://a.example/p/1", "One");
    v[1] = entry("same", "https://a.example/p/2", "Two");
    v[2] = entry("g3", "https://a.example/p/3", "Three \"quoted\"");
    v[3] = entry(NULL, "https://a.example/p/4", "Four");
    for (i = 0; i < 4; i++) {
        v[i].author = "Ann <ann@a.example>";
        v[i].summary = "<p>Summary with \"quotes\", \\ and caf\xc3\xa9</p>";
        v[i].content = "<div><p>Body &amp; more\n\ttabs\x7f</p></div>";
        v[i].image = "https://a.example/i.png";
        v[i].updated = T0 + 5;
        v[i].enclosures = enc;
        v[i].nenclosures = 2;
        v[i].categories = cats;
        v[i].ncategories = 2;
    }
}

/* The same document stored through ingest_prepare() and without it gives
 * the very same bytes: the loop copies the record the thread made. */
static void
test_prepared_records_same_bytes(void **state)
{
    struct fixture *f = *state;
    struct feed_entry v[4];
    struct feed_enclosure enc[2];
    const char *cats[2];
    char dir[128], err[256];
    struct ingest_result res;
    struct ingest *ing;
    struct store *s;
    char *a, *b;
    size_t alen, blen;
    int k;

    rich_entries(v, enc, cats);
    for (k = 0; k < 2; k++) {
        snprintf(dir, sizeof dir, "%s/%d", f->dir, k);
        assert_non_null(s = store_open(dir, err, sizeof err));
        assert_non_null(ing = ingest_new(s, "a", FEED_ID_GUID, NULL));
        prepared = k;
        poll(ing, v, 4, T0, &res);
        prepared = 0;
        assert_int_equal(res.fresh, 4);
        ingest_free(ing);
        store_close(s);
    }
    snprintf(dir, sizeof dir, "%s/0", f->dir);
    a = segments_of(dir, &alen);
    snprintf(dir, sizeof dir, "%s/1", f->dir);
    b = segments_of(dir, &blen);
    assert_true(alen > 1000);
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, alen);
    free(a);
    free(b);
}

/* A prepared entry whose record no longer fits (its ID derived, or an
 * edit) is stored whole all the same: the slim copy kept beside the
 * record is made whole again from it. */
/* Records are made at a feed's first poll since the start, for every
 * entry, and not at the next (most of what it brings is stored). */
static void
test_prepared_first_poll_only(void **state)
{
    struct fixture *f = *state;
    struct feed_entry v[3] = {entry("g1", "https://a.example/p/1", "One"),
                              entry("g2", "https://a.example/p/2", "Two"),
                              entry("g3", "https://a.example/p/3", "Three")};
    struct ingest *ing = ingest_new(f->store, "a", FEED_ID_GUID, NULL);
    struct ingest_result res;
    size_t i;

    assert_non_null(ing);
    for (i = 0; i < 2; i++)
        assert_int_equal(ingest_add(ing, &v[i], NULL, "https://x/", T0), 0);
    assert_int_equal(ingest_prepare(ing), 0);
    assert_int_equal(ingest_prepared(ing), 2);
    assert_int_equal(ingest_finish(ing, 1, T0, &res), 0);
    assert_int_equal(res.fresh, 2);
    for (i = 0; i < 3; i++)
        assert_int_equal(ingest_add(ing, &v[i], NULL, "https://x/", T0), 0);
    assert_int_equal(ingest_prepare(ing), 0);
    assert_int_equal(ingest_prepared(ing), 0);
    assert_int_equal(ingest_finish(ing, 1, T0 + 60, &res), 0);
    assert_int_equal(res.fresh, 1);
    assert_int_equal(store_count(f->store), 3);
    ingest_free(ing);
}

static void
test_prepared_slim_made_whole(void **state)
{
    struct fixture *f = *state;
    struct feed_entry v[4];
    struct feed_enclosure enc[2];
    const char *cats[2];
    struct ingest *ing, *again;
    struct ingest_result res;
    struct found fd;
    size_t i;

    rich_entries(v, enc, cats);
    prepared = 1;
    assert_non_null(ing = ingest_new(f->store, "a", FEED_ID_GUID, NULL));
    poll(ing, v, 4, T0, &res);
    assert_int_equal(res.fresh, 4);
    /* A restart (a new ingest, whose first poll is prepared): two edits,
     * one of the pair sharing the guid. */
    assert_non_null(again = ingest_new(f->store, "a", FEED_ID_GUID, NULL));
    v[1].content = "<p>Two, edited</p>";
    v[2].summary = "Three, edited";
    poll(again, v, 4, T0 + 600, &res);
    prepared = 0;
    assert_int_equal(res.fresh, 0);
    assert_int_equal(res.changed, 2);
    recent(f, &fd);
    assert_int_equal(fd.n, 4);
    for (i = 0; i < fd.n; i++) {
        const struct feed_entry *e = &fd.v[i]->entry;

        assert_non_null(e->summary);
        assert_non_null(e->content);
        assert_int_equal(e->nenclosures, 2);
        assert_int_equal(e->enclosures[0].length, 12345);
        assert_int_equal(e->ncategories, 2);
        assert_string_equal(e->categories[1], cats[1]);
        if (strcmp(e->title, "Two") == 0) {
            assert_string_equal(e->content, "<p>Two, edited</p>");
            assert_int_equal(fd.v[i]->changed, T0 + 600);
        } else if (strncmp(e->title, "Three", 5) == 0) {
            assert_string_equal(e->summary, "Three, edited");
            assert_string_equal(e->content, v[0].content);
        } else {
            assert_string_equal(e->summary, v[0].summary);
            assert_int_equal(fd.v[i]->changed, FEED_TIME_NONE);
        }
    }
    found_free(&fd);
    ingest_free(again);
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
        cmocka_unit_test_setup_teardown(test_out_of_memory_anywhere, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_too_big_entry_is_skipped, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_damaged_record_stored_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_renamed_key_stored_again, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepared_records_same_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepared_slim_made_whole, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_prepared_first_poll_only, setup,
                                        teardown),
        /* Again, each document prepared as on the parse thread. */
        cmocka_unit_test_setup_teardown(test_new_entry_is_stored,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_unchanged_repoll_writes_nothing,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_edited_entry_is_an_update,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_shared_guid_both_kept,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_one_article_two_feeds,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_only_first_feed_edits,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_memory_anywhere,
                                        setup_prepared, teardown),
        cmocka_unit_test_setup_teardown(test_too_big_entry_is_skipped,
                                        setup_prepared, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

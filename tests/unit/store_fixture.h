/* tests/unit/store_fixture.h - what the store's unit tests share: a fresh
 * folder under /tmp per test, items made with only the fields a test
 * cares about, small file helpers, and a collector for store_recent().
 * Each test_*.c of the store includes it once. */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "rm_rf.h"
#include "store.h"

/* Not every test file uses every helper. */
#define STORE_TEST_UNUSED __attribute__((unused))

struct fixture {
    char dir[64];
    char path[256]; /* scratch for path() */
};
/* ---- helpers ------------------------------------------------------------ */

STORE_TEST_UNUSED static int
setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);

    if (f == NULL)
        return -1;
    strcpy(f->dir, "/tmp/feedd-test-store-XXXXXX");
    if (mkdtemp(f->dir) == NULL) {
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

STORE_TEST_UNUSED static int
teardown(void **state)
{
    struct fixture *f = *state;

    rm_rf(f->dir);
    free(f);
    return 0;
}

/* dir/rel, in a buffer of f's that the next call reuses. */
STORE_TEST_UNUSED static const char *
path(struct fixture *f, const char *rel)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, rel);
    return f->path;
}

/* store_open() of f's folder, which must succeed; the items may be left
 * for later (store_load()). */
STORE_TEST_UNUSED static struct store *
open_later(struct fixture *f)
{
    char err[256];
    struct store *s = store_open(f->dir, err, sizeof err);

    if (s == NULL)
        fail_msg("store_open: %s", err);
    return s;
}

/* open_later() and store_load(): the store as an open that loads every
 * thing at once leaves it, warnings included. */
STORE_TEST_UNUSED static struct store *
open_ok(struct fixture *f)
{
    struct store *s = open_later(f);

    if (store_load(s) != 0)
        fail_msg("store_load: %s", store_error(s));
    return s;
}

/* An item with only the fields a test cares about. */
STORE_TEST_UNUSED static struct feed_item
item(const char *id, const char *title, int64_t published)
{
    struct feed_item it;

    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "%.*s", (int)sizeof it.id - 1, id);
    it.feed = "lwn";
    it.feed_url = "https://lwn.net/headlines/rss";
    it.stored = 1700000000;
    it.entry.title = title;
    it.entry.published = published;
    it.entry.updated = FEED_TIME_NONE;
    it.changed = FEED_TIME_NONE;
    return it;
}

STORE_TEST_UNUSED static void
add_ok(struct store *s, const char *id, const char *title, int64_t published)
{
    struct feed_item it = item(id, title, published);

    assert_int_equal(store_add(s, &it), 0);
}

STORE_TEST_UNUSED static off_t
file_size(const char *p)
{
    struct stat st;

    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

STORE_TEST_UNUSED static void
append_file(const char *p, const char *data)
{
    int fd = open(p, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

STORE_TEST_UNUSED static void
write_file(const char *p, const char *data)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

/* The whole of a small file, NUL-terminated; the caller frees it. */
STORE_TEST_UNUSED static char *
read_file(const char *p)
{
    int fd = open(p, O_RDONLY);
    struct stat st;
    size_t got = 0;
    ssize_t n;
    char *buf;

    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    buf = calloc(1, (size_t)st.st_size + 1);
    assert_non_null(buf);
    while (got < (size_t)st.st_size &&
           (n = read(fd, buf + got, (size_t)st.st_size - got)) > 0)
        got += (size_t)n;
    close(fd);
    return buf;
}

STORE_TEST_UNUSED static size_t
count_entries(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    size_t n = 0;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

/* The items/NNNNNN.jsonl in dir. */
STORE_TEST_UNUSED static size_t
count_segments(const char *dir)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    size_t n = 0, len;

    assert_non_null(d);
    while ((de = readdir(d)) != NULL) {
        len = strlen(de->d_name);
        if (len > 6 && strcmp(de->d_name + len - 6, ".jsonl") == 0)
            n++;
    }
    closedir(d);
    return n;
}

STORE_TEST_UNUSED static int
exists(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0;
}

/* Copies the file src to dst (both small). */
STORE_TEST_UNUSED static void
copy_file(const char *src, const char *dst)
{
    char buf[1 << 16];
    int in = open(src, O_RDONLY), out;
    ssize_t n;

    assert_true(in >= 0);
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(out >= 0);
    while ((n = read(in, buf, sizeof buf)) > 0)
        assert_int_equal(write(out, buf, (size_t)n), n);
    assert_int_equal(n, 0);
    close(in);
    close(out);
}

/* Writes len bytes of data at off in the existing file p. */
STORE_TEST_UNUSED static void
poke(const char *p, off_t off, const void *data, size_t len)
{
    int fd = open(p, O_WRONLY);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    close(fd);
}

/* Where needle starts in the small file p; fails when it is not there. */
STORE_TEST_UNUSED static off_t
find_in_file(const char *p, const char *needle)
{
    char *buf = read_file(p), *at = strstr(buf, needle);
    off_t off;

    if (at == NULL)
        fail_msg("%s: no %s", p, needle);
    off = at - buf;
    free(buf);
    return off;
}

STORE_TEST_UNUSED static int
file_has(const char *p, const char *needle)
{
    char *buf = read_file(p);
    int has = strstr(buf, needle) != NULL;

    free(buf);
    return has;
}

/* The warnings, which must hold want (or be none when want is NULL). */
STORE_TEST_UNUSED static void
warnings_have(struct store *s, const char *want)
{
    char *w = store_warnings(s);

    if (want == NULL && w != NULL)
        fail_msg("unexpected warnings: %s", w);
    if (want != NULL && (w == NULL || strstr(w, want) == NULL))
        fail_msg("no warning \"%s\" in: %s", want, w ? w : "(none)");
    free(w);
}

/* An item of a given version (hash). */
STORE_TEST_UNUSED static void
add_v(struct store *s, const char *id, const char *title, int64_t published,
      uint64_t hash)
{
    struct feed_item it = item(id, title, published);

    it.hash = hash;
    assert_int_equal(store_add(s, &it), 0);
}

/* The hash store_lookup() gives; fails when the ID is not seen. */
STORE_TEST_UNUSED static uint64_t
hash_of(struct store *s, const char *id)
{
    uint64_t h = 12345;

    assert_int_equal(store_lookup(s, id, &h), 1);
    return h;
}

/* What store_recent() handed over, copied. */
struct seen_item {
    char id[FEED_ID_LEN + 1];
    char title[64];
    int64_t date;
    size_t content_len;
};

struct collect {
    struct seen_item items[16];
    size_t n;
    int stop_after; /* 0: never */
};

STORE_TEST_UNUSED static int
collect_fn(const struct feed_item *it, void *arg)
{
    struct collect *c = arg;
    struct seen_item *si;

    assert_true(c->n < 16);
    si = &c->items[c->n++];
    strcpy(si->id, it->id);
    snprintf(si->title, sizeof si->title, "%s",
             it->entry.title ? it->entry.title : "(null)");
    si->date = feed_item_date(it);
    si->content_len = it->entry.content ? strlen(it->entry.content) : 0;
    if (c->stop_after != 0 && c->n == (size_t)c->stop_after)
        return 42;
    return 0;
}

/* Checks an item of test_lists_old_records(): its lists are none, but
 * for the one with lengths that are not one. */
STORE_TEST_UNUSED static int
old_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    assert_null(it->entry.image);
    assert_null(it->entry.enclosures);
    assert_int_equal(it->entry.nenclosures, 0);
    assert_null(it->entry.categories);
    assert_int_equal(it->entry.ncategories, 0);
    /* Keys that came later still: none, never, no hash. */
    assert_null(it->also);
    assert_int_equal(it->nalso, 0);
    assert_int_equal(it->changed, FEED_TIME_NONE);
    assert_int_equal(it->hash, 0);
    if (strcmp(it->id, "0000000000000001") == 0)
        assert_string_equal(it->entry.title, "old");
    return 0;
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

/* A record as the first feedd wrote them: every member a record always
 * has, and none of those that came later. title and published are JSON
 * values. */
#define RECORD(id, title, published)                                           \
    "{\"id\":\"" id "\",\"feed\":\"lwn\",\"feed_title\":null,"                 \
    "\"feed_url\":null,\"stored\":1700000000,\"guid\":null,\"link\":null,"     \
    "\"title\":" title ",\"author\":null,\"published\":" published             \
    ",\"updated\":null,\"summary\":null,\"content\":null}"

#endif

/* tests/unit/test_store.c - the item log, the seen set, updates, the side
 * index, retention and compaction, crash recovery, feed state and atomic
 * file replacement, through store.h. Each test gets a fresh folder under
 * /tmp. */
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

#include "store.h"

struct fixture {
    char dir[64];
    char path[256]; /* scratch for path() */
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

static int
teardown(void **state)
{
    struct fixture *f = *state;

    rm_rf(f->dir);
    free(f);
    return 0;
}

/* dir/rel, in a buffer of f's that the next call reuses. */
static const char *
path(struct fixture *f, const char *rel)
{
    snprintf(f->path, sizeof f->path, "%s/%s", f->dir, rel);
    return f->path;
}

static struct store *
open_ok(struct fixture *f)
{
    char err[256];
    struct store *s = store_open(f->dir, err, sizeof err);

    if (s == NULL)
        fail_msg("store_open: %s", err);
    return s;
}

/* An item with only the fields a test cares about. */
static struct feed_item
item(const char *id, const char *title, int64_t published)
{
    struct feed_item it;

    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "%s", id);
    it.feed = "lwn";
    it.feed_url = "https://lwn.net/headlines/rss";
    it.stored = 1700000000;
    it.entry.title = title;
    it.entry.published = published;
    it.entry.updated = FEED_TIME_NONE;
    it.changed = FEED_TIME_NONE;
    return it;
}

static void
add_ok(struct store *s, const char *id, const char *title, int64_t published)
{
    struct feed_item it = item(id, title, published);

    assert_int_equal(store_add(s, &it), 0);
}

static off_t
file_size(const char *p)
{
    struct stat st;

    assert_int_equal(stat(p, &st), 0);
    return st.st_size;
}

static void
append_file(const char *p, const char *data)
{
    int fd = open(p, O_WRONLY | O_APPEND);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

static void
write_file(const char *p, const char *data)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
    close(fd);
}

/* The whole of a small file, NUL-terminated; the caller frees it. */
static char *
read_file(const char *p)
{
    char *buf = calloc(1, 1 << 16);
    int fd = open(p, O_RDONLY);
    ssize_t n;

    assert_non_null(buf);
    assert_true(fd >= 0);
    n = read(fd, buf, (1 << 16) - 1);
    assert_true(n >= 0);
    close(fd);
    return buf;
}

static size_t
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
static size_t
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

static int
exists(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0;
}

/* Copies the file src to dst (both small). */
static void
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
static void
poke(const char *p, off_t off, const void *data, size_t len)
{
    int fd = open(p, O_WRONLY);

    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, data, len, off), (ssize_t)len);
    close(fd);
}

/* Where needle starts in the small file p; fails when it is not there. */
static off_t
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

static int
file_has(const char *p, const char *needle)
{
    char *buf = read_file(p);
    int has = strstr(buf, needle) != NULL;

    free(buf);
    return has;
}

/* The warnings, which must hold want (or be none when want is NULL). */
static void
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
static void
add_v(struct store *s, const char *id, const char *title, int64_t published,
      uint64_t hash)
{
    struct feed_item it = item(id, title, published);

    it.hash = hash;
    assert_int_equal(store_add(s, &it), 0);
}

/* The hash store_lookup() gives; fails when the ID is not seen. */
static uint64_t
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

static int
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
                        "{\"feedd_store\":1}\n{\"id\":\"00000000000000a1\"",
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

/* Checks every field of the one item in the store. */
static int
roundtrip_fn(const struct feed_item *it, void *arg)
{
    const char *tricky = arg;

    assert_string_equal(it->id, "0123456789abcdef");
    assert_string_equal(it->feed, "feed \"one\"");
    assert_null(it->feed_title);
    assert_string_equal(it->feed_url, "https://example.org/feed.xml");
    assert_int_equal(it->stored, 1716000000);
    assert_string_equal(it->entry.guid, "urn:uuid:1");
    assert_null(it->entry.link);
    assert_string_equal(it->entry.title, tricky);
    assert_null(it->entry.author);
    assert_int_equal(it->entry.published, FEED_TIME_NONE);
    assert_int_equal(it->entry.updated, -86400);
    assert_string_equal(it->entry.summary, "<p>a &amp; b</p>");
    assert_string_equal(it->entry.content, "");
    return 7;
}

static void
test_roundtrip(void **state)
{
    static const char tricky[] =
        "say \"hi\"\\ \n\ttab \r\x01 \xc3\xa9t\xc3\xa9 "
        "\xe2\x82\xac \xf0\x9f\x93\xb0 </script>";
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;

    memset(&it, 0, sizeof it);
    /* Upper case on the way in, lower case on the way out. */
    strcpy(it.id, "0123456789ABCDEF");
    it.feed = "feed \"one\"";
    it.feed_url = "https://example.org/feed.xml";
    it.stored = 1716000000;
    it.entry.guid = "urn:uuid:1";
    it.entry.title = tricky;
    it.entry.published = FEED_TIME_NONE;
    it.entry.updated = -86400;
    it.entry.summary = "<p>a &amp; b</p>";
    it.entry.content = "";
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_recent(s, 10, roundtrip_fn, (void *)tricky), 7);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_recent(s, 10, roundtrip_fn, (void *)tricky), 7);
    store_close(s);
}

/* Checks the image and lists of the items of test_lists(). */
static int
lists_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(it->id, "00000000000000e1") == 0) {
        assert_string_equal(it->entry.image, "https://example.org/th\"umb.jpg");
        assert_int_equal(it->entry.nenclosures, 2);
        assert_non_null(it->entry.enclosures);
        assert_string_equal(it->entry.enclosures[0].url,
                            "https://example.org/ep1.mp3");
        assert_string_equal(it->entry.enclosures[0].type, "audio/mpeg");
        assert_int_equal(it->entry.enclosures[0].length, 12345678901LL);
        assert_string_equal(it->entry.enclosures[1].url,
                            "https://example.org/caf\xc3\xa9.pdf?a=1&b=\"2\"");
        assert_null(it->entry.enclosures[1].type);
        assert_int_equal(it->entry.enclosures[1].length, -1);
        assert_int_equal(it->entry.ncategories, 3);
        assert_non_null(it->entry.categories);
        assert_string_equal(it->entry.categories[0], "say \"hi\"\\");
        assert_string_equal(it->entry.categories[1],
                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0");
        assert_string_equal(it->entry.categories[2], "");
    } else {
        assert_string_equal(it->id, "00000000000000e2");
        assert_null(it->entry.image);
        assert_null(it->entry.enclosures);
        assert_int_equal(it->entry.nenclosures, 0);
        assert_null(it->entry.categories);
        assert_int_equal(it->entry.ncategories, 0);
    }
    /* The other fields are still there. */
    assert_string_equal(it->entry.title, "with lists");
    return 0;
}

static void
test_lists(void **state)
{
    static const struct feed_enclosure enc[] = {
        {"https://example.org/ep1.mp3", "audio/mpeg", 12345678901LL},
        {"https://example.org/caf\xc3\xa9.pdf?a=1&b=\"2\"", NULL, -1},
    };
    static const char *const cats[] = {
        "say \"hi\"\\",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0",
        "",
    };
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    char *seg;
    int pass, calls;

    it = item("00000000000000e1", "with lists", 200);
    it.entry.image = "https://example.org/th\"umb.jpg";
    it.entry.enclosures = enc;
    it.entry.nenclosures = 2;
    it.entry.categories = cats;
    it.entry.ncategories = 3;
    assert_int_equal(store_add(s, &it), 0);
    /* None at all, and a count of none with a pointer to some. */
    it = item("00000000000000e2", "with lists", 100);
    it.entry.categories = cats;
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    for (pass = 0; pass < 2; pass++) {
        calls = 0;
        assert_int_equal(store_recent(s, 10, lists_fn, &calls), 0);
        assert_int_equal(calls, 2);
        store_close(s);
        s = open_ok(f);
        assert_null(store_warnings(s));
    }
    store_close(s);

    seg = read_file(path(f, "items/000001.jsonl"));
    assert_non_null(strstr(seg, "{\"url\":\"https://example.org/caf\xc3\xa9"
                                ".pdf?a=1&b=\\\"2\\\"\",\"type\":null,"
                                "\"length\":null}]"));
    assert_non_null(strstr(seg, "\"image\":null,\"enclosures\":[],"
                                "\"categories\":[]}\n"));
    free(seg);
}

/* Checks the lists of test_lists_capped()'s item. */
static int
capped_fn(const struct feed_item *it, void *arg)
{
    char want[32];
    size_t i;

    (void)arg;
    assert_int_equal(it->entry.nenclosures, 64);
    assert_int_equal(it->entry.ncategories, 256);
    /* The first ones are kept, less the one without a URL. */
    for (i = 0; i < 64; i++) {
        snprintf(want, sizeof want, "https://e.org/%zu", i + 1);
        assert_string_equal(it->entry.enclosures[i].url, want);
        assert_int_equal(it->entry.enclosures[i].length, (int64_t)i + 1);
    }
    for (i = 0; i < 256; i++) {
        snprintf(want, sizeof want, "c%zu", i);
        assert_string_equal(it->entry.categories[i], want);
    }
    return 0;
}

static void
test_lists_capped(void **state)
{
    static struct feed_enclosure enc[100];
    static char urls[100][32], names[300][8];
    static const char *cats[300];
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    size_t i;

    for (i = 0; i < 100; i++) {
        snprintf(urls[i], sizeof urls[i], "https://e.org/%zu", i);
        enc[i].url = i == 0 ? NULL : urls[i];
        enc[i].length = (int64_t)i;
    }
    for (i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "c%zu", i);
        cats[i] = names[i];
    }
    it = item("00000000000000c1", "many", 1);
    it.entry.enclosures = enc;
    it.entry.nenclosures = 100;
    it.entry.categories = cats;
    it.entry.ncategories = 300;
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_recent(s, 10, capped_fn, NULL), 0);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_recent(s, 10, capped_fn, NULL), 0);
    store_close(s);
}

/* Checks an item of test_lists_old_records(): its lists are none, but
 * for the one with lengths that are not one. */
static int
old_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(it->id, "0000000000000003") == 0) {
        assert_int_equal(it->entry.nenclosures, 2);
        assert_string_equal(it->entry.enclosures[0].url, "u");
        assert_int_equal(it->entry.enclosures[0].length, -1);
        assert_string_equal(it->entry.enclosures[1].url, "v");
        assert_int_equal(it->entry.enclosures[1].length, -1);
        assert_null(it->entry.enclosures[1].type);
        return 0;
    }
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

static void
test_lists_old_records(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    int calls = 0;

    /* A line from before the keys existed, and one whose keys hold
     * nothing usable (edited by hand): both read back as none. */
    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"),
               "{\"feedd_store\":1}\n"
               "{\"id\":\"0000000000000001\",\"feed\":\"lwn\","
               "\"feed_title\":null,\"feed_url\":\"https://lwn.net/\","
               "\"stored\":1700000000,\"guid\":null,\"link\":null,"
               "\"title\":\"old\",\"author\":null,\"published\":5,"
               "\"updated\":null,\"summary\":null,\"content\":null}\n"
               "{\"id\":\"0000000000000002\",\"image\":7,"
               "\"enclosures\":[\"x\",{\"url\":null},{\"type\":\"a/b\"}],"
               "\"categories\":[1,null,{}]}\n"
               "{\"id\":\"0000000000000003\",\"enclosures\":["
               "{\"url\":\"u\",\"length\":-5},"
               "{\"url\":\"v\",\"type\":3,\"length\":\"7\"}]}\n");
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_recent(s, 10, old_fn, &calls), 0);
    assert_int_equal(calls, 3);
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
test_torn_last_line(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    off_t good;
    char *w;

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    good = file_size(path(f, "items/000001.jsonl"));
    /* A kill -9 in the middle of a write; even a whole object is torn
     * without its '\n'. */
    append_file(path(f, "items/000001.jsonl"),
                "{\"id\":\"0000000000000003\",\"title\":\"c\"}");

    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(w);
    assert_non_null(strstr(w, "items/000001.jsonl:4: torn last line cut off"));
    free(w);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), good);
    add_ok(s, "0000000000000004", "d", 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].title, "d");
    assert_string_equal(c.items[2].title, "a");
    store_close(s);
}

static void
test_torn_header(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *w, *seg;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"), "{\"feedd_st");
    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(strstr(w, "items/000001.jsonl:1: torn last line"));
    free(w);
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), 0);
    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* The emptied segment got its header with the first batch. */
    seg = read_file(path(f, "items/000001.jsonl"));
    assert_true(strncmp(seg, "{\"feedd_store\":1}\n", 18) == 0);
    free(seg);
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 1);
    store_close(s);
}

static void
test_corrupt_middle(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char *w;

    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    append_file(path(f, "items/000001.jsonl"),
                "garbage\n"
                "{\"feed\":\"no id\"}\n"
                "{\"id\":\"0000000000000xyz\"}\n"
                "\n"
                "{\"id\":\"0000000000000002\",\"title\":\"b\"}\n");
    s = open_ok(f);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(w);
    assert_string_equal(w, "items/000001.jsonl:3: corrupt record skipped\n"
                           "items/000001.jsonl:4: corrupt record skipped\n"
                           "items/000001.jsonl:5: corrupt record skipped\n"
                           "items/000001.jsonl:6: corrupt record skipped");
    free(w);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    assert_int_equal(store_seen(s, "0000000000000003"), 1);
    store_close(s);
}

static void
test_missing_header_and_many_warnings(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *w, *p;
    size_t lines = 1;
    int i, fd;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    fd = open(path(f, "items/000001.jsonl"), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_true(dprintf(fd, "{\"id\":\"0000000000000001\"}\n") > 0);
    for (i = 0; i < 150; i++)
        assert_true(dprintf(fd, "bad %d\n", i) > 0);
    assert_true(dprintf(fd, "{\"id\":\"0000000000000002\"}\n") > 0);
    close(fd);

    s = open_ok(f);
    assert_int_equal(store_count(s), 2);
    w = store_warnings(s);
    assert_non_null(w);
    assert_true(strncmp(w, "items/000001.jsonl:1: no store header\n", 38) == 0);
    for (p = w; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    /* 100 kept, then one line that counts the rest. */
    assert_int_equal(lines, 101);
    assert_non_null(strstr(w, "\n51 more warnings not shown"));
    free(w);
    store_close(s);
}

static void
test_newer_format(void **state)
{
    struct fixture *f = *state;
    char err[256];

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"),
               "{\"feedd_store\":1}\n{\"id\":\"0000000000000001\"}\n");
    write_file(path(f, "items/000003.jsonl"),
               "{\"feedd_store\":2}\n{\"id\":\"0000000000000002\"}\n");
    memset(err, 'x', sizeof err);
    assert_null(store_open(f->dir, err, sizeof err));
    assert_string_equal(err, "items/000003.jsonl: written by a newer feedd "
                             "(store format 2); this one reads format 1");
    /* Refusing touches nothing. */
    assert_int_equal(file_size(path(f, "items/000003.jsonl")), 44);
}

static void
test_feed_state(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_feed_state *got;
    struct store_feed_state st;
    char etag[] = "\"abc\"";
    char *file;

    assert_null(store_feed_state_get(s, "lwn"));
    memset(&st, 0, sizeof st);
    st.etag = etag;
    st.last_modified = (char *)"Fri, 17 May 2024 10:00:00 GMT";
    st.last_poll = 1715940000;
    st.next_poll = 1715941800;
    assert_int_equal(store_feed_state_set(s, "lwn", &st), 0);
    /* A copy: changing the caller's strings changes nothing. */
    etag[1] = 'X';
    memset(&st, 0, sizeof st);
    st.last_poll = FEED_TIME_NONE;
    st.next_poll = FEED_TIME_NONE;
    st.errors = 3;
    st.last_error = (char *)"HTTP 503\nretry";
    assert_int_equal(store_feed_state_set(s, "moscow-times", &st), 0);
    assert_int_equal(store_feed_state_set(s, "gone", &st), 0);
    assert_int_equal(store_feed_state_set(s, "gone", NULL), 0);
    assert_null(store_feed_state_get(s, "gone"));
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);

    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file, "\"feed\":\"lwn\""));
    assert_null(strstr(file, "gone"));
    free(file);
    s = open_ok(f);
    assert_null(store_warnings(s));
    got = store_feed_state_get(s, "lwn");
    assert_non_null(got);
    assert_string_equal(got->etag, "\"abc\"");
    assert_string_equal(got->last_modified, "Fri, 17 May 2024 10:00:00 GMT");
    assert_int_equal(got->last_poll, 1715940000);
    assert_int_equal(got->next_poll, 1715941800);
    assert_int_equal(got->errors, 0);
    assert_null(got->last_error);
    got = store_feed_state_get(s, "moscow-times");
    assert_non_null(got);
    assert_null(got->etag);
    assert_null(got->last_modified);
    assert_int_equal(got->last_poll, FEED_TIME_NONE);
    assert_int_equal(got->next_poll, FEED_TIME_NONE);
    assert_int_equal(got->errors, 3);
    assert_string_equal(got->last_error, "HTTP 503\nretry");
    assert_null(store_feed_state_get(s, "gone"));
    store_close(s);
}

static void
test_feed_state_corrupt(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    const struct store_feed_state *got;
    char *w;

    write_file(path(f, "feeds.state"), "{\"feed\":\"a\",\"errors\":1}\n"
                                       "{not json\n"
                                       "{\"etag\":\"no feed name\"}\n"
                                       "{\"feed\":\"b\",\"errors\":2}");
    s = open_ok(f);
    w = store_warnings(s);
    assert_string_equal(w, "feeds.state:2: corrupt record skipped\n"
                           "feeds.state:3: corrupt record skipped");
    free(w);
    got = store_feed_state_get(s, "a");
    assert_non_null(got);
    assert_int_equal(got->errors, 1);
    got = store_feed_state_get(s, "b");
    assert_non_null(got);
    assert_int_equal(got->errors, 2);
    assert_int_equal(got->last_poll, FEED_TIME_NONE);
    store_close(s);
}

static void
test_file_replace(void **state)
{
    struct fixture *f = *state;
    char p[256], *got;

    snprintf(p, sizeof p, "%s", path(f, "feed.atom"));
    write_file(p, "old and longer than the new one");
    assert_int_equal(store_file_replace(p, "new", 3), 0);
    got = read_file(p);
    assert_string_equal(got, "new");
    free(got);
    /* No temporary left behind. */
    assert_int_equal(count_entries(f->dir), 1);
    assert_int_equal(store_file_replace(p, "", 0), 0);
    assert_int_equal(file_size(p), 0);
    assert_int_equal(count_entries(f->dir), 1);
    /* A folder that does not exist: an error, and nothing made. */
    assert_int_equal(store_file_replace(path(f, "nope/feed.atom"), "x", 1),
                     -ENOENT);
    assert_int_equal(count_entries(f->dir), 1);
}

static void
test_file_replace_fails(void **state)
{
    struct fixture *f = *state;
    struct rlimit old, lim;
    char p[256], *got;

    snprintf(p, sizeof p, "%s", path(f, "feed.json"));
    write_file(p, "old");
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = 10;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    assert_int_equal(store_file_replace(p, "much more than ten bytes", 24),
                     -EFBIG);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    got = read_file(p);
    assert_string_equal(got, "old");
    free(got);
    assert_int_equal(count_entries(f->dir), 1);
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

static void
test_rollover(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    size_t big_len = (size_t)22 << 20;
    char *big = malloc(big_len + 1), *seg2;
    struct collect c;
    struct feed_item it;
    char id[FEED_ID_LEN + 1];
    int i;

    assert_non_null(big);
    memset(big, 'y', big_len);
    big[big_len] = '\0';
    /* Three lines of 22 MiB fill the first segment past 64 MiB. */
    for (i = 1; i <= 4; i++) {
        snprintf(id, sizeof id, "%016x", i);
        it = item(id, "big", i);
        if (i < 4)
            it.entry.content = big;
        assert_int_equal(store_add(s, &it), 0);
        assert_int_equal(store_commit(s), 0);
    }
    free(big);
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 2);
    seg2 = read_file(path(f, "items/000002.jsonl"));
    assert_true(strncmp(seg2,
                        "{\"feedd_store\":1}\n{\"id\":\"0000000000000004\"",
                        42) == 0);
    free(seg2);

    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 4);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0].id, "0000000000000004");
    assert_int_equal(c.items[0].content_len, 0);
    assert_string_equal(c.items[3].id, "0000000000000001");
    assert_int_equal(c.items[3].content_len, big_len);

    /* A compaction that drops the old version of item 4 writes the rest
     * in segments of the same size: the three big lines fill the first
     * one, and the new version of 4 starts the second. */
    add_ok(s, "0000000000000004", "big v2", 4);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    assert_int_equal(count_segments(path(f, "items")), 2);
    seg2 = read_file(path(f, "items/000002.jsonl"));
    assert_true(strncmp(seg2,
                        "{\"feedd_store\":1}\n{\"id\":\"0000000000000004\"",
                        42) == 0);
    assert_non_null(strstr(seg2, "big v2"));
    free(seg2);
    store_close(s);
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 4);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0].title, "big v2");
    assert_int_equal(c.items[3].content_len, big_len);
    store_close(s);
}

/* ---- the fields of issue 4 ---------------------------------------------- */

static int
fields_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(it->id, "00000000000000f1") == 0) {
        assert_int_equal(it->nalso, 2);
        assert_non_null(it->also);
        assert_string_equal(it->also[0], "hn");
        assert_string_equal(it->also[1], "caf\xc3\xa9 \"feed\"");
        assert_int_equal(it->changed, 1716000123);
        assert_true(it->hash == UINT64_C(0xfedcba9876543210));
    } else {
        assert_string_equal(it->id, "00000000000000f2");
        assert_null(it->also);
        assert_int_equal(it->nalso, 0);
        assert_int_equal(it->changed, FEED_TIME_NONE);
        assert_true(it->hash == 1);
    }
    return 0;
}

static void
test_new_fields(void **state)
{
    static const char *const also[] = {"hn", NULL, "caf\xc3\xa9 \"feed\""};
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    int pass, calls;

    it = item("00000000000000f1", "carried twice", 10);
    it.also = also;
    it.nalso = 3; /* the NULL carries nothing and is left out */
    it.changed = 1716000123;
    it.hash = UINT64_C(0xfedcba9876543210);
    assert_int_equal(store_add(s, &it), 0);
    add_v(s, "00000000000000f2", "plain", 5, 1);
    assert_int_equal(store_commit(s), 0);
    for (pass = 0; pass < 2; pass++) {
        calls = 0;
        assert_int_equal(store_recent(s, 10, fields_fn, &calls), 0);
        assert_int_equal(calls, 2);
        store_close(s);
        s = open_ok(f);
        warnings_have(s, NULL);
    }
    store_close(s);
    assert_true(file_has(path(f, "items/000001.jsonl"),
                         "\"also\":[\"hn\",\"caf\xc3\xa9 \\\"feed\\\"\"],"
                         "\"stored\":1700000000,\"changed\":1716000123,"
                         "\"hash\":\"fedcba9876543210\""));
    assert_true(file_has(path(f, "items/000001.jsonl"),
                         "\"also\":[],\"stored\":1700000000,\"changed\":null,"
                         "\"hash\":\"0000000000000001\""));
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

    /* A record from before hashes: seen, hash 0. */
    append_file(path(f, "items/000001.jsonl"),
                "{\"id\":\"00000000000000b2\",\"title\":\"old\"}\n");
    s = open_ok(f);
    assert_true(hash_of(s, "00000000000000b2") == 0);
    store_close(s);
}

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
               "{\"feedd_store\":1}\n"
               "{\"id\":\"0000000000000002\",\"title\":\"older\","
               "\"published\":3}\n");
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
    char seg[256], want[128];
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
             "items/000001.jsonl: record at byte %lld changed on disk, "
             "dropped",
             (long long)off);
    warnings_have(s, want);
    assert_int_equal(store_count(s), 2);
    assert_true(hash_of(s, "0000000000000001") == 0);
    assert_true(hash_of(s, "0000000000000003") == 0);
    assert_true(hash_of(s, "0000000000000004") == 4);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 1);
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

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_add_commit_seen),
        T(test_reopen),
        T(test_pending_not_committed),
        T(test_lock),
        T(test_recent),
        T(test_roundtrip),
        T(test_lists),
        T(test_lists_capped),
        T(test_lists_old_records),
        T(test_update),
        T(test_torn_last_line),
        T(test_torn_header),
        T(test_corrupt_middle),
        T(test_missing_header_and_many_warnings),
        T(test_newer_format),
        T(test_feed_state),
        T(test_feed_state_corrupt),
        T(test_file_replace),
        T(test_file_replace_fails),
        T(test_commit_failure),
        T(test_rollover),
        T(test_new_fields),
        T(test_update_versions),
        T(test_update_failed_commit),
        T(test_lookup),
        T(test_index_used),
        T(test_index_damaged),
        T(test_index_torn_tail),
        T(test_index_past_segment),
        T(test_index_behind_log),
        T(test_store_before_index),
        T(test_compact_age),
        T(test_compact_count),
        T(test_compact_keeps_pending),
        T(test_compact_damaged),
        T(test_compact_crash_leftovers),
        T(test_compact_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

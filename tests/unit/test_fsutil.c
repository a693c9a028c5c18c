/* tests/unit/test_fsutil.c - the file utilities (fsutil.c): atomic
 * replacement, whole reads and writes, folders. Each test gets a fresh
 * folder under /tmp. */
#include "store_fixture.h"
#include "store_int.h"

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

/* A relative path: the folder synced is ".". */
static void
test_file_replace_relative(void **state)
{
    struct fixture *f = *state;
    char cwd[512], *got;

    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    assert_int_equal(store_file_replace("rel.txt", "abc", 3), 0);
    assert_int_equal(chdir(cwd), 0);
    got = read_file(path(f, "rel.txt"));
    assert_string_equal(got, "abc");
    free(got);
    assert_int_equal(count_entries(f->dir), 1);
}

static void
test_read_write_all(void **state)
{
    struct fixture *f = *state;
    char buf[16];
    int fd;

    fd = open(path(f, "x"), O_RDWR | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_int_equal(store_write_all(fd, "hello", 5, 10), 0);
    assert_int_equal(file_size(path(f, "x")), 15);
    assert_int_equal(store_read_all(fd, buf, 5, 10), 0);
    assert_memory_equal(buf, "hello", 5);
    /* A read that meets the end of the file is short: -EIO. */
    assert_int_equal(store_read_all(fd, buf, 6, 10), -EIO);
    close(fd);
    assert_int_equal(store_read_all(fd, buf, 1, 0), -EBADF);
    assert_int_equal(store_write_all(fd, buf, 1, 0), -EBADF);
}

static void
test_dirs(void **state)
{
    struct fixture *f = *state;
    struct store *s = calloc(1, sizeof *s);
    char deep[256];
    int dfd;

    assert_non_null(s);
    snprintf(deep, sizeof deep, "%s/a/b/c", f->dir);
    assert_int_equal(store_mkdirs(s, deep), 0);
    assert_int_equal(store_mkdirs(s, deep), 0); /* there already: fine */
    dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    assert_int_equal(store_dir_exists(dfd, "a"), 1);
    assert_int_equal(store_dir_exists(dfd, "nope"), 0);
    write_file(path(f, "file"), "x");
    assert_int_equal(store_dir_exists(dfd, "file"), -ENOTDIR);
    assert_int_equal(store_dir_empty(dfd, "a/b/c"), 1);
    assert_int_equal(store_dir_empty(dfd, "a"), 0);
    assert_int_equal(store_dir_empty(dfd, "nope"), -ENOENT);
    write_file(path(f, "a/b/c/1"), "1");
    write_file(path(f, "a/b/c/2"), "2");
    assert_int_equal(store_dir_remove(dfd, "a/b/c"), 0);
    assert_int_equal(store_dir_exists(dfd, "a/b/c"), 0);
    assert_int_equal(store_dir_remove(dfd, "a/b/c"), 0); /* gone: fine */
    assert_int_equal(store_dir_sync(dfd), 0);
    /* A file in the way of mkdir -p: an error that names it. */
    snprintf(deep, sizeof deep, "%s/file/sub", f->dir);
    assert_int_equal(store_mkdirs(s, deep), -ENOTDIR);
    assert_non_null(strstr(store_error(s), "/file/sub: mkdir: "));
    close(dfd);
    free(s);
}

static void
test_small_helpers(void **state)
{
    struct feed_buf b;
    char name[32];
    size_t cap = 0, i;
    int *a = NULL, *p;

    (void)state;
    store_seg_name(name, 1);
    assert_string_equal(name, "000001.jsonl");
    store_seg_name(name, 4000000000u);
    assert_string_equal(name, "4000000000.jsonl");
    feed_buf_init(&b, 0);
    assert_int_equal(store_file_header(&b, "feeddidx", 1, 48), 0);
    assert_int_equal(b.len, 16);
    assert_memory_equal(b.data, "feeddidx\1\0\0\0\x30\0\0\0", 16);
    feed_buf_free(&b);
    for (i = 0; i < 100; i++) {
        p = store_array_grow(a, &cap, i, sizeof *a);
        assert_non_null(p);
        a = p;
        assert_true(cap > i);
        a[i] = (int)i;
    }
    for (i = 0; i < 100; i++)
        assert_int_equal(a[i], (int)i);
    free(a);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_file_replace),
        T(test_file_replace_fails),
        T(test_file_replace_relative),
        T(test_read_write_all),
        T(test_dirs),
        cmocka_unit_test(test_small_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

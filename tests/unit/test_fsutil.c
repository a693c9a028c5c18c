/* tests/unit/test_fsutil.c - the file utilities (fsutil.c): atomic
 * replacement, whole reads and writes, folders. Each test gets a fresh
 * folder under /tmp. */
#include "store_fixture.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_file_replace),
        T(test_file_replace_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

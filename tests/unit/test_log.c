/* tests/unit/test_log.c - daemon/log.c: the journal's priority prefixes
 * only when JOURNAL_STREAM names stderr itself, and the levels of -v and
 * -q. stderr is sent to a temporary file, read back after each line. */
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

#include "linear.h"
#include "log.h"

static int saved_stderr = -1;
static char out[4096];

/* stderr to a fresh temporary file; its dev:ino in js. */
static void
capture_start(char *js, size_t len)
{
    char path[] = "/tmp/feedd-test-log-XXXXXX";
    struct stat st;
    int fd = mkstemp(path);

    assert_true(fd >= 0);
    unlink(path);
    fflush(stderr);
    if (saved_stderr < 0)
        saved_stderr = dup(STDERR_FILENO);
    assert_true(dup2(fd, STDERR_FILENO) == STDERR_FILENO);
    close(fd);
    assert_int_equal(fstat(STDERR_FILENO, &st), 0);
    snprintf(js, len, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
}

/* What was logged since the last call. */
static const char *
captured(void)
{
    ssize_t n;

    fflush(stderr);
    assert_int_equal(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
    n = read(STDERR_FILENO, out, sizeof(out) - 1);
    assert_true(n >= 0);
    out[n] = '\0';
    assert_int_equal(ftruncate(STDERR_FILENO, 0), 0);
    assert_int_equal(lseek(STDERR_FILENO, 0, SEEK_SET), 0);
    return out;
}

static int
restore(void **state)
{
    (void)state;
    fflush(stderr);
    if (saved_stderr >= 0)
        dup2(saved_stderr, STDERR_FILENO);
    unsetenv("JOURNAL_STREAM");
    unsetenv("FEEDD_DEBUG");
    log_init();
    return 0;
}

/* Logs one line of each kind. */
static void
log_each(void)
{
    log_warnx("news: HTTP %d", 404);
    log_info("news: %d new", 2);
    log_debug("news: not modified");
}

static void
test_journal_prefixes(void **state)
{
    char js[64];

    (void)state;
    capture_start(js, sizeof(js));
    setenv("JOURNAL_STREAM", js, 1);
    log_init();
    log_set_level(LOG_LEVEL_DEBUG);
    log_each();
    errno = ENOSPC;
    log_warn("news: cannot store");
    assert_string_equal(captured(), "<4>news: HTTP 404\n"
                                    "<6>news: 2 new\n"
                                    "<7>news: not modified\n"
                                    "<4>news: cannot store: No space left on "
                                    "device\n");
}

/* JOURNAL_STREAM inherited by a process whose stderr went elsewhere. */
static void
test_other_stream_plain(void **state)
{
    char js[64], other[80];
    unsigned long long dev, ino;

    (void)state;
    capture_start(js, sizeof(js));
    assert_int_equal(sscanf(js, "%llu:%llu", &dev, &ino), 2);
    snprintf(other, sizeof(other), "%llu:%llu", dev, ino + 1);
    setenv("JOURNAL_STREAM", other, 1);
    log_init();
    log_each();
    assert_string_equal(captured(), "news: HTTP 404\nnews: 2 new\n");
    snprintf(other, sizeof(other), "%llu:%llu", dev + 1, ino);
    setenv("JOURNAL_STREAM", other, 1);
    log_init();
    log_warnx("x");
    assert_string_equal(captured(), "x\n");
    unsetenv("JOURNAL_STREAM");
    log_init();
    log_warnx("x");
    assert_string_equal(captured(), "x\n");
}

/* Anything but DEVICE:INODE in decimal is no match. */
static void
expect_plain(const char *js)
{
    setenv("JOURNAL_STREAM", js, 1);
    log_init();
    log_warnx("x");
    assert_string_equal(captured(), "x\n");
}

static void
test_malformed_plain(void **state)
{
    char js[64], bad[128];
    unsigned long long dev, ino;

    (void)state;
    capture_start(js, sizeof(js));
    assert_int_equal(sscanf(js, "%llu:%llu", &dev, &ino), 2);
    snprintf(bad, sizeof(bad), "%llu:%llux", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "%llu:%llu:", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), " %llu:%llu", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "+%llu:%llu", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "%llu: %llu", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "%llu:+%llu", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "%llu;%llu", dev, ino);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), "%llu:", dev);
    expect_plain(bad);
    snprintf(bad, sizeof(bad), ":%llu", ino);
    expect_plain(bad);
    expect_plain("");
    /* Too many digits to be a number. */
    snprintf(bad, sizeof(bad), "1%llu000000000000000000000:%llu", dev, ino);
    expect_plain(bad);
}

static void
test_levels(void **state)
{
    char js[64];

    (void)state;
    capture_start(js, sizeof(js));
    unsetenv("JOURNAL_STREAM");
    log_init(); /* the default: no debug lines */
    log_each();
    assert_string_equal(captured(), "news: HTTP 404\nnews: 2 new\n");
    log_set_level(LOG_LEVEL_WARN); /* -q */
    log_each();
    assert_string_equal(captured(), "news: HTTP 404\n");
    log_set_level(LOG_LEVEL_DEBUG); /* -v */
    log_each();
    assert_string_equal(captured(),
                        "news: HTTP 404\nnews: 2 new\nnews: not modified\n");
    setenv("FEEDD_DEBUG", "1", 1);
    log_init();
    log_each();
    assert_string_equal(captured(),
                        "news: HTTP 404\nnews: 2 new\nnews: not modified\n");
}

/* One event, one line: a peer's newline does not start another. */
static void
test_one_line(void **state)
{
    char js[64];

    (void)state;
    capture_start(js, sizeof(js));
    setenv("JOURNAL_STREAM", js, 1);
    log_init();
    log_warnx("news: %s", "bad\n<3>forged\r");
    assert_string_equal(captured(), "<4>news: bad <3>forged \n");
}

static char *digits;

static void
init_run(size_t n, void *arg)
{
    (void)arg;
    digits[n] = '\0';
    setenv("JOURNAL_STREAM", digits, 1);
    log_init();
    digits[n] = '1';
}

/* Reading JOURNAL_STREAM is linear in its length. */
static void
test_linear(void **state)
{
    size_t max = 16u << 20;

    (void)state;
    digits = malloc(max + 1);
    assert_non_null(digits);
    memset(digits, '1', max);
    digits[max / 2] = ':';
    digits[max] = '\0';
    assert_linear("log_init JOURNAL_STREAM", init_run, NULL, 4096, max / 4);
    free(digits);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_journal_prefixes, restore),
        cmocka_unit_test_teardown(test_other_stream_plain, restore),
        cmocka_unit_test_teardown(test_malformed_plain, restore),
        cmocka_unit_test_teardown(test_levels, restore),
        cmocka_unit_test_teardown(test_one_line, restore),
        cmocka_unit_test_teardown(test_linear, restore),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

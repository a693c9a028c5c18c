/* tests/unit/test_schedule.c - the due-poll queue (daemon/schedule.c):
 * due order, the caps on connections in all and per host, hosts taking
 * turns, cancels, the spread of a host's feeds, and the cost at scale. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "linear.h"
#include "schedule.h"

static struct sched *
make(size_t n, int parallel, int per_host, const char *const *urls,
     size_t nurls)
{
    struct sched *s = sched_new(n, parallel, per_host);
    size_t i;

    assert_non_null(s);
    for (i = 0; i < n; i++)
        assert_int_equal(sched_host(s, i, urls[i % nurls]), 0);
    return s;
}

/* Feeds come out in the order they fall due, and none before. */
static void
test_due_order(void **state)
{
    static const char *const url[] = {"http://a.example/feed"};
    struct sched *s = make(1000, 1000, 1000, url, 1);
    uint64_t last = 0, t;
    size_t i, f, n = 0;

    (void)state;
    srand(7);
    for (i = 0; i < 1000; i++)
        sched_at(s, i, 1000 + (uint64_t)(rand() % 100000));
    /* Moved later: the new time counts. */
    sched_at(s, 5, 500000);
    assert_int_equal(sched_scheduled(s), 1000);
    sched_due(s, 999);
    assert_int_equal(sched_take(s, &f), 0);
    while ((t = sched_next(s)) != SCHED_NEVER) {
        assert_true(t >= last);
        sched_due(s, t);
        while (sched_take(s, &f)) {
            assert_true(f != 5 || t == 500000);
            sched_done(s, f);
            n++;
        }
        last = t;
    }
    assert_int_equal(n, 1000);
    assert_int_equal(sched_running(s), 0);
    assert_int_equal(sched_waiting(s), 0);
    sched_free(s);
}

/* Feeds due at one time start in the order of the config. */
static void
test_ties(void **state)
{
    static const char *const url[] = {"http://a.example/feed"};
    struct sched *s = make(100, 1, 1, url, 1);
    size_t i, f;

    (void)state;
    for (i = 100; i-- > 0;)
        sched_at(s, (i * 37) % 100, 5);
    sched_due(s, 5);
    for (i = 0; i < 100; i++) {
        assert_int_equal(sched_take(s, &f), 1);
        assert_int_equal(f, i);
        sched_done(s, f);
    }
    sched_free(s);
}

/* Never more than parallel running, nor per_host to one host; a host
 * whose connections are taken does not hold up the others; hosts take
 * turns. */
static void
test_caps(void **state)
{
    static const char *const urls[] = {
        "http://a.example/1",
        "https://B.example:8443/x",
        "http://user:pw@a.example/2",
        "file:///tmp/x",
    };
    struct sched *s = make(40, 5, 2, urls, 4);
    size_t f, i, per[3] = {0, 0, 0};
    size_t got[8];
    int n = 0;

    (void)state;
    for (i = 0; i < 40; i++)
        sched_at(s, i, i);
    sched_due(s, 40);
    assert_int_equal(sched_waiting(s), 40);
    /* a.example (feeds 0, 2 mod 4) has 2, b 2, file 1: 5 in all. */
    while (sched_take(s, &f)) {
        got[n++] = f;
        per[f % 4 == 1 ? 1 : f % 4 == 3 ? 2 : 0]++;
    }
    assert_int_equal(n, 5);
    assert_int_equal(per[0], 2);
    assert_int_equal(per[1], 2);
    assert_int_equal(per[2], 1);
    assert_int_equal(sched_running(s), 5);
    /* The turn goes round: the first three are of three hosts. */
    assert_true(got[0] % 4 == 0 && got[1] % 4 == 1 && got[2] % 4 == 3);
    /* One of b's ends: the turn is the file host's (it waited longest),
     * then b's. */
    sched_done(s, got[1]);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f % 4, 3);
    assert_int_equal(sched_take(s, &f), 0);
    sched_done(s, got[0]);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f % 4, 1);
    assert_int_equal(sched_take(s, &f), 0);
    sched_free(s);
}

/* A cancelled feed never comes out; the others do. */
static void
test_cancel(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(4, 1, 1, url, 1);
    size_t f;

    (void)state;
    sched_at(s, 0, 10);
    sched_at(s, 1, 10);
    sched_at(s, 2, 10);
    sched_at(s, 3, 20);
    sched_cancel(s, 3);
    assert_int_equal(sched_scheduled(s), 3);
    sched_due(s, 10);
    sched_cancel(s, 1);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 0);
    assert_int_equal(sched_take(s, &f), 0);
    sched_done(s, 0);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 2);
    sched_done(s, 2);
    sched_due(s, 100);
    assert_int_equal(sched_take(s, &f), 0);
    assert_int_equal(sched_next(s), SCHED_NEVER);
    sched_free(s);
}

static int
u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

/* The feeds of one host fall due spread evenly over the interval, within
 * half an interval of a whole one from now. */
static void
test_spread(void **state)
{
    static const char *const urls[] = {"http://a.example/",
                                       "http://b.example/"};
    struct sched *s = make(200, 50, 50, urls, 2);
    uint64_t due[100], now = 123456789, iv = 1000;
    size_t i;

    (void)state;
    for (i = 0; i < 100; i++) {
        due[i] = sched_spread(s, 2 * i, now, iv);
        assert_true(due[i] >= now + iv / 2 && due[i] < now + iv / 2 + iv);
        /* Later, at the same place in the cycle. */
        assert_int_equal((sched_spread(s, 2 * i, now + 777, iv) - due[i]) % iv,
                         0);
    }
    qsort(due, 100, sizeof due[0], u64_cmp);
    for (i = 1; i < 100; i++)
        assert_true(due[i] - due[i - 1] >= 9 && due[i] - due[i - 1] <= 11);
    sched_free(s);
}

/* n feeds of one host, due together, taken 50 at a time and done: the
 * work grows as n log n, not n^2 (the waiting queue is not scanned). */
static void
round_n(size_t n, void *arg)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(n, 50, 50, url, 1);
    size_t i, f, done = 0, run[50], nrun;

    (void)arg;
    for (i = 0; i < n; i++)
        sched_at(s, i, (uint64_t)(n - i));
    sched_due(s, n);
    while (done < n) {
        nrun = 0;
        while (sched_take(s, &f))
            run[nrun++] = f;
        assert_true(nrun > 0 && nrun <= 50);
        for (i = 0; i < nrun; i++)
            sched_done(s, run[i]);
        done += nrun;
    }
    sched_free(s);
}

static void
test_scale(void **state)
{
    (void)state;
    assert_linear("a round of n feeds of one host", round_n, NULL, 1 << 12,
                  1 << 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_order), cmocka_unit_test(test_ties),
        cmocka_unit_test(test_caps),      cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_spread),    cmocka_unit_test(test_scale),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

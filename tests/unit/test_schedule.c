/* tests/unit/test_schedule.c - the due-poll queue (daemon/schedule.c):
 * due order, the caps on connections in all and per host, hosts taking
 * turns, cancels, the spread of a host's feeds, feeds added, removed and
 * moved to another host, caps changed, and the cost at scale. */
#include <errno.h>
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

static int u64_cmp(const void *a, const void *b);

/* Feeds added past the first count get new numbers, are scheduled like
 * the first ones, and come out in due order. */
static void
test_add(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(2, 3000, 3000, url, 1);
    size_t i, f, n = 0, seen[1002];
    uint64_t t, last = 0;

    (void)state;
    assert_int_equal(sched_slots(s), 2);
    for (i = 2; i < 1002; i++) {
        assert_int_equal(sched_add(s, "http://b.example/x", &f), 0);
        assert_int_equal(f, i);
    }
    assert_int_equal(sched_slots(s), 1002);
    memset(seen, 0, sizeof seen);
    srand(11);
    for (i = 0; i < 1002; i++)
        sched_at(s, i, 1 + (uint64_t)(rand() % 5000));
    assert_int_equal(sched_due_at(s, 1001) > 0, 1);
    while ((t = sched_next(s)) != SCHED_NEVER) {
        assert_true(t >= last);
        sched_due(s, t);
        while (sched_take(s, &f)) {
            assert_int_equal(seen[f], 0);
            seen[f] = 1;
            sched_done(s, f);
            n++;
        }
        last = t;
    }
    assert_int_equal(n, 1002);
    assert_int_equal(sched_due_at(s, 5), SCHED_NEVER);
    sched_free(s);
}

/* A removed feed, scheduled or waiting, never comes out; a running one
 * is not removed until its poll is done; a freed number is given to the
 * next feed added. */
static void
test_remove(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(10, 1, 1, url, 1);
    size_t i, f, n = 0;

    (void)state;
    for (i = 0; i < 10; i++)
        sched_at(s, i, 10);
    sched_remove(s, 3); /* in the heap */
    assert_int_equal(sched_scheduled(s), 9);
    assert_int_equal(sched_due_at(s, 3), SCHED_NEVER);
    sched_due(s, 10);
    assert_int_equal(sched_waiting(s), 9);
    sched_remove(s, 5); /* waiting */
    assert_int_equal(sched_waiting(s), 8);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 0);
    sched_remove(s, 0); /* running: not yet */
    assert_int_equal(sched_running(s), 1);
    sched_done(s, 0);
    sched_remove(s, 0);
    while (sched_take(s, &f)) {
        assert_true(f != 3 && f != 5 && f != 0);
        sched_done(s, f);
        n++;
    }
    assert_int_equal(n, 7);
    assert_int_equal(sched_waiting(s), 0);
    /* The freed numbers again, the last freed first; then new ones. */
    assert_int_equal(sched_add(s, "http://a.example/y", &f), 0);
    assert_int_equal(f, 0);
    assert_int_equal(sched_add(s, "http://a.example/y", &f), 0);
    assert_int_equal(f, 5);
    assert_int_equal(sched_add(s, "http://a.example/y", &f), 0);
    assert_int_equal(f, 3);
    assert_int_equal(sched_add(s, "http://a.example/y", &f), 0);
    assert_int_equal(f, 10);
    assert_int_equal(sched_slots(s), 11);
    /* A number given again is a feed like any other. */
    sched_at(s, 5, 20);
    sched_due(s, 20);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 5);
    sched_done(s, f);
    sched_free(s);
}

/* After removals and additions the feeds of a host are still spread
 * evenly over the interval: the places left are closed up. */
static void
test_remove_spread(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(20, 5, 5, url, 1);
    uint64_t due[15], now = 987654, iv = 1500;
    size_t i, k = 0, f;

    (void)state;
    for (i = 0; i < 20; i += 2)
        sched_remove(s, i);
    for (i = 0; i < 5; i++) {
        assert_int_equal(sched_add(s, "http://a.example/new", &f), 0);
        assert_true(f < 20 && f % 2 == 0);
    }
    /* Odd feeds and five even ones: 15 feeds of one host. */
    for (i = 0; i < 20; i++)
        if (i % 2 == 1 || i >= 10)
            due[k++] = sched_spread(s, i, now, iv);
    assert_int_equal(k, 15);
    qsort(due, k, sizeof due[0], u64_cmp);
    for (i = 1; i < k; i++)
        assert_int_equal(due[i] - due[i - 1], iv / 15);
    sched_free(s);
}

/* A feed moved to another host waits in that host's queue; a running
 * one cannot move. */
static void
test_set_host(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(3, 5, 1, url, 1);
    size_t f;

    (void)state;
    sched_at(s, 0, 1);
    sched_at(s, 1, 1);
    sched_at(s, 2, 1);
    sched_due(s, 1);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 0);
    /* a.example has its one connection: nothing else starts. */
    assert_int_equal(sched_take(s, &f), 0);
    assert_int_equal(sched_set_host(s, 0, "http://b.example/"), -EBUSY);
    assert_int_equal(sched_set_host(s, 2, "http://b.example/"), 0);
    assert_int_equal(sched_waiting(s), 2);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 2);
    assert_int_equal(sched_take(s, &f), 0);
    /* The same host again changes nothing. */
    assert_int_equal(sched_set_host(s, 1, "http://A.example/other"), 0);
    assert_int_equal(sched_take(s, &f), 0);
    sched_done(s, 0);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 1);
    sched_free(s);
}

/* Raised caps let waiting feeds start at once; lowered ones hold new
 * starts back until the running polls are under them. */
static void
test_set_caps(void **state)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(6, 1, 1, url, 1);
    size_t i, f, run[6], n = 0;

    (void)state;
    for (i = 0; i < 6; i++)
        sched_at(s, i, 1);
    sched_due(s, 1);
    assert_int_equal(sched_take(s, &run[n++]), 1);
    assert_int_equal(sched_take(s, &f), 0);
    sched_caps(s, 4, 4);
    while (sched_take(s, &f))
        run[n++] = f;
    assert_int_equal(n, 4);
    assert_int_equal(sched_running(s), 4);
    sched_caps(s, 2, 2);
    sched_done(s, run[0]);
    sched_done(s, run[1]);
    assert_int_equal(sched_ready(s), 0);
    assert_int_equal(sched_take(s, &f), 0);
    sched_done(s, run[2]);
    assert_int_equal(sched_ready(s), 1);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(sched_take(s, &f), 0);
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

/* n feeds added one by one to a schedule made for one, half of them
 * removed, as many added again (the numbers freed are given out again),
 * and all run: each step costs O(log n), not O(n). */
static void
churn_n(size_t n, void *arg)
{
    static const char *const url[] = {"http://a.example/"};
    struct sched *s = make(1, 64, 64, url, 1);
    size_t i, f;

    (void)arg;
    for (i = 1; i < n; i++) {
        assert_int_equal(sched_add(s, i % 3 ? url[0] : "http://b.example/", &f),
                         0);
        sched_at(s, f, (uint64_t)(n - i));
    }
    for (i = 0; i < n; i += 2)
        sched_remove(s, i);
    for (i = 0; i < n; i += 2) {
        assert_int_equal(sched_add(s, url[0], &f), 0);
        sched_at(s, f, i);
    }
    assert_int_equal(sched_slots(s), n);
    sched_due(s, n);
    while (sched_take(s, &f))
        sched_done(s, f);
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
    assert_linear("n feeds added and removed", churn_n, NULL, 1 << 12, 1 << 20);
}

/* Retry-After: one feed told to wait holds no other; a second feed of
 * the host told while the first wait lasts holds the whole host, whose
 * feeds then fall due when the later wait ends; another host goes on. */
static void
test_host_wait(void **state)
{
    static const char *const url[] = {"http://a.example/1",
                                      "http://b.example/1"};
    struct sched *s = make(6, 10, 10, url, 2); /* a: 0 2 4, b: 1 3 5 */
    size_t f;

    (void)state;
    assert_int_equal(sched_host_wait(s, 0, 1000, 5000), 0);
    /* The same feed again: still only itself. */
    assert_int_equal(sched_host_wait(s, 0, 1100, 6000), 0);
    /* Another host's feed: that host alone. */
    assert_int_equal(sched_host_wait(s, 1, 1200, 9000), 0);
    /* A second feed of host a while feed 0 waits: the host, to 7000. */
    assert_int_equal(sched_host_wait(s, 2, 1300, 7000), 7000);
    sched_at(s, 4, 2000);
    sched_at(s, 3, 2000);
    sched_due(s, 2000);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 3);
    sched_done(s, f);
    assert_int_equal(sched_take(s, &f), 0);
    assert_int_equal(sched_next(s), 7000);
    sched_due(s, 6999);
    assert_int_equal(sched_take(s, &f), 0);
    sched_due(s, 7000);
    assert_int_equal(sched_take(s, &f), 1);
    assert_int_equal(f, 4);
    sched_done(s, f);
    /* Once the wait is over, one feed told is one feed again. */
    assert_int_equal(sched_host_wait(s, 2, 8000, 9000), 0);
    sched_free(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_due_order), cmocka_unit_test(test_ties),
        cmocka_unit_test(test_caps),      cmocka_unit_test(test_cancel),
        cmocka_unit_test(test_spread),    cmocka_unit_test(test_add),
        cmocka_unit_test(test_remove),    cmocka_unit_test(test_remove_spread),
        cmocka_unit_test(test_set_host),  cmocka_unit_test(test_set_caps),
        cmocka_unit_test(test_scale),     cmocka_unit_test(test_host_wait),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* tests/unit/linear.h - asserting that a pass over text is linear in its
 * input, as a unit test can on a noisy machine.
 *
 * The function under test runs at size n and at 4n, alternately, five
 * times each; the best time of each size is kept (noise only ever adds
 * time). Linear work grows 4x, quadratic 16x: the test fails above 10x
 * (LINEAR_RATIO_MAX), which leaves room for a loaded machine whose caches
 * other processes share (8x was crossed on a CI run by a linear pass).
 * n first doubles until one run takes at least 2 ms of CPU, so that the
 * clock's resolution and the call's fixed cost do not decide the ratio.
 * CPU time of the thread, not wall time: another process on the machine
 * does not count. */
#ifndef FEEDD_TEST_LINEAR_H
#define FEEDD_TEST_LINEAR_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* The memory a process frees comes back to it as page faults, which on a
 * virtual machine cost more per byte than the passes under test: fresh
 * memory at 4n against reused memory at n has measured 20x for a linear
 * pass. linear_setup() has glibc keep what is freed;
 * linear_ratio() calls it, and a test may call it first in main.
 * AddressSanitizer's allocator gives blocks over 128 KiB fresh memory every
 * time whatever is asked: under it, timing starts at LINEAR_N0 = 256 KiB, so
 * that both sizes pay alike. */
static void
linear_setup(void)
{
#ifdef __GLIBC__
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
}

#if defined(__SANITIZE_ADDRESS__)
#define LINEAR_N0 ((size_t)256 << 10)
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LINEAR_N0 ((size_t)256 << 10)
#endif
#endif
#ifndef LINEAR_N0
#define LINEAR_N0 ((size_t)4096)
#endif

/* Builds an input of about n bytes (or items) and runs the pass over it
 * once. Building the input may be counted: it is linear too. */
typedef void linear_fn(size_t n, void *arg);

static double
linear_now_(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double
linear_time_(linear_fn *fn, void *arg, size_t n)
{
    double t0 = linear_now_();

    fn(n, arg);
    return linear_now_() - t0;
}

/* The ratio of the time at 4n to the time at n (n grown as above, up to
 * max_n), measured again up to twice while it is above LINEAR_RATIO_MAX: a
 * burst of noise can spoil one measurement, but quadratic work is 16x in every
 * one. name is printed with the numbers. */
#define LINEAR_RATIO_MAX 10.0

static double
linear_ratio(const char *name, linear_fn *fn, void *arg, size_t n, size_t max_n)
{
    double small = 1e9, big = 1e9, ratio = 0;

    linear_setup();
    while (n < max_n && linear_time_(fn, arg, n) < 0.002)
        n *= 2;
    for (int attempt = 0;
         attempt < 3 && (attempt == 0 || ratio > LINEAR_RATIO_MAX); attempt++) {
        for (int i = 0; i < 5; i++) {
            double a = linear_time_(fn, arg, n);
            double b = linear_time_(fn, arg, 4 * n);

            small = a < small ? a : small;
            big = b < big ? b : big;
        }
        if (small <= 0)
            small = 1e-9;
        ratio = big / small;
        printf("# %s: n=%zu %.2f ms, 4n %.2f ms, ratio %.1f\n", name, n,
               small * 1e3, big * 1e3, ratio);
    }
    return ratio;
}

/* For cmocka: fails the test when fn grows faster than LINEAR_RATIO_MAX from n
 * to 4n. */
#define assert_linear(name, fn, arg, n, max_n)                                 \
    assert_true(linear_ratio((name), (fn), (arg), (n), (max_n)) <=             \
                LINEAR_RATIO_MAX)

#endif

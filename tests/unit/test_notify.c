/* tests/unit/test_notify.c - daemon/notify.c against a NOTIFY_SOCKET the
 * test binds: each call's datagram, RELOADING=1 with the monotonic clock,
 * a status line kept to one line, the watchdog's pings from a loop timer,
 * and nothing at all outside systemd. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "notify.h"

static int sock = -1;
static char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static char msg[4096];

static int
setup(void **state)
{
    struct sockaddr_un sa;
    struct timeval tv = {0, 200000};

    (void)state;
    snprintf(path, sizeof(path), "/tmp/feedd-test-notify-%ld", (long)getpid());
    unlink(path);
    sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(sock >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path) + 1);
    assert_int_equal(bind(sock, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)),
                     0);
    setenv("NOTIFY_SOCKET", path, 1);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    close(sock);
    unlink(path);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return 0;
}

/* The next datagram, or NULL after 200 ms without one. */
static const char *
next_msg(void)
{
    ssize_t n = recv(sock, msg, sizeof(msg) - 1, MSG_DONTWAIT);

    if (n < 0)
        n = recv(sock, msg, sizeof(msg) - 1, 0);
    if (n < 0)
        return NULL;
    msg[n] = '\0';
    return msg;
}

static uint64_t
mono_usec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void
test_messages(void **state)
{
    unsigned long long usec;
    uint64_t before, after;
    int end = 0;

    (void)state;
    notify_ready();
    assert_string_equal(next_msg(), "READY=1");
    notify_stopping();
    assert_string_equal(next_msg(), "STOPPING=1");
    before = mono_usec();
    notify_reloading();
    after = mono_usec();
    assert_non_null(next_msg());
    assert_int_equal(
        sscanf(msg, "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec, &end), 1);
    assert_int_equal((size_t)end, strlen(msg));
    assert_true(usec >= before && usec <= after);
    assert_null(next_msg());
}

static void
test_status_one_line(void **state)
{
    char long_text[1000];

    (void)state;
    notify_status("polling %s feeds, %d failing", "1,234", 3);
    assert_string_equal(next_msg(), "STATUS=polling 1,234 feeds, 3 failing");
    notify_status("a\nREADY=1\r");
    assert_string_equal(next_msg(), "STATUS=a READY=1 ");
    memset(long_text, 'x', sizeof(long_text) - 1);
    long_text[sizeof(long_text) - 1] = '\0';
    notify_status("%s", long_text);
    assert_non_null(next_msg());
    assert_int_equal(strlen(msg), strlen("STATUS=") + 255);
}

static int ticks;

static void
on_tick(uv_timer_t *t)
{
    if (++ticks == 10) {
        notify_watchdog_stop();
        uv_close((uv_handle_t *)t, NULL);
    }
}

/* WATCHDOG_USEC=100 ms: a ping at the start, then every 50 ms, for as long
 * as the loop runs; none once stopped. */
static void
test_watchdog(void **state)
{
    uv_loop_t loop;
    uv_timer_t t;
    char pid[32];
    int pings = 0;

    (void)state;
    setenv("WATCHDOG_USEC", "100000", 1);
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(notify_watchdog_start(&loop), 0);
    assert_string_equal(next_msg(), "WATCHDOG=1");
    /* 500 ms of loop: about ten pings. */
    assert_int_equal(uv_timer_init(&loop, &t), 0);
    assert_int_equal(uv_timer_start(&t, on_tick, 50, 50), 0);
    ticks = 0;
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    while (next_msg() != NULL) {
        assert_string_equal(msg, "WATCHDOG=1");
        pings++;
    }
    assert_true(pings >= 6 && pings <= 12);
    /* Another process's watchdog is not ours. */
    setenv("WATCHDOG_PID", "1", 1);
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(notify_watchdog_start(&loop), 0);
    assert_int_equal(uv_run(&loop, UV_RUN_NOWAIT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_null(next_msg());
}

static void
test_outside_systemd(void **state)
{
    uv_loop_t loop;

    (void)state;
    unsetenv("NOTIFY_SOCKET");
    notify_ready();
    notify_reloading();
    notify_status("x");
    notify_stopping();
    unsetenv("WATCHDOG_USEC");
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(notify_watchdog_start(&loop), 0);
    /* No timer: the loop has nothing to run. */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
    notify_watchdog_stop();
    assert_null(next_msg());
    unsetenv("LISTEN_FDS");
    assert_int_equal(notify_listen_fd(), -1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_messages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_one_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_watchdog, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_systemd, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

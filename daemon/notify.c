/* daemon/notify.c - sd_notify(3) and sd_listen_fds(3) for the daemon. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <systemd/sd-daemon.h>
#include <uv.h>

#include "log.h"
#include "notify.h"

static uv_timer_t watchdog;
static int watchdog_on; /* the timer is initialised and not closed */

void
notify_ready(void)
{
    (void)sd_notify(0, "READY=1");
}

void
notify_reloading(void)
{
    struct timespec ts;

    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
        (void)sd_notify(0, "RELOADING=1");
        return;
    }
    (void)sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
                     (unsigned long long)ts.tv_sec * 1000000ULL +
                         (unsigned long long)ts.tv_nsec / 1000ULL);
}

void
notify_stopping(void)
{
    (void)sd_notify(0, "STOPPING=1");
}

void
notify_status(const char *fmt, ...)
{
    char line[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    /* One assignment per line in the datagram: a newline would start
     * another. */
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    (void)sd_notifyf(0, "STATUS=%s", line);
}

static void
on_watchdog(uv_timer_t *t)
{
    (void)t;
    (void)sd_notify(0, "WATCHDOG=1");
}

int
notify_watchdog_start(uv_loop_t *loop)
{
    uint64_t usec = 0, every_ms;
    int rc;

    if (watchdog_on || sd_watchdog_enabled(0, &usec) <= 0 || usec == 0)
        return 0;
    /* Half the interval, as sd_watchdog_enabled(3) advises; at least 1 ms
     * so that the timer repeats. */
    every_ms = usec / 2000;
    if (every_ms == 0)
        every_ms = 1;
    if ((rc = uv_timer_init(loop, &watchdog)) != 0) {
        log_warnx("cannot make the watchdog's timer: %s", uv_strerror(rc));
        return rc;
    }
    watchdog_on = 1;
    (void)sd_notify(0, "WATCHDOG=1");
    if ((rc = uv_timer_start(&watchdog, on_watchdog, every_ms, every_ms)) !=
        0) {
        log_warnx("cannot arm the watchdog's timer: %s", uv_strerror(rc));
        notify_watchdog_stop();
        return rc;
    }
    log_debug("watchdog: a ping every %llu ms", (unsigned long long)every_ms);
    return 0;
}

void
notify_watchdog_stop(void)
{
    if (!watchdog_on)
        return;
    watchdog_on = 0;
    (void)uv_timer_stop(&watchdog);
    uv_close((uv_handle_t *)&watchdog, NULL);
}

int
notify_listen_fd(void)
{
    int n = sd_listen_fds(1);

    if (n == 0)
        return -1;
    if (n < 0) {
        log_warnx("LISTEN_FDS: %s", strerror(-n));
        return -2;
    }
    if (n > 1) {
        log_warnx("systemd passed %d sockets; feedd listens on one: give "
                  "feedd.socket a single ListenStream=",
                  n);
        return -2;
    }
    if (sd_is_socket_inet(SD_LISTEN_FDS_START, AF_UNSPEC, SOCK_STREAM, 1, 0) <=
        0) {
        log_warnx("the socket systemd passed is not a listening TCP socket: "
                  "feedd.socket needs ListenStream=ADDRESS:PORT");
        return -2;
    }
    return SD_LISTEN_FDS_START;
}

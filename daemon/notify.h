/* daemon/notify.h - what the daemon tells systemd (sd_notify(3)): ready,
 * reloading, stopping, a status line, the watchdog's pings; and the
 * listening socket systemd may hand over (sd_listen_fds(3)).
 * Outside systemd (no NOTIFY_SOCKET, no WATCHDOG_USEC, no LISTEN_FDS in the
 * environment) every call does nothing. A message systemd cannot be sent is
 * dropped: the daemon does not depend on being heard. Internal to daemon/. */
#ifndef FEEDD_NOTIFY_H
#define FEEDD_NOTIFY_H

#include <uv.h>

#define NOTIFY_PRINTF __attribute__((format(printf, 1, 2)))

/* READY=1: the store is loaded and the server listens (again, after a
 * reload). */
void notify_ready(void);
/* RELOADING=1 with MONOTONIC_USEC= (the clock systemd 253 and later
 * compare); follow it with notify_ready() once the reload is done. */
void notify_reloading(void);
/* STOPPING=1: the daemon is shutting down. */
void notify_stopping(void);
/* STATUS=<text>: one line shown by `systemctl status`; newlines in the
 * text become spaces, and it is cut at 255 bytes. */
void notify_status(const char *fmt, ...) NOTIFY_PRINTF;

/* When systemd watches this process (sd_watchdog_enabled(3): WatchdogSec=
 * set on the unit), sends WATCHDOG=1 now and then every half of the
 * interval from a timer on loop, so that a loop that hangs stops the pings
 * and systemd restarts the daemon. 0 (also when there is no watchdog), or a
 * negative libuv error with the reason logged. Once per process; end it
 * with notify_watchdog_stop() before the loop is closed. */
int notify_watchdog_start(uv_loop_t *loop);
/* Stops and closes the watchdog's timer, if started; the loop must run
 * once more before uv_loop_close(). */
void notify_watchdog_stop(void);

/* The listening TCP socket systemd passed (socket activation: exactly
 * one, at fd 3), or -1 when none was passed. The LISTEN_* variables are
 * removed from the environment. A passed fd that is not a listening
 * TCP socket, or more than one fd, is logged and -2 returned. */
int notify_listen_fd(void);

#endif

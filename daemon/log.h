/* daemon/log.h - one line per event on stderr (the journal under systemd),
 * the feed's name first where there is one. Only daemon/ logs. */
#ifndef FEEDD_LOG_H
#define FEEDD_LOG_H

#define LOG_PRINTF __attribute__((format(printf, 1, 2)))

/* Adds a systemd priority prefix ("<4>") when stderr is the journal. */
void log_init(void);
void log_info(const char *fmt, ...) LOG_PRINTF;
/* A warning; log_warn adds ": " and strerror(errno). */
void log_warn(const char *fmt, ...) LOG_PRINTF;
void log_warnx(const char *fmt, ...) LOG_PRINTF;
/* Only when FEEDD_DEBUG is set in the environment. */
void log_debug(const char *fmt, ...) LOG_PRINTF;

#endif

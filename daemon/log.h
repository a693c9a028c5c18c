/* daemon/log.h - one line per event on stderr (the journal under systemd),
 * the feed's name first where there is one. Only daemon/ logs. */
#ifndef FEEDD_LOG_H
#define FEEDD_LOG_H

#define LOG_PRINTF __attribute__((format(printf, 1, 2)))

/* What is logged: warnings only (-q), information too (the default), debug
 * lines too (-v, or FEEDD_DEBUG in the environment). */
enum log_level { LOG_LEVEL_WARN, LOG_LEVEL_INFO, LOG_LEVEL_DEBUG };

/* Looks at the environment once, at start. When stderr is the journal
 * (JOURNAL_STREAM, which systemd sets to "DEVICE:INODE" of the stream it
 * connected, names stderr's own device and inode: systemd.exec(5)), every
 * line starts with its syslog priority, "<4>" for a warning, so that the
 * journal records it; otherwise lines are plain. The level becomes
 * LOG_LEVEL_DEBUG when FEEDD_DEBUG is set, else LOG_LEVEL_INFO. */
void log_init(void);
/* Sets the level, e.g. from -v or -q. */
void log_set_level(enum log_level);
void log_info(const char *fmt, ...) LOG_PRINTF;
/* A warning; log_warn adds ": " and strerror(errno). Always logged. */
void log_warn(const char *fmt, ...) LOG_PRINTF;
void log_warnx(const char *fmt, ...) LOG_PRINTF;
void log_debug(const char *fmt, ...) LOG_PRINTF;

#endif

/* daemon/log.c - the log API (after OpenSMTPD's log.c: log_warn adds
 * strerror, log_warnx does not), with the journal's priority prefixes
 * (sd-daemon(3)) when stderr is the journal. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "log.h"

static int journal; /* stderr goes to the journal: prefix priorities */
static enum log_level level = LOG_LEVEL_INFO;

/* Whether v ("DEVICE:INODE", both decimal, as systemd writes them) names
 * the file open at fd. A child of the daemon's may inherit JOURNAL_STREAM
 * with its stderr sent elsewhere: then the prefixes would be noise. */
static int
stream_is(const char *v, int fd)
{
    unsigned long long dev, ino;
    struct stat st;
    char *end;

    if (v == NULL || *v < '0' || *v > '9')
        return 0;
    errno = 0;
    dev = strtoull(v, &end, 10);
    if (errno != 0 || *end != ':' || end[1] < '0' || end[1] > '9')
        return 0;
    ino = strtoull(end + 1, &end, 10);
    if (errno != 0 || *end != '\0' || fstat(fd, &st) != 0)
        return 0;
    return (unsigned long long)st.st_dev == dev &&
           (unsigned long long)st.st_ino == ino;
}

void
log_init(void)
{
    journal = stream_is(getenv("JOURNAL_STREAM"), STDERR_FILENO);
    level = getenv("FEEDD_DEBUG") != NULL ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
}

void
log_set_level(enum log_level l)
{
    level = l;
}

static void
vlog(const char *prio, const char *fmt, va_list ap, const char *err)
{
    char line[2048];
    int n;

    n = vsnprintf(line, sizeof(line), fmt, ap);
    if (n < 0)
        return;
    /* One event, one line: a peer's text must not start another. */
    for (char *c = line; *c; c++)
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (err)
        fprintf(stderr, "%s%s: %s\n", journal ? prio : "", line, err);
    else
        fprintf(stderr, "%s%s\n", journal ? prio : "", line);
}

void
log_info(const char *fmt, ...)
{
    va_list ap;

    if (level < LOG_LEVEL_INFO)
        return;
    va_start(ap, fmt);
    vlog(SD_INFO, fmt, ap, NULL);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog(SD_WARNING, fmt, ap, strerror(saved));
    va_end(ap);
    errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog(SD_WARNING, fmt, ap, NULL);
    va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
    va_list ap;

    if (level < LOG_LEVEL_DEBUG)
        return;
    va_start(ap, fmt);
    vlog(SD_DEBUG, fmt, ap, NULL);
    va_end(ap);
}

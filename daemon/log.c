/* daemon/log.c - the log API (after OpenSMTPD's log.c: log_warn adds
 * strerror, log_warnx does not). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static int journal; /* stderr goes to the journal: prefix priorities */
static int debug;

void
log_init(void)
{
    /* systemd sets JOURNAL_STREAM to the device:inode of the stream it
     * connected stderr to (systemd.exec(5)). */
    journal = getenv("JOURNAL_STREAM") != NULL;
    debug = getenv("FEEDD_DEBUG") != NULL;
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

    va_start(ap, fmt);
    vlog("<6>", fmt, ap, NULL);
    va_end(ap);
}

void
log_warn(const char *fmt, ...)
{
    int saved = errno;
    va_list ap;

    va_start(ap, fmt);
    vlog("<4>", fmt, ap, strerror(saved));
    va_end(ap);
    errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vlog("<4>", fmt, ap, NULL);
    va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
    va_list ap;

    if (!debug)
        return;
    va_start(ap, fmt);
    vlog("<7>", fmt, ap, NULL);
    va_end(ap);
}

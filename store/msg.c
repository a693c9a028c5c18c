/* store/msg.c - the last error of a store (store_error()) and the
 * warnings it gathers for the caller to log (store_warnings()): the store
 * logs nothing itself. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>

#include "store_int.h"

void
store_fail(struct store *s, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(s->err, sizeof s->err, fmt, ap);
    va_end(ap);
}

void
store_warn(struct store *s, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    if (s->nwarn >= STORE_WARN_MAX) {
        s->nwarn_dropped++;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if ((s->warn.len > 0 && feed_buf_puts(&s->warn, "\n") != 0) ||
        feed_buf_puts(&s->warn, line) != 0)
        return;
    s->nwarn++;
}

void
store_warn_damage(struct store *s, uint32_t no, uint64_t off, uint32_t line,
                  int why)
{
    char at[48] = "";

    if (line > 0)
        snprintf(at, sizeof at, " (line %" PRIu32 ")", line);
    store_warn(s,
               "items/%06" PRIu32 ".jsonl at byte %" PRIu64 "%s: damaged "
               "record (%s), skipped: the entry will be stored again from "
               "its feed",
               no, off, at, store_damage_why(why));
}

const char *
store_error(const struct store *s)
{
    return s != NULL ? s->err : "";
}

char *
store_warnings(struct store *s)
{
    char *w;

    if (s->nwarn_dropped > 0 &&
        feed_buf_printf(&s->warn, "%s%zu more warnings not shown",
                        s->warn.len > 0 ? "\n" : "", s->nwarn_dropped) != 0) {
        /* Out of memory: the count is lost, the warnings are not. */
    }
    if (s->warn.len == 0)
        return NULL;
    w = s->warn.data; /* the caller takes it */
    feed_buf_init(&s->warn, 0);
    s->nwarn = 0;
    s->nwarn_dropped = 0;
    return w;
}

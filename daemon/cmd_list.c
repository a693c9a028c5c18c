/* daemon/cmd_list.c - `feedd list [-c FILE] [--json]`: the feeds of the
 * config, in its order, each with what the state folder says of it: when
 * it last succeeded, its last error, its next poll and how many entries
 * are stored. It runs beside the daemon: feeds.state and the segments are
 * read without the store's lock (store_states_open(),
 * store_census_open()), and nothing is written or made. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "config.h"
#include "poller.h"
#include "feeds/buf.h"
#include "feeds/date.h"
#include "store.h"

/* As daemon.c's: the config -c overrides. */
#define LIST_DEFAULT_CONFIG "/etc/feedd/feedd.conf"

static const char usage_list[] =
    "usage: feedd list [-c FILE] [--json]\n"
    "  one line per feed: name, URL, interval, tags, last success, last\n"
    "  error, next poll and why, entries stored; --json: a JSON array\n";

/* The columns of the table, in order. */
enum {
    COL_NAME,
    COL_URL,
    COL_INTERVAL,
    COL_TAGS,
    COL_OK,
    COL_ERROR,
    COL_NEXT,
    COL_WHY,
    COL_ENTRIES,
    NCOLS
};

static const char *const col_head[NCOLS] = {
    "NAME",       "URL",       "INTERVAL", "TAGS",    "LAST OK",
    "LAST ERROR", "NEXT POLL", "WHY",      "ENTRIES",
};

/* Why the next poll is then (enum poller_why). */
static const char *const why_name[POLLER_NWHY] = {
    "interval", "back-off",  "Retry-After", "Cache-Control",
    "ttl",      "skipHours", "WebSub",
};

/* The reason of a feed's next poll, or NULL when it has none. */
static const char *
next_why(const struct store_feed_state *st)
{
    if (st == NULL || st->next_poll == FEED_TIME_NONE)
        return NULL;
    return st->why >= 0 && st->why < POLLER_NWHY ? why_name[st->why]
                                                 : "interval";
}

/* What is listed of one feed. */
struct list_feed {
    const struct config_feed *cf;
    const struct store_feed_state *st; /* NULL when it has none yet */
    int64_t last_ok;                   /* FEED_TIME_NONE: never */
    size_t entries;
};

/* ---- the facts -------------------------------------------------------- */

/* When the feed last succeeded. A state line saved before last_ok was
 * kept has none; but its last poll succeeded when it counts no error
 * (poll_result() sets errors to 0 on success only, and counts every
 * failure). */
static int64_t
last_ok(const struct store_feed_state *st)
{
    if (st == NULL)
        return FEED_TIME_NONE;
    if (st->last_ok != FEED_TIME_NONE)
        return st->last_ok;
    if (st->errors == 0 && st->last_error == NULL &&
        st->last_poll != FEED_TIME_NONE)
        return st->last_poll;
    return FEED_TIME_NONE;
}

/* An interval as the config writes one: "1h30m", largest unit first
 * (config_duration_parse() reads it back to the same seconds). */
static int
put_duration(struct feed_buf *b, int64_t secs)
{
    static const struct {
        int64_t secs;
        char unit;
    } units[] = {{604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}, {1, 's'}};
    size_t i;

    if (secs <= 0)
        return feed_buf_puts(b, "0s");
    for (i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (secs < units[i].secs)
            continue;
        if (feed_buf_printf(b, "%" PRId64 "%c", secs / units[i].secs,
                            units[i].unit) != 0)
            return -1;
        secs %= units[i].secs;
    }
    return 0;
}

/* t as "YYYY-MM-DD HH:MM", UTC. */
static int
put_minute(struct feed_buf *b, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[32];

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(s, sizeof s, "%Y-%m-%d %H:%M", &tm) == 0)
        return feed_buf_puts(b, "?");
    return feed_buf_puts(b, s);
}

/* s with every control character (a newline in a server's message, say)
 * made a space, so that a feed stays one line. */
static int
put_text(struct feed_buf *b, const char *s)
{
    size_t start = b->len, i;

    if (feed_buf_puts(b, s) != 0)
        return -1;
    for (i = start; i < b->len; i++)
        if ((unsigned char)b->data[i] < 0x20 || b->data[i] == 0x7f)
            b->data[i] = ' ';
    return 0;
}

/* Cell col of feed f appended to b. 0, or non-zero when out of memory. */
static int
put_cell(struct feed_buf *b, const struct list_feed *f, int col, int64_t now)
{
    const struct config_feed *cf = f->cf;
    size_t i;

    switch (col) {
    case COL_NAME:
        return put_text(b, cf->name);
    case COL_URL:
        return put_text(b, cf->location);
    case COL_INTERVAL:
        return put_duration(b, cf->interval);
    case COL_TAGS:
        if (cf->ntags == 0)
            return feed_buf_puts(b, "-");
        for (i = 0; i < cf->ntags; i++)
            if ((i > 0 && feed_buf_puts(b, ",") != 0) ||
                put_text(b, cf->tags[i]) != 0)
                return -1;
        return 0;
    case COL_OK:
        if (f->last_ok == FEED_TIME_NONE)
            return feed_buf_puts(b, "never");
        return put_minute(b, f->last_ok);
    case COL_ERROR:
        if (f->st == NULL || f->st->last_error == NULL)
            return feed_buf_puts(b, "-");
        return put_text(b, f->st->last_error);
    case COL_NEXT:
        if (f->st == NULL || f->st->next_poll == FEED_TIME_NONE)
            return feed_buf_puts(b, "-");
        if (f->st->next_poll <= now)
            return feed_buf_puts(b, "due");
        return put_minute(b, f->st->next_poll);
    case COL_WHY:
        return feed_buf_puts(b, next_why(f->st) ? next_why(f->st) : "-");
    default:
        return feed_buf_printf(b, "%zu", f->entries);
    }
}

/* ---- the table -------------------------------------------------------- */

/* The characters of s on a terminal: its UTF-8 lead bytes. */
static size_t
text_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/* The table: a header and one line per feed, each column as wide as its
 * widest cell, two spaces apart; the entries right-aligned. */
static int
put_table(struct feed_buf *out, const struct list_feed *feeds, size_t n,
          int64_t now)
{
    struct feed_buf cells;
    size_t *at = NULL, width[NCOLS], i, w;
    const char *s;
    int col, rc = -1;

    feed_buf_init(&cells, 0);
    /* Every cell once, header included, NUL-terminated in cells. */
    if ((at = malloc((n + 1) * NCOLS * sizeof *at)) == NULL)
        goto out;
    for (col = 0; col < NCOLS; col++) {
        at[col] = cells.len;
        if (feed_buf_puts(&cells, col_head[col]) != 0 ||
            feed_buf_append(&cells, "", 1) != 0)
            goto out;
    }
    for (i = 0; i < n; i++)
        for (col = 0; col < NCOLS; col++) {
            at[(i + 1) * NCOLS + col] = cells.len;
            if (put_cell(&cells, &feeds[i], col, now) != 0 ||
                feed_buf_append(&cells, "", 1) != 0)
                goto out;
        }
    for (col = 0; col < NCOLS; col++) {
        width[col] = 0;
        for (i = 0; i <= n; i++) {
            w = text_width(cells.data + at[i * NCOLS + col]);
            width[col] = w > width[col] ? w : width[col];
        }
    }
    for (i = 0; i <= n; i++) {
        for (col = 0; col < NCOLS; col++) {
            s = cells.data + at[i * NCOLS + col];
            w = text_width(s);
            if (col == COL_ENTRIES) {
                if (feed_buf_printf(out, "%*s%s\n", (int)(width[col] - w), "",
                                    s) != 0)
                    goto out;
            } else if (feed_buf_printf(out, "%s%*s", s,
                                       (int)(width[col] - w + 2), "") != 0) {
                goto out;
            }
        }
    }
    rc = 0;
out:
    free(at);
    feed_buf_free(&cells);
    return rc;
}

/* ---- JSON ------------------------------------------------------------- */

/* ,"key":"RFC 3339 time" or null. */
static int
put_json_time(struct feed_buf *b, const char *key, int64_t t)
{
    char date[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return feed_buf_printf(b, ",\"%s\":null", key);
    return feed_buf_printf(b, ",\"%s\":\"%s\"", key, feed_date_format(t, date));
}

/* One object per feed, one per line, in an array. */
static int
put_json(struct feed_buf *out, const struct list_feed *feeds, size_t n)
{
    const struct store_feed_state *st;
    const struct config_feed *cf;
    size_t i, k;

    if (feed_buf_puts(out, n == 0 ? "[" : "[\n") != 0)
        return -1;
    for (i = 0; i < n; i++) {
        cf = feeds[i].cf;
        st = feeds[i].st;
        if (feed_buf_puts(out, "{\"name\":") != 0 ||
            feed_buf_json(out, cf->name) != 0 ||
            feed_buf_puts(out, ",\"url\":") != 0 ||
            feed_buf_json(out, cf->location) != 0 ||
            feed_buf_printf(out, ",\"interval\":%" PRId64 ",\"tags\":[",
                            cf->interval) != 0)
            return -1;
        for (k = 0; k < cf->ntags; k++)
            if ((k > 0 && feed_buf_puts(out, ",") != 0) ||
                feed_buf_json(out, cf->tags[k]) != 0)
                return -1;
        if (feed_buf_puts(out, "]") != 0 ||
            put_json_time(out, "last_ok", feeds[i].last_ok) != 0 ||
            put_json_time(out, "last_poll",
                          st ? st->last_poll : FEED_TIME_NONE) != 0 ||
            feed_buf_puts(out, ",\"last_error\":") != 0 ||
            feed_buf_json(out, st ? st->last_error : NULL) != 0 ||
            feed_buf_printf(out, ",\"errors\":%d", st ? st->errors : 0) != 0 ||
            put_json_time(out, "next_poll",
                          st ? st->next_poll : FEED_TIME_NONE) != 0 ||
            feed_buf_puts(out, ",\"next_why\":") != 0 ||
            feed_buf_json(out, next_why(st)) != 0 ||
            feed_buf_printf(out, ",\"entries\":%zu}%s\n", feeds[i].entries,
                            i + 1 < n ? "," : "") != 0)
            return -1;
    }
    return feed_buf_puts(out, "]\n");
}

/* ---- the command ------------------------------------------------------ */

enum { OPT_JSON = 256, OPT_HELP };

/* -c/--config FILE, --json, --help. 0 to go on, 1 when --help was
 * answered, or -1 with a one-line error printed. */
static int
list_args(int argc, char **argv, const char **config, int *json)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;

    *config = LIST_DEFAULT_CONFIG;
    *json = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *config = optarg;
            break;
        case OPT_JSON:
            *json = 1;
            break;
        case OPT_HELP:
            fputs(usage_list, stdout);
            return 1;
        case ':':
            fprintf(stderr, "feedd list: %s needs a file\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "feedd list: unknown option \"%s\"\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "feedd list: unexpected argument \"%s\"\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

int
cmd_list(int argc, char **argv)
{
    struct store_states *states = NULL;
    struct store_census *census = NULL;
    struct list_feed *feeds = NULL;
    struct config *cfg;
    struct feed_buf out;
    const char *path;
    char *errors = NULL, err[512];
    int json, rc, status = 1;
    int64_t now = (int64_t)time(NULL);
    size_t i;

    if ((rc = list_args(argc, argv, &path, &json)) != 0)
        return rc > 0 ? 0 : 2;
    feed_buf_init(&out, 0);
    if ((cfg = config_load(path, &errors)) == NULL) {
        fputs(errors ? errors : "feedd list: out of memory\n", stderr);
        free(errors);
        return 1;
    }
    if ((states = store_states_open(cfg->state_dir, err, sizeof err)) == NULL ||
        (census = store_census_open(cfg->state_dir, err, sizeof err)) == NULL) {
        fprintf(stderr, "feedd list: %s\n", err);
        goto out;
    }
    if ((feeds = calloc(cfg->nfeeds + 1, sizeof *feeds)) == NULL)
        goto nomem;
    for (i = 0; i < cfg->nfeeds; i++) {
        feeds[i].cf = &cfg->feeds[i];
        feeds[i].st = store_states_find(states, cfg->feeds[i].name);
        feeds[i].last_ok = last_ok(feeds[i].st);
        feeds[i].entries = store_census_count(census, cfg->feeds[i].name);
    }
    if ((json ? put_json(&out, feeds, cfg->nfeeds)
              : put_table(&out, feeds, cfg->nfeeds, now)) != 0)
        goto nomem;
    if (out.len > 0 && fwrite(out.data, 1, out.len, stdout) != out.len)
        goto out_err;
    if (fflush(stdout) != 0)
        goto out_err;
    status = 0;
    goto out;
out_err:
    fprintf(stderr, "feedd list: stdout: %s\n", strerror(errno));
    goto out;
nomem:
    fputs("feedd list: out of memory\n", stderr);
out:
    feed_buf_free(&out);
    free(feeds);
    store_census_close(census);
    store_states_close(states);
    config_free(cfg);
    return status;
}

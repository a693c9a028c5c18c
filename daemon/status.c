/* daemon/status.c - the status documents (status.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "feeds/date.h"
#include "status.h"

enum status_health
status_health(const struct status_feed *f)
{
    if (f->errors > 0)
        return STATUS_FAILING;
    return f->last_ok != FEED_TIME_NONE ? STATUS_OK : STATUS_PENDING;
}

static void
count(const struct status_feed *feeds, size_t n, size_t by[3])
{
    size_t i;

    by[0] = by[1] = by[2] = 0;
    for (i = 0; i < n; i++)
        by[status_health(&feeds[i])]++;
}

/* ---- Prometheus ---- */

/* A label value: '\\', '"' and newlines escaped, as the text format asks;
 * the bytes are otherwise UTF-8 as they are. */
static int
label(struct feed_buf *out, const char *v)
{
    const char *run = v;
    int rc;

    for (; *v; v++) {
        const char *esc = *v == '\\'   ? "\\\\"
                          : *v == '"'  ? "\\\""
                          : *v == '\n' ? "\\n"
                                       : NULL;

        if (esc == NULL)
            continue;
        if ((rc = feed_buf_append(out, run, (size_t)(v - run))) != 0 ||
            (rc = feed_buf_puts(out, esc)) != 0)
            return rc;
        run = v + 1;
    }
    return feed_buf_append(out, run, (size_t)(v - run));
}

static int
family(struct feed_buf *out, const char *name, const char *type,
       const char *help)
{
    return feed_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
                           name, type);
}

/* A sample of name for each feed whose value() is known (not
 * FEED_TIME_NONE). */
static int
per_feed(struct feed_buf *out, const struct status_feed *feeds, size_t n,
         const char *name, int64_t (*value)(const struct status_feed *))
{
    size_t i;
    int rc;

    for (i = 0; i < n; i++) {
        int64_t v = value(&feeds[i]);

        if (v == FEED_TIME_NONE)
            continue;
        if ((rc = feed_buf_printf(out, "%s{feed=\"", name)) != 0 ||
            (rc = label(out, feeds[i].name)) != 0 ||
            (rc = feed_buf_printf(out, "\"} %" PRId64 "\n", v)) != 0)
            return rc;
    }
    return 0;
}

static int64_t
v_last_ok(const struct status_feed *f)
{
    return f->last_ok;
}

static int64_t
v_errors(const struct status_feed *f)
{
    return f->errors;
}

static int64_t
v_status(const struct status_feed *f)
{
    return f->status ? f->status : FEED_TIME_NONE;
}

static int64_t
v_stored(const struct status_feed *f)
{
    return f->stored;
}

int
status_metrics(struct feed_buf *out, const struct status_totals *t,
               const struct status_feed *feeds, size_t n)
{
    uint64_t polls = t->polls_ok + t->polls_not_modified + t->polls_failed;
    size_t by[3];
    int rc;

    count(feeds, n, by);
    if ((rc = family(out, "feedd_feed_last_success_timestamp_seconds", "gauge",
                     "When the feed was last polled without error.")) != 0 ||
        (rc = per_feed(out, feeds, n,
                       "feedd_feed_last_success_timestamp_seconds",
                       v_last_ok)) != 0 ||
        (rc = family(out, "feedd_feed_consecutive_failures", "gauge",
                     "Polls of the feed that failed in a row.")) != 0 ||
        (rc = per_feed(out, feeds, n, "feedd_feed_consecutive_failures",
                       v_errors)) != 0 ||
        (rc = family(out, "feedd_feed_last_http_status", "gauge",
                     "The HTTP status of the feed's last poll.")) != 0 ||
        (rc = per_feed(out, feeds, n, "feedd_feed_last_http_status",
                       v_status)) != 0 ||
        (rc = family(out, "feedd_feed_entries_stored_total", "counter",
                     "New entries stored from the feed since the start.")) !=
            0 ||
        (rc = per_feed(out, feeds, n, "feedd_feed_entries_stored_total",
                       v_stored)) != 0)
        return rc;
    if ((rc = family(out, "feedd_feeds", "gauge",
                     "Feeds by the result of their last poll.")) != 0 ||
        (rc = feed_buf_printf(out,
                              "feedd_feeds{state=\"ok\"} %zu\n"
                              "feedd_feeds{state=\"failing\"} %zu\n"
                              "feedd_feeds{state=\"pending\"} %zu\n",
                              by[STATUS_OK], by[STATUS_FAILING],
                              by[STATUS_PENDING])) != 0 ||
        (rc = family(out, "feedd_polls_total", "counter",
                     "Polls since the start, by result.")) != 0 ||
        (rc = feed_buf_printf(
             out,
             "feedd_polls_total{result=\"ok\"} %" PRIu64 "\n"
             "feedd_polls_total{result=\"not_modified\"} "
             "%" PRIu64 "\n"
             "feedd_polls_total{result=\"error\"} %" PRIu64 "\n",
             t->polls_ok, t->polls_not_modified, t->polls_failed)) != 0 ||
        (rc = family(out, "feedd_polls_not_modified_ratio", "gauge",
                     "The share of polls since the start answered 304.")) !=
            0 ||
        (rc = feed_buf_printf(
             out, "feedd_polls_not_modified_ratio %.4f\n",
             polls ? (double)t->polls_not_modified / (double)polls : 0.0)) !=
            0 ||
        (rc = family(out, "feedd_store_entries", "gauge",
                     "Entries in the store.")) != 0 ||
        (rc = feed_buf_printf(out, "feedd_store_entries %zu\n", t->entries)) !=
            0 ||
        (rc = family(out, "feedd_store_bytes", "gauge",
                     "Bytes of the store's item segments.")) != 0 ||
        (rc = feed_buf_printf(out, "feedd_store_bytes %" PRIu64 "\n",
                              t->store_bytes)) != 0 ||
        (rc = family(out, "feedd_start_time_seconds", "gauge",
                     "When the daemon started.")) != 0)
        return rc;
    return feed_buf_printf(out, "feedd_start_time_seconds %" PRId64 "\n",
                           t->started);
}

/* ---- JSON ---- */

static int
json_time(struct feed_buf *out, const char *name, int64_t t)
{
    char date[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return feed_buf_printf(out, ",\"%s\":null", name);
    return feed_buf_printf(out, ",\"%s\":\"%s\"", name,
                           feed_date_format(t, date));
}

static const char *const health_names[] = {"pending", "ok", "failing"};

int
status_json(struct feed_buf *out, const struct status_totals *t,
            const struct status_feed *feeds, size_t n)
{
    size_t by[3], i;
    int rc;

    count(feeds, n, by);
    if ((rc = feed_buf_printf(
             out,
             "{\"feeds\":%zu,\"ok\":%zu,\"failing\":%zu,\"pending\":%zu,"
             "\"polls\":{\"ok\":%" PRIu64 ",\"not_modified\":%" PRIu64
             ",\"error\":%" PRIu64 "},\"entries\":%zu,\"store_bytes\":%" PRIu64,
             n, by[STATUS_OK], by[STATUS_FAILING], by[STATUS_PENDING],
             t->polls_ok, t->polls_not_modified, t->polls_failed, t->entries,
             t->store_bytes)) != 0 ||
        (rc = json_time(out, "started", t->started)) != 0 ||
        (rc = feed_buf_puts(out, ",\"feed_list\":[")) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        const struct status_feed *f = &feeds[i];

        if ((rc = feed_buf_puts(out, i ? ",\n{\"name\":" : "\n{\"name\":")) !=
                0 ||
            (rc = feed_buf_json(out, f->name)) != 0 ||
            (rc = feed_buf_puts(out, ",\"location\":")) != 0 ||
            (rc = feed_buf_json(out, f->location)) != 0 ||
            (rc = feed_buf_printf(out, ",\"health\":\"%s\"",
                                  health_names[status_health(f)])) != 0 ||
            (rc = json_time(out, "last_poll", f->last_poll)) != 0 ||
            (rc = json_time(out, "last_success", f->last_ok)) != 0 ||
            (rc = json_time(out, "next_poll", f->next_poll)) != 0 ||
            (rc = feed_buf_printf(out,
                                  ",\"failures\":%d,\"http_status\":%d,"
                                  "\"stored\":%" PRIu32 ",\"error\":",
                                  f->errors, f->status, f->stored)) != 0 ||
            (rc = feed_buf_json(out, f->error)) != 0 ||
            (rc = feed_buf_puts(out, "}")) != 0)
            return rc;
    }
    return feed_buf_puts(out, "]}\n");
}

int
status_healthz(struct feed_buf *out, size_t ok, size_t failing, size_t pending,
               int64_t now)
{
    char date[FEED_DATE_LEN + 1];

    return feed_buf_printf(out,
                           "{\"status\":\"ok\",\"feeds\":%zu,\"ok\":%zu,"
                           "\"failing\":%zu,\"pending\":%zu,\"updated\":"
                           "\"%s\"}\n",
                           ok + failing + pending, ok, failing, pending,
                           feed_date_format(now, date));
}

/* ---- HTML ---- */

static int
html_time(struct feed_buf *out, int64_t t)
{
    char date[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return feed_buf_puts(out, "<td>never</td>");
    feed_date_format(t, date);
    date[10] = ' ';
    date[16] = '\0';
    return feed_buf_printf(out, "<td>%s</td>", date);
}

int
status_html(struct feed_buf *out, const char *title,
            const struct status_totals *t, const struct status_feed *feeds,
            size_t n)
{
    size_t by[3], i;
    int rc;

    count(feeds, n, by);
    if ((rc = feed_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>"
                                 "<meta charset=\"utf-8\">\n<meta name=\""
                                 "viewport\" content=\"width=device-width, "
                                 "initial-scale=1\">\n<title>Status: ")) != 0 ||
        (rc = feed_buf_xml(out, title ? title : "feedd")) != 0 ||
        (rc = feed_buf_puts(
             out, "</title>\n<style>body{font:15px/1.4 system-ui,sans-serif;"
                  "margin:1rem}table{border-collapse:collapse;width:100%}"
                  "td,th{border-bottom:1px solid #ccc;padding:.3rem .5rem;"
                  "text-align:left;vertical-align:top}.failing{color:#b00}"
                  ".wrap{overflow-x:auto}</style>\n</"
                  "head>\n<body>\n<h1>Status: ")) != 0 ||
        (rc = feed_buf_xml(out, title ? title : "feedd")) != 0 ||
        (rc = feed_buf_printf(
             out,
             "</h1>\n<p>%zu feeds: %zu ok, %zu failing, %zu "
             "not yet polled. Polls since the start: %" PRIu64 " ok, %" PRIu64
             " not modified, %" PRIu64 " failed. %zu entries stored. <a href=\""
             "status.json\">JSON</a> · <a href=\"metrics\">"
             "metrics</a></p>\n<div class=\"wrap\"><table>\n"
             "<tr><th>Feed</th><th>Health</th><th>Last "
             "success (UTC)</th><th>Failures</th><th>HTTP"
             "</th><th>Next poll (UTC)</th><th>Last error"
             "</th></tr>\n",
             n, by[STATUS_OK], by[STATUS_FAILING], by[STATUS_PENDING],
             t->polls_ok, t->polls_not_modified, t->polls_failed,
             t->entries)) != 0)
        return rc;
    for (i = 0; i < n; i++) {
        const struct status_feed *f = &feeds[i];
        enum status_health h = status_health(f);

        if ((rc = feed_buf_printf(out, "<tr class=\"%s\"><td title=\"",
                                  health_names[h])) != 0 ||
            (rc = feed_buf_xml(out, f->location)) != 0 ||
            (rc = feed_buf_puts(out, "\">")) != 0 ||
            (rc = feed_buf_xml(out, f->name)) != 0 ||
            (rc = feed_buf_printf(out, "</td><td>%s</td>", health_names[h])) !=
                0 ||
            (rc = html_time(out, f->last_ok)) != 0 ||
            (rc = feed_buf_printf(out, "<td>%d</td><td>", f->errors)) != 0 ||
            (f->status && (rc = feed_buf_printf(out, "%d", f->status)) != 0) ||
            (rc = feed_buf_puts(out, "</td>")) != 0 ||
            (rc = html_time(out, f->next_poll)) != 0 ||
            (rc = feed_buf_puts(out, "<td>")) != 0 ||
            (rc = feed_buf_xml(out, f->error)) != 0 ||
            (rc = feed_buf_puts(out, "</td></tr>\n")) != 0)
            return rc;
    }
    return feed_buf_puts(out, "</table></div>\n</body>\n</html>\n");
}

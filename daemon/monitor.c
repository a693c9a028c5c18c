/* daemon/monitor.c - /healthz, /metrics, /status and /status.json (see
 * monitor.h). */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/date.h"
#include "log.h"
#include "monitor.h"
#include "status.h"

struct monitor {
    uv_timer_t timer; /* /healthz */
    struct store *store;
    const struct config *cfg;
    struct poller *poller;
    struct httpd *httpd;
    int64_t started;
    int closed;
};

/* The documents made at request time, and their types. */
static const struct {
    const char *path, *type;
} monitor_paths[] = {
    {"/metrics", "text/plain; version=0.0.4; charset=utf-8"},
    {"/status", "text/html; charset=utf-8"},
    {"/status.json", "application/json"},
};

/* /healthz: the feeds by the health of their last poll. */
static void
on_health_timer(uv_timer_t *t)
{
    struct monitor *m = t->data;
    size_t i, by[3] = {0, 0, 0};
    struct feed_buf b;
    int64_t now = (int64_t)time(NULL);

    if (m->httpd == NULL || m->cfg == NULL)
        return;
    for (i = 0; i < m->cfg->nfeeds; i++) {
        const struct store_feed_state *st =
            store_feed_state_get(m->store, m->cfg->feeds[i].name);
        struct status_feed f;

        memset(&f, 0, sizeof(f));
        f.errors = st ? st->errors : 0;
        f.last_ok = st ? st->last_ok : FEED_TIME_NONE;
        by[status_health(&f)]++;
    }
    feed_buf_init(&b, 0);
    if (status_healthz(&b, by[STATUS_OK], by[STATUS_FAILING],
                       by[STATUS_PENDING], now) != 0 ||
        httpd_set(m->httpd, "/healthz", "application/json", b.data, b.len,
                  now) != 0)
        log_warnx("/healthz: out of memory");
    feed_buf_free(&b);
}

/* The feeds gathered for one render: what the poller knows of each, with
 * the store's state of it. */
struct gather {
    const struct store *store;
    struct status_feed *feeds;
    size_t n, cap;
    int nomem;
};

static void
gather_one(const struct poller_feed_info *info, void *arg)
{
    struct gather *g = arg;
    const struct store_feed_state *st;
    struct status_feed *f;

    if (g->nomem)
        return;
    if (g->n == g->cap) {
        size_t cap = g->cap ? g->cap * 2 : 64;
        struct status_feed *more = realloc(g->feeds, cap * sizeof(*more));

        if (more == NULL) {
            g->nomem = 1;
            return;
        }
        g->feeds = more;
        g->cap = cap;
    }
    f = &g->feeds[g->n++];
    st = store_feed_state_get(g->store, info->name);
    f->name = info->name;
    f->location = info->location;
    f->status = info->status;
    f->stored = info->stored;
    f->last_poll = st ? st->last_poll : FEED_TIME_NONE;
    f->last_ok = st ? st->last_ok : FEED_TIME_NONE;
    f->next_poll = st ? st->next_poll : FEED_TIME_NONE;
    f->errors = st ? st->errors : 0;
    f->error = st ? st->last_error : NULL;
}

/* Renders /metrics, /status or /status.json into out: on the loop, from
 * what the poller and the store hold now. */
static int
monitor_render(void *arg, const char *path, struct feed_buf *out)
{
    struct monitor *m = arg;
    struct gather g = {m->store, NULL, 0, 0, 0};
    struct status_totals t;
    struct poller_counts c;
    uint64_t t0 = uv_hrtime();
    int rc;

    if (m->closed || m->poller == NULL)
        return -1;
    poller_each(m->poller, gather_one, &g);
    if (g.nomem) {
        free(g.feeds);
        log_warnx("%s: out of memory", path);
        return -1;
    }
    poller_counts(m->poller, &c);
    memset(&t, 0, sizeof(t));
    t.polls_ok = c.ok;
    t.polls_not_modified = c.not_modified;
    t.polls_failed = c.failed;
    t.entries = store_count(m->store);
    (void)store_waste(m->store, &t.store_bytes);
    t.started = m->started;
    t.now = (int64_t)time(NULL);
    if (strcmp(path, "/metrics") == 0)
        rc = status_metrics(out, &t, g.feeds, g.n);
    else if (strcmp(path, "/status.json") == 0)
        rc = status_json(out, &t, g.feeds, g.n);
    else
        rc = status_html(out, m->cfg->title, &t, g.feeds, g.n);
    free(g.feeds);
    if (rc != 0)
        log_warnx("%s: out of memory", path);
    else
        log_debug("%s: %zu feeds, %zu bytes, made in %.1f ms", path, g.n,
                  out->len, (double)(uv_hrtime() - t0) / 1e6);
    return rc;
}

struct monitor *
monitor_new(uv_loop_t *loop, struct store *s, int64_t started)
{
    struct monitor *m = calloc(1, sizeof(*m));
    int rc;

    if (m == NULL) {
        log_warnx("monitor: out of memory");
        return NULL;
    }
    if ((rc = uv_timer_init(loop, &m->timer)) != 0) {
        log_warnx("cannot make the /healthz timer: %s", uv_strerror(rc));
        free(m);
        return NULL;
    }
    m->timer.data = m;
    m->store = s;
    m->started = started;
    return m;
}

int
monitor_serve(struct monitor *m, const struct config *cfg, struct poller *p,
              struct httpd *h)
{
    size_t i;
    int rc;

    m->cfg = cfg;
    m->poller = p;
    m->httpd = h;
    if (h == NULL)
        return 0;
    for (i = 0; i < sizeof(monitor_paths) / sizeof(monitor_paths[0]); i++) {
        if (httpd_set_dynamic(h, monitor_paths[i].path, monitor_paths[i].type,
                              monitor_render, m) != 0) {
            log_warnx("%s: out of memory", monitor_paths[i].path);
            return -1;
        }
    }
    if ((rc = uv_timer_start(&m->timer, on_health_timer, 0,
                             MONITOR_HEALTH_MS)) != 0) {
        log_warnx("cannot arm the /healthz timer: %s", uv_strerror(rc));
        return -1;
    }
    return 0;
}

static void
on_closed(uv_handle_t *h)
{
    free(h->data);
}

void
monitor_close(struct monitor *m)
{
    m->closed = 1;
    m->poller = NULL;
    m->httpd = NULL;
    (void)uv_timer_stop(&m->timer);
    uv_close((uv_handle_t *)&m->timer, on_closed);
}

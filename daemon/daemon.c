/* daemon/daemon.c - `feedd run`, `feedd poll --once` and `feedd check`:
 * the loop that ties config, fetcher, parser, store, writers and the HTTP
 * server together.
 *
 * One libuv timer per feed says when it is due. A due feed's response goes
 * chunk by chunk from curl into its own parser; each entry gets its stable
 * ID and, when new, joins the store's pending batch. When the response
 * ends, the batch is committed (one fsync), the feed's state is saved, and
 * the merged outputs are rewritten shortly after. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <uv.h>

#include "cmd.h"
#include "daemon.h"
#include "fetch.h"
#include "httpd.h"
#include "log.h"

#define DEFAULT_CONFIG "/etc/feedd/feedd.conf"
/* The longest back-off: poll.c's too. */
#define MAX_BACKOFF ((int64_t)24 * 3600)

int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

char *
path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- retention ---- */

#define COMPACT_EVERY_MS (24u * 3600 * 1000)
/* Outside the daily run, a rewrite is worth it only when a quarter of
 * the log, and at least 1 MiB, holds nothing live (old versions of
 * edited entries). */
#define COMPACT_WASTE_MIN (1u << 20)

static int
worth_compacting(const struct store *s)
{
    uint64_t total, waste = store_waste(s, &total);

    return waste >= COMPACT_WASTE_MIN && waste * 4 >= total;
}

void
daemon_compact(struct daemon *d)
{
    size_t before = store_count(d->store);
    char *warnings;
    int rc;

    rc = store_compact(d->store, now_s(), d->cfg->keep, d->cfg->keep_items);
    if ((warnings = store_warnings(d->store)) != NULL) {
        for (char *line = strtok(warnings, "\n"); line;
             line = strtok(NULL, "\n"))
            log_warnx("store: %s", line);
        free(warnings);
    }
    if (rc != 0) {
        log_warnx("store: retention failed, nothing dropped: %s",
                  store_error(d->store));
        return;
    }
    if (store_count(d->store) != before)
        log_info("store: retention dropped %zu entries, %zu kept",
                 before - store_count(d->store), store_count(d->store));
}

static void
on_compact_timer(uv_timer_t *t)
{
    struct daemon *d = t->data;

    daemon_compact(d);
    if (store_count(d->store) > 0)
        publish_soon(d);
}

/* ---- start and stop ---- */

static void
on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (signum == SIGHUP) {
        log_warnx("SIGHUP: reloading the config is not supported yet; "
                  "restart feedd to apply changes");
        return;
    }
    log_info("%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    daemon_stop(d);
}

static void
close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* Ends the daemon cleanly: transfers cancelled, what was parsed
 * committed, state saved, outputs written, every handle closed. The loop
 * then runs dry and cmd_run() returns. */
void
daemon_stop(struct daemon *d)
{
    size_t i;
    int rc;

    if (d->stopping)
        return;
    d->stopping = 1;
    for (i = 0; i < d->nfeeds; i++)
        if (d->feeds[i].d)
            uv_timer_stop(&d->feeds[i].timer);
    /* Cancelled polls store what they parsed, as finished ones do. */
    if (d->fetcher) {
        fetcher_close(d->fetcher, NULL, NULL);
        d->fetcher = NULL;
    }
    for (i = 0; i < d->nfeeds; i++)
        if (d->feeds[i].d)
            feed_rt_close(&d->feeds[i]);
    if (store_commit(d->store) != 0)
        log_warnx("store: %s", store_error(d->store));
    if ((rc = store_feed_state_save(d->store)) != 0) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    uv_timer_stop(&d->publish_timer);
    uv_timer_stop(&d->compact_timer);
    close_handle((uv_handle_t *)&d->compact_timer);
    if (publish(d) != 0)
        d->exit_code = 1;
    close_handle((uv_handle_t *)&d->publish_timer);
    for (i = 0; i < 3; i++)
        close_handle((uv_handle_t *)&d->sig[i]);
    if (d->httpd) {
        httpd_close(d->httpd, NULL, NULL);
        d->httpd = NULL;
    }
}

static struct config *
load_config(const char *path)
{
    struct config *cfg;
    char *errors = NULL;

    cfg = config_load(path, &errors);
    if (cfg == NULL) {
        fputs(errors ? errors : "feedd: out of memory\n", stderr);
        free(errors);
    }
    return cfg;
}

/* -c FILE, and --once for poll; anything else is an error. */
static int
parse_args(int argc, char **argv, const char **config, int *once)
{
    int i;

    *config = DEFAULT_CONFIG;
    for (i = 0; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) &&
            i + 1 < argc)
            *config = argv[++i];
        else if (strcmp(argv[i], "--once") == 0 && once)
            *once = 1;
        else {
            fprintf(stderr, "feedd: unexpected argument \"%s\"\n", argv[i]);
            return -1;
        }
    }
    return 0;
}

int
cmd_check(int argc, char **argv)
{
    struct config *cfg;
    const char *path;

    if (parse_args(argc, argv, &path, NULL) != 0)
        return 2;
    if ((cfg = load_config(path)) == NULL)
        return 1;
    printf("%s: configuration OK, %zu feed%s\n", path, cfg->nfeeds,
           cfg->nfeeds == 1 ? "" : "s");
    config_free(cfg);
    return 0;
}

/* The first poll of each feed: when the last run set a next poll still in
 * the future, then (a restart is no reason to poll early); otherwise
 * soon, staggered so a long list does not start all at once. */
static uint64_t
first_delay(struct daemon *d, size_t i)
{
    const struct store_feed_state *st =
        store_feed_state_get(d->store, d->feeds[i].cf->name);
    int64_t now = now_s();

    if (st && st->next_poll != FEED_TIME_NONE && st->next_poll > now) {
        int64_t wait = st->next_poll - now;
        /* A failing feed keeps its back-off across restarts: a restart
         * loop must not hammer the servers back-off protects. */
        int64_t cap = st->errors > 0 ? MAX_BACKOFF : d->feeds[i].cf->interval;

        if (wait > cap)
            wait = cap;
        return (uint64_t)wait * 1000;
    }
    return (uint64_t)(i % 64) * 100;
}

int
cmd_run(int argc, char **argv, int once)
{
    struct daemon d;
    const char *path;
    char err[256], *warnings;
    static const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    size_t i;
    int rc;

    memset(&d, 0, sizeof(d));
    d.once = once;
    if (parse_args(argc, argv, &path, &once) != 0)
        return 2;
    d.once = once;
    if ((d.cfg = load_config(path)) == NULL)
        return 1;
    srand((unsigned)time(NULL) ^ (unsigned)uv_os_getpid());
    d.store = store_open(d.cfg->state_dir, err, sizeof(err));
    if (d.store == NULL) {
        log_warnx("store %s: %s", d.cfg->state_dir, err);
        config_free(d.cfg);
        return 1;
    }
    if ((warnings = store_warnings(d.store)) != NULL) {
        for (char *line = strtok(warnings, "\n"); line;
             line = strtok(NULL, "\n"))
            log_warnx("store: %s", line);
        free(warnings);
    }
    d.public_dir = path_join(d.cfg->state_dir, "public");
    if (d.public_dir)
        publish_load(&d);
    uv_loop_init(&d.loop);
    uv_timer_init(&d.loop, &d.publish_timer);
    d.publish_timer.data = &d;
    uv_timer_init(&d.loop, &d.compact_timer);
    d.compact_timer.data = &d;
    /* Retention runs daily; at start (and so for a poll --once from
     * cron) only when old versions fill a quarter of the log. */
    if (worth_compacting(d.store))
        daemon_compact(&d);
    if (!once)
        uv_timer_start(&d.compact_timer, on_compact_timer, COMPACT_EVERY_MS,
                       COMPACT_EVERY_MS);
    for (i = 0; i < 3; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        /* SIGHUP is caught so that it does not kill the daemon. */
        uv_signal_start(&d.sig[i], on_signal, signums[i]);
    }
    d.fetcher = fetcher_new(&d.loop, d.cfg->parallel, d.cfg->per_host, err,
                            sizeof(err));
    d.nfeeds = d.cfg->nfeeds;
    d.feeds = calloc(d.nfeeds ? d.nfeeds : 1, sizeof(*d.feeds));
    if (d.fetcher == NULL || d.feeds == NULL || d.public_dir == NULL) {
        log_warnx("%s", d.fetcher == NULL ? err : "out of memory");
        if (d.feeds == NULL)
            d.nfeeds = 0;
        d.exit_code = 1;
        daemon_stop(&d);
        goto run;
    }
    if (!once) {
        d.httpd = httpd_new(&d.loop, d.cfg->listen_host, d.cfg->listen_port,
                            err, sizeof(err));
        if (d.httpd == NULL) {
            log_warnx("%s", err);
            d.exit_code = 1;
            daemon_stop(&d);
            goto run;
        }
        log_info("serving http://%s%s%s:%d/feed.atom, %zu feeds",
                 strchr(d.cfg->listen_host, ':') ? "[" : "",
                 d.cfg->listen_host,
                 strchr(d.cfg->listen_host, ':') ? "]" : "",
                 d.cfg->listen_port, d.nfeeds);
        /* Readers get what is stored at once, before any poll. */
        (void)publish(&d);
    }
    for (i = 0; i < d.nfeeds; i++) {
        struct feed_rt *fr = &d.feeds[i];

        if (feed_rt_init(fr, &d, &d.cfg->feeds[i]) != 0) {
            d.exit_code = 1;
            daemon_stop(&d);
            goto run;
        }
        if (once)
            poll_feed(fr);
        else
            poll_first(fr, first_delay(&d, i));
    }
    if (once && fetcher_active(d.fetcher) == 0)
        daemon_stop(&d);
run:
    uv_run(&d.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&d.loop);
    if (rc != 0)
        log_warnx("internal: the loop did not close clean: %s",
                  uv_strerror(rc));
    store_close(d.store);
    free(d.feeds);
    free(d.public_dir);
    feed_buf_free(&d.published);
    config_free(d.cfg);
    curl_global_cleanup();
    return d.exit_code;
}

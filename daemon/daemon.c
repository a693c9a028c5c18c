/* daemon/daemon.c - `feedd run`, `feedd poll --once` and `feedd check`:
 * the command line, the config, the loop and its signals, retention, and
 * the wiring of the rest.
 *
 * The daemon owns the loop, the store, the HTTP server, a poller
 * (poller.h: when each feed is polled, and each poll, down to the store)
 * and a publisher (publisher.h: the merged outputs). The poller reports
 * each finished poll through a callback set here; the daemon then asks
 * the publisher to publish. Neither calls the daemon or the other.
 *
 * `feedd run` reloads its config on SIGHUP and when the file changes
 * (a watch on its folder, so that a file replaced by a rename is seen):
 * the new config replaces the old in the poller, the publisher and the
 * server, or is refused whole and the old one stays in force. */
#include <errno.h>
#include <inttypes.h>
#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "cmd.h"
#include "config.h"
#include "httpd.h"
#include "fetch.h"
#include "log.h"
#include "monitor.h"
#include "notify.h"
#include "poller.h"
#include "publisher.h"
#include "store.h"
#include "websub.h"

#define DEFAULT_CONFIG "/etc/feedd/feedd.conf"

struct daemon {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct poller *poller;
    struct publisher *pub;
    struct httpd *httpd;
    struct monitor *mon; /* /healthz, /metrics, /status */
    struct websub *ws;   /* WebSub, when public_url is set */
    uv_signal_t sig[3];
    uv_timer_t compact_timer; /* retention, once a day */
    uv_fs_event_t conf_watch; /* the config's folder */
    uv_timer_t reload_timer;  /* a burst of changes to it, then a reload */
    int once;
    int stopping;
    int exit_code;
    size_t unstored;      /* feeds whose entries could not all be stored */
    size_t damaged;       /* store_damaged() when last looked at */
    int lost_at_stop;     /* the last commit, at the stop, failed */
    uint64_t status_ms;   /* uv_now() when STATUS= was last sent */
    int socket_activated; /* the server is on the socket systemd passed */
    uint64_t round_ns;    /* poll --once: uv_hrtime() when polls began */
    size_t round_fresh;   /* and the new entries they stored */
};

static void daemon_stop(struct daemon *d);
static void daemon_reload(struct daemon *d, const char *why);
static void on_reload_timer(uv_timer_t *t);
static void close_handle(void *handle);

/* ---- retention ---- */

#define COMPACT_EVERY_MS ((uint64_t)24 * 3600 * 1000)
/* Outside the daily run, a rewrite is worth it only when a quarter of
 * the log, and at least 1 MiB, holds nothing live (old versions of
 * edited entries). */
#define COMPACT_WASTE_MIN (1u << 20)

static void
log_store_warnings(struct store *s)
{
    char *warnings = store_warnings(s);

    if (warnings == NULL)
        return;
    for (char *line = strtok(warnings, "\n"); line; line = strtok(NULL, "\n"))
        log_warnx("store: %s", line);
    free(warnings);
}

/* After the store was used (opened, polled into, published from): its
 * warnings to the log. When it has found damaged records since the last
 * look, their entries are no longer stored, and a feed that answers 304
 * would never bring them back: every feed's validators are dropped (and
 * saved), so that each is fetched whole at its next poll. Which feed a
 * damaged record came from cannot be read from it. */
static void
after_store(struct daemon *d)
{
    const struct store_feed_state *st;
    struct store_feed_state fresh;
    size_t i, n = store_damaged(d->store);
    int rc;

    log_store_warnings(d->store);
    if (n == d->damaged)
        return;
    d->damaged = n;
    for (i = 0; i < d->cfg->nfeeds; i++) {
        const char *name = d->cfg->feeds[i].name;

        st = store_feed_state_get(d->store, name);
        if (st == NULL || (st->etag == NULL && st->last_modified == NULL))
            continue;
        fresh = *st;
        fresh.etag = NULL;
        fresh.last_modified = NULL;
        if (store_feed_state_set(d->store, name, &fresh) != 0)
            log_warnx("%s: out of memory", name);
    }
    /* Synced at once, unlike a poll's lines: old validators back after a
     * power failure would keep the damaged entries out for good (304). */
    if ((rc = store_feed_state_save(d->store)) != 0 ||
        (rc = store_feed_state_sync(d->store, 0)) != 0) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    log_warnx("store: damaged records found: every feed is fetched whole at "
              "its next poll, so that their entries are stored again");
}

static int
worth_compacting(struct store *s)
{
    uint64_t total, waste = store_waste(s, &total);

    return waste >= COMPACT_WASTE_MIN && waste * 4 >= total;
}

/* Applies keep and keep_items, and drops the old versions of updated
 * entries; logs what it did or why it could not. */
static void
daemon_compact(struct daemon *d)
{
    size_t before = store_count(d->store);
    int rc;

    rc = store_compact(d->store, (int64_t)time(NULL), d->cfg->keep,
                       d->cfg->keep_items);
    log_store_warnings(d->store);
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

    /* Not while a commit waits for the disk: in a second, then daily. */
    if (store_in_flight(d->store)) {
        (void)uv_timer_start(t, on_compact_timer, 1000, COMPACT_EVERY_MS);
        return;
    }
    daemon_compact(d);
    if (store_count(d->store) > 0 && d->pub)
        publisher_soon(d->pub);
}

/* ---- what systemd is told ---- */

/* n with a comma between groups of three digits: "1,234". */
static void
thousands(char *buf, size_t len, size_t n)
{
    char digits[32];
    size_t i, j = 0, nd = (size_t)snprintf(digits, sizeof(digits), "%zu", n);

    for (i = 0; i < nd && j + 2 < len; i++) {
        if (i > 0 && (nd - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = '\0';
}

/* STATUS= "polling 1,234 feeds, 3 failing": a feed fails when its last
 * poll failed (its state counts errors). Counting takes a look-up per
 * feed, so it is done at most once a second while polls end in a burst,
 * and always when the last poll under way ends (active == 0). */
static void
report_status(struct daemon *d, size_t active)
{
    const struct store_feed_state *st;
    char feeds[32], failing[32];
    size_t i, nfail = 0;
    uint64_t now = uv_now(&d->loop);

    if (d->once || d->stopping)
        return;
    if (active > 0 && d->status_ms != 0 && now - d->status_ms < 1000)
        return;
    d->status_ms = now;
    for (i = 0; i < d->cfg->nfeeds; i++) {
        st = store_feed_state_get(d->store, d->cfg->feeds[i].name);
        if (st != NULL && st->errors > 0)
            nfail++;
    }
    thousands(feeds, sizeof(feeds), d->cfg->nfeeds);
    thousands(failing, sizeof(failing), nfail);
    notify_status("polling %s feed%s, %s failing", feeds,
                  d->cfg->nfeeds == 1 ? "" : "s", failing);
}

/* The daemon is up: READY=1, the first status, the watchdog's pings. */
static void
report_ready(struct daemon *d)
{
    if (d->once)
        return;
    (void)notify_watchdog_start(&d->loop);
    notify_ready();
    report_status(d, 0);
}

/* ---- what the poller reports ---- */

/* poll --once: one line for the whole round, from the first poll's
 * start to the last one's commit. */
static void
log_round(struct daemon *d)
{
    struct poller_counts c;

    poller_counts(d->poller, &c);
    log_info("poll: %zu feeds in %.3f s: %" PRIu64 " fetched, %" PRIu64
             " not modified, %" PRIu64 " failed; %zu new entries",
             d->cfg->nfeeds, (double)(uv_hrtime() - d->round_ns) / 1e9, c.ok,
             c.not_modified, c.failed, d->round_fresh);
}

/* Feed name moved for good to url (three polls in a row): its line in
 * the config file says so from now on (comments and all else kept), and
 * the config is read again. A failure leaves the file as it was. */
static void
feed_moved(struct daemon *d, const char *name, const char *url)
{
    struct config_edit *ed;
    char err[512];

    if ((ed = config_edit_open(d->cfg->path, err, sizeof(err))) == NULL ||
        config_edit_set_location(ed, name, url, err, sizeof(err)) != 0 ||
        config_edit_commit(ed, err, sizeof(err)) != 0) {
        log_warnx("%s: moved permanently to %s, but %s cannot say so: %s", name,
                  url, d->cfg->path, err);
    } else {
        log_info("%s: moved permanently to %s (3 polls in a row): %s says "
                 "so now",
                 name, url, d->cfg->path);
        /* Read again from the loop, not inside the poller's report (the
         * watch on the file would too, when it works). */
        if (uv_timer_start(&d->reload_timer, on_reload_timer, 0, 0) != 0)
            log_warnx("reload: cannot arm its timer");
    }
    config_edit_free(ed);
}

static void
on_polled(const struct poller_report *r, void *arg)
{
    struct daemon *d = arg;

    /* What the store found while reading back (a damaged record, which
     * the poll then stored again) reaches the log now, not at the next
     * start. */
    after_store(d);
    if (r->unstored)
        d->unstored++;
    if (r->moved_to != NULL && !d->once)
        feed_moved(d, r->feed, r->moved_to);
    if (r->hub != NULL && d->ws != NULL)
        websub_seen(d->ws, r->feed, r->hub, r->self);
    else if (r->whole && d->ws != NULL)
        websub_unseen(d->ws, r->feed);
    d->round_fresh += r->fresh;
    if (r->fresh + r->changed > 0 && !d->once && d->pub)
        publisher_soon(d->pub);
    if (d->once && r->active == 0) {
        log_round(d);
        daemon_stop(d);
    }
    report_status(d, r->active);
}

static void
on_published(void *arg)
{
    struct daemon *d = arg;

    after_store(d);
}

/* ---- start and stop ---- */

static void
on_signal(uv_signal_t *h, int signum)
{
    struct daemon *d = h->data;

    if (signum == SIGHUP) {
        if (d->once)
            log_info("SIGHUP: ignored by poll --once");
        else
            daemon_reload(d, "SIGHUP");
        return;
    }
    log_info("%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
    daemon_stop(d);
}

/* Closes h when it was initialised (its data set) and is not closing. */
static void
close_handle(void *handle)
{
    uv_handle_t *h = handle;

    if (h->data != NULL && !uv_is_closing(h))
        uv_close(h, NULL);
}

/* Ends the daemon cleanly: transfers cancelled, what was parsed
 * committed, state saved, outputs written, every handle closed. The loop
 * then runs dry and cmd_run() returns. */
static void
daemon_stop(struct daemon *d)
{
    size_t i;
    int rc, logged = 0;

    if (d->stopping)
        return;
    d->stopping = 1;
    if (!d->once)
        notify_stopping();
    notify_watchdog_stop();
    /* Cancelled polls store what they parsed, as finished ones do. */
    if (d->ws) {
        websub_close(d->ws);
        d->ws = NULL;
    }
    if (d->poller) {
        logged = poller_save_rc(d->poller);
        poller_close(d->poller);
        d->poller = NULL;
    }
    if (store_commit(d->store) != 0) {
        log_warnx("store: %s", store_error(d->store));
        d->lost_at_stop = 1;
    }
    /* A failure the poller logged already is not logged again. The
     * saves wrote their lines without a sync; at the stop, what is more
     * than times is synced. When `run` stops the times are synced too. A
     * poll --once leaves them unsynced: every lost line costs `run` one
     * earlier conditional poll, and the next poll --once polls every
     * feed whatever they say, so a sync of them at the end of every cron
     * run would buy nothing. */
    if (((rc = store_feed_state_save(d->store)) != 0 ||
         (rc = store_feed_state_sync(d->store, !d->once)) != 0) &&
        rc != logged) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    if (d->compact_timer.data != NULL)
        (void)uv_timer_stop(&d->compact_timer);
    close_handle(&d->compact_timer);
    if (d->mon) {
        monitor_close(d->mon);
        d->mon = NULL;
    }
    if (d->once && d->exit_code == 0 && !d->lost_at_stop &&
        store_loaded(d->store) && worth_compacting(d->store))
        daemon_compact(d);
    if (d->pub) {
        if (publisher_publish(d->pub) != 0)
            d->exit_code = 1;
        publisher_close(d->pub);
        d->pub = NULL;
    }
    /* A poll --once whose entries were not all stored failed, whatever
     * else went well: the last line says so, and the exit status. */
    if (d->once && d->unstored > 0) {
        d->exit_code = 1;
        log_warnx("poll: the entries of %zu of %zu feed%s could not all be "
                  "stored",
                  d->unstored, d->cfg->nfeeds, d->cfg->nfeeds == 1 ? "" : "s");
    } else if (d->once && d->lost_at_stop) {
        d->exit_code = 1;
        log_warnx("poll: entries could not be stored");
    }
    for (i = 0; i < 3; i++)
        close_handle(&d->sig[i]);
    close_handle(&d->conf_watch);
    close_handle(&d->reload_timer);
    if (d->httpd) {
        httpd_close(d->httpd, NULL, NULL);
        d->httpd = NULL;
    }
}

/* ---- reload ---- */

/* A burst of changes to the config file (an editor's write, rename and
 * chmod) is one reload, this long after the last. */
#define RELOAD_DEBOUNCE_MS 200

/* Serves on cfg's listen address (and TLS files) instead of the one in
 * force: a new server, then the old closed. When the new address cannot be
 * bound or the files not used, logs why and keeps the old server, and cfg
 * is set back to its address and files (what is in force, so that the
 * feed's own URL stays right and the next reload tries again). */
/* cfg's TLS files as the server takes them, in *buf: NULL for none. */
static const struct httpd_tls *
tls_of(const struct config *cfg, struct httpd_tls *buf)
{
    if (cfg->tls_cert == NULL || cfg->tls_key == NULL)
        return NULL;
    buf->cert_file = cfg->tls_cert;
    buf->key_file = cfg->tls_key;
    return buf;
}

/* Whether a and b serve with other TLS files (or one of them without). */
static int
tls_differs(const struct config *a, const struct config *b)
{
    return (a->tls_cert == NULL) != (b->tls_cert == NULL) ||
           (a->tls_key == NULL) != (b->tls_key == NULL) ||
           (a->tls_cert != NULL && strcmp(a->tls_cert, b->tls_cert) != 0) ||
           (a->tls_key != NULL && strcmp(a->tls_key, b->tls_key) != 0);
}

/* cfg's TLS files set back to those in force (in old), when they can. */
static void
keep_tls(struct config *cfg, const struct config *old)
{
    char *cert = old->tls_cert ? strdup(old->tls_cert) : NULL;
    char *key = old->tls_key ? strdup(old->tls_key) : NULL;

    if ((old->tls_cert != NULL && cert == NULL) ||
        (old->tls_key != NULL && key == NULL)) {
        free(cert);
        free(key);
        return;
    }
    free(cfg->tls_cert);
    free(cfg->tls_key);
    cfg->tls_cert = cert;
    cfg->tls_key = key;
}

static void
rebind(struct daemon *d, struct config *cfg)
{
    struct httpd *h;
    struct httpd_tls tls, old_tls;
    char err[256], *host;

    h = httpd_new_tls(&d->loop, cfg->listen_host, cfg->listen_port, -1,
                      tls_of(cfg, &tls), err, sizeof(err));
    if (h == NULL && cfg->listen_port != 0 &&
        cfg->listen_port == d->cfg->listen_port) {
        /* The same port on another address (0.0.0.0 after 127.0.0.1)
         * clashes with the old socket: that one is closed first, and
         * made again when the new one still cannot be bound. */
        httpd_close(d->httpd, NULL, NULL);
        h = httpd_new_tls(&d->loop, cfg->listen_host, cfg->listen_port, -1,
                          tls_of(cfg, &tls), err, sizeof(err));
        if (h == NULL) {
            char again[256];

            d->httpd = httpd_new_tls(
                &d->loop, d->cfg->listen_host, d->cfg->listen_port, -1,
                tls_of(d->cfg, &old_tls), again, sizeof(again));
            if (d->httpd == NULL)
                log_warnx("reload: the old address cannot be bound again "
                          "either, nothing is served: %s",
                          again);
        } else {
            d->httpd = NULL;
        }
    }
    if (h == NULL) {
        log_warnx("reload: %s; still serving on the old address", err);
        if ((host = strdup(d->cfg->listen_host)) != NULL) {
            free(cfg->listen_host);
            cfg->listen_host = host;
            cfg->listen_port = d->cfg->listen_port;
        }
        keep_tls(cfg, d->cfg);
        return;
    }
    if (d->httpd != NULL)
        httpd_close(d->httpd, NULL, NULL);
    d->httpd = h;
    log_info("serving http%s://%s%s%s:%d/feed.atom", cfg->tls_cert ? "s" : "",
             strchr(cfg->listen_host, ':') ? "[" : "", cfg->listen_host,
             strchr(cfg->listen_host, ':') ? "]" : "", cfg->listen_port);
}

/* The settings that differ between a and b, named in out ("" when
 * none). */
static void
settings_changed(const struct config *a, const struct config *b, char *out,
                 size_t size)
{
    size_t len = 0;

    out[0] = '\0';
#define SETTING(cond, name)                                                    \
    do {                                                                       \
        if ((cond) && len < size)                                              \
            len += (size_t)snprintf(out + len, size - len, "%s%s",             \
                                    len ? ", " : "", name);                    \
    } while (0)
    SETTING(strcmp(a->title, b->title) != 0, "title");
    SETTING(strcmp(a->listen_host, b->listen_host) != 0 ||
                a->listen_port != b->listen_port,
            "listen");
    SETTING(tls_differs(a, b), "tls_cert/tls_key");
    SETTING(a->interval != b->interval, "interval");
    SETTING(a->max_items != b->max_items, "max_items");
    SETTING(a->parallel != b->parallel, "parallel");
    SETTING(a->per_host != b->per_host, "per_host");
    SETTING(a->keep != b->keep, "keep");
    SETTING(a->keep_items != b->keep_items, "keep_items");
#undef SETTING
}

/* Reads the config file again and applies it, or refuses it whole (a
 * file with errors, each logged as FILE:LINE: message; another state_dir,
 * which needs a restart; out of memory) and the config in force stays.
 * One line says what was done. why is what asked for it. */
static void
daemon_reload(struct daemon *d, const char *why)
{
    struct config *cfg, *old = d->cfg;
    struct poller_changes ch;
    char *errors = NULL, settings[128];

    if (d->stopping || d->once)
        return;
    if (d->reload_timer.data != NULL)
        (void)uv_timer_stop(&d->reload_timer);
    notify_reloading();
    if ((cfg = config_load(old->path, &errors)) == NULL) {
        size_t n = 0;

        for (char *line = errors ? strtok(errors, "\n") : NULL; line;
             line = strtok(NULL, "\n"), n++)
            log_warnx("%s", line);
        if (errors == NULL)
            log_warnx("reload: out of memory; the running config stays in "
                      "force (%s)",
                      why);
        else
            log_warnx("reload: refused, %zu error%s in %s; the running "
                      "config stays in force (%s)",
                      n, n == 1 ? "" : "s", old->path, why);
        free(errors);
    } else if (strcmp(cfg->state_dir, old->state_dir) != 0) {
        log_warnx("reload: refused: state_dir changed from %s to %s, which "
                  "needs a restart; the running config stays in force (%s)",
                  old->state_dir, cfg->state_dir, why);
        config_free(cfg);
    } else if (poller_reload(d->poller, cfg, &ch) != 0) {
        log_warnx("reload: refused; the running config stays in force (%s)",
                  why);
        config_free(cfg);
    } else {
        if ((strcmp(cfg->listen_host, old->listen_host) != 0 ||
             cfg->listen_port != old->listen_port) &&
            d->socket_activated)
            log_warnx("reload: listen is not changed: the server uses the "
                      "socket systemd passed (feedd.socket)");
        else if (strcmp(cfg->listen_host, old->listen_host) != 0 ||
                 cfg->listen_port != old->listen_port ||
                 (tls_differs(cfg, old) && !d->socket_activated))
            rebind(d, cfg);
        if (tls_differs(cfg, old) && d->socket_activated) {
            log_warnx("reload: tls_cert and tls_key are not changed on the "
                      "socket systemd passed: that needs a restart");
            keep_tls(cfg, old);
        }
        /* After rebind(): a listen address it could not bind is not
         * in force. */
        settings_changed(old, cfg, settings, sizeof(settings));
        publisher_reconfig(d->pub, cfg, d->httpd);
        (void)monitor_serve(d->mon, cfg, d->poller, d->httpd);
        /* public_url is read at the start: a change needs a restart. */
        if (d->ws != NULL) {
            websub_reload(d->ws, cfg);
            if (d->httpd != NULL)
                (void)websub_serve(d->ws, d->httpd);
        }
        d->cfg = cfg;
        config_free(old);
        log_info("reload: %zu feed%s added, %zu removed, %zu changed%s%s (%s)",
                 ch.added, ch.added == 1 ? "" : "s", ch.removed, ch.changed,
                 settings[0] ? "; settings changed: " : "", settings, why);
        /* A new title, max_items or address shows at once; unchanged
         * bytes are not written again. */
        (void)publisher_publish(d->pub);
    }
    notify_ready();
}

static void
on_reload_timer(uv_timer_t *t)
{
    daemon_reload(t->data, "the file changed");
}

/* Something in the config's folder changed: when it is the config file
 * (written, or another file renamed over it), a reload once the burst
 * is over. */
static void
on_conf_change(uv_fs_event_t *h, const char *filename, int events, int status)
{
    struct daemon *d = h->data;
    const char *path = d->cfg->path, *base = strrchr(path, '/');
    int rc;

    (void)events;
    base = base ? base + 1 : path;
    if (status != 0 || filename == NULL || strcmp(filename, base) != 0 ||
        d->stopping)
        return;
    if ((rc = uv_timer_start(&d->reload_timer, on_reload_timer,
                             RELOAD_DEBOUNCE_MS, 0)) != 0)
        log_warnx("reload: cannot arm its timer: %s", uv_strerror(rc));
}

/* Watches the config's folder (a file replaced by a rename is a new
 * file: a watch on the file itself would lose it). Without a watch the
 * daemon still reloads on SIGHUP: a failure is logged, not fatal. 0, or
 * -1 when the timer cannot be made. */
static int
start_watch(struct daemon *d)
{
    int rc;

    if ((rc = uv_timer_init(&d->loop, &d->reload_timer)) != 0) {
        log_warnx("cannot make the reload timer: %s", uv_strerror(rc));
        return -1;
    }
    d->reload_timer.data = d;
    if ((rc = uv_fs_event_init(&d->loop, &d->conf_watch)) != 0) {
        log_warnx("cannot watch %s for changes: %s; SIGHUP reloads it",
                  d->cfg->dir, uv_strerror(rc));
        return 0;
    }
    d->conf_watch.data = d;
    if ((rc = uv_fs_event_start(&d->conf_watch, on_conf_change, d->cfg->dir,
                                0)) != 0)
        log_warnx("cannot watch %s for changes: %s; SIGHUP reloads it",
                  d->cfg->dir, uv_strerror(rc));
    return 0;
}

/* ---- the command line ---- */

static const char usage_run[] =
    "usage: feedd run [-c FILE] [-v|-q]\n"
    "  run the daemon in the foreground; -v logs debug lines too, -q\n"
    "  warnings only\n";
static const char usage_poll[] =
    "usage: feedd poll [-c FILE] [-v|-q] --once\n"
    "  poll every feed once, store, publish, exit\n";
static const char usage_check[] = "usage: feedd check [-c FILE]\n"
                                  "  validate the config; non-zero when bad\n";

enum { OPT_ONCE = 256, OPT_HELP };

/* The arguments of cmd ("run", "poll" or "check"; argv[0] is its name,
 * as getopt_long(3) wants): -c/--config FILE, --once (poll only),
 * -v/--verbose and -q/--quiet (run and poll: the log's level), --help. 0 to
 * go on, 1 when --help was answered, or -1 with a one-line error printed. */
static int
parse_args(const char *cmd, int argc, char **argv, const char **config,
           int *once)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"once", no_argument, NULL, OPT_ONCE},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c, rc = 0;

    *config = DEFAULT_CONFIG;
    optind = 1;
    opterr = 0;
    while (rc == 0 &&
           (c = getopt_long(argc, argv, ":c:vq", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            *config = optarg;
            break;
        case OPT_ONCE:
            if (once == NULL) {
                fprintf(stderr, "feedd %s: --once is for feedd poll only\n",
                        cmd);
                rc = -1;
            } else {
                *once = 1;
            }
            break;
        case 'v':
        case 'q':
            if (strcmp(cmd, "check") == 0) {
                fprintf(stderr, "feedd check: unknown option \"%s\"\n",
                        argv[optind - 1]);
                rc = -1;
            } else {
                log_set_level(c == 'v' ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN);
            }
            break;
        case OPT_HELP:
            fputs(strcmp(cmd, "run") == 0    ? usage_run
                  : strcmp(cmd, "poll") == 0 ? usage_poll
                                             : usage_check,
                  stdout);
            rc = 1;
            break;
        case ':':
            fprintf(stderr, "feedd %s: %s needs a file\n", cmd,
                    argv[optind - 1]);
            rc = -1;
            break;
        default:
            fprintf(stderr, "feedd %s: unknown option \"%s\"\n", cmd,
                    argv[optind - 1]);
            rc = -1;
            break;
        }
    }
    if (rc == 0 && optind < argc) {
        fprintf(stderr, "feedd %s: unexpected argument \"%s\"\n", cmd,
                argv[optind]);
        rc = -1;
    }
    return rc;
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

int
cmd_check(int argc, char **argv)
{
    struct config *cfg;
    const char *path;
    int rc;

    if ((rc = parse_args("check", argc, argv, &path, NULL)) != 0)
        return rc > 0 ? 0 : 2;
    if ((cfg = load_config(path)) == NULL)
        return 1;
    printf("%s: configuration OK, %zu feed%s\n", path, cfg->nfeeds,
           cfg->nfeeds == 1 ? "" : "s");
    config_free(cfg);
    return 0;
}

/* The loop's handles of the daemon itself: the retention timer and the
 * signals. 0, or -1 with the reason logged. */
static int
start_handles(struct daemon *d)
{
    static const int signums[] = {SIGTERM, SIGINT, SIGHUP};
    static const char *const names[] = {"SIGTERM", "SIGINT", "SIGHUP"};
    size_t i;
    int rc;

    if ((rc = uv_timer_init(&d->loop, &d->compact_timer)) != 0) {
        log_warnx("cannot make the retention timer: %s", uv_strerror(rc));
        return -1;
    }
    d->compact_timer.data = d;
    if (!d->once &&
        (rc = uv_timer_start(&d->compact_timer, on_compact_timer,
                             COMPACT_EVERY_MS, COMPACT_EVERY_MS)) != 0) {
        log_warnx("cannot arm the retention timer: %s", uv_strerror(rc));
        return -1;
    }
    for (i = 0; i < 3; i++) {
        if ((rc = uv_signal_init(&d->loop, &d->sig[i])) != 0) {
            log_warnx("cannot watch for %s: %s", names[i], uv_strerror(rc));
            return -1;
        }
        d->sig[i].data = d;
        /* SIGHUP is caught so that it does not kill the daemon. */
        if ((rc = uv_signal_start(&d->sig[i], on_signal, signums[i])) != 0) {
            log_warnx("cannot watch for %s: %s", names[i], uv_strerror(rc));
            return -1;
        }
    }
    return 0;
}

/* The HTTP server, on the socket systemd passed (feedd.socket) or else
 * on `listen`. 0, or -1 with the reason logged. */
static int
start_httpd(struct daemon *d)
{
    const char *host = d->cfg->listen_host;
    struct httpd_tls tls;
    char err[256];
    int fd = notify_listen_fd();

    if (fd == -2)
        return -1;
    d->socket_activated = fd >= 0;
    d->httpd = httpd_new_tls(&d->loop, host, d->cfg->listen_port, fd,
                             tls_of(d->cfg, &tls), err, sizeof(err));
    if (d->httpd == NULL) {
        log_warnx("%s", err);
        return -1;
    }
    if (fd >= 0)
        log_info("serving /feed.atom on the socket systemd passed (port %d), "
                 "%zu feeds",
                 httpd_port(d->httpd), d->cfg->nfeeds);
    else
        log_info("serving http%s://%s%s%s:%d/feed.atom, %zu feeds",
                 d->cfg->tls_cert ? "s" : "", strchr(host, ':') ? "[" : "",
                 host, strchr(host, ':') ? "]" : "", d->cfg->listen_port,
                 d->cfg->nfeeds);
    return 0;
}

/* Everything after the store and the loop: 0, or -1 with the reason
 * logged (the caller stops the daemon). */
static int
start(struct daemon *d)
{
    if (start_handles(d) != 0)
        return -1;
    /* Retention runs daily; at start only when old versions fill a
     * quarter of the log. A poll --once (from cron) looks at its end,
     * and only when it loaded the items: when it did not, nothing was
     * stored, and the log is as the run that stored last left it, which
     * looked then. */
    if (!d->once && worth_compacting(d->store))
        daemon_compact(d);
    if (!d->once && start_httpd(d) != 0)
        return -1;
    /* WebSub's callbacks, before the loop runs: a push that comes now
     * waits for it. Without public_url no hub could reach feedd: nothing
     * subscribes, and nothing answers under /websub/. */
    if (!d->once && d->cfg->public_url != NULL &&
        (d->ws = websub_new(&d->loop, d->cfg, d->httpd)) == NULL)
        return -1;
    /* Its paths set before the first document: a request that comes
     * earlier waits for that (httpd.h), then finds them. */
    if (!d->once && ((d->mon = monitor_new(&d->loop, d->store,
                                           (int64_t)time(NULL))) == NULL ||
                     monitor_serve(d->mon, d->cfg, NULL, d->httpd) != 0))
        return -1;
    d->pub =
        publisher_new(&d->loop, d->store, d->cfg, d->httpd, on_published, d);
    if (d->pub == NULL)
        return -1;
    if (!d->once) {
        /* Readers get what is stored at once, before any poll. */
        (void)publisher_publish(d->pub);
    }
    d->poller = poller_new(&d->loop, d->store, d->cfg, d->once, on_polled, d);
    d->round_ns = uv_hrtime();
    if (d->poller == NULL ||
        (d->mon && monitor_serve(d->mon, d->cfg, d->poller, d->httpd) != 0) ||
        poller_start(d->poller) != 0)
        return -1;
    if (d->ws != NULL)
        websub_start(d->ws, d->poller);
    if (!d->once && start_watch(d) != 0)
        return -1;
    if (d->once && poller_active(d->poller) == 0)
        daemon_stop(d);
    return 0;
}

int
cmd_run(int argc, char **argv, int once)
{
    struct daemon d;
    const char *path;
    char err[256];
    int rc;

    memset(&d, 0, sizeof(d));
    /* --once is accepted by poll alone: `feedd run --once` is refused. */
    rc = parse_args(once ? "poll" : "run", argc, argv, &path,
                    once ? &d.once : NULL);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    d.once = once;
    if ((d.cfg = load_config(path)) == NULL)
        return 1;
    srand((unsigned)time(NULL) ^ (unsigned)uv_os_getpid());
    d.store = store_open(d.cfg->state_dir, err, sizeof(err));
    /* `run` needs the items at once (retention, the first publish, the
     * first new entry); a poll --once loads them only if it needs them
     * (store_load()), and one where every feed answers 304 does not. */
    if (d.store != NULL && !d.once && store_load(d.store) != 0) {
        snprintf(err, sizeof(err), "%s", store_error(d.store));
        store_close(d.store);
        d.store = NULL;
    }
    if (d.store == NULL) {
        log_warnx("store %s: %s", d.cfg->state_dir, err);
        config_free(d.cfg);
        return 1;
    }
    after_store(&d);
    if ((rc = uv_loop_init(&d.loop)) != 0) {
        log_warnx("cannot make the event loop: %s", uv_strerror(rc));
        store_close(d.store);
        config_free(d.cfg);
        return 1;
    }
    if (start(&d) != 0) {
        d.exit_code = 1;
        daemon_stop(&d);
    } else if (!d.stopping) {
        report_ready(&d);
    }
    if (uv_run(&d.loop, UV_RUN_DEFAULT) != 0)
        log_warnx("internal: the loop stopped with handles still active");
    if ((rc = uv_loop_close(&d.loop)) != 0)
        log_warnx("internal: the loop did not close clean: %s",
                  uv_strerror(rc));
    store_close(d.store);
    config_free(d.cfg);
    fetch_global_cleanup();
    return d.exit_code;
}

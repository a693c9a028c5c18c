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
#include "config.h"
#include "feeds.h"
#include "fetch.h"
#include "httpd.h"
#include "log.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/feedd/feedd.conf"
/* The largest response feedd reads; a feed larger than this is broken or
 * hostile. */
#define MAX_RESPONSE (32u << 20)
/* How long after a poll brings news the outputs are rewritten: polls that
 * end close together share one rewrite. */
#define PUBLISH_DELAY_MS 500
/* Back-off after errors never waits longer than this. */
#define MAX_BACKOFF ((int64_t)24 * 3600)

struct daemon;

/* A configured feed at run time. */
struct feed_rt {
    struct daemon *d;
    const struct config_feed *cf;
    uv_timer_t timer;
    struct feed_parser *parser; /* while a poll is under way */
    size_t entries, fresh;
    unsigned lost_at_start; /* d->lost_batches when this poll began */
    int pushed; /* the parser has had bytes */
    int busy;
};

struct daemon {
    uv_loop_t loop;
    struct config *cfg;
    struct store *store;
    struct fetcher *fetcher;
    struct httpd *httpd;
    struct feed_rt *feeds;
    size_t nfeeds;
    uv_signal_t sig[3];
    uv_timer_t publish_timer;
    char *public_dir;
    struct feed_buf published; /* the last feed.atom written */
    /* Failed commits so far. The pending batch is shared by the polls
     * under way, so a failed commit loses entries of each of them. */
    unsigned lost_batches;
    int once;
    int stopping;
    int exit_code;
};

static void poll_feed(struct feed_rt *);
static void daemon_stop(struct daemon *);

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static char *
path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* ---- publishing ---- */

/* The items store_recent() lends, copied for the writer: each item's
 * strings go into one allocation of its own. */
struct collect {
    struct feed_item *items;
    void **blocks;
    size_t n, cap;
};

static size_t
str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s into *at, advancing it; NULL stays NULL. */
static const char *
put_str(char **at, const char *s)
{
    char *d;
    size_t n;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = memcpy(*at, s, n);
    *at += n;
    return d;
}

static int
collect_item(const struct feed_item *it, void *arg)
{
    struct collect *c = arg;
    const struct feed_entry *e = &it->entry;
    struct feed_item *dst;
    struct feed_enclosure *enc;
    const char **cats;
    size_t size, i;
    char *block, *at;

    if (c->n == c->cap)
        return -ENOMEM;
    size = e->nenclosures * sizeof(*enc) + e->ncategories * sizeof(*cats) +
           str_size(e->guid) + str_size(e->link) + str_size(e->title) +
           str_size(e->author) + str_size(e->summary) +
           str_size(e->content) + str_size(e->image) + str_size(it->feed) +
           str_size(it->feed_title) + str_size(it->feed_url);
    for (i = 0; i < e->nenclosures; i++)
        size += str_size(e->enclosures[i].url) +
                str_size(e->enclosures[i].type);
    for (i = 0; i < e->ncategories; i++)
        size += str_size(e->categories[i]);
    if ((block = malloc(size ? size : 1)) == NULL)
        return -ENOMEM;
    c->blocks[c->n] = block;
    dst = &c->items[c->n++];
    *dst = *it;
    /* Pointer arrays first: they need the alignment malloc gives. */
    enc = (struct feed_enclosure *)(void *)block;
    cats = (const char **)(void *)(enc + e->nenclosures);
    at = (char *)(cats + e->ncategories);
    for (i = 0; i < e->nenclosures; i++) {
        enc[i] = e->enclosures[i];
        enc[i].url = put_str(&at, e->enclosures[i].url);
        enc[i].type = put_str(&at, e->enclosures[i].type);
    }
    for (i = 0; i < e->ncategories; i++)
        cats[i] = put_str(&at, e->categories[i]);
    dst->entry.enclosures = e->nenclosures ? enc : NULL;
    dst->entry.categories = e->ncategories ? cats : NULL;
    dst->entry.guid = put_str(&at, e->guid);
    dst->entry.link = put_str(&at, e->link);
    dst->entry.title = put_str(&at, e->title);
    dst->entry.author = put_str(&at, e->author);
    dst->entry.summary = put_str(&at, e->summary);
    dst->entry.content = put_str(&at, e->content);
    dst->entry.image = put_str(&at, e->image);
    dst->feed = put_str(&at, it->feed);
    dst->feed_title = put_str(&at, it->feed_title);
    dst->feed_url = put_str(&at, it->feed_url);
    return 0;
}

/* Writes public/feed.atom from the newest max_items entries and hands it
 * to the HTTP server. 0 or a negative errno (logged). */
static int
publish(struct daemon *d)
{
    struct collect c;
    struct feed_meta meta;
    struct feed_buf out;
    char self[300], *path = NULL;
    size_t i, n = d->cfg->max_items;
    int rc;

    memset(&c, 0, sizeof(c));
    feed_buf_init(&out, 0);
    c.cap = n;
    c.items = calloc(n ? n : 1, sizeof(*c.items));
    c.blocks = calloc(n ? n : 1, sizeof(*c.blocks));
    if (c.items == NULL || c.blocks == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = store_recent(d->store, n, collect_item, &c)) != 0)
        goto fail;
    snprintf(self, sizeof(self), "http://%s%s%s:%d/feed.atom",
             strchr(d->cfg->listen_host, ':') ? "[" : "",
             d->cfg->listen_host,
             strchr(d->cfg->listen_host, ':') ? "]" : "",
             d->cfg->listen_port);
    meta.title = d->cfg->title;
    meta.self_url = self;
    meta.id = self;
    meta.updated = c.n ? feed_item_date(&c.items[0]) : now_s();
    for (i = 0; i < c.n; i++) {
        int64_t t = feed_item_date(&c.items[i]);

        if (t > meta.updated)
            meta.updated = t;
    }
    if (feed_write_atom(&out, &meta, c.items, c.n) != 0) {
        rc = -ENOMEM;
        goto fail;
    }
    /* Unchanged bytes: no write, and readers' validators stay valid. */
    if (d->published.data && out.len == d->published.len &&
        memcmp(out.data, d->published.data, out.len) == 0) {
        rc = 0;
        goto done;
    }
    if ((path = path_join(d->public_dir, "feed.atom")) == NULL) {
        rc = -ENOMEM;
        goto fail;
    }
    if ((rc = store_file_replace(path, out.data, out.len)) != 0) {
        errno = -rc;
        log_warn("publish: cannot write %s", path);
        goto done;
    }
    if (d->httpd &&
        (rc = httpd_set(d->httpd, "/feed.atom",
                        "application/atom+xml; charset=utf-8", out.data,
                        out.len, now_s())) != 0)
        goto fail;
    log_debug("publish: %zu entries in feed.atom", c.n);
    feed_buf_free(&d->published);
    d->published = out;
    feed_buf_init(&out, 0);
    goto done;
fail:
    errno = -rc;
    log_warn("publish");
done:
    for (i = 0; i < c.n; i++)
        free(c.blocks[i]);
    free(c.blocks);
    free(c.items);
    free(path);
    feed_buf_free(&out);
    return rc;
}

static void
on_publish_timer(uv_timer_t *t)
{
    (void)publish(t->data);
}

static void
publish_soon(struct daemon *d)
{
    if (d->once || d->stopping)
        return;
    if (!uv_is_active((uv_handle_t *)&d->publish_timer))
        uv_timer_start(&d->publish_timer, on_publish_timer, PUBLISH_DELAY_MS,
                       0);
}

/* ---- one poll of one feed ---- */

static void
on_feed_timer(uv_timer_t *t)
{
    poll_feed(t->data);
}

/* Arms the feed's timer for its next poll: its interval, longer after
 * consecutive errors (doubling, up to a day), with a little jitter so
 * feeds with one interval do not all fire together. */
static void
schedule(struct feed_rt *fr, int errors)
{
    int64_t delay = fr->cf->interval;
    struct store_feed_state st;
    const struct store_feed_state *old;
    uint64_t jitter;

    if (fr->d->once || fr->d->stopping)
        return;
    for (int i = 1; i < errors && delay < MAX_BACKOFF; i++)
        delay *= 2;
    if (errors > 0 && delay > MAX_BACKOFF)
        delay = MAX_BACKOFF > fr->cf->interval ? MAX_BACKOFF
                                               : fr->cf->interval;
    jitter = (uint64_t)delay * 1000 / 20; /* up to 5% */
    jitter = jitter ? (uint64_t)rand() % jitter : 0;
    uv_timer_start(&fr->timer, on_feed_timer,
                   (uint64_t)delay * 1000 + jitter, 0);
    old = store_feed_state_get(fr->d->store, fr->cf->name);
    if (old) {
        st = *old;
        st.next_poll = now_s() + delay;
        if (store_feed_state_set(fr->d->store, fr->cf->name, &st) != 0)
            log_warnx("%s: out of memory", fr->cf->name);
    }
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct feed_rt *fr = arg;
    struct feed_item it;

    fr->entries++;
    if (feed_entry_id(e, fr->cf->name, FEED_ID_AUTO, it.id) < 0)
        return -1;
    if (store_seen(fr->d->store, it.id))
        return 0;
    memset(&it.also, 0, sizeof(it) - offsetof(struct feed_item, also));
    it.entry = *e;
    it.changed = FEED_TIME_NONE;
    it.hash = feed_entry_hash(e);
    it.feed = fr->cf->name;
    it.feed_title = feed_parser_info(fr->parser)->title;
    it.feed_url = fr->cf->location;
    it.stored = now_s();
    if (store_add(fr->d->store, &it) != 0)
        return -1;
    fr->fresh++;
    return 0;
}

/* The charset parameter of a Content-Type (RFC 9110 §8.3), into out;
 * 0 when there is none. */
static int
content_type_charset(const char *ct, char *out, size_t size)
{
    const char *p = ct;
    size_t n;

    while (p && (p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "charset=", 8) != 0)
            continue;
        p += 8;
        if (*p == '"')
            p++;
        n = strcspn(p, "\"; \t");
        if (n == 0 || n >= size)
            return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

static int
on_data(const char *p, size_t n, const char *content_type,
        const char **error, void *arg)
{
    struct feed_rt *fr = arg;
    char charset[64];

    /* RFC 7303 §3: the HTTP charset beats the XML declaration. */
    if (!fr->pushed && content_type_charset(content_type, charset,
                                            sizeof(charset)) &&
        feed_parser_charset(fr->parser, charset) != 0) {
        *error = "out of memory";
        return -1;
    }
    fr->pushed = 1;
    if (feed_parser_push(fr->parser, p, n, 0) != 0) {
        *error = feed_parser_error(fr->parser);
        return -1;
    }
    return 0;
}

/* The poll of fr ended, well or not: finish the parse, commit what it
 * brought, record the feed's state, and schedule the next poll. */
static void
on_done(const struct fetch_result *r, void *arg)
{
    struct feed_rt *fr = arg;
    struct daemon *d = fr->d;
    const struct store_feed_state *old;
    struct store_feed_state st;
    const char *error = r->error;
    char msg[512];
    int rc;

    fr->busy = 0;
    if (r->ok && !r->not_modified &&
        feed_parser_push(fr->parser, NULL, 0, 1) != 0)
        error = feed_parser_error(fr->parser);
    if (fr->fresh > 0 && store_commit(d->store) != 0) {
        log_warnx("%s: cannot store %zu new entries: %s", fr->cf->name,
                  fr->fresh, store_error(d->store));
        d->lost_batches++;
    }
    if (d->lost_batches != fr->lost_at_start) {
        /* Nothing of the failed batch is stored and its IDs are unseen
         * again: forget the validators so the next poll brings it all
         * back. */
        error = "the store could not save its entries";
        fr->fresh = 0;
        r = NULL;
    }
    memset(&st, 0, sizeof(st));
    old = store_feed_state_get(d->store, fr->cf->name);
    if (old)
        st = *old;
    else
        st.next_poll = FEED_TIME_NONE;
    st.last_poll = now_s();
    if (r && r->cancelled) {
        feed_parser_free(fr->parser);
        fr->parser = NULL;
        return;
    }
    if (fr->parser && feed_parser_info(fr->parser)->bad_dates > 0) {
        const struct feed_info *fi = feed_parser_info(fr->parser);

        log_warnx("%s: %zu date%s could not be read, e.g. \"%.80s\"",
                  fr->cf->name, fi->bad_dates, fi->bad_dates == 1 ? "" : "s",
                  fi->bad_date ? fi->bad_date : "");
    }
    if (error == NULL) {
        st.errors = 0;
        st.last_error = NULL;
        /* Validators are kept only from a whole, clean response: after a
         * failure the next poll must fetch everything again. */
        if (!r->not_modified) {
            st.etag = (char *)r->etag;
            st.last_modified = (char *)r->last_modified;
        }
        if (r->not_modified)
            log_debug("%s: not modified", fr->cf->name);
        else if (fr->fresh > 0)
            log_info("%s: %zu new of %zu entries", fr->cf->name, fr->fresh,
                     fr->entries);
        else
            log_debug("%s: no new entries (%zu)", fr->cf->name, fr->entries);
    } else {
        st.errors++;
        if (r && r->status >= 400)
            snprintf(msg, sizeof(msg), "HTTP %ld from %s", r->status, r->url);
        else if (fr->entries > 0)
            snprintf(msg, sizeof(msg), "%s (after %zu entr%s)", error,
                     fr->entries, fr->entries == 1 ? "y" : "ies");
        else
            snprintf(msg, sizeof(msg), "%s", error);
        st.last_error = msg;
        st.etag = NULL;
        st.last_modified = NULL;
        log_warnx("%s: %s", fr->cf->name, msg);
    }
    if (store_feed_state_set(d->store, fr->cf->name, &st) != 0)
        log_warnx("%s: out of memory", fr->cf->name);
    feed_parser_free(fr->parser);
    fr->parser = NULL;
    schedule(fr, st.errors);
    if ((rc = store_feed_state_save(d->store)) != 0) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    if (fr->fresh > 0)
        publish_soon(d);
    if (d->once && fetcher_active(d->fetcher) == 0)
        daemon_stop(d);
}

static void
poll_feed(struct feed_rt *fr)
{
    struct daemon *d = fr->d;
    const struct store_feed_state *st;
    struct feed_limits lim;
    struct fetch_req req;
    int rc;

    if (fr->busy || d->stopping)
        return;
    feed_limits_default(&lim);
    fr->entries = fr->fresh = 0;
    fr->pushed = 0;
    fr->lost_at_start = d->lost_batches;
    fr->parser = feed_parser_new(&lim, fr->cf->location, on_entry, fr);
    if (fr->parser == NULL) {
        log_warnx("%s: out of memory", fr->cf->name);
        schedule(fr, 1);
        return;
    }
    st = store_feed_state_get(d->store, fr->cf->name);
    memset(&req, 0, sizeof(req));
    req.url = fr->cf->location;
    req.etag = st ? st->etag : NULL;
    req.last_modified = st ? st->last_modified : NULL;
    req.max_bytes = MAX_RESPONSE;
    req.timeout_s = 120;
    req.on_data = on_data;
    req.on_done = on_done;
    req.arg = fr;
    if ((rc = fetcher_start(d->fetcher, &req)) != 0) {
        errno = -rc;
        log_warn("%s: cannot start the fetch", fr->cf->name);
        feed_parser_free(fr->parser);
        fr->parser = NULL;
        schedule(fr, 1);
        return;
    }
    fr->busy = 1;
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
static void
daemon_stop(struct daemon *d)
{
    size_t i;
    int rc;

    if (d->stopping)
        return;
    d->stopping = 1;
    for (i = 0; i < d->nfeeds; i++) {
        uv_timer_stop(&d->feeds[i].timer);
        close_handle((uv_handle_t *)&d->feeds[i].timer);
    }
    if (d->fetcher) {
        fetcher_close(d->fetcher, NULL, NULL);
        d->fetcher = NULL;
    }
    if (store_commit(d->store) != 0)
        log_warnx("store: %s", store_error(d->store));
    if ((rc = store_feed_state_save(d->store)) != 0) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    uv_timer_stop(&d->publish_timer);
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

    if (st && st->next_poll != FEED_TIME_NONE && st->next_poll > now &&
        st->errors == 0) {
        int64_t wait = st->next_poll - now;

        if (wait > d->feeds[i].cf->interval)
            wait = d->feeds[i].cf->interval;
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
    uv_loop_init(&d.loop);
    uv_timer_init(&d.loop, &d.publish_timer);
    d.publish_timer.data = &d;
    for (i = 0; i < 3; i++) {
        uv_signal_init(&d.loop, &d.sig[i]);
        d.sig[i].data = &d;
        /* SIGHUP is caught so that it does not kill the daemon. */
        uv_signal_start(&d.sig[i], on_signal, signums[i]);
    }
    d.fetcher = fetcher_new(&d.loop, d.cfg->parallel, d.cfg->per_host);
    d.nfeeds = d.cfg->nfeeds;
    d.feeds = calloc(d.nfeeds ? d.nfeeds : 1, sizeof(*d.feeds));
    if (d.fetcher == NULL || d.feeds == NULL || d.public_dir == NULL) {
        log_warnx("out of memory");
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

        fr->d = &d;
        fr->cf = &d.cfg->feeds[i];
        uv_timer_init(&d.loop, &fr->timer);
        fr->timer.data = fr;
        if (once)
            poll_feed(fr);
        else
            uv_timer_start(&fr->timer, on_feed_timer, first_delay(&d, i), 0);
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

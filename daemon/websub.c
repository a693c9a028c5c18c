/* daemon/websub.c - WebSub subscriptions (websub.h).
 *
 * Each subscription (struct websub_sub, websub_int.h) is in one list. A
 * request to a hub (subscribe, unsubscribe) is sent when the
 * subscription's due time comes (one timer for the earliest): at once
 * for a new one; at three quarters of the lease for a renewal; after a
 * back-off when the hub refused; a week after the hub denied it. A
 * subscription is "asked" from the request until the hub verifies it:
 * only then does a verification get the challenge back. A subscription
 * is freed only when no request of it is under way. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "log.h"
#include "websub.h"
#include "strhash.h"
#include "websub_int.h"

#define STATE_FILE "websub.state"
#define STATE_MAX ((size_t)64 << 20)
/* What feedd asks of a hub, and how long it waits for the verification
 * of a request before asking again. */
#define LEASE_ASKED ((int64_t)10 * 24 * 3600)
#define VERIFY_WAIT ((int64_t)3600)
/* A hub that refused: 1 minute, doubling, at most a day. */
#define RETRY_FIRST ((int64_t)60)
#define RETRY_MAX ((int64_t)24 * 3600)
/* A hub that denied the subscription is asked again after this. */
#define DENIED_WAIT ((int64_t)7 * 24 * 3600)
/* Changes within this time (ms) share one write of the state file: the
 * first poll round of many feeds with hubs subscribes to each. */
#define SAVE_DELAY_MS 1000
/* An unsubscribe is tried this many times, then forgotten. */
#define UNSUB_TRIES 3
/* The most of a hub's answer that is read (and dropped). */
#define ANSWER_MAX ((size_t)64 << 10)

struct websub {
    uv_loop_t *loop;
    const struct config *cfg;
    struct poller *poller;
    struct fetcher *fetcher;
    uv_timer_t timer;
    uv_timer_t save_timer; /* the state file's write, SAVE_DELAY_MS late */
    int dirty;             /* the state changed since the file was written */
    struct websub_sub *subs;
    /* The subscriptions not in WEBSUB_UNSUB by feed, chained (hnext), so
     * that a poll's report finds its feed's at once; byfeed_ok is 0 after
     * running out of memory, and the list is searched instead. */
    struct websub_sub **byfeed;
    size_t byfeed_cap, byfeed_n;
    int byfeed_ok;
    char *path;     /* the state file */
    char *callback; /* public_url's, ending in "/websub/" */
    int open;       /* handles not yet closed */
    int closing;
};

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- the state file ---- */

static void
on_bad_line(size_t line, const char *why, void *arg)
{
    log_warnx("%s:%zu: %s: the line is skipped", (const char *)arg, line, why);
}

static void index_add(struct websub *ws, struct websub_sub *s);

static void
load(struct websub *ws)
{
    struct websub_sub *s;
    struct feed_buf text;
    char chunk[8192];
    FILE *fp;
    size_t n;

    if ((fp = fopen(ws->path, "r")) == NULL) {
        if (errno != ENOENT)
            log_warn("%s: cannot read", ws->path);
        return;
    }
    feed_buf_init(&text, STATE_MAX);
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        if (feed_buf_append(&text, chunk, n) != 0) {
            log_warnx("%s: over %zu MiB or out of memory: not read", ws->path,
                      STATE_MAX >> 20);
            feed_buf_reset(&text);
            break;
        }
    if (ferror(fp))
        log_warn("%s: cannot read", ws->path);
    fclose(fp);
    if (text.len > 0 && websub_state_parse(text.data, text.len, &ws->subs,
                                           on_bad_line, ws->path) != 0)
        log_warnx("%s: out of memory: read in part", ws->path);
    feed_buf_free(&text);
    for (s = ws->subs; s != NULL; s = s->next)
        if (s->state != WEBSUB_UNSUB)
            index_add(ws, s);
}

/* Writes the state file whole: temp file, fsync, rename, fsync of the
 * folder. A failure is logged; the state in memory stays. */
static void
save(struct websub *ws)
{
    struct feed_buf text;
    char tmp[4096];
    int fd = -1, rc = 0;
    char *slash;

    feed_buf_init(&text, 0);
    if (websub_state_format(ws->subs, &text) != 0) {
        log_warnx("%s: out of memory: not saved", ws->path);
        feed_buf_free(&text);
        return;
    }
    snprintf(tmp, sizeof(tmp), "%s.tmp", ws->path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0 ||
        write(fd, text.data, text.len) != (ssize_t)text.len || fsync(fd) != 0)
        rc = -1;
    if (fd >= 0 && close(fd) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, ws->path) != 0)
        rc = -1;
    if (rc != 0) {
        log_warn("%s: cannot save", ws->path);
        (void)unlink(tmp);
    } else if ((slash = strrchr(tmp, '/')) != NULL) {
        *slash = '\0';
        if ((fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
            (void)fsync(fd);
            close(fd);
        }
    }
    feed_buf_free(&text);
}

static void
on_save_timer(uv_timer_t *t)
{
    struct websub *ws = t->data;

    if (ws->dirty) {
        ws->dirty = 0;
        save(ws);
    }
}

/* The state changed: the file is written once, SAVE_DELAY_MS later,
 * for this change and those that follow it within that time. A crash
 * before loses only those (their feeds subscribe again). */
static void
save_soon(struct websub *ws)
{
    ws->dirty = 1;
    if (!uv_is_active((uv_handle_t *)&ws->save_timer) &&
        uv_timer_start(&ws->save_timer, on_save_timer, SAVE_DELAY_MS, 0) != 0) {
        ws->dirty = 0;
        save(ws);
    }
}

/* ---- requests to hubs ---- */

static void arm(struct websub *ws);

/* n random bytes in lower-case hex into out (2n + 1 bytes): 0 or -1. */
static int
random_hex(char *out, size_t n)
{
    unsigned char b[64];
    size_t got = 0, i;

    if (n > sizeof(b))
        return -1;
    while (got < n) {
        ssize_t r = getrandom(b + got, n - got, 0);

        if (r < 0 && errno != EINTR)
            return -1;
        if (r > 0)
            got += (size_t)r;
    }
    for (i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
    return 0;
}

/* s, percent-encoded as a form value (all but RFC 3986's unreserved). */
static int
form_put(struct feed_buf *b, const char *name, const char *s)
{
    if (feed_buf_printf(b, "%s%s=", b->len ? "&" : "", name) != 0)
        return -1;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        int rc = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                         (c >= '0' && c <= '9') || c == '-' || c == '.' ||
                         c == '_' || c == '~'
                     ? feed_buf_append(b, s, 1)
                     : feed_buf_printf(b, "%%%02X", c);

        if (rc != 0)
            return -1;
    }
    return 0;
}

static int
on_answer(const char *p, size_t n, const struct fetch_chunk *c,
          const char **error, void *arg)
{
    (void)p;
    (void)n;
    (void)c;
    (void)error;
    (void)arg;
    return 0;
}

static void unsubscribe_from(struct websub *ws, struct websub_sub *s);

static size_t feed_bucket(const char *feed, size_t cap);

/* s (not in WEBSUB_UNSUB) into the index by feed; out of memory, the
 * index is given up for the list. */
static void
index_add(struct websub *ws, struct websub_sub *s)
{
    if (!ws->byfeed_ok)
        return;
    if (ws->byfeed_n >= ws->byfeed_cap) {
        size_t cap = ws->byfeed_cap ? 2 * ws->byfeed_cap : 64, i;
        struct websub_sub **t = calloc(cap, sizeof(*t)), *e, *next;

        if (t == NULL) {
            free(ws->byfeed);
            ws->byfeed = NULL;
            ws->byfeed_cap = ws->byfeed_n = 0;
            ws->byfeed_ok = 0;
            return;
        }
        for (i = 0; i < ws->byfeed_cap; i++)
            for (e = ws->byfeed[i]; e != NULL; e = next) {
                size_t b = feed_bucket(e->feed, cap);

                next = e->hnext;
                e->hnext = t[b];
                t[b] = e;
            }
        free(ws->byfeed);
        ws->byfeed = t;
        ws->byfeed_cap = cap;
    }
    {
        size_t b = feed_bucket(s->feed, ws->byfeed_cap);

        s->hnext = ws->byfeed[b];
        ws->byfeed[b] = s;
        ws->byfeed_n++;
    }
}

/* s out of the index by feed (when it is there). */
static void
index_del(struct websub *ws, struct websub_sub *s)
{
    struct websub_sub **pp;

    if (!ws->byfeed_ok || ws->byfeed_cap == 0)
        return;
    for (pp = &ws->byfeed[feed_bucket(s->feed, ws->byfeed_cap)]; *pp != NULL;
         pp = &(*pp)->hnext)
        if (*pp == s) {
            *pp = s->hnext;
            s->hnext = NULL;
            ws->byfeed_n--;
            return;
        }
}

/* Frees the unsubscriptions that are over (verified, or given up on)
 * and not busy. */
static void
prune(struct websub *ws)
{
    struct websub_sub **pp = &ws->subs, *s;

    while ((s = *pp) != NULL) {
        if (s->state == WEBSUB_UNSUB && !s->busy && s->due == 0) {
            *pp = s->next;
            websub_sub_free(s);
        } else
            pp = &s->next;
    }
}

/* What a request carries to its end. */
struct request {
    struct websub *ws;
    struct websub_sub *s;
};

static void
on_hub_done(const struct fetch_result *r, void *arg)
{
    struct request *q = arg;
    struct websub *ws = q->ws;
    struct websub_sub *s = q->s;
    int64_t now = now_s();
    int unsub = s->state == WEBSUB_UNSUB;

    free(q);
    s->busy = 0;
    if (r->cancelled || ws->closing)
        return;
    if (r->ok) {
        /* 202: the hub verifies now or soon (or did before it
         * answered); asked again if it never does, less and less often
         * (public_url may be out of its reach). */
        if (s->asked) {
            int64_t wait = VERIFY_WAIT;

            for (int i = 0; i < s->errors && wait < RETRY_MAX; i++)
                wait *= 2;
            s->due = now + (wait < RETRY_MAX ? wait : RETRY_MAX);
        }
        log_debug("%s: WebSub hub %s took the %s request", s->feed, s->hub,
                  unsub ? "unsubscribe" : "subscribe");
    } else {
        s->errors++;
        s->asked = 0;
        if (unsub && s->errors >= UNSUB_TRIES) {
            s->due = 0;
        } else {
            int64_t wait = RETRY_FIRST;

            for (int i = 1; i < s->errors && wait < RETRY_MAX; i++)
                wait *= 2;
            s->due = now + (wait < RETRY_MAX ? wait : RETRY_MAX);
        }
        log_warnx("%s: WebSub hub %s: the %s request failed: %s%s", s->feed,
                  s->hub, unsub ? "unsubscribe" : "subscribe",
                  r->error ? r->error : "no answer",
                  unsub && s->due == 0 ? "; given up" : "; asked again later");
    }
    prune(ws);
    save_soon(ws);
    arm(ws);
}

/* Sends s's request: subscribe, or unsubscribe for WEBSUB_UNSUB. */
static void
send_request(struct websub *ws, struct websub_sub *s)
{
    const struct config_fetch *fx = &ws->cfg->fetch;
    const struct config_feed *cf = config_feed_find(ws->cfg, s->feed);
    int unsub = s->state == WEBSUB_UNSUB;
    struct feed_buf form, cb;
    struct fetch_req req;
    struct request *q;
    int rc;

    if (cf != NULL)
        fx = config_feed_fetch(ws->cfg, cf);
    feed_buf_init(&form, 0);
    feed_buf_init(&cb, 0);
    if (feed_buf_printf(&cb, "%s%s", ws->callback, s->token) != 0 ||
        form_put(&form, "hub.mode", unsub ? "unsubscribe" : "subscribe") != 0 ||
        form_put(&form, "hub.topic", s->topic) != 0 ||
        form_put(&form, "hub.callback", cb.data) != 0 ||
        (!unsub && (form_put(&form, "hub.secret", s->secret) != 0 ||
                    feed_buf_printf(&form, "&hub.lease_seconds=%" PRId64,
                                    LEASE_ASKED) != 0)) ||
        (q = calloc(1, sizeof(*q))) == NULL) {
        log_warnx("%s: out of memory: WebSub request put off", s->feed);
        s->due = now_s() + RETRY_FIRST;
        goto out;
    }
    q->ws = ws;
    q->s = s;
    memset(&req, 0, sizeof(req));
    req.url = s->hub;
    req.form = form.data;
    req.max_bytes = ANSWER_MAX;
    req.timeout_s = (long)fx->timeout;
    req.connect_timeout_s = (long)fx->connect_timeout;
    req.user_agent = fx->user_agent;
    req.on_data = on_answer;
    req.on_done = on_hub_done;
    req.arg = q;
    /* Asked before the request goes: a hub may verify before it
     * answers. */
    s->asked = 1;
    s->busy = 1;
    s->due = 0;
    if ((rc = fetcher_start(ws->fetcher, &req)) != 0) {
        free(q);
        s->busy = 0;
        s->asked = 0;
        s->errors++;
        s->due = now_s() + RETRY_FIRST;
        log_warnx("%s: WebSub hub %s: cannot send the request: %s", s->feed,
                  s->hub, rc == -ENOMEM ? "out of memory" : strerror(-rc));
    }
out:
    feed_buf_free(&form);
    feed_buf_free(&cb);
}

static void
on_timer(uv_timer_t *t)
{
    struct websub *ws = t->data;
    struct websub_sub *s;
    int64_t now = now_s();
    int changed = 0;

    for (s = ws->subs; s != NULL; s = s->next) {
        /* A lease that ended unrenewed: the hub pushes no more, and the
         * feed is polled at its interval until it is verified again. */
        if (s->state == WEBSUB_VERIFIED && s->lease_end != 0 &&
            s->lease_end <= now) {
            log_warnx("%s: WebSub lease at %s ended without a renewal", s->feed,
                      s->hub);
            s->state = WEBSUB_PENDING;
            s->lease_end = 0;
            if (ws->poller != NULL)
                poller_websub(ws->poller, s->feed, 0);
            changed = 1;
        }
        if (s->busy || s->due == 0 || s->due > now)
            continue;
        changed = 1;
        if (s->state == WEBSUB_UNSUB && s->asked) {
            /* The hub never verified the unsubscribe: forgotten. */
            s->due = 0;
            continue;
        }
        if (s->state == WEBSUB_DENIED)
            s->state = WEBSUB_PENDING;
        if (s->asked) {
            s->errors++;
            log_warnx("%s: WebSub hub %s did not verify the subscription "
                      "(can it reach %s?): asked again",
                      s->feed, s->hub, ws->callback);
        }
        send_request(ws, s);
    }
    if (changed) {
        prune(ws);
        save_soon(ws);
    }
    arm(ws);
}

/* The timer for the earliest due request or end of a lease. */
static void
arm(struct websub *ws)
{
    const struct websub_sub *s;
    int64_t next = 0, now = now_s();

    if (ws->closing)
        return;
    for (s = ws->subs; s != NULL; s = s->next) {
        if (!s->busy && s->due != 0 && (next == 0 || s->due < next))
            next = s->due;
        if (s->state == WEBSUB_VERIFIED && s->lease_end != 0 &&
            (next == 0 || s->lease_end < next))
            next = s->lease_end;
    }
    if (next == 0) {
        (void)uv_timer_stop(&ws->timer);
        return;
    }
    (void)uv_timer_start(&ws->timer, on_timer,
                         next > now ? (uint64_t)(next - now) * 1000 : 0, 0);
}

/* s's feed is gone, or moved to another hub or topic: unsubscribed from,
 * best effort. */
static void
unsubscribe_from(struct websub *ws, struct websub_sub *s)
{
    index_del(ws, s);
    if (s->state != WEBSUB_DENIED && ws->poller != NULL)
        poller_websub(ws->poller, s->feed, 0);
    if (s->state == WEBSUB_DENIED) {
        s->state = WEBSUB_UNSUB;
        s->due = 0; /* nothing to end */
        return;
    }
    s->state = WEBSUB_UNSUB;
    s->asked = 0;
    s->errors = 0;
    s->due = now_s();
}

/* ---- the callbacks: verification and pushes ---- */

static struct websub_sub *
find_token(const struct websub *ws, const char *token)
{
    struct websub_sub *s;

    for (s = ws->subs; s != NULL; s = s->next)
        if (strcmp(s->token, token) == 0)
            return s;
    return NULL;
}

/* The hub's GET: its verification of a request, or its denial (W3C
 * WebSub §5.3, §5.2). */
static int
verify(struct websub *ws, struct websub_sub *s, struct httpd_call *call,
       struct feed_buf *reply)
{
    const char *mode = httpd_call_arg(call, "hub.mode");
    const char *topic = httpd_call_arg(call, "hub.topic");
    const char *challenge = httpd_call_arg(call, "hub.challenge");
    const char *lease = httpd_call_arg(call, "hub.lease_seconds");
    int64_t now = now_s(), secs = LEASE_ASKED;
    char *end;

    if (mode == NULL || topic == NULL || strcmp(topic, s->topic) != 0)
        return 404;
    if (strcmp(mode, "denied") == 0 && s->state != WEBSUB_UNSUB) {
        const char *reason = httpd_call_arg(call, "hub.reason");

        log_warnx("%s: WebSub hub %s denied the subscription%s%.200s; asked "
                  "again in a week",
                  s->feed, s->hub, reason ? ": " : "", reason ? reason : "");
        if (s->state == WEBSUB_VERIFIED && ws->poller != NULL)
            poller_websub(ws->poller, s->feed, 0);
        s->state = WEBSUB_DENIED;
        s->asked = 0;
        s->lease_end = 0;
        s->due = now + DENIED_WAIT;
        save_soon(ws);
        arm(ws);
        return 200;
    }
    if (challenge == NULL || *challenge == '\0' || !s->asked)
        return 404;
    if (strcmp(mode, "subscribe") == 0 && s->state != WEBSUB_UNSUB) {
        if (lease != NULL) {
            long long v = strtoll(lease, &end, 10);

            if (end != lease && *end == '\0' && v > 0 && v < INT32_MAX)
                secs = v;
        }
        if (s->state != WEBSUB_VERIFIED)
            log_info("%s: WebSub subscription at %s verified, lease %" PRId64
                     " s",
                     s->feed, s->hub, secs);
        else
            log_debug("%s: WebSub lease at %s renewed, %" PRId64 " s", s->feed,
                      s->hub, secs);
        s->state = WEBSUB_VERIFIED;
        s->asked = 0;
        s->errors = 0;
        s->lease_end = now + secs;
        s->due = now + secs * 3 / 4;
        if (ws->poller != NULL)
            poller_websub(ws->poller, s->feed, 1);
    } else if (strcmp(mode, "unsubscribe") == 0 && s->state == WEBSUB_UNSUB) {
        log_info("%s: WebSub unsubscribe from %s verified", s->feed, s->hub);
        s->asked = 0;
        s->due = 0;
        prune(ws);
    } else {
        return 404;
    }
    save_soon(ws);
    arm(ws);
    return feed_buf_puts(reply, challenge) == 0 ? 200 : 503;
}

/* The hub's POST: new content of the topic, signed (W3C WebSub §7, §8).
 * A bad signature is acknowledged as a good one is (202), as §8 allows,
 * so that it tells a forger nothing; its content is dropped. */
static int
push(struct websub *ws, struct websub_sub *s, struct httpd_call *call)
{
    const struct config_feed *cf = config_feed_find(ws->cfg, s->feed);
    const char *sig = httpd_call_header(call, "X-Hub-Signature");
    int rc;

    if (ws->poller == NULL)
        return 503;
    if (cf == NULL || s->state == WEBSUB_UNSUB)
        return 410; /* §7: the subscriber is no longer interested */
    if (call->len > config_feed_fetch(ws->cfg, cf)->max_size) {
        log_warnx("%s: push refused: %zu bytes, over max_size", s->feed,
                  call->len);
        return 413;
    }
    if (!websub_sig_check(sig, s->secret, call->body, call->len)) {
        log_warnx("%s: push refused: %s signature (from %s)", s->feed,
                  sig == NULL ? "no" : "bad", s->hub);
        return 202;
    }
    rc = poller_push(ws->poller, s->feed, call->body, call->len,
                     httpd_call_header(call, "Content-Type"));
    if (rc == 1)
        log_debug("%s: pushed while polled: polled again", s->feed);
    return rc == -ENOENT ? 410 : rc < 0 ? 503 : 202;
}

/* An httpd_call_fn for WEBSUB_PREFIX. */
static int
on_call(void *arg, struct httpd_call *call, struct feed_buf *reply)
{
    struct websub *ws = arg;
    struct websub_sub *s;

    if (ws->closing)
        return 503;
    if ((s = find_token(ws, call->path + strlen(WEBSUB_PREFIX))) == NULL)
        return 404;
    if (strcmp(call->method, "GET") == 0)
        return verify(ws, s, call, reply);
    return push(ws, s, call);
}

/* ---- the feeds ---- */

static size_t
feed_bucket(const char *feed, size_t cap)
{
    return (size_t)strhash(feed) & (cap - 1);
}

static struct websub_sub *
find_feed(const struct websub *ws, const char *feed)
{
    struct websub_sub *s;

    if (ws->byfeed_ok) {
        if (ws->byfeed_cap == 0)
            return NULL;
        for (s = ws->byfeed[feed_bucket(feed, ws->byfeed_cap)]; s != NULL;
             s = s->hnext)
            if (strcmp(s->feed, feed) == 0)
                return s;
        return NULL;
    }
    for (s = ws->subs; s != NULL; s = s->next)
        if (s->state != WEBSUB_UNSUB && strcmp(s->feed, feed) == 0)
            return s;
    return NULL;
}

void
websub_seen(struct websub *ws, const char *feed, const char *hub,
            const char *self)
{
    struct websub_sub *s = find_feed(ws, feed);

    if (ws->closing)
        return;
    if (strncasecmp(hub, "http://", 7) != 0 &&
        strncasecmp(hub, "https://", 8) != 0) {
        log_debug("%s: WebSub hub %s: not http(s), not used", feed, hub);
        return;
    }
    if (s != NULL && strcmp(s->hub, hub) == 0 && strcmp(s->topic, self) == 0)
        return;
    if (s != NULL)
        unsubscribe_from(ws, s);
    if ((s = websub_sub_new(feed, hub, self)) == NULL ||
        random_hex(s->token, WEBSUB_TOKEN_LEN / 2) != 0 ||
        random_hex(s->secret, WEBSUB_SECRET_LEN / 2) != 0) {
        log_warnx("%s: WebSub: %s", feed,
                  s == NULL ? "out of memory" : "no random bytes");
        websub_sub_free(s);
        return;
    }
    s->state = WEBSUB_PENDING;
    s->next = ws->subs;
    ws->subs = s;
    index_add(ws, s);
    log_info("%s: subscribing at WebSub hub %s for %s", feed, hub, self);
    send_request(ws, s);
    save_soon(ws);
    arm(ws);
}

void
websub_unseen(struct websub *ws, const char *feed)
{
    struct websub_sub *s = find_feed(ws, feed);

    if (ws->closing || s == NULL || s->state == WEBSUB_UNSUB)
        return;
    log_info("%s: the feed no longer names a WebSub hub: unsubscribing from %s",
             feed, s->hub);
    unsubscribe_from(ws, s);
    save_soon(ws);
    arm(ws);
}

void
websub_reload(struct websub *ws, const struct config *cfg)
{
    struct websub_sub *s;

    ws->cfg = cfg;
    (void)fetcher_ca(ws->fetcher, cfg->ca_file);
    for (s = ws->subs; s != NULL; s = s->next)
        if (s->state != WEBSUB_UNSUB && config_feed_find(cfg, s->feed) == NULL)
            unsubscribe_from(ws, s);
    prune(ws);
    save_soon(ws);
    arm(ws);
}

/* ---- start and end ---- */

static void
ws_free(struct websub *ws)
{
    while (ws->subs != NULL) {
        struct websub_sub *next = ws->subs->next;

        websub_sub_free(ws->subs);
        ws->subs = next;
    }
    free(ws->byfeed);
    free(ws->path);
    free(ws->callback);
    free(ws);
}

static void
on_part_closed(void *arg)
{
    struct websub *ws = arg;

    if (--ws->open == 0)
        ws_free(ws);
}

static void
on_timer_closed(uv_handle_t *h)
{
    on_part_closed(h->data);
}

int
websub_serve(struct websub *ws, struct httpd *httpd)
{
    size_t max = ws->cfg->fetch.max_size, i;
    int rc;

    /* The largest of the feeds' caps: each push is held to its own. */
    for (i = 0; i < ws->cfg->nfeeds; i++) {
        const struct config_fetch *fx =
            config_feed_fetch(ws->cfg, &ws->cfg->feeds[i]);

        if (fx->max_size > max)
            max = fx->max_size;
    }
    if ((rc = httpd_set_handler(httpd, WEBSUB_PREFIX, max, on_call, ws)) != 0) {
        log_warnx("WebSub: cannot serve %s: %s", WEBSUB_PREFIX, strerror(-rc));
        return -1;
    }
    return 0;
}

struct websub *
websub_new(uv_loop_t *loop, const struct config *cfg, struct httpd *httpd)
{
    struct websub *ws = calloc(1, sizeof(*ws));
    const char *url = cfg->public_url;
    struct websub_sub *s;
    char err[256];
    size_t n, plen, clen;

    if (ws == NULL || url == NULL) {
        log_warnx("WebSub: %s", ws ? "no public_url" : "out of memory");
        free(ws);
        return NULL;
    }
    ws->loop = loop;
    ws->cfg = cfg;
    ws->byfeed_ok = 1;
    n = strlen(url);
    plen = strlen(cfg->state_dir) + sizeof(STATE_FILE) + 1;
    clen = n + sizeof(WEBSUB_PREFIX);
    if ((ws->path = malloc(plen)) == NULL ||
        (ws->callback = malloc(clen)) == NULL) {
        log_warnx("WebSub: out of memory");
        ws_free(ws);
        return NULL;
    }
    snprintf(ws->path, plen, "%s/%s", cfg->state_dir, STATE_FILE);
    /* public_url's '/' at its end, if any, is the prefix's first. */
    snprintf(ws->callback, clen, "%.*s%s",
             (int)(n > 0 && url[n - 1] == '/' ? n - 1 : n), url, WEBSUB_PREFIX);
    if ((ws->fetcher = fetcher_new(loop, 4, 2, err, sizeof(err))) == NULL) {
        log_warnx("WebSub: %s", err);
        ws_free(ws);
        return NULL;
    }
    if (cfg->ca_file != NULL)
        (void)fetcher_ca(ws->fetcher, cfg->ca_file);
    ws->open = 1;
    if (uv_timer_init(loop, &ws->timer) != 0) {
        log_warnx("WebSub: cannot make a timer");
        ws->closing = 1;
        fetcher_close(ws->fetcher, on_part_closed, ws);
        return NULL;
    }
    ws->timer.data = ws;
    ws->open++;
    if (uv_timer_init(loop, &ws->save_timer) != 0) {
        log_warnx("WebSub: cannot make a timer");
        ws->closing = 1;
        uv_close((uv_handle_t *)&ws->timer, on_timer_closed);
        fetcher_close(ws->fetcher, on_part_closed, ws);
        return NULL;
    }
    ws->save_timer.data = ws;
    ws->open++;
    load(ws);
    /* The feeds gone are unsubscribed from; a request that was under
     * way when feedd stopped is sent again when its due time comes (a
     * verification may still come). */
    for (s = ws->subs; s != NULL; s = s->next) {
        if (s->state == WEBSUB_UNSUB)
            continue;
        if (config_feed_find(cfg, s->feed) == NULL)
            unsubscribe_from(ws, s);
        else if (s->state == WEBSUB_PENDING && s->due == 0)
            s->due = now_s();
    }
    prune(ws);
    if (websub_serve(ws, httpd) != 0) {
        websub_close(ws);
        return NULL;
    }
    return ws;
}

void
websub_start(struct websub *ws, struct poller *poller)
{
    struct websub_sub *s;

    ws->poller = poller;
    /* The verified ones push already: their feeds are polled only as
     * the fallback. */
    for (s = ws->subs; s != NULL; s = s->next)
        if (s->state == WEBSUB_VERIFIED)
            poller_websub(poller, s->feed, 1);
    arm(ws);
}

void
websub_close(struct websub *ws)
{
    ws->closing = 1;
    ws->poller = NULL;
    save(ws);
    ws->dirty = 0;
    (void)uv_timer_stop(&ws->timer);
    uv_close((uv_handle_t *)&ws->timer, on_timer_closed);
    (void)uv_timer_stop(&ws->save_timer);
    uv_close((uv_handle_t *)&ws->save_timer, on_timer_closed);
    /* Each request under way ends cancelled. */
    fetcher_close(ws->fetcher, on_part_closed, ws);
}

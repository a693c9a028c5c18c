/* daemon/fetch.c - libcurl's multi_socket interface on the libuv loop.
 *
 * curl tells us which sockets to watch (on_socket) and when to wake it
 * (on_timer); uv_poll and uv_timer do the watching, and every event goes
 * back to curl_multi_socket_action(). Finished transfers are collected
 * after each action. Handles follow libuv's rule: freed only in their
 * close callback.
 *
 * The options every fetch shares, the limits and protocol restrictions
 * among them, are set once on a template handle when the fetcher is made,
 * each one checked; a fetch starts from a copy of it
 * (curl_easy_duphandle) and adds its own. A refused option fails the
 * fetcher, or the fetch, never lets it run without the limit.
 *
 * A fetch that ended well leaves its easy handle, still bound to its
 * struct fetch, on an idle list (at most `parallel` of them, about 8 KiB
 * each, freed by fetcher_close()): the next fetch takes it and sets again
 * every option a fetch sets, so that nothing of the last one carries
 * over; the shared ones are as the copy had them, as libcurl keeps a
 * handle's options from one transfer to the next. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "config.h"
#include "feeds/date.h"
#include "fetch.h"

/* The whole transfer, unless the request says otherwise. */
#define FETCH_TIMEOUT_S 120L

#define FETCH_ACCEPT                                                           \
    "Accept: application/atom+xml, application/rss+xml, "                      \
    "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "       \
    "*/*;q=0.5"
#define FETCH_INM "If-None-Match: "
#define FETCH_IMS "If-Modified-Since: "
/* A stored validator this long or longer is not sent. */
#define FETCH_VALIDATOR_MAX 900

struct fetcher {
    uv_loop_t *loop;
    CURLM *multi;
    CURL *base;           /* the options every fetch shares: copied per fetch */
    const char *cb_error; /* why a multi callback failed, when one did */
    uv_timer_t timer;
    struct fetch *list; /* transfers under way */
    struct fetch *idle; /* ended well, their handles kept for the next */
    struct sock *socks; /* sockets curl asked us to watch */
    size_t active;
    size_t nidle, max_idle;
    /* Counts the changes of base's options: a handle copied before the
     * last one is not kept idle. */
    unsigned base_gen;
    int closing;
    int open_handles; /* uv handles not yet closed */
    void (*done)(void *);
    void *done_arg;
};

struct fetch {
    struct fetcher *f;
    struct fetch *next;
    CURL *easy;
    unsigned base_gen; /* f->base_gen when easy was copied from base */
    struct curl_slist *headers;
    fetch_data_fn *on_data;
    fetch_done_fn *on_done;
    void *arg;
    size_t bytes, max_bytes;
    int paused;              /* on_data held it */
    int can_hold;            /* libcurl can hold it (not file://) */
    const char *abort_error; /* why we aborted, when we did */
    const char *watch_error; /* why a socket of it went unwatched */
    char limit_error[96];
    char *etag, *last_modified, *content_type;
    /* What the last response says of the next request: Retry-After in
     * seconds, Cache-Control max-age in seconds (-1: none of them),
     * Expires and Date (FEED_TIME_NONE: none). */
    int64_t retry_after, max_age, expires, date;
    /* The redirects followed, and whether one was not permanent. */
    int hops, temporary;
    char *url; /* where the body comes from after redirects (curl's) */
    char errbuf[CURL_ERROR_SIZE];
    /* The request headers: headers is the list of them, made of hdr. */
    struct curl_slist hdr[3];
    char accept[sizeof(FETCH_ACCEPT)];
    char inm[sizeof(FETCH_INM) + FETCH_VALIDATOR_MAX];
    char ims[sizeof(FETCH_IMS) + FETCH_VALIDATOR_MAX];
};

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
    struct fetcher *f;
    struct sock *next;
};

static void check_done(struct fetcher *);

/* One of f's handles is closed; the last one frees f. */
static void
fetcher_unref(struct fetcher *f)
{
    void (*done)(void *);
    void *arg;

    if (--f->open_handles > 0 || !f->closing)
        return;
    done = f->done;
    arg = f->done_arg;
    free(f);
    if (done)
        done(arg);
}

static void
timer_closed(uv_handle_t *h)
{
    fetcher_unref(h->data);
}

static void
sock_closed(uv_handle_t *h)
{
    struct sock *s = h->data;
    struct fetcher *f = s->f;

    free(s);
    fetcher_unref(f);
}

static void
sock_close(struct fetcher *f, struct sock *s)
{
    struct sock **pp;

    for (pp = &f->socks; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    (void)uv_poll_stop(&s->poll); /* fails only for a closing handle */
    uv_close((uv_handle_t *)&s->poll, sock_closed);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
    struct sock *s = h->data;
    struct fetcher *f = s->f;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    /* An error here is the transfers', and reaches them: check_done()
     * reports it. */
    (void)curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_done(f);
}

/* Records on the transfer of easy that one of its sockets cannot be
 * watched. The transfer is left to end by its own timeouts, with why as
 * its error: failing the callback instead would fail every transfer of
 * the multi handle, and the handle for good. */
static void
watch_failed(CURL *easy, const char *why)
{
    struct fetch *x = NULL;

    if (easy != NULL &&
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x) == CURLE_OK &&
        x != NULL && x->watch_error == NULL)
        x->watch_error = why;
}

/* CURLMOPT_SOCKETFUNCTION: watch, rewatch or forget a socket. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct fetcher *f = userp;
    struct sock *s = sockp;
    int events = 0;

    if (what == CURL_POLL_REMOVE) {
        if (s) {
            if (!f->closing)
                (void)curl_multi_assign(f->multi, fd, NULL);
            sock_close(f, s);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL) {
            watch_failed(easy, "out of memory");
            return 0;
        }
        s->fd = fd;
        s->f = f;
        if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
            free(s);
            watch_failed(easy, "cannot watch a socket");
            return 0;
        }
        s->poll.data = s;
        s->next = f->socks;
        f->socks = s;
        f->open_handles++;
        /* Cannot fail: curl asked about fd, so it knows it. */
        (void)curl_multi_assign(f->multi, fd, s);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    if (uv_poll_start(&s->poll, events, on_poll) != 0)
        watch_failed(easy, "cannot watch a socket");
    return 0;
}

static void
on_timeout(uv_timer_t *t)
{
    struct fetcher *f = t->data;
    int running;

    (void)curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(f);
}

/* CURLMOPT_TIMERFUNCTION: curl wants to be woken in ms (-1: never). It
 * must not be called back from here, so even 0 goes through the timer. */
static int
on_timer(CURLM *multi, long ms, void *userp)
{
    struct fetcher *f = userp;

    (void)multi;
    if (f->closing)
        return 0;
    if (ms < 0) {
        (void)uv_timer_stop(&f->timer); /* cannot fail */
        return 0;
    }
    /* Fails only for a closing handle. Then curl fails every transfer
     * with CURLE_ABORTED_BY_CALLBACK, which fetch_finish() explains. */
    if (uv_timer_start(&f->timer, on_timeout, (uint64_t)ms, 0) != 0) {
        f->cb_error = "cannot start a timer";
        return -1;
    }
    return 0;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *x = arg;
    struct fetch_chunk c;
    curl_off_t length = -1;
    size_t len = size * n;
    long status = 0;
    int rc;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    /* Only a 2xx body (or a file) is a feed; an error page is counted
     * against the cap and dropped. */
    if (x->bytes + len > x->max_bytes || x->bytes + len < x->bytes) {
        snprintf(x->limit_error, sizeof(x->limit_error),
                 "response larger than %zu bytes, the limit", x->max_bytes);
        x->abort_error = x->limit_error;
        return 0;
    }
    if (status != 0 && (status < 200 || status > 299)) {
        x->bytes += len;
        return len;
    }
    if (x->on_data) {
        /* Redirects are over once a body flows: asked of curl once. */
        if (x->url == NULL)
            curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &x->url);
        c.content_type = x->content_type;
        c.url = x->url;
        c.length = -1;
        if (curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T,
                              &length) == CURLE_OK &&
            length >= 0)
            c.length = (int64_t)length;
        c.can_hold = x->can_hold;
        rc = x->on_data(p, len, &c, &x->abort_error, x->arg);
        if (rc == FETCH_PAUSE && x->can_hold) {
            x->paused = 1;
            return CURL_WRITEFUNC_PAUSE;
        }
        if (rc != 0) {
            if (x->abort_error == NULL)
                x->abort_error = "aborted";
            return 0;
        }
    }
    x->bytes += len;
    return len;
}

/* The value of header name (case-insensitive) in line, trimmed, copied
 * into buf (n bytes, cut when longer); NULL when line is another header. */
static const char *
header_value(const char *line, size_t len, const char *name, char *buf,
             size_t n)
{
    size_t k = strlen(name);
    const char *v, *end = line + len;

    if (len <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return NULL;
    v = line + k + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    k = (size_t)(end - v) < n ? (size_t)(end - v) : n - 1;
    memcpy(buf, v, k);
    buf[k] = '\0';
    return buf;
}

/* Keeps a copy of the value of header name (case-insensitive) in *dst,
 * whole. */
static void
keep_header(const char *line, size_t len, const char *name, char **dst)
{
    size_t n = strlen(name);
    const char *v, *end = line + len;

    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return;
    v = line + n + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    free(*dst);
    *dst = strndup(v, (size_t)(end - v));
}

/* A number of seconds: digits only, capped at a year. -1 when s is not. */
static int64_t
delta_seconds(const char *s)
{
    int64_t n = 0;

    if (!isdigit((unsigned char)*s))
        return -1;
    for (; isdigit((unsigned char)*s); s++)
        if ((n = n * 10 + (*s - '0')) > 366 * 86400)
            n = 366 * 86400;
    return *s == '\0' ? n : -1;
}

/* The headers that say when to ask again: Retry-After (RFC 9110 10.2.3:
 * seconds or an HTTP-date), Cache-Control's max-age, Expires and Date
 * (RFC 9111 5.2.2.1, 5.3). */
static void
when_headers(struct fetch *x, const char *line, size_t len)
{
    char buf[256];
    const char *v, *at;
    int64_t t;

    if ((v = header_value(line, len, "retry-after", buf, sizeof(buf)))) {
        if ((x->retry_after = delta_seconds(v)) < 0 &&
            (t = feed_date_parse_http(v)) != FEED_TIME_NONE)
            x->retry_after = t > (int64_t)time(NULL) ? t - time(NULL) : 0;
    } else if ((v = header_value(line, len, "cache-control", buf,
                                 sizeof(buf)))) {
        for (at = v; (at = strstr(at, "max-age=")) != NULL; at += 8)
            if (at == v || at[-1] == ' ' || at[-1] == ',') {
                char num[16];
                size_t n = strspn(at + 8, "0123456789");

                if (n > 0 && n < sizeof(num)) {
                    memcpy(num, at + 8, n);
                    num[n] = '\0';
                    x->max_age = delta_seconds(num);
                }
                break;
            }
    } else if ((v = header_value(line, len, "expires", buf, sizeof(buf)))) {
        /* An invalid date (such as "0") means already expired. */
        t = feed_date_parse_http(v);
        x->expires = t != FEED_TIME_NONE ? t : 0;
    } else if ((v = header_value(line, len, "date", buf, sizeof(buf)))) {
        x->date = feed_date_parse_http(v);
    }
}

static void
when_reset(struct fetch *x)
{
    x->retry_after = x->max_age = -1;
    x->expires = x->date = FEED_TIME_NONE;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *x = arg;
    size_t len = size * n;

    /* A new status line: headers of an earlier response (a redirect) no
     * longer count. */
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        const char *sp = memchr(p, ' ', len);
        long code = sp != NULL ? strtol(sp + 1, NULL, 10) : 0;

        if (code >= 300 && code <= 399) {
            x->hops++;
            if (code != 301 && code != 308)
                x->temporary = 1;
        }
        free(x->etag);
        free(x->last_modified);
        free(x->content_type);
        x->etag = x->last_modified = x->content_type = NULL;
        when_reset(x);
        return len;
    }
    when_headers(x, p, len);
    switch (len > 0 ? tolower((unsigned char)p[0]) : 0) {
    case 'e':
        keep_header(p, len, "etag", &x->etag);
        break;
    case 'l':
        keep_header(p, len, "last-modified", &x->last_modified);
        break;
    case 'c':
        keep_header(p, len, "content-type", &x->content_type);
        break;
    }
    return len;
}

/* Frees what x's last fetch owned and zeroes it, but for its fetcher and
 * its easy handle: x is as new, its handle as that fetch left it. */
static void
fetch_clear(struct fetch *x)
{
    struct fetcher *f = x->f;
    CURL *easy = x->easy;
    unsigned gen = x->base_gen;

    free(x->etag);
    free(x->last_modified);
    free(x->content_type);
    memset(x, 0, sizeof(*x));
    x->f = f;
    x->easy = easy;
    x->base_gen = gen;
}

static void
fetch_free(struct fetch *x)
{
    fetch_clear(x);
    if (x->easy != NULL)
        curl_easy_cleanup(x->easy);
    free(x);
}

/* Frees idle fetches and their handles until keep are left. */
static void
idle_trim(struct fetcher *f, size_t keep)
{
    struct fetch *x;

    while (f->nidle > keep) {
        x = f->idle;
        f->idle = x->next;
        f->nidle--;
        fetch_free(x);
    }
}

/* x, out of the multi handle, is done with: kept idle for the next fetch
 * to take when it ended well (keep) and fewer than max_idle are, else
 * freed. */
static void
fetch_release(struct fetcher *f, struct fetch *x, int keep)
{
    if (keep && !f->closing && f->nidle < f->max_idle &&
        x->base_gen == f->base_gen) {
        fetch_clear(x);
        x->next = f->idle;
        f->idle = x;
        f->nidle++;
        return;
    }
    fetch_free(x);
}

/* Unlinks x, tells its owner how it ended and releases it. */
static void
fetch_finish(struct fetcher *f, struct fetch *x, CURLcode code, int cancelled)
{
    struct fetch_result r;
    struct fetch **pp;
    char msg[CURL_ERROR_SIZE + 64];
    char *url = NULL;

    for (pp = &f->list; *pp; pp = &(*pp)->next)
        if (*pp == x) {
            *pp = x->next;
            break;
        }
    f->active--;
    memset(&r, 0, sizeof(r));
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
    curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &url);
    r.url = url;
    r.etag = x->etag;
    r.last_modified = x->last_modified;
    r.content_type = x->content_type;
    r.cancelled = cancelled;
    r.retry_after = x->retry_after;
    r.moved = x->hops > 0 && !x->temporary;
    /* max-age first; else Expires, against the server's own clock. */
    r.fresh_for = x->max_age;
    if (r.fresh_for < 0 && x->expires != FEED_TIME_NONE) {
        int64_t now = x->date != FEED_TIME_NONE ? x->date : time(NULL);

        r.fresh_for = x->expires > now ? x->expires - now : 0;
    }
    if (cancelled) {
        r.error = "cancelled";
    } else if (x->abort_error) {
        r.error = x->abort_error;
    } else if (code != CURLE_OK && x->watch_error) {
        r.error = x->watch_error;
    } else if (code == CURLE_ABORTED_BY_CALLBACK && f->cb_error) {
        r.error = f->cb_error;
    } else if (code == CURLE_FILESIZE_EXCEEDED) {
        /* Its Content-Length said so: in the words of on_write()'s cap. */
        snprintf(msg, sizeof(msg), "response larger than %zu bytes, the limit",
                 x->max_bytes);
        r.error = msg;
    } else if (code != CURLE_OK) {
        snprintf(msg, sizeof(msg), "%s",
                 x->errbuf[0] ? x->errbuf : curl_easy_strerror(code));
        r.error = msg;
    } else if (r.status == 304) {
        r.ok = 1;
        r.not_modified = 1;
    } else if (r.status == 0 || (r.status >= 200 && r.status <= 299)) {
        r.ok = 1;
    } else {
        snprintf(msg, sizeof(msg), "HTTP %ld", r.status);
        r.error = msg;
    }
    (void)curl_multi_remove_handle(f->multi, x->easy); /* it is there */
    x->on_done(&r, x->arg);
    fetch_release(f, x, !cancelled && code == CURLE_OK);
}

static void
check_done(struct fetcher *f)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
        struct fetch *x = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        fetch_finish(f, x, m->data.result, 0);
    }
}

/* Sets option o of handle h to v, with setopt (curl_easy_setopt or
 * curl_multi_setopt), first keeping the option's name in *name: the
 * setopt's return code, which the caller checks. */
#define FETCH_SET(setopt, h, o, v, name) ((*(name) = #o), setopt(h, o, v))

/* The options of the multi handle: its callbacks and the connection caps.
 * CURLM_OK, or the first code that is not, with the option in *name. */
static CURLMcode
fetch_multi_setup(struct fetcher *f, long parallel, long per_host,
                  const char **name)
{
    CURLM *m = f->multi;
    CURLMcode rc;

#define FETCH_OPT(o, v) FETCH_SET(curl_multi_setopt, m, o, v, name)
    if ((rc = FETCH_OPT(CURLMOPT_SOCKETFUNCTION, on_socket)) != CURLM_OK ||
        (rc = FETCH_OPT(CURLMOPT_SOCKETDATA, f)) != CURLM_OK ||
        (rc = FETCH_OPT(CURLMOPT_TIMERFUNCTION, on_timer)) != CURLM_OK ||
        (rc = FETCH_OPT(CURLMOPT_TIMERDATA, f)) != CURLM_OK ||
        (rc = FETCH_OPT(CURLMOPT_MAX_TOTAL_CONNECTIONS, parallel)) !=
            CURLM_OK ||
        (rc = FETCH_OPT(CURLMOPT_MAX_HOST_CONNECTIONS, per_host)) != CURLM_OK ||
        /* Idle connections kept for the next polls: as many as may be
         * open. curl's default, four per transfer under way, closes
         * them whenever few are: a round of quick 304s opened six
         * connections per 40 polls. */
        (rc = FETCH_OPT(CURLMOPT_MAXCONNECTS, parallel)) != CURLM_OK ||
        /* HTTP/2 where the server offers it (ALPN): one connection
         * carries many polls of a host. */
        (rc = FETCH_OPT(CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX)) != CURLM_OK)
        return rc;
#undef FETCH_OPT
    return CURLM_OK;
}

/* The options every fetch shares, on the template handle e. CURLE_OK, or
 * the first code that is not, with the option in *name. */
static CURLcode
fetch_base_setup(CURL *e, const char **name)
{
    CURLcode rc;

#define FETCH_OPT(o, v) FETCH_SET(curl_easy_setopt, e, o, v, name)
    if ((rc = FETCH_OPT(CURLOPT_WRITEFUNCTION, on_write)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_HEADERFUNCTION, on_header)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        /* A feed's URL decides what may be read: a web feed can never
         * redirect to a local file. "file" is tried here too, so that a
         * libcurl that refuses it fails now rather than at a file feed. */
        (rc = FETCH_OPT(CURLOPT_PROTOCOLS_STR, "file")) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_PROTOCOLS_STR, "http,https")) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https")) !=
            CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_FOLLOWLOCATION, 1L)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_MAXREDIRS, 5L)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_ACCEPT_ENCODING, "")) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_USERAGENT, CONFIG_DEFAULT_USER_AGENT)) !=
            CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_CONNECTTIMEOUT,
                        (long)CONFIG_DEFAULT_CONNECT_TIMEOUT)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_TIMEOUT, FETCH_TIMEOUT_S)) != CURLE_OK ||
        /* A server that trickles: under 16 bytes/s for 30 s is dead. */
        (rc = FETCH_OPT(CURLOPT_LOW_SPEED_LIMIT, 16L)) != CURLE_OK ||
        (rc = FETCH_OPT(CURLOPT_LOW_SPEED_TIME, 30L)) != CURLE_OK)
        return rc;
#undef FETCH_OPT
    return CURLE_OK;
}

int
fetcher_ca(struct fetcher *f, const char *file)
{
    const curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);

    /* Unset, libcurl's own default: the bundle it was built with. */
    if (file == NULL)
        file = v->cainfo;
    if (curl_easy_setopt(f->base, CURLOPT_CAINFO, file) != CURLE_OK)
        return -1;
    /* The handles kept idle, and those of the fetches under way, were
     * copied from the base before. */
    f->base_gen++;
    idle_trim(f, 0);
    return 0;
}

int
fetcher_caps(struct fetcher *f, int parallel, int per_host)
{
    if (curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                          (long)parallel) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                          (long)per_host) != CURLM_OK ||
        curl_multi_setopt(f->multi, CURLMOPT_MAXCONNECTS, (long)parallel) !=
            CURLM_OK)
        return -1;
    f->max_idle = parallel > 0 ? (size_t)parallel : 0;
    idle_trim(f, f->max_idle);
    return 0;
}

struct fetcher *
fetcher_new(uv_loop_t *loop, int parallel, int per_host, char *err,
            size_t errlen)
{
    static int global_done;
    struct fetcher *f;
    const char *name = NULL;
    CURLMcode mrc;
    CURLcode rc;
    int uvrc;

    if (!global_done) {
        if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK) {
            snprintf(err, errlen, "libcurl failed to initialize: %s",
                     curl_easy_strerror(rc));
            return NULL;
        }
        global_done = 1;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL || (f->multi = curl_multi_init()) == NULL ||
        (f->base = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    f->loop = loop;
    f->max_idle = parallel > 0 ? (size_t)parallel : 0;
    if ((mrc = fetch_multi_setup(f, parallel, per_host, &name)) != CURLM_OK) {
        snprintf(err, errlen, "libcurl refused %s: %s", name,
                 curl_multi_strerror(mrc));
        goto fail;
    }
    if ((rc = fetch_base_setup(f->base, &name)) != CURLE_OK) {
        snprintf(err, errlen, "libcurl refused %s: %s", name,
                 curl_easy_strerror(rc));
        goto fail;
    }
    if ((uvrc = uv_timer_init(loop, &f->timer)) != 0) {
        snprintf(err, errlen, "cannot make a timer: %s", uv_strerror(uvrc));
        goto fail;
    }
    f->timer.data = f;
    f->open_handles = 1;
    return f;
fail:
    if (f != NULL) {
        if (f->multi != NULL)
            (void)curl_multi_cleanup(f->multi);
        if (f->base != NULL)
            curl_easy_cleanup(f->base);
        free(f);
    }
    return NULL;
}

/* The options that bind a new copy e of the template to x, which keeps
 * it from one fetch to the next. CURLE_OK, or the first code that is
 * not. */
static CURLcode
fetch_bind(struct fetch *x, CURL *e)
{
    CURLcode rc;

    if ((rc = curl_easy_setopt(e, CURLOPT_PRIVATE, x)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, x)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_HEADERDATA, x)) != CURLE_OK)
        return rc;
    return CURLE_OK;
}

/* The options of one fetch of req, on x's handle e: each of them, each
 * time, so that none is left from the handle's last fetch. CURLE_OK, or
 * the first code that is not. */
static CURLcode
fetch_setup(struct fetch *x, CURL *e, const struct fetch_req *req)
{
    int file = strncasecmp(req->url, "file:", 5) == 0;
    CURLcode rc;

    if ((rc = curl_easy_setopt(e, CURLOPT_URL, req->url)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers)) != CURLE_OK)
        return rc;
    /* Over TLS a connection says at its handshake (ALPN) whether it takes
     * more than one request at once (HTTP/2): a fetch waits for that and
     * then shares it rather than opening one more. Not over plain HTTP,
     * where curl learns it only from the first response, and a hung
     * server would hold every fetch of its host behind the first. */
    if ((rc = curl_easy_setopt(
             e, CURLOPT_PIPEWAIT,
             strncasecmp(req->url, "https:", 6) == 0 ? 1L : 0L)) != CURLE_OK)
        return rc;
    /* The limits of this fetch. */
    if ((rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                               file ? "file" : "http,https")) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT,
                               req->timeout_s > 0 ? req->timeout_s
                                                  : FETCH_TIMEOUT_S)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                               req->connect_timeout_s > 0
                                   ? req->connect_timeout_s
                                   : (long)CONFIG_DEFAULT_CONNECT_TIMEOUT)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_USERAGENT,
                               req->user_agent != NULL
                                   ? req->user_agent
                                   : CONFIG_DEFAULT_USER_AGENT)) != CURLE_OK)
        return rc;
    /* A GET unless asked: the handle may have made a POST last time. */
    if ((rc = req->form != NULL
                  ? curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, req->form)
                  : curl_easy_setopt(e, CURLOPT_HTTPGET, 1L)) != CURLE_OK)
        return rc;
    return curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                            (curl_off_t)req->max_bytes);
}

/* Appends the header name value, made in buf, to x->headers, when value
 * is there and shorter than FETCH_VALIDATOR_MAX (or name is the Accept
 * line, and value NULL). */
static void
fetch_header(struct fetch *x, char *buf, const char *name, const char *value)
{
    size_t i, n = strlen(name), len = 0;

    if (value != NULL &&
        (*value == '\0' || (len = strlen(value)) >= FETCH_VALIDATOR_MAX))
        return;
    memcpy(buf, name, n);
    if (value != NULL)
        memcpy(buf + n, value, len);
    buf[n + len] = '\0';
    for (i = 0; x->hdr[i].data != NULL; i++)
        ;
    x->hdr[i].data = buf;
    x->hdr[i].next = NULL;
    if (i > 0)
        x->hdr[i - 1].next = &x->hdr[i];
}

/* The request headers of req into x->headers, made in x: nothing to
 * allocate. */
static void
fetch_headers(struct fetch *x, const struct fetch_req *req)
{
    fetch_header(x, x->accept, FETCH_ACCEPT, NULL);
    fetch_header(x, x->inm, FETCH_INM, req->etag);
    fetch_header(x, x->ims, FETCH_IMS, req->last_modified);
    x->headers = &x->hdr[0];
}

/* A fetch to start: an idle one, or a new one with a copy of the
 * template. NULL with *err set when there is none. */
static struct fetch *
fetch_take(struct fetcher *f, int *err)
{
    struct fetch *x = f->idle;
    CURLcode rc;

    if (x != NULL) {
        f->idle = x->next;
        f->nidle--;
        x->next = NULL;
        return x;
    }
    *err = -ENOMEM;
    if ((x = calloc(1, sizeof(*x))) == NULL)
        return NULL;
    x->f = f;
    x->base_gen = f->base_gen;
    if ((x->easy = curl_easy_duphandle(f->base)) == NULL) {
        free(x);
        return NULL;
    }
    if ((rc = fetch_bind(x, x->easy)) != CURLE_OK) {
        *err = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        fetch_free(x);
        return NULL;
    }
    return x;
}

int
fetcher_start(struct fetcher *f, const struct fetch_req *req)
{
    struct fetch *x;
    CURLcode rc;
    int err = -ENOMEM;

    if (f->closing)
        return -ECANCELED;
    if ((x = fetch_take(f, &err)) == NULL)
        return err;
    x->on_data = req->on_data;
    x->can_hold = strncasecmp(req->url, "file:", 5) != 0;
    x->on_done = req->on_done;
    x->arg = req->arg;
    x->max_bytes = req->max_bytes;
    when_reset(x);
    fetch_headers(x, req);
    /* The shared options were checked in fetcher_new(); what can go wrong
     * now is memory, or a value of req that libcurl refuses. */
    if ((rc = fetch_setup(x, x->easy, req)) != CURLE_OK) {
        err = rc == CURLE_OUT_OF_MEMORY ? -ENOMEM : -EINVAL;
        goto fail;
    }
    if (curl_multi_add_handle(f->multi, x->easy) != CURLM_OK)
        goto fail;
    x->next = f->list;
    f->list = x;
    f->active++;
    return 0;
fail:
    fetch_free(x);
    return err;
}

size_t
fetcher_active(const struct fetcher *f)
{
    return f->active;
}

int
fetcher_resume(struct fetcher *f, void *arg)
{
    struct fetch *x;

    for (x = f->list; x; x = x->next)
        if (x->arg == arg && x->paused) {
            x->paused = 0;
            (void)curl_easy_pause(x->easy, CURLPAUSE_CONT);
            return 1;
        }
    return 0;
}

void
fetcher_close(struct fetcher *f, void (*done)(void *), void *arg)
{
    f->closing = 1;
    f->done = done;
    f->done_arg = arg;
    while (f->list)
        fetch_finish(f, f->list, CURLE_OK, 1);
    idle_trim(f, 0);
    /* The connection cache goes too; curl may tell on_socket to forget
     * sockets while it does. Any it did not mention are closed after. */
    (void)curl_multi_cleanup(f->multi);
    f->multi = NULL;
    curl_easy_cleanup(f->base);
    f->base = NULL;
    while (f->socks)
        sock_close(f, f->socks);
    (void)uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, timer_closed);
}

void
fetch_global_cleanup(void)
{
    curl_global_cleanup();
}

/* daemon/fetch.c - libcurl's multi_socket interface on the libuv loop.
 *
 * curl tells us which sockets to watch (on_socket) and when to wake it
 * (on_timer); uv_poll and uv_timer do the watching, and every event goes
 * back to curl_multi_socket_action(). Finished transfers are collected
 * after each action. Handles follow libuv's rule: freed only in their
 * close callback. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "fetch.h"

struct fetcher {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct fetch *list; /* transfers under way */
    struct sock *socks; /* sockets curl asked us to watch */
    size_t active;
    int closing;
    int open_handles; /* uv handles not yet closed */
    void (*done)(void *);
    void *done_arg;
};

struct fetch {
    struct fetcher *f;
    struct fetch *next;
    CURL *easy;
    struct curl_slist *headers;
    fetch_data_fn *on_data;
    fetch_done_fn *on_done;
    void *arg;
    size_t bytes, max_bytes;
    const char *abort_error; /* why we aborted, when we did */
    char limit_error[96];
    char *etag, *last_modified, *content_type;
    char *url; /* where the body comes from after redirects (curl's) */
    char errbuf[CURL_ERROR_SIZE];
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
    uv_poll_stop(&s->poll);
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
    curl_multi_socket_action(f->multi, s->fd, flags, &running);
    check_done(f);
}

/* CURLMOPT_SOCKETFUNCTION: watch, rewatch or forget a socket. */
static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *sockp)
{
    struct fetcher *f = userp;
    struct sock *s = sockp;
    int events = 0;

    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            if (!f->closing)
                curl_multi_assign(f->multi, fd, NULL);
            sock_close(f, s);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            return -1;
        s->fd = fd;
        s->f = f;
        if (uv_poll_init_socket(f->loop, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = f->socks;
        f->socks = s;
        f->open_handles++;
        curl_multi_assign(f->multi, fd, s);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void
on_timeout(uv_timer_t *t)
{
    struct fetcher *f = t->data;
    int running;

    curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
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
    if (ms < 0)
        uv_timer_stop(&f->timer);
    else
        uv_timer_start(&f->timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

static size_t
on_write(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *x = arg;
    size_t len = size * n;
    long status = 0;

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
    /* Only a 2xx body (or a file) is a feed; an error page is counted
     * against the cap and dropped. */
    if (x->bytes + len > x->max_bytes || x->bytes + len < x->bytes) {
        snprintf(x->limit_error, sizeof(x->limit_error),
                 "response larger than %zu bytes", x->max_bytes);
        x->abort_error = x->limit_error;
        return 0;
    }
    x->bytes += len;
    if (status != 0 && (status < 200 || status > 299))
        return len;
    if (x->on_data) {
        /* Redirects are over once a body flows: asked of curl once. */
        if (x->url == NULL)
            curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &x->url);
        if (x->on_data(p, len, x->content_type, x->url, &x->abort_error,
                       x->arg) == 0)
            return len;
        if (x->abort_error == NULL)
            x->abort_error = "aborted";
        return 0;
    }
    return len;
}

/* Keeps a copy of the value of header name (case-insensitive) in *dst. */
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

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
    struct fetch *x = arg;
    size_t len = size * n;

    /* A new status line: headers of an earlier response (a redirect) no
     * longer count. */
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        free(x->etag);
        free(x->last_modified);
        free(x->content_type);
        x->etag = x->last_modified = x->content_type = NULL;
        return len;
    }
    keep_header(p, len, "etag", &x->etag);
    keep_header(p, len, "last-modified", &x->last_modified);
    keep_header(p, len, "content-type", &x->content_type);
    return len;
}

static void
fetch_free(struct fetch *x)
{
    curl_slist_free_all(x->headers);
    free(x->etag);
    free(x->last_modified);
    free(x->content_type);
    free(x);
}

/* Unlinks x, tells its owner how it ended and frees it. */
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
    if (cancelled) {
        r.error = "cancelled";
    } else if (x->abort_error) {
        r.error = x->abort_error;
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
    curl_multi_remove_handle(f->multi, x->easy);
    x->on_done(&r, x->arg);
    curl_easy_cleanup(x->easy);
    fetch_free(x);
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

struct fetcher *
fetcher_new(uv_loop_t *loop, int parallel, int per_host, char *err,
            size_t errlen)
{
    static int global_done;
    struct fetcher *f;

    if (curl_load(err, errlen) != 0)
        return NULL;
    if (!global_done) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            snprintf(err, errlen, "libcurl failed to initialize");
            return NULL;
        }
        global_done = 1;
    }
    snprintf(err, errlen, "out of memory");
    f = calloc(1, sizeof(*f));
    if (f == NULL)
        return NULL;
    f->loop = loop;
    f->multi = curl_multi_init();
    if (f->multi == NULL) {
        free(f);
        return NULL;
    }
    uv_timer_init(loop, &f->timer);
    f->timer.data = f;
    f->open_handles = 1;
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
    curl_multi_setopt(f->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                      (long)parallel);
    curl_multi_setopt(f->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                      (long)per_host);
    return f;
}

int
fetcher_start(struct fetcher *f, const struct fetch_req *req)
{
    struct fetch *x;
    CURL *e;
    int is_file = strncasecmp(req->url, "file:", 5) == 0;
    char hdr[1024];

    if (f->closing)
        return -ECANCELED;
    x = calloc(1, sizeof(*x));
    if (x == NULL)
        return -ENOMEM;
    x->f = f;
    x->on_data = req->on_data;
    x->on_done = req->on_done;
    x->arg = req->arg;
    x->max_bytes = req->max_bytes;
    x->easy = e = curl_easy_init();
    if (e == NULL)
        goto nomem;
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* A feed's URL decides what may be read: a web feed can never
     * redirect to a local file. */
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, is_file ? "file" : "http,https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(e, CURLOPT_USERAGENT, "feedd/" FEEDD_VERSION);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT, req->timeout_s > 0 ? req->timeout_s
                                                            : 120L);
    /* A server that trickles: under 16 bytes/s for 30 s is dead. */
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 16L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 30L);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                     (curl_off_t)req->max_bytes);
    x->headers = curl_slist_append(NULL,
                                   "Accept: application/atom+xml, "
                                   "application/rss+xml, "
                                   "application/rdf+xml;q=0.9, "
                                   "application/xml;q=0.8, text/xml;q=0.8, "
                                   "*/*;q=0.5");
    if (x->headers == NULL)
        goto nomem;
    if (req->etag && *req->etag && strlen(req->etag) < 900) {
        snprintf(hdr, sizeof(hdr), "If-None-Match: %s", req->etag);
        if (!curl_slist_append(x->headers, hdr))
            goto nomem;
    }
    if (req->last_modified && *req->last_modified &&
        strlen(req->last_modified) < 900) {
        snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s",
                 req->last_modified);
        if (!curl_slist_append(x->headers, hdr))
            goto nomem;
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    if (curl_multi_add_handle(f->multi, e) != CURLM_OK)
        goto nomem;
    x->next = f->list;
    f->list = x;
    f->active++;
    return 0;
nomem:
    if (x->easy)
        curl_easy_cleanup(x->easy);
    fetch_free(x);
    return -ENOMEM;
}

size_t
fetcher_active(const struct fetcher *f)
{
    return f->active;
}

void
fetcher_close(struct fetcher *f, void (*done)(void *), void *arg)
{
    f->closing = 1;
    f->done = done;
    f->done_arg = arg;
    while (f->list)
        fetch_finish(f, f->list, CURLE_OK, 1);
    /* The connection cache goes too; curl may tell on_socket to forget
     * sockets while it does. Any it did not mention are closed after. */
    curl_multi_cleanup(f->multi);
    f->multi = NULL;
    while (f->socks)
        sock_close(f, f->socks);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, timer_closed);
}

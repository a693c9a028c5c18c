/* tests/unit/test_fetch.c - the fetcher (daemon/fetch.c) on a libuv loop,
 * against file:// URLs and feedd's own HTTP server (daemon/httpd.c) on the
 * same loop. curl_easy_setopt, curl_multi_setopt and calloc are wrapped by
 * the linker (see tests/CMakeLists.txt), so that the test can make libcurl
 * refuse an option, or memory run out, where it chooses; and
 * curl_easy_duphandle and curl_easy_cleanup, so that it can count the
 * handles made and freed. */
#define CURL_DISABLE_TYPECHECK 1
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "fetch.h"
#include "httpd.h"

#define FEED                                                                   \
    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title></feed>"
#define GUARD_MS 10000

/* ---- the wrapped functions ----------------------------------------------
 * The call of option refuse_opt that comes after refuse_skip others of it
 * fails with refuse_code; the next fail_callocs calls to calloc from this
 * executable's own objects (not libcurl's or libuv's) return NULL. */
static long refuse_opt = -1;
static int refuse_multi; /* refuse_opt is a CURLMOPT_* */
static int refuse_skip;
static int refused; /* how many calls were refused */
static CURLcode refuse_code = CURLE_UNKNOWN_OPTION;
static int fail_callocs;
static int dups;     /* calls of curl_easy_duphandle */
static int cleanups; /* calls of curl_easy_cleanup */

CURLcode __real_curl_easy_setopt(CURL *, CURLoption, ...);
CURLMcode __real_curl_multi_setopt(CURLM *, CURLMoption, ...);
CURLcode __wrap_curl_easy_setopt(CURL *, CURLoption, ...);
CURLMcode __wrap_curl_multi_setopt(CURLM *, CURLMoption, ...);
void *__real_calloc(size_t, size_t);
void *__wrap_calloc(size_t, size_t);
CURL *__real_curl_easy_duphandle(CURL *);
CURL *__wrap_curl_easy_duphandle(CURL *);
void __real_curl_easy_cleanup(CURL *);
void __wrap_curl_easy_cleanup(CURL *);

void
__wrap_curl_easy_cleanup(CURL *h)
{
    cleanups++;
    __real_curl_easy_cleanup(h);
}

CURL *
__wrap_curl_easy_duphandle(CURL *h)
{
    dups++;
    return __real_curl_easy_duphandle(h);
}

static int
refuse(long opt, int multi)
{
    if (opt != refuse_opt || multi != refuse_multi)
        return 0;
    if (refuse_skip > 0) {
        refuse_skip--;
        return 0;
    }
    refused++;
    return 1;
}

/* The argument of an option is read by its number, as libcurl reads it:
 * below 10000 a long, then an object, a function, a curl_off_t. */
CURLcode
__wrap_curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    va_list ap;
    CURLcode rc;

    if (refuse((long)opt, 0))
        return refuse_code;
    va_start(ap, opt);
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = __real_curl_easy_setopt(h, opt, va_arg(ap, long));
    else if (opt >= CURLOPTTYPE_FUNCTIONPOINT && opt < CURLOPTTYPE_OFF_T)
        rc = __real_curl_easy_setopt(h, opt, va_arg(ap, void (*)(void)));
    else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
        rc = __real_curl_easy_setopt(h, opt, va_arg(ap, curl_off_t));
    else
        rc = __real_curl_easy_setopt(h, opt, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

CURLMcode
__wrap_curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    va_list ap;
    CURLMcode rc;

    if (refuse((long)opt, 1))
        return CURLM_UNKNOWN_OPTION;
    va_start(ap, opt);
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        rc = __real_curl_multi_setopt(m, opt, va_arg(ap, long));
    else if (opt >= CURLOPTTYPE_FUNCTIONPOINT && opt < CURLOPTTYPE_OFF_T)
        rc = __real_curl_multi_setopt(m, opt, va_arg(ap, void (*)(void)));
    else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
        rc = __real_curl_multi_setopt(m, opt, va_arg(ap, curl_off_t));
    else
        rc = __real_curl_multi_setopt(m, opt, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

void *
__wrap_calloc(size_t n, size_t size)
{
    if (fail_callocs > 0) {
        fail_callocs--;
        return NULL;
    }
    return __real_calloc(n, size);
}

/* ---- the fixture --------------------------------------------------------- */

struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    uv_timer_t resume; /* test_pause's, test_reuse's */
    int timed_out;
    struct fetcher *fetcher;
    struct httpd *httpd;
    char dir[64];
    char url[128];           /* http://127.0.0.1:port/feed.atom */
    int closing;             /* close calls made with on_closed */
    int closed;              /* on_closed calls */
    uv_tcp_t silent;         /* a server that never answers, or answers */
    int silent_on;           /* it was made */
    int answer;              /* it answers each request head with a 304 */
    uv_tcp_t silent_conn[8]; /* the connections it took */
    int silent_conns;
    char request[4096]; /* the last request head it read (answer set) */
    size_t request_len;
    int answered; /* requests it answered */
};

/* What one fetch saw. */
struct result {
    uv_loop_t *loop;
    int done;
    int ok, not_modified, cancelled;
    long status;
    char error[256];
    char etag[64];
    char body[4096];
    size_t len;
    int64_t length; /* the last chunk's fetch_chunk.length */
    int hold;       /* chunks to hold (FETCH_PAUSE) before taking one */
    int held;
};

static void
on_guard(uv_timer_t *t)
{
    struct fixture *fx = t->data;

    fx->timed_out = 1;
}

/* Runs the loop until *flag is set; fails the test after GUARD_MS. */
static void
run_until(struct fixture *fx, const int *flag)
{
    fx->timed_out = 0;
    assert_int_equal(uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0), 0);
    while (!*flag && !fx->timed_out)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->timed_out);
}

static void
on_closed(void *arg)
{
    struct fixture *fx = arg;

    fx->closed++;
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    char err[256];
    static const char mtime_doc[] = FEED;

    assert_non_null(fx);
    dups = 0;
    cleanups = 0;
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
    fx->guard.data = fx;
    assert_int_equal(uv_timer_init(&fx->loop, &fx->resume), 0);
    fx->httpd = httpd_new(&fx->loop, "127.0.0.1", 0, err, sizeof(err));
    assert_non_null(fx->httpd);
    assert_int_equal(httpd_set(fx->httpd, "/feed.atom", "application/atom+xml",
                               mtime_doc, sizeof(mtime_doc) - 1, 784111777),
                     0);
    snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%d/feed.atom",
             httpd_port(fx->httpd));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/feedd-test-fetch-XXXXXX");
    assert_non_null(mkdtemp(fx->dir));
    *state = fx;
    return 0;
}

/* Closes what is open and asserts the loop closes clean. */
static int
teardown(void **state)
{
    struct fixture *fx = *state;
    char path[128];

    refuse_opt = -1;
    refuse_skip = 0;
    refuse_multi = 0;
    refused = 0;
    refuse_code = CURLE_UNKNOWN_OPTION;
    fail_callocs = 0;
    if (fx->fetcher != NULL) {
        fetcher_close(fx->fetcher, on_closed, fx);
        fx->closing++;
    }
    httpd_close(fx->httpd, on_closed, fx);
    fx->closing++;
    uv_close((uv_handle_t *)&fx->guard, NULL);
    uv_close((uv_handle_t *)&fx->resume, NULL);
    if (fx->silent_on)
        uv_close((uv_handle_t *)&fx->silent, NULL);
    for (int i = 0; i < fx->silent_conns; i++)
        uv_close((uv_handle_t *)&fx->silent_conn[i], NULL);
    while (uv_run(&fx->loop, UV_RUN_DEFAULT) != 0) /* past uv_stop() */
        ;
    assert_int_equal(fx->closed, fx->closing);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    snprintf(path, sizeof(path), "%s/feed.xml", fx->dir);
    unlink(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

static int
on_data(const char *p, size_t n, const struct fetch_chunk *c,
        const char **error, void *arg)
{
    struct result *r = arg;

    (void)error;
    r->length = c->length;
    if (r->len + n > sizeof(r->body) - 1)
        return -1;
    /* Held: the same bytes must come again after fetcher_resume(). */
    if (r->hold > 0 && c->can_hold) {
        r->hold--;
        r->held++;
        return FETCH_PAUSE;
    }
    memcpy(r->body + r->len, p, n);
    r->len += n;
    r->body[r->len] = '\0';
    return 0;
}

static void
on_done(const struct fetch_result *res, void *arg)
{
    struct result *r = arg;

    r->done = 1;
    /* uv_run(UV_RUN_ONCE) returns now, not at the next event. */
    uv_stop(r->loop);
    r->ok = res->ok;
    r->not_modified = res->not_modified;
    r->cancelled = res->cancelled;
    r->status = res->status;
    snprintf(r->error, sizeof(r->error), "%s", res->error ? res->error : "");
    snprintf(r->etag, sizeof(r->etag), "%s", res->etag ? res->etag : "");
}

static struct fetch_req
request(struct fixture *fx, const char *url, struct result *r)
{
    struct fetch_req req;

    memset(&req, 0, sizeof(req));
    memset(r, 0, sizeof(*r));
    r->loop = &fx->loop;
    req.url = url;
    req.max_bytes = 1 << 20;
    req.timeout_s = 5;
    req.on_data = on_data;
    req.on_done = on_done;
    req.arg = r;
    return req;
}

static struct fetcher *
fetcher(struct fixture *fx)
{
    char err[256];

    fx->fetcher = fetcher_new(&fx->loop, 4, 2, err, sizeof(err));
    if (fx->fetcher == NULL)
        fail_msg("fetcher_new: %s", err);
    return fx->fetcher;
}

/* Fetches url whole into r. */
static void
fetch(struct fixture *fx, struct fetch_req *req, struct result *r)
{
    assert_int_equal(fetcher_start(fx->fetcher, req), 0);
    assert_int_equal(fetcher_active(fx->fetcher), 1);
    run_until(fx, &r->done);
    assert_int_equal(fetcher_active(fx->fetcher), 0);
}

/* ---- the tests ----------------------------------------------------------- */

static void
test_http(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req = request(fx, fx->url, &r);
    char etag[64];

    fetcher(fx);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body, FEED);
    assert_true(r.etag[0] == '"');
    /* Conditional: the validators of the first answer give a 304. */
    snprintf(etag, sizeof(etag), "%s", r.etag);
    req = request(fx, fx->url, &r);
    req.etag = etag;
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_true(r.not_modified);
    assert_int_equal(r.status, 304);
    assert_int_equal(r.len, 0);
}

static void
test_file_and_caps(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req;
    char path[128], url[160];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/feed.xml", fx->dir);
    fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(FEED, fp);
    fclose(fp);
    snprintf(url, sizeof(url), "file://%s", path);
    fetcher(fx);
    req = request(fx, url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.body, FEED);
    /* The size cap. */
    req = request(fx, url, &r);
    req.max_bytes = 10;
    fetch(fx, &req, &r);
    assert_false(r.ok);
    assert_non_null(strstr(r.error, "larger than 10 bytes"));
    /* Only http, https and file. */
    req = request(fx, "ftp://127.0.0.1/feed.xml", &r);
    fetch(fx, &req, &r);
    assert_false(r.ok);
    assert_true(r.error[0] != '\0');
    assert_int_equal(r.len, 0);
}

static struct result *resume_arg; /* test_pause's */

static void
on_resume_timer(uv_timer_t *t)
{
    (void)fetcher_resume(t->data, resume_arg);
}

/* A chunk held by on_data (FETCH_PAUSE) comes again, whole, once the
 * transfer is resumed, and counts once against the size cap; a file://
 * transfer, which libcurl cannot hold, says so (can_hold 0). */
static void
test_pause(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req;
    char path[128], url[160];
    const char *urls[2];
    FILE *fp;

    snprintf(path, sizeof(path), "%s/feed.xml", fx->dir);
    assert_non_null(fp = fopen(path, "w"));
    fputs(FEED, fp);
    fclose(fp);
    snprintf(url, sizeof(url), "file://%s", path);
    urls[0] = fx->url;
    urls[1] = url;
    fetcher(fx);
    fx->resume.data = fx->fetcher;
    assert_int_equal(uv_timer_start(&fx->resume, on_resume_timer, 5, 5), 0);
    for (int i = 0; i < 2; i++) {
        req = request(fx, urls[i], &r);
        req.max_bytes = sizeof(FEED) - 1;
        r.hold = 3;
        resume_arg = &r;
        /* Another transfer's arg resumes nothing. */
        assert_int_equal(fetcher_resume(fx->fetcher, fx), 0);
        fetch(fx, &req, &r);
        assert_string_equal(r.error, "");
        assert_true(r.ok);
        assert_int_equal(r.held, i == 0 ? 3 : 0);
        assert_string_equal(r.body, FEED);
        /* The server's Content-Length; a file has it too. */
        assert_int_equal(r.length, (int64_t)sizeof(FEED) - 1);
    }
}

static void
count_handle(uv_handle_t *h, void *arg)
{
    (void)h;
    (*(int *)arg)++;
}

/* Each option a limit or a restriction rests on, refused in turn:
 * fetcher_new() fails and names it. */
static void
test_refused_options(void **state)
{
    static const struct {
        long opt;
        const char *name;
        int skip, multi;
    } opts[] = {
#define OPT(o, skip) {(long)o, #o, skip, 0}
#define MOPT(o)                                                                \
    {                                                                          \
        (long)o, #o, 0, 1                                                      \
    }
        MOPT(CURLMOPT_MAX_TOTAL_CONNECTIONS),
        MOPT(CURLMOPT_MAX_HOST_CONNECTIONS),
        MOPT(CURLMOPT_SOCKETFUNCTION),
        MOPT(CURLMOPT_TIMERFUNCTION),
        OPT(CURLOPT_PROTOCOLS_STR, 0), /* "file" */
        OPT(CURLOPT_PROTOCOLS_STR, 1), /* "http,https" */
        OPT(CURLOPT_REDIR_PROTOCOLS_STR, 0),
        OPT(CURLOPT_FOLLOWLOCATION, 0),
        OPT(CURLOPT_MAXREDIRS, 0),
        OPT(CURLOPT_CONNECTTIMEOUT, 0),
        OPT(CURLOPT_TIMEOUT, 0),
        OPT(CURLOPT_LOW_SPEED_LIMIT, 0),
        OPT(CURLOPT_LOW_SPEED_TIME, 0),
        OPT(CURLOPT_WRITEFUNCTION, 0),
        OPT(CURLOPT_HEADERFUNCTION, 0),
        OPT(CURLOPT_NOSIGNAL, 0),
#undef OPT
#undef MOPT
    };
    struct fixture *fx = *state;
    char err[256], want[128];
    int handles = 0, after = 0;

    uv_walk(&fx->loop, count_handle, &handles);
    for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
        refuse_opt = opts[i].opt;
        refuse_skip = opts[i].skip;
        refuse_multi = opts[i].multi;
        refused = 0;
        err[0] = '\0';
        assert_null(fetcher_new(&fx->loop, 4, 2, err, sizeof(err)));
        assert_int_equal(refused, 1);
        snprintf(want, sizeof(want), "libcurl refused %s: ", opts[i].name);
        if (strncmp(err, want, strlen(want)) != 0)
            fail_msg("refusing %s: \"%s\"", opts[i].name, err);
    }
    /* Nothing of the failed fetchers is left on the loop. */
    uv_walk(&fx->loop, count_handle, &after);
    assert_int_equal(after, handles);
}

/* An option of one fetch refused: the fetch does not start. */
static void
test_refused_per_fetch(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req;

    fetcher(fx);
    req = request(fx, fx->url, &r);
    refuse_opt = CURLOPT_MAXFILESIZE_LARGE;
    assert_int_equal(fetcher_start(fx->fetcher, &req), -EINVAL);
    assert_int_equal(refused, 1);
    refuse_opt = CURLOPT_TIMEOUT;
    assert_int_equal(fetcher_start(fx->fetcher, &req), -EINVAL);
    assert_int_equal(refused, 2);
    req = request(fx, "file:///nonexistent", &r);
    refuse_opt = CURLOPT_PROTOCOLS_STR;
    assert_int_equal(fetcher_start(fx->fetcher, &req), -EINVAL);
    assert_int_equal(refused, 3);
    refuse_opt = CURLOPT_URL;
    refuse_code = CURLE_OUT_OF_MEMORY;
    assert_int_equal(fetcher_start(fx->fetcher, &req), -ENOMEM);
    assert_int_equal(refused, 4);
    assert_int_equal(fetcher_active(fx->fetcher), 0);
    /* None of them called on_done; the fetcher still works. */
    refuse_opt = -1;
    uv_run(&fx->loop, UV_RUN_NOWAIT);
    assert_false(r.done);
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
}

/* Out of memory for the watcher of a socket: the transfer fails as out of
 * memory (by its own timeout), and the next one works. */
static void
test_socket_out_of_memory(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct sockaddr_in sa = {.sin_family = AF_INET};
    socklen_t salen = sizeof(sa);
    char url[64];
    int mute = socket(AF_INET, SOCK_STREAM, 0);
    struct fetch_req req;

    /* A server that never answers, so that nothing but the watcher could
     * move the transfer on (the HTTP server answers from its own thread,
     * and curl's timers alone would finish a transfer with it). */
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(mute, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(mute, 4), 0);
    assert_int_equal(getsockname(mute, (struct sockaddr *)&sa, &salen), 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed.atom",
             ntohs(sa.sin_port));
    req = request(fx, url, &r);
    fetcher(fx);
    req.timeout_s = 1;
    assert_int_equal(fetcher_start(fx->fetcher, &req), 0);
    /* Every struct sock (the resolver's too). */
    fail_callocs = 1000;
    run_until(fx, &r.done);
    assert_true(fail_callocs < 1000);
    fail_callocs = 0;
    close(mute);
    assert_false(r.ok);
    assert_string_equal(r.error, "out of memory");
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    if (!r.ok)
        fail_msg("after: %s", r.error);
}

static void
on_request_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    struct fixture *fx = h->data;

    (void)size;
    *buf = uv_buf_init(fx->request + fx->request_len,
                       (unsigned)(sizeof(fx->request) - 1 - fx->request_len));
}

/* Reads a request head into fx->request, then answers it with a 304 and
 * lets the client close. */
static void
on_request_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    static const char answer[] =
        "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n";
    static uv_write_t w;
    struct fixture *fx = s->data;
    uv_buf_t out = uv_buf_init((char *)answer, sizeof(answer) - 1);

    (void)buf;
    if (n < 0) {
        (void)uv_read_stop(s);
        return;
    }
    fx->request_len += (size_t)n;
    fx->request[fx->request_len] = '\0';
    if (strstr(fx->request, "\r\n\r\n") == NULL)
        return;
    (void)uv_read_stop(s);
    assert_int_equal(uv_write(&w, s, &out, 1, NULL), 0);
    fx->answered++;
}

static void
on_silent_conn(uv_stream_t *server, int status)
{
    struct fixture *fx = server->data;
    uv_tcp_t *c = &fx->silent_conn[fx->silent_conns];

    assert_int_equal(status, 0);
    assert_true(fx->silent_conns < 8);
    assert_int_equal(uv_tcp_init(&fx->loop, c), 0);
    assert_int_equal(uv_accept(server, (uv_stream_t *)c), 0);
    fx->silent_conns++;
    c->data = fx;
    if (fx->answer)
        assert_int_equal(
            uv_read_start((uv_stream_t *)c, on_request_alloc, on_request_read),
            0);
}

/* A server on the loop that takes connections and never answers: the URL
 * of it into url. */
static void
silent_server(struct fixture *fx, char *url, size_t size)
{
    struct sockaddr_storage ss;
    struct sockaddr_in sin;
    int len = sizeof(ss);

    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &sin), 0);
    assert_int_equal(uv_tcp_init(&fx->loop, &fx->silent), 0);
    fx->silent.data = fx;
    fx->silent_on = 1;
    assert_int_equal(uv_tcp_bind(&fx->silent, (const struct sockaddr *)&sin, 0),
                     0);
    assert_int_equal(uv_listen((uv_stream_t *)&fx->silent, 4, on_silent_conn),
                     0);
    assert_int_equal(
        uv_tcp_getsockname(&fx->silent, (struct sockaddr *)&ss, &len), 0);
    snprintf(url, size, "http://127.0.0.1:%d/feed.atom",
             ntohs(((struct sockaddr_in *)&ss)->sin_port));
}

static void
on_wait(uv_timer_t *t)
{
    *(int *)t->data = 1;
}

/* A fetch takes the handle a fetch that ended well left, and nothing of
 * that fetch carries over: not its validators, not its protocol (file
 * after http and back), not its size cap, not its timeout. */
static void
test_reuse(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req;
    char path[128], big[128], url[160], big_url[160], silent[128];
    char etag[64];
    int waited = 0;
    FILE *fp;

    snprintf(path, sizeof(path), "%s/feed.xml", fx->dir);
    assert_non_null(fp = fopen(path, "w"));
    fputs(FEED, fp);
    fclose(fp);
    snprintf(url, sizeof(url), "file://%s", path);
    snprintf(big, sizeof(big), "%s/big.xml", fx->dir);
    assert_non_null(fp = fopen(big, "w"));
    fputs(FEED FEED, fp);
    fclose(fp);
    snprintf(big_url, sizeof(big_url), "file://%s", big);
    fetcher(fx);
    req = request(fx, fx->url, &r);
    req.timeout_s = 1;
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(r.status, 200);
    assert_int_equal(dups, 1);
    snprintf(etag, sizeof(etag), "%s", r.etag);
    req = request(fx, fx->url, &r);
    req.etag = etag;
    fetch(fx, &req, &r);
    assert_true(r.not_modified);
    /* Without validators the body comes again. */
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_false(r.not_modified);
    assert_string_equal(r.body, FEED);
    /* file after http, then http after file. */
    req = request(fx, url, &r);
    req.max_bytes = sizeof(FEED) - 1;
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_string_equal(r.body, FEED);
    req = request(fx, big_url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_string_equal(r.body, FEED FEED);
    req = request(fx, fx->url, &r);
    req.timeout_s = 1;
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_string_equal(r.body, FEED);
    assert_int_equal(dups, 1);
    /* The default timeout again, not the last fetch's 1 s. */
    silent_server(fx, silent, sizeof(silent));
    req = request(fx, silent, &r);
    req.timeout_s = 0;
    assert_int_equal(fetcher_start(fx->fetcher, &req), 0);
    assert_int_equal(dups, 1);
    fx->resume.data = &waited;
    assert_int_equal(uv_timer_start(&fx->resume, on_wait, 1500, 0), 0);
    unlink(big);
    run_until(fx, &waited);
    assert_false(r.done);
    assert_int_equal(fetcher_active(fx->fetcher), 1);
    fetcher_close(fx->fetcher, on_closed, fx);
    fx->closing++;
    fx->fetcher = NULL;
    assert_true(r.cancelled);
}

/* Fetches url with the validators etag and last_modified into r, as
 * test_request_headers's server reads them: what it read. */
static const char *
fetch_head(struct fixture *fx, const char *url, const char *etag,
           const char *last_modified, struct result *r)
{
    struct fetch_req req = request(fx, url, r);

    req.etag = etag;
    req.last_modified = last_modified;
    fx->request_len = 0;
    fx->request[0] = '\0';
    fetch(fx, &req, r);
    assert_true(r->not_modified);
    return fx->request;
}

/* The request headers, on fresh and reused handles alike: the Accept
 * line, and each validator when there is one, shorter than 900 bytes. */
static void
test_request_headers(void **state)
{
    static const char accept[] =
        "\r\nAccept: application/atom+xml, application/rss+xml, "
        "application/rdf+xml;q=0.9, application/xml;q=0.8, text/xml;q=0.8, "
        "*/*;q=0.5\r\n";
    static const char date[] = "Tue, 01 Jan 2030 00:00:00 GMT";
    struct fixture *fx = *state;
    struct result r;
    char url[128], etag[901];
    const char *head;

    fx->answer = 1;
    silent_server(fx, url, sizeof(url));
    fetcher(fx);
    head = fetch_head(fx, url, "\"e1\"", date, &r);
    assert_non_null(strstr(head, accept));
    assert_non_null(strstr(head, "\r\nIf-None-Match: \"e1\"\r\n"));
    assert_non_null(strstr(
        head, "\r\nIf-Modified-Since: Tue, 01 Jan 2030 00:00:00 GMT\r\n"));
    head = fetch_head(fx, url, "\"e2\"", NULL, &r);
    assert_non_null(strstr(head, accept));
    assert_non_null(strstr(head, "\r\nIf-None-Match: \"e2\"\r\n"));
    assert_null(strstr(head, "If-Modified-Since"));
    head = fetch_head(fx, url, NULL, date, &r);
    assert_null(strstr(head, "If-None-Match"));
    assert_non_null(strstr(
        head, "\r\nIf-Modified-Since: Tue, 01 Jan 2030 00:00:00 GMT\r\n"));
    memset(etag, 'a', 900);
    etag[900] = '\0';
    head = fetch_head(fx, url, etag, "", &r);
    assert_non_null(strstr(head, accept));
    assert_null(strstr(head, "If-None-Match"));
    assert_null(strstr(head, "If-Modified-Since"));
    etag[899] = '\0';
    head = fetch_head(fx, url, etag, NULL, &r);
    assert_non_null(strstr(head, "\r\nIf-None-Match: "));
    assert_non_null(strstr(head, etag));
    assert_int_equal(fx->answered, 5);
    /* One handle served them all. */
    assert_int_equal(dups, 1);
}

/* Lower caps leave fewer idle handles: those over the new parallel are
 * freed at once, the others serve the next fetches. */
static void
test_caps_trim(void **state)
{
    struct fixture *fx = *state;
    struct result r[3];
    struct fetch_req req;
    int i;

    fetcher(fx);
    for (i = 0; i < 3; i++) {
        req = request(fx, fx->url, &r[i]);
        assert_int_equal(fetcher_start(fx->fetcher, &req), 0);
    }
    for (i = 0; i < 3; i++)
        run_until(fx, &r[i].done);
    for (i = 0; i < 3; i++)
        assert_true(r[i].ok);
    assert_int_equal(dups, 3);
    assert_int_equal(cleanups, 0);
    assert_int_equal(fetcher_caps(fx->fetcher, 1, 1), 0);
    assert_int_equal(cleanups, 2);
    for (i = 0; i < 2; i++) {
        req = request(fx, fx->url, &r[0]);
        fetch(fx, &req, &r[0]);
        assert_true(r[0].ok);
    }
    assert_int_equal(dups, 3);
    assert_int_equal(cleanups, 2);
}

/* fetcher_close() ends the fetches under way, each told so. */
static void
test_close_cancels(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req = request(fx, fx->url, &r);

    fetcher(fx);
    assert_int_equal(fetcher_start(fx->fetcher, &req), 0);
    fetcher_close(fx->fetcher, on_closed, fx);
    fx->closing++;
    fx->fetcher = NULL;
    assert_true(r.done);
    assert_true(r.cancelled);
    assert_false(r.ok);
}

/* The certificate authorities changed while a fetch runs: its handle,
 * copied from the template before, is not kept for the next fetch,
 * which takes a new copy with the new ones. */
static void
test_ca_change_in_flight(void **state)
{
    struct fixture *fx = *state;
    struct result r;
    struct fetch_req req;
    char ca[128];
    FILE *fp;

    snprintf(ca, sizeof(ca), "%s/ca.pem", fx->dir);
    assert_non_null(fp = fopen(ca, "w"));
    fclose(fp);
    fetcher(fx);
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(dups, 1);
    /* The handle kept idle is taken, then the setting changes. */
    req = request(fx, fx->url, &r);
    assert_int_equal(fetcher_start(fx->fetcher, &req), 0);
    assert_int_equal(dups, 1);
    assert_int_equal(fetcher_ca(fx->fetcher, ca), 0);
    run_until(fx, &r.done);
    assert_true(r.ok);
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(dups, 2);
    /* That one, copied after the change, is kept and taken again. */
    req = request(fx, fx->url, &r);
    fetch(fx, &req, &r);
    assert_true(r.ok);
    assert_int_equal(dups, 2);
    unlink(ca);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_http, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_and_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pause, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_options, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refused_per_fetch, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_socket_out_of_memory, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_close_cancels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_headers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_caps_trim, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ca_change_in_flight, setup,
                                        teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);

    fetch_global_cleanup();
    return rc;
}

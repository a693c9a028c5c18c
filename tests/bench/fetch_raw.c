/* tests/bench/fetch_raw.c - the yardstick of tests/bench/daemon_bench.py:
 * fetch every URL of a list with curl multi on a libuv loop and copy each
 * entry's fields out of expat, and nothing else.
 *
 *     bench_fetch_raw [--parallel P] [--per-host H] [--conditional]
 *                     [--save-validators FILE | --validators FILE] URLS
 *
 * URLS holds one URL a line. At most P transfers run at once (default
 * 50), at most H to one host (default P); gzip and deflate are accepted;
 * SIGPIPE is ignored for the process and libcurl told not to touch
 * signals (CURLOPT_NOSIGNAL), as in feedd.
 * Every body chunk goes into an expat parser of its transfer whose
 * handlers copy an entry's title, link, id, dates and description or
 * content into one reused struct, dropped when the entry ends. With
 * --conditional the round runs twice in one process, the second with
 * If-None-Match and If-Modified-Since from the first's validators.
 *
 * --save-validators FILE writes, after round 1, each URL's ETag and
 * Last-Modified as last received, one line each:
 *     URL <tab> ETAG <tab> LAST-MODIFIED
 * a field empty when the server sent none. --validators FILE reads such
 * a file back, matched to URLS by URL (a URL of URLS missing from it
 * goes without), and runs one round only, round 1, conditional with
 * them: the unchanged poll of a process of its own, as feedd's is.
 *
 * Each round prints one line on stdout:
 *     round R wall S cpu S ok N failed N not_modified N entries N bytes N
 * wall and cpu (user + sys of this process) cover that round alone. Exits
 * non-zero when a transfer failed, 2 on a usage or validators file error.
 * No error paths beyond counting. */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include <curl/curl.h>
#include <expat.h>
#include <uv.h>

enum {
    F_TITLE,
    F_LINK,
    F_ID,
    F_PUBLISHED,
    F_UPDATED,
    F_TEXT,
    F_CONTENT,
    F_NONE
};

struct buf {
    char *s;
    size_t len, cap;
};

struct entry {
    struct buf f[F_NONE];
};

struct xfer {
    char *url;
    char *etag, *last_modified;
    CURL *easy;
    XML_Parser xp;
    struct curl_slist *hdrs;
    int in_entry, field, field_depth, depth;
    struct entry e;
};

struct sock {
    uv_poll_t poll;
    curl_socket_t fd;
};

static uv_loop_t *loop;
static uv_timer_t timer;
static CURLM *multi;
static struct xfer *xfers;
static size_t nxfers, next_xfer, running;
static long parallel = 50, per_host;
static size_t n_ok, n_failed, n_not_modified, n_entries, n_bytes;

static void
buf_add(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = realloc(b->s, b->cap);
        if (b->s == NULL)
            abort();
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static const char *
local_name(const char *name)
{
    const char *c = strrchr(name, ':');

    return c != NULL ? c + 1 : name;
}

static int
field_of(const char *name)
{
    static const struct {
        const char *name;
        int field;
    } map[] = {
        {"title", F_TITLE},
        {"link", F_LINK},
        {"guid", F_ID},
        {"id", F_ID},
        {"pubDate", F_PUBLISHED},
        {"published", F_PUBLISHED},
        {"updated", F_UPDATED},
        {"dc:date", F_UPDATED},
        {"description", F_TEXT},
        {"summary", F_TEXT},
        {"content:encoded", F_CONTENT},
        {"content", F_CONTENT},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcmp(name, map[i].name) == 0)
            return map[i].field;
    return F_NONE;
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **attrs)
{
    struct xfer *x = arg;
    const char *local = local_name(name);
    int i;

    x->depth++;
    if (!x->in_entry) {
        if (strcmp(local, "item") == 0 || strcmp(local, "entry") == 0) {
            x->in_entry = 1;
            x->field = F_NONE;
            for (i = 0; i < F_NONE; i++)
                x->e.f[i].len = 0;
        }
        return;
    }
    if (x->field != F_NONE)
        return;
    x->field = field_of(name);
    x->field_depth = x->depth;
    if (x->field == F_LINK)
        for (i = 0; attrs[i] != NULL; i += 2)
            if (strcmp(attrs[i], "href") == 0 && x->e.f[F_LINK].len == 0)
                buf_add(&x->e.f[F_LINK], attrs[i + 1], strlen(attrs[i + 1]));
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
    struct xfer *x = arg;
    const char *local = local_name(name);

    if (x->in_entry && x->field != F_NONE && x->depth == x->field_depth)
        x->field = F_NONE;
    else if (x->in_entry && x->field == F_NONE &&
             (strcmp(local, "item") == 0 || strcmp(local, "entry") == 0)) {
        x->in_entry = 0;
        n_entries++;
    }
    x->depth--;
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
    struct xfer *x = arg;

    if (x->in_entry && x->field != F_NONE)
        buf_add(&x->e.f[x->field], s, (size_t)len);
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;

    n_bytes += size * n;
    if (x->xp != NULL &&
        XML_Parse(x->xp, data, (int)(size * n), 0) == XML_STATUS_ERROR) {
        XML_ParserFree(x->xp);
        x->xp = NULL;
    }
    return size * n;
}

static void
keep_header(char **to, const char *v, size_t n)
{
    while (n > 0 && (*v == ' ' || *v == '\t'))
        v++, n--;
    while (n > 0 && (v[n - 1] == '\r' || v[n - 1] == '\n' || v[n - 1] == ' '))
        n--;
    free(*to);
    *to = malloc(n + 1);
    if (*to == NULL)
        abort();
    memcpy(*to, v, n);
    (*to)[n] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    size_t len = size * n;

    if (len > 5 && strncasecmp(data, "etag:", 5) == 0)
        keep_header(&x->etag, data + 5, len - 5);
    else if (len > 14 && strncasecmp(data, "last-modified:", 14) == 0)
        keep_header(&x->last_modified, data + 14, len - 14);
    return len;
}

static void
start_next(int conditional)
{
    struct xfer *x;
    char hdr[512];

    if (next_xfer >= nxfers)
        return;
    x = &xfers[next_xfer++];
    x->easy = curl_easy_init();
    x->xp = XML_ParserCreate(NULL);
    XML_SetUserData(x->xp, x);
    XML_SetElementHandler(x->xp, on_start, on_end);
    XML_SetCharacterDataHandler(x->xp, on_text);
    x->in_entry = 0;
    x->depth = 0;
    curl_easy_setopt(x->easy, CURLOPT_URL, x->url);
    curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
    curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(x->easy, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(x->easy, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(x->easy, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(x->easy, CURLOPT_TIMEOUT, 60L);
    if (conditional && x->etag != NULL) {
        snprintf(hdr, sizeof(hdr), "If-None-Match: %s", x->etag);
        x->hdrs = curl_slist_append(x->hdrs, hdr);
    }
    if (conditional && x->last_modified != NULL) {
        snprintf(hdr, sizeof(hdr), "If-Modified-Since: %s", x->last_modified);
        x->hdrs = curl_slist_append(x->hdrs, hdr);
    }
    curl_easy_setopt(x->easy, CURLOPT_HTTPHEADER, x->hdrs);
    curl_multi_add_handle(multi, x->easy);
    running++;
}

static void
finish(CURL *easy, CURLcode rc, int conditional)
{
    struct xfer *x;
    long status = 0;
    int i;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&x);
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status == 304)
        n_not_modified++;
    else if (rc == CURLE_OK && status == 200 && x->xp != NULL &&
             XML_Parse(x->xp, "", 0, 1) != XML_STATUS_ERROR)
        n_ok++;
    else
        n_failed++;
    if (x->xp != NULL)
        XML_ParserFree(x->xp);
    x->xp = NULL;
    for (i = 0; i < F_NONE; i++) {
        free(x->e.f[i].s);
        x->e.f[i] = (struct buf){NULL, 0, 0};
    }
    curl_multi_remove_handle(multi, easy);
    curl_easy_cleanup(easy);
    curl_slist_free_all(x->hdrs);
    x->hdrs = NULL;
    running--;
    start_next(conditional);
}

static int conditional_round;

static void
check_done(void)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(multi, &left)) != NULL)
        if (m->msg == CURLMSG_DONE)
            finish(m->easy_handle, m->data.result, conditional_round);
    if (running == 0 && next_xfer >= nxfers)
        uv_stop(loop);
}

static void
on_poll(uv_poll_t *p, int status, int events)
{
    struct sock *s = p->data;
    int flags = 0, still;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(multi, s->fd, flags, &still);
    check_done();
}

static void
on_timer(uv_timer_t *t)
{
    int still;

    (void)t;
    curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &still);
    check_done();
}

static void
on_close(uv_handle_t *h)
{
    free(h->data);
}

static int
on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
    struct sock *s = sockp;
    int events = 0;

    (void)easy;
    (void)arg;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            uv_poll_stop(&s->poll);
            s->poll.data = s;
            uv_close((uv_handle_t *)&s->poll, on_close);
            curl_multi_assign(multi, fd, NULL);
        }
        return 0;
    }
    if (s == NULL) {
        s = calloc(1, sizeof(*s));
        if (s == NULL)
            abort();
        s->fd = fd;
        uv_poll_init_socket(loop, &s->poll, fd);
        s->poll.data = s;
        curl_multi_assign(multi, fd, s);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static int
on_timeout(CURLM *m, long ms, void *arg)
{
    (void)m;
    (void)arg;
    if (ms < 0)
        uv_timer_stop(&timer);
    else
        uv_timer_start(&timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

static double
cpu_now(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
run_round(int round, int conditional)
{
    uint64_t t0 = uv_hrtime();
    double c0 = cpu_now();
    long i;

    n_ok = n_failed = n_not_modified = n_entries = n_bytes = 0;
    next_xfer = 0;
    conditional_round = conditional;
    for (i = 0; i < parallel; i++)
        start_next(conditional);
    uv_run(loop, UV_RUN_DEFAULT);
    printf("round %d wall %.3f cpu %.3f ok %zu failed %zu not_modified %zu "
           "entries %zu bytes %zu\n",
           round, (double)(uv_hrtime() - t0) / 1e9, cpu_now() - c0, n_ok,
           n_failed, n_not_modified, n_entries, n_bytes);
    fflush(stdout);
}

static void
read_urls(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[4096];
    size_t cap = 0, n;

    if (fp == NULL) {
        perror(path);
        exit(2);
    }
    while (fgets(line, sizeof(line), fp) != NULL) {
        n = strcspn(line, "\r\n");
        if (n == 0)
            continue;
        line[n] = '\0';
        if (nxfers == cap) {
            cap = cap ? cap * 2 : 1024;
            xfers = realloc(xfers, cap * sizeof(*xfers));
            if (xfers == NULL)
                abort();
        }
        memset(&xfers[nxfers], 0, sizeof(*xfers));
        xfers[nxfers].url = strdup(line);
        nxfers++;
    }
    fclose(fp);
}

/* Orders transfers by URL, for qsort() and bsearch() over pointers. */
static int
xfer_cmp(const void *a, const void *b)
{
    const struct xfer *const *x = a, *const *y = b;

    return strcmp((*x)->url, (*y)->url);
}

/* Writes each URL's ETag and Last-Modified to path, in the format of the
 * comment at the top. Neither holds a tab or a newline: an entity-tag is
 * visible characters (RFC 9110 §8.8.3), a date words and spaces (§5.6.7).
 * 0, or -1 with the reason on stderr. */
static int
save_validators(const char *path)
{
    FILE *fp = fopen(path, "w");
    size_t i;
    int bad;

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    for (i = 0; i < nxfers; i++)
        fprintf(fp, "%s\t%s\t%s\n", xfers[i].url,
                xfers[i].etag != NULL ? xfers[i].etag : "",
                xfers[i].last_modified != NULL ? xfers[i].last_modified : "");
    bad = ferror(fp);
    if (fclose(fp) != 0 || bad) {
        perror(path);
        return -1;
    }
    return 0;
}

/* Reads a file that save_validators() wrote into the transfers of the
 * same URL; a URL of the list that it does not name keeps none. 0, or -1
 * with "path:line: reason" on stderr (a line that is not three fields, a
 * URL not in the list). */
static int
read_validators(const char *path)
{
    FILE *fp = fopen(path, "r");
    struct xfer key, *kp = &key, **by_url, **hit;
    char line[8192], *etag, *lastmod;
    size_t i, n;
    int lineno = 0, rc = -1;

    if (fp == NULL) {
        perror(path);
        return -1;
    }
    by_url = malloc((nxfers + 1) * sizeof(*by_url));
    if (by_url == NULL)
        abort();
    for (i = 0; i < nxfers; i++)
        by_url[i] = &xfers[i];
    qsort(by_url, nxfers, sizeof(*by_url), xfer_cmp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        lineno++;
        n = strcspn(line, "\r\n");
        if (line[n] == '\0' && !feof(fp)) {
            fprintf(stderr, "%s:%d: line too long\n", path, lineno);
            goto fail;
        }
        line[n] = '\0';
        if (n == 0)
            continue;
        etag = strchr(line, '\t');
        lastmod = etag != NULL ? strchr(etag + 1, '\t') : NULL;
        if (lastmod == NULL) {
            fprintf(stderr,
                    "%s:%d: not URL, ETag and Last-Modified "
                    "separated by tabs\n",
                    path, lineno);
            goto fail;
        }
        *etag++ = '\0';
        *lastmod++ = '\0';
        key.url = line;
        hit = bsearch(&kp, by_url, nxfers, sizeof(*by_url), xfer_cmp);
        if (hit == NULL) {
            fprintf(stderr, "%s:%d: %s is not in the URL list\n", path, lineno,
                    line);
            goto fail;
        }
        if (*etag != '\0')
            keep_header(&(*hit)->etag, etag, strlen(etag));
        if (*lastmod != '\0')
            keep_header(&(*hit)->last_modified, lastmod, strlen(lastmod));
    }
    if (ferror(fp)) {
        perror(path);
        goto fail;
    }
    rc = 0;
fail:
    free(by_url);
    fclose(fp);
    return rc;
}

int
main(int argc, char **argv)
{
    int i, conditional = 0, status = 0;
    const char *list = NULL, *save = NULL, *load = NULL;

    for (i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--parallel") == 0 && i + 1 < argc)
            parallel = atol(argv[++i]);
        else if (strcmp(argv[i], "--per-host") == 0 && i + 1 < argc)
            per_host = atol(argv[++i]);
        else if (strcmp(argv[i], "--conditional") == 0)
            conditional = 1;
        else if (strcmp(argv[i], "--save-validators") == 0 && i + 1 < argc)
            save = argv[++i];
        else if (strcmp(argv[i], "--validators") == 0 && i + 1 < argc)
            load = argv[++i];
        else
            list = argv[i];
    }
    if (list == NULL || parallel < 1 || (load != NULL && conditional)) {
        fprintf(stderr, "usage: bench_fetch_raw [--parallel P] [--per-host H] "
                        "[--conditional] [--save-validators FILE | "
                        "--validators FILE] URLS\n");
        return 2;
    }
    if (per_host < 1 || per_host > parallel)
        per_host = parallel;
    read_urls(list);
    if (load != NULL && read_validators(load) < 0)
        return 2;
    /* As feedd does: SIGPIPE ignored once, so that curl need not ignore
     * it around every call (CURLOPT_NOSIGNAL). */
    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    loop = uv_default_loop();
    uv_timer_init(loop, &timer);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timeout);
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, parallel);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, per_host);
    run_round(1, load != NULL);
    if (n_failed > 0)
        status = 1;
    if (save != NULL && save_validators(save) < 0)
        status = 2;
    if (conditional) {
        run_round(2, 1);
        if (n_failed > 0 && status == 0)
            status = 1;
    }
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return status;
}

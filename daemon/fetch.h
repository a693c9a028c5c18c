/* daemon/fetch.h - HTTP(S) and file:// fetches through libcurl's multi
 * interface, driven by the libuv loop (no threads): conditional GET,
 * compression, redirects, timeouts and a size cap on every response. */
#ifndef FEEDD_FETCH_H
#define FEEDD_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct fetcher;

struct fetch_result {
    int ok;            /* a 2xx (or file) body arrived whole, or a 304 */
    int not_modified;  /* 304: nothing new */
    int cancelled;     /* fetcher_close() ended it */
    long status;       /* HTTP status; 0 for file:// and failures */
    const char *error; /* one-line reason when !ok, else NULL */
    const char *etag;  /* validators of the response, NULL when none */
    const char *last_modified;
    const char *content_type;
    const char *url; /* the URL after redirects */
    /* When to ask again, as the last response said: Retry-After in
     * seconds (an HTTP-date made relative to now), or -1; how long it
     * stays fresh (Cache-Control max-age, else Expires less Date), or
     * -1. Both capped at a year. */
    int64_t retry_after, fresh_for;
    /* url was reached through redirects that were all permanent (301,
     * 308): the feed has moved there. */
    int moved;
};

/* What comes with each chunk of a body. */
struct fetch_chunk {
    const char *content_type; /* the response's, NULL when none */
    const char *url;          /* where the body comes from, after redirects */
    int64_t length;           /* Content-Length (of the encoded body), or -1 */
    int can_hold; /* FETCH_PAUSE may be returned (not for file://) */
};

/* Called with each chunk of the body as it arrives (decoded). Return 0
 * to go on; FETCH_PAUSE to hold the transfer, the chunk not taken (it
 * comes again after fetcher_resume()), only when c->can_hold is set
 * (libcurl cannot hold a file:// transfer); or -1 to abort the transfer:
 * error (static or owned by the caller until on_done returns) then
 * becomes the result's error. */
#define FETCH_PAUSE 1
typedef int fetch_data_fn(const char *p, size_t n, const struct fetch_chunk *c,
                          const char **error, void *arg);
/* Called once per started fetch, from the loop. The result is borrowed
 * for the call. */
typedef void fetch_done_fn(const struct fetch_result *, void *arg);

struct fetch_req {
    const char *url;
    const char *etag;          /* sent as If-None-Match, may be NULL */
    const char *last_modified; /* sent as If-Modified-Since, may be NULL */
    size_t max_bytes;          /* body cap (decoded) */
    long timeout_s;            /* the whole transfer; 0: fetch.c's default */
    long connect_timeout_s;    /* 0: fetch.c's default */
    const char *user_agent;    /* NULL: fetch.c's default */
    /* NULL for a GET; else a POST with this as its body, sent as
     * application/x-www-form-urlencoded (a WebSub hub's request). */
    const char *form;
    fetch_data_fn *on_data;
    fetch_done_fn *on_done;
    void *arg;
};

/* parallel caps connections in all, per_host those to one host. The
 * first call sets libcurl up for the process (curl_global_init). Every
 * option a limit or a protocol restriction rests on is set here once and
 * checked: NULL on failure, with a one-line reason in err, e.g. "libcurl
 * refused CURLOPT_PROTOCOLS_STR: ..." or "out of memory"; no fetcher then
 * runs without its limits. */
struct fetcher *fetcher_new(uv_loop_t *loop, int parallel, int per_host,
                            char *err, size_t errlen);

/* New caps on connections, as fetcher_new() took them: transfers under
 * way go on. 0, or -1 when libcurl refuses them (the old ones stay). */
/* The certificate authorities (a PEM file) that https transfers trust
 * from the next one on, instead of the system's; NULL: the system's.
 * 0 or -1 (libcurl refused it; the transfers keep what they had). */
int fetcher_ca(struct fetcher *, const char *file);

int fetcher_caps(struct fetcher *, int parallel, int per_host);

/* Starts a fetch; the strings of req are copied. 0, or a negative errno
 * (then on_done is never called): -ENOMEM, -EINVAL when libcurl refuses
 * a value of req (the fetch never runs without its limits), -ECANCELED
 * once fetcher_close() was called. */
int fetcher_start(struct fetcher *, const struct fetch_req *req);

/* Lets the transfer whose fetch_req.arg is arg go on, if on_data held
 * it: curl hands the held chunk over again from within the call (and
 * on_data may hold it once more). 1 when there was one, else 0. */
int fetcher_resume(struct fetcher *, void *arg);

/* Fetches started and not yet done. */
size_t fetcher_active(const struct fetcher *);

/* Ends every transfer (each on_done is called with cancelled set), then
 * closes the fetcher's handles; the fetcher is freed once they are closed
 * and done(arg) is called then, from the loop. */
void fetcher_close(struct fetcher *, void (*done)(void *), void *arg);

/* Releases what the first fetcher_new() set up for the process; call it
 * once, after every fetcher is closed. */
void fetch_global_cleanup(void);

#endif

/* daemon/curl_load.c - libcurl, loaded when feedd first fetches.
 *
 * Only `run` and `poll` fetch. Linked the usual way, libcurl would be
 * loaded by every command, with the three dozen libraries it needs (TLS,
 * HTTP/2, IDN, SSH, LDAP, Kerberos...): about 15 ms of each `feedd
 * parse` or `check`, five times all the rest of starting up. So feedd is
 * not linked with it. fetch.c calls the curl_* functions as <curl/curl.h>
 * declares them, type checks and all; the definitions below hand each
 * call on to the library, which curl_load() opens with dlopen(3) by its
 * soname, whose ABI has been stable since 2006. They are hidden: nothing
 * outside this binary, libcurl included, can bind to them.
 *
 * The varargs of the setopt functions are read by the option's number,
 * as libcurl itself reads them: below 10000 a long, then an object
 * pointer, a function pointer, a curl_off_t, a blob pointer. */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

#include <dlfcn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "fetch.h"

#define HIDDEN __attribute__((visibility("hidden")))

/* The library's own functions, as dlsym(3) found them. */
static struct {
    CURLcode (*global_init)(long);
    void (*global_cleanup)(void);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    const char *(*easy_strerror)(CURLcode);
    CURLM *(*multi_init)(void);
    CURLMcode (*multi_setopt)(CURLM *, CURLMoption, ...);
    CURLMcode (*multi_add_handle)(CURLM *, CURL *);
    CURLMcode (*multi_remove_handle)(CURLM *, CURL *);
    CURLMcode (*multi_assign)(CURLM *, curl_socket_t, void *);
    CURLMcode (*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
    CURLMsg *(*multi_info_read)(CURLM *, int *);
    CURLMcode (*multi_cleanup)(CURLM *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
} lib;

static void *handle;

int
curl_load(char *err, size_t errlen)
{
    static const struct {
        const char *name;
        size_t offset;
    } syms[] = {
#define SYM(field) {"curl_" #field, offsetof(__typeof__(lib), field)}
        SYM(global_init),         SYM(global_cleanup),
        SYM(easy_init),           SYM(easy_setopt),
        SYM(easy_getinfo),        SYM(easy_cleanup),
        SYM(easy_strerror),       SYM(multi_init),
        SYM(multi_setopt),        SYM(multi_add_handle),
        SYM(multi_remove_handle), SYM(multi_assign),
        SYM(multi_socket_action), SYM(multi_info_read),
        SYM(multi_cleanup),       SYM(slist_append),
        SYM(slist_free_all),
#undef SYM
    };
    void *h;

    if (handle != NULL)
        return 0;
    if ((h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL)) == NULL) {
        snprintf(err, errlen, "cannot load libcurl: %s", dlerror());
        return -1;
    }
    for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
        void *fn = dlsym(h, syms[i].name);

        if (fn == NULL) {
            snprintf(err, errlen, "libcurl has no %s: too old?",
                     syms[i].name);
            dlclose(h);
            return -1;
        }
        /* POSIX guarantees that a function pointer survives the round
         * trip through void * that dlsym() makes. */
        memcpy((char *)&lib + syms[i].offset, &fn, sizeof(fn));
    }
    handle = h;
    return 0;
}

HIDDEN CURLcode
curl_global_init(long flags)
{
    return handle ? lib.global_init(flags) : CURLE_FAILED_INIT;
}

HIDDEN void
curl_global_cleanup(void)
{
    if (handle)
        lib.global_cleanup();
}

HIDDEN CURL *
curl_easy_init(void)
{
    return lib.easy_init();
}

/* What an option's number says its argument is. */
enum arg { ARG_LONG, ARG_POINTER, ARG_FUNCTION, ARG_OFF_T };

static enum arg
arg_of(long opt)
{
    if (opt < CURLOPTTYPE_OBJECTPOINT)
        return ARG_LONG;
    if (opt >= CURLOPTTYPE_FUNCTIONPOINT && opt < CURLOPTTYPE_OFF_T)
        return ARG_FUNCTION;
    if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
        return ARG_OFF_T;
    return ARG_POINTER; /* an object, a string, a blob */
}

HIDDEN CURLcode
curl_easy_setopt(CURL *h, CURLoption opt, ...)
{
    va_list ap;
    CURLcode rc;

    va_start(ap, opt);
    switch (arg_of((long)opt)) {
    case ARG_LONG:
        rc = lib.easy_setopt(h, opt, va_arg(ap, long));
        break;
    case ARG_FUNCTION:
        rc = lib.easy_setopt(h, opt, va_arg(ap, void (*)(void)));
        break;
    case ARG_OFF_T:
        rc = lib.easy_setopt(h, opt, va_arg(ap, curl_off_t));
        break;
    default:
        rc = lib.easy_setopt(h, opt, va_arg(ap, void *));
    }
    va_end(ap);
    return rc;
}

/* Every CURLINFO_* fills in through a pointer. */
HIDDEN CURLcode
curl_easy_getinfo(CURL *h, CURLINFO info, ...)
{
    va_list ap;
    CURLcode rc;

    va_start(ap, info);
    rc = lib.easy_getinfo(h, info, va_arg(ap, void *));
    va_end(ap);
    return rc;
}

HIDDEN void
curl_easy_cleanup(CURL *h)
{
    lib.easy_cleanup(h);
}

HIDDEN const char *
curl_easy_strerror(CURLcode rc)
{
    return lib.easy_strerror(rc);
}

HIDDEN CURLM *
curl_multi_init(void)
{
    return lib.multi_init();
}

HIDDEN CURLMcode
curl_multi_setopt(CURLM *m, CURLMoption opt, ...)
{
    va_list ap;
    CURLMcode rc;

    va_start(ap, opt);
    switch (arg_of((long)opt)) {
    case ARG_LONG:
        rc = lib.multi_setopt(m, opt, va_arg(ap, long));
        break;
    case ARG_FUNCTION:
        rc = lib.multi_setopt(m, opt, va_arg(ap, void (*)(void)));
        break;
    case ARG_OFF_T:
        rc = lib.multi_setopt(m, opt, va_arg(ap, curl_off_t));
        break;
    default:
        rc = lib.multi_setopt(m, opt, va_arg(ap, void *));
    }
    va_end(ap);
    return rc;
}

HIDDEN CURLMcode
curl_multi_add_handle(CURLM *m, CURL *h)
{
    return lib.multi_add_handle(m, h);
}

HIDDEN CURLMcode
curl_multi_remove_handle(CURLM *m, CURL *h)
{
    return lib.multi_remove_handle(m, h);
}

HIDDEN CURLMcode
curl_multi_assign(CURLM *m, curl_socket_t s, void *p)
{
    return lib.multi_assign(m, s, p);
}

HIDDEN CURLMcode
curl_multi_socket_action(CURLM *m, curl_socket_t s, int ev, int *running)
{
    return lib.multi_socket_action(m, s, ev, running);
}

HIDDEN CURLMsg *
curl_multi_info_read(CURLM *m, int *left)
{
    return lib.multi_info_read(m, left);
}

HIDDEN CURLMcode
curl_multi_cleanup(CURLM *m)
{
    return lib.multi_cleanup(m);
}

HIDDEN struct curl_slist *
curl_slist_append(struct curl_slist *l, const char *s)
{
    return lib.slist_append(l, s);
}

HIDDEN void
curl_slist_free_all(struct curl_slist *l)
{
    lib.slist_free_all(l);
}

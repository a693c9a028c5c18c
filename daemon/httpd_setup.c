/* daemon/httpd_setup.c - the server's socket, limits and TLS files (see
 * httpd_setup.h). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <uv.h>

#include "config.h"
#include "httpd_setup.h"

/* The limits can be lowered at build time, which the unit test does to
 * reach them quickly. HTTPD_MAX_CONNS is also bounded by the open file
 * limit. */
#ifndef HTTPD_MAX_CONNS
#define HTTPD_MAX_CONNS 4096 /* in all; more are refused by libmicrohttpd */
#endif
#ifndef HTTPD_MAX_PER_IP
#define HTTPD_MAX_PER_IP 1024 /* from one address */
#endif
#define HTTPD_FD_RESERVE 512 /* files left to the rest of the daemon */
#define HTTPD_BACKLOG 1024

/* host and port as a socket address, host maybe an IPv6 address in
 * brackets. Whether it is one is config_listen_addr()'s answer, so that
 * "feedd check" refuses exactly what the server would. 0 or -1. */
static int
httpd_addr(const char *host, int port, struct sockaddr_storage *ss)
{
    size_t len = strlen(host);
    char buf[64];

    if (len >= 2 && host[0] == '[' && host[len - 1] == ']') {
        if (len - 2 >= sizeof(buf))
            return -1;
        memcpy(buf, host + 1, len - 2);
        buf[len - 2] = '\0';
        host = buf;
    }
    return config_listen_addr(host, port, ss) == 0 ? 0 : -1;
}

static int
httpd_sockport(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET6
                     ? ((const struct sockaddr_in6 *)ss)->sin6_port
                     : ((const struct sockaddr_in *)ss)->sin_port);
}

int
httpd_listen(const char *host, int port, int *bound, const char **why)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int fd, on = 1;

    if (port < 0 || port > 65535) {
        *why = "invalid port";
        return -1;
    }
    if (httpd_addr(host, port, &ss) != 0) {
        *why = "invalid address";
        return -1;
    }
    sslen = ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                     : sizeof(struct sockaddr_in);
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        bind(fd, (struct sockaddr *)&ss, sslen) != 0 ||
        listen(fd, HTTPD_BACKLOG) != 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0) {
        *why = uv_strerror(uv_translate_sys_error(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = httpd_sockport(&ss);
    return fd;
}

int
httpd_adopt(int fd, int *bound, const char **why)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof(ss);
    int flags;

    /* libmicrohttpd polls the socket: it must not block. */
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) != 0 ||
        (flags = fcntl(fd, F_GETFL)) < 0 ||
        fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
        *why = uv_strerror(uv_translate_sys_error(errno));
        close(fd);
        return -1;
    }
    *bound = httpd_sockport(&ss);
    return 0;
}

void
httpd_limits(unsigned *total, unsigned *soft, unsigned *per_ip)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)HTTPD_MAX_CONNS + HTTPD_FD_RESERVE;
    unsigned n = HTTPD_MAX_CONNS;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want
                              ? want
                              : rl.rlim_max;
            (void)setrlimit(RLIMIT_NOFILE, &rl);
            (void)getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want)
            n = rl.rlim_cur > 2 * HTTPD_FD_RESERVE
                    ? (unsigned)(rl.rlim_cur - HTTPD_FD_RESERVE)
                    : (unsigned)rl.rlim_cur / 2;
    }
    if (n < 4)
        n = 4;
    *total = n;
    *soft = n - n / 8;
    *per_ip = HTTPD_MAX_PER_IP < *soft / 2 ? HTTPD_MAX_PER_IP : *soft / 2;
}

char *
httpd_read_pem(const char *setting, const char *path, const char *marker,
               const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    size_t max = (size_t)1 << 20, len;
    char *buf, *shrunk;

    if (f == NULL) {
        snprintf(err, errlen, "%s %s: %s", setting, path, strerror(errno));
        return NULL;
    }
    if ((buf = malloc(max + 1)) == NULL) {
        snprintf(err, errlen, "%s %s: %s", setting, path, strerror(ENOMEM));
        fclose(f);
        return NULL;
    }
    len = fread(buf, 1, max + 1, f);
    if (ferror(f) || len > max) {
        snprintf(err, errlen, "%s %s: %s", setting, path,
                 ferror(f) ? strerror(errno) : "larger than 1 MiB");
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    buf[len] = '\0';
    if (strlen(buf) != len || strstr(buf, marker) == NULL) {
        snprintf(err, errlen, "%s %s: no PEM %s in it", setting, path, what);
        free(buf);
        return NULL;
    }
    if ((shrunk = realloc(buf, len + 1)) != NULL)
        buf = shrunk;
    return buf;
}

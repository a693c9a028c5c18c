/* daemon/httpd_setup.h - what the server (httpd.c) needs before it
 * starts: its listening socket, its connection limits, its TLS files.
 * Private to the server; on the loop's thread. */
#ifndef HTTPD_SETUP_H
#define HTTPD_SETUP_H

#include <stddef.h>

/* A socket listening on host:port (see httpd_new()), non-blocking, with
 * the port bound in *bound; -1 with the reason in *why. */
int httpd_listen(const char *host, int port, int *bound, const char **why);

/* Makes fd, a listening socket someone else made, non-blocking, with its
 * port in *bound. 0, or -1 with the reason in *why and fd closed. */
int httpd_adopt(int fd, int *bound, const char **why);

/* The connection limits, within the open file limit (raising it to its
 * hard limit when lower than they need): libmicrohttpd's hard limits in
 * all and per address, and the count past which requests get 503. One
 * address alone never reaches the soft limit. */
void httpd_limits(unsigned *total, unsigned *soft, unsigned *per_ip);

/* The whole of the file at path, NUL-terminated, which must hold marker
 * (a PEM block of what, e.g. "certificate"); the caller frees it. NULL
 * with the reason in err, naming setting and path, e.g. "tls_key /k.pem:
 * no PEM private key in it". */
char *httpd_read_pem(const char *setting, const char *path, const char *marker,
                     const char *what, char *err, size_t errlen);

#endif

/* config/settings.c - the settings of the config file, one per line as
 * "NAME VALUE": each checked by its entry in a table, each at most once. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chars.h"
#include "parser.h"
#include "path.h"

struct config_setting {
    const char *name;
    void (*set)(struct parser *, const char *value);
};

/* v as a path: absolute, a relative one resolved against the config's
 * folder. NULL when it is not one (reported, naming key) or memory ran
 * out. */
static char *
setting_path(struct parser *p, const char *key, const char *v)
{
    char *path;

    if (*v == '\0') {
        config_parser_error(p, "%s is empty", key);
        return NULL;
    }
    if (config_has_control(v)) {
        char a[CONFIG_SHOW_SIZE];

        config_parser_error(p, "%s %s has control characters", key,
                            config_show(a, v));
        return NULL;
    }
    /* Without a folder an error is already reported. */
    if (v[0] != '/' && p->cfg->dir == NULL)
        return NULL;
    path = config_path_resolve(v[0] == '/' ? "/" : p->cfg->dir, v);
    if (path == NULL)
        p->nomem = 1;
    return path;
}

static void
setting_state_dir(struct parser *p, const char *v)
{
    p->cfg->state_dir = setting_path(p, "state_dir", v);
}

/* Read when curl starts a TLS connection, so a file that cannot be read
 * is refused now rather than failing every https poll. */
static void
setting_ca_file(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    char *path = setting_path(p, "ca_file", v);

    if (path != NULL && access(path, R_OK) != 0) {
        config_parser_error(p, "ca_file %s: %s", config_show(a, path),
                            strerror(errno));
        free(path);
        return;
    }
    free(p->cfg->ca_file);
    p->cfg->ca_file = path;
}

static void
setting_tls_cert(struct parser *p, const char *v)
{
    p->cfg->tls_cert = setting_path(p, "tls_cert", v);
}

static void
setting_tls_key(struct parser *p, const char *v)
{
    p->cfg->tls_key = setting_path(p, "tls_key", v);
}

int
config_listen_addr(const char *host, int port, struct sockaddr_storage *addr)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *v4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&ss;
    const char *zone;
    char buf[INET6_ADDRSTRLEN + 1];
    size_t n;

    if (port < 0 || port > 65535)
        return -1;
    memset(&ss, 0, sizeof ss);
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        goto done;
    }
    /* An IPv6 address, then maybe "%zone": an interface name, whose index
     * is 0 when no such interface exists now (bind() then says so). */
    zone = strchr(host, '%');
    n = zone ? (size_t)(zone - host) : strlen(host);
    if (n >= sizeof buf)
        return -1;
    memcpy(buf, host, n);
    buf[n] = '\0';
    if (inet_pton(AF_INET6, buf, &v6->sin6_addr) != 1)
        return -1;
    if (zone != NULL) {
        if (!config_name_valid(zone + 1, strlen(zone + 1)))
            return -1;
        v6->sin6_scope_id = if_nametoindex(zone + 1);
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
done:
    if (addr != NULL)
        *addr = ss;
    return 0;
}

static void
setting_listen(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE], *h;
    const char *host, *colon;
    size_t hlen;
    long port;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');

        if (close == NULL || close[1] != ':' || close == v + 1)
            goto bad;
        host = v + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        if ((colon = strrchr(v, ':')) == NULL)
            goto bad;
        host = v;
        hlen = (size_t)(colon - v);
        if (memchr(host, ':', hlen) != NULL) {
            config_parser_error(p, "listen: IPv6 addresses need brackets, "
                                   "e.g. [::1]:8080");
            return;
        }
        if (hlen == 0) {
            config_parser_error(p,
                                "listen: no host in %s (0.0.0.0 means every "
                                "interface)",
                                config_show(a, v));
            return;
        }
    }
    if ((h = strndup(host, hlen)) == NULL) {
        p->nomem = 1;
        return;
    }
    /* The same test as the server's when it starts (config.h). */
    if (config_listen_addr(h, 0, NULL) != 0) {
        config_parser_error(p,
                            "listen: %s is not a numeric IPv4 or IPv6 "
                            "address (host names are not looked up; use "
                            "e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080)",
                            config_show(a, h));
        free(h);
        return;
    }
    if (config_number_parse(colon + 1, 1, 65535, &port) != 0) {
        config_parser_error(p, "listen: bad port %s (1 to 65535)",
                            config_show(a, colon + 1));
        free(h);
        return;
    }
    p->cfg->listen_host = h;
    p->cfg->listen_port = (int)port;
    return;
bad:
    config_parser_error(p,
                        "bad listen address %s (use HOST:PORT, e.g. "
                        "127.0.0.1:8080 or [::1]:8080)",
                        config_show(a, v));
}

static void
setting_title(struct parser *p, const char *v)
{
    p->cfg->title = config_parser_strdup(p, v);
}

/* An absolute http(s) URL with a host, of printable ASCII, at most
 * CONFIG_URL_MAX bytes: readers' feed readers take it as it is. */
static void
setting_public_url(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    const char *host = NULL;
    size_t i, n = strlen(v);

    if (strncasecmp(v, "http://", 7) == 0)
        host = v + 7;
    else if (strncasecmp(v, "https://", 8) == 0)
        host = v + 8;
    for (i = 0; host != NULL && i < n; i++)
        if ((unsigned char)v[i] <= ' ' || (unsigned char)v[i] >= 0x7f)
            host = NULL;
    if (host == NULL || *host == '\0' || *host == '/' || n > CONFIG_URL_MAX) {
        config_parser_error(p,
                            "bad public_url %s (an http:// or https:// URL, "
                            "e.g. https://example.org/river/)",
                            config_show(a, v));
        return;
    }
    p->cfg->public_url = config_parser_strdup(p, v);
}

static void
setting_interval(struct parser *p, const char *v)
{
    if (config_duration_parse(v, &p->cfg->interval) != 0) {
        char a[CONFIG_SHOW_SIZE];

        config_parser_error(p, "bad interval %s " CONFIG_DURATION_HINT,
                            config_show(a, v));
    }
}

/* The numeric settings differ only in their range and their field. */
static int
setting_number(struct parser *p, const char *key, const char *v, long min,
               long max, long *out)
{
    char a[CONFIG_SHOW_SIZE];

    if (config_number_parse(v, min, max, out) == 0)
        return 0;
    config_parser_error(p, "bad %s %s (a number from %ld to %ld)", key,
                        config_show(a, v), min, max);
    return -1;
}

static void
setting_max_items(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "max_items", v, 1, 100000, &n) == 0)
        p->cfg->max_items = (size_t)n;
}

static void
setting_parallel(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "parallel", v, 1, 1000, &n) == 0)
        p->cfg->parallel = (int)n;
}

static void
setting_per_host(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "per_host", v, 1, 100, &n) == 0)
        p->cfg->per_host = (int)n;
}

static void
setting_keep(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];

    if (strcmp(v, "forever") == 0)
        p->cfg->keep = 0;
    else if (config_duration_parse(v, &p->cfg->keep) != 0)
        config_parser_error(p,
                            "bad keep %s " CONFIG_DURATION_HINT " or forever",
                            config_show(a, v));
}

static void
setting_keep_items(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "keep_items", v, 0, 100000000, &n) == 0)
        p->cfg->keep_items = (size_t)n;
}

static void
setting_fetch(struct parser *p, const char *key, const char *v)
{
    config_fetch_set(p, &p->cfg->fetch, "", key, v);
}

/* Each setting with its check; NULL for the fetch options
 * (setting_fetch()). */
static const struct config_setting settings[] = {
    {"state_dir", setting_state_dir},
    {"listen", setting_listen},
    {"title", setting_title},
    {"interval", setting_interval},
    {"max_items", setting_max_items},
    {"parallel", setting_parallel},
    {"per_host", setting_per_host},
    {"keep", setting_keep},
    {"keep_items", setting_keep_items},
    {"public_url", setting_public_url},
    {"tls_cert", setting_tls_cert},
    {"tls_key", setting_tls_key},
    {"ca_file", setting_ca_file},
    {"timeout", NULL},
    {"connect_timeout", NULL},
    {"max_size", NULL},
    {"user_agent", NULL},
};
_Static_assert(sizeof settings / sizeof settings[0] == CONFIG_NSETTINGS,
               "CONFIG_NSETTINGS");

void
config_parser_settings_check(struct parser *p)
{
    size_t cert = 0, key = 0;

    for (size_t i = 0; i < CONFIG_NSETTINGS; i++) {
        if (strcmp(settings[i].name, "tls_cert") == 0)
            cert = i;
        else if (strcmp(settings[i].name, "tls_key") == 0)
            key = i;
    }
    /* Both or neither; when one of them was bad, that is reported. */
    if (p->seen[cert] && !p->seen[key])
        config_parser_error_at(p, p->seen[cert],
                               "tls_cert needs tls_key too (both or neither)");
    else if (p->seen[key] && !p->seen[cert])
        config_parser_error_at(p, p->seen[key],
                               "tls_key needs tls_cert too (both or neither)");
}

void
config_parser_setting(struct parser *p)
{
    char a[CONFIG_SHOW_SIZE];
    const char *key = p->words[0];
    size_t i;

    for (i = 0; i < CONFIG_NSETTINGS; i++)
        if (strcmp(key, settings[i].name) == 0)
            break;
    if (i == CONFIG_NSETTINGS) {
        config_parser_error(p, "unknown setting %s", config_show(a, key));
        return;
    }
    if (p->seen[i]) {
        config_parser_error(p, "setting %s given twice (first on line %d)",
                            config_show(a, key), p->seen[i]);
        return;
    }
    p->seen[i] = p->line;
    if (p->nwords == 1)
        config_parser_error(p, "setting %s needs a value", config_show(a, key));
    else if (p->nwords > 2)
        config_parser_error(p,
                            "setting %s takes one value, not %d (quote text "
                            "with spaces)",
                            config_show(a, key), p->nwords - 1);
    else if (settings[i].set == NULL)
        setting_fetch(p, key, p->words[1]);
    else
        settings[i].set(p, p->words[1]);
}

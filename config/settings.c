/* config/settings.c - the settings of the config file, one per line as
 * "NAME VALUE": each checked by its entry in a table, each at most once. */
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "parser.h"
#include "path.h"

struct config_setting {
    const char *name;
    void (*set)(struct parser *, const char *value);
};

static void
setting_state_dir(struct parser *p, const char *v)
{
    if (*v == '\0') {
        config_parser_error(p, "state_dir is empty");
        return;
    }
    /* Without a folder an error is already reported. */
    if (v[0] != '/' && p->cfg->dir == NULL)
        return;
    p->cfg->state_dir = config_path_resolve(v[0] == '/' ? "/" : p->cfg->dir, v);
    if (p->cfg->state_dir == NULL)
        p->nomem = 1;
}

/* Whether s[0..n) is an IPv6 address as it stands in brackets: hex digits,
 * ':' and '.', at least one ':', then maybe a "%zone". */
static int
listen_v6_valid(const char *s, size_t n)
{
    size_t i;
    int colon = 0;

    for (i = 0; i < n && s[i] != '%'; i++) {
        if (s[i] == ':')
            colon = 1;
        else if (!config_is_hex((unsigned char)s[i]) && s[i] != '.')
            return 0;
    }
    if (i < n && !config_name_valid(s + i + 1, n - i - 1))
        return 0;
    return colon;
}

/* Whether s[0..n) is an IPv4 address or a host name. */
static int
listen_host_valid(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!config_is_alpha(s[i]) && !config_is_digit(s[i]) && s[i] != '.' &&
            s[i] != '-')
            return 0;
    return n > 0;
}

static void
setting_listen(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    const char *host, *colon;
    size_t hlen;
    long port;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');

        if (close == NULL || close[1] != ':' ||
            !listen_v6_valid(v + 1, (size_t)(close - v - 1)))
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
        if (!listen_host_valid(host, hlen))
            goto bad;
    }
    if (config_number_parse(colon + 1, 1, 65535, &port) != 0) {
        config_parser_error(p, "listen: bad port %s (1 to 65535)",
                            config_show(a, colon + 1));
        return;
    }
    if ((p->cfg->listen_host = strndup(host, hlen)) == NULL)
        p->nomem = 1;
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

static const struct config_setting settings[] = {
    {"state_dir", setting_state_dir},   {"listen", setting_listen},
    {"title", setting_title},           {"interval", setting_interval},
    {"max_items", setting_max_items},   {"parallel", setting_parallel},
    {"per_host", setting_per_host},     {"keep", setting_keep},
    {"keep_items", setting_keep_items},
};
_Static_assert(sizeof settings / sizeof settings[0] == CONFIG_NSETTINGS,
               "CONFIG_NSETTINGS");

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
    else
        settings[i].set(p, p->words[1]);
}

/* config/fetch.c - how feeds are fetched: timeout, connect_timeout,
 * max_size and user_agent, as settings (for every feed) and as options of
 * a feed line (for that feed). A feed's own values start unset and take
 * the settings' at the end of the file, whatever the order of the lines. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "chars.h"
#include "parser.h"

#define TIMEOUT_MAX 3600        /* an hour for one transfer */
#define CONNECT_TIMEOUT_MAX 300 /* five minutes to connect */
#define SIZE_MIN 1024
#define SIZE_MAX_BYTES (UINT64_C(1) << 30) /* a feed of a GiB is no feed */

int
config_size_parse(const char *s, uint64_t *bytes)
{
    uint64_t n = 0, unit = 1;

    if (s == NULL || !config_is_digit(*s))
        return -1;
    for (; config_is_digit(*s); s++) {
        if (n > (UINT64_MAX - 9) / 10)
            return -1;
        n = n * 10 + (uint64_t)(*s - '0');
    }
    switch (*s) {
    case '\0':
        break;
    case 'k':
    case 'K':
        unit = UINT64_C(1) << 10;
        break;
    case 'M':
        unit = UINT64_C(1) << 20;
        break;
    case 'G':
        unit = UINT64_C(1) << 30;
        break;
    default:
        return -1;
    }
    if (*s != '\0' && s[1] != '\0')
        return -1;
    if (n > UINT64_MAX / unit)
        return -1;
    *bytes = n * unit;
    return 0;
}

/* A duration of at most max seconds, or an error naming key. */
static void
fetch_seconds(struct parser *p, const char *label, const char *key,
              const char *v, int64_t max, int64_t *out)
{
    char a[CONFIG_SHOW_SIZE];
    int64_t s;

    if (config_duration_parse(v, &s) != 0 || s > max)
        config_parser_error(
            p, "%sbad %s %s " CONFIG_DURATION_HINT ", at most %lld s", label,
            key, config_show(a, v), (long long)max);
    else
        *out = s;
}

void
config_fetch_set(struct parser *p, struct config_fetch *fx, const char *label,
                 const char *key, const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    uint64_t n;
    size_t i, len;

    if (strcmp(key, "timeout") == 0) {
        fetch_seconds(p, label, key, v, TIMEOUT_MAX, &fx->timeout);
    } else if (strcmp(key, "connect_timeout") == 0) {
        fetch_seconds(p, label, key, v, CONNECT_TIMEOUT_MAX,
                      &fx->connect_timeout);
    } else if (strcmp(key, "max_size") == 0) {
        if (config_size_parse(v, &n) != 0 || n < SIZE_MIN || n > SIZE_MAX_BYTES)
            config_parser_error(p,
                                "%sbad max_size %s (bytes, or with k, M or "
                                "G: 512k, 16M; from 1k to 1G)",
                                label, config_show(a, v));
        else
            fx->max_size = n;
    } else {
        len = strlen(v);
        for (i = 0; i < len && v[i] >= 0x20 && v[i] < 0x7f; i++)
            ;
        if (len == 0 || i < len || len > CONFIG_USER_AGENT_MAX) {
            config_parser_error(p,
                                "%sbad user_agent %s (printable ASCII, at "
                                "most %d characters)",
                                label, config_show(a, v),
                                CONFIG_USER_AGENT_MAX);
            return;
        }
        free(fx->user_agent);
        fx->user_agent = config_parser_strdup(p, v);
    }
}

void
config_fetch_finish(struct parser *p)
{
    struct config *cfg = p->cfg;
    struct config_fetch *g = &cfg->fetch, *fx;
    size_t i;

    if (g->timeout == 0)
        g->timeout = CONFIG_DEFAULT_TIMEOUT;
    if (g->connect_timeout == 0)
        g->connect_timeout = CONFIG_DEFAULT_CONNECT_TIMEOUT;
    if (g->max_size == 0)
        g->max_size = CONFIG_DEFAULT_MAX_SIZE;
    if (g->user_agent == NULL)
        g->user_agent = config_parser_strdup(p, CONFIG_DEFAULT_USER_AGENT);
    for (i = 0; i < cfg->nfeeds; i++) {
        if ((fx = cfg->feeds[i].fetch) == NULL)
            continue;
        if (fx->timeout == 0)
            fx->timeout = g->timeout;
        if (fx->connect_timeout == 0)
            fx->connect_timeout = g->connect_timeout;
        if (fx->max_size == 0)
            fx->max_size = g->max_size;
        if (fx->user_agent == NULL && g->user_agent != NULL)
            fx->user_agent = config_parser_strdup(p, g->user_agent);
    }
}

void
config_fetch_free(struct config_fetch *fx)
{
    if (fx != NULL)
        free(fx->user_agent);
}

const struct config_fetch *
config_feed_fetch(const struct config *cfg, const struct config_feed *f)
{
    return f->fetch != NULL ? f->fetch : &cfg->fetch;
}

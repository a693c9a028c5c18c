/* config/config.h - the feed-list file: one setting or one feed per line,
 * '#' starts a comment, double quotes for text with spaces. Plain library:
 * no I/O besides reading the file, no logging. */
#ifndef CONFIG_H
#define CONFIG_H

#include <stddef.h>
#include <stdint.h>

/* How a feed's entries get their stable IDs (DESIGN.md "Stable IDs"). */
enum config_id_rule {
    CONFIG_ID_AUTO, /* the usual order of rules */
    CONFIG_ID_SLUG, /* the article ID at the end of the link */
    CONFIG_ID_GUID,
    CONFIG_ID_LINK,
    CONFIG_ID_CONTENT,
};

struct config_feed {
    char *name;
    /* An absolute http://, https:// or file:// URL; a path in the file is
     * made a file:// URL relative to the config file's folder. */
    char *location;
    int64_t interval; /* seconds; the config's default when not given */
    char **tags;
    size_t ntags;
    enum config_id_rule id_rule; /* "id RULE" */
    char *id_pattern; /* "id_pattern REGEX" (POSIX extended), or NULL */
    int line;         /* where it stands in the file */
};

struct config {
    char *path;      /* the file, as given */
    char *dir;       /* its folder: relative paths are relative to it */
    char *state_dir; /* absolute: a relative one is resolved against dir */
    char *listen_host;
    int listen_port;
    char *title;
    int64_t interval;  /* default poll interval, seconds */
    size_t max_items;  /* entries in the merged outputs */
    int parallel;      /* connections in all */
    int per_host;      /* connections to one host */
    int64_t keep;      /* drop entries older than this (seconds); 0: never */
    size_t keep_items; /* keep at most this many entries; 0: no limit */
    struct config_feed *feeds;
    size_t nfeeds;
};

/* Reads and validates the file at path. On success returns the config
 * (caller frees with config_free()) and *errors is NULL. On failure returns
 * NULL and *errors holds every problem found, one "FILE:LINE: message" per
 * line (caller frees); NULL too when out of memory. */
struct config *config_load(const char *path, char **errors)
    __attribute__((warn_unused_result));

/* The same for text already in memory; name (not NULL) is used in
 * messages and dir anchors relative paths (NULL or relative: from the
 * current directory). */
struct config *config_parse(const char *text, size_t len, const char *name,
                            const char *dir, char **errors)
    __attribute__((warn_unused_result));

void config_free(struct config *);

/* The feed named name, or NULL. */
const struct config_feed *config_feed_find(const struct config *,
                                           const char *name);

/* "30s", "15m", "2h", "1d", "1w", and sums such as "1h30m" (largest unit
 * first, each once), into seconds. 0, or -1 when s is not a positive
 * duration or exceeds INT64_MAX / 1000 seconds. */
int config_duration_parse(const char *s, int64_t *seconds);

struct sockaddr_storage;

/* Whether host, as the listen setting holds it (an IPv6 address without
 * its brackets), is an address to listen on: a numeric IPv4 address, a
 * numeric IPv6 address with maybe a "%zone" (an interface name), or
 * "localhost" (127.0.0.1). Host names are not looked up, so that the
 * config check and the server starting from the same file always agree.
 * port must be 0 to 65535. 0 and, when addr is not NULL, the socket
 * address in *addr; or -1. */
int config_listen_addr(const char *host, int port,
                       struct sockaddr_storage *addr);

#endif

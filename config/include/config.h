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

/* How a feed is fetched (the settings timeout, connect_timeout, max_size
 * and user_agent, or a feed line's own). */
struct config_fetch {
    int64_t timeout;         /* the whole transfer, seconds */
    int64_t connect_timeout; /* seconds */
    uint64_t max_size;       /* the body's bytes, once decoded */
    char *user_agent;
};

#define CONFIG_DEFAULT_TIMEOUT 30
#define CONFIG_DEFAULT_CONNECT_TIMEOUT 10
#define CONFIG_DEFAULT_MAX_SIZE (UINT64_C(16) << 20)
#define CONFIG_DEFAULT_USER_AGENT "feedd/" FEEDD_VERSION " (+" FEEDD_URL ")"
#define CONFIG_USER_AGENT_MAX 256

/* A feed's line. Its name and location are kept in the config's block
 * of strings (config_free() frees them with it). */
struct config_feed {
    char *name;
    /* An absolute http://, https:// or file:// URL; a path in the file is
     * made a file:// URL relative to the config file's folder. */
    char *location;
    int64_t interval; /* seconds; the config's default when not given */
    char **tags;
    char *id_pattern; /* "id_pattern REGEX" (POSIX extended), or NULL */
    /* Its own fetch options, or NULL: the settings' (config_feed_fetch()).
     * Only feeds that set one pay for them. */
    struct config_fetch *fetch;
    int line;              /* where it stands in the file */
    uint16_t ntags;        /* a line holds fewer than 8192 */
    unsigned char id_rule; /* "id RULE": an enum config_id_rule */
};

/* Blocks of strings: one allocation holds many feeds' names and
 * locations (a daemon keeps the config, so a malloc per string would
 * cost its header and rounding per feed for ever). */
struct config_strings;

/* The longest public_url. */
#define CONFIG_URL_MAX 1024

struct config {
    char *path;      /* the file, as given */
    char *dir;       /* its folder: relative paths are relative to it */
    char *state_dir; /* absolute: a relative one is resolved against dir */
    char *listen_host;
    int listen_port;
    char *title;
    char *public_url; /* where readers reach the outputs, or NULL */
    char *tls_cert;   /* PEM certificate (chain) for HTTPS, or NULL; */
    char *tls_key;    /* its private key: both or neither, absolute */
    /* The certificate authorities (PEM) trusted for https feeds and
     * WebSub hubs instead of the system's, absolute; or NULL. */
    char *ca_file;
    int64_t interval;  /* default poll interval, seconds */
    size_t max_items;  /* entries in the merged outputs */
    int parallel;      /* connections in all */
    int per_host;      /* connections to one host */
    int64_t keep;      /* drop entries older than this (seconds); 0: never */
    size_t keep_items; /* keep at most this many entries; 0: no limit */
    struct config_fetch fetch; /* every feed's, but for a feed's own */
    struct config_feed *feeds;
    size_t nfeeds;
    struct config_strings *strings; /* the feeds' names and locations */
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

/* How feed f of cfg is fetched: its own options, else the settings'. */
const struct config_fetch *config_feed_fetch(const struct config *cfg,
                                             const struct config_feed *f);

/* "1000", "512k", "16M", "1G" (k, M and G are 1024, 1024^2 and 1024^3;
 * "K" too) into bytes. 0, or -1. */
int config_size_parse(const char *s, uint64_t *bytes);

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

/* Edits of a config file in place (edit.c). Every line the edits do not
 * touch stays byte for byte as it was: comments, blank lines, order, line
 * ends. Nothing is written before config_edit_commit(), which checks that
 * the result parses and replaces the file atomically. err (errlen bytes)
 * gets one line, without a newline, on every failure. */
struct config_edit;

/* Reads the file at path and checks that it parses: on failure NULL, with
 * "cannot read ...", or the parser's first "FILE:LINE: message" (and how
 * many more) in err. The caller frees the result with config_edit_free(). */
struct config_edit *config_edit_open(const char *path, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* The config as the edits so far leave it (parsed again when needed, so
 * the feeds' line numbers are those of the edited text); borrowed until
 * the next edit. NULL when the edited text does not parse or memory ran
 * out (err says which). */
const struct config *config_edit_config(struct config_edit *, char *err,
                                        size_t errlen);

/* Adds the line "feed NAME LOCATION [interval D] [tags a,b]" (interval
 * and tags NULL when not given; words quoted where needed) after the last
 * feed line, or at the end when there is none, with the file's line end.
 * The line is checked alone first: 0, or -1 with the parser's message
 * (name, location, duration, tags) in err. Duplicates of other feeds are
 * refused by config_edit_commit() only: check them before. */
int config_edit_add(struct config_edit *, const char *name,
                    const char *location, const char *interval,
                    const char *tags, char *err, size_t errlen);

/* Checks what config_edit_add() would add, without adding it: 0, or -1
 * (err). */
int config_edit_check_feed(const struct config_edit *, const char *name,
                           const char *location, const char *interval,
                           const char *tags, char *err, size_t errlen);

/* Removes the line of the feed named key, else of the one whose location
 * (as config_edit_config() gives it) is key. 0, or -1 (err says why; no
 * such feed is "no feed ..."). */
int config_edit_remove(struct config_edit *, const char *key, char *err,
                       size_t errlen);

/* Replaces the location of the feed named name, only that word of its
 * line: its options and comment stay. 0, or -1 (err). */
int config_edit_set_location(struct config_edit *, const char *name,
                             const char *location, char *err, size_t errlen);

/* Whether any edit was made since config_edit_open(). */
int config_edit_changed(const struct config_edit *);

/* Checks that the edited text parses, then writes it to a temporary file
 * in the file's folder with the file's mode, fsyncs it, renames it over
 * the file (through a symbolic link, to its target) and fsyncs the
 * folder. 0, or -1 (err) with the file as it was. */
int config_edit_commit(struct config_edit *, char *err, size_t errlen);

void config_edit_free(struct config_edit *);

#endif

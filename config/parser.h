/* config/parser.h - the state of one config_parse() run, shared by the
 * line reader (config.c), the settings (settings.c) and the feed lines
 * (feed.c). Private to config/. */
#ifndef CONFIG_PARSER_H
#define CONFIG_PARSER_H

#include <stddef.h>

#include "config.h"

#define CONFIG_LINE_MAX 8192 /* bytes in a line, without its end */
#define CONFIG_WORDS_MAX 16  /* words in a line */
#define CONFIG_NAME_MAX 64   /* bytes in a feed name or a tag */
#define CONFIG_SHOW_MAX 64   /* bytes of a word quoted in a message */
#define CONFIG_SHOW_SIZE (CONFIG_SHOW_MAX * 4 + 8)

#define CONFIG_NSETTINGS 17
#define CONFIG_DURATION_HINT "(use 30s, 15m, 2h, 1d)"
#define CONFIG_NAME_HINT "(letters, digits, '.', '_' and '-', at most 64)"

struct config_error {
    int line;   /* 0: about the file as a whole */
    size_t seq; /* order of discovery, to keep the sort stable */
    char *msg;
};

struct parser {
    struct config *cfg;
    const char *name;
    int line;
    int nomem;
    struct config_error *errs;
    size_t nerrs, errs_cap;
    size_t feeds_cap;
    int seen[CONFIG_NSETTINGS]; /* line where each setting stands, or 0 */
    /* The words of the current line, unquoted, each NUL-terminated. Quotes
     * and escapes only shrink a line, and words are separated, so a line of
     * CONFIG_LINE_MAX bytes always fits. */
    char buf[CONFIG_LINE_MAX + 2];
    char *words[CONFIG_WORDS_MAX];
    int nwords;
    /* Where each word stands in the line: bytes [start, end), quotes
     * included. */
    size_t word_start[CONFIG_WORDS_MAX], word_end[CONFIG_WORDS_MAX];
};

/* Records one problem at line (0: the file as a whole), or on the current
 * line; nothing when memory already ran out, since the result is then NULL
 * with no messages anyway. */
void config_parser_error_at(struct parser *, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void config_parser_error(struct parser *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A copy of s, or NULL with p->nomem set. */
char *config_parser_strdup(struct parser *, const char *s);
/* A copy of s in the config's blocks of strings (freed only with the
 * config), or NULL with p->nomem set. */
char *config_parser_keep(struct parser *, const char *s);

/* Writes s into out (CONFIG_SHOW_SIZE bytes) in double quotes, for a
 * message: '"', '\' and control bytes escaped so the message stays one
 * plain line, and cut after CONFIG_SHOW_MAX bytes, not inside a UTF-8
 * sequence. Returns out. */
const char *config_show(char *out, const char *s);

/* Splits the line s[0..n) (without its end) into words as config_parse()
 * does, quotes and comments included: word i stands at bytes
 * [start[i], end[i]) of s, quotes and all. start and end hold
 * CONFIG_WORDS_MAX each. The number of words, or -1 when the line is not
 * one config_parse() reads (too long, too many words, a bad quote) or
 * memory ran out. */
int config_line_split(const char *s, size_t n, size_t *start, size_t *end);

/* Reads the whole file at path into *text (NUL-terminated, the caller
 * frees it), *len bytes. 0, -EFBIG past the size config_load() accepts, or
 * another negative errno. */
int config_file_read(const char *path, char **text, size_t *len);

/* The folder of path, absolute when realpath() can say so; otherwise as it
 * stands. The caller frees it; NULL when out of memory. */
char *config_file_dir(const char *path);

/* A whole number from min to max, as *out. 0, or -1. */
int config_number_parse(const char *s, long min, long max, long *out);

/* The fetch options (fetch.c), key being one of timeout, connect_timeout,
 * max_size and user_agent: the value v of key into fx,
 * or an error prefixed with label ("" for a setting, "feed NAME: " for a
 * feed's); once every line is read, the defaults of what was not given
 * and the settings' values for what a feed did not give; fx's strings
 * freed (not fx itself). */
void config_fetch_set(struct parser *, struct config_fetch *fx,
                      const char *label, const char *key, const char *v);
void config_fetch_finish(struct parser *);
void config_fetch_free(struct config_fetch *fx);

/* Whether s[0..n) is a feed name or a tag. */
int config_name_valid(const char *s, size_t n);

/* The line in p->words is a setting (p->words[0] is not "feed"): checks
 * and applies it, or reports why not (settings.c). */
void config_parser_setting(struct parser *);
/* Once every line is read: the settings that go together (tls_cert and
 * tls_key, both or neither), an error at the line of the one alone. */
void config_parser_settings_check(struct parser *);

/* The line in p->words is "feed NAME LOCATION [OPTION VALUE]..." (feed.c). */
void config_parser_feed(struct parser *);

/* Once every line is read: reports feeds that share a name or a location
 * with an earlier one (feed.c). */
void config_parser_duplicates(struct parser *);

#endif

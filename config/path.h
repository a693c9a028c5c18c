/* config/path.h - paths and URLs as the config file writes them: a path
 * made absolute and a file:// URL, the scheme of a URL, the checks an
 * http(s) URL must pass. Pure functions over strings, no file system
 * access but config_cwd() (private to config/). */
#ifndef CONFIG_PATH_H
#define CONFIG_PATH_H

#include <stddef.h>

/* The absolute path of rel seen from the absolute folder dir (rel itself
 * when it starts with '/'), without empty or "." segments. ".." segments
 * stay: under symlinks only the file system knows what they lead to.
 * Caller frees; NULL when out of memory. */
char *config_path_resolve(const char *dir, const char *rel);

/* The file:// URL of an absolute path: every byte but the unreserved ones
 * of RFC 3986 §2.3 and '/' percent-encoded. Caller frees; NULL when out of
 * memory. */
char *config_path_to_url(const char *path);

/* The process's working folder. Caller frees; NULL with errno set. */
char *config_cwd(void);

/* Whether s starts with prefix (lower case), ignoring ASCII case. */
int config_ascii_prefix(const char *s, const char *prefix);

/* The length of the scheme when s starts with "SCHEME://" (RFC 3986 §3.1),
 * else 0. */
size_t config_url_scheme_len(const char *s);

/* The length of the scheme when s starts with "SCHEME:" (RFC 3986 §3.1),
 * with or without "//" after it, else 0. */
size_t config_url_scheme_colon_len(const char *s);

/* Whether s holds a control byte (below 0x20, or 0x7f). */
int config_has_control(const char *s);

enum config_url_problem {
    CONFIG_URL_OK,
    CONFIG_URL_SPACE,   /* a space or a control byte: to be %-encoded */
    CONFIG_URL_NO_HOST, /* an empty host (RFC 3986 §3.2.2) */
    CONFIG_URL_BRACKET, /* an IPv6 literal's '[' not closed right after */
};

/* Checks a URL whose scheme (scheme_len bytes, then "://") takes a host,
 * as http and https do: no spaces or control bytes, and a host after any
 * userinfo, an IPv6 literal counting from its '[' and closed by a ']'
 * that ends the host or comes before ":PORT". */
enum config_url_problem config_url_check(const char *url, size_t scheme_len);

#endif

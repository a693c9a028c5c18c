/* config/chars.h - the ASCII character classes of the config syntax, not
 * the locale's (private to config/). */
#ifndef CONFIG_CHARS_H
#define CONFIG_CHARS_H

static inline int
config_is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static inline int
config_is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static inline int
config_is_hex(int c)
{
    return config_is_digit(c) || (c >= 'a' && c <= 'f') ||
           (c >= 'A' && c <= 'F');
}

/* The characters of feed names and tags. */
static inline int
config_is_name_char(int c)
{
    return config_is_alpha(c) || config_is_digit(c) || c == '.' || c == '_' ||
           c == '-';
}

#endif

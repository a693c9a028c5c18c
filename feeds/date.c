/* feeds/date.c - the dates feeds carry: RFC 822 (as updated by RFC 1123,
 * the RSS 2.0 form) and RFC 3339 / W3C-DTF (Atom, dc:date), into UTC
 * seconds. A date that cannot be read is FEED_TIME_NONE, never a guess. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feeds/date.h"

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (Howard Hinnant's days_from_civil algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int
days_in_month(int64_t y, int m)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

    return m == 2 && leap ? 29 : mdays[m - 1];
}

/* The instant of a civil date and time at offset (seconds east of UTC),
 * or FEED_TIME_NONE when a field is out of range. */
static int64_t
make_time(int64_t y, int mon, int d, int h, int min, int s, int offset)
{
    if (y < 1 || y > 9999 || mon < 1 || mon > 12 || d < 1 ||
        d > days_in_month(y, mon) || h < 0 || h > 24 || min < 0 || min > 59 ||
        s < 0 || s > 60 || (h == 24 && (min || s)))
        return FEED_TIME_NONE;
    if (s == 60)
        s = 59; /* a leap second: the instant before is close enough */
    return days_from_civil(y, mon, d) * 86400 + (int64_t)h * 3600 +
           (int64_t)min * 60 + s - offset;
}

/* Reads 1 to max digits at *p. -1 when there is none. */
static int
digits(const char **p, int min, int max)
{
    const char *s = *p;
    int v = 0, n = 0;

    while (n < max && isdigit((unsigned char)s[n])) {
        v = v * 10 + (s[n] - '0');
        n++;
    }
    if (n < min)
        return -1;
    *p = s + n;
    return v;
}

static void
skip_space(const char **p)
{
    while (**p == ' ' || **p == '\t' || **p == '\r' || **p == '\n')
        (*p)++;
}

/* "+hh:mm", "+hhmm", "+hh", "Z" at *p into seconds east of UTC. -1 on
 * error; *offset is unchanged when there is no zone at all. */
static int
numeric_zone(const char **p, int *offset)
{
    const char *s = *p;
    int sign, h, m = 0;

    if (*s == 'Z' || *s == 'z') {
        *offset = 0;
        *p = s + 1;
        return 0;
    }
    if (*s != '+' && *s != '-')
        return 0;
    sign = *s++ == '-' ? -1 : 1;
    if ((h = digits(&s, 2, 2)) < 0)
        return -1;
    if (*s == ':')
        s++;
    if (isdigit((unsigned char)*s) && (m = digits(&s, 2, 2)) < 0)
        return -1;
    if (h > 23 || m > 59)
        return -1;
    *offset = sign * (h * 3600 + m * 60);
    *p = s;
    return 0;
}

/* RFC 3339 and the W3C-DTF profile of ISO 8601: "YYYY", "YYYY-MM",
 * "YYYY-MM-DD", then "Thh:mm", ":ss", ".fraction", and a zone. A missing
 * zone is taken as UTC. */
static int64_t
parse_iso(const char *s)
{
    int64_t y;
    int mon = 1, d = 1, h = 0, min = 0, sec = 0, offset = 0;

    if ((y = digits(&s, 4, 4)) < 0)
        return FEED_TIME_NONE;
    if (*s == '-') {
        s++;
        if ((mon = digits(&s, 2, 2)) < 0)
            return FEED_TIME_NONE;
        if (*s == '-') {
            s++;
            if ((d = digits(&s, 2, 2)) < 0)
                return FEED_TIME_NONE;
        }
    } else if (isdigit((unsigned char)*s)) {
        /* The basic format, "20240517T100000Z". */
        if ((mon = digits(&s, 2, 2)) < 0 || (d = digits(&s, 2, 2)) < 0)
            return FEED_TIME_NONE;
    }
    /* The time comes after "T" (some generators put white space around
     * it) or after a space alone. */
    {
        const char *t = s;
        int sep = 0;

        while (*t == ' ') {
            t++;
            sep = 1;
        }
        if (*t == 'T' || *t == 't') {
            t++;
            sep = 1;
            while (*t == ' ')
                t++;
        }
        if (sep && isdigit((unsigned char)*t))
            s = t;
        else
            sep = 0;
        if (!sep)
            goto end;
    }
    {
        if ((h = digits(&s, 2, 2)) < 0)
            return FEED_TIME_NONE;
        if (*s == ':')
            s++;
        if ((min = digits(&s, 2, 2)) < 0)
            return FEED_TIME_NONE;
        if (*s == ':' || isdigit((unsigned char)*s)) {
            if (*s == ':')
                s++;
            if ((sec = digits(&s, 2, 2)) < 0)
                return FEED_TIME_NONE;
            if (*s == '.' || *s == ',') {
                s++;
                if (!isdigit((unsigned char)*s))
                    return FEED_TIME_NONE;
                while (isdigit((unsigned char)*s))
                    s++;
            }
        }
        skip_space(&s);
        if (numeric_zone(&s, &offset) < 0)
            return FEED_TIME_NONE;
        if (strncasecmp(s, "UTC", 3) == 0 || strncasecmp(s, "GMT", 3) == 0)
            s += 3;
    }
end:
    skip_space(&s);
    if (*s != '\0')
        return FEED_TIME_NONE;
    return make_time(y, mon, d, h, min, sec, offset);
}

static int
month_index(const char *s, size_t n)
{
    static const char *const names[] = {"jan", "feb", "mar", "apr",
                                        "may", "jun", "jul", "aug",
                                        "sep", "oct", "nov", "dec"};
    int i;

    if (n < 3)
        return 0;
    for (i = 0; i < 12; i++)
        if (strncasecmp(s, names[i], 3) == 0)
            return i + 1;
    return 0;
}

/* Zone names of RFC 822 §5.1 and the others feeds use. Offsets in
 * minutes east of UTC. */
static int
named_zone(const char *s, size_t n, int *offset)
{
    static const struct {
        const char *name;
        int minutes;
    } zones[] = {
        {"UT", 0},      {"UTC", 0},     {"GMT", 0},    {"Z", 0},
        {"EST", -300},  {"EDT", -240},  {"CST", -360}, {"CDT", -300},
        {"MST", -420},  {"MDT", -360},  {"PST", -480}, {"PDT", -420},
        {"AKST", -540}, {"AKDT", -480}, {"HST", -600}, {"AST", -240},
        {"ADT", -180},  {"NST", -210},  {"NDT", -150}, {"BST", 60},
        {"IST", 330},   {"CET", 60},    {"CEST", 120}, {"MET", 60},
        {"MEST", 120},  {"EET", 120},   {"EEST", 180}, {"WET", 0},
        {"WEST", 60},   {"MSK", 180},   {"MSD", 240},  {"JST", 540},
        {"KST", 540},   {"HKT", 480},   {"SGT", 480},  {"AEST", 600},
        {"AEDT", 660},  {"ACST", 570},  {"ACDT", 630}, {"AWST", 480},
        {"NZST", 720},  {"NZDT", 780},
    };
    size_t i;

    /* RFC 822's military zones had their signs the wrong way round; RFC
     * 2822 §4.3 says to take them as -0000: the time as written. */
    if (n == 1 && isalpha((unsigned char)s[0]) && s[0] != 'J' && s[0] != 'j') {
        *offset = 0;
        return 0;
    }
    for (i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
        if (strlen(zones[i].name) == n &&
            strncasecmp(s, zones[i].name, n) == 0) {
            *offset = zones[i].minutes * 60;
            return 0;
        }
    return -1;
}

/* RFC 822 §5 as RSS 2.0 uses it, and the variants feeds send: the
 * weekday optional, two-digit years (RFC 2822 §4.3: < 50 is 20xx), no
 * seconds, named or numeric zones or none (taken as UTC). */
static int64_t
parse_rfc822(const char *s)
{
    const char *w;
    int64_t y;
    int d, mon, h, min, sec = 0, offset = 0, ny;

    skip_space(&s);
    /* An optional weekday, with or without its comma. */
    if (isalpha((unsigned char)*s)) {
        while (isalpha((unsigned char)*s))
            s++;
        if (*s == ',')
            s++;
        skip_space(&s);
    }
    if ((d = digits(&s, 1, 2)) < 0)
        return FEED_TIME_NONE;
    while (*s == ' ' || *s == '-')
        s++;
    for (w = s; isalpha((unsigned char)*w);)
        w++;
    if ((mon = month_index(s, (size_t)(w - s))) == 0)
        return FEED_TIME_NONE;
    s = w;
    while (*s == ' ' || *s == '-' || *s == ',')
        s++;
    w = s;
    if ((y = digits(&s, 2, 4)) < 0)
        return FEED_TIME_NONE;
    ny = (int)(s - w);
    if (ny == 3)
        return FEED_TIME_NONE;
    if (ny == 2)
        y += y < 50 ? 2000 : 1900;
    skip_space(&s);
    if (*s == '\0')
        return make_time(y, mon, d, 0, 0, 0, 0);
    if ((h = digits(&s, 1, 2)) < 0 || *s++ != ':' ||
        (min = digits(&s, 2, 2)) < 0)
        return FEED_TIME_NONE;
    if (*s == ':') {
        s++;
        if ((sec = digits(&s, 2, 2)) < 0)
            return FEED_TIME_NONE;
    }
    if (*s == '.') /* fractions, which some generators add */
        while (isdigit((unsigned char)*++s))
            ;
    skip_space(&s);
    /* A 12-hour clock: "8:56 am". */
    if ((s[0] == 'a' || s[0] == 'A' || s[0] == 'p' || s[0] == 'P') &&
        (s[1] == 'm' || s[1] == 'M') && !isalpha((unsigned char)s[2])) {
        if (h < 1 || h > 12)
            return FEED_TIME_NONE;
        h = h % 12 + ((s[0] == 'p' || s[0] == 'P') ? 12 : 0);
        s += 2;
        skip_space(&s);
    }
    if (*s == '+' || *s == '-') {
        if (numeric_zone(&s, &offset) < 0)
            return FEED_TIME_NONE;
    } else if (isalpha((unsigned char)*s)) {
        for (w = s; isalpha((unsigned char)*w);)
            w++;
        if (named_zone(s, (size_t)(w - s), &offset) < 0)
            return FEED_TIME_NONE;
        s = w;
        /* "GMT+0200" and the like */
        if ((*s == '+' || *s == '-') && numeric_zone(&s, &offset) < 0)
            return FEED_TIME_NONE;
    }
    skip_space(&s);
    if (*s != '\0')
        return FEED_TIME_NONE;
    return make_time(y, mon, d, h, min, sec, offset);
}

int64_t
feed_date_parse(const char *s)
{
    const char *p;
    size_t i;

    if (s == NULL)
        return FEED_TIME_NONE;
    p = s;
    skip_space(&p);
    /* Four digits then '-' or end or another digit: the ISO family. */
    for (i = 0; i < 4 && isdigit((unsigned char)p[i]); i++)
        ;
    if (i == 4 &&
        (p[4] == '-' || p[4] == '\0' || isdigit((unsigned char)p[4]))) {
        char tmp[64];
        size_t n = strlen(p);

        /* Trailing white space is allowed; copy so the parser can see
         * the end. */
        while (n && isspace((unsigned char)p[n - 1]))
            n--;
        if (n >= sizeof(tmp))
            return FEED_TIME_NONE;
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        return parse_iso(tmp);
    }
    return parse_rfc822(p);
}

/* The civil date of day number z since 1970-01-01 (Hinnant's
 * civil_from_days). */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void
split_time(int64_t t, int64_t *y, int *mon, int *d, int *wday, int *h, int *min,
           int *s)
{
    int64_t days = t / 86400, rem = t % 86400;

    if (rem < 0) {
        rem += 86400;
        days--;
    }
    civil_from_days(days, y, mon, d);
    *wday = (int)((days % 7 + 11) % 7); /* 1970-01-01 was a Thursday */
    *h = (int)(rem / 3600);
    *min = (int)(rem / 60 % 60);
    *s = (int)(rem % 60);
}

/* n as width zero-padded digits at out. */
static void
put_digits(char *out, int n, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + n % 10);
        n /= 10;
    }
}

char *
feed_date_format(int64_t t, char out[FEED_DATE_LEN + 1])
{
    int64_t y;
    int mon, d, wday, h, min, s;

    /* By hand rather than snprintf: every entry written needs two. */
    split_time(t, &y, &mon, &d, &wday, &h, &min, &s);
    put_digits(out, (int)(y % 10000 + (y < 0 ? 10000 : 0)), 4);
    out[4] = '-';
    put_digits(out + 5, mon, 2);
    out[7] = '-';
    put_digits(out + 8, d, 2);
    out[10] = 'T';
    put_digits(out + 11, h, 2);
    out[13] = ':';
    put_digits(out + 14, min, 2);
    out[16] = ':';
    put_digits(out + 17, s, 2);
    out[19] = 'Z';
    out[20] = '\0';
    return out;
}

char *
feed_date_format_http(int64_t t, char out[FEED_HTTPDATE_LEN + 1])
{
    static const char days[][4] = {"Sun", "Mon", "Tue", "Wed",
                                   "Thu", "Fri", "Sat"};
    static const char months[][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int64_t y;
    int mon, d, wday, h, min, s;
    char tmp[64];

    split_time(t, &y, &mon, &d, &wday, &h, &min, &s);
    snprintf(tmp, sizeof(tmp), "%s, %02d %s %04d %02d:%02d:%02d GMT",
             days[wday], d, months[mon - 1], (int)(y % 10000), h, min, s);
    memcpy(out, tmp, FEED_HTTPDATE_LEN);
    out[FEED_HTTPDATE_LEN] = '\0';
    return out;
}

/* The value of exactly n decimal digits at s, or -1. */
static int
fixed_digits(const char *s, int n)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Whether s[0..n) is a weekday's name: short ("Sun") or long ("Sunday").
 * Case-sensitive, as HTTP's grammar is. */
static int
is_weekday(const char *s, size_t n, int long_name)
{
    static const char *const names[] = {"Sunday",    "Monday",   "Tuesday",
                                        "Wednesday", "Thursday", "Friday",
                                        "Saturday"};

    for (int i = 0; i < 7; i++) {
        size_t len = long_name ? strlen(names[i]) : 3;

        if (n == len && strncmp(s, names[i], len) == 0)
            return 1;
    }
    return 0;
}

/* The month of the three letters at s, 1 to 12, or 0: case-sensitive. */
static int
http_month(const char *s)
{
    static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

    for (int i = 0; i < 12; i++)
        if (strncmp(s, names + 3 * i, 3) == 0)
            return i + 1;
    return 0;
}

int64_t
feed_date_parse_http(const char *s)
{
    const char *comma, *t; /* t: "hh:mm:ss" */
    size_t len;
    int day, mon, year, h, min, sec;

    if (s == NULL)
        return FEED_TIME_NONE;
    comma = strchr(s, ',');
    len = strlen(s);
    if (comma == NULL) {
        /* asctime: "Sun Nov  6 08:49:37 1994" */
        if (len != 24 || !is_weekday(s, 3, 0) || s[3] != ' ' || s[7] != ' ' ||
            s[10] != ' ' || s[19] != ' ')
            return FEED_TIME_NONE;
        mon = http_month(s + 4);
        day = s[8] == ' ' ? fixed_digits(s + 9, 1) : fixed_digits(s + 8, 2);
        t = s + 11;
        year = fixed_digits(s + 20, 4);
    } else if (comma - s == 3) {
        /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
        if (len != 29 || !is_weekday(s, 3, 0) || s[4] != ' ' || s[7] != ' ' ||
            s[11] != ' ' || s[16] != ' ' || strcmp(s + 25, " GMT") != 0)
            return FEED_TIME_NONE;
        day = fixed_digits(s + 5, 2);
        mon = http_month(s + 8);
        year = fixed_digits(s + 12, 4);
        t = s + 17;
    } else {
        /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". A two-digit year is
         * taken as 1970 to 2069, a simplification of the 50-year rule. */
        const char *p = comma + 1;

        if (!is_weekday(s, (size_t)(comma - s), 1) || strlen(p) != 23 ||
            p[0] != ' ' || p[3] != '-' || p[7] != '-' || p[10] != ' ' ||
            strcmp(p + 19, " GMT") != 0)
            return FEED_TIME_NONE;
        day = fixed_digits(p + 1, 2);
        mon = http_month(p + 4);
        year = fixed_digits(p + 8, 2);
        if (year >= 0)
            year += year < 70 ? 2000 : 1900;
        t = p + 11;
    }
    h = fixed_digits(t, 2);
    min = fixed_digits(t + 3, 2);
    sec = fixed_digits(t + 6, 2);
    if (t[2] != ':' || t[5] != ':' || day < 0 || year < 0 || h < 0 || h > 23 ||
        min < 0 || sec < 0)
        return FEED_TIME_NONE;
    return make_time(year, mon, day, h, min, sec, 0);
}

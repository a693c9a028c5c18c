/* feeds/date.h - dates as feeds and HTTP write them. */
#ifndef FEEDS_DATE_H
#define FEEDS_DATE_H

#include <stdint.h>

/* A time as seconds since the epoch, UTC; FEED_TIME_NONE when unknown. */
#define FEED_TIME_NONE INT64_MIN

/* RFC 822/1123 (RSS) and RFC 3339 / W3C-DTF (Atom, dc:date) dates, in UTC.
 * FEED_TIME_NONE when s is not a date it can read: never a guess. */
int64_t feed_date_parse(const char *s);
/* "YYYY-MM-DDTHH:MM:SSZ" into out; returns out. */
#define FEED_DATE_LEN 20
char *feed_date_format(int64_t t, char out[FEED_DATE_LEN + 1]);
/* "Fri, 17 May 2024 10:00:00 GMT" (RFC 1123) into out; returns out. */
#define FEED_HTTPDATE_LEN 29
char *feed_date_format_http(int64_t t, char out[FEED_HTTPDATE_LEN + 1]);
/* An HTTP-date in any of the three forms a recipient must accept (RFC 9110
 * §5.6.7): IMF-fixdate, the obsolete RFC 850 form and asctime's, strictly
 * (If-Modified-Since, Retry-After). The weekday must be a weekday's name
 * but need not agree with the date. FEED_TIME_NONE when s is not one (or
 * is NULL). */
int64_t feed_date_parse_http(const char *s);

#endif

/*
 * ngx_http_webhook_module: signed timestamps.
 */


#include "webhook_timestamp.h"


/* 10^11 s is year 5138; 10^11 ms is 1973: a value that large is ms */
#define WEBHOOK_TS_MS_THRESHOLD     100000000000LL

#define WEBHOOK_TS_MAX_DIGITS       19
#define WEBHOOK_TS_MAX_FRACTION     18


static int webhook_parse_integer(const unsigned char *p, size_t len,
    int64_t *value);
static int webhook_all_digits(const unsigned char *p, size_t len);
static int webhook_parse_rfc3339(const unsigned char *p, size_t len,
    int64_t *sec);
static int webhook_digits(const unsigned char *p, size_t n, int *value);
static int webhook_is_leap(int year);
static int64_t webhook_days_from_civil(int year, int month, int day);


static const int  webhook_month_days[] = {
    31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
};


int
webhook_parse_timestamp(const unsigned char *p, size_t len,
    webhook_ts_format_t format, int64_t *sec)
{
    int64_t  v;

    if (len == 0) {
        return WEBHOOK_MISSING;
    }

    switch (format) {

    case WEBHOOK_TS_SECONDS:
        if (webhook_parse_integer(p, len, &v) != WEBHOOK_OK) {
            return WEBHOOK_MALFORMED;
        }

        *sec = v;
        return WEBHOOK_OK;

    case WEBHOOK_TS_MILLISECONDS:
        if (webhook_parse_integer(p, len, &v) != WEBHOOK_OK) {
            return WEBHOOK_MALFORMED;
        }

        /* v is never negative, so division truncates toward the past */
        *sec = v / 1000;
        return WEBHOOK_OK;

    case WEBHOOK_TS_RFC3339:
        return webhook_parse_rfc3339(p, len, sec);

    case WEBHOOK_TS_AUTO:
        break;

    default:
        return WEBHOOK_MALFORMED;
    }

    if (!webhook_all_digits(p, len)) {
        return webhook_parse_rfc3339(p, len, sec);
    }

    if (webhook_parse_integer(p, len, &v) != WEBHOOK_OK) {
        return WEBHOOK_MALFORMED;
    }

    *sec = (v >= WEBHOOK_TS_MS_THRESHOLD) ? v / 1000 : v;

    return WEBHOOK_OK;
}


int
webhook_check_timestamp(int64_t now, int64_t ts, int64_t tolerance)
{
    uint64_t  diff;

    /* a negative tolerance cannot come from config; treat it as off too */

    if (tolerance <= 0) {
        return WEBHOOK_TS_VALID;
    }

    /*
     * The distance is taken in uint64_t: for any two int64_t values the
     * larger minus the smaller fits there, and unsigned arithmetic cannot
     * overflow, where now - tolerance could.
     */

    if (ts < now) {
        diff = (uint64_t) now - (uint64_t) ts;
        return diff > (uint64_t) tolerance ? WEBHOOK_TS_EXPIRED
                                           : WEBHOOK_TS_VALID;
    }

    diff = (uint64_t) ts - (uint64_t) now;

    return diff > (uint64_t) tolerance ? WEBHOOK_TS_FUTURE : WEBHOOK_TS_VALID;
}


static int
webhook_parse_integer(const unsigned char *p, size_t len, int64_t *value)
{
    size_t    i;
    uint64_t  v;

    /*
     * Plain digits only: no sign, no spaces, no exponent.  19 digits fit
     * in uint64_t whatever they are, so the accumulation cannot wrap and
     * only the final INT64_MAX check is needed.
     */

    if (len == 0 || len > WEBHOOK_TS_MAX_DIGITS) {
        return WEBHOOK_MALFORMED;
    }

    v = 0;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return WEBHOOK_MALFORMED;
        }

        v = v * 10 + (uint64_t) (p[i] - '0');
    }

    if (v > (uint64_t) INT64_MAX) {
        return WEBHOOK_MALFORMED;
    }

    *value = (int64_t) v;

    return WEBHOOK_OK;
}


static int
webhook_all_digits(const unsigned char *p, size_t len)
{
    size_t  i;

    for (i = 0; i < len; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return 0;
        }
    }

    return 1;
}


static int
webhook_parse_rfc3339(const unsigned char *p, size_t len, int64_t *sec)
{
    int                   year, month, day, hour, min, s;
    int                   oh, om, sign, mdays;
    size_t                n;
    int64_t               t;
    const unsigned char  *end;

    /* "YYYY-MM-DDThh:mm:ss" and at least one more byte for the zone */

    if (len < 20) {
        return WEBHOOK_MALFORMED;
    }

    end = p + len;

    if (webhook_digits(p, 4, &year) != WEBHOOK_OK
        || p[4] != '-'
        || webhook_digits(p + 5, 2, &month) != WEBHOOK_OK
        || p[7] != '-'
        || webhook_digits(p + 8, 2, &day) != WEBHOOK_OK
        || (p[10] != 'T' && p[10] != 't' && p[10] != ' ')
        || webhook_digits(p + 11, 2, &hour) != WEBHOOK_OK
        || p[13] != ':'
        || webhook_digits(p + 14, 2, &min) != WEBHOOK_OK
        || p[16] != ':'
        || webhook_digits(p + 17, 2, &s) != WEBHOOK_OK)
    {
        return WEBHOOK_MALFORMED;
    }

    /* second 60 is a leap second: it counts as the next minute's 00 */

    if (month < 1 || month > 12 || hour > 23 || min > 59 || s > 60) {
        return WEBHOOK_MALFORMED;
    }

    mdays = webhook_month_days[month - 1];

    if (month == 2 && webhook_is_leap(year)) {
        mdays = 29;
    }

    if (day < 1 || day > mdays) {
        return WEBHOOK_MALFORMED;
    }

    p += 19;

    /* the fraction is checked for shape, then dropped: truncation */

    if (*p == '.') {
        p++;

        for (n = 0; p < end && *p >= '0' && *p <= '9'; n++) {
            p++;
        }

        if (n == 0 || n > WEBHOOK_TS_MAX_FRACTION) {
            return WEBHOOK_MALFORMED;
        }
    }

    if (p == end) {
        return WEBHOOK_MALFORMED;
    }

    oh = 0;
    om = 0;
    sign = 0;

    if (*p == 'Z' || *p == 'z') {
        p++;

    } else if (*p == '+' || *p == '-') {
        sign = (*p == '+') ? 1 : -1;
        p++;

        if (end - p != 5
            || webhook_digits(p, 2, &oh) != WEBHOOK_OK
            || p[2] != ':'
            || webhook_digits(p + 3, 2, &om) != WEBHOOK_OK
            || oh > 23 || om > 59)
        {
            return WEBHOOK_MALFORMED;
        }

        p += 5;

    } else {
        return WEBHOOK_MALFORMED;
    }

    if (p != end) {
        return WEBHOOK_MALFORMED;
    }

    /*
     * Years are four digits, so every term is far inside int64_t; a local
     * time of "+hh:mm" is that much ahead of UTC, hence the subtraction.
     */

    t = webhook_days_from_civil(year, month, day) * 86400
        + hour * 3600 + min * 60 + s;

    t -= (int64_t) sign * (oh * 3600 + om * 60);

    *sec = t;

    return WEBHOOK_OK;
}


static int
webhook_digits(const unsigned char *p, size_t n, int *value)
{
    int     v;
    size_t  i;

    v = 0;

    for (i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') {
            return WEBHOOK_MALFORMED;
        }

        v = v * 10 + (p[i] - '0');
    }

    *value = v;

    return WEBHOOK_OK;
}


static int
webhook_is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}


/*
 * Days since 1970-01-01 of a proleptic Gregorian date, without tables or
 * loops (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"): the
 * year is counted from March so that the leap day falls at its end.
 */

static int64_t
webhook_days_from_civil(int year, int month, int day)
{
    int64_t  y, era, yoe, doy, doe;

    y = (int64_t) year - (month <= 2);
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

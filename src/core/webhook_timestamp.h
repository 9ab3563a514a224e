/*
 * Signed timestamps: parsing and the tolerance check.
 */

#ifndef _WEBHOOK_TIMESTAMP_H_INCLUDED_
#define _WEBHOOK_TIMESTAMP_H_INCLUDED_


#include "webhook_core.h"


typedef enum {
    WEBHOOK_TS_AUTO = 0,        /* any of the below, detected */
    WEBHOOK_TS_SECONDS,         /* "1700000000" */
    WEBHOOK_TS_MILLISECONDS,    /* "1700000000000" */
    WEBHOOK_TS_RFC3339          /* "2023-11-14T22:13:20.123456789Z" */
} webhook_ts_format_t;


/*
 * Parse p[0..len) into unix seconds (fractions truncated toward the past).
 * Integers are plain ASCII digits only (no sign, no spaces, at most 19
 * digits).  AUTO: all digits is seconds, unless the value is >= 10^11
 * (year 5138 in seconds, 1973 in milliseconds), which is milliseconds;
 * anything else is tried as RFC 3339.
 * RFC 3339: "YYYY-MM-DD" 'T'|'t'|' ' "hh:mm:ss" ["." 1*digits]
 * ('Z'|'z'|('+'|'-') "hh:mm"), fields range-checked (month length and leap
 * years included, second 60 allowed for leap seconds).
 * Returns WEBHOOK_OK, WEBHOOK_MISSING (len 0) or WEBHOOK_MALFORMED.
 */
int webhook_parse_timestamp(const unsigned char *p, size_t len,
    webhook_ts_format_t format, int64_t *sec);

#define WEBHOOK_TS_VALID     0
#define WEBHOOK_TS_EXPIRED   1
#define WEBHOOK_TS_FUTURE    2

/*
 * Where ts stands against now with tolerance seconds either way:
 * ts < now - tolerance is EXPIRED, ts > now + tolerance is FUTURE.
 * tolerance 0 (or below) disables the check (always VALID).  No overflow
 * for any int64 inputs.
 */
int webhook_check_timestamp(int64_t now, int64_t ts, int64_t tolerance);


#endif /* _WEBHOOK_TIMESTAMP_H_INCLUDED_ */

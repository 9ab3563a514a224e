
/*
 * Members of a JSON document by path, without building the document.
 *
 * A streaming scanner: the document is fed in pieces as they come
 * (memory buffers, reads of a temp file), nothing is copied but the one
 * token asked for, nothing is allocated, and the state is this fixed-size
 * structure.  It validates the grammar of everything it passes over
 * (RFC 8259: structure, numbers, literals, string escapes, control
 * bytes, UTF-8) and reports WEBHOOK_JSON_ERROR at the first byte that is
 * not JSON; it stops as soon as the handler says it has what it wants,
 * so the rest of the document is never read.
 *
 * Paths are dotted member names: "id", "event-data.id".  A segment also
 * indexes an array when it is all digits ("entry.0.id"), and "*" matches
 * every member of an object and every item of an array (the handler is
 * called once per match, in document order).  Keys are compared after
 * their escapes are decoded, as a JSON library would.
 *
 * The handler gets the raw token of a matched string (with its quotes
 * and escapes, for a JSON library to decode) or number; objects, arrays
 * and literals are reported as WEBHOOK_JSON_OTHER without a token.
 * Duplicate members are all reported, in document order: a caller that
 * stops at the first one makes the first one win.
 */

#ifndef _WEBHOOK_JSON_H_INCLUDED_
#define _WEBHOOK_JSON_H_INCLUDED_


#include "webhook_core.h"


#define WEBHOOK_JSON_MAX_PATHS     16
#define WEBHOOK_JSON_MAX_SEGMENTS  16
#define WEBHOOK_JSON_MAX_DEPTH     64   /* deeper documents are refused */
#define WEBHOOK_JSON_KEY_MAX       64   /* a longer key matches no path */
#define WEBHOOK_JSON_TOKEN_MAX     1024 /* a longer matched string or number
                                           is reported WEBHOOK_JSON_LONG */

/* what webhook_json_feed() and webhook_json_end() return */
#define WEBHOOK_JSON_DONE           0   /* stopped by the handler, or the
                                           document is complete */
#define WEBHOOK_JSON_AGAIN          1   /* feed more */
#define WEBHOOK_JSON_ERROR         -1   /* not JSON (or too deep) */


typedef enum {
    WEBHOOK_JSON_STRING = 1,            /* token: "..." as sent */
    WEBHOOK_JSON_NUMBER,                /* token: the number as sent */
    WEBHOOK_JSON_OTHER,                 /* object, array, true/false/null */
    WEBHOOK_JSON_LONG                   /* a string or number longer than
                                           WEBHOOK_JSON_TOKEN_MAX */
} webhook_json_type_e;


/*
 * Called for each member at one of the paths (path: its index in the
 * array given to webhook_json_init()).  Returns 0 to go on, 1 to stop
 * scanning: webhook_json_feed() then returns WEBHOOK_JSON_DONE.
 */
typedef int (*webhook_json_handler_pt)(void *data, size_t path,
    webhook_json_type_e type, const unsigned char *token, size_t len);


typedef struct {
    const char                *name;
    size_t                     len;
    uint32_t                   index;       /* as an array index */
    unsigned                   is_index:1;
    unsigned                   star:1;
} webhook_json_segment_t;


typedef struct {
    uint32_t                   live;        /* paths this container is on */
    uint32_t                   index;       /* the next item of an array */
    unsigned char              array;
} webhook_json_level_t;


typedef struct {
    webhook_json_handler_pt    handler;
    void                      *data;

    size_t                     npaths;
    unsigned char              nsegs[WEBHOOK_JSON_MAX_PATHS];
    webhook_json_segment_t     segs[WEBHOOK_JSON_MAX_PATHS]
                                   [WEBHOOK_JSON_MAX_SEGMENTS];

    webhook_json_level_t       stack[WEBHOOK_JSON_MAX_DEPTH];
    unsigned                   depth;

    int                        state;
    int                        sub;         /* number, literal, escape */
    int                        role;        /* of the current string */
    uint32_t                   leaf;        /* the next value is wanted */
    uint32_t                   deeper;      /* the next value's paths */
    uint32_t                   unit;        /* \uXXXX being read */
    uint32_t                   high;        /* a high surrogate in a key */
    unsigned                   utf8_need;
    unsigned char              utf8_lo;
    unsigned char              utf8_hi;
    const char                *literal;
    int                        result;      /* once done or failed */
    unsigned                   key_bad:1;
    unsigned                   token_long:1;

    size_t                     key_len;
    unsigned char              key[WEBHOOK_JSON_KEY_MAX];

    size_t                     token_len;
    unsigned char              token[WEBHOOK_JSON_TOKEN_MAX];
} webhook_json_t;


/*
 * Set up a scan for npaths paths (at most WEBHOOK_JSON_MAX_PATHS; each
 * NUL-terminated, no empty segment, at most WEBHOOK_JSON_MAX_SEGMENTS
 * segments).  The paths must outlive the scan.  WEBHOOK_OK, or
 * WEBHOOK_MALFORMED for a path it cannot take.
 */
int webhook_json_init(webhook_json_t *js, const char *const *paths,
    size_t npaths, webhook_json_handler_pt handler, void *data);

/* The next len bytes of the document. */
int webhook_json_feed(webhook_json_t *js, const unsigned char *p,
    size_t len);

/* The document ended: WEBHOOK_JSON_DONE if it was whole (or stopped). */
int webhook_json_end(webhook_json_t *js);

/*
 * The value of a token the scanner reported, when it needs no decoding:
 * a string without escapes (its bytes were checked as the scanner read
 * them), or an integer of at most 18 digits (as its decimal text, "-0"
 * as "0").  WEBHOOK_OK with *value pointing into token (or to a
 * constant); WEBHOOK_MISSING for a number that is not an integer;
 * WEBHOOK_MALFORMED when a JSON library has to decode it (escapes, or
 * an integer that may not fit 64 bits).
 */
int webhook_json_simple_value(webhook_json_type_e type,
    const unsigned char *token, size_t len, webhook_str_t *value);


#endif /* _WEBHOOK_JSON_H_INCLUDED_ */

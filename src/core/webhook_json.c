
/*
 * Members of a JSON document by path, without building the document: a
 * byte-at-a-time state machine, fed in pieces, with one fast loop for the
 * bulk of most bodies (plain string bytes, 16 at a time with SSE2).
 */

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "webhook_json.h"


enum {
    S_VALUE = 0,        /* a value */
    S_ARRAY_FIRST,      /* after '[': a value or ']' */
    S_OBJECT_FIRST,     /* after '{': a key or '}' */
    S_KEY,              /* after ',' in an object: a key */
    S_COLON,
    S_AFTER,            /* after a member: ',' or the closer */
    S_END,              /* after the document: whitespace only */
    S_STRING,
    S_ESCAPE,           /* after '\' */
    S_HEX,              /* in \uXXXX, sub digits read */
    S_UTF8,             /* in a multi-byte character */
    S_NUMBER,
    S_LITERAL           /* true, false, null */
};

/* what the current string is */
enum {
    R_SKIP = 0,         /* a value nobody asked for */
    R_CAPTURE,          /* a value at a path: its token is kept */
    R_KEY,              /* a key that may match: decoded */
    R_KEY_SKIP          /* a key in an object no path goes through */
};

/* where a number is */
enum {
    N_MINUS = 0,        /* after '-' */
    N_ZERO,             /* a leading 0 */
    N_INT,
    N_DOT,
    N_FRAC,
    N_EXP,              /* after 'e' */
    N_EXP_SIGN,
    N_EXP_DIGITS
};


static int webhook_json_value(webhook_json_t *js, unsigned char c);
static int webhook_json_string_end(webhook_json_t *js);
static int webhook_json_report(webhook_json_t *js, webhook_json_type_e type,
    const unsigned char *token, size_t len);
static void webhook_json_array_member(webhook_json_t *js);
static void webhook_json_object_member(webhook_json_t *js);
static void webhook_json_key_unit(webhook_json_t *js, uint32_t u);
static void webhook_json_key_bytes(webhook_json_t *js, const unsigned char *p,
    size_t n);
static void webhook_json_token(webhook_json_t *js, const unsigned char *p,
    size_t n);
static const unsigned char *webhook_json_plain(const unsigned char *p,
    const unsigned char *end);


#define webhook_json_space(c)                                                 \
    ((c) == ' ' || (c) == '\n' || (c) == '\r' || (c) == '\t')

#define webhook_json_digit(c)  ((c) >= '0' && (c) <= '9')

#define webhook_json_fail(js)                                                 \
    ((js)->result = WEBHOOK_JSON_ERROR)


int
webhook_json_init(webhook_json_t *js, const char *const *paths,
    size_t npaths, webhook_json_handler_pt handler, void *data)
{
    size_t                   i, n, len, k;
    const char              *p, *dot;
    webhook_json_segment_t  *seg;

    if (npaths > WEBHOOK_JSON_MAX_PATHS) {
        return WEBHOOK_MALFORMED;
    }

    for (i = 0; i < npaths; i++) {
        p = paths[i];
        n = 0;

        if (p == NULL || *p == '\0') {
            return WEBHOOK_MALFORMED;
        }

        for ( ;; ) {
            dot = strchr(p, '.');
            len = dot ? (size_t) (dot - p) : strlen(p);

            if (len == 0 || n == WEBHOOK_JSON_MAX_SEGMENTS) {
                return WEBHOOK_MALFORMED;
            }

            seg = &js->segs[i][n++];
            seg->name = p;
            seg->len = len;
            seg->star = (len == 1 && p[0] == '*');
            seg->is_index = (len <= 9);
            seg->index = 0;

            for (k = 0; k < len; k++) {
                if (!webhook_json_digit(p[k])) {
                    seg->is_index = 0;
                    break;
                }

                seg->index = seg->index * 10 + (uint32_t) (p[k] - '0');
            }

            if (dot == NULL) {
                break;
            }

            p = dot + 1;
        }

        js->nsegs[i] = (unsigned char) n;
    }

    js->handler = handler;
    js->data = data;
    js->npaths = npaths;
    js->depth = 0;
    js->state = S_VALUE;
    js->sub = 0;
    js->role = R_SKIP;
    js->leaf = 0;
    js->deeper = npaths ? (uint32_t) ((1ULL << npaths) - 1) : 0;
    js->unit = 0;
    js->high = 0;
    js->utf8_need = 0;
    js->literal = NULL;
    js->result = WEBHOOK_JSON_AGAIN;
    js->key_bad = 0;
    js->token_long = 0;
    js->key_len = 0;
    js->token_len = 0;

    return WEBHOOK_OK;
}


int
webhook_json_feed(webhook_json_t *js, const unsigned char *p, size_t len)
{
    int                    state;
    unsigned char          c;
    const unsigned char   *end, *q;
    webhook_json_level_t  *top;

    if (js->result != WEBHOOK_JSON_AGAIN) {
        return js->result;
    }

    /* the state lives in a register here, and in js between pieces */

    state = js->state;
    end = p + len;

    while (p < end) {

        switch (state) {

        case S_STRING:
            q = webhook_json_plain(p, end);

            if (q != p) {
                if (js->role == R_CAPTURE) {
                    webhook_json_token(js, p, q - p);

                } else if (js->role == R_KEY) {
                    webhook_json_key_bytes(js, p, q - p);
                }

                p = q;

                if (p == end) {
                    break;
                }
            }

            c = *p++;

            if (c == '"') {

                /* the strings nobody asked for, inline: most of them */

                if (js->role == R_SKIP) {
                    state = js->depth ? S_AFTER : S_END;
                    break;
                }

                if (js->role == R_KEY_SKIP) {
                    js->leaf = 0;
                    js->deeper = 0;
                    state = S_COLON;
                    break;
                }

                if (webhook_json_string_end(js)) {
                    goto done;
                }

                state = js->state;
                break;
            }

            if (c == '\\') {
                if (js->role == R_CAPTURE) {
                    webhook_json_token(js, p - 1, 1);
                }

                state = S_ESCAPE;
                break;
            }

            if (c < 0x20) {
                goto failed;
            }

            /* UTF-8 (RFC 3629): the lead byte says what may follow */

            if (c >= 0xc2 && c <= 0xdf) {
                js->utf8_need = 1;
                js->utf8_lo = 0x80;
                js->utf8_hi = 0xbf;

            } else if (c >= 0xe0 && c <= 0xef) {
                js->utf8_need = 2;
                js->utf8_lo = (c == 0xe0) ? 0xa0 : 0x80;
                js->utf8_hi = (c == 0xed) ? 0x9f : 0xbf;

            } else if (c >= 0xf0 && c <= 0xf4) {
                js->utf8_need = 3;
                js->utf8_lo = (c == 0xf0) ? 0x90 : 0x80;
                js->utf8_hi = (c == 0xf4) ? 0x8f : 0xbf;

            } else {
                goto failed;
            }

            if (js->role == R_CAPTURE) {
                webhook_json_token(js, p - 1, 1);

            } else if (js->role == R_KEY) {
                webhook_json_key_bytes(js, p - 1, 1);
            }

            state = S_UTF8;
            break;

        case S_UTF8:
            c = *p++;

            if (c < js->utf8_lo || c > js->utf8_hi) {
                goto failed;
            }

            if (js->role == R_CAPTURE) {
                webhook_json_token(js, p - 1, 1);

            } else if (js->role == R_KEY) {
                webhook_json_key_bytes(js, p - 1, 1);
            }

            js->utf8_lo = 0x80;
            js->utf8_hi = 0xbf;

            if (--js->utf8_need == 0) {
                state = S_STRING;
            }

            break;

        case S_ESCAPE:
            c = *p++;

            if (js->role == R_CAPTURE) {
                webhook_json_token(js, p - 1, 1);
            }

            state = S_STRING;

            switch (c) {
            case '"': case '\\': case '/':
                break;
            case 'b': c = '\b'; break;
            case 'f': c = '\f'; break;
            case 'n': c = '\n'; break;
            case 'r': c = '\r'; break;
            case 't': c = '\t'; break;
            case 'u':
                state = S_HEX;
                js->sub = 0;
                js->unit = 0;
                continue;
            default:
                goto failed;
            }

            if (js->role == R_KEY) {
                webhook_json_key_unit(js, c);
            }

            break;

        case S_HEX:
            c = *p++;

            if (webhook_json_digit(c)) {
                js->unit = js->unit * 16 + (c - '0');

            } else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
                js->unit = js->unit * 16 + ((c | 0x20) - 'a' + 10);

            } else {
                goto failed;
            }

            if (js->role == R_CAPTURE) {
                webhook_json_token(js, p - 1, 1);
            }

            if (++js->sub == 4) {
                if (js->role == R_KEY) {
                    webhook_json_key_unit(js, js->unit);
                }

                state = S_STRING;
            }

            break;

        case S_NUMBER:

            /* the digits of a part in one go */

            q = p;

            if (js->sub == N_INT || js->sub == N_FRAC
                || js->sub == N_EXP_DIGITS)
            {
                while (q < end && webhook_json_digit(*q)) {
                    q++;
                }

                if (q != p) {
                    if (js->role == R_CAPTURE) {
                        webhook_json_token(js, p, q - p);
                    }

                    p = q;

                    if (p == end) {
                        break;
                    }
                }
            }

            c = *p;

            switch (js->sub) {

            case N_MINUS:
                if (!webhook_json_digit(c)) {
                    goto failed;
                }

                js->sub = (c == '0') ? N_ZERO : N_INT;
                break;

            case N_INT:
            case N_ZERO:
                if (c == '.') {
                    js->sub = N_DOT;

                } else if (c == 'e' || c == 'E') {
                    js->sub = N_EXP;

                } else {
                    goto number_end;
                }

                break;

            case N_DOT:
                if (!webhook_json_digit(c)) {
                    goto failed;
                }

                js->sub = N_FRAC;
                break;

            case N_FRAC:
                if (c == 'e' || c == 'E') {
                    js->sub = N_EXP;
                    break;
                }

                goto number_end;

            case N_EXP:
                if (c == '+' || c == '-') {
                    js->sub = N_EXP_SIGN;
                    break;
                }

                /* fall through */

            case N_EXP_SIGN:
                if (!webhook_json_digit(c)) {
                    goto failed;
                }

                js->sub = N_EXP_DIGITS;
                break;

            default: /* N_EXP_DIGITS */
                goto number_end;
            }

            if (js->role == R_CAPTURE) {
                webhook_json_token(js, p, 1);
            }

            p++;
            break;

        number_end:

            /* c is not consumed: it is what follows the number */

            if (js->role == R_CAPTURE
                && webhook_json_report(js, WEBHOOK_JSON_NUMBER, js->token,
                                       js->token_len))
            {
                goto done;
            }

            state = js->depth ? S_AFTER : S_END;
            break;

        case S_LITERAL:
            c = *p++;

            if (c != (unsigned char) js->literal[js->sub]) {
                goto failed;
            }

            if (js->literal[++js->sub] == '\0') {
                state = js->depth ? S_AFTER : S_END;
            }

            break;

        default:

            /* between tokens */

            c = *p++;

            if (c <= ' ' && webhook_json_space(c)) {
                break;
            }

            switch (state) {

            case S_ARRAY_FIRST:
                if (c == ']') {
                    goto close;
                }

                webhook_json_array_member(js);

                /* fall through */

            case S_VALUE:
                if (webhook_json_value(js, c)) {
                    goto done;
                }

                state = js->state;
                break;

            case S_OBJECT_FIRST:
                if (c == '}') {
                    goto close;
                }

                /* fall through */

            case S_KEY:
                if (c != '"') {
                    goto failed;
                }

                top = &js->stack[js->depth - 1];

                state = S_STRING;
                js->role = top->live ? R_KEY : R_KEY_SKIP;

                if (js->role == R_KEY) {
                    js->key_len = 0;
                    js->key_bad = 0;
                    js->high = 0;
                }

                break;

            case S_COLON:
                if (c != ':') {
                    goto failed;
                }

                state = S_VALUE;
                break;

            case S_AFTER:
                if (c == ',') {
                    top = &js->stack[js->depth - 1];

                    if (top->array) {
                        webhook_json_array_member(js);
                        state = S_VALUE;

                    } else {
                        state = S_KEY;
                    }

                    break;
                }

                if (c == '}' || c == ']') {
                    goto close;
                }

                goto failed;

            default: /* S_END */
                goto failed;
            }

            break;

        close:

            top = &js->stack[js->depth - 1];

            if ((c == ']') != (top->array != 0)) {
                goto failed;
            }

            js->depth--;
            state = js->depth ? S_AFTER : S_END;
            break;
        }
    }

    js->state = state;

    return WEBHOOK_JSON_AGAIN;

failed:

    js->result = WEBHOOK_JSON_ERROR;

done:

    return js->result;
}


int
webhook_json_end(webhook_json_t *js)
{
    if (js->result != WEBHOOK_JSON_AGAIN) {
        return js->result;
    }

    if (js->state == S_END
        || (js->state == S_NUMBER && js->depth == 0
            && (js->sub == N_ZERO || js->sub == N_INT || js->sub == N_FRAC
                || js->sub == N_EXP_DIGITS)))
    {
        js->result = WEBHOOK_JSON_DONE;

    } else {
        js->result = WEBHOOK_JSON_ERROR;
    }

    return js->result;
}


int
webhook_json_simple_value(webhook_json_type_e type,
    const unsigned char *token, size_t len, webhook_str_t *value)
{
    size_t  i, digits;

    if (type == WEBHOOK_JSON_STRING) {
        if (len < 2 || memchr(token, '\\', len) != NULL) {
            return WEBHOOK_MALFORMED;
        }

        value->data = token + 1;
        value->len = len - 2;
        return WEBHOOK_OK;
    }

    if (type != WEBHOOK_JSON_NUMBER || len == 0) {
        return WEBHOOK_MALFORMED;
    }

    digits = 0;

    for (i = (token[0] == '-'); i < len; i++) {
        if (!webhook_json_digit(token[i])) {
            return WEBHOOK_MISSING;     /* a fraction or an exponent */
        }

        digits++;
    }

    if (digits == 0 || digits > 18) {
        return WEBHOOK_MALFORMED;
    }

    if (len == 2 && token[0] == '-' && token[1] == '0') {
        value->data = (const unsigned char *) "0";
        value->len = 1;
        return WEBHOOK_OK;
    }

    value->data = token;
    value->len = len;
    return WEBHOOK_OK;
}


/* The first byte of a value; js->leaf and js->deeper say who wants it. */

static int
webhook_json_value(webhook_json_t *js, unsigned char c)
{
    webhook_json_level_t  *level;

    switch (c) {

    case '"':
        js->state = S_STRING;
        js->role = js->leaf ? R_CAPTURE : R_SKIP;
        js->token_len = 0;
        js->token_long = 0;

        if (js->role == R_CAPTURE) {
            webhook_json_token(js, (const unsigned char *) "\"", 1);
        }

        return 0;

    case '{':
    case '[':
        if (js->leaf
            && webhook_json_report(js, WEBHOOK_JSON_OTHER, NULL, 0))
        {
            return 1;
        }

        if (js->depth == WEBHOOK_JSON_MAX_DEPTH) {
            webhook_json_fail(js);
            return 1;
        }

        level = &js->stack[js->depth++];
        level->live = js->deeper;
        level->index = 0;
        level->array = (c == '[');

        js->state = (c == '[') ? S_ARRAY_FIRST : S_OBJECT_FIRST;
        return 0;

    case 't':
    case 'f':
    case 'n':
        if (js->leaf
            && webhook_json_report(js, WEBHOOK_JSON_OTHER, NULL, 0))
        {
            return 1;
        }

        js->literal = (c == 't') ? "true" : (c == 'f') ? "false" : "null";
        js->sub = 1;
        js->state = S_LITERAL;
        return 0;

    default:
        if (c != '-' && !webhook_json_digit(c)) {
            webhook_json_fail(js);
            return 1;
        }

        js->state = S_NUMBER;
        js->sub = (c == '-') ? N_MINUS : (c == '0') ? N_ZERO : N_INT;
        js->role = js->leaf ? R_CAPTURE : R_SKIP;
        js->token_len = 0;
        js->token_long = 0;

        if (js->role == R_CAPTURE) {
            webhook_json_token(js, &c, 1);
        }

        return 0;
    }
}


/* The closing quote: of a value (reported if wanted), or of a key. */

static int
webhook_json_string_end(webhook_json_t *js)
{
    switch (js->role) {

    case R_CAPTURE:
        webhook_json_token(js, (const unsigned char *) "\"", 1);

        if (webhook_json_report(js, WEBHOOK_JSON_STRING, js->token,
                                js->token_len))
        {
            return 1;
        }

        /* fall through */

    case R_SKIP:
        js->state = js->depth ? S_AFTER : S_END;
        return 0;

    case R_KEY:
        if (js->high) {
            js->key_bad = 1;
        }

        webhook_json_object_member(js);
        js->state = S_COLON;
        return 0;

    default: /* R_KEY_SKIP */
        js->leaf = 0;
        js->deeper = 0;
        js->state = S_COLON;
        return 0;
    }
}


static int
webhook_json_report(webhook_json_t *js, webhook_json_type_e type,
    const unsigned char *token, size_t len)
{
    size_t    i;
    uint32_t  leaf;

    if (js->token_long && type != WEBHOOK_JSON_OTHER) {
        type = WEBHOOK_JSON_LONG;
        token = NULL;
        len = 0;
    }

    leaf = js->leaf;

    for (i = 0; leaf; i++, leaf >>= 1) {
        if ((leaf & 1) && js->handler(js->data, i, type, token, len)) {
            js->result = WEBHOOK_JSON_DONE;
            return 1;
        }
    }

    return 0;
}


/* The paths an item of the innermost array is on, and which end there. */

static void
webhook_json_array_member(webhook_json_t *js)
{
    size_t                   i;
    uint32_t                 live, bit, index;
    webhook_json_level_t    *top;
    webhook_json_segment_t  *seg;

    top = &js->stack[js->depth - 1];
    index = top->index;

    if (top->index != UINT32_MAX) {
        top->index++;
    }

    js->leaf = 0;
    js->deeper = 0;

    for (live = top->live, i = 0; live; i++, live >>= 1) {

        if (!(live & 1)) {
            continue;
        }

        seg = &js->segs[i][js->depth - 1];

        if (seg->star || (seg->is_index && seg->index == index)) {
            bit = (uint32_t) 1 << i;

            if (js->nsegs[i] == js->depth) {
                js->leaf |= bit;

            } else {
                js->deeper |= bit;
            }
        }
    }
}


/* The same for a member of the innermost object, by its decoded key. */

static void
webhook_json_object_member(webhook_json_t *js)
{
    size_t                   i;
    uint32_t                 live, bit;
    webhook_json_level_t    *top;
    webhook_json_segment_t  *seg;

    top = &js->stack[js->depth - 1];

    js->leaf = 0;
    js->deeper = 0;

    for (live = top->live, i = 0; live; i++, live >>= 1) {

        if (!(live & 1)) {
            continue;
        }

        seg = &js->segs[i][js->depth - 1];

        if (seg->star
            || (!js->key_bad && seg->len == js->key_len
                && memcmp(seg->name, js->key, js->key_len) == 0))
        {
            bit = (uint32_t) 1 << i;

            if (js->nsegs[i] == js->depth) {
                js->leaf |= bit;

            } else {
                js->deeper |= bit;
            }
        }
    }
}


/*
 * One decoded escape of a key, UTF-8 encoded into js->key.  A surrogate
 * that is not half of a pair, or U+0000, makes a key no path can name.
 */

static void
webhook_json_key_unit(webhook_json_t *js, uint32_t u)
{
    unsigned char  utf8[4];
    size_t         n;

    if (js->high) {
        if (u < 0xdc00 || u > 0xdfff) {
            js->key_bad = 1;
            js->high = 0;
            return;
        }

        u = 0x10000 + ((js->high - 0xd800) << 10) + (u - 0xdc00);
        js->high = 0;

    } else if (u >= 0xd800 && u <= 0xdbff) {
        js->high = u;
        return;

    } else if ((u >= 0xdc00 && u <= 0xdfff) || u == 0) {
        js->key_bad = 1;
        return;
    }

    if (u < 0x80) {
        utf8[0] = (unsigned char) u;
        n = 1;

    } else if (u < 0x800) {
        utf8[0] = (unsigned char) (0xc0 | (u >> 6));
        utf8[1] = (unsigned char) (0x80 | (u & 0x3f));
        n = 2;

    } else if (u < 0x10000) {
        utf8[0] = (unsigned char) (0xe0 | (u >> 12));
        utf8[1] = (unsigned char) (0x80 | ((u >> 6) & 0x3f));
        utf8[2] = (unsigned char) (0x80 | (u & 0x3f));
        n = 3;

    } else {
        utf8[0] = (unsigned char) (0xf0 | (u >> 18));
        utf8[1] = (unsigned char) (0x80 | ((u >> 12) & 0x3f));
        utf8[2] = (unsigned char) (0x80 | ((u >> 6) & 0x3f));
        utf8[3] = (unsigned char) (0x80 | (u & 0x3f));
        n = 4;
    }

    webhook_json_key_bytes(js, utf8, n);
    js->high = 0;
}


static void
webhook_json_key_bytes(webhook_json_t *js, const unsigned char *p, size_t n)
{
    if (js->high) {
        /* a high surrogate followed by anything but its low half */
        js->key_bad = 1;
        js->high = 0;
    }

    if (js->key_bad) {
        return;
    }

    if (n > WEBHOOK_JSON_KEY_MAX - js->key_len) {
        js->key_bad = 1;
        return;
    }

    memcpy(js->key + js->key_len, p, n);
    js->key_len += n;
}


static void
webhook_json_token(webhook_json_t *js, const unsigned char *p, size_t n)
{
    if (js->token_long) {
        return;
    }

    if (n > WEBHOOK_JSON_TOKEN_MAX - js->token_len) {
        js->token_long = 1;
        return;
    }

    memcpy(js->token + js->token_len, p, n);
    js->token_len += n;
}


/*
 * The first byte at or after p that ends a run of plain string bytes:
 * '"', '\', a control byte, or a byte >= 0x80 (UTF-8 is checked byte by
 * byte).  end if there is none.
 */

static const unsigned char *
webhook_json_plain(const unsigned char *p, const unsigned char *end)
{
#if defined(__SSE2__)
    int      bits;
    __m128i  v, m, quote, backslash, control;

    quote = _mm_set1_epi8('"');
    backslash = _mm_set1_epi8('\\');
    control = _mm_set1_epi8(0x1f);

    while (end - p >= 16) {
        v = _mm_loadu_si128((const __m128i *) p);

        m = _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                         _mm_cmpeq_epi8(v, backslash));
        m = _mm_or_si128(m, _mm_cmpeq_epi8(_mm_max_epu8(v, control),
                                           control));

        /* the high bit of v itself marks the bytes >= 0x80 */
        bits = _mm_movemask_epi8(_mm_or_si128(m, v));

        if (bits) {
            return p + __builtin_ctz((unsigned) bits);
        }

        p += 16;
    }
#endif

    while (p < end && *p != '"' && *p != '\\' && *p >= 0x20 && *p < 0x80) {
        p++;
    }

    return p;
}

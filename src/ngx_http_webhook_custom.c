
/*
 * ngx_http_webhook_module: "webhook_verify custom", a scheme described
 * in the configuration.
 *
 *   webhook_signature_header   where the signature is;
 *   webhook_signature_pattern  a regex; every match's first capture is a
 *                              candidate (default: the whole value);
 *   webhook_signature_encoding, webhook_digest;
 *   webhook_signed_payload     variables and one "{body}";
 *   webhook_timestamp          the signed timestamp, for the tolerance.
 *
 * Everything is compiled at configuration time: the regex once, through
 * nginx's regex API (PCRE2 on Debian 12), the template into complex
 * values around the body, which is then hashed where it lies, never
 * copied.  Each location gets its own copy of the "custom" preset,
 * filled from these directives, and the generic steps of
 * ngx_http_webhook_verify.c run it like any other preset.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "webhook_custom.h"


/*
 * A pattern runs against a client's header: bound the backtracking
 * (PCRE2's default is ten million steps) so that a pathological pattern
 * meets a hostile header in milliseconds, not seconds.
 */
#define NGX_HTTP_WEBHOOK_MATCH_LIMIT  100000
#define NGX_HTTP_WEBHOOK_DEPTH_LIMIT  10000


/* a group that took no part in the match */
#if (NGX_PCRE2)
#define NGX_HTTP_WEBHOOK_UNSET        PCRE2_UNSET
#else
#define NGX_HTTP_WEBHOOK_UNSET        -1
#endif


struct ngx_http_webhook_pattern_s {
#if (NGX_PCRE)
    ngx_regex_t                *regex;
#if (NGX_PCRE2)
    pcre2_match_data           *match_data;
#else
    int                        *ovector;
    int                         ovector_size;
#endif
#endif
    ngx_str_t                   source;
};


#if (NGX_PCRE)
static void ngx_http_webhook_pattern_cleanup(void *data);
#endif
static ngx_int_t ngx_http_webhook_payload_value(ngx_conf_t *cf,
    ngx_array_t *parts, u_char *data, size_t len);
static ngx_uint_t ngx_http_webhook_timestamp_signed(
    ngx_http_webhook_loc_conf_t *conf);


#if (NGX_PCRE2)
/* one per process: it only holds the limits */
static pcre2_match_context  *ngx_http_webhook_match_context;
#endif


char *
ngx_http_webhook_signature_pattern(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

#if (NGX_PCRE)
    ngx_str_t                   *value;
    ngx_regex_compile_t          rc;
    ngx_pool_cleanup_t          *cln;
    ngx_http_webhook_pattern_t  *pattern;
    u_char                       errstr[NGX_MAX_CONF_ERRSTR];

    if (wlcf->sig_pattern != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    ngx_memzero(&rc, sizeof(ngx_regex_compile_t));

    rc.pattern = value[1];
    rc.pool = cf->pool;
    rc.err.len = NGX_MAX_CONF_ERRSTR;
    rc.err.data = errstr;

    if (ngx_regex_compile(&rc) != NGX_OK) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "webhook_signature_pattern \"%V\" is not a valid "
                           "regular expression: %V", &value[1], &rc.err);
        return NGX_CONF_ERROR;
    }

    if (rc.captures < 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "webhook_signature_pattern \"%V\" has no capture "
                           "group: its first capture, e.g. "
                           "\"v1=([0-9a-f]+)\", is the signature", &value[1]);
        return NGX_CONF_ERROR;
    }

    pattern = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_pattern_t));
    if (pattern == NULL) {
        return NGX_CONF_ERROR;
    }

    pattern->regex = rc.regex;
    pattern->source = value[1];

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_CONF_ERROR;
    }

#if (NGX_PCRE2)

    if (ngx_http_webhook_match_context == NULL) {
        ngx_http_webhook_match_context = pcre2_match_context_create(NULL);

        if (ngx_http_webhook_match_context == NULL) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "webhook_signature_pattern: "
                               "pcre2_match_context_create() failed");
            return NGX_CONF_ERROR;
        }

        pcre2_set_match_limit(ngx_http_webhook_match_context,
                              NGX_HTTP_WEBHOOK_MATCH_LIMIT);
        pcre2_set_depth_limit(ngx_http_webhook_match_context,
                              NGX_HTTP_WEBHOOK_DEPTH_LIMIT);
    }

    /*
     * Sized for the pattern's groups, malloc()ed, freed with the
     * configuration.  Not ..._create_from_pattern(): that would allocate
     * with the pattern's allocator, nginx's, which only works while
     * nginx compiles.
     */

    pattern->match_data = pcre2_match_data_create(rc.captures + 1, NULL);
    if (pattern->match_data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "webhook_signature_pattern: "
                           "pcre2_match_data_create() failed");
        return NGX_CONF_ERROR;
    }

#else

    pattern->ovector_size = (rc.captures + 1) * 3;
    pattern->ovector = ngx_palloc(cf->pool,
                                  pattern->ovector_size * sizeof(int));
    if (pattern->ovector == NULL) {
        return NGX_CONF_ERROR;
    }

#endif

    cln->handler = ngx_http_webhook_pattern_cleanup;
    cln->data = pattern;

    wlcf->sig_pattern = pattern;

    return NGX_CONF_OK;

#else

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "webhook_signature_pattern needs nginx built with "
                       "PCRE");
    return NGX_CONF_ERROR;

#endif
}


#if (NGX_PCRE)

static void
ngx_http_webhook_pattern_cleanup(void *data)
{
#if (NGX_PCRE2)
    ngx_http_webhook_pattern_t  *pattern = data;

    if (pattern->match_data) {
        pcre2_match_data_free(pattern->match_data);
        pattern->match_data = NULL;
    }
#endif
}

#endif


#if (NGX_PCRE)

typedef struct {
    ngx_http_request_t          *request;
    ngx_http_webhook_pattern_t  *pattern;
} ngx_http_webhook_match_t;


/* one match from offset, for the walk of webhook_pattern_candidates() */

static int
ngx_http_webhook_pattern_exec(void *data, const unsigned char *value,
    size_t len, size_t offset, size_t ov[4])
{
    ngx_http_webhook_match_t  *m = data;

    int                          rc, i;
    ngx_http_webhook_pattern_t  *pattern;
#if (NGX_PCRE2)
    PCRE2_SIZE                  *v;
#else
    int                         *v;
#endif

    pattern = m->pattern;

#if (NGX_PCRE2)
    rc = pcre2_match(pattern->regex, value, len, offset, 0,
                     pattern->match_data, ngx_http_webhook_match_context);

    if (rc == PCRE2_ERROR_NOMATCH) {
        return 0;
    }

    v = pcre2_get_ovector_pointer(pattern->match_data);
#else
    rc = pcre_exec(pattern->regex->code, pattern->regex->extra,
                   (const char *) value, (int) len, (int) offset, 0,
                   pattern->ovector, pattern->ovector_size);

    if (rc == PCRE_ERROR_NOMATCH) {
        return 0;
    }

    v = pattern->ovector;
#endif

    if (rc < 0) {
        ngx_log_error(NGX_LOG_INFO, m->request->connection->log, 0,
                      "webhook: webhook_signature_pattern \"%V\" failed "
                      "on the header (%d), e.g. its match limit",
                      &pattern->source, rc);
        return -1;
    }

    for (i = 0; i < 4; i++) {
        ov[i] = (i < 2 || rc >= 2) && v[i] != NGX_HTTP_WEBHOOK_UNSET
                ? (size_t) v[i] : WEBHOOK_UNSET;
    }

    return 1;
}

#endif


/*
 * Every match's first capture, left to right, into list.  WEBHOOK_OK,
 * WEBHOOK_MISSING (no match), WEBHOOK_MALFORMED (an empty capture, more
 * than WEBHOOK_MAX_CANDIDATES, or the match limit hit).
 */

int
ngx_http_webhook_pattern_match(ngx_http_request_t *r,
    ngx_http_webhook_pattern_t *pattern, ngx_str_t *value,
    webhook_sig_list_t *list)
{
#if (NGX_PCRE)
    ngx_http_webhook_match_t  m;

    m.request = r;
    m.pattern = pattern;

    return webhook_pattern_candidates(value->data, value->len,
                                      ngx_http_webhook_pattern_exec, &m,
                                      list);
#else

    return WEBHOOK_ERROR;

#endif
}


/*
 * webhook_signed_payload "v0:$http_x_slack_request_timestamp:{body}":
 * exactly one "{body}", with complex values before and after it.  A
 * template without the body is refused: a signature that does not cover
 * the body would let anyone change it.
 */

char *
ngx_http_webhook_signed_payload(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    u_char                   *end, *body;
    size_t                    tlen, off, n;
    ngx_str_t                *value;
    ngx_array_t              *parts;
    ngx_http_webhook_part_t  *part;

    if (wlcf->signed_payload != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    tlen = WEBHOOK_BODY_TOKEN_LEN;
    end = value[1].data + value[1].len;

    (void) webhook_template_body(value[1].data, value[1].len, &off, &n);
    body = value[1].data + off;

    if (n != 1) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "webhook_signed_payload \"%V\" must contain "
                           "\"{body}\" exactly once (found %uz): a signature "
                           "that does not cover the body lets anyone change "
                           "it", &value[1], n);
        return NGX_CONF_ERROR;
    }

    parts = ngx_array_create(cf->pool, 3, sizeof(ngx_http_webhook_part_t));
    if (parts == NULL) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_webhook_payload_value(cf, parts, value[1].data,
                                       body - value[1].data)
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    part = ngx_array_push(parts);
    if (part == NULL) {
        return NGX_CONF_ERROR;
    }

    part->type = NGX_HTTP_WEBHOOK_PART_BODY;
    part->literal = NULL;
    part->value = NULL;

    if (ngx_http_webhook_payload_value(cf, parts, body + tlen,
                                       end - (body + tlen))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    wlcf->signed_payload = parts;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_webhook_payload_value(ngx_conf_t *cf, ngx_array_t *parts,
    u_char *data, size_t len)
{
    ngx_str_t                         *text;
    ngx_http_webhook_part_t           *part;
    ngx_http_compile_complex_value_t   ccv;

    if (len == 0) {
        return NGX_OK;
    }

    /* a copy: the complex value keeps pointing at its text */

    text = ngx_palloc(cf->pool, sizeof(ngx_str_t));
    if (text == NULL) {
        return NGX_ERROR;
    }

    text->data = ngx_pnalloc(cf->pool, len);
    if (text->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(text->data, data, len);
    text->len = len;

    part = ngx_array_push(parts);
    if (part == NULL) {
        return NGX_ERROR;
    }

    part->type = NGX_HTTP_WEBHOOK_PART_VALUE;
    part->literal = NULL;

    part->value = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (part->value == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = text;
    ccv.complex_value = part->value;

    return ngx_http_compile_complex_value(&ccv);
}


/* the location's own copy of the "custom" preset, from its directives */

const ngx_http_webhook_preset_t *
ngx_http_webhook_custom_preset(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf)
{
    ngx_uint_t                 i;
    ngx_http_webhook_part_t   *parts;
    ngx_http_webhook_preset_t  *preset;

    if (conf->sig_header.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhook_verify custom\" in %s:%ui has no "
                      "\"webhook_signature_header\"",
                      conf->verify_file, conf->verify_line);
        return NULL;
    }

    preset = ngx_palloc(cf->pool, sizeof(ngx_http_webhook_preset_t));
    if (preset == NULL) {
        return NULL;
    }

    *preset = *conf->preset;

    preset->digest = (webhook_digest_t) conf->digest;
    preset->encoding = (webhook_encoding_t) conf->sig_encoding;

    /* directive arguments are NUL-terminated */
    preset->families[0].signature = (const char *) conf->sig_header.data;
    preset->families[0].timestamp = NULL;
    preset->families[0].id = NULL;

    if (conf->timestamp && !ngx_http_webhook_timestamp_signed(conf)) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhook_timestamp %V\" of \"webhook_verify "
                      "custom\" in %s:%ui is not part of "
                      "\"webhook_signed_payload\": the tolerance would "
                      "check a value nobody signed",
                      &conf->timestamp->value, conf->verify_file,
                      conf->verify_line);
        return NULL;
    }

    preset->signs_timestamp = (conf->timestamp != NULL);
    preset->ts_format = WEBHOOK_TS_AUTO;

    ngx_memzero(preset->payload, sizeof(preset->payload));

    if (conf->signed_payload == NULL) {
        preset->payload[0].type = NGX_HTTP_WEBHOOK_PART_BODY;
        return preset;
    }

    /* at most a value, the body and a value: always fits */

    parts = conf->signed_payload->elts;

    for (i = 0; i < conf->signed_payload->nelts; i++) {
        preset->payload[i] = parts[i];
    }

    return preset;
}


/*
 * Every variable of webhook_timestamp is one of webhook_signed_payload's
 * too (compared by index, so "$x" and "${x}" are the same).  A timestamp
 * without a variable, or a template without one, is never signed.
 */

static ngx_uint_t
ngx_http_webhook_timestamp_signed(ngx_http_webhook_loc_conf_t *conf)
{
    ngx_uint_t                *ts, *v, i, found;
    ngx_http_webhook_part_t   *parts;

    if (conf->timestamp->flushes == NULL || conf->signed_payload == NULL) {
        return 0;
    }

    parts = conf->signed_payload->elts;

    for (ts = conf->timestamp->flushes; *ts != (ngx_uint_t) -1; ts++) {

        found = 0;

        for (i = 0; i < conf->signed_payload->nelts && !found; i++) {

            if (parts[i].type != NGX_HTTP_WEBHOOK_PART_VALUE
                || parts[i].value->flushes == NULL)
            {
                continue;
            }

            for (v = parts[i].value->flushes; *v != (ngx_uint_t) -1; v++) {
                if (*v == *ts) {
                    found = 1;
                    break;
                }
            }
        }

        if (!found) {
            return 0;
        }
    }

    return 1;
}

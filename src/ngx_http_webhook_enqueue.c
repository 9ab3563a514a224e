
/*
 * ngx_http_webhook_module: webhook_enqueue, a content handler that hands
 * a delivery to a Redis Stream instead of proxying it.
 *
 * It runs in the content phase, so only once every check of the location
 * passed (allowlist, limits, signature, window, replay).  The pipeline
 * read the body already where the location verifies; elsewhere it is
 * read here, as any content handler reads it.  Then:
 *   1. the fields: the body's exact bytes, preset, id, event, signed
 *      timestamp, when nginx received the request, client address, and
 *      the webhook_enqueue_header headers;
 *   2. XADD on the worker's Redis connection (ngx_http_webhook_redis_
 *      stream.c), the request parked until the answer or the timeout;
 *   3. the answer: 200 {"status":"queued","id":"<stream id>"} once Redis
 *      stored it (and WAIT confirmed the replicas, with wait_replicas),
 *      503 queue_unavailable with Retry-After otherwise.
 * The replay record follows the answer as for proxy_pass: committed on
 * the 200, dropped on the 503 so the provider's retry goes through.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/* body, preset, id, event, timestamp, received, client: names and values */
#define NGX_HTTP_WEBHOOK_ENQUEUE_FIELDS  14

/* what a 503 asks the provider to wait, in seconds */
#define NGX_HTTP_WEBHOOK_RETRY_AFTER     "5"


static ngx_int_t ngx_http_webhook_enqueue_handler(ngx_http_request_t *r);
static void ngx_http_webhook_enqueue_body(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhook_enqueue_fields(ngx_http_request_t *r,
    ngx_str_t *fields, ngx_uint_t *n);
static void ngx_http_webhook_enqueue_cleanup(void *data);


static ngx_str_t  ngx_http_webhook_enqueue_type =
    ngx_string("application/json");


static ngx_str_t  ngx_http_webhook_enqueue_names[] = {
    ngx_string("body"),
    ngx_string("preset"),
    ngx_string("id"),
    ngx_string("event"),
    ngx_string("timestamp"),
    ngx_string("received"),
    ngx_string("client"),
};


/* webhook_enqueue stream=VALUE [maxlen=N] [wait_replicas=N]; */

char *
ngx_http_webhook_enqueue(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_int_t                          n;
    ngx_str_t                         *value, s;
    ngx_uint_t                         i;
    ngx_http_core_loc_conf_t          *clcf;
    ngx_http_webhook_enqueue_conf_t   *eq;
    ngx_http_compile_complex_value_t   ccv;

    if (wlcf->enqueue) {
        return "is duplicate";
    }

    eq = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_enqueue_conf_t));
    if (eq == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "stream=", 7) == 0) {

            s.data = value[i].data + 7;
            s.len = value[i].len - 7;

            if (s.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "empty stream name in \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = &eq->stream;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "maxlen=", 7) == 0) {

            n = ngx_atoi(value[i].data + 7, value[i].len - 7);

            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid maxlen \"%V\"", &value[i]);
                return NGX_CONF_ERROR;
            }

            eq->maxlen = n;
            continue;
        }

        if (ngx_strncmp(value[i].data, "wait_replicas=", 14) == 0) {

            n = ngx_atoi(value[i].data + 14, value[i].len - 14);

            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid wait_replicas \"%V\"",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            eq->wait_replicas = n;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (eq->stream.value.data == NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"webhook_enqueue\" needs stream=");
        return NGX_CONF_ERROR;
    }

    wlcf->enqueue = eq;

    ngx_http_webhook_redis_used(cf, "webhook_enqueue");

    if (ngx_http_webhook_queue_add_zone(cf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_webhook_enqueue_handler;

    return NGX_CONF_OK;
}


/* webhook_enqueue_header NAME;  the field is "h:" and the name lowercased */

char *
ngx_http_webhook_enqueue_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    u_char      *p;
    ngx_str_t   *value, *name;
    ngx_uint_t   i;

    value = cf->args->elts;

    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] >= 0x7f
            || value[1].data[i] == ':')
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\"", &value[1]);
            return NGX_CONF_ERROR;
        }
    }

    if (wlcf->enqueue_headers == NGX_CONF_UNSET_PTR) {
        wlcf->enqueue_headers = ngx_array_create(cf->pool, 4,
                                                 sizeof(ngx_str_t));
        if (wlcf->enqueue_headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    name = ngx_array_push(wlcf->enqueue_headers);
    if (name == NULL) {
        return NGX_CONF_ERROR;
    }

    /* "h:name\0": the lookup takes a C string */

    p = ngx_pnalloc(cf->pool, 2 + value[1].len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    name->data = p;
    name->len = 2 + value[1].len;

    *p++ = 'h';
    *p++ = ':';
    ngx_strlow(p, value[1].data, value[1].len);
    p[value[1].len] = '\0';

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_webhook_enqueue_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_pool_cleanup_t           *cln;
    ngx_http_webhook_enqueue_t   *eq;
    ngx_http_webhook_loc_conf_t  *wlcf;

    if (!(r->method & NGX_HTTP_POST)) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    if (r != r->main) {
        /* a subrequest has no delivery of its own to queue */
        return NGX_HTTP_FORBIDDEN;
    }

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    /* the state lives in a pool cleanup entry: found again by its handler */

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_webhook_enqueue_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    eq = cln->data;
    ngx_memzero(eq, sizeof(ngx_http_webhook_enqueue_t));
    cln->handler = ngx_http_webhook_enqueue_cleanup;

    eq->conf = wlcf->enqueue;

    if (ngx_http_complex_value(r, &eq->conf->stream, &eq->stream) != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (eq->stream.len == 0) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhook: webhook_enqueue stream name \"%V\" is empty "
                      "for this request", &eq->conf->stream.value);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    eq->stats = ngx_http_webhook_queue_stream(&eq->stream);

    /* already read by a verifying location: the post handler runs now */

    rc = ngx_http_read_client_request_body(r, ngx_http_webhook_enqueue_body);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


ngx_http_webhook_enqueue_t *
ngx_http_webhook_enqueue_get(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t  *cln;

    for (cln = r->pool->cleanup; cln; cln = cln->next) {
        if (cln->handler == ngx_http_webhook_enqueue_cleanup) {
            return cln->data;
        }
    }

    return NULL;
}


/* the body is there: build the fields, send XADD */

static void
ngx_http_webhook_enqueue_body(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_str_t                    *fields;
    ngx_uint_t                    n;
    ngx_http_webhook_enqueue_t   *eq;
    ngx_http_webhook_loc_conf_t  *wlcf;

    eq = ngx_http_webhook_enqueue_get(r);
    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    n = NGX_HTTP_WEBHOOK_ENQUEUE_FIELDS;

    if (wlcf->enqueue_headers) {
        n += 2 * wlcf->enqueue_headers->nelts;
    }

    fields = ngx_palloc(r->pool, n * sizeof(ngx_str_t));
    if (fields == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    if (ngx_http_webhook_enqueue_fields(r, fields, &n) != NGX_OK) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    rc = ngx_http_webhook_stream_add(r, eq, fields, n);

    if (rc == NGX_AGAIN) {
        /* parked: ngx_http_webhook_enqueue_answer() comes later */
        return;
    }

    /* not connected to Redis now */

    ngx_http_webhook_enqueue_answer(r);
}


/*
 * The field/value pairs, in order.  Every value points into memory that
 * lives as long as the request; only the body may be copied (see
 * ngx_http_webhook_body_span()).
 */

static ngx_int_t
ngx_http_webhook_enqueue_fields(ngx_http_request_t *r, ngx_str_t *fields,
    ngx_uint_t *n)
{
    u_char                       *p;
    ngx_str_t                    *v, *name;
    ngx_uint_t                    i, k;
    ngx_table_elt_t              *h;
    ngx_http_webhook_ctx_t       *ctx;
    ngx_http_webhook_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);
    ctx = ngx_http_webhook_get_ctx(r);

    for (i = 0; i < 7; i++) {
        fields[2 * i] = ngx_http_webhook_enqueue_names[i];
        ngx_str_null(&fields[2 * i + 1]);
    }

    if (ngx_http_webhook_body_span(r, 0, &fields[1]) != NGX_OK) {
        return NGX_ERROR;
    }

    if (ctx && ctx->conf->preset) {
        fields[3] = ctx->conf->preset->name;

        if (ngx_http_webhook_request_id(r, ctx, &fields[5]) != NGX_OK) {
            ngx_str_null(&fields[5]);
        }

        if (ngx_http_webhook_request_event(r, ctx, &fields[7]) != NGX_OK) {
            ngx_str_null(&fields[7]);
        }

        if (ctx->has_timestamp) {
            p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
            if (p == NULL) {
                return NGX_ERROR;
            }

            fields[9].data = p;
            fields[9].len = ngx_sprintf(p, "%L", ctx->timestamp) - p;
        }
    }

    /* when nginx received the request's first byte, unix milliseconds */

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    fields[11].data = p;
    fields[11].len = ngx_sprintf(p, "%T%03M", r->start_sec, r->start_msec)
                     - p;

    fields[13] = r->connection->addr_text;

    k = NGX_HTTP_WEBHOOK_ENQUEUE_FIELDS;

    if (wlcf->enqueue_headers) {
        name = wlcf->enqueue_headers->elts;

        for (i = 0; i < wlcf->enqueue_headers->nelts; i++) {

            /* an absent header is an absent field, not an empty one */

            h = ngx_http_webhook_find_header(r,
                                             (const char *) name[i].data + 2);
            if (h == NULL) {
                continue;
            }

            v = &fields[k];
            v[0] = name[i];
            v[1] = h->value;
            k += 2;
        }
    }

    *n = k;

    return NGX_OK;
}


/*
 * The end: Redis stored it (200 with the stream id) or did not (503).
 * Called once, from the event loop; finalizes the request.
 */

void
ngx_http_webhook_enqueue_answer(ngx_http_request_t *r)
{
    u_char                      *p;
    ngx_int_t                    rc;
    ngx_table_elt_t             *h;
    ngx_http_webhook_ctx_t      *ctx;
    ngx_http_complex_value_t     cv;
    ngx_http_webhook_enqueue_t  *eq;

    eq = ngx_http_webhook_enqueue_get(r);

    if (eq->stored
        && (eq->conf->wait_replicas == 0
            || eq->replicas >= (ngx_int_t) eq->conf->wait_replicas))
    {
        ngx_http_webhook_queue_count(eq->stats, 1);

        p = ngx_pnalloc(r->pool, sizeof("{\"status\":\"queued\",\"id\":\"\"}")
                                 + eq->id.len);
        if (p == NULL) {
            ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
            return;
        }

        ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));
        cv.value.data = p;

        /* a stream id is digits and one dash: nothing to escape */
        p = ngx_sprintf(p, "{\"status\":\"queued\",\"id\":\"%V\"}", &eq->id);
        cv.value.len = p - cv.value.data;

        rc = ngx_http_send_response(r, NGX_HTTP_OK,
                                    &ngx_http_webhook_enqueue_type, &cv);
        ngx_http_finalize_request(r, rc);
        return;
    }

    ngx_http_webhook_queue_count(eq->stats, 0);

    if (eq->stored) {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "webhook: stream \"%V\" entry %V reached %i of %ui "
                      "replicas in time: answered 503",
                      &eq->stream, &eq->id, eq->replicas,
                      eq->conf->wait_replicas);

    } else if (eq->error.len) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "webhook: redis refused XADD to stream \"%V\": %V",
                      &eq->stream, &eq->error);
    }

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx) {
        /* for $webhook_reject_reason, the log and the status page */
        ctx->reason = NGX_HTTP_WEBHOOK_QUEUE_UNAVAILABLE;
        ngx_http_webhook_log_verdict(r, ctx);
        ngx_http_webhook_stats_refused(ctx);
    }

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        ngx_http_finalize_request(r, NGX_HTTP_INTERNAL_SERVER_ERROR);
        return;
    }

    h->hash = 1;
    ngx_str_set(&h->key, "Retry-After");
    ngx_str_set(&h->value, NGX_HTTP_WEBHOOK_RETRY_AFTER);

    rc = ngx_http_webhook_reject(r, NGX_HTTP_WEBHOOK_QUEUE_UNAVAILABLE);

    if (rc == NGX_DONE) {
        /* reject() finalized it already */
        return;
    }

    ngx_http_finalize_request(r, rc);
}


static void
ngx_http_webhook_enqueue_cleanup(void *data)
{
    /* nothing to free: the handler marks the request's enqueue state */
}

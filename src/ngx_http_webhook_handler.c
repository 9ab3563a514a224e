
/*
 * ngx_http_webhook_module: the request pipeline (PREACCESS phase).
 *
 * Cheapest first, and everything that needs no body before the body:
 *
 *   allow    the IP allowlist;
 *   limit    the rate limits: counted, or for charge=verified a slot
 *            reserved, before the body (a sync=on limit without a fresh
 *            view of its key may wait for one);
 *   headers  signature header, candidates, signed timestamp (for a
 *            plaintext token, the whole verification);
 *   window   that timestamp against webhook_tolerance;
 *   body     read it (possibly over several event loop turns);
 *   verify   HMAC (or Ed25519) over the signed bytes, and the window of
 *            a timestamp that only the verified body carries;
 *   replay   the replay cache, for verified deliveries only (with
 *            redis=on possibly waiting on Redis);
 *
 * then the verdict: go on (NGX_DECLINED), or refuse with a JSON reason.
 * Each step returns its verdict here, and only this file records it and
 * refuses.  In monitor mode (and for dry_run limits) a failed check only
 * records the would-be reason and the request goes on, so that
 * $webhook_verified tells the truth.
 *
 * ctx->state says where the request is.  The handler is entered again
 * when the fresh views of synced limit keys came or did not in time
 * (LIMIT: the steps run again from the allowlist), when the body is
 * complete (VERIFY), when Redis answered the replay claim or did not in
 * time (REPLAY), and after an internal redirect (DONE; or BODY, when
 * nginx ended the body read with an error and an error_page sent the
 * request on).  While a request waits, a timer is armed:
 * client_body_timeout for the body, the Redis timeout for Redis.
 *
 * Reading the body follows ngx_http_mirror_module.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static ngx_int_t ngx_http_webhook_subrequest(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf);
static ngx_int_t ngx_http_webhook_redirected(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_uint_t ngx_http_webhook_same_verification(
    ngx_http_webhook_loc_conf_t *a, ngx_http_webhook_loc_conf_t *b);
static ngx_int_t ngx_http_webhook_start(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_limit_step(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_read_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_uint_t ngx_http_webhook_body_gone(ngx_http_request_t *r);
static void ngx_http_webhook_body_ready(ngx_http_request_t *r);
static ngx_int_t ngx_http_webhook_body_lost(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_verify(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_verified(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
static ngx_int_t ngx_http_webhook_replayed(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_int_t rc);
static ngx_uint_t ngx_http_webhook_refused(ngx_http_webhook_ctx_t *ctx,
    ngx_int_t reason, ngx_uint_t enforce);
static ngx_int_t ngx_http_webhook_verdict(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
static ngx_http_webhook_ctx_t *ngx_http_webhook_create_ctx(
    ngx_http_request_t *r, ngx_http_webhook_loc_conf_t *wlcf);
static void ngx_http_webhook_ctx_cleanup(void *data);


#define ngx_http_webhook_enforced(wlcf)                                       \
    ((wlcf)->mode == NGX_HTTP_WEBHOOK_ENFORCE)


ngx_int_t
ngx_http_webhook_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_webhook_ctx_t       *ctx;
    ngx_http_webhook_loc_conf_t  *wlcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    if ((wlcf->preset == NULL && wlcf->allow == NULL && wlcf->limits == NULL)
        || wlcf->status)
    {
        return NGX_DECLINED;
    }

    if (r != r->main) {
        return ngx_http_webhook_subrequest(r, wlcf);
    }

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL) {
        ctx = ngx_http_webhook_create_ctx(r, wlcf);
        if (ctx == NULL) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }
    }

    switch (ctx->state) {

    case NGX_HTTP_WEBHOOK_STATE_START:
        return ngx_http_webhook_start(r, wlcf, ctx);

    case NGX_HTTP_WEBHOOK_STATE_LIMIT:
        /* fresh views of synced limit keys came, or did not in time */
        ctx->state = NGX_HTTP_WEBHOOK_STATE_START;
        return ngx_http_webhook_start(r, wlcf, ctx);

    case NGX_HTTP_WEBHOOK_STATE_BODY:
        /* nginx ended the body read, and an error_page sent it here */
        return ngx_http_webhook_body_lost(r, ctx);

    case NGX_HTTP_WEBHOOK_STATE_VERIFY:
        return ngx_http_webhook_verify(r, wlcf, ctx);

    case NGX_HTTP_WEBHOOK_STATE_REPLAY:
        /* Redis answered the claim, or did not in time */
        rc = ngx_http_webhook_replay_claimed(r, ctx);
        return ngx_http_webhook_replayed(r, ctx, rc);

    default: /* NGX_HTTP_WEBHOOK_STATE_DONE */
        return ngx_http_webhook_redirected(r, wlcf, ctx);
    }
}


/*
 * A subrequest (auth_request, SSI) has no body of its own: a verifying
 * location refuses it rather than skip the check.  The allowlist needs
 * only the client's address and applies; limits count main requests.
 * The subrequest gets a ctx of its own, without the cleanup entry that
 * the main request's is found by.
 */

static ngx_int_t
ngx_http_webhook_subrequest(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf)
{
    ngx_uint_t               enforce;
    ngx_http_webhook_ctx_t  *ctx;

    if (wlcf->preset == NULL && wlcf->allow == NULL) {
        return NGX_DECLINED;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_webhook_ctx_t));
    if (ctx == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ctx->conf = wlcf;
    ngx_http_set_ctx(r, ctx, ngx_http_webhook_module);

    enforce = ngx_http_webhook_enforced(wlcf);

    if (wlcf->allow && !ngx_http_webhook_allowed(r, wlcf)
        && ngx_http_webhook_refused(ctx, NGX_HTTP_WEBHOOK_IP_NOT_ALLOWED,
                                    enforce))
    {
        return ngx_http_webhook_verdict(r, ctx);
    }

    if (wlcf->preset) {
        (void) ngx_http_webhook_refused(ctx,
                                     NGX_HTTP_WEBHOOK_SUBREQUEST_UNSUPPORTED,
                                     enforce);
    }

    return ngx_http_webhook_verdict(r, ctx);
}


/*
 * An internal redirect (error_page, try_files, rewrite ... last) into a
 * location where the module runs, after the request was judged.
 *
 * A refusal stands in any location that verifies, so that no redirect
 * turns it into a pass; a location without webhook_verify (error_page
 * 401 = @named) does what the user wrote there, as after auth_basic.
 * A pass is re-used only where every check is configured the same;
 * anywhere else the request is judged again (the body is still there).
 * Judging again re-counts no limit it was counted against, re-verifies
 * nothing verified under the same verification configuration, and
 * claims no replay record while it holds one: its own delivery is not a
 * duplicate of itself.
 */

static ngx_int_t
ngx_http_webhook_redirected(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_loc_conf_t  *prev;

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {

        if (wlcf->preset == NULL) {
            return NGX_DECLINED;
        }

        return ngx_http_webhook_reject(r, ctx->reason);
    }

    prev = ctx->conf;

    if (wlcf == prev
        || (ngx_http_webhook_same_verification(wlcf, prev)
            && wlcf->mode == prev->mode
            && wlcf->allow == prev->allow
            && wlcf->allow_all == prev->allow_all
            && wlcf->limits == prev->limits
            && wlcf->replay == prev->replay))
    {
        return NGX_DECLINED;
    }

    ctx->would_reason = NGX_HTTP_WEBHOOK_PASS;
    ctx->duplicate = 0;
    ctx->id_evaluated = 0;
    ctx->event_evaluated = 0;
    ctx->url_evaluated = 0;
    ctx->pieces_ready = 0;

    if (!ctx->verified
        || !ngx_http_webhook_same_verification(wlcf, ctx->verified_by))
    {
        ctx->verified = 0;
        ctx->verified_by = NULL;
        ctx->family = NULL;
        ngx_str_null(&ctx->signed_id);
        ngx_str_null(&ctx->signed_ts);
        ctx->has_timestamp = 0;
        ctx->ncandidates = 0;
        ctx->ned25519 = 0;
        ngx_str_null(&ctx->token);
        ctx->secret_index = 0;
        ctx->matched_mac_len = 0;
        ctx->body_hash = 0;
    }

    ctx->state = NGX_HTTP_WEBHOOK_STATE_START;

    return ngx_http_webhook_start(r, wlcf, ctx);
}


/* the same preset, secrets, keys and everything the signature needs */

static ngx_uint_t
ngx_http_webhook_same_verification(ngx_http_webhook_loc_conf_t *a,
    ngx_http_webhook_loc_conf_t *b)
{
    if (b == NULL) {
        return 0;
    }

    return a == b
           || (a->preset == b->preset
               && a->secrets == b->secrets
               && a->public_keys == b->public_keys
               && a->tolerance == b->tolerance
               && a->public_url == b->public_url
               && a->sig_header.data == b->sig_header.data
               && a->sig_pattern == b->sig_pattern
               && a->signed_payload == b->signed_payload
               && a->timestamp == b->timestamp);
}


/* the steps that need no body: allow, limit, headers, window */

static ngx_int_t
ngx_http_webhook_start(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_uint_t  enforce;

    ctx->conf = wlcf;
    enforce = ngx_http_webhook_enforced(wlcf);

    if (wlcf->allow && !ngx_http_webhook_allowed(r, wlcf)
        && ngx_http_webhook_refused(ctx, NGX_HTTP_WEBHOOK_IP_NOT_ALLOWED,
                                    enforce))
    {
        return ngx_http_webhook_verdict(r, ctx);
    }

    if (wlcf->limits) {
        rc = ngx_http_webhook_limit_step(r, wlcf, ctx);

        if (rc == NGX_ERROR) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        if (rc == NGX_AGAIN) {
            return NGX_DONE;
        }

        if (rc == NGX_DONE) {
            return ngx_http_webhook_verdict(r, ctx);
        }
    }

    if (wlcf->preset == NULL) {
        return ngx_http_webhook_verdict(r, ctx);
    }

    if (ctx->verified) {
        /* verified under this configuration before a redirect */
        return ngx_http_webhook_verified(r, wlcf, ctx);
    }

    rc = ngx_http_webhook_verify_headers(r, wlcf, ctx);

    if (rc == NGX_HTTP_WEBHOOK_PASS && ctx->has_timestamp) {
        rc = ngx_http_webhook_window(wlcf, ctx);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_HTTP_WEBHOOK_PASS) {
        /* nothing to verify the body against */
        (void) ngx_http_webhook_refused(ctx, rc, enforce);
        return ngx_http_webhook_verdict(r, ctx);
    }

    if (ctx->handshake) {
        /* webhook_handshake: the sender's unsigned handshake, no body */
        return ngx_http_webhook_verdict(r, ctx);
    }

    if (wlcf->preset->sig_type == NGX_HTTP_WEBHOOK_SIG_TOKEN) {
        /* GitLab's plaintext token: the header step decided it all */
        return ngx_http_webhook_verified(r, wlcf, ctx);
    }

    return ngx_http_webhook_read_body(r, wlcf, ctx);
}


/*
 * The limits, once per set of limits (webhook_limit lines inherited by
 * another location are the same set): NGX_OK, NGX_DONE when the request
 * is refused, NGX_AGAIN while it waits for fresh views of synced keys
 * (the LIMIT state), or NGX_ERROR.
 */

static ngx_int_t
ngx_http_webhook_limit_step(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t      rc;
    ngx_uint_t     i;
    ngx_array_t  **counted;

    if (ctx->counted == NULL) {
        ctx->counted = ngx_array_create(r->pool, 1, sizeof(ngx_array_t *));
        if (ctx->counted == NULL) {
            return NGX_ERROR;
        }
    }

    counted = ctx->counted->elts;

    for (i = 0; i < ctx->counted->nelts; i++) {
        if (counted[i] == wlcf->limits) {
            return NGX_OK;
        }
    }

    rc = ngx_http_webhook_limit_check(r, wlcf, ctx);

    if (rc == NGX_AGAIN) {
        ctx->state = NGX_HTTP_WEBHOOK_STATE_LIMIT;
        return NGX_AGAIN;
    }

    counted = ngx_array_push(ctx->counted);
    if (counted == NULL) {
        return NGX_ERROR;
    }

    *counted = wlcf->limits;

    switch (rc) {

    case NGX_OK:
        return NGX_OK;

    case NGX_BUSY:
    case NGX_DECLINED:
        /* NGX_DECLINED: only dry_run limits would have refused it */
        return ngx_http_webhook_refused(ctx, NGX_HTTP_WEBHOOK_RATE_LIMITED,
                                        rc == NGX_BUSY
                                        && ngx_http_webhook_enforced(wlcf))
               ? NGX_DONE : NGX_OK;

    case NGX_ABORT:
        /* on_error=closed, and Redis is not there */
        return ngx_http_webhook_refused(ctx,
                                        NGX_HTTP_WEBHOOK_REDIS_UNAVAILABLE,
                                        ngx_http_webhook_enforced(wlcf))
               ? NGX_DONE : NGX_OK;

    default:
        return NGX_ERROR;
    }
}


/*
 * The body step.  As ngx_http_mirror_module does: the post handler runs
 * the phases again (at once, from inside this call, when the body was
 * there already), and the handler goes on in the VERIFY state.
 */

static ngx_int_t
ngx_http_webhook_read_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t  rc;

    if (ctx->body_read) {
        /* judged again after a redirect */
        ctx->state = NGX_HTTP_WEBHOOK_STATE_VERIFY;
        return ngx_http_webhook_verify(r, wlcf, ctx);
    }

    if (ngx_http_webhook_body_gone(r)) {
        /* nginx refused or ended the read before: what is left is no body */
        return ngx_http_webhook_body_lost(r, ctx);
    }

    ctx->state = NGX_HTTP_WEBHOOK_STATE_BODY;

    rc = ngx_http_read_client_request_body(r, ngx_http_webhook_body_ready);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {

        if (rc == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE) {
            /* seen while reading (chunked, HTTP/2) */
            (void) ngx_http_webhook_refused(ctx,
                                            NGX_HTTP_WEBHOOK_BODY_TOO_LARGE,
                                            1);
            return ngx_http_webhook_verdict(r, ctx);
        }

        ctx->state = NGX_HTTP_WEBHOOK_STATE_DONE;
        return rc;
    }

    /*
     * Drop the reference the read took, now, as the content phase does
     * for proxy_pass: if reading fails later (a chunked body over
     * client_max_body_size, a timeout), nginx finalizes the request
     * itself and our post handler never runs.
     */

    ngx_http_finalize_request(r, NGX_DONE);

    return NGX_DONE;
}


/*
 * Did nginx give up on the body before this location asked for it: it
 * discards it (a Content-Length over client_max_body_size), or a read
 * that another location started ended with an error?
 */

static ngx_uint_t
ngx_http_webhook_body_gone(ngx_http_request_t *r)
{
    if (r->discard_body
        || (r->request_body && r->request_body->rest != 0))
    {
        return 1;
    }

#if (NGX_HTTP_V2)

    /* HTTP/2 skips the stream's DATA frames after an error or a discard */

    if (r->stream && r->stream->skip_data) {
        return 1;
    }

#endif

    return 0;
}


static void
ngx_http_webhook_body_ready(ngx_http_request_t *r)
{
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx == NULL || ctx->state != NGX_HTTP_WEBHOOK_STATE_BODY) {
        return;
    }

    ctx->body_read = 1;
    ctx->state = NGX_HTTP_WEBHOOK_STATE_VERIFY;

    /* reading the body set it to an empty handler */
    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
}


/*
 * nginx ended the body read with an error (too large, malformed chunked
 * encoding), and an error_page sent the request into a location that
 * needs the body.  What was read is not the body, and nothing would
 * resume a wait for the rest: answer now.  413 (body_too_large) when
 * the body is over client_max_body_size, else nginx's own status.
 */

static ngx_int_t
ngx_http_webhook_body_lost(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    off_t                      size;
    ngx_http_request_body_t   *rb;
    ngx_http_core_loc_conf_t  *clcf;

    clcf = ngx_http_get_module_loc_conf(r, ngx_http_core_module);
    rb = r->request_body;

    size = r->headers_in.content_length_n;

    if (rb) {
        if (rb->chunked) {
            size += rb->chunked->size;
        }

        size = ngx_max(size, rb->received);
    }

    if (r->err_status == NGX_HTTP_REQUEST_ENTITY_TOO_LARGE
        || (clcf->client_max_body_size
            && size > clcf->client_max_body_size))
    {
        (void) ngx_http_webhook_refused(ctx, NGX_HTTP_WEBHOOK_BODY_TOO_LARGE,
                                        1);
        return ngx_http_webhook_verdict(r, ctx);
    }

    ctx->state = NGX_HTTP_WEBHOOK_STATE_DONE;

    return r->err_status >= NGX_HTTP_BAD_REQUEST ? (ngx_int_t) r->err_status
                                                 : NGX_HTTP_BAD_REQUEST;
}


/* the verify step, and the window of a timestamp from the body */

static ngx_int_t
ngx_http_webhook_verify(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t   rc;
    ngx_uint_t  had_timestamp;

    had_timestamp = ctx->has_timestamp;

    rc = ngx_http_webhook_verify_body(r, wlcf, ctx);

    if (rc == NGX_HTTP_WEBHOOK_PASS && !had_timestamp && ctx->has_timestamp)
    {
        /* Linear, Mailgun: trusted only once the MAC holds */
        rc = ngx_http_webhook_window(wlcf, ctx);
    }

    if (rc == NGX_ERROR) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (rc != NGX_HTTP_WEBHOOK_PASS) {
        (void) ngx_http_webhook_refused(ctx, rc,
                                        ngx_http_webhook_enforced(wlcf));
        return ngx_http_webhook_verdict(r, ctx);
    }

    return ngx_http_webhook_verified(r, wlcf, ctx);
}


/* the replay step, for a verified delivery */

static ngx_int_t
ngx_http_webhook_verified(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    ngx_int_t  rc;

    ctx->verified = 1;
    ctx->verified_by = wlcf;

    if (wlcf->replay == NULL || ctx->replay_zone) {
        /* no cache here, or the request holds its record already */
        return ngx_http_webhook_verdict(r, ctx);
    }

    rc = ngx_http_webhook_replay_check(r, wlcf, ctx);

    if (rc == NGX_AGAIN) {
        ctx->state = NGX_HTTP_WEBHOOK_STATE_REPLAY;
        return NGX_DONE;
    }

    return ngx_http_webhook_replayed(r, ctx, rc);
}


/* the replay cache's answer (ngx_http_webhook_replay_check()) */

static ngx_int_t
ngx_http_webhook_replayed(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t rc)
{
    ngx_uint_t  enforce;

    enforce = ngx_http_webhook_enforced(ctx->conf);

    switch (rc) {

    case NGX_ERROR:
        return NGX_HTTP_INTERNAL_SERVER_ERROR;

    case NGX_BUSY:
        (void) ngx_http_webhook_refused(ctx,
                                        NGX_HTTP_WEBHOOK_DUPLICATE_IN_FLIGHT,
                                        enforce);
        break;

    case NGX_ABORT:
        (void) ngx_http_webhook_refused(ctx,
                                        NGX_HTTP_WEBHOOK_REDIS_UNAVAILABLE,
                                        enforce);
        break;

    default:
        break;
    }

    return ngx_http_webhook_verdict(r, ctx);
}


/*
 * Record a step's verdict: the first failure refuses the request when
 * enforced (and 1 says so), and is only the would-be reason otherwise.
 */

static ngx_uint_t
ngx_http_webhook_refused(ngx_http_webhook_ctx_t *ctx, ngx_int_t reason,
    ngx_uint_t enforce)
{
    if (reason == NGX_HTTP_WEBHOOK_PASS) {
        return 0;
    }

    if (enforce) {
        if (ctx->reason == NGX_HTTP_WEBHOOK_PASS) {
            ctx->reason = reason;
        }

        return 1;
    }

    if (ctx->would_reason == NGX_HTTP_WEBHOOK_PASS) {
        ctx->would_reason = reason;
    }

    return 0;
}


static ngx_int_t
ngx_http_webhook_verdict(ngx_http_request_t *r, ngx_http_webhook_ctx_t *ctx)
{
    ctx->state = NGX_HTTP_WEBHOOK_STATE_DONE;

    /* charge=verified: a delivered one's slots count, others' go back */

    ngx_http_webhook_limit_settle(ctx, ctx->verified && !ctx->duplicate
                                  && ctx->reason == NGX_HTTP_WEBHOOK_PASS);

    ngx_http_webhook_stats_count(r, ctx);

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
        ngx_http_webhook_log_verdict(r, ctx);
        return ngx_http_webhook_reject(r, ctx->reason);
    }

    if (ctx->would_reason != NGX_HTTP_WEBHOOK_PASS) {
        ngx_http_webhook_log_verdict(r, ctx);
    }

    /* delivered before: acknowledge it, the ERP has it already */

    if (ctx->duplicate && ngx_http_webhook_enforced(ctx->conf)) {
        return ngx_http_webhook_acknowledge_duplicate(r);
    }

    return NGX_DECLINED;
}


ngx_http_webhook_ctx_t *
ngx_http_webhook_get_ctx(ngx_http_request_t *r)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_get_module_ctx(r, ngx_http_webhook_module);

    if (ctx == NULL && r == r->main && (r->internal || r->filter_finalize)) {

        /* an internal redirect zeroed r->ctx; the cleanup entry stays */

        for (cln = r->pool->cleanup; cln; cln = cln->next) {
            if (cln->handler == ngx_http_webhook_ctx_cleanup) {
                ctx = cln->data;
                ngx_http_set_ctx(r, ctx, ngx_http_webhook_module);
                break;
            }
        }
    }

    return ctx;
}


static ngx_http_webhook_ctx_t *
ngx_http_webhook_create_ctx(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf)
{
    ngx_pool_cleanup_t      *cln;
    ngx_http_webhook_ctx_t  *ctx;

    cln = ngx_pool_cleanup_add(r->pool, sizeof(ngx_http_webhook_ctx_t));
    if (cln == NULL) {
        return NULL;
    }

    ctx = cln->data;
    ngx_memzero(ctx, sizeof(ngx_http_webhook_ctx_t));

    ctx->conf = wlcf;

    cln->handler = ngx_http_webhook_ctx_cleanup;
    ngx_http_set_ctx(r, ctx, ngx_http_webhook_module);

    return ctx;
}


/*
 * The request is over: slots still reserved were never charged.  (The
 * cleanup entry is also how the ctx is found after an internal
 * redirect.)
 */

static void
ngx_http_webhook_ctx_cleanup(void *data)
{
    ngx_http_webhook_ctx_t  *ctx = data;

    ngx_http_webhook_limit_settle(ctx, 0);
}


/*
 * ngx_http_webhook_module: sliding-window rate limits.
 *
 * A limit zone counts requests per key (a complex value) in two fixed
 * windows of wall-clock time; src/core/webhook_window.c has the
 * arithmetic.  A location may apply several limits (say 5r/s and 100r/m
 * on one key): a request is admitted only if every limit admits it, and
 * only then counts against each.  To make that one atomic step across
 * workers, the zones' mutexes are all taken, always in the order the
 * zones were declared, before anything is checked.  Refused requests do
 * not count.  The check runs before the body is read.
 *
 * A charge=verified limit counts only deliveries whose signature
 * verified.  Its check still runs before the body, against the verified
 * count plus the slots reserved by requests in flight; an admitted
 * request reserves a slot (in the same locked step), and the verdict
 * commits it (verified and delivered) or gives it back (anything else,
 * or the request ended first: ngx_http_webhook_limit_settle()).  So
 * forgeries never spend the budget and concurrency never over-admits.
 *
 * A sync=on zone also keeps, per key, the cluster's counts from the last
 * sync with Redis and how much of this node's own counts they already
 * include; its estimate is the cluster's counts plus what this node
 * counted since (ngx_http_webhook_redis.c does the syncing, from the
 * keys marked dirty here).  The hot path never waits on Redis.  While
 * Redis is unavailable on_error= decides: own counts only (local), no
 * limit (open), or 503 (closed).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


/*
 * A key's payload in a limit zone: its own counts, and in a sync=on zone
 * what the syncing needs, kept small (counts below 2^32: a limit is at
 * most 10^9; window numbers modulo 2^32: only equality is asked), so
 * that an entry with a short key still fits a 128-byte slab slot.
 */
typedef struct {
    webhook_window_t            own;        /* this node's counts */
    uint32_t                    inflight;   /* charge=verified slots
                                               reserved, not counted */
    uint32_t                    epoch;      /* tells a reused entry from
                                               the one a slot was taken in */

    /* sync=on only, from here */

    /* the cluster's counts at the last sync, for cwindow and cwindow - 1,
       and how much of own's counts for them they include */
    uint32_t                    cwindow;
    uint32_t                    ccurrent;
    uint32_t                    cprevious;
    uint32_t                    scurrent;
    uint32_t                    sprevious;

    /*
     * Touched since the last sync.  A touch also makes the entry the
     * most recent of the LRU queue, so the dirty entries are always the
     * head of the queue: a sync walks from the head to the first clean
     * one.
     */
    uint32_t                    dirty:1;

    /* when the exchange that gave the cluster's counts was sent:
       ngx_current_msec modulo 2^31 (a view older than two periods is
       recognised by cwindow) */
    uint32_t                    synced:31;
} ngx_http_webhook_limit_entry_t;


#define NGX_HTTP_WEBHOOK_MSEC31(ms)  ((uint32_t) ((ms) & 0x7fffffff))


typedef struct {
    ngx_str_t                        key;
    uint32_t                         hash;
    ngx_uint_t                       mode;      /* ..._REDIS_UP, on_error */
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_entry_t  *entry;     /* e's payload */
    webhook_window_verdict_t         verdict;

    /* a sync=on key without a fresh view: its own counts, to send */
    int64_t                          window;
    uint64_t                         current;
    uint64_t                         previous;
    unsigned                         cluster:1;
    unsigned                         stale:1;
} ngx_http_webhook_limit_state_t;


/* the payload of a zone without sync=on: up to the sync=on fields */
#define ngx_http_webhook_limit_local_size                                     \
    offsetof(ngx_http_webhook_limit_entry_t, cwindow)


/* the expiry of an entry with slots reserved: not reclaimed meanwhile */
#define NGX_HTTP_WEBHOOK_HELD  ((int64_t) 0x7fffffffffffffffLL)


/* a charge=verified slot a request holds (in ctx->reserved) */
typedef struct {
    ngx_http_webhook_zone_t         *zone;
    ngx_str_t                        key;
    uint32_t                         hash;
    uint32_t                         epoch;
} ngx_http_webhook_reservation_t;


static ngx_uint_t ngx_http_webhook_limit_newer(
    ngx_http_webhook_limit_entry_t *le, ngx_http_webhook_limit_sync_t *item);
static ngx_uint_t ngx_http_webhook_limit_fresh(
    ngx_http_webhook_limit_entry_t *le, ngx_msec_t interval);
static void ngx_http_webhook_limit_estimate(
    ngx_http_webhook_limit_entry_t *le, ngx_uint_t cluster,
    uint64_t *previous, uint64_t *current);
static ngx_int_t ngx_http_webhook_add_header(ngx_http_request_t *r,
    const char *name, uint64_t value);


/*
 * webhook_limit_zone zone=NAME:SIZE key=VALUE rate=Nr/s|Nr/m|Nr/h
 *                    [sync=on|off|async];
 */

char *
ngx_http_webhook_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    u_char                            *p;
    ngx_str_t                         *value, s, zone_spec, rate;
    ngx_int_t                          n;
    ngx_uint_t                         i, sync;
    ngx_http_webhook_zone_t           *zone;
    ngx_http_compile_complex_value_t   ccv;
    ngx_http_complex_value_t           key;

    value = cf->args->elts;

    ngx_str_null(&zone_spec);
    ngx_str_null(&rate);
    ngx_memzero(&key, sizeof(ngx_http_complex_value_t));
    sync = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            zone_spec = value[i];
            continue;
        }

        if (ngx_strncmp(value[i].data, "key=", 4) == 0) {
            s.data = value[i].data + 4;
            s.len = value[i].len - 4;

            ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

            ccv.cf = cf;
            ccv.value = &s;
            ccv.complex_value = &key;

            if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "rate=", 5) == 0) {
            rate.data = value[i].data + 5;
            rate.len = value[i].len - 5;
            continue;
        }

        if (ngx_strcmp(value[i].data, "sync=off") == 0) {
            sync = NGX_HTTP_WEBHOOK_SYNC_OFF;
            continue;
        }

        if (ngx_strcmp(value[i].data, "sync=on") == 0) {
            sync = NGX_HTTP_WEBHOOK_SYNC_ON;
            continue;
        }

        if (ngx_strcmp(value[i].data, "sync=async") == 0) {
            sync = NGX_HTTP_WEBHOOK_SYNC_ASYNC;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    if (zone_spec.len == 0 || key.value.len == 0 || rate.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" needs zone=NAME:SIZE, key=VALUE and "
                           "rate=Nr/s (or r/m, r/h)", &cmd->name);
        return NGX_CONF_ERROR;
    }

    /* "10r/s": a positive count, "r/", and a unit */

    p = rate.data + rate.len;

    if (rate.len < 4 || ngx_strncmp(p - 3, "r/", 2) != 0) {
        goto invalid_rate;
    }

    n = ngx_atoi(rate.data, rate.len - 3);

    if (n <= 0 || (uint64_t) n > WEBHOOK_WINDOW_LIMIT_MAX) {
        goto invalid_rate;
    }

    /* a zone without sync=on keeps only its own counts */

    zone = ngx_http_webhook_zone_add(cf, &zone_spec,
                                 NGX_HTTP_WEBHOOK_ZONE_LIMIT,
                                 sync ? sizeof(ngx_http_webhook_limit_entry_t)
                                      : ngx_http_webhook_limit_local_size);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (sync) {
        zone->sync = sync;
        ngx_http_webhook_redis_used(cf, sync == NGX_HTTP_WEBHOOK_SYNC_ON
                                        ? "webhook_limit_zone ... sync=on"
                                        : "webhook_limit_zone ... sync=async");
    }

    switch (p[-1]) {
    case 's':
        zone->period_ms = 1000;
        break;
    case 'm':
        zone->period_ms = 60 * 1000;
        break;
    case 'h':
        zone->period_ms = 60 * 60 * 1000;
        break;
    default:
        goto invalid_rate;
    }

    zone->limit = (uint64_t) n;
    zone->key = key;
    zone->rate = rate;

    return NGX_CONF_OK;

invalid_rate:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid rate \"%V\", expected Nr/s, Nr/m or Nr/h",
                       &rate);
    return NGX_CONF_ERROR;
}


/* webhook_limit zone=NAME [dry_run] [charge=all|verified]; */

char *
ngx_http_webhook_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t                 *value, name;
    ngx_uint_t                 i, dry_run, charge_verified;
    ngx_http_webhook_limit_t  *limit, *limits;
    ngx_http_webhook_zone_t   *zone;

    value = cf->args->elts;

    ngx_str_null(&name);
    dry_run = 0;
    charge_verified = 0;

    for (i = 1; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "zone=", 5) == 0) {
            name.data = value[i].data + 5;
            name.len = value[i].len - 5;
            continue;
        }

        if (ngx_strcmp(value[i].data, "dry_run") == 0) {
            dry_run = 1;
            continue;
        }

        if (ngx_strcmp(value[i].data, "charge=all") == 0) {
            charge_verified = 0;
            continue;
        }

        if (ngx_strcmp(value[i].data, "charge=verified") == 0) {
            charge_verified = 1;
            continue;
        }

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid parameter \"%V\"", &value[i]);
        return NGX_CONF_ERROR;
    }

    zone = ngx_http_webhook_zone_named(cf, cmd, &name,
                                       NGX_HTTP_WEBHOOK_ZONE_LIMIT);
    if (zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (wlcf->limits == NGX_CONF_UNSET_PTR) {
        wlcf->limits = ngx_array_create(cf->pool, 2,
                                        sizeof(ngx_http_webhook_limit_t));
        if (wlcf->limits == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    limits = wlcf->limits->elts;

    for (i = 0; i < wlcf->limits->nelts; i++) {
        if (limits[i].zone == zone) {
            return "has a duplicate zone";
        }
    }

    if (ngx_array_push(wlcf->limits) == NULL) {
        return NGX_CONF_ERROR;
    }

    /* keep the array in declaration order of the zones: the lock order */

    limits = wlcf->limits->elts;

    for (i = wlcf->limits->nelts - 1; i > 0; i--) {
        if (limits[i - 1].zone->index < zone->index) {
            break;
        }

        limits[i] = limits[i - 1];
    }

    limit = &limits[i];
    limit->zone = zone;
    limit->dry_run = dry_run;
    limit->charge_verified = charge_verified;

    return NGX_CONF_OK;
}


/*
 * NGX_OK: admitted (and counted, or a charge=verified slot reserved in
 * ctx->reserved).  NGX_BUSY: refused by a limit, or a key over 65535
 * bytes that cannot be counted.  NGX_DECLINED: admitted, but a dry_run
 * limit would have refused it.  NGX_ABORT: a sync=on limit cannot be
 * checked (on_error=closed and Redis unavailable); nothing was counted.
 * NGX_AGAIN: the request waits for fresh views of its synced keys (the
 * handler's LIMIT state); nothing was counted, and the check runs again
 * when they came or did not in time.
 */

ngx_int_t
ngx_http_webhook_limit_check(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx)
{
    int64_t                          now_ms, period;
    uint64_t                         previous, current;
    ngx_int_t                        rc;
    ngx_uint_t                       i, n, refused, would, would_long, best,
                                     mode, stale, reserve;
    ngx_msec_t                       fresh;
    ngx_http_webhook_zone_t         *zone;
    ngx_http_webhook_limit_t        *limits;
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_sync_t   *items;
    ngx_http_webhook_limit_entry_t  *le;
    ngx_http_webhook_limit_state_t  *st;
    ngx_http_webhook_main_conf_t    *wmcf;
    ngx_http_webhook_reservation_t  *rs;

    limits = wlcf->limits->elts;
    n = wlcf->limits->nelts;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

    st = ngx_pcalloc(r->pool, n * sizeof(ngx_http_webhook_limit_state_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    would_long = 0;
    reserve = 0;

    for (i = 0; i < n; i++) {
        reserve += limits[i].charge_verified;
    }

    if (reserve) {
        if (ctx->reserved == NULL) {
            ctx->reserved = ngx_array_create(r->pool, reserve,
                                     sizeof(ngx_http_webhook_reservation_t));
            if (ctx->reserved == NULL) {
                return NGX_ERROR;
            }
        }

        /* room for every slot now: nothing may fail under the locks */

        if (ngx_array_push_n(ctx->reserved, reserve) == NULL) {
            return NGX_ERROR;
        }

        ctx->reserved->nelts -= reserve;
    }

    /*
     * One look at Redis's state for the whole request, then per limit:
     * a sync=on limit whose wait for a fresh view failed is decided as
     * on_error= says, as if Redis were down.
     */

    mode = wmcf->redis ? ngx_http_webhook_store_mode(wmcf->redis)
                       : NGX_HTTP_WEBHOOK_REDIS_LOCAL;
    fresh = wmcf->redis ? wmcf->redis->sync_interval : 0;

    for (i = 0; i < n; i++) {
        st[i].mode = mode;

        if (mode == NGX_HTTP_WEBHOOK_REDIS_UP
            && limits[i].zone->sync == NGX_HTTP_WEBHOOK_SYNC_ON
            && ctx->limit_view == NGX_HTTP_WEBHOOK_VIEW_FAILED)
        {
            st[i].mode = wmcf->redis->on_error;
        }

        if (limits[i].zone->sync && !limits[i].dry_run
            && st[i].mode == NGX_HTTP_WEBHOOK_REDIS_CLOSED)
        {
            return NGX_ABORT;
        }
    }

    /* keys first, outside the locks: they may run variable handlers */

    for (i = 0; i < n; i++) {

        if (limits[i].zone->sync && st[i].mode != NGX_HTTP_WEBHOOK_REDIS_UP
            && st[i].mode != NGX_HTTP_WEBHOOK_REDIS_LOCAL)
        {
            /* open (or a dry_run limit, closed): not applied meanwhile */
            continue;
        }

        if (ngx_http_complex_value(r, &limits[i].zone->key, &st[i].key)
            != NGX_OK)
        {
            return NGX_ERROR;
        }

        if (st[i].key.len > 65535) {
            /* not counted, so not admitted: a long key is no way around */

            ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                          "webhook: the key of limit zone \"%V\" is longer "
                          "than 65535 bytes, refused",
                          &limits[i].zone->name);

            if (!limits[i].dry_run) {
                return NGX_BUSY;
            }

            would_long = 1;
            st[i].key.len = 0;
        }

        st[i].hash = ngx_http_webhook_zone_hash(&st[i].key);
    }

    now_ms = ngx_http_webhook_now_ms();
    refused = 0;
    would = would_long;
    stale = 0;

    for (i = 0; i < n; i++) {
        ngx_shmtx_lock(&limits[i].zone->shpool->mutex);
    }

    for (i = 0; i < n; i++) {

        /* an empty key is not limited, as with limit_req */
        if (st[i].key.len == 0) {
            continue;
        }

        zone = limits[i].zone;
        period = zone->period_ms;

        e = ngx_http_webhook_zone_lookup(zone, st[i].hash, &st[i].key);

        if (e == NULL) {
            e = ngx_http_webhook_zone_insert(zone, st[i].hash, &st[i].key,
                                             now_ms);
            if (e == NULL) {
                continue;
            }

            le = ngx_http_webhook_entry_payload(e);
            le->epoch = (uint32_t) ngx_random();
        }

        le = ngx_http_webhook_entry_payload(e);
        st[i].e = e;
        st[i].entry = le;

        webhook_window_advance(&le->own, now_ms, period);

        /* both windows are empty two periods after the current one */
        e->expire_ms = le->inflight ? NGX_HTTP_WEBHOOK_HELD
                                    : (le->own.window + 2) * period;

        st[i].cluster = 0;

        if (zone->sync) {
            /* the lookup made it the queue's head: so it must be dirty */
            le->dirty = 1;

            st[i].cluster = (st[i].mode == NGX_HTTP_WEBHOOK_REDIS_UP);

            /* sync=on: decide only with a fresh view, or after waiting
               for one exchange of the key */

            if (st[i].cluster && zone->sync == NGX_HTTP_WEBHOOK_SYNC_ON
                && ctx->limit_view == NGX_HTTP_WEBHOOK_VIEW_NONE
                && !ngx_http_webhook_limit_fresh(le, fresh))
            {
                st[i].window = le->own.window;
                st[i].current = le->own.current;
                st[i].previous = le->own.previous;
                st[i].stale = 1;
                stale++;
            }
        }

        if (stale) {
            continue;
        }

        ngx_http_webhook_limit_estimate(le, st[i].cluster, &previous,
                                        &current);

        /* the slots reserved for requests in flight count as spent */
        current += le->inflight;

        webhook_window_check(previous, current,
                             webhook_window_elapsed(&le->own, now_ms,
                                                    period),
                             period, zone->limit, &st[i].verdict);

        if (!st[i].verdict.admit) {
            if (limits[i].dry_run) {
                would = 1;

            } else {
                refused = 1;
            }
        }
    }

    if (!refused && !stale) {
        for (i = 0; i < n; i++) {
            if (st[i].entry == NULL || !st[i].verdict.admit) {
                continue;
            }

            if (!limits[i].charge_verified) {
                st[i].entry->own.current++;
                continue;
            }

            /* reserved: counted when the signature verifies */

            st[i].entry->inflight++;
            st[i].e->expire_ms = NGX_HTTP_WEBHOOK_HELD;

            rs = ngx_array_push(ctx->reserved);   /* room made above */
            rs->zone = limits[i].zone;
            rs->key = st[i].key;
            rs->hash = st[i].hash;
            rs->epoch = st[i].entry->epoch;
        }
    }

    for (i = n; i > 0; i--) {
        ngx_shmtx_unlock(&limits[i - 1].zone->shpool->mutex);
    }

    if (stale) {
        items = ngx_pcalloc(r->pool,
                            stale * sizeof(ngx_http_webhook_limit_sync_t));
        if (items == NULL) {
            return NGX_ERROR;
        }

        for (i = 0, stale = 0; i < n; i++) {
            if (st[i].stale) {
                items[stale].zone = limits[i].zone;
                items[stale].key = st[i].key;
                items[stale].hash = st[i].hash;
                items[stale].window = st[i].window;
                items[stale].current = st[i].current;
                items[stale].previous = st[i].previous;
                stale++;
            }
        }

        rc = ngx_http_webhook_limit_wait(r, ctx, items, stale);

        if (rc == NGX_AGAIN || rc == NGX_ERROR) {
            return rc;
        }

        /* could not ask (this worker is not connected): on_error decides */

        ctx->limit_view = NGX_HTTP_WEBHOOK_VIEW_FAILED;

        return ngx_http_webhook_limit_check(r, wlcf, ctx);
    }

    /* the headers report the tightest limit: the least remaining */

    best = n;

    for (i = 0; i < n; i++) {
        if (st[i].entry == NULL) {
            continue;
        }

        if (best == n
            || st[i].verdict.remaining < st[best].verdict.remaining
            || (st[i].verdict.remaining == st[best].verdict.remaining
                && st[i].verdict.reset_ms > st[best].verdict.reset_ms))
        {
            best = i;
        }
    }

    if (best < n) {
        ctx->rl_limit = limits[best].zone->limit;
        ctx->rl_remaining = refused ? 0 : st[best].verdict.remaining;
        ctx->rl_reset_ms = st[best].verdict.reset_ms;
        ctx->rl_set = 1;
    }

    if (refused) {
        return NGX_BUSY;
    }

    return would ? NGX_DECLINED : NGX_OK;
}


/*
 * The verdict settles the charge=verified slots a request holds: commit
 * counts them (a verified delivery), anything else gives them back.
 * Also from the request's pool cleanup, when it ended before a verdict.
 * A slot whose entry was evicted meanwhile (a new entry has another
 * epoch) is not given back to the new one; a commit still counts.
 */

void
ngx_http_webhook_limit_settle(ngx_http_webhook_ctx_t *ctx, ngx_uint_t commit)
{
    int64_t                          now_ms, period;
    ngx_uint_t                       i;
    ngx_http_webhook_zone_t         *zone;
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_entry_t  *le;
    ngx_http_webhook_reservation_t  *rs;

    if (ctx->reserved == NULL || ctx->reserved->nelts == 0) {
        return;
    }

    rs = ctx->reserved->elts;
    now_ms = ngx_http_webhook_now_ms();

    for (i = 0; i < ctx->reserved->nelts; i++) {
        zone = rs[i].zone;
        period = zone->period_ms;

        ngx_shmtx_lock(&zone->shpool->mutex);

        e = ngx_http_webhook_zone_lookup(zone, rs[i].hash, &rs[i].key);
        le = e ? ngx_http_webhook_entry_payload(e) : NULL;

        if (le && le->epoch == rs[i].epoch && le->inflight) {
            le->inflight--;

        } else if (commit && e == NULL) {
            e = ngx_http_webhook_zone_insert(zone, rs[i].hash, &rs[i].key,
                                             now_ms);
            if (e) {
                le = ngx_http_webhook_entry_payload(e);
                le->epoch = (uint32_t) ngx_random();
            }
        }

        if (le) {
            webhook_window_advance(&le->own, now_ms, period);

            if (commit) {
                le->own.current++;
            }

            if (zone->sync) {
                /* the lookup made it the queue's head */
                le->dirty = 1;
            }

            e->expire_ms = le->inflight ? NGX_HTTP_WEBHOOK_HELD
                                        : (le->own.window + 2) * period;
        }

        ngx_shmtx_unlock(&zone->shpool->mutex);
    }

    ctx->reserved->nelts = 0;
}


/*
 * A view of the cluster is fresh while its exchange was sent at most
 * sync_interval ago, for the key's current window or the one before.
 */

static ngx_uint_t
ngx_http_webhook_limit_fresh(ngx_http_webhook_limit_entry_t *le,
    ngx_msec_t interval)
{
    if (le->cwindow != (uint32_t) le->own.window
        && le->cwindow != (uint32_t) (le->own.window - 1))
    {
        return 0;
    }

    return NGX_HTTP_WEBHOOK_MSEC31(ngx_current_msec - le->synced) <= interval;
}


/*
 * The counts a key's check sees.  Without the cluster: this node's own.
 * With it: the cluster's counts from the last sync, plus what this node
 * counted since, window by window (the sync may be a window behind).
 */

static void
ngx_http_webhook_limit_estimate(ngx_http_webhook_limit_entry_t *le,
    ngx_uint_t cluster, uint64_t *previous, uint64_t *current)
{
    uint64_t  cc, cp, sc, sp;

    if (!cluster) {
        *previous = le->own.previous;
        *current = le->own.current;
        return;
    }

    if (le->cwindow == (uint32_t) le->own.window) {
        cc = le->ccurrent;
        cp = le->cprevious;
        sc = le->scurrent;
        sp = le->sprevious;

    } else if (le->cwindow == (uint32_t) (le->own.window - 1)) {
        cc = 0;
        cp = le->ccurrent;
        sc = 0;
        sp = le->scurrent;

    } else {
        cc = 0;
        cp = 0;
        sc = 0;
        sp = 0;
    }

    *current = cc + (le->own.current > sc ? le->own.current - sc : 0);
    *previous = cp + (le->own.previous > sp ? le->own.previous - sp : 0);
}


/*
 * The syncing worker takes the keys touched since the last round out of
 * a sync=on zone: the dirty head of the LRU queue, copied (key and own
 * counts) into items' pool, and marked clean.  Keys whose both windows
 * are over are only marked clean.
 */

ngx_int_t
ngx_http_webhook_limit_collect(ngx_http_webhook_zone_t *zone,
    ngx_array_t *items)
{
    u_char                          *key;
    int64_t                          window;
    ngx_int_t                        rc;
    ngx_queue_t                     *q;
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_sync_t   *item;
    ngx_http_webhook_limit_entry_t  *le;

    window = ngx_http_webhook_now_ms() / zone->period_ms;
    rc = NGX_OK;

    ngx_shmtx_lock(&zone->shpool->mutex);

    for (q = ngx_queue_head(&zone->sh->queue);
         q != ngx_queue_sentinel(&zone->sh->queue);
         q = ngx_queue_next(q))
    {
        e = ngx_queue_data(q, ngx_http_webhook_entry_t, queue);
        le = ngx_http_webhook_entry_payload(e);

        if (!le->dirty) {
            break;
        }

        if (le->own.window < window - 1) {
            le->dirty = 0;
            continue;
        }

        item = ngx_array_push(items);
        key = ngx_pnalloc(items->pool, e->len);

        if (item == NULL || key == NULL) {
            /* left dirty: the next round takes it */
            rc = NGX_ERROR;
            break;
        }

        le->dirty = 0;

        ngx_memcpy(key, ngx_http_webhook_entry_key(e), e->len);

        item->zone = zone;
        item->key.data = key;
        item->key.len = e->len;
        item->hash = ngx_http_webhook_entry_hash(e);
        item->window = le->own.window;
        item->current = le->own.current;
        item->previous = le->own.previous;
        item->sent = ngx_current_msec;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);

    return rc;
}


/* Redis answered a key's sync with the cluster's sums for its windows */

void
ngx_http_webhook_limit_synced(ngx_http_webhook_limit_sync_t *item,
    uint64_t current, uint64_t previous)
{
    ngx_http_webhook_zone_t         *zone;
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_entry_t  *le;

    zone = item->zone;

    ngx_shmtx_lock(&zone->shpool->mutex);

    /* not a touch: the LRU order (and the dirty head) stays as it is */

    e = ngx_http_webhook_zone_peek(zone, item->hash, &item->key);

    if (e) {
        le = ngx_http_webhook_entry_payload(e);

        /* still of use: the window synced is the key's or the one before */

        if (le->own.window >= item->window
            && le->own.window - item->window <= 1
            && !ngx_http_webhook_limit_newer(le, item))
        {
            le->synced = NGX_HTTP_WEBHOOK_MSEC31(item->sent);
            le->cwindow = (uint32_t) item->window;
            le->ccurrent = (uint32_t) ngx_min(current, 0xffffffff);
            le->cprevious = (uint32_t) ngx_min(previous, 0xffffffff);
            le->scurrent = (uint32_t) item->current;
            le->sprevious = (uint32_t) item->previous;
        }
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * Exchanges of one key may answer out of order (the syncing worker's
 * round, and another worker's exchange for a waiting request): a view
 * from an exchange sent later than this one's is kept.
 */

static ngx_uint_t
ngx_http_webhook_limit_newer(ngx_http_webhook_limit_entry_t *le,
    ngx_http_webhook_limit_sync_t *item)
{
    uint32_t  age;

    if (le->cwindow != (uint32_t) le->own.window
        && le->cwindow != (uint32_t) (le->own.window - 1))
    {
        /* no view of use */
        return 0;
    }

    if ((int64_t) le->cwindow > (int64_t) (uint32_t) item->window) {
        return 1;
    }

    /* the view's exchange was sent after this one: less than 2^30 ms */
    age = NGX_HTTP_WEBHOOK_MSEC31(item->sent - le->synced);

    return le->cwindow == (uint32_t) item->window && age != 0
           && age >= 0x40000000;
}


/* a key's sync failed: mark it dirty again (as a touch: queue head) */

void
ngx_http_webhook_limit_unsynced(ngx_http_webhook_limit_sync_t *item)
{
    ngx_http_webhook_zone_t         *zone;
    ngx_http_webhook_entry_t        *e;
    ngx_http_webhook_limit_entry_t  *le;

    zone = item->zone;

    ngx_shmtx_lock(&zone->shpool->mutex);

    e = ngx_http_webhook_zone_lookup(zone, item->hash, &item->key);

    if (e) {
        le = ngx_http_webhook_entry_payload(e);
        le->dirty = 1;
    }

    ngx_shmtx_unlock(&zone->shpool->mutex);
}


/*
 * RateLimit-Limit, -Remaining, -Reset on every response of a limited
 * location, whoever produced it (the upstream, an error_page, the
 * module's own refusal), and Retry-After on the module's 429: called by
 * the header filter (ngx_http_webhook_filter.c) for the main request.
 */

ngx_int_t
ngx_http_webhook_limit_headers(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    uint64_t  reset;

    if (!ctx->rl_set) {
        return NGX_OK;
    }

    /* whole seconds, rounded up */
    reset = (uint64_t) (ctx->rl_reset_ms + 999) / 1000;

    if (ngx_http_webhook_add_header(r, "RateLimit-Limit", ctx->rl_limit)
        != NGX_OK
        || ngx_http_webhook_add_header(r, "RateLimit-Remaining",
                                       ctx->rl_remaining)
           != NGX_OK
        || ngx_http_webhook_add_header(r, "RateLimit-Reset", reset) != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ctx->reason == NGX_HTTP_WEBHOOK_RATE_LIMITED
        && r->headers_out.status == NGX_HTTP_TOO_MANY_REQUESTS)
    {
        if (ngx_http_webhook_add_header(r, "Retry-After", reset) != NGX_OK) {
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_add_header(ngx_http_request_t *r, const char *name,
    uint64_t value)
{
    u_char           *p;
    ngx_table_elt_t  *h;

    h = ngx_list_push(&r->headers_out.headers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    p = ngx_pnalloc(r->pool, NGX_INT64_LEN);
    if (p == NULL) {
        return NGX_ERROR;
    }

    h->hash = 1;
    h->key.data = (u_char *) name;
    h->key.len = ngx_strlen(name);
    h->value.data = p;
    h->value.len = ngx_sprintf(p, "%uL", value) - p;

    return NGX_OK;
}

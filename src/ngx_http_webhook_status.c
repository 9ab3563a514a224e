
/*
 * ngx_http_webhook_module: counters and the status endpoint.
 *
 * Every location the module acts in gets a record of counters in one
 * shared memory zone, found by the location's name, so every worker's
 * requests count and the numbers survive a reload (the zone has a fixed
 * size, so nginx hands the same memory to the new configuration).
 * Counters are updated with atomic adds, without a lock; the lock is
 * only taken to add or list records.
 *
 * webhook_status renders them as JSON (jansson) or, with
 * ?format=prometheus, in the Prometheus text format.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define NGX_HTTP_WEBHOOK_STATUS_SIZE  (1024 * 1024)
#define NGX_HTTP_WEBHOOK_NAME_MAX     256


typedef struct {
    ngx_queue_t                   queue;
    size_t                        name_len;
    u_char                        name[NGX_HTTP_WEBHOOK_NAME_MAX];
    ngx_atomic_t                  verified;
    ngx_atomic_t                  duplicates;
    ngx_atomic_t                  rejected[NGX_HTTP_WEBHOOK_NREASONS];
    ngx_atomic_t                  would[NGX_HTTP_WEBHOOK_NREASONS];
    ngx_atomic_t                  last_success;
    ngx_atomic_t                  last_failure;

    /* histograms of the request and upstream times: counts, sum in ms */
    ngx_atomic_t                  latency[2][WEBHOOK_HISTOGRAM_MAX + 1];
    ngx_atomic_t                  latency_sum[2];
} ngx_http_webhook_counters_t;


struct ngx_http_webhook_stats_s {
    ngx_str_t                     name;         /* the location's URI */
    ngx_str_t                     preset;
    ngx_http_webhook_counters_t    *record;       /* set by the zone init */
};


typedef struct {
    ngx_queue_t                   records;

    /* the bucket bounds the records' histograms were counted in */
    ngx_uint_t                    nbounds;
    uint64_t                      bounds[WEBHOOK_HISTOGRAM_MAX];
} ngx_http_webhook_status_sh_t;


/* a copy taken under no lock: what one request renders */
typedef struct {
    ngx_str_t                     name;
    ngx_str_t                     preset;
    ngx_atomic_uint_t             verified;
    ngx_atomic_uint_t             duplicates;
    ngx_atomic_uint_t             rejected[NGX_HTTP_WEBHOOK_NREASONS];
    ngx_atomic_uint_t             would[NGX_HTTP_WEBHOOK_NREASONS];
    ngx_atomic_uint_t             last_success;
    ngx_atomic_uint_t             last_failure;
    ngx_atomic_uint_t             latency[2][WEBHOOK_HISTOGRAM_MAX + 1];
    ngx_atomic_uint_t             latency_sum[2];
} ngx_http_webhook_snapshot_t;


typedef struct {
    ngx_str_t                     name;
    ngx_uint_t                    type;
    ngx_uint_t                    entries;
    ngx_uint_t                    evictions;
    ngx_uint_t                    evicted_unexpired;
} ngx_http_webhook_zone_snapshot_t;


/* a Prometheus metric per location: a field of the snapshot */
typedef struct {
    const char                   *name;
    const char                   *help;
    const char                   *type;
    size_t                        offset;
    unsigned                      preset:1;     /* labelled with the preset */
    unsigned                      reasons:1;    /* an array, one per reason */
} ngx_http_webhook_loc_metric_t;


/* a Prometheus metric per zone */
typedef struct {
    const char                   *name;
    const char                   *help;
    const char                   *type;
    size_t                        offset;
} ngx_http_webhook_zone_metric_t;


static ngx_int_t ngx_http_webhook_status_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static ngx_int_t ngx_http_webhook_status_handler(ngx_http_request_t *r);
static ngx_array_t *ngx_http_webhook_snapshot(ngx_http_request_t *r,
    ngx_http_webhook_main_conf_t *wmcf);
static ngx_array_t *ngx_http_webhook_zone_snapshot(ngx_http_request_t *r,
    ngx_http_webhook_main_conf_t *wmcf);
static ngx_int_t ngx_http_webhook_status_json(ngx_http_request_t *r,
    ngx_array_t *locs, ngx_array_t *zones,
    ngx_http_webhook_store_status_t *rs, ngx_str_t *out);
static ngx_int_t ngx_http_webhook_status_prometheus(ngx_http_request_t *r,
    ngx_array_t *locs, ngx_array_t *zones,
    ngx_http_webhook_store_status_t *rs, ngx_str_t *out);


static void ngx_http_webhook_latency_reset(
    ngx_http_webhook_main_conf_t *wmcf, ngx_http_webhook_status_sh_t *sh);
static uint64_t *ngx_http_webhook_latency_grid(
    ngx_http_webhook_main_conf_t *wmcf, ngx_uint_t *n);
static uint64_t *ngx_http_webhook_latency_shown(ngx_http_request_t *r,
    ngx_uint_t *n);
static json_t *ngx_http_webhook_latency_json(ngx_http_request_t *r,
    ngx_atomic_uint_t *counts, ngx_atomic_uint_t sum);
static u_char *ngx_http_webhook_latency_prometheus(ngx_http_request_t *r,
    u_char *p, ngx_array_t *locs);


#define ngx_http_webhook_snap(f)  offsetof(ngx_http_webhook_snapshot_t, f)
#define ngx_http_webhook_zsnap(f) offsetof(ngx_http_webhook_zone_snapshot_t, f)


/* the documented names (docs/status.md), in the order they are rendered */

static ngx_http_webhook_loc_metric_t  ngx_http_webhook_loc_metrics[] = {

    { "nginx_webhook_verified_total",
      "Requests whose signature verified.", "counter",
      ngx_http_webhook_snap(verified), 1, 0 },

    { "nginx_webhook_rejected_total",
      "Requests refused, by reason.", "counter",
      ngx_http_webhook_snap(rejected), 1, 1 },

    { "nginx_webhook_duplicates_total",
      "Deliveries seen before.", "counter",
      ngx_http_webhook_snap(duplicates), 1, 0 },

    { "nginx_webhook_monitor_would_reject_total",
      "Requests monitor mode or dry_run let through that would have been "
      "refused, by reason.", "counter",
      ngx_http_webhook_snap(would), 1, 1 },

    { "nginx_webhook_last_success_timestamp_seconds",
      "When a request last passed.", "gauge",
      ngx_http_webhook_snap(last_success), 0, 0 },

    { "nginx_webhook_last_failure_timestamp_seconds",
      "When a request was last refused.", "gauge",
      ngx_http_webhook_snap(last_failure), 0, 0 },
};


static ngx_http_webhook_zone_metric_t  ngx_http_webhook_zone_metrics[] = {

    { "nginx_webhook_zone_entries",
      "Entries in a shared memory zone.", "gauge",
      ngx_http_webhook_zsnap(entries) },

    { "nginx_webhook_zone_evictions_total",
      "Entries evicted from a full zone.", "counter",
      ngx_http_webhook_zsnap(evictions) },

    { "nginx_webhook_zone_evicted_unexpired_total",
      "Evicted entries that still mattered.", "counter",
      ngx_http_webhook_zsnap(evicted_unexpired) },
};


/* the two histograms of a location */

#define NGX_HTTP_WEBHOOK_REQUEST_TIME   0
#define NGX_HTTP_WEBHOOK_UPSTREAM_TIME  1

static const char  *ngx_http_webhook_latency_names[2][3] = {
    { "nginx_webhook_request_duration_seconds",
      "Request time, from the first byte read to the log phase.",
      "request_time" },
    { "nginx_webhook_upstream_duration_seconds",
      "Upstream response time, summed over the upstreams tried.",
      "upstream_response_time" },
};


/* the default buckets, in ms: 5 ms to 30 s */

static uint64_t  ngx_http_webhook_default_buckets[] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2000, 5000, 10000, 30000
};


static ngx_str_t  ngx_http_webhook_status_zone_name =
    ngx_string("webhook_status");


/* webhook_status; */

char *
ngx_http_webhook_status(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_http_core_loc_conf_t  *clcf;

    if (wlcf->status != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    /* the status location itself is neither verified nor counted */
    wlcf->status = 1;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    clcf->handler = ngx_http_webhook_status_handler;

    return NGX_CONF_OK;
}


/* a location that counts: called from merge for every active location */

ngx_int_t
ngx_http_webhook_stats_register(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *wlcf)
{
    ngx_http_webhook_stats_t       *st, **sp;
    ngx_http_core_loc_conf_t       *clcf;
    ngx_http_webhook_main_conf_t   *wmcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    /* server level: no location is named there */
    if (clcf->name.len == 0) {
        return NGX_OK;
    }

    st = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_stats_t));
    if (st == NULL) {
        return NGX_ERROR;
    }

    st->name = clcf->name;
    st->name.len = ngx_min(st->name.len, NGX_HTTP_WEBHOOK_NAME_MAX);

    if (wlcf->preset) {
        st->preset = wlcf->preset->name;
    }

    wlcf->stats = st;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    sp = ngx_array_push(&wmcf->stats);
    if (sp == NULL) {
        return NGX_ERROR;
    }

    *sp = st;

    return NGX_OK;
}


/* postconfiguration: one zone for every counted location */

ngx_int_t
ngx_http_webhook_status_init(ngx_conf_t *cf)
{
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    wmcf->status_zone = ngx_shared_memory_add(cf,
                                          &ngx_http_webhook_status_zone_name,
                                          NGX_HTTP_WEBHOOK_STATUS_SIZE,
                                          &ngx_http_webhook_module);
    if (wmcf->status_zone == NULL) {
        return NGX_ERROR;
    }

    wmcf->status_zone->init = ngx_http_webhook_status_init_zone;
    wmcf->status_zone->data = wmcf;

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_status_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_webhook_main_conf_t  *owmcf = data;

    ngx_uint_t                     i;
    ngx_queue_t                   *q;
    ngx_slab_pool_t               *shpool;
    ngx_http_webhook_stats_t     **sp;
    ngx_http_webhook_counters_t     *rec;
    ngx_http_webhook_status_sh_t  *sh;
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (owmcf || shm_zone->shm.exists) {
        sh = shpool->data;

    } else {
        sh = ngx_slab_calloc(shpool, sizeof(ngx_http_webhook_status_sh_t));
        if (sh == NULL) {
            return NGX_ERROR;
        }

        ngx_queue_init(&sh->records);
        shpool->data = sh;
        shpool->log_nomem = 0;
    }

    wmcf->status_pool = shpool;
    wmcf->status_sh = sh;

    ngx_http_webhook_latency_reset(wmcf, sh);

    /*
     * Find or add each location's record by name.  Workers of the old
     * configuration may be listing records right now: hold the lock.
     */

    ngx_shmtx_lock(&shpool->mutex);

    sp = wmcf->stats.elts;

    for (i = 0; i < wmcf->stats.nelts; i++) {

        rec = NULL;

        for (q = ngx_queue_head(&sh->records);
             q != ngx_queue_sentinel(&sh->records);
             q = ngx_queue_next(q))
        {
            rec = ngx_queue_data(q, ngx_http_webhook_counters_t, queue);

            if (rec->name_len == sp[i]->name.len
                && ngx_strncmp(rec->name, sp[i]->name.data, rec->name_len)
                   == 0)
            {
                break;
            }

            rec = NULL;
        }

        if (rec == NULL) {
            rec = ngx_slab_calloc_locked(shpool,
                                         sizeof(ngx_http_webhook_counters_t));
            if (rec == NULL) {
                ngx_log_error(NGX_LOG_WARN, shm_zone->shm.log, 0,
                              "webhook: no room to count location \"%V\"",
                              &sp[i]->name);
                continue;
            }

            rec->name_len = sp[i]->name.len;
            ngx_memcpy(rec->name, sp[i]->name.data, rec->name_len);
            ngx_queue_insert_tail(&sh->records, &rec->queue);
        }

        sp[i]->record = rec;
    }

    ngx_shmtx_unlock(&shpool->mutex);

    return NGX_OK;
}


void
ngx_http_webhook_stats_count(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_counters_t  *rec;

    if (ctx->conf->stats == NULL || ctx->conf->stats->record == NULL) {
        return;
    }

    rec = ctx->conf->stats->record;

    if (ctx->verified) {
        (void) ngx_atomic_fetch_add(&rec->verified, 1);
    }

    if (ctx->duplicate) {
        (void) ngx_atomic_fetch_add(&rec->duplicates, 1);
    }

    if (ctx->reason != NGX_HTTP_WEBHOOK_PASS) {
        (void) ngx_atomic_fetch_add(&rec->rejected[ctx->reason], 1);
        rec->last_failure = ngx_time();
        return;
    }

    if (ctx->would_reason != NGX_HTTP_WEBHOOK_PASS) {
        (void) ngx_atomic_fetch_add(&rec->would[ctx->would_reason], 1);
        rec->last_failure = ngx_time();
        return;
    }

    rec->last_success = ngx_time();
}


/*
 * A request that passed the checks and was refused later, by the
 * content handler (webhook_enqueue: queue_unavailable).
 */

void
ngx_http_webhook_stats_refused(ngx_http_webhook_ctx_t *ctx)
{
    ngx_http_webhook_counters_t  *rec;

    if (ctx->conf->stats == NULL || ctx->conf->stats->record == NULL) {
        return;
    }

    rec = ctx->conf->stats->record;

    (void) ngx_atomic_fetch_add(&rec->rejected[ctx->reason], 1);
    rec->last_failure = ngx_time();
}


static ngx_int_t
ngx_http_webhook_status_handler(ngx_http_request_t *r)
{
    ngx_int_t                         rc;
    ngx_str_t                         body, type, format;
    ngx_array_t                      *locs, *zones;
    ngx_http_complex_value_t          cv;
    ngx_http_webhook_main_conf_t     *wmcf;
    ngx_http_webhook_loc_conf_t      *wlcf;
    ngx_http_webhook_store_status_t   rs;

    /* the allowlist guards the counters too, inherited or set here */

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    if (wlcf->allow && !ngx_http_webhook_allowed(r, wlcf)) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "webhook rejected: ip_not_allowed (403), status "
                      "location, client %V", &r->connection->addr_text);

        return ngx_http_webhook_reject_content(r,
                                           NGX_HTTP_WEBHOOK_IP_NOT_ALLOWED);
    }

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

    locs = ngx_http_webhook_snapshot(r, wmcf);
    zones = ngx_http_webhook_zone_snapshot(r, wmcf);

    if (locs == NULL || zones == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_http_webhook_store_status(wmcf, &rs, r->pool);

    if (ngx_http_arg(r, (u_char *) "format", 6, &format) == NGX_OK
        && format.len == 10
        && ngx_strncmp(format.data, "prometheus", 10) == 0)
    {
        rc = ngx_http_webhook_status_prometheus(r, locs, zones, &rs, &body);

        if (rc == NGX_OK) {
            rc = ngx_http_webhook_queue_prometheus(r->pool, &body);
        }
        ngx_str_set(&type, "text/plain; version=0.0.4");

    } else {
        rc = ngx_http_webhook_status_json(r, locs, zones, &rs, &body);
        ngx_str_set(&type, "application/json");
    }

    if (rc != NGX_OK) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    ngx_memzero(&cv, sizeof(ngx_http_complex_value_t));
    cv.value = body;

    return ngx_http_send_response(r, NGX_HTTP_OK, &type, &cv);
}


/* the current configuration's locations, each record once */

static ngx_array_t *
ngx_http_webhook_snapshot(ngx_http_request_t *r,
    ngx_http_webhook_main_conf_t *wmcf)
{
    ngx_uint_t                    i, j, dup;
    ngx_array_t                  *a;
    ngx_http_webhook_stats_t    **sp;
    ngx_http_webhook_counters_t    *rec;
    ngx_http_webhook_snapshot_t  *s, *ss;

    a = ngx_array_create(r->pool, wmcf->stats.nelts + 1,
                         sizeof(ngx_http_webhook_snapshot_t));
    if (a == NULL) {
        return NULL;
    }

    sp = wmcf->stats.elts;

    for (i = 0; i < wmcf->stats.nelts; i++) {

        rec = sp[i]->record;

        if (rec == NULL) {
            continue;
        }

        ss = a->elts;
        dup = 0;

        for (j = 0; j < a->nelts; j++) {
            if (ss[j].name.len == sp[i]->name.len
                && ngx_strncmp(ss[j].name.data, sp[i]->name.data,
                               ss[j].name.len) == 0)
            {
                dup = 1;
                break;
            }
        }

        if (dup) {
            continue;
        }

        s = ngx_array_push(a);
        if (s == NULL) {
            return NULL;
        }

        s->name = sp[i]->name;
        s->preset = sp[i]->preset;
        s->verified = rec->verified;
        s->duplicates = rec->duplicates;
        s->last_success = rec->last_success;
        s->last_failure = rec->last_failure;

        for (j = 0; j < NGX_HTTP_WEBHOOK_NREASONS; j++) {
            s->rejected[j] = rec->rejected[j];
            s->would[j] = rec->would[j];
        }

        for (j = 0; j <= WEBHOOK_HISTOGRAM_MAX; j++) {
            s->latency[0][j] = rec->latency[0][j];
            s->latency[1][j] = rec->latency[1][j];
        }

        s->latency_sum[0] = rec->latency_sum[0];
        s->latency_sum[1] = rec->latency_sum[1];
    }

    return a;
}


static ngx_array_t *
ngx_http_webhook_zone_snapshot(ngx_http_request_t *r,
    ngx_http_webhook_main_conf_t *wmcf)
{
    ngx_uint_t                         i;
    ngx_array_t                       *a;
    ngx_http_webhook_zone_t          **zp;
    ngx_http_webhook_zone_snapshot_t  *s;

    a = ngx_array_create(r->pool, wmcf->zones.nelts + 1,
                         sizeof(ngx_http_webhook_zone_snapshot_t));
    if (a == NULL) {
        return NULL;
    }

    zp = wmcf->zones.elts;

    for (i = 0; i < wmcf->zones.nelts; i++) {
        s = ngx_array_push(a);
        if (s == NULL) {
            return NULL;
        }

        s->name = zp[i]->name;
        s->type = zp[i]->type;

        ngx_shmtx_lock(&zp[i]->shpool->mutex);

        s->entries = zp[i]->sh->entries;
        s->evictions = zp[i]->sh->evictions;
        s->evicted_unexpired = zp[i]->sh->evicted_unexpired;

        ngx_shmtx_unlock(&zp[i]->shpool->mutex);
    }

    return a;
}


static ngx_int_t
ngx_http_webhook_status_json(ngx_http_request_t *r, ngx_array_t *locs,
    ngx_array_t *zones, ngx_http_webhook_store_status_t *rs, ngx_str_t *out)
{
    char                              *text, name[NGX_HTTP_WEBHOOK_NAME_MAX + 1];
    json_t                            *root, *jlocs, *jzones, *loc, *rej,
                                      *would, *z, *redis;
    ngx_uint_t                         i, j;
    ngx_http_webhook_snapshot_t       *s;
    ngx_http_webhook_zone_snapshot_t  *zs;

    root = json_object();
    jlocs = json_object();
    jzones = json_object();
    redis = json_object();

    if (root == NULL || jlocs == NULL || jzones == NULL || redis == NULL) {
        goto failed;
    }

    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "module_version",
                        json_string(NGX_HTTP_WEBHOOK_VERSION));
    json_object_set_new(root, "locations", jlocs);
    json_object_set_new(root, "zones", jzones);
    json_object_set_new(root, "redis", redis);

    s = locs->elts;

    for (i = 0; i < locs->nelts; i++) {
        loc = json_object();
        rej = json_object();
        would = json_object();

        if (loc == NULL || rej == NULL || would == NULL) {
            goto failed;
        }

        json_object_set_new(loc, "preset",
                            json_stringn((char *) s[i].preset.data,
                                         s[i].preset.len));
        json_object_set_new(loc, "verified", json_integer(s[i].verified));
        json_object_set_new(loc, "rejected", rej);
        json_object_set_new(loc, "duplicates",
                            json_integer(s[i].duplicates));
        json_object_set_new(loc, "monitor_would_reject", would);
        json_object_set_new(loc, "last_success",
                            json_integer(s[i].last_success));
        json_object_set_new(loc, "last_failure",
                            json_integer(s[i].last_failure));

        for (j = 0; j < 2; j++) {
            json_object_set_new(loc, ngx_http_webhook_latency_names[j][2],
                                ngx_http_webhook_latency_json(r,
                                    s[i].latency[j], s[i].latency_sum[j]));
        }

        for (j = 1; j < NGX_HTTP_WEBHOOK_NREASONS; j++) {
            ngx_memcpy(name, ngx_http_webhook_reason_name(j)->data,
                       ngx_http_webhook_reason_name(j)->len);
            name[ngx_http_webhook_reason_name(j)->len] = '\0';

            json_object_set_new(rej, name, json_integer(s[i].rejected[j]));
            json_object_set_new(would, name, json_integer(s[i].would[j]));
        }

        /* jansson keys are C strings; the name is bounded above */
        ngx_memcpy(name, s[i].name.data, s[i].name.len);
        name[s[i].name.len] = '\0';

        json_object_set_new(jlocs, name, loc);
    }

    zs = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        z = json_object();
        if (z == NULL) {
            goto failed;
        }

        json_object_set_new(z, "type", json_string(
                            zs[i].type == NGX_HTTP_WEBHOOK_ZONE_LIMIT
                            ? "limit" : "replay"));
        json_object_set_new(z, "entries", json_integer(zs[i].entries));
        json_object_set_new(z, "evictions", json_integer(zs[i].evictions));
        json_object_set_new(z, "evicted_unexpired",
                            json_integer(zs[i].evicted_unexpired));

        ngx_memcpy(name, zs[i].name.data,
                   ngx_min(zs[i].name.len, NGX_HTTP_WEBHOOK_NAME_MAX));
        name[ngx_min(zs[i].name.len, NGX_HTTP_WEBHOOK_NAME_MAX)] = '\0';

        json_object_set_new(jzones, name, z);
    }

    json_object_set_new(redis, "configured",
                        json_boolean(rs->configured));
    json_object_set_new(redis, "connected_workers",
                        json_integer(rs->connected));
    json_object_set_new(redis, "workers", json_integer(rs->workers));
    json_object_set_new(redis, "syncs", json_integer(rs->syncs));
    json_object_set_new(redis, "failures", json_integer(rs->failures));
    json_object_set_new(redis, "last_error",
                        json_stringn((char *) rs->last_error.data,
                                     rs->last_error.len));
    json_object_set_new(redis, "leader_pid", json_integer(rs->leader));

    json_object_set_new(root, "queues", ngx_http_webhook_queue_json());

    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);

    if (text == NULL) {
        return NGX_ERROR;
    }

    out->len = ngx_strlen(text) + 1;
    out->data = ngx_pnalloc(r->pool, out->len);

    if (out->data) {
        ngx_memcpy(out->data, text, out->len - 1);
        out->data[out->len - 1] = LF;
    }

    free(text);

    return out->data ? NGX_OK : NGX_ERROR;

failed:

    json_decref(root);
    json_decref(jlocs);
    json_decref(jzones);
    json_decref(redis);

    return NGX_ERROR;
}


/* a Prometheus label value: backslash, quote and newline escaped */

static u_char *
ngx_http_webhook_label(u_char *p, ngx_str_t *s)
{
    size_t  i;

    for (i = 0; i < s->len; i++) {
        switch (s->data[i]) {
        case '\\':
        case '"':
            *p++ = '\\';
            *p++ = s->data[i];
            break;
        case LF:
            *p++ = '\\';
            *p++ = 'n';
            break;
        default:
            *p++ = s->data[i];
        }
    }

    return p;
}


static ngx_int_t
ngx_http_webhook_status_prometheus(ngx_http_request_t *r, ngx_array_t *locs,
    ngx_array_t *zones, ngx_http_webhook_store_status_t *rs, ngx_str_t *out)
{
    u_char                            *p;
    size_t                             size;
    ngx_uint_t                         i, j, m;
    ngx_atomic_uint_t                 *values;
    ngx_http_webhook_snapshot_t       *s;
    ngx_http_webhook_zone_snapshot_t  *zs;
    ngx_http_webhook_loc_metric_t     *lm;
    ngx_http_webhook_zone_metric_t    *zm;

    /* generous: every line bounded by its escaped labels and a number */

    size = 4096;
    s = locs->elts;

    for (i = 0; i < locs->nelts; i++) {
        size += (6 + 2 * NGX_HTTP_WEBHOOK_NREASONS)
                * (160 + 2 * s[i].name.len + s[i].preset.len + NGX_INT64_LEN);
    }

    for (i = 0; i < locs->nelts; i++) {
        size += 2 * (WEBHOOK_HISTOGRAM_MAX + 3)
                * (160 + 2 * s[i].name.len + 2 * s[i].preset.len
                   + 2 * NGX_INT64_LEN);
    }

    zs = zones->elts;

    for (i = 0; i < zones->nelts; i++) {
        size += 3 * (96 + 2 * zs[i].name.len + NGX_INT64_LEN);
    }

    p = ngx_pnalloc(r->pool, size);
    if (p == NULL) {
        return NGX_ERROR;
    }

    out->data = p;

#define webhook_metric_head(name, help, type)                                 \
    p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type)

    for (m = 0; m < sizeof(ngx_http_webhook_loc_metrics)
                    / sizeof(ngx_http_webhook_loc_metrics[0]); m++)
    {
        lm = &ngx_http_webhook_loc_metrics[m];

        webhook_metric_head(lm->name, lm->help, lm->type);

        for (i = 0; i < locs->nelts; i++) {

            values = (ngx_atomic_uint_t *) ((u_char *) &s[i] + lm->offset);

            /* reasons count from 1: 0 is "passed" */
            for (j = lm->reasons ? 1 : 0;
                 j < (lm->reasons ? NGX_HTTP_WEBHOOK_NREASONS : 1);
                 j++)
            {
                p = ngx_sprintf(p, "%s{location=\"", lm->name);
                p = ngx_http_webhook_label(p, &s[i].name);

                if (lm->preset) {
                    p = ngx_sprintf(p, "\",preset=\"");
                    p = ngx_http_webhook_label(p, &s[i].preset);
                }

                if (lm->reasons) {
                    p = ngx_sprintf(p, "\",reason=\"%V",
                                    ngx_http_webhook_reason_name(j));
                }

                p = ngx_sprintf(p, "\"} %uA\n", values[j]);
            }
        }
    }

    p = ngx_http_webhook_latency_prometheus(r, p, locs);

    for (m = 0; m < sizeof(ngx_http_webhook_zone_metrics)
                    / sizeof(ngx_http_webhook_zone_metrics[0]); m++)
    {
        zm = &ngx_http_webhook_zone_metrics[m];

        webhook_metric_head(zm->name, zm->help, zm->type);

        for (i = 0; i < zones->nelts; i++) {
            p = ngx_sprintf(p, "%s{zone=\"", zm->name);
            p = ngx_http_webhook_label(p, &zs[i].name);
            p = ngx_sprintf(p, "\"} %ui\n",
                            *(ngx_uint_t *) ((u_char *) &zs[i] + zm->offset));
        }
    }

    /* up: 1 when every worker that should be connected is, as "up" is */

    webhook_metric_head("nginx_webhook_redis_up",
                        "1 when every worker is connected to Redis, else 0 "
                        "(0 without Redis).", "gauge");
    p = ngx_sprintf(p, "nginx_webhook_redis_up %d\n",
                    rs->configured && rs->workers
                    && rs->connected >= rs->workers);

    webhook_metric_head("nginx_webhook_redis_connected_workers",
                        "Worker processes connected to Redis now.",
                        "gauge");
    p = ngx_sprintf(p, "nginx_webhook_redis_connected_workers %ui\n",
                    rs->connected);

    webhook_metric_head("nginx_webhook_redis_workers",
                        "Worker processes that should be connected to "
                        "Redis (0 without Redis).", "gauge");
    p = ngx_sprintf(p, "nginx_webhook_redis_workers %ui\n",
                    rs->configured ? rs->workers : 0);

    webhook_metric_head("nginx_webhook_redis_syncs_total",
                        "Rate-limit syncs with Redis.", "counter");
    p = ngx_sprintf(p, "nginx_webhook_redis_syncs_total %ui\n", rs->syncs);

    webhook_metric_head("nginx_webhook_redis_failures_total",
                        "Failed Redis operations.", "counter");
    p = ngx_sprintf(p, "nginx_webhook_redis_failures_total %ui\n",
                    rs->failures);

    webhook_metric_head("nginx_webhook_build_info",
                        "ngx_http_webhook_module/" NGX_HTTP_WEBHOOK_VERSION,
                        "gauge");
    p = ngx_sprintf(p, "nginx_webhook_build_info{version=\"%s\"} 1\n",
                    NGX_HTTP_WEBHOOK_VERSION);

#undef webhook_metric_head

    out->len = p - out->data;

    return NGX_OK;
}


/*
 * Latency histograms.  The log phase adds each request's time to its
 * location's record with atomic adds, without a lock.  The bounds counted
 * are webhook_latency_buckets at http level (the defaults without it); a
 * webhook_status location may show a subset of them.
 */

/* webhook_latency_buckets 5ms 10ms ... ; */

char *
ngx_http_webhook_latency_buckets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    uint64_t                      *b;
    ngx_str_t                     *value;
    ngx_msec_t                     ms;
    ngx_uint_t                     i;
    ngx_array_t                   *a, **ap;
    ngx_http_webhook_main_conf_t  *wmcf;

    if (cf->cmd_type == NGX_HTTP_MAIN_CONF) {
        wmcf = ngx_http_conf_get_module_main_conf(cf,
                                                  ngx_http_webhook_module);
        ap = &wmcf->buckets;

        if (*ap != NULL) {
            return "is duplicate";
        }

    } else {
        ap = &wlcf->buckets;

        if (*ap != NGX_CONF_UNSET_PTR) {
            return "is duplicate";
        }
    }

    if (cf->args->nelts - 1 > WEBHOOK_HISTOGRAM_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "at most %d buckets", WEBHOOK_HISTOGRAM_MAX);
        return NGX_CONF_ERROR;
    }

    a = ngx_array_create(cf->pool, cf->args->nelts - 1, sizeof(uint64_t));
    if (a == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    for (i = 1; i < cf->args->nelts; i++) {
        ms = ngx_parse_time(&value[i], 0);

        if (ms == (ngx_msec_t) NGX_ERROR || ms == 0 || ms > 3600 * 1000) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid bucket \"%V\": a time from 1ms "
                               "to 1h, such as 5ms, 2.5s is written 2500ms",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        if (a->nelts && ms <= ((uint64_t *) a->elts)[a->nelts - 1]) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "bucket \"%V\" is not above the one before "
                               "it: list the buckets in increasing order",
                               &value[i]);
            return NGX_CONF_ERROR;
        }

        b = ngx_array_push(a);
        if (b == NULL) {
            return NGX_CONF_ERROR;
        }

        *b = ms;
    }

    *ap = a;

    return NGX_CONF_OK;
}


/* a location's own list: only in a webhook_status location, a subset */

char *
ngx_http_webhook_latency_merge(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *prev, ngx_http_webhook_loc_conf_t *conf)
{
    uint64_t                      *grid, *b;
    ngx_uint_t                     i, k, n;
    ngx_http_core_loc_conf_t      *clcf;
    ngx_http_webhook_main_conf_t  *wmcf;

    /* not inherited: it belongs to the status location it is written in */

    if (conf->buckets == NGX_CONF_UNSET_PTR) {
        conf->buckets = NULL;
        return NGX_CONF_OK;
    }

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (!conf->status) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhook_latency_buckets\" in location \"%V\" "
                      "without \"webhook_status\": in a location it chooses "
                      "the buckets a status page shows; the buckets "
                      "counted are set at http level", &clcf->name);
        return NGX_CONF_ERROR;
    }

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);
    grid = ngx_http_webhook_latency_grid(wmcf, &n);

    b = conf->buckets->elts;

    for (i = 0; i < conf->buckets->nelts; i++) {
        k = webhook_histogram_index(grid, n, b[i]);

        if (k == n || grid[k] != b[i]) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"webhook_latency_buckets\" in location \"%V\": "
                          "%uLms is not one of the buckets counted; "
                          "choose among the http-level "
                          "\"webhook_latency_buckets\" (by default 5ms "
                          "10ms 25ms 50ms 100ms 250ms 500ms 1s 2s 5s 10s "
                          "30s)", &clcf->name, b[i]);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


static uint64_t *
ngx_http_webhook_latency_grid(ngx_http_webhook_main_conf_t *wmcf,
    ngx_uint_t *n)
{
    if (wmcf->buckets) {
        *n = wmcf->buckets->nelts;
        return wmcf->buckets->elts;
    }

    *n = sizeof(ngx_http_webhook_default_buckets)
         / sizeof(ngx_http_webhook_default_buckets[0]);

    return ngx_http_webhook_default_buckets;
}


/* the bounds a status request shows: its location's, or all counted */

static uint64_t *
ngx_http_webhook_latency_shown(ngx_http_request_t *r, ngx_uint_t *n)
{
    ngx_http_webhook_loc_conf_t   *wlcf;
    ngx_http_webhook_main_conf_t  *wmcf;

    wlcf = ngx_http_get_module_loc_conf(r, ngx_http_webhook_module);

    if (wlcf->buckets) {
        *n = wlcf->buckets->nelts;
        return wlcf->buckets->elts;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

    return ngx_http_webhook_latency_grid(wmcf, n);
}


/*
 * Zone init, under no lock yet: counts kept under other bounds than the
 * new configuration's would land in the wrong buckets; they start over.
 */

static void
ngx_http_webhook_latency_reset(ngx_http_webhook_main_conf_t *wmcf,
    ngx_http_webhook_status_sh_t *sh)
{
    uint64_t                     *grid;
    ngx_uint_t                    n;
    ngx_queue_t                  *q;
    ngx_http_webhook_counters_t  *rec;

    grid = ngx_http_webhook_latency_grid(wmcf, &n);

    if (sh->nbounds == n
        && ngx_memcmp(sh->bounds, grid, n * sizeof(uint64_t)) == 0)
    {
        return;
    }

    ngx_shmtx_lock(&wmcf->status_pool->mutex);

    for (q = ngx_queue_head(&sh->records);
         q != ngx_queue_sentinel(&sh->records);
         q = ngx_queue_next(q))
    {
        rec = ngx_queue_data(q, ngx_http_webhook_counters_t, queue);

        ngx_memzero((void *) rec->latency, sizeof(rec->latency));
        ngx_memzero((void *) rec->latency_sum, sizeof(rec->latency_sum));
    }

    sh->nbounds = n;
    ngx_memcpy(sh->bounds, grid, n * sizeof(uint64_t));

    ngx_shmtx_unlock(&wmcf->status_pool->mutex);
}


static void
ngx_http_webhook_latency_add(ngx_http_webhook_counters_t *rec,
    ngx_uint_t which, uint64_t *grid, ngx_uint_t n, ngx_msec_int_t ms)
{
    ms = ngx_max(ms, 0);

    (void) ngx_atomic_fetch_add(
                   &rec->latency[which][webhook_histogram_index(grid, n, ms)],
                   1);
    (void) ngx_atomic_fetch_add(&rec->latency_sum[which], ms);
}


/* log phase: the request's time, and its upstreams' if it went there */

void
ngx_http_webhook_stats_latency(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx)
{
    uint64_t                      *grid;
    ngx_uint_t                     i, n, upstream;
    ngx_time_t                    *tp;
    ngx_msec_int_t                 ms, total;
    ngx_http_upstream_state_t     *state;
    ngx_http_webhook_counters_t   *rec;
    ngx_http_webhook_main_conf_t  *wmcf;

    if (ctx->conf->stats == NULL || ctx->conf->stats->record == NULL) {
        return;
    }

    rec = ctx->conf->stats->record;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);
    grid = ngx_http_webhook_latency_grid(wmcf, &n);

    /* as $request_time */

    tp = ngx_timeofday();
    ms = (ngx_msec_int_t) ((tp->sec - r->start_sec) * 1000
                           + (tp->msec - r->start_msec));

    ngx_http_webhook_latency_add(rec, NGX_HTTP_WEBHOOK_REQUEST_TIME, grid, n,
                                 ms);

    /* as the sum of $upstream_response_time's values */

    if (r->upstream_states == NULL || r->upstream_states->nelts == 0) {
        return;
    }

    state = r->upstream_states->elts;
    total = 0;
    upstream = 0;

    for (i = 0; i < r->upstream_states->nelts; i++) {
        ms = (ngx_msec_int_t) state[i].response_time;

        if (state[i].peer == NULL || ms == -1) {
            continue;
        }

        total += ngx_max(ms, 0);
        upstream = 1;
    }

    if (upstream) {
        ngx_http_webhook_latency_add(rec, NGX_HTTP_WEBHOOK_UPSTREAM_TIME,
                                     grid, n, total);
    }
}


/* a bound as Prometheus writes le: seconds, no trailing zeros */

static u_char *
ngx_http_webhook_seconds(u_char *p, uint64_t ms)
{
    p = ngx_sprintf(p, "%uL", ms / 1000);

    if (ms % 1000) {
        p = ngx_sprintf(p, ".%03uL", ms % 1000);

        while (p[-1] == '0') {
            p--;
        }
    }

    return p;
}


/* the cumulative count at each shown bound, from the counted ones */

static uint64_t
ngx_http_webhook_cumulative(ngx_http_request_t *r, ngx_atomic_uint_t *counts,
    uint64_t bound)
{
    uint64_t                      *grid, c;
    ngx_uint_t                     i, n;
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);
    grid = ngx_http_webhook_latency_grid(wmcf, &n);

    c = 0;

    for (i = 0; i <= n; i++) {
        if (i < n && grid[i] > bound) {
            break;
        }

        if (i == n && bound != (uint64_t) -1) {
            break;
        }

        c += counts[i];
    }

    return c;
}


static json_t *
ngx_http_webhook_latency_json(ngx_http_request_t *r,
    ngx_atomic_uint_t *counts, ngx_atomic_uint_t sum)
{
    u_char                         le[NGX_INT64_LEN + 8], *p;
    double                         v;
    json_t                        *h, *buckets;
    uint64_t                      *grid, *shown, c[WEBHOOK_HISTOGRAM_MAX + 1];
    ngx_uint_t                     i, n, nshown;
    ngx_http_webhook_main_conf_t  *wmcf;

    static const double   q[] = { 0.5, 0.95, 0.99 };
    static const char    *qname[] = { "p50", "p95", "p99" };

    h = json_object();
    buckets = json_object();

    if (h == NULL || buckets == NULL) {
        json_decref(h);
        json_decref(buckets);
        return NULL;
    }

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);
    grid = ngx_http_webhook_latency_grid(wmcf, &n);

    for (i = 0; i <= n; i++) {
        c[i] = counts[i];
    }

    json_object_set_new(h, "count", json_integer(
                        ngx_http_webhook_cumulative(r, counts, (uint64_t) -1)));
    json_object_set_new(h, "sum", json_real((double) sum / 1000));

    /* estimates from every bucket counted, whichever are shown */

    for (i = 0; i < 3; i++) {
        v = webhook_histogram_quantile(grid, n, c, q[i]);
        json_object_set_new(h, qname[i],
                            v < 0 ? json_null() : json_real(v / 1000));
    }

    shown = ngx_http_webhook_latency_shown(r, &nshown);

    for (i = 0; i < nshown; i++) {
        p = ngx_http_webhook_seconds(le, shown[i]);
        *p = '\0';
        json_object_set_new(buckets, (char *) le, json_integer(
                            ngx_http_webhook_cumulative(r, counts, shown[i])));
    }

    json_object_set_new(buckets, "+Inf", json_integer(
                        ngx_http_webhook_cumulative(r, counts, (uint64_t) -1)));
    json_object_set_new(h, "buckets", buckets);

    return h;
}


static u_char *
ngx_http_webhook_latency_prometheus(ngx_http_request_t *r, u_char *p,
    ngx_array_t *locs)
{
    uint64_t                      *shown;
    ngx_uint_t                     i, j, k, nshown;
    ngx_atomic_uint_t             *counts;
    ngx_http_webhook_snapshot_t   *s;

    shown = ngx_http_webhook_latency_shown(r, &nshown);
    s = locs->elts;

    for (k = 0; k < 2; k++) {
        p = ngx_sprintf(p, "# HELP %s %s\n# TYPE %s histogram\n",
                        ngx_http_webhook_latency_names[k][0],
                        ngx_http_webhook_latency_names[k][1],
                        ngx_http_webhook_latency_names[k][0]);

        for (i = 0; i < locs->nelts; i++) {
            counts = s[i].latency[k];

            for (j = 0; j <= nshown; j++) {
                p = ngx_sprintf(p, "%s_bucket{location=\"",
                                ngx_http_webhook_latency_names[k][0]);
                p = ngx_http_webhook_label(p, &s[i].name);
                p = ngx_sprintf(p, "\",preset=\"");
                p = ngx_http_webhook_label(p, &s[i].preset);
                p = ngx_sprintf(p, "\",le=\"");

                if (j < nshown) {
                    p = ngx_http_webhook_seconds(p, shown[j]);

                } else {
                    p = ngx_sprintf(p, "+Inf");
                }

                p = ngx_sprintf(p, "\"} %uL\n",
                                ngx_http_webhook_cumulative(r, counts,
                                    j < nshown ? shown[j] : (uint64_t) -1));
            }

            p = ngx_sprintf(p, "%s_sum{location=\"",
                            ngx_http_webhook_latency_names[k][0]);
            p = ngx_http_webhook_label(p, &s[i].name);
            p = ngx_sprintf(p, "\",preset=\"");
            p = ngx_http_webhook_label(p, &s[i].preset);
            p = ngx_sprintf(p, "\"} %uA.%03uA\n", s[i].latency_sum[k] / 1000,
                            s[i].latency_sum[k] % 1000);

            p = ngx_sprintf(p, "%s_count{location=\"",
                            ngx_http_webhook_latency_names[k][0]);
            p = ngx_http_webhook_label(p, &s[i].name);
            p = ngx_sprintf(p, "\",preset=\"");
            p = ngx_http_webhook_label(p, &s[i].preset);
            p = ngx_sprintf(p, "\"} %uL\n",
                            ngx_http_webhook_cumulative(r, counts,
                                                        (uint64_t) -1));
        }
    }

    return p;
}

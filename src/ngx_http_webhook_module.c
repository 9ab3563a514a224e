
/*
 * ngx_http_webhook_module: directives, configuration, phase registration.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


static void *ngx_http_webhook_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_webhook_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_webhook_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_webhook_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_webhook_postconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_webhook_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_webhook_init_process(ngx_cycle_t *cycle);
static void ngx_http_webhook_exit_process(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_webhook_log_handler(ngx_http_request_t *r);
static ngx_uint_t ngx_http_webhook_custom_set(
    ngx_http_webhook_loc_conf_t *conf);
static char *ngx_http_webhook_ed25519_keys(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf);
static char *ngx_http_webhook_check_keys(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf);
static ngx_int_t ngx_http_webhook_default_public_url(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf);

static char *ngx_http_webhook_verify(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_webhook_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static ngx_conf_enum_t  ngx_http_webhook_modes[] = {
    { ngx_string("enforce"), NGX_HTTP_WEBHOOK_ENFORCE },
    { ngx_string("monitor"), NGX_HTTP_WEBHOOK_MONITOR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_webhook_encodings[] = {
    { ngx_string("hex"), WEBHOOK_ENC_HEX },
    { ngx_string("base64"), WEBHOOK_ENC_BASE64 },
    { ngx_string("base64url"), WEBHOOK_ENC_BASE64URL },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_webhook_digests[] = {
    { ngx_string("sha256"), WEBHOOK_SHA256 },
    { ngx_string("sha1"), WEBHOOK_SHA1 },
    { ngx_string("sha512"), WEBHOOK_SHA512 },
    { ngx_null_string, 0 }
};


static ngx_str_t  ngx_http_webhook_default_url =
    ngx_string("$scheme://$http_host$request_uri");


static ngx_command_t  ngx_http_webhook_commands[] = {

    { ngx_string("webhook_verify"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_verify,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_timestamp_tolerance"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, tolerance),
      NULL },

    { ngx_string("webhook_mode"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, mode),
      &ngx_http_webhook_modes },

    { ngx_string("webhook_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, id),
      NULL },

    { ngx_string("webhook_event"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, event),
      NULL },

    { ngx_string("webhook_public_url"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, public_url),
      NULL },

    { ngx_string("webhook_handshake"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_conf_set_flag_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, handshake),
      NULL },

    { ngx_string("webhook_public_key"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_webhook_public_key,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_signature_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, sig_header),
      NULL },

    { ngx_string("webhook_signature_pattern"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_signature_pattern,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_signature_encoding"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, sig_encoding),
      &ngx_http_webhook_encodings },

    { ngx_string("webhook_digest"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, digest),
      &ngx_http_webhook_digests },

    { ngx_string("webhook_signed_payload"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_signed_payload,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_timestamp"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_set_complex_value_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, timestamp),
      NULL },

    { ngx_string("webhook_allow_ip"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_allow_ip,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_allow_ip_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_allow_ip_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_limit_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_2MORE,
      ngx_http_webhook_limit_zone,
      0,
      0,
      NULL },

    { ngx_string("webhook_limit"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE12,
      ngx_http_webhook_limit,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_replay_zone"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE12,
      ngx_http_webhook_replay_zone,
      0,
      0,
      NULL },

    { ngx_string("webhook_replay"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_webhook_replay,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_redis"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_1MORE,
      ngx_http_webhook_redis,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_enqueue"),
      NGX_HTTP_LOC_CONF|NGX_CONF_TAKE123,
      ngx_http_webhook_enqueue,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_enqueue_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_webhook_enqueue_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_status"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_webhook_status,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_latency_buckets"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_1MORE,
      ngx_http_webhook_latency_buckets,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("webhook_paypal_webhook_id"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_webhook_loc_conf_t, paypal_webhook_id),
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_webhook_module_ctx = {
    ngx_http_webhook_preconfiguration,     /* preconfiguration */
    ngx_http_webhook_postconfiguration,    /* postconfiguration */

    ngx_http_webhook_create_main_conf,     /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_webhook_create_loc_conf,      /* create location configuration */
    ngx_http_webhook_merge_loc_conf        /* merge location configuration */
};


ngx_module_t  ngx_http_webhook_module = {
    NGX_MODULE_V1,
    &ngx_http_webhook_module_ctx,          /* module context */
    ngx_http_webhook_commands,             /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_webhook_init_module,          /* init module */
    ngx_http_webhook_init_process,         /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_webhook_exit_process,         /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static void *
ngx_http_webhook_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_main_conf_t));
    if (wmcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&wmcf->zones, cf->pool, 4,
                       sizeof(ngx_http_webhook_zone_t *))
        != NGX_OK
        || ngx_array_init(&wmcf->stats, cf->pool, 8,
                          sizeof(ngx_http_webhook_stats_t *))
           != NGX_OK)
    {
        return NULL;
    }

    return wmcf;
}


static void *
ngx_http_webhook_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_webhook_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->keys = NULL;
     *     conf->allow_all = 0;
     *     conf->replay_ttl = 0;
     *     conf->stats = NULL;
     *     conf->sig_header = { 0, NULL };
     *     conf->verify_file = NULL;
     *     conf->verify_line = 0;
     */

    conf->preset = NGX_CONF_UNSET_PTR;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->public_keys = NGX_CONF_UNSET_PTR;
    conf->tolerance = NGX_CONF_UNSET;
    conf->mode = NGX_CONF_UNSET_UINT;
    conf->id = NGX_CONF_UNSET_PTR;
    conf->event = NGX_CONF_UNSET_PTR;
    conf->allow = NGX_CONF_UNSET_PTR;
    conf->limits = NGX_CONF_UNSET_PTR;
    conf->replay = NGX_CONF_UNSET_PTR;
    conf->status = NGX_CONF_UNSET;
    conf->public_url = NGX_CONF_UNSET_PTR;
    conf->handshake = NGX_CONF_UNSET;
    conf->sig_pattern = NGX_CONF_UNSET_PTR;
    conf->sig_encoding = NGX_CONF_UNSET_UINT;
    conf->digest = NGX_CONF_UNSET_UINT;
    conf->signed_payload = NGX_CONF_UNSET_PTR;
    conf->timestamp = NGX_CONF_UNSET_PTR;
    conf->buckets = NGX_CONF_UNSET_PTR;
    conf->enqueue_headers = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_webhook_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_webhook_loc_conf_t *prev = parent;
    ngx_http_webhook_loc_conf_t *conf = child;

    char        *rv;
    ngx_uint_t   custom_here;

    /* before merging: was a custom-scheme directive written right here? */
    custom_here = ngx_http_webhook_custom_set(conf);

    if (conf->preset == NGX_CONF_UNSET_PTR) {
        conf->preset = prev->preset;
        conf->verify_file = prev->verify_file;
        conf->verify_line = prev->verify_line;
    }

    ngx_conf_merge_ptr_value(conf->preset, prev->preset, NULL);
    ngx_conf_merge_ptr_value(conf->secrets, prev->secrets, NULL);
    ngx_conf_merge_ptr_value(conf->public_keys, prev->public_keys, NULL);
    ngx_conf_merge_str_value(conf->paypal_webhook_id,
                             prev->paypal_webhook_id, "");
    ngx_conf_merge_sec_value(conf->tolerance, prev->tolerance, 300);
    ngx_conf_merge_uint_value(conf->mode, prev->mode,
                              NGX_HTTP_WEBHOOK_ENFORCE);
    ngx_conf_merge_ptr_value(conf->id, prev->id, NULL);
    ngx_conf_merge_ptr_value(conf->event, prev->event, NULL);
    ngx_conf_merge_ptr_value(conf->public_url, prev->public_url, NULL);
    ngx_conf_merge_value(conf->handshake, prev->handshake, 0);

    ngx_conf_merge_str_value(conf->sig_header, prev->sig_header, "");
    ngx_conf_merge_ptr_value(conf->sig_pattern, prev->sig_pattern, NULL);
    ngx_conf_merge_uint_value(conf->sig_encoding, prev->sig_encoding,
                              WEBHOOK_ENC_HEX);
    ngx_conf_merge_uint_value(conf->digest, prev->digest, WEBHOOK_SHA256);
    ngx_conf_merge_ptr_value(conf->signed_payload, prev->signed_payload,
                             NULL);
    ngx_conf_merge_ptr_value(conf->timestamp, prev->timestamp, NULL);

    /* webhook_replay's redis= goes with its zone */
    if (conf->replay == NGX_CONF_UNSET_PTR) {
        conf->replay_redis = prev->replay_redis;
        conf->replay_lease = prev->replay_lease;
    }

    /* allowlist rules are inherited as a whole, as the access module's */
    if (conf->allow == NGX_CONF_UNSET_PTR) {
        conf->allow = prev->allow;
        conf->allow_all = prev->allow_all;
    }

    ngx_conf_merge_ptr_value(conf->allow, prev->allow, NULL);
    ngx_conf_merge_ptr_value(conf->limits, prev->limits, NULL);
    ngx_conf_merge_ptr_value(conf->replay, prev->replay, NULL);

    /* only verified deliveries are recorded: without webhook_verify
       there is nothing to record; replay_ttl is resolved with the
       preset, below */

    /* webhook_status is not inherited: it names one location */
    if (conf->status == NGX_CONF_UNSET) {
        conf->status = 0;
    }

    if (ngx_http_webhook_latency_merge(cf, prev, conf) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if ((conf->preset || conf->allow || conf->limits) && !conf->status) {
        if (ngx_http_webhook_stats_register(cf, conf) != NGX_OK) {
            return NGX_CONF_ERROR;
        }
    }

    /* webhook_enqueue names one location; the headers it adds inherit */
    ngx_conf_merge_ptr_value(conf->enqueue_headers, prev->enqueue_headers,
                             NULL);

    if (conf->preset == NULL) {
        return NGX_CONF_OK;
    }

    if (conf->preset->custom) {
        /* each location gets its own scheme, built from its directives */

        conf->preset = ngx_http_webhook_custom_preset(cf, conf);
        if (conf->preset == NULL) {
            return NGX_CONF_ERROR;
        }

    } else if (custom_here) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"webhook_signature_*\", \"webhook_digest\" and "
                      "\"webhook_timestamp\" apply to \"webhook_verify "
                      "custom\" only, not to \"webhook_verify %V\" in "
                      "%s:%ui", &conf->preset->name, conf->verify_file,
                      conf->verify_line);
        return NGX_CONF_ERROR;
    }

    if (conf->replay) {
        /* a committed record lives the zone's ttl, or the preset's
           default (ngx_http_webhook_preset_record_ttl()) */
        conf->replay_ttl = conf->replay->ttl
                           ? conf->replay->ttl
                           : ngx_http_webhook_preset_record_ttl(conf->preset,
                                                             conf->tolerance);
    }

    rv = ngx_http_webhook_check_keys(cf, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (ngx_http_webhook_default_public_url(cf, conf) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->preset->sig_type == NGX_HTTP_WEBHOOK_SIG_TOKEN) {
        return ngx_http_webhook_token_init(cf, conf) == NGX_OK
               ? NGX_CONF_OK : NGX_CONF_ERROR;
    }

    if (conf->preset->sig_type != NGX_HTTP_WEBHOOK_SIG_HMAC
        || conf->secrets == NULL)
    {
        return NGX_CONF_OK;
    }

    /*
     * The keys depend on the preset (Standard Webhooks decodes its
     * secrets, a custom scheme picks its digest), so they are made once
     * both are known.  A location that inherits both shares its parent's
     * keys.
     */

    if (conf->secrets == prev->secrets && conf->preset == prev->preset
        && prev->keys)
    {
        conf->keys = prev->keys;
        return NGX_CONF_OK;
    }

    conf->keys = ngx_http_webhook_keys_create(cf, conf->preset,
                                              conf->secrets);
    if (conf->keys == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_webhook_custom_set(ngx_http_webhook_loc_conf_t *conf)
{
    return conf->sig_header.data != NULL
           || conf->sig_pattern != NGX_CONF_UNSET_PTR
           || conf->sig_encoding != NGX_CONF_UNSET_UINT
           || conf->digest != NGX_CONF_UNSET_UINT
           || conf->signed_payload != NGX_CONF_UNSET_PTR
           || conf->timestamp != NGX_CONF_UNSET_PTR;
}


/* the key material each kind of scheme needs is there */

static char *
ngx_http_webhook_check_keys(ngx_conf_t *cf, ngx_http_webhook_loc_conf_t *conf)
{
    ngx_uint_t    secrets, public_keys;
    const char   *need;

    secrets = conf->secrets && conf->secrets->nelts;
    public_keys = conf->public_keys && conf->public_keys->nelts;

    if (conf->preset->sig_type == NGX_HTTP_WEBHOOK_SIG_PKEY) {
        if (public_keys) {
            return ngx_http_webhook_asym_init(cf, conf) == NGX_OK
                   ? NGX_CONF_OK : NGX_CONF_ERROR;
        }

        need = "has no \"webhook_public_key\"";

    } else if (conf->preset->sig_type == NGX_HTTP_WEBHOOK_SIG_ED25519) {
        if (public_keys) {
            return ngx_http_webhook_ed25519_keys(cf, conf);
        }

        need = "has no \"webhook_public_key\"";

    } else if (conf->preset->ed25519_key) {
        if (public_keys) {
            return ngx_http_webhook_ed25519_keys(cf, conf);
        }

        if (secrets) {
            return NGX_CONF_OK;
        }

        need = "has neither \"webhook_secret\" nor \"webhook_public_key\"";

    } else {
        if (secrets) {
            return NGX_CONF_OK;
        }

        need = "has no \"webhook_secret\"";
    }

    ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                  "\"webhook_verify %V\" in %s:%ui %s",
                  &conf->preset->name, conf->verify_file, conf->verify_line,
                  need);

    return NGX_CONF_ERROR;
}


/* Ed25519 schemes take only Ed25519 keys */

static char *
ngx_http_webhook_ed25519_keys(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf)
{
    ngx_uint_t                      i;
    ngx_http_webhook_public_key_t  *pk;

    pk = conf->public_keys->elts;

    for (i = 0; i < conf->public_keys->nelts; i++) {
        if (pk[i].key == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "webhook_public_key %V is an %s key: "
                          "\"webhook_verify %V\" in %s:%ui needs an "
                          "Ed25519 key", &pk[i].origin,
                          webhook_pkey_kind_name(webhook_pkey_kind(
                                                            pk[i].pkey)),
                          &conf->preset->name, conf->verify_file,
                          conf->verify_line);
            return NGX_CONF_ERROR;
        }
    }

    return NGX_CONF_OK;
}


/*
 * Schemes that sign the URL get "$scheme://$http_host$request_uri"
 * unless webhook_public_url says otherwise; compiled once per location.
 */

static ngx_int_t
ngx_http_webhook_default_public_url(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *conf)
{
    ngx_uint_t                         i;
    ngx_http_compile_complex_value_t   ccv;

    if (conf->public_url) {
        return NGX_OK;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {

        if (conf->preset->payload[i].type == NGX_HTTP_WEBHOOK_PART_END) {
            return NGX_OK;
        }

        if (conf->preset->payload[i].type == NGX_HTTP_WEBHOOK_PART_URL) {
            break;
        }
    }

    if (i == NGX_HTTP_WEBHOOK_MAX_PARTS) {
        return NGX_OK;
    }

    conf->public_url = ngx_palloc(cf->pool, sizeof(ngx_http_complex_value_t));
    if (conf->public_url == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &ngx_http_webhook_default_url;
    ccv.complex_value = conf->public_url;

    return ngx_http_compile_complex_value(&ccv);
}


static char *
ngx_http_webhook_verify(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    u_char     *names;
    ngx_str_t  *value;

    if (wlcf->preset != NGX_CONF_UNSET_PTR) {
        return "is duplicate";
    }

    value = cf->args->elts;

    if (ngx_strcmp(value[1].data, "off") == 0) {
        wlcf->preset = NULL;
        return NGX_CONF_OK;
    }

    wlcf->preset = ngx_http_webhook_preset_find(&value[1]);

    if (wlcf->preset == NULL) {
        names = ngx_http_webhook_preset_names(cf->pool);

        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "unknown webhook_verify preset \"%V\"; "
                           "valid: %s, or off", &value[1],
                           names ? names : (u_char *) "(none)");
        return NGX_CONF_ERROR;
    }

    wlcf->verify_file = cf->conf_file->file.name.data;
    wlcf->verify_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_webhook_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_loc_conf_t *wlcf = conf;

    ngx_str_t                  *value;
    ngx_http_webhook_secret_t  *secret;

    if (wlcf->secrets == NGX_CONF_UNSET_PTR) {
        wlcf->secrets = ngx_array_create(cf->pool, 2,
                                         sizeof(ngx_http_webhook_secret_t));
        if (wlcf->secrets == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    /* each secret is one more pass over the body for every request */

    if (wlcf->secrets->nelts == NGX_HTTP_WEBHOOK_MAX_KEYS) {
        return "is given more than " ngx_value(NGX_HTTP_WEBHOOK_MAX_KEYS)
               " times in one location";
    }

    secret = ngx_array_push(wlcf->secrets);
    if (secret == NULL) {
        return NGX_CONF_ERROR;
    }

    value = cf->args->elts;

    return ngx_http_webhook_secret_load(cf, &value[1], secret, 1);
}


static ngx_int_t
ngx_http_webhook_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_webhook_add_variables(cf);
}


static ngx_int_t
ngx_http_webhook_postconfiguration(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    /*
     * PREACCESS, as limit_req: an ACCESS handler is skipped by
     * "satisfy any" once another access module allows the request.
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PREACCESS_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhook_handler;

    /*
     * The header filter (ngx_http_webhook_filter.c) settles a replay
     * record as soon as the response's status is known; the log phase
     * settles one whose request ended without a response header.
     */

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_LOG_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_webhook_log_handler;

    if (ngx_http_webhook_zones_check(cf) != NGX_OK
        || ngx_http_webhook_redis_check(cf) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_webhook_status_init(cf);
}


static ngx_int_t
ngx_http_webhook_log_handler(ngx_http_request_t *r)
{
    ngx_http_webhook_ctx_t  *ctx;

    ctx = ngx_http_webhook_get_ctx(r);

    if (ctx) {
        ngx_http_webhook_replay_settle(r, ctx);
        ngx_http_webhook_stats_latency(r, ctx);
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_init_module(ngx_cycle_t *cycle)
{
    if (webhook_hmac_library_init() != WEBHOOK_OK) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0,
                      "webhook: OpenSSL has no HMAC implementation");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_init_process(ngx_cycle_t *cycle)
{
    if (ngx_http_webhook_redis_init_process(cycle) != NGX_OK) {
        return NGX_ERROR;
    }

    /* the store serves the limiter's rounds; it does not start them */
    ngx_http_webhook_limit_sync_init(cycle);

    return ngx_http_webhook_queue_init_process(cycle);
}


static void
ngx_http_webhook_exit_process(ngx_cycle_t *cycle)
{
    /* the lease goes back while the connection is still there */
    ngx_http_webhook_limit_sync_exit();
    ngx_http_webhook_redis_exit_process(cycle);
}


/*
 * ngx_http_webhook_module: the webhook_redis directive.
 *
 * Its parameters, the URL (redis://, unix: or sentinel://, split by
 * src/core/webhook_redis_url.c; host names resolved here, once, so that
 * no worker ever resolves), the check that the zones and locations that
 * need Redis have it, and the "webhook_redis" shared memory zone that
 * holds the node's Redis state (its random id drawn here, when the
 * master makes the zone).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/rand.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"


static ngx_int_t ngx_http_webhook_redis_parse_url(ngx_conf_t *cf,
    ngx_http_webhook_redis_conf_t *rcf, ngx_str_t *url);
static ngx_int_t ngx_http_webhook_redis_init_zone(ngx_shm_zone_t *shm_zone,
    void *data);


static ngx_str_t  ngx_http_webhook_redis_zone_name =
    ngx_string("webhook_redis");


static ngx_conf_enum_t  ngx_http_webhook_redis_on_error[] = {
    { ngx_string("local"), NGX_HTTP_WEBHOOK_REDIS_LOCAL },
    { ngx_string("open"), NGX_HTTP_WEBHOOK_REDIS_OPEN },
    { ngx_string("closed"), NGX_HTTP_WEBHOOK_REDIS_CLOSED },
    { ngx_null_string, 0 }
};


/*
 * webhook_redis URL [timeout=TIME] [sync_interval=TIME] [prefix=STRING]
 *               [password_file=/path] [on_error=local|open|closed];
 */

char *
ngx_http_webhook_redis(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_webhook_main_conf_t *wmcf = conf;

    u_char                         *p;
    ngx_str_t                      *value, s, spec;
    ngx_uint_t                      i, j;
    ngx_http_webhook_secret_t       secret;
    ngx_http_webhook_redis_conf_t  *rcf;

    if (wmcf->redis) {
        return "is duplicate";
    }

    rcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_redis_conf_t));
    if (rcf == NULL) {
        return NGX_CONF_ERROR;
    }

    rcf->timeout = 200;
    rcf->sync_interval = 100;
    ngx_str_set(&rcf->prefix, "webhook:");
    rcf->on_error = NGX_HTTP_WEBHOOK_REDIS_LOCAL;

    value = cf->args->elts;

    if (ngx_http_webhook_redis_parse_url(cf, rcf, &value[1]) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    for (i = 2; i < cf->args->nelts; i++) {

        if (ngx_strncmp(value[i].data, "timeout=", 8) == 0) {
            s.data = value[i].data + 8;
            s.len = value[i].len - 8;

            rcf->timeout = ngx_parse_time(&s, 0);

            if (rcf->timeout == (ngx_msec_t) NGX_ERROR || rcf->timeout == 0) {
                goto invalid;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "sync_interval=", 14) == 0) {
            s.data = value[i].data + 14;
            s.len = value[i].len - 14;

            rcf->sync_interval = ngx_parse_time(&s, 0);

            if (rcf->sync_interval == (ngx_msec_t) NGX_ERROR
                || rcf->sync_interval < 10)
            {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\": at least 10ms",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            continue;
        }

        if (ngx_strncmp(value[i].data, "prefix=", 7) == 0) {
            rcf->prefix.data = value[i].data + 7;
            rcf->prefix.len = value[i].len - 7;
            continue;
        }

        if (ngx_strncmp(value[i].data, "password_file=", 14) == 0) {

            if (value[i].len == 14) {
                goto invalid;
            }

            /* the secret loader, with its permission rules: "file:PATH" */

            spec.len = sizeof("file:") - 1 + value[i].len - 14;
            spec.data = ngx_pnalloc(cf->pool, spec.len + 1);
            if (spec.data == NULL) {
                return NGX_CONF_ERROR;
            }

            p = ngx_cpymem(spec.data, "file:", sizeof("file:") - 1);
            p = ngx_cpymem(p, value[i].data + 14, value[i].len - 14);
            *p = '\0';

            ngx_memzero(&secret, sizeof(ngx_http_webhook_secret_t));

            if (ngx_http_webhook_secret_load(cf, &spec, &secret, 1)
                != NGX_CONF_OK)
            {
                return NGX_CONF_ERROR;
            }

            rcf->password = secret.value;
            continue;
        }

        if (ngx_strncmp(value[i].data, "on_error=", 9) == 0) {
            s.data = value[i].data + 9;
            s.len = value[i].len - 9;

            for (j = 0; ngx_http_webhook_redis_on_error[j].name.len; j++) {
                if (ngx_http_webhook_redis_on_error[j].name.len == s.len
                    && ngx_strncmp(ngx_http_webhook_redis_on_error[j].name.data,
                                   s.data, s.len) == 0)
                {
                    break;
                }
            }

            if (ngx_http_webhook_redis_on_error[j].name.len == 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "invalid \"%V\", expected "
                                   "on_error=local, open or closed",
                                   &value[i]);
                return NGX_CONF_ERROR;
            }

            rcf->on_error = ngx_http_webhook_redis_on_error[j].value;
            continue;
        }

        goto invalid;
    }

    if (ngx_array_init(&rcf->sync_zones, cf->pool, 4,
                       sizeof(ngx_http_webhook_zone_t *))
        != NGX_OK)
    {
        return NGX_CONF_ERROR;
    }

    rcf->shm_zone = ngx_shared_memory_add(cf,
                                          &ngx_http_webhook_redis_zone_name,
                                          NGX_HTTP_WEBHOOK_REDIS_SHM_SIZE,
                                          &ngx_http_webhook_module);
    if (rcf->shm_zone == NULL) {
        return NGX_CONF_ERROR;
    }

    if (rcf->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used",
                           &ngx_http_webhook_redis_zone_name);
        return NGX_CONF_ERROR;
    }

    rcf->shm_zone->init = ngx_http_webhook_redis_init_zone;
    rcf->shm_zone->data = rcf;

    wmcf->redis = rcf;

    return NGX_CONF_OK;

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid parameter \"%V\"", &value[i]);
    return NGX_CONF_ERROR;
}


/*
 * "redis://host[:port][/db]" or "unix:/path".  A host name is resolved
 * here, once: workers connect to the address literal, so that nothing
 * resolves (and blocks) in a worker.  The first address is used.
 */

static ngx_int_t
ngx_http_webhook_redis_parse_url(ngx_conf_t *cf,
    ngx_http_webhook_redis_conf_t *rcf, ngx_str_t *url)
{
    const char           *err;
    ngx_url_t             u;
    webhook_redis_url_t   ru;

    rcf->url = *url;

    if (webhook_redis_url_parse(url->data, url->len, &ru, &err)
        != WEBHOOK_OK)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid redis URL \"%V\"%s", url, err);
        return NGX_ERROR;
    }

    if (ru.sentinel) {
        return ngx_http_webhook_sentinel_parse_url(cf, rcf, url, &ru);
    }

    if (ru.unix_socket) {
        rcf->path.len = ru.path.len;
        rcf->path.data = ngx_pnalloc(cf->pool, rcf->path.len + 1);
        if (rcf->path.data == NULL) {
            return NGX_ERROR;
        }

        ngx_memcpy(rcf->path.data, ru.path.data, rcf->path.len);
        rcf->path.data[rcf->path.len] = '\0';

        return NGX_OK;
    }

    rcf->db = (ngx_uint_t) ru.db;

    ngx_memzero(&u, sizeof(ngx_url_t));

    u.url.data = (u_char *) ru.host.data;
    u.url.len = ru.host.len;
    u.default_port = 6379;

    if (ngx_parse_url(cf->pool, &u) != NGX_OK) {
        if (u.err) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis URL \"%V\"", u.err, url);
        }

        return NGX_ERROR;
    }

    if (u.naddrs == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "no address for redis URL \"%V\"", url);
        return NGX_ERROR;
    }

    rcf->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
    if (rcf->host.data == NULL) {
        return NGX_ERROR;
    }

    /* the address without its port: "127.0.0.1", "::1" */

    rcf->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                  rcf->host.data, NGX_SOCKADDR_STRLEN, 0);
    rcf->host.data[rcf->host.len] = '\0';

    rcf->port = (int) ngx_inet_get_port(u.addrs[0].sockaddr);

    return NGX_OK;
}


/* "sync=on" and "redis=on" need webhook_redis; remember the first */

void
ngx_http_webhook_redis_used(ngx_conf_t *cf, const char *what)
{
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    if (wmcf->redis_user == NULL) {
        wmcf->redis_user = what;
        wmcf->redis_user_file = cf->conf_file->file.name.data;
        wmcf->redis_user_line = cf->conf_file->line;
    }
}


/* postconfiguration: Redis is there if needed; list the zones it syncs */

ngx_int_t
ngx_http_webhook_redis_check(ngx_conf_t *cf)
{
    ngx_uint_t                      i;
    ngx_http_webhook_zone_t       **zp, **sp;
    ngx_http_webhook_main_conf_t   *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    if (wmcf->redis == NULL) {

        if (wmcf->redis_user) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "\"%s\" in %s:%ui needs \"webhook_redis\"",
                          wmcf->redis_user, wmcf->redis_user_file,
                          wmcf->redis_user_line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    zp = wmcf->zones.elts;

    for (i = 0; i < wmcf->zones.nelts; i++) {
        if (zp[i]->type == NGX_HTTP_WEBHOOK_ZONE_LIMIT && zp[i]->sync) {
            sp = ngx_array_push(&wmcf->redis->sync_zones);
            if (sp == NULL) {
                return NGX_ERROR;
            }

            *sp = zp[i];
        }
    }

    return NGX_OK;
}


/* on reload the node's Redis state carries over, as the zones do */

static ngx_int_t
ngx_http_webhook_redis_init_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_webhook_redis_conf_t  *orcf = data;

    ngx_slab_pool_t                *shpool;
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = shm_zone->data;
    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    rcf->shpool = shpool;

    if (orcf) {
        rcf->sh = orcf->sh;
        rcf->lease = &rcf->sh->lease;
        return NGX_OK;
    }

    if (shm_zone->shm.exists) {
        rcf->sh = shpool->data;
        rcf->lease = &rcf->sh->lease;
        return NGX_OK;
    }

    rcf->sh = ngx_slab_calloc(shpool, sizeof(ngx_http_webhook_redis_sh_t));
    if (rcf->sh == NULL) {
        return NGX_ERROR;
    }

    if (RAND_bytes(rcf->sh->node_id, sizeof(rcf->sh->node_id)) != 1) {
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                      "webhook: RAND_bytes() failed for the node id");
        return NGX_ERROR;
    }

    shpool->data = rcf->sh;
    rcf->lease = &rcf->sh->lease;

    return NGX_OK;
}

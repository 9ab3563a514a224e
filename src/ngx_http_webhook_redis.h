
/*
 * ngx_http_webhook_module: what the Redis files share (not for the rest
 * of the module): the node's Redis state in the "webhook_redis" shared
 * memory zone.
 */


#ifndef _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


#define NGX_HTTP_WEBHOOK_REDIS_SHM_SIZE   (64 * 1024)
#define NGX_HTTP_WEBHOOK_REDIS_SLOTS      512
#define NGX_HTTP_WEBHOOK_REDIS_ERROR_MAX  200


typedef struct {
    ngx_pid_t                         pid;
    ngx_atomic_t                      connected;
} ngx_http_webhook_redis_slot_t;


/* the node's Redis state, in the "webhook_redis" shared memory zone */
struct ngx_http_webhook_redis_sh_s {
    ngx_atomic_t                      outage;       /* 1 from a failure
                                                       until Redis answers */
    ngx_atomic_t                      failures;

    /* drawn when the zone is made (the master starts), kept on reload */
    u_char                            node_id[8];

    /* the node's limit sync (ngx_http_webhook_limit_sync.c) */
    ngx_http_webhook_lease_t          lease;

    /* under the zone's mutex */
    size_t                            last_error_len;
    u_char                            last_error[
                                          NGX_HTTP_WEBHOOK_REDIS_ERROR_MAX];
    ngx_http_webhook_redis_slot_t     slots[NGX_HTTP_WEBHOOK_REDIS_SLOTS];
};


#endif /* _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_ */

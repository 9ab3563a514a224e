
/*
 * ngx_http_webhook_module: what the Redis files share, and only they:
 * hiredis, the node's Redis state in the "webhook_redis" shared memory
 * zone, the scripts, commands and request waiters on the connection.
 */


#ifndef _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_
#define _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>


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


/*
 * Called once with Redis's answer to a script, or with NULL when there
 * is none (connection lost, the worker exiting).  An error reply is
 * passed on as it is.
 */
typedef void (*ngx_http_webhook_redis_reply_pt)(redisReply *reply,
    void *data);

/* the same for a request waiting on Redis; NULL also for a timeout */
typedef void (*ngx_http_webhook_redis_done_pt)(ngx_http_request_t *r,
    redisReply *reply);


#define NGX_HTTP_WEBHOOK_SCRIPT_SYNC    0           /* limit counts */
#define NGX_HTTP_WEBHOOK_SCRIPT_CLAIM   1           /* replay: decide */
#define NGX_HTTP_WEBHOOK_SCRIPT_SETTLE  2           /* replay: commit/drop */
#define NGX_HTTP_WEBHOOK_SCRIPT_RENEW   3           /* replay: the lease */
#define NGX_HTTP_WEBHOOK_NSCRIPTS       4


/* ngx_http_webhook_redis.c */
ngx_int_t ngx_http_webhook_redis_script(ngx_uint_t script, ngx_str_t *args,
    ngx_uint_t nkeys, ngx_uint_t nargs,
    ngx_http_webhook_redis_reply_pt handler, void *data);
ngx_int_t ngx_http_webhook_redis_wait(ngx_http_request_t *r,
    ngx_uint_t script, ngx_str_t *args, ngx_uint_t nkeys, ngx_uint_t nargs,
    ngx_http_webhook_redis_done_pt done);
ngx_int_t ngx_http_webhook_redis_request(ngx_http_request_t *r, int argc,
    const char **argv, const size_t *argvlen,
    ngx_http_webhook_redis_done_pt done, ngx_http_event_handler_pt resume);
ngx_int_t ngx_http_webhook_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_webhook_redis_reply_pt handler,
    void *data);
ngx_str_t *ngx_http_webhook_redis_node(void);
void ngx_http_webhook_redis_flush(void);

/* ngx_http_webhook_redis_sentinel.c */
ngx_int_t ngx_http_webhook_sentinel_parse_url(ngx_conf_t *cf,
    ngx_http_webhook_redis_conf_t *rcf, ngx_str_t *url,
    const webhook_redis_url_t *ru);
void ngx_http_webhook_sentinel_init(ngx_http_webhook_redis_conf_t *rcf,
    ngx_log_t *log);
void ngx_http_webhook_sentinel_ask(void);
void ngx_http_webhook_sentinel_exit(void);
void ngx_http_webhook_redis_discovered(u_char *host, int port);
void ngx_http_webhook_redis_undiscovered(const char *detail);
void ngx_http_webhook_redis_switch(void);

/* the connection's state in this worker (ngx_http_webhook_redis.c) */
typedef struct {
    ngx_http_webhook_redis_conf_t    *conf;
    ngx_log_t                        *log;
    redisAsyncContext                *ac;
    ngx_uint_t                        state;

    ngx_uint_t                        sent;         /* on this connection */
    ngx_uint_t                        answered;
    ngx_uint_t                        watch_mark;

    ngx_event_t                       connect_ev;
    ngx_event_t                       retry_ev;
    ngx_event_t                       watch_ev;

    ngx_msec_t                        backoff;
    ngx_uint_t                        slot;         /* index + 1 */

    ngx_str_t                         node;         /* "host:master pid" */
    u_char                            sha[NGX_HTTP_WEBHOOK_NSCRIPTS][41];

    unsigned                          exiting:1;
} ngx_http_webhook_redis_worker_t;

extern ngx_http_webhook_redis_worker_t  ngx_http_webhook_redis_worker;

/* the scripts, their expected reply types (ngx_http_webhook_redis_store.c) */
extern ngx_str_t  ngx_http_webhook_redis_scripts[NGX_HTTP_WEBHOOK_NSCRIPTS];
extern int  ngx_http_webhook_redis_script_types[NGX_HTTP_WEBHOOK_NSCRIPTS];

void ngx_http_webhook_redis_error(const char *what, const char *detail,
    size_t len);


/* ngx_http_webhook_redis_adapter.c */
ngx_int_t ngx_http_webhook_redis_attach(redisAsyncContext *ac,
    ngx_log_t *log);


#endif /* _NGX_HTTP_WEBHOOK_REDIS_H_INCLUDED_ */


/*
 * ngx_http_webhook_module: finding the Redis primary through Sentinel.
 *
 * webhook_redis sentinel://host:port[,host:port...]/MASTER_NAME.  Each
 * worker, before each connection to Redis, asks the sentinels in turn
 * (SENTINEL get-master-addr-by-name, one at a time, each within the
 * timeout) where the primary is, and connects there; the connection's
 * handshake then checks ROLE, since a sentinel may not know of a
 * failover yet.  A failover is followed three ways, whichever comes
 * first: a +switch-master message for our name (each worker keeps a
 * subscription on one sentinel), the connection failing, or a READONLY
 * reply (the old primary, now a replica).  Each drops the connection and
 * asks again.
 *
 * Both connections here are hiredis async contexts on the event loop,
 * like the main one; replies are checked for type and shape, and an
 * address that is not a literal IP address is refused (resolving would
 * block the worker).
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"
#include "webhook_redis_url.h"


#define NGX_HTTP_WEBHOOK_SENTINEL_PORT     26379
#define NGX_HTTP_WEBHOOK_SENTINEL_RESUB    1000


typedef struct {
    ngx_http_webhook_redis_conf_t    *conf;
    ngx_log_t                        *log;

    redisAsyncContext                *ask;          /* the question */
    ngx_uint_t                        next;         /* sentinel to ask */
    ngx_uint_t                        tried;        /* in this round */
    ngx_event_t                       ask_ev;       /* its timeout */

    redisAsyncContext                *sub;          /* +switch-master */
    ngx_uint_t                        sub_next;
    ngx_event_t                       sub_ev;       /* subscribe again */

    u_char                            host[NGX_SOCKADDR_STRLEN + 1];

    unsigned                          exiting:1;
} ngx_http_webhook_sentinel_worker_t;


static ngx_http_webhook_sentinel_worker_t  ngx_http_webhook_sentinel_worker;

#define sw  ngx_http_webhook_sentinel_worker


static redisAsyncContext *ngx_http_webhook_sentinel_connect(
    ngx_http_webhook_redis_addr_t *a, redisConnectCallback *on_connect,
    redisDisconnectCallback *on_disconnect);
static void ngx_http_webhook_sentinel_ask_next(void);
static void ngx_http_webhook_sentinel_ask_connected(
    const redisAsyncContext *ac, int status);
static void ngx_http_webhook_sentinel_ask_lost(const redisAsyncContext *ac,
    int status);
static void ngx_http_webhook_sentinel_ask_reply(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_webhook_sentinel_ask_timeout(ngx_event_t *ev);
static void ngx_http_webhook_sentinel_ask_free(void);
static void ngx_http_webhook_sentinel_subscribe(ngx_event_t *ev);
static void ngx_http_webhook_sentinel_sub_connected(
    const redisAsyncContext *ac, int status);
static void ngx_http_webhook_sentinel_sub_lost(const redisAsyncContext *ac,
    int status);
static void ngx_http_webhook_sentinel_message(redisAsyncContext *ac,
    void *r, void *privdata);
static void ngx_http_webhook_sentinel_sub_again(void);
static ngx_int_t ngx_http_webhook_sentinel_address(u_char *host, size_t len);


/*
 * "sentinel://host[:port][,host[:port]...]/MASTER_NAME".  Each host is
 * resolved here (the first address), as for redis://.
 */

ngx_int_t
ngx_http_webhook_sentinel_parse_url(ngx_conf_t *cf,
    ngx_http_webhook_redis_conf_t *rcf, ngx_str_t *url,
    const webhook_redis_url_t *ru)
{
    ngx_url_t                       u;
    webhook_str_t                   list, host;
    ngx_http_webhook_redis_addr_t  *a;

    /* the shape is checked: the name is printable, without spaces */

    rcf->master_name.len = ru->master.len;
    rcf->master_name.data = ngx_pnalloc(cf->pool, rcf->master_name.len + 1);
    if (rcf->master_name.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(rcf->master_name.data, ru->master.data, rcf->master_name.len);
    rcf->master_name.data[rcf->master_name.len] = '\0';

    rcf->sentinels = ngx_array_create(cf->pool, 3,
                                      sizeof(ngx_http_webhook_redis_addr_t));
    if (rcf->sentinels == NULL) {
        return NGX_ERROR;
    }

    list = ru->host;

    while (webhook_redis_url_next_host(&list, &host)) {

        ngx_memzero(&u, sizeof(ngx_url_t));

        u.url.data = (u_char *) host.data;
        u.url.len = host.len;
        u.default_port = NGX_HTTP_WEBHOOK_SENTINEL_PORT;

        if (u.url.len == 0 || ngx_parse_url(cf->pool, &u) != NGX_OK) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "%s in redis URL \"%V\"",
                               u.err ? u.err : "an empty sentinel", url);
            return NGX_ERROR;
        }

        if (u.naddrs == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "no address for sentinel \"%V\" in redis "
                               "URL \"%V\"", &u.url, url);
            return NGX_ERROR;
        }

        a = ngx_array_push(rcf->sentinels);
        if (a == NULL) {
            return NGX_ERROR;
        }

        a->host.data = ngx_pnalloc(cf->pool, NGX_SOCKADDR_STRLEN + 1);
        if (a->host.data == NULL) {
            return NGX_ERROR;
        }

        a->host.len = ngx_sock_ntop(u.addrs[0].sockaddr, u.addrs[0].socklen,
                                    a->host.data, NGX_SOCKADDR_STRLEN, 0);
        a->host.data[a->host.len] = '\0';
        a->port = (int) ngx_inet_get_port(u.addrs[0].sockaddr);
    }

    return NGX_OK;
}


/* a worker starts: the subscription, at once; questions come on demand */

void
ngx_http_webhook_sentinel_init(ngx_http_webhook_redis_conf_t *rcf,
    ngx_log_t *log)
{
    ngx_memzero(&sw, sizeof(ngx_http_webhook_sentinel_worker_t));

    sw.conf = rcf;
    sw.log = log;

    sw.ask_ev.handler = ngx_http_webhook_sentinel_ask_timeout;
    sw.ask_ev.log = log;
    sw.ask_ev.data = &sw;
    sw.ask_ev.cancelable = 1;

    sw.sub_ev.handler = ngx_http_webhook_sentinel_subscribe;
    sw.sub_ev.log = log;
    sw.sub_ev.data = &sw;
    sw.sub_ev.cancelable = 1;

    /* the workers of a node spread over the sentinels */
    sw.next = ngx_pid % rcf->sentinels->nelts;
    sw.sub_next = sw.next;

    ngx_http_webhook_sentinel_subscribe(&sw.sub_ev);
}


static redisAsyncContext *
ngx_http_webhook_sentinel_connect(ngx_http_webhook_redis_addr_t *a,
    redisConnectCallback *on_connect, redisDisconnectCallback *on_disconnect)
{
    redisAsyncContext  *ac;

    ac = redisAsyncConnect((char *) a->host.data, a->port);

    if (ac == NULL) {
        return NULL;
    }

    if (ac->err || ngx_http_webhook_redis_attach(ac, sw.log) != NGX_OK) {
        redisAsyncFree(ac);
        return NULL;
    }

    (void) redisAsyncSetConnectCallback(ac, on_connect);
    (void) redisAsyncSetDisconnectCallback(ac, on_disconnect);

    return ac;
}


/* ---- where is the primary? --------------------------------------------- */


void
ngx_http_webhook_sentinel_ask(void)
{
    if (sw.ask || sw.exiting) {
        return;
    }

    sw.tried = 0;

    ngx_http_webhook_sentinel_ask_next();
}


static void
ngx_http_webhook_sentinel_ask_next(void)
{
    ngx_http_webhook_redis_addr_t  *a;

    ngx_http_webhook_sentinel_ask_free();

    if (sw.exiting) {
        return;
    }

    if (sw.tried == sw.conf->sentinels->nelts) {
        ngx_http_webhook_redis_undiscovered("no sentinel named the primary");
        return;
    }

    a = sw.conf->sentinels->elts;
    a = &a[sw.next];

    sw.next = (sw.next + 1) % sw.conf->sentinels->nelts;
    sw.tried++;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, sw.log, 0,
                   "webhook: asking sentinel %s:%d for the primary",
                   a->host.data, a->port);

    sw.ask = ngx_http_webhook_sentinel_connect(a,
                                    ngx_http_webhook_sentinel_ask_connected,
                                    ngx_http_webhook_sentinel_ask_lost);

    if (sw.ask == NULL) {
        ngx_http_webhook_sentinel_ask_next();
        return;
    }

    ngx_add_timer(&sw.ask_ev, sw.conf->timeout);
}


static void
ngx_http_webhook_sentinel_ask_connected(const redisAsyncContext *cac,
    int status)
{
    size_t              argvlen[3];
    const char         *argv[3];
    redisAsyncContext  *ac;

    ac = (redisAsyncContext *) cac;

    if (ac != sw.ask) {
        return;
    }

    if (status != REDIS_OK) {
        /* hiredis frees it after this returns */
        sw.ask = NULL;
        ngx_http_webhook_sentinel_ask_next();
        return;
    }

    argv[0] = "SENTINEL";
    argvlen[0] = 8;
    argv[1] = "get-master-addr-by-name";
    argvlen[1] = 23;
    argv[2] = (const char *) sw.conf->master_name.data;
    argvlen[2] = sw.conf->master_name.len;

    (void) redisAsyncCommandArgv(ac, ngx_http_webhook_sentinel_ask_reply,
                                 NULL, 3, argv, argvlen);
}


static void
ngx_http_webhook_sentinel_ask_lost(const redisAsyncContext *ac, int status)
{
    if (ac != sw.ask) {
        return;
    }

    sw.ask = NULL;
    ngx_http_webhook_sentinel_ask_next();
}


/* ["ip", "port"], or nil when the sentinel does not know the name */

static void
ngx_http_webhook_sentinel_ask_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    ngx_int_t    port;
    redisReply  *reply = r;

    if (ac != sw.ask || reply == NULL) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
        || reply->element[0] == NULL || reply->element[1] == NULL
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[1]->type != REDIS_REPLY_STRING
        || ngx_http_webhook_sentinel_address((u_char *)
                                             reply->element[0]->str,
                                             reply->element[0]->len)
           != NGX_OK)
    {
        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, sw.log, 0,
                       "webhook: the sentinel did not name the primary");
        ngx_http_webhook_sentinel_ask_next();
        return;
    }

    port = ngx_atoi((u_char *) reply->element[1]->str,
                    reply->element[1]->len);

    if (port < 1 || port > 65535) {
        ngx_http_webhook_sentinel_ask_next();
        return;
    }

    ngx_memcpy(sw.host, reply->element[0]->str, reply->element[0]->len);
    sw.host[reply->element[0]->len] = '\0';

    /* freed by hiredis once this callback returns */
    ngx_http_webhook_sentinel_ask_free();

    ngx_http_webhook_redis_discovered(sw.host, (int) port);
}


static void
ngx_http_webhook_sentinel_ask_timeout(ngx_event_t *ev)
{
    ngx_http_webhook_sentinel_ask_next();
}


static void
ngx_http_webhook_sentinel_ask_free(void)
{
    redisAsyncContext  *ac;

    if (sw.ask_ev.timer_set) {
        ngx_del_timer(&sw.ask_ev);
    }

    ac = sw.ask;
    sw.ask = NULL;

    if (ac) {
        redisAsyncFree(ac);
    }
}


/* an IPv4 or IPv6 address literal: nothing to resolve in a worker */

static ngx_int_t
ngx_http_webhook_sentinel_address(u_char *host, size_t len)
{
#if (NGX_HAVE_INET6)
    u_char  addr6[16];
#endif

    if (len == 0 || len > NGX_SOCKADDR_STRLEN) {
        return NGX_ERROR;
    }

    if (ngx_inet_addr(host, len) != INADDR_NONE) {
        return NGX_OK;
    }

#if (NGX_HAVE_INET6)
    if (ngx_inet6_addr(host, len, addr6) == NGX_OK) {
        return NGX_OK;
    }
#endif

    return NGX_ERROR;
}


/* ---- +switch-master ----------------------------------------------------- */


static void
ngx_http_webhook_sentinel_subscribe(ngx_event_t *ev)
{
    ngx_http_webhook_redis_addr_t  *a;

    if (sw.sub || sw.exiting || ngx_exiting) {
        return;
    }

    a = sw.conf->sentinels->elts;
    a = &a[sw.sub_next];

    sw.sub_next = (sw.sub_next + 1) % sw.conf->sentinels->nelts;

    sw.sub = ngx_http_webhook_sentinel_connect(a,
                                    ngx_http_webhook_sentinel_sub_connected,
                                    ngx_http_webhook_sentinel_sub_lost);

    if (sw.sub == NULL) {
        ngx_http_webhook_sentinel_sub_again();
    }
}


static void
ngx_http_webhook_sentinel_sub_connected(const redisAsyncContext *cac,
    int status)
{
    size_t              argvlen[2];
    const char         *argv[2];
    redisAsyncContext  *ac;

    ac = (redisAsyncContext *) cac;

    if (ac != sw.sub) {
        return;
    }

    if (status != REDIS_OK) {
        sw.sub = NULL;
        ngx_http_webhook_sentinel_sub_again();
        return;
    }

    argv[0] = "SUBSCRIBE";
    argvlen[0] = 9;
    argv[1] = "+switch-master";
    argvlen[1] = 14;

    (void) redisAsyncCommandArgv(ac, ngx_http_webhook_sentinel_message,
                                 NULL, 2, argv, argvlen);
}


static void
ngx_http_webhook_sentinel_sub_lost(const redisAsyncContext *ac, int status)
{
    if (ac != sw.sub) {
        return;
    }

    sw.sub = NULL;
    ngx_http_webhook_sentinel_sub_again();
}


static void
ngx_http_webhook_sentinel_sub_again(void)
{
    if (sw.exiting || ngx_exiting || sw.sub_ev.timer_set) {
        return;
    }

    ngx_add_timer(&sw.sub_ev, NGX_HTTP_WEBHOOK_SENTINEL_RESUB);
}


/*
 * ["message", "+switch-master", "<name> <old ip> <old port> <new ip>
 * <new port>"]: for our name, drop the connection and ask again.
 */

static void
ngx_http_webhook_sentinel_message(redisAsyncContext *ac, void *r,
    void *privdata)
{
    size_t       len;
    redisReply  *reply = r;
    redisReply  *msg;

    if (ac != sw.sub || reply == NULL || sw.exiting) {
        return;
    }

    if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
        || reply->element[0] == NULL || reply->element[2] == NULL
        || reply->element[0]->type != REDIS_REPLY_STRING
        || reply->element[0]->len != 7
        || ngx_strncmp(reply->element[0]->str, "message", 7) != 0
        || reply->element[2]->type != REDIS_REPLY_STRING)
    {
        /* the subscription's confirmation, or something else */
        return;
    }

    msg = reply->element[2];
    len = sw.conf->master_name.len;

    if (msg->len <= len || msg->str[len] != ' '
        || ngx_strncmp(msg->str, sw.conf->master_name.data, len) != 0)
    {
        return;
    }

    ngx_log_error(NGX_LOG_NOTICE, sw.log, 0,
                  "webhook: sentinel: %*s", ngx_min(msg->len, 200),
                  msg->str);

    ngx_http_webhook_redis_switch();
}


/* the worker exits: both connections go, their callbacks do nothing */

void
ngx_http_webhook_sentinel_exit(void)
{
    redisAsyncContext  *ac;

    if (sw.conf == NULL) {
        return;
    }

    sw.exiting = 1;

    ngx_http_webhook_sentinel_ask_free();

    if (sw.sub_ev.timer_set) {
        ngx_del_timer(&sw.sub_ev);
    }

    ac = sw.sub;
    sw.sub = NULL;

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }
}

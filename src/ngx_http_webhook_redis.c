
/*
 * ngx_http_webhook_module: the connection to Redis (webhook_redis itself
 * is in ngx_http_webhook_redis_conf.c, the store on top of this in
 * ngx_http_webhook_redis_store.c).
 *
 * Each worker keeps one hiredis async connection on the nginx event loop
 * (ngx_http_webhook_redis_adapter.c) and nothing here ever blocks: the
 * address was resolved at configuration time, connects are non-blocking,
 * and every wait is bounded by an nginx timer, since hiredis 0.14 has no
 * timeouts of its own:
 *
 *   - connect + handshake (AUTH, SELECT, PING) within "timeout";
 *   - commands: a watchdog compares commands sent and answered, and
 *     drops the connection when an answer is "timeout" late;
 *   - a request waiting on Redis (webhook_replay ... redis=on) has its
 *     own timer, and goes on without Redis when it fires.
 * A lost connection is retried with exponential backoff (100ms, doubling,
 * capped at 2s, +-20% jitter).  Whatever fails, requests are answered:
 * the node falls back to its own counts and records (on_error=local),
 * skips the synced limits (open) or answers 503 (closed).  One warning is
 * logged per outage, for the whole node, and a notice when Redis is back.
 *
 * Limits: the store's "sync counts" writes this node's absolute counts
 * of a key (never less than what is stored: a retried or late write
 * cannot count twice) and returns the cluster's sums; the rounds and the
 * lease that drive it are the limiter's (ngx_http_webhook_limit_sync.c).
 * Sentinel: ngx_http_webhook_redis_sentinel.c finds the primary.
 *
 * Every command is a script (EVALSHA, then EVAL after NOSCRIPT), and
 * every reply is checked for its type and size before it is used.  The
 * exception: webhook_enqueue's stream commands, sent as they are through
 * ngx_http_webhook_redis_request() and ngx_http_webhook_redis_command(),
 * whose error replies are their caller's to judge.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/evp.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"
#include "webhook_redis_url.h"


#define NGX_HTTP_WEBHOOK_BACKOFF_MIN      100
#define NGX_HTTP_WEBHOOK_BACKOFF_MAX      2000

/* a worker's connection */
#define NGX_HTTP_WEBHOOK_REDIS_DOWN       0
#define NGX_HTTP_WEBHOOK_REDIS_CONNECTING 1
#define NGX_HTTP_WEBHOOK_REDIS_HANDSHAKE  2
#define NGX_HTTP_WEBHOOK_REDIS_READY      3
#define NGX_HTTP_WEBHOOK_REDIS_DISCOVER   4   /* asking Sentinel */


/* one script call, its arguments kept for a retry with EVAL */
typedef struct {
    ngx_http_webhook_redis_reply_pt   handler;
    void                             *data;
    ngx_uint_t                        script;
    ngx_uint_t                        retried;
    int                               argc;
    const char                      **argv;
    size_t                           *argvlen;
} ngx_http_webhook_redis_cmd_t;


static ngx_int_t ngx_http_webhook_redis_hash_scripts(ngx_log_t *log);
static void ngx_http_webhook_redis_connect(void);
static void ngx_http_webhook_redis_connect_to(const char *host, int port);
static void ngx_http_webhook_redis_on_connect(const redisAsyncContext *ac,
    int status);
static void ngx_http_webhook_redis_on_disconnect(const redisAsyncContext *ac,
    int status);
static void ngx_http_webhook_redis_handshake(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_webhook_redis_ready(void);
static void ngx_http_webhook_redis_lost(void);
static void ngx_http_webhook_redis_drop(const char *why, const char *detail);
static void ngx_http_webhook_redis_retry(void);
static void ngx_http_webhook_redis_retry_handler(ngx_event_t *ev);
static void ngx_http_webhook_redis_connect_handler(ngx_event_t *ev);
static void ngx_http_webhook_redis_watch_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_webhook_redis_send(
    ngx_http_webhook_redis_cmd_t *cmd);
static void ngx_http_webhook_redis_script_reply(redisAsyncContext *ac,
    void *reply, void *privdata);
static void ngx_http_webhook_redis_back(void);
static ngx_uint_t ngx_http_webhook_redis_alive(ngx_pid_t pid);


ngx_http_webhook_redis_worker_t  ngx_http_webhook_redis_worker;

#define rw  ngx_http_webhook_redis_worker


/*
 * A worker starts: its node identity, the scripts' SHA1s, the first
 * connect, and the sync timer if any zone syncs.  Timers are cancelable
 * so that a graceful shutdown does not wait for them.
 */

ngx_int_t
ngx_http_webhook_redis_init_process(ngx_cycle_t *cycle)
{
    u_char                         *p;
    ngx_pid_t                       master;
    ngx_http_webhook_main_conf_t   *wmcf;
    ngx_http_webhook_redis_conf_t  *rcf;

    if (ngx_process != NGX_PROCESS_WORKER
        && ngx_process != NGX_PROCESS_SINGLE)
    {
        return NGX_OK;
    }

    if (ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL) {
        return NGX_OK;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_webhook_module);

    if (wmcf == NULL || wmcf->redis == NULL) {
        return NGX_OK;
    }

    rcf = wmcf->redis;

    ngx_memzero(&rw, sizeof(ngx_http_webhook_redis_worker_t));

    rw.conf = rcf;
    rw.log = cycle->log;

    /*
     * "<hostname>:<master pid>:<random id>": several nginx on one host
     * are several nodes, and the workers of one nginx (and of its
     * reloads) are one.  The random id, drawn when the master made the
     * zone, tells apart containers that share a hostname and a pid.
     */

    master = (ngx_process == NGX_PROCESS_WORKER) ? ngx_parent : ngx_pid;

    rw.node.data = ngx_pnalloc(cycle->pool,
                               cycle->hostname.len + 2 + NGX_INT64_LEN
                               + 2 * sizeof(rcf->sh->node_id));
    if (rw.node.data == NULL) {
        return NGX_ERROR;
    }

    p = ngx_sprintf(rw.node.data, "%V:%P:", &cycle->hostname, master);
    p = ngx_hex_dump(p, rcf->sh->node_id, sizeof(rcf->sh->node_id));
    rw.node.len = p - rw.node.data;

    if (ngx_http_webhook_redis_hash_scripts(cycle->log) != NGX_OK) {
        return NGX_ERROR;
    }

    rw.connect_ev.handler = ngx_http_webhook_redis_connect_handler;
    rw.connect_ev.log = cycle->log;
    rw.connect_ev.data = &rw;
    rw.connect_ev.cancelable = 1;

    rw.retry_ev.handler = ngx_http_webhook_redis_retry_handler;
    rw.retry_ev.log = cycle->log;
    rw.retry_ev.data = &rw;
    rw.retry_ev.cancelable = 1;

    rw.watch_ev.handler = ngx_http_webhook_redis_watch_handler;
    rw.watch_ev.log = cycle->log;
    rw.watch_ev.data = &rw;
    rw.watch_ev.cancelable = 1;

    if (rcf->sentinels) {
        ngx_http_webhook_sentinel_init(rcf, cycle->log);
    }

    ngx_http_webhook_redis_connect();

    return NGX_OK;
}


static ngx_int_t
ngx_http_webhook_redis_hash_scripts(ngx_log_t *log)
{
    u_char        md[EVP_MAX_MD_SIZE];
    unsigned int  len;
    ngx_uint_t    i;

    for (i = 0; i < NGX_HTTP_WEBHOOK_NSCRIPTS; i++) {

        if (EVP_Digest(ngx_http_webhook_redis_scripts[i].data,
                       ngx_http_webhook_redis_scripts[i].len, md, &len,
                       EVP_sha1(), NULL)
            != 1 || len != 20)
        {
            ngx_log_error(NGX_LOG_EMERG, log, 0,
                          "webhook: redis: SHA1 of a script failed");
            return NGX_ERROR;
        }

        ngx_hex_dump(rw.sha[i], md, 20);
        rw.sha[i][40] = '\0';
    }

    return NGX_OK;
}


/*
 * The worker exits: give the lease back, and close the connection
 * before nginx looks for sockets left open.  Callbacks still pending
 * are called with no reply and, seeing rw.exiting, only free memory.
 */

void
ngx_http_webhook_redis_exit_process(ngx_cycle_t *cycle)
{
    redisAsyncContext              *ac;
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = rw.conf;

    if (rcf == NULL) {
        return;
    }

    rw.exiting = 1;

    if (rcf->sentinels) {
        ngx_http_webhook_sentinel_exit();
    }

    if (rw.slot) {
        ngx_shmtx_lock(&rcf->shpool->mutex);
        rcf->sh->slots[rw.slot - 1].connected = 0;
        rcf->sh->slots[rw.slot - 1].pid = 0;
        ngx_shmtx_unlock(&rcf->shpool->mutex);
        rw.slot = 0;
    }

    ac = rw.ac;
    rw.ac = NULL;
    rw.state = NGX_HTTP_WEBHOOK_REDIS_DOWN;

    if (ac) {
        ac->onDisconnect = NULL;
        redisAsyncFree(ac);
    }

    rw.conf = NULL;
}


/* ---- the connection ---------------------------------------------------- */


static void
ngx_http_webhook_redis_connect(void)
{
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = rw.conf;

    if (rw.exiting || ngx_exiting || ngx_terminate || ngx_quit
        || rw.state == NGX_HTTP_WEBHOOK_REDIS_DISCOVER)
    {
        return;
    }

    if (rcf->sentinels) {
        /* ask where the primary is first, every time */
        rw.state = NGX_HTTP_WEBHOOK_REDIS_DISCOVER;
        ngx_http_webhook_sentinel_ask();
        return;
    }

    ngx_http_webhook_redis_connect_to((char *) rcf->host.data, rcf->port);
}


/* Sentinel named the primary: connect there */

void
ngx_http_webhook_redis_discovered(u_char *host, int port)
{
    if (rw.state != NGX_HTTP_WEBHOOK_REDIS_DISCOVER || rw.exiting) {
        return;
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rw.log, 0,
                   "webhook: redis: the primary is %s:%d", host, port);

    rw.state = NGX_HTTP_WEBHOOK_REDIS_DOWN;

    ngx_http_webhook_redis_connect_to((char *) host, port);
}


/* no sentinel answered: a failure, and try again later */

void
ngx_http_webhook_redis_undiscovered(const char *detail)
{
    if (rw.state != NGX_HTTP_WEBHOOK_REDIS_DISCOVER || rw.exiting) {
        return;
    }

    rw.state = NGX_HTTP_WEBHOOK_REDIS_DOWN;

    ngx_http_webhook_redis_error("sentinel", detail, 0);
    ngx_http_webhook_redis_retry();
}


/* +switch-master: the primary moved; drop the connection, ask again */

void
ngx_http_webhook_redis_switch(void)
{
    if (rw.ac && rw.state == NGX_HTTP_WEBHOOK_REDIS_READY) {
        ngx_http_webhook_redis_drop("sentinel", "+switch-master");
    }
}


static void
ngx_http_webhook_redis_connect_to(const char *host, int port)
{
    redisAsyncContext              *ac;
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = rw.conf;

    if (rcf->path.len) {
        ac = redisAsyncConnectUnix((char *) rcf->path.data);

    } else {
        ac = redisAsyncConnect(host, port);
    }

    if (ac == NULL) {
        ngx_http_webhook_redis_error("connect", "out of memory", 0);
        ngx_http_webhook_redis_retry();
        return;
    }

    if (ac->err) {
        ngx_http_webhook_redis_error("connect", ac->errstr, 0);
        redisAsyncFree(ac);
        ngx_http_webhook_redis_retry();
        return;
    }

    /* before the connect callback: setting it asks for a write event */

    if (ngx_http_webhook_redis_attach(ac, rw.log) != NGX_OK) {
        ngx_http_webhook_redis_error("connect", "no free connection", 0);
        redisAsyncFree(ac);
        ngx_http_webhook_redis_retry();
        return;
    }

    rw.ac = ac;
    rw.state = NGX_HTTP_WEBHOOK_REDIS_CONNECTING;
    rw.sent = 0;
    rw.answered = 0;

    (void) redisAsyncSetConnectCallback(ac,
                                        ngx_http_webhook_redis_on_connect);
    (void) redisAsyncSetDisconnectCallback(ac,
                                        ngx_http_webhook_redis_on_disconnect);

    /* connect and handshake, both within the timeout */
    ngx_add_timer(&rw.connect_ev, rcf->timeout);
}


/*
 * Connected (or not).  On failure hiredis frees the context right after
 * this returns; on success the handshake goes out at once, pipelined:
 * AUTH, SELECT, PING, then SCRIPT LOAD of each script.  The connection
 * counts once PING is answered, so a Redis that accepts but does not
 * answer (DEBUG SLEEP, CLIENT PAUSE) is not taken for a working one.
 */

static void
ngx_http_webhook_redis_on_connect(const redisAsyncContext *cac, int status)
{
    u_char                         *p;
    size_t                          argvlen[3];
    ngx_uint_t                      i;
    const char                     *argv[3];
    redisAsyncContext              *ac;
    ngx_http_webhook_redis_conf_t  *rcf;
    u_char                          db[NGX_INT_T_LEN];

    ac = (redisAsyncContext *) cac;
    rcf = rw.conf;

    if (ac != rw.ac) {
        return;
    }

    if (status != REDIS_OK) {
        rw.ac = NULL;
        rw.state = NGX_HTTP_WEBHOOK_REDIS_DOWN;

        if (rw.connect_ev.timer_set) {
            ngx_del_timer(&rw.connect_ev);
        }

        ngx_http_webhook_redis_error("connect", ac->errstr, 0);
        ngx_http_webhook_redis_retry();
        return;
    }

    rw.state = NGX_HTTP_WEBHOOK_REDIS_HANDSHAKE;

    if (rcf->password.len) {
        argv[0] = "AUTH";
        argvlen[0] = 4;
        argv[1] = (const char *) rcf->password.data;
        argvlen[1] = rcf->password.len;

        (void) redisAsyncCommandArgv(ac, ngx_http_webhook_redis_handshake,
                                     (void *) "AUTH", 2, argv, argvlen);
    }

    if (rcf->db) {
        p = ngx_sprintf(db, "%ui", rcf->db);

        argv[0] = "SELECT";
        argvlen[0] = 6;
        argv[1] = (const char *) db;
        argvlen[1] = p - db;

        (void) redisAsyncCommandArgv(ac, ngx_http_webhook_redis_handshake,
                                     (void *) "SELECT", 2, argv, argvlen);
    }

    if (rcf->sentinels) {
        /* a sentinel may not know of a failover yet: is it the primary? */
        argv[0] = "ROLE";
        argvlen[0] = 4;

        (void) redisAsyncCommandArgv(ac, ngx_http_webhook_redis_handshake,
                                     (void *) "ROLE", 1, argv, argvlen);
    }

    argv[0] = "PING";
    argvlen[0] = 4;

    (void) redisAsyncCommandArgv(ac, ngx_http_webhook_redis_handshake,
                                 (void *) "PING", 1, argv, argvlen);

    /*
     * After PING, off the handshake's path: the scripts are still known
     * to Redis before the first EVALSHA on this connection (Redis runs a
     * connection's commands in order), so no NOSCRIPT round trip delays
     * a replay settle past the answer.
     */

    for (i = 0; i < NGX_HTTP_WEBHOOK_NSCRIPTS; i++) {
        argv[0] = "SCRIPT";
        argvlen[0] = 6;
        argv[1] = "LOAD";
        argvlen[1] = 4;
        argv[2] = (const char *) ngx_http_webhook_redis_scripts[i].data;
        argvlen[2] = ngx_http_webhook_redis_scripts[i].len;

        (void) redisAsyncCommandArgv(ac, ngx_http_webhook_redis_handshake,
                                     (void *) "SCRIPT LOAD", 3, argv,
                                     argvlen);
    }
}


static void
ngx_http_webhook_redis_handshake(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply  *reply = r;
    const char  *what = privdata;

    if (ac != rw.ac || reply == NULL) {
        return;
    }

    if (reply->type == REDIS_REPLY_ERROR) {
        ngx_http_webhook_redis_drop(what, reply->str);
        return;
    }

    if (ngx_strcmp(what, "ROLE") == 0) {
        if (reply->type != REDIS_REPLY_ARRAY || reply->elements == 0
            || reply->element[0] == NULL
            || reply->element[0]->type != REDIS_REPLY_STRING
            || reply->element[0]->len != 6
            || ngx_strncmp(reply->element[0]->str, "master", 6) != 0)
        {
            ngx_http_webhook_redis_drop("ROLE", "not the primary");
        }

        return;
    }

    if (ngx_strcmp(what, "PING") != 0) {
        return;
    }

    if (reply->type != REDIS_REPLY_STATUS || reply->len != 4
        || ngx_strncmp(reply->str, "PONG", 4) != 0)
    {
        ngx_http_webhook_redis_drop("PING", "unexpected reply");
        return;
    }

    ngx_http_webhook_redis_ready();
}


static void
ngx_http_webhook_redis_ready(void)
{
    ngx_uint_t                      i, free;
    ngx_http_webhook_redis_sh_t    *sh;
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = rw.conf;
    sh = rcf->sh;

    if (rw.connect_ev.timer_set) {
        ngx_del_timer(&rw.connect_ev);
    }

    rw.state = NGX_HTTP_WEBHOOK_REDIS_READY;
    rw.backoff = 0;

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, rw.log, 0,
                   "webhook: redis %V connected as %V", &rcf->url, &rw.node);

    /* count this worker in: its own slot, or a free one, or a dead one's */

    if (rw.slot == 0) {
        ngx_shmtx_lock(&rcf->shpool->mutex);

        free = NGX_HTTP_WEBHOOK_REDIS_SLOTS;

        for (i = 0; i < NGX_HTTP_WEBHOOK_REDIS_SLOTS; i++) {
            if (sh->slots[i].pid == ngx_pid) {
                free = i;
                break;
            }

            if (free == NGX_HTTP_WEBHOOK_REDIS_SLOTS
                && (sh->slots[i].pid == 0
                    || !ngx_http_webhook_redis_alive(sh->slots[i].pid)))
            {
                free = i;
            }
        }

        if (free < NGX_HTTP_WEBHOOK_REDIS_SLOTS) {
            sh->slots[free].pid = ngx_pid;
            rw.slot = free + 1;
        }

        ngx_shmtx_unlock(&rcf->shpool->mutex);
    }

    if (rw.slot) {
        sh->slots[rw.slot - 1].connected = 1;
    }

    ngx_http_webhook_redis_back();
}


/*
 * hiredis lost the connection (the server closed it, a read or write
 * failed).  Called from inside hiredis, which frees the context after.
 */

static void
ngx_http_webhook_redis_on_disconnect(const redisAsyncContext *ac, int status)
{
    if (ac != rw.ac) {
        return;
    }

    ngx_http_webhook_redis_lost();

    ngx_http_webhook_redis_error("connection lost",
                                 ac->errstr ? ac->errstr : "closed", 0);
    ngx_http_webhook_redis_retry();
}


/* forget the connection (its context is freed by the caller or hiredis) */

static void
ngx_http_webhook_redis_lost(void)
{
    rw.ac = NULL;
    rw.state = NGX_HTTP_WEBHOOK_REDIS_DOWN;
    rw.sent = 0;
    rw.answered = 0;

    if (rw.connect_ev.timer_set) {
        ngx_del_timer(&rw.connect_ev);
    }

    if (rw.watch_ev.timer_set) {
        ngx_del_timer(&rw.watch_ev);
    }

    if (rw.slot && rw.conf) {
        rw.conf->sh->slots[rw.slot - 1].connected = 0;
    }
}


/*
 * Give up on the connection: a timeout, a refused AUTH.  Our pointer is
 * cleared first: redisAsyncFree() calls every pending callback (with no
 * reply), and none of them may use the context again.  From inside a
 * hiredis callback the free is deferred by hiredis until it returns.
 */

static void
ngx_http_webhook_redis_drop(const char *why, const char *detail)
{
    redisAsyncContext  *ac;

    ac = rw.ac;

    ngx_http_webhook_redis_lost();
    ngx_http_webhook_redis_error(why, detail, 0);

    if (ac) {
        redisAsyncFree(ac);
    }

    rw.sent = 0;
    rw.answered = 0;

    ngx_http_webhook_redis_retry();
}


/* exponential backoff with jitter: 100ms, doubling, at most 2s, +-20% */

static void
ngx_http_webhook_redis_retry(void)
{
    ngx_msec_t  delay;

    if (rw.exiting || ngx_exiting || rw.retry_ev.timer_set) {
        return;
    }

    if (rw.backoff == 0) {
        rw.backoff = NGX_HTTP_WEBHOOK_BACKOFF_MIN;

    } else {
        rw.backoff = ngx_min(rw.backoff * 2, NGX_HTTP_WEBHOOK_BACKOFF_MAX);
    }

    delay = rw.backoff * (80 + (ngx_msec_t) (ngx_random() % 41)) / 100;

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, rw.log, 0,
                   "webhook: redis: reconnect in %Mms", delay);

    ngx_add_timer(&rw.retry_ev, delay);
}


static void
ngx_http_webhook_redis_retry_handler(ngx_event_t *ev)
{
    if (rw.ac == NULL && rw.state != NGX_HTTP_WEBHOOK_REDIS_DISCOVER) {
        ngx_http_webhook_redis_connect();
    }
}


static void
ngx_http_webhook_redis_connect_handler(ngx_event_t *ev)
{
    if (rw.ac && rw.state != NGX_HTTP_WEBHOOK_REDIS_READY) {
        ngx_http_webhook_redis_drop(
            rw.state == NGX_HTTP_WEBHOOK_REDIS_CONNECTING
            ? "connect" : "handshake", "timed out");
    }
}


/*
 * The command watchdog.  Armed when a command goes out, it remembers how
 * many had been sent; when it fires, those must all have been answered
 * (Redis answers in order), or the connection is dropped.  An answer is
 * thus never more than twice "timeout" late before the connection goes;
 * a waiting request has its own, exact, timer.
 */

static void
ngx_http_webhook_redis_watch_handler(ngx_event_t *ev)
{
    if (rw.ac == NULL || rw.state != NGX_HTTP_WEBHOOK_REDIS_READY) {
        return;
    }

    if (rw.answered < rw.watch_mark) {
        /*
         * The answers may be there, their read event not yet handled
         * (posted events, as with accept_mutex, run after the timers):
         * read first.  hiredis may drop the connection meanwhile.
         */

        redisAsyncHandleRead(rw.ac);

        if (rw.ac == NULL || rw.state != NGX_HTTP_WEBHOOK_REDIS_READY) {
            return;
        }
    }

    if (rw.answered < rw.watch_mark) {
        ngx_http_webhook_redis_drop("command", "timed out");
        return;
    }

    if (rw.answered < rw.sent) {
        rw.watch_mark = rw.sent;
        ngx_add_timer(&rw.watch_ev, rw.conf->timeout);
    }
}


/* ---- scripts ----------------------------------------------------------- */


/*
 * Run a script: args[0 .. nkeys - 1] are its KEYS, the rest its ARGV.
 * NGX_OK: handler will be called once, later, never from in here.
 * NGX_DECLINED: not connected now; handler will not be called.
 */

ngx_int_t
ngx_http_webhook_redis_script(ngx_uint_t script, ngx_str_t *args,
    ngx_uint_t nkeys, ngx_uint_t nargs,
    ngx_http_webhook_redis_reply_pt handler, void *data)
{
    u_char                        *p;
    size_t                         size;
    ngx_uint_t                     i, n;
    ngx_http_webhook_redis_cmd_t  *cmd;

    if (rw.ac == NULL || rw.state != NGX_HTTP_WEBHOOK_REDIS_READY
        || rw.exiting)
    {
        return NGX_DECLINED;
    }

    n = 3 + nkeys + nargs;

    size = sizeof(ngx_http_webhook_redis_cmd_t)
           + n * (sizeof(char *) + sizeof(size_t)) + NGX_INT_T_LEN;

    for (i = 0; i < nkeys + nargs; i++) {
        size += args[i].len;
    }

    cmd = ngx_alloc(size, rw.log);
    if (cmd == NULL) {
        return NGX_DECLINED;
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->script = script;
    cmd->retried = 0;
    cmd->argc = (int) n;
    cmd->argv = (const char **) (cmd + 1);
    cmd->argvlen = (size_t *) (cmd->argv + n);

    p = (u_char *) (cmd->argvlen + n);

    cmd->argv[0] = "EVALSHA";
    cmd->argvlen[0] = 7;
    cmd->argv[1] = (const char *) rw.sha[script];
    cmd->argvlen[1] = 40;

    cmd->argv[2] = (const char *) p;
    p = ngx_sprintf(p, "%ui", nkeys);
    cmd->argvlen[2] = p - (u_char *) cmd->argv[2];

    for (i = 0; i < nkeys + nargs; i++) {
        cmd->argv[3 + i] = (const char *) p;
        cmd->argvlen[3 + i] = args[i].len;
        p = ngx_cpymem(p, args[i].data, args[i].len);
    }

    if (ngx_http_webhook_redis_send(cmd) != NGX_OK) {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/*
 * Write what is queued now rather than on the next turn of the event
 * loop: a replay record's settle reaches Redis before the answer that
 * settled it reaches the client.
 */

void
ngx_http_webhook_redis_flush(void)
{
    if (rw.ac && rw.state == NGX_HTTP_WEBHOOK_REDIS_READY && !rw.exiting) {
        redisAsyncHandleWrite(rw.ac);
    }
}


static ngx_int_t
ngx_http_webhook_redis_send(ngx_http_webhook_redis_cmd_t *cmd)
{
    if (rw.ac == NULL || rw.state != NGX_HTTP_WEBHOOK_REDIS_READY) {
        return NGX_DECLINED;
    }

    if (redisAsyncCommandArgv(rw.ac, ngx_http_webhook_redis_script_reply,
                              cmd, cmd->argc, cmd->argv, cmd->argvlen)
        != REDIS_OK)
    {
        return NGX_DECLINED;
    }

    rw.sent++;

    if (!rw.watch_ev.timer_set) {
        rw.watch_mark = rw.sent;
        ngx_add_timer(&rw.watch_ev, rw.conf->timeout);
    }

    return NGX_OK;
}


/*
 * Every script's answer comes here first: counted against the watchdog,
 * EVALSHA retried as EVAL once when Redis does not know the script (a
 * restart, SCRIPT FLUSH), error replies recorded, then the caller's
 * handler, then the command's memory freed.
 */

static void
ngx_http_webhook_redis_script_reply(redisAsyncContext *ac, void *r,
    void *privdata)
{
    redisReply                    *reply = r;
    ngx_http_webhook_redis_cmd_t  *cmd = privdata;

    if (ac == rw.ac) {
        rw.answered++;
    }

    if (reply && reply->type == REDIS_REPLY_ERROR && !rw.exiting) {

        if (cmd->script < NGX_HTTP_WEBHOOK_NSCRIPTS
            && !cmd->retried && ac == rw.ac && reply->len >= 8
            && ngx_strncmp(reply->str, "NOSCRIPT", 8) == 0)
        {
            cmd->retried = 1;
            cmd->argv[0] = "EVAL";
            cmd->argvlen[0] = 4;
            cmd->argv[1] = (const char *)
                           ngx_http_webhook_redis_scripts[cmd->script].data;
            cmd->argvlen[1] = ngx_http_webhook_redis_scripts[cmd->script].len;

            if (ngx_http_webhook_redis_send(cmd) == NGX_OK) {
                return;
            }
        }

        if (ac == rw.ac
            && ngx_strlcasestrn((u_char *) reply->str,
                                (u_char *) reply->str + reply->len,
                                (u_char *) "READONLY", 8 - 1)
               != NULL)
        {
            /* a replica now (a failover): find the primary again */
            ngx_http_webhook_redis_drop("command", "READONLY: a replica");

        } else if (cmd->script < NGX_HTTP_WEBHOOK_NSCRIPTS) {
            /* a command's error reply is its caller's to judge */
            ngx_http_webhook_redis_error("script", reply->str, reply->len);
        }

    } else if (reply && cmd->script < NGX_HTTP_WEBHOOK_NSCRIPTS
               && ngx_http_webhook_redis_script_types[cmd->script]
               && reply->type != ngx_http_webhook_redis_script_types[cmd->script])
    {
        /* Redis is not trusted to answer what the script returns */
        if (!rw.exiting) {
            ngx_http_webhook_redis_error("script", "reply of the wrong type",
                                         0);
        }

        reply = NULL;

    } else if (reply && ac == rw.ac) {
        ngx_http_webhook_redis_back();
    }

    cmd->handler(reply, cmd->data);

    ngx_free(cmd);
}


/*
 * What the node does now: NGX_HTTP_WEBHOOK_REDIS_UP while Redis answers,
 * else the on_error= behaviour (LOCAL, OPEN or CLOSED).
 */

ngx_uint_t
ngx_http_webhook_store_mode(ngx_http_webhook_redis_conf_t *rcf)
{
    if (rcf->sh->outage == 0) {
        return NGX_HTTP_WEBHOOK_REDIS_UP;
    }

    return rcf->on_error;
}


/* for callers: Redis did not do what it should have (no answer in time) */

void
ngx_http_webhook_store_trouble(ngx_http_webhook_redis_conf_t *rcf,
    const char *what)
{
    ngx_http_webhook_redis_error(what, "no answer in time", 0);
}


/*
 * A failure: counted, kept as last_error for the status page, and the
 * first of an outage logs one warning for the whole node.
 */

void
ngx_http_webhook_redis_error(const char *what, const char *detail,
    size_t len)
{
    u_char                         *p, *last;
    size_t                          n;
    const char                     *then;
    ngx_http_webhook_redis_sh_t    *sh;
    ngx_http_webhook_redis_conf_t  *rcf;
    u_char                          text[NGX_HTTP_WEBHOOK_REDIS_ERROR_MAX];

    rcf = rw.conf;

    if (rcf == NULL || rw.exiting) {
        return;
    }

    sh = rcf->sh;

    if (detail == NULL) {
        detail = "unknown error";
    }

    if (len == 0) {
        len = ngx_strlen(detail);
    }

    /*
     * What Redis (or whatever answers on its port) said is hostile
     * input: it goes to the log and to the status page as printable
     * ASCII only, and bounded.
     */

    p = ngx_slprintf(text, text + sizeof(text), "%s: %*s", what, len, detail);
    n = p - text;

    for (p = text; p < text + n; p++) {
        if (*p < 0x20 || *p >= 0x7f) {
            *p = '?';
        }
    }

    (void) ngx_atomic_fetch_add(&sh->failures, 1);

    ngx_shmtx_lock(&rcf->shpool->mutex);

    last = ngx_cpymem(sh->last_error, text, n);
    sh->last_error_len = last - sh->last_error;

    ngx_shmtx_unlock(&rcf->shpool->mutex);

    if (!ngx_atomic_cmp_set(&sh->outage, 0, 1)) {
        ngx_log_debug3(NGX_LOG_DEBUG_HTTP, rw.log, 0,
                       "webhook: redis %V: %*s", &rcf->url, n, text);
        return;
    }

    switch (rcf->on_error) {

    case NGX_HTTP_WEBHOOK_REDIS_OPEN:
        then = "sync=on rate limits are not enforced and duplicate "
               "detection is node-local";
        break;

    case NGX_HTTP_WEBHOOK_REDIS_CLOSED:
        then = "requests that need it are answered 503";
        break;

    default: /* NGX_HTTP_WEBHOOK_REDIS_LOCAL */
        then = "rate limits fall back to node-local counts and duplicate "
               "detection to node-local records";
    }

    ngx_log_error(NGX_LOG_WARN, rw.log, 0,
                  "webhook: redis %V is unavailable (%*s): %s until it "
                  "is back", &rcf->url, n, text, then);
}


/* Redis answered: an outage, if there was one, is over */

static void
ngx_http_webhook_redis_back(void)
{
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = rw.conf;

    if (rcf->sh->outage && ngx_atomic_cmp_set(&rcf->sh->outage, 1, 0)) {
        ngx_log_error(NGX_LOG_NOTICE, rw.log, 0,
                      "webhook: redis %V is back", &rcf->url);
    }
}


/* ---- commands ------------------------------------------------------------ */


/*
 * One command (not a script) with no request behind it: handler(reply,
 * data) once, later, never from in here; NGX_DECLINED: not connected.
 * The arguments are formatted before this returns.
 */

ngx_int_t
ngx_http_webhook_redis_command(int argc, const char **argv,
    const size_t *argvlen, ngx_http_webhook_redis_reply_pt handler,
    void *data)
{
    ngx_int_t                      rc;
    ngx_http_webhook_redis_cmd_t  *cmd;

    if (rw.ac == NULL || rw.state != NGX_HTTP_WEBHOOK_REDIS_READY
        || rw.exiting)
    {
        return NGX_DECLINED;
    }

    cmd = ngx_alloc(sizeof(ngx_http_webhook_redis_cmd_t), rw.log);
    if (cmd == NULL) {
        return NGX_DECLINED;
    }

    cmd->handler = handler;
    cmd->data = data;
    cmd->script = NGX_HTTP_WEBHOOK_NSCRIPTS;     /* never retried */
    cmd->retried = 1;
    cmd->argc = argc;
    cmd->argv = argv;
    cmd->argvlen = (size_t *) argvlen;

    rc = ngx_http_webhook_redis_send(cmd);

    cmd->argv = NULL;
    cmd->argvlen = NULL;

    if (rc != NGX_OK) {
        ngx_free(cmd);
        return NGX_DECLINED;
    }

    return NGX_OK;
}


/* ---- what others ask ---------------------------------------------------- */


/* this worker's connection answers (commands can be sent) */

ngx_uint_t
ngx_http_webhook_store_connected(void)
{
    return rw.ac != NULL && rw.state == NGX_HTTP_WEBHOOK_REDIS_READY
           && !rw.exiting;
}


ngx_str_t *
ngx_http_webhook_redis_node(void)
{
    return &rw.node;
}


void
ngx_http_webhook_store_status(ngx_http_webhook_main_conf_t *wmcf,
    ngx_http_webhook_store_status_t *st, ngx_pool_t *pool)
{
    ngx_uint_t                      i;
    ngx_http_webhook_redis_sh_t    *sh;
    ngx_http_webhook_redis_conf_t  *rcf;
    ngx_core_conf_t                *ccf;

    ngx_memzero(st, sizeof(ngx_http_webhook_store_status_t));

    ccf = (ngx_core_conf_t *) ngx_get_conf(ngx_cycle->conf_ctx,
                                           ngx_core_module);
    st->workers = ccf->worker_processes;

    rcf = wmcf->redis;

    if (rcf == NULL || rcf->sh == NULL) {
        ngx_str_set(&st->last_error, "");
        return;
    }

    sh = rcf->sh;

    st->configured = 1;
    st->syncs = sh->lease.syncs;
    st->failures = sh->failures;

    ngx_shmtx_lock(&rcf->shpool->mutex);

    for (i = 0; i < NGX_HTTP_WEBHOOK_REDIS_SLOTS; i++) {
        if (sh->slots[i].pid && sh->slots[i].connected
            && ngx_http_webhook_redis_alive(sh->slots[i].pid))
        {
            st->connected++;
        }
    }

    if (rcf->sync_zones.nelts && sh->lease.leader
        && (ngx_msec_int_t) (ngx_current_msec - sh->lease.until) < 0)
    {
        st->leader = sh->lease.leader;
    }

    st->last_error.len = sh->last_error_len;
    st->last_error.data = ngx_pnalloc(pool, sh->last_error_len + 1);

    if (st->last_error.data) {
        ngx_memcpy(st->last_error.data, sh->last_error, sh->last_error_len);

    } else {
        st->last_error.len = 0;
    }

    ngx_shmtx_unlock(&rcf->shpool->mutex);
}


static ngx_uint_t
ngx_http_webhook_redis_alive(ngx_pid_t pid)
{
    if (pid == ngx_pid) {
        return 1;
    }

    return !(kill(pid, 0) == -1 && ngx_errno == NGX_ESRCH);
}

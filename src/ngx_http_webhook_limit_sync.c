
/*
 * ngx_http_webhook_module: limit sync, the limiter's side of the cluster
 * store.
 *
 * The rounds.  One worker per node exchanges the counts of the keys
 * touched since the last round of the sync=on (and sync=async) zones:
 * it holds a lease {pid, until} in shared memory, renewed every
 * sync_interval, taken by another worker once expired (its holder
 * crashed), given back on exit.  Every sync_interval it takes the dirty
 * keys out of the zones and asks the store to sync each one's counts,
 * pipelined; the next round starts only when this one is over.
 *
 * Fresh views.  A sync=on limit decides on a key only with a view of the cluster's
 * counts at most sync_interval old (ngx_http_webhook_limit.c).  A request
 * that finds the view of one of its keys older waits for one exchange of
 * that key with the cluster store, without blocking the worker:
 *
 *   - the exchange writes this node's counts of the key and brings back
 *     the cluster's, as the syncing worker's rounds do;
 *   - requests of this worker waiting on the same key share one
 *     exchange (a red-black tree of the exchanges in flight);
 *   - each request waits at most the webhook_redis timeout; whichever
 *     comes first, the answers or the timer, resumes it, and the limit
 *     check runs again (with on_error= deciding if the exchange failed).
 *
 * An exchange is heap memory: it lives until the store answers (with a
 * reply, or without one when the connection is lost), whether or not a
 * request still waits on it.  A request's links are in its pool; its
 * pool cleanup unlinks them, so an ended request is never touched.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


typedef struct ngx_http_webhook_limit_waiter_s
    ngx_http_webhook_limit_waiter_t;


/* one exchange in flight; the key's bytes follow it */
typedef struct {
    ngx_rbtree_node_t                 node;         /* key: the key's hash */
    ngx_http_webhook_limit_sync_t     item;
    ngx_queue_t                       links;
} ngx_http_webhook_limit_exchange_t;


/* a request waiting on one exchange */
typedef struct {
    ngx_queue_t                       queue;        /* in exchange->links */
    ngx_http_webhook_limit_exchange_t *exchange;    /* NULL: answered */
    ngx_http_webhook_limit_waiter_t  *waiter;
} ngx_http_webhook_limit_link_t;


struct ngx_http_webhook_limit_waiter_s {
    ngx_http_request_t               *request;
    ngx_http_webhook_ctx_t           *ctx;
    ngx_event_t                       event;        /* timeout, resume */
    ngx_uint_t                        pending;
    ngx_uint_t                        failed;
    ngx_uint_t                        nlinks;
    ngx_http_webhook_limit_link_t    *links;
};


static ngx_http_webhook_limit_exchange_t *ngx_http_webhook_limit_exchange(
    ngx_http_webhook_limit_sync_t *item);
static ngx_int_t ngx_http_webhook_limit_cmp(ngx_http_webhook_zone_t *zone,
    uint32_t hash, ngx_str_t *key, ngx_http_webhook_limit_exchange_t *x);
static void ngx_http_webhook_limit_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_webhook_limit_exchanged(
    ngx_http_webhook_limit_sync_t *item, ngx_int_t rc, uint64_t current,
    uint64_t previous);
static void ngx_http_webhook_limit_wake(ngx_event_t *ev);
static void ngx_http_webhook_limit_unlink(
    ngx_http_webhook_limit_waiter_t *w);
static void ngx_http_webhook_limit_cleanup(void *data);


/* the keys of one round */
typedef struct {
    ngx_pool_t                       *pool;
    ngx_array_t                       items;        /* ..._limit_sync_t */
    ngx_uint_t                        pending;
    ngx_uint_t                        ok;
} ngx_http_webhook_limit_round_t;


/* this worker's side of the rounds */
typedef struct {
    ngx_http_webhook_redis_conf_t    *conf;
    ngx_log_t                        *log;
    ngx_event_t                       ev;
    ngx_http_webhook_limit_round_t   *round;
    unsigned                          exiting:1;
} ngx_http_webhook_limit_rounds_t;


static void ngx_http_webhook_limit_tick(ngx_event_t *ev);
static ngx_uint_t ngx_http_webhook_limit_lease(ngx_uint_t release);
static void ngx_http_webhook_limit_round(void);
static void ngx_http_webhook_limit_round_reply(
    ngx_http_webhook_limit_sync_t *item, ngx_int_t rc, uint64_t current,
    uint64_t previous);


static ngx_http_webhook_limit_rounds_t  ngx_http_webhook_limit_rounds;

#define lr  ngx_http_webhook_limit_rounds


/* this worker's exchanges in flight */
static ngx_rbtree_t        ngx_http_webhook_limit_exchanges;
static ngx_rbtree_node_t   ngx_http_webhook_limit_sentinel;


/* ---- the rounds --------------------------------------------------------- */


/* a worker starts: rounds only with webhook_redis and a synced zone */

void
ngx_http_webhook_limit_sync_init(ngx_cycle_t *cycle)
{
    ngx_log_t                      *log;
    ngx_http_webhook_main_conf_t   *wmcf;
    ngx_http_webhook_redis_conf_t  *rcf;

    ngx_memzero(&lr, sizeof(ngx_http_webhook_limit_rounds_t));

    if ((ngx_process != NGX_PROCESS_WORKER
         && ngx_process != NGX_PROCESS_SINGLE)
        || ngx_get_conf(cycle->conf_ctx, ngx_http_module) == NULL)
    {
        return;
    }

    wmcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_webhook_module);

    if (wmcf == NULL || wmcf->redis == NULL
        || wmcf->redis->sync_zones.nelts == 0)
    {
        return;
    }

    rcf = wmcf->redis;
    log = cycle->log;

    lr.conf = rcf;
    lr.log = log;

    lr.ev.handler = ngx_http_webhook_limit_tick;
    lr.ev.log = log;
    lr.ev.data = &lr;
    lr.ev.cancelable = 1;

    ngx_add_timer(&lr.ev, rcf->sync_interval);
}


/* the worker exits: the lease goes back, a round's answers change nothing */

void
ngx_http_webhook_limit_sync_exit(void)
{
    if (lr.conf == NULL) {
        return;
    }

    lr.exiting = 1;

    (void) ngx_http_webhook_limit_lease(1);

    if (lr.ev.timer_set) {
        ngx_del_timer(&lr.ev);
    }
}


static void
ngx_http_webhook_limit_tick(ngx_event_t *ev)
{
    if (ngx_exiting || lr.exiting) {
        (void) ngx_http_webhook_limit_lease(1);
        return;
    }

    if (ngx_http_webhook_limit_lease(0)
        && ngx_http_webhook_store_connected()
        && lr.round == NULL)
    {
        ngx_http_webhook_limit_round();
    }

    ngx_add_timer(&lr.ev, lr.conf->sync_interval);
}


/*
 * The lease: this worker syncs the node's limits while it holds it.
 * Held until "until"; renewed by the holder every tick; taken by anyone
 * once expired (its holder crashed); given back on exit (release).
 */

static ngx_uint_t
ngx_http_webhook_limit_lease(ngx_uint_t release)
{
    ngx_uint_t                      mine;
    ngx_http_webhook_lease_t       *lease;
    ngx_http_webhook_redis_conf_t  *rcf;

    rcf = lr.conf;
    lease = rcf->lease;
    mine = 0;

    ngx_shmtx_lock(&rcf->shpool->mutex);

    if (release) {
        if (lease->leader == ngx_pid) {
            lease->leader = 0;
            lease->until = 0;
        }

    } else if (lease->leader == ngx_pid || lease->leader == 0
               || (ngx_msec_int_t) (ngx_current_msec - lease->until) >= 0)
    {
        if (lease->leader != ngx_pid) {
            ngx_log_debug1(NGX_LOG_DEBUG_HTTP, lr.log, 0,
                           "webhook: limit sync: worker %P syncs this node",
                           ngx_pid);
        }

        lease->leader = ngx_pid;
        lease->until = ngx_current_msec + 3 * rcf->sync_interval
                       + rcf->timeout;
        mine = 1;
    }

    ngx_shmtx_unlock(&rcf->shpool->mutex);

    return mine;
}


/*
 * One round: the keys touched since the last one, one exchange each,
 * pipelined.  The next round starts only when this one is over, so a
 * slow Redis does not pile rounds up (the watchdog drops it meanwhile).
 */

static void
ngx_http_webhook_limit_round(void)
{
    ngx_uint_t                       i;
    ngx_pool_t                      *pool;
    ngx_http_webhook_zone_t        **zp;
    ngx_http_webhook_limit_sync_t   *item;
    ngx_http_webhook_limit_round_t  *round;

    pool = ngx_create_pool(4096, lr.log);
    if (pool == NULL) {
        return;
    }

    round = ngx_pcalloc(pool, sizeof(ngx_http_webhook_limit_round_t));
    if (round == NULL) {
        goto done;
    }

    round->pool = pool;

    if (ngx_array_init(&round->items, pool, 16,
                       sizeof(ngx_http_webhook_limit_sync_t))
        != NGX_OK)
    {
        goto done;
    }

    zp = lr.conf->sync_zones.elts;

    for (i = 0; i < lr.conf->sync_zones.nelts; i++) {
        if (ngx_http_webhook_limit_collect(zp[i], &round->items) != NGX_OK) {
            break;
        }
    }

    if (round->items.nelts == 0) {
        goto done;
    }

    lr.round = round;

    item = round->items.elts;

    for (i = 0; i < round->items.nelts; i++) {
        item[i].handler = ngx_http_webhook_limit_round_reply;
        item[i].data = round;

        if (ngx_http_webhook_store_sync(&item[i]) == NGX_OK) {
            round->pending++;

        } else {
            ngx_http_webhook_limit_unsynced(&item[i]);
        }
    }

    if (round->pending) {
        return;
    }

    lr.round = NULL;

done:

    ngx_destroy_pool(pool);
}


/* a key of a round answered */

static void
ngx_http_webhook_limit_round_reply(ngx_http_webhook_limit_sync_t *item,
    ngx_int_t rc, uint64_t current, uint64_t previous)
{
    ngx_http_webhook_limit_round_t  *round = item->data;

    if (rc == NGX_OK) {
        ngx_http_webhook_limit_synced(item, current, previous);
        round->ok++;

    } else if (rc == NGX_ERROR) {
        /* synced with the next round */
        ngx_http_webhook_limit_unsynced(item);
    }

    if (--round->pending) {
        return;
    }

    if (round->ok && !lr.exiting) {
        (void) ngx_atomic_fetch_add(&lr.conf->lease->syncs, 1);
    }

    lr.round = NULL;
    ngx_destroy_pool(round->pool);
}


/* ---- fresh views for waiting requests ---------------------------------- */


/*
 * Park r until every key in items had one exchange, or the timeout.
 * NGX_AGAIN: r waits (the handler's LIMIT state).  NGX_DECLINED: no exchange
 * could be sent (not connected); r decides now, as on_error= says.
 */

ngx_int_t
ngx_http_webhook_limit_wait(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_webhook_limit_sync_t *items,
    ngx_uint_t n)
{
    ngx_uint_t                          i;
    ngx_pool_cleanup_t                 *cln;
    ngx_http_webhook_limit_link_t      *link;
    ngx_http_webhook_limit_waiter_t    *w;
    ngx_http_webhook_limit_exchange_t  *x;
    ngx_http_webhook_main_conf_t       *wmcf;

    wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);

    if (ngx_http_webhook_limit_exchanges.root == NULL) {
        ngx_rbtree_init(&ngx_http_webhook_limit_exchanges,
                        &ngx_http_webhook_limit_sentinel,
                        ngx_http_webhook_limit_rbtree_insert);
    }

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    w = ngx_pcalloc(r->pool, sizeof(ngx_http_webhook_limit_waiter_t)
                             + n * sizeof(ngx_http_webhook_limit_link_t));
    if (w == NULL) {
        return NGX_ERROR;
    }

    w->request = r;
    w->ctx = ctx;
    w->links = (ngx_http_webhook_limit_link_t *) (w + 1);

    cln->handler = ngx_http_webhook_limit_cleanup;
    cln->data = w;

    for (i = 0; i < n; i++) {
        x = ngx_http_webhook_limit_exchange(&items[i]);

        if (x == NULL) {
            ngx_http_webhook_limit_unlink(w);
            return NGX_DECLINED;
        }

        link = &w->links[w->nlinks++];
        link->exchange = x;
        link->waiter = w;
        ngx_queue_insert_tail(&x->links, &link->queue);

        w->pending++;
    }

    w->event.handler = ngx_http_webhook_limit_wake;
    w->event.data = w;
    w->event.log = r->connection->log;

    /* not cancelable: a graceful shutdown lets the request finish */
    ngx_add_timer(&w->event, wmcf->redis->timeout);

    ngx_log_debug1(NGX_LOG_DEBUG_HTTP, r->connection->log, 0,
                   "webhook: limit: waiting for %ui exchange(s)", n);

    return NGX_AGAIN;
}


/* the exchange of item's key in flight from this worker, or a new one */

static ngx_http_webhook_limit_exchange_t *
ngx_http_webhook_limit_exchange(ngx_http_webhook_limit_sync_t *item)
{
    ngx_int_t                           rc;
    ngx_rbtree_node_t                  *node, *sentinel;
    ngx_http_webhook_limit_exchange_t  *x;

    node = ngx_http_webhook_limit_exchanges.root;
    sentinel = ngx_http_webhook_limit_exchanges.sentinel;

    while (node != sentinel) {
        x = (ngx_http_webhook_limit_exchange_t *) node;

        rc = ngx_http_webhook_limit_cmp(item->zone, item->hash, &item->key,
                                        x);
        if (rc == 0) {
            return x;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    x = ngx_alloc(sizeof(ngx_http_webhook_limit_exchange_t) + item->key.len,
                  ngx_cycle->log);
    if (x == NULL) {
        return NULL;
    }

    x->item = *item;
    x->item.key.data = (u_char *) (x + 1);
    ngx_memcpy(x->item.key.data, item->key.data, item->key.len);

    x->item.sent = ngx_current_msec;
    x->item.handler = ngx_http_webhook_limit_exchanged;
    x->item.data = x;

    if (ngx_http_webhook_store_sync(&x->item) != NGX_OK) {
        ngx_free(x);
        return NULL;
    }

    x->node.key = item->hash;
    ngx_queue_init(&x->links);
    ngx_rbtree_insert(&ngx_http_webhook_limit_exchanges, &x->node);

    return x;
}


/* order: the key's hash, then the zone, then the key */

static ngx_int_t
ngx_http_webhook_limit_cmp(ngx_http_webhook_zone_t *zone, uint32_t hash,
    ngx_str_t *key, ngx_http_webhook_limit_exchange_t *x)
{
    if (hash != x->node.key) {
        return (hash < x->node.key) ? -1 : 1;
    }

    if (zone != x->item.zone) {
        return (zone->index < x->item.zone->index) ? -1 : 1;
    }

    if (key->len != x->item.key.len) {
        return (key->len < x->item.key.len) ? -1 : 1;
    }

    return ngx_memcmp(key->data, x->item.key.data, key->len);
}


static void
ngx_http_webhook_limit_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t                 **p;
    ngx_http_webhook_limit_exchange_t  *x;

    x = (ngx_http_webhook_limit_exchange_t *) node;

    for ( ;; ) {
        p = (ngx_http_webhook_limit_cmp(x->item.zone, (uint32_t) node->key,
                                        &x->item.key,
                                        (ngx_http_webhook_limit_exchange_t *)
                                        temp) < 0)
            ? &temp->left : &temp->right;

        if (*p == sentinel) {
            break;
        }

        temp = *p;
    }

    *p = node;
    node->parent = temp;
    node->left = sentinel;
    node->right = sentinel;
    ngx_rbt_red(node);
}


/* the store answered an exchange (or could not) */

static void
ngx_http_webhook_limit_exchanged(ngx_http_webhook_limit_sync_t *item,
    ngx_int_t rc, uint64_t current, uint64_t previous)
{
    ngx_queue_t                        *q;
    ngx_http_webhook_limit_link_t      *link;
    ngx_http_webhook_limit_waiter_t    *w;
    ngx_http_webhook_limit_exchange_t  *x = item->data;

    if (rc == NGX_OK) {
        ngx_http_webhook_limit_synced(item, current, previous);
    }

    ngx_rbtree_delete(&ngx_http_webhook_limit_exchanges, &x->node);

    while (!ngx_queue_empty(&x->links)) {
        q = ngx_queue_head(&x->links);
        ngx_queue_remove(q);

        link = ngx_queue_data(q, ngx_http_webhook_limit_link_t, queue);
        link->exchange = NULL;

        w = link->waiter;

        if (rc == NGX_ABORT) {
            /* the worker exits: no request is resumed any more */
            continue;
        }

        if (rc != NGX_OK) {
            w->failed = 1;
        }

        if (--w->pending == 0) {
            if (w->event.timer_set) {
                ngx_del_timer(&w->event);
            }

            /* resume from the event loop, not from inside hiredis */
            ngx_post_event(&w->event, &ngx_posted_events);
        }
    }

    ngx_free(x);
}


/* every exchange answered (posted), or the timeout */

static void
ngx_http_webhook_limit_wake(ngx_event_t *ev)
{
    ngx_connection_t                 *c;
    ngx_http_request_t               *r;
    ngx_http_webhook_ctx_t           *ctx;
    ngx_http_webhook_limit_waiter_t  *w;
    ngx_http_webhook_main_conf_t     *wmcf;

    w = ev->data;
    r = w->request;
    ctx = w->ctx;
    c = r->connection;

    if (ev->timedout) {
        ev->timedout = 0;
        w->failed = 1;

        ngx_log_debug0(NGX_LOG_DEBUG_HTTP, c->log, 0,
                       "webhook: limit: no fresh view in time, on_error "
                       "decides");

        wmcf = ngx_http_get_module_main_conf(r, ngx_http_webhook_module);
        ngx_http_webhook_store_trouble(wmcf->redis, "limit");
    }

    ngx_http_webhook_limit_unlink(w);

    ctx->limit_view = w->failed ? NGX_HTTP_WEBHOOK_VIEW_FAILED
                                : NGX_HTTP_WEBHOOK_VIEW_ANSWERED;

    r->write_event_handler = ngx_http_core_run_phases;

    ngx_http_core_run_phases(r);
    ngx_http_run_posted_requests(c);
}


/* let go of the exchanges not answered yet; they answer to no one */

static void
ngx_http_webhook_limit_unlink(ngx_http_webhook_limit_waiter_t *w)
{
    ngx_uint_t  i;

    for (i = 0; i < w->nlinks; i++) {
        if (w->links[i].exchange) {
            ngx_queue_remove(&w->links[i].queue);
            w->links[i].exchange = NULL;
        }
    }

    w->nlinks = 0;
}


/* the request ended while waiting: nothing may touch it any more */

static void
ngx_http_webhook_limit_cleanup(void *data)
{
    ngx_http_webhook_limit_waiter_t  *w = data;

    if (w->event.timer_set) {
        ngx_del_timer(&w->event);
    }

    if (w->event.posted) {
        ngx_delete_posted_event(&w->event);
    }

    ngx_http_webhook_limit_unlink(w);
}

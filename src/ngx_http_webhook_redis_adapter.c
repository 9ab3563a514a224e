
/*
 * ngx_http_webhook_module: hiredis's async API on the nginx event loop.
 *
 * hiredis asks for read and write interest through five hooks (addRead,
 * delRead, addWrite, delWrite, cleanup); here they become events of an
 * nginx connection wrapped around hiredis's socket, and nginx's events
 * call redisAsyncHandleRead / redisAsyncHandleWrite back.  The shape is
 * that of nchan's redis_nginx_adapter.c.  The pitfalls this file avoids:
 *
 *   - hiredis reads at most 16 KB per call, so edge-triggered events
 *     (NGX_CLEAR_EVENT) stall on a large reply: events here are level-
 *     triggered, and epoll reports the socket again while data is left;
 *   - hiredis closes the socket itself right after the cleanup hook:
 *     cleanup frees the nginx connection but never closes the fd;
 *   - hiredis 0.14 may call cleanup twice (on disconnect, then on free):
 *     the first call unhooks the adapter, so the second does nothing;
 *   - ngx_delete_posted_event() is several statements: braced ifs only.
 *
 * Nothing here decides anything: ngx_http_webhook_redis.c owns the
 * context and its timers.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"
#include "ngx_http_webhook_redis.h"


static void ngx_http_webhook_redis_read_handler(ngx_event_t *ev);
static void ngx_http_webhook_redis_write_handler(ngx_event_t *ev);
static void ngx_http_webhook_redis_add_read(void *data);
static void ngx_http_webhook_redis_del_read(void *data);
static void ngx_http_webhook_redis_add_write(void *data);
static void ngx_http_webhook_redis_del_write(void *data);
static void ngx_http_webhook_redis_cleanup(void *data);
#if (HIREDIS_MAJOR >= 1)
static void ngx_http_webhook_redis_schedule_timer(void *data,
    struct timeval tv);
static void ngx_http_webhook_redis_timer_handler(ngx_event_t *ev);
#endif


/*
 * Wrap ac's socket in an nginx connection and hook it to the event loop.
 * Call it before redisAsyncSetConnectCallback(), which already asks for
 * the first write event (the one that tells the connect finished).
 */

ngx_int_t
ngx_http_webhook_redis_attach(redisAsyncContext *ac, ngx_log_t *log)
{
    ngx_connection_t  *c;

    if (ac->ev.data != NULL) {
        return NGX_ERROR;
    }

    c = ngx_get_connection((ngx_socket_t) ac->c.fd, log);
    if (c == NULL) {
        return NGX_ERROR;
    }

    c->data = ac;
    c->log = log;
    c->read->log = log;
    c->write->log = log;
    c->read->handler = ngx_http_webhook_redis_read_handler;
    c->write->handler = ngx_http_webhook_redis_write_handler;

    ac->ev.data = c;
    ac->ev.addRead = ngx_http_webhook_redis_add_read;
    ac->ev.delRead = ngx_http_webhook_redis_del_read;
    ac->ev.addWrite = ngx_http_webhook_redis_add_write;
    ac->ev.delWrite = ngx_http_webhook_redis_del_write;
    ac->ev.cleanup = ngx_http_webhook_redis_cleanup;

#if (HIREDIS_MAJOR >= 1)
    /*
     * hiredis 1.x can time out connects and commands itself when asked
     * to (redisAsyncSetTimeout); the module keeps its own timers so that
     * 0.14 and 1.x behave alike, but a timer hiredis asks for is honoured.
     */
    ac->ev.scheduleTimer = ngx_http_webhook_redis_schedule_timer;
#endif

    return NGX_OK;
}


/* the connection may be gone once hiredis returns: c is not touched after */

static void
ngx_http_webhook_redis_read_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    redisAsyncHandleRead(c->data);
}


static void
ngx_http_webhook_redis_write_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    redisAsyncHandleWrite(c->data);
}


/*
 * Level-triggered, and only when the "active" flag says the interest
 * changes: hiredis calls addRead after every read and write.
 */

static void
ngx_http_webhook_redis_add_read(void *data)
{
    ngx_connection_t  *c = data;

    if (c->read->active) {
        return;
    }

    if (ngx_add_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "webhook: redis: could not add the read event");
    }
}


static void
ngx_http_webhook_redis_del_read(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->read->active) {
        return;
    }

    if (ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "webhook: redis: could not delete the read event");
    }
}


static void
ngx_http_webhook_redis_add_write(void *data)
{
    ngx_connection_t  *c = data;

    if (c->write->active) {
        return;
    }

    if (ngx_add_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "webhook: redis: could not add the write event");
    }
}


static void
ngx_http_webhook_redis_del_write(void *data)
{
    ngx_connection_t  *c = data;

    if (!c->write->active) {
        return;
    }

    if (ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, c->log, 0,
                      "webhook: redis: could not delete the write event");
    }
}


/*
 * hiredis is about to close the socket: forget the events, timers and
 * posted events of its connection and give the connection back, fd and
 * all, but leave the close(2) to hiredis.  c->fd = -1 so that nginx's
 * exit check does not take the free connection for an open socket.
 */

static void
ngx_http_webhook_redis_cleanup(void *data)
{
    ngx_connection_t  *c = data;

    redisAsyncContext  *ac;

    if (c == NULL) {
        return;
    }

    ac = c->data;

    if (c->read->active) {
        (void) ngx_del_event(c->read, NGX_READ_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->write->active) {
        (void) ngx_del_event(c->write, NGX_WRITE_EVENT, NGX_LEVEL_EVENT);
    }

    if (c->read->timer_set) {
        ngx_del_timer(c->read);
    }

    if (c->write->timer_set) {
        ngx_del_timer(c->write);
    }

    if (c->read->posted) {
        ngx_delete_posted_event(c->read);
    }

    if (c->write->posted) {
        ngx_delete_posted_event(c->write);
    }

    /* c->data links the free list from here on: not to be touched */

    ngx_free_connection(c);

    c->fd = (ngx_socket_t) -1;

    /* unhooked: a second cleanup, or a late hook, finds nothing to do */

    ac->ev.data = NULL;
    ac->ev.addRead = NULL;
    ac->ev.delRead = NULL;
    ac->ev.addWrite = NULL;
    ac->ev.delWrite = NULL;
    ac->ev.cleanup = NULL;

#if (HIREDIS_MAJOR >= 1)
    ac->ev.scheduleTimer = NULL;
#endif
}


#if (HIREDIS_MAJOR >= 1)

/* a timer hiredis 1.x asks for: the connection's read event carries it */

static void
ngx_http_webhook_redis_schedule_timer(void *data, struct timeval tv)
{
    ngx_connection_t  *c = data;

    ngx_msec_t  ms;

    ms = (ngx_msec_t) tv.tv_sec * 1000 + (ngx_msec_t) tv.tv_usec / 1000;

    c->read->handler = ngx_http_webhook_redis_timer_handler;
    ngx_add_timer(c->read, ms ? ms : 1);
}


static void
ngx_http_webhook_redis_timer_handler(ngx_event_t *ev)
{
    ngx_connection_t  *c;

    c = ev->data;

    if (ev->timedout) {
        ev->timedout = 0;
        ev->handler = ngx_http_webhook_redis_read_handler;
        redisAsyncHandleTimeout(c->data);
        return;
    }

    ngx_http_webhook_redis_read_handler(ev);
}

#endif

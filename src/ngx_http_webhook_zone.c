
/*
 * ngx_http_webhook_module: keyed entries in shared memory.
 *
 * The storage under both the rate limits and the replay records, in the
 * shape of ngx_http_limit_req_module: a slab zone holding an rbtree keyed
 * by the MurmurHash2 of the key (equal hashes ordered by the key bytes)
 * and an LRU queue.  Callers hold the
 * zone's slab mutex (the one the master releases if a worker dies holding
 * it) around every call here, and keep that critical section to a lookup
 * and some arithmetic.
 *
 * When the zone is full the least recently used entry goes, never the
 * request: a zone never refuses.  Evicting an entry that still mattered
 * (its expire_ms is in the future) shortens protection, so it is counted
 * and logged at warn, once a minute at most.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define ngx_http_webhook_entry_of(node)                                       \
    ((ngx_http_webhook_entry_t *) &(node)->color)

#define ngx_http_webhook_node_of(entry)                                       \
    ((ngx_rbtree_node_t *)                                                    \
         ((u_char *) (entry) - offsetof(ngx_rbtree_node_t, color)))

#define ngx_http_webhook_entry_header                                         \
    ngx_align(sizeof(ngx_http_webhook_entry_t), 8)


static ngx_int_t ngx_http_webhook_zone_init(ngx_shm_zone_t *shm_zone,
    void *data);
static void ngx_http_webhook_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel);
static void ngx_http_webhook_zone_expire(ngx_http_webhook_zone_t *zone,
    int64_t now_ms);
static void ngx_http_webhook_zone_evict(ngx_http_webhook_zone_t *zone,
    int64_t now_ms);


/* the wall clock in ms: window numbers and expiry must agree across
   workers and nodes, which ngx_current_msec (monotonic) would not */

int64_t
ngx_http_webhook_now_ms(void)
{
    ngx_time_t  *tp;

    tp = ngx_timeofday();

    return (int64_t) tp->sec * 1000 + (int64_t) tp->msec;
}


/*
 * "zone=NAME:SIZE" of webhook_limit_zone / webhook_replay_zone: the
 * module's shared memory zone of that name, with payload bytes per entry.
 * A zone may be used (webhook_limit, webhook_replay) before it is
 * declared, as with limit_req; ngx_http_webhook_zones_check() reports the
 * ones never declared.
 */

ngx_http_webhook_zone_t *
ngx_http_webhook_zone_add(ngx_conf_t *cf, ngx_str_t *spec, ngx_uint_t type,
    size_t payload)
{
    u_char                   *p;
    ssize_t                   size;
    ngx_str_t                 s, name;
    ngx_http_webhook_zone_t  *zone;

    name.data = spec->data + 5;
    name.len = spec->len - 5;

    p = (u_char *) ngx_strchr(name.data, ':');

    if (p == NULL || p == name.data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone \"%V\", expected "
                           "\"zone=NAME:SIZE\"", spec);
        return NULL;
    }

    name.len = p - name.data;

    s.data = p + 1;
    s.len = spec->data + spec->len - s.data;

    size = ngx_parse_size(&s);

    if (size == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid zone size \"%V\"", spec);
        return NULL;
    }

    if (size < (ssize_t) (8 * ngx_pagesize)) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is too small: at least %uzk",
                           &name, 8 * ngx_pagesize / 1024);
        return NULL;
    }

    zone = ngx_http_webhook_zone_find(cf, &name, type);
    if (zone == NULL) {
        return NULL;
    }

    if (zone->shm_zone) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "duplicate webhook zone \"%V\"", &name);
        return NULL;
    }

    zone->payload = ngx_align(payload, 8);

    zone->shm_zone = ngx_shared_memory_add(cf, &name, size,
                                           &ngx_http_webhook_module);
    if (zone->shm_zone == NULL) {
        return NULL;
    }

    if (zone->shm_zone->data) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "zone \"%V\" is already used", &name);
        return NULL;
    }

    zone->shm_zone->init = ngx_http_webhook_zone_init;
    zone->shm_zone->data = zone;

    return zone;
}


/* the zone of that name and type, made (undeclared yet) if it is new */

ngx_http_webhook_zone_t *
ngx_http_webhook_zone_find(ngx_conf_t *cf, ngx_str_t *name, ngx_uint_t type)
{
    ngx_uint_t                     i;
    ngx_http_webhook_zone_t       *zone, **zp;
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    zp = wmcf->zones.elts;

    for (i = 0; i < wmcf->zones.nelts; i++) {
        if (zp[i]->name.len == name->len
            && ngx_strncmp(zp[i]->name.data, name->data, name->len) == 0)
        {
            if (zp[i]->type != type) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "webhook zone \"%V\" is a %s zone",
                                   name,
                                   zp[i]->type == NGX_HTTP_WEBHOOK_ZONE_LIMIT
                                   ? "webhook_limit_zone"
                                   : "webhook_replay_zone");
                return NULL;
            }

            return zp[i];
        }
    }

    zone = ngx_pcalloc(cf->pool, sizeof(ngx_http_webhook_zone_t));
    if (zone == NULL) {
        return NULL;
    }

    zone->name.len = name->len;
    zone->name.data = ngx_pstrdup(cf->pool, name);
    if (zone->name.data == NULL) {
        return NULL;
    }

    zone->type = type;
    zone->index = wmcf->zones.nelts;

    zp = ngx_array_push(&wmcf->zones);
    if (zp == NULL) {
        return NULL;
    }

    *zp = zone;

    return zone;
}


/* the zone a "zone=NAME" argument names (webhook_limit, webhook_replay) */

ngx_http_webhook_zone_t *
ngx_http_webhook_zone_named(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ngx_uint_t type)
{
    ngx_http_webhook_zone_t  *zone;

    if (name->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "\"%V\" must have \"zone\" parameter",
                           &cmd->name);
        return NULL;
    }

    zone = ngx_http_webhook_zone_find(cf, name, type);

    if (zone && zone->used_file == NULL) {
        zone->used_file = cf->conf_file->file.name.data;
        zone->used_line = cf->conf_file->line;
    }

    return zone;
}


/* postconfiguration: every zone used was also declared */

ngx_int_t
ngx_http_webhook_zones_check(ngx_conf_t *cf)
{
    ngx_uint_t                     i;
    ngx_http_webhook_zone_t      **zp;
    ngx_http_webhook_main_conf_t  *wmcf;

    wmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_webhook_module);

    zp = wmcf->zones.elts;

    for (i = 0; i < wmcf->zones.nelts; i++) {
        if (zp[i]->shm_zone == NULL) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "unknown %s \"%V\" in %s:%ui",
                          zp[i]->type == NGX_HTTP_WEBHOOK_ZONE_LIMIT
                          ? "webhook_limit_zone" : "webhook_replay_zone",
                          &zp[i]->name,
                          zp[i]->used_file ? zp[i]->used_file
                                           : (u_char *) "?",
                          zp[i]->used_line);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


/* on reload, keep the old zone's entries, as limit_req does */

static ngx_int_t
ngx_http_webhook_zone_init(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_webhook_zone_t  *ozone = data;

    size_t                    len;
    ngx_http_webhook_zone_t  *zone;

    zone = shm_zone->data;

    if (ozone) {
        if (ozone->type != zone->type || ozone->payload != zone->payload) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "webhook zone \"%V\" changed its type (or "
                          "sync=); rename it or restart nginx",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        zone->sh = ozone->sh;
        zone->shpool = ozone->shpool;

        return NGX_OK;
    }

    zone->shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;

    if (shm_zone->shm.exists) {
        zone->sh = zone->shpool->data;
        return NGX_OK;
    }

    zone->sh = ngx_slab_calloc(zone->shpool,
                               sizeof(ngx_http_webhook_zone_sh_t));
    if (zone->sh == NULL) {
        return NGX_ERROR;
    }

    zone->shpool->data = zone->sh;
    zone->sh->type = zone->type;

    ngx_rbtree_init(&zone->sh->rbtree, &zone->sh->sentinel,
                    ngx_http_webhook_rbtree_insert);

    ngx_queue_init(&zone->sh->queue);

    len = sizeof(" in webhook zone \"\"") + shm_zone->shm.name.len;

    zone->shpool->log_ctx = ngx_slab_alloc(zone->shpool, len);
    if (zone->shpool->log_ctx == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(zone->shpool->log_ctx, " in webhook zone \"%V\"%Z",
                &shm_zone->shm.name);

    /* a full zone evicts; the slab's own "no memory" lines would be noise */
    zone->shpool->log_nomem = 0;

    return NGX_OK;
}


static void
ngx_http_webhook_rbtree_insert(ngx_rbtree_node_t *temp,
    ngx_rbtree_node_t *node, ngx_rbtree_node_t *sentinel)
{
    ngx_rbtree_node_t        **p;
    ngx_http_webhook_entry_t  *e, *et;

    for ( ;; ) {

        if (node->key < temp->key) {
            p = &temp->left;

        } else if (node->key > temp->key) {
            p = &temp->right;

        } else { /* node->key == temp->key: order by the key bytes */

            e = ngx_http_webhook_entry_of(node);
            et = ngx_http_webhook_entry_of(temp);

            p = (ngx_memn2cmp(ngx_http_webhook_entry_key(e),
                              ngx_http_webhook_entry_key(et),
                              e->len, et->len) < 0)
                ? &temp->left : &temp->right;
        }

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


/* the key right after the header; the type's payload after the key */

u_char *
ngx_http_webhook_entry_key(ngx_http_webhook_entry_t *entry)
{
    return (u_char *) entry + ngx_http_webhook_entry_header;
}


uint32_t
ngx_http_webhook_entry_hash(ngx_http_webhook_entry_t *entry)
{
    return (uint32_t) ngx_http_webhook_node_of(entry)->key;
}


void *
ngx_http_webhook_entry_payload(ngx_http_webhook_entry_t *entry)
{
    return (u_char *) entry + ngx_http_webhook_entry_header
           + ngx_align(entry->len, 8);
}


/* the entry for key, made the most recently used; NULL if there is none */

ngx_http_webhook_entry_t *
ngx_http_webhook_zone_lookup(ngx_http_webhook_zone_t *zone, uint32_t hash,
    ngx_str_t *key)
{
    ngx_http_webhook_entry_t  *e;

    e = ngx_http_webhook_zone_peek(zone, hash, key);

    if (e) {
        ngx_queue_remove(&e->queue);
        ngx_queue_insert_head(&zone->sh->queue, &e->queue);
    }

    return e;
}


/* the entry for key, its place in the LRU queue left alone */

ngx_http_webhook_entry_t *
ngx_http_webhook_zone_peek(ngx_http_webhook_zone_t *zone, uint32_t hash,
    ngx_str_t *key)
{
    ngx_int_t                  rc;
    ngx_rbtree_node_t         *node, *sentinel;
    ngx_http_webhook_entry_t  *e;

    node = zone->sh->rbtree.root;
    sentinel = zone->sh->rbtree.sentinel;

    while (node != sentinel) {

        if (hash < node->key) {
            node = node->left;
            continue;
        }

        if (hash > node->key) {
            node = node->right;
            continue;
        }

        /* hash == node->key */

        e = ngx_http_webhook_entry_of(node);

        rc = ngx_memn2cmp(key->data, ngx_http_webhook_entry_key(e),
                          key->len, (size_t) e->len);

        if (rc == 0) {
            return e;
        }

        node = (rc < 0) ? node->left : node->right;
    }

    return NULL;
}


/*
 * A new entry for key (the caller looked it up first), its payload
 * zeroed and expire_ms set to now.  Expired entries are reclaimed first;
 * if the zone is still full, the least recently used entries go.
 */

ngx_http_webhook_entry_t *
ngx_http_webhook_zone_insert(ngx_http_webhook_zone_t *zone, uint32_t hash,
    ngx_str_t *key, int64_t now_ms)
{
    size_t                     size;
    ngx_uint_t                 tries;
    ngx_rbtree_node_t         *node;
    ngx_http_webhook_entry_t  *e;

    if (key->len > 65535) {
        return NULL;
    }

    size = offsetof(ngx_rbtree_node_t, color)
           + ngx_http_webhook_entry_header + ngx_align(key->len, 8)
           + zone->payload;

    ngx_http_webhook_zone_expire(zone, now_ms);

    for (tries = 0; /* void */ ; tries++) {

        node = ngx_slab_alloc_locked(zone->shpool, size);

        if (node) {
            break;
        }

        if (tries == 16 || ngx_queue_empty(&zone->sh->queue)) {
            ngx_log_error(NGX_LOG_ALERT, ngx_cycle->log, 0,
                          "webhook: could not allocate an entry%s",
                          zone->shpool->log_ctx);
            return NULL;
        }

        ngx_http_webhook_zone_evict(zone, now_ms);
    }

    node->key = hash;

    e = ngx_http_webhook_entry_of(node);
    e->len = (u_short) key->len;
    e->expire_ms = now_ms;

    ngx_memcpy(ngx_http_webhook_entry_key(e), key->data, key->len);
    ngx_memzero(ngx_http_webhook_entry_payload(e), zone->payload);

    ngx_rbtree_insert(&zone->sh->rbtree, node);
    ngx_queue_insert_head(&zone->sh->queue, &e->queue);

    zone->sh->entries++;

    return e;
}


void
ngx_http_webhook_zone_delete(ngx_http_webhook_zone_t *zone,
    ngx_http_webhook_entry_t *entry)
{
    ngx_rbtree_node_t  *node;

    node = ngx_http_webhook_node_of(entry);

    ngx_queue_remove(&entry->queue);
    ngx_rbtree_delete(&zone->sh->rbtree, node);
    ngx_slab_free_locked(zone->shpool, node);

    zone->sh->entries--;
}


/* reclaim up to two expired entries from the old end, as limit_req */

static void
ngx_http_webhook_zone_expire(ngx_http_webhook_zone_t *zone, int64_t now_ms)
{
    ngx_uint_t                 n;
    ngx_queue_t               *q;
    ngx_http_webhook_entry_t  *e;

    for (n = 0; n < 2; n++) {

        if (ngx_queue_empty(&zone->sh->queue)) {
            return;
        }

        q = ngx_queue_last(&zone->sh->queue);
        e = ngx_queue_data(q, ngx_http_webhook_entry_t, queue);

        if (e->expire_ms > now_ms) {
            return;
        }

        ngx_http_webhook_zone_delete(zone, e);
    }
}


static void
ngx_http_webhook_zone_evict(ngx_http_webhook_zone_t *zone, int64_t now_ms)
{
    ngx_queue_t               *q;
    ngx_http_webhook_entry_t  *e;

    q = ngx_queue_last(&zone->sh->queue);
    e = ngx_queue_data(q, ngx_http_webhook_entry_t, queue);

    zone->sh->evictions++;

    if (e->expire_ms > now_ms) {
        zone->sh->evicted_unexpired++;

        if (ngx_time() - zone->sh->last_warn >= 60) {
            zone->sh->last_warn = ngx_time();

            ngx_log_error(NGX_LOG_WARN, ngx_cycle->log, 0,
                          "webhook: zone \"%V\" is full: evicted an "
                          "unexpired entry (%ui so far); make the zone "
                          "larger", &zone->name,
                          zone->sh->evicted_unexpired);
        }
    }

    ngx_http_webhook_zone_delete(zone, e);
}


/*
 * ngx_http_webhook_module: types shared by the nginx glue files.
 *
 * The request pipeline (ngx_http_webhook_handler.c) reads top to bottom;
 * every other file is one concern it calls into.
 */


#ifndef _NGX_HTTP_WEBHOOK_MODULE_H_INCLUDED_
#define _NGX_HTTP_WEBHOOK_MODULE_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <jansson.h>

#include "webhook_core.h"
#include "webhook_codec.h"
#include "webhook_ed25519.h"
#include "webhook_pkey.h"
#include "webhook_json.h"
#include "webhook_form.h"
#include "webhook_hmac.h"
#include "webhook_sigheader.h"
#include "webhook_timestamp.h"
#include "webhook_cidr.h"
#include "webhook_window.h"
#include "webhook_histogram.h"
#include "webhook_murmur.h"
#include "webhook_redis_url.h"


#define NGX_HTTP_WEBHOOK_VERSION   "0.1.0"

#define NGX_HTTP_WEBHOOK_ENFORCE   0
#define NGX_HTTP_WEBHOOK_MONITOR   1


/* why a request is (or would be) refused; 0 means it is not */
typedef enum {
    NGX_HTTP_WEBHOOK_PASS = 0,
    NGX_HTTP_WEBHOOK_IP_NOT_ALLOWED,
    NGX_HTTP_WEBHOOK_RATE_LIMITED,
    NGX_HTTP_WEBHOOK_SIGNATURE_MISSING,
    NGX_HTTP_WEBHOOK_SIGNATURE_MALFORMED,
    NGX_HTTP_WEBHOOK_SIGNATURE_MISMATCH,
    NGX_HTTP_WEBHOOK_TIMESTAMP_MISSING,
    NGX_HTTP_WEBHOOK_TIMESTAMP_EXPIRED,
    NGX_HTTP_WEBHOOK_TIMESTAMP_FUTURE,
    NGX_HTTP_WEBHOOK_DUPLICATE_IN_FLIGHT,
    NGX_HTTP_WEBHOOK_BODY_TOO_LARGE,
    NGX_HTTP_WEBHOOK_REDIS_UNAVAILABLE,    /* on_error=closed, Redis down */
    NGX_HTTP_WEBHOOK_QUEUE_UNAVAILABLE,    /* webhook_enqueue: not stored */
    NGX_HTTP_WEBHOOK_SUBREQUEST_UNSUPPORTED,
    NGX_HTTP_WEBHOOK_NREASONS
} ngx_http_webhook_reason_e;


/* where a request is in the pipeline (ngx_http_webhook_handler.c) */
typedef enum {
    NGX_HTTP_WEBHOOK_STATE_START = 0,      /* to be judged in this location */
    NGX_HTTP_WEBHOOK_STATE_LIMIT,          /* waiting for fresh views of
                                              synced limit keys */
    NGX_HTTP_WEBHOOK_STATE_BODY,           /* waiting for the body */
    NGX_HTTP_WEBHOOK_STATE_VERIFY,         /* the body is here: verify it */
    NGX_HTTP_WEBHOOK_STATE_REPLAY,         /* waiting for Redis's claim */
    NGX_HTTP_WEBHOOK_STATE_DONE            /* judged: ctx->reason says */
} ngx_http_webhook_state_e;


/* how a preset's signature header is laid out */
typedef enum {
    NGX_HTTP_WEBHOOK_HDR_KV_LIST = 0,      /* t=..,v1=..   ts=..;h1=.. */
    NGX_HTTP_WEBHOOK_HDR_PREFIXED,         /* sha256=..   v0=..   bare */
    NGX_HTTP_WEBHOOK_HDR_VERSIONED_LIST,   /* v1,.. v1,.. */
    NGX_HTTP_WEBHOOK_HDR_PATTERN,          /* custom: a regex's captures */
    NGX_HTTP_WEBHOOK_HDR_TS_LIST           /* <ts>,<sig>,<sig> (Recurly) */
} ngx_http_webhook_header_format_e;


/* what a signature is checked with */
typedef enum {
    NGX_HTTP_WEBHOOK_SIG_HMAC = 0,         /* webhook_secret, HMAC */
    NGX_HTTP_WEBHOOK_SIG_ED25519,          /* webhook_public_key, Ed25519 */
    NGX_HTTP_WEBHOOK_SIG_TOKEN,            /* the secret itself (GitLab) */
    NGX_HTTP_WEBHOOK_SIG_PKEY              /* webhook_public_key, RSA or
                                              ECDSA (ngx_http_webhook_asym.c) */
} ngx_http_webhook_sig_type_e;


/* what the configured secret string becomes as an HMAC key */
typedef enum {
    NGX_HTTP_WEBHOOK_KEY_RAW = 0,          /* the string's bytes */
    NGX_HTTP_WEBHOOK_KEY_WHSEC_BASE64,     /* optional "whsec_", base64 */
    NGX_HTTP_WEBHOOK_KEY_HEX,              /* hex digits (Adyen) */
    NGX_HTTP_WEBHOOK_KEY_BRAINTREE         /* "public:private", the key is
                                              SHA-1 of the private key */
} ngx_http_webhook_key_format_e;


/* one piece of the bytes a sender signs */
typedef enum {
    NGX_HTTP_WEBHOOK_PART_END = 0,
    NGX_HTTP_WEBHOOK_PART_LITERAL,
    NGX_HTTP_WEBHOOK_PART_TIMESTAMP,       /* as received, not reformatted */
    NGX_HTTP_WEBHOOK_PART_ID,              /* the signed id header */
    NGX_HTTP_WEBHOOK_PART_BODY,
    NGX_HTTP_WEBHOOK_PART_METHOD,          /* "POST" */
    NGX_HTTP_WEBHOOK_PART_URL,             /* webhook_public_url */
    NGX_HTTP_WEBHOOK_PART_VALUE            /* custom: a complex value */
} ngx_http_webhook_part_type_e;


typedef struct {
    ngx_http_webhook_part_type_e    type;
    const char                     *literal;
    ngx_http_complex_value_t       *value;        /* PART_VALUE */
} ngx_http_webhook_part_t;


/*
 * The headers of one delivery format.  Several families per preset: the
 * first whose signature header is present is used (Standard Webhooks'
 * webhook-* and svix-*, Shopify's two spellings).
 */
typedef struct {
    const char                     *signature;
    const char                     *timestamp;     /* NULL: in signature */
    const char                     *id;            /* NULL: not signed */
} ngx_http_webhook_family_t;


#define NGX_HTTP_WEBHOOK_MAX_FAMILIES  2
#define NGX_HTTP_WEBHOOK_MAX_PARTS     8
#define NGX_HTTP_WEBHOOK_MAX_SOURCES   3

/* webhook_secret and webhook_public_key lines a location may have */
#define NGX_HTTP_WEBHOOK_MAX_KEYS      8


/* where $webhook_id / $webhook_event come from by default */
typedef enum {
    NGX_HTTP_WEBHOOK_SRC_NONE = 0,
    NGX_HTTP_WEBHOOK_SRC_HEADER,           /* names: header names */
    NGX_HTTP_WEBHOOK_SRC_JSON,             /* names: dotted JSON paths */
    NGX_HTTP_WEBHOOK_SRC_SIGNED_ID         /* the family's id header */
} ngx_http_webhook_source_type_e;


typedef struct {
    ngx_http_webhook_source_type_e  type;
    const char                     *names[NGX_HTTP_WEBHOOK_MAX_SOURCES];
} ngx_http_webhook_source_t;


typedef struct ngx_http_webhook_loc_conf_s  ngx_http_webhook_loc_conf_t;
typedef struct ngx_http_webhook_ctx_s       ngx_http_webhook_ctx_t;
typedef struct ngx_http_webhook_json_s      ngx_http_webhook_json_t;
typedef struct ngx_http_webhook_pattern_s   ngx_http_webhook_pattern_t;


/*
 * A step of a scheme that does not fit the generic path: it reads what
 * it needs and returns its verdict: NGX_HTTP_WEBHOOK_PASS (NGX_OK), a
 * reason, or NGX_ERROR for an internal failure.
 */
typedef ngx_int_t (*ngx_http_webhook_step_pt)(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);


typedef struct {
    ngx_http_webhook_step_pt          headers;      /* after the generic
                                                       header step passed */
    ngx_http_webhook_step_pt          body;         /* instead of the
                                                       generic body step */
} ngx_http_webhook_scheme_t;


typedef struct {
    ngx_str_t                         name;
    webhook_digest_t                  digest;
    webhook_encoding_t                encoding;
    ngx_http_webhook_key_format_e     key_format;

    ngx_http_webhook_header_format_e  header_format;
    char                              separator;    /* KV_LIST */
    const char                       *ts_key;       /* KV_LIST */
    const char                       *sig_key;      /* KV_LIST, VERSIONED:
                                                       the version; PREFIXED:
                                                       the prefix */
    ngx_http_webhook_family_t         families[NGX_HTTP_WEBHOOK_MAX_FAMILIES];

    unsigned                          signs_timestamp:1;
    webhook_ts_format_t               ts_format;

    ngx_http_webhook_part_t           payload[NGX_HTTP_WEBHOOK_MAX_PARTS];

    ngx_http_webhook_source_t         id;
    ngx_http_webhook_source_t         event;

    /* what most presets leave zero */
    ngx_http_webhook_sig_type_e       sig_type;
    const char                       *ed25519_key;  /* VERSIONED: the
                                                       version of Ed25519
                                                       entries ("v1a") */
    const char                       *ts_json;      /* the signed
                                                       timestamp is this
                                                       field of the JSON
                                                       body */
    const ngx_http_webhook_scheme_t  *scheme;       /* NULL: generic */
    ngx_uint_t                        custom;       /* webhook_verify
                                                       custom's template */
    time_t                            redelivery;   /* without a signed
                                                       timestamp: how long
                                                       the provider may send
                                                       a delivery again, s
                                                       (0: the 24 h floor) */
    const char                       *key_json;     /* the signed field of
                                                       the JSON body a
                                                       replay record is
                                                       keyed on (Mailgun's
                                                       token) */
    ngx_uint_t                        id_not_unique; /* the id may name the
                                                       sender, not the
                                                       delivery (Meta's
                                                       entry id): records
                                                       are keyed on the
                                                       signature alone */
    const char                       *sig_more;     /* more headers with
                                                       one signature each:
                                                       a name (Box's
                                                       secondary), or a
                                                       prefix ending in '#'
                                                       for prefix + number
                                                       (DocuSign's -1..N) */
    const char                       *handshake;    /* the header of the
                                                       sender's unsigned
                                                       endpoint handshake
                                                       (Asana's
                                                       X-Hook-Secret) */
} ngx_http_webhook_preset_t;


/* shared memory zones: rate limits and replay records (ngx_http_webhook_zone.c) */

#define NGX_HTTP_WEBHOOK_ZONE_LIMIT    1
#define NGX_HTTP_WEBHOOK_ZONE_REPLAY   2

/* a delivery's replay keys: what the signature covers, the unsigned id */
#define NGX_HTTP_WEBHOOK_REPLAY_KEYS   2


/*
 * One keyed entry of a zone: an rbtree node keyed by the hash of the key
 * (ngx_http_webhook_zone_hash()), this header from the node's color
 * field onwards (as limit_req lays out its nodes), the key bytes, then
 * the zone type's payload, 8-byte aligned.  expire_ms (wall clock) says
 * when the entry stops mattering: past it, the entry is reclaimed first
 * and its eviction is harmless.
 */
typedef struct {
    u_char                            color;
    u_short                           len;
    ngx_queue_t                       queue;        /* LRU, head newest */
    int64_t                           expire_ms;
} ngx_http_webhook_entry_t;


typedef struct {
    ngx_rbtree_t                      rbtree;
    ngx_rbtree_node_t                 sentinel;
    ngx_queue_t                       queue;
    ngx_uint_t                        type;
    ngx_uint_t                        entries;
    ngx_uint_t                        evictions;
    ngx_uint_t                        evicted_unexpired;
    time_t                            last_warn;
} ngx_http_webhook_zone_sh_t;


typedef struct {
    ngx_str_t                         name;
    ngx_uint_t                        type;
    ngx_uint_t                        index;        /* declaration order */
    size_t                            payload;      /* bytes after the key */
    ngx_shm_zone_t                   *shm_zone;
    ngx_slab_pool_t                  *shpool;
    ngx_http_webhook_zone_sh_t       *sh;

    /* rate limit zones */
    ngx_http_complex_value_t          key;
    uint64_t                          limit;        /* requests ... */
    int64_t                           period_ms;    /* ... per period */
    ngx_str_t                         rate;         /* as written */

    ngx_uint_t                        sync;         /* sync=, below */

    /* replay zones */
    ngx_msec_t                        ttl;          /* 0: 2 x tolerance */

    /* where "zone=NAME" first named it, for an undeclared zone's error */
    u_char                           *used_file;
    ngx_uint_t                        used_line;
} ngx_http_webhook_zone_t;


/* webhook_limit_zone sync= */
#define NGX_HTTP_WEBHOOK_SYNC_OFF       0
#define NGX_HTTP_WEBHOOK_SYNC_ON        1           /* fresh views only */
#define NGX_HTTP_WEBHOOK_SYNC_ASYNC     2           /* never waits */

/* a request's wait for fresh views of its synced keys (ctx->limit_view) */
#define NGX_HTTP_WEBHOOK_VIEW_NONE      0           /* not waited */
#define NGX_HTTP_WEBHOOK_VIEW_ANSWERED  1           /* one exchange done */
#define NGX_HTTP_WEBHOOK_VIEW_FAILED    2           /* on_error decides */


typedef struct ngx_http_webhook_limit_sync_s  ngx_http_webhook_limit_sync_t;

/*
 * The store's answer to one key's exchange: NGX_OK with the cluster's
 * counts of the key's two windows; NGX_ERROR without them (no answer,
 * an error, a reply of the wrong type or size); NGX_ABORT when the
 * worker exits (free memory, resume nothing).
 */
typedef void (*ngx_http_webhook_counts_pt)(
    ngx_http_webhook_limit_sync_t *item, ngx_int_t rc, uint64_t current,
    uint64_t previous);

/*
 * One key of a sync=on limit zone as copied out of shared memory, for
 * one exchange with the cluster store.
 */
struct ngx_http_webhook_limit_sync_s {
    ngx_http_webhook_zone_t          *zone;
    ngx_str_t                         key;
    uint32_t                          hash;
    int64_t                           window;       /* own counts' window */
    uint64_t                          current;      /* own counts in it */
    uint64_t                          previous;     /* and the one before */
    ngx_msec_t                        sent;         /* ngx_current_msec */
    ngx_http_webhook_counts_pt        handler;
    void                             *data;
};


/* webhook_redis on_error=, and what the limiter does meanwhile */
#define NGX_HTTP_WEBHOOK_REDIS_UP       0           /* Redis is there */
#define NGX_HTTP_WEBHOOK_REDIS_LOCAL    1
#define NGX_HTTP_WEBHOOK_REDIS_OPEN     2
#define NGX_HTTP_WEBHOOK_REDIS_CLOSED   3


typedef struct ngx_http_webhook_redis_sh_s  ngx_http_webhook_redis_sh_t;


/*
 * The node's limit sync lease, in the webhook_redis shared memory zone:
 * the worker that exchanges the node's counts (ngx_http_webhook_limit_
 * sync.c), under the zone's mutex, and the rounds that succeeded.
 */
typedef struct {
    ngx_pid_t                         leader;
    ngx_msec_t                        until;        /* ngx_current_msec */
    ngx_atomic_t                      syncs;
} ngx_http_webhook_lease_t;


/* an address literal and a port, resolved at configuration time */
typedef struct {
    ngx_str_t                         host;         /* NUL-terminated */
    int                               port;
} ngx_http_webhook_redis_addr_t;


/* webhook_redis: the server, the options, and the node's shared state */
typedef struct {
    ngx_str_t                         url;          /* as written */
    ngx_str_t                         host;         /* an address literal,
                                                       NUL-terminated */
    int                               port;
    ngx_str_t                         path;         /* unix:, NUL-terminated;
                                                       empty for TCP */
    ngx_uint_t                        db;
    ngx_msec_t                        timeout;
    ngx_msec_t                        sync_interval;
    ngx_str_t                         prefix;
    ngx_str_t                         password;     /* empty: no AUTH;
                                                       wiped on free */
    ngx_uint_t                        on_error;     /* ..._REDIS_LOCAL.. */

    /* sentinel://: where to ask for the primary, and its name */
    ngx_array_t                      *sentinels;    /* of ..._addr_t */
    ngx_str_t                         master_name;  /* NUL-terminated */

    ngx_array_t                       sync_zones;   /* of ..._zone_t * */

    ngx_shm_zone_t                   *shm_zone;
    ngx_slab_pool_t                  *shpool;
    ngx_http_webhook_redis_sh_t      *sh;
    ngx_http_webhook_lease_t         *lease;        /* in sh */
} ngx_http_webhook_redis_conf_t;


/* what the status page shows of Redis */
typedef struct {
    ngx_uint_t                        configured;
    ngx_uint_t                        connected;    /* workers, now */
    ngx_uint_t                        workers;      /* worker_processes */
    ngx_uint_t                        syncs;
    ngx_uint_t                        failures;
    ngx_pid_t                         leader;
    ngx_str_t                         last_error;
} ngx_http_webhook_store_status_t;


/*
 * The cluster store's side of a delivery's records (webhook_replay ...
 * redis=on), in the module's own types: the zone, the delivery's keys
 * (as the node's zone has them), the request's token; the store makes
 * the Redis keys and values.
 */
typedef struct {
    ngx_str_t                        *zone;
    ngx_str_t                        *keys;
    ngx_uint_t                        nkeys;
    uint64_t                          token;
} ngx_http_webhook_record_ref_t;

/* what the cluster said of a claim */
#define NGX_HTTP_WEBHOOK_CLAIM_NONE       0         /* no answer */
#define NGX_HTTP_WEBHOOK_CLAIM_NEW        1
#define NGX_HTTP_WEBHOOK_CLAIM_DELIVERED  2
#define NGX_HTTP_WEBHOOK_CLAIM_IN_FLIGHT  3

typedef void (*ngx_http_webhook_claim_pt)(ngx_http_request_t *r,
    ngx_uint_t claim);


typedef struct {
    ngx_http_webhook_zone_t          *zone;
    ngx_uint_t                        dry_run;
    ngx_uint_t                        charge_verified;
} ngx_http_webhook_limit_t;


/* webhook_enqueue: where a location's deliveries go */
typedef struct {
    ngx_http_complex_value_t          stream;
    ngx_uint_t                        maxlen;       /* 0: untrimmed */
    ngx_uint_t                        wait_replicas;
} ngx_http_webhook_enqueue_conf_t;


/* one delivery on its way into a stream */
typedef struct {
    ngx_http_webhook_enqueue_conf_t  *conf;
    ngx_str_t                         stream;
    void                             *stats;        /* its queue slot */
    ngx_str_t                         id;           /* the stream id */
    ngx_str_t                         error;        /* Redis's, if any */
    ngx_int_t                         replicas;     /* WAIT's answer */
    unsigned                          stored:1;     /* XADD answered */
} ngx_http_webhook_enqueue_t;


/* status counters of one location, in the status shared memory zone */
typedef struct ngx_http_webhook_stats_s  ngx_http_webhook_stats_t;


typedef struct {
    ngx_array_t                       zones;        /* of ..._zone_t * */
    ngx_array_t                       stats;        /* of ..._stats_t * */
    ngx_shm_zone_t                   *status_zone;
    ngx_slab_pool_t                  *status_pool;
    void                             *status_sh;

    ngx_http_webhook_redis_conf_t    *redis;        /* NULL: no Redis */
    ngx_shm_zone_t                   *queue_zone;   /* webhook_enqueue */

    /* webhook_latency_buckets at http level: the bounds counted, in ms */
    ngx_array_t                      *buckets;      /* of uint64_t */

    /* the first "redis=on" / "sync=on", for the error without Redis */
    u_char                           *redis_user_file;
    ngx_uint_t                        redis_user_line;
    const char                       *redis_user;
} ngx_http_webhook_main_conf_t;


typedef struct {
    ngx_str_t                         value;        /* wiped on free */
    ngx_str_t                         origin;       /* "file:..", "env:.."
                                                       or "literal"; never
                                                       the secret */
} ngx_http_webhook_secret_t;


typedef struct {
    webhook_ed25519_key_t            *key;          /* freed with the
                                                       configuration */
    ngx_str_t                         origin;
    webhook_pkey_t                   *pkey;         /* not Ed25519: RSA or
                                                       ECDSA; freed with the
                                                       configuration */
    ngx_str_t                         url;          /* "url=": where the
                                                       sender says its
                                                       certificate is */
} ngx_http_webhook_public_key_t;


struct ngx_http_webhook_loc_conf_s {
    const ngx_http_webhook_preset_t  *preset;       /* NULL: verify off */
    ngx_array_t                      *secrets;      /* of ..._secret_t */
    ngx_array_t                      *keys;         /* of webhook_hmac_t * */
    ngx_array_t                      *public_keys;  /* of ..._public_key_t */
    u_char                           *token_digests; /* SHA-256 of each
                                                        secret (gitlab) */
    time_t                            tolerance;
    ngx_uint_t                        mode;
    ngx_http_complex_value_t         *id;
    ngx_http_complex_value_t         *event;
    ngx_http_complex_value_t         *public_url;
    ngx_str_t                         paypal_webhook_id;

    /* webhook_verify custom */
    ngx_str_t                         sig_header;
    ngx_http_webhook_pattern_t       *sig_pattern;
    ngx_uint_t                        sig_encoding;
    ngx_uint_t                        digest;
    ngx_array_t                      *signed_payload; /* of ..._part_t */
    ngx_http_complex_value_t         *timestamp;

    ngx_array_t                      *allow;        /* of webhook_cidr_t */
    ngx_uint_t                        allow_all;
    ngx_array_t                      *limits;       /* of ..._limit_t,
                                                       in zone order */
    ngx_http_webhook_zone_t          *replay;
    ngx_msec_t                        replay_ttl;   /* resolved at merge */
    ngx_uint_t                        replay_redis; /* redis=on */
    ngx_msec_t                        replay_lease; /* in flight, 0: 60s */

    ngx_http_webhook_enqueue_conf_t  *enqueue;      /* webhook_enqueue */
    ngx_array_t                      *enqueue_headers; /* of ngx_str_t:
                                                       "h:name", lowercase */

    ngx_flag_t                        handshake;    /* webhook_handshake */

    ngx_flag_t                        status;       /* webhook_status */
    ngx_http_webhook_stats_t         *stats;        /* NULL: not counted */
    ngx_array_t                      *buckets;      /* webhook_status: the
                                                       bounds shown, of
                                                       uint64_t ms */

    /* where webhook_verify was set, for errors found at merge time */
    u_char                           *verify_file;
    ngx_uint_t                        verify_line;
};


/*
 * Per-request state.  It lives in a pool cleanup entry so it survives
 * the ctx reset of an internal redirect (error_page, try_files): the
 * handler decides there whether the verdict still holds, and the
 * variables still answer afterwards.
 */
struct ngx_http_webhook_ctx_s {
    ngx_http_webhook_state_e          state;
    ngx_http_webhook_loc_conf_t      *conf;         /* what judged it */
    ngx_http_webhook_loc_conf_t      *verified_by;  /* whose verification
                                                       it passed */
    ngx_array_t                      *counted;      /* limit arrays it was
                                                       counted against */
    ngx_array_t                      *reserved;     /* charge=verified
                                                       slots it holds */
    ngx_http_webhook_reason_e         reason;       /* refused for */
    ngx_http_webhook_reason_e         would_reason; /* monitor, dry_run */

    const ngx_http_webhook_family_t  *family;
    ngx_str_t                         signed_id;    /* raw header values */
    ngx_str_t                         signed_ts;
    int64_t                           timestamp;    /* unix seconds */

    u_char                           *candidates;   /* decoded, back to back */
    size_t                            ncandidates;
    u_char                           *ed25519;      /* 64-byte signatures */
    size_t                            ned25519;
    ngx_str_t                         token;        /* SIG_TOKEN: as sent */
    ngx_str_t                         asym_sig;     /* SIG_PKEY: decoded */

    ngx_uint_t                        secret_index; /* 1-based, 0: none */
    u_char                            matched_mac[WEBHOOK_MAC_MAX];
    size_t                            matched_mac_len;

    ngx_str_t                         url;          /* webhook_public_url */
    ngx_str_t                         pieces[NGX_HTTP_WEBHOOK_MAX_PARTS];

    u_char                            body_sha256[32]; /* Twilio JSON */

    ngx_str_t                         id;
    ngx_str_t                         event;

    ngx_http_webhook_json_t          *json;         /* fields of the body
                                                       (..._json.c) */

    /* the tightest rate limit, for the RateLimit-* headers */
    uint64_t                          rl_limit;
    uint64_t                          rl_remaining;
    int64_t                           rl_reset_ms;

    /* the replay records this request holds while in flight: one per
       key (ngx_http_webhook_replay.c) */
    ngx_http_webhook_zone_t          *replay_zone;
    ngx_str_t                         replay_key[NGX_HTTP_WEBHOOK_REPLAY_KEYS];
    uint32_t                          replay_hash[NGX_HTTP_WEBHOOK_REPLAY_KEYS];
    ngx_uint_t                        replay_nkeys;
    uint64_t                          replay_token;
    ngx_msec_t                        replay_ttl;

    ngx_msec_t                        replay_lease;
    ngx_event_t                      *replay_renew; /* the lease's timer */

    /* their mirror in Redis (webhook_replay ... redis=on) */
    ngx_uint_t                        claim;        /* what Redis said */

    unsigned                          rl_set:1;
    unsigned                          duplicate:1;
    unsigned                          verified:1;
    unsigned                          has_timestamp:1;
    unsigned                          body_read:1;  /* all of it */
    unsigned                          limit_view:2; /* ..._VIEW_* */
    unsigned                          redis_held:1; /* ours in Redis */
    unsigned                          id_evaluated:1;
    unsigned                          event_evaluated:1;
    unsigned                          url_evaluated:1;
    unsigned                          pieces_ready:1;
    unsigned                          body_hash:1;  /* Twilio JSON */
    unsigned                          handshake:1;  /* passed unverified:
                                                       webhook_handshake */
};


/* a span-at-a-time walk over the request body: memory and temp file */
typedef struct {
    ngx_http_request_t               *request;
    ngx_chain_t                      *chain;
    off_t                             offset;       /* into chain->buf */
} ngx_http_webhook_body_cursor_t;


/*
 * A consumer group of a stream as the store read it from Redis (XINFO
 * GROUPS): what the status page keeps of it.  name points into the
 * store's reply, valid only during ngx_http_webhook_queue_polled().
 */
#define NGX_HTTP_WEBHOOK_QUEUE_GROUPS      8

typedef struct {
    ngx_str_t                         name;
    int64_t                           pending;
    int64_t                           lag;          /* -1: Redis does not
                                                       know */
} ngx_http_webhook_stream_group_t;


extern ngx_module_t  ngx_http_webhook_module;


/* ngx_http_webhook_handler.c */
ngx_int_t ngx_http_webhook_handler(ngx_http_request_t *r);
ngx_http_webhook_ctx_t *ngx_http_webhook_get_ctx(ngx_http_request_t *r);

/* ngx_http_webhook_presets.c */
const ngx_http_webhook_preset_t *ngx_http_webhook_preset_find(ngx_str_t *name);
u_char *ngx_http_webhook_preset_names(ngx_pool_t *pool);
ngx_uint_t ngx_http_webhook_preset_id_signed(
    const ngx_http_webhook_preset_t *preset);
ngx_msec_t ngx_http_webhook_preset_record_ttl(
    const ngx_http_webhook_preset_t *preset, time_t tolerance);

/* ngx_http_webhook_secret.c */
char *ngx_http_webhook_secret_load(ngx_conf_t *cf, ngx_str_t *spec,
    ngx_http_webhook_secret_t *secret, ngx_uint_t is_secret);
ngx_array_t *ngx_http_webhook_keys_create(ngx_conf_t *cf,
    const ngx_http_webhook_preset_t *preset, ngx_array_t *secrets);

/* ngx_http_webhook_verify.c */
ngx_int_t ngx_http_webhook_verify_headers(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_verify_body(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_request_id(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *id);
ngx_int_t ngx_http_webhook_request_event(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *event);
ngx_table_elt_t *ngx_http_webhook_find_header(ngx_http_request_t *r,
    const char *name);
ngx_int_t ngx_http_webhook_public_url(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_str_t *url);
ngx_int_t ngx_http_webhook_hash_body(ngx_http_request_t *r,
    webhook_hmac_t **keys, ngx_uint_t nkeys);
ngx_int_t ngx_http_webhook_check_time(ngx_http_webhook_ctx_t *ctx,
    ngx_str_t *value, webhook_ts_format_t fmt);
ngx_int_t ngx_http_webhook_window(ngx_http_webhook_loc_conf_t *wlcf,
    ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_hmac_failed(ngx_http_request_t *r);
ngx_int_t ngx_http_webhook_body_sha256(ngx_http_request_t *r, u_char *md);

/* ngx_http_webhook_ed25519.c */
char *ngx_http_webhook_public_key(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webhook_ed25519_distinct(ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_ed25519_match(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx,
    ngx_int_t *index);

/* ngx_http_webhook_asym.c */
ngx_int_t ngx_http_webhook_asym_init(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *wlcf);

/* ngx_http_webhook_sendgrid.c, ngx_http_webhook_paypal.c,
   ngx_http_webhook_sns.c */
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_sendgrid_scheme;
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_paypal_scheme;
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_sns_scheme;

/* ngx_http_webhook_adyen.c */
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_adyen_scheme;

/* ngx_http_webhook_braintree.c */
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_braintree_scheme;

/* ngx_http_webhook_custom.c */
char *ngx_http_webhook_signature_pattern(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_signed_payload(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
const ngx_http_webhook_preset_t *ngx_http_webhook_custom_preset(
    ngx_conf_t *cf, ngx_http_webhook_loc_conf_t *conf);
int ngx_http_webhook_pattern_match(ngx_http_request_t *r,
    ngx_http_webhook_pattern_t *pattern, ngx_str_t *value,
    webhook_sig_list_t *list);

/* ngx_http_webhook_token.c, _twilio.c, _mailgun.c */
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_token_scheme;
ngx_int_t ngx_http_webhook_token_init(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *wlcf);
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_twilio_scheme;
extern const ngx_http_webhook_scheme_t  ngx_http_webhook_mailgun_scheme;

/* ngx_http_webhook_body.c */
void ngx_http_webhook_body_open(ngx_http_webhook_body_cursor_t *cur,
    ngx_http_request_t *r);
ssize_t ngx_http_webhook_body_next(ngx_http_webhook_body_cursor_t *cur,
    const u_char **data, size_t max);
ssize_t ngx_http_webhook_body_copy(ngx_http_webhook_body_cursor_t *cur,
    u_char *dst, size_t size);
off_t ngx_http_webhook_body_length(ngx_http_request_t *r);
ngx_int_t ngx_http_webhook_body_span(ngx_http_request_t *r, ngx_uint_t copy,
    ngx_str_t *body);

/* ngx_http_webhook_json.c */
ngx_int_t ngx_http_webhook_json_string(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const char *const *paths, ngx_str_t *out);
ngx_int_t ngx_http_webhook_json_field(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, const char *path, ngx_str_t *out);
ngx_int_t ngx_http_webhook_json_value(ngx_http_request_t *r,
    webhook_json_type_e type, const u_char *token, size_t len,
    ngx_str_t *value);

/* ngx_http_webhook_variables.c */
ngx_int_t ngx_http_webhook_add_variables(ngx_conf_t *cf);

/* ngx_http_webhook_allow.c */
char *ngx_http_webhook_allow_ip(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_allow_ip_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_uint_t ngx_http_webhook_allowed(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf);

/* ngx_http_webhook_zone.c */
ngx_http_webhook_zone_t *ngx_http_webhook_zone_add(ngx_conf_t *cf,
    ngx_str_t *spec, ngx_uint_t type, size_t payload);
ngx_http_webhook_zone_t *ngx_http_webhook_zone_find(ngx_conf_t *cf,
    ngx_str_t *name, ngx_uint_t type);
ngx_http_webhook_zone_t *ngx_http_webhook_zone_named(ngx_conf_t *cf,
    ngx_command_t *cmd, ngx_str_t *name, ngx_uint_t type);
ngx_int_t ngx_http_webhook_zones_check(ngx_conf_t *cf);

/*
 * The hash a key is filed under: MurmurHash2 (src/core/webhook_murmur.c,
 * nginx's ngx_murmur_hash2 without its signed shifts), a few instructions
 * per 4 bytes where CRC-32 spent 14 per byte.  Ids are the sender's (or an
 * attacker's) choice, and colliding hashes are easy to make: entries with
 * equal hashes are ordered by their key bytes, so a collision costs a
 * compare, never a list walk.
 */
#define ngx_http_webhook_zone_hash(key)                                       \
    webhook_murmur2((key)->data, (key)->len)

ngx_http_webhook_entry_t *ngx_http_webhook_zone_lookup(
    ngx_http_webhook_zone_t *zone, uint32_t hash, ngx_str_t *key);
ngx_http_webhook_entry_t *ngx_http_webhook_zone_insert(
    ngx_http_webhook_zone_t *zone, uint32_t hash, ngx_str_t *key,
    int64_t now_ms);
void ngx_http_webhook_zone_delete(ngx_http_webhook_zone_t *zone,
    ngx_http_webhook_entry_t *entry);
ngx_http_webhook_entry_t *ngx_http_webhook_zone_peek(
    ngx_http_webhook_zone_t *zone, uint32_t hash, ngx_str_t *key);
void *ngx_http_webhook_entry_payload(ngx_http_webhook_entry_t *entry);
u_char *ngx_http_webhook_entry_key(ngx_http_webhook_entry_t *entry);
uint32_t ngx_http_webhook_entry_hash(ngx_http_webhook_entry_t *entry);
int64_t ngx_http_webhook_now_ms(void);

/* ngx_http_webhook_limit.c */
char *ngx_http_webhook_limit_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_limit(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
ngx_int_t ngx_http_webhook_limit_check(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_limit_headers(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
void ngx_http_webhook_limit_settle(ngx_http_webhook_ctx_t *ctx,
    ngx_uint_t commit);
ngx_int_t ngx_http_webhook_limit_collect(ngx_http_webhook_zone_t *zone,
    ngx_array_t *items);
void ngx_http_webhook_limit_synced(ngx_http_webhook_limit_sync_t *item,
    uint64_t current, uint64_t previous);
void ngx_http_webhook_limit_unsynced(ngx_http_webhook_limit_sync_t *item);

/* ngx_http_webhook_limit_sync.c */
ngx_int_t ngx_http_webhook_limit_wait(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx, ngx_http_webhook_limit_sync_t *items,
    ngx_uint_t n);
void ngx_http_webhook_limit_sync_init(ngx_cycle_t *cycle);
void ngx_http_webhook_limit_sync_exit(void);

/* ngx_http_webhook_replay.c */
char *ngx_http_webhook_replay_zone(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_replay(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webhook_replay_check(ngx_http_request_t *r,
    ngx_http_webhook_loc_conf_t *wlcf, ngx_http_webhook_ctx_t *ctx);
void ngx_http_webhook_replay_settle(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_replay_claimed(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);

/* ngx_http_webhook_redis_conf.c, ngx_http_webhook_redis.c */
char *ngx_http_webhook_redis(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
void ngx_http_webhook_redis_used(ngx_conf_t *cf, const char *what);
ngx_int_t ngx_http_webhook_redis_check(ngx_conf_t *cf);
ngx_int_t ngx_http_webhook_redis_init_process(ngx_cycle_t *cycle);
void ngx_http_webhook_redis_exit_process(ngx_cycle_t *cycle);

/*
 * The cluster store (ngx_http_webhook_redis_store.c): what the limiter,
 * the replay cache and the status page ask of Redis, in the module's own
 * types.  Nothing outside the Redis files sees hiredis.
 */
ngx_uint_t ngx_http_webhook_store_mode(ngx_http_webhook_redis_conf_t *rcf);
ngx_uint_t ngx_http_webhook_store_connected(void);
void ngx_http_webhook_store_trouble(ngx_http_webhook_redis_conf_t *rcf,
    const char *what);
ngx_int_t ngx_http_webhook_store_sync(ngx_http_webhook_limit_sync_t *item);
ngx_int_t ngx_http_webhook_store_claim(ngx_http_request_t *r,
    ngx_http_webhook_record_ref_t *rec, ngx_msec_t lease,
    ngx_http_webhook_claim_pt done);
void ngx_http_webhook_store_settle(ngx_http_webhook_record_ref_t *rec,
    ngx_msec_t ttl);
void ngx_http_webhook_store_renew(ngx_http_webhook_record_ref_t *rec,
    ngx_msec_t lease);
void ngx_http_webhook_store_status(ngx_http_webhook_main_conf_t *wmcf,
    ngx_http_webhook_store_status_t *st, ngx_pool_t *pool);

/* ngx_http_webhook_enqueue.c */
char *ngx_http_webhook_enqueue(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_enqueue_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_http_webhook_enqueue_t *ngx_http_webhook_enqueue_get(
    ngx_http_request_t *r);
void ngx_http_webhook_enqueue_answer(ngx_http_request_t *r);

/* ngx_http_webhook_redis_stream.c */
ngx_int_t ngx_http_webhook_stream_add(ngx_http_request_t *r,
    ngx_http_webhook_enqueue_t *eq, ngx_str_t *fields, ngx_uint_t nfields);
ngx_int_t ngx_http_webhook_stream_poll(ngx_str_t *streams, ngx_uint_t n);

/* ngx_http_webhook_queue.c */
ngx_int_t ngx_http_webhook_queue_add_zone(ngx_conf_t *cf);
void ngx_http_webhook_queue_polled(ngx_str_t *stream, int64_t length,
    ngx_http_webhook_stream_group_t *groups, ngx_uint_t n);
void *ngx_http_webhook_queue_stream(ngx_str_t *stream);
void ngx_http_webhook_queue_count(void *stats, ngx_uint_t enqueued);
void ngx_http_webhook_queue_poll_done(void);
ngx_int_t ngx_http_webhook_queue_init_process(ngx_cycle_t *cycle);
json_t *ngx_http_webhook_queue_json(void);
ngx_int_t ngx_http_webhook_queue_prometheus(ngx_pool_t *pool,
    ngx_str_t *out);

/* ngx_http_webhook_status.c */
char *ngx_http_webhook_status(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
ngx_int_t ngx_http_webhook_stats_register(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *wlcf);
ngx_int_t ngx_http_webhook_status_init(ngx_conf_t *cf);
void ngx_http_webhook_stats_count(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
char *ngx_http_webhook_latency_buckets(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
char *ngx_http_webhook_latency_merge(ngx_conf_t *cf,
    ngx_http_webhook_loc_conf_t *prev, ngx_http_webhook_loc_conf_t *conf);
void ngx_http_webhook_stats_latency(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
void ngx_http_webhook_stats_refused(ngx_http_webhook_ctx_t *ctx);

/* ngx_http_webhook_reject.c */
ngx_int_t ngx_http_webhook_reject(ngx_http_request_t *r,
    ngx_http_webhook_reason_e reason);
ngx_int_t ngx_http_webhook_reject_content(ngx_http_request_t *r,
    ngx_http_webhook_reason_e reason);
void ngx_http_webhook_log_verdict(ngx_http_request_t *r,
    ngx_http_webhook_ctx_t *ctx);
ngx_int_t ngx_http_webhook_acknowledge_duplicate(ngx_http_request_t *r);
ngx_str_t *ngx_http_webhook_reason_name(ngx_http_webhook_reason_e reason);


#endif /* _NGX_HTTP_WEBHOOK_MODULE_H_INCLUDED_ */

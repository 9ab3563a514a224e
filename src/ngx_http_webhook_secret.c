
/*
 * ngx_http_webhook_module: signing secrets.
 *
 * A secret is read once, at configuration time, from a file only its
 * owner can read, from the environment, or (with a warning) from the
 * configuration itself.  Its bytes and every key derived from them are
 * wiped with OPENSSL_cleanse when the configuration's pool goes away, and
 * they are never logged: messages name only where a secret came from.
 *
 * Public keys (webhook_public_key) are read the same ways; they are not
 * secret, so their files may be readable by others and a literal key in
 * the configuration is fine.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <openssl/crypto.h>

#include "ngx_http_webhook_module.h"


/* a signing secret is tens of bytes; anything this big is a wrong file */
#define NGX_HTTP_WEBHOOK_SECRET_MAX  4096


typedef struct {
    u_char      *data;
    size_t       len;
} ngx_http_webhook_wipe_t;


static ngx_int_t ngx_http_webhook_secret_file(ngx_conf_t *cf,
    ngx_str_t *path, ngx_http_webhook_secret_t *secret,
    ngx_uint_t is_secret);
static ngx_int_t ngx_http_webhook_secret_env(ngx_conf_t *cf,
    ngx_str_t *name, ngx_http_webhook_secret_t *secret,
    ngx_uint_t is_secret);
static u_char *ngx_http_webhook_secret_alloc(ngx_conf_t *cf, size_t len);
static void ngx_http_webhook_wipe(void *data);
static void ngx_http_webhook_keys_free(void *data);


char *
ngx_http_webhook_secret_load(ngx_conf_t *cf, ngx_str_t *spec,
    ngx_http_webhook_secret_t *secret, ngx_uint_t is_secret)
{
    ngx_str_t  rest;

    if (spec->len > 5 && ngx_strncmp(spec->data, "file:", 5) == 0) {
        rest.data = spec->data + 5;
        rest.len = spec->len - 5;

        if (ngx_http_webhook_secret_file(cf, &rest, secret, is_secret)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else if (spec->len > 4 && ngx_strncmp(spec->data, "env:", 4) == 0) {
        rest.data = spec->data + 4;
        rest.len = spec->len - 4;

        if (ngx_http_webhook_secret_env(cf, &rest, secret, is_secret)
            != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

    } else {
        if (spec->len == 0) {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "%V is empty",
                               (ngx_str_t *) cf->args->elts);
            return NGX_CONF_ERROR;
        }

        if (is_secret) {
            ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                               "webhook_secret is written in the "
                               "configuration; secrets belong in a file "
                               "(\"file:/path\") or the environment "
                               "(\"env:NAME\")");
        }

        secret->value.data = ngx_http_webhook_secret_alloc(cf, spec->len);
        if (secret->value.data == NULL) {
            return NGX_CONF_ERROR;
        }

        ngx_memcpy(secret->value.data, spec->data, spec->len);
        secret->value.len = spec->len;
        ngx_str_set(&secret->origin, "literal");

        /* the parsed argument stays in the cycle pool: wipe that copy */
        OPENSSL_cleanse(spec->data, spec->len);
    }

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_webhook_secret_file(ngx_conf_t *cf, ngx_str_t *path,
    ngx_http_webhook_secret_t *secret, ngx_uint_t is_secret)
{
    u_char           *p;
    size_t            len;
    ssize_t           n;
    ngx_fd_t          fd;
    ngx_int_t         rc;
    ngx_str_t         name;
    ngx_file_t        file;
    ngx_str_t        *directive;
    ngx_file_info_t   fi;

    directive = cf->args->elts;
    name = *path;

    if (ngx_conf_full_name(cf->cycle, &name, 1) != NGX_OK) {
        return NGX_ERROR;
    }

    secret->origin.len = sizeof("file:") - 1 + name.len;
    secret->origin.data = ngx_pnalloc(cf->pool, secret->origin.len);
    if (secret->origin.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(secret->origin.data, "file:%V", &name);

    fd = ngx_open_file(name.data, NGX_FILE_RDONLY, NGX_FILE_OPEN, 0);

    if (fd == NGX_INVALID_FILE) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%V: cannot open file \"%V\"", directive,
                           &name);
        return NGX_ERROR;
    }

    rc = NGX_ERROR;
    p = NULL;
    len = 0;

    if (ngx_fd_info(fd, &fi) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%V: cannot stat \"%V\"", directive, &name);
        goto done;
    }

    /*
     * A secret others can read is no longer a secret: refuse it, as ssh
     * refuses a private key with loose permissions.
     */

    if (is_secret
        && (ngx_file_access(&fi) & (S_IRGRP|S_IWGRP|S_IROTH|S_IWOTH)))
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: secret file \"%V\" is "
                           "accessible by group or others (mode 0%d%d%d); "
                           "run chmod 600 on it", directive, &name,
                           (int) (ngx_file_access(&fi) >> 6) & 7,
                           (int) (ngx_file_access(&fi) >> 3) & 7,
                           (int) ngx_file_access(&fi) & 7);
        goto done;
    }

    if (!ngx_is_file(&fi)
        || ngx_file_size(&fi) > NGX_HTTP_WEBHOOK_SECRET_MAX)
    {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: \"%V\" is not a regular file of "
                           "at most %d bytes", directive, &name,
                           NGX_HTTP_WEBHOOK_SECRET_MAX);
        goto done;
    }

    len = (size_t) ngx_file_size(&fi);

    p = ngx_http_webhook_secret_alloc(cf, len ? len : 1);
    if (p == NULL) {
        goto done;
    }

    ngx_memzero(&file, sizeof(ngx_file_t));
    file.fd = fd;
    file.name = name;
    file.log = cf->log;

    n = ngx_read_file(&file, p, len, 0);

    if (n == NGX_ERROR || (size_t) n != len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno,
                           "%V: cannot read \"%V\"", directive, &name);
        goto done;
    }

    /* one trailing newline, as "echo secret > file" leaves it */

    if (len && p[len - 1] == LF) {
        len--;

        if (len && p[len - 1] == CR) {
            len--;
        }
    }

    if (len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: file \"%V\" is empty", directive,
                           &name);
        goto done;
    }

    secret->value.data = p;
    secret->value.len = len;
    rc = NGX_OK;

done:

    if (ngx_close_file(fd) == NGX_FILE_ERROR) {
        ngx_conf_log_error(NGX_LOG_ALERT, cf, ngx_errno,
                           ngx_close_file_n " \"%V\" failed", &name);
    }

    return rc;
}


static ngx_int_t
ngx_http_webhook_secret_env(ngx_conf_t *cf, ngx_str_t *name,
    ngx_http_webhook_secret_t *secret, ngx_uint_t is_secret)
{
    char       *value;
    size_t      len;
    ngx_str_t  *directive;

    directive = cf->args->elts;

    /* name comes from the parsed configuration: NUL-terminated */

    secret->origin.len = sizeof("env:") - 1 + name->len;
    secret->origin.data = ngx_pnalloc(cf->pool, secret->origin.len);
    if (secret->origin.data == NULL) {
        return NGX_ERROR;
    }

    ngx_sprintf(secret->origin.data, "env:%V", name);

    value = getenv((char *) name->data);

    if (value == NULL || value[0] == '\0') {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: environment variable \"%V\" "
                           "is not set or empty", directive, name);
        return NGX_ERROR;
    }

    len = ngx_strlen(value);

    if (len > NGX_HTTP_WEBHOOK_SECRET_MAX) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "%V: environment variable \"%V\" "
                           "is longer than %d bytes", directive, name,
                           NGX_HTTP_WEBHOOK_SECRET_MAX);
        return NGX_ERROR;
    }

    secret->value.data = ngx_http_webhook_secret_alloc(cf, len);
    if (secret->value.data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(secret->value.data, value, len);
    secret->value.len = len;

    return NGX_OK;
}


/* memory for secret bytes that is wiped when the configuration is freed */

static u_char *
ngx_http_webhook_secret_alloc(ngx_conf_t *cf, size_t len)
{
    ngx_pool_cleanup_t       *cln;
    ngx_http_webhook_wipe_t  *wipe;

    cln = ngx_pool_cleanup_add(cf->pool, sizeof(ngx_http_webhook_wipe_t));
    if (cln == NULL) {
        return NULL;
    }

    wipe = cln->data;

    wipe->data = ngx_pnalloc(cf->pool, len);
    if (wipe->data == NULL) {
        wipe->len = 0;
        return NULL;
    }

    wipe->len = len;
    cln->handler = ngx_http_webhook_wipe;

    return wipe->data;
}


static void
ngx_http_webhook_wipe(void *data)
{
    ngx_http_webhook_wipe_t  *wipe = data;

    if (wipe->len) {
        OPENSSL_cleanse(wipe->data, wipe->len);
    }
}


/*
 * One pre-keyed HMAC context per secret, for this preset's digest and
 * key format.  Freed (and cleansed by OpenSSL) with the configuration.
 */

ngx_array_t *
ngx_http_webhook_keys_create(ngx_conf_t *cf,
    const ngx_http_webhook_preset_t *preset, ngx_array_t *secrets)
{
    u_char                     *key, *colon;
    size_t                      key_len;
    ssize_t                     n;
    ngx_str_t                   b64;
    ngx_uint_t                  i;
    ngx_array_t                *keys;
    webhook_hash_t             *hash;
    webhook_hmac_t            **hp;
    ngx_pool_cleanup_t         *cln;
    ngx_http_webhook_secret_t  *secret;

    keys = ngx_array_create(cf->pool, secrets->nelts,
                            sizeof(webhook_hmac_t *));
    if (keys == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    cln->handler = ngx_http_webhook_keys_free;
    cln->data = keys;

    secret = secrets->elts;

    for (i = 0; i < secrets->nelts; i++) {

        key = secret[i].value.data;
        key_len = secret[i].value.len;

        if (preset->key_format == NGX_HTTP_WEBHOOK_KEY_WHSEC_BASE64) {

            /* "whsec_" is optional, as in both reference libraries */

            b64 = secret[i].value;

            if (b64.len > 6 && ngx_strncmp(b64.data, "whsec_", 6) == 0) {
                b64.data += 6;
                b64.len -= 6;
            }

            key = ngx_http_webhook_secret_alloc(cf,
                      webhook_decoded_size(WEBHOOK_ENC_BASE64, b64.len) + 1);
            if (key == NULL) {
                return NULL;
            }

            n = webhook_decode(WEBHOOK_ENC_BASE64, key,
                               webhook_decoded_size(WEBHOOK_ENC_BASE64,
                                                    b64.len) + 1,
                               b64.data, b64.len);

            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "webhook_secret %V is not a valid "
                                   "\"%V\" secret (\"whsec_\" followed by "
                                   "base64)", &secret[i].origin,
                                   &preset->name);
                return NULL;
            }

            key_len = (size_t) n;

        } else if (preset->key_format == NGX_HTTP_WEBHOOK_KEY_BRAINTREE) {

            /* "public_key:private_key": the key is SHA-1(private_key) */

            colon = ngx_strlchr(key, key + key_len, ':');

            if (colon == NULL || colon == key || colon + 1 == key + key_len) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "webhook_secret %V is not a valid "
                                   "\"%V\" secret (\"public_key:"
                                   "private_key\")",
                                   &secret[i].origin, &preset->name);
                return NULL;
            }

            key = ngx_http_webhook_secret_alloc(cf, 20);
            if (key == NULL) {
                return NULL;
            }

            hash = webhook_hash_new(WEBHOOK_SHA1);

            if (hash == NULL
                || webhook_hash_update(hash, colon + 1,
                                       secret[i].value.data + key_len
                                       - colon - 1)
                   != WEBHOOK_OK
                || webhook_hash_finish(hash, key) != WEBHOOK_OK)
            {
                webhook_hash_free(hash);
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "webhook: cannot hash webhook_secret %V",
                                   &secret[i].origin);
                return NULL;
            }

            webhook_hash_free(hash);
            key_len = 20;

        } else if (preset->key_format == NGX_HTTP_WEBHOOK_KEY_HEX) {

            key = ngx_http_webhook_secret_alloc(cf, key_len / 2 + 1);
            if (key == NULL) {
                return NULL;
            }

            n = webhook_decode(WEBHOOK_ENC_HEX, key, key_len / 2 + 1,
                               secret[i].value.data, key_len);

            if (n <= 0) {
                ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                                   "webhook_secret %V is not a valid "
                                   "\"%V\" secret (hex digits)",
                                   &secret[i].origin, &preset->name);
                return NULL;
            }

            key_len = (size_t) n;
        }

        hp = ngx_array_push(keys);
        if (hp == NULL) {
            return NULL;
        }

        *hp = webhook_hmac_new(preset->digest, key, key_len);

        if (*hp == NULL) {
            keys->nelts--;
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "webhook: cannot create an HMAC key for "
                               "webhook_secret %V", &secret[i].origin);
            return NULL;
        }
    }

    return keys;
}


static void
ngx_http_webhook_keys_free(void *data)
{
    ngx_array_t  *keys = data;

    ngx_uint_t       i;
    webhook_hmac_t **hp;

    hp = keys->elts;

    for (i = 0; i < keys->nelts; i++) {
        webhook_hmac_free(hp[i]);
    }

    keys->nelts = 0;
}

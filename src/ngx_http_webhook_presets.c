
/*
 * ngx_http_webhook_module: provider presets.
 *
 * Each preset is plain data: where the signature is, how it is laid out
 * and encoded, what bytes were signed, and where the delivery id and the
 * event name are.  ../shared/providers.md (docs/providers.md for users)
 * gives the provider's documentation behind every row.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define PART_LIT(s)   { NGX_HTTP_WEBHOOK_PART_LITERAL, s }
#define PART_TS       { NGX_HTTP_WEBHOOK_PART_TIMESTAMP, NULL }
#define PART_ID       { NGX_HTTP_WEBHOOK_PART_ID, NULL }
#define PART_BODY     { NGX_HTTP_WEBHOOK_PART_BODY, NULL }


static const ngx_http_webhook_preset_t  ngx_http_webhook_presets[] = {

    /* Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>][,v0=..]; "<t>.<body>" */
    { ngx_string("stripe"),
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW,
      NGX_HTTP_WEBHOOK_HDR_KV_LIST, ',', "t", "v1",
      { { "Stripe-Signature", NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_LIT("."), PART_BODY },
      { NGX_HTTP_WEBHOOK_SRC_JSON, { "id" } },
      { NGX_HTTP_WEBHOOK_SRC_JSON, { "type" } } },

    /* X-Hub-Signature-256: sha256=<hex> over the body */
    { ngx_string("github"),
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW,
      NGX_HTTP_WEBHOOK_HDR_PREFIXED, 0, NULL, "sha256=",
      { { "X-Hub-Signature-256", NULL, NULL } },
      0, WEBHOOK_TS_AUTO,
      { PART_BODY },
      { NGX_HTTP_WEBHOOK_SRC_HEADER, { "X-GitHub-Delivery" } },
      { NGX_HTTP_WEBHOOK_SRC_HEADER, { "X-GitHub-Event" } } },

    /*
     * Standard Webhooks (and Svix, its origin): "v1,<b64> v1,<b64>" over
     * "<id>.<ts>.<body>", key = base64 after "whsec_".
     */
    { ngx_string("standard"),
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64, NGX_HTTP_WEBHOOK_KEY_WHSEC_BASE64,
      NGX_HTTP_WEBHOOK_HDR_VERSIONED_LIST, 0, NULL, "v1",
      { { "webhook-signature", "webhook-timestamp", "webhook-id" },
        { "svix-signature", "svix-timestamp", "svix-id" } },
      1, WEBHOOK_TS_SECONDS,
      { PART_ID, PART_LIT("."), PART_TS, PART_LIT("."), PART_BODY },
      { NGX_HTTP_WEBHOOK_SRC_SIGNED_ID, { NULL } },
      { NGX_HTTP_WEBHOOK_SRC_JSON, { "type" } } },

    /* X-Shopify-Hmac-Sha256: base64 over the body ("events": no "X-") */
    { ngx_string("shopify"),
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64, NGX_HTTP_WEBHOOK_KEY_RAW,
      NGX_HTTP_WEBHOOK_HDR_PREFIXED, 0, NULL, "",
      { { "X-Shopify-Hmac-Sha256", NULL, NULL },
        { "Shopify-Hmac-Sha256", NULL, NULL } },
      0, WEBHOOK_TS_AUTO,
      { PART_BODY },
      { NGX_HTTP_WEBHOOK_SRC_HEADER,
        { "X-Shopify-Event-Id", "Shopify-Event-Id", "X-Shopify-Webhook-Id" } },
      { NGX_HTTP_WEBHOOK_SRC_HEADER,
        { "X-Shopify-Topic", "Shopify-Topic" } } },

    /* X-Slack-Signature: v0=<hex> over "v0:<ts>:<body>" */
    { ngx_string("slack"),
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW,
      NGX_HTTP_WEBHOOK_HDR_PREFIXED, 0, NULL, "v0=",
      { { "X-Slack-Signature", "X-Slack-Request-Timestamp", NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_LIT("v0:"), PART_TS, PART_LIT(":"), PART_BODY },
      { NGX_HTTP_WEBHOOK_SRC_JSON, { "event_id" } },
      { NGX_HTTP_WEBHOOK_SRC_JSON, { "event.type", "type" } } },
};


/* other names a preset is known by */
static const struct {
    const char  *alias;
    const char  *preset;
} ngx_http_webhook_aliases[] = {
    { "svix", "standard" },
};


const ngx_http_webhook_preset_t *
ngx_http_webhook_preset_find(ngx_str_t *name)
{
    ngx_uint_t   i;
    ngx_str_t    target;

    target = *name;

    for (i = 0; i < sizeof(ngx_http_webhook_aliases)
                    / sizeof(ngx_http_webhook_aliases[0]); i++)
    {
        if (target.len == ngx_strlen(ngx_http_webhook_aliases[i].alias)
            && ngx_strncmp(target.data, ngx_http_webhook_aliases[i].alias,
                           target.len) == 0)
        {
            target.data = (u_char *) ngx_http_webhook_aliases[i].preset;
            target.len = ngx_strlen(target.data);
            break;
        }
    }

    for (i = 0; i < sizeof(ngx_http_webhook_presets)
                    / sizeof(ngx_http_webhook_presets[0]); i++)
    {
        if (target.len == ngx_http_webhook_presets[i].name.len
            && ngx_strncmp(target.data, ngx_http_webhook_presets[i].name.data,
                           target.len) == 0)
        {
            return &ngx_http_webhook_presets[i];
        }
    }

    return NULL;
}

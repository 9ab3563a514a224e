
/*
 * ngx_http_webhook_module: provider presets.
 *
 * Each preset is plain data: where the signature is, how it is laid out
 * and encoded, what bytes were signed, and where the delivery id and the
 * event name are.  docs/providers.md gives the provider's documentation
 * behind every row.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_webhook_module.h"


#define PART_LIT(s)   { NGX_HTTP_WEBHOOK_PART_LITERAL, s, NULL }
#define PART_TS       { NGX_HTTP_WEBHOOK_PART_TIMESTAMP, NULL, NULL }
#define PART_ID       { NGX_HTTP_WEBHOOK_PART_ID, NULL, NULL }
#define PART_BODY     { NGX_HTTP_WEBHOOK_PART_BODY, NULL, NULL }
#define PART_METHOD   { NGX_HTTP_WEBHOOK_PART_METHOD, NULL, NULL }
#define PART_URL      { NGX_HTTP_WEBHOOK_PART_URL, NULL, NULL }

#define NO_SOURCE     { NGX_HTTP_WEBHOOK_SRC_NONE, { NULL } }
#define HEADER(...)   { NGX_HTTP_WEBHOOK_SRC_HEADER, { __VA_ARGS__ } }
#define JSON(...)     { NGX_HTTP_WEBHOOK_SRC_JSON, { __VA_ARGS__ } }
#define SIGNED_ID     { NGX_HTTP_WEBHOOK_SRC_SIGNED_ID, { NULL } }

#define SHA256_HEX    WEBHOOK_SHA256, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW
#define SHA256_B64    WEBHOOK_SHA256, WEBHOOK_ENC_BASE64,                     \
                      NGX_HTTP_WEBHOOK_KEY_RAW
#define SHA1_HEX      WEBHOOK_SHA1, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW
#define SHA1_B64      WEBHOOK_SHA1, WEBHOOK_ENC_BASE64, NGX_HTTP_WEBHOOK_KEY_RAW
#define SHA512_HEX    WEBHOOK_SHA512, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_RAW

#define PREFIXED(p)   NGX_HTTP_WEBHOOK_HDR_PREFIXED, 0, NULL, p
#define KV(sep, t, s) NGX_HTTP_WEBHOOK_HDR_KV_LIST, sep, t, s

#define NO_TIMESTAMP  0, WEBHOOK_TS_AUTO

#define PART_NONE     { NGX_HTTP_WEBHOOK_PART_END, NULL, NULL }

/* the fields most presets leave zero: sig_type, ed25519_key, ts_json,
   scheme, custom */
#define EXTRA(type, ed, ts_json, scheme)                                      \
                      NGX_HTTP_WEBHOOK_SIG_##type, ed, ts_json, scheme, 0
#define PLAIN         EXTRA(HMAC, NULL, NULL, NULL)

/*
 * Replay facts: without a signed timestamp, how long the provider may
 * send a delivery again, in seconds, when that is longer than the 24 h
 * floor (0: the floor); the signed JSON field a record is keyed on, for
 * a scheme whose signature covers neither the body nor an id; and
 * whether $webhook_id may name the sender rather than the delivery.
 */
#define REPLAY(redelivery, key_json, id_not_unique)                           \
                      redelivery, key_json, id_not_unique, NULL, NULL
#define NO_REPLAY_FACTS REPLAY(0, NULL, 0)

/*
 * More headers with one signature each (Box's secondary, DocuSign's
 * numbered ones): what ngx_http_webhook_preset_t's sig_more says; the
 * last of a row's fields, after the replay facts (none for these).
 */
#define MORE_SIGNATURES(more)  0, NULL, 0, more, NULL

/* the header of an unsigned endpoint handshake (webhook_handshake) */
#define HANDSHAKE(header)      0, NULL, 0, NULL, header


static const ngx_http_webhook_preset_t  ngx_http_webhook_presets[] = {

    /* Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>][,v0=..]; "<t>.<body>" */
    { ngx_string("stripe"),
      SHA256_HEX,
      KV(',', "t", "v1"),
      { { "Stripe-Signature", NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_LIT("."), PART_BODY },
      JSON("id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Hub-Signature-256: sha256=<hex> over the body */
    { ngx_string("github"),
      SHA256_HEX,
      PREFIXED("sha256="),
      { { "X-Hub-Signature-256", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("X-GitHub-Delivery"),
      HEADER("X-GitHub-Event"),
      PLAIN,
      REPLAY(72 * 3600, NULL, 0) },

    /*
     * Standard Webhooks (and Svix, its origin): "v1,<b64> v1,<b64>" over
     * "<id>.<ts>.<body>", key = base64 after "whsec_"; "v1a,<b64>"
     * entries are Ed25519 signatures of the same bytes.
     */
    { ngx_string("standard"),
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64, NGX_HTTP_WEBHOOK_KEY_WHSEC_BASE64,
      NGX_HTTP_WEBHOOK_HDR_VERSIONED_LIST, 0, NULL, "v1",
      { { "webhook-signature", "webhook-timestamp", "webhook-id" },
        { "svix-signature", "svix-timestamp", "svix-id" } },
      1, WEBHOOK_TS_SECONDS,
      { PART_ID, PART_LIT("."), PART_TS, PART_LIT("."), PART_BODY },
      SIGNED_ID,
      JSON("type"),
      EXTRA(HMAC, "v1a", NULL, NULL),
      NO_REPLAY_FACTS },

    /* X-Shopify-Hmac-Sha256: base64 over the body ("events": no "X-") */
    { ngx_string("shopify"),
      SHA256_B64,
      PREFIXED(""),
      { { "X-Shopify-Hmac-Sha256", NULL, NULL },
        { "Shopify-Hmac-Sha256", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("X-Shopify-Event-Id", "Shopify-Event-Id", "X-Shopify-Webhook-Id"),
      HEADER("X-Shopify-Topic", "Shopify-Topic"),
      PLAIN,
      REPLAY(48 * 3600, NULL, 0) },

    /* X-Slack-Signature: v0=<hex> over "v0:<ts>:<body>" */
    { ngx_string("slack"),
      SHA256_HEX,
      PREFIXED("v0="),
      { { "X-Slack-Signature", "X-Slack-Request-Timestamp", NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_LIT("v0:"), PART_TS, PART_LIT(":"), PART_BODY },
      JSON("event_id"),
      JSON("event.type", "type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Razorpay-Signature: <hex> over the body */
    { ngx_string("razorpay"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Razorpay-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("X-Razorpay-Event-Id"),
      JSON("event"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * Meta (WhatsApp, Messenger, Instagram): as GitHub, keyed with the
     * App Secret; the ids are inside the entries of the body, and the
     * entry's id (without a message) is the account's, the same for
     * every delivery: replay records go by the MAC.
     */
    { ngx_string("meta"),
      SHA256_HEX,
      PREFIXED("sha256="),
      { { "X-Hub-Signature-256", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("entry.0.changes.0.value.messages.0.id", "entry.0.id"),
      JSON("entry.0.changes.0.field", "object"),
      PLAIN,
      REPLAY(7 * 24 * 3600, NULL, 1) },

    /* Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]; "<ts>:<body>" */
    { ngx_string("paddle"),
      SHA256_HEX,
      KV(';', "ts", "h1"),
      { { "Paddle-Signature", NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_LIT(":"), PART_BODY },
      JSON("notification_id", "event_id"),
      JSON("event_type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* x-zm-signature: v0=<hex> over "v0:<ts>:<body>" */
    { ngx_string("zoom"),
      SHA256_HEX,
      PREFIXED("v0="),
      { { "x-zm-signature", "x-zm-request-timestamp", NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_LIT("v0:"), PART_TS, PART_LIT(":"), PART_BODY },
      NO_SOURCE,
      JSON("event"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * Twitch EventSub: sha256=<hex> over id + timestamp + body, the
     * timestamp an RFC 3339 string with nanoseconds, signed as sent.
     */
    { ngx_string("twitch"),
      SHA256_HEX,
      PREFIXED("sha256="),
      { { "Twitch-Eventsub-Message-Signature",
          "Twitch-Eventsub-Message-Timestamp",
          "Twitch-Eventsub-Message-Id" } },
      1, WEBHOOK_TS_RFC3339,
      { PART_ID, PART_TS, PART_BODY },
      SIGNED_ID,
      HEADER("Twitch-Eventsub-Subscription-Type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* x-square-hmacsha256-signature: base64 over notification URL + body */
    { ngx_string("square"),
      SHA256_B64,
      PREFIXED(""),
      { { "x-square-hmacsha256-signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_URL, PART_BODY },
      JSON("event_id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * HubSpot v3: base64 over method + URL + body + timestamp, the
     * timestamp in milliseconds; the body is an array of events.
     */
    { ngx_string("hubspot"),
      SHA256_B64,
      PREFIXED(""),
      { { "X-HubSpot-Signature-v3", "X-HubSpot-Request-Timestamp", NULL } },
      1, WEBHOOK_TS_MILLISECONDS,
      { PART_METHOD, PART_URL, PART_BODY, PART_TS },
      JSON("0.eventId"),
      JSON("0.subscriptionType"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * Linear-Signature: <hex> over the body; the signed timestamp is the
     * body's webhookTimestamp (milliseconds), not the unsigned
     * Linear-Timestamp header.
     */
    { ngx_string("linear"),
      SHA256_HEX,
      PREFIXED(""),
      { { "Linear-Signature", NULL, NULL } },
      1, WEBHOOK_TS_MILLISECONDS,
      { PART_BODY },
      HEADER("Linear-Delivery"),
      HEADER("Linear-Event"),
      EXTRA(HMAC, NULL, "webhookTimestamp", NULL),
      NO_REPLAY_FACTS },

    /*
     * Bitbucket Cloud: X-Hub-Signature (no "-256"): sha256=<hex>.  The
     * delivery is X-Request-UUID; X-Hook-UUID names the webhook, the
     * same for every delivery, so it is no delivery id.
     */
    { ngx_string("bitbucket"),
      SHA256_HEX,
      PREFIXED("sha256="),
      { { "X-Hub-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("X-Request-UUID"),
      HEADER("X-Event-Key"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Typeform-Signature: sha256=<base64> over the body */
    { ngx_string("typeform"),
      SHA256_B64,
      PREFIXED("sha256="),
      { { "Typeform-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("event_id"),
      JSON("event_type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Gitlab-Token: the secret itself, compared in constant time */
    { ngx_string("gitlab"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Gitlab-Token", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_NONE },
      HEADER("Idempotency-Key", "X-Gitlab-Event-UUID"),
      HEADER("X-Gitlab-Event"),
      EXTRA(TOKEN, NULL, NULL, &ngx_http_webhook_token_scheme),
      NO_REPLAY_FACTS },

    /* Calendly-Webhook-Signature: t=<unix>,v1=<hex>, as Stripe */
    { ngx_string("calendly"),
      SHA256_HEX,
      KV(',', "t", "v1"),
      { { "Calendly-Webhook-Signature", NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_LIT("."), PART_BODY },
      NO_SOURCE,
      JSON("event"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* x-xero-signature: base64 over the body */
    { ngx_string("xero"),
      SHA256_B64,
      PREFIXED(""),
      { { "x-xero-signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("events.0.eventCategory"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Intercom: X-Hub-Signature: sha1=<hex>, HMAC-SHA1 over the body */
    { ngx_string("intercom"),
      SHA1_HEX,
      PREFIXED("sha1="),
      { { "X-Hub-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("id"),
      JSON("topic"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * X-Twilio-Signature: base64 HMAC-SHA1 over the URL and the sorted
     * form parameters, or over the URL alone when its query carries
     * bodySHA256 (JSON bodies): ngx_http_webhook_twilio.c.
     */
    { ngx_string("twilio"),
      SHA1_B64,
      PREFIXED(""),
      { { "X-Twilio-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_URL },
      HEADER("I-Twilio-Idempotency-Token"),
      NO_SOURCE,
      EXTRA(HMAC, NULL, NULL, &ngx_http_webhook_twilio_scheme),
      NO_REPLAY_FACTS },

    /*
     * Mailgun: no header; the body's "signature" object holds timestamp,
     * token and the hex HMAC of timestamp + token: ngx_http_webhook_mailgun.c.
     */
    { ngx_string("mailgun"),
      SHA256_HEX,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_NONE },
      JSON("event-data.id"),
      JSON("event-data.event"),
      EXTRA(HMAC, NULL, NULL, &ngx_http_webhook_mailgun_scheme),
      REPLAY(0, "signature.token", 0) },

    /* Discord: X-Signature-Ed25519 (hex) over timestamp + body */
    { ngx_string("discord"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Signature-Ed25519", "X-Signature-Timestamp", NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_BODY },
      JSON("id"),
      JSON("type"),
      EXTRA(ED25519, NULL, NULL, NULL),
      NO_REPLAY_FACTS },

    /*
     * webhook_verify custom: the template ngx_http_webhook_custom.c
     * copies and fills from the webhook_signature_* directives.
     */
    { ngx_string("custom"),
      SHA256_HEX,
      NGX_HTTP_WEBHOOK_HDR_PATTERN, 0, NULL, "",
      { { NULL, NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      NO_SOURCE,
      NGX_HTTP_WEBHOOK_SIG_HMAC, NULL, NULL, NULL, 1,
      NO_REPLAY_FACTS },

    /*
     * Second wave: accounting, payments, commerce and operations senders.
     * docs/providers.md gives the provider's documentation behind each.
     */

    /* intuit-signature: base64 over the body, keyed with the verifier token */
    { ngx_string("intuit"),
      SHA256_B64,
      PREFIXED(""),
      { { "intuit-signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("eventNotifications.0.dataChangeEvent.entities.0.name"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Cko-Signature: <hex> over the body, keyed with the webhook's secret */
    { ngx_string("checkout"),
      SHA256_HEX,
      PREFIXED(""),
      { { "Cko-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Webhook-Signature: <hex> over the body; a batch of events */
    { ngx_string("gocardless"),
      SHA256_HEX,
      PREFIXED(""),
      { { "Webhook-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("meta.webhook_id"),
      JSON("events.0.resource_type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * x-paystack-signature: HMAC-SHA512 <hex> over the body, keyed with
     * the secret API key.  The body's data.id names the transaction or
     * subscription, not the event: records go by the MAC.
     */
    { ngx_string("paystack"),
      SHA512_HEX,
      PREFIXED(""),
      { { "x-paystack-signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("event"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Signature: <hex> over the body; the event name is signed too */
    { ngx_string("lemonsqueezy"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("meta.event_name"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Coinbase Commerce: X-CC-Webhook-Signature: <hex> over the body */
    { ngx_string("coinbase"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-CC-Webhook-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("event.id"),
      JSON("event.type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* Mux-Signature: t=<unix>,v1=<hex>; "<t>.<body>", as Stripe */
    { ngx_string("mux"),
      SHA256_HEX,
      KV(',', "t", "v1"),
      { { "Mux-Signature", NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_LIT("."), PART_BODY },
      JSON("id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-WC-Webhook-Signature: base64 over the body */
    { ngx_string("woocommerce"),
      SHA256_B64,
      PREFIXED(""),
      { { "X-WC-Webhook-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("X-WC-Webhook-Delivery-ID"),
      HEADER("X-WC-Webhook-Topic"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * X-Zendesk-Webhook-Signature: base64 over timestamp + body, the
     * timestamp an ISO 8601 string signed as sent.
     */
    { ngx_string("zendesk"),
      SHA256_B64,
      PREFIXED(""),
      { { "X-Zendesk-Webhook-Signature",
          "X-Zendesk-Webhook-Signature-Timestamp", NULL } },
      1, WEBHOOK_TS_RFC3339,
      { PART_TS, PART_BODY },
      HEADER("X-Zendesk-Webhook-Invocation-Id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Dropbox-Signature: <hex> over the body, keyed with the app secret */
    { ngx_string("dropbox"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Dropbox-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      NO_SOURCE,
      PLAIN,
      NO_REPLAY_FACTS },

    /* X-Hook-Signature: <hex> over the body, keyed with X-Hook-Secret */
    { ngx_string("asana"),
      SHA256_HEX,
      PREFIXED(""),
      { { "X-Hook-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("events.0.action"),
      PLAIN,
      HANDSHAKE("X-Hook-Secret") },

    /*
     * Sentry-Hook-Signature: <hex> over the body; Sentry-Hook-Timestamp
     * is not signed, so it is not checked.
     */
    { ngx_string("sentry"),
      SHA256_HEX,
      PREFIXED(""),
      { { "Sentry-Hook-Signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      HEADER("Request-ID"),
      HEADER("Sentry-Hook-Resource"),
      PLAIN,
      NO_REPLAY_FACTS },

    /* x-vercel-signature: HMAC-SHA1 <hex> over the body */
    { ngx_string("vercel"),
      SHA1_HEX,
      PREFIXED(""),
      { { "x-vercel-signature", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      JSON("id"),
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * X-Airtable-Content-MAC: hmac-sha256=<hex> over the body, keyed with
     * the base64-decoded macSecretBase64; the ping's signed timestamp is
     * the body's "timestamp" (ISO 8601).
     */
    { ngx_string("airtable"),
      WEBHOOK_SHA256, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_WHSEC_BASE64,
      PREFIXED("hmac-sha256="),
      { { "X-Airtable-Content-MAC", NULL, NULL } },
      1, WEBHOOK_TS_RFC3339,
      { PART_BODY },
      NO_SOURCE,
      NO_SOURCE,
      EXTRA(HMAC, NULL, "timestamp", NULL),
      NO_REPLAY_FACTS },

    /* X-Frameio-Signature: v0=<hex> over "v0:<ts>:<body>", as Slack */
    { ngx_string("frameio"),
      SHA256_HEX,
      PREFIXED("v0="),
      { { "X-Frameio-Signature", "X-Frameio-Request-Timestamp", NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_LIT("v0:"), PART_TS, PART_LIT(":"), PART_BODY },
      NO_SOURCE,
      JSON("type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * X-Trello-Webhook: base64 HMAC-SHA1 over the body + the callback URL
     * (webhook_public_url), keyed with the application's secret.
     */
    { ngx_string("trello"),
      SHA1_B64,
      PREFIXED(""),
      { { "X-Trello-Webhook", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY, PART_URL },
      JSON("action.id"),
      JSON("action.type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * recurly-signature: <unix ms>,<hex>[,<hex>...] (one per active
     * key), each HMAC-SHA256 over "<ms>.<body>".
     */
    { ngx_string("recurly"),
      SHA256_HEX,
      NGX_HTTP_WEBHOOK_HDR_TS_LIST, ',', NULL, NULL,
      { { "recurly-signature", NULL, NULL } },
      1, WEBHOOK_TS_MILLISECONDS,
      { PART_TS, PART_LIT("."), PART_BODY },
      JSON("id"),
      JSON("event_type"),
      PLAIN,
      NO_REPLAY_FACTS },

    /*
     * Box: box-signature-primary and box-signature-secondary, base64
     * HMAC-SHA256 over the body + box-delivery-timestamp (RFC 3339),
     * one under each of the app's two keys.
     */
    { ngx_string("box"),
      SHA256_B64,
      PREFIXED(""),
      { { "box-signature-primary", "box-delivery-timestamp", NULL } },
      1, WEBHOOK_TS_RFC3339,
      { PART_BODY, PART_TS },
      HEADER("box-delivery-id"),
      JSON("trigger"),
      PLAIN,
      MORE_SIGNATURES("box-signature-secondary") },

    /*
     * DocuSign Connect: X-DocuSign-Signature-1..N, base64 HMAC-SHA256
     * over the body, one per active Connect key.
     */
    { ngx_string("docusign"),
      SHA256_B64,
      PREFIXED(""),
      { { "X-DocuSign-Signature-1", NULL, NULL } },
      NO_TIMESTAMP,
      { PART_BODY },
      NO_SOURCE,
      JSON("event"),
      PLAIN,
      MORE_SIGNATURES("X-DocuSign-Signature-#") },

    /*
     * SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 over
     * timestamp + body, base64 DER signature, the key pinned with
     * webhook_public_key: ngx_http_webhook_sendgrid.c.  The body is an
     * array of events.
     */
    { ngx_string("sendgrid"),
      SHA256_B64,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      1, WEBHOOK_TS_SECONDS,
      { PART_TS, PART_BODY },
      JSON("0.sg_event_id"),
      JSON("0.event"),
      EXTRA(PKEY, NULL, NULL, &ngx_http_webhook_sendgrid_scheme),
      NO_REPLAY_FACTS },

    /*
     * Adyen's standard webhooks: no header; every notification item
     * carries base64 HMAC-SHA256 (hex key) of eight of its fields joined
     * with ':': ngx_http_webhook_adyen.c.  The pspReference names the
     * payment, not the delivery: records are keyed on the signatures.
     */
    { ngx_string("adyen"),
      WEBHOOK_SHA256, WEBHOOK_ENC_BASE64, NGX_HTTP_WEBHOOK_KEY_HEX,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      NO_TIMESTAMP,
      { PART_NONE },
      JSON("notificationItems.0.NotificationRequestItem.pspReference"),
      JSON("notificationItems.0.NotificationRequestItem.eventCode"),
      EXTRA(HMAC, NULL, NULL, &ngx_http_webhook_adyen_scheme),
      REPLAY(30 * 24 * 3600, NULL, 1) },

    /*
     * Braintree: a form body, bt_signature "public_key|hex" pairs over
     * bt_payload, HMAC-SHA1 keyed with SHA-1 of the private key;
     * webhook_secret "public_key:private_key": ngx_http_webhook_braintree.c.
     */
    { ngx_string("braintree"),
      WEBHOOK_SHA1, WEBHOOK_ENC_HEX, NGX_HTTP_WEBHOOK_KEY_BRAINTREE,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      NO_TIMESTAMP,
      { PART_NONE },
      NO_SOURCE,
      NO_SOURCE,
      EXTRA(HMAC, NULL, NULL, &ngx_http_webhook_braintree_scheme),
      NO_REPLAY_FACTS },

    /*
     * PayPal: SHA256withRSA of transmission id|time|webhook id|crc32(body)
     * by the certificate PAYPAL-CERT-URL names, pinned with
     * webhook_public_key ... url=: ngx_http_webhook_paypal.c.
     */
    { ngx_string("paypal"),
      SHA256_B64,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      1, WEBHOOK_TS_RFC3339,
      { PART_NONE },
      JSON("id"),
      JSON("event_type"),
      EXTRA(PKEY, NULL, NULL, &ngx_http_webhook_paypal_scheme),
      NO_REPLAY_FACTS },

    /*
     * Amazon SNS: the JSON body carries Signature, SHA1withRSA or
     * SHA256withRSA (SignatureVersion 1, 2) of SNS's canonical string, by
     * the certificate SigningCertURL names, pinned with webhook_public_key
     * ... url=: ngx_http_webhook_sns.c.
     */
    { ngx_string("sns"),
      SHA256_B64,
      PREFIXED(""),
      { { NULL, NULL, NULL } },
      1, WEBHOOK_TS_RFC3339,
      { PART_NONE },
      JSON("MessageId"),
      JSON("Type"),
      EXTRA(PKEY, NULL, NULL, &ngx_http_webhook_sns_scheme),
      NO_REPLAY_FACTS },
};


/* the floor of a record's default lifetime without a signed timestamp */
#define NGX_HTTP_WEBHOOK_REDELIVERY_MIN  (24 * 3600)


/* other names a preset is known by */
static const struct {
    const char  *alias;
    const char  *preset;
} ngx_http_webhook_aliases[] = {
    { "svix", "standard" },

    /* senders that sign with Standard Webhooks (Svix) */
    { "clerk", "standard" },
    { "resend", "standard" },
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


/*
 * Whether the scheme signs the delivery id, from the preset's own facts:
 * an id taken from the signed payload's id part, or from a JSON body the
 * signature covers.  An id from a header, or from a body the signature
 * does not cover (Mailgun's event data), is not signed.
 */

ngx_uint_t
ngx_http_webhook_preset_id_signed(const ngx_http_webhook_preset_t *preset)
{
    ngx_uint_t                    i;
    ngx_http_webhook_part_type_e  covers;

    switch (preset->id.type) {

    case NGX_HTTP_WEBHOOK_SRC_SIGNED_ID:
        covers = NGX_HTTP_WEBHOOK_PART_ID;
        break;

    case NGX_HTTP_WEBHOOK_SRC_JSON:
        covers = NGX_HTTP_WEBHOOK_PART_BODY;
        break;

    default:
        return 0;
    }

    if (preset->sig_type == NGX_HTTP_WEBHOOK_SIG_TOKEN) {
        return 0;
    }

    for (i = 0; i < NGX_HTTP_WEBHOOK_MAX_PARTS; i++) {

        if (preset->payload[i].type == NGX_HTTP_WEBHOOK_PART_END) {
            break;
        }

        if (preset->payload[i].type == covers) {
            return 1;
        }
    }

    return 0;
}


/*
 * A committed replay record's default lifetime.  With a signed
 * timestamp, twice the tolerance: past it the signature is refused
 * anyway.  Without one nothing else stops a replay, so the record lives
 * as long as the provider may send the delivery again, at least 24 h.
 */

ngx_msec_t
ngx_http_webhook_preset_record_ttl(const ngx_http_webhook_preset_t *preset,
    time_t tolerance)
{
    time_t  s;

    if (preset->signs_timestamp && tolerance) {
        return (ngx_msec_t) (2 * tolerance * 1000);
    }

    s = ngx_max(preset->redelivery, NGX_HTTP_WEBHOOK_REDELIVERY_MIN);

    return (ngx_msec_t) s * 1000;
}


/* "bitbucket, calendly, ..., custom": for the unknown preset's error */

u_char *
ngx_http_webhook_preset_names(ngx_pool_t *pool)
{
    u_char      *names, *p;
    size_t       len;
    ngx_uint_t   i, n;

    n = sizeof(ngx_http_webhook_presets) / sizeof(ngx_http_webhook_presets[0]);
    len = 1;

    for (i = 0; i < n; i++) {
        len += ngx_http_webhook_presets[i].name.len + 2;
    }

    names = ngx_pnalloc(pool, len);
    if (names == NULL) {
        return NULL;
    }

    p = names;

    for (i = 0; i < n; i++) {
        if (i) {
            *p++ = ',';
            *p++ = ' ';
        }

        p = ngx_cpymem(p, ngx_http_webhook_presets[i].name.data,
                       ngx_http_webhook_presets[i].name.len);
    }

    *p = '\0';

    return names;
}

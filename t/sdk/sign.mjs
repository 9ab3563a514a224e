// Signs test requests with the providers' own SDKs, for t/056-sdk.t.
//
//   node t/sdk/sign.mjs < jobs.json > results.json
//
// Input: a JSON array of jobs, each {"sdk": NAME, ...arguments}; output:
// a JSON array of the same length, each {"ok": value} or {"error": text}.
// An SDK is loaded only when a job needs it.  Bodies are strings: the
// SDKs sign their UTF-8 bytes.

import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);

const loaded = {};

function load(name) {
    if (!(name in loaded)) {
        loaded[name] = require(name);
    }
    return loaded[name];
}

const signers = {

    // stripe@23: "t=<ts>,v1=<hex>"
    stripe: (j) => load('stripe').webhooks.generateTestHeaderString({
        payload: j.payload, secret: j.secret, timestamp: j.timestamp,
    }),

    // standardwebhooks@1.1 and svix@1.99: "v1,<base64>"
    standardwebhooks: (j) => new (load('standardwebhooks').Webhook)(j.secret)
        .sign(j.id, new Date(j.timestamp * 1000), j.payload),

    svix: (j) => new (load('svix').Webhook)(j.secret)
        .sign(j.id, new Date(j.timestamp * 1000), j.payload),

    // @octokit/webhooks-methods@6 (ESM only): "sha256=<hex>"
    octokit: async (j) => {
        const { sign } = await import('@octokit/webhooks-methods');
        return sign(j.secret, j.payload);
    },

    // twilio@6: base64; params is an object, repeated keys as arrays
    twilio: (j) => load('twilio').getExpectedTwilioSignature(j.token, j.url,
        j.params ?? {}),

    'twilio-body-hash': (j) => load('twilio').getExpectedBodyHash(j.body),

    // @shopify/shopify-api@13 test helper: base64
    shopify: (j) => load('@shopify/shopify-api/test-helpers')
        .getHmac(j.payload, j.secret),

    // @hubspot/api-client@13: v3, base64
    hubspot: (j) => load('@hubspot/api-client').Signature.getSignature(
        j.method, 'v3', {
            clientSecret: j.secret, url: j.url, requestBody: j.body,
            timestamp: j.timestamp,
        }),

    // The SDKs below can only verify: the test signs, the SDK must
    // accept what the module accepts (true), or says why not.

    // @mux/mux-node@15: Mux-Signature "t=<ts>,v1=<hex>"
    'mux-verify': async (j) => {
        const { Mux } = load('@mux/mux-node');
        const mux = new Mux({ tokenId: 'x', tokenSecret: 'x' });
        await mux.webhooks.verifySignature(j.payload,
            { 'mux-signature': j.header }, j.secret);
        return true;
    },

    // gocardless-nodejs@10: Webhook-Signature <hex>
    'gocardless-verify': (j) => {
        load('gocardless-nodejs/webhooks').verifySignature(j.payload,
            j.secret, j.header);
        return true;
    },

    // box-node-sdk@10: WebhooksManager.validateMessage() -> true / false
    'box-verify': async (j) => {
        const { WebhooksManager } = load('box-node-sdk/lib/managers/webhooks');
        return await WebhooksManager.validateMessage(j.payload, j.headers,
            j.primary, { secondaryKey: j.secondary });
    },

    // coinbase-commerce-node@1: X-CC-Webhook-Signature <hex>
    'coinbase-verify': (j) => load('coinbase-commerce-node').Webhook
        .verifySigHeader(j.payload, j.header, j.secret),

    // resend@6: Standard Webhooks through its own webhooks.verify()
    'resend-verify': (j) => {
        const { Resend } = load('resend');
        new Resend('re_test_0000').webhooks.verify({
            payload: j.payload, webhookSecret: j.secret,
            headers: { id: j.id, timestamp: String(j.timestamp),
                       signature: j.header },
        });
        return true;
    },

    // @sendgrid/eventwebhook@8 verifies, it cannot sign: signed with
    // node:crypto (ECDSA P-256, SHA-256, DER), returned only once the SDK
    // accepts it with the base64 DER public key SendGrid's console shows
    sendgrid: async (j) => {
        const { sign } = await import('node:crypto');
        const sig = sign('sha256', Buffer.from(j.timestamp + j.payload),
            j.private_pem).toString('base64');
        const { EventWebhook } = load('@sendgrid/eventwebhook');
        const ew = new EventWebhook();
        if (!ew.verifySignature(ew.convertPublicKeyToECDSA(j.public_b64),
                j.payload, sig, j.timestamp)) {
            throw new Error('@sendgrid/eventwebhook rejects the signature');
        }
        return sig;
    },

    // @adyen/api-library@32 hmacValidator: base64, over the item's fields;
    // returned only once its validateHMAC accepts the signed item
    adyen: (j) => {
        const { hmacValidator } = load('@adyen/api-library');
        const v = new hmacValidator();
        const sig = v.calculateHmac(j.item, j.key);
        const item = { ...j.item, additionalData: { hmacSignature: sig } };
        if (!v.validateHMAC(item, j.key)) {
            throw new Error('@adyen/api-library rejects its own signature');
        }
        return sig;
    },

    // braintree@3 webhookTesting.sampleNotification: {bt_signature,
    // bt_payload}, returned once webhookNotification.parse accepts it
    braintree: async (j) => {
        const braintree = load('braintree');
        const gw = new braintree.BraintreeGateway({
            environment: braintree.Environment.Sandbox,
            merchantId: 'erp_test_merchant',
            publicKey: j.public_key, privateKey: j.private_key,
        });
        const n = gw.webhookTesting.sampleNotification(j.kind, j.id);
        await gw.webhookNotification.parse(n.bt_signature, n.bt_payload);
        return n;
    },
};

const jobs = JSON.parse(readFileSync(0, 'utf8'));
const results = [];

for (const job of jobs) {
    try {
        if (!signers[job.sdk]) {
            throw new Error(`no signer for "${job.sdk}"`);
        }
        results.push({ ok: await signers[job.sdk](job) });
    } catch (e) {
        results.push({ error: String(e && e.stack || e) });
    }
}

process.stdout.write(JSON.stringify(results));

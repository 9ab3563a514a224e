/*
 * ngx_http_webhook_module: form bodies and URLs for Twilio's scheme.
 */


#include <stdlib.h>
#include <string.h>

#include "webhook_form.h"


static size_t webhook_form_decode(unsigned char *p, size_t len);
static int webhook_form_hex(unsigned char c);
static int webhook_form_cmp(const void *a, const void *b);
static int webhook_bytes_cmp(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen);


ssize_t
webhook_form_parse(unsigned char *buf, size_t len,
    webhook_form_param_t *params, size_t max)
{
    size_t          n;
    unsigned char  *p, *end, *amp, *eq;

    n = 0;
    p = buf;
    end = buf + len;

    while (p < end) {

        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        if (amp == p) {
            p++;
            continue;
        }

        if (n == max) {
            return WEBHOOK_MALFORMED;
        }

        eq = memchr(p, '=', (size_t) (amp - p));

        /* decoding only shrinks, so each part is decoded where it is */

        if (eq) {
            params[n].key = p;
            params[n].key_len = webhook_form_decode(p, (size_t) (eq - p));
            params[n].value = eq + 1;
            params[n].value_len = webhook_form_decode(eq + 1,
                                                      (size_t) (amp - eq - 1));

        } else {
            params[n].key = p;
            params[n].key_len = webhook_form_decode(p, (size_t) (amp - p));
            params[n].value = amp;
            params[n].value_len = 0;
        }

        n++;
        p = amp;
    }

    return (ssize_t) n;
}


size_t
webhook_form_sort(webhook_form_param_t *params, size_t n)
{
    size_t  i, out;

    if (n < 2) {
        return n;
    }

    qsort(params, n, sizeof(webhook_form_param_t), webhook_form_cmp);

    out = 1;

    for (i = 1; i < n; i++) {
        if (webhook_form_cmp(&params[out - 1], &params[i]) != 0) {
            params[out++] = params[i];
        }
    }

    return out;
}


int
webhook_url_query_param(const unsigned char *url, size_t len,
    const char *name, webhook_str_t *value)
{
    size_t                nlen;
    const unsigned char  *p, *end, *amp, *eq;

    /* a '?' inside the fragment starts no query */

    end = memchr(url, '#', len);
    if (end == NULL) {
        end = url + len;
    }

    p = memchr(url, '?', (size_t) (end - url));

    if (p == NULL) {
        return WEBHOOK_MISSING;
    }

    p++;

    nlen = strlen(name);

    while (p < end) {
        amp = memchr(p, '&', (size_t) (end - p));
        if (amp == NULL) {
            amp = end;
        }

        eq = memchr(p, '=', (size_t) (amp - p));

        if (eq && (size_t) (eq - p) == nlen && memcmp(p, name, nlen) == 0) {
            value->data = eq + 1;
            value->len = (size_t) (amp - eq - 1);
            return WEBHOOK_OK;
        }

        p = amp + (amp < end);
    }

    return WEBHOOK_MISSING;
}


size_t
webhook_url_toggle_port(const unsigned char *url, size_t len,
    unsigned char *out, size_t size)
{
    size_t                skip, plen, hlen;
    const char           *port;
    const unsigned char  *host, *auth_end, *colon, *p;

    if (len > 8 && strncmp((const char *) url, "https://", 8) == 0) {
        skip = 8;
        port = ":443";

    } else if (len > 7 && strncmp((const char *) url, "http://", 7) == 0) {
        skip = 7;
        port = ":80";

    } else {
        return 0;
    }

    plen = strlen(port);
    host = url + skip;

    for (auth_end = host; auth_end < url + len; auth_end++) {
        if (*auth_end == '/' || *auth_end == '?' || *auth_end == '#') {
            break;
        }
    }

    /* the host follows any "user:password@"; an IPv6 one is "[...]" */

    for (p = host; p < auth_end; p++) {
        if (*p == '@') {
            host = p + 1;
        }
    }

    if (host == auth_end) {
        return 0;
    }

    colon = NULL;

    if (*host == '[') {
        p = memchr(host, ']', (size_t) (auth_end - host));

        if (p == NULL || p == host + 1) {
            return 0;
        }

        p++;

        if (p < auth_end) {
            if (*p != ':') {
                return 0;
            }

            colon = p;
        }

    } else {
        for (p = host; p < auth_end; p++) {
            if (*p == '[' || *p == ']' || (*p == ':' && colon)) {
                return 0;
            }

            if (*p == ':') {
                colon = p;
            }
        }

        if (colon == host) {
            return 0;
        }
    }

    if (colon) {
        /* "https://h:443/p" -> "https://h/p"; any other port: no variant */

        if ((size_t) (auth_end - colon) != plen
            || memcmp(colon, port, plen) != 0
            || len - plen > size)
        {
            return 0;
        }

        hlen = (size_t) (colon - url);
        memcpy(out, url, hlen);
        memcpy(out + hlen, auth_end, (size_t) (url + len - auth_end));

        return len - plen;
    }

    if (len + plen > size) {
        return 0;
    }

    hlen = (size_t) (auth_end - url);
    memcpy(out, url, hlen);
    memcpy(out + hlen, port, plen);
    memcpy(out + hlen + plen, auth_end, (size_t) (url + len - auth_end));

    return len + plen;
}


static size_t
webhook_form_decode(unsigned char *p, size_t len)
{
    int     hi, lo;
    size_t  i, o;

    for (i = 0, o = 0; i < len; i++, o++) {

        if (p[i] == '+') {
            p[o] = ' ';
            continue;
        }

        if (p[i] == '%' && i + 2 < len) {
            hi = webhook_form_hex(p[i + 1]);
            lo = webhook_form_hex(p[i + 2]);

            if (hi >= 0 && lo >= 0) {
                p[o] = (unsigned char) (hi << 4 | lo);
                i += 2;
                continue;
            }
        }

        p[o] = p[i];
    }

    return o;
}


static int
webhook_form_hex(unsigned char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }

    c |= 0x20;

    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }

    return -1;
}


static int
webhook_form_cmp(const void *a, const void *b)
{
    int                          rc;
    const webhook_form_param_t  *pa = a, *pb = b;

    rc = webhook_bytes_cmp(pa->key, pa->key_len, pb->key, pb->key_len);

    if (rc != 0) {
        return rc;
    }

    return webhook_bytes_cmp(pa->value, pa->value_len, pb->value,
                             pb->value_len);
}


static int
webhook_bytes_cmp(const unsigned char *a, size_t alen,
    const unsigned char *b, size_t blen)
{
    int  rc;

    rc = memcmp(a, b, alen < blen ? alen : blen);

    if (rc != 0) {
        return rc;
    }

    return (alen > blen) - (alen < blen);
}

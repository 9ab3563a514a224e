
/*
 * The HMAC floor: what one HMAC-SHA256 over LEN bytes costs through
 * OpenSSL 3's EVP_MAC, as cheaply as a program can do it (the key set
 * once; per message: reset, update, final).  bench/callgrind.pl runs it
 * under callgrind with --toggle-collect=hmac_floor_one and divides by
 * the count.
 *
 *     hmac_floor LEN [COUNT]
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>


int hmac_floor_one(EVP_MAC_CTX *ctx, const unsigned char *msg, size_t len,
    unsigned char *mac);


/* kept out of line: callgrind counts exactly this function's calls */

__attribute__((noinline)) int
hmac_floor_one(EVP_MAC_CTX *ctx, const unsigned char *msg, size_t len,
    unsigned char *mac)
{
    size_t  outl;

    return EVP_MAC_init(ctx, NULL, 0, NULL)
           && EVP_MAC_update(ctx, msg, len)
           && EVP_MAC_final(ctx, mac, &outl, 32);
}


int
main(int argc, char **argv)
{
    long            i, count;
    size_t          len;
    EVP_MAC        *mac;
    EVP_MAC_CTX    *ctx;
    OSSL_PARAM      params[2];
    unsigned char  *msg, out[32];

    static const char  key[] = "whsec_bench_stripe_0123456789abcdef";

    if (argc < 2) {
        fprintf(stderr, "usage: %s LEN [COUNT]\n", argv[0]);
        return 2;
    }

    len = strtoul(argv[1], NULL, 10);
    count = (argc > 2) ? strtol(argv[2], NULL, 10) : 10;

    msg = malloc(len ? len : 1);
    if (msg == NULL) {
        return 1;
    }

    memset(msg, 'x', len);

    mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;

    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *) "SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();

    if (ctx == NULL
        || !EVP_MAC_init(ctx, (const unsigned char *) key, sizeof(key) - 1,
                         params))
    {
        fprintf(stderr, "EVP_MAC HMAC-SHA256 unavailable\n");
        return 1;
    }

    for (i = 0; i < count; i++) {
        if (!hmac_floor_one(ctx, msg, len, out)) {
            return 1;
        }
    }

    printf("%02x%02x%02x%02x\n", out[0], out[1], out[2], out[3]);

    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
    free(msg);

    return 0;
}


/*
 * What GitLab's token comparison costs, for t/086-bounded-work.t to count
 * under callgrind: token_cost SECRET_LEN TOKEN_LEN digests a secret of
 * SECRET_LEN bytes as the configuration does, then compares a token of
 * TOKEN_LEN bytes with it as a request does, inside measured(), the only
 * function callgrind is told to count.  The token equals the secret when
 * the lengths are equal.
 */


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "webhook_hmac.h"


int measured(const unsigned char *token, size_t len,
    const unsigned char *digest);


/* not inlined, so that callgrind can single it out */

__attribute__((noinline)) int
measured(const unsigned char *token, size_t len, const unsigned char *digest)
{
    return webhook_token_match(token, len, digest, 1);
}


int
main(int argc, char **argv)
{
    int             rc;
    size_t          slen, tlen;
    unsigned char  *secret, *token;
    unsigned char   digest[WEBHOOK_TOKEN_DIGEST_LEN];

    if (argc != 3) {
        fprintf(stderr, "usage: token_cost SECRET_LEN TOKEN_LEN\n");
        return 2;
    }

    slen = (size_t) strtoul(argv[1], NULL, 10);
    tlen = (size_t) strtoul(argv[2], NULL, 10);

    secret = malloc(slen + 1);
    token = malloc(tlen + 1);

    if (secret == NULL || token == NULL) {
        return 2;
    }

    memset(secret, 's', slen);
    memset(token, 's', tlen);

    if (webhook_token_digest(secret, slen, digest) != WEBHOOK_OK) {
        return 2;
    }

    rc = measured(token, tlen, digest);

    printf("%d\n", rc);

    return (rc == WEBHOOK_ERROR) ? 2 : 0;
}

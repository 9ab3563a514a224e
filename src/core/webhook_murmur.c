
/*
 * MurmurHash2: see webhook_murmur.h.
 */


#include "webhook_murmur.h"


#define WEBHOOK_MURMUR_M  0x5bd1e995u


uint32_t
webhook_murmur2(const unsigned char *p, size_t len)
{
    uint32_t  h, k;

    h = (uint32_t) len;

    while (len >= 4) {
        k = (uint32_t) p[0]
            | (uint32_t) p[1] << 8
            | (uint32_t) p[2] << 16
            | (uint32_t) p[3] << 24;

        k *= WEBHOOK_MURMUR_M;
        k ^= k >> 24;
        k *= WEBHOOK_MURMUR_M;

        h *= WEBHOOK_MURMUR_M;
        h ^= k;

        p += 4;
        len -= 4;
    }

    switch (len) {
    case 3:
        h ^= (uint32_t) p[2] << 16;
        /* fall through */
    case 2:
        h ^= (uint32_t) p[1] << 8;
        /* fall through */
    case 1:
        h ^= p[0];
        h *= WEBHOOK_MURMUR_M;
    }

    h ^= h >> 13;
    h *= WEBHOOK_MURMUR_M;
    h ^= h >> 15;

    return h;
}

/*
 * Unit tests: MurmurHash2 gives nginx's ngx_murmur_hash2 values (computed
 * with nginx 1.22.1's code), bytes of 0x80 and up included.
 */


#include "webhook_murmur.h"
#include "test_core.h"


void
test_murmur(void)
{
    size_t         i;
    unsigned char  high[32];

    for (i = 0; i < sizeof(high); i++) {
        high[i] = (unsigned char) (0x80 + i);
    }

    tap_is_int(webhook_murmur2((const unsigned char *) "", 0), 0,
               "murmur2: empty");
    tap_is_int(webhook_murmur2((const unsigned char *) "a", 1), 2456313694,
               "murmur2: one byte");
    tap_is_int(webhook_murmur2((const unsigned char *) "abc", 3), 324500635,
               "murmur2: three bytes (the tail)");
    tap_is_int(webhook_murmur2(high, 32), 774162472,
               "murmur2: 32 bytes of 0x80 and up (a MAC)");
    tap_is_int(webhook_murmur2(high + 25, 7), 1407611914,
               "murmur2: a block and a tail of high bytes");
    tap_is_int(webhook_murmur2((const unsigned char *)
                               "github:id:collide-0175056", 25),
               webhook_murmur2((const unsigned char *)
                               "github:id:collide-0234350", 25),
               "murmur2: the colliding ids of t/088 collide");
}

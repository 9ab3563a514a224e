
/*
 * MurmurHash2 (Austin Appleby's, as nginx's ngx_murmur_hash2 computes
 * it), the hash zone entries are filed under: a few instructions per 4
 * bytes.  Written with unsigned arithmetic throughout, so that bytes of
 * 0x80 and up (a MAC in a replay key) are no undefined shift.  Not a
 * keyed hash: colliding keys are easy to make, and the zone orders equal
 * hashes by the key bytes.
 */

#ifndef _WEBHOOK_MURMUR_H_INCLUDED_
#define _WEBHOOK_MURMUR_H_INCLUDED_


#include "webhook_core.h"


uint32_t webhook_murmur2(const unsigned char *p, size_t len);


#endif /* _WEBHOOK_MURMUR_H_INCLUDED_ */

/*
 * Hex and base64 decoding of signatures and keys.  Strict: any byte
 * outside the alphabet (whitespace included) is an error, so a hostile
 * header can never decode "partially".
 */

#ifndef _WEBHOOK_CODEC_H_INCLUDED_
#define _WEBHOOK_CODEC_H_INCLUDED_


#include "webhook_core.h"


typedef enum {
    WEBHOOK_ENC_HEX = 0,
    WEBHOOK_ENC_BASE64,         /* RFC 4648 section 4, "=" padding optional */
    WEBHOOK_ENC_BASE64URL       /* RFC 4648 section 5, "=" padding optional */
} webhook_encoding_t;


/*
 * Decode len bytes of src into dst (dst_size bytes of room).
 * Returns the number of bytes written, or -1 when src is not valid in that
 * encoding (odd hex length, bad character, misplaced padding, a lone
 * trailing sextet, non-zero unused bits in the last sextet) or would not
 * fit in dst_size; nothing is written then.
 * Hex accepts upper and lower case.
 */
ssize_t webhook_decode(webhook_encoding_t enc, unsigned char *dst,
    size_t dst_size, const unsigned char *src, size_t len);

/* Worst-case decoded size of len encoded bytes. */
size_t webhook_decoded_size(webhook_encoding_t enc, size_t len);

/* Lowercase hex of len bytes into dst (2 * len bytes, not terminated). */
void webhook_hex_encode(char *dst, const unsigned char *src, size_t len);

/*
 * Padded standard base64 of len bytes into dst (4 * ((len + 2) / 3)
 * bytes, not terminated).  Returns the number of bytes written.
 */
size_t webhook_base64_encode(char *dst, const unsigned char *src, size_t len);


#endif /* _WEBHOOK_CODEC_H_INCLUDED_ */

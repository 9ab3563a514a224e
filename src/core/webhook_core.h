/*
 * ngx_http_webhook_module: pure C verification core.
 *
 * Nothing under src/core/ includes nginx headers: these files build on
 * their own (t/core/ unit tests, fuzzers) and link only libcrypto.
 */

#ifndef _WEBHOOK_CORE_H_INCLUDED_
#define _WEBHOOK_CORE_H_INCLUDED_


#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>


/* result codes shared by every parser and check in the core */
#define WEBHOOK_OK              0
#define WEBHOOK_MISSING        -1   /* nothing the scheme accepts is there */
#define WEBHOOK_MALFORMED      -2   /* there, but not of the expected shape */
#define WEBHOOK_ERROR          -3   /* library or allocation failure */


/* a borrowed byte range; never NUL-terminated, never owned */
typedef struct {
    const unsigned char  *data;
    size_t                len;
} webhook_str_t;


#endif /* _WEBHOOK_CORE_H_INCLUDED_ */

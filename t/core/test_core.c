/*
 * Unit tests of the pure C verification core, in TAP.
 *
 *     test_core [VECTORS_DIR]
 *
 * VECTORS_DIR holds the providers' signed bytes (t/vectors/NAME.msg);
 * without it the provider vector tests are skipped.
 */


#include <stdio.h>

#include "test_core.h"


int
main(int argc, char **argv)
{
    test_codec();
    test_hmac();
    test_vectors(argc > 1 ? argv[1] : NULL);
    test_sigheader();
    test_timestamp();
    test_cidr();
    test_window();
    test_histogram();
    test_murmur();
    test_custom();
    test_redis_url();
    test_form();
    test_json();
    test_ed25519(argc > 1 ? argv[1] : NULL);
    test_pkey();

    return tap_done();
}

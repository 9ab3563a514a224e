/*
 * Unit tests of src/core/: one function per group, run by test_core.c.
 */

#ifndef _WEBHOOK_TEST_CORE_H_INCLUDED_
#define _WEBHOOK_TEST_CORE_H_INCLUDED_


#include "tap.h"


void test_codec(void);
void test_ed25519(const char *dir);
void test_pkey(void);
void test_form(void);
void test_hmac(void);
void test_json(void);
void test_vectors(const char *dir);
void test_sigheader(void);
void test_timestamp(void);
void test_cidr(void);
void test_window(void);
void test_histogram(void);
void test_murmur(void);
void test_custom(void);
void test_redis_url(void);


#endif /* _WEBHOOK_TEST_CORE_H_INCLUDED_ */

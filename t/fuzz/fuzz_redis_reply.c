/*
 * libFuzzer target: replies from Redis, which the module does not trust
 * (a compromised or impersonated server), through hiredis's reader as the
 * event loop feeds it: the input is cut into reads of the sizes its first
 * bytes give, like a socket would deliver them.
 *  - the reader either fails cleanly or yields replies whose strings and
 *    arrays are as long as they say (ASan checks each byte is there);
 *  - the module's interpretations of a reply (a claim's verdict, a sync
 *    round's two counts, a status) never read outside it.
 *
 *     ./build.sh fuzz [SECONDS]      (t/fuzz/run.sh SECONDS fuzz_redis_reply)
 */


#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hiredis/hiredis.h>


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int huge_array(const uint8_t *data, size_t size);
static size_t walk(const redisReply *r, unsigned depth);
static void interpret(const redisReply *r);


#define CHECK(cond)  do { if (!(cond)) { abort(); } } while (0)


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    void         *reply;
    size_t        cut, chunk, replies;
    uint8_t       cuts[4];
    redisReader  *reader;

    if (size < sizeof(cuts)) {
        return 0;
    }

    memcpy(cuts, data, sizeof(cuts));
    data += sizeof(cuts);
    size -= sizeof(cuts);

    if (huge_array(data, size)) {
        /*
         * hiredis 0.14 reserves an array of the length a reply declares
         * (it has no maxelements before 1.0): "*2111111111" asks for
         * 16 GB at once.  That is hiredis's behaviour, not the module's
         * checks this target is about, so such inputs are skipped.
         */
        return 0;
    }

    reader = redisReaderCreate();
    CHECK(reader != NULL);

    /* bound what the reader may buffer, as a worker would not keep more */
    reader->maxbuf = 64 * 1024;

    cut = 0;
    replies = 0;

    while (size) {
        chunk = (size_t) cuts[cut++ % sizeof(cuts)] % 64 + 1;
        if (chunk > size) {
            chunk = size;
        }

        if (redisReaderFeed(reader, (const char *) data, chunk) != REDIS_OK) {
            break;
        }

        data += chunk;
        size -= chunk;

        for ( ;; ) {
            reply = NULL;

            if (redisReaderGetReply(reader, &reply) != REDIS_OK) {
                CHECK(reader->err != 0);
                goto done;
            }

            if (reply == NULL) {
                break;
            }

            replies++;
            (void) walk(reply, 0);
            interpret(reply);
            freeReplyObject(reply);
        }
    }

done:

    redisReaderFree(reader);

    return 0;
}


/* touches every byte the reply says it has */


/* does a "*<count>" header anywhere declare more than 65536 elements? */

static int
huge_array(const uint8_t *data, size_t size)
{
    size_t              i;
    unsigned long long  n;

    for (i = 0; i < size; i++) {
        if (data[i] != '*') {
            continue;
        }

        n = 0;

        while (i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9') {
            i++;
            n = n * 10 + (data[i] - '0');

            if (n > 65536) {
                return 1;
            }
        }
    }

    return 0;
}

static size_t
walk(const redisReply *r, unsigned depth)
{
    size_t  i, sum;

    CHECK(depth < 64);

    sum = 0;

    switch (r->type) {

    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_ERROR:
#ifdef REDIS_REPLY_VERB                 /* RESP3, hiredis 1.0 */
    case REDIS_REPLY_VERB:
    case REDIS_REPLY_BIGNUM:
    case REDIS_REPLY_DOUBLE:
#endif
        CHECK(r->str != NULL || r->len == 0);
        for (i = 0; i < r->len; i++) {
            sum += (unsigned char) r->str[i];
        }
        break;

    case REDIS_REPLY_ARRAY:
#ifdef REDIS_REPLY_MAP
    case REDIS_REPLY_MAP:
    case REDIS_REPLY_SET:
    case REDIS_REPLY_PUSH:
#endif
        CHECK(r->element != NULL || r->elements == 0);
        for (i = 0; i < r->elements; i++) {
            CHECK(r->element[i] != NULL);
            sum += walk(r->element[i], depth + 1);
        }
        break;

    default:
        break;
    }

    return sum;
}


/*
 * The shapes the module acts on (src/ngx_http_webhook_replay.c,
 * src/ngx_http_webhook_redis.c): anything else is "unexpected".
 */

static void
interpret(const redisReply *r)
{
    volatile int  verdict;

    verdict = 0;

    /* a replay claim: "new", "delivered" or "in_flight" */
    if (r->type == REDIS_REPLY_STRING) {
        if (r->len == 3 && memcmp(r->str, "new", 3) == 0) {
            verdict = 1;

        } else if (r->len == 9 && memcmp(r->str, "delivered", 9) == 0) {
            verdict = 2;

        } else if (r->len == 9 && memcmp(r->str, "in_flight", 9) == 0) {
            verdict = 3;
        }
    }

    /* a sync round: two counts */
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2
        && r->element[0]->type == REDIS_REPLY_INTEGER
        && r->element[1]->type == REDIS_REPLY_INTEGER
        && r->element[0]->integer >= 0 && r->element[1]->integer >= 0)
    {
        verdict = 4;
    }

    /* AUTH, SELECT: +OK */
    if (r->type == REDIS_REPLY_STATUS && r->len == 2
        && memcmp(r->str, "OK", 2) == 0)
    {
        verdict = 5;
    }

    (void) verdict;
}

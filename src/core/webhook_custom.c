/*
 * ngx_http_webhook_module: the custom scheme's template and pattern walk.
 */


#include <string.h>

#include "webhook_custom.h"


int
webhook_template_body(const unsigned char *p, size_t len, size_t *body,
    size_t *count)
{
    size_t  i, n;

    n = 0;
    *body = 0;

    for (i = 0; i + WEBHOOK_BODY_TOKEN_LEN <= len; i++) {
        if (memcmp(p + i, WEBHOOK_BODY_TOKEN, WEBHOOK_BODY_TOKEN_LEN) == 0) {
            if (n++ == 0) {
                *body = i;
            }
        }
    }

    *count = n;

    return (n == 1) ? WEBHOOK_OK : WEBHOOK_MALFORMED;
}


int
webhook_pattern_candidates(const unsigned char *value, size_t len,
    webhook_match_pt match, void *data, webhook_sig_list_t *list)
{
    int     rc;
    size_t  offset, ov[4];

    memset(list, 0, sizeof(webhook_sig_list_t));

    offset = 0;

    while (offset <= len) {

        ov[0] = ov[1] = ov[2] = ov[3] = WEBHOOK_UNSET;

        rc = match(data, value, len, offset, ov);

        if (rc == 0) {
            break;
        }

        if (rc < 0 || ov[0] > ov[1] || ov[1] > len || ov[0] < offset) {
            return WEBHOOK_MALFORMED;
        }

        /* the first group may not take part in this match: no candidate */

        if (ov[2] != WEBHOOK_UNSET) {

            if (ov[2] >= ov[3] || ov[3] > len
                || list->ncandidates == WEBHOOK_MAX_CANDIDATES)
            {
                return WEBHOOK_MALFORMED;
            }

            list->candidates[list->ncandidates].data = value + ov[2];
            list->candidates[list->ncandidates].len = ov[3] - ov[2];
            list->ncandidates++;
        }

        /* an empty match moves on by one, or it would match forever */

        offset = (ov[1] > ov[0]) ? ov[1] : ov[1] + 1;
    }

    return list->ncandidates ? WEBHOOK_OK : WEBHOOK_MISSING;
}

/*
 * Unit tests: the custom scheme's template split and pattern walk.
 */


#include <string.h>

#include "webhook_custom.h"
#include "test_core.h"


static int template_body(const char *text, size_t *body, size_t *count);
static int fake_match(void *data, const unsigned char *value, size_t len,
    size_t offset, size_t ov[4]);


/* a scripted regex engine: each call returns the next of these */

typedef struct {
    int     rc;
    size_t  ov[4];
} fake_step_t;

typedef struct {
    const fake_step_t  *steps;
    size_t              n, next;
    size_t              offsets[8];
} fake_t;


void
test_custom(void)
{
    size_t              body, count;
    fake_t              f;
    webhook_sig_list_t  list;
    const unsigned char *v;

    tap_is_int(template_body("v0:$ts:{body}", &body, &count), WEBHOOK_OK,
               "template: one {body}");
    tap_is_int(body, 7, "template: {body} at its offset");
    tap_is_int(template_body("{body}", &body, &count), WEBHOOK_OK,
               "template: only {body}");
    tap_is_int(body, 0, "template: at 0");
    tap_is_int(template_body("$ts", &body, &count), WEBHOOK_MALFORMED,
               "template: no {body} is refused");
    tap_is_int(count, 0, "template: counted 0");
    tap_is_int(template_body("{body}.{body}", &body, &count),
               WEBHOOK_MALFORMED, "template: two {body} are refused");
    tap_is_int(count, 2, "template: counted 2");
    tap_is_int(template_body("{bod", &body, &count), WEBHOOK_MALFORMED,
               "template: a cut token at the end is no {body}");

    v = tap_dups("sig=ab,sig=cd");

    {
        /* two matches with a group each, then none */
        static const fake_step_t  steps[] = {
            { 1, { 0, 6, 4, 6 } }, { 1, { 6, 13, 11, 13 } }, { 0, { 0 } }
        };

        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 3;

        tap_is_int(webhook_pattern_candidates(v, 13, fake_match, &f, &list),
                   WEBHOOK_OK, "pattern: two candidates");
        tap_is_int(list.ncandidates, 2, "pattern: counted");
        tap_is_str(list.candidates[1].data, list.candidates[1].len, "cd",
                   "pattern: the second group");
        tap_is_int(f.offsets[1], 6, "pattern: the walk goes on after a match");
    }

    {
        /* an empty match moves on by one; a group not taking part adds no
         * candidate */
        static const fake_step_t  steps[] = {
            { 1, { 0, 0, WEBHOOK_UNSET, WEBHOOK_UNSET } },
            { 1, { 1, 1, WEBHOOK_UNSET, WEBHOOK_UNSET } },
            { 0, { 0 } }
        };

        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 3;

        tap_is_int(webhook_pattern_candidates(v, 13, fake_match, &f, &list),
                   WEBHOOK_MISSING, "pattern: no group, no candidate");
        tap_is_int(f.offsets[1], 1, "pattern: an empty match advances by 1");
    }

    {
        static const fake_step_t  steps[] = { { 1, { 0, 4, 4, 4 } } };

        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 1;

        tap_is_int(webhook_pattern_candidates(v, 13, fake_match, &f, &list),
                   WEBHOOK_MALFORMED, "pattern: an empty group is refused");
    }

    {
        static const fake_step_t  steps[] = { { 1, { 0, 14, 4, 6 } } };

        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 1;

        tap_is_int(webhook_pattern_candidates(v, 13, fake_match, &f, &list),
                   WEBHOOK_MALFORMED,
                   "pattern: a match past the value is refused");
    }

    {
        static const fake_step_t  steps[] = { { -1, { 0 } } };

        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 1;

        tap_is_int(webhook_pattern_candidates(v, 13, fake_match, &f, &list),
                   WEBHOOK_MALFORMED, "pattern: an engine error is refused");
    }

    {
        /* 17 one-byte groups: one more than a header may carry */
        static fake_step_t  steps[18];
        size_t              i;

        for (i = 0; i < 17; i++) {
            steps[i].rc = 1;
            steps[i].ov[0] = steps[i].ov[2] = i;
            steps[i].ov[1] = steps[i].ov[3] = i + 1;
        }

        v = tap_dups("aaaaaaaaaaaaaaaaaaaa");
        memset(&f, 0, sizeof(f));
        f.steps = steps;
        f.n = 18;

        tap_is_int(webhook_pattern_candidates(v, 20, fake_match, &f, &list),
                   WEBHOOK_MALFORMED,
                   "pattern: more than WEBHOOK_MAX_CANDIDATES is refused");
    }
}


static int
template_body(const char *text, size_t *body, size_t *count)
{
    return webhook_template_body(tap_dups(text), strlen(text), body, count);
}


static int
fake_match(void *data, const unsigned char *value, size_t len, size_t offset,
    size_t ov[4])
{
    fake_t *f = data;

    const fake_step_t  *s;

    (void) value;
    (void) len;

    if (f->next < sizeof(f->offsets) / sizeof(f->offsets[0])) {
        f->offsets[f->next] = offset;
    }

    if (f->next == f->n) {
        return 0;
    }

    s = &f->steps[f->next++];
    memcpy(ov, s->ov, sizeof(s->ov));

    return s->rc;
}

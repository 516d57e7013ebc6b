/* The packets a real stack sent, queued for the runner: adapters push what
 * they capture (with its time) and collect() hands the queue over, valid
 * until the next collect. Shared by the model, linux and exec adapters. */
#ifndef TW_FRAMEQ_H
#define TW_FRAMEQ_H

#include <stddef.h>
#include <stdint.h>

#include "adapter.h"

#define TW_FRAME_MAX 2048

struct tw_frame {
    uint64_t time_us;
    size_t len;
    uint8_t buf[TW_FRAME_MAX];
};

struct tw_frame_list {
    struct tw_frame *v;
    size_t n, cap;
};

struct tw_frameq {
    struct tw_frame_list pending, handed;
    struct tw_captured *view;
    size_t view_cap;
};

/* Room for one more packet at the end of the queue, not yet counted: fill
 * it and bump q->pending.n to keep it. NULL when out of memory. */
struct tw_frame *tw_frameq_next(struct tw_frameq *q);
/* Queue one IP packet (len <= TW_FRAME_MAX). 0, or -1 out of memory. */
int tw_frameq_push(struct tw_frameq *q, uint64_t time_us, const uint8_t *ip, size_t len);
/* Hand every queued packet over (the adapter's collect()). */
size_t tw_frameq_hand(struct tw_frameq *q, const struct tw_captured **out);
/* Empty the queue, keeping its memory for reuse. */
void tw_frameq_clear(struct tw_frameq *q);
void tw_frameq_free(struct tw_frameq *q);

#endif

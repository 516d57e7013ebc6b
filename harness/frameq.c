/* See frameq.h. */
#include <stdlib.h>
#include <string.h>

#include "frameq.h"

struct tw_frame *tw_frameq_next(struct tw_frameq *q)
{
    struct tw_frame_list *l = &q->pending;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct tw_frame *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        l->v = v;
        l->cap = cap;
    }
    return &l->v[l->n];
}

int tw_frameq_push(struct tw_frameq *q, uint64_t time_us, const uint8_t *ip, size_t len)
{
    struct tw_frame *f = len <= TW_FRAME_MAX ? tw_frameq_next(q) : NULL;
    if (!f)
        return -1;
    f->time_us = time_us;
    f->len = len;
    memcpy(f->buf, ip, len);
    q->pending.n++;
    return 0;
}

size_t tw_frameq_hand(struct tw_frameq *q, const struct tw_captured **out)
{
    struct tw_frame_list t = q->handed;
    q->handed = q->pending;
    q->pending = t;
    q->pending.n = 0;
    if (q->handed.n > q->view_cap) {
        struct tw_captured *v = realloc(q->view, q->handed.n * sizeof(*v));
        if (!v) {
            *out = NULL;
            return 0;
        }
        q->view = v;
        q->view_cap = q->handed.n;
    }
    for (size_t i = 0; i < q->handed.n; i++) {
        q->view[i].time_us = q->handed.v[i].time_us;
        q->view[i].len = q->handed.v[i].len;
        q->view[i].bytes = q->handed.v[i].buf;
    }
    *out = q->view;
    return q->handed.n;
}

void tw_frameq_clear(struct tw_frameq *q)
{
    q->pending.n = q->handed.n = 0;
}

void tw_frameq_free(struct tw_frameq *q)
{
    free(q->pending.v);
    free(q->handed.v);
    free(q->view);
    memset(q, 0, sizeof(*q));
}

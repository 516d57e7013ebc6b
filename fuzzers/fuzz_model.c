/* fuzz_model: sequences of events (user calls, inbound segments, ICMP
 * errors, time) run on the reference model.
 * Under test: target/ (tcb.c, host.c) through harness/fuzz_model.c (the
 * encoding), on its fast path: the events straight at the model's host.
 * Oracle: the model's invariants after every step (fuzz_model.c); a
 * violation prints the step and aborts. `threeway decode FILE` prints the
 * input as a case script that `threeway run` passes (the runner path).
 * Replays (the plain main, ctest fuzz-replay) also run every input through
 * the case runner and abort if the two paths disagree; TW_FZ_CHECK_PATHS=1
 * does the same under libFuzzer. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifdef TW_FUZZ_REPLAY
#define CHECK_PATHS_DEFAULT 1
#else
#define CHECK_PATHS_DEFAULT 0
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int check_paths = -1;
    struct tw_fz_result res;
    if (check_paths < 0)
        check_paths = CHECK_PATHS_DEFAULT || getenv("TW_FZ_CHECK_PATHS");
    int failed = tw_fuzz_model_run(data, size, &res, NULL);
    if (failed)
        fprintf(stderr, "fuzz_model: invariant violated: %s\n(threeway decode FILE prints the case)\n",
                res.message);
    if (check_paths) {
        /* a failure on one path only is the driver's bug, not the model's */
        char msg[2600];
        if (tw_fuzz_model_check_paths(data, size, msg, sizeof(msg))) {
            fprintf(stderr, "fuzz_model: %s\n", msg);
            abort();
        }
    }
    if (failed)
        abort();
    return 0;
}

#ifdef TW_FUZZ_CUSTOM_MUTATOR
/* An event-level mutator: the input is a header and whole events
 * (tw_fuzz_model_event_len), so delete, duplicate, swap and insert work on
 * events and keep every other event intact; byte-level mutation goes to
 * one event at a time, or to the header. */
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

#define MAX_SPLIT (TW_FZ_MAX_EVENTS + 8)

static unsigned next_rand(unsigned *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* Event boundaries after the header: off[i], len[i]. */
static size_t split(const uint8_t *data, size_t size, size_t *off, size_t *len)
{
    size_t n = 0, i = size < TW_FZ_HEADER ? size : TW_FZ_HEADER;
    while (i < size && n < MAX_SPLIT) {
        off[n] = i;
        len[n] = tw_fuzz_model_event_len(data + i, size - i);
        i += len[n++];
    }
    return n;
}

/* Events worth inserting whole: time, user calls, the usual segments. */
static const struct {
    uint8_t n, b[12];
} templates[] = {
    {3, {0x04, 0x03, 0xe8}},                          /* 1 s */
    {3, {0x04, 0x0b, 0xb8}},                          /* 3 s */
    {3, {0x04, 0xea, 0x60}},                          /* 60 s */
    {1, {0x00}}, {1, {0x08}}, {1, {0x10}}, {1, {0x18}}, {1, {0x20}}, /* listen connect accept close abort */
    {2, {0x28, 0x10}}, {1, {0x30}}, {1, {0x38}},      /* write read shutdown */
    {10, {0x01, 0x02, 0x01, 0x00, 0x04, 0x00, 0xff, 0xff, 0x00, 0x00}}, /* SYN at H's ISN */
    {10, {0x01, 0x10, 0x00, 0x01, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00}}, /* ACK RCV.NXT, SND.NXT */
    {10, {0x01, 0x12, 0x01, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00}}, /* SYN,ACK */
    {10, {0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}}, /* RST at RCV.NXT */
    {10, {0x01, 0x11, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00}}, /* FIN,ACK */
    {10, {0x01, 0x18, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0x10, 0x00}}, /* data */
    {3, {0x05, 0x03, 0x00}},                          /* ICMP port unreachable */
};

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    static uint8_t tmp[1 << 16];
    size_t off[MAX_SPLIT], len[MAX_SPLIT];
    unsigned r = seed | 1;
    if (size < TW_FZ_HEADER || max_size > sizeof(tmp) || next_rand(&r) % 8 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    size_t n = split(data, size, off, len);
    size_t out = 0;
    switch (next_rand(&r) % 6) {
    case 0: { /* mutate one event's bytes (or the header) in place */
        if (!n || next_rand(&r) % 8 == 0) {
            data[next_rand(&r) % TW_FZ_HEADER] ^= (uint8_t)(1u << (next_rand(&r) % 8));
            return size;
        }
        size_t k = next_rand(&r) % n, room = len[k] + 8;
        memcpy(tmp, data + off[k], len[k]);
        size_t m = LLVMFuzzerMutate(tmp, len[k], room);
        if (size - len[k] + m > max_size)
            return size;
        memmove(data + off[k] + m, data + off[k] + len[k], size - off[k] - len[k]);
        memcpy(data + off[k], tmp, m);
        return size - len[k] + m;
    }
    case 1: /* delete an event */
        if (!n)
            break;
        {
            size_t k = next_rand(&r) % n;
            memmove(data + off[k], data + off[k] + len[k], size - off[k] - len[k]);
            return size - len[k];
        }
    case 2: /* duplicate an event at another place */
        if (!n || n >= TW_FZ_MAX_EVENTS)
            break;
        {
            size_t k = next_rand(&r) % n, at = next_rand(&r) % (n + 1);
            size_t pos = at < n ? off[at] : size;
            if (size + len[k] > max_size)
                break;
            memcpy(tmp, data + off[k], len[k]);
            memmove(data + pos + len[k], data + pos, size - pos);
            memcpy(data + pos, tmp, len[k]);
            return size + len[k];
        }
    case 3: /* swap two events */
        if (n < 2)
            break;
        {
            size_t a = next_rand(&r) % n, b = next_rand(&r) % n;
            if (a == b)
                break;
            if (a > b) {
                size_t t = a;
                a = b;
                b = t;
            }
            out = off[a];
            memcpy(tmp, data, off[a]);
            memcpy(tmp + out, data + off[b], len[b]);
            out += len[b];
            memcpy(tmp + out, data + off[a] + len[a], off[b] - off[a] - len[a]);
            out += off[b] - off[a] - len[a];
            memcpy(tmp + out, data + off[a], len[a]);
            out += len[a];
            memcpy(tmp + out, data + off[b] + len[b], size - off[b] - len[b]);
            out += size - off[b] - len[b];
            memcpy(data, tmp, out);
            return out;
        }
    default: /* insert a template event */
        if (n >= TW_FZ_MAX_EVENTS)
            break;
        {
            size_t t = next_rand(&r) % (sizeof(templates) / sizeof(templates[0]));
            size_t at = next_rand(&r) % (n + 1), pos = at < n ? off[at] : size;
            size_t m = templates[t].n;
            if (size + m > max_size)
                break;
            memmove(data + pos + m, data + pos, size - pos);
            memcpy(data + pos, templates[t].b, m);
            return size + m;
        }
    }
    return LLVMFuzzerMutate(data, size, max_size);
}
#endif

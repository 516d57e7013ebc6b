/* The fuzz_model driver: a compact binary encoding of events (user calls,
 * inbound segments, time, ICMP errors) run against a model host, with the
 * model's invariants checked after every step. The same driver backs the
 * libFuzzer/AFL++ target, the corpus replayer and `threeway decode`.
 *
 * Encoding (docs/fuzzing.md): byte 0 configures the model (profile S or C,
 * IPv4 or IPv6, which options D offers); bytes 1-4 are H's ISN; then events,
 * each an opcode byte followed by its operands. Sequence and ack numbers are
 * encoded relative to the live TCB (RCV.NXT, the window's right edge, ISS,
 * SND.UNA, SND.NXT, SND.UNA-MAX.SND.WND) plus a small signed delta, so random
 * bytes land on the boundaries that matter. Missing bytes read as zero: every
 * input is valid. */
#ifndef TW_FUZZ_MODEL_H
#define TW_FUZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

enum tw_fz_kind {
    TW_FZ_CONFIG,  /* the model's profile and H's ISN */
    TW_FZ_LISTEN,  /* socket, bind, listen */
    TW_FZ_CONNECT, /* socket, non-blocking connect */
    TW_FZ_ACCEPT,  /* accept of an established connection */
    TW_FZ_CLOSE,
    TW_FZ_ABORT,
    TW_FZ_SEND,
    TW_FZ_INJECT,  /* a segment from H */
    TW_FZ_ICMP,    /* an ICMP error quoting D's segment */
    TW_FZ_OUTPUT,  /* a segment D sent */
};

struct tw_fz_event {
    enum tw_fz_kind kind;
    uint64_t now_us;
    enum tw_verdict verdict;
    int socket;              /* LISTEN/CONNECT/ACCEPT/CLOSE/ABORT/SEND: 0 listener, 1 connection */
    uint32_t len;            /* SEND */
    struct tw_segment seg;   /* INJECT, OUTPUT (absolute numbers) */
    struct tw_icmp icmp;     /* ICMP */
    uint8_t icmp4_type, icmp4_code; /* ICMP: the ICMPv4 naming of the error */
    /* CONFIG */
    bool strict;
    uint8_t family;
    uint8_t offer;
    uint32_t h_isn;
};

typedef void (*tw_fz_trace_fn)(void *ctx, const struct tw_fz_event *ev);

struct tw_fz_result {
    unsigned steps;
    uint64_t rows[2];        /* transition rows taken */
    char message[640];       /* the invariant that failed, at which step */
};

/* Run one input. Returns 0, or -1 if an invariant failed. trace (may be
 * NULL) sees every event and every segment D sent, in order. */
int tw_fuzz_model_run(const uint8_t *data, size_t size, struct tw_fz_result *res,
                      tw_fz_trace_fn trace, void *ctx);

#endif

/* The fuzz_model driver: a compact binary encoding of the events of a case
 * script (user calls, inbound segments, ICMP errors, time), decoded one
 * event at a time and run on the model with its invariants checked after
 * every step. The libFuzzer/AFL++ target, the corpus replayer and `threeway
 * decode` all call this.
 *
 * Two paths run the same events. The runner path runs them through the
 * case runner (runner.h) in record mode on the model adapter, the code
 * `threeway run` takes: what D sent is recorded as outbound lines, and the
 * whole run prints as a case script (tw_fuzz_model_decode) that `threeway
 * run` passes on the model. The fast path (the fuzzer's) makes the same
 * calls straight at the model's host, as the adapter would, without script
 * lines or frames; tw_fuzz_model_check_paths says whether they agree, and
 * every replay checks it.
 *
 * Encoding (docs/fuzzing.md has the full table):
 *   byte 0   config: bit 0 profile S (else C), bit 1 IPv6, bit 2 no TS,
 *            bit 3 no SACK, bit 4 no window scale offered, bits 5-7 R: if
 *            R > 0, tcp_syn_retries = tcp_synack_retries = R
 *   bytes 1-4  H's ISN (--remote_isn), big-endian
 *   then at most TW_FZ_MAX_EVENTS events, an opcode byte (kind = op & 7)
 *   and its operands:
 *     0      user call (op >> 3 & 7: listen, connect, accept, close, abort,
 *            write [+1 byte], read, shutdown) on open socket (op >> 6)
 *     4      time passes: +2 bytes, milliseconds
 *     5      ICMP error quoting D's segment: +2 bytes (which error, seq delta)
 *     1,2,3,6,7  a segment from H: flags, seq mode [+delta], ack mode
 *            [+delta], window (2), payload length, options mode [+operands]
 * Sequence and ack numbers are a base taken from the live TCB (RCV.NXT,
 * the window's right edge, H's ISN, H's next; SND.NXT, SND.UNA, ISS,
 * SND.UNA - MAX.SND.WND, the script's 0) plus a signed 8-bit or a 32-bit
 * delta, so random bytes land on the boundaries that matter. Missing bytes
 * read as zero: every input is valid. */
#ifndef TW_FUZZ_MODEL_H
#define TW_FUZZ_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "script.h"

#define TW_FZ_MAX_EVENTS 64 /* events decoded per input: the rest is ignored */
#define TW_FZ_HEADER 5
#define TW_FZ_PATH "fuzz_model" /* the path the runner sees (its RFC 6528 key) */

/* Opcode kinds (op & 7) and user calls (op >> 3 & 7). */
enum { TW_FZ_OP_USER = 0, TW_FZ_OP_TIME = 4, TW_FZ_OP_ICMP = 5, TW_FZ_OP_SEGMENT = 1 };
enum {
    TW_FZ_LISTEN, TW_FZ_CONNECT, TW_FZ_ACCEPT, TW_FZ_CLOSE,
    TW_FZ_ABORT, TW_FZ_WRITE, TW_FZ_READ, TW_FZ_SHUTDOWN,
};

struct tw_fz_result {
    unsigned steps;          /* events decoded */
    uint64_t rows[2];        /* transition rows taken (tw_out.rows bits) */
    bool failed;
    unsigned n_out;          /* segments D sent */
    uint64_t out_digest;     /* a hash of them and their times (the paths must agree) */
    char message[1024];      /* the invariant that failed, at which step */
};

/* Sees the script header once, then every line in order. A line run by the
 * driver is seen twice: before it runs (update false) and after (update
 * true: the syscall's result filled in, replace the previous copy); the
 * outbound lines D's answer records come in between. */
struct tw_fz_sink {
    void (*header)(void *ctx, const struct tw_script *hdr);
    void (*line)(void *ctx, const struct tw_script_event *e, bool update);
    void *ctx;
    /* Optional (fuzzers/fuzz_diff_linux.c): every packet into and out of
     * the model, as the runner's trace hook (tw_run_config.trace) sees it. */
    void (*trace)(void *ctx, uint64_t time_us, bool from_d, const uint8_t *pkt, size_t len);
    /* Optional: a time event is about to run the model's clock from now_us
     * to until_us; next_deadline_us is the model's earliest armed timer
     * (tw_host_next_deadline, 0 if none). */
    void (*time)(void *ctx, uint64_t now_us, uint64_t until_us, uint64_t next_deadline_us);
};

/* Run one input. 0, or -1 if an invariant failed (res->message says which,
 * at which step). With a sink, through the case runner (tw_runner_step in
 * record mode on the model adapter, the lines handed to the sink). Without
 * one (the fuzzer's hot path), the fast path: the same events straight at
 * the model's host (target/host.h) as the model adapter makes them, D's
 * segments kept as structs, with the same oracles; no script lines, no
 * frames, no heap. */
int tw_fuzz_model_run(const uint8_t *data, size_t size, struct tw_fz_result *res,
                      const struct tw_fz_sink *sink);

/* The runner path without a sink (as tw_fuzz_model_run with one). */
int tw_fuzz_model_run_runner(const uint8_t *data, size_t size, struct tw_fz_result *res);

/* Run an input both ways; 0 if the paths agree (verdict, steps, rows, D's
 * segments and their times), else -1 with both sides described in msg. */
int tw_fuzz_model_check_paths(const uint8_t *data, size_t size, char *msg, size_t cap);

/* Run one input and collect it as a case script (*out, clean it up with
 * tw_script_cleanup), covers: the requirements of the rows taken. Returns
 * as tw_fuzz_model_run; -2 if out of memory. */
int tw_fuzz_model_decode(const uint8_t *data, size_t size, struct tw_script *out,
                         struct tw_fz_result *res);

/* A case script in the encoding, as far as it goes (seeds from the
 * conformance suite): inbound segments exactly (seq from H's ISN, ack from
 * the script's 0), the socket calls the encoding has, time in milliseconds,
 * ICMP errors, the profile, family and option sysctls; outbound lines are
 * D's and left out. Returns the length written (<= cap). */
size_t tw_fuzz_model_encode(const struct tw_script *s, uint8_t *out, size_t cap);

/* The length of the event at data[0] (an opcode and its operands), at most
 * the bytes left: for the custom mutator, which works on whole events. */
size_t tw_fuzz_model_event_len(const uint8_t *data, size_t left);

#endif

/* The runner and judge: one parsed case, one stack (through adapter.h), one
 * verdict. See docs/script-format.md for what every line means.
 *
 * Library code: nothing here prints. Diagnostics go into the result, as
 * "file:line: field: expected X, got Y" plus both segments rendered. */
#ifndef TW_RUNNER_H
#define TW_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "adapter.h"
#include "script.h"

struct tw_run_config {
    const struct tw_adapter_ops *ops; /* NULL: the model */
    const char *profile;              /* NULL: "C" */
    int64_t tolerance_usecs;          /* < 0: the script's --tolerance_usecs, else the stack's default */
    uint16_t h_port;                  /* H's port for inbound connections; 0: tw_case_port(path) */
    uint16_t d_port;                  /* D's port for bind(); 0: 8080, packetdrill's default */
    bool d_isn_fixed;                 /* pin D's ISN to d_isn (the model honours it; `record --isn`) */
    bool real_time;                   /* never skip a wait on a real stack (--real-time); see TW_ADV_WARP */
    uint32_t d_isn;
    /* Optional trace hook: sees every packet injected into D (from_d false)
     * and every packet D sent (from_d true), as IP bytes, with the time on
     * the stack's clock (pcap.h writes these to a capture). */
    void (*trace)(void *ctx, uint64_t time_us, bool from_d, const uint8_t *pkt, size_t len);
    void *trace_ctx;
    /* Record mode (the fuzz_model driver, `threeway decode`): outbound lines
     * are not expected; every segment D sends is handed to record_out as an
     * outbound line (relative numbers, exact time) and consumed, and every
     * syscall line run through tw_runner_step gets its actual result written
     * in (ret, err). Printed, the lines form a case that passes on the model. */
    bool record;
    void (*record_out)(void *ctx, const struct tw_script_event *out, const struct tw_segment *seg);
    void *record_ctx;
};

enum tw_case_status {
    TW_CASE_PASS,
    TW_CASE_FAIL,
    TW_CASE_SKIP,
};

struct tw_case_result {
    enum tw_case_status status;
    char *message;       /* FAIL: the diagnostics (lines, no final newline); SKIP: the reason */
    uint64_t rows[2];    /* model transition rows taken (tw_out.rows bits); 0 on other stacks */
    uint64_t virtual_us; /* the stack's clock at the end */
    double seconds;      /* wall time of the run */
    char *stack_desc;    /* the adapter's describe() at the end, or NULL */
};

/* Run one case. Always fills *r (free it with tw_case_result_cleanup);
 * returns 0, or -1 when the run could not start (adapter open failed), with
 * r->status FAIL and the reason in r->message. An adapter whose open() error
 * starts "skip: " (the machine cannot run that stack) gives SKIP and 0. */
int tw_run_case(const struct tw_script *s, const struct tw_run_config *cfg, struct tw_case_result *r);

/* Whether no line of the script (those that apply under names) can notice
 * that its waits are skipped on a real stack (docs/script-format.md, "Time-
 * free cases"): every expected segment at the script's "now", silences under
 * 1 s, waits under 0.5 s, no "*". The runner then passes TW_ADV_WARP. */
bool tw_script_time_free(const struct tw_script *s, const char *const *names, size_t n_names);
void tw_case_result_cleanup(struct tw_case_result *r);

/* ---- step by step ----------------------------------------------------------
 * tw_run_case is tw_runner_open, tw_runner_step for each event, and
 * tw_runner_finish. The fuzz_model driver builds each event from its input
 * as it goes (numbers relative to the live TCB) and runs it through the same
 * code. The script passed to open provides the header (path, ip_version,
 * remote_isn, profile); its events are not run. */
struct tw_runner;

/* 0 with *out set; otherwise *out is NULL and res is filled: 1 SKIP (the
 * script needs another profile), -1 FAIL (the stack did not start). */
int tw_runner_open(struct tw_runner **out, const struct tw_script *s, const struct tw_run_config *cfg,
                   struct tw_case_result *res);
/* Run one event (record mode: a syscall's result is written into e).
 * 0, or -1 once the case has failed (tw_runner_message says why). */
int tw_runner_step(struct tw_runner *r, struct tw_script_event *e);
/* Let the stack's clock run to until_us (absolute), as the wait before a
 * later line would; in record mode what D sent meanwhile is recorded. */
int tw_runner_advance(struct tw_runner *r, uint64_t until_us);
struct tw_adapter *tw_runner_adapter(struct tw_runner *r);
/* The relative-number context; *iss_known (may be NULL): D's ISN learned. */
const struct tw_judge_ctx *tw_runner_ctx(const struct tw_runner *r, bool *iss_known);
uint64_t tw_runner_now(struct tw_runner *r);
const char *tw_runner_message(const struct tw_runner *r); /* "" while passing */
/* End the run (the end-of-case checks), fill res, free r. */
void tw_runner_finish(struct tw_runner *r, struct tw_case_result *res);

/* H's port for a case: 40000 + a hash of the path, in 40000..59999. */
uint16_t tw_case_port(const char *path);

/* ---- the judge (judge.c) ---------------------------------------------------- */

/* What turns a packet line's relative numbers into absolute ones. */
struct tw_judge_ctx {
    uint32_t d_iss;      /* D's ISN (0 until learned) */
    uint32_t h_isn;      /* H's ISN (--remote_isn) */
    uint32_t ts_offset;  /* D's live TS val minus the script's, for inbound ecr */
    struct tw_addr d_addr, h_addr;
    uint16_t d_port, h_port;
    /* For "win syn" (judge.c): the last segment with SYN D sent that a line
     * matched, and whether H's last SYN carried WS (RFC 7323 2.2: scaling is
     * on only when both SYNs did). */
    bool d_syn_seen;
    uint16_t d_syn_win;
    int8_t d_syn_wscale; /* D's offered shift, capped at 14; -1 without WS */
    bool h_syn_ws;
    /* "wnd" on inbound lines: the window D last advertised, in bytes (its
     * window field, shifted by D's offered scale when both SYNs carried WS
     * and the segment is not a SYN; RFC 7323 2.2-2.3). */
    uint32_t d_wnd;
};

/* The segment an outbound line expects, with absolute numbers (for
 * rendering; `got` fills what the line leaves open, e.g. the window). */
void tw_judge_expected_segment(const struct tw_packet *exp, const struct tw_judge_ctx *ctx,
                               const struct tw_segment *got, struct tw_segment *out);

/* The segment an inbound line describes, with absolute numbers. */
void tw_judge_inbound_segment(const struct tw_packet *in, const struct tw_judge_ctx *ctx,
                              struct tw_segment *out);

/* Compare D's segment with an outbound line, field by field in the order
 * flags, seq, ack, window, options, payload length. 0 if it matches; else
 * -1 with the first difference in msg ("ack: expected 1, got 0"). Time is
 * the runner's. */
int tw_judge_segment(const struct tw_packet *exp, const struct tw_segment *got,
                     const struct tw_judge_ctx *ctx, char *msg, size_t cap);

#endif

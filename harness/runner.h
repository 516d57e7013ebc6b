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
};

/* Run one case. Always fills *r (free it with tw_case_result_cleanup);
 * returns 0, or -1 when the run could not start (adapter open failed), with
 * r->status FAIL and the reason in r->message. */
int tw_run_case(const struct tw_script *s, const struct tw_run_config *cfg, struct tw_case_result *r);
void tw_case_result_cleanup(struct tw_case_result *r);

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

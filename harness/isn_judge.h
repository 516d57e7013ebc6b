/* `threeway isn`: judging sampled initial sequence numbers (RFC 9293
 * 3.4.1, RFC 6528). Pure: arrays of ISNs (and their times) in, one verdict
 * per check out, with the numbers behind it; no I/O, so unit tests can feed
 * it synthetic sequences (tests/test_isn.c).
 *
 * RFC 6528 asks for ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey): M a clock (RFC 9293: roughly one tick per 4 us), F a keyed
 * hash. Seen from outside, that gives three properties the checks test:
 *
 *   not-constant             every ISN the same (or one value for at least
 *                            half of the connections) is neither a clock nor
 *                            a keyed hash (HS-ISN-02; HS-ISN-01 MUST-8)
 *   unpredictable-ports      ISNs of distinct 4-tuples taken at about the
 *                            same time are unrelated: from one ISN an
 *                            observer cannot guess the next (HS-ISN-02)
 *   same-tuple-clock         one 4-tuple reopened over time advances with
 *                            the clock: every delta positive mod 2^32 and
 *                            proportional to the elapsed time, and the clock
 *                            does not wrap within an MSL (HS-ISN-01)
 *   active-not-constant,
 *   active-unpredictable     the same for the SYNs of active opens (D's
 *                            ephemeral ports differ) (HS-ISN-02)
 *
 * Thresholds (see tw_isn_judge in isn_judge.c for why each number):
 *   predictor window    +-65535: a guess that close lands inside a typical
 *                       receive window, which is what a blind injection
 *                       needs (RFC 5961 1, RFC 6528 2)
 *   predictors          next = prev + median of the deltas seen so far, and
 *                       next = prev + last delta: each may hit at most 1%
 *                       of its guesses (at least 1); a uniform ISN hits one
 *                       in 32768
 *   distinct deltas     at least 90% of deltas differ
 *   low-byte entropy    Shannon entropy of the deltas' low 8 bits at least
 *                       half of log2(min(256, deltas))
 *   clock proportion    at least 90% of intervals advance at a rate within
 *                       x2 of the median rate
 *   clock wrap          2^32 ticks take at least one MSL (120 s, RFC 9293
 *                       3.4.2), i.e. at most 35.8 ticks per us */
#ifndef TW_ISN_JUDGE_H
#define TW_ISN_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_ISN_PREDICT_WINDOW 65535u
#define TW_ISN_MSL_US 120000000ull /* RFC 9293 3.4.2: MSL is 2 minutes */
#define TW_ISN_MIN_PORTS 16        /* handshake-requirements.md HS-ISN-02: 16-64 ISNs */
#define TW_ISN_MIN_SAME_TUPLE 6    /* HS-ISN-01: at least 6 connections */

/* What was sampled. A series may be empty (n = 0) when sampling it failed;
 * its checks then fail, with `why_*` (if set) as the detail. */
struct tw_isn_data {
    const uint32_t *ports_isn; /* SYN-ACKs to distinct source ports of H, a burst */
    size_t n_ports;
    const uint32_t *tuple_isn; /* SYN-ACKs on one 4-tuple, each after the last was reset */
    const uint64_t *tuple_us;  /* when each was sent, on the stack's clock */
    size_t n_tuple;
    const uint32_t *active_isn; /* SYNs of active opens */
    size_t n_active;
    const char *why_ports, *why_tuple, *why_active; /* why a series is short */
};

struct tw_isn_check {
    const char *id;   /* requirement ID (conformance/requirements.tsv) */
    const char *name; /* the check, e.g. "unpredictable-ports" */
    bool pass;
    char detail[400]; /* the numbers behind the verdict */
};

#define TW_ISN_CHECKS 5

struct tw_isn_report {
    struct tw_isn_check checks[TW_ISN_CHECKS];
    size_t n;
    bool pass; /* every check passed */
};

void tw_isn_judge(const struct tw_isn_data *d, struct tw_isn_report *out);

/* The statistics behind unpredictable-*, for one burst of ISNs. */
struct tw_isn_spread {
    size_t n_deltas;
    size_t distinct_deltas;
    uint32_t median_delta;
    size_t n_predictions; /* guesses each predictor made: n_deltas - 1 */
    size_t hits_median; /* next = prev + median of the earlier deltas, within the window */
    size_t hits_last;   /* next = prev + the previous delta, within the window */
    double low_byte_entropy; /* bits, of the deltas' low 8 bits */
};
void tw_isn_spread(const uint32_t *isn, size_t n, struct tw_isn_spread *out);

#endif

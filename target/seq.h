/* Sequence-number arithmetic, modulo 2^32 (RFC 9293 section 3.4, HS-SEQ-01..03).
 *
 * Never compare sequence numbers with a bare '<': a sequence space wraps, and
 * "a < b" means "b lies less than 2^31 ahead of a". Two values exactly 2^31
 * apart are ambiguous (HS-SEQ-03): seq_lt(a, a + 2^31) is true and so is
 * seq_lt(a + 2^31, a); callers must not depend on which side wins. */
#ifndef TW_SEQ_H
#define TW_SEQ_H

#include <stdbool.h>
#include <stdint.h>

static inline int32_t seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }
static inline bool seq_lt(uint32_t a, uint32_t b) { return seq_diff(a, b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return seq_diff(a, b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return seq_diff(a, b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return seq_diff(a, b) >= 0; }

/* lo < x <= hi, the shape of RFC 9293's ACK acceptability test
 * "SND.UNA < SEG.ACK =< SND.NXT". Measured as distances from lo, so it is
 * exact for any window shorter than 2^32. */
static inline bool seq_in_open_closed(uint32_t lo, uint32_t x, uint32_t hi)
{
    return x - lo - 1u < hi - lo;
}

/* lo <= x < lo + len: "RCV.NXT =< SEG.SEQ < RCV.NXT+RCV.WND". len 0 is empty. */
static inline bool seq_in_window(uint32_t lo, uint32_t x, uint32_t len)
{
    return x - lo < len;
}

#endif

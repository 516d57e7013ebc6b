/* `threeway bench`: complete handshakes and odd segments through a stack. */
#ifndef TW_BENCH_H
#define TW_BENCH_H

#include <stdint.h>

struct tw_bench_result {
    uint64_t segments;   /* segments processed by the stack */
    uint64_t handshakes; /* complete, checked handshakes */
    double seconds;
    uint64_t failures;   /* handshakes that did not go as expected */
    char failure[256];   /* the first failure, described */
};

/* Drive the model for about `seconds` of wall time. Returns 0 on success,
 * -1 if any handshake went wrong (result->failure says how). */
int tw_bench_model(double seconds, struct tw_bench_result *result);

#endif

/* fuzz_model: sequences of events (user calls, inbound segments, ICMP
 * errors, time) run on the reference model through the case runner.
 * Under test: target/ (tcb.c, host.c), harness/runner.c in record mode,
 * adapter_model.c, through harness/fuzz_model.c (the encoding).
 * Oracle: the model's invariants after every step (fuzz_model.c); a
 * violation prints the step and aborts. `threeway decode FILE` prints the
 * input as a case script that `threeway run` passes. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_fz_result res;
    if (tw_fuzz_model_run(data, size, &res, NULL)) {
        fprintf(stderr, "fuzz_model: invariant violated: %s\n(threeway decode FILE prints the case)\n",
                res.message);
        abort();
    }
    return 0;
}

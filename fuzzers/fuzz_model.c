/* fuzz_model: sequences of events (user calls, inbound segments, time, ICMP)
 * against the reference model.
 * Under test: target/tcb.c and host.c through harness/fuzz_model.c.
 * Oracle: the model's invariants after every step (see fuzz_model.c); a
 * violation prints the step and aborts. `threeway decode` turns an input
 * into a case script. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_fz_result res;
    if (tw_fuzz_model_run(data, size, &res, NULL, NULL)) {
        fprintf(stderr, "fuzz_model: invariant violated: %s\n", res.message);
        abort();
    }
    return 0;
}

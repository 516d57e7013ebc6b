/* fuzz_trivial: the yardstick for fuzz_model's speed target (issue #5).
 * A target that does nearly nothing, built exactly as the real targets
 * (same compiler, sanitizers and coverage flags, same libraries linked), so
 * that ci/fuzz-speed can report fuzz_model's exec/s as a share of what
 * libFuzzer itself manages on this machine. Under test: nothing. Oracle:
 * none. */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* one branch on the input, so libFuzzer has a feature to see */
    if (size > 0 && data[0] == 'x')
        return 0;
    return 0;
}

/* A target with two planted bugs, for ci/nightly-fuzz-selftest: proves the
 * nightly run finds crashes, keys them by stack (two bugs, however many
 * crashing inputs), files one regression input per bug, and does not file
 * a bug again while an earlier input for it still crashes. Built only by the
 * libfuzzer preset; never part of a release or of the OSS-Fuzz build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile int sink;

__attribute__((noinline)) static void planted_overflow(const uint8_t *data, size_t size)
{
    char *buf = malloc(4);
    if (!buf)
        return;
    memcpy(buf, data, 4);
    sink = buf[size]; /* size >= 4: one past the end at least */
    free(buf);
}

__attribute__((noinline)) static void planted_abort(void) { abort(); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4 || memcmp(data, "PL", 2))
        return 0;
    if (data[2] == 'A')
        planted_overflow(data, size);
    else if (data[2] == 'B')
        planted_abort();
    return 0;
}

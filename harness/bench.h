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
    /* --stack linux only */
    double loopback_per_sec;       /* the kernel's own connect()+accept() rate on loopback */
    uint64_t loopback_handshakes;
    char environment[768];         /* kernel release and sysctls (tw_netns_describe) */
};

/* Drive the model for about `seconds` of wall time. Returns 0 on success,
 * -1 if any handshake went wrong (result->failure says how). */
int tw_bench_model(double seconds, struct tw_bench_result *result);

/* Drive the kernel in a private network namespace over a TAP device for
 * about `seconds`, then measure its loopback connect()+accept() rate in the
 * same namespace (for seconds/2, at least 0.2 s) as the reference. 0 on
 * success; -1 if a handshake went wrong (result->failure); TW_NETNS_UNAVAILABLE
 * (netns.h) when this machine cannot create the namespace: err starts with
 * "skip: " then. bench_linux.c. */
int tw_bench_linux(double seconds, struct tw_bench_result *result, char *err, size_t err_cap);

/* Drive the stack behind the exec adapter that tw_adapter_find chose last
 * (`lwip`, `lwipv6`, `exec:CMD`) for about `seconds`, `window` SYNs in
 * flight: complete, checked handshakes, each freed by a RST. 0 on success;
 * -1 on a failure (result->failure, or err if the shim did not start);
 * TW_NETNS_UNAVAILABLE with err "skip: ..." when no namespace can be had.
 * adapter_exec.c. */
int tw_bench_exec(double seconds, int window, struct tw_bench_result *result, char *err, size_t err_cap);

#endif

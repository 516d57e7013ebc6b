/* The adapter interface: one stack under test, driven synchronously.
 *
 * The runner speaks to every stack (the model, Linux in a netns, a shim)
 * through this table. It is stack-neutral on purpose: packets cross it as
 * raw IP bytes (the runner builds and parses them with target/segment.h),
 * user calls look like the socket API (a handle in, a value or -errno out),
 * and time is the stack's own clock in microseconds.
 *
 * Nothing here blocks. A call that would block returns -EAGAIN (accept,
 * read) or -EINPROGRESS (connect); the runner implements packetdrill's
 * blocking calls by asking again (accept again, connect_result) after every
 * step. */
#ifndef TW_ADAPTER_H
#define TW_ADAPTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

struct tw_adapter_config {
    int family;          /* 4 or 6 */
    const char *profile; /* "C", "S", or a stack's own profile name */
    struct tw_addr local;  /* D: 198.51.100.2 / 2001:db8::2 */
    struct tw_addr remote; /* H: 198.51.100.1 / 2001:db8::1 */
    uint8_t secret[16];  /* the model's RFC 6528 key: fixed per case */
    bool isn_fixed;      /* the model: every ISN is `isn` (TW_ISN_FIXED); others ignore it */
    uint32_t isn;
};

/* A packet the stack sent, as captured. */
struct tw_captured {
    uint64_t time_us; /* on the stack's clock */
    size_t len;
    uint8_t *bytes;   /* owned by the adapter until the next collect/close */
};

struct tw_adapter;

enum {
    TW_ADV_STOP_ON_ACTIVITY = 0x1, /* return as soon as the stack sent or did something */
    /* Nothing in the case depends on real time passing here (the runner
     * decides, runner.h: tw_script_time_free): an adapter on a real clock
     * may take what the stack has sent already and then move its clock to
     * until_us at once instead of waiting. Adapters on a virtual clock, and
     * those that cannot move a real stack's clock, ignore it. */
    TW_ADV_WARP = 0x2,
};

struct tw_adapter_ops {
    const char *name;
    /* Create and configure the stack. 0, or -1 with a message in err. */
    int (*open)(struct tw_adapter **out, const struct tw_adapter_config *cfg, char *err,
                size_t err_cap);
    void (*close)(struct tw_adapter *a);

    /* A shell line (`cmd`): 0, or -1 with a message (e.g. refused). */
    int (*shell)(struct tw_adapter *a, const char *cmd, char *err, size_t err_cap);

    /* User calls: >= 0 on success, -errno on failure. Handles are the
     * adapter's own small integers. */
    int (*socket)(struct tw_adapter *a);
    int (*bind)(struct tw_adapter *a, int h, uint16_t port);
    int (*listen)(struct tw_adapter *a, int h, int backlog);
    /* Start an active open to remote:port: -EINPROGRESS (the usual answer), 0
     * if established at once, or another -errno. */
    int (*connect)(struct tw_adapter *a, int h, uint16_t port);
    /* After connect: 0 established, -EINPROGRESS still opening, -errno failed. */
    int (*connect_result)(struct tw_adapter *a, int h);
    int (*accept)(struct tw_adapter *a, int h); /* new handle, or -EAGAIN */
    int (*close_socket)(struct tw_adapter *a, int h); /* close(): CLOSE, or ABORT with linger 0 */
    int (*shutdown)(struct tw_adapter *a, int h, int how);
    int (*send)(struct tw_adapter *a, int h, uint32_t len);     /* bytes queued */
    int (*recv)(struct tw_adapter *a, int h, uint32_t max);     /* bytes, 0 at EOF, -EAGAIN */
    int (*setsockopt)(struct tw_adapter *a, int h, int level, int name, const int64_t *vals,
                      unsigned n_vals);
    int (*getsockopt)(struct tw_adapter *a, int h, int level, int name, int64_t *vals,
                      unsigned *n_vals);
    /* The RFC 9293 state name of h's connection (for a listener, of its
     * newest connection not yet accepted, if any), or NULL when the stack
     * cannot show states. */
    const char *(*state)(struct tw_adapter *a, int h);

    /* Hand the stack one IP packet (TCP or ICMP) from the harness. */
    int (*inject)(struct tw_adapter *a, const uint8_t *pkt, size_t len);
    /* Take the packets the stack sent since the last collect, in order. The
     * array and bytes stay valid until the next collect or close. */
    size_t (*collect)(struct tw_adapter *a, const struct tw_captured **out);
    /* Let the stack's clock run up to until_us (absolute); with
     * TW_ADV_STOP_ON_ACTIVITY, return early right after it sent something or
     * ran a timer. */
    int (*advance)(struct tw_adapter *a, uint64_t until_us, unsigned flags);
    uint64_t (*now)(struct tw_adapter *a);

    /* Optional (NULL if the stack has none): the model's transition-table
     * rows taken so far, as tw_out.rows bits. */
    void (*rows)(struct tw_adapter *a, uint64_t out[2]);
    /* Profile names this stack answers to besides cfg->profile (e.g. "model"). */
    const char *stack_tag;
    /* Default --tolerance_usecs on this stack. */
    int64_t default_tolerance_usecs;
    /* Lateness allowance for timers (0 on the model, whose time is exact):
     * an event may come late by the tolerance plus late_per_mille/1000 of
     * the interval being timed, at most late_max_usecs more. The interval
     * runs from the last event that could have armed a timer (a packet
     * either way, a syscall, a shell line; not silence or state lines). */
    uint32_t late_per_mille;
    int64_t late_max_usecs;
    /* Optional (NULL if none): one line for the report on what ran the case,
     * e.g. "linux 6.18.44, tcp_syncookies=1, tcp_timestamps=1, ..."; valid
     * until the next call or close. */
    const char *(*describe)(struct tw_adapter *a);
    /* Optional (NULL if none): non-NULL when the adapter itself failed
     * during the case (exec: the shim crashed, hung or flooded): the reason,
     * starting "harness error:", with the shim's stderr tail. The runner
     * fails the case with it, whatever the case expected. */
    const char *(*harness_error)(struct tw_adapter *a);
};

extern const struct tw_adapter_ops tw_adapter_model;
extern const struct tw_adapter_ops tw_adapter_linux; /* adapter_linux.c */
/* adapter_exec.c: `exec:CMD`, and the aliases lwip and lwipv6 (the shims
 * built next to the threeway binary; NULL if not built). Only one command
 * per process: finding another replaces it. */
extern const struct tw_adapter_ops tw_adapter_exec, tw_adapter_lwip, tw_adapter_lwipv6;
const struct tw_adapter_ops *tw_adapter_exec_find(const char *stack);
/* DIR/tw-shim-ALIAS next to the running binary; true if it is there. */
bool tw_adapter_exec_shim_path(const char *alias, char *out, size_t cap);

/* The model adapter's insides, for the fuzz_model oracles (harness/fuzz_model.c),
 * which check the model's invariants after every step: its host (NULL if ops
 * is not the model adapter), and the transition rows taken since the last
 * take (tw_out.rows bits; the rows op reports them all since open). */
struct tw_host;
struct tw_host *tw_adapter_model_host(const struct tw_adapter_ops *ops, struct tw_adapter *a);
void tw_adapter_model_take_rows(struct tw_adapter *a, uint64_t rows[2]);

/* The linux adapter's close for a caller that knows every port its case
 * used (fuzz_diff_linux, once per input): like close, but instead of
 * sweeping the namespace (a sock_diag dump walks the kernel's tables), it
 * destroys what is left between D's d_port and each of H's ports by exact
 * 4-tuple. Anything that cannot be destroyed gets the next case a fresh
 * namespace, as close does. */
void tw_adapter_linux_close_ports(struct tw_adapter *a, uint16_t d_port, const uint16_t *h_ports, size_t n_h);

/* The adapter for a --stack name, or NULL if this build has none. */
const struct tw_adapter_ops *tw_adapter_find(const char *stack);

#endif

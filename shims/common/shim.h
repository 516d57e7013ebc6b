/* The shim side of threeway's line protocol (docs/writing-a-shim.md).
 *
 * A shim hosts one user-space TCP/IP stack on a TAP device the harness
 * created, and performs the harness's user calls on it. This file is the
 * part every C shim shares: the environment, the TAP attach, the command
 * loop, replies and events. A stack plugs in through struct shim_backend.
 *
 * Calls return >= 0 on success and -errno on failure, as in adapter.h; the
 * loop turns them into `ok ...` and `err ENAME text` lines. */
#ifndef TW_SHIM_H
#define TW_SHIM_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the harness passes in the environment (TW_*). */
struct shim_env {
    const char *tap;         /* TW_TAP: an existing TAP device; never created here */
    uint8_t mac[6];          /* TW_MAC: the stack's own Ethernet address */
    struct in_addr addr4;    /* TW_ADDR4 / TW_PREFIX4 */
    int prefix4;
    struct in_addr peer4;    /* TW_PEER4: the harness */
    struct in6_addr addr6;   /* TW_ADDR6 / TW_PREFIX6 */
    int prefix6;
    struct in6_addr peer6;   /* TW_PEER6 */
};

/* An address in a command (`connect H ADDR PORT`). */
struct shim_addr {
    int family; /* 4 or 6 */
    struct in_addr v4;
    struct in6_addr v6;
};

#define SHIM_MAX_VALS 4

struct shim_backend {
    const char *stack;   /* first word after `ready` */
    const char *version; /* second word */
    /* Bring the stack up on env->tap. 0, or -1 with a message in err. A
     * stack that cannot take TW_MAC writes the MAC it uses into env->mac:
     * the ready line reports it. */
    int (*init)(struct shim_env *env, char *err, size_t err_cap);
    /* Extra `key=value` words for the ready line (mac=..., states=yes, ...). */
    const char *(*features)(void);

    /* The main loop polls stdin and these fds, sleeping at most
     * timeout_ms() (-1: no limit), then calls service() with the results
     * (also with n == 0 when only the timeout expired). service() reads
     * frames, runs timers and reports events. */
    int (*poll_fds)(struct pollfd *fds, int cap);
    int (*timeout_ms)(void);
    void (*service)(const struct pollfd *fds, int n);

    int (*socket)(int family);
    int (*bind)(int h, uint16_t port);
    int (*listen)(int h, int backlog);
    int (*connect)(int h, const struct shim_addr *addr, uint16_t port); /* -EINPROGRESS usually */
    int (*accept)(int h);                /* new handle or -EAGAIN */
    int (*close)(int h);
    int (*abort)(int h);                 /* close with RST */
    int (*shutdown)(int h, int how);     /* SHUT_RD, SHUT_WR, SHUT_RDWR */
    int (*send)(int h, uint32_t len);    /* bytes queued */
    int (*recv)(int h, uint32_t max);    /* bytes read, 0 at EOF, -EAGAIN */
    /* RFC 9293 state name ("SYN-RECEIVED"), or NULL for `unknown`; -errno in *out_err. */
    const char *(*status)(int h, int *out_err);
    int (*setsockopt)(int h, const char *name, const long *vals, int n_vals);
    /* Fills vals; SO_ERROR gives an errno value (0: none). */
    int (*getsockopt)(int h, const char *name, long *vals, int *n_vals);
    /* Drop every connection and listener without sending anything. 0, or
     * -ENOTSUP when the harness must restart the shim instead. */
    int (*reset)(void);
};

/* Write `event WHAT H [ARG]` (events are suppressed while muted, e.g.
 * during reset). */
void shim_event(const char *what, int h, const char *arg);
void shim_events_mute(bool mute);
/* A diagnostic line on stderr, prefixed with the stack's name. */
void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* CLOCK_MONOTONIC in microseconds: the clock of `time`. */
uint64_t shim_now_us(void);
const char *shim_errno_name(int e);

/* Attach to the existing TAP device `name` (IFF_TAP | IFF_NO_PI),
 * non-blocking. Refuses to create a device. fd, or -1 with err. */
int shim_tap_open(const char *name, char *err, size_t err_cap);

/* Parse the environment, print `ready`, serve commands until `quit` or EOF. */
int shim_main(const struct shim_backend *b);

#endif

/* A tiny endpoint around the model: a fixed array of TCBs, demultiplexing
 * by 4-tuple, listeners that hand each SYN to a fresh TCB (so a listener
 * keeps serving other peers, HS-LISTEN-03), and the CLOSED-state rules for
 * segments that match nothing. Still no heap, no I/O, no globals. */
#ifndef TW_HOST_H
#define TW_HOST_H

#include "tcp.h"

#define TW_HOST_SLOTS 16
#define TW_NO_SLOT (-1)
#define TW_ORPHAN (-2) /* parent of a child whose listener was released */

enum {
    TW_SLOT_USED = 0x1,
    TW_SLOT_ACCEPTED = 0x2, /* a passive child handed to the user */
};

struct tw_host {
    struct tw_env env;
    struct tw_tcb tcb[TW_HOST_SLOTS];
    uint8_t slot_flags[TW_HOST_SLOTS];
    int8_t parent[TW_HOST_SLOTS]; /* listener slot of a passive child, TW_ORPHAN, or TW_NO_SLOT */
};

void tw_host_init(struct tw_host *h, const struct tw_env *env);

/* User calls; each returns the slot (or TW_NO_SLOT) and the verdict in *v. */
int tw_host_listen(struct tw_host *h, const struct tw_addr *laddr, uint16_t lport,
                   uint64_t now_us, struct tw_out *out, enum tw_verdict *v);
int tw_host_connect(struct tw_host *h, const struct tw_addr *laddr, uint16_t lport,
                    const struct tw_addr *raddr, uint16_t rport, uint64_t now_us,
                    struct tw_out *out, enum tw_verdict *v);
/* An established child of `listener` not yet accepted, or TW_NO_SLOT. */
int tw_host_accept(struct tw_host *h, int listener);
/* Forget a slot (after the user closed it and it reached CLOSED). */
void tw_host_release(struct tw_host *h, int slot);

/* The slot a segment would reach: its connection, else a listener, else
 * TW_NO_SLOT (the CLOSED rules). */
int tw_host_lookup(const struct tw_host *h, const struct tw_segment *seg);

/* A segment arrives. *slot_out (may be NULL) gets the TCB that took it. */
enum tw_verdict tw_host_input(struct tw_host *h, const struct tw_segment *seg, uint64_t now_us,
                              struct tw_out *out, int *slot_out);
/* The same from raw IP bytes: a malformed packet or a bad checksum is
 * dropped silently (HS-GEN-01, HS-GEN-08). */
enum tw_verdict tw_host_input_packet(struct tw_host *h, const uint8_t *pkt, size_t len,
                                     uint64_t now_us, struct tw_out *out, int *slot_out);
enum tw_verdict tw_host_icmp(struct tw_host *h, const struct tw_icmp *ic, uint64_t now_us,
                             struct tw_out *out, int *slot_out);
/* Run the first due timer, if any; call until TW_V_TIMER_NOT_DUE. */
enum tw_verdict tw_host_timer(struct tw_host *h, uint64_t now_us, struct tw_out *out,
                              int *slot_out);
uint64_t tw_host_next_deadline(const struct tw_host *h);

#endif

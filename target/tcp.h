/* The reference handshake model: RFC 9293 connection establishment.
 *
 * One connection is a struct tw_tcb (caller-owned, <= 256 bytes). Every event
 * (user call, arriving segment, ICMP error, timer) is one function that takes
 * the TCB, the environment (profile, ISN source), `now` in microseconds and a
 * caller-owned struct tw_out for the segments to send, and returns a named
 * verdict. No I/O, no heap, no clock, no globals: two models can run side by
 * side, and every run is deterministic.
 *
 * State changes go through one function (tw_take) and only along the rows of
 * the transition table below, which is also what `threeway diagram` draws. */
#ifndef TW_TCP_H
#define TW_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "segment.h"

/* ---- states ---------------------------------------------------------- */

#define TW_STATES(X)                                                          \
    X(CLOSED, "CLOSED")                                                       \
    X(LISTEN, "LISTEN")                                                       \
    X(SYN_SENT, "SYN-SENT")                                                   \
    X(SYN_RECEIVED, "SYN-RECEIVED")                                           \
    X(ESTABLISHED, "ESTABLISHED")                                             \
    X(FIN_WAIT_1, "FIN-WAIT-1")                                               \
    X(CLOSE_WAIT, "CLOSE-WAIT")

enum tw_state {
#define TW_X(name, text) TW_##name,
    TW_STATES(TW_X)
#undef TW_X
        TW_STATE__COUNT
};

const char *tw_state_name(enum tw_state s);

/* ---- events of the transition table ---------------------------------- */

#define TW_EVENTS(X)                                                          \
    X(PASSIVE_OPEN, "passive OPEN")                                           \
    X(ACTIVE_OPEN, "active OPEN")                                             \
    X(SEGMENT, "segment")                                                     \
    X(TIMEOUT, "timeout")                                                     \
    X(CLOSE, "CLOSE")                                                         \
    X(ABORT, "ABORT")                                                         \
    X(ICMP, "ICMP")

enum tw_event {
#define TW_X(name, text) TW_EV_##name,
    TW_EVENTS(TW_X)
#undef TW_X
        TW_EV__COUNT
};

const char *tw_event_name(enum tw_event e);

/* ---- the transition table ---------------------------------------------
 * X(id, from, event, to, requirement, condition / action)
 * Row ids follow section 2 of handshake-requirements.md (T1..T45); rows with
 * a suffix split a spec row where the destination depends on the origin of
 * SYN-RECEIVED (P passive, A active) or on the profile (S strict RFC 9293,
 * C with RFC 5961). Rows E* are ours: the synchronized-state and ICMP edges
 * the spec table leaves implicit. */
#define TW_ROWS(X)                                                                              \
    X(T1, CLOSED, PASSIVE_OPEN, LISTEN, "HS-OPEN-04", "create TCB")                             \
    X(T2, CLOSED, ACTIVE_OPEN, SYN_SENT, "HS-OPEN-01", "send SYN")                              \
    X(T3, CLOSED, SEGMENT, CLOSED, "HS-CLOSED-03", "RST: drop")                                 \
    X(E3C, CLOSED, SEGMENT, CLOSED, "HS-LISTEN-08", "to/from a non-unicast address: drop")      \
    X(T4, CLOSED, SEGMENT, CLOSED, "HS-CLOSED-01", "no ACK: send RST,ACK")                      \
    X(T5, CLOSED, SEGMENT, CLOSED, "HS-CLOSED-02", "ACK: send RST seq=SEG.ACK")                 \
    X(T6, LISTEN, SEGMENT, LISTEN, "HS-LISTEN-01", "RST: ignore")                               \
    X(T7, LISTEN, SEGMENT, LISTEN, "HS-LISTEN-02", "ACK: send RST seq=SEG.ACK")                 \
    X(T8, LISTEN, SEGMENT, SYN_RECEIVED, "HS-LISTEN-03", "SYN: send SYN,ACK")                   \
    X(T9, LISTEN, SEGMENT, LISTEN, "HS-LISTEN-07", "no SYN/ACK/RST: drop")                      \
    X(T10, LISTEN, ACTIVE_OPEN, SYN_SENT, "HS-OPEN-01", "remote given: send SYN")               \
    X(T11, LISTEN, CLOSE, CLOSED, "HS-OPEN-04", "CLOSE: delete TCB")                            \
    X(T11A, LISTEN, ABORT, CLOSED, "HS-OPEN-04", "ABORT: delete TCB")                           \
    X(E0, LISTEN, SEGMENT, LISTEN, "HS-LISTEN-08", "to/from a non-unicast address: drop")      \
    X(T12, SYN_SENT, SEGMENT, SYN_SENT, "HS-SYNSENT-01", "bad ACK: send RST seq=SEG.ACK")       \
    X(T13, SYN_SENT, SEGMENT, SYN_SENT, "HS-SYNSENT-02", "bad ACK + RST: drop")                 \
    X(T14, SYN_SENT, SEGMENT, CLOSED, "HS-SYNSENT-03", "RST + good ACK: refused")               \
    X(T15, SYN_SENT, SEGMENT, SYN_SENT, "HS-SYNSENT-04", "RST without ACK: drop")               \
    X(T16, SYN_SENT, SEGMENT, ESTABLISHED, "HS-SYNSENT-06", "SYN + good ACK: send ACK")         \
    X(T17, SYN_SENT, SEGMENT, SYN_RECEIVED, "HS-SIM-01", "SYN, no ACK: send SYN,ACK")           \
    X(T18, SYN_SENT, SEGMENT, SYN_SENT, "HS-SYNSENT-09", "neither SYN nor RST: drop")           \
    X(T19, SYN_SENT, TIMEOUT, SYN_SENT, "HS-TMR-02", "RTO: resend SYN, RTO x2")                 \
    X(T20, SYN_SENT, TIMEOUT, CLOSED, "HS-TMR-05", "R2 / user timeout: give up")                \
    X(T21, SYN_SENT, CLOSE, CLOSED, "HS-OPEN-06", "CLOSE: delete TCB, send nothing")            \
    X(T21A, SYN_SENT, ABORT, CLOSED, "HS-OPEN-07", "ABORT: delete TCB, send nothing")           \
    X(T22, SYN_SENT, ICMP, CLOSED, "HS-ICMP-04", "hard error: abort")                           \
    X(E22, SYN_SENT, ICMP, SYN_SENT, "HS-ICMP-03", "soft/invalid error: stay")                  \
    X(T23, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-04", "bad SEQ: send ACK")           \
    X(T24, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-08", "bad SEQ + RST: drop")         \
    X(T25, SYN_RECEIVED, SEGMENT, LISTEN, "HS-SYNRCVD-07", "(P) RST: back to LISTEN")           \
    X(T26, SYN_RECEIVED, SEGMENT, CLOSED, "HS-SIM-03", "(A) RST: refused")                      \
    X(T27, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-08", "C: RST seq!=RCV.NXT: challenge ACK") \
    X(T28, SYN_RECEIVED, SEGMENT, LISTEN, "HS-SYNRCVD-06", "(P) S: SYN in window: back to LISTEN") \
    X(T29C, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SIM-04", "C: SYN: challenge ACK")          \
    X(T29S, SYN_RECEIVED, SEGMENT, CLOSED, "HS-SIM-04", "(A) S: SYN in window: RST, reset")     \
    X(T30, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-10", "ACK bit off: drop")           \
    X(E30, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-TS-04", "timestamp missing: drop")          \
    X(T31, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-03", "C: ACK outside 5961 range: send ACK") \
    X(T32, SYN_RECEIVED, SEGMENT, ESTABLISHED, "HS-SYNRCVD-01", "good ACK: established")        \
    X(T33, SYN_RECEIVED, SEGMENT, SYN_RECEIVED, "HS-SYNRCVD-02", "bad ACK: send RST seq=SEG.ACK") \
    X(T34, SYN_RECEIVED, TIMEOUT, SYN_RECEIVED, "HS-SYNRCVD-13", "RTO: resend SYN,ACK")         \
    X(T35P, SYN_RECEIVED, TIMEOUT, LISTEN, "HS-SYNRCVD-13", "(P) R2: drop, listener stays")     \
    X(T35A, SYN_RECEIVED, TIMEOUT, CLOSED, "HS-SYNRCVD-13", "(A) R2: give up")                  \
    X(T36, SYN_RECEIVED, CLOSE, FIN_WAIT_1, "HS-OPEN-08", "CLOSE: send FIN")                    \
    X(T37, SYN_RECEIVED, ABORT, CLOSED, "HS-OPEN-07", "ABORT: send RST seq=SND.NXT")            \
    X(E37, SYN_RECEIVED, ICMP, CLOSED, "HS-ICMP-05", "hard error: abort")                       \
    X(E37P, SYN_RECEIVED, ICMP, LISTEN, "HS-ICMP-05", "(P) hard error: back to LISTEN")         \
    X(E38, SYN_RECEIVED, ICMP, SYN_RECEIVED, "HS-ICMP-05", "soft/invalid error: stay")          \
    X(T38, ESTABLISHED, SEGMENT, CLOSED, "HS-EST-05", "RST (S: in window, C: exact): reset")    \
    X(T39, ESTABLISHED, SEGMENT, ESTABLISHED, "HS-EST-05", "C: RST in window: challenge ACK")   \
    X(T40C, ESTABLISHED, SEGMENT, ESTABLISHED, "HS-EST-01", "C: SYN: challenge ACK")            \
    X(T40S, ESTABLISHED, SEGMENT, CLOSED, "HS-EST-01", "S: SYN in window: RST, reset")          \
    X(T41, ESTABLISHED, SEGMENT, ESTABLISHED, "HS-EST-04", "bad ACK: send ACK, drop")           \
    X(T42, ESTABLISHED, SEGMENT, CLOSE_WAIT, "HS-SYNRCVD-12", "FIN: ack it")                    \
    X(T43, ESTABLISHED, CLOSE, FIN_WAIT_1, "HS-OPEN-08", "CLOSE: send FIN")                     \
    X(T44, ESTABLISHED, ABORT, CLOSED, "HS-OPEN-07", "ABORT: send RST seq=SND.NXT")             \
    X(E1, ESTABLISHED, SEGMENT, ESTABLISHED, "HS-SYNRCVD-11", "acceptable: ack data")           \
    X(E2, ESTABLISHED, SEGMENT, ESTABLISHED, "HS-EST-02", "unacceptable: send ACK or drop")    \
    X(E3, ESTABLISHED, TIMEOUT, ESTABLISHED, "HS-TMR-03", "RTO: resend data")                   \
    X(E4, ESTABLISHED, TIMEOUT, CLOSED, "HS-TMR-05", "R2: give up")                             \
    X(E5, ESTABLISHED, ICMP, CLOSED, "HS-ICMP-04", "hard error: abort")                         \
    X(E6, ESTABLISHED, ICMP, ESTABLISHED, "HS-ICMP-03", "soft/invalid error: stay")             \
    X(E7, FIN_WAIT_1, SEGMENT, FIN_WAIT_1, "HS-OPEN-08", "segment after FIN")                   \
    X(E8, FIN_WAIT_1, SEGMENT, CLOSED, "HS-EST-05", "RST / SYN (S): reset")                     \
    X(E9, CLOSE_WAIT, SEGMENT, CLOSE_WAIT, "HS-SYNRCVD-12", "segment after peer FIN")           \
    X(E10, CLOSE_WAIT, SEGMENT, CLOSED, "HS-EST-05", "RST / SYN (S): reset")                    \
    X(E11, FIN_WAIT_1, ABORT, CLOSED, "HS-OPEN-07", "ABORT: send RST")                          \
    X(E12, CLOSE_WAIT, ABORT, CLOSED, "HS-OPEN-07", "ABORT: send RST")                          \
    X(E13, CLOSE_WAIT, CLOSE, FIN_WAIT_1, "HS-OPEN-08", "CLOSE: send FIN (LAST-ACK is out of scope)") \
    X(E14, ESTABLISHED, CLOSE, CLOSED, "HS-OPEN-07", "CLOSE with data unread: send RST (RFC 1122 4.2.2.13)") \
    X(E15, CLOSE_WAIT, CLOSE, CLOSED, "HS-OPEN-07", "CLOSE with data unread: send RST (RFC 1122 4.2.2.13)")

enum tw_row {
#define TW_X(id, from, ev, to, req, what) TW_ROW_##id,
    TW_ROWS(TW_X)
#undef TW_X
        TW_ROW__COUNT
};

struct tw_row_info {
    const char *id;
    enum tw_state from;
    enum tw_event event;
    enum tw_state to;
    const char *requirement;
    const char *what;
};

extern const struct tw_row_info tw_rows[TW_ROW__COUNT];

/* ---- verdicts: every decision has a name ------------------------------ */

#define TW_VERDICTS(X)                                                                           \
    X(NONE, "-", "nothing happened")                                                             \
    X(OPEN_LISTEN, "HS-OPEN-04", "passive OPEN: listening")                                      \
    X(OPEN_SYN_SENT, "HS-OPEN-01", "active OPEN: SYN sent")                                      \
    X(OPEN_BAD_REMOTE, "HS-OPEN-02", "OPEN refused: broadcast, multicast or unspecified remote")  \
    X(CALL_ILLEGAL, "HS-OPEN-04", "user call not valid in this state")                           \
    X(MALFORMED_DROPPED, "HS-GEN-08", "malformed segment dropped without reply")                 \
    X(BAD_CHECKSUM_DROPPED, "HS-GEN-01", "bad checksum: dropped silently")                       \
    X(CLOSED_RST_DROPPED, "HS-CLOSED-03", "CLOSED: RST dropped")                                 \
    X(NON_UNICAST_DROPPED, "HS-LISTEN-08", "to or from a broadcast/multicast address: dropped, never answered") \
    X(CLOSED_SEND_RST_ACK, "HS-CLOSED-01", "CLOSED: no ACK bit: RST,ACK ack=SEG.SEQ+SEG.LEN")     \
    X(CLOSED_SEND_RST, "HS-CLOSED-02", "CLOSED: ACK bit: RST seq=SEG.ACK")                       \
    X(LISTEN_RST_IGNORED, "HS-LISTEN-01", "LISTEN: RST ignored")                                 \
    X(LISTEN_ACK_SEND_RST, "HS-LISTEN-02", "LISTEN: ACK bit: RST seq=SEG.ACK")                   \
    X(LISTEN_SYN_SEND_SYNACK, "HS-LISTEN-03", "LISTEN: SYN: SYN,ACK sent")                       \
    X(LISTEN_BAD_ADDRESS_DROPPED, "HS-LISTEN-08", "LISTEN: segment to or from a non-unicast address dropped") \
    X(NOT_FOR_HOST_DROPPED, "HS-LISTEN-08", "not addressed to one of the host's addresses: dropped (RFC 1122 3.2.1.3)") \
    X(LISTEN_NO_CONTROL_DROPPED, "HS-LISTEN-07", "LISTEN: no SYN, ACK or RST: dropped")          \
    X(SYNSENT_ACK_UNACCEPTABLE_SEND_RST, "HS-SYNSENT-01", "SYN-SENT: unacceptable ACK: RST seq=SEG.ACK") \
    X(SYNSENT_ACK_UNACCEPTABLE_RST_DROPPED, "HS-SYNSENT-02", "SYN-SENT: unacceptable ACK on a RST: dropped") \
    X(SYNSENT_RST_REFUSED, "HS-SYNSENT-03", "SYN-SENT: RST with acceptable ACK: connection refused") \
    X(SYNSENT_RST_NO_ACK_DROPPED, "HS-SYNSENT-04", "SYN-SENT: RST without ACK: dropped")        \
    X(SYNSENT_SYNACK_ESTABLISHED, "HS-SYNSENT-06", "SYN-SENT: SYN,ACK acceptable: ESTABLISHED") \
    X(SYNSENT_SYN_SIMULTANEOUS_OPEN, "HS-SIM-01", "SYN-SENT: SYN: simultaneous open, SYN,ACK sent") \
    X(SYNSENT_NO_SYN_DROPPED, "HS-SYNSENT-09", "SYN-SENT: neither SYN nor RST: dropped")        \
    X(SEQ_UNACCEPTABLE_SEND_ACK, "HS-SYNRCVD-04", "sequence unacceptable: ACK sent, dropped")    \
    X(SEQ_UNACCEPTABLE_RST_DROPPED, "HS-SYNRCVD-08", "sequence unacceptable RST: dropped")       \
    X(PAWS_SEND_ACK, "HS-TS-06", "PAWS: old timestamp: ACK sent, dropped")                       \
    X(TS_MISSING_DROPPED, "HS-TS-04", "timestamp missing on a TS connection: dropped")           \
    X(RST_BACK_TO_LISTEN, "HS-SYNRCVD-07", "SYN-RECEIVED (passive): RST: back to LISTEN")       \
    X(RST_REFUSED, "HS-SIM-03", "SYN-RECEIVED (active): RST: connection refused")                \
    X(RST_CHALLENGE_ACK, "HS-SYNRCVD-08", "RST in window but not exact: challenge ACK")          \
    X(RST_RESET, "HS-EST-05", "RST accepted: connection reset")                                  \
    X(SYN_BACK_TO_LISTEN, "HS-SYNRCVD-06", "SYN-RECEIVED (passive): SYN in window: back to LISTEN") \
    X(SYN_CHALLENGE_ACK, "HS-EST-01", "SYN in a synchronized state: challenge ACK")              \
    X(SYN_SEND_RST_RESET, "HS-EST-01", "SYN in window: RST sent, connection reset")              \
    X(ACK_BIT_OFF_DROPPED, "HS-SYNRCVD-10", "no ACK bit: dropped")                               \
    X(ACK_OUTSIDE_5961_SEND_ACK, "HS-SYNRCVD-03", "ACK outside RFC 5961 range: ACK sent, dropped") \
    X(SYNRCVD_ACK_ESTABLISHED, "HS-SYNRCVD-01", "SYN-RECEIVED: acceptable ACK: ESTABLISHED")     \
    X(SYNRCVD_ACK_UNACCEPTABLE_SEND_RST, "HS-SYNRCVD-02", "SYN-RECEIVED: unacceptable ACK: RST seq=SEG.ACK") \
    X(ACK_TOO_NEW_SEND_ACK, "HS-EST-04", "ACK of unsent data: ACK sent, dropped")                \
    X(ACK_DUPLICATE, "HS-EST-04", "old ACK: ignored, text processed")                            \
    X(SEGMENT_ACCEPTED, "HS-SYNRCVD-11", "acceptable segment processed")                         \
    X(FIN_CLOSE_WAIT, "HS-SYNRCVD-12", "FIN: acknowledged, CLOSE-WAIT")                          \
    X(TIMER_NOT_DUE, "-", "no timer due")                                                        \
    X(TIMER_RESEND_SYN, "HS-TMR-02", "RTO: SYN retransmitted")                                  \
    X(TIMER_RESEND_SYNACK, "HS-SYNRCVD-13", "RTO: SYN,ACK retransmitted")                       \
    X(TIMER_RESEND_DATA, "HS-TMR-03", "RTO: data retransmitted")                                \
    X(TIMER_GIVE_UP, "HS-TMR-05", "retries exhausted or user timeout: connection aborted")      \
    X(USER_CLOSE_DELETED, "HS-OPEN-06", "CLOSE: TCB deleted, nothing sent")                      \
    X(USER_CLOSE_SEND_FIN, "HS-OPEN-08", "CLOSE: FIN sent")                                      \
    X(USER_CLOSE_QUEUED, "HS-OPEN-08", "CLOSE: FIN queued behind data")                          \
    X(USER_CLOSE_UNREAD_SEND_RST, "HS-OPEN-07", "CLOSE with received data unread: RST seq=SND.NXT sent (RFC 1122 4.2.2.13)") \
    X(USER_ABORT_DELETED, "HS-OPEN-07", "ABORT: TCB deleted, nothing sent")                      \
    X(USER_ABORT_SEND_RST, "HS-OPEN-07", "ABORT: RST seq=SND.NXT sent")                          \
    X(USER_SEND_QUEUED, "HS-OPEN-05", "SEND before ESTABLISHED: queued")                         \
    X(USER_SEND_SENT, "HS-OPEN-05", "SEND: data sent")                                           \
    X(ICMP_HARD_ABORT, "HS-ICMP-04", "ICMP hard error: connection aborted")                      \
    X(ICMP_SOFT_REPORTED, "HS-ICMP-03", "ICMP soft error: remembered, not aborted")              \
    X(ICMP_PMTU, "HS-ICMP-04", "ICMP fragmentation needed: MSS lowered")                         \
    X(ICMP_QUENCH_DROPPED, "HS-ICMP-02", "ICMP source quench: dropped")                         \
    X(ICMP_SEQ_INVALID_DROPPED, "HS-ICMP-01", "ICMP quotes a sequence outside SND.UNA..SND.NXT: dropped") \
    X(ICMP_NO_CONNECTION, "HS-ICMP-01", "ICMP for no connection: dropped")

enum tw_verdict {
#define TW_X(name, req, text) TW_V_##name,
    TW_VERDICTS(TW_X)
#undef TW_X
        TW_V__COUNT
};

const char *tw_verdict_name(enum tw_verdict v);
const char *tw_verdict_requirement(enum tw_verdict v);
const char *tw_verdict_text(enum tw_verdict v);

/* ---- errors reported to the user -------------------------------------- */

enum tw_user_error {
    TW_ERR_NONE = 0,
    TW_ERR_REFUSED,  /* "connection refused" (ECONNREFUSED) */
    TW_ERR_RESET,    /* "connection reset" (ECONNRESET) */
    TW_ERR_TIMEOUT,  /* retries or user timeout (ETIMEDOUT) */
    TW_ERR_UNREACH,  /* ICMP hard error (EHOSTUNREACH / ECONNREFUSED for port) */
    TW_ERR_SOFT,     /* ICMP soft error remembered (reported if the open fails) */
};

/* ---- profile and environment ------------------------------------------ */

struct tw_profile {
    bool rfc5961;           /* C (true, default) or S: strict RFC 9293 */
    uint8_t offer;          /* options to offer: TW_HAS_MSS|WSCALE|SACKOK|TS */
    uint8_t wscale;         /* our shift, capped at 14 (RFC 7323 2.3) */
    uint16_t window;        /* receive window advertised (raw, unscaled in SYNs) */
    uint16_t mtu;           /* interface MTU; MSS offered = mtu - 40 (v4) / 60 (v6) */
    uint8_t syn_retries;    /* SYN retransmissions before giving up */
    uint8_t synack_retries; /* SYN,ACK retransmissions before giving up */
    uint32_t rto_initial_ms;/* RFC 6298 (2.1): 1 s */
    uint32_t rto_max_ms;    /* cap on the doubled RTO (>= 60 s, MUST-19) */
    uint32_t user_timeout_ms; /* connection-establishment timeout; 0 = retries only */
    bool icmp_hard_abort;   /* RFC 1122 / SHLD-26: proto/port unreachable aborts */
    bool icmp_soft_abort_syn_sent; /* RFC 5461 practice: soft errors abort in SYN-SENT */
    bool validate_icmp_seq; /* RFC 5927: quoted seq in SND.UNA..SND.NXT-1 */
    bool synrcvd_syn_rst;   /* RFC 793 / Linux: passive SYN-RECEIVED answers an in-window SYN with RST */
};

/* The defaults: RFC 5961 on, MSS+SACK+TS+WS offered, shift 7, window 65535,
 * MTU 1500, 7 SYN and 5 SYN,ACK retries (183 s >= 3 min), RTO 1 s doubling to 60 s, hard ICMP
 * errors abort, soft ones do not, ICMP sequence validated. */
void tw_profile_default(struct tw_profile *p);
/* Strict RFC 9293 without RFC 5961. */
void tw_profile_strict(struct tw_profile *p);

enum tw_isn_mode {
    TW_ISN_RFC6528, /* keyed hash of the 4-tuple + a 4 us clock (default) */
    TW_ISN_FIXED,   /* always isn_fixed: for tests */
};

struct tw_env {
    struct tw_profile profile;
    /* The host's own unicast addresses (RFC 1122 3.2.1.3: a datagram to any
     * other unicast address is not for this host and is dropped). None: the
     * host takes every destination (unit tests, a bare TCB). */
    struct tw_addr addrs[2];
    uint8_t n_addrs;
    enum tw_isn_mode isn_mode;
    uint32_t isn_fixed;
    uint8_t secret[16]; /* the RFC 6528 key */
};

void tw_env_init(struct tw_env *env); /* default profile, RFC 6528 ISNs, zero key */

/* RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport, secretkey),
 * M a 4 microsecond timer, F SipHash-2-4 keyed with `secret`. */
uint32_t tw_isn_rfc6528(const uint8_t secret[16], const struct tw_addr *laddr, uint16_t lport,
                        const struct tw_addr *raddr, uint16_t rport, uint64_t now_us);
uint64_t tw_siphash24(const uint8_t key[16], const uint8_t *data, unsigned len);

/* ---- the connection ---------------------------------------------------- */

enum {
    TW_TCB_PASSIVE = 0x01,   /* SYN-RECEIVED reached from LISTEN (MUST-11) */
    TW_TCB_WS_OK = 0x02,     /* both SYNs carried window scale */
    TW_TCB_TS_OK = 0x04,     /* both SYNs carried timestamps */
    TW_TCB_SACK_OK = 0x08,   /* both SYNs carried SACK-permitted */
    TW_TCB_SYN_RETRANS = 0x10, /* SYN / SYN,ACK was retransmitted: Karn, 3 s rule */
    TW_TCB_FIN_SENT = 0x20,
    TW_TCB_FIN_PENDING = 0x40, /* CLOSE in SYN-RECEIVED with data queued */
    TW_TCB_HAVE_RTT = 0x80,  /* an RTT sample was taken (RFC 6298 2.2) */
};

struct tw_tcb {
    uint8_t state;          /* enum tw_state */
    uint8_t flags;          /* TW_TCB_* */
    uint8_t snd_wscale;     /* shift applied to the peer's windows */
    uint8_t rcv_wscale;     /* shift the peer applies to ours */
    uint8_t retries;        /* retransmissions of the current segment */
    uint8_t error;          /* enum tw_user_error, for the user */
    uint8_t peer_offer;     /* TW_HAS_* the peer's SYN carried */
    uint8_t pad0;
    uint16_t lport, rport;
    uint16_t snd_mss;       /* effective send MSS (MUST-15, MUST-16) */
    uint16_t rcv_mss;       /* the MSS we advertised */
    uint16_t path_mss;      /* from ICMP frag-needed / packet too big; 0 = none */
    uint16_t pad1;
    struct tw_addr laddr, raddr;
    uint32_t iss, irs;
    uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t rcv_nxt, rcv_wnd;
    uint32_t ts_recent;     /* RFC 7323 TS.Recent */
    uint32_t ts_offset;     /* our TSval = now_ms + ts_offset */
    uint32_t rto_ms;
    uint32_t snd_queued;    /* bytes the user queued and not yet sent */
    uint32_t rcv_delivered; /* bytes accepted in order (for the user) */
    uint32_t rcv_read;      /* of those, bytes the user took (tw_read) */
    uint64_t rtx_deadline_us;  /* 0 = retransmission timer off */
    uint64_t open_deadline_us; /* 0 = no establishment timeout */
    uint64_t syn_time_us;   /* when the first SYN / SYN,ACK went out */
};

#define TW_OUT_MAX 4

struct tw_out {
    unsigned n;
    struct tw_segment seg[TW_OUT_MAX];
    uint64_t rows[2]; /* bit r set: row r of the transition table was taken */
};

static inline void tw_out_clear(struct tw_out *o)
{
    o->n = 0;
    o->rows[0] = o->rows[1] = 0;
}

static inline bool tw_out_took(const struct tw_out *o, enum tw_row r)
{
    return (o->rows[r / 64] >> (r % 64)) & 1u;
}

/* User calls. laddr/lport are ours; raddr/rport the peer's. */
enum tw_verdict tw_open_passive(struct tw_tcb *c, const struct tw_env *env,
                                const struct tw_addr *laddr, uint16_t lport, uint64_t now_us,
                                struct tw_out *out);
enum tw_verdict tw_open_active(struct tw_tcb *c, const struct tw_env *env,
                               const struct tw_addr *laddr, uint16_t lport,
                               const struct tw_addr *raddr, uint16_t rport, uint64_t now_us,
                               struct tw_out *out);
enum tw_verdict tw_send(struct tw_tcb *c, const struct tw_env *env, uint32_t len,
                        uint64_t now_us, struct tw_out *out);
enum tw_verdict tw_close(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out);
enum tw_verdict tw_abort(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out);
/* RECEIVE: take up to max of the bytes delivered in order; returns how many. */
uint32_t tw_read(struct tw_tcb *c, uint32_t max);
/* CLOSE by a user who reads nothing more (a socket's close(), not a
 * half-close): with received data still unread, RFC 1122 4.2.2.13 (SHOULD)
 * resets the connection, <SEQ=SND.NXT><CTL=RST>, to show the data was lost;
 * otherwise it is tw_close. */
enum tw_verdict tw_close_final(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                               struct tw_out *out);

/* SEGMENT ARRIVES (RFC 9293 3.10.7). seg must be addressed to this TCB
 * (the caller demultiplexes; see tw_closed_input for no TCB at all). */
enum tw_verdict tw_input(struct tw_tcb *c, const struct tw_env *env,
                         const struct tw_segment *seg, uint64_t now_us, struct tw_out *out);

/* Broadcast, multicast or unspecified (MUST-46, MUST-57). */
bool tw_addr_is_nonunicast(const struct tw_addr *a);

/* SEGMENT ARRIVES with no TCB (RFC 9293 3.10.7.1). */
enum tw_verdict tw_closed_input(const struct tw_segment *seg, struct tw_out *out);

/* ICMP error for this TCB (RFC 9293 3.9.2.2, RFC 5927, RFC 5461). */
enum tw_verdict tw_icmp_input(struct tw_tcb *c, const struct tw_env *env,
                              const struct tw_icmp *ic, uint64_t now_us, struct tw_out *out);

/* Timers: retransmission and establishment timeout, on injected time. */
enum tw_verdict tw_timer(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out);
/* The next time tw_timer has work, or 0 if none. */
uint64_t tw_next_deadline(const struct tw_tcb *c);

/* The peer's window, scaled where the segment is not a SYN (HS-WS-02). */
uint32_t tw_usable_window(const struct tw_tcb *c);

/* Graphviz rendering of the transition table; writes through put(ctx, text). */
void tw_diagram(void (*put)(void *ctx, const char *text), void *ctx);

#endif

/* The handshake state machine: RFC 9293 section 3.10, connection establishment.
 *
 * Each state has one input function, dispatched from state_input[], and each
 * follows the RFC's order of checks. Every state change goes through take(),
 * which only moves along a row of the transition table (TW_ROWS in tcp.h). */
#include <assert.h>
#include <string.h>

#include "seq.h"
#include "tcp.h"

#define TW_DATA_RETRIES 15
#define TW_RTO_AFTER_LOST_SYN_MS 3000u /* RFC 6298 (5.7) */
#define TW_TS_HZ_DIVISOR 1000u         /* TSval clock: 1 ms */

/* ---- tables and names ------------------------------------------------- */

const struct tw_row_info tw_rows[TW_ROW__COUNT] = {
#define TW_X(id_, from_, ev_, to_, req_, what_)                                                   \
    [TW_ROW_##id_] = {.id = #id_,                                                               \
                      .from = TW_##from_,                                                       \
                      .event = TW_EV_##ev_,                                                     \
                      .to = TW_##to_,                                                           \
                      .requirement = req_,                                                      \
                      .what = what_},
    TW_ROWS(TW_X)
#undef TW_X
};

static const char *const state_names[] = {
#define TW_X(name, text) [TW_##name] = text,
    TW_STATES(TW_X)
#undef TW_X
};

static const char *const event_names[] = {
#define TW_X(name, text) [TW_EV_##name] = text,
    TW_EVENTS(TW_X)
#undef TW_X
};

static const struct {
    const char *name, *req, *text;
} verdicts[] = {
#define TW_X(name_, req_, text_) [TW_V_##name_] = {#name_, req_, text_},
    TW_VERDICTS(TW_X)
#undef TW_X
};

const char *tw_state_name(enum tw_state s)
{
    return (unsigned)s < TW_STATE__COUNT ? state_names[s] : "?";
}

const char *tw_event_name(enum tw_event e)
{
    return (unsigned)e < TW_EV__COUNT ? event_names[e] : "?";
}

const char *tw_verdict_name(enum tw_verdict v)
{
    return (unsigned)v < TW_V__COUNT ? verdicts[v].name : "?";
}

const char *tw_verdict_requirement(enum tw_verdict v)
{
    return (unsigned)v < TW_V__COUNT ? verdicts[v].req : "?";
}

const char *tw_verdict_text(enum tw_verdict v)
{
    return (unsigned)v < TW_V__COUNT ? verdicts[v].text : "?";
}

/* ---- profile and environment ------------------------------------------ */

void tw_profile_default(struct tw_profile *p)
{
    *p = (struct tw_profile){
        .rfc5961 = true,
        .offer = TW_HAS_MSS | TW_HAS_SACKOK | TW_HAS_TS | TW_HAS_WSCALE,
        .wscale = 7,
        .window = 65535,
        .mtu = 1500,
        /* 1+2+4+8+16+32+60+60 s: the SYN is given up after 183 s, above
         * the 3 minutes MUST-20 asks for (HS-TMR-05). */
        .syn_retries = 7,
        .synack_retries = 5,
        .rto_initial_ms = 1000, /* RFC 6298 (2.1), HS-TMR-01 */
        .rto_max_ms = 60000,    /* MUST-19: a cap, if any, is at least 60 s */
        .user_timeout_ms = 0,
        .icmp_hard_abort = true,
        .icmp_soft_abort_syn_sent = false, /* MUST-56 */
        .validate_icmp_seq = true,         /* RFC 5927 */
        .synrcvd_syn_rst = false,
    };
}

void tw_profile_strict(struct tw_profile *p)
{
    tw_profile_default(p);
    p->rfc5961 = false;
}

void tw_env_init(struct tw_env *env)
{
    memset(env, 0, sizeof(*env));
    tw_profile_default(&env->profile);
    env->isn_mode = TW_ISN_RFC6528;
}

/* ---- helpers ----------------------------------------------------------- */

/* The one place a state changes: only along a row of the table. */
static void take(struct tw_tcb *c, enum tw_row r, struct tw_out *out)
{
    const struct tw_row_info *row = &tw_rows[r];
    assert(c->state == row->from);
    c->state = (uint8_t)row->to;
    out->rows[r / 64] |= (uint64_t)1 << (r % 64);
    if (row->to == TW_CLOSED || row->to == TW_LISTEN) {
        c->rtx_deadline_us = 0;
        c->open_deadline_us = 0;
    }
}

static bool addr_is_v4(const struct tw_addr *a) { return a->family == 4; }

/* Not a unicast address: broadcast, multicast, unspecified (MUST-46, MUST-57). */
bool tw_addr_is_nonunicast(const struct tw_addr *a)
{
    static const uint8_t zero[16];
    if (addr_is_v4(a)) {
        uint8_t b0 = a->bytes[0];
        return (b0 & 0xf0) == 0xe0 || memcmp(a->bytes, "\xff\xff\xff\xff", 4) == 0 ||
               memcmp(a->bytes, zero, 4) == 0;
    }
    if (a->family == 6)
        return a->bytes[0] == 0xff || memcmp(a->bytes, zero, 16) == 0;
    return true;
}

/* A source that cannot be a peer: non-unicast, or loopback from the wire
 * (RFC 1122 4.2.3.10, MUST-63). */
static bool addr_is_bad_source(const struct tw_addr *a)
{
    static const uint8_t loop6[16] = {[15] = 1};
    if (tw_addr_is_nonunicast(a))
        return true;
    if (addr_is_v4(a))
        return a->bytes[0] == 127;
    return memcmp(a->bytes, loop6, 16) == 0;
}

static uint32_t ts_now(const struct tw_tcb *c, uint64_t now_us)
{
    return (uint32_t)(now_us / TW_TS_HZ_DIVISOR) + c->ts_offset;
}

static uint16_t default_mss(const struct tw_addr *a)
{
    /* MUST-15: without an MSS option, 536 (IPv4) or 1220 (IPv6). */
    return addr_is_v4(a) ? 536 : 1220;
}

static uint16_t own_mss(const struct tw_env *env, const struct tw_addr *a)
{
    /* MUST-67: advertise at most MMS_R - 20, i.e. MTU minus the fixed IP
     * and TCP headers; option space is not subtracted (RFC 6691). */
    unsigned hdr = addr_is_v4(a) ? 40 : 60;
    unsigned mtu = env->profile.mtu > hdr ? env->profile.mtu : hdr + 1;
    return (uint16_t)(mtu - hdr);
}

static uint8_t own_wscale(const struct tw_env *env)
{
    return env->profile.wscale > 14 ? 14 : env->profile.wscale;
}

static struct tw_segment *reply(struct tw_out *out)
{
    /* TW_OUT_MAX bounds what one event can send; the model never needs
     * more, and an assert says so if that ever changes. */
    assert(out->n < TW_OUT_MAX);
    struct tw_segment *s = &out->seg[out->n++];
    memset(s, 0, sizeof(*s));
    return s;
}

/* A segment from this TCB. SYNs carry the handshake options; once TS is on,
 * every non-RST segment carries it (RFC 7323 3.2, HS-TS-03). */
static struct tw_segment *emit(struct tw_tcb *c, const struct tw_env *env, uint8_t flags,
                               uint32_t seq, uint32_t ack, uint16_t len, uint64_t now_us,
                               struct tw_out *out)
{
    struct tw_segment *s = reply(out);
    s->src = c->laddr;
    s->dst = c->raddr;
    s->sport = c->lport;
    s->dport = c->rport;
    s->seq = seq;
    s->ack = (flags & TW_ACK) ? ack : 0;
    s->flags = flags;
    s->payload_len = len;
    if (flags & TW_SYN) {
        /* HS-WS-02: the window of a SYN is never scaled. */
        s->window = (uint16_t)(c->rcv_wnd > 0xffff ? 0xffff : c->rcv_wnd);
        uint8_t offer = env->profile.offer;
        if (flags & TW_ACK) /* a SYN,ACK offers only what the SYN offered (HS-WS-01, TS-01, SACK-03) */
            offer &= (uint8_t)(c->peer_offer | TW_HAS_MSS);
        s->opt.has = offer & (TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS);
        s->opt.mss = c->rcv_mss;
        s->opt.wscale = own_wscale(env); /* HS-WS-05: at most 14 */
        s->opt.ts_val = ts_now(c, now_us);
        /* HS-TS-02: TSecr is 0 without ACK; a SYN,ACK echoes the SYN's TSval. */
        s->opt.ts_ecr = (flags & TW_ACK) ? c->ts_recent : 0;
        tw_options_encode(&s->opt);
    } else {
        s->window = (uint16_t)(c->rcv_wnd >> c->rcv_wscale);
        if ((c->flags & TW_TCB_TS_OK) && !(flags & TW_RST)) {
            s->opt.has = TW_HAS_TS;
            s->opt.ts_val = ts_now(c, now_us);
            s->opt.ts_ecr = c->ts_recent;
            tw_options_encode(&s->opt);
        }
    }
    return s;
}

static void send_ack(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                     struct tw_out *out)
{
    /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
    emit(c, env, TW_ACK, c->snd_nxt, c->rcv_nxt, 0, now_us, out);
}

static void send_syn(struct tw_tcb *c, const struct tw_env *env, bool with_ack, uint64_t now_us,
                     struct tw_out *out)
{
    /* <SEQ=ISS><CTL=SYN> or <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>; a
     * retransmission is the same segment (HS-TMR-07). */
    emit(c, env, with_ack ? (TW_SYN | TW_ACK) : TW_SYN, c->iss, c->rcv_nxt, 0, now_us, out);
}

/* A reset for a segment that does not belong here (RFC 9293 3.5.2): if it
 * has ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. Never in reply to a RST. */
static void send_reset_for(const struct tw_segment *seg, struct tw_out *out)
{
    assert(!(seg->flags & TW_RST));
    struct tw_segment *s = reply(out);
    s->src = seg->dst;
    s->dst = seg->src;
    s->sport = seg->dport;
    s->dport = seg->sport;
    if (seg->flags & TW_ACK) {
        s->seq = seg->ack;
        s->flags = TW_RST;
    } else {
        s->seq = 0;
        s->ack = seg->seq + tw_segment_len(seg); /* mod 2^32, HS-CLOSED-04 */
        s->flags = TW_RST | TW_ACK;
    }
}

static uint32_t choose_isn(const struct tw_tcb *c, const struct tw_env *env, uint64_t now_us)
{
    if (env->isn_mode == TW_ISN_FIXED)
        return env->isn_fixed;
    return tw_isn_rfc6528(env->secret, &c->laddr, c->lport, &c->raddr, c->rport, now_us);
}

static void arm_rtx(struct tw_tcb *c, uint64_t now_us)
{
    c->rtx_deadline_us = now_us + (uint64_t)c->rto_ms * 1000u;
}

static void start_opening(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us)
{
    c->iss = choose_isn(c, env, now_us);
    c->snd_una = c->iss;
    c->snd_nxt = c->iss + 1;
    c->rto_ms = env->profile.rto_initial_ms ? env->profile.rto_initial_ms : 1000;
    c->retries = 0;
    c->syn_time_us = now_us;
    arm_rtx(c, now_us);
    if (env->profile.user_timeout_ms)
        c->open_deadline_us = now_us + (uint64_t)env->profile.user_timeout_ms * 1000u;
}

/* Options of the peer's SYN (RFC 9293 3.7.1, RFC 7323 2.2/3.2, RFC 2018 2). */
static void learn_syn_options(struct tw_tcb *c, const struct tw_env *env,
                              const struct tw_segment *seg)
{
    uint8_t offer = env->profile.offer;
    c->peer_offer = seg->opt.has;
    /* MUST-15: default send MSS; MUST-16: no larger than our own MTU allows. */
    uint16_t mss = (seg->opt.has & TW_HAS_MSS) ? seg->opt.mss : default_mss(&c->raddr);
    uint16_t cap = own_mss(env, &c->raddr);
    if (mss > cap)
        mss = cap;
    if (c->path_mss && mss > c->path_mss) /* RFC 1191 / 8201: an ICMP lowered it */
        mss = c->path_mss;
    if (mss < 64) /* HS-MSS-06: clamp absurd values */
        mss = 64;
    c->snd_mss = mss;
    c->flags &= (uint8_t)~(TW_TCB_WS_OK | TW_TCB_TS_OK | TW_TCB_SACK_OK);
    /* An option is on only if our SYN offered it and the peer's SYN carried
     * it; a SYN,ACK answers only with what the SYN offered (HS-SIM-05). */
    if ((offer & TW_HAS_WSCALE) && (seg->opt.has & TW_HAS_WSCALE)) {
        c->flags |= TW_TCB_WS_OK;
        /* RFC 7323 2.3: a shift above 14 is used as 14 (HS-WS-03). */
        c->snd_wscale = seg->opt.wscale > 14 ? 14 : seg->opt.wscale;
        c->rcv_wscale = own_wscale(env);
    } else {
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    if ((offer & TW_HAS_TS) && (seg->opt.has & TW_HAS_TS)) {
        c->flags |= TW_TCB_TS_OK;
        c->ts_recent = seg->opt.ts_val; /* RFC 7323 4.3: TS.Recent from the SYN */
    }
    if ((offer & TW_HAS_SACKOK) && (seg->opt.has & TW_HAS_SACKOK))
        c->flags |= TW_TCB_SACK_OK;
}

/* RFC 6298 (2.2)/(2.4): first sample R gives RTO = SRTT + 4 * RTTVAR = 3R,
 * rounded up to 1 s. (5.7): if the SYN or SYN,ACK had to be retransmitted
 * and no sample disambiguates it (Karn, MUST-18), the RTO for data is 3 s. */
static void rto_after_handshake(struct tw_tcb *c, const struct tw_env *env,
                                const struct tw_segment *seg, uint64_t now_us)
{
    uint64_t rtt_ms;
    bool have_sample = false;
    if (!(c->flags & TW_TCB_SYN_RETRANS)) {
        rtt_ms = (now_us - c->syn_time_us) / 1000u;
        have_sample = true;
    } else if ((c->flags & TW_TCB_TS_OK) && (seg->opt.has & TW_HAS_TS) && seg->opt.ts_ecr) {
        rtt_ms = (uint32_t)(ts_now(c, now_us) - seg->opt.ts_ecr);
        have_sample = true;
    } else {
        rtt_ms = 0;
    }
    uint64_t rto;
    if (have_sample) {
        c->flags |= TW_TCB_HAVE_RTT;
        rto = 3 * rtt_ms;
        if (rto < 1000)
            rto = 1000;
    } else {
        rto = c->rto_ms < TW_RTO_AFTER_LOST_SYN_MS ? TW_RTO_AFTER_LOST_SYN_MS : c->rto_ms;
    }
    if (env->profile.rto_max_ms && rto > env->profile.rto_max_ms)
        rto = env->profile.rto_max_ms;
    c->rto_ms = (uint32_t)rto;
    c->retries = 0;
    c->rtx_deadline_us = 0;
    c->open_deadline_us = 0;
}

static uint32_t send_mss(const struct tw_tcb *c)
{
    /* MUST-16: effective MSS = send MSS - TCP options in use (TS: 12). */
    uint32_t mss = c->snd_mss;
    if ((c->flags & TW_TCB_TS_OK) && mss > 12)
        mss -= 12;
    return mss;
}

uint32_t tw_usable_window(const struct tw_tcb *c)
{
    uint32_t inflight = c->snd_nxt - c->snd_una;
    return c->snd_wnd > inflight ? c->snd_wnd - inflight : 0;
}

/* Send queued data within the peer's window and our MSS; then a queued FIN. */
static unsigned push_data(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                          struct tw_out *out)
{
    unsigned sent = 0;
    while (c->snd_queued > 0 && out->n < TW_OUT_MAX) {
        uint32_t len = c->snd_queued;
        uint32_t mss = send_mss(c);
        uint32_t wnd = tw_usable_window(c);
        if (len > mss)
            len = mss;
        if (len > wnd)
            len = wnd;
        if (len > TW_MAX_PAYLOAD)
            len = TW_MAX_PAYLOAD;
        if (len == 0)
            break;
        uint8_t flags = TW_ACK | (len == c->snd_queued ? TW_PSH : 0);
        emit(c, env, flags, c->snd_nxt, c->rcv_nxt, (uint16_t)len, now_us, out);
        c->snd_nxt += len;
        c->snd_queued -= len;
        sent++;
        if (!c->rtx_deadline_us)
            arm_rtx(c, now_us);
    }
    if (c->snd_queued == 0 && (c->flags & TW_TCB_FIN_PENDING) && out->n < TW_OUT_MAX) {
        emit(c, env, TW_FIN | TW_ACK, c->snd_nxt, c->rcv_nxt, 0, now_us, out);
        c->snd_nxt++;
        c->flags = (uint8_t)((c->flags & ~TW_TCB_FIN_PENDING) | TW_TCB_FIN_SENT);
        sent++;
    }
    return sent;
}

/* ---- user calls -------------------------------------------------------- */

enum tw_verdict tw_open_passive(struct tw_tcb *c, const struct tw_env *env,
                                const struct tw_addr *laddr, uint16_t lport, uint64_t now_us,
                                struct tw_out *out)
{
    (void)now_us;
    if (c->state != TW_CLOSED)
        return TW_V_CALL_ILLEGAL; /* "connection already exists" */
    memset(c, 0, sizeof(*c));
    if (laddr)
        c->laddr = *laddr; /* family 0: any local address (filled from the SYN) */
    c->lport = lport;
    c->rcv_wnd = env->profile.window;
    take(c, TW_ROW_T1, out);
    return TW_V_OPEN_LISTEN;
}

enum tw_verdict tw_open_active(struct tw_tcb *c, const struct tw_env *env,
                               const struct tw_addr *laddr, uint16_t lport,
                               const struct tw_addr *raddr, uint16_t rport, uint64_t now_us,
                               struct tw_out *out)
{
    if (c->state != TW_CLOSED && c->state != TW_LISTEN)
        return TW_V_CALL_ILLEGAL;
    /* MUST-46: an OPEN to a broadcast or multicast address fails locally. */
    if (!raddr || tw_addr_is_nonunicast(raddr) || rport == 0 || !laddr ||
        laddr->family != raddr->family)
        return TW_V_OPEN_BAD_REMOTE;
    enum tw_row row = c->state == TW_LISTEN ? TW_ROW_T10 : TW_ROW_T2;
    if (row == TW_ROW_T2)
        memset(c, 0, sizeof(*c));
    /* MUST-44/-45: the local address is fixed before the first SYN. */
    c->laddr = *laddr;
    c->lport = lport;
    c->raddr = *raddr;
    c->rport = rport;
    c->flags = 0;
    c->rcv_wnd = env->profile.window;
    c->rcv_mss = own_mss(env, raddr);
    start_opening(c, env, now_us);
    /* RFC 9293 3.10.1: <SEQ=ISS><CTL=SYN>; SND.UNA=ISS, SND.NXT=ISS+1. */
    send_syn(c, env, false, now_us, out);
    take(c, row, out);
    return TW_V_OPEN_SYN_SENT;
}

enum tw_verdict tw_send(struct tw_tcb *c, const struct tw_env *env, uint32_t len,
                        uint64_t now_us, struct tw_out *out)
{
    switch (c->state) {
    case TW_SYN_SENT:
    case TW_SYN_RECEIVED:
        /* RFC 9293 3.10.2: queue until ESTABLISHED (no TFO: HS-OPEN-05). */
        c->snd_queued += len;
        return TW_V_USER_SEND_QUEUED;
    case TW_ESTABLISHED:
    case TW_CLOSE_WAIT:
        c->snd_queued += len;
        push_data(c, env, now_us, out);
        return TW_V_USER_SEND_SENT;
    default:
        return TW_V_CALL_ILLEGAL;
    }
}

enum tw_verdict tw_close(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out)
{
    switch (c->state) {
    case TW_LISTEN:
        take(c, TW_ROW_T11, out);
        return TW_V_USER_CLOSE_DELETED;
    case TW_SYN_SENT:
        /* RFC 9293 3.10.4: delete the TCB, send nothing (HS-OPEN-06). */
        take(c, TW_ROW_T21, out);
        return TW_V_USER_CLOSE_DELETED;
    case TW_SYN_RECEIVED:
        /* RFC 9293 3.10.4: with nothing to send, FIN and FIN-WAIT-1;
         * otherwise the FIN waits for ESTABLISHED (HS-OPEN-08). */
        if (c->snd_queued) {
            c->flags |= TW_TCB_FIN_PENDING;
            return TW_V_USER_CLOSE_QUEUED;
        }
        emit(c, env, TW_FIN | TW_ACK, c->snd_nxt, c->rcv_nxt, 0, now_us, out);
        c->snd_nxt++;
        c->flags |= TW_TCB_FIN_SENT;
        take(c, TW_ROW_T36, out);
        return TW_V_USER_CLOSE_SEND_FIN;
    case TW_ESTABLISHED:
    case TW_CLOSE_WAIT:
        c->flags |= TW_TCB_FIN_PENDING;
        push_data(c, env, now_us, out);
        take(c, c->state == TW_ESTABLISHED ? TW_ROW_T43 : TW_ROW_E13, out);
        return (c->flags & TW_TCB_FIN_SENT) ? TW_V_USER_CLOSE_SEND_FIN : TW_V_USER_CLOSE_QUEUED;
    default:
        return TW_V_CALL_ILLEGAL;
    }
}

uint32_t tw_read(struct tw_tcb *c, uint32_t max)
{
    uint32_t avail = c->rcv_delivered - c->rcv_read;
    uint32_t n = avail < max ? avail : max;
    c->rcv_read += n;
    return n;
}

enum tw_verdict tw_close_final(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                               struct tw_out *out)
{
    /* RFC 1122 4.2.2.13: "If such a host issues a CLOSE call while received
     * data is still pending in TCP, ... its TCP SHOULD send a RST to show
     * that data was lost." Data is delivered only once synchronized. */
    if (c->rcv_delivered != c->rcv_read && (c->state == TW_ESTABLISHED || c->state == TW_CLOSE_WAIT)) {
        emit(c, env, TW_RST, c->snd_nxt, 0, 0, now_us, out);
        take(c, c->state == TW_ESTABLISHED ? TW_ROW_E14 : TW_ROW_E15, out);
        return TW_V_USER_CLOSE_UNREAD_SEND_RST;
    }
    return tw_close(c, env, now_us, out);
}

enum tw_verdict tw_abort(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out)
{
    static const enum tw_row sync_rows[TW_STATE__COUNT] = {
        [TW_SYN_RECEIVED] = TW_ROW_T37,
        [TW_ESTABLISHED] = TW_ROW_T44,
        [TW_FIN_WAIT_1] = TW_ROW_E11,
        [TW_CLOSE_WAIT] = TW_ROW_E12,
    };
    switch (c->state) {
    case TW_LISTEN:
        take(c, TW_ROW_T11A, out);
        return TW_V_USER_ABORT_DELETED;
    case TW_SYN_SENT:
        take(c, TW_ROW_T21A, out); /* RFC 9293 3.10.5: no segment (HS-OPEN-07) */
        return TW_V_USER_ABORT_DELETED;
    case TW_SYN_RECEIVED:
    case TW_ESTABLISHED:
    case TW_FIN_WAIT_1:
    case TW_CLOSE_WAIT:
        /* RFC 9293 3.10.5: <SEQ=SND.NXT><CTL=RST>. */
        emit(c, env, TW_RST, c->snd_nxt, 0, 0, now_us, out);
        take(c, sync_rows[c->state], out);
        return TW_V_USER_ABORT_SEND_RST;
    default:
        return TW_V_CALL_ILLEGAL;
    }
}

/* ---- SEGMENT ARRIVES ---------------------------------------------------- */

/* A row whose state does not change, taken where there may be no TCB. */
static void mark(struct tw_out *out, enum tw_row r)
{
    assert(tw_rows[r].from == tw_rows[r].to);
    out->rows[r / 64] |= (uint64_t)1 << (r % 64);
}

enum tw_verdict tw_closed_input(const struct tw_segment *seg, struct tw_out *out)
{
    /* RFC 9293 3.10.7.1: all data is discarded. An incoming RST is
     * discarded (HS-CLOSED-03); any other segment draws a reset. */
    if (seg->flags & TW_RST) {
        mark(out, TW_ROW_T3);
        return TW_V_CLOSED_RST_DROPPED;
    }
    /* MUST-57, RFC 1122 4.2.3.10: nothing addressed to (or claiming to come
     * from) a broadcast or multicast address is ever answered. */
    if (tw_addr_is_nonunicast(&seg->dst) || addr_is_bad_source(&seg->src)) {
        mark(out, TW_ROW_E3C);
        return TW_V_NON_UNICAST_DROPPED;
    }
    send_reset_for(seg, out);
    if (seg->flags & TW_ACK) {
        mark(out, TW_ROW_T5);
        return TW_V_CLOSED_SEND_RST;
    }
    mark(out, TW_ROW_T4);
    return TW_V_CLOSED_SEND_RST_ACK;
}

static enum tw_verdict input_closed(struct tw_tcb *c, const struct tw_env *env,
                                    const struct tw_segment *seg, uint64_t now_us,
                                    struct tw_out *out)
{
    (void)c;
    (void)env;
    (void)now_us;
    return tw_closed_input(seg, out);
}

static enum tw_verdict input_listen(struct tw_tcb *c, const struct tw_env *env,
                                    const struct tw_segment *seg, uint64_t now_us,
                                    struct tw_out *out)
{
    /* RFC 9293 3.10.7.2, first: check for a RST: ignore it (HS-LISTEN-01). */
    if (seg->flags & TW_RST) {
        take(c, TW_ROW_T6, out);
        return TW_V_LISTEN_RST_IGNORED;
    }
    /* MUST-57/-63, RFC 1122 3.2.1.3: nothing to or from a non-unicast
     * address is answered, a SYN (step 3) or an ACK (step 2) alike. */
    if (tw_addr_is_nonunicast(&seg->dst) || addr_is_bad_source(&seg->src)) {
        take(c, TW_ROW_E0, out);
        return TW_V_LISTEN_BAD_ADDRESS_DROPPED;
    }
    /* Second: check for an ACK: any ACK is bad here; <SEQ=SEG.ACK><CTL=RST>. */
    if (seg->flags & TW_ACK) {
        send_reset_for(seg, out);
        take(c, TW_ROW_T7, out);
        return TW_V_LISTEN_ACK_SEND_RST;
    }
    /* Third: check for a SYN. (The security check is MLS-only and left out.) */
    if (seg->flags & TW_SYN) {
        /* Fill in the unspecified socket from the SYN (MUST-45: our side is
         * the address the SYN was sent to, HS-LISTEN-10). */
        c->laddr = seg->dst;
        c->raddr = seg->src;
        c->rport = seg->sport;
        c->irs = seg->seq;
        c->rcv_nxt = seg->seq + 1;
        c->rcv_wnd = env->profile.window;
        c->rcv_mss = own_mss(env, &c->raddr);
        learn_syn_options(c, env, seg);
        c->flags |= TW_TCB_PASSIVE;
        c->snd_wnd = seg->window; /* a SYN's window is never scaled */
        c->max_snd_wnd = seg->window;
        c->snd_wl1 = seg->seq;
        start_opening(c, env, now_us);
        c->snd_wl2 = c->iss;
        /* <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. Text and FIN on the SYN would be
         * queued, but they came without ACK and SYN-RECEIVED step 5 drops
         * them: they are never acknowledged (HS-LISTEN-04, HS-LISTEN-06). */
        send_syn(c, env, true, now_us, out);
        take(c, TW_ROW_T8, out);
        return TW_V_LISTEN_SYN_SEND_SYNACK;
    }
    /* Fourth: other text or control: drop (HS-LISTEN-07). */
    take(c, TW_ROW_T9, out);
    return TW_V_LISTEN_NO_CONTROL_DROPPED;
}

static enum tw_verdict input_syn_sent(struct tw_tcb *c, const struct tw_env *env,
                                      const struct tw_segment *seg, uint64_t now_us,
                                      struct tw_out *out);
static enum tw_verdict input_synchronized(struct tw_tcb *c, const struct tw_env *env,
                                          const struct tw_segment *seg, uint64_t now_us,
                                          struct tw_out *out);

/* Text and FIN once the connection is synchronized (RFC 9293 3.10.7.4
 * seventh and eighth). Returns true if something needs acknowledging. */
static bool accept_text_and_fin(struct tw_tcb *c, const struct tw_segment *seg,
                                struct tw_out *out)
{
    bool ack_needed = false;
    uint32_t seq = seg->seq + ((seg->flags & TW_SYN) ? 1u : 0u);
    uint32_t end = seq + seg->payload_len;
    bool can_take_text = c->state == TW_ESTABLISHED || c->state == TW_FIN_WAIT_1;
    if (seg->payload_len) {
        ack_needed = true;
        /* Accept the part that starts at RCV.NXT and fits the window. */
        if (can_take_text && seq_leq(seq, c->rcv_nxt) && seq_gt(end, c->rcv_nxt)) {
            uint32_t fresh = end - c->rcv_nxt;
            if (fresh > c->rcv_wnd)
                fresh = c->rcv_wnd;
            c->rcv_nxt += fresh;
            c->rcv_delivered += fresh;
        }
    }
    if ((seg->flags & TW_FIN) && c->rcv_nxt == end &&
        (c->state == TW_ESTABLISHED || c->state == TW_FIN_WAIT_1)) {
        /* Eighth: the FIN is in sequence: advance RCV.NXT over it, ack it. */
        c->rcv_nxt += 1;
        ack_needed = true;
        if (c->state == TW_ESTABLISHED)
            take(c, TW_ROW_T42, out);
        /* FIN-WAIT-1 -> CLOSING / TIME-WAIT is teardown, outside the model. */
    } else if (seg->flags & TW_FIN) {
        ack_needed = true;
    }
    return ack_needed;
}

static enum tw_verdict input_syn_sent(struct tw_tcb *c, const struct tw_env *env,
                                      const struct tw_segment *seg, uint64_t now_us,
                                      struct tw_out *out)
{
    bool has_ack = seg->flags & TW_ACK;
    /* RFC 9293 3.10.7.3, first: check the ACK bit. Acceptable iff
     * SND.UNA < SEG.ACK =< SND.NXT (here SND.UNA = ISS). */
    if (has_ack && !seq_in_open_closed(c->snd_una, seg->ack, c->snd_nxt)) {
        if (seg->flags & TW_RST) { /* never a RST for a RST (HS-SYNSENT-02) */
            take(c, TW_ROW_T13, out);
            return TW_V_SYNSENT_ACK_UNACCEPTABLE_RST_DROPPED;
        }
        send_reset_for(seg, out); /* <SEQ=SEG.ACK><CTL=RST> (HS-SYNSENT-01) */
        take(c, TW_ROW_T12, out);
        return TW_V_SYNSENT_ACK_UNACCEPTABLE_SEND_RST;
    }
    /* Second: check the RST bit. With an acceptable ACK the connection is
     * refused (HS-SYNSENT-03); without an ACK the RST is dropped (-04).
     * SEG.SEQ is not checked: RFC 5961 3.2 exempts SYN-SENT (HS-SYNSENT-05). */
    if (seg->flags & TW_RST) {
        if (!has_ack) {
            take(c, TW_ROW_T15, out);
            return TW_V_SYNSENT_RST_NO_ACK_DROPPED;
        }
        c->error = TW_ERR_REFUSED;
        take(c, TW_ROW_T14, out);
        return TW_V_SYNSENT_RST_REFUSED;
    }
    /* Third: security (MLS only): left out. Fourth: check the SYN bit. */
    if (!(seg->flags & TW_SYN)) {
        /* Fifth: neither SYN nor RST: drop (HS-SYNSENT-09). */
        take(c, TW_ROW_T18, out);
        return TW_V_SYNSENT_NO_SYN_DROPPED;
    }
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    learn_syn_options(c, env, seg);
    if (has_ack) {
        /* Our SYN is acknowledged: ESTABLISHED (HS-SYNSENT-06). SND.WND from
         * the SYN,ACK, never scaled (HS-SYNSENT-07, HS-WS-02). */
        c->snd_una = seg->ack;
        c->snd_wnd = seg->window;
        c->max_snd_wnd = seg->window;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        rto_after_handshake(c, env, seg, now_us);
        take(c, TW_ROW_T16, out);
        /* Sixth to eighth: text and FIN on the SYN,ACK (HS-SYNSENT-08). */
        accept_text_and_fin(c, seg, out);
        /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, or queued data carrying it. */
        if (!push_data(c, env, now_us, out))
            send_ack(c, env, now_us, out);
        return TW_V_SYNSENT_SYNACK_ESTABLISHED;
    }
    /* Crossed SYNs: simultaneous open (MUST-10, HS-SIM-01). Text and FIN
     * are left for after ESTABLISHED, i.e. not acknowledged now. */
    c->snd_wnd = seg->window;
    c->max_snd_wnd = seg->window;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    send_syn(c, env, true, now_us, out);
    take(c, TW_ROW_T17, out);
    return TW_V_SYNSENT_SYN_SIMULTANEOUS_OPEN;
}

/* RFC 9293 3.10.7.4 Table 6: segment acceptability. */
static bool seq_acceptable(const struct tw_tcb *c, const struct tw_segment *seg)
{
    uint32_t len = (seg->flags & TW_RST) ? 0 : tw_segment_len(seg);
    uint32_t wnd = c->rcv_wnd;
    if (len == 0)
        return wnd == 0 ? seg->seq == c->rcv_nxt : seq_in_window(c->rcv_nxt, seg->seq, wnd);
    if (wnd == 0)
        return false;
    return seq_in_window(c->rcv_nxt, seg->seq, wnd) ||
           seq_in_window(c->rcv_nxt, seg->seq + len - 1, wnd);
}

/* Rows for the same decision in each synchronized state. */
enum sync_kind { K_STAY_DROP, K_RESET };
static enum tw_row sync_row(const struct tw_tcb *c, enum sync_kind k)
{
    switch (c->state) {
    case TW_ESTABLISHED:
        return k == K_RESET ? TW_ROW_T38 : TW_ROW_E2;
    case TW_FIN_WAIT_1:
        return k == K_RESET ? TW_ROW_E8 : TW_ROW_E7;
    default:
        return k == K_RESET ? TW_ROW_E10 : TW_ROW_E9;
    }
}

static enum tw_verdict input_synchronized(struct tw_tcb *c, const struct tw_env *env,
                                          const struct tw_segment *seg, uint64_t now_us,
                                          struct tw_out *out)
{
    const struct tw_profile *p = &env->profile;
    bool synrcvd = c->state == TW_SYN_RECEIVED;
    bool passive = c->flags & TW_TCB_PASSIVE;
    bool is_rst = seg->flags & TW_RST;

    /* RFC 7323 3.2: on a TS connection a non-RST segment without TS
     * should be dropped silently (HS-TS-04). */
    if ((c->flags & TW_TCB_TS_OK) && !is_rst && !(seg->opt.has & TW_HAS_TS)) {
        take(c, synrcvd ? TW_ROW_E30 : sync_row(c, K_STAY_DROP), out);
        return TW_V_TS_MISSING_DROPPED;
    }
    /* RFC 7323 5.3 R1 (PAWS), before the sequence check; RSTs are exempt
     * (HS-TS-07). An old TSval: ACK and drop (HS-TS-06). */
    if ((c->flags & TW_TCB_TS_OK) && !is_rst && seq_lt(seg->opt.ts_val, c->ts_recent)) {
        send_ack(c, env, now_us, out);
        take(c, synrcvd ? TW_ROW_T23 : sync_row(c, K_STAY_DROP), out);
        return TW_V_PAWS_SEND_ACK;
    }

    /* First: check the sequence number (Table 6). */
    if (!seq_acceptable(c, seg)) {
        if (is_rst) {
            take(c, synrcvd ? TW_ROW_T24 : sync_row(c, K_STAY_DROP), out);
            return TW_V_SEQ_UNACCEPTABLE_RST_DROPPED;
        }
        send_ack(c, env, now_us, out); /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> */
        take(c, synrcvd ? TW_ROW_T23 : sync_row(c, K_STAY_DROP), out);
        return TW_V_SEQ_UNACCEPTABLE_SEND_ACK;
    }

    /* Second: check the RST bit. With RFC 5961 (3.2) only an exact
     * SEG.SEQ == RCV.NXT resets; another in-window one draws a challenge
     * ACK. Strict RFC 9293: any in-window RST resets. */
    if (is_rst) {
        if (p->rfc5961 && seg->seq != c->rcv_nxt) {
            send_ack(c, env, now_us, out);
            take(c, synrcvd ? TW_ROW_T27 : c->state == TW_ESTABLISHED ? TW_ROW_T39 : sync_row(c, K_STAY_DROP), out);
            return TW_V_RST_CHALLENGE_ACK;
        }
        if (synrcvd && passive) {
            /* Back to LISTEN, the user need not be told (HS-SYNRCVD-07). */
            take(c, TW_ROW_T25, out);
            return TW_V_RST_BACK_TO_LISTEN;
        }
        if (synrcvd) {
            c->error = TW_ERR_REFUSED; /* MUST-11: active origin (HS-SIM-03) */
            take(c, TW_ROW_T26, out);
            return TW_V_RST_REFUSED;
        }
        c->error = TW_ERR_RESET;
        take(c, sync_row(c, K_RESET), out);
        return TW_V_RST_RESET;
    }

    /* Third: security and compartment: MLS only, left out. Fourth: SYN. */
    if (seg->flags & TW_SYN) {
        if (synrcvd && passive) {
            /* Return to LISTEN (HS-SYNRCVD-06). RFC 793 and Linux also
             * send a reset: a profile choice. */
            if (p->synrcvd_syn_rst)
                send_reset_for(seg, out);
            take(c, TW_ROW_T28, out);
            return TW_V_SYN_BACK_TO_LISTEN;
        }
        if (p->rfc5961) {
            /* RFC 5961 4.2: challenge ACK whatever the sequence number. */
            send_ack(c, env, now_us, out);
            take(c, synrcvd ? TW_ROW_T29C : c->state == TW_ESTABLISHED ? TW_ROW_T40C : sync_row(c, K_STAY_DROP), out);
            return TW_V_SYN_CHALLENGE_ACK;
        }
        /* RFC 793 behaviour: an in-window SYN is an error: reset. */
        send_reset_for(seg, out);
        c->error = TW_ERR_RESET;
        take(c, synrcvd ? TW_ROW_T29S : c->state == TW_ESTABLISHED ? TW_ROW_T40S : sync_row(c, K_RESET), out);
        return TW_V_SYN_SEND_RST_RESET;
    }

    /* Fifth: check the ACK field. Without ACK: drop. */
    if (!(seg->flags & TW_ACK)) {
        take(c, synrcvd ? TW_ROW_T30 : sync_row(c, K_STAY_DROP), out);
        return TW_V_ACK_BIT_OFF_DROPPED;
    }
    /* RFC 5961 5.2 (MAY-12): SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT,
     * otherwise ACK and drop. */
    if (p->rfc5961 &&
        !seq_in_window(c->snd_una - c->max_snd_wnd, seg->ack, c->max_snd_wnd + (c->snd_nxt - c->snd_una) + 1)) {
        send_ack(c, env, now_us, out);
        take(c, synrcvd ? TW_ROW_T31 : c->state == TW_ESTABLISHED ? TW_ROW_T41 : sync_row(c, K_STAY_DROP), out);
        return TW_V_ACK_OUTSIDE_5961_SEND_ACK;
    }
    enum tw_verdict verdict = TW_V_SEGMENT_ACCEPTED;
    if (synrcvd) {
        if (!seq_in_open_closed(c->snd_una, seg->ack, c->snd_nxt)) {
            /* <SEQ=SEG.ACK><CTL=RST>, state kept (HS-SYNRCVD-02). */
            send_reset_for(seg, out);
            take(c, TW_ROW_T33, out);
            return TW_V_SYNRCVD_ACK_UNACCEPTABLE_SEND_RST;
        }
        /* ESTABLISHED; SND.WND = SEG.WND, scaled now (HS-SYNRCVD-01). */
        c->snd_una = seg->ack;
        c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
        if (c->snd_wnd > c->max_snd_wnd)
            c->max_snd_wnd = c->snd_wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        rto_after_handshake(c, env, seg, now_us);
        /* What we advertise from now on is scaled; keep RCV.WND exact. */
        c->rcv_wnd = (c->rcv_wnd >> c->rcv_wscale) << c->rcv_wscale;
        take(c, TW_ROW_T32, out);
        verdict = TW_V_SYNRCVD_ACK_ESTABLISHED;
    } else if (seq_gt(seg->ack, c->snd_nxt)) {
        /* An ACK of data not yet sent: ACK, drop (HS-EST-04). */
        send_ack(c, env, now_us, out);
        take(c, c->state == TW_ESTABLISHED ? TW_ROW_T41 : sync_row(c, K_STAY_DROP), out);
        return TW_V_ACK_TOO_NEW_SEND_ACK;
    } else if (seq_lt(seg->ack, c->snd_una)) {
        verdict = TW_V_ACK_DUPLICATE; /* ignored; text still processed */
    } else {
        if (seq_gt(seg->ack, c->snd_una)) {
            c->snd_una = seg->ack;
            c->retries = 0;
            c->rtx_deadline_us = c->snd_una == c->snd_nxt ? 0 : now_us + (uint64_t)c->rto_ms * 1000u;
        }
        /* Window update rule (RFC 9293 3.10.7.4 fifth). */
        if (seq_lt(c->snd_wl1, seg->seq) ||
            (c->snd_wl1 == seg->seq && seq_leq(c->snd_wl2, seg->ack))) {
            c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
            if (c->snd_wnd > c->max_snd_wnd)
                c->max_snd_wnd = c->snd_wnd;
            c->snd_wl1 = seg->seq;
            c->snd_wl2 = seg->ack;
        }
    }
    if ((c->flags & TW_TCB_TS_OK) && seq_leq(seg->seq, c->rcv_nxt))
        c->ts_recent = seg->opt.ts_val; /* RFC 7323 4.3 */

    /* Sixth (URG) has no effect on the handshake. Seventh, eighth: text, FIN. */
    enum tw_state before = (enum tw_state)c->state;
    bool ack_needed = accept_text_and_fin(c, seg, out);
    if (before == TW_ESTABLISHED && c->state == TW_CLOSE_WAIT)
        verdict = verdict == TW_V_SYNRCVD_ACK_ESTABLISHED ? verdict : TW_V_FIN_CLOSE_WAIT;
    else if (c->state == TW_ESTABLISHED && verdict != TW_V_SYNRCVD_ACK_ESTABLISHED)
        take(c, TW_ROW_E1, out);
    else if (c->state == TW_FIN_WAIT_1)
        take(c, TW_ROW_E7, out);
    else if (c->state == TW_CLOSE_WAIT && before == TW_CLOSE_WAIT)
        take(c, TW_ROW_E9, out);
    unsigned sent = push_data(c, env, now_us, out);
    if (ack_needed && !sent)
        send_ack(c, env, now_us, out);
    return verdict;
}

typedef enum tw_verdict (*input_fn)(struct tw_tcb *, const struct tw_env *,
                                    const struct tw_segment *, uint64_t, struct tw_out *);

static const input_fn state_input[TW_STATE__COUNT] = {
    [TW_CLOSED] = input_closed,
    [TW_LISTEN] = input_listen,
    [TW_SYN_SENT] = input_syn_sent,
    [TW_SYN_RECEIVED] = input_synchronized,
    [TW_ESTABLISHED] = input_synchronized,
    [TW_FIN_WAIT_1] = input_synchronized,
    [TW_CLOSE_WAIT] = input_synchronized,
};

enum tw_verdict tw_input(struct tw_tcb *c, const struct tw_env *env,
                         const struct tw_segment *seg, uint64_t now_us, struct tw_out *out)
{
    assert(c->state < TW_STATE__COUNT);
    return state_input[c->state](c, env, seg, now_us, out);
}

/* ---- ICMP --------------------------------------------------------------- */

enum tw_verdict tw_icmp_input(struct tw_tcb *c, const struct tw_env *env,
                              const struct tw_icmp *ic, uint64_t now_us, struct tw_out *out)
{
    (void)now_us;
    const struct tw_profile *p = &env->profile;
    enum tw_row stay, abort_row;
    switch (c->state) {
    case TW_SYN_SENT:
        stay = TW_ROW_E22;
        abort_row = TW_ROW_T22;
        break;
    case TW_SYN_RECEIVED:
        stay = TW_ROW_E38;
        abort_row = (c->flags & TW_TCB_PASSIVE) ? TW_ROW_E37P : TW_ROW_E37;
        break;
    case TW_ESTABLISHED:
        stay = TW_ROW_E6;
        abort_row = TW_ROW_E5;
        break;
    default:
        return TW_V_ICMP_NO_CONNECTION;
    }
    /* MUST-55: source quench is dropped silently (HS-ICMP-02). */
    if (ic->cls == TW_ICMP_QUENCH) {
        take(c, stay, out);
        return TW_V_ICMP_QUENCH_DROPPED;
    }
    /* RFC 5927 4.1: act only if SND.UNA =< quoted SEQ < SND.NXT (HS-ICMP-01). */
    if (p->validate_icmp_seq && !seq_in_window(c->snd_una, ic->q_seq, c->snd_nxt - c->snd_una)) {
        take(c, stay, out);
        return TW_V_ICMP_SEQ_INVALID_DROPPED;
    }
    if (ic->cls == TW_ICMP_PMTU) {
        /* RFC 1191 / 8201: lower the MSS; never abort (HS-ICMP-04). */
        unsigned hdr = addr_is_v4(&c->raddr) ? 40 : 60;
        if (ic->mtu > hdr && ic->mtu - hdr <= 0xffff) {
            uint16_t mss = (uint16_t)(ic->mtu - hdr);
            if (!c->path_mss || mss < c->path_mss)
                c->path_mss = mss;
            if (c->snd_mss && mss < c->snd_mss)
                c->snd_mss = mss;
        }
        take(c, stay, out);
        return TW_V_ICMP_PMTU;
    }
    bool hard = ic->cls == TW_ICMP_HARD;
    bool aborts = hard ? p->icmp_hard_abort
                       : (c->state == TW_SYN_SENT && p->icmp_soft_abort_syn_sent);
    if (!aborts) {
        /* MUST-56: a soft error never aborts; remember it for the user. */
        c->error = TW_ERR_SOFT;
        take(c, stay, out);
        return TW_V_ICMP_SOFT_REPORTED;
    }
    bool port_unreach = (ic->family == 4 && ic->type == 3 && ic->code == 3) ||
                        (ic->family == 6 && ic->type == 1 && ic->code == 4);
    c->error = port_unreach ? TW_ERR_REFUSED : TW_ERR_UNREACH;
    take(c, abort_row, out);
    return TW_V_ICMP_HARD_ABORT;
}

/* ---- timers ------------------------------------------------------------- */

uint64_t tw_next_deadline(const struct tw_tcb *c)
{
    uint64_t a = c->rtx_deadline_us, b = c->open_deadline_us;
    if (!a)
        return b;
    if (!b)
        return a;
    return a < b ? a : b;
}

static enum tw_verdict give_up(struct tw_tcb *c, struct tw_out *out)
{
    enum tw_row row;
    switch (c->state) {
    case TW_SYN_SENT:
        row = TW_ROW_T20;
        break;
    case TW_SYN_RECEIVED:
        row = (c->flags & TW_TCB_PASSIVE) ? TW_ROW_T35P : TW_ROW_T35A;
        break;
    default:
        row = TW_ROW_E4;
        break;
    }
    if (c->error != TW_ERR_SOFT)
        c->error = TW_ERR_TIMEOUT;
    take(c, row, out);
    return TW_V_TIMER_GIVE_UP;
}

enum tw_verdict tw_timer(struct tw_tcb *c, const struct tw_env *env, uint64_t now_us,
                         struct tw_out *out)
{
    const struct tw_profile *p = &env->profile;
    bool opening = c->state == TW_SYN_SENT || c->state == TW_SYN_RECEIVED;
    if (!opening)
        c->open_deadline_us = 0; /* only establishment is timed */
    if (opening && c->open_deadline_us && now_us >= c->open_deadline_us)
        return give_up(c, out); /* the connection-establishment timeout */
    if (!c->rtx_deadline_us || now_us < c->rtx_deadline_us)
        return TW_V_TIMER_NOT_DUE;
    if (c->state != TW_ESTABLISHED && !opening) {
        c->rtx_deadline_us = 0; /* teardown timers are outside the model */
        return TW_V_TIMER_NOT_DUE;
    }
    unsigned limit = c->state == TW_SYN_SENT       ? p->syn_retries
                     : c->state == TW_SYN_RECEIVED ? p->synack_retries
                                                   : TW_DATA_RETRIES;
    if (c->retries >= limit)
        return give_up(c, out); /* R2 reached (MUST-20, HS-TMR-05) */
    c->retries++;
    /* RFC 6298 (5.5): back off the timer, up to the cap (MUST-19). */
    uint64_t rto = (uint64_t)c->rto_ms * 2;
    if (p->rto_max_ms && rto > p->rto_max_ms)
        rto = p->rto_max_ms;
    c->rto_ms = (uint32_t)rto;
    arm_rtx(c, now_us);
    if (opening) {
        c->flags |= TW_TCB_SYN_RETRANS;
        bool synack = c->state == TW_SYN_RECEIVED;
        send_syn(c, env, synack, now_us, out);
        take(c, synack ? TW_ROW_T34 : TW_ROW_T19, out);
        return synack ? TW_V_TIMER_RESEND_SYNACK : TW_V_TIMER_RESEND_SYN;
    }
    uint32_t inflight = c->snd_nxt - c->snd_una;
    uint32_t len = inflight < send_mss(c) ? inflight : send_mss(c);
    if (len > TW_MAX_PAYLOAD)
        len = TW_MAX_PAYLOAD;
    emit(c, env, TW_ACK | TW_PSH, c->snd_una, c->rcv_nxt, (uint16_t)len, now_us, out);
    take(c, TW_ROW_E3, out);
    return TW_V_TIMER_RESEND_DATA;
}

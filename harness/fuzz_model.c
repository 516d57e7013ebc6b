/* See fuzz_model.h. Oracles, checked after every event:
 *  - a TCB's state moves only along rows of the transition table, and the
 *    rows an event reports lead from the old state to the new one;
 *  - SND.UNA =< SND.NXT, and the flight is no larger than what was sent;
 *  - D never acknowledges sequence space H did not send;
 *  - RSTs D sends in reply follow RFC 9293 3.5.2 (SEQ=SEG.ACK, or SEQ=0
 *    ACK=SEG.SEQ+SEG.LEN), and never answer a RST;
 *  - no timer is armed in CLOSED or LISTEN;
 *  - every segment D sends is well formed: no SYN with RST or FIN, SYNs
 *    carry ISS, MSS/WS/SACK-permitted only on SYNs, TS on every non-RST
 *    segment of a TS connection, and it survives build -> parse -> compare
 *    with a valid checksum. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "fuzz_model.h"
#include "seq.h"

#define D_PORT 8080
#define H_PORT 40000

struct reader {
    const uint8_t *p;
    size_t n, i;
};

static uint8_t rd8(struct reader *r) { return r->i < r->n ? r->p[r->i++] : 0; }
static uint16_t rd16(struct reader *r) { return (uint16_t)(rd8(r) << 8 | rd8(r)); }
static uint32_t rd32(struct reader *r) { return (uint32_t)rd16(r) << 16 | rd16(r); }

struct fz {
    struct tw_host host;
    struct tw_addr d_addr, h_addr;
    uint32_t h_isn;
    /* Sequence ranges H has sent: D may only acknowledge inside them. */
    uint32_t h_seq[256], h_len[256];
    unsigned h_n;
    uint32_t h_ts;         /* H's timestamp clock */
    uint32_t d_last_tsval; /* D's last TSval, for H's TSecr */
    int listener, conn;    /* slots, or TW_NO_SLOT */
    bool conn_accepted;
    uint64_t now;
    struct tw_fz_result *res;
    tw_fz_trace_fn trace;
    void *ctx;
};

static int fail(struct fz *f, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(f->res->message, sizeof(f->res->message), "step %u: ", f->res->steps);
    va_start(ap, fmt);
    vsnprintf(f->res->message + n, sizeof(f->res->message) - (size_t)n, fmt, ap);
    va_end(ap);
    return -1;
}

static void emit_trace(struct fz *f, struct tw_fz_event *ev)
{
    ev->now_us = f->now;
    if (f->trace)
        f->trace(f->ctx, ev);
}

/* The rows reported lead from `from` to `to` (each row used once). */
static bool rows_form_path(const struct tw_out *o, enum tw_state from, enum tw_state to)
{
    uint64_t left[2] = {o->rows[0], o->rows[1]};
    enum tw_state cur = from;
    for (int step = 0; step < 4; step++) {
        bool moved = false;
        for (int r = 0; r < TW_ROW__COUNT && !moved; r++) {
            if (((left[r / 64] >> (r % 64)) & 1) && tw_rows[r].from == cur) {
                left[r / 64] &= ~((uint64_t)1 << (r % 64));
                cur = tw_rows[r].to;
                moved = true;
            }
        }
        if (!moved)
            break;
    }
    return cur == to && !left[0] && !left[1];
}

/* seq < ack <= seq + len for some segment H sent (the last 256 kept). */
static bool h_sent(const struct fz *f, uint32_t ack)
{
    unsigned n = f->h_n < 256 ? f->h_n : 256;
    for (unsigned i = 0; i < n; i++)
        if (ack - f->h_seq[i] - 1u < f->h_len[i])
            return true;
    return f->h_n > 256; /* forgotten history: do not judge */
}

static int check_output(struct fz *f, const struct tw_tcb *c, const struct tw_segment *in,
                        const struct tw_out *o)
{
    for (unsigned i = 0; i < o->n; i++) {
        const struct tw_segment *s = &o->seg[i];
        char text[320];
        /* Rendered only for a failure: the fuzzer's hot path stays cheap. */
#define TEXT (tw_segment_render(s, text, sizeof(text)), text)
        if ((s->flags & TW_SYN) && (s->flags & (TW_RST | TW_FIN)))
            return fail(f, "D sent SYN with RST or FIN: %s", TEXT);
        if (!(s->flags & TW_SYN) && (s->opt.has & (TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK)))
            return fail(f, "MSS/WS/SACK-permitted on a non-SYN (HS-MSS-02, HS-SACK-01): %s", TEXT);
        if (c && (s->flags & TW_SYN) && s->seq != c->iss)
            return fail(f, "a SYN with seq != ISS %u: %s", c->iss, TEXT);
        if (c && (c->flags & TW_TCB_TS_OK) && !(s->flags & TW_RST) && !(s->opt.has & TW_HAS_TS))
            return fail(f, "TS missing on a TS connection (HS-TS-03): %s", TEXT);
        if ((s->flags & TW_ACK) && !(s->flags & TW_RST) && !h_sent(f, s->ack))
            return fail(f, "D acknowledges %u, sequence space H never sent: %s", s->ack, TEXT);
        if ((s->flags & TW_RST) && in) {
            if (in->flags & TW_RST)
                return fail(f, "RST in reply to RST (HS-RST-01): %s", TEXT);
            bool by_ack = (in->flags & TW_ACK) && s->flags == TW_RST && s->seq == in->ack;
            bool by_len = !(in->flags & TW_ACK) && s->flags == (TW_RST | TW_ACK) && s->seq == 0 &&
                          s->ack == in->seq + tw_segment_len(in);
            bool by_abort = c && s->flags == TW_RST && s->seq == c->snd_nxt;
            if (!by_ack && !by_len && !by_abort)
                return fail(f, "RST does not follow RFC 9293 3.5.2: %s", TEXT);
        }
        /* Codec oracle: build, parse with the checksum verified, compare. */
        uint8_t pkt[2048];
        enum tw_parse_err err;
        size_t n = tw_segment_build(s, pkt, sizeof(pkt), &err);
        if (!n)
            return fail(f, "cannot build D's segment (%s): %s", tw_parse_strerror(err), TEXT);
        struct tw_segment back;
        err = tw_segment_parse(pkt, n, TW_PARSE_VERIFY_CHECKSUM | TW_PARSE_STRICT_OPTIONS, &back);
        if (err != TW_PARSE_OK)
            return fail(f, "D's segment does not parse back (%s): %s", tw_parse_strerror(err), TEXT);
        if (back.seq != s->seq || back.ack != s->ack || back.flags != s->flags ||
            back.window != s->window || back.payload_len != s->payload_len ||
            back.opt.raw_len != s->opt.raw_len || memcmp(back.opt.raw, s->opt.raw, s->opt.raw_len))
            return fail(f, "codec round trip changed D's segment: %s", TEXT);
        if (s->opt.has & TW_HAS_TS)
            f->d_last_tsval = s->opt.ts_val;
        struct tw_fz_event ev = {.kind = TW_FZ_OUTPUT, .seg = *s};
        emit_trace(f, &ev);
#undef TEXT
    }
    return 0;
}

static int check_tcb(struct fz *f, int slot, enum tw_state before, const struct tw_out *o)
{
    f->res->rows[0] |= o->rows[0];
    f->res->rows[1] |= o->rows[1];
    if (slot == TW_NO_SLOT)
        return 0;
    const struct tw_tcb *c = &f->host.tcb[slot];
    bool freed = !(f->host.slot_flags[slot] & TW_SLOT_USED);
    enum tw_state after = freed ? TW_LISTEN : (enum tw_state)c->state;
    if ((o->rows[0] || o->rows[1]) && !rows_form_path(o, before, after))
        return fail(f, "rows taken do not lead from %s to %s", tw_state_name(before),
                    tw_state_name(after));
    if (!o->rows[0] && !o->rows[1] && before != after)
        return fail(f, "state changed %s -> %s without a row", tw_state_name(before),
                    tw_state_name(after));
    if (freed)
        return 0;
    if (c->state >= TW_STATE__COUNT)
        return fail(f, "state %u out of range", c->state);
    if ((c->state == TW_CLOSED || c->state == TW_LISTEN) && tw_next_deadline(c))
        return fail(f, "a timer is armed in %s", tw_state_name((enum tw_state)c->state));
    if (c->state >= TW_SYN_SENT) {
        if (!seq_leq(c->snd_una, c->snd_nxt))
            return fail(f, "SND.UNA %u > SND.NXT %u", c->snd_una, c->snd_nxt);
        if (!seq_geq(c->snd_una, c->iss))
            return fail(f, "SND.UNA %u below ISS %u", c->snd_una, c->iss);
        if (c->snd_nxt - c->iss > 100000000u)
            return fail(f, "SND.NXT %u runs away from ISS %u", c->snd_nxt, c->iss);
    }
    if (c->snd_wscale > 14 || c->rcv_wscale > 14)
        return fail(f, "window shift above 14 (HS-WS-03, HS-WS-05)");
    return 0;
}

static enum tw_state slot_state(const struct fz *f, int slot)
{
    return slot == TW_NO_SLOT ? TW_CLOSED : (enum tw_state)f->host.tcb[slot].state;
}

/* The TCB H's segments reach: the connection, or else the listener. */
static const struct tw_tcb *live(const struct fz *f)
{
    if (f->conn != TW_NO_SLOT)
        return &f->host.tcb[f->conn];
    if (f->listener != TW_NO_SLOT)
        return &f->host.tcb[f->listener];
    return NULL;
}

static uint32_t seq_base(const struct fz *f, unsigned mode)
{
    const struct tw_tcb *c = live(f);
    bool sync = c && c->state >= TW_SYN_RECEIVED;
    switch (mode & 3) {
    case 0: return sync ? c->rcv_nxt : f->h_isn;
    case 1: return f->h_isn;
    case 2: return sync ? c->rcv_nxt + c->rcv_wnd : f->h_isn + 65535;
    default: return 0;
    }
}

static uint32_t ack_base(const struct fz *f, unsigned mode)
{
    const struct tw_tcb *c = live(f);
    if (!c || c->state < TW_SYN_SENT)
        return 0;
    switch (mode % 5) {
    case 0: return c->snd_nxt;
    case 1: return c->snd_una;
    case 2: return c->iss;
    case 3: return c->snd_una - c->max_snd_wnd;
    default: return 0;
    }
}

static uint32_t read_delta(struct reader *r, unsigned wide)
{
    return wide ? rd32(r) : (uint32_t)(int32_t)(int8_t)rd8(r);
}

/* Which slot now holds H's connection (it may have been created or freed). */
static void refresh_conn(struct fz *f)
{
    /* Prefer a live TCB over one that was reset and not yet closed. */
    int best = TW_NO_SLOT;
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        const struct tw_tcb *c = &f->host.tcb[i];
        if ((f->host.slot_flags[i] & TW_SLOT_USED) && c->state != TW_LISTEN &&
            c->lport == D_PORT && c->rport == H_PORT && i != f->listener &&
            (best == TW_NO_SLOT || f->host.tcb[best].state == TW_CLOSED))
            best = i;
    }
    if (best == TW_NO_SLOT) {
        f->conn = TW_NO_SLOT;
        f->conn_accepted = false;
        return;
    }
    if (f->conn != best)
        f->conn_accepted = f->host.parent[best] == TW_NO_SLOT;
    f->conn = best;
}

static int do_segment(struct fz *f, struct reader *r)
{
    struct tw_segment s = {.src = f->h_addr, .dst = f->d_addr, .sport = H_PORT, .dport = D_PORT};
    s.flags = rd8(r);
    uint8_t smode = rd8(r);
    s.seq = seq_base(f, smode) + read_delta(r, smode & 4);
    uint8_t amode = rd8(r);
    s.ack = ack_base(f, amode) + read_delta(r, amode & 8);
    s.window = rd16(r);
    s.payload_len = rd8(r) & 0x7f;
    uint8_t om = rd8(r);
    if (om & 1) {
        s.opt.has |= TW_HAS_MSS;
        s.opt.mss = rd16(r);
    }
    if (om & 2) {
        s.opt.has |= TW_HAS_WSCALE;
        s.opt.wscale = rd8(r) & 15;
    }
    if (om & 4)
        s.opt.has |= TW_HAS_SACKOK;
    if (om & 8) {
        s.opt.has |= TW_HAS_TS;
        f->h_ts += (uint32_t)(int32_t)(int8_t)rd8(r);
        s.opt.ts_val = f->h_ts;
        s.opt.ts_ecr = (om & 16) ? f->d_last_tsval : 0;
    }
    if (s.opt.has)
        tw_options_encode(&s.opt);
    f->h_seq[f->h_n % 256] = s.seq;
    f->h_len[f->h_n % 256] = tw_segment_len(&s);
    f->h_n++;
    struct tw_fz_event ev = {.kind = TW_FZ_INJECT, .seg = s};
    /* The slot the segment will reach, and its state before. */
    int target = tw_host_lookup(&f->host, &s);
    enum tw_state before = slot_state(f, target);
    struct tw_out o;
    tw_out_clear(&o);
    int slot;
    ev.verdict = tw_host_input(&f->host, &s, f->now, &o, &slot);
    emit_trace(f, &ev);
    if (slot != TW_NO_SLOT && slot != target)
        before = TW_LISTEN; /* a fresh child of the listener */
    if (check_tcb(f, slot, before, &o))
        return -1;
    refresh_conn(f);
    return check_output(f, slot == TW_NO_SLOT ? NULL : &f->host.tcb[slot], &s, &o);
}

static int run_timers(struct fz *f, uint64_t until)
{
    for (int guard = 0; guard < 64; guard++) {
        uint64_t d = tw_host_next_deadline(&f->host);
        if (!d || d > until)
            break;
        if (d > f->now)
            f->now = d;
        struct tw_out o;
        tw_out_clear(&o);
        int slot = TW_NO_SLOT;
        enum tw_state before = TW_CLOSED;
        /* The host fires the first due slot: find it to know its state. */
        for (int i = 0; i < TW_HOST_SLOTS; i++) {
            uint64_t di = tw_next_deadline(&f->host.tcb[i]);
            if ((f->host.slot_flags[i] & TW_SLOT_USED) && di && di <= f->now) {
                before = (enum tw_state)f->host.tcb[i].state;
                break;
            }
        }
        enum tw_verdict v = tw_host_timer(&f->host, f->now, &o, &slot);
        if (v == TW_V_TIMER_NOT_DUE && tw_host_next_deadline(&f->host) == d)
            return fail(f, "a timer is due at %llu but does not fire", (unsigned long long)d);
        if (check_tcb(f, slot, before, &o))
            return -1;
        refresh_conn(f);
        if (check_output(f, slot == TW_NO_SLOT ? NULL : &f->host.tcb[slot], NULL, &o))
            return -1;
    }
    f->now = until > f->now ? until : f->now;
    return 0;
}

static int do_user(struct fz *f, uint8_t op, struct reader *r)
{
    struct tw_out o;
    tw_out_clear(&o);
    struct tw_fz_event ev = {0};
    int slot = TW_NO_SLOT;
    enum tw_state before = TW_CLOSED;
    switch ((op >> 3) % 6) {
    case 0: /* listen */
        if (f->listener != TW_NO_SLOT)
            return 0;
        f->listener = tw_host_listen(&f->host, &f->d_addr, D_PORT, f->now, &o, &ev.verdict);
        slot = f->listener;
        ev.kind = TW_FZ_LISTEN;
        break;
    case 1: /* connect */
        if (f->conn != TW_NO_SLOT || f->listener != TW_NO_SLOT)
            return 0;
        f->conn = tw_host_connect(&f->host, &f->d_addr, D_PORT, &f->h_addr, H_PORT, f->now, &o,
                                  &ev.verdict);
        f->conn_accepted = true;
        slot = f->conn;
        ev.kind = TW_FZ_CONNECT;
        ev.socket = 1;
        break;
    case 2: /* accept */
        if (f->listener == TW_NO_SLOT || f->conn == TW_NO_SLOT || f->conn_accepted)
            return 0;
        if (tw_host_accept(&f->host, f->listener) != f->conn)
            return 0;
        f->conn_accepted = true;
        ev.kind = TW_FZ_ACCEPT;
        ev.socket = 1;
        emit_trace(f, &ev);
        return 0;
    case 3: /* close */
    case 4: /* abort */
    {
        bool abort_call = ((op >> 3) % 6) == 4;
        bool on_conn = f->conn != TW_NO_SLOT && f->conn_accepted && !(op & 0x80);
        slot = on_conn ? f->conn : f->listener;
        if (slot == TW_NO_SLOT)
            return 0;
        before = slot_state(f, slot);
        struct tw_tcb *c = &f->host.tcb[slot];
        ev.verdict = abort_call ? tw_abort(c, &f->host.env, f->now, &o)
                                : tw_close(c, &f->host.env, f->now, &o);
        ev.kind = abort_call ? TW_FZ_ABORT : TW_FZ_CLOSE;
        ev.socket = on_conn;
        emit_trace(f, &ev);
        if (check_tcb(f, slot, before, &o) || check_output(f, c, NULL, &o))
            return -1;
        /* The socket is gone for the user; the TCB lingers if not CLOSED. */
        if (c->state == TW_CLOSED)
            tw_host_release(&f->host, slot);
        if (on_conn) {
            f->conn = TW_NO_SLOT;
            f->conn_accepted = false;
        } else {
            f->listener = TW_NO_SLOT;
        }
        return 0;
    }
    default: /* send */
    {
        if (f->conn == TW_NO_SLOT || !f->conn_accepted)
            return 0;
        slot = f->conn;
        before = slot_state(f, slot);
        ev.kind = TW_FZ_SEND;
        ev.socket = 1;
        ev.len = 1u + rd8(r) * 8u;
        ev.verdict = tw_send(&f->host.tcb[slot], &f->host.env, ev.len, f->now, &o);
        emit_trace(f, &ev);
        if (check_tcb(f, slot, before, &o))
            return -1;
        return check_output(f, &f->host.tcb[slot], NULL, &o);
    }
    }
    emit_trace(f, &ev);
    if (check_tcb(f, slot, TW_CLOSED, &o))
        return -1;
    return check_output(f, slot == TW_NO_SLOT ? NULL : &f->host.tcb[slot], NULL, &o);
}

static const struct {
    uint8_t type, code;
} icmp4_choices[] = {{3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 13}, {11, 0}, {12, 0}, {4, 0}};

static int do_icmp(struct fz *f, struct reader *r)
{
    uint8_t pick = rd8(r);
    int8_t delta = (int8_t)rd8(r);
    if (f->conn == TW_NO_SLOT)
        return 0;
    struct tw_tcb *c = &f->host.tcb[f->conn];
    struct tw_icmp ic = {.family = f->d_addr.family, .src = f->h_addr, .dst = f->d_addr,
                         .q_src = f->d_addr, .q_dst = f->h_addr, .q_sport = D_PORT,
                         .q_dport = H_PORT, .q_seq = c->iss + (uint32_t)(int32_t)delta, .mtu = 1000};
    unsigned i = pick % (sizeof(icmp4_choices) / sizeof(icmp4_choices[0]));
    ic.type = icmp4_choices[i].type;
    ic.code = icmp4_choices[i].code;
    if (ic.family == 6 && !tw_icmp_v4_to_v6(ic.type, ic.code, &ic.type, &ic.code))
        return 0; /* no ICMPv6 equivalent */
    if (!tw_icmp_classify(ic.family, ic.type, ic.code, &ic.cls))
        return 0;
    enum tw_state before = slot_state(f, f->conn);
    struct tw_out o;
    tw_out_clear(&o);
    int slot;
    struct tw_fz_event ev = {.kind = TW_FZ_ICMP, .icmp = ic, .icmp4_type = icmp4_choices[i].type,
                             .icmp4_code = icmp4_choices[i].code};
    ev.verdict = tw_host_icmp(&f->host, &ic, f->now, &o, &slot);
    emit_trace(f, &ev);
    if (check_tcb(f, slot, before, &o))
        return -1;
    refresh_conn(f);
    return check_output(f, NULL, NULL, &o);
}

int tw_fuzz_model_run(const uint8_t *data, size_t size, struct tw_fz_result *res,
                      tw_fz_trace_fn trace, void *ctx)
{
    static const struct tw_addr d4 = {.family = 4, .bytes = {198, 51, 100, 2}};
    static const struct tw_addr h4 = {.family = 4, .bytes = {198, 51, 100, 1}};
    static const struct tw_addr d6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
    static const struct tw_addr h6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
    struct reader r = {.p = data, .n = size};
    struct fz f;
    memset(&f, 0, sizeof(f));
    memset(res, 0, sizeof(*res));
    f.res = res;
    f.trace = trace;
    f.ctx = ctx;
    f.listener = f.conn = TW_NO_SLOT;
    f.now = 1000000;

    uint8_t cfg = rd8(&r);
    struct tw_env env;
    tw_env_init(&env);
    memcpy(env.secret, "threeway-fuzzkey", 16);
    env.profile.rfc5961 = !(cfg & 1);
    /* MSS is always offered: scripts can switch the others off by sysctl. */
    env.profile.offer = (uint8_t)(((cfg >> 2) & 0x0f) | TW_HAS_MSS);
    bool v6 = cfg & 2;
    f.d_addr = v6 ? d6 : d4;
    f.h_addr = v6 ? h6 : h4;
    f.h_isn = rd32(&r);
    tw_host_init(&f.host, &env);
    struct tw_fz_event ev = {.kind = TW_FZ_CONFIG, .strict = cfg & 1, .family = v6 ? 6 : 4,
                             .offer = env.profile.offer, .h_isn = f.h_isn};
    emit_trace(&f, &ev);

    while (r.i < r.n && res->steps < 4096) {
        res->steps++;
        uint8_t op = rd8(&r);
        int rc;
        switch (op & 7) {
        case 0:
            rc = do_user(&f, op, &r);
            break;
        case 4: {
            uint32_t ms = rd16(&r);
            rc = run_timers(&f, f.now + (uint64_t)ms * 1000u);
            break;
        }
        case 5:
            rc = do_icmp(&f, &r);
            break;
        default:
            rc = do_segment(&f, &r);
            break;
        }
        if (rc)
            return -1;
    }
    return 0;
}

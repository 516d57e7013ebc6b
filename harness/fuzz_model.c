/* See fuzz_model.h. Oracles, checked after every step, on the model's own
 * state (tw_adapter_model_host) and on what D sent:
 *  - a TCB's state moves only along rows of the transition table: every
 *    slot whose state changed (or that was created or freed) is reachable
 *    from its old state by rows the step reported;
 *  - SND.UNA =< SND.NXT, SND.UNA >= ISS, SND.NXT does not run away, window
 *    shifts =< 14, no timer armed in CLOSED or LISTEN, states in range;
 *  - D never acknowledges sequence space H did not send;
 *  - RSTs D sends in reply follow RFC 9293 3.5.2 (SEQ=SEG.ACK, or SEQ=0
 *    ACK=SEG.SEQ+SEG.LEN, or SEQ=SND.NXT when a TCB resets), and never
 *    answer a RST;
 *  - every segment D sends is well formed: no SYN with RST or FIN, SYNs
 *    carry their TCB's ISS, MSS/WS/SACK-permitted only on SYNs, TS on every
 *    non-RST segment of a TS connection; on the runner path its bytes parse
 *    with a valid checksum (fuzz_segment round-trips the codec itself);
 *  - the runner itself: D's checksums (HS-GEN-01), a timer that never stops
 *    being due, a syscall or packet the stack fails to take (the fast path:
 *    a timer that never stops being due, a segment the codec cannot build).
 * Text is rendered only for a failure, and the fast path allocates nothing
 * per input: the hot path stays cheap. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_model.h"
#include "host.h"
#include "runner.h"
#include "seq.h"

#define MAX_FDS 6
#define MAX_SOCKS 80 /* sockets one input can create (fast path): 64 events, listen/connect/accept */
#define H_PORT 40000 /* H's port for inbound connections (the runner's h_port) */
#define D_PORT 8080  /* D's bound port (the runner's bind_port) */
#define TIMER_RUNS_MAX 1000 /* as adapter_model.c: timers at one instant before it is a model bug */

struct reader {
    const uint8_t *p;
    size_t n, i;
};

static inline __attribute__((always_inline)) uint8_t rd8(struct reader *r)
{
    return r->i < r->n ? r->p[r->i++] : 0;
}
static inline uint16_t rd16(struct reader *r)
{
    uint16_t hi = rd8(r);
    return (uint16_t)(hi << 8 | rd8(r));
}
static inline uint32_t rd32(struct reader *r)
{
    uint32_t hi = rd16(r);
    return hi << 16 | rd16(r);
}

struct slot_snap { /* valid for the slots in fz.before_used */
    uint8_t state;
    uint16_t lport, rport;
    uint32_t snd_nxt, iss;
};

struct fd_info {
    int64_t fd; /* the runner's script fd, or the fast path's socket index */
    bool listener;
};

/* Fast path: a socket as adapter_model.c keeps it (the calls the encoding has). */
struct fsock {
    int slot; /* tw_host slot, or TW_NO_SLOT */
    bool linger_abort;
};

struct fz {
    bool fast; /* straight at the host; else through the runner */
    struct tw_host *host;
    const struct tw_fz_sink *sink;
    struct tw_fz_result *res;
    bool v6;
    uint32_t h_isn;
    unsigned h_n;    /* H's segments in h_seq/h_len */
    uint32_t h_next; /* end of H's last segment */
    uint32_t h_ts;   /* H's timestamp clock */
    uint32_t d_last_tsval;
    struct fd_info fds[MAX_FDS];
    unsigned n_fds;
    bool connected; /* a connect ran: H talks from port 8080 from then on */
    const struct tw_segment *cur_in; /* the segment the step injected, or NULL */
    unsigned before_used, now_used; /* slots in use before the step, and after */
    bool failed;
    /* the runner path */
    struct tw_runner *run;
    unsigned line;
    /* the fast path: what the runner and the model adapter keep */
    struct tw_judge_ctx ctx;
    bool iss_known;
    uint64_t now;
    uint64_t step_rows[2];
    unsigned n_socks;
    /* Not cleared per input (the counts above say what is valid): */
    struct tw_script hdr; /* the runner path's header */
    /* sequence ranges H has sent: D may only acknowledge inside them */
    uint32_t h_seq[TW_FZ_MAX_EVENTS], h_len[TW_FZ_MAX_EVENTS];
    struct slot_snap before[TW_HOST_SLOTS];
    struct fsock socks[MAX_SOCKS];
    struct tw_out out; /* scratch for one model call */
};

static int fail(struct fz *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct fz *f, const char *fmt, ...)
{
    va_list ap;
    if (f->failed)
        return -1;
    int n = snprintf(f->res->message, sizeof(f->res->message), "step %u: ", f->res->steps);
    va_start(ap, fmt);
    vsnprintf(f->res->message + n, sizeof(f->res->message) - (size_t)n, fmt, ap);
    va_end(ap);
    f->failed = true;
    f->res->failed = true;
    return -1;
}

/* ---- oracles ------------------------------------------------------------ */

/* The states each state reaches through the rows a step took (at most 4
 * rows), computed once per step. */
struct reach {
    uint8_t adj[TW_STATE__COUNT];  /* one row */
    uint8_t done, seen[TW_STATE__COUNT]; /* closures computed so far */
};

static void reach_init(struct reach *x, const uint64_t rows[2])
{
    memset(x, 0, sizeof(*x));

    for (int w = 0; w < 2; w++)
        for (uint64_t m = rows[w]; m; m &= m - 1) {
            int r = w * 64 + __builtin_ctzll(m);
            if (r < TW_ROW__COUNT)
                x->adj[tw_rows[r].from] |= (uint8_t)(1u << tw_rows[r].to);
        }
}

static bool reachable(struct reach *x, enum tw_state from, enum tw_state to)
{
    if (!(x->done & (1u << from))) {
        unsigned seen = 1u << from;
        for (int step = 0; step < 4; step++) {
            unsigned next = seen;
            for (int s = 0; s < TW_STATE__COUNT; s++)
                if (seen & (1u << s))
                    next |= x->adj[s];
            if (next == seen)
                break;
            seen = next;
        }
        x->seen[from] = (uint8_t)seen;
        x->done |= (uint8_t)(1u << from);
    }
    return (x->seen[from] >> to) & 1;
}

/* The slots in use, one bit each. */
static unsigned used_slots(const struct tw_host *h)
{
    unsigned m = 0;
    for (int i = 0; i < TW_HOST_SLOTS; i++)
        m |= (unsigned)(h->slot_flags[i] & TW_SLOT_USED) << i;
    return m;
}

static void snapshot(struct fz *f)
{
    unsigned m = used_slots(f->host);
    f->before_used = m;
    for (; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        struct slot_snap *b = &f->before[i];
        const struct tw_tcb *c = &f->host->tcb[i];
        b->state = c->state;
        b->snd_nxt = c->snd_nxt;
        b->iss = c->iss;
        b->lport = c->lport;
        b->rport = c->rport;
    }
}

static int check_tcbs(struct fz *f)
{
    uint64_t rows[2];
    if (f->fast) {
        rows[0] = f->step_rows[0];
        rows[1] = f->step_rows[1];
        f->step_rows[0] = f->step_rows[1] = 0;
    } else {
        tw_adapter_model_take_rows(tw_runner_adapter(f->run), rows);
    }
    f->res->rows[0] |= rows[0];
    f->res->rows[1] |= rows[1];
    struct reach x;
    reach_init(&x, rows);
    f->now_used = used_slots(f->host);
    for (unsigned m = f->now_used | f->before_used; m; m &= m - 1) {
        int i = __builtin_ctz(m);
        const struct slot_snap *b = &f->before[i];
        bool was_used = (f->before_used >> i) & 1, used = (f->now_used >> i) & 1;
        const struct tw_tcb *c = &f->host->tcb[i];
        if (used && c->state >= TW_STATE__COUNT)
            return fail(f, "slot %d: state %u out of range", i, c->state);
        if (was_used && used && b->state != c->state &&
            !reachable(&x, (enum tw_state)b->state, (enum tw_state)c->state))
            return fail(f, "slot %d: %s -> %s along no row taken", i, tw_state_name((enum tw_state)b->state),
                        tw_state_name((enum tw_state)c->state));
        if (was_used && !used && b->state != TW_CLOSED &&
            !reachable(&x, (enum tw_state)b->state, TW_CLOSED) &&
            !reachable(&x, (enum tw_state)b->state, TW_LISTEN))
            return fail(f, "slot %d: freed in %s along no row taken", i,
                        tw_state_name((enum tw_state)b->state));
        if (!was_used && used && !reachable(&x, TW_CLOSED, (enum tw_state)c->state) &&
            !reachable(&x, TW_LISTEN, (enum tw_state)c->state))
            return fail(f, "slot %d: created in %s along no row taken", i,
                        tw_state_name((enum tw_state)c->state));
        if (!used)
            continue;
        if ((c->state == TW_CLOSED || c->state == TW_LISTEN) && tw_next_deadline(c))
            return fail(f, "slot %d: a timer is armed in %s", i, tw_state_name((enum tw_state)c->state));
        if (c->state >= TW_SYN_SENT) {
            if (!seq_leq(c->snd_una, c->snd_nxt))
                return fail(f, "slot %d: SND.UNA %u > SND.NXT %u", i, c->snd_una, c->snd_nxt);
            if (!seq_geq(c->snd_una, c->iss))
                return fail(f, "slot %d: SND.UNA %u below ISS %u", i, c->snd_una, c->iss);
            if (c->snd_nxt - c->iss > 100000000u)
                return fail(f, "slot %d: SND.NXT %u runs away from ISS %u", i, c->snd_nxt, c->iss);
        }
        if (c->snd_wscale > 14 || c->rcv_wscale > 14)
            return fail(f, "slot %d: window shift above 14 (HS-WS-03, HS-WS-05)", i);
    }
    return 0;
}

/* seq < ack <= seq + len for some segment H sent. */
static bool h_sent(const struct fz *f, uint32_t ack)
{
    for (unsigned i = 0; i < f->h_n; i++)
        if (ack - f->h_seq[i] - 1u < f->h_len[i])
            return true;
    return false;
}

/* The TCB that sent s (by its 4-tuple), or NULL; `used` the slots in use. */
static const struct tw_tcb *sender(const struct fz *f, unsigned used, const struct tw_segment *s)
{
    const struct tw_tcb *found = NULL;
    for (; used; used &= used - 1) {
        const struct tw_tcb *c = &f->host->tcb[__builtin_ctz(used)];
        if (c->state != TW_LISTEN && c->lport == s->sport && c->rport == s->dport &&
            tw_addr_equal(&c->raddr, &s->dst) && (!found || found->state == TW_CLOSED))
            found = c;
    }
    return found;
}

/* A TCB on s's ports has s->seq as its ISS, before or after the step (a
 * reset TCB not yet released may share the tuple with a new one, and a TCB
 * may send its last SYN,ACK and be freed within one step). */
static bool iss_of_some_tcb(const struct fz *f, unsigned used, const struct tw_segment *s)
{
    for (unsigned m = used; m; m &= m - 1) {
        const struct tw_tcb *c = &f->host->tcb[__builtin_ctz(m)];
        if (c->lport == s->sport && c->rport == s->dport && c->iss == s->seq)
            return true;
    }
    for (unsigned m = f->before_used; m; m &= m - 1) {
        const struct slot_snap *b = &f->before[__builtin_ctz(m)];
        if (b->lport == s->sport && b->rport == s->dport && b->iss == s->seq)
            return true;
    }
    return false;
}

static bool rst_by_abort(const struct fz *f, unsigned used, const struct tw_segment *s)
{
    for (unsigned m = f->before_used; m; m &= m - 1)
        if (f->before[__builtin_ctz(m)].snd_nxt == s->seq)
            return true;
    for (unsigned m = used; m; m &= m - 1)
        if (f->host->tcb[__builtin_ctz(m)].snd_nxt == s->seq)
            return true;
    return false;
}

static int check_output(struct fz *f, const struct tw_segment *s)
{
    const struct tw_segment *in = f->cur_in;
    unsigned used = used_slots(f->host);
    const struct tw_tcb *c = sender(f, used, s);
    char text[320];
#define TEXT (tw_segment_render(s, text, sizeof(text)), text)
    if ((s->flags & TW_SYN) && (s->flags & (TW_RST | TW_FIN)))
        return fail(f, "D sent SYN with RST or FIN: %s", TEXT);
    if (!(s->flags & TW_SYN) && (s->opt.has & (TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK)))
        return fail(f, "MSS/WS/SACK-permitted on a non-SYN (HS-MSS-02, HS-SACK-01): %s", TEXT);
    if (c && (s->flags & TW_SYN) && !iss_of_some_tcb(f, used, s))
        return fail(f, "a SYN with seq != ISS %u: %s", c->iss, TEXT);
    if (c && c->state != TW_CLOSED && (c->flags & TW_TCB_TS_OK) && !(s->flags & TW_RST) &&
        !(s->opt.has & TW_HAS_TS))
        return fail(f, "TS missing on a TS connection (HS-TS-03): %s", TEXT);
    if ((s->flags & TW_ACK) && !(s->flags & TW_RST) && !h_sent(f, s->ack))
        return fail(f, "D acknowledges %u, sequence space H never sent: %s", s->ack, TEXT);
    if ((s->flags & TW_RST) && in) {
        if (in->flags & TW_RST)
            return fail(f, "RST in reply to RST (HS-RST-01): %s", TEXT);
        bool by_ack = (in->flags & TW_ACK) && s->flags == TW_RST && s->seq == in->ack;
        bool by_len = !(in->flags & TW_ACK) && s->flags == (TW_RST | TW_ACK) && s->seq == 0 &&
                      s->ack == in->seq + tw_segment_len(in);
        if (!by_ack && !by_len && !(s->flags == TW_RST && rst_by_abort(f, used, s)))
            return fail(f, "RST does not follow RFC 9293 3.5.2: %s", TEXT);
    }
    /* The codec: the runner parsed D's bytes with the checksum verified
     * (HS-GEN-01) before recording them; fuzz_segment round-trips the codec. */
#undef TEXT
    return 0;
}

/* What D sent, folded into res->out_digest: both paths must agree on it. */
static void digest_output(struct fz *f, const struct tw_segment *s, uint64_t t)
{
    uint64_t h = f->res->out_digest ^ t;
    const uint64_t k = 0x100000001b3ull;
    h = (h ^ s->flags) * k;
    h = (h ^ s->seq) * k;
    h = (h ^ s->ack) * k;
    h = (h ^ ((uint64_t)s->window << 16 | s->payload_len)) * k;
    h = (h ^ ((uint64_t)s->sport << 16 | s->dport)) * k;
    unsigned n = (s->opt.raw_len + 3u) & ~3u;
    for (unsigned i = 0; i < n && i < TW_TCP_MAX_OPTLEN; i++)
        h = (h ^ (i < s->opt.raw_len ? s->opt.raw[i] : 0)) * k;
    f->res->out_digest = h;
    f->res->n_out++;
}

/* One segment D sent (either path), after its step. */
static void on_segment(struct fz *f, const struct tw_segment *seg, uint64_t t)
{
    if (seg->opt.has & TW_HAS_TS)
        f->d_last_tsval = seg->opt.ts_val;
    digest_output(f, seg, t);
    check_output(f, seg);
}

/* The runner's record hook: one segment D sent, as an outbound line. */
static void on_output(void *ctx, const struct tw_script_event *out, const struct tw_segment *seg)
{
    struct fz *f = ctx;
    if (f->sink && f->sink->line)
        f->sink->line(f->sink->ctx, out, false);
    on_segment(f, seg, (uint64_t)out->time.usecs);
}

/* ---- the fast path: the model adapter's calls, straight at the host ------
 * What adapter_model.c and the runner do for the calls and packets the
 * encoding makes, without script lines, frames or parsing: D's segments
 * stay structs, and are checked as the runner path checks them. Replays
 * (fuzzers/fuzz_model.c without libFuzzer) run both paths and compare. */

/* D's segments of the step, checked once the step is over (as the runner
 * checks what it drained). */
static _Thread_local struct tw_segment *pend_seg;
static _Thread_local uint64_t *pend_t;
static _Thread_local size_t pend_n, pend_cap;

static void fast_emit(struct fz *f)
{
    const struct tw_out *o = &f->out;
    f->step_rows[0] |= o->rows[0];
    f->step_rows[1] |= o->rows[1];
    for (unsigned i = 0; i < o->n; i++) {
        const struct tw_segment *s = &o->seg[i];
        /* what makes tw_segment_build fail (adapter_model.c: a model bug) */
        if ((s->src.family != 4 && s->src.family != 6) || s->dst.family != s->src.family ||
            s->opt.raw_len > TW_TCP_MAX_OPTLEN || s->payload_len > TW_MAX_PAYLOAD) {
            fail(f, "D sent a segment the codec cannot build");
            continue;
        }
        if (pend_n == pend_cap) {
            size_t cap = pend_cap ? pend_cap * 2 : 64;
            struct tw_segment *v = realloc(pend_seg, cap * sizeof(*v));
            uint64_t *t = v ? realloc(pend_t, cap * sizeof(*t)) : NULL;
            if (v)
                pend_seg = v;
            if (!t) {
                fail(f, "out of memory");
                return;
            }
            pend_t = t;
            pend_cap = cap;
        }
        pend_seg[pend_n] = *s;
        pend_t[pend_n++] = f->now;
        /* the runner learns D's ISN from its first SYN, and D's port from an active open */
        if (!f->iss_known && (s->flags & TW_SYN)) {
            f->iss_known = true;
            f->ctx.d_iss = s->seq;
        }
        if ((s->flags & (TW_SYN | TW_ACK)) == TW_SYN)
            f->ctx.d_port = s->sport;
    }
}

static void fast_drain(struct fz *f)
{
    for (size_t i = 0; i < pend_n; i++)
        on_segment(f, &pend_seg[i], pend_t[i]);
    pend_n = 0;
}

/* model_advance: every timer due up to until_us, in order. */
static int fast_advance(struct fz *f, uint64_t until_us)
{
    for (;;) {
        uint64_t d = tw_host_next_deadline(f->host);
        int runs = 0;
        if (!d || d > until_us)
            break;
        if (d > f->now)
            f->now = d;
        for (;;) {
            tw_out_clear(&f->out);
            if (tw_host_timer(f->host, f->now, &f->out, NULL) == TW_V_TIMER_NOT_DUE)
                break;
            fast_emit(f);
            if (++runs > TIMER_RUNS_MAX)
                return fail(f, "the runner failed: a timer that never stops being due");
        }
    }
    if (until_us > f->now)
        f->now = until_us;
    return 0;
}

/* The runner's step_to(now) before a line runs no timer here: every timer
 * due by now ran when time last moved, and the model arms none at or
 * before `now` (the replays' path check would tell). */
static void fast_begin(struct fz *f) { snapshot(f); }

static int fast_end(struct fz *f)
{
    fast_drain(f);
    f->cur_in = NULL;
    return check_tcbs(f) || f->failed ? -1 : 0;
}

static struct tw_tcb *fast_tcb(struct fz *f, const struct fsock *s)
{
    if (s->slot == TW_NO_SLOT || !(f->host->slot_flags[s->slot] & TW_SLOT_USED))
        return NULL;
    return &f->host->tcb[s->slot];
}

static int64_t fast_socket(struct fz *f, int slot)
{
    if (f->n_socks == MAX_SOCKS)
        return -1;
    f->socks[f->n_socks] = (struct fsock){slot, false};
    return f->n_socks++;
}

/* model_close_socket */
static void fast_close(struct fz *f, struct fsock *s)
{
    struct tw_tcb *c = fast_tcb(f, s);
    if (!c)
        return;
    if (c->state == TW_LISTEN) {
        for (int i = 0; i < TW_HOST_SLOTS; i++) {
            if ((f->host->slot_flags[i] & (TW_SLOT_USED | TW_SLOT_ACCEPTED)) == TW_SLOT_USED &&
                f->host->parent[i] == s->slot) {
                tw_out_clear(&f->out);
                tw_abort(&f->host->tcb[i], &f->host->env, f->now, &f->out);
                fast_emit(f);
                tw_host_release(f->host, i);
            }
        }
    }
    tw_out_clear(&f->out);
    if (s->linger_abort)
        tw_abort(c, &f->host->env, f->now, &f->out);
    else
        tw_close_final(c, &f->host->env, f->now, &f->out);
    fast_emit(f);
    if (f->host->tcb[s->slot].state == TW_CLOSED)
        tw_host_release(f->host, s->slot);
}

static int fast_user(struct fz *f, unsigned call, uint8_t operand, const struct fd_info *fi)
{
    struct fsock *s = fi ? &f->socks[fi->fd] : NULL;
    struct tw_tcb *c = s ? fast_tcb(f, s) : NULL;
    enum tw_verdict v;
    switch (call) {
    case TW_FZ_LISTEN: {
        if (f->n_fds >= MAX_FDS)
            return 0;
        int64_t h = fast_socket(f, TW_NO_SLOT);
        if (h < 0)
            return fail(f, "out of sockets");
        f->fds[f->n_fds++] = (struct fd_info){h, true};
        fast_begin(f);
        tw_out_clear(&f->out);
        f->socks[h].slot = tw_host_listen(f->host, &f->ctx.d_addr, D_PORT, f->now, &f->out, &v);
        fast_emit(f);
        return fast_end(f);
    }
    case TW_FZ_CONNECT: {
        if (f->n_fds >= MAX_FDS || (f->iss_known && !f->connected))
            return 0;
        int64_t h = fast_socket(f, TW_NO_SLOT);
        if (h < 0)
            return fail(f, "out of sockets");
        f->fds[f->n_fds++] = (struct fd_info){h, false};
        f->connected = true;
        fast_begin(f);
        f->ctx.h_port = D_PORT;
        tw_out_clear(&f->out);
        f->socks[h].slot = tw_host_connect(f->host, &f->ctx.d_addr, D_PORT, &f->ctx.h_addr, D_PORT, f->now,
                                           &f->out, &v);
        fast_emit(f);
        return fast_end(f);
    }
    case TW_FZ_ACCEPT: {
        if (!fi || !fi->listener)
            return 0;
        fast_begin(f);
        if (c && c->state == TW_LISTEN) {
            int child = tw_host_accept(f->host, s->slot);
            if (child != TW_NO_SLOT) {
                int64_t h = fast_socket(f, child);
                if (h < 0)
                    return fail(f, "out of sockets");
                if (f->n_fds < MAX_FDS)
                    f->fds[f->n_fds++] = (struct fd_info){h, false};
            }
        }
        return fast_end(f);
    }
    case TW_FZ_ABORT:
    case TW_FZ_CLOSE: {
        if (!fi)
            return 0;
        int64_t fd = fi->fd;
        fast_begin(f);
        if (call == TW_FZ_ABORT)
            s->linger_abort = true;
        fast_close(f, s);
        for (unsigned i = 0; i < f->n_fds; i++)
            if (f->fds[i].fd == fd) {
                f->fds[i] = f->fds[--f->n_fds];
                break;
            }
        return fast_end(f);
    }
    case TW_FZ_WRITE: /* model_send */
        if (!fi || fi->listener)
            return 0;
        fast_begin(f);
        if (c && c->state != TW_LISTEN && c->state != TW_CLOSED) {
            tw_out_clear(&f->out);
            tw_send(c, &f->host->env, 1u + operand * 8u, f->now, &f->out);
            fast_emit(f);
        }
        return fast_end(f);
    case TW_FZ_READ: /* model_recv: read(fd, buf, 1000) takes what was delivered */
        if (!fi || fi->listener)
            return 0;
        fast_begin(f);
        if (c && c->state != TW_LISTEN)
            tw_read(c, 1000);
        return fast_end(f);
    default: /* model_shutdown(SHUT_WR) */
        if (!fi || fi->listener)
            return 0;
        fast_begin(f);
        if (c && c->state != TW_LISTEN && c->state != TW_CLOSED && !(c->flags & TW_TCB_FIN_SENT)) {
            tw_out_clear(&f->out);
            tw_close(c, &f->host->env, f->now, &f->out);
            fast_emit(f);
        }
        return fast_end(f);
    }
}

/* ---- the runner path: script lines ------------------------------------- */

static int run_line(struct fz *f, struct tw_script_event *e, const struct tw_segment *in)
{
    e->pos.line = (int)++f->line;
    e->time.kind = TW_TIME_ABSOLUTE;
    e->time.usecs = e->time.end_usecs = (int64_t)tw_runner_now(f->run);
    if (f->sink && f->sink->line)
        f->sink->line(f->sink->ctx, e, false);
    snapshot(f);
    f->cur_in = in;
    int rc = tw_runner_step(f->run, e);
    f->cur_in = NULL;
    if (f->sink && f->sink->line)
        f->sink->line(f->sink->ctx, e, true);
    if (rc)
        return fail(f, "the runner failed: %s", tw_runner_message(f->run));
    return check_tcbs(f) || f->failed ? -1 : 0;
}

static void sys_init(struct tw_script_event *e, enum tw_sys sys, unsigned n_args)
{
    memset(e, 0, sizeof(*e));
    e->kind = TW_SEV_SYSCALL;
    e->u.sys.sys = sys;
    e->u.sys.n_args = (uint8_t)n_args;
    e->u.sys.ret = -1;
    for (unsigned i = 0; i < n_args; i++)
        e->u.sys.args[i].kind = TW_ARG_ELLIPSIS;
}

static void arg_int(struct tw_script_event *e, unsigned i, int64_t v, bool symbolic)
{
    e->u.sys.args[i].kind = TW_ARG_INT;
    e->u.sys.args[i].value = v;
    e->u.sys.args[i].symbolic = symbolic;
}

/* A syscall on fd (or a new socket: fd < 0); its result, or -1 on failure. */
static int64_t run_sys(struct fz *f, struct tw_script_event *e, int *rc)
{
    *rc = run_line(f, e, NULL);
    return e->u.sys.ret;
}

/* Every socket is non-blocking: a call that cannot complete says so at
 * once (EAGAIN, EINPROGRESS) and nothing stays pending. */
static int set_nonblock(struct fz *f, int64_t fd, int *rc)
{
    struct tw_script_event e;
    sys_init(&e, TW_SYS_FCNTL, 3);
    arg_int(&e, 0, fd, false);
    arg_int(&e, 1, 4, true);
    arg_int(&e, 2, 02 | 04000, true);
    run_sys(f, &e, rc);
    return *rc;
}

/* socket(), non-blocking, bound to 8080 (D's port for both directions). */
static int64_t new_socket(struct fz *f, bool listener, int *rc)
{
    struct tw_script_event e;
    sys_init(&e, TW_SYS_SOCKET, 3);
    arg_int(&e, 1, 1, true);
    arg_int(&e, 2, 6, true);
    int64_t fd = run_sys(f, &e, rc);
    if (*rc || fd < 0)
        return -1;
    f->fds[f->n_fds++] = (struct fd_info){fd, listener};
    if (set_nonblock(f, fd, rc))
        return -1;
    sys_init(&e, TW_SYS_BIND, 3);
    arg_int(&e, 0, fd, false);
    run_sys(f, &e, rc);
    return *rc ? -1 : fd;
}

static void forget_fd(struct fz *f, int64_t fd)
{
    for (unsigned i = 0; i < f->n_fds; i++)
        if (f->fds[i].fd == fd) {
            f->fds[i] = f->fds[--f->n_fds];
            return;
        }
}

/* ---- events --------------------------------------------------------------- */

static int do_user(struct fz *f, uint8_t op, struct reader *r)
{
    struct tw_script_event e;
    int rc = 0;
    unsigned call = (op >> 3) & 7;
    uint8_t operand = call == TW_FZ_WRITE ? rd8(r) : 0;
    const struct fd_info *fi = f->n_fds ? &f->fds[(op >> 6) % f->n_fds] : NULL;
    int64_t fd = fi ? fi->fd : -1;
    if (f->fast)
        return fast_user(f, call, operand, fi);
    switch (call) {
    case TW_FZ_LISTEN:
        if (f->n_fds >= MAX_FDS)
            return 0;
        fd = new_socket(f, true, &rc);
        if (fd < 0)
            return rc;
        sys_init(&e, TW_SYS_LISTEN, 2);
        arg_int(&e, 0, fd, false);
        arg_int(&e, 1, 1, false);
        run_sys(f, &e, &rc);
        return rc;
    case TW_FZ_CONNECT: {
        /* All of D's connections share one 4-tuple from the first connect
         * on (D:8080 <-> H:8080), so every ISN after the first differs from
         * it by the RFC 6528 clock alone and the printed case does not
         * depend on the key: a connect after a passive open (a SYN,ACK on
         * D:8080 <-> H:40000) would not, and is skipped. */
        bool iss_known;
        tw_runner_ctx(f->run, &iss_known);
        if (f->n_fds >= MAX_FDS || (iss_known && !f->connected))
            return 0;
        fd = new_socket(f, false, &rc);
        if (fd < 0)
            return rc;
        f->connected = true;
        sys_init(&e, TW_SYS_CONNECT, 3);
        arg_int(&e, 0, fd, false);
        run_sys(f, &e, &rc);
        return rc;
    }
    case TW_FZ_ACCEPT: {
        if (!fi || !fi->listener)
            return 0;
        sys_init(&e, TW_SYS_ACCEPT, 3);
        arg_int(&e, 0, fd, false);
        int64_t n = run_sys(f, &e, &rc);
        if (rc || n < 0)
            return rc;
        if (f->n_fds < MAX_FDS)
            f->fds[f->n_fds++] = (struct fd_info){n, false};
        return set_nonblock(f, n, &rc);
    }
    case TW_FZ_ABORT:
        if (!fi)
            return 0;
        sys_init(&e, TW_SYS_SETSOCKOPT, 5);
        arg_int(&e, 0, fd, false);
        arg_int(&e, 1, 1, true);
        arg_int(&e, 2, 13, true);
        e.u.sys.args[3].kind = TW_ARG_STRUCT;
        e.u.sys.args[3].n_items = 2;
        memcpy(e.u.sys.args[3].field[0], "onoff", 6);
        memcpy(e.u.sys.args[3].field[1], "linger", 7);
        e.u.sys.args[3].items[0] = 1;
        arg_int(&e, 4, 8, false);
        run_sys(f, &e, &rc);
        if (rc)
            return rc;
        /* close() with SO_LINGER {1, 0} is ABORT */
        /* fall through */
    case TW_FZ_CLOSE:
        if (!fi)
            return 0;
        sys_init(&e, TW_SYS_CLOSE, 1);
        arg_int(&e, 0, fd, false);
        run_sys(f, &e, &rc);
        forget_fd(f, fd);
        return rc;
    case TW_FZ_WRITE:
    case TW_FZ_READ:
        if (!fi || fi->listener)
            return 0;
        sys_init(&e, call == TW_FZ_WRITE ? TW_SYS_WRITE : TW_SYS_READ, 3);
        arg_int(&e, 0, fd, false);
        arg_int(&e, 2, call == TW_FZ_WRITE ? 1 + operand * 8 : 1000, false);
        run_sys(f, &e, &rc);
        return rc;
    default: /* shutdown(SHUT_WR) */
        if (!fi || fi->listener)
            return 0;
        sys_init(&e, TW_SYS_SHUTDOWN, 2);
        arg_int(&e, 0, fd, false);
        arg_int(&e, 1, 1, true);
        run_sys(f, &e, &rc);
        return rc;
    }
}

static const struct tw_judge_ctx *ctx_of(const struct fz *f)
{
    return f->fast ? &f->ctx : tw_runner_ctx(f->run, NULL);
}

/* The TCB H's segments reach now (connection, else listener), or NULL. */
static const struct tw_tcb *live(const struct fz *f, const struct tw_judge_ctx *ctx)
{
    struct tw_segment probe;
    probe.src = ctx->h_addr;
    probe.dst = ctx->d_addr;
    probe.sport = ctx->h_port;
    probe.dport = ctx->d_port;
    int s = tw_host_lookup(f->host, &probe);
    return s == TW_NO_SLOT ? NULL : &f->host->tcb[s];
}

static uint32_t read_delta(struct reader *r, bool wide)
{
    return wide ? rd32(r) : (uint32_t)(int32_t)(int8_t)rd8(r);
}

static void set_addr(struct tw_addr *a, bool v6, uint8_t pick)
{
    static const char *const v4[] = {"224.0.0.1", "255.255.255.255", "198.51.100.255", "0.0.0.0",
                                     "198.51.100.2", "239.1.2.3", "127.0.0.1", "198.51.100.3"};
    static const char *const v6s[] = {"ff02::1", "ff0e::1", "::", "2001:db8::2",
                                      "::1", "ff02::2", "2001:db8::3", "::ffff:198.51.100.1"};
    static _Thread_local struct tw_addr parsed[2][8];
    static _Thread_local uint8_t have[2];
    if (!(have[v6] & (1u << (pick & 7)))) {
        tw_addr_parse(v6 ? v6s[pick & 7] : v4[pick & 7], &parsed[v6][pick & 7]);
        have[v6] |= (uint8_t)(1u << (pick & 7));
    }
    *a = parsed[v6][pick & 7];
}

/* An inbound segment as decoded: absolute numbers, the options, and at most
 * one malformation. Both paths build from this. */
struct fz_seg {
    uint8_t flags, len, om, ext;
    uint32_t seq, ack, ts_val, ts_ecr;
    uint16_t win, mss;
    uint8_t ws, gen;
};

/* The option bytes a packet line with fz_seg's options encodes to
 * (tw_popts_encode's, in this order). */
static size_t fz_seg_options(const struct fz_seg *g, uint8_t *o)
{
    size_t n = 0;
    if (g->om & 1) {
        o[n++] = TW_OPT_MSS, o[n++] = 4;
        o[n++] = (uint8_t)(g->mss >> 8), o[n++] = (uint8_t)g->mss;
    }
    if (g->om & 2) {
        if (g->om & 32)
            o[n++] = TW_OPT_NOP;
        o[n++] = TW_OPT_WSCALE, o[n++] = 3, o[n++] = g->ws;
    }
    if (g->om & 4)
        o[n++] = TW_OPT_SACKOK, o[n++] = 2;
    if (g->om & 8) {
        if (g->om & 32)
            o[n++] = TW_OPT_NOP, o[n++] = TW_OPT_NOP;
        o[n++] = TW_OPT_TS, o[n++] = 10;
        for (int s = 24; s >= 0; s -= 8)
            o[n++] = (uint8_t)(g->ts_val >> s);
        for (int s = 24; s >= 0; s -= 8)
            o[n++] = (uint8_t)(g->ts_ecr >> s);
    }
    if (g->om & 64) {
        /* an option the model does not know, or a malformed length */
        uint8_t k = (uint8_t)(2 + (g->gen & 3));
        o[n] = (g->gen & 0x80) ? (uint8_t)(g->gen >> 4 & 7) + 2 : 253;
        o[n + 1] = (g->gen & 0x40) ? (uint8_t)(g->gen >> 2 & 3) : k;
        for (unsigned i = 2; i < k; i++)
            o[n + i] = 0;
        n += k;
    }
    return n;
}

/* The packet line the runner path runs. */
static void fz_seg_packet(const struct fz *f, const struct fz_seg *g, const struct tw_judge_ctx *ctx,
                          struct tw_packet *p)
{
    p->dir = TW_DIR_IN;
    p->flags = g->flags;
    p->seq = g->seq - f->h_isn;
    p->ack = g->ack - ctx->d_iss;
    p->has_ack = (p->flags & TW_ACK) || p->ack;
    p->has_win = true;
    p->win = g->win;
    p->len = g->len;
    struct tw_popt *o = p->opts;
    if (g->om & 1)
        *o++ = (struct tw_popt){.kind = TW_POPT_MSS, .a = g->mss};
    if (g->om & 2) {
        if (g->om & 32)
            *o++ = (struct tw_popt){.kind = TW_POPT_NOP};
        *o++ = (struct tw_popt){.kind = TW_POPT_WSCALE, .a = g->ws};
    }
    if (g->om & 4)
        *o++ = (struct tw_popt){.kind = TW_POPT_SACKOK};
    if (g->om & 8) {
        if (g->om & 32) {
            *o++ = (struct tw_popt){.kind = TW_POPT_NOP};
            *o++ = (struct tw_popt){.kind = TW_POPT_NOP};
        }
        *o++ = (struct tw_popt){.kind = TW_POPT_TS, .a = g->ts_val, .b = g->ts_ecr};
    }
    if (g->om & 64) {
        *o = (struct tw_popt){.kind = TW_POPT_GENERIC, .raw_len = (uint8_t)(2 + (g->gen & 3))};
        o->raw[0] = (g->gen & 0x80) ? (uint8_t)(g->gen >> 4 & 7) + 2 : 253;
        o->raw[1] = (g->gen & 0x40) ? (uint8_t)(g->gen >> 2 & 3) : o->raw_len;
        o++;
    }
    p->n_opts = (uint8_t)(o - p->opts);
    p->has_options = p->n_opts > 0;
    uint8_t tmp[TW_TCP_MAX_OPTLEN];
    p->opt_bytes = (uint8_t)tw_popts_encode(p, tmp);
    uint8_t v = g->ext >> 3;
    switch (g->ext & 7) {
    case 1: p->bad_csum = true; break;
    case 2: p->has_urg = true; p->urg = v; break;
    case 3: p->has_reserved = true; p->reserved = v & 15; break;
    case 4: p->has_doff = true; p->doff = v & 15; break;
    case 5: p->ip6_dstopts = f->v6; break;
    case 6: p->has_src = true; set_addr(&p->src, f->v6, v); break;
    case 7: p->has_dst = true; set_addr(&p->dst, f->v6, v); break;
    default: break;
    }
}

/* What H sends, with absolute numbers (tw_judge_inbound_segment of the
 * packet line; the options raw, unpadded). */
static void fz_seg_segment(const struct fz *f, const struct fz_seg *g, const struct tw_judge_ctx *ctx,
                           struct tw_segment *s)
{
    uint8_t v = g->ext >> 3;
    memset(s, 0, offsetof(struct tw_segment, opt));
    s->src = ctx->h_addr;
    s->dst = ctx->d_addr;
    s->sport = ctx->h_port;
    s->dport = ctx->d_port;
    s->seq = g->seq;
    s->ack = (g->flags & TW_ACK) || g->ack != ctx->d_iss ? g->ack : 0;
    s->flags = g->flags;
    s->window = g->win;
    s->payload_len = g->len;
    switch (g->ext & 7) {
    case 2: s->urgent = v; break;
    case 3: s->reserved = v & 15; break;
    case 6: set_addr(&s->src, f->v6, v); break;
    case 7: set_addr(&s->dst, f->v6, v); break;
    default: break;
    }
    s->opt.raw_len = (uint8_t)fz_seg_options(g, s->opt.raw);
}

/* The runner's build_inbound for the malformations that exist only as
 * bytes: a bad checksum, a wrong data offset, IPv6 destination options. */
static size_t fast_bytes(const struct fz *f, const struct fz_seg *g, const struct tw_segment *seg,
                         uint8_t *buf, size_t cap)
{
    enum tw_parse_err pe;
    size_t ip_len = f->v6 ? 40 : 20;
    size_t n = tw_segment_build(seg, buf, cap, &pe);
    if (!n)
        return 0;
    switch (g->ext & 7) {
    case 1:
        buf[ip_len + 17] ^= 0x01;
        break;
    case 4: {
        uint8_t *tcp = buf + ip_len;
        tcp[12] = (uint8_t)(((g->ext >> 3) & 15) << 4 | (tcp[12] & 0x0f));
        tcp[16] = tcp[17] = 0;
        uint16_t c = tw_tcp_checksum(&seg->src, &seg->dst, tcp, n - ip_len);
        tcp[16] = (uint8_t)(c >> 8);
        tcp[17] = (uint8_t)c;
        break;
    }
    default: { /* 5: a Destination Options header (PadN of 4) between IPv6 and TCP */
        static const uint8_t dst_opts[8] = {6, 0, 1, 4, 0, 0, 0, 0};
        if (n + 8 > cap)
            return 0;
        memmove(buf + 48, buf + 40, n - 40);
        memcpy(buf + 40, dst_opts, 8);
        buf[6] = 60;
        uint16_t plen = (uint16_t)((buf[4] << 8 | buf[5]) + 8);
        buf[4] = (uint8_t)(plen >> 8);
        buf[5] = (uint8_t)plen;
        n += 8;
        break;
    }
    }
    return n;
}

static int fast_segment(struct fz *f, const struct fz_seg *g, struct tw_segment *seg,
                        const struct tw_segment *in)
{
    unsigned kind = g->ext & 7;
    fast_begin(f);
    f->cur_in = in;
    tw_out_clear(&f->out);
    if (kind == 1 || kind == 4 || (kind == 5 && f->v6)) {
        uint8_t buf[256];
        size_t n = fast_bytes(f, g, seg, buf, sizeof(buf));
        if (!n)
            return fail(f, "the runner failed: cannot build this segment");
        tw_host_input_packet(f->host, buf, n, f->now, &f->out, NULL);
    } else {
        /* What tw_segment_parse makes of the bytes tw_segment_build writes:
         * the options padded with zeros (EOL) to a word, then decoded. */
        uint8_t pad = (uint8_t)((seg->opt.raw_len + 3u) & ~3u);
        for (unsigned i = seg->opt.raw_len; i < pad; i++)
            seg->opt.raw[i] = 0;
        tw_options_parse(seg->opt.raw, pad, &seg->opt);
        seg->ttl = 64;
        tw_host_input(f->host, seg, f->now, &f->out, NULL);
    }
    fast_emit(f);
    return fast_end(f);
}

static int do_segment(struct fz *f, struct reader *r)
{
    const struct tw_judge_ctx *ctx = ctx_of(f);
    const struct tw_tcb *c = live(f, ctx);
    bool sync = c && c->state >= TW_SYN_RECEIVED;
    bool has_snd = c && c->state >= TW_SYN_SENT;
    struct fz_seg g;
    g.flags = rd8(r);
    uint8_t smode = rd8(r);
    switch (smode & 3) {
    case 0: g.seq = sync ? c->rcv_nxt : f->h_isn; break;
    case 1: g.seq = f->h_isn; break;
    case 2: g.seq = sync ? c->rcv_nxt + c->rcv_wnd : f->h_isn + 65535; break;
    default: g.seq = f->h_next; break;
    }
    g.seq += read_delta(r, smode & 4);
    uint8_t amode = rd8(r);
    switch (amode % 5) {
    case 0: g.ack = has_snd ? c->snd_nxt : ctx->d_iss; break;
    case 1: g.ack = has_snd ? c->snd_una : ctx->d_iss; break;
    case 2: g.ack = has_snd ? c->iss : ctx->d_iss; break;
    case 3: g.ack = has_snd ? c->snd_una - c->max_snd_wnd : ctx->d_iss; break;
    default: g.ack = ctx->d_iss; break;
    }
    g.ack += read_delta(r, amode & 8);
    g.win = rd16(r);
    g.len = rd8(r) & 0x7f;
    g.om = rd8(r);
    g.mss = (g.om & 1) ? rd16(r) : 0;
    g.ws = (g.om & 2) ? rd8(r) & 15 : 0;
    g.ts_val = g.ts_ecr = 0;
    if (g.om & 8) {
        f->h_ts += (uint32_t)(int32_t)(int8_t)rd8(r);
        g.ts_val = f->h_ts;
        g.ts_ecr = (g.om & 16) ? f->d_last_tsval : 0;
    }
    g.gen = (g.om & 64) ? rd8(r) : 0;
    g.ext = (g.om & 128) ? rd8(r) : 0;

    /* What H sends, with absolute numbers, for the oracles. */
    struct tw_segment in;
    fz_seg_segment(f, &g, ctx, &in);
    struct tw_segment seg = in;
    if ((g.ext & 7) == 4) {
        /* The model reads the header length from doff: the payload is what follows. */
        unsigned opt_bytes = in.opt.raw_len;
        unsigned tcp_len = 20u + ((opt_bytes + 3u) & ~3u) + in.payload_len;
        unsigned hdr = ((g.ext >> 3) & 15) * 4u;
        in.payload_len = (uint16_t)(hdr >= 20 && hdr <= tcp_len ? tcp_len - hdr : 0);
    }
    if (f->h_n < TW_FZ_MAX_EVENTS) {
        f->h_seq[f->h_n] = in.seq;
        f->h_len[f->h_n] = tw_segment_len(&in);
        f->h_n++;
    }
    f->h_next = g.seq + tw_segment_len(&in);
    if (f->fast)
        return fast_segment(f, &g, &seg, &in);
    struct tw_script_event e;
    memset(&e, 0, offsetof(struct tw_script_event, u) + sizeof(e.u.pkt));
    e.kind = TW_SEV_PACKET;
    fz_seg_packet(f, &g, ctx, &e.u.pkt);
    return run_line(f, &e, &in);
}

static int do_icmp(struct fz *f, struct reader *r)
{
    static const struct {
        uint8_t type, code;
    } choices[] = {{3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 9}, {3, 10},
                   {3, 13}, {11, 0}, {12, 0}, {4, 0}};
    uint8_t pick = rd8(r);
    int8_t delta = (int8_t)rd8(r);
    unsigned i = (pick & 15u) % (sizeof(choices) / sizeof(choices[0]));
    const struct tw_judge_ctx *ctx = ctx_of(f);
    const struct tw_tcb *c = live(f, ctx);
    if (f->v6 && choices[i].type == 4)
        return 0; /* source quench has no ICMPv6 equivalent */
    uint8_t type = choices[i].type, code = choices[i].code;
    uint32_t mtu = type == 3 && code == 4 ? 68u + (pick >> 4) * 96u : 0;
    uint32_t base = c && c->state >= TW_SYN_SENT ? c->snd_una : ctx->d_iss;
    uint32_t quote_seq = base + (uint32_t)(int32_t)delta - ctx->d_iss;
    if (f->fast) {
        /* What tw_icmp_parse makes of the error the runner builds: the
         * quote is D's 4-tuple with seq d_iss + quote_seq. */
        struct tw_icmp ic;
        memset(&ic, 0, sizeof(ic));
        ic.family = f->v6 ? 6 : 4;
        ic.type = type;
        ic.code = code;
        if (f->v6)
            tw_icmp_v4_to_v6(type, code, &ic.type, &ic.code);
        fast_begin(f);
        if (tw_icmp_classify(ic.family, ic.type, ic.code, &ic.cls)) {
            ic.mtu = ic.cls == TW_ICMP_PMTU ? mtu : 0;
            ic.src = ctx->h_addr;
            ic.dst = ctx->d_addr;
            ic.q_src = ctx->d_addr;
            ic.q_dst = ctx->h_addr;
            ic.q_sport = ctx->d_port;
            ic.q_dport = ctx->h_port;
            ic.q_seq = ctx->d_iss + quote_seq;
            tw_out_clear(&f->out);
            tw_host_icmp(f->host, &ic, f->now, &f->out, NULL);
            fast_emit(f);
        }
        return fast_end(f);
    }
    struct tw_script_event e;
    memset(&e, 0, offsetof(struct tw_script_event, u) + sizeof(e.u.icmp));
    e.kind = TW_SEV_ICMP;
    struct tw_icmp_line *ic = &e.u.icmp;
    ic->type = type;
    ic->code = code;
    ic->has_mtu = mtu != 0;
    ic->mtu = mtu;
    ic->has_quote = true;
    ic->quote_seq = quote_seq;
    return run_line(f, &e, NULL);
}

static int do_time(struct fz *f, struct reader *r)
{
    uint64_t ms = rd16(r);
    if (f->sink && f->sink->time)
        f->sink->time(f->sink->ctx, tw_runner_now(f->run), tw_runner_now(f->run) + ms * 1000u,
                      tw_host_next_deadline(f->host));
    snapshot(f);
    if (f->fast) {
        fast_advance(f, f->now + ms * 1000u);
        return fast_end(f);
    }
    if (tw_runner_advance(f->run, tw_runner_now(f->run) + ms * 1000u))
        return fail(f, "the runner failed: %s", tw_runner_message(f->run));
    return check_tcbs(f) || f->failed ? -1 : 0;
}

/* ---- an input ------------------------------------------------------------ */

size_t tw_fuzz_model_event_len(const uint8_t *data, size_t left)
{
    if (!left)
        return 0;
    uint8_t op = data[0];
    size_t n;
    switch (op & 7) {
    case TW_FZ_OP_USER: n = ((op >> 3) & 7) == TW_FZ_WRITE ? 2 : 1; break;
    case TW_FZ_OP_TIME:
    case TW_FZ_OP_ICMP: n = 3; break;
    default: {
        /* op flags smode [d] amode [d] win(2) len om [...] */
        uint8_t smode = left > 2 ? data[2] : 0;
        n = 3 + ((smode & 4) ? 4 : 1);
        uint8_t amode = left > n ? data[n] : 0;
        n += 1 + ((amode & 8) ? 4 : 1) + 3;
        uint8_t om = left > n ? data[n] : 0;
        n += 1 + ((om & 1) ? 2 : 0) + ((om & 2) ? 1 : 0) + ((om & 8) ? 1 : 0) + ((om & 64) ? 1 : 0) +
             ((om & 128) ? 1 : 0);
        break;
    }
    }
    return n < left ? n : left;
}

/* The model adapter's environment for a profile, as the runner opens it for
 * TW_FZ_PATH (its RFC 6528 key): taken once from a runner. */
static int fast_env(bool strict, struct tw_env *out)
{
    static _Thread_local struct tw_env env[2];
    static _Thread_local bool have[2];
    if (!have[strict]) {
        struct tw_script hdr;
        struct tw_run_config rc = {.profile = strict ? "S" : "C", .tolerance_usecs = -1, .h_port = H_PORT};
        struct tw_case_result cres;
        struct tw_runner *run;
        memset(&hdr, 0, sizeof(hdr));
        hdr.path = (char *)TW_FZ_PATH;
        hdr.ip_version = 4;
        if (tw_runner_open(&run, &hdr, &rc, &cres)) {
            tw_case_result_cleanup(&cres);
            return -1;
        }
        env[strict] = tw_adapter_model_host(&tw_adapter_model, tw_runner_adapter(run))->env;
        tw_runner_finish(run, &cres);
        tw_case_result_cleanup(&cres);
        have[strict] = true;
    }
    *out = env[strict];
    return 0;
}

static int fast_open(struct fz *f, uint8_t cfg)
{
    static _Thread_local struct tw_host host;
    static _Thread_local struct tw_addr addr[2][2]; /* [v6][D, H] */
    static _Thread_local bool have_addr;
    struct tw_env env;
    if (fast_env(cfg & 1, &env))
        return fail(f, "the runner did not start");
    if (!have_addr) {
        tw_addr_parse("198.51.100.2", &addr[0][0]);
        tw_addr_parse("198.51.100.1", &addr[0][1]);
        tw_addr_parse("2001:db8::2", &addr[1][0]);
        tw_addr_parse("2001:db8::1", &addr[1][1]);
        have_addr = true;
    }
    /* the sysctls: model_shell's knobs */
    if (cfg & 4)
        env.profile.offer &= (uint8_t)~TW_HAS_TS;
    if (cfg & 8)
        env.profile.offer &= (uint8_t)~TW_HAS_SACKOK;
    if (cfg & 16)
        env.profile.offer &= (uint8_t)~TW_HAS_WSCALE;
    if (cfg >> 5)
        env.profile.syn_retries = env.profile.synack_retries = (uint8_t)(cfg >> 5);
    tw_host_init(&host, &env);
    f->host = &host;
    f->ctx.d_addr = addr[f->v6][0];
    f->ctx.h_addr = addr[f->v6][1];
    f->ctx.d_port = D_PORT;
    f->ctx.h_port = H_PORT;
    f->ctx.h_isn = f->h_isn;
    pend_n = 0;
    return 0;
}

static int run_input(const uint8_t *data, size_t size, struct tw_fz_result *res, const struct tw_fz_sink *sink,
                     bool fast)
{
    struct reader r = {.p = data, .n = size};
    struct fz f;
    struct tw_case_result cres;
    struct tw_run_config rc = {
        .tolerance_usecs = -1,
        .h_port = H_PORT,
        .record = true,
        .record_out = on_output,
        .record_ctx = &f,
        .trace = sink ? sink->trace : NULL,
        .trace_ctx = sink ? sink->ctx : NULL,
    };
    memset(&f, 0, offsetof(struct fz, hdr));
    res->steps = 0;
    res->rows[0] = res->rows[1] = 0;
    res->failed = false;
    res->message[0] = '\0';
    res->out_digest = 0;
    res->n_out = 0;
    f.fast = fast;
    f.res = res;
    f.sink = sink;

    uint8_t cfg = rd8(&r);
    f.v6 = cfg & 2;
    f.h_isn = rd32(&r);
    f.h_next = f.h_isn;
    if (fast) {
        if (fast_open(&f, cfg))
            return -1;
    } else {
        memset(&f.hdr, 0, sizeof(f.hdr));
        f.hdr.path = (char *)TW_FZ_PATH;
        f.hdr.ip_version = f.v6 ? 6 : 4;
        f.hdr.remote_isn = f.h_isn;
        f.hdr.profile = (char *)((cfg & 1) ? "S" : "C");
        rc.profile = f.hdr.profile; /* the runner keeps &rc until tw_runner_finish */
        if (sink && sink->header)
            sink->header(sink->ctx, &f.hdr);
        if (tw_runner_open(&f.run, &f.hdr, &rc, &cres)) {
            fail(&f, "the runner did not start: %s", cres.message ? cres.message : "");
            tw_case_result_cleanup(&cres);
            return -1;
        }
        f.host = tw_adapter_model_host(&tw_adapter_model, tw_runner_adapter(f.run));

        /* The options D offers and its retries: sysctls the model maps. */
        char cmd[200];
        unsigned retries = cfg >> 5;
        int n = snprintf(cmd, sizeof(cmd), "sysctl -q");
        if (cfg & 4)
            n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " net.ipv4.tcp_timestamps=0");
        if (cfg & 8)
            n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " net.ipv4.tcp_sack=0");
        if (cfg & 16)
            n += snprintf(cmd + n, sizeof(cmd) - (size_t)n, " net.ipv4.tcp_window_scaling=0");
        if (retries)
            snprintf(cmd + n, sizeof(cmd) - (size_t)n,
                     " net.ipv4.tcp_syn_retries=%u net.ipv4.tcp_synack_retries=%u", retries, retries);
        if (cfg & (4 | 8 | 16 | 0xe0)) {
            struct tw_script_event e;
            memset(&e, 0, offsetof(struct tw_script_event, u) + sizeof(e.u.shell));
            e.kind = TW_SEV_SHELL;
            e.u.shell = cmd;
            run_line(&f, &e, NULL);
        }
    }

    while (!f.failed && r.i < r.n && res->steps < TW_FZ_MAX_EVENTS) {
        res->steps++;
        uint8_t op = rd8(&r);
        switch (op & 7) {
        case TW_FZ_OP_USER: do_user(&f, op, &r); break;
        case TW_FZ_OP_TIME: do_time(&f, &r); break;
        case TW_FZ_OP_ICMP: do_icmp(&f, &r); break;
        default: do_segment(&f, &r); break;
        }
    }
    if (fast)
        return f.failed ? -1 : 0;
    tw_runner_finish(f.run, &cres);
    if (!f.failed && cres.status == TW_CASE_FAIL)
        fail(&f, "the runner failed at the end: %s", cres.message ? cres.message : "");
    tw_case_result_cleanup(&cres);
    return f.failed ? -1 : 0;
}

int tw_fuzz_model_run(const uint8_t *data, size_t size, struct tw_fz_result *res, const struct tw_fz_sink *sink)
{
    return run_input(data, size, res, sink, sink == NULL);
}

int tw_fuzz_model_run_runner(const uint8_t *data, size_t size, struct tw_fz_result *res)
{
    return run_input(data, size, res, NULL, false);
}

int tw_fuzz_model_check_paths(const uint8_t *data, size_t size, char *msg, size_t cap)
{
    static _Thread_local struct tw_fz_result a, b;
    int ra = tw_fuzz_model_run(data, size, &a, NULL);
    int rb = tw_fuzz_model_run_runner(data, size, &b);
    if (ra == rb && a.steps == b.steps && a.rows[0] == b.rows[0] && a.rows[1] == b.rows[1] &&
        a.n_out == b.n_out && a.out_digest == b.out_digest)
        return 0;
    snprintf(msg, cap,
             "the fast path and the runner path disagree: fast %s after %u steps, %u segments from D "
             "(digest %016llx), rows %016llx%016llx%s%s; runner %s after %u steps, %u segments (digest "
             "%016llx), rows %016llx%016llx%s%s",
             ra ? "fails" : "passes", a.steps, a.n_out, (unsigned long long)a.out_digest,
             (unsigned long long)a.rows[1], (unsigned long long)a.rows[0], ra ? ": " : "", ra ? a.message : "",
             rb ? "fails" : "passes", b.steps, b.n_out, (unsigned long long)b.out_digest,
             (unsigned long long)b.rows[1], (unsigned long long)b.rows[0], rb ? ": " : "", rb ? b.message : "");
    return -1;
}

/* ---- collecting a script ---------------------------------------------------- */

struct collect {
    struct tw_script *s;
    size_t cap;
    size_t last; /* index of the line a run_line reported first */
    bool oom;
};

static void col_header(void *ctx, const struct tw_script *hdr)
{
    struct collect *c = ctx;
    c->s->ip_version = hdr->ip_version;
    c->s->remote_isn = hdr->remote_isn;
    c->s->profile = strdup(hdr->profile);
    if (!c->s->profile)
        c->oom = true;
}

static void col_line(void *ctx, const struct tw_script_event *e, bool update)
{
    struct collect *c = ctx;
    struct tw_script *s = c->s;
    if (c->oom)
        return;
    if (update) {
        struct tw_script_event *dst = &s->events[c->last];
        char *shell = dst->kind == TW_SEV_SHELL ? dst->u.shell : NULL;
        *dst = *e;
        if (shell)
            dst->u.shell = shell;
        return;
    }
    if (s->n_events == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct tw_script_event *v = realloc(s->events, cap * sizeof(*v));
        if (!v) {
            c->oom = true;
            return;
        }
        s->events = v;
        c->cap = cap;
    }
    struct tw_script_event *dst = &s->events[s->n_events];
    *dst = *e;
    if (e->kind == TW_SEV_SHELL) {
        dst->u.shell = strdup(e->u.shell);
        if (!dst->u.shell) {
            c->oom = true;
            return;
        }
    }
    if (!(e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT))
        c->last = s->n_events;
    s->n_events++;
}

int tw_fuzz_model_decode(const uint8_t *data, size_t size, struct tw_script *out, struct tw_fz_result *res)
{
    struct collect c = {.s = out};
    struct tw_fz_sink sink = {.header = col_header, .line = col_line, .ctx = &c};
    memset(out, 0, sizeof(*out));
    int rc = tw_fuzz_model_run(data, size, res, &sink);
    if (c.oom)
        return -2;
    /* covers: the requirements of the rows taken, once each */
    out->covers = calloc(TW_ROW__COUNT, sizeof(*out->covers));
    if (!out->covers)
        return -2;
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        if (!((res->rows[r / 64] >> (r % 64)) & 1))
            continue;
        bool dup = false;
        for (size_t i = 0; i < out->n_covers && !dup; i++)
            dup = !strcmp(out->covers[i].id, tw_rows[r].requirement);
        if (!dup)
            snprintf(out->covers[out->n_covers++].id, sizeof(out->covers[0].id), "%s",
                     tw_rows[r].requirement);
    }
    return rc;
}

/* ---- encoding a case script (seeds) ------------------------------------------ */

struct writer {
    uint8_t *p;
    size_t n, cap;
    unsigned events;
};

static void wr8(struct writer *w, uint8_t v)
{
    if (w->n < w->cap)
        w->p[w->n++] = v;
}
static void wr16(struct writer *w, uint16_t v)
{
    wr8(w, (uint8_t)(v >> 8));
    wr8(w, (uint8_t)v);
}
static void wr32(struct writer *w, uint32_t v)
{
    wr16(w, (uint16_t)(v >> 16));
    wr16(w, (uint16_t)v);
}

/* Room for one more event (the driver reads at most TW_FZ_MAX_EVENTS). */
static bool wr_event(struct writer *w, size_t len)
{
    if (w->events >= TW_FZ_MAX_EVENTS || w->n + len > w->cap)
        return false;
    w->events++;
    return true;
}

static uint8_t shell_config(const char *cmd)
{
    uint8_t cfg = 0;
    const char *v;
    if (strstr(cmd, "tcp_timestamps=0"))
        cfg |= 4;
    if (strstr(cmd, "tcp_sack=0"))
        cfg |= 8;
    if (strstr(cmd, "tcp_window_scaling=0"))
        cfg |= 16;
    if ((v = strstr(cmd, "tcp_syn_retries=")) || (v = strstr(cmd, "tcp_synack_retries="))) {
        unsigned r = (unsigned)atoi(strchr(v, '=') + 1);
        cfg |= (uint8_t)((r > 7 ? 7 : r ? r : 1) << 5);
    }
    return cfg;
}

size_t tw_fuzz_model_encode(const struct tw_script *s, uint8_t *out, size_t cap)
{
    static const struct {
        uint8_t type, code;
    } choices[] = {{3, 0}, {3, 1}, {3, 2}, {3, 3}, {3, 4}, {3, 5}, {3, 9}, {3, 10},
                   {3, 13}, {11, 0}, {12, 0}, {4, 0}};
    struct writer w = {.p = out, .cap = cap};
    int64_t fds[MAX_FDS], t_script = 0, t_enc = 0;
    bool linger[MAX_FDS] = {false};
    unsigned n_fds = 0;
    uint32_t h_ts = 0;
    uint8_t cfg = (uint8_t)((s->profile && !strcmp(s->profile, "S") ? 1 : 0) | (s->ip_version == 6 ? 2 : 0));
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].kind == TW_SEV_SHELL && !s->events[i].profiles)
            cfg |= shell_config(s->events[i].u.shell);
    wr8(&w, cfg);
    wr32(&w, s->remote_isn);
    for (size_t i = 0; i < s->n_events; i++) {
        const struct tw_script_event *e = &s->events[i];
        if (e->profiles && !tw_script_event_applies(s, e, (const char *const[]){"C", "model"}, 2))
            continue;
        if (e->time.kind == TW_TIME_ABSOLUTE)
            t_script = e->time.usecs;
        else if (e->time.kind == TW_TIME_RELATIVE)
            t_script += e->time.usecs;
        if (e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT)
            continue; /* D's: the driver records what the model sends */
        while (t_script - t_enc >= 1000 && wr_event(&w, 3)) {
            int64_t ms = (t_script - t_enc) / 1000;
            if (ms > 65535)
                ms = 65535;
            wr8(&w, TW_FZ_OP_TIME);
            wr16(&w, (uint16_t)ms);
            t_enc += ms * 1000;
        }
        if (e->kind == TW_SEV_SYSCALL) {
            const struct tw_syscall *sc = &e->u.sys;
            int64_t fd = sc->n_args ? sc->args[0].value : -1;
            int idx = -1;
            for (unsigned k = 0; k < n_fds; k++)
                if (fds[k] == fd)
                    idx = (int)k;
            uint8_t call;
            switch (sc->sys) {
            case TW_SYS_LISTEN: call = TW_FZ_LISTEN; break;
            case TW_SYS_CONNECT: call = TW_FZ_CONNECT; break;
            case TW_SYS_ACCEPT: call = TW_FZ_ACCEPT; break;
            case TW_SYS_CLOSE: call = idx >= 0 && linger[idx] ? TW_FZ_ABORT : TW_FZ_CLOSE; break;
            case TW_SYS_WRITE: call = TW_FZ_WRITE; break;
            case TW_SYS_READ: call = TW_FZ_READ; break;
            case TW_SYS_SHUTDOWN: call = TW_FZ_SHUTDOWN; break;
            case TW_SYS_SETSOCKOPT:
                if (idx >= 0 && sc->args[2].value == 13 && sc->args[3].kind == TW_ARG_STRUCT)
                    linger[idx] = true;
                continue;
            default: continue;
            }
            if (call != TW_FZ_LISTEN && call != TW_FZ_CONNECT && (idx < 0 || idx > 3))
                continue;
            if (!wr_event(&w, call == TW_FZ_WRITE ? 2 : 1))
                break;
            wr8(&w, (uint8_t)(TW_FZ_OP_USER | call << 3 | (idx > 0 ? idx : 0) << 6));
            if (call == TW_FZ_WRITE) {
                int64_t len = (sc->args[2].value - 1) / 8;
                wr8(&w, (uint8_t)(len < 0 ? 0 : len > 255 ? 255 : len));
            }
            /* the driver's list of sockets, in its order */
            if ((call == TW_FZ_LISTEN || call == TW_FZ_CONNECT || (call == TW_FZ_ACCEPT && sc->ret >= 0)) &&
                n_fds < MAX_FDS) {
                linger[n_fds] = false;
                fds[n_fds++] = call == TW_FZ_ACCEPT ? sc->ret : fd;
            }
            if ((call == TW_FZ_CLOSE || call == TW_FZ_ABORT) && idx >= 0) {
                fds[idx] = fds[--n_fds];
                linger[idx] = linger[n_fds];
            }
        } else if (e->kind == TW_SEV_PACKET) {
            const struct tw_packet *p = &e->u.pkt;
            uint8_t om = 0, ext = 0;
            uint16_t mss = 0;
            uint8_t ws = 0, tsd = 0;
            for (unsigned k = 0; k < p->n_opts; k++) {
                const struct tw_popt *o = &p->opts[k];
                switch (o->kind) {
                case TW_POPT_MSS: om |= 1; mss = (uint16_t)o->a; break;
                case TW_POPT_WSCALE: om |= 2; ws = (uint8_t)o->a; break;
                case TW_POPT_SACKOK: om |= 4; break;
                case TW_POPT_NOP: om |= 32; break;
                case TW_POPT_TS: {
                    int32_t d = (int32_t)(o->a - h_ts);
                    d = d > 127 ? 127 : d < -128 ? -128 : d;
                    om |= 8 | (o->b ? 16 : 0);
                    tsd = (uint8_t)(int8_t)d;
                    h_ts += (uint32_t)d;
                    break;
                }
                case TW_POPT_GENERIC:
                case TW_POPT_RAW: om |= 64; break;
                default: break;
                }
            }
            if (p->bad_csum)
                ext = 1;
            else if (p->has_urg)
                ext = (uint8_t)(2 | (p->urg > 31 ? 31 : p->urg) << 3);
            else if (p->has_reserved)
                ext = (uint8_t)(3 | (p->reserved & 15) << 3);
            else if (p->has_doff)
                ext = (uint8_t)(4 | (p->doff & 15) << 3);
            else if (p->ip6_dstopts)
                ext = 5;
            else if (p->has_src)
                ext = 6;
            else if (p->has_dst)
                ext = 7;
            if (ext)
                om |= 128;
            size_t len = 1 + 1 + 1 + 4 + 1 + 4 + 2 + 1 + 1 + ((om & 1) ? 2 : 0) + ((om & 2) ? 1 : 0) +
                         ((om & 8) ? 1 : 0) + ((om & 64) ? 1 : 0) + ((om & 128) ? 1 : 0);
            if (!wr_event(&w, len))
                break;
            wr8(&w, TW_FZ_OP_SEGMENT);
            wr8(&w, p->flags);
            wr8(&w, 1 | 4); /* H's ISN + 32 bits: the script's own number */
            wr32(&w, p->seq);
            wr8(&w, 4 | 8); /* the script's 0 + 32 bits */
            wr32(&w, p->ack);
            wr16(&w, (uint16_t)(p->has_win ? p->win : 65535));
            wr8(&w, (uint8_t)(p->len > 127 ? 127 : p->len));
            wr8(&w, om);
            if (om & 1)
                wr16(&w, mss);
            if (om & 2)
                wr8(&w, ws);
            if (om & 8)
                wr8(&w, tsd);
            if (om & 64)
                wr8(&w, 0x01);
            if (om & 128)
                wr8(&w, ext);
        } else if (e->kind == TW_SEV_ICMP) {
            const struct tw_icmp_line *ic = &e->u.icmp;
            unsigned k = 0;
            while (k < sizeof(choices) / sizeof(choices[0]) &&
                   !(choices[k].type == ic->type && (ic->type != 3 || choices[k].code == ic->code)))
                k++;
            if (k == sizeof(choices) / sizeof(choices[0]) || !wr_event(&w, 3))
                continue;
            unsigned mtu = ic->has_mtu && ic->mtu > 68 ? (ic->mtu - 68) / 96 : 0;
            wr8(&w, TW_FZ_OP_ICMP);
            wr8(&w, (uint8_t)(k | (mtu > 15 ? 15 : mtu) << 4));
            int32_t d = (int32_t)ic->quote_seq;
            wr8(&w, (uint8_t)(int8_t)(d > 127 ? 127 : d < -128 ? -128 : d));
        }
    }
    return w.n;
}

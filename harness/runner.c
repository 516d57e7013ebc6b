/* The runner: walks a case's events on a stack, in order, on the stack's
 * clock. packetdrill's semantics (docs/script-format.md): times are
 * relative to the previous event's actual time; outbound lines consume
 * what D sent, in order; anything D sent that no line consumed fails the
 * case at the next inbound line and at the end. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"
#include "script_print.h"
#include "tcp.h"

#define ANY_TIME_WAIT_US (120u * 1000000u) /* how long "*" waits for a segment */
#define PKT_MAX 2048
#define DIAG_WAIT_US (10u * 1000000u) /* how far past a missing segment we look */

struct qseg {
    uint64_t t;
    size_t len;
    uint8_t bytes[PKT_MAX];
};

/* D's first SYN (or SYN,ACK) of each connection, to compare its
 * retransmissions with (HS-TMR-07). */
struct syn_memo {
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* SYN, or SYN|ACK */
    uint8_t opt_len;
    uint8_t opt[TW_TCP_MAX_OPTLEN]; /* TS val and ecr zeroed */
};
#define SYN_MEMO_MAX 8

struct fdmap {
    int64_t sfd; /* the script's descriptor */
    int h;       /* the adapter's handle */
    bool nonblock;
};

struct rs {
    const struct tw_script *s;
    const struct tw_adapter_ops *ops;
    struct tw_adapter *ad;
    const struct tw_run_config *cfg; /* may be NULL */
    uint16_t bind_port;
    struct tw_judge_ctx ctx;
    bool iss_known;
    bool ts_known; /* ctx.ts_offset learned from a segment D sent */
    int64_t tol;
    bool warp;     /* the case's waits may be skipped on a real clock (tw_script_time_free) */
    uint64_t prev; /* actual time of the previous event */
    uint64_t anchor; /* ... of the last one that could arm a timer (late_ok) */
    struct qseg *q;
    size_t qhead, qn, qcap;
    uint8_t last_sent[PKT_MAX];
    size_t last_len;
    struct syn_memo syns[SYN_MEMO_MAX];
    unsigned n_syns;
    struct fdmap *fds;
    size_t n_fds;
    int last_h; /* the adapter handle of the last socket created */
    struct {
        bool active;
        const struct tw_script_event *e;
        int h;
        uint64_t start;
    } pend;
    /* record mode (cfg->record): the syscall line being run gets its result */
    bool record;
    struct tw_syscall *rec_sys;
    /* the verdict */
    bool failed;
    char *msg;
    size_t msg_len, msg_cap;
};

/* ---- diagnostics ------------------------------------------------------- */

static void add_msg(struct rs *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void add_msg(struct rs *r, const char *fmt, ...)
{
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (r->msg_len + (size_t)n + 2 > r->msg_cap) {
        size_t cap = (r->msg_len + (size_t)n + 2) * 2;
        char *m = realloc(r->msg, cap);
        if (!m)
            return;
        r->msg = m;
        r->msg_cap = cap;
    }
    if (r->msg_len)
        r->msg[r->msg_len++] = '\n';
    va_start(ap, fmt);
    vsnprintf(r->msg + r->msg_len, r->msg_cap - r->msg_len, fmt, ap);
    va_end(ap);
    r->msg_len += (size_t)n;
}

/* The first failure ends the case (as packetdrill does). */
static int fail(struct rs *r, const struct tw_script_event *e, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct rs *r, const struct tw_script_event *e, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    if (r->failed)
        return -1;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    if (e)
        add_msg(r, "%s:%d: %s", r->s->path, e->pos.line, buf);
    else
        add_msg(r, "%s: %s", r->s->path, buf);
    r->failed = true;
    return -1;
}

static void add_segment(struct rs *r, const char *label, const struct tw_segment *seg)
{
    char buf[512];
    tw_segment_render(seg, buf, sizeof(buf));
    add_msg(r, "  %s %s", label, buf);
}

static void add_packet_bytes(struct rs *r, const char *label, const uint8_t *b, size_t len)
{
    struct tw_segment seg;
    if (tw_segment_parse(b, len, 0, &seg) == TW_PARSE_OK)
        add_segment(r, label, &seg);
    else
        add_msg(r, "  %s (%zu bytes that do not parse as TCP)", label, len);
}

static double secs(uint64_t us) { return (double)us / 1e6; }

/* The trace hook (pcap.h): every packet that crosses the adapter. */
static void trace(const struct rs *r, uint64_t t, bool from_d, const uint8_t *pkt, size_t len)
{
    if (r->cfg && r->cfg->trace)
        r->cfg->trace(r->cfg->trace_ctx, t, from_d, pkt, len);
}

/* ---- what D sent ---------------------------------------------------------- */

/* HS-GEN-07: option bytes D sends after an EOL, up to the data offset, are
 * zero padding. Checked on every segment, so that a line written `<...>`
 * still holds D to it. */
static bool padding_is_zero(const struct tw_options *o)
{
    size_t i = 0;
    while (i < o->raw_len && o->raw[i] != TW_OPT_EOL) {
        if (o->raw[i] == TW_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= o->raw_len || o->raw[i + 1] < 2)
            return true; /* malformed: the codec's business, not padding */
        i += o->raw[i + 1];
    }
    for (i++; i < o->raw_len; i++)
        if (o->raw[i])
            return false;
    return true;
}

/* The option bytes with the timestamp's val and ecr zeroed: what a
 * retransmission must repeat. */
static void syn_options_key(const struct tw_options *o, uint8_t *out)
{
    size_t i = 0;
    memcpy(out, o->raw, o->raw_len);
    while (i < o->raw_len && out[i] != TW_OPT_EOL) {
        if (out[i] == TW_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= o->raw_len || out[i + 1] < 2 || i + out[i + 1] > o->raw_len)
            return;
        if (out[i] == TW_OPT_TS && out[i + 1] == 10)
            memset(out + i + 2, 0, 8);
        i += out[i + 1];
    }
}

/* HS-TMR-07: a retransmitted SYN or SYN,ACK (same ports, flags, seq and
 * ack as one D sent before) repeats that one's options; only the
 * timestamp may change. Checked on every segment, so that lines written
 * `<...>` still hold D to it. */
static int check_syn_repeat(struct rs *r, const struct tw_script_event *e, const struct tw_segment *seg)
{
    uint8_t flags = seg->flags & (TW_SYN | TW_ACK);
    uint8_t key[TW_TCP_MAX_OPTLEN];
    if (!(flags & TW_SYN))
        return 0;
    syn_options_key(&seg->opt, key);
    for (unsigned i = 0; i < r->n_syns; i++) {
        const struct syn_memo *m = &r->syns[i];
        struct tw_options first;
        char w[200];
        if (m->sport != seg->sport || m->dport != seg->dport || m->flags != flags || m->seq != seg->seq ||
            ((flags & TW_ACK) && m->ack != seg->ack))
            continue;
        if (m->opt_len == seg->opt.raw_len && !memcmp(m->opt, key, m->opt_len))
            return 0;
        memset(&first, 0, sizeof(first));
        memcpy(first.raw, m->opt, m->opt_len);
        first.raw_len = m->opt_len;
        tw_options_parse(first.raw, first.raw_len, &first);
        first.raw_len = m->opt_len;
        memcpy(first.raw, m->opt, m->opt_len);
        tw_options_render(&first, w, sizeof(w));
        fail(r, e, "D retransmitted its %s with other options than the first [%s] (HS-TMR-07)",
             flags & TW_ACK ? "SYN,ACK" : "SYN", m->opt_len ? w : "");
        add_segment(r, "got:", seg);
        return -1;
    }
    if (r->n_syns < SYN_MEMO_MAX) {
        struct syn_memo *m = &r->syns[r->n_syns++];
        m->sport = seg->sport;
        m->dport = seg->dport;
        m->seq = seg->seq;
        m->ack = seg->ack;
        m->flags = flags;
        m->opt_len = seg->opt.raw_len;
        memcpy(m->opt, key, seg->opt.raw_len);
    }
    return 0;
}

/* A new connection may follow on the same 4-tuple once H resets it or
 * opens again (in virtual time the model then picks the same ISS, with the
 * options of the new SYN): its SYN,ACK is not a retransmission. */
static void forget_syns(struct rs *r, uint16_t d_port, uint16_t h_port)
{
    unsigned k = 0;
    for (unsigned i = 0; i < r->n_syns; i++)
        if (r->syns[i].sport != d_port || r->syns[i].dport != h_port)
            r->syns[k++] = r->syns[i];
    r->n_syns = k;
}

static int drain(struct rs *r, const struct tw_script_event *e)
{
    const struct tw_captured *c;
    size_t n = r->ops->collect(r->ad, &c);
    for (size_t i = 0; i < n; i++) {
        struct tw_segment seg;
        enum tw_parse_err pe;
        trace(r, c[i].time_us, true, c[i].bytes, c[i].len);
        if (c[i].len > PKT_MAX)
            return fail(r, e, "D sent a packet of %zu bytes, more than the harness handles", c[i].len);
        if (r->qn == r->qcap) {
            size_t cap = r->qcap ? r->qcap * 2 : 8;
            struct qseg *q = realloc(r->q, cap * sizeof(*q));
            if (!q)
                return fail(r, e, "out of memory");
            r->q = q;
            r->qcap = cap;
        }
        r->q[r->qn].t = c[i].time_us;
        r->q[r->qn].len = c[i].len;
        memcpy(r->q[r->qn].bytes, c[i].bytes, c[i].len);
        r->qn++;
        memcpy(r->last_sent, c[i].bytes, c[i].len);
        r->last_len = c[i].len;
        /* HS-GEN-01: every segment D emits carries a correct checksum. */
        pe = tw_segment_parse(c[i].bytes, c[i].len, TW_PARSE_VERIFY_CHECKSUM, &seg);
        if (pe == TW_PARSE_BAD_CHECKSUM) {
            fail(r, e, "D sent a segment with a bad checksum (HS-GEN-01)");
            add_packet_bytes(r, "got:", c[i].bytes, c[i].len);
            return -1;
        }
        if (pe != TW_PARSE_OK)
            return fail(r, e, "D sent a packet the codec rejects: %s", tw_parse_strerror(pe));
        if (!padding_is_zero(&seg.opt)) {
            fail(r, e, "D sent nonzero option bytes after an EOL (HS-GEN-07)");
            add_segment(r, "got:", &seg);
            return -1;
        }
        if (check_syn_repeat(r, e, &seg))
            return -1;
        /* D's ISN: from the first SYN or SYN,ACK it sends. */
        if (!r->iss_known && (seg.flags & TW_SYN)) {
            r->iss_known = true;
            r->ctx.d_iss = seg.seq;
        }
        if ((seg.flags & (TW_SYN | TW_ACK)) == TW_SYN)
            r->ctx.d_port = seg.sport; /* an active open: D's port is its own choice */
        /* The window D advertises ("wnd" on inbound lines). RFC 7323 2.2-2.3:
         * a SYN's window is never scaled, and scaling is on only when both
         * SYNs carried WS (a shift above 14 counts as 14). */
        if (seg.flags & TW_SYN) {
            /* also for "win syn": the window and shift of D's latest SYN */
            r->ctx.d_syn_seen = true;
            r->ctx.d_syn_win = seg.window;
            r->ctx.d_syn_wscale = (seg.opt.has & TW_HAS_WSCALE) ? (int8_t)(seg.opt.wscale > 14 ? 14 : seg.opt.wscale) : -1;
        }
        r->ctx.d_wnd = (uint32_t)seg.window << (!(seg.flags & TW_SYN) && r->ctx.d_syn_wscale >= 0 && r->ctx.h_syn_ws
                                                    ? (unsigned)r->ctx.d_syn_wscale
                                                    : 0u);
    }
    return 0;
}

static bool queue_empty(const struct rs *r) { return r->qhead == r->qn; }

static int fail_unexpected(struct rs *r, const struct tw_script_event *e)
{
    const struct qseg *q = &r->q[r->qhead];
    fail(r, e, "unexpected segment (sent at %.6f)", secs(q->t));
    add_packet_bytes(r, "got:", q->bytes, q->len);
    return -1;
}

/* Record mode: what D sent becomes outbound lines (relative numbers, the
 * options as sent, the window, the exact time), handed to cfg->record_out
 * instead of being judged. A line recorded this way passes on the model. */
static void record_queue(struct rs *r)
{
    struct tw_script_event ev;
    while (!queue_empty(r)) {
        const struct qseg *q = &r->q[r->qhead++];
        struct tw_packet *p = &ev.u.pkt;
        struct tw_segment seg;
        if (tw_segment_parse(q->bytes, q->len, 0, &seg) != TW_PARSE_OK)
            continue; /* drain() failed the case already */
        memset(&ev, 0, sizeof(ev));
        ev.kind = TW_SEV_PACKET;
        ev.time.kind = TW_TIME_ABSOLUTE;
        ev.time.usecs = ev.time.end_usecs = (int64_t)q->t;
        p->dir = TW_DIR_OUT;
        p->flags = seg.flags;
        /* RFC 9293 3.5.2's absolute <SEQ=0> on a RST,ACK (see judge.c) */
        p->seq = (seg.flags & (TW_RST | TW_ACK)) == (TW_RST | TW_ACK) && seg.seq == 0
                     ? 0
                     : seg.seq - r->ctx.d_iss;
        p->len = seg.payload_len;
        p->has_ack = (seg.flags & TW_ACK) != 0;
        p->ack = seg.ack - r->ctx.h_isn;
        p->has_win = true;
        p->win = seg.window;
        p->has_options = true;
        tw_popts_from_raw(seg.opt.raw, seg.opt.raw_len, p);
        r->prev = q->t;
        if (r->cfg->record_out)
            r->cfg->record_out(r->cfg->record_ctx, &ev, &seg);
    }
}

/* Before an inbound, ICMP or silence line: nothing D sent may be left
 * unconsumed (in record mode: recorded). */
static int unconsumed(struct rs *r, const struct tw_script_event *e)
{
    if (r->record)
        record_queue(r);
    return queue_empty(r) ? 0 : fail_unexpected(r, e);
}

/* How late an event timed from `from` and due at `want` may come: the
 * tolerance, plus on a real stack a share of the interval, bounded
 * (adapter.h: late_per_mille; the model's is 0, its time is exact). */
static uint64_t late_ok(const struct rs *r, uint64_t from, uint64_t want)
{
    uint64_t extra = 0;
    if (want > from && r->ops->late_per_mille) {
        extra = (want - from) * r->ops->late_per_mille / 1000;
        if (extra > (uint64_t)r->ops->late_max_usecs)
            extra = (uint64_t)r->ops->late_max_usecs;
    }
    return (uint64_t)r->tol + extra;
}

/* ---- syscalls -------------------------------------------------------------- */

static struct fdmap *fd_find(struct rs *r, int64_t sfd)
{
    for (size_t i = 0; i < r->n_fds; i++)
        if (r->fds[i].sfd == sfd)
            return &r->fds[i];
    return NULL;
}

static int fd_add(struct rs *r, int64_t sfd, int h)
{
    struct fdmap *m = realloc(r->fds, (r->n_fds + 1) * sizeof(*m));
    if (!m)
        return -1;
    r->fds = m;
    r->fds[r->n_fds++] = (struct fdmap){sfd, h, false};
    r->last_h = h;
    return 0;
}

static void fd_remove(struct rs *r, int64_t sfd)
{
    for (size_t i = 0; i < r->n_fds; i++)
        if (r->fds[i].sfd == sfd) {
            r->fds[i] = r->fds[--r->n_fds];
            return;
        }
}

static int64_t free_fd(struct rs *r)
{
    int64_t f = 3;
    while (fd_find(r, f))
        f++;
    return f;
}

static void render_result(char *buf, size_t cap, int64_t ret, int err)
{
    if (ret == -1) {
        const char *n = tw_errno_name(err);
        if (n)
            snprintf(buf, cap, "-1 %s", n);
        else
            snprintf(buf, cap, "-1 (errno %d)", err);
    } else {
        snprintf(buf, cap, "%lld", (long long)ret);
    }
}

/* A call finished with (ret, err): compare with the line. */
static int check_result(struct rs *r, const struct tw_script_event *e, int64_t ret, int err)
{
    const struct tw_syscall *sc = &e->u.sys;
    if (sc->sys == TW_SYS_SOCKET || sc->sys == TW_SYS_ACCEPT) {
        if (ret >= 0) {
            int64_t sfd = sc->ret >= 0 && !fd_find(r, sc->ret) ? sc->ret : free_fd(r);
            if (fd_add(r, sfd, (int)ret))
                return fail(r, e, "out of memory");
            ret = sfd;
        }
    }
    if (r->record && r->rec_sys) {
        r->rec_sys->ret = ret;
        r->rec_sys->err = ret == -1 ? err : 0;
        r->rec_sys->err_name = ret == -1 ? tw_errno_name(err) : NULL;
        return 0;
    }
    if (ret != sc->ret || (ret == -1 && err != sc->err)) {
        char w[64], g[64];
        render_result(w, sizeof(w), sc->ret, sc->err);
        render_result(g, sizeof(g), ret, err);
        return fail(r, e, "%s: expected %s, got %s", tw_sys_name(sc->sys), w, g);
    }
    if (e->time.has_return) {
        uint64_t want = e->time.return_relative ? r->pend.start + (uint64_t)e->time.return_usecs
                                                : (uint64_t)e->time.return_usecs;
        uint64_t now = r->ops->now(r->ad);
        if (now + (uint64_t)r->tol < want || now > want + late_ok(r, r->pend.start, want))
            return fail(r, e, "%s returned at %.6f, expected at %.6f", tw_sys_name(sc->sys), secs(now),
                        secs(want));
    }
    return 0;
}

/* Poll a pending blocking call; it completes when the stack says so. */
static int check_pending(struct rs *r)
{
    const struct tw_script_event *e = r->pend.e;
    int rc;
    if (!r->pend.active || r->failed)
        return r->failed ? -1 : 0;
    switch (e->u.sys.sys) {
    case TW_SYS_ACCEPT:
        rc = r->ops->accept(r->ad, r->pend.h);
        if (rc == -EAGAIN)
            return 0;
        break;
    case TW_SYS_CONNECT:
        rc = r->ops->connect_result(r->ad, r->pend.h);
        if (rc == -EINPROGRESS)
            return 0;
        break;
    default: /* read */
        rc = r->ops->recv(r->ad, r->pend.h, (uint32_t)e->u.sys.args[2].value);
        if (rc == -EAGAIN)
            return 0;
        break;
    }
    r->pend.active = false;
    return rc < 0 ? check_result(r, e, -1, -rc) : check_result(r, e, rc, 0);
}

/* ---- time ---------------------------------------------------------------- */

/* Let the stack's clock run to t. With want_output, stop as soon as D has
 * sent something; blocking calls are polled after every step. */
static int step_to(struct rs *r, uint64_t t, bool want_output, const struct tw_script_event *e)
{
    do {
        unsigned flags = (want_output || r->pend.active) ? TW_ADV_STOP_ON_ACTIVITY : 0;
        if (r->warp)
            flags |= TW_ADV_WARP;
        uint64_t before = r->ops->now(r->ad);
        if (r->ops->advance(r->ad, t, flags))
            return fail(r, e, "the stack failed while its clock ran to %.6f", secs(t));
        if (drain(r, e) || check_pending(r))
            return -1;
        if (want_output && !queue_empty(r))
            return 0;
        if (r->ops->now(r->ad) == before && before >= t)
            break;
    } while (r->ops->now(r->ad) < t);
    return 0;
}

static uint64_t event_time(const struct rs *r, const struct tw_time *t, bool end)
{
    int64_t v = end ? t->end_usecs : t->usecs;
    if (t->kind == TW_TIME_RELATIVE)
        return r->prev + (uint64_t)v;
    return (uint64_t)v;
}

/* ---- events ---------------------------------------------------------------- */

/* D's TS val as the script wrote it maps inbound ecr values to D's clock
 * (judge.c): a numeric val on the line names D's clock at that segment. A
 * line that leaves D's val free (`<...>`, or `TS val *`) names nothing, so
 * until a val has been learned, the first segment carrying a timestamp that
 * such a line matches is D's clock at the script's 0: the val cases write on
 * D's first SYN or SYN,ACK. D's SYN may carry no timestamp at all (a stack
 * without RFC 7323): a later segment with one then sets the clock. */
static void learn_ts(struct rs *r, const struct tw_packet *p, const struct tw_segment *got)
{
    if (!(got->opt.has & TW_HAS_TS))
        return;
    for (unsigned i = 0; i < p->n_opts; i++)
        if (p->opts[i].kind == TW_POPT_TS && !p->opts[i].val_any) {
            r->ctx.ts_offset = got->opt.ts_val - p->opts[i].a;
            r->ts_known = true;
            return;
        }
    if (!r->ts_known) {
        r->ctx.ts_offset = got->opt.ts_val;
        r->ts_known = true;
    }
}

static int run_outbound(struct rs *r, const struct tw_script_event *e)
{
    const struct tw_packet *p = &e->u.pkt;
    uint64_t lo, hi, lo_t, hi_t;
    struct tw_segment got, want;
    char msg[400];
    const struct qseg *q;
    if (e->time.kind == TW_TIME_ANY) {
        lo = r->prev;
        hi = r->prev + ANY_TIME_WAIT_US;
        lo_t = lo;
        hi_t = hi;
    } else {
        lo = event_time(r, &e->time, false);
        hi = event_time(r, &e->time, true);
        lo_t = lo > (uint64_t)r->tol ? lo - (uint64_t)r->tol : 0;
        hi_t = hi + late_ok(r, r->anchor, hi);
    }
    /* An expected segment is waited for in real time even in a time-free
     * case: a stack may send it from a short timer (Linux delays the ACK of
     * a FIN by its delayed-ACK timer). Only the waits before it are skipped. */
    bool warp = r->warp;
    r->warp = false;
    int stepped = queue_empty(r) ? step_to(r, hi_t, true, e) : 0;
    r->warp = warp;
    if (stepped)
        return -1;
    if (queue_empty(r)) {
        /* The case has failed; look a little further so that a late segment
         * is reported as late rather than as missing. */
        bool late = !step_to(r, hi_t + DIAG_WAIT_US, true, e) && !queue_empty(r);
        if (late) {
            q = &r->q[r->qhead];
            tw_segment_parse(q->bytes, q->len, 0, &got);
            late = !tw_judge_segment(p, &got, &r->ctx, msg, sizeof(msg));
        }
        if (!late) {
            tw_judge_expected_segment(p, &r->ctx, NULL, &want);
            fail(r, e, "expected segment not sent (waited until %.6f)", secs(hi_t));
            add_segment(r, "expected:", &want);
            if (!queue_empty(r)) {
                add_msg(r, "  next sent at %.6f:", secs(r->q[r->qhead].t));
                add_packet_bytes(r, "got:", r->q[r->qhead].bytes, r->q[r->qhead].len);
            }
            return -1;
        }
    }
    q = &r->q[r->qhead];
    tw_segment_parse(q->bytes, q->len, 0, &got); /* drain() parsed it already */
    if (tw_judge_segment(p, &got, &r->ctx, msg, sizeof(msg))) {
        tw_judge_expected_segment(p, &r->ctx, &got, &want);
        fail(r, e, "%s", msg);
        add_segment(r, "expected:", &want);
        add_segment(r, "got:     ", &got);
        return -1;
    }
    if (q->t < lo_t || q->t > hi_t) {
        tw_judge_expected_segment(p, &r->ctx, &got, &want);
        if (lo == hi)
            fail(r, e, "time: expected %.6f, got %.6f", secs(lo), secs(q->t));
        else
            fail(r, e, "time: expected %.6f~%.6f, got %.6f", secs(lo), secs(hi), secs(q->t));
        add_segment(r, "got:     ", &got);
        return -1;
    }
    /* "*:*" on a SYN line: D chose a new ISN (a new connection on the same
     * 4-tuple); relative numbers from here on count from it. */
    if (p->seq_any) {
        r->ctx.d_iss = got.seq;
        r->iss_known = true;
    }
    learn_ts(r, p, &got);
    r->prev = q->t;
    r->qhead++;
    return 0;
}

/* Build the packet an inbound line describes, with the malformations it asks for. */
static size_t build_inbound(struct rs *r, const struct tw_script_event *e, uint8_t *buf, size_t cap)
{
    const struct tw_packet *p = &e->u.pkt;
    struct tw_segment seg;
    enum tw_parse_err pe;
    size_t n, ip_len = r->s->ip_version == 6 ? 40 : 20;
    tw_judge_inbound_segment(p, &r->ctx, &seg);
    if ((p->flags & TW_RST) || (p->flags & (TW_SYN | TW_ACK)) == TW_SYN)
        forget_syns(r, seg.dport, seg.sport);
    if (p->flags & TW_SYN) {
        /* For "win syn" and "wnd": do H's SYN's options, as they go on the
         * wire, offer window scaling? */
        struct tw_options o;
        memset(&o, 0, sizeof(o));
        r->ctx.h_syn_ws = tw_options_parse(seg.opt.raw, seg.opt.raw_len, &o) == TW_PARSE_OK && (o.has & TW_HAS_WSCALE);
    }
    n = tw_segment_build(&seg, buf, cap, &pe);
    if (!n) {
        fail(r, e, "cannot build this segment: %s", tw_parse_strerror(pe));
        return 0;
    }
    if (p->has_doff) {
        /* Only the data offset is wrong: recompute the checksum over it. */
        uint8_t *tcp = buf + ip_len;
        uint16_t c;
        tcp[12] = (uint8_t)((p->doff << 4) | (tcp[12] & 0x0f));
        tcp[16] = tcp[17] = 0;
        c = tw_tcp_checksum(&seg.src, &seg.dst, tcp, n - ip_len);
        tcp[16] = (uint8_t)(c >> 8);
        tcp[17] = (uint8_t)c;
    }
    if (p->bad_csum)
        buf[ip_len + 17] ^= 0x01; /* never turns a 0x0000 into its equivalent 0xffff */
    if (p->ip6_dstopts) {
        /* A Destination Options header (8 bytes: next header, length 0,
         * PadN of 4) between IPv6 and TCP. The TCP checksum is unchanged. */
        static const uint8_t dst_opts[8] = {6, 0, 1, 4, 0, 0, 0, 0};
        uint16_t plen;
        if (n + 8 > cap) {
            fail(r, e, "cannot build this segment: too long");
            return 0;
        }
        memmove(buf + 48, buf + 40, n - 40);
        memcpy(buf + 40, dst_opts, 8);
        buf[6] = 60;
        plen = (uint16_t)((buf[4] << 8 | buf[5]) + 8);
        buf[4] = (uint8_t)(plen >> 8);
        buf[5] = (uint8_t)plen;
        n += 8;
    }
    return n;
}

static int run_inbound(struct rs *r, const struct tw_script_event *e)
{
    uint8_t buf[PKT_MAX];
    size_t n;
    uint64_t t = event_time(r, &e->time, false);
    if (step_to(r, t, false, e))
        return -1;
    if (unconsumed(r, e))
        return -1;
    n = build_inbound(r, e, buf, sizeof(buf));
    if (!n)
        return -1;
    trace(r, r->ops->now(r->ad), false, buf, n);
    if (r->ops->inject(r->ad, buf, n))
        return fail(r, e, "the stack failed to take the packet");
    r->prev = t;
    return drain(r, e) || check_pending(r) ? -1 : 0;
}

static void icmp_v6(const struct tw_icmp_line *l, uint8_t *type, uint8_t *code)
{
    switch (l->type) {
    case 3:
        switch (l->code) {
        case 0: *type = 1; *code = 0; return;  /* no route */
        case 1: *type = 1; *code = 3; return;  /* address unreachable */
        case 2: *type = 4; *code = 1; return;  /* unrecognized next header */
        case 3: *type = 1; *code = 4; return;  /* port unreachable */
        case 4: *type = 2; *code = 0; return;  /* packet too big */
        case 5: *type = 1; *code = 5; return;  /* source address failed policy */
        default: *type = 1; *code = 1; return; /* administratively prohibited */
        }
    case 11: *type = 3; *code = 0; return;
    default: *type = 4; *code = 0; return;     /* parameter problem */
    }
}

static int run_icmp(struct rs *r, const struct tw_script_event *e)
{
    const struct tw_icmp_line *l = &e->u.icmp;
    uint8_t quote[PKT_MAX], buf[PKT_MAX];
    size_t qlen, n;
    struct tw_icmp ic;
    enum tw_parse_err pe;
    uint64_t t = event_time(r, &e->time, false);
    if (step_to(r, t, false, e))
        return -1;
    if (unconsumed(r, e))
        return -1;
    if (l->has_quote) {
        struct tw_segment q;
        memset(&q, 0, sizeof(q));
        q.src = r->ctx.d_addr;
        q.dst = r->ctx.h_addr;
        q.sport = r->ctx.d_port;
        q.dport = r->ctx.h_port;
        q.seq = r->ctx.d_iss + l->quote_seq;
        q.flags = l->quote_flags;
        q.payload_len = l->quote_len;
        q.window = 65535;
        qlen = tw_segment_build(&q, quote, sizeof(quote), &pe);
        if (!qlen)
            return fail(r, e, "cannot build the quoted segment: %s", tw_parse_strerror(pe));
    } else {
        if (!r->last_len)
            return fail(r, e, "the ICMP error quotes nothing: D has not sent a segment yet");
        memcpy(quote, r->last_sent, r->last_len);
        qlen = r->last_len;
    }
    memset(&ic, 0, sizeof(ic));
    ic.family = (uint8_t)r->s->ip_version;
    ic.type = l->type;
    ic.code = l->code;
    if (ic.family == 6)
        icmp_v6(l, &ic.type, &ic.code);
    ic.mtu = l->mtu;
    ic.src = r->ctx.h_addr;
    ic.dst = r->ctx.d_addr;
    n = tw_icmp_build(&ic, quote, qlen, buf, sizeof(buf), &pe);
    if (!n)
        return fail(r, e, "cannot build the ICMP error: %s", tw_parse_strerror(pe));
    trace(r, r->ops->now(r->ad), false, buf, n);
    if (r->ops->inject(r->ad, buf, n))
        return fail(r, e, "the stack failed to take the packet");
    r->prev = t;
    return drain(r, e) || check_pending(r) ? -1 : 0;
}

static int sockopt_values(const struct tw_arg *a, int64_t *vals, unsigned *n)
{
    *n = 0;
    if (a->kind == TW_ARG_INT) {
        vals[(*n)++] = a->value;
        return 0;
    }
    if (a->kind == TW_ARG_LIST) {
        for (unsigned i = 0; i < a->n_items; i++)
            vals[(*n)++] = a->items[i];
        return a->n_items ? 0 : -1;
    }
    if (a->kind == TW_ARG_STRUCT) {
        vals[0] = vals[1] = 0;
        for (unsigned i = 0; i < a->n_items; i++)
            vals[strcmp(a->field[i], "onoff") ? 1 : 0] = a->items[i];
        *n = 2;
        return 0;
    }
    return -1;
}

static int run_syscall(struct rs *r, const struct tw_script_event *e)
{
    const struct tw_syscall *sc = &e->u.sys;
    uint64_t t = event_time(r, &e->time, false);
    struct fdmap *fd = NULL;
    int rc = 0, h = -1;
    if (step_to(r, t, false, e))
        return -1;
    r->prev = t;
    if (r->pend.active)
        return fail(r, e, "%s while the blocking %s at line %d has not returned", tw_sys_name(sc->sys),
                    tw_sys_name(r->pend.e->u.sys.sys), r->pend.e->pos.line);
    if (sc->sys != TW_SYS_SOCKET) {
        fd = fd_find(r, sc->args[0].value);
        if (!fd)
            return check_result(r, e, -1, EBADF);
        h = fd->h;
    }
    r->pend.start = t;
    switch (sc->sys) {
    case TW_SYS_SOCKET:
        rc = r->ops->socket(r->ad);
        break;
    case TW_SYS_BIND:
        rc = r->ops->bind(r->ad, h, r->bind_port);
        break;
    case TW_SYS_LISTEN:
        rc = r->ops->listen(r->ad, h, (int)sc->args[1].value);
        break;
    case TW_SYS_ACCEPT:
    case TW_SYS_READ:
        rc = sc->sys == TW_SYS_ACCEPT ? r->ops->accept(r->ad, h)
                                      : r->ops->recv(r->ad, h, (uint32_t)sc->args[2].value);
        if (rc == -EAGAIN && !fd->nonblock)
            goto block;
        break;
    case TW_SYS_CONNECT:
        /* D connects to H's port 8080; H's packets then come from it. */
        r->ctx.h_port = 8080;
        rc = r->ops->connect(r->ad, h, 8080);
        if (drain(r, e))
            return -1;
        if (rc == -EINPROGRESS && !fd->nonblock)
            goto block;
        break;
    case TW_SYS_CLOSE:
        rc = r->ops->close_socket(r->ad, h);
        if (rc >= 0)
            fd_remove(r, sc->args[0].value);
        break;
    case TW_SYS_SHUTDOWN:
        rc = r->ops->shutdown(r->ad, h, (int)sc->args[1].value);
        break;
    case TW_SYS_FCNTL:
        if (sc->args[1].value == 3) { /* F_GETFL: O_RDWR, plus O_NONBLOCK */
            rc = 02 | (fd->nonblock ? 04000 : 0);
        } else {
            fd->nonblock = (sc->args[2].value & 04000) != 0;
            rc = 0;
        }
        break;
    case TW_SYS_WRITE:
        rc = r->ops->send(r->ad, h, (uint32_t)sc->args[2].value);
        break;
    case TW_SYS_SETSOCKOPT: {
        int64_t vals[TW_SCRIPT_MAX_ITEMS];
        unsigned n;
        if (sockopt_values(&sc->args[3], vals, &n))
            return fail(r, e, "setsockopt: give the value ([1], N or {onoff=1, linger=0})");
        rc = r->ops->setsockopt(r->ad, h, (int)sc->args[1].value, (int)sc->args[2].value, vals, n);
        break;
    }
    case TW_SYS_GETSOCKOPT: {
        int64_t vals[TW_SCRIPT_MAX_ITEMS] = {0};
        unsigned n = 0;
        const struct tw_arg *want = &sc->args[3];
        rc = r->ops->getsockopt(r->ad, h, (int)sc->args[1].value, (int)sc->args[2].value, vals, &n);
        if (rc >= 0 && want->kind != TW_ARG_ELLIPSIS) {
            int64_t w[TW_SCRIPT_MAX_ITEMS];
            unsigned wn;
            sockopt_values(want, w, &wn);
            for (unsigned i = 0; i < wn && i < n; i++) {
                bool any = want->kind != TW_ARG_INT && want->kind != TW_ARG_STRUCT && want->item_any[i];
                if (!any && w[i] != vals[i]) {
                    const char *wn_ = tw_errno_name((int)w[i]), *gn = tw_errno_name((int)vals[i]);
                    if (sc->args[2].value == 4 && sc->args[1].value == 1 && (wn_ || gn))
                        return fail(r, e, "getsockopt SO_ERROR: expected %s, got %s",
                                    wn_ ? wn_ : "0", gn ? gn : "0");
                    return fail(r, e, "getsockopt: value %u: expected %lld, got %lld", i,
                                (long long)w[i], (long long)vals[i]);
                }
            }
        }
        break;
    }
    default:
        return fail(r, e, "%s is not supported by the runner", tw_sys_name(sc->sys));
    }
    if (drain(r, e))
        return -1;
    return rc < 0 ? check_result(r, e, -1, -rc) : check_result(r, e, rc, 0);
block:
    r->pend.active = true;
    r->pend.e = e;
    r->pend.h = h;
    return 0;
}

static int run_event_kind(struct rs *r, const struct tw_script_event *e)
{
    uint64_t t;
    switch (e->kind) {
    case TW_SEV_PACKET:
        return e->u.pkt.dir == TW_DIR_OUT ? run_outbound(r, e) : run_inbound(r, e);
    case TW_SEV_ICMP:
        return run_icmp(r, e);
    case TW_SEV_SYSCALL:
        return run_syscall(r, e);
    case TW_SEV_SHELL: {
        char err[512];
        t = event_time(r, &e->time, false);
        if (step_to(r, t, false, e))
            return -1;
        if (r->ops->shell(r->ad, e->u.shell, err, sizeof(err)))
            return fail(r, e, "%s", err);
        /* The next +0 counts from when the command returned, not started. */
        r->prev = r->ops->now(r->ad) > t ? r->ops->now(r->ad) : t;
        return drain(r, e) || check_pending(r) ? -1 : 0;
    }
    case TW_SEV_SILENCE: {
        uint64_t end;
        t = event_time(r, &e->time, false);
        if (step_to(r, t, false, e))
            return -1;
        if (unconsumed(r, e))
            return -1;
        end = t + (uint64_t)e->u.silence_usecs;
        if (step_to(r, end, true, e))
            return -1;
        if (!queue_empty(r)) {
            const struct qseg *q = &r->q[r->qhead];
            fail(r, e, "expected silence until %.6f, but D sent a segment at %.6f", secs(end), secs(q->t));
            add_packet_bytes(r, "got:", q->bytes, q->len);
            return -1;
        }
        r->prev = end;
        return 0;
    }
    case TW_SEV_STATE: {
        const char *st;
        t = event_time(r, &e->time, false);
        if (step_to(r, t, false, e))
            return -1;
        r->prev = t;
        if (r->last_h < 0)
            return fail(r, e, "state: no socket yet");
        st = r->ops->state(r->ad, r->last_h);
        if (st && strcmp(st, e->u.state))
            return fail(r, e, "state: expected %s, got %s", e->u.state, st);
        return 0;
    }
    }
    return fail(r, e, "unknown event");
}

static int run_event(struct rs *r, const struct tw_script_event *e)
{
    int rc = run_event_kind(r, e);
    /* Silence and state lines only watch: a timer armed before them still
     * runs from the event that armed it. */
    if (e->kind != TW_SEV_SILENCE && e->kind != TW_SEV_STATE)
        r->anchor = r->prev;
    return rc;
}

/* ---- a case ---------------------------------------------------------------- */

uint16_t tw_case_port(const char *path)
{
    uint32_t h = 2166136261u;
    for (const char *p = path; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    return (uint16_t)(40000 + h % 20000);
}

/* The RFC 6528 key: fixed per case, from the case's last two path parts. */
static void case_secret(const char *path, uint8_t out[16])
{
    static const uint8_t key[16] = "threeway-case-k";
    const char *tail = path, *p;
    int slashes = 0;
    for (p = path + strlen(path); p > path; p--)
        if (p[-1] == '/' && ++slashes == 2)
            break;
    tail = p;
    uint64_t a = tw_siphash24(key, (const uint8_t *)tail, (unsigned)strlen(tail));
    uint64_t b = tw_siphash24(key, (const uint8_t *)&a, sizeof(a));
    memcpy(out, &a, 8);
    memcpy(out + 8, &b, 8);
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void tw_case_result_cleanup(struct tw_case_result *r)
{
    if (!r)
        return;
    free(r->message);
    free(r->stack_desc);
    memset(r, 0, sizeof(*r));
}

static char *dup_text(const char *fmt, const char *a)
{
    size_t n = strlen(fmt) + strlen(a) + 1;
    char *m = malloc(n);
    if (m)
        snprintf(m, n, fmt, a);
    return m;
}

/* One run: the state of tw_run_case, and of the step-by-step API below. */
struct tw_runner {
    struct rs r;
    const char *names[2];
    char profile[32];
    double start;
};

/* One finished runner kept per thread with its queue (as adapter_model.c
 * keeps an adapter): fuzz_model starts one per input. */
static _Thread_local struct tw_runner *spare;

static struct tw_runner *spare_take(void)
{
    struct tw_runner *run = spare;
    if (!run)
        return calloc(1, sizeof(*run));
    spare = NULL;
    struct qseg *q = run->r.q;
    size_t qcap = run->r.qcap;
    struct fdmap *fds = run->r.fds;
    memset(run, 0, sizeof(*run));
    run->r.q = q;
    run->r.qcap = qcap;
    run->r.fds = fds; /* n_fds 0; fd_add reallocs it */
    return run;
}

static void spare_put(struct tw_runner *run)
{
    if (!spare) {
        spare = run;
        return;
    }
    free(run->r.q);
    free(run->r.fds);
    free(run);
}

/* Whether no line of the case can notice that its waits were skipped: a
 * real stack answers a segment or a syscall at once, so only its timers
 * make real time matter. A case is time-free when every line that applies
 * (1) expecting a segment from D expects it at +0 (not later, not at "*":
 * those wait for a timer), (2) expecting silence lasts under 1 s (RFC 6298's
 * smallest RTO: longer silences say a timer did not fire), (3) waits under
 * 0.5 s on the script's own timeline before it runs (longer waits are there for a clock: the ISN clock,
 * a rate limit, a timeout). D's TS val is not judged (only its echo), and the
 * inbound TS ecr follows the TS val D last sent, so timestamps do not care. */
#define WARP_MAX_WAIT_US 500000
#define WARP_MAX_SILENCE_US 1000000

bool tw_script_time_free(const struct tw_script *s, const char *const *names, size_t n_names)
{
    uint64_t nominal = 0; /* the script's own timeline: when the previous line ran */
    for (size_t i = 0; i < s->n_events; i++) {
        const struct tw_script_event *e = &s->events[i];
        if (!tw_script_event_applies(s, e, names, n_names))
            continue;
        if (e->time.kind == TW_TIME_ANY)
            return false;
        uint64_t base = e->time.kind == TW_TIME_ABSOLUTE ? 0 : nominal;
        uint64_t lo = base + (uint64_t)e->time.usecs, hi = base + (uint64_t)e->time.end_usecs;
        if (hi >= nominal + WARP_MAX_WAIT_US)
            return false;
        if (e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT && (lo != nominal || hi != nominal))
            return false;
        if (e->kind == TW_SEV_SILENCE && e->u.silence_usecs >= WARP_MAX_SILENCE_US)
            return false;
        if (hi > nominal)
            nominal = hi;
        if (e->kind == TW_SEV_SILENCE)
            nominal += (uint64_t)e->u.silence_usecs;
    }
    return true;
}

/* Start a run (the adapter opened, nothing run yet). 0 and *out set; 1 and
 * *out NULL with res SKIP (the script needs another profile); -1 and *out
 * NULL with res FAIL (the stack would not start). */
static int runner_open(struct tw_runner **out, const struct tw_script *s, const struct tw_run_config *cfg,
                       struct tw_case_result *res)
{
    struct tw_runner *run;
    struct rs *r;
    struct tw_adapter_config ac;
    const char *profile = cfg && cfg->profile ? cfg->profile : "C";
    char err[256];

    *out = NULL;
    memset(res, 0, sizeof(*res));
    if (s->profile && strcmp(s->profile, profile)) {
        res->status = TW_CASE_SKIP;
        res->message = dup_text("needs --profile %s", s->profile);
        return 1;
    }
    run = spare_take();
    if (!run) {
        res->status = TW_CASE_FAIL;
        res->message = dup_text("%s", "out of memory");
        return -1;
    }
    run->start = wall_now();
    snprintf(run->profile, sizeof(run->profile), "%s", profile);
    r = &run->r;
    r->s = s;
    r->cfg = cfg;
    r->record = cfg && cfg->record;
    r->ops = cfg && cfg->ops ? cfg->ops : &tw_adapter_model;
    r->bind_port = cfg && cfg->d_port ? cfg->d_port : 8080;
    r->last_h = -1;
    r->ctx.d_syn_wscale = -1;
    memset(&ac, 0, sizeof(ac));
    ac.family = s->ip_version;
    ac.profile = profile;
    tw_addr_parse(s->ip_version == 6 ? "2001:db8::2" : "198.51.100.2", &ac.local);
    tw_addr_parse(s->ip_version == 6 ? "2001:db8::1" : "198.51.100.1", &ac.remote);
    case_secret(s->path ? s->path : "", ac.secret);
    ac.isn_fixed = cfg && cfg->d_isn_fixed;
    ac.isn = cfg ? cfg->d_isn : 0;
    r->ctx.d_addr = ac.local;
    r->ctx.h_addr = ac.remote;
    r->ctx.d_port = r->bind_port;
    r->ctx.h_port = cfg && cfg->h_port ? cfg->h_port : tw_case_port(s->path ? s->path : "");
    r->ctx.h_isn = s->remote_isn;
    r->tol = cfg && cfg->tolerance_usecs >= 0 ? cfg->tolerance_usecs
             : s->has_tolerance                ? s->tolerance_usecs
                                               : r->ops->default_tolerance_usecs;
    if (r->ops->open(&r->ad, &ac, err, sizeof(err))) {
        /* "skip: ..." : this machine cannot run the stack at all (no
         * namespace, no TAP): a skip with its reason, never a pass. */
        if (!strncmp(err, "skip: ", 6)) {
            res->status = TW_CASE_SKIP;
            res->message = dup_text("%s", err + 6);
            spare_put(run);
            return 1;
        }
        res->status = TW_CASE_FAIL;
        res->message = dup_text("cannot start the stack: %s", err);
        spare_put(run);
        return -1;
    }
    run->names[0] = run->profile;
    run->names[1] = r->ops->stack_tag;
    r->warp = !(cfg && cfg->real_time) && tw_script_time_free(s, run->names, 2);
    *out = run;
    return 0;
}

int tw_runner_open(struct tw_runner **out, const struct tw_script *s, const struct tw_run_config *cfg,
                   struct tw_case_result *res)
{
    return runner_open(out, s, cfg, res);
}

int tw_runner_step(struct tw_runner *run, struct tw_script_event *e)
{
    struct rs *r = &run->r;
    if (r->failed)
        return -1;
    if (!tw_script_event_applies(r->s, e, run->names, 2))
        return 0;
    r->rec_sys = r->record && e->kind == TW_SEV_SYSCALL ? &e->u.sys : NULL;
    run_event(r, e);
    r->rec_sys = NULL;
    if (r->record && r->pend.active) /* e is the caller's: nothing may stay pending */
        fail(r, e, "record mode: the %s would block (use a non-blocking socket)", tw_sys_name(e->u.sys.sys));
    if (r->record && !r->failed && !drain(r, e))
        record_queue(r);
    return r->failed ? -1 : 0;
}

int tw_runner_advance(struct tw_runner *run, uint64_t until_us)
{
    struct rs *r = &run->r;
    if (r->failed)
        return -1;
    if (step_to(r, until_us, false, NULL))
        return -1;
    r->prev = r->ops->now(r->ad);
    if (r->record)
        record_queue(r);
    return r->failed ? -1 : 0;
}

struct tw_adapter *tw_runner_adapter(struct tw_runner *run) { return run->r.ad; }

const struct tw_judge_ctx *tw_runner_ctx(const struct tw_runner *run, bool *iss_known)
{
    if (iss_known)
        *iss_known = run->r.iss_known;
    return &run->r.ctx;
}

uint64_t tw_runner_now(struct tw_runner *run) { return run->r.ops->now(run->r.ad); }

const char *tw_runner_message(const struct tw_runner *run) { return run->r.msg ? run->r.msg : ""; }

void tw_runner_finish(struct tw_runner *run, struct tw_case_result *res)
{
    struct rs *r = &run->r;
    if (!r->failed && r->pend.active) {
        /* A blocking call with a return time gets until then to return. */
        const struct tw_script_event *e = r->pend.e;
        if (e->time.has_return) {
            uint64_t want = e->time.return_relative ? r->pend.start + (uint64_t)e->time.return_usecs
                                                    : (uint64_t)e->time.return_usecs;
            step_to(r, want + late_ok(r, r->pend.start, want), false, e);
        }
        if (!r->failed && r->pend.active)
            fail(r, e, "the blocking %s never returned (the case ends at %.6f)", tw_sys_name(e->u.sys.sys),
                 secs(r->ops->now(r->ad)));
    }
    if (!r->failed && !drain(r, NULL)) {
        if (r->record)
            record_queue(r);
        if (!queue_empty(r))
            fail_unexpected(r, NULL);
    }
    if (r->ops->harness_error && r->ops->harness_error(r->ad)) {
        /* The stack's host failed (exec: a shim crashed, hung, flooded):
         * whatever the case saw, that is the verdict's reason. */
        if (!r->failed)
            fail(r, NULL, "the stack's host failed");
        add_msg(r, "%s", r->ops->harness_error(r->ad));
    }
    memset(res, 0, sizeof(*res));
    if (r->ops->rows)
        r->ops->rows(r->ad, res->rows);
    const char *desc = r->ops->describe ? r->ops->describe(r->ad) : NULL;
    if (desc)
        res->stack_desc = dup_text("%s", desc);
    res->virtual_us = r->ops->now(r->ad);
    r->ops->close(r->ad);
    res->status = r->failed ? TW_CASE_FAIL : TW_CASE_PASS;
    res->message = r->msg;
    res->seconds = wall_now() - run->start;
    spare_put(run);
}

int tw_run_case(const struct tw_script *s, const struct tw_run_config *cfg, struct tw_case_result *res)
{
    struct tw_runner *run;
    int rc = runner_open(&run, s, cfg, res);
    if (rc)
        return rc > 0 ? 0 : -1;
    for (size_t i = 0; i < s->n_events && !run->r.failed; i++) {
        const struct tw_script_event *e = &s->events[i];
        if (!tw_script_event_applies(s, e, run->names, 2))
            continue;
        run_event(&run->r, e);
    }
    tw_runner_finish(run, res);
    return 0;
}

/* fuzz_diff_linux: the same events against the model and the running
 * kernel, judged through the linux profile (conformance/profiles/linux.tsv).
 *
 * Under test: the kernel's TCP (over a TAP in a private namespace:
 * harness/adapter_linux.c, harness/netns.c) against target/, both driven by
 * the case runner in record mode. The input is fuzz_model's encoding, decoded
 * by harness/fuzz_model.c (tw_fuzz_model_run): every line the decoder runs on
 * the model (syscall, inbound segment, sysctl) is run next on a second
 * runner whose adapter is the kernel, and what each stack sent in reply to
 * that line is compared.
 *
 * Oracles: fuzz_model's invariants on the model (a violation aborts, as in
 * fuzz_model), and the differential: for every line, D's segments on both
 * stacks agree in flags, sequence number relative to that stack's current
 * ISS, acknowledgment number (H's numbers are the same on both), payload
 * length, the kinds of options (MSS, window scale, SACK-permitted, SACK,
 * timestamps) and the echoed timestamp; windows, MSS and window-scale values
 * and TS values are each stack's own choice and not compared. A divergence
 * prints both traces (tcpdump-style) and aborts. Known Linux behaviour is
 * not a divergence: the tolerances below are each keyed by the requirement
 * its linux.tsv row (or the requirement's own wording) declares.
 *
 * What is compared, and what ends the comparison for the rest of an input
 * (the model runs on alone, its invariants still checked; counted, see
 * TW_DIFF_STATS below):
 *  - profile S inputs are not compared (Linux implements RFC 5961: the
 *    linux profile is a profile of C);
 *  - time: no real waiting. A time event that reaches none of the model's
 *    timers is a no-op for the comparison (the kernel's clock does not
 *    need to move); one that fires a model timer ends the comparison
 *    (retransmission timing is the conformance suite's business);
 *  - an ICMP error ends the comparison (linux.tsv HS-ICMP-03, HS-ICMP-05
 *    make the states part; a frag-needed leaves a route exception behind);
 *  - a syscall whose result differs (success vs failure, or errno) ends it:
 *    the stacks' states have parted (e.g. HS-OPEN-05: write in SYN-SENT);
 *  - a tolerance that leaves the states apart ends it (below);
 *  - both FINs exchanged (D's and H's): teardown is outside the model
 *    (no CLOSING or TIME-WAIT in target/tcb.c).
 *
 * Tolerated (a tolerance is counted under its ID with TW_DIFF_STATS=1):
 *  HS-OPEN-07     ABORT: Linux's RST carries ACK (RST,ACK) where the model's
 *                 is a bare RST with the same seq.
 *  HS-TMR-07      Linux re-sends its SYN (same ISS) at a later line: the
 *                 immediate retransmission after a bad ACK in SYN-SENT.
 *  HS-SYNRCVD-05  a SYN in passive SYN-RECEIVED: the model's bare ACK,
 *                 Linux's re-sent SYN,ACK (or nothing: rate-limited).
 *  HS-SYNRCVD-06  an in-window SYN in passive SYN-RECEIVED: Linux's
 *                 RST,ACK (seq 0, ack SEG.SEQ+1) and the request dropped;
 *                 a SYN at IRS with data or FIN: the model back in LISTEN,
 *                 Linux's SYN,ACK re-sent (a retransmitted SYN to
 *                 tcp_check_req) or nothing; either ends the comparison.
 *  HS-GEN-06      a segment whose options hold 18 or more bytes at a
 *                 malformed option length (or an MD5 option): Linux drops
 *                 it before any state (tcp_inbound_hash), the model
 *                 ignores the option (MUST-7 allows either); ends the
 *                 comparison.
 *  HS-LISTEN-06   SYN with FIN to a listener: Linux is silent where the
 *                 model answers; ends the comparison.
 *  HS-LISTEN-05   an ECN-setup SYN draws Linux's SYN,ACK with ECE: ECE and
 *                 CWR are not compared from then on.
 *  HS-SYNSENT-08  data or FIN on a SYN,ACK: Linux acknowledges the SYN
 *                 only; ends the comparison.
 *  HS-EST-05      after H's FIN, a RST at RCV.NXT-1: Linux resets
 *                 (tcp_reset_check), the model ignores it; ends the
 *                 comparison.
 *  HS-LISTEN-09   a new SYN to a listener whose backlog (1) is taken:
 *                 Linux drops it or answers with a SYN cookie; ends the
 *                 comparison.
 *  HS-TS-06       while TS.Recent is 0 Linux applies no PAWS
 *                 (tcp_paws_check); ends the comparison.
 *  HS-EST-04      an ack below ISS+1 (bytes never sent) draws Linux's
 *                 challenge ACK and the segment is dropped; the model takes
 *                 it (RFC 5961 5.2); ends the comparison.
 *  HS-RST-05      Linux rate-limits the ACKs it sends for unacceptable
 *                 segments and challenge ACKs per connection (one per
 *                 tcp_invalid_ratelimit, 500 ms: a whole input): a bare ACK
 *                 of the model's is not required of Linux once Linux has
 *                 sent one that stamps its limit (oow_counted: a challenge
 *                 ACK, or the ACK for a segment out of the window without
 *                 data or FIN), whether matched by the model's or by
 *                 another tolerance.
 * And where the stacks differ by their own free choices (each counted):
 * the receive windows (a segment between the two right edges), the
 * stream (data is not compared: a FIN behind data the other stack has not
 * sent, an ACK one stack carries on its data, H acking data Linux has not
 * sent, out-of-order data Linux keeps), and findings (finding(): Linux
 * behaviour beyond the handshake that linux.tsv does not declare, see
 * docs/fuzzing.md; TW_DIFF_STRICT=1 makes them divergences).
 *
 * Set-up: the namespace is made once per process (LLVMFuzzerInitialize;
 * the adapter makes a fresh one only when a run left something it could
 * not destroy). Each input gets fresh ports on the kernel side (D's bound
 * port and H's port for inbound connections), and the adapter aborts
 * (SO_LINGER 0) and destroys every socket at the end of the input. The
 * sysctls of the input's config byte are written directly (no shell) and
 * restored after the input. Without a namespace (no CAP_NET_ADMIN and no
 * unprivileged user namespace, or no /dev/net/tun) the target prints one
 * line and exits 77.
 *
 * TW_DIFF_STATS=1 prints, at exit, how many inputs and lines were
 * compared, why comparisons ended, and what was tolerated. */
#include <errno.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "fuzz_model.h"
#include "netns.h"
#include "runner.h"
#include "script_print.h"
#include "seq.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINES 320 /* lines an input runs (an event is at most four) */
#define MAX_SEGS 512  /* packets kept per side per input */

enum { MODEL, LINUX };
static const char *const SIDE_NAME[2] = {"model", "linux"};

struct pkt {
    unsigned line;
    bool from_d, tcp;
    uint64_t t;
    struct tw_segment seg; /* payload pointer cleared */
};

struct side {
    struct pkt log[MAX_SEGS];
    unsigned n, line_start; /* packets of the current line: log[line_start..n) */
    bool iss_known;
    uint32_t first_iss, iss; /* D's first ISS (the runner's 0) and its current one */
    bool ts_known;
    uint32_t last_tsval;
    bool sent_oow_ack; /* an ACK Linux rate-limits, on the current connection (HS-RST-05) */
    bool synrcvd;      /* D's last SYN was a SYN,ACK */
    unsigned acks;     /* segments with ACK (not SYN) D sent since its last SYN */
    bool active;       /* D sent a bare SYN (an active open) from active_iss */
    uint32_t active_iss;
    int d_ws;          /* the shift D's last SYN offered, -1 none */
    bool d_ts;         /* D's last SYN carried TS */
    bool edge_known, rcv_known;
    uint32_t edge;     /* the right edge of D's last advertised window */
    uint32_t edge_slack; /* what the scaled window field may have rounded off */
    uint32_t rcv_nxt;  /* the ack of D's last segment with ACK */
    bool stream_known;
    uint32_t stream_end; /* the end of D's data sent, relative to its ISS */
    unsigned n_conns;    /* D's ISS per peer (address, ports) of its SYNs */
    struct {
        struct tw_addr peer;
        uint16_t dport, sport;
        uint32_t iss;
    } conns[8];
};

/* The ISS of the connection D's segment g belongs to (by its peer and
 * ports), else D's current one: several connections share an input. */
static uint32_t conn_iss(const struct side *s, const struct tw_segment *g)
{
    for (unsigned i = 0; i < s->n_conns; i++)
        if (s->conns[i].dport == g->dport && s->conns[i].sport == g->sport && tw_addr_equal(&s->conns[i].peer, &g->dst))
            return s->conns[i].iss;
    return s->iss;
}

/* ---- statistics (TW_DIFF_STATS=1) --------------------------------------- */

struct counter {
    const char *name;
    unsigned long n;
};
static struct counter g_stops[32], g_tolerated[64];
static unsigned long g_inputs, g_compared_inputs, g_compared_lines;
static bool g_stats;

static void count(struct counter *c, size_t cap, const char *name)
{
    for (size_t i = 0; i < cap; i++) {
        if (!c[i].name)
            c[i].name = name;
        if (c[i].name == name || !strcmp(c[i].name, name)) {
            c[i].n++;
            return;
        }
    }
}

static void print_stats(void)
{
    fprintf(stderr, "fuzz_diff_linux: %lu inputs, %lu compared (profile C), %lu lines compared\n", g_inputs,
            g_compared_inputs, g_compared_lines);
    for (size_t i = 0; i < sizeof(g_stops) / sizeof(g_stops[0]) && g_stops[i].name; i++)
        fprintf(stderr, "  comparison ended: %-40s %lu\n", g_stops[i].name, g_stops[i].n);
    for (size_t i = 0; i < sizeof(g_tolerated) / sizeof(g_tolerated[0]) && g_tolerated[i].name; i++)
        fprintf(stderr, "  tolerated: %-48s %lu\n", g_tolerated[i].name, g_tolerated[i].n);
}

/* ---- one input ------------------------------------------------------------- */

struct diff {
    struct tw_script hdr; /* the decoder's header, for the kernel's runner */
    struct tw_runner *lrun;
    struct tw_run_config lcfg;
    bool active;        /* still comparing */
    const char *stopped; /* why not, once it stopped */
    unsigned line;      /* lines run so far (the current one) */
    struct side s[2];
    struct side m_at_line; /* the model's side before the current line ran (log unused) */
    struct side x_at_line; /* ... and Linux's */
    /* every line, as each stack ran it (syscall results filled in) */
    struct tw_script_event ev[2][MAX_LINES];
    char shell[256];
    bool ecn; /* HS-LISTEN-05: Linux negotiated ECN */
    bool in_time; /* the model's clock is running (a time event) */
    bool h_ws, h_ts;  /* H's SYN of the connection offered window scaling, TS */
    bool pend_ws, pend_ts; /* ... and H's last SYN */
    uint8_t h_wsv, pend_wsv; /* the shifts they offered */
    bool h_ts_at_line; /* h_ts before the current line */
    bool h_tsval_known;
    uint32_t h_tsval; /* H's last TS val on a non-RST segment */
    struct tw_addr d_addr, h_addr; /* D's and H's addresses */
    bool h_edge_known;
    uint32_t h_edge;  /* the right edge of H's window as Linux took it (compare_line) */
    uint32_t h_una, h_max_wnd; /* the highest ack and the largest window Linux took from H */
    bool closed;      /* close() on a connection's socket (not a listener) */
    bool h_fin;       /* the model acknowledged a FIN of H's */
    bool d_fin;       /* the model sent a FIN on the connection */
    bool h_data_known;
    uint32_t h_data_end; /* the end of the furthest data H sent (model's side) */
    int64_t listeners[8];
    unsigned n_listeners;
    bool delayed; /* Linux owes a delayed ACK of delayed_ack (HS-SYNRCVD-11) */
    bool fin_deferred; /* the model's FIN went with the stream (compare_line) */
    bool fin_on_data[2]; /* a stack's FIN rode on its data (not compared) */
    bool unread;       /* H sent data since the last read */
    uint32_t delayed_ack;
    /* sysctls written for this input, to restore */
    unsigned n_saved;
    char saved_name[8][64], saved_value[8][64];
};

static struct diff g_d;
static struct tw_adapter_ops g_ops; /* the linux adapter, with the fast sysctl line */
static unsigned g_port_seq;

static void stop(struct diff *d, const char *why)
{
    if (!d->active)
        return;
    d->active = false;
    d->stopped = why;
    count(g_stops, sizeof(g_stops) / sizeof(g_stops[0]), why);
}

static bool g_strict; /* TW_DIFF_STRICT=1: findings are divergences */

static void tolerate(const char *id) { count(g_tolerated, sizeof(g_tolerated) / sizeof(g_tolerated[0]), id); }

/* A finding (Linux differs and linux.tsv does not declare it yet): known,
 * so tolerated unless TW_DIFF_STRICT=1, and counted. */
/* A tolerance whose Linux behaviour linux.tsv declares (with its case). */
static bool declared(const char *id)
{
    tolerate(id);
    return true;
}

static bool finding(const char *id)
{
    if (g_strict)
        return false;
    tolerate(id);
    return true;
}

static void record_pkt(struct diff *d, int side, uint64_t t, bool from_d, const uint8_t *b, size_t len)
{
    struct side *s = &d->s[side];
    if (s->n == MAX_SEGS)
        return; /* an input this long is compared as far as the log goes */
    struct pkt *p = &s->log[s->n++];
    p->line = d->line;
    p->from_d = from_d;
    p->t = t;
    p->tcp = tw_segment_parse(b, len, 0, &p->seg) == TW_PARSE_OK;
    p->seg.payload = NULL;
    if (side == MODEL && from_d && d->in_time)
        stop(d, "the model sent while time passed");
    if (!p->tcp)
        return;
    const struct tw_segment *g = &p->seg;
    if (!from_d) {
        /* H's options count from the SYN that makes the connection: a
         * SYN,ACK to D's active open, or a SYN that D answers with its
         * SYN,ACK (below); not every SYN of H's that D drops or ACKs. */
        if (side == MODEL && (g->flags & (TW_SYN | TW_RST)) == TW_SYN) {
            d->pend_ws = g->opt.has & TW_HAS_WSCALE;
            d->pend_wsv = g->opt.wscale > 14 ? 14 : g->opt.wscale;
            d->pend_ts = g->opt.has & TW_HAS_TS;
        }
        if (side == MODEL && (g->flags & (TW_SYN | TW_RST | TW_ACK)) == (TW_SYN | TW_ACK) && s->active &&
            s->iss == s->active_iss && s->acks == 0) {
            d->h_ws = d->pend_ws;
            d->h_wsv = d->pend_wsv;
            d->h_ts = d->pend_ts;
        }
        if (side == MODEL && (g->payload_len || (g->flags & TW_FIN)) && !(g->flags & (TW_SYN | TW_RST))) {
            uint32_t end = g->seq + tw_segment_len(g);
            if (!d->h_data_known || seq_lt(d->h_data_end, end))
                d->h_data_end = end;
            d->h_data_known = true;
        }
        if (side == MODEL && (g->opt.has & TW_HAS_TS) && !(g->flags & TW_RST)) {
            d->h_tsval = g->opt.ts_val;
            d->h_tsval_known = true;
        }
        return;
    }
    if ((g->flags & (TW_SYN | TW_RST)) == TW_SYN) {
        if (side == MODEL && (g->flags & TW_ACK)) {
            d->h_ws = d->pend_ws;
            d->h_wsv = d->pend_wsv;
            d->h_ts = d->pend_ts;
        }
        s->synrcvd = g->flags & TW_ACK;
        s->acks = 0;
        if (!(g->flags & TW_ACK)) {
            s->active = true;
            s->active_iss = g->seq;
        }
        s->d_ws = (g->opt.has & TW_HAS_WSCALE) ? g->opt.wscale : -1;
        s->d_ts = g->opt.has & TW_HAS_TS;
    }
    if ((g->flags & (TW_SYN | TW_ACK)) == TW_ACK)
        s->acks++;
    if (side == MODEL && (g->flags & (TW_FIN | TW_SYN | TW_RST)) == TW_FIN)
        d->d_fin = true;
    if ((g->flags & TW_ACK) && !(g->flags & TW_RST)) {
        unsigned shift = !(g->flags & TW_SYN) && s->d_ws >= 0 && d->h_ws ? (unsigned)(s->d_ws > 14 ? 14 : s->d_ws) : 0;
        s->edge_known = s->rcv_known = true;
        s->edge = g->ack + ((uint32_t)g->window << shift);
        s->edge_slack = (1u << shift) - 1;
        s->rcv_nxt = g->ack;
    }
    if (g->flags & TW_SYN) {
        unsigned c = 0;
        while (c < s->n_conns && !(s->conns[c].dport == g->dport && s->conns[c].sport == g->sport &&
                                   tw_addr_equal(&s->conns[c].peer, &g->dst)))
            c++;
        if (c == s->n_conns && c < sizeof(s->conns) / sizeof(s->conns[0]))
            s->n_conns++;
        if (c < s->n_conns) {
            s->conns[c].peer = g->dst;
            s->conns[c].dport = g->dport;
            s->conns[c].sport = g->sport;
            s->conns[c].iss = g->seq;
        }
        if (!s->iss_known)
            s->first_iss = g->seq;
        if (!s->iss_known || g->seq != s->iss) {
            s->sent_oow_ack = s->stream_known = false; /* a new connection */
            if (side == MODEL)
                d->closed = d->h_edge_known = d->h_fin = d->d_fin = d->h_data_known = false;
        }
        s->iss_known = true;
        s->iss = g->seq;
    }
    if (g->opt.has & TW_HAS_TS) {
        s->ts_known = true;
        s->last_tsval = g->opt.ts_val;
    }
}

static void model_trace(void *ctx, uint64_t t, bool from_d, const uint8_t *b, size_t len)
{
    record_pkt(ctx, MODEL, t, from_d, b, len);
}

static void linux_trace(void *ctx, uint64_t t, bool from_d, const uint8_t *b, size_t len)
{
    record_pkt(ctx, LINUX, t, from_d, b, len);
}

/* ---- the kernel's sysctls ---------------------------------------------------- */

/* The decoder's `sysctl -q net.ipv4.x=v ...` line, written straight to
 * /proc/sys in the namespace (no fork, and the namespace stays clean: the
 * values are put back after the input). Anything else goes to the
 * adapter's shell. */
/* At the end of an input: abort what is left on this input's ports (D's
 * bound port towards H's inbound port and 8080) by exact 4-tuple; every
 * 1000th input sweeps the whole namespace as the adapter's close does. */
static void quick_close(struct tw_adapter *a)
{
    const struct tw_run_config *c = &g_d.lcfg;
    uint16_t h_ports[2] = {c->h_port, 8080};
    if (g_port_seq % 1000 == 0)
        tw_adapter_linux.close(a);
    else
        tw_adapter_linux_close_ports(a, c->d_port, h_ports, 2);
}

/* Every socket of an input binds D's one port (fuzz_model's D binds them
 * all to 8080, and the model lets several sockets share it): on Linux,
 * SO_REUSEADDR and SO_REUSEPORT let the second bind succeed too, even
 * beside a listener (two listeners then share SYNs by hash of the
 * 4-tuple: with H's one port, always the same one). Without them half of
 * the inputs would stop being compared at the second bind (EADDRINUSE). */
static int reuse_bind(struct tw_adapter *a, int h, uint16_t port)
{
    const int64_t on = 1;
    tw_adapter_linux.setsockopt(a, h, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, &on, 1);
    tw_adapter_linux.setsockopt(a, h, 1 /* SOL_SOCKET */, 15 /* SO_REUSEPORT */, &on, 1);
    return tw_adapter_linux.bind(a, h, port);
}

static int fast_shell(struct tw_adapter *a, const char *cmd, char *err, size_t err_cap)
{
    struct diff *d = &g_d;
    const char *p = cmd;
    if (strncmp(p, "sysctl -q ", 10))
        return tw_adapter_linux.shell(a, cmd, err, err_cap);
    p += 10;
    while (*p) {
        char name[64], value[64];
        size_t n = strcspn(p, "= ");
        if (p[n] != '=' || n >= sizeof(name) || strncmp(p, "net.ipv4.tcp_", 13))
            return tw_adapter_linux.shell(a, cmd, err, err_cap);
        memcpy(name, p, n);
        name[n] = '\0';
        p += n + 1;
        n = strcspn(p, " ");
        if (n >= sizeof(value))
            return tw_adapter_linux.shell(a, cmd, err, err_cap);
        memcpy(value, p, n);
        value[n] = '\0';
        p += n;
        while (*p == ' ')
            p++;
        if (d->n_saved < sizeof(d->saved_name) / sizeof(d->saved_name[0])) {
            snprintf(d->saved_name[d->n_saved], sizeof(d->saved_name[0]), "%s", name);
            if (tw_netns_sysctl_read(name, d->saved_value[d->n_saved], sizeof(d->saved_value[0])))
                return tw_adapter_linux.shell(a, cmd, err, err_cap);
            d->n_saved++;
        } else {
            return tw_adapter_linux.shell(a, cmd, err, err_cap);
        }
        if (tw_netns_sysctl_write(name, value, err, err_cap))
            return -1;
    }
    return 0;
}

static void restore_sysctls(struct diff *d)
{
    char err[256];
    while (d->n_saved) {
        d->n_saved--;
        if (tw_netns_sysctl_write(d->saved_name[d->n_saved], d->saved_value[d->n_saved], err, sizeof(err))) {
            fprintf(stderr, "fuzz_diff_linux: cannot restore a sysctl: %s\n", err);
            exit(1);
        }
    }
}

/* ---- traces --------------------------------------------------------------------- */

static void print_pkts(const struct diff *d, int side, unsigned line)
{
    const struct side *s = &d->s[side];
    char text[400];
    for (unsigned i = 0; i < s->n; i++) {
        const struct pkt *p = &s->log[i];
        if (p->line != line)
            continue;
        if (p->tcp)
            tw_segment_render(&p->seg, text, sizeof(text));
        else
            snprintf(text, sizeof(text), "(a packet that is not TCP: an ICMP error)");
        fprintf(stderr, "      %s %c %.6f %s\n", SIDE_NAME[side], p->from_d ? '>' : '<', (double)p->t / 1e6, text);
    }
}

static void print_traces(const struct diff *d)
{
    fprintf(stderr, "the input, line by line (as a case script: `threeway decode FILE`), with what each stack\n"
                    "received (<) and sent (>); the kernel's numbers are its own (relative to its ISS)\n");
    fprintf(stderr, "  model: D's ISS %u (first %u); linux: D's ISS %u (first %u); H's ISN %u\n", d->s[MODEL].iss,
            d->s[MODEL].first_iss, d->s[LINUX].iss, d->s[LINUX].first_iss, d->hdr.remote_isn);
    for (unsigned l = 1; l <= d->line && l <= MAX_LINES; l++) {
        const struct tw_script_event *m = &d->ev[MODEL][l - 1], *x = &d->ev[LINUX][l - 1];
        fprintf(stderr, "  %3u  ", l);
        tw_script_print_event(stderr, &d->hdr, m);
        fputc('\n', stderr);
        if (m->kind == TW_SEV_SYSCALL && x->kind == TW_SEV_SYSCALL &&
            (m->u.sys.ret != x->u.sys.ret || m->u.sys.err != x->u.sys.err)) {
            fprintf(stderr, "       linux: ");
            tw_script_print_event(stderr, &d->hdr, x);
            fputc('\n', stderr);
        }
        print_pkts(d, MODEL, l);
        print_pkts(d, LINUX, l);
    }
}

static const char *g_keep_going; /* TW_DIFF_KEEP_GOING=DIR: triage mode */
static bool g_diverged;

static void diverge(struct diff *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print both traces and abort; in triage mode (TW_DIFF_KEEP_GOING=DIR,
 * for sorting many findings at once) print one line, end the comparison,
 * and keep the input in DIR. */
static void diverge(struct diff *d, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "fuzz_diff_linux: DIVERGENCE at line %u: ", d->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (g_keep_going) {
        g_diverged = true;
        stop(d, "DIVERGENCE (triage mode)");
        return;
    }
    print_traces(d);
    fprintf(stderr, "(a Linux behaviour declared in conformance/profiles/linux.tsv belongs in the tolerances of "
                    "fuzzers/fuzz_diff_linux.c)\n");
    abort();
}

/* ---- comparing one line's answers ------------------------------------------------- */

/* SACK blocks are not compared: the model (a handshake model) sends none,
 * Linux sends them for out-of-order data once SACK-permitted was agreed
 * (RFC 2018, beyond the handshake). */
#define OPT_KINDS (TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS)
#define MAX_OUT 16

/* D's segments of the current line, normalised: PSH dropped and a run of
 * data segments that continue each other merged into one (segment sizes
 * and PSH are each stack's choice: Linux bounds a segment to half the
 * largest window seen, tcp_bound_to_half_wnd). Linux's retransmissions of
 * its SYN are left out (HS-TMR-07). */
static unsigned line_out(struct diff *d, int side, struct tw_segment *out)
{
    struct side *s = &d->s[side];
    unsigned n = 0;
    uint32_t prev_syn = 0;
    bool have_prev = false;
    for (unsigned i = 0; i < s->n; i++) {
        const struct pkt *p = &s->log[i];
        if (!p->from_d || !p->tcp)
            continue;
        bool syn_only = (p->seg.flags & (TW_SYN | TW_ACK | TW_RST | TW_FIN)) == TW_SYN;
        if (i >= s->line_start) {
            struct tw_segment g = p->seg;
            g.flags &= (uint8_t)~TW_PSH;
            struct tw_segment *last = n ? &out[n - 1] : NULL;
            if (side == LINUX && syn_only && have_prev && g.seq == prev_syn) {
                tolerate("HS-TMR-07 SYN re-sent at once");
            } else if (last && last->payload_len && g.payload_len && !(last->flags & (TW_SYN | TW_FIN | TW_RST)) &&
                       (g.flags & (uint8_t)~TW_FIN) == last->flags && g.seq == last->seq + last->payload_len &&
                       g.ack == last->ack && last->payload_len + g.payload_len <= 0xffff) {
                last->payload_len = (uint16_t)(last->payload_len + g.payload_len);
                last->flags = g.flags;
                last->opt.has |= g.opt.has & TW_HAS_SACK;
            } else if (n < MAX_OUT) {
                out[n++] = g;
            }
        }
        if (syn_only) {
            prev_syn = p->seg.seq;
            have_prev = true;
        }
    }
    return n;
}

/* The segment injected by the current line, or NULL. */
static const struct tw_segment *line_in(const struct diff *d, int side)
{
    const struct side *s = &d->s[side];
    for (unsigned i = s->line_start; i < s->n; i++)
        if (!s->log[i].from_d && s->log[i].tcp)
            return &s->log[i].seg;
    return NULL;
}

static bool bare_ack(const struct tw_segment *g)
{
    return g && (g->flags & (TW_SYN | TW_RST | TW_FIN | TW_ACK)) == TW_ACK && !g->payload_len;
}

static bool has_flags(const struct tw_segment *g, uint8_t mask, uint8_t want)
{
    return g && (g->flags & mask) == want;
}

/* A bare ACK sent in reply to in that is neither the handshake's third ACK
 * nor the acknowledgment of in's data or FIN: Linux's answer to an
 * unacceptable segment. */
static bool oow_reply(const struct side *x, const struct tw_segment *in, const struct tw_segment *ack)
{
    if ((in->flags & (TW_SYN | TW_ACK | TW_RST)) == (TW_SYN | TW_ACK) && x->active && x->iss == x->active_iss &&
        ack->seq == x->iss + 1 && x->acks == 1)
        return false; /* the handshake's third ACK, from SYN-SENT */
    if (!(in->flags & TW_SYN) && (in->payload_len || (in->flags & TW_FIN)) &&
        ack->ack == in->seq + tw_segment_len(in))
        return false;
    return true;
}

/* Whether such an ACK (oow_reply) stamps Linux's per-connection limit
 * (HS-RST-05). tcp_send_challenge_ack always does (a RST or SYN in the
 * window, an ack beyond SND.NXT or too old); tcp_oow_rate_limited, for a
 * segment out of the window, skips a segment with data or FIN and no SYN
 * ("not likely part of an ACK loop"). So for data or FIN: only the
 * challenge ACK of an acceptable segment whose ack is beyond SND.NXT.
 * x0 is Linux's side before the line. */
static bool oow_counted(const struct diff *d, const struct side *x, const struct side *x0,
                        const struct tw_segment *in, const struct tw_segment *ack)
{
    if ((in->flags & (TW_SYN | TW_RST)) || !(in->payload_len || (in->flags & TW_FIN)))
        return oow_reply(x, in, ack);
    uint32_t snd_nxt = x0->iss + (x0->stream_known ? x0->stream_end : 1);
    bool acceptable = !x0->rcv_known || !seq_lt(in->seq + tw_segment_len(in), x0->rcv_nxt);
    /* too old: below SND.UNA - min(MAX.SND.WND, bytes acked) (tcp_ack:
     * RFC 5961 5.2, and "do not accept ACK for bytes we never sent",
     * HS-EST-04), as far as the acks and windows Linux took from H tell */
    uint32_t acked = d->h_edge_known && x0->iss_known && seq_lt(x0->iss + 1, d->h_una) ? d->h_una - (x0->iss + 1) : 0;
    uint32_t max_wnd = d->h_edge_known ? (d->h_max_wnd < acked ? d->h_max_wnd : acked) : 0;
    bool too_old = seq_lt(in->ack, (d->h_edge_known ? d->h_una : x0->iss + 1) - max_wnd);
    return acceptable && (in->flags & TW_ACK) && x0->iss_known && (seq_lt(snd_nxt, in->ack) || too_old);
}

/* HS-GEN-06: whether Linux drops in for its options before any state
 * sees it. With CONFIG_TCP_MD5SIG, tcp_inbound_hash scans the options
 * (tcp_do_parse_auth_options) while at least 18 bytes (TCPOLEN_MD5SIG)
 * remain: an option length below 2 or beyond the header there, or an MD5
 * option (kind 19) without a key, drops the segment silently
 * (tcp_parse_options itself only stops at a bad length). */
static bool linux_drops_options(const struct tw_segment *in)
{
    const uint8_t *p = in->opt.raw;
    unsigned len = in->opt.raw_len, k = 0;
    while (len >= 18 && k < in->opt.raw_len) {
        uint8_t kind = p[k++];
        if (kind == 0)
            return false;
        if (kind == 1) {
            len--;
            continue;
        }
        uint8_t size = k < in->opt.raw_len ? p[k] : 0;
        if (size < 2 || size > len || kind == 19)
            return true;
        k += size - 1u;
        len -= size;
    }
    return false;
}

/* Equal in everything compared; else the first field that differs. */
static const char *seg_differs(const struct diff *d, const struct tw_segment *m, const struct tw_segment *x)
{
    uint8_t mask = d->ecn ? (uint8_t)~(TW_ECE | TW_CWR) : 0xff;
    if ((m->flags & mask) != (x->flags & mask))
        return "flags";
    bool m_zero = (m->flags & TW_RST) && m->seq == 0, x_zero = (x->flags & TW_RST) && x->seq == 0;
    /* a RST <SEQ=SEG.ACK> on both: H's ack, as each stack received it */
    const struct tw_segment *mi = line_in(d, MODEL), *xi = line_in(d, LINUX);
    bool seg_ack = (m->flags & TW_RST) && (x->flags & TW_RST) && mi && xi && (mi->flags & TW_ACK) &&
                   (xi->flags & TW_ACK) && m->seq == mi->ack && x->seq == xi->ack;
    if (m_zero != x_zero ||
        (!m_zero && !seg_ack && m->seq - conn_iss(&d->s[MODEL], m) != x->seq - conn_iss(&d->s[LINUX], x)))
        return "seq (relative to D's ISS)";
    if ((m->flags & TW_ACK) && m->ack != x->ack)
        return "ack";
    if (m->payload_len != x->payload_len)
        return "payload length";
    if ((m->opt.has & OPT_KINDS) != (x->opt.has & OPT_KINDS))
        return "option kinds";
    if ((m->opt.has & TW_HAS_TS) && m->opt.ts_ecr != x->opt.ts_ecr)
        return "TS ecr";
    return NULL;
}

/* The receive windows are each stack's own (64240 against 65535 before
 * scaling): an inbound segment whose first or last octet lies between
 * the two right edges is acceptable to one stack and not to the other.
 * A scaled window field rounds the window down (in SYN-RECEIVED the model
 * advertises 65535 >> 7 but takes 65535): the upper edge has that slack. */
static bool between_edges(const struct diff *d, const struct tw_segment *in)
{
    const struct side *m = &d->s[MODEL], *x = &d->s[LINUX];
    if (!m->edge_known || !x->edge_known)
        return false;
    uint32_t lo = seq_lt(m->edge, x->edge) ? m->edge : x->edge;
    uint32_t hi = (seq_lt(m->edge, x->edge) ? x->edge : m->edge) +
                  (m->edge_slack > x->edge_slack ? m->edge_slack : x->edge_slack);
    uint32_t len = tw_segment_len(in);
    uint32_t first = in->seq, last = in->seq + (len ? len - 1 : 0);
    /* one octet of slack each side: a zero-length segment at the edge */
    return first - (lo - 1) <= hi - lo + 1 || last - (lo - 1) <= hi - lo + 1;
}

static bool is_close_of_listener(const struct diff *d, const struct tw_script_event *e)
{
    if (e->kind != TW_SEV_SYSCALL || e->u.sys.sys != TW_SYS_CLOSE)
        return false;
    for (unsigned i = 0; i < d->n_listeners; i++)
        if (d->listeners[i] == e->u.sys.args[0].value)
            return true;
    return false;
}

static void compare_line(struct diff *d, const struct tw_script_event *e)
{
    struct tw_segment mo[MAX_OUT], xo[MAX_OUT];
    unsigned nm = line_out(d, MODEL, mo), nx = line_out(d, LINUX, xo);
    /* HS-RST-05: every bare ACK Linux sent for an unacceptable segment
     * counts against its limit, also one that a tolerance below matched
     * with the model's (e.g. without TS, HS-TS-03), one the model carried
     * on its data, or one that stands alone: its request sock
     * (tcp_check_req, last_oow_ack_time) and full socket
     * (tcp_send_challenge_ack, tcp_oow_rate_limited) stamp the same time.
     * Applied once the line is compared. */
    bool stamped = false;
    {
        const struct tw_segment *xin = line_in(d, LINUX);
        for (unsigned k = 0; xin && k < nx; k++)
            stamped |= bare_ack(&xo[k]) && oow_counted(d, &d->s[LINUX], &d->x_at_line, xin, &xo[k]);
    }
    /* Data segments are not compared line by line: how much a line sends
     * is the initial window (Linux: 10 segments, RFC 6928; the model: RFC
     * 3390), congestion control, Nagle and on Linux TCP Small Queues,
     * whose next segments leave only as the TAP is read. They are taken
     * out here; the data's effect is seen in the ACKs and states that
     * follow. (stream_end keeps how far each stack got.) */
    for (int side = 0; side < 2; side++) /* FINs on data first: both sides' */
        for (unsigned q = 0; q < (side == MODEL ? nm : nx); q++) {
            const struct tw_segment *g = side == MODEL ? &mo[q] : &xo[q];
            if (g->payload_len && (g->flags & TW_FIN) && !(g->flags & (TW_SYN | TW_RST)))
                d->fin_on_data[side] = true;
        }
    bool data_ack_known[2] = {false, false};
    uint32_t data_ack[2] = {0, 0}; /* the ack the line's data segments carried */
    for (int side = 0; side < 2; side++) {
        struct tw_segment *v = side == MODEL ? mo : xo;
        unsigned *n = side == MODEL ? &nm : &nx, k = 0;
        struct side *sd = &d->s[side];
        for (unsigned q = 0; q < *n; q++) {
            /* A FIN behind data Linux has not sent yet goes with the
             * stream: Linux sends it after that data, on a later line. */
            bool fin_only = (v[q].flags & (TW_FIN | TW_SYN | TW_RST)) == TW_FIN && !v[q].payload_len;
            struct side *xs = &d->s[LINUX], *ms = &d->s[MODEL];
            /* the other stack's FIN rode on its data (taken out below) */
            if (fin_only && d->fin_on_data[1 - side]) {
                d->fin_on_data[1 - side] = false;
                tolerate("stream: a FIN the other stack sent on its data");
                continue;
            }
            if (fin_only && side == MODEL && ms->stream_known &&
                (!xs->stream_known || seq_lt(xs->stream_end, ms->stream_end))) {
                d->fin_deferred = true;
                tolerate("stream: FIN behind data Linux has not sent yet");
                continue;
            }
            if (fin_only && side == LINUX && d->fin_deferred) {
                d->fin_deferred = false;
                continue;
            }
            /* ... and the other way round: Linux's FIN after data the
             * model has not sent yet (its congestion window, its
             * segments: the data is not compared). The states part (SND.NXT
             * and the FIN's place differ). */
            if (fin_only && side == LINUX && xs->stream_known &&
                (!ms->stream_known || seq_lt(ms->stream_end, xs->stream_end))) {
                tolerate("stream: Linux's FIN behind data the model has not sent yet");
                stop(d, "a tolerated deviation parts the states");
                return;
            }
            if (v[q].payload_len && !(v[q].flags & (TW_SYN | TW_RST))) {
                if (v[q].flags & TW_ACK) {
                    data_ack_known[side] = true;
                    data_ack[side] = v[q].ack;
                }
                uint32_t end = v[q].seq + tw_segment_len(&v[q]) - sd->iss;
                if (!sd->stream_known || seq_lt(sd->stream_end, end))
                    sd->stream_end = end;
                sd->stream_known = true;
                continue;
            }
            v[k++] = v[q];
        }
        *n = k;
    }
    /* An ACK one stack sent bare the other carried on its data (taken out
     * above): the same acknowledgment. */
    for (int side = 0; side < 2; side++) {
        int other = 1 - side;
        struct tw_segment *v = side == MODEL ? mo : xo, *w = side == MODEL ? xo : mo;
        unsigned *n = side == MODEL ? &nm : &nx, nw = side == MODEL ? nx : nm;
        if (!data_ack_known[other])
            continue;
        bool other_bare = false;
        for (unsigned q = 0; q < nw; q++)
            other_bare |= bare_ack(&w[q]) && w[q].ack == data_ack[other];
        for (unsigned q = 0; q < *n && !other_bare; q++)
            if (bare_ack(&v[q]) && v[q].ack == data_ack[other]) {
                memmove(&v[q], &v[q + 1], (*n - q - 1) * sizeof(v[0]));
                (*n)--;
                tolerate("stream: an ACK the other stack carried on its data");
                break;
            }
    }

    const struct tw_segment *in = line_in(d, LINUX);
    bool part = false; /* a tolerance that leaves the states apart */
    bool close = e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_CLOSE;
    unsigned i = 0, j = 0;
    g_compared_lines++;

    if (in) {
        /* HS-TS-04: on a TS connection Linux processes a non-RST segment
         * without TS (PAWS applies only to segments with TS); the model
         * drops it. What follows is apart. */
        if (d->s[MODEL].d_ts && d->h_ts_at_line && !(in->opt.has & TW_HAS_TS) && !(in->flags & TW_RST) &&
            (!(in->flags & TW_SYN) || d->m_at_line.acks || d->m_at_line.synrcvd)) {
            tolerate("HS-TS-04 segment without TS processed");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* Finding (the model's): a segment to another address (198.51.100.3,
         * multicast) or from one the IP layer refuses (D's own address, a
         * multicast or broadcast source: martians, RFC 1122 3.2.1.3,
         * 3.3.6) never reaches the kernel's TCP; the model answers it and
         * may change state (a SYN-RECEIVED for a multicast source). */
        if ((!tw_addr_equal(&in->dst, &d->d_addr) || !tw_addr_equal(&in->src, &d->h_addr)) && nx == 0) {
            if (nm && !(tw_addr_equal(&in->src, &d->d_addr)
                            ? declared("HS-LISTEN-08 a segment from D's own address dropped")
                            : finding("finding the model answers a segment the IP layer drops (address)")))
                diverge(d, "the model answered a segment from/to another address, linux did not");
            if (nm)
                stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-TS-07 (finding): Linux applies PAWS to a RST that carries an
         * old TS val (tcp_paws_reject lets it through only 60 s after
         * TS.Recent was set); the model honours it. */
        if ((in->flags & TW_RST) && (in->opt.has & TW_HAS_TS) && d->h_tsval_known &&
            seq_lt(in->opt.ts_val, d->h_tsval) && declared("HS-TS-07 PAWS applied to RST")) {
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-EST-05: after H's FIN, a RST at RCV.NXT-1 resets Linux's
         * connection (tcp_reset_check in CLOSE-WAIT, CLOSING, LAST-ACK);
         * the model ignores it (left of the window). Both are silent. */
        if ((in->flags & TW_RST) && d->h_fin && d->m_at_line.rcv_known && in->seq == d->m_at_line.rcv_nxt - 1 &&
            nm == 0 && nx == 0) {
            tolerate("HS-EST-05 RST at RCV.NXT-1 after FIN taken");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-GEN-06 (MUST-7: reset, drop or ignore): a malformed option
         * length where 18 or more option bytes remain: Linux drops the
         * segment (linux_drops_options), the model ignores the option. */
        if (nx == 0 && linux_drops_options(in)) {
            if (nm)
                tolerate("HS-GEN-06 malformed option: segment dropped");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-SYNRCVD-06: a SYN at IRS with data or FIN in passive
         * SYN-RECEIVED reaches into the window: the model goes back to
         * LISTEN silently. Linux (tcp_check_req) takes a bare one for a
         * retransmitted SYN (its SYN,ACK re-sent, or nothing when
         * rate-limited); with ACK it truncates the SYN (seq == rcv_isn) and
         * goes on as for the third ACK (an ACK, nothing, or the listener's
         * RST for a bad ack). */
        if (has_flags(in, TW_SYN | TW_RST, TW_SYN) && tw_segment_len(in) > 1 && d->m_at_line.synrcvd &&
            d->m_at_line.rcv_known && d->m_at_line.rcv_nxt == in->seq + 1 && nm == 0 && nx <= 1) {
            tolerate("HS-SYNRCVD-06 SYN at IRS with data taken as retransmitted");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-LISTEN-09 (by its wording: under a full SYN queue or
         * backlog D may drop or use SYN cookies): the listener's backlog is
         * 1 (listen(fd, 1)); with a request or an unaccepted connection
         * already there Linux drops a new SYN (tcp_conn_request:
         * sk_acceptq_is_full) or answers with a cookie (inet_csk_reqsk_
         * queue_is_full, tcp_syncookies=1: MSS only, no TS, WS, SACK). */
        if (has_flags(in, TW_SYN | TW_ACK | TW_RST, TW_SYN) && d->x_at_line.n_conns >= 1 && nm >= 1 &&
            has_flags(&mo[0], TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK) &&
            (nx == 0 || (nx == 1 && has_flags(&xo[0], TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK) &&
                         !(xo[0].opt.has & (TW_HAS_TS | TW_HAS_WSCALE | TW_HAS_SACKOK)) &&
                         (mo[0].opt.has & (TW_HAS_TS | TW_HAS_WSCALE | TW_HAS_SACKOK))))) {
            tolerate(nx ? "HS-LISTEN-09 SYN cookie (SYN queue full)" : "HS-LISTEN-09 SYN dropped (backlog full)");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* The receive windows differ: see between_edges. */
        if (between_edges(d, in)) {
            tolerate("window: the stacks' own receive windows");
            stop(d, "a tolerated deviation parts the states");
            return;
        }
        /* HS-LISTEN-05: an ECN-setup SYN; Linux answers with ECE. */
        if ((in->flags & (TW_SYN | TW_ACK | TW_ECE | TW_CWR)) == (TW_SYN | TW_ECE | TW_CWR))
            for (unsigned k = 0; k < nx; k++)
                if ((xo[k].flags & (TW_SYN | TW_ACK | TW_ECE)) == (TW_SYN | TW_ACK | TW_ECE) && !d->ecn) {
                    d->ecn = true;
                    tolerate("HS-LISTEN-05 ECN-setup SYN,ACK");
                }
    }

    if (in && (in->flags & TW_FIN) && !(in->flags & (TW_SYN | TW_RST)))
        for (unsigned k = 0; k < nm; k++)
            if ((mo[k].flags & TW_ACK) && mo[k].ack == in->seq + tw_segment_len(in))
                d->h_fin = true;
    /* H's window as Linux took it: that of H's last segment with ACK that
     * Linux did not answer as unacceptable (the finding "FIN held back by
     * a full window" below). */
    if (in && (in->flags & TW_ACK) && !(in->flags & TW_RST)) {
        /* taken: a segment in Linux's window (by its span, as
         * tcp_sequence) whose ack is not beyond SND.NXT (tcp_ack) */
        const struct side *x0 = &d->x_at_line;
        uint32_t snd_nxt = x0->iss + (x0->stream_known ? x0->stream_end : 1);
        bool rejected = (x0->rcv_known && seq_lt(in->seq + tw_segment_len(in), x0->rcv_nxt)) ||
                        (x0->edge_known && seq_lt(x0->edge, in->seq)) ||
                        (x0->iss_known && seq_lt(snd_nxt, in->ack)) || ((in->flags & TW_SYN) && x0->rcv_known);
        unsigned shift = !(in->flags & TW_SYN) && d->h_ws && d->s[LINUX].d_ws >= 0 ? d->h_wsv : 0;
        if (!rejected) {
            uint32_t wnd = (uint32_t)in->window << shift;
            if (!d->h_edge_known || seq_lt(d->h_una, in->ack))
                d->h_una = in->ack;
            if (!d->h_edge_known || wnd > d->h_max_wnd)
                d->h_max_wnd = wnd;
            d->h_edge = in->ack + wnd;
            d->h_edge_known = true;
        }
    }

    while (i < nm || j < nx) {
        const struct tw_segment *a = i < nm ? &mo[i] : NULL, *b = j < nx ? &xo[j] : NULL;
        const char *why = a && b ? seg_differs(d, a, b) : "count";
        if (!why) {
            if (bare_ack(b) && in && oow_counted(d, &d->s[LINUX], &d->x_at_line, in, b))
                d->s[LINUX].sent_oow_ack = true;
            i++, j++;
            continue;
        }
        /* HS-OPEN-07: ABORT's RST carries ACK on Linux; its seq is
         * SND.NXT (after the data Linux sent: not compared), or the right
         * edge of the peer's window when SND.NXT lies beyond it
         * (tcp_acceptable_seq). */
        if (close && has_flags(a, 0xff, TW_RST) && has_flags(b, 0xff, TW_RST | TW_ACK) &&
            (!seq_lt(a->seq - d->s[MODEL].iss, b->seq - d->s[LINUX].iss) ||
             (d->s[LINUX].stream_known && b->seq - d->s[LINUX].iss == d->s[LINUX].stream_end))) {
            tolerate("HS-OPEN-07 RST,ACK on abort");
            i++, j++;
            continue;
        }
        /* Stream: the ACKs' seq is each stack's SND.NXT, which differs by
         * the data each sent (not compared, above). */
        if (a && b && !strcmp(why, "seq (relative to D's ISS)") && bare_ack(a) && bare_ack(b) &&
            d->s[MODEL].stream_known && d->s[LINUX].stream_known &&
            a->seq - d->s[MODEL].iss == d->s[MODEL].stream_end && b->seq - d->s[LINUX].iss == d->s[LINUX].stream_end) {
            tolerate("stream: SND.NXT after each stack's data");
            i++, j++;
            continue;
        }
        /* Finding (RFC 1122 4.2.2.13 SHOULD): close() with received data
         * not read: Linux resets (tcp_close) where the model sends FIN (or
         * queues it behind its data). */
        if (close && (has_flags(a, TW_FIN | TW_RST | TW_SYN, TW_FIN) || !a) &&
            has_flags(b, TW_RST, TW_RST) && d->unread &&
            finding("finding close with unread data sends RST (RFC 1122 4.2.2.13)")) {
            part = true;
            if (a)
                i++;
            j++;
            continue;
        }
        /* Finding (RFC 1122 4.2.2.13 SHOULD): new data after close(), or
         * beyond H's FIN: Linux resets (tcp_rcv_state_process: in
         * FIN-WAIT-1/2, and in CLOSE-WAIT, CLOSING, LAST-ACK for a segment
         * starting left of RCV.NXT, with RCV_SHUTDOWN, data beyond RCV.NXT
         * means tcp_reset and RST <SEQ=SEG.ACK>) where the model takes the
         * data, or ignores it past a FIN (RFC 9293 3.10.7.4). */
        if (b && has_flags(b, 0xff, TW_RST) && (d->closed || d->h_fin) && in && (in->flags & TW_ACK) &&
            (in->payload_len ||
             ((in->flags & TW_FIN) && d->x_at_line.rcv_known && seq_lt(d->x_at_line.rcv_nxt, in->seq))) &&
            !(in->flags & (TW_SYN | TW_RST)) && b->seq == in->ack && !has_flags(a, TW_RST, TW_RST) &&
            finding("finding data after close or FIN draws RST (RFC 1122 4.2.2.13)")) {
            part = true;
            i = nm;
            j = nx;
            continue;
        }
        /* Finding: once the peer has shrunk its window below SND.NXT,
         * Linux's ACKs carry seq = the window's right edge
         * (tcp_acceptable_seq), not SND.NXT (RFC 9293 3.10.7.4: <SEQ=SND.NXT>). */
        if (a && b && !strcmp(why, "seq (relative to D's ISS)") && (a->flags & TW_ACK) && !a->payload_len &&
            !b->payload_len && !(a->flags & (TW_SYN | TW_RST)) &&
            seq_lt(b->seq - d->s[LINUX].iss, a->seq - d->s[MODEL].iss) &&
            declared("HS-EST-04 ACK seq at a shrunk window's edge, not SND.NXT")) {
            i++, j++;
            continue;
        }
        /* Finding (HS-TS-03): Linux's ACKs from a request sock (and its
         * time-wait and reset replies) carry TS only for a non-zero TS.Recent
         * (tcp_v4_send_ack adds the option when tsecr != 0): with H's TSval
         * 0, its ACK in SYN-RECEIVED has no TS. */
        if (a && b && !strcmp(why, "option kinds") && ((a->opt.has ^ b->opt.has) & OPT_KINDS) == TW_HAS_TS &&
            (a->opt.has & TW_HAS_TS) && a->opt.ts_ecr == 0 && !(a->flags & TW_SYN) &&
            declared("HS-TS-03 no TS when TS.Recent is 0")) {
            i++, j++;
            continue;
        }
        /* Undeclared (see the report): closing a listener, Linux drops its
         * embryonic (SYN-RECEIVED) connections silently where the model
         * resets them (inet_csk_listen_stop). */
        if (is_close_of_listener(d, e) && has_flags(a, TW_RST, TW_RST) && !b &&
            declared("HS-OPEN-07 listener close drops SYN-RECEIVED silently")) {
            part = true;
            i++;
            continue;
        }
        if (has_flags(in, TW_SYN | TW_RST | TW_ACK, TW_SYN)) {
            /* HS-SYNRCVD-05: a retransmitted SYN in SYN-RECEIVED: the
             * model ACKs it (or drops it), Linux re-sends its SYN,ACK or is
             * silent. */
            if (!a && has_flags(b, TW_SYN | TW_ACK | TW_RST | TW_FIN, TW_SYN | TW_ACK) && b->seq == d->s[LINUX].iss &&
                b->ack == in->seq + 1 && d->s[LINUX].synrcvd) {
                tolerate("HS-SYNRCVD-05 SYN,ACK re-sent");
                d->s[LINUX].sent_oow_ack = true;
                j++;
                continue;
            }
            if (bare_ack(a) && in->seq + 1 == a->ack) {
                if (has_flags(b, TW_SYN | TW_ACK | TW_RST | TW_FIN, TW_SYN | TW_ACK) && b->seq == d->s[LINUX].iss) {
                    tolerate("HS-SYNRCVD-05 SYN,ACK re-sent");
                    d->s[LINUX].sent_oow_ack = true; /* the same per-request limit */
                    i++, j++;
                    continue;
                }
                if (!b) {
                    tolerate("HS-SYNRCVD-05 silent (rate-limited)");
                    i++;
                    continue;
                }
            }
        }
        if (has_flags(in, TW_SYN | TW_RST, TW_SYN)) {
            /* HS-SYNRCVD-06: a new SYN in passive SYN-RECEIVED; Linux
             * resets (RST,ACK ack SEG.SEQ+1, or RST seq=SEG.ACK when the
             * SYN carries a bad ACK: tcp_check_req checks the ACK first). */
            if (d->s[LINUX].synrcvd && j + 1 == nx &&
                ((has_flags(b, 0xff, TW_RST | TW_ACK) && b->seq == 0 && b->ack == in->seq + tw_segment_len(in)) ||
                 (has_flags(b, 0xff, TW_RST) && (in->flags & TW_ACK) && b->seq == in->ack))) {
                tolerate("HS-SYNRCVD-06 RST,ACK to a new SYN");
                part = true;
                i = nm;
                j = nx;
                continue;
            }
            /* HS-LISTEN-06: SYN with FIN to a listener: Linux drops it. */
            if ((in->flags & TW_FIN) && has_flags(a, TW_SYN | TW_ACK, TW_SYN | TW_ACK) && nx == 0) {
                tolerate("HS-LISTEN-06 SYN,FIN dropped");
                part = true;
                i = nm;
                continue;
            }
            /* Undeclared (HS-SIM-05): in a simultaneous open Linux's
             * SYN,ACK repeats its SYN's options (tcp_send_synack re-sends
             * the SYN with ACK set) where the model offers only what the
             * peer's SYN offered; Linux enables none of them afterwards. */
            if (has_flags(a, TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK) &&
                has_flags(b, TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK) &&
                !strcmp(why, "option kinds") && (a->opt.has & ~b->opt.has & OPT_KINDS) == 0 &&
                declared("HS-SIM-05 SYN,ACK repeats the SYN's options")) {
                i++, j++;
                continue;
            }
        }
        /* HS-SYNSENT-08: data or FIN on a SYN,ACK: Linux ACKs the SYN only. */
        if (a && b && has_flags(in, TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK) &&
            (in->payload_len || (in->flags & TW_FIN)) && bare_ack(b) && b->ack == in->seq + 1 &&
            (a->flags & TW_ACK) && a->ack != b->ack) {
            tolerate("HS-SYNSENT-08 SYN,ACK data not acked");
            part = true;
            i++, j++;
            continue;
        }
        /* Undeclared (HS-SYNRCVD-02/03): in SYN-RECEIVED an ACK beyond
         * SND.NXT draws Linux's RST seq=SEG.ACK (tcp_check_req), where the
         * model (profile C, RFC 5961 5.2) answers with an ACK. */
        if (has_flags(in, TW_SYN | TW_RST | TW_ACK, TW_ACK) && bare_ack(a) && has_flags(b, 0xff, TW_RST) &&
            b->seq == in->ack && d->s[LINUX].synrcvd &&
            declared("HS-SYNRCVD-03 RST for an ACK beyond SND.NXT")) {
            i++, j++;
            continue;
        }
        /* HS-EST-04: an ack below SND.UNA is acceptable to Linux only
         * within min(MAX.SND.WND, bytes acked so far) (tcp_ack: no ACK of
         * bytes never sent): below that its challenge ACK, and the segment
         * dropped, where the model (RFC 5961 5.2) takes it. */
        if (in && has_flags(in, TW_SYN | TW_RST | TW_ACK, TW_ACK) && d->s[LINUX].iss_known &&
            seq_lt(in->ack - d->s[LINUX].iss, 1) &&
            ((bare_ack(b) && (!a || a->ack != b->ack)) || (!b && a && d->s[LINUX].sent_oow_ack))) {
            /* (without Linux's challenge ACK when HS-RST-05 held it back) */
            tolerate("HS-EST-04 ack of bytes never sent challenged");
            part = true;
            if (a)
                i++;
            if (b)
                j++;
            continue;
        }
        /* Finding: Linux judges a RST's or SYN's acceptability by the
         * segment's span (tcp_sequence, tcp_in_window): one that starts
         * left of RCV.NXT but reaches it (end_seq >= rcv_wup) draws its challenge
         * ACK; RFC 5961 3.2 (and the model) go by SEG.SEQ and drop it. */
        if (!a && bare_ack(b) && in && (in->flags & (TW_RST | TW_SYN)) && d->s[LINUX].rcv_known &&
            seq_lt(in->seq - d->hdr.remote_isn, d->s[LINUX].rcv_nxt - d->hdr.remote_isn) &&
            !seq_lt(in->seq + tw_segment_len(in), d->s[LINUX].rcv_nxt) &&
            ((in->flags & TW_RST) ? declared("HS-EST-05 RST left of the window judged by its span")
                                    : finding("finding SYN left of the window judged by its span"))) {
            j++;
            continue;
        }
        /* Finding: a segment with none of ACK, SYN, RST in a synchronized
         * state is dropped by Linux before the sequence check
         * (tcp_rcv_established, tcp_rcv_state_process), so an unacceptable
         * one draws no ACK; RFC 9293 3.10.7.4 checks the sequence first. */
        if (bare_ack(a) && !b && in && !(in->flags & (TW_ACK | TW_SYN | TW_RST)) &&
            declared("HS-EST-02 no ACK for an unacceptable segment without ACK flag")) {
            i++;
            continue;
        }
        /* Finding: Linux holds back a FIN (and data) while the peer's
         * window has no room (zero, or filled by data in flight:
         * tcp_write_xmit's tcp_snd_wnd_test); the model sends it. */
        if (a && !b && (a->flags & TW_FIN) && d->h_edge_known && d->s[LINUX].iss_known &&
            !seq_lt(d->s[LINUX].iss + (d->s[LINUX].stream_known ? d->s[LINUX].stream_end : 1), d->h_edge) &&
            finding("finding FIN held back by a full window")) {
            part = true;
            i++;
            continue;
        }
        /* HS-SYNRCVD-11 (MUST-40): an ACK of data or FIN may wait up to
         * 500 ms; Linux delays it (pingpong after a FIN, delayed-ACK
         * timer), the model does not. */
        if (bare_ack(a) && !b && in && !(in->flags & TW_SYN) && (in->payload_len || (in->flags & TW_FIN)) &&
            a->ack == in->seq + tw_segment_len(in)) {
            tolerate("HS-SYNRCVD-11 ACK delayed (MUST-40)");
            d->delayed_ack = a->ack;
            d->delayed = true;
            i++;
            continue;
        }
        /* ... and when Linux's delayed ACK comes on a later line. */
        if (!a && d->delayed && bare_ack(b) && b->ack == d->delayed_ack) {
            tolerate("HS-SYNRCVD-11 ACK delayed (MUST-40)");
            d->delayed = false;
            j++;
            continue;
        }
        /* Finding: text at or beyond RCV.NXT after H's FIN (CLOSE-WAIT,
         * CLOSING, LAST-ACK) is dropped silently by Linux
         * (tcp_rcv_state_process: no tcp_data_queue, no ACK scheduled);
         * the model ignores the text and ACKs. */
        if (bare_ack(a) && !b && d->h_fin && in && in->payload_len && !(in->flags & (TW_SYN | TW_RST)) &&
            d->x_at_line.rcv_known && !seq_lt(in->seq, d->x_at_line.rcv_nxt) && a->ack == d->x_at_line.rcv_nxt &&
            finding("finding text after H's FIN dropped without ACK")) {
            i++;
            continue;
        }
        /* Stream: H acknowledges data the model sent and Linux has not
         * sent yet (the data is not compared): an ack beyond SND.NXT to
         * Linux, which challenges it (tcp_ack); the states part. */
        if (!a && bare_ack(b) && in && (in->flags & TW_ACK) && d->s[LINUX].iss_known && d->s[MODEL].stream_known &&
            seq_lt(d->x_at_line.iss + (d->x_at_line.stream_known ? d->x_at_line.stream_end : 1), in->ack) &&
            !seq_lt(d->s[MODEL].stream_end, in->ack - d->s[LINUX].iss)) {
            tolerate("stream: H acks data Linux has not sent yet");
            part = true;
            j++;
            continue;
        }
        /* Out-of-order data (RFC 9293 3.10.7.4: MAY be held): Linux
         * queues it (tcp_data_queue_ofo) and its ACK jumps past it once
         * the hole is filled; the model drops it. RCV.NXT parts. */
        if (bare_ack(a) && bare_ack(b) && !strcmp(why, "ack") && seq_lt(a->ack, b->ack) && d->h_data_known &&
            !seq_lt(d->h_data_end, b->ack)) {
            tolerate("stream: out-of-order data Linux kept (MAY)");
            part = true;
            i++, j++;
            continue;
        }
        /* HS-TS-06: while TS.Recent is 0 (the model's ACK echoes 0) Linux
         * applies no PAWS (tcp_paws_check), the model drops a segment with
         * an older TSval and ACKs it. */
        if (bare_ack(a) && (a->opt.has & TW_HAS_TS) && a->opt.ts_ecr == 0 && in && (in->opt.has & TW_HAS_TS) &&
            !(in->flags & TW_RST) && (int32_t)in->opt.ts_val < 0 && (!b || seg_differs(d, a, b))) {
            tolerate("HS-TS-06 no PAWS while TS.Recent is 0");
            part = true;
            i = nm;
            j = nx;
            continue;
        }
        /* Finding: Linux takes a segment that ends at RCV.NXT as
         * acceptable (tcp_sequence: only end_seq < rcv_wup is old) and
         * updates TS.Recent from it (tcp_replace_ts_recent); RFC 7323 5.3
         * R2 rejects it as outside the window first. */
        if (bare_ack(a) && bare_ack(b) && !strcmp(why, "TS ecr") && in && (in->opt.has & TW_HAS_TS) &&
            b->opt.ts_ecr == in->opt.ts_val && d->x_at_line.rcv_known &&
            in->seq + tw_segment_len(in) == d->x_at_line.rcv_nxt && tw_segment_len(in) &&
            finding("finding a segment ending at RCV.NXT updates TS.Recent")) {
            part = true;
            i++, j++;
            continue;
        }
        /* HS-RST-05: Linux's per-connection rate limit on the ACKs it
         * sends for unacceptable segments and challenge ACKs: once it sent
         * one on this connection, it may skip the model's next ones. */
        if (bare_ack(a) && d->s[LINUX].sent_oow_ack && (!b || (i + 1 < nm && !seg_differs(d, &mo[i + 1], b)))) {
            tolerate("HS-RST-05 ACK rate-limited");
            i++;
            continue;
        }
        if (a && b) {
            char ta[400], tb[400];
            tw_segment_render(a, ta, sizeof(ta));
            tw_segment_render(b, tb, sizeof(tb));
            diverge(d, "D's segment %u differs in %s\n  model > %s\n  linux > %s", i + 1, why, ta, tb);
        } else {
            diverge(d, "the model sent %u segment%s, linux %u", nm, nm == 1 ? "" : "s", nx);
        }
        return;
    }
    if (stamped)
        d->s[LINUX].sent_oow_ack = true;
    if (part)
        stop(d, "a tolerated deviation parts the states");
    /* Teardown is outside the model (target/tcb.c: FIN-WAIT-1 goes to no
     * CLOSING or TIME-WAIT, and takes text after the peer's FIN): once
     * both FINs were exchanged the comparison ends. */
    if (d->d_fin && d->h_fin)
        stop(d, "teardown: both FINs (outside the model)");
    /* Finding: simultaneous open on Linux differs from the RFC in more
     * ways than a tolerance can say (the SYN,ACK's options, the FIN and
     * data it holds back in SYN-RECEIVED: the simultaneous-open cases
     * need [linux] lines under six declared IDs): the comparison ends after the
     * SYN,ACK. */
    if (has_flags(in, TW_SYN | TW_ACK | TW_RST, TW_SYN) && d->s[MODEL].active &&
        has_flags(nm ? &mo[0] : NULL, TW_SYN | TW_ACK, TW_SYN | TW_ACK) && mo[0].seq == d->s[MODEL].active_iss &&
        finding("finding simultaneous open"))
        stop(d, "simultaneous open (a finding)");
}

/* ---- the decoder's hooks ------------------------------------------------------------ */

static void on_header(void *ctx, const struct tw_script *hdr)
{
    struct diff *d = ctx;
    struct tw_case_result cres;
    d->hdr = *hdr;
    d->active = !(hdr->profile && !strcmp(hdr->profile, "S"));
    if (!d->active)
        return;
    g_compared_inputs++;
    tw_addr_parse(hdr->ip_version == 6 ? "2001:db8::2" : "198.51.100.2", &d->d_addr);
    tw_addr_parse(hdr->ip_version == 6 ? "2001:db8::1" : "198.51.100.1", &d->h_addr);
    g_port_seq++;
    memset(&d->lcfg, 0, sizeof(d->lcfg));
    d->lcfg.ops = &g_ops;
    d->lcfg.profile = "C";
    d->lcfg.tolerance_usecs = -1;
    /* Fresh 4-tuples for every input: nothing of the previous input's
     * connections can answer for this one's. */
    d->lcfg.d_port = (uint16_t)(20000 + g_port_seq % 10000);
    d->lcfg.h_port = (uint16_t)(40000 + g_port_seq % 20000);
    d->lcfg.record = true;
    d->lcfg.trace = linux_trace;
    d->lcfg.trace_ctx = d;
    if (tw_runner_open(&d->lrun, &d->hdr, &d->lcfg, &cres)) {
        fprintf(stderr, "fuzz_diff_linux: the kernel's runner did not start: %s\n",
                cres.message ? cres.message : "?");
        exit(1);
    }
    tw_case_result_cleanup(&cres);
}

/* An inbound line for the kernel: D's numbers (ack, TS ecr) moved from the
 * model's ISS and TS clock to the kernel's. */
static void translate_inbound(const struct diff *d, struct tw_packet *p)
{
    /* The model's numbers as they were when the decoder built the line
     * (the model has answered it since). */
    const struct side *m = &d->m_at_line, *x = &d->s[LINUX];
    if (m->iss_known && x->iss_known)
        p->ack = p->ack - (m->iss - m->first_iss) + (x->iss - x->first_iss);
    for (unsigned i = 0; i < p->n_opts; i++)
        if (p->opts[i].kind == TW_POPT_TS && p->opts[i].b && m->ts_known && x->ts_known)
            p->opts[i].b = (uint32_t)p->opts[i].b - m->last_tsval + x->last_tsval;
}

static bool same_result(const struct tw_syscall *a, const struct tw_syscall *b)
{
    if ((a->ret < 0) != (b->ret < 0))
        return false;
    return a->ret >= 0 || a->err == b->err;
}

static void on_line(void *ctx, const struct tw_script_event *e, bool update)
{
    struct diff *d = ctx;
    if (e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT)
        return; /* the model's answers come through the trace hook */
    if (!update) {
        d->in_time = false;
        d->h_ts_at_line = d->h_ts;
        d->line++;
        /* the model's state the line is built from (all but the log) */
        memcpy((char *)&d->x_at_line + offsetof(struct side, n), (char *)&d->s[LINUX] + offsetof(struct side, n),
               sizeof(struct side) - offsetof(struct side, n));
        memcpy((char *)&d->m_at_line + offsetof(struct side, n), (char *)&d->s[MODEL] + offsetof(struct side, n),
               sizeof(struct side) - offsetof(struct side, n));
        for (int k = 0; k < 2; k++)
            d->s[k].line_start = d->s[k].n;
        return;
    }
    unsigned l = d->line <= MAX_LINES ? d->line : MAX_LINES;
    struct tw_script_event *me = &d->ev[MODEL][l - 1], *xe = &d->ev[LINUX][l - 1];
    *me = *e;
    me->time.kind = TW_TIME_ABSOLUTE; /* printed as the model ran it */
    if (e->kind == TW_SEV_SHELL) {
        snprintf(d->shell, sizeof(d->shell), "%s", e->u.shell);
        me->u.shell = d->shell;
    }
    *xe = *me;
    if (!d->active)
        return;
    if (e->kind == TW_SEV_ICMP) {
        stop(d, "an ICMP error");
        return;
    }
    /* The kernel runs the line now: no waiting for the model's clock. */
    xe->time.kind = TW_TIME_RELATIVE;
    xe->time.usecs = xe->time.end_usecs = 0;
    if (e->kind == TW_SEV_PACKET)
        translate_inbound(d, &xe->u.pkt);
    if (tw_runner_step(d->lrun, xe)) {
        /* The kernel's runner failed (e.g. the kernel sent a packet the
         * codec rejects): not the comparison's to judge. */
        if (getenv("TW_DIFF_VERBOSE"))
            fprintf(stderr, "fuzz_diff_linux: the kernel's runner: %s\n", tw_runner_message(d->lrun));
        stop(d, "the kernel's runner failed");
        return;
    }
    xe->time = me->time;
    if (e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_LISTEN && me->u.sys.ret < 0 &&
        me->u.sys.err == EADDRINUSE && xe->u.sys.ret == 0) {
        /* The model refuses a second listener on D's port at listen();
         * Linux, with SO_REUSEPORT (reuse_bind), takes it. Linux's is
         * stopped again (shutdown(SHUT_RD) on a listener: tcp_disconnect,
         * back to a bound, closed socket), as the model's is. */
        struct tw_script_event sh = *xe;
        sh.u.sys.sys = TW_SYS_SHUTDOWN;
        sh.u.sys.n_args = 2;
        sh.u.sys.args[1].kind = TW_ARG_INT;
        sh.u.sys.args[1].value = 0; /* SHUT_RD */
        sh.u.sys.ret = -1;
        sh.time.kind = TW_TIME_RELATIVE;
        sh.time.usecs = sh.time.end_usecs = 0;
        if (tw_runner_step(d->lrun, &sh) == 0 && sh.u.sys.ret == 0) {
            xe->u.sys.ret = me->u.sys.ret;
            xe->u.sys.err = me->u.sys.err;
            tolerate("harness: a second listener on D's port stopped");
        }
    }
    if (e->kind == TW_SEV_SYSCALL && !same_result(&me->u.sys, &xe->u.sys)) {
        if (getenv("TW_DIFF_VERBOSE")) {
            fprintf(stderr, "fuzz_diff_linux: line %u: ", d->line);
            tw_script_print_event(stderr, &d->hdr, me);
            fprintf(stderr, " | linux: ");
            tw_script_print_event(stderr, &d->hdr, xe);
            fputc('\n', stderr);
        }
        static char why[TW_SYS__COUNT][64];
        enum tw_sys k = e->u.sys.sys < TW_SYS__COUNT ? e->u.sys.sys : 0;
        if (!why[k][0])
            snprintf(why[k], sizeof(why[k]), "%s's result differs", tw_sys_name(k));
        stop(d, why[k]);
        return;
    }
    compare_line(d, e);
    if (e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_CLOSE && !is_close_of_listener(d, e))
        d->closed = true;
    /* received data not yet read (approximately: data arrived since the last read) */
    if (e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_IN && e->u.pkt.len)
        d->unread = true;
    if (e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_READ && e->u.sys.ret > 0)
        d->unread = false;
    if (e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_LISTEN && e->u.sys.ret == 0 &&
        d->n_listeners < sizeof(d->listeners) / sizeof(d->listeners[0]))
        d->listeners[d->n_listeners++] = e->u.sys.args[0].value;
    if (e->kind == TW_SEV_SYSCALL && e->u.sys.sys == TW_SYS_CLOSE)
        for (unsigned i = 0; i < d->n_listeners; i++)
            if (d->listeners[i] == e->u.sys.args[0].value)
                d->listeners[i] = d->listeners[--d->n_listeners];
}

static void on_time(void *ctx, uint64_t now_us, uint64_t until_us, uint64_t next_deadline_us)
{
    struct diff *d = ctx;
    (void)now_us;
    d->in_time = true;
    if (next_deadline_us && next_deadline_us <= until_us)
        stop(d, "a model timer is due");
}

/* ---- the target ----------------------------------------------------------------------- */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    struct tw_adapter *a;
    struct tw_adapter_config cfg;
    char err[512];
    (void)argc;
    (void)argv;
    memset(&cfg, 0, sizeof(cfg));
    cfg.family = 4;
    cfg.profile = "C";
    tw_addr_parse("198.51.100.2", &cfg.local);
    tw_addr_parse("198.51.100.1", &cfg.remote);
    /* The namespace, once: the adapter keeps it for every later input. */
    if (tw_adapter_linux.open(&a, &cfg, err, sizeof(err))) {
        bool skip = !strncmp(err, "skip: ", 6);
        fprintf(stderr,
                "fuzz_diff_linux: cannot run: %s (needs CAP_NET_ADMIN or unprivileged user namespaces, and "
                "/dev/net/tun)\n",
                skip ? err + 6 : err);
        exit(77);
    }
    tw_adapter_linux.close(a);
    g_ops = tw_adapter_linux;
    g_ops.shell = fast_shell;
    g_ops.close = quick_close;
    g_ops.bind = reuse_bind;
    g_ops.describe = NULL; /* the report line reads 15 sysctls: not per input */
    g_keep_going = getenv("TW_DIFF_KEEP_GOING") && *getenv("TW_DIFF_KEEP_GOING") ? getenv("TW_DIFF_KEEP_GOING") : NULL;
    g_strict = getenv("TW_DIFF_STRICT") && *getenv("TW_DIFF_STRICT") && strcmp(getenv("TW_DIFF_STRICT"), "0");
    g_stats = getenv("TW_DIFF_STATS") && *getenv("TW_DIFF_STATS") && strcmp(getenv("TW_DIFF_STATS"), "0");
    if (g_stats)
        atexit(print_stats);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct diff *d = &g_d;
    struct tw_fz_result res;
    struct tw_case_result cres;
    if (!g_ops.name) {
        fprintf(stderr, "fuzz_diff_linux: LLVMFuzzerInitialize did not run\n");
        exit(1);
    }
    g_inputs++;
    d->lrun = NULL;
    d->active = false;
    d->stopped = NULL;
    d->line = 0;
    d->ecn = false;
    d->in_time = false;
    d->delayed = d->fin_deferred = d->unread = false;
    d->fin_on_data[0] = d->fin_on_data[1] = false;
    d->h_ws = d->h_ts = d->pend_ws = d->pend_ts = d->h_tsval_known = d->h_edge_known = d->closed = d->h_fin = false;
    d->d_fin = d->h_data_known = false;
    d->n_listeners = 0;
    d->n_saved = 0;
    for (int k = 0; k < 2; k++) /* all but the log, which n bounds */
        memset((char *)&d->s[k] + offsetof(struct side, n), 0, sizeof(struct side) - offsetof(struct side, n));
    d->s[MODEL].d_ws = d->s[LINUX].d_ws = -1;
    struct tw_fz_sink sink = {
        .header = on_header, .line = on_line, .ctx = d, .trace = model_trace, .time = on_time};
    /* The model's trace goes to MODEL; the kernel's runner has its own hook. */
    int rc = tw_fuzz_model_run(data, size, &res, &sink);
    if (rc) {
        fprintf(stderr, "fuzz_diff_linux: the model's invariant violated: %s\n(threeway decode FILE prints the case)\n",
                res.message);
        abort();
    }
    if (d->lrun) {
        tw_runner_finish(d->lrun, &cres);
        tw_case_result_cleanup(&cres);
        d->lrun = NULL;
    }
    restore_sysctls(d);
    if (g_diverged) {
        char path[4096];
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < size; i++)
            h = (h ^ data[i]) * 16777619u;
        snprintf(path, sizeof(path), "%s/diverged-%08x", g_keep_going, h);
        FILE *f = fopen(path, "wb");
        if (f) {
            fwrite(data, 1, size, f);
            fclose(f);
        }
        g_diverged = false;
    }
    return 0;
}

/* The judge: a packet line against a segment, field by field, in the order
 * docs/script-format.md gives (flags, seq, ack, window, options, payload
 * length; time is the runner's). Messages name the field and use the
 * script's relative numbers: "ack: expected 1, got 0". */
#include <stdio.h>
#include <string.h>

#include "runner.h"

/* The line's options with relative numbers made absolute: SACK blocks are
 * relative to the ISN of the side they acknowledge, an inbound TS ecr
 * echoes D's clock. */
static size_t line_options(const struct tw_packet *p, const struct tw_judge_ctx *ctx,
                           uint8_t out[TW_TCP_MAX_OPTLEN])
{
    struct tw_packet copy = *p;
    uint32_t sack_base = p->dir == TW_DIR_IN ? ctx->d_iss : ctx->h_isn;
    for (unsigned i = 0; i < copy.n_opts; i++) {
        struct tw_popt *o = &copy.opts[i];
        if (o->kind == TW_POPT_SACK)
            for (unsigned j = 0; j < o->sack_n; j++) {
                o->sack[j][0] += sack_base;
                o->sack[j][1] += sack_base;
            }
        if (o->kind == TW_POPT_TS && p->dir == TW_DIR_IN)
            o->b += ctx->ts_offset;
    }
    return tw_popts_encode(&copy, out);
}

static void set_options(struct tw_options *opt, const uint8_t *raw, size_t len)
{
    memset(opt, 0, sizeof(*opt));
    memcpy(opt->raw, raw, len);
    opt->raw_len = (uint8_t)len;
    tw_options_parse(opt->raw, opt->raw_len, opt); /* decoded fields, best effort */
    opt->raw_len = (uint8_t)len;
    memcpy(opt->raw, raw, len);
}

/* RFC 9293 3.5.2: a reset for a segment without ACK is
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, and its 0 is absolute. Once D's
 * ISN is known no relative number can say that, so on an outbound R. line
 * seq 0 also matches an absolute 0. */
static bool reset_seq_zero(const struct tw_packet *exp, const struct tw_segment *got)
{
    return (exp->flags & (TW_RST | TW_ACK)) == (TW_RST | TW_ACK) && exp->seq == 0 && got->seq == 0;
}

/* The line's seq, or (seq_tolerance N) anything within N of it either way,
 * mod 2^32: an ISN that follows a real clock depends on when the SYN came. */
static bool seq_matches(const struct tw_packet *exp, const struct tw_segment *got,
                        const struct tw_judge_ctx *ctx)
{
    uint32_t diff = got->seq - ctx->d_iss - exp->seq;
    if (reset_seq_zero(exp, got) || diff == 0)
        return true;
    return exp->has_seq_tolerance && (diff <= exp->seq_tolerance || (uint32_t)-diff <= exp->seq_tolerance);
}

/* The shift D's windows after its SYN carry: its offered one, once both
 * SYNs had WS (RFC 7323 2.2). */
static unsigned judge_syn_shift(const struct tw_judge_ctx *ctx)
{
    return ctx->d_syn_wscale >= 0 && ctx->h_syn_ws ? (unsigned)ctx->d_syn_wscale : 0;
}

/* "win syn" (threeway): D's receive window, in bytes, is still the one its
 * last SYN offered. A SYN's window is never scaled, every later window is
 * shifted by D's shift once both SYNs carried WS (RFC 7323 2.2), so the
 * later field F, read as F << shift bytes, must satisfy
 *   W_syn - 2^shift < F << shift   the window did not shrink (RFC 9293
 *                                  3.8.6, SHLD-14), allowing the rounding
 *                                  down of a shifted field (RFC 7323 2.4);
 *   F << shift < W_syn * (1 + 2^shift) / 2
 *                                  half-way to W_syn << shift: what a stack
 *                                  shows that scaled its SYN's window, or
 *                                  that left a later one unscaled.
 * Without scaling, or when the SYN offered 65535 (the field's maximum: the
 * real window may be larger), only the lower bound applies. */
static int window_matches_syn(const struct tw_judge_ctx *ctx, const struct tw_segment *got,
                              char *msg, size_t cap)
{
    unsigned shift = judge_syn_shift(ctx);
    uint64_t bytes = (uint64_t)got->window << shift;
    uint64_t syn = ctx->d_syn_win;
    uint64_t unit = (uint64_t)1 << shift;
    uint64_t lo = syn >= unit ? syn - unit + 1 : 0;
    bool upper = shift > 0 && syn < 65535;
    uint64_t hi = syn * (1 + unit) / 2; /* exclusive */
    if (!ctx->d_syn_seen) {
        snprintf(msg, cap, "window: 'win syn', but no SYN from D has been matched yet");
        return -1;
    }
    if (bytes >= lo && (!upper || bytes < hi))
        return 0;
    if (upper)
        snprintf(msg, cap,
                 "window: expected the %u bytes D's SYN offered (win << %u in %llu..%llu), "
                 "got win %u = %llu bytes",
                 (unsigned)syn, shift, (unsigned long long)lo, (unsigned long long)hi - 1,
                 (unsigned)got->window, (unsigned long long)bytes);
    else
        snprintf(msg, cap,
                 "window: expected the %u bytes D's SYN offered (win << %u >= %llu: no "
                 "shrinking), got win %u = %llu bytes",
                 (unsigned)syn, shift, (unsigned long long)lo, (unsigned)got->window,
                 (unsigned long long)bytes);
    return -1;
}

void tw_judge_expected_segment(const struct tw_packet *exp, const struct tw_judge_ctx *ctx,
                               const struct tw_segment *got, struct tw_segment *out)
{
    uint8_t raw[TW_TCP_MAX_OPTLEN];
    size_t n;
    memset(out, 0, sizeof(*out));
    out->src = ctx->d_addr;
    out->dst = ctx->h_addr;
    out->sport = ctx->d_port;
    out->dport = ctx->h_port;
    out->seq = got && (reset_seq_zero(exp, got) || exp->seq_any) ? got->seq : ctx->d_iss + exp->seq;
    out->ack = (exp->flags & TW_ACK) && exp->has_ack ? ctx->h_isn + exp->ack : (got ? got->ack : 0);
    out->flags = exp->flags;
    if (exp->has_win)
        out->window = (uint16_t)exp->win;
    else if (got)
        out->window = got->window;
    else if (exp->win_syn)
        out->window = (uint16_t)(ctx->d_syn_win >> judge_syn_shift(ctx));
    out->payload_len = exp->len;
    if (exp->options_any && got) {
        out->opt = got->opt;
    } else {
        n = line_options(exp, ctx, raw);
        set_options(&out->opt, raw, n);
    }
}

void tw_judge_inbound_segment(const struct tw_packet *in, const struct tw_judge_ctx *ctx,
                              struct tw_segment *out)
{
    uint8_t raw[TW_TCP_MAX_OPTLEN];
    size_t n = line_options(in, ctx, raw);
    memset(out, 0, sizeof(*out));
    out->src = in->has_src ? in->src : ctx->h_addr;
    out->dst = in->has_dst ? in->dst : ctx->d_addr;
    out->sport = ctx->h_port;
    out->dport = ctx->d_port;
    out->seq = ctx->h_isn + in->seq + (in->seq_wnd ? ctx->d_wnd : 0);
    out->ack = in->has_ack ? ctx->d_iss + in->ack : 0;
    out->flags = in->flags;
    out->window = (uint16_t)(in->has_win ? in->win : 65535);
    out->urgent = in->has_urg ? in->urg : 0;
    out->reserved = in->has_reserved ? in->reserved : 0;
    out->payload_len = in->len;
    /* Raw bytes as written; build pads to a word with zeros (EOL). */
    memset(&out->opt, 0, sizeof(out->opt));
    memcpy(out->opt.raw, raw, n);
    out->opt.raw_len = (uint8_t)n;
}

/* Options as a list of items up to the first EOL (padding is not compared). */
struct opt_item {
    uint8_t kind, len;
    const uint8_t *p;
};

static size_t option_items(const uint8_t *raw, size_t len, struct opt_item *items, size_t cap)
{
    size_t i = 0, n = 0;
    while (i < len && n < cap) {
        uint8_t kind = raw[i];
        if (kind == TW_OPT_EOL)
            break;
        if (kind == TW_OPT_NOP) {
            items[n++] = (struct opt_item){kind, 1, raw + i};
            i++;
            continue;
        }
        if (i + 1 >= len || raw[i + 1] < 2 || i + raw[i + 1] > len) {
            /* malformed: the rest as one item, compared byte for byte */
            items[n++] = (struct opt_item){0xff, (uint8_t)(len - i), raw + i};
            break;
        }
        items[n++] = (struct opt_item){kind, raw[i + 1], raw + i};
        i += raw[i + 1];
    }
    return n;
}

static bool options_match(const struct tw_packet *exp, const uint8_t *want, size_t want_len,
                          const struct tw_segment *got)
{
    struct opt_item a[TW_TCP_MAX_OPTLEN], b[TW_TCP_MAX_OPTLEN];
    size_t na = option_items(want, want_len, a, TW_TCP_MAX_OPTLEN);
    size_t nb = option_items(got->opt.raw, got->opt.raw_len, b, TW_TCP_MAX_OPTLEN);
    (void)exp;
    if (na != nb)
        return false;
    for (size_t i = 0; i < na; i++) {
        if (a[i].kind != b[i].kind || a[i].len != b[i].len)
            return false;
        if (a[i].kind == TW_OPT_TS && a[i].len == 10) {
            /* D's TS val is its own clock: only the echo is checked. */
            if (memcmp(a[i].p + 6, b[i].p + 6, 4))
                return false;
            continue;
        }
        if (memcmp(a[i].p, b[i].p, a[i].len))
            return false;
    }
    return true;
}

int tw_judge_segment(const struct tw_packet *exp, const struct tw_segment *got,
                     const struct tw_judge_ctx *ctx, char *msg, size_t cap)
{
    char w[64], g[64];
    /* PSH is the sender's choice on a segment with data (RFC 9293 3.9.1:
     * a stack may set it on every write, as Linux does): on an outbound data
     * segment it is not compared. Anywhere else it is. */
    uint8_t ignore = exp->len && got->payload_len ? TW_PSH : 0;
    if ((exp->flags & ~ignore) != (got->flags & ~ignore)) {
        tw_flags_render(exp->flags, w, sizeof(w));
        tw_flags_render(got->flags, g, sizeof(g));
        snprintf(msg, cap, "flags: expected [%s], got [%s]", w, g);
        return -1;
    }
    if (!exp->seq_any && !seq_matches(exp, got, ctx)) {
        if (exp->has_seq_tolerance)
            snprintf(msg, cap, "seq: expected %d (within %u), got %d", (int)(int32_t)exp->seq,
                     (unsigned)exp->seq_tolerance, (int)(int32_t)(got->seq - ctx->d_iss));
        else
            snprintf(msg, cap, "seq: expected %d, got %d", (int)(int32_t)exp->seq,
                     (int)(int32_t)(got->seq - ctx->d_iss));
        return -1;
    }
    if ((exp->flags & TW_ACK) && exp->has_ack && got->ack - ctx->h_isn != exp->ack) {
        snprintf(msg, cap, "ack: expected %d, got %d", (int)(int32_t)exp->ack,
                 (int)(int32_t)(got->ack - ctx->h_isn));
        return -1;
    }
    if (exp->has_win && got->window != exp->win) {
        snprintf(msg, cap, "window: expected %u, got %u", (unsigned)exp->win, (unsigned)got->window);
        return -1;
    }
    if (exp->win_syn && window_matches_syn(ctx, got, msg, cap))
        return -1;
    if (!exp->options_any) {
        uint8_t raw[TW_TCP_MAX_OPTLEN];
        size_t n = line_options(exp, ctx, raw);
        if (!options_match(exp, raw, n, got)) {
            struct tw_options o;
            char ws[200], gs[200];
            set_options(&o, raw, n);
            tw_options_render(&o, ws, sizeof(ws));
            tw_options_render(&got->opt, gs, sizeof(gs));
            snprintf(msg, cap, "options: expected [%s], got [%s]", n ? ws : "",
                     got->opt.raw_len ? gs : "");
            return -1;
        }
    }
    if (got->payload_len != exp->len) {
        snprintf(msg, cap, "payload length: expected %u, got %u", (unsigned)exp->len,
                 (unsigned)got->payload_len);
        return -1;
    }
    return 0;
}

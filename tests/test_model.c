/* Unit tests of the reference model (target/tcb.c, host.c, isn.c, seq.h).
 *
 * Fixtures build each state through the model's own API; segments are
 * written as C99 compound literals relative to the fixture's ISNs. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "seq.h"
#include "tcp.h"

/* D (the model) and H (its peer). */
static const struct tw_addr D_ADDR = {.family = 4, .bytes = {198, 51, 100, 2}};
static const struct tw_addr H_ADDR = {.family = 4, .bytes = {198, 51, 100, 1}};
static const struct tw_addr D_ADDR6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 2}};
static const struct tw_addr H_ADDR6 = {.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = 1}};
#define D_PORT 8080
#define H_PORT 40000
#define ISS 1000000u       /* D's ISN (fixed) */
#define IRS 5000u          /* H's ISN */

/* Every row any test took: the last test checks all were exercised. */
static uint64_t rows_seen[2];

static struct tw_env env;
static struct tw_tcb tcb;
static struct tw_out out;
static uint64_t now;

static void note_rows(void)
{
    rows_seen[0] |= out.rows[0];
    rows_seen[1] |= out.rows[1];
}

static void setup_env(void)
{
    tw_env_init(&env);
    env.isn_mode = TW_ISN_FIXED;
    env.isn_fixed = ISS;
    env.profile.offer = 0; /* no options unless a test asks */
    memset(&tcb, 0, sizeof(tcb));
    tw_out_clear(&out);
    now = 1000000;
}

#define SEG(...)                                                                                 \
    ((struct tw_segment){.src = H_ADDR, .dst = D_ADDR, .sport = H_PORT, .dport = D_PORT,         \
                         .window = 65535, __VA_ARGS__})

static enum tw_verdict send_seg(struct tw_segment s)
{
    tw_out_clear(&out);
    enum tw_verdict v = tw_input(&tcb, &env, &s, now, &out);
    note_rows();
    return v;
}

static void expect_nothing(void) { ck_assert_uint_eq(out.n, 0); }

static const struct tw_segment *expect_seg(unsigned i, uint8_t flags, uint32_t seq, uint32_t ack)
{
    ck_assert_uint_gt(out.n, i);
    const struct tw_segment *s = &out.seg[i];
    ck_assert_uint_eq(s->flags, flags);
    ck_assert_uint_eq(s->seq, seq);
    if (flags & TW_ACK)
        ck_assert_uint_eq(s->ack, ack);
    return s;
}

/* ---- fixtures ----------------------------------------------------------- */

static void fx_listen(void)
{
    tw_out_clear(&out);
    ck_assert_int_eq(tw_open_passive(&tcb, &env, &D_ADDR, D_PORT, now, &out), TW_V_OPEN_LISTEN);
    note_rows();
}

static void fx_syn_received_passive(void)
{
    fx_listen();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_SYN)), TW_V_LISTEN_SYN_SEND_SYNACK);
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
}

static void fx_syn_sent(void)
{
    tw_out_clear(&out);
    ck_assert_int_eq(tw_open_active(&tcb, &env, &D_ADDR, D_PORT, &H_ADDR, H_PORT, now, &out),
                     TW_V_OPEN_SYN_SENT);
    note_rows();
}

static void fx_syn_received_active(void)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_SYN)), TW_V_SYNSENT_SYN_SIMULTANEOUS_OPEN);
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
}

static void fx_established(void)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SYNRCVD_ACK_ESTABLISHED);
}

/* ---- sequence arithmetic ----------------------------------------------- */

START_TEST(test_seq_compare_across_wrap)
{
    ck_assert(seq_lt(0xfffffff0u, 0x10u));
    ck_assert(seq_gt(0x10u, 0xfffffff0u));
    ck_assert(seq_leq(0xffffffffu, 0xffffffffu));
    ck_assert(seq_geq(0u, 0xffffffffu));
    ck_assert(!seq_lt(5u, 5u));
    ck_assert(seq_lt(0xffffffffu, 0u));
}
END_TEST

START_TEST(test_seq_open_closed_range_at_wrap)
{
    /* SND.UNA < SEG.ACK =< SND.NXT with ISS = 0xffffffff: only 0 is acceptable. */
    ck_assert(seq_in_open_closed(0xffffffffu, 0u, 0u));
    ck_assert(!seq_in_open_closed(0xffffffffu, 0xffffffffu, 0u));
    ck_assert(!seq_in_open_closed(0xffffffffu, 1u, 0u));
    ck_assert(!seq_in_open_closed(5u, 6u, 5u)); /* empty range */
}
END_TEST

START_TEST(test_seq_window_membership_at_wrap)
{
    ck_assert(seq_in_window(0xfffffff0u, 0xfffffff0u, 0x20));
    ck_assert(seq_in_window(0xfffffff0u, 0x0fu, 0x20));
    ck_assert(!seq_in_window(0xfffffff0u, 0x10u, 0x20));
    ck_assert(!seq_in_window(0xfffffff0u, 0xffffffefu, 0x20));
    ck_assert(!seq_in_window(7u, 7u, 0)); /* empty window */
}
END_TEST

START_TEST(test_seq_half_space_apart_is_ambiguous_both_ways)
{
    /* HS-SEQ-03: both readings are "less than"; callers must not rely on it. */
    ck_assert(seq_lt(0u, 0x80000000u) == seq_lt(0x80000000u, 0u));
}
END_TEST

/* ---- the motivating example -------------------------------------------- */

static void run_motivating_example(uint32_t client_isn)
{
    const uint32_t server_isn = 3504942089u;
    struct tw_env cenv, senv;
    tw_env_init(&cenv);
    tw_env_init(&senv);
    cenv.isn_mode = senv.isn_mode = TW_ISN_FIXED;
    cenv.isn_fixed = client_isn;
    senv.isn_fixed = server_isn;
    struct tw_tcb client = {0}, server = {0};
    struct tw_out o;
    tw_out_clear(&o);
    ck_assert_int_eq(tw_open_passive(&server, &senv, &D_ADDR, 12345, 0, &o), TW_V_OPEN_LISTEN);
    tw_out_clear(&o);
    ck_assert_int_eq(tw_open_active(&client, &cenv, &H_ADDR, 56742, &D_ADDR, 12345, 0, &o),
                     TW_V_OPEN_SYN_SENT);
    ck_assert_uint_eq(o.n, 1);
    struct tw_segment syn = o.seg[0];
    ck_assert_uint_eq(syn.flags, TW_SYN);
    ck_assert_uint_eq(syn.seq, client_isn);
    ck_assert_uint_eq(syn.sport, 56742);
    ck_assert_uint_eq(syn.dport, 12345);

    tw_out_clear(&o);
    ck_assert_int_eq(tw_input(&server, &senv, &syn, 1000, &o), TW_V_LISTEN_SYN_SEND_SYNACK);
    ck_assert_uint_eq(o.n, 1);
    struct tw_segment synack = o.seg[0];
    ck_assert_uint_eq(synack.flags, TW_SYN | TW_ACK);
    ck_assert_uint_eq(synack.seq, server_isn);
    ck_assert_uint_eq(synack.ack, client_isn + 1u);

    tw_out_clear(&o);
    ck_assert_int_eq(tw_input(&client, &cenv, &synack, 2000, &o), TW_V_SYNSENT_SYNACK_ESTABLISHED);
    ck_assert_uint_eq(o.n, 1);
    struct tw_segment ack = o.seg[0];
    ck_assert_uint_eq(ack.flags, TW_ACK);
    ck_assert_uint_eq(ack.seq, client_isn + 1u);
    ck_assert_uint_eq(ack.ack, server_isn + 1u);

    tw_out_clear(&o);
    ck_assert_int_eq(tw_input(&server, &senv, &ack, 3000, &o), TW_V_SYNRCVD_ACK_ESTABLISHED);
    ck_assert_uint_eq(o.n, 0);
    ck_assert_int_eq(client.state, TW_ESTABLISHED);
    ck_assert_int_eq(server.state, TW_ESTABLISHED);
}

START_TEST(test_motivating_example_exact_numbers)
{
    run_motivating_example(3112279261u);
}
END_TEST

START_TEST(test_motivating_example_client_isn_at_wrap)
{
    /* SYN seq 0xffffffff, SYN,ACK ack 0, ACK seq 0 */
    run_motivating_example(0xffffffffu);
}
END_TEST

START_TEST(test_tcb_fits_in_256_bytes)
{
    printf("sizeof(struct tw_tcb) = %zu bytes\n", sizeof(struct tw_tcb));
    ck_assert_uint_le(sizeof(struct tw_tcb), 256);
}
END_TEST

/* ---- CLOSED ------------------------------------------------------------- */

START_TEST(test_closed_syn_draws_rst_ack_seq_plus_len)
{
    struct tw_segment s = SEG(.seq = 1000, .flags = TW_SYN | TW_FIN, .payload_len = 3);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_closed_input(&s, &out), TW_V_CLOSED_SEND_RST_ACK);
    const struct tw_segment *r = expect_seg(0, TW_RST | TW_ACK, 0, 1005);
    ck_assert(tw_addr_equal(&r->dst, &H_ADDR));
    ck_assert_uint_eq(r->dport, H_PORT);
    ck_assert_uint_eq(r->opt.raw_len, 0);
}
END_TEST

START_TEST(test_closed_ack_draws_rst_seq_seg_ack_without_ack_bit)
{
    struct tw_segment s = SEG(.seq = 17, .ack = 34, .flags = TW_ACK, .payload_len = 3);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_closed_input(&s, &out), TW_V_CLOSED_SEND_RST);
    expect_seg(0, TW_RST, 34, 0);
}
END_TEST

START_TEST(test_closed_rst_is_dropped)
{
    struct tw_segment s = SEG(.seq = 17, .ack = 34, .flags = TW_RST | TW_ACK, .payload_len = 3);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_closed_input(&s, &out), TW_V_CLOSED_RST_DROPPED);
    expect_nothing();
}
END_TEST

START_TEST(test_closed_reset_ack_wraps)
{
    struct tw_segment s = SEG(.seq = 0xfffffff8u, .flags = TW_SYN, .payload_len = 10);
    tw_out_clear(&out);
    tw_closed_input(&s, &out);
    expect_seg(0, TW_RST | TW_ACK, 0, 3); /* HS-CLOSED-04 */
}
END_TEST

START_TEST(test_closed_tcb_takes_closed_rows)
{
    /* A TCB in CLOSED answers like no TCB at all (T3-T5). */
    ck_assert_int_eq(send_seg(SEG(.seq = 1, .flags = TW_SYN)), TW_V_CLOSED_SEND_RST_ACK);
    ck_assert(tw_out_took(&out, TW_ROW_T4));
    ck_assert_int_eq(send_seg(SEG(.seq = 1, .ack = 9, .flags = TW_ACK)), TW_V_CLOSED_SEND_RST);
    ck_assert(tw_out_took(&out, TW_ROW_T5));
    ck_assert_int_eq(send_seg(SEG(.seq = 1, .flags = TW_RST)), TW_V_CLOSED_RST_DROPPED);
    ck_assert(tw_out_took(&out, TW_ROW_T3));
    struct tw_segment bcast = SEG(.seq = 1, .flags = TW_SYN);
    bcast.dst = (struct tw_addr){.family = 4, .bytes = {255, 255, 255, 255}};
    ck_assert_int_eq(send_seg(bcast), TW_V_NON_UNICAST_DROPPED);
    ck_assert(tw_out_took(&out, TW_ROW_E3C));
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

/* ---- LISTEN ------------------------------------------------------------- */

START_TEST(test_listen_rst_is_ignored)
{
    fx_listen();
    ck_assert_int_eq(send_seg(SEG(.seq = 1, .flags = TW_RST | TW_SYN)), TW_V_LISTEN_RST_IGNORED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

START_TEST(test_listen_ack_draws_rst_seq_seg_ack)
{
    fx_listen();
    ck_assert_int_eq(send_seg(SEG(.seq = 17, .ack = 34, .flags = TW_SYN | TW_ACK)),
                     TW_V_LISTEN_ACK_SEND_RST);
    expect_seg(0, TW_RST, 34, 0);
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

START_TEST(test_listen_syn_draws_syn_ack_of_irs_plus_one)
{
    fx_listen();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_SYN, .payload_len = 10)),
                     TW_V_LISTEN_SYN_SEND_SYNACK);
    /* Text on the SYN is never acknowledged by the SYN,ACK (HS-LISTEN-04). */
    const struct tw_segment *s = expect_seg(0, TW_SYN | TW_ACK, ISS, IRS + 1);
    ck_assert_uint_eq(s->payload_len, 0);
    ck_assert_uint_eq(tcb.snd_nxt, ISS + 1);
    ck_assert_uint_eq(tcb.snd_una, ISS);
    ck_assert(tcb.flags & TW_TCB_PASSIVE);
}
END_TEST

START_TEST(test_listen_syn_fin_acks_only_the_syn)
{
    fx_listen();
    send_seg(SEG(.seq = 17, .flags = TW_SYN | TW_FIN, .payload_len = 3));
    expect_seg(0, TW_SYN | TW_ACK, ISS, 18); /* HS-LISTEN-06 */
}
END_TEST

START_TEST(test_listen_bare_fin_is_dropped)
{
    fx_listen();
    ck_assert_int_eq(send_seg(SEG(.seq = 17, .flags = TW_FIN)), TW_V_LISTEN_NO_CONTROL_DROPPED);
    expect_nothing();
}
END_TEST

START_TEST(test_listen_syn_from_broadcast_is_dropped)
{
    fx_listen();
    struct tw_segment s = SEG(.seq = 1, .flags = TW_SYN);
    s.src = (struct tw_addr){.family = 4, .bytes = {255, 255, 255, 255}};
    ck_assert_int_eq(send_seg(s), TW_V_LISTEN_BAD_ADDRESS_DROPPED);
    s.src = (struct tw_addr){.family = 4, .bytes = {127, 0, 0, 2}};
    ck_assert_int_eq(send_seg(s), TW_V_LISTEN_BAD_ADDRESS_DROPPED);
    s = SEG(.seq = 1, .flags = TW_SYN);
    s.dst = (struct tw_addr){.family = 4, .bytes = {224, 0, 0, 1}};
    ck_assert_int_eq(send_seg(s), TW_V_LISTEN_BAD_ADDRESS_DROPPED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

/* ---- SYN-SENT ----------------------------------------------------------- */

START_TEST(test_syn_sent_first_syn_has_iss_and_no_ack)
{
    fx_syn_sent();
    const struct tw_segment *s = expect_seg(0, TW_SYN, ISS, 0);
    ck_assert_uint_eq(s->ack, 0);
    ck_assert_uint_eq(tcb.snd_una, ISS);
    ck_assert_uint_eq(tcb.snd_nxt, ISS + 1);
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

static const uint32_t bad_acks[] = {ISS - 1, ISS, ISS + 2, ISS + (1u << 30), ISS + (1u << 31)};

START_TEST(test_syn_sent_bad_ack_draws_rst_seq_seg_ack)
{
    fx_syn_sent();
    uint32_t a = bad_acks[_i];
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .ack = a, .flags = TW_SYN | TW_ACK)),
                     TW_V_SYNSENT_ACK_UNACCEPTABLE_SEND_RST);
    expect_seg(0, TW_RST, a, 0);
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

START_TEST(test_syn_sent_bad_ack_with_rst_is_dropped)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = 0, .ack = bad_acks[_i], .flags = TW_RST | TW_ACK)),
                     TW_V_SYNSENT_ACK_UNACCEPTABLE_RST_DROPPED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

START_TEST(test_syn_sent_rst_with_good_ack_refuses)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = 12345, .ack = ISS + 1, .flags = TW_RST | TW_ACK)),
                     TW_V_SYNSENT_RST_REFUSED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_REFUSED);
    ck_assert_uint_eq(tw_next_deadline(&tcb), 0); /* no timer armed in CLOSED */
}
END_TEST

START_TEST(test_syn_sent_rst_without_ack_is_dropped)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = 0, .ack = ISS + 1, .flags = TW_RST)),
                     TW_V_SYNSENT_RST_NO_ACK_DROPPED);
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

START_TEST(test_syn_sent_syn_ack_establishes_and_acks)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK, .window = 1000)),
                     TW_V_SYNSENT_SYNACK_ESTABLISHED);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(tcb.state, TW_ESTABLISHED);
    ck_assert_uint_eq(tcb.snd_wnd, 1000);
}
END_TEST

START_TEST(test_syn_sent_syn_ack_with_data_and_fin_goes_to_close_wait)
{
    fx_syn_sent();
    send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK | TW_FIN, .payload_len = 5));
    expect_seg(0, TW_ACK, ISS + 1, IRS + 7); /* HS-SYNSENT-08 */
    ck_assert_int_eq(tcb.state, TW_CLOSE_WAIT);
    ck_assert_uint_eq(tcb.rcv_delivered, 5);
}
END_TEST

START_TEST(test_syn_sent_bare_ack_is_dropped)
{
    fx_syn_sent();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SYNSENT_NO_SYN_DROPPED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

START_TEST(test_syn_sent_crossed_syn_sends_syn_ack_same_iss)
{
    fx_syn_received_active();
    expect_seg(0, TW_SYN | TW_ACK, ISS, IRS + 1); /* HS-SIM-01 */
    ck_assert(!(tcb.flags & TW_TCB_PASSIVE));
}
END_TEST

START_TEST(test_syn_sent_queued_data_rides_after_handshake)
{
    fx_syn_sent();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_send(&tcb, &env, 100, now, &out), TW_V_USER_SEND_QUEUED);
    expect_nothing(); /* HS-OPEN-05: no data on the SYN */
    send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK));
    const struct tw_segment *s = expect_seg(0, TW_ACK | TW_PSH, ISS + 1, IRS + 1);
    ck_assert_uint_eq(s->payload_len, 100);
}
END_TEST

/* ---- SYN-RECEIVED ------------------------------------------------------- */

START_TEST(test_syn_received_good_ack_establishes_silently)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK, .window = 8)),
                     TW_V_SYNRCVD_ACK_ESTABLISHED);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_ESTABLISHED);
    ck_assert_uint_eq(tcb.snd_wnd, 8);
}
END_TEST

START_TEST(test_syn_received_ack_of_iss_draws_rst)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS, .flags = TW_ACK)),
                     TW_V_SYNRCVD_ACK_UNACCEPTABLE_SEND_RST);
    expect_seg(0, TW_RST, ISS, 0);
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
}
END_TEST

START_TEST(test_syn_received_ack_above_snd_nxt_c_acks_s_resets)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 2, .flags = TW_ACK)),
                     TW_V_ACK_OUTSIDE_5961_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1); /* C: HS-SYNRCVD-03 */
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 2, .flags = TW_ACK)),
                     TW_V_SYNRCVD_ACK_UNACCEPTABLE_SEND_RST);
    expect_seg(0, TW_RST, ISS + 2, 0); /* S */
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
}
END_TEST

START_TEST(test_syn_received_window_edges)
{
    /* HS-SYNRCVD-04: RCV.WND is the raw SYN,ACK window (65535). */
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SEQ_UNACCEPTABLE_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1 + 65535, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SEQ_UNACCEPTABLE_SEND_ACK);
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 65535, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SYNRCVD_ACK_ESTABLISHED);
}
END_TEST

START_TEST(test_syn_received_duplicate_syn_draws_bare_ack)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_SYN)), TW_V_SEQ_UNACCEPTABLE_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1); /* HS-SYNRCVD-05 */
}
END_TEST

START_TEST(test_syn_received_passive_in_window_syn_returns_to_listen)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 100, .flags = TW_SYN)), TW_V_SYN_BACK_TO_LISTEN);
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

START_TEST(test_syn_received_passive_exact_rst_returns_to_listen)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 999, .flags = TW_RST | TW_ACK)),
                     TW_V_RST_BACK_TO_LISTEN); /* HS-SYNRCVD-09: the ack field is ignored */
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_LISTEN);
    ck_assert_uint_eq(tw_next_deadline(&tcb), 0);
}
END_TEST

START_TEST(test_syn_received_rst_in_window_c_challenges_s_resets)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 100, .flags = TW_RST)), TW_V_RST_CHALLENGE_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_RST)), TW_V_SEQ_UNACCEPTABLE_RST_DROPPED);
    expect_nothing();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1 + 65535, .flags = TW_RST)),
                     TW_V_SEQ_UNACCEPTABLE_RST_DROPPED);
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 65535, .flags = TW_RST)), TW_V_RST_BACK_TO_LISTEN);
}
END_TEST

START_TEST(test_syn_received_active_rst_refuses)
{
    fx_syn_received_active();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_RST)), TW_V_RST_REFUSED);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_REFUSED); /* MUST-11, HS-SIM-03 */
}
END_TEST

START_TEST(test_syn_received_active_syn_c_challenge_s_reset)
{
    fx_syn_received_active();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 50, .flags = TW_SYN)), TW_V_SYN_CHALLENGE_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 50, .flags = TW_SYN)), TW_V_SYN_SEND_RST_RESET);
    expect_seg(0, TW_RST | TW_ACK, 0, IRS + 51);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_simultaneous_open_syn_ack_is_acked_then_bare_ack_establishes)
{
    fx_syn_received_active();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK)),
                     TW_V_SEQ_UNACCEPTABLE_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1); /* HS-SIM-02, literal reading */
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK)),
                     TW_V_SYNRCVD_ACK_ESTABLISHED);
}
END_TEST

START_TEST(test_syn_received_segment_without_ack_is_dropped)
{
    fx_syn_received_passive();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_PSH, .payload_len = 5)),
                     TW_V_ACK_BIT_OFF_DROPPED);
    expect_nothing();
}
END_TEST

START_TEST(test_syn_received_third_ack_with_data_is_acked)
{
    fx_syn_received_passive();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_PSH, .payload_len = 5));
    expect_seg(0, TW_ACK, ISS + 1, IRS + 6); /* HS-SYNRCVD-11 */
    ck_assert_int_eq(tcb.state, TW_ESTABLISHED);
}
END_TEST

START_TEST(test_syn_received_third_ack_with_fin_goes_to_close_wait)
{
    fx_syn_received_passive();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_FIN));
    expect_seg(0, TW_ACK, ISS + 1, IRS + 2); /* HS-SYNRCVD-12 */
    ck_assert_int_eq(tcb.state, TW_CLOSE_WAIT);
    ck_assert(tw_out_took(&out, TW_ROW_T32));
    ck_assert(tw_out_took(&out, TW_ROW_T42));
}
END_TEST

/* ---- ESTABLISHED -------------------------------------------------------- */

START_TEST(test_established_syn_c_challenge_ack_s_reset)
{
    fx_established();
    ck_assert_int_eq(send_seg(SEG(.seq = 123, .flags = TW_SYN)), TW_V_SEQ_UNACCEPTABLE_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1); /* out of window: step 1 ACK */
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_SYN)), TW_V_SYN_CHALLENGE_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(tcb.state, TW_ESTABLISHED);
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_SYN)), TW_V_SYN_SEND_RST_RESET);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_established_rst_boundaries_under_5961)
{
    fx_established();
    ck_assert_int_eq(send_seg(SEG(.seq = IRS, .flags = TW_RST)), TW_V_SEQ_UNACCEPTABLE_RST_DROPPED);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1 + 65535, .flags = TW_RST)),
                     TW_V_SEQ_UNACCEPTABLE_RST_DROPPED);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 65535, .flags = TW_RST)), TW_V_RST_CHALLENGE_ACK);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_RST, .payload_len = 20)), TW_V_RST_RESET);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_RESET);
}
END_TEST

START_TEST(test_established_ack_of_unsent_data_is_acked_and_dropped)
{
    fx_established();
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1001, .flags = TW_ACK, .payload_len = 3)),
                     TW_V_ACK_TOO_NEW_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1); /* data not acked */
}
END_TEST

START_TEST(test_established_old_ack_c_drops_s_accepts_data)
{
    fx_established();
    struct tw_segment s = SEG(.seq = IRS + 1, .ack = ISS + 1 - 200000, .flags = TW_ACK, .payload_len = 3);
    ck_assert_int_eq(send_seg(s), TW_V_ACK_OUTSIDE_5961_SEND_ACK);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 1);
    env.profile.rfc5961 = false;
    ck_assert_int_eq(send_seg(s), TW_V_ACK_DUPLICATE);
    expect_seg(0, TW_ACK, ISS + 1, IRS + 4);
}
END_TEST

START_TEST(test_established_half_open_discovery)
{
    /* HS-EST-02: a restarted peer's SYN gets an ACK; its RST with that
     * ACK's ack value kills the stale TCB. */
    fx_established();
    send_seg(SEG(.seq = 123, .flags = TW_SYN));
    uint32_t a = expect_seg(0, TW_ACK, ISS + 1, IRS + 1)->ack;
    ck_assert_int_eq(send_seg(SEG(.seq = a, .flags = TW_RST)), TW_V_RST_RESET);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_established_data_with_window_scaling)
{
    /* HS-WS-02: SYN window 1000 unscaled; third ACK win=8 with shift 7 -> 1024. */
    env.profile.offer = TW_HAS_MSS | TW_HAS_WSCALE;
    fx_listen();
    struct tw_segment syn = SEG(.seq = IRS, .flags = TW_SYN, .window = 1000);
    syn.opt.has = TW_HAS_WSCALE | TW_HAS_MSS;
    syn.opt.wscale = 7;
    syn.opt.mss = 1460;
    send_seg(syn);
    ck_assert_uint_eq(tcb.snd_wnd, 1000);
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK, .window = 8));
    ck_assert_uint_eq(tcb.snd_wnd, 1024);
    tw_out_clear(&out);
    tw_send(&tcb, &env, 3000, now, &out);
    unsigned total = 0;
    for (unsigned i = 0; i < out.n; i++)
        total += out.seg[i].payload_len;
    ck_assert_uint_eq(total, 1024);
}
END_TEST

/* ---- user calls --------------------------------------------------------- */

START_TEST(test_close_in_syn_sent_sends_nothing)
{
    fx_syn_sent();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_DELETED);
    note_rows();
    expect_nothing();
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_uint_eq(tw_next_deadline(&tcb), 0);
}
END_TEST

START_TEST(test_abort_in_syn_sent_sends_nothing)
{
    fx_syn_sent();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_DELETED);
    note_rows();
    expect_nothing();
}
END_TEST

START_TEST(test_abort_in_syn_received_sends_rst_snd_nxt)
{
    fx_syn_received_active();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_SEND_RST);
    note_rows();
    expect_seg(0, TW_RST, ISS + 1, 0);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_close_in_syn_received_sends_fin)
{
    fx_syn_received_active();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
    expect_seg(0, TW_FIN | TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(tcb.state, TW_FIN_WAIT_1);
}
END_TEST

START_TEST(test_close_and_abort_of_listener_and_established)
{
    fx_listen();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_DELETED);
    note_rows();
    fx_listen();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_DELETED);
    note_rows();
    fx_established();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
    expect_seg(0, TW_FIN | TW_ACK, ISS + 1, IRS + 1);
    ck_assert_int_eq(tcb.state, TW_FIN_WAIT_1);
    /* A segment in FIN-WAIT-1 is still checked and acknowledged. */
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 2, .flags = TW_ACK, .payload_len = 2));
    expect_seg(0, TW_ACK, ISS + 2, IRS + 3);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_SEND_RST);
    note_rows();
    expect_seg(0, TW_RST, ISS + 2, 0);
}
END_TEST

START_TEST(test_abort_in_established_sends_rst_snd_nxt)
{
    fx_established();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_SEND_RST);
    note_rows();
    ck_assert(tw_out_took(&out, TW_ROW_T44));
    expect_seg(0, TW_RST, ISS + 1, 0);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_close_with_unread_data_sends_rst_not_fin)
{
    /* RFC 1122 4.2.2.13: CLOSE with received data still unread: RST
     * <SEQ=SND.NXT>, the connection is gone. */
    fx_established();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_PSH, .payload_len = 10));
    expect_seg(0, TW_ACK, ISS + 1, IRS + 11);
    ck_assert_uint_eq(tw_read(&tcb, 4), 4); /* part of it read: 6 bytes still pending */
    struct tw_tcb saved = tcb;
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close_final(&tcb, &env, now, &out), TW_V_USER_CLOSE_UNREAD_SEND_RST);
    note_rows();
    ck_assert(tw_out_took(&out, TW_ROW_E14));
    ck_assert_uint_eq(out.n, 1);
    expect_seg(0, TW_RST, ISS + 1, 0);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    /* A half-close (tw_close) still sends FIN: the user may read on. */
    tcb = saved;
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
    /* Everything read: CLOSE sends FIN as usual. */
    tcb = saved;
    ck_assert_uint_eq(tw_read(&tcb, 100), 6);
    ck_assert_uint_eq(tw_read(&tcb, 100), 0);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close_final(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
    expect_seg(0, TW_FIN | TW_ACK, ISS + 1, IRS + 11);
    ck_assert_int_eq(tcb.state, TW_FIN_WAIT_1);
}
END_TEST

START_TEST(test_close_wait_close_with_unread_data_sends_rst)
{
    fx_established();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_FIN, .payload_len = 5));
    ck_assert_int_eq(tcb.state, TW_CLOSE_WAIT);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close_final(&tcb, &env, now, &out), TW_V_USER_CLOSE_UNREAD_SEND_RST);
    note_rows();
    ck_assert(tw_out_took(&out, TW_ROW_E15));
    expect_seg(0, TW_RST, ISS + 1, 0);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    /* Without data (a bare FIN) there is nothing to lose: FIN. */
    fx_established();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_FIN));
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close_final(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
}
END_TEST

START_TEST(test_close_wait_close_and_abort)
{
    fx_established();
    send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK | TW_FIN));
    ck_assert_int_eq(tcb.state, TW_CLOSE_WAIT);
    send_seg(SEG(.seq = IRS + 2, .ack = ISS + 1, .flags = TW_ACK));
    expect_nothing();
    struct tw_tcb saved = tcb;
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_USER_CLOSE_SEND_FIN);
    note_rows();
    tcb = saved;
    tw_out_clear(&out);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_USER_ABORT_SEND_RST);
    note_rows();
    tcb = saved;
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 2, .flags = TW_RST)), TW_V_RST_RESET);
    fx_established();
    tw_out_clear(&out);
    tw_close(&tcb, &env, now, &out);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .flags = TW_RST)), TW_V_RST_RESET);
}
END_TEST

START_TEST(test_open_to_broadcast_or_multicast_fails_locally)
{
    static const struct tw_addr bad[] = {
        {.family = 4, .bytes = {255, 255, 255, 255}},
        {.family = 4, .bytes = {224, 0, 0, 1}},
        {.family = 6, .bytes = {0xff, 0x02, [15] = 1}},
    };
    for (unsigned i = 0; i < 3; i++) {
        memset(&tcb, 0, sizeof(tcb));
        tw_out_clear(&out);
        const struct tw_addr *l = bad[i].family == 4 ? &D_ADDR : &D_ADDR6;
        ck_assert_int_eq(tw_open_active(&tcb, &env, l, D_PORT, &bad[i], H_PORT, now, &out),
                         TW_V_OPEN_BAD_REMOTE);
        expect_nothing();
    }
}
END_TEST

START_TEST(test_calls_in_wrong_state_are_illegal)
{
    tw_out_clear(&out);
    ck_assert_int_eq(tw_close(&tcb, &env, now, &out), TW_V_CALL_ILLEGAL);
    ck_assert_int_eq(tw_abort(&tcb, &env, now, &out), TW_V_CALL_ILLEGAL);
    ck_assert_int_eq(tw_send(&tcb, &env, 1, now, &out), TW_V_CALL_ILLEGAL);
    fx_listen();
    ck_assert_int_eq(tw_open_passive(&tcb, &env, &D_ADDR, D_PORT, now, &out), TW_V_CALL_ILLEGAL);
}
END_TEST

START_TEST(test_listen_active_open_sends_syn)
{
    fx_listen();
    tw_out_clear(&out);
    ck_assert_int_eq(tw_open_active(&tcb, &env, &D_ADDR, D_PORT, &H_ADDR, H_PORT, now, &out),
                     TW_V_OPEN_SYN_SENT);
    note_rows();
    ck_assert(tw_out_took(&out, TW_ROW_T10));
    expect_seg(0, TW_SYN, ISS, 0);
}
END_TEST

/* ---- options ------------------------------------------------------------ */

static struct tw_segment syn_with(uint8_t has, uint16_t mss, uint8_t ws)
{
    struct tw_segment s = SEG(.seq = IRS, .flags = TW_SYN);
    s.opt.has = has;
    s.opt.mss = mss;
    s.opt.wscale = ws;
    s.opt.ts_val = 12345;
    s.opt.ts_ecr = 4242; /* HS-TS-02: ignored without ACK */
    return s;
}

START_TEST(test_syn_ack_offers_only_what_the_syn_offered)
{
    env.profile.offer = TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS;
    fx_listen();
    send_seg(syn_with(TW_HAS_MSS, 1000, 0));
    const struct tw_segment *s = expect_seg(0, TW_SYN | TW_ACK, ISS, IRS + 1);
    ck_assert_uint_eq(s->opt.has, TW_HAS_MSS);
    ck_assert_uint_eq(s->opt.mss, 1460);
    ck_assert(!(tcb.flags & (TW_TCB_WS_OK | TW_TCB_TS_OK | TW_TCB_SACK_OK)));
    ck_assert_uint_eq(tcb.snd_mss, 1000);
}
END_TEST

START_TEST(test_syn_ack_echoes_tsval_and_negotiates_all)
{
    env.profile.offer = TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS;
    fx_listen();
    send_seg(syn_with(TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS, 1460, 15));
    const struct tw_segment *s = expect_seg(0, TW_SYN | TW_ACK, ISS, IRS + 1);
    ck_assert_uint_eq(s->opt.ts_ecr, 12345);
    ck_assert_uint_eq(s->opt.wscale, 7);
    ck_assert_uint_eq(s->window, 65535); /* never scaled in a SYN */
    ck_assert(tcb.flags & TW_TCB_WS_OK);
    ck_assert(tcb.flags & TW_TCB_TS_OK);
    ck_assert(tcb.flags & TW_TCB_SACK_OK);
    ck_assert_uint_eq(tcb.snd_wscale, 14); /* HS-WS-03: 15 is used as 14 */
    ck_assert_uint_eq(tcb.snd_mss, 1460);
}
END_TEST

START_TEST(test_mss_defaults_when_absent)
{
    fx_listen();
    send_seg(syn_with(0, 0, 0));
    ck_assert_uint_eq(tcb.snd_mss, 536); /* MUST-15, IPv4 */
    memset(&tcb, 0, sizeof(tcb));
    tw_out_clear(&out);
    tw_open_passive(&tcb, &env, &D_ADDR6, D_PORT, now, &out);
    struct tw_segment s = syn_with(0, 0, 0);
    s.src = H_ADDR6;
    s.dst = D_ADDR6;
    send_seg(s);
    ck_assert_uint_eq(tcb.snd_mss, 1220); /* IPv6 */
}
END_TEST

START_TEST(test_advertised_mss_follows_mtu)
{
    env.profile.offer = TW_HAS_MSS;
    env.profile.mtu = 9000;
    fx_syn_sent();
    ck_assert_uint_eq(out.seg[0].opt.mss, 8960); /* HS-MSS-05 */
    memset(&tcb, 0, sizeof(tcb));
    env.profile.mtu = 1500;
    tw_out_clear(&out);
    tw_open_active(&tcb, &env, &D_ADDR6, D_PORT, &H_ADDR6, H_PORT, now, &out);
    ck_assert_uint_eq(out.seg[0].opt.mss, 1440);
}
END_TEST

START_TEST(test_effective_mss_subtracts_timestamps)
{
    /* HS-MSS-04: MSS 1000 with TS negotiated -> 988-byte segments. */
    env.profile.offer = TW_HAS_MSS | TW_HAS_TS;
    fx_listen();
    send_seg(syn_with(TW_HAS_MSS | TW_HAS_TS, 1000, 0));
    struct tw_segment a = SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK);
    a.opt.has = TW_HAS_TS;
    a.opt.ts_val = 12346;
    send_seg(a);
    ck_assert_int_eq(tcb.state, TW_ESTABLISHED);
    tw_out_clear(&out);
    tw_send(&tcb, &env, 3000, now, &out);
    ck_assert_uint_eq(out.seg[0].payload_len, 988);
    ck_assert(out.seg[0].opt.has & TW_HAS_TS); /* HS-TS-03 */
    ck_assert(!(out.seg[0].opt.has & TW_HAS_MSS)); /* HS-MSS-02 */
}
END_TEST

START_TEST(test_paws_rejects_old_tsval_in_syn_received)
{
    env.profile.offer = TW_HAS_TS;
    fx_listen();
    send_seg(syn_with(TW_HAS_TS, 0, 0));
    struct tw_segment a = SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK);
    a.opt.has = TW_HAS_TS;
    a.opt.ts_val = 12345 - 1000;
    ck_assert_int_eq(send_seg(a), TW_V_PAWS_SEND_ACK); /* HS-TS-06 */
    ck_assert_int_eq(tcb.state, TW_SYN_RECEIVED);
    a.opt.has = 0;
    ck_assert_int_eq(send_seg(a), TW_V_TS_MISSING_DROPPED); /* HS-TS-04 */
    expect_nothing();
    struct tw_segment r = SEG(.seq = IRS + 1, .flags = TW_RST); /* HS-TS-07: no TS needed */
    ck_assert_int_eq(send_seg(r), TW_V_RST_BACK_TO_LISTEN);
}
END_TEST

START_TEST(test_ts_missing_in_established_is_dropped)
{
    env.profile.offer = TW_HAS_TS;
    fx_listen();
    send_seg(syn_with(TW_HAS_TS, 0, 0));
    struct tw_segment a = SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK);
    a.opt.has = TW_HAS_TS;
    a.opt.ts_val = 12346;
    send_seg(a);
    ck_assert_int_eq(send_seg(SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK, .payload_len = 4)),
                     TW_V_TS_MISSING_DROPPED);
    expect_nothing();
    a.opt.ts_val = 10;
    ck_assert_int_eq(send_seg(a), TW_V_PAWS_SEND_ACK);
}
END_TEST

/* ---- timers ------------------------------------------------------------- */

static enum tw_verdict fire(uint64_t at)
{
    tw_out_clear(&out);
    enum tw_verdict v = tw_timer(&tcb, &env, at, &out);
    note_rows();
    return v;
}

START_TEST(test_syn_retransmits_with_doubling_and_gives_up_after_3_minutes)
{
    /* HS-TMR-01/-02/-05: SYN at 0, then 1, 3, 7, 15, 31, 63, 123 s; give up at 183 s. */
    static const unsigned at_s[] = {1, 3, 7, 15, 31, 63, 123};
    uint64_t t0 = now;
    fx_syn_sent();
    ck_assert_int_eq(fire(t0 + 999999), TW_V_TIMER_NOT_DUE);
    for (unsigned i = 0; i < 7; i++) {
        uint64_t at = t0 + (uint64_t)at_s[i] * 1000000u;
        ck_assert_uint_eq(tw_next_deadline(&tcb), at);
        ck_assert_int_eq(fire(at), TW_V_TIMER_RESEND_SYN);
        expect_seg(0, TW_SYN, ISS, 0); /* HS-TMR-07: the same ISS */
    }
    ck_assert_uint_eq(tw_next_deadline(&tcb), t0 + 183000000u);
    ck_assert_int_eq(fire(t0 + 183000000u), TW_V_TIMER_GIVE_UP);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_TIMEOUT);
    ck_assert_uint_eq(tw_next_deadline(&tcb), 0);
}
END_TEST

START_TEST(test_syn_ack_retransmits_then_passive_child_returns_to_listen)
{
    uint64_t t0 = now;
    fx_syn_received_passive();
    uint64_t t = t0, rto = 1000000;
    for (unsigned i = 0; i < env.profile.synack_retries; i++) {
        t += rto;
        ck_assert_int_eq(fire(t), TW_V_TIMER_RESEND_SYNACK);
        expect_seg(0, TW_SYN | TW_ACK, ISS, IRS + 1);
        rto *= 2;
    }
    ck_assert_int_eq(fire(t + rto), TW_V_TIMER_GIVE_UP);
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

START_TEST(test_active_syn_received_gives_up_to_closed)
{
    env.profile.synack_retries = 0;
    fx_syn_received_active();
    ck_assert_int_eq(fire(now + 1000000), TW_V_TIMER_GIVE_UP);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_rto_is_3s_after_a_lost_syn)
{
    /* RFC 6298 (5.7), HS-TMR-03: SYN retransmitted, no TS: data RTO 3 s. */
    uint64_t t0 = now;
    fx_syn_sent();
    fire(t0 + 1000000);
    now = t0 + 1100000;
    send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK));
    ck_assert_uint_eq(tcb.rto_ms, 3000);
    tw_out_clear(&out);
    tw_send(&tcb, &env, 10, now, &out);
    ck_assert_uint_eq(tw_next_deadline(&tcb), now + 3000000u);
    ck_assert_int_eq(fire(now + 3000000u), TW_V_TIMER_RESEND_DATA);
    expect_seg(0, TW_ACK | TW_PSH, ISS + 1, IRS + 1);
}
END_TEST

START_TEST(test_rto_from_a_clean_rtt_sample)
{
    uint64_t t0 = now;
    fx_syn_sent();
    now = t0 + 100000; /* 100 ms RTT -> 300 ms, rounded up to 1 s */
    send_seg(SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK));
    ck_assert_uint_eq(tcb.rto_ms, 1000);
    ck_assert(tcb.flags & TW_TCB_HAVE_RTT);
}
END_TEST

START_TEST(test_user_timeout_aborts_the_open)
{
    env.profile.user_timeout_ms = 2500;
    uint64_t t0 = now;
    fx_syn_sent();
    ck_assert_int_eq(fire(t0 + 1000000), TW_V_TIMER_RESEND_SYN);
    ck_assert_uint_eq(tw_next_deadline(&tcb), t0 + 2500000);
    ck_assert_int_eq(fire(t0 + 2500000), TW_V_TIMER_GIVE_UP);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_data_retransmission_gives_up)
{
    fx_established();
    tw_out_clear(&out);
    tw_send(&tcb, &env, 10, now, &out);
    enum tw_verdict v;
    unsigned n = 0;
    do {
        v = fire(tw_next_deadline(&tcb));
        n++;
    } while (v == TW_V_TIMER_RESEND_DATA && n < 100);
    ck_assert_int_eq(v, TW_V_TIMER_GIVE_UP);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

/* ---- ICMP --------------------------------------------------------------- */

static enum tw_verdict icmp(uint8_t type, uint8_t code, enum tw_icmp_class cls, uint32_t qseq)
{
    struct tw_icmp ic = {.family = 4, .type = type, .code = code, .cls = cls, .q_src = D_ADDR,
                         .q_dst = H_ADDR, .q_sport = D_PORT, .q_dport = H_PORT, .q_seq = qseq,
                         .mtu = 1000};
    tw_out_clear(&out);
    enum tw_verdict v = tw_icmp_input(&tcb, &env, &ic, now, &out);
    note_rows();
    return v;
}

START_TEST(test_icmp_port_unreachable_aborts_syn_sent)
{
    fx_syn_sent();
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_REFUSED);
}
END_TEST

START_TEST(test_icmp_quoting_wrong_seq_is_ignored)
{
    fx_syn_sent();
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS - 1), TW_V_ICMP_SEQ_INVALID_DROPPED);
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS + 1), TW_V_ICMP_SEQ_INVALID_DROPPED);
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
}
END_TEST

START_TEST(test_icmp_soft_errors_never_abort)
{
    fx_syn_sent();
    ck_assert_int_eq(icmp(3, 1, TW_ICMP_SOFT, ISS), TW_V_ICMP_SOFT_REPORTED);
    ck_assert_int_eq(icmp(11, 0, TW_ICMP_SOFT, ISS), TW_V_ICMP_SOFT_REPORTED);
    ck_assert_int_eq(icmp(4, 0, TW_ICMP_QUENCH, ISS), TW_V_ICMP_QUENCH_DROPPED);
    ck_assert_int_eq(icmp(3, 4, TW_ICMP_PMTU, ISS), TW_V_ICMP_PMTU);
    ck_assert_int_eq(tcb.state, TW_SYN_SENT);
    /* The path MTU survives the SYN,ACK's MSS (HS-ICMP-04): 1000 - 40. */
    struct tw_tcb saved = tcb;
    struct tw_segment sa = SEG(.seq = IRS, .ack = ISS + 1, .flags = TW_SYN | TW_ACK);
    sa.opt.has = TW_HAS_MSS;
    sa.opt.mss = 1460;
    send_seg(sa);
    ck_assert_uint_eq(tcb.snd_mss, 960);
    tcb = saved;
    env.profile.icmp_soft_abort_syn_sent = true; /* RFC 5461 practice */
    ck_assert_int_eq(icmp(3, 1, TW_ICMP_SOFT, ISS), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
}
END_TEST

START_TEST(test_icmp_in_syn_received_and_established)
{
    fx_syn_received_passive();
    ck_assert_int_eq(icmp(3, 1, TW_ICMP_SOFT, ISS), TW_V_ICMP_SOFT_REPORTED);
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(tcb.state, TW_LISTEN);
    fx_syn_received_active();
    ck_assert_int_eq(icmp(3, 2, TW_ICMP_HARD, ISS), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(tcb.error, TW_ERR_UNREACH);
    fx_established();
    tw_out_clear(&out);
    tw_send(&tcb, &env, 10, now, &out);
    ck_assert_int_eq(icmp(3, 1, TW_ICMP_SOFT, ISS + 1), TW_V_ICMP_SOFT_REPORTED);
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS + 1), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(tcb.state, TW_CLOSED);
    ck_assert_int_eq(icmp(3, 3, TW_ICMP_HARD, ISS + 1), TW_V_ICMP_NO_CONNECTION);
}
END_TEST

/* ---- ISNs --------------------------------------------------------------- */

START_TEST(test_siphash_reference_vector)
{
    /* SipHash-2-4 paper, appendix A: key 00..0f, message 00..0e. */
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    ck_assert_uint_eq(tw_siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
}
END_TEST

START_TEST(test_isn_differs_unpredictably_across_ports)
{
    /* HS-ISN-02: 64 ports at the same instant: strides are not constant and
     * spread over the whole space. */
    uint8_t key[16] = "0123456789abcdef";
    uint32_t prev = tw_isn_rfc6528(key, &D_ADDR, 8080, &H_ADDR, 40000, 0);
    unsigned equal_strides = 0, high_bit = 0;
    uint32_t last_stride = 0;
    for (uint16_t p = 40001; p < 40065; p++) {
        uint32_t isn = tw_isn_rfc6528(key, &D_ADDR, 8080, &H_ADDR, p, 0);
        uint32_t stride = isn - prev;
        equal_strides += stride == last_stride;
        high_bit += isn >> 31;
        last_stride = stride;
        prev = isn;
    }
    ck_assert_uint_le(equal_strides, 1);
    ck_assert_uint_gt(high_bit, 16);
    ck_assert_uint_lt(high_bit, 48);
}
END_TEST

START_TEST(test_isn_same_tuple_advances_with_the_clock)
{
    /* HS-ISN-01: one tick per 4 us. */
    uint8_t key[16] = "0123456789abcdef";
    uint32_t a = tw_isn_rfc6528(key, &D_ADDR, 8080, &H_ADDR, 40000, 1000000);
    uint32_t b = tw_isn_rfc6528(key, &D_ADDR, 8080, &H_ADDR, 40000, 1400000);
    ck_assert_uint_eq(b - a, 100000);
    uint8_t key2[16] = "0123456789abcdeF";
    ck_assert_uint_ne(a, tw_isn_rfc6528(key2, &D_ADDR, 8080, &H_ADDR, 40000, 1000000));
}
END_TEST

START_TEST(test_default_env_uses_rfc6528)
{
    tw_env_init(&env);
    memcpy(env.secret, "k0k1k2k3k4k5k6k7", 16);
    tw_out_clear(&out);
    tw_open_active(&tcb, &env, &D_ADDR, D_PORT, &H_ADDR, H_PORT, 5000, &out);
    ck_assert_uint_eq(tcb.iss, tw_isn_rfc6528(env.secret, &D_ADDR, D_PORT, &H_ADDR, H_PORT, 5000));
}
END_TEST

/* ---- host --------------------------------------------------------------- */

START_TEST(test_host_listener_serves_two_peers_and_survives_rst)
{
    static struct tw_host h;
    tw_host_init(&h, &env);
    enum tw_verdict v;
    tw_out_clear(&out);
    int l = tw_host_listen(&h, &D_ADDR, D_PORT, now, &out, &v);
    ck_assert_int_ge(l, 0);
    int s1, s2;
    struct tw_segment syn1 = SEG(.seq = IRS, .flags = TW_SYN);
    struct tw_segment syn2 = SEG(.seq = IRS, .flags = TW_SYN, .sport = H_PORT + 1);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &syn1, now, &out, &s1), TW_V_LISTEN_SYN_SEND_SYNACK);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &syn2, now, &out, &s2), TW_V_LISTEN_SYN_SEND_SYNACK);
    ck_assert_int_ne(s1, s2);
    ck_assert_int_eq(h.tcb[l].state, TW_LISTEN);
    /* RST on the first child: it goes, the listener stays (HS-SYNRCVD-07). */
    struct tw_segment rst = SEG(.seq = IRS + 1, .flags = TW_RST);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &rst, now, &out, NULL), TW_V_RST_BACK_TO_LISTEN);
    ck_assert(!(h.slot_flags[s1] & TW_SLOT_USED));
    /* Now an ACK for that tuple meets the listener: RST seq=SEG.ACK. */
    struct tw_segment ack = SEG(.seq = IRS + 1, .ack = ISS + 1, .flags = TW_ACK);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &ack, now, &out, NULL), TW_V_LISTEN_ACK_SEND_RST);
    /* The second completes and is accepted. */
    ack.sport = H_PORT + 1;
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &ack, now, &out, NULL), TW_V_SYNRCVD_ACK_ESTABLISHED);
    ck_assert_int_eq(tw_host_accept(&h, l), s2);
    ck_assert_int_eq(tw_host_accept(&h, l), TW_NO_SLOT);
}
END_TEST

START_TEST(test_host_full_drops_syn_without_rst)
{
    static struct tw_host h;
    tw_host_init(&h, &env);
    enum tw_verdict v;
    tw_out_clear(&out);
    tw_host_listen(&h, &D_ADDR, D_PORT, now, &out, &v);
    for (int i = 0; i < TW_HOST_SLOTS + 3; i++) {
        struct tw_segment syn = SEG(.seq = IRS, .flags = TW_SYN, .sport = (uint16_t)(H_PORT + i));
        tw_out_clear(&out);
        v = tw_host_input(&h, &syn, now, &out, NULL);
        if (i >= TW_HOST_SLOTS - 1) {
            ck_assert_int_eq(v, TW_V_LISTEN_NO_CONTROL_DROPPED);
            expect_nothing(); /* HS-LISTEN-09 */
        }
    }
}
END_TEST

START_TEST(test_host_packet_with_bad_checksum_is_dropped)
{
    static struct tw_host h;
    tw_host_init(&h, &env);
    uint8_t pkt[128];
    enum tw_parse_err e;
    struct tw_segment syn = SEG(.seq = IRS, .flags = TW_SYN);
    size_t n = tw_segment_build(&syn, pkt, sizeof(pkt), &e);
    ck_assert_uint_gt(n, 0);
    pkt[n - 3] ^= 0x40; /* flip a bit in the TCP header (the window) */
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input_packet(&h, pkt, n, now, &out, NULL), TW_V_BAD_CHECKSUM_DROPPED);
    expect_nothing();
    ck_assert_int_eq(tw_host_input_packet(&h, pkt, 10, now, &out, NULL), TW_V_MALFORMED_DROPPED);
    pkt[n - 3] ^= 0x40;
    ck_assert_int_eq(tw_host_input_packet(&h, pkt, n, now, &out, NULL), TW_V_CLOSED_SEND_RST_ACK);
}
END_TEST

START_TEST(test_host_drops_segments_for_another_address_silently)
{
    static struct tw_host h;
    struct tw_env e = env;
    e.addrs[0] = D_ADDR;
    e.addrs[1] = D_ADDR6;
    e.n_addrs = 2;
    tw_host_init(&h, &e);
    enum tw_verdict v;
    tw_out_clear(&out);
    int l = tw_host_listen(&h, NULL, D_PORT, now, &out, &v); /* any local address */
    ck_assert_int_ge(l, 0);
    /* RFC 1122 3.2.1.3: to 198.51.100.3, neither the wildcard listener nor
     * the CLOSED rules see it: no SYN-ACK, no RST, no TCB. */
    struct tw_segment s = SEG(.seq = IRS, .flags = TW_SYN);
    s.dst = (struct tw_addr){.family = 4, .bytes = {198, 51, 100, 3}};
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &s, now, &out, NULL), TW_V_NOT_FOR_HOST_DROPPED);
    expect_nothing();
    s.dport = D_PORT + 1; /* a closed port there: no RST either */
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &s, now, &out, NULL), TW_V_NOT_FOR_HOST_DROPPED);
    expect_nothing();
    for (int i = 0; i < TW_HOST_SLOTS; i++)
        ck_assert(i == l || !(h.slot_flags[i] & TW_SLOT_USED));
    /* The same SYN to D's address is answered. */
    s = SEG(.seq = IRS, .flags = TW_SYN);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&h, &s, now, &out, NULL), TW_V_LISTEN_SYN_SEND_SYNACK);
    /* A host that knows no address of its own takes every destination. */
    static struct tw_host any;
    tw_host_init(&any, &env);
    s.dst = (struct tw_addr){.family = 4, .bytes = {198, 51, 100, 3}};
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_input(&any, &s, now, &out, NULL), TW_V_CLOSED_SEND_RST_ACK);
}
END_TEST

START_TEST(test_listen_ack_from_or_to_non_unicast_is_dropped)
{
    fx_listen();
    /* MUST-57, RFC 1122 3.2.1.3: an ACK would draw RST seq=SEG.ACK (step
     * 2), but not to or from a broadcast or multicast address. */
    struct tw_segment s = SEG(.seq = 1, .ack = 77, .flags = TW_ACK);
    s.src = (struct tw_addr){.family = 4, .bytes = {224, 1, 1, 1}};
    ck_assert_int_eq(send_seg(s), TW_V_LISTEN_BAD_ADDRESS_DROPPED);
    expect_nothing();
    s = SEG(.seq = 1, .ack = 77, .flags = TW_ACK);
    s.dst = (struct tw_addr){.family = 4, .bytes = {255, 255, 255, 255}};
    ck_assert_int_eq(send_seg(s), TW_V_LISTEN_BAD_ADDRESS_DROPPED);
    expect_nothing();
    ck_assert_int_eq(send_seg(SEG(.seq = 1, .ack = 77, .flags = TW_ACK)), TW_V_LISTEN_ACK_SEND_RST);
    ck_assert_int_eq(tcb.state, TW_LISTEN);
}
END_TEST

START_TEST(test_host_timers_and_icmp_reach_the_connection)
{
    static struct tw_host h;
    tw_host_init(&h, &env);
    enum tw_verdict v;
    tw_out_clear(&out);
    int c = tw_host_connect(&h, &D_ADDR, D_PORT, &H_ADDR, H_PORT, now, &out, &v);
    ck_assert_int_ge(c, 0);
    ck_assert_uint_eq(tw_host_next_deadline(&h), now + 1000000);
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_timer(&h, now + 1000000, &out, NULL), TW_V_TIMER_RESEND_SYN);
    ck_assert_int_eq(tw_host_timer(&h, now + 1000000, &out, NULL), TW_V_TIMER_NOT_DUE);
    struct tw_icmp ic = {.family = 4, .type = 3, .code = 3, .cls = TW_ICMP_HARD, .q_src = D_ADDR,
                         .q_dst = H_ADDR, .q_sport = D_PORT, .q_dport = H_PORT, .q_seq = ISS};
    tw_out_clear(&out);
    ck_assert_int_eq(tw_host_icmp(&h, &ic, now, &out, NULL), TW_V_ICMP_HARD_ABORT);
    ck_assert_int_eq(h.tcb[c].state, TW_CLOSED);
    ck_assert_int_eq(tw_host_icmp(&h, &ic, now, &out, NULL), TW_V_ICMP_NO_CONNECTION);
}
END_TEST

/* ---- the exhaustive reaction table -------------------------------------
 * Every fixture state x every combination of SYN/ACK/RST/FIN/PSH/URG x
 * acceptable/unacceptable ACK x acceptable/unacceptable SEQ, under both
 * profiles, against a reaction table written from RFC 9293 3.10.7 and
 * RFC 5961 independently of tcb.c. */

enum fx { FX_CLOSED, FX_LISTEN, FX_SYN_SENT, FX_SYNRCVD_P, FX_SYNRCVD_A, FX_ESTABLISHED, FX__COUNT };
enum reply { R_NONE, R_RST_SEQ_ACK, R_RST_ACK_LEN, R_ACK, R_SYNACK };
struct reaction { enum reply reply; enum tw_state next; };

static struct reaction expected_reaction(enum fx fx, uint8_t f, bool ack_ok, bool seq_ok, bool c)
{
    bool syn = f & TW_SYN, ack = f & TW_ACK, rst = f & TW_RST, fin = f & TW_FIN;
    switch (fx) {
    case FX_CLOSED:
        return (struct reaction){rst ? R_NONE : ack ? R_RST_SEQ_ACK : R_RST_ACK_LEN, TW_CLOSED};
    case FX_LISTEN:
        if (rst)
            return (struct reaction){R_NONE, TW_LISTEN};
        if (ack)
            return (struct reaction){R_RST_SEQ_ACK, TW_LISTEN};
        if (syn)
            return (struct reaction){R_SYNACK, TW_SYN_RECEIVED};
        return (struct reaction){R_NONE, TW_LISTEN};
    case FX_SYN_SENT:
        if (ack && !ack_ok)
            return (struct reaction){rst ? R_NONE : R_RST_SEQ_ACK, TW_SYN_SENT};
        if (rst)
            return (struct reaction){R_NONE, ack ? TW_CLOSED : TW_SYN_SENT};
        if (syn && ack)
            return (struct reaction){R_ACK, fin ? TW_CLOSE_WAIT : TW_ESTABLISHED};
        if (syn)
            return (struct reaction){R_SYNACK, TW_SYN_RECEIVED};
        return (struct reaction){R_NONE, TW_SYN_SENT};
    default: {
        enum tw_state here = fx == FX_ESTABLISHED ? TW_ESTABLISHED : TW_SYN_RECEIVED;
        bool synrcvd = here == TW_SYN_RECEIVED;
        if (!seq_ok)
            return (struct reaction){rst ? R_NONE : R_ACK, here};
        if (rst) /* seq_ok means SEG.SEQ == RCV.NXT: valid in both profiles */
            return (struct reaction){R_NONE, fx == FX_SYNRCVD_P ? TW_LISTEN : TW_CLOSED};
        if (syn) {
            if (fx == FX_SYNRCVD_P)
                return (struct reaction){R_NONE, TW_LISTEN};
            if (c)
                return (struct reaction){R_ACK, here};
            return (struct reaction){ack ? R_RST_SEQ_ACK : R_RST_ACK_LEN, TW_CLOSED};
        }
        if (!ack)
            return (struct reaction){R_NONE, here};
        if (!ack_ok) /* above SND.NXT: C ACKs; S: RST in SYN-RECEIVED, ACK in ESTABLISHED */
            return (struct reaction){(c || !synrcvd) ? R_ACK : R_RST_SEQ_ACK, here};
        if (fin)
            return (struct reaction){R_ACK, TW_CLOSE_WAIT};
        return (struct reaction){R_NONE, TW_ESTABLISHED};
    }
    }
}

START_TEST(test_reaction_table)
{
    int i = _i;
    bool c = i & 1;
    bool seq_ok = i & 2, ack_ok = i & 4;
    uint8_t f = (uint8_t)((i >> 3) & 63); /* FIN SYN RST PSH ACK URG: bits 0..5 */
    enum fx fx = (enum fx)(i >> 9);
    env.profile.rfc5961 = c;
    switch (fx) {
    case FX_CLOSED: break;
    case FX_LISTEN: fx_listen(); break;
    case FX_SYN_SENT: fx_syn_sent(); break;
    case FX_SYNRCVD_P: fx_syn_received_passive(); break;
    case FX_SYNRCVD_A: fx_syn_received_active(); break;
    default: fx_established(); break;
    }
    bool synchronized = fx >= FX_SYNRCVD_P;
    uint32_t seq = synchronized ? (seq_ok ? IRS + 1 : IRS + 1 + 100000) : IRS;
    uint32_t ack = fx == FX_ESTABLISHED || synchronized ? (ack_ok ? ISS + 1 : ISS + 2)
                                                        : (ack_ok ? ISS + 1 : ISS + 2);
    struct tw_segment s = SEG(.seq = seq, .ack = ack, .flags = f, .urgent = (f & TW_URG) ? 1 : 0);
    send_seg(s);
    struct reaction want = expected_reaction(fx, f, ack_ok, seq_ok, c);
    char what[96];
    snprintf(what, sizeof(what), "fx %d flags 0x%02x ack_ok %d seq_ok %d %s", fx, f, ack_ok, seq_ok,
             c ? "C" : "S");
    ck_assert_msg(tcb.state == want.next, "%s: state %s, expected %s", what,
                  tw_state_name((enum tw_state)tcb.state), tw_state_name(want.next));
    switch (want.reply) {
    case R_NONE:
        ck_assert_msg(out.n == 0, "%s: expected silence, got %u segments", what, out.n);
        break;
    case R_RST_SEQ_ACK:
        ck_assert_msg(out.n == 1 && out.seg[0].flags == TW_RST && out.seg[0].seq == ack,
                      "%s: expected RST seq=SEG.ACK", what);
        break;
    case R_RST_ACK_LEN:
        ck_assert_msg(out.n == 1 && out.seg[0].flags == (TW_RST | TW_ACK) && out.seg[0].seq == 0 &&
                          out.seg[0].ack == seq + tw_segment_len(&s),
                      "%s: expected RST,ACK ack=SEG.SEQ+SEG.LEN", what);
        break;
    case R_ACK:
        ck_assert_msg(out.n == 1 && out.seg[0].flags == TW_ACK && out.seg[0].seq == tcb.snd_nxt &&
                          out.seg[0].ack == tcb.rcv_nxt,
                      "%s: expected <SEQ=SND.NXT><ACK=RCV.NXT><ACK>, got %u segments", what, out.n);
        break;
    case R_SYNACK:
        ck_assert_msg(out.n == 1 && out.seg[0].flags == (TW_SYN | TW_ACK) && out.seg[0].seq == ISS &&
                          out.seg[0].ack == seq + 1,
                      "%s: expected SYN,ACK", what);
        break;
    }
}
END_TEST

/* ---- the transition table ----------------------------------------------- */

struct text_buf {
    char buf[65536];
    size_t len;
};

static void collect(void *ctx, const char *text)
{
    struct text_buf *t = ctx;
    size_t n = strlen(text);
    ck_assert_uint_lt(t->len + n, sizeof(t->buf));
    memcpy(t->buf + t->len, text, n + 1);
    t->len += n;
}

START_TEST(test_diagram_draws_every_row)
{
    static struct text_buf t;
    t.len = 0;
    tw_diagram(collect, &t);
    ck_assert(strncmp(t.buf, "digraph", 7) == 0);
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        /* The id as a whole word of a label: after '"', ' ' or "\n", before
         * ':', ' ', '"' or '\'. */
        const char *id = tw_rows[r].id, *p = t.buf;
        size_t n = strlen(id);
        bool found = false;
        while (!found && (p = strstr(p, id)) != NULL) {
            char before = p > t.buf ? p[-1] : 0, after = p[n];
            found = (before == '"' || before == ' ' || before == 'n') &&
                    (after == ':' || after == ' ' || after == '"' || after == '\\');
            p += n;
        }
        ck_assert_msg(found, "row %s is not in the diagram", id);
    }
}
END_TEST

START_TEST(test_rows_are_consistent)
{
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        ck_assert_ptr_nonnull(tw_rows[r].id);
        ck_assert_int_lt(tw_rows[r].from, TW_STATE__COUNT);
        ck_assert_str_ne(tw_rows[r].requirement, "");
    }
    for (int v = 0; v < TW_V__COUNT; v++)
        ck_assert_str_ne(tw_verdict_name((enum tw_verdict)v), "?");
}
END_TEST

START_TEST(test_every_transition_row_is_exercised)
{
    /* Runs last: every row of the table was taken by some test above. */
    char missing[512] = "";
    for (int r = 0; r < TW_ROW__COUNT; r++) {
        if (!((rows_seen[r / 64] >> (r % 64)) & 1)) {
            strncat(missing, " ", sizeof(missing) - strlen(missing) - 1);
            strncat(missing, tw_rows[r].id, sizeof(missing) - strlen(missing) - 1);
        }
    }
    ck_assert_msg(missing[0] == 0, "rows never taken:%s", missing);
}
END_TEST

static Suite *model_suite(void)
{
    Suite *s = suite_create("model");
    TCase *tc;

    tc = tcase_create("seq");
    tcase_add_test(tc, test_seq_compare_across_wrap);
    tcase_add_test(tc, test_seq_open_closed_range_at_wrap);
    tcase_add_test(tc, test_seq_window_membership_at_wrap);
    tcase_add_test(tc, test_seq_half_space_apart_is_ambiguous_both_ways);
    suite_add_tcase(s, tc);

    tc = tcase_create("example");
    tcase_add_test(tc, test_motivating_example_exact_numbers);
    tcase_add_test(tc, test_motivating_example_client_isn_at_wrap);
    tcase_add_test(tc, test_tcb_fits_in_256_bytes);
    suite_add_tcase(s, tc);

    tc = tcase_create("states");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_closed_syn_draws_rst_ack_seq_plus_len);
    tcase_add_test(tc, test_closed_ack_draws_rst_seq_seg_ack_without_ack_bit);
    tcase_add_test(tc, test_closed_rst_is_dropped);
    tcase_add_test(tc, test_closed_reset_ack_wraps);
    tcase_add_test(tc, test_closed_tcb_takes_closed_rows);
    tcase_add_test(tc, test_listen_rst_is_ignored);
    tcase_add_test(tc, test_listen_ack_draws_rst_seq_seg_ack);
    tcase_add_test(tc, test_listen_syn_draws_syn_ack_of_irs_plus_one);
    tcase_add_test(tc, test_listen_syn_fin_acks_only_the_syn);
    tcase_add_test(tc, test_listen_bare_fin_is_dropped);
    tcase_add_test(tc, test_listen_syn_from_broadcast_is_dropped);
    tcase_add_test(tc, test_syn_sent_first_syn_has_iss_and_no_ack);
    tcase_add_loop_test(tc, test_syn_sent_bad_ack_draws_rst_seq_seg_ack, 0, 5);
    tcase_add_loop_test(tc, test_syn_sent_bad_ack_with_rst_is_dropped, 0, 5);
    tcase_add_test(tc, test_syn_sent_rst_with_good_ack_refuses);
    tcase_add_test(tc, test_syn_sent_rst_without_ack_is_dropped);
    tcase_add_test(tc, test_syn_sent_syn_ack_establishes_and_acks);
    tcase_add_test(tc, test_syn_sent_syn_ack_with_data_and_fin_goes_to_close_wait);
    tcase_add_test(tc, test_syn_sent_bare_ack_is_dropped);
    tcase_add_test(tc, test_syn_sent_crossed_syn_sends_syn_ack_same_iss);
    tcase_add_test(tc, test_syn_sent_queued_data_rides_after_handshake);
    tcase_add_test(tc, test_syn_received_good_ack_establishes_silently);
    tcase_add_test(tc, test_syn_received_ack_of_iss_draws_rst);
    tcase_add_test(tc, test_syn_received_ack_above_snd_nxt_c_acks_s_resets);
    tcase_add_test(tc, test_syn_received_window_edges);
    tcase_add_test(tc, test_syn_received_duplicate_syn_draws_bare_ack);
    tcase_add_test(tc, test_syn_received_passive_in_window_syn_returns_to_listen);
    tcase_add_test(tc, test_syn_received_passive_exact_rst_returns_to_listen);
    tcase_add_test(tc, test_syn_received_rst_in_window_c_challenges_s_resets);
    tcase_add_test(tc, test_syn_received_active_rst_refuses);
    tcase_add_test(tc, test_syn_received_active_syn_c_challenge_s_reset);
    tcase_add_test(tc, test_simultaneous_open_syn_ack_is_acked_then_bare_ack_establishes);
    tcase_add_test(tc, test_syn_received_segment_without_ack_is_dropped);
    tcase_add_test(tc, test_syn_received_third_ack_with_data_is_acked);
    tcase_add_test(tc, test_syn_received_third_ack_with_fin_goes_to_close_wait);
    tcase_add_test(tc, test_established_syn_c_challenge_ack_s_reset);
    tcase_add_test(tc, test_established_rst_boundaries_under_5961);
    tcase_add_test(tc, test_established_ack_of_unsent_data_is_acked_and_dropped);
    tcase_add_test(tc, test_established_old_ack_c_drops_s_accepts_data);
    tcase_add_test(tc, test_established_half_open_discovery);
    tcase_add_test(tc, test_established_data_with_window_scaling);
    suite_add_tcase(s, tc);

    tc = tcase_create("user-calls");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_close_in_syn_sent_sends_nothing);
    tcase_add_test(tc, test_abort_in_syn_sent_sends_nothing);
    tcase_add_test(tc, test_abort_in_syn_received_sends_rst_snd_nxt);
    tcase_add_test(tc, test_close_in_syn_received_sends_fin);
    tcase_add_test(tc, test_close_and_abort_of_listener_and_established);
    tcase_add_test(tc, test_abort_in_established_sends_rst_snd_nxt);
    tcase_add_test(tc, test_close_wait_close_and_abort);
    tcase_add_test(tc, test_close_with_unread_data_sends_rst_not_fin);
    tcase_add_test(tc, test_close_wait_close_with_unread_data_sends_rst);
    tcase_add_test(tc, test_open_to_broadcast_or_multicast_fails_locally);
    tcase_add_test(tc, test_calls_in_wrong_state_are_illegal);
    tcase_add_test(tc, test_listen_active_open_sends_syn);
    suite_add_tcase(s, tc);

    tc = tcase_create("options");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_syn_ack_offers_only_what_the_syn_offered);
    tcase_add_test(tc, test_syn_ack_echoes_tsval_and_negotiates_all);
    tcase_add_test(tc, test_mss_defaults_when_absent);
    tcase_add_test(tc, test_advertised_mss_follows_mtu);
    tcase_add_test(tc, test_effective_mss_subtracts_timestamps);
    tcase_add_test(tc, test_paws_rejects_old_tsval_in_syn_received);
    tcase_add_test(tc, test_ts_missing_in_established_is_dropped);
    suite_add_tcase(s, tc);

    tc = tcase_create("timers");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_syn_retransmits_with_doubling_and_gives_up_after_3_minutes);
    tcase_add_test(tc, test_syn_ack_retransmits_then_passive_child_returns_to_listen);
    tcase_add_test(tc, test_active_syn_received_gives_up_to_closed);
    tcase_add_test(tc, test_rto_is_3s_after_a_lost_syn);
    tcase_add_test(tc, test_rto_from_a_clean_rtt_sample);
    tcase_add_test(tc, test_user_timeout_aborts_the_open);
    tcase_add_test(tc, test_data_retransmission_gives_up);
    suite_add_tcase(s, tc);

    tc = tcase_create("icmp");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_icmp_port_unreachable_aborts_syn_sent);
    tcase_add_test(tc, test_icmp_quoting_wrong_seq_is_ignored);
    tcase_add_test(tc, test_icmp_soft_errors_never_abort);
    tcase_add_test(tc, test_icmp_in_syn_received_and_established);
    suite_add_tcase(s, tc);

    tc = tcase_create("isn");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_siphash_reference_vector);
    tcase_add_test(tc, test_isn_differs_unpredictably_across_ports);
    tcase_add_test(tc, test_isn_same_tuple_advances_with_the_clock);
    tcase_add_test(tc, test_default_env_uses_rfc6528);
    suite_add_tcase(s, tc);

    tc = tcase_create("host");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_host_listener_serves_two_peers_and_survives_rst);
    tcase_add_test(tc, test_host_full_drops_syn_without_rst);
    tcase_add_test(tc, test_host_packet_with_bad_checksum_is_dropped);
    tcase_add_test(tc, test_host_timers_and_icmp_reach_the_connection);
    tcase_add_test(tc, test_host_drops_segments_for_another_address_silently);
    tcase_add_test(tc, test_listen_ack_from_or_to_non_unicast_is_dropped);
    suite_add_tcase(s, tc);

    tc = tcase_create("reaction-table");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_loop_test(tc, test_reaction_table, 0, FX__COUNT << 9);
    suite_add_tcase(s, tc);

    tc = tcase_create("transition-table");
    tcase_add_checked_fixture(tc, setup_env, NULL);
    tcase_add_test(tc, test_diagram_draws_every_row);
    tcase_add_test(tc, test_rows_are_consistent);
    tcase_add_test(tc, test_every_transition_row_is_exercised);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(model_suite());
    /* No fork: the row coverage check reads what earlier tests recorded. */
    srunner_set_fork_status(sr, CK_NOFORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

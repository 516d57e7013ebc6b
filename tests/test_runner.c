/* The judge's messages and end-to-end runs of inline scripts through the
 * model adapter, on virtual time. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "runner.h"
#include "script.h"
#include "tcp.h"

static struct tw_script S;
static struct tw_case_result R;

static void teardown(void)
{
    tw_script_cleanup(&S);
    tw_case_result_cleanup(&R);
}

static enum tw_case_status run_text(const char *text, const char *profile)
{
    struct tw_script_error e;
    struct tw_run_config cfg = {.ops = NULL, .profile = profile, .tolerance_usecs = -1, .h_port = 0};
    tw_script_cleanup(&S);
    tw_case_result_cleanup(&R);
    ck_assert_msg(tw_script_parse_text("inline.pkt", text, strlen(text), &S, &e) == 0, "%d:%d: %s",
                  e.line, e.column, e.message);
    tw_run_case(&S, &cfg, &R);
    return R.status;
}

#define ASSERT_PASS(text)                                                                         \
    ck_assert_msg(run_text(text, NULL) == TW_CASE_PASS, "failed: %s", R.message ? R.message : "")
#define ASSERT_FAIL_WITH(text, needle)                                                            \
    do {                                                                                          \
        ck_assert_msg(run_text(text, NULL) == TW_CASE_FAIL, "passed");                           \
        ck_assert_msg(R.message && strstr(R.message, needle), "message '%s' lacks '%s'",         \
                      R.message ? R.message : "", needle);                                        \
    } while (0)

/* ---- the judge ------------------------------------------------------------ */

static struct tw_packet line_of(const char *text)
{
    struct tw_script_error e;
    struct tw_packet p;
    tw_script_cleanup(&S);
    ck_assert_msg(tw_script_parse_text("j.pkt", text, strlen(text), &S, &e) == 0, "%s", e.message);
    p = S.events[0].u.pkt;
    return p;
}

static struct tw_judge_ctx ctx(void)
{
    struct tw_judge_ctx c;
    memset(&c, 0, sizeof(c));
    c.d_iss = 1000;
    c.h_isn = 0;
    tw_addr_parse("198.51.100.2", &c.d_addr);
    tw_addr_parse("198.51.100.1", &c.h_addr);
    c.d_port = 8080;
    c.h_port = 40001;
    return c;
}

static struct tw_segment synack(uint32_t seq, uint32_t ack)
{
    struct tw_segment g;
    memset(&g, 0, sizeof(g));
    g.flags = TW_SYN | TW_ACK;
    g.seq = seq;
    g.ack = ack;
    g.window = 65535;
    g.opt.has = TW_HAS_MSS;
    g.opt.mss = 1460;
    tw_options_encode(&g.opt);
    return g;
}

START_TEST(test_judge_names_ack_field)
{
    struct tw_packet p = line_of("0 > S. 0:0(0) ack 1 <mss 1460>\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000, 0);
    char msg[256];
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "ack: expected 1, got 0");
}
END_TEST

START_TEST(test_judge_checks_flags_before_seq)
{
    struct tw_packet p = line_of("0 > S. 5:5(0) ack 1 <mss 1460>\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000, 1);
    char msg[256];
    g.flags = TW_RST;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "flags: expected [S.], got [R]");
}
END_TEST

START_TEST(test_judge_seq_is_relative_to_d_iss)
{
    struct tw_packet p = line_of("0 > S. 0:0(0) ack 1 <mss 1460>\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(999, 1);
    char msg[256];
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "seq: expected 0, got -1");
}
END_TEST

START_TEST(test_judge_seq_tolerance_accepts_either_side_only_within_it)
{
    /* an ISN from a real clock (Linux: 64 ns ticks): seq 1000 +- 50 */
    struct tw_packet p = line_of("0 > S. 1000:1000(0) ack 1 <mss 1460> seq_tolerance 50\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000 + 1000 + 50, 1);
    char msg[256];
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 1000 + 1000 - 50;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 1000 + 1000 + 51;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "seq: expected 1000 (within 50), got 1051");
    g.seq = 1000 + 1000 - 51;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    /* across the 2^32 wrap */
    c.d_iss = 0xffffff00u;
    p = line_of("0 > S. 0:0(0) ack 1 <mss 1460> seq_tolerance 512\n");
    g.seq = 0x100;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 0xfffffd00u;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 0x101;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
}
END_TEST

START_TEST(test_judge_rst_ack_seq_zero_is_absolute_too)
{
    /* R. 0:0(0): the <SEQ=0><ACK=SEG.SEQ+SEG.LEN> reset, after the ISN is known. */
    struct tw_packet p = line_of("0 > R. 0:0(0) ack 1\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000, 1);
    char msg[256];
    g.flags = TW_RST | TW_ACK;
    g.window = 0;
    g.opt.raw_len = 0;
    g.seq = 0;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 1000; /* relative 0 still matches */
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    g.seq = 1001;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "seq: expected 0, got 1");
    p = line_of("0 > R 0:0(0)\n"); /* without ACK: relative only */
    g.flags = TW_RST;
    g.seq = 0;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
}
END_TEST

START_TEST(test_judge_window_and_options_and_length)
{
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000, 1);
    char msg[256];
    struct tw_packet p = line_of("0 > S. 0:0(0) ack 1 win 100 <mss 1460>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "window: expected 100, got 65535");
    p = line_of("0 > S. 0:0(0) ack 1 <mss 536>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "options: expected [mss 536], got [mss 1460]");
    p = line_of("0 > S. 0:0(0) ack 1\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "options: expected []"));
    p = line_of("0 > S. 0:10(10) ack 1 <...>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "payload length: expected 10, got 0");
    p = line_of("0 > S. 0:0(0) ack 1 <...>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
}
END_TEST

START_TEST(test_judge_ts_val_is_not_checked_but_ecr_is)
{
    struct tw_judge_ctx c = ctx();
    struct tw_segment g = synack(1000, 1);
    char msg[256];
    struct tw_packet p;
    g.opt.has = TW_HAS_TS;
    g.opt.ts_val = 123456;
    g.opt.ts_ecr = 100;
    tw_options_encode(&g.opt);
    p = line_of("0 > S. 0:0(0) ack 1 <nop,nop,TS val 0 ecr 100>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
    p = line_of("0 > S. 0:0(0) ack 1 <nop,nop,TS val 0 ecr 101>\n");
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "options:"));
}
END_TEST

/* "win syn": D's later windows, read with its shift, are its SYN's window. */
static struct tw_segment ack_with_window(uint16_t window)
{
    struct tw_segment g;
    memset(&g, 0, sizeof(g));
    g.flags = TW_ACK;
    g.seq = 1001;
    g.ack = 1;
    g.window = window;
    return g;
}

static int judge_win_syn(const struct tw_judge_ctx *c, uint16_t window, char *msg, size_t cap)
{
    struct tw_segment g = ack_with_window(window);
    struct tw_packet p = line_of("0 > . 1:1(0) ack 1 win syn\n");
    return tw_judge_segment(&p, &g, c, msg, cap);
}

START_TEST(test_judge_win_syn_with_scaling)
{
    struct tw_judge_ctx c = ctx();
    char msg[256];
    c.d_syn_seen = true;
    c.d_syn_win = 64240;
    c.d_syn_wscale = 7;
    c.h_syn_ws = true;
    /* Linux: 64240 in the SYN, then 502 << 7 = 64256 (rounded up). */
    ck_assert_int_eq(judge_win_syn(&c, 502, msg, sizeof(msg)), 0);
    /* rounded down: 501 << 7 = 64128, less than one unit below */
    ck_assert_int_eq(judge_win_syn(&c, 501, msg, sizeof(msg)), 0);
    /* a unit or more below: the window shrank */
    ck_assert_int_eq(judge_win_syn(&c, 500, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "window: expected the 64240 bytes D's SYN offered (win << 7 in "
                          "64113..4143479), got win 500 = 64000 bytes");
    /* a later window left unscaled reads as 128 times the SYN's */
    ck_assert_int_eq(judge_win_syn(&c, 64240, msg, sizeof(msg)), -1);
    /* a stack that scaled its SYN's window: SYN 501, later 502 << 7 */
    c.d_syn_win = 501;
    ck_assert_int_eq(judge_win_syn(&c, 502, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "got win 502 = 64256 bytes"));
    /* a SYN offering the field's maximum: the real window may be larger */
    c.d_syn_win = 65535;
    ck_assert_int_eq(judge_win_syn(&c, 2048, msg, sizeof(msg)), 0);
    ck_assert_int_eq(judge_win_syn(&c, 511, msg, sizeof(msg)), 0);
    ck_assert_int_eq(judge_win_syn(&c, 510, msg, sizeof(msg)), -1);
}
END_TEST

START_TEST(test_judge_win_syn_without_scaling)
{
    struct tw_judge_ctx c = ctx();
    char msg[256];
    c.d_syn_seen = true;
    c.d_syn_win = 64240;
    c.d_syn_wscale = 7; /* D offered WS, H's SYN did not: no scaling */
    c.h_syn_ws = false;
    ck_assert_int_eq(judge_win_syn(&c, 64240, msg, sizeof(msg)), 0);
    ck_assert_int_eq(judge_win_syn(&c, 65535, msg, sizeof(msg)), 0); /* it may grow */
    /* scaled by a shift nobody agreed on */
    ck_assert_int_eq(judge_win_syn(&c, 502, msg, sizeof(msg)), -1);
    ck_assert_str_eq(msg, "window: expected the 64240 bytes D's SYN offered (win << 0 >= 64240: "
                          "no shrinking), got win 502 = 502 bytes");
    c.d_syn_wscale = -1;
    c.h_syn_ws = true;
    ck_assert_int_eq(judge_win_syn(&c, 502, msg, sizeof(msg)), -1);
    c.d_syn_seen = false;
    ck_assert_int_eq(judge_win_syn(&c, 64240, msg, sizeof(msg)), -1);
    ck_assert_ptr_nonnull(strstr(msg, "no SYN from D"));
}
END_TEST

START_TEST(test_win_syn_end_to_end_on_the_model)
{
    /* The model offers 65535 with shift 7, then 511 << 7. */
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 1000 <mss 1460,nop,wscale 7>\n"
                "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n+0 < . 1:1(0) ack 1 win 8\n"
                "+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 100) = 100\n"
                "+0 > P. 1:101(100) ack 1 win syn\n");
    /* Without WS in H's SYN, D's windows are unscaled. */
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 1000 <mss 1460>\n"
                "+0 > S. 0:0(0) ack 1 <mss 1460>\n+0 < . 1:1(0) ack 1 win 1000\n"
                "+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 100) = 100\n"
                "+0 > P. 1:101(100) ack 1 win syn\n");
    /* SO_RCVBUF 4096: the SYN-ACK offers 4096, a later segment 32 << 7. */
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [4096], 4) = 0\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 1000 <mss 1460,nop,wscale 7>\n"
                "+0 > S. 0:0(0) ack 1 win 4096 <mss 1460,nop,wscale 7>\n+0 < . 1:1(0) ack 1 win 8\n"
                "+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 100) = 100\n"
                "+0 > P. 1:101(100) ack 1 win syn\n");
}
END_TEST

START_TEST(test_judge_ack_unchecked_without_ack_bit)
{
    struct tw_packet p = line_of("0 > R 5:5(0)\n");
    struct tw_judge_ctx c = ctx();
    struct tw_segment g;
    char msg[256];
    memset(&g, 0, sizeof(g));
    g.flags = TW_RST;
    g.seq = 1005;
    g.ack = 77;
    ck_assert_int_eq(tw_judge_segment(&p, &g, &c, msg, sizeof(msg)), 0);
}
END_TEST

/* ---- end to end on the model ------------------------------------------------ */

static const char passive[] =
    "0   socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
    "+0  setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
    "+0  bind(3, ..., ...) = 0\n"
    "+0  listen(3, 1) = 0\n"
    "+0  < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
    "+0  > S. 0:0(0) ack 1 <mss 1460,sackOK,TS val 0 ecr 100,nop,wscale 7>\n"
    "+0  state SYN-RECEIVED\n"
    "+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr 0>\n"
    "+0  accept(3, ..., ...) = 4\n"
    "+0  state ESTABLISHED\n";

START_TEST(test_passive_handshake_passes)
{
    ASSERT_PASS(passive);
    ck_assert_ptr_null(R.message);
    ck_assert(R.rows[TW_ROW_T8 / 64] & (1ull << (TW_ROW_T8 % 64)));
    ck_assert(R.rows[TW_ROW_T32 / 64] & (1ull << (TW_ROW_T32 % 64)));
    ck_assert_uint_eq(R.virtual_us, 100000);
}
END_TEST

START_TEST(test_blocking_accept_completes_after_handshake)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0...0.2 accept(3, ..., ...) = 4\n"
                "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n"
                "+.2 < . 1:1(0) ack 1 win 257\n");
}
END_TEST

START_TEST(test_active_handshake_passes)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 connect(3, ..., ...) = 0\n"
                "+0 > S 0:0(0) <mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7>\n"
                "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460>\n"
                "+0 > . 1:1(0) ack 1\n+0 state ESTABLISHED\n");
}
END_TEST

START_TEST(test_nonblocking_connect_einprogress)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
                "+0 > S 0:0(0) <...>\n+0 < R. 0:0(0) ack 1 win 0\n"
                "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n");
}
END_TEST

START_TEST(test_blocking_connect_refused)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0...0.1 connect(3, ..., ...) = -1 ECONNREFUSED\n"
                "+0 > S 0:0(0) <...>\n+.1 < R. 0:0(0) ack 1 win 0\n");
}
END_TEST

START_TEST(test_closed_port_answers_rst)
{
    ASSERT_PASS("0 < S 1000:1000(0) win 1000\n+0 > R. 0:0(0) ack 1001 win 0\n");
    ASSERT_PASS("0 < . 1000:1000(0) ack 5000 win 1000\n+0 > R 5000:5000(0) win 0\n");
}
END_TEST

START_TEST(test_syn_retransmission_at_one_virtual_second)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                "+0 > S 0:0(0) <...>\n+1 > S 0:0(0) <...>\n+2 > S 0:0(0) <...>\n");
    ck_assert_uint_eq(R.virtual_us, 3000000);
    ck_assert_double_lt(R.seconds, 0.5); /* virtual time: no sleeping */
}
END_TEST

START_TEST(test_retransmission_at_wrong_time_fails)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                     "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                     "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                     "+0 > S 0:0(0) <...>\n+0.5 > S 0:0(0) <...>\n",
                     "inline.pkt:5: time: expected 0.500000, got 1.000000");
}
END_TEST

START_TEST(test_time_range_accepts_retransmission)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                "+0 > S 0:0(0) <...>\n+0.9~+1.1 > S 0:0(0) <...>\n* > S 0:0(0) <...>\n");
}
END_TEST

/* The lateness allowance of a real stack (adapter.h: late_per_mille), shown
 * on the model's exact timing through a copy of its adapter that claims
 * one: SYNs at 0, 1, 3, 7, 15, 31, 63, 123 s. */
static struct tw_adapter_ops late_model;

static enum tw_case_status run_late(const char *lines)
{
    static const char head[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                               "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                               "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                               "+0 > S 0:0(0) <...>\n";
    char text[1024];
    struct tw_script_error e;
    struct tw_run_config cfg = {.ops = &late_model, .profile = NULL, .tolerance_usecs = 0};
    late_model = tw_adapter_model;
    late_model.late_per_mille = 125;
    late_model.late_max_usecs = 2000000;
    snprintf(text, sizeof(text), "%s%s", head, lines);
    tw_script_cleanup(&S);
    tw_case_result_cleanup(&R);
    ck_assert_msg(tw_script_parse_text("late.pkt", text, strlen(text), &S, &e) == 0, "%s", e.message);
    tw_run_case(&S, &cfg, &R);
    return R.status;
}

START_TEST(test_late_allowance_accepts_late_within_a_share_of_the_interval)
{
    /* due at 0.9, sent at 1.0: 100 ms late, 1/8 of 0.9 s allows 112.5 ms */
    ck_assert_msg(run_late("+0.9 > S 0:0(0) <...>\n") == TW_CASE_PASS, "%s", R.message);
    /* due at 120.9 after 63: 2.1 s late is under 1/8 of 57.9 s, but over the 2 s bound */
    ck_assert_msg(run_late("1 > S 0:0(0) <...>\n3 > S 0:0(0) <...>\n7 > S 0:0(0) <...>\n"
                           "15 > S 0:0(0) <...>\n31 > S 0:0(0) <...>\n63 > S 0:0(0) <...>\n"
                           "+58.1 > S 0:0(0) <...>\n") == TW_CASE_PASS,
                  "%s", R.message);
}
END_TEST

START_TEST(test_late_allowance_rejects_beyond_and_never_early)
{
    ck_assert_int_eq(run_late("+0.88 > S 0:0(0) <...>\n"), TW_CASE_FAIL); /* 120 ms > 110 ms */
    ck_assert_ptr_nonnull(strstr(R.message, "late.pkt:5: time: expected 0.880000, got 1.000000"));
    ck_assert_int_eq(run_late("+1.05 > S 0:0(0) <...>\n"), TW_CASE_FAIL); /* early: only the tolerance */
    ck_assert_ptr_nonnull(strstr(R.message, "time: expected 1.050000, got 1.000000"));
    ck_assert_int_eq(run_late("1 > S 0:0(0) <...>\n3 > S 0:0(0) <...>\n7 > S 0:0(0) <...>\n"
                              "15 > S 0:0(0) <...>\n31 > S 0:0(0) <...>\n63 > S 0:0(0) <...>\n"
                              "+57.9 > S 0:0(0) <...>\n"),
                     TW_CASE_FAIL); /* 2.1 s: the bound */
    ck_assert_ptr_nonnull(strstr(R.message, "time: expected 120.900000, got 123.000000"));
}
END_TEST

START_TEST(test_late_allowance_runs_from_before_a_silence)
{
    /* due at 2.8, sent at 3: 200 ms late after a timer armed at 1 (1/8 of 1.8 s
     * is 225 ms), although the silence ended only 0.3 s before */
    ck_assert_msg(run_late("1 > S 0:0(0) <...>\n+0 silence 1.5\n+0.3 > S 0:0(0) <...>\n") == TW_CASE_PASS,
                  "%s", R.message);
}
END_TEST

START_TEST(test_model_time_stays_exact)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                     "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                     "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                     "+0 > S 0:0(0) <...>\n+0.9 > S 0:0(0) <...>\n",
                     "inline.pkt:5: time: expected 0.900000, got 1.000000");
}
END_TEST

START_TEST(test_wrong_ack_fails_with_both_segments)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                     "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460>\n"
                     "+0 > S. 0:0(0) ack 2 <...>\n",
                     "inline.pkt:5: ack: expected 2, got 1");
    ck_assert_ptr_nonnull(strstr(R.message, "expected: 198.51.100.2.8080 > 198.51.100.1."));
    ck_assert_ptr_nonnull(strstr(R.message, "got:      198.51.100.2.8080"));
}
END_TEST

START_TEST(test_unexpected_segment_fails)
{
    ASSERT_FAIL_WITH("0 < S 1000:1000(0) win 1000\n+0 < S 1000:1000(0) win 1000\n",
                     "inline.pkt:2: unexpected segment");
    ASSERT_FAIL_WITH("0 < S 1000:1000(0) win 1000\n", "unexpected segment");
}
END_TEST

START_TEST(test_missing_segment_fails)
{
    ASSERT_FAIL_WITH("0 > S 0:0(0) <...>\n", "inline.pkt:1: expected segment not sent");
}
END_TEST

START_TEST(test_wrong_syscall_result_fails)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                     "+0 listen(3, 1) = -1 EADDRINUSE\n",
                     "inline.pkt:3: listen: expected -1 EADDRINUSE, got 0");
    ASSERT_FAIL_WITH("0 close(7) = 0\n", "close: expected 0, got -1 EBADF");
}
END_TEST

START_TEST(test_blocking_call_never_returning_fails)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                     "+0 listen(3, 1) = 0\n+0 accept(3, ..., ...) = 4\n",
                     "the blocking accept never returned");
}
END_TEST

START_TEST(test_state_mismatch_fails)
{
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                     "+0 listen(3, 1) = 0\n+0 state SYN-RECEIVED\n",
                     "inline.pkt:4: state: expected SYN-RECEIVED, got LISTEN");
}
END_TEST

START_TEST(test_silence_passes_and_fails)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < R 0:0(0) win 0\n+0 silence 5\n");
    ASSERT_FAIL_WITH("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                     "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                     "+0 connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <...>\n+0 silence 2\n",
                     "inline.pkt:5: expected silence until 2.000000, but D sent a segment at 1.000000");
}
END_TEST

START_TEST(test_profile_tags_and_header)
{
    static const char tagged[] = "0 < S 1000:1000(0) win 1000\n"
                                 "[S] +0 > R. 0:0(0) ack 1001 win 0\n"
                                 "[C] +0 > R. 0:0(0) ack 1001 win 0\n"
                                 "[linux] +0 > R. 0:0(0) ack 9 win 0\n";
    ck_assert_int_eq(run_text(tagged, "C"), TW_CASE_PASS);
    ck_assert_int_eq(run_text(tagged, "S"), TW_CASE_PASS);
    ck_assert_int_eq(run_text("--profile=S\n0 < S 0:0(0)\n", "C"), TW_CASE_SKIP);
    ck_assert_str_eq(R.message, "needs --profile S");
}
END_TEST

START_TEST(test_shell_sysctl_maps_to_profile_and_others_refused)
{
    ASSERT_PASS("0 `sysctl -q net.ipv4.tcp_timestamps=0 net.ipv4.tcp_sack=0`\n"
                "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <mss 1460,nop,wscale 7>\n");
    ASSERT_FAIL_WITH("0 `ip link set dev tun0 up`\n", "inline.pkt:1: shell command refused on the model");
    ASSERT_FAIL_WITH("0 `ip link set dev eth0 mtu 9000`\n", "shell command refused on the model");
    ASSERT_FAIL_WITH("0 `ip link set dev tw0 mtu 9000 up`\n", "shell command refused on the model");
    ASSERT_FAIL_WITH("0 `ip link set dev tw0 mtu 67`\n", "MTU out of range");
    ASSERT_FAIL_WITH("--ip_version=ipv6\n0 `ip link set dev tw0 mtu 1279`\n", "MTU out of range");
    /* D's MTU: the MSS it offers is the MTU less 40 (IPv4) or 60 (IPv6). */
    ASSERT_PASS("0 `ip link set dev tw0 mtu 9000`\n"
                "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                "+0 > S 0:0(0) <mss 8960,sackOK,TS val 0 ecr 0,nop,wscale 7>\n");
    ASSERT_PASS("--ip_version=ipv6\n0 `ip link set tw0 mtu 1280`\n"
                "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                "+0 > S 0:0(0) <mss 1220,sackOK,TS val 0 ecr 0,nop,wscale 7>\n");
}
END_TEST

START_TEST(test_bad_checksum_is_dropped_by_the_model)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 bad_csum\n+0 silence 0.5\n");
}
END_TEST

START_TEST(test_icmp_port_unreachable_aborts_syn_sent)
{
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <...>\n"
                "+0 < icmp unreachable port_unreachable [0:0(0)]\n+0 state CLOSED\n"
                "+0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n");
}
END_TEST

START_TEST(test_ipv6_passive_handshake)
{
    ASSERT_PASS("--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1440>\n"
                "+0 > S. 0:0(0) ack 1 <mss 1440>\n+0 < . 1:1(0) ack 1 win 257\n"
                "+0 accept(3, ..., ...) = 4\n");
}
END_TEST

START_TEST(test_remote_isn_offsets_inbound_seq)
{
    ASSERT_PASS("--remote_isn=4294967295\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                "+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535\n"
                "+0 > S. 0:0(0) ack 1 <mss 1460>\n");
}
END_TEST

START_TEST(test_wnd_is_the_window_d_advertised)
{
    static const char listener[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [1000], 4) = 0\n"
                                   "+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"
                                   "+0 < S 0:0(0) win 65535 <mss 1460>\n"
                                   "+0 > S. 0:0(0) ack 1 win 1000 <mss 1460>\n";
    char text[1024];
    /* RCV.NXT+RCV.WND-1 = IRS+W is in the window, IRS+W+1 is not */
    snprintf(text, sizeof(text), "%s+0 < . wnd:wnd(0) ack 1\n+0 state ESTABLISHED\n", listener);
    ASSERT_PASS(text);
    snprintf(text, sizeof(text), "%s+0 < . wnd+1:wnd+1(0) ack 1\n+0 > . 1:1(0) ack 1\n+0 state SYN-RECEIVED\n",
             listener);
    ASSERT_PASS(text);
    snprintf(text, sizeof(text), "%s+0 < . wnd+1:wnd+1(0) ack 1\n+0 state ESTABLISHED\n", listener);
    ASSERT_FAIL_WITH(text, "state: expected ESTABLISHED, got SYN-RECEIVED");
    /* scaled (both SYNs carry WS 7): D's challenge ACK says 511, which is
     * 65408 bytes, so IRS+65408+200 lies outside the window */
    ASSERT_PASS("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 7>\n"
                "+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>\n+0 < . 1:1(0) ack 1 win 257\n"
                "+0 accept(3, ..., ...) = 4\n+0 < R 100:100(0) win 0\n+0 > . 1:1(0) ack 1 win 511\n"
                "+0 < R wnd+200:wnd+200(0) win 0\n+0 silence 0.1\n+0 state ESTABLISHED\n");
}
END_TEST

START_TEST(test_any_isn_line_learns_the_new_iss)
{
    /* one second later the same 4-tuple gets another ISN (RFC 6528's clock):
     * "*:*" takes it, and "ack 1" on the next line counts from it */
    static const char text[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                               "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460>\n"
                               "+0 > S. 0:0(0) ack 1 <mss 1460>\n+0 < R 1:1(0) win 0\n"
                               "+1 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. %s ack 1 <mss 1460>\n"
                               "+0 < . 1:1(0) ack 1 win 257\n+0 accept(3, ..., ...) = 4\n";
    char buf[1024];
    snprintf(buf, sizeof(buf), text, "*:*(0)");
    ASSERT_PASS(buf);
    snprintf(buf, sizeof(buf), text, "0:0(0)");
    ASSERT_FAIL_WITH(buf, "seq: expected 0, got 250000");
}
END_TEST

START_TEST(test_case_port_is_in_range_and_stable)
{
    uint16_t a = tw_case_port("conformance/listen/a.pkt");
    ck_assert_uint_ge(a, 40000);
    ck_assert_uint_le(a, 59999);
    ck_assert_uint_eq(a, tw_case_port("conformance/listen/a.pkt"));
}
END_TEST

/* Which cases may skip their waits on a real stack. */
static bool time_free(const char *text)
{
    static const char *const names[] = {"C", "linux"};
    struct tw_script_error e;
    tw_script_cleanup(&S);
    ck_assert_msg(tw_script_parse_text("t.pkt", text, strlen(text), &S, &e) == 0, "%s", e.message);
    return tw_script_time_free(&S, names, 2);
}

START_TEST(test_time_free_cases)
{
    const char *head = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                       "+0 listen(3, 1) = 0\n+0 < S 0:0(0) win 65535 <mss 1460>\n";
    char buf[1024];
    /* answers at +0, short waits and silences: free */
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n+.1 < . 1:1(0) ack 1 win 65535\n+0 silence 0.3\n"
             "0.7 < R 1:1(0) win 0\n", head);
    ck_assert(time_free(buf));
    /* a retransmission expected later: a timer */
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n+1 > S. 0:0(0) ack 1 <...>\n", head);
    ck_assert(!time_free(buf));
    snprintf(buf, sizeof(buf), "%s+0~+0.04 > S. 0:0(0) ack 1 <...>\n", head);
    ck_assert(!time_free(buf));
    snprintf(buf, sizeof(buf), "%s* > S. 0:0(0) ack 1 <...>\n", head);
    ck_assert(!time_free(buf));
    /* an absolute time: the wait is from the previous line on the script's timeline */
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n0.4 < . 1:1(0) ack 1 win 65535\n", head);
    ck_assert(time_free(buf));
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n0.5 < . 1:1(0) ack 1 win 65535\n", head);
    ck_assert(!time_free(buf));
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n1.2 > S. 0:0(0) ack 1 <...>\n", head);
    ck_assert(!time_free(buf));
    /* a long silence says a timer did not fire */
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n+0 silence 1.5\n", head);
    ck_assert(!time_free(buf));
    /* a line for another stack does not count */
    snprintf(buf, sizeof(buf), "%s+0 > S. 0:0(0) ack 1 <...>\n[model] +1 > S. 0:0(0) ack 1 <...>\n", head);
    ck_assert(time_free(buf));
}
END_TEST

/* ---- D's timestamp clock, learned from what D sent --------------------------- */

/* The TSval of every segment D sent, and the TSecr of every one H injected,
 * in order (the trace hook sees both). */
struct ts_trace {
    uint32_t d_val[8], h_ecr[8];
    unsigned n_d, n_h;
};

static void ts_trace_hook(void *ctx, uint64_t t, bool from_d, const uint8_t *pkt, size_t len)
{
    struct ts_trace *tt = ctx;
    struct tw_segment seg;
    (void)t;
    if (tw_segment_parse(pkt, len, 0, &seg) != TW_PARSE_OK || !(seg.opt.has & TW_HAS_TS))
        return;
    if (from_d && tt->n_d < 8)
        tt->d_val[tt->n_d++] = seg.opt.ts_val;
    if (!from_d && tt->n_h < 8)
        tt->h_ecr[tt->n_h++] = seg.opt.ts_ecr;
}

static enum tw_case_status run_ts_traced(const char *text, struct ts_trace *tt)
{
    struct tw_script_error e;
    struct tw_run_config cfg = {.tolerance_usecs = -1, .trace = ts_trace_hook, .trace_ctx = tt};
    memset(tt, 0, sizeof(*tt));
    tw_script_cleanup(&S);
    tw_case_result_cleanup(&R);
    ck_assert_msg(tw_script_parse_text("inline.pkt", text, strlen(text), &S, &e) == 0, "%d:%d: %s",
                  e.line, e.column, e.message);
    tw_run_case(&S, &cfg, &R);
    return R.status;
}

START_TEST(test_any_options_syn_names_d_ts_val_zero)
{
    /* `<...>` says nothing of D's val: D's first timestamp is the script's
     * 0, so the SYN,ACK's ecr 0 echoes exactly what D's SYN carried. */
    struct ts_trace tt;
    ck_assert_int_eq(run_ts_traced("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                   "+1 connect(3, ..., ...) = -1 EINPROGRESS\n"
                                   "+0 > S 0:0(0) <...>\n"
                                   "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                                   "+0 > . 1:1(0) ack 1 <...>\n",
                                   &tt),
                     TW_CASE_PASS);
    ck_assert_uint_eq(tt.n_d, 2);
    ck_assert_uint_eq(tt.n_h, 1);
    ck_assert_uint_eq(tt.d_val[0], 1000); /* the model's clock: ms since the start */
    ck_assert_uint_eq(tt.h_ecr[0], tt.d_val[0]);
}
END_TEST

START_TEST(test_any_options_synack_names_d_ts_val_zero)
{
    struct ts_trace tt;
    ck_assert_int_eq(run_ts_traced("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                                   "+0 listen(3, 1) = 0\n"
                                   "+1 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                                   "+0 > S. 0:0(0) ack 1 <...>\n"
                                   "+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr 0>\n"
                                   "+0 accept(3, ..., ...) = 4\n",
                                   &tt),
                     TW_CASE_PASS);
    ck_assert_uint_eq(tt.n_h, 2);
    ck_assert_uint_eq(tt.h_ecr[1], tt.d_val[0]);
}
END_TEST

START_TEST(test_numeric_ts_val_wins_over_any_options)
{
    /* A numeric val renames D's clock (here 5000 for the retransmission, at
     * +1 s); a later `<...>` line does not move it again. */
    struct ts_trace tt;
    ck_assert_int_eq(run_ts_traced("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                   "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                                   "+0 > S 0:0(0) <...>\n"
                                   "+1 > S 0:0(0) <mss 1460,sackOK,TS val 5000 ecr 0,nop,wscale 7>\n"
                                   "+2 > S 0:0(0) <...>\n"
                                   "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 5000,nop,wscale 7>\n"
                                   "+0 > . 1:1(0) ack 1 <...>\n",
                                   &tt),
                     TW_CASE_PASS);
    ck_assert_uint_eq(tt.n_d, 4);
    ck_assert_uint_eq(tt.d_val[1], tt.d_val[0] + 1000);
    ck_assert_uint_eq(tt.h_ecr[0], tt.d_val[1]);
}
END_TEST

START_TEST(test_ts_val_star_learns_like_any_options)
{
    struct ts_trace tt;
    ck_assert_int_eq(run_ts_traced("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                   "+1 connect(3, ..., ...) = -1 EINPROGRESS\n"
                                   "+0 > S 0:0(0) <mss 1460,sackOK,TS val * ecr 0,nop,wscale 7>\n"
                                   "+.1 < S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                                   "+0 > . 1:1(0) ack 1 <...>\n",
                                   &tt),
                     TW_CASE_PASS);
    ck_assert_uint_eq(tt.h_ecr[0], tt.d_val[0]);
}
END_TEST

START_TEST(test_segment_without_ts_teaches_nothing)
{
    /* D's first segment (a reset from a closed port) has no timestamp: the
     * clock is learned from the first one that does, the SYN,ACK. */
    struct ts_trace tt;
    ck_assert_int_eq(run_ts_traced("0 < . 1000:1000(0) ack 5000 win 1000\n"
                                   "+0 > R 5000:5000(0) <...>\n"
                                   "+0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n"
                                   "+0 listen(3, 1) = 0\n"
                                   "+1 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                                   "+0 > S. 0:0(0) ack 1 <...>\n"
                                   "+.1 < . 1:1(0) ack 1 win 257 <nop,nop,TS val 200 ecr 0>\n"
                                   "+0 accept(3, ..., ...) = 4\n",
                                   &tt),
                     TW_CASE_PASS);
    ck_assert_uint_eq(tt.n_d, 1);
    ck_assert_uint_eq(tt.h_ecr[1], tt.d_val[0]);
}
END_TEST

/* ---- invariants checked on every segment D sends ------------------------------ */

/* The model adapter with D's segments altered on their way to the runner:
 * the n-th SYN D sends gets its last option's bytes rewritten. */
static struct tw_adapter_ops tampering;
static unsigned tamper_syn_no, syns_seen;
static uint8_t tamper_tail[4];

static size_t tampering_collect(struct tw_adapter *a, const struct tw_captured **out)
{
    size_t n = tw_adapter_model.collect(a, out);
    for (size_t i = 0; i < n; i++) {
        uint8_t *ip = (*out)[i].bytes, *tcp = ip + 20;
        size_t tcp_len = (*out)[i].len - 20, opt_end = (size_t)(tcp[12] >> 4) * 4;
        struct tw_segment seg;
        uint16_t c;
        if (tw_segment_parse(ip, (*out)[i].len, 0, &seg) != TW_PARSE_OK || !(seg.flags & TW_SYN) ||
            ++syns_seen != tamper_syn_no || opt_end < 24)
            continue;
        memcpy(tcp + opt_end - 4, tamper_tail, 4);
        tcp[16] = tcp[17] = 0;
        c = tw_tcp_checksum(&seg.src, &seg.dst, tcp, tcp_len);
        tcp[16] = (uint8_t)(c >> 8);
        tcp[17] = (uint8_t)c;
    }
    return n;
}

static enum tw_case_status run_tampered(const char *text, unsigned syn_no, const uint8_t tail[4])
{
    struct tw_script_error e;
    struct tw_run_config cfg = {.ops = &tampering, .tolerance_usecs = -1};
    tampering = tw_adapter_model;
    tampering.collect = tampering_collect;
    tamper_syn_no = syn_no;
    syns_seen = 0;
    memcpy(tamper_tail, tail, 4);
    tw_script_cleanup(&S);
    tw_case_result_cleanup(&R);
    ck_assert_msg(tw_script_parse_text("inline.pkt", text, strlen(text), &S, &e) == 0, "%d:%d: %s",
                  e.line, e.column, e.message);
    tw_run_case(&S, &cfg, &R);
    return R.status;
}

static const char syn_twice[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                                "+0 > S 0:0(0) <...>\n"
                                "+1 > S 0:0(0) <...>\n";

START_TEST(test_retransmitted_syn_with_other_options_fails)
{
    /* HS-TMR-07: the model's SYN ends "nop,wscale 7"; the retransmission
     * says wscale 8. Its TS val changes (one second later), which is fine. */
    static const uint8_t ws8[4] = {1, 3, 3, 8}, ws7[4] = {1, 3, 3, 7};
    ck_assert_int_eq(run_tampered(syn_twice, 2, ws7), TW_CASE_PASS);
    ck_assert_int_eq(run_tampered(syn_twice, 2, ws8), TW_CASE_FAIL);
    ck_assert_msg(strstr(R.message, "inline.pkt:5: D retransmitted its SYN with other options than the first "
                                    "[mss 1460,sackOK,TS val 0 ecr 0,nop,wscale 7] (HS-TMR-07)"),
                  "%s", R.message);
    ck_assert_msg(strstr(R.message, "wscale 8"), "%s", R.message);
}
END_TEST

START_TEST(test_nonzero_bytes_after_eol_fail)
{
    /* HS-GEN-07: "eol" then the wscale option's bytes, where only zero
     * padding may follow; "eol" then zeros is fine. */
    static const uint8_t bad[4] = {0, 3, 3, 7}, good[4] = {0, 0, 0, 0};
    static const char syn_once[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                                   "+0 connect(3, ..., ...) = -1 EINPROGRESS\n"
                                   "+0 > S 0:0(0) <...>\n";
    ck_assert_msg(run_tampered(syn_once, 1, good) == TW_CASE_PASS, "%s", R.message);
    ck_assert_int_eq(run_tampered(syn_once, 1, bad), TW_CASE_FAIL);
    ck_assert_msg(strstr(R.message, "inline.pkt:3: D sent nonzero option bytes after an EOL (HS-GEN-07)"), "%s",
                  R.message);
}
END_TEST

static Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *j = tcase_create("judge"), *m = tcase_create("model");
    tcase_add_checked_fixture(j, NULL, teardown);
    tcase_add_checked_fixture(m, NULL, teardown);
    tcase_add_test(j, test_judge_names_ack_field);
    tcase_add_test(j, test_judge_checks_flags_before_seq);
    tcase_add_test(j, test_judge_seq_is_relative_to_d_iss);
    tcase_add_test(j, test_judge_seq_tolerance_accepts_either_side_only_within_it);
    tcase_add_test(j, test_judge_rst_ack_seq_zero_is_absolute_too);
    tcase_add_test(j, test_judge_window_and_options_and_length);
    tcase_add_test(j, test_judge_ts_val_is_not_checked_but_ecr_is);
    tcase_add_test(j, test_judge_ack_unchecked_without_ack_bit);
    tcase_add_test(j, test_judge_win_syn_with_scaling);
    tcase_add_test(j, test_judge_win_syn_without_scaling);
    tcase_add_test(m, test_win_syn_end_to_end_on_the_model);
    tcase_add_test(m, test_passive_handshake_passes);
    tcase_add_test(m, test_blocking_accept_completes_after_handshake);
    tcase_add_test(m, test_active_handshake_passes);
    tcase_add_test(m, test_nonblocking_connect_einprogress);
    tcase_add_test(m, test_blocking_connect_refused);
    tcase_add_test(m, test_closed_port_answers_rst);
    tcase_add_test(m, test_syn_retransmission_at_one_virtual_second);
    tcase_add_test(m, test_retransmission_at_wrong_time_fails);
    tcase_add_test(m, test_time_range_accepts_retransmission);
    tcase_add_test(m, test_late_allowance_accepts_late_within_a_share_of_the_interval);
    tcase_add_test(m, test_late_allowance_rejects_beyond_and_never_early);
    tcase_add_test(m, test_late_allowance_runs_from_before_a_silence);
    tcase_add_test(m, test_model_time_stays_exact);
    tcase_add_test(m, test_wrong_ack_fails_with_both_segments);
    tcase_add_test(m, test_unexpected_segment_fails);
    tcase_add_test(m, test_missing_segment_fails);
    tcase_add_test(m, test_wrong_syscall_result_fails);
    tcase_add_test(m, test_blocking_call_never_returning_fails);
    tcase_add_test(m, test_state_mismatch_fails);
    tcase_add_test(m, test_silence_passes_and_fails);
    tcase_add_test(m, test_profile_tags_and_header);
    tcase_add_test(m, test_shell_sysctl_maps_to_profile_and_others_refused);
    tcase_add_test(m, test_bad_checksum_is_dropped_by_the_model);
    tcase_add_test(m, test_icmp_port_unreachable_aborts_syn_sent);
    tcase_add_test(m, test_ipv6_passive_handshake);
    tcase_add_test(m, test_remote_isn_offsets_inbound_seq);
    tcase_add_test(m, test_wnd_is_the_window_d_advertised);
    tcase_add_test(m, test_any_isn_line_learns_the_new_iss);
    tcase_add_test(m, test_case_port_is_in_range_and_stable);
    tcase_add_test(m, test_time_free_cases);
    tcase_add_test(m, test_any_options_syn_names_d_ts_val_zero);
    tcase_add_test(m, test_any_options_synack_names_d_ts_val_zero);
    tcase_add_test(m, test_numeric_ts_val_wins_over_any_options);
    tcase_add_test(m, test_ts_val_star_learns_like_any_options);
    tcase_add_test(m, test_segment_without_ts_teaches_nothing);
    tcase_add_test(m, test_retransmitted_syn_with_other_options_fails);
    tcase_add_test(m, test_nonzero_bytes_after_eol_fail);
    suite_add_tcase(s, j);
    suite_add_tcase(s, m);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(runner_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

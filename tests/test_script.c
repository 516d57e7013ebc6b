/* The case-script parser: every construct of docs/script-format.md, and
 * every error path with its line:column. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static struct tw_script S;
static struct tw_script_error E;

static int parse(const char *text)
{
    tw_script_cleanup(&S);
    return tw_script_parse_text("t.pkt", text, strlen(text), &S, &E);
}

static void teardown(void) { tw_script_cleanup(&S); }

#define PARSE_OK(text)                                                                            \
    do {                                                                                          \
        int rc_ = parse(text);                                                                    \
        ck_assert_msg(rc_ == 0, "parse failed: %d:%d: %s", E.line, E.column, E.message);          \
    } while (0)

START_TEST(test_comments_and_covers_are_collected)
{
    PARSE_OK("// covers: HS-LISTEN-03 HS-ISN-03\n"
             "/* a block\n comment */ 0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3 // trailing\n"
             "// covers: HS-X-01, HS-Y-02\n");
    ck_assert_uint_eq(S.n_covers, 4);
    ck_assert_str_eq(S.covers[0].id, "HS-LISTEN-03");
    ck_assert_str_eq(S.covers[1].id, "HS-ISN-03");
    ck_assert_int_eq(S.covers[2].line, 4); /* the block comment spans lines 2-3 */
    ck_assert_str_eq(S.covers[3].id, "HS-Y-02");
    ck_assert_uint_eq(S.n_events, 1);
    ck_assert_int_eq(S.events[0].pos.line, 3);
}
END_TEST

START_TEST(test_header_options_are_read)
{
    PARSE_OK("--ip_version=ipv6\n--remote_isn=1000\n--profile=S\n--tolerance_usecs=500\n"
             "0 < S 0:0(0) win 100\n");
    ck_assert_int_eq(S.ip_version, 6);
    ck_assert_uint_eq(S.remote_isn, 1000);
    ck_assert_str_eq(S.profile, "S");
    ck_assert(S.has_tolerance);
    ck_assert_int_eq(S.tolerance_usecs, 500);
}
END_TEST

START_TEST(test_times_absolute_relative_any_range_return)
{
    PARSE_OK("0.100 < S 0:0(0)\n+.1 < S 0:0(0)\n* > S. 0:0(0) ack 1\n"
             "0.9~1.1 > S. 0:0(0) ack 1\n+1~+1.2 > S. 0:0(0) ack 1\n"
             "5...5.25 accept(3, ..., ...) = 4\n+0...+0.1 connect(3, ..., ...) = 0\n");
    ck_assert_int_eq(S.events[0].time.kind, TW_TIME_ABSOLUTE);
    ck_assert_int_eq(S.events[0].time.usecs, 100000);
    ck_assert_int_eq(S.events[1].time.kind, TW_TIME_RELATIVE);
    ck_assert_int_eq(S.events[1].time.usecs, 100000);
    ck_assert_int_eq(S.events[2].time.kind, TW_TIME_ANY);
    ck_assert(S.events[3].time.is_range);
    ck_assert_int_eq(S.events[3].time.usecs, 900000);
    ck_assert_int_eq(S.events[3].time.end_usecs, 1100000);
    ck_assert_int_eq(S.events[4].time.end_usecs, 1200000);
    ck_assert(S.events[5].time.has_return);
    ck_assert_int_eq(S.events[5].time.return_usecs, 5250000);
    ck_assert(S.events[6].time.return_relative);
}
END_TEST

START_TEST(test_packet_line_fields)
{
    const struct tw_packet *p;
    PARSE_OK("0 < SEWU 5:15(10) ack -1 win 257 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>\n");
    p = &S.events[0].u.pkt;
    ck_assert_int_eq(p->dir, TW_DIR_IN);
    ck_assert_uint_eq(p->flags, TW_SYN | TW_ECE | TW_CWR | TW_URG);
    ck_assert_uint_eq(p->seq, 5);
    ck_assert_uint_eq(p->len, 10);
    ck_assert(p->has_ack);
    ck_assert_uint_eq(p->ack, 0xffffffffu);
    ck_assert_uint_eq(p->win, 257);
    ck_assert_uint_eq(p->n_opts, 5);
    ck_assert_int_eq(p->opts[2].kind, TW_POPT_TS);
    ck_assert_uint_eq(p->opts[2].a, 100);
    ck_assert_uint_eq(p->opt_bytes, 4 + 2 + 10 + 1 + 3);
}
END_TEST

START_TEST(test_outbound_win_syn)
{
    const struct tw_packet *p;
    PARSE_OK("0 > . 1:1(0) ack 1 win syn <nop,nop,TS val 0 ecr 5>\n");
    p = &S.events[0].u.pkt;
    ck_assert(p->win_syn);
    ck_assert(!p->has_win);
    ck_assert_uint_eq(p->n_opts, 3);
}
END_TEST

START_TEST(test_flags_dot_and_none)
{
    PARSE_OK("0 > R. 0:0(0) ack 1001\n0 < - 0:0(0)\n0 > F.P 1:1(0) ack 1 <...>\n");
    ck_assert_uint_eq(S.events[0].u.pkt.flags, TW_RST | TW_ACK);
    ck_assert_uint_eq(S.events[1].u.pkt.flags, 0);
    ck_assert_uint_eq(S.events[2].u.pkt.flags, TW_FIN | TW_ACK | TW_PSH);
    ck_assert(S.events[2].u.pkt.options_any);
    ck_assert(!S.events[0].u.pkt.has_options);
}
END_TEST

START_TEST(test_option_encoding_in_written_order)
{
    uint8_t raw[40];
    size_t n;
    PARSE_OK("0 < S 0:0(0) <nop,eol,mss 536,wscale 14,sack 1:2,kind 30 len 4 0xabcd,raw 020005b4>\n");
    n = tw_popts_encode(&S.events[0].u.pkt, raw);
    static const uint8_t want[] = {1, 0, 2, 4, 2, 0x18, 3, 3, 14, 5, 10, 0, 0, 0, 1, 0, 0, 0, 2,
                                   30, 4, 0xab, 0xcd, 2, 0, 5, 0xb4};
    ck_assert_uint_eq(n, sizeof(want));
    ck_assert_mem_eq(raw, want, sizeof(want));
}
END_TEST

START_TEST(test_outbound_ts_val_any_and_empty_list)
{
    PARSE_OK("0 > S. 0:0(0) ack 1 <TS val * ecr 5>\n0 > . 1:1(0) ack 1 <>\n");
    ck_assert(S.events[0].u.pkt.opts[0].val_any);
    ck_assert(S.events[1].u.pkt.has_options);
    ck_assert_uint_eq(S.events[1].u.pkt.n_opts, 0);
}
END_TEST

START_TEST(test_malformed_input_extensions)
{
    const struct tw_packet *p;
    PARSE_OK("--ip_version=ipv6\n0 < S 0:0(0) win 1 bad_csum urg 5 reserved 3 doff 4 ip6_dstopts "
             "src 2001:db8::9 dst 2001:db8::2\n");
    p = &S.events[0].u.pkt;
    ck_assert(p->bad_csum && p->has_urg && p->has_reserved && p->has_doff && p->ip6_dstopts);
    ck_assert_uint_eq(p->urg, 5);
    ck_assert_uint_eq(p->reserved, 3);
    ck_assert_uint_eq(p->doff, 4);
    ck_assert_uint_eq(p->src.bytes[15], 9);
    ck_assert_uint_eq(p->dst.family, 6);
}
END_TEST

START_TEST(test_icmp_lines_both_forms)
{
    PARSE_OK("0 < icmp unreachable port_unreachable [0:0(0)]\n"
             "0 < icmp unreachable frag_needed mtu 1000 [S 0:0(0)]\n"
             "0 < icmp time_exceeded\n0 < [1:1(0)] icmp parameter_problem\n0 < icmp source_quench\n");
    ck_assert_int_eq(S.events[0].kind, TW_SEV_ICMP);
    ck_assert_uint_eq(S.events[0].u.icmp.type, 3);
    ck_assert_uint_eq(S.events[0].u.icmp.code, 3);
    ck_assert(S.events[0].u.icmp.has_quote);
    ck_assert_uint_eq(S.events[1].u.icmp.mtu, 1000);
    ck_assert_uint_eq(S.events[1].u.icmp.quote_flags, TW_SYN);
    ck_assert(!S.events[2].u.icmp.has_quote);
    ck_assert_uint_eq(S.events[3].u.icmp.quote_seq, 1);
    ck_assert_uint_eq(S.events[3].u.icmp.type, 12);
    ck_assert_uint_eq(S.events[4].u.icmp.type, 4);
}
END_TEST

START_TEST(test_syscalls_with_args)
{
    const struct tw_syscall *sc;
    PARSE_OK("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
             "0 setsockopt(3, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n"
             "0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
             "0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
             "0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
             "0 getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNREFUSED], [4]) = 0\n"
             "0 shutdown(3, SHUT_WR) = 0\n0 read(3, ..., 10) = 10\n0 write(3, ..., 5) = 5\n"
             "0 close(3) = 0\n0 listen(3, 1) = 0\n0 bind(3, ..., ...) = 0\n0 accept(3, ..., ...) = 4\n");
    ck_assert_uint_eq(S.n_events, 13);
    sc = &S.events[1].u.sys;
    ck_assert_int_eq(sc->sys, TW_SYS_SETSOCKOPT);
    ck_assert_int_eq(sc->args[3].kind, TW_ARG_STRUCT);
    ck_assert_str_eq(sc->args[3].field[1], "linger");
    ck_assert_int_eq(sc->args[3].items[0], 1);
    ck_assert_int_eq(S.events[2].u.sys.args[2].value, 04002);
    ck_assert_int_eq(S.events[3].u.sys.ret, -1);
    ck_assert_int_eq(S.events[3].u.sys.err, EINPROGRESS);
    ck_assert_int_eq(S.events[4].u.sys.ret, 0x802);
    ck_assert_int_eq(S.events[5].u.sys.args[3].items[0], ECONNREFUSED);
    ck_assert_int_eq(S.events[0].u.sys.args[0].kind, TW_ARG_ELLIPSIS);
}
END_TEST

START_TEST(test_shell_silence_state_and_tags)
{
    PARSE_OK("0 `sysctl -q net.ipv4.tcp_timestamps=0`\n+0 silence 0.5\n+0 state SYN-RECEIVED\n"
             "[S] +0 > R 1:1(0)\n[C,linux] +0 > . 1:1(0) ack 1\n");
    ck_assert_int_eq(S.events[0].kind, TW_SEV_SHELL);
    ck_assert_str_eq(S.events[0].u.shell, "sysctl -q net.ipv4.tcp_timestamps=0");
    ck_assert_int_eq(S.events[1].u.silence_usecs, 500000);
    ck_assert_str_eq(S.events[2].u.state, "SYN-RECEIVED");
    ck_assert_uint_eq(S.n_profiles, 3);
    const char *c[] = {"C"}, *st[] = {"S"}, *cl[] = {"C", "linux"}, *sl[] = {"S", "linux"},
               *cm[] = {"C", "model"};
    ck_assert(tw_script_event_applies(&S, &S.events[3], st, 1));
    ck_assert(!tw_script_event_applies(&S, &S.events[3], c, 1));
    ck_assert(tw_script_event_applies(&S, &S.events[3], sl, 2));
    /* a profile tag and a stack tag: both must hold */
    ck_assert(tw_script_event_applies(&S, &S.events[4], cl, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[4], sl, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[4], cm, 2));
    ck_assert(tw_script_event_applies(&S, &S.events[0], c, 1));
}
END_TEST

/* [rfc]: on the model, and on any stack without lines of its own here. */
START_TEST(test_rfc_tag_applies_to_stacks_without_their_own_lines)
{
    PARSE_OK("[rfc] +0 > . 1:1(0) ack 1\n[linux] +0 > R. 1:1(0) ack 1\n[model] +0 silence 100\n"
             "[C,rfc] +0 > . 1:1(0) ack 1\n");
    const char *cm[] = {"C", "model"}, *cl[] = {"C", "linux"}, *cw[] = {"C", "lwip"}, *sw[] = {"S", "lwip"};
    ck_assert(tw_script_event_applies(&S, &S.events[0], cm, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[0], cl, 2)); /* linux states its own */
    ck_assert(tw_script_event_applies(&S, &S.events[0], cw, 2));  /* lwip is judged by the RFC */
    ck_assert(!tw_script_event_applies(&S, &S.events[1], cw, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[2], cw, 2)); /* [model] stays the model's */
    ck_assert(tw_script_event_applies(&S, &S.events[2], cm, 2));
    ck_assert(tw_script_event_applies(&S, &S.events[3], cw, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[3], sw, 2));
    ck_assert(!tw_script_event_applies(&S, &S.events[3], cl, 2));
}
END_TEST

START_TEST(test_window_relative_seq_and_any_isn)
{
    const struct tw_packet *p;
    PARSE_OK("0 < R wnd:wnd(0) win 0\n+0 < P. wnd-1:wnd(1) ack 1\n+0 < . wnd+2:wnd+2(0) ack 1\n"
             "+0 > S. *:*(0) ack 1 <...>\n+0 < . 5:5(0) ack 1\n");
    p = &S.events[0].u.pkt;
    ck_assert(p->seq_wnd && !p->seq_any);
    ck_assert_uint_eq(p->seq, 0);
    p = &S.events[1].u.pkt;
    ck_assert(p->seq_wnd);
    ck_assert_uint_eq(p->seq, 0xffffffffu);
    ck_assert_uint_eq(p->len, 1);
    ck_assert_uint_eq(S.events[2].u.pkt.seq, 2);
    p = &S.events[3].u.pkt;
    ck_assert(p->seq_any && !p->seq_wnd);
    ck_assert(!S.events[4].u.pkt.seq_wnd && !S.events[4].u.pkt.seq_any);
}
END_TEST

START_TEST(test_long_script_grows_without_limit)
{
    size_t n = 3000, len = 0;
    char *t = malloc(n * 20 + 1);
    for (size_t i = 0; i < n; i++)
        len += (size_t)sprintf(t + len, "+0 < S 0:0(0)\n");
    ck_assert_int_eq(tw_script_parse_text("t.pkt", t, len, &S, &E), 0);
    ck_assert_uint_eq(S.n_events, n);
    free(t);
}
END_TEST

START_TEST(test_line_too_long_is_an_error)
{
    size_t n = TW_SCRIPT_MAX_LINE + 10;
    char *t = malloc(n + 1);
    memset(t, ' ', n);
    t[n] = '\0';
    ck_assert_int_eq(tw_script_parse_text("t.pkt", t, n, &S, &E), -1);
    ck_assert_int_eq(E.line, 1);
    ck_assert_ptr_nonnull(strstr(E.message, "longer"));
    free(t);
}
END_TEST

START_TEST(test_missing_file_is_an_error)
{
    tw_script_cleanup(&S);
    ck_assert_int_eq(tw_script_parse_file("/nonexistent/x.pkt", &S, &E), -1);
    ck_assert_int_eq(E.line, 0);
    ck_assert_ptr_nonnull(strstr(E.message, "cannot open"));
}
END_TEST

/* Malformed snippets: each must fail at this line:column, naming this. */
static const struct bad {
    const char *text;
    int line, column;
    const char *needle;
} bads[] = {
    {"0 sendmsg(3) = 0\n", 1, 3, "unsupported syscall 'sendmsg'"},
    {"\n\n+0 < X 0:0(0)\n", 3, 6, "unknown TCP flag 'X'"},
    {"0 < S 0:5(4)\n", 1, 7, "END - SEQ"},
    {"0 < S 0:0(0) <md5 1>\n", 1, 15, "unsupported TCP option 'md5'"},
    {"0 < S 0:0(0) <mss 1460\n", 1, 23, "expected ',' or '>'"},
    {"0 < S 0:0(0) wnd 5\n", 1, 14, "unsupported packet field 'wnd'"},
    {"0 > S 0:0(0) bad_csum\n", 1, 14, "inbound"},
    {"0 < S 0:0(0) seq_tolerance 5\n", 1, 14, "outbound"},
    {"0 > S 0:0(0) seq_tolerance 5 seq_tolerance 6\n", 1, 30, "twice"},
    {"0 > S 0:0(0) seq_tolerance -1\n", 1, 28, "out of range"},
    {"0 < S 0:0(0) <...>\n", 1, 14, "outbound"},
    {"0 < S 0:0(0) ip6_dstopts\n", 1, 14, "ipv6"},
    {"0 < S 0:0(0) src 2001:db8::1\n", 1, 18, "not an IPv4"},
    {"0 < S 0:0(0) win 70000\n", 1, 18, "out of range"},
    {"0 < . 1:1(0) win syn\n", 1, 18, "outbound (>) packets only"},
    {"0 > S. 0:0(0) ack 1 win syn\n", 1, 25, "a segment with SYN"},
    {"0 > . 1:1(0) win syn win 5\n", 1, 22, "given twice"},
    {"0 > . 1:1(0) win 5 win syn\n", 1, 20, "given twice"},
    {"0 > . 1:1(0) win synx\n", 1, 18, "win"},
    {"0 < icmp echo\n", 1, 10, "unsupported ICMP type 'echo'"},
    {"0 < icmp unreachable bogus\n", 1, 22, "unsupported ICMP unreachable code"},
    {"0 < icmp unreachable frag_needed\n", 1, 33, "mtu"},
    {"0 > icmp time_exceeded\n", 1, 1, "outbound ICMP"},
    {"0 < udp 0:0(0)\n", 1, 5, "unsupported packet type 'udp'"},
    {"0 socket(..., SOCK_DGRAM, 0) = 3\n", 1, 15, "unknown symbol 'SOCK_DGRAM'"},
    {"0 listen(3) = 0\n", 1, 3, "listen takes 2 arguments"},
    {"0 close(3) = -1\n", 1, 14, "errno"},
    {"0 close(3) = -1 EFOO\n", 1, 17, "unknown errno 'EFOO'"},
    {"0 close(3) = 0 EBADF\n", 1, 16, "-1"},
    {"0 close(3)\n", 1, 11, "expected '='"},
    {"0 setsockopt(3, SOL_SOCKET, 9, [1], 4) = 0\n", 1, 3, "unsupported socket option"},
    {"0 fcntl(3, 1) = 0\n", 1, 3, "F_GETFL"},
    {"0 `ls\n", 1, 3, "unterminated shell"},
    {"0 ``\n", 1, 3, "empty shell"},
    {"0 state SYN_SENT\n", 1, 9, "unknown TCP state"},
    {"0 silence x\n", 1, 11, "expected silence's duration"},
    {"0 frobnicate\n", 1, 3, "unknown event 'frobnicate'"},
    {"0 < S 0:0(0) extra)\n", 1, 14, "unsupported packet field 'extra'"},
    {"0 < S 0:0(0)\n--ip_version=ipv4\n", 2, 1, "before the first event"},
    {"--ip_version=ipv5\n", 1, 14, "unsupported value"},
    {"--bogus=1\n", 1, 1, "unsupported option '--bogus'"},
    {"0.1234567 < S 0:0(0)\n", 1, 1, "6 decimals"},
    {"x < S 0:0(0)\n", 1, 1, "expected a time"},
    {"1 < S 0:0(0)\n0.5 < S 0:0(0)\n", 2, 1, "before the previous"},
    {"1~0.5 > S 0:0(0)\n", 1, 2, "ends before it starts"},
    {"+1~2 > S 0:0(0)\n", 1, 3, "both ends"},
    {"* < S 0:0(0)\n", 1, 1, "outbound packets only"},
    {"0~1 < S 0:0(0)\n", 1, 1, "outbound packets only"},
    {"0...1 close(3) = 0\n", 1, 1, "blocking"},
    {"/* never closed\n0 < S 0:0(0)\n", 1, 1, "unterminated /*"},
    {"// covers:\n", 1, 1, "no requirement IDs"},
    {"[S 0 < S 0:0(0)\n", 1, 4, "expected ','"},
    {"0 < S 0:0(0) <TS val 1>\n", 1, 23, "expected 'ecr'"},
    {"0 < S 0:0(0) <sack 1:2 3:4 5:6 7:8 9:10>\n", 1, 36, "more than 4 blocks"},
    {"0 < S 0:0(0) <raw 0g>\n", 1, 20, "not a hex digit"},
    {"0 < S 0:0(0) <raw 123>\n", 1, 19, "odd number"},
    {"0 < S 0:0(0) <TS val 1 ecr 1,TS val 1 ecr 1,TS val 1 ecr 1,TS val 1 ecr 1,nop>\n", 1, 75,
     "longer than the 40"},
    {"0 < S 0:0(0) ack 1 ack 2\n", 1, 20, "given twice"},
    {"0 < SS 0:0(0)\n", 1, 6, "given twice"},
    {"0 < S 0:0(0) > extra\n", 1, 14, "unexpected"},
    {"0 close(3) = 0 (unterminated\n", 1, 16, "unterminated '('"},
    {"0 accept(3, \"x\", ...) = 4\n", 1, 13, "unsupported argument"},
    {"0 read(3, ..., -5) = 0\n", 1, 3, "length"},
    {"--ip_version=ipv6\n0 < icmp source_quench\n", 2, 10, "no ICMPv6"},
    {"0 < S 0:0(0) <kind 30 len 4 0xzz>\n", 1, 31, "hex"},
    {"0 < S 99999999999:0(0)\n", 1, 7, "out of range"},
    {"0 > . wnd:wnd(0)\n", 1, 7, "inbound (<) packets only"},
    {"0 < . wnd:5(0)\n", 1, 7, "relative to 'wnd', or neither"},
    {"0 < . wnd+:wnd(0)\n", 1, 11, "expected a number after 'wnd+'"},
    {"0 < . wnd+1:wnd+3(1)\n", 1, 7, "END - SEQ"},
    {"0 > . *:*(0)\n", 1, 7, "outbound SYN and SYN-ACK lines only"},
    {"0 < S *:*(0)\n", 1, 7, "outbound SYN and SYN-ACK lines only"},
    {"0 > S *:5(0)\n", 1, 9, "expected '*' in *:*(LEN)"},
};

START_TEST(test_malformed_snippet_reports_line_and_column)
{
    const struct bad *b = &bads[_i];
    ck_assert_msg(parse(b->text) == -1, "'%s' parsed", b->text);
    ck_assert_msg(E.line == b->line && E.column == b->column, "'%s': got %d:%d (%s), want %d:%d",
                  b->text, E.line, E.column, E.message, b->line, b->column);
    ck_assert_msg(strstr(E.message, b->needle), "'%s': message '%s' lacks '%s'", b->text, E.message,
                  b->needle);
}
END_TEST

static Suite *script_suite(void)
{
    Suite *s = suite_create("script");
    TCase *tc = tcase_create("parse");
    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_comments_and_covers_are_collected);
    tcase_add_test(tc, test_header_options_are_read);
    tcase_add_test(tc, test_times_absolute_relative_any_range_return);
    tcase_add_test(tc, test_packet_line_fields);
    tcase_add_test(tc, test_outbound_win_syn);
    tcase_add_test(tc, test_window_relative_seq_and_any_isn);
    tcase_add_test(tc, test_flags_dot_and_none);
    tcase_add_test(tc, test_option_encoding_in_written_order);
    tcase_add_test(tc, test_outbound_ts_val_any_and_empty_list);
    tcase_add_test(tc, test_malformed_input_extensions);
    tcase_add_test(tc, test_icmp_lines_both_forms);
    tcase_add_test(tc, test_syscalls_with_args);
    tcase_add_test(tc, test_shell_silence_state_and_tags);
    tcase_add_test(tc, test_rfc_tag_applies_to_stacks_without_their_own_lines);
    tcase_add_test(tc, test_long_script_grows_without_limit);
    tcase_add_test(tc, test_line_too_long_is_an_error);
    tcase_add_test(tc, test_missing_file_is_an_error);
    tcase_add_loop_test(tc, test_malformed_snippet_reports_line_and_column, 0, (int)N_OF(bads));
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(script_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

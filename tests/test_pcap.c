/* pcap.h: writing traces, reading every link type we claim, refusing bad
 * files with the file and record named, and importing handshakes as cases
 * that pass on the model. Bad files are built here, byte by byte. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pcap.h"
#include "runner.h"
#include "script.h"

/* ---- building captures ---------------------------------------------------- */

struct buf {
    uint8_t b[4096];
    size_t n;
};

static void put(struct buf *f, const void *p, size_t n)
{
    ck_assert_uint_le(f->n + n, sizeof(f->b));
    memcpy(f->b + f->n, p, n);
    f->n += n;
}

static void put32(struct buf *f, uint32_t v) { put(f, &v, 4); } /* host order, as libpcap writes */
static void put16(struct buf *f, uint16_t v) { put(f, &v, 2); }

static void file_header(struct buf *f, uint32_t snaplen, uint32_t linktype)
{
    put32(f, 0xa1b2c3d4);
    put16(f, 2);
    put16(f, 4);
    put32(f, 0);
    put32(f, 0);
    put32(f, snaplen);
    put32(f, linktype);
}

static void record(struct buf *f, uint32_t usec, const void *p, uint32_t caplen, uint32_t len)
{
    put32(f, 1700000000);
    put32(f, usec);
    put32(f, caplen);
    put32(f, len);
    put(f, p, caplen);
}

#define LINKTYPE_NULL 0
#define LINKTYPE_ETHERNET 1
#define LINKTYPE_RAW 101
#define LINKTYPE_LOOP 108
#define LINKTYPE_LINUX_SLL 113
#define LINKTYPE_IEEE802_11 105
#define LINKTYPE_IPV4 228
#define LINKTYPE_LINUX_SLL2 276

static struct tw_segment seg_between(int family, bool from_client, uint8_t flags, uint32_t seq, uint32_t ack)
{
    struct tw_segment s;
    memset(&s, 0, sizeof(s));
    tw_addr_parse(family == 6 ? "2001:db8::10" : "198.51.100.10", from_client ? &s.src : &s.dst);
    tw_addr_parse(family == 6 ? "2001:db8::20" : "198.51.100.20", from_client ? &s.dst : &s.src);
    s.sport = from_client ? 41000 : 443;
    s.dport = from_client ? 443 : 41000;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.window = 64240;
    if (flags & TW_SYN) {
        s.opt.has = TW_HAS_MSS | TW_HAS_SACKOK | TW_HAS_TS | TW_HAS_WSCALE;
        s.opt.mss = 1460;
        s.opt.wscale = 7;
        s.opt.ts_val = from_client ? 5000 : 9000;
        s.opt.ts_ecr = (flags & TW_ACK) ? 5000 : 0;
        tw_options_encode(&s.opt);
    }
    return s;
}

static size_t build(const struct tw_segment *s, uint8_t *out, size_t cap)
{
    enum tw_parse_err e;
    size_t n = tw_segment_build(s, out, cap, &e);
    ck_assert_msg(n > 0, "build: %s", tw_parse_strerror(e));
    return n;
}

/* A client SYN, the server's SYN-ACK and the client's ACK, as IP packets. */
static size_t handshake(int family, uint8_t pkts[3][128], size_t lens[3])
{
    struct tw_segment s[3] = {
        seg_between(family, true, TW_SYN, 1000, 0),
        seg_between(family, false, TW_SYN | TW_ACK, 7000, 1001),
        seg_between(family, true, TW_ACK, 1001, 7001),
    };
    s[2].opt.has = TW_HAS_TS;
    s[2].opt.ts_val = 5001;
    s[2].opt.ts_ecr = 9000;
    tw_options_encode(&s[2].opt);
    for (int i = 0; i < 3; i++)
        lens[i] = build(&s[i], pkts[i], 128);
    return 3;
}

static const char *tmp_file(const struct buf *f)
{
    static char path[64];
    int fd;
    snprintf(path, sizeof(path), "/tmp/test_pcap_XXXXXX");
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, f->b, f->n), (ssize_t)f->n);
    close(fd);
    return path;
}

static struct tw_pcap_capture C;
static char ERR[512];

static enum tw_pcap_err read_buf(const struct buf *f)
{
    FILE *fp = fmemopen((void *)f->b, f->n ? f->n : 1, "rb");
    tw_pcap_capture_cleanup(&C);
    ERR[0] = '\0';
    if (!f->n) { /* fmemopen wants a size: an empty file the honest way */
        fclose(fp);
        const char *p = tmp_file(f);
        enum tw_pcap_err e = tw_pcap_read_path(p, &C, ERR, sizeof(ERR));
        unlink(p);
        return e;
    }
    return tw_pcap_read(fp, "mem.pcap", &C, ERR, sizeof(ERR));
}

static void teardown(void) { tw_pcap_capture_cleanup(&C); }

#define ASSERT_ERR(e, code, needle)                                                                \
    do {                                                                                           \
        ck_assert_int_eq((e), (code));                                                             \
        ck_assert_msg(strstr(ERR, needle), "error '%s' lacks '%s'", ERR, needle);                  \
    } while (0)

/* ---- writing -------------------------------------------------------------- */

static void write_trace(const char *path)
{
    struct tw_pcap_writer *w;
    uint8_t p[3][128];
    size_t l[3];
    ck_assert_int_eq(tw_pcap_writer_open(&w, path, ERR, sizeof(ERR)), TW_PCAP_OK);
    handshake(4, p, l);
    tw_pcap_trace(w, 0, false, p[0], l[0]);
    tw_pcap_trace(w, 250, true, p[1], l[1]);
    tw_pcap_trace(w, 1500000, false, p[2], l[2]);
    ck_assert_int_eq(tw_pcap_writer_close(w, ERR, sizeof(ERR)), TW_PCAP_OK);
}

static size_t slurp(const char *path, uint8_t *out, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;
    ck_assert_ptr_nonnull(f);
    n = fread(out, 1, cap, f);
    fclose(f);
    return n;
}

START_TEST(test_trace_reads_back_with_times_and_macs)
{
    char path[] = "/tmp/test_pcap_trace_XXXXXX";
    int fd = mkstemp(path);
    uint8_t bytes[2048];
    size_t n;
    close(fd);
    write_trace(path);
    ck_assert_int_eq(tw_pcap_read_path(path, &C, ERR, sizeof(ERR)), TW_PCAP_OK);
    ck_assert_int_eq(C.linktype, 1); /* DLT_EN10MB */
    ck_assert_uint_eq(C.n, 3);
    ck_assert_uint_eq(C.v[1].time_us, 250);
    ck_assert_uint_eq(C.v[2].time_us, 1500000);
    ck_assert_uint_eq(C.v[1].seg.seq, 7000);
    ck_assert_uint_eq(C.v[2].record, 3);
    n = slurp(path, bytes, sizeof(bytes));
    /* first frame: 24-byte file header, 16-byte record header, then
     * dst 02:00:00:00:00:02 (D), src 02:00:00:00:00:01 (H), type 0x0800 */
    ck_assert_uint_gt(n, 54);
    static const uint8_t eth[14] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00};
    ck_assert_mem_eq(bytes + 40, eth, 14);
    unlink(path);
}
END_TEST

START_TEST(test_trace_is_deterministic)
{
    char a[] = "/tmp/test_pcap_a_XXXXXX", b[] = "/tmp/test_pcap_b_XXXXXX";
    uint8_t ba[2048], bb[2048];
    size_t na, nb;
    close(mkstemp(a));
    close(mkstemp(b));
    write_trace(a);
    write_trace(b);
    na = slurp(a, ba, sizeof(ba));
    nb = slurp(b, bb, sizeof(bb));
    ck_assert_uint_eq(na, nb);
    ck_assert_mem_eq(ba, bb, na);
    unlink(a);
    unlink(b);
}
END_TEST

START_TEST(test_trace_of_a_case_has_every_packet)
{
    static const char text[] = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                               "+0 bind(3, ..., ...) = 0\n"
                               "+0 listen(3, 1) = 0\n"
                               "+0 < S 0:0(0) win 65535 <mss 1460>\n"
                               "+0 > S. 0:0(0) ack 1 win 65535 <mss 1460>\n"
                               "+.2 < . 1:1(0) ack 1 win 65535\n"
                               "+0 accept(3, ..., ...) = 4\n";
    char path[] = "/tmp/test_pcap_case_XXXXXX";
    struct tw_script s;
    struct tw_script_error se;
    struct tw_case_result r;
    struct tw_pcap_writer *w;
    struct tw_run_config cfg = {.tolerance_usecs = -1, .d_port = 12345, .h_port = 56742,
                                .d_isn_fixed = true, .d_isn = 3504942089u};
    close(mkstemp(path));
    ck_assert_int_eq(tw_script_parse_text("t.pkt", text, strlen(text), &s, &se), 0);
    ck_assert_int_eq(tw_pcap_writer_open(&w, path, ERR, sizeof(ERR)), TW_PCAP_OK);
    cfg.trace = tw_pcap_trace;
    cfg.trace_ctx = w;
    tw_run_case(&s, &cfg, &r);
    ck_assert_msg(r.status == TW_CASE_PASS, "%s", r.message ? r.message : "");
    ck_assert_int_eq(tw_pcap_writer_close(w, ERR, sizeof(ERR)), TW_PCAP_OK);
    ck_assert_int_eq(tw_pcap_read_path(path, &C, ERR, sizeof(ERR)), TW_PCAP_OK);
    ck_assert_uint_eq(C.n, 3);
    ck_assert_uint_eq(C.v[0].seg.dport, 12345);
    ck_assert_uint_eq(C.v[0].seg.sport, 56742);
    ck_assert_uint_eq(C.v[1].seg.seq, 3504942089u); /* the pinned ISN */
    ck_assert_uint_eq(C.v[2].time_us, 200000);      /* the virtual clock */
    tw_case_result_cleanup(&r);
    tw_script_cleanup(&s);
    unlink(path);
}
END_TEST

START_TEST(test_case_file_name_flattens_the_path)
{
    char out[256];
    ck_assert_int_eq(tw_pcap_case_file("d", "./conformance/listen/syn.pkt", ".pcap", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "d/conformance_listen_syn.pcap");
    ck_assert_int_eq(tw_pcap_case_file("d", "/abs/x.pkt", ".txt", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "d/abs_x.txt");
    ck_assert_int_eq(tw_pcap_case_file("d", "a/b.pkt", ".pcap", out, 8), -1);
}
END_TEST

/* ---- reading: link types ---------------------------------------------------- */

static void link_case(uint32_t linktype, const uint8_t *hdr, size_t hlen, int family)
{
    struct buf f = {0};
    uint8_t p[3][128], frame[256];
    size_t l[3];
    handshake(family, p, l);
    file_header(&f, 65535, linktype);
    for (int i = 0; i < 3; i++) {
        if (hlen)
            memcpy(frame, hdr, hlen);
        memcpy(frame + hlen, p[i], l[i]);
        record(&f, (uint32_t)i * 100, frame, (uint32_t)(hlen + l[i]), (uint32_t)(hlen + l[i]));
    }
    ck_assert_msg(read_buf(&f) == TW_PCAP_OK, "%s", ERR);
    ck_assert_uint_eq(C.n, 3);
    ck_assert_uint_eq(C.n_skipped, 0);
    ck_assert_uint_eq(C.v[0].seg.src.family, family);
    ck_assert_uint_eq(C.v[0].seg.flags, TW_SYN);
    ck_assert_uint_eq(C.v[2].time_us, 200);
}

START_TEST(test_reads_ethernet_with_vlan_tag)
{
    static const uint8_t eth[18] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x00, 0x05, 0x86, 0xdd};
    link_case(LINKTYPE_ETHERNET, eth, sizeof(eth), 6);
}
END_TEST

START_TEST(test_reads_linux_cooked_v1_and_v2)
{
    uint8_t sll[16] = {0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00};
    uint8_t sll2[20] = {0x86, 0xdd, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6};
    link_case(LINKTYPE_LINUX_SLL, sll, sizeof(sll), 4);
    link_case(LINKTYPE_LINUX_SLL2, sll2, sizeof(sll2), 6);
}
END_TEST

START_TEST(test_reads_raw_ipv4_null_and_loop)
{
    static const uint8_t null_hdr[4] = {2, 0, 0, 0};   /* AF_INET, host order */
    static const uint8_t loop_hdr[4] = {0, 0, 0, 30};  /* AF_INET6 (BSD), network order */
    link_case(LINKTYPE_RAW, NULL, 0, 6);
    link_case(LINKTYPE_IPV4, NULL, 0, 4);
    link_case(LINKTYPE_NULL, null_hdr, 4, 4);
    link_case(LINKTYPE_LOOP, loop_hdr, 4, 6);
}
END_TEST

START_TEST(test_non_tcp_records_are_skipped_with_notes)
{
    struct buf f = {0};
    uint8_t p[3][128], frame[256];
    size_t l[3];
    static const uint8_t arp[42] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x08, 0x06};
    /* IPv4 UDP, 28 bytes, correct lengths */
    static const uint8_t udp[14 + 28] = {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00, 0x45, 0, 0, 28, 0, 0, 0, 0,
                                         64, 17, 0, 0, 192, 0, 2, 1, 192, 0, 2, 2, 0, 53, 0, 53, 0, 8, 0, 0};
    handshake(4, p, l);
    file_header(&f, 65535, LINKTYPE_ETHERNET);
    record(&f, 0, arp, sizeof(arp), sizeof(arp));
    memcpy(frame, udp, 14);
    frame[12] = 0x08;
    frame[13] = 0x00;
    memcpy(frame + 14, p[0], l[0]);
    record(&f, 1, frame, (uint32_t)(14 + l[0]), (uint32_t)(14 + l[0]));
    record(&f, 2, udp, sizeof(udp), sizeof(udp));
    record(&f, 3, frame, 10, 10); /* shorter than an Ethernet header */
    ck_assert_msg(read_buf(&f) == TW_PCAP_OK, "%s", ERR);
    ck_assert_uint_eq(C.n_records, 4);
    ck_assert_uint_eq(C.n, 1);
    ck_assert_uint_eq(C.v[0].record, 2);
    ck_assert_uint_eq(C.n_skipped, 3);
    ck_assert_uint_eq(C.n_notes, 3);
    ck_assert_str_eq(C.notes[0], "record 1: not IP (ethertype 0x0806)");
    ck_assert_str_eq(C.notes[1], "record 3: not TCP");
    ck_assert_msg(strstr(C.notes[2], "record 4: frame of 10 bytes"), "%s", C.notes[2]);
}
END_TEST

/* ---- reading: bad files ------------------------------------------------------- */

START_TEST(test_empty_file_is_an_error)
{
    struct buf f = {0};
    enum tw_pcap_err e = read_buf(&f);
    ck_assert_int_eq(e, TW_PCAP_FORMAT);
    ck_assert_msg(strstr(ERR, "/tmp/test_pcap_"), "error '%s' does not name the file", ERR);
}
END_TEST

START_TEST(test_wrong_magic_is_an_error)
{
    struct buf f = {0};
    file_header(&f, 65535, LINKTYPE_ETHERNET);
    memcpy(f.b, "GIF8", 4);
    ASSERT_ERR(read_buf(&f), TW_PCAP_FORMAT, "mem.pcap: ");
}
END_TEST

START_TEST(test_truncated_file_header_is_an_error)
{
    struct buf f = {0};
    file_header(&f, 65535, LINKTYPE_ETHERNET);
    f.n = 10;
    ASSERT_ERR(read_buf(&f), TW_PCAP_FORMAT, "mem.pcap: ");
}
END_TEST

START_TEST(test_unknown_link_type_is_an_error)
{
    struct buf f = {0};
    file_header(&f, 65535, LINKTYPE_IEEE802_11);
    ASSERT_ERR(read_buf(&f), TW_PCAP_LINKTYPE, "link type 105");
}
END_TEST

START_TEST(test_truncated_record_names_the_record)
{
    struct buf f = {0};
    uint8_t p[3][128];
    size_t l[3];
    handshake(4, p, l);
    file_header(&f, 65535, LINKTYPE_RAW);
    record(&f, 0, p[0], (uint32_t)l[0], (uint32_t)l[0]);
    record(&f, 0, p[1], (uint32_t)l[1], (uint32_t)l[1]);
    f.n -= 5; /* the second record's data is cut short */
    ASSERT_ERR(read_buf(&f), TW_PCAP_RECORD, "mem.pcap: record 2: ");
    f.n -= l[1] + 6; /* now its header is cut short */
    ASSERT_ERR(read_buf(&f), TW_PCAP_RECORD, "mem.pcap: record 2: ");
}
END_TEST

START_TEST(test_absurd_record_lengths_are_errors)
{
    struct buf f = {0};
    uint8_t p[3][128];
    size_t l[3];
    handshake(4, p, l);
    file_header(&f, 65535, LINKTYPE_RAW);
    record(&f, 0, p[0], (uint32_t)l[0], (uint32_t)l[0]);
    /* a record header claiming 2 GiB, with no data behind it */
    put32(&f, 1700000000);
    put32(&f, 0);
    put32(&f, 0x7fffffff);
    put32(&f, 0x7fffffff);
    ASSERT_ERR(read_buf(&f), TW_PCAP_RECORD, "mem.pcap: record 2: ");
    /* 300 KiB: more than any link type allows */
    f.n -= 8;
    put32(&f, 300 * 1024);
    put32(&f, 300 * 1024);
    ASSERT_ERR(read_buf(&f), TW_PCAP_RECORD, "mem.pcap: record 2: ");
    /* caplen above len */
    f.n -= 8;
    put32(&f, (uint32_t)l[1]);
    put32(&f, 20);
    put(&f, p[1], l[1]);
    ASSERT_ERR(read_buf(&f), TW_PCAP_RECORD, "mem.pcap: record 2: captured length");
}
END_TEST

START_TEST(test_caplen_above_snaplen_is_an_error_or_cut)
{
    /* libpcap accepts up to the link type's maximum; above the file's
     * snaplen it keeps snaplen bytes. Either way: no crash, and what is
     * kept never claims more than was read. */
    struct buf f = {0};
    uint8_t p[3][128];
    size_t l[3];
    handshake(4, p, l);
    file_header(&f, 40, LINKTYPE_RAW);
    record(&f, 0, p[0], (uint32_t)l[0], (uint32_t)l[0]);
    enum tw_pcap_err e = read_buf(&f);
    ck_assert(e == TW_PCAP_OK || e == TW_PCAP_RECORD);
    if (e == TW_PCAP_OK) {
        ck_assert_uint_eq(C.n, 0); /* cut to 40 bytes: no longer a whole segment */
        ck_assert_uint_eq(C.n_skipped, 1);
    } else {
        ck_assert_msg(strstr(ERR, "record 1"), "%s", ERR);
    }
}
END_TEST

/* ---- import ------------------------------------------------------------------------ */

static char *import_buf(const struct buf *f, bool as_client)
{
    struct tw_import_opts o = {.as_client = as_client, .name = "mem.pcap"};
    struct tw_import_info info;
    char *text = NULL;
    ck_assert_msg(read_buf(f) == TW_PCAP_OK, "%s", ERR);
    ck_assert_msg(tw_pcap_import(&C, &o, &text, &info, ERR, sizeof(ERR)) == TW_PCAP_OK, "%s", ERR);
    return text;
}

static void assert_passes_on_model(const char *text)
{
    struct tw_script s;
    struct tw_script_error se;
    struct tw_case_result r;
    struct tw_run_config cfg = {.tolerance_usecs = -1};
    ck_assert_msg(tw_script_parse_text("imported.pkt", text, strlen(text), &s, &se) == 0, "%d: %s\n%s", se.line,
                  se.message, text);
    tw_run_case(&s, &cfg, &r);
    ck_assert_msg(r.status == TW_CASE_PASS, "%s\n%s", r.message ? r.message : "", text);
    tw_case_result_cleanup(&r);
    tw_script_cleanup(&s);
}

static void handshake_file(struct buf *f, int family)
{
    uint8_t p[3][128];
    size_t l[3];
    handshake(family, p, l);
    file_header(f, 65535, LINKTYPE_RAW);
    for (int i = 0; i < 3; i++)
        record(f, (uint32_t)i * 30, p[i], (uint32_t)l[i], (uint32_t)l[i]);
}

START_TEST(test_import_passive_handshake_passes_on_the_model)
{
    struct buf f = {0};
    char *text;
    handshake_file(&f, 4);
    text = import_buf(&f, false);
    ck_assert_msg(strstr(text, "// covers: HS-LISTEN-03 HS-SYNRCVD-01\n"), "%s", text);
    ck_assert_msg(strstr(text, "--remote_isn=1000\n"), "%s", text);
    ck_assert_msg(strstr(text, "listen(3, 1) = 0\n"), "%s", text);
    ck_assert_msg(strstr(text, "+0 < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 5000 ecr 0,nop,wscale 7>\n"),
                  "%s", text);
    ck_assert_msg(strstr(text, "+0 > S. 0:0(0) ack 1 <...>\n"), "%s", text);
    ck_assert_msg(strstr(text, "+0.00003 < . 1:1(0) ack 1 win 64240 <nop,nop,TS val 5001 ecr 0>\n"), "%s", text);
    ck_assert_msg(strstr(text, "+0 accept(3, ..., ...) = 4\n"), "%s", text);
    assert_passes_on_model(text);
    free(text);
}
END_TEST

START_TEST(test_import_active_handshake_ipv6_passes_on_the_model)
{
    struct buf f = {0};
    char *text;
    handshake_file(&f, 6);
    text = import_buf(&f, true);
    ck_assert_msg(strstr(text, "// covers: HS-OPEN-01 HS-SYNSENT-06\n"), "%s", text);
    ck_assert_msg(strstr(text, "--ip_version=ipv6\n--remote_isn=7000\n"), "%s", text);
    ck_assert_msg(strstr(text, "connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <...>\n"), "%s", text);
    ck_assert_msg(strstr(text, "+0 > . 1:1(0) ack 1 <...>\n"), "%s", text);
    assert_passes_on_model(text);
    free(text);
}
END_TEST

START_TEST(test_import_closed_port_reset)
{
    struct buf f = {0};
    uint8_t p[2][128];
    size_t l[2];
    struct tw_segment syn = seg_between(4, true, TW_SYN, 1000, 0);
    struct tw_segment rst = seg_between(4, false, TW_RST | TW_ACK, 0, 1001);
    char *text;
    rst.window = 0;
    l[0] = build(&syn, p[0], 128);
    l[1] = build(&rst, p[1], 128);
    file_header(&f, 65535, LINKTYPE_RAW);
    record(&f, 0, p[0], (uint32_t)l[0], (uint32_t)l[0]);
    record(&f, 5, p[1], (uint32_t)l[1], (uint32_t)l[1]);
    text = import_buf(&f, false);
    ck_assert_msg(strstr(text, "// covers: HS-CLOSED-01\n"), "%s", text);
    ck_assert_msg(!strstr(text, "socket("), "%s", text);
    ck_assert_msg(strstr(text, "\n0 < S 0:0(0)"), "%s", text);
    ck_assert_msg(strstr(text, "+0 > R. 0:0(0) ack 1 <...>\n"), "%s", text);
    assert_passes_on_model(text);
    free(text);
}
END_TEST

START_TEST(test_import_without_syn_is_an_error)
{
    struct buf f = {0};
    uint8_t p[3][128];
    size_t l[3];
    struct tw_import_opts o = {.name = "mem.pcap"};
    struct tw_import_info info;
    char *text = NULL;
    handshake(4, p, l);
    file_header(&f, 65535, LINKTYPE_RAW);
    record(&f, 0, p[2], (uint32_t)l[2], (uint32_t)l[2]); /* the ACK alone */
    ck_assert_int_eq(read_buf(&f), TW_PCAP_OK);
    ck_assert_int_eq(tw_pcap_import(&C, &o, &text, &info, ERR, sizeof(ERR)), TW_PCAP_NO_SYN);
    ck_assert_ptr_null(text);
    ck_assert_msg(strstr(ERR, "mem.pcap: no SYN"), "%s", ERR);
}
END_TEST

START_TEST(test_import_stops_at_the_end_of_the_handshake)
{
    struct buf f = {0};
    uint8_t p[3][128], more[2][128];
    size_t l[3], ml[2];
    struct tw_segment fin = seg_between(4, true, TW_FIN | TW_ACK, 1001, 7001);
    struct tw_segment other = seg_between(4, true, TW_SYN, 5, 0);
    struct tw_import_opts o = {.name = "mem.pcap"};
    struct tw_import_info info;
    char *text = NULL;
    other.sport = 41001;
    handshake(4, p, l);
    ml[0] = build(&other, more[0], 128);
    ml[1] = build(&fin, more[1], 128);
    file_header(&f, 65535, LINKTYPE_RAW);
    record(&f, 0, p[0], (uint32_t)l[0], (uint32_t)l[0]);
    record(&f, 1, more[0], (uint32_t)ml[0], (uint32_t)ml[0]);
    record(&f, 2, p[1], (uint32_t)l[1], (uint32_t)l[1]);
    record(&f, 3, p[2], (uint32_t)l[2], (uint32_t)l[2]);
    record(&f, 4, more[1], (uint32_t)ml[1], (uint32_t)ml[1]);
    ck_assert_int_eq(read_buf(&f), TW_PCAP_OK);
    ck_assert_int_eq(tw_pcap_import(&C, &o, &text, &info, ERR, sizeof(ERR)), TW_PCAP_OK);
    ck_assert(info.complete);
    ck_assert_uint_eq(info.n_packets, 3);
    ck_assert_uint_eq(info.n_after, 1);
    ck_assert_uint_eq(info.n_other, 1);
    ck_assert_uint_eq(info.last_record, 4);
    ck_assert_msg(!strstr(text, " F."), "%s", text);
    assert_passes_on_model(text);
    free(text);
}
END_TEST

START_TEST(test_import_exact_keeps_options_and_window)
{
    struct buf f = {0};
    struct tw_import_opts o = {.exact = true, .name = "mem.pcap"};
    struct tw_import_info info;
    char *text = NULL;
    handshake_file(&f, 4);
    ck_assert_int_eq(read_buf(&f), TW_PCAP_OK);
    ck_assert_int_eq(tw_pcap_import(&C, &o, &text, &info, ERR, sizeof(ERR)), TW_PCAP_OK);
    ck_assert_msg(strstr(text, "> S. 0:0(0) ack 1 win 64240 <mss 1460,sackOK,TS val 9000 ecr 5000,nop,wscale 7>\n"),
                  "%s", text);
    ck_assert_msg(strstr(text, "<nop,nop,TS val 5001 ecr 9000>\n"), "%s", text);
    free(text);
}
END_TEST

static Suite *pcap_suite(void)
{
    Suite *s = suite_create("pcap");
    TCase *w = tcase_create("write");
    TCase *r = tcase_create("read");
    TCase *bad = tcase_create("bad files");
    TCase *imp = tcase_create("import");
    tcase_add_checked_fixture(w, NULL, teardown);
    tcase_add_checked_fixture(r, NULL, teardown);
    tcase_add_checked_fixture(bad, NULL, teardown);
    tcase_add_checked_fixture(imp, NULL, teardown);
    tcase_add_test(w, test_trace_reads_back_with_times_and_macs);
    tcase_add_test(w, test_trace_is_deterministic);
    tcase_add_test(w, test_trace_of_a_case_has_every_packet);
    tcase_add_test(w, test_case_file_name_flattens_the_path);
    tcase_add_test(r, test_reads_ethernet_with_vlan_tag);
    tcase_add_test(r, test_reads_linux_cooked_v1_and_v2);
    tcase_add_test(r, test_reads_raw_ipv4_null_and_loop);
    tcase_add_test(r, test_non_tcp_records_are_skipped_with_notes);
    tcase_add_test(bad, test_empty_file_is_an_error);
    tcase_add_test(bad, test_wrong_magic_is_an_error);
    tcase_add_test(bad, test_truncated_file_header_is_an_error);
    tcase_add_test(bad, test_unknown_link_type_is_an_error);
    tcase_add_test(bad, test_truncated_record_names_the_record);
    tcase_add_test(bad, test_absurd_record_lengths_are_errors);
    tcase_add_test(bad, test_caplen_above_snaplen_is_an_error_or_cut);
    tcase_add_test(imp, test_import_passive_handshake_passes_on_the_model);
    tcase_add_test(imp, test_import_active_handshake_ipv6_passes_on_the_model);
    tcase_add_test(imp, test_import_closed_port_reset);
    tcase_add_test(imp, test_import_without_syn_is_an_error);
    tcase_add_test(imp, test_import_stops_at_the_end_of_the_handshake);
    tcase_add_test(imp, test_import_exact_keeps_options_and_window);
    suite_add_tcase(s, w);
    suite_add_tcase(s, r);
    suite_add_tcase(s, bad);
    suite_add_tcase(s, imp);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(pcap_suite());
    int failed;
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* Unit tests for the segment codec (target/segment.h): parse, build,
 * checksums, options, ICMP errors and tcpdump-style rendering.
 *
 * The byte arrays below were written by an independent generator (not this
 * codec) and checked with tcpdump 4.99 (`tcpdump -n -S -v` on a raw-IP pcap),
 * which printed "cksum ... (correct)" for each; the line above each array
 * is tcpdump's. */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"
#include "tw_bytes.h"

#define ADDR4(a, b, c, d) ((struct tw_addr){.family = 4, .bytes = {a, b, c, d}})
#define CLIENT4 ADDR4(198, 51, 100, 1)
#define SERVER4 ADDR4(198, 51, 100, 2)
/* 2001:db8::1 and 2001:db8::2 */
#define ADDR6(last) \
    ((struct tw_addr){.family = 6, .bytes = {0x20, 0x01, 0x0d, 0xb8, [15] = (last)}})
#define CLIENT6 ADDR6(1)
#define SERVER6 ADDR6(2)

/* A segment template: C99 designated initializers over a v4 default. A later
 * designator overriding a default is the point, so the warning is off. */
#if defined(__clang__)
#pragma clang diagnostic ignored "-Winitializer-overrides"
#elif defined(__GNUC__)
#pragma GCC diagnostic ignored "-Woverride-init"
#pragma GCC diagnostic ignored "-Woverride-init-side-effects"
#endif
#define SEG(...)                                                                   \
    ((struct tw_segment){.src = CLIENT4, .dst = SERVER4, .sport = 56742, .dport = 12345, \
                         __VA_ARGS__})

/* IP 198.51.100.1.56742 > 198.51.100.2.12345: Flags [S], seq 3112279261, win 65535,
 *   options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0 */
static const uint8_t SYN4[] = {
    0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xe6, 0x51,
    0xc6, 0x33, 0x64, 0x01, 0xc6, 0x33, 0x64, 0x02, 0xdd, 0xa6, 0x30, 0x39,
    0xb9, 0x81, 0x9c, 0xdd, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xff, 0xff,
    0x8e, 0xf2, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
    0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x01, 0x03, 0x03, 0x07,
};

/* IP6 2001:db8::2.12345 > 2001:db8::1.56742: Flags [S.], seq 4294967295,
 *   ack 3112279262, win 65483, options [nop,mss 1460,unknown-253 0xabcd,eol], length 0
 * (odd alignment: the MSS starts at option byte 1; two zero bytes after EOL) */
static const uint8_t SYNACK6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x30, 0x39, 0xdd, 0xa6, 0xff, 0xff, 0xff, 0xff,
    0xb9, 0x81, 0x9c, 0xde, 0x80, 0x12, 0xff, 0xcb, 0x34, 0x95, 0x00, 0x00,
    0x01, 0x02, 0x04, 0x05, 0xb4, 0xfd, 0x04, 0xab, 0xcd, 0x00, 0x00, 0x00,
};

/* IP 198.51.100.2.12345 > 198.51.100.1.56742: Flags [P.], seq 4294967293:2,
 *   ack 3112279262, win 502, length 5   (payload "hello", crossing 2^32) */
static const uint8_t DATA4[] = {
    0x45, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xe6, 0x60,
    0xc6, 0x33, 0x64, 0x02, 0xc6, 0x33, 0x64, 0x01, 0x30, 0x39, 0xdd, 0xa6,
    0xff, 0xff, 0xff, 0xfd, 0xb9, 0x81, 0x9c, 0xde, 0x50, 0x18, 0x01, 0xf6,
    0xb1, 0x56, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

/* IP 198.51.100.2.12345 > 198.51.100.1.56742: Flags [R.], seq 0, ack 3112279262,
 *   win 0, length 0 */
static const uint8_t RST4[] = {
    0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0xe6, 0x65,
    0xc6, 0x33, 0x64, 0x02, 0xc6, 0x33, 0x64, 0x01, 0x30, 0x39, 0xdd, 0xa6,
    0x00, 0x00, 0x00, 0x00, 0xb9, 0x81, 0x9c, 0xde, 0x50, 0x14, 0x00, 0x00,
    0xf7, 0x25, 0x00, 0x00,
};

/* IP6 2001:db8::1 > 2001:db8::2: DSTOPT (padn) 56742 > 12345: Flags [S],
 *   cksum 0x42a6 (correct), seq 1000, win 65535, length 0
 * The TCP checksum's pseudo-header carries next header 6, not 60. */
static const uint8_t DSTOPT6[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x3c, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0xdd, 0xa6, 0x30, 0x39, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xff, 0xff, 0x42, 0xa6, 0x00, 0x00,
};

/* The same, its checksum computed (wrongly) with next header 60:
 * tcpdump: cksum 0x4270 (incorrect -> 0x42a6) */
static const uint8_t DSTOPT6_NH60[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x1c, 0x3c, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00,
    0xdd, 0xa6, 0x30, 0x39, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xff, 0xff, 0x42, 0x70, 0x00, 0x00,
};

/* IP 198.51.100.2 > 198.51.100.1: ICMP 198.51.100.2 tcp port 12345 unreachable,
 *   length 68   (quoting SYN4 whole) */
static const uint8_t ICMP4_PORT[] = {
    0x45, 0x00, 0x00, 0x58, 0x00, 0x00, 0x00, 0x00, 0x40, 0x01, 0x26, 0x3b,
    0xc6, 0x33, 0x64, 0x02, 0xc6, 0x33, 0x64, 0x01, 0x03, 0x03, 0x51, 0x96,
    0x00, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00,
    0x40, 0x06, 0xe6, 0x51, 0xc6, 0x33, 0x64, 0x01, 0xc6, 0x33, 0x64, 0x02,
    0xdd, 0xa6, 0x30, 0x39, 0xb9, 0x81, 0x9c, 0xdd, 0x00, 0x00, 0x00, 0x00,
    0xa0, 0x02, 0xff, 0xff, 0x8e, 0xf2, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4,
    0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x03, 0x03, 0x07,
};

/* IP6 2001:db8::ff > 2001:db8::2: ICMP6, packet too big, mtu 1280, length 80
 *   (quoting SYNACK6 whole) */
static const uint8_t ICMP6_PTB[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x50, 0x3a, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x35, 0xc8, 0x00, 0x00, 0x05, 0x00,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x20, 0x06, 0x40, 0x20, 0x01, 0x0d, 0xb8,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x30, 0x39, 0xdd, 0xa6, 0xff, 0xff, 0xff, 0xff,
    0xb9, 0x81, 0x9c, 0xde, 0x80, 0x12, 0xff, 0xcb, 0x34, 0x95, 0x00, 0x00,
    0x01, 0x02, 0x04, 0x05, 0xb4, 0xfd, 0x04, 0xab, 0xcd, 0x00, 0x00, 0x00,
};

#define VERIFY TW_PARSE_VERIFY_CHECKSUM
#define STRICT TW_PARSE_STRICT_OPTIONS

/* A writable copy of a vector, with room to grow. */
struct pkt {
    uint8_t b[2048];
    size_t len;
};

static struct pkt copy_of(const uint8_t *bytes, size_t len)
{
    struct pkt p;
    memset(&p, 0, sizeof(p));
    ck_assert_uint_le(len, sizeof(p.b));
    memcpy(p.b, bytes, len);
    p.len = len;
    return p;
}
#define COPY(arr) copy_of(arr, sizeof(arr))

static enum tw_parse_err parse_pkt(const struct pkt *p, unsigned flags)
{
    struct tw_segment s;
    return tw_segment_parse(p->b, p->len, flags, &s);
}

static void assert_segments_equal(const struct tw_segment *got, const struct tw_segment *want)
{
    ck_assert(tw_addr_equal(&got->src, &want->src));
    ck_assert(tw_addr_equal(&got->dst, &want->dst));
    ck_assert_uint_eq(got->sport, want->sport);
    ck_assert_uint_eq(got->dport, want->dport);
    ck_assert_uint_eq(got->seq, want->seq);
    ck_assert_uint_eq(got->ack, want->ack);
    ck_assert_uint_eq(got->flags, want->flags);
    ck_assert_uint_eq(got->reserved, want->reserved);
    ck_assert_uint_eq(got->window, want->window);
    ck_assert_uint_eq(got->urgent, want->urgent);
    ck_assert_uint_eq(got->ttl, want->ttl ? want->ttl : 64);
    ck_assert_uint_eq(got->payload_len, want->payload_len);
    if (want->payload && want->payload_len)
        ck_assert_mem_eq(got->payload, want->payload, want->payload_len);
    ck_assert_uint_eq(got->opt.has, want->opt.has);
    ck_assert_uint_eq(got->opt.mss, want->opt.mss);
    ck_assert_uint_eq(got->opt.wscale, want->opt.wscale);
    ck_assert_uint_eq(got->opt.ts_val, want->opt.ts_val);
    ck_assert_uint_eq(got->opt.ts_ecr, want->opt.ts_ecr);
    ck_assert_uint_eq(got->opt.raw_len, want->opt.raw_len);
    ck_assert_mem_eq(got->opt.raw, want->opt.raw, want->opt.raw_len);
}

/* build(parse(bytes)) == bytes */
static void assert_bytes_round_trip(const uint8_t *bytes, size_t len)
{
    struct tw_segment s;
    uint8_t out[2048];
    enum tw_parse_err err = TW_PARSE__COUNT;
    size_t n;

    ck_assert_int_eq(tw_segment_parse(bytes, len, VERIFY | STRICT, &s), TW_PARSE_OK);
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_int_eq(err, TW_PARSE_OK);
    ck_assert_bytes_eq(out, n, bytes, len);
}

/* parse(build(s)) == s */
static void assert_struct_round_trip(const struct tw_segment *s)
{
    struct tw_segment back;
    uint8_t out[2048];
    enum tw_parse_err err = TW_PARSE__COUNT;
    size_t n = tw_segment_build(s, out, sizeof(out), &err);

    ck_assert_int_eq(err, TW_PARSE_OK);
    ck_assert_uint_gt(n, 0);
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY | STRICT, &back), TW_PARSE_OK);
    assert_segments_equal(&back, s);
}

/* ------------------------------------------------------------------ parse */

START_TEST(test_parse_ipv4_syn_decodes_every_field)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYN4, sizeof(SYN4), VERIFY | STRICT, &s), TW_PARSE_OK);
    ck_assert(tw_addr_equal(&s.src, &CLIENT4));
    ck_assert(tw_addr_equal(&s.dst, &SERVER4));
    ck_assert_uint_eq(s.sport, 56742);
    ck_assert_uint_eq(s.dport, 12345);
    ck_assert_uint_eq(s.seq, 3112279261u);
    ck_assert_uint_eq(s.ack, 0);
    ck_assert_uint_eq(s.flags, TW_SYN);
    ck_assert_uint_eq(s.reserved, 0);
    ck_assert_uint_eq(s.window, 65535);
    ck_assert_uint_eq(s.checksum, 0x8ef2);
    ck_assert_uint_eq(s.ttl, 64);
    ck_assert_uint_eq(s.payload_len, 0);
    ck_assert_uint_eq(s.opt.has, TW_HAS_MSS | TW_HAS_SACKOK | TW_HAS_TS | TW_HAS_WSCALE);
    ck_assert_uint_eq(s.opt.mss, 1460);
    ck_assert_uint_eq(s.opt.wscale, 7);
    ck_assert_uint_eq(s.opt.ts_val, 100);
    ck_assert_uint_eq(s.opt.ts_ecr, 0);
    ck_assert_uint_eq(s.opt.raw_len, 20);
    ck_assert_mem_eq(s.opt.raw, SYN4 + 40, 20);
    ck_assert_uint_eq(tw_segment_len(&s), 1);
}
END_TEST

START_TEST(test_parse_ipv6_synack_with_unknown_option_at_odd_alignment)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYNACK6, sizeof(SYNACK6), VERIFY | STRICT, &s),
                     TW_PARSE_OK);
    ck_assert(tw_addr_equal(&s.src, &SERVER6));
    ck_assert(tw_addr_equal(&s.dst, &CLIENT6));
    ck_assert_uint_eq(s.seq, 4294967295u);
    ck_assert_uint_eq(s.ack, 3112279262u);
    ck_assert_uint_eq(s.flags, TW_SYN | TW_ACK);
    ck_assert_uint_eq(s.window, 65483);
    ck_assert_uint_eq(s.ttl, 64);
    ck_assert_uint_eq(s.opt.has, TW_HAS_MSS | TW_HAS_UNKNOWN | TW_HAS_EOL);
    ck_assert_uint_eq(s.opt.mss, 1460);
    ck_assert_uint_eq(s.opt.raw_len, 12);
}
END_TEST

START_TEST(test_parse_data_segment_points_payload_into_buffer)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(DATA4, sizeof(DATA4), VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.seq, 4294967293u);
    ck_assert_uint_eq(s.flags, TW_PSH | TW_ACK);
    ck_assert_uint_eq(s.payload_len, 5);
    ck_assert_ptr_eq(s.payload, DATA4 + 40);
    ck_assert_mem_eq(s.payload, "hello", 5);
    ck_assert_uint_eq(s.opt.raw_len, 0);
    ck_assert_uint_eq(s.opt.has, 0);
    /* SEG.LEN wraps with the sequence space: the last byte is seq 1. */
    ck_assert_uint_eq(s.seq + tw_segment_len(&s), 2u);
}
END_TEST

START_TEST(test_parse_ipv6_behind_destination_options_header)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(DSTOPT6, sizeof(DSTOPT6), VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.sport, 56742);
    ck_assert_uint_eq(s.dport, 12345);
    ck_assert_uint_eq(s.seq, 1000);
    ck_assert_uint_eq(s.flags, TW_SYN);
}
END_TEST

START_TEST(test_parse_ignores_trailing_ethernet_padding)
{
    struct pkt p = COPY(RST4);
    struct tw_segment s;

    p.len += 6; /* 40-byte RST in a 60-byte Ethernet frame: 6 pad bytes */
    memset(p.b + sizeof(RST4), 0xee, 6);
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.payload_len, 0);
}
END_TEST

START_TEST(test_parse_keeps_reserved_bits)
{
    struct pkt p = COPY(RST4);
    struct tw_segment s;

    p.b[32] |= 0x0f;
    tw_test_fix_tcp_checksum(p.b, 20, 20);
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.reserved, 15);
    ck_assert_uint_eq(s.flags, TW_RST | TW_ACK);
}
END_TEST

START_TEST(test_parse_reads_ttl_and_hop_limit)
{
    struct pkt p = COPY(RST4);
    struct tw_segment s;

    p.b[8] = 3;
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.ttl, 3);
    p = COPY(SYNACK6);
    p.b[7] = 255;
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.ttl, 255);
}
END_TEST

START_TEST(test_parse_without_verify_flag_accepts_bad_checksums)
{
    struct pkt p = COPY(SYN4);

    p.b[10] ^= 0xff; /* IP header checksum */
    p.b[36] ^= 0xff; /* TCP checksum */
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_OK);
}
END_TEST

START_TEST(test_parse_accepts_ffff_for_a_zero_checksum)
{
    /* Ones-complement: 0xffff and 0x0000 both mean zero. Find a segment
     * whose checksum computes to 0 by choosing the window, then send
     * 0xffff in its place. */
    struct tw_segment s = SEG(.flags = TW_SYN, .seq = 1);
    uint8_t out[64];
    size_t n;
    enum tw_parse_err err;
    uint16_t c;

    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_uint_eq(n, 40);
    c = (uint16_t)(out[36] << 8 | out[37]);
    /* Raising the window by c lowers the complemented checksum by c. */
    s.window = c;
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_uint_eq((unsigned)(out[36] << 8 | out[37]), 0);
    out[36] = out[37] = 0xff;
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY, &s), TW_PARSE_OK);
}
END_TEST

/* -------------------------------------------------------------- rejection */

START_TEST(test_parse_rejects_empty_buffer_as_truncated_ip)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYN4, 0, 0, &s), TW_PARSE_TRUNCATED_IP);
    ck_assert_int_eq(tw_segment_parse(NULL, 0, 0, &s), TW_PARSE_TRUNCATED_IP);
}
END_TEST

START_TEST(test_parse_rejects_ipv4_header_shorter_than_20_bytes)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYN4, 19, 0, &s), TW_PARSE_TRUNCATED_IP);
}
END_TEST

START_TEST(test_parse_rejects_ipv6_header_shorter_than_40_bytes)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYNACK6, 39, 0, &s), TW_PARSE_TRUNCATED_IP);
}
END_TEST

START_TEST(test_parse_rejects_ip_version_5)
{
    struct pkt p = COPY(SYN4);

    p.b[0] = 0x55;
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_BAD_IP_VERSION);
}
END_TEST

START_TEST(test_parse_rejects_ihl_below_five)
{
    struct pkt p = COPY(SYN4);

    p.b[0] = 0x44;
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_BAD_IHL);
}
END_TEST

START_TEST(test_parse_rejects_ihl_past_the_buffer)
{
    struct pkt p = COPY(SYN4);

    p.b[0] = 0x4f; /* 60 bytes of IP header in a 30-byte buffer */
    p.len = 30;
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_BAD_IHL);
}
END_TEST

START_TEST(test_parse_rejects_total_length_past_the_buffer)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYN4, sizeof(SYN4) - 1, 0, &s), TW_PARSE_BAD_IP_LENGTH);
}
END_TEST

START_TEST(test_parse_rejects_total_length_below_header_length)
{
    struct pkt p = COPY(SYN4);

    p.b[2] = 0;
    p.b[3] = 19;
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_BAD_IP_LENGTH);
}
END_TEST

START_TEST(test_parse_rejects_ipv6_payload_length_past_the_buffer)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(SYNACK6, sizeof(SYNACK6) - 1, 0, &s),
                     TW_PARSE_BAD_IP_LENGTH);
}
END_TEST

START_TEST(test_parse_rejects_bad_ipv4_header_checksum)
{
    struct pkt p = COPY(SYN4);

    p.b[11] ^= 0x01;
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_BAD_IP_CHECKSUM);
}
END_TEST

START_TEST(test_parse_rejects_ipv4_first_fragment_with_more_fragments)
{
    struct pkt p = COPY(SYN4);

    p.b[6] = 0x20; /* MF, offset 0 */
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_FRAGMENT);
}
END_TEST

START_TEST(test_parse_rejects_ipv4_fragment_with_offset)
{
    struct pkt p = COPY(SYN4);

    p.b[6] = 0x00;
    p.b[7] = 0x01; /* offset 8, last fragment */
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_FRAGMENT);
}
END_TEST

START_TEST(test_parse_rejects_ipv6_fragment_header)
{
    struct pkt p = COPY(DSTOPT6);

    p.b[6] = 44; /* the 8-byte extension header becomes a fragment header */
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_FRAGMENT);
}
END_TEST

START_TEST(test_parse_rejects_truncated_extension_header)
{
    struct pkt p = COPY(DSTOPT6);

    p.b[41] = 5; /* claims 48 bytes, 28 in the payload */
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_BAD_EXT_HEADER);
}
END_TEST

START_TEST(test_parse_rejects_hop_by_hop_after_another_extension_header)
{
    /* fixed header -> destination options -> hop-by-hop -> TCP */
    struct pkt p = COPY(DSTOPT6);
    static const uint8_t hbh[8] = {6, 0, 1, 4, 0, 0, 0, 0};

    memmove(p.b + 56, p.b + 48, 20);
    memcpy(p.b + 48, hbh, 8);
    p.b[40] = 0;
    p.b[5] += 8;
    p.len += 8;
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_BAD_EXT_HEADER);
    /* The same chain with hop-by-hop first is fine. */
    p.b[6] = 0;
    p.b[40] = 60;
    p.b[48] = 6;
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_OK);
}
END_TEST

START_TEST(test_parse_rejects_udp_as_not_tcp)
{
    struct pkt p = COPY(SYN4);

    p.b[9] = 17;
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_NOT_TCP);
}
END_TEST

START_TEST(test_parse_rejects_ipv6_no_next_header_as_not_tcp)
{
    struct pkt p = COPY(DSTOPT6);

    p.b[40] = 59;
    ck_assert_int_eq(parse_pkt(&p, 0), TW_PARSE_NOT_TCP);
}
END_TEST

START_TEST(test_parse_rejects_tcp_header_shorter_than_20_bytes)
{
    struct pkt p = COPY(RST4);

    p.b[3] = 39;
    p.len = 39;
    tw_test_fix_ip4_checksum(p.b);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_TRUNCATED_TCP);
}
END_TEST

START_TEST(test_parse_rejects_data_offset_below_five)
{
    struct pkt p = COPY(RST4);

    p.b[32] = 0x40;
    tw_test_fix_tcp_checksum(p.b, 20, 20);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_BAD_DATA_OFFSET);
}
END_TEST

START_TEST(test_parse_rejects_data_offset_past_the_segment)
{
    struct pkt p = COPY(RST4);

    p.b[32] = 0x60; /* 24-byte header in a 20-byte segment */
    tw_test_fix_tcp_checksum(p.b, 20, 20);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_BAD_DATA_OFFSET);
}
END_TEST

START_TEST(test_parse_strict_rejects_option_length_zero)
{
    struct pkt p = COPY(SYN4);
    struct tw_segment s;

    p.b[45] = 0; /* sackOK's length byte */
    tw_test_fix_tcp_checksum(p.b, 20, 40);
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY | STRICT, &s),
                     TW_PARSE_BAD_OPTION_LENGTH);
}
END_TEST

START_TEST(test_parse_lenient_stops_options_at_bad_length_and_keeps_raw)
{
    struct pkt p = COPY(SYN4);
    struct tw_segment s;

    p.b[45] = 0;
    tw_test_fix_tcp_checksum(p.b, 20, 40);
    ck_assert_int_eq(tw_segment_parse(p.b, p.len, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.opt.has, TW_HAS_MSS); /* what came before stays */
    ck_assert_uint_eq(s.opt.mss, 1460);
    ck_assert_uint_eq(s.opt.raw_len, 20);
    ck_assert_mem_eq(s.opt.raw, p.b + 40, 20);
}
END_TEST

START_TEST(test_parse_strict_rejects_known_option_with_wrong_length)
{
    /* options [mss 1460,wscale [len 4]]: the WS has a valid length byte
     * that is not 3 */
    struct tw_segment t = SEG(.flags = TW_SYN);
    struct tw_segment s;
    uint8_t out[64];
    enum tw_parse_err err;
    size_t n;

    t.opt.raw_len = 8;
    memcpy(t.opt.raw, "\x02\x04\x05\xb4\x03\x04\x07\x00", 8);
    n = tw_segment_build(&t, out, sizeof(out), &err);
    ck_assert_uint_eq(n, 48);
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY | STRICT, &s), TW_PARSE_BAD_OPTION_VALUE);
    /* Lenient: the segment parses and the WS is not marked present. */
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.opt.has, TW_HAS_MSS);
}
END_TEST

START_TEST(test_parse_rejects_bad_tcp_checksum)
{
    struct pkt p = COPY(SYN4);

    p.b[37] ^= 0x01;
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_BAD_CHECKSUM);
}
END_TEST

START_TEST(test_parse_rejects_payload_longer_than_max)
{
    struct pkt p = COPY(RST4);
    size_t tcp_len = 20 + TW_MAX_PAYLOAD + 1;

    p.len = 20 + tcp_len;
    p.b[2] = (uint8_t)(p.len >> 8);
    p.b[3] = (uint8_t)p.len;
    tw_test_fix_ip4_checksum(p.b);
    tw_test_fix_tcp_checksum(p.b, 20, tcp_len);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_PAYLOAD_TOO_LONG);
    /* One byte less is accepted. */
    p.len--;
    p.b[2] = (uint8_t)(p.len >> 8);
    p.b[3] = (uint8_t)p.len;
    tw_test_fix_ip4_checksum(p.b);
    tw_test_fix_tcp_checksum(p.b, 20, tcp_len - 1);
    ck_assert_int_eq(parse_pkt(&p, VERIFY), TW_PARSE_OK);
}
END_TEST

START_TEST(test_parse_never_reads_past_any_prefix)
{
    /* Every prefix of every vector fails cleanly or parses (ASan watches). */
    const struct {
        const uint8_t *b;
        size_t n;
    } v[] = {{SYN4, sizeof(SYN4)},       {SYNACK6, sizeof(SYNACK6)}, {DATA4, sizeof(DATA4)},
             {DSTOPT6, sizeof(DSTOPT6)}, {RST4, sizeof(RST4)}};
    size_t i, n;

    for (i = 0; i < TW_ARRAY_LEN(v); i++) {
        for (n = 0; n < v[i].n; n++) {
            uint8_t *heap = malloc(n ? n : 1);
            struct tw_segment s;
            ck_assert_ptr_nonnull(heap);
            memcpy(heap, v[i].b, n);
            ck_assert_int_ne(tw_segment_parse(heap, n, VERIFY | STRICT, &s), TW_PARSE_OK);
            free(heap);
        }
    }
}
END_TEST

/* ------------------------------------------------------------ round trips */

START_TEST(test_build_reproduces_ipv4_syn_bytes)
{
    assert_bytes_round_trip(SYN4, sizeof(SYN4));
}
END_TEST

START_TEST(test_build_reproduces_ipv6_synack_bytes_with_unknown_option)
{
    assert_bytes_round_trip(SYNACK6, sizeof(SYNACK6));
}
END_TEST

START_TEST(test_build_reproduces_data_and_rst_bytes)
{
    assert_bytes_round_trip(DATA4, sizeof(DATA4));
    assert_bytes_round_trip(RST4, sizeof(RST4));
}
END_TEST

START_TEST(test_build_reproduces_tcp_part_behind_extension_header)
{
    /* The struct keeps no extension headers: the TCP bytes are exact. */
    struct tw_segment s;
    uint8_t out[128];
    enum tw_parse_err err;
    size_t n;

    ck_assert_int_eq(tw_segment_parse(DSTOPT6, sizeof(DSTOPT6), VERIFY, &s), TW_PARSE_OK);
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_bytes_eq(out + 40, n - 40, DSTOPT6 + 48, sizeof(DSTOPT6) - 48);
}
END_TEST

START_TEST(test_parse_of_build_gives_back_ipv4_fields)
{
    static const uint8_t data[] = "GET / HTTP/1.0\r\n";
    struct tw_segment s = SEG(.seq = 4294967290u, .ack = 17, .flags = TW_PSH | TW_ACK | TW_URG,
                              .window = 1024, .urgent = 3, .ttl = 7, .reserved = 1,
                              .payload = data, .payload_len = 16);

    s.opt.has = TW_HAS_TS;
    s.opt.ts_val = 0xfffffffe;
    s.opt.ts_ecr = 0x80000000;
    tw_options_encode(&s.opt);
    assert_struct_round_trip(&s);
}
END_TEST

START_TEST(test_parse_of_build_gives_back_ipv6_fields)
{
    struct tw_segment s = SEG(.src = CLIENT6, .dst = SERVER6, .seq = 0xffffffffu,
                              .flags = TW_SYN | TW_ECE | TW_CWR, .window = 65535);

    s.opt.has = TW_HAS_MSS | TW_HAS_SACKOK | TW_HAS_TS | TW_HAS_WSCALE;
    s.opt.mss = 1440;
    s.opt.wscale = 14;
    s.opt.ts_val = 1;
    tw_options_encode(&s.opt);
    assert_struct_round_trip(&s);
}
END_TEST

START_TEST(test_parse_of_build_round_trips_every_flag_combination)
{
    unsigned f;

    for (f = 0; f < 256; f++) {
        struct tw_segment s = SEG(.flags = (uint8_t)f, .seq = f * 0x01010101u, .ack = ~f);
        assert_struct_round_trip(&s);
    }
}
END_TEST

START_TEST(test_build_keeps_unknown_option_and_odd_alignment_raw)
{
    /* nop, mss 1460, eol, then zeros: "options [nop,mss 1460,eol]" */
    struct tw_segment s = SEG(.flags = TW_SYN, .window = 100);
    struct tw_segment back;
    uint8_t out[128];
    enum tw_parse_err err;
    size_t n;

    memcpy(s.opt.raw, "\x01\x02\x04\x05\xb4\x00\x00\x00\xfd\x03\x01\x00", 12);
    s.opt.raw_len = 12;
    tw_options_parse(s.opt.raw, s.opt.raw_len, &s.opt);
    ck_assert_uint_eq(s.opt.has, TW_HAS_MSS | TW_HAS_EOL); /* nothing after EOL */
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_uint_eq(n, 52);
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY | STRICT, &back), TW_PARSE_OK);
    assert_segments_equal(&back, &s);
}
END_TEST

START_TEST(test_build_pads_options_to_a_word_with_zeros)
{
    struct tw_segment s = SEG(.flags = TW_SYN);
    uint8_t out[128];
    enum tw_parse_err err;
    size_t n;

    memset(out, 0xaa, sizeof(out));
    memcpy(s.opt.raw, "\x01\x02\x04\x05\xb4", 5);
    s.opt.raw_len = 5;
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_int_eq(err, TW_PARSE_OK);
    ck_assert_uint_eq(n, 48);
    ck_assert_uint_eq(out[32] >> 4, 7);
    ck_assert_uint_eq(out[45], 0);
    ck_assert_uint_eq(out[46], 0);
    ck_assert_uint_eq(out[47], 0);
}
END_TEST

START_TEST(test_build_writes_ttl_64_df_and_zero_id_by_default)
{
    struct tw_segment s = SEG(.flags = TW_SYN);
    uint8_t out[64];
    enum tw_parse_err err;

    ck_assert_uint_eq(tw_segment_build(&s, out, sizeof(out), &err), 40);
    ck_assert_uint_eq(out[8], 64);
    ck_assert_uint_eq(out[6], 0x40);
    ck_assert_uint_eq(out[4] | out[5], 0);
    s = SEG(.src = CLIENT6, .dst = SERVER6);
    ck_assert_uint_eq(tw_segment_build(&s, out, sizeof(out), &err), 60);
    ck_assert_uint_eq(out[7], 64);
}
END_TEST

START_TEST(test_build_writes_zero_payload_when_pointer_is_null)
{
    struct tw_segment s = SEG(.flags = TW_ACK, .payload_len = 10);
    uint8_t out[128];
    enum tw_parse_err err;
    size_t n, i;

    memset(out, 0xaa, sizeof(out));
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_uint_eq(n, 50);
    for (i = 40; i < 50; i++)
        ck_assert_uint_eq(out[i], 0);
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY, &s), TW_PARSE_OK);
}
END_TEST

START_TEST(test_build_rejects_buffer_one_byte_short)
{
    struct tw_segment s = SEG(.flags = TW_SYN);
    uint8_t out[40];
    enum tw_parse_err err = TW_PARSE_OK;

    ck_assert_uint_eq(tw_segment_build(&s, out, 39, &err), 0);
    ck_assert_int_eq(err, TW_PARSE_NO_SPACE);
    ck_assert_uint_eq(tw_segment_build(&s, out, 40, &err), 40);
}
END_TEST

START_TEST(test_build_rejects_unset_or_mixed_address_families)
{
    struct tw_segment s = SEG(.flags = TW_SYN);
    uint8_t out[64];
    enum tw_parse_err err = TW_PARSE_OK;

    s.src.family = 0;
    ck_assert_uint_eq(tw_segment_build(&s, out, sizeof(out), &err), 0);
    ck_assert_int_eq(err, TW_PARSE_BAD_ADDRESS);
    s = SEG(.dst = SERVER6);
    err = TW_PARSE_OK;
    ck_assert_uint_eq(tw_segment_build(&s, out, sizeof(out), &err), 0);
    ck_assert_int_eq(err, TW_PARSE_BAD_ADDRESS);
}
END_TEST

START_TEST(test_build_rejects_options_longer_than_40_bytes)
{
    struct tw_segment s = SEG(.flags = TW_SYN);
    uint8_t out[128];
    enum tw_parse_err err = TW_PARSE_OK;

    s.opt.raw_len = 41;
    ck_assert_uint_eq(tw_segment_build(&s, out, sizeof(out), &err), 0);
    ck_assert_int_eq(err, TW_PARSE_BAD_OPTION_LENGTH);
}
END_TEST

START_TEST(test_build_raw_writes_the_given_bad_checksum)
{
    struct tw_segment s = SEG(.flags = TW_SYN, .checksum = 0xbeef);
    uint8_t out[64];
    enum tw_parse_err err;
    size_t n = tw_segment_build_raw(&s, out, sizeof(out), &err);

    ck_assert_uint_eq(n, 40);
    ck_assert_uint_eq(out[36], 0xbe);
    ck_assert_uint_eq(out[37], 0xef);
    ck_assert_int_eq(tw_segment_parse(out, n, VERIFY, &s), TW_PARSE_BAD_CHECKSUM);
    ck_assert_int_eq(tw_segment_parse(out, n, 0, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.checksum, 0xbeef);
}
END_TEST

/* -------------------------------------------------------------- checksums */

START_TEST(test_csum_matches_rfc1071_worked_example)
{
    /* RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2. */
    static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};

    ck_assert_uint_eq(tw_csum_fold(tw_csum_add(0, b, sizeof(b))), 0xddf2);
}
END_TEST

START_TEST(test_csum_pads_odd_length_with_zero)
{
    static const uint8_t b[] = {0x12, 0x34, 0x56};

    ck_assert_uint_eq(tw_csum_fold(tw_csum_add(0, b, 3)), 0x1234 + 0x5600);
    ck_assert_uint_eq(tw_csum_fold(tw_csum_add(0xffff, b, 0)), 0xffff);
}
END_TEST

START_TEST(test_csum_folds_carries_of_a_long_buffer)
{
    static uint8_t ff[70000];

    memset(ff, 0xff, sizeof(ff));
    ck_assert_uint_eq(tw_csum_fold(tw_csum_add(0, ff, sizeof(ff))), 0xffff);
}
END_TEST

START_TEST(test_tcp_checksum_matches_known_good_value)
{
    /* tcpdump -v: "cksum 0x8ef2 (correct)" for SYN4; 0x3495 for SYNACK6. */
    struct tw_addr s6 = SERVER6, c6 = CLIENT6, c4 = CLIENT4, s4 = SERVER4;

    ck_assert_uint_eq(tw_tcp_checksum(&c4, &s4, SYN4 + 20, sizeof(SYN4) - 20), 0x8ef2);
    ck_assert_uint_eq(tw_tcp_checksum(&s6, &c6, SYNACK6 + 40, sizeof(SYNACK6) - 40), 0x3495);
}
END_TEST

START_TEST(test_sum_over_built_packet_including_checksum_is_ffff)
{
    struct tw_segment s = SEG(.flags = TW_SYN, .seq = 12345, .window = 29200);
    struct tw_addr c4 = CLIENT4, s4 = SERVER4;
    uint8_t out[128];
    enum tw_parse_err err;
    size_t n;
    uint32_t sum;

    s.opt.has = TW_HAS_MSS;
    s.opt.mss = 1460;
    tw_options_encode(&s.opt);
    n = tw_segment_build(&s, out, sizeof(out), &err);
    ck_assert_uint_eq(tw_csum_fold(tw_csum_add(0, out, 20)), 0xffff); /* IPv4 header */
    /* pseudo-header by hand: src, dst, 0, 6, tcp length */
    sum = tw_csum_add(0, out + 12, 8);
    sum += 6 + (uint32_t)(n - 20);
    sum = tw_csum_add(sum, out + 20, n - 20);
    ck_assert_uint_eq(tw_csum_fold(sum), 0xffff);
    ck_assert_uint_eq(tw_tcp_checksum(&c4, &s4, out + 20, n - 20),
                      (unsigned)(out[36] << 8 | out[37]));
}
END_TEST

START_TEST(test_ipv6_checksum_behind_dstopts_uses_next_header_6)
{
    struct tw_addr c6 = CLIENT6, s6 = SERVER6;

    ck_assert_uint_eq(tw_tcp_checksum(&c6, &s6, DSTOPT6 + 48, 20), 0x42a6);
    ck_assert_int_eq(tw_segment_parse(DSTOPT6, sizeof(DSTOPT6), VERIFY, &(struct tw_segment){0}),
                     TW_PARSE_OK);
}
END_TEST

START_TEST(test_ipv6_checksum_computed_with_next_header_60_is_rejected)
{
    struct tw_segment s;

    ck_assert_int_eq(tw_segment_parse(DSTOPT6_NH60, sizeof(DSTOPT6_NH60), VERIFY, &s),
                     TW_PARSE_BAD_CHECKSUM);
}
END_TEST

/* ---------------------------------------------------------------- options */

START_TEST(test_options_length_zero_is_bad_length)
{
    static const uint8_t raw[] = {0x02, 0x04, 0x05, 0xb4, 0xfd, 0x00, 0x01, 0x03};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_LENGTH);
    ck_assert_uint_eq(o.has, TW_HAS_MSS);
    ck_assert_uint_eq(o.raw_len, sizeof(raw));
}
END_TEST

START_TEST(test_options_length_one_is_bad_length)
{
    static const uint8_t raw[] = {0x01, 0x03, 0x01, 0x07};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_LENGTH);
    ck_assert_uint_eq(o.has, 0);
}
END_TEST

START_TEST(test_options_length_past_the_end_is_bad_length)
{
    static const uint8_t raw[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x01};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_LENGTH);
    ck_assert_uint_eq(o.has, 0);
}
END_TEST

START_TEST(test_options_kind_without_room_for_length_is_bad_length)
{
    static const uint8_t raw[] = {0x01, 0x01, 0x01, 0x02};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_LENGTH);
}
END_TEST

START_TEST(test_options_longer_than_40_bytes_is_bad_length)
{
    uint8_t raw[44];
    struct tw_options o;

    memset(raw, TW_OPT_NOP, sizeof(raw));
    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_LENGTH);
    ck_assert_uint_eq(o.raw_len, 40);
}
END_TEST

START_TEST(test_options_eol_stops_decoding_and_is_flagged)
{
    static const uint8_t raw[] = {0x01, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x00, 0x00};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_OK);
    ck_assert_uint_eq(o.has, TW_HAS_EOL);
    ck_assert_uint_eq(o.mss, 0);
}
END_TEST

START_TEST(test_options_known_kind_with_wrong_length_is_skipped_unmarked)
{
    /* mss with length 3, then a good wscale: the wscale still counts */
    static const uint8_t raw[] = {0x02, 0x03, 0x05, 0x01, 0x03, 0x03, 0x07, 0x00};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_BAD_OPTION_VALUE);
    ck_assert_uint_eq(o.has, TW_HAS_WSCALE | TW_HAS_EOL);
    ck_assert_uint_eq(o.mss, 0);
    ck_assert_uint_eq(o.wscale, 7);
}
END_TEST

START_TEST(test_options_each_known_kind_rejects_every_other_length)
{
    const uint8_t kinds[] = {TW_OPT_MSS, TW_OPT_WSCALE, TW_OPT_SACKOK, TW_OPT_TS};
    const uint8_t good[] = {4, 3, 2, 10};
    uint8_t raw[40];
    size_t k, len;

    memset(raw, 0, sizeof(raw));
    for (k = 0; k < TW_ARRAY_LEN(kinds); k++) {
        for (len = 2; len <= 40; len++) {
            struct tw_options o;
            enum tw_parse_err want = len == good[k] ? TW_PARSE_OK : TW_PARSE_BAD_OPTION_VALUE;
            raw[0] = kinds[k];
            raw[1] = (uint8_t)len;
            ck_assert_int_eq(tw_options_parse(raw, len, &o), want);
            ck_assert_uint_eq(o.has != 0, len == good[k]);
        }
    }
}
END_TEST

START_TEST(test_options_sack_accepts_one_to_four_blocks)
{
    uint8_t raw[40];
    size_t len;

    memset(raw, 0, sizeof(raw));
    raw[0] = TW_OPT_SACK;
    for (len = 2; len <= 40; len++) {
        struct tw_options o;
        bool ok = len == 10 || len == 18 || len == 26 || len == 34;
        raw[1] = (uint8_t)len;
        ck_assert_int_eq(tw_options_parse(raw, len, &o),
                         ok ? TW_PARSE_OK : TW_PARSE_BAD_OPTION_VALUE);
        ck_assert_uint_eq((o.has & TW_HAS_SACK) != 0, ok);
    }
}
END_TEST

START_TEST(test_options_unknown_kind_is_skipped_and_flagged)
{
    static const uint8_t raw[] = {0xfe, 0x06, 0xf9, 0x89, 0x00, 0x00,
                                  0x02, 0x04, 0x02, 0x18, 0x01, 0x01};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_OK);
    ck_assert_uint_eq(o.has, TW_HAS_UNKNOWN | TW_HAS_MSS);
    ck_assert_uint_eq(o.mss, 536);
    ck_assert_mem_eq(o.raw, raw, sizeof(raw));
}
END_TEST

START_TEST(test_options_later_duplicate_overrides_earlier)
{
    static const uint8_t raw[] = {0x02, 0x04, 0x05, 0xb4, 0x02, 0x04, 0x02, 0x18};
    struct tw_options o;

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_OK);
    ck_assert_uint_eq(o.mss, 536);
}
END_TEST

START_TEST(test_encode_puts_sackok_and_ts_in_one_word_linux_order)
{
    /* "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7": SYN4's options */
    struct tw_options o = {.has = TW_HAS_WSCALE | TW_HAS_TS | TW_HAS_SACKOK | TW_HAS_MSS,
                           .mss = 1460, .wscale = 7, .ts_val = 100};

    tw_options_encode(&o);
    ck_assert_bytes_eq(o.raw, o.raw_len, SYN4 + 40, 20);
}
END_TEST

START_TEST(test_encode_ts_alone_behind_two_nops)
{
    static const uint8_t want[] = {0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x05,
                                   0x00, 0x00, 0x00, 0x06};
    struct tw_options o = {.has = TW_HAS_TS, .ts_val = 5, .ts_ecr = 6};

    tw_options_encode(&o);
    ck_assert_bytes_eq(o.raw, o.raw_len, want, sizeof(want));
}
END_TEST

START_TEST(test_encode_sackok_alone_before_wscale)
{
    /* "mss 1460,nop,nop,sackOK,nop,wscale 7" (Linux with timestamps off) */
    static const uint8_t want[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02,
                                   0x01, 0x03, 0x03, 0x07};
    struct tw_options o = {.has = TW_HAS_MSS | TW_HAS_SACKOK | TW_HAS_WSCALE, .mss = 1460,
                           .wscale = 7};

    tw_options_encode(&o);
    ck_assert_bytes_eq(o.raw, o.raw_len, want, sizeof(want));
}
END_TEST

START_TEST(test_encode_nothing_gives_no_options)
{
    struct tw_options o = {.raw_len = 8};

    memset(o.raw, 0xaa, sizeof(o.raw));
    tw_options_encode(&o);
    ck_assert_uint_eq(o.raw_len, 0);
    ck_assert_uint_eq(o.raw[0], 0);
}
END_TEST

START_TEST(test_encode_drops_unknown_and_sack_so_parse_agrees)
{
    struct tw_options o = {.has = TW_HAS_MSS | TW_HAS_UNKNOWN | TW_HAS_SACK | TW_HAS_EOL,
                           .mss = 9000};
    struct tw_options back;

    tw_options_encode(&o);
    ck_assert_uint_eq(o.has, TW_HAS_MSS);
    ck_assert_uint_eq(o.raw_len, 4);
    ck_assert_int_eq(tw_options_parse(o.raw, o.raw_len, &back), TW_PARSE_OK);
    ck_assert_uint_eq(back.has, o.has);
    ck_assert_uint_eq(back.mss, 9000);
}
END_TEST

START_TEST(test_encode_then_parse_round_trips_every_option_set)
{
    unsigned has;

    for (has = 0; has < 16; has++) {
        struct tw_options o = {.has = (uint8_t)has, .mss = 1200, .wscale = 3,
                               .ts_val = 0xfffffff0u, .ts_ecr = 9};
        struct tw_options back;

        tw_options_encode(&o);
        ck_assert_uint_eq(o.raw_len % 4, 0);
        ck_assert_int_eq(tw_options_parse(o.raw, o.raw_len, &back), TW_PARSE_OK);
        ck_assert_uint_eq(back.has, has);
        if (has & TW_HAS_MSS)
            ck_assert_uint_eq(back.mss, 1200);
        if (has & TW_HAS_WSCALE)
            ck_assert_uint_eq(back.wscale, 3);
        if (has & TW_HAS_TS)
            ck_assert_uint_eq(back.ts_val, 0xfffffff0u);
    }
}
END_TEST

/* ------------------------------------------------------------------- ICMP */

START_TEST(test_icmp_classify_ipv4_table)
{
    const struct {
        uint8_t type, code;
        enum tw_icmp_class cls;
    } rows[] = {
        {3, 0, TW_ICMP_SOFT},   {3, 1, TW_ICMP_SOFT},   {3, 2, TW_ICMP_HARD},
        {3, 3, TW_ICMP_HARD},   {3, 4, TW_ICMP_PMTU},   {3, 5, TW_ICMP_SOFT},
        {3, 6, TW_ICMP_SOFT},   {3, 7, TW_ICMP_SOFT},   {3, 8, TW_ICMP_SOFT},
        {3, 9, TW_ICMP_ADMIN},  {3, 10, TW_ICMP_ADMIN}, {3, 11, TW_ICMP_SOFT},
        {3, 12, TW_ICMP_SOFT},  {3, 13, TW_ICMP_ADMIN}, {4, 0, TW_ICMP_QUENCH},
        {11, 0, TW_ICMP_SOFT},  {11, 1, TW_ICMP_SOFT},  {12, 0, TW_ICMP_SOFT},
    };
    size_t i;

    for (i = 0; i < TW_ARRAY_LEN(rows); i++) {
        enum tw_icmp_class cls = TW_ICMP_QUENCH;
        ck_assert_msg(tw_icmp_classify(4, rows[i].type, rows[i].code, &cls), "row %zu", i);
        ck_assert_msg(cls == rows[i].cls, "type %u code %u: expected %d, got %d",
                      rows[i].type, rows[i].code, rows[i].cls, cls);
    }
}
END_TEST

START_TEST(test_icmp_classify_ipv6_table)
{
    const struct {
        uint8_t type, code;
        enum tw_icmp_class cls;
    } rows[] = {
        {1, 0, TW_ICMP_SOFT}, {1, 1, TW_ICMP_ADMIN}, {1, 3, TW_ICMP_SOFT},
        {1, 4, TW_ICMP_HARD}, {2, 0, TW_ICMP_PMTU},  {3, 0, TW_ICMP_SOFT},
        {3, 1, TW_ICMP_SOFT}, {4, 0, TW_ICMP_SOFT},  {4, 1, TW_ICMP_SOFT},
    };
    size_t i;

    for (i = 0; i < TW_ARRAY_LEN(rows); i++) {
        enum tw_icmp_class cls = TW_ICMP_QUENCH;
        ck_assert_msg(tw_icmp_classify(6, rows[i].type, rows[i].code, &cls), "row %zu", i);
        ck_assert_int_eq(cls, rows[i].cls);
    }
}
END_TEST

START_TEST(test_icmp_classify_rejects_informational_types)
{
    enum tw_icmp_class cls;

    ck_assert(!tw_icmp_classify(4, 0, 0, &cls)); /* echo reply */
    ck_assert(!tw_icmp_classify(4, 8, 0, &cls)); /* echo request */
    ck_assert(!tw_icmp_classify(4, 5, 0, &cls)); /* redirect */
    ck_assert(!tw_icmp_classify(6, 128, 0, &cls));
    ck_assert(!tw_icmp_classify(6, 135, 0, &cls));
    ck_assert(!tw_icmp_classify(5, 3, 3, &cls));
}
END_TEST

START_TEST(test_icmp_parse_ipv4_port_unreachable)
{
    struct tw_icmp ic;

    ck_assert_int_eq(tw_icmp_parse(ICMP4_PORT, sizeof(ICMP4_PORT), VERIFY, &ic), TW_PARSE_OK);
    ck_assert_uint_eq(ic.family, 4);
    ck_assert_uint_eq(ic.type, 3);
    ck_assert_uint_eq(ic.code, 3);
    ck_assert_int_eq(ic.cls, TW_ICMP_HARD);
    ck_assert_uint_eq(ic.mtu, 0);
    ck_assert(tw_addr_equal(&ic.src, &SERVER4));
    ck_assert(tw_addr_equal(&ic.dst, &CLIENT4));
    ck_assert(tw_addr_equal(&ic.q_src, &CLIENT4));
    ck_assert(tw_addr_equal(&ic.q_dst, &SERVER4));
    ck_assert_uint_eq(ic.q_sport, 56742);
    ck_assert_uint_eq(ic.q_dport, 12345);
    ck_assert_uint_eq(ic.q_seq, 3112279261u);
}
END_TEST

START_TEST(test_icmp_parse_ipv6_packet_too_big_reads_mtu)
{
    struct tw_icmp ic;

    ck_assert_int_eq(tw_icmp_parse(ICMP6_PTB, sizeof(ICMP6_PTB), VERIFY, &ic), TW_PARSE_OK);
    ck_assert_uint_eq(ic.family, 6);
    ck_assert_int_eq(ic.cls, TW_ICMP_PMTU);
    ck_assert_uint_eq(ic.mtu, 1280);
    ck_assert(tw_addr_equal(&ic.q_src, &SERVER6));
    ck_assert_uint_eq(ic.q_sport, 12345);
    ck_assert_uint_eq(ic.q_seq, 4294967295u);
}
END_TEST

START_TEST(test_icmp_build_reproduces_known_bytes)
{
    struct tw_icmp ic = {.family = 4, .type = 3, .code = 3, .src = SERVER4, .dst = CLIENT4};
    uint8_t out[600];
    enum tw_parse_err err;
    size_t n = tw_icmp_build(&ic, SYN4, sizeof(SYN4), out, sizeof(out), &err);

    ck_assert_bytes_eq(out, n, ICMP4_PORT, sizeof(ICMP4_PORT));
    ic = (struct tw_icmp){.family = 6, .type = 2, .mtu = 1280, .src = ADDR6(0xff),
                          .dst = SERVER6};
    n = tw_icmp_build(&ic, SYNACK6, sizeof(SYNACK6), out, sizeof(out), &err);
    ck_assert_bytes_eq(out, n, ICMP6_PTB, sizeof(ICMP6_PTB));
}
END_TEST

/* Builds an ICMP error quoting `quoted` and parses it back. */
static enum tw_parse_err icmp_round_trip(struct tw_icmp ic, const uint8_t *quoted, size_t qlen,
                                         struct tw_icmp *out)
{
    uint8_t buf[1400];
    enum tw_parse_err err;
    size_t n = tw_icmp_build(&ic, quoted, qlen, buf, sizeof(buf), &err);

    ck_assert_int_eq(err, TW_PARSE_OK);
    return tw_icmp_parse(buf, n, VERIFY, out);
}

START_TEST(test_icmp_parse_ipv4_frag_needed_reads_next_hop_mtu)
{
    struct tw_icmp ic;

    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 4, .type = 3, .code = 4,
                                                      .mtu = 1400, .src = ADDR4(203, 0, 113, 1),
                                                      .dst = SERVER4},
                                     DATA4, sizeof(DATA4), &ic),
                     TW_PARSE_OK);
    ck_assert_int_eq(ic.cls, TW_ICMP_PMTU);
    ck_assert_uint_eq(ic.mtu, 1400);
    ck_assert_uint_eq(ic.q_seq, 4294967293u);
}
END_TEST

START_TEST(test_icmp_parse_ipv6_port_unreachable_is_hard)
{
    struct tw_icmp ic;

    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 6, .type = 1, .code = 4,
                                                      .src = CLIENT6, .dst = SERVER6},
                                     SYNACK6, sizeof(SYNACK6), &ic),
                     TW_PARSE_OK);
    ck_assert_int_eq(ic.cls, TW_ICMP_HARD);
    ck_assert_uint_eq(ic.mtu, 0);
    ck_assert_uint_eq(ic.q_dport, 56742);
}
END_TEST

START_TEST(test_icmp_parse_time_exceeded_with_minimal_quote)
{
    struct tw_icmp ic;

    /* RFC 792's minimum: the IP header and 8 bytes of TCP. */
    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 4, .type = 11,
                                                      .src = ADDR4(203, 0, 113, 1),
                                                      .dst = CLIENT4},
                                     SYN4, 28, &ic),
                     TW_PARSE_OK);
    ck_assert_int_eq(ic.cls, TW_ICMP_SOFT);
    ck_assert_uint_eq(ic.q_seq, 3112279261u);
}
END_TEST

START_TEST(test_icmp_parse_ipv6_quote_behind_extension_header)
{
    struct tw_icmp ic;

    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 6, .type = 3,
                                                      .src = SERVER6, .dst = CLIENT6},
                                     DSTOPT6, 56, &ic),
                     TW_PARSE_OK);
    ck_assert_uint_eq(ic.q_seq, 1000);
}
END_TEST

START_TEST(test_icmp_parse_rejects_quote_with_fewer_than_8_tcp_bytes)
{
    struct tw_icmp ic;
    struct tw_icmp v4 = {.family = 4, .type = 3, .code = 1, .src = SERVER4, .dst = CLIENT4};
    struct tw_icmp v6 = {.family = 6, .type = 1, .code = 4, .src = CLIENT6, .dst = SERVER6};

    ck_assert_int_eq(icmp_round_trip(v4, SYN4, 27, &ic), TW_PARSE_TRUNCATED_QUOTE);
    ck_assert_int_eq(icmp_round_trip(v4, SYN4, 10, &ic), TW_PARSE_TRUNCATED_QUOTE);
    ck_assert_int_eq(icmp_round_trip(v4, SYN4, 0, &ic), TW_PARSE_TRUNCATED_QUOTE);
    ck_assert_int_eq(icmp_round_trip(v6, SYNACK6, 47, &ic), TW_PARSE_TRUNCATED_QUOTE);
    ck_assert_int_eq(icmp_round_trip(v6, DSTOPT6, 44, &ic), TW_PARSE_TRUNCATED_QUOTE);
}
END_TEST

START_TEST(test_icmp_parse_rejects_quote_that_is_not_tcp)
{
    struct tw_icmp ic;
    struct pkt q = COPY(SYN4);

    q.b[9] = 17;
    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 4, .type = 3, .code = 3,
                                                      .src = SERVER4, .dst = CLIENT4},
                                     q.b, q.len, &ic),
                     TW_PARSE_NOT_ICMP_ERROR);
    /* an ICMPv4 error quoting an IPv6 packet is not one TCP can use */
    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 4, .type = 3, .code = 3,
                                                      .src = SERVER4, .dst = CLIENT4},
                                     SYNACK6, sizeof(SYNACK6), &ic),
                     TW_PARSE_NOT_ICMP_ERROR);
}
END_TEST

START_TEST(test_icmp_parse_rejects_echo_and_tcp_packets)
{
    struct tw_icmp ic;

    ck_assert_int_eq(icmp_round_trip((struct tw_icmp){.family = 4, .type = 8, .src = SERVER4,
                                                      .dst = CLIENT4},
                                     SYN4, sizeof(SYN4), &ic),
                     TW_PARSE_NOT_ICMP_ERROR);
    ck_assert_int_eq(tw_icmp_parse(SYN4, sizeof(SYN4), VERIFY, &ic), TW_PARSE_NOT_ICMP_ERROR);
}
END_TEST

START_TEST(test_icmp_parse_rejects_bad_icmp_checksums)
{
    struct pkt p = COPY(ICMP4_PORT);
    struct tw_icmp ic;

    p.b[23] ^= 1;
    ck_assert_int_eq(tw_icmp_parse(p.b, p.len, VERIFY, &ic), TW_PARSE_BAD_CHECKSUM);
    ck_assert_int_eq(tw_icmp_parse(p.b, p.len, 0, &ic), TW_PARSE_OK);
    /* ICMPv6 covers the pseudo-header: changing the source breaks it */
    p = COPY(ICMP6_PTB);
    p.b[23] = 0xfe;
    ck_assert_int_eq(tw_icmp_parse(p.b, p.len, VERIFY, &ic), TW_PARSE_BAD_CHECKSUM);
}
END_TEST

START_TEST(test_icmp_build_caps_quote_at_576_and_1280_bytes)
{
    static uint8_t big[1500];
    uint8_t out[1500];
    struct tw_icmp ic;
    enum tw_parse_err err;
    size_t n;

    memcpy(big, SYN4, sizeof(SYN4));
    ic = (struct tw_icmp){.family = 4, .type = 11, .src = SERVER4, .dst = CLIENT4};
    n = tw_icmp_build(&ic, big, sizeof(big), out, sizeof(out), &err);
    ck_assert_uint_eq(n, 576);
    memcpy(big, SYNACK6, sizeof(SYNACK6));
    ic = (struct tw_icmp){.family = 6, .type = 3, .src = SERVER6, .dst = CLIENT6};
    n = tw_icmp_build(&ic, big, sizeof(big), out, sizeof(out), &err);
    ck_assert_uint_eq(n, 1280);
    ck_assert_int_eq(tw_icmp_parse(out, n, VERIFY, &ic), TW_PARSE_OK);
}
END_TEST

START_TEST(test_icmp_build_rejects_bad_address_and_small_buffer)
{
    struct tw_icmp ic = {.family = 4, .type = 3, .code = 3, .src = SERVER4, .dst = CLIENT6};
    uint8_t out[64];
    enum tw_parse_err err = TW_PARSE_OK;

    ck_assert_uint_eq(tw_icmp_build(&ic, SYN4, 28, out, sizeof(out), &err), 0);
    ck_assert_int_eq(err, TW_PARSE_BAD_ADDRESS);
    ic.dst = CLIENT4;
    ck_assert_uint_eq(tw_icmp_build(&ic, SYN4, 28, out, 55, &err), 0);
    ck_assert_int_eq(err, TW_PARSE_NO_SPACE);
    ck_assert_uint_eq(tw_icmp_build(&ic, SYN4, 28, out, 56, &err), 56);
}
END_TEST

START_TEST(test_icmp_parse_never_reads_past_any_prefix)
{
    size_t n;

    for (n = 0; n < sizeof(ICMP6_PTB); n++) {
        uint8_t *heap = malloc(n ? n : 1);
        struct tw_icmp ic;
        ck_assert_ptr_nonnull(heap);
        memcpy(heap, ICMP6_PTB, n);
        ck_assert_int_ne(tw_icmp_parse(heap, n, VERIFY, &ic), TW_PARSE_OK);
        free(heap);
    }
}
END_TEST

/* -------------------------------------------------------------- rendering */

static void assert_renders(const uint8_t *bytes, size_t len, const char *want)
{
    struct tw_segment s;
    char text[256];
    int n;

    ck_assert_int_eq(tw_segment_parse(bytes, len, 0, &s), TW_PARSE_OK);
    n = tw_segment_render(&s, text, sizeof(text));
    ck_assert_str_eq(text, want);
    ck_assert_int_eq(n, (int)strlen(want));
}

START_TEST(test_render_ipv4_syn_like_tcpdump)
{
    assert_renders(SYN4, sizeof(SYN4),
                   "198.51.100.1.56742 > 198.51.100.2.12345: Flags [S], seq 3112279261, "
                   "win 65535, options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], "
                   "length 0");
}
END_TEST

START_TEST(test_render_ipv6_synack_with_unknown_option_like_tcpdump)
{
    assert_renders(SYNACK6, sizeof(SYNACK6),
                   "2001:db8::2.12345 > 2001:db8::1.56742: Flags [S.], seq 4294967295, "
                   "ack 3112279262, win 65483, options [nop,mss 1460,unknown-253 0xabcd,eol], "
                   "length 0");
}
END_TEST

START_TEST(test_render_data_shows_seq_range_across_the_wrap)
{
    assert_renders(DATA4, sizeof(DATA4),
                   "198.51.100.2.12345 > 198.51.100.1.56742: Flags [P.], seq 4294967293:2, "
                   "ack 3112279262, win 502, length 5");
}
END_TEST

START_TEST(test_render_rst_ack)
{
    assert_renders(RST4, sizeof(RST4),
                   "198.51.100.2.12345 > 198.51.100.1.56742: Flags [R.], seq 0, "
                   "ack 3112279262, win 0, length 0");
}
END_TEST

START_TEST(test_render_ipv6_behind_extension_header)
{
    assert_renders(DSTOPT6, sizeof(DSTOPT6),
                   "2001:db8::1.56742 > 2001:db8::2.12345: Flags [S], seq 1000, win 65535, "
                   "length 0");
}
END_TEST

START_TEST(test_render_all_flags_in_tcpdump_order_with_urg)
{
    /* tcpdump: "Flags [FSRP.UEW], seq 10, ack 20, win 100, urg 7, length 0" */
    struct tw_segment s = SEG(.src = ADDR4(198, 51, 100, 1), .sport = 1, .dport = 2,
                              .flags = 0xff, .seq = 10, .ack = 20, .window = 100, .urgent = 7);
    char text[200];

    tw_segment_render(&s, text, sizeof(text));
    ck_assert_str_eq(text, "198.51.100.1.1 > 198.51.100.2.2: Flags [FSRP.UEW], seq 10, "
                           "ack 20, win 100, urg 7, length 0");
}
END_TEST

START_TEST(test_render_no_flags_as_none_and_ae_as_e)
{
    struct tw_segment s = SEG(.sport = 1, .dport = 2, .seq = 10, .window = 100);
    char text[200];

    tw_segment_render(&s, text, sizeof(text));
    ck_assert_str_eq(text, "198.51.100.1.1 > 198.51.100.2.2: Flags [none], seq 10, win 100, "
                           "length 0");
    s.flags = TW_SYN;
    s.reserved = 1;
    tw_segment_render(&s, text, sizeof(text));
    ck_assert_str_eq(text, "198.51.100.1.1 > 198.51.100.2.2: Flags [Se], seq 10, win 100, "
                           "length 0");
}
END_TEST

START_TEST(test_render_sack_blocks)
{
    /* tcpdump: "options [nop,nop,sack 2 {100:200}{256:300}]" */
    static const uint8_t raw[] = {0x01, 0x01, 0x05, 0x12, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
                                  0x00, 0xc8, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x2c};
    struct tw_options o;
    char text[100];

    ck_assert_int_eq(tw_options_parse(raw, sizeof(raw), &o), TW_PARSE_OK);
    ck_assert_int_eq(tw_options_render(&o, text, sizeof(text)),
                     (int)strlen("nop,nop,sack 2 {100:200}{256:300}"));
    ck_assert_str_eq(text, "nop,nop,sack 2 {100:200}{256:300}");
}
END_TEST

START_TEST(test_render_malformed_options)
{
    struct tw_options o;
    char text[100];

    tw_options_parse((const uint8_t *)"\x02\x04\x05\xb4\x02\x00\x00\x00", 8, &o);
    tw_options_render(&o, text, sizeof(text));
    ck_assert_str_eq(text, "mss 1460,[bad opt]");
    tw_options_parse((const uint8_t *)"\x03\x04\x07\x00", 4, &o);
    tw_options_render(&o, text, sizeof(text));
    ck_assert_str_eq(text, "wscale [len 4]");
    tw_options_parse((const uint8_t *)"\xfe\x02\x00\x00", 4, &o);
    tw_options_render(&o, text, sizeof(text));
    ck_assert_str_eq(text, "unknown-254,eol");
}
END_TEST

START_TEST(test_render_truncates_but_reports_full_length)
{
    struct tw_segment s;
    char small[16], big[256];
    int n;

    ck_assert_int_eq(tw_segment_parse(SYN4, sizeof(SYN4), 0, &s), TW_PARSE_OK);
    n = tw_segment_render(&s, small, sizeof(small));
    ck_assert_int_eq(n, tw_segment_render(&s, big, sizeof(big)));
    ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
    ck_assert_int_eq(strncmp(small, big, sizeof(small) - 1), 0);
    ck_assert_int_eq(tw_segment_render(&s, NULL, 0), n);
}
END_TEST

START_TEST(test_flags_render_short_forms)
{
    char text[16];

    tw_flags_render(TW_SYN | TW_ACK, text, sizeof(text));
    ck_assert_str_eq(text, "S.");
    tw_flags_render(TW_ACK, text, sizeof(text));
    ck_assert_str_eq(text, ".");
    tw_flags_render(TW_FIN | TW_ACK, text, sizeof(text));
    ck_assert_str_eq(text, "F.");
    tw_flags_render(TW_RST, text, sizeof(text));
    ck_assert_str_eq(text, "R");
    ck_assert_int_eq(tw_flags_render(0, text, sizeof(text)), 4);
    ck_assert_str_eq(text, "none");
}
END_TEST

START_TEST(test_addr_render_and_parse)
{
    struct tw_addr a, b;
    char text[64];

    ck_assert(tw_addr_parse("2001:db8:0:0:0:0:0:1", &a));
    ck_assert_uint_eq(a.family, 6);
    ck_assert(tw_addr_equal(&a, &CLIENT6));
    tw_addr_render(&a, text, sizeof(text));
    ck_assert_str_eq(text, "2001:db8::1");
    ck_assert(tw_addr_parse("198.51.100.2", &b));
    ck_assert(tw_addr_equal(&b, &SERVER4));
    ck_assert(!tw_addr_equal(&a, &b));
    ck_assert(!tw_addr_parse("198.51.100.256", &b));
    ck_assert(!tw_addr_parse("", &b));
    ck_assert(!tw_addr_parse("2001:db8::1::2", &b));
    a.family = 0;
    tw_addr_render(&a, text, sizeof(text));
    ck_assert_str_eq(text, "?");
}
END_TEST

START_TEST(test_parse_errors_have_names_and_descriptions)
{
    int e;

    ck_assert_str_eq(tw_parse_errname(TW_PARSE_BAD_DATA_OFFSET), "BAD_DATA_OFFSET");
    ck_assert_str_eq(tw_parse_strerror(TW_PARSE_OK), "ok");
    for (e = 0; e < TW_PARSE__COUNT; e++) {
        ck_assert_ptr_nonnull(tw_parse_errname((enum tw_parse_err)e));
        ck_assert_str_ne(tw_parse_strerror((enum tw_parse_err)e), "unknown parse error");
    }
    ck_assert_str_eq(tw_parse_errname(TW_PARSE__COUNT), "UNKNOWN");
}
END_TEST

/* ------------------------------------------------------------------ suite */

static Suite *codec_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *parse = tcase_create("parse");
    TCase *reject = tcase_create("reject");
    TCase *trip = tcase_create("round-trip");
    TCase *csum = tcase_create("checksum");
    TCase *opts = tcase_create("options");
    TCase *icmp = tcase_create("icmp");
    TCase *render = tcase_create("render");

    tcase_add_test(parse, test_parse_ipv4_syn_decodes_every_field);
    tcase_add_test(parse, test_parse_ipv6_synack_with_unknown_option_at_odd_alignment);
    tcase_add_test(parse, test_parse_data_segment_points_payload_into_buffer);
    tcase_add_test(parse, test_parse_ipv6_behind_destination_options_header);
    tcase_add_test(parse, test_parse_ignores_trailing_ethernet_padding);
    tcase_add_test(parse, test_parse_keeps_reserved_bits);
    tcase_add_test(parse, test_parse_reads_ttl_and_hop_limit);
    tcase_add_test(parse, test_parse_without_verify_flag_accepts_bad_checksums);
    tcase_add_test(parse, test_parse_accepts_ffff_for_a_zero_checksum);
    suite_add_tcase(s, parse);

    tcase_add_test(reject, test_parse_rejects_empty_buffer_as_truncated_ip);
    tcase_add_test(reject, test_parse_rejects_ipv4_header_shorter_than_20_bytes);
    tcase_add_test(reject, test_parse_rejects_ipv6_header_shorter_than_40_bytes);
    tcase_add_test(reject, test_parse_rejects_ip_version_5);
    tcase_add_test(reject, test_parse_rejects_ihl_below_five);
    tcase_add_test(reject, test_parse_rejects_ihl_past_the_buffer);
    tcase_add_test(reject, test_parse_rejects_total_length_past_the_buffer);
    tcase_add_test(reject, test_parse_rejects_total_length_below_header_length);
    tcase_add_test(reject, test_parse_rejects_ipv6_payload_length_past_the_buffer);
    tcase_add_test(reject, test_parse_rejects_bad_ipv4_header_checksum);
    tcase_add_test(reject, test_parse_rejects_ipv4_first_fragment_with_more_fragments);
    tcase_add_test(reject, test_parse_rejects_ipv4_fragment_with_offset);
    tcase_add_test(reject, test_parse_rejects_ipv6_fragment_header);
    tcase_add_test(reject, test_parse_rejects_truncated_extension_header);
    tcase_add_test(reject, test_parse_rejects_hop_by_hop_after_another_extension_header);
    tcase_add_test(reject, test_parse_rejects_udp_as_not_tcp);
    tcase_add_test(reject, test_parse_rejects_ipv6_no_next_header_as_not_tcp);
    tcase_add_test(reject, test_parse_rejects_tcp_header_shorter_than_20_bytes);
    tcase_add_test(reject, test_parse_rejects_data_offset_below_five);
    tcase_add_test(reject, test_parse_rejects_data_offset_past_the_segment);
    tcase_add_test(reject, test_parse_strict_rejects_option_length_zero);
    tcase_add_test(reject, test_parse_lenient_stops_options_at_bad_length_and_keeps_raw);
    tcase_add_test(reject, test_parse_strict_rejects_known_option_with_wrong_length);
    tcase_add_test(reject, test_parse_rejects_bad_tcp_checksum);
    tcase_add_test(reject, test_parse_rejects_payload_longer_than_max);
    tcase_add_test(reject, test_parse_never_reads_past_any_prefix);
    suite_add_tcase(s, reject);

    tcase_add_test(trip, test_build_reproduces_ipv4_syn_bytes);
    tcase_add_test(trip, test_build_reproduces_ipv6_synack_bytes_with_unknown_option);
    tcase_add_test(trip, test_build_reproduces_data_and_rst_bytes);
    tcase_add_test(trip, test_build_reproduces_tcp_part_behind_extension_header);
    tcase_add_test(trip, test_parse_of_build_gives_back_ipv4_fields);
    tcase_add_test(trip, test_parse_of_build_gives_back_ipv6_fields);
    tcase_add_test(trip, test_parse_of_build_round_trips_every_flag_combination);
    tcase_add_test(trip, test_build_keeps_unknown_option_and_odd_alignment_raw);
    tcase_add_test(trip, test_build_pads_options_to_a_word_with_zeros);
    tcase_add_test(trip, test_build_writes_ttl_64_df_and_zero_id_by_default);
    tcase_add_test(trip, test_build_writes_zero_payload_when_pointer_is_null);
    tcase_add_test(trip, test_build_rejects_buffer_one_byte_short);
    tcase_add_test(trip, test_build_rejects_unset_or_mixed_address_families);
    tcase_add_test(trip, test_build_rejects_options_longer_than_40_bytes);
    tcase_add_test(trip, test_build_raw_writes_the_given_bad_checksum);
    suite_add_tcase(s, trip);

    tcase_add_test(csum, test_csum_matches_rfc1071_worked_example);
    tcase_add_test(csum, test_csum_pads_odd_length_with_zero);
    tcase_add_test(csum, test_csum_folds_carries_of_a_long_buffer);
    tcase_add_test(csum, test_tcp_checksum_matches_known_good_value);
    tcase_add_test(csum, test_sum_over_built_packet_including_checksum_is_ffff);
    tcase_add_test(csum, test_ipv6_checksum_behind_dstopts_uses_next_header_6);
    tcase_add_test(csum, test_ipv6_checksum_computed_with_next_header_60_is_rejected);
    suite_add_tcase(s, csum);

    tcase_add_test(opts, test_options_length_zero_is_bad_length);
    tcase_add_test(opts, test_options_length_one_is_bad_length);
    tcase_add_test(opts, test_options_length_past_the_end_is_bad_length);
    tcase_add_test(opts, test_options_kind_without_room_for_length_is_bad_length);
    tcase_add_test(opts, test_options_longer_than_40_bytes_is_bad_length);
    tcase_add_test(opts, test_options_eol_stops_decoding_and_is_flagged);
    tcase_add_test(opts, test_options_known_kind_with_wrong_length_is_skipped_unmarked);
    tcase_add_test(opts, test_options_each_known_kind_rejects_every_other_length);
    tcase_add_test(opts, test_options_sack_accepts_one_to_four_blocks);
    tcase_add_test(opts, test_options_unknown_kind_is_skipped_and_flagged);
    tcase_add_test(opts, test_options_later_duplicate_overrides_earlier);
    tcase_add_test(opts, test_encode_puts_sackok_and_ts_in_one_word_linux_order);
    tcase_add_test(opts, test_encode_ts_alone_behind_two_nops);
    tcase_add_test(opts, test_encode_sackok_alone_before_wscale);
    tcase_add_test(opts, test_encode_nothing_gives_no_options);
    tcase_add_test(opts, test_encode_drops_unknown_and_sack_so_parse_agrees);
    tcase_add_test(opts, test_encode_then_parse_round_trips_every_option_set);
    suite_add_tcase(s, opts);

    tcase_add_test(icmp, test_icmp_classify_ipv4_table);
    tcase_add_test(icmp, test_icmp_classify_ipv6_table);
    tcase_add_test(icmp, test_icmp_classify_rejects_informational_types);
    tcase_add_test(icmp, test_icmp_parse_ipv4_port_unreachable);
    tcase_add_test(icmp, test_icmp_parse_ipv6_packet_too_big_reads_mtu);
    tcase_add_test(icmp, test_icmp_build_reproduces_known_bytes);
    tcase_add_test(icmp, test_icmp_parse_ipv4_frag_needed_reads_next_hop_mtu);
    tcase_add_test(icmp, test_icmp_parse_ipv6_port_unreachable_is_hard);
    tcase_add_test(icmp, test_icmp_parse_time_exceeded_with_minimal_quote);
    tcase_add_test(icmp, test_icmp_parse_ipv6_quote_behind_extension_header);
    tcase_add_test(icmp, test_icmp_parse_rejects_quote_with_fewer_than_8_tcp_bytes);
    tcase_add_test(icmp, test_icmp_parse_rejects_quote_that_is_not_tcp);
    tcase_add_test(icmp, test_icmp_parse_rejects_echo_and_tcp_packets);
    tcase_add_test(icmp, test_icmp_parse_rejects_bad_icmp_checksums);
    tcase_add_test(icmp, test_icmp_build_caps_quote_at_576_and_1280_bytes);
    tcase_add_test(icmp, test_icmp_build_rejects_bad_address_and_small_buffer);
    tcase_add_test(icmp, test_icmp_parse_never_reads_past_any_prefix);
    suite_add_tcase(s, icmp);

    tcase_add_test(render, test_render_ipv4_syn_like_tcpdump);
    tcase_add_test(render, test_render_ipv6_synack_with_unknown_option_like_tcpdump);
    tcase_add_test(render, test_render_data_shows_seq_range_across_the_wrap);
    tcase_add_test(render, test_render_rst_ack);
    tcase_add_test(render, test_render_ipv6_behind_extension_header);
    tcase_add_test(render, test_render_all_flags_in_tcpdump_order_with_urg);
    tcase_add_test(render, test_render_no_flags_as_none_and_ae_as_e);
    tcase_add_test(render, test_render_sack_blocks);
    tcase_add_test(render, test_render_malformed_options);
    tcase_add_test(render, test_render_truncates_but_reports_full_length);
    tcase_add_test(render, test_flags_render_short_forms);
    tcase_add_test(render, test_addr_render_and_parse);
    tcase_add_test(render, test_parse_errors_have_names_and_descriptions);
    suite_add_tcase(s, render);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(codec_suite());
    int failures;

    srunner_run_all(sr, CK_NORMAL);
    failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures != 0;
}

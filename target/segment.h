/* The segment codec: IPv4/IPv6 + TCP bytes <-> a plain value struct.
 *
 * Two levels, as smoltcp does it: tw_segment_parse() checks the bytes and
 * fills a struct tw_segment; tw_segment_build() writes one back, computing
 * lengths and checksums. Options are kept as their raw bytes (so a segment
 * with unknown or oddly aligned options round-trips byte for byte) and
 * decoded into fields (MSS, window scale, SACK-permitted, timestamps).
 * Pure functions: no I/O, no heap, no globals. */
#ifndef TW_SEGMENT_H
#define TW_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* TCP control bits, as laid out in byte 13 of the header. */
enum {
    TW_FIN = 0x01,
    TW_SYN = 0x02,
    TW_RST = 0x04,
    TW_PSH = 0x08,
    TW_ACK = 0x10,
    TW_URG = 0x20,
    TW_ECE = 0x40,
    TW_CWR = 0x80,
};

#define TW_TCP_MAX_OPTLEN 40
#define TW_MAX_PAYLOAD 1500

struct tw_addr {
    uint8_t family; /* 4 or 6; 0 = unset */
    uint8_t bytes[16]; /* IPv4 uses the first 4 */
};

/* Option kinds (RFC 9293 3.2, RFC 7323, RFC 2018). */
enum {
    TW_OPT_EOL = 0,
    TW_OPT_NOP = 1,
    TW_OPT_MSS = 2,
    TW_OPT_WSCALE = 3,
    TW_OPT_SACKOK = 4,
    TW_OPT_SACK = 5,
    TW_OPT_TS = 8,
};

/* Which decoded options were present. */
enum {
    TW_HAS_MSS = 0x01,
    TW_HAS_WSCALE = 0x02,
    TW_HAS_SACKOK = 0x04,
    TW_HAS_TS = 0x08,
    TW_HAS_SACK = 0x10,
    TW_HAS_UNKNOWN = 0x20, /* at least one option of another kind */
    TW_HAS_EOL = 0x40,
};

struct tw_options {
    uint8_t has; /* TW_HAS_* */
    uint8_t wscale; /* the shift as sent, not clamped */
    uint16_t mss;
    uint32_t ts_val, ts_ecr;
    uint8_t raw_len; /* bytes of options in raw[], a multiple of 4 on the wire */
    uint8_t raw[TW_TCP_MAX_OPTLEN];
};

struct tw_segment {
    struct tw_addr src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags; /* TW_FIN.. TW_CWR */
    uint8_t reserved; /* the 4 reserved bits (incl. AE), 0..15 */
    uint16_t window;
    uint16_t urgent;
    uint16_t checksum; /* as parsed, or as computed by build */
    uint8_t ttl; /* IPv4 TTL or IPv6 hop limit; 0 means 64 on build */
    uint16_t payload_len;
    const uint8_t *payload; /* may be NULL: built as zero bytes */
    struct tw_options opt;
};

/* SEG.LEN: payload plus one for SYN and one for FIN (RFC 9293 3.4). */
static inline uint32_t tw_segment_len(const struct tw_segment *s)
{
    return (uint32_t)s->payload_len + ((s->flags & TW_SYN) ? 1u : 0u) +
           ((s->flags & TW_FIN) ? 1u : 0u);
}

/* Every reason a frame is rejected. X(name, description). */
#define TW_PARSE_ERRORS(X)                                                    \
    X(OK, "ok")                                                               \
    X(TRUNCATED_IP, "truncated IP header")                                    \
    X(BAD_IP_VERSION, "IP version is neither 4 nor 6")                       \
    X(BAD_IHL, "IPv4 header length below 20 bytes or past the packet")        \
    X(BAD_IP_LENGTH, "IP total or payload length disagrees with the frame")   \
    X(BAD_IP_CHECKSUM, "bad IPv4 header checksum")                            \
    X(FRAGMENT, "IP fragment (not reassembled)")                              \
    X(BAD_EXT_HEADER, "truncated or malformed IPv6 extension header")         \
    X(NOT_TCP, "not a TCP segment")                                           \
    X(TRUNCATED_TCP, "truncated TCP header")                                  \
    X(BAD_DATA_OFFSET, "TCP data offset below 5 or past the segment")         \
    X(BAD_OPTION_LENGTH, "TCP option length below 2 or past the header")      \
    X(BAD_OPTION_VALUE, "known TCP option with the wrong length")             \
    X(BAD_CHECKSUM, "bad TCP checksum")                                       \
    X(PAYLOAD_TOO_LONG, "payload longer than TW_MAX_PAYLOAD")                 \
    X(NOT_ICMP_ERROR, "not an ICMP error that quotes TCP")                    \
    X(TRUNCATED_QUOTE, "ICMP error quotes fewer than 8 bytes of TCP")         \
    X(NO_SPACE, "output buffer too small")                                    \
    X(BAD_ADDRESS, "address family unset or mixed")

enum tw_parse_err {
#define TW_X_ENUM(name, desc) TW_PARSE_##name,
    TW_PARSE_ERRORS(TW_X_ENUM)
#undef TW_X_ENUM
        TW_PARSE__COUNT
};

const char *tw_parse_strerror(enum tw_parse_err err);
const char *tw_parse_errname(enum tw_parse_err err);

enum {
    TW_PARSE_VERIFY_CHECKSUM = 0x1, /* reject a bad TCP (and IPv4 header) checksum */
    TW_PARSE_STRICT_OPTIONS = 0x2, /* reject malformed options instead of stopping there */
};

/* Parse an IP packet (starting at the IP header) holding a TCP segment.
 * out->payload points into buf. On failure *out is unspecified. */
enum tw_parse_err tw_segment_parse(const uint8_t *buf, size_t len, unsigned flags,
                                   struct tw_segment *out);

/* Parse TCP options from raw bytes into opt's fields (raw bytes copied).
 * Without TW_PARSE_STRICT_OPTIONS, a malformed option ends option processing
 * (what is before it stays) and the return is still the error, so the caller
 * can tell. HS-GEN-06. */
enum tw_parse_err tw_options_parse(const uint8_t *raw, size_t len, struct tw_options *opt);

/* Build the raw option bytes from the fields (has/mss/wscale/ts_*), in the
 * order Linux uses (MSS, SACK-permitted, TS, NOP, WS), padded to 4 bytes.
 * Replaces raw[]. */
void tw_options_encode(struct tw_options *opt);

/* Write the IP packet for s into buf. Computes lengths and both checksums
 * (s->checksum is ignored; use tw_segment_build_raw to inject a bad one).
 * Returns the packet length, or 0 with *err set. */
size_t tw_segment_build(const struct tw_segment *s, uint8_t *buf, size_t cap,
                        enum tw_parse_err *err);

/* As tw_segment_build, but the TCP checksum field is s->checksum verbatim
 * (the IPv4 header checksum is still computed): to inject a bad checksum. */
size_t tw_segment_build_raw(const struct tw_segment *s, uint8_t *buf, size_t cap,
                            enum tw_parse_err *err);

/* TCP checksum over the pseudo-header (RFC 9293 3.1; IPv6 uses upper-layer
 * length and next header 6, HS-GEN-02) for a TCP header+payload. */
uint16_t tw_tcp_checksum(const struct tw_addr *src, const struct tw_addr *dst,
                         const uint8_t *tcp, size_t tcp_len);

/* Internet checksum (RFC 1071) of a buffer, folded, not complemented. */
uint32_t tw_csum_add(uint32_t sum, const uint8_t *buf, size_t len);
uint16_t tw_csum_fold(uint32_t sum);

/* ICMP / ICMPv6 errors that quote a TCP header. */
enum tw_icmp_class {
    TW_ICMP_SOFT, /* net/host unreachable, source route failed, time exceeded, param problem */
    TW_ICMP_HARD, /* protocol / port unreachable (RFC 1122 4.2.3.9, SHLD-26) */
    TW_ICMP_PMTU, /* fragmentation needed / packet too big */
    TW_ICMP_QUENCH, /* source quench: dropped (MUST-55) */
    TW_ICMP_ADMIN, /* administratively prohibited (RFC 5461: soft for TCP) */
};

struct tw_icmp {
    uint8_t family; /* 4 or 6 */
    uint8_t type, code;
    uint32_t mtu; /* frag-needed next-hop MTU / packet-too-big MTU */
    enum tw_icmp_class cls;
    struct tw_addr src, dst; /* of the ICMP packet itself */
    /* the quoted segment, as the stack sent it: */
    struct tw_addr q_src, q_dst;
    uint16_t q_sport, q_dport;
    uint32_t q_seq;
};

/* Classify an ICMP (family 4) or ICMPv6 (family 6) type/code; false if it is
 * not an error TCP acts on. */
bool tw_icmp_classify(uint8_t family, uint8_t type, uint8_t code, enum tw_icmp_class *out);

/* The ICMPv6 error that plays the role of an ICMPv4 type/code (as scripts
 * name errors the ICMPv4 way); false if there is none (source quench). */
bool tw_icmp_v4_to_v6(uint8_t type, uint8_t code, uint8_t *type6, uint8_t *code6);

/* Parse an IP packet holding an ICMP/ICMPv6 error that quotes a TCP header. */
enum tw_parse_err tw_icmp_parse(const uint8_t *buf, size_t len, unsigned flags,
                                struct tw_icmp *out);

/* Build an ICMP error quoting the first bytes of `quoted` (an IP packet as
 * the stack sent it). src/dst/type/code/mtu come from ic. */
size_t tw_icmp_build(const struct tw_icmp *ic, const uint8_t *quoted, size_t quoted_len,
                     uint8_t *buf, size_t cap, enum tw_parse_err *err);

/* tcpdump-style one line, e.g.
 * "198.51.100.1.56742 > 198.51.100.2.12345: Flags [S], seq 3112279261, win 65535,
 *  options [mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7], length 0".
 * Always NUL-terminates; returns what snprintf would. */
int tw_segment_render(const struct tw_segment *s, char *buf, size_t cap);
int tw_addr_render(const struct tw_addr *a, char *buf, size_t cap);
int tw_options_render(const struct tw_options *o, char *buf, size_t cap);
int tw_flags_render(uint8_t flags, char *buf, size_t cap); /* "S.", "R", "none" */
bool tw_addr_equal(const struct tw_addr *a, const struct tw_addr *b);
bool tw_addr_parse(const char *text, struct tw_addr *out); /* dotted quad or IPv6 text */

#endif

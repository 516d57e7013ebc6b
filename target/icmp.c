/* ICMP and ICMPv6 errors that quote a TCP segment: classify, parse, build. */
#include <string.h>

#include "segment.h"
#include "wire.h"

/* RFC 792 / RFC 4443 limits on what an error quotes: an ICMPv4 error fits
 * in 576 bytes (RFC 1812 4.3.2.3), an ICMPv6 error in the IPv6 minimum MTU
 * (RFC 4443 2.4(c)). */
#define TW_ICMP4_MAX_QUOTE (576u - TW_IPV4_HDR_LEN - TW_ICMP_HDR_LEN)
#define TW_ICMP6_MAX_QUOTE (1280u - TW_IPV6_HDR_LEN - TW_ICMP_HDR_LEN)

enum {
    ICMP4_DEST_UNREACH = 3,
    ICMP4_SOURCE_QUENCH = 4,
    ICMP4_TIME_EXCEEDED = 11,
    ICMP4_PARAM_PROBLEM = 12,
    ICMP4_FRAG_NEEDED = 4, /* code of DEST_UNREACH */
    ICMP6_DEST_UNREACH = 1,
    ICMP6_PACKET_TOO_BIG = 2,
    ICMP6_TIME_EXCEEDED = 3,
    ICMP6_PARAM_PROBLEM = 4,
};

static bool classify4(uint8_t type, uint8_t code, enum tw_icmp_class *out)
{
    switch (type) {
    case ICMP4_DEST_UNREACH:
        switch (code) {
        case 2: /* protocol unreachable */
        case 3: /* port unreachable: RFC 1122 4.2.3.9, hard */
            *out = TW_ICMP_HARD;
            return true;
        case ICMP4_FRAG_NEEDED:
            *out = TW_ICMP_PMTU;
            return true;
        case 9: /* net administratively prohibited (RFC 1122) */
        case 10: /* host administratively prohibited */
        case 13: /* communication administratively prohibited (RFC 1812) */
            *out = TW_ICMP_ADMIN;
            return true;
        case 0: /* net, host, source route failed: RFC 1122 4.2.3.9, soft */
        case 1:
        case 5:
        case 6: /* destination network / host unknown, source host isolated */
        case 7:
        case 8:
        case 11: /* net / host unreachable for TOS */
        case 12:
        case 14: /* host precedence violation, precedence cutoff (RFC 1812):
                  * not listed by RFC 1122, so a hint only, like the rest */
        case 15:
            *out = TW_ICMP_SOFT;
            return true;
        default:
            return false;
        }
    case ICMP4_SOURCE_QUENCH: /* RFC 6633: ignored (MUST-55) */
        *out = TW_ICMP_QUENCH;
        return true;
    case ICMP4_TIME_EXCEEDED:
    case ICMP4_PARAM_PROBLEM:
        *out = TW_ICMP_SOFT;
        return true;
    default:
        return false;
    }
}

static bool classify6(uint8_t type, uint8_t code, enum tw_icmp_class *out)
{
    switch (type) {
    case ICMP6_DEST_UNREACH:
        if (code == 4) /* port unreachable */
            *out = TW_ICMP_HARD;
        else if (code == 1) /* administratively prohibited */
            *out = TW_ICMP_ADMIN;
        else
            *out = TW_ICMP_SOFT;
        return true;
    case ICMP6_PACKET_TOO_BIG:
        *out = TW_ICMP_PMTU;
        return true;
    case ICMP6_TIME_EXCEEDED:
    case ICMP6_PARAM_PROBLEM:
        *out = TW_ICMP_SOFT;
        return true;
    default:
        return false;
    }
}

bool tw_icmp_classify(uint8_t family, uint8_t type, uint8_t code, enum tw_icmp_class *out)
{
    enum tw_icmp_class cls = TW_ICMP_SOFT;
    bool known;

    if (family == 4)
        known = classify4(type, code, &cls);
    else if (family == 6)
        known = classify6(type, code, &cls);
    else
        known = false;
    if (known && out)
        *out = cls;
    return known;
}

/* The quoted packet: an IP header as the stack sent it, then at least the
 * first 8 bytes of TCP (ports and sequence number, RFC 792). The quote is
 * truncated by design, so its length fields are not checked against it. */
static enum tw_parse_err quote_parse(uint8_t family, const uint8_t *q, size_t len,
                                     struct tw_icmp *out)
{
    const uint8_t *tcp;
    size_t tcp_avail;
    struct tw_cursor c;

    if (len < 1)
        return TW_PARSE_TRUNCATED_QUOTE;
    if ((q[0] >> 4) != family)
        return TW_PARSE_NOT_ICMP_ERROR;
    if (family == 4) {
        size_t ihl;

        if (len < TW_IPV4_HDR_LEN)
            return TW_PARSE_TRUNCATED_QUOTE;
        ihl = (size_t)(q[0] & 0x0f) * 4;
        if (ihl < TW_IPV4_HDR_LEN)
            return TW_PARSE_BAD_IHL;
        if (ihl > len)
            return TW_PARSE_TRUNCATED_QUOTE;
        if (tw_get16(q + 6) & 0x1fff) /* a later fragment holds no TCP header */
            return TW_PARSE_FRAGMENT;
        if (q[9] != TW_IPPROTO_TCP)
            return TW_PARSE_NOT_ICMP_ERROR;
        out->q_src.family = out->q_dst.family = 4;
        memcpy(out->q_src.bytes, q + 12, 4);
        memcpy(out->q_dst.bytes, q + 16, 4);
        tcp = q + ihl;
        tcp_avail = len - ihl;
    } else {
        uint8_t nh = 0;
        size_t ext_len = 0;
        enum tw_parse_err err;

        if (len < TW_IPV6_HDR_LEN)
            return TW_PARSE_TRUNCATED_QUOTE;
        err = tw_wire_ip6_skip_ext(q[6], q + TW_IPV6_HDR_LEN, len - TW_IPV6_HDR_LEN, &nh,
                                   &ext_len);
        if (err == TW_PARSE_BAD_EXT_HEADER)
            return TW_PARSE_TRUNCATED_QUOTE;
        if (err != TW_PARSE_OK)
            return err;
        if (nh != TW_IPPROTO_TCP)
            return TW_PARSE_NOT_ICMP_ERROR;
        out->q_src.family = out->q_dst.family = 6;
        memcpy(out->q_src.bytes, q + 8, 16);
        memcpy(out->q_dst.bytes, q + 24, 16);
        tcp = q + TW_IPV6_HDR_LEN + ext_len;
        tcp_avail = len - TW_IPV6_HDR_LEN - ext_len;
    }

    tw_cursor_init(&c, tcp, tcp_avail);
    if (!tw_cursor_u16(&c, &out->q_sport) || !tw_cursor_u16(&c, &out->q_dport) ||
        !tw_cursor_u32(&c, &out->q_seq))
        return TW_PARSE_TRUNCATED_QUOTE;
    return TW_PARSE_OK;
}

enum tw_parse_err tw_icmp_parse(const uint8_t *buf, size_t len, unsigned flags,
                                struct tw_icmp *out)
{
    struct tw_ip_view ip;
    enum tw_parse_err err;
    const uint8_t *m;
    size_t mlen;

    memset(out, 0, sizeof(*out));
    err = tw_wire_ip_parse(buf, len, flags, &ip);
    if (err != TW_PARSE_OK)
        return err;
    if (ip.proto != (ip.family == 4 ? TW_IPPROTO_ICMP : TW_IPPROTO_ICMPV6))
        return TW_PARSE_NOT_ICMP_ERROR;
    m = ip.upper;
    mlen = ip.upper_len;
    if (mlen < TW_ICMP_HDR_LEN)
        return TW_PARSE_TRUNCATED_QUOTE;

    if (flags & TW_PARSE_VERIFY_CHECKSUM) {
        /* ICMPv4 sums the message alone; ICMPv6 adds the pseudo-header
         * with next header 58 (RFC 4443 2.3). */
        uint32_t sum = 0;
        if (ip.family == 6)
            sum = tw_wire_pseudo_sum(&ip.src, &ip.dst, TW_IPPROTO_ICMPV6, (uint32_t)mlen);
        if (tw_csum_fold(tw_csum_add(sum, m, mlen)) != 0xffff)
            return TW_PARSE_BAD_CHECKSUM;
    }

    out->family = ip.family;
    out->src = ip.src;
    out->dst = ip.dst;
    out->type = m[0];
    out->code = m[1];
    if (!tw_icmp_classify(ip.family, out->type, out->code, &out->cls))
        return TW_PARSE_NOT_ICMP_ERROR;
    if (ip.family == 4 && out->type == ICMP4_DEST_UNREACH && out->code == ICMP4_FRAG_NEEDED)
        out->mtu = tw_get16(m + 6); /* RFC 1191: next-hop MTU */
    else if (ip.family == 6 && out->type == ICMP6_PACKET_TOO_BIG)
        out->mtu = tw_get32(m + 4);

    return quote_parse(ip.family, m + TW_ICMP_HDR_LEN, mlen - TW_ICMP_HDR_LEN, out);
}

static size_t fail(enum tw_parse_err *err, enum tw_parse_err why)
{
    if (err)
        *err = why;
    return 0;
}

size_t tw_icmp_build(const struct tw_icmp *ic, const uint8_t *quoted, size_t quoted_len,
                     uint8_t *buf, size_t cap, enum tw_parse_err *err)
{
    uint8_t family = ic->family;
    size_t ip_len, quote, total, msg_len;
    uint8_t *m;
    uint32_t sum = 0;

    if ((family != 4 && family != 6) || ic->src.family != family || ic->dst.family != family)
        return fail(err, TW_PARSE_BAD_ADDRESS);
    quote = quoted ? quoted_len : 0;
    if (family == 4 && quote > TW_ICMP4_MAX_QUOTE)
        quote = TW_ICMP4_MAX_QUOTE;
    if (family == 6 && quote > TW_ICMP6_MAX_QUOTE)
        quote = TW_ICMP6_MAX_QUOTE;
    ip_len = family == 4 ? TW_IPV4_HDR_LEN : TW_IPV6_HDR_LEN;
    msg_len = TW_ICMP_HDR_LEN + quote;
    total = ip_len + msg_len;
    if (!buf || cap < total)
        return fail(err, TW_PARSE_NO_SPACE);
    memset(buf, 0, total);

    tw_wire_ip_put(buf, &ic->src, &ic->dst, family == 4 ? TW_IPPROTO_ICMP : TW_IPPROTO_ICMPV6, msg_len,
                   TW_DEFAULT_TTL, false);
    if (family == 6)
        sum = tw_wire_pseudo_sum(&ic->src, &ic->dst, TW_IPPROTO_ICMPV6, (uint32_t)msg_len);

    m = buf + ip_len;
    m[0] = ic->type;
    m[1] = ic->code;
    /* The rest of the header is unused (zero) except where it carries an
     * MTU; ic->mtu is written only there, so parse gives it back. */
    if (family == 4 && ic->type == ICMP4_DEST_UNREACH && ic->code == ICMP4_FRAG_NEEDED)
        tw_put16(m + 6, (uint16_t)ic->mtu);
    else if (family == 6 && ic->type == ICMP6_PACKET_TOO_BIG)
        tw_put32(m + 4, ic->mtu);
    if (quote)
        memcpy(m + TW_ICMP_HDR_LEN, quoted, quote);
    tw_put16(m + 2, (uint16_t)~tw_csum_fold(tw_csum_add(sum, m, msg_len)));

    if (err)
        *err = TW_PARSE_OK;
    return total;
}

bool tw_icmp_v4_to_v6(uint8_t type, uint8_t code, uint8_t *type6, uint8_t *code6)
{
    static const uint8_t unreach[][2] = {
        [0] = {1, 0}, /* net unreachable: no route */
        [1] = {1, 3}, /* host unreachable: address unreachable */
        [2] = {4, 1}, /* protocol unreachable: unrecognized next header */
        [3] = {1, 4}, /* port unreachable */
        [4] = {2, 0}, /* fragmentation needed: packet too big */
        [5] = {1, 5}, /* source route failed: source address failed policy */
    };
    switch (type) {
    case 3:
        if (code < sizeof(unreach) / sizeof(unreach[0])) {
            *type6 = unreach[code][0];
            *code6 = unreach[code][1];
        } else { /* the prohibited codes: administratively prohibited */
            *type6 = 1;
            *code6 = 1;
        }
        return true;
    case 11:
        *type6 = 3;
        *code6 = 0;
        return true;
    case 12:
        *type6 = 4;
        *code6 = 0;
        return true;
    default:
        return false;
    }
}

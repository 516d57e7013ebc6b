/* The segment codec: checksums, the IP layer, TCP options, parse and build.
 *
 * Round trips (tested in tests/test_codec.c):
 *  - parse(build(s)) == s for every field build writes; s->checksum is
 *    ignored on input and parse returns the computed one, ttl 0 comes back
 *    as 64, and payload points into the built bytes.
 *  - build(parse(bytes)) == bytes for a well-formed packet whose IP header
 *    is the one build writes. Build cannot reproduce what the struct does not
 *    keep: IPv4 TOS/ECN, identification, DF, header options; IPv6 traffic
 *    class, flow label and extension headers. The TCP header, options and
 *    payload are always byte-exact (options are kept raw). */
#include <string.h>

#include "segment.h"
#include "wire.h"

const char *tw_parse_strerror(enum tw_parse_err err)
{
    static const char *const text[] = {
#define TW_X_TEXT(name, desc) desc,
        TW_PARSE_ERRORS(TW_X_TEXT)
#undef TW_X_TEXT
    };
    if ((unsigned)err >= TW_PARSE__COUNT)
        return "unknown parse error";
    return text[err];
}

const char *tw_parse_errname(enum tw_parse_err err)
{
    static const char *const names[] = {
#define TW_X_NAME(name, desc) #name,
        TW_PARSE_ERRORS(TW_X_NAME)
#undef TW_X_NAME
    };
    if ((unsigned)err >= TW_PARSE__COUNT)
        return "UNKNOWN";
    return names[err];
}

/* ---- checksums (RFC 1071) ---- */

/* Sums 16-bit big-endian words; an odd final byte is padded with zero. A sum
 * may be continued over several buffers only if all but the last have an
 * even length. The carries are folded back in, so the result stays below
 * 0x1ffff whatever the input. */
uint32_t tw_csum_add(uint32_t sum, const uint8_t *buf, size_t len)
{
    uint64_t acc = sum;
    size_t i = 0;

    if (!buf)
        len = 0;
    for (; i + 1 < len; i += 2)
        acc += (uint32_t)buf[i] << 8 | buf[i + 1];
    if (i < len)
        acc += (uint32_t)buf[i] << 8;
    while (acc >> 16)
        acc = (acc & 0xffffu) + (acc >> 16);
    return (uint32_t)acc;
}

/* Folds the carries; does not complement. Summing a packet including a
 * correct checksum field folds to 0xffff. */
uint16_t tw_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffffu) + (sum >> 16);
    return (uint16_t)sum;
}

void tw_wire_ip_put(uint8_t *buf, const struct tw_addr *src, const struct tw_addr *dst, uint8_t proto,
                    size_t payload_len, uint8_t ttl, bool df)
{
    if (src->family == 4) {
        buf[0] = 0x45;
        tw_put16(buf + 2, (uint16_t)(TW_IPV4_HDR_LEN + payload_len));
        if (df)
            tw_put16(buf + 6, 0x4000);
        buf[8] = ttl;
        buf[9] = proto;
        memcpy(buf + 12, src->bytes, 4);
        memcpy(buf + 16, dst->bytes, 4);
        tw_put16(buf + 10, (uint16_t)~tw_csum_fold(tw_csum_add(0, buf, TW_IPV4_HDR_LEN)));
    } else {
        buf[0] = 0x60;
        tw_put16(buf + 4, (uint16_t)payload_len);
        buf[6] = proto;
        buf[7] = ttl;
        memcpy(buf + 8, src->bytes, 16);
        memcpy(buf + 24, dst->bytes, 16);
    }
}

uint32_t tw_wire_pseudo_sum(const struct tw_addr *src, const struct tw_addr *dst, uint8_t proto,
                            uint32_t upper_len)
{
    uint8_t tail[8];
    uint32_t sum = 0;

    if (src->family == 4) {
        sum = tw_csum_add(sum, src->bytes, 4);
        sum = tw_csum_add(sum, dst->bytes, 4);
        tail[0] = 0;
        tail[1] = proto;
        tw_put16(tail + 2, (uint16_t)upper_len);
        return tw_csum_add(sum, tail, 4);
    }
    /* RFC 8200 8.1: upper-layer length and the upper-layer next header,
     * not the next header of the fixed header (HS-GEN-02). */
    sum = tw_csum_add(sum, src->bytes, 16);
    sum = tw_csum_add(sum, dst->bytes, 16);
    tw_put32(tail, upper_len);
    tail[4] = tail[5] = tail[6] = 0;
    tail[7] = proto;
    return tw_csum_add(sum, tail, 8);
}

/* The value the checksum field should hold: bytes 16-17 of tcp are treated
 * as zero, so this works on a received segment as well as on one being
 * built. */
uint16_t tw_tcp_checksum(const struct tw_addr *src, const struct tw_addr *dst,
                         const uint8_t *tcp, size_t tcp_len)
{
    uint32_t sum = tw_wire_pseudo_sum(src, dst, TW_IPPROTO_TCP, (uint32_t)tcp_len);

    if (tcp_len >= 18) {
        sum = tw_csum_add(sum, tcp, 16);
        sum = tw_csum_add(sum, tcp + 18, tcp_len - 18);
    } else {
        sum = tw_csum_add(sum, tcp, tcp_len);
    }
    return (uint16_t)~tw_csum_fold(sum);
}

/* ---- the IP layer ---- */

enum tw_parse_err tw_wire_ip6_skip_ext(uint8_t nh, const uint8_t *p, size_t len,
                                       uint8_t *out_nh, size_t *out_off)
{
    size_t off = 0;

    for (;;) {
        size_t hdr_len;

        if (nh == TW_IPPROTO_FRAGMENT)
            return TW_PARSE_FRAGMENT;
        if (nh != TW_IPPROTO_HOPOPTS && nh != TW_IPPROTO_ROUTING && nh != TW_IPPROTO_DSTOPTS)
            break;
        /* RFC 8200 4.1: hop-by-hop options only right after the fixed
         * header. */
        if (nh == TW_IPPROTO_HOPOPTS && off != 0)
            return TW_PARSE_BAD_EXT_HEADER;
        if (len - off < 2)
            return TW_PARSE_BAD_EXT_HEADER;
        hdr_len = ((size_t)p[off + 1] + 1) * 8;
        if (hdr_len > len - off)
            return TW_PARSE_BAD_EXT_HEADER;
        nh = p[off];
        off += hdr_len;
    }
    *out_nh = nh;
    *out_off = off;
    return TW_PARSE_OK;
}

static enum tw_parse_err ip4_parse(const uint8_t *buf, size_t len, unsigned flags,
                                   struct tw_ip_view *out)
{
    size_t ihl, total;
    uint16_t frag;

    if (len < TW_IPV4_HDR_LEN)
        return TW_PARSE_TRUNCATED_IP;
    ihl = (size_t)(buf[0] & 0x0f) * 4;
    if (ihl < TW_IPV4_HDR_LEN || ihl > len)
        return TW_PARSE_BAD_IHL;
    /* Bytes past the total length (Ethernet padding) are not ours. */
    total = tw_get16(buf + 2);
    if (total < ihl || total > len)
        return TW_PARSE_BAD_IP_LENGTH;
    if ((flags & TW_PARSE_VERIFY_CHECKSUM) && tw_csum_fold(tw_csum_add(0, buf, ihl)) != 0xffff)
        return TW_PARSE_BAD_IP_CHECKSUM;
    frag = tw_get16(buf + 6);
    if ((frag & 0x2000) || (frag & 0x1fff))
        return TW_PARSE_FRAGMENT;

    out->family = 4;
    out->ttl = buf[8];
    out->proto = buf[9];
    out->src.family = out->dst.family = 4;
    memcpy(out->src.bytes, buf + 12, 4);
    memcpy(out->dst.bytes, buf + 16, 4);
    out->upper = buf + ihl;
    out->upper_len = total - ihl;
    return TW_PARSE_OK;
}

static enum tw_parse_err ip6_parse(const uint8_t *buf, size_t len, struct tw_ip_view *out)
{
    size_t payload_len, ext_len = 0;
    uint8_t nh = 0;
    enum tw_parse_err err;

    if (len < TW_IPV6_HDR_LEN)
        return TW_PARSE_TRUNCATED_IP;
    /* A zero payload length would announce a jumbogram (RFC 2675), which a
     * handshake never needs: it is taken literally and fails later. */
    payload_len = tw_get16(buf + 4);
    if (payload_len > len - TW_IPV6_HDR_LEN)
        return TW_PARSE_BAD_IP_LENGTH;
    err = tw_wire_ip6_skip_ext(buf[6], buf + TW_IPV6_HDR_LEN, payload_len, &nh, &ext_len);
    if (err != TW_PARSE_OK)
        return err;

    out->family = 6;
    out->ttl = buf[7];
    out->proto = nh;
    out->src.family = out->dst.family = 6;
    memcpy(out->src.bytes, buf + 8, 16);
    memcpy(out->dst.bytes, buf + 24, 16);
    out->upper = buf + TW_IPV6_HDR_LEN + ext_len;
    out->upper_len = payload_len - ext_len;
    return TW_PARSE_OK;
}

enum tw_parse_err tw_wire_ip_parse(const uint8_t *buf, size_t len, unsigned flags,
                                   struct tw_ip_view *out)
{
    memset(out, 0, sizeof(*out));
    if (!buf || len < 1)
        return TW_PARSE_TRUNCATED_IP;
    switch (buf[0] >> 4) {
    case 4:
        return ip4_parse(buf, len, flags, out);
    case 6:
        return ip6_parse(buf, len, out);
    default:
        return TW_PARSE_BAD_IP_VERSION;
    }
}

/* ---- TCP options ---- */

/* The one length each known kind must have; SACK is checked apart. */
static bool option_length_ok(uint8_t kind, size_t len)
{
    switch (kind) {
    case TW_OPT_MSS:
        return len == 4;
    case TW_OPT_WSCALE:
        return len == 3;
    case TW_OPT_SACKOK:
        return len == 2;
    case TW_OPT_TS:
        return len == 10;
    case TW_OPT_SACK: /* RFC 2018: one to four blocks of 8 bytes */
        return len >= 10 && len <= 34 && (len - 2) % 8 == 0;
    default:
        return true;
    }
}

/* RFC 9293 3.1 and MUST-7 (HS-GEN-06): any option may appear, an unknown
 * kind is skipped by its length byte, and an illegal length must not crash
 * us. A length below 2 or past the end leaves no way to find the next
 * option, so decoding stops there. A known kind with the wrong length is
 * skipped by its length byte and decoding goes on, as Linux does
 * (tcp_parse_options ignores it); the option is not marked present. The
 * first error found is returned; fields decoded before and after a
 * wrong-length option stay. A later duplicate of an option overrides an
 * earlier one (Linux again). */
enum tw_parse_err tw_options_parse(const uint8_t *raw, size_t len, struct tw_options *opt)
{
    enum tw_parse_err first_err = TW_PARSE_OK;
    uint8_t copy[TW_TCP_MAX_OPTLEN];
    size_t i = 0;

    if (!raw)
        len = 0;
    if (len > TW_TCP_MAX_OPTLEN) {
        /* Options cannot be longer than 40 bytes: decode what a header
         * could hold and report the rest as an overrun. */
        len = TW_TCP_MAX_OPTLEN;
        first_err = TW_PARSE_BAD_OPTION_LENGTH;
    }
    /* raw may be opt->raw itself (re-decoding a struct): copy it out
     * before clearing opt, then decode the copy kept in opt->raw. */
    if (len)
        memcpy(copy, raw, len);
    memset(opt, 0, sizeof(*opt));
    if (len)
        memcpy(opt->raw, copy, len);
    opt->raw_len = (uint8_t)len;
    raw = opt->raw;

    while (i < len) {
        uint8_t kind = raw[i];
        size_t olen;
        const uint8_t *val;

        if (kind == TW_OPT_EOL) {
            opt->has |= TW_HAS_EOL;
            break;
        }
        if (kind == TW_OPT_NOP) {
            i++;
            continue;
        }
        if (len - i < 2 || raw[i + 1] < 2 || raw[i + 1] > len - i) {
            if (first_err == TW_PARSE_OK)
                first_err = TW_PARSE_BAD_OPTION_LENGTH;
            break;
        }
        olen = raw[i + 1];
        val = raw + i + 2;
        if (!option_length_ok(kind, olen)) {
            if (first_err == TW_PARSE_OK)
                first_err = TW_PARSE_BAD_OPTION_VALUE;
            i += olen;
            continue;
        }
        switch (kind) {
        case TW_OPT_MSS:
            opt->has |= TW_HAS_MSS;
            opt->mss = tw_get16(val);
            break;
        case TW_OPT_WSCALE:
            opt->has |= TW_HAS_WSCALE;
            opt->wscale = val[0];
            break;
        case TW_OPT_SACKOK:
            opt->has |= TW_HAS_SACKOK;
            break;
        case TW_OPT_SACK:
            opt->has |= TW_HAS_SACK;
            break;
        case TW_OPT_TS:
            opt->has |= TW_HAS_TS;
            opt->ts_val = tw_get32(val);
            opt->ts_ecr = tw_get32(val + 4);
            break;
        default:
            opt->has |= TW_HAS_UNKNOWN;
            break;
        }
        i += olen;
    }
    return first_err;
}

/* Linux's layout (tcp_options_write): MSS; then timestamps, sharing their
 * word with SACK-permitted when both are on; SACK-permitted alone behind two
 * NOPs; window scale behind one NOP. Every piece is a whole word, so the EOL
 * padding below is only a guard. Unknown options and SACK blocks are not
 * encoded: their bits are cleared from opt->has so that parsing raw[] gives
 * back exactly these fields. */
void tw_options_encode(struct tw_options *opt)
{
    uint8_t *p = opt->raw;
    size_t n = 0;

    memset(opt->raw, 0, sizeof(opt->raw));
    opt->has &= (uint8_t)(TW_HAS_MSS | TW_HAS_WSCALE | TW_HAS_SACKOK | TW_HAS_TS);
    if (opt->has & TW_HAS_MSS) {
        p[n++] = TW_OPT_MSS;
        p[n++] = 4;
        tw_put16(p + n, opt->mss);
        n += 2;
    }
    if (opt->has & TW_HAS_TS) {
        if (opt->has & TW_HAS_SACKOK) {
            p[n++] = TW_OPT_SACKOK;
            p[n++] = 2;
        } else {
            p[n++] = TW_OPT_NOP;
            p[n++] = TW_OPT_NOP;
        }
        p[n++] = TW_OPT_TS;
        p[n++] = 10;
        tw_put32(p + n, opt->ts_val);
        tw_put32(p + n + 4, opt->ts_ecr);
        n += 8;
    } else if (opt->has & TW_HAS_SACKOK) {
        p[n++] = TW_OPT_NOP;
        p[n++] = TW_OPT_NOP;
        p[n++] = TW_OPT_SACKOK;
        p[n++] = 2;
    }
    if (opt->has & TW_HAS_WSCALE) {
        p[n++] = TW_OPT_NOP;
        p[n++] = TW_OPT_WSCALE;
        p[n++] = 3;
        p[n++] = opt->wscale;
    }
    /* HS-GEN-07: header bytes after an EOL are zero. raw[] was zeroed. */
    if (n % 4)
        n += 4 - n % 4;
    opt->raw_len = (uint8_t)n;
}

/* ---- TCP ---- */

static enum tw_parse_err tcp_parse(const struct tw_ip_view *ip, unsigned flags,
                                   struct tw_segment *out)
{
    struct tw_cursor c;
    uint8_t off_res = 0;
    size_t hdr_len, payload_len;
    enum tw_parse_err err;

    if (ip->upper_len < TW_TCP_HDR_LEN)
        return TW_PARSE_TRUNCATED_TCP;
    tw_cursor_init(&c, ip->upper, ip->upper_len);
    /* 20 bytes are there: none of these reads can fail. */
    (void)(tw_cursor_u16(&c, &out->sport) && tw_cursor_u16(&c, &out->dport) &&
           tw_cursor_u32(&c, &out->seq) && tw_cursor_u32(&c, &out->ack) &&
           tw_cursor_u8(&c, &off_res) && tw_cursor_u8(&c, &out->flags) &&
           tw_cursor_u16(&c, &out->window) && tw_cursor_u16(&c, &out->checksum) &&
           tw_cursor_u16(&c, &out->urgent));
    out->reserved = off_res & 0x0f;

    hdr_len = (size_t)(off_res >> 4) * 4;
    if (hdr_len < TW_TCP_HDR_LEN || hdr_len > ip->upper_len)
        return TW_PARSE_BAD_DATA_OFFSET;

    if (flags & TW_PARSE_VERIFY_CHECKSUM) {
        /* Sum everything, checksum field included: a correct segment folds
         * to 0xffff (this also accepts 0xffff for a computed 0x0000, as a
         * ones-complement receiver must). */
        uint32_t sum = tw_wire_pseudo_sum(&ip->src, &ip->dst, TW_IPPROTO_TCP,
                                          (uint32_t)ip->upper_len);
        sum = tw_csum_add(sum, ip->upper, ip->upper_len);
        if (tw_csum_fold(sum) != 0xffff)
            return TW_PARSE_BAD_CHECKSUM;
    }

    payload_len = ip->upper_len - hdr_len;
    if (payload_len > TW_MAX_PAYLOAD)
        return TW_PARSE_PAYLOAD_TOO_LONG;

    err = tw_options_parse(ip->upper + TW_TCP_HDR_LEN, hdr_len - TW_TCP_HDR_LEN, &out->opt);
    if (err != TW_PARSE_OK && (flags & TW_PARSE_STRICT_OPTIONS))
        return err;

    out->payload_len = (uint16_t)payload_len;
    out->payload = ip->upper + hdr_len;
    return TW_PARSE_OK;
}

enum tw_parse_err tw_segment_parse(const uint8_t *buf, size_t len, unsigned flags,
                                   struct tw_segment *out)
{
    struct tw_ip_view ip;
    enum tw_parse_err err;

    memset(out, 0, sizeof(*out));
    err = tw_wire_ip_parse(buf, len, flags, &ip);
    if (err != TW_PARSE_OK)
        return err;
    if (ip.proto != TW_IPPROTO_TCP)
        return TW_PARSE_NOT_TCP;
    out->src = ip.src;
    out->dst = ip.dst;
    out->ttl = ip.ttl;
    return tcp_parse(&ip, flags, out);
}

static size_t fail(enum tw_parse_err *err, enum tw_parse_err why)
{
    if (err)
        *err = why;
    return 0;
}

static size_t segment_build(const struct tw_segment *s, uint8_t *buf, size_t cap,
                            enum tw_parse_err *err, bool compute_checksum)
{
    uint8_t family = s->src.family;
    size_t opt_len, tcp_len, ip_len, total;
    uint8_t ttl = s->ttl ? s->ttl : (uint8_t)TW_DEFAULT_TTL;
    uint8_t *tcp;
    uint16_t csum;

    if ((family != 4 && family != 6) || s->dst.family != family)
        return fail(err, TW_PARSE_BAD_ADDRESS);
    if (s->opt.raw_len > TW_TCP_MAX_OPTLEN)
        return fail(err, TW_PARSE_BAD_OPTION_LENGTH);
    /* So that whatever build writes, parse takes back. */
    if (s->payload_len > TW_MAX_PAYLOAD)
        return fail(err, TW_PARSE_PAYLOAD_TOO_LONG);

    opt_len = ((size_t)s->opt.raw_len + 3) & ~(size_t)3;
    tcp_len = TW_TCP_HDR_LEN + opt_len + s->payload_len;
    ip_len = family == 4 ? TW_IPV4_HDR_LEN : TW_IPV6_HDR_LEN;
    total = ip_len + tcp_len;
    if (!buf || cap < total)
        return fail(err, TW_PARSE_NO_SPACE);
    memset(buf, 0, total);

    /* DF on IPv4, as Linux sets it with PMTU discovery. */
    tw_wire_ip_put(buf, &s->src, &s->dst, TW_IPPROTO_TCP, tcp_len, ttl, true);

    tcp = buf + ip_len;
    tw_put16(tcp, s->sport);
    tw_put16(tcp + 2, s->dport);
    tw_put32(tcp + 4, s->seq);
    tw_put32(tcp + 8, s->ack);
    tcp[12] = (uint8_t)(((TW_TCP_HDR_LEN + opt_len) / 4) << 4 | (s->reserved & 0x0f));
    tcp[13] = s->flags;
    tw_put16(tcp + 14, s->window);
    tw_put16(tcp + 18, s->urgent);
    if (s->opt.raw_len)
        memcpy(tcp + TW_TCP_HDR_LEN, s->opt.raw, s->opt.raw_len);
    if (s->payload && s->payload_len)
        memcpy(tcp + TW_TCP_HDR_LEN + opt_len, s->payload, s->payload_len);
    csum = compute_checksum ? tw_tcp_checksum(&s->src, &s->dst, tcp, tcp_len) : s->checksum;
    tw_put16(tcp + 16, csum);

    if (err)
        *err = TW_PARSE_OK;
    return total;
}

size_t tw_segment_build(const struct tw_segment *s, uint8_t *buf, size_t cap,
                        enum tw_parse_err *err)
{
    return segment_build(s, buf, cap, err, true);
}

size_t tw_segment_build_raw(const struct tw_segment *s, uint8_t *buf, size_t cap,
                            enum tw_parse_err *err)
{
    return segment_build(s, buf, cap, err, false);
}

/* Private to the codec (segment.c, icmp.c, render.c): a bounds-checked read
 * cursor, big-endian stores, and the IP layer shared by the TCP and ICMP
 * parsers. Not installed; nothing outside target/ includes it. */
#ifndef TW_WIRE_H
#define TW_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

enum {
    TW_IPPROTO_HOPOPTS = 0,
    TW_IPPROTO_ICMP = 1,
    TW_IPPROTO_TCP = 6,
    TW_IPPROTO_ROUTING = 43,
    TW_IPPROTO_FRAGMENT = 44,
    TW_IPPROTO_ICMPV6 = 58,
    TW_IPPROTO_DSTOPTS = 60,
};

#define TW_IPV4_HDR_LEN 20u
#define TW_IPV6_HDR_LEN 40u
#define TW_TCP_HDR_LEN 20u
#define TW_ICMP_HDR_LEN 8u
#define TW_DEFAULT_TTL 64u

/* A read cursor that does not move when a read fails (the shape of
 * BoringSSL's CBS): a caller can try a read and fall back without having
 * consumed half a field. */
struct tw_cursor {
    const uint8_t *p;
    size_t left;
};

static inline void tw_cursor_init(struct tw_cursor *c, const uint8_t *p, size_t len)
{
    c->p = p;
    c->left = p ? len : 0;
}

static inline bool tw_cursor_skip(struct tw_cursor *c, size_t n)
{
    if (c->left < n)
        return false;
    c->p += n;
    c->left -= n;
    return true;
}

static inline bool tw_cursor_u8(struct tw_cursor *c, uint8_t *out)
{
    if (c->left < 1)
        return false;
    *out = c->p[0];
    return tw_cursor_skip(c, 1);
}

static inline bool tw_cursor_u16(struct tw_cursor *c, uint16_t *out)
{
    if (c->left < 2)
        return false;
    *out = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
    return tw_cursor_skip(c, 2);
}

static inline bool tw_cursor_u32(struct tw_cursor *c, uint32_t *out)
{
    if (c->left < 4)
        return false;
    *out = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 |
           (uint32_t)c->p[3];
    return tw_cursor_skip(c, 4);
}

static inline uint16_t tw_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t tw_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static inline void tw_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void tw_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline size_t tw_addr_len(uint8_t family)
{
    return family == 4 ? 4u : 16u;
}

/* The IP layer of a received packet, once checked. */
struct tw_ip_view {
    uint8_t family;
    uint8_t ttl; /* TTL or hop limit */
    uint8_t proto; /* upper-layer protocol, after any IPv6 extension headers */
    struct tw_addr src, dst;
    const uint8_t *upper; /* the upper-layer bytes (TCP or ICMP header onward) */
    size_t upper_len; /* bounded by the IP total / payload length */
};

/* Check an IPv4 or IPv6 header and find the upper layer. Rejects fragments.
 * With TW_PARSE_VERIFY_CHECKSUM, checks the IPv4 header checksum. */
enum tw_parse_err tw_wire_ip_parse(const uint8_t *buf, size_t len, unsigned flags,
                                   struct tw_ip_view *out);

/* Skip IPv6 extension headers (hop-by-hop, routing, destination options),
 * starting with next-header `nh` at p[0]. Hop-by-hop is accepted only first
 * (RFC 8200 4.1). A fragment header gives FRAGMENT; a header that does not
 * fit in len gives BAD_EXT_HEADER. On success *out_nh is the first other
 * next-header value and *out_off where it starts. */
enum tw_parse_err tw_wire_ip6_skip_ext(uint8_t nh, const uint8_t *p, size_t len,
                                       uint8_t *out_nh, size_t *out_off);

/* Ones-complement sum of a pseudo-header: IPv4 (src, dst, zero, proto,
 * 16-bit length) or IPv6 (src, dst, 32-bit upper-layer length, zeros, next
 * header), chosen by src->family. */
/* Write an IPv4 (20 bytes, checksum included, DF if df) or IPv6 (40 bytes)
 * header for payload_len bytes of protocol proto into buf (zeroed by the
 * caller). The family is src's. */
void tw_wire_ip_put(uint8_t *buf, const struct tw_addr *src, const struct tw_addr *dst, uint8_t proto,
                    size_t payload_len, uint8_t ttl, bool df);

uint32_t tw_wire_pseudo_sum(const struct tw_addr *src, const struct tw_addr *dst, uint8_t proto,
                            uint32_t upper_len);

#endif

/* Initial sequence numbers: RFC 9293 3.4.1 (MUST-8, MUST-9, SHLD-1), RFC 6528.
 *
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 *
 * M is a clock ticking every 4 microseconds (so the same 4-tuple advances
 * with time, HS-ISN-01); F is SipHash-2-4 keyed with a secret, so ISNs of
 * different 4-tuples are unrelated and cannot be computed from outside
 * (HS-ISN-02). SipHash is written here from its published description
 * (Aumasson and Bernstein, 2012). */
#include <string.h>

#include "tcp.h"

static inline uint64_t rotl64(uint64_t x, unsigned b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#define SIPROUND(v0, v1, v2, v3)                                                                 \
    do {                                                                                         \
        v0 += v1;                                                                                \
        v1 = rotl64(v1, 13);                                                                     \
        v1 ^= v0;                                                                                \
        v0 = rotl64(v0, 32);                                                                     \
        v2 += v3;                                                                                \
        v3 = rotl64(v3, 16);                                                                     \
        v3 ^= v2;                                                                                \
        v0 += v3;                                                                                \
        v3 = rotl64(v3, 21);                                                                     \
        v3 ^= v0;                                                                                \
        v2 += v1;                                                                                \
        v1 = rotl64(v1, 17);                                                                     \
        v1 ^= v2;                                                                                \
        v2 = rotl64(v2, 32);                                                                     \
    } while (0)

uint64_t tw_siphash24(const uint8_t key[16], const uint8_t *data, unsigned len)
{
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
    uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
    uint64_t v3 = k1 ^ 0x7465646279746573ULL;
    unsigned full = len & ~7u;
    for (unsigned i = 0; i < full; i += 8) {
        uint64_t m = load_le64(data + i);
        v3 ^= m;
        SIPROUND(v0, v1, v2, v3);
        SIPROUND(v0, v1, v2, v3);
        v0 ^= m;
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (unsigned i = 0; i < (len & 7u); i++)
        last |= (uint64_t)data[full + i] << (8 * i);
    v3 ^= last;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= last;
    v2 ^= 0xff;
    for (int i = 0; i < 4; i++)
        SIPROUND(v0, v1, v2, v3);
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tw_isn_rfc6528(const uint8_t secret[16], const struct tw_addr *laddr, uint16_t lport,
                        const struct tw_addr *raddr, uint16_t rport, uint64_t now_us)
{
    uint8_t msg[2 * 16 + 4];
    memcpy(msg, laddr->bytes, 16);
    memcpy(msg + 16, raddr->bytes, 16);
    msg[32] = (uint8_t)(lport >> 8);
    msg[33] = (uint8_t)lport;
    msg[34] = (uint8_t)(rport >> 8);
    msg[35] = (uint8_t)rport;
    uint32_t f = (uint32_t)tw_siphash24(secret, msg, sizeof(msg));
    uint32_t m = (uint32_t)(now_us / 4u); /* RFC 6528: a 4 us timer */
    return m + f;
}

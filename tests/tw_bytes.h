/* Helpers for codec tests written as byte arrays: compare two buffers and
 * name the first differing offset, and patch a packet then fix its
 * checksums so that a test changes exactly one thing. */
#ifndef TW_TEST_BYTES_H
#define TW_TEST_BYTES_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "segment.h"

#define TW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Fails naming the first offset where got and want differ. */
#define ck_assert_bytes_eq(got, got_len, want, want_len)                                 \
    do {                                                                                 \
        size_t ck_gl_ = (got_len), ck_wl_ = (want_len), ck_i_;                           \
        const uint8_t *ck_g_ = (got), *ck_w_ = (want);                                   \
        ck_assert_msg(ck_gl_ == ck_wl_, "length: expected %zu, got %zu", ck_wl_, ck_gl_); \
        for (ck_i_ = 0; ck_i_ < ck_wl_; ck_i_++)                                         \
            ck_assert_msg(ck_g_[ck_i_] == ck_w_[ck_i_],                                  \
                          "byte %zu: expected 0x%02x, got 0x%02x", ck_i_,                \
                          (unsigned)ck_w_[ck_i_], (unsigned)ck_g_[ck_i_]);               \
    } while (0)

/* Recompute the IPv4 header checksum of an IPv4 packet in place. */
static inline void tw_test_fix_ip4_checksum(uint8_t *pkt)
{
    size_t ihl = (size_t)(pkt[0] & 0x0f) * 4;
    uint16_t c;

    pkt[10] = pkt[11] = 0;
    c = (uint16_t)~tw_csum_fold(tw_csum_add(0, pkt, ihl));
    pkt[10] = (uint8_t)(c >> 8);
    pkt[11] = (uint8_t)c;
}

/* Recompute the TCP checksum of a packet with no extension headers, whose
 * TCP header starts at tcp_off and runs tcp_len bytes. */
static inline void tw_test_fix_tcp_checksum(uint8_t *pkt, size_t tcp_off, size_t tcp_len)
{
    struct tw_addr src, dst;
    uint16_t c;

    memset(&src, 0, sizeof(src));
    memset(&dst, 0, sizeof(dst));
    if ((pkt[0] >> 4) == 4) {
        src.family = dst.family = 4;
        memcpy(src.bytes, pkt + 12, 4);
        memcpy(dst.bytes, pkt + 16, 4);
    } else {
        src.family = dst.family = 6;
        memcpy(src.bytes, pkt + 8, 16);
        memcpy(dst.bytes, pkt + 24, 16);
    }
    c = tw_tcp_checksum(&src, &dst, pkt + tcp_off, tcp_len);
    pkt[tcp_off + 16] = (uint8_t)(c >> 8);
    pkt[tcp_off + 17] = (uint8_t)c;
}

#endif

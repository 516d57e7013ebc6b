/* The kernel benchmark: complete, checked handshakes against the kernel in
 * a private namespace, over the TAP device (netns.h), each on a distinct
 * 4-tuple: H's port runs through 1024..65535, then H's address through
 * 198.51.100.1, .3, ..., .254 (tw0 is NOARP: no neighbour entries needed).
 *
 * One handshake, six syscalls: write the SYN; read the SYN-ACK (checked:
 * flags, ports, ack = ISN+1); write the ACK; accept4() the connection
 * (checked: H's address and port); close() it, which sends RST because
 * the listener's SO_LINGER {1, 0} is inherited, so nothing piles up (no
 * FIN-WAIT, no TIME-WAIT); read that RST (checked).
 *
 * The reference figure, in the same namespace and run: the kernel's own
 * connect()+accept() over loopback, freed the same way. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "bench.h"
#include "netns.h"
#include "segment.h"

#define D_PORT 8080
#define LO_PORT 9090

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail_once(struct tw_bench_result *r, const char *fmt, const char *a, unsigned long long b)
{
    if (!r->failures++)
        snprintf(r->failure, sizeof(r->failure), fmt, a, b);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

/* The TCP header of an IPv4 frame from D:8080 to H (addr, port), or NULL. */
static const uint8_t *tcp_from_d(const uint8_t *f, ssize_t n, const uint8_t h_addr[4], uint16_t h_port)
{
    if (n < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00)
        return NULL;
    const uint8_t *ip = f + 14;
    size_t ihl = (size_t)(ip[0] & 15) * 4;
    if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP || (ssize_t)(14 + ihl + 20) > n || memcmp(ip + 16, h_addr, 4))
        return NULL;
    const uint8_t *tcp = ip + ihl;
    if (get16(tcp) != D_PORT || get16(tcp + 2) != h_port)
        return NULL;
    return tcp;
}

static size_t build_frame(const struct tw_netns *ns, const struct tw_segment *s, uint8_t *buf, size_t cap)
{
    enum tw_parse_err e;
    memcpy(buf, ns->d_mac, 6);
    memcpy(buf + 6, ns->h_mac, 6);
    buf[12] = 0x08;
    buf[13] = 0x00;
    size_t n = tw_segment_build(s, buf + 14, cap - 14, &e);
    return n ? n + 14 : 0;
}

static int bench_tap(const struct tw_netns *ns, double seconds, struct tw_bench_result *r)
{
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(D_PORT)};
    struct linger lg = {1, 0};
    int one = 1;
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        setsockopt(ls, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(ls, 4096)) {
        snprintf(r->failure, sizeof(r->failure), "listener: %s", strerror(errno));
        r->failures++;
        if (ls >= 0)
            close(ls);
        return -1;
    }
    struct tw_segment syn, ack;
    memset(&syn, 0, sizeof(syn));
    tw_addr_parse("198.51.100.2", &syn.dst);
    syn.src = syn.dst;
    syn.dport = D_PORT;
    syn.flags = TW_SYN;
    syn.window = 65535;
    syn.opt.has = TW_HAS_MSS;
    syn.opt.mss = 1460;
    tw_options_encode(&syn.opt);
    ack = syn;
    ack.flags = TW_ACK;
    ack.opt.has = 0;
    tw_options_encode(&ack.opt);

    uint8_t out[256], in[2048];
    double start = now_seconds(), elapsed = 0;
    for (uint64_t i = 0;; i++) {
        if ((i & 255) == 0) {
            elapsed = now_seconds() - start;
            if (elapsed >= seconds || r->failures)
                break;
        }
        uint64_t k = i % (64512ull * 253);
        uint8_t host = (uint8_t)(1 + k / 64512);
        if (host >= 2)
            host++; /* .2 is D */
        uint16_t h_port = (uint16_t)(1024 + k % 64512);
        uint32_t isn = (uint32_t)(i * 2654435761u);
        syn.src.bytes[3] = host;
        syn.sport = h_port;
        syn.seq = isn;
        size_t n = build_frame(ns, &syn, out, sizeof(out));
        if (!n || write(ns->tap_fd, out, n) != (ssize_t)n) {
            fail_once(r, "write SYN: %s (handshake %llu)", strerror(errno), (unsigned long long)i);
            break;
        }
        r->segments++;
        ssize_t got = read(ns->tap_fd, in, sizeof(in));
        const uint8_t *t = tcp_from_d(in, got, syn.src.bytes, h_port);
        if (!t || (t[13] & 0x3f) != (TW_SYN | TW_ACK) || get32(t + 8) != isn + 1) {
            fail_once(r, "%s (handshake %llu)", !t ? "no SYN-ACK from D" : "SYN-ACK: wrong flags or ack",
                      (unsigned long long)i);
            break;
        }
        r->segments++;
        ack.src = syn.src;
        ack.sport = h_port;
        ack.seq = isn + 1;
        ack.ack = get32(t + 4) + 1;
        n = build_frame(ns, &ack, out, sizeof(out));
        if (!n || write(ns->tap_fd, out, n) != (ssize_t)n) {
            fail_once(r, "write ACK: %s (handshake %llu)", strerror(errno), (unsigned long long)i);
            break;
        }
        r->segments++;
        struct sockaddr_in peer;
        socklen_t plen = sizeof(peer);
        int c = accept4(ls, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC);
        if (c < 0 || ntohs(peer.sin_port) != h_port || memcmp(&peer.sin_addr, syn.src.bytes, 4)) {
            fail_once(r, "accept: %s (handshake %llu)", c < 0 ? strerror(errno) : "wrong peer",
                      (unsigned long long)i);
            if (c >= 0)
                close(c);
            break;
        }
        close(c); /* RST: the listener's SO_LINGER {1, 0} is inherited */
        got = read(ns->tap_fd, in, sizeof(in));
        t = tcp_from_d(in, got, syn.src.bytes, h_port);
        if (!t || !(t[13] & TW_RST)) {
            fail_once(r, "%s (handshake %llu)", "close: no RST from D", (unsigned long long)i);
            break;
        }
        r->segments++;
        r->handshakes++;
    }
    r->seconds = now_seconds() - start;
    close(ls);
    return r->failures ? -1 : 0;
}

/* connect()+accept() over loopback, for the same duration budget. */
static double bench_loopback(double seconds, uint64_t *count, char *err, size_t err_cap)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(LO_PORT)};
    struct linger lg = {1, 0};
    int one = 1, ls;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    *count = 0;
    ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (ls < 0 || setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        setsockopt(ls, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) ||
        listen(ls, 4096)) {
        snprintf(err, err_cap, "loopback listener: %s", strerror(errno));
        if (ls >= 0)
            close(ls);
        return -1;
    }
    double start = now_seconds(), elapsed = 0;
    for (uint64_t i = 0;; i++) {
        if ((i & 255) == 0 && (elapsed = now_seconds() - start) >= seconds)
            break;
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c < 0 || connect(c, (struct sockaddr *)&sa, sizeof(sa))) {
            snprintf(err, err_cap, "loopback connect: %s", strerror(errno));
            if (c >= 0)
                close(c);
            close(ls);
            return -1;
        }
        int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (s < 0) {
            snprintf(err, err_cap, "loopback accept: %s", strerror(errno));
            close(c);
            close(ls);
            return -1;
        }
        close(s); /* RST (inherited linger 0): both ends freed, no TIME-WAIT */
        close(c);
        (*count)++;
    }
    close(ls);
    return elapsed > 0 ? (double)*count / elapsed : 0;
}

int tw_bench_linux(double seconds, struct tw_bench_result *r, char *err, size_t err_cap)
{
    struct tw_netns ns;
    memset(r, 0, sizeof(*r));
    int rc = tw_netns_create(&ns, err, err_cap);
    if (rc)
        return rc;
    tw_netns_describe(r->environment, sizeof(r->environment));
    rc = bench_tap(&ns, seconds, r);
    if (rc == 0) {
        double lo_seconds = seconds / 2 < 0.2 ? 0.2 : seconds / 2;
        r->loopback_per_sec = bench_loopback(lo_seconds, &r->loopback_handshakes, err, err_cap);
        if (r->loopback_per_sec < 0) {
            r->loopback_per_sec = 0;
            snprintf(r->failure, sizeof(r->failure), "%s", err);
            r->failures++;
            rc = -1;
        }
    }
    tw_netns_release(&ns);
    err[0] = '\0';
    return rc;
}

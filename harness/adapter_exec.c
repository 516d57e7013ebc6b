/* The exec adapter: any stack hosted by a shim program on a TAP device
 * (docs/writing-a-shim.md). `--stack exec:CMD`, and the aliases `lwip` and
 * `lwipv6` for the shims built next to the threeway binary.
 *
 * The process moves into a namespace of its own (netns.h) holding one
 * persistent TAP device, tw1, whose kernel side has no address, NOARP and
 * IPv6 off: the kernel never speaks on it. The shim runs in that namespace,
 * attached to tw1; we send and capture on the kernel side with an AF_PACKET
 * socket (PACKET_IGNORE_OUTGOING), answer ARP and neighbour solicitations
 * for the harness's addresses, and drive the shim's user calls over its
 * stdin/stdout.
 *
 * Time is real time (CLOCK_MONOTONIC since open). After every injected
 * packet an ICMP echo request (ICMPv6 for IPv6 cases) is sent and its reply
 * awaited: the barrier that says the stack has processed the packet and sent
 * what it caused. advance() polls the packet socket and the shim until the
 * deadline.
 *
 * One shim serves consecutive cases: `reset` between cases, or a restart
 * when the shim cannot reset (reset=no, err EOPNOTSUPP). A shim that dies,
 * hangs (no reply or barrier within 5 s), writes garbage or floods (more
 * than 10,000 frames a second) is killed; the case fails with a harness
 * error naming what happened and the tail of the shim's stderr, and the next
 * case starts a fresh shim. The shim gets PR_SET_PDEATHSIG and its own
 * process group: nothing outlives the harness. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>

#include "adapter.h"
#include "frameq.h"
#include "netns.h"
#include "script.h"
#include "segment.h"
#include "wire.h"

#define TAP_NAME "tw1"
#define FRAME_MAX TW_FRAME_MAX
#define ETH_HLEN_ 14
#define REPLY_TIMEOUT_US 5000000u
#define READY_TIMEOUT_US 10000000u
#define FLOOD_PER_SEC 10000u
#define ECHO_ID 0x7477u /* "tw": the harness's own echo requests, never judged */
#define ERR_TAIL 2048

static const uint8_t H_MAC[6] = {0x02, 0x74, 0x77, 0x00, 0x00, 0x01};
static const char D_MAC_ENV[] = "02:74:77:00:00:02";
static const uint8_t D4[4] = {198, 51, 100, 2};
static const uint8_t D6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};
static const uint8_t H4[4] = {198, 51, 100, 1};
static const uint8_t H6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};

/* ---- per process: the namespace, the packet socket, the shim ----------------- */

struct shim {
    char cmd[PATH_MAX + 256]; /* what runs */
    pid_t pid;
    int io;    /* socketpair end: the shim's stdin and stdout */
    int errfd; /* the shim's stderr */
    char in[65536];
    size_t in_len;
    char tail[ERR_TAIL]; /* the last bytes of its stderr */
    size_t tail_len;
    uint8_t mac[6];
    bool resets, arp_barrier, states;
    char ident[160]; /* "lwip 2.1.3 ... " from the ready line */
};

static bool g_ns_ok;
static int g_ifindex;
static int g_pkt = -1;
static struct shim g_shim = {.pid = -1, .io = -1, .errfd = -1};
static char g_cmd[PATH_MAX + 256]; /* the command tw_adapter_find chose */
static const struct tw_adapter_ops *g_ops;

/* ---- per case -------------------------------------------------------------------- */

struct hinfo {
    int conn; /* 0: no connect; 1: opening; 2: established; < 0: -errno */
};

struct tw_adapter {
    struct tw_adapter_config cfg;
    uint64_t t0_ns;
    struct tw_frameq q; /* what the stack sent, for collect() */
    struct hinfo *h;
    size_t n_h;
    bool activity;    /* an event arrived since the flag was cleared */
    bool have_reply;  /* a reply line is waiting in reply */
    char reply[512];
    uint16_t echo_seq;
    bool echo_seen;   /* the reply to echo_seq (or an ARP reply) arrived */
    bool arp_seen;
    uint64_t flood_start;
    unsigned flood_n;
    char broken[4096]; /* non-empty: the shim failed during this case */
    char state_buf[32];
    char desc[512];
};

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t exec_now(struct tw_adapter *a) { return (mono_ns() - a->t0_ns) / 1000u; }

/* ---- the shim process --------------------------------------------------------------- */

static void tail_add(const char *buf, size_t n)
{
    if (n >= ERR_TAIL) {
        buf += n - ERR_TAIL;
        n = ERR_TAIL;
    }
    if (g_shim.tail_len + n > ERR_TAIL) {
        size_t drop = g_shim.tail_len + n - ERR_TAIL;
        memmove(g_shim.tail, g_shim.tail + drop, g_shim.tail_len - drop);
        g_shim.tail_len -= drop;
    }
    memcpy(g_shim.tail + g_shim.tail_len, buf, n);
    g_shim.tail_len += n;
}

static void drain_stderr(void)
{
    char buf[4096];
    ssize_t n;
    if (g_shim.errfd < 0)
        return;
    while ((n = read(g_shim.errfd, buf, sizeof(buf))) > 0)
        tail_add(buf, (size_t)n);
}

static void shim_stop(void)
{
    if (g_shim.pid > 0) {
        if (g_shim.io >= 0 && send(g_shim.io, "quit\n", 5, MSG_NOSIGNAL | MSG_DONTWAIT) == 5) {
            for (int i = 0; i < 50 && waitpid(g_shim.pid, NULL, WNOHANG) == 0; i++)
                usleep(2000);
        }
        kill(-g_shim.pid, SIGKILL); /* its process group: anything it started */
        kill(g_shim.pid, SIGKILL);
        waitpid(g_shim.pid, NULL, 0);
    }
    g_shim.pid = -1;
    if (g_shim.io >= 0)
        close(g_shim.io);
    if (g_shim.errfd >= 0)
        close(g_shim.errfd);
    g_shim.io = g_shim.errfd = -1;
    g_shim.in_len = 0;
}

/* "what happened" plus the shim's stderr tail, into out. */
static void describe_failure(char *out, size_t cap, const char *what)
{
    int status = 0;
    char how[96] = "";
    drain_stderr();
    if (g_shim.pid > 0 && waitpid(g_shim.pid, &status, WNOHANG) == g_shim.pid) {
        if (WIFSIGNALED(status))
            snprintf(how, sizeof(how), " (killed by signal %d)", WTERMSIG(status));
        else if (WIFEXITED(status))
            snprintf(how, sizeof(how), " (exit status %d)", WEXITSTATUS(status));
        g_shim.pid = -1;
    }
    size_t n = (size_t)snprintf(out, cap, "harness error: shim `%s`: %s%s", g_shim.cmd, what, how);
    if (n < cap && g_shim.tail_len) {
        const char *t = g_shim.tail;
        size_t tl = g_shim.tail_len;
        if (tl > 1200) { /* the last lines */
            t += tl - 1200;
            tl = 1200;
        }
        n += (size_t)snprintf(out + n, cap - n, "\n  shim stderr (tail):");
        while (tl && n + 8 < cap) {
            const char *nl = memchr(t, '\n', tl);
            size_t ll = nl ? (size_t)(nl - t) : tl;
            n += (size_t)snprintf(out + n, cap - n, "\n    %.*s", (int)ll, t);
            if (n >= cap)
                break;
            t += ll + (nl ? 1 : 0);
            tl -= ll + (nl ? 1 : 0);
        }
    } else if (n < cap) {
        snprintf(out + n, cap - n, " (nothing on its stderr)");
    }
}

/* The shim failed: remember why for this case, and kill it. */
static int broke(struct tw_adapter *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int broke(struct tw_adapter *a, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    if (a->broken[0])
        return -1;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    describe_failure(a->broken, sizeof(a->broken), what);
    shim_stop();
    return -1;
}

static void handle_event(struct tw_adapter *a, const char *line)
{
    char what[32], name[32] = "";
    int h = -1;
    a->activity = true;
    if (sscanf(line, "event %31s %d %31s", what, &h, name) < 2 || h < 0 || h > 65535)
        return;
    if ((size_t)h >= a->n_h) {
        struct hinfo *v = realloc(a->h, ((size_t)h + 1) * sizeof(*v));
        if (!v)
            return;
        memset(v + a->n_h, 0, ((size_t)h + 1 - a->n_h) * sizeof(*v));
        a->h = v;
        a->n_h = (size_t)h + 1;
    }
    if (!strcmp(what, "established")) {
        a->h[h].conn = 2;
    } else if (!strcmp(what, "error")) {
        int64_t e = 0;
        a->h[h].conn = tw_script_symbol(name, &e) && e > 0 ? -(int)e : -EIO;
    }
}

/* Take complete lines from the shim: events applied, a reply kept.
 * -1 when the shim is gone or said something not in the protocol. */
static int read_lines(struct tw_adapter *a)
{
    for (;;) {
        char *nl;
        while ((nl = memchr(g_shim.in, '\n', g_shim.in_len))) {
            *nl = '\0';
            const char *line = g_shim.in;
            if (!strncmp(line, "event ", 6)) {
                handle_event(a, line);
            } else if ((!strncmp(line, "ok", 2) && (line[2] == ' ' || !line[2])) || !strncmp(line, "err ", 4)) {
                if (a->have_reply)
                    return broke(a, "two replies to one command (second: '%.100s')", line);
                snprintf(a->reply, sizeof(a->reply), "%.500s", line);
                a->have_reply = true;
            } else {
                return broke(a, "wrote a line that is not in the protocol: '%.200s'", line);
            }
            size_t used = (size_t)(nl + 1 - g_shim.in);
            g_shim.in_len -= used;
            memmove(g_shim.in, nl + 1, g_shim.in_len);
        }
        if (g_shim.in_len == sizeof(g_shim.in))
            return broke(a, "wrote a line longer than %zu bytes", sizeof(g_shim.in));
        ssize_t n = read(g_shim.io, g_shim.in + g_shim.in_len, sizeof(g_shim.in) - g_shim.in_len);
        if (n > 0) {
            g_shim.in_len += (size_t)n;
            continue;
        }
        if (n == 0)
            return broke(a, "exited (closed its stdout)");
        if (errno == EAGAIN || errno == EINTR)
            return 0;
        return broke(a, "read: %s", strerror(errno));
    }
}

/* ---- frames ------------------------------------------------------------------------------ */

static bool in_prefix4(const uint8_t *p) { return p[0] == 198 && p[1] == 51 && p[2] == 100; }
static bool in_prefix6(const uint8_t *p) { return p[0] == 0x20 && p[1] == 0x01 && p[2] == 0x0d && p[3] == 0xb8; }

static void frame_send(const uint8_t *f, size_t len)
{
    uint8_t pad[60];
    if (len < 60) {
        memset(pad, 0, sizeof(pad));
        memcpy(pad, f, len);
        f = pad;
        len = 60;
    }
    if (send(g_pkt, f, len, MSG_NOSIGNAL) < 0) {
        /* The device has no carrier until the shim attaches: nothing to do. */
    }
}

static size_t eth(uint8_t *f, const uint8_t *dst, uint16_t type)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, H_MAC, 6);
    tw_put16(f + 12, type);
    return ETH_HLEN_;
}

/* ARP: op 1 request (who has target? tell sender), op 2 reply. */
static void arp_send(uint16_t op, const uint8_t *dst_mac, const uint8_t sender[4], const uint8_t *target_mac,
                     const uint8_t target[4])
{
    static const uint8_t zero[6];
    uint8_t f[42];
    uint8_t *p = f + eth(f, dst_mac, 0x0806);
    tw_put16(p, 1);
    tw_put16(p + 2, 0x0800);
    p[4] = 6;
    p[5] = 4;
    tw_put16(p + 6, op);
    memcpy(p + 8, H_MAC, 6);
    memcpy(p + 14, sender, 4);
    memcpy(p + 18, target_mac ? target_mac : zero, 6);
    memcpy(p + 24, target, 4);
    frame_send(f, sizeof(f));
}

/* ICMPv6 ND: a solicitation for D from H (type 135), or an advertisement for
 * `target` (one of H's addresses) to dst_ip (type 136). */
static void nd_send(int type, const uint8_t *dst_mac, const uint8_t *dst_ip, const uint8_t *src_ip,
                    const uint8_t *target)
{
    uint8_t f[ETH_HLEN_ + 40 + 32];
    memset(f, 0, sizeof(f));
    uint8_t *ip = f + eth(f, dst_mac, 0x86dd);
    ip[0] = 0x60;
    tw_put16(ip + 4, 32);
    ip[6] = 58;
    ip[7] = 255;
    memcpy(ip + 8, src_ip, 16);
    memcpy(ip + 24, dst_ip, 16);
    uint8_t *icmp = ip + 40;
    icmp[0] = (uint8_t)type;
    if (type == 136)
        icmp[4] = 0x60; /* Solicited, Override */
    memcpy(icmp + 8, target, 16);
    icmp[24] = type == 136 ? 2 : 1; /* target / source link-layer address */
    icmp[25] = 1;
    memcpy(icmp + 26, H_MAC, 6);
    uint32_t sum = tw_csum_add(0, ip + 8, 32) + 58 + 32;
    tw_put16(icmp + 2, (uint16_t)~tw_csum_fold(tw_csum_add(sum, icmp, 32)));
    frame_send(f, sizeof(f));
}

/* An echo request from H to D (the barrier). */
static void echo_send(int family, uint16_t seq)
{
    uint8_t f[ETH_HLEN_ + 40 + 16];
    memset(f, 0, sizeof(f));
    uint8_t *ip = f + eth(f, g_shim.mac, family == 6 ? 0x86dd : 0x0800);
    uint8_t *icmp;
    if (family == 6) {
        ip[0] = 0x60;
        tw_put16(ip + 4, 16);
        ip[6] = 58;
        ip[7] = 64;
        memcpy(ip + 8, H6, 16);
        memcpy(ip + 24, D6, 16);
        icmp = ip + 40;
        icmp[0] = 128;
        tw_put16(icmp + 4, ECHO_ID);
        tw_put16(icmp + 6, seq);
        uint32_t sum = tw_csum_add(0, ip + 8, 32) + 58 + 16;
        tw_put16(icmp + 2, (uint16_t)~tw_csum_fold(tw_csum_add(sum, icmp, 16)));
        frame_send(f, ETH_HLEN_ + 40 + 16);
    } else {
        ip[0] = 0x45;
        tw_put16(ip + 2, 36);
        ip[8] = 64;
        ip[9] = 1;
        memcpy(ip + 12, H4, 4);
        memcpy(ip + 16, D4, 4);
        tw_put16(ip + 10, (uint16_t)~tw_csum_fold(tw_csum_add(0, ip, 20)));
        icmp = ip + 20;
        icmp[0] = 8;
        tw_put16(icmp + 4, ECHO_ID);
        tw_put16(icmp + 6, seq);
        tw_put16(icmp + 2, (uint16_t)~tw_csum_fold(tw_csum_add(0, icmp, 16)));
        frame_send(f, ETH_HLEN_ + 36);
    }
}

/* One frame from the stack: answer ARP/ND for H, note barrier replies,
 * drop what is never judged; true if it was kept for the runner. */
static bool take_frame(struct tw_adapter *a, const uint8_t *f, size_t n)
{
    uint16_t type = n >= ETH_HLEN_ ? tw_get16(f + 12) : 0;
    const uint8_t *ip = f + ETH_HLEN_;
    size_t len = n - ETH_HLEN_;
    if (type == 0x0806 && n >= 42) {
        uint16_t op = tw_get16(ip + 6);
        if (op == 1 && in_prefix4(ip + 24) && memcmp(ip + 24, D4, 4))
            arp_send(2, ip + 8, ip + 24, ip + 8, ip + 14); /* any H address in the prefix */
        else if (op == 2)
            a->arp_seen = true;
        return false;
    }
    if (type == 0x0800 && len >= 20 && (ip[0] >> 4) == 4) {
        size_t ihl = (size_t)(ip[0] & 15) * 4;
        if (ip[9] == 1 && len >= ihl + 8 && ip[ihl] == 0 && tw_get16(ip + ihl + 4) == ECHO_ID) {
            if (tw_get16(ip + ihl + 6) == a->echo_seq)
                a->echo_seen = true;
            return false;
        }
        if ((ip[9] != 6 && ip[9] != 1) || !in_prefix4(ip + 12) || !in_prefix4(ip + 16))
            return false;
    } else if (type == 0x86dd && len >= 40 && (ip[0] >> 4) == 6) {
        if (!in_prefix6(ip + 8) && !(ip[8] == 0xfe && ip[9] == 0x80) && ip[6] == 58 && len >= 48 &&
            ip[40] >= 130 && ip[40] <= 143)
            return false; /* link-local or unspecified ND/MLD */
        if (ip[6] == 58 && len >= 48) {
            uint8_t t = ip[40];
            if (t == 135 && len >= 64 && in_prefix6(ip + 48) && memcmp(ip + 48, D6, 16)) {
                nd_send(136, f + 6, ip + 8, ip + 48, ip + 48);
                return false;
            }
            if (t >= 130 && t <= 143)
                return false; /* ND, MLD, router solicitations */
            if (t == 129 && tw_get16(ip + 44) == ECHO_ID) {
                if (tw_get16(ip + 46) == a->echo_seq)
                    a->echo_seen = true;
                return false;
            }
        }
        if ((ip[6] != 6 && !(ip[6] == 58 && len > 40 && ip[40] < 128)) || !in_prefix6(ip + 8) ||
            !in_prefix6(ip + 24))
            return false;
    } else {
        return false;
    }
    if (len > FRAME_MAX)
        len = FRAME_MAX;
    return tw_frameq_push(&a->q, exec_now(a), ip, len) == 0;
}

/* Everything waiting on the packet socket; the number of frames kept, or
 * -1 when the stack floods. */
static int read_frames(struct tw_adapter *a)
{
    uint8_t buf[FRAME_MAX + ETH_HLEN_];
    int kept = 0;
    for (;;) {
        struct sockaddr_ll from;
        socklen_t fl = sizeof(from);
        ssize_t n = recvfrom(g_pkt, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n <= 0)
            break;
        if (from.sll_pkttype == PACKET_OUTGOING)
            continue;
        uint64_t now = mono_ns();
        if (now - a->flood_start > 1000000000u) {
            a->flood_start = now;
            a->flood_n = 0;
        }
        if (++a->flood_n > FLOOD_PER_SEC)
            return broke(a, "flooded the wire: more than %u frames in one second", FLOOD_PER_SEC);
        kept += take_frame(a, buf, (size_t)n);
    }
    return kept;
}

/* Wait (up to deadline_ns) for the shim and the wire; one round of poll.
 * -1 once the shim broke. */
static int pump(struct tw_adapter *a, uint64_t deadline_ns)
{
    struct pollfd p[3] = {{.fd = g_pkt, .events = POLLIN},
                          {.fd = g_shim.io, .events = POLLIN},
                          {.fd = g_shim.errfd, .events = POLLIN}};
    uint64_t now = mono_ns();
    uint64_t wait = deadline_ns > now ? deadline_ns - now : 0;
    struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
    if (a->broken[0])
        return -1;
    int n = ppoll(p, 3, &ts, NULL);
    if (n < 0 && errno != EINTR)
        return broke(a, "poll: %s", strerror(errno));
    if (p[2].revents)
        drain_stderr();
    if (read_frames(a) < 0)
        return -1;
    if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && read_lines(a))
        return -1;
    return 0;
}

/* ---- commands --------------------------------------------------------------------------------- */

/* Send one command and wait for its reply (events on the way are applied).
 * The reply in a->reply; 0, or -1 when the shim broke. */
static int cmdf(struct tw_adapter *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cmdf(struct tw_adapter *a, const char *fmt, ...)
{
    char c[600];
    va_list ap;
    if (a->broken[0] || g_shim.pid <= 0)
        return -1;
    va_start(ap, fmt);
    int n = vsnprintf(c, sizeof(c) - 1, fmt, ap);
    va_end(ap);
    c[n++] = '\n';
    a->have_reply = false;
    if (send(g_shim.io, c, (size_t)n, MSG_NOSIGNAL) != n)
        return broke(a, "cannot send '%.*s': %s", n - 1, c, strerror(errno));
    uint64_t deadline = mono_ns() + REPLY_TIMEOUT_US * 1000ull;
    while (!a->have_reply) {
        if (mono_ns() >= deadline)
            return broke(a, "hung: no reply to '%.*s' within %u s", n - 1, c, REPLY_TIMEOUT_US / 1000000u);
        if (pump(a, deadline))
            return -1;
    }
    a->have_reply = false;
    return 0;
}

/* A reply as an adapter result: ok -> 0 (or its number), err ENAME -> -errno. */
static int reply_value(struct tw_adapter *a)
{
    const char *r = a->reply;
    if (!strncmp(r, "ok", 2)) {
        long v = 0;
        if (r[2] == ' ' && sscanf(r + 3, "%ld", &v) == 1 && v >= 0 && v <= INT_MAX)
            return (int)v;
        return 0;
    }
    char name[32];
    int64_t e = 0;
    if (sscanf(r, "err %31s", name) == 1 && tw_script_symbol(name, &e) && e > 0 && e < 4096)
        return -(int)e;
    return -EIO;
}

static int simple(struct tw_adapter *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int simple(struct tw_adapter *a, const char *fmt, ...)
{
    char c[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c, sizeof(c), fmt, ap);
    va_end(ap);
    if (cmdf(a, "%s", c))
        return -EIO;
    return reply_value(a);
}

/* ---- start, reset ------------------------------------------------------------------------------ */

static int ensure_namespace(char *err, size_t err_cap)
{
    if (g_ns_ok)
        return 0;
    int rc = tw_netns_create_bare_tap(TAP_NAME, &g_ifindex, err, err_cap);
    if (rc)
        return rc;
    g_pkt = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
    if (g_pkt < 0) {
        snprintf(err, err_cap, "AF_PACKET socket: %s", strerror(errno));
        return -1;
    }
    int one = 1, big = 4 << 20;
    setsockopt(g_pkt, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
    setsockopt(g_pkt, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
    struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = g_ifindex};
    if (bind(g_pkt, (struct sockaddr *)&sll, sizeof(sll))) {
        snprintf(err, err_cap, "bind AF_PACKET to %s: %s", TAP_NAME, strerror(errno));
        close(g_pkt);
        g_pkt = -1;
        return -1;
    }
    g_ns_ok = true;
    return 0;
}

/* /bin/sh -c "exec CMD" (plain CMD when it is a compound command), in our
 * namespace, with the TW_* environment. */
static int shim_start(struct tw_adapter *a, char *err, size_t err_cap)
{
    int io[2], er[2];
    pid_t parent = getpid();
    shim_stop();
    snprintf(g_shim.cmd, sizeof(g_shim.cmd), "%s", g_cmd);
    g_shim.tail_len = 0;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io) || pipe2(er, O_CLOEXEC)) {
        snprintf(err, err_cap, "socketpair: %s", strerror(errno));
        return -1;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, err_cap, "fork: %s", strerror(errno));
        close(io[0]);
        close(io[1]);
        close(er[0]);
        close(er[1]);
        return -1;
    }
    if (pid == 0) {
        char line[sizeof(g_cmd) + 8];
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        dup2(io[1], 0);
        dup2(io[1], 1);
        dup2(er[1], 2);
        signal(SIGPIPE, SIG_DFL);
        setenv("TW_TAP", TAP_NAME, 1);
        setenv("TW_MAC", D_MAC_ENV, 1);
        setenv("TW_ADDR4", "198.51.100.2", 1);
        setenv("TW_PREFIX4", "24", 1);
        setenv("TW_PEER4", "198.51.100.1", 1);
        setenv("TW_ADDR6", "2001:db8::2", 1);
        setenv("TW_PREFIX6", "64", 1);
        setenv("TW_PEER6", "2001:db8::1", 1);
        snprintf(line, sizeof(line), "%s%s", strpbrk(g_cmd, ";&|()\n") ? "" : "exec ", g_cmd);
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(io[1]);
    close(er[1]);
    g_shim.pid = pid;
    g_shim.io = io[0];
    g_shim.errfd = er[0];
    fcntl(g_shim.io, F_SETFL, O_NONBLOCK);
    fcntl(g_shim.errfd, F_SETFL, O_NONBLOCK);
    g_shim.in_len = 0;

    /* The ready line, within 10 s. */
    uint64_t deadline = mono_ns() + READY_TIMEOUT_US * 1000ull;
    char line[512] = "";
    for (;;) {
        char *nl = memchr(g_shim.in, '\n', g_shim.in_len);
        if (nl) {
            *nl = '\0';
            snprintf(line, sizeof(line), "%.500s", g_shim.in);
            g_shim.in_len -= (size_t)(nl + 1 - g_shim.in);
            memmove(g_shim.in, nl + 1, g_shim.in_len);
            break;
        }
        struct pollfd p[2] = {{.fd = g_shim.io, .events = POLLIN}, {.fd = g_shim.errfd, .events = POLLIN}};
        uint64_t now = mono_ns();
        if (now >= deadline) {
            describe_failure(err, err_cap, "no 'ready' line within 10 s");
            shim_stop();
            return -1;
        }
        poll(p, 2, (int)((deadline - now) / 1000000u) + 1);
        drain_stderr();
        ssize_t n = read(g_shim.io, g_shim.in + g_shim.in_len, sizeof(g_shim.in) - 1 - g_shim.in_len);
        if (n == 0) {
            usleep(20000); /* let it finish dying, for the exit status */
            describe_failure(err, err_cap, "exited before 'ready'");
            shim_stop();
            return -1;
        }
        if (n > 0)
            g_shim.in_len += (size_t)n;
    }
    unsigned m[6];
    const char *mac = strstr(line, " mac=");
    if (strncmp(line, "ready ", 6) || !mac ||
        sscanf(mac, " mac=%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
        char what[600];
        snprintf(what, sizeof(what), "did not start: '%.400s'", line);
        describe_failure(err, err_cap, what);
        shim_stop();
        return -1;
    }
    for (int i = 0; i < 6; i++)
        g_shim.mac[i] = (uint8_t)m[i];
    g_shim.resets = !strstr(line, " reset=no");
    const char *b = strstr(line, " barrier=");
    g_shim.arp_barrier = !b || !strncmp(b, " barrier=arp", 12);
    g_shim.states = !strstr(line, " states=no");
    snprintf(g_shim.ident, sizeof(g_shim.ident), "%.*s", (int)(mac - line - 6), line + 6);
    (void)a;
    return 0;
}

/* Introduce H (ARP request, neighbour solicitation) and wait until the
 * stack has taken both (an echo after them is answered); drop the answers.
 * All three are sent again every 100 ms until the echo is answered: a new
 * TAP device can drop what is written to it while its link comes up. */
#define INTRODUCE_RESEND_NS 100000000ull

static int introduce(struct tw_adapter *a)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    uint8_t snm_mac[6] = {0x33, 0x33, 0xff, D6[13], D6[14], D6[15]};
    uint8_t snm[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [13] = D6[13], [14] = D6[14], [15] = D6[15]};
    uint64_t deadline = mono_ns() + REPLY_TIMEOUT_US * 1000ull, next = 0;
    a->echo_seen = false;
    while (!a->echo_seen) {
        uint64_t now = mono_ns();
        if (now >= deadline)
            return broke(a, "hung: no reply to an ICMP echo request within %u s", REPLY_TIMEOUT_US / 1000000u);
        if (now >= next) {
            arp_send(1, bcast, H4, NULL, D4);
            nd_send(135, snm_mac, snm, H6, D6);
            a->echo_seq++;
            echo_send(4, a->echo_seq);
            next = now + INTRODUCE_RESEND_NS;
        }
        if (pump(a, next < deadline ? next : deadline))
            return -1;
    }
    a->q.pending.n = 0;
    return 0;
}

/* ---- the adapter ------------------------------------------------------------------------------------ */

static int exec_open(struct tw_adapter **out, const struct tw_adapter_config *cfg, char *err, size_t err_cap)
{
    struct tw_adapter *a;
    *out = NULL;
    if (!g_cmd[0]) {
        snprintf(err, err_cap, "no shim command (use --stack exec:CMD)");
        return -1;
    }
    if (ensure_namespace(err, err_cap))
        return -1;
    a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    a->cfg = *cfg;
    a->t0_ns = mono_ns();
    a->flood_start = mono_ns();
    if (g_shim.pid <= 0 || strcmp(g_shim.cmd, g_cmd)) {
        if (shim_start(a, err, err_cap)) {
            free(a);
            return -1;
        }
    }
    /* Frames left from before (a previous case's reset, a dead shim). */
    read_frames(a);
    a->q.pending.n = 0;
    if (introduce(a)) {
        snprintf(err, err_cap, "%s", a->broken);
        free(a);
        return -1;
    }
    a->t0_ns = mono_ns();
    *out = a;
    return 0;
}

static void exec_close(struct tw_adapter *a)
{
    if (!a)
        return;
    if (!a->broken[0] && g_shim.pid > 0) {
        /* A clean stack for the next case, or a fresh shim. */
        if (cmdf(a, "reset") == 0 && strcmp(a->reply, "ok"))
            shim_stop();
    } else {
        shim_stop();
    }
    tw_frameq_free(&a->q);
    free(a->h);
    free(a);
}

static const char *exec_harness_error(struct tw_adapter *a) { return a->broken[0] ? a->broken : NULL; }

static int exec_shell(struct tw_adapter *a, const char *cmd, char *err, size_t err_cap)
{
    (void)a;
    snprintf(err, err_cap, "shell lines cannot run on an exec stack (`%.200s`)", cmd);
    return -1;
}

static struct hinfo *hi(struct tw_adapter *a, int h)
{
    if (h < 0 || h > 65535)
        return NULL;
    if ((size_t)h >= a->n_h) {
        struct hinfo *v = realloc(a->h, ((size_t)h + 1) * sizeof(*v));
        if (!v)
            return NULL;
        memset(v + a->n_h, 0, ((size_t)h + 1 - a->n_h) * sizeof(*v));
        a->h = v;
        a->n_h = (size_t)h + 1;
    }
    return &a->h[h];
}

static int exec_socket(struct tw_adapter *a) { return simple(a, "socket %d", a->cfg.family == 6 ? 6 : 4); }
static int exec_bind(struct tw_adapter *a, int h, uint16_t port) { return simple(a, "bind %d %u", h, port); }
static int exec_listen(struct tw_adapter *a, int h, int backlog) { return simple(a, "listen %d %d", h, backlog); }

static int exec_connect(struct tw_adapter *a, int h, uint16_t port)
{
    char addr[INET6_ADDRSTRLEN];
    struct hinfo *x = hi(a, h);
    inet_ntop(a->cfg.family == 6 ? AF_INET6 : AF_INET, a->cfg.remote.bytes, addr, sizeof(addr));
    if (x && x->conn == 0)
        x->conn = 1;
    int rc = simple(a, "connect %d %s %u", h, addr, port);
    x = hi(a, h);
    if (x && rc == 0)
        x->conn = 2;
    else if (x && rc != -EINPROGRESS && x->conn == 1)
        x->conn = 0;
    return rc;
}

static int exec_connect_result(struct tw_adapter *a, int h)
{
    struct hinfo *x = hi(a, h);
    if (a->broken[0])
        return -EIO;
    if (!x)
        return -EBADF;
    if (x->conn == 1)
        return -EINPROGRESS;
    if (x->conn == 2)
        return 0;
    if (x->conn < 0)
        return x->conn;
    return -ENOTCONN;
}

static int exec_accept(struct tw_adapter *a, int h)
{
    int rc = simple(a, "accept %d", h);
    struct hinfo *x = rc >= 0 ? hi(a, rc) : NULL;
    if (x)
        x->conn = 2;
    return rc;
}

static int exec_close_socket(struct tw_adapter *a, int h) { return simple(a, "close %d", h); }

static int exec_shutdown(struct tw_adapter *a, int h, int how)
{
    static const char *const names[] = {"RD", "WR", "RDWR"};
    if (how < 0 || how > 2)
        return -EINVAL;
    return simple(a, "shutdown %d %s", h, names[how]);
}

static int exec_send(struct tw_adapter *a, int h, uint32_t len) { return simple(a, "send %d %u", h, len); }
static int exec_recv(struct tw_adapter *a, int h, uint32_t max) { return simple(a, "recv %d %u", h, max); }

/* Linux's numbers (the script's) to the protocol's names. */
static const char *opt_name(int level, int name)
{
    if (level == 1) { /* SOL_SOCKET */
        switch (name) {
        case 2: return "SO_REUSEADDR";
        case 4: return "SO_ERROR";
        case 7: return "SO_SNDBUF";
        case 8: return "SO_RCVBUF";
        case 9: return "SO_KEEPALIVE";
        case 13: return "SO_LINGER";
        default: return NULL;
        }
    }
    if (level == IPPROTO_TCP) {
        switch (name) {
        case 1: return "TCP_NODELAY";
        case 2: return "TCP_MAXSEG";
        default: return NULL;
        }
    }
    return NULL;
}

static int exec_setsockopt(struct tw_adapter *a, int h, int level, int name, const int64_t *vals, unsigned n)
{
    const char *o = opt_name(level, name);
    if (!o || !strcmp(o, "SO_ERROR"))
        return -ENOPROTOOPT;
    if (!strcmp(o, "SO_LINGER"))
        return n < 2 ? -EINVAL : simple(a, "setsockopt %d %s %lld %lld", h, o, (long long)vals[0], (long long)vals[1]);
    return n < 1 ? -EINVAL : simple(a, "setsockopt %d %s %lld", h, o, (long long)vals[0]);
}

static int exec_getsockopt(struct tw_adapter *a, int h, int level, int name, int64_t *vals, unsigned *n)
{
    const char *o = opt_name(level, name);
    if (!o)
        return -ENOPROTOOPT;
    if (cmdf(a, "getsockopt %d %s", h, o))
        return -EIO;
    if (strncmp(a->reply, "ok", 2))
        return reply_value(a);
    *n = 0;
    const char *p = a->reply + 2;
    while (*p == ' ' && *n < 4) {
        char tok[32];
        int used = 0;
        if (sscanf(p, " %31s%n", tok, &used) != 1)
            break;
        int64_t v;
        char *end;
        v = strtoll(tok, &end, 10);
        if (*end && !tw_script_symbol(tok, &v))
            v = EIO;
        vals[(*n)++] = v;
        p += used;
    }
    if (!strcmp(o, "SO_ERROR") && !*n)
        vals[(*n)++] = 0;
    /* SO_ERROR is reported once, as getsockopt(2) does: the event too. */
    struct hinfo *x = !strcmp(o, "SO_ERROR") ? hi(a, h) : NULL;
    if (x && x->conn < 0)
        x->conn = 0;
    return 0;
}

static const char *exec_state(struct tw_adapter *a, int h)
{
    if (!g_shim.states || cmdf(a, "status %d", h) || strncmp(a->reply, "ok ", 3) || !strcmp(a->reply, "ok unknown"))
        return NULL;
    snprintf(a->state_buf, sizeof(a->state_buf), "%s", a->reply + 3);
    return a->state_buf;
}

static int exec_inject(struct tw_adapter *a, const uint8_t *pkt, size_t len)
{
    uint8_t frame[FRAME_MAX + ETH_HLEN_];
    int v = len ? pkt[0] >> 4 : 0;
    if (len > FRAME_MAX || (v != 4 && v != 6))
        return -EINVAL;
    if (a->broken[0] || g_shim.pid <= 0)
        return -EIO;
    if (read_frames(a) < 0) /* stamp what came before with its own time */
        return -EIO;
    memcpy(frame, g_shim.mac, 6);
    memcpy(frame + 6, H_MAC, 6);
    tw_put16(frame + 12, v == 4 ? 0x0800 : 0x86dd);
    memcpy(frame + ETH_HLEN_, pkt, len);
    frame_send(frame, len + ETH_HLEN_);
    /* The barrier: once the echo sent after it is answered, the stack has
     * processed the packet and sent what it caused. */
    a->echo_seen = false;
    a->echo_seq++;
    echo_send(v, a->echo_seq);
    uint64_t deadline = mono_ns() + REPLY_TIMEOUT_US * 1000ull;
    while (!a->echo_seen) {
        if (mono_ns() >= deadline) {
            broke(a, "hung: no reply to the barrier (ICMP%s echo request) within %u s", v == 6 ? "v6" : "",
                  REPLY_TIMEOUT_US / 1000000u);
            return -EIO;
        }
        if (pump(a, deadline))
            return -EIO;
    }
    return 0;
}

static size_t exec_collect(struct tw_adapter *a, const struct tw_captured **out)
{
    if (!a->broken[0])
        read_frames(a);
    return tw_frameq_hand(&a->q, out);
}

static int exec_advance(struct tw_adapter *a, uint64_t until_us, unsigned flags)
{
    bool stop = flags & TW_ADV_STOP_ON_ACTIVITY;
    uint64_t deadline = a->t0_ns + until_us * 1000u;
    size_t before = a->q.pending.n;
    a->activity = false;
    if (a->broken[0])
        return -1;
    for (;;) {
        if (read_frames(a) < 0 || (g_shim.pid > 0 && read_lines(a)))
            return -1;
        if (stop && (a->q.pending.n > before || a->activity))
            return 0;
        if (mono_ns() >= deadline)
            return 0;
        if (pump(a, deadline))
            return -1;
    }
}

static const char *exec_describe(struct tw_adapter *a)
{
    snprintf(a->desc, sizeof(a->desc), "exec:%.300s (%.150s%s%s)", g_shim.cmd, g_shim.ident,
             g_shim.resets ? "" : ", restarted per case", g_shim.arp_barrier ? "" : ", barrier=icmp");
    return a->desc;
}

#define EXEC_OPS(NAME, TAG)                                                                                        \
    {                                                                                                              \
        .name = NAME, .open = exec_open, .close = exec_close, .shell = exec_shell, .socket = exec_socket,          \
        .bind = exec_bind, .listen = exec_listen, .connect = exec_connect, .connect_result = exec_connect_result, \
        .accept = exec_accept, .close_socket = exec_close_socket, .shutdown = exec_shutdown, .send = exec_send,   \
        .recv = exec_recv, .setsockopt = exec_setsockopt, .getsockopt = exec_getsockopt, .state = exec_state,     \
        .inject = exec_inject, .collect = exec_collect, .advance = exec_advance, .now = exec_now, .rows = NULL,   \
        .stack_tag = TAG,                                                                                          \
        .default_tolerance_usecs = 500000, /* lwIP's slow timer ticks every 500 ms */                              \
        .describe = exec_describe, .harness_error = exec_harness_error,                                            \
    }

const struct tw_adapter_ops tw_adapter_exec = EXEC_OPS("exec", "exec");
const struct tw_adapter_ops tw_adapter_lwip = EXEC_OPS("lwip", "lwip");
const struct tw_adapter_ops tw_adapter_lwipv6 = EXEC_OPS("lwipv6", "lwipv6");

/* The directory of the running threeway binary ("" if unknown). */
static void exe_dir(char *out, size_t cap)
{
    char buf[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash) {
        *slash = '\0';
        snprintf(out, cap, "%s", buf);
    }
}

bool tw_adapter_exec_shim_path(const char *alias, char *out, size_t cap)
{
    char dir[PATH_MAX];
    exe_dir(dir, sizeof(dir));
    if (!dir[0])
        return false;
    snprintf(out, cap, "%s/tw-shim-%s", dir, alias);
    return access(out, X_OK) == 0;
}

const struct tw_adapter_ops *tw_adapter_exec_find(const char *stack)
{
    const struct tw_adapter_ops *ops = NULL;
    char path[PATH_MAX + 32];
    if (!strncmp(stack, "exec:", 5) && stack[5]) {
        if (strlen(stack + 5) >= sizeof(g_cmd))
            return NULL;
        snprintf(g_cmd, sizeof(g_cmd), "%s", stack + 5);
        ops = &tw_adapter_exec;
    } else if (!strcmp(stack, "lwip") || !strcmp(stack, "lwipv6")) {
        if (!tw_adapter_exec_shim_path(stack, path, sizeof(path)))
            return NULL; /* not built here (no liblwip-dev / liblwipv6-dev) */
        snprintf(g_cmd, sizeof(g_cmd), "%s", path);
        ops = !strcmp(stack, "lwip") ? &tw_adapter_lwip : &tw_adapter_lwipv6;
    }
    g_ops = ops;
    return ops;
}

/* ---- bench ------------------------------------------------------------------------------------------ */

#include "bench.h"
#include "segment.h"

/* `threeway bench --stack lwip`: complete, checked handshakes as fast as
 * the shim takes them, `window` SYNs in flight from distinct ports of H;
 * each SYN-ACK (checked: flags, ports, ack = SYN's seq + 1) is answered by
 * the ACK and then a RST that frees the connection (nothing piles up, no
 * TIME-WAIT). The shim's events are read and dropped as they come. */
int tw_bench_exec(double seconds, int window, struct tw_bench_result *r, char *err, size_t err_cap)
{
    struct tw_adapter_config cfg;
    struct tw_adapter *a;
    memset(r, 0, sizeof(*r));
    memset(&cfg, 0, sizeof(cfg));
    cfg.family = 4;
    tw_addr_parse("198.51.100.2", &cfg.local);
    tw_addr_parse("198.51.100.1", &cfg.remote);
    int rc = exec_open(&a, &cfg, err, err_cap);
    if (rc)
        return !strncmp(err, "skip:", 5) ? TW_NETNS_UNAVAILABLE : -1;
    snprintf(r->environment, sizeof(r->environment), "%s", exec_describe(a));
    int l = simple(a, "socket 4");
    if (l < 0 || simple(a, "setsockopt %d SO_REUSEADDR 1", l) || simple(a, "bind %d 8080", l) ||
        simple(a, "listen %d 128", l)) {
        snprintf(err, err_cap, "cannot listen on the shim: %s", a->broken[0] ? a->broken : a->reply);
        exec_close(a);
        return -1;
    }
    struct tw_segment syn, ack;
    memset(&syn, 0, sizeof(syn));
    syn.src = cfg.remote;
    syn.dst = cfg.local;
    syn.dport = 8080;
    syn.flags = TW_SYN;
    syn.window = 65535;
    syn.opt.has = TW_HAS_MSS;
    syn.opt.mss = 1460;
    tw_options_encode(&syn.opt);
    ack = syn;
    ack.opt.has = 0;
    tw_options_encode(&ack.opt);

    uint8_t out[256], in[FRAME_MAX + ETH_HLEN_];
    memcpy(out, g_shim.mac, 6);
    memcpy(out + 6, H_MAC, 6);
    tw_put16(out + 12, 0x0800);
    int inflight = 0;
    uint32_t port = 10000;
    uint64_t start = mono_ns(), end = start + (uint64_t)(seconds * 1e9), last_progress = start;
    enum tw_parse_err pe;
    while (mono_ns() < end && !a->broken[0]) {
        while (inflight < window) {
            syn.sport = (uint16_t)port;
            syn.seq = port * 7919u;
            port = port >= 60000 ? 10000 : port + 1;
            size_t n = tw_segment_build(&syn, out + ETH_HLEN_, sizeof(out) - ETH_HLEN_, &pe);
            frame_send(out, n + ETH_HLEN_);
            r->segments++;
            inflight++;
        }
        if (read_lines(a))
            break;
        a->have_reply = false; /* nothing is asked: only events come */
        struct pollfd p[2] = {{.fd = g_pkt, .events = POLLIN}, {.fd = g_shim.io, .events = POLLIN}};
        if (poll(p, 2, 50) <= 0) {
            if (mono_ns() - last_progress > 1000000000u) { /* lost SYNs: start over */
                if (!r->failures++)
                    snprintf(r->failure, sizeof(r->failure), "%d SYNs went unanswered for 1 s", inflight);
                inflight = 0;
                last_progress = mono_ns();
            }
            continue;
        }
        for (;;) {
            struct sockaddr_ll from;
            socklen_t fl = sizeof(from);
            ssize_t n = recvfrom(g_pkt, in, sizeof(in), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
            if (n <= 0)
                break;
            struct tw_segment s;
            if (n < ETH_HLEN_ + 40 || tw_get16(in + 12) != 0x0800 ||
                tw_segment_parse(in + ETH_HLEN_, (size_t)n - ETH_HLEN_, 0, &s) != TW_PARSE_OK) {
                take_frame(a, in, (size_t)n); /* ARP: answered */
                a->q.pending.n = 0;
                continue;
            }
            if (s.flags != (TW_SYN | TW_ACK) || s.sport != 8080 || s.ack != (uint32_t)(s.dport * 7919u + 1)) {
                if (!r->failures++)
                    snprintf(r->failure, sizeof(r->failure), "unexpected segment: flags 0x%02x, %u > %u, ack %u",
                             s.flags, s.sport, s.dport, s.ack);
                continue;
            }
            r->segments++;
            ack.sport = s.dport;
            ack.seq = s.ack;
            ack.ack = s.seq + 1;
            ack.flags = TW_ACK;
            size_t m = tw_segment_build(&ack, out + ETH_HLEN_, sizeof(out) - ETH_HLEN_, &pe);
            frame_send(out, m + ETH_HLEN_);
            ack.flags = TW_RST;
            ack.ack = 0;
            m = tw_segment_build(&ack, out + ETH_HLEN_, sizeof(out) - ETH_HLEN_, &pe);
            frame_send(out, m + ETH_HLEN_);
            r->segments += 2;
            r->handshakes++;
            inflight--;
            last_progress = mono_ns();
        }
    }
    r->seconds = (double)(mono_ns() - start) / 1e9;
    if (a->broken[0]) {
        r->failures++;
        snprintf(r->failure, sizeof(r->failure), "%.250s", a->broken);
    }
    a->flood_start = mono_ns(); /* the frames left are the bench's, not a flood */
    a->flood_n = 0;
    exec_close(a);
    err[0] = '\0';
    return r->failures ? -1 : 0;
}

/* The linux adapter: the running kernel as the stack under test, in a
 * private network namespace behind a TAP device (netns.h).
 *
 * A frame written to the TAP fd is processed by the kernel before write()
 * returns, so its answers are already queued on the fd: inject() never
 * sleeps, collect() drains without blocking, and real time passes only in
 * advance(), which poll()s the TAP fd (and the sockets a blocking call
 * waits on) until the deadline.
 *
 * One namespace serves consecutive cases while they leave nothing behind:
 * at close every socket is aborted (SO_LINGER 0), anything left (orphans of
 * a script's close()) is destroyed through sock_diag, and the namespace is
 * checked to hold no TCP socket. A case that ran a shell command, or left
 * something that could not be destroyed, gets a fresh namespace for the
 * next case, so sysctls and sockets never leak from one case to another. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "adapter.h"
#include "frameq.h"
#include "netns.h"

#define FRAME_MAX TW_FRAME_MAX
#define ETH_HLEN_ 14

struct tuple {
    bool set;
    uint16_t lport, rport; /* host order */
    uint8_t laddr[16], raddr[16];
};

struct lsock {
    int fd;        /* -1 once the script closed it */
    bool listener;
    struct tuple closed_as; /* the connection it had when closed, for state() */
};

struct tw_adapter {
    struct tw_adapter_config cfg;
    int af;
    uint64_t t0_ns;
    struct lsock *socks;
    size_t n_socks;
    struct tw_frameq q; /* what the stack sent, for collect() */
    uint64_t warp_us;   /* clock time skipped by TW_ADV_WARP */
    /* When the TAP was last read empty, with no call into the stack since
     * (0: something may be waiting). The kernel answers an injected frame
     * or a socket call before the call returns, so until the next call
     * only a timer can add a frame: read_frames skips the read for
     * QUIET_NS after an empty one (a timer's frame is read at most that
     * late), which saves most of the reads a runner step makes. */
    uint64_t quiet_ns;
    uint64_t answer_us; /* 1 + the start of the last call into the stack, until the read after it */
    struct tuple last_in; /* the last TCP segment injected (D's side as local) */
    char shell_log[512];  /* sysctls and commands this case ran */
    char desc[1536];
};

/* The namespace outlives a case; these are per process (or -j worker). */
static struct tw_netns g_ns = {.tap_fd = -1};
static bool g_ns_ok;
static bool g_ns_dirty;
static char g_ns_desc[1024]; /* tw_netns_describe of this namespace, "" until read */
static int g_diag = -1; /* NETLINK_SOCK_DIAG in the current namespace */

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The case's clock: real time since open, plus the time skipped by warps
 * (TW_ADV_WARP: the waits of a case that no timer can notice). */
static uint64_t linux_now(struct tw_adapter *a) { return (mono_ns() - a->t0_ns) / 1000u + a->warp_us; }

/* ---- sock_diag: find, and destroy, sockets by 4-tuple --------------------------- */

struct diag_req {
    struct nlmsghdr nlh;
    struct inet_diag_req_v2 r;
};

static void diag_fill_id(struct inet_diag_sockid *id, int af, const struct tuple *t)
{
    memset(id, 0, sizeof(*id));
    id->idiag_sport = htons(t->lport);
    id->idiag_dport = htons(t->rport);
    memcpy(id->idiag_src, t->laddr, af == AF_INET ? 4 : 16);
    memcpy(id->idiag_dst, t->raddr, af == AF_INET ? 4 : 16);
    id->idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    id->idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

/* A sock_diag request for TCP sockets of one family in every state. */
static void diag_req_init(struct diag_req *q, uint16_t type, uint16_t flags, int af)
{
    memset(q, 0, sizeof(*q));
    q->nlh.nlmsg_len = sizeof(*q);
    q->nlh.nlmsg_type = type;
    q->nlh.nlmsg_flags = flags;
    q->r.sdiag_family = (uint8_t)af;
    q->r.sdiag_protocol = IPPROTO_TCP;
    q->r.idiag_states = ~0u;
}

/* The Linux state of the socket with this exact 4-tuple, or -1. */
static int diag_state(int af, const struct tuple *t)
{
    struct diag_req q;
    char buf[2048];
    ssize_t n;
    if (g_diag < 0)
        return -1;
    diag_req_init(&q, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, af);
    diag_fill_id(&q.r.id, af, t);
    if (send(g_diag, &q, sizeof(q), 0) < 0)
        return -1;
    n = recv(g_diag, buf, sizeof(buf), 0);
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct inet_diag_msg)))
        return -1;
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY)
        return -1;
    const struct inet_diag_msg *m = NLMSG_DATA(h);
    return m->idiag_state;
}

/* SOCK_DESTROY one socket: 0, -ENOENT (already gone), another -errno, or
 * -EIO when sock_diag did not answer. */
static int diag_destroy_id(int af, const struct inet_diag_sockid *id)
{
    struct diag_req q;
    struct {
        struct nlmsghdr h;
        struct nlmsgerr e;
    } ack;
    diag_req_init(&q, SOCK_DESTROY, NLM_F_REQUEST | NLM_F_ACK, af);
    q.r.id = *id;
    if (send(g_diag, &q, sizeof(q), 0) < 0 || recv(g_diag, &ack, sizeof(ack), 0) < (ssize_t)sizeof(ack) ||
        ack.h.nlmsg_type != NLMSG_ERROR)
        return -EIO;
    return ack.e.error;
}

/* Destroy every TCP socket of one family in the namespace; the number
 * still there afterwards (those sock_diag could not destroy), and in
 * *found how many there were. */
static int diag_sweep(int af, unsigned *found)
{
    struct diag_req q;
    struct inet_diag_sockid ids[256];
    unsigned n_ids = 0;
    char buf[16384];
    bool done = false;
    int left = 0;
    if (g_diag < 0)
        return -1;
    diag_req_init(&q, SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, af);
    if (send(g_diag, &q, sizeof(q), 0) < 0)
        return -1;
    while (!done) {
        ssize_t n = recv(g_diag, buf, sizeof(buf), 0);
        if (n <= 0)
            return -1;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
                done = true;
                break;
            }
            const struct inet_diag_msg *m = NLMSG_DATA(h);
            if (n_ids < sizeof(ids) / sizeof(ids[0]))
                ids[n_ids++] = m->id;
            else
                left++;
        }
    }
    *found = n_ids + (unsigned)left;
    for (unsigned i = 0; i < n_ids; i++) {
        int e = diag_destroy_id(af, &ids[i]);
        if (e && e != -ENOENT)
            left++;
    }
    return left;
}

/* ---- the namespace ------------------------------------------------------------- */

static void drop_namespace(void)
{
    g_ns_desc[0] = 0;
    tw_netns_release(&g_ns);
    if (g_diag >= 0)
        close(g_diag);
    g_diag = -1;
    g_ns_ok = false;
}

static int ensure_namespace(char *err, size_t err_cap)
{
    if (g_ns_ok && !g_ns_dirty) {
        uint8_t junk[FRAME_MAX];
        while (read(g_ns.tap_fd, junk, sizeof(junk)) > 0) {
            /* what the previous case's aborts sent */
        }
        return 0;
    }
    if (g_ns_ok)
        drop_namespace();
    g_ns_dirty = false;
    int rc = tw_netns_create(&g_ns, err, err_cap);
    if (rc)
        return rc;
    g_diag = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (g_diag < 0) {
        snprintf(err, err_cap, "sock_diag socket: %s", strerror(errno));
        tw_netns_release(&g_ns);
        return -1;
    }
    g_ns_ok = true;
    return 0;
}

/* ---- open / close ------------------------------------------------------------------ */

static int linux_open(struct tw_adapter **out, const struct tw_adapter_config *cfg, char *err, size_t err_cap)
{
    struct tw_adapter *a;
    *out = NULL;
    if (ensure_namespace(err, err_cap))
        return -1; /* err starts with "skip: " when the machine cannot do it at all */
    a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    a->cfg = *cfg;
    a->af = cfg->family == 6 ? AF_INET6 : AF_INET;
    a->t0_ns = mono_ns();
    *out = a;
    return 0;
}

static void abort_sockets(struct tw_adapter *a)
{
    for (size_t i = 0; i < a->n_socks; i++) {
        if (a->socks[i].fd < 0)
            continue;
        struct linger l = {1, 0}; /* abort: RST, no TIME-WAIT, freed at once */
        setsockopt(a->socks[i].fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
        close(a->socks[i].fd);
    }
}

/* Destroy the sockets with exactly this 4-tuple (a connection, its
 * TIME-WAIT or request sock): 0 when none is left, -1 otherwise. */
static int diag_destroy_tuple(int af, const struct tuple *t)
{
    struct inet_diag_sockid id;
    diag_fill_id(&id, af, t);
    for (int tries = 0; tries < 4; tries++) {
        int e = diag_destroy_id(af, &id);
        if (e == -ENOENT)
            return 0;
        if (e)
            return -1;
    }
    return -1;
}

void tw_adapter_linux_close_ports(struct tw_adapter *a, uint16_t d_port, const uint16_t *h_ports, size_t n_h)
{
    int left = 0;
    if (!a)
        return;
    abort_sockets(a);
    for (size_t i = 0; g_ns_ok && i < n_h && !left; i++) {
        struct tuple t = {.set = true, .lport = d_port, .rport = h_ports[i]};
        memcpy(t.laddr, a->cfg.local.bytes, sizeof(t.laddr));
        memcpy(t.raddr, a->cfg.remote.bytes, sizeof(t.raddr));
        left = diag_destroy_tuple(a->af, &t) != 0;
    }
    if (left)
        g_ns_dirty = true;
    free(a->socks);
    tw_frameq_free(&a->q);
    free(a);
}

static void linux_close(struct tw_adapter *a)
{
    int left = 0;
    if (!a)
        return;
    abort_sockets(a);
    if (g_ns_ok) {
        unsigned f4 = 0, f6 = 0, again = 0;
        int l4 = diag_sweep(AF_INET, &f4), l6 = diag_sweep(AF_INET6, &f6);
        left = (l4 < 0 || l6 < 0) ? 1 : l4 + l6;
        if (!left && f4 + f6) { /* confirm: a second sweep finds nothing */
            left = diag_sweep(AF_INET, &again) + diag_sweep(AF_INET6, &again);
        }
    }
    if (left)
        g_ns_dirty = true;
    free(a->socks);
    tw_frameq_free(&a->q);
    free(a);
}

/* ---- frames --------------------------------------------------------------------------- */

static bool in_test_prefix(int af, const uint8_t *addr)
{
    static const uint8_t v4[3] = {198, 51, 100};
    static const uint8_t v6[4] = {0x20, 0x01, 0x0d, 0xb8};
    return af == AF_INET ? !memcmp(addr, v4, 3) : !memcmp(addr, v6, 4);
}

/* Keep TCP and ICMP errors between test addresses; drop ARP, ND, MLD and
 * anything else the kernel might say on its own. */
static bool frame_wanted(const uint8_t *ip, size_t len)
{
    if (len >= 20 && (ip[0] >> 4) == 4)
        return (ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_ICMP) && in_test_prefix(AF_INET, ip + 12) &&
               in_test_prefix(AF_INET, ip + 16);
    if (len >= 40 && (ip[0] >> 4) == 6) {
        if (!in_test_prefix(AF_INET6, ip + 8) || !in_test_prefix(AF_INET6, ip + 24))
            return false;
        if (ip[6] == IPPROTO_TCP)
            return true;
        return ip[6] == IPPROTO_ICMPV6 && len > 40 && ip[40] < 128; /* errors, not ND/MLD */
    }
    return false;
}

#define QUIET_NS 200000u

/* The stack may have something to send: the next read_frames reads. */
/* A call into the stack starts (a frame written to the TAP, a socket call,
 * a shell line). What the kernel sends in answer it has queued on the TAP
 * before the call returns, and the next read (which comes right after the
 * call) stamps those frames with the time the call started: a worker that
 * loses the CPU for a while on a loaded machine then does not make an
 * immediate answer look late. */
static void touch(struct tw_adapter *a)
{
    a->quiet_ns = 0;
    a->answer_us = linux_now(a) + 1;
}

/* Read every frame waiting on the TAP fd; the number kept. */
static size_t read_frames(struct tw_adapter *a)
{
    uint8_t buf[FRAME_MAX + ETH_HLEN_];
    size_t kept = 0;
    uint64_t t = mono_ns();
    if (a->quiet_ns && t - a->quiet_ns < QUIET_NS)
        return 0;
    for (;;) {
        ssize_t n = read(g_ns.tap_fd, buf, sizeof(buf));
        if (n <= 0) {
            a->quiet_ns = n < 0 && errno == EAGAIN ? t : 0;
            break;
        }
        uint16_t type = (uint16_t)(buf[12] << 8 | buf[13]);
        if (n <= ETH_HLEN_ || (type != 0x0800 && type != 0x86dd))
            continue;
        if (!frame_wanted(buf + ETH_HLEN_, (size_t)n - ETH_HLEN_))
            continue;
        if (!tw_frameq_push(&a->q, a->answer_us ? a->answer_us - 1 : linux_now(a), buf + ETH_HLEN_,
                            (size_t)n - ETH_HLEN_))
            kept++;
    }
    a->answer_us = 0;
    return kept;
}

static int linux_inject(struct tw_adapter *a, const uint8_t *pkt, size_t len)
{
    uint8_t frame[FRAME_MAX + ETH_HLEN_];
    int v = len ? pkt[0] >> 4 : 0;
    if (len > FRAME_MAX || (v != 4 && v != 6))
        return -EINVAL;
    read_frames(a); /* stamp what came before with its own time */
    memcpy(frame, g_ns.d_mac, 6);
    memcpy(frame + 6, g_ns.h_mac, 6);
    frame[12] = v == 4 ? 0x08 : 0x86;
    frame[13] = v == 4 ? 0x00 : 0xdd;
    memcpy(frame + ETH_HLEN_, pkt, len);
    /* Remember the 4-tuple, for the state of a listener's newest child. */
    if (v == 4 && len >= 40 && pkt[9] == IPPROTO_TCP) {
        size_t ihl = (size_t)(pkt[0] & 15) * 4;
        if (len >= ihl + 4) {
            a->last_in.set = true;
            memcpy(a->last_in.raddr, pkt + 12, 4);
            memcpy(a->last_in.laddr, pkt + 16, 4);
            a->last_in.rport = (uint16_t)(pkt[ihl] << 8 | pkt[ihl + 1]);
            a->last_in.lport = (uint16_t)(pkt[ihl + 2] << 8 | pkt[ihl + 3]);
        }
    } else if (v == 6 && len >= 44 && pkt[6] == IPPROTO_TCP) {
        a->last_in.set = true;
        memcpy(a->last_in.raddr, pkt + 8, 16);
        memcpy(a->last_in.laddr, pkt + 24, 16);
        a->last_in.rport = (uint16_t)(pkt[40] << 8 | pkt[41]);
        a->last_in.lport = (uint16_t)(pkt[42] << 8 | pkt[43]);
    }
    /* An ICMP error can leave state behind the sockets (a PMTU exception
     * on the route to H: the next case's MSS would follow it): the next
     * case gets a fresh namespace. */
    if ((v == 4 && len >= 20 && pkt[9] == IPPROTO_ICMP) || (v == 6 && len >= 40 && pkt[6] == IPPROTO_ICMPV6))
        g_ns_dirty = true;
    touch(a);
    if (write(g_ns.tap_fd, frame, len + ETH_HLEN_) != (ssize_t)(len + ETH_HLEN_))
        return -errno;
    read_frames(a); /* the kernel has answered already */
    return 0;
}

static size_t linux_collect(struct tw_adapter *a, const struct tw_captured **out)
{
    read_frames(a);
    return tw_frameq_hand(&a->q, out);
}

/* Wait, reading frames as they come, until until_us; with
 * STOP_ON_ACTIVITY, return once the kernel sent a frame or a socket became
 * ready (a connect finished or failed, a connection arrived, data, EOF). */
static int linux_advance(struct tw_adapter *a, uint64_t until_us, unsigned flags)
{
    struct pollfd *p = calloc(a->n_socks + 1, sizeof(*p));
    size_t np = 1;
    bool stop = flags & TW_ADV_STOP_ON_ACTIVITY;
    if (flags & TW_ADV_WARP) {
        /* The kernel has processed every frame we wrote before write()
         * returned, and answered a syscall before it returned: what it will
         * send without a timer is in the TAP queue now. Take it, and skip
         * the rest of the wait. */
        free(p);
        if (read_frames(a) && stop)
            return 0;
        uint64_t now = linux_now(a);
        if (now < until_us)
            a->warp_us += until_us - now;
        return 0;
    }
    if (!p)
        return -1;
    p[0].fd = g_ns.tap_fd;
    p[0].events = POLLIN;
    if (stop) {
        /* Sockets already ready would wake us at once: watch the others. */
        for (size_t i = 0; i < a->n_socks; i++) {
            struct pollfd q = {.fd = a->socks[i].fd, .events = POLLIN | POLLOUT | POLLRDHUP};
            if (q.fd < 0 || poll(&q, 1, 0) != 0)
                continue;
            p[np++] = q;
        }
    }
    for (;;) {
        if (read_frames(a) && stop)
            break;
        uint64_t now = linux_now(a);
        if (now >= until_us)
            break;
        uint64_t wait = until_us - now;
        struct timespec ts = {(time_t)(wait / 1000000u), (long)(wait % 1000000u) * 1000};
        int n = ppoll(p, np, &ts, NULL);
        if (n > 0 && p[0].revents)
            touch(a);
        if (n < 0 && errno != EINTR) {
            free(p);
            return -1;
        }
        if (n > 0 && stop) {
            bool sock_ready = false;
            for (size_t i = 1; i < np; i++)
                sock_ready |= p[i].revents != 0;
            if (sock_ready) {
                read_frames(a);
                break;
            }
        }
    }
    free(p);
    return 0;
}

/* ---- user calls ------------------------------------------------------------------------ */

static int sock_fd(struct tw_adapter *a, int h)
{
    if (h < 0 || (size_t)h >= a->n_socks)
        return -1;
    return a->socks[h].fd;
}

static int add_sock(struct tw_adapter *a, int fd)
{
    struct lsock *v = realloc(a->socks, (a->n_socks + 1) * sizeof(*v));
    if (!v) {
        close(fd);
        return -ENOMEM;
    }
    a->socks = v;
    memset(&v[a->n_socks], 0, sizeof(*v));
    v[a->n_socks].fd = fd;
    return (int)a->n_socks++;
}

static int linux_socket(struct tw_adapter *a)
{
    int fd = socket(a->af, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        return -errno;
    return add_sock(a, fd);
}

static socklen_t make_sockaddr(struct tw_adapter *a, struct sockaddr_storage *ss, const struct tw_addr *addr,
                               uint16_t port)
{
    memset(ss, 0, sizeof(*ss));
    if (a->af == AF_INET) {
        struct sockaddr_in *s = (struct sockaddr_in *)ss;
        s->sin_family = AF_INET;
        s->sin_port = htons(port);
        if (addr)
            memcpy(&s->sin_addr, addr->bytes, 4);
        return sizeof(*s);
    }
    struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons(port);
    if (addr)
        memcpy(&s->sin6_addr, addr->bytes, 16);
    return sizeof(*s);
}

static int linux_bind(struct tw_adapter *a, int h, uint16_t port)
{
    struct sockaddr_storage ss;
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    socklen_t n = make_sockaddr(a, &ss, NULL, port); /* any address, as packetdrill's bind */
    return bind(fd, (struct sockaddr *)&ss, n) ? -errno : 0;
}

static int linux_listen(struct tw_adapter *a, int h, int backlog)
{
    touch(a);
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    if (listen(fd, backlog))
        return -errno;
    a->socks[h].listener = true;
    return 0;
}

static int linux_connect(struct tw_adapter *a, int h, uint16_t port)
{
    touch(a);
    struct sockaddr_storage ss;
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    socklen_t n = make_sockaddr(a, &ss, &a->cfg.remote, port);
    return connect(fd, (struct sockaddr *)&ss, n) ? -errno : 0;
}

static int linux_connect_result(struct tw_adapter *a, int h)
{
    struct pollfd p = {.fd = sock_fd(a, h), .events = POLLOUT};
    int e = 0;
    socklen_t len = sizeof(e);
    if (p.fd < 0)
        return -EBADF;
    if (poll(&p, 1, 0) == 0)
        return -EINPROGRESS;
    if (getsockopt(p.fd, SOL_SOCKET, SO_ERROR, &e, &len))
        return -errno;
    if (e)
        return -e;
    return p.revents & POLLOUT ? 0 : -EINPROGRESS;
}

static int linux_accept(struct tw_adapter *a, int h)
{
    touch(a);
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    int c = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (c < 0)
        return -errno;
    return add_sock(a, c);
}

static void remember_tuple(struct tw_adapter *a, int fd, struct tuple *t)
{
    struct sockaddr_storage l, r;
    socklen_t ll = sizeof(l), rl = sizeof(r);
    memset(t, 0, sizeof(*t));
    if (getsockname(fd, (struct sockaddr *)&l, &ll) || getpeername(fd, (struct sockaddr *)&r, &rl))
        return;
    if (a->af == AF_INET) {
        const struct sockaddr_in *ls = (const void *)&l, *rs = (const void *)&r;
        memcpy(t->laddr, &ls->sin_addr, 4);
        memcpy(t->raddr, &rs->sin_addr, 4);
        t->lport = ntohs(ls->sin_port);
        t->rport = ntohs(rs->sin_port);
    } else {
        const struct sockaddr_in6 *ls = (const void *)&l, *rs = (const void *)&r;
        memcpy(t->laddr, &ls->sin6_addr, 16);
        memcpy(t->raddr, &rs->sin6_addr, 16);
        t->lport = ntohs(ls->sin6_port);
        t->rport = ntohs(rs->sin6_port);
    }
    t->set = true;
}

static int linux_close_socket(struct tw_adapter *a, int h)
{
    touch(a);
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    remember_tuple(a, fd, &a->socks[h].closed_as);
    a->socks[h].fd = -1;
    return close(fd) ? -errno : 0;
}

static int linux_shutdown(struct tw_adapter *a, int h, int how)
{
    touch(a);
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    return shutdown(fd, how) ? -errno : 0;
}

static int linux_send(struct tw_adapter *a, int h, uint32_t len)
{
    touch(a);
    static const uint8_t zeros[65536];
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    ssize_t n = send(fd, zeros, len < sizeof(zeros) ? len : sizeof(zeros), MSG_NOSIGNAL);
    return n < 0 ? -errno : (int)n;
}

static int linux_recv(struct tw_adapter *a, int h, uint32_t max)
{
    touch(a);
    static uint8_t sink[65536];
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    ssize_t n = recv(fd, sink, max < sizeof(sink) ? max : sizeof(sink), 0);
    return n < 0 ? -errno : (int)n;
}

/* Levels and names are Linux's own numbers (the script parser's too). */
static int linux_setsockopt(struct tw_adapter *a, int h, int level, int name, const int64_t *vals, unsigned n)
{
    touch(a);
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (n < 2)
            return -EINVAL;
        l.l_onoff = (int)vals[0];
        l.l_linger = (int)vals[1];
        return setsockopt(fd, level, name, &l, sizeof(l)) ? -errno : 0;
    }
    if (n < 1)
        return -EINVAL;
    int v = (int)vals[0];
    return setsockopt(fd, level, name, &v, sizeof(v)) ? -errno : 0;
}

static int linux_getsockopt(struct tw_adapter *a, int h, int level, int name, int64_t *vals, unsigned *n)
{
    int fd = sock_fd(a, h);
    if (fd < 0)
        return -EBADF;
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        socklen_t len = sizeof(l);
        if (getsockopt(fd, level, name, &l, &len))
            return -errno;
        vals[0] = l.l_onoff;
        vals[1] = l.l_linger;
        *n = 2;
        return 0;
    }
    int v = 0;
    socklen_t len = sizeof(v);
    if (getsockopt(fd, level, name, &v, &len))
        return -errno;
    vals[0] = v;
    *n = 1;
    return 0;
}

static const char *state_name(int st)
{
    switch (st) {
    case TCP_ESTABLISHED: return "ESTABLISHED";
    case TCP_SYN_SENT: return "SYN-SENT";
    case TCP_SYN_RECV: return "SYN-RECEIVED";
    case 12: return "SYN-RECEIVED"; /* TCP_NEW_SYN_RECV: a request sock */
    case TCP_FIN_WAIT1: return "FIN-WAIT-1";
    case TCP_FIN_WAIT2: return "FIN-WAIT-2";
    case TCP_TIME_WAIT: return "TIME-WAIT";
    case TCP_CLOSE: return "CLOSED";
    case TCP_CLOSE_WAIT: return "CLOSE-WAIT";
    case TCP_LAST_ACK: return "LAST-ACK";
    case TCP_LISTEN: return "LISTEN";
    case TCP_CLOSING: return "CLOSING";
    default: return NULL;
    }
}

static const char *linux_state(struct tw_adapter *a, int h)
{
    struct tcp_info ti;
    socklen_t len = sizeof(ti);
    int fd;
    if (h < 0 || (size_t)h >= a->n_socks)
        return NULL;
    fd = a->socks[h].fd;
    if (fd < 0) {
        /* Closed by the script: the orphan, if the kernel still has one. */
        const struct tuple *t = &a->socks[h].closed_as;
        int st = t->set ? diag_state(a->af, t) : -1;
        return st < 0 ? "CLOSED" : state_name(st);
    }
    memset(&ti, 0, sizeof(ti));
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
        return NULL;
    if (ti.tcpi_state == TCP_LISTEN && a->last_in.set) {
        /* The newest connection not yet accepted: the one the last
         * injected segment was for (a request sock is found too). */
        struct sockaddr_storage l;
        socklen_t ll = sizeof(l);
        uint16_t port = 0;
        if (!getsockname(fd, (struct sockaddr *)&l, &ll))
            port = ntohs(a->af == AF_INET ? ((struct sockaddr_in *)&l)->sin_port
                                          : ((struct sockaddr_in6 *)&l)->sin6_port);
        if (port == a->last_in.lport) {
            int st = diag_state(a->af, &a->last_in);
            if (st >= 0 && st != TCP_LISTEN && st != TCP_CLOSE)
                return state_name(st);
        }
    }
    return state_name(ti.tcpi_state);
}

/* ---- shell lines ----------------------------------------------------------------------- */

static void log_append(char *log, size_t cap, const char *text)
{
    size_t n = strlen(log);
    snprintf(log + n, cap - n, "%s%s", n ? "; " : "", text);
}

static int linux_shell(struct tw_adapter *a, const char *cmd, char *err, size_t err_cap)
{
    touch(a);
    pid_t parent = getpid(), pid;
    int status;
    if (tw_netns_assert_private(err, err_cap))
        return -1;
    /* Whatever it changes stays in this namespace; the next case gets a
     * fresh one. */
    g_ns_dirty = true;
    g_ns_desc[0] = 0; /* a sysctl may change what describe() reports */
    log_append(a->shell_log, sizeof(a->shell_log), cmd);
    fflush(NULL);
    pid = fork();
    if (pid < 0) {
        snprintf(err, err_cap, "fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        /* The shell runs as PID 1 of a new PID namespace: when it dies
         * (with us, through PDEATHSIG), the kernel kills everything the
         * command started, even daemonised grandchildren. */
        if (unshare(CLONE_NEWPID) == 0) {
            pid_t inner = fork();
            if (inner < 0)
                _exit(127);
            if (inner > 0) {
                int st;
                while (waitpid(inner, &st, 0) < 0 && errno == EINTR) {
                }
                _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
            }
            prctl(PR_SET_PDEATHSIG, SIGKILL);
        }
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, err_cap, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    kill(-pid, SIGKILL); /* anything the command left running in its group */
    if (!WIFEXITED(status) || WEXITSTATUS(status)) {
        snprintf(err, err_cap, "shell command failed (%s %d): `%.200s`",
                 WIFEXITED(status) ? "exit status" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), cmd);
        return -1;
    }
    read_frames(a);
    return 0;
}

static const char *linux_describe(struct tw_adapter *a)
{
    /* The namespace's sysctls change only by a case's shell lines (which
     * make the next case take a fresh namespace): read them once. */
    if (!g_ns_desc[0])
        tw_netns_describe(g_ns_desc, sizeof(g_ns_desc));
    size_t n = (size_t)snprintf(a->desc, sizeof(a->desc), "%s", g_ns_desc);
    if (n >= sizeof(a->desc))
        n = sizeof(a->desc) - 1;
    if (a->shell_log[0] && n + 1 < sizeof(a->desc))
        snprintf(a->desc + n, sizeof(a->desc) - n, " (case ran: %s)", a->shell_log);
    return a->desc;
}

const struct tw_adapter_ops tw_adapter_linux = {
    .name = "linux",
    .open = linux_open,
    .close = linux_close,
    .shell = linux_shell,
    .socket = linux_socket,
    .bind = linux_bind,
    .listen = linux_listen,
    .connect = linux_connect,
    .connect_result = linux_connect_result,
    .accept = linux_accept,
    .close_socket = linux_close_socket,
    .shutdown = linux_shutdown,
    .send = linux_send,
    .recv = linux_recv,
    .setsockopt = linux_setsockopt,
    .getsockopt = linux_getsockopt,
    .state = linux_state,
    .inject = linux_inject,
    .collect = linux_collect,
    .advance = linux_advance,
    .now = linux_now,
    .rows = NULL,
    .stack_tag = "linux",
    .default_tolerance_usecs = 40000, /* timer wheel: a 1-2 s timer fires up to 32 ms late at HZ=250 */
    /* The timer wheel files a timer at a level whose granularity is at most
     * 8/63 (0.127) of the timeout (kernel/time/timer.c: LVL_CLK_SHIFT 3, 64 slots)
     * and fires it at the next granularity boundary: a 3 s RTO may fire
     * 256 ms late at HZ=250, the 120 s TCP_RTO_MAX 2.048 s late. */
    .late_per_mille = 127,
    .late_max_usecs = 2500000,
    .describe = linux_describe,
};

/* tw-shim-lwipv6: LWIPv6 (Debian liblwipv6-dev 1.5a) on a TAP device,
 * driven by threeway's line protocol (docs/writing-a-shim.md).
 *
 * LWIPv6 is its own lineage (rewritten from lwIP 1.1 by R. Davoli): one
 * IPv6 engine that carries IPv4 as v4-mapped addresses, a multi-threaded
 * core, a Berkeley-socket API (lwip_msocket, lwip_connect, ...) and its
 * own TAP driver (lwip_add_tapif), which attaches to an existing TAP by
 * name with IFF_TAP|IFF_NO_PI. So this shim is a socket program: it keeps
 * a table of LWIPv6 sockets, runs them non-blocking and turns their poll
 * results into events. The stack's threads read the TAP and run timers.
 *
 * Quirks:
 * - the TAP driver picks its own MAC (02:02:03:04:05:06 for tp0); we set
 *   TW_MAC with SIOCSIFHWADDR through lwip_ioctl;
 * - lwip_connect blocks until the handshake ends, O_NONBLOCK or not, so a
 *   connect runs in a thread of its own and reports through a pipe;
 * - connection states are not visible through the API: `status` says
 *   `unknown`;
 * - lwip_send blocks likewise while the connect runs: `send` then says
 *   EAGAIN (data cannot be queued in SYN-SENT);
 * - no SO_LINGER, so no abort; a refused connect says ECONNRESET;
 * - a reset of an established connection reads as end of file
 *   (lwip_recv returns 0), so SO_ERROR stays 0;
 * - no reset in place (see l6_reset): the harness restarts the shim;
 * - ARP is answered by the driver thread while IP waits in the tcpip
 *   thread's mailbox, so an ARP reply can overtake the RST of a segment
 *   sent before the request: only ICMP echo is a barrier (barrier=icmp). */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lwipv6.h>

#include "shim.h"

static struct stack *stack;
static struct netif *tap_if;
static struct shim_env env_copy;
static bool stack_used; /* a socket was made since the stack started */
static int done_pipe[2] = {-1, -1}; /* connect threads write their handle here */

enum sock_kind { K_FREE, K_SOCK, K_LISTEN, K_CONN, K_CLOSED };

struct sock {
    enum sock_kind kind;
    int fd;          /* LWIPv6's descriptor */
    int family;
    bool connecting;
    /* connect thread */
    pthread_t thread;
    bool thread_running;
    int connect_errno;      /* the thread's result */
    struct sockaddr_storage peer;
    socklen_t peer_len;
    bool close_after;       /* closed while its connect thread ran */
    bool linger0;
    bool incoming;   /* `event incoming` said, not yet accepted */
    bool eof_said;
    int so_error;
};

#define FIRST_HANDLE 3
#define MAX_SOCKS 4096

static struct sock socks[MAX_SOCKS];
static int n_socks = FIRST_HANDLE;

static struct sock *sock_get(int h)
{
    if (h < FIRST_HANDLE || h >= n_socks || socks[h].kind == K_FREE)
        return NULL;
    return &socks[h];
}

static int sock_new(int fd, int family, enum sock_kind kind)
{
    if (n_socks == MAX_SOCKS)
        return -EMFILE;
    int h = n_socks++;
    memset(&socks[h], 0, sizeof socks[h]);
    socks[h].kind = kind;
    socks[h].fd = fd;
    socks[h].family = family;
    return h;
}

static int set_nonblock(int fd)
{
    return lwip_fcntl(fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 0;
}

static socklen_t local_any(int family, uint16_t port, struct sockaddr_storage *ss)
{
    memset(ss, 0, sizeof *ss);
    if (family == 6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons(port);
        return sizeof *s6;
    }
    struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
    s4->sin_family = AF_INET;
    s4->sin_port = htons(port);
    return sizeof *s4;
}

/* ---- user calls -------------------------------------------------------------------- */

static int l6_socket(int family)
{
    stack_used = true;
    int fd = lwip_msocket(stack, family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -errno;
    int rc = set_nonblock(fd);
    if (rc < 0) {
        lwip_close(fd);
        return rc;
    }
    int h = sock_new(fd, family, K_SOCK);
    if (h < 0)
        lwip_close(fd);
    return h;
}

static int l6_bind(int h, uint16_t port)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    struct sockaddr_storage ss;
    socklen_t len = local_any(s->family, port, &ss);
    return lwip_bind(s->fd, (struct sockaddr *)&ss, len) < 0 ? -errno : 0;
}

static int l6_listen(int h, int backlog)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (lwip_listen(s->fd, backlog) < 0)
        return -errno;
    s->kind = K_LISTEN;
    return 0;
}

/* lwip_connect blocks until the handshake is over: one thread per
 * connect; the handle comes back through done_pipe. */
static void *connect_thread(void *arg)
{
    int h = (int)(intptr_t)arg;
    struct sock *s = &socks[h];
    int rc = lwip_connect(s->fd, (struct sockaddr *)&s->peer, s->peer_len);
    s->connect_errno = rc < 0 ? errno : 0;
    ssize_t n = write(done_pipe[1], &h, sizeof h);
    (void)n; /* a pipe of ints never fills up this far */
    return NULL;
}

static void connect_done(int h)
{
    struct sock *s = &socks[h];
    pthread_join(s->thread, NULL);
    s->thread_running = false;
    s->connecting = false;
    if (s->close_after) {
        if (s->linger0) {
            struct linger lg = {1, 0};
            lwip_setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        lwip_close(s->fd);
        s->kind = K_FREE;
        return;
    }
    if (s->connect_errno == 0 || s->connect_errno == EISCONN) {
        shim_event("established", h, NULL);
        return;
    }
    s->so_error = s->connect_errno;
    s->kind = K_CLOSED;
    shim_event("error", h, shim_errno_name(s->connect_errno));
}

static int l6_connect(int h, const struct shim_addr *a, uint16_t port)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if ((a->family == 6) != (s->family == 6))
        return -EAFNOSUPPORT;
    struct sockaddr_storage ss;
    socklen_t len = local_any(s->family, port, &ss);
    if (a->family == 6)
        ((struct sockaddr_in6 *)&ss)->sin6_addr = a->v6;
    else
        ((struct sockaddr_in *)&ss)->sin_addr = a->v4;
    if (s->thread_running || s->kind == K_CONN)
        return s->connecting ? -EALREADY : -EISCONN;
    s->peer = ss;
    s->peer_len = len;
    s->connect_errno = 0;
    s->kind = K_CONN;
    s->connecting = true;
    if (pthread_create(&s->thread, NULL, connect_thread, (void *)(intptr_t)h)) {
        s->kind = K_SOCK;
        s->connecting = false;
        return -EAGAIN;
    }
    s->thread_running = true;
    return -EINPROGRESS;
}

static int l6_accept(int h)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    int fd = lwip_accept(s->fd, (struct sockaddr *)&ss, &len);
    s->incoming = false;
    if (fd < 0)
        return errno == EWOULDBLOCK ? -EAGAIN : -errno;
    set_nonblock(fd);
    int c = sock_new(fd, s->family, K_CONN);
    if (c < 0)
        lwip_close(fd);
    return c;
}

static int l6_close(int h)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->thread_running) {
        s->close_after = true; /* when lwip_connect returns */
        return 0;
    }
    int fd = s->fd;
    s->kind = K_FREE;
    if (s->linger0) {
        struct linger lg = {1, 0};
        lwip_setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    return lwip_close(fd) < 0 ? -errno : 0;
}

static int l6_abort(int h)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    struct linger lg = {1, 0};
    if (!s->thread_running && lwip_setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
        return -EOPNOTSUPP;
    s->linger0 = true;
    return l6_close(h);
}

static int l6_shutdown(int h, int how)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    return lwip_shutdown(s->fd, how) < 0 ? -errno : 0;
}

static int l6_send(int h, uint32_t len)
{
    static char zeros[65536];
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    /* lwip_send on a socket whose connect has not finished blocks until
     * the handshake ends, O_NONBLOCK or not (as lwip_connect does), and
     * would hold the shim: LWIPv6's API cannot queue data in SYN-SENT. */
    if (s->connecting)
        return -EAGAIN;
    if (len > sizeof zeros)
        len = sizeof zeros;
    ssize_t n = lwip_send(s->fd, zeros, (int)len, 0);
    return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : (int)n;
}

static int l6_recv(int h, uint32_t max)
{
    static char buf[65536];
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (max > sizeof buf)
        max = sizeof buf;
    ssize_t n = lwip_recv(s->fd, buf, (int)max, 0);
    return n < 0 ? (errno == EWOULDBLOCK ? -EAGAIN : -errno) : (int)n;
}

static const char *l6_status(int h, int *out_err)
{
    if (!sock_get(h))
        *out_err = -EBADF;
    return NULL; /* LWIPv6 does not show TCP states */
}

static const struct {
    const char *name;
    int level, opt;
} OPTS[] = {
    {"SO_REUSEADDR", SOL_SOCKET, SO_REUSEADDR}, {"SO_KEEPALIVE", SOL_SOCKET, SO_KEEPALIVE},
    {"SO_RCVBUF", SOL_SOCKET, SO_RCVBUF},       {"SO_SNDBUF", SOL_SOCKET, SO_SNDBUF},
    {"TCP_NODELAY", IPPROTO_TCP, TCP_NODELAY},  {"TCP_MAXSEG", IPPROTO_TCP, TCP_MAXSEG},
};

static int l6_setsockopt(int h, const char *name, const long *v, int n)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (!strcmp(name, "SO_LINGER")) {
        if (n != 2)
            return -EINVAL;
        struct linger lg = {(int)v[0], (int)v[1]};
        if (lwip_setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg) < 0)
            return -errno;
        s->linger0 = v[0] && v[1] == 0;
        return 0;
    }
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        if (strcmp(name, OPTS[i].name))
            continue;
        if (n != 1)
            return -EINVAL;
        int val = (int)v[0];
        return lwip_setsockopt(s->fd, OPTS[i].level, OPTS[i].opt, &val, sizeof val) < 0 ? -errno
                                                                                          : 0;
    }
    return -ENOPROTOOPT;
}

static void poll_sockets(void);

/* What the stack has done by now is reported before SO_ERROR is read: a
 * reset reaches the connect thread or the socket a moment after the
 * harness's barrier saw the frame processed. A connect still running gets
 * up to 50 ms to report. */
static void settle(struct sock *s)
{
    for (int i = 0; i < 50; i++) {
        int h;
        while (read(done_pipe[0], &h, sizeof h) == sizeof h)
            connect_done(h);
        if (!s->connecting)
            break;
        usleep(1000);
    }
    poll_sockets();
}

static int l6_getsockopt(int h, const char *name, long *v, int *n)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    *n = 1;
    if (!strcmp(name, "SO_ERROR")) {
        int e = 0;
        socklen_t len = sizeof e;
        settle(s);
        if (s->so_error) {
            e = s->so_error;
            s->so_error = 0;
        } else if (lwip_getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0) {
            return -errno;
        }
        v[0] = e;
        return 0;
    }
    for (size_t i = 0; i < sizeof OPTS / sizeof OPTS[0]; i++) {
        if (strcmp(name, OPTS[i].name))
            continue;
        int val = 0;
        socklen_t len = sizeof val;
        if (lwip_getsockopt(s->fd, OPTS[i].level, OPTS[i].opt, &val, &len) < 0)
            return -errno;
        v[0] = val;
        return 0;
    }
    return -ENOPROTOOPT;
}

/* ---- events ------------------------------------------------------------------------- */

/* LWIPv6's descriptors are its own: poll them with lwip_poll, at a short
 * interval while any of them can produce an event. */
static bool watching(void)
{
    for (int h = FIRST_HANDLE; h < n_socks; h++)
        if (socks[h].kind == K_LISTEN || socks[h].kind == K_CONN)
            return true;
    return false;
}

static void poll_sockets(void)
{
    struct pollfd pfd[MAX_SOCKS];
    int map[MAX_SOCKS];
    int n = 0;
    for (int h = FIRST_HANDLE; h < n_socks; h++) {
        struct sock *s = &socks[h];
        if (s->kind == K_LISTEN && !s->incoming)
            pfd[n].events = POLLIN;
        else if (s->kind == K_CONN && s->connecting)
            continue; /* its thread reports */
        else if (s->kind == K_CONN && !s->eof_said)
            pfd[n].events = POLLIN;
        else
            continue;
        pfd[n].fd = s->fd;
        pfd[n].revents = 0;
        map[n++] = h;
    }
    if (n == 0 || lwip_poll(pfd, (nfds_t)n, 0) <= 0)
        return;
    for (int i = 0; i < n; i++) {
        struct sock *s = &socks[map[i]];
        short re = pfd[i].revents;
        if (!re)
            continue;
        if (s->kind == K_LISTEN) {
            s->incoming = true;
            shim_event("incoming", map[i], NULL);
        } else if (s->connecting) {
            int e = 0;
            socklen_t len = sizeof e;
            lwip_getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len);
            s->connecting = false;
            if (e == 0 && !(re & (POLLERR | POLLHUP))) {
                shim_event("established", map[i], NULL);
            } else {
                if (e == 0)
                    e = ECONNREFUSED;
                s->so_error = e;
                s->kind = K_CLOSED;
                shim_event("error", map[i], shim_errno_name(e));
            }
        } else {
            char c;
            ssize_t r = lwip_recv(s->fd, &c, 1, MSG_PEEK);
            if (r == 0) {
                s->eof_said = true;
                shim_event("eof", map[i], NULL);
            } else if (r < 0 && errno != EWOULDBLOCK) {
                s->eof_said = true;
                s->kind = K_CLOSED;
                s->so_error = errno; /* for SO_ERROR, once */
                shim_event(errno == ECONNRESET ? "reset" : "error", map[i],
                           errno == ECONNRESET ? NULL : shim_errno_name(errno));
            }
        }
    }
}

static int l6_poll_fds(struct pollfd *fds, int cap)
{
    (void)cap;
    fds[0].fd = done_pipe[0];
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    return 1;
}

static int l6_timeout_ms(void)
{
    return watching() ? 1 : -1;
}

static void l6_service(const struct pollfd *fds, int n)
{
    if (n > 0 && (fds[0].revents & POLLIN)) {
        int h;
        while (read(done_pipe[0], &h, sizeof h) == sizeof h)
            connect_done(h);
    }
    poll_sockets();
}

/* ---- the stack ----------------------------------------------------------------------- */

/* tapif picks 02:02:03:04:05:06; the harness asked for TW_MAC. The
 * interface's name is LWIPv6's own (tp0): the one that is not lo0. */
static int set_mac(char *err, size_t err_cap)
{
    int fd = lwip_msocket(stack, AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) {
        snprintf(err, err_cap, "lwip_msocket: %s", strerror(errno));
        return -1;
    }
    struct ifreq reqs[8];
    struct ifconf ifc = {.ifc_len = sizeof reqs, .ifc_req = reqs};
    int rc = lwip_ioctl(fd, SIOCGIFCONF, &ifc);
    int found = -1;
    for (int i = 0; rc == 0 && i < ifc.ifc_len / (int)sizeof reqs[0]; i++)
        if (strcmp(reqs[i].ifr_name, "lo0"))
            found = i;
    if (found >= 0) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, reqs[found].ifr_name, IFNAMSIZ);
        ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
        memcpy(ifr.ifr_hwaddr.sa_data, env_copy.mac, 6);
        rc = lwip_ioctl(fd, SIOCSIFHWADDR, &ifr);
    }
    lwip_close(fd);
    if (found < 0 || rc < 0) {
        snprintf(err, err_cap, "cannot set the TAP interface's MAC (SIOCSIFHWADDR)");
        return -1;
    }
    return 0;
}

static int stack_up(char *err, size_t err_cap)
{
    stack = lwip_stack_new();
    if (!stack) {
        snprintf(err, err_cap, "lwip_stack_new failed");
        return -1;
    }
    /* Flags 0: no IPv6 autoconfiguration (no router solicitations). */
    tap_if = lwip_add_tapif(stack, (void *)env_copy.tap, 0);
    if (!tap_if) {
        snprintf(err, err_cap, "lwip_add_tapif %s failed (see stderr)", env_copy.tap);
        return -1;
    }
    if (set_mac(err, err_cap))
        return -1;
    struct ip_addr a4, m4, a6, m6;
    uint32_t h4 = ntohl(env_copy.addr4.s_addr);
    IP64_ADDR(&a4, h4 >> 24, h4 >> 16, h4 >> 8, h4);
    uint32_t mask = env_copy.prefix4 ? 0xffffffffu << (32 - env_copy.prefix4) : 0;
    IP64_MASKADDR(&m4, mask >> 24, mask >> 16, mask >> 8, mask);
    memcpy(a6.addr, &env_copy.addr6, 16);
    for (int i = 0; i < 4; i++) {
        int bits = env_copy.prefix6 - 32 * i;
        uint32_t w = bits >= 32 ? 0xffffffffu : bits <= 0 ? 0 : 0xffffffffu << (32 - bits);
        m6.addr[i] = htonl(w);
    }
    if (lwip_add_addr(tap_if, &a4, &m4) < 0 || lwip_add_addr(tap_if, &a6, &m6) < 0) {
        snprintf(err, err_cap, "lwip_add_addr failed");
        return -1;
    }
    if (lwip_ifup(tap_if) < 0) {
        snprintf(err, err_cap, "lwip_ifup failed");
        return -1;
    }
    return 0;
}

static int l6_reset(void)
{
    /* Closing sockets would send FINs and RSTs into the next case, and
     * LWIPv6 cannot be rebuilt in place: lwip_stack_free followed by a new
     * stack on the same TAP corrupts memory (ASan: use after free in
     * pbuf_free under ip_input). So a used stack is reset by restarting
     * the shim; an unused one is clean already. */
    if (stack_used)
        return -EOPNOTSUPP;
    return 0;
}

static const char *l6_features(void)
{
    return "families=4,6 states=no reset=no barrier=icmp";
}

static int l6_init(struct shim_env *env, char *err, size_t err_cap)
{
    env_copy = *env;
    if (pipe2(done_pipe, O_CLOEXEC | O_NONBLOCK)) {
        snprintf(err, err_cap, "pipe: %s", strerror(errno));
        return -1;
    }
    return stack_up(err, err_cap);
}

static struct shim_backend lwipv6_backend = {
    .stack = "lwipv6",
    .version = "1.5a",
    .init = l6_init,
    .features = l6_features,
    .poll_fds = l6_poll_fds,
    .timeout_ms = l6_timeout_ms,
    .service = l6_service,
    .socket = l6_socket,
    .bind = l6_bind,
    .listen = l6_listen,
    .connect = l6_connect,
    .accept = l6_accept,
    .close = l6_close,
    .abort = l6_abort,
    .shutdown = l6_shutdown,
    .send = l6_send,
    .recv = l6_recv,
    .status = l6_status,
    .setsockopt = l6_setsockopt,
    .getsockopt = l6_getsockopt,
    .reset = l6_reset,
};

int main(void)
{
    return shim_main(&lwipv6_backend);
}

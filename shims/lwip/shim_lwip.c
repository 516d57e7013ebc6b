/* tw-shim-lwip: lwIP 2.1 (Debian liblwip-dev) on a TAP device, driven by
 * threeway's line protocol (docs/writing-a-shim.md).
 *
 * Debian builds lwIP for the Hurd's translator: NO_SYS=0, core locking,
 * sockets. We use only the raw TCP API, from this one thread, and never
 * call tcpip_init(): no tcpip thread exists, so the core-locking check
 * (sys_check_core_locking) has nothing to check, and lwip_init() +
 * sys_check_timeouts() give the same single-threaded stack as NO_SYS=1.
 * The headers carry Debian's lwipopts.h, so struct layouts match the
 * library. sys_now() is the library's own: CLOCK_MONOTONIC, milliseconds.
 *
 * The netif is our own (lwIP's contrib tapif would start a thread and
 * configure the kernel side with ifconfig): frames are read from the TAP
 * fd in the main loop and handed to ethernet_input; linkoutput writes
 * them back.
 *
 * The one thing lwIP hands to its tcpip thread even in this use is the
 * loopback: see tcpip_try_callback below. */
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/ethip6.h"
#include "lwip/init.h"
#include "lwip/ip.h"
#include "lwip/nd6.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "lwip/tcpip.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#include "shim.h"

/* ---- the tcpip thread's work, done on this thread --------------------------------- */

/* With NO_SYS=0, lwIP's netif_loop_output (a packet for 127/8, ::1 or our
 * own address: lwIP answers a SYN from a loopback source, and the answer
 * goes there) queues the packet on the netif and asks the tcpip thread to
 * run netif_poll, through tcpip_try_callback; pbuf_free_ooseq does the same
 * when the pool runs dry. The library's tcpip_try_callback asserts
 * ("Invalid mbox") without a tcpip thread, which this shim never starts.
 * This definition takes its place (liblwip calls it through its PLT, so
 * the executable's definition wins; main() checks that it does), and the
 * main loop runs the queued calls after each input frame and each timer
 * pass, in order, as tcpip_thread would: lwIP's own code decides what
 * becomes of the looped packet. */
#define DEFERRED_MAX 64

struct deferred_call {
    tcpip_callback_fn fn;
    void *ctx;
};
static struct deferred_call deferred[DEFERRED_MAX];
static unsigned n_deferred;

err_t tcpip_try_callback(tcpip_callback_fn fn, void *ctx)
{
    if (n_deferred == DEFERRED_MAX)
        return ERR_MEM; /* as a full tcpip mbox: the caller retries later */
    deferred[n_deferred].fn = fn;
    deferred[n_deferred].ctx = ctx;
    n_deferred++;
    return ERR_OK;
}

static void run_deferred(void)
{
    /* A call may queue more (a looped packet answered on loopback again):
     * bounded, so a loop inside lwIP cannot hold the shim. */
    for (int round = 0; round < 16 && n_deferred; round++) {
        unsigned n = n_deferred;
        struct deferred_call batch[DEFERRED_MAX];
        memcpy(batch, deferred, n * sizeof batch[0]);
        n_deferred = 0;
        for (unsigned i = 0; i < n; i++)
            batch[i].fn(batch[i].ctx);
    }
}

/* ---- the TAP netif ---------------------------------------------------------------- */

static struct netif tap_netif;
static int tap_fd = -1;
static uint8_t tap_mac[6];

static err_t tap_linkoutput(struct netif *netif, struct pbuf *p)
{
    (void)netif;
    uint8_t frame[2048];
    if (p->tot_len > sizeof frame)
        return ERR_BUF;
    const void *bytes = p->payload;
    if (p->next) { /* one write per frame: the TAP takes whole frames only */
        pbuf_copy_partial(p, frame, p->tot_len, 0);
        bytes = frame;
    }
    ssize_t n = write(tap_fd, bytes, p->tot_len);
    if (n != (ssize_t)p->tot_len) {
        shim_log("tap write: %s", n < 0 ? strerror(errno) : "short");
        return ERR_IF;
    }
    return ERR_OK;
}

static err_t tap_netif_init(struct netif *netif)
{
    netif->name[0] = 't';
    netif->name[1] = 'w';
    netif->output = etharp_output;
    netif->output_ip6 = ethip6_output;
    netif->linkoutput = tap_linkoutput;
    netif->mtu = 1500;
    netif->hwaddr_len = 6;
    memcpy(netif->hwaddr, tap_mac, 6);
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET |
                   NETIF_FLAG_IGMP | NETIF_FLAG_MLD6;
    return ERR_OK;
}

/* Read what the TAP holds (bounded, so stdin gets its turn). */
static void tap_input_all(void)
{
    for (int i = 0; i < 256; i++) {
        uint8_t frame[2048];
        ssize_t n = read(tap_fd, frame, sizeof frame);
        if (n <= 0)
            return;
        /* PBUF_RAM: one block of the frame's size. A PBUF_POOL chain (any
         * frame above one pool buffer, ~590 bytes: an ICMPv6 Packet Too Big
         * quoting 1232 bytes) made Debian's liblwip 2.1.3 write past the
         * first buffer in pbuf_take (valgrind), then abort in free(). */
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
        if (!p)
            return;
        pbuf_take(p, frame, (u16_t)n);
        if (tap_netif.input(p, &tap_netif) != ERR_OK)
            pbuf_free(p);
        run_deferred();
    }
}

/* ---- handles ------------------------------------------------------------------------ */

enum sock_kind { K_FREE, K_SOCK, K_LISTEN, K_CONN, K_CLOSED };

struct sock {
    enum sock_kind kind;
    int family;
    struct tcp_pcb *pcb;  /* NULL once lwIP freed it (or we let go) */
    bool linger0;         /* SO_LINGER {1, 0}: close() aborts */
    bool connecting;      /* connect() called, no answer yet */
    bool pending;         /* accepted by lwIP, not yet by the user */
    bool eof;
    bool user_closed;     /* close/abort called: the handle is spent */
    int so_error;         /* errno for SO_ERROR, reported once */
    int rx_error;         /* errno for recv after a reset */
    struct pbuf *rx;
    int listener;         /* pending: the listener's handle */
    int next_pending;     /* pending: the next in the listener's queue, or -1 */
    int first_pending, last_pending; /* listener: its queue */
    /* K_CLOSED: the connection as lwIP knows it, to find it again in
     * lwIP's lists (compared, never dereferenced) */
    const struct tcp_pcb *gone_pcb;
    ip_addr_t local_ip, remote_ip;
    u16_t local_port, remote_port;
};

#define FIRST_HANDLE 3

static struct sock *socks;
static int n_socks, cap_socks;

static struct sock *sock_get(int h)
{
    if (h < FIRST_HANDLE || h >= n_socks || socks[h].kind == K_FREE)
        return NULL;
    return &socks[h];
}

static int sock_new(int family)
{
    if (n_socks == 0)
        n_socks = FIRST_HANDLE;
    if (n_socks >= cap_socks) {
        int cap = cap_socks ? 2 * cap_socks : 64;
        struct sock *s = realloc(socks, (size_t)cap * sizeof *s);
        if (!s)
            return -ENOMEM;
        socks = s;
        cap_socks = cap;
    }
    int h = n_socks++;
    memset(&socks[h], 0, sizeof socks[h]);
    socks[h].kind = K_SOCK;
    socks[h].family = family;
    socks[h].listener = socks[h].next_pending = -1;
    socks[h].first_pending = socks[h].last_pending = -1;
    return h;
}

#define ARG_H(arg) ((int)(intptr_t)(arg))

static int lw_errno(err_t e)
{
    switch (e) {
    case ERR_OK: return 0;
    case ERR_MEM: return ENOMEM;
    case ERR_BUF: return ENOBUFS;
    case ERR_TIMEOUT: return ETIMEDOUT;
    case ERR_RTE: return EHOSTUNREACH;
    case ERR_INPROGRESS: return EINPROGRESS;
    case ERR_VAL: return EINVAL;
    case ERR_WOULDBLOCK: return EAGAIN;
    case ERR_USE: return EADDRINUSE;
    case ERR_ALREADY: return EALREADY;
    case ERR_ISCONN: return EISCONN;
    case ERR_CONN: return ENOTCONN;
    case ERR_IF: return EIO;
    case ERR_ABRT: return ECONNABORTED;
    case ERR_RST: return ECONNRESET;
    case ERR_CLSD: return ENOTCONN;
    case ERR_ARG: return EINVAL;
    default: return EIO;
    }
}

static void pending_unlink(struct sock *s, int h)
{
    struct sock *l = sock_get(s->listener);
    s->pending = false;
    if (!l)
        return;
    int prev = -1;
    for (int i = l->first_pending; i >= 0; prev = i, i = socks[i].next_pending) {
        if (i != h)
            continue;
        if (prev < 0)
            l->first_pending = s->next_pending;
        else
            socks[prev].next_pending = s->next_pending;
        if (l->last_pending == h)
            l->last_pending = prev;
        break;
    }
    s->next_pending = -1;
}

static void sock_forget(struct sock *s)
{
    if (s->rx)
        pbuf_free(s->rx);
    s->rx = NULL;
    s->pcb = NULL;
}

/* Detach from a pcb that lwIP keeps running on its own (after tcp_close),
 * remembering its 4-tuple so that `status` can still find it. */
static void sock_let_go(struct sock *s)
{
    struct tcp_pcb *pcb = s->pcb;
    if (pcb) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_sent(pcb, NULL);
        s->gone_pcb = pcb;
        ip_addr_copy(s->local_ip, pcb->local_ip);
        ip_addr_copy(s->remote_ip, pcb->remote_ip);
        s->local_port = pcb->local_port;
        s->remote_port = pcb->remote_port;
    }
    sock_forget(s);
    s->kind = K_CLOSED;
}

/* ---- lwIP callbacks ------------------------------------------------------------------ */

static void on_err(void *arg, err_t err)
{
    int h = ARG_H(arg);
    struct sock *s = sock_get(h);
    if (!s)
        return;
    /* lwIP has freed the pcb already. */
    s->pcb = NULL;
    int e;
    if (s->connecting)
        e = err == ERR_RST ? ECONNREFUSED : err == ERR_ABRT ? ETIMEDOUT : lw_errno(err);
    else
        e = err == ERR_ABRT ? ETIMEDOUT : lw_errno(err);
    if (s->pending) {
        /* The user never saw this connection: it just leaves the queue. */
        pending_unlink(s, h);
        sock_forget(s);
        s->kind = K_FREE;
        return;
    }
    s->so_error = e;
    s->rx_error = e;
    if (s->connecting || err != ERR_RST)
        shim_event("error", h, shim_errno_name(e));
    else
        shim_event("reset", h, NULL);
    s->connecting = false;
    s->kind = K_CLOSED;
    s->gone_pcb = NULL;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)pcb;
    struct sock *s = sock_get(ARG_H(arg));
    if (!s) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (err != ERR_OK) {
        if (p)
            pbuf_free(p);
        return ERR_OK;
    }
    if (!p) {
        if (!s->eof && !s->pending)
            shim_event("eof", ARG_H(arg), NULL);
        s->eof = true;
        return ERR_OK;
    }
    if (s->rx)
        pbuf_cat(s->rx, p);
    else
        s->rx = p;
    return ERR_OK;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)pcb;
    struct sock *s = sock_get(ARG_H(arg));
    if (s && err == ERR_OK) {
        s->connecting = false;
        shim_event("established", ARG_H(arg), NULL);
    }
    return ERR_OK;
}

static void conn_callbacks(struct tcp_pcb *pcb, int h)
{
    tcp_arg(pcb, (void *)(intptr_t)h);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    int lh = ARG_H(arg);
    struct sock *l = sock_get(lh);
    if (err != ERR_OK || !newpcb || !l || l->kind != K_LISTEN)
        return ERR_VAL; /* lwIP aborts newpcb */
    int h = sock_new(IP_IS_V6(&newpcb->local_ip) ? 6 : 4);
    if (h < 0)
        return ERR_MEM;
    l = &socks[lh]; /* sock_new may have moved the table */
    struct sock *s = &socks[h];
    s->kind = K_CONN;
    s->pcb = newpcb;
    s->pending = true;
    s->listener = lh;
    if (l->last_pending >= 0)
        socks[l->last_pending].next_pending = h;
    else
        l->first_pending = h;
    l->last_pending = h;
    conn_callbacks(newpcb, h);
    shim_event("incoming", lh, NULL);
    return ERR_OK;
}

/* ---- states ---------------------------------------------------------------------------- */

static const char *state_name(enum tcp_state st)
{
    switch (st) {
    case CLOSED: return "CLOSED";
    case LISTEN: return "LISTEN";
    case SYN_SENT: return "SYN-SENT";
    case SYN_RCVD: return "SYN-RECEIVED";
    case ESTABLISHED: return "ESTABLISHED";
    case FIN_WAIT_1: return "FIN-WAIT-1";
    case FIN_WAIT_2: return "FIN-WAIT-2";
    case CLOSE_WAIT: return "CLOSE-WAIT";
    case CLOSING: return "CLOSING";
    case LAST_ACK: return "LAST-ACK";
    case TIME_WAIT: return "TIME-WAIT";
    }
    return NULL;
}

/* A connection we let go of: still in lwIP's lists? */
static const struct tcp_pcb *find_gone(const struct sock *s)
{
    struct tcp_pcb *lists[2] = {tcp_active_pcbs, tcp_tw_pcbs};
    for (int i = 0; i < 2; i++)
        for (struct tcp_pcb *p = lists[i]; p; p = p->next)
            if (p == s->gone_pcb && p->local_port == s->local_port &&
                p->remote_port == s->remote_port && ip_addr_cmp(&p->local_ip, &s->local_ip) &&
                ip_addr_cmp(&p->remote_ip, &s->remote_ip))
                return p;
    return NULL;
}

/* ---- user calls ------------------------------------------------------------------------ */

static int lw_socket(int family)
{
    int h = sock_new(family);
    if (h < 0)
        return h;
    struct tcp_pcb *pcb = tcp_new_ip_type(family == 6 ? IPADDR_TYPE_V6 : IPADDR_TYPE_V4);
    if (!pcb) {
        socks[h].kind = K_FREE;
        return -ENOMEM;
    }
    socks[h].pcb = pcb;
    conn_callbacks(pcb, h);
    return h;
}

static int lw_bind(int h, uint16_t port)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->kind != K_SOCK || !s->pcb)
        return -EINVAL;
    err_t e = tcp_bind(s->pcb, s->family == 6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, port);
    return e == ERR_OK ? 0 : -lw_errno(e);
}

static int lw_listen(int h, int backlog)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->kind == K_LISTEN)
        return 0;
    if (s->kind != K_SOCK || !s->pcb || s->pcb->state != CLOSED)
        return -EINVAL;
    if (s->pcb->local_port == 0) {
        err_t e = tcp_bind(s->pcb, s->family == 6 ? IP6_ADDR_ANY : IP4_ADDR_ANY, 0);
        if (e != ERR_OK)
            return -lw_errno(e);
    }
    err_t e = ERR_OK;
    /* TCP_LISTEN_BACKLOG is 0 in Debian's build: lwIP ignores backlog. */
    struct tcp_pcb *lpcb =
        tcp_listen_with_backlog_and_err(s->pcb, (u8_t)(backlog > 255 ? 255 : backlog), &e);
    if (!lpcb)
        return -lw_errno(e);
    s->pcb = lpcb; /* the old pcb is freed */
    s->kind = K_LISTEN;
    tcp_arg(lpcb, (void *)(intptr_t)h);
    tcp_accept(lpcb, on_accept);
    return 0;
}

static int lw_connect(int h, const struct shim_addr *a, uint16_t port)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->kind == K_CONN)
        return s->connecting ? -EALREADY : -EISCONN;
    if (s->kind != K_SOCK || !s->pcb)
        return -EINVAL;
    if ((a->family == 6) != (s->family == 6))
        return -EAFNOSUPPORT;
    ip_addr_t dst;
    if (a->family == 4) {
        IP_ADDR4(&dst, 0, 0, 0, 0);
        ip_2_ip4(&dst)->addr = a->v4.s_addr;
    } else {
        IP_ADDR6(&dst, 0, 0, 0, 0);
        memcpy(ip_2_ip6(&dst)->addr, &a->v6, 16);
        ip6_addr_clear_zone(ip_2_ip6(&dst));
    }
    err_t e = tcp_connect(s->pcb, &dst, port, on_connected);
    if (e != ERR_OK)
        return -lw_errno(e);
    s->kind = K_CONN;
    s->connecting = true;
    return -EINPROGRESS;
}

static int lw_accept(int h)
{
    struct sock *l = sock_get(h);
    if (!l)
        return -EBADF;
    if (l->kind != K_LISTEN)
        return -EINVAL;
    int c = l->first_pending;
    if (c < 0)
        return -EAGAIN;
    pending_unlink(&socks[c], c);
    return c;
}

static void listener_drop_pending(struct sock *l)
{
    /* As the model does: a listener's connections nobody accepted die
     * with it (RST, as Linux does on close of a listener). */
    while (l->first_pending >= 0) {
        int c = l->first_pending;
        pending_unlink(&socks[c], c);
        struct tcp_pcb *pcb = socks[c].pcb;
        socks[c].kind = K_FREE;
        sock_forget(&socks[c]);
        if (pcb) {
            tcp_arg(pcb, NULL);
            tcp_err(pcb, NULL);
            tcp_abort(pcb);
        }
    }
}

static int lw_abort(int h)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    struct tcp_pcb *pcb = s->pcb;
    if (s->kind == K_LISTEN) {
        listener_drop_pending(s);
        s->kind = K_CLOSED;
        s->user_closed = true;
        sock_forget(s);
        if (pcb)
            tcp_close(pcb); /* a listener's close cannot fail */
        return 0;
    }
    if (s->user_closed)
        return -EBADF;
    s->user_closed = true;
    if (s->pending)
        pending_unlink(s, h);
    s->kind = K_CLOSED;
    s->gone_pcb = NULL;
    sock_forget(s);
    if (pcb) {
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_abort(pcb); /* RST unless still CLOSED/LISTEN/SYN-SENT (RFC 9293 3.10.5) */
    }
    return 0;
}

static int lw_close(int h)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->user_closed)
        return -EBADF;
    if (s->kind == K_CLOSED) {
        /* Already gone under us (reset, timeout): just spend the handle. */
        s->user_closed = true;
        return 0;
    }
    if (s->linger0 || s->kind == K_LISTEN)
        return lw_abort(h);
    if (s->pending)
        pending_unlink(s, h);
    if (!s->pcb) {
        s->kind = K_CLOSED;
        return 0;
    }
    /* Unread data makes lwIP send RST (as BSD does); so be it. */
    if (s->rx) {
        tcp_recved(s->pcb, s->rx->tot_len);
        pbuf_free(s->rx);
        s->rx = NULL;
    }
    err_t e = tcp_close(s->pcb);
    if (e != ERR_OK)
        return -lw_errno(e);
    s->connecting = false;
    s->user_closed = true;
    sock_let_go(s);
    return 0;
}

static int lw_shutdown(int h, int how)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->kind != K_CONN || !s->pcb)
        return -ENOTCONN;
    if (how == SHUT_RDWR)
        return lw_close(h);
    err_t e = tcp_shutdown(s->pcb, how == SHUT_RD, how == SHUT_WR);
    return e == ERR_OK ? 0 : -lw_errno(e);
}

static int lw_send(int h, uint32_t len)
{
    static const uint8_t zeros[TCP_SND_BUF];
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->kind != K_CONN || !s->pcb)
        return s->so_error ? -s->so_error : -ENOTCONN;
    uint32_t room = tcp_sndbuf(s->pcb);
    if (len > room)
        len = room;
    if (len > sizeof zeros)
        len = sizeof zeros;
    if (len == 0)
        return -EAGAIN;
    err_t e = tcp_write(s->pcb, zeros, (u16_t)len, TCP_WRITE_FLAG_COPY);
    if (e != ERR_OK)
        return e == ERR_MEM ? -EAGAIN : -lw_errno(e);
    tcp_output(s->pcb);
    return (int)len;
}

static int lw_recv(int h, uint32_t max)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    if (s->rx) {
        u16_t n = (u16_t)(max < s->rx->tot_len ? max : s->rx->tot_len);
        s->rx = pbuf_free_header(s->rx, n);
        if (s->pcb)
            tcp_recved(s->pcb, n);
        return n;
    }
    if (s->eof)
        return 0;
    if (s->rx_error)
        return -s->rx_error;
    if (s->kind != K_CONN)
        return -ENOTCONN;
    return -EAGAIN;
}

static const char *lw_status(int h, int *out_err)
{
    struct sock *s = sock_get(h);
    if (!s) {
        *out_err = -EBADF;
        return NULL;
    }
    if (s->kind == K_LISTEN) {
        /* RFC 9293 has no state for a listener's children: report the
         * newest not-yet-accepted one, SYN-RECEIVED first (adapter.h). */
        for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
            if (p->listener == (struct tcp_pcb_listen *)s->pcb && p->state == SYN_RCVD)
                return "SYN-RECEIVED";
        if (s->last_pending >= 0) {
            struct sock *c = &socks[s->last_pending];
            return c->pcb ? state_name(c->pcb->state) : "CLOSED";
        }
        return "LISTEN";
    }
    if (s->kind == K_CLOSED) {
        const struct tcp_pcb *p = s->gone_pcb ? find_gone(s) : NULL;
        return p ? state_name(p->state) : "CLOSED";
    }
    return s->pcb ? state_name(s->pcb->state) : "CLOSED";
}

static int lw_setsockopt(int h, const char *name, const long *v, int n)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    struct tcp_pcb *pcb = s->pcb;
    if (!strcmp(name, "SO_LINGER")) {
        if (n != 2)
            return -EINVAL;
        s->linger0 = v[0] && v[1] == 0;
        return 0;
    }
    if (!pcb)
        return -EINVAL;
    if (n != 1)
        return -EINVAL;
    if (!strcmp(name, "SO_REUSEADDR")) {
        if (v[0])
            ip_set_option(pcb, SOF_REUSEADDR);
        else
            ip_reset_option(pcb, SOF_REUSEADDR);
        return 0;
    }
    if (!strcmp(name, "SO_KEEPALIVE")) {
        if (v[0])
            ip_set_option(pcb, SOF_KEEPALIVE);
        else
            ip_reset_option(pcb, SOF_KEEPALIVE);
        return 0;
    }
    if (!strcmp(name, "TCP_NODELAY")) {
        if (s->kind == K_LISTEN)
            return 0;
        if (v[0])
            tcp_nagle_disable(pcb);
        else
            tcp_nagle_enable(pcb);
        return 0;
    }
    /* SO_RCVBUF and TCP_MAXSEG are compile-time constants in lwIP
     * (TCP_WND 65535, TCP_MSS 1460 in Debian's build). */
    return -ENOPROTOOPT;
}

static int lw_getsockopt(int h, const char *name, long *v, int *n)
{
    struct sock *s = sock_get(h);
    if (!s)
        return -EBADF;
    *n = 1;
    if (!strcmp(name, "SO_ERROR")) {
        v[0] = s->so_error;
        s->so_error = 0;
        return 0;
    }
    if (!strcmp(name, "SO_LINGER")) {
        v[0] = s->linger0;
        v[1] = 0;
        *n = 2;
        return 0;
    }
    if (!s->pcb)
        return -EINVAL;
    if (!strcmp(name, "SO_REUSEADDR")) {
        v[0] = ip_get_option(s->pcb, SOF_REUSEADDR) != 0;
        return 0;
    }
    if (!strcmp(name, "TCP_NODELAY")) {
        v[0] = s->kind == K_LISTEN ? 0 : tcp_nagle_disabled(s->pcb) != 0;
        return 0;
    }
    if (!strcmp(name, "SO_RCVBUF")) {
        v[0] = TCP_WND;
        return 0;
    }
    if (!strcmp(name, "TCP_MAXSEG")) {
        v[0] = s->kind == K_CONN ? s->pcb->mss : TCP_MSS;
        return 0;
    }
    return -ENOPROTOOPT;
}

static int lw_reset(void)
{
    shim_events_mute(true);
    /* Every pcb lwIP has, ours or its own (SYN-RECEIVED children,
     * TIME-WAIT): abandoned without a RST, so the next case starts on a
     * silent wire. */
    while (tcp_active_pcbs)
        tcp_abandon(tcp_active_pcbs, 0);
    while (tcp_tw_pcbs)
        tcp_abandon(tcp_tw_pcbs, 0);
    while (tcp_listen_pcbs.pcbs)
        tcp_close((struct tcp_pcb *)tcp_listen_pcbs.pcbs);
    while (tcp_bound_pcbs)
        tcp_close(tcp_bound_pcbs);
    for (int h = FIRST_HANDLE; h < n_socks; h++)
        if (socks[h].kind != K_FREE && socks[h].rx)
            pbuf_free(socks[h].rx);
    n_socks = 0;
    etharp_cleanup_netif(&tap_netif);
    nd6_cleanup_netif(&tap_netif);
    shim_events_mute(false);
    return 0;
}

/* ---- the loop ----------------------------------------------------------------------- */

static int lw_poll_fds(struct pollfd *fds, int cap)
{
    (void)cap;
    fds[0].fd = tap_fd;
    fds[0].events = POLLIN;
    fds[0].revents = 0;
    return 1;
}

static int lw_timeout_ms(void)
{
    if (n_deferred)
        return 0;
    u32_t t = sys_timeouts_sleeptime();
    return t == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? -1 : (int)t;
}

static void lw_service(const struct pollfd *fds, int n)
{
    if (n > 0 && (fds[0].revents & POLLIN))
        tap_input_all();
    sys_check_timeouts();
    run_deferred();
}

static const char *lw_features(void)
{
    return "families=4,6 states=yes reset=yes barrier=arp,icmp";
}

static int lw_init(struct shim_env *env, char *err, size_t err_cap)
{
    tap_fd = shim_tap_open(env->tap, err, err_cap);
    if (tap_fd < 0)
        return -1;
    memcpy(tap_mac, env->mac, 6);
    lwip_init();

    ip4_addr_t addr, mask, gw;
    addr.addr = env->addr4.s_addr;
    mask.addr = env->prefix4 ? htonl(0xffffffffu << (32 - env->prefix4)) : 0;
    gw.addr = 0; /* the harness is on-link: no router */
    if (!netif_add(&tap_netif, &addr, &mask, &gw, NULL, tap_netif_init, ethernet_input)) {
        snprintf(err, err_cap, "netif_add failed");
        return -1;
    }
    /* Addresses are valid at once: no DAD probes for the harness to sit
     * through (LWIP_IPV6_DUP_DETECT_ATTEMPTS is 1 in Debian's build). */
    netif_create_ip6_linklocal_address(&tap_netif, 1);
    netif_ip6_addr_set_state(&tap_netif, 0, IP6_ADDR_PREFERRED);
    ip6_addr_t a6;
    memcpy(a6.addr, &env->addr6, 16);
    ip6_addr_clear_zone(&a6);
    s8_t idx = -1;
    if (netif_add_ip6_address(&tap_netif, &a6, &idx) != ERR_OK || idx < 0) {
        snprintf(err, err_cap, "netif_add_ip6_address failed");
        return -1;
    }
    netif_ip6_addr_set_state(&tap_netif, idx, IP6_ADDR_PREFERRED);
    netif_set_default(&tap_netif);
    netif_set_link_up(&tap_netif);
    netif_set_up(&tap_netif);
    /* No router solicitations: there is no router, only the harness. */
    tap_netif.rs_count = 0;
    return 0;
}

static const struct shim_backend lwip_backend = {
    .stack = "lwip",
    .version = LWIP_VERSION_STRING,
    .init = lw_init,
    .features = lw_features,
    .poll_fds = lw_poll_fds,
    .timeout_ms = lw_timeout_ms,
    .service = lw_service,
    .socket = lw_socket,
    .bind = lw_bind,
    .listen = lw_listen,
    .connect = lw_connect,
    .accept = lw_accept,
    .close = lw_close,
    .abort = lw_abort,
    .shutdown = lw_shutdown,
    .send = lw_send,
    .recv = lw_recv,
    .status = lw_status,
    .setsockopt = lw_setsockopt,
    .getsockopt = lw_getsockopt,
    .reset = lw_reset,
};

int main(void)
{
    /* The loopback needs our tcpip_try_callback, not the library's. */
    if (dlsym(RTLD_DEFAULT, "tcpip_try_callback") != (void *)tcpip_try_callback)
        shim_log("liblwip does not call this shim's tcpip_try_callback: a packet lwIP sends "
                 "to a loopback address will abort the shim");
    return shim_main(&lwip_backend);
}

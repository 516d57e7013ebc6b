/* The model adapter: the reference model (target/host.h) behind the adapter
 * interface, on a virtual clock. Deterministic: the RFC 6528 key is fixed
 * per case by the runner, and time moves only when the runner says so. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "frameq.h"
#include "host.h"
#include "netns.h"
#include "tcp.h"

#define TIMER_RUNS_MAX 1000 /* timers run at one instant before we call it a model bug */

struct msock {
    bool used;
    bool closed;        /* the user closed it; kept for state queries */
    int slot;           /* tw_host slot, or TW_NO_SLOT */
    uint16_t port;      /* bound port, 0 = none */
    bool linger_abort;  /* SO_LINGER {onoff=1, linger=0}: close() is ABORT */
    bool reuseaddr, nodelay;
    bool error_read;    /* SO_ERROR already reported */
    int64_t rcvbuf;
};

struct tw_adapter {
    struct tw_host host;
    struct tw_adapter_config cfg;
    uint64_t now;
    uint64_t rows[2];
    uint64_t step_rows[2]; /* since the last tw_adapter_model_take_rows */
    struct msock *socks;
    size_t n_socks, socks_cap;
    int last_child; /* the connection a SYN to a listener created last */
    uint16_t next_port;
    struct tw_frameq q; /* what the model sent, for collect() */
    bool failed; /* an internal error (out of memory, model bug) */
};

/* One closed adapter kept per thread, with its buffers: the fuzz_model
 * driver opens and closes one per input, hundreds of thousands a second, and
 * fresh heap (under ASan) was most of its cost. */
static _Thread_local struct tw_adapter *spare;

static struct tw_adapter *spare_take(void)
{
    struct tw_adapter *a = spare;
    if (!a)
        return calloc(1, sizeof(*a));
    spare = NULL;
    struct msock *socks = a->socks;
    size_t socks_cap = a->socks_cap;
    struct tw_frameq q = a->q;
    memset(a, 0, sizeof(*a));
    a->socks = socks;
    a->socks_cap = socks_cap;
    a->q = q;
    tw_frameq_clear(&a->q);
    return a;
}

static int model_open(struct tw_adapter **out, const struct tw_adapter_config *cfg, char *err,
                      size_t err_cap)
{
    struct tw_env env;
    struct tw_adapter *a;
    *out = NULL;
    tw_env_init(&env);
    if (!cfg->profile || !strcmp(cfg->profile, "C")) {
        tw_profile_default(&env.profile);
    } else if (!strcmp(cfg->profile, "S")) {
        tw_profile_strict(&env.profile);
    } else {
        snprintf(err, err_cap, "profile '%s' is unknown to the model (it has C and S)", cfg->profile);
        return -1;
    }
    env.isn_mode = TW_ISN_RFC6528;
    memcpy(env.secret, cfg->secret, sizeof(env.secret));
    /* D's addresses, both families as on linux (docs/script-format.md): a
     * segment to any other unicast address is not for D (RFC 1122 3.2.1.3). */
    if (cfg->local.family == 4 || cfg->local.family == 6) {
        env.addrs[0] = cfg->local;
        tw_addr_parse(cfg->local.family == 6 ? "198.51.100.2" : "2001:db8::2", &env.addrs[1]);
        env.n_addrs = 2;
    }
    if (cfg->isn_fixed) { /* `threeway record --isn`: fixtures with given numbers */
        env.isn_mode = TW_ISN_FIXED;
        env.isn_fixed = cfg->isn;
    }
    a = spare_take();
    if (!a) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    tw_host_init(&a->host, &env);
    a->cfg = *cfg;
    a->last_child = TW_NO_SLOT;
    a->next_port = 33000; /* D's ephemeral ports; H's are 40000-59999 */
    *out = a;
    return 0;
}

static void model_close(struct tw_adapter *a)
{
    if (!a)
        return;
    if (!spare) {
        spare = a;
        return;
    }
    free(a->socks);
    tw_frameq_free(&a->q);
    free(a);
}

/* Every segment the model wants to send becomes a captured packet. */
static void emit(struct tw_adapter *a, const struct tw_out *o)
{
    a->rows[0] |= o->rows[0];
    a->rows[1] |= o->rows[1];
    a->step_rows[0] |= o->rows[0];
    a->step_rows[1] |= o->rows[1];
    for (unsigned i = 0; i < o->n; i++) {
        struct tw_frame *p = tw_frameq_next(&a->q);
        enum tw_parse_err e;
        if (!p) {
            a->failed = true;
            return;
        }
        p->time_us = a->now;
        p->len = tw_segment_build(&o->seg[i], p->buf, sizeof(p->buf), &e);
        if (!p->len) {
            a->failed = true; /* the model produced a segment the codec cannot build */
            continue;
        }
        a->q.pending.n++;
    }
}

static struct msock *sock_get(struct tw_adapter *a, int h)
{
    if (h < 0 || (size_t)h >= a->n_socks || !a->socks[h].used || a->socks[h].closed)
        return NULL;
    return &a->socks[h];
}

static struct tw_tcb *sock_tcb(struct tw_adapter *a, const struct msock *s)
{
    if (s->slot == TW_NO_SLOT || !(a->host.slot_flags[s->slot] & TW_SLOT_USED))
        return NULL;
    return &a->host.tcb[s->slot];
}

static int new_sock(struct tw_adapter *a)
{
    if (a->n_socks == a->socks_cap) {
        size_t cap = a->socks_cap ? a->socks_cap * 2 : 8;
        struct msock *n = realloc(a->socks, cap * sizeof(*n));
        if (!n)
            return -ENOMEM;
        a->socks = n;
        a->socks_cap = cap;
    }
    memset(&a->socks[a->n_socks], 0, sizeof(a->socks[0]));
    a->socks[a->n_socks].used = true;
    a->socks[a->n_socks].slot = TW_NO_SLOT;
    return (int)a->n_socks++;
}

static int model_socket(struct tw_adapter *a) { return new_sock(a); }

static int model_bind(struct tw_adapter *a, int h, uint16_t port)
{
    struct msock *s = sock_get(a, h);
    if (!s)
        return -EBADF;
    if (s->port)
        return -EINVAL;
    s->port = port;
    return 0;
}

static int model_listen(struct tw_adapter *a, int h, int backlog)
{
    struct msock *s = sock_get(a, h);
    struct tw_out o;
    enum tw_verdict v;
    int slot;
    (void)backlog; /* the host's slot table is the only limit */
    if (!s)
        return -EBADF;
    if (s->slot != TW_NO_SLOT)
        return a->host.tcb[s->slot].state == TW_LISTEN ? 0 : -EINVAL;
    if (!s->port)
        s->port = 8080;
    tw_out_clear(&o);
    slot = tw_host_listen(&a->host, &a->cfg.local, s->port, a->now, &o, &v);
    emit(a, &o);
    if (slot == TW_NO_SLOT)
        return -EADDRINUSE;
    s->slot = slot;
    return 0;
}

static int model_connect(struct tw_adapter *a, int h, uint16_t port)
{
    struct msock *s = sock_get(a, h);
    struct tw_out o;
    enum tw_verdict v;
    int slot;
    if (!s)
        return -EBADF;
    if (s->slot != TW_NO_SLOT) {
        const struct tw_tcb *c = sock_tcb(a, s);
        if (c && (c->state == TW_SYN_SENT || c->state == TW_SYN_RECEIVED))
            return -EALREADY;
        return -EISCONN;
    }
    if (!s->port)
        s->port = a->next_port++;
    tw_out_clear(&o);
    slot = tw_host_connect(&a->host, &a->cfg.local, s->port, &a->cfg.remote, port, a->now, &o, &v);
    emit(a, &o);
    if (slot == TW_NO_SLOT)
        return v == TW_V_OPEN_BAD_REMOTE ? -ENETUNREACH : -EADDRNOTAVAIL;
    s->slot = slot;
    return -EINPROGRESS;
}

static int error_errno(uint8_t error)
{
    switch (error) {
    case TW_ERR_REFUSED: return ECONNREFUSED;
    case TW_ERR_RESET: return ECONNRESET;
    case TW_ERR_TIMEOUT: return ETIMEDOUT;
    case TW_ERR_UNREACH: return EHOSTUNREACH;
    case TW_ERR_SOFT: return EHOSTUNREACH;
    default: return ECONNABORTED;
    }
}

static int model_connect_result(struct tw_adapter *a, int h)
{
    struct msock *s = sock_get(a, h);
    const struct tw_tcb *c;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    if (!c)
        return -ENOTCONN;
    switch (c->state) {
    case TW_SYN_SENT:
    case TW_SYN_RECEIVED:
        return -EINPROGRESS;
    case TW_CLOSED:
        return -error_errno(c->error);
    case TW_LISTEN:
        return -EINVAL;
    default:
        return 0;
    }
}

static int model_accept(struct tw_adapter *a, int h)
{
    struct msock *s = sock_get(a, h);
    const struct tw_tcb *c;
    int child, n;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    if (!c || c->state != TW_LISTEN)
        return -EINVAL;
    child = tw_host_accept(&a->host, s->slot);
    if (child == TW_NO_SLOT)
        return -EAGAIN;
    n = new_sock(a);
    if (n < 0)
        return n;
    a->socks[n].slot = child;
    a->socks[n].port = a->host.tcb[child].lport;
    return n;
}

static void release_if_closed(struct tw_adapter *a, int slot)
{
    if (slot != TW_NO_SLOT && a->host.tcb[slot].state == TW_CLOSED)
        tw_host_release(&a->host, slot);
}

static int model_close_socket(struct tw_adapter *a, int h)
{
    struct msock *s = sock_get(a, h);
    struct tw_tcb *c;
    struct tw_out o;
    if (!s)
        return -EBADF;
    s->closed = true;
    c = sock_tcb(a, s);
    if (!c)
        return 0;
    if (c->state == TW_LISTEN) {
        /* Connections nobody accepted die with their listener (as on Linux):
         * ABORT each, then CLOSE the listener (RFC 9293 3.10.4). */
        for (int i = 0; i < TW_HOST_SLOTS; i++) {
            if ((a->host.slot_flags[i] & (TW_SLOT_USED | TW_SLOT_ACCEPTED)) == TW_SLOT_USED &&
                a->host.parent[i] == s->slot) {
                tw_out_clear(&o);
                tw_abort(&a->host.tcb[i], &a->host.env, a->now, &o);
                emit(a, &o);
                tw_host_release(&a->host, i);
            }
        }
    }
    tw_out_clear(&o);
    if (s->linger_abort)
        tw_abort(c, &a->host.env, a->now, &o);
    else
        tw_close_final(c, &a->host.env, a->now, &o);
    emit(a, &o);
    release_if_closed(a, s->slot);
    return 0;
}

static int model_shutdown(struct tw_adapter *a, int h, int how)
{
    struct msock *s = sock_get(a, h);
    struct tw_tcb *c;
    struct tw_out o;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    if (!c || c->state == TW_LISTEN || c->state == TW_CLOSED)
        return -ENOTCONN;
    if (how == 0) /* SHUT_RD: nothing on the wire */
        return 0;
    if (c->flags & TW_TCB_FIN_SENT)
        return 0;
    tw_out_clear(&o);
    tw_close(c, &a->host.env, a->now, &o);
    emit(a, &o);
    return 0;
}

static int model_send(struct tw_adapter *a, int h, uint32_t len)
{
    struct msock *s = sock_get(a, h);
    struct tw_tcb *c;
    struct tw_out o;
    enum tw_verdict v;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    if (!c || c->state == TW_LISTEN)
        return -ENOTCONN;
    if (c->state == TW_CLOSED)
        return c->error ? -error_errno(c->error) : -EPIPE;
    tw_out_clear(&o);
    v = tw_send(c, &a->host.env, len, a->now, &o);
    emit(a, &o);
    if (v != TW_V_USER_SEND_QUEUED && v != TW_V_USER_SEND_SENT)
        return -EPIPE;
    return (int)len;
}

static int model_recv(struct tw_adapter *a, int h, uint32_t max)
{
    struct msock *s = sock_get(a, h);
    struct tw_tcb *c;
    uint32_t n;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    if (!c || c->state == TW_LISTEN)
        return -ENOTCONN;
    n = tw_read(c, max);
    if (n)
        return (int)n;
    if (c->state == TW_CLOSE_WAIT)
        return 0;
    if (c->state == TW_CLOSED)
        return c->error ? -error_errno(c->error) : 0;
    if (c->state == TW_SYN_SENT || c->state == TW_SYN_RECEIVED || c->state == TW_ESTABLISHED ||
        c->state == TW_FIN_WAIT_1)
        return -EAGAIN;
    return -ENOTCONN;
}

enum { SOL_SOCKET_ = 1, IPPROTO_TCP_ = 6, SO_REUSEADDR_ = 2, SO_ERROR_ = 4, SO_RCVBUF_ = 8,
       SO_LINGER_ = 13, TCP_NODELAY_ = 1, TCP_MAXSEG_ = 2 };

static int model_setsockopt(struct tw_adapter *a, int h, int level, int name, const int64_t *vals,
                            unsigned n)
{
    struct msock *s = sock_get(a, h);
    if (!s)
        return -EBADF;
    if (level == SOL_SOCKET_ && name == SO_LINGER_) {
        if (n < 2)
            return -EINVAL;
        s->linger_abort = vals[0] && vals[1] == 0;
        return 0;
    }
    if (n < 1)
        return -EINVAL;
    if (level == SOL_SOCKET_ && name == SO_REUSEADDR_) {
        s->reuseaddr = vals[0] != 0; /* no TIME-WAIT in the model: nothing else to do */
        return 0;
    }
    if (level == SOL_SOCKET_ && name == SO_RCVBUF_) {
        /* The window the model advertises, for connections opened later. */
        if (vals[0] <= 0)
            return -EINVAL;
        s->rcvbuf = vals[0];
        a->host.env.profile.window = (uint16_t)(vals[0] > 65535 ? 65535 : vals[0]);
        return 0;
    }
    if (level == IPPROTO_TCP_ && name == TCP_NODELAY_) {
        s->nodelay = vals[0] != 0; /* no Nagle in the model: nothing else to do */
        return 0;
    }
    if (level == IPPROTO_TCP_ && name == TCP_MAXSEG_) {
        /* The MSS offered in later SYNs: the model derives it from the MTU. */
        unsigned hdr = a->cfg.family == 6 ? 60 : 40;
        if (vals[0] < 88 || vals[0] > 65535 - (int64_t)hdr)
            return -EINVAL;
        a->host.env.profile.mtu = (uint16_t)(vals[0] + hdr);
        return 0;
    }
    return -ENOPROTOOPT;
}

static int model_getsockopt(struct tw_adapter *a, int h, int level, int name, int64_t *vals,
                            unsigned *n)
{
    struct msock *s = sock_get(a, h);
    const struct tw_tcb *c;
    if (!s)
        return -EBADF;
    c = sock_tcb(a, s);
    *n = 1;
    if (level == SOL_SOCKET_ && name == SO_ERROR_) {
        vals[0] = 0;
        if (c && c->state == TW_CLOSED && c->error && !s->error_read) {
            vals[0] = error_errno(c->error);
            s->error_read = true; /* reading SO_ERROR clears it */
        }
        return 0;
    }
    if (level == SOL_SOCKET_ && name == SO_REUSEADDR_) {
        vals[0] = s->reuseaddr;
        return 0;
    }
    if (level == SOL_SOCKET_ && name == SO_LINGER_) {
        vals[0] = s->linger_abort;
        vals[1] = 0;
        *n = 2;
        return 0;
    }
    if (level == SOL_SOCKET_ && name == SO_RCVBUF_) {
        vals[0] = s->rcvbuf ? s->rcvbuf : a->host.env.profile.window;
        return 0;
    }
    if (level == IPPROTO_TCP_ && name == TCP_NODELAY_) {
        vals[0] = s->nodelay;
        return 0;
    }
    if (level == IPPROTO_TCP_ && name == TCP_MAXSEG_) {
        unsigned hdr = a->cfg.family == 6 ? 60 : 40;
        vals[0] = c && c->snd_mss ? c->snd_mss : (int64_t)a->host.env.profile.mtu - hdr;
        return 0;
    }
    return -ENOPROTOOPT;
}

static const char *model_state(struct tw_adapter *a, int h)
{
    const struct msock *s;
    const struct tw_tcb *c;
    if (h < 0 || (size_t)h >= a->n_socks || !a->socks[h].used)
        return tw_state_name(TW_CLOSED);
    s = &a->socks[h];
    c = sock_tcb(a, s);
    if (!c)
        return tw_state_name(TW_CLOSED);
    if (c->state == TW_LISTEN && a->last_child != TW_NO_SLOT &&
        (a->host.slot_flags[a->last_child] & (TW_SLOT_USED | TW_SLOT_ACCEPTED)) == TW_SLOT_USED &&
        a->host.parent[a->last_child] == s->slot)
        return tw_state_name((enum tw_state)a->host.tcb[a->last_child].state);
    return tw_state_name((enum tw_state)c->state);
}

static void note_slot(struct tw_adapter *a, int slot)
{
    if (slot != TW_NO_SLOT && a->host.parent[slot] != TW_NO_SLOT)
        a->last_child = slot;
}

static int model_inject(struct tw_adapter *a, const uint8_t *pkt, size_t len)
{
    struct tw_out o;
    int slot = TW_NO_SLOT;
    bool icmp = len >= 20 && (((pkt[0] >> 4) == 4 && pkt[9] == 1) ||
                              ((pkt[0] >> 4) == 6 && len >= 40 && pkt[6] == 58));
    tw_out_clear(&o);
    if (icmp) {
        struct tw_icmp ic;
        /* An ICMP error the codec rejects is dropped, as a stack would. */
        if (tw_icmp_parse(pkt, len, TW_PARSE_VERIFY_CHECKSUM, &ic) == TW_PARSE_OK)
            tw_host_icmp(&a->host, &ic, a->now, &o, &slot);
    } else {
        /* Bad checksums and malformed headers: the model decides (HS-GEN-01/-08). */
        tw_host_input_packet(&a->host, pkt, len, a->now, &o, &slot);
    }
    note_slot(a, slot);
    emit(a, &o);
    return a->failed ? -ENOMEM : 0;
}

static size_t model_collect(struct tw_adapter *a, const struct tw_captured **out)
{
    size_t n = tw_frameq_hand(&a->q, out);
    if (n != a->q.handed.n)
        a->failed = true; /* out of memory for the view */
    return n;
}

/* Run every timer due at each deadline up to until_us, in order. */
static int model_advance(struct tw_adapter *a, uint64_t until_us, unsigned flags)
{
    for (;;) {
        uint64_t d = tw_host_next_deadline(&a->host);
        int runs = 0;
        if (!d || d > until_us)
            break;
        if (d > a->now)
            a->now = d;
        for (;;) {
            struct tw_out o;
            int slot;
            tw_out_clear(&o);
            enum tw_verdict v = tw_host_timer(&a->host, a->now, &o, &slot);
            if (v == TW_V_TIMER_NOT_DUE)
                break;
            emit(a, &o);
            if (++runs > TIMER_RUNS_MAX) {
                a->failed = true;
                return -1; /* a timer that never stops being due: a model bug */
            }
        }
        if (flags & TW_ADV_STOP_ON_ACTIVITY)
            return a->failed ? -1 : 0;
    }
    if (until_us > a->now)
        a->now = until_us;
    return a->failed ? -1 : 0;
}

static uint64_t model_now(struct tw_adapter *a) { return a->now; }

static void model_rows(struct tw_adapter *a, uint64_t out[2])
{
    out[0] = a->rows[0];
    out[1] = a->rows[1];
}

/* `ip link set [dev] tw0 mtu N`: D's interface MTU (tw0 is D's interface
 * on the linux stack, netns.h), the profile's MTU knob, which sets the MSS
 * the model offers (MUST-67). 0 if cmd is that command, 1 if it is not, -1
 * if it is with a bad value. */
static int model_ip_link_mtu(struct tw_adapter *a, char **save)
{
    char *tok, *end;
    long v;
    unsigned hdr = a->cfg.family == 6 ? 60 : 40;
    if (!(tok = strtok_r(NULL, " \t", save)) || strcmp(tok, "link") ||
        !(tok = strtok_r(NULL, " \t", save)) || strcmp(tok, "set") ||
        !(tok = strtok_r(NULL, " \t", save)))
        return 1;
    if (!strcmp(tok, "dev") && !(tok = strtok_r(NULL, " \t", save)))
        return 1;
    if (strcmp(tok, TW_NETNS_IFNAME) || !(tok = strtok_r(NULL, " \t", save)) || strcmp(tok, "mtu") ||
        !(tok = strtok_r(NULL, " \t", save)))
        return 1;
    v = strtol(tok, &end, 10);
    if (end == tok || *end || strtok_r(NULL, " \t", save))
        return 1;
    /* IPv4 needs 68 (RFC 791), IPv6 1280 (RFC 8200); 65535 fits the knob. */
    if (v < (a->cfg.family == 6 ? 1280 : 68) || v > 65535 || (unsigned long)v <= hdr)
        return -1;
    a->host.env.profile.mtu = (uint16_t)v;
    return 0;
}

/* Sysctls that map to a profile knob, and `ip link set tw0 mtu N`;
 * everything else is refused. */
static int model_shell(struct tw_adapter *a, const char *cmd, char *err, size_t err_cap)
{
    char buf[512];
    char *save = NULL, *tok;
    bool any = false;
    struct tw_profile *pr = &a->host.env.profile;
    if (strlen(cmd) >= sizeof(buf))
        goto refuse;
    memcpy(buf, cmd, strlen(cmd) + 1);
    tok = strtok_r(buf, " \t", &save);
    if (tok && !strcmp(tok, "ip")) {
        int rc = model_ip_link_mtu(a, &save);
        if (rc < 0) {
            snprintf(err, err_cap, "shell command refused on the model: `%.200s` (MTU out of range)",
                     cmd);
            return -1;
        }
        if (rc == 0)
            return 0;
        goto refuse;
    }
    if (!tok || strcmp(tok, "sysctl"))
        goto refuse;
    while ((tok = strtok_r(NULL, " \t", &save))) {
        char *eq, *end, *name = tok;
        long v;
        if (tok[0] == '-') {
            if (strcmp(tok, "-q") && strcmp(tok, "-w") && strcmp(tok, "-qw") && strcmp(tok, "-wq"))
                goto refuse;
            continue;
        }
        eq = strchr(tok, '=');
        if (!eq)
            goto refuse;
        *eq = '\0';
        for (char *c = name; *c; c++)
            if (*c == '/')
                *c = '.';
        v = strtol(eq + 1, &end, 10);
        if (end == eq + 1 || *end || v < 0 || v > 255)
            goto refuse;
        if (!strcmp(name, "net.ipv4.tcp_timestamps")) {
            pr->offer = (uint8_t)(v ? pr->offer | TW_HAS_TS : pr->offer & ~TW_HAS_TS);
        } else if (!strcmp(name, "net.ipv4.tcp_sack")) {
            pr->offer = (uint8_t)(v ? pr->offer | TW_HAS_SACKOK : pr->offer & ~TW_HAS_SACKOK);
        } else if (!strcmp(name, "net.ipv4.tcp_window_scaling")) {
            pr->offer = (uint8_t)(v ? pr->offer | TW_HAS_WSCALE : pr->offer & ~TW_HAS_WSCALE);
        } else if (!strcmp(name, "net.ipv4.tcp_syn_retries")) {
            pr->syn_retries = (uint8_t)v;
        } else if (!strcmp(name, "net.ipv4.tcp_synack_retries")) {
            pr->synack_retries = (uint8_t)v;
        } else if (!strcmp(name, "net.ipv4.tcp_syncookies") && v == 0) {
            /* the model has no SYN cookies */
        } else {
            goto refuse;
        }
        any = true;
    }
    if (any)
        return 0;
refuse:
    snprintf(err, err_cap,
             "shell command refused on the model: `%.200s` (only `sysctl NAME=V` for "
             "net.ipv4.tcp_timestamps, tcp_sack, tcp_window_scaling, tcp_syn_retries, "
             "tcp_synack_retries, tcp_syncookies=0, and `ip link set dev tw0 mtu N`)",
             cmd);
    return -1;
}

const struct tw_adapter_ops tw_adapter_model = {
    .name = "model",
    .open = model_open,
    .close = model_close,
    .shell = model_shell,
    .socket = model_socket,
    .bind = model_bind,
    .listen = model_listen,
    .connect = model_connect,
    .connect_result = model_connect_result,
    .accept = model_accept,
    .close_socket = model_close_socket,
    .shutdown = model_shutdown,
    .send = model_send,
    .recv = model_recv,
    .setsockopt = model_setsockopt,
    .getsockopt = model_getsockopt,
    .state = model_state,
    .inject = model_inject,
    .collect = model_collect,
    .advance = model_advance,
    .now = model_now,
    .rows = model_rows,
    .stack_tag = "model",
    .default_tolerance_usecs = 0,
};

struct tw_host *tw_adapter_model_host(const struct tw_adapter_ops *ops, struct tw_adapter *a)
{
    return ops == &tw_adapter_model && a ? &a->host : NULL;
}

void tw_adapter_model_take_rows(struct tw_adapter *a, uint64_t rows[2])
{
    rows[0] = a->step_rows[0];
    rows[1] = a->step_rows[1];
    a->step_rows[0] = a->step_rows[1] = 0;
}

const struct tw_adapter_ops *tw_adapter_find(const char *stack)
{
    if (!stack || !strcmp(stack, "model"))
        return &tw_adapter_model;
    if (!strcmp(stack, "linux"))
        return &tw_adapter_linux;
    return tw_adapter_exec_find(stack);
}

/* See host.h. */
#include <string.h>

#include "host.h"

void tw_host_init(struct tw_host *h, const struct tw_env *env)
{
    memset(h, 0, sizeof(*h));
    h->env = *env;
    for (int i = 0; i < TW_HOST_SLOTS; i++)
        h->parent[i] = TW_NO_SLOT;
}

static int alloc_slot(struct tw_host *h)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        if (!(h->slot_flags[i] & TW_SLOT_USED)) {
            memset(&h->tcb[i], 0, sizeof(h->tcb[i]));
            h->slot_flags[i] = TW_SLOT_USED;
            h->parent[i] = TW_NO_SLOT;
            return i;
        }
    }
    return TW_NO_SLOT;
}

void tw_host_release(struct tw_host *h, int slot)
{
    if (slot < 0 || slot >= TW_HOST_SLOTS)
        return;
    /* Children of a released listener can no longer be accepted. */
    for (int i = 0; i < TW_HOST_SLOTS; i++)
        if (h->parent[i] == slot)
            h->parent[i] = TW_ORPHAN;
    h->slot_flags[slot] = 0;
    h->parent[slot] = TW_NO_SLOT;
    memset(&h->tcb[slot], 0, sizeof(h->tcb[slot]));
}

static bool port_in_use(const struct tw_host *h, uint16_t lport, bool listening)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        const struct tw_tcb *c = &h->tcb[i];
        if ((h->slot_flags[i] & TW_SLOT_USED) && c->lport == lport &&
            (c->state == TW_LISTEN) == listening && c->state != TW_CLOSED)
            return true;
    }
    return false;
}

int tw_host_listen(struct tw_host *h, const struct tw_addr *laddr, uint16_t lport,
                   uint64_t now_us, struct tw_out *out, enum tw_verdict *v)
{
    /* MUST-41/-42: a listener may share its port with connections, but
     * not with another listener. */
    if (port_in_use(h, lport, true)) {
        *v = TW_V_CALL_ILLEGAL;
        return TW_NO_SLOT;
    }
    int s = alloc_slot(h);
    if (s == TW_NO_SLOT) {
        *v = TW_V_CALL_ILLEGAL;
        return s;
    }
    *v = tw_open_passive(&h->tcb[s], &h->env, laddr, lport, now_us, out);
    return s;
}

static int find_connection(const struct tw_host *h, const struct tw_segment *seg);

int tw_host_connect(struct tw_host *h, const struct tw_addr *laddr, uint16_t lport,
                    const struct tw_addr *raddr, uint16_t rport, uint64_t now_us,
                    struct tw_out *out, enum tw_verdict *v)
{
    /* RFC 9293 3.10.1: "connection already exists" for a 4-tuple in use. */
    struct tw_segment probe = {.src = *raddr, .dst = *laddr, .sport = rport, .dport = lport};
    if (find_connection(h, &probe) != TW_NO_SLOT) {
        *v = TW_V_CALL_ILLEGAL;
        return TW_NO_SLOT;
    }
    int s = alloc_slot(h);
    if (s == TW_NO_SLOT) {
        *v = TW_V_CALL_ILLEGAL;
        return s;
    }
    *v = tw_open_active(&h->tcb[s], &h->env, laddr, lport, raddr, rport, now_us, out);
    if (*v != TW_V_OPEN_SYN_SENT) {
        tw_host_release(h, s);
        return TW_NO_SLOT;
    }
    return s;
}

int tw_host_accept(struct tw_host *h, int listener)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        const struct tw_tcb *c = &h->tcb[i];
        if ((h->slot_flags[i] & (TW_SLOT_USED | TW_SLOT_ACCEPTED)) == TW_SLOT_USED &&
            h->parent[i] == listener &&
            (c->state == TW_ESTABLISHED || c->state == TW_CLOSE_WAIT)) {
            h->slot_flags[i] |= TW_SLOT_ACCEPTED;
            return i;
        }
    }
    return TW_NO_SLOT;
}

static bool tuple_matches(const struct tw_tcb *c, const struct tw_segment *seg)
{
    return c->lport == seg->dport && c->rport == seg->sport && tw_addr_equal(&c->laddr, &seg->dst) &&
           tw_addr_equal(&c->raddr, &seg->src);
}

static int find_connection(const struct tw_host *h, const struct tw_segment *seg)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        const struct tw_tcb *c = &h->tcb[i];
        if ((h->slot_flags[i] & TW_SLOT_USED) && c->state != TW_LISTEN && c->state != TW_CLOSED &&
            tuple_matches(c, seg))
            return i;
    }
    return TW_NO_SLOT;
}

static int find_listener(const struct tw_host *h, const struct tw_segment *seg)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        const struct tw_tcb *c = &h->tcb[i];
        if ((h->slot_flags[i] & TW_SLOT_USED) && c->state == TW_LISTEN && c->lport == seg->dport &&
            (c->laddr.family == 0 || tw_addr_equal(&c->laddr, &seg->dst)))
            return i;
    }
    return TW_NO_SLOT;
}

int tw_host_lookup(const struct tw_host *h, const struct tw_segment *seg)
{
    int s = find_connection(h, seg);
    return s != TW_NO_SLOT ? s : find_listener(h, seg);
}

/* A passive child that went back to LISTEN is gone: its listener never
 * changed and goes on serving (RFC 9293 3.10.7.4, HS-SYNRCVD-07). */
static void settle(struct tw_host *h, int s)
{
    if (s != TW_NO_SLOT && h->parent[s] != TW_NO_SLOT && h->tcb[s].state == TW_LISTEN)
        tw_host_release(h, s);
}

/* RFC 1122 3.2.1.3: a datagram is for this host when it is addressed to
 * one of its addresses, or to a broadcast or multicast address (which TCP
 * then refuses, MUST-57). A host that knows no address of its own takes
 * everything. */
static bool for_this_host(const struct tw_host *h, const struct tw_addr *dst)
{
    if (!h->env.n_addrs || tw_addr_is_nonunicast(dst))
        return true;
    for (unsigned i = 0; i < h->env.n_addrs && i < sizeof(h->env.addrs) / sizeof(h->env.addrs[0]); i++)
        if (tw_addr_equal(&h->env.addrs[i], dst))
            return true;
    return false;
}

enum tw_verdict tw_host_input(struct tw_host *h, const struct tw_segment *seg, uint64_t now_us,
                              struct tw_out *out, int *slot_out)
{
    int s;
    enum tw_verdict v;
    /* The IP layer drops a datagram for another host silently: no TCP
     * sees it, so not even the CLOSED rules answer it. */
    if (!for_this_host(h, &seg->dst)) {
        if (slot_out)
            *slot_out = TW_NO_SLOT;
        return TW_V_NOT_FOR_HOST_DROPPED;
    }
    s = find_connection(h, seg);
    if (s == TW_NO_SLOT) {
        int l = find_listener(h, seg);
        if (l == TW_NO_SLOT) {
            if (slot_out)
                *slot_out = TW_NO_SLOT;
            return tw_closed_input(seg, out);
        }
        bool new_peer = (seg->flags & (TW_SYN | TW_ACK | TW_RST)) == TW_SYN;
        if (!new_peer) {
            /* RST, ACK and plain segments leave the listener as it is. */
            if (slot_out)
                *slot_out = l;
            return tw_input(&h->tcb[l], &h->env, seg, now_us, out);
        }
        s = alloc_slot(h);
        if (s == TW_NO_SLOT) {
            /* Full: drop the SYN, never answer it with RST (HS-LISTEN-09). */
            if (slot_out)
                *slot_out = l;
            return TW_V_LISTEN_NO_CONTROL_DROPPED;
        }
        h->tcb[s] = h->tcb[l];
        h->parent[s] = (int8_t)l;
    }
    v = tw_input(&h->tcb[s], &h->env, seg, now_us, out);
    settle(h, s);
    if (slot_out)
        *slot_out = s;
    return v;
}

enum tw_verdict tw_host_input_packet(struct tw_host *h, const uint8_t *pkt, size_t len,
                                     uint64_t now_us, struct tw_out *out, int *slot_out)
{
    struct tw_segment seg;
    enum tw_parse_err e = tw_segment_parse(pkt, len, TW_PARSE_VERIFY_CHECKSUM, &seg);
    if (slot_out)
        *slot_out = TW_NO_SLOT;
    if (e == TW_PARSE_BAD_CHECKSUM)
        return TW_V_BAD_CHECKSUM_DROPPED;
    if (e != TW_PARSE_OK)
        return TW_V_MALFORMED_DROPPED;
    return tw_host_input(h, &seg, now_us, out, slot_out);
}

enum tw_verdict tw_host_icmp(struct tw_host *h, const struct tw_icmp *ic, uint64_t now_us,
                             struct tw_out *out, int *slot_out)
{
    /* MUST-54: demultiplex by the quoted 4-tuple (ours is the quote's source). */
    struct tw_segment probe = {.src = ic->q_dst, .dst = ic->q_src, .sport = ic->q_dport,
                               .dport = ic->q_sport};
    int s = find_connection(h, &probe);
    if (slot_out)
        *slot_out = s;
    if (s == TW_NO_SLOT)
        return TW_V_ICMP_NO_CONNECTION;
    enum tw_verdict v = tw_icmp_input(&h->tcb[s], &h->env, ic, now_us, out);
    settle(h, s);
    return v;
}

enum tw_verdict tw_host_timer(struct tw_host *h, uint64_t now_us, struct tw_out *out,
                              int *slot_out)
{
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        if (!(h->slot_flags[i] & TW_SLOT_USED))
            continue;
        uint64_t d = tw_next_deadline(&h->tcb[i]);
        if (!d || d > now_us)
            continue;
        enum tw_verdict v = tw_timer(&h->tcb[i], &h->env, now_us, out);
        settle(h, i);
        if (slot_out)
            *slot_out = i;
        return v;
    }
    if (slot_out)
        *slot_out = TW_NO_SLOT;
    return TW_V_TIMER_NOT_DUE;
}

uint64_t tw_host_next_deadline(const struct tw_host *h)
{
    uint64_t best = 0;
    for (int i = 0; i < TW_HOST_SLOTS; i++) {
        if (!(h->slot_flags[i] & TW_SLOT_USED))
            continue;
        uint64_t d = tw_next_deadline(&h->tcb[i]);
        if (d && (!best || d < best))
            best = d;
    }
    return best;
}

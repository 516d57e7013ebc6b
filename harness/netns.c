/* A private network namespace with one TAP device (see netns.h).
 *
 * Interfaces are configured with ioctl and raw rtnetlink: no helper
 * process, no iproute2, about a millisecond for the whole set-up. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include "netns.h"

static const uint8_t D_MAC[6] = {0x02, 0x74, 0x77, 0x00, 0x00, 0x02};
static const uint8_t H_MAC[6] = {0x02, 0x74, 0x77, 0x00, 0x00, 0x01};

/* The namespace the process started in: never written to. */
static bool start_known;
static dev_t start_dev;
static ino_t start_ino;
/* Once in an unprivileged user namespace, later namespaces are made in it. */
static bool in_userns;

static int ns_identity(dev_t *dev, ino_t *ino)
{
    struct stat st;
    if (stat("/proc/self/ns/net", &st))
        return -1;
    *dev = st.st_dev;
    *ino = st.st_ino;
    return 0;
}

static void remember_start(void)
{
    if (!start_known && !ns_identity(&start_dev, &start_ino))
        start_known = true;
}

int tw_netns_assert_private(char *err, size_t err_cap)
{
    dev_t dev;
    ino_t ino;
    if (!start_known || ns_identity(&dev, &ino)) {
        snprintf(err, err_cap, "cannot tell which network namespace this process is in");
        return -1;
    }
    if (dev == start_dev && ino == start_ino) {
        snprintf(err, err_cap, "refusing to touch the network namespace the process started in");
        return -1;
    }
    return 0;
}

/* ---- sysctls ------------------------------------------------------------------ */

static int sysctl_path(const char *name, char *path, size_t cap)
{
    int n = snprintf(path, cap, "/proc/sys/%s", name);
    if (n < 0 || (size_t)n >= cap)
        return -1;
    for (char *c = path + strlen("/proc/sys/"); *c; c++)
        if (*c == '.')
            *c = '/';
    return 0;
}

int tw_netns_sysctl_read(const char *name, char *buf, size_t cap)
{
    char path[256];
    ssize_t n;
    int fd;
    if (!cap || sysctl_path(name, path, sizeof(path)))
        return -1;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    n = read(fd, buf, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        n--;
    buf[n] = '\0';
    for (char *c = buf; *c; c++)
        if (*c == '\t')
            *c = ' ';
    return 0;
}

int tw_netns_sysctl_write(const char *name, const char *value, char *err, size_t err_cap)
{
    char path[256];
    size_t len = strlen(value);
    int fd;
    if (tw_netns_assert_private(err, err_cap))
        return -1;
    if (sysctl_path(name, path, sizeof(path))) {
        snprintf(err, err_cap, "sysctl name too long: %s", name);
        return -1;
    }
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || write(fd, value, len) != (ssize_t)len) {
        snprintf(err, err_cap, "sysctl %s=%s: %s", name, value, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

/* ---- rtnetlink ------------------------------------------------------------------ */

struct nlreq {
    struct nlmsghdr h;
    union {
        struct ifaddrmsg ifa;
        struct ndmsg nd;
        struct rtmsg rt;
    } u;
    char attrs[128];
};

static void nl_attr(struct nlreq *r, unsigned short type, const void *data, size_t len)
{
    struct rtattr *a = (struct rtattr *)((char *)r + NLMSG_ALIGN(r->h.nlmsg_len));
    a->rta_type = type;
    a->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(a), data, len);
    r->h.nlmsg_len = NLMSG_ALIGN(r->h.nlmsg_len) + RTA_ALIGN(a->rta_len);
}

/* Send one request and wait for its acknowledgement. */
static int nl_talk(int sk, struct nlreq *r, const char *what, char *err, size_t err_cap)
{
    char buf[1024];
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    ssize_t n;
    r->h.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    if (sendto(sk, r, r->h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
        snprintf(err, err_cap, "%s: netlink send: %s", what, strerror(errno));
        return -1;
    }
    n = recv(sk, buf, sizeof(buf), 0);
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
        snprintf(err, err_cap, "%s: netlink: no answer (%s)", what, n < 0 ? strerror(errno) : "short");
        return -1;
    }
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    if (h->nlmsg_type == NLMSG_ERROR) {
        const struct nlmsgerr *e = NLMSG_DATA(h);
        if (e->error) {
            snprintf(err, err_cap, "%s: %s", what, strerror(-e->error));
            return -1;
        }
    }
    return 0;
}

static int add_addr(int sk, int ifindex, int family, const void *addr, unsigned plen, char *err,
                    size_t err_cap)
{
    struct nlreq r;
    size_t alen = family == AF_INET ? 4 : 16;
    uint32_t flags = IFA_F_NODAD | IFA_F_PERMANENT;
    memset(&r, 0, sizeof(r));
    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
    r.h.nlmsg_type = RTM_NEWADDR;
    r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
    r.u.ifa.ifa_family = (unsigned char)family;
    r.u.ifa.ifa_prefixlen = (unsigned char)plen;
    r.u.ifa.ifa_flags = (unsigned char)flags;
    r.u.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
    r.u.ifa.ifa_index = (unsigned)ifindex;
    nl_attr(&r, IFA_LOCAL, addr, alen);
    nl_attr(&r, IFA_ADDRESS, addr, alen);
    nl_attr(&r, IFA_FLAGS, &flags, sizeof(flags));
    return nl_talk(sk, &r, family == AF_INET ? "add IPv4 address" : "add IPv6 address", err, err_cap);
}

static int add_neigh(int sk, int ifindex, int family, const void *addr, const uint8_t mac[6], char *err,
                     size_t err_cap)
{
    struct nlreq r;
    memset(&r, 0, sizeof(r));
    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ndmsg));
    r.h.nlmsg_type = RTM_NEWNEIGH;
    r.h.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
    r.u.nd.ndm_family = (unsigned char)family;
    r.u.nd.ndm_ifindex = ifindex;
    r.u.nd.ndm_state = NUD_PERMANENT;
    nl_attr(&r, NDA_DST, addr, family == AF_INET ? 4 : 16);
    nl_attr(&r, NDA_LLADDR, mac, 6);
    return nl_talk(sk, &r, "add neighbour", err, err_cap);
}

/* Whether the kernel routes addr to this host (RTN_LOCAL). An IPv6 address
 * added with NODAD gets its local route from addrconf's DAD work item,
 * shortly after RTM_NEWADDR returned: until then a segment to it is not
 * delivered (a case's first inbound SYN would vanish). */
static bool route_is_local(int sk, int family, const void *addr)
{
    struct nlreq r;
    char buf[1024];
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    memset(&r, 0, sizeof(r));
    r.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    r.h.nlmsg_type = RTM_GETROUTE;
    r.h.nlmsg_flags = NLM_F_REQUEST;
    r.u.rt.rtm_family = (unsigned char)family;
    r.u.rt.rtm_dst_len = family == AF_INET ? 32 : 128;
    nl_attr(&r, RTA_DST, addr, family == AF_INET ? 4 : 16);
    if (sendto(sk, &r, r.h.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof(kernel)) < 0)
        return false;
    ssize_t n = recv(sk, buf, sizeof(buf), 0);
    const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
    if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct rtmsg)) || h->nlmsg_type != RTM_NEWROUTE)
        return false;
    return ((const struct rtmsg *)NLMSG_DATA(h))->rtm_type == RTN_LOCAL;
}

static int wait_route_local(int sk, int family, const void *addr, char *err, size_t err_cap)
{
    for (int i = 0; i < 3000; i++) {
        if (route_is_local(sk, family, addr))
            return 0;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    snprintf(err, err_cap, "%s: the address's local route did not appear within 3 s", TW_NETNS_IFNAME);
    return -1;
}

/* ---- the namespace ----------------------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    ssize_t n;
    if (fd < 0)
        return -1;
    n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* unshare(CLONE_NEWNET), or, without CAP_SYS_ADMIN, a user namespace where
 * we are root, owning a new network namespace. */
static int enter_fresh_netns(bool *userns, char *err, size_t err_cap)
{
    int e;
    if (unshare(CLONE_NEWNET) == 0) {
        *userns = in_userns;
        return 0;
    }
    e = errno;
    if (e != EPERM || in_userns) {
        snprintf(err, err_cap, "skip: unshare(CLONE_NEWNET): %s", strerror(e));
        return TW_NETNS_UNAVAILABLE;
    }
    uid_t uid = geteuid();
    gid_t gid = getegid();
    if (unshare(CLONE_NEWUSER | CLONE_NEWNET)) {
        snprintf(err, err_cap,
                 "skip: no CAP_NET_ADMIN (unshare(CLONE_NEWNET): %s) and no unprivileged user "
                 "namespace (unshare(CLONE_NEWUSER|CLONE_NEWNET): %s); run as root",
                 strerror(e), strerror(errno));
        return TW_NETNS_UNAVAILABLE;
    }
    char map[64];
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)uid);
    if (write_file("/proc/self/setgroups", "deny") && errno != ENOENT) {
        snprintf(err, err_cap, "skip: user namespace: setgroups: %s", strerror(errno));
        return TW_NETNS_UNAVAILABLE;
    }
    if (write_file("/proc/self/uid_map", map)) {
        snprintf(err, err_cap, "skip: user namespace: uid_map: %s", strerror(errno));
        return TW_NETNS_UNAVAILABLE;
    }
    snprintf(map, sizeof(map), "0 %u 1\n", (unsigned)gid);
    if (write_file("/proc/self/gid_map", map)) {
        snprintf(err, err_cap, "skip: user namespace: gid_map: %s", strerror(errno));
        return TW_NETNS_UNAVAILABLE;
    }
    in_userns = true;
    *userns = true;
    return 0;
}

static int if_flags(int sk, const char *name, short set, short clear, char *err, size_t err_cap)
{
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(sk, SIOCGIFFLAGS, &ifr)) {
        snprintf(err, err_cap, "%s: SIOCGIFFLAGS: %s", name, strerror(errno));
        return -1;
    }
    ifr.ifr_flags = (short)((ifr.ifr_flags | set) & ~clear);
    if (ioctl(sk, SIOCSIFFLAGS, &ifr)) {
        snprintf(err, err_cap, "%s: SIOCSIFFLAGS: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* IPv6 defaults for devices created from now on in this namespace: no
 * link-local address, no DAD, no router solicitations, no autoconf. */
static const char *const V6_QUIET[][2] = {
    {"net.ipv6.conf.default.addr_gen_mode", "1"},
    {"net.ipv6.conf.default.accept_dad", "0"},
    {"net.ipv6.conf.default.dad_transmits", "0"},
    {"net.ipv6.conf.default.router_solicitations", "0"},
    {"net.ipv6.conf.default.accept_ra", "0"},
    {"net.ipv6.conf.default.autoconf", "0"},
    {"net.ipv6.conf.all.accept_dad", "0"},
    {"net.ipv6.conf.all.router_solicitations", "0"},
};

/* Baseline for the namespace: metrics from one case must not shape the
 * next (cached RTTs would change RTOs). Listed by tw_netns_describe. */
static const char *const TCP_BASELINE[][2] = {
    {"net.ipv4.tcp_no_metrics_save", "1"},
    /* The kernel's documented default (ip-sysctl.rst). A fresh namespace
     * sizes tcp_rmem[2] from the host's memory (32 MiB here), which sets
     * the window scale D offers (10 here, 7 with 6 MiB): pinned, so that a
     * case expects the same SYN options on every machine. */
    {"net.ipv4.tcp_rmem", "4096 131072 6291456"},
};

static double mono_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* Leave the namespace we started in for a fresh one of our own (see
 * enter_fresh_netns), and prove it: 0, TW_NETNS_UNAVAILABLE ("skip: ..."),
 * or -1. */
static int enter_private_netns(bool *userns, char *err, size_t err_cap)
{
    remember_start();
    if (!start_known) {
        snprintf(err, err_cap, "skip: /proc/self/ns/net is not readable (is /proc mounted?)");
        return TW_NETNS_UNAVAILABLE;
    }
    int rc = enter_fresh_netns(userns, err, err_cap);
    if (rc)
        return rc;
    return tw_netns_assert_private(err, err_cap) ? -1 : 0;
}

int tw_netns_create(struct tw_netns *ns, char *err, size_t err_cap)
{
    struct ifreq ifr;
    int sk = -1, nl = -1, rc;
    bool userns = false;

    memset(ns, 0, sizeof(*ns));
    ns->tap_fd = -1;
    rc = enter_private_netns(&userns, err, err_cap);
    if (rc)
        return rc;
    ns->userns = userns;
    /* A namespace made from the initial one shares the host's (large) TCP
     * hash table, so every sock_diag dump walks it (~2 ms). Made from a
     * private one whose tcp_child_ehash_entries is set, it gets a table of
     * its own: dumps take microseconds, and nothing is shared with the host. */
    {
        char v[32];
        if (tw_netns_sysctl_read("net.ipv4.tcp_ehash_entries", v, sizeof(v)) == 0 && v[0] == '-' &&
            tw_netns_sysctl_write("net.ipv4.tcp_child_ehash_entries", "4096", err, err_cap) == 0 &&
            unshare(CLONE_NEWNET) == 0 && tw_netns_assert_private(err, err_cap))
            return -1;
    }
    /* From here on every write is inside the new namespace. */
    for (size_t i = 0; i < sizeof(V6_QUIET) / sizeof(V6_QUIET[0]); i++)
        if (access("/proc/sys/net/ipv6", F_OK) == 0 &&
            tw_netns_sysctl_write(V6_QUIET[i][0], V6_QUIET[i][1], err, err_cap))
            return -1;
    for (size_t i = 0; i < sizeof(TCP_BASELINE) / sizeof(TCP_BASELINE[0]); i++)
        if (tw_netns_sysctl_write(TCP_BASELINE[i][0], TCP_BASELINE[i][1], err, err_cap))
            return -1;
    /* RFC 6298 (5.5) backoff from the first SYN retransmission (HS-TMR-02),
     * which the kernel can be set to: since 6.5 it makes the first 4 SYN
     * retransmissions 1 s apart by default. The report's stack line shows
     * the value; timers/syn-linear-timeouts-default sets it back to 4 and
     * shows the declared behaviour. Older kernels have no such sysctl. */
    if (access("/proc/sys/net/ipv4/tcp_syn_linear_timeouts", F_OK) == 0 &&
        tw_netns_sysctl_write("net.ipv4.tcp_syn_linear_timeouts", "0", err, err_cap))
        return -1;

    sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (sk < 0 || nl < 0) {
        snprintf(err, err_cap, "socket: %s", strerror(errno));
        goto fail;
    }
    if (if_flags(sk, "lo", IFF_UP, 0, err, err_cap))
        goto fail;

    ns->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (ns->tap_fd < 0) {
        int e = errno;
        snprintf(err, err_cap, "%s/dev/net/tun: %s", e == ENOENT || e == EACCES || e == EPERM ? "skip: " : "",
                 strerror(e));
        close(sk);
        close(nl);
        return e == ENOENT || e == EACCES || e == EPERM ? TW_NETNS_UNAVAILABLE : -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TW_NETNS_IFNAME);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(ns->tap_fd, TUNSETIFF, &ifr)) {
        int e = errno;
        snprintf(err, err_cap, "%sTUNSETIFF %s: %s", e == EPERM ? "skip: " : "", TW_NETNS_IFNAME, strerror(e));
        close(sk);
        close(nl);
        close(ns->tap_fd);
        ns->tap_fd = -1;
        return e == EPERM ? TW_NETNS_UNAVAILABLE : -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TW_NETNS_IFNAME);
    ifr.ifr_hwaddr.sa_family = 1; /* ARPHRD_ETHER */
    memcpy(ifr.ifr_hwaddr.sa_data, D_MAC, 6);
    if (ioctl(sk, SIOCSIFHWADDR, &ifr)) {
        snprintf(err, err_cap, "%s: SIOCSIFHWADDR: %s", TW_NETNS_IFNAME, strerror(errno));
        goto fail;
    }
    ns->ifindex = (int)if_nametoindex(TW_NETNS_IFNAME);
    if (!ns->ifindex) {
        snprintf(err, err_cap, "%s: no ifindex: %s", TW_NETNS_IFNAME, strerror(errno));
        goto fail;
    }
    memcpy(ns->d_mac, D_MAC, 6);
    memcpy(ns->h_mac, H_MAC, 6);
    /* NOARP: no ARP, no neighbour discovery, no solicited-node groups,
     * hence no MLD reports; neighbours resolve to the entries below. */
    if (if_flags(sk, TW_NETNS_IFNAME, IFF_UP | IFF_NOARP, 0, err, err_cap))
        goto fail;
    {
        struct in_addr d4, h4;
        struct in6_addr d6, h6;
        inet_pton(AF_INET, "198.51.100.2", &d4);
        inet_pton(AF_INET, "198.51.100.1", &h4);
        inet_pton(AF_INET6, "2001:db8::2", &d6);
        inet_pton(AF_INET6, "2001:db8::1", &h6);
        if (add_addr(nl, ns->ifindex, AF_INET, &d4, 24, err, err_cap) ||
            add_neigh(nl, ns->ifindex, AF_INET, &h4, H_MAC, err, err_cap))
            goto fail;
        if (access("/proc/sys/net/ipv6", F_OK) == 0 &&
            (add_addr(nl, ns->ifindex, AF_INET6, &d6, 64, err, err_cap) ||
             add_neigh(nl, ns->ifindex, AF_INET6, &h6, H_MAC, err, err_cap)))
            goto fail;
    }
    /* Operationally up (the TAP has carrier while we hold its fd). */
    {
        double deadline = mono_seconds() + 3;
        for (;;) {
            memset(&ifr, 0, sizeof(ifr));
            snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", TW_NETNS_IFNAME);
            if (ioctl(sk, SIOCGIFFLAGS, &ifr) == 0 && (ifr.ifr_flags & IFF_RUNNING))
                break;
            if (mono_seconds() > deadline) {
                snprintf(err, err_cap, "%s did not come up within 3 s", TW_NETNS_IFNAME);
                goto fail;
            }
            struct timespec ts = {0, 50000};
            nanosleep(&ts, NULL);
        }
    }
    {
        struct in_addr d4;
        struct in6_addr d6;
        inet_pton(AF_INET, "198.51.100.2", &d4);
        inet_pton(AF_INET6, "2001:db8::2", &d6);
        if (wait_route_local(nl, AF_INET, &d4, err, err_cap) ||
            (access("/proc/sys/net/ipv6", F_OK) == 0 && wait_route_local(nl, AF_INET6, &d6, err, err_cap)))
            goto fail;
    }
    close(sk);
    close(nl);
    return 0;
fail:
    if (sk >= 0)
        close(sk);
    if (nl >= 0)
        close(nl);
    tw_netns_release(ns);
    return -1;
}

int tw_netns_create_bare_tap(const char *ifname, int *ifindex, char *err, size_t err_cap)
{
    struct ifreq ifr;
    bool userns = false;
    int fd, sk, rc;
    char key[96];

    rc = enter_private_netns(&userns, err, err_cap);
    if (rc)
        return rc;
    /* From here on every write is inside the new namespace. */
    sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (sk < 0) {
        snprintf(err, err_cap, "socket: %s", strerror(errno));
        return -1;
    }
    if (if_flags(sk, "lo", IFF_UP, 0, err, err_cap))
        goto fail;
    fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        snprintf(err, err_cap, "%s/dev/net/tun: %s", e == ENOENT || e == EACCES || e == EPERM ? "skip: " : "",
                 strerror(e));
        close(sk);
        return e == ENOENT || e == EACCES || e == EPERM ? TW_NETNS_UNAVAILABLE : -1;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    if (ioctl(fd, TUNSETIFF, &ifr) || ioctl(fd, TUNSETPERSIST, 1)) {
        int e = errno;
        snprintf(err, err_cap, "%sTUNSETIFF %s: %s", e == EPERM ? "skip: " : "", ifname, strerror(e));
        close(fd);
        close(sk);
        return e == EPERM ? TW_NETNS_UNAVAILABLE : -1;
    }
    close(fd); /* persistent: the device stays, with no reader until the shim attaches */
    snprintf(key, sizeof(key), "net.ipv6.conf.%s.disable_ipv6", ifname);
    if (access("/proc/sys/net/ipv6", F_OK) == 0 && tw_netns_sysctl_write(key, "1", err, err_cap))
        goto fail;
    if (if_flags(sk, ifname, IFF_UP | IFF_NOARP, 0, err, err_cap))
        goto fail;
    *ifindex = (int)if_nametoindex(ifname);
    if (!*ifindex) {
        snprintf(err, err_cap, "%s: no ifindex: %s", ifname, strerror(errno));
        goto fail;
    }
    close(sk);
    return 0;
fail:
    close(sk);
    return -1;
}

void tw_netns_release(struct tw_netns *ns)
{
    if (ns->tap_fd >= 0)
        close(ns->tap_fd);
    ns->tap_fd = -1;
}

const char *tw_kernel_release(void)
{
    static char release[sizeof(((struct utsname *)0)->release)];
    if (!release[0]) {
        struct utsname u;
        if (uname(&u) == 0)
            snprintf(release, sizeof(release), "%s", u.release);
        else
            snprintf(release, sizeof(release), "unknown");
    }
    return release;
}

/* The sysctls that shape the handshake (requirements section 4, note 9). */
static const char *const DESCRIBED[] = {
    "net.ipv4.tcp_syncookies",     "net.ipv4.tcp_timestamps",         "net.ipv4.tcp_sack",
    "net.ipv4.tcp_window_scaling", "net.ipv4.tcp_ecn",                "net.ipv4.tcp_syn_retries",
    "net.ipv4.tcp_synack_retries", "net.ipv4.tcp_syn_linear_timeouts", "net.ipv4.tcp_rfc1337",
    "net.ipv4.tcp_abort_on_overflow", "net.ipv4.tcp_fastopen",        "net.ipv4.tcp_no_metrics_save",
    "net.ipv4.tcp_challenge_ack_limit", "net.ipv4.tcp_invalid_ratelimit", "net.ipv4.tcp_rmem",
};

size_t tw_netns_describe(char *buf, size_t cap)
{
    size_t len = 0;
    int n;
    if (!cap)
        return 0;
    n = snprintf(buf, cap, "linux %s", tw_kernel_release());
    len = n > 0 ? ((size_t)n < cap ? (size_t)n : cap - 1) : 0;
    for (size_t i = 0; i < sizeof(DESCRIBED) / sizeof(DESCRIBED[0]) && len + 1 < cap; i++) {
        char v[64];
        if (tw_netns_sysctl_read(DESCRIBED[i], v, sizeof(v)))
            continue; /* not on this kernel */
        n = snprintf(buf + len, cap - len, ", %s=%s", DESCRIBED[i] + strlen("net.ipv4."), v);
        if (n < 0)
            break;
        len += (size_t)n < cap - len ? (size_t)n : cap - len - 1;
    }
    return len;
}

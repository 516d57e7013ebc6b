/* A private network namespace with one TAP device: where the kernel is the
 * stack under test (the linux adapter, `threeway bench --stack linux`).
 *
 * The calling process itself moves into a fresh namespace (unshare), so the
 * namespace, the TAP device and every socket die with the process: nothing
 * is ever bind-mounted or named, nothing needs cleaning up after SIGKILL.
 * Every sysctl write and interface operation happens only after the
 * process has left the namespace it started in (checked by inode before
 * each write).
 *
 *   kernel side (D): tw0, 198.51.100.2/24, 2001:db8::2/64, MAC 02:74:77:00:00:02
 *   harness side (H): 198.51.100.1, 2001:db8::1, MAC 02:74:77:00:00:01,
 *                     permanent neighbour entries; tw0 is NOARP, so any
 *                     other H address in 198.51.100.0/24 works too.
 *
 * IPv6 noise is silenced: no link-local address, no DAD, no router
 * solicitations, no solicited-node groups (hence no MLD reports). */
#ifndef TW_NETNS_H
#define TW_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TW_NETNS_IFNAME "tw0"

/* Returned by tw_netns_create when the machine cannot give us a namespace
 * (no CAP_NET_ADMIN and no unprivileged user namespaces, no /dev/net/tun):
 * err then starts with "skip: ". A caller reports the case skipped, never
 * passed. */
#define TW_NETNS_UNAVAILABLE (-2)

struct tw_netns {
    int tap_fd;       /* O_NONBLOCK; frames are Ethernet, no packet info */
    int ifindex;
    uint8_t d_mac[6]; /* tw0's own address */
    uint8_t h_mac[6]; /* the harness's (fictitious) address */
    bool userns;      /* entered through an unprivileged user namespace */
};

/* Leave the current namespace for a fresh one and set it up as above.
 * 0; -1 with the reason in err; TW_NETNS_UNAVAILABLE ("skip: ..."). The
 * process must be single-threaded. Calling it again moves the process to
 * another fresh namespace (the previous one dies once its TAP fd and
 * sockets are closed). */
int tw_netns_create(struct tw_netns *ns, char *err, size_t err_cap);

/* For exec stacks (adapter_exec.c): leave the current namespace for a fresh
 * one with lo up and a *persistent* TAP device `ifname` that nobody holds
 * (a shim attaches to it by name), IPv6 disabled on it, up with NOARP and
 * no address, so the kernel never speaks on it. *ifindex is its index.
 * Returns as tw_netns_create. */
int tw_netns_create_bare_tap(const char *ifname, int *ifindex, char *err, size_t err_cap);

/* Close the TAP fd (the namespace dies when its last socket is closed). */
void tw_netns_release(struct tw_netns *ns);

/* 0 if the process is in a namespace it created (not the one it started
 * in); -1 with a message otherwise. Called before every write. */
int tw_netns_assert_private(char *err, size_t err_cap);

/* Read or write /proc/sys/net/... by dotted or slashed name ("net.ipv4.tcp_sack"). */
int tw_netns_sysctl_read(const char *name, char *buf, size_t cap);
int tw_netns_sysctl_write(const char *name, const char *value, char *err, size_t err_cap);

/* "linux 6.18.44-fc-v782, tcp_syncookies=1, tcp_timestamps=1, ..." : the
 * kernel release and the handshake-relevant sysctls as they are now in the
 * current namespace. Returns the length written (truncated to cap). */
size_t tw_netns_describe(char *buf, size_t cap);

/* uname -r. */
const char *tw_kernel_release(void);

#endif

/* The kernel behind a TAP device in a private namespace (harness/netns.c,
 * harness/adapter_linux.c): set-up, isolation from the host, the adapter's
 * synchronous answers, and that a SIGKILLed run leaves nothing behind.
 *
 * Needs CAP_NET_ADMIN (or unprivileged user namespaces) and /dev/net/tun:
 * without them the whole suite exits 77, which ctest reports as skipped,
 * never passed. Every test runs in its own forked process (CK_FORK), so
 * the runner itself stays in the namespace it started in. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "netns.h"
#include "segment.h"

#define SKIP_CODE 77

static const uint8_t D4[4] = {198, 51, 100, 2};
static const uint8_t H4[4] = {198, 51, 100, 1};

static ino_t ns_inode(const char *path)
{
    struct stat st;
    return stat(path, &st) ? 0 : st.st_ino;
}

/* The IPv4 packet (no Ethernet) of a TCP segment H -> D. */
static size_t build_seg(uint8_t flags, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack, uint8_t *buf,
                        size_t cap)
{
    struct tw_segment s;
    enum tw_parse_err e;
    memset(&s, 0, sizeof(s));
    s.src.family = s.dst.family = 4;
    memcpy(s.src.bytes, H4, 4);
    memcpy(s.dst.bytes, D4, 4);
    s.sport = sport;
    s.dport = dport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 65535;
    return tw_segment_build(&s, buf, cap, &e);
}

static int parse_only(const struct tw_captured *c, size_t n, struct tw_segment *out)
{
    ck_assert_uint_eq(n, 1);
    return tw_segment_parse(c[0].bytes, c[0].len, TW_PARSE_VERIFY_CHECKSUM, out);
}

/* ---- the namespace ---------------------------------------------------------------- */

START_TEST(test_namespace_is_fresh_and_private)
{
    char err[256];
    struct tw_netns ns;
    ino_t host = ns_inode("/proc/self/ns/net");
    ck_assert_int_ne(tw_netns_assert_private(err, sizeof(err)), 0); /* not yet left */
    ck_assert_int_eq(tw_netns_create(&ns, err, sizeof(err)), 0);
    ck_assert_uint_ne(ns_inode("/proc/self/ns/net"), host);
    ck_assert_int_eq(tw_netns_assert_private(err, sizeof(err)), 0);
    ck_assert_int_eq((int)if_nametoindex(TW_NETNS_IFNAME), ns.ifindex);
    tw_netns_release(&ns);
}
END_TEST

START_TEST(test_sysctl_write_lands_in_the_namespace_only)
{
    char err[256], v[64], host_before[64], host_after[64];
    struct tw_netns ns;
    /* An fd opened in the starting namespace keeps reading that one. */
    int host_fd = open("/proc/sys/net/ipv4/tcp_timestamps", O_RDONLY);
    ck_assert_int_ge(host_fd, 0);
    ck_assert_int_gt(pread(host_fd, host_before, sizeof(host_before) - 1, 0), 0);
    ck_assert_int_eq(tw_netns_create(&ns, err, sizeof(err)), 0);
    ck_assert_int_eq(tw_netns_sysctl_write("net.ipv4.tcp_timestamps", host_before[0] == '0' ? "1" : "0", err,
                                           sizeof(err)),
                     0);
    ck_assert_int_eq(tw_netns_sysctl_read("net.ipv4.tcp_timestamps", v, sizeof(v)), 0);
    ck_assert_int_ne(v[0], host_before[0]);
    ck_assert_int_gt(pread(host_fd, host_after, sizeof(host_after) - 1, 0), 0);
    ck_assert_int_eq(host_after[0], host_before[0]);
    close(host_fd);
    tw_netns_release(&ns);
}
END_TEST

START_TEST(test_kernel_answers_before_write_returns)
{
    char err[256];
    struct tw_netns ns;
    uint8_t frame[256], in[2048];
    ck_assert_int_eq(tw_netns_create(&ns, err, sizeof(err)), 0);
    memcpy(frame, ns.d_mac, 6);
    memcpy(frame + 6, ns.h_mac, 6);
    frame[12] = 0x08;
    frame[13] = 0x00;
    size_t n = build_seg(TW_SYN, 40001, 9, 1000, 0, frame + 14, sizeof(frame) - 14);
    ck_assert_int_eq(write(ns.tap_fd, frame, n + 14), (ssize_t)(n + 14));
    /* No sleep, no poll: the RST,ACK from the closed port is already queued. */
    ssize_t got = read(ns.tap_fd, in, sizeof(in));
    ck_assert_int_gt(got, 14);
    struct tw_segment s;
    ck_assert_int_eq(tw_segment_parse(in + 14, (size_t)got - 14, TW_PARSE_VERIFY_CHECKSUM, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.flags, TW_RST | TW_ACK);
    ck_assert_uint_eq(s.ack, 1001);
    tw_netns_release(&ns);
}
END_TEST

START_TEST(test_no_ipv6_or_arp_noise_on_the_tap)
{
    char err[256];
    struct tw_netns ns;
    uint8_t in[2048];
    ck_assert_int_eq(tw_netns_create(&ns, err, sizeof(err)), 0);
    struct pollfd p = {.fd = ns.tap_fd, .events = POLLIN};
    int n = poll(&p, 1, 300); /* DAD, RS and MLD would come within this */
    if (n > 0) {
        ssize_t got = read(ns.tap_fd, in, sizeof(in));
        ck_abort_msg("the kernel sent a frame on its own: %zd bytes, ethertype %02x%02x", got, in[12], in[13]);
    }
    tw_netns_release(&ns);
}
END_TEST

/* ---- the adapter ------------------------------------------------------------------- */

static struct tw_adapter *open_linux(int family)
{
    struct tw_adapter_config cfg;
    struct tw_adapter *a = NULL;
    char err[256];
    memset(&cfg, 0, sizeof(cfg));
    cfg.family = family;
    cfg.profile = "linux";
    tw_addr_parse(family == 6 ? "2001:db8::2" : "198.51.100.2", &cfg.local);
    tw_addr_parse(family == 6 ? "2001:db8::1" : "198.51.100.1", &cfg.remote);
    ck_assert_msg(tw_adapter_linux.open(&a, &cfg, err, sizeof(err)) == 0, "open: %s", err);
    return a;
}

START_TEST(test_adapter_passive_handshake_and_state)
{
    const struct tw_adapter_ops *o = tw_adapter_find("linux");
    const struct tw_captured *c;
    struct tw_segment s;
    uint8_t pkt[256];
    ck_assert_ptr_eq(o, &tw_adapter_linux);
    struct tw_adapter *a = open_linux(4);
    int h = o->socket(a);
    ck_assert_int_ge(h, 0);
    ck_assert_int_eq(o->bind(a, h, 8080), 0);
    ck_assert_int_eq(o->listen(a, h, 1), 0);
    ck_assert_str_eq(o->state(a, h), "LISTEN");
    size_t n = build_seg(TW_SYN, 40002, 8080, 500, 0, pkt, sizeof(pkt));
    ck_assert_int_eq(o->inject(a, pkt, n), 0);
    size_t k = o->collect(a, &c);
    ck_assert_int_eq(parse_only(c, k, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.flags, TW_SYN | TW_ACK);
    ck_assert_uint_eq(s.ack, 501);
    ck_assert_str_eq(o->state(a, h), "SYN-RECEIVED");
    ck_assert_int_eq(o->accept(a, h), -EAGAIN);
    n = build_seg(TW_ACK, 40002, 8080, 501, s.seq + 1, pkt, sizeof(pkt));
    ck_assert_int_eq(o->inject(a, pkt, n), 0);
    ck_assert_uint_eq(o->collect(a, &c), 0);
    int child = o->accept(a, h);
    ck_assert_int_ge(child, 0);
    ck_assert_str_eq(o->state(a, child), "ESTABLISHED");
    ck_assert_ptr_nonnull(o->describe(a));
    ck_assert_ptr_nonnull(strstr(o->describe(a), "tcp_syncookies="));
    o->close(a);
}
END_TEST

START_TEST(test_adapter_active_open_and_refusal)
{
    const struct tw_adapter_ops *o = &tw_adapter_linux;
    const struct tw_captured *c;
    struct tw_segment s;
    uint8_t pkt[256];
    struct tw_adapter *a = open_linux(4);
    int h = o->socket(a);
    ck_assert_int_eq(o->connect(a, h, 8080), -EINPROGRESS);
    size_t k = o->collect(a, &c);
    ck_assert_int_eq(parse_only(c, k, &s), TW_PARSE_OK);
    ck_assert_uint_eq(s.flags, TW_SYN);
    ck_assert_str_eq(o->state(a, h), "SYN-SENT");
    ck_assert_int_eq(o->connect_result(a, h), -EINPROGRESS);
    size_t n = build_seg(TW_RST | TW_ACK, 8080, s.sport, 0, s.seq + 1, pkt, sizeof(pkt));
    ck_assert_int_eq(o->inject(a, pkt, n), 0);
    ck_assert_int_eq(o->connect_result(a, h), -ECONNREFUSED);
    o->close(a);
}
END_TEST

START_TEST(test_namespace_reused_only_when_clean)
{
    const struct tw_adapter_ops *o = &tw_adapter_linux;
    char err[256];
    struct tw_adapter *a = open_linux(4);
    ino_t first = ns_inode("/proc/self/ns/net");
    int h = o->socket(a);
    ck_assert_int_eq(o->connect(a, h, 8080), -EINPROGRESS);
    ck_assert_int_eq(o->close_socket(a, h), 0); /* an orphan in SYN-SENT */
    o->close(a);
    a = open_linux(4);
    ck_assert_uint_eq(ns_inode("/proc/self/ns/net"), first); /* swept: reused */
    ck_assert_int_eq(o->shell(a, "sysctl -q net.ipv4.tcp_sack=0", err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(o->describe(a), "tcp_sack=0"));
    o->close(a);
    a = open_linux(4);
    ck_assert_uint_ne(ns_inode("/proc/self/ns/net"), first); /* a shell ran: fresh */
    char v[16];
    ck_assert_int_eq(tw_netns_sysctl_read("net.ipv4.tcp_sack", v, sizeof(v)), 0);
    ck_assert_str_eq(v, "1");
    o->close(a);
}
END_TEST

START_TEST(test_shell_failure_is_reported)
{
    char err[256];
    struct tw_adapter *a = open_linux(4);
    ck_assert_int_ne(tw_adapter_linux.shell(a, "exit 3", err, sizeof(err)), 0);
    ck_assert_ptr_nonnull(strstr(err, "exit status 3"));
    tw_adapter_linux.close(a);
}
END_TEST

/* ---- a SIGKILLed run leaves nothing behind ------------------------------------------ */

struct inode_set {
    ino_t v[4096];
    size_t n;
};

static void all_netns(struct inode_set *s)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    s->n = 0;
    while (d && (de = readdir(d))) {
        char path[300];
        if (de->d_name[0] < '0' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/ns/net", de->d_name);
        ino_t i = ns_inode(path);
        bool seen = false;
        for (size_t k = 0; k < s->n && !seen; k++)
            seen = s->v[k] == i;
        if (i && !seen && s->n < 4096)
            s->v[s->n++] = i;
    }
    if (d)
        closedir(d);
}

static bool set_has(const struct inode_set *s, ino_t i)
{
    for (size_t k = 0; k < s->n; k++)
        if (s->v[k] == i)
            return true;
    return false;
}

static void host_links(char *buf, size_t cap)
{
    struct if_nameindex *l = if_nameindex(), *p;
    buf[0] = '\0';
    for (p = l; p && p->if_name; p++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%u:%s ", p->if_index, p->if_name);
    if_freenameindex(l);
}

static size_t count_entries(const char *dir, const char *needle)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    size_t n = 0;
    while (d && (de = readdir(d)))
        n += strstr(de->d_name, needle) != NULL;
    if (d)
        closedir(d);
    return n;
}

/* Start argv, wait until it has left our namespace, SIGKILL it, and check
 * that no namespace, interface, process or file survives it. */
static void kill_mid_run_and_check(char *const argv[])
{
    struct inode_set before, after;
    char links_before[4096], links_after[4096];
    ino_t mine = ns_inode("/proc/self/ns/net");
    size_t tmp_before = count_entries("/tmp", "threeway") + count_entries("/dev/shm", "threeway");
    size_t netns_before = count_entries("/run/netns", "");
    all_netns(&before);
    host_links(links_before, sizeof(links_before));
    /* Orphans of the killed process would be re-parented to us. */
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        execv(argv[0], argv);
        _exit(127);
    }
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
    ino_t theirs = mine;
    for (int i = 0; i < 400 && (theirs == mine || !theirs); i++) {
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
        theirs = ns_inode(path);
    }
    ck_assert_msg(theirs && theirs != mine, "%s never entered a namespace of its own", argv[0]);
    struct timespec ts = {0, 300000000}; /* mid-run */
    nanosleep(&ts, NULL);
    ck_assert_int_eq(kill(pid, SIGKILL), 0);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    /* Any grandchild (a shell line's) must die with it: PR_SET_PDEATHSIG. */
    for (int i = 0; i < 200; i++) {
        pid_t w = waitpid(-1, &status, WNOHANG);
        if (w < 0 && errno == ECHILD)
            break;
        ck_assert_msg(i < 199, "a process of the killed run survived it");
        struct timespec t2 = {0, 10000000};
        nanosleep(&t2, NULL);
    }
    all_netns(&after);
    ck_assert_msg(!set_has(&after, theirs), "the run's namespace is still held by a process");
    for (size_t k = 0; k < after.n; k++)
        ck_assert_msg(set_has(&before, after.v[k]), "a network namespace appeared during the run");
    host_links(links_after, sizeof(links_after));
    ck_assert_str_eq(links_after, links_before);
    ck_assert_ptr_null(strstr(links_after, ":tw"));
    ck_assert_uint_eq(count_entries("/run/netns", ""), netns_before);
    ck_assert_uint_eq(count_entries("/tmp", "threeway") + count_entries("/dev/shm", "threeway"), tmp_before);
}

START_TEST(test_sigkilled_bench_leaves_nothing_behind)
{
    const char *bin = getenv("TW_THREEWAY");
    ck_assert_msg(bin && *bin, "TW_THREEWAY (the threeway binary) is not set; ctest sets it");
    char *const argv[] = {(char *)bin, "bench", "--stack", "linux", "--seconds", "5", NULL};
    kill_mid_run_and_check(argv);
}
END_TEST

START_TEST(test_sigkilled_run_in_a_shell_line_leaves_nothing_behind)
{
    const char *bin = getenv("TW_THREEWAY");
    const char *pkt = getenv("TW_SLEEP_CASE");
    ck_assert_msg(bin && *bin && pkt && *pkt, "TW_THREEWAY / TW_SLEEP_CASE are not set; ctest sets them");
    char *const argv[] = {(char *)bin, "run", "--stack", "linux", (char *)pkt, NULL};
    kill_mid_run_and_check(argv);
}
END_TEST

/* ---- main: skip, never pass, where the kernel cannot be reached ---------------------- */

static bool namespace_available(char *why, size_t cap)
{
    pid_t pid = fork();
    int status;
    if (pid == 0) {
        struct tw_netns ns;
        char err[256];
        int rc = tw_netns_create(&ns, err, sizeof(err));
        if (rc)
            fprintf(stderr, "test_netns: %s\n", err);
        _exit(rc == 0 ? 0 : rc == TW_NETNS_UNAVAILABLE ? SKIP_CODE : 1);
    }
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
        snprintf(why, cap, "could not probe for a network namespace");
        return false;
    }
    if (WEXITSTATUS(status) == SKIP_CODE) {
        snprintf(why, cap, "no network namespace with a TAP device here (needs CAP_NET_ADMIN or user namespaces, "
                           "and /dev/net/tun)");
        return false;
    }
    return true;
}

int main(void)
{
    char why[256];
    if (!namespace_available(why, sizeof(why))) {
        printf("SKIP: %s\n", why);
        return SKIP_CODE;
    }
    Suite *s = suite_create("netns");
    TCase *tc = tcase_create("linux");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_namespace_is_fresh_and_private);
    tcase_add_test(tc, test_sysctl_write_lands_in_the_namespace_only);
    tcase_add_test(tc, test_kernel_answers_before_write_returns);
    tcase_add_test(tc, test_no_ipv6_or_arp_noise_on_the_tap);
    tcase_add_test(tc, test_adapter_passive_handshake_and_state);
    tcase_add_test(tc, test_adapter_active_open_and_refusal);
    tcase_add_test(tc, test_namespace_reused_only_when_clean);
    tcase_add_test(tc, test_shell_failure_is_reported);
    tcase_add_test(tc, test_sigkilled_bench_leaves_nothing_behind);
    tcase_add_test(tc, test_sigkilled_run_in_a_shell_line_leaves_nothing_behind);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    /* Each test in its own process: the runner never leaves its namespace. */
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

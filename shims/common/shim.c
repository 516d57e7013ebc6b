/* The shared command loop of threeway's C shims (see shim.h and
 * docs/writing-a-shim.md). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "shim.h"

#define MAX_FDS 16
#define MAX_LINE 4096

static const struct shim_backend *backend;
static int proto_fd = -1;   /* the harness's end: our original stdout */
static char out_buf[65536];
static size_t out_len;
static bool events_muted;
static bool trace; /* TW_SHIM_TRACE=1: each command and its duration on stderr */

/* ---- output --------------------------------------------------------------------- */

static void out_flush(void)
{
    size_t off = 0;
    while (off < out_len) {
        ssize_t n = write(proto_fd, out_buf + off, out_len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* The harness is gone: nothing more to say to anyone. */
            _exit(0);
        }
        off += (size_t)n;
    }
    out_len = 0;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
    char line[MAX_LINE];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line - 1, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n > sizeof line - 2)
        n = (int)sizeof line - 2;
    line[n++] = '\n';
    if (out_len + (size_t)n > sizeof out_buf)
        out_flush();
    memcpy(out_buf + out_len, line, (size_t)n);
    out_len += (size_t)n;
}

void shim_event(const char *what, int h, const char *arg)
{
    if (events_muted)
        return;
    if (arg)
        out_line("event %s %d %s", what, h, arg);
    else
        out_line("event %s %d", what, h);
}

void shim_events_mute(bool mute)
{
    events_muted = mute;
}

void shim_log(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s: %s\n", backend ? backend->stack : "shim", line);
}

uint64_t shim_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* ---- errno names ---------------------------------------------------------------- */

#define ERRNO_LIST(X)                                                                       \
    X(EPERM) X(ENOENT) X(EINTR) X(EIO) X(EBADF) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT)     \
    X(EBUSY) X(EEXIST) X(ENODEV) X(EINVAL) X(EMFILE) X(ENOSPC) X(EPIPE) X(ERANGE)          \
    X(ENOSYS) X(ENOTSOCK) X(EDESTADDRREQ) X(EMSGSIZE) X(EPROTOTYPE) X(ENOPROTOOPT)         \
    X(EPROTONOSUPPORT) X(EOPNOTSUPP) X(EAFNOSUPPORT) X(EADDRINUSE) X(EADDRNOTAVAIL)        \
    X(ENETDOWN) X(ENETUNREACH) X(ENETRESET) X(ECONNABORTED) X(ECONNRESET) X(ENOBUFS)       \
    X(EISCONN) X(ENOTCONN) X(ESHUTDOWN) X(ETIMEDOUT) X(ECONNREFUSED) X(EHOSTDOWN)          \
    X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS) X(EPROTO)

const char *shim_errno_name(int e)
{
    switch (e) {
#define X(name) case name: return #name;
        ERRNO_LIST(X)
#undef X
    default:
        return "EIO";
    }
}

/* ---- TAP ------------------------------------------------------------------------ */

int shim_tap_open(const char *name, char *err, size_t err_cap)
{
    if (!name || !*name || strlen(name) >= IFNAMSIZ) {
        snprintf(err, err_cap, "TW_TAP: missing or too long");
        return -1;
    }
    /* TUNSETIFF would create a missing device: the harness owns the
     * device (and the namespace it lives in), so it must exist already. */
    if (if_nametoindex(name) == 0) {
        snprintf(err, err_cap, "TW_TAP: no interface %s here (the harness creates it)", name);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, err_cap, "/dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, err_cap, "TUNSETIFF %s: %s", name, strerror(errno));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        snprintf(err, err_cap, "O_NONBLOCK: %s", strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* ---- environment ---------------------------------------------------------------- */

static int env_parse(struct shim_env *env, char *err, size_t err_cap)
{
    memset(env, 0, sizeof *env);
    const char *v;
    env->tap = getenv("TW_TAP");
    if (!env->tap) {
        snprintf(err, err_cap, "TW_TAP is not set (run me from the harness)");
        return -1;
    }
    v = getenv("TW_MAC");
    unsigned m[6];
    if (!v || sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) {
        snprintf(err, err_cap, "TW_MAC: expected 02:00:00:00:00:02, got %s", v ? v : "nothing");
        return -1;
    }
    for (int i = 0; i < 6; i++)
        env->mac[i] = (uint8_t)m[i];
    struct { const char *name; int af; void *dst; } addrs[] = {
        {"TW_ADDR4", AF_INET, &env->addr4},  {"TW_PEER4", AF_INET, &env->peer4},
        {"TW_ADDR6", AF_INET6, &env->addr6}, {"TW_PEER6", AF_INET6, &env->peer6},
    };
    for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
        v = getenv(addrs[i].name);
        if (!v || inet_pton(addrs[i].af, v, addrs[i].dst) != 1) {
            snprintf(err, err_cap, "%s: not an address: %s", addrs[i].name, v ? v : "nothing");
            return -1;
        }
    }
    v = getenv("TW_PREFIX4");
    env->prefix4 = v ? atoi(v) : 24;
    v = getenv("TW_PREFIX6");
    env->prefix6 = v ? atoi(v) : 64;
    if (env->prefix4 < 1 || env->prefix4 > 32 || env->prefix6 < 1 || env->prefix6 > 128) {
        snprintf(err, err_cap, "TW_PREFIX4/TW_PREFIX6 out of range");
        return -1;
    }
    return 0;
}

/* ---- commands ------------------------------------------------------------------- */

static bool parse_long(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || *end || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

static void reply_rc(int rc, bool value)
{
    if (rc < 0)
        out_line("err %s %s", shim_errno_name(-rc), strerror(-rc));
    else if (value)
        out_line("ok %d", rc);
    else
        out_line("ok");
}

/* Let the stack run (frames, timers) for at most wait_ms; -1 blocks. */
static int run_stack(int wait_ms, bool with_stdin)
{
    struct pollfd fds[MAX_FDS + 1];
    int n = backend->poll_fds(fds, MAX_FDS);
    int t = backend->timeout_ms();
    if (wait_ms >= 0 && (t < 0 || t > wait_ms))
        t = wait_ms;
    if (with_stdin) {
        fds[n].fd = 0;
        fds[n].events = POLLIN;
        fds[n].revents = 0;
    }
    /* Replies and events go out before we sleep. */
    out_flush();
    int r = poll(fds, (nfds_t)(n + (with_stdin ? 1 : 0)), t);
    if (r < 0 && errno != EINTR) {
        shim_log("poll: %s", strerror(errno));
        exit(1);
    }
    backend->service(fds, r > 0 ? n : 0);
    return with_stdin && r > 0 && (fds[n].revents & (POLLIN | POLLHUP | POLLERR));
}

static void cmd_advance(long usecs)
{
    uint64_t end = shim_now_us() + (uint64_t)usecs;
    for (;;) {
        uint64_t now = shim_now_us();
        if (now >= end)
            break;
        uint64_t left_ms = (end - now + 999) / 1000;
        run_stack((int)(left_ms > INT_MAX ? INT_MAX : left_ms), false);
    }
    run_stack(0, false);
}

static void cmd_sync(void)
{
    /* Everything already in the TAP queue, and every timer already due. */
    for (int i = 0; i < 1000; i++) {
        struct pollfd fds[MAX_FDS];
        int n = backend->poll_fds(fds, MAX_FDS);
        int r = poll(fds, (nfds_t)n, 0);
        backend->service(fds, r > 0 ? n : 0);
        if (r <= 0)
            break;
    }
}

/* Handles are small non-negative integers. */
#define HANDLE(i, var)                                                                     \
    long var;                                                                              \
    if (argc <= (i) || !parse_long(argv[i], 0, INT_MAX, &var)) {                           \
        out_line("err EINVAL %s: bad or missing handle", argv[0]);                         \
        return 0;                                                                          \
    }
#define NUMBER(i, var, lo, hi)                                                             \
    long var;                                                                              \
    if (argc <= (i) || !parse_long(argv[i], lo, hi, &var)) {                               \
        out_line("err EINVAL %s: argument %d: bad or missing number", argv[0], i);         \
        return 0;                                                                          \
    }

static int parse_how(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "RD") || !strcmp(s, "SHUT_RD"))
        return SHUT_RD;
    if (!strcmp(s, "WR") || !strcmp(s, "SHUT_WR"))
        return SHUT_WR;
    if (!strcmp(s, "RDWR") || !strcmp(s, "SHUT_RDWR"))
        return SHUT_RDWR;
    return -1;
}

/* One command line; returns 1 on quit. */
static int do_command(int argc, char **argv)
{
    const char *c = argv[0];
    if (!strcmp(c, "socket")) {
        long fam = 4;
        if (argc > 1 && !parse_long(argv[1], 4, 6, &fam)) {
            out_line("err EAFNOSUPPORT socket: family is 4 or 6");
            return 0;
        }
        if (fam != 4 && fam != 6) {
            out_line("err EAFNOSUPPORT socket: family is 4 or 6");
            return 0;
        }
        reply_rc(backend->socket((int)fam), true);
    } else if (!strcmp(c, "bind")) {
        HANDLE(1, h);
        NUMBER(2, port, 0, 65535);
        reply_rc(backend->bind((int)h, (uint16_t)port), false);
    } else if (!strcmp(c, "listen")) {
        HANDLE(1, h);
        NUMBER(2, backlog, 0, INT_MAX);
        reply_rc(backend->listen((int)h, (int)backlog), false);
    } else if (!strcmp(c, "connect")) {
        HANDLE(1, h);
        struct shim_addr a;
        memset(&a, 0, sizeof a);
        if (argc > 2 && inet_pton(AF_INET, argv[2], &a.v4) == 1) {
            a.family = 4;
        } else if (argc > 2 && inet_pton(AF_INET6, argv[2], &a.v6) == 1) {
            a.family = 6;
        } else {
            out_line("err EINVAL connect: bad or missing address");
            return 0;
        }
        NUMBER(3, port, 1, 65535);
        reply_rc(backend->connect((int)h, &a, (uint16_t)port), false);
    } else if (!strcmp(c, "accept")) {
        HANDLE(1, h);
        reply_rc(backend->accept((int)h), true);
    } else if (!strcmp(c, "close")) {
        HANDLE(1, h);
        reply_rc(backend->close((int)h), false);
    } else if (!strcmp(c, "abort")) {
        HANDLE(1, h);
        reply_rc(backend->abort((int)h), false);
    } else if (!strcmp(c, "shutdown")) {
        HANDLE(1, h);
        int how = parse_how(argc > 2 ? argv[2] : NULL);
        if (how < 0) {
            out_line("err EINVAL shutdown: RD, WR or RDWR");
            return 0;
        }
        reply_rc(backend->shutdown((int)h, how), false);
    } else if (!strcmp(c, "send")) {
        HANDLE(1, h);
        NUMBER(2, len, 0, INT_MAX);
        reply_rc(backend->send((int)h, (uint32_t)len), true);
    } else if (!strcmp(c, "recv")) {
        HANDLE(1, h);
        NUMBER(2, max, 0, INT_MAX);
        reply_rc(backend->recv((int)h, (uint32_t)max), true);
    } else if (!strcmp(c, "status")) {
        HANDLE(1, h);
        int e = 0;
        const char *st = backend->status((int)h, &e);
        if (e < 0)
            reply_rc(e, false);
        else
            out_line("ok %s", st ? st : "unknown");
    } else if (!strcmp(c, "setsockopt")) {
        HANDLE(1, h);
        if (argc < 4 || argc > 3 + SHIM_MAX_VALS) {
            out_line("err EINVAL setsockopt H NAME VALUE...");
            return 0;
        }
        long vals[SHIM_MAX_VALS];
        for (int i = 3; i < argc; i++) {
            if (!parse_long(argv[i], LONG_MIN, LONG_MAX, &vals[i - 3])) {
                out_line("err EINVAL setsockopt: bad value %s", argv[i]);
                return 0;
            }
        }
        reply_rc(backend->setsockopt((int)h, argv[2], vals, argc - 3), false);
    } else if (!strcmp(c, "getsockopt")) {
        HANDLE(1, h);
        if (argc != 3) {
            out_line("err EINVAL getsockopt H NAME");
            return 0;
        }
        long vals[SHIM_MAX_VALS];
        int n = 0;
        int rc = backend->getsockopt((int)h, argv[2], vals, &n);
        if (rc < 0) {
            reply_rc(rc, false);
        } else if (!strcmp(argv[2], "SO_ERROR")) {
            out_line("ok %s", vals[0] ? shim_errno_name((int)vals[0]) : "0");
        } else {
            char line[256];
            size_t off = 0;
            for (int i = 0; i < n && off < sizeof line; i++)
                off += (size_t)snprintf(line + off, sizeof line - off, " %ld", vals[i]);
            line[off < sizeof line ? off : sizeof line - 1] = 0;
            out_line("ok%s", line);
        }
    } else if (!strcmp(c, "reset")) {
        reply_rc(backend->reset(), false);
    } else if (!strcmp(c, "time")) {
        out_line("ok %llu", (unsigned long long)shim_now_us());
    } else if (!strcmp(c, "advance")) {
        NUMBER(1, usecs, 0, 3600L * 1000000L);
        cmd_advance(usecs);
        out_line("ok");
    } else if (!strcmp(c, "sync")) {
        cmd_sync();
        out_line("ok");
    } else if (!strcmp(c, "quit")) {
        out_line("ok");
        return 1;
    } else {
        out_line("err EINVAL unknown command %s", c);
    }
    return 0;
}

static int split(char *line, char **argv, int cap)
{
    int argc = 0;
    for (char *tok = strtok(line, " \t\r"); tok && argc < cap; tok = strtok(NULL, " \t\r"))
        argv[argc++] = tok;
    return argc;
}

int shim_main(const struct shim_backend *b)
{
    backend = b;
    trace = getenv("TW_SHIM_TRACE") && *getenv("TW_SHIM_TRACE") == '1';
    /* The protocol owns our original stdout; whatever a library prints with
     * printf (lwIP's assertions do) lands on stderr instead. */
    proto_fd = dup(1);
    if (proto_fd < 0 || dup2(2, 1) < 0) {
        perror("dup");
        return 1;
    }
    struct shim_env env;
    char err[512];
    if (env_parse(&env, err, sizeof err) || b->init(&env, err, sizeof err)) {
        shim_log("%s", err);
        out_line("fail %s", err);
        out_flush();
        return 1;
    }
    out_line("ready %s %s mac=%02x:%02x:%02x:%02x:%02x:%02x %s", b->stack, b->version,
             env.mac[0], env.mac[1], env.mac[2], env.mac[3], env.mac[4], env.mac[5],
             b->features ? b->features() : "");
    out_flush();

    static char in_buf[2 * MAX_LINE];
    size_t in_len = 0;
    for (;;) {
        if (!run_stack(-1, true))
            continue;
        ssize_t n = read(0, in_buf + in_len, sizeof in_buf - in_len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break; /* EOF: the harness is done with us */
        in_len += (size_t)n;
        char *start = in_buf;
        char *nl;
        while ((nl = memchr(start, '\n', in_len - (size_t)(start - in_buf)))) {
            *nl = 0;
            char *argv[16];
            int argc = split(start, argv, 16);
            start = nl + 1;
            uint64_t t0 = trace ? shim_now_us() : 0;
            int quit = argc ? do_command(argc, argv) : 0;
            if (trace && argc)
                shim_log("%s %s %s: %llu us", argv[0], argc > 1 ? argv[1] : "",
                         argc > 2 ? argv[2] : "", (unsigned long long)(shim_now_us() - t0));
            if (quit) {
                out_flush();
                return 0;
            }
        }
        in_len -= (size_t)(start - in_buf);
        memmove(in_buf, start, in_len);
        if (in_len == sizeof in_buf) {
            out_line("err EINVAL line too long");
            in_len = 0;
        }
    }
    out_flush();
    return 0;
}

/* `threeway isn`: sample a stack's initial sequence numbers and judge
 * whether they are predictable (RFC 9293 3.4.1, RFC 6528; HS-ISN-01,
 * HS-ISN-02). The judging is isn_judge.c; this file samples, through the
 * adapter interface (adapter.h), so it works on every stack the runner
 * drives: model, linux, exec:CMD, lwip, lwipv6.
 *
 * Three series, on D's listener at port 8080 and from H:
 *   ports       N SYNs from N distinct source ports of H, back to back: the
 *               SYN-ACK's ISN of each, then a RST (seq = RCV.NXT) that
 *               removes the embryonic connection (nothing piles up, no
 *               SYN-flood defence such as cookies is provoked);
 *   same tuple  max(8, N/4) SYNs from one source port, each after the
 *               previous was reset, spaced 5, 9, 17, 31 ms apart (in turn,
 *               so that a per-connection counter cannot pass for a clock);
 *               the SYN-ACK's ISN and the time D sent it;
 *   active      N connects from D to H:80: each SYN's ISN, then a RST,ACK
 *               refusing it, and close.
 * Waits happen only between same-tuple samples; the ports and active
 * series go as fast as the stack answers (samples/s in the report). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "adapter.h"
#include "cli.h"
#include "isn_judge.h"
#include "segment.h"

#define D_PORT 8080
#define H_PORT_ACTIVE 80
#define H_PORT_TUPLE 19000
#define H_PORT_FIRST 20000
#define ANSWER_TIMEOUT_US 1000000u /* a SYN-ACK or SYN the stack owes us */
#define SAMPLES_MIN TW_ISN_MIN_PORTS
#define SAMPLES_MAX 4096

static const unsigned tuple_gap_ms[] = {5, 9, 17, 31};

struct sampler {
    const struct tw_adapter_ops *ops;
    struct tw_adapter *a;
    struct tw_adapter_config cfg;
    char why[512]; /* why the series being sampled stopped */
};

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A harness error (a shim that crashed or hung) explains any failure. */
static bool broken(struct sampler *s)
{
    const char *e = s->ops->harness_error ? s->ops->harness_error(s->a) : NULL;
    if (e)
        snprintf(s->why, sizeof(s->why), "%s", e);
    return e != NULL;
}

static int inject(struct sampler *s, const struct tw_segment *seg)
{
    uint8_t pkt[128];
    enum tw_parse_err pe;
    size_t n = tw_segment_build(seg, pkt, sizeof(pkt), &pe);
    if (!n) {
        snprintf(s->why, sizeof(s->why), "cannot build a segment: %s", tw_parse_strerror(pe));
        return -1;
    }
    int rc = s->ops->inject(s->a, pkt, n);
    if (rc < 0) {
        if (!broken(s))
            snprintf(s->why, sizeof(s->why), "inject: %s", strerror(-rc));
        return -1;
    }
    return 0;
}

static void drain(struct sampler *s)
{
    const struct tw_captured *c;
    s->ops->collect(s->a, &c);
}

/* Wait (up to ANSWER_TIMEOUT_US) for the first segment the stack sends to
 * H that matches: flags & mask == want, ports (0: any), and, if want_ack,
 * ack. 0 with it in *out, or -1 with s->why set. */
static int await(struct sampler *s, uint8_t mask, uint8_t want, uint16_t sport, uint16_t dport, bool check_ack,
                 uint32_t ack, struct tw_segment *out, uint64_t *out_us, const char *what)
{
    uint64_t deadline = s->ops->now(s->a) + ANSWER_TIMEOUT_US;
    for (;;) {
        const struct tw_captured *c;
        size_t n = s->ops->collect(s->a, &c);
        for (size_t i = 0; i < n; i++) {
            struct tw_segment seg;
            if (tw_segment_parse(c[i].bytes, c[i].len, 0, &seg) != TW_PARSE_OK)
                continue;
            if ((seg.flags & mask) != want || (sport && seg.sport != sport) || (dport && seg.dport != dport) ||
                (check_ack && seg.ack != ack))
                continue;
            *out = seg;
            *out_us = c[i].time_us;
            return 0;
        }
        if (broken(s))
            return -1;
        uint64_t now = s->ops->now(s->a);
        if (now >= deadline) {
            snprintf(s->why, sizeof(s->why), "no %s within %u ms", what, ANSWER_TIMEOUT_US / 1000u);
            return -1;
        }
        if (s->ops->advance(s->a, deadline, TW_ADV_STOP_ON_ACTIVITY) < 0) {
            if (!broken(s))
                snprintf(s->why, sizeof(s->why), "the stack failed while waiting for a %s", what);
            return -1;
        }
    }
}

static void segment_from_h(const struct sampler *s, struct tw_segment *seg, uint16_t sport, uint16_t dport)
{
    memset(seg, 0, sizeof(*seg));
    seg->src = s->cfg.remote;
    seg->dst = s->cfg.local;
    seg->sport = sport;
    seg->dport = dport;
    seg->window = 65535;
}

/* SYN from H:port, the SYN-ACK's ISN and time, then RST. */
static int sample_synack(struct sampler *s, uint16_t port, uint32_t h_isn, uint32_t *isn, uint64_t *t_us)
{
    struct tw_segment syn, got;
    segment_from_h(s, &syn, port, D_PORT);
    syn.seq = h_isn;
    syn.flags = TW_SYN;
    syn.opt.has = TW_HAS_MSS;
    syn.opt.mss = s->cfg.family == 6 ? 1440 : 1460;
    tw_options_encode(&syn.opt);
    drain(s);
    if (inject(s, &syn) ||
        await(s, TW_SYN | TW_ACK | TW_RST, TW_SYN | TW_ACK, D_PORT, port, true, h_isn + 1, &got, t_us, "SYN-ACK"))
        return -1;
    *isn = got.seq;
    struct tw_segment rst;
    segment_from_h(s, &rst, port, D_PORT);
    rst.seq = h_isn + 1; /* RCV.NXT: the RST is acceptable in SYN-RECEIVED */
    rst.flags = TW_RST;
    if (inject(s, &rst))
        return -1;
    drain(s);
    return 0;
}

/* connect() from D, the SYN's ISN, then RST,ACK (refused) and close. */
static int sample_active(struct sampler *s, uint32_t *isn)
{
    int h = s->ops->socket(s->a);
    if (h < 0) {
        if (!broken(s))
            snprintf(s->why, sizeof(s->why), "socket: %s", strerror(-h));
        return -1;
    }
    drain(s);
    int rc = s->ops->connect(s->a, h, H_PORT_ACTIVE);
    if (rc < 0 && rc != -EINPROGRESS) {
        if (!broken(s))
            snprintf(s->why, sizeof(s->why), "connect: %s", strerror(-rc));
        s->ops->close_socket(s->a, h);
        return -1;
    }
    struct tw_segment got;
    uint64_t t;
    if (await(s, TW_SYN | TW_ACK | TW_RST, TW_SYN, 0, H_PORT_ACTIVE, false, 0, &got, &t, "SYN after connect()")) {
        s->ops->close_socket(s->a, h);
        return -1;
    }
    *isn = got.seq;
    struct tw_segment rst;
    segment_from_h(s, &rst, H_PORT_ACTIVE, got.sport);
    rst.seq = 0;
    rst.ack = got.seq + 1; /* acceptable in SYN-SENT */
    rst.flags = TW_RST | TW_ACK;
    rc = inject(s, &rst);
    s->ops->close_socket(s->a, h);
    drain(s);
    return rc;
}

static int open_listener(struct sampler *s)
{
    int64_t one = 1;
    int l = s->ops->socket(s->a);
    if (l < 0) {
        snprintf(s->why, sizeof(s->why), "socket: %s", strerror(-l));
        return -1;
    }
    s->ops->setsockopt(s->a, l, 1 /* SOL_SOCKET */, 2 /* SO_REUSEADDR */, &one, 1);
    int rc = s->ops->bind(s->a, l, D_PORT);
    if (rc >= 0)
        rc = s->ops->listen(s->a, l, 128);
    if (rc < 0) {
        if (!broken(s))
            snprintf(s->why, sizeof(s->why), "cannot listen on port %d: %s", D_PORT, strerror(-rc));
        return -1;
    }
    return 0;
}

static void json_string(const char *text)
{
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: threeway isn [--stack model|linux|lwip|lwipv6|exec:CMD] [--samples N] [--ipv6] [--json]\n"
            "                   [--list]\n\n"
            "Samples the stack's initial sequence numbers and judges whether they can be\n"
            "predicted (RFC 9293 3.4.1, RFC 6528):\n"
            "  - N SYNs from distinct source ports of H, back to back, each SYN-ACK's ISN\n"
            "    noted and the connection reset;\n"
            "  - max(8, N/4) SYNs on one 4-tuple, 5 to 31 ms apart, each after the last\n"
            "    was reset;\n"
            "  - N active opens (connect() to H:80), each SYN's ISN noted and refused.\n"
            "N defaults to 128 (%d..%d). Checks, each with its requirement ID and numbers:\n"
            "  HS-ISN-02 not-constant          the SYN-ACK ISNs are not one value for half\n"
            "                                  or more of the connections\n"
            "  HS-ISN-02 unpredictable-ports   across ports: next = prev + median of the\n"
            "                                  earlier deltas (or + last delta) lands within\n"
            "                                  +-65535 for at most 1%% of guesses; 90%% of\n"
            "                                  deltas distinct; the deltas' low byte has at\n"
            "                                  least half the entropy the sample allows\n"
            "  HS-ISN-01 same-tuple-clock      one 4-tuple over time: every delta positive\n"
            "                                  mod 2^32, 90%% of intervals within x2 of the\n"
            "                                  median rate (ISN proportional to time), and\n"
            "                                  2^32 ticks take at least an MSL (120 s)\n"
            "  HS-ISN-02 active-not-constant   not-constant on the active SYN ISNs\n"
            "  HS-ISN-02 active-unpredictable  the port test on the active SYN ISNs\n"
            "The model samples with a fixed RFC 6528 key on its virtual clock. --ipv6\n"
            "samples over IPv6 (2001:db8::/32). --list prints every ISN sampled. --json\n"
            "prints one object: stack, samples, collected {ports, same_tuple, active},\n"
            "seconds, samples_per_sec, pass, checks [{id, name, pass, detail}] (and with\n"
            "--list, isns {ports, same_tuple [[us, isn]...], active}). Exit 0 when every\n"
            "check passes, 1 when one fails (or the stack cannot run here: 'skip: ...'),\n"
            "2 on bad usage.\n",
            SAMPLES_MIN, SAMPLES_MAX);
}

int tw_cmd_isn(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stack", required_argument, NULL, 's'}, {"samples", required_argument, NULL, 'n'},
        {"ipv6", no_argument, NULL, '6'},        {"json", no_argument, NULL, 'j'},
        {"list", no_argument, NULL, 'l'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *stack = "model";
    long samples = 128;
    int json = 0, v6 = 0, list = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:n:6jlh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's':
            stack = optarg;
            break;
        case 'n':
            errno = 0;
            samples = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || samples < SAMPLES_MIN || samples > SAMPLES_MAX) {
                fprintf(stderr, "threeway isn: --samples wants a whole number in [%d, %d], got '%s'\n", SAMPLES_MIN,
                        SAMPLES_MAX, optarg);
                return TW_EXIT_USAGE;
            }
            break;
        case '6':
            v6 = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'l':
            list = 1;
            break;
        case 'h':
            usage(stdout);
            return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway isn: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "threeway isn: unexpected argument '%s'\n", argv[optind]);
        return TW_EXIT_USAGE;
    }
    struct sampler s;
    memset(&s, 0, sizeof(s));
    s.ops = tw_adapter_find(stack);
    if (!s.ops) {
        fprintf(stderr, "threeway isn: stack '%s' is not available in this build (it has: model, linux)\n", stack);
        return TW_EXIT_USAGE;
    }
    s.cfg.family = v6 ? 6 : 4;
    s.cfg.profile = "C";
    tw_addr_parse(v6 ? "2001:db8::2" : "198.51.100.2", &s.cfg.local);
    tw_addr_parse(v6 ? "2001:db8::1" : "198.51.100.1", &s.cfg.remote);
    memcpy(s.cfg.secret, "threeway-isn-key", 16); /* the model's; real stacks keep their own */
    char err[4096];
    int rc = s.ops->open(&s.a, &s.cfg, err, sizeof(err));
    if (rc && strncmp(err, "skip: ", 6) && strstr(err, "harness error")) {
        /* A shim that misses its first barrier now and then (the exec
         * adapter's start-up echo, sent once): one fresh start, said aloud. */
        fprintf(stderr, "threeway isn: %s; starting it once more\n", err);
        rc = s.ops->open(&s.a, &s.cfg, err, sizeof(err));
    }
    if (rc) {
        /* "skip: ..." when this machine cannot run the stack (no namespace). */
        fprintf(stderr, "threeway isn: %s%s\n", strncmp(err, "skip: ", 6) ? "cannot start the stack: " : "", err);
        return TW_EXIT_FAIL;
    }
    char describe[1024] = "";
    if (s.ops->describe)
        snprintf(describe, sizeof(describe), "%s", s.ops->describe(s.a));

    size_t n = (size_t)samples, n_tuple = n / 4 < 8 ? 8 : n / 4;
    uint32_t *ports_isn = calloc(n, sizeof(uint32_t)), *tuple_isn = calloc(n_tuple, sizeof(uint32_t));
    uint32_t *active_isn = calloc(n, sizeof(uint32_t));
    uint64_t *tuple_us = calloc(n_tuple, sizeof(uint64_t));
    struct tw_isn_data d = {.ports_isn = ports_isn, .tuple_isn = tuple_isn, .tuple_us = tuple_us,
                            .active_isn = active_isn};
    char why_ports[640] = "", why_tuple[640] = "", why_active[640] = "";
    if (!ports_isn || !tuple_isn || !active_isn || !tuple_us) {
        fprintf(stderr, "threeway isn: out of memory\n");
        free(ports_isn);
    free(tuple_isn);
    free(active_isn);
    free(tuple_us);
        s.ops->close(s.a);
        return TW_EXIT_FAIL;
    }
    double busy = 0, t0 = wall_seconds(), t;
    if (open_listener(&s)) {
        snprintf(why_ports, sizeof(why_ports), "%s", s.why);
        snprintf(why_tuple, sizeof(why_tuple), "%s", s.why);
    } else {
        /* H's ISNs: any values; a fixed odd stride keeps them apart. */
        t = wall_seconds();
        for (size_t i = 0; i < n; i++) {
            uint64_t when;
            if (sample_synack(&s, (uint16_t)(H_PORT_FIRST + i), (uint32_t)(0x9e3779b9u * (i + 1)), &ports_isn[i],
                              &when)) {
                snprintf(why_ports, sizeof(why_ports), "sample %zu: %s", i + 1, s.why);
                break;
            }
            d.n_ports++;
        }
        busy += wall_seconds() - t;
        for (size_t i = 0; i < n_tuple && !broken(&s); i++) {
            if (i) {
                uint64_t until = s.ops->now(s.a) + 1000ull * tuple_gap_ms[(i - 1) % 4];
                if (s.ops->advance(s.a, until, 0) < 0) {
                    snprintf(why_tuple, sizeof(why_tuple), "sample %zu: the stack failed while time passed", i + 1);
                    break;
                }
                drain(&s);
            }
            if (sample_synack(&s, H_PORT_TUPLE, (uint32_t)(0x7f4a7c15u * (i + 1)), &tuple_isn[i], &tuple_us[i])) {
                snprintf(why_tuple, sizeof(why_tuple), "sample %zu: %s", i + 1, s.why);
                break;
            }
            d.n_tuple++;
        }
        if (!why_tuple[0] && d.n_tuple < n_tuple)
            snprintf(why_tuple, sizeof(why_tuple), "%s", s.why);
    }
    t = wall_seconds();
    for (size_t i = 0; i < n && !broken(&s); i++) {
        if (sample_active(&s, &active_isn[i])) {
            snprintf(why_active, sizeof(why_active), "sample %zu: %s", i + 1, s.why);
            break;
        }
        d.n_active++;
    }
    if (!why_active[0] && d.n_active < n)
        snprintf(why_active, sizeof(why_active), "%s", s.why);
    busy += wall_seconds() - t;
    double seconds = wall_seconds() - t0;
    s.ops->close(s.a);

    d.why_ports = why_ports[0] ? why_ports : NULL;
    d.why_tuple = why_tuple[0] ? why_tuple : NULL;
    d.why_active = why_active[0] ? why_active : NULL;
    struct tw_isn_report r;
    tw_isn_judge(&d, &r);
    size_t fast = d.n_ports + d.n_active;
    double rate = busy > 0 ? (double)fast / busy : 0;
    size_t passed = 0;
    for (size_t i = 0; i < r.n; i++)
        passed += r.checks[i].pass;
    if (json) {
        printf("{\"stack\": ");
        json_string(stack);
        printf(", \"samples\": %zu, \"collected\": {\"ports\": %zu, \"same_tuple\": %zu, \"active\": %zu}, "
               "\"seconds\": %.3f, \"samples_per_sec\": %.0f, \"pass\": %s, \"checks\": [",
               n, d.n_ports, d.n_tuple, d.n_active, seconds, rate, r.pass ? "true" : "false");
        for (size_t i = 0; i < r.n; i++) {
            printf("%s{\"id\": \"%s\", \"name\": \"%s\", \"pass\": %s, \"detail\": ", i ? ", " : "", r.checks[i].id,
                   r.checks[i].name, r.checks[i].pass ? "true" : "false");
            json_string(r.checks[i].detail);
            putchar('}');
        }
        printf("]");
        if (list) {
            printf(", \"isns\": {\"ports\": [");
            for (size_t i = 0; i < d.n_ports; i++)
                printf("%s%u", i ? ", " : "", ports_isn[i]);
            printf("], \"same_tuple\": [");
            for (size_t i = 0; i < d.n_tuple; i++)
                printf("%s[%llu, %u]", i ? ", " : "", (unsigned long long)tuple_us[i], tuple_isn[i]);
            printf("], \"active\": [");
            for (size_t i = 0; i < d.n_active; i++)
                printf("%s%u", i ? ", " : "", active_isn[i]);
            printf("]}");
        }
        printf("}\n");
    } else {
        printf("stack %s%s%s%s: %zu SYN-ACK ISNs across ports, %zu on one 4-tuple, %zu active SYN ISNs in %.3f s "
               "(%.0f samples/s without the same-tuple waits)\n",
               stack, describe[0] ? " (" : "", describe, describe[0] ? ")" : "", d.n_ports, d.n_tuple, d.n_active,
               seconds, rate);
        if (list) {
            for (size_t i = 0; i < d.n_ports; i++)
                printf("port %u: ISN %u\n", H_PORT_FIRST + (unsigned)i, ports_isn[i]);
            for (size_t i = 0; i < d.n_tuple; i++)
                printf("tuple at %.3f ms: ISN %u\n", (double)tuple_us[i] / 1000.0, tuple_isn[i]);
            for (size_t i = 0; i < d.n_active; i++)
                printf("active %zu: ISN %u\n", i + 1, active_isn[i]);
        }
        for (size_t i = 0; i < r.n; i++)
            printf("%s %s %s: %s\n", r.checks[i].pass ? "ok  " : "FAIL", r.checks[i].id, r.checks[i].name,
                   r.checks[i].detail);
        printf("%zu checks: %zu passed, %zu failed\n", r.n, passed, r.n - passed);
    }
    free(ports_isn);
    free(tuple_isn);
    free(active_isn);
    free(tuple_us);
    return r.pass ? TW_EXIT_OK : TW_EXIT_FAIL;
}

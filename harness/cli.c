/* The threeway command line. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "bench.h"
#include "cli.h"
#include "tcp.h"

#ifndef TW_VERSION
#define TW_VERSION "0.0.0"
#endif

static const struct tw_command commands[] = {
    {"diagram", "print the model's transition table as Graphviz (dot) on stdout", tw_cmd_diagram},
    {"bench", "measure a stack: --stack model|linux|lwip|lwipv6|exec:CMD [--seconds S] [--json]", tw_cmd_bench},
    {"isn", "judge a stack's ISNs for predictability: --stack model|linux|lwip|lwipv6|exec:CMD [--samples N] [--json]", tw_cmd_isn},
    {"run", "run case scripts on a stack: [--stack model] [--format text|tap|junit] PATH...", tw_cmd_run},
    {"matrix", "the suite on several stacks as a requirement x stack table: [--stacks S,...] [--out-dir DIR]", tw_cmd_matrix},
    {"coverage", "which requirements and model transitions the cases cover", tw_cmd_coverage},
    {"lint", "check case scripts: syntax and covers: IDs against the requirement list", tw_cmd_lint},
    {"decode", "print fuzz_model inputs as case scripts: [--output-dir DIR] FILE...", tw_cmd_decode},
    {"encode", "case scripts as fuzz_model inputs (seeds): --output-dir DIR CASE...", tw_cmd_encode},
    {"record", "run a case on the model and write the exchange as a pcap: CASE -o FILE.pcap", tw_cmd_record},
    {"replay", "replay one side of a pcap into a stack, judge its answers: FILE.pcap [--stack S]", tw_cmd_replay},
    {"import", "turn a pcap of a handshake into a case script: FILE.pcap -o CASE.pkt", tw_cmd_import},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: threeway [--help] [--version] <command> [options]\n\n"
               "threeway: conformance and fuzz testing for the TCP three-way handshake\n"
               "(RFC 9293). Commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'threeway <command> --help' describes a command. Exit codes: 0 ok, 1 a check\n"
               "failed, 2 bad input or usage.\n");
}

int tw_cli_main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return TW_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return TW_EXIT_OK;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("threeway %s\n", TW_VERSION);
        return TW_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (!strcmp(cmd, commands[i].name))
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "threeway: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return TW_EXIT_USAGE;
}

static void put_stdout(void *ctx, const char *text)
{
    (void)ctx;
    fputs(text, stdout);
}

int tw_cmd_diagram(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: threeway diagram\n\nPrints the model's transition table as a Graphviz digraph;\n"
               "render it with: threeway diagram | dot -Tsvg > handshake.svg\n");
        return TW_EXIT_OK;
    }
    if (argc > 1) {
        fprintf(stderr, "threeway diagram: unexpected argument '%s'\n", argv[1]);
        return TW_EXIT_USAGE;
    }
    tw_diagram(put_stdout, NULL);
    return fflush(stdout) == 0 ? TW_EXIT_OK : TW_EXIT_FAIL;
}

static int parse_seconds(const char *text, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v > 0) || v > 86400)
        return -1;
    *out = v;
    return 0;
}

/* `threeway bench --stack linux`: the kernel over a TAP device, with its own
 * loopback connect()+accept() rate as the reference. */
static int bench_linux(double seconds, int json)
{
    struct tw_bench_result r;
    char err[512];
    int rc = tw_bench_linux(seconds, &r, err, sizeof(err));
    if (rc && err[0]) {
        /* No namespace on this machine: say so, never report a number. */
        fprintf(stderr, "threeway bench: %s\n", err);
        return TW_EXIT_FAIL;
    }
    double rate = r.seconds > 0 ? (double)r.handshakes / r.seconds : 0;
    double seg_rate = r.seconds > 0 ? (double)r.segments / r.seconds : 0;
    if (json) {
        printf("{\"stack\": \"linux\", \"handshakes\": %llu, \"seconds\": %.3f, \"handshakes_per_sec\": %.0f, "
               "\"segments\": %llu, \"segments_per_sec\": %.0f, \"loopback_connect_accept_per_sec\": %.0f, "
               "\"kernel\": \"%s\"}\n",
               (unsigned long long)r.handshakes, r.seconds, rate, (unsigned long long)r.segments, seg_rate,
               r.loopback_per_sec, r.environment);
    } else {
        printf("stack linux: %llu checked handshakes in %.3f s: %.0f handshakes/s (%.0f segments/s)\n"
               "reference: loopback connect()+accept() in the same namespace: %.0f/s (%.2fx)\n%s\n",
               (unsigned long long)r.handshakes, r.seconds, rate, seg_rate, r.loopback_per_sec,
               r.loopback_per_sec > 0 ? rate / r.loopback_per_sec : 0, r.environment);
    }
    if (rc) {
        fprintf(stderr, "threeway bench: %llu handshakes went wrong; first: %s\n", (unsigned long long)r.failures,
                r.failure);
        return TW_EXIT_FAIL;
    }
    return TW_EXIT_OK;
}

/* `threeway bench --stack lwip|lwipv6|exec:CMD`: the shim's stack over a TAP
 * device (adapter_exec.c). */
static int bench_exec(const char *stack, double seconds, int json)
{
    struct tw_bench_result r;
    char err[4096];
    int rc = tw_bench_exec(seconds, 64, &r, err, sizeof(err));
    if (rc && err[0]) {
        fprintf(stderr, "threeway bench: %s\n", err);
        return TW_EXIT_FAIL;
    }
    double rate = r.seconds > 0 ? (double)r.handshakes / r.seconds : 0;
    double seg_rate = r.seconds > 0 ? (double)r.segments / r.seconds : 0;
    if (json) {
        printf("{\"stack\": \"%s\", \"handshakes\": %llu, \"seconds\": %.3f, \"handshakes_per_sec\": %.0f, "
               "\"segments\": %llu, \"segments_per_sec\": %.0f, \"window\": 64, \"failures\": %llu, "
               "\"shim\": \"",
               stack, (unsigned long long)r.handshakes, r.seconds, rate, (unsigned long long)r.segments, seg_rate,
               (unsigned long long)r.failures);
        for (const char *p = r.environment; *p; p++)
            if (*p == '"' || *p == '\\')
                printf("\\%c", *p);
            else if ((unsigned char)*p >= 0x20)
                putchar(*p);
        printf("\"}\n");
    } else {
        printf("stack %s: %llu checked handshakes in %.3f s: %.0f handshakes/s (%.0f segments/s, 64 SYNs in "
               "flight)\n%s\n",
               stack, (unsigned long long)r.handshakes, r.seconds, rate, seg_rate, r.environment);
    }
    if (rc) {
        fprintf(stderr, "threeway bench: %llu handshakes went wrong; first: %s\n", (unsigned long long)r.failures,
                r.failure);
        return TW_EXIT_FAIL;
    }
    return TW_EXIT_OK;
}

int tw_cmd_bench(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stack", required_argument, NULL, 's'},
        {"seconds", required_argument, NULL, 't'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *stack = "model";
    double seconds = 3;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:t:jh", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            stack = optarg;
            break;
        case 't':
            if (parse_seconds(optarg, &seconds)) {
                fprintf(stderr, "threeway bench: --seconds wants a number of seconds in (0, 86400], got '%s'\n",
                        optarg);
                return TW_EXIT_USAGE;
            }
            break;
        case 'j':
            json = 1;
            break;
        case 'h':
            printf("usage: threeway bench [--stack model|linux|lwip|lwipv6|exec:CMD] [--seconds S] [--json]\n\n"
                   "Drives complete, checked handshakes (plus odd segments: a duplicate SYN, an ACK\n"
                   "to a listener, a segment to a closed port) through the stack for S seconds\n"
                   "(default 3) and reports segments per second. --json prints one object with\n"
                   "the keys stack, segments, seconds, segments_per_sec (and handshakes).\n\n"
                   "--stack linux: complete, checked handshakes with the kernel in a private\n"
                   "network namespace over a TAP device (needs root or user namespaces), each on\n"
                   "a distinct 4-tuple, then the kernel's own loopback connect()+accept() rate as\n"
                   "the reference; JSON keys stack, handshakes, seconds, handshakes_per_sec,\n"
                   "segments, segments_per_sec, loopback_connect_accept_per_sec, kernel.\n\n"
                   "--stack lwip|lwipv6|exec:CMD: complete, checked handshakes with a shim's stack\n"
                   "over a TAP device (docs/writing-a-shim.md), 64 SYNs in flight, each freed by\n"
                   "a RST; JSON keys stack, handshakes, seconds, handshakes_per_sec, segments,\n"
                   "segments_per_sec, window, failures, shim.\n");
            return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway bench: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return TW_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "threeway bench: unexpected argument '%s'\n", argv[optind]);
        return TW_EXIT_USAGE;
    }
    if (!strcmp(stack, "linux"))
        return bench_linux(seconds, json);
    if (strcmp(stack, "model") && tw_adapter_find(stack))
        return bench_exec(stack, seconds, json);
    if (strcmp(stack, "model") != 0) {
        fprintf(stderr, "threeway bench: unknown stack '%s' (this build knows: model, linux)\n", stack);
        return TW_EXIT_USAGE;
    }
    struct tw_bench_result r;
    int rc = tw_bench_model(seconds, &r);
    double rate = r.seconds > 0 ? (double)r.segments / r.seconds : 0;
    if (json) {
        printf("{\"stack\": \"%s\", \"segments\": %llu, \"seconds\": %.3f, \"segments_per_sec\": %.0f, "
               "\"handshakes\": %llu}\n",
               stack, (unsigned long long)r.segments, r.seconds, rate, (unsigned long long)r.handshakes);
    } else {
        printf("stack %s: %llu segments in %.3f s: %.0f segments/s (%llu checked handshakes)\n", stack,
               (unsigned long long)r.segments, r.seconds, rate, (unsigned long long)r.handshakes);
    }
    if (rc) {
        fprintf(stderr, "threeway bench: %llu handshakes went wrong; first: %s\n",
                (unsigned long long)r.failures, r.failure);
        return TW_EXIT_FAIL;
    }
    return TW_EXIT_OK;
}

/* `threeway record`, `threeway replay` and `threeway import`: the CLI side of
 * pcap.h. See docs/pcap.md. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"
#include "cli.h"
#include "pcap.h"
#include "runner.h"
#include "script.h"

static int parse_u32(const char *text, uint64_t max, uint32_t *out)
{
    char *end;
    unsigned long long v;
    if (!text[0] || text[0] == '-')
        return -1;
    errno = 0;
    v = strtoull(text, &end, 0);
    if (errno || end == text || *end || v > max)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static void print_lines(FILE *f, const char *prefix, const char *text)
{
    while (text && *text) {
        size_t n = strcspn(text, "\n");
        fprintf(f, "%s%.*s\n", prefix, (int)n, text);
        text += n + (text[n] ? 1 : 0);
    }
}

static void print_notes(const char *file, const struct tw_pcap_capture *c)
{
    for (unsigned i = 0; i < c->n_notes; i++)
        fprintf(stderr, "%s: %s (skipped)\n", file, c->notes[i]);
    if (c->n_skipped > c->n_notes)
        fprintf(stderr, "%s: %u more records skipped\n", file, c->n_skipped - c->n_notes);
}

/* The last two parts of a path ("listen/syn.pkt"): what the runner keys a
 * case's ISNs on, so that a recording does not depend on where it ran from. */
static const char *path_tail(const char *path)
{
    const char *p;
    int slashes = 0;
    for (p = path + strlen(path); p > path; p--)
        if (p[-1] == '/' && ++slashes == 2)
            break;
    return p;
}

static int as_option(const char *cmd, const char *v, bool *as_client)
{
    if (!strcmp(v, "client") || !strcmp(v, "server")) {
        *as_client = !strcmp(v, "client");
        return 0;
    }
    fprintf(stderr, "threeway %s: --as wants client or server, got '%s'\n", cmd, v);
    return -1;
}

/* Read a capture and turn it into a script; 0, or exit code 2 after a message. */
static int load_capture(const char *cmd, const char *file, const struct tw_import_opts *o,
                        char **text, struct tw_import_info *info)
{
    struct tw_pcap_capture c;
    char err[512];
    enum tw_pcap_err e = tw_pcap_read_path(file, &c, err, sizeof(err));
    if (e != TW_PCAP_OK) {
        fprintf(stderr, "threeway %s: %s\n", cmd, err);
        tw_pcap_capture_cleanup(&c);
        return TW_EXIT_USAGE;
    }
    print_notes(file, &c);
    e = tw_pcap_import(&c, o, text, info, err, sizeof(err));
    tw_pcap_capture_cleanup(&c);
    if (e != TW_PCAP_OK) {
        fprintf(stderr, "threeway %s: %s\n", cmd, err);
        return TW_EXIT_USAGE;
    }
    if (info->n_after || info->n_other)
        fprintf(stderr, "%s: not imported: %zu segments after the handshake, %zu of other connections\n", file,
                info->n_after, info->n_other);
    return 0;
}

/* ---- run --pcap-dir -------------------------------------------------------------- */

int tw_run_case_traced(const char *dir, const char *case_path, const char *stack,
                       const struct tw_script *s, struct tw_run_config *cfg,
                       struct tw_case_result *res)
{
    char file[4096], err[512];
    struct tw_pcap_writer *w = NULL;
    int rc = 0;
    if (tw_pcap_case_file(dir, case_path, ".pcap", file, sizeof(file))) {
        fprintf(stderr, "threeway run: --pcap-dir: the trace's name for %s is too long\n", case_path);
        rc = -1;
    } else if (tw_pcap_writer_open(&w, file, err, sizeof(err)) != TW_PCAP_OK) {
        fprintf(stderr, "threeway run: --pcap-dir: %s\n", err);
        rc = -1;
    }
    cfg->trace = w ? tw_pcap_trace : NULL;
    cfg->trace_ctx = w;
    tw_run_case(s, cfg, res);
    cfg->trace = NULL;
    cfg->trace_ctx = NULL;
    if (w && tw_pcap_writer_close(w, err, sizeof(err)) != TW_PCAP_OK) {
        fprintf(stderr, "threeway run: --pcap-dir: %s: %s\n", file, err);
        rc = -1;
    }
    if (w) {
        tw_pcap_case_file(dir, case_path, ".txt", file, sizeof(file));
        if (tw_pcap_write_sidecar(file, case_path, stack, cfg->profile ? cfg->profile : "C", res, err,
                                  sizeof(err)) != TW_PCAP_OK) {
            fprintf(stderr, "threeway run: --pcap-dir: %s\n", err);
            rc = -1;
        }
    }
    return rc;
}

/* Run a case, writing every frame to trace_out (if not NULL). The exit code
 * (ok, a failed case, or a trace that could not be written), or -1 if the
 * trace could not be opened: then nothing ran and *r is untouched. */
static int run_traced(const char *cmd, const struct tw_script *s, struct tw_run_config *cfg,
                      const char *trace_out, struct tw_case_result *r)
{
    struct tw_pcap_writer *w = NULL;
    char err[512];
    if (trace_out) {
        if (tw_pcap_writer_open(&w, trace_out, err, sizeof(err)) != TW_PCAP_OK) {
            fprintf(stderr, "threeway %s: %s\n", cmd, err);
            return -1;
        }
        cfg->trace = tw_pcap_trace;
        cfg->trace_ctx = w;
    }
    tw_run_case(s, cfg, r);
    int rc = r->status == TW_CASE_FAIL ? TW_EXIT_FAIL : TW_EXIT_OK;
    if (w && tw_pcap_writer_close(w, err, sizeof(err)) != TW_PCAP_OK) {
        fprintf(stderr, "threeway %s: %s: %s\n", cmd, trace_out, err);
        rc = TW_EXIT_USAGE;
    }
    return rc;
}

/* ---- record ------------------------------------------------------------------- */

static void record_usage(FILE *f)
{
    fprintf(f,
            "usage: threeway record CASE.pkt -o FILE.pcap [--profile C|S] [--isn N] [--port N]\n"
            "                       [--h-port N]\n\n"
            "Runs one case on the model and writes every packet injected and sent to FILE\n"
            "(Ethernet, H 02:00:00:00:00:01, D 02:00:00:00:00:02, times from the model's\n"
            "virtual clock): the same case gives the same bytes on every run and from any\n"
            "directory (H's port and D's ISN key come from the last two parts of the path).\n\n"
            "  --isn N     D's ISN is N for every connection (default: the case's RFC 6528 hash)\n"
            "  --port N    D's port for bind() (default 8080)\n"
            "  --h-port N  H's port for inbound connections (default: from the case's path)\n\n"
            "Prints the verdict. Exit: 0 the case passed, 1 it failed (the capture is still\n"
            "written), 2 bad input.\n");
}

int tw_cmd_record(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"profile", required_argument, NULL, 'p'},
        {"isn", required_argument, NULL, 'i'},    {"port", required_argument, NULL, 'P'},
        {"h-port", required_argument, NULL, 'H'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *profile = "C";
    struct tw_run_config cfg = {.tolerance_usecs = -1};
    struct tw_script s;
    struct tw_script_error se;
    struct tw_case_result r;
    uint32_t v;
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'p': profile = optarg; break;
        case 'i':
            if (parse_u32(optarg, UINT32_MAX, &v)) {
                fprintf(stderr, "threeway record: --isn wants a number in [0, 4294967295], got '%s'\n", optarg);
                return TW_EXIT_USAGE;
            }
            cfg.d_isn_fixed = true;
            cfg.d_isn = v;
            break;
        case 'P':
        case 'H':
            if (parse_u32(optarg, 65535, &v) || !v) {
                fprintf(stderr, "threeway record: --%s wants a port in [1, 65535], got '%s'\n",
                        c == 'P' ? "port" : "h-port", optarg);
                return TW_EXIT_USAGE;
            }
            if (c == 'P')
                cfg.d_port = (uint16_t)v;
            else
                cfg.h_port = (uint16_t)v;
            break;
        case 'h': record_usage(stdout); return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway record: unknown or incomplete option '%s'\n", argv[optind - 1]);
            record_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !out) {
        fprintf(stderr, "threeway record: give one case file and -o FILE.pcap\n");
        record_usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (strcmp(profile, "C") && strcmp(profile, "S")) {
        fprintf(stderr, "threeway record: the model has profiles C and S, not '%s'\n", profile);
        return TW_EXIT_USAGE;
    }
    if (tw_script_parse_file(argv[optind], &s, &se)) {
        fprintf(stderr, "%s:%d:%d: %s\n", argv[optind], se.line, se.column, se.message);
        tw_script_cleanup(&s);
        return TW_EXIT_USAGE;
    }
    cfg.profile = profile;
    if (!cfg.h_port)
        cfg.h_port = tw_case_port(path_tail(argv[optind]));
    rc = run_traced("record", &s, &cfg, out, &r);
    if (rc < 0) {
        tw_script_cleanup(&s);
        return TW_EXIT_USAGE;
    }
    if (r.status == TW_CASE_PASS) {
        printf("ok %s -> %s\n", argv[optind], out);
    } else if (r.status == TW_CASE_SKIP) {
        printf("skip %s (%s) -> %s\n", argv[optind], r.message ? r.message : "skipped", out);
    } else {
        printf("FAIL %s -> %s\n", argv[optind], out);
        print_lines(stdout, "  ", r.message);
    }
    tw_case_result_cleanup(&r);
    tw_script_cleanup(&s);
    return rc;
}

/* ---- replay -------------------------------------------------------------------- */

static void replay_usage(FILE *f)
{
    fprintf(f,
            "usage: threeway replay FILE.pcap [--stack model] [--as client|server] [--profile P]\n"
            "                       [--loose] [--print-script] [--pcap OUT.pcap]\n\n"
            "Injects one side's segments of the capture's first connection into a stack and\n"
            "judges its answers against the other side's, field by field (flags, seq, ack,\n"
            "window, options, length), with sequence numbers remapped to the stack's own ISN.\n"
            "The stack plays the server (it answers the first SYN), or with --as client the\n"
            "side that sent it. The replay ends with the handshake.\n\n"
            "  --loose         check flags, seq, ack and length only (not window and options)\n"
            "  --print-script  print the case the capture becomes, then run it\n"
            "  --pcap OUT      write a trace of the replay\n\n"
            "Exit: 0 pass, 1 fail, 2 bad input (the file, the arguments).\n");
}

int tw_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stack", required_argument, NULL, 's'},    {"as", required_argument, NULL, 'a'},
        {"profile", required_argument, NULL, 'p'},  {"loose", no_argument, NULL, 'l'},
        {"print-script", no_argument, NULL, 'P'},   {"pcap", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
    };
    const char *stack = "model", *profile = "C", *trace_out = NULL, *file;
    struct tw_import_opts o = {.exact = true};
    struct tw_import_info info;
    struct tw_run_config cfg = {.tolerance_usecs = -1};
    struct tw_script s;
    struct tw_script_error se;
    struct tw_case_result r;
    bool print = false;
    char *text = NULL;
    int c, rc;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:a:p:w:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': stack = optarg; break;
        case 'p': profile = optarg; break;
        case 'a':
            if (as_option("replay", optarg, &o.as_client))
                return TW_EXIT_USAGE;
            break;
        case 'l': o.exact = false; break;
        case 'P': print = true; break;
        case 'w': trace_out = optarg; break;
        case 'h': replay_usage(stdout); return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway replay: unknown or incomplete option '%s'\n", argv[optind - 1]);
            replay_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "threeway replay: give one capture file\n");
        return TW_EXIT_USAGE;
    }
    file = argv[optind];
    cfg.ops = tw_adapter_find(stack);
    if (!cfg.ops) {
        fprintf(stderr, "threeway replay: stack '%s' is not available in this build\n", stack);
        return TW_EXIT_USAGE;
    }
    if (cfg.ops == &tw_adapter_model && strcmp(profile, "C") && strcmp(profile, "S")) {
        fprintf(stderr, "threeway replay: the model has profiles C and S, not '%s'\n", profile);
        return TW_EXIT_USAGE;
    }
    cfg.profile = profile;
    o.name = file;
    rc = load_capture("replay", file, &o, &text, &info);
    if (rc)
        return rc;
    if (print)
        fputs(text, stdout);
    if (tw_script_parse_text(file, text, strlen(text), &s, &se)) {
        /* import writes only what the parser reads: a bug if not */
        fprintf(stderr, "threeway replay: %s: the capture became a case that does not parse (line %d: %s)\n",
                file, se.line, se.message);
        tw_script_cleanup(&s);
        free(text);
        return TW_EXIT_USAGE;
    }
    free(text);
    if (!info.d_is_client)
        cfg.h_port = info.h_port; /* H keeps its captured port (D's is the listener's, 8080) */
    rc = run_traced("replay", &s, &cfg, trace_out, &r);
    if (rc < 0) {
        tw_script_cleanup(&s);
        return TW_EXIT_USAGE;
    }
    if (r.status == TW_CASE_PASS) {
        printf("ok %s: %s answered as the %s did (records %u-%u, %zu segments)\n", file, stack,
               info.d_is_client ? "client" : "server", info.first_record, info.last_record, info.n_packets);
    } else if (r.status == TW_CASE_SKIP) {
        printf("skip %s (%s)\n", file, r.message ? r.message : "skipped");
    } else {
        printf("FAIL %s (line numbers are those of the case --print-script shows)\n", file);
        print_lines(stdout, "  ", r.message);
    }
    tw_case_result_cleanup(&r);
    tw_script_cleanup(&s);
    return rc;
}

/* ---- import -------------------------------------------------------------------- */

static void import_usage(FILE *f)
{
    fprintf(f,
            "usage: threeway import FILE.pcap -o CASE.pkt [--as client|server] [--exact]\n\n"
            "Turns the first connection in a capture (Ethernet, Linux cooked, raw IP, BSD\n"
            "loopback; IPv4 or IPv6), up to the end of its handshake, into a case script that\n"
            "runs against any stack: D is the side that answered the first SYN (with\n"
            "--as client, the side that sent it); sequence numbers and times are relative;\n"
            "D listens on 8080 (bind) or connects, whatever the capture's ports were.\n"
            "D's segments are checked for flags, seq, ack and length; with --exact also for\n"
            "window and options as captured. -o - writes to stdout.\n\n"
            "Exit: 0 written, 2 bad input (unreadable capture, no SYN, arguments).\n");
}

int tw_cmd_import(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"as", required_argument, NULL, 'a'},
        {"exact", no_argument, NULL, 'e'},        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL, *file;
    struct tw_import_opts o = {0};
    struct tw_import_info info;
    struct tw_script s;
    struct tw_script_error se;
    char *text = NULL;
    FILE *f;
    int c, rc, bad;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:a:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case 'a':
            if (as_option("import", optarg, &o.as_client))
                return TW_EXIT_USAGE;
            break;
        case 'e': o.exact = true; break;
        case 'h': import_usage(stdout); return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway import: unknown or incomplete option '%s'\n", argv[optind - 1]);
            import_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    if (optind + 1 != argc || !out) {
        fprintf(stderr, "threeway import: give one capture file and -o CASE.pkt\n");
        import_usage(stderr);
        return TW_EXIT_USAGE;
    }
    file = argv[optind];
    o.name = file;
    rc = load_capture("import", file, &o, &text, &info);
    if (rc)
        return rc;
    if (tw_script_parse_text(out, text, strlen(text), &s, &se)) {
        fprintf(stderr, "threeway import: %s: the capture became a case that does not parse (line %d: %s)\n",
                file, se.line, se.message);
        tw_script_cleanup(&s);
        free(text);
        return TW_EXIT_USAGE;
    }
    tw_script_cleanup(&s);
    f = strcmp(out, "-") ? fopen(out, "w") : stdout;
    if (!f) {
        fprintf(stderr, "threeway import: %s: %s\n", out, strerror(errno));
        free(text);
        return TW_EXIT_USAGE;
    }
    fputs(text, f);
    bad = ferror(f);
    if ((f != stdout ? fclose(f) : fflush(f)) || bad) {
        fprintf(stderr, "threeway import: %s: write error\n", out);
        free(text);
        return TW_EXIT_USAGE;
    }
    free(text);
    fprintf(stderr, "%s: records %u-%u (%zu segments) -> %s: D is the %s%s\n", file, info.first_record,
            info.last_record, info.n_packets, out, info.d_is_client ? "client" : "server",
            info.complete ? "" : "; the handshake does not complete in the capture");
    return TW_EXIT_OK;
}

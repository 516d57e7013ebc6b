/* `threeway run` and `threeway lint`: the only part of the script harness
 * that prints. Text, TAP and JUnit reports are written here too. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "adapter.h"
#include "cli.h"
#include "cmd_common.h"
#include "runner.h"
#include "script.h"

static void print_parse_error(const char *path, const struct tw_script_error *e)
{
    if (e->line)
        fprintf(stderr, "%s:%d:%d: %s\n", path, e->line, e->column, e->message);
    else
        fprintf(stderr, "%s: %s\n", path, e->message);
}

/* ---- reports ------------------------------------------------------------------- */

static void xml_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&apos;", f); break;
        case '\n': fputs("&#10;", f); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\t')
                fprintf(f, "&#%d;", *s);
            else
                fputc(*s, f);
        }
    }
}

/* The directory a case lives in ("syn-sent"), JUnit's classname. */
static void topic_of(const char *path, char *buf, size_t cap)
{
    const char *end = strrchr(path, '/'), *start;
    if (!end) {
        snprintf(buf, cap, "threeway");
        return;
    }
    start = end;
    while (start > path && start[-1] != '/')
        start--;
    snprintf(buf, cap, "%.*s", (int)(end - start), start);
    if (!buf[0] || !strcmp(buf, "."))
        snprintf(buf, cap, "threeway");
}

static void print_lines(FILE *f, const char *prefix, const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        size_t n = nl ? (size_t)(nl - text) : strlen(text);
        fprintf(f, "%s%.*s\n", prefix, (int)n, text);
        text += n + (nl ? 1 : 0);
    }
}

enum format { FMT_TEXT, FMT_TAP, FMT_JUNIT };

static void report(enum format fmt, char **paths, const struct tw_case_result *res, size_t n)
{
    size_t pass = 0, failed = 0, skip = 0;
    double total = 0;
    for (size_t i = 0; i < n; i++) {
        pass += res[i].status == TW_CASE_PASS;
        failed += res[i].status == TW_CASE_FAIL;
        skip += res[i].status == TW_CASE_SKIP;
        total += res[i].seconds;
    }
    if (fmt == FMT_TEXT) {
        for (size_t i = 0; i < n; i++) {
            if (res[i].status == TW_CASE_PASS) {
                printf("ok %s\n", paths[i]);
            } else if (res[i].status == TW_CASE_SKIP) {
                printf("skip %s (%s)\n", paths[i], res[i].message ? res[i].message : "skipped");
            } else {
                printf("FAIL %s\n", paths[i]);
                print_lines(stdout, "  ", res[i].message);
            }
        }
        printf("%zu passed, %zu failed, %zu skipped\n", pass, failed, skip);
    } else if (fmt == FMT_TAP) {
        printf("TAP version 13\n1..%zu\n", n);
        for (size_t i = 0; i < n; i++) {
            if (res[i].status == TW_CASE_PASS) {
                printf("ok %zu - %s\n", i + 1, paths[i]);
            } else if (res[i].status == TW_CASE_SKIP) {
                printf("ok %zu - %s # SKIP %s\n", i + 1, paths[i], res[i].message ? res[i].message : "");
            } else {
                printf("not ok %zu - %s\n", i + 1, paths[i]);
                print_lines(stdout, "# ", res[i].message);
            }
        }
    } else {
        printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
        printf("  <testsuite name=\"threeway\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
               "time=\"%.6f\">\n",
               n, failed, skip, total);
        for (size_t i = 0; i < n; i++) {
            char topic[256];
            topic_of(paths[i], topic, sizeof(topic));
            printf("    <testcase name=\"");
            xml_escape(stdout, paths[i]);
            printf("\" classname=\"");
            xml_escape(stdout, topic);
            printf("\" time=\"%.6f\"", res[i].seconds);
            if (res[i].status == TW_CASE_PASS) {
                printf("/>\n");
                continue;
            }
            printf(">\n");
            if (res[i].status == TW_CASE_SKIP) {
                printf("      <skipped message=\"");
                xml_escape(stdout, res[i].message);
                printf("\"/>\n");
            } else {
                const char *m = res[i].message ? res[i].message : "failed";
                const char *nl = strchr(m, '\n');
                char first[512];
                snprintf(first, sizeof(first), "%.*s", (int)(nl ? (size_t)(nl - m) : strlen(m)), m);
                printf("      <failure message=\"");
                xml_escape(stdout, first);
                printf("\">");
                xml_escape(stdout, m);
                printf("</failure>\n");
            }
            printf("    </testcase>\n");
        }
        printf("  </testsuite>\n</testsuites>\n");
    }
}

/* ---- run ------------------------------------------------------------------------ */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: threeway run [--stack model] [--profile P] [--format text|tap|junit]\n"
            "                    [--pcap-dir DIR] [-j N] [--tolerance-usecs N] PATH...\n\n"
            "Runs case scripts (docs/script-format.md): files, or directories searched\n"
            "recursively for *.pkt in sorted order. Every file is parsed first; if any has\n"
            "an error, all errors are printed (file:line:column) and nothing runs (exit 2).\n\n"
            "  --stack S            the stack under test; this build has: model\n"
            "  --profile P          C (RFC 9293 + RFC 5961, default) or S (strict RFC 9293);\n"
            "                       lines tagged [P] apply, cases with --profile=X, X != P, skip\n"
            "  --format F           text (default): 'ok PATH' / 'FAIL PATH' + diagnostics /\n"
            "                       'skip PATH (reason)', last line 'N passed, N failed, N skipped';\n"
            "                       tap: TAP version 13; junit: JUnit XML with a time per case\n"
            "  --pcap-dir DIR       write DIR/<case path, '/' -> '_'>.pcap per case (every\n"
            "                       frame injected and sent, Ethernet) and a .txt beside it\n"
            "                       (case, stack, profile, verdict, first failure line)\n"
            "  -j N                 accepted; the model runs every case in this process, in order\n"
            "  --tolerance-usecs N  timing tolerance (default: the script's --tolerance_usecs,\n"
            "                       else 0 on the model)\n\n"
            "Exit: 0 no case failed, 1 a case failed, 2 bad input (arguments, scripts).\n");
}

static uint16_t take_port(const char *path, uint8_t *used)
{
    uint16_t p = tw_case_port(path);
    for (int i = 0; i < 20000; i++) {
        uint16_t c = (uint16_t)(40000 + (p - 40000 + i) % 20000);
        if (!used[c - 40000]) {
            used[c - 40000] = 1;
            return c;
        }
    }
    return p;
}

int tw_cmd_run(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stack", required_argument, NULL, 's'},
        {"profile", required_argument, NULL, 'p'},
        {"format", required_argument, NULL, 'f'},
        {"pcap-dir", required_argument, NULL, 'd'},
        {"jobs", required_argument, NULL, 'j'},
        {"tolerance-usecs", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *stack = "model", *profile = "C", *pcap_dir = NULL;
    enum format fmt = FMT_TEXT;
    long long tol = -1;
    int c, rc = TW_EXIT_OK;
    struct tw_paths paths = {0};
    struct tw_script *scripts = NULL;
    struct tw_case_result *res = NULL;
    uint8_t *ports = NULL;
    size_t bad = 0, trace_errors = 0;
    const struct tw_adapter_ops *ops;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:p:f:d:j:t:h", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 's': stack = optarg; break;
        case 'p': profile = optarg; break;
        case 'd': pcap_dir = optarg; break;
        case 'f':
            if (!strcmp(optarg, "text"))
                fmt = FMT_TEXT;
            else if (!strcmp(optarg, "tap"))
                fmt = FMT_TAP;
            else if (!strcmp(optarg, "junit"))
                fmt = FMT_JUNIT;
            else {
                fprintf(stderr, "threeway run: --format wants text, tap or junit, got '%s'\n", optarg);
                return TW_EXIT_USAGE;
            }
            break;
        case 'j': {
            long j = strtol(optarg, &end, 10);
            if (end == optarg || *end || j < 1 || j > 1024) {
                fprintf(stderr, "threeway run: -j wants a number of jobs in [1, 1024], got '%s'\n", optarg);
                return TW_EXIT_USAGE;
            }
            break;
        }
        case 't':
            tol = strtoll(optarg, &end, 10);
            if (end == optarg || *end || tol < 0 || tol > 60000000) {
                fprintf(stderr, "threeway run: --tolerance-usecs wants microseconds in [0, 60000000], got '%s'\n",
                        optarg);
                return TW_EXIT_USAGE;
            }
            break;
        case 'h':
            run_usage(stdout);
            return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway run: unknown or incomplete option '%s'\n", argv[optind - 1]);
            run_usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    ops = tw_adapter_find(stack);
    if (!ops) {
        fprintf(stderr, "threeway run: stack '%s' is not available in this build (it has: model)\n", stack);
        return TW_EXIT_USAGE;
    }
    if (ops == &tw_adapter_model && strcmp(profile, "C") && strcmp(profile, "S")) {
        fprintf(stderr, "threeway run: the model has profiles C and S, not '%s'\n", profile);
        return TW_EXIT_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "threeway run: give at least one case file or directory\n");
        return TW_EXIT_USAGE;
    }
    if (pcap_dir && mkdir(pcap_dir, 0777) && errno != EEXIST) {
        fprintf(stderr, "threeway run: --pcap-dir %s: %s\n", pcap_dir, strerror(errno));
        return TW_EXIT_USAGE;
    }
    if (tw_paths_collect("run", argv + optind, argc - optind, &paths)) {
        tw_paths_free(&paths);
        return TW_EXIT_USAGE;
    }
    scripts = calloc(paths.n ? paths.n : 1, sizeof(*scripts));
    res = calloc(paths.n ? paths.n : 1, sizeof(*res));
    ports = calloc(20000, 1);
    if (!scripts || !res || !ports) {
        fprintf(stderr, "threeway run: out of memory\n");
        rc = TW_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < paths.n; i++) {
        struct tw_script_error err;
        if (tw_script_parse_file(paths.v[i], &scripts[i], &err)) {
            print_parse_error(paths.v[i], &err);
            bad++;
        }
    }
    if (bad) {
        fprintf(stderr, "threeway run: %zu of %zu files have errors; nothing was run\n", bad, paths.n);
        rc = TW_EXIT_USAGE;
        goto out;
    }
    bool progress = isatty(STDERR_FILENO) && paths.n > 1;
    for (size_t i = 0; i < paths.n; i++) {
        struct tw_run_config cfg = {.ops = ops, .profile = profile, .tolerance_usecs = tol,
                                    .h_port = take_port(paths.v[i], ports)};
        if (progress) {
            fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, paths.n, paths.v[i]);
            fflush(stderr);
        }
        if (pcap_dir) {
            if (tw_run_case_traced(pcap_dir, paths.v[i], stack, &scripts[i], &cfg, &res[i]))
                trace_errors++;
        } else {
            tw_run_case(&scripts[i], &cfg, &res[i]);
        }
        if (res[i].status == TW_CASE_FAIL)
            rc = TW_EXIT_FAIL;
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    report(fmt, paths.v, res, paths.n);
    if (fflush(stdout))
        rc = TW_EXIT_FAIL;
    if (trace_errors) {
        fprintf(stderr, "threeway run: %zu traces could not be written to %s\n", trace_errors, pcap_dir);
        rc = TW_EXIT_USAGE;
    }
out:
    for (size_t i = 0; scripts && res && i < paths.n; i++) {
        tw_script_cleanup(&scripts[i]);
        tw_case_result_cleanup(&res[i]);
    }
    free(scripts);
    free(res);
    free(ports);
    tw_paths_free(&paths);
    return rc;
}

/* ---- lint ----------------------------------------------------------------------- */

int tw_cmd_lint(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"requirements", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *req = NULL;
    char found[PATH_MAX];
    struct tw_paths paths = {0};
    struct tw_reqlist ids = {0};
    int bad_line = 0;
    size_t problems = 0;
    bool bad_input = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "r:h", longopts, NULL)) != -1) {
        if (c == 'r') {
            req = optarg;
        } else if (c == 'h') {
            printf("usage: threeway lint [--requirements FILE] PATH...\n\n"
                   "Parses every case (files, or directories searched for *.pkt) and checks that\n"
                   "each has a '// covers:' line whose IDs all exist in the requirement list\n"
                   "(the first column of conformance/requirements.tsv, found above the paths, or\n"
                   "FILE). Prints 'file:line: message' per problem and 'N files, N problems'.\n"
                   "Exit: 0 clean, 1 problems, 2 bad input (syntax errors, no requirement list).\n");
            return TW_EXIT_OK;
        } else {
            fprintf(stderr, "threeway lint: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return TW_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "threeway lint: give at least one case file or directory\n");
        return TW_EXIT_USAGE;
    }
    if (!req) {
        if (!tw_reqlist_find_file(argv[optind], found, sizeof(found))) {
            fprintf(stderr, "threeway lint: cannot find conformance/requirements.tsv above %s "
                            "(give --requirements FILE)\n", argv[optind]);
            return TW_EXIT_USAGE;
        }
        req = found;
    }
    if (tw_reqlist_load(req, &ids, &bad_line)) {
        if (bad_line)
            fprintf(stderr, "threeway lint: %s:%d: malformed line (want 6 tab-separated fields)\n", req,
                    bad_line);
        else
            fprintf(stderr, "threeway lint: %s: %s\n", req, strerror(errno));
        return TW_EXIT_USAGE;
    }
    if (tw_paths_collect("lint", argv + optind, argc - optind, &paths)) {
        bad_input = true;
        goto out;
    }
    for (size_t i = 0; i < paths.n; i++) {
        struct tw_script s;
        struct tw_script_error err;
        if (tw_script_parse_file(paths.v[i], &s, &err)) {
            if (err.line)
                printf("%s:%d:%d: %s\n", paths.v[i], err.line, err.column, err.message);
            else
                printf("%s: %s\n", paths.v[i], err.message);
            problems++;
            bad_input = true;
            tw_script_cleanup(&s);
            continue;
        }
        if (!s.n_covers) {
            printf("%s:1: no '// covers:' line naming the requirements the case checks\n", paths.v[i]);
            problems++;
        }
        for (size_t k = 0; k < s.n_covers; k++) {
            if (!tw_reqlist_get(&ids, s.covers[k].id)) {
                printf("%s:%d: unknown requirement ID '%s' (not in %s)\n", paths.v[i], s.covers[k].line,
                       s.covers[k].id, req);
                problems++;
            }
        }
        tw_script_cleanup(&s);
    }
    printf("%zu files, %zu problems\n", paths.n, problems);
out:
    tw_reqlist_free(&ids);
    tw_paths_free(&paths);
    if (bad_input)
        return TW_EXIT_USAGE;
    return problems ? TW_EXIT_FAIL : TW_EXIT_OK;
}

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
#include "runner.h"
#include "script.h"

/* ---- the list of case files ------------------------------------------------- */

struct paths {
    char **v;
    size_t n, cap;
};

static int paths_add(struct paths *p, const char *s)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        char **v = realloc(p->v, cap * sizeof(*v));
        if (!v)
            return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n] = strdup(s);
    if (!p->v[p->n])
        return -1;
    p->n++;
    return 0;
}

static void paths_free(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    memset(p, 0, sizeof(*p));
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int walk_dir(const char *cmd, const char *dir, struct paths *out)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    if (!d) {
        fprintf(stderr, "threeway %s: %s: %s\n", cmd, dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d))) {
        char path[PATH_MAX];
        struct stat st;
        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(path, sizeof(path), "%s%s%s", dir, ends_with(dir, "/") ? "" : "/",
                             de->d_name) >= sizeof(path)) {
            fprintf(stderr, "threeway %s: path too long under %s\n", cmd, dir);
            closedir(d);
            return -1;
        }
        if (stat(path, &st))
            continue;
        if (S_ISDIR(st.st_mode)) {
            if (walk_dir(cmd, path, out)) {
                closedir(d);
                return -1;
            }
        } else if (S_ISREG(st.st_mode) && ends_with(de->d_name, ".pkt")) {
            if (paths_add(out, path)) {
                closedir(d);
                return -1;
            }
        }
    }
    closedir(d);
    return 0;
}

/* Files as given; directories searched recursively for *.pkt, sorted. */
static int collect_paths(const char *cmd, char **args, int n, struct paths *out)
{
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (stat(args[i], &st)) {
            fprintf(stderr, "threeway %s: %s: %s\n", cmd, args[i], strerror(errno));
            return -1;
        }
        if (S_ISDIR(st.st_mode)) {
            size_t first = out->n;
            if (walk_dir(cmd, args[i], out))
                return -1;
            qsort(out->v + first, out->n - first, sizeof(char *), cmp_str);
        } else if (paths_add(out, args[i])) {
            fprintf(stderr, "threeway %s: out of memory\n", cmd);
            return -1;
        }
    }
    return 0;
}

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
            "  --pcap-dir DIR       created, but writing pcaps is not implemented yet (a later\n"
            "                       issue): no pcap is written\n"
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
    struct paths paths = {0};
    struct tw_script *scripts = NULL;
    struct tw_case_result *res = NULL;
    uint8_t *ports = NULL;
    size_t bad = 0;
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
    if (collect_paths("run", argv + optind, argc - optind, &paths)) {
        paths_free(&paths);
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
        struct tw_run_config cfg = {ops, profile, tol, take_port(paths.v[i], ports)};
        if (progress) {
            fprintf(stderr, "\r\033[K[%zu/%zu] %s", i + 1, paths.n, paths.v[i]);
            fflush(stderr);
        }
        tw_run_case(&scripts[i], &cfg, &res[i]);
        if (res[i].status == TW_CASE_FAIL)
            rc = TW_EXIT_FAIL;
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    report(fmt, paths.v, res, paths.n);
    if (fflush(stdout))
        rc = TW_EXIT_FAIL;
out:
    for (size_t i = 0; scripts && res && i < paths.n; i++) {
        tw_script_cleanup(&scripts[i]);
        tw_case_result_cleanup(&res[i]);
    }
    free(scripts);
    free(res);
    free(ports);
    paths_free(&paths);
    return rc;
}

/* ---- lint ----------------------------------------------------------------------- */

struct idset {
    char **v;
    size_t n, cap;
};

static bool idset_has(const struct idset *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], id))
            return true;
    return false;
}

static int load_requirements(const char *file, struct idset *out)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        size_t n = strcspn(line, "\t\r\n");
        if (!n || line[0] == '#')
            continue;
        line[n] = '\0';
        if (!strcmp(line, "id"))
            continue; /* the header */
        if (out->n == out->cap) {
            size_t cap = out->cap ? out->cap * 2 : 64;
            char **v = realloc(out->v, cap * sizeof(*v));
            if (!v)
                break;
            out->v = v;
            out->cap = cap;
        }
        out->v[out->n] = strdup(line);
        if (!out->v[out->n])
            break;
        out->n++;
    }
    fclose(f);
    return 0;
}

/* conformance/requirements.tsv above a case path, in path's repository. */
static bool find_requirements(const char *path, char *out, size_t cap)
{
    char dir[PATH_MAX];
    struct stat st;
    if (!realpath(path, dir))
        return false;
    if (!stat(dir, &st) && !S_ISDIR(st.st_mode)) {
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    for (;;) {
        const char *base = strrchr(dir, '/');
        base = base ? base + 1 : dir;
        if (!strcmp(base, "conformance") &&
            (size_t)snprintf(out, cap, "%s/requirements.tsv", dir) < cap && !access(out, R_OK))
            return true;
        if ((size_t)snprintf(out, cap, "%s/conformance/requirements.tsv", dir) < cap && !access(out, R_OK))
            return true;
        char *slash = strrchr(dir, '/');
        if (!slash || slash == dir)
            return false;
        *slash = '\0';
    }
}

int tw_cmd_lint(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"requirements", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *req = NULL;
    char found[PATH_MAX];
    struct paths paths = {0};
    struct idset ids = {0};
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
        if (!find_requirements(argv[optind], found, sizeof(found))) {
            fprintf(stderr, "threeway lint: cannot find conformance/requirements.tsv above %s "
                            "(give --requirements FILE)\n", argv[optind]);
            return TW_EXIT_USAGE;
        }
        req = found;
    }
    if (load_requirements(req, &ids)) {
        fprintf(stderr, "threeway lint: %s: %s\n", req, strerror(errno));
        return TW_EXIT_USAGE;
    }
    if (collect_paths("lint", argv + optind, argc - optind, &paths)) {
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
            if (!idset_has(&ids, s.covers[k].id)) {
                printf("%s:%d: unknown requirement ID '%s' (not in %s)\n", paths.v[i], s.covers[k].line,
                       s.covers[k].id, req);
                problems++;
            }
        }
        tw_script_cleanup(&s);
    }
    printf("%zu files, %zu problems\n", paths.n, problems);
out:
    for (size_t i = 0; i < ids.n; i++)
        free(ids.v[i]);
    free(ids.v);
    paths_free(&paths);
    if (bad_input)
        return TW_EXIT_USAGE;
    return problems ? TW_EXIT_FAIL : TW_EXIT_OK;
}

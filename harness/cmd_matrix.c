/* `threeway matrix`: the suite on several stacks, as a requirement x stack
 * table (markdown and HTML), each failure linked to its pcap and the field
 * that differed.
 *
 * Each stack runs in a child process (its own namespaces; a stack that
 * brings the harness down takes only its column with it), which reports one
 * line per case on a pipe: status, case, first line of the failure. Traces
 * are written for every case and kept only for failing ones
 * (DIR/pcaps/<stack>/<case>.pcap and .txt).
 *
 * Per requirement and stack, over the cases that cover it and ran:
 *   fail        some case failed (the first is linked);
 *   deviation   every case passed, some thanks to lines tagged with the
 *               stack's name, and the requirement is declared in
 *               conformance/profiles/<stack>.tsv; or a case failed and the
 *               requirement is declared there (the declared behaviour is
 *               what the case saw; the pcap is linked);
 *   n/a         no case ran (all skipped for the profile), or the stack
 *               cannot perform a call the cases need (EOPNOTSUPP);
 *   pass        every case passed as written;
 *   unavailable the stack is not in this build or cannot run here. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "adapter.h"
#include "cli.h"
#include "cmd_common.h"
#include "pcap.h"
#include "runner.h"
#include "script.h"

#define MAX_STACKS 8

enum cell { C_NONE, C_PASS, C_DEV, C_NA, C_FAIL, C_UNAVAIL };

struct case_out {
    char status; /* P pass, F fail, S skip, T passed with tagged lines */
    char *first; /* first failure line */
};

struct stack_col {
    char name[PATH_MAX];
    bool unavailable;
    char why[512];
    struct case_out *c; /* per case */
    char **declared;    /* profile ids */
    size_t n_declared;
    size_t pass, fail, skip;
};

static int mkdirs(const char *path)
{
    char buf[PATH_MAX];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0777) && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    return mkdir(buf, 0777) && errno != EEXIST ? -1 : 0;
}

/* The script has events tagged with this stack's name. */
static bool has_tag(const struct tw_script *s, const char *tag)
{
    for (unsigned i = 0; tag && i < s->n_profiles; i++)
        if (!strcmp(s->profile_names[i], tag))
            for (size_t k = 0; k < s->n_events; k++)
                if (s->events[k].profiles & (1u << i))
                    return true;
    return false;
}

/* In the child: run every case, one line per case on fd. */
static void run_stack(const char *stack, const char *profile, struct tw_paths *paths, struct tw_script *scripts,
                      const char *pcap_dir, FILE *out)
{
    const struct tw_adapter_ops *ops = tw_adapter_find(stack);
    if (!ops) {
        fprintf(out, "U\tnot in this build\n");
        return;
    }
    if (mkdirs(pcap_dir)) {
        fprintf(out, "U\tcannot create %s: %s\n", pcap_dir, strerror(errno));
        return;
    }
    for (size_t i = 0; i < paths->n; i++) {
        struct tw_run_config cfg = {.ops = ops, .profile = profile, .tolerance_usecs = -1};
        struct tw_case_result res;
        char file[PATH_MAX];
        if (isatty(STDERR_FILENO))
            fprintf(stderr, "\r\033[K[%s %zu/%zu] %s", stack, i + 1, paths->n, paths->v[i]);
        tw_run_case_traced(pcap_dir, paths->v[i], stack, &scripts[i], &cfg, &res);
        if (res.status != TW_CASE_FAIL) {
            if (!tw_pcap_case_file(pcap_dir, paths->v[i], ".pcap", file, sizeof(file)))
                unlink(file);
            if (!tw_pcap_case_file(pcap_dir, paths->v[i], ".txt", file, sizeof(file)))
                unlink(file);
        }
        const char *m = res.message ? res.message : "";
        size_t n = strcspn(m, "\n");
        char st = res.status == TW_CASE_PASS ? (has_tag(&scripts[i], ops->stack_tag) ? 'T' : 'P')
                  : res.status == TW_CASE_SKIP ? 'S'
                                               : 'F';
        fprintf(out, "%c\t%.*s\n", st, (int)(n > 600 ? 600 : n), m);
        fflush(out);
        tw_case_result_cleanup(&res);
    }
    if (isatty(STDERR_FILENO))
        fprintf(stderr, "\r\033[K");
}

static void load_declared(const char *req_file, struct stack_col *col)
{
    char path[PATH_MAX], line[4096];
    snprintf(path, sizeof(path), "%s", req_file);
    char *slash = strrchr(path, '/');
    if (!slash)
        return;
    snprintf(slash, sizeof(path) - (size_t)(slash - path), "/profiles/%s.tsv", col->name);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || !tab || !strncmp(line, "requirement_id\t", 15))
            continue;
        *tab = '\0';
        char **v = realloc(col->declared, (col->n_declared + 1) * sizeof(*v));
        if (!v)
            break;
        col->declared = v;
        v[col->n_declared++] = strdup(line);
    }
    fclose(f);
}

static bool declared(const struct stack_col *col, const char *id)
{
    for (size_t i = 0; i < col->n_declared; i++)
        if (col->declared[i] && !strcmp(col->declared[i], id))
            return true;
    return false;
}

static const char *cell_text(enum cell c)
{
    switch (c) {
    case C_PASS: return "pass";
    case C_DEV: return "deviation";
    case C_NA: return "n/a";
    case C_FAIL: return "FAIL";
    case C_UNAVAIL: return "unavailable";
    default: return "-";
    }
}

static void html_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

static void md_escape(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            fputs("\\|", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

static void usage(FILE *f)
{
    fprintf(f, "usage: threeway matrix [--stacks model,linux,lwip,lwipv6] [--out-dir DIR] [--profile P] [PATH...]\n\n"
               "Runs the cases (default: conformance/) on each stack, each in a child process, and\n"
               "writes the requirement x stack matrix to DIR/matrix.md and DIR/matrix.html (default\n"
               "DIR: docs). Cells: pass; FAIL (linked to DIR/pcaps/<stack>/<case>.pcap, with the\n"
               "first line of the failure: the field that differed); deviation (declared in\n"
               "conformance/profiles/<stack>.tsv); n/a (no case ran, or the stack cannot perform a\n"
               "call the case needs: EOPNOTSUPP); unavailable (not in this build, or no namespace).\n"
               "Traces are kept for failing cases only. Exit 0 when written, 2 on bad input.\n");
}

int tw_cmd_matrix(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"stacks", required_argument, NULL, 's'},
        {"out-dir", required_argument, NULL, 'o'},
        {"profile", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *stacks_arg = "model,linux,lwip,lwipv6", *out_dir = "docs", *profile = "C";
    char *default_path[] = {"conformance"};
    struct stack_col cols[MAX_STACKS];
    size_t n_cols = 0;
    struct tw_paths paths = {0};
    struct tw_reqlist reqs = {0};
    struct tw_script *scripts = NULL;
    char req_file[PATH_MAX];
    int c, bad_line = 0, rc = TW_EXIT_OK;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:o:p:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': stacks_arg = optarg; break;
        case 'o': out_dir = optarg; break;
        case 'p': profile = optarg; break;
        case 'h': usage(stdout); return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway matrix: unknown or incomplete option '%s'\n", argv[optind - 1]);
            usage(stderr);
            return TW_EXIT_USAGE;
        }
    }
    memset(cols, 0, sizeof(cols));
    {
        char buf[4096];
        snprintf(buf, sizeof(buf), "%s", stacks_arg);
        for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
            if (n_cols == MAX_STACKS) {
                fprintf(stderr, "threeway matrix: at most %d stacks\n", MAX_STACKS);
                return TW_EXIT_USAGE;
            }
            snprintf(cols[n_cols++].name, sizeof(cols[0].name), "%s", tok);
        }
    }
    char **args = optind < argc ? argv + optind : default_path;
    int n_args = optind < argc ? argc - optind : 1;
    if (tw_paths_collect("matrix", args, n_args, &paths) || !paths.n) {
        tw_paths_free(&paths);
        return TW_EXIT_USAGE;
    }
    if (!tw_reqlist_find_file(paths.v[0], req_file, sizeof(req_file)) ||
        tw_reqlist_load(req_file, &reqs, &bad_line)) {
        fprintf(stderr, "threeway matrix: cannot load conformance/requirements.tsv above %s\n", paths.v[0]);
        tw_paths_free(&paths);
        return TW_EXIT_USAGE;
    }
    scripts = calloc(paths.n, sizeof(*scripts));
    for (size_t i = 0; scripts && i < paths.n; i++) {
        struct tw_script_error err;
        if (tw_script_parse_file(paths.v[i], &scripts[i], &err)) {
            fprintf(stderr, "%s:%d:%d: %s\n", paths.v[i], err.line, err.column, err.message);
            rc = TW_EXIT_USAGE;
        }
    }
    if (!scripts || rc || mkdirs(out_dir)) {
        if (scripts && !rc)
            fprintf(stderr, "threeway matrix: cannot create %s: %s\n", out_dir, strerror(errno));
        rc = TW_EXIT_USAGE;
        goto out;
    }

    for (size_t s = 0; s < n_cols; s++) {
        struct stack_col *col = &cols[s];
        char pcap_dir[PATH_MAX];
        int fds[2];
        col->c = calloc(paths.n, sizeof(*col->c));
        load_declared(req_file, col);
        bool too_long = (size_t)snprintf(pcap_dir, sizeof(pcap_dir), "%s/pcaps/%s", out_dir, col->name) >=
                        sizeof(pcap_dir);
        if (too_long) {
            col->unavailable = true;
            snprintf(col->why, sizeof(col->why), "--out-dir path too long");
            continue;
        }
        if (!col->c || pipe(fds)) {
            col->unavailable = true;
            snprintf(col->why, sizeof(col->why), "out of resources");
            continue;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[0]);
            FILE *o = fdopen(fds[1], "w");
            run_stack(col->name, profile, &paths, scripts, pcap_dir, o);
            fclose(o);
            _exit(0);
        }
        close(fds[1]);
        FILE *in = fdopen(fds[0], "r");
        char line[1024];
        size_t i = 0;
        while (in && fgets(line, sizeof(line), in)) {
            line[strcspn(line, "\n")] = '\0';
            if (line[0] == 'U') {
                col->unavailable = true;
                snprintf(col->why, sizeof(col->why), "%.400s", line + 2);
                break;
            }
            if (i < paths.n) {
                col->c[i].status = line[0];
                col->c[i].first = strdup(line[1] ? line + 2 : "");
                i++;
            }
        }
        if (in)
            fclose(in);
        int st = 0;
        waitpid(pid, &st, 0);
        if (!col->unavailable && i < paths.n) {
            /* The child died: the remaining cases fail with that reason. */
            char why[PATH_MAX + 80];
            if ((size_t)snprintf(why, sizeof(why), "harness error: the run on %s died (%s %d) at this case",
                                 col->name, WIFSIGNALED(st) ? "signal" : "exit status",
                                 WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st)) >= sizeof(why))
                why[sizeof(why) - 1] = '\0';
            for (; i < paths.n; i++) {
                col->c[i].status = 'F';
                col->c[i].first = strdup(why);
            }
        }
        size_t skips = 0;
        for (size_t k = 0; k < paths.n; k++) {
            col->pass += col->c[k].status == 'P' || col->c[k].status == 'T';
            col->fail += col->c[k].status == 'F';
            skips += col->c[k].status == 'S';
            col->skip = skips;
        }
        if (!col->unavailable && paths.n && skips == paths.n && col->c[0].first &&
            strstr(col->c[0].first, "namespace")) {
            col->unavailable = true;
            snprintf(col->why, sizeof(col->why), "%s", col->c[0].first);
        }
        fprintf(stderr, "threeway matrix: %s: %zu passed, %zu failed, %zu skipped%s%s\n", col->name, col->pass,
                col->fail, col->skip, col->unavailable ? "; unavailable: " : "", col->unavailable ? col->why : "");
    }

    /* The matrix. */
    {
        char md_path[PATH_MAX], html_path[PATH_MAX];
        snprintf(md_path, sizeof(md_path), "%s/matrix.md", out_dir);
        snprintf(html_path, sizeof(html_path), "%s/matrix.html", out_dir);
        FILE *md = fopen(md_path, "w"), *html = fopen(html_path, "w");
        if (!md || !html) {
            fprintf(stderr, "threeway matrix: cannot write %s: %s\n", !md ? md_path : html_path, strerror(errno));
            if (md)
                fclose(md);
            if (html)
                fclose(html);
            rc = TW_EXIT_USAGE;
            goto out;
        }
        fprintf(md, "<!-- generated by `threeway matrix` (ci/make-matrix); do not edit -->\n\n"
                    "| requirement |");
        fprintf(html, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>threeway: requirement x "
                      "stack</title>\n<style>body{font-family:sans-serif}table{border-collapse:collapse}"
                      "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%%;vertical-align:top}"
                      ".pass{background:#dfd}.FAIL{background:#fdd}.deviation{background:#ffd}.na{background:#eee}"
                      ".unavailable{background:#ddd}small{color:#444}</style></head><body>\n"
                      "<h1>threeway: requirement &times; stack</h1>\n<p>Generated by <code>threeway matrix</code> "
                      "(<code>ci/make-matrix</code>), profile %s, %zu cases.</p>\n<table>\n<tr><th>requirement</th>",
                profile, paths.n);
        for (size_t s = 0; s < n_cols; s++) {
            fprintf(md, " %s |", cols[s].name);
            fprintf(html, "<th>%s</th>", cols[s].name);
        }
        fprintf(md, "\n|---|");
        for (size_t s = 0; s < n_cols; s++)
            fprintf(md, "---|");
        fprintf(md, "\n");
        fprintf(html, "</tr>\n");
        size_t totals[MAX_STACKS][6];
        memset(totals, 0, sizeof(totals));
        for (size_t r = 0; r < reqs.n; r++) {
            const char *id = reqs.v[r].id;
            bool covered = false;
            for (size_t i = 0; i < paths.n && !covered; i++)
                for (size_t k = 0; k < scripts[i].n_covers; k++)
                    covered |= !strcmp(scripts[i].covers[k].id, id);
            if (!covered)
                continue;
            fprintf(md, "| %s |", id);
            fprintf(html, "<tr><td title=\"");
            html_escape(html, reqs.v[r].summary);
            fprintf(html, "\">%s</td>", id);
            for (size_t s = 0; s < n_cols; s++) {
                struct stack_col *col = &cols[s];
                enum cell cell = C_NONE;
                size_t first_fail = paths.n, n_fail = 0, n_ran = 0;
                bool tagged = false, unsupported = false;
                if (col->unavailable) {
                    cell = C_UNAVAIL;
                } else {
                    for (size_t i = 0; i < paths.n; i++) {
                        bool cov = false;
                        for (size_t k = 0; k < scripts[i].n_covers; k++)
                            cov |= !strcmp(scripts[i].covers[k].id, id);
                        if (!cov || col->c[i].status == 'S' || !col->c[i].status)
                            continue;
                        if (col->c[i].status == 'F' && col->c[i].first && strstr(col->c[i].first, "EOPNOTSUPP") &&
                            !strstr(col->c[i].first, "harness error")) {
                            unsupported = true;
                            continue;
                        }
                        n_ran++;
                        tagged |= col->c[i].status == 'T';
                        if (col->c[i].status == 'F') {
                            n_fail++;
                            if (first_fail == paths.n)
                                first_fail = i;
                        }
                    }
                    if (n_fail)
                        cell = declared(col, id) ? C_DEV : C_FAIL;
                    else if (!n_ran)
                        cell = C_NA;
                    else if (tagged && declared(col, id))
                        cell = C_DEV;
                    else
                        cell = C_PASS;
                    (void)unsupported;
                }
                totals[s][cell]++;
                fprintf(html, "<td class=\"%s\">%s", cell == C_NA ? "na" : cell_text(cell), cell_text(cell));
                if (first_fail < paths.n) {
                    char pcap[PATH_MAX], rel[PATH_MAX];
                    const char *fl = col->c[first_fail].first ? col->c[first_fail].first : "";
                    const char *field = strstr(fl, ".pkt:");
                    field = field ? strchr(field + 5, ':') : NULL;
                    field = field ? field + 2 : fl;
                    tw_pcap_case_file("pcaps", paths.v[first_fail], ".pcap", pcap, sizeof(pcap));
                    snprintf(rel, sizeof(rel), "pcaps/%.200s/%.3000s", col->name, pcap + strlen("pcaps/"));
                    fprintf(md, " %s%s [%s](%s): ", cell == C_DEV ? "deviation, " : "",
                            cell == C_DEV ? "" : "**FAIL**", paths.v[first_fail] + (strncmp(paths.v[first_fail], "conformance/", 12) ? 0 : 12), rel);
                    md_escape(md, field);
                    if (n_fail > 1)
                        fprintf(md, " (+%zu)", n_fail - 1);
                    fprintf(md, " |");
                    fprintf(html, "<br><small><a href=\"%s\">", rel);
                    html_escape(html, paths.v[first_fail]);
                    fprintf(html, "</a>: ");
                    html_escape(html, field);
                    if (n_fail > 1)
                        fprintf(html, " (+%zu more)", n_fail - 1);
                    fprintf(html, "</small>");
                } else {
                    fprintf(md, " %s |", cell_text(cell));
                }
                fprintf(html, "</td>");
            }
            fprintf(md, "\n");
            fprintf(html, "</tr>\n");
        }
        fprintf(md, "| **cases** |");
        fprintf(html, "<tr><th>cases</th>");
        for (size_t s = 0; s < n_cols; s++) {
            if (cols[s].unavailable) {
                fprintf(md, " unavailable: ");
                md_escape(md, cols[s].why);
                fprintf(md, " |");
                fprintf(html, "<td>unavailable: ");
                html_escape(html, cols[s].why);
                fprintf(html, "</td>");
            } else {
                fprintf(md, " %zu passed, %zu failed, %zu skipped |", cols[s].pass, cols[s].fail, cols[s].skip);
                fprintf(html, "<td>%zu passed, %zu failed, %zu skipped</td>", cols[s].pass, cols[s].fail,
                        cols[s].skip);
            }
        }
        fprintf(md, "\n| **requirements** |");
        fprintf(html, "</tr>\n<tr><th>requirements</th>");
        for (size_t s = 0; s < n_cols; s++) {
            fprintf(md, " %zu pass, %zu fail, %zu deviation, %zu n/a |", totals[s][C_PASS], totals[s][C_FAIL],
                    totals[s][C_DEV], totals[s][C_NA]);
            fprintf(html, "<td>%zu pass, %zu fail, %zu deviation, %zu n/a</td>", totals[s][C_PASS],
                    totals[s][C_FAIL], totals[s][C_DEV], totals[s][C_NA]);
        }
        fprintf(md, "\n\nCells: **FAIL** links the first failing case's pcap (pcaps/STACK/...) and names the "
                    "field that differed (+N: more failing cases); deviation: declared in "
                    "conformance/profiles/STACK.tsv; n/a: no case ran on this stack.\n");
        fprintf(html, "</tr>\n</table>\n</body></html>\n");
        fclose(md);
        fclose(html);
        printf("wrote %s and %s\n", md_path, html_path);
    }
out:
    for (size_t s = 0; s < n_cols; s++) {
        for (size_t i = 0; cols[s].c && i < paths.n; i++)
            free(cols[s].c[i].first);
        free(cols[s].c);
        for (size_t i = 0; i < cols[s].n_declared; i++)
            free(cols[s].declared[i]);
        free(cols[s].declared);
    }
    for (size_t i = 0; scripts && i < paths.n; i++)
        tw_script_cleanup(&scripts[i]);
    free(scripts);
    tw_reqlist_free(&reqs);
    tw_paths_free(&paths);
    return rc;
}

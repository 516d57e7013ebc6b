/* `threeway run` and `threeway lint`: the only part of the script harness
 * that prints. Text, TAP and JUnit reports are written here too. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
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

/* ---- declared deviations (conformance/profiles/<stack>.tsv) -------------------------
 * requirement_id, behaviour, reason; '#' comments and a header line. A case
 * that passed on a stack with lines tagged with the stack's name passed
 * thanks to them: the deviations it relied on are its covers IDs declared
 * in the stack's profile. */

struct deviation {
    char id[64];
    char behaviour[256];
    size_t cases;
};

struct deviations {
    struct deviation *v;
    size_t n;
    char file[PATH_MAX];
};

static void deviations_free(struct deviations *d)
{
    free(d->v);
    memset(d, 0, sizeof(*d));
}

/* Load PROFILES/<stack>.tsv next to the requirement list above `path`. 0 if
 * loaded, -1 if there is none (d left empty). */
static int deviations_load(const char *path, const char *stack, struct deviations *d)
{
    char req[PATH_MAX], line[4096];
    FILE *f;
    memset(d, 0, sizeof(*d));
    if (!stack || !tw_reqlist_find_file(path, req, sizeof(req)))
        return -1;
    char *slash = strrchr(req, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    if ((size_t)snprintf(d->file, sizeof(d->file), "%s/profiles/%s.tsv", req, stack) >= sizeof(d->file))
        return -1;
    f = fopen(d->file, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        char *tab = strchr(line, '\t'), *tab2;
        if (line[0] == '#' || !tab || !strncmp(line, "requirement_id\t", 15))
            continue;
        *tab = '\0';
        tab2 = strchr(tab + 1, '\t');
        if (tab2)
            *tab2 = '\0';
        struct deviation *v = realloc(d->v, (d->n + 1) * sizeof(*v));
        if (!v)
            break;
        d->v = v;
        memset(&v[d->n], 0, sizeof(v[d->n]));
        snprintf(v[d->n].id, sizeof(v[d->n].id), "%.63s", line);
        snprintf(v[d->n].behaviour, sizeof(v[d->n].behaviour), "%.255s", tab + 1);
        d->n++;
    }
    fclose(f);
    return 0;
}

static struct deviation *deviation_get(struct deviations *d, const char *id)
{
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->v[i].id, id))
            return &d->v[i];
    return NULL;
}

/* The line of the first event tagged `tag` (among others), or 0. */
static int script_tag_line(const struct tw_script *s, const char *tag)
{
    int bit = -1;
    for (unsigned i = 0; tag && i < s->n_profiles; i++)
        if (!strcmp(s->profile_names[i], tag))
            bit = (int)i;
    if (bit < 0)
        return 0;
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].profiles & (1u << bit))
            return s->events[i].pos.line ? s->events[i].pos.line : 1;
    return 0;
}

static const char *file_base(const char *p)
{
    const char *b = strrchr(p, '/');
    return b ? b + 1 : p;
}

/* What ran the cases: the first description without a case's own shell lines. */
static void stack_description(const struct tw_case_result *res, size_t n, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        const char *d = res[i].stack_desc;
        if (!d)
            continue;
        const char *ran = strstr(d, " (case ran:");
        if (!out[0] || !ran)
            snprintf(out, cap, "%.*s", (int)(ran ? (size_t)(ran - d) : strlen(d)), d);
        if (!ran)
            return;
    }
}

static void report(enum format fmt, char **paths, const struct tw_case_result *res, size_t n,
                   const struct tw_script *scripts, const struct tw_adapter_ops *ops, const char *first_path)
{
    size_t pass = 0, failed = 0, skip = 0;
    double total = 0;
    char desc[1536];
    struct deviations dev;
    for (size_t i = 0; i < n; i++) {
        pass += res[i].status == TW_CASE_PASS;
        failed += res[i].status == TW_CASE_FAIL;
        skip += res[i].status == TW_CASE_SKIP;
        total += res[i].seconds;
    }
    stack_description(res, n, desc, sizeof(desc));
    deviations_load(first_path, ops->stack_tag, &dev);
    for (size_t i = 0; i < n && dev.n; i++) {
        if (res[i].status != TW_CASE_PASS || !script_tag_line(&scripts[i], ops->stack_tag))
            continue;
        for (size_t k = 0; k < scripts[i].n_covers; k++) {
            struct deviation *d = deviation_get(&dev, scripts[i].covers[k].id);
            if (d)
                d->cases++;
        }
    }
    if (fmt == FMT_TEXT) {
        if (desc[0])
            printf("stack: %s\n", desc);
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
        for (size_t k = 0; k < dev.n; k++)
            if (dev.v[k].cases)
                printf("deviation %s (%s: %s): %zu case%s\n", dev.v[k].id, file_base(dev.file),
                       dev.v[k].behaviour, dev.v[k].cases, dev.v[k].cases == 1 ? "" : "s");
        printf("%zu passed, %zu failed, %zu skipped\n", pass, failed, skip);
    } else if (fmt == FMT_TAP) {
        printf("TAP version 13\n");
        if (desc[0])
            printf("# stack: %s\n", desc);
        for (size_t k = 0; k < dev.n; k++)
            if (dev.v[k].cases)
                printf("# deviation %s (%s: %s): %zu case%s\n", dev.v[k].id, file_base(dev.file),
                       dev.v[k].behaviour, dev.v[k].cases, dev.v[k].cases == 1 ? "" : "s");
        printf("1..%zu\n", n);
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
        if (desc[0] || dev.n) {
            printf("    <properties>\n");
            if (desc[0]) {
                printf("      <property name=\"stack\" value=\"");
                xml_escape(stdout, desc);
                printf("\"/>\n");
            }
            for (size_t k = 0; k < dev.n; k++) {
                if (!dev.v[k].cases)
                    continue;
                printf("      <property name=\"deviation %s\" value=\"", dev.v[k].id);
                xml_escape(stdout, dev.v[k].behaviour);
                printf(": %zu case%s\"/>\n", dev.v[k].cases, dev.v[k].cases == 1 ? "" : "s");
            }
            printf("    </properties>\n");
        }
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
    deviations_free(&dev);
}

/* ---- -j N: forked workers ----------------------------------------------------------
 * Each worker is a fork of this process with its own adapter state (on
 * linux: its own namespace and TAP, created on its first case), so cases
 * that sleep on timers overlap. The parent hands out case indices one at a
 * time over a pipe and gathers each result (status, times, message, the
 * stack's description) over another; the report is printed in the
 * original order. */

struct job_ctx {
    char **paths;
    struct tw_script *scripts;
    uint16_t *ports;
    const struct tw_adapter_ops *ops;
    const char *stack, *profile, *pcap_dir;
    long long tol;
    bool real_time;
};

static void run_one(const struct job_ctx *j, size_t i, struct tw_case_result *res, int *trace_error)
{
    struct tw_run_config cfg = {.ops = j->ops, .profile = j->profile, .tolerance_usecs = j->tol,
                                .h_port = j->ports[i], .real_time = j->real_time};
    *trace_error = 0;
    if (j->pcap_dir)
        *trace_error = tw_run_case_traced(j->pcap_dir, j->paths[i], j->stack, &j->scripts[i], &cfg, res) != 0;
    else
        tw_run_case(&j->scripts[i], &cfg, res);
}

struct wire_result {
    uint32_t idx;
    int32_t status, trace_error;
    uint32_t msg_len, desc_len;
    double seconds;
    uint64_t virtual_us, rows[2];
};

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void worker_main(const struct job_ctx *j, int in_fd, int out_fd)
{
    uint32_t idx;
    while (read_all(in_fd, &idx, sizeof(idx)) == 0) {
        struct tw_case_result res;
        struct wire_result w;
        int te;
        run_one(j, idx, &res, &te);
        memset(&w, 0, sizeof(w));
        w.idx = idx;
        w.status = (int32_t)res.status;
        w.trace_error = te;
        w.msg_len = res.message ? (uint32_t)strlen(res.message) : 0;
        w.desc_len = res.stack_desc ? (uint32_t)strlen(res.stack_desc) : 0;
        w.seconds = res.seconds;
        w.virtual_us = res.virtual_us;
        w.rows[0] = res.rows[0];
        w.rows[1] = res.rows[1];
        if (write_all(out_fd, &w, sizeof(w)) || write_all(out_fd, res.message ? res.message : "", w.msg_len) ||
            write_all(out_fd, res.stack_desc ? res.stack_desc : "", w.desc_len))
            _exit(1);
        tw_case_result_cleanup(&res);
    }
    _exit(0);
}

static char *read_text(int fd, uint32_t n)
{
    char *t = malloc((size_t)n + 1);
    if (!t)
        return NULL;
    if (read_all(fd, t, n)) {
        free(t);
        return NULL;
    }
    t[n] = '\0';
    return t;
}

static char *text_dup(const char *s)
{
    char *d = malloc(strlen(s) + 1);
    if (d)
        strcpy(d, s);
    return d;
}

static void progress_line(bool on, size_t done, size_t n, const char *path)
{
    if (!on)
        return;
    fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, n, path);
    fflush(stderr);
}

/* Run every case on `jobs` workers; fills res[]. The number of trace errors. */
static size_t run_parallel(const struct job_ctx *j, size_t n, int jobs, struct tw_case_result *res, bool progress)
{
    struct worker {
        pid_t pid;
        int to, from;
        long cur; /* the case it runs, or -1 */
    } *w;
    size_t next = 0, done = 0, trace_errors = 0;
    if ((size_t)jobs > n)
        jobs = (int)n;
    w = calloc((size_t)jobs, sizeof(*w));
    if (!w) {
        for (size_t i = 0; i < n; i++) {
            res[i].status = TW_CASE_FAIL;
            res[i].message = text_dup("harness error: out of memory");
        }
        return 0;
    }
    fflush(NULL);
    signal(SIGPIPE, SIG_IGN);
    for (int k = 0; k < jobs; k++) {
        int a[2], b[2];
        w[k].pid = -1;
        w[k].cur = -1;
        w[k].to = w[k].from = -1;
        if (pipe(a))
            continue;
        if (pipe(b)) {
            close(a[0]);
            close(a[1]);
            continue;
        }
        pid_t parent = getpid(), pid = fork();
        if (pid == 0) {
            /* A worker dies with the run (even on SIGKILL): its namespace,
             * TAP and sockets with it. */
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (getppid() != parent)
                _exit(1);
            close(a[1]);
            close(b[0]);
            for (int m = 0; m < k; m++) { /* the siblings' pipes are not ours */
                if (w[m].to >= 0)
                    close(w[m].to);
                if (w[m].from >= 0)
                    close(w[m].from);
            }
            worker_main(j, a[0], b[1]);
        }
        close(a[0]);
        close(b[1]);
        if (pid < 0) {
            close(a[1]);
            close(b[0]);
            w[k].to = w[k].from = -1;
            continue;
        }
        w[k].pid = pid;
        w[k].to = a[1];
        w[k].from = b[0];
    }
    for (int k = 0; k < jobs; k++) {
        if (w[k].pid < 0 || next >= n)
            continue;
        uint32_t idx = (uint32_t)next;
        if (write_all(w[k].to, &idx, sizeof(idx)) == 0)
            w[k].cur = (long)next++;
    }
    struct pollfd *p = calloc((size_t)jobs, sizeof(*p));
    while (p && done < n) {
        int np = 0, map[1024];
        for (int k = 0; k < jobs; k++)
            if (w[k].cur >= 0) {
                p[np].fd = w[k].from;
                p[np].events = POLLIN;
                p[np].revents = 0;
                map[np++] = k;
            }
        if (!np)
            break; /* every worker is gone */
        if (poll(p, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int q = 0; q < np; q++) {
            struct worker *wk = &w[map[q]];
            struct wire_result wr;
            if (!p[q].revents)
                continue;
            if (read_all(wk->from, &wr, sizeof(wr)) || wr.idx != (uint32_t)wk->cur) {
                /* the worker died mid-case: that case fails, the worker is gone */
                size_t i = (size_t)wk->cur;
                res[i].status = TW_CASE_FAIL;
                res[i].message = text_dup("harness error: the -j worker running this case died");
                done++;
                wk->cur = -1;
                close(wk->to);
                close(wk->from);
                wk->to = wk->from = -1;
                continue;
            }
            struct tw_case_result *r = &res[wr.idx];
            memset(r, 0, sizeof(*r));
            r->status = (enum tw_case_status)wr.status;
            r->seconds = wr.seconds;
            r->virtual_us = wr.virtual_us;
            r->rows[0] = wr.rows[0];
            r->rows[1] = wr.rows[1];
            r->message = wr.msg_len || r->status != TW_CASE_PASS ? read_text(wk->from, wr.msg_len) : NULL;
            r->stack_desc = wr.desc_len ? read_text(wk->from, wr.desc_len) : NULL;
            trace_errors += wr.trace_error != 0;
            done++;
            progress_line(progress, done, n, j->paths[wr.idx]);
            wk->cur = -1;
            if (next < n) {
                uint32_t idx = (uint32_t)next;
                if (write_all(wk->to, &idx, sizeof(idx)) == 0)
                    wk->cur = (long)next++;
            }
        }
    }
    free(p);
    /* Cases no worker could take (every worker died): run them here. */
    for (size_t i = next; i < n; i++) {
        int te;
        run_one(j, i, &res[i], &te);
        trace_errors += te != 0;
        progress_line(progress, ++done, n, j->paths[i]);
    }
    for (int k = 0; k < jobs; k++) {
        if (w[k].to >= 0)
            close(w[k].to); /* EOF: the worker exits */
        if (w[k].from >= 0)
            close(w[k].from);
    }
    for (int k = 0; k < jobs; k++)
        if (w[k].pid > 0)
            while (waitpid(w[k].pid, NULL, 0) < 0 && errno == EINTR) {
            }
    free(w);
    return trace_errors;
}

/* ---- run ------------------------------------------------------------------------ */

static void run_usage(FILE *f)
{
    fprintf(f,
            "usage: threeway run [--stack model] [--profile P] [--format text|tap|junit]\n"
            "                    [--pcap-dir DIR] [-j N] [--tolerance-usecs N] [--real-time] PATH...\n\n"
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
            "  -j N                 run cases on N forked workers, each with its own stack\n"
            "                       (on linux: its own namespace and TAP); the report keeps\n"
            "                       the cases' order\n"
            "  --tolerance-usecs N  timing tolerance (default: the script's --tolerance_usecs,\n"
            "                       else the stack's: 0 on the model, 40000 on linux, which\n"
            "                       also lets a timer be late by 0.127 of its interval, at\n"
            "                       most 2.5 s more; see docs/script-format.md)\n"
            "  --real-time          on a real stack, wait out every wait in real time; by\n"
            "                       default a case whose lines no timer can affect (every\n"
            "                       expected segment at +0, silences under 1 s, waits under\n"
            "                       0.5 s) skips its waits (docs/script-format.md, \"Time\")\n\n"
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
        {"real-time", no_argument, NULL, 'R'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *stack = "model", *profile = "C", *pcap_dir = NULL;
    enum format fmt = FMT_TEXT;
    long long tol = -1;
    bool real_time = false;
    int c, rc = TW_EXIT_OK, jobs = 1;
    uint16_t *case_ports = NULL;
    struct tw_paths paths = {0};
    struct tw_script *scripts = NULL;
    struct tw_case_result *res = NULL;
    uint8_t *ports = NULL;
    size_t bad = 0, trace_errors = 0;
    const struct tw_adapter_ops *ops;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:p:f:d:j:t:Rh", longopts, NULL)) != -1) {
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
            jobs = (int)j;
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
        case 'R': real_time = true; break;
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
    case_ports = calloc(paths.n ? paths.n : 1, sizeof(*case_ports));
    if (!case_ports) {
        fprintf(stderr, "threeway run: out of memory\n");
        rc = TW_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < paths.n; i++)
        case_ports[i] = take_port(paths.v[i], ports);
    struct job_ctx jc = {.paths = paths.v, .scripts = scripts, .ports = case_ports, .ops = ops,
                         .stack = stack, .profile = profile, .pcap_dir = pcap_dir, .tol = tol,
                         .real_time = real_time};
    if (jobs > 1 && paths.n > 1) {
        trace_errors += run_parallel(&jc, paths.n, jobs, res, progress);
    } else {
        for (size_t i = 0; i < paths.n; i++) {
            int te;
            progress_line(progress, i + 1, paths.n, paths.v[i]);
            run_one(&jc, i, &res[i], &te);
            trace_errors += te != 0;
        }
    }
    for (size_t i = 0; i < paths.n; i++)
        if (res[i].status == TW_CASE_FAIL)
            rc = TW_EXIT_FAIL;
    if (progress)
        fprintf(stderr, "\r\033[K");
    report(fmt, paths.v, res, paths.n, scripts, ops, argv[optind]);
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
    free(case_ports);
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
        /* Lines tagged with a stack that has a profile (profiles/<stack>.tsv)
         * are that stack's declared deviations: the case must cover one of
         * the IDs declared there, or the difference is undeclared. */
        for (unsigned t = 0; t < s.n_profiles; t++) {
            struct deviations dev;
            const char *tag = s.profile_names[t];
            int line = script_tag_line(&s, tag);
            bool declared = false;
            if (!line || deviations_load(req, tag, &dev))
                continue;
            for (size_t k = 0; k < s.n_covers && !declared; k++)
                declared = deviation_get(&dev, s.covers[k].id) != NULL;
            if (!declared) {
                printf("%s:%d: [%s] lines, but none of the case's covers IDs is declared in %s "
                       "(an undeclared difference)\n",
                       paths.v[i], line, tag, dev.file);
                problems++;
            }
            deviations_free(&dev);
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

/* `threeway coverage PATH...`: which requirements the cases cover (their
 * `// covers:` lines, against conformance/requirements.tsv) and which model
 * transitions they exercise (each case is run on the model under both
 * profiles, C and S). The last line is `requirements covered: N of M`, M
 * counting every wire-observable requirement. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_common.h"
#include "runner.h"
#include "script.h"
#include "tcp.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: threeway coverage [--requirements FILE] [--min PERCENT] [--verbose] PATH...\n\n"
               "Lists, for the cases under PATH (files, or directories searched for *.pkt):\n"
               "every wire-observable requirement of conformance/requirements.tsv with the\n"
               "number of cases whose '// covers:' line names it (--verbose: the cases), the\n"
               "ones no case covers, the ones marked not observable (with the reason), and the\n"
               "model transitions (rows of the transition table) the cases exercise when run\n"
               "on the model under profiles C and S. The last line is\n"
               "'requirements covered: N of M'.\n"
               "Exit: 0; 1 if --min PERCENT is given and coverage is below it, or a case names\n"
               "an unknown ID; 2 for bad input (unreadable or malformed files).\n");
}

int tw_cmd_coverage(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"requirements", required_argument, NULL, 'r'},
        {"min", required_argument, NULL, 'm'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *req = NULL;
    double min_pct = -1;
    bool verbose = false;
    char found[PATH_MAX];
    int c, rc = TW_EXIT_OK, bad_line = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "r:m:vh", longopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'r': req = optarg; break;
        case 'v': verbose = true; break;
        case 'm':
            min_pct = strtod(optarg, &end);
            if (end == optarg || *end || min_pct < 0 || min_pct > 100) {
                fprintf(stderr, "threeway coverage: --min wants a percentage 0..100, got '%s'\n", optarg);
                return TW_EXIT_USAGE;
            }
            break;
        case 'h': usage(stdout); return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway coverage: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return TW_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        usage(stderr);
        return TW_EXIT_USAGE;
    }
    if (!req) {
        if (!tw_reqlist_find_file(argv[optind], found, sizeof(found))) {
            fprintf(stderr, "threeway coverage: cannot find conformance/requirements.tsv above %s "
                            "(give --requirements FILE)\n", argv[optind]);
            return TW_EXIT_USAGE;
        }
        req = found;
    }
    struct tw_reqlist reqs = {0};
    if (tw_reqlist_load(req, &reqs, &bad_line)) {
        if (bad_line)
            fprintf(stderr, "threeway coverage: %s:%d: malformed line (want 6 tab-separated fields)\n",
                    req, bad_line);
        else
            perror(req);
        tw_reqlist_free(&reqs);
        return TW_EXIT_USAGE;
    }
    struct tw_paths paths = {0};
    if (tw_paths_collect("coverage", argv + optind, argc - optind, &paths)) {
        tw_reqlist_free(&reqs);
        return TW_EXIT_USAGE;
    }
    size_t *count = calloc(reqs.n ? reqs.n : 1, sizeof(*count));
    char **first_case = calloc(reqs.n ? reqs.n : 1, sizeof(*first_case));
    uint64_t rows[2] = {0, 0};
    size_t unknown = 0, failed_runs = 0;
    bool tty = isatty(STDERR_FILENO);
    if (!count || !first_case) {
        fprintf(stderr, "threeway coverage: out of memory\n");
        rc = TW_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; i < paths.n; i++) {
        struct tw_script s;
        struct tw_script_error err;
        if (tty && paths.n > 50)
            fprintf(stderr, "\r[%zu/%zu] %-60.60s", i + 1, paths.n, paths.v[i]);
        if (tw_script_parse_file(paths.v[i], &s, &err)) {
            if (tty)
                fputc('\n', stderr);
            fprintf(stderr, "%s:%d:%d: %s\n", paths.v[i], err.line, err.column, err.message);
            tw_script_cleanup(&s);
            rc = TW_EXIT_USAGE;
            continue;
        }
        for (size_t k = 0; k < s.n_covers; k++) {
            const struct tw_requirement *r = tw_reqlist_get(&reqs, s.covers[k].id);
            if (!r) {
                printf("%s:%d: unknown requirement ID '%s'\n", paths.v[i], s.covers[k].line,
                       s.covers[k].id);
                unknown++;
                continue;
            }
            size_t idx = (size_t)(r - reqs.v);
            if (!count[idx]++)
                first_case[idx] = paths.v[i];
            if (verbose)
                printf("  %-16s %s\n", r->id, paths.v[i]);
        }
        static const char *const profiles[] = {"C", "S"};
        for (int p = 0; p < 2; p++) {
            struct tw_run_config cfg = {.ops = NULL, .profile = profiles[p], .tolerance_usecs = -1};
            struct tw_case_result res;
            if (tw_run_case(&s, &cfg, &res) == 0 && res.status != TW_CASE_FAIL) {
                rows[0] |= res.rows[0];
                rows[1] |= res.rows[1];
            } else if (res.status == TW_CASE_FAIL) {
                failed_runs++;
            }
            tw_case_result_cleanup(&res);
        }
        tw_script_cleanup(&s);
    }
    if (tty && paths.n > 50)
        fputc('\n', stderr);
    if (rc != TW_EXIT_OK)
        goto out;

    size_t observable = 0, covered = 0;
    printf("requirements (%s):\n", req);
    for (size_t i = 0; i < reqs.n; i++) {
        if (!reqs.v[i].observable)
            continue;
        observable++;
        covered += count[i] > 0;
        if (count[i])
            printf("  %-16s %3zu case%s  (e.g. %s)\n", reqs.v[i].id, count[i], count[i] == 1 ? " " : "s",
                   first_case[i]);
    }
    printf("not covered:\n");
    for (size_t i = 0; i < reqs.n; i++)
        if (reqs.v[i].observable && !count[i])
            printf("  %-16s %s\n", reqs.v[i].id, reqs.v[i].summary);
    printf("not observable on the wire (not counted):\n");
    for (size_t i = 0; i < reqs.n; i++)
        if (!reqs.v[i].observable)
            printf("  %-16s %s\n", reqs.v[i].id, reqs.v[i].reason);
    size_t taken = 0;
    for (int r = 0; r < TW_ROW__COUNT; r++)
        taken += (rows[r / 64] >> (r % 64)) & 1;
    printf("model transitions exercised: %zu of %d\n", taken, TW_ROW__COUNT);
    for (int r = 0; r < TW_ROW__COUNT; r++)
        if (!((rows[r / 64] >> (r % 64)) & 1))
            printf("  not exercised: %-5s %s --%s--> %s  (%s)\n", tw_rows[r].id, tw_state_name(tw_rows[r].from),
                   tw_event_name(tw_rows[r].event), tw_state_name(tw_rows[r].to), tw_rows[r].what);
    if (failed_runs)
        printf("note: %zu case runs failed on the model; their transitions are not counted\n", failed_runs);
    double pct = observable ? 100.0 * (double)covered / (double)observable : 0;
    printf("%zu cases; %.1f%% of the wire-observable requirements\n", paths.n, pct);
    printf("requirements covered: %zu of %zu\n", covered, observable);
    if (unknown || (min_pct >= 0 && pct < min_pct))
        rc = TW_EXIT_FAIL;
out:
    free(count);
    free(first_case);
    tw_paths_free(&paths);
    tw_reqlist_free(&reqs);
    return rc;
}

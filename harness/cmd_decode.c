/* `threeway decode FILE...`: fuzz_model inputs as case scripts.
 *
 * The driver runs each input through the runner in record mode on the
 * model (harness/fuzz_model.c): the lines it ran and the segments D sent,
 * printed with the runner's relative numbers, form a case that `threeway
 * run` passes on the model; an input that trips an invariant prints up to
 * the violation, then a comment naming it. covers: lists the requirements
 * of the transition rows the run took. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "fuzz_model.h"
#include "script_print.h"
#include "tcp.h"

#define MAX_INPUT (1u << 20)

static int read_all(const char *path, uint8_t **out, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = malloc(MAX_INPUT + 1);
    size_t n = buf ? fread(buf, 1, MAX_INPUT + 1, f) : 0;
    int bad = !buf || ferror(f);
    fclose(f);
    if (bad || n > MAX_INPUT) {
        free(buf);
        errno = bad ? EIO : EFBIG;
        return -1;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int decode_one(const char *path, FILE *out)
{
    uint8_t *data;
    size_t len;
    if (read_all(path, &data, &len)) {
        fprintf(stderr, "threeway decode: %s: %s\n", path, strerror(errno));
        return TW_EXIT_USAGE;
    }
    struct tw_script s;
    struct tw_fz_result res;
    int rc = tw_fuzz_model_decode(data, len, &s, &res);
    free(data);
    if (rc == -2) {
        tw_script_cleanup(&s);
        fprintf(stderr, "threeway decode: out of memory\n");
        return TW_EXIT_FAIL;
    }
    const char *base = strrchr(path, '/');
    fprintf(out, "// Decoded by `threeway decode` from %s (%zu bytes, %u events of a fuzz_model input).\n",
            base ? base + 1 : path, len, res.steps);
    fprintf(out, "// The outbound lines are the reference model's own answers.\n");
    tw_script_print(out, &s);
    if (rc)
        fprintf(out, "// INVARIANT VIOLATED here: %s\n", res.message);
    tw_script_cleanup(&s);
    return rc ? TW_EXIT_FAIL : TW_EXIT_OK;
}

static int print_rows(int n, char **files)
{
    uint64_t all[2] = {0, 0};
    int rc = TW_EXIT_OK;
    for (int i = 0; i < n; i++) {
        uint8_t *data;
        size_t len;
        struct tw_fz_result res;
        if (read_all(files[i], &data, &len)) {
            fprintf(stderr, "threeway decode: %s: %s\n", files[i], strerror(errno));
            rc = TW_EXIT_USAGE;
            continue;
        }
        if (tw_fuzz_model_run(data, len, &res, NULL) && rc == TW_EXIT_OK)
            rc = TW_EXIT_FAIL;
        free(data);
        all[0] |= res.rows[0];
        all[1] |= res.rows[1];
    }
    unsigned reached = 0;
    for (int r = 0; r < TW_ROW__COUNT; r++)
        reached += (all[r / 64] >> (r % 64)) & 1;
    printf("reached %u/%d\nmissing:", reached, TW_ROW__COUNT);
    for (int r = 0; r < TW_ROW__COUNT; r++)
        if (!((all[r / 64] >> (r % 64)) & 1))
            printf(" %s", tw_rows[r].id);
    printf("\n");
    return rc;
}

int tw_cmd_decode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output-dir", required_argument, NULL, 'o'},
        {"rows", no_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;
    bool rows = false;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:rh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'r':
            rows = true;
            break;
        case 'h':
            printf("usage: threeway decode [--output-dir DIR] FILE...\n"
                   "       threeway decode --rows FILE...\n\n"
                   "Prints a fuzz_model input (corpus/fuzz_model/, corpus/regression/fuzz_model/, or a\n"
                   "crash file) as a case script for `threeway run`: the events it encodes, run on the\n"
                   "model through the runner, with the model's answers as the outbound lines, so the\n"
                   "case passes on the model by construction and can be run on any stack.\n"
                   "With --output-dir, writes DIR/NAME.pkt for each FILE instead of printing.\n"
                   "With --rows, runs every FILE and prints the transition-table rows they reach\n"
                   "together (`reached N/M` then `missing: ID...`), e.g. for a whole corpus.\n"
                   "Exit 0 if every input ran cleanly, 1 if one trips an invariant (its script ends\n"
                   "with a comment naming the violation), 2 if a FILE cannot be read.\n");
            return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway decode: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return TW_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: threeway decode [--output-dir DIR] FILE...\n");
        return TW_EXIT_USAGE;
    }
    if (rows)
        return print_rows(argc - optind, argv + optind);
    int worst = TW_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        FILE *out = stdout;
        char *name = NULL;
        if (dir) {
            const char *base = strrchr(argv[i], '/');
            base = base ? base + 1 : argv[i];
            size_t n = strlen(dir) + strlen(base) + 6;
            name = malloc(n);
            if (!name)
                return TW_EXIT_FAIL;
            snprintf(name, n, "%s/%s.pkt", dir, base);
            out = fopen(name, "w");
            if (!out) {
                fprintf(stderr, "threeway decode: %s: %s\n", name, strerror(errno));
                free(name);
                return TW_EXIT_USAGE;
            }
        }
        int rc = decode_one(argv[i], out);
        if (dir && fclose(out)) {
            fprintf(stderr, "threeway decode: %s: write error\n", name);
            rc = TW_EXIT_FAIL;
        }
        free(name);
        if (rc == TW_EXIT_USAGE || (rc == TW_EXIT_FAIL && worst == TW_EXIT_OK))
            worst = rc;
    }
    if (!dir && fflush(stdout))
        return TW_EXIT_FAIL;
    return worst;
}

/* `threeway encode --output-dir DIR CASE...`: case scripts (files or
 * directories of .pkt) as fuzz_model inputs, DIR/NAME for CASE NAME.pkt:
 * the seeds ci/make-seeds files under corpus/fuzz_model/. */
int tw_cmd_encode(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output-dir", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            dir = optarg;
            break;
        case 'h':
            printf("usage: threeway encode --output-dir DIR CASE...\n\n"
                   "Encodes case scripts as fuzz_model inputs (the seeds ci/make-seeds generates from\n"
                   "the conformance suite): inbound segments exactly, the socket calls, ICMP errors\n"
                   "and time the encoding has, the profile and option sysctls; outbound lines are\n"
                   "left to the model. Writes DIR/NAME for each NAME.pkt. Exit 2 if a case does not\n"
                   "parse.\n");
            return TW_EXIT_OK;
        default:
            fprintf(stderr, "threeway encode: unknown or incomplete option '%s'\n", argv[optind - 1]);
            return TW_EXIT_USAGE;
        }
    }
    if (!dir || optind >= argc) {
        fprintf(stderr, "usage: threeway encode --output-dir DIR CASE...\n");
        return TW_EXIT_USAGE;
    }
    int rc = TW_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        struct tw_script s;
        struct tw_script_error err;
        if (tw_script_parse_file(argv[i], &s, &err)) {
            fprintf(stderr, "%s:%d:%d: %s\n", argv[i], err.line, err.column, err.message);
            tw_script_cleanup(&s);
            rc = TW_EXIT_USAGE;
            continue;
        }
        uint8_t buf[4096];
        size_t n = tw_fuzz_model_encode(&s, buf, sizeof(buf));
        tw_script_cleanup(&s);
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        size_t blen = strlen(base);
        if (blen > 4 && !strcmp(base + blen - 4, ".pkt"))
            blen -= 4;
        char path[4096];
        snprintf(path, sizeof(path), "%s/%.*s", dir, (int)blen, base);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(buf, 1, n, f) != n || fclose(f)) {
            fprintf(stderr, "threeway encode: %s: %s\n", path, strerror(errno));
            return TW_EXIT_FAIL;
        }
    }
    return rc;
}

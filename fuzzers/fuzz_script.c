/* fuzz_script: the case parser on arbitrary text, and the printer.
 * Under test: tw_script_parse_text (harness/script.c), tw_script_print
 * (harness/script_print.c).
 * Oracle: parsing never crashes, leaks or reads out of bounds, whatever the
 * bytes; a script that parses prints as text that parses again and prints
 * the same (print(parse(print(parse(x)))) == print(parse(x))). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"
#include "script_print.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *print(const struct tw_script *s, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        abort();
    tw_script_print(f, s);
    if (fclose(f))
        abort();
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_script a, b;
    struct tw_script_error err;
    if (tw_script_parse_text("fuzz.pkt", (const char *)data, size, &a, &err)) {
        tw_script_cleanup(&a);
        return 0;
    }
    size_t n1, n2;
    char *t1 = print(&a, &n1);
    if (tw_script_parse_text("fuzz.pkt", t1, n1, &b, &err)) {
        fprintf(stderr, "fuzz_script: the printed script does not parse: %d:%d: %s\n%s", err.line,
                err.column, err.message, t1);
        abort();
    }
    char *t2 = print(&b, &n2);
    if (n1 != n2 || memcmp(t1, t2, n1)) {
        fprintf(stderr, "fuzz_script: printing is not a fixpoint:\n--- first\n%s--- second\n%s", t1, t2);
        abort();
    }
    free(t1);
    free(t2);
    tw_script_cleanup(&a);
    tw_script_cleanup(&b);
    return 0;
}

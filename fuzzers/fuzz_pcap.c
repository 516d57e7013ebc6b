/* fuzz_pcap: capture files from anywhere.
 * Under test: tw_pcap_read (libpcap's reader, link-layer stripping, the
 * codec) and tw_pcap_import (harness/pcap.c), the path of `threeway import`.
 * Oracle: no crash, UB or unbounded allocation on any input; whatever a
 * capture imports as is a case the script parser accepts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_pcap_capture c;
    char err[512];
    FILE *f = size ? fmemopen((void *)data, size, "rb") : NULL;
    if (tw_pcap_read(f, "fuzz.pcap", &c, err, sizeof(err)) == TW_PCAP_OK) {
        for (int mode = 0; mode < 4; mode++) {
            struct tw_import_opts o = {.as_client = mode & 1, .exact = mode & 2, .name = "fuzz.pcap"};
            struct tw_import_info info;
            struct tw_script s;
            struct tw_script_error se;
            char *text = NULL;
            if (tw_pcap_import(&c, &o, &text, &info, err, sizeof(err)) != TW_PCAP_OK)
                continue;
            if (tw_script_parse_text("fuzz.pkt", text, strlen(text), &s, &se)) {
                fprintf(stderr, "fuzz_pcap: import wrote a case that does not parse: line %d: %s\n%s\n",
                        se.line, se.message, text);
                abort();
            }
            tw_script_cleanup(&s);
            free(text);
        }
    }
    tw_pcap_capture_cleanup(&c);
    return 0;
}

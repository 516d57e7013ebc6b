/* fuzz_segment: the codec on arbitrary bytes.
 * Under test: tw_segment_parse/build, tw_options_parse, tw_icmp_parse,
 * tw_segment_render (target/segment.c, icmp.c, render.c).
 * Oracle: no crash or UB on any input; a parsed segment rebuilds to bytes
 * that parse back to the same fields with a valid checksum, and rendering
 * always terminates its string. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "segment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_segment: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tw_segment a, b;
    char text[512];
    for (unsigned flags = 0; flags < 4; flags++) {
        if (tw_segment_parse(data, size, flags, &a) != TW_PARSE_OK)
            continue;
        tw_segment_render(&a, text, sizeof(text));
        check(memchr(text, 0, sizeof(text)) != NULL, "render did not terminate");
        uint8_t out[2048];
        enum tw_parse_err err;
        size_t n = tw_segment_build(&a, out, sizeof(out), &err);
        check(n > 0, "a parsed segment does not build");
        check(tw_segment_parse(out, n, TW_PARSE_VERIFY_CHECKSUM, &b) == TW_PARSE_OK,
              "a built segment does not parse back");
        check(a.seq == b.seq && a.ack == b.ack && a.flags == b.flags && a.window == b.window &&
                  a.urgent == b.urgent && a.reserved == b.reserved && a.sport == b.sport &&
                  a.dport == b.dport && a.payload_len == b.payload_len &&
                  a.opt.raw_len == b.opt.raw_len && !memcmp(a.opt.raw, b.opt.raw, a.opt.raw_len) &&
                  a.opt.has == b.opt.has && tw_addr_equal(&a.src, &b.src) &&
                  tw_addr_equal(&a.dst, &b.dst),
              "round trip changed a field");
        check(!a.payload_len || !memcmp(a.payload, b.payload, a.payload_len), "payload changed");
    }
    struct tw_icmp ic;
    (void)tw_icmp_parse(data, size, TW_PARSE_VERIFY_CHECKSUM, &ic);
    (void)tw_icmp_parse(data, size, 0, &ic);
    struct tw_options opt;
    (void)tw_options_parse(data, size > TW_TCP_MAX_OPTLEN ? TW_TCP_MAX_OPTLEN : size, &opt);
    tw_options_render(&opt, text, sizeof(text));
    return 0;
}

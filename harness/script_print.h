/* Case scripts back to text: the inverse of tw_script_parse_text, for
 * `threeway decode` (a fuzz input as a case) and the fuzz_script round trip.
 * What tw_script_print writes parses back to the same events (times,
 * packets, syscalls, ICMP, shell, silence, state lines, header and covers). */
#ifndef TW_SCRIPT_PRINT_H
#define TW_SCRIPT_PRINT_H

#include <stdio.h>

#include "script.h"

/* Options bytes as a packet line's list, in order: nop, eol (the first EOL
 * ends the list: padding is never compared), mss, wscale, sackOK, TS, sack,
 * anything else as `kind K len L 0xHEX` or `raw HEX`. Sets p->n_opts and
 * p->opt_bytes. */
void tw_popts_from_raw(const uint8_t *raw, size_t len, struct tw_packet *p);

/* ICMPv4 names of a type and code as the script language spells them
 * (code NULL when the type takes none); false if the language has none. */
bool tw_icmp_names(uint8_t type, uint8_t code, const char **type_name, const char **code_name);

/* One event's line (no newline), the header lines, a whole script. */
void tw_script_print_event(FILE *f, const struct tw_script *s, const struct tw_script_event *e);
void tw_script_print_header(FILE *f, const struct tw_script *s);
void tw_script_print(FILE *f, const struct tw_script *s);

#endif

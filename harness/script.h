/* Case scripts: packetdrill's syntax, the subset connection establishment
 * needs, plus threeway's extensions (docs/script-format.md).
 *
 * tw_script_parse_*() turn a file into a list of events; they never run
 * anything. Every error carries file:line:column and names the construct.
 * The runner (runner.h) gives the events their meaning on a stack.
 *
 * No silent limits: a list that would overflow one of the bounds below is
 * an error at its line, and the event array grows on the heap. */
#ifndef TW_SCRIPT_H
#define TW_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

#define TW_SCRIPT_MAX_FILE (1u << 20) /* bytes in a script file */
#define TW_SCRIPT_MAX_LINE 4096       /* bytes in one line */
#define TW_SCRIPT_MAX_ARGS 6          /* arguments of a syscall */
#define TW_SCRIPT_MAX_ITEMS 8         /* items of a [list] or {struct} */
#define TW_SCRIPT_MAX_POPTS 16        /* options in one <...> list */
#define TW_SCRIPT_MAX_PROFILES 32     /* distinct profile tags in one script */

struct tw_srcpos {
    int line, column; /* 1-based */
};

/* ---- time --------------------------------------------------------------- */

enum tw_time_kind {
    TW_TIME_ABSOLUTE, /* "0.100": since the script started */
    TW_TIME_RELATIVE, /* "+0.100": since the previous event */
    TW_TIME_ANY,      /* "*": whenever (outbound only) */
};

struct tw_time {
    enum tw_time_kind kind;
    int64_t usecs;     /* start (or the only) time */
    int64_t end_usecs; /* end of a range "a~b" (same kind as start, >= start), else == usecs */
    bool is_range;
    /* a blocking call's return time "a...b"; return_relative: "+b", counted
     * from the call's start */
    bool has_return;
    bool return_relative;
    int64_t return_usecs;
};

/* ---- packet lines ------------------------------------------------------ */

enum tw_dir {
    TW_DIR_IN,  /* "<": the harness injects it into the stack */
    TW_DIR_OUT, /* ">": the stack must send it */
};

enum tw_popt_kind {
    TW_POPT_NOP,
    TW_POPT_EOL,
    TW_POPT_MSS,     /* mss N (a) */
    TW_POPT_WSCALE,  /* wscale N (a) */
    TW_POPT_SACKOK,  /* sackOK */
    TW_POPT_TS,      /* TS val N ecr N (a, b); "val *": val_any */
    TW_POPT_SACK,    /* sack a:b ... (up to 4 blocks) */
    TW_POPT_GENERIC, /* kind K len L [0xHEX]: extension */
    TW_POPT_RAW,     /* raw HEXBYTES: extension */
};

struct tw_popt {
    enum tw_popt_kind kind;
    uint32_t a, b;
    bool val_any;
    uint8_t sack_n;
    uint32_t sack[4][2];
    uint8_t raw_len; /* GENERIC / RAW: the bytes to put on the wire */
    uint8_t raw[TW_TCP_MAX_OPTLEN];
};

struct tw_packet {
    enum tw_dir dir;
    uint8_t flags;   /* TW_SYN ... from "S . F R P U E W" ("-" = none) */
    uint32_t seq;    /* relative, mod 2^32 (see the runner) */
    bool seq_wnd;    /* inbound "wnd+N": seq is N past H's ISN + the window D last advertised */
    bool seq_any;    /* outbound SYN "*:*": any ISN; the runner learns D's ISN again from it */
    uint16_t len;    /* payload bytes: END - SEQ */
    bool has_ack;
    uint32_t ack;
    bool has_win;
    uint32_t win;
    bool win_syn;     /* outbound "win syn": the window D's SYN offered (judge.c) */
    bool options_any; /* "<...>" */
    bool has_options; /* an option list was given ("<>" is an empty one) */
    uint8_t n_opts;
    struct tw_popt opts[TW_SCRIPT_MAX_POPTS];
    uint8_t opt_bytes; /* wire length of opts, <= 40 (checked) */
    /* extensions for malformed input, inbound only: */
    bool bad_csum;
    bool has_urg;
    uint16_t urg;
    bool has_reserved;
    uint8_t reserved;
    bool has_doff;
    uint8_t doff;
    bool ip6_dstopts;
    bool has_src, has_dst;
    struct tw_addr src, dst;
    /* extension for outbound lines: D's seq may differ from `seq` by up to
     * seq_tolerance either way (an ISN read from a real clock) */
    bool has_seq_tolerance;
    uint32_t seq_tolerance;
};

/* Option bytes for a packet line's list, in the order written, unpadded.
 * TS val for "val *" is 0. Returns the length (<= 40, checked at parse). */
size_t tw_popts_encode(const struct tw_packet *p, uint8_t out[TW_TCP_MAX_OPTLEN]);

/* ICMP error lines, packetdrill's form:
 *   < icmp unreachable port_unreachable [0:0(0)]
 *   < icmp unreachable frag_needed mtu 1000 [S 0:0(0)]
 * The quote's seq is relative to D's ISN; without a quote, the error quotes
 * the last segment D sent. Types and codes use ICMPv4 numbering; the runner
 * maps them to ICMPv6 under --ip_version=ipv6. */
struct tw_icmp_line {
    uint8_t type, code;
    const char *type_name, *code_name; /* static strings */
    bool has_mtu;
    uint32_t mtu;
    bool has_quote;
    uint8_t quote_flags;
    uint32_t quote_seq;
    uint16_t quote_len;
};

/* ---- syscall lines ------------------------------------------------------ */

#define TW_SYSCALLS(X)                                                                            \
    X(SOCKET, "socket", 3, 3)                                                                    \
    X(BIND, "bind", 3, 3)                                                                        \
    X(LISTEN, "listen", 2, 2)                                                                    \
    X(ACCEPT, "accept", 3, 3)                                                                    \
    X(CONNECT, "connect", 3, 3)                                                                  \
    X(CLOSE, "close", 1, 1)                                                                      \
    X(SHUTDOWN, "shutdown", 2, 2)                                                                \
    X(FCNTL, "fcntl", 2, 3)                                                                      \
    X(READ, "read", 3, 3)                                                                        \
    X(WRITE, "write", 3, 3)                                                                      \
    X(SETSOCKOPT, "setsockopt", 5, 5)                                                            \
    X(GETSOCKOPT, "getsockopt", 5, 5)

enum tw_sys {
#define TW_X(id, name, min, max) TW_SYS_##id,
    TW_SYSCALLS(TW_X)
#undef TW_X
        TW_SYS__COUNT
};

const char *tw_sys_name(enum tw_sys s);

/* One argument: a number, symbols ORed ("O_RDWR|O_NONBLOCK", resolved to a
 * value), "...", a list "[1]" or a struct "{onoff=1, linger=0}". */
enum tw_arg_kind { TW_ARG_INT, TW_ARG_ELLIPSIS, TW_ARG_LIST, TW_ARG_STRUCT };

struct tw_arg {
    enum tw_arg_kind kind;
    int64_t value;      /* INT (symbols resolved) */
    bool symbolic;      /* INT written with at least one symbol */
    uint8_t n_items;    /* LIST / STRUCT: values in order */
    int64_t items[TW_SCRIPT_MAX_ITEMS];
    bool item_any[TW_SCRIPT_MAX_ITEMS]; /* "..." as an item */
    char field[TW_SCRIPT_MAX_ITEMS][16]; /* STRUCT: field names */
};

struct tw_syscall {
    enum tw_sys sys;
    uint8_t n_args;
    struct tw_arg args[TW_SCRIPT_MAX_ARGS];
    int64_t ret;       /* expected return value */
    int err;           /* expected errno when ret == -1, or 0 */
    const char *err_name; /* static string, or NULL */
};

/* The value of a symbolic constant (SOCK_STREAM, SOL_SOCKET, O_NONBLOCK,
 * errno names...), false if unknown. Values are Linux's. */
bool tw_script_symbol(const char *name, int64_t *out);
const char *tw_errno_name(int err); /* "ECONNREFUSED", or NULL */

/* ---- events --------------------------------------------------------------- */

enum tw_event_kind {
    TW_SEV_PACKET,
    TW_SEV_ICMP,
    TW_SEV_SYSCALL,
    TW_SEV_SHELL,   /* `command` */
    TW_SEV_SILENCE, /* extension: "silence D": D sends nothing for D seconds */
    TW_SEV_STATE,   /* extension: "state NAME" */
};

struct tw_script_event {
    struct tw_srcpos pos;
    struct tw_time time;
    enum tw_event_kind kind;
    uint32_t profiles; /* bit i: tw_script.profile_names[i]; 0 = every profile */
    union {
        struct tw_packet pkt;
        struct tw_icmp_line icmp;
        struct tw_syscall sys;
        char *shell;           /* owned */
        int64_t silence_usecs;
        const char *state;     /* static: an RFC 9293 state name */
    } u;
};

struct tw_cover {
    char id[32];
    int line;
};

struct tw_script {
    char *path; /* owned copy */
    /* "// covers: HS-..." IDs, in order (duplicates kept) */
    size_t n_covers;
    struct tw_cover *covers;
    /* header lines */
    int ip_version;        /* 4 or 6 (--ip_version) */
    uint32_t remote_isn;   /* --remote_isn */
    char *profile;         /* --profile=X, or NULL: the case runs under every profile */
    bool has_tolerance;
    int64_t tolerance_usecs; /* --tolerance_usecs */
    /* profile tags used on lines: bit i of an event's profiles is names[i] */
    unsigned n_profiles;
    char *profile_names[TW_SCRIPT_MAX_PROFILES];
    size_t n_events;
    struct tw_script_event *events;
};

struct tw_script_error {
    int line, column;
    char message[256];
};

/* Parse a file or a buffer. Returns 0, or -1 with *err set (line:column and
 * a message naming the construct); *out is then empty but must still be
 * cleaned up. tw_script_parse_file's errors at line 0 concern the file
 * itself (cannot read it, too long). */
int tw_script_parse_file(const char *path, struct tw_script *out, struct tw_script_error *err);
int tw_script_parse_text(const char *path, const char *text, size_t len, struct tw_script *out,
                         struct tw_script_error *err);
void tw_script_cleanup(struct tw_script *s);

/* Whether an event applies under a set of names (the run's profile and
 * stack, e.g. {"C", "model"}): an untagged line always does. Tags are of two
 * kinds, profiles (capitalised: C, S) and stacks (model, linux...): a tagged
 * line applies when, for each kind among its tags, one of them is in the set
 * ([C,model]: profile C and stack model). */
bool tw_script_event_applies(const struct tw_script *s, const struct tw_script_event *e,
                             const char *const *names, size_t n_names);

#endif

/* The case-script parser (docs/script-format.md). A hand-written scanner:
 * comments are blanked first (keeping columns), then every line is one
 * header option or one event. Each error names the construct and its
 * line:column; nothing unsupported is ever skipped. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "script.h"

/* ---- symbols ------------------------------------------------------------- */

struct sym {
    const char *name;
    int64_t value;
};

/* Linux's values: the model answers like Linux, and scripts come from it. */
static const struct sym symbols[] = {
    {"AF_INET", 2}, {"AF_INET6", 10}, {"PF_INET", 2}, {"PF_INET6", 10},
    {"SOCK_STREAM", 1}, {"IPPROTO_TCP", 6}, {"SOL_TCP", 6}, {"IPPROTO_IP", 0},
    {"SOL_SOCKET", 1}, {"SO_REUSEADDR", 2}, {"SO_ERROR", 4}, {"SO_RCVBUF", 8},
    {"SO_LINGER", 13}, {"TCP_NODELAY", 1}, {"TCP_MAXSEG", 2},
    {"F_GETFL", 3}, {"F_SETFL", 4}, {"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2},
    {"O_NONBLOCK", 04000}, {"SHUT_RD", 0}, {"SHUT_WR", 1}, {"SHUT_RDWR", 2},
};

#define ERRNOS(X)                                                                                 \
    X(EPERM) X(EINTR) X(EBADF) X(EAGAIN) X(EACCES) X(EFAULT) X(EINVAL) X(EPIPE) X(ENOTSOCK)      \
    X(EMSGSIZE) X(ENOPROTOOPT) X(EOPNOTSUPP) X(EADDRINUSE) X(EADDRNOTAVAIL) X(ENETDOWN)          \
    X(ENETUNREACH) X(ECONNABORTED) X(ECONNRESET) X(EISCONN) X(ENOTCONN) X(ETIMEDOUT)             \
    X(ECONNREFUSED) X(EHOSTDOWN) X(EHOSTUNREACH) X(EALREADY) X(EINPROGRESS) X(EPROTO)

static const struct sym errnos[] = {
#define TW_X(e) {#e, e},
    ERRNOS(TW_X)
#undef TW_X
    {"EWOULDBLOCK", EWOULDBLOCK},
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static const struct sym *find_sym(const struct sym *t, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name))
            return &t[i];
    return NULL;
}

bool tw_script_symbol(const char *name, int64_t *out)
{
    const struct sym *s = find_sym(symbols, N_OF(symbols), name);
    if (!s)
        s = find_sym(errnos, N_OF(errnos), name);
    if (!s)
        return false;
    *out = s->value;
    return true;
}

const char *tw_errno_name(int err)
{
    for (size_t i = 0; i < N_OF(errnos); i++)
        if (errnos[i].value == err)
            return errnos[i].name;
    return NULL;
}

const char *tw_sys_name(enum tw_sys s)
{
    static const char *const names[] = {
#define TW_X(id, name, min, max) name,
        TW_SYSCALLS(TW_X)
#undef TW_X
    };
    return (unsigned)s < TW_SYS__COUNT ? names[s] : "?";
}

static const char *const rfc_states[] = {
    "CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1",
    "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT",
};

/* ICMP names, ICMPv4 numbering. */
struct icmp_name {
    const char *name;
    uint8_t value;
};
static const struct icmp_name icmp_types[] = {
    {"unreachable", 3}, {"source_quench", 4}, {"time_exceeded", 11}, {"parameter_problem", 12},
};
static const struct icmp_name unreach_codes[] = {
    {"net_unreachable", 0},   {"host_unreachable", 1},    {"protocol_unreachable", 2},
    {"port_unreachable", 3},  {"frag_needed", 4},         {"source_route_failed", 5},
    {"net_prohibited", 9},    {"host_prohibited", 10},    {"admin_prohibited", 13},
};

/* ---- the parser state --------------------------------------------------- */

struct ps {
    struct tw_script *s;
    struct tw_script_error *err;
    const char *line; /* one line, comments blanked, NUL-terminated */
    size_t len, i;
    int lineno;
    bool seen_event;
    bool time_known;      /* script time of the previous event is known */
    int64_t prev_time;    /* script time of the previous event */
};

static int fail_at(struct ps *p, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail_at(struct ps *p, size_t col, const char *fmt, ...)
{
    va_list ap;
    p->err->line = p->lineno;
    p->err->column = (int)col + 1;
    va_start(ap, fmt);
    vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
    va_end(ap);
    return -1;
}

static void skip_ws(struct ps *p)
{
    while (p->i < p->len && (p->line[p->i] == ' ' || p->line[p->i] == '\t' || p->line[p->i] == '\r'))
        p->i++;
}

static char peek(struct ps *p)
{
    skip_ws(p);
    return p->i < p->len ? p->line[p->i] : '\0';
}

static bool accept_ch(struct ps *p, char c)
{
    if (peek(p) != c)
        return false;
    p->i++;
    return true;
}

static bool accept_str(struct ps *p, const char *str)
{
    size_t n = strlen(str);
    skip_ws(p);
    if (p->len - p->i < n || memcmp(p->line + p->i, str, n))
        return false;
    p->i += n;
    return true;
}

/* A short rendering of what is at the cursor, for messages. */
static const char *here(struct ps *p, char *buf, size_t cap)
{
    size_t n = 0;
    skip_ws(p);
    if (p->i >= p->len)
        return "end of line";
    while (p->i + n < p->len && n + 1 < cap && n < 20 && !isspace((unsigned char)p->line[p->i + n]))
        n++;
    if (!n)
        n = 1;
    snprintf(buf, cap, "'%.*s'", (int)n, p->line + p->i);
    return buf;
}

static int expect_ch(struct ps *p, char c, const char *what)
{
    char b[40];
    if (accept_ch(p, c))
        return 0;
    return fail_at(p, p->i, "expected '%c' %s, found %s", c, what, here(p, b, sizeof(b)));
}

static bool is_word_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* A word [A-Za-z_][A-Za-z0-9_]* (extra: also '-' in it, for state names). */
static bool read_word(struct ps *p, char *buf, size_t cap, bool dashes, size_t *col)
{
    skip_ws(p);
    size_t start = p->i, n;
    if (p->i >= p->len || !is_word_start(p->line[p->i]))
        return false;
    while (p->i < p->len && (is_word_char(p->line[p->i]) || (dashes && p->line[p->i] == '-')))
        p->i++;
    n = p->i - start;
    if (n >= cap)
        n = cap - 1; /* callers compare against short known names; a long word never matches */
    memcpy(buf, p->line + start, n);
    buf[n] = '\0';
    if (col)
        *col = start;
    return true;
}

/* Peek the next word without consuming it. */
static bool peek_word(struct ps *p, const char *w)
{
    size_t save = p->i, n = strlen(w);
    bool ok;
    skip_ws(p);
    ok = p->len - p->i >= n && !memcmp(p->line + p->i, w, n) &&
         (p->i + n == p->len || !is_word_char(p->line[p->i + n]));
    p->i = save;
    return ok;
}

/* An integer: optional '-', decimal or 0x hex. |value| < 2^62. */
static int read_int(struct ps *p, int64_t *out, const char *what)
{
    char b[40];
    bool neg = false;
    int64_t v = 0;
    size_t start;
    skip_ws(p);
    start = p->i;
    if (p->i < p->len && p->line[p->i] == '-') {
        neg = true;
        p->i++;
    }
    if (p->i + 1 < p->len && p->line[p->i] == '0' && (p->line[p->i + 1] == 'x' || p->line[p->i + 1] == 'X') &&
        p->i + 2 < p->len && isxdigit((unsigned char)p->line[p->i + 2])) {
        p->i += 2;
        while (p->i < p->len && isxdigit((unsigned char)p->line[p->i])) {
            char c = p->line[p->i++];
            int d = isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
            if (v > (INT64_C(1) << 58))
                return fail_at(p, start, "%s is out of range", what);
            v = v * 16 + d;
        }
    } else {
        if (p->i >= p->len || !isdigit((unsigned char)p->line[p->i])) {
            p->i = start;
            return fail_at(p, start, "expected %s (a number), found %s", what, here(p, b, sizeof(b)));
        }
        while (p->i < p->len && isdigit((unsigned char)p->line[p->i])) {
            if (v > (INT64_C(1) << 58))
                return fail_at(p, start, "%s is out of range", what);
            v = v * 10 + (p->line[p->i++] - '0');
        }
    }
    if (p->i < p->len && is_word_char(p->line[p->i]))
        return fail_at(p, start, "malformed number in %s", what);
    *out = neg ? -v : v;
    return 0;
}

static int read_ranged(struct ps *p, int64_t lo, int64_t hi, int64_t *out, const char *what)
{
    size_t col;
    skip_ws(p);
    col = p->i;
    if (read_int(p, out, what))
        return -1;
    if (*out < lo || *out > hi)
        return fail_at(p, col, "%s %lld is out of range [%lld, %lld]", what, (long long)*out,
                       (long long)lo, (long long)hi);
    return 0;
}

/* A sequence-space number: any integer in (-2^32, 2^32), taken mod 2^32. */
static int read_seq(struct ps *p, uint32_t *out, const char *what)
{
    int64_t v;
    if (read_ranged(p, -INT64_C(4294967295), INT64_C(4294967295), &v, what))
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* Seconds with up to 6 decimals: "1", "0.100", ".1", "2." -> microseconds. */
static int read_seconds(struct ps *p, int64_t *usecs, const char *what)
{
    char b[40];
    int64_t whole = 0, frac = 0;
    int digits = 0, fd = 0;
    size_t start = p->i;
    while (p->i < p->len && isdigit((unsigned char)p->line[p->i])) {
        if (whole > 100000000)
            return fail_at(p, start, "%s is too large", what);
        whole = whole * 10 + (p->line[p->i++] - '0');
        digits++;
    }
    if (p->i < p->len && p->line[p->i] == '.' && !(p->i + 1 < p->len && p->line[p->i + 1] == '.')) {
        p->i++;
        while (p->i < p->len && isdigit((unsigned char)p->line[p->i])) {
            if (fd == 6)
                return fail_at(p, start, "%s has more than 6 decimals (microseconds)", what);
            frac = frac * 10 + (p->line[p->i++] - '0');
            fd++;
            digits++;
        }
    }
    if (!digits) {
        p->i = start;
        return fail_at(p, start, "expected %s (seconds), found %s", what, here(p, b, sizeof(b)));
    }
    while (fd < 6) {
        frac *= 10;
        fd++;
    }
    *usecs = whole * 1000000 + frac;
    return 0;
}

static int read_hex_bytes(struct ps *p, uint8_t *out, size_t cap, size_t *n, const char *what)
{
    size_t start, digits = 0;
    skip_ws(p);
    start = p->i;
    if (p->len - p->i >= 2 && p->line[p->i] == '0' && (p->line[p->i + 1] == 'x' || p->line[p->i + 1] == 'X'))
        p->i += 2;
    *n = 0;
    while (p->i < p->len && isxdigit((unsigned char)p->line[p->i])) {
        char c = p->line[p->i];
        int d = isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10);
        if (digits % 2 == 0) {
            if (*n == cap)
                return fail_at(p, start, "%s: more than %zu bytes", what, cap);
            out[(*n)++] = (uint8_t)(d << 4);
        } else {
            out[*n - 1] |= (uint8_t)d;
        }
        digits++;
        p->i++;
    }
    if (p->i < p->len && is_word_char(p->line[p->i]))
        return fail_at(p, p->i, "%s: '%c' is not a hex digit", what, p->line[p->i]);
    if (!digits)
        return fail_at(p, start, "%s: expected hex bytes", what);
    if (digits % 2)
        return fail_at(p, start, "%s: odd number of hex digits", what);
    return 0;
}

/* ---- time --------------------------------------------------------------- */

static int parse_time(struct ps *p, struct tw_time *t)
{
    int64_t v;
    memset(t, 0, sizeof(*t));
    skip_ws(p);
    if (accept_ch(p, '*')) {
        t->kind = TW_TIME_ANY;
        return 0;
    }
    t->kind = accept_ch(p, '+') ? TW_TIME_RELATIVE : TW_TIME_ABSOLUTE;
    if (read_seconds(p, &t->usecs, "a time"))
        return -1;
    t->end_usecs = t->usecs;
    if (p->i < p->len && p->line[p->i] == '~') {
        size_t col = p->i++;
        bool rel = p->i < p->len && p->line[p->i] == '+';
        if (rel)
            p->i++;
        if (rel != (t->kind == TW_TIME_RELATIVE))
            return fail_at(p, col, "time range: both ends must be relative (+a~+b) or absolute (a~b)");
        if (read_seconds(p, &v, "the end of a time range"))
            return -1;
        if (v < t->usecs)
            return fail_at(p, col, "time range ends before it starts");
        t->is_range = true;
        t->end_usecs = v;
    } else if (p->len - p->i >= 3 && !memcmp(p->line + p->i, "...", 3)) {
        size_t col = p->i;
        p->i += 3;
        t->return_relative = p->i < p->len && p->line[p->i] == '+';
        if (t->return_relative)
            p->i++;
        if (read_seconds(p, &v, "a blocking call's return time"))
            return -1;
        if (!t->return_relative && t->kind == TW_TIME_ABSOLUTE && v < t->usecs)
            return fail_at(p, col, "a blocking call cannot return before it starts");
        t->has_return = true;
        t->return_usecs = v;
    }
    if (p->i < p->len && !isspace((unsigned char)p->line[p->i]))
        return fail_at(p, p->i, "malformed time: unexpected '%c'", p->line[p->i]);
    return 0;
}

/* ---- packet lines ------------------------------------------------------ */

static int parse_flags(struct ps *p, uint8_t *out)
{
    char b[40];
    size_t start;
    skip_ws(p);
    start = p->i;
    *out = 0;
    if (p->i < p->len && p->line[p->i] == '-') {
        p->i++;
    } else {
        while (p->i < p->len && !isspace((unsigned char)p->line[p->i])) {
            char c = p->line[p->i];
            uint8_t f;
            switch (c) {
            case 'S': f = TW_SYN; break;
            case '.': f = TW_ACK; break;
            case 'F': f = TW_FIN; break;
            case 'R': f = TW_RST; break;
            case 'P': f = TW_PSH; break;
            case 'U': f = TW_URG; break;
            case 'E': f = TW_ECE; break;
            case 'W': f = TW_CWR; break;
            default:
                if (isdigit((unsigned char)c) && p->i > start)
                    return fail_at(p, p->i, "expected a space between the flags and the sequence number");
                return fail_at(p, p->i, "unknown TCP flag '%c' (flags are S . F R P U E W, or - for none)", c);
            }
            if (*out & f)
                return fail_at(p, p->i, "TCP flag '%c' given twice", c);
            *out |= f;
            p->i++;
        }
    }
    if (p->i == start)
        return fail_at(p, start, "expected TCP flags, found %s", here(p, b, sizeof(b)));
    return 0;
}

/* SEQ:END(LEN) */
static int parse_seq_range(struct ps *p, uint32_t *seq, uint16_t *len)
{
    uint32_t end;
    int64_t l;
    size_t col;
    skip_ws(p);
    col = p->i;
    if (read_seq(p, seq, "a sequence number") || expect_ch(p, ':', "in SEQ:END(LEN)") ||
        read_seq(p, &end, "the end sequence number") || expect_ch(p, '(', "in SEQ:END(LEN)") ||
        read_ranged(p, 0, TW_MAX_PAYLOAD, &l, "the payload length") || expect_ch(p, ')', "in SEQ:END(LEN)"))
        return -1;
    if ((uint32_t)(end - *seq) != (uint32_t)l)
        return fail_at(p, col, "SEQ:END(LEN): END - SEQ is %u but LEN is %lld", (unsigned)(end - *seq),
                       (long long)l);
    *len = (uint16_t)l;
    return 0;
}

/* One end of a packet line's SEQ:END: a number, or (inbound, threeway) "wnd",
 * "wnd+N", "wnd-N": relative to the window D last advertised (see the runner). */
static int read_seq_term(struct ps *p, uint32_t *out, bool *wnd, const char *what)
{
    *wnd = false;
    if (!peek_word(p, "wnd"))
        return read_seq(p, out, what);
    skip_ws(p);
    p->i += 3;
    *wnd = true;
    *out = 0;
    if (p->i < p->len && (p->line[p->i] == '+' || p->line[p->i] == '-')) {
        bool neg = p->line[p->i++] == '-';
        int64_t v;
        size_t col = p->i;
        if (p->i >= p->len || !isdigit((unsigned char)p->line[p->i]))
            return fail_at(p, col, "expected a number after 'wnd%c' in %s", neg ? '-' : '+', what);
        if (read_ranged(p, 0, INT64_C(4294967295), &v, what))
            return -1;
        *out = neg ? (uint32_t)-v : (uint32_t)v;
    }
    return 0;
}

/* A packet line's SEQ:END(LEN), with the threeway forms: "wnd[+-N]" on
 * inbound lines (both ends), "*:*" on outbound SYN lines (any ISN, learned
 * again from that segment). */
static int parse_packet_seq_range(struct ps *p, struct tw_packet *pk)
{
    uint32_t end;
    int64_t l;
    size_t col;
    bool wnd_seq, wnd_end;
    skip_ws(p);
    col = p->i;
    if (p->i < p->len && p->line[p->i] == '*') {
        p->i++;
        if (expect_ch(p, ':', "in *:*(LEN)") || expect_ch(p, '*', "in *:*(LEN)") ||
            expect_ch(p, '(', "in *:*(LEN)") ||
            read_ranged(p, 0, TW_MAX_PAYLOAD, &l, "the payload length") || expect_ch(p, ')', "in *:*(LEN)"))
            return -1;
        if (pk->dir != TW_DIR_OUT || !(pk->flags & TW_SYN))
            return fail_at(p, col, "'*:*' (any ISN) applies to outbound SYN and SYN-ACK lines only");
        pk->seq_any = true;
        pk->seq = 0;
        pk->len = (uint16_t)l;
        return 0;
    }
    if (read_seq_term(p, &pk->seq, &wnd_seq, "a sequence number") || expect_ch(p, ':', "in SEQ:END(LEN)") ||
        read_seq_term(p, &end, &wnd_end, "the end sequence number") || expect_ch(p, '(', "in SEQ:END(LEN)") ||
        read_ranged(p, 0, TW_MAX_PAYLOAD, &l, "the payload length") || expect_ch(p, ')', "in SEQ:END(LEN)"))
        return -1;
    if (wnd_seq != wnd_end)
        return fail_at(p, col, "SEQ:END(LEN): write both SEQ and END relative to 'wnd', or neither");
    if (wnd_seq && pk->dir != TW_DIR_IN)
        return fail_at(p, col, "'wnd' (D's advertised window) applies to inbound (<) packets only");
    if ((uint32_t)(end - pk->seq) != (uint32_t)l)
        return fail_at(p, col, "SEQ:END(LEN): END - SEQ is %u but LEN is %lld", (unsigned)(end - pk->seq),
                       (long long)l);
    pk->seq_wnd = wnd_seq;
    pk->len = (uint16_t)l;
    return 0;
}

static size_t popt_size(const struct tw_popt *o)
{
    switch (o->kind) {
    case TW_POPT_NOP:
    case TW_POPT_EOL: return 1;
    case TW_POPT_MSS: return 4;
    case TW_POPT_WSCALE: return 3;
    case TW_POPT_SACKOK: return 2;
    case TW_POPT_TS: return 10;
    case TW_POPT_SACK: return 2 + 8u * o->sack_n;
    case TW_POPT_GENERIC:
    case TW_POPT_RAW: return o->raw_len;
    }
    return 0;
}

size_t tw_popts_encode(const struct tw_packet *pk, uint8_t out[TW_TCP_MAX_OPTLEN])
{
    size_t n = 0;
    for (unsigned i = 0; i < pk->n_opts; i++) {
        const struct tw_popt *o = &pk->opts[i];
        uint8_t b[TW_TCP_MAX_OPTLEN];
        size_t k = 0;
        switch (o->kind) {
        case TW_POPT_NOP: b[k++] = TW_OPT_NOP; break;
        case TW_POPT_EOL: b[k++] = TW_OPT_EOL; break;
        case TW_POPT_MSS:
            b[k++] = TW_OPT_MSS; b[k++] = 4;
            b[k++] = (uint8_t)(o->a >> 8); b[k++] = (uint8_t)o->a;
            break;
        case TW_POPT_WSCALE:
            b[k++] = TW_OPT_WSCALE; b[k++] = 3; b[k++] = (uint8_t)o->a;
            break;
        case TW_POPT_SACKOK: b[k++] = TW_OPT_SACKOK; b[k++] = 2; break;
        case TW_POPT_TS:
            b[k++] = TW_OPT_TS; b[k++] = 10;
            for (int s = 24; s >= 0; s -= 8) b[k++] = (uint8_t)(o->a >> s);
            for (int s = 24; s >= 0; s -= 8) b[k++] = (uint8_t)(o->b >> s);
            break;
        case TW_POPT_SACK:
            b[k++] = TW_OPT_SACK; b[k++] = (uint8_t)(2 + 8 * o->sack_n);
            for (unsigned j = 0; j < o->sack_n; j++)
                for (unsigned e = 0; e < 2; e++)
                    for (int s = 24; s >= 0; s -= 8) b[k++] = (uint8_t)(o->sack[j][e] >> s);
            break;
        case TW_POPT_GENERIC:
        case TW_POPT_RAW:
            memcpy(b, o->raw, o->raw_len);
            k = o->raw_len;
            break;
        }
        if (n + k > TW_TCP_MAX_OPTLEN)
            break; /* cannot happen: the parser checks the total */
        memcpy(out + n, b, k);
        n += k;
    }
    return n;
}

static int parse_option(struct ps *p, struct tw_packet *pk)
{
    char w[32];
    size_t col;
    int64_t v;
    struct tw_popt *o;
    if (!read_word(p, w, sizeof(w), false, &col)) {
        char b[40];
        return fail_at(p, p->i, "expected a TCP option, found %s", here(p, b, sizeof(b)));
    }
    if (pk->n_opts == TW_SCRIPT_MAX_POPTS)
        return fail_at(p, col, "more than %d TCP options in one list", TW_SCRIPT_MAX_POPTS);
    o = &pk->opts[pk->n_opts];
    memset(o, 0, sizeof(*o));
    if (!strcmp(w, "nop")) {
        o->kind = TW_POPT_NOP;
    } else if (!strcmp(w, "eol")) {
        o->kind = TW_POPT_EOL;
    } else if (!strcmp(w, "sackOK")) {
        o->kind = TW_POPT_SACKOK;
    } else if (!strcmp(w, "mss")) {
        o->kind = TW_POPT_MSS;
        if (read_ranged(p, 0, 65535, &v, "mss"))
            return -1;
        o->a = (uint32_t)v;
    } else if (!strcmp(w, "wscale")) {
        o->kind = TW_POPT_WSCALE;
        if (read_ranged(p, 0, 255, &v, "wscale"))
            return -1;
        o->a = (uint32_t)v;
    } else if (!strcmp(w, "TS")) {
        o->kind = TW_POPT_TS;
        if (!accept_str(p, "val"))
            return fail_at(p, p->i, "TS option: expected 'val'");
        if (accept_ch(p, '*')) {
            if (pk->dir == TW_DIR_IN)
                return fail_at(p, p->i - 1, "TS val * is for outbound lines only");
            o->val_any = true;
        } else {
            if (read_ranged(p, 0, UINT32_MAX, &v, "TS val"))
                return -1;
            o->a = (uint32_t)v;
        }
        if (!accept_str(p, "ecr"))
            return fail_at(p, p->i, "TS option: expected 'ecr'");
        if (read_ranged(p, 0, UINT32_MAX, &v, "TS ecr"))
            return -1;
        o->b = (uint32_t)v;
    } else if (!strcmp(w, "sack")) {
        o->kind = TW_POPT_SACK;
        do {
            if (o->sack_n == 4)
                return fail_at(p, p->i, "sack: more than 4 blocks");
            if (read_seq(p, &o->sack[o->sack_n][0], "a SACK block start") ||
                expect_ch(p, ':', "in a SACK block") ||
                read_seq(p, &o->sack[o->sack_n][1], "a SACK block end"))
                return -1;
            o->sack_n++;
        } while (peek(p) == '-' || isdigit((unsigned char)peek(p)));
    } else if (!strcmp(w, "kind")) {
        size_t n = 0;
        o->kind = TW_POPT_GENERIC;
        if (read_ranged(p, 0, 255, &v, "option kind"))
            return -1;
        o->raw[0] = (uint8_t)v;
        if (!accept_str(p, "len"))
            return fail_at(p, p->i, "kind K len L: expected 'len'");
        if (read_ranged(p, 0, 255, &v, "option len"))
            return -1;
        o->raw[1] = (uint8_t)v;
        if (peek(p) != ',' && peek(p) != '>' &&
            read_hex_bytes(p, o->raw + 2, sizeof(o->raw) - 2, &n, "option data"))
            return -1;
        o->raw_len = (uint8_t)(2 + n);
    } else if (!strcmp(w, "raw")) {
        size_t n;
        o->kind = TW_POPT_RAW;
        if (read_hex_bytes(p, o->raw, sizeof(o->raw), &n, "raw option bytes"))
            return -1;
        o->raw_len = (uint8_t)n;
    } else {
        return fail_at(p, col, "unsupported TCP option '%s'", w);
    }
    if (pk->opt_bytes + popt_size(o) > TW_TCP_MAX_OPTLEN)
        return fail_at(p, col, "TCP options longer than the %d bytes a header holds",
                       TW_TCP_MAX_OPTLEN);
    pk->opt_bytes = (uint8_t)(pk->opt_bytes + popt_size(o));
    pk->n_opts++;
    return 0;
}

static int parse_options(struct ps *p, struct tw_packet *pk)
{
    size_t col = p->i - 1;
    pk->has_options = true;
    if (accept_str(p, "...")) {
        if (pk->dir == TW_DIR_IN)
            return fail_at(p, col, "<...> (any options) is for outbound lines only");
        pk->options_any = true;
        return expect_ch(p, '>', "after <...");
    }
    if (accept_ch(p, '>'))
        return 0;
    for (;;) {
        if (parse_option(p, pk))
            return -1;
        if (accept_ch(p, '>'))
            return 0;
        if (!accept_ch(p, ',')) {
            char b[40];
            return fail_at(p, p->i, "expected ',' or '>' in the option list, found %s",
                           here(p, b, sizeof(b)));
        }
    }
}

static int read_addr(struct ps *p, struct tw_addr *a, const char *what)
{
    char buf[64];
    size_t start, n;
    skip_ws(p);
    start = p->i;
    while (p->i < p->len && (isxdigit((unsigned char)p->line[p->i]) || p->line[p->i] == ':' ||
                             p->line[p->i] == '.'))
        p->i++;
    n = p->i - start;
    if (!n || n >= sizeof(buf))
        return fail_at(p, start, "%s: expected an IPv4 or IPv6 address", what);
    memcpy(buf, p->line + start, n);
    buf[n] = '\0';
    if (!tw_addr_parse(buf, a))
        return fail_at(p, start, "%s: '%s' is not an address", what, buf);
    if (a->family != p->s->ip_version)
        return fail_at(p, start, "%s: '%s' is not an IPv%d address (--ip_version)", what, buf,
                       p->s->ip_version);
    return 0;
}

static int parse_packet(struct ps *p, struct tw_script_event *e, enum tw_dir dir)
{
    struct tw_packet *pk = &e->u.pkt;
    char w[32];
    size_t col;
    int64_t v;
    memset(pk, 0, sizeof(*pk));
    pk->dir = dir;
    e->kind = TW_SEV_PACKET;
    if (parse_flags(p, &pk->flags) || parse_packet_seq_range(p, pk))
        return -1;
    for (;;) {
        char c = peek(p);
        if (!c)
            return 0;
        if (c == '<') {
            p->i++;
            if (pk->has_options)
                return fail_at(p, p->i - 1, "a second option list");
            if (parse_options(p, pk))
                return -1;
            continue;
        }
        if (!read_word(p, w, sizeof(w), false, &col)) {
            char b[40];
            return fail_at(p, p->i, "unexpected %s in a packet line", here(p, b, sizeof(b)));
        }
        if (!strcmp(w, "ack")) {
            if (pk->has_ack)
                return fail_at(p, col, "'ack' given twice");
            if (read_seq(p, &pk->ack, "ack"))
                return -1;
            pk->has_ack = true;
            continue;
        }
        if (!strcmp(w, "win")) {
            if (pk->has_win || pk->win_syn)
                return fail_at(p, col, "'win' given twice");
            if (peek_word(p, "syn")) {
                /* threeway: D's receive window is still the one its SYN
                 * offered, read with the negotiated scaling (judge.c). */
                skip_ws(p);
                if (dir != TW_DIR_OUT)
                    return fail_at(p, p->i, "'win syn' applies to outbound (>) packets only");
                if (pk->flags & TW_SYN)
                    return fail_at(p, p->i, "'win syn' on a segment with SYN (a SYN's window is "
                                            "what it refers to)");
                p->i += 3;
                pk->win_syn = true;
                continue;
            }
            if (read_ranged(p, 0, 65535, &v, "win"))
                return -1;
            pk->has_win = true;
            pk->win = (uint32_t)v;
            continue;
        }
        if (!strcmp(w, "seq_tolerance")) {
            if (dir != TW_DIR_OUT)
                return fail_at(p, col, "'seq_tolerance' applies to outbound (>) packets only");
            if (pk->has_seq_tolerance)
                return fail_at(p, col, "'seq_tolerance' given twice");
            if (read_ranged(p, 0, INT32_MAX, &v, "seq_tolerance"))
                return -1;
            pk->has_seq_tolerance = true;
            pk->seq_tolerance = (uint32_t)v;
            continue;
        }
        bool ext = !strcmp(w, "bad_csum") || !strcmp(w, "urg") || !strcmp(w, "reserved") ||
                   !strcmp(w, "doff") || !strcmp(w, "ip6_dstopts") || !strcmp(w, "src") ||
                   !strcmp(w, "dst");
        if (!ext)
            return fail_at(p, col, "unsupported packet field '%s'", w);
        if (dir != TW_DIR_IN)
            return fail_at(p, col, "'%s' applies to inbound (<) packets only", w);
        if (!strcmp(w, "bad_csum")) {
            pk->bad_csum = true;
        } else if (!strcmp(w, "urg")) {
            if (read_ranged(p, 0, 65535, &v, "urg"))
                return -1;
            pk->has_urg = true;
            pk->urg = (uint16_t)v;
        } else if (!strcmp(w, "reserved")) {
            if (read_ranged(p, 0, 15, &v, "reserved"))
                return -1;
            pk->has_reserved = true;
            pk->reserved = (uint8_t)v;
        } else if (!strcmp(w, "doff")) {
            if (read_ranged(p, 0, 15, &v, "doff"))
                return -1;
            pk->has_doff = true;
            pk->doff = (uint8_t)v;
        } else if (!strcmp(w, "ip6_dstopts")) {
            if (p->s->ip_version != 6)
                return fail_at(p, col, "ip6_dstopts needs --ip_version=ipv6");
            pk->ip6_dstopts = true;
        } else if (!strcmp(w, "src")) {
            if (read_addr(p, &pk->src, "src"))
                return -1;
            pk->has_src = true;
        } else {
            if (read_addr(p, &pk->dst, "dst"))
                return -1;
            pk->has_dst = true;
        }
    }
}

/* ---- ICMP lines -------------------------------------------------------- */

static int parse_icmp_quote(struct ps *p, struct tw_icmp_line *ic)
{
    /* '[' already consumed: [FLAGS] SEQ:END(LEN) ']' */
    char c = peek(p);
    if (ic->has_quote)
        return fail_at(p, p->i, "ICMP line: a second quoted segment");
    ic->has_quote = true;
    if (!(isdigit((unsigned char)c) || c == '-') || (c == '-' && p->i + 1 < p->len &&
                                                      isspace((unsigned char)p->line[p->i + 1]))) {
        if (parse_flags(p, &ic->quote_flags))
            return -1;
    }
    if (parse_seq_range(p, &ic->quote_seq, &ic->quote_len))
        return -1;
    return expect_ch(p, ']', "closing the quoted segment");
}

static int parse_icmp(struct ps *p, struct tw_script_event *e)
{
    struct tw_icmp_line *ic = &e->u.icmp;
    char w[32];
    size_t col;
    int64_t v;
    const struct icmp_name *t = NULL, *c = NULL;
    e->kind = TW_SEV_ICMP;
    if (!read_word(p, w, sizeof(w), false, &col))
        return fail_at(p, p->i, "ICMP line: expected a type (unreachable, time_exceeded, "
                                "parameter_problem, source_quench)");
    for (size_t i = 0; i < N_OF(icmp_types); i++)
        if (!strcmp(w, icmp_types[i].name))
            t = &icmp_types[i];
    if (!t)
        return fail_at(p, col, "unsupported ICMP type '%s'", w);
    ic->type = t->value;
    ic->type_name = t->name;
    if (t->value == 3) {
        if (!read_word(p, w, sizeof(w), false, &col))
            return fail_at(p, p->i, "ICMP unreachable: expected a code (port_unreachable, ...)");
        for (size_t i = 0; i < N_OF(unreach_codes); i++)
            if (!strcmp(w, unreach_codes[i].name))
                c = &unreach_codes[i];
        if (!c)
            return fail_at(p, col, "unsupported ICMP unreachable code '%s'", w);
        ic->code = c->value;
        ic->code_name = c->name;
    } else if (t->value == 4 && p->s->ip_version == 6) {
        return fail_at(p, col, "source_quench has no ICMPv6 equivalent");
    }
    for (;;) {
        char ch = peek(p);
        if (!ch)
            break;
        if (ch == '[') {
            p->i++;
            if (parse_icmp_quote(p, ic))
                return -1;
            continue;
        }
        if (!read_word(p, w, sizeof(w), false, &col)) {
            char b[40];
            return fail_at(p, p->i, "unexpected %s in an ICMP line", here(p, b, sizeof(b)));
        }
        if (strcmp(w, "mtu"))
            return fail_at(p, col, "unsupported ICMP field '%s'", w);
        if (!(ic->type == 3 && ic->code == 4))
            return fail_at(p, col, "'mtu' applies to unreachable frag_needed only");
        if (read_ranged(p, 0, 65535, &v, "mtu"))
            return -1;
        ic->has_mtu = true;
        ic->mtu = (uint32_t)v;
    }
    if (ic->type == 3 && ic->code == 4 && !ic->has_mtu)
        return fail_at(p, p->i, "frag_needed needs 'mtu N'");
    return 0;
}

/* ---- syscall lines ------------------------------------------------------ */

static int parse_value(struct ps *p, int64_t *out, bool *symbolic, const char *what)
{
    /* term ('|' term)*, term = integer | SYMBOL */
    int64_t acc = 0;
    bool sym = false;
    do {
        char w[64];
        size_t col;
        int64_t v;
        if (is_word_start(peek(p))) {
            read_word(p, w, sizeof(w), false, &col);
            if (!tw_script_symbol(w, &v))
                return fail_at(p, col, "unknown symbol '%s'", w);
            sym = true;
        } else if (read_int(p, &v, what)) {
            return -1;
        }
        acc |= v;
    } while (accept_ch(p, '|'));
    *out = acc;
    if (symbolic)
        *symbolic = sym;
    return 0;
}

static int parse_arg(struct ps *p, struct tw_arg *a)
{
    char c = peek(p);
    memset(a, 0, sizeof(*a));
    if (accept_str(p, "...")) {
        a->kind = TW_ARG_ELLIPSIS;
        return 0;
    }
    if (c == '[' || c == '{') {
        bool is_struct = c == '{';
        char close = is_struct ? '}' : ']';
        p->i++;
        a->kind = is_struct ? TW_ARG_STRUCT : TW_ARG_LIST;
        if (accept_ch(p, close))
            return 0;
        for (;;) {
            if (a->n_items == TW_SCRIPT_MAX_ITEMS)
                return fail_at(p, p->i, "more than %d items in a %s", TW_SCRIPT_MAX_ITEMS,
                               is_struct ? "struct" : "list");
            if (is_struct) {
                char w[32];
                size_t col;
                if (!read_word(p, w, sizeof(w), false, &col))
                    return fail_at(p, p->i, "expected a struct field name");
                if (strlen(w) >= sizeof(a->field[0]))
                    return fail_at(p, col, "struct field name '%s' is too long", w);
                if (strcmp(w, "onoff") && strcmp(w, "linger"))
                    return fail_at(p, col, "unsupported struct field '%s' (SO_LINGER has onoff, linger)", w);
                memcpy(a->field[a->n_items], w, strlen(w) + 1);
                if (expect_ch(p, '=', "after a struct field name"))
                    return -1;
            }
            if (accept_str(p, "...")) {
                a->item_any[a->n_items] = true;
            } else if (parse_value(p, &a->items[a->n_items], NULL, "a list item")) {
                return -1;
            }
            a->n_items++;
            if (accept_ch(p, close))
                return 0;
            if (expect_ch(p, ',', is_struct ? "between struct fields" : "between list items"))
                return -1;
        }
    }
    if (c == '"' || c == '&')
        return fail_at(p, p->i, "unsupported argument form '%c' (use ...)", c);
    a->kind = TW_ARG_INT;
    return parse_value(p, &a->value, &a->symbolic, "an argument");
}

static int check_sockopt(struct ps *p, const struct tw_syscall *sc, size_t col)
{
    int64_t level = sc->args[1].value, name = sc->args[2].value;
    if (sc->args[1].kind != TW_ARG_INT || sc->args[2].kind != TW_ARG_INT)
        return fail_at(p, col, "%s: level and option name must be given", tw_sys_name(sc->sys));
    if (level == 1 && (name == 2 || name == 4 || name == 8 || name == 13))
        return 0;
    if (level == 6 && (name == 1 || name == 2))
        return 0;
    return fail_at(p, col, "%s: unsupported socket option (level %lld, name %lld); supported: "
                           "SO_REUSEADDR SO_LINGER SO_ERROR SO_RCVBUF TCP_MAXSEG TCP_NODELAY",
                   tw_sys_name(sc->sys), (long long)level, (long long)name);
}

static int parse_syscall(struct ps *p, struct tw_script_event *e, const char *name, size_t col)
{
    struct tw_syscall *sc = &e->u.sys;
    int found = -1;
    size_t rcol;
    memset(sc, 0, sizeof(*sc));
    e->kind = TW_SEV_SYSCALL;
    static const struct { int min, max; } arity[] = {
#define TW_X(id, nm, mn, mx) {mn, mx},
        TW_SYSCALLS(TW_X)
#undef TW_X
    };
    for (int i = 0; i < TW_SYS__COUNT; i++)
        if (!strcmp(name, tw_sys_name((enum tw_sys)i)))
            found = i;
    if (found < 0)
        return fail_at(p, col, "unsupported syscall '%s'", name);
    sc->sys = (enum tw_sys)found;
    if (expect_ch(p, '(', "after the syscall name"))
        return -1;
    if (!accept_ch(p, ')')) {
        for (;;) {
            if (sc->n_args == TW_SCRIPT_MAX_ARGS)
                return fail_at(p, p->i, "%s: too many arguments", name);
            if (parse_arg(p, &sc->args[sc->n_args]))
                return -1;
            sc->n_args++;
            if (accept_ch(p, ')'))
                break;
            if (expect_ch(p, ',', "between arguments"))
                return -1;
        }
    }
    if (sc->n_args < arity[found].min || sc->n_args > arity[found].max)
        return fail_at(p, col, "%s takes %d argument%s, got %d", name, arity[found].min,
                       arity[found].min == 1 ? "" : "s", sc->n_args);
    if (sc->n_args >= 1 && sc->sys != TW_SYS_SOCKET && sc->args[0].kind != TW_ARG_INT)
        return fail_at(p, col, "%s: the first argument must be a file descriptor", name);
    if (sc->sys == TW_SYS_SETSOCKOPT || sc->sys == TW_SYS_GETSOCKOPT) {
        if (check_sockopt(p, sc, col))
            return -1;
    } else if (sc->sys == TW_SYS_FCNTL) {
        int64_t cmd = sc->args[1].value;
        if (sc->args[1].kind != TW_ARG_INT || (cmd != 3 && cmd != 4))
            return fail_at(p, col, "fcntl: only F_GETFL and F_SETFL are supported");
        if (cmd == 4 && (sc->n_args != 3 || sc->args[2].kind != TW_ARG_INT))
            return fail_at(p, col, "fcntl(F_SETFL) needs the flags");
    } else if (sc->sys == TW_SYS_SHUTDOWN) {
        if (sc->args[1].kind != TW_ARG_INT || sc->args[1].value < 0 || sc->args[1].value > 2)
            return fail_at(p, col, "shutdown: expected SHUT_RD, SHUT_WR or SHUT_RDWR");
    } else if (sc->sys == TW_SYS_LISTEN) {
        if (sc->args[1].kind == TW_ARG_LIST || sc->args[1].kind == TW_ARG_STRUCT)
            return fail_at(p, col, "listen: the backlog must be a number");
    } else if (sc->sys == TW_SYS_READ || sc->sys == TW_SYS_WRITE) {
        if (sc->args[2].kind != TW_ARG_INT || sc->args[2].value < 0 || sc->args[2].value > 65535)
            return fail_at(p, col, "%s: the length must be a number in [0, 65535]", name);
    }
    if (expect_ch(p, '=', "before the expected return value"))
        return -1;
    skip_ws(p);
    rcol = p->i;
    if (read_ranged(p, -1, INT64_C(1) << 40, &sc->ret, "the return value"))
        return -1;
    if (is_word_start(peek(p))) {
        char w[32];
        size_t ecol;
        read_word(p, w, sizeof(w), false, &ecol);
        const struct sym *en = find_sym(errnos, N_OF(errnos), w);
        if (!en)
            return fail_at(p, ecol, "unknown errno '%s'", w);
        if (sc->ret != -1)
            return fail_at(p, ecol, "an errno goes with a return value of -1");
        sc->err = (int)en->value;
        sc->err_name = en->name;
    } else if (sc->ret == -1) {
        return fail_at(p, rcol, "a return value of -1 needs an errno name (e.g. -1 EINPROGRESS)");
    }
    if (accept_ch(p, '(')) {
        int depth = 1;
        size_t ocol = p->i - 1;
        while (p->i < p->len && depth) {
            if (p->line[p->i] == '(')
                depth++;
            else if (p->line[p->i] == ')')
                depth--;
            p->i++;
        }
        if (depth)
            return fail_at(p, ocol, "unterminated '(' after the return value");
    }
    return 0;
}

/* ---- events ---------------------------------------------------------------- */

static int add_profile(struct ps *p, const char *name, size_t col, uint32_t *mask)
{
    unsigned i;
    for (i = 0; i < p->s->n_profiles; i++)
        if (!strcmp(p->s->profile_names[i], name))
            break;
    if (i == p->s->n_profiles) {
        if (i == TW_SCRIPT_MAX_PROFILES)
            return fail_at(p, col, "more than %d distinct profile tags", TW_SCRIPT_MAX_PROFILES);
        p->s->profile_names[i] = strdup(name);
        if (!p->s->profile_names[i])
            return fail_at(p, col, "out of memory");
        p->s->n_profiles++;
    }
    *mask |= 1u << i;
    return 0;
}

static int parse_tags(struct ps *p, uint32_t *mask)
{
    /* '[' consumed */
    for (;;) {
        char w[32];
        size_t col;
        skip_ws(p);
        col = p->i;
        while (p->i < p->len && (is_word_char(p->line[p->i]) || p->line[p->i] == '-'))
            p->i++;
        if (p->i == col)
            return fail_at(p, col, "expected a profile name in [...]");
        if (p->i - col >= sizeof(w))
            return fail_at(p, col, "profile name too long");
        memcpy(w, p->line + col, p->i - col);
        w[p->i - col] = '\0';
        if (add_profile(p, w, col, mask))
            return -1;
        if (accept_ch(p, ']'))
            return 0;
        if (expect_ch(p, ',', "between profile names"))
            return -1;
    }
}

static int push_event(struct tw_script *s, size_t *cap, struct tw_script_event **out)
{
    if (s->n_events == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        struct tw_script_event *n = realloc(s->events, ncap * sizeof(*n));
        if (!n)
            return -1;
        s->events = n;
        *cap = ncap;
    }
    *out = &s->events[s->n_events++]; /* counted now: cleanup frees a half-parsed one */
    memset(*out, 0, sizeof(**out));
    return 0;
}

static int parse_header(struct ps *p)
{
    char name[32];
    size_t col = p->i, vcol;
    const char *v;
    size_t vlen;
    p->i += 2;
    if (p->seen_event)
        return fail_at(p, col, "option lines (--name=value) must come before the first event");
    if (!read_word(p, name, sizeof(name), false, NULL) || p->i >= p->len || p->line[p->i] != '=')
        return fail_at(p, col, "malformed option line: expected --name=value");
    p->i++;
    vcol = p->i;
    while (p->i < p->len && !isspace((unsigned char)p->line[p->i]))
        p->i++;
    v = p->line + vcol;
    vlen = p->i - vcol;
    if (!vlen)
        return fail_at(p, vcol, "--%s: missing value", name);
    if (!strcmp(name, "ip_version")) {
        if (vlen == 4 && !memcmp(v, "ipv4", 4))
            p->s->ip_version = 4;
        else if (vlen == 4 && !memcmp(v, "ipv6", 4))
            p->s->ip_version = 6;
        else
            return fail_at(p, vcol, "--ip_version: unsupported value '%.*s' (ipv4 or ipv6)", (int)vlen, v);
    } else if (!strcmp(name, "remote_isn")) {
        uint32_t isn;
        p->i = vcol;
        if (read_seq(p, &isn, "--remote_isn"))
            return -1;
        p->s->remote_isn = isn;
    } else if (!strcmp(name, "tolerance_usecs")) {
        int64_t t;
        p->i = vcol;
        if (read_ranged(p, 0, INT64_C(1) << 40, &t, "--tolerance_usecs"))
            return -1;
        p->s->has_tolerance = true;
        p->s->tolerance_usecs = t;
    } else if (!strcmp(name, "profile")) {
        free(p->s->profile);
        p->s->profile = strndup(v, vlen);
        if (!p->s->profile)
            return fail_at(p, vcol, "out of memory");
    } else {
        return fail_at(p, col, "unsupported option '--%s'", name);
    }
    skip_ws(p);
    if (p->i < p->len)
        return fail_at(p, p->i, "unexpected text after --%s", name);
    return 0;
}

static int parse_event_line(struct ps *p, size_t *cap)
{
    struct tw_script_event *e;
    uint32_t tags = 0;
    size_t tcol;
    char c;
    if (accept_ch(p, '[') && parse_tags(p, &tags))
        return -1;
    if (push_event(p->s, cap, &e))
        return fail_at(p, 0, "out of memory");
    e->pos.line = p->lineno;
    e->profiles = tags;
    skip_ws(p);
    tcol = p->i;
    e->pos.column = (int)tcol + 1;
    if (parse_time(p, &e->time))
        return -1;
    c = peek(p);
    if (c == '<' || c == '>') {
        enum tw_dir dir = c == '<' ? TW_DIR_IN : TW_DIR_OUT;
        p->i++;
        if (accept_ch(p, '[')) { /* "< [seq] icmp ...": the quote first */
            e->kind = TW_SEV_ICMP;
            memset(&e->u.icmp, 0, sizeof(e->u.icmp));
            if (parse_icmp_quote(p, &e->u.icmp))
                return -1;
            if (!peek_word(p, "icmp"))
                return fail_at(p, p->i, "expected 'icmp' after a quoted segment");
        }
        if (peek_word(p, "icmp")) {
            struct tw_icmp_line keep = e->u.icmp;
            accept_str(p, "icmp");
            if (dir != TW_DIR_IN)
                return fail_at(p, tcol, "outbound ICMP lines are not supported");
            if (e->kind != TW_SEV_ICMP)
                memset(&keep, 0, sizeof(keep));
            e->u.icmp = keep;
            if (parse_icmp(p, e))
                return -1;
        } else if (islower((unsigned char)peek(p))) {
            char w[32];
            size_t col;
            read_word(p, w, sizeof(w), false, &col);
            return fail_at(p, col, "unsupported packet type '%s' (TCP segments and icmp only)", w);
        } else if (parse_packet(p, e, dir)) {
            return -1;
        }
    } else if (c == '`') {
        size_t start = ++p->i, end;
        const char *close = memchr(p->line + start, '`', p->len - start);
        if (!close)
            return fail_at(p, start - 1, "unterminated shell command (missing closing backtick)");
        end = (size_t)(close - p->line);
        if (end == start)
            return fail_at(p, start - 1, "empty shell command");
        e->kind = TW_SEV_SHELL;
        e->u.shell = strndup(p->line + start, end - start);
        if (!e->u.shell)
            return fail_at(p, start, "out of memory");
        p->i = end + 1;
    } else if (is_word_start(c)) {
        char w[32];
        size_t col;
        read_word(p, w, sizeof(w), false, &col);
        if (!strcmp(w, "silence")) {
            e->kind = TW_SEV_SILENCE;
            skip_ws(p);
            if (read_seconds(p, &e->u.silence_usecs, "silence's duration"))
                return -1;
        } else if (!strcmp(w, "state")) {
            char st[32];
            size_t scol;
            e->kind = TW_SEV_STATE;
            if (!read_word(p, st, sizeof(st), true, &scol))
                return fail_at(p, p->i, "state: expected an RFC 9293 state name (e.g. SYN-RECEIVED)");
            for (size_t i = 0; i < N_OF(rfc_states); i++)
                if (!strcmp(st, rfc_states[i]))
                    e->u.state = rfc_states[i];
            if (!e->u.state)
                return fail_at(p, scol, "unknown TCP state '%s' (RFC 9293 names: SYN-RECEIVED, ...)", st);
        } else if (peek(p) == '(') {
            if (parse_syscall(p, e, w, col))
                return -1;
        } else {
            return fail_at(p, col, "unknown event '%s'", w);
        }
    } else {
        char b[40];
        return fail_at(p, p->i, "expected an event (packet, syscall, `shell`, silence, state), found %s",
                       here(p, b, sizeof(b)));
    }
    skip_ws(p);
    if (p->i < p->len) {
        char b[40];
        return fail_at(p, p->i, "unexpected %s at the end of the line", here(p, b, sizeof(b)));
    }
    /* Semantic checks on time. */
    if (e->time.kind == TW_TIME_ANY && !(e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT))
        return fail_at(p, tcol, "'*' (any time) applies to outbound packets only");
    if (e->time.is_range && !(e->kind == TW_SEV_PACKET && e->u.pkt.dir == TW_DIR_OUT))
        return fail_at(p, tcol, "a time range applies to outbound packets only");
    if (e->time.has_return && !(e->kind == TW_SEV_SYSCALL &&
                                (e->u.sys.sys == TW_SYS_ACCEPT || e->u.sys.sys == TW_SYS_CONNECT ||
                                 e->u.sys.sys == TW_SYS_READ)))
        return fail_at(p, tcol, "a return time (a...b) applies to blocking accept, connect and read only");
    if (e->time.kind == TW_TIME_ABSOLUTE) {
        if (p->time_known && e->time.usecs < p->prev_time)
            return fail_at(p, tcol, "time %.6f is before the previous event's %.6f",
                           (double)e->time.usecs / 1e6, (double)p->prev_time / 1e6);
        p->prev_time = e->time.usecs;
        p->time_known = true;
    } else if (e->time.kind == TW_TIME_RELATIVE) {
        p->prev_time += e->time.usecs;
    } else {
        p->time_known = false;
    }
    p->seen_event = true;
    return 0;
}

/* ---- comments, covers and lines --------------------------------------------- */

static int add_cover(struct tw_script *s, size_t *cap, const char *id, size_t n, int line)
{
    if (s->n_covers == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        struct tw_cover *c = realloc(s->covers, ncap * sizeof(*c));
        if (!c)
            return -1;
        s->covers = c;
        *cap = ncap;
    }
    memcpy(s->covers[s->n_covers].id, id, n);
    s->covers[s->n_covers].id[n] = '\0';
    s->covers[s->n_covers].line = line;
    s->n_covers++;
    return 0;
}

/* A "//" comment's text (after the slashes): collect "covers:" IDs. */
static int scan_covers(struct ps *p, const char *c, size_t n, size_t col, size_t *cap)
{
    size_t i = 0;
    while (i < n && (c[i] == ' ' || c[i] == '\t'))
        i++;
    if (n - i < 7 || memcmp(c + i, "covers:", 7))
        return 0;
    i += 7;
    size_t found = 0;
    for (;;) {
        while (i < n && (c[i] == ' ' || c[i] == '\t' || c[i] == ',' || c[i] == '\r'))
            i++;
        if (i >= n)
            break;
        size_t s = i;
        while (i < n && (isalnum((unsigned char)c[i]) || c[i] == '-' || c[i] == '_' || c[i] == '.'))
            i++;
        if (i == s || (i < n && !isspace((unsigned char)c[i]) && c[i] != ','))
            return fail_at(p, col + 2 + i, "covers: malformed requirement ID");
        if (i - s >= sizeof(((struct tw_cover *)0)->id))
            return fail_at(p, col + 2 + s, "covers: requirement ID too long");
        if (add_cover(p->s, cap, c + s, i - s, p->lineno))
            return fail_at(p, col, "out of memory");
        found++;
    }
    if (!found)
        return fail_at(p, col, "covers: lists no requirement IDs");
    return 0;
}

void tw_script_cleanup(struct tw_script *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_events; i++)
        if (s->events[i].kind == TW_SEV_SHELL)
            free(s->events[i].u.shell);
    free(s->events);
    free(s->covers);
    free(s->path);
    free(s->profile);
    for (unsigned i = 0; i < s->n_profiles; i++)
        free(s->profile_names[i]);
    memset(s, 0, sizeof(*s));
}

int tw_script_parse_text(const char *path, const char *text, size_t len, struct tw_script *out,
                         struct tw_script_error *err)
{
    struct ps p;
    size_t ev_cap = 0, cov_cap = 0, pos = 0;
    char *line = NULL;
    bool in_block = false;
    int block_line = 0, block_col = 0;
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    memset(&p, 0, sizeof(p));
    p.s = out;
    p.err = err;
    p.time_known = true;
    out->ip_version = 4;
    out->path = strdup(path ? path : "");
    if (!out->path) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        return -1;
    }
    if (len > TW_SCRIPT_MAX_FILE) {
        snprintf(err->message, sizeof(err->message), "script longer than %u bytes", TW_SCRIPT_MAX_FILE);
        goto fail;
    }
    line = malloc(TW_SCRIPT_MAX_LINE + 1);
    if (!line) {
        snprintf(err->message, sizeof(err->message), "out of memory");
        goto fail;
    }
    while (pos < len) {
        size_t end = pos, n;
        bool in_tick = false;
        p.lineno++;
        while (end < len && text[end] != '\n')
            end++;
        n = end - pos;
        if (n > TW_SCRIPT_MAX_LINE) {
            p.line = "";
            fail_at(&p, TW_SCRIPT_MAX_LINE, "line longer than %d bytes", TW_SCRIPT_MAX_LINE);
            goto fail;
        }
        memcpy(line, text + pos, n);
        line[n] = '\0';
        p.line = line;
        p.len = n;
        p.i = 0;
        /* Blank comments, keeping columns; collect covers. */
        for (size_t i = 0; i < n; i++) {
            if (line[i] == '\0') {
                fail_at(&p, i, "NUL byte in the script");
                goto fail;
            }
            if (in_block) {
                if (line[i] == '*' && i + 1 < n && line[i + 1] == '/') {
                    line[i] = line[i + 1] = ' ';
                    i++;
                    in_block = false;
                } else {
                    line[i] = ' ';
                }
                continue;
            }
            if (line[i] == '`')
                in_tick = !in_tick;
            if (in_tick)
                continue;
            if (line[i] == '/' && i + 1 < n && line[i + 1] == '/') {
                if (scan_covers(&p, text + pos + i + 2, n - i - 2, i, &cov_cap))
                    goto fail;
                memset(line + i, ' ', n - i);
                break;
            }
            if (line[i] == '/' && i + 1 < n && line[i + 1] == '*') {
                in_block = true;
                block_line = p.lineno;
                block_col = (int)i + 1;
                line[i] = line[i + 1] = ' ';
                i++;
            }
        }
        skip_ws(&p);
        if (p.i < p.len) {
            int rc = (p.len - p.i >= 2 && line[p.i] == '-' && line[p.i + 1] == '-')
                         ? parse_header(&p)
                         : parse_event_line(&p, &ev_cap);
            if (rc)
                goto fail;
        }
        pos = end + 1;
    }
    if (in_block) {
        err->line = block_line;
        err->column = block_col;
        snprintf(err->message, sizeof(err->message), "unterminated /* comment");
        goto fail;
    }
    free(line);
    return 0;
fail:
    free(line);
    {
        char *keep = out->path;
        out->path = NULL;
        tw_script_cleanup(out);
        out->path = keep;
    }
    return -1;
}

int tw_script_parse_file(const char *path, struct tw_script *out, struct tw_script_error *err)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;
    memset(out, 0, sizeof(*out));
    memset(err, 0, sizeof(*err));
    if (!f) {
        snprintf(err->message, sizeof(err->message), "cannot open: %s", strerror(errno));
        return -1;
    }
    buf = malloc(TW_SCRIPT_MAX_FILE + 1);
    if (!buf) {
        fclose(f);
        snprintf(err->message, sizeof(err->message), "out of memory");
        return -1;
    }
    n = fread(buf, 1, TW_SCRIPT_MAX_FILE + 1, f);
    if (ferror(f)) {
        snprintf(err->message, sizeof(err->message), "cannot read: %s", strerror(errno));
        fclose(f);
        free(buf);
        return -1;
    }
    fclose(f);
    if (n > TW_SCRIPT_MAX_FILE) {
        snprintf(err->message, sizeof(err->message), "script longer than %u bytes", TW_SCRIPT_MAX_FILE);
        free(buf);
        return -1;
    }
    rc = tw_script_parse_text(path, buf, n, out, err);
    free(buf);
    return rc;
}

/* Tags of two kinds: a capitalised one names a profile (C, S), any other a
 * stack (model, linux, lwip...). A line applies when each kind it names
 * includes the run's: [C,model] is C on the model, [S,linux] S on linux. */
/* [rfc]: the RFC's behaviour, which the model shows; it applies on the
 * model and on every stack that has no lines of its own in this script (a
 * stack with a declared deviation states its behaviour in [linux] lines, and
 * every other stack is judged by the RFC's). */
static bool rfc_applies(const struct tw_script *s, const char *stack)
{
    if (isupper((unsigned char)stack[0]))
        return false; /* a profile name */
    if (!strcmp(stack, "model"))
        return true;
    for (unsigned i = 0; i < s->n_profiles; i++)
        if (!strcmp(s->profile_names[i], stack))
            return false;
    return true;
}

bool tw_script_event_applies(const struct tw_script *s, const struct tw_script_event *e,
                             const char *const *names, size_t n_names)
{
    bool named[2] = {false, false}, matched[2] = {false, false};
    if (!e->profiles)
        return true;
    for (unsigned i = 0; i < s->n_profiles; i++) {
        if (!(e->profiles & (1u << i)))
            continue;
        int kind = isupper((unsigned char)s->profile_names[i][0]) ? 0 : 1;
        named[kind] = true;
        for (size_t j = 0; j < n_names; j++)
            if (names[j] && (!strcmp(s->profile_names[i], names[j]) ||
                             (!strcmp(s->profile_names[i], "rfc") && rfc_applies(s, names[j]))))
                matched[kind] = true;
    }
    return (!named[0] || matched[0]) && (!named[1] || matched[1]);
}

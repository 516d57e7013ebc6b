/* See script_print.h. */
#include <inttypes.h>
#include <string.h>

#include "script_print.h"

void tw_popts_from_raw(const uint8_t *raw, size_t len, struct tw_packet *p)
{
    size_t i = 0;
    p->n_opts = 0;
    p->opt_bytes = 0;
    while (i < len && p->n_opts < TW_SCRIPT_MAX_POPTS) {
        struct tw_popt *o = &p->opts[p->n_opts];
        uint8_t kind = raw[i], olen = i + 1 < len ? raw[i + 1] : 0;
        memset(o, 0, sizeof(*o));
        if (kind == TW_OPT_EOL)
            break;
        if (kind == TW_OPT_NOP) {
            o->kind = TW_POPT_NOP;
            i++;
        } else if (olen < 2 || i + olen > len) {
            o->kind = TW_POPT_RAW; /* malformed: the rest, byte for byte */
            o->raw_len = (uint8_t)(len - i);
            memcpy(o->raw, raw + i, len - i);
            i = len;
        } else {
            const uint8_t *v = raw + i + 2;
            if (kind == TW_OPT_MSS && olen == 4) {
                o->kind = TW_POPT_MSS;
                o->a = (uint32_t)(v[0] << 8 | v[1]);
            } else if (kind == TW_OPT_WSCALE && olen == 3) {
                o->kind = TW_POPT_WSCALE;
                o->a = v[0];
            } else if (kind == TW_OPT_SACKOK && olen == 2) {
                o->kind = TW_POPT_SACKOK;
            } else if (kind == TW_OPT_TS && olen == 10) {
                o->kind = TW_POPT_TS;
                o->a = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
                o->b = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
            } else {
                o->kind = TW_POPT_GENERIC;
                o->raw_len = olen;
                memcpy(o->raw, raw + i, olen);
            }
            i += olen;
        }
        p->n_opts++;
    }
    uint8_t tmp[TW_TCP_MAX_OPTLEN];
    p->opt_bytes = (uint8_t)tw_popts_encode(p, tmp);
}

bool tw_icmp_names(uint8_t type, uint8_t code, const char **type_name, const char **code_name)
{
    static const char *const unreach[16] = {
        [0] = "net_unreachable", [1] = "host_unreachable", [2] = "protocol_unreachable",
        [3] = "port_unreachable", [4] = "frag_needed", [5] = "source_route_failed",
        [9] = "net_prohibited", [10] = "host_prohibited", [13] = "admin_prohibited",
    };
    *code_name = NULL;
    switch (type) {
    case 3:
        *type_name = "unreachable";
        *code_name = code < 16 ? unreach[code] : NULL;
        return *code_name != NULL;
    case 4: *type_name = "source_quench"; return true;
    case 11: *type_name = "time_exceeded"; return true;
    case 12: *type_name = "parameter_problem"; return true;
    default: *type_name = NULL; return false;
    }
}

static void print_seconds(FILE *f, int64_t us)
{
    if (us < 0) {
        fputc('-', f);
        us = -us;
    }
    fprintf(f, "%" PRId64 ".%06" PRId64, us / 1000000, us % 1000000);
}

static void print_time(FILE *f, const struct tw_time *t)
{
    const char *plus = t->kind == TW_TIME_RELATIVE ? "+" : "";
    if (t->kind == TW_TIME_ANY) {
        fputc('*', f);
        return;
    }
    fputs(plus, f);
    print_seconds(f, t->usecs);
    if (t->is_range) {
        fprintf(f, "~%s", plus);
        print_seconds(f, t->end_usecs);
    }
    if (t->has_return) {
        fprintf(f, "...%s", t->return_relative ? "+" : "");
        print_seconds(f, t->return_usecs);
    }
}

static void print_flags(FILE *f, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TW_SYN, 'S'}, {TW_FIN, 'F'}, {TW_RST, 'R'}, {TW_PSH, 'P'},
                 {TW_ACK, '.'}, {TW_URG, 'U'}, {TW_ECE, 'E'}, {TW_CWR, 'W'}};
    if (!flags)
        fputc('-', f);
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (flags & order[i].bit)
            fputc(order[i].c, f);
}

static void print_hex(FILE *f, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(f, "%02x", b[i]);
}

static void print_popt(FILE *f, const struct tw_popt *o)
{
    switch (o->kind) {
    case TW_POPT_NOP: fputs("nop", f); break;
    case TW_POPT_EOL: fputs("eol", f); break;
    case TW_POPT_MSS: fprintf(f, "mss %u", (unsigned)o->a); break;
    case TW_POPT_WSCALE: fprintf(f, "wscale %u", (unsigned)o->a); break;
    case TW_POPT_SACKOK: fputs("sackOK", f); break;
    case TW_POPT_TS:
        if (o->val_any)
            fprintf(f, "TS val * ecr %u", (unsigned)o->b);
        else
            fprintf(f, "TS val %u ecr %u", (unsigned)o->a, (unsigned)o->b);
        break;
    case TW_POPT_SACK:
        fputs("sack", f);
        for (unsigned j = 0; j < o->sack_n; j++)
            fprintf(f, " %u:%u", (unsigned)o->sack[j][0], (unsigned)o->sack[j][1]);
        break;
    case TW_POPT_GENERIC:
        fprintf(f, "kind %u len %u", o->raw_len > 0 ? o->raw[0] : 0, o->raw_len > 1 ? o->raw[1] : 0);
        if (o->raw_len > 2) {
            fputs(" 0x", f);
            print_hex(f, o->raw + 2, o->raw_len - 2u);
        }
        break;
    case TW_POPT_RAW:
        fputs("raw ", f);
        print_hex(f, o->raw, o->raw_len);
        break;
    }
}

static void print_packet(FILE *f, const struct tw_packet *p)
{
    char addr[64];
    fputs(p->dir == TW_DIR_IN ? "< " : "> ", f);
    print_flags(f, p->flags);
    if (p->seq_any) {
        fprintf(f, " *:*(%u)", (unsigned)p->len);
    } else if (p->seq_wnd) {
        uint32_t end = p->seq + p->len;
        fprintf(f, " wnd%+lld:wnd%+lld(%u)", (long long)(int32_t)p->seq, (long long)(int32_t)end,
                (unsigned)p->len);
    } else {
        fprintf(f, " %u:%u(%u)", (unsigned)p->seq, (unsigned)(p->seq + p->len), (unsigned)p->len);
    }
    if (p->has_ack)
        fprintf(f, " ack %u", (unsigned)p->ack);
    if (p->has_win)
        fprintf(f, " win %u", (unsigned)p->win);
    else if (p->win_syn)
        fprintf(f, " win syn");
    if (p->options_any) {
        fputs(" <...>", f);
    } else if (p->has_options) {
        fputs(" <", f);
        for (unsigned i = 0; i < p->n_opts; i++) {
            if (i)
                fputc(',', f);
            print_popt(f, &p->opts[i]);
        }
        fputc('>', f);
    }
    if (p->has_seq_tolerance)
        fprintf(f, " seq_tolerance %u", (unsigned)p->seq_tolerance);
    if (p->bad_csum)
        fputs(" bad_csum", f);
    if (p->has_urg)
        fprintf(f, " urg %u", (unsigned)p->urg);
    if (p->has_reserved)
        fprintf(f, " reserved %u", (unsigned)p->reserved);
    if (p->has_doff)
        fprintf(f, " doff %u", (unsigned)p->doff);
    if (p->ip6_dstopts)
        fputs(" ip6_dstopts", f);
    if (p->has_src) {
        tw_addr_render(&p->src, addr, sizeof(addr));
        fprintf(f, " src %s", addr);
    }
    if (p->has_dst) {
        tw_addr_render(&p->dst, addr, sizeof(addr));
        fprintf(f, " dst %s", addr);
    }
}

static void print_icmp(FILE *f, const struct tw_icmp_line *ic)
{
    const char *tn = ic->type_name, *cn = ic->code_name;
    if (!tn)
        tw_icmp_names(ic->type, ic->code, &tn, &cn);
    fprintf(f, "< icmp %s", tn ? tn : "parameter_problem");
    if (ic->type == 3)
        fprintf(f, " %s", cn ? cn : "admin_prohibited");
    if (ic->has_mtu)
        fprintf(f, " mtu %u", (unsigned)ic->mtu);
    if (ic->has_quote) {
        fputs(" [", f);
        if (ic->quote_flags) {
            print_flags(f, ic->quote_flags);
            fputc(' ', f);
        }
        fprintf(f, "%u:%u(%u)]", (unsigned)ic->quote_seq, (unsigned)(ic->quote_seq + ic->quote_len),
                (unsigned)ic->quote_len);
    }
}

struct sym {
    const char *name;
    int64_t value;
};

static const char *sym_name(const struct sym *t, size_t n, int64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return NULL;
}

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* The symbol a syscall argument was (most likely) written as. */
static void print_int_arg(FILE *f, const struct tw_syscall *sc, unsigned i, int64_t v)
{
    static const struct sym sol_socket[] = {
        {"SO_REUSEADDR", 2}, {"SO_ERROR", 4}, {"SO_RCVBUF", 8}, {"SO_LINGER", 13}};
    static const struct sym sol_tcp[] = {{"TCP_NODELAY", 1}, {"TCP_MAXSEG", 2}};
    static const struct sym levels[] = {{"SOL_SOCKET", 1}, {"IPPROTO_TCP", 6}};
    static const struct sym shut[] = {{"SHUT_RD", 0}, {"SHUT_WR", 1}, {"SHUT_RDWR", 2}};
    static const struct sym fcntl_cmd[] = {{"F_GETFL", 3}, {"F_SETFL", 4}};
    const char *name = NULL;
    if (!sc->args[i].symbolic) {
        fprintf(f, "%" PRId64, v);
        return;
    }
    switch (sc->sys) {
    case TW_SYS_SOCKET:
        name = i == 0 ? (v == 10 ? "AF_INET6" : v == 2 ? "AF_INET" : NULL)
               : i == 1 && v == 1 ? "SOCK_STREAM"
               : i == 2 && v == 6 ? "IPPROTO_TCP"
                                  : NULL;
        break;
    case TW_SYS_SETSOCKOPT:
    case TW_SYS_GETSOCKOPT:
        if (i == 1)
            name = sym_name(levels, N_OF(levels), v);
        else if (i == 2 && sc->args[1].value == 1)
            name = sym_name(sol_socket, N_OF(sol_socket), v);
        else if (i == 2 && sc->args[1].value == 6)
            name = sym_name(sol_tcp, N_OF(sol_tcp), v);
        break;
    case TW_SYS_SHUTDOWN:
        if (i == 1)
            name = sym_name(shut, N_OF(shut), v);
        break;
    case TW_SYS_FCNTL:
        if (i == 1) {
            name = sym_name(fcntl_cmd, N_OF(fcntl_cmd), v);
        } else if (i == 2 && (v & ~(int64_t)(04000 | 3)) == 0 && (v & 3) != 3) {
            static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR"};
            fprintf(f, "%s%s", acc[v & 3], (v & 04000) ? "|O_NONBLOCK" : "");
            return;
        }
        break;
    default:
        break;
    }
    if (name)
        fputs(name, f);
    else
        fprintf(f, "%" PRId64, v);
}

static void print_syscall(FILE *f, const struct tw_syscall *sc)
{
    fprintf(f, "%s(", tw_sys_name(sc->sys));
    for (unsigned i = 0; i < sc->n_args; i++) {
        const struct tw_arg *a = &sc->args[i];
        if (i)
            fputs(", ", f);
        switch (a->kind) {
        case TW_ARG_INT: print_int_arg(f, sc, i, a->value); break;
        case TW_ARG_ELLIPSIS: fputs("...", f); break;
        case TW_ARG_LIST:
            fputc('[', f);
            for (unsigned j = 0; j < a->n_items; j++) {
                if (j)
                    fputs(", ", f);
                if (a->item_any[j])
                    fputs("...", f);
                else
                    fprintf(f, "%" PRId64, a->items[j]);
            }
            fputc(']', f);
            break;
        case TW_ARG_STRUCT:
            fputc('{', f);
            for (unsigned j = 0; j < a->n_items; j++) {
                if (j)
                    fputs(", ", f);
                if (a->item_any[j])
                    fprintf(f, "%s=...", a->field[j]);
                else
                    fprintf(f, "%s=%" PRId64, a->field[j], a->items[j]);
            }
            fputc('}', f);
            break;
        }
    }
    fprintf(f, ") = %" PRId64, sc->ret);
    if (sc->ret == -1 && sc->err) {
        const char *n = sc->err_name ? sc->err_name : tw_errno_name(sc->err);
        if (n)
            fprintf(f, " %s", n);
    }
}

void tw_script_print_event(FILE *f, const struct tw_script *s, const struct tw_script_event *e)
{
    if (e->profiles) {
        bool first = true;
        fputc('[', f);
        for (unsigned i = 0; i < s->n_profiles && i < 32; i++)
            if (e->profiles & (1u << i)) {
                fprintf(f, "%s%s", first ? "" : ",", s->profile_names[i]);
                first = false;
            }
        fputs("] ", f);
    }
    print_time(f, &e->time);
    fputc(' ', f);
    switch (e->kind) {
    case TW_SEV_PACKET: print_packet(f, &e->u.pkt); break;
    case TW_SEV_ICMP: print_icmp(f, &e->u.icmp); break;
    case TW_SEV_SYSCALL: print_syscall(f, &e->u.sys); break;
    case TW_SEV_SHELL: fprintf(f, "`%s`", e->u.shell ? e->u.shell : ""); break;
    case TW_SEV_SILENCE:
        fputs("silence ", f);
        print_seconds(f, e->u.silence_usecs);
        break;
    case TW_SEV_STATE: fprintf(f, "state %s", e->u.state); break;
    }
}

void tw_script_print_header(FILE *f, const struct tw_script *s)
{
    if (s->n_covers) {
        fputs("// covers:", f);
        for (size_t i = 0; i < s->n_covers; i++)
            fprintf(f, " %s", s->covers[i].id);
        fputc('\n', f);
    }
    if (s->ip_version == 6)
        fputs("--ip_version=ipv6\n", f);
    if (s->remote_isn)
        fprintf(f, "--remote_isn=%u\n", (unsigned)s->remote_isn);
    if (s->profile)
        fprintf(f, "--profile=%s\n", s->profile);
    if (s->has_tolerance)
        fprintf(f, "--tolerance_usecs=%" PRId64 "\n", s->tolerance_usecs);
}

void tw_script_print(FILE *f, const struct tw_script *s)
{
    tw_script_print_header(f, s);
    for (size_t i = 0; i < s->n_events; i++) {
        tw_script_print_event(f, s, &s->events[i]);
        fputc('\n', f);
    }
}

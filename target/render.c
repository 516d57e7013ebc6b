/* tcpdump-style text for segments and addresses (as `tcpdump -n -S`), used
 * in every diff and error message; and address parsing.
 *
 * Where this differs from tcpdump, on purpose:
 *  - sequence numbers are absolute (tcpdump -S), and "seq N" is printed on
 *    every segment, even a pure ACK without data (tcpdump omits it there):
 *    a conformance diff wants it.
 *  - an option of a kind not named here prints as tcpdump prints an unknown
 *    option: "unknown-253 0x0102" (hex of its data bytes, no " 0x" when it
 *    has none). Kinds tcpdump names but this does not (md5, mptcp, ...) also
 *    come out as unknown-N.
 *  - a known kind with the wrong length prints its name and "[len N]", and
 *    an illegal length ends the list with "[bad opt]", both as tcpdump does,
 *    without tcpdump's attempt to decode the value. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "segment.h"
#include "wire.h"

/* An snprintf that appends: keeps the total that would have been written,
 * always NUL-terminates, and never writes past cap. */
struct tw_text {
    char *buf;
    size_t cap;
    size_t len; /* as if cap were unlimited */
};

static void text_init(struct tw_text *t, char *buf, size_t cap)
{
    t->buf = buf;
    t->cap = buf ? cap : 0;
    t->len = 0;
    if (t->cap)
        t->buf[0] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void text_add(struct tw_text *t, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *dst = NULL;
    size_t room = 0;

    if (t->len < t->cap) {
        dst = t->buf + t->len;
        room = t->cap - t->len;
    }
    va_start(ap, fmt);
    n = vsnprintf(dst, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len += (size_t)n;
}

static int text_result(const struct tw_text *t)
{
    return t->len > (size_t)0x7fffffff ? 0x7fffffff : (int)t->len;
}

/* tcpdump's order (print-tcp.c tcp_flag_values): F S R P . U E W. */
static void flags_add(struct tw_text *t, uint8_t flags)
{
    static const struct {
        uint8_t bit;
        char letter;
    } letters[] = {
        {TW_FIN, 'F'}, {TW_SYN, 'S'}, {TW_RST, 'R'}, {TW_PSH, 'P'},
        {TW_ACK, '.'}, {TW_URG, 'U'}, {TW_ECE, 'E'}, {TW_CWR, 'W'},
    };
    size_t i;

    for (i = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
        if (flags & letters[i].bit)
            text_add(t, "%c", letters[i].letter);
}

int tw_flags_render(uint8_t flags, char *buf, size_t cap)
{
    struct tw_text t;

    text_init(&t, buf, cap);
    if (!flags)
        text_add(&t, "none");
    else
        flags_add(&t, flags);
    return text_result(&t);
}

static void addr_add(struct tw_text *t, const struct tw_addr *a)
{
    char tmp[INET6_ADDRSTRLEN];

    if (a->family == 4 && inet_ntop(AF_INET, a->bytes, tmp, sizeof(tmp)))
        text_add(t, "%s", tmp);
    else if (a->family == 6 && inet_ntop(AF_INET6, a->bytes, tmp, sizeof(tmp)))
        text_add(t, "%s", tmp);
    else
        text_add(t, "?");
}

int tw_addr_render(const struct tw_addr *a, char *buf, size_t cap)
{
    struct tw_text t;

    text_init(&t, buf, cap);
    addr_add(&t, a);
    return text_result(&t);
}

static const char *option_name(uint8_t kind)
{
    switch (kind) {
    case TW_OPT_MSS:
        return "mss";
    case TW_OPT_WSCALE:
        return "wscale";
    case TW_OPT_SACKOK:
        return "sackOK";
    case TW_OPT_SACK:
        return "sack";
    case TW_OPT_TS:
        return "TS";
    default:
        return NULL;
    }
}

/* One option of length olen (>= 2, within raw) at p. */
static void option_add(struct tw_text *t, const uint8_t *p, size_t olen)
{
    uint8_t kind = p[0];
    const char *name = option_name(kind);
    const uint8_t *v = p + 2;
    size_t i;

    if (!name) {
        text_add(t, "unknown-%u", (unsigned)kind);
        if (olen > 2)
            text_add(t, " 0x");
        for (i = 2; i < olen; i++)
            text_add(t, "%02x", (unsigned)p[i]);
        return;
    }
    switch (kind) {
    case TW_OPT_MSS:
        if (olen == 4) {
            text_add(t, "mss %u", (unsigned)tw_get16(v));
            return;
        }
        break;
    case TW_OPT_WSCALE:
        if (olen == 3) {
            text_add(t, "wscale %u", (unsigned)v[0]);
            return;
        }
        break;
    case TW_OPT_SACKOK:
        if (olen == 2) {
            text_add(t, "sackOK");
            return;
        }
        break;
    case TW_OPT_TS:
        if (olen == 10) {
            text_add(t, "TS val %u ecr %u", (unsigned)tw_get32(v), (unsigned)tw_get32(v + 4));
            return;
        }
        break;
    case TW_OPT_SACK:
        if (olen >= 10 && (olen - 2) % 8 == 0) {
            text_add(t, "sack %u ", (unsigned)((olen - 2) / 8));
            for (i = 0; i + 8 <= olen - 2; i += 8)
                text_add(t, "{%u:%u}", (unsigned)tw_get32(v + i), (unsigned)tw_get32(v + i + 4));
            return;
        }
        break;
    default:
        break;
    }
    text_add(t, "%s [len %u]", name, (unsigned)olen);
}

static void options_add(struct tw_text *t, const uint8_t *raw, size_t len)
{
    size_t i = 0;
    bool first = true;

    while (i < len) {
        uint8_t kind = raw[i];

        if (!first)
            text_add(t, ",");
        first = false;
        if (kind == TW_OPT_EOL) {
            text_add(t, "eol");
            return;
        }
        if (kind == TW_OPT_NOP) {
            text_add(t, "nop");
            i++;
            continue;
        }
        if (len - i < 2 || raw[i + 1] < 2 || raw[i + 1] > len - i) {
            text_add(t, "[bad opt]");
            return;
        }
        option_add(t, raw + i, raw[i + 1]);
        i += raw[i + 1];
    }
}

/* The list inside tcpdump's "options [...]", from the raw bytes as they are
 * on the wire, e.g. "mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7". */
int tw_options_render(const struct tw_options *o, char *buf, size_t cap)
{
    struct tw_text t;
    size_t len = o->raw_len > TW_TCP_MAX_OPTLEN ? TW_TCP_MAX_OPTLEN : o->raw_len;

    text_init(&t, buf, cap);
    options_add(&t, o->raw, len);
    return text_result(&t);
}

int tw_segment_render(const struct tw_segment *s, char *buf, size_t cap)
{
    struct tw_text t;
    size_t opt_len = s->opt.raw_len > TW_TCP_MAX_OPTLEN ? TW_TCP_MAX_OPTLEN : s->opt.raw_len;

    text_init(&t, buf, cap);
    addr_add(&t, &s->src);
    text_add(&t, ".%u > ", (unsigned)s->sport);
    addr_add(&t, &s->dst);
    text_add(&t, ".%u: Flags [", (unsigned)s->dport);
    /* The AE bit (RFC 9768, lowest reserved bit) is tcpdump's 'e'. */
    if (!s->flags && !(s->reserved & 0x01))
        text_add(&t, "none");
    flags_add(&t, s->flags);
    if (s->reserved & 0x01)
        text_add(&t, "e");
    text_add(&t, "], seq %u", (unsigned)s->seq);
    if (s->payload_len)
        text_add(&t, ":%u", (unsigned)(uint32_t)(s->seq + s->payload_len));
    if (s->flags & TW_ACK)
        text_add(&t, ", ack %u", (unsigned)s->ack);
    text_add(&t, ", win %u", (unsigned)s->window);
    if (s->flags & TW_URG)
        text_add(&t, ", urg %u", (unsigned)s->urgent);
    if (opt_len) {
        text_add(&t, ", options [");
        options_add(&t, s->opt.raw, opt_len);
        text_add(&t, "]");
    }
    text_add(&t, ", length %u", (unsigned)s->payload_len);
    return text_result(&t);
}

bool tw_addr_equal(const struct tw_addr *a, const struct tw_addr *b)
{
    if (a->family != b->family)
        return false;
    if (a->family != 4 && a->family != 6)
        return true; /* both unset: the bytes mean nothing */
    return memcmp(a->bytes, b->bytes, tw_addr_len(a->family)) == 0;
}

bool tw_addr_parse(const char *text, struct tw_addr *out)
{
    struct tw_addr a;

    memset(&a, 0, sizeof(a));
    if (!text)
        return false;
    if (inet_pton(AF_INET, text, a.bytes) == 1)
        a.family = 4;
    else if (inet_pton(AF_INET6, text, a.bytes) == 1)
        a.family = 6;
    else
        return false;
    *out = a;
    return true;
}

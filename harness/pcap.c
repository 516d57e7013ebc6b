/* Captures in and out with libpcap; import of a handshake as a case script.
 * See pcap.h and docs/pcap.md. */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "pcap.h"

#define ETH_HDR_LEN 14u
#define FRAME_MAX (ETH_HDR_LEN + 65535u)
#define SNAPLEN 65535
#define OUT_NOW_US 10000u /* an outbound segment this soon after the previous event is "+0" */
#define MAX_GAP_US (100000000ull * 1000000u) /* the script parser's limit on one time */

static const uint8_t MAC_H[6] = {0x02, 0, 0, 0, 0, 0x01};
static const uint8_t MAC_D[6] = {0x02, 0, 0, 0, 0, 0x02};

const char *tw_pcap_strerror(enum tw_pcap_err e)
{
    switch (e) {
    case TW_PCAP_OK: return "ok";
    case TW_PCAP_OPEN: return "cannot open the file";
    case TW_PCAP_FORMAT: return "not a capture file libpcap reads";
    case TW_PCAP_LINKTYPE: return "unsupported link type";
    case TW_PCAP_RECORD: return "bad record";
    case TW_PCAP_NOMEM: return "out of memory";
    case TW_PCAP_WRITE: return "write error";
    case TW_PCAP_NO_SYN: return "no SYN in the capture";
    }
    return "unknown error";
}

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    if (!err || !cap)
        return;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)((unsigned)p[0] << 8 | p[1]); }

/* ---- writing ---------------------------------------------------------------- */

struct tw_pcap_writer {
    pcap_t *dead;
    pcap_dumper_t *dump;
    bool failed;
    char why[128];
    uint8_t frame[FRAME_MAX];
};

enum tw_pcap_err tw_pcap_writer_open(struct tw_pcap_writer **out, const char *path, char *err,
                                     size_t err_cap)
{
    struct tw_pcap_writer *w = calloc(1, sizeof(*w));
    *out = NULL;
    if (!w) {
        set_err(err, err_cap, "%s: out of memory", path);
        return TW_PCAP_NOMEM;
    }
    w->dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, SNAPLEN, PCAP_TSTAMP_PRECISION_MICRO);
    if (!w->dead) {
        free(w);
        set_err(err, err_cap, "%s: out of memory", path);
        return TW_PCAP_NOMEM;
    }
    w->dump = pcap_dump_open(w->dead, path);
    if (!w->dump) {
        set_err(err, err_cap, "%s", pcap_geterr(w->dead));
        pcap_close(w->dead);
        free(w);
        return TW_PCAP_OPEN;
    }
    *out = w;
    return TW_PCAP_OK;
}

void tw_pcap_writer_add(struct tw_pcap_writer *w, uint64_t time_us, bool from_d, const uint8_t *ip,
                        size_t len)
{
    struct pcap_pkthdr h;
    if (!w || w->failed)
        return;
    if (len > FRAME_MAX - ETH_HDR_LEN || !len) {
        w->failed = true;
        snprintf(w->why, sizeof(w->why), "a packet of %zu bytes does not fit in a frame", len);
        return;
    }
    memcpy(w->frame, from_d ? MAC_H : MAC_D, 6); /* destination */
    memcpy(w->frame + 6, from_d ? MAC_D : MAC_H, 6);
    w->frame[12] = (ip[0] >> 4) == 6 ? 0x86 : 0x08;
    w->frame[13] = (ip[0] >> 4) == 6 ? 0xdd : 0x00;
    memcpy(w->frame + ETH_HDR_LEN, ip, len);
    memset(&h, 0, sizeof(h));
    h.ts.tv_sec = (time_t)(time_us / 1000000u);
    h.ts.tv_usec = (suseconds_t)(time_us % 1000000u);
    h.caplen = h.len = (bpf_u_int32)(len + ETH_HDR_LEN);
    pcap_dump((u_char *)w->dump, &h, w->frame);
}

void tw_pcap_trace(void *ctx, uint64_t time_us, bool from_d, const uint8_t *pkt, size_t len)
{
    tw_pcap_writer_add(ctx, time_us, from_d, pkt, len);
}

enum tw_pcap_err tw_pcap_writer_close(struct tw_pcap_writer *w, char *err, size_t err_cap)
{
    enum tw_pcap_err rc = TW_PCAP_OK;
    if (!w)
        return TW_PCAP_OK;
    if (pcap_dump_flush(w->dump) || ferror(pcap_dump_file(w->dump))) {
        set_err(err, err_cap, "%s", strerror(errno ? errno : EIO));
        rc = TW_PCAP_WRITE;
    }
    if (w->failed) {
        set_err(err, err_cap, "%s", w->why);
        rc = TW_PCAP_WRITE;
    }
    pcap_dump_close(w->dump);
    pcap_close(w->dead);
    free(w);
    return rc;
}

int tw_pcap_case_file(const char *dir, const char *case_path, const char *suffix, char *out,
                      size_t cap)
{
    size_t n, len;
    int w;
    while (case_path[0] == '/' || (case_path[0] == '.' && case_path[1] == '/'))
        case_path += case_path[0] == '/' ? 1 : 2;
    len = strlen(case_path);
    if (len > 4 && !strcmp(case_path + len - 4, ".pkt"))
        len -= 4;
    w = snprintf(out, cap, "%s/", dir);
    if (w < 0 || (size_t)w + len + strlen(suffix) + 1 > cap)
        return -1;
    n = (size_t)w;
    for (size_t i = 0; i < len; i++)
        out[n++] = case_path[i] == '/' ? '_' : case_path[i];
    memcpy(out + n, suffix, strlen(suffix) + 1);
    return 0;
}

enum tw_pcap_err tw_pcap_write_sidecar(const char *path, const char *case_path, const char *stack,
                                       const char *profile, const struct tw_case_result *r,
                                       char *err, size_t err_cap)
{
    FILE *f = fopen(path, "w");
    const char *verdict = r->status == TW_CASE_PASS ? "PASS" : r->status == TW_CASE_SKIP ? "SKIP" : "FAIL";
    const char *m = r->message ? r->message : "";
    int bad;
    if (!f) {
        set_err(err, err_cap, "%s: %s", path, strerror(errno));
        return TW_PCAP_OPEN;
    }
    fprintf(f, "case: %s\nstack: %s\nprofile: %s\nverdict: %s\n", case_path, stack, profile, verdict);
    if (r->status != TW_CASE_PASS)
        fprintf(f, "%s: %.*s\n", r->status == TW_CASE_SKIP ? "reason" : "failure", (int)strcspn(m, "\n"), m);
    fprintf(f, "virtual_us: %llu\n", (unsigned long long)r->virtual_us);
    bad = ferror(f);
    if (fclose(f) || bad) {
        set_err(err, err_cap, "%s: write error", path);
        return TW_PCAP_WRITE;
    }
    return TW_PCAP_OK;
}

/* ---- reading ---------------------------------------------------------------- */

static void add_note(struct tw_pcap_capture *c, uint32_t record, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add_note(struct tw_pcap_capture *c, uint32_t record, const char *fmt, ...)
{
    va_list ap;
    int n;
    c->n_skipped++;
    if (c->n_notes >= TW_PCAP_MAX_NOTES)
        return;
    n = snprintf(c->notes[c->n_notes], TW_PCAP_NOTE_LEN, "record %u: ", record);
    if (n < 0 || n >= TW_PCAP_NOTE_LEN)
        return;
    va_start(ap, fmt);
    vsnprintf(c->notes[c->n_notes] + n, TW_PCAP_NOTE_LEN - (size_t)n, fmt, ap);
    va_end(ap);
    c->n_notes++;
}

static bool linktype_known(int dlt)
{
    switch (dlt) {
    case DLT_EN10MB:
    case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
#endif
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
    case DLT_NULL:
    case DLT_LOOP:
        return true;
    default:
        return false;
    }
}

/* The IP packet inside a frame: 0, or -1 with why filled (a skip). */
static int strip_link(int dlt, const uint8_t *p, size_t n, const uint8_t **ip, size_t *ip_len,
                      char *why, size_t cap)
{
    size_t off = 0;
    uint16_t proto = 0; /* 0: decided by the IP version nibble */
    switch (dlt) {
    case DLT_EN10MB:
        if (n < ETH_HDR_LEN)
            goto short_frame;
        proto = get16(p + 12);
        off = ETH_HDR_LEN;
        for (int tags = 0; tags < 2 && (proto == 0x8100 || proto == 0x88a8); tags++) {
            if (n < off + 4)
                goto short_frame;
            proto = get16(p + off + 2);
            off += 4;
        }
        break;
    case DLT_LINUX_SLL:
        if (n < 16)
            goto short_frame;
        proto = get16(p + 14);
        off = 16;
        break;
#ifdef DLT_LINUX_SLL2
    case DLT_LINUX_SLL2:
        if (n < 20)
            goto short_frame;
        proto = get16(p);
        off = 20;
        break;
#endif
    case DLT_NULL:
    case DLT_LOOP:
        if (n < 4)
            goto short_frame;
        off = 4; /* the address family's value differs by OS: the IP version decides */
        break;
    default: /* RAW, IPV4, IPV6 */
        break;
    }
    if (proto && proto != 0x0800 && proto != 0x86dd) {
        if (proto <= 1500)
            snprintf(why, cap, "not IP (an 802.3 frame)");
        else
            snprintf(why, cap, "not IP (ethertype 0x%04x)", proto);
        return -1;
    }
    if (n <= off || ((p[off] >> 4) != 4 && (p[off] >> 4) != 6)) {
        snprintf(why, cap, "not IP (no IPv4 or IPv6 header)");
        return -1;
    }
    *ip = p + off;
    *ip_len = n - off;
    return 0;
short_frame:
    snprintf(why, cap, "frame of %zu bytes is shorter than its link-layer header", n);
    return -1;
}

static int64_t ts_us(const struct pcap_pkthdr *h)
{
    return (int64_t)h->ts.tv_sec * 1000000 + (int64_t)h->ts.tv_usec;
}

enum tw_pcap_err tw_pcap_read(FILE *f, const char *name, struct tw_pcap_capture *out, char *err,
                              size_t err_cap)
{
    char errbuf[PCAP_ERRBUF_SIZE];
    pcap_t *p;
    struct pcap_pkthdr *h;
    const u_char *data;
    int64_t t0 = 0;
    uint64_t last = 0;
    enum tw_pcap_err rc = TW_PCAP_OK;
    int r;

    memset(out, 0, sizeof(*out));
    if (!f) {
        set_err(err, err_cap, "%s: cannot read", name);
        return TW_PCAP_OPEN;
    }
    errbuf[0] = '\0';
    p = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
    if (!p) {
        fclose(f); /* libpcap leaves f to us when it fails */
        set_err(err, err_cap, "%s: %s", name, errbuf[0] ? errbuf : "not a capture file");
        return TW_PCAP_FORMAT;
    }
    out->linktype = pcap_datalink(p);
    if (!linktype_known(out->linktype)) {
        const char *ln = pcap_datalink_val_to_name(out->linktype);
        set_err(err, err_cap,
                "%s: link type %d (%s) is not supported (EN10MB, LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, "
                "NULL, LOOP are)",
                name, out->linktype, ln ? ln : "unknown");
        pcap_close(p);
        return TW_PCAP_LINKTYPE;
    }
    while ((r = pcap_next_ex(p, &h, &data)) == 1) {
        uint32_t rec = ++out->n_records;
        const uint8_t *ip;
        size_t ip_len;
        char why[96];
        struct tw_segment seg;
        enum tw_parse_err pe;
        int64_t t;

        /* libpcap bounds caplen by the link type's maximum (256 KiB); a
         * record that claims more than the packet had is still nonsense. */
        if (h->caplen > h->len) {
            set_err(err, err_cap, "%s: record %u: captured length %u exceeds the packet length %u", name,
                    rec, h->caplen, h->len);
            rc = TW_PCAP_RECORD;
            break;
        }
        t = ts_us(h);
        if (rec == 1)
            t0 = t;
        /* Times are relative to the first record and never go backwards
         * (a case's times cannot). */
        if (t - t0 > (int64_t)last)
            last = (uint64_t)(t - t0);
        if (strip_link(out->linktype, data, h->caplen, &ip, &ip_len, why, sizeof(why))) {
            add_note(out, rec, "%s", why);
            continue;
        }
        pe = tw_segment_parse(ip, ip_len, 0, &seg);
        if (pe != TW_PARSE_OK) {
            if (pe == TW_PARSE_NOT_TCP)
                add_note(out, rec, "not TCP");
            else if (h->caplen < h->len)
                add_note(out, rec, "captured %u of %u bytes: %s", h->caplen, h->len, tw_parse_strerror(pe));
            else
                add_note(out, rec, "%s", tw_parse_strerror(pe));
            continue;
        }
        if (out->n >= TW_PCAP_MAX_SEGMENTS) {
            add_note(out, rec, "more than %d TCP segments: the rest are not read", TW_PCAP_MAX_SEGMENTS);
            out->n_skipped--; /* counted below with the rest */
            while ((r = pcap_next_ex(p, &h, &data)) == 1)
                out->n_records++;
            out->n_skipped += out->n_records - rec + 1;
            break;
        }
        if (!out->v) {
            out->v = calloc(TW_PCAP_MAX_SEGMENTS, sizeof(*out->v));
            if (!out->v) {
                set_err(err, err_cap, "%s: out of memory", name);
                rc = TW_PCAP_NOMEM;
                break;
            }
        }
        seg.payload = NULL;
        out->v[out->n].record = rec;
        out->v[out->n].time_us = last;
        out->v[out->n].seg = seg;
        out->n++;
    }
    if (rc == TW_PCAP_OK && r == PCAP_ERROR) {
        set_err(err, err_cap, "%s: record %u: %s", name, out->n_records + 1, pcap_geterr(p));
        rc = TW_PCAP_RECORD;
    }
    pcap_close(p);
    return rc;
}

enum tw_pcap_err tw_pcap_read_path(const char *path, struct tw_pcap_capture *out, char *err,
                                   size_t err_cap)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        memset(out, 0, sizeof(*out));
        set_err(err, err_cap, "%s: %s", path, strerror(errno));
        return TW_PCAP_OPEN;
    }
    return tw_pcap_read(f, path, out, err, err_cap);
}

void tw_pcap_capture_cleanup(struct tw_pcap_capture *c)
{
    if (!c)
        return;
    free(c->v);
    memset(c, 0, sizeof(*c));
}

/* ---- import ----------------------------------------------------------------- */

struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
};

static void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_add(struct sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if (b->n + (size_t)n + 1 > b->cap) {
        size_t cap = (b->n + (size_t)n + 1) * 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)n;
}

/* A time in seconds, trailing zeros dropped: "0", "0.00005", "1.2". */
static void sb_secs(struct sbuf *b, uint64_t us)
{
    char t[40];
    size_t n = (size_t)snprintf(t, sizeof(t), "%llu.%06llu", (unsigned long long)(us / 1000000u),
                                (unsigned long long)(us % 1000000u));
    while (n && t[n - 1] == '0')
        t[--n] = '\0';
    if (n && t[n - 1] == '.')
        t[--n] = '\0';
    sb_add(b, "%s", t);
}

static void sb_hex(struct sbuf *b, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_add(b, "%02x", p[i]);
}

/* The option list as the script names it, item by item (kind/len and raw
 * for what has no name). sack_base: the ISN the SACK blocks are relative
 * to. Returns false if it cannot be written item by item on an outbound
 * line (extensions are inbound only). */
static bool sb_options(struct sbuf *b, const struct tw_options *o, uint32_t sack_base, bool inbound,
                       bool zero_ecr)
{
    struct sbuf t = {0};
    size_t i = 0, items = 0;
    bool ok = true;
    const uint8_t *r = o->raw;
    while (i < o->raw_len) {
        uint8_t k = r[i], len;
        if (items)
            sb_add(&t, ",");
        items++;
        if (k == TW_OPT_EOL) {
            size_t j = i + 1;
            sb_add(&t, "eol");
            while (j < o->raw_len && !r[j])
                j++;
            if (j < o->raw_len) { /* not padding: bytes after EOL as they were */
                sb_add(&t, ",raw ");
                sb_hex(&t, r + i + 1, o->raw_len - i - 1);
                ok = inbound;
                items++;
            }
            break;
        }
        if (k == TW_OPT_NOP) {
            sb_add(&t, "nop");
            i++;
            continue;
        }
        len = i + 1 < o->raw_len ? r[i + 1] : 0;
        if (len < 2 || i + len > o->raw_len) { /* malformed: the rest as it was */
            sb_add(&t, "raw ");
            sb_hex(&t, r + i, o->raw_len - i);
            ok = inbound;
            break;
        }
        if (k == TW_OPT_MSS && len == 4) {
            sb_add(&t, "mss %u", get16(r + i + 2));
        } else if (k == TW_OPT_WSCALE && len == 3) {
            sb_add(&t, "wscale %u", r[i + 2]);
        } else if (k == TW_OPT_SACKOK && len == 2) {
            sb_add(&t, "sackOK");
        } else if (k == TW_OPT_TS && len == 10) {
            sb_add(&t, "TS val %u ecr %u", (unsigned)((uint32_t)get16(r + i + 2) << 16 | get16(r + i + 4)),
                   zero_ecr ? 0u : (unsigned)((uint32_t)get16(r + i + 6) << 16 | get16(r + i + 8)));
        } else if (k == TW_OPT_SACK && len >= 10 && (len - 2) % 8 == 0) {
            sb_add(&t, "sack");
            for (size_t j = i + 2; j + 8 <= (size_t)(i + len); j += 8) {
                uint32_t a = (uint32_t)get16(r + j) << 16 | get16(r + j + 2);
                uint32_t e = (uint32_t)get16(r + j + 4) << 16 | get16(r + j + 6);
                sb_add(&t, " %u:%u", (unsigned)(a - sack_base), (unsigned)(e - sack_base));
            }
        } else {
            sb_add(&t, "kind %u len %u", k, len);
            if (len > 2) {
                sb_add(&t, " 0x");
                sb_hex(&t, r + i + 2, (size_t)len - 2);
            }
            ok = ok && inbound;
        }
        i += len;
    }
    if (items > TW_SCRIPT_MAX_POPTS) { /* too many items for a list: one raw item */
        t.n = 0;
        sb_add(&t, "raw ");
        sb_hex(&t, r, o->raw_len);
        ok = inbound;
    }
    if (ok && !t.oom) {
        sb_add(b, " <%s>", t.n ? t.p : "");
    } else if (t.oom) {
        b->oom = true;
    }
    free(t.p);
    return ok;
}

static void sb_flags(struct sbuf *b, uint8_t f)
{
    static const struct {
        uint8_t bit;
        char c;
    } order[] = {{TW_SYN, 'S'}, {TW_FIN, 'F'}, {TW_RST, 'R'}, {TW_PSH, 'P'},
                 {TW_URG, 'U'}, {TW_ECE, 'E'}, {TW_CWR, 'W'}, {TW_ACK, '.'}};
    if (!f) {
        sb_add(b, "-");
        return;
    }
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        if (f & order[i].bit)
            sb_add(b, "%c", order[i].c);
}

struct endpoint {
    struct tw_addr addr;
    uint16_t port;
};

static bool from_ep(const struct tw_segment *s, const struct endpoint *e)
{
    return s->sport == e->port && tw_addr_equal(&s->src, &e->addr);
}

static bool to_ep(const struct tw_segment *s, const struct endpoint *e)
{
    return s->dport == e->port && tw_addr_equal(&s->dst, &e->addr);
}

static void sb_comment_text(struct sbuf *b, const char *s)
{
    for (; *s; s++)
        sb_add(b, "%c", (*s == '\n' || *s == '\r' || (unsigned char)*s < 0x20) ? '?' : *s);
}

enum tw_pcap_err tw_pcap_import(const struct tw_pcap_capture *c, const struct tw_import_opts *o,
                                char **out_text, struct tw_import_info *info, char *err,
                                size_t err_cap)
{
    struct sbuf b = {0};
    struct endpoint cl, sv, d, h;
    size_t first = c->n, i;
    uint32_t h_isn = 0, d_iss = 0;
    bool d_iss_known = false, h_synack = false, d_syn_any = false, established = false;
    uint64_t prev_t;
    char ca[64], sa[64];
    const char *name = o->name ? o->name : "capture";

    *out_text = NULL;
    memset(info, 0, sizeof(*info));
    for (i = 0; i < c->n; i++) {
        uint8_t f = c->v[i].seg.flags;
        if ((f & TW_SYN) && !(f & (TW_ACK | TW_RST))) {
            first = i;
            break;
        }
    }
    if (first == c->n) {
        set_err(err, err_cap, "%s: no SYN (without ACK) among its %zu TCP segments: no connection to import",
                name, c->n);
        return TW_PCAP_NO_SYN;
    }
    cl = (struct endpoint){c->v[first].seg.src, c->v[first].seg.sport};
    sv = (struct endpoint){c->v[first].seg.dst, c->v[first].seg.dport};
    d = o->as_client ? cl : sv;
    h = o->as_client ? sv : cl;
    info->d_is_client = o->as_client;
    info->d_port = d.port;
    info->h_port = h.port;
    info->first_record = c->v[first].record;
    /* H's ISN: the seq of H's first SYN; D's: learned in order, as the runner does. */
    for (i = first; i < c->n; i++) {
        const struct tw_segment *s = &c->v[i].seg;
        if (from_ep(s, &h) && to_ep(s, &d) && (s->flags & TW_SYN)) {
            h_isn = s->seq;
            break;
        }
    }
    for (i = first; i < c->n; i++) {
        const struct tw_segment *s = &c->v[i].seg;
        if (from_ep(s, &d) && to_ep(s, &h) && (s->flags & TW_SYN))
            d_syn_any = true;
    }
    info->d_listens = !o->as_client && d_syn_any;

    tw_addr_render(&cl.addr, ca, sizeof(ca));
    tw_addr_render(&sv.addr, sa, sizeof(sa));
    sb_add(&b, "// Imported by threeway from ");
    sb_comment_text(&b, name);
    sb_add(&b, ": the connection %s.%u > %s.%u, from record %u.\n", ca, cl.port, sa, sv.port,
           info->first_record);
    sb_add(&b, "// D, the stack under test, is the %s; sequence numbers are relative to each side's ISN.\n",
           o->as_client ? "client (it sends the SYN)" : "server (it answers the SYN)");
    if (o->as_client)
        sb_add(&b, "// covers: HS-OPEN-01 HS-SYNSENT-06\n");
    else if (d_syn_any)
        sb_add(&b, "// covers: HS-LISTEN-03 HS-SYNRCVD-01\n");
    else
        sb_add(&b, "// covers: HS-CLOSED-01\n");
    if (!o->exact)
        sb_add(&b, "// D's lines check flags, seq, ack and length; the TS ecr H sends is 0, as D's TS\n"
                   "// clock is its own (threeway import --exact keeps window, options and ecr).\n");
    if (cl.addr.family == 6)
        sb_add(&b, "--ip_version=ipv6\n");
    if (h_isn)
        sb_add(&b, "--remote_isn=%u\n", (unsigned)h_isn);
    if (o->as_client) {
        sb_add(&b, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
                   "+0 connect(3, ..., ...) = -1 EINPROGRESS\n");
    } else if (d_syn_any) {
        sb_add(&b, "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                   "+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0\n"
                   "+0 bind(3, ..., ...) = 0\n"
                   "+0 listen(3, 1) = 0\n");
    }
    prev_t = c->v[first].time_us;
    for (i = first; i < c->n && !b.oom; i++) {
        const struct tw_pcap_segment *ps = &c->v[i];
        const struct tw_segment *s = &ps->seg;
        bool out = from_ep(s, &d) && to_ep(s, &h);
        uint64_t dt = ps->time_us - prev_t;
        if (!out && !(from_ep(s, &h) && to_ep(s, &d))) {
            info->n_other++;
            continue;
        }
        /* After the segment that completes the handshake, only D's prompt
         * answers to it (a RST, a challenge ACK) belong to the case. */
        if (established && !(out && dt < OUT_NOW_US && !s->payload_len && !(s->flags & (TW_SYN | TW_FIN))))
            break;
        if (established && (s->flags & TW_RST))
            info->complete = false;
        if (dt > MAX_GAP_US) {
            free(b.p);
            set_err(err, err_cap, "%s: record %u: %llu s after the previous segment (a case allows %u)", name,
                    ps->record, (unsigned long long)(dt / 1000000u), (unsigned)(MAX_GAP_US / 1000000u));
            return TW_PCAP_RECORD;
        }
        if (out && (s->flags & TW_SYN) && !d_iss_known) {
            d_iss_known = true;
            d_iss = s->seq;
        }
        /* Times: inbound as captured; outbound "+0" when prompt, else a
         * window of +-10% (a retransmission timer). */
        if (!info->n_packets && !o->as_client && !d_syn_any)
            sb_add(&b, "0");
        else if (!out || dt < OUT_NOW_US) {
            sb_add(&b, "+");
            sb_secs(&b, out ? 0 : dt);
        } else {
            sb_add(&b, "+");
            sb_secs(&b, dt * 9 / 10 / 1000 * 1000); /* 90%, in whole ms */
            sb_add(&b, "~+");
            sb_secs(&b, (dt * 11 + 9999) / 10000 * 1000); /* 110%, in ms, rounded up */
        }
        prev_t = ps->time_us;
        sb_add(&b, " %c ", out ? '>' : '<');
        sb_flags(&b, s->flags);
        {
            uint32_t base = out ? d_iss : h_isn;
            uint32_t rel = s->seq - base;
            sb_add(&b, " %u:%u(%u)", (unsigned)rel, (unsigned)(rel + s->payload_len), (unsigned)s->payload_len);
        }
        if (out) {
            if (s->flags & TW_ACK)
                sb_add(&b, " ack %u", (unsigned)(s->ack - h_isn));
            if (o->exact)
                sb_add(&b, " win %u", s->window);
            if (!o->exact)
                sb_add(&b, " <...>");
            else if (s->opt.raw_len && !sb_options(&b, &s->opt, h_isn, false, false))
                sb_add(&b, " <...>");
        } else {
            if ((s->flags & TW_ACK) || s->ack)
                sb_add(&b, " ack %u", (unsigned)(s->ack - d_iss));
            sb_add(&b, " win %u", s->window);
            if (s->opt.raw_len)
                sb_options(&b, &s->opt, d_iss, true, !o->exact);
            if (s->urgent)
                sb_add(&b, " urg %u", s->urgent);
            if (s->reserved)
                sb_add(&b, " reserved %u", s->reserved);
        }
        sb_add(&b, "\n");
        info->n_packets++;
        info->last_record = ps->record;
        /* The handshake ends with the ACK of the other side's SYN; what
         * follows (data, FIN) needs user calls a capture does not show. */
        if (!established && !o->as_client && !out && d_iss_known &&
            (s->flags & (TW_SYN | TW_RST | TW_ACK)) == TW_ACK && s->ack == d_iss + 1)
            established = info->complete = true;
        if (!out && o->as_client && (s->flags & (TW_SYN | TW_ACK | TW_RST)) == (TW_SYN | TW_ACK) &&
            d_iss_known && s->ack == d_iss + 1)
            h_synack = true;
        if (!established && out && o->as_client && h_synack && (s->flags & (TW_SYN | TW_RST | TW_ACK)) == TW_ACK)
            established = info->complete = true;
    }
    for (; i < c->n; i++) {
        const struct tw_segment *t = &c->v[i].seg;
        if ((from_ep(t, &d) && to_ep(t, &h)) || (from_ep(t, &h) && to_ep(t, &d)))
            info->n_after++;
        else
            info->n_other++;
    }
    /* A passive D that accepted the ACK hands the connection to accept(). */
    if (info->complete && !o->as_client)
        sb_add(&b, "+0 accept(3, ..., ...) = 4\n");
    if (b.oom) {
        free(b.p);
        set_err(err, err_cap, "%s: out of memory", name);
        return TW_PCAP_NOMEM;
    }
    *out_text = b.p;
    return TW_PCAP_OK;
}

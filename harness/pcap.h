/* Captures in and out, with libpcap (docs/pcap.md).
 *
 * Writing: an Ethernet (DLT_EN10MB) capture of the IP packets the runner's
 * trace hook sees. Frames get fixed MACs (H 02:00:00:00:00:01, D
 * 02:00:00:00:00:02) and the ethertype of their IP version; timestamps are
 * the stack's clock, which on the model is virtual: a capture of a model run
 * is the same bytes on every run.
 *
 * Reading: anything libpcap opens (pcap, pcapng) with link type EN10MB
 * (802.1Q tags skipped), LINUX_SLL, LINUX_SLL2, RAW, IPV4, IPV6, NULL or
 * LOOP. TCP segments are kept; anything else is skipped with a note. A file
 * libpcap rejects (wrong magic, truncated, a record longer than the link
 * type allows) is an error naming the file and the record.
 *
 * Import: the first connection in a capture, up to the end of its
 * handshake, as a case script (script.h) with relative sequence numbers.
 *
 * Library code: nothing here prints; errors and notes come back as text. */
#ifndef TW_PCAP_H
#define TW_PCAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runner.h"
#include "segment.h"

#define TW_PCAP_MAX_SEGMENTS 1024 /* TCP segments kept from one capture */
#define TW_PCAP_MAX_NOTES 16      /* skip notes kept (all are counted) */
#define TW_PCAP_NOTE_LEN 128

enum tw_pcap_err {
    TW_PCAP_OK = 0,
    TW_PCAP_OPEN,     /* cannot open or create the file */
    TW_PCAP_FORMAT,   /* not a capture libpcap reads: wrong magic, truncated header */
    TW_PCAP_LINKTYPE, /* a link type we cannot strip */
    TW_PCAP_RECORD,   /* a bad record: truncated, absurd length */
    TW_PCAP_NOMEM,
    TW_PCAP_WRITE,    /* writing the capture failed */
    TW_PCAP_NO_SYN,   /* import: no SYN to start a connection from */
};

const char *tw_pcap_strerror(enum tw_pcap_err e);

/* ---- writing -------------------------------------------------------------- */

struct tw_pcap_writer;

enum tw_pcap_err tw_pcap_writer_open(struct tw_pcap_writer **out, const char *path, char *err,
                                     size_t err_cap);
/* One IP packet: from D (from_d) or from H, at time_us on the stack's clock. */
void tw_pcap_writer_add(struct tw_pcap_writer *w, uint64_t time_us, bool from_d, const uint8_t *ip,
                        size_t len);
/* Flush and close (w may be NULL). TW_PCAP_OK, or TW_PCAP_WRITE if any write
 * failed, with the reason in err. */
enum tw_pcap_err tw_pcap_writer_close(struct tw_pcap_writer *w, char *err, size_t err_cap);

/* A tw_run_config.trace hook; ctx is a struct tw_pcap_writer. */
void tw_pcap_trace(void *ctx, uint64_t time_us, bool from_d, const uint8_t *pkt, size_t len);

/* `run --pcap-dir`: DIR/<case path, '/' -> '_', without .pkt><suffix>
 * (leading "/" and "./" dropped). 0, or -1 if it does not fit in cap. */
int tw_pcap_case_file(const char *dir, const char *case_path, const char *suffix, char *out,
                      size_t cap);
/* The sidecar beside a trace: case, stack, profile, verdict and the first
 * failure line, one "key: value" per line. */
enum tw_pcap_err tw_pcap_write_sidecar(const char *path, const char *case_path, const char *stack,
                                       const char *profile, const struct tw_case_result *r,
                                       char *err, size_t err_cap);

/* ---- reading -------------------------------------------------------------- */

struct tw_pcap_segment {
    uint32_t record;        /* 1-based record number in the file */
    uint64_t time_us;       /* since the first record (never decreasing) */
    struct tw_segment seg;  /* payload is NULL: the bytes are not kept */
};

struct tw_pcap_capture {
    int linktype;          /* libpcap's DLT_ value */
    uint32_t n_records;    /* records read */
    uint32_t n_skipped;    /* records that are not (parseable) TCP, or past the limit */
    size_t n;
    struct tw_pcap_segment *v; /* the TCP segments, in file order */
    unsigned n_notes;          /* notes kept, <= TW_PCAP_MAX_NOTES */
    char notes[TW_PCAP_MAX_NOTES][TW_PCAP_NOTE_LEN]; /* "record N: why it was skipped" */
};

/* Read a whole capture from f (closed in every case). name is for messages.
 * On error, err reads "NAME: record N: what is wrong" (or "NAME: ..." for
 * the file header); *out must still be cleaned up. */
enum tw_pcap_err tw_pcap_read(FILE *f, const char *name, struct tw_pcap_capture *out, char *err,
                              size_t err_cap);
enum tw_pcap_err tw_pcap_read_path(const char *path, struct tw_pcap_capture *out, char *err,
                                   size_t err_cap);
void tw_pcap_capture_cleanup(struct tw_pcap_capture *c);

/* ---- import --------------------------------------------------------------- */

struct tw_import_opts {
    bool as_client;   /* D is the side that sent the first SYN (default: the side that answered it) */
    bool exact;       /* outbound lines check options and window as captured (replay); else any */
    const char *name; /* the capture's name, for the script's header comment */
};

struct tw_import_info {
    bool d_is_client;
    bool complete;       /* the handshake completed within the capture */
    bool d_listens;      /* the script opens a listener (D answered with a SYN) */
    uint16_t h_port, d_port; /* as captured */
    uint32_t first_record, last_record;
    size_t n_packets;    /* packet lines written */
    size_t n_after;      /* segments of the connection after the handshake, not imported */
    size_t n_other;      /* segments of other connections, not imported */
};

/* The first connection in c (from its first SYN), up to the end of its
 * handshake, as a case script in *out_text (malloc'd, NUL-terminated). D is
 * the side that answered the SYN, or with as_client the side that sent it. */
enum tw_pcap_err tw_pcap_import(const struct tw_pcap_capture *c, const struct tw_import_opts *o,
                                char **out_text, struct tw_import_info *info, char *err,
                                size_t err_cap);

#endif

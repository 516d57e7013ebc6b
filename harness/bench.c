/* The model benchmark: every iteration is one complete handshake between two
 * model endpoints on a fresh 4-tuple, each step checked, plus three odd
 * segments (a stale ACK to the listener, a duplicate SYN in SYN-RECEIVED, a
 * segment to a closed port). Wall time is read every 1024 iterations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "tcp.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#define EXPECT(cond, ...)                                                                        \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            if (!r->failures++)                                                                  \
                snprintf(r->failure, sizeof(r->failure), __VA_ARGS__);                           \
            continue;                                                                            \
        }                                                                                        \
    } while (0)

int tw_bench_model(double seconds, struct tw_bench_result *r)
{
    memset(r, 0, sizeof(*r));
    struct tw_env env;
    tw_env_init(&env);
    memcpy(env.secret, "threeway-bench-k", 16);
    struct tw_addr ca = {.family = 4, .bytes = {198, 51, 100, 1}};
    struct tw_addr sa = {.family = 4, .bytes = {198, 51, 100, 2}};
    struct tw_tcb listener = {0}, server, client;
    struct tw_out o1, o2, o3;
    tw_out_clear(&o1);
    tw_open_passive(&listener, &env, &sa, 12345, 0, &o1);

    double start = now_seconds(), elapsed = 0;
    uint64_t i = 0, now_us = 1000;
    for (;; i++) {
        if ((i & 1023) == 0) {
            elapsed = now_seconds() - start;
            if (elapsed >= seconds)
                break;
        }
        now_us += 7;
        uint16_t cport = (uint16_t)(1024 + i % 60000);
        memset(&client, 0, sizeof(client));
        tw_out_clear(&o1);
        enum tw_verdict v = tw_open_active(&client, &env, &ca, cport, &sa, 12345, now_us, &o1);
        EXPECT(v == TW_V_OPEN_SYN_SENT && o1.n == 1, "open: %s", tw_verdict_name(v));

        server = listener;
        tw_out_clear(&o2);
        v = tw_input(&server, &env, &o1.seg[0], now_us, &o2);
        EXPECT(v == TW_V_LISTEN_SYN_SEND_SYNACK && o2.n == 1, "SYN: %s", tw_verdict_name(v));

        /* odd: the SYN again, now a duplicate left of the window: ACK */
        tw_out_clear(&o3);
        v = tw_input(&server, &env, &o1.seg[0], now_us, &o3);
        EXPECT(v == TW_V_SEQ_UNACCEPTABLE_SEND_ACK && o3.n == 1, "dup SYN: %s", tw_verdict_name(v));

        tw_out_clear(&o1);
        v = tw_input(&client, &env, &o2.seg[0], now_us, &o1);
        EXPECT(v == TW_V_SYNSENT_SYNACK_ESTABLISHED && o1.n == 1 && client.state == TW_ESTABLISHED,
               "SYN,ACK: %s", tw_verdict_name(v));

        /* odd: the third ACK sent to the listener itself: RST */
        tw_out_clear(&o3);
        v = tw_input(&listener, &env, &o1.seg[0], now_us, &o3);
        EXPECT(v == TW_V_LISTEN_ACK_SEND_RST && o3.n == 1 && o3.seg[0].seq == o1.seg[0].ack,
               "ACK to listener: %s", tw_verdict_name(v));

        /* odd: the same ACK to a closed port: RST seq=SEG.ACK */
        tw_out_clear(&o3);
        v = tw_closed_input(&o1.seg[0], &o3);
        EXPECT(v == TW_V_CLOSED_SEND_RST && o3.n == 1, "closed: %s", tw_verdict_name(v));

        tw_out_clear(&o2);
        v = tw_input(&server, &env, &o1.seg[0], now_us, &o2);
        EXPECT(v == TW_V_SYNRCVD_ACK_ESTABLISHED && o2.n == 0 && server.state == TW_ESTABLISHED,
               "ACK: %s", tw_verdict_name(v));
        r->handshakes++;
        r->segments += 6;
    }
    r->seconds = now_seconds() - start;
    return r->failures ? -1 : 0;
}

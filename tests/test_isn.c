/* Unit tests for the ISN judge (harness/isn_judge.c), on synthetic ISN
 * generators whose verdicts are known: a constant (lwIP before its timer
 * ticks), a per-connection counter (+64000, 4.4BSD's), a bare 4 us clock
 * (RFC 793 without RFC 6528), uniform random numbers, and RFC 6528's clock
 * plus keyed hash. Each generator is sampled as `threeway isn` samples a
 * stack: a burst across source ports (2 us apart), one 4-tuple over time
 * (5, 9, 17, 31 ms apart), and a burst of active opens. */
#include <check.h>
#include <stdint.h>
#include <string.h>

#include "isn_judge.h"
#include "tcp.h"

#define N 128
#define N_TUPLE 32
enum { C_CONST, C_PORTS, C_CLOCK, C_ACTIVE_CONST, C_ACTIVE };

static const uint8_t KEY[16] = "isn-judge-test-k";
static const unsigned GAP_MS[] = {5, 9, 17, 31};

enum gen { CONSTANT, COUNTER, BARE_CLOCK, RANDOM, RFC6528, FAST_CLOCK };

struct gen_state {
    enum gen g;
    uint32_t counter;
    uint64_t rng;
};

static uint32_t next_random(struct gen_state *s)
{
    s->rng ^= s->rng << 13; /* xorshift64 */
    s->rng ^= s->rng >> 7;
    s->rng ^= s->rng << 17;
    return (uint32_t)(s->rng >> 32);
}

/* The ISN generator g gives to a connection from H's port at time t_us. */
static uint32_t isn_of(struct gen_state *s, uint16_t port, uint64_t t_us)
{
    struct tw_addr d = {.family = 4, .bytes = {198, 51, 100, 2}}, h = {.family = 4, .bytes = {198, 51, 100, 1}};
    switch (s->g) {
    case CONSTANT:
        return 6510;
    case COUNTER:
        return s->counter += 64000;
    case BARE_CLOCK:
        return (uint32_t)(t_us / 4) + 0x12345678u;
    case RANDOM:
        return next_random(s);
    case RFC6528:
        return tw_isn_rfc6528(KEY, &d, 8080, &h, port, t_us);
    case FAST_CLOCK: /* one tick per 16 ns: 2^32 ticks in 69 s, under an MSL */
        return (uint32_t)(t_us * 64) + tw_isn_rfc6528(KEY, &d, 8080, &h, port, 0);
    }
    return 0;
}

struct samples {
    uint32_t ports[N], tuple[N_TUPLE], active[N];
    uint64_t tuple_us[N_TUPLE];
};

/* Sample generator g as `threeway isn` samples a stack, and judge. */
static void judge(enum gen g, uint32_t first, struct tw_isn_report *r)
{
    static struct samples s;
    struct gen_state st = {.g = g, .counter = first, .rng = 0x9e3779b97f4a7c15ull};
    uint64_t t = 1000000;
    for (unsigned i = 0; i < N; i++, t += 2)
        s.ports[i] = isn_of(&st, (uint16_t)(20000 + i), t);
    for (unsigned i = 0; i < N_TUPLE; i++) {
        if (i)
            t += 1000ull * GAP_MS[(i - 1) % 4];
        s.tuple_us[i] = t;
        s.tuple[i] = isn_of(&st, 19000, t);
    }
    for (unsigned i = 0; i < N; i++, t += 2)
        s.active[i] = isn_of(&st, (uint16_t)(33000 + i), t);
    struct tw_isn_data d = {.ports_isn = s.ports, .n_ports = N, .tuple_isn = s.tuple, .tuple_us = s.tuple_us,
                            .n_tuple = N_TUPLE, .active_isn = s.active, .n_active = N};
    tw_isn_judge(&d, r);
    ck_assert_uint_eq(r->n, TW_ISN_CHECKS);
}

#define VERDICTS(r, c0, c1, c2, c3, c4)                                                                     \
    do {                                                                                                     \
        const bool want[TW_ISN_CHECKS] = {c0, c1, c2, c3, c4};                                               \
        for (int i_ = 0; i_ < TW_ISN_CHECKS; i_++)                                                           \
            ck_assert_msg((r).checks[i_].pass == want[i_], "%s %s: expected %s, got %s: %s", (r).checks[i_].id, \
                          (r).checks[i_].name, want[i_] ? "pass" : "FAIL", (r).checks[i_].pass ? "pass" : "FAIL", \
                          (r).checks[i_].detail);                                                            \
    } while (0)

START_TEST(test_constant_isn_fails_every_check)
{
    struct tw_isn_report r;
    judge(CONSTANT, 0, &r);
    VERDICTS(r, false, false, false, false, false);
    ck_assert(!r.pass);
    ck_assert_ptr_nonnull(strstr(r.checks[C_CONST].detail, "are 6510"));
    ck_assert_str_eq(r.checks[C_CONST].id, "HS-ISN-02");
    ck_assert_str_eq(r.checks[C_CLOCK].id, "HS-ISN-01");
}
END_TEST

/* +64000 per connection whatever the time: not constant, but the next ISN
 * is the last plus 64000, and on one 4-tuple the ISN does not follow time. */
START_TEST(test_counter_per_connection_is_predictable_and_no_clock)
{
    struct tw_isn_report r;
    judge(COUNTER, 0, &r);
    VERDICTS(r, true, false, false, true, false);
    ck_assert_ptr_nonnull(strstr(r.checks[C_PORTS].detail, "median delta 64000"));
    ck_assert_ptr_nonnull(strstr(r.checks[C_CLOCK].detail, "31/31 deltas positive"));
}
END_TEST

/* The same across the 2^32 wrap: distances are taken on the circle. */
START_TEST(test_counter_across_the_wrap_is_still_predictable)
{
    struct tw_isn_report r;
    judge(COUNTER, 0xFFFFFFFFu - 64000u * 20, &r);
    VERDICTS(r, true, false, false, true, false);
}
END_TEST

/* RFC 793's clock alone: one 4-tuple is fine, but a burst across ports
 * steps by the time between SYNs: predictable. */
START_TEST(test_bare_clock_passes_same_tuple_but_is_predictable)
{
    struct tw_isn_report r;
    judge(BARE_CLOCK, 0, &r);
    VERDICTS(r, true, false, true, true, false);
    ck_assert_ptr_nonnull(strstr(r.checks[C_CLOCK].detail, "median rate 0.25 ticks/us"));
}
END_TEST

/* Random numbers: unpredictable, but one 4-tuple goes backwards half the
 * time: old duplicates could fall into a new incarnation's window. */
START_TEST(test_random_isn_is_unpredictable_but_not_a_clock)
{
    struct tw_isn_report r;
    judge(RANDOM, 0, &r);
    VERDICTS(r, true, true, false, true, true);
}
END_TEST

START_TEST(test_rfc6528_clock_plus_keyed_hash_passes_every_check)
{
    struct tw_isn_report r;
    judge(RFC6528, 0, &r);
    VERDICTS(r, true, true, true, true, true);
    ck_assert(r.pass);
    ck_assert_ptr_nonnull(strstr(r.checks[C_CLOCK].detail, "17180 s"));
}
END_TEST

START_TEST(test_clock_that_wraps_within_an_msl_fails)
{
    struct tw_isn_report r;
    judge(FAST_CLOCK, 0, &r);
    VERDICTS(r, true, true, false, true, true);
    ck_assert_ptr_nonnull(strstr(r.checks[C_CLOCK].detail, "67 s"));
}
END_TEST

/* Mostly one value (lwIP after its timer starts: 6510 most of the time)
 * counts as constant; a few repeats among random values do not. */
START_TEST(test_one_value_for_half_the_connections_is_constant)
{
    uint32_t isn[40];
    struct tw_isn_data d = {.ports_isn = isn, .n_ports = 40};
    struct tw_isn_report r;
    for (int i = 0; i < 40; i++)
        isn[i] = i % 2 ? 6510 : 7000u + (uint32_t)i;
    tw_isn_judge(&d, &r);
    ck_assert(!r.checks[C_CONST].pass);
    ck_assert_ptr_nonnull(strstr(r.checks[C_CONST].detail, "6510, 20 times"));
    isn[1] = 1; /* 19 of 40 */
    tw_isn_judge(&d, &r);
    ck_assert_msg(r.checks[C_CONST].pass, "%s", r.checks[C_CONST].detail);
}
END_TEST

/* Series too short to judge, or missing, fail with the reason given. */
START_TEST(test_too_few_samples_fail_with_the_reason)
{
    uint32_t isn[4] = {1, 2, 3, 4};
    uint64_t us[4] = {0, 5000, 10000, 15000};
    struct tw_isn_data d = {.ports_isn = isn, .n_ports = 4, .tuple_isn = isn, .tuple_us = us, .n_tuple = 4,
                            .why_ports = "no SYN-ACK within 1000 ms", .why_active = "connect: refused"};
    struct tw_isn_report r;
    tw_isn_judge(&d, &r);
    VERDICTS(r, true, false, false, false, false);
    ck_assert_ptr_nonnull(strstr(r.checks[C_PORTS].detail, "4 SYN-ACK ISNs to distinct ports sampled, 16 needed: "
                                                            "no SYN-ACK within 1000 ms"));
    ck_assert_ptr_nonnull(strstr(r.checks[C_CLOCK].detail, "4 SYN-ACKs on one 4-tuple sampled, 6 needed"));
    ck_assert_ptr_nonnull(strstr(r.checks[C_ACTIVE_CONST].detail, "no active SYN ISNs sampled: connect: refused"));
}
END_TEST

/* The predictors learn only from earlier deltas: one stride change is one
 * miss, and a sequence of one repeated delta is all hits. */
START_TEST(test_spread_counts_hits_of_both_predictors)
{
    uint32_t isn[20];
    struct tw_isn_spread s;
    for (int i = 0; i < 20; i++)
        isn[i] = 1000u * (uint32_t)i;
    tw_isn_spread(isn, 20, &s);
    ck_assert_uint_eq(s.n_deltas, 19);
    ck_assert_uint_eq(s.n_predictions, 18);
    ck_assert_uint_eq(s.hits_median, 18);
    ck_assert_uint_eq(s.hits_last, 18);
    ck_assert_uint_eq(s.distinct_deltas, 1);
    ck_assert_uint_eq(s.median_delta, 1000);
    ck_assert(s.low_byte_entropy == 0);
    for (int i = 10; i < 20; i++)
        isn[i] += 1000000u; /* one jump of a million between 9 and 10 */
    tw_isn_spread(isn, 20, &s);
    ck_assert_uint_eq(s.hits_median, 17);
    ck_assert_uint_eq(s.hits_last, 16);
    ck_assert_uint_eq(s.distinct_deltas, 2);
}
END_TEST

static Suite *isn_suite(void)
{
    Suite *s = suite_create("isn");
    TCase *t = tcase_create("judge");
    tcase_add_test(t, test_constant_isn_fails_every_check);
    tcase_add_test(t, test_counter_per_connection_is_predictable_and_no_clock);
    tcase_add_test(t, test_counter_across_the_wrap_is_still_predictable);
    tcase_add_test(t, test_bare_clock_passes_same_tuple_but_is_predictable);
    tcase_add_test(t, test_random_isn_is_unpredictable_but_not_a_clock);
    tcase_add_test(t, test_rfc6528_clock_plus_keyed_hash_passes_every_check);
    tcase_add_test(t, test_clock_that_wraps_within_an_msl_fails);
    tcase_add_test(t, test_one_value_for_half_the_connections_is_constant);
    tcase_add_test(t, test_too_few_samples_fail_with_the_reason);
    tcase_add_test(t, test_spread_counts_hits_of_both_predictors);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(isn_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failures = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failures ? 1 : 0;
}

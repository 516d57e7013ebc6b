/* Judging sampled ISNs: see isn_judge.h for the checks and thresholds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "isn_judge.h"

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* |a - b| as a distance on the 2^32 circle. */
static uint32_t circle_distance(uint32_t a, uint32_t b)
{
    uint32_t d = a - b;
    return d > 0x80000000u ? (uint32_t)(0u - d) : d;
}

/* How many values differ: sorts v in place. */
static size_t count_distinct(uint32_t *v, size_t n)
{
    size_t k = 0;
    qsort(v, n, sizeof(*v), cmp_u32);
    for (size_t i = 0; i < n; i++)
        k += i == 0 || v[i] != v[i - 1];
    return k;
}

void tw_isn_spread(const uint32_t *isn, size_t n, struct tw_isn_spread *out)
{
    memset(out, 0, sizeof(*out));
    if (n < 2)
        return;
    size_t nd = n - 1;
    uint32_t *d = malloc(nd * sizeof(*d));
    if (!d)
        return;
    unsigned counts[256] = {0};
    for (size_t i = 0; i < nd; i++) {
        d[i] = isn[i + 1] - isn[i]; /* mod 2^32 */
        counts[d[i] & 0xff]++;
    }
    out->n_deltas = nd;
    for (unsigned b = 0; b < 256; b++) {
        if (!counts[b])
            continue;
        double p = (double)counts[b] / (double)nd;
        out->low_byte_entropy -= p * log2(p);
    }
    /* The observer's two simplest models, each learning only from the
     * deltas seen before the guess: a constant stride (the median of those
     * deltas, robust to a few outliers) and "the same step as last time". */
    uint32_t *seen = malloc(nd * sizeof(*seen)); /* the deltas so far, sorted */
    if (!seen) {
        free(d);
        memset(out, 0, sizeof(*out));
        return;
    }
    for (size_t i = 1; i < nd; i++) {
        size_t k = i - 1; /* insert d[i - 1] into seen[0..i-2] */
        while (k > 0 && seen[k - 1] > d[i - 1]) {
            seen[k] = seen[k - 1];
            k--;
        }
        seen[k] = d[i - 1];
        uint32_t prev = isn[i], next = isn[i + 1];
        out->hits_median += circle_distance(next, prev + seen[(i - 1) / 2]) <= TW_ISN_PREDICT_WINDOW;
        out->hits_last += circle_distance(next, prev + d[i - 1]) <= TW_ISN_PREDICT_WINDOW;
    }
    free(seen);
    out->n_predictions = nd - 1;
    out->distinct_deltas = count_distinct(d, nd); /* sorts d */
    out->median_delta = d[nd / 2];
    free(d);
}

/* A constant ISN: all equal, or one value for at least half of the
 * connections (lwIP's stays put until its slow timer first ticks). A keyed
 * hash over 2^32 values practically never repeats in a few hundred samples;
 * half is a generous margin. */
static void check_constant(struct tw_isn_check *c, const char *what, const uint32_t *a, size_t na,
                           const uint32_t *b, size_t nb, const char *why)
{
    size_t n = na + nb;
    if (n < 2) {
        c->pass = false;
        if (n)
            snprintf(c->detail, sizeof(c->detail), "only 1 %s sampled (%u): too few to judge%s%s", what,
                     na ? a[0] : b[0], why ? ": " : "", why ? why : "");
        else
            snprintf(c->detail, sizeof(c->detail), "no %s sampled%s%s", what, why ? ": " : "", why ? why : "");
        return;
    }
    uint32_t *v = malloc(n * sizeof(*v));
    if (!v) {
        c->pass = false;
        snprintf(c->detail, sizeof(c->detail), "out of memory");
        return;
    }
    memcpy(v, a, na * sizeof(*v));
    if (nb)
        memcpy(v + na, b, nb * sizeof(*v));
    size_t distinct = count_distinct(v, n), best = 0, run = 0;
    uint32_t mode = v[0];
    for (size_t i = 0; i < n; i++) {
        run = i && v[i] == v[i - 1] ? run + 1 : 1;
        if (run > best) {
            best = run;
            mode = v[i];
        }
    }
    free(v);
    c->pass = best * 2 < n;
    if (best == n)
        snprintf(c->detail, sizeof(c->detail), "all %zu %s are %u: a constant ISN is neither a clock nor a keyed hash",
                 n, what, mode);
    else
        snprintf(c->detail, sizeof(c->detail),
                 "%zu %s, %zu distinct; the most frequent, %u, %zu time%s (%s half)", n, what, distinct, mode, best,
                 best == 1 ? "" : "s", c->pass ? "under" : "at least");
}

/* ISNs of distinct 4-tuples at about the same time: the clock part M is
 * (nearly) the same, so what differs is F, which must look random. */
static void check_unpredictable(struct tw_isn_check *c, const char *what, const uint32_t *isn, size_t n,
                                 const char *why)
{
    if (n < TW_ISN_MIN_PORTS) {
        c->pass = false;
        snprintf(c->detail, sizeof(c->detail), "%zu %s sampled, %d needed%s%s", n, what, TW_ISN_MIN_PORTS,
                 why ? ": " : "", why ? why : "");
        return;
    }
    struct tw_isn_spread s;
    tw_isn_spread(isn, n, &s);
    if (!s.n_deltas) {
        c->pass = false;
        snprintf(c->detail, sizeof(c->detail), "out of memory");
        return;
    }
    size_t preds = s.n_predictions;
    /* A uniform ISN lands within the window with probability 2^17 / 2^32,
     * about 1 in 32768: 1% of the predictions (at least one) is far above
     * chance and far below any stride or clock an observer could follow. */
    size_t allow = preds / 100 ? preds / 100 : 1;
    double max_entropy = log2((double)(s.n_deltas < 256 ? s.n_deltas : 256));
    bool distinct_ok = s.distinct_deltas * 10 >= s.n_deltas * 9;
    bool entropy_ok = s.low_byte_entropy >= max_entropy / 2;
    bool pred_ok = s.hits_median <= allow && s.hits_last <= allow;
    c->pass = distinct_ok && entropy_ok && pred_ok;
    snprintf(c->detail, sizeof(c->detail),
             "%zu %s: guessed within +-%u by next = prev + median of earlier deltas %zu/%zu times, "
             "by next = prev + last delta %zu/%zu (allowed %zu each); %zu/%zu deltas distinct (need 90%%), "
             "median delta %u; low-byte entropy of deltas %.2f bits (need %.2f)",
             n, what, TW_ISN_PREDICT_WINDOW, s.hits_median, preds, s.hits_last, preds, allow, s.distinct_deltas,
             s.n_deltas, s.median_delta, s.low_byte_entropy, max_entropy / 2);
}

/* One 4-tuple over time: ISN = M + F with F fixed, so the deltas are M's
 * ticks, positive and proportional to the time between the samples. */
static void check_clock(struct tw_isn_check *c, const uint32_t *isn, const uint64_t *t_us, size_t n,
                        const char *why)
{
    if (n < TW_ISN_MIN_SAME_TUPLE) {
        c->pass = false;
        snprintf(c->detail, sizeof(c->detail), "%zu SYN-ACKs on one 4-tuple sampled, %d needed%s%s", n,
                 TW_ISN_MIN_SAME_TUPLE, why ? ": " : "", why ? why : "");
        return;
    }
    size_t nd = n - 1, positive = 0, nr = 0, near = 0;
    double *rate = malloc(nd * sizeof(*rate));
    if (!rate) {
        c->pass = false;
        snprintf(c->detail, sizeof(c->detail), "out of memory");
        return;
    }
    uint32_t first_bad = 0;
    size_t first_bad_i = 0;
    for (size_t i = 0; i < nd; i++) {
        uint32_t d = isn[i + 1] - isn[i];
        uint64_t dt = t_us[i + 1] > t_us[i] ? t_us[i + 1] - t_us[i] : 0;
        if (d > 0 && d < 0x80000000u) {
            positive++;
        } else if (!first_bad_i) {
            first_bad = d;
            first_bad_i = i + 1;
        }
        /* A non-positive delta or no elapsed time: an interval without a
         * rate, which counts as out of proportion. */
        if (d > 0 && d < 0x80000000u && dt)
            rate[nr++] = (double)d / (double)dt;
    }
    double median = 0;
    if (nr) {
        double *sorted = malloc(nr * sizeof(*sorted));
        if (sorted) {
            memcpy(sorted, rate, nr * sizeof(*sorted));
            qsort(sorted, nr, sizeof(*sorted), cmp_double);
            median = sorted[nr / 2];
            free(sorted);
        }
    }
    for (size_t i = 0; i < nr; i++)
        near += median > 0 && rate[i] >= median / 2 && rate[i] <= median * 2;
    free(rate);
    double elapsed_ms = (double)(t_us[n - 1] - t_us[0]) / 1000.0;
    double wrap_s = median > 0 ? 4294967296.0 / median / 1e6 : 0;
    bool positive_ok = positive == nd;
    bool proportional_ok = near * 10 >= nd * 9;
    bool wrap_ok = median > 0 && wrap_s * 1e6 >= (double)TW_ISN_MSL_US;
    c->pass = positive_ok && proportional_ok && wrap_ok;
    char bad[80] = "", wrap[40] = "forever: no clock";
    if (median > 0)
        snprintf(wrap, sizeof(wrap), "%.0f s", wrap_s);
    if (!positive_ok)
        snprintf(bad, sizeof(bad), " (first: delta %u after sample %zu)", first_bad, first_bad_i);
    snprintf(c->detail, sizeof(c->detail),
             "%zu SYN-ACKs on one 4-tuple over %.1f ms: %zu/%zu deltas positive mod 2^32 (need all)%s; "
             "median rate %.4g ticks/us, %zu/%zu intervals within x2 of it (need 90%%); "
             "2^32 ticks take %s (need >= MSL, %.0f s)",
             n, elapsed_ms, positive, nd, bad, median, near, nd, wrap, (double)TW_ISN_MSL_US / 1e6);
}

void tw_isn_judge(const struct tw_isn_data *d, struct tw_isn_report *out)
{
    memset(out, 0, sizeof(*out));
    struct tw_isn_check *c = out->checks;
    c[0].id = "HS-ISN-02";
    c[0].name = "not-constant";
    check_constant(&c[0], "SYN-ACK ISNs", d->ports_isn, d->n_ports, d->tuple_isn, d->n_tuple,
                   d->why_ports ? d->why_ports : d->why_tuple);
    c[1].id = "HS-ISN-02";
    c[1].name = "unpredictable-ports";
    check_unpredictable(&c[1], "SYN-ACK ISNs to distinct ports", d->ports_isn, d->n_ports, d->why_ports);
    c[2].id = "HS-ISN-01";
    c[2].name = "same-tuple-clock";
    check_clock(&c[2], d->tuple_isn, d->tuple_us, d->n_tuple, d->why_tuple);
    c[3].id = "HS-ISN-02";
    c[3].name = "active-not-constant";
    check_constant(&c[3], "active SYN ISNs", d->active_isn, d->n_active, NULL, 0, d->why_active);
    c[4].id = "HS-ISN-02";
    c[4].name = "active-unpredictable";
    check_unpredictable(&c[4], "active SYN ISNs", d->active_isn, d->n_active, d->why_active);
    out->n = TW_ISN_CHECKS;
    out->pass = true;
    for (size_t i = 0; i < out->n; i++)
        out->pass &= c[i].pass;
}

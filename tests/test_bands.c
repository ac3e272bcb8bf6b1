/* Band boundaries and removed indices (SPEC.md section 5) against the
 * paper's F = 64 text (section 4.4: high [1,21], medium [22,42], low [43,64];
 * 1,5,9,13,17,21 removed from the high band) and hand-worked small F. */
#include "analysis/bands.h"
#include "harness.h"

static int same(const int *a, const int *b, int n)
{
    for (int i = 0; i < n; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static void test_f64_matches_paper(void)
{
    int a, b, out[64];
    CHECK(ss_band_range(64, SS_BAND_HIGH, &a, &b) == 21 && a == 1 && b == 21);
    CHECK(ss_band_range(64, SS_BAND_MEDIUM, &a, &b) == 21 && a == 22 && b == 42);
    CHECK(ss_band_range(64, SS_BAND_LOW, &a, &b) == 22 && a == 43 && b == 64);
    CHECK(ss_band_remove_count(64) == 6);
    const int high[6] = {1, 5, 9, 13, 17, 21};
    const int med[6] = {22, 26, 30, 34, 38, 42};
    /* low band [43, 64]: 43 + round(t * 21 / 5) = 43 + {0, 4, 8, 13, 17, 21} */
    const int low[6] = {43, 47, 51, 56, 60, 64};
    CHECK(ss_band_removed(64, SS_BAND_HIGH, out) == 6 && same(out, high, 6));
    CHECK(ss_band_removed(64, SS_BAND_MEDIUM, out) == 6 && same(out, med, 6));
    CHECK(ss_band_removed(64, SS_BAND_LOW, out) == 6 && same(out, low, 6));
}

static void test_small_f(void)
{
    int a, b, out[64];
    /* F = 4 (the TinyStories models, d_head 8): m = max(1, round(0.4)) = 1 */
    CHECK(ss_band_range(4, SS_BAND_HIGH, &a, &b) == 1 && a == 1 && b == 1);
    CHECK(ss_band_range(4, SS_BAND_MEDIUM, &a, &b) == 1 && a == 2 && b == 2);
    CHECK(ss_band_range(4, SS_BAND_LOW, &a, &b) == 2 && a == 3 && b == 4);
    CHECK(ss_band_removed(4, SS_BAND_HIGH, out) == 1 && out[0] == 1);
    CHECK(ss_band_removed(4, SS_BAND_MEDIUM, out) == 1 && out[0] == 2);
    CHECK(ss_band_removed(4, SS_BAND_LOW, out) == 1 && out[0] == 3);
    /* F = 8 (aidreams260K): bands [1,2] [3,5] [6,8], m = 1 */
    CHECK(ss_band_removed(8, SS_BAND_MEDIUM, out) == 1 && out[0] == 3);
    CHECK(ss_band_removed(8, SS_BAND_LOW, out) == 1 && out[0] == 6);
    /* F = 32: high [1,10], m = 3: 1 + round(t * 9 / 2) = 1, 6 (4.5 rounds up), 10 */
    const int h32[3] = {1, 6, 10};
    CHECK(ss_band_removed(32, SS_BAND_HIGH, out) == 3 && same(out, h32, 3));
    /* F = 2: floor(2/3) = 0, the high band is empty */
    CHECK(ss_band_range(2, SS_BAND_HIGH, &a, &b) == 0);
    CHECK(ss_band_removed(2, SS_BAND_HIGH, out) == 0);
    CHECK(ss_band_removed(2, SS_BAND_MEDIUM, out) == 1 && out[0] == 1);
    CHECK(ss_band_removed(2, SS_BAND_LOW, out) == 1 && out[0] == 2);
    /* F = 128: m = 13; every band's removed set starts and ends at its ends */
    for (int band = 0; band < SS_BAND_COUNT; band++) {
        int n = ss_band_range(128, (ss_band)band, &a, &b);
        int m = ss_band_removed(128, (ss_band)band, out);
        CHECK(n > 0 && m == 13 && out[0] == a && out[m - 1] == b);
        for (int t = 1; t < m; t++)
            CHECK(out[t] > out[t - 1]);
    }
    CHECK(ss_band_remove_count(1) == 1);
}

TEST_MAIN(TEST(test_f64_matches_paper), TEST(test_small_f))

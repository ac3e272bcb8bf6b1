#include "analysis/bands.h"

#include <math.h>

const char *ss_band_name(ss_band b)
{
    switch (b) {
    case SS_BAND_HIGH: return "high";
    case SS_BAND_MEDIUM: return "medium";
    case SS_BAND_LOW: return "low";
    default: return "?";
    }
}

int ss_band_range(int n_freq, ss_band band, int *a, int *b)
{
    int third = n_freq / 3, two_thirds = (2 * n_freq) / 3;
    switch (band) {
    case SS_BAND_HIGH: *a = 1; *b = third; break;
    case SS_BAND_MEDIUM: *a = third + 1; *b = two_thirds; break;
    case SS_BAND_LOW: *a = two_thirds + 1; *b = n_freq; break;
    default: *a = 1; *b = 0; break;
    }
    return *b >= *a ? *b - *a + 1 : 0;
}

int ss_band_remove_count(int n_freq)
{
    int m = (int)lround(0.1 * n_freq);
    return m < 1 ? 1 : m;
}

int ss_band_removed(int n_freq, ss_band band, int *out)
{
    int a, b;
    int n = ss_band_range(n_freq, band, &a, &b);
    if (n == 0)
        return 0;
    int m = ss_band_remove_count(n_freq);
    if (m > n)
        m = n;
    if (m == 1) {
        out[0] = a;
        return 1;
    }
    for (int t = 0; t < m; t++)
        out[t] = a + (int)lround((double)t * (n - 1) / (m - 1));
    return m;
}

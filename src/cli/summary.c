#include "cli/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "io/atomic_file.h"
#include "io/json.h"

#define MAX_COLS 64

/* A CSV file of our own (no quoting) held as lines split in place. */
typedef struct {
    char *text;
    char **cell; /* rows x cols */
    int rows, cols;
} csv;

static void csv_free(csv *c)
{
    free(c->text);
    free(c->cell);
    memset(c, 0, sizeof *c);
}

static int csv_load(csv *c, const char *dir, const char *name)
{
    memset(c, 0, sizeof *c);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    ss_error err = {0};
    if (ss_read_file(path, (size_t)64 << 20, &c->text, &n, &err))
        return -1;
    int lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += c->text[i] == '\n';
    c->cell = calloc((size_t)(lines + 1) * MAX_COLS, sizeof *c->cell);
    if (!c->cell)
        return -1;
    char *save = NULL;
    for (char *line = strtok_r(c->text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        int k = 0;
        for (char *p = line; p && k < MAX_COLS; k++) {
            c->cell[(size_t)c->rows * MAX_COLS + k] = p;
            p = strchr(p, ',');
            if (p)
                *p++ = '\0';
        }
        if (c->rows == 0)
            c->cols = k;
        c->rows++;
    }
    return c->rows > 0 ? 0 : -1;
}

static int csv_col(const csv *c, const char *name)
{
    for (int k = 0; k < c->cols; k++)
        if (strcmp(c->cell[k], name) == 0)
            return k;
    return -1;
}

static const char *csv_at(const csv *c, int row, int col)
{
    const char *v = col >= 0 ? c->cell[(size_t)row * MAX_COLS + col] : NULL;
    return v ? v : "";
}

static void print_cols(FILE *out, const csv *c, int row, const char *const *names, int n,
                       int width)
{
    for (int k = 0; k < n; k++) {
        const char *v = csv_at(c, row, csv_col(c, names[k]));
        double x = atof(v);
        if (row == 0 || !*v)
            fprintf(out, " %*s", width, row == 0 ? names[k] : "-");
        else
            fprintf(out, " %*.4g", width, x);
    }
    fputc('\n', out);
}

void ss_summary_rank(FILE *out, const char *dir)
{
    csv c;
    if (csv_load(&c, dir, "rank_summary.csv") != 0) {
        csv_free(&c);
        return;
    }
    const char *cols[] = {"r1_Q", "R0.95_Q", "r1_K", "R0.95_K", "r1_H", "R0.95_H"};
    int n = 6;
    /* the τ columns follow --tau: take whichever R column comes first */
    static char rq[32], rk[32], rh[32];
    for (int k = 0; k < c.cols; k++) {
        const char *h = c.cell[k];
        if (strncmp(h, "R", 1) == 0 && strstr(h, "_Q") && strlen(h) < 32 && !rq[0])
            snprintf(rq, sizeof rq, "%s", h);
        if (strncmp(h, "R", 1) == 0 && strstr(h, "_K") && strlen(h) < 32 && !rk[0])
            snprintf(rk, sizeof rk, "%s", h);
        if (strncmp(h, "R", 1) == 0 && strstr(h, "_H") && strlen(h) < 32 && !rh[0])
            snprintf(rh, sizeof rh, "%s", h);
    }
    if (rq[0])
        cols[1] = rq;
    if (rk[0])
        cols[3] = rk;
    if (rh[0])
        cols[5] = rh;
    fprintf(out, "rank: average r1 and R of the pre-RoPE Q, K and H (results in %s)\n", dir);
    fprintf(out, "  %-12s", "group");
    print_cols(out, &c, 0, cols, n, 9);
    for (int r = 1; r < c.rows; r++) {
        char label[64];
        snprintf(label, sizeof label, "%s (%s)", csv_at(&c, r, csv_col(&c, "group")),
                 csv_at(&c, r, csv_col(&c, "heads")));
        fprintf(out, "  %-12s", label);
        print_cols(out, &c, r, cols, n, 9);
    }
    csv_free(&c);
}

/* Mean ratio of each variant over the rows of ablation.csv. */
static void band_means(FILE *out, const csv *c)
{
    int cv = csv_col(c, "variant"), cr = csv_col(c, "ratio");
    const char *seen[16];
    int n_seen = 0;
    for (int r = 1; r < c->rows && n_seen < 16; r++) {
        const char *v = csv_at(c, r, cv);
        int known = 0;
        for (int k = 0; k < n_seen; k++)
            known |= strcmp(seen[k], v) == 0;
        if (!known)
            seen[n_seen++] = v;
    }
    for (int k = 0; k < n_seen; k++) {
        double sum = 0;
        int m = 0;
        for (int r = 1; r < c->rows; r++) {
            double x = atof(csv_at(c, r, cr));
            if (strcmp(csv_at(c, r, cv), seen[k]) == 0 && isfinite(x)) {
                sum += x;
                m++;
            }
        }
        fprintf(out, "  %-8s removed: mean ratio to the unablated score %.4g over %d head-offsets\n",
                seen[k], m ? sum / m : NAN, m);
    }
}

void ss_summary_freq(FILE *out, const char *dir)
{
    csv c;
    if (csv_load(&c, dir, "ablation.csv") == 0) {
        fprintf(out, "freq: band ablation (results in %s)\n", dir);
        band_means(out, &c);
    }
    csv_free(&c);
    char path[4200];
    snprintf(path, sizeof path, "%s/freq.json", dir);
    cJSON *j = NULL;
    ss_error err = {0};
    if (ss_json_load(path, (size_t)256 << 20, &j, &err))
        return;
    const cJSON *chk = cJSON_GetObjectItemCaseSensitive(j, "sdh_scores"), *e;
    int far = 0, total = cJSON_GetArraySize(chk);
    cJSON_ArrayForEach(e, chk)
        far += cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "far_below"));
    if (total > 0)
        fprintf(out, "  %d of %d SDHs score under half their scan's score on these prompts%s\n",
                far, total, far ? ":" : "");
    int shown = 0;
    cJSON_ArrayForEach(e, chk)
    {
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "far_below")) || shown++ >= 8)
            continue;
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(e, "name");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "delta");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(e, "score");
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(e, "scan_score");
        fprintf(out, "    %s at Δ %d: %.4g here, %.4g in the scan\n",
                cJSON_IsString(nm) ? nm->valuestring : "?", cJSON_IsNumber(d) ? d->valueint : -1,
                cJSON_IsNumber(s) ? s->valuedouble : NAN, cJSON_IsNumber(t) ? t->valuedouble : NAN);
    }
    if (shown > 8)
        fprintf(out, "    (%d more in freq.json, \"sdh_scores\")\n", shown - 8);
    cJSON_Delete(j);
}

void ss_summary_cone(FILE *out, const char *dir)
{
    csv c;
    if (csv_load(&c, dir, "cone.csv") != 0) {
        csv_free(&c);
        return;
    }
    const char *cols[] = {"r1_tilde_Q", "R_tilde_Q", "r1_tilde_K", "R_tilde_K", "rv_dominant_Q"};
    fprintf(out, "cone: layer 0 (results in %s)\n  %-6s", dir, "head");
    print_cols(out, &c, 0, cols, 5, 13);
    for (int r = 1; r < c.rows; r++) {
        fprintf(out, "  %-6s", csv_at(&c, r, csv_col(&c, "name")));
        print_cols(out, &c, r, cols, 5, 13);
    }
    csv_free(&c);
}

void ss_summary_compress(FILE *out, const char *dir)
{
    csv c;
    if (csv_load(&c, dir, "summary.csv") != 0) {
        csv_free(&c);
        return;
    }
    const char *cols[] = {"thre", "rank_thre", "compressed_q", "compressed_k", "saved_share"};
    fprintf(out, "compress: the plans (results in %s)\n ", dir);
    print_cols(out, &c, 0, cols, 5, 12);
    for (int r = 1; r < c.rows; r++) {
        fputc(' ', out);
        print_cols(out, &c, r, cols, 5, 12);
    }
    csv_free(&c);
}

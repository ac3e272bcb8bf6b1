#include "theory/sweep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/mem.h"
#include "io/atomic_file.h"

typedef struct {
    const char *name;
    ss_freqs_kind kind;
    double prope;
    int fast_semantic;
} choice;

static const choice CHOICES[] = {
    {"high", SS_FREQS_HIGH, 1.0, 0},
    {"standard", SS_FREQS_STANDARD, 1.0, 0},
    {"low", SS_FREQS_LOW, 1.0, 0},
    {"high+fast-sem", SS_FREQS_HIGH, 1.0, 1},
    {"standard-p0.75", SS_FREQS_STANDARD, 0.75, 0},
    {"standard-p0.5", SS_FREQS_STANDARD, 0.5, 0},
    {"standard-p0.25", SS_FREQS_STANDARD, 0.25, 0},
    {"nope-p0", SS_FREQS_STANDARD, 0.0, 0},
};
#define N_CHOICES ((int)(sizeof CHOICES / sizeof CHOICES[0]))

/* The frequencies of one choice, in memory. */
static ss_code build(const ss_lab_config *base, const choice *ch, double *th, ss_error *err)
{
    int F_c = base->train.d_c / 2, F_s = (base->train.icl.d_x + 2) / 2;
    int N = ss_icl_len(&base->train.icl);
    if (F_c + F_s > 8192)
        return ss_fail(err, SS_ERR_USAGE, "sweep: at most 8192 frequencies");
    ss_code rc = ss_freqs_build(ch->kind, NULL, base->base, F_c, F_s, N, th, err);
    if (rc)
        return rc;
    if (ch->fast_semantic) /* the semantic block spans the cone's range */
        for (int s = 0; s < F_s; s++)
            th[F_c + s] = F_s == 1 ? SS_FREQS_HIGH_TOP
                                   : SS_FREQS_HIGH_TOP * pow(SS_FREQS_HIGH_BOTTOM /
                                                                 SS_FREQS_HIGH_TOP,
                                                             (double)s / (F_s - 1));
    if (ch->prope < 1.0)
        ss_freqs_prope(th, F_c + F_s, ch->prope);
    return SS_OK;
}

static void fill_row(ss_sweep_row *row, const choice *ch, const ss_lab_config *c,
                     const ss_lab_result *r)
{
    snprintf(row->name, sizeof row->name, "%s", ch->name);
    row->peak_gap = r->cone.peak_gap;
    row->L_min = r->cone.L_min;
    row->sem_alpha = r->sem_alpha;
    row->sem_pass = r->sem_pass;
    row->slash_step = r->train.slash_step;
    row->s1_mean = r->s1_final;
    row->loss_init = r->loss_init;
    row->loss_final = r->loss_final;
    row->rel_ood_scaled = r->ood[1].rel_mse;
    row->rel_ood_longer = r->ood[4].rel_mse;
    row->slash_dominant = ss_lab_slash_dominant(c, r);
    row->converged = ss_lab_loss_converged(r);
    row->seconds = r->train.seconds;
}

static ss_code write_csv(const char *path, const ss_sweep_row *rows, int n, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "name,peak_gap,L_min,semantic_alpha,semantic_pass,slash_step,s1_mean,"
                  "slash_dominant,loss_initial,loss_final,loss_below_5pct,rel_mse_w_scaled,"
                  "rel_mse_longer_2x,seconds\n");
    for (int i = 0; i < n; i++) {
        const ss_sweep_row *r = &rows[i];
        fprintf(f.fp, "%s,%.6g,%.6g,%.6g,%d,%d,%.6g,%d,%.6g,%.6g,%d,%.6g,%.6g,%.3f\n", r->name,
                r->peak_gap, r->L_min, r->sem_alpha, r->sem_pass, r->slash_step, r->s1_mean,
                r->slash_dominant, r->loss_init, r->loss_final, r->converged, r->rel_ood_scaled,
                r->rel_ood_longer, r->seconds);
    }
    return ss_atomic_commit(&f, err);
}

ss_code ss_sweep_run(const ss_lab_config *base, const char *out_dir, ss_sweep_row **rows,
                     int *n_rows, ss_error *err)
{
    *rows = NULL;
    *n_rows = 0;
    ss_sweep_row *out = ss_calloc(N_CHOICES, sizeof *out, "sweep table", err);
    double *th = ss_calloc(8192, sizeof(double), "frequencies", err);
    ss_code rc = out && th ? SS_OK : SS_ERR_NOMEM;
    for (int i = 0; i < N_CHOICES && !rc; i++) {
        const choice *ch = &CHOICES[i];
        if ((rc = build(base, ch, th, err)))
            break;
        ss_lab_config c = *base;
        c.theta = th;
        c.freqs_name = ch->name;
        c.prope = 1.0; /* already applied to th */
        char label[96];
        snprintf(label, sizeof label, "sweep %d/%d %s", i + 1, N_CHOICES, ch->name);
        c.train.label = label;
        ss_lab_result r;
        if ((rc = ss_lab_run(&c, &r, err))) {
            ss_error_prefix(err, "sweep choice %s", ch->name);
            break;
        }
        fill_row(&out[i], ch, &c, &r);
        if (out_dir) {
            char dir[4096];
            int n = snprintf(dir, sizeof dir, "%s/%s", out_dir, ch->name);
            if (n < 0 || n >= (int)sizeof dir)
                rc = ss_fail(err, SS_ERR_USAGE, "%s: output path too long", out_dir);
            else
                rc = ss_lab_write(dir, &c, &r, err);
        }
        ss_lab_free(&r);
    }
    if (!rc && out_dir) {
        char path[4096];
        int n = snprintf(path, sizeof path, "%s/sweep.csv", out_dir);
        rc = n < 0 || n >= (int)sizeof path
                 ? ss_fail(err, SS_ERR_USAGE, "%s: output path too long", out_dir)
                 : write_csv(path, out, N_CHOICES, err);
    }
    free(th);
    if (rc) {
        free(out);
        return rc;
    }
    *rows = out;
    *n_rows = N_CHOICES;
    return SS_OK;
}

void ss_sweep_print(FILE *out, const ss_sweep_row *rows, int n)
{
    fprintf(out, "%-16s %8s %7s %9s %10s %7s %9s %9s %8s %8s\n", "frequencies", "peak_gap",
            "L_min", "sem_alpha", "slash_step", "S1", "loss", "loss/init", "rel_w*5",
            "rel_2xN");
    for (int i = 0; i < n; i++) {
        const ss_sweep_row *r = &rows[i];
        char step[16], alpha[16];
        if (r->slash_step >= 0)
            snprintf(step, sizeof step, "%d", r->slash_step);
        else
            snprintf(step, sizeof step, "never");
        if (isinf(r->sem_alpha))
            snprintf(alpha, sizeof alpha, "inf%s", r->sem_pass ? "" : "!");
        else
            snprintf(alpha, sizeof alpha, "%.2f%s", r->sem_alpha, r->sem_pass ? "" : "!");
        fprintf(out, "%-16s %8.3f %7.1f %9s %10s %7.4f %9.4f %8.1f%% %8.3f %8.3f\n", r->name,
                r->peak_gap, r->L_min, alpha, step, r->s1_mean, r->loss_final,
                100.0 * r->loss_final / r->loss_init, r->rel_ood_scaled, r->rel_ood_longer);
    }
    fprintf(out, "(peak_gap > 0: the cone's summed cosines peak at offset 0 alone; sem_alpha: "
                 "semantic frequencies <= N^-alpha, '!' marks alpha < 2;\n S1: final mean "
                 "S1[i][i-delta]; rel_*: relative error on w scaled by 5 and on 2x longer "
                 "prompts)\n");
}

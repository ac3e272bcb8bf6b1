/* ppl's result folder (report/ppl_out.h). */
#include "report/ppl_out.h"

#include <math.h>
#include <stdio.h>

#include "io/atomic_file.h"
#include "io/npy.h"

static ss_code write_csv(const char *path, const ss_ppl_result *r, ss_error *err)
{
    ss_atomic_file f;
    ss_code rc = ss_atomic_open(&f, path, err);
    if (rc)
        return rc;
    fprintf(f.fp, "prompt,tokens,nll,ppl\n");
    for (int64_t i = 0; i < r->prompts; i++)
        fprintf(f.fp, "%lld,%lld,%.17g,%.17g\n", (long long)i, (long long)r->prompt_len[i],
                r->prompt_nll[i], exp(r->prompt_nll[i]));
    return ss_atomic_commit(&f, err);
}

ss_code ss_ppl_write(const char *dir, const ss_ppl_result *r, ss_explain_record *rec,
                     ss_error *err)
{
    char path[4096];
    ss_code rc = ss_out_path(path, sizeof path, dir, "ppl.csv", err);
    if (!rc)
        rc = write_csv(path, r, err);
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "loss_by_pos.npy", err))) {
        int64_t shape[1] = {r->max_len};
        rc = ss_npy_write(path, SS_NPY_F64, 1, shape, r->loss_by_pos, err);
    }
    if (rc) {
        ss_explain_record_free(rec);
        return rc;
    }
    int prov;
    cJSON *root = ss_explain_root(rec, "ppl", 0, &prov);
    if (!prov)
        rc = err->code;
    cJSON_AddNumberToObject(root, "tokens_scored", (double)r->tokens);
    cJSON_AddNumberToObject(root, "loss", r->loss);
    cJSON_AddNumberToObject(root, "perplexity", r->perplexity);
    cJSON_AddItemToObject(root, "prompt_nll",
                          cJSON_CreateDoubleArray(r->prompt_nll, (int)r->prompts));
    if (!rc && !(rc = ss_out_path(path, sizeof path, dir, "ppl.json", err)))
        rc = ss_json_write_file(path, root, err);
    cJSON_Delete(root);
    ss_explain_record_free(rec);
    return rc;
}


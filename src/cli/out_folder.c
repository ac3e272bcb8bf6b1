#include "cli/out_folder.h"

#include "model/fingerprint.h"
#include "store/provenance.h"

ss_code ss_out_folder_begin(ss_folder *f, const ss_args *a, const char *marker,
                            const char **work, ss_error *err)
{
    const char *out;
    ss_code rc = ss_args_out(a, 1, &out, err); /* its parent writable, before any work */
    if (rc)
        return rc;
    ss_folder_opts o = {.force = ss_args_has(a, "--force"), .marker = marker};
    if ((rc = ss_folder_begin(f, out, &o, err)))
        return rc;
    *work = f->work;
    return SS_OK;
}

ss_code ss_out_folder_end(ss_folder *f, ss_error *err)
{
    if (!err->code)
        ss_folder_commit(f, err);
    if (err->code)
        ss_folder_abort(f);
    return err->code;
}

cJSON *ss_out_provenance(const ss_model *m, int threads, ss_error *err)
{
    ss_weights_fingerprint fp;
    if (ss_model_fingerprint(m, &fp, err))
        return NULL;
    cJSON *j = cJSON_CreateObject();
    cJSON_AddItemToObject(j, "weights", ss_weights_fingerprint_json(&fp));
    cJSON_AddItemToObject(j, "environment", ss_prov_environment(threads));
    return j;
}

#include "cli/headsel.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/scan.h"
#include "analysis/scan_result.h"
#include "report/scan_folder.h"
#include "common/mem.h"
#include "report/explain_out.h"
#include "io/atomic_file.h"

static ss_code alloc_flags(ss_headsel *s, int n_layer, int n_head, ss_error *err)
{
    memset(s, 0, sizeof *s);
    s->n_layer = n_layer;
    s->n_head = n_head;
    s->flags = ss_calloc((size_t)n_layer * n_head, 1, "head flags", err);
    return s->flags ? SS_OK : SS_ERR_NOMEM;
}

static void count(ss_headsel *s)
{
    s->n = 0;
    for (int i = 0; i < s->n_layer * s->n_head; i++)
        s->n += s->flags[i] != 0;
}

/* Splits a CSV line in place at commas (no quoting: scan writes none). */
static int split(char *line, char **cols, int cap)
{
    int n = 0;
    char *p = line;
    while (n < cap) {
        cols[n++] = p;
        char *c = strchr(p, ',');
        if (!c)
            break;
        *c = '\0';
        p = c + 1;
    }
    return n;
}

static int column(char **cols, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(cols[i], name) == 0)
            return i;
    return -1;
}

static int parse_int(const char *s, long *v)
{
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    return errno == 0 && end != s && *end == '\0';
}

ss_code ss_headsel_read_sdh(const char *dir, const char *regime, int n_layer, int n_head,
                            ss_headsel *out, ss_error *err)
{
    if (strcmp(regime, "small") && strcmp(regime, "large") && strcmp(regime, "all"))
        return ss_fail(err, SS_ERR_USAGE, "--regime '%s': expected small, large or all", regime);
    char path[4096];
    snprintf(path, sizeof path, "%s/sdh.csv", dir);
    char *text = NULL;
    size_t len = 0;
    ss_code rc = ss_read_file(path, (size_t)1 << 28, &text, &len, err);
    if (rc)
        return rc;
    if ((rc = alloc_flags(out, n_layer, n_head, err))) {
        free(text);
        return rc;
    }
    snprintf(out->source, sizeof out->source, "sdh");
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    char *cols[16];
    int ncol = line ? split(line, cols, 16) : 0;
    int c_layer = column(cols, ncol, "layer"), c_head = column(cols, ncol, "head");
    int c_delta = column(cols, ncol, "delta"), c_score = column(cols, ncol, "score");
    int c_regime = column(cols, ncol, "regime");
    if (c_layer < 0 || c_head < 0 || c_delta < 0) {
        rc = ss_fail(err, SS_ERR_FORMAT, "%s: the header must name the columns layer, head and "
                     "delta (as `slashscope scan` writes them)", path);
        goto done;
    }
    int line_no = 1, cap = 0;
    while ((line = strtok_r(NULL, "\n", &save))) {
        line_no++;
        size_t l = strlen(line);
        if (l && line[l - 1] == '\r')
            line[--l] = '\0';
        if (!l)
            continue;
        int n = split(line, cols, 16);
        long layer, head, delta;
        if (n <= c_layer || n <= c_head || n <= c_delta || !parse_int(cols[c_layer], &layer) ||
            !parse_int(cols[c_head], &head) || !parse_int(cols[c_delta], &delta)) {
            rc = ss_fail(err, SS_ERR_FORMAT, "%s line %d: expected integer layer, head and delta",
                         path, line_no);
            goto done;
        }
        if (strcmp(regime, "all") && (c_regime < 0 || n <= c_regime ||
                                      strcmp(cols[c_regime], regime)))
            continue;
        if (layer < 0 || layer >= n_layer || head < 0 || head >= n_head || delta < 0) {
            rc = ss_fail(err, SS_ERR_VALUE, "%s line %d: L%ldH%ld at offset %ld is not a head of "
                         "this model (%d layers x %d heads): was the scan run on another model?",
                         path, line_no, layer, head, delta, n_layer, n_head);
            goto done;
        }
        if (out->n_sdh == cap) {
            cap = cap ? 2 * cap : 16;
            ss_sdh *grown = ss_realloc_array(out->sdh, (size_t)cap, sizeof *grown, "SDH list", err);
            if (!grown) {
                rc = SS_ERR_NOMEM;
                goto done;
            }
            out->sdh = grown;
        }
        ss_sdh *s = &out->sdh[out->n_sdh++];
        s->layer = (int)layer;
        s->head = (int)head;
        s->delta = (int)delta;
        s->score = c_score >= 0 && n > c_score ? strtod(cols[c_score], NULL) : 0;
        out->flags[layer * n_head + head] = 1;
    }
    count(out);
    if (out->n == 0)
        rc = ss_fail(err, SS_ERR_VALUE, "%s lists no SDH of regime '%s' (choose heads with "
                     "--heads, or another --regime)", path, regime);
done:
    free(text);
    if (rc)
        ss_headsel_free(out);
    return rc;
}

/* The scan behind --sdh DIR is of this model. */
static ss_code check_sdh_model(const char *dir, const ss_model *m, const char *model_path,
                               ss_error *err)
{
    ss_scan_result r;
    ss_code rc = ss_scan_result_read(dir, &r, err);
    if (rc)
        return rc;
    cJSON *mine = ss_scan_model_json(m, model_path, err);
    rc = mine ? ss_scan_result_of_model(&r, dir, mine, "--sdh", err) : SS_ERR_NOMEM;
    cJSON_Delete(mine);
    ss_scan_result_free(&r);
    return rc;
}

ss_code ss_headsel_from_args(const ss_args *a, const ss_model *m, ss_headsel *out,
                             ss_error *err)
{
    int n_layer = m->cfg.n_layer, n_head = m->cfg.n_head;
    const char *heads = ss_args_get(a, "--heads"), *sdh = ss_args_get(a, "--sdh");
    const char *regime = ss_args_get(a, "--regime");
    if (heads && sdh)
        return ss_fail(err, SS_ERR_USAGE, "give --heads or --sdh, not both");
    if (regime && !sdh)
        return ss_fail(err, SS_ERR_USAGE, "--regime only applies to --sdh");
    if (sdh) {
        ss_code rc = check_sdh_model(sdh, m, a->positional[0], err);
        return rc ? rc : ss_headsel_read_sdh(sdh, regime ? regime : "small", n_layer, n_head, out,
                                             err);
    }
    ss_code rc = alloc_flags(out, n_layer, n_head, err);
    if (rc)
        return rc;
    if (!heads || strcmp(heads, "all") == 0) {
        memset(out->flags, 1, (size_t)n_layer * n_head);
        snprintf(out->source, sizeof out->source, "all");
    } else {
        snprintf(out->source, sizeof out->source, "list");
        if ((rc = ss_head_list_parse(heads, n_layer, n_head, out->flags, err))) {
            ss_error_prefix(err, "--heads");
            ss_headsel_free(out);
            return rc;
        }
    }
    count(out);
    return SS_OK;
}

void ss_headsel_free(ss_headsel *s)
{
    free(s->flags);
    free(s->sdh);
    memset(s, 0, sizeof *s);
}

cJSON *ss_headsel_json(const ss_headsel *s)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "source", s->source);
    cJSON *list = cJSON_AddArrayToObject(j, "heads");
    for (int l = 0; l < s->n_layer; l++)
        for (int h = 0; h < s->n_head; h++)
            if (s->flags[l * s->n_head + h]) {
                char name[32];
                ss_head_name(l, h, name, sizeof name);
                cJSON_AddItemToArray(list, cJSON_CreateString(name));
            }
    if (s->n_sdh) {
        cJSON *sdh = cJSON_AddArrayToObject(j, "sdh");
        for (int i = 0; i < s->n_sdh; i++) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddNumberToObject(e, "layer", s->sdh[i].layer);
            cJSON_AddNumberToObject(e, "head", s->sdh[i].head);
            cJSON_AddNumberToObject(e, "delta", s->sdh[i].delta);
            cJSON_AddItemToObject(e, "score", ss_json_num_or_null(s->sdh[i].score));
            cJSON_AddItemToArray(sdh, e);
        }
    }
    return j;
}

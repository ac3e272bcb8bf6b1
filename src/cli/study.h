/* `slashscope study`: what the stages and the report share. */
#ifndef SS_CLI_STUDY_H
#define SS_CLI_STUDY_H

#include "cli/study_stage.h"
#include "common/error.h"
#include "report/html.h"

enum { ST_INFO, ST_SCAN_ID, ST_SCAN_OOD, ST_COMPARE, ST_MAPS, ST_RANK, ST_CONE, ST_FREQ,
       ST_COUNT };

#define STUDY_MAX_MODELS 8
#define STUDY_MAP_HEADS 4     /* mean attention maps of the strongest SDHs */
#define STUDY_MAP_PROMPTS 4   /* ... over the first prompts of the set */
#define STUDY_RANK_PROMPTS 4  /* rank and freq on the first prompts */
#define STUDY_FREQ_PROMPTS 2
/* a number macro as a string literal (for the usage text) */
#define SS_STR_(x) #x
#define SS_STR(x) SS_STR_(x)
#define STUDY_CONE_RV 0.5     /* Takeaway 3: RV(v) at most this is a cone (cli/study_cone.c) */

typedef struct {
    const char *path;   /* as given */
    char name[256];     /* its base name, for headings */
    char dir[3400];     /* where its stages live (--out is at most 3000 bytes) */
    ss_stage stage[ST_COUNT];
    int has_maps;       /* the maps stage ran (there were SDHs to draw) */
} study_model;

typedef struct {
    const char *out;
    const char *src_flag, *src_path; /* "--prompts" or "--ids-file" */
    long long len, ood, seed, threads;
    const char *heads; /* "sdh", "all" or a list */
    int quiet;
    study_model model[STUDY_MAX_MODELS];
    int n_models;
    double seconds;    /* the whole study, this run */
} study;

/* Builds DIR/report.html from the finished stage folders. */
ss_code study_report(const study *s, ss_error *err);

/* Takeaway 3's verdict, the layer-0 head table and the RV figure
 * (cli/study_cone.c); table id cone-heads-<mi>. */
ss_code study_takeaway3_heads(ss_html *h, const study_model *m, int mi, ss_error *err);

#endif

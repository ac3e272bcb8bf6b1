/* The closing summary each explain command prints on stdout (issue 9, "say
 * what happened"), read back from the files it just committed so that what
 * the terminal says is what the folder holds:
 *   rank: r1 and R_tau of Q, K, H for the listed heads (SDHs) next to all;
 *   freq: the mean band-ablation ratio per variant, and the SDHs that score
 *         far below their scan's score on these prompts (OOD prompts);
 *   cone: the layer-0 table (r1~, R~ of Q and K per head);
 *   compress: each plan's compressed matrices and saved share. */
#ifndef SS_CLI_SUMMARY_H
#define SS_CLI_SUMMARY_H

#include <stdio.h>

void ss_summary_rank(FILE *out, const char *dir);
void ss_summary_freq(FILE *out, const char *dir);
void ss_summary_cone(FILE *out, const char *dir);
/* compress: per (thre, rank_thre) plan, the matrices compressed and the share saved. */
void ss_summary_compress(FILE *out, const char *dir);

#endif

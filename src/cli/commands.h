/* One function per subcommand, each in src/cli/cmd_<name>.c. argv[0] is the
 * subcommand's name; the return value is the process exit status. */
#ifndef SS_CLI_COMMANDS_H
#define SS_CLI_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_ppl(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_sdh_effect(int argc, char **argv);
int cmd_attn(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_sdh(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_rank(int argc, char **argv);
int cmd_cone(int argc, char **argv);
int cmd_freq(int argc, char **argv);
int cmd_sparsity(int argc, char **argv);
int cmd_theory(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_study(int argc, char **argv);

#endif

/* One function per subcommand, each in src/cli/cmd_<name>.c. argv[0] is the
 * subcommand's name; the return value is the process exit status. */
#ifndef SS_CLI_COMMANDS_H
#define SS_CLI_COMMANDS_H

int cmd_info(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_attn(int argc, char **argv);

#endif

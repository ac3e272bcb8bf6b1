/* What tokenize and detokenize share: the start (flags, --help, exactly
 * one MODEL argument) and the end (standard output flushed, or an error
 * saying what could not be written). */
#ifndef SS_CLI_TOK_CMD_H
#define SS_CLI_TOK_CMD_H

#include "cli/args.h"

/* Parses the command's flags into a. Returns -1 to go on, else the exit
 * status to return (0 after --help, which printed usage). */
int ss_tok_cmd_begin(const char *name, const char *usage, const ss_flag *flags, int argc,
                     char **argv, ss_args *a);
/* Flushes standard output: 0, or the failure's exit status naming what
 * was being written ("the ids", "the text"). */
int ss_tok_cmd_end(const char *name, const char *what);

#endif

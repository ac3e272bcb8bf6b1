/* slashscope tokenize MODEL (--text STR | --file F) [--bos | --no-bos] [--tokenizer T] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/prompt_flags.h"
#include "cli/tok_cmd.h"
#include "io/atomic_file.h"
#include "tokenizer/tokenizer.h"

static const char usage[] =
    "usage: slashscope tokenize MODEL (--text STR | --file F) [--bos | --no-bos]\n"
    "                           [--tokenizer T]\n\n"
    "Prints the token ids of the text, space-separated on one line. MODEL is a tokenizer.json,\n"
    "a Hugging Face folder holding one, a GGUF (its embedded vocabulary), a llama2.c\n"
    "tokenizer.bin, or a llama2.c checkpoint (with tokenizer.bin or tok*.bin beside it);\n"
    "--tokenizer T uses T instead (as in scan, rank and freq).\n"
    "--file tokenizes the file's bytes exactly (a final newline included); it may be a pipe\n"
    "(--file /dev/stdin).\n"
    "BOS is added when the model adds it (GGUF tokenizer.ggml.add_bos_token, a tokenizer.json\n"
    "post-processor template starting with a special token, always for llama2.c);\n"
    "--bos / --no-bos force it on / off (--no-bos gives the raw encoding). Special tokens\n"
    "written in the text are matched as Hugging Face does for tokenizer.json (added tokens)\n"
    "and as llama-tokenize does for GGUF (user-defined tokens only).\n";

static int fail(ss_error *err)
{
    return ss_cli_fail("tokenize", err);
}

int cmd_tokenize(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--text", 1}, {"--file", 1}, {"--bos", 0}, {"--no-bos", 0},
                                    {"--tokenizer", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    int status = ss_tok_cmd_begin("tokenize", usage, flags, argc, argv, &a);
    if (status >= 0)
        return status;
    const char *text = ss_args_get(&a, "--text"), *file = ss_args_get(&a, "--file");
    if (!!text == !!file) {
        ss_fail(&err, SS_ERR_USAGE, "give exactly one of --text STR or --file F (see --help)");
        return fail(&err);
    }
    if (ss_args_has(&a, "--bos") && ss_args_has(&a, "--no-bos")) {
        ss_fail(&err, SS_ERR_USAGE, "--bos and --no-bos contradict each other");
        return fail(&err);
    }
    char *data = NULL;
    size_t len = text ? strlen(text) : 0;
    if (file && ss_read_input(file, (size_t)1 << 30, &data, &len, &err))
        return fail(&err);
    ss_tokenizer *t;
    if (ss_cli_tokenizer_open(&a, &t, &err)) {
        free(data);
        return fail(&err);
    }
    int bos = ss_args_has(&a, "--bos") ? 1 : ss_args_has(&a, "--no-bos") ? 0
                                                                       : ss_tokenizer_adds_bos(t);
    int32_t *ids = NULL;
    size_t n = 0;
    ss_code rc = ss_tokenizer_encode(t, data ? data : text, len, bos, &ids, &n, &err);
    free(data);
    ss_tokenizer_free(t);
    if (rc)
        return fail(&err);
    for (size_t i = 0; i < n; i++)
        printf(i ? " %d" : "%d", ids[i]);
    printf("\n");
    free(ids);
    return ss_tok_cmd_end("tokenize", "the ids");
}

/* slashscope detokenize MODEL (--ids "1 2 3" | --ids-file F) [--pieces] [--raw]
 *                             [--tokenizer T] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/prompt_flags.h"
#include "cli/tok_cmd.h"
#include "common/escape.h"
#include "tokenizer/tokenizer.h"

static const char usage[] =
    "usage: slashscope detokenize MODEL (--ids \"1 2 3\" | --ids-file F) [--pieces] [--raw]\n"
    "                             [--tokenizer T]\n\n"
    "Prints the text token ids stand for, with the model's tokenizer (MODEL as for tokenize;\n"
    "--tokenizer T uses T instead): the inverse of `slashscope tokenize` wherever the tokenizer\n"
    "is lossless. Byte-level pieces become their bytes, U+2581 a space, <0xXX> byte tokens\n"
    "their byte; the space the encoder prepends is removed; special tokens show as their text.\n"
    "--ids-file F holds one sequence (one line); it may be a pipe (--ids-file /dev/stdin).\n"
    "  --pieces  one line per token: position, id, the token's text (as decoded alone)\n"
    "  --raw     write the decoded bytes exactly, with no final newline; otherwise control\n"
    "            bytes other than newline and tab, and bytes that are not UTF-8 (a\n"
    "            character cut by the ids), are shown as \\xNN\n";

static int fail(ss_error *err)
{
    return ss_cli_fail("detokenize", err);
}

/* Text for a terminal: \xNN for control and invalid bytes; newlines and
 * tabs kept unless keep_breaks is 0. */
static void print_escaped(const char *s, size_t n, int keep_breaks)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && !(keep_breaks && (s[j] == '\n' || s[j] == '\t')))
            j++;
        size_t cap = 4 * (j - i) + 8;
        char *buf = malloc(cap);
        if (buf) {
            fputs(ss_escape(s + i, j - i, buf, cap), stdout);
            free(buf);
        }
        if (j < n)
            putchar(s[j++]);
        i = j;
    }
}

static ss_code print_pieces(const ss_tokenizer *t, const int32_t *ids, int n, ss_error *err)
{
    for (int i = 0; i < n; i++) {
        char *text;
        size_t len;
        ss_code rc = ss_tokenizer_token_text(t, ids[i], &text, &len, err);
        if (rc)
            return rc;
        printf("%d\t%d\t", i, ids[i]);
        print_escaped(text, len, 0);
        putchar('\n');
        free(text);
    }
    return SS_OK;
}

int cmd_detokenize(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--ids", 1}, {"--ids-file", 1}, {"--pieces", 0},
                                    {"--raw", 0}, {"--tokenizer", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    int status = ss_tok_cmd_begin("detokenize", usage, flags, argc, argv, &a);
    if (status >= 0)
        return status;
    if (ss_args_has(&a, "--pieces") && ss_args_has(&a, "--raw")) {
        ss_fail(&err, SS_ERR_USAGE, "--pieces and --raw are different outputs: give one");
        return fail(&err);
    }
    int32_t *ids = NULL;
    int n = 0;
    ss_tokenizer *t = NULL;
    if (ss_args_ids(&a, &ids, &n, &err) || ss_cli_tokenizer_open(&a, &t, &err)) {
        free(ids);
        return fail(&err);
    }
    ss_code rc;
    if (ss_args_has(&a, "--pieces")) {
        rc = print_pieces(t, ids, n, &err);
    } else {
        char *text = NULL;
        size_t len = 0;
        rc = ss_tokenizer_decode(t, ids, (size_t)n, &text, &len, &err);
        if (!rc && ss_args_has(&a, "--raw")) {
            fwrite(text, 1, len, stdout);
        } else if (!rc) {
            print_escaped(text, len, 1);
            putchar('\n');
        }
        free(text);
    }
    free(ids);
    ss_tokenizer_free(t);
    if (rc)
        return fail(&err);
    return ss_tok_cmd_end("detokenize", "the text");
}

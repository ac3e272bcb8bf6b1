/* slashscope merge DIR... --out DIR */
#include <stdio.h>

#include "analysis/merge.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "report/scan_folder.h"

static const char usage[] =
    "usage: slashscope merge DIR DIR... --out DIR\n\n"
    "Merges scans of the same model, RoPE schedule, --len and --skip over disjoint prompt\n"
    "sets (e.g. shards run on several machines): slash sums and counts add, so the result is\n"
    "the scan of all their prompts. Refuses scans of different models or settings, and two\n"
    "scans of the same prompt source (same SHA-256). Pooled maps are merged for the heads\n"
    "every input has at the same --map-size.\n";

int cmd_merge(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--out", 1}, {NULL, 0}};
    ss_error err = {0};
    ss_args a;
    if (ss_args_parse(&a, "merge", usage, flags, argc, argv, &err))
        return ss_cli_fail("merge", &err);
    if (a.help) {
        fputs(usage, stdout);
        return 0;
    }
    const char *out;
    if (ss_args_out(&a, 1, &out, &err))
        return ss_cli_fail("merge", &err);
    int dropped = 0;
    if (ss_scan_merge(a.positional, a.n_positional, out, &dropped, &err))
        return ss_cli_fail("merge", &err);
    if (dropped && !a.quiet)
        fprintf(stderr, "slashscope merge: %d map%s left out (not in every input at the same "
                "size)\n", dropped, dropped == 1 ? "" : "s");
    if (!a.quiet)
        printf("merged %d scans into %s\n", a.n_positional, out);
    return 0;
}

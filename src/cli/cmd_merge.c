/* slashscope merge DIR... --out DIR */
#include <stdio.h>

#include "analysis/merge.h"
#include "analysis/scan_result.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "report/scan_folder.h"

static const char usage[] =
    "usage: slashscope merge DIR DIR... --out DIR\n\n"
    "Merges scans of the same model, RoPE schedule, --len and --skip over disjoint prompt\n"
    "sets (e.g. shards run on several machines): slash sums and counts add, so the result is\n"
    "the scan of all their prompts. Refuses scans of different models (config or weights'\n"
    "fingerprint) or settings, and any prompt counted twice: the same source, overlapping\n"
    "--ood/--repeat index ranges of one seed (extend a set with --ood-offset), or one prompt\n"
    "in two files. Pooled maps are merged for the heads every input has at the same --map-size.\n\n"
    "options:\n"
    "  --out DIR    the merged scan (written as DIR.partial, renamed when complete)\n"
    "  --force      replace a finished result in DIR (else it is refused)\n";

int cmd_merge(int argc, char **argv)
{
    static const ss_flag flags[] = {{"--out", 1}, {"--force", 0}, {NULL, 0}};
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
    if (ss_scan_merge(a.positional, a.n_positional, out, ss_args_has(&a, "--force"), &dropped,
                      &err))
        return ss_cli_fail("merge", &err);
    if (dropped && !a.quiet)
        fprintf(stderr, "slashscope merge: %d map%s left out (not in every input at the same "
                "size)\n", dropped, dropped == 1 ? "" : "s");
    ss_scan_result r;
    long long prompts = 0;
    if (ss_scan_result_read(out, &r, &err) == SS_OK) {
        prompts = r.prompts;
        ss_scan_result_free(&r);
    }
    printf("merged %d scans (%lld prompts) into %s\n", a.n_positional, prompts, out);
    return 0;
}

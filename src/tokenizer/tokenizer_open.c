/* Finding the tokenizer that belongs to a path: the file kinds are told
 * apart by content (GGUF magic, JSON, llama2.c headers), names only
 * break ties. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/path.h"
#include "io/gguf.h"
#include "io/llama2c.h"
#include "tokenizer/tokenizer.h"

static void dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, cap, ".");
    else if (slash == path)
        snprintf(dir, cap, "/");
    else
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

static const char *base_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

static ss_code open_folder(const char *dir, ss_tokenizer **out, ss_error *err)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/tokenizer.json", dir);
    if (ss_is_file(p))
        return ss_tokenizer_from_hf_json(p, out, err);
    char cfg[4096];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    if (ss_is_file(cfg))
        return ss_fail(err, SS_ERR_MISSING, "%s: Hugging Face model folder without tokenizer.json "
                       "(looked for %s)", dir, p);
    return ss_fail(err, SS_ERR_MISSING, "%s: no tokenizer.json in this folder (looked for %s)",
                   dir, p);
}

/* A llama2.c checkpoint header (io/llama2c.h checks it with the loader's
 * own limits) whose file is big enough for the embedding; gives
 * |vocab_size|. */
static int llama2c_checkpoint(const unsigned char *h, size_t got, long long size, int *vocab)
{
    ss_llama2c m = {0};
    ss_error e = {0};
    if (ss_llama2c_header("", h, got, &m, &e) != SS_OK)
        return 0;
    if ((long long)m.vocab_size * m.dim * (m.version == 0 ? 4 : 1) > size)
        return 0;
    *vocab = m.vocab_size;
    return 1;
}

/* tokenizer.bin beside a checkpoint, else the only tok*.bin there. */
static ss_code companion(const char *path, int vocab, ss_tokenizer **out, ss_error *err)
{
    char dir[4096], p[4400];
    dir_of(path, dir, sizeof dir);
    snprintf(p, sizeof p, "%s/tokenizer.bin", dir);
    if (ss_is_file(p))
        return ss_tokenizer_from_llama2c(p, vocab, out, err);
    DIR *d = opendir(dir);
    char found[4400] = "", names[1024] = "";
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) {
        if (strncmp(e->d_name, "tok", 3) != 0 || !ss_ends_with(e->d_name, ".bin"))
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p || !ss_is_file(p))
            continue; /* a path too long to hold is no candidate */
        if (n++ == 0)
            snprintf(found, sizeof found, "%s", p);
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", e->d_name);
    }
    if (d)
        closedir(d);
    if (n == 1)
        return ss_tokenizer_from_llama2c(found, vocab, out, err);
    if (n > 1)
        return ss_fail(err, SS_ERR_USAGE, "%s: llama2.c checkpoint with several candidate "
                       "tokenizers in %s (%s)", path, dir, names);
    return ss_fail(err, SS_ERR_MISSING, "%s: llama2.c checkpoint without a tokenizer (looked for "
                   "%s/tokenizer.bin and %s/tok*.bin)", path, dir, dir);
}

static ss_code open_gguf(const char *path, ss_tokenizer **out, ss_error *err)
{
    ss_gguf g;
    memset(&g, 0, sizeof g);
    ss_code rc = ss_gguf_load(path, &g, err);
    if (!rc)
        rc = ss_tokenizer_from_gguf(&g, out, err);
    ss_gguf_free(&g);
    return rc;
}

static ss_code open_json(const char *path, ss_tokenizer **out, ss_error *err)
{
    const char *base = base_of(path);
    char dir[4096];
    dir_of(path, dir, sizeof dir);
    /* config.json, model.safetensors(.index.json) name their model folder */
    if (strcmp(base, "config.json") == 0 || ss_ends_with(base, ".safetensors") ||
        ss_ends_with(base, ".safetensors.index.json"))
        return open_folder(dir, out, err);
    return ss_tokenizer_from_hf_json(path, out, err);
}

ss_code ss_tokenizer_open(const char *path, ss_tokenizer **out, ss_error *err)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0)
        return ss_fail(err, SS_ERR_IO, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return open_folder(path, out, err);
    int fd = ss_open_regular(path, err);
    if (fd < 0)
        return err->code;
    unsigned char head[64];
    ssize_t r = read(fd, head, sizeof head);
    close(fd);
    size_t got = r > 0 ? (size_t)r : 0;
    if (got >= 4 && memcmp(head, "GGUF", 4) == 0)
        return open_gguf(path, out, err);
    size_t k = 0;
    while (k < got && (head[k] == ' ' || head[k] == '\n' || head[k] == '\r' || head[k] == '\t'))
        k++;
    const char *base = base_of(path);
    if (ss_ends_with(base, ".json") || ss_ends_with(base, ".safetensors") || (k < got && head[k] == '{'))
        return open_json(path, out, err);
    int named_tok = strncmp(base, "tok", 3) == 0;
    int vocab;
    if (!named_tok && llama2c_checkpoint(head, got, (long long)st.st_size, &vocab))
        return companion(path, vocab, out, err);
    ss_error tok_err = {0};
    ss_code rc = ss_tokenizer_from_llama2c(path, 0, out, &tok_err);
    if (!rc)
        return SS_OK;
    if (named_tok) /* it says it is a tokenizer: its own error is the useful one */
        return ss_fail(err, rc, "%s", tok_err.msg);
    return ss_fail(err, SS_ERR_FORMAT, "%s: not a tokenizer.json, GGUF, llama2.c tokenizer.bin "
                   "or llama2.c checkpoint (as a tokenizer.bin: %s)", path, tok_err.msg);
}

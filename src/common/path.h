/* Small questions about paths, asked by the loaders, the tokenizer finder
 * and the prompt sources alike. */
#ifndef SS_COMMON_PATH_H
#define SS_COMMON_PATH_H

#include "common/error.h"

int ss_is_dir(const char *path);  /* an existing folder (links followed) */
int ss_is_file(const char *path); /* an existing regular file (links followed) */
int ss_ends_with(const char *s, const char *suffix);

/* What a path names, for messages: "a regular file", "a folder", "a FIFO
 * (named pipe)", "a character device", "a block device", "a socket", or
 * "no such file or folder". */
const char *ss_path_kind(const char *path);
/* Opens a file that must be regular (model parts, configs, tokenizers)
 * read-only. O_NONBLOCK makes open() return at once on a FIFO or a device
 * instead of waiting for a writer, and fstat then refuses it by its kind.
 * Returns the descriptor (blocking mode restored), or -1 with err set. */
int ss_open_regular(const char *path, ss_error *err);

#endif

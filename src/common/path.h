/* Small questions about paths, asked by the loaders, the tokenizer finder
 * and the prompt sources alike. */
#ifndef SS_COMMON_PATH_H
#define SS_COMMON_PATH_H

int ss_is_dir(const char *path);  /* an existing folder (links followed) */
int ss_is_file(const char *path); /* an existing regular file (links followed) */
int ss_ends_with(const char *s, const char *suffix);

#endif

/* Whole numbers from text (flags, head lists, id lines, CSV cells), parsed
 * one way everywhere: decimal digits with an optional '-', checked for
 * overflow and against a range, so "L4294967296H0" is an error instead of
 * wrapping to L0H0 the way sscanf("%d") does. */
#ifndef SS_COMMON_PARSE_H
#define SS_COMMON_PARSE_H

typedef enum {
    SS_PARSE_OK = 0,
    SS_PARSE_NONE,  /* no digits at s (leading spaces and '+' count as none) */
    SS_PARSE_RANGE  /* digits, but the value is outside [min, max] (or overflows) */
} ss_parse_status;

/* Parses the number at the start of s; *end (if not NULL) is set past its
 * digits whenever there are digits, *out only on success. */
ss_parse_status ss_parse_ll(const char *s, const char **end, long long min, long long max,
                            long long *out);
/* The same, but the whole string must be the number. */
ss_parse_status ss_parse_ll_all(const char *s, long long min, long long max, long long *out);
/* "L<layer>H<head>" at s, each in [0, INT32_MAX]; *end past it. Returns 0
 * if s does not start with that form or a number is too large. */
int ss_parse_head_name(const char *s, const char **end, int *layer, int *head);

#endif

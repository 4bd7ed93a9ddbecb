/* SPDX-License-Identifier: GPL-2.0 */
/*
 * parse.h - kserverctl's command-line values: whole numbers, plain decimals
 * and mode words. Pure: no output, 0 or -errno (-EINVAL: not a value of
 * that kind, -ERANGE: outside [min, max]); the caller says what is wrong.
 */
#ifndef KC_PARSE_H
#define KC_PARSE_H

int kc_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out);
int kc_parse_decimal(const char *s, double min, double max, double *out);
int kc_parse_mode(const char *s, unsigned int *mode);
const char *kc_mode_name(unsigned int mode);

#endif /* KC_PARSE_H */

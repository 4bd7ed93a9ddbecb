// SPDX-License-Identifier: GPL-2.0
/*
 * parse.c - kserverctl's command-line values.
 *
 * Only plain digits are taken: no sign, no blanks, no hex, no exponent, no
 * "inf" or "nan", all of which strtol() and strtod() would accept.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"
#include "../kmod/uapi/sakura.h"

static bool kc_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* "123" */
static bool kc_is_whole(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!kc_is_digit(*s))
			return false;
	return true;
}

/* "12", "12.5", "0.5", ".5", "5.": digits, at most one '.', one digit at least */
static bool kc_is_decimal(const char *s)
{
	bool digit = false, dot = false;

	for (; *s; s++) {
		if (kc_is_digit(*s))
			digit = true;
		else if (*s == '.' && !dot)
			dot = true;
		else
			return false;
	}
	return digit;
}

int kc_parse_uint(const char *s, unsigned long min, unsigned long max,
		  unsigned long *out)
{
	unsigned long v;

	if (!kc_is_whole(s))
		return -EINVAL;
	errno = 0;
	v = strtoul(s, NULL, 10);
	if (errno || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int kc_parse_decimal(const char *s, double min, double max, double *out)
{
	double v;

	if (!kc_is_decimal(s))
		return -EINVAL;
	errno = 0;
	v = strtod(s, NULL);
	if (errno || !(v >= min && v <= max))
		return -ERANGE;
	*out = v;
	return 0;
}

static const char *const kc_mode_names[] = {
	[SAKURA_MODE_USER] = "user",
	[SAKURA_MODE_SUPERVISOR] = "supervisor",
};

#define KC_NMODES (sizeof(kc_mode_names) / sizeof(kc_mode_names[0]))

int kc_parse_mode(const char *s, unsigned int *mode)
{
	unsigned int i;

	for (i = 0; i < KC_NMODES; i++) {
		if (!strcmp(s, kc_mode_names[i])) {
			*mode = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* "user", "supervisor", or "unknown" for a value this tool does not know */
const char *kc_mode_name(unsigned int mode)
{
	return mode < KC_NMODES ? kc_mode_names[mode] : "unknown";
}

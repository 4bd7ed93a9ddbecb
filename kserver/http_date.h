/* SPDX-License-Identifier: GPL-2.0 */
/* http_date.h - HTTP dates (RFC 9110 5.6.7), 64-bit, freestanding. */
#ifndef KS_HTTP_DATE_H
#define KS_HTTP_DATE_H

#include "ks_port.h"

#define KS_HTTP_DATE_LEN 29	/* "Sun, 06 Nov 1994 08:49:37 GMT" */

/* ks_http_date_format - write IMF-fixdate for unix time t (no NUL). */
void ks_http_date_format(s64 t, char out[KS_HTTP_DATE_LEN]);

/*
 * ks_http_date_parse - parse IMF-fixdate, RFC 850 or asctime into unix time.
 * Returns 0 or -EINVAL. Years 1970..9999; dates past 2038 are fine.
 */
int ks_http_date_parse(const char *s, u32 len, s64 *t);

/* ks_civil_from_unix - broken-down UTC time, for the access log. */
struct ks_tm {
	s32 year;
	u8 mon;			/* 1..12 */
	u8 mday;		/* 1..31 */
	u8 hour, min, sec;
	u8 wday;		/* 0 = Sunday */
};
void ks_civil_from_unix(s64 t, struct ks_tm *tm);

extern const char ks_month_names[12][4];
extern const char ks_day_names[7][4];

#endif /* KS_HTTP_DATE_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * http_date.c - HTTP-date formatting and parsing (RFC 9110 5.6.7), 64-bit
 * time throughout, integer-only (Howard Hinnant's civil-date algorithms).
 */
#include "http_date.h"

const char ks_month_names[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

const char ks_day_names[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};

static const char *const ks_long_day_names[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday",
};

/* days since 1970-01-01 of a proleptic Gregorian date */
static s64 ks_days_from_civil(s64 y, u32 m, u32 d)
{
	s64 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

void ks_civil_from_unix(s64 t, struct ks_tm *tm)
{
	s64 days = t / 86400, secs = t % 86400, era, doe, yoe, y, doy, mp;

	if (secs < 0) {
		secs += 86400;
		days--;
	}
	tm->hour = secs / 3600;
	tm->min = secs / 60 % 60;
	tm->sec = secs % 60;
	tm->wday = (days % 7 + 11) % 7;	/* 1970-01-01 was a Thursday */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	tm->mday = doy - (153 * mp + 2) / 5 + 1;
	tm->mon = mp < 10 ? mp + 3 : mp - 9;
	tm->year = y + (tm->mon <= 2);
}

static void ks_put2(char *p, u32 v)
{
	p[0] = '0' + v / 10 % 10;
	p[1] = '0' + v % 10;
}

void ks_http_date_format(s64 t, char out[KS_HTTP_DATE_LEN])
{
	struct ks_tm tm;
	u32 y;

	ks_civil_from_unix(t, &tm);
	y = tm.year < 0 ? 0 : tm.year > 9999 ? 9999 : tm.year;
	memcpy(out, ks_day_names[tm.wday], 3);
	memcpy(out + 3, ", ", 2);
	ks_put2(out + 5, tm.mday);
	out[7] = ' ';
	memcpy(out + 8, ks_month_names[tm.mon - 1], 3);
	out[11] = ' ';
	ks_put2(out + 12, y / 100);
	ks_put2(out + 14, y % 100);
	out[16] = ' ';
	ks_put2(out + 17, tm.hour);
	out[19] = ':';
	ks_put2(out + 20, tm.min);
	out[22] = ':';
	ks_put2(out + 23, tm.sec);
	memcpy(out + 25, " GMT", 4);
}

/* A tiny cursor over the input, so each format reads like its grammar. */
struct ks_cur {
	const char *p, *end;
	bool ok;
};

static void ks_lit(struct ks_cur *c, const char *s, u32 n)
{
	if (!c->ok || (u32)(c->end - c->p) < n || memcmp(c->p, s, n))
		c->ok = false;
	else
		c->p += n;
}

static u32 ks_digits(struct ks_cur *c, u32 n)
{
	u32 v = 0;

	while (n--) {
		if (!c->ok || c->p >= c->end || *c->p < '0' || *c->p > '9') {
			c->ok = false;
			return 0;
		}
		v = v * 10 + (*c->p++ - '0');
	}
	return v;
}

static u32 ks_month(struct ks_cur *c)
{
	u32 i;

	if (c->ok && c->end - c->p >= 3)
		for (i = 0; i < 12; i++)
			if (!memcmp(c->p, ks_month_names[i], 3)) {
				c->p += 3;
				return i + 1;
			}
	c->ok = false;
	return 0;
}

static void ks_wkday(struct ks_cur *c, bool longname)
{
	u32 i;

	for (i = 0; i < 7 && c->ok; i++) {
		const char *n = longname ? ks_long_day_names[i] : ks_day_names[i];
		u32 len = longname ? __builtin_strlen(n) : 3;

		if ((u32)(c->end - c->p) >= len && !memcmp(c->p, n, len)) {
			c->p += len;
			return;
		}
	}
	c->ok = false;
}

static void ks_hms(struct ks_cur *c, u32 *h, u32 *mi, u32 *s)
{
	*h = ks_digits(c, 2);
	ks_lit(c, ":", 1);
	*mi = ks_digits(c, 2);
	ks_lit(c, ":", 1);
	*s = ks_digits(c, 2);
}

static bool ks_days_valid(u32 y, u32 m, u32 d)
{
	static const u8 mdays[12] = { 31, 29, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return false;
	return !(m == 2 && d == 29 && !leap);
}

int ks_http_date_parse(const char *s, u32 len, s64 *t)
{
	struct ks_cur c = { s, s + len, true };
	u32 y, m, d, h, mi, sec;

	if (len == KS_HTTP_DATE_LEN) {			/* IMF-fixdate */
		ks_wkday(&c, false);
		ks_lit(&c, ", ", 2);
		d = ks_digits(&c, 2);
		ks_lit(&c, " ", 1);
		m = ks_month(&c);
		ks_lit(&c, " ", 1);
		y = ks_digits(&c, 4);
		ks_lit(&c, " ", 1);
		ks_hms(&c, &h, &mi, &sec);
		ks_lit(&c, " GMT", 4);
	} else if (len == 24) {				/* asctime */
		ks_wkday(&c, false);
		ks_lit(&c, " ", 1);
		m = ks_month(&c);
		ks_lit(&c, " ", 1);
		if (c.ok && c.p < c.end && *c.p == ' ') {
			c.p++;
			d = ks_digits(&c, 1);
		} else {
			d = ks_digits(&c, 2);
		}
		ks_lit(&c, " ", 1);
		ks_hms(&c, &h, &mi, &sec);
		ks_lit(&c, " ", 1);
		y = ks_digits(&c, 4);
	} else {					/* RFC 850 */
		ks_wkday(&c, true);
		ks_lit(&c, ", ", 2);
		d = ks_digits(&c, 2);
		ks_lit(&c, "-", 1);
		m = ks_month(&c);
		ks_lit(&c, "-", 1);
		y = ks_digits(&c, 2);
		/* RFC 9110: a two-digit year more than 50 years ahead is past */
		y += y < 70 ? 2000 : 1900;
		ks_lit(&c, " ", 1);
		ks_hms(&c, &h, &mi, &sec);
		ks_lit(&c, " GMT", 4);
	}
	if (!c.ok || c.p != c.end || y < 1970 || !ks_days_valid(y, m, d) ||
	    h > 23 || mi > 59 || sec > 60)
		return -EINVAL;
	*t = ks_days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

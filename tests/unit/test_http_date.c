// SPDX-License-Identifier: GPL-2.0
/*
 * test_http_date.c - tests for kserver/http_date.c, checked against libc's
 * gmtime_r()/strftime() for every day of several centuries.
 */
#include <time.h>

#include "ks_test.h"
#include "http_date.h"

/* a literal that holds a NUL: the input and its length */
#define S(lit) lit, sizeof(lit) - 1

struct fmt_case {
	const char *desc;
	s64 t;
	const char *want;
};

static const struct fmt_case fmt_cases[] = {
	{ "epoch", 0, "Thu, 01 Jan 1970 00:00:00 GMT" },
	{ "RFC example", 784111777, "Sun, 06 Nov 1994 08:49:37 GMT" },
	{ "last second of 1999", 946684799, "Fri, 31 Dec 1999 23:59:59 GMT" },
	{ "leap day 2000", 951782400, "Tue, 29 Feb 2000 00:00:00 GMT" },
	{ "one billion", 1000000000, "Sun, 09 Sep 2001 01:46:40 GMT" },
	{ "leap day 2024 noon", 1709208000, "Thu, 29 Feb 2024 12:00:00 GMT" },
	{ "s32 max", 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT" },
	{ "s32 max + 1", 2147483648LL, "Tue, 19 Jan 2038 03:14:08 GMT" },
	{ "year 2100", 4102444800LL, "Fri, 01 Jan 2100 00:00:00 GMT" },
	{ "2100 is not leap", 4107542400LL, "Mon, 01 Mar 2100 00:00:00 GMT" },
	{ "end of 9999", 253402300799LL, "Fri, 31 Dec 9999 23:59:59 GMT" },
};

START_TEST(test_format)
{
	const struct fmt_case *c = &fmt_cases[_i];
	char *out = guarded_alloc(KS_HTTP_DATE_LEN);

	KS_ROW(c->desc);
	ks_http_date_format(c->t, out);
	ck_assert_msg(memcmp(out, c->want, KS_HTTP_DATE_LEN) == 0,
		      "%s: got '%.29s', want '%s'", c->desc, out, c->want);
	guarded_free(out, KS_HTTP_DATE_LEN);
}
END_TEST

struct parse_case {
	const char *desc;
	const char *s;
	u32 len;		/* 0: strlen(s) */
	int ret;
	s64 t;
};

static const struct parse_case parse_cases[] = {
	{ "IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", .t = 784111777 },
	{ "RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", .t = 784111777 },
	{ "asctime", "Sun Nov  6 08:49:37 1994", .t = 784111777 },
	{ "epoch", "Thu, 01 Jan 1970 00:00:00 GMT", .t = 0 },
	{ "leap day 2000", "Tue, 29 Feb 2000 00:00:00 GMT", .t = 951782400 },
	{ "leap day 2024", "Thu, 29 Feb 2024 12:00:00 GMT", .t = 1709208000 },
	{ "past 2038", "Tue, 19 Jan 2038 03:14:08 GMT", .t = 2147483648LL },
	{ "year 2100", "Fri, 01 Jan 2100 00:00:00 GMT", .t = 4102444800LL },
	{ "year 9999", "Fri, 31 Dec 9999 23:59:59 GMT", .t = 253402300799LL },
	{ "RFC 850 in the 2000s", "Wednesday, 09-Nov-05 00:00:00 GMT",
	  .t = 1131494400 },
	{ "asctime two-digit day", "Thu Feb 29 12:00:00 2024",
	  .t = 1709208000 },
	{ "empty", "", .ret = -EINVAL },
	{ "garbage", "garbage", .ret = -EINVAL },
	{ "trailing space", "Sun, 06 Nov 1994 08:49:37 GMT ", .ret = -EINVAL },
	{ "trailing junk", "Sun, 06 Nov 1994 08:49:37 GMTX", .ret = -EINVAL },
	{ "trailing NUL", S("Sun, 06 Nov 1994 08:49:37 GMT\0"), .ret = -EINVAL },
	{ "NUL inside", S("Sun, 06 Nov 1994 08:49:37 G\0T"), .ret = -EINVAL },
	{ "UTC zone", "Sun, 06 Nov 1994 08:49:37 UTC", .ret = -EINVAL },
	{ "no zone", "Sun, 06 Nov 1994 08:49:37", .ret = -EINVAL },
	{ "day 32", "Sun, 32 Nov 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "day 00", "Sun, 00 Nov 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "day 99", "Sun, 99 Nov 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "bad month", "Sun, 06 Foo 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "hour 24", "Sun, 06 Nov 1994 24:00:00 GMT", .ret = -EINVAL },
	{ "minute 60", "Sun, 06 Nov 1994 08:60:37 GMT", .ret = -EINVAL },
	{ "second 99", "Sun, 06 Nov 1994 08:49:99 GMT", .ret = -EINVAL },
	{ "year 1969", "Wed, 31 Dec 1969 23:59:59 GMT", .ret = -EINVAL },
	{ "year 10000", "Sat, 01 Jan 10000 00:00:00 GMT", .ret = -EINVAL },
	{ "no comma", "Sun 06 Nov 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "two-digit year in IMF", "Sun, 06 Nov 94 08:49:37 GMT", .ret = -EINVAL },
	{ "one-digit hour", "Sun, 06 Nov 1994 8:49:37 GMT", .ret = -EINVAL },
	{ "letter in day", "Sun, 0x Nov 1994 08:49:37 GMT", .ret = -EINVAL },
	{ "letter in year", "Sun, 06 Nov 19x4 08:49:37 GMT", .ret = -EINVAL },
	{ "sign in time", "Sun, 06 Nov 1994 +8:49:37 GMT", .ret = -EINVAL },
	{ "colon missing", "Sun, 06 Nov 1994 08:4937 GMT", .ret = -EINVAL },
	{ "30 Feb", "Wed, 30 Feb 2000 00:00:00 GMT", .ret = -EINVAL },
	{ "29 Feb of a common year", "Wed, 29 Feb 1995 00:00:00 GMT",
	  .ret = -EINVAL },
	{ "29 Feb 2100", "Mon, 29 Feb 2100 00:00:00 GMT", .ret = -EINVAL },
	{ "31 Apr", "Thu, 31 Apr 2024 00:00:00 GMT", .ret = -EINVAL },
	{ "RFC 850 without zone", "Sunday, 06-Nov-94 08:49:37", .ret = -EINVAL },
	{ "RFC 850 bad month", "Sunday, 06-Xyz-94 08:49:37 GMT", .ret = -EINVAL },
	{ "RFC 850 bad day", "Sunday, 36-Nov-94 08:49:37 GMT", .ret = -EINVAL },
	{ "RFC 850 bad hour", "Sunday, 06-Nov-94 28:49:37 GMT", .ret = -EINVAL },
	{ "RFC 850 trailing junk", "Sunday, 06-Nov-94 08:49:37 GMT!",
	  .ret = -EINVAL },
	{ "asctime trailing space", "Sun Nov  6 08:49:37 1994 ", .ret = -EINVAL },
	{ "asctime day 32", "Sun Nov 32 08:49:37 1994", .ret = -EINVAL },
	{ "asctime hour 25", "Sun Nov  6 25:49:37 1994", .ret = -EINVAL },
	{ "asctime two-digit year", "Sun Nov  6 08:49:37 94", .ret = -EINVAL },
	{ "asctime bad month", "Sun Now  6 08:49:37 1994", .ret = -EINVAL },
};

START_TEST(test_parse)
{
	const struct parse_case *c = &parse_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->s);
	char *s = guarded_copy(c->s, len);
	s64 t = -1;
	int ret;

	KS_ROW(c->desc);
	ret = ks_http_date_parse(s, len, &t);
	ck_assert_msg(ret == c->ret, "%s: returned %d, want %d", c->desc, ret,
		      c->ret);
	if (ret == 0)
		ck_assert_msg(t == c->t, "%s: t %lld, want %lld", c->desc,
			      (long long)t, (long long)c->t);
	guarded_free(s, len);
}
END_TEST

/* every proper prefix of a valid date is invalid (guard right after it) */
START_TEST(test_parse_prefixes)
{
	const struct parse_case *c = &parse_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->s), n;

	KS_ROW(c->desc);
	if (c->ret != 0)
		return;
	for (n = 0; n < len; n++) {
		char *s = guarded_copy(c->s, n);
		s64 t;
		int ret = ks_http_date_parse(s, n, &t);

		guarded_free(s, n);
		ck_assert_msg(ret == -EINVAL, "%s: prefix of %u gave %d",
			      c->desc, n, ret);
	}
}
END_TEST

static void libc_format(s64 t, const char *fmt, char *out, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	ck_assert(gmtime_r(&tt, &tm) != NULL);
	ck_assert(strftime(out, cap, fmt, &tm) > 0);
}

static void check_parse(const char *s, s64 want, const char *what)
{
	u32 len = (u32)strlen(s);
	char *g = guarded_copy(s, len);
	s64 t = -1;
	int ret = ks_http_date_parse(g, len, &t);

	guarded_free(g, len);
	ck_assert_msg(ret == 0 && t == want, "%s '%s': ret %d, t %lld, want %lld",
		      what, s, ret, (long long)t, (long long)want);
}

/* some second of every day, 1970..2399: format, civil time and parse */
START_TEST(test_roundtrip_days)
{
	s64 end = 13569465600LL;	/* 2400-01-01 */
	s64 day;

	for (day = 0; day * 86400 < end; day++) {
		s64 t = day * 86400 + (day * 7919) % 86400;
		time_t tt = (time_t)t;
		char want[64], got[KS_HTTP_DATE_LEN + 1];
		struct ks_tm km;
		struct tm tm;

		ck_assert(gmtime_r(&tt, &tm) != NULL);
		ks_civil_from_unix(t, &km);
		ck_assert_msg(km.year == tm.tm_year + 1900 &&
			      km.mon == tm.tm_mon + 1 && km.mday == tm.tm_mday &&
			      km.hour == tm.tm_hour && km.min == tm.tm_min &&
			      km.sec == tm.tm_sec && km.wday == tm.tm_wday,
			      "civil time of %lld: %d-%d-%d %d:%d:%d wday %d",
			      (long long)t, km.year, km.mon, km.mday, km.hour,
			      km.min, km.sec, km.wday);

		libc_format(t, "%a, %d %b %Y %H:%M:%S GMT", want, sizeof(want));
		ks_http_date_format(t, got);
		got[KS_HTTP_DATE_LEN] = '\0';
		ck_assert_msg(strcmp(got, want) == 0, "format %lld: '%s', want '%s'",
			      (long long)t, got, want);
		check_parse(got, t, "IMF-fixdate");

		libc_format(t, "%a %b %e %H:%M:%S %Y", want, sizeof(want));
		check_parse(want, t, "asctime");

		/* two-digit years: only where no pivot rule can disagree */
		if (km.year >= 1980 && km.year <= 2049) {
			libc_format(t, "%A, %d-%b-%y %H:%M:%S GMT", want,
				    sizeof(want));
			check_parse(want, t, "RFC 850");
		}
	}
}
END_TEST

START_TEST(test_names)
{
	static const char *mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	static const char *day[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri",
				     "Sat" };
	int i;

	for (i = 0; i < 12; i++)
		ck_assert_str_eq(ks_month_names[i], mon[i]);
	for (i = 0; i < 7; i++)
		ck_assert_str_eq(ks_day_names[i], day[i]);
}
END_TEST

/* robustness: mutated valid dates never crash and never give odd times */
START_TEST(test_parse_fuzz)
{
	u64 rng = 0xdeadbeefcafef00dull;
	u32 iter, nvalid = 0;

	while (parse_cases[nvalid].ret == 0)	/* the valid rows come first */
		nvalid++;

	for (iter = 0; iter < 20000; iter++) {
		const struct parse_case *c = &parse_cases[iter % nvalid];
		char tmp[64];
		u32 len = (u32)strlen(c->s), k;
		char *s;
		s64 t;
		int ret;

		memcpy(tmp, c->s, len);
		for (k = 0; k < 1 + xorshift64(&rng) % 3; k++) {
			u32 pos = (u32)(xorshift64(&rng) % len);

			if (xorshift64(&rng) & 1)
				tmp[pos] = (char)xorshift64(&rng);
			else
				tmp[pos] = "0123456789 :,-"[xorshift64(&rng) % 14];
		}
		s = guarded_copy(tmp, len);
		ret = ks_http_date_parse(s, len, &t);
		guarded_free(s, len);
		ck_assert_msg(ret == 0 || ret == -EINVAL, "iter %u: %d", iter,
			      ret);
		if (ret == 0)
			ck_assert_msg(t >= 0 && t <= 253402300799LL,
				      "iter %u: t %lld", iter, (long long)t);
	}
}
END_TEST

static Suite *http_date_suite(void)
{
	Suite *s = suite_create("http_date");
	TCase *tc = tcase_create("table");

	KS_TABLE_TEST(tc, test_format, fmt_cases);
	KS_TABLE_TEST(tc, test_parse, parse_cases);
	KS_TABLE_TEST(tc, test_parse_prefixes, parse_cases);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);

	tc = tcase_create("roundtrip");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, test_roundtrip_days);
	tcase_add_test(tc, test_parse_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(http_date_suite());
}

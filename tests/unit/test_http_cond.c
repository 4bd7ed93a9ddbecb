// SPDX-License-Identifier: GPL-2.0
/*
 * test_http_cond.c - tests for kserver/http_cond.c.
 *
 * Requests are real request text run through ks_http_parse(), so the
 * parser's view of the fields is what the conditionals see.
 */
#include <stdint.h>

#include "ks_test.h"
#include "http_cond.h"

#define MTIME 1600000000	/* 0x5f5e1000: Sun, 13 Sep 2020 12:26:40 GMT */
#define ETAG "\"5f5e1000-d\""	/* size 13 */
#define D_EQ "Sun, 13 Sep 2020 12:26:40 GMT"
#define D_OLD "Sun, 13 Sep 2020 12:26:39 GMT"
#define D_NEW "Sun, 13 Sep 2020 12:26:41 GMT"

/* a parsed request; buf ends right before a guard page */
struct req {
	struct ks_request r;
	char *buf;
	u32 len;
};

static void req_parse(struct req *q, const char *method, const char *hdrs)
{
	char tmp[2048];
	int n, ret;

	n = snprintf(tmp, sizeof(tmp), "%s / HTTP/1.1\r\nHost: a\r\n%s\r\n",
		     method ? method : "GET", hdrs);
	ck_assert(n > 0 && n < (int)sizeof(tmp));
	q->len = (u32)n;
	q->buf = guarded_copy(tmp, q->len);
	ret = ks_http_parse(q->buf, q->len, &q->r);
	ck_assert_msg(ret == 0, "parse of '%s' gave %d", tmp, ret);
}

static void req_free(struct req *q)
{
	guarded_free(q->buf, q->len);
}

struct etag_case {
	const char *desc;
	s64 mtime;
	u64 size;
	const char *want;
};

static const struct etag_case etag_cases[] = {
	{ "nginx example", 0x5f5e1000, 13, "\"5f5e1000-d\"" },
	{ "zeros", 0, 0, "\"0-0\"" },
	{ "year 9999", 253402300799LL, 1u << 20, "\"3afff4417f-100000\"" },
	{ "largest", INT64_MAX, UINT64_MAX,
	  "\"7fffffffffffffff-ffffffffffffffff\"" },
};

START_TEST(test_etag)
{
	const struct etag_case *c = &etag_cases[_i];
	char *out = guarded_alloc(KS_ETAG_MAX);
	u32 n;

	KS_ROW(c->desc);
	n = ks_etag_format(c->mtime, c->size, out);
	ck_assert_msg(n == strlen(c->want) && memcmp(out, c->want, n) == 0,
		      "%s: got '%.*s' (%u)", c->desc, (int)n, out, n);
	guarded_free(out, KS_ETAG_MAX);
}
END_TEST

struct cond_case {
	const char *desc;
	const char *hdrs;
	const char *method;	/* NULL: GET */
	int want;
};

static const struct cond_case cond_cases[] = {
	{ "no conditions", "", NULL, 0 },
	{ "INM exact", "If-None-Match: " ETAG "\r\n", NULL, 304 },
	{ "INM exact on HEAD", "If-None-Match: " ETAG "\r\n", "HEAD", 304 },
	{ "INM mismatch", "If-None-Match: \"5f5e1000-e\"\r\n", NULL, 0 },
	{ "INM list", "If-None-Match: \"a\", " ETAG "\r\n", NULL, 304 },
	{ "INM list no spaces", "If-None-Match: \"a\"," ETAG ",\"b\"\r\n", NULL,
	  304 },
	{ "INM list with tabs", "If-None-Match: \"a\" ,\t" ETAG "\r\n", NULL,
	  304 },
	{ "INM list without it", "If-None-Match: \"a\", \"b\"\r\n", NULL, 0 },
	{ "INM star", "If-None-Match: *\r\n", NULL, 304 },
	{ "INM weak", "If-None-Match: W/" ETAG "\r\n", NULL, 304 },
	{ "INM weak in a list", "If-None-Match: W/\"x\", W/" ETAG "\r\n", NULL,
	  304 },
	{ "INM longer tag", "If-None-Match: \"5f5e1000-d0\"\r\n", NULL, 0 },
	{ "INM shorter tag", "If-None-Match: \"5f5e1000-\"\r\n", NULL, 0 },
	{ "INM unquoted", "If-None-Match: 5f5e1000-d\r\n", NULL, 0 },
	{ "INM over IMS: mismatch, IMS newer", "If-None-Match: \"x\"\r\n"
	  "If-Modified-Since: " D_NEW "\r\n", NULL, 0 },
	{ "INM over IMS: match, IMS older", "If-None-Match: " ETAG "\r\n"
	  "If-Modified-Since: " D_OLD "\r\n", NULL, 304 },
	{ "IMS equal", "If-Modified-Since: " D_EQ "\r\n", NULL, 304 },
	{ "IMS equal on HEAD", "If-Modified-Since: " D_EQ "\r\n", "HEAD", 304 },
	{ "IMS newer", "If-Modified-Since: " D_NEW "\r\n", NULL, 304 },
	{ "IMS older", "If-Modified-Since: " D_OLD "\r\n", NULL, 0 },
	{ "IMS invalid", "If-Modified-Since: yesterday\r\n", NULL, 0 },
	{ "IMS RFC 850", "If-Modified-Since: Sunday, 13-Sep-20 12:26:40 GMT\r\n",
	  NULL, 304 },
	{ "IMS asctime", "If-Modified-Since: Sun Sep 13 12:26:40 2020\r\n",
	  NULL, 304 },
	{ "IM match", "If-Match: " ETAG "\r\n", NULL, 0 },
	{ "IM mismatch", "If-Match: \"other\"\r\n", NULL, 412 },
	{ "IM star", "If-Match: *\r\n", NULL, 0 },
	{ "IM list", "If-Match: \"x\", " ETAG "\r\n", NULL, 0 },
	{ "IM weak never matches", "If-Match: W/" ETAG "\r\n", NULL, 412 },
	{ "IUS older", "If-Unmodified-Since: " D_OLD "\r\n", NULL, 412 },
	{ "IUS equal", "If-Unmodified-Since: " D_EQ "\r\n", NULL, 0 },
	{ "IUS newer", "If-Unmodified-Since: " D_NEW "\r\n", NULL, 0 },
	{ "IUS invalid", "If-Unmodified-Since: soon\r\n", NULL, 0 },
	{ "IM over IUS", "If-Match: " ETAG "\r\nIf-Unmodified-Since: " D_OLD
	  "\r\n", NULL, 0 },
	{ "IM before INM", "If-Match: \"other\"\r\nIf-None-Match: " ETAG
	  "\r\n", NULL, 412 },
	{ "IUS before INM", "If-Unmodified-Since: " D_OLD "\r\n"
	  "If-None-Match: " ETAG "\r\n", NULL, 412 },
	{ "IUS passes, then INM", "If-Unmodified-Since: " D_NEW "\r\n"
	  "If-None-Match: " ETAG "\r\n", NULL, 304 },
	{ "IM passes, then IMS", "If-Match: *\r\nIf-Modified-Since: " D_EQ
	  "\r\n", NULL, 304 },
};

START_TEST(test_cond)
{
	const struct cond_case *c = &cond_cases[_i];
	struct req q;
	int ret;

	KS_ROW(c->desc);
	req_parse(&q, c->method, c->hdrs);
	ret = ks_cond_eval(&q.r, ETAG, (u32)strlen(ETAG), MTIME);
	ck_assert_msg(ret == c->want, "%s: got %d, want %d", c->desc, ret,
		      c->want);
	req_free(&q);
}
END_TEST

#define NONE KS_RANGE_NONE
#define OK KS_RANGE_OK
#define UNSAT KS_RANGE_UNSATISFIABLE
/* the expected answer of a row: result, first, last */
#define WHOLE NONE, 0, 0
#define R416 UNSAT, 0, 0
#define PART(a, b) OK, a, b

struct range_case {
	const char *desc;
	const char *hdrs;
	u64 size;
	enum ks_range_result want;
	u64 first, last;
};

#define R(v) "Range: " v "\r\n"

static const struct range_case range_cases[] = {
	{ "no Range", "", 10, WHOLE },
	{ "first bytes", R("bytes=0-4"), 10, PART(0, 4) },
	{ "one byte", R("bytes=0-0"), 10, PART(0, 0) },
	{ "last byte", R("bytes=9-9"), 10, PART(9, 9) },
	{ "open end", R("bytes=5-"), 10, PART(5, 9) },
	{ "from zero", R("bytes=0-"), 10, PART(0, 9) },
	{ "suffix", R("bytes=-3"), 10, PART(7, 9) },
	{ "suffix of the size", R("bytes=-10"), 10, PART(0, 9) },
	{ "suffix longer than the size", R("bytes=-20"), 10, PART(0, 9) },
	{ "suffix zero", R("bytes=-0"), 10, R416 },
	{ "first at the size", R("bytes=10-"), 10, R416 },
	{ "first past the size", R("bytes=10-20"), 10, R416 },
	{ "end clamps", R("bytes=0-100"), 10, PART(0, 9) },
	{ "end at the size clamps", R("bytes=3-10"), 10, PART(3, 9) },
	{ "huge end clamps", R("bytes=0-99999999999999999999999"), 10,
	  PART(0, 9) },
	{ "u64 max end clamps", R("bytes=2-18446744073709551615"), 10,
	  PART(2, 9) },
	{ "huge first", R("bytes=99999999999999999999999-"), 10, R416 },
	{ "huge first, small end (reversed)",
	  R("bytes=99999999999999999999999-5"), 10, WHOLE },
	{ "huge suffix", R("bytes=-99999999999999999999999"), 10, PART(0, 9) },
	{ "size 0, open", R("bytes=0-"), 0, R416 },
	{ "size 0, suffix", R("bytes=-5"), 0, R416 },
	{ "size 0, closed", R("bytes=0-0"), 0, R416 },
	{ "large file suffix", R("bytes=-1"), 1ull << 40,
	  PART((1ull << 40) - 1, (1ull << 40) - 1) },
	{ "large file last byte", R("bytes=1099511627775-"), 1ull << 40,
	  PART((1ull << 40) - 1, (1ull << 40) - 1) },
	{ "multiple ranges", R("bytes=0-1,3-4"), 10, WHOLE },
	{ "multiple ranges spaced", R("bytes=0-1, 3-4"), 10, WHOLE },
	{ "overlapping ranges", R("bytes=0-5,3-8"), 10, WHOLE },
	/* range-set is a list: blanks around members, empty members */
	{ "blank after =", R("bytes= 0-4"), 10, PART(0, 4) },
	{ "trailing comma", R("bytes=0-4,"), 10, PART(0, 4) },
	{ "leading comma", R("bytes=,2-3"), 10, PART(2, 3) },
	{ "empty members and blanks", R("bytes=, ,\t1-2 ,\t"), 10,
	  PART(1, 2) },
	{ "suffix with blanks", R("bytes= -3 "), 10, PART(7, 9) },
	{ "blank inside a member", R("bytes=0 - 4"), 10, WHOLE },
	{ "commas only", R("bytes=,,"), 10, WHOLE },
	{ "two members around blanks", R("bytes=0-1 , 3-4"), 10, WHOLE },
	{ "reversed", R("bytes=5-4"), 10, WHOLE },
	{ "wrong unit", R("items=0-4"), 10, WHOLE },
	{ "no equals", R("bytes 0-4"), 10, WHOLE },
	{ "empty set", R("bytes="), 10, WHOLE },
	{ "dash only", R("bytes=-"), 10, WHOLE },
	{ "letters", R("bytes=a-b"), 10, WHOLE },
	{ "trailing junk", R("bytes=0-4x"), 10, WHOLE },
	{ "hex", R("bytes=0x1-4"), 10, WHOLE },
	{ "double dash", R("bytes=--1"), 10, WHOLE },
	{ "negative end", R("bytes=1--2"), 10, WHOLE },
	{ "plus sign", R("bytes=+1-2"), 10, WHOLE },
	{ "no dash", R("bytes=5"), 10, WHOLE },
	{ "If-Range strong match", R("bytes=0-4") "If-Range: " ETAG "\r\n", 10,
	  PART(0, 4) },
	{ "If-Range mismatch", R("bytes=0-4") "If-Range: \"other\"\r\n", 10,
	  WHOLE },
	{ "If-Range weak", R("bytes=0-4") "If-Range: W/" ETAG "\r\n", 10, WHOLE },
	{ "If-Range date equal", R("bytes=0-4") "If-Range: " D_EQ "\r\n", 10,
	  PART(0, 4) },
	{ "If-Range date older", R("bytes=0-4") "If-Range: " D_OLD "\r\n", 10,
	  WHOLE },
	{ "If-Range date newer", R("bytes=0-4") "If-Range: " D_NEW "\r\n", 10,
	  WHOLE },
	{ "If-Range garbage", R("bytes=0-4") "If-Range: garbage\r\n", 10, WHOLE },
	{ "If-Range alone", "If-Range: " ETAG "\r\n", 10, WHOLE },
	{ "If-Range failed, unsatisfiable range", R("bytes=50-")
	  "If-Range: \"other\"\r\n", 10, WHOLE },
};

START_TEST(test_range)
{
	const struct range_case *c = &range_cases[_i];
	u64 first = 0xaaaaaaaaaaaaaaaaull, last = first;
	enum ks_range_result ret;
	struct req q;

	KS_ROW(c->desc);
	req_parse(&q, NULL, c->hdrs);
	ret = ks_range_eval(&q.r, c->size, ETAG, (u32)strlen(ETAG), MTIME,
			    &first, &last);
	ck_assert_msg(ret == c->want, "%s: got %d, want %d", c->desc, ret,
		      c->want);
	if (ret == OK)
		ck_assert_msg(first == c->first && last == c->last,
			      "%s: [%llu, %llu], want [%llu, %llu]", c->desc,
			      (unsigned long long)first,
			      (unsigned long long)last,
			      (unsigned long long)c->first,
			      (unsigned long long)c->last);
	req_free(&q);
}
END_TEST

/*
 * No Range and no preconditions: every field NULL. Found by fuzz_parse:
 * ks_range_eval() computed NULL + 0 (undefined; clang's UBSan reports it,
 * gcc's does not: make -C tests/unit CC=clang shows it).
 */
START_TEST(test_range_absent)
{
	struct ks_request r;
	u64 first = 1, last = 2;

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(ks_range_eval(&r, 10, ETAG, (u32)strlen(ETAG), MTIME,
				       &first, &last), NONE);
	ck_assert_int_eq(ks_cond_eval(&r, ETAG, (u32)strlen(ETAG), MTIME), 0);
	ck_assert(first == 1 && last == 2);
}
END_TEST

/* robustness: mutated Range values; an OK range always lies in the file */
START_TEST(test_range_fuzz)
{
	static const char alpha[] = "bytes=0123456789-,- ";
	u64 rng = 0xfeedfacecafebeefull;
	u32 iter;

	for (iter = 0; iter < 20000; iter++) {
		char val[40], hdr[64];
		u64 size = xorshift64(&rng) % 4 == 0 ? 0 : xorshift64(&rng) % 100;
		u64 first, last;
		u32 n = (u32)(xorshift64(&rng) % 20), i;
		enum ks_range_result ret;
		struct req q;

		strcpy(val, "bytes=");
		for (i = 6; i < 6 + n; i++)
			val[i] = alpha[6 + xorshift64(&rng) % (sizeof(alpha) - 7)];
		val[i] = '\0';
		snprintf(hdr, sizeof(hdr), "Range: %s\r\n", val);
		req_parse(&q, NULL, hdr);
		ret = ks_range_eval(&q.r, size, ETAG, (u32)strlen(ETAG), MTIME,
				    &first, &last);
		ck_assert_msg(ret == NONE || ret == OK || ret == UNSAT,
			      "iter %u: %d", iter, ret);
		if (ret == OK)
			ck_assert_msg(first <= last && last < size,
				      "'%s' size %llu: [%llu, %llu]", val,
				      (unsigned long long)size,
				      (unsigned long long)first,
				      (unsigned long long)last);
		req_free(&q);
	}
}
END_TEST

static Suite *http_cond_suite(void)
{
	Suite *s = suite_create("http_cond");
	TCase *tc = tcase_create("table");

	KS_TABLE_TEST(tc, test_etag, etag_cases);
	KS_TABLE_TEST(tc, test_cond, cond_cases);
	KS_TABLE_TEST(tc, test_range, range_cases);
	tcase_add_test(tc, test_range_absent);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_range_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(http_cond_suite());
}

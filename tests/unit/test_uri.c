// SPDX-License-Identifier: GPL-2.0
/*
 * test_uri.c - tests for kserver/uri.c.
 *
 * Both the raw path and the output buffer end right before a guard page, so
 * an overread of the input or an overrun of cap faults.
 */
#include "ks_test.h"
#include "uri.h"

/* a literal that holds a NUL: the input and its length */
#define S(lit) lit, sizeof(lit) - 1

struct norm_case {
	const char *desc;
	const char *raw;
	u32 len;		/* 0: strlen(raw) */
	int ret;		/* output length or -errno */
	const char *out;	/* expected output when ret >= 0 */
	u32 cap;		/* 0: 4096 */
};

#define OUT(s) .ret = (int)(sizeof(s) - 1), .out = s

static const struct norm_case norm_cases[] = {
	{ "root", "/", OUT("/") },
	{ "plain", "/index.html", OUT("/index.html") },
	{ "dot segment", "/a/./b", OUT("/a/b") },
	{ "dotdot segment", "/a/../b", OUT("/b") },
	{ "repeated slashes", "//a///b", OUT("/a/b") },
	{ "only slashes", "///", OUT("/") },
	{ "trailing slash kept", "/a/b/", OUT("/a/b/") },
	{ "double trailing slash", "/a//", OUT("/a/") },
	{ "final dot", "/a/b/.", OUT("/a/b/") },
	{ "final dotdot", "/a/b/..", OUT("/a/") },
	{ "dotdot to root", "/a/..", OUT("/") },
	{ "dot to root", "/.", OUT("/") },
	{ "dot slash", "/./", OUT("/") },
	{ "dot then slash", "/a/./", OUT("/a/") },
	{ "two dotdots to root", "/a/b/../../", OUT("/") },
	{ "mixed", "/a/b/../c/./d/", OUT("/a/c/d/") },
	{ "dotdot then more", "/a/b/../../c", OUT("/c") },
	{ "three dots is a name", "/a/...", OUT("/a/...") },
	{ "dotdot prefix is a name", "/..a", OUT("/..a") },
	{ "dotdot suffix is a name", "/a..", OUT("/a..") },
	{ "dot prefix is a name", "/.hidden", OUT("/.hidden") },
	{ "dot inside", "/a.b/c", OUT("/a.b/c") },
	{ "climb from root", "/..", .ret = -EINVAL },
	{ "climb from root, trailing slash", "/../", .ret = -EINVAL },
	{ "climb then name", "/../x", .ret = -EINVAL },
	{ "climb twice", "/a/../..", .ret = -EINVAL },
	{ "climb below after name", "/a/../../b", .ret = -EINVAL },
	{ "climb via slashes", "//..//x", .ret = -EINVAL },
	{ "escaped dotdot", "/%2e%2e/x", .ret = -EINVAL },
	{ "escaped dotdot upper", "/%2E%2E/x", .ret = -EINVAL },
	{ "half escaped dotdot", "/.%2e/x", .ret = -EINVAL },
	{ "escaped dot", "/a/%2e/b", OUT("/a/b") },
	{ "escaped dotdot inside", "/a/b/%2e%2e/c", OUT("/a/c") },
	{ "escaped slash", "/a%2fb", OUT("/a/b") },
	{ "escaped slash upper", "/a%2Fb", OUT("/a/b") },
	{ "escaped slashes climb", "/a%2f..%2f..%2fetc", .ret = -EINVAL },
	{ "escaped slash and dotdot", "/a%2f..%2fb", OUT("/b") },
	{ "escape A", "/%41", OUT("/A") },
	{ "lowercase hex", "/%7e", OUT("/~") },
	{ "uppercase hex", "/%7E", OUT("/~") },
	{ "escaped space", "/a%20b", OUT("/a b") },
	{ "utf-8 escapes", "/%C3%A9", OUT("/\xc3\xa9") },
	{ "high byte", "/%ff", OUT("/\xff") },
	{ "plus is not space", "/a+b", OUT("/a+b") },
	{ "escaped percent", "/100%25", OUT("/100%") },
	{ "escaped percent not decoded twice", "/%252e%252e/x",
	  OUT("/%2e%2e/x") },
	{ "escaped NUL", "/%00", .ret = -EINVAL },
	{ "escaped NUL inside", "/a%00b", .ret = -EINVAL },
	{ "raw NUL", S("/a\0b"), .ret = -EINVAL },
	{ "bad escape zz", "/%zz", .ret = -EINVAL },
	{ "bad escape g0", "/%g0", .ret = -EINVAL },
	{ "bad escape 0g", "/%0g", .ret = -EINVAL },
	{ "short escape", "/%4", .ret = -EINVAL },
	{ "lone percent", "/%", .ret = -EINVAL },
	{ "percent in the middle", "/a%/b", .ret = -EINVAL },
	{ "cap fits exactly", "/abc", OUT("/abc"), .cap = 5 },
	{ "cap one short", "/abc", .ret = -ENAMETOOLONG, .cap = 4 },
	{ "root, cap 2", "/", OUT("/"), .cap = 2 },
	{ "root, cap 1", "/", .ret = -ENAMETOOLONG, .cap = 1 },
	{ "cap 0", "/", .ret = -ENAMETOOLONG, .cap = 0xffffffff },
	{ "decoded fits", "/%41%42", OUT("/AB"), .cap = 4 },
	{ "decoded one short", "/%41%42", .ret = -ENAMETOOLONG, .cap = 3 },
};

START_TEST(test_normalize)
{
	const struct norm_case *c = &norm_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->raw);
	u32 cap = c->cap == 0xffffffff ? 0 : c->cap ? c->cap : 4096;
	char *raw = guarded_copy(c->raw, len);
	char *out = guarded_alloc(cap);
	int ret;

	KS_ROW(c->desc);
	ret = ks_uri_normalize(raw, len, out, cap);
	ck_assert_msg(ret == c->ret, "%s: returned %d, want %d", c->desc, ret,
		      c->ret);
	if (ret >= 0) {
		ck_assert_msg(memcmp(out, c->out, (size_t)ret) == 0,
			      "%s: got '%.*s', want '%s'", c->desc, ret, out,
			      c->out);
		ck_assert_msg(out[ret] == '\0', "%s: not NUL-terminated",
			      c->desc);
	}
	guarded_free(out, cap);
	guarded_free(raw, len);
}
END_TEST

/* the output of a normalisation normalises to itself */
START_TEST(test_normalize_idempotent)
{
	const struct norm_case *c = &norm_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->raw);
	char out1[4096], out2[4096];
	int r1, r2;

	KS_ROW(c->desc);
	r1 = ks_uri_normalize(c->raw, len, out1, sizeof(out1));
	if (r1 < 0 || strchr(out1, '%'))
		return;
	r2 = ks_uri_normalize(out1, (u32)r1, out2, sizeof(out2));
	ck_assert_msg(r2 == r1 && memcmp(out1, out2, (size_t)r1 + 1) == 0,
		      "%s: '%s' became '%s'", c->desc, out1, out2);
}
END_TEST

/* a long path: cap boundary at its exact length */
START_TEST(test_normalize_long)
{
	static char raw[8192];
	u32 len = sizeof(raw), i;
	char *in, *out;
	int ret;

	for (i = 0; i < len; i++)
		raw[i] = (i % 8 == 0) ? '/' : 'a' + (char)(i % 26);
	in = guarded_copy(raw, len);
	out = guarded_alloc(len + 1);
	ret = ks_uri_normalize(in, len, out, len + 1);
	ck_assert_int_eq(ret, (int)len);
	ck_assert(memcmp(out, raw, len) == 0 && out[len] == '\0');
	guarded_free(out, len + 1);
	out = guarded_alloc(len);
	ret = ks_uri_normalize(in, len, out, len);
	ck_assert_int_eq(ret, -ENAMETOOLONG);
	guarded_free(out, len);
	guarded_free(in, len);
}
END_TEST

/* robustness: random bytes from a small alphabet; output always sound */
START_TEST(test_normalize_fuzz)
{
	static const char alpha[] = "/./%2e%2E%2f%00%4a.%zz..//";
	u64 rng = 0x1234567887654321ull;
	char tmp[64], out[128];
	u32 iter, len, i;

	for (iter = 0; iter < 20000; iter++) {
		char *raw;
		int ret;

		len = 1 + (u32)(xorshift64(&rng) % sizeof(tmp));
		tmp[0] = '/';
		for (i = 1; i < len; i++)
			tmp[i] = alpha[xorshift64(&rng) % (sizeof(alpha) - 1)];
		raw = guarded_copy(tmp, len);
		ret = ks_uri_normalize(raw, len, out, sizeof(out));
		guarded_free(raw, len);
		ck_assert_msg(ret == -EINVAL || ret == -ENAMETOOLONG ||
			      (ret > 0 && ret < (int)sizeof(out)),
			      "iter %u: %d", iter, ret);
		if (ret < 0)
			continue;
		ck_assert_msg(out[0] == '/' && out[ret] == '\0', "iter %u", iter);
		ck_assert_msg(!strstr(out, "//") && !strstr(out, "/./") &&
			      !strstr(out, "/../"), "iter %u: '%s' from '%.*s'",
			      iter, out, (int)len, tmp);
		ck_assert_msg(memchr(out, '\0', (size_t)ret) == NULL,
			      "iter %u: NUL inside", iter);
		ck_assert_msg(!(ret >= 2 && strcmp(out + ret - 2, "/.") == 0) &&
			      !(ret >= 3 && strcmp(out + ret - 3, "/..") == 0),
			      "iter %u: '%s' ends in a dot segment", iter, out);
	}
}
END_TEST

struct hidden_case {
	const char *desc;
	const char *path;
	u32 len;		/* 0: strlen(path) */
	bool want;
};

static const struct hidden_case hidden_cases[] = {
	{ "dot segment in the middle", "/a/.b/c", .want = true },
	{ "dot inside a name", "/a/b.c", .want = false },
	{ "dot file at root", "/.x", .want = true },
	{ "root", "/", .want = false },
	{ "dot file last", "/a/b/.c", .want = true },
	{ "dot at the end of a name", "/a./b", .want = false },
	{ "dot directory", "/.git/", .want = true },
	{ "well-known", "/.well-known/x", .want = true },
	{ "len stops before the dot", "/a/.b", .len = 3, .want = false },
	{ "len stops right after the dot", "/a/.b", .len = 4, .want = true },
	{ "plain", "/index.html", .want = false },
};

START_TEST(test_hidden)
{
	const struct hidden_case *c = &hidden_cases[_i];
	u32 len = c->len ? c->len : (u32)strlen(c->path);
	char *p = guarded_copy(c->path, len);

	KS_ROW(c->desc);
	ck_assert_msg(ks_path_is_hidden(p, len) == c->want, "%s", c->desc);
	guarded_free(p, len);
}
END_TEST

static Suite *uri_suite(void)
{
	Suite *s = suite_create("uri");
	TCase *tc = tcase_create("table");

	KS_TABLE_TEST(tc, test_normalize, norm_cases);
	KS_TABLE_TEST(tc, test_normalize_idempotent, norm_cases);
	KS_TABLE_TEST(tc, test_hidden, hidden_cases);
	tcase_add_test(tc, test_normalize_long);
	suite_add_tcase(s, tc);

	tc = tcase_create("robustness");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_normalize_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(uri_suite());
}

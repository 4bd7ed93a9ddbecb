// SPDX-License-Identifier: GPL-2.0
/*
 * test_unsent.c - tests for ks_unsent_earned() (kserver/handler.h): the
 * unsent bytes a connection's socket may queue, earned by what its client
 * took.
 */
#include "ks_test.h"
#include "handler.h"

#define K (1u << 10)
#define M (1u << 20)

struct unsent_case {
	u32 cur;
	u64 taken;
	u32 want;
};

/* KS_UNSENT_EARN 4: doubled while at most twice what the client took */
static const struct unsent_case unsent_cases[] = {
	{ KS_UNSENT_MIN, 0, KS_UNSENT_MIN },
	{ KS_UNSENT_MIN, 64 * K - 1, KS_UNSENT_MIN },	/* not yet half */
	{ KS_UNSENT_MIN, 64 * K, 256 * K },
	{ KS_UNSENT_MIN, 128 * K - 1, 256 * K },
	{ KS_UNSENT_MIN, 128 * K, 512 * K },
	{ KS_UNSENT_MIN, 256 * K, 1 * M },	/* one big take: several steps */
	{ KS_UNSENT_MIN, 1 * M - 1, 2 * M },
	{ KS_UNSENT_MIN, 1 * M, KS_UNSENT_MAX },
	{ KS_UNSENT_MIN, ~0ull, KS_UNSENT_MAX },	/* never past the cap */
	{ KS_UNSENT_MIN, 1ull << 62, KS_UNSENT_MAX },	/* no overflow */
	{ 1 * M, 256 * K, 1 * M },		/* never lowered */
	{ 1 * M, 512 * K, 2 * M },
	{ KS_UNSENT_MAX, ~0ull, KS_UNSENT_MAX },
};

START_TEST(test_earned)
{
	const struct unsent_case *t = &unsent_cases[_i];
	u32 got = ks_unsent_earned(t->cur, t->taken);

	ck_assert_msg(got == t->want, "earned(%u, %llu) = %u, want %u",
		      t->cur, (unsigned long long)t->taken, got, t->want);
}
END_TEST

/*
 * growing as the client takes 4 KiB at a time ends where one big step
 * would, and never lets the socket queue more than KS_UNSENT_EARN times
 * what the client took
 */
START_TEST(test_stepwise)
{
	u32 cur = KS_UNSENT_MIN, raises = 0;
	u64 taken;

	for (taken = 0; taken <= 16ull * M; taken += 4 * K) {
		u32 next = ks_unsent_earned(cur, taken);

		ck_assert_uint_ge(next, cur);
		ck_assert_uint_le(next, 2 * cur);	/* one doubling a step */
		ck_assert(next == KS_UNSENT_MIN ||
			  next <= KS_UNSENT_EARN * taken);
		ck_assert_uint_eq(next, ks_unsent_earned(KS_UNSENT_MIN, taken));
		raises += next != cur;
		cur = next;
	}
	ck_assert_uint_eq(cur, KS_UNSENT_MAX);
	ck_assert_uint_eq(raises, 5);		/* 128 KiB -> 4 MiB */
}
END_TEST

static Suite *unsent_suite(void)
{
	Suite *s = suite_create("unsent");
	TCase *tc = tcase_create("earned");

	tcase_add_loop_test(tc, test_earned, 0,
			    sizeof(unsent_cases) / sizeof(unsent_cases[0]));
	tcase_add_test(tc, test_stepwise);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(unsent_suite());
}

// SPDX-License-Identifier: GPL-2.0
/*
 * test_policy.c - tests for kserverctl's pure parts: the daemon's
 * hysteresis (ctl/policy.c) and its command-line values (ctl/parse.c).
 *
 * A policy row is a run of samples, each with the action it must yield; a
 * parse row is one string, placed so that its NUL is the last byte before
 * a guard page (a parser that reads past the end faults).
 */
#include <math.h>

#include "ks_test.h"
#include "../../ctl/parse.h"
#include "../../ctl/policy.h"

#define USER SAKURA_MODE_USER
#define SUP SAKURA_MODE_SUPERVISOR

/* one sample: the server's mode and request rate, and the wanted action */
struct step {
	unsigned int mode;
	double rate;
	enum kc_action want;
};

#define U(r, w) { USER, r, KC_##w }
#define S(r, w) { SUP, r, KC_##w }
#define MAX_STEPS 16

struct policy_case {
	const char *desc;
	double up, down;
	unsigned int samples;
	struct step steps[MAX_STEPS];
	unsigned int nsteps;
};

/* up 1000, down 100, 3 samples unless a row says otherwise */
#define ROW(d, ...) { d, 1000, 100, 3, { __VA_ARGS__ }, \
		      sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step) }
#define ROWX(d, up, down, n, ...) { d, up, down, n, { __VA_ARGS__ }, \
		      sizeof((struct step[]){ __VA_ARGS__ }) / sizeof(struct step) }

static const struct policy_case policy_cases[] = {
	ROW("user: three samples >= up switch to supervisor",
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROW("user: rate == up counts",
	    U(1000, STAY), U(1000, STAY), U(1000, TO_SUPERVISOR)),
	ROW("user: just below up never switches",
	    U(999.99, STAY), U(999.99, STAY), U(999.99, STAY), U(999.99, STAY)),
	ROW("user: an in-between sample resets the streak",
	    U(1500, STAY), U(1500, STAY), U(500, STAY), U(1500, STAY),
	    U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROW("user: a sample <= down resets the streak too",
	    U(1500, STAY), U(1500, STAY), U(0, STAY), U(1500, STAY),
	    U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROW("user: idle never switches",
	    U(0, STAY), U(0, STAY), U(0, STAY), U(0, STAY)),
	ROW("supervisor: three samples <= down switch to user",
	    S(50, STAY), S(50, STAY), S(50, TO_USER)),
	ROW("supervisor: rate == down counts",
	    S(100, STAY), S(100, STAY), S(100, TO_USER)),
	ROW("supervisor: just above down never switches",
	    S(100.01, STAY), S(100.01, STAY), S(100.01, STAY), S(100.01, STAY)),
	ROW("supervisor: an in-between sample resets the streak",
	    S(50, STAY), S(50, STAY), S(500, STAY), S(50, STAY), S(50, STAY),
	    S(50, TO_USER)),
	ROW("supervisor: high load stays",
	    S(5000, STAY), S(5000, STAY), S(5000, STAY), S(5000, STAY)),
	ROW("no flapping: after our switch to supervisor a fresh streak",
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR),
	    S(50, STAY), S(50, STAY), S(50, TO_USER)),
	ROW("no flapping: after our switch to user a fresh streak",
	    S(10, STAY), S(10, STAY), S(10, TO_USER),
	    U(2000, STAY), U(2000, STAY), U(2000, TO_SUPERVISOR)),
	ROW("no flapping: load falls right after a switch",
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR),
	    S(0, STAY), S(1500, STAY), S(0, STAY), S(0, STAY), S(0, TO_USER)),
	ROW("a failed switch is asked again at the next qualifying sample",
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR),
	    U(1500, TO_SUPERVISOR), U(1200, TO_SUPERVISOR)),
	ROW("a failed switch, then load falls: a fresh streak is needed",
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR),
	    U(500, STAY), U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROW("external switch to supervisor mid-streak: respected, streak restarts",
	    U(1500, STAY), U(1500, STAY), S(1500, STAY), S(50, STAY),
	    S(50, STAY), S(50, TO_USER)),
	ROW("external switch to user mid-streak: no switch back at once",
	    S(50, STAY), S(50, STAY), U(50, STAY), U(50, STAY),
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROW("external switch to the mode we were heading for: nothing to do",
	    U(1500, STAY), U(1500, STAY), S(1500, STAY), S(1500, STAY),
	    S(1500, STAY)),
	ROW("mode unknown to this tool: never acts",
	    { 7, 1e9, KC_STAY }, { 7, 0, KC_STAY }, { 7, 0, KC_STAY },
	    { 7, 0, KC_STAY }),
	ROW("unknown mode in a streak resets it",
	    U(1500, STAY), U(1500, STAY), { 7, 1500, KC_STAY },
	    U(1500, STAY), U(1500, STAY), U(1500, TO_SUPERVISOR)),
	ROWX("one sample: every qualifying sample switches", 1000, 100, 1,
	     U(1000, TO_SUPERVISOR), S(1000, STAY), S(100, TO_USER),
	     U(999, STAY), U(1001, TO_SUPERVISOR)),
	ROWX("down 0: only an idle server goes back to user", 10, 0, 2,
	     S(0.1, STAY), S(0.1, STAY), S(0, STAY), S(0, TO_USER)),
	ROWX("fractional thresholds", 0.5, 0.25, 2,
	     U(0.49, STAY), U(0.5, STAY), U(0.5, TO_SUPERVISOR),
	     S(0.26, STAY), S(0.25, STAY), S(0.25, TO_USER)),
	ROWX("samples 0 is taken as 1", 1000, 100, 0,
	     U(1000, TO_SUPERVISOR)),
	ROWX("long streak", 1000, 100, 5,
	     U(2000, STAY), U(2000, STAY), U(2000, STAY), U(2000, STAY),
	     U(2000, TO_SUPERVISOR)),
};

static const char *action_name(enum kc_action a)
{
	static const char *const names[] = { "STAY", "TO_SUPERVISOR",
					     "TO_USER" };

	return (unsigned int)a < KS_ARRAY_SIZE(names) ? names[a] : "?";
}

START_TEST(test_policy)
{
	const struct policy_case *c = &policy_cases[_i];
	struct kc_policy p;
	unsigned int i;

	KS_ROW(c->desc);
	ck_assert_uint_le(c->nsteps, MAX_STEPS);
	kc_policy_init(&p, c->up, c->down, c->samples);
	for (i = 0; i < c->nsteps; i++) {
		const struct step *s = &c->steps[i];
		enum kc_action got = kc_policy_sample(&p, s->mode, s->rate);

		ck_assert_msg(got == s->want, "%s: sample %u (%s, %g): %s, "
			      "want %s", c->desc, i + 1,
			      kc_mode_name(s->mode), s->rate,
			      action_name(got), action_name(s->want));
		ck_assert_uint_le(p.streak, p.samples);
	}
}
END_TEST

/* kc_policy_reset(): what the daemon does when the switch count moved */
START_TEST(test_policy_reset)
{
	struct kc_policy p;

	kc_policy_init(&p, 1000, 100, 3);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_STAY);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_STAY);
	kc_policy_reset(&p);
	ck_assert_uint_eq(p.streak, 0);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_STAY);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_STAY);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_TO_SUPERVISOR);
	kc_policy_reset(&p);
	ck_assert_int_eq(kc_policy_sample(&p, USER, 2000), KC_STAY);
}
END_TEST

/* --- parse.c --- */

/* the string at a guard page; free with put() */
static char *at_guard(const char *s)
{
	return guarded_copy(s, strlen(s) + 1);
}

static void put(char *g)
{
	guarded_free(g, strlen(g) + 1);
}

#define TIMEOUT_MAX (SAKURA_TIMEOUT_MAX_MS / 1000.0)

struct decimal_case {
	const char *desc;
	const char *s;
	double min, max;
	int ret;
	double want;
};

static const struct decimal_case decimal_cases[] = {
	{ "empty", "", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "letters", "abc", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "negative", "-1", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "plus sign", "+1", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "leading blank", " 1", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "trailing blank", "1 ", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "trailing unit", "5s", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "exponent", "1e9", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "small exponent", "1e-1", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "hex", "0x10", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "inf", "inf", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "nan", "nan", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "lone dot", ".", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "two dots", "1.2.3", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "comma", "0,5", 0.001, TIMEOUT_MAX, -EINVAL, 0 },
	{ "zero", "0", 0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "zero point zero", "0.0", 0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "below the minimum", "0.0009", 0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "the minimum", "0.001", 0.001, TIMEOUT_MAX, 0, 0.001 },
	{ "half", "0.5", 0.001, TIMEOUT_MAX, 0, 0.5 },
	{ "no integer part", ".5", 0.001, TIMEOUT_MAX, 0, 0.5 },
	{ "no fraction", "5.", 0.001, TIMEOUT_MAX, 0, 5 },
	{ "whole", "5", 0.001, TIMEOUT_MAX, 0, 5 },
	{ "leading zeros", "007", 0.001, TIMEOUT_MAX, 0, 7 },
	{ "the maximum", "604800", 0.001, TIMEOUT_MAX, 0, 604800 },
	{ "above the maximum", "604800.001", 0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "a billion", "1000000000", 0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "overflows a double", "9999999999999999999999999999999999999999"
	  "99999999999999999999999999999999999999999999999999999999999999999"
	  "99999999999999999999999999999999999999999999999999999999999999999"
	  "99999999999999999999999999999999999999999999999999999999999999999"
	  "99999999999999999999999999999999999999999999999999999999999999999",
	  0.001, TIMEOUT_MAX, -ERANGE, 0 },
	{ "interval below 0.05", "0.049", 0.05, 86400, -ERANGE, 0 },
	{ "interval 0.05", "0.05", 0.05, 86400, 0, 0.05 },
	{ "rate 0 allowed", "0", 0, 1e9, 0, 0 },
	{ "rate fraction", "2.5", 0, 1e9, 0, 2.5 },
	{ "rate above 1e9", "1000000001", 0, 1e9, -ERANGE, 0 },
};

START_TEST(test_parse_decimal)
{
	const struct decimal_case *c = &decimal_cases[_i];
	char *g = at_guard(c->s);
	double v = -42;
	int ret;

	KS_ROW(c->desc);
	ret = kc_parse_decimal(g, c->min, c->max, &v);
	ck_assert_msg(ret == c->ret, "%s: '%s': %d, want %d", c->desc, c->s,
		      ret, c->ret);
	if (!ret)
		ck_assert_msg(fabs(v - c->want) < 1e-12, "%s: %g, want %g",
			      c->desc, v, c->want);
	else
		ck_assert_msg(v == -42, "%s: output written on error", c->desc);
	put(g);
}
END_TEST

struct uint_case {
	const char *desc;
	const char *s;
	unsigned long min, max;
	int ret;
	unsigned long want;
};

#define PID_MAX 0x7fffffffUL

static const struct uint_case uint_cases[] = {
	{ "pid 1", "1", 1, PID_MAX, 0, 1 },
	{ "pid 0", "0", 1, PID_MAX, -ERANGE, 0 },
	{ "negative pid", "-1", 1, PID_MAX, -EINVAL, 0 },
	{ "plus sign", "+5", 1, PID_MAX, -EINVAL, 0 },
	{ "leading blank", " 5", 1, PID_MAX, -EINVAL, 0 },
	{ "trailing garbage", "12x", 1, PID_MAX, -EINVAL, 0 },
	{ "fraction", "1.5", 1, PID_MAX, -EINVAL, 0 },
	{ "empty", "", 1, PID_MAX, -EINVAL, 0 },
	{ "letters", "abc", 1, PID_MAX, -EINVAL, 0 },
	{ "hex", "0x10", 1, PID_MAX, -EINVAL, 0 },
	{ "leading zeros", "007", 1, PID_MAX, 0, 7 },
	{ "the largest pid", "2147483647", 1, PID_MAX, 0, PID_MAX },
	{ "one past it", "2147483648", 1, PID_MAX, -ERANGE, 0 },
	{ "overflows unsigned long", "99999999999999999999999", 1, PID_MAX,
	  -ERANGE, 0 },
	{ "samples 0", "0", 1, 10000, -ERANGE, 0 },
	{ "samples 10000", "10000", 1, 10000, 0, 10000 },
	{ "samples 10001", "10001", 1, 10000, -ERANGE, 0 },
};

START_TEST(test_parse_uint)
{
	const struct uint_case *c = &uint_cases[_i];
	char *g = at_guard(c->s);
	unsigned long v = 42;
	int ret;

	KS_ROW(c->desc);
	ret = kc_parse_uint(g, c->min, c->max, &v);
	ck_assert_msg(ret == c->ret, "%s: '%s': %d, want %d", c->desc, c->s,
		      ret, c->ret);
	ck_assert_uint_eq(v, ret ? 42 : c->want);
	put(g);
}
END_TEST

struct mode_case {
	const char *desc;
	const char *s;
	int ret;
	unsigned int want;
};

static const struct mode_case mode_cases[] = {
	{ "user", "user", 0, SAKURA_MODE_USER },
	{ "supervisor", "supervisor", 0, SAKURA_MODE_SUPERVISOR },
	{ "capitalised", "User", -EINVAL, 0 },
	{ "prefix", "super", -EINVAL, 0 },
	{ "longer", "supervisors", -EINVAL, 0 },
	{ "kernel is not a mode word", "kernel", -EINVAL, 0 },
	{ "empty", "", -EINVAL, 0 },
	{ "a number", "1", -EINVAL, 0 },
};

START_TEST(test_parse_mode)
{
	const struct mode_case *c = &mode_cases[_i];
	char *g = at_guard(c->s);
	unsigned int m = 42;

	KS_ROW(c->desc);
	ck_assert_int_eq(kc_parse_mode(g, &m), c->ret);
	ck_assert_uint_eq(m, c->ret ? 42 : c->want);
	if (!c->ret)
		ck_assert_str_eq(kc_mode_name(m), c->s);
	put(g);
}
END_TEST

START_TEST(test_mode_name)
{
	ck_assert_str_eq(kc_mode_name(SAKURA_MODE_USER), "user");
	ck_assert_str_eq(kc_mode_name(SAKURA_MODE_SUPERVISOR), "supervisor");
	ck_assert_str_eq(kc_mode_name(2), "unknown");
	ck_assert_str_eq(kc_mode_name(~0u), "unknown");
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("hysteresis");

	KS_TABLE_TEST(tc, test_policy, policy_cases);
	tcase_add_test(tc, test_policy_reset);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	KS_TABLE_TEST(tc, test_parse_decimal, decimal_cases);
	KS_TABLE_TEST(tc, test_parse_uint, uint_cases);
	KS_TABLE_TEST(tc, test_parse_mode, mode_cases);
	tcase_add_test(tc, test_mode_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ks_test_run(policy_suite());
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ks_test.h - helpers shared by the unit tests (user space, libc, Check).
 *
 * guarded_copy() places a copy of the input so that its last byte sits right
 * before a PROT_NONE page: a parser that reads one byte too far faults at
 * once, even where ASan's redzones would not see it.
 */
#ifndef KS_TEST_H
#define KS_TEST_H

#include <check.h>
#include <sanitizer/common_interface_defs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ks_port.h"

static inline size_t ks_test_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* pages needed for len bytes, the guard page not counted */
static inline size_t ks_test_pages(size_t len)
{
	size_t pg = ks_test_page();

	return (len + pg - 1) / pg;
}

/*
 * guarded_alloc - len writable bytes ending right before a PROT_NONE page.
 * The bytes are filled with 0xa5 so that a missing write shows.
 */
static inline char *guarded_alloc(size_t len)
{
	size_t pg = ks_test_page();
	size_t n = ks_test_pages(len);
	char *base;

	base = mmap(NULL, (n + 1) * pg, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(base != MAP_FAILED, "mmap failed");
	ck_assert_int_eq(mprotect(base + n * pg, pg, PROT_NONE), 0);
	memset(base, 0xa5, n * pg);
	return base + n * pg - len;
}

/* guarded_copy - a copy of src[0..len) whose last byte touches the guard */
static inline char *guarded_copy(const void *src, size_t len)
{
	char *p = guarded_alloc(len);

	if (len)
		memcpy(p, src, len);
	return p;
}

static inline void guarded_free(const void *p, size_t len)
{
	size_t pg = ks_test_page();
	size_t n = ks_test_pages(len);
	char *guard = (char *)p + len;

	ck_assert_int_eq(munmap(guard - n * pg, (n + 1) * pg), 0);
}

/* deterministic PRNG for the robustness tests */
static inline u64 xorshift64(u64 *s)
{
	u64 x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/*
 * The row being run, named by a sanitizer report or a fault on a guard page
 * (Check itself only shows the loop index of a test that crashed).
 */
static const char *ks_test_row;

#define KS_ROW(desc) (ks_test_row = (desc))

static void ks_test_death(void)
{
	if (ks_test_row)
		fprintf(stderr, "*** died in row: %s\n", ks_test_row);
}

static inline int ks_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	__sanitizer_set_death_callback(ks_test_death);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* add a table-driven test: one loop iteration per row */
#define KS_TABLE_TEST(tc, fn, table) \
	tcase_add_loop_test(tc, fn, 0, (int)KS_ARRAY_SIZE(table))

#endif /* KS_TEST_H */

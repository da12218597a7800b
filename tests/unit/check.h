/*
 * Minimal test harness: every check prints both values when it fails, and
 * the program ends with the plain "N passed, N failed" line.
 */
#ifndef PPTPGW_CHECK_H
#define PPTPGW_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;

#define CHECK(cond) do { \
	if (cond) check_passed++; \
	else { check_failed++; \
		fprintf(stderr, "%s:%d: FAIL: %s\n", __FILE__, __LINE__, #cond); } \
} while (0)

#define CHECK_EQ(expected, got) do { \
	long long e_ = (long long)(expected), g_ = (long long)(got); \
	if (e_ == g_) check_passed++; \
	else { check_failed++; \
		fprintf(stderr, "%s:%d: FAIL: %s: expected %lld, got %lld\n", \
			__FILE__, __LINE__, #got, e_, g_); } \
} while (0)

#define CHECK_MEM(expected, got, n) do { \
	if (memcmp((expected), (got), (n)) == 0) check_passed++; \
	else { check_failed++; \
		fprintf(stderr, "%s:%d: FAIL: %s differs from %s\n", \
			__FILE__, __LINE__, #got, #expected); } \
} while (0)

static inline int check_report(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif

/*
 * Minimal test harness: every check prints both values when it fails, and
 * the program ends with the plain "N passed, N failed" line.
 */
#ifndef PPTPGW_CHECK_H
#define PPTPGW_CHECK_H

#include <stdint.h>
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

/* A seeded generator for table-driven random cases: same run, same cases. */
static uint64_t check_rng = 0x9E3779B97F4A7C15ull;

static inline uint32_t check_rand(void)
{
	check_rng ^= check_rng >> 12;
	check_rng ^= check_rng << 25;
	check_rng ^= check_rng >> 27;
	return (uint32_t)((check_rng * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Big-endian stores of the tests' own, independent of the code under test. */
static inline void check_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void check_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline int check_report(void)
{
	printf("%d passed, %d failed\n", check_passed, check_failed);
	return check_failed ? 1 : 0;
}

#endif

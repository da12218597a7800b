/*
 * Minimal test harness: every check prints both values when it fails, and
 * the program ends with the plain "N passed, N failed" line.
 *
 * A program lists its cases in a table and hands it to check_main():
 *
 *	static const struct check_case cases[] = {
 *		CHECK_CASE(round_trip),		// runs test_round_trip()
 *		...
 *	};
 *	int main(int argc, char **argv)
 *	{
 *		return check_main(argc, argv, cases, CHECK_NCASES(cases));
 *	}
 *
 * `test_x` runs every case in order, `test_x NAME...` only those, `test_x -l`
 * lists the names.  A failure names its case.  Each case builds its own state
 * (the seeded generator starts afresh for each), so a case run alone does
 * what it does in the full run.  A program with its own main() that calls
 * check_report() works as before.
 */
#ifndef PPTPGW_CHECK_H
#define PPTPGW_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed;
/* The case running now (NULL outside check_main), named in failures. */
static const char *check_case_now;

/* "file:line: " and, under check_main, "case NAME: " before a failure. */
static inline void check_where(const char *file, int line)
{
	fprintf(stderr, "%s:%d: ", file, line);
	if (check_case_now)
		fprintf(stderr, "case %s: ", check_case_now);
}

#define CHECK(cond) do { \
	if (cond) check_passed++; \
	else { check_failed++; check_where(__FILE__, __LINE__); \
		fprintf(stderr, "FAIL: %s\n", #cond); } \
} while (0)

#define CHECK_EQ(expected, got) do { \
	long long e_ = (long long)(expected), g_ = (long long)(got); \
	if (e_ == g_) check_passed++; \
	else { check_failed++; check_where(__FILE__, __LINE__); \
		fprintf(stderr, "FAIL: %s: expected %lld, got %lld\n", \
			#got, e_, g_); } \
} while (0)

#define CHECK_MEM(expected, got, n) do { \
	if (memcmp((expected), (got), (n)) == 0) check_passed++; \
	else { check_failed++; check_where(__FILE__, __LINE__); \
		fprintf(stderr, "FAIL: %s differs from %s\n", \
			#got, #expected); } \
} while (0)

/* A seeded generator for table-driven random cases: same run, same cases. */
#define CHECK_RNG_SEED 0x9E3779B97F4A7C15ull
static uint64_t check_rng = CHECK_RNG_SEED;

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

/* ---- the case runner ------------------------------------------------------ */

struct check_case {
	const char *name;
	void (*fn)(void);
};

/* CHECK_CASE(x): the case named "x", the function test_x(). */
#define CHECK_CASE(x) { #x, test_##x }
#define CHECK_NCASES(table) (sizeof(table) / sizeof((table)[0]))

/* The case called name ("x" or "test_x"), or NULL. */
static inline const struct check_case *
check_find(const struct check_case *cases, size_t n, const char *name)
{
	size_t i;

	if (!strncmp(name, "test_", 5))
		name += 5;
	for (i = 0; i < n; i++)
		if (!strcmp(cases[i].name, name))
			return &cases[i];
	return NULL;
}

static inline void check_run_case(const struct check_case *c)
{
	int failed = check_failed, passed = check_passed;

	check_rng = CHECK_RNG_SEED;
	check_case_now = c->name;
	c->fn();
	check_case_now = NULL;
	if (check_failed > failed)
		fprintf(stderr, "case %s: %d passed, %d failed\n", c->name,
			check_passed - passed, check_failed - failed);
}

/*
 * main() of a test program: no argument runs every case, NAME... runs those
 * in the order given, -l lists the names.  Ends with check_report()'s line
 * and status; 2 for an unknown case or option (nothing is run).
 */
static inline int check_main(int argc, char **argv,
			     const struct check_case *cases, size_t n)
{
	int i;
	size_t k;

	if (argc == 2 && !strcmp(argv[1], "-l")) {
		for (k = 0; k < n; k++)
			printf("%s\n", cases[k].name);
		return 0;
	}
	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-' || !check_find(cases, n, argv[i])) {
			fprintf(stderr, "%s: no case '%s' (usage: %s [-l | "
				"NAME...])\n", argv[0], argv[i], argv[0]);
			return 2;
		}
	}
	if (argc < 2)
		for (k = 0; k < n; k++)
			check_run_case(&cases[k]);
	for (i = 1; i < argc; i++)
		check_run_case(check_find(cases, n, argv[i]));
	return check_report();
}

#endif

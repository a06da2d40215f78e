/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userspace stand-in for the kernel's <kunit/test.h>, covering the part
 * of the KUnit API that gomem's core suites use, so that the same test
 * files run in gomem_kunit.ko and natively under ASan and UBSan. It prints
 * KTAP in the kernel's layout; tools/testing/kunit/kunit.py parses both.
 */
#ifndef _GOMEM_NATIVE_KUNIT_TEST_H
#define _GOMEM_NATIVE_KUNIT_TEST_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define GFP_KERNEL		0
#define KUNIT_PARAM_DESC_SIZE	128

enum kunit_status {
	KUNIT_SUCCESS,
	KUNIT_FAILURE,
	KUNIT_SKIPPED,
};

struct kunit_resource;

struct kunit {
	void *priv;
	const void *param_value;
	const char *name;
	enum kunit_status status;
	char status_comment[256];
	jmp_buf abort_env;
	struct kunit_resource *resources;
};

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
	const void *(*generate_params)(const void *prev, char *desc);
};

struct kunit_suite {
	const char name[256];
	int (*suite_init)(struct kunit_suite *suite);
	void (*suite_exit)(struct kunit_suite *suite);
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

#define KUNIT_CASE(f)			{ .run_case = f, .name = #f }
#define KUNIT_CASE_PARAM(f, gen)	{ .run_case = f, .name = #f, .generate_params = gen }

#define KUNIT_ARRAY_PARAM(name, array, get_desc)				\
	static const void *name##_gen_params(const void *prev, char *desc)	\
	{									\
		__typeof__(&(array)[0]) __next = prev ?				\
			((__typeof__(__next))prev) + 1 : (array);		\
		void (*__get_desc)(__typeof__(__next), char *) = get_desc;	\
		if (__next - (array) < (long)(sizeof(array) / sizeof((array)[0]))) { \
			if (__get_desc)						\
				__get_desc(__next, desc);			\
			return __next;						\
		}								\
		return NULL;							\
	}

/* Suites are collected from a linker section by the runner (kunit.c). */
#define __KUNIT_CAT2(a, b)	a##b
#define __KUNIT_CAT(a, b)	__KUNIT_CAT2(a, b)
#define kunit_test_suites(...)							\
	static struct kunit_suite *__KUNIT_CAT(__gm_kunit_suites_, __LINE__)[]	\
	__attribute__((used, section("gm_kunit_suites"),			\
		       aligned(sizeof(void *)))) = { __VA_ARGS__ }
#define kunit_test_suite(suite)	kunit_test_suites(&(suite))

void *kunit_kmalloc(struct kunit *test, size_t size, int gfp);
void *kunit_kzalloc(struct kunit *test, size_t size, int gfp);
void *kunit_kcalloc(struct kunit *test, size_t n, size_t size, int gfp);
void kunit_kfree(struct kunit *test, const void *ptr);
#define kunit_kmalloc_array(test, n, size, gfp)	kunit_kcalloc(test, n, size, gfp)

void kunit_log_line(struct kunit *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define kunit_info(test, fmt, ...)	kunit_log_line(test, fmt, ##__VA_ARGS__)
#define kunit_warn(test, fmt, ...)	kunit_log_line(test, fmt, ##__VA_ARGS__)
#define kunit_err(test, fmt, ...)	kunit_log_line(test, fmt, ##__VA_ARGS__)

void kunit_mark_skipped(struct kunit *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define kunit_skip(test, fmt, ...) do {					\
	kunit_mark_skipped(test, fmt, ##__VA_ARGS__);			\
	longjmp((test)->abort_env, 1);					\
} while (0)

/* Failure reporting: what, then the caller's message, then maybe abort. */
void kunit_fail_at(struct kunit *test, const char *file, int line, bool assert);
void kunit_fail_msg(struct kunit *test, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void kunit_fail_end(struct kunit *test, bool assert);

#define __KUNIT_FAILED(test, assert, what_fmt, ...) do {		\
	kunit_fail_at(test, __FILE__, __LINE__, assert);		\
	kunit_fail_msg(test, what_fmt, ##__VA_ARGS__);			\
} while (0)

#define KUNIT_FAIL(test, fmt, ...) do {					\
	__KUNIT_FAILED(test, false, fmt, ##__VA_ARGS__);		\
	kunit_fail_end(test, false);					\
} while (0)

/* "" fmt: the optional message must be a literal, as in the kernel. */
#define __KUNIT_BINARY(test, assert, left, op, right, ...) do {		\
	__typeof__(left) __l = (left);					\
	__typeof__(right) __r = (right);				\
	if (!(__l op __r)) {						\
		__KUNIT_FAILED(test, assert,				\
			"Expected %s %s %s, but\n        %s == %lld (0x%llx)\n        %s == %lld (0x%llx)", \
			#left, #op, #right, #left, (long long)__l,	\
			(unsigned long long)__l, #right, (long long)__r, \
			(unsigned long long)__r);			\
		kunit_fail_msg(test, "" __VA_ARGS__);			\
		kunit_fail_end(test, assert);				\
	}								\
} while (0)

#define __KUNIT_PTR(test, assert, left, op, right, ...) do {		\
	const void *__l = (left);					\
	const void *__r = (right);					\
	if (!(__l op __r)) {						\
		__KUNIT_FAILED(test, assert,				\
			"Expected %s %s %s, but\n        %s == %p\n        %s == %p", \
			#left, #op, #right, #left, __l, #right, __r);	\
		kunit_fail_msg(test, "" __VA_ARGS__);			\
		kunit_fail_end(test, assert);				\
	}								\
} while (0)

#define __KUNIT_BOOL(test, assert, cond, expect, ...) do {		\
	if ((bool)(cond) != (bool)(expect)) {				\
		__KUNIT_FAILED(test, assert, "Expected %s to be %s",	\
			       #cond, (expect) ? "true" : "false");	\
		kunit_fail_msg(test, "" __VA_ARGS__);			\
		kunit_fail_end(test, assert);				\
	}								\
} while (0)

#define __KUNIT_STR(test, assert, left, op, right, ...) do {		\
	const char *__l = (left);					\
	const char *__r = (right);					\
	if (!(strcmp(__l, __r) op 0)) {					\
		__KUNIT_FAILED(test, assert,				\
			"Expected %s %s %s, but\n        %s == \"%s\"\n        %s == \"%s\"", \
			#left, #op, #right, #left, __l, #right, __r);	\
		kunit_fail_msg(test, "" __VA_ARGS__);			\
		kunit_fail_end(test, assert);				\
	}								\
} while (0)

#define KUNIT_EXPECT_EQ(t, l, r)		__KUNIT_BINARY(t, false, l, ==, r)
#define KUNIT_EXPECT_NE(t, l, r)		__KUNIT_BINARY(t, false, l, !=, r)
#define KUNIT_EXPECT_LT(t, l, r)		__KUNIT_BINARY(t, false, l, <, r)
#define KUNIT_EXPECT_LE(t, l, r)		__KUNIT_BINARY(t, false, l, <=, r)
#define KUNIT_EXPECT_GT(t, l, r)		__KUNIT_BINARY(t, false, l, >, r)
#define KUNIT_EXPECT_GE(t, l, r)		__KUNIT_BINARY(t, false, l, >=, r)
#define KUNIT_EXPECT_EQ_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, ==, r, __VA_ARGS__)
#define KUNIT_EXPECT_NE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, !=, r, __VA_ARGS__)
#define KUNIT_EXPECT_LT_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, <, r, __VA_ARGS__)
#define KUNIT_EXPECT_LE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, <=, r, __VA_ARGS__)
#define KUNIT_EXPECT_GT_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, >, r, __VA_ARGS__)
#define KUNIT_EXPECT_GE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, false, l, >=, r, __VA_ARGS__)
#define KUNIT_EXPECT_TRUE(t, c)			__KUNIT_BOOL(t, false, c, true)
#define KUNIT_EXPECT_FALSE(t, c)		__KUNIT_BOOL(t, false, c, false)
#define KUNIT_EXPECT_TRUE_MSG(t, c, ...)	__KUNIT_BOOL(t, false, c, true, __VA_ARGS__)
#define KUNIT_EXPECT_FALSE_MSG(t, c, ...)	__KUNIT_BOOL(t, false, c, false, __VA_ARGS__)
#define KUNIT_EXPECT_PTR_EQ(t, l, r)		__KUNIT_PTR(t, false, l, ==, r)
#define KUNIT_EXPECT_PTR_NE(t, l, r)		__KUNIT_PTR(t, false, l, !=, r)
#define KUNIT_EXPECT_NULL(t, p)			__KUNIT_PTR(t, false, p, ==, NULL)
#define KUNIT_EXPECT_NOT_NULL(t, p)		__KUNIT_PTR(t, false, p, !=, NULL)
#define KUNIT_EXPECT_NULL_MSG(t, p, ...)	__KUNIT_PTR(t, false, p, ==, NULL, __VA_ARGS__)
#define KUNIT_EXPECT_NOT_NULL_MSG(t, p, ...)	__KUNIT_PTR(t, false, p, !=, NULL, __VA_ARGS__)
#define KUNIT_EXPECT_STREQ(t, l, r)		__KUNIT_STR(t, false, l, ==, r)
#define KUNIT_EXPECT_STRNEQ(t, l, r)		__KUNIT_STR(t, false, l, !=, r)
#define KUNIT_EXPECT_STREQ_MSG(t, l, r, ...)	__KUNIT_STR(t, false, l, ==, r, __VA_ARGS__)

#define KUNIT_ASSERT_EQ(t, l, r)		__KUNIT_BINARY(t, true, l, ==, r)
#define KUNIT_ASSERT_NE(t, l, r)		__KUNIT_BINARY(t, true, l, !=, r)
#define KUNIT_ASSERT_LT(t, l, r)		__KUNIT_BINARY(t, true, l, <, r)
#define KUNIT_ASSERT_LE(t, l, r)		__KUNIT_BINARY(t, true, l, <=, r)
#define KUNIT_ASSERT_GT(t, l, r)		__KUNIT_BINARY(t, true, l, >, r)
#define KUNIT_ASSERT_GE(t, l, r)		__KUNIT_BINARY(t, true, l, >=, r)
#define KUNIT_ASSERT_EQ_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, ==, r, __VA_ARGS__)
#define KUNIT_ASSERT_NE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, !=, r, __VA_ARGS__)
#define KUNIT_ASSERT_LT_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, <, r, __VA_ARGS__)
#define KUNIT_ASSERT_LE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, <=, r, __VA_ARGS__)
#define KUNIT_ASSERT_GT_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, >, r, __VA_ARGS__)
#define KUNIT_ASSERT_GE_MSG(t, l, r, ...)	__KUNIT_BINARY(t, true, l, >=, r, __VA_ARGS__)
#define KUNIT_ASSERT_TRUE(t, c)			__KUNIT_BOOL(t, true, c, true)
#define KUNIT_ASSERT_FALSE(t, c)		__KUNIT_BOOL(t, true, c, false)
#define KUNIT_ASSERT_TRUE_MSG(t, c, ...)	__KUNIT_BOOL(t, true, c, true, __VA_ARGS__)
#define KUNIT_ASSERT_FALSE_MSG(t, c, ...)	__KUNIT_BOOL(t, true, c, false, __VA_ARGS__)
#define KUNIT_ASSERT_PTR_EQ(t, l, r)		__KUNIT_PTR(t, true, l, ==, r)
#define KUNIT_ASSERT_PTR_NE(t, l, r)		__KUNIT_PTR(t, true, l, !=, r)
#define KUNIT_ASSERT_NULL(t, p)			__KUNIT_PTR(t, true, p, ==, NULL)
#define KUNIT_ASSERT_NOT_NULL(t, p)		__KUNIT_PTR(t, true, p, !=, NULL)
#define KUNIT_ASSERT_NOT_NULL_MSG(t, p, ...)	__KUNIT_PTR(t, true, p, !=, NULL, __VA_ARGS__)
#define KUNIT_ASSERT_STREQ(t, l, r)		__KUNIT_STR(t, true, l, ==, r)

#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define MODULE_IMPORT_NS(x)

#endif /* _GOMEM_NATIVE_KUNIT_TEST_H */

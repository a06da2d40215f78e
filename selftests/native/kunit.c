// SPDX-License-Identifier: GPL-2.0
/*
 * Runner for the native build of gomem's KUnit suites (see kunit/test.h):
 * runs every suite linked in, or those whose name matches the glob given
 * as the first argument, and prints KTAP laid out as the kernel does.
 * Exit status: 0 if nothing failed.
 */
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <kunit/test.h>

extern struct kunit_suite *__start_gm_kunit_suites[];
extern struct kunit_suite *__stop_gm_kunit_suites[];

struct kunit_resource {
	struct kunit_resource *next;
	void *ptr;
};

static const char *indent;

/* === allocations freed at the end of a case ============================== */

void *kunit_kmalloc(struct kunit *test, size_t size, int gfp)
{
	struct kunit_resource *r = malloc(sizeof(*r));
	void *p = malloc(size ? size : 1);

	if (!r || !p) {
		free(r);
		free(p);
		return NULL;
	}
	r->ptr = p;
	r->next = test->resources;
	test->resources = r;
	return p;
}

void *kunit_kzalloc(struct kunit *test, size_t size, int gfp)
{
	void *p = kunit_kmalloc(test, size, gfp);

	if (p)
		memset(p, 0, size);
	return p;
}

void *kunit_kcalloc(struct kunit *test, size_t n, size_t size, int gfp)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	return kunit_kzalloc(test, n * size, gfp);
}

void kunit_kfree(struct kunit *test, const void *ptr)
{
	struct kunit_resource **pp, *r;

	for (pp = &test->resources; (r = *pp); pp = &r->next) {
		if (r->ptr == ptr) {
			*pp = r->next;
			free(r->ptr);
			free(r);
			return;
		}
	}
}

static void free_resources(struct kunit *test)
{
	while (test->resources)
		kunit_kfree(test, test->resources->ptr);
}

/* === reporting ========================================================== */

static void vlog(struct kunit *test, const char *fmt, va_list ap)
{
	printf("%s# %s: ", indent, test->name);
	vprintf(fmt, ap);
	printf("\n");
}

void kunit_log_line(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(test, fmt, ap);
	va_end(ap);
}

void kunit_mark_skipped(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	test->status = KUNIT_SKIPPED;
	va_start(ap, fmt);
	vsnprintf(test->status_comment, sizeof(test->status_comment), fmt, ap);
	va_end(ap);
}

void kunit_fail_at(struct kunit *test, const char *file, int line, bool assert)
{
	test->status = KUNIT_FAILURE;
	printf("%s# %s: %s FAILED at %s:%d\n", indent, test->name,
	       assert ? "ASSERTION" : "EXPECTATION", file, line);
}

void kunit_fail_msg(struct kunit *test, const char *fmt, ...)
{
	va_list ap;

	if (!fmt[0])
		return;
	printf("%s", indent);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void kunit_fail_end(struct kunit *test, bool assert)
{
	fflush(stdout);
	if (assert)
		longjmp(test->abort_env, 1);
}

/* === running ============================================================ */

struct counts {
	int pass, fail, skip;
};

static void count(struct counts *c, enum kunit_status s)
{
	if (s == KUNIT_SUCCESS)
		c->pass++;
	else if (s == KUNIT_SKIPPED)
		c->skip++;
	else
		c->fail++;
}

static void result_line(const char *ind, enum kunit_status s, int n,
			const char *name, const char *comment)
{
	if (s == KUNIT_SKIPPED)
		printf("%sok %d %s # SKIP %s\n", ind, n, name, comment);
	else
		printf("%s%s %d %s\n", ind, s == KUNIT_FAILURE ? "not ok" : "ok", n, name);
	fflush(stdout);
}

static enum kunit_status run_one(struct kunit_suite *suite, struct kunit_case *c,
				 const void *param, char *comment)
{
	struct kunit test = { .name = c->name, .param_value = param };

	if (suite->init && suite->init(&test)) {
		printf("%s# %s: suite init failed\n", indent, c->name);
		test.status = KUNIT_FAILURE;
	} else {
		if (!setjmp(test.abort_env))
			c->run_case(&test);
		if (suite->exit)
			suite->exit(&test);
	}
	free_resources(&test);
	strcpy(comment, test.status_comment);
	return test.status;
}

static enum kunit_status run_params(struct kunit_suite *suite, struct kunit_case *c)
{
	char desc[KUNIT_PARAM_DESC_SIZE], comment[256];
	struct counts cnt = { 0 };
	const void *param = NULL;
	enum kunit_status s;
	int n = 0;

	printf("        KTAP version 1\n        # Subtest: %s\n", c->name);
	indent = "        ";
	for (;;) {
		desc[0] = '\0';
		param = c->generate_params(param, desc);
		if (!param)
			break;
		if (!desc[0])
			snprintf(desc, sizeof(desc), "param-%d", n);
		s = run_one(suite, c, param, comment);
		count(&cnt, s);
		result_line("        ", s, ++n, desc, comment);
	}
	indent = "    ";
	printf("    # %s: pass:%d fail:%d skip:%d total:%d\n", c->name,
	       cnt.pass, cnt.fail, cnt.skip, n);
	if (cnt.fail)
		return KUNIT_FAILURE;
	return cnt.pass ? KUNIT_SUCCESS : KUNIT_SKIPPED;
}

static bool run_suite(struct kunit_suite *suite, int index)
{
	struct counts cnt = { 0 };
	struct kunit_case *c;
	enum kunit_status s;
	char comment[256];
	int n = 0;

	for (c = suite->test_cases; c->run_case; c++)
		n++;
	printf("    KTAP version 1\n    # Subtest: %s\n    1..%d\n", suite->name, n);
	if (suite->suite_init && suite->suite_init(suite)) {
		printf("not ok %d %s # suite_init failed\n", index, suite->name);
		return false;
	}
	n = 0;
	indent = "    ";
	for (c = suite->test_cases; c->run_case; c++) {
		comment[0] = '\0';
		if (c->generate_params)
			s = run_params(suite, c);
		else
			s = run_one(suite, c, NULL, comment);
		count(&cnt, s);
		result_line("    ", s, ++n, c->name, s == KUNIT_SKIPPED && !comment[0] ?
			    "all parameters skipped" : comment);
	}
	if (suite->suite_exit)
		suite->suite_exit(suite);
	printf("# %s: pass:%d fail:%d skip:%d total:%d\n", suite->name,
	       cnt.pass, cnt.fail, cnt.skip, n);
	result_line("", cnt.fail ? KUNIT_FAILURE : KUNIT_SUCCESS, index, suite->name, "");
	return !cnt.fail;
}

int main(int argc, char **argv)
{
	const char *glob = argc > 1 ? argv[1] : "*";
	struct kunit_suite **s;
	int n = 0, i = 0;
	bool ok = true;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (s = __start_gm_kunit_suites; s < __stop_gm_kunit_suites; s++)
		n += !fnmatch(glob, (*s)->name, 0);
	printf("KTAP version 1\n1..%d\n", n);
	for (s = __start_gm_kunit_suites; s < __stop_gm_kunit_suites; s++)
		if (!fnmatch(glob, (*s)->name, 0))
			ok &= run_suite(*s, ++i);
	return ok && n ? 0 : 1;
}

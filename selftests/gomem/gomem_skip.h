/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Included once by every gomem kselftest built on kselftest_harness.h.
 *
 * Without /dev/gomem (gomem.ko not loaded) there is nothing to test. The
 * program then skips as a whole, the kselftest way: "1..0 # SKIP" and
 * exit code 4 (KSFT_SKIP), which the kselftest runner reports as
 * "ok N selftests: gomem: <prog> # SKIP". Left to itself, 6.1's harness
 * would skip every case one by one and exit 0, which the runner counts
 * as a pass.
 *
 * A constructor rather than a main() of our own: the harness's main
 * differs between kernel versions, ksft_exit_skip() does not. It runs
 * before main(), so "-l" (list the tests) needs the device too.
 */
#ifndef _GOMEM_SKIP_H
#define _GOMEM_SKIP_H

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "kselftest.h"

static void __attribute__((constructor)) gomem_skip_without_device(void)
{
	if (!access("/dev/gomem", F_OK))
		return;
	ksft_print_header();
	ksft_exit_skip("/dev/gomem: %s (is gomem.ko loaded?)\n", strerror(errno));
}

#endif /* _GOMEM_SKIP_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * elfsym.c's test (make -C tools/gomemctl check, built with ASan and
 * UBSan): it names a function of this program from its address as
 * /proc/self/maps places it, opens neither a FIFO nor a missing file, and
 * reads 300 damaged copies of its own binary (bytes changed, truncated)
 * without a fault. Prints TAP.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "elfsym.h"

static int failed, n;

static void ok(int cond, const char *what)
{
	printf("%sok %d %s\n", cond ? "" : "not ", ++n, what);
	if (!cond)
		failed = 1;
}

/* Not static and called from main(): it keeps its symbol and its body. */
int elfsym_test_known_function(int x)
{
	return x * 3 + 1;
}

/* The file offset of an address of this program, from /proc/self/maps. */
static int offset_of(uintptr_t addr, char *path, size_t len, uint64_t *off)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	int found = 0;

	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		uint64_t start, end, offset;
		char file[4096] = "";

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %*s %" SCNx64 " %*s %*s %4095s",
			   &start, &end, &offset, file) >= 3 && addr >= start && addr < end) {
			*off = addr - start + offset;
			snprintf(path, len, "%s", file);
			found = 1;
		}
	}
	fclose(f);
	return found;
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	rnd_state = rnd_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return rnd_state >> 33;
}

/* Damaged copies of @path: none may crash elfsym_open() or elfsym_lookup(). */
static void damaged_copies(const char *path, uint64_t off)
{
	const char *tmp = "/tmp/elfsym_test.bin";
	unsigned char *buf;
	struct stat st;
	FILE *f;
	int i, j;

	f = fopen(path, "rb");
	if (!f || fstat(fileno(f), &st)) {
		ok(0, "read own binary");
		return;
	}
	buf = malloc(st.st_size);
	if (!buf || fread(buf, 1, st.st_size, f) != (size_t)st.st_size) {
		ok(0, "read own binary");
		return;
	}
	fclose(f);
	for (i = 0; i < 300; i++) {
		unsigned char *copy = malloc(st.st_size);
		size_t size = st.st_size;
		struct elfsym t;

		memcpy(copy, buf, size);
		for (j = 0; j < 1 + (int)(rnd() % 40); j++) {
			/* Mostly the headers, where the offsets and sizes are. */
			size_t at = rnd() % 2 ? rnd() % 256 : rnd() % size;

			copy[at] = rnd();
		}
		/* Section headers are at the end: change some there too. */
		copy[size - 1 - rnd() % 1024] = rnd();
		if (i % 4 == 0)
			size = 64 + rnd() % (size - 64);
		f = fopen(tmp, "wb");
		if (f) {
			fwrite(copy, 1, size, f);
			fclose(f);
		}
		elfsym_open(tmp, &t);
		elfsym_lookup(&t, off);
		elfsym_lookup(&t, rnd());
		elfsym_close(&t);
		free(copy);
	}
	unlink(tmp);
	free(buf);
	ok(1, "300 damaged copies read without a fault");
}

int main(void)
{
	const char *fifo = "/tmp/elfsym_test.fifo";
	char path[4096];
	struct elfsym t;
	uint64_t off;
	const char *name;

	printf("TAP version 13\n1..6\n");
	ok(offset_of((uintptr_t)elfsym_test_known_function + 4, path, sizeof(path), &off),
	   "the function's mapping");
	ok(!elfsym_open(path, &t), "own binary read");
	name = elfsym_lookup(&t, off);
	ok(name && !strcmp(name, "elfsym_test_known_function"), "function named");
	elfsym_close(&t);
	ok(elfsym_open("/nonexistent/elfsym", &t) && !t.nfuncs, "missing file");
	unlink(fifo);
	ok(!mkfifo(fifo, 0600) && elfsym_open(fifo, &t) && !t.nfuncs, "FIFO: no wait");
	unlink(fifo);
	damaged_copies(path, off);
	return failed || elfsym_test_known_function(n) < 0;
}

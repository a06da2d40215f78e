// SPDX-License-Identifier: GPL-2.0
/*
 * gomemctl: look at gomem's heaps and show what they do.
 *
 *   gomemctl sizeclasses       Go's size class table, as gomem built it
 *   gomemctl stats [-v] [PID]  MemStats of the heaps (of PID), from debugfs
 *   gomemctl gc [-p PID] [ID]  the collector's state of the heaps, from debugfs
 *   gomemctl gctrace [...]     follow the kernel log's gctrace lines
 *   gomemctl top [...]         live per-size-class view of all heaps
 *   gomemctl demo [--scale N]  the 600 MiB experiment on a heap of its own
 *   gomemctl scavtime [...]    seconds from runtime.GC() to the scavenger's goal
 *   gomemctl pprof HEAP        a heap profile for go tool pprof (pprof.c)
 *
 * debugfs is read from $GOMEMCTL_DEBUGFS, /sys/kernel/debug/gomem by
 * default, so that the parsers can be tried on a copy. The program is
 * built static for the busybox test guest; its terminal handling is
 * termios and ANSI escapes.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "libgomem.h"
#include "pprof.h"
#include "sizeclasses.h"

#define DEBUGFS_DEFAULT	"/sys/kernel/debug/gomem"
#define DEVICE		"/dev/gomem"
#define KMSG		"/dev/kmsg"
#define GCTRACE_PARAM	"/sys/module/gomem/parameters/gctrace"
#define MIB		(1024ULL * 1024)

/* ---- output helpers ---- */

static _Noreturn void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("gomemctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* A size for people: "0 B", "512 B", "8 KiB", "37.5 MiB", "1.2 GiB". */
struct hsize {
	char s[24];
};

static struct hsize hsize(u64 bytes)
{
	static const char * const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB" };
	struct hsize h;
	unsigned int u = 0;
	u64 div = 1;

	while (u + 1 < ARRAY_SIZE(units) && bytes >= div * 1024) {
		div *= 1024;
		u++;
	}
	if (bytes % div == 0)
		snprintf(h.s, sizeof(h.s), "%" PRIu64 " %s", bytes / div, units[u]);
	else
		snprintf(h.s, sizeof(h.s), "%.1f %s", (double)bytes / div, units[u]);
	return h;
}

/* "123", "8K", "4M", "1G" (powers of 1024), or -1 if not a size. */
static long long parse_size(const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || v > LLONG_MAX >> 30)
		return -1;
	switch (toupper((unsigned char)*end)) {
	case 'G':
		v <<= 10;
		/* fall through */
	case 'M':
		v <<= 10;
		/* fall through */
	case 'K':
		v <<= 10;
		end++;
		break;
	}
	return *end ? -1 : (long long)v;
}

/* A whole file, NUL-terminated, or NULL with errno set. */
static char *slurp(const char *path)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap), *nbuf;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f || !buf) {
		int err = errno;

		free(buf);
		if (f)
			fclose(f);
		errno = err;
		return NULL;
	}
	while ((n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len > 1)
			continue;
		nbuf = realloc(buf, cap * 2);
		if (!nbuf) {
			free(buf);
			fclose(f);
			errno = ENOMEM;
			return NULL;
		}
		buf = nbuf;
		cap *= 2;
	}
	if (ferror(f)) {
		int err = errno ? errno : EIO;

		free(buf);
		fclose(f);
		errno = err;
		return NULL;
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/*
 * Split off the next line of *text (modified in place).
 * Return: the line without its newline, or NULL at the end.
 */
static char *next_line(char **text)
{
	char *line = *text, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*text = nl + 1;
	} else {
		*text = line + strlen(line);
	}
	return line;
}

/* Split @line at whitespace into at most @max words; return how many. */
static int split_words(char *line, char **words, int max)
{
	char *save, *w;
	int n = 0;

	for (w = strtok_r(line, " \t", &save); w && n < max; w = strtok_r(NULL, " \t", &save))
		words[n++] = w;
	return n;
}

/* "<Name> <number>" lines: the number after @name, if there is one. */
static bool find_value(const char *text, const char *name, u64 *v)
{
	size_t len = strlen(name);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, name, len) && (p[len] == ' ' || p[len] == '\t')) {
			char *end;

			*v = strtoull(p + len, &end, 0);
			return end != p + len;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return false;
}

/* ---- debugfs ---- */

static const char *debugfs_dir(void)
{
	const char *dir = getenv("GOMEMCTL_DEBUGFS");

	return dir && *dir ? dir : DEBUGFS_DEFAULT;
}

static _Noreturn void die_debugfs(const char *path, int err)
{
	if (err == EACCES || err == EPERM)
		die("%s: %s: gomem's debugfs files are root-only, run as root",
		    path, strerror(err));
	if (err == ENOENT)
		die("%s: not found: is gomem.ko loaded and debugfs mounted (mount -t debugfs none /sys/kernel/debug)?",
		    path);
	die("%s: %s", path, strerror(err));
}

/* One heap's debugfs directory, read at one moment. */
struct heap {
	unsigned long long id;	/* never reused while the module is loaded */
	long pid;
	char comm[64];
	char *memstats;		/* the file's text */
	char *classes;
	char *arenas;
	char *gc;		/* NULL if the module has no collector */
};

struct heap_list {
	struct heap *v;
	size_t n;
};

static char *heap_file(unsigned long long id, const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/heaps/%llu/%s", debugfs_dir(), id, name);
	return slurp(path);
}

static void heap_path(char *path, size_t size, const char *name)
{
	snprintf(path, size, "%s/heaps%s%s", debugfs_dir(), name ? "/" : "", name ? name : "");
}

static int cmp_heap(const void *a, const void *b)
{
	const struct heap *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/* Parse the owner file: "pid <pid>" and "comm <comm>" lines. */
static void parse_owner(struct heap *hp, char *text)
{
	char *line, *w[2];

	hp->pid = -1;
	while ((line = next_line(&text))) {
		if (split_words(line, w, 2) < 2)
			continue;
		if (!strcmp(w[0], "pid"))
			hp->pid = strtol(w[1], NULL, 10);
		else if (!strcmp(w[0], "comm"))
			snprintf(hp->comm, sizeof(hp->comm), "%s", w[1]);
	}
}

/*
 * Read every heap under heaps/ (those of @pid only, if it is >= 0): its
 * owner and memstats, and if asked its classes and arenas. A heap that goes
 * away while it is read is left out. Dies with a clear message when
 * debugfs cannot be read.
 */
static void read_heaps(struct heap_list *hl, long pid, bool classes, bool arenas, bool gc)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	hl->v = NULL;
	hl->n = 0;
	heap_path(path, sizeof(path), NULL);
	d = opendir(path);
	if (!d) {
		int err = errno;
		struct stat st;

		/* Tell "no gomem/debugfs" from "gomem without heaps". */
		if (err == ENOENT && stat(debugfs_dir(), &st) == 0)
			die("%s: not found: this gomem module has no per-process heaps", path);
		die_debugfs(err == ENOENT ? debugfs_dir() : path, err);
	}
	while ((de = readdir(d))) {
		struct heap hp = { 0 };
		char *end, *owner;
		unsigned long long id;

		/* Ids are 64-bit: a long-lived module passes 2^32 opens. */
		errno = 0;
		id = strtoull(de->d_name, &end, 10);
		if (errno || end == de->d_name || *end || !isdigit((unsigned char)de->d_name[0]))
			continue;
		hp.id = id;
		owner = heap_file(hp.id, "owner");
		if (!owner) {
			if (errno == EACCES || errno == EPERM) {
				heap_path(path, sizeof(path), de->d_name);
				die_debugfs(path, errno);
			}
			continue;
		}
		parse_owner(&hp, owner);
		free(owner);
		if (pid >= 0 && hp.pid != pid)
			continue;
		hp.memstats = heap_file(hp.id, "memstats");
		if (!hp.memstats)
			continue;
		if (classes)
			hp.classes = heap_file(hp.id, "classes");
		if (arenas)
			hp.arenas = heap_file(hp.id, "arenas");
		if (gc)
			hp.gc = heap_file(hp.id, "gc");
		hl->v = realloc(hl->v, (hl->n + 1) * sizeof(*hl->v));
		if (!hl->v)
			die("out of memory");
		hl->v[hl->n++] = hp;
	}
	closedir(d);
	if (hl->n)
		qsort(hl->v, hl->n, sizeof(*hl->v), cmp_heap);
}

static void free_heaps(struct heap_list *hl)
{
	size_t i;

	for (i = 0; i < hl->n; i++) {
		free(hl->v[i].memstats);
		free(hl->v[i].classes);
		free(hl->v[i].arenas);
		free(hl->v[i].gc);
	}
	free(hl->v);
	hl->v = NULL;
	hl->n = 0;
}

/* One size class summed over heaps; class 0 holds the large objects. */
struct class_row {
	unsigned int class;
	u64 size;		/* bytes per object, 0 for class 0 */
	u64 spans, inuse, allocs, frees, fast, slow;
	u64 empty;		/* of the spans, empty ones the class keeps */
	u64 bytes;		/* bytes of live objects */
};

enum { COL_CLASS, COL_SIZE, COL_SPANS, COL_INUSE, COL_ALLOCS, COL_FREES,
	COL_FAST, COL_SLOW, COL_EMPTY, NR_COLS };

static const char * const class_cols[NR_COLS] = {
	"class", "bytes/obj", "spans", "inuse", "allocs", "frees", "fast", "slow", "empty",
};

/*
 * Add a heap's classes file into @rows (GOMEM_NUM_SIZE_CLASSES entries).
 * Columns are found by the header's names, so that new ones do no harm.
 * Return: bytes of the heap's small objects, or -1 if the text is not a
 * classes table.
 */
static long long add_classes(struct class_row *rows, const char *classes)
{
	char *copy = strdup(classes), *text = copy, *line, *w[32];
	int col[NR_COLS], i, j, nhdr;
	long long small = 0;

	if (!copy)
		die("out of memory");
	line = next_line(&text);
	if (!line) {
		free(copy);
		return -1;
	}
	nhdr = split_words(line, w, ARRAY_SIZE(w));
	for (i = 0; i < NR_COLS; i++) {
		col[i] = -1;
		for (j = 0; j < nhdr; j++)
			if (!strcmp(w[j], class_cols[i]))
				col[i] = j;
	}
	if (col[COL_CLASS] < 0) {
		free(copy);
		return -1;
	}
	while ((line = next_line(&text))) {
		int n = split_words(line, w, ARRAY_SIZE(w));
		u64 v[NR_COLS] = { 0 };
		struct class_row *r;
		unsigned long cls;

		if (col[COL_CLASS] >= n)
			continue;
		cls = strtoul(w[col[COL_CLASS]], NULL, 10);
		if (cls >= GOMEM_NUM_SIZE_CLASSES)
			continue;
		for (i = 1; i < NR_COLS; i++)
			if (col[i] >= 0 && col[i] < n)
				v[i] = strtoull(w[col[i]], NULL, 10);	/* "large" reads 0 */
		r = &rows[cls];
		r->class = cls;
		r->size = v[COL_SIZE];
		r->spans += v[COL_SPANS];
		r->inuse += v[COL_INUSE];
		r->allocs += v[COL_ALLOCS];
		r->frees += v[COL_FREES];
		r->fast += v[COL_FAST];
		r->slow += v[COL_SLOW];
		r->empty += v[COL_EMPTY];
		r->bytes += v[COL_INUSE] * v[COL_SIZE];
		small += v[COL_INUSE] * v[COL_SIZE];
	}
	free(copy);
	return small;
}

/* ---- gomemctl sizeclasses ---- */

static int cmd_sizeclasses(int argc, char **argv)
{
	unsigned int k, prev = 0;

	if (argc > 1)
		die("usage: gomemctl sizeclasses (no argument: '%s')", argv[1]);
	puts("class  bytes/obj  bytes/span  objects  tail waste  max waste  min align");
	for (k = 1; k < GM_NUM_SIZE_CLASSES; k++) {
		unsigned int size = gm_class_to_size[k];
		unsigned int span = gm_class_to_npages[k] * GM_PAGE_SIZE;
		unsigned int objects = span / size, tail = span % size;
		/* The worst request is one byte over the previous class. */
		unsigned int worst = (size - prev - 1) * objects + tail;
		unsigned int align = min(size & -size, (unsigned int)GM_PAGE_SIZE);

		printf("%5u  %9u  %10u  %7u  %10u  %8.2f%%  %9u\n", k, size, span,
		       objects, tail, 100.0 * worst / span, align);
		prev = size;
	}
	return 0;
}

/* ---- gomemctl stats ---- */

/* MemStats names whose values are bytes (the others are counts). */
static bool is_bytes_stat(const char *name)
{
	static const char * const names[] = {
		"HeapAlloc", "HeapSys", "HeapIdle", "HeapInuse", "HeapReleased",
		"Reserved", "Resident", "Cap", "Lost", "Scavenged", "TotalAlloc", "Sys",
		"NextGC", "HeapLive", "HeapMarked", "MemoryLimit", "Alloc", "StackInuse",
		"MSpanInuse", "MCacheInuse",
	};
	size_t i, len = strlen(name);

	for (i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(name, names[i]))
			return true;
	return (len > 5 && !strcmp(name + len - 5, "Bytes")) ||
	       (len > 3 && !strcmp(name + len - 3, "Sys"));
}

/* Names of nanosecond values: "...Ns". */
static bool is_ns_stat(const char *name)
{
	size_t len = strlen(name);

	return len > 2 && !strcmp(name + len - 2, "Ns");
}

/* Nanoseconds for people: "0 s", "850 ns", "12.3 us", "1.25 ms", "2.5 s". */
static const char *hns(u64 ns, char *buf, size_t size)
{
	if (!ns)
		snprintf(buf, size, "0 s");
	else if (ns < 1000)
		snprintf(buf, size, "%" PRIu64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, "%.1f us", ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, "%.2f ms", ns / 1e6);
	else
		snprintf(buf, size, "%.2f s", ns / 1e9);
	return buf;
}

static u64 realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Width of the names: memstats' are short, gc's up to 19 characters. */
static int stat_width = 14;

/* One "Name value" line of memstats or gc, value made readable. */
static void print_stat(const char *name, const char *value)
{
	char *end, buf[32];
	u64 v;

	v = strtoull(value, &end, 0);
	if (*end || end == value) {
		printf("  %-*s %12s\n", stat_width, name, value);	/* "none", "off" */
	} else if (!strcmp(name, "LastGC") || !strcmp(name, "LastGCMonotonic") ||
		   !strcmp(name, "PauseEnd")) {
		/* Go's LastGC and PauseEnd are real time; the gc file's is monotonic. */
		u64 now = strcmp(name, "LastGCMonotonic") ? realtime_ns() : monotonic_ns();

		if (!v)
			printf("  %-*s %12s\n", stat_width, name, "never");
		else
			printf("  %-*s %8s ago\n", stat_width, name, hns(now > v ? now - v : 0, buf, sizeof(buf)));
	} else if (is_ns_stat(name)) {
		if (v < 1000)
			printf("  %-*s %12s\n", stat_width, name, hns(v, buf, sizeof(buf)));
		else
			printf("  %-*s %12s  (%" PRIu64 " ns)\n", stat_width, name, hns(v, buf, sizeof(buf)), v);
	} else if (!is_bytes_stat(name)) {
		printf("  %-*s %12s\n", stat_width, name, value);
	} else if (!v && !strcmp(name, "Cap")) {
		printf("  %-*s %12s\n", stat_width, name, "none");
	} else if (v < 1024) {
		printf("  %-*s %12s\n", stat_width, name, hsize(v).s);
	} else {
		printf("  %-*s %12s  (%" PRIu64 " bytes)\n", stat_width, name, hsize(v).s, v);
	}
}

/*
 * A "Name value" line: a capitalised name and one value, or two words
 * ("GOGC off -1"), whose first is shown. Fills @w[0..1].
 */
static bool stat_line(char *line, char **w)
{
	char *words[4];
	int n = split_words(line, words, 4);

	if (n < 2 || n > 3 || !isupper((unsigned char)words[0][0]))
		return false;
	w[0] = words[0];
	w[1] = words[1];
	return true;
}

static bool text_has_stat(const char *text, const char *name)
{
	char *copy = strdup(text), *p = copy, *line, *w[2];
	bool found = false;

	if (!copy)
		die("out of memory");
	while (!found && (line = next_line(&p)))
		found = stat_line(line, w) && !strcmp(w[0], name);
	free(copy);
	return found;
}

/*
 * "PauseNs a b c ..." and "PauseEnd ...": the pauses held, oldest first.
 * Shown: the latest, and how many there are.
 */
static bool print_pause_ring(char *line)
{
	char *w[GOMEM_PAUSE_RING + 1], buf[32], ns[32];
	int n = split_words(line, w, GOMEM_PAUSE_RING + 1);

	if (n < 1 || (strcmp(w[0], "PauseNs") && strcmp(w[0], "PauseEnd")))
		return false;
	if (n == 1) {
		printf("  %-*s %12s\n", stat_width, w[0], "none");
		return true;
	}
	if (!strcmp(w[0], "PauseEnd")) {
		print_stat(w[0], w[n - 1]);
		return true;
	}
	snprintf(buf, sizeof(buf), "%d pause%s", n - 1, n == 2 ? "" : "s");
	printf("  %-*s %12s  (latest of %s)\n", stat_width, w[0],
	       hns(strtoull(w[n - 1], NULL, 10), ns, sizeof(ns)), buf);
	return true;
}

static void print_memstats(const char *memstats)
{
	char *copy = strdup(memstats), *text = copy, *line, *w[2];

	if (!copy)
		die("out of memory");
	while ((line = next_line(&text))) {
		char *dup = strdup(line);

		if (!dup)
			die("out of memory");
		if (!print_pause_ring(dup) && split_words(line, w, 2) == 2)
			print_stat(w[0], w[1]);
		free(dup);
	}
	free(copy);
}

/* The collector's fields that stats shows, from the gc file. */
static const char * const gc_summary[] = {
	"NumGC", "NumForcedGC", "NextGC", "GOGC", "MemoryLimit", "HeapLive",
	"HeapMarked", "LastGC", "LastPauseNs", "PauseTotalNs", "GCCPUNs",
};

/* Those of @gc's lines that the memstats text does not have already. */
static void print_gc_summary(const char *gc, const char *memstats)
{
	char *copy = strdup(gc), *text = copy, *line, *w[2];
	unsigned int i;

	if (!copy)
		die("out of memory");
	while ((line = next_line(&text))) {
		if (!stat_line(line, w) || text_has_stat(memstats, w[0]))
			continue;
		for (i = 0; i < ARRAY_SIZE(gc_summary); i++)
			if (!strcmp(w[0], gc_summary[i]))
				print_stat(w[0], w[1]);
	}
	free(copy);
}

/* Free-form debugfs text, indented under a heading. */
static void print_indented(const char *text)
{
	const char *p = text, *nl;

	while (*p) {
		nl = strchrnul(p, '\n');
		printf("  %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static void print_class_header(void)
{
	printf("%5s  %9s  %6s  %9s  %10s  %9s  %9s  %5s\n", "class", "bytes/obj",
	       "spans", "inuse", "bytes", "allocs", "frees", "fast%");
}

static void print_class_row(const struct class_row *r)
{
	char size[16], fast[8];

	if (r->class)
		snprintf(size, sizeof(size), "%" PRIu64, r->size);
	else
		snprintf(size, sizeof(size), "large");
	if (r->fast + r->slow)
		snprintf(fast, sizeof(fast), "%.0f", 100.0 * r->fast / (r->fast + r->slow));
	else
		snprintf(fast, sizeof(fast), "-");
	printf("%5u  %9s  %6" PRIu64 "  %9" PRIu64 "  %10s  %9" PRIu64 "  %9" PRIu64 "  %5s\n",
	       r->class, size, r->spans, r->inuse, hsize(r->bytes).s, r->allocs, r->frees, fast);
}

static bool class_active(const struct class_row *r)
{
	return r->spans || r->inuse || r->allocs;
}

/* The large objects' bytes: what HeapAlloc has beyond the small ones. */
static void set_large_bytes(struct class_row *large, const char *memstats, long long small)
{
	u64 alloc;

	if (small >= 0 && find_value(memstats, "HeapAlloc", &alloc) && alloc > (u64)small)
		large->bytes += alloc - small;
}

static void print_heap_classes(struct heap *hp)
{
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES] = { 0 };
	long long small = hp->classes ? add_classes(rows, hp->classes) : -1;
	unsigned int i;

	if (small < 0) {
		printf("  (no classes table)\n");
		return;
	}
	set_large_bytes(&rows[0], hp->memstats, small);
	print_class_header();
	for (i = 1; i <= GOMEM_NUM_SIZE_CLASSES; i++)
		if (class_active(&rows[i % GOMEM_NUM_SIZE_CLASSES]))
			print_class_row(&rows[i % GOMEM_NUM_SIZE_CLASSES]);
}

static long parse_pid(const char *s)
{
	char *end;
	long pid;

	errno = 0;
	pid = strtol(s, &end, 10);
	if (errno || end == s || *end || pid <= 0)
		die("'%s' is not a process id", s);
	return pid;
}

static int cmd_stats(int argc, char **argv)
{
	struct heap_list hl;
	bool verbose = false;
	long pid = -1;
	size_t i;
	int opt;

	while ((opt = getopt(argc, argv, "+v")) != -1) {
		if (opt != 'v')
			die("usage: gomemctl stats [-v] [PID]");
		verbose = true;
	}
	if (optind + 1 < argc)
		die("usage: gomemctl stats [-v] [PID]");
	if (optind < argc)
		pid = parse_pid(argv[optind]);

	read_heaps(&hl, pid, verbose, verbose, true);
	if (!hl.n) {
		if (pid >= 0)
			printf("no gomem heap owned by pid %ld\n", pid);
		else
			printf("no gomem heap\n");
		return 0;
	}
	for (i = 0; i < hl.n; i++) {
		struct heap *hp = &hl.v[i];

		printf("%sheap %llu: pid %ld (%s)\n", i ? "\n" : "", hp->id, hp->pid,
		       hp->comm[0] ? hp->comm : "?");
		print_memstats(hp->memstats);
		if (hp->gc)
			print_gc_summary(hp->gc, hp->memstats);
		if (!verbose)
			continue;
		printf("\n  size classes in use:\n");
		print_heap_classes(hp);
		if (hp->arenas) {
			printf("\n  arenas:\n");
			print_indented(hp->arenas);
		}
	}
	free_heaps(&hl);
	if (pid < 0) {
		char path[PATH_MAX], *total;

		heap_path(path, sizeof(path), "total");
		total = slurp(path);
		if (total) {
			printf("\nall heaps:\n");
			print_indented(total);
			free(total);
		}
	}
	return 0;
}

/* ---- signals ---- */

static atomic_int got_signal;

/*
 * Installed without SA_RESTART: a blocking poll() returns EINTR and the
 * loop looks. SIGWINCH (top) only interrupts, so that the view is redrawn.
 */
static void on_signal(int sig)
{
	if (sig != SIGWINCH)
		got_signal = sig;
}

/* ---- gomemctl gc ---- */

/* The ring of recent cycles: columns found by the header's names. */
enum { RC_CYCLE, RC_FORCED, RC_START, RC_SWEEPTERM, RC_MARK, RC_MARKTERM, RC_SWEEP,
	RC_PAUSE, RC_BEFORE, RC_AFTER, RC_MARKED, RC_GOAL, RC_FREED, NR_RC };

static const char * const ring_cols[NR_RC] = {
	"cycle", "forced", "start_ns", "sweepterm_ns", "mark_ns", "markterm_ns", "sweep_ns",
	"pause_ns", "heap_before", "heap_after", "heap_marked", "heap_goal", "freed_objects",
};

/* Print the ring table whose header is @hdr and rows follow in *@text. */
static void print_ring(char *hdr, char **text)
{
	char *w[32], *line, buf[5][16];
	int col[NR_RC], n, i, j;

	n = split_words(hdr, w, ARRAY_SIZE(w));
	for (i = 0; i < NR_RC; i++) {
		col[i] = -1;
		for (j = 0; j < n; j++)
			if (!strcmp(w[j], ring_cols[i]))
				col[i] = j;
	}
	printf("\n  recent cycles:\n");
	printf("  %5s %6s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s %7s\n", "cycle", "forced",
	       "start", "pause", "sweepterm", "mark", "markterm", "sweep", "before", "after",
	       "marked", "goal", "freed");
	/* The rows: the lines that start with a digit. */
	while (isdigit((unsigned char)**text) && (line = next_line(text))) {
		u64 v[NR_RC] = { 0 };

		n = split_words(line, w, ARRAY_SIZE(w));
		for (i = 0; i < NR_RC; i++)
			if (col[i] >= 0 && col[i] < n)
				v[i] = strtoull(w[col[i]], NULL, 10);
		printf("  %5" PRIu64 " %6s %8.3fs %9s %9s %9s %9s %9s %9s %9s %9s %9s %7" PRIu64 "\n",
		       v[RC_CYCLE], v[RC_FORCED] ? "yes" : "no", v[RC_START] / 1e9,
		       hns(v[RC_PAUSE], buf[0], sizeof(buf[0])),
		       hns(v[RC_SWEEPTERM], buf[1], sizeof(buf[1])),
		       hns(v[RC_MARK], buf[2], sizeof(buf[2])),
		       hns(v[RC_MARKTERM], buf[3], sizeof(buf[3])),
		       hns(v[RC_SWEEP], buf[4], sizeof(buf[4])),
		       hsize(v[RC_BEFORE]).s, hsize(v[RC_AFTER]).s, hsize(v[RC_MARKED]).s,
		       hsize(v[RC_GOAL]).s, v[RC_FREED]);
	}
}

/* A heap's gc file: the Name value lines, other lines as they are, the ring. */
static void print_gc(const char *gc)
{
	char *copy = strdup(gc), *text = copy, *line, *w[2], *save;

	if (!copy)
		die("out of memory");
	while ((line = next_line(&text))) {
		save = strdup(line);
		if (!save)
			die("out of memory");
		if (stat_line(line, w))
			print_stat(w[0], w[1]);
		else if (!strncmp(save, "cycle ", 6))
			print_ring(save, &text);
		else if (*save)
			printf("  %s\n", save);
		free(save);
	}
	free(copy);
}

#define GC_USAGE "usage: gomemctl gc [-p PID] [HEAP-ID]"

/*
 * The collector's state of every heap (of PID, or heap HEAP-ID) from
 * debugfs. A cycle cannot be run from here: heap commands made from
 * another process than the heap's fail with EPERM (gomemctl demo runs
 * cycles on a heap of its own).
 */
static int cmd_gc(int argc, char **argv)
{
	struct heap_list hl;
	unsigned long long id = 0;
	bool one = false;	/* only heap @id */
	size_t i, shown = 0;
	long pid = -1;
	char *end;
	int opt;

	while ((opt = getopt(argc, argv, "+p:")) != -1) {
		if (opt != 'p')
			die(GC_USAGE);
		pid = parse_pid(optarg);
	}
	if (optind + 1 < argc)
		die(GC_USAGE);
	if (optind < argc) {
		errno = 0;
		id = strtoull(argv[optind], &end, 10);
		if (errno || end == argv[optind] || *end || !isdigit((unsigned char)argv[optind][0]))
			die("'%s' is not a heap id", argv[optind]);
		one = true;
	}
	read_heaps(&hl, pid, false, false, true);
	stat_width = 19;
	for (i = 0; i < hl.n; i++) {
		struct heap *hp = &hl.v[i];

		if (one && hp->id != id)
			continue;
		printf("%sheap %llu: pid %ld (%s)\n", shown++ ? "\n" : "", hp->id, hp->pid,
		       hp->comm[0] ? hp->comm : "?");
		if (hp->gc)
			print_gc(hp->gc);
		else
			printf("  (no gc file: this gomem module has no collector)\n");
	}
	free_heaps(&hl);
	if (!shown) {
		if (one)
			printf("no gomem heap %llu%s\n", id, pid >= 0 ? " owned by that pid" : "");
		else if (pid >= 0)
			printf("no gomem heap owned by pid %ld\n", pid);
		else
			printf("no gomem heap\n");
	}
	return 0;
}

/* ---- gomemctl gctrace ---- */

/*
 * The gctrace line in a /dev/kmsg record ("pri,seq,usec,flags;text\n" and
 * " KEY=value" lines), if it is one and of the heap @want ("heap 3",
 * "kheap kernel", or NULL for any): its text, NUL-terminated in place.
 */
static char *gctrace_text(char *rec, const char *want)
{
	char *text = strchr(rec, ';'), *nl, *colon;
	size_t len;

	if (!text)
		return NULL;
	text++;
	nl = strchr(text, '\n');
	if (nl)
		*nl = '\0';
	if (strncmp(text, "gomem: ", 7))
		return NULL;
	colon = strstr(text + 7, ": gc ");
	if (!colon)
		return NULL;
	len = colon - (text + 7);
	if (want && (strlen(want) != len || strncmp(text + 7, want, len)))
		return NULL;
	if (strncmp(text + 7, "heap ", 5) && strncmp(text + 7, "kheap ", 6))
		return NULL;
	return text;
}

struct kmsg {
	int fd;
	bool lost;	/* records were overwritten before they were read */
};

/* Open the kernel log at its end (or start); 0 or an errno. */
static int kmsg_open(struct kmsg *k, bool from_start)
{
	k->fd = open(KMSG, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	k->lost = false;
	if (k->fd < 0)
		return errno;
	if (!from_start && lseek(k->fd, 0, SEEK_END) < 0) {
		int err = errno;

		close(k->fd);
		k->fd = -1;
		return err;
	}
	return 0;
}

/*
 * The next gctrace line of @want in the log, waiting until @deadline
 * (CLOCK_MONOTONIC ns; 0: forever). Return: the line in @buf, or NULL at
 * the deadline or on a signal.
 */
static char *kmsg_next(struct kmsg *k, const char *want, u64 deadline, char *buf, size_t size)
{
	for (;;) {
		struct pollfd pfd = { .fd = k->fd, .events = POLLIN };
		ssize_t n = read(k->fd, buf, size - 1);
		char *text;
		int ms = -1;

		if (n > 0) {
			buf[n] = '\0';
			text = gctrace_text(buf, want);
			if (text)
				return text;
			continue;
		}
		if (n < 0 && errno == EPIPE) {
			k->lost = true;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			die("%s: %s", KMSG, strerror(errno));
		if (got_signal)
			return NULL;
		if (deadline) {
			u64 now = monotonic_ns();

			if (now >= deadline)
				return NULL;
			ms = (deadline - now + 999999) / 1000000;
		}
		if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
			die("poll: %s", strerror(errno));
	}
}

/* The gctrace module parameter: 0, 1, or -1 if it cannot be read. */
static int gctrace_param(void)
{
	char *text = slurp(GCTRACE_PARAM);
	int v = -1;

	if (text) {
		v = atoi(text);
		free(text);
	}
	return v;
}

static bool set_gctrace_param(int v)
{
	FILE *f = fopen(GCTRACE_PARAM, "w");
	bool ok;

	if (!f)
		return false;
	ok = fprintf(f, "%d\n", v) > 0;
	return !fclose(f) && ok;
}

#define GCTRACE_USAGE \
	"usage: gomemctl gctrace [--all] [--on] [-n COUNT] [-t SECONDS] [HEAP-ID|KHEAP-NAME]"

static int cmd_gctrace(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "on", no_argument, NULL, 'o' },
		{ "count", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct sigaction sa = { .sa_handler = on_signal };
	bool all = false, on = false;
	char want[64], *end, *line;
	const char *filter = NULL;
	long count = 0, seen = 0;
	double timeout = 0;
	u64 deadline = 0;
	static char buf[8192];
	struct kmsg k;
	int opt;

	while ((opt = getopt_long(argc, argv, "+an:t:", opts, NULL)) != -1) {
		switch (opt) {
		case 'a':
			all = true;
			break;
		case 'o':
			on = true;
			break;
		case 'n':
			count = strtol(optarg, &end, 10);
			if (*end || end == optarg || count < 1)
				die("-n wants a count of at least 1: '%s'", optarg);
			break;
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(timeout > 0) || timeout > 86400 * 365)
				die("-t wants seconds, more than 0: '%s'", optarg);
			break;
		default:
			die(GCTRACE_USAGE);
		}
	}
	if (optind + 1 < argc)
		die(GCTRACE_USAGE);
	if (optind < argc) {
		const char *a = argv[optind];

		if (!*a || strlen(a) > 40 || strpbrk(a, " \t:"))
			die("'%s' is not a heap id or a kernel heap's name", a);
		snprintf(want, sizeof(want), "%s %s",
			 strspn(a, "0123456789") == strlen(a) ? "heap" : "kheap", a);
		filter = want;
	}
	if (on && !set_gctrace_param(1)) {
		if (errno == ENOENT)
			die("%s: the gomem module is not loaded (modprobe gomem)", GCTRACE_PARAM);
		die("%s: %s: cannot turn gctrace on%s", GCTRACE_PARAM, strerror(errno),
		    errno == EACCES || errno == EPERM ? " (root needed)" : "");
	}
	if (gctrace_param() == 0)
		fprintf(stderr, "gomemctl: gctrace is off, no line will come: gomemctl gctrace --on, or echo 1 > %s\n",
			GCTRACE_PARAM);
	opt = kmsg_open(&k, all);
	if (opt == EACCES || opt == EPERM)
		die("%s: %s: reading the kernel log needs root (or CAP_SYSLOG)", KMSG, strerror(opt));
	if (opt)
		die("%s: %s", KMSG, strerror(opt));
	/* Ctrl-C ends the wait, not the process: the count is reported. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (timeout > 0)
		deadline = monotonic_ns() + (u64)(timeout * 1e9);
	while ((!count || seen < count) &&
	       (line = kmsg_next(&k, filter, deadline, buf, sizeof(buf)))) {
		puts(line);
		fflush(stdout);
		seen++;
	}
	close(k.fd);
	if (k.lost)
		fprintf(stderr, "gomemctl: some kernel log records were overwritten before they were read\n");
	if (count && seen < count) {
		fprintf(stderr, "gomemctl: %ld of %ld gctrace line%s %s\n", seen, count,
			count == 1 ? "" : "s", got_signal ? "before the signal" : "before the timeout");
		return 1;
	}
	return 0;
}

/* ---- gomemctl top ---- */

/*
 * slabtop's columns and sort keys, a size class being a cache and a span
 * a slab; gomem's own columns (allocations, frees, fast-path share) sit
 * before NAME under keys slabtop does not use.
 */
enum sort_key { SORT_ACTIVE, SORT_OBJ_PER_SLAB, SORT_CACHE_SIZE, SORT_SLABS, SORT_ACTIVE_SLABS,
	SORT_NAME, SORT_OBJS, SORT_PAGES, SORT_OBJ_SIZE, SORT_USE, SORT_ALLOCS, SORT_FREES,
	NR_SORT };

static const struct {
	char key;
	const char *name;	/* the long spelling of -s, and the title line's word */
} sort_keys[NR_SORT] = {
	[SORT_ACTIVE] = { 'a', "active" },
	[SORT_OBJ_PER_SLAB] = { 'b', "objs/slab" },
	[SORT_CACHE_SIZE] = { 'c', "cache-size" },
	[SORT_SLABS] = { 'l', "slabs" },
	[SORT_ACTIVE_SLABS] = { 'v', "active-slabs" },
	[SORT_NAME] = { 'n', "name" },
	[SORT_OBJS] = { 'o', "objs" },
	[SORT_PAGES] = { 'p', "pages/slab" },
	[SORT_OBJ_SIZE] = { 's', "obj-size" },
	[SORT_USE] = { 'u', "use" },
	[SORT_ALLOCS] = { 'm', "allocs" },
	[SORT_FREES] = { 'f', "frees" },
};

struct snapshot {
	unsigned int heaps;
	u64 heap_alloc, heap_sys, resident;
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES];
};

static void take_snapshot(struct snapshot *s)
{
	struct heap_list hl;
	unsigned int i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++) {
		s->rows[i].class = i;
		s->rows[i].size = i ? gm_class_to_size[i] : 0;
	}
	read_heaps(&hl, -1, true, false, false);
	for (i = 0; i < hl.n; i++) {
		struct heap *hp = &hl.v[i];
		long long small;
		u64 v;

		s->heaps++;
		if (find_value(hp->memstats, "HeapAlloc", &v))
			s->heap_alloc += v;
		if (find_value(hp->memstats, "HeapSys", &v))
			s->heap_sys += v;
		if (find_value(hp->memstats, "Resident", &v))
			s->resident += v;
		small = hp->classes ? add_classes(s->rows, hp->classes) : -1;
		set_large_bytes(&s->rows[0], hp->memstats, small);
	}
	free_heaps(&hl);
}

static u64 min_u64(u64 a, u64 b)
{
	return a < b ? a : b;
}

/* A span of the class ("slab"): its objects and bytes; a large object is one span. */
static u64 objs_per_slab(const struct class_row *r)
{
	return r->class ? gm_class_to_npages[r->class] * GM_PAGE_SIZE / r->size : 1;
}

static u64 slab_bytes(const struct class_row *r)
{
	if (r->class)
		return gm_class_to_npages[r->class] * GM_PAGE_SIZE;
	return r->spans ? r->bytes / r->spans : 0;
}

/* OBJS: slots of the class's spans (the large objects themselves for class 0). */
static u64 row_objs(const struct class_row *r)
{
	return r->class ? r->spans * objs_per_slab(r) : r->inuse;
}

static u64 row_cache_size(const struct class_row *r)
{
	return r->class ? r->spans * slab_bytes(r) : r->bytes;
}

/* Per mille, for sorting and printing USE. */
static u64 row_use(const struct class_row *r)
{
	u64 objs = row_objs(r);

	return objs ? r->inuse * 1000 / objs : 0;
}

static u64 sort_value(const struct class_row *r, enum sort_key key)
{
	switch (key) {
	case SORT_ACTIVE:
		return r->inuse;
	case SORT_OBJ_PER_SLAB:
		return objs_per_slab(r);
	case SORT_CACHE_SIZE:
		return row_cache_size(r);
	case SORT_SLABS:
		return r->spans;
	case SORT_ACTIVE_SLABS:
		return r->spans - min_u64(r->empty, r->spans);
	case SORT_PAGES:
		return r->class ? gm_class_to_npages[r->class] : slab_bytes(r) / GM_PAGE_SIZE;
	case SORT_OBJ_SIZE:
		return r->class ? r->size : slab_bytes(r);
	case SORT_USE:
		return row_use(r);
	case SORT_ALLOCS:
		return r->allocs;
	case SORT_FREES:
		return r->frees;
	case SORT_NAME:
		return 0;
	default:
		return row_objs(r);
	}
}

static enum sort_key cur_sort;

static int cmp_rows(const void *a, const void *b)
{
	const struct class_row *x = a, *y = b;
	u64 vx = sort_value(x, cur_sort), vy = sort_value(y, cur_sort);

	if (vx != vy)
		return vx < vy ? 1 : -1;
	return (x->class > y->class) - (x->class < y->class);
}

/* slabtop's K: kibibytes with two decimals. */
static const char *kib(u64 bytes, char *buf, size_t len)
{
	snprintf(buf, len, "%.2fK", bytes / 1024.0);
	return buf;
}

static double pct(u64 part, u64 whole)
{
	return whole ? 100.0 * part / whole : 0;
}

/* slabtop's five summary lines, over the active classes. */
static void print_summary(const struct class_row *rows, unsigned int n)
{
	u64 objs = 0, active = 0, slabs = 0, aslabs = 0, size = 0, live = 0;
	u64 minsz = 0, maxsz = 0, sz;
	char b[4][24];
	unsigned int i;

	for (i = 0; i < n; i++) {
		objs += row_objs(&rows[i]);
		active += rows[i].inuse;
		slabs += rows[i].spans;
		aslabs += sort_value(&rows[i], SORT_ACTIVE_SLABS);
		size += row_cache_size(&rows[i]);
		live += rows[i].bytes;
		if (!rows[i].inuse)
			continue;
		sz = sort_value(&rows[i], SORT_OBJ_SIZE);
		minsz = minsz ? min_u64(minsz, sz) : sz;
		maxsz = sz > maxsz ? sz : maxsz;
	}
	printf(" Active / Total Objects (%% used)    : %" PRIu64 " / %" PRIu64 " (%.1f%%)\n",
	       active, objs, pct(active, objs));
	printf(" Active / Total Slabs (%% used)      : %" PRIu64 " / %" PRIu64 " (%.1f%%)\n",
	       aslabs, slabs, pct(aslabs, slabs));
	printf(" Active / Total Caches (%% used)     : %u / %u (%.1f%%)\n", n,
	       GOMEM_NUM_SIZE_CLASSES, pct(n, GOMEM_NUM_SIZE_CLASSES));
	printf(" Active / Total Size (%% used)       : %s / %s (%.1f%%)\n",
	       kib(live, b[0], sizeof(b[0])), kib(size, b[1], sizeof(b[1])), pct(live, size));
	printf(" Minimum / Average / Maximum Object : %s / %s / %s\n",
	       kib(minsz, b[2], sizeof(b[2])), kib(active ? live / active : 0, b[3], sizeof(b[3])),
	       kib(maxsz, b[0], sizeof(b[0])));
}

static void print_top_header(void)
{
	printf("%6s %6s %4s %8s %6s %8s %10s %9s %9s %5s %s\n", "OBJS", "ACTIVE", "USE",
	       "OBJ SIZE", "SLABS", "OBJ/SLAB", "CACHE SIZE", "ALLOCS", "FREES", "FAST%", "NAME");
}

static void print_top_row(const struct class_row *r)
{
	char name[24], size[24], cache[24], fast[8];

	if (r->class)
		snprintf(name, sizeof(name), "gomem-%" PRIu64, r->size);
	else
		snprintf(name, sizeof(name), "gomem-large");
	if (r->fast + r->slow)
		snprintf(fast, sizeof(fast), "%.0f", pct(r->fast, r->fast + r->slow));
	else
		snprintf(fast, sizeof(fast), "-");
	printf("%6" PRIu64 " %6" PRIu64 " %3" PRIu64 "%% %8s %6" PRIu64 " %8" PRIu64 " %10s %9" PRIu64
	       " %9" PRIu64 " %5s %s\n",
	       row_objs(r), r->inuse, row_use(r) / 10,
	       kib(sort_value(r, SORT_OBJ_SIZE), size, sizeof(size)), r->spans, objs_per_slab(r),
	       kib(row_cache_size(r), cache, sizeof(cache)), r->allocs, r->frees, fast, name);
}

/* Print one snapshot; at most @max_rows classes (0: all). */
static void print_snapshot(struct snapshot *s, enum sort_key key, double delay,
			   bool interactive, unsigned int max_rows)
{
	struct class_row rows[GOMEM_NUM_SIZE_CLASSES];
	unsigned int i, n = 0;
	char when[32];
	time_t now = time(NULL);

	for (i = 0; i < GOMEM_NUM_SIZE_CLASSES; i++)
		if (class_active(&s->rows[i]))
			rows[n++] = s->rows[i];
	print_summary(rows, n);
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	printf(" gomem %s: %u heap%s, HeapAlloc %s, HeapSys %s, Resident %s; sorted by %s",
	       when, s->heaps, s->heaps == 1 ? "" : "s", hsize(s->heap_alloc).s,
	       hsize(s->heap_sys).s, hsize(s->resident).s, sort_keys[key].name);
	if (interactive)
		printf(", every %gs", delay);
	printf("\n\n");
	if (!n) {
		printf(s->heaps ? "(no objects allocated)\n" : "(no gomem heap)\n");
		return;
	}
	cur_sort = key;
	qsort(rows, n, sizeof(rows[0]), cmp_rows);
	if (max_rows && n > max_rows)
		n = max_rows;
	print_top_header();
	for (i = 0; i < n; i++)
		print_top_row(&rows[i]);
}

static struct termios saved_tio;
static bool raw_on, screen_on;

static void restore_terminal(void)
{
	if (screen_on) {
		/* Show the cursor, leave the alternate screen. */
		fputs("\033[?25h\033[?1049l", stdout);
		fflush(stdout);
		screen_on = false;
	}
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_tio);
		raw_on = false;
	}
}

static void setup_terminal(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: poll() returns EINTR and the loop looks. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	atexit(restore_terminal);
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios tio = saved_tio;

		tio.c_lflag &= ~(ICANON | ECHO);
		tio.c_cc[VMIN] = 0;
		tio.c_cc[VTIME] = 0;
		if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &tio) == 0)
			raw_on = true;
	}
	/* Alternate screen, hidden cursor. */
	fputs("\033[?1049h\033[?25l", stdout);
	screen_on = true;
}

static unsigned int screen_rows(void)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) || ws.ws_row < 8)
		return 24;
	return ws.ws_row;
}

/*
 * Wait up to @delay seconds for a key; return it, 0 on timeout, -1 when
 * a signal says stop. Without a terminal on stdin, just sleep.
 */
static int wait_key(double delay)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	int ms = delay * 1000;
	char c;

	if (got_signal)
		return -1;
	if (!raw_on) {
		struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return got_signal ? -1 : 0;
	}
	if (poll(&pfd, 1, ms) <= 0)
		return got_signal ? -1 : 0;
	if (read(STDIN_FILENO, &c, 1) != 1)
		return 0;
	return (unsigned char)c;
}

/* slabtop's one-letter criteria, or their long names; the old words of gomemctl too. */
static bool parse_sort_key(const char *s, enum sort_key *key)
{
	static const struct {
		const char *word;
		enum sort_key key;
	} old[] = {
		{ "inuse", SORT_ACTIVE }, { "bytes", SORT_CACHE_SIZE }, { "spans", SORT_SLABS },
	};
	unsigned int i;

	for (i = 0; i < NR_SORT; i++) {
		if ((s[0] == sort_keys[i].key && !s[1]) || !strcmp(s, sort_keys[i].name)) {
			*key = i;
			return true;
		}
	}
	for (i = 0; i < ARRAY_SIZE(old); i++) {
		if (!strcmp(s, old[i].word)) {
			*key = old[i].key;
			return true;
		}
	}
	return false;
}

/* The key pressed, as a sort order; false for any other key. */
static bool key_sort(int c, enum sort_key *key)
{
	unsigned int i;

	for (i = 0; i < NR_SORT; i++) {
		if (c == sort_keys[i].key) {
			*key = i;
			return true;
		}
	}
	return false;
}

#define TOP_USAGE "usage: gomemctl top [-d SECONDS] [-s CRITERIA] [-n ITERATIONS] [-o|--once]"

static int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "sort", required_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	enum sort_key key = SORT_OBJS;
	struct snapshot snap;
	long iterations = 0;	/* 0: until q */
	double delay = 1.0;
	bool interactive;
	char *end;
	int opt, c;
	long i;

	while ((opt = getopt_long(argc, argv, "+d:s:n:o", opts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			delay = strtod(optarg, &end);
			if (*end || end == optarg || !(delay > 0) || delay > 86400)
				die("-d wants seconds, more than 0: '%s'", optarg);
			break;
		case 's':
			if (!parse_sort_key(optarg, &key))
				die("-s wants one of a b c l v n o p s u (slabtop's) or m f: '%s'", optarg);
			break;
		case 'n':
			iterations = strtol(optarg, &end, 10);
			if (*end || end == optarg || iterations < 1)
				die("-n wants a count of at least 1: '%s'", optarg);
			break;
		case 'o':
			iterations = 1;
			break;
		default:
			die(TOP_USAGE);
		}
	}
	if (optind < argc)
		die(TOP_USAGE);

	/* Read once before touching the terminal, so that errors read well. */
	take_snapshot(&snap);
	interactive = !iterations && isatty(STDOUT_FILENO);
	if (!interactive) {
		for (i = 0; !iterations || i < iterations; i++) {
			if (i) {
				if (wait_key(delay) < 0)
					break;
				take_snapshot(&snap);
				printf("\n");
			}
			print_snapshot(&snap, key, delay, false, 0);
			fflush(stdout);
		}
		return 0;
	}

	setup_terminal();
	for (;;) {
		/* Home, clear; the summary and the headers take 9 lines. */
		fputs("\033[H\033[2J", stdout);
		print_snapshot(&snap, key, delay, true, screen_rows() - 10);
		fflush(stdout);
		c = wait_key(delay);
		if (c < 0 || c == 'q' || c == 'Q')
			break;
		/* slabtop: space refreshes now; any other key is ignored. */
		key_sort(c, &key);
		take_snapshot(&snap);
	}
	restore_terminal();
	return 0;
}

/* ---- gomemctl demo ---- */

/* This process's VSZ, from /proc/self/status. */
static u64 vsz_bytes(void)
{
	char *text = slurp("/proc/self/status"), *p = text, *line;
	u64 kb = 0;

	if (!text)
		die("/proc/self/status: %s", strerror(errno));
	while ((line = next_line(&p)))
		if (sscanf(line, "VmSize: %" SCNu64, &kb) == 1)
			break;
	free(text);
	return kb * 1024;
}

struct mapping {
	u64 start, end;
	char perms[8];
};

/* The heap's mappings in this process and the sum of their Rss. */
struct arena_maps {
	struct mapping v[64];
	unsigned int n;
	u64 rss;
};

/*
 * Find the mappings of the heap's device in /proc/self/smaps: by pathname,
 * or by device and inode should the path be another name of it.
 */
static void read_arena_maps(struct gomem_heap *h, struct arena_maps *am)
{
	char *text = slurp("/proc/self/smaps"), *p = text, *line;
	bool ours = false;
	struct stat st;

	if (!text)
		die("/proc/self/smaps: %s", strerror(errno));
	if (fstat(gomem_fd(h), &st))
		die("fstat: %s", strerror(errno));
	memset(am, 0, sizeof(*am));
	while ((line = next_line(&p))) {
		unsigned int maj, min;
		unsigned long long start, end, off, ino;
		char perms[8];
		int pos = 0;
		u64 kb;

		if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms,
			   &off, &maj, &min, &ino, &pos) == 7 && pos) {
			ours = !strcmp(line + pos, DEVICE) ||
			       (makedev(maj, min) == st.st_dev && ino == st.st_ino);
			if (ours && am->n < ARRAY_SIZE(am->v)) {
				am->v[am->n].start = start;
				am->v[am->n].end = end;
				snprintf(am->v[am->n].perms, sizeof(am->v[am->n].perms), "%s", perms);
				am->n++;
			}
			continue;
		}
		if (ours && sscanf(line, "Rss: %" SCNu64, &kb) == 1)
			am->rss += kb * 1024;
	}
	free(text);
}

static const struct mapping *mapping_of(const struct arena_maps *am, const void *p)
{
	u64 a = (uintptr_t)p;
	unsigned int i;

	for (i = 0; i < am->n; i++)
		if (a >= am->v[i].start && a < am->v[i].end)
			return &am->v[i];
	return NULL;
}

/*
 * The timeline of demo --plot: a sample at every row and every 20 ms of
 * the scavenger's wait, written as CSV and drawn with gnuplot.
 */
#define DEMO_MAX_SAMPLES	4096

struct demo_sample {
	u64 t_ns;
	u64 rss, heap_alloc, heap_released, heap_sys;
	const char *step;	/* a row's label, or NULL */
};

static struct {
	bool on;
	u64 t0;
	unsigned int n;
	struct demo_sample v[DEMO_MAX_SAMPLES];
} timeline;

static void demo_sample(const struct gomem_memstats *st, u64 rss, const char *step)
{
	struct demo_sample *d;

	if (!timeline.on || timeline.n == DEMO_MAX_SAMPLES)
		return;
	d = &timeline.v[timeline.n++];
	d->t_ns = monotonic_ns() - timeline.t0;
	d->rss = rss;
	d->heap_alloc = st->heap_alloc;
	d->heap_released = st->heap_released;
	d->heap_sys = st->heap_sys;
	d->step = step ? strdup(step) : NULL;
}

static void demo_header(bool gc)
{
	printf("\n%-24s %10s %10s %10s %10s %13s%s\n", "step", "VSZ", "RSS(heap)", "HeapSys",
	       "HeapAlloc", "HeapReleased", gc ? "  NumGC" : "");
}

static void demo_row(struct gomem_heap *h, const char *step, bool gc)
{
	struct gomem_memstats st;
	struct arena_maps am;
	int err = gomem_stats(h, &st);

	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
	read_arena_maps(h, &am);
	demo_sample(&st, am.rss, step);
	printf("%-24s %10s %10s %10s %10s %13s", step, hsize(vsz_bytes()).s,
	       hsize(am.rss).s, hsize(st.heap_sys).s, hsize(st.heap_alloc).s,
	       hsize(st.heap_released).s);
	if (gc)
		printf("  %5" PRIu64, (u64)st.num_gc);
	printf("\n");
	fflush(stdout);
}

static struct gomem_heap *open_heap(void)
{
	struct gomem_heap *h = gomem_open(NULL);

	if (h)
		return h;
	switch (errno) {
	case ENOENT:
		die("%s: no such device: load gomem.ko (insmod gomem.ko)", DEVICE);
	case EPROTO:
		die("%s: the loaded gomem module speaks another ABI than gomemctl (%d)",
		    DEVICE, GOMEM_ABI_VERSION);
	case ENOTSUP:
		die("%s: the loaded gomem module has no per-process heaps", DEVICE);
	default:
		die("%s: %s", DEVICE, strerror(errno));
	}
}

static void *alloc_or_die(struct gomem_heap *h, size_t size, unsigned int flags)
{
	void *p = gomem_alloc(h, size, GOMEM_ALLOC_NOSCAN | flags);

	if (!p)
		die("allocating %s: %s", hsize(size).s, strerror(errno));
	return p;
}

static void stats_or_die(struct gomem_heap *h, struct gomem_memstats *st)
{
	int err = gomem_stats(h, st);

	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
}

static void sleep_ns(u64 ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };

	nanosleep(&ts, NULL);
}

/*
 * The retained memory the background scavenger works toward: MemStats's
 * from GOMEM_MEMSTATS_SIZE_VER2 on; from an older module, Go's rule on
 * the numbers it gives (10% over the heap goal, 95% of the limit).
 */
/* The heap's id: 64 bits from GOMEM_MEMSTATS_SIZE_VER3 on, 32 before. */
static unsigned long long heap_id_of(const struct gomem_memstats *st)
{
	return st->size >= GOMEM_MEMSTATS_SIZE_VER3 ? st->heap_id64 : st->heap_id;
}

static u64 scavenge_goal_of(const struct gomem_memstats *st)
{
	u64 goal = GOMEM_NO_LIMIT;

	if (st->size >= GOMEM_MEMSTATS_SIZE_VER2)
		return st->scavenge_goal;
	if (st->gogc != GOMEM_GOGC_OFF && st->next_gc)
		goal = st->next_gc + st->next_gc / 10;
	if (st->memory_limit != GOMEM_NO_LIMIT && st->memory_limit - st->memory_limit / 20 < goal)
		goal = st->memory_limit - st->memory_limit / 20;
	return goal;
}

/* RSS within 10% of the scavenger's goal counts as at the goal. */
static bool rss_at_goal(u64 rss, u64 goal)
{
	return goal == GOMEM_NO_LIMIT || rss <= goal + goal / 10;
}

/* How a wait for the scavenger ended. */
struct scav_wait {
	u64 ns;		/* time waited */
	u64 goal;	/* the scavenger's goal, GOMEM_NO_LIMIT if none */
	u64 rss;	/* the heap's resident bytes at the end */
	bool at_goal;
};

/*
 * Let the background scavenger work, without a debug.FreeOSMemory(),
 * until the heap's resident memory is within 10% of the scavenger's goal
 * or @max_ns have passed since @t0 (monotonic_ns(), when runtime.GC()
 * started). Polls MemStats every 20 ms.
 */
static void wait_scavenger(struct gomem_heap *h, u64 t0, u64 max_ns, struct scav_wait *w)
{
	u64 now = monotonic_ns();
	struct gomem_memstats st;

	for (;;) {
		stats_or_die(h, &st);
		demo_sample(&st, st.resident_bytes, NULL);
		w->goal = scavenge_goal_of(&st);
		w->rss = st.resident_bytes;
		w->at_goal = rss_at_goal(st.resident_bytes, w->goal);
		if (w->at_goal || now - t0 >= max_ns)
			break;
		sleep_ns(20000000);
		now = monotonic_ns();
	}
	w->ns = now - t0;
}

/* "at its goal after X s" or "gave up after X s, N MiB over its goal". */
static const char *scav_wait_why(const struct scav_wait *w, char *buf, size_t len)
{
	if (w->goal == GOMEM_NO_LIMIT)
		snprintf(buf, len, "no goal (GOGC off and no memory limit)");
	else if (w->at_goal)
		snprintf(buf, len, "at its goal (%s) after %.1f s", hsize(w->goal).s, w->ns / 1e9);
	else
		snprintf(buf, len, "gave up after %.1f s, %s over its goal (%s)", w->ns / 1e9,
			 hsize(w->rss - w->goal).s, hsize(w->goal).s);
	return buf;
}

/* The gctrace lines of the demo's heap, if the kernel log can be read. */
struct demo_trace {
	struct kmsg k;
	int old_param;		/* to restore, or -1 */
	const char *why_not;	/* NULL when lines are collected */
};

static void demo_trace_start(struct demo_trace *t)
{
	int param = gctrace_param();

	t->old_param = -1;
	t->k.fd = -1;
	t->why_not = NULL;
	if (param < 0) {
		t->why_not = "the module has no gctrace parameter";
		return;
	}
	if (kmsg_open(&t->k, false)) {
		t->why_not = "reading " KMSG " needs root";
		return;
	}
	if (param == 0) {
		if (!set_gctrace_param(1)) {
			t->why_not = "gctrace is 0 and " GCTRACE_PARAM " is not writable";
			close(t->k.fd);
			t->k.fd = -1;
			return;
		}
		t->old_param = 0;
	}
}

static void demo_trace_end(struct demo_trace *t, unsigned long long heap_id)
{
	char want[32], buf[8192], *line;
	unsigned int n = 0;

	if (t->why_not) {
		printf("\n(no gctrace lines: %s)\n", t->why_not);
		return;
	}
	snprintf(want, sizeof(want), "heap %llu", heap_id);
	printf("\ngctrace=1 (the kernel log's lines for heap %llu):\n", heap_id);
	/* Every line is in the log by now: take what is there, wait for nothing. */
	while ((line = kmsg_next(&t->k, want, 1, buf, sizeof(buf)))) {
		printf("  %s\n", line);
		n++;
	}
	if (!n)
		printf("  (none)\n");
	if (t->k.lost)
		printf("  (some kernel log records were overwritten before they were read)\n");
	close(t->k.fd);
	if (t->old_param >= 0)
		set_gctrace_param(t->old_param);
}

static void print_mappings(const struct arena_maps *am)
{
	unsigned int i;

	for (i = 0; i < am->n; i++)
		printf("  %010" PRIx64 "-%010" PRIx64 " %s %10s\n", am->v[i].start, am->v[i].end,
		       am->v[i].perms, hsize(am->v[i].end - am->v[i].start).s);
	if (!am->n)
		printf("  (none found in /proc/self/smaps)\n");
}

static const char *where_second(const struct arena_maps *am, const struct mapping *m1,
				const void *q)
{
	const struct mapping *m2 = mapping_of(am, q);

	if (!m2)
		return "outside the heap's mappings (unexpected)";
	if (m1 && m1->start == m2->start)
		return "in the same mapping as the first one";
	return "in another mapping than the first one";
}

/*
 * The experiment's first part: the big object allocated (with @flags), its
 * mappings listed, three bytes touched, then all. Return: the object.
 */
static char *demo_first(struct gomem_heap *h, size_t big, unsigned int flags, bool gc,
			struct arena_maps *am)
{
	char step[64], *p = alloc_or_die(h, big, flags);

	read_arena_maps(h, am);
	printf("a %s object at %p%s; the heap's mappings of %s:\n", hsize(big).s, p,
	       flags & GOMEM_ALLOC_ROOT ? ", a root (GOMEM_ALLOC_ROOT)" : "", DEVICE);
	print_mappings(am);
	demo_header(gc);
	snprintf(step, sizeof(step), "allocated %s", hsize(big).s);
	demo_row(h, step, gc);
	p[0] = 1;
	p[big / 2] = 1;
	p[big - 1] = 1;
	demo_row(h, "touched 3 bytes", gc);
	memset(p, 0xa5, big);
	demo_row(h, "touched every byte", gc);
	return p;
}

/* The last part: the second object allocated and touched. Return: it. */
static char *demo_second(struct gomem_heap *h, size_t half, unsigned int flags, bool gc,
			 struct arena_maps *am)
{
	char step[64], *q = alloc_or_die(h, half, flags);

	snprintf(step, sizeof(step), "allocated %s", hsize(half).s);
	demo_row(h, step, gc);
	memset(q, 0x5a, half);
	snprintf(step, sizeof(step), "touched %s", hsize(half).s);
	demo_row(h, step, gc);
	read_arena_maps(h, am);
	printf("\nVSZ: this process's address space; RSS(heap): resident pages of the heap's\n"
	       "mappings (/proc/self/smaps); Heap*%s: the heap's MemStats (GOMEM_IOC_STATS).\n",
	       gc ? ", NumGC" : "");
	return q;
}

/*
 * The experiment without a collector: free and scavenge by hand. The
 * caller has turned GOGC off where the module has a collector, so that no
 * cycle frees the unrooted object behind the demo's back.
 */
static void demo_nogc(struct gomem_heap *h, size_t big, size_t half)
{
	const struct mapping *m1;
	struct arena_maps am;
	u64 released = 0;
	char *p, *q;
	int err;

	p = demo_first(h, big, 0, false, &am);
	m1 = mapping_of(&am, p);
	if (gomem_free(h, p))
		die("gomem_free: %s", strerror(errno));
	err = gomem_scavenge(h, 0, &released);
	if (err)
		die("GOMEM_IOC_SCAVENGE: %s", strerror(-err));
	demo_row(h, "freed + scavenged", false);

	q = demo_second(h, half, 0, false, &am);
	printf("the scavenger gave back %s; the address space stayed reserved.\n",
	       hsize(released).s);
	printf("the %s object is at %p, %s\n", hsize(half).s, q, where_second(&am, m1, q));
}

/*
 * The forced cycle's figures. Its pause is the gctrace line's three clock
 * figures (sweep termination + mark + mark termination) plus the sweep
 * runtime.GC() finishes before it returns, which gctrace leaves out, as
 * Go's does: say so, or the two disagree for no visible reason.
 */
static void demo_gc_summary(const struct gomem_gc_stats *gs)
{
	char t[5][32];

	printf("runtime.GC(): cycle %" PRIu64 "%s, pause %s = %s + %s + %s (gctrace's clock:\n"
	       "  sweep termination + mark + mark termination) + %s of sweep, which a forced\n"
	       "  cycle finishes before it returns and gctrace leaves out, as Go's does;\n",
	       (u64)gs->cycle, gs->forced ? " (forced)" : "", hns(gs->pause_ns, t[0], sizeof(t[0])),
	       hns(gs->sweep_term_ns, t[1], sizeof(t[1])), hns(gs->mark_ns, t[2], sizeof(t[2])),
	       hns(gs->mark_term_ns, t[3], sizeof(t[3])), hns(gs->sweep_ns, t[4], sizeof(t[4])));
	printf("  heap %s -> %s -> %s live, %" PRIu64 " object%s freed (%s), next goal %s\n",
	       hsize(gs->heap_before).s, hsize(gs->heap_after).s, hsize(gs->heap_marked).s,
	       (u64)gs->freed_objects, gs->freed_objects == 1 ? "" : "s",
	       hsize(gs->freed_bytes).s, hsize(gs->heap_goal).s);
}

/*
 * The experiment as the notes run it in Go: the object is held by a root
 * until it is dropped, runtime.GC() frees it, the scavenger gives its
 * pages back, and the next object reuses the addresses.
 */
static void demo_gc(struct gomem_heap *h, unsigned long long heap_id, size_t big, size_t half,
		    u64 wait_ns)
{
	u64 bg_before, released = 0, t_gc;
	struct scav_wait sw;
	char why[96];
	struct gomem_memstats st0, st1, st2;
	const struct mapping *m1;
	struct gomem_gc_stats gs;
	struct demo_trace trace;
	struct arena_maps am;
	char step[64], t[1][32];
	char *p, *q;
	int err;

	demo_trace_start(&trace);
	p = demo_first(h, big, GOMEM_ALLOC_ROOT, true, &am);
	m1 = mapping_of(&am, p);
	err = gomem_root_del_object(h, p);
	if (err)
		die("GOMEM_IOC_ROOT_DEL: %s", strerror(-err));
	p = NULL;	/* dropped: nothing reaches the object now */
	demo_row(h, "dropped (root released)", true);

	/* The cycle kicks the scavenger: count what it gives back from here. */
	stats_or_die(h, &st0);
	bg_before = st0.bg_scavenged_bytes;
	t_gc = monotonic_ns();
	err = gomem_gc(h, &gs);
	if (err)
		die("GOMEM_IOC_GC: %s", strerror(-err));
	demo_row(h, "runtime.GC()", true);

	wait_scavenger(h, t_gc, wait_ns, &sw);
	snprintf(step, sizeof(step), "bg scavenger, +%.1f s", sw.ns / 1e9);
	demo_row(h, step, true);

	stats_or_die(h, &st1);
	err = gomem_scavenge(h, 0, &released);
	if (err)
		die("GOMEM_IOC_SCAVENGE: %s", strerror(-err));
	demo_row(h, "debug.FreeOSMemory()", true);
	stats_or_die(h, &st2);

	q = demo_second(h, half, GOMEM_ALLOC_ROOT, true, &am);
	demo_gc_summary(&gs);
	printf("the background scavenger gave back %s by %s after runtime.GC(), with no\n"
	       "  debug.FreeOSMemory(): %s; then debug.FreeOSMemory() (GOMEM_IOC_SCAVENGE)\n"
	       "  gave back the other %s; the address space stayed reserved.\n",
	       hsize(st1.bg_scavenged_bytes - bg_before).s,
	       hns(sw.ns, t[0], sizeof(t[0])),
	       scav_wait_why(&sw, why, sizeof(why)), hsize(released).s);
	/* HeapReleased counts more than what was scavenged: say what. */
	printf("HeapReleased went from %s (before runtime.GC()) to %s (after FreeOSMemory):\n"
	       "  the %s scavenged, plus arena space the heap never touched, which counts as\n"
	       "  released from the start, as Go counts fresh arenas.\n",
	       hsize(st0.heap_released).s, hsize(st2.heap_released).s,
	       hsize(st1.bg_scavenged_bytes - bg_before + released).s);
	printf("the %s object is at %p, %s\n", hsize(half).s, q, where_second(&am, m1, q));
	demo_trace_end(&trace, heap_id);
}

/* gnuplot on the PATH? (popen() cannot tell "not found" from a failed plot.) */
static bool have_gnuplot(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

/* Draw a demo timeline (CSV) to a PNG with gnuplot. Return: 0, or 1. */
static int render_timeline(const char *csv, const char *png)
{
	FILE *g;

	if (strpbrk(csv, "'\n") || strpbrk(png, "'\n"))
		die("file names with quotes or newlines are not plotted");
	g = popen("gnuplot", "w");
	if (!g)
		die("gnuplot: %s", strerror(errno));
	/* One line of gnuplot per string: checkpatch wants no string split across lines. */
	fprintf(g, "set terminal pngcairo size 1000,560\n");
	fprintf(g, "set output '%s'\n", png);
	fprintf(g, "set datafile separator ','\n");
	fprintf(g, "set key autotitle columnhead top right\n");
	fprintf(g, "set title \"Go's memory experiment on a gomem heap\"\n");
	fprintf(g, "set xlabel 'seconds'\n");
	fprintf(g, "set ylabel 'MiB'\n");
	fprintf(g, "set grid\n");
	fprintf(g, "plot '%s' using 1:($2/1048576) with lines lw 2, %s, %s, %s\n", csv,
		"'' using 1:($3/1048576) with lines lw 2",
		"'' using 1:($4/1048576) with lines lw 2",
		"'' using 1:($2/1048576):6 with labels rotate by 30 left font ',7' offset 0.5,0.5 notitle");
	if (pclose(g)) {
		fprintf(stderr, "gomemctl: gnuplot failed to draw %s\n", png);
		return 1;
	}
	printf("timeline drawn: %s\n", png);
	return 0;
}

/* FILE.png's data goes beside it, as FILE.csv. */
static void csv_name(const char *png, char *csv, size_t len)
{
	size_t n = strlen(png);

	if (n > 4 && !strcmp(png + n - 4, ".png"))
		n -= 4;
	snprintf(csv, len, "%.*s.csv", (int)n, png);
}

static int demo_plot(const char *png)
{
	char csv[PATH_MAX];
	unsigned int i;
	FILE *f;

	csv_name(png, csv, sizeof(csv));
	f = fopen(csv, "w");
	if (!f)
		die("%s: %s", csv, strerror(errno));
	fprintf(f, "seconds,RSS,HeapAlloc,HeapReleased,HeapSys,step\n");
	for (i = 0; i < timeline.n; i++) {
		const struct demo_sample *d = &timeline.v[i];

		fprintf(f, "%.3f,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%s\n",
			d->t_ns / 1e9, d->rss, d->heap_alloc, d->heap_released, d->heap_sys,
			d->step ? d->step : "");
	}
	if (fclose(f))
		die("%s: %s", csv, strerror(errno));
	printf("\ntimeline: %u samples in %s\n", timeline.n, csv);
	if (!have_gnuplot()) {
		printf("no gnuplot here: draw it elsewhere with 'gomemctl plot %s %s'\n", csv, png);
		return 0;
	}
	return render_timeline(csv, png);
}

#define PLOT_USAGE "usage: gomemctl plot TIMELINE.csv FILE.png"

/* gomemctl plot: draw a timeline demo --plot wrote where gnuplot was missing. */
static int cmd_plot(int argc, char **argv)
{
	if (argc != 3)
		die(PLOT_USAGE);
	if (!have_gnuplot())
		die("no gnuplot on the PATH (Debian: apt-get install gnuplot-nox)");
	return render_timeline(argv[1], argv[2]);
}

#define DEMO_USAGE "usage: gomemctl demo [--scale N] [--wait SECONDS] [--no-gc] [--plot FILE.png]"

static int cmd_demo(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "scale", required_argument, NULL, 'S' },
		{ "wait", required_argument, NULL, 'W' },
		{ "no-gc", no_argument, NULL, 'N' },
		{ "plot", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	const char *plot = NULL;
	struct gomem_memstats st;
	double wait = 30.0;
	struct gomem_heap *h;
	bool gc, no_gc = false;
	long scale = 1;
	char *end;
	int opt, gogc = 0;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			scale = strtol(optarg, &end, 10);
			if (*end || end == optarg || scale < 1 || scale > 1024)
				die("--scale wants a divisor from 1 to 1024: '%s'", optarg);
			break;
		case 'W':
			wait = strtod(optarg, &end);
			if (*end || end == optarg || !(wait >= 0) || wait > 600)
				die("--wait wants seconds from 0 to 600: '%s'", optarg);
			break;
		case 'N':
			no_gc = true;
			break;
		case 'P':
			plot = optarg;
			break;
		default:
			die(DEMO_USAGE);
		}
	}
	if (optind < argc)
		die(DEMO_USAGE);

	h = open_heap();
	gc = !no_gc && (gomem_features(h) & GOMEM_FEATURE_GC);
	/* --no-gc is Go's GOGC=off: no cycle may free the object behind the demo's back. */
	if (no_gc && (gomem_features(h) & GOMEM_FEATURE_GC) &&
	    gomem_set_gcpercent(h, -1) == GOMEM_GCPERCENT_ERROR)
		die("GOMEM_IOC_SET_GC (GOGC off): %s", strerror(errno));
	timeline.on = plot;
	timeline.t0 = monotonic_ns();
	stats_or_die(h, &st);
	if (gc && gomem_gc_params(h, &gogc, NULL))
		gc = false;
	printf("Go's memory experiment on gomem heap %llu (pid %d), sizes divided by %ld",
	       heap_id_of(&st),
	       (int)getpid(), scale);
	if (gc && gogc >= 0)
		printf(", GOGC %d", gogc);
	else if (gc)
		printf(", GOGC off");
	else
		printf(", %s", no_gc ? "GOGC off, freed by hand" : "no collector in this module");
	printf("\n\n");
	if (gc)
		demo_gc(h, heap_id_of(&st), 600 * MIB / scale, 300 * MIB / scale, wait * 1e9);
	else
		demo_nogc(h, 600 * MIB / scale, 300 * MIB / scale);
	gomem_close(h);
	if (plot)
		return demo_plot(plot);
	return 0;
}

/* The target for the scavenger after the 600 MiB death (issue 13). */
#define SCAVTIME_TARGET_S	10.0
#define SCAVTIME_USAGE "usage: gomemctl scavtime [--size MIB] [--timeout SECONDS]"

/*
 * gomemctl scavtime: the seed experiment's death, timed. A root object of
 * --size MiB is touched whole, its root dropped, runtime.GC() run; then
 * the time from the start of runtime.GC() until the heap's RSS is within
 * 10% of the scavenger's goal, with no FreeOSMemory. One line:
 *
 *   scavtime size_mib=600 seconds=4.21 target_s=10 result=met rss_mib=600.0->4.0
 *            smaps_rss_mib=4.0 goal_mib=4.4
 *
 * (one line), rss_mib by the heap's count (MemStats), smaps_rss_mib by
 * the kernel's (/proc/self/smaps).
 *
 * result is "met", "NOT-met" (over the target) or "timeout" (not at the
 * goal within --timeout, 60 s by default). Exit status 0 unless
 * something failed.
 */
static int cmd_scavtime(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	long size_mib = 600;
	double timeout = 60, secs;
	struct gomem_memstats st;
	struct gomem_gc_stats gs;
	struct gomem_heap *h;
	struct arena_maps am;
	struct scav_wait sw;
	u64 t0, rss0;
	const char *result;
	char *end, *p;
	int opt, err;

	while ((opt = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (opt) {
		case 'S':
			size_mib = strtol(optarg, &end, 10);
			if (*end || end == optarg || size_mib < 1 || size_mib > 65536)
				die("--size wants MiB from 1 to 65536: '%s'", optarg);
			break;
		case 'T':
			timeout = strtod(optarg, &end);
			if (*end || end == optarg || !(timeout >= 0) || timeout > 3600)
				die("--timeout wants seconds from 0 to 3600: '%s'", optarg);
			break;
		default:
			die(SCAVTIME_USAGE);
		}
	}
	if (optind < argc)
		die(SCAVTIME_USAGE);
	h = open_heap();
	if (!(gomem_features(h) & GOMEM_FEATURE_GC))
		die("the loaded module has no collector");
	p = alloc_or_die(h, size_mib * MIB, GOMEM_ALLOC_ROOT);
	memset(p, 0xa5, size_mib * MIB);
	stats_or_die(h, &st);
	rss0 = st.resident_bytes;
	err = gomem_root_del_object(h, p);
	if (err)
		die("GOMEM_IOC_ROOT_DEL: %s", strerror(-err));
	t0 = monotonic_ns();
	err = gomem_gc(h, &gs);
	if (err)
		die("GOMEM_IOC_GC: %s", strerror(-err));
	wait_scavenger(h, t0, timeout * 1e9, &sw);
	secs = sw.ns / 1e9;
	if (!sw.at_goal)
		result = "timeout";
	else
		result = secs <= SCAVTIME_TARGET_S ? "met" : "NOT-met";
	read_arena_maps(h, &am);
	printf("scavtime size_mib=%ld seconds=%.2f target_s=%.0f result=%s rss_mib=%.1f->%.1f smaps_rss_mib=%.1f goal_mib=%.1f\n",
	       size_mib, secs, SCAVTIME_TARGET_S, result, rss0 / (double)MIB, sw.rss / (double)MIB,
	       am.rss / (double)MIB, sw.goal == GOMEM_NO_LIMIT ? -1.0 : sw.goal / (double)MIB);
	gomem_close(h);
	return 0;
}

/*
 * gomemctl hold SECONDS SIZE: keep a heap with objects of several classes
 * and SIZE bytes in all alive for a while, for looking at it from outside
 * (the guest's demo script, tests). Not in the usage text.
 */
static int cmd_hold(int argc, char **argv)
{
	static const unsigned int sizes[] = { 16, 128, 1024, 8192 };
	void **objs[ARRAY_SIZE(sizes)] = { NULL };
	struct gomem_memstats st;
	bool gc;
	long long size, seconds;
	struct gomem_heap *h;
	unsigned int i;
	void *big;
	int err;

	seconds = argc == 3 ? parse_size(argv[1]) : -1;
	size = argc == 3 ? parse_size(argv[2]) : -1;
	if (seconds < 0 || seconds > UINT_MAX || size < 16)
		die("usage: gomemctl hold SECONDS SIZE (SIZE at least 16, K/M/G allowed)");
	h = open_heap();
	gc = gomem_features(h) & GOMEM_FEATURE_GC;
	/*
	 * Half the bytes in one large object, the rest in small ones. With a
	 * collector, all stay reachable: the large one is a root object, the
	 * arrays of small ones' addresses are root ranges, and a cycle that
	 * comes due meanwhile finds them in a mutator section.
	 */
	big = alloc_or_die(h, size / 2, gc ? GOMEM_ALLOC_ROOT : 0);
	memset(big, 1, size / 2);
	if (gc && gomem_mutator_enter(h))
		die("out of memory");
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = size / 2 / ARRAY_SIZE(sizes) / sizes[i];

		if (!n)
			continue;
		objs[i] = calloc(n, sizeof(*objs[i]));
		if (!objs[i])
			die("out of memory");
		err = gomem_alloc_bulk(h, sizes[i], GOMEM_ALLOC_ZERO, objs[i], n);
		if (err)
			die("allocating %zu objects of %u bytes: %s", n, sizes[i], strerror(-err));
		if (gc) {
			err = gomem_root_add(h, objs[i], n * sizeof(*objs[i]));
			if (err)
				die("GOMEM_IOC_ROOT_ADD: %s", strerror(-err));
		}
	}
	if (gc)
		gomem_mutator_exit(h);
	err = gomem_stats(h, &st);
	if (err)
		die("GOMEM_IOC_STATS: %s", strerror(-err));
	printf("gomemctl hold: heap %llu, pid %d, HeapAlloc %s, for %llds\n", heap_id_of(&st),
	       (int)getpid(), hsize(st.heap_alloc).s, seconds);
	fflush(stdout);
	sleep((unsigned int)seconds);
	gomem_close(h);
	for (i = 0; i < ARRAY_SIZE(sizes); i++)
		free(objs[i]);
	return 0;
}

/* ---- main ---- */

/*
 * Every command with its synopsis and its help: "gomemctl help" lists the
 * synopses, "gomemctl help CMD" and "gomemctl CMD --help" print one, and
 * gomemctl(1) says the same at more length.
 */
static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *help;
} commands[] = {
	{ "sizeclasses", cmd_sizeclasses, "sizeclasses",
	  "Go's size class table, as gomem uses it: class, bytes/obj, bytes/span,\n"
	  "objects, tail waste and max waste, exactly as Go's sizeclasses.go lists it.\n" },
	{ "stats", cmd_stats, "stats [-v] [PID]",
	  "MemStats of every heap, or of PID's heaps, from debugfs (root needed).\n"
	  "  -v    the size classes and the arenas too\n" },
	{ "gc", cmd_gc, "gc [-p PID] [HEAP-ID]",
	  "The collector's state of every heap (of PID's, or of one): NumGC,\n"
	  "NextGC, GOGC, the memory limit, pauses and the recent cycles (root needed).\n"
	  "  -p PID  only the heaps PID opened\n" },
	{ "gctrace", cmd_gctrace, "gctrace [--all] [--on] [-n COUNT] [-t SECONDS] [HEAP-ID|KHEAP-NAME]",
	  "Print the kernel log's gctrace lines (Go's GODEBUG=gctrace=1 format) as\n"
	  "they come, of every heap or of one, until COUNT lines, SECONDS or Ctrl-C.\n"
	  "  --all       the lines already in the log too\n"
	  "  --on        set the module parameter gctrace=1 first (root needed)\n"
	  "  -n COUNT    stop after COUNT lines\n"
	  "  -t SECONDS  stop after SECONDS\n" },
	{ "top", cmd_top, "top [-d SECONDS] [-s CRITERIA] [-n N] [-o|--once]",
	  "slabtop for gomem: every size class of all heaps as a cache, its spans as\n"
	  "slabs, with slabtop's summary lines and columns (OBJS ACTIVE USE OBJ SIZE\n"
	  "SLABS OBJ/SLAB CACHE SIZE), then gomem's ALLOCS FREES FAST%, then NAME;\n"
	  "from debugfs (root needed).\n"
	  "  -d SECONDS   refresh interval (default 1)\n"
	  "  -s CRITERIA  sort order, slabtop's letters: a active, b objs/slab,\n"
	  "               c cache size, l slabs, v active slabs, n name, o objs\n"
	  "               (default), p pages/slab, s object size, u use;\n"
	  "               gomem's: m allocations, f frees\n"
	  "  -n N         N plain snapshots (the default without a terminal)\n"
	  "  -o, --once   one plain snapshot, as slabtop -o\n"
	  "Keys: the criteria letters sort, q quits.\n" },
	{ "demo", cmd_demo, "demo [--scale N] [--wait SECONDS] [--no-gc] [--plot FILE.png]",
	  "The seed experiment on a heap of this process: allocate 600 MiB (/N) as\n"
	  "a root, touch it, drop it, runtime.GC(), let the scavenger work until RSS\n"
	  "is at its goal (up to SECONDS, default 30), FreeOSMemory, allocate 300 MiB\n"
	  "(/N); prints VSZ, RSS, HeapSys, NumGC and the gctrace lines at each step.\n"
	  "  --no-gc          GOGC off: free and scavenge by hand, as without a collector\n"
	  "  --plot FILE.png  the RSS, HeapAlloc and HeapReleased timeline: FILE.csv,\n"
	  "                   and FILE.png drawn by gnuplot if it is on the PATH\n" },
	{ "plot", cmd_plot, "plot TIMELINE.csv FILE.png",
	  "Draw a timeline that demo --plot wrote (on a machine without gnuplot,\n"
	  "such as the test guest) with gnuplot.\n" },
	{ "scavtime", cmd_scavtime, "scavtime [--size MIB] [--timeout SECONDS]",
	  "The time from runtime.GC() of a dead MIB (default 600) object until RSS\n"
	  "is within 10% of the scavenger's goal, with no FreeOSMemory; one line of\n"
	  "key=value (make bench's scavenger figure, target <= 10 s).\n" },
	{ "pprof", cmd_pprof, "pprof [-o FILE] [--raw] HEAP | -i RECORDING",
	  "A heap profile for go tool pprof: pprof's profile.proto, gzip-compressed,\n"
	  "with Go's four heap sample types (Documentation/profiling.rst).\n"
	  "  HEAP          a heap id (debugfs heaps/<id>, with the owner's maps) or a\n"
	  "                kernel heap's name (kheaps/<name>, with /proc/kallsyms); root\n"
	  "  -i RECORDING  a dump gomem_write_heap_profile() recorded; no privileges\n"
	  "  -o FILE       write the profile to FILE instead of standard output\n"
	  "  --raw         write the dump and the owner's maps instead (a recording)\n" },
	{ "hold", cmd_hold, "hold SECONDS SIZE",
	  "Open a heap, fill it with SIZE bytes (K/M/G allowed, at least 16) of\n"
	  "objects of several classes, and keep it for SECONDS (for tests and for\n"
	  "looking at stats, gc and top from another terminal).\n" },
};

static void print_usage(FILE *f)
{
	unsigned int i;

	fprintf(f, "usage: gomemctl COMMAND [ARGS]\n\n");
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		fprintf(f, "  gomemctl %s\n", commands[i].synopsis);
	fprintf(f, "  gomemctl help [COMMAND]\n\n"
		"'gomemctl help COMMAND' or 'gomemctl COMMAND --help' says more; see gomemctl(1).\n"
		"debugfs is read from $GOMEMCTL_DEBUGFS (default %s).\n", DEBUGFS_DEFAULT);
}

static const struct command *find_command(const char *name)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(name, commands[i].name))
			return &commands[i];
	return NULL;
}

static void print_command_help(const struct command *c)
{
	printf("usage: gomemctl %s\n\n%s", c->synopsis, c->help);
}

/* "--help" or "-h" among a command's arguments, before any "--". */
static bool wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		print_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		if (argc < 3) {
			print_usage(stdout);
			return 0;
		}
		c = find_command(argv[2]);
		if (!c)
			die("no command '%s': gomemctl help lists them", argv[2]);
		print_command_help(c);
		return 0;
	}
	c = find_command(argv[1]);
	if (!c) {
		fprintf(stderr, "gomemctl: unknown command '%s'\n\n", argv[1]);
		print_usage(stderr);
		return 2;
	}
	if (wants_help(argc - 1, argv + 1)) {
		print_command_help(c);
		return 0;
	}
	optind = 1;
	return c->run(argc - 1, argv + 1);
}

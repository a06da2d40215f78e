// SPDX-License-Identifier: GPL-2.0
/*
 * Function names from an ELF file's symbol table (elfsym.h). The file is
 * whatever a process mapped: every offset and size read from it is
 * checked against the file's size before it is used.
 */
#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "elfsym.h"

/* [off, off + len) lies within a file of @size bytes. */
static int in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

static int func_cmp(const void *a, const void *b)
{
	const struct elfsym_func *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

static void read_loads(const unsigned char *f, uint64_t size, const Elf64_Ehdr *eh,
		       struct elfsym *t)
{
	unsigned int i;

	if (eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    !in_file(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr), size))
		return;
	t->loads = calloc(eh->e_phnum ?: 1, sizeof(*t->loads));
	if (!t->loads)
		return;
	for (i = 0; i < eh->e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, f + eh->e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		t->loads[t->nloads].offset = ph.p_offset;
		t->loads[t->nloads].filesz = ph.p_filesz;
		t->loads[t->nloads++].vaddr = ph.p_vaddr;
	}
}

/* The section of a type, or NULL; @shdrs was checked to lie in the file. */
static const Elf64_Shdr *section(const Elf64_Shdr *shdrs, unsigned int n, uint32_t type,
				 Elf64_Shdr *copy)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		memcpy(copy, &shdrs[i], sizeof(*copy));
		if (copy->sh_type == type)
			return copy;
	}
	return NULL;
}

static void add_func(struct elfsym *t, size_t *cap, uint64_t addr, uint64_t size,
		     const char *name)
{
	if (t->nfuncs == *cap) {
		size_t c = *cap ? *cap * 2 : 256;
		struct elfsym_func *p = realloc(t->funcs, c * sizeof(*p));

		if (!p)
			return;
		t->funcs = p;
		*cap = c;
	}
	t->funcs[t->nfuncs].name = strdup(name);
	if (!t->funcs[t->nfuncs].name)
		return;
	t->funcs[t->nfuncs].addr = addr;
	t->funcs[t->nfuncs++].size = size;
}

static void read_funcs(const unsigned char *f, uint64_t size, const Elf64_Ehdr *eh,
		       struct elfsym *t)
{
	const Elf64_Shdr *shdrs;
	Elf64_Shdr symcopy, strcopy;
	const Elf64_Shdr *sym;
	const char *names;
	size_t cap = 0;
	uint64_t i, n;

	if (eh->e_shentsize != sizeof(Elf64_Shdr) ||
	    !in_file(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof(Elf64_Shdr), size))
		return;
	shdrs = (const void *)(f + eh->e_shoff);
	sym = section(shdrs, eh->e_shnum, SHT_SYMTAB, &symcopy);
	if (!sym)
		sym = section(shdrs, eh->e_shnum, SHT_DYNSYM, &symcopy);
	if (!sym || sym->sh_entsize != sizeof(Elf64_Sym) || sym->sh_link >= eh->e_shnum ||
	    !in_file(sym->sh_offset, sym->sh_size, size))
		return;
	memcpy(&strcopy, &shdrs[sym->sh_link], sizeof(strcopy));
	if (!strcopy.sh_size || !in_file(strcopy.sh_offset, strcopy.sh_size, size))
		return;
	names = (const char *)f + strcopy.sh_offset;
	/* The string table must end in a NUL for every name in it to end. */
	if (names[strcopy.sh_size - 1])
		return;
	n = sym->sh_size / sizeof(Elf64_Sym);
	for (i = 0; i < n; i++) {
		Elf64_Sym s;

		memcpy(&s, f + sym->sh_offset + i * sizeof(s), sizeof(s));
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC || !s.st_value ||
		    s.st_shndx == SHN_UNDEF || s.st_name >= strcopy.sh_size)
			continue;
		add_func(t, &cap, s.st_value, s.st_size, names + s.st_name);
	}
	if (t->nfuncs)
		qsort(t->funcs, t->nfuncs, sizeof(*t->funcs), func_cmp);
}

int elfsym_open(const char *path, struct elfsym *t)
{
	const Elf64_Ehdr *eh;
	struct stat st;
	void *f;
	int fd;

	memset(t, 0, sizeof(*t));
	/* A recording's maps may name anything: a FIFO or a tty must not block or be taken. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(*eh)) {
		close(fd);
		return -1;
	}
	f = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return -1;
	eh = f;
	if (!memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
	    eh->e_ident[EI_DATA] == ELFDATA2LSB) {
		read_loads(f, st.st_size, eh, t);
		read_funcs(f, st.st_size, eh, t);
	}
	munmap(f, st.st_size);
	return t->nfuncs && t->nloads ? 0 : -1;
}

const char *elfsym_lookup(const struct elfsym *t, uint64_t offset)
{
	size_t i, lo = 0, hi = t->nfuncs;
	uint64_t vaddr = 0;
	int found = 0;

	for (i = 0; i < t->nloads && !found; i++) {
		const struct elfsym_load *l = &t->loads[i];

		if (offset >= l->offset && offset - l->offset < l->filesz) {
			vaddr = offset - l->offset + l->vaddr;
			found = 1;
		}
	}
	if (!found)
		return NULL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (t->funcs[mid].addr <= vaddr)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* A size of 0 (hand-written assembly) covers up to the next symbol. */
	if (!lo || (t->funcs[lo - 1].size && vaddr - t->funcs[lo - 1].addr >= t->funcs[lo - 1].size))
		return NULL;
	return t->funcs[lo - 1].name;
}

void elfsym_close(struct elfsym *t)
{
	size_t i;

	for (i = 0; i < t->nfuncs; i++)
		free(t->funcs[i].name);
	free(t->funcs);
	free(t->loads);
	memset(t, 0, sizeof(*t));
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Function names of a code address, from the symbol table of the ELF file
 * mapped there: what Go's runtime/pprof writes into a profile, so that the
 * profile names its functions without the binaries at hand.
 */
#ifndef _GOMEMCTL_ELFSYM_H
#define _GOMEMCTL_ELFSYM_H

#include <stddef.h>
#include <stdint.h>

struct elfsym_func {
	uint64_t addr, size;
	char *name;
};

struct elfsym_load {
	uint64_t offset, filesz, vaddr;
};

/**
 * struct elfsym - the functions of one ELF file and where its segments load
 * @funcs: STT_FUNC symbols of .symtab (else .dynsym), sorted by address
 * @nfuncs: of @funcs
 * @loads: the PT_LOAD segments
 * @nloads: of @loads
 */
struct elfsym {
	struct elfsym_func *funcs;
	size_t nfuncs;
	struct elfsym_load *loads;
	size_t nloads;
};

/**
 * elfsym_open() - read an ELF file's functions
 * @path: the file
 * @t: filled; empty (and still safe to use and close) if @path cannot be
 *	read or is not a 64-bit little-endian ELF file with symbols
 *
 * Return: 0, or -1 if nothing was read.
 */
int elfsym_open(const char *path, struct elfsym *t);

/**
 * elfsym_lookup() - the function at a file offset
 * @t: an ELF file's functions
 * @offset: where in the file the mapped address lies (address - start of
 *	the mapping + the mapping's offset)
 *
 * Return: the name, or NULL if no function of @t covers @offset.
 */
const char *elfsym_lookup(const struct elfsym *t, uint64_t offset);

/**
 * elfsym_close() - free what elfsym_open() allocated
 * @t: an ELF file's functions
 */
void elfsym_close(struct elfsym *t);

#endif /* _GOMEMCTL_ELFSYM_H */

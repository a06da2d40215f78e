/* SPDX-License-Identifier: GPL-2.0 */
/*
 * gomemctl pprof: a heap profile dump of the uapi format (struct
 * gomem_prof_header and its records) encoded as pprof's profile.proto,
 * gzip-compressed, as Go's runtime/pprof.WriteHeapProfile writes it.
 */
#ifndef _GOMEMCTL_PPROF_H
#define _GOMEMCTL_PPROF_H

#include <stddef.h>
#include <stdio.h>

/**
 * pprof_encode() - write a dump as a gzip-compressed profile.proto
 * @dump: the dump
 * @len: its bytes
 * @maps: the text of the heap owner's /proc/PID/maps, for user stacks
 *	(NULL: addresses without mappings)
 * @kallsyms: the text of /proc/kallsyms, for kernel stacks (NULL: no
 *	function names)
 * @out: where to write the profile
 * @err: set to what was wrong on failure
 *
 * Return: 0, or -1 with @err set.
 */
int pprof_encode(const void *dump, size_t len, const char *maps, const char *kallsyms,
		 FILE *out, const char **err);

/**
 * pprof_dump_size() - the bytes of a dump at the start of a buffer
 * @buf: a dump, perhaps followed by the text of maps (a recording)
 * @len: bytes of @buf
 *
 * Return: the dump's bytes, or 0 if @buf does not start with a whole dump.
 */
size_t pprof_dump_size(const void *buf, size_t len);

int cmd_pprof(int argc, char **argv);

#endif /* _GOMEMCTL_PPROF_H */

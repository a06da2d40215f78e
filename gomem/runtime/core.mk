# SPDX-License-Identifier: GPL-2.0
#
# gomem's allocator core: plain C over platform.h, named after the Go
# runtime files it reproduces. Kbuild links it into gomem.ko with
# platform/kernel/mem_kernel.o; selftests/native links it with
# platform/user/mem_user.o into a test program run under ASan and UBSan.
# Paths are relative to gomem/runtime/.
#
# One line per area, so that work on one area does not touch another's.

GOMEM_CORE_SIZECLASSES := sizeclasses.o msize.o
GOMEM_CORE_PAGEALLOC := mpallocbits.o mpagealloc.o mpagecache.o
GOMEM_CORE_HEAP := mbitmap.o mheap.o mcentral.o mcache.o malloc.o mstats.o mgcscavenge.o mgcmark.o \
	mgcsweep.o mgcpacer.o mgc.o

# Heap profiles (Go's mprof.go).
GOMEM_CORE_MPROF := mprof.o

GOMEM_CORE := $(GOMEM_CORE_SIZECLASSES) $(GOMEM_CORE_PAGEALLOC) $(GOMEM_CORE_HEAP) \
	$(GOMEM_CORE_MPROF)

# KUnit suites of the core. They build into gomem_kunit.ko and, unchanged,
# into the native test program (selftests/native/kunit/test.h).
GOMEM_CORE_TESTS_SIZECLASSES := tests/sizeclasses_kunit.o
GOMEM_CORE_TESTS_PAGEALLOC := tests/mpallocbits_kunit.o tests/mpagealloc_kunit.o
GOMEM_CORE_TESTS_HEAP := tests/mbitmap_kunit.o tests/mheap_kunit.o tests/mcentral_kunit.o \
	tests/malloc_kunit.o tests/mgcmark_kunit.o tests/mgcscavenge_kunit.o tests/mgc_kunit.o \
	tests/nosleep_kunit.o
GOMEM_CORE_TESTS_MSTATS := tests/mstats_kunit.o
GOMEM_CORE_TESTS_MPROF := tests/mprof_kunit.o

GOMEM_CORE_TESTS := $(GOMEM_CORE_TESTS_SIZECLASSES) $(GOMEM_CORE_TESTS_PAGEALLOC) \
	$(GOMEM_CORE_TESTS_HEAP) $(GOMEM_CORE_TESTS_MSTATS) $(GOMEM_CORE_TESTS_MPROF)

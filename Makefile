# SPDX-License-Identifier: GPL-2.0
#
# gomem: a Go-style memory allocator inside Linux.
#
#   make [KDIR=...]        build gomem.ko (and gomem_kunit.ko if KDIR has KUnit)
#   make check             full test run in QEMU: debug + stock kernels, 6.1 + 6.12
#   make demo              boot the debug kernel and show gomem
#   make vmrun CMD='...'   run a command in a guest with gomem loaded
#                          (KERNEL=debug|stock|debug-6.12|stock-6.12, default debug)
#   make stress [SECONDS=300]  the long seeded stress run in a guest
#   make fuzz SECONDS=...  a gomem_fuzz campaign in a guest (SEED, KERNEL, FUZZERS, OPS)
#   make dkms-install [KVER=...]  copy the module's sources to /usr/src and
#                          dkms install them (as root; KVER: the running kernel)
#   make dkms-remove       dkms remove every build of this version, drop the copy
#   make dkms-check        dkms-install for the stock kernel, modprobe and a
#                          smoke test in its guest, dkms-remove
#   make debug-kernel [SERIES=6.12]  build (or find) a cached debug kernel (6.1)
#   make clean

KDIR ?= /lib/modules/$(shell uname -r)/build
QEMU := selftests/qemu
# The package's one version (also MODULE_VERSION and libgomem's gomem.pc).
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\([^"]*\)"$$/\1/p' dkms.conf)
KVER ?= $(shell uname -r)
DKMS_SRC := /usr/src/gomem-$(VERSION)

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

check:
	$(QEMU)/check.sh

demo:
	$(QEMU)/demo.sh

# CMD comes from the command line; the environment carries it unquoted.
export CMD
vmrun:
	$(QEMU)/vmrun.sh "$$CMD"

# The long run of gomem_stress; SEED, PROCS, THREADS and KERNEL come
# through the environment.
SECONDS ?= 300
stress:
	$(QEMU)/stress.sh "$(SECONDS)"

# A fuzzing campaign: several gomem_fuzz processes in a guest, then the
# console scanned for kernel reports (selftests/qemu/fuzz.sh).
FUZZERS ?= 3
OPS ?= default
fuzz:
	$(QEMU)/fuzz.sh --seconds "$(SECONDS)" --kernel "$(or $(KERNEL),debug)" \
		--fuzzers "$(FUZZERS)" --ops "$(OPS)" $(if $(SEED),--seed "$(SEED)")

# What DKMS needs and nothing else (no .build, no .git): Kbuild reads the
# version from dkms.conf.
dkms-install:
	rm -rf $(DKMS_SRC)
	mkdir -p $(DKMS_SRC)
	cp -a Kbuild Makefile dkms.conf gomem include $(DKMS_SRC)/
	dkms install -m gomem -v $(VERSION) -k $(KVER)

dkms-remove:
	dkms remove -m gomem -v $(VERSION) --all || true
	rm -rf $(DKMS_SRC)

dkms-check:
	$(QEMU)/setup.sh
	$(QEMU)/dkms-check.sh

debug-kernel:
	$(QEMU)/setup.sh
	$(QEMU)/build-kernel.sh $(SERIES)

# gomem_bench.ko in the stock kernel, then the native benchmark.
bench:
	$(QEMU)/bench.sh

# Works without a kernel tree: kbuild's own clean needs one.
clean:
	rm -rf .build selftests/gomem/out selftests/gomem/syzkaller/out selftests/native/out
	find selftests/gomem -maxdepth 1 -type f -name 'gomem_*' -perm -u+x -delete
	find . -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name '*.mod.o' -o -name 'modules.order' \
		-o -name 'Module.symvers' | grep -v '^./.git/' | xargs rm -f

.PHONY: all modules modules_install check demo vmrun stress fuzz dkms-install dkms-remove \
	dkms-check debug-kernel clean bench

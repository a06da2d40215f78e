#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install what gomem's build and test loop needs on Debian 12. Does nothing
# when everything is already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

packages=(
	build-essential bc bison flex libelf-dev libssl-dev cpio xz-utils kmod
	python3 perl rsync dkms pkg-config groff-base gnuplot-nox
	linux-source-6.1 linux-headers-amd64 linux-image-amd64
	# 6.12, Debian 12's second kernel (bookworm-security, which a default
	# Debian 12 sources.list has).
	linux-source-6.12 linux-headers-6.12-amd64 linux-image-6.12-amd64
	qemu-system-x86 busybox-static
	zlib1g-dev golang-go
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

[ "$(id -u)" -eq 0 ] || die "missing packages (${missing[*]}); run as root or install them"
msg "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"

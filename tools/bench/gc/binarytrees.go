// SPDX-License-Identifier: GPL-2.0

// binarytrees: Go's side of gomem_gc_bench's binary-trees (see
// tools/bench/gomem_gc_bench.c), plain Go, one goroutine; the driver runs
// it with GOMAXPROCS=1.
//
//	binarytrees trees DEPTH
//
// Prints one "result key=value..." line.
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var processStart = time.Now()

type node struct {
	left, right *node
}

// Children first, as in the C programs.
func bottomUp(depth int) *node {
	if depth == 0 {
		return &node{}
	}
	left := bottomUp(depth - 1)
	right := bottomUp(depth - 1)
	return &node{left, right}
}

func (n *node) check() uint64 {
	if n.left == nil {
		return 1
	}
	return 1 + n.left.check() + n.right.check()
}

// The nodes the program checks in all (gcb_trees_expected()).
func expected(max int) uint64 {
	sum := uint64(2)<<uint(max+1) - 1
	for d := 4; d <= max; d += 2 {
		sum += (uint64(1) << uint(max-d+4)) * (uint64(2)<<uint(d) - 1)
	}
	return sum + uint64(2)<<uint(max) - 1
}

// The process's peak RSS in KiB, or 0.
func vmHWM() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "VmHWM:" {
			kb, _ := strconv.ParseUint(fields[1], 10, 64)
			return kb
		}
	}
	return 0
}

func main() {
	if len(os.Args) != 3 || os.Args[1] != "trees" {
		fmt.Fprintf(os.Stderr, "usage: %s trees DEPTH\n", os.Args[0])
		os.Exit(2)
	}
	max, err := strconv.Atoi(os.Args[2])
	if err != nil || max < 4 || max > 39 {
		fmt.Fprintln(os.Stderr, "binarytrees: DEPTH must be 4 to 39")
		os.Exit(2)
	}

	start := time.Now()
	sum := bottomUp(max + 1).check()
	longLived := bottomUp(max)
	for d := 4; d <= max; d += 2 {
		iters := 1 << uint(max-d+4)
		var sub uint64
		for i := 0; i < iters; i++ {
			sub += bottomUp(d).check()
		}
		sum += sub
	}
	sum += longLived.check()
	wall := time.Since(start)

	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	// The collector's CPU time, roughly: GCCPUFraction is its share of
	// the CPU time GOMAXPROCS Ps had since the program started.
	gcCPU := ms.GCCPUFraction * float64(runtime.GOMAXPROCS(0)) *
		float64(time.Since(processStart).Nanoseconds())
	ok := 0
	if sum == expected(max) {
		ok = 1
	}
	fmt.Printf("result impl=go bench=trees depth=%d wall_ns=%d check=%d ok=%d numgc=%d "+
		"goal=%d heap_sys=%d pause_total_ns=%d gc_total_ns=%.0f gomaxprocs=%d hwm_kb=%d\n",
		max, wall.Nanoseconds(), sum, ok, ms.NumGC, ms.NextGC, ms.HeapSys,
		ms.PauseTotalNs, gcCPU, runtime.GOMAXPROCS(0), vmHWM())
	if ok == 0 {
		os.Exit(1)
	}
}

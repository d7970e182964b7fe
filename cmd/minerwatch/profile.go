package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfile starts a pprof CPU profile of the whole run into the file
// MINERWATCH_CPUPROFILE names, if set (README, "Performance": how the
// profiles there were taken), and returns the function that ends it; that
// function also writes the run's allocation profile (every allocation
// since the start, sampled, with what is still in use at the end) into the
// file MINERWATCH_MEMPROFILE names, if set. Environment variables rather
// than flags: they are for whoever measures minerwatch, work for every
// command, and add nothing to --help.
func startProfile(stderr io.Writer) (stop func()) {
	stopCPU := startCPUProfile(stderr)
	return func() {
		stopCPU()
		writeMemProfile(stderr)
	}
}

func startCPUProfile(stderr io.Writer) (stop func()) {
	path := os.Getenv("MINERWATCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "minerwatch: MINERWATCH_CPUPROFILE: %v (not profiling)\n", err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		fmt.Fprintf(stderr, "minerwatch: MINERWATCH_CPUPROFILE: %v (not profiling)\n", err)
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			fmt.Fprintf(stderr, "minerwatch: MINERWATCH_CPUPROFILE: close %s: %v\n", path, err)
		}
	}
}

// writeMemProfile writes the "allocs" profile at the end of the run, so
// both what was allocated (alloc_space: garbage that raised the heap goal)
// and what stayed (inuse_space) can be read. The profile only counts
// allocations up to the last completed collection, so one is run first;
// without it a run whose heap never reached its next goal would leave out
// everything allocated since the previous one.
func writeMemProfile(stderr io.Writer) {
	path := os.Getenv("MINERWATCH_MEMPROFILE")
	if path == "" {
		return
	}
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(stderr, "minerwatch: MINERWATCH_MEMPROFILE: %v (no profile)\n", err)
		return
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		fmt.Fprintf(stderr, "minerwatch: MINERWATCH_MEMPROFILE: %v\n", err)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintf(stderr, "minerwatch: MINERWATCH_MEMPROFILE: close %s: %v\n", path, err)
	}
}

package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile starts a pprof CPU profile of the whole run into the file
// MINERWATCH_CPUPROFILE names, if set (README, "Performance": how the
// profiles there were taken), and returns the function that ends it. An
// environment variable rather than a flag: it is for whoever measures
// minerwatch, works for every command, and adds nothing to --help.
func startProfile(stderr io.Writer) (stop func()) {
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

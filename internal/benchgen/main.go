package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "benchgen:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  benchgen merged [-k K] -o OUT.pcap [DATASETS]
  benchgen concurrent [-n FLOWS] -o OUT.pcap
  benchgen walk FILE...`

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("no subcommand\n%s", usage)
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "output capture (required)")
	switch args[0] {
	case "merged":
		k := fs.Int("k", 10, "copies of the merged datasets, each shifted in time and address")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *k < 1 || *k > 255 {
			return fmt.Errorf("merged: -k %d, want 1..255", *k)
		}
		dir := filepath.Join("..", "shared", "datasets")
		if fs.NArg() > 0 {
			dir = fs.Arg(0)
		}
		if *out == "" {
			return fmt.Errorf("merged: -o is required")
		}
		start := time.Now()
		st, err := writeMerged(dir, *out, *k, stderr)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d captures merged, %d skipped; %d packets × %d copies in %v\n",
			*out, st.used, len(st.skipped), st.packets, *k, time.Since(start).Round(time.Millisecond))
		return nil
	case "concurrent":
		n := fs.Int("n", 1_000_000, "concurrent established flows")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *n < 1 || *n > maxConcurrent {
			return fmt.Errorf("concurrent: -n %d, want 1..%d", *n, maxConcurrent)
		}
		if *out == "" {
			return fmt.Errorf("concurrent: -o is required")
		}
		start := time.Now()
		if err := writeConcurrentFile(*out, *n); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "%s: %d flows, %d packets in %v\n", *out, *n, *n*packetsPerFlow, time.Since(start).Round(time.Millisecond))
		return nil
	case "walk":
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() == 0 {
			return fmt.Errorf("walk: no files")
		}
		for _, path := range fs.Args() {
			w, err := walkFile(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "packets %d bytes %d wire-bytes %d\n", w.packets, w.bytes, w.wireBytes)
		}
		return nil
	}
	return fmt.Errorf("unknown subcommand %q\n%s", args[0], usage)
}

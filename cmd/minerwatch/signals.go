package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minerwatch/minerwatch/internal/outfile"
)

// interruption is an offline run's handling of SIGINT, SIGTERM and SIGHUP.
// The first signal cancels ctx: the command stops reading, completes what
// it has (alerts already written stay, the summary is printed, a flow
// table is flushed) but does not commit an output as if it were complete —
// its temporary file is removed through the normal error path. The
// command then reports "interrupted" and exits 128+signal (130 SIGINT,
// 143 SIGTERM, 129 SIGHUP: offline, a hang-up is a request to stop like
// SIGTERM, but the exit status says which signal it was).
//
// A second signal, or the first one during a phase that cannot stop early
// (hard), removes every temporary file in temps and exits at once.
type interruption struct {
	ctx    context.Context
	cancel context.CancelFunc
	temps  *outfile.Temps
	cmd    string
	stderr io.Writer
	exit   func(int) // os.Exit outside tests

	ch   chan os.Signal
	done chan struct{}
	hard atomic.Bool
	mu   sync.Mutex
	sig  os.Signal
	// flush, if set, runs before a hard exit: output that a run holds in
	// memory for a moment (detect's buffered alerts) is written first.
	flush func()
}

// hardExitFlushWait bounds the flush before a hard exit.
const hardExitFlushWait = time.Second

// beforeHardExit sets a function run before a hard exit (a second signal):
// it must write out what the run holds, quickly.
func (in *interruption) beforeHardExit(fn func()) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.flush = fn
}

// watchSignals starts watching; stop must be called when the run ends.
func watchSignals(cmd string, stderr io.Writer) *interruption {
	return watchSignalsExit(cmd, stderr, os.Exit)
}

// watchSignalsExit is watchSignals with the function that ends the
// process on the hard path (a test's stand-in for os.Exit).
func watchSignalsExit(cmd string, stderr io.Writer, exit func(int)) *interruption {
	ctx, cancel := context.WithCancel(context.Background())
	in := &interruption{ctx: ctx, cancel: cancel, temps: outfile.NewTemps(), cmd: cmd, stderr: stderr,
		exit: exit, ch: make(chan os.Signal, 2), done: make(chan struct{})}
	signal.Notify(in.ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go in.loop()
	return in
}

func (in *interruption) loop() {
	for {
		select {
		case <-in.done:
			return
		case s := <-in.ch:
			in.mu.Lock()
			first := in.sig == nil
			if first {
				in.sig = s
			}
			flush := in.flush
			in.mu.Unlock()
			in.cancel()
			if !first || in.hard.Load() {
				if flush != nil {
					// At most a second: an output blocked on a full
					// pipe must not keep the process from exiting.
					done := make(chan struct{})
					go func() { flush(); close(done) }()
					select {
					case <-done:
					case <-time.After(hardExitFlushWait):
					}
				}
				in.temps.RemoveAll()
				fmt.Fprintf(in.stderr, "minerwatch %s: interrupted by %s\n", in.cmd, signalName(s))
				in.exit(exitCode(s))
			}
		}
	}
}

// stop stops watching (signals get their default action again).
func (in *interruption) stop() {
	signal.Stop(in.ch)
	close(in.done)
	in.cancel()
}

// setHard marks a phase that cannot stop early (e.g. cross-validation): a
// signal during it exits at once, after removing the temporary files.
func (in *interruption) setHard(h bool) { in.hard.Store(h) }

// signal is the signal received, or nil.
func (in *interruption) signal() os.Signal {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.sig
}

// report prints the interruption line (what says how far the run got)
// and returns the exit code.
func (in *interruption) report(what string) int {
	s := in.signal()
	if what != "" {
		what = " after " + what
	}
	fmt.Fprintf(in.stderr, "minerwatch %s: interrupted by %s%s\n", in.cmd, signalName(s), what)
	return exitCode(s)
}

func exitCode(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

func signalName(s os.Signal) string {
	switch s {
	case os.Interrupt:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	}
	return fmt.Sprint(s)
}

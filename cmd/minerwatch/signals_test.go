package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/internal/outfile"
)

// endlessCapture makes path a FIFO and feeds it, every time a reader opens
// it, an endless pcap: the sample's packets over and over, 1 ms apart, so
// an offline run on it only ends when it is signalled. (Each open gets a
// fresh stream: a command may open an input more than once.)
func endlessCapture(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var recs [][]byte
	for {
		d, _, err := r.ReadPacketData()
		if err != nil {
			break
		}
		recs = append(recs, d)
	}
	f.Close()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		// Unblock a writer waiting in open for a reader that never comes.
		if rf, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
			rf.Close()
		}
	})
	go func() {
		ts := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		for {
			select {
			case <-done:
				return
			default:
			}
			out, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				return
			}
			w := pcapgo.NewWriter(out)
			err = w.WriteFileHeader(65535, r.LinkType())
			for i := 0; err == nil; i++ {
				d := recs[i%len(recs)]
				ts = ts.Add(time.Millisecond)
				err = w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(d), Length: len(d)}, d)
				if i%1000 == 999 {
					time.Sleep(time.Millisecond) // a link, not a disk
				}
			}
			out.Close() // the reader went away (EPIPE)
		}
	}()
}

// An offline run stopped by a signal flushes what it has, says
// "interrupted" on stderr, exits 128+signal, keeps the alerts it wrote as
// whole lines and leaves no temporary file behind.
func TestInterruptedOfflineRunsSayItAndExitNonZero(t *testing.T) {
	bin := buildBinary(t)
	cases := []struct {
		name   string
		sig    syscall.Signal
		code   int
		args   func(in, dir string) []string
		ready  func(dir string, stdout *syncBuffer) bool // when to send the signal
		verify func(t *testing.T, dir, stdout string)
	}{
		{
			name: "detect SIGTERM", sig: syscall.SIGTERM, code: 143,
			args: func(in, dir string) []string {
				return []string{"detect", "--no-learned", "--no-model", "-r", in, "-o", filepath.Join(dir, "alerts.jsonl")}
			},
			ready: func(dir string, _ *syncBuffer) bool {
				b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
				return bytes.Contains(b, []byte("\n"))
			},
			verify: func(t *testing.T, dir, _ string) {
				b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
				if len(b) == 0 || b[len(b)-1] != '\n' {
					t.Fatalf("alerts file does not end in a whole line: %q", b)
				}
				for _, l := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
					if !json.Valid([]byte(l)) {
						t.Errorf("alert line does not parse: %q", l)
					}
				}
			},
		},
		{
			name: "detect SIGHUP behaves like SIGTERM", sig: syscall.SIGHUP, code: 129,
			args: func(in, dir string) []string {
				return []string{"detect", "--no-learned", "--no-model", "-r", in, "-o", filepath.Join(dir, "alerts.jsonl")}
			},
			ready: func(dir string, _ *syncBuffer) bool {
				b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
				return bytes.Contains(b, []byte("\n"))
			},
		},
		{
			// A --realtime replay (the online path on a file) stopped
			// before the end of its capture is interrupted too.
			name: "detect --realtime SIGINT", sig: syscall.SIGINT, code: 130,
			args: func(_, dir string) []string {
				abs, _ := filepath.Abs(sample)
				return []string{"detect", "--no-learned", "--no-model", "-r", abs, "--realtime", "-o", filepath.Join(dir, "alerts.jsonl")}
			},
			ready: func(dir string, _ *syncBuffer) bool {
				b, _ := os.ReadFile(filepath.Join(dir, "alerts.jsonl"))
				return bytes.Contains(b, []byte("\n"))
			},
		},
		{
			name: "flows SIGINT", sig: syscall.SIGINT, code: 130,
			args: func(in, dir string) []string { return []string{"flows", "-r", in} },
			ready: func(_ string, stdout *syncBuffer) bool {
				return len(stdout.String()) > 0 // the header is out: reading has begun
			},
			verify: func(t *testing.T, _ string, stdout string) {
				// The open flow is flushed and printed.
				if !strings.Contains(stdout, "<->") || !strings.Contains(stdout, "flush") {
					t.Errorf("flows printed nothing for the open flow:\n%s", stdout)
				}
			},
		},
		{
			name: "features SIGTERM", sig: syscall.SIGTERM, code: 143,
			args: func(in, dir string) []string {
				return []string{"features", "-r", in, "-o", filepath.Join(dir, "rows.arrow")}
			},
			ready: func(dir string, _ *syncBuffer) bool {
				m, _ := filepath.Glob(filepath.Join(dir, ".rows.arrow.tmp-*"))
				return len(m) > 0
			},
			verify: func(t *testing.T, dir, _ string) {
				if _, err := os.Stat(filepath.Join(dir, "rows.arrow")); err == nil {
					t.Errorf("an interrupted export was renamed into place as if complete")
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(t.TempDir(), "link.pcap")
			endlessCapture(t, in)
			cmd := exec.Command(bin, c.args(in, dir)...)
			var stdout, stderr syncBuffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cmd.Process.Kill() })
			// Signal once the run is under way (or, for a command that
			// is still reading its input before writing anything, after
			// a while: the outcome must be the same).
			waitFor(3*time.Second, func() bool { return c.ready(dir, &stdout) })
			time.Sleep(100 * time.Millisecond)
			cmd.Process.Signal(c.sig)
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatalf("still running 20 s after the signal; stderr: %s", stderr.String())
			}
			if got := cmd.ProcessState.ExitCode(); got != c.code {
				t.Errorf("exit %d, want %d; stderr: %s", got, c.code, stderr.String())
			}
			if !strings.Contains(stderr.String(), "interrupted by") {
				t.Errorf("stderr does not say interrupted: %q", stderr.String())
			}
			noTemps(t, dir)
			if c.verify != nil {
				c.verify(t, dir, stdout.String())
			}
		})
	}
}

// syncBuffer is a bytes.Buffer a test may read while a child process's
// output is copied into it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// During a phase that cannot stop early (cross-validation), or on a second
// signal, the run's temporary files are removed and the process exits at
// once with 128+signal.
func TestHardInterruptionRemovesTempsAndExits(t *testing.T) {
	for _, c := range []struct {
		name string
		hard bool
		sigs []syscall.Signal
		code int
		soft bool // the first signal only cancels
	}{
		{"signal during a hard phase", true, []syscall.Signal{syscall.SIGTERM}, 143, false},
		{"second signal", false, []syscall.Signal{syscall.SIGINT, syscall.SIGINT}, 130, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			exited := make(chan int, 1)
			var stderr syncBuffer
			sig := watchSignalsExit("train", &stderr, func(code int) { exited <- code })
			defer sig.stop()
			out, err := outfile.Create(filepath.Join(dir, "model.json.gz"), outfile.Options{Temps: sig.temps})
			if err != nil {
				t.Fatal(err)
			}
			out.Write([]byte("half a model"))
			sig.setHard(c.hard)
			for i, s := range c.sigs {
				syscall.Kill(os.Getpid(), s)
				if i == 0 && c.soft {
					select {
					case <-sig.ctx.Done():
					case <-time.After(5 * time.Second):
						t.Fatal("the first signal did not cancel the run")
					}
					select {
					case code := <-exited:
						t.Fatalf("exited (%d) on the first signal outside a hard phase", code)
					case <-time.After(50 * time.Millisecond):
					}
				}
			}
			select {
			case code := <-exited:
				if code != c.code {
					t.Errorf("exit %d, want %d", code, c.code)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no exit")
			}
			noTemps(t, dir)
			if _, err := os.Stat(filepath.Join(dir, "model.json.gz")); err == nil {
				t.Error("the model was written")
			}
			if !strings.Contains(stderr.String(), "interrupted by") {
				t.Errorf("stderr %q", stderr.String())
			}
		})
	}
}

// A second signal exits at once, but only after the run's held output
// (detect's buffered alerts) is written: the flush runs before exit.
func TestHardExitFlushesHeldOutputFirst(t *testing.T) {
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	exited := make(chan int, 1)
	var stderr syncBuffer
	sig := watchSignalsExit("detect", &stderr, func(code int) { note("exit"); exited <- code })
	defer sig.stop()
	sig.beforeHardExit(func() { note("flush") })
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-sig.ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the run")
	}
	mu.Lock()
	if len(order) != 0 {
		t.Errorf("after the first signal: %v, want nothing (a graceful stop flushes through Close)", order)
	}
	mu.Unlock()
	syscall.Kill(os.Getpid(), syscall.SIGINT)
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
		t.Fatal("no exit")
	}
	mu.Lock()
	defer mu.Unlock()
	if strings.Join(order, " ") != "flush exit" {
		t.Errorf("order %v, want flush then exit", order)
	}
}

// A flush that cannot finish (output blocked on a full pipe) delays the
// hard exit by at most hardExitFlushWait: a second signal still ends the
// process.
func TestHardExitDoesNotWaitForABlockedFlush(t *testing.T) {
	exited := make(chan int, 1)
	var stderr syncBuffer
	sig := watchSignalsExit("detect", &stderr, func(code int) { exited <- code })
	defer sig.stop()
	block := make(chan struct{})
	defer close(block)
	sig.beforeHardExit(func() { <-block })
	sig.setHard(true)
	start := time.Now()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	select {
	case <-exited:
		if d := time.Since(start); d < hardExitFlushWait/2 {
			t.Errorf("exited after %v, before the flush had its time", d)
		}
	case <-time.After(hardExitFlushWait + 5*time.Second):
		t.Fatal("no exit: the blocked flush held it")
	}
}

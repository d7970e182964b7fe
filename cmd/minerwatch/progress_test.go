package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/train"
)

func TestProgressLineSaysFileBytesETAPacketsFlows(t *testing.T) {
	const mb = 1 << 20
	cases := []struct {
		name    string
		pr      capture.Progress
		records int64
		flows   int64
		elapsed time.Duration
		want    string
	}{
		{"second of four files, a quarter read after 10 s",
			capture.Progress{File: 1, Files: 4, Read: 10 * mb, Size: 40 * mb}, 120345, 2345, 10 * time.Second,
			"file 2/4, 10.0 of 40.0 MiB (25%), ETA 0:30, 120345 packets, 2345 flows"},
		{"one file: no file count; long ETA in hours",
			capture.Progress{File: 0, Files: 1, Read: 1 * mb, Size: 1000 * mb}, 7, 1, 20 * time.Second,
			"1.0 of 1000.0 MiB (0%), ETA 5:33:00, 7 packets, 1 flows"},
		{"first second: no ETA yet",
			capture.Progress{File: 0, Files: 2, Read: mb / 2, Size: 2 * mb}, 100, 3, 500 * time.Millisecond,
			"file 1/2, 0.5 of 2.0 MiB (25%), 100 packets, 3 flows"},
		{"a pipe: bytes read, no total, no ETA",
			capture.Progress{File: 0, Files: 1, Read: 3 * mb}, 5000, 12, time.Minute,
			"3.0 MiB read, 5000 packets, 12 flows"},
		{"read-ahead past the end is shown as the end; flows unknown (workers)",
			capture.Progress{File: 0, Files: 1, Read: 2*mb + 10, Size: 2 * mb}, 9, -1, 2 * time.Second,
			"2.0 of 2.0 MiB (100%), ETA 0:00, 9 packets"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := progressLine(c.pr, c.records, c.flows, c.elapsed); got != c.want {
				t.Errorf("progressLine = %q\nwant           %q", got, c.want)
			}
		})
	}
}

// Not a terminal (a pipe, a buffer): no progress line at all, however
// often update is called.
func TestProgressIsSilentWhenNotATerminal(t *testing.T) {
	var b bytes.Buffer
	r, err := capture.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p := newProgress(&b, r)
	for i := range 10 {
		p.update(int64(i), int64(i))
	}
	p.done()
	if b.Len() != 0 {
		t.Errorf("progress wrote %q to a non-terminal", b.String())
	}
	for _, args := range [][]string{
		{"detect", "--no-learned", "-r", sample},
		{"features", "-r", sample, "-o", t.TempDir() + "/f.arrow"},
	} {
		_, _, stderr := runCmd(args...)
		if strings.Contains(stderr, "\r") || strings.Contains(stderr, "MiB") {
			t.Errorf("%s: progress on a non-terminal stderr: %q", args[0], stderr)
		}
	}
}

// openPTY opens a pseudo-terminal pair: what is written to tty is read
// from master.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("no pseudo-terminals here:", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skip("unlockpt:", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skip("ptsname:", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skip("open pts:", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	return m, s
}

// On a terminal, detect -r and features draw the progress line (bytes
// of the total, packets, flows: detect's once said "0 flows" always) and
// clear it at the end.
func TestProgressIsDrawnOnATerminal(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "syn.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeSYNFlood(f, 20000); err != nil { // several progress calls' worth
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{
		{"detect", "--no-learned", "-o", filepath.Join(dir, "a.jsonl"), "-r", path},
		{"features", "-r", path, "-o", filepath.Join(dir, "f.arrow")},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, s := runOnPTY(t, args)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, s)
			}
			if !strings.Contains(s, "\r") || !strings.Contains(s, " MiB (") || !strings.Contains(s, " packets, ") || !strings.Contains(s, " flows") {
				t.Errorf("no progress line on the terminal: %q", s)
			}
			if strings.Contains(s, ", 0 flows") {
				t.Errorf("progress counts no flows of a 20,000-flow capture: %q", s)
			}
			if !strings.Contains(s, "\r\033[K") {
				t.Errorf("progress line not cleared at the end: %q", s)
			}
		})
	}
}

// runOnPTY runs args with stderr on a pseudo-terminal and returns the
// exit code and what the terminal showed.
func runOnPTY(t *testing.T, args []string) (int, string) {
	t.Helper()
	master, tty := openPTY(t)
	var got bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&got, master); close(read) }()
	var out bytes.Buffer
	code := run(args, &out, tty)
	tty.Close() // the reader sees the end (EIO) once the terminal side is closed
	select {
	case <-read:
	case <-time.After(5 * time.Second):
		t.Fatal("no end of the terminal output")
	}
	return code, got.String()
}

// train and eval draw their phases on a terminal — reading the captures
// (i/N, bytes of the total), then the fits — and clear the line before
// their summary; piped, they print no progress at all.
func TestTrainAndEvalShowTheirPhasesOnATerminal(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		args  []string
		phase string
	}{
		{[]string{"train", "--manifest", sampleManifest, "--trees", "3", "--no-cv", "-o", filepath.Join(dir, "m.json.gz")}, "final model: training trees on "},
		{[]string{"eval", "--manifest", sampleManifest, "--model", "../../models/defaultmodel/model.json.gz"}, "scoring "},
	}
	for _, c := range cases {
		t.Run(c.args[0], func(t *testing.T) {
			code, s := runOnPTY(t, c.args)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, s)
			}
			// The four sample captures (0.2 MiB in all); the last capture
			// is always drawn.
			if !strings.Contains(s, "\rreading captures 4/4, ") || !strings.Contains(s, " MiB (100%)") {
				t.Errorf("no reading line on the terminal: %q", s)
			}
			if !strings.Contains(s, "\r"+c.phase) || !strings.Contains(s, " elapsed") {
				t.Errorf("no %q step on the terminal: %q", c.phase, s)
			}
			if !strings.Contains(s, "\r\033[K4 captures, ") {
				t.Errorf("progress line not cleared before the summary: %q", s)
			}
			_, _, stderr := runCmd(c.args...)
			if strings.Contains(stderr, "\r") || strings.Contains(stderr, "reading captures") {
				t.Errorf("progress on a non-terminal stderr: %q", stderr)
			}
		})
	}
}

// train's and eval's lines: reading (captures i/N, bytes of the total,
// ETA after a second) and steps (elapsed; the folds' ETA from the time the
// finished ones took).
func TestTrainProgressLines(t *testing.T) {
	const mb = 1 << 20
	load := []struct {
		lp      train.LoadProgress
		elapsed time.Duration
		want    string
	}{
		{train.LoadProgress{Captures: 71, Total: 285, Bytes: 12 * mb, Size: 36 * mb}, 2 * time.Second,
			"reading captures 71/285, 12.0 of 36.0 MiB (33%), ETA 0:04"},
		{train.LoadProgress{Captures: 1, Total: 4, Bytes: mb, Size: 4 * mb}, 100 * time.Millisecond,
			"reading captures 1/4, 1.0 of 4.0 MiB (25%)"},
		{train.LoadProgress{Captures: 2, Total: 3}, 5 * time.Second, // a FIFO in the manifest: no total
			"reading captures 2/3"},
	}
	for _, c := range load {
		if got := loadLine(c.lp, c.elapsed); got != c.want {
			t.Errorf("loadLine = %q, want %q", got, c.want)
		}
	}
	steps := []struct {
		st                train.Step
		elapsed, inSeries time.Duration
		want              string
	}{
		{train.Step{What: "cross-validation fold 1/5 (mw51x): training trees", Done: 0, Total: 5}, 3 * time.Second, 0,
			"cross-validation fold 1/5 (mw51x): training trees, 0:03 elapsed"},
		{train.Step{What: "cross-validation fold 3/5 (mw51x): training trees", Done: 2, Total: 5}, 43 * time.Second, 40 * time.Second,
			"cross-validation fold 3/5 (mw51x): training trees, 0:43 elapsed, ETA 1:00"},
		{train.Step{What: "final model: training trees on 2725 rows"}, 70 * time.Second, 0,
			"final model: training trees on 2725 rows, 1:10 elapsed"},
	}
	for _, c := range steps {
		if got := stepLine(c.st, c.elapsed, c.inSeries); got != c.want {
			t.Errorf("stepLine = %q, want %q", got, c.want)
		}
	}
}

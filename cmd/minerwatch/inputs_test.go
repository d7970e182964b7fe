package main

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const (
	sampleTLS    = "../../datasets/samples/xmrig-tls-443.pcap"
	sampleBenign = "../../datasets/samples/benign_https-poll-curl-tls13_20min.pcap"
)

// captureCounts counts the rows of an Arrow IPC stream by capture column.
func captureCounts(t *testing.T, data []byte) map[string]int {
	t.Helper()
	r, err := ipc.NewReader(bytes.NewReader(data), ipc.WithAllocator(memory.NewGoAllocator()))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	col := r.Schema().FieldIndices("capture")[0]
	got := map[string]int{}
	for r.Next() {
		c := r.RecordBatch().Column(col).(*array.String)
		for i := 0; i < c.Len(); i++ {
			got[c.Value(i)]++
		}
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

// A bad file among good ones (not a capture, missing, a directory, a
// capture whose header is cut) is named on stderr and skipped, the good
// files are processed whole, and the command exits 1 at the end. Before,
// the one bad file aborted the run and `flows` printed nothing.
func TestBadFileAmongGoodOnesIsSkippedNamedAndExitsOne(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "notes.txt")
	os.WriteFile(text, []byte("this is not a capture file\n"), 0o644)
	sampleBytes, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	cutHeader := filepath.Join(dir, "cut-header.pcap")
	os.WriteFile(cutHeader, sampleBytes[:20], 0o644)
	for _, bad := range []string{text, filepath.Join(dir, "missing.pcap"), dir, cutHeader} {
		t.Run(filepath.Base(bad), func(t *testing.T) {
			// flows: each sample alone has one TCP connection of
			// interest; with the bad file between them both are printed.
			_, alone, _ := runCmd("flows", "-r", sample, "-r", sampleTLS)
			code, stdout, stderr := runCmd("flows", "-r", sample, "-r", bad, "-r", sampleTLS)
			if code != 1 {
				t.Errorf("flows: exit %d, want 1", code)
			}
			if stdout != alone || strings.Count(stdout, "\n") < 3 {
				t.Errorf("flows printed:\n%s\nwant what the two good files give:\n%s", stdout, alone)
			}
			if !strings.Contains(stderr, bad) || !strings.Contains(stderr, "skipped") {
				t.Errorf("flows stderr %q does not name %s as skipped", stderr, bad)
			}

			// detect: the plaintext sample's alerts still come out.
			_, aloneAlerts, _ := runCmd("detect", "--no-learned", "-r", sample)
			code, alerts, stderr := runCmd("detect", "--no-learned", "-r", bad, "-r", sample)
			if code != 1 || alerts != aloneAlerts || alerts == "" {
				t.Errorf("detect: exit %d, alerts %q; want exit 1 and the sample's alerts %q", code, alerts, aloneAlerts)
			}
			if !strings.Contains(stderr, bad) {
				t.Errorf("detect stderr %q does not name %s", stderr, bad)
			}

			// features, merged and --each: rows of both good captures.
			for _, each := range []bool{false, true} {
				args := []string{"features", "-o", "-", "-r", sample, "-r", bad, "-r", sampleBenign}
				if each {
					args = append(args, "--each")
				}
				code, out, stderr := runCmd(args...)
				if code != 1 || !strings.Contains(stderr, bad) {
					t.Errorf("features each=%v: exit %d, stderr %q; want 1 naming %s", each, code, stderr, bad)
					continue
				}
				got := captureCounts(t, []byte(out))
				if got[filepath.Base(sample)] == 0 || got[filepath.Base(sampleBenign)] == 0 {
					t.Errorf("features each=%v: rows by capture %v, want rows of both good captures", each, got)
				}
			}
		})
	}
	// Every input bad: nothing to do, one line per file, non-zero exit.
	code, stdout, stderr := runCmd("flows", "-r", text, "-r", dir)
	if code == 0 || stdout != "" || !strings.Contains(stderr, text) || !strings.Contains(stderr, "is a directory") {
		t.Errorf("flows on two bad files: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// feedFIFO makes a named pipe that delivers content to one reader, as
// `-r <(zcat x.pcap.gz)` does.
func feedFIFO(t *testing.T, content []byte) string {
	t.Helper()
	fifo := filepath.Join(t.TempDir(), "in.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	go func() {
		w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			return
		}
		w.Write(content)
		w.Close()
	}()
	return fifo
}

// runWithin runs the command and fails the test if it has not returned
// within d (an input opened twice blocks forever on a FIFO).
func runWithin(t *testing.T, d time.Duration, args ...string) (int, string, string) {
	t.Helper()
	type result struct {
		code           int
		stdout, stderr string
	}
	done := make(chan result, 1)
	go func() {
		c, o, e := runCmd(args...)
		done <- result{c, o, e}
	}()
	select {
	case r := <-done:
		return r.code, r.stdout, r.stderr
	case <-time.After(d):
		t.Fatalf("%v still running after %v (input opened more than once?)", args, d)
	}
	return 0, "", ""
}

// Each command reads a FIFO: it is opened once and streamed. `features -r
// FIFO` hung before (the input was hashed, checked and read: three opens).
func TestFIFOInputsAreReadOnce(t *testing.T) {
	content, err := os.ReadFile(sample)
	if err != nil {
		t.Fatal(err)
	}
	_, wantFlows, _ := runCmd("flows", "-r", sample)
	_, wantAlerts, _ := runCmd("detect", "--no-learned", "-r", sample)
	_, wantFeatures, _ := runCmd("features", "-o", "-", "-r", sample)

	code, out, stderr := runWithin(t, time.Minute, "flows", "-r", feedFIFO(t, content))
	if code != 0 || out != wantFlows {
		t.Errorf("flows -r FIFO: exit %d, stderr %q, stdout\n%s\nwant\n%s", code, stderr, out, wantFlows)
	}
	code, out, stderr = runWithin(t, time.Minute, "detect", "--no-learned", "-r", feedFIFO(t, content))
	// The alerts name their capture file: here the FIFO.
	out = strings.ReplaceAll(out, `"pcap_filename":"in.fifo"`, `"pcap_filename":"`+filepath.Base(sample)+`"`)
	if code != 0 || out != wantAlerts || out == "" {
		t.Errorf("detect -r FIFO: exit %d, stderr %q, alerts %q, want %q", code, stderr, out, wantAlerts)
	}
	fifo := feedFIFO(t, content)
	code, out, stderr = runWithin(t, time.Minute, "features", "-o", "-", "-r", fifo)
	if code != 0 {
		t.Fatalf("features -r FIFO: exit %d, stderr %q", code, stderr)
	}
	got, want := captureCounts(t, []byte(out)), captureCounts(t, []byte(wantFeatures))
	if got["in.fifo"] == 0 || got["in.fifo"] != want[filepath.Base(sample)] {
		t.Errorf("features -r FIFO: rows %v, want as many as from the file %v", got, want)
	}
}

// A capture whose gzip stream is damaged half-way is read up to the
// damage, named on stderr with the offset, and the run goes on with the
// other files and exits 1.
func TestFileDamagedMidwayIsReportedAndTheRestRead(t *testing.T) {
	raw, err := os.ReadFile(sampleTLS)
	if err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	b := z.Bytes()
	for i := len(b) / 2; i < len(b)/2+32; i++ {
		b[i] ^= 0xa5
	}
	damaged := filepath.Join(t.TempDir(), "damaged.pcap.gz")
	os.WriteFile(damaged, b, 0o644)
	_, alone, _ := runCmd("flows", "-r", sample)
	code, stdout, stderr := runCmd("flows", "-r", damaged, "-r", sample)
	if code != 1 || !strings.Contains(stderr, damaged) || !strings.Contains(stderr, "offset") {
		t.Errorf("exit %d, stderr %q; want 1 and the damaged file named with the offset", code, stderr)
	}
	// The good sample's one flow is printed as when read alone.
	want := strings.Split(strings.TrimSpace(alone), "\n")[1]
	want = want[strings.Index(want, "tcp"):]
	if !strings.Contains(stdout, want) {
		t.Errorf("stdout lacks the good sample's flow %q:\n%s", want, stdout)
	}
}

package online

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

var evT0 = time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)

func frame(n int, link layers.LinkType) *Frame {
	return &Frame{Data: bytes.Repeat([]byte{byte(n)}, 100+n), Time: evT0.Add(time.Duration(n) * time.Millisecond), Len: 100 + n, Link: link}
}

// readPcap reads every record of path with gopacket's reader (an
// independent check of the format) and returns the capture lengths.
func readPcap(t *testing.T, path string) (caplens, wirelens []int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for {
		_, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		caplens = append(caplens, ci.CaptureLength)
		wirelens = append(wirelens, ci.Length)
	}
	return caplens, wirelens
}

func writeEvidence(t *testing.T, cfg EvidenceConfig, frames ...*Frame) *Evidence {
	t.Helper()
	e, err := OpenEvidence(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, fr := range frames {
		e.write(fr)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return e
}

// A restart must not destroy the evidence of the previous run: the second
// run appends to the same file, which stays one readable pcap.
func TestEvidenceIsAppendedAcrossRuns(t *testing.T) {
	p := filepath.Join(t.TempDir(), "evidence.pcap")
	cfg := EvidenceConfig{Path: p}
	writeEvidence(t, cfg, frame(1, layers.LinkTypeEthernet), frame(2, layers.LinkTypeEthernet))
	e := writeEvidence(t, cfg, frame(3, layers.LinkTypeEthernet))
	caps, _ := readPcap(t, p)
	if len(caps) != 3 || caps[0] != 101 || caps[2] != 103 {
		t.Errorf("records %v, want the 2 of run 1 then the 1 of run 2", caps)
	}
	if len(e.Rotated()) != 0 {
		t.Errorf("rotated %v", e.Rotated())
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("evidence mode %v, want at most 0640 (it holds payloads)", fi.Mode().Perm())
	}
}

func TestEvidenceHonoursSnaplen(t *testing.T) {
	p := filepath.Join(t.TempDir(), "evidence.pcap")
	writeEvidence(t, EvidenceConfig{Path: p, Snaplen: 64}, frame(50, layers.LinkTypeEthernet))
	caps, wire := readPcap(t, p)
	if len(caps) != 1 || caps[0] != 64 || wire[0] != 150 {
		t.Errorf("caplen %v wire %v, want 64 of 150", caps, wire)
	}
}

// Whatever cannot be appended to is moved aside, never truncated.
func TestEvidenceUnusableFileIsMovedAside(t *testing.T) {
	good := func(t *testing.T, p string) {
		writeEvidence(t, EvidenceConfig{Path: p}, frame(1, layers.LinkTypeEthernet), frame(2, layers.LinkTypeEthernet))
	}
	cases := []struct {
		name    string
		prepare func(t *testing.T, p string)
		cfg     EvidenceConfig
		why     string
	}{
		{"not a pcap", func(t *testing.T, p string) { os.WriteFile(p, []byte("operator notes\n"), 0o644) }, EvidenceConfig{}, "not a"},
		{"torn last record", func(t *testing.T, p string) {
			good(t, p)
			fi, _ := os.Stat(p)
			os.Truncate(p, fi.Size()-10)
		}, EvidenceConfig{}, "torn"},
		{"other snaplen", good, EvidenceConfig{Snaplen: 128}, "snaplen"},
		{"at its cap", good, EvidenceConfig{MaxBytes: 100}, "cap"},
		{"other link type", good, EvidenceConfig{}, "link type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "evidence.pcap")
			c.prepare(t, p)
			before, _ := os.ReadFile(p)
			cfg := c.cfg
			cfg.Path = p
			cfg.Now = func() time.Time { return evT0 }
			link := layers.LinkTypeEthernet
			if c.name == "other link type" {
				link = layers.LinkTypeRaw
			}
			e := writeEvidence(t, cfg, frame(9, link))
			rot := e.Rotated()
			if len(rot) != 1 || !strings.Contains(rot[0], c.why) {
				t.Fatalf("rotated %q, want one file moved aside because %q", rot, c.why)
			}
			aside := filepath.Join(dir, "evidence.pcap.20261206T120000Z")
			if kept, _ := os.ReadFile(aside); !bytes.Equal(kept, before) {
				t.Errorf("the old file was not kept intact at %s", aside)
			}
			if caps, _ := readPcap(t, p); c.name != "at its cap" && len(caps) != 1 {
				t.Errorf("new file holds %v, want the one new frame", caps)
			}
		})
	}
}

func TestEvidenceRefusesAnInput(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.pcap")
	os.WriteFile(p, []byte("capture"), 0o644)
	if _, err := OpenEvidence(EvidenceConfig{Path: p, Inputs: []string{p}}); err == nil || !strings.Contains(err.Error(), "is the input") {
		t.Errorf("evidence onto the input: %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "capture" {
		t.Errorf("input changed: %q", b)
	}
}

// A FIFO given as --pcap-out is written through and never renamed, even
// when a frame of another link type comes (it is skipped and counted).
func TestEvidenceOnAFIFOIsNeverMovedAside(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "evidence.fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan int, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- -1
			return
		}
		defer f.Close()
		r, err := pcapgo.NewReader(f)
		if err != nil {
			got <- -1
			return
		}
		n := 0
		for {
			if _, _, err := r.ReadPacketData(); err != nil {
				break
			}
			n++
		}
		got <- n
	}()
	e := writeEvidence(t, EvidenceConfig{Path: p}, frame(1, layers.LinkTypeEthernet), frame(2, layers.LinkTypeRaw), frame(3, layers.LinkTypeEthernet))
	if n := <-got; n != 2 {
		t.Errorf("reader got %d frames, want 2 (the Raw one skipped)", n)
	}
	if _, skipped := e.Stats(); skipped != 1 || len(e.Rotated()) != 0 {
		t.Errorf("skipped %d, rotated %v; want 1 skipped, nothing moved", skipped, e.Rotated())
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v", err)
	}
}

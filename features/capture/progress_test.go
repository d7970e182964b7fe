package capture_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/capture"
)

// Progress counts the bytes read from the files, compressed ones for a
// .gz, against their total size: part-way after the first record of a
// file larger than the read buffer, all of it at the end.
func TestProgressCountsFileBytes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var frames []frame
	for i := range 3000 {
		data := make([]byte, 1000)
		for j := range data {
			data[j] = byte(rng.Uint32()) // incompressible: the .gz stays large
		}
		frames = append(frames, frame{at: t0.Add(time.Duration(i) * time.Millisecond), link: layers.LinkTypeEthernet, data: data})
	}
	raw := pcapBytes(t, layers.LinkTypeEthernet, false, frames...)
	for _, c := range []struct {
		name string
		body []byte
	}{{"a.pcap", raw}, {"a.pcap.gz", gzipped(t, raw)}} {
		t.Run(c.name, func(t *testing.T) {
			path := writeFile(t, c.name, c.body)
			r, err := capture.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			size := int64(len(c.body))
			if p := r.Progress(); p.File != -1 || p.Files != 1 || p.Size != size {
				t.Fatalf("before the first record: %+v, want file -1 of 1, size %d", p, size)
			}
			var rec capture.Record
			if err := r.Next(&rec); err != nil {
				t.Fatal(err)
			}
			if p := r.Progress(); p.File != 0 || p.Read <= 0 || p.Read >= size {
				t.Errorf("after one record: %+v, want part of %d bytes read", p, size)
			}
			for {
				if err := r.Next(&rec); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
			if p := r.Progress(); p.Read != size || p.Size != size {
				t.Errorf("at the end: %+v, want all %d bytes read", p, size)
			}
		})
	}
}

// A pipe has no size: Progress says so (0) rather than a wrong total.
func TestProgressOfAPipeHasNoSize(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		pw.Write(pcapBytes(t, layers.LinkTypeEthernet, false, threeEthernetFrames()...))
		pw.Close()
	}()
	r, err := capture.Open("/dev/fd/" + strconv.Itoa(int(pr.Fd())))
	if err != nil {
		t.Skip("no /dev/fd here:", err)
	}
	defer r.Close()
	var rec capture.Record
	for r.Next(&rec) == nil {
	}
	if p := r.Progress(); p.Size != 0 || p.Read == 0 {
		t.Errorf("pipe: %+v, want bytes read and no size", p)
	}
}

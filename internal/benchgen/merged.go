package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/features/capture"
)

// snaplen of the captures benchgen writes: larger than any record of the
// shared datasets.
const snaplen = 262144

// maxGap is the longest silence kept in the merged capture, and the gap
// between copies: beyond every flow timeout (10 min for TCP), so flows end
// in a gap as they would have, and no flow of one copy is still open when
// the next starts. The shared captures were recorded decades apart (one
// starts in 1970); keeping those gaps would overflow pcap's 32-bit seconds
// after a few copies.
const maxGap = time.Hour

// mergedStart is the time of the merged capture's first packet
// (2026-01-01).
var mergedStart = time.Unix(1767225600, 0).UTC()

type mergeStats struct {
	used    int
	skipped []string // "path: reason"
	packets int      // per copy
}

type frame struct {
	t       time.Duration // since the merged capture's first packet
	origLen int
	data    []byte
}

// ethernetCaptures returns the capture files under dir that are Ethernet
// and read cleanly to the end, sorted, and the ones skipped with why.
// Files that are not captures at all (manifests, flow lists) are ignored.
func ethernetCaptures(dir string) (good, skipped []string, err error) {
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		why := checkCapture(path)
		switch {
		case why == nil:
			good = append(good, path)
		case !errors.Is(why, capture.ErrNotCapture):
			skipped = append(skipped, fmt.Sprintf("%s: %v", path, why))
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list captures in %s: %w", dir, err)
	}
	sort.Strings(good)
	return good, skipped, nil
}

// checkCapture reads path to the end: nil when it is a clean Ethernet
// capture.
func checkCapture(path string) error {
	r, err := capture.Open(path)
	if err != nil {
		return err
	}
	defer r.Close()
	var rec capture.Record
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		if rec.LinkType != layers.LinkTypeEthernet {
			return fmt.Errorf("link type %v, not Ethernet", rec.LinkType)
		}
	}
	if len(r.Warnings) > 0 {
		return fmt.Errorf("%s", r.Warnings[0])
	}
	return nil
}

// mergedFrames reads the captures merged in time order.
func mergedFrames(paths []string) ([]frame, error) {
	r, err := capture.Open(paths...)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var frames []frame
	var rec capture.Record
	var prev time.Time
	var at time.Duration
	for {
		err := r.Next(&rec)
		if err == io.EOF {
			return frames, nil
		}
		if err != nil {
			return nil, err
		}
		if len(frames) > 0 {
			// A record earlier than the previous one (out of order within
			// its file) keeps its offset, up to the same bound.
			at += max(-maxGap, min(rec.Time.Sub(prev), maxGap))
		}
		prev = rec.Time
		frames = append(frames, frame{t: at, origLen: rec.OrigLen, data: append([]byte(nil), rec.Data...)})
	}
}

func writeMerged(dir, out string, k int, stderr io.Writer) (mergeStats, error) {
	var st mergeStats
	good, skipped, err := ethernetCaptures(dir)
	if err != nil {
		return st, err
	}
	st.skipped = skipped
	for _, s := range skipped {
		fmt.Fprintln(stderr, "skipped", s)
	}
	if len(good) == 0 {
		return st, fmt.Errorf("no Ethernet captures in %s", dir)
	}
	st.used = len(good)
	frames, err := mergedFrames(good)
	if err != nil {
		return st, fmt.Errorf("merge %s: %w", dir, err)
	}
	st.packets = len(frames)
	err = writeAtomically(out, func(w *pcapgo.Writer) error {
		return writeCopies(w, frames, k)
	})
	return st, err
}

// writeCopies writes k copies of frames, copy c shifted by c × (span +
// maxGap) in time and by c in its private addresses.
func writeCopies(w *pcapgo.Writer, frames []frame, k int) error {
	if len(frames) == 0 {
		return nil
	}
	var span time.Duration
	for _, f := range frames {
		span = max(span, f.t)
	}
	buf := make([]byte, 0, snaplen)
	for c := range k {
		start := mergedStart.Add(time.Duration(c) * (span + maxGap))
		for _, f := range frames {
			buf = append(buf[:0], f.data...)
			shiftAddresses(buf, c)
			ci := gopacket.CaptureInfo{Timestamp: start.Add(f.t), CaptureLength: len(buf), Length: f.origLen}
			if err := w.WritePacket(ci, buf); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeAtomically writes an Ethernet pcap to path through a temporary file
// renamed into place, so an interrupted run leaves no half capture that a
// later run would take for a finished one.
func writeAtomically(path string, fill func(*pcapgo.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	w := pcapgo.NewWriter(bw)
	if err := w.WriteFileHeader(snaplen, layers.LinkTypeEthernet); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := fill(w); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

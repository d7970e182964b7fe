package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

type walkStats struct {
	packets, bytes, wireBytes int64
}

// walkFile reads a classic pcap file record by record, skipping each
// record's bytes without looking at them: the least any reader must do.
func walkFile(path string) (walkStats, error) {
	var st walkStats
	f, err := os.Open(path)
	if err != nil {
		return st, fmt.Errorf("walk: %w", err)
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var hdr [24]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return st, fmt.Errorf("walk %s: file header: %w", path, err)
	}
	var order binary.ByteOrder
	switch binary.LittleEndian.Uint32(hdr[:]) {
	case 0xa1b2c3d4, 0xa1b23c4d:
		order = binary.LittleEndian
	case 0xd4c3b2a1, 0x4d3cb2a1:
		order = binary.BigEndian
	default:
		return st, fmt.Errorf("walk %s: not a classic pcap file (pcapng is not walked)", path)
	}
	var rec [16]byte
	for {
		if _, err := io.ReadFull(r, rec[:]); err != nil {
			if err == io.EOF {
				return st, nil
			}
			return st, fmt.Errorf("walk %s: record %d header: %w", path, st.packets, err)
		}
		caplen, wire := order.Uint32(rec[8:]), order.Uint32(rec[12:])
		if _, err := r.Discard(int(caplen)); err != nil {
			return st, fmt.Errorf("walk %s: record %d (%d bytes): %w", path, st.packets, caplen, err)
		}
		st.packets++
		st.bytes += int64(caplen)
		st.wireBytes += int64(wire)
	}
}

package main

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/minerwatch/minerwatch/internal/splitmix"
)

func main() {
	kind := flag.String("kind", "", "synflood, spoofed or gzbomb")
	n := flag.Int64("n", 0, "SYNs (synflood, spoofed) or zero bytes after the record header (gzbomb, default 4 GiB)")
	out := flag.String("o", "", "output file")
	intelOut := flag.String("intel", "", "spoofed: also write an intel list naming the target here")
	flag.Parse()
	if err := run(*kind, *n, *out, *intelOut); err != nil {
		fmt.Fprintln(os.Stderr, "hostilegen:", err)
		os.Exit(1)
	}
}

func run(kind string, n int64, out, intelOut string) error {
	if out == "" {
		return errors.New("-o FILE is required")
	}
	if n < 0 {
		return errors.New("-n must not be negative")
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	switch kind {
	case "synflood":
		err = writeSYNs(w, n, floodPacket)
	case "spoofed":
		if n > maxSpoofed {
			return fmt.Errorf("-n %d: at most %d distinct spoofed sources", n, maxSpoofed)
		}
		err = writeSYNs(w, n, spoofedPacket)
		if err == nil && intelOut != "" {
			err = os.WriteFile(intelOut, []byte("# hostilegen spoofed-flood target\n"+spoofTarget+"\n"), 0o644)
		}
	case "gzbomb":
		if n == 0 {
			n = 4 << 30
		}
		err = writeGzipBomb(w, n)
	default:
		err = fmt.Errorf("unknown -kind %q (want synflood, spoofed or gzbomb)", kind)
	}
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", out, err)
	}
	return nil
}

// pcap constants: classic little-endian, microsecond timestamps, raw IP.
const (
	linkTypeRaw = 101
	snapLen     = 65535
	startSec    = 1_800_000_000 // 2027-01-15, any fixed time will do
)

func writePcapHeader(w io.Writer) error { return writePcapHeaderSnap(w, snapLen) }

func writePcapHeaderSnap(w io.Writer, snap uint32) error {
	var h [24]byte
	binary.LittleEndian.PutUint32(h[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(h[4:], 2)
	binary.LittleEndian.PutUint16(h[6:], 4)
	binary.LittleEndian.PutUint32(h[16:], snap)
	binary.LittleEndian.PutUint32(h[20:], linkTypeRaw)
	_, err := w.Write(h[:])
	return err
}

// synLen is an IPv4 header and a TCP header without options.
const synLen = 40

// writeSYNs writes n SYN records, the i-th filled in by fill, 1 µs apart.
func writeSYNs(w io.Writer, n int64, fill func(i int64, ip *[synLen]byte)) error {
	if err := writePcapHeader(w); err != nil {
		return err
	}
	var rec [16 + synLen]byte
	for i := range n {
		us := i // 1 µs apart
		binary.LittleEndian.PutUint32(rec[0:], uint32(startSec+us/1e6))
		binary.LittleEndian.PutUint32(rec[4:], uint32(us%1e6))
		binary.LittleEndian.PutUint32(rec[8:], synLen)
		binary.LittleEndian.PutUint32(rec[12:], synLen)
		ip := (*[synLen]byte)(rec[16:])
		fill(i, ip)
		if _, err := w.Write(rec[:]); err != nil {
			return err
		}
	}
	return nil
}

// syn fills a bare SYN from src:sport to dst:dport with sequence seq.
func syn(ip *[synLen]byte, src, dst [4]byte, sport, dport uint16, seq uint32) {
	*ip = [synLen]byte{}
	ip[0] = 0x45
	binary.BigEndian.PutUint16(ip[2:], synLen)
	ip[8] = 64 // TTL
	ip[9] = 6  // TCP
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	t := ip[20:]
	binary.BigEndian.PutUint16(t[0:], sport)
	binary.BigEndian.PutUint16(t[2:], dport)
	binary.BigEndian.PutUint32(t[4:], seq)
	t[12] = 5 << 4 // data offset: 20 bytes
	t[13] = 0x02   // SYN
	binary.BigEndian.PutUint16(t[14:], 64240)
}

// floodPacket: client 10.x.y.z (one address per 50,000 SYNs) from port
// 1024 + i%50000, to one of 200 servers: every i a distinct 5-tuple.
func floodPacket(i int64, ip *[synLen]byte) {
	host := uint32(i / 50000)
	src := [4]byte{10, byte(host >> 16), byte(host >> 8), byte(host)}
	dst := [4]byte{198, 51, 100, byte(i % 200)}
	syn(ip, src, dst, uint16(1024+i%50000), 443, uint32(splitmix.Mix(uint64(i))))
}

// spoofTarget is the listed address the spoofed flood goes to.
const spoofTarget = "203.0.113.7"

// maxSpoofed is how many distinct sources spoofedPacket can make.
const maxSpoofed = 222 << 16

// spoofedPacket: source i is (i, a scrambled low byte) in 1.0.0.0 –
// 222.255.255.255, distinct for every i < maxSpoofed; one fixed target.
func spoofedPacket(i int64, ip *[synLen]byte) {
	a := uint32(i)<<8 | uint32(splitmix.Mix(uint64(i)))&0xff
	src := [4]byte{byte(1 + a>>24), byte(a >> 16), byte(a >> 8), byte(a)}
	syn(ip, src, [4]byte{203, 0, 113, 7}, uint16(1024+splitmix.Mix(uint64(i)>>3)%60000), 3333, uint32(i))
}

// writeGzipBomb writes a gzip-compressed pcap with one record header
// claiming a caplen of 0xFFFFFFF0 bytes, followed by n zeros.
func writeGzipBomb(w io.Writer, n int64) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	// The file header's snaplen claims as much as the record, so a reader
	// that trusts either allocates 4 GiB.
	if err := writePcapHeaderSnap(zw, 0xFFFFFFF0); err != nil {
		return err
	}
	var rec [16]byte
	binary.LittleEndian.PutUint32(rec[0:], startSec)
	binary.LittleEndian.PutUint32(rec[8:], 0xFFFFFFF0)
	binary.LittleEndian.PutUint32(rec[12:], 0xFFFFFFF0)
	if _, err := zw.Write(rec[:]); err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for n > 0 {
		k := min(n, int64(len(zeros)))
		if _, err := zw.Write(zeros[:k]); err != nil {
			return err
		}
		n -= k
	}
	return zw.Close()
}

package main

import (
	"bufio"
	"encoding/binary"
	"io"
	"os/exec"
	"syscall"
	"testing"
)

// writeSYNFlood writes a pcap of n TCP SYNs from n distinct 5-tuples
// (10.0.0.0/8 sources, 16 ports each, to 192.0.2.1:3333), 100k per second
// of capture time: the flood of issue 12, generated instead of stored.
func writeSYNFlood(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<20)
	le, be := binary.LittleEndian, binary.BigEndian
	h := make([]byte, 24)
	le.PutUint32(h[0:], 0xa1b2c3d4)
	le.PutUint16(h[4:], 2)
	le.PutUint16(h[6:], 4)
	le.PutUint32(h[16:], 65535)
	le.PutUint32(h[20:], 1) // Ethernet
	bw.Write(h)
	pkt := make([]byte, 54)
	pkt[12], pkt[13] = 0x08, 0x00
	ip, tcp := pkt[14:34], pkt[34:]
	ip[0], ip[8], ip[9] = 0x45, 64, 6
	be.PutUint16(ip[2:], 40)
	copy(ip[16:], []byte{192, 0, 2, 1})
	be.PutUint16(tcp[2:], 3333)
	tcp[12], tcp[13] = 0x50, 0x02 // SYN
	rh := make([]byte, 16)
	for i := 0; i < n; i++ {
		be.PutUint32(ip[12:], 0x0a000000|uint32(i>>4))
		be.PutUint16(tcp[0:], uint16(1024+i&15))
		le.PutUint32(rh[0:], uint32(1_700_000_000+i/100_000))
		le.PutUint32(rh[4:], uint32(i%100_000)*10)
		le.PutUint32(rh[8:], 54)
		le.PutUint32(rh[12:], 54)
		bw.Write(rh)
		if _, err := bw.Write(pkt); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// BenchmarkFlowsOfASYNFloodMaxRSS runs `flows --max-flows 1000` on a
// 3,000,000-SYN flood piped into the built binary and reports the whole
// process's max RSS (issue 12's target: ≤ 256 MiB; the tabwriter version
// held every line, 2.2 GB). A benchmark, not a test: run it with
// go test -run '^$' -bench FlowsOfASYNFlood -benchtime 1x ./cmd/minerwatch
func BenchmarkFlowsOfASYNFloodMaxRSS(b *testing.B) {
	const n = 3_000_000
	bin := buildBinary(b)
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(bin, "flows", "-r", "/dev/stdin", "--max-flows", "1000")
		in, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		cmd.Stdout = io.Discard
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		werr := writeSYNFlood(in, n)
		in.Close()
		if err := cmd.Wait(); err != nil || werr != nil {
			b.Fatalf("flows: %v (feeding: %v)", err, werr)
		}
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		b.ReportMetric(float64(ru.Maxrss)/1024, "maxRSS-MiB") // Linux reports KiB
		b.ReportMetric(float64(n), "flows")
	}
}

package main

import (
	"encoding/binary"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/pcapgo"
)

const (
	packetsPerFlow = 5
	// maxConcurrent flows: one client address each in 10.0.0.0/8.
	maxConcurrent = 1<<24 - 2
	upPayload     = 64
	downPayload   = 200
)

// concurrentStart is the capture time of the first packet (2026-01-01).
var concurrentStart = time.Unix(1767225600, 0).UTC()

func writeConcurrentFile(path string, n int) error {
	return writeAtomically(path, func(w *pcapgo.Writer) error { return writeConcurrent(w, n) })
}

// writeConcurrent writes n flows: all handshakes, then one data packet each
// way per flow (see the package doc).
func writeConcurrent(w *pcapgo.Writer, n int) error {
	t := concurrentStart
	buf := make([]byte, 14+20+20+downPayload)
	emit := func(i int, up bool, flags byte, seq, ack uint32, payload int) error {
		frame := tcpFrame(buf, i, up, flags, seq, ack, payload)
		t = t.Add(time.Microsecond)
		return w.WritePacket(gopacket.CaptureInfo{Timestamp: t, CaptureLength: len(frame), Length: len(frame)}, frame)
	}
	const isn, irs = 1000, 5000 // client's and server's initial sequence numbers
	for i := range n {
		if err := emit(i, true, tcpSYN, isn, 0, 0); err != nil {
			return err
		}
		if err := emit(i, false, tcpSYN|tcpACK, irs, isn+1, 0); err != nil {
			return err
		}
		if err := emit(i, true, tcpACK, isn+1, irs+1, 0); err != nil {
			return err
		}
	}
	for i := range n {
		if err := emit(i, true, tcpPSH|tcpACK, isn+1, irs+1, upPayload); err != nil {
			return err
		}
		if err := emit(i, false, tcpPSH|tcpACK, irs+1, isn+1+upPayload, downPayload); err != nil {
			return err
		}
	}
	return nil
}

const (
	tcpFIN = 1 << iota
	tcpSYN
	tcpRST
	tcpPSH
	tcpACK
)

// flowAddrs returns flow i's client and server addresses and ports.
func flowAddrs(i int) (client, server [4]byte, cport, sport uint16) {
	binary.BigEndian.PutUint32(client[:], 10<<24+uint32(i)+1) // 10.0.0.1 + i
	server = [4]byte{198, 19, 255, byte(1 + i%250)}
	return client, server, uint16(1024 + i%64000), 443
}

// tcpFrame builds flow i's Ethernet/IPv4/TCP frame in buf with valid
// checksums and returns it. The payload looks like a TLS application-data
// record.
func tcpFrame(buf []byte, i int, up bool, flags byte, seq, ack uint32, payload int) []byte {
	client, server, cport, sport := flowAddrs(i)
	src, dst, srcPort, dstPort := client, server, cport, sport
	srcMAC, dstMAC := [6]byte{2, 0, 0, 0, 0, 1}, [6]byte{2, 0, 0, 0, 0, 2}
	if !up {
		src, dst, srcPort, dstPort = server, client, sport, cport
		srcMAC, dstMAC = dstMAC, srcMAC
	}
	f := buf[:14+20+20+payload]
	copy(f[0:6], dstMAC[:])
	copy(f[6:12], srcMAC[:])
	binary.BigEndian.PutUint16(f[12:], 0x0800)

	ip := f[14:34]
	ip[0], ip[1] = 0x45, 0
	binary.BigEndian.PutUint16(ip[2:], uint16(20+20+payload))
	binary.BigEndian.PutUint16(ip[4:], uint16(i))
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // DF
	ip[8], ip[9] = 64, 6
	ip[10], ip[11] = 0, 0
	copy(ip[12:16], src[:])
	copy(ip[16:20], dst[:])
	binary.BigEndian.PutUint16(ip[10:], ^fold(sum16(ip, 0)))

	tcp := f[34:]
	binary.BigEndian.PutUint16(tcp[0:], srcPort)
	binary.BigEndian.PutUint16(tcp[2:], dstPort)
	binary.BigEndian.PutUint32(tcp[4:], seq)
	binary.BigEndian.PutUint32(tcp[8:], ack)
	tcp[12], tcp[13] = 5<<4, flags
	binary.BigEndian.PutUint16(tcp[14:], 64240)
	tcp[16], tcp[17], tcp[18], tcp[19] = 0, 0, 0, 0
	if payload > 0 {
		p := tcp[20:]
		p[0], p[1], p[2] = 0x17, 0x03, 0x03
		binary.BigEndian.PutUint16(p[3:], uint16(payload-5))
		for j := 5; j < payload; j++ {
			p[j] = byte(i*31 + j*7)
		}
	}
	pseudo := sum16(src[:], 0)
	pseudo = sum16(dst[:], pseudo)
	pseudo += 6 + uint32(len(tcp))
	binary.BigEndian.PutUint16(tcp[16:], ^fold(sum16(tcp, pseudo)))
	return f
}

// sum16 adds b as big-endian 16-bit words (odd tail padded) to s.
func sum16(b []byte, s uint32) uint32 {
	for len(b) >= 2 {
		s += uint32(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		s += uint32(b[0]) << 8
	}
	return s
}

// fold reduces a 32-bit one's-complement sum to 16 bits.
func fold(s uint32) uint16 {
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

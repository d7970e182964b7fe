package online

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"sync"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/lru"
)

// EvidenceConfig bounds the evidence capture.
type EvidenceConfig struct {
	Path string
	// MaxBytes caps the file (frame bytes); past it nothing more is written.
	MaxBytes int64
	// PerFlow caps the packets kept of one alerted flow.
	PerFlow int
	// Snaplen is the pcap header's snaplen.
	Snaplen int
}

// Evidence records the packets of alerted flows to a pcap file, from the
// alert on (the packets before it are gone: keeping every flow's packets
// just in case would cost memory per flow). Safe for concurrent use.
type Evidence struct {
	cfg     EvidenceConfig
	mu      sync.Mutex
	f       *os.File
	bw      *bufio.Writer
	w       *pcapgo.Writer
	link    layers.LinkType
	written int64
	skipped int64
}

// maxEvidenceFlows bounds the alerted flows a worker tracks for evidence.
const maxEvidenceFlows = 4096

// CreateEvidence creates the evidence pcap (truncating an old one).
func CreateEvidence(cfg EvidenceConfig) (*Evidence, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 20
	}
	if cfg.PerFlow <= 0 {
		cfg.PerFlow = 1000
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	f, err := os.Create(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("create evidence pcap: %w", err)
	}
	return &Evidence{cfg: cfg, f: f, bw: bufio.NewWriter(f)}, nil
}

func (e *Evidence) write(fr *Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.w == nil {
		e.link = fr.Link
		e.w = pcapgo.NewWriterNanos(e.bw)
		if err := e.w.WriteFileHeader(uint32(e.cfg.Snaplen), fr.Link); err != nil {
			e.skipped++
			return
		}
	}
	if fr.Link != e.link || e.written+int64(len(fr.Data)) > e.cfg.MaxBytes {
		e.skipped++
		return
	}
	ci := gopacket.CaptureInfo{Timestamp: fr.Time, CaptureLength: len(fr.Data), Length: max(fr.Len, len(fr.Data))}
	if err := e.w.WritePacket(ci, fr.Data); err != nil {
		e.skipped++
		return
	}
	e.written += int64(len(fr.Data))
}

// Stats returns the frame bytes written and the frames skipped (caps).
func (e *Evidence) Stats() (written, skipped int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.written, e.skipped
}

// Close flushes and closes the file.
func (e *Evidence) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.bw.Flush()
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write evidence pcap: %w", err)
	}
	return nil
}

// evidenceTracker is one worker's set of alerted flows (not shared): an
// LRU, so flows that never get an end event (intel and model alerts)
// make room for new ones instead of filling it for good.
type evidenceTracker struct {
	ev    *Evidence
	flows *lru.Map[flows.Key, int] // packets written
}

func newEvidenceTracker(ev *Evidence) *evidenceTracker {
	return &evidenceTracker{ev: ev, flows: lru.New[flows.Key, int](maxEvidenceFlows)}
}

// forget drops the flow of a, which ended.
func (t *evidenceTracker) forget(a *alert.Alert) {
	if k, ok := alertKey(a); ok {
		t.flows.Delete(k)
	}
}

func (t *evidenceTracker) mark(a *alert.Alert) {
	if t == nil || a.EventType != alert.EventAlert {
		return
	}
	k, ok := alertKey(a)
	if !ok {
		return
	}
	if _, seen := t.flows.Peek(k); !seen {
		t.flows.Put(k, 0)
	}
}

// packet writes fr if its flow alerted; the trigger packet itself is
// written too, since the alert fires inside engine.Packet before this.
func (t *evidenceTracker) packet(p *packet.Packet, fr *Frame) {
	if t == nil || t.flows.Len() == 0 {
		return
	}
	k := flows.KeyOf(p)
	n, ok := t.flows.Get(k)
	if !ok || n >= t.ev.cfg.PerFlow {
		return
	}
	t.flows.Put(k, n+1)
	t.ev.write(fr)
}

func alertKey(a *alert.Alert) (flows.Key, bool) {
	src, err1 := netip.ParseAddr(a.SrcIP)
	dst, err2 := netip.ParseAddr(a.DestIP)
	if err1 != nil || err2 != nil {
		return flows.Key{}, false
	}
	p := packet.Packet{SrcIP: src, DstIP: dst, SrcPort: a.SrcPort, DstPort: a.DestPort}
	switch a.Proto {
	case "TCP":
		p.Proto = packet.ProtoTCP
	case "UDP":
		p.Proto = packet.ProtoUDP
	default:
		return flows.Key{}, false
	}
	for i, v := range a.VLAN {
		if i < 2 {
			p.VLAN[i] = v
		}
	}
	return flows.KeyOf(&p), true
}

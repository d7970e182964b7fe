package online

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
	"github.com/minerwatch/minerwatch/internal/lru"
	"github.com/minerwatch/minerwatch/internal/outfile"
)

// EvidenceConfig bounds the evidence capture.
type EvidenceConfig struct {
	Path string
	// MaxBytes caps the file (frame bytes, counting what an earlier run
	// left in it); past it nothing more is written.
	MaxBytes int64
	// PerFlow caps the packets kept of one alerted flow.
	PerFlow int
	// Snaplen is the pcap header's snaplen; frames are cut to it.
	Snaplen int
	// Inputs are refused as the evidence path (a replayed capture).
	Inputs []string
	// Now names a rotated file (time.Now when nil).
	Now func() time.Time
}

// Evidence records the packets of alerted flows to a pcap file, from the
// alert on (the packets before it are gone: keeping every flow's packets
// just in case would cost memory per flow). Safe for concurrent use.
//
// Evidence is never truncated: an existing pcap that this sensor could
// have written (nanosecond pcap, same snaplen, whole records, under the
// cap) is appended to; anything else at the path is renamed aside to
// PATH.YYYYMMDDTHHMMSSZ first, and so is the file when the first frame's
// link type differs from the file's.
type Evidence struct {
	cfg     EvidenceConfig
	mu      sync.Mutex
	out     *outfile.File
	bw      *bufio.Writer
	header  bool // the file already has a pcap header
	regular bool // a regular file (a FIFO or device is never renamed)
	link    layers.LinkType
	written int64
	skipped int64
	rotated []string
	err     error
}

// maxEvidenceFlows bounds the alerted flows a worker tracks for evidence.
const maxEvidenceFlows = 4096

// pcap file format (https://www.tcpdump.org/manpages/pcap-savefile.5.html)
// as this writer writes it: little-endian, nanosecond timestamps, 2.4.
const (
	pcapMagicNanos = 0xa1b23c4d
	pcapHeaderLen  = 24
	pcapRecordLen  = 16
)

// OpenEvidence opens the evidence pcap for appending, or renames an
// unusable file aside and starts a new one (see Evidence). It never
// truncates anything.
func OpenEvidence(cfg EvidenceConfig) (*Evidence, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 64 << 20
	}
	if cfg.PerFlow <= 0 {
		cfg.PerFlow = 1000
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	opt := outfile.Options{Mode: outfile.Append, Perm: 0o640, Inputs: cfg.Inputs}
	if err := outfile.Check(cfg.Path, opt); err != nil {
		return nil, fmt.Errorf("evidence pcap: %w", err)
	}
	e := &Evidence{cfg: cfg}
	if fi, err := os.Stat(cfg.Path); err == nil && fi.Mode().IsRegular() && fi.Size() > 0 {
		link, size, why := inspectEvidence(cfg.Path, cfg.Snaplen)
		if why == "" && size >= cfg.MaxBytes {
			why = "at its size cap"
		}
		if why != "" {
			if err := e.rotate(why); err != nil {
				return nil, err
			}
		} else {
			e.header, e.link, e.written = true, link, size-pcapHeaderLen
		}
	}
	if err := e.open(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Evidence) open() error {
	out, err := outfile.Create(e.cfg.Path, outfile.Options{Mode: outfile.Append, Perm: 0o640, Inputs: e.cfg.Inputs})
	if err != nil {
		return fmt.Errorf("evidence pcap: %w", err)
	}
	e.out, e.bw = out, bufio.NewWriter(out)
	fi, err := out.File().Stat()
	e.regular = err == nil && fi.Mode().IsRegular()
	return nil
}

// rotate renames the file at the path aside (never over another file).
func (e *Evidence) rotate(why string) error {
	base := e.cfg.Path + "." + e.cfg.Now().UTC().Format("20060102T150405Z")
	aside := base
	for i := 1; ; i++ {
		if _, err := os.Lstat(aside); errors.Is(err, fs.ErrNotExist) {
			break
		}
		aside = fmt.Sprintf("%s-%d", base, i)
	}
	if err := os.Rename(e.cfg.Path, aside); err != nil {
		return fmt.Errorf("evidence pcap: move %s aside (%s): %w", e.cfg.Path, why, err)
	}
	e.rotated = append(e.rotated, aside+" ("+why+")")
	return nil
}

// inspectEvidence checks that path is a pcap this writer could append to
// and returns its link type and size; why says what is wrong otherwise.
func inspectEvidence(path string, snaplen int) (link layers.LinkType, size int64, why string) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err.Error()
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var h [pcapHeaderLen]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return 0, 0, "not a pcap file"
	}
	le := binary.LittleEndian
	if le.Uint32(h[0:]) != pcapMagicNanos || le.Uint16(h[4:]) != 2 || le.Uint16(h[6:]) != 4 {
		return 0, 0, "not a little-endian nanosecond pcap 2.4"
	}
	if int(le.Uint32(h[16:])) != snaplen {
		return 0, 0, fmt.Sprintf("snaplen %d, not %d", le.Uint32(h[16:]), snaplen)
	}
	link = layers.LinkType(le.Uint32(h[20:]))
	size = pcapHeaderLen
	// Walk the record headers: appending after a record torn by a crash
	// would make every later record unreadable.
	var rh [pcapRecordLen]byte
	for {
		if _, err := io.ReadFull(br, rh[:]); err == io.EOF {
			return link, size, ""
		} else if err != nil {
			return 0, 0, "its last record is torn"
		}
		caplen := int64(le.Uint32(rh[8:]))
		if caplen > int64(snaplen) {
			return 0, 0, "a record is longer than the snaplen"
		}
		if n, err := br.Discard(int(caplen)); err != nil || int64(n) != caplen {
			return 0, 0, "its last record is torn"
		}
		size += pcapRecordLen + caplen
	}
}

func (e *Evidence) write(fr *Frame) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.err != nil {
		e.skipped++
		return
	}
	if e.header && fr.Link != e.link && !e.regular {
		e.skipped++ // a pipe cannot be moved aside: one link type per stream
		return
	}
	if e.header && fr.Link != e.link {
		// The existing file holds another link type: it cannot take this
		// frame, so it is moved aside and a new file started.
		e.bw.Flush()
		e.out.Commit()
		if err := e.rotate(fmt.Sprintf("link type %v, not %v", e.link, fr.Link)); err != nil {
			e.err = err
			e.skipped++
			return
		}
		if e.err = e.open(); e.err != nil {
			e.skipped++
			return
		}
		e.header, e.written = false, 0
	}
	if !e.header {
		var h [pcapHeaderLen]byte
		le := binary.LittleEndian
		le.PutUint32(h[0:], pcapMagicNanos)
		le.PutUint16(h[4:], 2)
		le.PutUint16(h[6:], 4)
		le.PutUint32(h[16:], uint32(e.cfg.Snaplen))
		le.PutUint32(h[20:], uint32(fr.Link))
		if _, err := e.bw.Write(h[:]); err != nil {
			e.err = err
			e.skipped++
			return
		}
		e.header, e.link = true, fr.Link
	}
	data := fr.Data
	if len(data) > e.cfg.Snaplen {
		data = data[:e.cfg.Snaplen] // --snaplen holds for evidence too
	}
	if e.written+int64(pcapRecordLen+len(data)) > e.cfg.MaxBytes {
		e.skipped++
		return
	}
	var rh [pcapRecordLen]byte
	le := binary.LittleEndian
	ns := fr.Time.UnixNano()
	le.PutUint32(rh[0:], uint32(ns/1e9))
	le.PutUint32(rh[4:], uint32(ns%1e9))
	le.PutUint32(rh[8:], uint32(len(data)))
	le.PutUint32(rh[12:], uint32(max(fr.Len, len(fr.Data))))
	e.bw.Write(rh[:])
	if _, err := e.bw.Write(data); err != nil {
		e.err = err
		e.skipped++
		return
	}
	e.written += int64(pcapRecordLen + len(data))
}

// Stats returns the bytes of records in the file (including an earlier
// run's) and the frames skipped (caps, write errors).
func (e *Evidence) Stats() (written, skipped int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.written, e.skipped
}

// Rotated lists the files moved aside, each with the reason.
func (e *Evidence) Rotated() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.rotated...)
}

// Close flushes and closes the file; the error is the first write error,
// if any.
func (e *Evidence) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	err := e.err
	if ferr := e.bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := e.out.Commit(); err == nil {
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

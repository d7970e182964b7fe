package live

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/afpacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// Config configures a capture group.
type Config struct {
	// Interface is the network interface to capture on.
	Interface string
	// Workers is the number of sockets in the fanout group (≥ 1).
	Workers int
	// Snaplen is the most bytes kept of each frame (0 = 65535).
	Snaplen int
	// Promiscuous puts the interface into promiscuous mode while open.
	Promiscuous bool
	// Filter is a compiled classic BPF program attached to every socket;
	// nil captures everything.
	Filter []bpf.RawInstruction
	// RingBytes is the ring size per socket (0 = 32 MiB): what absorbs a
	// burst while a worker is busy.
	RingBytes int
	// PollTimeout bounds how long Read waits for a packet, so a worker on
	// a quiet interface still gets control back to expire flows (0 = 100ms).
	PollTimeout time.Duration
	// FanoutID names the fanout group (0 = derived from the process id, so
	// two minerwatch processes on one interface do not share a group).
	FanoutID uint16
}

// blockBytes is the TPACKET_V3 block size: a block is handed to user space
// when full or when the block timeout fires.
const blockBytes = 1 << 20

// ErrTimeout is returned by Read when no packet arrived within the poll
// timeout.
var ErrTimeout = errors.New("capture: no packet within the poll timeout")

// Group is a fanout group of sockets on one interface.
type Group struct {
	cfg     Config
	sockets []*Socket
}

// Socket is one AF_PACKET socket of a group; it is read by one goroutine.
type Socket struct {
	iface  string
	tp     *afpacket.TPacket
	closed atomic.Bool
}

// Open opens cfg.Workers sockets on the interface, joins them to one
// fanout group hashed by flow, and attaches the filter.
func Open(cfg Config) (*Group, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Snaplen <= 0 {
		cfg.Snaplen = 65535
	}
	if cfg.RingBytes <= 0 {
		cfg.RingBytes = 32 << 20
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = 100 * time.Millisecond
	}
	if cfg.FanoutID == 0 {
		cfg.FanoutID = uint16(os.Getpid())
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, fmt.Errorf("capture on %s: no such interface", cfg.Interface)
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, fmt.Errorf("capture on %s: interface is down", cfg.Interface)
	}
	frame := frameSize(cfg.Snaplen)
	g := &Group{cfg: cfg}
	for i := 0; i < cfg.Workers; i++ {
		tp, err := afpacket.NewTPacket(
			afpacket.OptInterface(cfg.Interface),
			afpacket.OptFrameSize(frame),
			afpacket.OptBlockSize(blockBytes),
			afpacket.OptNumBlocks(max(cfg.RingBytes/blockBytes, 2)),
			afpacket.OptBlockTimeout(10*time.Millisecond),
			afpacket.OptPollTimeout(cfg.PollTimeout),
			afpacket.OptAddVLANHeader(true), // mirrored ports carry VLAN tags; keep them in the frame
			afpacket.TPacketVersion3,
		)
		if err != nil {
			g.Close()
			return nil, openError(cfg.Interface, err)
		}
		s := &Socket{iface: cfg.Interface, tp: tp}
		g.sockets = append(g.sockets, s)
		if cfg.Filter != nil {
			if err := tp.SetBPF(cfg.Filter); err != nil {
				g.Close()
				return nil, fmt.Errorf("capture on %s: attach filter: %w", cfg.Interface, err)
			}
		}
		// Hash fanout even with one worker: it costs nothing and keeps one
		// code path. Defrag keeps the fragments of a packet together.
		if err := tp.SetFanout(afpacket.FanoutHash|afpacket.FanoutHashWithDefrag, cfg.FanoutID); err != nil {
			g.Close()
			return nil, fmt.Errorf("capture on %s: join fanout group %d: %w", cfg.Interface, cfg.FanoutID, err)
		}
		if cfg.Promiscuous && i == 0 {
			if err := tp.SetPromiscuous(true); err != nil {
				g.Close()
				return nil, fmt.Errorf("capture on %s: promiscuous mode: %w", cfg.Interface, err)
			}
		}
	}
	return g, nil
}

// frameSize is the ring frame size for a snaplen: TPACKET_V3 packs frames
// into blocks, so this only caps the largest frame.
func frameSize(snaplen int) int {
	f := 2048
	for f < snaplen+128 && f < blockBytes {
		f *= 2
	}
	return f
}

func openError(iface string, err error) error {
	if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("capture on %s: permission denied (run as root or grant CAP_NET_RAW and CAP_NET_ADMIN): %w", iface, err)
	}
	return fmt.Errorf("capture on %s: %w", iface, err)
}

// Sockets returns the group's sockets, one per worker.
func (g *Group) Sockets() []*Socket { return g.sockets }

// LinkType is the link type of the captured frames.
func (g *Group) LinkType() layers.LinkType { return layers.LinkTypeEthernet }

// Close closes every socket; blocked Reads return.
func (g *Group) Close() {
	for _, s := range g.sockets {
		s.Close()
	}
}

// Read returns the next frame. The data aliases the ring and is valid
// until the next Read. It returns ErrTimeout when the interface was quiet
// for the poll timeout, and another error when the interface is gone.
func (s *Socket) Read() ([]byte, gopacket.CaptureInfo, error) {
	data, ci, err := s.tp.ZeroCopyReadPacketData()
	if err == nil {
		return data, ci, nil
	}
	if errors.Is(err, afpacket.ErrTimeout) || errors.Is(err, syscall.EINTR) {
		return nil, ci, ErrTimeout
	}
	if s.closed.Load() {
		return nil, ci, net.ErrClosed
	}
	if errors.Is(err, afpacket.ErrPoll) {
		// POLLERR/POLLHUP: the kernel unbound the socket (interface removed).
		if _, ierr := net.InterfaceByName(s.iface); ierr != nil {
			return nil, ci, fmt.Errorf("capture on %s: interface is gone", s.iface)
		}
	}
	return nil, ci, fmt.Errorf("capture on %s: %w", s.iface, err)
}

// Stats are the kernel's counters of one socket since it was opened.
type Stats struct {
	Packets uint64 // frames that passed the filter (including dropped ones)
	Drops   uint64 // frames dropped because the ring was full
	Freezes uint64 // times the ring's queue was frozen
}

// Stats reads the kernel's counters. The kernel resets them on every
// read, so Socket accumulates them; call it from one goroutine at a time.
func (s *Socket) Stats() (Stats, error) {
	// afpacket accumulates PACKET_STATISTICS into its own totals.
	_, v3, err := s.tp.SocketStats()
	if err != nil {
		return Stats{}, fmt.Errorf("capture on %s: socket stats: %w", s.iface, err)
	}
	return Stats{Packets: uint64(v3.Packets()), Drops: uint64(v3.Drops()), Freezes: uint64(v3.QueueFreezes())}, nil
}

// Close closes the socket.
func (s *Socket) Close() {
	if s.closed.CompareAndSwap(false, true) {
		s.tp.Close()
	}
}

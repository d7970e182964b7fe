// Command delaywire is the delaying wire between gen.sh's client and
// server namespaces: it forwards every Ethernet frame between two
// interfaces (AF_PACKET, both directions) after a one-way delay with
// normally distributed jitter, keeping each direction in order.
//
// It exists because this kernel has no netem qdisc (CONFIG_NET_SCH_NETEM
// is off) and captures with a ~0.05 ms veth RTT would carry a lab
// artefact (a tiny RTT meaning "benign") that a classifier could learn.
// The interfaces' peers must not use checksum or segmentation offload
// (gen.sh turns them off with ethtool), since frames are copied verbatim.
package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	a := flag.String("a", "", "first interface")
	b := flag.String("b", "", "second interface")
	delay := flag.Duration("delay", 20*time.Millisecond, "one-way delay, each direction")
	jitter := flag.Duration("jitter", 2*time.Millisecond, "standard deviation of the delay")
	flag.Parse()
	if *a == "" || *b == "" {
		fmt.Fprintln(os.Stderr, "delaywire: -a and -b are required")
		os.Exit(2)
	}
	fa, err := open(*a)
	if err != nil {
		fail(err)
	}
	fb, err := open(*b)
	if err != nil {
		fail(err)
	}
	errc := make(chan error, 2)
	go func() { errc <- forward(fa, fb, *delay, *jitter) }()
	go func() { errc <- forward(fb, fa, *delay, *jitter) }()
	fail(<-errc)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "delaywire:", err)
	os.Exit(1)
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// open returns a raw packet socket bound to the named interface that
// does not see the frames it sends itself.
func open(name string) (int, error) {
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return -1, fmt.Errorf("interface %s: %w", name, err)
	}
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW, int(htons(unix.ETH_P_ALL)))
	if err != nil {
		return -1, fmt.Errorf("packet socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_ALL), Ifindex: ifi.Index}); err != nil {
		return -1, fmt.Errorf("bind %s: %w", name, err)
	}
	if err := unix.SetsockoptInt(fd, unix.SOL_PACKET, unix.PACKET_IGNORE_OUTGOING, 1); err != nil {
		return -1, fmt.Errorf("ignore outgoing on %s: %w", name, err)
	}
	return fd, nil
}

type frame struct {
	due  time.Time
	data []byte
}

// forward reads frames from in and writes each to out once its delay
// has passed; a frame never overtakes the one before it (a wire keeps
// order even when the jitter would not).
func forward(in, out int, delay, jitter time.Duration) error {
	q := make(chan frame, 8192)
	go func() {
		for f := range q {
			time.Sleep(time.Until(f.due))
			unix.Write(out, f.data) // a frame the peer refuses is lost, as on a wire
		}
	}()
	var last time.Time
	buf := make([]byte, 65536)
	for {
		n, err := unix.Read(in, buf)
		if err != nil {
			return fmt.Errorf("read: %w", err)
		}
		d := delay + time.Duration(rand.NormFloat64()*float64(jitter))
		due := time.Now().Add(max(d, 0))
		if due.Before(last) {
			due = last
		}
		last = due
		select {
		case q <- frame{due, append([]byte(nil), buf[:n]...)}:
		default: // queue full: drop, as a full router buffer does
		}
	}
}

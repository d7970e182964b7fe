// Package livetest gives tests a private network to capture on: a network
// namespace holding a veth pair, made and removed by the test itself, and
// tcpreplay to send a capture into one end.
package livetest

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/minerwatch/minerwatch/internal/netns"
)

// Net is a namespace with a veth pair, both ends up: frames sent on Send
// arrive on Capture.
type Net struct {
	NS            string
	Send, Capture string
}

var seq atomic.Int32

// New makes the namespace, or skips the test when it cannot (not root, no
// `ip`, or namespaces not allowed).
func New(t testing.TB) *Net {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("live capture test needs root (network namespace, veth pair, AF_PACKET)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("live capture test needs iproute2's ip")
	}
	n := seq.Add(1)
	id := fmt.Sprintf("%d%d", os.Getpid()%100000, n)
	nw := &Net{NS: "mwtest" + id, Send: "mws" + id, Capture: "mwc" + id}
	if out, err := exec.Command("ip", "netns", "add", nw.NS).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", nw.NS).Run() })
	for _, args := range [][]string{
		{"link", "add", nw.Send, "type", "veth", "peer", "name", nw.Capture},
		// No IPv6 on the pair: router solicitations and DAD would add
		// frames the tests did not send.
		{"link", "set", "lo", "up"},
	} {
		nw.Run(t, "ip", args...)
	}
	for _, dev := range []string{nw.Send, nw.Capture} {
		nw.Run(t, "sysctl", "-qw", "net.ipv6.conf."+dev+".disable_ipv6=1")
		nw.Run(t, "ip", "link", "set", dev, "mtu", "9000", "up")
	}
	return nw
}

// Run runs a command inside the namespace and fails the test on error.
func (n *Net) Run(t testing.TB, name string, args ...string) {
	t.Helper()
	out, err := n.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// Command returns a command that runs inside the namespace.
func (n *Net) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Replay sends a capture into the Send end with tcpreplay (extra args
// such as --topspeed or --mbps=100 are passed on); it skips the test when
// tcpreplay is not installed.
func (n *Net) Replay(t testing.TB, file string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("tcpreplay"); err != nil {
		t.Skip("live capture test needs tcpreplay (Debian package tcpreplay)")
	}
	a := append([]string{"-q", "-i", n.Send}, args...)
	out, err := n.Command("tcpreplay", append(a, file)...).CombinedOutput()
	if err != nil {
		t.Fatalf("tcpreplay %s: %v: %s", file, err, out)
	}
	return string(out)
}

// Do runs fn on an OS thread that has entered the namespace, so sockets
// fn opens belong to it (see internal/netns).
func (n *Net) Do(fn func() error) error { return netns.Do(n.NS, fn) }

package netns

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestDoFailsForAMissingNamespace(t *testing.T) {
	err := Do("minerwatch-no-such-ns", func() error { return nil })
	if err == nil || !strings.Contains(err.Error(), "minerwatch-no-such-ns") {
		t.Fatalf("err = %v, want one naming the namespace", err)
	}
}

// Inside a fresh namespace only its own loopback exists, and fn's error
// comes back unchanged; the caller's namespace is untouched afterwards.
func TestDoRunsInsideTheNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to make a network namespace")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	ns := fmt.Sprintf("mw-netns-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Skipf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	outside, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var inside []net.Interface
	sentinel := errors.New("from fn")
	err = Do(ns, func() error {
		var err error
		inside, err = net.Interfaces()
		if err != nil {
			return err
		}
		return sentinel
	})
	if !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want fn's", err)
	}
	if len(inside) != 1 || inside[0].Name != "lo" {
		t.Errorf("interfaces inside = %v, want only lo", inside)
	}
	again, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(outside) {
		t.Errorf("caller's namespace changed: %d interfaces, was %d", len(again), len(outside))
	}
}

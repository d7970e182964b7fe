package intel

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestOneSpoofedConfirmationTeachesNothing: a confirmation without
// evidence (one forged exchange) stays pending: it matches no flow and is
// not saved. A second client confirming the same endpoint makes it
// trusted, with that evidence recorded and saved.
func TestOneSpoofedConfirmationTeachesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "learned.jsonl")
	in, _, err := Load(Options{NoDefault: true, LearnedPath: path})
	if err != nil {
		t.Fatal(err)
	}
	pool, a, b := ap("203.0.113.7:3333"), netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	other := ap("10.0.0.50:40000")
	steps := []struct {
		name        string
		client      netip.Addr
		at          time.Duration
		wantTrusted bool
	}{
		{"first client, no evidence", a, 0, false},
		{"same client again", a, time.Minute, false},
		{"a second client", b, time.Hour, true},
	}
	for _, s := range steps {
		e, trusted := in.Confirm(pool, s.client, "", "signature:cryptonote", "", t0.Add(s.at))
		_, match := in.CheckFlow(other, pool, t0.Add(s.at+time.Second))
		if trusted != s.wantTrusted || match != s.wantTrusted {
			t.Fatalf("%s: trusted %v, matches %v, want %v", s.name, trusted, match, s.wantTrusted)
		}
		if !trusted {
			if err := in.Learned().Save(); err != nil {
				t.Fatal(err)
			}
			if data, _ := os.ReadFile(path); strings.Contains(string(data), "203.0.113.7") {
				t.Fatalf("%s: a pending entry was saved: %s", s.name, data)
			}
			continue
		}
		if e.Evidence != EvidenceTwoClients {
			t.Errorf("%s: evidence %q", s.name, e.Evidence)
		}
	}
	if err := in.Learned().Save(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if !strings.Contains(string(data), `"evidence":"2 clients"`) {
		t.Errorf("saved list lacks the trusted entry: %s", data)
	}
	if n, _ := in.Learned().Pending(); n != 0 {
		t.Errorf("%d still pending after promotion", n)
	}
}

// TestEvidenceIsTrustedAtOnce: a flow with a handshake and an answered
// request teaches the endpoint on its own; a later confirmation without
// evidence neither downgrades nor extends it.
func TestEvidenceIsTrustedAtOnce(t *testing.T) {
	in := New(nil, nil, nil, Config{})
	pool := ap("198.51.100.9:4444")
	e, trusted := in.Confirm(pool, netip.MustParseAddr("10.0.0.1"), "", "signature:stratum-v1", "handshake+answer", t0)
	if !trusted || e.Evidence != "handshake+answer" {
		t.Fatalf("trusted %v entry %+v", trusted, e)
	}
	again, trusted := in.Confirm(pool, netip.MustParseAddr("10.0.0.3"), "", "signature:stratum-v1", "", t0.Add(24*time.Hour))
	if !trusted || !again.Expires.Equal(e.Expires) || again.Evidence != "handshake+answer" {
		t.Errorf("weak confirmation changed the entry: %+v", again)
	}
}

// TestPendingConfirmationsAreBounded: a flood of spoofed confirmations of
// distinct endpoints holds at most MaxPending of them, the least recently
// confirmed dropped first and counted.
func TestPendingConfirmationsAreBounded(t *testing.T) {
	in := New(nil, nil, nil, Config{})
	client := netip.MustParseAddr("10.0.0.1")
	const n = MaxPending + 500
	for i := 0; i < n; i++ {
		server := netip.AddrPortFrom(netip.AddrFrom4([4]byte{100, 64, byte(i >> 8), byte(i)}), 3333)
		in.Confirm(server, client, "", "signature", "", t0)
	}
	pending, evicted := in.Learned().Pending()
	if pending != MaxPending || evicted != 500 || in.Learned().Len() != 0 {
		t.Fatalf("pending %d evicted %d learned %d", pending, evicted, in.Learned().Len())
	}
	// The first endpoint was evicted: a second client starts it over.
	if _, trusted := in.Confirm(ap("100.64.0.0:3333"), netip.MustParseAddr("10.0.0.2"), "", "signature", "", t0); trusted {
		t.Error("an evicted pending entry was promoted")
	}
	// The last one is still pending: a second client promotes it.
	last := fmt.Sprintf("100.64.%d.%d:3333", (n-1)>>8, (n-1)&0xff)
	if _, trusted := in.Confirm(ap(last), netip.MustParseAddr("10.0.0.2"), "", "signature", "", t0); !trusted {
		t.Error("a pending entry was not promoted by a second client")
	}
}

// TestStalePendingConfirmationStartsOver: a second client after the
// first confirmation would have expired does not promote it.
func TestStalePendingConfirmationStartsOver(t *testing.T) {
	in := New(nil, nil, nil, Config{})
	pool := ap("192.0.2.77:3333")
	in.Confirm(pool, netip.MustParseAddr("10.0.0.1"), "", "signature", "", t0)
	if _, trusted := in.Confirm(pool, netip.MustParseAddr("10.0.0.2"), "", "signature", "", t0.Add(8*24*time.Hour)); trusted {
		t.Error("a confirmation older than ConfirmedTTL was promoted")
	}
}

// TestOnTrustedHearsOnlyTrustedNewConfirmations: the publish hook (the
// Kafka learned topic) is told of an endpoint once the trust rules accept
// it — a lone evidence-less confirmation is not told, the second client
// is — and not again for every later flow to the same pool; entries put
// in with Add (manual, or received from another sensor) are never told,
// so sensors do not echo each other's entries.
func TestOnTrustedHearsOnlyTrustedNewConfirmations(t *testing.T) {
	in := New(nil, nil, nil, Config{ConfirmedTTL: 24 * time.Hour})
	var told []string
	in.Learned().OnTrusted(func(e LearnedEntry) { told = append(told, e.Key()+" "+e.Evidence) })
	pool := ap("198.51.100.9:4444")
	in.Confirm(pool, netip.MustParseAddr("10.0.0.1"), "", "signature:stratum-v1", "", t0)
	if len(told) != 0 {
		t.Fatalf("a pending confirmation was published: %v", told)
	}
	in.Confirm(pool, netip.MustParseAddr("10.0.0.2"), "", "signature:stratum-v1", "", t0.Add(time.Minute))
	in.Confirm(pool, netip.MustParseAddr("10.0.0.3"), "", "signature:stratum-v1", "handshake+answer", t0.Add(2*time.Minute))
	if want := []string{"198.51.100.9:4444 2 clients"}; fmt.Sprint(told) != fmt.Sprint(want) {
		t.Fatalf("told %v, want %v (a re-confirmation within half the TTL is not news)", told, want)
	}
	// 13 h later the entry has 11 h left; a confirmation extends it by
	// 13 h > TTL/2: announced again so other sensors keep it.
	in.Confirm(pool, netip.MustParseAddr("10.0.0.3"), "", "signature:stratum-v1", "handshake+answer", t0.Add(13*time.Hour))
	if len(told) != 2 {
		t.Errorf("told %v: a refresh past half the TTL should be published", told)
	}
	in.Learned().Add(LearnedEntry{Addr: netip.MustParseAddr("192.0.2.7"), Port: 3333, Reason: ReasonConfirmed, Evidence: "handshake+answer", Added: t0, Expires: t0.Add(time.Hour)})
	if len(told) != 2 {
		t.Errorf("Add was published: %v", told)
	}
}

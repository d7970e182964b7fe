package engine

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"math/rand"
	"net"
	"net/netip"
	"testing"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/tlshello"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

// clientHello returns the first TLS record crypto/tls sends for sni.
func clientHello(t *testing.T, sni string) []byte {
	t.Helper()
	c, s := net.Pipe()
	defer c.Close()
	defer s.Close()
	go tls.Client(c, &tls.Config{ServerName: sni, InsecureSkipVerify: true}).Handshake()
	b := make([]byte, 5, 4096)
	if _, err := io.ReadFull(s, b); err != nil {
		t.Fatal(err)
	}
	n := int(b[3])<<8 | int(b[4])
	b = b[:5+n]
	if _, err := io.ReadFull(s, b[5:]); err != nil {
		t.Fatal(err)
	}
	return b
}

// prefixTap is the ClientHello search as it was before the carry: every
// searched byte kept in a prefix buffer, Find over all of it. It returns
// the hello's metadata as JSON, or "" when none was parsed.
func prefixTap(chunks [][]byte, port uint16) string {
	var pre []byte
	var p *tlshello.Parser
	up := 0
	done := func(err error) string {
		if err == nil {
			j, _ := json.Marshal(intel.TLSMeta(&p.Hello, port))
			return string(j)
		}
		return ""
	}
	for _, data := range chunks {
		if up >= tlshello.MaxStream {
			return ""
		}
		up += len(data)
		if p == nil {
			n := min(len(data), helloSearch-len(pre))
			pre = append(pre, data[:n]...)
			start := tlshello.Find(pre)
			if start < 0 {
				if len(pre) >= helloSearch {
					return ""
				}
				continue
			}
			p = &tlshello.Parser{}
			if err := p.Feed(pre[start:]); err != tlshello.ErrNeedMore || n == len(data) {
				if err != tlshello.ErrNeedMore {
					return done(err)
				}
				continue
			}
			data = data[n:]
		}
		if err := p.Feed(data); err != tlshello.ErrNeedMore {
			return done(err)
		}
	}
	return ""
}

// The carried search finds the same ClientHello as a search over the
// whole kept prefix, however the stream is cut into chunks: after junk of
// any length (also longer than the search window), after prefixes that
// end in the start of a record header, with the hello itself cut anywhere.
func TestHelloSearchWithoutPrefixBufferFindsTheSameHello(t *testing.T) {
	in, _, err := intel.Load(intel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(Config{Intel: in}, func(*alert.Alert) {})
	hello := clientHello(t, "pool.example-mining.test")
	server := netip.MustParseAddrPort("192.0.2.1:443")
	rng := rand.New(rand.NewSource(1))
	found := 0
	for c := range 3000 {
		var stream []byte
		junk := make([]byte, rng.Intn(1100))
		rng.Read(junk)
		stream = append(stream, junk...)
		if rng.Intn(3) == 0 { // a false start: a record header's first bytes
			stream = append(stream, 22, 3, byte(rng.Intn(6)), 0)[:len(stream)+1+rng.Intn(4)]
		}
		if rng.Intn(4) > 0 {
			stream = append(stream, hello...)
		}
		stream = append(stream, make([]byte, rng.Intn(200))...)
		var chunks [][]byte
		for rest := stream; len(rest) > 0; {
			n := min(len(rest), 1+rng.Intn(1+rng.Intn(400)))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		want := prefixTap(chunks, server.Port())
		fi := &FlowInfo{flow: &flows.Flow{Proto: packet.ProtoTCP, Client: netip.MustParseAddrPort("10.0.0.1:40000"), Server: server}}
		for _, ch := range chunks {
			e.tap(fi, packet.Up, ch)
		}
		got := ""
		if fi.tlsMeta != nil {
			j, _ := json.Marshal(fi.tlsMeta)
			got = string(j)
		}
		if got != want {
			t.Fatalf("case %d (%d junk bytes, %d chunks): carried search %q, prefix search %q", c, len(junk), len(chunks), got, want)
		}
		// The parsers are held only while a hello parser is in use: a
		// finished hello (or none) leaves the flow without them.
		if fi.par != nil && (fi.par.tls == nil || want != "") {
			t.Fatalf("case %d: parsers still held after the hello search (tls parser %v, hello %q)", c, fi.par.tls != nil, want)
		}
		if want != "" {
			found++
		}
	}
	if found < 1000 {
		t.Errorf("only %d of 3000 streams had a hello found: the test exercises too little", found)
	}
}

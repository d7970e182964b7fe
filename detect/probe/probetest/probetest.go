// Package probetest gives the probe's tests real servers to ask: a
// network namespace of their own (addresses 10.231.0.0/24 on its
// loopback, nothing outside it is touched), a Stratum pool in each
// dialect, plain or over TLS (1.2 or 1.3, optionally routed by SNI), an
// HTTPS server, sshd, ss-server, a silent listener and refused ports.
package probetest

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/internal/netns"
)

// Net is a private network namespace.
type Net struct {
	NS string
}

var seq atomic.Int32

// Addr returns the namespace's test address 10.231.0.<host> (2–9 exist).
func Addr(host int) string { return fmt.Sprintf("10.231.0.%d", host) }

// New makes the namespace with 10.231.0.2–9 on its loopback, or skips the
// test when it cannot (not root, no `ip`, namespaces not allowed). The
// namespace and everything started in it are removed at cleanup, also
// when the test fails.
func New(t testing.TB) *Net {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("probe test needs root (it makes a network namespace for its servers)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("probe test needs iproute2's ip")
	}
	n := &Net{NS: fmt.Sprintf("mwprobe%d%d", os.Getpid()%100000, seq.Add(1))}
	if out, err := exec.Command("ip", "netns", "add", n.NS).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", n.NS).Run() })
	n.Run(t, "ip", "link", "set", "lo", "up")
	for h := 2; h <= 9; h++ {
		n.Run(t, "ip", "addr", "add", Addr(h)+"/32", "dev", "lo")
	}
	return n
}

// Run runs a command inside the namespace and fails the test on error.
func (n *Net) Run(t testing.TB, name string, args ...string) {
	t.Helper()
	if out, err := n.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
}

// Command returns a command that runs inside the namespace.
func (n *Net) Command(name string, args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", n.NS, name}, args...)...)
}

// Daemon starts a long-running command in the namespace, killed at cleanup.
func (n *Net) Daemon(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := n.Command(name, args...)
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
}

// Do runs fn on an OS thread that has entered the namespace, so sockets
// fn opens belong to it (see internal/netns).
func (n *Net) Do(fn func() error) error { return netns.Do(n.NS, fn) }

// Dial connects from inside the namespace (a probe.Config.Dial).
func (n *Net) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var d net.Dialer
		var err error
		c, err = d.DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Listen listens inside the namespace; the listener is closed at cleanup.
func (n *Net) Listen(t testing.TB, addr string) net.Listener {
	t.Helper()
	var l net.Listener
	if err := n.Do(func() error {
		var err error
		l, err = net.Listen("tcp", addr)
		return err
	}); err != nil {
		t.Fatalf("listen %s: %v", addr, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// WaitPort waits until something accepts connections on addr in the
// namespace (a daemon started with Daemon).
func (n *Net) WaitPort(t testing.TB, addr string) {
	t.Helper()
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		c, err := n.Dial(context.Background(), "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing listens on %s in %s", addr, n.NS)
}

// Cert returns a self-signed certificate for name (ECDSA P-256, valid
// one day), made fresh for the test.
func Cert(t testing.TB, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name, Organization: []string{"minerwatch probe test"}},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// Served counts what a test server saw.
type Served struct {
	mu      sync.Mutex
	conns   int
	methods []string
}

func (s *Served) conn() {
	s.mu.Lock()
	s.conns++
	s.mu.Unlock()
}

func (s *Served) method(m string) {
	s.mu.Lock()
	s.methods = append(s.methods, m)
	s.mu.Unlock()
}

// Conns is the number of connections accepted.
func (s *Served) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Methods lists every JSON-RPC method a pool received, in order.
func (s *Served) Methods() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.methods...)
}

// accept runs handle on every connection of l until l is closed.
func accept(l net.Listener, s *Served, handle func(net.Conn)) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s.conn()
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(30 * time.Second))
				handle(c)
			}()
		}
	}()
}

// Silent accepts connections, reads and never answers.
func Silent(l net.Listener) *Served {
	s := &Served{}
	accept(l, s, func(c net.Conn) {
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil {
				return
			}
		}
	})
	return s
}

// TLSOptions pick the TLS versions of a TLS server and, with Route set,
// SNI-based routing: a ClientHello naming Route goes to the pool, any
// other name (or none) to an HTTPS site on the same port.
type TLSOptions struct {
	Min, Max uint16
	Route    string
	// Strict refuses the handshake with a TLS alert when the ClientHello
	// does not name Route (nginx's ssl_reject_handshake).
	Strict bool
}

// Pool serves the dialect on l (plain when cert is nil, else TLS).
func Pool(l net.Listener, dialect string, cert *tls.Certificate, o TLSOptions) *Served {
	s := &Served{}
	if cert != nil {
		cfg := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: o.Min, MaxVersion: o.Max}
		if o.Strict {
			cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				if h.ServerName != o.Route {
					return nil, fmt.Errorf("unknown server name %q", h.ServerName)
				}
				return nil, nil
			}
		}
		l = tls.NewListener(l, cfg)
	}
	accept(l, s, func(c net.Conn) {
		if tc, ok := c.(*tls.Conn); ok {
			if tc.Handshake() != nil {
				return
			}
			if o.Route != "" && tc.ConnectionState().ServerName != o.Route {
				serveHTTP(c)
				return
			}
		}
		servePool(c, dialect, s)
	})
	return s
}

// HTTPS serves a small website over TLS on l.
func HTTPS(l net.Listener, cert tls.Certificate) *Served {
	s := &Served{}
	l = tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{cert}})
	accept(l, s, func(c net.Conn) {
		if c.(*tls.Conn).Handshake() != nil {
			return
		}
		serveHTTP(c)
	})
	return s
}

// serveHTTP answers one HTTP/1.1 request like a web server: a page for
// GET, 400 Bad Request for anything that is not HTTP (a JSON login).
func serveHTTP(c net.Conn) {
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil && line == "" {
		return
	}
	if strings.HasPrefix(line, "GET ") {
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\nConnection: close\r\n\r\n<h1>test</h1>")
		return
	}
	fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request")
}

// Replies of the test pool, in the shapes the real pools' logs show.
const (
	cnLogin   = `{"id":%s,"jsonrpc":"2.0","error":null,"result":{"id":"4c3a9e21","job":{"blob":"0e0eb6c2b9a306c5e3f2a0a1f1b1d2e2c2a2b1d0e5c8e2b2b6f1c9a8b7e6d5c4b3a29180000000f0e0d0c0b0a09080706050403020100ff01","job_id":"q1","target":"b88d0600","algo":"rx/0","height":3100000,"seed_hash":"7e9a2cb4b1d3b8a4c6d9e2f0a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"},"extensions":["algo","nicehash","connect","tls","keepalive"],"status":"OK"}}`
	v1Sub     = `{"id":%s,"result":[[["mining.set_difficulty","d1f3"],["mining.notify","n1f3"]],"08000002",4],"error":null}`
	v1Auth    = `{"id":%s,"result":true,"error":null}`
	v1Diff    = `{"id":null,"method":"mining.set_difficulty","params":[1024]}`
	v1Notify  = `{"id":null,"method":"mining.notify","params":["4f1a","7dcf1c5b8ac6f3f2d9e3bd3c0f4c1b6b8a2e5f6a7b8c9d0e1f2a3b4c5d6e7f80","01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff20020862062f503253482f04b8864e5008","072f736c7573682f000000000100f2052a010000001976a914d23fcdf86f7e756a64a7a9688ef9903327048ed988ac00000000",[],"00000002","1c2ac4af","504e86b9",false]}`
	ethLogin  = `{"id":%s,"jsonrpc":"2.0","result":true}`
	ethWork   = `{"id":%s,"jsonrpc":"2.0","result":["0x1c9a4b7e3d2f8a6c5b4e3d2c1b0a99887766554433221100ffeeddccbbaa9988","0x0a1b2c3d4e5f60718293a4b5c6d7e8f9a0b1c2d3e4f5061728394a5b6c7d8e9f","0x0000000112e0be826d694b2e62d01511f12a6061fbaec8bc02357593e70e52ba"]}`
	es2Hello  = `{"id":%s,"result":{"proto":"EthereumStratum/2.0.0","encoding":"plain","resume":1,"timeout":30,"maxerrors":5,"node":"probetest"},"error":null}`
	errMethod = `{"id":%s,"jsonrpc":"2.0","result":null,"error":{"code":-1,"message":"Unsupported method"}}`
)

// servePool speaks one dialect: it answers its logins as a pool does,
// and answers any other method with a JSON-RPC error (as xmrig-proxy and
// most pools do), recording every method it received.
func servePool(c net.Conn, dialect string, s *Served) {
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		method, id := methodOf(sc.Text())
		if method == "" {
			return
		}
		s.method(method)
		var out []string
		switch dialect + " " + method {
		case "cryptonote login":
			out = []string{fmt.Sprintf(cnLogin, id)}
		case "stratum-v1 mining.subscribe":
			out = []string{fmt.Sprintf(v1Sub, id)}
		case "stratum-v1 mining.authorize":
			out = []string{fmt.Sprintf(v1Auth, id), v1Diff, v1Notify}
		case "eth-proxy eth_submitLogin":
			out = []string{fmt.Sprintf(ethLogin, id)}
		case "eth-proxy eth_getWork":
			out = []string{fmt.Sprintf(ethWork, id)}
		case "ethereumstratum/2.0.0 mining.hello":
			out = []string{fmt.Sprintf(es2Hello, id)}
		default:
			out = []string{fmt.Sprintf(errMethod, id)}
		}
		for _, l := range out {
			if _, err := c.Write([]byte(l + "\n")); err != nil {
				return
			}
		}
	}
}

// methodOf pulls "method" and the raw id out of a request line (the test
// pool need not be a good parser, only honest about what it got).
func methodOf(line string) (method, id string) {
	var m struct {
		Method string `json:"method"`
		ID     any    `json:"id"`
	}
	if jsonUnmarshal([]byte(line), &m) != nil {
		return "", ""
	}
	id = "null"
	switch v := m.ID.(type) {
	case float64:
		id = fmt.Sprint(int64(v))
	case string:
		id = fmt.Sprintf("%q", v)
	}
	return m.Method, id
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// SSHD starts OpenSSH's sshd on addr in the namespace with a fresh host
// key (skips the test when sshd or ssh-keygen is absent).
func (n *Net) SSHD(t testing.TB, addr string) {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		if _, e := os.Stat("/usr/sbin/sshd"); e != nil {
			t.Skip("probe test needs sshd (Debian package openssh-server)")
		}
		sshd = "/usr/sbin/sshd"
	}
	if _, err := exec.LookPath("ssh-keygen"); err != nil {
		t.Skip("probe test needs ssh-keygen (Debian package openssh-client)")
	}
	dir := t.TempDir()
	key := dir + "/host_ed25519"
	if out, err := exec.Command("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key).CombinedOutput(); err != nil {
		t.Fatalf("ssh-keygen: %v: %s", err, out)
	}
	// sshd insists on its privilege-separation directory.
	os.MkdirAll("/run/sshd", 0o755)
	host, port, _ := net.SplitHostPort(addr)
	n.Daemon(t, sshd, "-D", "-e", "-f", "/dev/null", "-h", key, "-o", "ListenAddress="+host, "-p", port,
		"-o", "PidFile=none", "-o", "UsePAM=no")
	n.WaitPort(t, addr)
}

// Shadowsocks starts shadowsocks-libev's ss-server on addr in the
// namespace (skips the test when it is absent).
func (n *Net) Shadowsocks(t testing.TB, addr string) {
	t.Helper()
	ss, err := exec.LookPath("ss-server")
	if err != nil {
		t.Skip("probe test needs ss-server (Debian package shadowsocks-libev)")
	}
	host, port, _ := net.SplitHostPort(addr)
	n.Daemon(t, ss, "-s", host, "-p", port, "-k", "probe-test-password", "-m", "chacha20-ietf-poly1305")
	n.WaitPort(t, addr)
}

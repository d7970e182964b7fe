package probe_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/probe"
	"github.com/minerwatch/minerwatch/detect/probe/probetest"
	"github.com/minerwatch/minerwatch/detect/stratum"
)

const poolName = "pool.example-mining.test"

// servers starts every kind of server the probe must tell apart inside a
// fresh namespace and returns their counters by name.
func servers(t *testing.T, nw *probetest.Net) map[string]*probetest.Served {
	cert := probetest.Cert(t, poolName)
	web := probetest.Cert(t, "www.example.test")
	a := probetest.Addr
	s := map[string]*probetest.Served{
		"cryptonote":    probetest.Pool(nw.Listen(t, a(2)+":3333"), stratum.DialectCryptoNote, nil, probetest.TLSOptions{}),
		"stratum-v1":    probetest.Pool(nw.Listen(t, a(2)+":3334"), stratum.DialectStratumV1, nil, probetest.TLSOptions{}),
		"eth-proxy":     probetest.Pool(nw.Listen(t, a(2)+":3335"), stratum.DialectEthProxy, nil, probetest.TLSOptions{}),
		"ethstratum2":   probetest.Pool(nw.Listen(t, a(2)+":3336"), stratum.DialectEthStratum2, nil, probetest.TLSOptions{}),
		"json-rpc-api":  probetest.Pool(nw.Listen(t, a(2)+":8545"), "none", nil, probetest.TLSOptions{}), // errors for every method
		"tls12-cn":      probetest.Pool(nw.Listen(t, a(3)+":3443"), stratum.DialectCryptoNote, &cert, probetest.TLSOptions{Min: tls.VersionTLS12, Max: tls.VersionTLS12}),
		"tls13-v1":      probetest.Pool(nw.Listen(t, a(3)+":3444"), stratum.DialectStratumV1, &cert, probetest.TLSOptions{Min: tls.VersionTLS13, Max: tls.VersionTLS13}),
		"tls13-eth":     probetest.Pool(nw.Listen(t, a(3)+":3445"), stratum.DialectEthProxy, &cert, probetest.TLSOptions{Min: tls.VersionTLS13}),
		"tls12-es2":     probetest.Pool(nw.Listen(t, a(3)+":3446"), stratum.DialectEthStratum2, &cert, probetest.TLSOptions{Max: tls.VersionTLS12}),
		"sni-router":    probetest.Pool(nw.Listen(t, a(3)+":443"), stratum.DialectCryptoNote, &cert, probetest.TLSOptions{Route: poolName}),
		"strict-sni":    probetest.Pool(nw.Listen(t, a(3)+":8443"), stratum.DialectCryptoNote, &cert, probetest.TLSOptions{Route: poolName, Strict: true}),
		"https":         probetest.HTTPS(nw.Listen(t, a(4)+":443"), web),
		"silent":        probetest.Silent(nw.Listen(t, a(7)+":5555")),
		"unused-listen": probetest.Silent(nw.Listen(t, a(8)+":1")), // nothing probes a(8)
	}
	nw.SSHD(t, a(5)+":22")
	nw.Shadowsocks(t, a(6)+":8388")
	return s
}

// TestProbeTellsPoolsFromOtherServers runs `probe` against real servers in
// a namespace: a pool of each dialect, plain and over TLS 1.2/1.3 (with
// and without SNI routing), a website, sshd, ss-server, a silent listener
// and a refused port. Each gets the right verdict within the timeout, and
// no pool ever receives a share.
func TestProbeTellsPoolsFromOtherServers(t *testing.T) {
	nw := probetest.New(t)
	served := servers(t, nw)
	const timeout = 2 * time.Second
	a := probetest.Addr
	cases := []struct {
		name    string
		addr    string
		tls     bool
		sni     string
		verdict string
		dialect string // pool: the dialect found
		answer  string // not-pool: what the server answered
		server  string // which server's counters to check
	}{
		{"cryptonote plain", a(2) + ":3333", false, "", probe.VerdictPool, stratum.DialectCryptoNote, "", "cryptonote"},
		{"stratum v1 plain", a(2) + ":3334", false, "", probe.VerdictPool, stratum.DialectStratumV1, "", "stratum-v1"},
		{"eth-proxy plain", a(2) + ":3335", false, "", probe.VerdictPool, stratum.DialectEthProxy, "", "eth-proxy"},
		{"EthereumStratum/2 plain", a(2) + ":3336", false, "", probe.VerdictPool, stratum.DialectEthStratum2, "", "ethstratum2"},
		{"cryptonote TLS 1.2 no SNI", a(3) + ":3443", true, "", probe.VerdictPool, stratum.DialectCryptoNote, "", "tls12-cn"},
		{"stratum v1 TLS 1.3 SNI", a(3) + ":3444", true, poolName, probe.VerdictPool, stratum.DialectStratumV1, "", "tls13-v1"},
		{"eth-proxy TLS 1.3", a(3) + ":3445", true, "", probe.VerdictPool, stratum.DialectEthProxy, "", "tls13-eth"},
		{"EthereumStratum/2 TLS 1.2", a(3) + ":3446", true, poolName, probe.VerdictPool, stratum.DialectEthStratum2, "", "tls12-es2"},
		{"SNI router: pool name", a(3) + ":443", true, poolName, probe.VerdictPool, stratum.DialectCryptoNote, "", "sni-router"},
		{"SNI router: other name reaches its website", a(3) + ":443", true, "www.example.test", probe.VerdictNotPool, "", probe.AnswerHTTP, "sni-router"},
		{"SNI router: no name reaches its website", a(3) + ":443", true, "", probe.VerdictNotPool, "", probe.AnswerHTTP, "sni-router"},
		{"strict SNI: pool name", a(3) + ":8443", true, poolName, probe.VerdictPool, stratum.DialectCryptoNote, "", "strict-sni"},
		{"strict SNI: other name gets a TLS alert", a(3) + ":8443", true, "www.example.test", probe.VerdictNotPool, "", probe.AnswerTLSAlert, "strict-sni"},
		{"TLS pool probed in plain", a(3) + ":3443", false, "", probe.VerdictNotPool, "", "", "tls12-cn"},
		{"HTTPS website", a(4) + ":443", true, "www.example.test", probe.VerdictNotPool, "", probe.AnswerHTTP, "https"},
		{"HTTPS website probed in plain", a(4) + ":443", false, "", probe.VerdictNotPool, "", "", "https"},
		{"sshd", a(5) + ":22", false, "", probe.VerdictNotPool, "", probe.AnswerSSH, ""},
		{"sshd probed with TLS", a(5) + ":22", true, "", probe.VerdictNotPool, "", probe.AnswerSSH, ""},
		{"shadowsocks", a(6) + ":8388", false, "", probe.VerdictNotPool, "", "", ""},
		{"silent listener", a(7) + ":5555", false, "", probe.VerdictNotPool, "", probe.AnswerSilence, "silent"},
		{"JSON-RPC API answering errors", a(2) + ":8545", false, "", probe.VerdictNotPool, "", probe.AnswerJSON, "json-rpc-api"},
		{"refused port", a(2) + ":9", false, "", probe.VerdictError, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cfg := probe.Config{Timeout: timeout, Dial: nw.Dial}
			start := time.Now()
			r := probe.Probe(context.Background(), probe.Target{Addr: netip.MustParseAddrPort(c.addr), TLS: c.tls, SNI: c.sni}, cfg)
			took := time.Since(start)
			js, _ := json.Marshal(r)
			t.Logf("%s", js)
			if r.Verdict != c.verdict {
				t.Fatalf("verdict %q, want %q: %s", r.Verdict, c.verdict, js)
			}
			// The timeout bounds the whole probe (plus scheduling slack on
			// a loaded machine); it is a contract, not a speed figure.
			if took > timeout+time.Second {
				t.Errorf("probe took %v, timeout %v", took, timeout)
			}
			if c.dialect != "" && r.Dialect != c.dialect {
				t.Errorf("dialect %q, want %q: %s", r.Dialect, c.dialect, js)
			}
			if c.answer != "" && r.Answer != c.answer {
				t.Errorf("answer %q, want %q: %s", r.Answer, c.answer, js)
			}
			if c.dialect == stratum.DialectCryptoNote && (len(r.Algorithms) != 1 || r.Algorithms[0] != "rx/0") {
				t.Errorf("algorithms %v, want the pool's job algo [rx/0] (not the list the probe offered)", r.Algorithms)
			}
			if r.Verdict == probe.VerdictPool {
				if r.Difficulty <= 0 && r.ShareTarget == "" && c.dialect != stratum.DialectEthStratum2 {
					t.Errorf("pool without difficulty or target: %s", js)
				}
				if len(r.Extensions) == 0 && c.dialect != stratum.DialectEthProxy {
					t.Errorf("pool without advertised extensions: %s", js)
				}
			}
			if c.tls && r.Verdict == probe.VerdictPool {
				if r.Cert == nil || r.Cert.Fingerprint == "" || !strings.Contains(r.Cert.Subject, poolName) || !r.Cert.SelfSigned {
					t.Errorf("TLS certificate details missing: %s", js)
				}
			}
			if r.Verdict == probe.VerdictError && !strings.Contains(r.Error, "refused") {
				t.Errorf("error %q, want connection refused", r.Error)
			}
			if r.SharesSubmitted != 0 {
				t.Errorf("shares_submitted %d", r.SharesSubmitted)
			}
		})
	}
	t.Cleanup(func() {
		// No pool received a share submission, and the probe never used a
		// method outside the dialects' logins and work requests.
		allowed := []string{"login", "mining.subscribe", "mining.authorize", "eth_submitLogin", "eth_getWork", "mining.hello"}
		for name, s := range served {
			for _, m := range s.Methods() {
				if !slices.Contains(allowed, m) {
					t.Errorf("%s received %q from the probe", name, m)
				}
			}
		}
		if served["unused-listen"].Conns() != 0 {
			t.Errorf("a server nobody asked about was connected to")
		}
		if served["silent"].Conns() != 4 {
			t.Errorf("silent listener: %d connections, want one per dialect (4)", served["silent"].Conns())
		}
	})
}

// TestThrowawayLoginsAreWalletShaped: the signature stage's coin guesser
// reads the CryptoNote login as XMR and the eth-proxy login as ETH (the
// checksum is tested in wallet_test.go).
func TestThrowawayLoginsAreWalletShaped(t *testing.T) {
	w := probe.ThrowawayWallet
	if got := stratum.GuessCoin(w); got != "XMR" {
		t.Errorf("GuessCoin(wallet) = %q, want XMR (wallet-shaped)", got)
	}
	if got := stratum.GuessCoin(probe.ThrowawayEthLogin); got != "ETH" {
		t.Errorf("GuessCoin(eth login) = %q, want ETH", got)
	}
}

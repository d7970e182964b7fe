package kafka

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "kafka-test-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

// TestTLSAndSASLSettingsBuildOrSayWhatIsWrong: the --kafka-tls* and
// --kafka-sasl* settings become a tls.Config and a SASL mechanism, or one
// error that names the problem (the tests' broker is plaintext, so this is
// where TLS and SASL are checked).
func TestTLSAndSASLSettingsBuildOrSayWhatIsWrong(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	notPEM := filepath.Join(dir, "not.pem")
	os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, tc := range []struct {
		name    string
		opts    TLSOptions
		wantTLS bool
		check   func(t *testing.T, o TLSOptions)
		err     string
	}{
		{name: "off", opts: TLSOptions{}},
		{name: "system roots", opts: TLSOptions{Enable: true, ServerName: "k1.example"}, wantTLS: true},
		{name: "CA file implies TLS", opts: TLSOptions{CAFile: cert}, wantTLS: true},
		{name: "mutual TLS", opts: TLSOptions{Enable: true, CertFile: cert, KeyFile: key}, wantTLS: true},
		{name: "missing CA", opts: TLSOptions{CAFile: filepath.Join(dir, "nope.pem")}, err: "kafka tls ca"},
		{name: "CA without a certificate", opts: TLSOptions{CAFile: notPEM}, err: "no PEM certificate"},
		{name: "cert without key", opts: TLSOptions{Enable: true, CertFile: cert}, err: "both a cert and a key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := tc.opts.Config()
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || (c != nil) != tc.wantTLS {
				t.Fatalf("config %v, err %v; want TLS %v", c, err, tc.wantTLS)
			}
			if c == nil {
				return
			}
			if c.ServerName != tc.opts.ServerName || (tc.opts.CAFile != "") != (c.RootCAs != nil) || (tc.opts.CertFile != "") != (len(c.Certificates) == 1) {
				t.Errorf("config %+v does not reflect %+v", c, tc.opts)
			}
		})
	}
	for _, tc := range []struct{ mech, want, err string }{
		{"", "", ""},
		{"plain", "PLAIN", ""},
		{"SCRAM-SHA-256", "SCRAM-SHA-256", ""},
		{"scram-sha-512", "SCRAM-SHA-512", ""},
		{"GSSAPI", "", "unknown SASL mechanism"},
	} {
		m, err := SASLMechanism(tc.mech, "probe", "secret")
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err %v, want %q", tc.mech, err, tc.err)
			}
		case err != nil:
			t.Errorf("%q: %v", tc.mech, err)
		case tc.want == "" && m != nil, tc.want != "" && (m == nil || m.Name() != tc.want):
			t.Errorf("%q: mechanism %v, want %q", tc.mech, m, tc.want)
		}
	}
}

// TestBrokerListsAreParsed: host:port lists, a missing port meaning
// Kafka's 9092, and an empty list refused.
func TestBrokerListsAreParsed(t *testing.T) {
	got, err := ParseBrokers(" k1:9093, k2 ,,[::1]:9093,::1,[fe80::1]")
	if err != nil || strings.Join(got, " ") != "k1:9093 k2:9092 [::1]:9093 [::1]:9092 [fe80::1]:9092" {
		t.Errorf("got %q, %v", got, err)
	}
	if _, err := ParseBrokers(" , "); err == nil {
		t.Error("an empty broker list was accepted")
	}
}

package kafka

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Default topic names.
const (
	DefaultAlertTopic   = "minerwatch.alerts"
	DefaultLearnedTopic = "minerwatch.learned"
)

// Default buffer bounds: about a minute of a busy sensor's alerts, and
// little enough memory that an outage cannot starve the flow table.
const (
	DefaultMaxBufferedRecords = 100_000
	DefaultMaxBufferedBytes   = 64 << 20
)

// Config says where and how to reach the brokers.
type Config struct {
	Brokers      []string
	AlertTopic   string // "" = DefaultAlertTopic
	LearnedTopic string // "" = DefaultLearnedTopic; "-" = do not share learned pools
	FlowTopic    string // flow records (Sink.Row); "" = none
	// Sensor names this sensor in the learned entries it publishes and
	// in the records' "sensor" header.
	Sensor string
	// MaxBufferedRecords and MaxBufferedBytes bound what waits in memory
	// for the brokers; 0 = the defaults above.
	MaxBufferedRecords int
	MaxBufferedBytes   int
	// SyncTimeout bounds the wait at Start for the learned topic to be
	// read up to its end (0 = 10 s); past it the sensor starts anyway
	// and the rest arrives while it runs.
	SyncTimeout time.Duration
	// ExpireEvery > 0 makes the sensor write, this often, tombstones for
	// the learned-topic entries it published that have expired by the
	// wall clock (a live sensor: offline runs carry capture times). Only
	// the publisher sweeps its entries, so N sensors do not write N
	// tombstones; `minerwatch intel expire --kafka` sweeps the rest.
	ExpireEvery time.Duration
	TLS         *tls.Config    // nil = plaintext
	SASL        sasl.Mechanism // nil = none
}

func (c *Config) defaults() {
	if c.AlertTopic == "" {
		c.AlertTopic = DefaultAlertTopic
	}
	if c.LearnedTopic == "" {
		c.LearnedTopic = DefaultLearnedTopic
	}
	if c.MaxBufferedRecords <= 0 {
		c.MaxBufferedRecords = DefaultMaxBufferedRecords
	}
	if c.MaxBufferedBytes <= 0 {
		c.MaxBufferedBytes = DefaultMaxBufferedBytes
	}
	if c.SyncTimeout <= 0 {
		c.SyncTimeout = 10 * time.Second
	}
}

// shareLearned says whether learned pools go through Kafka.
func (c *Config) shareLearned() bool { return c.LearnedTopic != "-" }

// clientOpts are the options every client of this package shares.
func (c *Config) clientOpts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.ClientID("minerwatch")}
	if c.TLS != nil {
		opts = append(opts, kgo.DialTLSConfig(c.TLS))
	}
	if c.SASL != nil {
		opts = append(opts, kgo.SASL(c.SASL))
	}
	return opts
}

// ParseBrokers splits "host:port,host:port".
func ParseBrokers(s string) ([]string, error) {
	var out []string
	for _, b := range strings.Split(s, ",") {
		b = strings.TrimSpace(b)
		if b == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(b); err != nil {
			// No port: Kafka's own (a bare IPv6 address gets brackets).
			b = net.JoinHostPort(strings.Trim(b, "[]"), "9092")
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no broker given (want host:port[,host:port...])")
	}
	return out, nil
}

// TLSOptions are the --kafka-tls* flags.
type TLSOptions struct {
	Enable     bool
	CAFile     string // PEM bundle of the brokers' CA; "" = the system's roots
	CertFile   string // client certificate (mutual TLS), with KeyFile
	KeyFile    string
	ServerName string // "" = the broker's host name
	Insecure   bool   // skip verification (testing only)
}

// Config builds the tls.Config, or nil when TLS is off.
func (o TLSOptions) Config() (*tls.Config, error) {
	if !o.Enable && o.CAFile == "" && o.CertFile == "" {
		return nil, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: o.ServerName, InsecureSkipVerify: o.Insecure}
	if o.CAFile != "" {
		pem, err := os.ReadFile(o.CAFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("kafka tls ca %s: no PEM certificate", o.CAFile)
		}
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return nil, errors.New("kafka tls: a client certificate needs both a cert and a key file")
	}
	if o.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(o.CertFile, o.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("kafka tls client certificate: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// SASLMechanism builds the SASL mechanism named mech (PLAIN,
// SCRAM-SHA-256, SCRAM-SHA-512; "" = none) for user and password.
func SASLMechanism(mech, user, password string) (sasl.Mechanism, error) {
	switch strings.ToUpper(mech) {
	case "":
		return nil, nil
	case "PLAIN":
		return plain.Auth{User: user, Pass: password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: password}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("unknown SASL mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", mech)
}

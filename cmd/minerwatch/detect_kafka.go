package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/kafka"
)

// kafkaOptions are the --kafka* flags (detect, and intel's learned-topic
// commands): brokers, topics, buffer bounds, TLS and SASL.
type kafkaOptions struct {
	brokers      string
	alertTopic   string
	flows        bool
	flowTopic    string
	learnedTopic string
	maxRecords   int
	maxMB        int
	flushTimeout time.Duration
	tls          kafka.TLSOptions
	saslMech     string
	saslUser     string
	saslPassFile string
	configFile   string
}

// kafkaConnFlags are the flags that say how to reach the cluster.
func kafkaConnFlags(fs *flag.FlagSet, o *kafkaOptions) {
	fs.StringVar(&o.brokers, "kafka", "", "Kafka `BROKERS` (host:port,...): send alerts and flow events there and share learned pools with the other sensors (README, \"Scaling out\")")
	fs.StringVar(&o.learnedTopic, "kafka-learned-topic", kafka.DefaultLearnedTopic, "compacted Kafka `TOPIC` of learned pool endpoints shared by the sensors (\"-\": do not share)")
	fs.BoolVar(&o.tls.Enable, "kafka-tls", false, "connect to Kafka over TLS (system roots unless --kafka-tls-ca)")
	fs.StringVar(&o.tls.CAFile, "kafka-tls-ca", "", "PEM `FILE` of the CA that signed the brokers' certificates (implies --kafka-tls)")
	fs.StringVar(&o.tls.CertFile, "kafka-tls-cert", "", "client certificate PEM `FILE` for mutual TLS (with --kafka-tls-key)")
	fs.StringVar(&o.tls.KeyFile, "kafka-tls-key", "", "client private key PEM `FILE` for mutual TLS")
	fs.StringVar(&o.tls.ServerName, "kafka-tls-server-name", "", "`NAME` expected in the brokers' certificates (default: the broker host)")
	fs.StringVar(&o.saslMech, "kafka-sasl", "", "SASL `MECHANISM`: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 (use with TLS)")
	fs.StringVar(&o.saslUser, "kafka-sasl-user", "", "SASL user `NAME`")
	fs.StringVar(&o.saslPassFile, "kafka-sasl-password-file", "", "`FILE` holding the SASL password (first line; not a flag value, which ps would show)")
}

// kafkaFlags are detect's --kafka* flags.
func kafkaFlags(fs *flag.FlagSet, o *kafkaOptions) {
	kafkaConnFlags(fs, o)
	fs.StringVar(&o.configFile, "kafka-config", "", "`FILE` of --kafka* settings, one NAME=VALUE a line (e.g. kafka=k1:9092,k2:9092, kafka-sasl-user=probe; # comments); flags on the command line win")
	fs.StringVar(&o.alertTopic, "kafka-topic", kafka.DefaultAlertTopic, "Kafka `TOPIC` for alerts and flow events (the JSON objects of the alert log, keyed by flow_id)")
	fs.BoolVar(&o.flows, "kafka-flows", false, "also send flow records (the checkpoint feature rows, JSON, keyed by flow_id) to --kafka-flows-topic; computes features even with --no-model")
	fs.StringVar(&o.flowTopic, "kafka-flows-topic", kafka.DefaultFlowTopic, "Kafka `TOPIC` for --kafka-flows")
	fs.IntVar(&o.maxRecords, "kafka-buffer", kafka.DefaultMaxBufferedRecords, "records kept in memory while the brokers are unreachable; past it new ones are dropped and counted")
	fs.IntVar(&o.maxMB, "kafka-buffer-mb", kafka.DefaultMaxBufferedBytes>>20, "MiB kept in memory while the brokers are unreachable")
	fs.DurationVar(&o.flushTimeout, "kafka-flush-timeout", 30*time.Second, "at the end, how long to wait for the brokers to take the buffered records")
}

// config turns the flags into a kafka.Config for sensor.
func (o kafkaOptions) config(sensor string) (kafka.Config, error) {
	brokers, err := kafka.ParseBrokers(o.brokers)
	if err != nil {
		return kafka.Config{}, fmt.Errorf("--kafka: %w", err)
	}
	cfg := kafka.Config{Brokers: brokers, AlertTopic: o.alertTopic, LearnedTopic: o.learnedTopic, Sensor: sensor,
		MaxBufferedRecords: o.maxRecords, MaxBufferedBytes: o.maxMB << 20}
	if o.flows {
		cfg.FlowTopic = o.flowTopic
	}
	if cfg.TLS, err = o.tls.Config(); err != nil {
		return kafka.Config{}, err
	}
	var pass string
	if o.saslPassFile != "" {
		b, err := os.ReadFile(o.saslPassFile)
		if err != nil {
			return kafka.Config{}, fmt.Errorf("--kafka-sasl-password-file: %w", err)
		}
		pass, _, _ = strings.Cut(string(b), "\n")
	}
	if o.saslMech != "" && o.saslUser == "" {
		return kafka.Config{}, errors.New("--kafka-sasl needs --kafka-sasl-user")
	}
	if cfg.SASL, err = kafka.SASLMechanism(o.saslMech, o.saslUser, strings.TrimSpace(pass)); err != nil {
		return kafka.Config{}, fmt.Errorf("--kafka-sasl: %w", err)
	}
	return cfg, nil
}

// startKafka connects detect to Kafka when --kafka is given; nil (a
// no-op sink) otherwise. The learned topic is read into in's learned list
// before the first packet.
func startKafka(o detectOptions, in *intel.Intel, stderr io.Writer) (*kafka.Sink, error) {
	if o.kafka.brokers == "" {
		if o.kafka.flows {
			return nil, errors.New("--kafka-flows needs --kafka BROKERS")
		}
		return nil, nil
	}
	cfg, err := o.kafka.config(o.sensor.Host)
	if err != nil {
		return nil, err
	}
	if o.live.iface != "" {
		// A live sensor's entries expire by the wall clock: it tombstones
		// those it published. Offline runs carry capture times.
		cfg.ExpireEvery = time.Minute
	}
	s, warns, err := kafka.Start(context.Background(), cfg, in.Learned())
	if err != nil {
		return nil, err
	}
	for _, w := range warns {
		fmt.Fprintf(stderr, "minerwatch detect: warning: %s\n", w)
	}
	s.Only(o.eveTypes)
	return s, nil
}

// closeKafka delivers what is buffered and reports what was not.
func closeKafka(s *kafka.Sink, o detectOptions, stderr io.Writer) {
	if s == nil {
		return
	}
	if err := s.Close(o.kafka.flushTimeout); err != nil {
		fmt.Fprintf(stderr, "minerwatch detect: warning: %v\n", err)
	}
	if o.stats {
		st := s.Stats()
		fmt.Fprintf(stderr, "kafka: produced %d (flow records %d), dropped %d, failed %d; learned pools published %d, received %d, removed %d\n",
			st.Produced, st.FlowRecords, st.Dropped, st.Failed, st.LearnedPublished, st.LearnedApplied, st.LearnedRemoved)
	}
}

// finish applies --kafka-config and refuses nonsense values (exit 2, as
// for every flag): a buffer bound of 0 or less, a MiB count whose bytes
// would overflow, a negative flush timeout, topics without a name.
func (o *kafkaOptions) finish(fs *flag.FlagSet) error {
	if err := applyKafkaConfig(fs, o.configFile); err != nil {
		return err
	}
	switch {
	case o.maxRecords <= 0:
		return fmt.Errorf("--kafka-buffer %d: want at least 1 record", o.maxRecords)
	case o.maxMB <= 0 || o.maxMB > maxFileMiB:
		return fmt.Errorf("--kafka-buffer-mb %d: want 1-%d", o.maxMB, maxFileMiB)
	case o.flushTimeout < 0:
		return fmt.Errorf("--kafka-flush-timeout %v: want 0 or more", o.flushTimeout)
	case o.alertTopic == "" || o.learnedTopic == "" || (o.flows && o.flowTopic == ""):
		return errors.New("--kafka-topic, --kafka-learned-topic and --kafka-flows-topic need a name")
	}
	return nil
}

// applyKafkaConfig sets the --kafka* flags named in --kafka-config's file
// that the command line did not set: a deployment keeps its brokers,
// TLS and SASL settings in one file shared by every sensor.
func applyKafkaConfig(fs *flag.FlagSet, path string) error {
	if path == "" {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("--kafka-config: %w", err)
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for n, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimLeft(strings.TrimSpace(name), "-")
		if !ok || !strings.HasPrefix(name, "kafka") || name == "kafka-config" || fs.Lookup(name) == nil {
			return fmt.Errorf("--kafka-config %s:%d: want NAME=VALUE with NAME one of the --kafka* flags, got %q", path, n+1, line)
		}
		if given[name] {
			continue
		}
		if err := fs.Set(name, strings.TrimSpace(value)); err != nil {
			return fmt.Errorf("--kafka-config %s:%d: %s: %w", path, n+1, name, err)
		}
	}
	return nil
}

package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKafkaConfigFileSetsWhatTheCommandLineDoesNot: --kafka-config's
// NAME=VALUE lines set the --kafka* flags (with or without leading
// dashes, comments skipped), the command line wins over the file, and a
// line naming anything but a --kafka* flag is refused with its line number.
func TestKafkaConfigFileSetsWhatTheCommandLineDoesNot(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, file string
		args       []string
		want       kafkaOptions // compared on brokers, alertTopic, saslUser, flows
		err        string
	}{
		{name: "file only", file: "# shared by every sensor\nkafka=k1:9092,k2:9092\n--kafka-sasl-user = probe\nkafka-flows=true\n",
			want: kafkaOptions{brokers: "k1:9092,k2:9092", alertTopic: "minerwatch.alerts", saslUser: "probe", flows: true}},
		{name: "command line wins", file: "kafka=k1:9092\nkafka-topic=from-file\n", args: []string{"--kafka-topic", "from-flag"},
			want: kafkaOptions{brokers: "k1:9092", alertTopic: "from-flag"}},
		{name: "not a kafka flag", file: "kafka=k1:9092\no=/tmp/x\n", err: ":2: want NAME=VALUE"},
		{name: "bad value", file: "kafka-buffer=lots\n", err: ":1: kafka-buffer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_"))
			if err := os.WriteFile(path, []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			fs := flag.NewFlagSet("detect", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			var o kafkaOptions
			kafkaFlags(fs, &o)
			if err := fs.Parse(append(tc.args, "--kafka-config", path)); err != nil {
				t.Fatal(err)
			}
			err := applyKafkaConfig(fs, o.configFile)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.brokers != tc.want.brokers || o.alertTopic != tc.want.alertTopic || o.saslUser != tc.want.saslUser || o.flows != tc.want.flows {
				t.Errorf("got brokers %q topic %q user %q flows %v, want %+v", o.brokers, o.alertTopic, o.saslUser, o.flows, tc.want)
			}
		})
	}
}

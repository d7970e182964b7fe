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

// TestNonsenseKafkaValuesAreRefusedWithExit2: as for every flag, a bad
// bound or timeout is one line and exit status 2, before any connection.
func TestNonsenseKafkaValuesAreRefusedWithExit2(t *testing.T) {
	for _, args := range [][]string{
		{"--kafka-buffer", "0"},
		{"--kafka-buffer-mb", "-1"},
		{"--kafka-buffer-mb", "99999999999"},
		{"--kafka-flush-timeout", "-1s"},
		{"--kafka-topic", ""},
	} {
		code, _, stderr := runCmd(append([]string{"detect", "-r", sample, "--kafka", "127.0.0.1:1"}, args...)...)
		if code != 2 || strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, strings.TrimPrefix(args[0], "-")) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and one line naming the flag", args, code, stderr)
		}
	}
}

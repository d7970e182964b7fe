package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
)

// flows --format csv and json carry the same flows as the text table,
// with the documented fields: csv a header then a line per flow, json an
// object per line. The plaintext sample's one flow: 162 packets and 25,270
// IP bytes up (the text table), 27,538 frame bytes up (tshark -z conv,tcp
// on the same file).
func TestFlowsFormatsCarryTheDocumentedFields(t *testing.T) {
	code, text, stderr := runCmd("flows", "-r", sample)
	if code != 0 {
		t.Fatalf("text: exit %d: %s", code, stderr)
	}
	textFields := strings.Fields(strings.Split(text, "\n")[1])

	code, out, stderr := runCmd("flows", "--format", "csv", "-r", sample)
	if code != 0 {
		t.Fatalf("csv: exit %d: %s", code, stderr)
	}
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 2 || strings.Join(recs[0], ",") != strings.Join(flowFields, ",") {
		t.Fatalf("csv %q: want the header %v and one flow", out, flowFields)
	}
	row := map[string]string{}
	for i, k := range recs[0] {
		row[k] = recs[1][i]
	}

	code, out, stderr = runCmd("flows", "--format", "json", "-r", sample)
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 1 {
		t.Fatalf("json: %d lines, want 1: %q", len(lines), out)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &obj); err != nil {
		t.Fatalf("json line %q: %v", lines[0], err)
	}
	if len(obj) != len(flowFields) {
		t.Errorf("json has %d fields, want %d: %v", len(obj), len(flowFields), obj)
	}

	want := map[string]string{
		"flow_id": textFields[0], "proto": "tcp", "client_ip": "10.200.1.1", "client_port": "35016",
		"server_ip": "10.200.1.2", "server_port": "3333", "pkts_up": "162", "bytes_up": "25270",
		"frame_bytes_up": "27538", "pkts_down": textFields[7], "bytes_down": textFields[8],
		"start": textFields[9], "end": "flush",
	}
	for k, v := range want {
		if row[k] != v {
			t.Errorf("csv %s = %q, want %q", k, row[k], v)
		}
		var got string
		switch x := obj[k].(type) {
		case string:
			got = x
		case float64:
			got = strconv.FormatFloat(x, 'f', -1, 64) // flow ids here are below 2^53
		}
		if got != v {
			t.Errorf("json %s = %v, want %q", k, obj[k], v)
		}
	}
	if !strings.HasPrefix(row["duration_s"], textFields[10]) {
		t.Errorf("csv duration_s %q, text %q", row["duration_s"], textFields[10])
	}
}

// -r - reads standard input, as tcpdump -r - does: the same flows as the
// file. Not parallel: it swaps os.Stdin.
func TestFlowsReadsStandardInput(t *testing.T) {
	_, want, _ := runCmd("flows", "--format", "csv", "-r", sample)
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	code, got, stderr := runCmd("flows", "--format", "csv", "-r", "-")
	if code != 0 || got != want {
		t.Errorf("exit %d, stdin gives %q, the file %q (%s)", code, got, want, stderr)
	}
}

func TestFlowsRefusesAnUnknownFormat(t *testing.T) {
	code, _, stderr := runCmd("flows", "--format", "xml", "-r", sample)
	if code != 2 || !strings.Contains(stderr, "--format") {
		t.Errorf("exit %d: %q", code, stderr)
	}
}

// detect -r - reads standard input too, and names the capture "stdin" in
// the alerts and the summary (not "-"). Not parallel: it swaps os.Stdin.
func TestDetectReadsStandardInputAsStdin(t *testing.T) {
	f, err := os.Open(sample)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	saved := os.Stdin
	os.Stdin = f
	defer func() { os.Stdin = saved }()
	code, out, stderr := runCmd("detect", "--no-learned", "--summary", "-r", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, `"pcap_filename":"stdin"`) || !strings.Contains(stderr, " signature  cryptonote ") || !strings.Contains(stderr, "  stdin  ") {
		t.Errorf("alerts or summary do not name stdin:\n%s\n%s", out, stderr)
	}
}

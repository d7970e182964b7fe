package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/live"
)

// synProgram is `tcpdump -ddd 'tcp[13] & 2 != 0'` for Ethernet (IPv4 TCP
// with SYN set), so the @FILE form is tested without tcpdump installed.
const synProgram = "11\n40 0 0 12\n21 0 8 2048\n48 0 0 23\n21 0 6 6\n40 0 0 20\n69 4 0 8191\n177 0 0 14\n80 0 0 27\n69 0 1 2\n6 0 0 262144\n6 0 0 0\n"

var filterLine = regexp.MustCompile(`(?m)^filter: (\d+) packets kept, (\d+) left out by -f$`)

// detectFiltered runs detect -r sample -f filter --stats and returns the
// packets kept and left out.
func detectFiltered(t *testing.T, filter string, extra ...string) (kept, left int) {
	t.Helper()
	args := append([]string{"detect", "--no-learned", "--stats", "-r", sample, "-f", filter}, extra...)
	code, _, stderr := runCmd(args...)
	if code != 0 {
		t.Fatalf("detect -f %q: exit %d: %s", filter, code, stderr)
	}
	m := filterLine.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("detect -f %q --stats: no filter line in:\n%s", filter, stderr)
	}
	kept, _ = strconv.Atoi(m[1])
	left, _ = strconv.Atoi(m[2])
	return kept, left
}

// tcpdumpCount is the number of packets tcpdump -r sample EXPR prints.
func tcpdumpCount(t *testing.T, expr string) int {
	t.Helper()
	out, err := exec.Command("tcpdump", "-nn", "-q", "-r", sample, expr).Output()
	if err != nil {
		t.Fatalf("tcpdump %q: %v", expr, err)
	}
	return strings.Count(string(out), "\n")
}

func TestOfflineFilterKeepsWhatTcpdumpKeeps(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "syn.bpf")
	if err := os.WriteFile(prog, []byte(synProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	// The sample is one TCP connection: its SYN and SYN-ACK carry SYN.
	kept, left := detectFiltered(t, "@"+prog)
	if kept != 2 || left == 0 {
		t.Errorf("-f @syn.bpf kept %d, left out %d; want the 2 SYN packets kept", kept, left)
	}
	if k, _ := detectFiltered(t, "@"+prog, "--workers", "2"); k != kept {
		t.Errorf("--workers 2 kept %d packets, one engine %d", k, kept)
	}
	_, tcpdumpErr := exec.LookPath("tcpdump")
	for _, expr := range []string{"tcp[13] & 2 != 0", "greater 200", "tcp port 3333", "udp port 53", "not tcp"} {
		t.Run(expr, func(t *testing.T) {
			if tcpdumpErr != nil {
				t.Skip("no tcpdump to compare with")
			}
			want := tcpdumpCount(t, expr)
			// @FILE from tcpdump -ddd works in every build.
			out, err := exec.Command("tcpdump", "-r", sample, "-ddd", expr).Output()
			if err != nil {
				t.Fatalf("tcpdump -ddd: %v", err)
			}
			p := filepath.Join(t.TempDir(), "prog")
			os.WriteFile(p, out, 0o644)
			if kept, left := detectFiltered(t, "@"+p); kept != want || kept+left != tcpdumpCount(t, "") {
				t.Errorf("-f @(tcpdump -ddd %q) kept %d, left %d; tcpdump keeps %d", expr, kept, left, want)
			}
			if live.HasCompiler {
				if kept, _ := detectFiltered(t, expr); kept != want {
					t.Errorf("-f %q kept %d; tcpdump keeps %d", expr, kept, want)
				}
			}
		})
	}
}

func TestOfflineFilterThatCannotRunIsRefusedInOneLine(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.bpf")
	os.WriteFile(bad, []byte("2\n6 0 0 65535\n"), 0o644) // count says 2, one instruction
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"missing program file", []string{"detect", "-r", sample, "-f", "@" + filepath.Join(dir, "none")}, "-f"},
		{"truncated program", []string{"detect", "-r", sample, "-f", "@" + bad}, "-f"},
		{"with a --realtime replay", []string{"detect", "-r", sample, "--realtime", "-f", "tcp"}, "not a --realtime replay"},
	}
	if !live.HasCompiler {
		cases = append(cases, struct {
			name string
			args []string
			want string
		}{"expression without libpcap", []string{"detect", "-r", sample, "-f", "tcp"}, "-f"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runCmd(c.args...)
			if code == 0 || stdout != "" {
				t.Errorf("exit %d, stdout %q; want a failure and no events", code, stdout)
			}
			if strings.Count(stderr, "\n") != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr = %q, want one line containing %q", stderr, c.want)
			}
		})
	}
}

func TestOfflineFilterWarnsAboutCapturesThatAreNotEthernet(t *testing.T) {
	// A raw-IP capture (link type 101): the program's Ethernet offsets do
	// not apply, so its packets are left out and the run says why.
	dir := t.TempDir()
	path := filepath.Join(dir, "raw.pcap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := pcapgo.NewWriter(f)
	w.WriteFileHeader(65535, layers.LinkTypeRaw)
	ip := make([]byte, 40)
	ip[0], ip[3], ip[9] = 0x45, 40, 6 // IPv4, 40 bytes, TCP
	w.WritePacket(gopacket.CaptureInfo{Timestamp: time.Unix(1e9, 0), CaptureLength: 40, Length: 40}, ip)
	f.Close()
	prog := filepath.Join(dir, "syn.bpf")
	os.WriteFile(prog, []byte(synProgram), 0o644)

	code, _, stderr := runCmd("detect", "--no-learned", "--stats", "-r", path, "-f", "@"+prog)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stderr, "warning: -f left out 1 packets of link type") || !strings.Contains(stderr, "filter: 0 packets kept, 1 left out by -f") {
		t.Errorf("stderr lacks the link-type warning or the filter count:\n%s", stderr)
	}
	// Without -f the same capture is read: the warning is about -f only.
	if _, _, stderr := runCmd("detect", "--no-learned", "-r", path); strings.Contains(stderr, "-f left out") {
		t.Errorf("warning without -f:\n%s", stderr)
	}
}

// BenchmarkOfflineFilter measures what -f adds per packet: the BPF
// interpreter on the sample's frames (read once into memory).
func BenchmarkOfflineFilter(b *testing.B) {
	prog := filepath.Join(b.TempDir(), "syn.bpf")
	os.WriteFile(prog, []byte(synProgram), 0o644)
	f, err := newRecordFilter("@" + prog)
	if err != nil {
		b.Fatal(err)
	}
	r, err := capture.Open(sample)
	if err != nil {
		b.Fatal(err)
	}
	var recs []capture.Record
	for {
		var rec capture.Record
		if r.Next(&rec) != nil {
			break
		}
		rec.Data = append([]byte(nil), rec.Data...)
		recs = append(recs, rec)
	}
	r.Close()
	b.ResetTimer()
	kept := 0
	for i := 0; i < b.N; i++ {
		if f.keep(&recs[i%len(recs)]) {
			kept++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/pkt")
	if kept == 0 && b.N >= len(recs) {
		b.Fatal("the SYN program kept nothing")
	}
}

func TestFlowsFilterCountsOnlyKeptPackets(t *testing.T) {
	prog := filepath.Join(t.TempDir(), "syn.bpf")
	os.WriteFile(prog, []byte(synProgram), 0o644)
	code, stdout, stderr := runCmd("flows", "-r", sample, "-f", "@"+prog)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	// The one connection's SYN (up) and SYN-ACK (down); unfiltered it has
	// 162 packets up and 90 down (TestFlowsPrintsOneLinePerFlow).
	if len(lines) != 2 {
		t.Fatalf("flows -f: want a header and one flow:\n%s", stdout)
	}
	if f := strings.Fields(lines[1]); len(f) < 9 || f[5] != "1" || f[7] != "1" {
		t.Errorf("flows -f @syn.bpf: want 1 packet each way:\n%s", stdout)
	}
	if !strings.Contains(stderr, "\n284 packets left out by -f\n") {
		t.Errorf("stderr lacks the count left out:\n%s", stderr)
	}
}

// features -f filters as detect and flows do: with the SYN program only
// the sample's SYN and SYN-ACK are read (286 records, 284 left out).
func TestFeaturesFilterKeepsOnlyMatchingPackets(t *testing.T) {
	dir := t.TempDir()
	prog := filepath.Join(dir, "syn.bpf")
	if err := os.WriteFile(prog, []byte(synProgram), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runCmd("features", "-r", sample, "-f", "@"+prog, "-o", filepath.Join(dir, "f.arrow"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.HasPrefix(stderr, "2 packets, 1 flows, ") || !strings.Contains(stderr, "\n284 packets left out by -f\n") {
		t.Errorf("features -f @syn.bpf: %q, want 2 packets read and 284 left out", stderr)
	}
	if code, _, stderr := runCmd("features", "--manifest", sampleManifest, "-f", "@"+prog, "-o", filepath.Join(dir, "m.arrow")); code != 2 || !strings.Contains(stderr, "-f cannot be used with --manifest") {
		t.Errorf("features --manifest -f: exit %d, %q", code, stderr)
	}
}

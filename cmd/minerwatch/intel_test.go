package main

import (
	"bytes"
	"github.com/minerwatch/minerwatch/internal/shareddata"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runIntelCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runIntel(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestIntelSubcommandsManageTheLearnedList(t *testing.T) {
	learned := filepath.Join(t.TempDir(), "learned.jsonl")
	if code, out, errs := runIntelCmd(t, "add", "203.0.113.7:3333", "--domain", "pool.private.test", "--learned", learned); code != 0 || !strings.HasPrefix(out, "added 203.0.113.7:3333") {
		t.Fatalf("add: %d %q %q", code, out, errs)
	}
	if code, out, _ := runIntelCmd(t, "list", "--learned", learned); code != 0 || !strings.Contains(strings.Join(strings.Fields(out), " "), "203.0.113.7:3333 manual - pool.private.test") { // "-": no evidence
		t.Fatalf("list: %d %q", code, out)
	}
	if code, out, _ := runIntelCmd(t, "check", "--learned", learned, "203.0.113.7:3333"); code != 0 || !strings.Contains(out, `"match":"learned"`) {
		t.Fatalf("check: %d %q", code, out)
	}
	if code, out, _ := runIntelCmd(t, "export", "--format", "csv", "--learned", learned); code != 0 || !strings.Contains(out, "203.0.113.7:3333,ip,manual,") {
		t.Fatalf("export: %d %q", code, out)
	}
	if code, _, _ := runIntelCmd(t, "remove", "203.0.113.7:3333", "--learned", learned); code != 0 {
		t.Fatalf("remove: %d", code)
	}
	if code, out, _ := runIntelCmd(t, "expire", "--learned", learned); code != 0 || out != "expired 0, 0 left\n" {
		t.Fatalf("expire: %d %q", code, out)
	}
}

func TestIntelBadInputGivesOneErrorLineAndNonZeroExit(t *testing.T) {
	learned := filepath.Join(t.TempDir(), "learned.jsonl")
	for _, args := range [][]string{
		{"nosuch"},
		{"add", "not-an-ip", "--learned", learned},
		{"add", "1.2.3.4", "--ttl", "soon", "--learned", learned},
		{"remove", "1.2.3.4", "--learned", learned},
		{"export", "--format", "xml", "--learned", learned},
		{"import", "--format", "yaml", "x.txt"},
		{"import", filepath.Join(t.TempDir(), "missing.txt")},
		{"check", "--learned", learned},
	} {
		code, _, errs := runIntelCmd(t, args...)
		if code == 0 || strings.Count(errs, "\n") != 1 {
			t.Errorf("%q: exit %d, stderr %q", args, code, errs)
		}
	}
	if code, out, _ := runIntelCmd(t, "import", "--help"); code != 0 || !strings.Contains(out, "maltrail") {
		t.Errorf("import --help: %d %q", code, out)
	}
}

func TestIntelImportWritesOneCSVAndReportsBadLines(t *testing.T) {
	dir := t.TempDir()
	feed := filepath.Join(dir, "feed.hosts")
	os.WriteFile(feed, []byte("0.0.0.0 pool.test\nbroken line\n0.0.0.0 pool.test\n"), 0o644)
	out := filepath.Join(dir, "out.csv")
	code, _, errs := runIntelCmd(t, "import", feed, "-o", out)
	if code != 0 || !strings.Contains(errs, "feed.hosts:2: not a hosts line") {
		t.Fatalf("import: %d %q", code, errs)
	}
	// The listed-twice name is one row, and the three numbers say so.
	if want := "2 entries read, 1 duplicates merged, 1 rows written to " + out + " (use it with: minerwatch detect --intel " + out + ")"; !strings.Contains(errs, want) {
		t.Errorf("import summary %q, want %q", errs, want)
	}
	b, _ := os.ReadFile(out)
	if string(b) != "value,type,source,expiry,note\npool.test,domain,feed.hosts,,\n" {
		t.Fatalf("csv %q", b)
	}
	if code, _, _ := runIntelCmd(t, "import", "--strict", feed, "-o", out); code == 0 {
		t.Fatal("--strict accepted an invalid line")
	}
	if code, out, _ := runIntelCmd(t, "check", "--no-default-intel", "--intel", out, "--learned", filepath.Join(dir, "l"), "a.pool.test", "yahoo.com"); code != 0 ||
		!strings.Contains(out, `{"query":"a.pool.test","match":true`) || !strings.Contains(out, `{"query":"yahoo.com","match":false}`) {
		t.Fatalf("check: %d %q", code, out)
	}
}

// TestIntelImportReadsTheSharedPublicFeeds is the first-class import path
// on the real lists in ../shared/datasets/intel (read there, not copied).
func TestIntelImportReadsTheSharedPublicFeeds(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(shareddata.Require(t), "intel", "*_*.*"))
	if len(files) == 0 {
		t.Fatal("no intel lists in the shared datasets")
	}
	out := filepath.Join(t.TempDir(), "all.csv")
	code, _, errs := runIntelCmd(t, append([]string{"import", "--strict", "-o", out}, files...)...)
	if code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	if !strings.Contains(errs, "stamparm_maltrail__crypto_mining.txt: maltrail, 1185 entries, 0 invalid lines, 64 duplicates merged") {
		t.Fatalf("summary %s", errs)
	}
}

// Maltrail's list names some endpoints under two comments: 1185 entries,
// 1121 distinct (`grep -v '^#' crypto_mining.txt | grep . | sort -u | wc
// -l`); import says all three numbers and the CSV holds the 1121.
func TestIntelImportMaltrailSaysReadMergedWritten(t *testing.T) {
	feed := filepath.Join(shareddata.Require(t), "intel", "stamparm_maltrail__crypto_mining.txt")
	out := filepath.Join(t.TempDir(), "pools.csv")
	code, _, errs := runIntelCmd(t, "import", "--format", "maltrail", feed, "-o", out)
	if code != 0 {
		t.Fatalf("import: %d %s", code, errs)
	}
	if !strings.Contains(errs, "1185 entries read, 64 duplicates merged, 1121 rows written to "+out) {
		t.Errorf("summary %q", errs)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(string(b), "\n") - 1; rows != 1121 { // less the header
		t.Errorf("%d rows written, want 1121", rows)
	}
}

package outfile

import (
	"bytes"
	"errors"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// tempNames lists the temporary files Create leaves in dir.
func tempNames(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestReplaceIsAtomicAndAbortLeavesTheOldFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.arrow")
	os.WriteFile(p, []byte("old"), 0o644)

	o, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("new, half written"))
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("while writing, %s = %q; want the old content until Commit", p, b)
	}
	o.Abort()
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("after Abort, %s = %q; want the old content", p, b)
	}
	if tmp := tempNames(t, dir); len(tmp) != 0 {
		t.Errorf("Abort left %v", tmp)
	}

	o, err = Create(p, Options{Perm: 0o640})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("new"))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(p)
	if b, _ := os.ReadFile(p); string(b) != "new" || fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("after Commit: %q mode %v; want \"new\" and no bits beyond 0640", b, fi.Mode().Perm())
	}
	if tmp := tempNames(t, dir); len(tmp) != 0 {
		t.Errorf("Commit left %v", tmp)
	}
}

// requireCharDevice skips unless path is a character device: a test must
// never write to a /dev path something else already turned into a file
// (as root, that would replace it once more).
func requireCharDevice(t *testing.T, path string) {
	t.Helper()
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Skipf("%s is not a character device here", path)
	}
}

func TestCharacterDeviceIsWrittenThroughNotReplaced(t *testing.T) {
	requireCharDevice(t, "/dev/null")
	o, err := Create("/dev/null", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.WritesThrough() {
		t.Error("/dev/null: not written through")
	}
	if _, err := o.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat("/dev/null")
	if err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a character device: %v %v", fi.Mode(), err)
	}
}

// /dev/full answers every write with ENOSPC: the error must reach the
// caller (a command then exits non-zero), the device must survive.
func TestFullDeviceReportsENOSPC(t *testing.T) {
	requireCharDevice(t, "/dev/full")
	o, err := Create("/dev/full", Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, werr := o.Write(make([]byte, 4096))
	o.Abort()
	if !errors.Is(werr, syscall.ENOSPC) {
		t.Errorf("write to /dev/full: %v, want ENOSPC", werr)
	}
	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&fs.ModeCharDevice == 0 {
		t.Errorf("/dev/full changed: %v %v", fi.Mode(), err)
	}
}

func TestFIFOIsWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pipe")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := make(chan []byte, 1)
	go func() {
		f, err := os.Open(p)
		if err != nil {
			got <- nil
			return
		}
		defer f.Close()
		var b bytes.Buffer
		b.ReadFrom(f)
		got <- b.Bytes()
	}()
	o, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("through the pipe"))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; string(b) != "through the pipe" {
		t.Errorf("reader got %q", b)
	}
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Errorf("FIFO replaced: %v %v", fi.Mode(), err)
	}
}

func TestSymlinkIsFollowedAndKept(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "real.txt")
	link := filepath.Join(dir, "link.txt")
	os.WriteFile(target, []byte("old"), 0o644)
	os.Symlink(target, link)
	o, err := Create(link, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("new"))
	if err := o.Commit(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Lstat(link); fi.Mode()&fs.ModeSymlink == 0 {
		t.Errorf("the link was replaced by a %v", fi.Mode())
	}
	if b, _ := os.ReadFile(target); string(b) != "new" {
		t.Errorf("target = %q, want new", b)
	}
}

func TestRefusedOutputs(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "x.pcap")
	os.WriteFile(input, []byte("capture"), 0o644)
	inputLink := filepath.Join(dir, "y.pcap")
	os.Symlink(input, inputLink)
	dangling := filepath.Join(dir, "dangling")
	os.Symlink(filepath.Join(dir, "nowhere"), dangling)
	sock := filepath.Join(dir, "s.sock")
	if l, err := net.Listen("unix", sock); err == nil {
		defer l.Close()
	}
	cases := []struct {
		name, path string
		opt        Options
		want       string
	}{
		{"a directory", dir, Options{}, "is a directory"},
		{"the input itself", input, Options{Inputs: []string{input}}, "is the input"},
		{"the input, appending", input, Options{Mode: Append, Inputs: []string{input}}, "is the input"},
		{"a symlink to the input", inputLink, Options{Inputs: []string{input}}, "is the input"},
		{"a dangling symlink", dangling, Options{}, "dangling symlink"},
		{"a socket", sock, Options{}, "socket"},
		{"a block device", "/dev/loop0", Options{}, "block device"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := os.Lstat(c.path); err != nil {
				t.Skipf("%s: %v", c.path, err)
			}
			if err := Check(c.path, c.opt); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Check: %v, want %q", err, c.want)
			}
			if o, err := Create(c.path, c.opt); err == nil {
				o.Abort()
				t.Errorf("Create succeeded")
			}
		})
	}
	if b, _ := os.ReadFile(input); string(b) != "capture" {
		t.Errorf("input changed: %q", b)
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
		t.Errorf("the dangling symlink's target was created")
	}
}

func TestAppendRepairsATornLastLine(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, before, want string }{
		{"torn line", "{\"a\":1}\n{\"b\":", "{\"a\":1}\n{\"b\":\n{\"c\":3}\n"},
		{"complete lines", "{\"a\":1}\n", "{\"a\":1}\n{\"c\":3}\n"},
		{"empty file", "", "{\"c\":3}\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_"))
			os.WriteFile(p, []byte(c.before), 0o644)
			o, err := Create(p, Options{Mode: Append, EnsureNewline: true})
			if err != nil {
				t.Fatal(err)
			}
			o.Write([]byte("{\"c\":3}\n"))
			if err := o.Commit(); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(p); string(b) != c.want {
				t.Errorf("file = %q, want %q", b, c.want)
			}
		})
	}
	// A new file is created with the asked mode.
	p := filepath.Join(dir, "new.jsonl")
	o, err := Create(p, Options{Mode: Append, Perm: 0o640, EnsureNewline: true})
	if err != nil {
		t.Fatal(err)
	}
	o.Commit()
	if fi, _ := os.Stat(p); fi.Mode().Perm()&^0o640 != 0 {
		t.Errorf("new alert log mode %v, want at most 0640", fi.Mode().Perm())
	}
}

func TestStdoutDash(t *testing.T) {
	var b bytes.Buffer
	o, err := Create("-", Options{Stdout: &b})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("rows"))
	if err := o.Commit(); err != nil || b.String() != "rows" {
		t.Errorf("stdout got %q, %v", b.String(), err)
	}
}

// A signal handler that must exit at once removes every registered temp
// file; a create after that fails instead of leaving a new one behind.
func TestTempsRemoveAllOnInterrupt(t *testing.T) {
	dir := t.TempDir()
	temps := NewTemps()
	a, err := Create(filepath.Join(dir, "a"), Options{Temps: temps})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Create(filepath.Join(dir, "b"), Options{Temps: temps})
	if err != nil {
		t.Fatal(err)
	}
	b.Commit()
	if temps.Len() != 1 {
		t.Errorf("open temps = %d, want 1 (b was committed)", temps.Len())
	}
	temps.RemoveAll()
	if tmp := tempNames(t, dir); len(tmp) != 0 {
		t.Errorf("RemoveAll left %v", tmp)
	}
	if err := a.Commit(); err == nil {
		t.Error("Commit after RemoveAll succeeded")
	}
	if _, err := Create(filepath.Join(dir, "c"), Options{Temps: temps}); err == nil {
		t.Error("Create after RemoveAll succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a exists after an interrupted run: %v", err)
	}
}

// /dev/stdout is a symlink the kernel resolves (/proc/self/fd/1 →
// "pipe:[…]"); a pipe there is written through, not called dangling.
func TestDevStdoutOnAPipeIsWrittenThrough(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// /proc/self/fd/N names the pipe the way /dev/stdout names fd 1.
	p := "/proc/self/fd/" + strconv.Itoa(int(w.Fd()))
	if _, err := os.Lstat(p); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	o, err := Create(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.WritesThrough() {
		t.Error("a pipe is not written through")
	}
	o.Write([]byte("via the pipe"))
	o.Commit()
	w.Close()
	b := make([]byte, 64)
	n, _ := r.Read(b)
	if string(b[:n]) != "via the pipe" {
		t.Errorf("read %q", b[:n])
	}
}

// `-o out/run1/rows.parquet` without out/: the folders are made, as
// mkdir -p would, for both a replaced and an appended output.
func TestMissingFoldersAreCreated(t *testing.T) {
	for _, mode := range []Mode{Replace, Append} {
		dir := t.TempDir()
		path := filepath.Join(dir, "out", "run1", "rows.parquet")
		if err := Check(path, Options{Mode: mode}); err != nil {
			t.Fatalf("mode %d: Check: %v", mode, err)
		}
		o, err := Create(path, Options{Mode: mode})
		if err != nil {
			t.Fatalf("mode %d: Create: %v", mode, err)
		}
		o.Write([]byte("rows"))
		if err := o.Commit(); err != nil {
			t.Fatalf("mode %d: Commit: %v", mode, err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "rows" {
			t.Errorf("mode %d: read back %q, %v", mode, b, err)
		}
	}
}

// A path that cannot be created is refused by Check (before any work),
// and the message names the path given.
func TestCheckRefusesAnUncreatableFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "notadir")
	os.WriteFile(file, nil, 0o644)
	ro := filepath.Join(dir, "ro")
	os.Mkdir(ro, 0o555)
	cases := []struct {
		name, path, want string
		asRoot           bool // root may write in a 0555 folder
	}{
		{"a file where a folder should be", filepath.Join(file, "sub", "m.json.gz"), "notadir is not a directory", true},
		{"a read-only folder", filepath.Join(ro, "new", "m.json.gz"), "cannot create files in " + ro, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !c.asRoot && os.Geteuid() == 0 {
				t.Skip("root may write in a read-only folder")
			}
			err := Check(c.path, Options{})
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.path) {
				t.Errorf("Check(%s) = %v, want an error naming the path and %q", c.path, err, c.want)
			}
		})
	}
}

// Errors while writing, syncing or renaming name the path the user gave,
// never the temporary file (".x.parquet.tmp-3438956041" means nothing to
// them): here its folder is removed before Commit.
func TestErrorsNameThePathNotTheTemporaryFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	path := filepath.Join(dir, "x.parquet")
	o, err := Create(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	o.Write([]byte("x"))
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	err = o.Commit()
	if err == nil {
		t.Fatal("Commit into a removed folder succeeded")
	}
	if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp-") {
		t.Errorf("Commit error %q: want the path %s, not the temporary name", err, path)
	}
}

// CheckDir accepts an existing or makeable folder and refuses a file, or
// a path under one, naming the folder given.
func TestCheckDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	cases := []struct {
		path, want string // want "" = accepted
	}{
		{dir, ""},
		{filepath.Join(dir, "new", "deeper"), ""},
		{file, "output " + file + ": not a directory"},
		{filepath.Join(file, "rep"), "output " + filepath.Join(file, "rep") + ": " + file + " is not a directory"},
	}
	for _, c := range cases {
		err := CheckDir(c.path)
		if (c.want == "") != (err == nil) || err != nil && err.Error() != c.want {
			t.Errorf("CheckDir(%s) = %v, want %q", c.path, err, c.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); err == nil {
		t.Error("CheckDir made a folder")
	}
}

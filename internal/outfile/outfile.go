package outfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"golang.org/x/sys/unix"
)

// Mode is how an existing regular file is written.
type Mode int

const (
	// Replace writes a new file under a temporary name and renames it
	// into place on Commit.
	Replace Mode = iota
	// Append opens the file for appending (creating it if missing).
	Append
)

// Options say how to open an output.
type Options struct {
	Mode Mode
	// Perm is the mode of a file this package creates (before umask);
	// 0 means 0o644. Existing files appended to keep their mode.
	Perm fs.FileMode
	// Inputs are the paths the command reads; an output that is the same
	// file as one of them is refused ("-" and missing inputs are ignored).
	Inputs []string
	// Stdout, if set, is where the path "-" writes.
	Stdout io.Writer
	// EnsureNewline, in Append mode, writes a '\n' first when a non-empty
	// regular file does not end in one (a line torn by a crash or a full
	// disk), so the next line is not glued onto it.
	EnsureNewline bool
	// Temps, if set, records the temporary file while it exists.
	Temps *Temps
}

// File is one output being written.
type File struct {
	name   string // as given, for messages
	target string // the path written (symlinks resolved)
	w      io.Writer
	f      *os.File // nil for Stdout
	tmp    string   // temporary name (Replace of a regular file), else ""
	device bool     // written through: a character device or FIFO
	temps  *Temps
	done   bool
}

// kind is what a path is, after following symlinks.
type kind int

const (
	kindNew kind = iota
	kindRegular
	kindStream // character device or FIFO
	kindStdout
)

// Check reports whether path may be written with opt, without opening
// anything: commands call it before doing any work so a bad -o fails fast.
func Check(path string, opt Options) error {
	_, _, err := resolve(path, opt)
	return err
}

// resolve follows symlinks and classifies path, refusing what must not be
// written.
func resolve(path string, opt Options) (string, kind, error) {
	if path == "-" && opt.Stdout != nil {
		return path, kindStdout, nil
	}
	if path == "" {
		return "", 0, errors.New("empty output path")
	}
	target := path
	lfi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, unix.ENOTDIR):
		if err := checkParent(path); err != nil {
			return "", 0, err
		}
		return path, kindNew, nil
	case err != nil:
		return "", 0, fmt.Errorf("output %s: %w", path, err)
	}
	fi := lfi
	if lfi.Mode()&fs.ModeSymlink != 0 {
		if target, err = filepath.EvalSymlinks(path); err == nil {
			fi, err = os.Stat(target)
		} else if kfi, kerr := os.Stat(path); kerr == nil && kfi.Mode()&(fs.ModeNamedPipe|fs.ModeCharDevice|fs.ModeSocket) != 0 {
			// /dev/stdout → /proc/self/fd/1 → "pipe:[…]": a link only
			// the kernel can follow, to a pipe or a terminal; opening
			// the path itself reaches it.
			target, fi, err = path, kfi, nil
		}
		if errors.Is(err, fs.ErrNotExist) {
			return "", 0, fmt.Errorf("output %s: dangling symlink (refusing to create its target)", path)
		}
		if err != nil {
			return "", 0, fmt.Errorf("output %s: %w", path, err)
		}
	}
	// Only a regular file can be destroyed by writing it while it is read;
	// a terminal both read and written (-r /dev/stdin -o /dev/stdout) is
	// left alone.
	for _, in := range opt.Inputs {
		if in == "-" || in == "" || !fi.Mode().IsRegular() {
			continue
		}
		if ifi, err := os.Stat(in); err == nil && os.SameFile(ifi, fi) {
			return "", 0, fmt.Errorf("output %s is the input %s (refusing to overwrite what is being read)", path, in)
		}
	}
	m := fi.Mode()
	switch {
	case m.IsRegular():
		return target, kindRegular, nil
	case m.IsDir():
		return "", 0, fmt.Errorf("output %s: is a directory", path)
	case m&fs.ModeCharDevice != 0, m&fs.ModeNamedPipe != 0:
		return target, kindStream, nil
	case m&fs.ModeDevice != 0:
		return "", 0, fmt.Errorf("output %s: is a block device (refusing to write to it)", path)
	case m&fs.ModeSocket != 0:
		return "", 0, fmt.Errorf("output %s: is a socket", path)
	}
	return "", 0, fmt.Errorf("output %s: not a regular file, device or FIFO (%v)", path, m.Type())
}

// CheckDir reports whether files can be written in the folder dir, made
// first if missing (as Create makes an output's folders), without making
// anything: for an output that is a folder of files (a report).
func CheckDir(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("output %s: not a directory", dir)
	case err == nil:
		if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("output %s: cannot create files in it: %w", dir, err)
		}
		return nil
	}
	return checkParent(dir)
}

// checkParent reports whether a file can be created at path, whose folder
// may not exist yet (Create makes it): the nearest existing ancestor must
// be a folder this process may write in. A missing folder is thus no
// error, and a read-only or misspelt one (a file in the way) is reported
// before any work, not after an hour of it.
func checkParent(path string) error {
	dir := filepath.Dir(path)
	for {
		fi, err := os.Stat(dir)
		switch {
		case err == nil && !fi.IsDir():
			return fmt.Errorf("output %s: %s is not a directory", path, dir)
		case err == nil:
			if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
				return fmt.Errorf("output %s: cannot create files in %s: %w", path, dir, err)
			}
			return nil
		case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, unix.ENOTDIR):
			return fmt.Errorf("output %s: %w", path, cause(err))
		}
		up := filepath.Dir(dir)
		if up == dir {
			return nil
		}
		dir = up
	}
}

// makeParent creates the folders above target that are missing, as
// `mkdir -p` would: `-o out/run1/rows.parquet` should not fail on a
// missing out/.
func makeParent(path, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("output %s: create its folder: %w", path, cause(err))
	}
	return nil
}

// cause strips the path from an *fs.PathError or *os.LinkError, so a
// message names the path the user gave, never a temporary file's name.
func cause(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// Create opens path for writing according to what it is (see the package
// documentation).
func Create(path string, opt Options) (*File, error) {
	target, k, err := resolve(path, opt)
	if err != nil {
		return nil, err
	}
	perm := opt.Perm
	if perm == 0 {
		perm = 0o644
	}
	out := &File{name: path, target: target, temps: opt.Temps}
	switch {
	case k == kindStdout:
		out.w = opt.Stdout
		return out, nil
	case k == kindStream:
		// O_APPEND is meaningless on a device and a pipe; O_TRUNC and
		// O_CREATE must never be used on them.
		f, err := os.OpenFile(target, os.O_WRONLY, 0)
		if err != nil {
			return nil, fmt.Errorf("open output %s: %w", path, err)
		}
		out.f, out.w, out.device = f, f, true
		return out, nil
	case opt.Mode == Append:
		if err := makeParent(path, target); err != nil {
			return nil, err
		}
		// O_RDWR so the last byte can be read for EnsureNewline; a file
		// we may only write to is appended to without that check.
		readable := true
		f, err := os.OpenFile(target, os.O_RDWR|os.O_CREATE|os.O_APPEND, perm)
		if errors.Is(err, fs.ErrPermission) {
			readable = false
			f, err = os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_APPEND, perm)
		}
		if err != nil {
			return nil, fmt.Errorf("open output %s: %w", path, err)
		}
		out.f, out.w = f, f
		if opt.EnsureNewline && readable {
			if err := ensureNewline(f); err != nil {
				f.Close()
				return nil, fmt.Errorf("open output %s: %w", path, err)
			}
		}
		return out, nil
	}
	if err := makeParent(path, target); err != nil {
		return nil, err
	}
	f, err := opt.Temps.createTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, cause(err))
	}
	if err := f.Chmod(perm &^ umask()); err != nil { // CreateTemp makes 0600
		f.Close()
		opt.Temps.remove(f.Name())
		return nil, fmt.Errorf("create %s: %w", path, cause(err))
	}
	out.f, out.w, out.tmp = f, f, f.Name()
	return out, nil
}

// ensureNewline writes '\n' at the end of f (opened O_APPEND) when it is
// non-empty and its last byte is not one.
func ensureNewline(f *os.File) error {
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() == 0 {
		return err
	}
	var last [1]byte
	if _, err := f.ReadAt(last[:], fi.Size()-1); err != nil {
		return fmt.Errorf("read last byte: %w", err)
	}
	if last[0] == '\n' {
		return nil
	}
	_, err = f.Write([]byte{'\n'})
	return err
}

// Write writes p to the output. Errors are the file's own (an
// *fs.PathError naming the path given to Create, not the temporary file),
// left for callers to wrap.
func (o *File) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	var pe *fs.PathError
	if err != nil && o.tmp != "" && errors.As(err, &pe) {
		// The path the user gave, not the temporary name being written.
		err = &fs.PathError{Op: pe.Op, Path: o.name, Err: pe.Err}
	}
	return n, err
}

// Name is the path as given.
func (o *File) Name() string { return o.name }

// File is the open file (nil for standard output); for callers that need
// Stat or ReadAt.
func (o *File) File() *os.File { return o.f }

// WritesThrough reports whether the output is written in place (a device,
// a FIFO, standard output, or an appended file) rather than renamed into
// place on Commit.
func (o *File) WritesThrough() bool { return o.tmp == "" }

// Commit completes the output: a temporary file is synced and renamed into
// place (then the directory synced); an appended file is synced; a device
// or FIFO is closed. On error a temporary file is removed. Standard output
// is not closed.
func (o *File) Commit() error {
	if o.done {
		return nil
	}
	o.done = true
	if o.f == nil {
		return nil
	}
	var err error
	if !o.device {
		if serr := o.f.Sync(); serr != nil {
			err = fmt.Errorf("sync %s: %w", o.name, cause(serr))
		}
	}
	if cerr := o.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", o.name, cause(cerr))
	}
	if o.tmp == "" {
		return err
	}
	if err == nil {
		err = o.temps.rename(o.tmp, o.target)
		if err != nil {
			err = fmt.Errorf("rename into %s: %w", o.name, cause(err))
		}
	}
	if err != nil {
		o.temps.remove(o.tmp)
		return err
	}
	// Make the rename durable; not every file system can sync a
	// directory, and the file is complete either way.
	if d, derr := os.Open(filepath.Dir(o.target)); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort discards the output: a temporary file is removed and the path left
// as it was. Bytes already written through (device, FIFO, appended file,
// standard output) cannot be taken back. Abort after Commit does nothing.
func (o *File) Abort() {
	if o.done {
		return
	}
	o.done = true
	if o.f != nil {
		o.f.Close()
	}
	if o.tmp != "" {
		o.temps.remove(o.tmp)
	}
}

// Temps is the set of temporary files a command's run has open. A nil
// *Temps is valid and records nothing. Safe for concurrent use.
type Temps struct {
	mu     sync.Mutex
	paths  map[string]bool
	closed bool
}

// NewTemps returns an empty set.
func NewTemps() *Temps { return &Temps{paths: map[string]bool{}} }

func (t *Temps) createTemp(dir, pattern string) (*os.File, error) {
	if t == nil {
		return os.CreateTemp(dir, pattern)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, errors.New("interrupted")
	}
	f, err := os.CreateTemp(dir, pattern)
	if err == nil {
		t.paths[f.Name()] = true
	}
	return f, err
}

func (t *Temps) rename(tmp, target string) error {
	if t == nil {
		return os.Rename(tmp, target)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errors.New("interrupted")
	}
	err := os.Rename(tmp, target)
	if err == nil {
		delete(t.paths, tmp)
	}
	return err
}

func (t *Temps) remove(tmp string) {
	if t != nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(t.paths, tmp)
	}
	os.Remove(tmp)
}

// RemoveAll removes every temporary file still open and makes later
// creates and renames fail: for a signal handler about to exit.
func (t *Temps) RemoveAll() {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for p := range t.paths {
		os.Remove(p)
	}
	t.paths = map[string]bool{}
}

// Len is the number of temporary files open.
func (t *Temps) Len() int {
	if t == nil {
		return 0
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.paths)
}

package export

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/minerwatch/minerwatch/features/flowfeat"
)

// StreamConfig configures a rotating Arrow IPC stream output.
type StreamConfig struct {
	// Path is the base name: files are written as
	// <dir>/<stem>-<UTC start time>-<seq><ext> (ext defaults to .arrows).
	Path string
	Meta Meta
	// MaxBytes rotates to a new file once this many bytes are written
	// (0 = no size limit).
	MaxBytes int64
	// MaxAge rotates to a new file once the current one is this old
	// (0 = no age limit).
	MaxAge time.Duration
	// FlushEvery bounds how long a row waits in memory before its batch
	// is written (0 = 1s): online rows trickle in, batches must not wait
	// for 4096 of them.
	FlushEvery time.Duration
}

// StreamWriter writes feature rows to Arrow IPC stream files (the format
// pyarrow.ipc.open_stream / polars.read_ipc_stream read), rotating by size
// and age. A file is written under a ".part" name and renamed when it is
// complete (rotation or Close), so every file without the suffix is a
// whole stream with its end marker. It is safe for concurrent use.
type StreamWriter struct {
	cfg    StreamConfig
	schema *arrow.Schema
	mem    memory.Allocator

	mu        sync.Mutex
	cur       *streamFile
	seq       int
	lastFlush time.Time
	rows      int64
	done      []string
	closed    bool
}

type streamFile struct {
	final, part string
	f           *os.File
	cw          *countingWriter
	w           *ipc.Writer
	rb          *array.RecordBuilder
	opened      time.Time
	pending     int
}

type countingWriter struct {
	f *os.File
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.f.Write(p)
	c.n += int64(n)
	return n, err
}

// NewStream returns a rotating stream writer; the first file is created
// with the first row.
func NewStream(cfg StreamConfig) (*StreamWriter, error) {
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = time.Second
	}
	schema, err := Schema(cfg.Meta)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Dir(cfg.Path)); err != nil {
		return nil, fmt.Errorf("rows output %s: %w", cfg.Path, err)
	}
	return &StreamWriter{cfg: cfg, schema: schema, mem: memory.NewGoAllocator()}, nil
}

func (s *StreamWriter) open(now time.Time) error {
	s.seq++
	ext := filepath.Ext(s.cfg.Path)
	stem := strings.TrimSuffix(s.cfg.Path, ext)
	if ext == "" {
		ext = ".arrows"
	}
	final := fmt.Sprintf("%s-%s-%04d%s", stem, now.UTC().Format("20060102T150405Z"), s.seq, ext)
	part := final + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640) // rows name hosts and captures: not world-readable
	if err != nil {
		return fmt.Errorf("rows output: %w", err)
	}
	cw := &countingWriter{f: f}
	s.cur = &streamFile{final: final, part: part, f: f, cw: cw,
		w:  ipc.NewWriter(cw, ipc.WithSchema(s.schema), ipc.WithAllocator(s.mem)),
		rb: array.NewRecordBuilder(s.mem, s.schema), opened: now}
	s.lastFlush = now
	return nil
}

// Write appends one row.
func (s *StreamWriter) Write(r *flowfeat.Row, lab Labels) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fmt.Errorf("rows output: write after close")
	}
	now := time.Now()
	if s.cur == nil {
		if err := s.open(now); err != nil {
			return err
		}
	}
	row := FromFlowRow(r, lab)
	appendExportRow(s.cur.rb, s.cfg.Meta.Sets, &row)
	s.cur.pending++
	s.rows++
	return s.maintain(now)
}

// Maintain writes a pending batch that has waited FlushEvery and rotates
// the file when due; call it periodically so a quiet period still gets its
// rows to disk and its file completed.
func (s *StreamWriter) Maintain() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.maintain(time.Now())
}

func (s *StreamWriter) maintain(now time.Time) error {
	c := s.cur
	if c == nil {
		return nil
	}
	if c.pending >= batchRows || (c.pending > 0 && now.Sub(s.lastFlush) >= s.cfg.FlushEvery) {
		if err := s.flush(); err != nil {
			return err
		}
		s.lastFlush = now
	}
	if (s.cfg.MaxBytes > 0 && c.cw.n >= s.cfg.MaxBytes) || (s.cfg.MaxAge > 0 && now.Sub(c.opened) >= s.cfg.MaxAge) {
		return s.finish()
	}
	return nil
}

func (s *StreamWriter) flush() error {
	c := s.cur
	if c.pending == 0 {
		return nil
	}
	rec := c.rb.NewRecordBatch()
	defer rec.Release()
	c.pending = 0
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("write %s: %w", c.part, err)
	}
	return nil
}

// finish completes the current file: last batch, end-of-stream marker,
// sync, rename.
func (s *StreamWriter) finish() error {
	err := s.flush()
	c := s.cur
	s.cur = nil
	if cerr := c.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("finish %s: %w", c.part, cerr)
	}
	c.rb.Release()
	if serr := c.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("sync %s: %w", c.part, serr)
	}
	if cerr := c.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", c.part, cerr)
	}
	// Renamed even after an error: the batches before it are readable.
	if rerr := os.Rename(c.part, c.final); err == nil && rerr != nil {
		err = fmt.Errorf("rename into %s: %w", c.final, rerr)
	}
	s.done = append(s.done, c.final)
	return err
}

// Files returns the completed files so far, oldest first.
func (s *StreamWriter) Files() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.done...)
}

// Rows returns the number of rows written.
func (s *StreamWriter) Rows() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rows
}

// Close completes the current file.
func (s *StreamWriter) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.cur == nil {
		return nil
	}
	return s.finish()
}

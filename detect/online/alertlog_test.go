package online

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// On a full disk every alert write fails; a live probe keeps running, so
// the first failure is reported at once (not at shutdown), once.
func TestAlertLogReportsTheFirstFailedWriteAtOnce(t *testing.T) {
	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skip("no /dev/full")
	}
	l, err := OpenAlertLog("/dev/full", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var told []error
	l.OnFailure(func(err error) { told = append(told, err) })
	for i := 0; i < 3; i++ {
		if err := l.Write(&alert.Alert{EventType: alert.EventAlert}); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("write %d: %v, want ENOSPC", i, err)
		}
	}
	if len(told) != 1 {
		t.Errorf("told of %d failures, want 1 (the first)", len(told))
	}
	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/full is no longer a device")
	}
}

// Reopen (SIGHUP) ends a torn last line too: a log written during a full
// disk and reopened once there is space again stays one object per line.
func TestAlertLogReopenEndsATornLine(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alerts.jsonl")
	l, err := OpenAlertLog(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.Write(&alert.Alert{EventType: alert.EventAlert})
	// What a full disk leaves: part of a line.
	f, _ := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	f.WriteString(`{"event_type":"al`)
	f.Close()
	if err := l.Reopen(); err != nil {
		t.Fatal(err)
	}
	l.Write(&alert.Alert{EventType: alert.EventAlert})
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 || lines[1] != `{"event_type":"al` || !strings.HasPrefix(lines[2], "{") {
		t.Errorf("log after reopen: %q", lines)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm()&0o007 != 0 {
		t.Errorf("alert log mode %v: readable by others", fi.Mode().Perm())
	}
}

// With FlushAfter the alerts wait in memory (no write per alert) and reach
// the file within the interval with no further call, and at Close.
func TestAlertLogFlushAfterWritesHeldAlertsWithinTheInterval(t *testing.T) {
	p := filepath.Join(t.TempDir(), "alerts.jsonl")
	l, err := OpenAlertLog(p, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.FlushAfter(500 * time.Millisecond) // long enough that the check below is not raced on a loaded machine
	lines := func() int {
		b, _ := os.ReadFile(p)
		return strings.Count(string(b), "\n")
	}
	for i := 0; i < 3; i++ {
		if err := l.Write(&alert.Alert{EventType: alert.EventAlert}); err != nil {
			t.Fatal(err)
		}
	}
	if n := lines(); n != 0 {
		t.Errorf("%d lines in the file right after the writes, want 0 (held)", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for lines() < 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := lines(); n != 3 {
		t.Fatalf("%d lines after the interval, want 3", n)
	}
	// A later alert is held again, and Close writes it.
	l.Write(&alert.Alert{EventType: alert.EventAlert})
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := lines(); n != 4 {
		t.Errorf("%d lines after Close, want 4", n)
	}
}

// Close writes out held alerts on a stream (stdout) too, where there is no
// file to commit.
func TestAlertLogCloseFlushesAHeldStream(t *testing.T) {
	var buf syncBuf
	l, err := OpenAlertLog("", &buf)
	if err != nil {
		t.Fatal(err)
	}
	l.FlushAfter(time.Hour)
	l.Write(&alert.Alert{EventType: alert.EventAlert})
	if buf.String() != "" {
		t.Errorf("stream got %q before Close, want nothing yet", buf.String())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "{") || !strings.HasSuffix(buf.String(), "}\n") {
		t.Errorf("stream after Close: %q", buf.String())
	}
}

// A held log on a full disk: the timer's write fails, OnFailure is told at
// once (without another alert), and later writes and Close return the
// error, so detect stops and exits non-zero.
func TestAlertLogHeldFailureIsToldByTheTimer(t *testing.T) {
	if fi, err := os.Stat("/dev/full"); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Skip("no /dev/full")
	}
	l, err := OpenAlertLog("/dev/full", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	told := make(chan error, 4)
	l.OnFailure(func(err error) { told <- err })
	l.FlushAfter(20 * time.Millisecond)
	if err := l.Write(&alert.Alert{EventType: alert.EventAlert}); err != nil {
		t.Fatalf("held write: %v, want nil (the buffer takes it)", err)
	}
	select {
	case err := <-told:
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("told %v, want ENOSPC", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the failed flush was not told")
	}
	if err := l.Write(&alert.Alert{EventType: alert.EventAlert}); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("write after the failure: %v, want ENOSPC", err)
	}
	if err := l.Close(); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("Close: %v, want ENOSPC", err)
	}
	if len(told) != 0 {
		t.Errorf("told %d more failures, want only the first", len(told))
	}
}

// syncBuf is a bytes.Buffer safe for the timer's goroutine.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

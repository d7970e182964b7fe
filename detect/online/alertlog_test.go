package online

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

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

package online

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/minerwatch/minerwatch/detect/alert"
)

// AlertLog is the merged alert output of all workers: JSON lines appended
// to a file (or written to a stream), flushed after every alert. Reopen
// closes and reopens the file so a log rotator can move it away (SIGHUP,
// as logrotate's postrotate expects).
type AlertLog struct {
	path string
	mu   sync.Mutex // guards f, and the swap in Reopen
	f    *os.File
	w    *alert.Writer
	n    int
}

// OpenAlertLog opens path for appending; an empty path writes to w.
func OpenAlertLog(path string, w io.Writer) (*AlertLog, error) {
	l := &AlertLog{path: path}
	if path == "" {
		l.w = alert.NewWriter(w)
		return l, nil
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *AlertLog) open() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open alert log: %w", err)
	}
	l.f, l.w = f, alert.NewWriter(f)
	return nil
}

// Write writes one alert; safe for concurrent use.
func (l *AlertLog) Write(a *alert.Alert) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Write(a); err != nil {
		return err
	}
	l.n++
	return nil
}

// Count is the number of alerts written.
func (l *AlertLog) Count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n
}

// Reopen reopens the file at its path (a no-op on a stream). Alerts
// written meanwhile wait; none is lost or split across files.
func (l *AlertLog) Reopen() error {
	if l.path == "" {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	old := l.f
	if err := l.open(); err != nil {
		return err // keep writing to the old file
	}
	return old.Close()
}

// Close closes the file.
func (l *AlertLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

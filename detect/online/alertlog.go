package online

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/internal/outfile"
)

// AlertLog is the merged alert output of all workers: JSON lines appended
// to a file (or written to a stream), flushed after every alert. Reopen
// closes and reopens the file so a log rotator can move it away (SIGHUP,
// as logrotate's postrotate expects).
//
// The file is opened through internal/outfile in append mode: created
// 0640 (alerts name hosts, wallets and logins), never truncated, a torn
// last line (a crash or a full disk in an earlier run) ended with '\n'
// before the first new alert, a device or FIFO written through, and a path
// that is one of the inputs refused.
type AlertLog struct {
	path   string
	inputs []string
	stdout io.Writer
	mu     sync.Mutex // guards f, and the swap in Reopen
	f      *outfile.File
	w      *alert.Writer
	n      int
	failed bool            // a write failed since the last (re)open
	types  alert.Types     // the event types written (nil: all)
	onFail func(err error) // told of the first failure after each (re)open
	// every > 0 (FlushAfter): alerts are buffered and written at most
	// every after the first unwritten one; timer is then pending.
	every time.Duration
	timer *time.Timer
}

// FlushAfter makes the log buffer alerts and write them out at most d
// after the first one not yet written (and whenever 64 KiB are waiting,
// and at Flush, Reopen and Close), instead of one write per alert. An
// offline run that raises many events (detect -r) spends a few percent of
// its CPU time on those writes; d of a tenth of a second keeps an alert
// prompt for a tail -f. A process killed outright (SIGKILL, a crash) can
// lose the alerts of the last d; one stopped by a signal flushes first.
func (l *AlertLog) FlushAfter(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.every = d
	if d > 0 {
		l.w.Hold()
	}
}

// Flush writes out the alerts FlushAfter holds (a no-op without it); the
// first failure is told to OnFailure's function, as a failed Write's is.
func (l *AlertLog) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.flushLocked()
}

func (l *AlertLog) flushLocked() error {
	if l.timer != nil {
		l.timer.Stop()
		l.timer = nil
	}
	if l.every <= 0 {
		return nil
	}
	err := l.w.Flush()
	if err != nil {
		l.fail(err)
	}
	return err
}

// fail records a failed write, telling onFail of the first one since the
// last (re)open.
func (l *AlertLog) fail(err error) {
	if !l.failed && l.onFail != nil {
		l.onFail(err)
	}
	l.failed = true
}

// OnFailure sets a function told at once of the first failed write after
// each open (a full disk): a live probe keeps running, so the operator
// must hear of lost alerts when they start, not at shutdown. It is called
// with the log's lock held and must not write alerts.
func (l *AlertLog) OnFailure(fn func(err error)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onFail = fn
}

// OpenAlertLog opens path for appending; an empty path (or "-") writes
// to w. An
// alert log that is the same file as one of inputs is refused.
func OpenAlertLog(path string, w io.Writer, inputs ...string) (*AlertLog, error) {
	l := &AlertLog{path: path, inputs: inputs, stdout: w}
	if path == "" {
		l.w = alert.NewWriter(w, nil)
		return l, nil
	}
	if err := l.open(); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *AlertLog) open() error {
	f, err := outfile.Create(l.path, outfile.Options{Mode: outfile.Append, Perm: 0o640, EnsureNewline: true, Inputs: l.inputs, Stdout: l.stdout})
	if err != nil {
		return fmt.Errorf("open alert log: %w", err)
	}
	l.f, l.w, l.failed = f, alert.NewWriter(f, nil), false
	if l.every > 0 {
		l.w.Hold()
	}
	return nil
}

// Only restricts the log to the given event types (--eve-types); nil
// writes all. Events of other types are dropped without error.
func (l *AlertLog) Only(types alert.Types) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.types = types
}

// Write writes one alert; safe for concurrent use.
func (l *AlertLog) Write(a *alert.Alert) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.types.Has(a.EventType) {
		return nil
	}
	if err := l.w.Write(a); err != nil {
		l.fail(err)
		return err
	}
	l.n++
	if l.every > 0 && l.timer == nil {
		l.timer = time.AfterFunc(l.every, func() { l.Flush() })
	}
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
	// The held alerts go to the file they were written for; a failure
	// is told as a Write's, and the new file starts clean.
	l.flushLocked()
	if err := l.open(); err != nil {
		return err // keep writing to the old file
	}
	return old.Commit()
}

// Close writes out the alerts held (FlushAfter) and closes the file.
func (l *AlertLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	ferr := l.flushLocked()
	if l.f == nil {
		return ferr
	}
	err := l.f.Commit()
	l.f = nil
	if ferr != nil {
		return ferr
	}
	return err
}

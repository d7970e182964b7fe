package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/train"
)

// progressEvery is how many records pass between progress calls: often
// enough for a slow run to update a few times a second, rarely enough
// that a fast one does not feel the clock reads.
const progressEvery = 4096

// progressInterval is the shortest time between two progress lines.
const progressInterval = 250 * time.Millisecond

// progress prints a one-line progress report to stderr when it is a
// terminal, and nothing when it is not (a pipe, a file, a log collector).
type progress struct {
	w     io.Writer
	on    bool
	r     *capture.Reader
	start time.Time
	last  time.Time
	// series is when the current series of train steps (the
	// cross-validation folds) began, for their ETA.
	series time.Time
}

// newProgress makes the progress line of a run reading r; r is nil for
// train and eval, which report through loading and step.
func newProgress(w io.Writer, r *capture.Reader) *progress {
	return &progress{w: w, on: isTerminal(w), r: r, start: time.Now()}
}

// update redraws the line, at most every progressInterval; flows < 0 is
// unknown. It must run on the goroutine that reads r.
func (p *progress) update(records, flows int64) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < progressInterval {
		return
	}
	p.last = now
	p.draw(progressLine(p.r.Progress(), records, flows, now.Sub(p.start)))
}

func (p *progress) draw(line string) {
	fmt.Fprint(p.w, "\r"+line+"\033[K")
}

// loading redraws the line of train's and eval's reading phase, at most
// every progressInterval.
func (p *progress) loading(lp train.LoadProgress) {
	if !p.on {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < progressInterval && lp.Captures < lp.Total {
		return
	}
	p.last = now
	p.draw(loadLine(lp, now.Sub(p.start)))
}

// step shows a new step of train or eval (a cross-validation fold, the
// final fit) at once, with the time since the run started and, from the
// second of a series of steps (the folds), an ETA for the series.
func (p *progress) step(st train.Step) {
	if !p.on {
		return
	}
	now := time.Now()
	p.last = now
	if st.Total > 0 && st.Done == 0 {
		p.series = now
	}
	p.draw(stepLine(st, now.Sub(p.start), now.Sub(p.series)))
}

// stepLine is "cross-validation fold 3/5 (mw51x): training trees, 0:42
// elapsed, ETA 0:56": the ETA assumes the steps left take as long as the
// ones done (inSeries is the time since the series began).
func stepLine(st train.Step, elapsed, inSeries time.Duration) string {
	line := st.What + ", " + clock(elapsed) + " elapsed"
	if st.Total > 0 && st.Done > 0 {
		line += ", ETA " + clock(inSeries*time.Duration(st.Total-st.Done)/time.Duration(st.Done))
	}
	return line
}

// loadLine says how far train or eval has read its captures: "reading
// captures 12/285, 3.2 of 37.0 MiB (8%), ETA 0:12"; the bytes, percentage
// and ETA when the sizes are known, the ETA after the first second.
func loadLine(lp train.LoadProgress, elapsed time.Duration) string {
	line := fmt.Sprintf("reading captures %d/%d", lp.Captures, lp.Total)
	if lp.Size <= 0 {
		return line
	}
	read := min(lp.Bytes, lp.Size)
	line += fmt.Sprintf(", %.1f of %s (%d%%)", float64(read)/(1<<20), mib(lp.Size), read*100/lp.Size)
	if elapsed >= time.Second && read > 0 {
		line += ", ETA " + clock(time.Duration(float64(elapsed)*float64(lp.Size-read)/float64(read)))
	}
	return line
}

// done clears the line, so the summary that follows starts clean.
func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// progressLine says how far a run is: "file 2/4, 12.3 of 40.0 MiB (31%),
// ETA 0:27, 120345 packets, 2345 flows". The file is left out when there
// is one; the total, the percentage and the ETA when the size is unknown
// (a pipe); the ETA in the first second (too early to be worth reading).
func progressLine(pr capture.Progress, records, flows int64, elapsed time.Duration) string {
	var parts []string
	if pr.Files > 1 && pr.File >= 0 {
		parts = append(parts, "file "+strconv.Itoa(pr.File+1)+"/"+strconv.Itoa(pr.Files))
	}
	if pr.Size > 0 {
		read := min(pr.Read, pr.Size) // read-ahead of a buffer may not pass the end
		parts = append(parts, fmt.Sprintf("%.1f of %s (%d%%)", float64(read)/(1<<20), mib(pr.Size), read*100/pr.Size))
		if elapsed >= time.Second && read > 0 {
			left := time.Duration(float64(elapsed) * float64(pr.Size-read) / float64(read))
			parts = append(parts, "ETA "+clock(left))
		}
	} else {
		parts = append(parts, mib(pr.Read)+" read")
	}
	parts = append(parts, strconv.FormatInt(records, 10)+" packets")
	if flows >= 0 {
		parts = append(parts, strconv.FormatInt(flows, 10)+" flows")
	}
	return strings.Join(parts, ", ")
}

func mib(n int64) string { return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB" }

// clock formats d as m:ss or h:mm:ss, rounded to the second.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

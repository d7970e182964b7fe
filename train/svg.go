package train

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// Colours of the report picture (matplotlib's default cycle, which readers
// of the notebooks already know).
const (
	colRecall = "#1f77b4"
	colFPR    = "#d62728"
	colImp    = "#2ca02c"
	colNoData = "#bbbbbb"
)

// WriteSVG draws the report as one picture: the precision-recall curve
// with the operating point, the confusion matrix with row percentages and
// its colour scale, recall and FPR by checkpoint (FPR on its own right-hand
// axis, so a fraction of a percent is visible; checkpoints without mining
// rows say "no data" rather than showing recall 0), and the top feature
// importances. Plain SVG: gonum.org/v1/plot was measured as the
// alternative (README, "Training and evaluation") and cost 8 MB of binary
// and eight modules for no better picture.
func (r *Report) WriteSVG(w io.Writer) error {
	var b strings.Builder
	const W, H = 1200, 860
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`, W, H)
	fmt.Fprintf(&b, `<text x="20" y="28" font-size="18">%s — %s (flows: recall %s, FPR %s, %.2f false alarms per benign flow-hour)</text>`,
		esc(r.Experiment), esc(r.FeatureSet), pct(r.Flows.Recall), pct(r.Flows.FPR), r.Flows.FalseAlarmsPerHour)
	r.svgPR(&b, 70, 80, 460, 300)
	r.svgConfusion(&b, 640, 80)
	r.svgCheckpoints(&b, 70, 480, 460, 280)
	r.svgImportances(&b, 640, 480)
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

func esc(s string) string { return html.EscapeString(s) }

// svgPR draws the precision-recall curve, and the operating point: the
// pooled rows' recall and precision at the thresholds the folds chose for
// the target false-positive rate.
func (r *Report) svgPR(b *strings.Builder, x, y, w, h float64) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f">precision–recall (checkpoint rows), AP %.3f, ROC AUC %.3f</text>`, x, y-10, r.AvgPrecision, r.ROCAUC)
	frame(b, x, y, w, h)
	ticks(b, x, y, w, h, 0, 1, 4, "y", fracLabel)
	ticks(b, x, y, w, h, 0, 1, 4, "x", fracLabel)
	axisLabels(b, x, y, w, h, 42, "recall", "precision")
	var pts []string
	for _, p := range r.PR {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x+p.Recall*w, y+h-p.Precision*h))
	}
	if len(pts) > 0 {
		fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, colRecall, strings.Join(pts, " "))
	}
	op := r.Rows
	haveOP := op.Recall >= 0 && op.Precision >= 0
	if haveOP {
		ox, oy := x+op.Recall*w, y+h-op.Precision*h
		fmt.Fprintf(b, `<circle class="operating-point" cx="%.1f" cy="%.1f" r="6" fill="%s" stroke="white" stroke-width="1.5"/>`, ox, oy, colFPR)
		anchor, dx := "start", 10.0
		if op.Recall > 0.6 {
			anchor, dx = "end", -10
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="%s" font-size="11">recall %s, precision %s</text>`, ox+dx, oy+16, anchor, pct(op.Recall), pct(op.Precision))
	}
	// Legend, bottom left, where a PR curve rarely goes.
	lx, ly := x+10, y+h-48
	fmt.Fprintf(b, `<g class="legend"><rect x="%.0f" y="%.0f" width="300" height="40" fill="white" fill-opacity="0.85" stroke="#ccc"/>`, lx, ly)
	fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="2"/><text x="%.0f" y="%.0f" font-size="11">PR curve over all thresholds</text>`,
		lx+8, lx+28, ly+13, ly+13, colRecall, lx+34, ly+17)
	if haveOP {
		fmt.Fprintf(b, `<circle cx="%.0f" cy="%.0f" r="5" fill="%s"/><text x="%.0f" y="%.0f" font-size="11">operating point (fold thresholds, target FPR %s)</text>`,
			lx+18, ly+29, colFPR, lx+34, ly+33, pct(r.TargetFPR))
	}
	b.WriteString(`</g>`)
}

// svgConfusion draws the 2×2 confusion matrix of the checkpoint rows at
// the threshold: each cell its count and its share of the true class (the
// row percentage); the shade is that share, and a colour bar gives the
// scale.
func (r *Report) svgConfusion(b *strings.Builder, x, y float64) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f">confusion matrix (checkpoint rows at the threshold; %% of each true class)</text>`, x, y-10)
	c := r.Rows.Confusion
	cells := [2][2]int{{c.TN, c.FP}, {c.FN, c.TP}}
	labels := []string{"benign", "mining"}
	const cell = 120.0
	cx, cy := x+90, y+10
	for i := 0; i < 2; i++ {
		total := cells[i][0] + cells[i][1]
		for j := 0; j < 2; j++ {
			share := math.NaN()
			if total > 0 {
				share = float64(cells[i][j]) / float64(total)
			}
			px, py := cx+float64(j)*(cell+2), cy+float64(i)*(cell+2)
			fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="%s"/>`, px, py, cell, cell, shade(share))
			ink := "black"
			if share > 0.6 {
				ink = "white"
			}
			fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" font-size="18" fill="%s">%d</text>`, px+cell/2, py+cell/2-2, ink, cells[i][j])
			sh := "–"
			if !math.IsNaN(share) {
				sh = pct(share)
			}
			fmt.Fprintf(b, `<text class="row-share" x="%.0f" y="%.0f" text-anchor="middle" font-size="12" fill="%s">%s</text>`, px+cell/2, py+cell/2+18, ink, sh)
		}
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end">true %s</text>`, cx-6, cy+cell/2+4+float64(i)*(cell+2), labels[i])
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end" font-size="10" fill="#555">%d rows</text>`, cx-6, cy+cell/2+18+float64(i)*(cell+2), total)
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">predicted %s</text>`, cx+cell/2+float64(i)*(cell+2), cy+2*cell+20, labels[i])
	}
	// Colour bar: share of the true class, 0 to 100 %.
	bx, by, bw, bh := cx+2*cell+40, cy, 16.0, 2*cell+2
	const steps = 20
	for k := 0; k < steps; k++ {
		v := (float64(k) + 0.5) / steps
		fmt.Fprintf(b, `<rect x="%.0f" y="%.1f" width="%.0f" height="%.1f" fill="%s"/>`, bx, by+bh-float64(k+1)*bh/steps, bw, bh/steps+0.5, shade(v))
	}
	fmt.Fprintf(b, `<rect class="colour-scale" x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`, bx, by, bw, bh)
	for _, v := range []float64{0, 0.25, 0.5, 0.75, 1} {
		ty := by + bh - v*bh
		fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#888"/><text x="%.0f" y="%.1f" font-size="10">%.0f%%</text>`, bx+bw, bx+bw+4, ty, ty, bx+bw+6, ty+4, v*100)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" font-size="10" text-anchor="middle" transform="rotate(-90 %.0f %.0f)">share of the true class</text>`,
		bx-6, by+bh/2, bx-6, by+bh/2)
}

// shade maps a share in [0, 1] to white → dark blue; NaN (an empty true
// class) is grey.
func shade(v float64) string {
	if math.IsNaN(v) {
		return colNoData
	}
	v = math.Max(0, math.Min(1, v))
	// From white (255,255,255) to #08306b (8,48,107), like matplotlib's Blues.
	c := func(lo, hi float64) int { return int(math.Round(hi + (lo-hi)*v)) }
	return fmt.Sprintf("rgb(%d,%d,%d)", c(8, 255), c(48, 255), c(107, 255))
}

// svgCheckpoints draws recall (bars, left axis, 0–100 %) and FPR (line,
// right axis, 0 to a round number above its maximum) per checkpoint.
func (r *Report) svgCheckpoints(b *strings.Builder, x, y, w, h float64) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f">recall and false-positive rate per checkpoint (rows)</text>`, x, y-32)
	frame(b, x, y, w, h)
	ticks(b, x, y, w, h, 0, 1, 4, "y", pctLabel)
	maxFPR := 0.0
	for _, s := range r.ByCheckpoint {
		maxFPR = math.Max(maxFPR, s.FPR)
	}
	top, nt := niceCeil(maxFPR)
	ticks(b, x, y, w, h, 0, top, nt, "y2", pctLabel)
	axisLabels(b, x, y, w, h, 58, "checkpoint (time since flow start)", "recall")
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" fill="%s" transform="rotate(90 %.0f %.0f)">false-positive rate</text>`,
		x+w+52, y+h/2, colFPR, x+w+52, y+h/2)
	n := len(r.ByCheckpoint)
	step := w / float64(max(n, 1))
	bar := math.Min(24, step*0.6)
	var line []string
	flushLine := func() {
		if len(line) > 1 {
			fmt.Fprintf(b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`, colFPR, strings.Join(line, " "))
		}
		line = line[:0]
	}
	for i, s := range r.ByCheckpoint {
		cx := x + (float64(i)+0.5)*step
		if s.Recall >= 0 {
			fmt.Fprintf(b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, cx-bar/2, y+h-s.Recall*h, bar, s.Recall*h, colRecall)
		} else {
			// No mining row at this checkpoint: recall is undefined, not 0.
			fmt.Fprintf(b, `<rect class="no-data" x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="%s" stroke-dasharray="3,3"/>`, cx-bar/2, y+h*0.35, bar, h*0.65, colNoData)
			fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10" fill="#777" text-anchor="middle" transform="rotate(-90 %.1f %.1f)">no data</text>`, cx+3, y+h*0.68, cx+3, y+h*0.68)
		}
		if s.FPR >= 0 && top > 0 {
			py := y + h - s.FPR/top*h
			line = append(line, fmt.Sprintf("%.1f,%.1f", cx, py))
			fmt.Fprintf(b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>`, cx, py, colFPR)
			if s.FPR > 0 {
				// A white halo keeps the value readable over a recall bar.
				ty := py - 8
				if s.FPR/top > 0.9 { // below the point, clear of the legend row
					ty = py + 16
				}
				fmt.Fprintf(b, `<text x="%.1f" y="%.1f" font-size="10" fill="%s" stroke="white" stroke-width="3" paint-order="stroke" text-anchor="middle">%s</text>`, cx, ty, colFPR, pct(s.FPR))
			}
		} else {
			flushLine() // no benign rows: a gap, not a zero
		}
		fmt.Fprintf(b, `<text x="%.1f" y="%.1f" text-anchor="end" font-size="10" transform="rotate(-40 %.1f %.1f)">%s</text>`, cx+4, y+h+14, cx+4, y+h+14, esc(s.Name))
	}
	flushLine()
	// Legend: one row between the title and the frame, where no bar reaches.
	lx, ly := x, y-12
	fmt.Fprintf(b, `<g class="legend" font-size="11">`)
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="14" height="10" fill="%s"/><text x="%.0f" y="%.0f">recall (left axis)</text>`, lx, ly-9, colRecall, lx+19, ly)
	lx += 135
	fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.0f" y2="%.0f" stroke="%s" stroke-width="2"/><circle cx="%.0f" cy="%.0f" r="3.5" fill="%s"/><text x="%.0f" y="%.0f">FPR (right axis)</text>`,
		lx, lx+18, ly-4, ly-4, colFPR, lx+9, ly-4, colFPR, lx+23, ly)
	lx += 130
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="14" height="10" fill="none" stroke="%s" stroke-dasharray="3,3"/><text x="%.0f" y="%.0f">no mining rows: no recall</text>`, lx, ly-9, colNoData, lx+19, ly)
	b.WriteString(`</g>`)
}

// niceCeil returns a round axis maximum (1, 2, 2.5 or 5 × 10^k) at or
// above v — 0.01 (1 %) when v is 0, so an all-zero FPR still has an axis —
// and how many tick intervals label it in round steps.
func niceCeil(v float64) (top float64, n int) {
	if v <= 0 {
		return 0.01, 4
	}
	e := math.Pow(10, math.Floor(math.Log10(v)))
	for _, c := range []struct {
		m float64
		n int
	}{{1, 4}, {2, 4}, {2.5, 5}, {5, 5}, {10, 4}} {
		if c.m*e >= v*(1-1e-9) {
			return c.m * e, c.n
		}
	}
	return 10 * e, 4
}

func (r *Report) svgImportances(b *strings.Builder, x, y float64) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f">top features (mean impurity importance)</text>`, x, y-10)
	top := r.Importances
	if len(top) > 15 {
		top = top[:15]
	}
	maxI := 0.0
	for _, f := range top {
		maxI = math.Max(maxI, f.Value)
	}
	for i, f := range top {
		fy := y + float64(i)*20
		wdt := 0.0
		if maxI > 0 {
			wdt = 300 * f.Value / maxI
		}
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end">%s</text>`, x+170, fy+13, esc(f.Name))
		fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.1f" height="15" fill="%s"/>`, x+175, fy+2, wdt, colImp)
		fmt.Fprintf(b, `<text x="%.1f" y="%.0f" font-size="10">%.3f</text>`, x+180+wdt, fy+13, f.Value)
	}
}

func frame(b *strings.Builder, x, y, w, h float64) {
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`, x, y, w, h)
}

func fracLabel(v float64) string { return fmt.Sprintf("%.2f", v) }

func pctLabel(v float64) string {
	switch p := math.Round(v*1e6) / 1e4; { // 0.075*100 is 7.4999…
	case p == math.Trunc(p):
		return fmt.Sprintf("%.0f%%", p)
	case p*10 == math.Trunc(p*10):
		return fmt.Sprintf("%.1f%%", p)
	default:
		return fmt.Sprintf("%.2f%%", p)
	}
}

// ticks draws n+1 labelled ticks from lo to hi along one side of a frame:
// "x" (bottom), "y" (left, with grid lines) or "y2" (right, in the FPR
// colour).
func ticks(b *strings.Builder, x, y, w, h, lo, hi float64, n int, side string, label func(float64) string) {
	for i := 0; i <= n; i++ {
		f := float64(i) / float64(n)
		v := lo + f*(hi-lo)
		switch side {
		case "x":
			tx := x + f*w
			fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#888"/>`, tx, tx, y+h, y+h+4)
			fmt.Fprintf(b, `<text class="xtick" x="%.1f" y="%.0f" text-anchor="middle" font-size="10">%s</text>`, tx, y+h+16, label(v))
			if i > 0 && i < n {
				fmt.Fprintf(b, `<line x1="%.1f" x2="%.1f" y1="%.0f" y2="%.0f" stroke="#eee"/>`, tx, tx, y, y+h)
			}
		case "y":
			ty := y + h - f*h
			fmt.Fprintf(b, `<text x="%.0f" y="%.1f" text-anchor="end" font-size="10">%s</text>`, x-6, ty+4, label(v))
			if i > 0 && i < n {
				fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, x, x+w, ty, ty)
			}
		case "y2":
			ty := y + h - f*h
			fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="%s"/>`, x+w, x+w+4, ty, ty, colFPR)
			fmt.Fprintf(b, `<text class="y2tick" x="%.0f" y="%.1f" font-size="10" fill="%s">%s</text>`, x+w+6, ty+4, colFPR, label(v))
		}
	}
}

// axisLabels names the axes; the x label sits below beneath the frame.
func axisLabels(b *strings.Builder, x, y, w, h, below float64, xl, yl string) {
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, x+w/2, y+h+below, esc(xl))
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" transform="rotate(-90 %.0f %.0f)">%s</text>`, x-46, y+h/2, x-46, y+h/2, esc(yl))
}

package train

import (
	"fmt"
	"html"
	"io"
	"math"
	"strings"
)

// WriteSVG draws the report as one picture: the precision-recall curve,
// the confusion matrix of all checkpoint rows, recall by checkpoint, and
// the top feature importances. Plain SVG, no dependencies.
func (r *Report) WriteSVG(w io.Writer) error {
	var b strings.Builder
	const W, H = 1200, 820
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`, W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`, W, H)
	fmt.Fprintf(&b, `<text x="20" y="28" font-size="18">%s — %s (flows: recall %s, FPR %s, %.2f false alarms per benign flow-hour)</text>`,
		html.EscapeString(r.Experiment), html.EscapeString(r.FeatureSet), pct(r.Flows.Recall), pct(r.Flows.FPR), r.Flows.FalseAlarmsPerHour)

	// Panel 1: PR curve.
	px, py, pw, ph := 60.0, 70.0, 480.0, 300.0
	axes(&b, px, py, pw, ph, "recall", "precision")
	var pts []string
	for _, p := range r.PR {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", px+p.Recall*pw, py+ph-p.Precision*ph))
	}
	if len(pts) > 0 {
		fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="%s"/>`, strings.Join(pts, " "))
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">precision–recall (rows), AP %.3f, ROC AUC %.3f</text>`, px, py-8, r.AvgPrecision, r.ROCAUC)

	// Panel 2: confusion matrix.
	cx, cy := 640.0, 70.0
	c := r.Rows.Confusion
	cells := [2][2]int{{c.TN, c.FP}, {c.FN, c.TP}}
	maxv := math.Max(1, float64(max(c.TN, c.FP, c.FN, c.TP)))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">confusion matrix (rows at the threshold)</text>`, cx, cy-8)
	labels := []string{"benign", "mining"}
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			v := float64(cells[i][j])
			shade := 255 - int(200*math.Sqrt(v/maxv))
			x, y := cx+80+float64(j)*110, cy+20+float64(i)*110
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="108" height="108" fill="rgb(%d,%d,255)"/>`, x, y, shade, shade)
			fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle" font-size="16">%d</text>`, x+54, y+60, cells[i][j])
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">true %s</text>`, cx+75, cy+80+float64(i)*110, labels[i])
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="middle">predicted %s</text>`, cx+134+float64(i)*110, cy+250, labels[i])
	}

	// Panel 3: recall and FPR by checkpoint.
	kx, ky, kw, kh := 60.0, 460.0, 480.0, 300.0
	axes(&b, kx, ky, kw, kh, "checkpoint", "rate")
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">recall (blue) and FPR (red) per checkpoint</text>`, kx, ky-8)
	n := len(r.ByCheckpoint)
	for i, s := range r.ByCheckpoint {
		x := kx + (float64(i)+0.5)*kw/float64(max(n, 1))
		if s.Recall >= 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="%.1f" fill="#1f77b4"/>`, x-13, ky+kh-s.Recall*kh, s.Recall*kh)
		}
		if s.FPR >= 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="12" height="%.1f" fill="#d62728"/>`, x+1, ky+kh-s.FPR*kh, math.Max(1, s.FPR*kh))
		}
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>`, x, ky+kh+14, html.EscapeString(s.Name))
	}

	// Panel 4: importances.
	ix, iy := 640.0, 460.0
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f">top features (mean impurity importance)</text>`, ix, iy-8)
	top := r.Importances
	if len(top) > 15 {
		top = top[:15]
	}
	maxI := 0.0
	for _, f := range top {
		maxI = math.Max(maxI, f.Value)
	}
	for i, f := range top {
		y := iy + float64(i)*20
		wdt := 0.0
		if maxI > 0 {
			wdt = 300 * f.Value / maxI
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" text-anchor="end">%s</text>`, ix+170, y+13, html.EscapeString(f.Name))
		fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.1f" height="15" fill="#2ca02c"/>`, ix+175, y+2, wdt)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" font-size="10">%.3f</text>`, ix+180+wdt, y+13, f.Value)
	}
	b.WriteString(`</svg>`)
	_, err := io.WriteString(w, b.String())
	return err
}

func axes(b *strings.Builder, x, y, w, h float64, xl, yl string) {
	fmt.Fprintf(b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#888"/>`, x, y, w, h)
	for i := 0; i <= 4; i++ {
		v := float64(i) / 4
		fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="end" font-size="10">%.2f</text>`, x-4, y+h-v*h+4, v)
		fmt.Fprintf(b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" stroke="#eee"/>`, x, x+w, y+h-v*h, y+h-v*h)
	}
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, x+w/2, y+h+28, xl)
	fmt.Fprintf(b, `<text x="%.0f" y="%.0f" text-anchor="middle" transform="rotate(-90 %.0f %.0f)">%s</text>`, x-40, y+h/2, x-40, y+h/2, yl)
}

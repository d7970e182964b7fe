package forest

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteRules writes tree t as nested if/else rules a person can read,
// naming features by names (or f0, f1, … when names is nil) and showing
// where NaN goes, e.g.
//
//	if pkt_size_up_mean <= 96.5 (NaN: no) {
//	  return 0.9821  // P(mining)
//	} else {
//	  …
//	}
func (f *Forest) WriteRules(w io.Writer, t int, names []string) error {
	if t < 0 || t >= len(f.roots) {
		return fmt.Errorf("write rules: tree %d of %d", t, len(f.roots))
	}
	if names != nil && len(names) != f.nFeatures {
		return fmt.Errorf("write rules: %d names for %d features", len(names), f.nFeatures)
	}
	bw := bufio.NewWriter(w)
	f.writeNode(bw, f.roots[t], 0, names)
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}

// Rules returns WriteRules's text for tree t as a string.
func (f *Forest) Rules(t int, names []string) (string, error) {
	var sb strings.Builder
	err := f.WriteRules(&sb, t, names)
	return sb.String(), err
}

func (f *Forest) writeNode(w *bufio.Writer, i uint32, depth int, names []string) {
	indent := strings.Repeat("  ", depth)
	n := f.nodes[i]
	if n.isLeaf(i) {
		fmt.Fprintf(w, "%sreturn %.4g  // P(mining)\n", indent, f.values[i])
		return
	}
	name := "f" + strconv.Itoa(int(n.feature))
	if names != nil {
		name = names[n.feature]
	}
	nan := "no"
	if n.flags&nanRight == 0 {
		nan = "yes"
	}
	left := n.left
	fmt.Fprintf(w, "%sif %s <= %s (NaN: %s) {\n", indent, name, strconv.FormatFloat(n.threshold, 'g', -1, 64), nan)
	f.writeNode(w, left, depth+1, names)
	fmt.Fprintf(w, "%s} else {\n", indent)
	f.writeNode(w, left+1, depth+1, names)
	fmt.Fprintf(w, "%s}\n", indent)
}

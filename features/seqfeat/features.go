package seqfeat

import (
	"math"
	"slices"
	"strconv"
)

// Set is the set's name.
const Set = "seq"

// Def describes one column of the set.
type Def struct {
	Name, Unit, Direction, Definition string
}

// summaries are the columns after the positional ones, in order.
var summaries = []Def{
	{"seq_n", "messages", "both", "messages recorded (data packets, or TLS application records on a TLS flow), at most 32"},
	{"seq_tls", "0/1", "both", "1 when the flow's first payload is a TLS record: its messages are application-data record lengths"},
	{"seq_up_len_mode", "bytes", "up", "most common up message length among the first 32 (the smaller on a tie)"},
	{"seq_up_len_mode_share", "ratio", "up", "share of up messages of that length"},
	{"seq_down_len_mode", "bytes", "down", "most common down message length among the first 32"},
	{"seq_down_len_mode_share", "ratio", "down", "share of down messages of that length"},
	{"seq_up_len_range", "bytes", "up", "longest − shortest up message among the first 32 (a constant record overhead cancels)"},
	{"seq_down_len_range", "bytes", "down", "longest − shortest down message among the first 32"},
	{"seq_up_share", "ratio", "both", "share of the first 32 messages that go up"},
	{"seq_pair_share", "ratio", "up", "share of up messages answered by the next message (request/answer pairs)"},
	{"seq_resp_delay_median", "s", "both", "median delay from an up message to the down message that answers it"},
	{"seq_up_gap_median", "s", "up", "median time between consecutive up messages"},
	{"seq_push_share", "ratio", "down", "share of down messages that follow a down message by more than 50 ms (server pushes: new jobs)"},
	{"seq_span", "s", "both", "time from the first to the last recorded message"},
	{"seq_open_answer", "bytes", "down", "longest down message answering the first up message (within 2 s, before the next up one): the first job after a login, past TLS 1.3's session tickets"},
	{"seq_quiet", "s", "both", "time from the last recorded message to the row, while fewer than 32 are recorded (a session quiet after its opening exchange, waiting for a share)"},
	{"seq_answered_share", "ratio", "up", "share of the up messages after the first that the next message answers within 2 s"},
	{"seq_req_len_range", "bytes", "up", "longest − shortest answered up message after the first (share submits are one size; the login is left out)"},
	{"seq_reply_len_range", "bytes", "down", "longest − shortest answer to those (share results are one short size)"},
	{"seq_unasked", "messages", "down", "down messages with no up message in the 2 s before and 50 ms or more after the previous message: pushes the client did not ask for (new jobs)"},
	{"elapsed", "s", "both", "flow age at the row: the checkpoint's offset from the first packet, or the last packet's at flow end"},
}

// Num is the number of columns: N lengths, N−1 gaps, the 21 summaries
// (a test checks the count against the table).
const Num = N + N - 1 + 21

// Defs returns the columns of the set, in order.
func Defs() []Def {
	out := make([]Def, 0, Num)
	for i := 1; i <= N; i++ {
		out = append(out, Def{"seq_len_" + strconv.Itoa(i), "bytes", "both",
			"length of message " + strconv.Itoa(i) + " (data packet, or TLS application record): positive up, negative down"})
	}
	for i := 2; i <= N; i++ {
		out = append(out, Def{"seq_gap_" + strconv.Itoa(i), "s", "both",
			"time from message " + strconv.Itoa(i-1) + " to message " + strconv.Itoa(i) + " (±9%: kept as a log-scaled byte)"})
	}
	return append(out, summaries...)
}

// TableDefs is Defs for a table people read: the N length and N−1 gap
// columns as one row each.
func TableDefs() []Def {
	return append([]Def{
		{"seq_len_1 … seq_len_" + strconv.Itoa(N), "bytes", "both", "length of messages 1 to " + strconv.Itoa(N) + " (data packets, or TLS application records on a TLS flow): positive up, negative down; NaN past the last message"},
		{"seq_gap_2 … seq_gap_" + strconv.Itoa(N), "s", "both", "time from the previous message to messages 2 to " + strconv.Itoa(N) + " (±9%: kept as a log-scaled byte)"},
	}, summaries...)
}

// burstGap separates a server push from the continuation of an answer
// (as flowfeat's down_unsolicited_share does).
const burstGap = 0.050

// answerWithin is how soon a down message must follow an up message to
// answer it: more than a round trip and a pool's work on a share or a
// login on any path we have seen (RTTs to 300 ms), less than the seconds
// between a miner's shares and a pool's job pushes.
const answerWithin = 2.0

// Fill writes the set's Num columns for s (nil: a flow without data) into
// out; elapsed is the flow's age at the row in seconds, now the row's time
// (ns, the clock of Add). Undefined values (a median of nothing, positions
// not reached) are NaN.
func Fill(out []float64, s *Seq, elapsed float64, now int64) {
	_ = out[Num-1]
	nan := math.NaN()
	for i := range out {
		out[i] = nan
	}
	sum := out[N+N-1:]
	sum[len(sum)-1] = elapsed
	if s == nil || s.n == 0 {
		sum[0], sum[1] = 0, 0
		return
	}
	n := int(s.n)
	var (
		upLens, downLens [N]int
		nUp, nDown       int
		t                float64 // time of message i since the first
		lastUp           = nan
		delays, upGaps   [N]float64
		nDelays, nUpGaps int
		pairs, pushes    int
	)
	for i := 0; i < n; i++ {
		length, down, gap := s.Message(i)
		out[i] = float64(s.size[i])
		if i > 0 {
			out[N+i-1] = gap
			t += gap
		}
		if down {
			downLens[nDown] = length
			nDown++
			if i > 0 {
				_, prevDown, _ := s.Message(i - 1)
				if prevDown && gap > burstGap {
					pushes++
				} else if !prevDown {
					pairs++
					delays[nDelays] = gap
					nDelays++
				}
			}
			continue
		}
		upLens[nUp] = length
		nUp++
		if !math.IsNaN(lastUp) {
			upGaps[nUpGaps] = t - lastUp
			nUpGaps++
		}
		lastUp = t
	}
	sum[0] = float64(n)
	if s.TLS() {
		sum[1] = 1
	} else {
		sum[1] = 0
	}
	sum[2], sum[3], sum[6] = modeShareRange(upLens[:nUp])
	sum[4], sum[5], sum[7] = modeShareRange(downLens[:nDown])
	sum[8] = float64(nUp) / float64(n)
	if nUp > 0 {
		sum[9] = float64(pairs) / float64(nUp)
	}
	sum[10] = median(delays[:nDelays])
	sum[11] = median(upGaps[:nUpGaps])
	if nDown > 0 {
		sum[12] = float64(pushes) / float64(nDown)
	}
	sum[13] = t
	early(sum[14:20], s, n)
	if n < N {
		sum[15] = max(0, float64(now-s.last)/1e9)
	}
}

// early fills the opening-exchange and share-shape columns (seq_open_answer
// … seq_unasked, except seq_quiet) from the n recorded messages: what a
// mining session shows in its first seconds — a login answered by a
// sizeable job, then fixed-size submits answered by short fixed-size
// results, and jobs pushed unasked.
func early(out []float64, s *Seq, n int) {
	nan := math.NaN()
	open := nan
	var (
		t, lastUp, prevT  = 0.0, math.Inf(-1), 0.0
		seenUp, prevUp    bool
		reqMin, reqMax    = math.MaxInt, -1
		repMin, repMax    = math.MaxInt, -1
		prevLen           int
		laterUp, answered int
		unasked           int
	)
	for i := 0; i < n; i++ {
		length, down, gap := s.Message(i)
		if i > 0 {
			t += gap
		}
		switch {
		case !down:
			if seenUp {
				laterUp++
			}
			seenUp, lastUp = true, t
		case t-lastUp > answerWithin:
			if i == 0 || t-prevT >= burstGap {
				unasked++
			}
		case laterUp == 0:
			// Answers the first up message (with the records that come
			// before the next request: TLS 1.3's session tickets).
			if math.IsNaN(open) || float64(length) > open {
				open = float64(length)
			}
		case prevUp:
			answered++
			reqMin, reqMax = min(reqMin, prevLen), max(reqMax, prevLen)
			repMin, repMax = min(repMin, length), max(repMax, length)
		}
		prevT, prevUp, prevLen = t, !down, length
	}
	out[0] = open
	out[1] = nan // seq_quiet: Fill's, it needs the row's time
	out[2], out[3], out[4] = nan, nan, nan
	if laterUp > 0 {
		out[2] = float64(answered) / float64(laterUp)
	}
	if answered >= 2 {
		out[3], out[4] = float64(reqMax-reqMin), float64(repMax-repMin)
	}
	out[5] = float64(unasked)
}

// modeShareRange returns the most common value (the smaller on a tie),
// its share and max − min; NaN for none.
func modeShareRange(v []int) (mode, share, rng float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	slices.Sort(v)
	best, bestN := v[0], 0
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && v[j] == v[i] {
			j++
		}
		if j-i > bestN {
			best, bestN = v[i], j-i
		}
		i = j
	}
	return float64(best), float64(bestN) / float64(len(v)), float64(v[len(v)-1] - v[0])
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 1 {
		return v[m]
	}
	return (v[m-1] + v[m]) / 2
}

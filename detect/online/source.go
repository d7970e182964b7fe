package online

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/live"
)

// ErrTimeout is returned by Source.Next when no packet came in time; the
// worker uses the pause to expire flows by the wall clock.
var ErrTimeout = errors.New("no packet yet")

// Frame is one captured frame. Data is valid until the next Next call.
type Frame struct {
	Data []byte
	Time time.Time
	Len  int // length on the wire
	Link layers.LinkType
}

// Source delivers the frames of one worker. Next returns ErrTimeout when
// nothing arrived for a while, io.EOF at the end of a finite input, and
// another error when the input is lost.
type Source interface {
	Next(f *Frame) error
}

// KernelStatser is a Source that reports the kernel's capture counters.
type KernelStatser interface {
	KernelStats() (live.Stats, error)
}

// LiveSources adapts the sockets of a capture group, one per worker.
func LiveSources(g *live.Group) []Source {
	var out []Source
	for _, s := range g.Sockets() {
		out = append(out, &liveSource{s: s, link: g.LinkType()})
	}
	return out
}

type liveSource struct {
	s    *live.Socket
	link layers.LinkType
}

func (l *liveSource) Next(f *Frame) error {
	data, ci, err := l.s.Read()
	if errors.Is(err, live.ErrTimeout) {
		return ErrTimeout
	}
	if err != nil {
		return err
	}
	*f = Frame{Data: data, Time: ci.Timestamp, Len: ci.Length, Link: l.link}
	return nil
}

func (l *liveSource) KernelStats() (live.Stats, error) { return l.s.Stats() }

// ReplayConfig configures a capture-file replay.
type ReplayConfig struct {
	Files   []string
	Workers int
	// Realtime paces the frames at their recorded inter-arrival times and
	// moves their timestamps to the wall clock (first frame = start), so
	// wall-clock expiry and early alerts behave as on an interface.
	Realtime bool
	// Speed multiplies the pace (0 or 1 = recorded pace).
	Speed float64
}

// replayQueue is how many frames may wait per worker.
const replayQueue = 1024

// Replay reads capture files and hands each frame to a worker chosen by a
// symmetric hash of its flow key, as the kernel's fanout does. Start the
// returned function (it returns when the files are read or ctx ends), and
// give the sources to the runner.
func Replay(cfg ReplayConfig) ([]Source, func(ctx context.Context) error, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Speed <= 0 {
		cfg.Speed = 1
	}
	r, err := capture.Open(cfg.Files...)
	if err != nil {
		return nil, nil, err
	}
	// capture.Open leaves out a bad file among good ones (the offline
	// path reports and skips it); a replay keeps refusing to start.
	if errs := r.Errs(); len(errs) > 0 {
		r.Close()
		return nil, nil, errors.Join(errs...)
	}
	chans := make([]chan Frame, cfg.Workers)
	srcs := make([]Source, cfg.Workers)
	for i := range chans {
		chans[i] = make(chan Frame, replayQueue)
		srcs[i] = &chanSource{c: chans[i]}
	}
	// The dispatcher's reassembly counters are reported through the first
	// source, so the runner's totals count them once.
	dstats := &defragCounters{}
	srcs[0].(*chanSource).defrag = dstats
	run := func(ctx context.Context) error {
		defer r.Close()
		defer func() {
			for _, c := range chans {
				close(c)
			}
		}()
		// With several workers, fragments are reassembled here, before the
		// flow hash, as the kernel's fanout defrag does: a later fragment
		// has no ports and would hash to another worker than its first.
		// One worker reassembles on its own (and this table stays empty).
		sp := NewSpreader(cfg.Workers)
		defer func() {
			sp.Flush()
			dstats.set(sp.DefragStats())
		}()
		var (
			rec   capture.Record
			first time.Time
			start = time.Now()
			n     int // frames decoded, to publish the reassembly counters now and then
		)
		for {
			err := r.Next(&rec)
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return fmt.Errorf("replay: %w", err)
			}
			ts := rec.Time
			if cfg.Realtime {
				if first.IsZero() {
					first = ts
				}
				off := time.Duration(float64(ts.Sub(first)) / cfg.Speed)
				ts = start.Add(off)
				if d := time.Until(ts); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return nil
					}
				}
			}
			w := 0
			f := Frame{Time: ts, Len: rec.OrigLen, Link: rec.LinkType}
			if cfg.Workers > 1 {
				q, wk, frame, ok := sp.Spread(rec.LinkType, rec.Data, ts, rec.OrigLen)
				if ok {
					if n++; n%4096 == 0 {
						dstats.set(sp.DefragStats())
					}
					if q == nil {
						continue // a fragment held for reassembly
					}
					w = wk
					if frame != nil {
						f.Data = append([]byte(nil), frame...)
						f.Len = q.FrameLen
					}
				}
			}
			if f.Data == nil {
				f.Data = append([]byte(nil), rec.Data...)
			}
			select {
			case chans[w] <- f:
			case <-ctx.Done():
				return nil
			}
		}
	}
	return srcs, run, nil
}

// chanSource is one worker's share of a replay.
type chanSource struct {
	c      chan Frame
	timer  *time.Timer
	defrag *defragCounters // set on the first source only
}

// DefragStats returns the dispatcher's fragment reassembly counters (zero
// but for the first source).
func (s *chanSource) DefragStats() defrag.Stats {
	if s.defrag == nil {
		return defrag.Stats{}
	}
	return s.defrag.get()
}

// defragCounters hands the dispatcher's counters to the runner's goroutine.
type defragCounters struct {
	mu sync.Mutex
	s  defrag.Stats
}

func (c *defragCounters) set(s defrag.Stats) { c.mu.Lock(); c.s = s; c.mu.Unlock() }
func (c *defragCounters) get() defrag.Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.s
}

// pollTimeout matches the live capture's: how long a worker waits before
// it gets control back on a quiet input.
const pollTimeout = 100 * time.Millisecond

func (s *chanSource) Next(f *Frame) error {
	select {
	case fr, ok := <-s.c:
		if !ok {
			return io.EOF
		}
		*f = fr
		return nil
	default:
	}
	if s.timer == nil {
		s.timer = time.NewTimer(pollTimeout)
	} else {
		s.timer.Reset(pollTimeout)
	}
	select {
	case fr, ok := <-s.c:
		s.timer.Stop()
		if !ok {
			return io.EOF
		}
		*f = fr
		return nil
	case <-s.timer.C:
		return ErrTimeout
	}
}

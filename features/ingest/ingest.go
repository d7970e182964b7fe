package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/minerwatch/minerwatch/features/capture"
	"github.com/minerwatch/minerwatch/features/decode"
	"github.com/minerwatch/minerwatch/features/defrag"
	"github.com/minerwatch/minerwatch/features/flows"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Stats are the counters of one run.
type Stats struct {
	Capture capture.Stats
	Decode  decode.Stats
	Flows   flows.Stats
	Defrag  defrag.Stats
}

// Options tune a run.
type Options struct {
	// OnPacket, if set, is called for every decoded IP packet before the
	// flow table sees it (rec.File tells which input it came from).
	OnPacket func(rec *capture.Record, p *packet.Packet)
	// Progress, if set, is called every ProgressEvery records.
	Progress      func(s *Stats)
	ProgressEvery int64
	// NoFlush leaves the flows in the table at end of input.
	NoFlush bool
	// Sink, if set, receives every packet instead of a flow table (Run's
	// table argument may then be nil): a detection engine owns its table.
	Sink func(p *packet.Packet)
	// SkipBadFiles goes on with the other files when one fails while
	// being read (a *capture.FileError; the caller reports r.Errs() and
	// decides the exit status). Without it that error ends the run, as a
	// training pass wants: no model from half a capture.
	SkipBadFiles bool
	// Defrag bounds the IP fragment reassembly (zero = defaults).
	Defrag defrag.Config
}

// Run feeds every record of r through a decoder and the fragment
// reassembler into t, then flushes t. It stops early, without flushing,
// when ctx is cancelled, and on a file that fails while being read unless
// opt.SkipBadFiles. OnPacket and the table see a reassembled datagram
// once, with the record of its last fragment, instead of its fragments.
func Run(ctx context.Context, r *capture.Reader, t *flows.Table, opt Options) (Stats, error) {
	var (
		st  Stats
		dec decode.Decoder
		rec capture.Record
		p   packet.Packet
		frg = defrag.New(opt.Defrag)
	)
	every := opt.ProgressEvery
	if every <= 0 {
		every = 1 << 16
	}
	// rem is n%every, counted instead of divided for every packet.
	for n, rem := int64(0), int64(0); ; n, rem = n+1, rem+1 {
		if rem == every {
			rem = 0
		}
		if n%4096 == 0 && ctx.Err() != nil {
			return st, ctx.Err()
		}
		if err := r.Next(&rec); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			if opt.SkipBadFiles && isFileError(err) {
				// The reader left the file out and keeps its error
				// (Reader.Errs) for the caller to report.
				continue
			}
			st.Capture, st.Decode, st.Defrag = r.Stats(), dec.Stats, frg.Stats()
			return st, fmt.Errorf("read packets: %w", err)
		}
		if dec.Decode(rec.LinkType, rec.Data, rec.Time, &p) != decode.OK {
			continue
		}
		p.FrameLen = rec.OrigLen
		q := frg.Add(&p, dec.IPPacket())
		if q == nil {
			continue // a fragment, held until its datagram is whole
		}
		if opt.OnPacket != nil {
			opt.OnPacket(&rec, q)
		}
		if opt.Sink != nil {
			opt.Sink(q)
		} else {
			t.Add(q)
		}
		if opt.Progress != nil && rem == every-1 {
			st.Capture, st.Decode, st.Defrag = r.Stats(), dec.Stats, frg.Stats()
			if t != nil {
				st.Flows = t.Stats()
			}
			opt.Progress(&st)
		}
	}
	frg.Flush() // datagrams still missing fragments at the end are counted as incomplete
	if t != nil && !opt.NoFlush {
		t.Flush()
	}
	st.Capture, st.Decode, st.Defrag = r.Stats(), dec.Stats, frg.Stats()
	if t != nil {
		st.Flows = t.Stats()
	}
	return st, nil
}

// isFileError reports whether err is a *capture.FileError. It is a
// function of its own so that the target errors.As needs escapes to the
// heap only when there is an error: declared in Run's loop, it was
// allocated for every packet (1 allocation per packet, ~4 % of detect -r's
// CPU time).
func isFileError(err error) bool {
	var fileErr *capture.FileError
	return errors.As(err, &fileErr)
}

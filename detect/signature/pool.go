package signature

import (
	"github.com/minerwatch/minerwatch/detect/jsonrpc"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/internal/freelist"
)

// maxFree bounds each list. Flows end in bursts (an idle timeout sweep):
// with freelist's default of 256, most of merged-k10's machines were
// allocated anew (25 of 217 MB; 3 MB with 4096). The lists hold at most
// ~6 MB (a machine is ~900 bytes), and a past flood of mining flows stays
// resident no further. Items are cleared when put back, so the lists hold
// no strings or buffers of ended flows beyond the line buffers the
// readers keep on purpose (Reader.Recycle).
const maxFree = 4096

// newPools returns empty lists bounded by maxFree.
func newPools() pools {
	var p pools
	p.more.Limit, p.machines.Limit, p.reads.Limit, p.http.Limit = maxFree, maxFree, maxFree, maxFree
	return p
}

// pools is a Shared's free lists: the machine, the line reading and the
// HTTP readers a JSON-RPC flow allocates were a quarter of detect's
// garbage (merged-k10: 37, 14 and 6 of 308 MB), and their buffers another
// 26 MB.
type pools struct {
	more     freelist.List[flowMore]
	machines freelist.List[stratum.Machine]
	reads    freelist.List[lineReading]
	http     freelist.List[[2]jsonrpc.HTTPReader]
	// bufs are lent to the line and HTTP readers while a line or message
	// is partial (jsonrpc.Buffers): one per flow with a split line was
	// 26 MB on merged-k10, and as many held at once.
	bufs [][]byte
}

// maxLentBufs and maxLentCap bound the buffers kept for lending.
const (
	maxLentBufs = 64
	maxLentCap  = jsonrpc.DefaultMaxHTTPMessage
)

// GetBuffer and PutBuffer make pools a jsonrpc.Buffers for Recycle.
func (p *pools) GetBuffer(n int) []byte { return p.getBuffer(n) }
func (p *pools) PutBuffer(b []byte)     { p.putBuffer(b) }

// getBuffer lends an empty buffer of capacity n or more: the smallest
// that fits, so a flow that keeps a short partial line for its whole life
// does not take the buffer a long HTTP message needs.
func (p *pools) getBuffer(n int) []byte {
	best := -1
	for i, b := range p.bufs {
		if cap(b) >= n && (best < 0 || cap(b) < cap(p.bufs[best])) {
			best = i
		}
	}
	if best < 0 {
		// Exactly n, as a reader growing its own buffer would: a flow
		// that holds a short partial line for its whole life holds only
		// that.
		return make([]byte, 0, n)
	}
	b := p.bufs[best]
	last := len(p.bufs) - 1
	p.bufs[best] = p.bufs[last]
	p.bufs[last] = nil
	p.bufs = p.bufs[:last]
	return b[:0]
}

// putBuffer takes back a lent buffer. A full list keeps the larger
// buffers: small ones are cheap to make again.
func (p *pools) putBuffer(b []byte) {
	if cap(b) > maxLentCap {
		return
	}
	if len(p.bufs) < maxLentBufs {
		p.bufs = append(p.bufs, b[:0])
		return
	}
	small := 0
	for i := range p.bufs {
		if cap(p.bufs[i]) < cap(p.bufs[small]) {
			small = i
		}
	}
	if cap(b) > cap(p.bufs[small]) {
		p.bufs[small] = b[:0]
	}
}

// recycle clears x and what hangs from it into the free lists.
func (p *pools) recycle(x *flowMore) {
	if m := x.machine; m != nil {
		*m = stratum.Machine{}
		p.machines.Put(m)
	}
	if rd := x.rd; rd != nil {
		for d := range rd.lines {
			rd.lines[d].Recycle(p) // its buffer is lent to the next split line
		}
		*rd = lineReading{lines: rd.lines}
		p.reads.Put(rd)
	}
	if h := x.http; h != nil {
		for d := range h {
			h[d].Recycle(p)
		}
		p.http.Put(h)
	}
	*x = flowMore{}
	p.more.Put(x)
}

package engine

// putTLS recycles fi's TLS parser, if it has one.
func (e *Engine) putTLS(fi *FlowInfo) {
	if ps := fi.par; ps != nil && ps.tls != nil {
		ps.tls.Reset()
		e.tlsFree.Put(ps.tls)
		ps.tls = nil
	}
}

// putQUIC recycles fi's QUIC parser, if it has one.
func (e *Engine) putQUIC(fi *FlowInfo) {
	if ps := fi.par; ps != nil && ps.quic != nil {
		ps.quic.Reset()
		e.quicFree.Put(ps.quic)
		ps.quic = nil
	}
}

// Package flowfeat computes the flow feature sets of FEATURES.md — mw51 (our
// 51 features), mwx, netflow8 (Muñoz et al. 2019), decrypto12 (DeCrypto
// 2022) and the packet-sequence set seq (package seqfeat, whose state a
// flow gets at its first data packet) — from packet headers, sizes and
// times only (and TLS record headers for seq), in bounded memory per flow.
//
// The feature table in defs.go (name, set, unit, direction, definition) is
// the single source of truth: the README's table is generated from it
// (`minerwatch features --list --markdown`) and a test checks they agree.
//
// Undefined values (the std of one sample, a ratio over zero, a median of
// nothing) are NaN here and for the model: our forest learns a default
// direction for NaN at every split, so no neutral value is needed. Exports
// (features/export) write them as nulls, which SQL and dataframe tools
// skip, where a NaN would poison their aggregates.
// netflow8 follows its source and makes a ratio 0 when its denominator is 0.
//
// An Accumulator takes packets of one flow (Add) and yields a snapshot of
// every feature over what it has seen (Snapshot). A Tracker runs one
// accumulator per flow and emits rows at the early-detection checkpoints
// (cumulative: 30 s, 60 s, 120 s, 300 s, then every 300 s), optionally in
// fixed windows, and at flow end.
//
// Most flows of a busy or hostile link never carry a payload (scans, SYN
// floods). A Lazy state (Tracker.Feed / Finish) keeps their header-only
// packets in a Prelude and starts the accumulator only when the flow earns
// it — a payload, a full prelude, or a row falling due — replaying the
// prelude first, so the rows are bit-identical to starting at the first
// packet. Released states are recycled.
//
// The periodicity features (period.go) are the costly part of a snapshot:
// an FFT autocorrelation per direction. They run on realFFT (fft.go), a
// copy of gonum's FFTPACK transform that keeps its arithmetic bit for bit
// (the shipped model was trained on gonum's values), and a Tracker
// memoises them by arrival series. A Tracker whose only reader is the
// model can defer them (TrackerConfig.DeferPeriod): the model asks for a
// direction's period only when its trees reach a split on it.
package flowfeat

// Package online runs detection on live traffic: N workers, each with its
// own engine (flow table, signature machines, feature tracker), fed by one
// packet source per worker. The sources must deliver both directions of a
// flow to the same worker — an AF_PACKET fanout group hashed by flow
// (features/live), or Replay's symmetric user-space hash — because the
// workers share no flow state.
//
// Around the workers it keeps what must be merged: one alert log (JSON
// lines, flushed per alert, reopened on SIGHUP for rotation), a per-host
// view, an evidence pcap of alerted flows, and a Prometheus registry of
// its own (no global state) that Handler serves. Each worker expires idle
// flows by the wall clock as well as by packet time, so a quiet interface
// still ends flows and writes their records.
//
//	r := online.New(online.Config{Engine: cfg, Alerts: log})
//	err := r.Run(ctx, sources) // returns after flushing every flow
package online

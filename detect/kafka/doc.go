// Package kafka connects sensors to Apache Kafka: it produces their
// alerts and flow events to a topic (default "minerwatch.alerts", the same
// JSON objects as the alert log, keyed by flow id so a flow's events stay
// in order on one partition), and shares learned pool endpoints through a
// compacted topic (default "minerwatch.learned", keyed by endpoint) that
// every sensor reads from its start at boot and follows while running, so
// a pool confirmed by the signature stage on one sensor is matched by the
// others at once, also over TLS.
//
// Delivery is at-least-once with franz-go's idempotent producer: records
// of one partition are written in order and without duplicates while the
// producer lives; a restarted sensor may resend. While the brokers are
// unreachable the sensor keeps detecting and the records wait in memory,
// bounded by Config.MaxBufferedRecords and Config.MaxBufferedBytes; past
// the bound new records are dropped and counted (Stats.Dropped), never
// blocking the packet path. When a broker is back the backlog goes out in
// order. There is no spill file: the alert log (-o) is the local durable
// copy, and a bounded file would only move the bound.
//
// Example:
//
//	s, err := kafka.Start(ctx, kafka.Config{Brokers: []string{"k1:9092"}, Sensor: "edge-1"}, in.Learned())
//	if err != nil { … }
//	defer s.Close(10 * time.Second)
//	eng := engine.New(cfg, func(a *alert.Alert) { log.Write(a); s.Alert(a) })
package kafka

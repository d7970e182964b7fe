package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/intel"
)

// LearnedMessage is the value of a learned-topic record: the entry with
// its evidence and expiry, and the sensor that learned it. The record's
// key is the endpoint (LearnedEntry.Key: "IP" or "IP:port"); a record
// with that key and no value (a tombstone) removes the entry, and
// compaction keeps only the last record of each key.
type LearnedMessage struct {
	intel.LearnedEntry
	Sensor string `json:"sensor"`
}

// RemoteSource is the Source a sensor gives an entry received from
// another sensor: "kafka:SENSOR:SOURCE" (e.g.
// "kafka:edge-1:signature:cryptonote"), so an alert says where the
// knowledge came from.
func RemoteSource(m LearnedMessage) string {
	return "kafka:" + m.Sensor + ":" + m.Source
}

// publishLearned is the intel.Learned.OnTrusted hook.
func (s *Sink) publishLearned(e intel.LearnedEntry) {
	v, err := json.Marshal(LearnedMessage{LearnedEntry: e, Sensor: s.cfg.Sensor})
	if err != nil {
		s.setErr(err)
		return
	}
	r := &kgo.Record{Topic: s.cfg.LearnedTopic, Key: []byte(e.Key()), Value: v}
	s.cl.TryProduce(context.Background(), r, func(r *kgo.Record, err error) {
		s.delivered(r, err)
		if err == nil {
			s.published.Add(1)
		}
	})
}

// follow applies the learned topic to s.learned until ctx ends. It closes
// s.synced once every partition has been read up to target (the end
// offsets at boot); nil target = never (boot did not wait).
func (s *Sink) follow(ctx context.Context, target map[int32]int64) {
	defer close(s.done)
	next := map[int32]int64{} // next offset to read, per partition
	hw := map[int32]int64{}   // high watermark last seen, per partition
	caught := func() bool {
		for p, end := range target {
			if next[p] < end {
				return false
			}
		}
		return true
	}
	syncedOpen := target != nil
	if syncedOpen && caught() {
		close(s.synced)
		syncedOpen = false
	}
	for {
		fs := s.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachPartition(func(p kgo.FetchTopicPartition) {
			if p.Err != nil {
				return
			}
			for _, r := range p.Records {
				s.apply(r)
				next[p.Partition] = r.Offset + 1
			}
			if p.HighWatermark > 0 {
				hw[p.Partition] = p.HighWatermark
			}
		})
		var lag int64
		for p, h := range hw {
			if d := h - next[p]; d > 0 {
				lag += d
			}
		}
		s.lag.Store(lag)
		if syncedOpen && caught() {
			close(s.synced)
			syncedOpen = false
		}
	}
}

// apply puts one learned-topic record into the store. Bad records (a key
// that is no endpoint, a value that is no entry) are skipped: the topic is
// shared, and one bad writer must not stop the others' sensors.
func (s *Sink) apply(r *kgo.Record) {
	addr, port, err := intel.ParseEndpoint(string(r.Key))
	if err != nil {
		return
	}
	if r.Value == nil {
		s.viewMu.Lock()
		delete(s.view, string(r.Key))
		s.viewMu.Unlock()
		if s.learned.Remove(addr, port) {
			s.tombstone.Add(1)
		}
		return
	}
	var m LearnedMessage
	if json.Unmarshal(r.Value, &m) != nil || m.Addr.Unmap() != addr || m.Port != port {
		return
	}
	s.viewMu.Lock()
	if s.view == nil {
		s.view = map[string]viewEntry{}
	}
	// Bounded as the store is: one entry per endpoint in the store.
	if _, ok := s.view[string(r.Key)]; ok || len(s.view) < intel.MaxLearned {
		s.view[string(r.Key)] = viewEntry{expires: m.Expires, sensor: m.Sensor}
	}
	s.viewMu.Unlock()
	if m.Sensor != s.cfg.Sensor {
		m.Source = RemoteSource(m)
	}
	// The store's bound holds for the topic too: a writer flooding it
	// with endpoints must not grow every sensor without limit. A known
	// endpoint is still updated.
	if _, known := s.learned.Match(addr, port, m.Added); !known && s.learned.Len() >= intel.MaxLearned {
		s.refused.Add(1)
		return
	}
	s.learned.Add(m.LearnedEntry)
	s.applied.Add(1)
}

// viewEntry is what the expiry sweeper knows of a learned-topic entry.
type viewEntry struct {
	expires time.Time
	sensor  string
}

// sweepExpired writes, every period until ctx ends, tombstones for the
// entries this sensor published that have expired by the wall clock.
func (s *Sink) sweepExpired(ctx context.Context, every time.Duration) {
	defer s.sweep.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			var dead []string
			s.viewMu.Lock()
			for k, e := range s.view {
				if e.sensor == s.cfg.Sensor && !now.Before(e.expires) {
					dead = append(dead, k)
					delete(s.view, k) // not again before the tombstone comes back
				}
			}
			s.viewMu.Unlock()
			for _, k := range dead {
				s.cl.TryProduce(context.Background(), &kgo.Record{Topic: s.cfg.LearnedTopic, Key: []byte(k)}, s.delivered)
			}
		}
	}
}

// ReadLearned reads the learned topic from its start to its end as an
// operator sees it after compaction: the last entry of each endpoint, none
// for endpoints whose last record is a tombstone. Sorted by endpoint.
func ReadLearned(ctx context.Context, cfg Config) ([]LearnedMessage, error) {
	cfg.defaults()
	cl, err := kgo.NewClient(append(cfg.clientOpts(), kgo.ConsumeTopics(cfg.LearnedTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, cfg.LearnedTopic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("kafka: learned topic %s: %w", cfg.LearnedTopic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	last := map[string]*LearnedMessage{}
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("kafka: read learned topic: %w", err)
		}
		var ferr error
		fs.EachError(func(_ string, _ int32, err error) { ferr = err })
		if ferr != nil {
			return nil, fmt.Errorf("kafka: read learned topic: %w", ferr)
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Value == nil {
				delete(last, string(r.Key))
			} else {
				var m LearnedMessage
				if json.Unmarshal(r.Value, &m) == nil {
					last[string(r.Key)] = &m
				}
			}
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	out := make([]LearnedMessage, 0, len(last))
	for _, m := range last {
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Addr.Compare(out[j].Addr); c != 0 {
			return c < 0
		}
		return out[i].Port < out[j].Port
	})
	return out, nil
}

// PublishLearned writes entries to the learned topic (as sensor) and
// waits for the brokers to acknowledge them.
func PublishLearned(ctx context.Context, cfg Config, sensor string, entries ...intel.LearnedEntry) error {
	recs := make([]*kgo.Record, 0, len(entries))
	for _, e := range entries {
		v, err := json.Marshal(LearnedMessage{LearnedEntry: e, Sensor: sensor})
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Key: []byte(e.Key()), Value: v})
	}
	return produceSync(ctx, cfg, recs)
}

// RemoveLearned writes tombstones for the endpoints ("IP" or "IP:port").
func RemoveLearned(ctx context.Context, cfg Config, endpoints ...string) error {
	recs := make([]*kgo.Record, 0, len(endpoints))
	for _, ep := range endpoints {
		a, p, err := intel.ParseEndpoint(ep)
		if err != nil {
			return err
		}
		recs = append(recs, &kgo.Record{Key: []byte(intel.LearnedEntry{Addr: a, Port: p}.Key())})
	}
	return produceSync(ctx, cfg, recs)
}

func produceSync(ctx context.Context, cfg Config, recs []*kgo.Record) error {
	cfg.defaults()
	cl, err := kgo.NewClient(append(cfg.clientOpts(), kgo.DefaultProduceTopic(cfg.LearnedTopic))...)
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	defer cl.Close()
	if err := ensureTopics(ctx, kadm.NewClient(cl), Config{AlertTopic: cfg.AlertTopic, LearnedTopic: cfg.LearnedTopic}); err != nil {
		return err
	}
	var errs []string
	for _, r := range cl.ProduceSync(ctx, recs...) {
		if r.Err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", r.Record.Key, r.Err))
		}
	}
	if len(errs) > 0 {
		return errors.New("kafka: learned topic: " + strings.Join(errs, "; "))
	}
	return nil
}

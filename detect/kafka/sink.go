package kafka

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/minerwatch/minerwatch/detect/alert"
	"github.com/minerwatch/minerwatch/detect/intel"
)

// Sink is one sensor's connection to Kafka: the alert producer and, when
// learned pools are shared, the learned topic's producer and follower.
// A nil *Sink is valid and does nothing, so the default path (no --kafka)
// pays one nil check per alert.
type Sink struct {
	cfg     Config
	cl      *kgo.Client
	learned *intel.Learned
	types   alert.Types

	produced, dropped, failed     atomic.Int64
	published, applied, tombstone atomic.Int64
	lag, rows, refused            atomic.Int64

	cancel context.CancelFunc
	done   chan struct{}
	synced chan struct{}
	once   sync.Once
	sweep  sync.WaitGroup // the expiry sweeper (Config.ExpireEvery)

	// view is the learned topic as read so far: each endpoint's expiry
	// and publishing sensor, for the expiry sweeper.
	viewMu sync.Mutex
	view   map[string]viewEntry

	errMu   sync.Mutex
	lastErr error // the last delivery error other than a full buffer
}

// Stats are the sink's counters.
type Stats struct {
	Produced      int64 // records acknowledged by the brokers (all topics)
	FlowRecords   int64 // of which flow records (Row)
	Dropped       int64 // records refused because the buffer bound was reached
	Failed        int64 // records failed for another reason (too large, retries exhausted, closed)
	Buffered      int64 // records waiting for the brokers now
	BufferedBytes int64
	// Learned topic: entries this sensor published, remote entries and
	// tombstones applied, and how many records the follower is behind.
	LearnedPublished, LearnedApplied, LearnedRemoved, LearnedLag int64
	// LearnedRefused counts new endpoints from the topic not applied
	// because the learned list was full (intel.MaxLearned).
	LearnedRefused int64
}

// Start connects to the brokers (lazily: unreachable brokers are not an
// error, records wait in the buffer), makes sure the topics exist (the
// learned one compacted), and, when learned is non-nil and sharing is on,
// reads the learned topic from its start into learned — waiting up to
// Config.SyncTimeout to reach its end, so that the first packets already
// meet what other sensors learned — then follows it and publishes the
// entries that learned's trust rules accept. Warnings (topic creation
// refused, brokers unreachable at boot) are returned, not fatal.
func Start(ctx context.Context, cfg Config, learned *intel.Learned) (*Sink, []string, error) {
	cfg.defaults()
	if len(cfg.Brokers) == 0 {
		return nil, nil, errors.New("kafka: no brokers")
	}
	opts := append(cfg.clientOpts(),
		kgo.MaxBufferedRecords(cfg.MaxBufferedRecords),
		kgo.MaxBufferedBytes(cfg.MaxBufferedBytes),
		// A topic that is briefly unknown (created at boot, a broker
		// restarting) must not fail the backlog: retry it like any
		// other outage, bounded by the buffer, not by a count.
		kgo.UnknownTopicRetries(-1),
	)
	share := learned != nil && cfg.shareLearned()
	if share {
		opts = append(opts, kgo.ConsumeTopics(cfg.LearnedTopic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("kafka: %w", err)
	}
	s := &Sink{cfg: cfg, cl: cl, done: make(chan struct{}), synced: make(chan struct{}), view: map[string]viewEntry{}}
	var warns []string
	bootCtx, cancelBoot := context.WithTimeout(ctx, cfg.SyncTimeout)
	defer cancelBoot()
	if err := ensureTopics(bootCtx, kadm.NewClient(cl), cfg); err != nil {
		warns = append(warns, err.Error())
	}
	if !share {
		close(s.done)
		return s, warns, nil
	}
	s.learned = learned
	// The end offsets at boot are the point the follower must reach before
	// detection starts; records after it arrive while running.
	var target map[int32]int64
	if ends, err := kadm.NewClient(cl).ListEndOffsets(bootCtx, cfg.LearnedTopic); err != nil {
		warns = append(warns, fmt.Sprintf("kafka: learned topic %s: %v (pools learned elsewhere arrive once the brokers answer)", cfg.LearnedTopic, err))
	} else {
		target = map[int32]int64{}
		ends.Each(func(o kadm.ListedOffset) {
			if o.Err == nil && o.Offset > 0 {
				target[o.Partition] = o.Offset
			}
		})
	}
	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	go s.follow(runCtx, target)
	if cfg.ExpireEvery > 0 {
		s.sweep.Add(1)
		go s.sweepExpired(runCtx, cfg.ExpireEvery)
	}
	if target != nil {
		select {
		case <-s.synced:
		case <-bootCtx.Done():
			warns = append(warns, fmt.Sprintf("kafka: learned topic %s not read to its end within %v; the rest arrives while running", cfg.LearnedTopic, cfg.SyncTimeout))
		}
	}
	learned.OnTrusted(s.publishLearned)
	return s, warns, nil
}

// ensureTopics creates the alert topic and the compacted learned topic
// with the cluster's default partitions and replication, if missing.
func ensureTopics(ctx context.Context, adm *kadm.Client, cfg Config) error {
	compact := "compact"
	want := []struct {
		topic string
		conf  map[string]*string
	}{{cfg.AlertTopic, nil}}
	if cfg.FlowTopic != "" {
		want = append(want, struct {
			topic string
			conf  map[string]*string
		}{cfg.FlowTopic, nil})
	}
	if cfg.shareLearned() {
		want = append(want, struct {
			topic string
			conf  map[string]*string
		}{cfg.LearnedTopic, map[string]*string{"cleanup.policy": &compact}})
	}
	for _, w := range want {
		r, err := adm.CreateTopic(ctx, -1, -1, w.conf, w.topic)
		if err == nil {
			err = r.Err
		}
		if err != nil && !errors.Is(err, kerr.TopicAlreadyExists) {
			return fmt.Errorf("kafka: create topic %s: %w", w.topic, err)
		}
	}
	return nil
}

// Only restricts the produced events to types (--eve-types); nil = all.
// Call it before the first Alert.
func (s *Sink) Only(types alert.Types) {
	if s != nil {
		s.types = types
	}
}

// Alert queues one event for the alert topic, keyed by its flow id. It
// never blocks: with the buffer full the event is dropped and counted.
// Safe for concurrent use.
func (s *Sink) Alert(a *alert.Alert) {
	if s == nil || !s.types.Has(a.EventType) {
		return
	}
	v, err := json.Marshal(a)
	if err != nil {
		s.failed.Add(1)
		s.setErr(fmt.Errorf("encode alert: %w", err))
		return
	}
	r := &kgo.Record{Topic: s.cfg.AlertTopic, Key: strconv.AppendUint(nil, a.FlowID, 10), Value: v,
		Headers: []kgo.RecordHeader{{Key: "sensor", Value: []byte(s.cfg.Sensor)}, {Key: "event_type", Value: []byte(a.EventType)}}}
	s.cl.TryProduce(context.Background(), r, s.delivered)
}

func (s *Sink) delivered(_ *kgo.Record, err error) {
	switch {
	case err == nil:
		s.produced.Add(1)
	case errors.Is(err, kgo.ErrMaxBuffered):
		s.dropped.Add(1)
	default:
		s.failed.Add(1)
		s.setErr(err)
	}
}

func (s *Sink) setErr(err error) {
	s.errMu.Lock()
	s.lastErr = err
	s.errMu.Unlock()
}

// Stats returns the counters now.
func (s *Sink) Stats() Stats {
	if s == nil {
		return Stats{}
	}
	return Stats{Produced: s.produced.Load(), FlowRecords: s.rows.Load(), Dropped: s.dropped.Load(), Failed: s.failed.Load(),
		Buffered: s.cl.BufferedProduceRecords(), BufferedBytes: s.cl.BufferedProduceBytes(),
		LearnedPublished: s.published.Load(), LearnedApplied: s.applied.Load(), LearnedRemoved: s.tombstone.Load(), LearnedLag: s.lag.Load(), LearnedRefused: s.refused.Load()}
}

// Close stops following the learned topic and waits up to timeout for
// the buffered records to be delivered. It reports the records that were
// not delivered (still buffered at the deadline, dropped or failed).
func (s *Sink) Close(timeout time.Duration) error {
	if s == nil {
		return nil
	}
	var err error
	s.once.Do(func() {
		if s.learned != nil {
			s.learned.OnTrusted(nil)
		}
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		ferr := s.cl.Flush(ctx)
		if s.cancel != nil {
			s.cancel()
		}
		<-s.done
		s.sweep.Wait()
		st := s.Stats()
		s.cl.Close()
		lost := st.Dropped + st.Failed
		if ferr != nil {
			lost += st.Buffered
		}
		if lost > 0 {
			s.errMu.Lock()
			last := s.lastErr
			s.errMu.Unlock()
			err = fmt.Errorf("kafka: %d records not delivered (%d dropped at the buffer bound, %d failed, %d still buffered after %v)",
				lost, st.Dropped, st.Failed, lost-st.Dropped-st.Failed, timeout)
			if last != nil {
				err = fmt.Errorf("%w; last error: %v", err, last)
			}
		}
	})
	return err
}

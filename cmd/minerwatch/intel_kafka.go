package main

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/minerwatch/minerwatch/detect/intel"
	"github.com/minerwatch/minerwatch/detect/kafka"
)

// intelKafkaSensor names the operator in entries `intel add --kafka` writes.
const intelKafkaSensor = "minerwatch-intel"

// intelKafkaTimeout bounds an operator's command against the cluster.
const intelKafkaTimeout = 30 * time.Second

// learnedTopicList prints the learned topic as compaction leaves it.
func learnedTopicList(o kafkaOptions, all bool, stdout io.Writer) error {
	cfg, err := o.config(intelKafkaSensor)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), intelKafkaTimeout)
	defer cancel()
	msgs, err := kafka.ReadLearned(ctx, cfg)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ENDPOINT\tREASON\tEVIDENCE\tDOMAIN\tSOURCE\tSENSOR\tEXPIRES")
	for _, m := range msgs {
		if !all && !now.Before(m.Expires) {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Key(), m.Reason, dash(m.Evidence), dash(m.Domain), dash(m.Source), dash(m.Sensor), m.Expires.UTC().Format(time.RFC3339))
	}
	return tw.Flush()
}

// learnedTopicAdd publishes e to the learned topic.
func learnedTopicAdd(o kafkaOptions, e intel.LearnedEntry) error {
	cfg, err := o.config(intelKafkaSensor)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), intelKafkaTimeout)
	defer cancel()
	return kafka.PublishLearned(ctx, cfg, intelKafkaSensor, e)
}

// learnedTopicRemove writes tombstones for the endpoints.
func learnedTopicRemove(o kafkaOptions, endpoints []string) error {
	cfg, err := o.config(intelKafkaSensor)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), intelKafkaTimeout)
	defer cancel()
	return kafka.RemoveLearned(ctx, cfg, endpoints...)
}

// learnedTopicExpire writes tombstones for the entries expired at now and
// returns how many it removed and how many are left.
func learnedTopicExpire(o kafkaOptions, now time.Time) (expired, left int, err error) {
	cfg, err := o.config(intelKafkaSensor)
	if err != nil {
		return 0, 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), intelKafkaTimeout)
	defer cancel()
	msgs, err := kafka.ReadLearned(ctx, cfg)
	if err != nil {
		return 0, 0, err
	}
	var dead []string
	for _, m := range msgs {
		if !now.Before(m.Expires) {
			dead = append(dead, m.Key())
		}
	}
	if len(dead) > 0 {
		if err := kafka.RemoveLearned(ctx, cfg, dead...); err != nil {
			return 0, 0, err
		}
	}
	return len(dead), len(msgs) - len(dead), nil
}

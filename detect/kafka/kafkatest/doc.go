// Package kafkatest runs a real single-node Apache Kafka broker (KRaft
// mode: broker and controller in one JVM) on 127.0.0.1 for tests. Its jars
// come from Maven Central through scripts/kafka-jars.sh, cached outside
// the repository; tests skip with a clear message when Java or the jars
// are absent.
//
// Example:
//
//	b := kafkatest.Start(t)            // skips without Java or the jars
//	cfg := kafka.Config{Brokers: []string{b.Addr}}
//	b.Stop(); b.Restart()              // an outage, same data
package kafkatest

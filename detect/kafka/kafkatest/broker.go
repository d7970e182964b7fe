package kafkatest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Version is the Kafka release scripts/kafka-jars.sh fetches by default.
const Version = "4.1.1"

// Broker is a running (or stopped) test broker.
type Broker struct {
	Addr string // host:port of the PLAINTEXT listener

	t    testing.TB
	jars string
	dir  string
	conf string
	cmd  *exec.Cmd
	exit chan struct{}
}

// JarDir is where scripts/kafka-jars.sh puts the jars:
// $MINERWATCH_KAFKA_JARS, else $XDG_CACHE_HOME (or ~/.cache)/minerwatch/kafka-Version.
func JarDir() string {
	if d := os.Getenv("MINERWATCH_KAFKA_JARS"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		h, _ := os.UserHomeDir()
		cache = filepath.Join(h, ".cache")
	}
	return filepath.Join(cache, "minerwatch", "kafka-"+Version)
}

// Start formats a fresh log directory and starts the broker; it skips
// the test when Java or the jars are missing, and stops the broker at the
// test's end.
func Start(t testing.TB) *Broker {
	t.Helper()
	if testing.Short() {
		t.Skip("kafka broker test: skipped in -short mode")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("kafka broker test: java not found (apt-get install openjdk-17-jre-headless)")
	}
	jars := JarDir()
	if _, err := os.Stat(filepath.Join(jars, "kafka_2.13-"+Version+".jar")); err != nil {
		t.Skipf("kafka broker test: no Kafka jars in %s (run scripts/kafka-jars.sh)", jars)
	}
	b := &Broker{t: t, jars: jars, dir: t.TempDir()}
	port, cport := freePort(t), freePort(t)
	b.Addr = fmt.Sprintf("127.0.0.1:%d", port)
	b.conf = filepath.Join(b.dir, "server.properties")
	props := strings.Join([]string{
		"process.roles=broker,controller",
		"node.id=1",
		fmt.Sprintf("controller.quorum.voters=1@127.0.0.1:%d", cport),
		fmt.Sprintf("listeners=PLAINTEXT://%s,CONTROLLER://127.0.0.1:%d", b.Addr, cport),
		"advertised.listeners=PLAINTEXT://" + b.Addr,
		"controller.listener.names=CONTROLLER",
		"listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
		"inter.broker.listener.name=PLAINTEXT",
		"log.dirs=" + filepath.Join(b.dir, "data"),
		"num.partitions=3", // keyed records spread: ordering per key is what is tested
		"offsets.topic.replication.factor=1",
		"transaction.state.log.replication.factor=1",
		"transaction.state.log.min.isr=1",
		"group.initial.rebalance.delay.ms=0",
		"auto.create.topics.enable=false",
		"",
	}, "\n")
	if err := os.WriteFile(b.conf, []byte(props), 0o644); err != nil {
		t.Fatal(err)
	}
	format := exec.Command(java, "-Xmx256m", "-cp", filepath.Join(jars, "*"), "kafka.tools.StorageTool",
		"format", "-t", "MkU3OEVBNTcwNTJENDM2Qk", "-c", b.conf)
	if out, err := format.CombinedOutput(); err != nil {
		t.Fatalf("kafka storage format: %v\n%s", err, out)
	}
	t.Cleanup(b.kill)
	b.Restart()
	return b
}

// Restart starts the broker on its log directory and ports, and waits
// until it accepts connections.
func (b *Broker) Restart() {
	b.t.Helper()
	if b.cmd != nil {
		b.t.Fatal("kafkatest: broker already running")
	}
	logf, err := os.OpenFile(filepath.Join(b.dir, "broker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		b.t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("java", "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
		"-cp", filepath.Join(b.jars, "*"), "kafka.Kafka", b.conf)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		b.t.Fatalf("start kafka: %v", err)
	}
	b.cmd, b.exit = cmd, make(chan struct{})
	go func(exit chan struct{}) { cmd.Wait(); close(exit) }(b.exit)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-b.exit:
			log, _ := os.ReadFile(filepath.Join(b.dir, "broker.log"))
			b.cmd = nil
			b.t.Fatalf("kafka broker exited at start:\n%s", tail(log))
		default:
		}
		if c, err := net.DialTimeout("tcp", b.Addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.Stop()
	b.t.Fatalf("kafka broker did not listen on %s within 60s", b.Addr)
}

// Stop ends the broker (SIGTERM, then SIGKILL after 15 s) and waits for
// it; the log directory stays for Restart.
func (b *Broker) Stop() {
	if b.cmd == nil {
		return
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-b.exit:
	case <-time.After(15 * time.Second):
		syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
		<-b.exit
	}
	b.cmd = nil
}

// kill ends the broker at once (the test's end: its data goes with the
// temp dir, a clean shutdown would only cost seconds).
func (b *Broker) kill() {
	if b.cmd == nil {
		return
	}
	syscall.Kill(-b.cmd.Process.Pid, syscall.SIGKILL)
	<-b.exit
	b.cmd = nil
}

// Log returns the broker's output so far (for failure messages).
func (b *Broker) Log() string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "broker.log"))
	return tail(data)
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

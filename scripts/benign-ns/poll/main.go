// Command poll is the benign API client of scripts/benign-ns/gen.sh: it
// polls one URL over one kept-alive connection (HTTP/1.1 or HTTP/2, with
// or without TLS, directly or through a SOCKS5 proxy) at a jittered
// period, the way dashboards, push clients and IoT agents do. It exists
// because curl opens a new connection per run and cannot jitter, and the
// point of these captures is long-lived, periodic, benign connections.
//
// With -ping, an idle HTTP/2 connection is kept alive by PING frames
// (x/net/http2's ReadIdleTimeout), as browsers and gRPC clients do. With
// -lifetime, the client drops its connection once it is that old (±40%)
// and the next request opens a new one, as clients behind NAT timeouts and
// load balancers do: many connection starts, the benign population of
// early checkpoints.
package main

import (
	"context"
	"crypto/tls"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/http2"
)

func main() {
	target := flag.String("url", "", "URL to poll (a %d in it becomes a random 0–7, so responses vary in size)")
	period := flag.Duration("period", 10*time.Second, "mean time between requests")
	jitter := flag.Duration("jitter", 2*time.Second, "uniform jitter ± around -period")
	duration := flag.Duration("duration", 5*time.Minute, "stop after this long")
	proxy := flag.String("proxy", "", "proxy URL (socks5://host:port)")
	h2 := flag.Bool("h2", false, "HTTP/2 over TLS (ALPN h2)")
	ping := flag.Duration("ping", 0, "with -h2: send a PING frame after this long without a frame")
	tlsMax := flag.String("tls-max", "1.3", "highest TLS version offered: 1.2 or 1.3")
	post := flag.Int("post", 0, "POST a JSON body of about this many bytes instead of GET (0: GET)")
	lifetime := flag.Duration("lifetime", 0, "close the connection once it is this old (±40%); 0 keeps one connection")
	flag.Parse()
	if *target == "" {
		fmt.Fprintln(os.Stderr, "poll: -url is required")
		os.Exit(2)
	}
	if err := run(*target, *period, *jitter, *duration, *proxy, *h2, *ping, *tlsMax, *post, *lifetime); err != nil {
		fmt.Fprintln(os.Stderr, "poll:", err)
		os.Exit(1)
	}
}

func run(target string, period, jitter, duration time.Duration, proxy string, h2 bool, ping time.Duration, tlsMax string, post int, lifetime time.Duration) error {
	tc := &tls.Config{InsecureSkipVerify: true} // lab certificates: self-signed
	switch tlsMax {
	case "1.2":
		tc.MaxVersion = tls.VersionTLS12
	case "1.3":
		tc.MaxVersion = tls.VersionTLS13
	default:
		return fmt.Errorf("-tls-max %q: want 1.2 or 1.3", tlsMax)
	}
	tr := &http.Transport{
		TLSClientConfig:     tc,
		MaxIdleConnsPerHost: 1,
		IdleConnTimeout:     0, // keep the one connection for the whole session
		ForceAttemptHTTP2:   h2,
	}
	if !h2 {
		tr.TLSNextProto = map[string]func(string, *tls.Conn) http.RoundTripper{} // HTTP/1.1 only
	}
	if proxy != "" {
		u, err := url.Parse(proxy)
		if err != nil {
			return fmt.Errorf("parse -proxy: %w", err)
		}
		tr.Proxy = http.ProxyURL(u)
	}
	if h2 {
		t2, err := http2.ConfigureTransports(tr)
		if err != nil {
			return fmt.Errorf("configure HTTP/2: %w", err)
		}
		t2.ReadIdleTimeout = ping
		t2.PingTimeout = 15 * time.Second
	}
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	var connStart time.Time // when the current connection was opened (zero: none yet)
	life := lifetime
	for n := 0; ; n++ {
		if lifetime > 0 && !connStart.IsZero() && time.Since(connStart) > life {
			tr.CloseIdleConnections()
			connStart = time.Time{}
			life = time.Duration(float64(lifetime) * (0.6 + 0.8*rand.Float64()))
		}
		if connStart.IsZero() {
			connStart = time.Now()
		}
		if err := once(ctx, client, strings.ReplaceAll(target, "%d", fmt.Sprint(rand.IntN(8))), post, n); err != nil && ctx.Err() == nil {
			fmt.Fprintln(os.Stderr, "poll:", err) // a failed poll is logged and retried, as real agents do
		}
		wait := period + time.Duration((rand.Float64()*2-1)*float64(jitter))
		select {
		case <-ctx.Done():
			tr.CloseIdleConnections() // a clean FIN at the end of the session
			return nil
		case <-time.After(wait):
		}
	}
}

func once(ctx context.Context, c *http.Client, target string, post, n int) error {
	method, body := http.MethodGet, io.Reader(nil)
	if post > 0 {
		method = http.MethodPost
		pad := strings.Repeat("x", max(0, post/2+rand.IntN(post)-60))
		body = strings.NewReader(fmt.Sprintf(`{"seq":%d,"ts":%d,"status":"ok","pad":"%s"}`, n, time.Now().Unix(), pad))
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return fmt.Errorf("request %d: %w", n, err)
	}
	req.Header.Set("Accept", "application/json")
	if post > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("request %d: %w", n, err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return fmt.Errorf("read response %d: %w", n, err)
	}
	return nil
}

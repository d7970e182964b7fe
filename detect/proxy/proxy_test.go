package proxy_test

import (
	"testing"

	"github.com/minerwatch/minerwatch/detect/proxy"
)

func TestParseRecognisesPreambles(t *testing.T) {
	tail := "{\"id\":1}\n"
	cases := []struct {
		name, up, down string
		want           proxy.Result
	}{
		// lab/mining/xmrig-socks5-1080.pcap (microsocks): no-auth, IPv4 CONNECT.
		{"socks5 ipv4", "\x05\x01\x00" + "\x05\x01\x00\x01\x0a\xcb\x09\x01\x0d\x05" + tail, "\x05\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00",
			proxy.Result{Status: proxy.Found, Kind: "socks5", TargetHost: "10.203.9.1", TargetPort: 3333, UpStart: 13, DownStart: 12}},
		{"socks5 domain with user/pass", "\x05\x02\x00\x02" + "\x01\x01u\x01p" + "\x05\x01\x00\x03\x0cpool.example\x0d\x05",
			"\x05\x02" + "\x01\x00" + "\x05\x00\x00\x01\x7f\x00\x00\x01\x04\x38",
			proxy.Result{Status: proxy.Found, Kind: "socks5", TargetHost: "pool.example", TargetPort: 3333, UpStart: 28, DownStart: 14}}, // 4 greeting + 5 auth + 19 request
		{"socks5 ipv6", "\x05\x01\x00" + "\x05\x01\x00\x04" + "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01" + "\x01\xbb",
			"\x05\x00" + "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00",
			proxy.Result{Status: proxy.Found, Kind: "socks5", TargetHost: "2001:db8::1", TargetPort: 443, UpStart: 25, DownStart: 12}},
		{"socks5 refused", "\x05\x01\x00" + "\x05\x01\x00\x01\x0a\x00\x00\x01\x0d\x05", "\x05\x00" + "\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00",
			proxy.Result{Status: proxy.Refused, Kind: "socks5", TargetHost: "10.0.0.1", TargetPort: 3333}},
		{"socks5 waiting for reply", "\x05\x01\x00", "", proxy.Result{Status: proxy.NeedMore, Kind: "socks5"}},
		{"socks4", "\x04\x01\x0d\x05\x0a\x00\x00\x01user\x00", "\x00\x5a\x00\x00\x00\x00\x00\x00",
			proxy.Result{Status: proxy.Found, Kind: "socks4", TargetHost: "10.0.0.1", TargetPort: 3333, UpStart: 13, DownStart: 8}},
		{"socks4a", "\x04\x01\x0d\x05\x00\x00\x00\x01\x00pool.example\x00", "\x00\x5a\x00\x00\x00\x00\x00\x00",
			proxy.Result{Status: proxy.Found, Kind: "socks4a", TargetHost: "pool.example", TargetPort: 3333, UpStart: 22, DownStart: 8}},
		{"http connect", "CONNECT pool.example:443 HTTP/1.1\r\nHost: pool.example:443\r\n\r\n", "HTTP/1.1 200 Connection established\r\n\r\n",
			proxy.Result{Status: proxy.Found, Kind: "http-connect", TargetHost: "pool.example", TargetPort: 443, UpStart: 61, DownStart: 39}}, // 35 + 24 + 2 header bytes
		{"http connect refused", "CONNECT a:1 HTTP/1.1\r\n\r\n", "HTTP/1.1 407 Proxy Authentication Required\r\n\r\n",
			proxy.Result{Status: proxy.Refused, Kind: "http-connect", TargetHost: "a", TargetPort: 1}},
		{"plain stratum", `{"id":1}`, "", proxy.Result{Status: proxy.NotProxy}},
		{"tls", "\x16\x03\x01\x02\x00", "", proxy.Result{Status: proxy.NotProxy}},
		{"ssh", "SSH-2.0-OpenSSH_9.2\r\n", "", proxy.Result{Status: proxy.NotProxy}},
	}
	for _, tc := range cases {
		if got := proxy.Parse([]byte(tc.up), []byte(tc.down)); got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x03\x04pool\x0d\x05"), []byte("\x05\x00\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("\x04\x01\x0d\x05\x00\x00\x00\x01\x00a\x00"), []byte("\x00\x5a\x00\x00\x00\x00\x00\x00"))
	f.Add([]byte("CONNECT a:1 HTTP/1.1\r\n\r\n"), []byte("HTTP/1.1 200 OK\r\n\r\n"))
	f.Fuzz(func(t *testing.T, up, down []byte) {
		r := proxy.Parse(up, down)
		if r.Status == proxy.Found && (r.UpStart > len(up) || r.DownStart > len(down) || r.UpStart < 0 || r.DownStart < 0) {
			t.Fatalf("offsets out of range: %+v (up %d down %d)", r, len(up), len(down))
		}
	})
}

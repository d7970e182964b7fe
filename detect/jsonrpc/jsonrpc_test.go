package jsonrpc_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

func TestParseIgnoresKeyOrderAndWhitespace(t *testing.T) {
	// Shapes from the captures: XMRig compact id-first, xmr-stak method-first
	// without jsonrpc, cgminer spaced params-first (PROTOCOLS.md, tshark).
	lines := []string{
		`{"id":4,"jsonrpc":"2.0","method":"mining.submit","params":["w","j"]}`,
		`{"method":"mining.submit","params":["w","j"],"id":4}`,
		`{"params": ["w", "j"], "id": 4, "method": "mining.submit"}`,
		"{ \"id\" :\t4 ,\r\n \"method\" : \"mining.submit\" , \"params\" : [ \"w\" , \"j\" ] }",
	}
	var m jsonrpc.Message
	for _, l := range lines {
		if err := m.Parse([]byte(l)); err != nil {
			t.Fatalf("%s: %v", l, err)
		}
		if string(m.Method) != "mining.submit" || string(m.ID) != "4" || jsonrpc.Len(m.Params) != 2 ||
			string(jsonrpc.Index(m.Params, 1)) != `"j"` {
			t.Errorf("%s: got method %q id %q params %q", l, m.Method, m.ID, m.Params)
		}
	}
}

func TestParseRejectsWhatIsNotOneJSONObject(t *testing.T) {
	for _, l := range []string{
		``, `[1,2]`, `{"id":1`, `{"id":1}}`, `{"id":1} trailing`, `{id:1}`, `{"a":tru}`, `{"a":"x` + "\x01" + `"}`,
		`SELECT "mining.notify"`, `{"a":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`,
	} {
		var m jsonrpc.Message
		if err := m.Parse([]byte(l)); err == nil {
			t.Errorf("%q parsed", l)
		}
	}
}

func TestFieldReadsNestedValues(t *testing.T) {
	var m jsonrpc.Message
	line := `{"id":1,"result":{"id":"s","job":{"blob":"00ff","job_id":"j\"1","target":"0d74da00"},"status":"OK"}}`
	if err := m.Parse([]byte(line)); err != nil {
		t.Fatal(err)
	}
	job := jsonrpc.Field(m.Result, "job")
	if s, _ := jsonrpc.Str(jsonrpc.Field(job, "target")); string(s) != "0d74da00" {
		t.Errorf("target %q", s)
	}
	if _, ok := jsonrpc.Str(jsonrpc.Field(job, "job_id")); ok {
		t.Errorf("escaped string returned as plain")
	}
	if jsonrpc.Field(m.Result, "nope") != nil || jsonrpc.Index(m.Result, 0) != nil {
		t.Errorf("absent values found")
	}
}

type lines []string

func (l *lines) Line(b []byte) { *l = append(*l, string(b)) }

func TestReaderJoinsSplitLinesAndSkipsOversized(t *testing.T) {
	r := jsonrpc.Reader{MaxLine: 16}
	var got lines
	for _, chunk := range []string{`{"a":`, "1}\n{\"b\":2}\n{\"c\"", ":3}\r\n", strings.Repeat("x", 40), "yy\n{\"d\":4}\n", "\n\n"} {
		r.Write([]byte(chunk), &got)
	}
	want := []string{`{"a":1}`, `{"b":2}`, `{"c":3}`, `{"d":4}`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q", got)
	}
	if r.Stats.Oversized != 1 || r.Stats.Lines != 4 {
		t.Errorf("stats %+v", r.Stats)
	}
	if r.Buffered() > 512 {
		t.Errorf("buffer grew to %d", r.Buffered())
	}
}

func TestReaderResyncsAfterAGap(t *testing.T) {
	var r jsonrpc.Reader
	var got lines
	r.Write([]byte(`{"id":1,"meth`), &got)
	r.Gap()
	r.Write([]byte("od\":\"x\"}\n{\"id\":2}\n"), &got)
	if len(got) != 1 || got[0] != `{"id":2}` {
		t.Errorf("got %q", got)
	}
}

// TestEndlessLineStaysWithinMaxLine: one line that never ends (hostile
// flow) keeps the buffer at or below MaxLine.
func TestEndlessLineStaysWithinMaxLine(t *testing.T) {
	r := jsonrpc.Reader{MaxLine: 4096}
	var got lines
	chunk := []byte(strings.Repeat("{", 1400))
	for i := 0; i < 10000; i++ { // 14 MB without a newline
		r.Write(chunk, &got)
		if r.Buffered() > 4096 {
			t.Fatalf("buffer %d > MaxLine", r.Buffered())
		}
	}
	if len(got) != 0 || r.Stats.Oversized != 1 {
		t.Errorf("lines %d stats %+v", len(got), r.Stats)
	}
}

// TestPaddingCannotMakeALineOversized: JSON parsers skip whitespace, so a
// miner (or an attacker) can put 70 KB of it before or inside a login;
// the line must still come out whole, with the buffer within MaxLine.
func TestPaddingCannotMakeALineOversized(t *testing.T) {
	login := `{"id":1,"jsonrpc":"2.0","method":"login","params":{"login":"4A","pass":"x","agent":"XMRig/6.21.0 (Linux x86_64)"}}`
	pad := strings.Repeat(" ", 70_000)
	cases := []struct {
		name, in, want string
	}{
		{"spaces before the line", pad + login + "\n", login},
		{"blank lines and tabs before the line", strings.Repeat("\r\n\t \n", 20_000) + login + "\n", login},
		{"spaces between tokens", `{"id":1,` + pad + `"method":` + pad + `"login"}` + "\n", `{"id":1, "method": "login"}`},
		{"spaces inside a string are cut to 16", `{"a":"x` + pad + `y"}` + "\n", `{"a":"x` + strings.Repeat(" ", 16) + `y"}`},
		{"an escaped quote does not end the string", `{"a":"\"` + pad + `"}` + "\n", `{"a":"\"` + strings.Repeat(" ", 16) + `"}`},
		{"a long garbage line, then the login", strings.Repeat("x", 40_000) + "\n" + login + "\n", login},
	}
	for _, tc := range cases {
		for _, seg := range []int{1400, 1} {
			if seg == 1 && len(tc.in) > 100_000 {
				continue
			}
			r := jsonrpc.Reader{MaxLine: 16 << 10}
			var got lines
			for b := []byte(tc.in); len(b) > 0; {
				n := min(seg, len(b))
				r.Write(b[:n], &got)
				b = b[n:]
				if r.Buffered() > 16<<10 {
					t.Fatalf("%s: buffer %d > MaxLine", tc.name, r.Buffered())
				}
			}
			// The part of a line that fits is handed out as it came; only
			// what would overflow is squeezed: compare up to whitespace runs.
			garbage := strings.HasPrefix(tc.name, "a long garbage line") // that line, and only it, is oversized
			if len(got) != 1 || normal(got[0]) != normal(tc.want) || (r.Stats.Oversized == 1) != garbage {
				t.Errorf("%s (segments of %d): got %d lines %.80q", tc.name, seg, len(got), got)
			}
		}
	}
}

// normal collapses whitespace runs, for comparing lines as JSON sees them.
func normal(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestEndlessSpacesStayWithinMaxLine: a stream of nothing but whitespace
// never grows the buffer past MaxLine and is never "oversized" (the next
// real line would be lost with it).
func TestEndlessSpacesStayWithinMaxLine(t *testing.T) {
	r := jsonrpc.Reader{MaxLine: 4096}
	var got lines
	chunk := []byte(strings.Repeat(" \t\r", 500))
	for i := 0; i < 10_000; i++ { // 15 MB
		r.Write(chunk, &got)
		if r.Buffered() > 4096 {
			t.Fatalf("buffer %d > MaxLine", r.Buffered())
		}
	}
	r.Write([]byte(`{"id":1}`+"\n"), &got)
	if len(got) != 1 || got[0] != `{"id":1}` || r.Stats.Oversized != 0 || r.Stats.Squeezed < 14_990_000 {
		t.Errorf("lines %q, stats %+v", got, r.Stats)
	}
}

type nop struct{}

func (nop) Line([]byte) {}

func TestReadingAndParsingDoNotAllocate(t *testing.T) {
	chunk := []byte(`{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"eb2a","job_id":"QKGG","nonce":"ae000000","result":"55d0"}}` + "\n")
	var r jsonrpc.Reader
	var m jsonrpc.Message
	r.Write(chunk[:10], nop{}) // warm the partial-line buffer
	r.Write(chunk[10:], nop{})
	allocs := testing.AllocsPerRun(1000, func() {
		r.Write(chunk[:30], nop{})
		r.Write(chunk[30:], nop{})
		if m.Parse(chunk[:len(chunk)-1]) != nil || jsonrpc.Field(m.Params, "nonce") == nil {
			t.Fatal("parse failed")
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per line", allocs)
	}
}

type bodies []string

func (b *bodies) Body(info *jsonrpc.HTTPInfo, body []byte) { *b = append(*b, string(body)) }

func TestHTTPReaderFramesBodies(t *testing.T) {
	var r jsonrpc.HTTPReader
	var got bodies
	stream := "HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"b\r\n4\r\n\":2}\r\n0\r\n\r\n"
	for i := 0; i < len(stream); i += 5 {
		r.Write([]byte(stream[i:min(i+5, len(stream))]), &got)
	}
	if strings.Join(got, "|") != `{"a":1}|{"b":2}` {
		t.Errorf("got %q", got)
	}
}

func FuzzReader(f *testing.F) {
	f.Add([]byte("{\"id\":1}\n{\"method\":\"login\",\"params\":{}}\n"), uint8(7))
	f.Add([]byte(`{"params": ["a", 1.5e3, null, true], "id": "x"}`+"\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		r := jsonrpc.Reader{MaxLine: 64}
		var m jsonrpc.Message
		n := int(cut%16) + 1
		h := handler{m: &m}
		for i := 0; i < len(data); i += n {
			r.Write(data[i:min(i+n, len(data))], h)
			if i%3 == 0 {
				r.Gap()
			}
			if r.Buffered() > 512 {
				t.Fatalf("buffer %d", r.Buffered())
			}
		}
	})
}

type handler struct{ m *jsonrpc.Message }

func (h handler) Line(b []byte) {
	if len(b) > 64 {
		panic("line over MaxLine")
	}
	if h.m.Parse(b) == nil {
		jsonrpc.Field(h.m.Params, "login")
		jsonrpc.Len(h.m.Params)
		jsonrpc.Index(h.m.Result, 2)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"id":1,"result":[[["mining.notify","ae"],"08",4]],"error":null}`))
	f.Add([]byte(`{"a":{"b":[1,{"c":"d\"e"}]}}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		var m jsonrpc.Message
		if m.Parse(line) != nil {
			return
		}
		for _, v := range [][]byte{m.ID, m.Method, m.Params, m.Result, m.Error} {
			jsonrpc.Len(v)
			jsonrpc.Index(v, 1)
			jsonrpc.Field(v, "x")
			jsonrpc.Str(v)
		}
	})
}

func FuzzHTTPReader(f *testing.F) {
	f.Add([]byte("POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		r := jsonrpc.HTTPReader{MaxMessage: 256}
		var got bodies
		for i := 0; i < len(data); i += 7 {
			r.Write(data[i:min(i+7, len(data))], &got)
			if r.Pending() > 256 {
				t.Fatalf("pending %d", r.Pending())
			}
		}
	})
}

// BenchmarkReaderLines: XMRig-sized lines in 1400-byte chunks (bytes/s).
func BenchmarkReaderLines(b *testing.B) {
	line := `{"id":2,"jsonrpc":"2.0","method":"submit","params":{"id":"eb2a","job_id":"QKGG","nonce":"ae000000","result":"55d0"}}` + "\n"
	data := []byte(strings.Repeat(line, 64))
	var r jsonrpc.Reader
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		for off := 0; off < len(data); off += 1400 {
			r.Write(data[off:min(off+1400, len(data))], nop{})
		}
	}
}

// TestLooksLikeHTTPKnowsRequestAndStatusLines: the first bytes of a
// stream that start an HTTP/1.x request (POST, GET, PUT: what getwork
// and CONNECT-less proxies send) or a status line, and nothing else —
// not a prefix cut short, not a JSON line, not TLS.
func TestLooksLikeHTTPKnowsRequestAndStatusLines(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want bool
	}{
		{"POST / HTTP/1.1\r\n", true},
		{"POST ", true},
		{"GET /work HTTP/1.0\r\n", true},
		{"GET ", true},
		{"PUT /x HTTP/1.1\r\n", true},
		{"HTTP/1.1 200 OK\r\n", true},
		{"HTTP/1.", true},
		{"POST", false},
		{"GET", false},
		{"HTTP/1", false},
		{"HTTP/2.0 200", false},
		{"PATCH / HTTP/1.1", false},
		{"post / HTTP/1.1", false},
		{"GETX", false},
		{`{"id":1,"method":"login"}`, false},
		{"\x16\x03\x01\x02\x00", false},
		{"", false},
	} {
		if got := jsonrpc.LooksLikeHTTP([]byte(tc.in)); got != tc.want {
			t.Errorf("LooksLikeHTTP(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// infos records what an HTTPHandler is handed, copied.
type infos []string

func (s *infos) Body(info *jsonrpc.HTTPInfo, body []byte) {
	*s = append(*s, fmt.Sprintf("req=%v %q %q %d ua=%q host=%q mining=%v xs=%q body=%q",
		info.Request, info.Method, info.Target, info.Status, info.UserAgent, info.Host, info.Mining, info.XStratum, body))
}

// TestHTTPReaderReadsAlikeHoweverTheStreamIsCut: whole messages in a chunk
// are read where they are, partial and chunked ones from the reader's
// buffer; every cut of the stream must give the same messages, and the
// caller's bytes must come back unchanged (a chunked body is joined in
// place only in the reader's own buffer).
func TestHTTPReaderReadsAlikeHoweverTheStreamIsCut(t *testing.T) {
	stream := "POST /rpc HTTP/1.1\r\nUser-Agent: cgminer/4.10\r\nHost: pool:8332\r\nX-Mining-Extensions: midstate\r\nContent-Length: 7\r\n\r\n{\"a\":1}" +
		"HTTP/1.1 200 OK\r\nX-Stratum: stratum+tcp://pool:3333\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"b\r\n4\r\n\":2}\r\n0\r\n\r\n" +
		"GET\t /x\vHTTP/1.0\r\nContent-Length: 0\r\n\r\n" +
		"HTTP/1.1\u00a0404 Not Found\r\nContent-Length: 2\r\n\r\n{}" +
		"POST / HTTP/1.1\r\nContent-Length: 2\r\n\r\n[]"
	var want infos
	var whole jsonrpc.HTTPReader
	whole.Write([]byte(stream), &want)
	if len(want) != 5 || whole.Broken() {
		t.Fatalf("whole stream: %d messages, broken %v: %q", len(want), whole.Broken(), want)
	}
	for _, tc := range []struct {
		name string
		cuts func(n int) []int // chunk sizes
	}{
		{"every size", nil},
		{"message by message", func(int) []int { return []int{122, 105, 39, 48, 40} }},
		{"two messages and a half", func(int) []int { return []int{122 + 105 + 20, 300} }},
	} {
		sizes := [][]int{}
		if tc.cuts == nil {
			for n := 1; n <= len(stream); n++ {
				sizes = append(sizes, []int{n})
			}
		} else {
			sizes = append(sizes, tc.cuts(len(stream)))
		}
		for _, sz := range sizes {
			var r jsonrpc.HTTPReader
			var got infos
			for i, k := 0, 0; i < len(stream); k++ {
				n := min(sz[k%len(sz)], len(stream)-i)
				chunk := []byte(stream[i : i+n])
				r.Write(chunk, &got)
				if string(chunk) != stream[i:i+n] {
					t.Fatalf("%s %v: the reader changed the caller's bytes", tc.name, sz)
				}
				i += n
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s %v: got\n%q\nwant\n%q", tc.name, sz, got, want)
			}
		}
	}
}

// TestHTTPReaderReadsWholeMessagesWithoutAllocating: a getwork flow's
// messages arrive one per packet; reading them must not copy each.
func TestHTTPReaderReadsWholeMessagesWithoutAllocating(t *testing.T) {
	msg := []byte("POST / HTTP/1.1\r\nUser-Agent: cgminer/4.10\r\nContent-Length: 7\r\n\r\n{\"a\":1}")
	var h countBodies
	readers := make([]jsonrpc.HTTPReader, 1001) // AllocsPerRun's warm-up and runs
	next := 0
	allocs := testing.AllocsPerRun(1000, func() {
		r := &readers[next] // a new flow's: no buffer yet
		next++
		r.Write(msg, &h)
		if r.Pending() != 0 {
			t.Fatalf("%d bytes pending", r.Pending())
		}
	})
	if allocs != 0 {
		t.Errorf("%.1f allocations per message", allocs)
	}
	if h == 0 {
		t.Error("no body read")
	}
}

type countBodies int

func (c *countBodies) Body(*jsonrpc.HTTPInfo, []byte) { *c++ }

// TestHTTPReaderBuffersASplitMessageOnce: a message whose body comes in
// later segments is buffered in one buffer of its length, not regrown
// at each segment.
func TestHTTPReaderBuffersASplitMessageOnce(t *testing.T) {
	body := `{"id":1,"result":{"data":"` + strings.Repeat("0", 3000) + `"}}`
	msg := []byte("HTTP/1.1 200 OK\r\nContent-Length: " + fmt.Sprint(len(body)) + "\r\n\r\n" + body)
	readers := make([]jsonrpc.HTTPReader, 101)
	next := 0
	var h countBodies
	allocs := testing.AllocsPerRun(100, func() {
		r := &readers[next]
		next++
		for i := 0; i < len(msg); i += 1000 {
			r.Write(msg[i:min(i+1000, len(msg))], &h)
		}
	})
	if allocs != 1 {
		t.Errorf("%.1f allocations per split message, want 1", allocs)
	}
	if h != 101 {
		t.Errorf("%d bodies, want 101", h)
	}
}

// TestRecycledReadersReadLikeNewOnes: Recycle drops whatever the last
// stream left (a partial line or message, a skip, a broken stream) and
// gives the buffer away; the next stream reads as with a zero reader.
func TestRecycledReadersReadLikeNewOnes(t *testing.T) {
	var r jsonrpc.Reader
	r.Write([]byte("{\"id\":1,\"method\":\"partial"), nop{})
	r.Recycle(nil)
	var got lines
	r.Write([]byte("{\"id\":2}\n{\"id\":"), &got)
	r.Write([]byte("3}\n"), &got)
	if strings.Join(got, "|") != `{"id":2}|{"id":3}` || r.Stats != (jsonrpc.Stats{Lines: 2}) {
		t.Errorf("recycled line reader: %q, %+v", got, r.Stats)
	}

	var l lender
	r.Write([]byte("{\"id\":4,"), &l) // a partial line, in the buffer the last stream grew
	r.Recycle(&l)
	if r.Buffered() != 0 || len(l.free) != 1 {
		t.Errorf("recycled with a lender: %d bytes kept, %d buffers given back", r.Buffered(), len(l.free))
	}

	var hr jsonrpc.HTTPReader
	var hb bodies
	hr.Write([]byte("POST / HTTP/1.1\r\nContent-Length: 9\r\n\r\n{\"a\""), &hb)
	hr.Recycle(nil)
	hr.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"b\":2}"), &hb)
	if strings.Join(hb, "|") != `{"b":2}` || hr.Pending() != 0 || hr.Stats.Messages != 1 {
		t.Errorf("recycled HTTP reader: %q, %d pending, %+v", hb, hr.Pending(), hr.Stats)
	}
	hr.Write([]byte("garbage\r\n\r\n"), &hb)
	if !hr.Broken() {
		t.Fatal("a start line of one field should break the stream")
	}
	hr.Recycle(nil)
	hr.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), &hb)
	if hr.Broken() || strings.Join(hb, "|") != `{"b":2}|{}` {
		t.Errorf("recycled broken HTTP reader: broken %v, %q", hr.Broken(), hb)
	}
}

// lender lends buffers from one list to several readers, as a
// signature.Shared does, and spoils what it gets back.
type lender struct {
	free [][]byte
	lent int
	got  []string
}

func (l *lender) GetBuffer(n int) []byte {
	l.lent++
	for i, b := range l.free {
		if cap(b) >= n {
			l.free = append(l.free[:i], l.free[i+1:]...)
			return b[:0]
		}
	}
	return make([]byte, 0, n)
}

func (l *lender) PutBuffer(b []byte) {
	for i := range b[:cap(b)] { // a reader still using it would read garbage
		b[:cap(b)][i] = '#'
	}
	l.free = append(l.free, b)
}

func (l *lender) Line(b []byte) { l.got = append(l.got, string(b)) }

func (l *lender) Body(_ *jsonrpc.HTTPInfo, b []byte) { l.got = append(l.got, string(b)) }

// TestReadersGiveLentBuffersBackWhenALineCompletes: readers sharing one
// lender, fed interleaved and cut everywhere, read what readers with
// buffers of their own read, and hold no buffer between complete lines
// or messages.
func TestReadersGiveLentBuffersBackWhenALineCompletes(t *testing.T) {
	streams := [2]string{
		"{\"id\":1,\"method\":\"login\",\"params\":{\"login\":\"x\"}}\n  {\"id\":2}\r\n" + strings.Repeat(" ", 40) + "{\"a\":\"" + strings.Repeat(" ", 40) + "\"}\n",
		"{\"id\":1,\"result\":{\"job\":{\"blob\":\"" + strings.Repeat("ab", 300) + "\"}}}\n",
	}
	http := "POST / HTTP/1.1\r\nContent-Length: 7\r\n\r\n{\"a\":1}" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n{\"b\r\n4\r\n\":2}\r\n0\r\n\r\n"
	for n := 1; n <= 64; n++ {
		var own [2]lines
		var ownHTTP bodies
		var l lender
		var rs, ownRs [2]jsonrpc.Reader
		for d, max := range [2]int{100, 1000} { // 100: the padding is squeezed
			rs[d].MaxLine, ownRs[d].MaxLine = max, max
		}
		var hr, ownHR jsonrpc.HTTPReader
		for i := 0; i < 700; i += n {
			for d := range rs {
				if i < len(streams[d]) {
					c := streams[d][i:min(i+n, len(streams[d]))]
					rs[d].Write([]byte(c), &l)
					ownRs[d].Write([]byte(c), &own[d])
				}
			}
			if i < len(http) {
				c := http[i:min(i+n, len(http))]
				hr.Write([]byte(c), &l)
				ownHR.Write([]byte(c), &ownHTTP)
			}
		}
		want := len(own[0]) + len(own[1]) + len(ownHTTP)
		if len(l.got) != want || len(own[0]) != 3 || len(own[1]) != 1 || len(ownHTTP) != 2 {
			t.Fatalf("cut %d: lent %d lines and bodies, own %d (%d+%d+%d)", n, len(l.got), want, len(own[0]), len(own[1]), len(ownHTTP))
		}
		all := strings.Join(l.got, "|")
		for _, s := range append(append(own[0], own[1]...), ownHTTP...) {
			if !strings.Contains(all, s) {
				t.Errorf("cut %d: %q not read with lent buffers", n, s)
			}
		}
		for d := range rs {
			if b := rs[d].Buffered(); b != 0 {
				t.Errorf("cut %d: reader %d holds a %d-byte buffer after complete lines", n, d, b)
			}
		}
		if l.lent == 0 {
			t.Errorf("cut %d: no buffer lent", n)
		}
	}
}

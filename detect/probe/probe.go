package probe

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
	"github.com/minerwatch/minerwatch/detect/stratum"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Verdicts.
const (
	VerdictPool    = "pool"     // a dialect's login was answered as a pool answers it
	VerdictNotPool = "not-pool" // the server answered, but not as a pool (or stayed silent)
	VerdictError   = "error"    // the endpoint could not be reached (refused, unreachable)
)

// Answers of a not-pool verdict: what the server did instead.
const (
	AnswerHTTP     = "http"      // an HTTP response (status line in Detail)
	AnswerSSH      = "ssh"       // an SSH banner (in Detail)
	AnswerTLSAlert = "tls-alert" // a TLS alert (in Detail), or a TLS record on a plain connection
	AnswerTLSFail  = "tls-error" // the TLS handshake failed otherwise (not TLS, bad record)
	AnswerJSON     = "json"      // JSON that is not a pool's reply (e.g. an error object)
	AnswerOther    = "other"     // other bytes (an excerpt in Detail)
	AnswerClosed   = "closed"    // the server closed the connection without a byte
	AnswerSilence  = "silence"   // no byte until the timeout
)

// Target is what a flow revealed about its server.
type Target struct {
	Addr netip.AddrPort
	TLS  bool
	SNI  string // sent as the TLS server name when set
}

func (t Target) String() string { return t.Addr.String() }

// Config tunes a probe. The zero value is usable.
type Config struct {
	// Timeout bounds the whole probe, every dialect included (default 5s).
	Timeout time.Duration
	// Agent is sent as the miner agent (default DefaultAgent).
	Agent string
	// Dialects to try, in order (default: all, DialectNames order).
	Dialects []string
	// Dial opens the TCP connection (default: a net.Dialer). Tests use it
	// to dial from inside a network namespace.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	if c.Agent == "" {
		c.Agent = DefaultAgent
	}
	if len(c.Dialects) == 0 {
		c.Dialects = DialectNames()
	}
	if c.Dial == nil {
		var d net.Dialer
		c.Dial = d.DialContext
	}
	return c
}

// CheckDialects reports an unknown dialect name.
func CheckDialects(names []string) error {
	for _, n := range names {
		if _, ok := findDialect(n); !ok {
			return fmt.Errorf("unknown dialect %q (known: %s)", n, strings.Join(DialectNames(), ", "))
		}
	}
	return nil
}

// Cert describes the server's TLS certificate and session.
type Cert struct {
	Version     string    `json:"version"`
	CipherSuite string    `json:"cipher_suite"`
	Subject     string    `json:"subject"`
	Issuer      string    `json:"issuer"`
	DNSNames    []string  `json:"dns_names,omitempty"`
	NotBefore   time.Time `json:"not_before"`
	NotAfter    time.Time `json:"not_after"`
	SelfSigned  bool      `json:"self_signed"`
	// Fingerprint is the SHA-256 of the leaf certificate (DER), hex.
	Fingerprint string `json:"fingerprint_sha256"`
}

// Attempt is one dialect's connection and what came of it.
type Attempt struct {
	Dialect string `json:"dialect"`
	Answer  string `json:"answer"` // "pool" or one of the Answer values; "error" when it could not connect
	Detail  string `json:"detail,omitempty"`
	Ms      int64  `json:"ms"`
}

// Result is the probe's verdict: one JSON object.
type Result struct {
	Target  string `json:"target"`
	TLS     bool   `json:"tls"`
	SNI     string `json:"sni,omitempty"`
	Verdict string `json:"verdict"`
	// pool
	Dialect     string   `json:"dialect,omitempty"`
	StatePath   []string `json:"state_path,omitempty"`
	Algorithms  []string `json:"algorithms,omitempty"`
	Difficulty  float64  `json:"difficulty,omitempty"`
	ShareTarget string   `json:"share_target,omitempty"`
	Extensions  []string `json:"extensions,omitempty"`
	// not-pool
	Answer string `json:"answer,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Note explains what a not-pool answer cannot rule out.
	Note string `json:"note,omitempty"`
	// error
	Error string `json:"error,omitempty"`

	Cert     *Cert     `json:"tls_certificate,omitempty"`
	Attempts []Attempt `json:"attempts"`
	Agent    string    `json:"agent"`
	Started  time.Time `json:"started"`
	Ms       int64     `json:"ms"`
	// SharesSubmitted is always 0: the probe never submits a share.
	SharesSubmitted int `json:"shares_submitted"`
}

// Notes of not-pool answers.
const (
	noteProxy = "no answer in any dialect: a dead or firewalled service, a TLS port probed without --tls, or an encrypted proxy (shadowsocks and the like answer strangers with nothing); a proxy cannot be confirmed by a probe"
	noteSSH   = "an SSH server: it can carry a miner through a tunnel (ssh -D), which a probe cannot see; not confirmed"
)

// Probe asks the target to speak each dialect until one answers as a pool.
// It never returns an error: failures are the "error" verdict.
func Probe(ctx context.Context, t Target, cfg Config) Result {
	cfg = cfg.withDefaults()
	start := time.Now()
	r := Result{Target: t.String(), TLS: t.TLS, SNI: t.SNI, Agent: cfg.Agent, Started: start.UTC(), Attempts: []Attempt{}}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	var last attempt
	for i, name := range cfg.Dialects {
		d, ok := findDialect(name)
		if !ok {
			continue
		}
		// Each remaining dialect gets an equal share of the time left, so
		// a silent server cannot spend the whole budget on the first.
		share := time.Until(deadline) / time.Duration(len(cfg.Dialects)-i)
		a := try(ctx, t, d, cfg, share)
		r.Attempts = append(r.Attempts, Attempt{Dialect: d.name, Answer: a.answer, Detail: a.detail, Ms: a.ms})
		if a.cert != nil && r.Cert == nil {
			r.Cert = a.cert
		}
		last = a
		if a.answer == VerdictPool {
			r.Verdict = VerdictPool
			r.Dialect = a.machine.Dialect()
			r.StatePath = a.machine.States()
			r.Algorithms = a.machine.Meta.Algorithms
			r.Difficulty = a.machine.Meta.Difficulty
			r.ShareTarget = a.machine.Meta.Target
			r.Extensions = a.extensions
			break
		}
		if a.final || ctx.Err() != nil {
			break // the server speaks something else: no pool dialect will change that
		}
	}
	if r.Verdict == "" {
		r.Verdict, r.Answer, r.Detail = VerdictNotPool, last.answer, last.detail
		switch {
		case last.answer == VerdictError:
			r.Verdict, r.Answer, r.Error = VerdictError, "", last.detail
			r.Detail = ""
		case last.answer == AnswerSilence || last.answer == AnswerClosed:
			if a, ok := firstJSON(r.Attempts); ok {
				// A dialect got JSON back (an error): more telling than
				// the silence of the others.
				r.Answer, r.Detail = a.Answer, a.Detail
				break
			}
			r.Answer = mostTelling(r.Attempts)
			r.Note = noteProxy
		case last.answer == AnswerSSH:
			r.Note = noteSSH
		}
	}
	r.Ms = time.Since(start).Milliseconds()
	return r
}

func firstJSON(as []Attempt) (Attempt, bool) {
	for _, a := range as {
		if a.Answer == AnswerJSON {
			return a, true
		}
	}
	return Attempt{}, false
}

// mostTelling summarises silent/closed attempts: "silence" if any stayed
// silent (the server read and said nothing), else "closed".
func mostTelling(as []Attempt) string {
	for _, a := range as {
		if a.Answer == AnswerSilence {
			return AnswerSilence
		}
	}
	return AnswerClosed
}

// attempt is the outcome of one dialect's connection.
type attempt struct {
	answer     string // VerdictPool, VerdictError or an Answer
	detail     string
	final      bool // the answer rules out every dialect (HTTP, SSH, TLS alert, …)
	machine    *stratum.Machine
	extensions []string
	cert       *Cert
	ms         int64
}

// maxRead bounds what one attempt reads: a pool's login reply with a job
// is well under 4 KiB.
const maxRead = 64 << 10

// linger is how long a pool verdict waits for the work that follows a
// subscribe/login reply (difficulty, target, job), for the details.
const linger = 500 * time.Millisecond

func try(ctx context.Context, t Target, d dialect, cfg Config, share time.Duration) (a attempt) {
	start := time.Now()
	defer func() { a.ms = time.Since(start).Milliseconds() }()
	actx, cancel := context.WithTimeout(ctx, share)
	defer cancel()
	raw, err := cfg.Dial(actx, "tcp", t.Addr.String())
	if err != nil {
		return attempt{answer: VerdictError, detail: dialError(err), final: true}
	}
	defer raw.Close()
	deadline, _ := actx.Deadline()
	raw.SetDeadline(deadline)
	rec := &recorder{Conn: raw}
	var conn net.Conn = rec
	if t.TLS {
		tc := tls.Client(rec, &tls.Config{
			InsecureSkipVerify: true, // we ask what the server is, not whether to trust it
			ServerName:         t.SNI,
			MinVersion:         tls.VersionTLS10,
		})
		if err := tc.HandshakeContext(actx); err != nil {
			return tlsFailure(err, rec)
		}
		a.cert = certOf(tc.ConnectionState())
		conn = tc
	}
	host := t.SNI
	if host == "" {
		host = t.Addr.Addr().String()
	}
	reqs, err := encodeLines(d.lines(cfg.Agent, host, t.Addr.Port()))
	if err != nil {
		return attempt{answer: VerdictError, detail: err.Error(), final: true}
	}
	m := &stratum.Machine{}
	nreq := feedOwn(m, reqs, time.Now())
	// The algorithms the machine took from our own login are what we
	// offered, not what the pool mines: keep only what the pool says (a
	// CryptoNote job's "algo").
	m.Meta.Algorithms = nil
	if _, err := conn.Write(reqs); err != nil {
		a.answer, a.detail = AnswerClosed, "write: "+err.Error()
		return a
	}
	j := judge{m: m}
	var rd jsonrpc.Reader
	buf := make([]byte, 4096)
	var got []byte // the first bytes, to say what a non-pool answered
	total := 0
	var poolAt time.Time
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			total += n
			if len(got) < 512 {
				got = append(got, buf[:min(n, 512-len(got))]...)
			}
			rd.Write(buf[:n], &j)
		}
		if poolAt.IsZero() && answered(m) {
			poolAt = time.Now()
			// Wait a little for the work that follows, unless it is here.
			conn.SetReadDeadline(minTime(deadline, poolAt.Add(linger)))
		}
		if !poolAt.IsZero() && m.State() == stratum.StateJob {
			break
		}
		if poolAt.IsZero() && len(got) >= 4 {
			// Another protocol's first bytes (an HTTP status line, an SSH
			// banner, a TLS record) need no more reading, whether or not
			// the server keeps the connection open.
			if answer, _, final := classify(got); final && answer != AnswerOther {
				return a.notPool(got, err, t.TLS)
			}
		}
		if poolAt.IsZero() && j.replies >= nreq {
			// Every request was answered, none as a pool answers it (JSON-RPC
			// errors): this dialect is done.
			return a.notPool(got, err, t.TLS)
		}
		if err != nil || total >= maxRead {
			if poolAt.IsZero() {
				return a.notPool(got, err, t.TLS)
			}
			break
		}
	}
	a.answer, a.machine, a.extensions = VerdictPool, m, j.extensions
	return a
}

// notPool says what the server answered instead of a pool's reply.
func (a attempt) notPool(got []byte, err error, overTLS bool) attempt {
	if len(got) == 0 {
		if isTimeout(err) {
			a.answer = AnswerSilence
		} else {
			a.answer, a.detail = AnswerClosed, closeDetail(err)
		}
		return a
	}
	a.answer, a.detail, a.final = classify(got)
	if a.answer == AnswerTLSAlert && overTLS {
		a.answer = AnswerOther
	}
	return a
}

func closeDetail(err error) string {
	if err == nil || errors.Is(err, io.EOF) {
		return ""
	}
	return err.Error()
}

// classify names a non-pool answer from its first bytes. final: the
// answer is another protocol, so no other mining dialect needs asking.
func classify(b []byte) (answer, detail string, final bool) {
	line := firstLine(b)
	switch {
	case bytes.HasPrefix(b, []byte("HTTP/")):
		return AnswerHTTP, line, true
	case bytes.HasPrefix(b, []byte("SSH-")):
		return AnswerSSH, line, true
	case len(b) >= 5 && b[0] == 0x15 && b[1] == 3:
		return AnswerTLSAlert, "TLS alert record on a plain connection (the port speaks TLS: probe with --tls)", true
	case len(b) >= 5 && b[0] == 0x16 && b[1] == 3:
		return AnswerTLSAlert, "TLS handshake record on a plain connection (the port speaks TLS: probe with --tls)", true
	case len(bytes.TrimSpace(b)) > 0 && bytes.TrimSpace(b)[0] == '{':
		// JSON, but not a valid reply in this dialect (an error object,
		// another protocol's JSON): another dialect may still answer.
		return AnswerJSON, line, false
	}
	return AnswerOther, printable(b, 64), true
}

func firstLine(b []byte) string {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	return printable(b, 200)
}

// printable keeps up to n bytes, escaping what is not printable ASCII.
func printable(b []byte, n int) string {
	if len(b) > n {
		b = b[:n]
	}
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			fmt.Fprintf(&sb, "\\x%02x", c)
		}
	}
	return sb.String()
}

// feedOwn gives the machine our own requests as the client's side; it
// returns their number.
func feedOwn(m *stratum.Machine, reqs []byte, ts time.Time) int {
	var msg jsonrpc.Message
	n := 0
	for _, line := range bytes.Split(bytes.TrimSpace(reqs), []byte{'\n'}) {
		if msg.Parse(line) == nil {
			m.Feed(packet.Up, &msg, ts)
			n++
		}
	}
	return n
}

// answered reports whether the server answered as a pool: the machine's
// mining verdict with a reply matched to our request, and a positive
// state reached (a login/subscribe/hello accepted, or work). A rejected
// login is mining vocabulary too, but a probe wants the pool to accept.
func answered(m *stratum.Machine) bool {
	if v := m.Verdict(); !v.Mining || v.Confidence < stratum.ConfidenceConfirmed {
		return false
	}
	for _, s := range m.States() {
		if s == stratum.StateAuthorized.String() || s == stratum.StateJob.String() {
			return true
		}
	}
	return false
}

// judge feeds the server's lines to the machine and notes the extensions
// a pool advertises.
type judge struct {
	m          *stratum.Machine
	replies    int // responses (not pushes) received
	msg        jsonrpc.Message
	extensions []string
}

func (j *judge) Line(line []byte) {
	if j.msg.Parse(line) != nil {
		return
	}
	if j.msg.IsResponse() {
		j.replies++
	}
	before := j.m.Mining()
	j.m.Feed(packet.Down, &j.msg, time.Now())
	if !before || len(j.extensions) == 0 {
		j.extensions = appendExtensions(j.extensions, &j.msg)
	}
}

// appendExtensions collects what a pool advertises: CryptoNote's
// "extensions" list in the login reply, Stratum v1's subscriptions
// (mining.set_difficulty, mining.notify, …) and EthereumStratum/2's hello
// reply fields (encoding, resume, …).
func appendExtensions(out []string, msg *jsonrpc.Message) []string {
	r := msg.Result
	if len(r) == 0 {
		return out
	}
	add := func(s []byte) {
		if len(s) > 0 && len(out) < 32 {
			out = append(out, string(s))
		}
	}
	switch jsonrpc.Kind(r) {
	case '{':
		if ext := jsonrpc.Field(r, "extensions"); jsonrpc.Len(ext) > 0 {
			for i := 0; i < jsonrpc.Len(ext); i++ {
				s, _ := jsonrpc.Str(jsonrpc.Index(ext, i))
				add(s)
			}
		} else if jsonrpc.Field(r, "proto") != nil {
			for _, k := range []string{"encoding", "resume", "timeout", "maxerrors", "node"} {
				if jsonrpc.Field(r, k) != nil {
					add([]byte(k))
				}
			}
		}
	case '[':
		subs := jsonrpc.Index(r, 0)
		for i := 0; i < jsonrpc.Len(subs); i++ {
			s, _ := jsonrpc.Str(jsonrpc.Index(jsonrpc.Index(subs, i), 0))
			add(s)
		}
	}
	return out
}

func tlsFailure(err error, rec *recorder) attempt {
	var alert tls.AlertError
	var rerr tls.RecordHeaderError
	switch {
	case errors.As(err, &alert):
		return attempt{answer: AnswerTLSAlert, detail: err.Error(), final: true}
	case strings.Contains(err.Error(), "remote error: tls: "):
		// crypto/tls reports a server's alert as an OpError "remote error"
		// around an unexported alert type: its text is all there is.
		_, name, _ := strings.Cut(err.Error(), "remote error: tls: ")
		return attempt{answer: AnswerTLSAlert, detail: "alert: " + name, final: true}
	case errors.As(err, &rerr):
		// Not TLS: say what it is (an SSH banner, an HTTP error, …).
		a := attempt{}
		a.answer, a.detail, a.final = classify(rec.first)
		if a.answer == AnswerJSON {
			a.answer, a.final = AnswerTLSFail, true // JSON on a port asked for TLS: a plain port
			a.detail = "not TLS: " + a.detail
		}
		return a
	case len(rec.first) == 0 && isTimeout(err):
		return attempt{answer: AnswerSilence}
	case len(rec.first) == 0:
		return attempt{answer: AnswerClosed, detail: "during the TLS handshake: " + closeDetail(err)}
	}
	return attempt{answer: AnswerTLSFail, detail: err.Error(), final: true}
}

func certOf(cs tls.ConnectionState) *Cert {
	c := &Cert{Version: tls.VersionName(cs.Version), CipherSuite: tls.CipherSuiteName(cs.CipherSuite)}
	if len(cs.PeerCertificates) == 0 {
		return c
	}
	leaf := cs.PeerCertificates[0]
	sum := sha256.Sum256(leaf.Raw)
	c.Subject, c.Issuer = leaf.Subject.String(), leaf.Issuer.String()
	c.DNSNames = leaf.DNSNames
	c.NotBefore, c.NotAfter = leaf.NotBefore.UTC(), leaf.NotAfter.UTC()
	c.SelfSigned = bytes.Equal(leaf.RawIssuer, leaf.RawSubject)
	c.Fingerprint = hex.EncodeToString(sum[:])
	return c
}

// recorder keeps the first bytes read, to classify a failed handshake.
type recorder struct {
	net.Conn
	first []byte
}

func (r *recorder) Read(b []byte) (int, error) {
	n, err := r.Conn.Read(b)
	if n > 0 && len(r.first) < 512 {
		r.first = append(r.first, b[:min(n, 512-len(r.first))]...)
	}
	return n, err
}

func dialError(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "unreachable: " + err.Error()
	case isTimeout(err):
		return "connect timed out (filtered?)"
	}
	return err.Error()
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &ne) && ne.Timeout()
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

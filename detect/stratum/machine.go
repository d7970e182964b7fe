package stratum

import (
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
	"github.com/minerwatch/minerwatch/features/packet"
)

// Kind is what a client request was, as recognised by a dialect; it is
// remembered with the request id so the server's reply can be judged.
type Kind uint8

const (
	KindNone Kind = iota
	KindLogin
	KindSubscribe
	KindAuthorize
	KindSubmit
	KindKeepalive
	KindGetWork
	KindHashrate
	KindHello
	KindOther // other mining-only client vocabulary (mining.configure, …)
)

// State is a step of the conversation; the path of states reached is the
// verdict's reason.
type State uint8

const (
	StateNone       State = iota
	StateHello            // login / subscribe / hello / SetupConnection sent
	StateAuthorized       // the server accepted the login/subscribe/authorize
	StateJob              // the server sent work
	StateSubmitted        // the client submitted a share
	StateAccepted         // the server accepted a share
	StateKeepalive        // keepalive answered
	numStates
)

var stateNames = [numStates]string{"", "hello", "authorized", "job", "submit", "accepted", "keepalive"}

func (s State) String() string { return stateNames[s] }

// Confidence levels of a verdict.
const (
	// ConfidenceConfirmed: a mining request from the client answered, by
	// id (or HTTP order), with a structurally valid mining reply.
	ConfidenceConfirmed = 0.99
	// ConfidenceBothSides: mining vocabulary in valid messages from both
	// sides, but no reply matched to a request (e.g. only pushes + requests).
	ConfidenceBothSides = 0.95
	// ConfidenceNoise: the Stratum V2 Noise handshake sizes (64 B up,
	// 234 B down) and nothing else: encrypted, unconfirmed.
	ConfidenceNoise = 0.8
)

// Verdict is the machine's conclusion so far.
type Verdict struct {
	Mining     bool
	Confidence float64
	Dialect    string
	Reason     string    // dialect and state path, human readable
	At         time.Time // packet time when the verdict was reached
}

type pending struct {
	id      [24]byte
	idLen   uint8
	kind    Kind
	dialect *dialect
	used    bool
}

// Machine follows one flow's conversation. The zero value is ready.
type Machine struct {
	// PairByOrder makes a reply answer the oldest pending request whatever
	// its id (HTTP: getwork pools reply with unrelated ids).
	PairByOrder bool
	// MayBeSwapped says the flow's roles are a guess (no SYN seen): if the
	// "client" speaks server vocabulary first, the machine swaps them.
	MayBeSwapped bool

	Meta Meta

	dialect   *dialect
	dialectNm string // refined name (e.g. ethereumstratum/1.0.0)
	client    bool   // a valid mining request from the client
	server    bool   // a valid mining push or reply from the server
	matched   bool   // a reply matched a pending mining request
	reached   [numStates]bool
	path      [numStates]State
	npath     int
	pend      [8]pending
	pendNext  int
	verdict   Verdict
	attempt   bool
	swapped   bool
	roleFixed bool
	messages  int64
	mining    int64 // messages recognised as mining vocabulary
}

// Messages returns the number of JSON-RPC messages fed and how many of them
// were mining vocabulary.
func (m *Machine) Messages() (all, mining int64) { return m.messages, m.mining }

// Feed advances the machine with one parsed message from direction dir.
func (m *Machine) Feed(dir packet.Direction, msg *jsonrpc.Message, ts time.Time) {
	m.messages++
	m.Meta.touch(ts)
	if m.swapped {
		dir = 1 - dir
	}
	ok := m.feed(dir, msg, ts)
	switch {
	case ok:
		m.roleFixed = true
	case m.MayBeSwapped && !m.roleFixed && m.feed(1-dir, msg, ts):
		// A capture that began mid-session: the first sender was the server.
		m.swapped, m.roleFixed = true, true
	}
	if ok || m.swapped {
		m.decide(ts)
	}
}

// Swapped reports whether the machine found the flow's roles inverted
// (MayBeSwapped was set and the "client" spoke server vocabulary).
func (m *Machine) Swapped() bool { return m.swapped }

func (m *Machine) feed(dir packet.Direction, msg *jsonrpc.Message, ts time.Time) bool {
	switch {
	case dir == packet.Up && msg.IsRequest():
		for _, d := range m.order() {
			if k := d.request(m, msg, ts); k != KindNone {
				m.mining++
				m.use(d)
				m.client = true
				if k != KindOther {
					m.attempt = true
				}
				m.remember(msg.ID, k, d)
				return true
			}
		}
	case dir == packet.Down && msg.IsRequest():
		for _, d := range m.order() {
			if d.push != nil && d.push(m, msg, ts) {
				m.mining++
				m.use(d)
				m.server = true
				return true
			}
		}
	case dir == packet.Down && msg.IsResponse():
		if p := m.take(msg.ID); p != nil {
			if p.dialect.response(m, p.kind, msg, ts) {
				m.mining++
				m.server, m.matched = true, true
				return true
			}
		}
		for _, d := range m.order() {
			if d.unsolicited != nil && d.unsolicited(m, msg, ts) {
				m.mining++
				m.use(d)
				m.server = true
				return true
			}
		}
		if m.client && stratumError(msg.Error) {
			// A Stratum server's error triple [code, "message", traceback]
			// in answer to a mining request (e.g. a getblocktemplate POST
			// sent to a Stratum port): the server speaks Stratum.
			m.mining++
			m.server = true
			return true
		}
	}
	return false
}

// stratumError reports whether v is a Stratum v1 error triple [int, "msg", …].
func stratumError(v []byte) bool {
	return jsonrpc.Len(v) >= 2 && isNumber(jsonrpc.Index(v, 0)) && jsonrpc.Kind(jsonrpc.Index(v, 1)) == '"'
}

// ServerRedirect records an HTTP X-Stratum header in reply to a mining
// request: the server is a Stratum pool pointing the client at its port.
func (m *Machine) ServerRedirect(url string, ts time.Time) {
	if !m.client {
		return
	}
	m.mining++
	m.server = true
	if m.Meta.PoolHost == "" {
		m.Meta.PoolHost = url
	}
	m.decide(ts)
}

// Attempt reports whether the client sent a structurally valid mining
// request (login, subscribe, authorize, submit, getwork, hello…), whether
// or not any server answered it. It is not a verdict: a lone request can
// be a probe or a dead pool; see the package rules.
func (m *Machine) Attempt() bool { return m.attempt }

// order returns the dialects, the flow's current one first.
func (m *Machine) order() []*dialect {
	if m.dialect == nil || m.dialect == dialects[0] {
		return dialects[:]
	}
	var o [len(dialects)]*dialect
	o[0] = m.dialect
	n := 1
	for _, d := range dialects {
		if d != m.dialect {
			o[n] = d
			n++
		}
	}
	return o[:] // escapes only on the rare dialect switch path
}

func (m *Machine) use(d *dialect) {
	if m.dialect == nil {
		m.dialect = d
		m.dialectNm = d.name
	}
}

// refine renames the dialect (e.g. Stratum v1 → EthereumStratum/1.0.0).
func (m *Machine) refine(name string) { m.dialectNm = name }

func (m *Machine) remember(id []byte, k Kind, d *dialect) {
	if !m.PairByOrder && (jsonrpc.IsNull(id) || len(id) > 24) {
		return
	}
	p := &m.pend[m.pendNext%len(m.pend)]
	m.pendNext++
	*p = pending{kind: k, dialect: d, used: true}
	p.idLen = uint8(copy(p.id[:], id))
}

func (m *Machine) take(id []byte) *pending {
	if m.PairByOrder {
		// Oldest first: the ring slot after the newest.
		for i := 0; i < len(m.pend); i++ {
			p := &m.pend[(m.pendNext+i)%len(m.pend)]
			if p.used {
				p.used = false
				return p
			}
		}
		return nil
	}
	for i := 1; i <= len(m.pend); i++ {
		p := &m.pend[(m.pendNext-i+len(m.pend)*2)%len(m.pend)]
		if p.used && string(p.id[:p.idLen]) == string(id) {
			p.used = false
			return p
		}
	}
	return nil
}

// reach records a state of the conversation.
func (m *Machine) reach(s State) {
	if m.reached[s] {
		return
	}
	m.reached[s] = true
	m.path[m.npath] = s
	m.npath++
}

// Path returns the states reached, in order, joined by " → ".
func (m *Machine) Path() string {
	var b strings.Builder
	for i := 0; i < m.npath; i++ {
		if i > 0 {
			b.WriteString(" → ")
		}
		b.WriteString(m.path[i].String())
	}
	return b.String()
}

// States returns the names of the states reached, in order.
func (m *Machine) States() []string {
	out := make([]string, m.npath)
	for i := range out {
		out[i] = m.path[i].String()
	}
	return out
}

// State returns the last state reached.
func (m *Machine) State() State {
	if m.npath == 0 {
		return StateNone
	}
	return m.path[m.npath-1]
}

// Dialect returns the flow's dialect name ("" until a mining message is seen).
func (m *Machine) Dialect() string { return m.dialectNm }

func (m *Machine) decide(ts time.Time) {
	if m.verdict.Mining && m.verdict.Confidence >= ConfidenceConfirmed {
		return
	}
	if !m.client || !m.server {
		return
	}
	c := ConfidenceBothSides
	if m.matched {
		c = ConfidenceConfirmed
	}
	if m.verdict.Mining && c <= m.verdict.Confidence {
		return
	}
	m.verdict = Verdict{Mining: true, Confidence: c, Dialect: m.dialectNm, At: ts}
}

// Mining reports cheaply whether the machine has reached a mining verdict.
func (m *Machine) Mining() bool { return m.verdict.Mining }

// Verdict returns the verdict so far, with an up-to-date reason.
func (m *Machine) Verdict() Verdict {
	v := m.verdict
	if !v.Mining && m.attempt {
		// An attempt is not a verdict, but the dialect of its requests
		// tells analysts which rule it is (alert signature ids).
		v.Dialect = m.dialectNm
	}
	if v.Mining {
		v.Dialect = m.dialectNm
		v.Reason = m.dialectNm + ": " + m.Path()
		if m.swapped {
			v.Reason += " (capture began mid-session; roles swapped)"
		}
	}
	return v
}

// NoiseHandshake records a Stratum V2 Noise handshake seen by its sizes
// (64 bytes from the client, then exactly 234 from the server).
func (m *Machine) NoiseHandshake(ts time.Time) {
	if m.verdict.Mining {
		return
	}
	m.dialectNm = DialectSV2Noise
	m.reach(StateHello)
	m.reach(StateAuthorized)
	m.verdict = Verdict{Mining: true, Confidence: ConfidenceNoise, Dialect: DialectSV2Noise, At: ts}
}

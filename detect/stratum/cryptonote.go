package stratum

import (
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// cryptoNote is the Monero-family dialect of XMRig, xmr-stak, xmrig-proxy
// and Coinhive relays: login / job / submit / keepalived / getjob with
// object params.
//
//	→ {"id":1,"jsonrpc":"2.0","method":"login","params":{"login":W,"pass":P,"agent":A,"rigid":R,"algo":[…]}}
//	← {"id":1,"jsonrpc":"2.0","error":null,"result":{"id":S,"job":{"blob","job_id","target",…},"status":"OK"}}
//	← {"jsonrpc":"2.0","method":"job","params":{"blob","job_id","target","algo","height","seed_hash"}}
//	→ {"id":N,"jsonrpc":"2.0","method":"submit","params":{"id":S,"job_id","nonce","result"}} ← {"result":{"status":"OK"}}
//	→ {"method":"keepalived","params":{"id":S}} ← {"result":{"status":"KEEPALIVED"}}
var cryptoNote = dialect{
	name: DialectCryptoNote,
	request: func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind {
		p := msg.Params
		if jsonrpc.Kind(p) != '{' {
			return KindNone
		}
		switch string(msg.Method) {
		case "login":
			login := str(jsonrpc.Field(p, "login"))
			if login == nil {
				return KindNone
			}
			m.Meta.setLogin(login)
			m.Meta.setAgent(str(jsonrpc.Field(p, "agent")))
			if r := str(jsonrpc.Field(p, "rigid")); len(r) > 0 {
				m.Meta.Worker = string(r)
			}
			m.setAlgos(jsonrpc.Field(p, "algo"))
			m.reach(StateHello)
			return KindLogin
		case "submit":
			if str(jsonrpc.Field(p, "job_id")) == nil || !isHex(str(jsonrpc.Field(p, "nonce"))) ||
				!isHex(str(jsonrpc.Field(p, "result"))) {
				return KindNone
			}
			m.Meta.Submitted++
			m.reach(StateSubmitted)
			return KindSubmit
		case "keepalived":
			if jsonrpc.Field(p, "id") == nil {
				return KindNone
			}
			return KindKeepalive
		case "getjob":
			if jsonrpc.Field(p, "id") == nil {
				return KindNone
			}
			return KindGetWork
		}
		return KindNone
	},
	push: func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool {
		return string(msg.Method) == "job" && m.cryptoNoteJob(msg.Params)
	},
	response: func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool {
		r := msg.Result
		switch k {
		case KindLogin:
			if jsonrpc.Kind(r) != '{' {
				return false
			}
			job := jsonrpc.Field(r, "job")
			if !m.cryptoNoteJob(job) && string(str(jsonrpc.Field(r, "status"))) != "OK" {
				return false
			}
			m.reach(StateAuthorized)
			if job != nil {
				// Re-order: authorized comes before job in the path.
				m.fixLoginPath()
			}
			return true
		case KindSubmit:
			if string(str(jsonrpc.Field(r, "status"))) == "OK" {
				m.Meta.accept(ts)
				m.reach(StateAccepted)
				return true
			}
			if rejected(msg) {
				m.Meta.Rejected++
				return true
			}
		case KindKeepalive:
			if string(str(jsonrpc.Field(r, "status"))) == "KEEPALIVED" {
				m.reach(StateKeepalive)
				return true
			}
		case KindGetWork:
			return m.cryptoNoteJob(r)
		}
		return false
	},
}

// cryptoNoteJob checks a job object (blob, job_id, target hex) and records it.
func (m *Machine) cryptoNoteJob(job []byte) bool {
	if jsonrpc.Kind(job) != '{' {
		return false
	}
	target := str(jsonrpc.Field(job, "target"))
	if !isHex(str(jsonrpc.Field(job, "blob"))) || str(jsonrpc.Field(job, "job_id")) == nil || !isHex(target) {
		return false
	}
	m.Meta.hashesPerDiff = 1
	m.Meta.setTargetLE(target)
	if a := str(jsonrpc.Field(job, "algo")); len(a) > 0 && len(m.Meta.Algorithms) == 0 {
		m.Meta.Algorithms = append(m.Meta.Algorithms, string(a))
	}
	m.Meta.Jobs++
	m.reach(StateJob)
	return true
}

// fixLoginPath puts "authorized" before "job" when both came in one login reply.
func (m *Machine) fixLoginPath() {
	for i := 0; i+1 < m.npath; i++ {
		if m.path[i] == StateJob && m.path[i+1] == StateAuthorized {
			m.path[i], m.path[i+1] = StateAuthorized, StateJob
		}
	}
}

// setAlgos records a login's algorithm list (configured one first).
func (m *Machine) setAlgos(v []byte) {
	n := jsonrpc.Len(v)
	if n <= 0 || len(m.Meta.Algorithms) > 0 {
		return
	}
	for i := 0; i < n && i < maxAlgorithms; i++ {
		if a := str(jsonrpc.Index(v, i)); len(a) > 0 {
			m.Meta.Algorithms = append(m.Meta.Algorithms, string(a))
		}
	}
}

package stratum

import (
	"bytes"
	"math"
	"strconv"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// stratumV1 is Bitcoin-family Stratum (cgminer, bfgminer, cpuminer, Zcash
// Equihash miners) and NiceHash's EthereumStratum/1.0.0, which reuses its
// vocabulary with "EthereumStratum/1.0.0" in the subscribe.
//
//	→ {"id": 1, "method": "mining.subscribe", "params": ["cpuminer/2.5.1"]}
//	← {"id":1,"result":[[["mining.set_difficulty","…"],["mining.notify","…"]],"08000002",4],"error":null}
//	→ mining.authorize [user, pass] ← true
//	← mining.set_difficulty [d] | mining.set_target ["hex"] | mining.notify [job, prevhash, …]
//	→ {"params": ["user", "job", "en2", "ntime", "nonce"], "id": 4, "method": "mining.submit"} ← true
var stratumV1 = dialect{
	name: DialectStratumV1,
	request: func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind {
		p := msg.Params
		method := msg.Method
		if !bytes.HasPrefix(method, []byte("mining.")) {
			return KindNone
		}
		n := jsonrpc.Len(p)
		switch string(method) {
		case "mining.subscribe":
			if n < 0 {
				if p != nil && !jsonrpc.IsNull(p) {
					return KindNone
				}
				n = 0
			}
			m.Meta.setAgent(str(jsonrpc.Index(p, 0)))
			if string(str(jsonrpc.Index(p, 1))) == "EthereumStratum/1.0.0" {
				m.refine(DialectEthStratum1)
			}
			if n >= 4 { // Equihash miners: [agent, session, host, port]
				if h := str(jsonrpc.Index(p, 2)); len(h) > 0 {
					m.Meta.PoolHost = string(h)
				}
				if pt, err := strconv.ParseUint(string(str(jsonrpc.Index(p, 3))), 10, 16); err == nil {
					m.Meta.PoolPort = uint16(pt)
				}
			}
			m.reach(StateHello)
			return KindSubscribe
		case "mining.authorize":
			u := str(jsonrpc.Index(p, 0))
			if u == nil {
				return KindNone
			}
			m.Meta.setLogin(u)
			m.reach(StateHello)
			return KindAuthorize
		case "mining.submit":
			if n < 3 {
				return KindNone
			}
			if w := str(jsonrpc.Index(p, 0)); len(w) > 0 {
				if m.Meta.Login == "" {
					m.Meta.setLogin(w)
				}
			}
			m.Meta.Submitted++
			m.reach(StateSubmitted)
			return KindSubmit
		case "mining.configure", "mining.extranonce.subscribe", "mining.suggest_difficulty",
			"mining.suggest_target", "mining.get_transactions", "mining.multi_version":
			if n < 0 && p != nil {
				return KindNone
			}
			return KindOther
		}
		return KindNone
	},
	push: func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool {
		p := msg.Params
		n := jsonrpc.Len(p)
		switch string(msg.Method) {
		case "mining.notify":
			if n < 4 || str(jsonrpc.Index(p, 0)) == nil && !isNumber(jsonrpc.Index(p, 0)) {
				return false
			}
			m.Meta.Jobs++
			m.reach(StateJob)
			return true
		case "mining.set_difficulty":
			d, err := strconv.ParseFloat(string(jsonrpc.Index(p, 0)), 64)
			if n < 1 || err != nil || d <= 0 {
				return false
			}
			m.Meta.Difficulty = d
			if m.Meta.hashesPerDiff == 0 {
				// Bitcoin convention: difficulty 1 = 2^32 hashes per share
				// (scrypt coins use 2^16: the estimate is then 65536× high).
				m.Meta.hashesPerDiff = math.Exp2(32)
			}
			return true
		case "mining.set_target":
			t := str(jsonrpc.Index(p, 0))
			if !isHex(t) {
				return false
			}
			m.Meta.Target = string(t)
			if h := HashesForBigEndianTarget(m.Meta.Target); h > 0 {
				m.Meta.Difficulty, m.Meta.hashesPerDiff = h, 1
			}
			return true
		case "mining.set_extranonce", "mining.set_version_mask":
			return n >= 1
		case "client.reconnect":
			if h := str(jsonrpc.Index(p, 0)); n >= 1 && len(h) > 0 {
				m.Meta.PoolHost = string(h)
				return true
			}
		}
		return false
	},
	response: func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool {
		r := msg.Result
		switch k {
		case KindSubscribe:
			// [[subscriptions…], extranonce1, extranonce2_size] (Bitcoin),
			// [["mining.notify", id, "EthereumStratum/1.0.0"], extranonce] (ES1),
			// [null, extranonce] (Equihash).
			if jsonrpc.Len(r) < 2 || str(jsonrpc.Index(r, 1)) == nil {
				return false
			}
			if bytes.Contains(jsonrpc.Index(r, 0), []byte(`"EthereumStratum/1.0.0"`)) {
				m.refine(DialectEthStratum1)
			}
			m.reach(StateAuthorized)
			return true
		case KindAuthorize:
			if jsonrpc.IsTrue(r) {
				m.reach(StateAuthorized)
				return true
			}
			return string(r) == "false" || rejected(msg)
		case KindSubmit:
			if jsonrpc.IsTrue(r) {
				m.Meta.accept(ts)
				m.reach(StateAccepted)
				return true
			}
			if string(r) == "false" || rejected(msg) {
				m.Meta.Rejected++
				return true
			}
		}
		return false
	},
}

package stratum

import (
	"strconv"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// ethProxy is eth-proxy (ethminer, Claymore, over TCP or HTTP):
//
//	→ {"worker": "eth1.0", "jsonrpc": "2.0", "params": ["0xWALLET.rig", "x"], "id": 2, "method": "eth_submitLogin"} ← true
//	→ eth_getWork [] ← ["0x<header 64>", "0x<seed 64>", "0x<boundary>"(, "0x<height>")]
//	← the same work array pushed with id 0 on new blocks
//	→ eth_submitWork [nonce, header, mix] ← true/false
//	→ eth_submitHashrate ["0x<rate>", "0x<id>"] ← true
//
// Plain Ethereum node RPC (eth_blockNumber, eth_call, …) is not vocabulary here.
var ethProxy = dialect{
	name: DialectEthProxy,
	request: func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind {
		p := msg.Params
		switch string(msg.Method) {
		case "eth_submitLogin":
			login := str(jsonrpc.Index(p, 0))
			if login == nil {
				return KindNone
			}
			m.Meta.setLogin(login)
			if w := str(msg.Worker); len(w) > 0 { // the explicit worker wins over "wallet.worker"
				m.Meta.Worker = string(w)
			}
			m.reach(StateHello)
			return KindLogin
		case "eth_getWork":
			if p != nil && jsonrpc.Len(p) < 0 {
				return KindNone
			}
			return KindGetWork
		case "eth_submitWork":
			if jsonrpc.Len(p) != 3 || !isHex0x(jsonrpc.Index(p, 0), 8) {
				return KindNone
			}
			m.Meta.Submitted++
			m.reach(StateSubmitted)
			return KindSubmit
		case "eth_submitHashrate":
			if jsonrpc.Len(p) != 2 || !isHex0x(jsonrpc.Index(p, 0), 1) {
				return KindNone
			}
			if h, err := strconv.ParseUint(string(str(jsonrpc.Index(p, 0))[2:]), 16, 64); err == nil {
				m.Meta.ReportedHashrate = float64(h)
			}
			return KindHashrate
		}
		return KindNone
	},
	response: func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool {
		r := msg.Result
		switch k {
		case KindLogin:
			if jsonrpc.IsTrue(r) {
				m.reach(StateAuthorized)
				return true
			}
			return string(r) == "false" || rejected(msg)
		case KindGetWork:
			return m.ethWork(r)
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
		case KindHashrate:
			return jsonrpc.IsTrue(r)
		}
		return false
	},
	unsolicited: func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool {
		return m.ethWork(msg.Result)
	},
}

// ethWork checks an eth_getWork result: header and seed hashes (0x + 64
// hex) and a boundary; it records the boundary as the share target.
func (m *Machine) ethWork(r []byte) bool {
	n := jsonrpc.Len(r)
	if n < 3 || !isHex0x(jsonrpc.Index(r, 0), 64) || !isHex0x(jsonrpc.Index(r, 1), 64) || !isHex0x(jsonrpc.Index(r, 2), 1) {
		return false
	}
	t := str(jsonrpc.Index(r, 2))
	if string(t) != m.Meta.Target {
		m.Meta.Target = string(t)
		if h := HashesForBigEndianTarget(m.Meta.Target); h > 0 {
			m.Meta.Difficulty, m.Meta.hashesPerDiff = h, 1
		}
	}
	m.Meta.Jobs++
	m.reach(StateJob)
	return true
}

package stratum

import (
	"strconv"
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// ethStratum2 is EthereumStratum/2.0.0 (EIP-1571):
//
//	→ {"id":0,"method":"mining.hello","params":{"agent":"ethminer-0.17","host":"pool","port":"4d2","proto":"EthereumStratum/2.0.0"}}
//	← {"id":0,"result":{"proto":"EthereumStratum/2.0.0","encoding":"plain","resume":1,"timeout":30,"maxerrors":5,"node":"…"}}
//	→ mining.subscribe / mining.authorize / mining.submit (shared with Stratum v1), mining.noop, mining.hashrate
//	← mining.set {epoch, target, algo, extranonce}, mining.notify, mining.bye
var ethStratum2 = dialect{
	name: DialectEthStratum2,
	request: func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind {
		p := msg.Params
		switch string(msg.Method) {
		case "mining.hello":
			if jsonrpc.Kind(p) != '{' || str(jsonrpc.Field(p, "proto")) == nil {
				return KindNone
			}
			m.Meta.setAgent(str(jsonrpc.Field(p, "agent")))
			if h := str(jsonrpc.Field(p, "host")); len(h) > 0 {
				m.Meta.PoolHost = string(h)
			}
			if pt, err := strconv.ParseUint(string(str(jsonrpc.Field(p, "port"))), 16, 16); err == nil {
				m.Meta.PoolPort = uint16(pt) // EIP-1571 sends the port in hex
			}
			m.reach(StateHello)
			return KindHello
		case "mining.noop", "mining.hashrate":
			return KindOther
		}
		return KindNone
	},
	push: func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool {
		p := msg.Params
		switch string(msg.Method) {
		case "mining.set":
			if jsonrpc.Kind(p) != '{' {
				return false
			}
			if t := str(jsonrpc.Field(p, "target")); isHex(t) {
				m.Meta.Target = string(t)
			}
			return true
		case "mining.bye":
			return true
		}
		return false
	},
	response: func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool {
		if k == KindHello && jsonrpc.Kind(msg.Result) == '{' && str(jsonrpc.Field(msg.Result, "proto")) != nil {
			m.reach(StateAuthorized)
			return true
		}
		return false
	},
}

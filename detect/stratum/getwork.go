package stratum

import (
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// getwork is Bitcoin getwork and getblocktemplate/submitblock (BIP 22/23)
// in HTTP POST bodies (the caller sets Machine.PairByOrder):
//
//	→ POST / … {"method": "getwork", "params": [], "id": 0}
//	← {"result":{"midstate":"…","data":"…","hash1":"…","target":"…"},"error":null,"id":0}
//	→ {"method": "getwork", "params": ["<data hex>"], "id": 1} ← true/false
//	→ {"method": "getblocktemplate", "params": [{"capabilities":[…]}]} ← {"previousblockhash":…,"bits":…}
var getwork = dialect{
	name: DialectGetwork,
	request: func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind {
		p := msg.Params
		switch string(msg.Method) {
		case "getwork":
			n := jsonrpc.Len(p)
			if n > 0 && isHex(str(jsonrpc.Index(p, 0))) {
				m.Meta.Submitted++
				m.reach(StateSubmitted)
				return KindSubmit
			}
			if n == 0 || p == nil {
				m.reach(StateHello)
				return KindGetWork
			}
		case "getblocktemplate":
			m.reach(StateHello)
			return KindGetWork
		case "submitblock":
			if isHex(str(jsonrpc.Index(p, 0))) {
				m.Meta.Submitted++
				m.reach(StateSubmitted)
				return KindSubmit
			}
		}
		return KindNone
	},
	response: func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool {
		r := msg.Result
		switch k {
		case KindGetWork:
			if jsonrpc.Kind(r) != '{' {
				return false
			}
			getwork := isHex(str(jsonrpc.Field(r, "data"))) && isHex(str(jsonrpc.Field(r, "target")))
			gbt := str(jsonrpc.Field(r, "previousblockhash")) != nil && jsonrpc.Field(r, "bits") != nil
			if !getwork && !gbt {
				return false
			}
			if t := str(jsonrpc.Field(r, "target")); len(t) > 0 {
				m.Meta.Target = string(t)
			}
			m.Meta.Jobs++
			m.reach(StateJob)
			return true
		case KindSubmit:
			if jsonrpc.IsTrue(r) || (jsonrpc.IsNull(r) && !rejected(msg) && msg.Result != nil) {
				m.Meta.accept(ts)
				m.reach(StateAccepted)
				return true
			}
			if string(r) == "false" || rejected(msg) || jsonrpc.Kind(r) == '"' {
				m.Meta.Rejected++
				return true
			}
		}
		return false
	},
}

package stratum

import (
	"time"

	"github.com/minerwatch/minerwatch/detect/jsonrpc"
)

// Dialect names, as written in verdicts and alerts.
const (
	DialectStratumV1   = "stratum-v1"
	DialectEthStratum1 = "ethereumstratum/1.0.0"
	DialectEthStratum2 = "ethereumstratum/2.0.0"
	DialectCryptoNote  = "cryptonote"
	DialectEthProxy    = "eth-proxy"
	DialectGetwork     = "getwork"
	DialectSV2         = "stratum-v2"
	DialectSV2Noise    = "stratum-v2-noise"
)

// Dialects returns every dialect name a verdict can carry (a new slice:
// callers may keep or index it, as the engine does to store a flow's
// dialect in one byte).
func Dialects() []string {
	return []string{DialectStratumV1, DialectEthStratum1, DialectEthStratum2, DialectCryptoNote,
		DialectEthProxy, DialectGetwork, DialectSV2, DialectSV2Noise}
}

// Family maps a dialect to its family for coarse comparisons:
// bitcoin-stratum, cryptonote, ethereum, getwork, stratum-v2.
func Family(d string) string {
	switch d {
	case DialectStratumV1:
		return "stratum-v1"
	case DialectEthStratum1, DialectEthStratum2, DialectEthProxy:
		return "ethereum"
	case DialectSV2, DialectSV2Noise:
		return "stratum-v2"
	}
	return d
}

// dialect is one protocol's vocabulary. Each function checks the message's
// structure (not just its method name), records metadata and states, and
// reports whether the message belongs to the dialect.
type dialect struct {
	name string
	// request judges a client→server request; it returns the Kind to
	// remember with the request id, or KindNone.
	request func(m *Machine, msg *jsonrpc.Message, ts time.Time) Kind
	// push judges a server→client notification (a message with a method).
	push func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool
	// response judges the server's reply to a remembered request of kind k.
	response func(m *Machine, k Kind, msg *jsonrpc.Message, ts time.Time) bool
	// unsolicited judges a reply that matches no remembered request
	// (mid-session captures, eth-proxy work pushed with id 0).
	unsolicited func(m *Machine, msg *jsonrpc.Message, ts time.Time) bool
}

// dialects is the registry; order matters only for speed.
var dialects = [...]*dialect{&cryptoNote, &stratumV1, &ethProxy, &ethStratum2, &getwork}

// str returns a JSON string value's contents, or nil.
func str(v []byte) []byte {
	s, _ := jsonrpc.Str(v)
	return s
}

func isHex(s []byte) bool {
	if len(s) == 0 {
		return false
	}
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// isHex0x reports whether v is a JSON string "0x" + hex of at least min digits.
func isHex0x(v []byte, min int) bool {
	s := str(v)
	return len(s) >= 2+min && s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isHex(s[2:])
}

func isNumber(v []byte) bool {
	k := jsonrpc.Kind(v)
	return k == '-' || k >= '0' && k <= '9'
}

// rejected reports whether a reply carries a JSON-RPC error object/array.
func rejected(msg *jsonrpc.Message) bool {
	k := jsonrpc.Kind(msg.Error)
	return k == '{' || k == '['
}

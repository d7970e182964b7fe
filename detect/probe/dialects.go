package probe

import (
	"crypto/sha256"
	"encoding/json"
	"strconv"

	"github.com/minerwatch/minerwatch/detect/stratum"
)

// DefaultAgent names the prober in every login, so a pool operator who
// sees it in a log can tell what asked and why (--probe-agent changes it).
const DefaultAgent = "minerwatch-probe/1 (active confirmation; never submits shares; +https://github.com/minerwatch/minerwatch)"

// Worker is the worker/rig name sent with every login.
const Worker = "minerwatch-probe"

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// ThrowawayWallet is the login sent to CryptoNote pools: a well-formed
// Monero main-net address (95 characters, "4…", valid checksum, so pools
// that validate logins answer) whose keys are SHA-256 hashes of the texts
// "minerwatch probe: not a wallet (spend|view key)" — not keys anyone
// holds (see wallet.go). It never changes, so pool logs can match it.
var ThrowawayWallet = moneroAddress("minerwatch probe: not a wallet (spend key)", "minerwatch probe: not a wallet (view key)")

// ThrowawayEthLogin is the eth-proxy login: 0x and the first 40 hex
// digits of SHA-256("MinerWatchProbeNotAWallet"): an account shape no one
// holds a key to (an address is a hash of a public key, not of a text).
// The worker name goes in the request's "worker" member.
var ThrowawayEthLogin = "0x" + hexOf(sha256.Sum256([]byte("MinerWatchProbeNotAWallet")))[:40]

func hexOf(h [32]byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 64)
	for i, c := range h {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// dialect is one way of asking: the request lines sent on a fresh
// connection (ids 1, 2, …), and when its answer is complete enough to stop
// reading (the pool's work arrived).
type dialect struct {
	name string
	// lines builds the requests for a server at host:port.
	lines func(agent, host string, port uint16) []any
}

// Dialect names accepted in Config.Dialects (the stratum package's).
var dialects = []dialect{
	{stratum.DialectCryptoNote, func(agent, _ string, _ uint16) []any {
		return []any{map[string]any{"id": 1, "jsonrpc": "2.0", "method": "login", "params": map[string]any{
			"login": ThrowawayWallet, "pass": "x", "agent": agent, "rigid": Worker,
			"algo": []string{"rx/0", "cn/r", "cn/2", "rx/wow", "cn-pico", "argon2/chukwav2", "ghostrider"},
		}}}
	}},
	{stratum.DialectStratumV1, func(agent, _ string, _ uint16) []any {
		return []any{
			map[string]any{"id": 1, "method": "mining.subscribe", "params": []string{agent}},
			map[string]any{"id": 2, "method": "mining.authorize", "params": []string{Worker + ".probe", "x"}},
		}
	}},
	{stratum.DialectEthProxy, func(_, _ string, _ uint16) []any {
		return []any{
			map[string]any{"id": 1, "jsonrpc": "2.0", "method": "eth_submitLogin", "params": []string{ThrowawayEthLogin, "x"}, "worker": Worker},
			map[string]any{"id": 2, "jsonrpc": "2.0", "method": "eth_getWork", "params": []string{}},
		}
	}},
	{stratum.DialectEthStratum2, func(agent, host string, port uint16) []any {
		return []any{map[string]any{"id": 1, "method": "mining.hello", "params": map[string]any{
			"agent": agent, "host": host, "port": strconv.FormatUint(uint64(port), 16), "proto": "EthereumStratum/2.0.0",
		}}}
	}},
}

// DialectNames lists the dialects a probe tries, in order.
func DialectNames() []string {
	out := make([]string, len(dialects))
	for i, d := range dialects {
		out[i] = d.name
	}
	return out
}

func findDialect(name string) (dialect, bool) {
	for _, d := range dialects {
		if d.name == name {
			return d, true
		}
	}
	return dialect{}, false
}

// encodeLines renders requests as newline-terminated JSON lines.
func encodeLines(reqs []any) ([]byte, error) {
	var out []byte
	for _, r := range reqs {
		b, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		out = append(append(out, b...), '\n')
	}
	return out, nil
}

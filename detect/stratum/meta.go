package stratum

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Meta is what the conversation revealed about the miner and the pool.
type Meta struct {
	Agent        string
	MinerName    string
	MinerVersion string
	MinerOS      string
	Login        string // wallet or pool account, as sent
	Coin         string // guessed from the login's format
	Worker       string
	Algorithms   []string
	PoolHost     string
	PoolPort     uint16
	Difficulty   float64 // current share difficulty, in the dialect's units
	Target       string  // current target, as sent
	Jobs         int
	Submitted    int
	Accepted     int
	Rejected     int
	// ReportedHashrate is what the miner itself reported (eth_submitHashrate), H/s.
	ReportedHashrate float64

	// hashesPerDiff converts the dialect's difficulty into expected hashes
	// per share (1 for CryptoNote, 2^32 for Bitcoin-family Stratum v1).
	hashesPerDiff float64
	acceptedWork  float64 // Σ expected hashes of accepted shares
	first, last   time.Time
	lastAccept    time.Time
}

const maxAlgorithms = 32

func (md *Meta) touch(ts time.Time) {
	if md.first.IsZero() || ts.Before(md.first) {
		md.first = ts
	}
	if ts.After(md.last) {
		md.last = ts
	}
}

// Hashrate returns Σ expected hashes of accepted shares ÷ seconds from the
// first message to the last accepted share (0 when unknown).
func (md *Meta) Hashrate() float64 {
	if md.acceptedWork == 0 || !md.lastAccept.After(md.first) {
		return 0
	}
	return md.acceptedWork / md.lastAccept.Sub(md.first).Seconds()
}

func (md *Meta) accept(ts time.Time) {
	md.Accepted++
	md.lastAccept = ts
	h := md.hashesPerDiff
	if h == 0 {
		h = 1
	}
	md.acceptedWork += md.Difficulty * h
}

func (md *Meta) setAgent(a []byte) {
	if md.Agent != "" || len(a) == 0 {
		return
	}
	md.Agent = string(a)
	md.MinerName, md.MinerVersion, md.MinerOS = ParseAgent(md.Agent)
}

func (md *Meta) setLogin(l []byte) {
	if len(l) == 0 {
		return
	}
	s := string(l)
	if s == md.Login {
		return
	}
	md.Login = s
	wallet, worker := SplitLogin(s)
	md.Coin = GuessCoin(wallet)
	if md.Worker == "" {
		md.Worker = worker
	}
}

// setTargetLE sets the difficulty from a CryptoNote little-endian hex
// target: 2^32/target32 or 2^64/target64.
func (md *Meta) setTargetLE(t []byte) {
	if len(t) == 0 || string(t) == md.Target {
		return
	}
	md.Target = string(t)
	if d := DifficultyFromCryptoNoteTarget(md.Target); d > 0 {
		md.Difficulty = d
	}
}

// DifficultyFromCryptoNoteTarget converts a CryptoNote target (little-endian
// hex, 8 or 16 digits) into a difficulty; 0 if malformed.
func DifficultyFromCryptoNoteTarget(t string) float64 {
	if len(t) != 8 && len(t) != 16 {
		return 0
	}
	var v uint64
	for i := len(t) - 2; i >= 0; i -= 2 { // little-endian bytes
		b, err := strconv.ParseUint(t[i:i+2], 16, 8)
		if err != nil {
			return 0
		}
		v = v<<8 | b
	}
	if v == 0 {
		return 0
	}
	if len(t) == 8 {
		return math.Exp2(32) / float64(v)
	}
	return math.Exp2(64) / float64(v)
}

// HashesForBigEndianTarget returns 2^256 / target for a big-endian hex
// target (an Equihash mining.set_target, an Ethash boundary): the expected
// hashes per share. 0 if malformed.
func HashesForBigEndianTarget(t string) float64 {
	t = strings.TrimPrefix(t, "0x")
	if len(t) == 0 || len(t) > 64 {
		return 0
	}
	// Left-pad to 64 digits, then read the most significant 16 non-zero-ish digits.
	pad := 64 - len(t)
	lead := 0
	for lead < len(t) && t[lead] == '0' {
		lead++
	}
	if lead == len(t) {
		return 0
	}
	end := lead + 16
	if end > len(t) {
		end = len(t)
	}
	v, err := strconv.ParseUint(t[lead:end], 16, 64)
	if err != nil || v == 0 {
		return 0
	}
	// target ≈ v × 16^(64 - pad - end)
	exp := 4 * float64(64-pad-end)
	return math.Exp2(256-exp) / float64(v)
}

// SetAgent records the miner's agent (first one wins) and parses it.
func (md *Meta) SetAgent(a string) { md.setAgent([]byte(a)) }

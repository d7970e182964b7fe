package probe

import (
	"encoding/hex"
	"testing"
)

// Keccak-256 known answers (the Keccak team's and Ethereum's: the hash
// of the empty string is Ethereum's empty-code hash).
func TestKeccak256KnownAnswers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"},
		{"abc", "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45"},
		{"The quick brown fox jumps over the lazy dog", "4d741b6f1eb29cb2a9b9911c82f56fa8d73b04959d3d9d222895df6c0b28aa15"},
	} {
		got := keccak256([]byte(c.in))
		if hex.EncodeToString(got[:]) != c.want {
			t.Errorf("keccak256(%q) = %x, want %s", c.in, got, c.want)
		}
	}
}

// The checksum check accepts a published Monero address (the Monero
// general fund's) and rejects it with one character changed; the probe's
// address is well-formed the same way.
func TestThrowawayWalletHasAValidMoneroChecksum(t *testing.T) {
	const fund = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"
	if !moneroChecksumOK(fund) {
		t.Fatal("the Monero general fund's address fails the checksum: keccak or base58 is wrong")
	}
	if moneroChecksumOK(fund[:50] + "2" + fund[51:]) {
		t.Error("a changed address passes the checksum")
	}
	w := ThrowawayWallet
	if len(w) != 95 || w[0] != '4' || !moneroChecksumOK(w) {
		t.Errorf("ThrowawayWallet %q: want 95 characters, starting 4, valid checksum", w)
	}
	b, err := moneroBase58Decode(w)
	if err != nil || len(b) != 69 || b[0] != 18 {
		t.Fatalf("ThrowawayWallet decodes to %x (%v): want 69 bytes, network byte 18", b, err)
	}
	if moneroBase58(b) != w {
		t.Error("base58 does not round-trip")
	}
}

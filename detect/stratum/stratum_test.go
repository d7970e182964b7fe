package stratum_test

import (
	"math"
	"testing"

	"github.com/minerwatch/minerwatch/detect/stratum"
)

func TestParseAgentSplitsNameVersionOS(t *testing.T) {
	cases := []struct{ agent, name, version, os string }{
		{"XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0", "XMRig", "6.26.0", "Linux"},
		{"XMRig/6.21.0 (Windows NT 10.0; Win64; x64) libuv/1.44.2 msvc/2019", "XMRig", "6.21.0", "Windows"},
		{"XMRig/6.22.2 (Macintosh; macOS; arm64) libuv/1.48.0 clang/15.0.0", "XMRig", "6.22.2", "macOS"},
		{"xmr-stak/2.10.8/3f5f4ac/master/lin/cpu/aeon-monero/0", "xmr-stak", "2.10.8", "Linux"},
		{"xmr-stak-cpu/1.3.0-1.5.0", "xmr-stak-cpu", "1.3.0-1.5.0", ""},
		{"xmr-stak", "xmr-stak", "", ""}, // crashed the parser (FuzzSignatureFlow): any client could send it
		{"xmr-stak/2.10.8", "xmr-stak", "2.10.8", ""},
		{"cpuminer/2.5.1", "cpuminer", "2.5.1", ""},
		{"cgminer 3.7.2", "cgminer", "3.7.2", ""},
		{"EWBF 0.3.4b", "EWBF", "0.3.4b", ""},
	}
	for _, tc := range cases {
		n, v, o := stratum.ParseAgent(tc.agent)
		if n != tc.name || v != tc.version || o != tc.os {
			t.Errorf("%q: %q %q %q", tc.agent, n, v, o)
		}
	}
}

func TestGuessCoinFromWalletFormat(t *testing.T) {
	cases := []struct{ wallet, coin string }{
		{"4FASi45ub7Qe4ZE36UT5G6cU4ud8Fhhe4deS4F3cw9KTAb8dLcukC7edhDQ7cn5d4gEYkbUrMWeWQLGsCmrG6dLaYyNoVKf", "XMR"}, // xmrig-plain-3333 login
		{"0x0fccfff9e61a230ff380530c6827caf4759337c6", "ETH"},
		{"bc1q7k4xg0m5l9z3lfmw8h2y6c5wz0t3s8r4p2e9qd", "BTC"}, // cpuminer-stratum authorize
		{"1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2", "BTC"},
		{"t1fAhZF5aUJdY7CikGULHmeYk7id8qmvbAd", "ZEC"}, // ntop mining.pcapng EWBF authorize
		{"kvetak", ""},
	}
	for _, tc := range cases {
		if got := stratum.GuessCoin(tc.wallet); got != tc.coin {
			t.Errorf("%s: %q, want %q", tc.wallet, got, tc.coin)
		}
	}
}

func TestDifficultyFromTargets(t *testing.T) {
	// "0d74da00" little-endian = 0x00da740d = 14316557; 2^32 / 14316557 = 300.0002 (hand calculation).
	if d := stratum.DifficultyFromCryptoNoteTarget("0d74da00"); math.Abs(d-300.0002) > 0.001 {
		t.Errorf("32-bit target: %v", d)
	}
	// 64-bit: 0x00000000ffffffff → 2^64 / (2^32-1) ≈ 2^32.
	if d := stratum.DifficultyFromCryptoNoteTarget("ffffffff00000000"); math.Abs(d/math.Exp2(32)-1) > 1e-6 {
		t.Errorf("64-bit target: %v", d)
	}
	// Equihash set_target "003c3c…" (zec-eu.suprnova.cc capture): 2^256 / (0x003c3c… ) ≈ 2^256/(0x3c3c3c3c3c3c3c3c·2^184) ≈ 1088.
	if h := stratum.HashesForBigEndianTarget("003c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c3c"); math.Abs(h-1088) > 1 {
		t.Errorf("big-endian target: %v", h)
	}
	if stratum.DifficultyFromCryptoNoteTarget("zz") != 0 || stratum.HashesForBigEndianTarget("") != 0 {
		t.Error("malformed targets gave a difficulty")
	}
}

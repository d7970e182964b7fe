package stratum

import "strings"

// ParseAgent splits a miner's agent string into name, version and OS:
//
//	XMRig/6.26.0 (Linux x86_64) libuv/1.44.2 gcc/12.2.0  → XMRig, 6.26.0, Linux
//	XMRig/6.21.0 (Windows NT 10.0; Win64; x64) …          → XMRig, 6.21.0, Windows
//	xmr-stak/2.10.8/3f5f4ac/master/lin/cpu/aeon-monero/0  → xmr-stak, 2.10.8, Linux
//	cgminer/4.10.0, bfgminer/5.4.2-…, cpuminer/2.5.1      → name, version, ""
//	cgminer 4.9.2 (an HTTP User-Agent)                    → cgminer, 4.9.2, ""
func ParseAgent(a string) (name, version, os string) {
	a = strings.TrimSpace(a)
	if a == "" {
		return "", "", ""
	}
	first, rest, _ := strings.Cut(a, " ")
	parts := strings.Split(first, "/")
	name = parts[0]
	if len(parts) > 1 {
		version = parts[1]
	} else if v, _, _ := strings.Cut(rest, " "); v != "" && v[0] >= '0' && v[0] <= '9' {
		version = v
	}
	if strings.HasPrefix(name, "xmr-stak") && len(parts) > 2 { // a bare "xmr-stak" has no build fields
		for _, p := range parts[2:] {
			switch p {
			case "lin":
				os = "Linux"
			case "win":
				os = "Windows"
			case "mac":
				os = "macOS"
			}
		}
	}
	if i := strings.IndexByte(a, '('); i >= 0 && os == "" {
		inner := a[i+1:]
		if j := strings.IndexByte(inner, ')'); j >= 0 {
			inner = inner[:j]
		}
		switch {
		case strings.HasPrefix(inner, "Windows"):
			os = "Windows"
		case strings.HasPrefix(inner, "Linux"):
			os = "Linux"
		case strings.HasPrefix(inner, "Macintosh"), strings.Contains(inner, "macOS"):
			os = "macOS"
		case strings.HasPrefix(inner, "FreeBSD"):
			os = "FreeBSD"
		case strings.Contains(inner, "Android"):
			os = "Android"
		}
	}
	return name, version, os
}

// SplitLogin separates a pool login into wallet/account and worker:
// "WALLET.worker", "WALLET/worker/email" (eth-proxy), "user.worker" (Stratum v1),
// "WALLET+difficulty" (CryptoNote fixed difficulty).
func SplitLogin(s string) (wallet, worker string) {
	s, _, _ = strings.Cut(s, "+")
	if i := strings.IndexAny(s, "./"); i >= 0 {
		wallet, worker = s[:i], s[i+1:]
		if j := strings.IndexByte(worker, '/'); j >= 0 {
			worker = worker[:j]
		}
		return wallet, worker
	}
	return s, ""
}

const base58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

func all(s, set string) bool {
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(set, s[i]) < 0 {
			return false
		}
	}
	return true
}

// GuessCoin names the coin a wallet address's format suggests ("" if none):
// Monero 95 base58 chars starting 4 or 8 (106 integrated), Ethereum 0x+40
// hex, Bitcoin base58 1…/3… 26–35 chars or bech32 bc1…, Litecoin ltc1…/L…/M…,
// Zcash t1…/t3… 35 chars.
func GuessCoin(w string) string {
	lw := strings.ToLower(w)
	switch {
	case (len(w) == 95 || len(w) == 106) && (w[0] == '4' || w[0] == '8') && all(w, base58):
		return "XMR"
	case len(w) == 42 && strings.HasPrefix(lw, "0x") && all(lw[2:], "0123456789abcdef"):
		return "ETH"
	case strings.HasPrefix(lw, "bc1") && len(w) >= 14 && len(w) <= 74:
		return "BTC"
	case strings.HasPrefix(lw, "ltc1") && len(w) >= 14:
		return "LTC"
	case len(w) == 35 && (strings.HasPrefix(w, "t1") || strings.HasPrefix(w, "t3")) && all(w, base58):
		return "ZEC"
	case len(w) >= 26 && len(w) <= 35 && (w[0] == '1' || w[0] == '3') && all(w, base58):
		return "BTC"
	case len(w) >= 26 && len(w) <= 35 && (w[0] == 'L' || w[0] == 'M') && all(w, base58):
		return "LTC"
	}
	return ""
}

package tlshello

import (
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strconv"
)

// JA3 returns the JA3 string (Salesforce's definition):
// SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
// with decimal values joined by '-', GREASE values left out.
func (h *ClientHello) JA3() string {
	b := make([]byte, 0, 256)
	b = strconv.AppendUint(b, uint64(h.Version), 10)
	b = append(b, ',')
	b = appendDec16(b, h.CipherSuites)
	b = append(b, ',')
	b = appendDec16(b, h.Extensions)
	b = append(b, ',')
	b = appendDec16(b, h.Groups)
	b = append(b, ',')
	for i, v := range h.PointFormats {
		if i > 0 {
			b = append(b, '-')
		}
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return string(b)
}

// JA3Hash is the lowercase hex MD5 of JA3().
func (h *ClientHello) JA3Hash() string {
	sum := md5.Sum([]byte(h.JA3()))
	return hex.EncodeToString(sum[:])
}

func appendDec16(b []byte, vs []uint16) []byte {
	first := true
	for _, v := range vs {
		if IsGREASE(v) {
			continue
		}
		if !first {
			b = append(b, '-')
		}
		first = false
		b = strconv.AppendUint(b, uint64(v), 10)
	}
	return b
}

// MaxVersion is the highest non-GREASE version in supported_versions, or
// the legacy version when the extension is absent.
func (h *ClientHello) MaxVersion() uint16 {
	var v uint16
	for _, s := range h.SupportedVersions {
		if !IsGREASE(s) && s > v {
			v = s
		}
	}
	if v == 0 {
		v = h.Version
	}
	return v
}

// VersionName names a TLS version number ("TLS 1.3"), or its hex.
func VersionName(v uint16) string {
	switch v {
	case 0x0300:
		return "SSL 3.0"
	case 0x0301:
		return "TLS 1.0"
	case 0x0302:
		return "TLS 1.1"
	case 0x0303:
		return "TLS 1.2"
	case 0x0304:
		return "TLS 1.3"
	}
	return "0x" + strconv.FormatUint(uint64(v), 16)
}

// JA4 returns the JA4 TLS client fingerprint (FoxIO, JA4+ specification,
// https://github.com/FoxIO-LLC/ja4/blob/main/technical_details/JA4.md),
// e.g. "t13d1516h2_8daaf6152771_e5627efa2ab1".
//
//   - a: "t" (TCP) or "q" (QUIC), the 2-character version (highest supported_versions value,
//     else the legacy version), "d" when the SNI extension is present else
//     "i", the cipher and extension counts (2 digits each, capped at 99,
//     GREASE not counted; the extension count includes SNI and ALPN), and
//     the first and last characters of the first ALPN value ("00" without
//     ALPN; its hex digits when a character is not alphanumeric);
//   - b: first 12 hex digits of SHA-256 over the sorted 4-digit hex cipher
//     list joined by ',';
//   - c: the same over the sorted extension list without SNI and ALPN,
//     then '_' and the signature algorithms in wire order (no '_' part
//     when there are none).
//
// An empty cipher or extension list hashes to "000000000000", as specified.
func (h *ClientHello) JA4() string {
	a, b, c := h.ja4Parts()
	return a + "_" + hash12(b) + "_" + hash12(c)
}

// JA4R returns the raw (unhashed) JA4 — "JA4_r" in the specification.
func (h *ClientHello) JA4R() string {
	a, b, c := h.ja4Parts()
	return a + "_" + b + "_" + c
}

func (h *ClientHello) ja4Parts() (a, b, c string) {
	pre := make([]byte, 0, 10)
	if h.QUIC {
		pre = append(pre, 'q')
	} else {
		pre = append(pre, 't')
	}
	pre = append(pre, ja4Version(h.MaxVersion())...)
	if h.HasSNI {
		pre = append(pre, 'd')
	} else {
		pre = append(pre, 'i')
	}
	ciphers := nonGREASE(h.CipherSuites)
	exts := nonGREASE(h.Extensions)
	pre = append2(pre, len(ciphers))
	pre = append2(pre, len(exts))
	pre = append(pre, ja4ALPN(h.ALPN)...)

	slices.Sort(ciphers)
	b = hexList(ciphers)

	kept := exts[:0]
	for _, e := range exts {
		if e != extServerName && e != extALPN {
			kept = append(kept, e)
		}
	}
	slices.Sort(kept)
	c = hexList(kept)
	if sig := nonGREASE(h.SignatureAlgorithms); len(sig) > 0 {
		c += "_" + hexList(sig)
	}
	return string(pre), b, c
}

func ja4Version(v uint16) string {
	switch v {
	case 0x0304:
		return "13"
	case 0x0303:
		return "12"
	case 0x0302:
		return "11"
	case 0x0301:
		return "10"
	case 0x0300:
		return "s3"
	case 0x0002:
		return "s2"
	case 0xfeff:
		return "d1"
	case 0xfefd:
		return "d2"
	case 0xfefc:
		return "d3"
	}
	return "00"
}

func ja4ALPN(alpn [][]byte) string {
	if len(alpn) == 0 || len(alpn[0]) == 0 {
		return "00"
	}
	p := alpn[0]
	first, last := p[0], p[len(p)-1]
	if isAlnum(first) && isAlnum(last) {
		return string([]byte{first, last})
	}
	const hexd = "0123456789abcdef"
	return string([]byte{hexd[first>>4], hexd[last&0xf]})
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func append2(b []byte, n int) []byte {
	if n > 99 {
		n = 99
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

func nonGREASE(vs []uint16) []uint16 {
	out := make([]uint16, 0, len(vs))
	for _, v := range vs {
		if !IsGREASE(v) {
			out = append(out, v)
		}
	}
	return out
}

func hexList(vs []uint16) string {
	const hexd = "0123456789abcdef"
	b := make([]byte, 0, len(vs)*5)
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, hexd[v>>12], hexd[v>>8&0xf], hexd[v>>4&0xf], hexd[v&0xf])
	}
	return string(b)
}

func hash12(s string) string {
	if s == "" {
		return "000000000000"
	}
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:6])
}

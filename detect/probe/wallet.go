package probe

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"math/bits"
)

// Monero-format throw-away address. Pools check a login's checksum before
// they answer it (nodejs-pool and node-cryptonote-pool reply "Invalid
// payment address provided" otherwise), so a probe that wants an answer
// sends a well-formed address: network byte 18 (main net, first character
// "4"), a 32-byte "spend key" and a 32-byte "view key", and the first 4
// bytes of their Keccak-256 as checksum, in Monero's block base58. The
// keys are SHA-256 hashes of fixed texts, not public keys made from a
// private key: no one can spend from the address, and the probe never
// submits a share, so a pool never owes it anything.

// moneroAddress builds the address for the two key texts.
func moneroAddress(spendText, viewText string) string {
	spend, view := sha256.Sum256([]byte(spendText)), sha256.Sum256([]byte(viewText))
	data := append([]byte{18}, spend[:]...)
	data = append(data, view[:]...)
	sum := keccak256(data)
	return moneroBase58(append(data, sum[:4]...))
}

// moneroChecksumOK reports whether a Monero-format address decodes and
// its last 4 bytes are the Keccak-256 of the rest.
func moneroChecksumOK(addr string) bool {
	b, err := moneroBase58Decode(addr)
	if err != nil || len(b) < 5 {
		return false
	}
	sum := keccak256(b[:len(b)-4])
	return string(sum[:4]) == string(b[len(b)-4:])
}

// Monero's base58 encodes 8-byte blocks into 11 characters each (a last
// short block of n bytes into encodedSize[n]), big-endian, '1'-padded.
var encodedSize = [9]int{0, 2, 3, 5, 6, 7, 9, 10, 11}

func moneroBase58(b []byte) string {
	var out []byte
	for len(b) > 0 {
		n := min(8, len(b))
		var v uint64
		for _, c := range b[:n] {
			v = v<<8 | uint64(c)
		}
		blk := make([]byte, encodedSize[n])
		for i := len(blk) - 1; i >= 0; i-- {
			blk[i] = base58[v%58]
			v /= 58
		}
		out = append(out, blk...)
		b = b[n:]
	}
	return string(out)
}

func moneroBase58Decode(s string) ([]byte, error) {
	var out []byte
	for len(s) > 0 {
		k := min(11, len(s))
		n := -1
		for i, e := range encodedSize {
			if e == k {
				n = i
			}
		}
		if n < 0 {
			return nil, errors.New("bad base58 block length")
		}
		var v uint64
		for i := 0; i < k; i++ {
			d := -1
			for j := 0; j < len(base58); j++ {
				if base58[j] == s[i] {
					d = j
				}
			}
			if d < 0 {
				return nil, errors.New("not base58")
			}
			hi, lo := bits.Mul64(v, 58)
			if hi != 0 {
				return nil, errors.New("base58 block overflows")
			}
			var c uint64
			v, c = bits.Add64(lo, uint64(d), 0)
			if c != 0 {
				return nil, errors.New("base58 block overflows")
			}
		}
		if n < 8 && v>>(8*n) != 0 {
			return nil, errors.New("base58 block overflows")
		}
		var blk [8]byte
		binary.BigEndian.PutUint64(blk[:], v)
		out = append(out, blk[8-n:]...)
		s = s[k:]
	}
	return out, nil
}

// keccak256 is the original Keccak-256 (padding 0x01, as Monero and
// Ethereum use it), not NIST SHA3-256 (padding 0x06).
func keccak256(data []byte) [32]byte {
	const rate = 136
	var st [25]uint64
	for len(data) >= rate {
		absorb(&st, data[:rate])
		keccakF(&st)
		data = data[rate:]
	}
	var last [rate]byte
	copy(last[:], data)
	last[len(data)] ^= 0x01
	last[rate-1] ^= 0x80
	absorb(&st, last[:])
	keccakF(&st)
	var out [32]byte
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], st[i])
	}
	return out
}

func absorb(st *[25]uint64, b []byte) {
	for i := 0; i < len(b)/8; i++ {
		st[i] ^= binary.LittleEndian.Uint64(b[8*i:])
	}
}

var (
	keccakRC = [24]uint64{
		0x0000000000000001, 0x0000000000008082, 0x800000000000808A, 0x8000000080008000,
		0x000000000000808B, 0x0000000080000001, 0x8000000080008081, 0x8000000000008009,
		0x000000000000008A, 0x0000000000000088, 0x0000000080008009, 0x000000008000000A,
		0x000000008000808B, 0x800000000000008B, 0x8000000000008089, 0x8000000000008003,
		0x8000000000008002, 0x8000000000000080, 0x000000000000800A, 0x800000008000000A,
		0x8000000080008081, 0x8000000000008080, 0x0000000080000001, 0x8000000080008008,
	}
	keccakRot = [24]int{1, 3, 6, 10, 15, 21, 28, 36, 45, 55, 2, 14, 27, 41, 56, 8, 25, 43, 62, 18, 39, 61, 20, 44}
	keccakPi  = [24]int{10, 7, 11, 17, 18, 3, 5, 16, 8, 21, 24, 4, 15, 23, 19, 13, 12, 2, 20, 14, 22, 9, 6, 1}
)

// keccakF is Keccak-f[1600] (the compact form of the reference code).
func keccakF(st *[25]uint64) {
	var bc [5]uint64
	for r := 0; r < 24; r++ {
		for i := 0; i < 5; i++ { // θ
			bc[i] = st[i] ^ st[i+5] ^ st[i+10] ^ st[i+15] ^ st[i+20]
		}
		for i := 0; i < 5; i++ {
			t := bc[(i+4)%5] ^ bits.RotateLeft64(bc[(i+1)%5], 1)
			for j := 0; j < 25; j += 5 {
				st[j+i] ^= t
			}
		}
		t := st[1] // ρ and π
		for i := 0; i < 24; i++ {
			j := keccakPi[i]
			bc[0] = st[j]
			st[j] = bits.RotateLeft64(t, keccakRot[i])
			t = bc[0]
		}
		for j := 0; j < 25; j += 5 { // χ
			for i := 0; i < 5; i++ {
				bc[i] = st[j+i]
			}
			for i := 0; i < 5; i++ {
				st[j+i] ^= ^bc[(i+1)%5] & bc[(i+2)%5]
			}
		}
		st[0] ^= keccakRC[r] // ι
	}
}

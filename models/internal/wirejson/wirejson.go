package wirejson

import (
	"math"
	"strconv"
	"unsafe"
)

// Reader walks a JSON text. Its methods report false on anything
// unexpected; it then stands at an unspecified place and should be
// dropped.
type Reader struct {
	s string
	i int
}

// NewReaderBytes reads b without copying it (a model is half a megabyte
// of text). b must not change while the Reader is in use, and the
// strings its methods return (keys, skipped values) are views of b: use
// them before b changes, or copy them.
func NewReaderBytes(b []byte) *Reader {
	return &Reader{s: unsafe.String(unsafe.SliceData(b), len(b))}
}

// Offset is the number of bytes read.
func (r *Reader) Offset() int { return r.i }

func (r *Reader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// Byte skips white space and then c; it reports whether c was there.
func (r *Reader) Byte(c byte) bool {
	r.ws()
	if r.i < len(r.s) && r.s[r.i] == c {
		r.i++
		return true
	}
	return false
}

// End skips white space and reports whether the text is over.
func (r *Reader) End() bool {
	r.ws()
	return r.i == len(r.s)
}

// Key reads an object key and its colon. Keys with escapes or control
// characters are refused (ours have none).
func (r *Reader) Key() (string, bool) {
	if !r.Byte('"') {
		return "", false
	}
	start := r.i
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			k := r.s[start:r.i]
			r.i++
			return k, r.Byte(':')
		case c == '\\' || c < 0x20:
			return "", false
		}
		r.i++
	}
	return "", false
}

// Next is called after a value inside an object or array whose closing
// byte is end: it reports more=true after a comma, more=false after end,
// ok=false on anything else.
func (r *Reader) Next(end byte) (more, ok bool) {
	r.ws()
	if r.i < len(r.s) {
		switch r.s[r.i] {
		case ',':
			r.i++
			return true, true
		case end:
			r.i++
			return false, true
		}
	}
	return false, false
}

// Skip passes over one value and returns its text, without checking it
// beyond matching brackets outside strings: the caller hands it to
// encoding/json, which does.
func (r *Reader) Skip() (string, bool) {
	r.ws()
	start := r.i
	depth := 0
	for r.i < len(r.s) {
		if depth > 0 && !special[r.s[r.i]] {
			// Inside brackets only the bytes in special matter; the
			// numbers that make up most of a forest pass here.
			r.i++
			continue
		}
		switch r.s[r.i] {
		case '"':
			if !r.skipString() {
				return "", false
			}
			if depth == 0 {
				return r.s[start:r.i], true
			}
			continue
		case '{', '[':
			depth++
		case '}', ']':
			if depth == 0 {
				return r.s[start:r.i], r.i > start
			}
			depth--
			if depth == 0 {
				r.i++
				return r.s[start:r.i], true
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return r.s[start:r.i], r.i > start
			}
		}
		r.i++
	}
	return r.s[start:r.i], depth == 0 && r.i > start
}

// special marks the bytes Skip must look at inside brackets.
var special = [256]bool{'"': true, '{': true, '}': true, '[': true, ']': true}

// skipString passes over a string starting at its opening quote.
func (r *Reader) skipString() bool {
	for r.i++; r.i < len(r.s); r.i++ {
		switch r.s[r.i] {
		case '\\':
			r.i++
		case '"':
			r.i++
			return true
		}
	}
	return false
}

// number reads a token of JSON's number grammar
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?) and reports whether it
// is an integer (no fraction, no exponent).
func (r *Reader) number() (tok string, integer, ok bool) {
	r.ws()
	s, i := r.s, r.i
	start := i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return "", false, false
	}
	integer = true
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return "", false, false
		}
		integer = false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return "", false, false
		}
		integer = false
	}
	r.i = i
	return s[start:i], integer, true
}

// Float reads a number as encoding/json does into a float64.
func (r *Reader) Float() (float64, bool) {
	tok, _, ok := r.number()
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseFloat(tok, 64)
	return v, err == nil
}

// Int reads an integer in [lo, hi] as encoding/json does into a Go
// integer type of that range: no fraction or exponent allowed.
func (r *Reader) Int(lo, hi int64) (int64, bool) {
	tok, integer, ok := r.number()
	// encoding/json reads unsigned types with ParseUint, which refuses
	// any sign, "-0" included.
	if !ok || !integer || (lo >= 0 && tok[0] == '-') {
		return 0, false
	}
	if len(tok) > 18 { // may not fit int64: leave it to strconv
		v, err := strconv.ParseInt(tok, 10, 64)
		return v, err == nil && v >= lo && v <= hi
	}
	// At most 18 digits fit int64; number checked the grammar.
	var v int64
	digits := tok
	if tok[0] == '-' {
		digits = tok[1:]
	}
	for i := 0; i < len(digits); i++ {
		v = v*10 + int64(digits[i]-'0')
	}
	if tok[0] == '-' {
		v = -v
	}
	return v, v >= lo && v <= hi
}

// array reads '[' elem (',' elem)* ']' or '[]', calling elem per element.
func (r *Reader) array(elem func() bool) bool {
	if !r.Byte('[') {
		return false
	}
	if r.Byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		more, ok := r.Next(']')
		if !ok {
			return false
		}
		if !more {
			return true
		}
	}
}

// Floats reads an array of numbers into a new slice (non-nil, like
// encoding/json's, also when empty); capHint sizes it.
func (r *Reader) Floats(capHint int) ([]float64, bool) {
	out := make([]float64, 0, capHint)
	ok := r.array(func() bool {
		v, ok := r.Float()
		out = append(out, v)
		return ok
	})
	return out, ok
}

// Int32s reads an array of int32.
func (r *Reader) Int32s(capHint int) ([]int32, bool) {
	return ints[int32](r, capHint, math.MinInt32, math.MaxInt32)
}

// Uint32s reads an array of uint32.
func (r *Reader) Uint32s(capHint int) ([]uint32, bool) {
	return ints[uint32](r, capHint, 0, math.MaxUint32)
}

// Int8s reads an array of int8.
func (r *Reader) Int8s(capHint int) ([]int8, bool) {
	return ints[int8](r, capHint, math.MinInt8, math.MaxInt8)
}

// ints reads an array of integers in [lo, hi], T's range, into a new
// slice (a method cannot have a type parameter).
func ints[T int8 | int32 | uint32](r *Reader, capHint int, lo, hi int64) ([]T, bool) {
	out := make([]T, 0, capHint)
	ok := r.array(func() bool {
		v, ok := r.Int(lo, hi)
		out = append(out, T(v))
		return ok
	})
	return out, ok
}

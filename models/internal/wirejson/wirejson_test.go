package wirejson

import (
	"encoding/json"
	"math"
	"testing"
)

// TestNumbersReadAsEncodingJSONDoes compares each reader with
// encoding/json decoding the same token into the same Go type: both
// accept it with the same value, or the reader refuses it (encoding/json
// then decides, see the package doc), never the reader alone accepting.
func TestNumbersReadAsEncodingJSONDoes(t *testing.T) {
	tokens := []string{
		"0", "-0", "1", "-1", "127", "128", "-128", "-129", "255", "2147483647", "2147483648",
		"-2147483648", "-2147483649", "4294967295", "4294967296", "999999999999999999",
		"9223372036854775807", "9223372036854775808", "1.5", "1e3", "1E-3", "-0.0",
		"1.7976931348623157e+308", "1e999", "-1e999", "4.9e-324", "1e-400", "0.1",
		"01", "+1", ".5", "1.", "1e", "-", "NaN", "Infinity", "-Infinity", `"1"`, "null", "true", "0x10",
	}
	for _, tok := range tokens {
		check := func(name string, got any, ok bool, into any) {
			err := json.Unmarshal([]byte(tok), into)
			if !ok {
				return
			}
			if err != nil {
				t.Errorf("%s %q: reader accepted %v, encoding/json refused: %v", name, tok, got, err)
				return
			}
			want := into
			switch w := want.(type) {
			case *float64:
				if g := got.(float64); math.Float64bits(g) != math.Float64bits(*w) {
					t.Errorf("%s %q: %v, encoding/json %v", name, tok, g, *w)
				}
			case *int32:
				if got.(int64) != int64(*w) {
					t.Errorf("%s %q: %v, encoding/json %v", name, tok, got, *w)
				}
			case *uint32:
				if got.(int64) != int64(*w) {
					t.Errorf("%s %q: %v, encoding/json %v", name, tok, got, *w)
				}
			case *int8:
				if got.(int64) != int64(*w) {
					t.Errorf("%s %q: %v, encoding/json %v", name, tok, got, *w)
				}
			}
		}
		r := NewReaderBytes([]byte(tok))
		f, ok := r.Float()
		check("float64", f, ok && r.End(), new(float64))
		r = NewReaderBytes([]byte(tok))
		i, ok := r.Int(math.MinInt32, math.MaxInt32)
		check("int32", i, ok && r.End(), new(int32))
		r = NewReaderBytes([]byte(tok))
		u, ok := r.Int(0, math.MaxUint32)
		check("uint32", u, ok && r.End(), new(uint32))
		r = NewReaderBytes([]byte(tok))
		b, ok := r.Int(math.MinInt8, math.MaxInt8)
		check("int8", b, ok && r.End(), new(int8))
	}
}

func TestSkipReturnsOneValue(t *testing.T) {
	cases := []struct{ in, want string }{
		{`{"a":[1,{"b":"]}"}]} ,`, `{"a":[1,{"b":"]}"}]}`},
		{`"x\"y" }`, `"x\"y"`},
		{` 12.5,`, `12.5`},
		{`[[],[]]]`, `[[],[]]`},
		{`true}`, `true`},
	}
	for _, c := range cases {
		got, ok := NewReaderBytes([]byte(c.in)).Skip()
		if !ok || got != c.want {
			t.Errorf("Skip(%q) = %q, %v; want %q", c.in, got, ok, c.want)
		}
	}
	for _, in := range []string{`{"a":1`, `"open`, `[`, ``, `}`} {
		if got, ok := NewReaderBytes([]byte(in)).Skip(); ok {
			t.Errorf("Skip(%q) = %q, accepted", in, got)
		}
	}
}

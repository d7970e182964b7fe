package jsonrpc

import (
	"bytes"
	"errors"
)

// ErrNotJSON is returned by Parse for a line that is not one well-formed JSON object.
var ErrNotJSON = errors.New("not a JSON object")

// maxDepth bounds nesting so a hostile line cannot blow the stack.
const maxDepth = 32

// Message is one JSON-RPC message: raw JSON spans of its members, which
// alias the parsed line and are valid until it changes. Absent members
// are nil. Method holds the unquoted method name (nil if it has escapes).
type Message struct {
	ID, Method, Params, Result, Error, JSONRPC []byte
	// Extra counts members other than the six above (e.g. eth-proxy's "worker").
	Extra int
	// Worker is eth-proxy's top-level "worker" member, raw.
	Worker []byte
}

// IsRequest reports whether m has a method (a request or notification).
func (m *Message) IsRequest() bool { return m.Method != nil }

// IsResponse reports whether m is a reply (result or error, no method).
func (m *Message) IsResponse() bool { return m.Method == nil && (m.Result != nil || m.Error != nil) }

// Parse fills m from line, which must be exactly one JSON object.
func (m *Message) Parse(line []byte) error {
	*m = Message{}
	i := ws(line, 0)
	if i >= len(line) || line[i] != '{' {
		return ErrNotJSON
	}
	i = ws(line, i+1)
	if i < len(line) && line[i] == '}' {
		return m.end(line, i+1)
	}
	for {
		if i >= len(line) || line[i] != '"' {
			return ErrNotJSON
		}
		ke, ok := skipString(line, i)
		if !ok {
			return ErrNotJSON
		}
		key := line[i+1 : ke-1]
		i = ws(line, ke)
		if i >= len(line) || line[i] != ':' {
			return ErrNotJSON
		}
		i = ws(line, i+1)
		ve, ok := skipValue(line, i, 0)
		if !ok {
			return ErrNotJSON
		}
		m.set(key, line[i:ve])
		i = ws(line, ve)
		if i >= len(line) {
			return ErrNotJSON
		}
		if line[i] == '}' {
			return m.end(line, i+1)
		}
		if line[i] != ',' {
			return ErrNotJSON
		}
		i = ws(line, i+1)
	}
}

func (m *Message) end(line []byte, i int) error {
	if ws(line, i) != len(line) {
		*m = Message{}
		return ErrNotJSON
	}
	return nil
}

func (m *Message) set(key, v []byte) {
	switch string(key) { // no allocation: compiler-optimised comparison
	case "id":
		m.ID = v
	case "method":
		s, ok := Str(v)
		if ok {
			m.Method = s
		} else {
			m.Method = []byte{} // present but not a plain string: never matches a name
		}
	case "params":
		m.Params = v
	case "result":
		m.Result = v
	case "error":
		m.Error = v
	case "jsonrpc":
		m.JSONRPC = v
	case "worker":
		m.Worker = v
		m.Extra++
	default:
		m.Extra++
	}
}

func ws(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// skipString returns the index after the closing quote of the string at b[i].
func skipString(b []byte, i int) (int, bool) {
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '\\':
			j++
		case c == '"':
			return j + 1, true
		case c < 0x20:
			return 0, false
		}
	}
	return 0, false
}

// skipValue returns the index after the JSON value starting at b[i].
func skipValue(b []byte, i, depth int) (int, bool) {
	if i >= len(b) || depth > maxDepth {
		return 0, false
	}
	switch c := b[i]; {
	case c == '"':
		return skipString(b, i)
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		i = ws(b, i+1)
		if i < len(b) && b[i] == closer {
			return i + 1, true
		}
		for {
			if c == '{' {
				if i >= len(b) || b[i] != '"' {
					return 0, false
				}
				e, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = ws(b, e)
				if i >= len(b) || b[i] != ':' {
					return 0, false
				}
				i = ws(b, i+1)
			}
			e, ok := skipValue(b, i, depth+1)
			if !ok {
				return 0, false
			}
			i = ws(b, e)
			if i >= len(b) {
				return 0, false
			}
			if b[i] == closer {
				return i + 1, true
			}
			if b[i] != ',' {
				return 0, false
			}
			i = ws(b, i+1)
		}
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && (b[j] >= '0' && b[j] <= '9' || b[j] == '.' || b[j] == 'e' || b[j] == 'E' || b[j] == '+' || b[j] == '-') {
			j++
		}
		return j, true
	case bytes.HasPrefix(b[i:], []byte("true")):
		return i + 4, true
	case bytes.HasPrefix(b[i:], []byte("false")):
		return i + 5, true
	case bytes.HasPrefix(b[i:], []byte("null")):
		return i + 4, true
	}
	return 0, false
}

// Str returns the contents of a JSON string without its quotes, if v is a
// string without escape sequences.
func Str(v []byte) ([]byte, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return nil, false
	}
	s := v[1 : len(v)-1]
	if bytes.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	return s, true
}

// Kind returns the first byte of a value: '{', '[', '"', 'n', 't', 'f', or a digit/'-'; 0 if empty.
func Kind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

// IsNull reports whether v is absent or JSON null.
func IsNull(v []byte) bool { return len(v) == 0 || string(v) == "null" }

// IsTrue reports whether v is JSON true.
func IsTrue(v []byte) bool { return string(v) == "true" }

// Field returns the raw value of member key in the object v (nil if v is
// not an object or has no such member). v must come from Parse (valid JSON).
func Field(v []byte, key string) []byte {
	if Kind(v) != '{' {
		return nil
	}
	i := ws(v, 1)
	for i < len(v) && v[i] == '"' {
		ke, ok := skipString(v, i)
		if !ok {
			return nil
		}
		k := v[i+1 : ke-1]
		i = ws(v, ke)
		if i >= len(v) || v[i] != ':' {
			return nil
		}
		i = ws(v, i+1)
		ve, ok := skipValue(v, i, 1)
		if !ok {
			return nil
		}
		if string(k) == key {
			return v[i:ve]
		}
		i = ws(v, ve)
		if i < len(v) && v[i] == ',' {
			i = ws(v, i+1)
		}
	}
	return nil
}

// Index returns the raw n-th element of the array v (nil if absent).
func Index(v []byte, n int) []byte {
	if Kind(v) != '[' {
		return nil
	}
	i := ws(v, 1)
	for k := 0; i < len(v) && v[i] != ']'; k++ {
		e, ok := skipValue(v, i, 1)
		if !ok {
			return nil
		}
		if k == n {
			return v[i:e]
		}
		i = ws(v, e)
		if i < len(v) && v[i] == ',' {
			i = ws(v, i+1)
		}
	}
	return nil
}

// Len returns the number of elements of the array v (-1 if not an array).
func Len(v []byte) int {
	if Kind(v) != '[' {
		return -1
	}
	n := 0
	i := ws(v, 1)
	for i < len(v) && v[i] != ']' {
		e, ok := skipValue(v, i, 1)
		if !ok {
			return n
		}
		n++
		i = ws(v, e)
		if i < len(v) && v[i] == ',' {
			i = ws(v, i+1)
		}
	}
	return n
}

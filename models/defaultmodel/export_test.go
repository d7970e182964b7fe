package defaultmodel

import (
	"bytes"
	"compress/gzip"
	"io"
)

// Inflate returns the shipped model's JSON (for benchmarks and tests).
func Inflate() ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

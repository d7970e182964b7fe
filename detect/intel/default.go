package intel

import (
	"bytes"
	_ "embed"
	"fmt"
	"time"
)

// DefaultSource is the source name of the shipped default list.
const DefaultSource = "minerwatch-default"

//go:embed default/pools.txt
var defaultList []byte

// DefaultList returns the curated default list (default/pools.txt, embedded
// at build time) as a new Set.
func DefaultList() (*Set, error) {
	s := NewSet()
	res, err := s.Load(bytes.NewReader(defaultList), "default/pools.txt", LoadOptions{Format: "plain", Source: DefaultSource, Now: time.Unix(0, 0)})
	if err != nil {
		return nil, err
	}
	if len(res.Warnings) > 0 {
		// The list ships with the binary; a bad line is a build bug.
		return nil, fmt.Errorf("default intel list: %s", res.Warnings[0])
	}
	return s, nil
}

// DefaultListText returns the default list as shipped.
func DefaultListText() []byte { return bytes.Clone(defaultList) }

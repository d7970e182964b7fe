package defaultmodel

import (
	_ "embed"
	"fmt"

	"github.com/minerwatch/minerwatch/models/modelfile"
)

//go:embed model.json.gz
var raw []byte

// ID names the shipped model in alerts.
const ID = "default"

// Load decodes and validates the shipped model.
func Load() (*modelfile.Model, error) {
	m, err := modelfile.Decode(raw)
	if err != nil {
		return nil, fmt.Errorf("shipped default model: %w", err)
	}
	return m, nil
}

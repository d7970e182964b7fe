package engine

// Eager makes cfg allocate every flow's stage state at its first packet,
// the behaviour before lazy allocation, for identity tests.
func Eager(cfg *Config) { cfg.eager = true }

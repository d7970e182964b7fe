package parallel

// WithMaxLines returns cfg with the workers' recycled alert lines buffer
// bounded at n bytes, so that a test's few alerts take the path of a
// burst (spill chunks).
func WithMaxLines(cfg Config, n int) Config {
	cfg.maxLines = n
	return cfg
}

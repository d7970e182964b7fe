package forest

// Reference is the pre-compact inference layout (reference_test.go),
// exported to the external tests that score real feature rows.
type Reference = refForest

// NewReference rebuilds f in the reference layout.
func NewReference(f *Forest) *Reference { return newRefForest(f) }

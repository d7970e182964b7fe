// Package shareddata locates the project's shared datasets (../shared next
// to the repository, or $MINERWATCH_SHARED) for tests that read the real
// captures, and skips those tests with a clear message when they are absent.
package shareddata

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Root returns the repository root (the directory holding go.mod).
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Dir returns the shared datasets folder (…/shared/datasets), or "" when
// it is absent.
func Dir() string {
	base := os.Getenv("MINERWATCH_SHARED")
	if base == "" {
		base = filepath.Join(Root(), "..", "shared")
	}
	d := filepath.Join(base, "datasets")
	if fi, err := os.Stat(filepath.Join(d, "manifest.tsv")); err != nil || fi.IsDir() {
		return ""
	}
	return d
}

// Require returns the datasets folder or skips the test.
func Require(tb testing.TB) string {
	tb.Helper()
	d := Dir()
	if d == "" {
		tb.Skip("shared datasets not found: put the shared folder next to the repository (../shared/datasets/manifest.tsv) or set MINERWATCH_SHARED")
	}
	return d
}

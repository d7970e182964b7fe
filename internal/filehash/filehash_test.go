package filehash

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSHA256(t *testing.T) {
	dir := t.TempDir()
	content := []byte(strings.Repeat("minerwatch\n", 10000))
	path := filepath.Join(dir, "x.pcap")
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(content)
	tests := []struct {
		name    string
		ctx     func() context.Context
		path    string
		wantErr error
		errText string
	}{
		{name: "whole file", ctx: context.Background, path: path},
		{name: "cancelled stops", ctx: func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, path: path, wantErr: context.Canceled},
		{name: "missing file names it", ctx: context.Background, path: filepath.Join(dir, "none"), errText: "none"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sum, n, err := SHA256(tc.ctx(), tc.path)
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.errText != "":
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err = %v, want one naming %q", err, tc.errText)
				}
			default:
				if err != nil || sum != hex.EncodeToString(want[:]) || n != int64(len(content)) {
					t.Fatalf("got %s, %d, %v; want %x, %d", sum, n, err, want, len(content))
				}
			}
		})
	}
}

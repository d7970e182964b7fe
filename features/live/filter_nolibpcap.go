//go:build !(cgo && libpcap)

package live

import (
	"errors"

	"golang.org/x/net/bpf"
)

// HasCompiler reports whether tcpdump expressions can be compiled.
const HasCompiler = false

var errNoCompiler = errors.New("this minerwatch was built without libpcap's filter compiler: " +
	"rebuild with `go build -tags libpcap` (needs libpcap-dev), or compile the filter elsewhere " +
	"with `tcpdump -ddd 'EXPR' > filter.bpf` and pass -f @filter.bpf")

func compileExpr(string, int) ([]bpf.RawInstruction, error) { return nil, errNoCompiler }

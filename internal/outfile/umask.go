package outfile

import (
	"bytes"
	"io/fs"
	"os"
	"strconv"
)

// umask is the process's file mode creation mask. A temporary file's final
// mode is set with chmod, which the umask does not filter; applying it by
// hand gives the mode os.Create would have. It is read from
// /proc/self/status (Linux ≥ 4.7) because syscall.Umask can only read the
// mask by setting it, racing with files other goroutines create; where
// that file is missing the usual 022 is assumed.
func umask() fs.FileMode {
	b, err := os.ReadFile("/proc/self/status")
	if err == nil {
		for _, line := range bytes.Split(b, []byte("\n")) {
			if v, ok := bytes.CutPrefix(line, []byte("Umask:")); ok {
				if m, err := strconv.ParseUint(string(bytes.TrimSpace(v)), 8, 32); err == nil {
					return fs.FileMode(m)
				}
			}
		}
	}
	return 0o022
}

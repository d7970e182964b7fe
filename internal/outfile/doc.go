// Package outfile opens the output paths of every minerwatch command in one
// way, so that no command can destroy what an operator pointed it at.
//
// What a path is decides how it is written:
//
//   - a regular file, or a path that does not exist yet: the output is
//     written to a temporary file in the same directory, synced, and
//     renamed into place by Commit; Abort (or any error) removes the
//     temporary file and leaves the old file untouched. In Append mode
//     the file is opened for appending instead (alert logs are never
//     truncated), created if missing. Missing folders above it are
//     created (as mkdir -p); Check refuses a path whose nearest existing
//     folder cannot be written in, before any work. Errors name the path
//     given, never the temporary file.
//   - a character device or a FIFO (/dev/null, /dev/stdout, a named pipe,
//     bash's >(...)): written through, never renamed over. A write error
//     such as ENOSPC from /dev/full is returned to the caller like any
//     other write error.
//   - "-" with Options.Stdout set: written to that writer.
//   - a symlink is followed: the file it points to is written (replaced
//     atomically in its own directory, the link itself is kept); a
//     dangling symlink is refused rather than created through.
//   - a directory, a block device, a socket, or the same file as one of
//     Options.Inputs is refused with an error before any work is done.
//
// Temporary files are registered in a Temps set owned by the command's run,
// so a signal handler that must exit at once can remove them all.
//
// Example:
//
//	out, err := outfile.Create("rows.arrow", outfile.Options{Perm: 0o640, Inputs: captures})
//	if err != nil {
//		return err
//	}
//	if err := write(out); err != nil {
//		out.Abort()
//		return err
//	}
//	return out.Commit()
package outfile

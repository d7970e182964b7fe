// Package filehash hashes a file with SHA-256 while honouring a context,
// so a signal stops the hashing of a large capture at once. The feature
// exports' provenance record and train's list of training captures both
// identify captures this way; one implementation keeps the two ids equal.
package filehash

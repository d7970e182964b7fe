// Package manifest reads a dataset manifest (manifest.tsv) and answers,
// for any flow of a listed capture, whether it is mining, benign, or of
// unknown truth (ignored).
//
// Format: tab-separated, '#' starts a comment line, six columns:
//
//	path      capture file, relative to the manifest's folder
//	label     mining | benign | mixed | unknown
//	mining    '*' (every flow), 'ip:port[,ip:port…]' (flows touching these
//	          endpoints), '@FILE' (one flow per line: 'ip:port ip:port' exact
//	          flow in either order, or a single 'ip:port' = every flow
//	          touching it), '-' (none)
//	scenario  plaintext | tls | proxy | -
//	ignore    the same forms as mining: flows whose truth is unknown
//	note      free text
//
// Lookup order for a flow: mining rule, then ignore rule, then the label
// ('mining' → every other flow is mining too only when mining is '*').
// Errors name the file and line.
//
// Example:
//
//	m, err := manifest.Load("../shared/datasets/manifest.tsv")
//	for _, e := range m.Entries { truth := e.Truth(client, server) }
package manifest

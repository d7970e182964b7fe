// Package jsonrpc reads newline-delimited JSON-RPC incrementally and
// classifies each line without allocating.
//
// Reader cuts a byte stream (delivered in arbitrary chunks) into lines:
// a line split across chunks is joined in a bounded buffer; several lines
// in one chunk are handed out as sub-slices of the chunk, without copying.
// A line longer than MaxLine is skipped up to its newline and counted,
// never buffered. After a reassembly gap, the partial line is dropped and
// reading resumes at the next newline.
//
// Message.Parse checks that a line is exactly one well-formed JSON object
// (any key order, any insignificant whitespace, nesting bounded) and
// records the raw spans of the JSON-RPC members id, method, params,
// result, error and jsonrpc. Field, Index, Len and Str read nested values
// out of those spans, again without allocating. Lines that are not JSON
// objects (other protocols, binary) return ErrNotJSON and are counted by
// the caller as skipped bytes.
//
// HTTPReader does the same for JSON-RPC carried in HTTP/1.x bodies
// (getwork, getblocktemplate, eth-proxy over HTTP): it follows
// Content-Length and chunked framing and hands each body to the Handler as
// one line, with the request's headers of interest (User-Agent, Host,
// X-Mining-Extensions, X-Stratum) in HTTPInfo. Whole messages in a chunk
// are read in place; a split or chunked one is buffered.
//
// A Handler or HTTPHandler that also implements Buffers lends the readers
// their buffer only while a line or message is split, and has it back
// when it completes; Recycle readies a reader for a new stream and gives
// its buffer back.
//
// Example:
//
//	r := jsonrpc.Reader{MaxLine: 16 << 10}
//	var m jsonrpc.Message
//	r.Write(chunk, handlerFunc) // handler: if m.Parse(line) == nil { ... m.Method ... }
package jsonrpc

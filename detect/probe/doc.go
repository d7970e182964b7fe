// Package probe asks a suspected endpoint to speak Stratum: the opt-in
// active confirmation behind `minerwatch probe` and `detect --probe`.
//
// A flow-statistics verdict on an encrypted flow is a probability; a pool
// answering a well-formed mining login with a job is evidence. Probe
// connects to the server a flow revealed (address and port, TLS or not,
// SNI), sends the login/subscribe of each dialect the signature stage
// knows — CryptoNote/XMRig login, Stratum v1 mining.subscribe +
// mining.authorize, eth-proxy eth_submitLogin + eth_getWork,
// EthereumStratum/2.0.0 mining.hello — one connection per dialect until
// one answers, and judges the answer with the same jsonrpc parser and
// stratum state machine as detection: a reply the dialect defines,
// matched to our request by id, makes the verdict "pool". Anything else
// is "not-pool", with what the server did answer (HTTP, an SSH banner, a
// TLS alert, other JSON, other bytes, a closed connection or silence), or
// "error" when the endpoint could not be reached at all.
//
// What is sent is fixed and harmless: a throw-away login shaped like a
// wallet (ThrowawayWallet: a well-formed Monero address, checksum and
// all, so pools that validate logins answer, whose "keys" are hashes of
// a text, not keys anyone holds), the password "x" and an agent string
// naming minerwatch (Config.Agent). A share is never submitted. An encrypted proxy (shadowsocks, ssh -D) cannot be
// confirmed: it answers a stranger with its own protocol or nothing.
//
// Scheduler runs probes for detect off the packet path: alerts in scope
// queue one probe per endpoint, workers take them at a bounded rate,
// verdicts are cached for a TTL, and each result becomes a
// "minerwatch.probe" event on the flow that triggered it; a confirmed
// pool joins the learned intel list with the probe as evidence.
//
// Example:
//
//	r := probe.Probe(ctx, probe.Target{Addr: netip.MustParseAddrPort("10.0.0.5:443"), TLS: true, SNI: "pool.example"}, probe.Config{})
//	if r.Verdict == probe.VerdictPool { … r.Dialect, r.Difficulty, r.TLS.Fingerprint … }
package probe

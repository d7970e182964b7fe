// Package stratum is the signature state machine: it follows a mining
// conversation message by message and decides, with a confidence, whether
// a flow is mining, in which dialect, and what it reveals (miner agent,
// wallet and coin, worker, algorithms, pool host, difficulty, shares,
// hashrate).
//
// A Machine is fed parsed JSON-RPC messages of both directions
// (Feed), Stratum V2 setup frames (FeedSV2) or a Noise handshake seen
// by its sizes (NoiseHandshake). Each dialect is one file holding one
// registered value (dialects in dialect.go): cryptonote.go (XMRig,
// xmr-stak, xmrig-proxy, Coinhive relays), stratumv1.go (Bitcoin family,
// Equihash, EthereumStratum/1.0.0), ethproxy.go, ethstratum2.go (EIP-1571),
// getwork.go (getwork/getblocktemplate over HTTP), sv2.go (Stratum V2).
//
// # Verdict rules
//
//  1. A message counts only if it is a whole, well-formed JSON object whose
//     method is in a dialect's vocabulary AND whose params/result have that
//     method's structure (a CryptoNote submit needs job_id + hex nonce +
//     hex result; a mining.notify needs ≥ 4 params; an eth_getWork reply
//     needs two 0x+64-hex hashes and a boundary; …). A string inside some
//     other protocol never forms such a line.
//  2. Client vocabulary (login, subscribe, authorize, submit, getwork,
//     eth_submitLogin, mining.hello, SetupConnection…) counts only from the
//     client (Up); server vocabulary (job, mining.notify, set_difficulty,
//     set_target, replies) only from the server (Down).
//  3. Mining = client vocabulary AND server vocabulary in the same flow.
//     One side alone (a lone mining.subscribe nobody answers, a server
//     that only pushes) is never a verdict.
//  4. Confidence 0.99 (ConfidenceConfirmed) when a server reply matched a
//     client mining request by id (by order for HTTP) and had the
//     structure that request expects (login → job/status OK, subscribe →
//     [subscriptions, extranonce1, …], submit → true/{"status":"OK"}, …);
//     0.95 (ConfidenceBothSides) when both sides spoke mining vocabulary
//     but no reply was matched (mid-session pushes + requests);
//     0.8 (ConfidenceNoise) for a Stratum V2 Noise handshake recognised
//     only by its sizes (first client payload 64 B, first server payload
//     234 B).
//  5. Mid-session captures need no login: a job/notify push plus a submit,
//     or a submit and its accepted reply, are enough.
//  6. The reason is "<dialect>: <state path>", e.g.
//     "cryptonote: hello → authorized → job → submit → accepted".
//
// Hashrate = Σ expected hashes of accepted shares ÷ seconds from the first
// message to the last accepted share. Expected hashes per share: the
// CryptoNote difficulty (2^32/target32 or 2^64/target64); Stratum v1
// difficulty × 2^32 (Bitcoin convention; scrypt pools use 2^16);
// 2^256/target for mining.set_target and Ethash boundaries.
//
// Example:
//
//	var m stratum.Machine
//	var msg jsonrpc.Message
//	if msg.Parse(line) == nil { m.Feed(packet.Up, &msg, ts) }
//	if v := m.Verdict(); v.Mining { … v.Dialect, v.Confidence, m.Meta … }
package stratum

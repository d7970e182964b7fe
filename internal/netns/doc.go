// Package netns runs code inside a named network namespace (one made with
// `ip netns add`, bound under /run/netns). The test helpers that build
// namespaces for live capture (features/live/livetest) and for the active
// probe's servers (detect/probe/probetest) share it, so the subtle part —
// a locked OS thread that never returns to the scheduler in the wrong
// namespace — is written once.
package netns

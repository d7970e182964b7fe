// Package dataset turns a manifest of labelled captures into labelled
// feature rows — the rows `minerwatch train` learns from, `minerwatch eval`
// scores and `minerwatch features --manifest` exports.
//
// Every capture is processed on its own (its own flow table: lab captures
// reuse addresses, so merging them would merge unrelated flows) through the
// detection engine, so the signature stage runs alongside the features.
// Each flow's rows are held until the flow ends and then labelled:
//
//   - by the manifest: `mining` captures (`*` or endpoint rules), `benign`
//     captures, `mixed` captures with endpoint/flow rules, and `ignore`
//     rules (truth unknown: the rows are kept with label "ignore" and left
//     out of training and scoring); label_source "manifest";
//   - by the signature stage (weak supervision): in `unknown` captures a
//     flow the Stratum state machine confirmed is mining and any other is
//     benign; in `mixed` captures a confirmed flow outside the rules is
//     mining too; label_source "signature".
//
// Rows carry a group id for grouped splits: the capture's name without
// extension and without an "_aux-…" suffix, so the plaintext proxy-to-pool
// leg of a tunnelled session always falls on the same side of a split as
// the tunnel itself (the two are one mining session).
package dataset

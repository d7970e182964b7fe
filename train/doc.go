// Package train fits and evaluates minerwatch's flow classifier on labelled
// rows from train/dataset, honestly:
//
//   - splits are by group (capture session), never by flow or window: the
//     checkpoints of one flow are near-copies of each other, and a split by
//     row would put the same flow on both sides;
//   - the decision threshold is chosen for a target false-positive rate on
//     benign rows the forest did not train on (out-of-bag scores inside the
//     training set), never on the test set;
//   - results are reported per row (flow at a checkpoint), per flow (the
//     first checkpoint that crosses the threshold decides it, as online
//     detection does), per scenario (plaintext, tls, proxy), per checkpoint,
//     and as false alarms per benign flow-hour.
//
// Experiments: grouped k-fold cross-validation; "plaintext → encrypted"
// (train on sessions whose mining is plaintext, test on TLS and proxied
// sessions); and a comparison of the feature sets on the same folds.
package train

// Package score adapts a trained model file (models/modelfile) to the
// detection engine's stage 2: it checks the model's feature schema against
// the extractor's before scoring anything, scores feature vectors, and
// explains a score by the features that pushed it most (per-row path
// contributions of the forest).
package score

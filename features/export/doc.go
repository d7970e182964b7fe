// Package export writes feature rows as Apache Arrow IPC files (the "Feather
// v2" file format that pyarrow, pandas, polars and DuckDB read directly).
//
// Rows are written in record batches as they come, so memory stays bounded
// however large the input; the file is written under a temporary name and
// renamed into place by Close, so a failed run never leaves a half-written
// file where a reader expects a complete one.
//
// The schema is self-describing: every feature column carries its unit, set,
// direction and definition as Arrow field metadata, and the schema metadata
// records the minerwatch version, feature sets, input captures with their
// SHA-256, checkpoint/window settings and flow-table settings.
//
// Undefined feature values (NaN in memory) are written as nulls, never NaN,
// so that SQL and dataframe aggregates skip them; the columns after the
// labels carry the flow's TLS ClientHello and the detection stages'
// verdicts and score (Stages), null where a stage said nothing.
package export

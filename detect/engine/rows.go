package engine

import (
	"math"

	"github.com/minerwatch/minerwatch/features/export"
)

// RowStages returns the TLS metadata and the stages' verdicts on fi's flow
// for the row being handed to OnRow: the feature files' TLS and stage
// columns, which researchers join with the alerts on flow_id.
func (fi *FlowInfo) RowStages() export.Stages {
	st := export.Stages{
		SignatureState:   fi.SignatureState(),
		SignatureDialect: fi.Dialect(),
		IntelMatch:       fi.IntelMatch(),
	}
	if t := fi.TLS(); t != nil {
		st.SNI, st.JA3Hash, st.JA4 = t.SNI, t.JA3Hash, t.JA4
	}
	if s := float64(fi.ModelScore); !math.IsNaN(s) {
		st.ModelScore, st.Scored = s, true
	}
	return st
}

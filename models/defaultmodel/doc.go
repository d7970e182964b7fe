// Package defaultmodel ships minerwatch's default flow classifier, trained
// by `make model` on every capture of the shared datasets (see REPORT.md
// next to it for how it was made and how well it does), and embedded in
// the binary so `minerwatch detect` scores flows with no set-up.
package defaultmodel

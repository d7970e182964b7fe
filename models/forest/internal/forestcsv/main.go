// Command forestcsv trains a forest on a CSV file and writes the predicted
// probabilities for another, so tests/python can compare our forest with
// scikit-learn's on the same data. It is a test harness, not a user tool.
//
//	forestcsv -train train.csv -test test.csv -out proba.txt [-trees 100 …]
//
// CSV: a header row, feature columns, the label (0/1) in the last column;
// empty, "nan" or "NaN" cells are missing values. The output has one
// probability per test row. With -model, the forest is saved as a model
// file, loaded back, and the loaded copy does the scoring (so the
// cross-check also covers the file format). Timings go to stderr as JSON.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/minerwatch/minerwatch/models/forest"
	"github.com/minerwatch/minerwatch/models/modelfile"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "forestcsv:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		trainPath = flag.String("train", "", "training CSV")
		testPath  = flag.String("test", "", "CSV to score (its label column is ignored)")
		outPath   = flag.String("out", "", "where to write probabilities, one per line")
		modelPath = flag.String("model", "", "save the model here and score with the reloaded copy")
		p         forest.Params
		split     = flag.String("split", "histogram", "histogram or exact")
		criterion = flag.String("criterion", "gini", "gini or entropy")
		balanced  = flag.Bool("balanced", false, "balanced class weights")
		single    = flag.Bool("tree", false, "train a single decision tree")
	)
	flag.IntVar(&p.Trees, "trees", 100, "number of trees")
	flag.IntVar(&p.MaxDepth, "max-depth", 0, "maximum depth, 0 = unlimited")
	flag.IntVar(&p.MinSamplesLeaf, "min-samples-leaf", 1, "min samples per leaf")
	flag.IntVar(&p.MinSamplesSplit, "min-samples-split", 2, "min samples to split")
	flag.IntVar(&p.MaxFeatures, "max-features", 0, "features per split, 0 = sqrt, -1 = all")
	flag.IntVar(&p.MaxBins, "max-bins", 255, "histogram bins")
	flag.IntVar(&p.Workers, "workers", 0, "goroutines, 0 = all cores")
	flag.Uint64Var(&p.Seed, "seed", 0, "random seed")
	flag.Parse()
	if *trainPath == "" || *testPath == "" || *outPath == "" {
		return fmt.Errorf("-train, -test and -out are required")
	}
	switch *split {
	case "histogram":
		p.Split = forest.Histogram
	case "exact":
		p.Split = forest.Exact
	default:
		return fmt.Errorf("-split %q: want histogram or exact", *split)
	}
	switch *criterion {
	case "gini":
		p.Criterion = forest.Gini
	case "entropy":
		p.Criterion = forest.Entropy
	default:
		return fmt.Errorf("-criterion %q: want gini or entropy", *criterion)
	}
	p.Balanced = *balanced

	names, X, y, err := readCSV(*trainPath)
	if err != nil {
		return err
	}
	_, Xt, _, err := readCSV(*testPath)
	if err != nil {
		return err
	}
	start := time.Now()
	var f *forest.Forest
	if *single {
		f, err = forest.TrainTree(X, y, p)
	} else {
		f, err = forest.Train(X, y, p)
	}
	if err != nil {
		return err
	}
	trainTime := time.Since(start)

	if *modelPath != "" {
		m := &modelfile.Model{FeatureSet: "forestcsv", FeatureNames: names, Threshold: 0.5, Forest: f,
			Training: modelfile.Training{Sources: []string{*trainPath}, TrainRows: len(X)}}
		if err := modelfile.Save(*modelPath, m); err != nil {
			return err
		}
		loaded, err := modelfile.Load(*modelPath)
		if err != nil {
			return err
		}
		if err := loaded.CheckSchema("forestcsv", names); err != nil {
			return err
		}
		f = loaded.Forest
	}

	start = time.Now()
	proba := make([]float64, len(Xt))
	f.PredictProbaBatch(Xt, proba)
	batchTime := time.Since(start)
	start = time.Now()
	for i, row := range Xt {
		proba[i] = f.PredictProba(row)
	}
	rowTime := time.Since(start)

	out, err := os.Create(*outPath)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	for _, v := range proba {
		w.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("write %s: %w", *outPath, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("write %s: %w", *outPath, err)
	}
	oob := f.OOB()
	return json.NewEncoder(os.Stderr).Encode(map[string]any{
		"train_seconds":    trainTime.Seconds(),
		"predict_batch_ns": float64(batchTime.Nanoseconds()) / float64(max(1, len(Xt))),
		"predict_row_ns":   float64(rowTime.Nanoseconds()) / float64(max(1, len(Xt))),
		"nodes":            f.NumNodes(),
		"oob_accuracy":     oob.Accuracy,
		"oob_roc_auc":      oob.ROCAUC,
		"train_rows":       len(X),
		"features":         len(names),
	})
}

// readCSV returns feature names, rows and labels (last column).
func readCSV(path string) ([]string, [][]float64, []int, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, err
	}
	defer fh.Close()
	r := csv.NewReader(bufio.NewReaderSize(fh, 1<<20))
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
	}
	p := len(header) - 1
	if p < 1 {
		return nil, nil, nil, fmt.Errorf("read %s: need feature columns and a label column", path)
	}
	names := append([]string(nil), header[:p]...)
	var X [][]float64
	var y []int
	for line := 2; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s: %w", path, err)
		}
		row := make([]float64, p)
		for j := range p {
			row[j], err = parseCell(rec[j])
			if err != nil {
				return nil, nil, nil, fmt.Errorf("read %s:%d column %q: %w", path, line, header[j], err)
			}
		}
		label, err := strconv.ParseFloat(strings.TrimSpace(rec[p]), 64)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s:%d label: %w", path, line, err)
		}
		X = append(X, row)
		y = append(y, int(label))
	}
	return names, X, y, nil
}

func parseCell(s string) (float64, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.EqualFold(s, "nan") {
		return strconv.ParseFloat("NaN", 64)
	}
	return strconv.ParseFloat(s, 64)
}

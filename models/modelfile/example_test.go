package modelfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/minerwatch/minerwatch/models/forest"
	"github.com/minerwatch/minerwatch/models/modelfile"
)

func Example() {
	X := [][]float64{{1, 10}, {2, 20}, {3, 30}, {4, 40}}
	y := []int{0, 0, 1, 1}
	f, err := forest.TrainTree(X, y, forest.Params{})
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "model")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.json.gz")

	m := &modelfile.Model{FeatureSet: "demo-2", FeatureNames: []string{"pkts", "bytes"}, Threshold: 0.5, Forest: f}
	if err := modelfile.Save(path, m); err != nil {
		fmt.Println(err)
		return
	}
	loaded, err := modelfile.Load(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(loaded.CheckSchema("demo-2", []string{"pkts", "bytes"}))
	fmt.Println(loaded.CheckSchema("demo-2", []string{"bytes", "pkts"}))
	fmt.Println(loaded.Forest.PredictProba([]float64{3.5, 35}))
	// Output:
	// <nil>
	// feature set "demo-2": feature 0 is "pkts" in the model but "bytes" in the extractor
	// 1
}

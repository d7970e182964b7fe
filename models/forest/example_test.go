package forest_test

import (
	"fmt"
	"math"

	"github.com/minerwatch/minerwatch/models/forest"
)

// A tree learns "mining when the upstream packets are small and regular";
// NaN (inter-arrival std of a one-packet window) is handled without
// imputation.
func Example() {
	var X [][]float64
	var y []int
	for i := range 400 {
		size, iatStd := float64(60+10*(i%20)), float64(i/20)/4
		if i%17 == 0 {
			iatStd = math.NaN()
		}
		X = append(X, []float64{size, iatStd})
		mining := 0
		if size < 120 && !(iatStd > 2) {
			mining = 1
		}
		y = append(y, mining)
	}
	tree, err := forest.TrainTree(X, y, forest.Params{MaxDepth: 2})
	if err != nil {
		fmt.Println(err)
		return
	}
	rules, _ := tree.Rules(0, []string{"pkt_size_up_mean", "iat_up_std"})
	fmt.Print(rules)
	fmt.Println(tree.PredictProba([]float64{90, math.NaN()}))
	// Output:
	// if pkt_size_up_mean <= 115 (NaN: no) {
	//   if iat_up_std <= 2.125 (NaN: yes) {
	//     return 1  // P(mining)
	//   } else {
	//     return 0  // P(mining)
	//   }
	// } else {
	//   return 0  // P(mining)
	// }
	// 1
}

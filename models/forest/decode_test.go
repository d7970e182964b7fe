package forest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/minerwatch/minerwatch/models/forest"
)

// The fast reader (readWire) and encoding/json must load every forest to
// the same bits and refuse every broken one with the same error. These
// tests decode each input both ways and compare.

// shippedForestJSON is the "forest" value of the shipped model file, read
// from disk so that the bytes are those every detect run decodes.
func shippedForestJSON(tb testing.TB) []byte {
	tb.Helper()
	raw, err := os.ReadFile("../defaultmodel/model.json.gz")
	if err != nil {
		tb.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		tb.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		tb.Fatal(err)
	}
	var file struct {
		Forest json.RawMessage `json:"forest"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatal(err)
	}
	return file.Forest
}

// trainedForestJSON trains a small forest on rows with NaN (so nan_left
// takes both values) and ±Inf (so thresholds are written as ±MaxFloat64).
func trainedForestJSON(tb testing.TB, trees int, single bool) []byte {
	tb.Helper()
	rng := rand.New(rand.NewPCG(7, 13))
	X := make([][]float64, 400)
	y := make([]int, len(X))
	for i := range X {
		X[i] = []float64{rng.Float64(), rng.NormFloat64() * 1e6, rng.Float64()}
		switch i % 7 {
		case 0:
			X[i][1] = math.NaN()
		case 1:
			X[i][0] = math.Inf(1)
		case 2:
			X[i][2] = math.Inf(-1)
		}
		if X[i][0] > 0.5 || math.IsNaN(X[i][1]) {
			y[i] = 1
		}
	}
	p := forest.Params{Trees: trees, Seed: 3, Workers: 1}
	var f *forest.Forest
	var err error
	if single {
		f, err = forest.TrainTree(X, y, p)
	} else {
		f, err = forest.Train(X, y, p)
	}
	if err != nil {
		tb.Fatal(err)
	}
	data, err := json.Marshal(f)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// decodeBoth decodes data with UnmarshalJSON and with encoding/json alone;
// it fails the test unless both agree (same error text, or same bits).
func decodeBoth(t testing.TB, data []byte) (fast *forest.Forest, err error) {
	fast, slow := new(forest.Forest), new(forest.Forest)
	errFast := fast.UnmarshalJSON(data)
	errSlow := forest.UnmarshalReflect(slow, data)
	switch {
	case (errFast == nil) != (errSlow == nil):
		t.Fatalf("fast path error %v, encoding/json error %v", errFast, errSlow)
	case errFast != nil:
		if errFast.Error() != errSlow.Error() {
			t.Fatalf("errors differ:\n fast: %v\n json: %v", errFast, errSlow)
		}
		return nil, errFast
	}
	if d := forest.SameBits(fast, slow); d != "" {
		t.Fatalf("forests differ: %s", d)
	}
	return fast, nil
}

func TestFastDecodeLoadsTheSameForestBitForBit(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"shipped model", shippedForestJSON(t)},
		{"trained forest with NaN and Inf", trainedForestJSON(t, 20, false)},
		{"single tree", trainedForestJSON(t, 1, true)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !forest.ReadsFast(c.data) {
				t.Fatal("the fast reader refused a forest MarshalJSON wrote")
			}
			f, err := decodeBoth(t, c.data)
			if err != nil {
				t.Fatal(err)
			}
			// And the wire form survives the round trip unchanged.
			again, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(again, c.data) {
				t.Error("re-encoding the decoded forest changed its bytes")
			}
		})
	}
}

// TestUnusualButValidForestsDecodeAlike covers JSON that MarshalJSON does
// not write but encoding/json reads: the fast reader either reads it to
// the same forest or leaves it to encoding/json.
func TestUnusualButValidForestsDecodeAlike(t *testing.T) {
	base := string(trainedForestJSON(t, 2, false))
	cases := map[string]string{
		"white space":        strings.NewReplacer(",", " ,\n\t", ":", " : ", "[", "[ ", "]", " ]").Replace(base),
		"capitalised key":    strings.Replace(base, `"trees"`, `"Trees"`, 1),
		"escaped key":        strings.Replace(base, `"trees"`, `"tr\u0065es"`, 1),
		"unknown key":        strings.Replace(base, `{"num_features"`, `{"comment":[1,{"a":"]}"}],"num_features"`, 1),
		"null importances":   replaceArray(base, `"importances":`, "null"),
		"exponent threshold": strings.Replace(base, `"threshold":[`, `"threshold":[1E0,`, 1),
		"negative zero":      strings.Replace(base, `"nan_left":[`, `"nan_left":[-0,`, 1),
		// encoding/json leaves a number it reads null for at zero.
		"null element":           replaceFirst(base, `"value":`, "null"),
		"duplicate num_features": strings.Replace(base, `{"num_features"`, `{"num_features":9,"num_features"`, 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if data == base {
				t.Fatal("the case did not change the forest")
			}
			decodeBoth(t, []byte(data))
		})
	}
}

// replaceFirst replaces the first element of key's array in s with v.
func replaceFirst(s, key, v string) string {
	i := strings.Index(s, key) + len(key) + 1
	j := i + strings.IndexAny(s[i:], ",]")
	return s[:i] + v + s[j:]
}

// replaceArray replaces the array after key in s with v.
func replaceArray(s, key, v string) string {
	i := strings.Index(s, key) + len(key)
	j := i + strings.Index(s[i:], "]") + 1
	return s[:i] + v + s[j:]
}

func TestMalformedForestsAreRefusedAlike(t *testing.T) {
	base := string(trainedForestJSON(t, 2, false))
	first := func(key, v string) string { return replaceFirst(base, key, v) }
	cases := map[string]string{
		"NaN threshold":         first(`"threshold":`, "NaN"),
		"Infinity threshold":    first(`"threshold":`, "Infinity"),
		"-Infinity threshold":   first(`"threshold":`, "-Infinity"),
		"quoted NaN":            first(`"threshold":`, `"NaN"`),
		"huge threshold":        first(`"threshold":`, "1e999"),
		"huge left":             first(`"left":`, "99999999999999999999"),
		"left beyond uint32":    first(`"left":`, "4294967296"),
		"negative left":         first(`"left":`, "-1"),
		"negative zero left":    first(`"left":`, "-0"),
		"fractional feature":    first(`"feature":`, "1.5"),
		"feature as string":     first(`"feature":`, `"1"`),
		"feature beyond forest": first(`"feature":`, "3"),
		"feature -2":            first(`"feature":`, "-2"),
		"nan_left 2":            first(`"nan_left":`, "2"),
		"nan_left beyond int8":  first(`"nan_left":`, "300"),
		"value above 1":         first(`"value":`, "1.5"),
		"leading zero":          first(`"value":`, "01"),
		"plus sign":             first(`"value":`, "+1"),
		"bare dot":              first(`"value":`, ".5"),
		"mismatched lengths":    strings.Replace(base, `"value":[`, `"value":[0.5,`, 1),
		"array of arrays":       first(`"value":`, "[0]"),
		"trees not an array":    replaceArray(base, `"trees":`, `{}`),
		"no trees":              strings.Replace(base, `"trees":[`, `"trees":[],"x":[`, 1),
		"num_features as float": strings.Replace(base, `"num_features":3`, `"num_features":3.0`, 1),
		"num_features zero":     strings.Replace(base, `"num_features":3`, `"num_features":0`, 1),
		"num_features huge":     strings.Replace(base, `"num_features":3`, `"num_features":1e30`, 1),
		"importances too short": replaceArray(base, `"importances":`, `[1]`),
		"trailing garbage":      base + "x",
		"missing comma":         strings.Replace(base, `,"left"`, ` "left"`, 1),
		"empty":                 "",
		"not an object":         "[]",
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if data == base {
				t.Fatal("the case did not change the forest")
			}
			if _, err := decodeBoth(t, []byte(data)); err == nil {
				t.Errorf("%s decoded without error", name)
			}
		})
	}
	// Every truncation of a valid forest is refused, alike both ways.
	for n := range len(base) {
		if _, err := decodeBoth(t, []byte(base[:n])); err == nil {
			t.Fatalf("the first %d bytes decoded without error", n)
		}
	}
}

// FuzzForestDecodeAgrees checks on any input that UnmarshalJSON (its fast
// reader, then encoding/json) and encoding/json alone agree, and that
// neither panics.
func FuzzForestDecodeAgrees(f *testing.F) {
	f.Add(trainedForestJSON(f, 2, false))
	f.Add(trainedForestJSON(f, 1, true))
	f.Add([]byte(`{"num_features":1,"trees":[{"feature":[-1],"threshold":[0],"left":[0],"nan_left":[0],"value":[1]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) { decodeBoth(t, data) })
}

package modelfile

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"
)

// Decode first tries decodeSplit (the forest by its own reader, the rest
// by encoding/json) and falls back to decodeGeneral (encoding/json
// alone). These tests hold the two to the same answers.

// decodeAlike decodes data both ways and fails t unless the models, or
// the error texts, are the same; it reports whether the split path took it.
func decodeAlike(t *testing.T, data []byte) (m *Model, split bool, err error) {
	t.Helper()
	m, err = Decode(data)
	g, gerr := decodeGeneral(data)
	switch {
	case (err == nil) != (gerr == nil):
		t.Fatalf("Decode error %v, encoding/json error %v", err, gerr)
	case err != nil:
		if err.Error() != gerr.Error() {
			t.Fatalf("errors differ:\n Decode: %v\n json:   %v", err, gerr)
		}
		return nil, false, err
	}
	mf, _ := json.Marshal(m.Forest)
	gf, _ := json.Marshal(g.Forest)
	if !bytes.Equal(mf, gf) {
		t.Fatal("the forests differ")
	}
	a, b := *m, *g
	a.Forest, b.Forest = nil, nil
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("models differ:\n %+v\n %+v", a, b)
	}
	_, split = decodeSplit(data)
	return m, split, nil
}

func shippedJSON(t *testing.T) []byte {
	t.Helper()
	raw, err := os.ReadFile("../defaultmodel/model.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func smallJSON(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, smallModel(t)); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestModelFilesDecodeTheSameBySplitAndWhole(t *testing.T) {
	for name, data := range map[string][]byte{"shipped": shippedJSON(t), "small": smallJSON(t)} {
		t.Run(name, func(t *testing.T) {
			if _, split, err := decodeAlike(t, data); err != nil || !split {
				t.Fatalf("error %v, split path taken %v; want nil, true", err, split)
			}
		})
	}
}

func TestUnusualModelFilesDecodeAlike(t *testing.T) {
	base := string(smallJSON(t))
	i := strings.Index(base, `"forest":`)
	forest := strings.TrimSpace(base[i+len(`"forest":`) : len(base)-2])
	cases := map[string]string{
		"forest first":      `{"forest":` + forest + `,` + base[1:i-1] + "}",
		"white space":       strings.Replace(base, `"forest":`, "\n\t\"forest\" :\n ", 1),
		"capitalised twice": strings.Replace(base, `"forest":`, `"Forest":null,"forest":`, 1),
		"duplicate forest":  strings.Replace(base, `"forest":`, `"forest":null,"forest":`, 1),
		"escaped key":       strings.Replace(base, `"forest":`, `"for\u0065st":`, 1),
		"unknown key":       strings.Replace(base, `"forest":`, `"x":["}",{"y":"\"]"}],"forest":`, 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if data == base {
				t.Fatal("the case did not change the file")
			}
			decodeAlike(t, []byte(data))
		})
	}
}

func TestBrokenModelFilesAreRefusedAlike(t *testing.T) {
	base := string(smallJSON(t))
	cases := map[string]string{
		"no forest":          strings.Replace(base, `"forest":`, `"other":`, 1),
		"null forest":        strings.Replace(base, `"forest":{`, `"forest":null,"x":{`, 1),
		"forest not object":  strings.Replace(base, `"forest":{`, `"forest":[],"x":{`, 1),
		"other format":       strings.Replace(base, Format, "something-else", 1),
		"newer version":      strings.Replace(base, `"version":1`, `"version":99`, 1),
		"bad threshold":      strings.Replace(base, `"threshold":0`, `"threshold":2`, 1),
		"NaN in forest":      strings.Replace(base, `"value":[`, `"value":[NaN,`, 1),
		"trailing garbage":   base + "}",
		"unbalanced forest":  strings.Replace(base, `"trees":[{`, `"trees":[{]`, 1),
		"not an object":      "[" + base + "]",
		"string never ends":  base[:strings.Index(base, `"feature_set"`)+3],
		"two values":         base + base,
		"forest then broken": strings.Replace(base, `"forest":`, `"x":tru,"forest":`, 1),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			if data == base {
				t.Fatal("the case did not change the file")
			}
			if _, _, err := decodeAlike(t, []byte(data)); err == nil {
				t.Error("decoded without error")
			}
		})
	}
	// Every truncation of a valid file is refused, alike both ways.
	for n := range len(base) - 1 { // the last byte is Encode's newline
		if _, _, err := decodeAlike(t, []byte(base[:n])); err == nil {
			t.Fatalf("the first %d bytes decoded without error", n)
		}
	}
}

package big

import (
	"encoding/json"
	"testing"
)

func TestJSONDocumentIsValidAndSized(t *testing.T) {
	for _, n := range []int64{1, 100, DefaultJSONBytes, 1 << 20} {
		doc := jsonDocument(n)
		var v []map[string]any
		if err := json.Unmarshal(doc, &v); err != nil {
			t.Fatalf("%d: %v", n, err)
		}
		if len(v) == 0 || n >= 200 && (int64(len(doc)) > n || int64(len(doc)) < n-200) {
			t.Errorf("bytes=%d: %d bytes, %d records", n, len(doc), len(v))
		}
	}
	first, again := jsonDocument(DefaultJSONBytes), jsonDocument(DefaultJSONBytes)
	if &first[0] != &again[0] {
		t.Error("the default document is generated again")
	}
}

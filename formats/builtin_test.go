package formats

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestBuiltinOnCorpus identifies real files of the common formats with the
// built-in set and compares with the reference PUIDs where the built-in
// set covers the format.
func TestBuiltinOnCorpus(t *testing.T) {
	id := Builtin()
	covered := map[string]bool{}
	for _, f := range builtinFormats {
		covered[f.puid] = true
	}
	n, agree := 0, 0
	var misses []string
	for _, corpus := range []string{"go-testdata", "opf-format-corpus", "siegfried-benchmark", "email", "verapdf-corpus"} {
		for _, e := range readExpected(t, corpus) {
			if !covered[e.puid] {
				continue
			}
			res, err := id.IdentifyFile(filepath.Join(dataDir, "corpus", corpus, e.path))
			if err != nil {
				t.Fatal(err)
			}
			n++
			if res.PUID == e.puid {
				agree++
			} else if len(misses) < 30 {
				misses = append(misses, corpus+"/"+e.path+": "+res.PUID+" want "+e.puid)
			}
		}
	}
	t.Logf("built-in set: %d of %d files of covered formats agree with the reference (%.1f%%)", agree, n, 100*float64(agree)/float64(n))
	for _, m := range misses {
		t.Log("differs:", m)
	}
	if agree*100 < n*90 {
		t.Errorf("built-in set agrees on only %d of %d", agree, n)
	}
	r, _ := id.IdentifyFile(filepath.Join(dataDir, "corpus/siegfried-benchmark/Benchmark.docx"))
	if r.PUID != "fmt/412" || !strings.Contains(id.Source, "built-in") {
		t.Errorf("docx with built-in set: %+v", r)
	}
}

package formats

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

const dataDir = "../../shared/data"

func loadV122(t testing.TB) *Identifier {
	t.Helper()
	start := time.Now()
	id, err := LoadDROID(filepath.Join(dataDir, "pronom/DROID_SignatureFile_V122.xml"), filepath.Join(dataDir, "pronom/container-signature-20260119.xml"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("signature files loaded in %v", time.Since(start))
	return id
}

type expectation struct{ path, puid, note string }

func readExpected(t testing.TB, corpus string) []expectation {
	f, err := os.Open(filepath.Join(dataDir, "corpus", corpus, "expected.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []expectation
	for _, r := range rows[1:] {
		out = append(out, expectation{r[0], r[1], r[5]})
	}
	return out
}

func TestAccuracy(t *testing.T) {
	id := loadV122(t)
	exceptions := readExceptions(t)
	corpora, _ := os.ReadDir(filepath.Join(dataDir, "corpus"))
	total, agree, byException := 0, 0, 0
	var misses []string
	for _, c := range corpora {
		if !c.IsDir() {
			continue
		}
		n, ok := 0, 0
		for _, e := range readExpected(t, c.Name()) {
			res, err := id.IdentifyFile(filepath.Join(dataDir, "corpus", c.Name(), e.path))
			if err != nil {
				t.Errorf("%s: %v", e.path, err)
				continue
			}
			n++
			key := c.Name() + "/" + e.path
			switch {
			case res.PUID == e.puid:
				ok++
			case exceptions[key] != "":
				ok++
				byException++
			default:
				misses = append(misses, key+": got "+res.PUID+" ("+res.Basis+" "+strings.Join(res.Candidates, " ")+") want "+e.puid)
			}
		}
		t.Logf("%-20s %5d/%5d agree (%.2f%%)", c.Name(), ok, n, 100*float64(ok)/float64(n))
		total += n
		agree += ok
	}
	pct := 100 * float64(agree) / float64(total)
	t.Logf("overall %d/%d agree (%.2f%%), %d of them by a documented exception (testdata/exceptions.csv)", agree, total, pct, byException)
	sort.Strings(misses)
	for i, m := range misses {
		if i < 80 {
			t.Log("disagree:", m)
		}
	}
	if pct < 99 {
		t.Errorf("PUID agreement %.2f%% is below 99%%", pct)
	}
}

// readExceptions reads testdata/exceptions.csv: corpus/path,reason for
// disagreements where we judge the reference wrong.
func readExceptions(t testing.TB) map[string]string {
	f, err := os.Open("testdata/exceptions.csv")
	if err != nil {
		return map[string]string{}
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows[1:] {
		if len(r) < 2 || strings.TrimSpace(r[1]) == "" {
			t.Fatalf("exception %v has no reason", r)
		}
		m[r[0]] = r[1]
	}
	return m
}

func readCSV(t testing.TB, b []byte) [][]string {
	rows, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

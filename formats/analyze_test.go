package formats

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
)

// TestReadWholeSameAnalysis: analysing a file from one whole read (what
// archivd identify does, with pooled buffers) gives the same analysis as
// reading what each step needs from the file; two workers at once, so
// the race detector sees the buffers change hands.
func TestReadWholeSameAnalysis(t *testing.T) {
	id, err := Load(SignatureFiles{})
	if err != nil {
		t.Fatal(err)
	}
	files := corpus(t)
	// Every seventh file: all families, a few seconds.
	var sample []string
	for i := 0; i < len(files); i += 7 {
		sample = append(sample, files[i])
	}
	parts := &Analyzer{ID: id}
	whole := &Analyzer{ID: id, ReadWhole: 8 << 20}
	ctx := context.Background()
	work := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	read := 0
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				a, err1 := parts.AnalyzeFile(ctx, p, filepath.Base(p))
				b, err2 := whole.AnalyzeFile(ctx, p, filepath.Base(p))
				if (err1 == nil) != (err2 == nil) {
					t.Errorf("%s: %v / %v", p, err1, err2)
					continue
				}
				mu.Lock()
				if st, err := os.Stat(p); err == nil && st.Size() > 0 && st.Size() <= whole.ReadWhole && b.BytesRead == st.Size() {
					read++
				}
				mu.Unlock()
				a.BytesRead, a.Validation.BytesRead, b.BytesRead, b.Validation.BytesRead = 0, 0, 0, 0
				if !reflect.DeepEqual(a, b) {
					t.Errorf("%s: from the file %+v\nfrom one read %+v", p, a, b)
				}
			}
		}()
	}
	for _, p := range sample {
		work <- p
	}
	close(work)
	wg.Wait()
	if read < len(sample)/2 {
		t.Errorf("only %d of %d files were read whole", read, len(sample))
	}
}

// corpus lists every regular file of the shared corpus.
func corpus(t *testing.T) []string {
	t.Helper()
	var files []string
	filepath.WalkDir("../../shared/data/corpus", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 1000 {
		t.Fatalf("corpus: %d files", len(files))
	}
	return files
}

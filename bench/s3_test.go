package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/storage"
	"github.com/archivd/archivd/storage/s3"
	"github.com/archivd/archivd/storage/s3/s3test"
	"github.com/archivd/archivd/storage/storagetest"
)

const s3Size = 64 << 20

func spool(b *testing.B) (string, digest.Pair) {
	b.Helper()
	p := filepath.Join(b.TempDir(), "pkg.tar.zst")
	buf := make([]byte, s3Size)
	rand.Read(buf)
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		b.Fatal(err)
	}
	return p, digest.Of(buf)
}

// BenchmarkS3 prints, against one loopback versitygw over TLS: archivd's
// verified commit (upload, read-back hash, inventories), its streaming
// download with hashing, and the baseline: a plain minio-go PutObject and
// GetObject of the same 64 MiB with the same part size.
func BenchmarkS3(b *testing.B) {
	srv := s3test.Start(b)
	srv.MakeBucket(b, "bench", false)
	cfg := srv.Config("bench")
	cfg.PartSize = 16 << 20
	st, err := s3.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	file, sum := spool(b)
	ctx := context.Background()
	client := srv.Client(b)
	n := 0
	var lastID string

	b.Run("archivd-commit-verified", func(b *testing.B) {
		b.SetBytes(s3Size)
		for i := 0; i < b.N; i++ {
			n++
			lastID = fmt.Sprintf("urn:uuid:01937a3b-6c2e-7cc0-8a1b-%012d", n)
			c := storagetest.NewCommit(b, nil, lastID, storage.File{Path: "pkg.tar.zst", Source: file, Size: s3Size, Digests: sum})
			if err := st.Commit(ctx, c); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("baseline-minio-PutObject", func(b *testing.B) {
		b.SetBytes(s3Size)
		for i := 0; i < b.N; i++ {
			f, _ := os.Open(file)
			_, err := client.PutObject(ctx, "bench", fmt.Sprintf("plain/%d", i), f, s3Size, minio.PutObjectOptions{PartSize: 16 << 20})
			f.Close()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("archivd-read-and-hash", func(b *testing.B) {
		b.SetBytes(s3Size)
		for i := 0; i < b.N; i++ {
			rc, err := st.Open(ctx, lastID, "v1/content/pkg.tar.zst")
			if err != nil {
				b.Fatal(err)
			}
			h := digest.NewHasher()
			io.Copy(h, rc)
			rc.Close()
			if h.Sum() != sum {
				b.Fatal("digest mismatch")
			}
		}
	})
	b.Run("baseline-minio-GetObject", func(b *testing.B) {
		b.SetBytes(s3Size)
		for i := 0; i < b.N; i++ {
			obj, err := client.GetObject(ctx, "bench", "plain/0", minio.GetObjectOptions{})
			if err != nil {
				b.Fatal(err)
			}
			io.Copy(io.Discard, obj)
			obj.Close()
		}
	})
}

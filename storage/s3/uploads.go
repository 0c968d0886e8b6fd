package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/minio/minio-go/v7"
)

// Multipart uploads archivd started are noted in a journal folder (one
// small file per object key, holding the key) before they start and
// forgotten once they succeed. A crash leaves the note, and
// AbortStaleUploads aborts that key's uploads by name: some servers
// (MinIO) list incomplete uploads only for an exact key, never under a
// prefix, so listing alone finds nothing there.

// SetUploadJournal makes the store note its multipart uploads in dir
// (created when needed); "" turns the journal off.
func (s *Store) SetUploadJournal(dir string) { s.journal = dir }

func (s *Store) journalFile(key string) string {
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.journal, hex.EncodeToString(sum[:16]))
}

// noteUpload records that an upload of key starts; the note is durable
// before the first byte is sent.
func (s *Store) noteUpload(key string) error {
	if s.journal == "" {
		return nil
	}
	if err := os.MkdirAll(s.journal, 0o750); err != nil {
		return err
	}
	f, err := os.OpenFile(s.journalFile(key), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(key); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// forgetUpload drops the note of a finished upload, unless an earlier
// upload of the same key (cut off by a crash) is still on the server:
// then the note stays, for AbortStaleUploads to find that one.
func (s *Store) forgetUpload(ctx context.Context, key string) {
	if s.journal == "" {
		return
	}
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, key, false) {
		if u.Err != nil || u.Key == key {
			return
		}
	}
	os.Remove(s.journalFile(key))
}

// journalKeys returns the keys with a note, by note file.
func (s *Store) journalKeys() (map[string]string, error) {
	out := map[string]string{}
	if s.journal == "" {
		return out, nil
	}
	ents, err := os.ReadDir(s.journal)
	if errors.Is(err, fs.ErrNotExist) {
		return out, nil
	} else if err != nil {
		return nil, err
	}
	for _, e := range ents {
		p := filepath.Join(s.journal, e.Name())
		if b, err := os.ReadFile(p); err == nil {
			out[p] = string(b)
		}
	}
	return out, nil
}

// AbortStaleUploads aborts multipart uploads under the prefix that were
// started before olderThan ago, leftovers of crashed uploads: those the
// server lists under the prefix, and those of every key in the journal,
// asked for by exact key. A note whose key has no upload left is dropped.
func (s *Store) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	aborted := map[string]bool{}
	abort := func(prefix string, exact bool) (left int, err error) {
		for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, prefix, true) {
			if u.Err != nil {
				return left, s.translate("list uploads", prefix, u.Err)
			}
			if exact && u.Key != prefix || aborted[u.UploadID] {
				continue
			}
			if !u.Initiated.Before(cutoff) {
				left++
				continue
			}
			if err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID); err != nil {
				var resp = minio.ToErrorResponse(err)
				if resp.Code != "NoSuchUpload" {
					return left, s.translate("abort upload", u.Key, err)
				}
			}
			aborted[u.UploadID] = true
		}
		return left, nil
	}
	if _, err := abort(s.prefix, false); err != nil {
		return len(aborted), err
	}
	notes, err := s.journalKeys()
	if err != nil {
		return len(aborted), err
	}
	for file, key := range notes {
		left, err := abort(key, true)
		if err != nil {
			return len(aborted), err
		}
		if info, serr := os.Stat(file); left == 0 && serr == nil && info.ModTime().Before(cutoff) {
			os.Remove(file) // nothing left of it, and no upload of it can still be starting
		}
	}
	return len(aborted), nil
}

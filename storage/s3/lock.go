package s3

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// versionFiles lists the object paths of every file of version v: its
// content and its version inventory, from the root inventory.
func (s *Store) versionFiles(ctx context.Context, id string, v int) ([]string, error) {
	b, err := s.Inventory(ctx, id)
	if err != nil {
		return nil, err
	}
	inv, err := ocfl.ParseInventory(b)
	if err != nil {
		return nil, err
	}
	vn := ocfl.VersionName(v)
	out := []string{vn + "/" + ocfl.InventoryFile, vn + "/" + ocfl.SidecarFile}
	for _, paths := range inv.Manifest {
		for _, p := range paths {
			if strings.HasPrefix(p, vn+"/") {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Retain implements storage.Locker. Retention is set on the version of each
// file that is current now, which Commit verified; it runs only after the
// commit, so an unverified upload is never locked by archivd.
func (s *Store) Retain(ctx context.Context, id string, v int, until time.Time) error {
	if s.cfg.Lock == nil {
		return fmt.Errorf("location %s has no object_lock configured", s.cfg.Name)
	}
	files, err := s.versionFiles(ctx, id, v)
	if err != nil {
		return err
	}
	mode := minio.RetentionMode(s.cfg.Lock.Mode)
	until = until.UTC().Truncate(time.Second)
	for _, p := range files {
		info, err := s.statKey(ctx, s.key(id, p))
		if err != nil {
			return err
		}
		key := s.key(id, p)
		err = s.client.PutObjectRetention(ctx, s.cfg.Bucket, key, minio.PutObjectRetentionOptions{
			Mode: &mode, RetainUntilDate: &until, VersionID: info.VersionID})
		if err != nil {
			return s.translate("set retention on", key, err)
		}
	}
	return nil
}

// RetainFor implements storage.Locker: Retain with the location's
// configured period from now.
func (s *Store) RetainFor(ctx context.Context, id string, v int, now time.Time) error {
	if s.cfg.Lock == nil {
		return nil
	}
	return s.Retain(ctx, id, v, now.AddDate(0, 0, s.cfg.Lock.Days))
}

// LegalHold implements storage.Locker.
func (s *Store) LegalHold(ctx context.Context, id string, on bool) error {
	b, err := s.Inventory(ctx, id)
	if err != nil {
		return err
	}
	inv, err := ocfl.ParseInventory(b)
	if err != nil {
		return err
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	for v := 1; v <= inv.HeadNumber(); v++ {
		files, err := s.versionFiles(ctx, id, v)
		if err != nil {
			return err
		}
		for _, p := range files {
			key := s.key(id, p)
			info, err := s.statKey(ctx, key)
			if err != nil {
				return err
			}
			st := status
			if err := s.client.PutObjectLegalHold(ctx, s.cfg.Bucket, key, minio.PutObjectLegalHoldOptions{VersionID: info.VersionID, Status: &st}); err != nil {
				return s.translate("set legal hold on", key, err)
			}
		}
	}
	return nil
}

// Delete removes one stored version of a file; used by tests and by the
// operator tools that prove the lock holds. A refusal by Object Lock is
// storage.ErrLocked.
func (s *Store) Delete(ctx context.Context, id, p, versionID string) error {
	key := s.key(id, p)
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: versionID})
	if err == nil {
		return nil
	}
	err = s.translate("delete", key, err)
	if strings.Contains(strings.ToLower(err.Error()), "lock") && !isLocked(err) {
		return fmt.Errorf("%v: %w", err, storage.ErrLocked)
	}
	return err
}

func isLocked(err error) bool {
	return err != nil && strings.Contains(err.Error(), storage.ErrLocked.Error())
}

// AbortStaleUploads aborts multipart uploads under the prefix that were
// started before olderThan ago: leftovers of crashed uploads.
func (s *Store) AbortStaleUploads(ctx context.Context, olderThan time.Duration) (int, error) {
	cutoff := time.Now().Add(-olderThan)
	n := 0
	for u := range s.client.ListIncompleteUploads(ctx, s.cfg.Bucket, s.prefix, true) {
		if u.Err != nil {
			return n, s.translate("list uploads", s.prefix, u.Err)
		}
		if u.Initiated.Before(cutoff) {
			if err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, u.Key, u.UploadID); err != nil {
				return n, s.translate("abort upload", u.Key, err)
			}
			n++
		}
	}
	return n, nil
}

var _ storage.Locker = (*Store)(nil)

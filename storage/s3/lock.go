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

// objectFiles are the object's own files outside any version: without
// them a reader cannot find the versions. Their current object versions
// are locked with each version of the AIP; a later AIP version writes new
// object versions of them, which Object Lock allows.
var objectFiles = []string{ocfl.InventoryFile, ocfl.SidecarFile, ocfl.ObjectDeclaration}

// Retain implements storage.Locker. Retention is set on the version of each
// file that is current now, which Commit verified, and on the object's
// root inventory, its sidecar and its declaration; it runs only after the
// commit, so an unverified upload is never locked by archivd.
func (s *Store) Retain(ctx context.Context, id string, v int, until time.Time) error {
	return s.RetainMode(ctx, id, v, until, "")
}

// RetainMode implements storage.Locker: Retain in mode (governance or
// compliance; "" the location's).
func (s *Store) RetainMode(ctx context.Context, id string, v int, until time.Time, mode string) error {
	if s.cfg.Lock == nil {
		return fmt.Errorf("location %s has no object_lock configured", s.cfg.Name)
	}
	files, err := s.versionFiles(ctx, id, v)
	if err != nil {
		return err
	}
	files = append(files, objectFiles...)
	for _, p := range files {
		key := s.key(id, p)
		info, err := s.statKey(ctx, key)
		if err != nil {
			return err
		}
		if err := s.retainUntilMode(ctx, key, info.VersionID, until, mode); err != nil {
			return err
		}
	}
	return nil
}

// retainUntil puts one object version under the location's retention mode
// until the given time.
func (s *Store) retainUntil(ctx context.Context, key, versionID string, until time.Time) error {
	return s.retainUntilMode(ctx, key, versionID, until, "")
}

func (s *Store) retainUntilMode(ctx context.Context, key, versionID string, until time.Time, m string) error {
	if m == "" {
		m = s.cfg.Lock.Mode
	}
	mode := minio.RetentionMode(strings.ToUpper(m))
	until = until.UTC().Truncate(time.Second)
	err := s.client.PutObjectRetention(ctx, s.cfg.Bucket, key, minio.PutObjectRetentionOptions{
		Mode: &mode, RetainUntilDate: &until, VersionID: versionID})
	return s.translate("set retention on", key, err)
}

// ObjectLock implements storage.Locker.
func (s *Store) ObjectLock() bool { return s.cfg.Lock != nil }

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
		if v == inv.HeadNumber() {
			files = append(files, objectFiles...)
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
// storage.ErrLocked. Servers word and code that refusal differently (AWS
// and versitygw 403 AccessDenied, MinIO 400 InvalidRequest, some
// ObjectLocked), so a refused delete is judged by the version's lock
// state, read back from the server, not by the words of the answer.
func (s *Store) Delete(ctx context.Context, id, p, versionID string) error {
	key := s.key(id, p)
	err := s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: versionID})
	if err == nil {
		return nil
	}
	terr := s.translate("delete", key, err)
	switch minio.ToErrorResponse(err).Code {
	case "ObjectLocked":
		return terr // translate says so
	case "AccessDenied", "InvalidRequest":
		if why := s.lockedNow(ctx, key, versionID); why != "" {
			return fmt.Errorf("location %s: delete %s: %s: %w", s.cfg.Name, key, why, storage.ErrLocked)
		}
	}
	return terr
}

// lockedNow says why a version of key is protected right now (retention
// until a future date, or a legal hold), or "" if it is not or the server
// cannot say. It reads the version's Object Lock headers, then asks the
// retention and legal hold APIs (servers answer these differently:
// versitygw's retention document has another root element).
func (s *Store) lockedNow(ctx context.Context, key, versionID string) string {
	now := time.Now()
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{VersionID: versionID})
	if err == nil {
		mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
		if until, perr := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")); perr == nil && until.After(now) {
			return fmt.Sprintf("%s retention until %s", mode, until.UTC().Format(time.RFC3339))
		}
		if strings.EqualFold(info.Metadata.Get("X-Amz-Object-Lock-Legal-Hold"), "ON") {
			return "legal hold"
		}
	}
	mode, until, err := s.client.GetObjectRetention(ctx, s.cfg.Bucket, key, versionID)
	if err == nil && mode != nil && until != nil && until.After(now) {
		return fmt.Sprintf("%s retention until %s", *mode, until.UTC().Format(time.RFC3339))
	}
	hold, err := s.client.GetObjectLegalHold(ctx, s.cfg.Bucket, key, minio.GetObjectLegalHoldOptions{VersionID: versionID})
	if err == nil && hold != nil && *hold == minio.LegalHoldEnabled {
		return "legal hold"
	}
	return ""
}

// Versions implements storage.Store: every version and delete marker of
// every key under the object.
func (s *Store) Versions(ctx context.Context, id string) ([]storage.StoredVersion, error) {
	prefix := s.key(id, "")
	var out []storage.StoredVersion
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithVersions: true}) {
		if o.Err != nil {
			return nil, s.translate("list versions of", prefix, o.Err)
		}
		vid := o.VersionID
		if vid == "null" {
			vid = ""
		}
		out = append(out, storage.StoredVersion{Path: strings.TrimPrefix(o.Key, prefix), VersionID: vid, Size: o.Size, DeleteMarker: o.IsDeleteMarker})
	}
	return out, nil
}

// Locked implements storage.Store.
func (s *Store) Locked(ctx context.Context, id string, v storage.StoredVersion) string {
	if s.cfg.Lock == nil || v.DeleteMarker {
		return ""
	}
	return s.lockedNow(ctx, s.key(id, v.Path), v.VersionID)
}

// DeleteVersion implements storage.Store.
func (s *Store) DeleteVersion(ctx context.Context, id string, v storage.StoredVersion) error {
	if err := storage.CheckPath(v.Path); err != nil {
		return err
	}
	return s.Delete(ctx, id, v.Path, v.VersionID)
}

var _ storage.Locker = (*Store)(nil)

package s3

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"
)

// Capabilities is what a probe found out about a location.
type Capabilities struct {
	Reachable   bool
	BucketFound bool
	Writable    bool
	Versioning  string // "Enabled", "Suspended" or ""
	ObjectLock  bool
	// Checked: versioning and Object Lock were looked at (the probe got
	// that far); otherwise their fields say nothing.
	Checked     bool
	DefaultLock string // e.g. "GOVERNANCE 30 DAYS", "" if none
	Problems    []string
	Warnings    []string
}

// Probe checks the location in plain words: reachable, credentials,
// bucket, versioning, Object Lock, writability (by starting and aborting a
// multipart upload, which leaves no object behind, not even under Object
// Lock). It never returns an error: everything it finds is in the result.
func (s *Store) Probe(ctx context.Context) *Capabilities {
	c := &Capabilities{}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	ok, err := s.client.BucketExists(ctx, s.cfg.Bucket)
	if err != nil {
		// An error the server sent (wrong credentials, say) means it was
		// reached; a network error means it was not.
		c.Reachable = minio.ToErrorResponse(err).StatusCode != 0
		c.Problems = append(c.Problems, s.translate("check bucket", s.cfg.Bucket, err).Error())
		return c
	}
	c.Reachable = true
	if !ok {
		// A HEAD answer has no body, so its code is guessed from the status;
		// some servers (versitygw) answer an unknown access key with 404
		// there. A listing carries the real code.
		lc := s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{MaxKeys: 1})
		for o := range lc {
			if o.Err != nil && minio.ToErrorResponse(o.Err).Code != "NoSuchBucket" {
				c.Problems = append(c.Problems, s.translate("check bucket", s.cfg.Bucket, o.Err).Error())
				return c
			}
		}
		c.Problems = append(c.Problems, fmt.Sprintf("bucket %q does not exist (create it, with Object Lock if retention is wanted)", s.cfg.Bucket))
		return c
	}
	c.BucketFound = true
	c.Checked = true
	if v, err := s.client.GetBucketVersioning(ctx, s.cfg.Bucket); err == nil {
		c.Versioning = v.Status
	}
	lock, mode, validity, unit, err := s.client.GetObjectLockConfig(ctx, s.cfg.Bucket)
	if err == nil && lock == "Enabled" {
		c.ObjectLock = true
		if mode != nil && validity != nil && unit != nil {
			c.DefaultLock = fmt.Sprintf("%s %d %s", *mode, *validity, *unit)
			c.Warnings = append(c.Warnings, fmt.Sprintf("the bucket has a default retention (%s): every upload is locked before archivd has verified it; archivd sets retention itself after verification, so remove the bucket default", c.DefaultLock))
		}
	}
	if s.cfg.Lock != nil && !c.ObjectLock {
		c.Problems = append(c.Problems, "object_lock is configured but the bucket has no Object Lock (it can only be enabled when the bucket is created)")
	}
	key := s.prefix + "extensions/archivd-probe/" + time.Now().UTC().Format("20060102T150405.000000000")
	id, err := s.core.NewMultipartUpload(ctx, s.cfg.Bucket, key, minio.PutObjectOptions{})
	if err != nil {
		c.Problems = append(c.Problems, "not writable: "+s.translate("start upload", key, err).Error())
		return c
	}
	if err := s.core.AbortMultipartUpload(ctx, s.cfg.Bucket, key, id); err != nil {
		c.Warnings = append(c.Warnings, "could not abort the probe upload: "+err.Error())
	}
	c.Writable = true
	return c
}

// ErrProbe reports an unusable location.
var ErrProbe = errors.New("location not usable")

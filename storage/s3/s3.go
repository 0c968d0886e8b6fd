// Package s3 is a storage location on an S3-compatible server (MinIO, Ceph
// RGW, StorageGRID, AWS, versitygw): an OCFL 1.1 storage root under a
// bucket prefix. It is the only package that imports minio-go; every
// minio-go error is translated here into the storage package's errors.
//
// Nothing the server says about a write is believed: each uploaded file is
// read back and hashed by archivd before the commit goes on, and readers
// hash every download themselves.
package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/archivd/archivd/digest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// Config describes one S3 location.
type Config struct {
	Name      string
	Endpoint  string // URL: https://host:port or http://host:port
	Bucket    string
	Prefix    string // folder inside the bucket that is the storage root
	Region    string
	PathStyle bool   // path-style (true) or virtual-host addressing
	CAFile    string // PEM file of CAs to trust besides the system's
	AccessKey string
	SecretKey string
	PartSize  int64 // multipart part size in bytes; 0 means 64 MiB
	// Lock, if not nil, is the retention applied to each committed version.
	Lock *LockConfig
	// Timeout bounds each request that is not a streaming transfer.
	Timeout time.Duration
}

// LockConfig is the Object Lock retention of a location.
type LockConfig struct {
	Mode string // "GOVERNANCE" or "COMPLIANCE"
	Days int
}

// Metadata keys archivd stores with every object.
const (
	metaSHA512 = "Archivd-Sha512"
	metaSHA256 = "Archivd-Sha256"
)

// Store is an OCFL storage root on S3.
type Store struct {
	cfg     Config
	client  *minio.Client
	core    minio.Core
	prefix  string
	journal string // folder noting multipart uploads in flight (uploads.go)
}

// New connects to the location; it does not contact the server (see Probe).
func New(cfg Config) (*Store, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("location %s: endpoint %q must be an http:// or https:// URL", cfg.Name, cfg.Endpoint)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.ResponseHeaderTimeout = 60 * time.Second
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("location %s: CA file: %w", cfg.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("location %s: CA file %s holds no PEM certificate", cfg.Name, cfg.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	lookup := minio.BucketLookupDNS
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	client, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Transport:    tr,
		Region:       cfg.Region,
		BucketLookup: lookup,
		MaxRetries:   3,
	})
	if err != nil {
		return nil, fmt.Errorf("location %s: %w", cfg.Name, err)
	}
	if cfg.PartSize == 0 {
		cfg.PartSize = 64 << 20
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 2 * time.Minute
	}
	p := strings.Trim(cfg.Prefix, "/")
	if p != "" {
		p += "/"
	}
	return &Store{cfg: cfg, client: client, core: minio.Core{Client: client}, prefix: p}, nil
}

// Name implements storage.Store.
func (s *Store) Name() string { return s.cfg.Name }

// translate maps a minio-go or network error to storage errors with a
// plain-words explanation.
func (s *Store) translate(op, key string, err error) error {
	if err == nil {
		return nil
	}
	where := fmt.Sprintf("location %s: %s %s", s.cfg.Name, op, key)
	resp := minio.ToErrorResponse(err)
	switch resp.Code {
	case "NoSuchKey", "NoSuchVersion":
		return fmt.Errorf("%s: %w", where, storage.ErrNotFound)
	case "NoSuchBucket":
		return fmt.Errorf("%s: bucket %q does not exist: %w", where, s.cfg.Bucket, storage.ErrUnavailable)
	case "InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken",
		"XAdminUserNotFound": // versitygw's code for an unknown access key (with status 404)
		return fmt.Errorf("%s: the server refused the credentials (%s): %w", where, resp.Code, storage.ErrAccess)
	case "AccessDenied":
		// Also how some servers refuse a change Object Lock forbids; the
		// operations that can meet a lock (Delete) ask the server for the
		// object's lock state instead of reading the message.
		return fmt.Errorf("%s: access denied: the credentials are wrong or lack permission (%s): %w", where, resp.Message, storage.ErrAccess)
	case "RequestTimeTooSkewed":
		return fmt.Errorf("%s: this machine's clock differs too much from the server's; fix the time (NTP): %w", where, storage.ErrUnavailable)
	case "ObjectLocked":
		return fmt.Errorf("%s: %s: %w", where, resp.Message, storage.ErrLocked)
	}
	if resp.StatusCode == http.StatusNotFound && resp.Code == "" {
		return fmt.Errorf("%s: %w", where, storage.ErrNotFound)
	}
	var ue x509.UnknownAuthorityError
	var he x509.HostnameError
	var ce *tls.CertificateVerificationError
	if errors.As(err, &ue) || errors.As(err, &he) || errors.As(err, &ce) {
		hint := "set the location's ca_file to the CA that signed it"
		if s.cfg.CAFile != "" {
			hint = "the location's ca_file " + s.cfg.CAFile + " does not vouch for it: another CA, or a certificate for another host name"
		}
		return fmt.Errorf("%s: the server's TLS certificate is not trusted (%s): %v: %w", where, hint, err, storage.ErrUnavailable)
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &ne) || errors.As(err, &oe) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: server unreachable (%v): %w", where, err, storage.ErrUnavailable)
	}
	if resp.StatusCode >= 500 {
		return fmt.Errorf("%s: server error %d %s: %w", where, resp.StatusCode, resp.Code, storage.ErrUnavailable)
	}
	return fmt.Errorf("%s: %w", where, err)
}

func (s *Store) key(id, p string) string { return s.prefix + ocfl.ObjectPath(id) + "/" + p }

// Init makes sure the bucket prefix is an OCFL storage root, writing the
// declaration last.
func (s *Store) Init(ctx context.Context) error {
	if _, err := s.statKey(ctx, s.prefix+ocfl.RootDeclaration); err == nil {
		return nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	for _, f := range []struct{ key, body string }{
		{s.prefix + "ocfl_layout.json", ocfl.LayoutJSON},
		{s.prefix + "extensions/" + ocfl.LayoutExtension + "/config.json", ocfl.LayoutConfigJSON},
		{s.prefix + ocfl.RootDeclaration, "ocfl_1.1\n"},
	} {
		vid, err := s.putVerified(ctx, f.key, bytes.NewReader([]byte(f.body)), int64(len(f.body)), digest.Of([]byte(f.body)))
		if err == nil {
			err = s.retainKey(ctx, f.key, vid)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// retainKey puts one verified object version under the location's Object
// Lock retention (object_lock.days from now), if it has one: the storage
// root's own files and the sealed audit segments, which no AIP version's
// retention covers.
func (s *Store) retainKey(ctx context.Context, key, versionID string) error {
	if s.cfg.Lock == nil {
		return nil
	}
	return s.retainUntil(ctx, key, versionID, time.Now().AddDate(0, 0, s.cfg.Lock.Days))
}

func (s *Store) statKey(ctx context.Context, key string) (minio.ObjectInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	info, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return info, s.readErr(ctx, "stat", key, err)
	}
	return info, nil
}

// putVerified uploads size bytes from r to key, then reads the object back
// and hashes it. It returns the object's version id. A copy that does not
// read back with the expected digests is an ErrDigest.
func (s *Store) putVerified(ctx context.Context, key string, r io.Reader, size int64, want digest.Pair) (string, error) {
	opts := minio.PutObjectOptions{
		UserMetadata: map[string]string{metaSHA512: want.SHA512.String(), metaSHA256: want.SHA256.String()},
		PartSize:     uint64(s.cfg.PartSize),
		ContentType:  "application/octet-stream",
	}
	if size < int64(s.cfg.PartSize) {
		opts.SendContentMd5 = true // Object Lock buckets demand Content-MD5 or a checksum
	}
	multipart := size >= int64(s.cfg.PartSize)
	if multipart {
		if err := s.noteUpload(key); err != nil {
			return "", fmt.Errorf("location %s: note the upload of %s: %w", s.cfg.Name, key, err)
		}
	}
	info, err := s.client.PutObject(ctx, s.cfg.Bucket, key, r, size, opts)
	if err != nil {
		return "", s.translate("upload", key, err)
	}
	if multipart {
		s.forgetUpload(ctx, key)
	}
	if err := s.readBack(ctx, key, info.VersionID, size, want); err != nil {
		return info.VersionID, err
	}
	return info.VersionID, nil
}

// readBack downloads one version of key and checks size and digests.
func (s *Store) readBack(ctx context.Context, key, versionID string, size int64, want digest.Pair) error {
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{VersionID: versionID})
	if err != nil {
		return s.translate("read back", key, err)
	}
	defer obj.Close()
	h := digest.NewHasher()
	if _, err := io.Copy(h, obj); err != nil {
		return s.translate("read back", key, err)
	}
	if h.Size() != size || h.Sum() != want {
		return fmt.Errorf("location %s: %s reads back as %d bytes sha512 %s, expected %d bytes sha512 %s: %w",
			s.cfg.Name, key, h.Size(), h.Sum().SHA512, size, want.SHA512, storage.ErrDigest)
	}
	return nil
}

// upload puts one content file unless an identical, readable copy is
// already there (a retry after a crash), retrying once on a bad read-back.
func (s *Store) upload(ctx context.Context, key string, f storage.File) error {
	if info, err := s.statKey(ctx, key); err == nil && info.Size == f.Size && info.UserMetadata[metaSHA512] == f.Digests.SHA512.String() {
		if s.readBack(ctx, key, info.VersionID, f.Size, f.Digests) == nil {
			return nil
		}
	}
	var lastErr error
	for attempt := 0; attempt < 2; attempt++ {
		var r io.Reader = bytes.NewReader(f.Data)
		if f.Source != "" {
			fh, err := os.Open(f.Source)
			if err != nil {
				return err
			}
			defer fh.Close()
			// The spool is hashed once more while it is sent: a spool that
			// changed on disk is caught before the upload is believed.
			r = fh
		}
		_, lastErr = s.putVerified(ctx, key, r, f.Size, f.Digests)
		if lastErr == nil || !errors.Is(lastErr, storage.ErrDigest) {
			return lastErr
		}
	}
	return lastErr
}

// Restore implements storage.Store: a new object version of the file,
// read back and verified; the damaged version stays (named in the result)
// and keeps its own retention. On a locked location the new version gets
// the location's retention from now, and the legal hold if the damaged
// version had one.
func (s *Store) Restore(ctx context.Context, id string, f storage.File) (string, error) {
	if err := storage.CheckPath(f.Path); err != nil {
		return "", err
	}
	key := s.key(id, f.Path)
	var replaced string
	hold := false
	if info, err := s.client.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{}); err == nil {
		replaced = info.VersionID
		if s.cfg.Lock != nil {
			st, err := s.client.GetObjectLegalHold(ctx, s.cfg.Bucket, key, minio.GetObjectLegalHoldOptions{VersionID: info.VersionID})
			hold = err == nil && st != nil && *st == minio.LegalHoldEnabled
		}
	}
	// The bytes are checked before they replace anything: a wrong source
	// must not become the current version of a stored file.
	var r io.ReadSeeker = bytes.NewReader(f.Data)
	if f.Source != "" {
		fh, err := os.Open(f.Source)
		if err != nil {
			return "", err
		}
		defer fh.Close()
		r = fh
	}
	h := digest.NewHasher()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	if h.Size() != f.Size || h.Sum() != f.Digests {
		return "", fmt.Errorf("restore %s: %w: expected %d bytes sha512 %s, the source has %d bytes sha512 %s", f.Path, storage.ErrDigest, f.Size, f.Digests.SHA512, h.Size(), h.Sum().SHA512)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	vid, err := s.putVerified(ctx, key, r, f.Size, f.Digests)
	if err != nil {
		if errors.Is(err, storage.ErrDigest) && vid != "" {
			// Read back wrong: the new version goes, the one before shows again.
			s.client.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{VersionID: vid})
		}
		return replaced, err
	}
	if err := s.retainKey(ctx, key, vid); err != nil {
		return replaced, err
	}
	if hold {
		st := minio.LegalHoldEnabled
		if err := s.client.PutObjectLegalHold(ctx, s.cfg.Bucket, key, minio.PutObjectLegalHoldOptions{VersionID: vid, Status: &st}); err != nil {
			return replaced, s.translate("set legal hold on", key, err)
		}
	}
	return replaced, nil
}

// Commit implements storage.Store: content, then the version inventory and
// its sidecar, then the root inventory and last its sidecar (the commit).
// A crash leaves an uncommitted vN/ that the next Commit of that version
// overwrites (or, with Object Lock, adds new object versions to); readers
// never see it because the root inventory does not name it.
func (s *Store) Commit(ctx context.Context, c *storage.Commit) error {
	inv := c.Inventory
	cur, curErr := s.Inventory(ctx, inv.ID)
	invBytes, side, done, err := storage.Precheck(inv, cur, curErr)
	if err != nil || done {
		return err
	}
	head := inv.HeadNumber()
	if err := s.Init(ctx); err != nil {
		return err
	}
	var written []string
	// A failed commit removes what it uploaded (best effort: a crash leaves
	// it for the retry, which overwrites it; see docs/storage.md).
	cleanup := func() {
		for _, k := range written {
			s.client.RemoveObject(context.WithoutCancel(ctx), s.cfg.Bucket, k, minio.RemoveObjectOptions{})
		}
	}
	for _, f := range c.Files {
		if err := ctx.Err(); err != nil {
			cleanup()
			return err
		}
		key := s.key(inv.ID, inv.Head+"/content/"+f.Path)
		written = append(written, key)
		if err := s.upload(ctx, key, f); err != nil {
			cleanup()
			return fmt.Errorf("commit %s: %w", inv.ID, err)
		}
	}
	small := func(p string, b []byte) error {
		_, err := s.putVerified(ctx, s.key(inv.ID, p), bytes.NewReader(b), int64(len(b)), digest.Of(b))
		return err
	}
	steps := []struct {
		p string
		b []byte
	}{
		{inv.Head + "/" + ocfl.InventoryFile, invBytes},
		{inv.Head + "/" + ocfl.SidecarFile, side},
		{ocfl.ObjectDeclaration, []byte("ocfl_object_1.1\n")},
		{ocfl.InventoryFile, invBytes},
		{ocfl.SidecarFile, side},
	}
	for _, st := range steps {
		if st.p == ocfl.ObjectDeclaration && head != 1 {
			continue
		}
		if st.p == ocfl.InventoryFile {
			// From the root inventory on, nothing is removed: a PUT either
			// replaced it or did not, and Inventory's recovery rule handles
			// a missing sidecar.
			written = nil
		} else {
			written = append(written, s.key(inv.ID, st.p))
		}
		if err := small(st.p, st.b); err != nil {
			cleanup()
			return fmt.Errorf("commit %s: %w", inv.ID, err)
		}
	}
	return nil
}

// Inventory implements storage.Store. If the root sidecar does not match
// but the root inventory equals the head version's intact inventory, a
// commit was interrupted between its last two writes: the sidecar is
// rewritten (roll forward), as docs/storage.md describes.
func (s *Store) Inventory(ctx context.Context, id string) ([]byte, error) {
	b, err := s.get(ctx, s.key(id, ocfl.InventoryFile), 64<<20)
	if err != nil {
		return nil, err
	}
	d := digest.Of(b).SHA512.String()
	side, err := s.get(ctx, s.key(id, ocfl.SidecarFile), 4096)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if f := strings.Fields(string(side)); len(f) == 2 && strings.EqualFold(f[0], d) {
		return b, nil
	}
	inv, perr := ocfl.ParseInventory(b)
	if perr == nil {
		vb, verr := s.get(ctx, s.key(id, inv.Head+"/"+ocfl.InventoryFile), 64<<20)
		vside, serr := s.get(ctx, s.key(id, inv.Head+"/"+ocfl.SidecarFile), 4096)
		if verr == nil && serr == nil && bytes.Equal(vb, b) {
			if f := strings.Fields(string(vside)); len(f) == 2 && strings.EqualFold(f[0], d) {
				if _, err := s.putVerified(ctx, s.key(id, ocfl.SidecarFile), bytes.NewReader(vside), int64(len(vside)), digest.Of(vside)); err != nil {
					return nil, err
				}
				return b, nil
			}
		}
	}
	return nil, fmt.Errorf("object %s: inventory.json does not match its sidecar: %w", id, storage.ErrDigest)
}

func (s *Store) get(ctx context.Context, key string, limit int64) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.translate("read", key, err)
	}
	defer obj.Close()
	b, err := io.ReadAll(io.LimitReader(obj, limit))
	if err != nil {
		return nil, s.translate("read", key, err)
	}
	return b, nil
}

// Open implements storage.Store.
func (s *Store) Open(ctx context.Context, id, p string) (io.ReadCloser, error) {
	if err := storage.CheckPath(p); err != nil {
		return nil, err
	}
	key := s.key(id, p)
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.readErr(ctx, "open", key, err)
	}
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.readErr(ctx, "open", key, err)
	}
	return &reader{ctx: ctx, obj: obj, s: s, key: key}, nil
}

// readErr translates an error reading one object. A server error (5xx)
// for this object while the server answers for the storage root's own
// declaration is damage of this object, not an outage: MinIO answers a
// GET of an object whose stored bytes fail its bitrot check with 503
// SlowDownRead, after minio-go's own retries.
func (s *Store) readErr(ctx context.Context, op, key string, err error) error {
	terr := s.translate(op, key, err)
	if errors.Is(terr, storage.ErrNotFound) {
		if note := s.hiddenBy(ctx, key); note != "" {
			return fmt.Errorf("%w (%s)", terr, note)
		}
		return terr
	}
	resp := minio.ToErrorResponse(err)
	if resp.StatusCode < 500 || !errors.Is(terr, storage.ErrUnavailable) || ctx.Err() != nil {
		return terr
	}
	probe, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	if _, perr := s.client.StatObject(probe, s.cfg.Bucket, s.prefix+ocfl.RootDeclaration, minio.StatObjectOptions{}); perr != nil {
		return terr // the server is not well: an outage, retry later
	}
	return fmt.Errorf("location %s: %s %s: the server answers for other objects but not for this one (%d %s): %w",
		s.cfg.Name, op, key, resp.StatusCode, resp.Code, storage.ErrUnreadable)
}

// hiddenBy says when a missing key is in fact hidden behind a delete
// marker (a delete without a version id on a versioned bucket) while an
// earlier version is still stored: the data is there, and removing the
// marker restores it. "" otherwise.
func (s *Store) hiddenBy(ctx context.Context, key string) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
	defer cancel()
	var marker, kept string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: key, WithVersions: true}) {
		if o.Err != nil || o.Key != key {
			continue
		}
		switch {
		case o.IsDeleteMarker && o.IsLatest:
			marker = o.VersionID
		case !o.IsDeleteMarker && kept == "":
			kept = o.VersionID
		}
	}
	if marker == "" || kept == "" {
		return ""
	}
	return fmt.Sprintf("hidden behind delete marker %s; version %s is still stored: delete the marker (by its version id) to restore it", marker, kept)
}

// reader translates errors met while streaming.
type reader struct {
	ctx context.Context
	obj *minio.Object
	s   *Store
	key string
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.obj.Read(p)
	if err != nil && err != io.EOF {
		err = r.s.readErr(r.ctx, "read", r.key, err)
	}
	return n, err
}

func (r *reader) Close() error { return r.obj.Close() }

// Stat implements storage.Store.
func (s *Store) Stat(ctx context.Context, id, p string) (storage.Info, error) {
	if err := storage.CheckPath(p); err != nil {
		return storage.Info{}, err
	}
	info, err := s.statKey(ctx, s.key(id, p))
	if err != nil {
		return storage.Info{}, err
	}
	return storage.Info{Size: info.Size, VersionID: info.VersionID, SHA512: info.UserMetadata[metaSHA512]}, nil
}

// Objects implements storage.Store: every object declaration below the
// prefix, mapped back to its id through the layout.
func (s *Store) Objects(ctx context.Context) ([]string, error) {
	var ids []string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: s.prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.translate("list", s.prefix, o.Err)
		}
		if path.Base(o.Key) != ocfl.ObjectDeclaration {
			continue
		}
		dir := strings.TrimPrefix(path.Dir(o.Key), s.prefix)
		if id, ok := ocfl.IDFromPath(dir); ok {
			ids = append(ids, id)
			continue
		}
		b, err := s.get(ctx, s.prefix+dir+"/"+ocfl.InventoryFile, 64<<20)
		if err != nil {
			return nil, err
		}
		var inv struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(b, &inv); err != nil || ocfl.ObjectPath(inv.ID) != dir {
			return nil, fmt.Errorf("location %s: object at %s: inventory id does not map to its path", s.cfg.Name, dir)
		}
		ids = append(ids, inv.ID)
	}
	sort.Strings(ids)
	return ids, nil
}

func (s *Store) extKey(name string) (string, error) {
	if err := storage.CheckPath(name); err != nil {
		return "", err
	}
	return s.prefix + "extensions/" + storage.ExtensionDir + "/" + name, nil
}

// PutExtension implements storage.Store.
func (s *Store) PutExtension(ctx context.Context, name string, data []byte) error {
	key, err := s.extKey(name)
	if err != nil {
		return err
	}
	if err := s.Init(ctx); err != nil {
		return err
	}
	if old, err := s.get(ctx, key, int64(len(data))+1); err == nil {
		if bytes.Equal(old, data) {
			return nil
		}
		return fmt.Errorf("extension file %s exists with other content", name)
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	vid, err := s.putVerified(ctx, key, bytes.NewReader(data), int64(len(data)), digest.Of(data))
	if err != nil {
		return err
	}
	return s.retainKey(ctx, key, vid)
}

// GetExtension implements storage.Store.
func (s *Store) GetExtension(ctx context.Context, name string) ([]byte, error) {
	key, err := s.extKey(name)
	if err != nil {
		return nil, err
	}
	return s.get(ctx, key, 1<<30)
}

// ListExtension implements storage.Store.
func (s *Store) ListExtension(ctx context.Context, prefix string) ([]string, error) {
	base := s.prefix + "extensions/" + storage.ExtensionDir + "/"
	var out []string
	for o := range s.client.ListObjects(ctx, s.cfg.Bucket, minio.ListObjectsOptions{Prefix: base + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.translate("list", base, o.Err)
		}
		out = append(out, strings.TrimPrefix(o.Key, base))
	}
	sort.Strings(out)
	return out, nil
}

var _ storage.Store = (*Store)(nil)

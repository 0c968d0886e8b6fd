// Package s3test starts real S3 servers for tests, each built from the Go
// module proxy by the harness itself and run on loopback over TLS with a
// CA the harness generates: versitygw (Apache-2.0, posix backend: each key
// a file) and MinIO (AGPL-3.0, used only as a test server, single drive),
// both with versioning and Object Lock. Servers differ; tests that must
// hold everywhere run on Servers().
package s3test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/archivd/archivd/storage/s3"
)

// Kinds of server. versitygw is pinned in tools/go.mod, MinIO in
// tools/minio/go.mod (a module of its own: its dependencies are many).
const (
	Versitygw = "versitygw"
	MinIO     = "minio"
)

// Server is one running S3 server.
type Server struct {
	Kind                 string
	Endpoint             string
	CAFile               string
	AccessKey, SecretKey string
	Root                 string // backend folder; versitygw: <Root>/<bucket>/<key>
	addr                 string
	dir, cert, key       string
	versions             string
	bin                  string
	cmd                  *exec.Cmd
	logFile              *os.File
}

// moduleRoot finds the folder holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(dir, "tools", "go.mod")); err == nil {
				return dir, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root with tools/go.mod not found")
		}
		dir = parent
	}
}

// Binary returns the path of a server's binary (kind Versitygw or MinIO),
// building it once (under a file lock, since test packages run in
// parallel processes).
func Binary(kind string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	pkg, mod := "github.com/versity/versitygw/cmd/versitygw", "tools"
	if kind == MinIO {
		pkg, mod = "github.com/minio/minio", filepath.Join("tools", "minio")
	}
	bin := filepath.Join(root, ".tools", "bin", kind)
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(root, ".tools", "build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.Command("go", "build", "-o", bin+".tmp", pkg)
	cmd.Dir = filepath.Join(root, mod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s: %v\n%s", kind, err, out)
	}
	return bin, os.Rename(bin+".tmp", bin)
}

// Start builds (if needed) and starts versitygw; it is stopped when the
// test ends.
func Start(t testing.TB) *Server { return StartKind(t, Versitygw) }

// StartMinIO builds (if needed) and starts MinIO.
func StartMinIO(t testing.TB) *Server { return StartKind(t, MinIO) }

// Servers are the kinds every S3 test that must hold everywhere runs on.
func Servers() []string { return []string{Versitygw, MinIO} }

// StartKind builds (if needed) and starts a server of the given kind; it
// is stopped when the test ends.
func StartKind(t testing.TB, kind string) *Server {
	t.Helper()
	bin, err := Binary(kind)
	if err != nil {
		t.Fatalf("the S3 test server %s is required: %v", kind, err)
	}
	dir := t.TempDir()
	s := &Server{Kind: kind, bin: bin, dir: dir, Root: filepath.Join(dir, "root"), versions: filepath.Join(dir, "versions"),
		AccessKey: "archivd-test", SecretKey: "archivd-test-secret-key"}
	os.MkdirAll(s.Root, 0o755)
	os.MkdirAll(s.versions, 0o755)
	if err := s.makeCerts(); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	l.Close()
	s.Endpoint = "https://" + s.addr
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func (s *Server) start() error {
	logf, err := os.OpenFile(filepath.Join(s.dir, s.Kind+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	s.logFile = logf
	var cmd *exec.Cmd
	switch s.Kind {
	case MinIO:
		// Single drive: versioning and Object Lock work; the console
		// listens on a port of its own next to the API's.
		console, err := freeAddr()
		if err != nil {
			return err
		}
		cmd = exec.Command(s.bin, "server", s.Root, "--address", s.addr, "--console-address", console,
			"--certs-dir", filepath.Dir(s.cert), "--quiet")
		cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
			"MINIO_BROWSER=off", "MINIO_UPDATE=off")
	default:
		cmd = exec.Command(s.bin, "--port", s.addr, "--cert", s.cert, "--key", s.key,
			"posix", "--versioning-dir", s.versions, s.Root)
		cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY="+s.AccessKey, "ROOT_SECRET_KEY="+s.SecretKey)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", s.Kind, err)
	}
	s.cmd = cmd
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if s.ready() {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Stop()
	log, _ := os.ReadFile(filepath.Join(s.dir, s.Kind+".log"))
	return fmt.Errorf("%s did not answer on %s within 60s:\n%s", s.Kind, s.addr, log)
}

// ready reports whether the server answers S3 requests: MinIO listens
// before its drive is ready, so a listing must succeed.
func (s *Server) ready() bool {
	c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	if s.Kind != MinIO {
		return true
	}
	cl, err := s.client()
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = cl.ListBuckets(ctx)
	return err == nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Stop kills the server (as a crash would) and waits for it.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Kill()
		s.cmd.Wait()
		s.cmd = nil
	}
	if s.logFile != nil {
		s.logFile.Close()
		s.logFile = nil
	}
}

// Restart starts a stopped server again on the same address and data.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.start(); err != nil {
		t.Fatal(err)
	}
}

// Client returns a minio client for test setup (buckets).
func (s *Server) Client(t testing.TB) *minio.Client {
	t.Helper()
	c, err := s.client()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (s *Server) client() (*minio.Client, error) {
	pool := x509.NewCertPool()
	b, _ := os.ReadFile(s.CAFile)
	pool.AppendCertsFromPEM(b)
	return minio.New(s.addr, &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""),
		Secure: true, Transport: transport(pool), BucketLookup: minio.BucketLookupPath})
}

// MakeBucket creates a bucket, with Object Lock (and so versioning) if lock.
func (s *Server) MakeBucket(t testing.TB, name string, lock bool) {
	t.Helper()
	c := s.Client(t)
	if err := c.MakeBucket(context.Background(), name, minio.MakeBucketOptions{ObjectLocking: lock}); err != nil {
		t.Fatalf("make bucket %s: %v", name, err)
	}
}

// Config returns a location configuration for bucket on this server.
func (s *Server) Config(bucket string) s3.Config {
	return s3.Config{Name: "s3-" + bucket, Endpoint: s.Endpoint, Bucket: bucket, Region: "us-east-1",
		PathStyle: true, CAFile: s.CAFile, AccessKey: s.AccessKey, SecretKey: s.SecretKey,
		PartSize: 5 << 20, Timeout: 20 * time.Second}
}

// ObjectPath is where versitygw's posix backend keeps the current bytes
// of a key (MinIO keeps a format of its own).
func (s *Server) ObjectPath(bucket, key string) string {
	return filepath.Join(s.Root, bucket, filepath.FromSlash(key))
}

func (s *Server) makeCerts() error {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "archivd test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	ca, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		return err
	}
	// MinIO reads public.crt and private.key from its certs folder.
	certs := filepath.Join(s.dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return err
	}
	s.CAFile = filepath.Join(s.dir, "ca.pem")
	s.cert = filepath.Join(certs, "public.crt")
	s.key = filepath.Join(certs, "private.key")
	write := func(p, typ string, der []byte) error {
		return os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
	}
	if err := write(s.CAFile, "CERTIFICATE", caDER); err != nil {
		return err
	}
	if err := write(s.cert, "CERTIFICATE", srvDER); err != nil {
		return err
	}
	return write(s.key, "EC PRIVATE KEY", keyDER)
}

// Download copies every current object under prefix in bucket into a new
// folder and returns it: a storage root to validate as files, whatever
// the server's own format.
func (s *Server) Download(t testing.TB, bucket, prefix string) string {
	t.Helper()
	ctx := context.Background()
	c := s.Client(t)
	dir := t.TempDir()
	for o := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix + "/", Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if err := c.FGetObject(ctx, bucket, o.Key, filepath.Join(dir, filepath.FromSlash(o.Key[len(prefix)+1:])), minio.GetObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Damage flips one byte in the middle of the stored bytes of key: in
// versitygw's file for it, or in MinIO's part file (objects over 128 KiB;
// smaller ones MinIO keeps inside its metadata file).
func (s *Server) Damage(t testing.TB, bucket, key string) {
	t.Helper()
	p := s.ObjectPath(bucket, key)
	if s.Kind == MinIO {
		parts, _ := filepath.Glob(filepath.Join(s.Root, bucket, filepath.FromSlash(key), "*", "part.1"))
		if len(parts) != 1 {
			t.Fatalf("MinIO's part file of %s not found (%v); is the object over 128 KiB?", key, parts)
		}
		p = parts[0]
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 1
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

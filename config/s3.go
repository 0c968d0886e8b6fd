package config

import (
	"bufio"
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// checkS3 validates an S3 location and loads its credentials.
func checkS3(l *Location, base string) []string {
	var p []string
	u, err := url.Parse(l.Endpoint)
	if l.Endpoint == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		p = append(p, fmt.Sprintf("endpoint %q must be an https:// (or http://) URL with host and port", l.Endpoint))
	}
	if l.Bucket == "" {
		p = append(p, "bucket is required")
	}
	switch l.Addressing {
	case "path", "virtual-host":
	default:
		p = append(p, fmt.Sprintf("addressing %q: must be path or virtual-host", l.Addressing))
	}
	if l.CAFile != "" && !filepath.IsAbs(l.CAFile) {
		l.CAFile = filepath.Join(base, l.CAFile)
	}
	if l.PartSizeMiB < 5 || l.PartSizeMiB > 5120 {
		p = append(p, fmt.Sprintf("part_size_mib %d: S3 allows 5 to 5120", l.PartSizeMiB))
	}
	if d, err := time.ParseDuration(l.MultipartMaxAge); err != nil || d < time.Hour {
		p = append(p, fmt.Sprintf("multipart_max_age %q: a duration of at least 1h, e.g. 24h", l.MultipartMaxAge))
	} else {
		l.MultipartAge = d
	}
	if lk := l.ObjectLock; lk != nil {
		lk.Mode = strings.ToLower(lk.Mode)
		if lk.Mode != "governance" && lk.Mode != "compliance" {
			p = append(p, fmt.Sprintf("object_lock.mode %q: governance or compliance", lk.Mode))
		}
		if lk.Days < 1 {
			p = append(p, "object_lock.days must be at least 1")
		}
	}
	if err := loadCredentials(l, base); err != nil {
		p = append(p, err.Error())
	}
	return p
}

// loadCredentials reads the keys from exactly one source.
func loadCredentials(l *Location, base string) error {
	c := l.Credentials
	n := 0
	for _, s := range []string{c.File, c.Env, c.Systemd} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("credentials: give exactly one of file, env or systemd (keys never go into this file)")
	}
	switch {
	case c.Env != "":
		l.AccessKey = os.Getenv(c.Env + "_ACCESS_KEY_ID")
		l.SecretKey = os.Getenv(c.Env + "_SECRET_ACCESS_KEY")
		if l.AccessKey == "" || l.SecretKey == "" {
			return fmt.Errorf("credentials: environment variables %s_ACCESS_KEY_ID and %s_SECRET_ACCESS_KEY must both be set", c.Env, c.Env)
		}
		return nil
	case c.Systemd != "":
		dir := os.Getenv("CREDENTIALS_DIRECTORY")
		if dir == "" {
			return fmt.Errorf("credentials: systemd credential %q, but $CREDENTIALS_DIRECTORY is not set (LoadCredential= in the unit)", c.Systemd)
		}
		return readKeyFile(l, filepath.Join(dir, c.Systemd))
	default:
		f := c.File
		if !filepath.IsAbs(f) {
			f = filepath.Join(base, f)
		}
		return readKeyFile(l, f)
	}
}

func readKeyFile(l *Location, path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("credentials: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch strings.TrimSpace(k) {
		case "access_key_id":
			l.AccessKey = strings.TrimSpace(v)
		case "secret_access_key":
			l.SecretKey = strings.TrimSpace(v)
		}
	}
	if l.AccessKey == "" || l.SecretKey == "" {
		return fmt.Errorf("credentials: %s must hold access_key_id=... and secret_access_key=... lines", path)
	}
	return nil
}

package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// reservedInDataDir are the data directory's own entries; no location may
// live in one of them. A location in another folder of the data directory
// (the default "storage") is fine.
var reservedInDataDir = []string{"staging", "audit", "lock", "uploads", "work", "quarantine", "done", "catalog.db", "catalog.db-wal", "catalog.db-shm", "catalog.db.rebuild"}

// realPath resolves symbolic links in the part of p that exists, so two
// spellings of one folder compare equal.
func realPath(p string) string {
	p = filepath.Clean(p)
	var rest []string
	for cur := p; ; {
		if r, err := filepath.EvalSymlinks(cur); err == nil {
			return filepath.Join(append([]string{r}, rest...)...)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return p
		}
		rest = append([]string{filepath.Base(cur)}, rest...)
		cur = parent
	}
}

// within reports whether p is inside dir (or is dir).
func within(p, dir string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

// usableDir says why path cannot be a folder archivd creates and writes,
// or "" if it can: it must be a folder already, or be creatable under the
// nearest existing folder. Nothing is created.
func usableDir(path string) string {
	st, err := os.Stat(path)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Sprintf("%s exists and is not a folder", path)
	case err == nil:
		if unix.Access(path, unix.W_OK|unix.X_OK) != nil {
			return fmt.Sprintf("%s is not writable for this user", path)
		}
		return ""
	case !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
		return fmt.Sprintf("%s: %v", path, err)
	}
	parent := filepath.Dir(path)
	if parent == path {
		return fmt.Sprintf("%s cannot be created", path)
	}
	if why := usableDir(parent); why != "" {
		return fmt.Sprintf("%s cannot be created: %s", path, why)
	}
	return ""
}

// checkPlaces reports data directory and location paths that cannot work
// or that would make two locations one physical copy.
func (c *Config) checkPlaces(add func(l int, format string, args ...any), line func(...string) int, locLine func(i int) int) {
	dataDir := realPath(c.DataDir)
	dataDirOK := true
	if c.DataDir != "" {
		if why := usableDir(c.DataDir); why != "" {
			add(line("data_dir"), "data_dir: %s", why)
			dataDirOK = false
		}
	}
	for i, l := range c.Locations {
		if l.Type != "local" || l.Path == "" {
			continue
		}
		p := realPath(l.Path)
		switch {
		case c.DataDir != "" && p == dataDir:
			add(locLine(i), "locations[%d] (%s): path %s is the data directory itself; use a folder of its own, such as %s", i, l.Name, l.Path, filepath.Join(c.DataDir, "storage"))
			continue
		case c.DataDir != "" && within(dataDir, p):
			add(locLine(i), "locations[%d] (%s): the data directory %s is inside this storage root; an OCFL storage root must hold nothing but objects", i, l.Name, c.DataDir)
			continue
		case c.DataDir != "" && within(p, dataDir):
			rel, _ := filepath.Rel(dataDir, p)
			first := strings.SplitN(rel, string(filepath.Separator), 2)[0]
			for _, r := range reservedInDataDir {
				if first == r {
					add(locLine(i), "locations[%d] (%s): path %s is inside the data directory's %s, which archivd manages itself", i, l.Name, l.Path, r)
				}
			}
		}
		if !dataDirOK && within(p, dataDir) {
			continue // said already
		}
		if why := usableDir(l.Path); why != "" {
			add(locLine(i), "locations[%d] (%s): path: %s", i, l.Name, why)
		}
		for j := 0; j < i; j++ {
			o := c.Locations[j]
			if o.Type != "local" || o.Path == "" {
				continue
			}
			q := realPath(o.Path)
			switch {
			case p == q:
				add(locLine(i), "locations[%d] (%s) and locations[%d] (%s) are the same folder %s: two names for one physical copy", i, l.Name, j, o.Name, l.Path)
			case within(p, q), within(q, p):
				add(locLine(i), "locations[%d] (%s) and locations[%d] (%s) are nested (%s, %s): one storage root may not hold another", i, l.Name, j, o.Name, l.Path, o.Path)
			}
		}
	}
	for i, l := range c.Locations {
		if l.Type != "s3" {
			continue
		}
		for j := 0; j < i; j++ {
			o := c.Locations[j]
			if o.Type == "s3" && sameServer(l.Endpoint, o.Endpoint) && l.Bucket == o.Bucket && prefixesOverlap(l.Prefix, o.Prefix) {
				add(locLine(i), "locations[%d] (%s) and locations[%d] (%s) share endpoint, bucket %q and overlapping prefixes (%q, %q): one physical copy, or one storage root inside another", i, l.Name, j, o.Name, l.Bucket, l.Prefix, o.Prefix)
			}
		}
	}
}

// sameServer compares two endpoints by scheme, host (case-insensitive)
// and port (the scheme's default when none is given).
func sameServer(a, b string) bool {
	norm := func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return s
		}
		port := u.Port()
		if port == "" {
			port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
		}
		return strings.ToLower(u.Scheme + "://" + u.Hostname() + ":" + port)
	}
	return norm(a) == norm(b)
}

// prefixesOverlap reports whether one key prefix lies within the other,
// folder-wise ("a" and "a/b" overlap, "a" and "ab" do not).
func prefixesOverlap(a, b string) bool {
	a, b = strings.Trim(a, "/"), strings.Trim(b, "/")
	if a == "" || b == "" || a == b {
		return true
	}
	return strings.HasPrefix(a, b+"/") || strings.HasPrefix(b, a+"/")
}

package daemon

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/archivd/archivd/atomicfile"
	"github.com/archivd/archivd/ingest"
)

// Limits on what a delivered zip may unpack to: a zip bomb or a damaged
// archive is refused, never unpacked half.
const (
	zipMaxEntries = 200_000
	zipMaxRatio   = 1000 // uncompressed bytes per compressed byte, per entry
)

// zipLimit is the most a delivered zip may unpack to.
func (d *Daemon) zipLimit() int64 { return int64(d.conf().Daemon.ZipMaxMiB) << 20 }

// unzip unpacks a claimed zip into its case folder: into case.partial/
// first, renamed to case/ when complete, so a crash never leaves half a
// case that looks whole. Bad content is an *ingest.InputError naming the
// entry; the zip itself stays as delivered.
func (d *Daemon) unzip(c *Claim) error {
	if _, err := os.Lstat(c.CaseDir()); err == nil {
		return nil // unpacked before a crash
	}
	tmp := c.CaseDir() + ".partial"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	refuse := func(format string, args ...any) error {
		os.RemoveAll(tmp)
		return &ingest.InputError{Folder: c.Name, Problems: []string{fmt.Sprintf(format, args...)}}
	}
	zr, err := zip.OpenReader(c.ZipPath())
	if err != nil {
		return refuse("not a readable zip file: %v", err)
	}
	defer zr.Close()
	if len(zr.File) > zipMaxEntries {
		return refuse("the zip holds %d entries; at most %d are taken", len(zr.File), zipMaxEntries)
	}
	var total int64
	for _, f := range zr.File {
		name := f.Name
		clean := path.Clean(name)
		switch {
		case strings.Contains(name, "\\"), path.IsAbs(name), clean == "..", strings.HasPrefix(clean, "../"), strings.Contains(name, "\x00"):
			return refuse("%q: an entry name that points outside the case (absolute, .. or a backslash)", name)
		case f.Mode()&os.ModeSymlink != 0:
			return refuse("%q: a symbolic link in the zip", name)
		case f.Mode()&(os.ModeDevice|os.ModeNamedPipe|os.ModeSocket) != 0:
			return refuse("%q: a special file in the zip", name)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(clean))
		if f.FileInfo().IsDir() {
			if err := os.MkdirAll(dst, 0o750); err != nil {
				return err
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
			return err
		}
		n, err := d.unzipFile(f, dst, d.zipLimit()-total)
		var lim *limitError
		switch {
		case errors.As(err, &lim):
			return refuse("%q: %s", name, lim.why)
		case err != nil && isZipDamage(err):
			return refuse("%q: damaged: %v", name, err)
		case err != nil:
			return err
		}
		total += n
	}
	if err := atomicfile.SyncTree(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp, c.CaseDir()); err != nil {
		return err
	}
	return atomicfile.SyncDir(c.dir)
}

type limitError struct{ why string }

func (e *limitError) Error() string { return e.why }

func isZipDamage(err error) bool {
	return errors.Is(err, zip.ErrChecksum) || errors.Is(err, zip.ErrFormat) || errors.Is(err, zip.ErrAlgorithm) ||
		errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "flate")
}

// unzipFile writes one entry, counting what it really unpacks to rather
// than trusting the sizes the zip claims.
func (d *Daemon) unzipFile(f *zip.File, dst string, room int64) (int64, error) {
	rc, err := f.Open()
	if err != nil {
		return 0, err
	}
	defer rc.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, &limitError{"the zip holds this name twice"}
		}
		return 0, err
	}
	maxRatio := int64(f.CompressedSize64)*zipMaxRatio + 1<<20
	limit := min(room, maxRatio)
	n, err := io.Copy(out, io.LimitReader(rc, limit+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if n > limit {
		if n > room {
			return n, &limitError{fmt.Sprintf("the zip unpacks to more than daemon.zip_max_mib (%d MiB)", d.conf().Daemon.ZipMaxMiB)}
		}
		return n, &limitError{fmt.Sprintf("unpacks to more than %d times its compressed size (a zip bomb?)", zipMaxRatio)}
	}
	mt := f.Modified
	if mt.IsZero() {
		mt = time.Now()
	}
	return n, os.Chtimes(dst, mt, mt)
}

// caseKind says how a case folder is to be read: a bag if it is one (or
// holds exactly one folder that is), else a case folder.
func caseKind(dir string) (root, kind string) {
	if _, err := os.Lstat(filepath.Join(dir, "bagit.txt")); err == nil {
		return dir, ingest.KindBag
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) == 1 && ents[0].IsDir() {
		inner := filepath.Join(dir, ents[0].Name())
		if _, err := os.Lstat(filepath.Join(inner, "bagit.txt")); err == nil {
			return inner, ingest.KindBag
		}
	}
	return dir, ingest.KindFolder
}

package formats

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
)

// Files expands folders into their regular files, sorted. A named
// argument that is neither a regular file nor a folder (a named pipe would
// block the read for ever) is an error; such entries inside a folder are
// left out and named in skipped.
func Files(args []string) (files, skipped []string, err error) {
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case st.Mode().IsRegular():
			files = append(files, a)
			continue
		case !st.IsDir():
			return nil, nil, fmt.Errorf("%s: is a %s, not a regular file or a folder", a, FileKind(st.Mode()))
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			switch {
			case d.Type().IsRegular():
				files = append(files, p)
			case !d.IsDir():
				skipped = append(skipped, p)
			}
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
	}
	sort.Strings(files)
	return files, skipped, nil
}

// FileKind names a file that is not a regular file or folder in plain
// words: "named pipe", "device file", ...
func FileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeDevice != 0:
		return "device file"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	}
	return "special file"
}

package formats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"

	"strings"
	"sync"
	"time"
)

// External is an optional validator run as a subprocess (qpdf --check,
// xmllint --noout, ...). "{}" in Command is replaced by the file path.
type External struct {
	Name      string
	Families  []string // pdf, tiff, jpeg, png, gif, bmp, jp2, wave, zip, xml, text, eml, msg
	Command   []string
	Timeout   time.Duration
	MemoryMiB int
}

// Analyzer identifies, validates and decides.
type Analyzer struct {
	ID       *Identifier
	Policy   *Policy
	External []External
	// ReadWhole: AnalyzeFile reads a file up to this size whole, with one
	// read, and identifies and validates it from memory (0: identification
	// and validation read what each needs from the file). For a command
	// that only analyses: the validators read most files whole anyway, and
	// identification's windows and full scans then read nothing again.
	ReadWhole int64
}

// Analysis is everything archivd records about one file's format.
type Analysis struct {
	Result
	Validation Validation `json:"validation"`
	Decision   Decision   `json:"decision"`
}

// AnalyzeFile identifies, validates and applies the policy to one file;
// name is the name that counts for the extension.
func (a *Analyzer) AnalyzeFile(ctx context.Context, path, name string) (Analysis, error) {
	f, err := os.Open(path)
	if err != nil {
		return Analysis{}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Analysis{}, err
	}
	if size := st.Size(); size > 0 && size <= a.ReadWhole {
		// The buffer is reused: an Analysis holds no bytes of the file.
		buf := wholeBuffers.Get().(*[]byte)
		defer wholeBuffers.Put(buf)
		if int64(cap(*buf)) < size {
			*buf = make([]byte, size)
		}
		data := (*buf)[:size]
		if _, err := io.ReadFull(f, data); err != nil {
			return Analysis{}, fmt.Errorf("read %s: %w", name, err)
		}
		an, err := a.analyze(ctx, newMemFile(data), size, path, name)
		an.BytesRead, an.Validation.BytesRead = size, 0 // one read of the whole file
		return an, err
	}
	return a.analyze(ctx, f, st.Size(), path, name)
}

var wholeBuffers = sync.Pool{New: func() any { return new([]byte) }}

// AnalyzeBytes is AnalyzeFile for a file whose bytes were read already
// (the packager reads small files whole): identification and the native
// validators read data, an external validator reads the file at path.
func (a *Analyzer) AnalyzeBytes(ctx context.Context, data []byte, path, name string) (Analysis, error) {
	an, err := a.analyze(ctx, newMemFile(data), int64(len(data)), path, name)
	// Nothing was read from the file again.
	an.BytesRead, an.Validation.BytesRead = 0, 0
	return an, err
}

func (a *Analyzer) analyze(ctx context.Context, r io.ReaderAt, size int64, path, name string) (Analysis, error) {
	res, err := a.ID.Identify(r, size, name)
	if err != nil {
		return Analysis{}, fmt.Errorf("identify %s: %w", name, err)
	}
	res.Path = name
	v := Validate(ctx, r, size, res)
	head := make([]byte, min(size, 16))
	r.ReadAt(head, 0)
	fam := family(res, head)
	for _, x := range a.External {
		if contains(x.Families, fam) {
			v = x.run(ctx, path, v)
		}
	}
	res.Validity, res.ValidityNotes = v.Outcome, v.Messages
	res.Encrypted = res.Encrypted || v.Encrypted
	p := a.Policy
	if p == nil {
		p = DefaultPolicy()
	}
	return Analysis{Result: res, Validation: v, Decision: p.Decide(res, v)}, nil
}

// run executes an external validator under a timeout and, where prlimit
// exists, an address-space limit. A hung or crashing validator leaves the
// native outcome and says so; it never hangs the caller.
func (x External) run(ctx context.Context, path string, native Validation) Validation {
	timeout := x.Timeout
	if timeout == 0 {
		timeout = time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	args := make([]string, 0, len(x.Command)+3)
	if x.MemoryMiB > 0 {
		if pl, err := exec.LookPath("prlimit"); err == nil {
			args = append(args, pl, fmt.Sprintf("--as=%d", int64(x.MemoryMiB)<<20), "--")
		}
	}
	for _, c := range x.Command {
		args = append(args, strings.ReplaceAll(c, "{}", path))
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	note := func(s string) Validation {
		v := native
		v.Messages = append(append([]string(nil), native.Messages...), x.Name+": "+s)
		return v
	}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return note("not checked (no answer within " + timeout.String() + ")")
	case err == nil:
		v := native
		if v.Outcome == NotChecked {
			v.Outcome = WellFormed
		}
		v.Checker = strings.TrimSpace(v.Checker + "; " + x.Name)
		return v
	case errors.As(err, &ee) && ee.ExitCode() > 0:
		msg := strings.TrimSpace(out.String())
		if len(msg) > 500 {
			msg = msg[:500] + "..."
		}
		return Validation{Outcome: Malformed, Checker: x.Name, Messages: append(native.Messages, x.Name+": "+msg), Encrypted: native.Encrypted}
	default:
		return note(fmt.Sprintf("not checked (%v)", err))
	}
}

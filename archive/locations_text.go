package archive

import (
	"fmt"
	"io"
)

// WriteText says in plain words whether the location is usable, and for S3
// what its probe found, as archivd locations check shows it.
func (ch *LocationCheck) WriteText(w io.Writer) {
	loc := ch.Location
	switch p := ch.Probe; {
	case ch.Problem != "":
		fmt.Fprintf(w, "%s (%s %s): NOT USABLE: %s\n", loc.Name, loc.Type, loc.Path+loc.Endpoint, ch.Problem)
	case p != nil:
		state := "OK"
		if !ch.Usable() {
			state = "NOT USABLE"
		}
		versioning, lock := p.Versioning, "off"
		if versioning == "" {
			versioning = "off"
		}
		if p.ObjectLock {
			lock = "on"
		}
		writable := fmt.Sprint(p.Writable)
		if !p.Checked {
			versioning, lock, writable = "not checked", "not checked", "not checked"
		}
		fmt.Fprintf(w, "%s (s3 %s bucket %s): %s\n  reachable: %v, bucket: %v, writable: %s, versioning: %s, object lock: %s\n",
			loc.Name, loc.Endpoint, loc.Bucket, state, p.Reachable, p.BucketFound, writable, versioning, lock)
		for _, m := range p.Problems {
			fmt.Fprintf(w, "  problem: %s\n", m)
		}
		for _, m := range p.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", m)
		}
	default:
		fmt.Fprintf(w, "%s (local %s): OK\n  writable, valid OCFL storage root with %d object(s)\n", loc.Name, loc.Path, ch.Objects)
	}
}

package ocfl

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"time"

	"golang.org/x/crypto/blake2b"
)

// Finding is one validation error or warning, with the specification's code.
type Finding struct {
	Code string // e.g. "E092" or "W004"
	Path string // the object or file it concerns, relative to what was validated
	Msg  string
}

func (f Finding) String() string { return fmt.Sprintf("[%s] %s: %s", f.Code, f.Path, f.Msg) }

// Result collects what validation found.
type Result struct {
	Errors   []Finding
	Warnings []Finding
	Objects  int // objects validated
}

// Valid reports whether no error was found (warnings allowed).
func (r *Result) Valid() bool { return len(r.Errors) == 0 }

// HasCode reports whether an error or warning carries code.
func (r *Result) HasCode(code string) bool {
	for _, l := range [][]Finding{r.Errors, r.Warnings} {
		for _, f := range l {
			if f.Code == code {
				return true
			}
		}
	}
	return false
}

func (r *Result) errf(code, p, format string, args ...any) {
	r.Errors = append(r.Errors, Finding{code, p, fmt.Sprintf(format, args...)})
}

func (r *Result) warnf(code, p, format string, args ...any) {
	r.Warnings = append(r.Warnings, Finding{code, p, fmt.Sprintf(format, args...)})
}

// digestLen is the hex length of each algorithm OCFL names; content
// addressing allows only sha512 and sha256.
var digestLen = map[string]int{"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128, "blake2b-512": 128}

func newHash(alg string) hash.Hash {
	switch alg {
	case "md5":
		return md5.New()
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	case "blake2b-512":
		h, _ := blake2b.New512(nil)
		return h
	}
	return nil
}

// registered object and root extensions (OCFL community extensions).
var registeredExtensions = map[string]bool{
	"0001-digest-algorithms": true, "0002-flat-direct-storage-layout": true,
	"0003-hash-and-id-n-tuple-storage-layout": true, "0004-hashed-n-tuple-storage-layout": true,
	"0005-mutable-head": true, "0006-flat-omit-prefix-storage-layout": true,
	"0007-n-tuple-omit-prefix-storage-layout": true, "0008-schema-registry": true,
	"0009-digest-algorithms": true, "0010-differential-n-tuple-omit-prefix-storage-layout": true,
	"0011-direct-clean-path-layout": true, "0012-hash-and-no-prefix-id-n-tuple-storage-layout": true,
}

// objectValidator carries the state of one object's validation.
type objectValidator struct {
	fsys   fs.FS
	dir    string // object root inside fsys
	r      *Result
	hashes map[string]string // "alg path" -> hex digest of the file
}

// ValidateObject validates the OCFL object rooted at dir in fsys, reading and
// hashing every content file.
func ValidateObject(fsys fs.FS, dir string) *Result {
	r := &Result{}
	validateObjectInto(fsys, dir, r, "")
	r.Objects = 1
	return r
}

func validateObjectInto(fsys fs.FS, dir string, r *Result, wantID string) {
	v := &objectValidator{fsys: fsys, dir: dir, r: r, hashes: map[string]string{}}
	v.validate(wantID)
}

func (v *objectValidator) p(elem ...string) string {
	return path.Join(append([]string{v.dir}, elem...)...)
}

type rawInventory struct {
	inv       *Inventory
	typeVer   string // "1.0" or "1.1"
	sidecarOK bool
	bytes     []byte
}

func (v *objectValidator) validate(wantID string) {
	entries, err := fs.ReadDir(v.fsys, v.dir)
	if err != nil {
		v.r.errf("E003", v.dir, "cannot read object root: %v", err)
		return
	}
	var decls []string
	names := map[string]fs.DirEntry{}
	for _, e := range entries {
		names[e.Name()] = e
		if strings.HasPrefix(e.Name(), "0=") {
			decls = append(decls, e.Name())
		}
	}
	if len(decls) != 1 {
		v.r.errf("E003", v.dir, "want exactly one conformance declaration 0=ocfl_object_1.x, found %d", len(decls))
	} else {
		want := strings.TrimPrefix(decls[0], "0=") + "\n"
		if decls[0] != "0=ocfl_object_1.1" && decls[0] != "0=ocfl_object_1.0" {
			v.r.errf("E006", v.p(decls[0]), "unknown conformance declaration")
		} else if b, err := fs.ReadFile(v.fsys, v.p(decls[0])); err != nil || string(b) != want {
			v.r.errf("E007", v.p(decls[0]), "declaration file must contain %q", want)
		}
	}
	for name, e := range names {
		_, _, isVersion := ParseVersionName(name)
		switch {
		case name == InventoryFile || strings.HasPrefix(name, InventoryFile+".") || strings.HasPrefix(name, "0="):
		case e.IsDir() && (isVersion || name == "logs" || name == "extensions"):
		case e.IsDir():
			v.r.errf("E001", v.p(name), "unexpected directory in object root")
		default:
			v.r.errf("E001", v.p(name), "unexpected file in object root")
		}
	}
	if _, ok := names[InventoryFile]; !ok {
		v.r.errf("E063", v.dir, "no inventory.json in object root")
		return
	}
	root := v.readInventory(v.dir, true)
	if root == nil {
		return
	}
	inv := root.inv
	if wantID != "" && inv.ID != wantID {
		v.r.errf("E083", v.dir, "object id %q does not map to this path under the storage layout", inv.ID)
	}
	if len(decls) == 1 && decls[0] == "0=ocfl_object_1.1" && root.typeVer != "1.1" ||
		len(decls) == 1 && decls[0] == "0=ocfl_object_1.0" && root.typeVer != "1.0" {
		v.r.errf("E038", v.p(InventoryFile), "inventory type does not match the conformance declaration %s", decls[0])
	}
	contentDir := inv.ContentDir
	if contentDir == "" {
		contentDir = "content"
	}

	// Object root entries.
	verDirs := map[string]bool{}
	for name, e := range names {
		switch {
		case name == InventoryFile || strings.HasPrefix(name, InventoryFile+".") || strings.HasPrefix(name, "0="):
			if strings.HasPrefix(name, InventoryFile+".") && name != InventoryFile+"."+inv.DigestAlgorithm {
				v.r.errf("E001", v.p(name), "unexpected file in object root")
			}
		case !e.IsDir():
		case name == "logs" && e.IsDir():
		case name == "extensions" && e.IsDir():
			v.checkExtensions()
		case e.IsDir():
			if _, ok := inv.Versions[name]; ok {
				verDirs[name] = true
			} else if _, _, ok := ParseVersionName(name); ok {
				v.r.errf("E046", v.p(name), "version directory is not in the root inventory (root inventory is not the most recent)")
			}
		}
	}

	// Version directories: content, inventories.
	head := inv.HeadNumber()
	prevType := ""
	for n := 1; n <= head; n++ {
		vn := versionKey(inv, n)
		if vn == "" {
			continue
		}
		if !verDirs[vn] {
			v.r.errf("E010", v.p(vn), "version directory missing")
			continue
		}
		vEntries, _ := fs.ReadDir(v.fsys, v.p(vn))
		hasInv := false
		for _, e := range vEntries {
			switch {
			case e.Name() == InventoryFile:
				hasInv = true
			case strings.HasPrefix(e.Name(), InventoryFile+"."):
			case e.Name() == contentDir && e.IsDir():
			case e.IsDir():
				v.r.warnf("W002", v.p(vn, e.Name()), "extra directory in version directory")
			default:
				v.r.errf("E015", v.p(vn, e.Name()), "unexpected file in version directory")
			}
		}
		if !hasInv {
			v.r.warnf("W010", v.p(vn), "no version inventory")
			continue
		}
		vi := v.readInventory(v.p(vn), false)
		if vi == nil {
			continue
		}
		if prevType != "" && vi.typeVer < prevType {
			v.r.errf("E103", v.p(vn, InventoryFile), "version conforms to OCFL %s, earlier than the preceding version's %s", vi.typeVer, prevType)
		}
		prevType = vi.typeVer
		v.compareVersionInventory(vn, n, inv, vi)
	}
	if prevType != "" && root.typeVer < prevType {
		v.r.errf("E103", v.p(InventoryFile), "root inventory conforms to an earlier OCFL version than a version inventory")
	}

	// Every file in a content directory must be in the manifest.
	inManifest := map[string]bool{}
	for _, paths := range inv.Manifest {
		for _, cp := range paths {
			inManifest[cp] = true
		}
	}
	for vn := range verDirs {
		base := v.p(vn, contentDir)
		fs.WalkDir(v.fsys, base, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel := strings.TrimPrefix(p, v.dir+"/")
			if v.dir == "." {
				rel = p
			}
			if d.IsDir() {
				if ents, _ := fs.ReadDir(v.fsys, p); len(ents) == 0 {
					v.r.errf("E024", p, "empty directory in content directory")
				}
				return nil
			}
			if !inManifest[rel] {
				v.r.errf("E023", p, "content file is not in the manifest")
			}
			return nil
		})
	}
	// Content digests.
	v.checkDigests(inv, "E092")
	for alg, block := range inv.Fixity {
		if newHash(alg) == nil {
			continue
		}
		for d, paths := range block {
			for _, cp := range paths {
				if !inManifest[cp] {
					continue
				}
				if got, ok := v.fileDigest(alg, cp); ok && !strings.EqualFold(got, d) {
					v.r.errf("E093", v.p(cp), "%s fixity digest mismatch: inventory says %s, file has %s", alg, d, got)
				}
			}
		}
	}
}

func versionKey(inv *Inventory, n int) string {
	for k := range inv.Versions {
		if m, _, _ := ParseVersionName(k); m == n {
			return k
		}
	}
	return ""
}

// checkDigests hashes every manifest content path and compares.
func (v *objectValidator) checkDigests(inv *Inventory, code string) {
	for d, paths := range inv.Manifest {
		for _, cp := range paths {
			got, ok := v.fileDigest(inv.DigestAlgorithm, cp)
			if !ok {
				v.r.errf("E092", v.p(cp), "content path in manifest does not exist")
				continue
			}
			if !strings.EqualFold(got, d) {
				v.r.errf(code, v.p(cp), "%s digest mismatch: inventory says %s, file has %s", inv.DigestAlgorithm, d, got)
			}
		}
	}
}

func (v *objectValidator) fileDigest(alg, contentPath string) (string, bool) {
	key := alg + " " + contentPath
	if d, ok := v.hashes[key]; ok {
		return d, d != ""
	}
	h := newHash(alg)
	f, err := v.fsys.Open(v.p(contentPath))
	if err != nil || h == nil {
		v.hashes[key] = ""
		return "", false
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || st.IsDir() {
		v.hashes[key] = ""
		return "", false
	}
	if _, err := io.Copy(h, f); err != nil {
		v.hashes[key] = ""
		return "", false
	}
	d := hex.EncodeToString(h.Sum(nil))
	v.hashes[key] = d
	return d, true
}

func (v *objectValidator) checkExtensions() {
	ents, _ := fs.ReadDir(v.fsys, v.p("extensions"))
	for _, e := range ents {
		if !e.IsDir() {
			v.r.errf("E067", v.p("extensions", e.Name()), "file in object extensions directory")
		} else if !registeredExtensions[e.Name()] {
			v.r.warnf("W013", v.p("extensions", e.Name()), "unregistered extension")
		}
	}
}

// compareVersionInventory checks a version directory's inventory against
// the root inventory.
func (v *objectValidator) compareVersionInventory(vn string, n int, root *Inventory, vi *rawInventory) {
	inv := vi.inv
	loc := v.p(vn, InventoryFile)
	if inv.ID != root.ID {
		v.r.errf("E037", loc, "id %q differs from root inventory id %q", inv.ID, root.ID)
	}
	if inv.Head != vn {
		v.r.errf("E040", loc, "head %q of version inventory is not its own version %s", inv.Head, vn)
	}
	if inv.ContentDir != root.ContentDir {
		v.r.errf("E019", loc, "contentDirectory differs from the root inventory")
	}
	if vn == root.Head {
		rootBytes, _ := fs.ReadFile(v.fsys, v.p(InventoryFile))
		if !bytes.Equal(rootBytes, vi.bytes) {
			v.r.errf("E064", loc, "inventory of the head version differs from the root inventory")
		}
	}
	// The version inventory's own manifest must describe its files.
	if inv.DigestAlgorithm != root.DigestAlgorithm {
		v.checkDigests(inv, "E092")
	} else {
		for d, paths := range inv.Manifest {
			for _, cp := range paths {
				if rp := root.Manifest[findKey(root.Manifest, d)]; !contains(rp, cp) {
					v.r.errf("E066", loc, "manifest entry %s for %s is not in the root manifest", d, cp)
				}
			}
		}
	}
	for k, ver := range inv.Versions {
		rk := versionKey(root, mustVersionNumber(k))
		rver := root.Versions[rk]
		if rver == nil {
			continue
		}
		if !sameLogicalState(inv, ver, root, rver) {
			v.r.errf("E066", loc, "version %s has a different logical state than in the root inventory", k)
		}
		if ver.Created != rver.Created || ver.Message != rver.Message || !sameUser(ver.User, rver.User) {
			v.r.warnf("W011", loc, "version %s metadata (created, message, user) differs from the root inventory", k)
		}
	}
	for d, paths := range inv.Manifest {
		for _, cp := range paths {
			if owner, _, _ := ParseVersionName(strings.SplitN(cp, "/", 2)[0]); owner > n {
				v.r.errf("E023", loc, "manifest of %s names content %s of a later version", vn, cp)
			}
			_ = d
		}
	}
	// Every content file of versions up to n must be in this manifest.
	have := map[string]bool{}
	for _, paths := range inv.Manifest {
		for _, cp := range paths {
			have[cp] = true
		}
	}
	for _, paths := range root.Manifest {
		for _, cp := range paths {
			if owner, _, _ := ParseVersionName(strings.SplitN(cp, "/", 2)[0]); owner <= n && !have[cp] {
				v.r.errf("E023", loc, "manifest of %s lacks content path %s", vn, cp)
			}
		}
	}
}

func mustVersionNumber(k string) int { n, _, _ := ParseVersionName(k); return n }

func sameUser(a, b *User) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func findKey(m map[string][]string, d string) string {
	if _, ok := m[d]; ok {
		return d
	}
	for k := range m {
		if strings.EqualFold(k, d) {
			return k
		}
	}
	return d
}

// sameLogicalState compares two version blocks by what each logical path
// resolves to (its content paths), which works across digest algorithms.
func sameLogicalState(ia *Inventory, a *Version, ib *Inventory, b *Version) bool {
	resolve := func(inv *Inventory, ver *Version) map[string]string {
		m := map[string]string{}
		for d, lps := range ver.State {
			cps := append([]string(nil), inv.Manifest[findKey(inv.Manifest, d)]...)
			sort.Strings(cps)
			for _, lp := range lps {
				m[lp] = strings.Join(cps, "\x00")
			}
		}
		return m
	}
	ma, mb := resolve(ia, a), resolve(ib, b)
	if len(ma) != len(mb) {
		return false
	}
	for k, x := range ma {
		if y, ok := mb[k]; !ok || x != y {
			return false
		}
	}
	return true
}

var rfc3339Seconds = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$`)

// readInventory parses and checks one inventory and its sidecar. It returns
// nil when the inventory cannot be used further.
func (v *objectValidator) readInventory(dir string, isRoot bool) *rawInventory {
	loc := path.Join(dir, InventoryFile)
	b, err := fs.ReadFile(v.fsys, loc)
	if err != nil {
		v.r.errf("E063", loc, "cannot read inventory: %v", err)
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		v.r.errf("E033", loc, "inventory is not valid JSON: %v", err)
		return nil
	}
	known := map[string]bool{"id": true, "type": true, "digestAlgorithm": true, "head": true,
		"contentDirectory": true, "manifest": true, "versions": true, "fixity": true}
	for k := range raw {
		if !known[k] {
			v.r.errf("E102", loc, "unknown key %q", k)
		}
	}
	out := &rawInventory{bytes: b}
	inv := &Inventory{}
	out.inv = inv
	str := func(key, code string, required bool) string {
		m, ok := raw[key]
		if !ok {
			if required {
				v.r.errf(code, loc, "missing required key %q", key)
			}
			return ""
		}
		var s string
		if json.Unmarshal(m, &s) != nil {
			v.r.errf(code, loc, "key %q must be a string", key)
		}
		return s
	}
	inv.ID = str("id", "E036", true)
	inv.Type = str("type", "E036", true)
	inv.DigestAlgorithm = str("digestAlgorithm", "E036", true)
	inv.Head = str("head", "E036", true)
	if h, ok := raw["head"]; ok && inv.Head == "" && len(h) > 0 && h[0] != '"' {
		v.r.errf("E040", loc, "head must be a version directory name string")
	}
	inv.ContentDir = str("contentDirectory", "E017", false)
	switch inv.Type {
	case "https://ocfl.io/1.1/spec/#inventory":
		out.typeVer = "1.1"
	case "https://ocfl.io/1.0/spec/#inventory":
		out.typeVer = "1.0"
	default:
		if inv.Type != "" {
			v.r.errf("E038", loc, "unknown inventory type %q", inv.Type)
		}
	}
	if inv.ID != "" && !looksLikeURI(inv.ID) {
		v.r.warnf("W005", loc, "id %q is not a URI", inv.ID)
	}
	alg := inv.DigestAlgorithm
	switch alg {
	case "sha512":
	case "sha256":
		v.r.warnf("W004", loc, "digestAlgorithm sha256: sha512 is recommended")
	case "":
		return nil
	default:
		v.r.errf("E025", loc, "digestAlgorithm %q: must be sha512 or sha256", alg)
		return nil
	}
	if inv.ContentDir != "" && (strings.Contains(inv.ContentDir, "/") || inv.ContentDir == "." || inv.ContentDir == "..") {
		v.r.errf("E017", loc, "invalid contentDirectory %q", inv.ContentDir)
	}
	if m, ok := raw["manifest"]; !ok {
		v.r.errf("E041", loc, "missing manifest block")
	} else if json.Unmarshal(m, &inv.Manifest) != nil {
		v.r.errf("E041", loc, "manifest block is not a map of digests to content paths")
	}
	if m, ok := raw["versions"]; !ok {
		v.r.errf("E043", loc, "missing versions block")
		if inv.Head == "" {
			v.r.errf("E008", loc, "object has no versions")
		}
		return nil
	} else {
		var vers map[string]json.RawMessage
		if json.Unmarshal(m, &vers) != nil {
			v.r.errf("E044", loc, "versions block is not a map")
			return nil
		}
		if len(vers) == 0 {
			v.r.errf("E008", loc, "object has no versions")
		}
		inv.Versions = map[string]*Version{}
		for k, rv := range vers {
			inv.Versions[k] = v.readVersion(loc, k, rv)
		}
	}
	if m, ok := raw["fixity"]; ok {
		if json.Unmarshal(m, &inv.Fixity) != nil {
			v.r.errf("E055", loc, "fixity block must be a map of algorithms to digest maps")
		}
	}
	if !v.checkVersionSequence(loc, inv) {
		return nil
	}
	v.checkManifest(loc, inv)
	v.checkSidecar(dir, alg, b)
	return out
}

func looksLikeURI(s string) bool {
	i := strings.Index(s, ":")
	if i < 1 {
		return false
	}
	for j, c := range s[:i] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || j > 0 && (c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

func (v *objectValidator) readVersion(loc, k string, rv json.RawMessage) *Version {
	var raw map[string]json.RawMessage
	ver := &Version{}
	if json.Unmarshal(rv, &raw) != nil {
		v.r.errf("E047", loc, "version %s is not a JSON object", k)
		return ver
	}
	if c, ok := raw["created"]; !ok || json.Unmarshal(c, &ver.Created) != nil {
		v.r.errf("E048", loc, "version %s: created is missing or not a string", k)
	} else if !rfc3339Seconds.MatchString(ver.Created) {
		v.r.errf("E049", loc, "version %s: created %q is not RFC 3339 with seconds and time zone", k, ver.Created)
	} else if _, err := time.Parse(time.RFC3339Nano, ver.Created); err != nil {
		v.r.errf("E049", loc, "version %s: created %q: %v", k, ver.Created, err)
	}
	if s, ok := raw["state"]; !ok || json.Unmarshal(s, &ver.State) != nil {
		v.r.errf("E048", loc, "version %s: state is missing or not a map of digests to logical paths", k)
	}
	_, hasMsg := raw["message"]
	_, hasUser := raw["user"]
	if hasMsg && json.Unmarshal(raw["message"], &ver.Message) != nil {
		v.r.errf("E094", loc, "version %s: message must be a string", k)
	}
	if hasUser {
		var u map[string]json.RawMessage
		if json.Unmarshal(raw["user"], &u) != nil {
			v.r.errf("E054", loc, "version %s: user must be an object", k)
		} else {
			ver.User = &User{}
			if n, ok := u["name"]; !ok || json.Unmarshal(n, &ver.User.Name) != nil || ver.User.Name == "" {
				v.r.errf("E054", loc, "version %s: user must have a name string", k)
			}
			if a, ok := u["address"]; !ok {
				v.r.warnf("W008", loc, "version %s: user has no address", k)
			} else if json.Unmarshal(a, &ver.User.Address) != nil || !looksLikeURI(ver.User.Address) {
				v.r.warnf("W009", loc, "version %s: user address %q is not a URI", k, ver.User.Address)
			}
		}
	}
	if !hasMsg || !hasUser {
		v.r.warnf("W007", loc, "version %s has no message or no user", k)
	}
	return ver
}

// checkVersionSequence checks version names, padding and head.
func (v *objectValidator) checkVersionSequence(loc string, inv *Inventory) bool {
	if inv.Head == "" {
		return false
	}
	nums := map[int]string{}
	width := -1
	for k := range inv.Versions {
		n, padded, ok := ParseVersionName(k)
		if !ok {
			v.r.errf("E046", loc, "invalid version name %q", k)
			continue
		}
		if padded {
			v.r.warnf("W001", loc, "zero-padded version name %q", k)
		}
		w := len(k)
		if !padded {
			w = 0
		}
		if width == -1 {
			width = w
		} else if width != w {
			v.r.errf("E013", loc, "version names use inconsistent padding")
		}
		nums[n] = k
	}
	max := 0
	for n := range nums {
		if n > max {
			max = n
		}
	}
	for n := 1; n <= max; n++ {
		if _, ok := nums[n]; !ok {
			v.r.errf("E010", loc, "version sequence is missing v%d", n)
		}
	}
	hn, _, ok := ParseVersionName(inv.Head)
	if !ok {
		v.r.errf("E040", loc, "head %q is not a version name", inv.Head)
		return false
	}
	if _, ok := inv.Versions[inv.Head]; !ok {
		if nums[hn] != "" {
			v.r.errf("E011", loc, "head %q does not use the version naming of the versions block", inv.Head)
		} else {
			v.r.errf("E040", loc, "head %q is not in the versions block", inv.Head)
		}
		return false
	}
	if hn != max {
		v.r.errf("E040", loc, "head %q is not the most recent version v%d", inv.Head, max)
		return false
	}
	return true
}

func validPathSegments(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/") {
		return false
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." {
			return false
		}
	}
	return true
}

// checkManifest checks digests, content paths, logical paths and fixity.
func (v *objectValidator) checkManifest(loc string, inv *Inventory) {
	want := digestLen[inv.DigestAlgorithm]
	seen := map[string]string{}
	contentPaths := map[string]bool{}
	contentDir := inv.ContentDir
	if contentDir == "" {
		contentDir = "content"
	}
	for d, paths := range inv.Manifest {
		if len(d) != want || !isHex(d) {
			v.r.errf("E096", loc, "manifest digest %q is not a %s digest", d, inv.DigestAlgorithm)
		}
		if o, ok := seen[strings.ToLower(d)]; ok {
			v.r.errf("E096", loc, "manifest digests %s and %s differ only in case", o, d)
		}
		seen[strings.ToLower(d)] = d
		for _, cp := range paths {
			if !validPathSegments(cp) {
				v.r.errf("E099", loc, "invalid content path %q", cp)
				continue
			}
			if contentPaths[cp] {
				v.r.errf("E101", loc, "content path %q appears more than once", cp)
			}
			contentPaths[cp] = true
			parts := strings.SplitN(cp, "/", 3)
			if len(parts) < 3 || parts[1] != contentDir {
				v.r.errf("E100", loc, "content path %q is not inside a version's content directory", cp)
			} else if _, ok := inv.Versions[parts[0]]; !ok {
				v.r.errf("E100", loc, "content path %q names a version not in the inventory", cp)
			}
		}
	}
	for cp := range contentPaths {
		for p := path.Dir(cp); p != "." && p != "/"; p = path.Dir(p) {
			if contentPaths[p] {
				v.r.errf("E101", loc, "content path %q is both a file and a directory", p)
			}
		}
	}
	used := map[string]bool{}
	for k, ver := range inv.Versions {
		logical := map[string]bool{}
		for d, lps := range ver.State {
			if _, ok := inv.Manifest[d]; !ok {
				v.r.errf("E050", loc, "version %s: state digest %s is not in the manifest", k, d)
			}
			used[d] = true
			for _, lp := range lps {
				if !validPathSegments(lp) {
					v.r.errf("E053", loc, "version %s: invalid logical path %q", k, lp)
					continue
				}
				if logical[lp] {
					v.r.errf("E095", loc, "version %s: logical path %q appears more than once", k, lp)
				}
				logical[lp] = true
			}
		}
		for lp := range logical {
			for p := path.Dir(lp); p != "."; p = path.Dir(p) {
				if logical[p] {
					v.r.errf("E095", loc, "version %s: logical path %q is both a file and a directory", k, p)
				}
			}
		}
	}
	for d := range inv.Manifest {
		if !used[d] {
			v.r.errf("E107", loc, "manifest digest %s is used by no version state", d)
		}
	}
	for alg, block := range inv.Fixity {
		n, known := digestLen[alg]
		seenF := map[string]bool{}
		for d, paths := range block {
			if known && (len(d) != n || !isHex(d)) {
				v.r.errf("E057", loc, "fixity %s digest %q is malformed", alg, d)
			}
			if seenF[strings.ToLower(d)] {
				v.r.errf("E097", loc, "fixity %s digest %s occurs more than once", alg, d)
			}
			seenF[strings.ToLower(d)] = true
			for _, cp := range paths {
				if !validPathSegments(cp) {
					v.r.errf("E099", loc, "invalid fixity content path %q", cp)
				} else if !contentPaths[cp] {
					v.r.errf("E100", loc, "fixity content path %q is not in the manifest", cp)
				}
			}
		}
	}
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (v *objectValidator) checkSidecar(dir, alg string, inv []byte) {
	loc := path.Join(dir, InventoryFile+"."+alg)
	b, err := fs.ReadFile(v.fsys, loc)
	if err != nil {
		v.r.errf("E058", loc, "inventory sidecar is missing")
		return
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 || fields[1] != InventoryFile || len(fields[0]) != digestLen[alg] || !isHex(fields[0]) {
		v.r.errf("E061", loc, "sidecar must read \"<digest> inventory.json\"")
		return
	}
	h := newHash(alg)
	h.Write(inv)
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, fields[0]) {
		v.r.errf("E060", loc, "inventory digest %s does not match the sidecar's %s", got, fields[0])
	}
}

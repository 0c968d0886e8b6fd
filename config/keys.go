package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// sections maps each configuration struct's Go name to where it sits in
// the YAML ("package", "locations[]") and the keys it knows, so an unknown
// key is reported in the file's own words.
var sections = func() map[string]section {
	out := map[string]section{}
	var walk func(t reflect.Type, path string)
	walk = func(t reflect.Type, path string) {
		for t.Kind() == reflect.Pointer || t.Kind() == reflect.Slice {
			if t.Kind() == reflect.Slice {
				path += "[]"
			}
			t = t.Elem()
		}
		if t.Kind() != reflect.Struct {
			return
		}
		s := section{path: path}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if key == "" || key == "-" {
				continue
			}
			s.keys = append(s.keys, key)
			sub := key
			if path != "" {
				sub = path + "." + key
			}
			walk(f.Type, sub)
		}
		if _, seen := out[t.Name()]; !seen {
			out[t.Name()] = s
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}()

type section struct {
	path string
	keys []string
}

var unknownField = regexp.MustCompile(`^field (.+) not found in type config\.(\w+)$`)

// explainTypeError rewrites yaml's "field X not found in type config.T"
// into the file's words, with the nearest known key.
func explainTypeError(msg string) string {
	m := unknownField.FindStringSubmatch(msg)
	if m == nil {
		return strings.Replace(msg, " in type config.", " in section ", 1)
	}
	key, s := m[1], sections[m[2]]
	where := "at the top level"
	if s.path != "" {
		where = "in " + s.path
	}
	out := fmt.Sprintf("unknown key %q %s", key, where)
	if near := nearest(key, s.keys); near != "" {
		out += fmt.Sprintf("; did you mean %q?", near)
	} else {
		out += fmt.Sprintf("; known there: %s", strings.Join(s.keys, ", "))
	}
	return out
}

// nearest is the known key closest to key by edit distance, if it is close.
func nearest(key string, keys []string) string {
	best, bestD := "", 1<<30
	for _, k := range keys {
		if d := editDistance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	if bestD <= max(1, len(key)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Package cells keeps the results of a long sweep cell by cell on disk, so that a sweep killed or stopped
// part-way resumes where it stopped: Run skips the cells already saved and saves each new one as soon as it
// is done. A cell is one JSON file, dir/cells/<key>.json, written atomically (temporary file in the same
// directory, fsync, rename), so a killed sweep never leaves a half-written cell; a temporary file it leaves
// behind (".tmp-*") is ignored. Standard library only.
//
// Keys name cells readably ("L4-m256-ntk-seed3"). Letters, digits and "-_.+=," stand for themselves in the
// file name; any other byte, and a leading ".", is written %XX, so "/" and ".." can never leave the
// directory, and distinct keys always get distinct files (on a case-sensitive file system).
package cells

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Store is a directory of finished cells. Its methods are safe to call from one process at a time.
type Store struct {
	dir string // …/cells
}

// ext ends every cell file; temporary files start with tmpPrefix, which no escaped key does.
const (
	ext       = ".json"
	tmpPrefix = ".tmp-"
	maxName   = 200 // bytes of escaped key, well under the usual 255-byte file-name limit
)

// Open returns the store under dir, creating dir/cells if needed.
func Open(dir string) (*Store, error) {
	d := filepath.Join(dir, "cells")
	if err := os.MkdirAll(d, 0o755); err != nil {
		return nil, fmt.Errorf("cells: open %s: %w", dir, err)
	}
	return &Store{dir: d}, nil
}

// Dir returns the directory that holds the cell files.
func (s *Store) Dir() string { return s.dir }

// path returns the file of key, or an error for a key that cannot name one (empty or too long).
func (s *Store) path(key string) (string, error) {
	name := escape(key)
	if key == "" || len(name) > maxName {
		return "", fmt.Errorf("cells: key %q must be non-empty and escape to at most %d bytes", key, maxName)
	}
	return filepath.Join(s.dir, name+ext), nil
}

// Done reports whether the cell key has been saved. It is false for an invalid key.
func (s *Store) Done(key string) bool {
	p, err := s.path(key)
	if err != nil {
		return false
	}
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

// Load decodes the saved cell key into v, as json.Unmarshal does. A missing cell gives an error that wraps
// fs.ErrNotExist.
func (s *Store) Load(key string, v any) error {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return fmt.Errorf("cells: load %s: %w", key, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cells: load %s: %w", key, err)
	}
	return nil
}

// Save writes v as the cell key, replacing any earlier value. It writes a temporary file in the same
// directory, syncs it, renames it over the cell file and syncs the directory, so that after a crash the cell
// holds either its old content or all of v, never part of it.
func (s *Store) Save(key string, v any) (err error) {
	p, err := s.path(key)
	if err != nil {
		return err
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("cells: save %s: %w", key, err)
	}
	f, err := os.CreateTemp(s.dir, tmpPrefix+"*")
	if err != nil {
		return fmt.Errorf("cells: save %s: %w", key, err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
			err = fmt.Errorf("cells: save %s: %w", key, err)
		}
	}()
	if _, err = f.Write(append(b, '\n')); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), p); err != nil {
		return err
	}
	return syncDir(s.dir) // make the rename itself durable
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

// Keys returns the keys of the saved cells, sorted. Temporary and foreign files are skipped.
func (s *Store) Keys() []string {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil
	}
	var keys []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ext)
		if !ok || !e.Type().IsRegular() || strings.HasPrefix(name, ".") {
			continue
		}
		if key, ok := unescape(name); ok {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	return keys
}

// safe reports whether byte c stands for itself in a file name.
func safe(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.+=,", c) >= 0
}

// escape writes key as a file name: safe bytes as themselves, others and a leading "." as %XX.
func escape(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		if c := key[i]; safe(c) && !(i == 0 && c == '.') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// unescape inverts escape; ok is false for a name escape cannot produce (lowercase hex, say).
func unescape(name string) (key string, ok bool) {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		if name[i] != '%' {
			b.WriteByte(name[i])
			continue
		}
		if i+2 >= len(name) {
			return "", false
		}
		c, err := strconv.ParseUint(name[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(c))
		i += 2
	}
	key = b.String()
	return key, key != "" && escape(key) == name
}

// now is the clock of Run; tests replace it.
var now = time.Now

// Run runs a sweep with no deadline: RunUntil(store, keys, work, progress, time.Time{}).
func Run(store *Store, keys []string, work func(key string) (any, error), progress io.Writer) error {
	_, err := RunUntil(store, keys, work, progress, time.Time{})
	return err
}

// RunUntil runs work for each key, in order, that store does not hold yet, and saves its result as soon as it
// returns. It writes one line per cell to progress (nil for none):
//
//	cell 2/24 L4-m256-ntk-seed2: skip (done)
//	cell 3/24 L4-m256-ntk-seed3: 12.3 s, ~5 min left
//
// the estimate being the mean time of the cells run so far times the cells still to run. It stops at the
// first error of work or Save and returns it; the cells finished before stay saved, so running the same sweep
// again resumes after them. When deadline is not zero and has passed before a cell starts, it stops cleanly
// with a nil error: a cell already running is never cut short, so pass a deadline one cell-time before the end
// of the sitting's budget. It returns how many cells remain unsaved. Keys must be valid and distinct; they are
// checked before any work starts (an error then, with all len(keys) counted as remaining).
func RunUntil(store *Store, keys []string, work func(key string) (any, error), progress io.Writer, deadline time.Time) (remaining int, err error) {
	if progress == nil {
		progress = io.Discard
	}
	seen := make(map[string]bool, len(keys))
	todo := 0
	for _, k := range keys {
		if _, err := store.path(k); err != nil {
			return len(keys), err
		}
		if seen[k] {
			return len(keys), fmt.Errorf("cells: key %q appears twice", k)
		}
		seen[k] = true
		if !store.Done(k) {
			todo++
		}
	}
	var ran int
	var spent time.Duration
	for i, k := range keys {
		if store.Done(k) {
			fmt.Fprintf(progress, "cell %d/%d %s: skip (done)\n", i+1, len(keys), k)
			continue
		}
		if !deadline.IsZero() && !now().Before(deadline) {
			fmt.Fprintf(progress, "cells: deadline passed, %d of %d cells remain; run again to resume\n", todo-ran, len(keys))
			return todo - ran, nil
		}
		start := now()
		v, err := work(k)
		if err == nil {
			err = store.Save(k, v)
		}
		if err != nil {
			return todo - ran, fmt.Errorf("cells: cell %d/%d %s: %w", i+1, len(keys), k, err)
		}
		took := now().Sub(start)
		ran++
		spent += took
		line := fmt.Sprintf("cell %d/%d %s: %.1f s", i+1, len(keys), k, took.Seconds())
		if left := todo - ran; left > 0 {
			line += ", ~" + roughly(spent/time.Duration(ran)*time.Duration(left)) + " left"
		}
		fmt.Fprintln(progress, line)
	}
	return 0, nil
}

// roughly formats d to two significant figures at most, in the unit a person would use.
func roughly(d time.Duration) string {
	switch {
	case d < 90*time.Second:
		return fmt.Sprintf("%.0f s", d.Seconds())
	case d < 90*time.Minute:
		return fmt.Sprintf("%.0f min", d.Minutes())
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

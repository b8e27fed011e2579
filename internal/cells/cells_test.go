package cells

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

type result struct {
	Key  string  `json:"key"`
	Loss float64 `json:"loss"`
}

func open(t *testing.T) *Store {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// fakeClock replaces now for one test; work advances it with tick.
func fakeClock(t *testing.T) (tick func(time.Duration)) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := t0
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })
	return func(d time.Duration) { clock = clock.Add(d) }
}

func sweepKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("L4-m256-ntk-seed%d", i)
	}
	return keys
}

func TestSaveLoad(t *testing.T) {
	s := open(t)
	if s.Done("a") || len(s.Keys()) != 0 {
		t.Fatal("a new store is not empty")
	}
	var r result
	if err := s.Load("a", &r); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load of a missing cell: %v, want fs.ErrNotExist", err)
	}
	for _, loss := range []float64{1.5, 0.25} { // the second Save replaces the first
		if err := s.Save("a", result{"a", loss}); err != nil {
			t.Fatal(err)
		}
		if err := s.Load("a", &r); err != nil || r != (result{"a", loss}) || !s.Done("a") {
			t.Errorf("Load = %+v, %v; want loss %v", r, err, loss)
		}
	}
	if err := s.Save("b", make(chan int)); err == nil || s.Done("b") {
		t.Errorf("Save of an unencodable value: %v, Done %v; want an error and no cell", err, s.Done("b"))
	}
	entries, _ := os.ReadDir(s.Dir())
	if len(entries) != 1 || entries[0].Name() != "a.json" {
		t.Errorf("files %v, want only a.json (no temporary files left)", entries)
	}
}

func TestKeysEscaped(t *testing.T) {
	root := t.TempDir()
	s, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"L4-m256-ntk-seed3": "L4-m256-ntk-seed3.json", // readable keys stay as they are
		"../evil":           "%2E.%2Fevil.json",
		"..":                "%2E..json",
		"a/b":               "a%2Fb.json",
		"a%2Fb":             "a%252Fb.json", // distinct from "a/b"
		"lr=0.1,wd=1e-4":    "lr=0.1,wd=1e-4.json",
		"τ 0.5":             "%CF%84%200.5.json",
		`c:\x`:              "c%3A%5Cx.json",
	}
	for key, file := range files {
		if err := s.Save(key, key); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(filepath.Join(s.Dir(), file)); err != nil {
			t.Errorf("key %q: %v", key, err)
		}
		var back string
		if err := s.Load(key, &back); err != nil || back != key || !s.Done(key) {
			t.Errorf("key %q: Load = %q, %v", key, back, err)
		}
	}
	if entries, _ := os.ReadDir(root); len(entries) != 1 {
		t.Errorf("%s holds %v, want only cells/: a key escaped the store", root, entries)
	}
	want := make([]string, 0, len(files))
	for k := range files {
		want = append(want, k)
	}
	slices.Sort(want)
	if got := s.Keys(); !slices.Equal(got, want) {
		t.Errorf("Keys = %q, want %q", got, want)
	}
	for _, bad := range []string{"", strings.Repeat("/", 100)} {
		if err := s.Save(bad, 1); err == nil || s.Done(bad) {
			t.Errorf("Save(%q) = %v, want an error", bad, err)
		}
	}
}

// TestTempFileIgnored: a sweep killed inside Save leaves a partial temporary file; it is neither a cell nor
// in the way of the cell it was meant to become. Foreign files are skipped too.
func TestTempFileIgnored(t *testing.T) {
	s := open(t)
	for name, body := range map[string]string{
		tmpPrefix + "2771": `{"key": "L4-m256-ntk-seed0", "lo`,
		"notes.txt":        "not a cell",
		"%zz.json":         "{}", // not a name escape writes
	} {
		if err := os.WriteFile(filepath.Join(s.Dir(), name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if keys := s.Keys(); len(keys) != 0 {
		t.Errorf("Keys = %q, want none", keys)
	}
	calls := 0
	err := Run(s, sweepKeys(1), func(key string) (any, error) { calls++; return result{key, 1}, nil }, nil)
	var r result
	if err != nil || calls != 1 || s.Load("L4-m256-ntk-seed0", &r) != nil || r.Loss != 1 {
		t.Errorf("Run: %v, %d calls, cell %+v; want the cell computed once", err, calls, r)
	}
}

// TestResume kills a six-cell sweep at cell 3, then runs it again: only cells 3 to 6 run the second time.
func TestResume(t *testing.T) {
	s, keys := open(t), sweepKeys(6)
	errKilled := errors.New("killed")
	calls := map[string]int{}
	work := func(fail string) func(string) (any, error) {
		return func(key string) (any, error) {
			calls[key]++
			if key == fail {
				return nil, errKilled
			}
			return result{key, float64(len(calls))}, nil
		}
	}
	var out strings.Builder
	err := Run(s, keys, work(keys[2]), &out)
	if !errors.Is(err, errKilled) || !strings.Contains(err.Error(), "cell 3/6 L4-m256-ntk-seed2") {
		t.Fatalf("first sitting: %v, want the killed error at cell 3/6", err)
	}
	if got := s.Keys(); !slices.Equal(got, keys[:2]) {
		t.Fatalf("saved %q after the kill, want %q", got, keys[:2])
	}
	out.Reset()
	if err := Run(s, keys, work(""), &out); err != nil {
		t.Fatal(err)
	}
	// Cell 3 ran in both sittings (it failed in the first); every other cell ran exactly once.
	for i, k := range keys {
		if want := 1 + boolInt(i == 2); calls[k] != want {
			t.Errorf("%s ran %d times, want %d", k, calls[k], want)
		}
	}
	if !slices.Equal(s.Keys(), keys) {
		t.Errorf("Keys = %q, want all of %q", s.Keys(), keys)
	}
	if n := strings.Count(out.String(), "skip (done)"); n != 2 {
		t.Errorf("second sitting printed %d skips, want 2:\n%s", n, out.String())
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestProgress(t *testing.T) {
	tick := fakeClock(t)
	s, keys := open(t), []string{"a", "b", "c", "d"}
	if err := s.Save("b", 0); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	work := func(key string) (any, error) { tick(12300 * time.Millisecond); return key, nil }
	if err := Run(s, keys, work, &out); err != nil {
		t.Fatal(err)
	}
	want := "cell 1/4 a: 12.3 s, ~25 s left\n" +
		"cell 2/4 b: skip (done)\n" +
		"cell 3/4 c: 12.3 s, ~12 s left\n" +
		"cell 4/4 d: 12.3 s\n"
	if out.String() != want {
		t.Errorf("progress:\n%s\nwant:\n%s", out.String(), want)
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{5 * time.Second, "5 s"}, {283 * time.Second, "5 min"}, {89 * time.Minute, "89 min"}, {150 * time.Minute, "2.5 h"}} {
		if got := roughly(tc.d); got != tc.want {
			t.Errorf("roughly(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// TestDeadline: cells take 10 s and the deadline is 25 s away, so cells start at 0, 10 and 20 s and the
// fourth, due at 30 s, does not start. A second sitting without a deadline finishes the sweep.
func TestDeadline(t *testing.T) {
	tick := fakeClock(t)
	s, keys := open(t), sweepKeys(5)
	calls := 0
	work := func(key string) (any, error) { calls++; tick(10 * time.Second); return key, nil }
	var out strings.Builder
	left, err := RunUntil(s, keys, work, &out, now().Add(25*time.Second))
	if err != nil || left != 2 || calls != 3 || len(s.Keys()) != 3 {
		t.Fatalf("RunUntil: %d left, %v, %d calls, %d saved; want 2 left, nil, 3, 3", left, err, calls, len(s.Keys()))
	}
	if !strings.Contains(out.String(), "deadline passed, 2 of 5 cells remain") {
		t.Errorf("progress does not report what remains:\n%s", out.String())
	}
	left, err = RunUntil(s, keys, work, nil, now().Add(-time.Hour)) // already past: nothing starts
	if err != nil || left != 2 || calls != 3 {
		t.Errorf("past deadline: %d left, %v, %d calls; want 2, nil, 3", left, err, calls)
	}
	if err := Run(s, keys, work, nil); err != nil || calls != 5 || !slices.Equal(s.Keys(), keys) {
		t.Errorf("resume: %v, %d calls, keys %q; want all five cells after 5 calls", err, calls, s.Keys())
	}
}

func TestRunChecksKeysFirst(t *testing.T) {
	s := open(t)
	for _, keys := range [][]string{{"a", "b", "a"}, {"a", ""}} {
		calls := 0
		_, err := RunUntil(s, keys, func(string) (any, error) { calls++; return 0, nil }, nil, time.Time{})
		if err == nil || calls != 0 {
			t.Errorf("keys %q: %v after %d calls, want an error before any work", keys, err, calls)
		}
	}
}

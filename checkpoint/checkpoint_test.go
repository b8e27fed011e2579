package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

type meta struct {
	Step int    `json:"step"`
	Note string `json:"note"`
}

func sample() []Tensor {
	return []Tensor{
		{Name: "w", Dims: []int{2, 3}, F32: []float32{1, -2, 3.5, 0, 1e-30, -7}},
		{Name: "t", Dims: nil, F64: []float64{42.25}},
		{Name: "rng", Dims: []int{3}, I64: []int64{-1, 0, 1 << 62}},
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ckpt")
	if err := Write(path, meta{Step: 7, Note: "x"}, sample()); err != nil {
		t.Fatal(err)
	}
	var m meta
	got, err := Read(path, &m)
	if err != nil {
		t.Fatal(err)
	}
	if m != (meta{7, "x"}) || !reflect.DeepEqual(got, sample()) {
		t.Errorf("round trip: %+v %+v", m, got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestEveryByteFlipDetected flips each byte in turn: every flip must be reported as corrupt.
func TestEveryByteFlipDetected(t *testing.T) {
	b, err := Encode(meta{Step: 1}, sample())
	if err != nil {
		t.Fatal(err)
	}
	for i := range b {
		c := append([]byte(nil), b...)
		c[i] ^= 0x40
		if _, err := Decode(c, nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("flip at byte %d: error %v, want ErrCorrupt", i, err)
		}
	}
	for n := range len(b) {
		if _, err := Decode(b[:n], nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("truncated to %d bytes: error %v, want ErrCorrupt", n, err)
		}
	}
}

func TestDimsMismatch(t *testing.T) {
	if _, err := Encode(nil, []Tensor{{Name: "x", Dims: []int{3}, F32: []float32{1}}}); err == nil {
		t.Error("want an error for 1 value with dims [3]")
	}
}

func TestUnwritableDir(t *testing.T) {
	// root ignores permission bits; a path under a regular file fails for everyone.
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if err := Write(filepath.Join(f, "x.ckpt"), nil, sample()); err == nil {
		t.Error("want an error writing under a regular file")
	}
}

func FuzzDecode(f *testing.F) {
	b, _ := Encode(meta{Step: 3}, sample())
	f.Add(b)
	f.Add([]byte(magic))
	f.Fuzz(func(t *testing.T, b []byte) {
		Decode(b, &meta{}) // must not panic or allocate unboundedly
	})
}

// TestReadMeta: the metadata alone comes back as written; a file cut inside its header is ErrCorrupt.
func TestReadMeta(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.ckpt")
	type meta struct{ RunID string }
	if err := Write(path, meta{"r-1"}, []Tensor{{Name: "w", Dims: []int{2}, F32: []float32{1, 2}}}); err != nil {
		t.Fatal(err)
	}
	var m meta
	if err := ReadMeta(path, &m); err != nil || m.RunID != "r-1" {
		t.Errorf("ReadMeta: %+v, %v", m, err)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(magic)+12], 0o644)
	if err := ReadMeta(path, &m); !errors.Is(err, ErrCorrupt) {
		t.Errorf("cut header: %v", err)
	}
}

// FuzzReadMeta: any file is an error or metadata, never a panic, and a file Decode accepts gives ReadMeta the
// same metadata.
func FuzzReadMeta(f *testing.F) {
	b, _ := Encode(meta{Step: 3, Note: "x"}, sample())
	f.Add(b)
	f.Add([]byte(magic))
	path := filepath.Join(f.TempDir(), "f.ckpt")
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var a, d meta
		err := ReadMeta(path, &a)
		if _, derr := Decode(b, &d); derr == nil && (err != nil || a != d) {
			t.Errorf("Decode accepts the file (meta %+v) but ReadMeta gives %+v, %v", d, a, err)
		}
	})
}

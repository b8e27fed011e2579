package tensorfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sampleTensors covers every dtype the writers write, a scalar and an empty tensor.
func sampleTensors() []Tensor {
	return []Tensor{
		{Name: "w", Shape: []int{2, 3}, F32: []float32{1, -2.5, 3, float32(math.Inf(1)), 0, 1e-30}},
		{Name: "d", Shape: []int{2}, F64: []float64{math.Pi, -1e300}},
		{Name: "i", Shape: []int{3}, I64: []int64{7, -1, math.MaxInt64}},
		{Name: "s", Shape: []int{}, F32: []float32{42}},
		{Name: "e", Shape: []int{0, 4}, F32: []float32{}},
	}
}

func byName(ts []Tensor) map[string]Tensor {
	m := map[string]Tensor{}
	for _, t := range ts {
		m[t.Name] = t
	}
	return m
}

// TestSafetensorsRoundTrip: what WriteSafetensors writes, ReadSafetensors reads back value for value, with
// the metadata, ordered by data offset.
func TestSafetensorsRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	want := sampleTensors()
	if err := WriteSafetensors(path, want, map[string]string{"format": "pt", "step": "3"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := ReadSafetensors(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(meta, map[string]string{"format": "pt", "step": "3"}) {
		t.Errorf("metadata %v", meta)
	}
	g := byName(got)
	for _, w := range want {
		if !reflect.DeepEqual(g[w.Name], w) {
			t.Errorf("%s: read %+v, wrote %+v", w.Name, g[w.Name], w)
		}
	}
	var names []string // the writer lays the data out in the order it was given
	for _, x := range got {
		names = append(names, x.Name)
	}
	if strings.Join(names, ",") != "w,d,i,s,e" {
		t.Errorf("order %v, want by offset w,d,i,s,e", names)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 && fi.Mode().Perm() != 0o644&^0o022 {
		t.Errorf("mode %v", fi.Mode())
	}
}

// stFile builds a safetensors file from a header and data by hand.
func stFile(header string, data ...byte) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(len(header)))
	return append(append(b, header...), data...)
}

// TestParseSafetensorsHandBuilt: a file written by hand, with F16 and BF16 values whose float32 values are
// known, trailing spaces in the header, and tensors listed out of offset order.
func TestParseSafetensorsHandBuilt(t *testing.T) {
	h := `{"b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]},"h":{"dtype":"F16","shape":[2,2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}}   `
	data := []byte{
		0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00, 0x00, 0x7c, // F16 1, −2, 2⁻²⁴ (smallest subnormal), +Inf
		0x80, 0x3f, 0xa0, 0xc0, // BF16 1, −5
	}
	ts, meta, err := ParseSafetensors(stFile(h, data...))
	if err != nil {
		t.Fatal(err)
	}
	want := []Tensor{
		{Name: "h", Shape: []int{2, 2}, F32: []float32{1, -2, 1.0 / (1 << 24), float32(math.Inf(1))}},
		{Name: "b", Shape: []int{2}, F32: []float32{1, -5}},
	}
	if !reflect.DeepEqual(ts, want) || meta["k"] != "v" {
		t.Errorf("got %+v %v\nwant %+v", ts, meta, want)
	}
	for bits, v := range map[uint16]float32{0x3555: 0.333251953125, 0x7bff: 65504, 0x8400: -1.0 / (1 << 14), 0x03ff: 1023.0 / (1 << 24), 0x8000: float32(math.Copysign(0, -1))} {
		if got := Float16(bits); got != v || math.Signbit(float64(got)) != math.Signbit(float64(v)) {
			t.Errorf("Float16(%#04x) = %g, want %g", bits, got, v)
		}
	}
	if !math.IsNaN(float64(Float16(0x7e00))) {
		t.Error("Float16(0x7e00) is not NaN")
	}
}

// TestParseSafetensorsRejects: each malformed file is refused with an error that wraps ErrFormat and says what.
func TestParseSafetensorsRejects(t *testing.T) {
	f4 := []byte{0, 0, 0x80, 0x3f}
	big := binary.LittleEndian.AppendUint64(nil, MaxSafetensorsHeader+1)
	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"short", "shorter than the 8-byte", []byte{1, 2, 3}},
		{"header over the cap", "over the limit", append(big, "{}"...)},
		{"header past the end", "only 2 bytes follow", append(binary.LittleEndian.AppendUint64(nil, 3), "{}"...)},
		{"not an object", "not a JSON object", stFile(`[1]`)},
		{"broken JSON", "header", stFile(`{"a":{"dtype":"F32"`)},
		{"garbage after the object", "after its JSON object", stFile(`{} x`)},
		{"newline padding", "after its JSON object", stFile("{}\n")},
		{"not UTF-8", "not UTF-8", stFile("{\"\xff\":1}")},
		{"duplicate name", "appears twice", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, f4...)},
		{"unknown key", "unknown field", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}`, f4...)},
		{"dtype", `dtype "I32"`, stFile(`{"a":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}`, f4...)},
		{"no shape", "needs a shape", stFile(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, f4...)},
		{"negative dimension", "negative dimension", stFile(`{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, f4...)},
		{"huge shape", "larger than the file", stFile(`{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}`, f4...)},
		{"offsets out of range", "outside [0, 4]", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, f4...)},
		{"offsets reversed", "outside", stFile(`{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}`, f4...)},
		{"size mismatch", "needs 4 bytes, its data_offsets [0 8] hold 8", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,8]}}`, append(f4, f4...)...)},
		{"overlap", "overlaps", stFile(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, append(f4, f4...)...)},
		{"gap", "belong to no tensor", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, append(f4, f4...)...)},
		{"trailing data", "4 bytes after the last", stFile(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, append(f4, f4...)...)},
		{"metadata not strings", "__metadata__", stFile(`{"__metadata__":{"a":1}}`)},
	} {
		_, _, err := ParseSafetensors(c.file)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrFormat saying %q", c.name, err, c.want)
		}
	}
}

// TestNPYRoundTrip: WriteNPZ's archive and a hand-built .npy of version 2.0 with float16 data read back.
func TestNPYRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.npz")
	want := sampleTensors()
	if err := WriteNPZ(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := ReadNPZ(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read %+v\nwrote %+v", got, want)
	}
	h := "{'descr': '<f2', 'fortran_order': False, 'shape': (1, 2), }   \n"
	b := binary.LittleEndian.AppendUint32([]byte("\x93NUMPY\x02\x00"), uint32(len(h)))
	b = append(append(b, h...), 0x00, 0x3c, 0x00, 0xc0)
	x, err := ParseNPY(b)
	if err != nil || !reflect.DeepEqual(x, Tensor{Shape: []int{1, 2}, F32: []float32{1, -2}}) {
		t.Errorf("v2.0 float16: %+v, %v", x, err)
	}
}

// TestParseNPYRejects: malformed .npy files are refused with ErrFormat.
func TestParseNPYRejects(t *testing.T) {
	npy := func(h string, data ...byte) []byte {
		b := binary.LittleEndian.AppendUint16([]byte("\x93NUMPY\x01\x00"), uint16(len(h)))
		return append(append(b, h...), data...)
	}
	f4 := []byte{0, 0, 0x80, 0x3f}
	for _, c := range []struct {
		name, want string
		file       []byte
	}{
		{"magic", "magic", []byte("NUMPY\x01\x00\x00\x00\x00")},
		{"version", "version 4.0", []byte("\x93NUMPY\x04\x00\x00\x00\x00\x00")},
		{"header past the end", "only", npy("{}")[:11]},
		{"big endian", `dtype ">f4"`, npy("{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", f4...)},
		{"fortran order", "fortran_order False", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", f4...)},
		{"missing key", "exactly descr", npy("{'descr': '<f4', 'shape': (1,), }", f4...)},
		{"repeated key", "repeated", npy("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", f4...)},
		{"unknown key", "unknown key", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", f4...)},
		{"bad shape", "shape is not", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1 2), }", f4...)},
		{"negative shape", "shape is not", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", f4...)},
		{"short data", "needs other than the 4", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", f4...)},
		{"trailing data", "needs other than the 8", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", append(f4, f4...)...)},
	} {
		_, err := ParseNPY(c.file)
		if err == nil || !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an ErrFormat saying %q", c.name, err, c.want)
		}
	}
	if _, err := ParseNPZ([]byte("PK not a zip")); !errors.Is(err, ErrFormat) {
		t.Errorf("not a zip: %v", err)
	}
}

// TestNumPyWrites: what numpy.savez and numpy.savez_compressed write (float32, float64, float16, int64, Fortran
// order refused) reads back with the values NumPy wrote. Skipped without Python and NumPy.
func TestNumPyWrites(t *testing.T) {
	py := pythonWith(t, "numpy")
	dir := t.TempDir()
	out, err := exec.Command(py, "-c", `import numpy as np, sys
a = np.arange(6, dtype=np.float32).reshape(2, 3) / 4
np.savez(sys.argv[1] + "/p.npz", a=a, d=np.array([np.pi], np.float64), h=np.array([1.5, -2], np.float16), i=np.array([-3], np.int64))
np.savez_compressed(sys.argv[1] + "/c.npz", a=a)
np.savez(sys.argv[1] + "/f.npz", a=np.asfortranarray(a))`, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy: %v\n%s", err, out)
	}
	want := map[string]Tensor{
		"a": {Name: "a", Shape: []int{2, 3}, F32: []float32{0, 0.25, 0.5, 0.75, 1, 1.25}},
		"d": {Name: "d", Shape: []int{1}, F64: []float64{math.Pi}},
		"h": {Name: "h", Shape: []int{2}, F32: []float32{1.5, -2}},
		"i": {Name: "i", Shape: []int{1}, I64: []int64{-3}},
	}
	for _, f := range []string{"p.npz", "c.npz"} {
		ts, err := ReadNPZ(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ts {
			if !reflect.DeepEqual(x, want[x.Name]) {
				t.Errorf("%s: %+v, want %+v", f, x, want[x.Name])
			}
		}
	}
	if _, err := ReadNPZ(filepath.Join(dir, "f.npz")); err == nil || !strings.Contains(err.Error(), "fortran_order") {
		t.Errorf("Fortran order: %v", err)
	}
}

// FuzzParseSafetensors: no input makes the parser panic, and what it accepts covers its data exactly.
func FuzzParseSafetensors(f *testing.F) {
	path := filepath.Join(f.TempDir(), "s.safetensors")
	if err := WriteSafetensors(path, sampleTensors(), map[string]string{"a": "b"}); err != nil {
		f.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	f.Add(b)
	f.Add(stFile(`{"h":{"dtype":"F16","shape":[2],"data_offsets":[0,4]}}`, 0, 0x3c, 0, 0xc0))
	f.Add(stFile(`{}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, _, err := ParseSafetensors(b)
		if err != nil {
			return
		}
		n := 0
		for _, x := range ts {
			w := map[bool]int{true: 8, false: 2}[x.F64 != nil || x.I64 != nil] // F32 may have come from F16
			n += w * (len(x.F32) + len(x.F64) + len(x.I64))
		}
		if h := binary.LittleEndian.Uint64(b); n > len(b)-8-int(h) {
			t.Errorf("accepted %d values' bytes in %d data bytes", n, len(b)-8-int(h))
		}
	})
}

// FuzzParseNPY: no input makes the .npy (or .npz) parser panic; an accepted .npy round-trips through WriteNPY.
func FuzzParseNPY(f *testing.F) {
	for _, x := range sampleTensors() {
		var b bytes.Buffer
		WriteNPY(&b, x)
		f.Add(b.Bytes())
	}
	path := filepath.Join(f.TempDir(), "a.npz")
	WriteNPZ(path, sampleTensors())
	b, _ := os.ReadFile(path)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		ParseNPZ(b)
		x, err := ParseNPY(b)
		if err != nil || x.F32 == nil || len(x.F32) > 1<<16 {
			return
		}
		var w bytes.Buffer
		if err := WriteNPY(&w, x); err != nil {
			t.Fatalf("accepted %+v, which WriteNPY refuses: %v", x, err)
		}
		y, err := ParseNPY(w.Bytes())
		if err != nil || len(y.F32) != len(x.F32) {
			t.Errorf("round trip: %v", err)
		}
	})
}

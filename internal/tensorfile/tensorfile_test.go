package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestNPYBytes checks a whole .npy file byte by byte: magic, version, header length, the padded header and
// the little-endian data.
func TestNPYBytes(t *testing.T) {
	var b bytes.Buffer
	if err := WriteNPY(&b, Tensor{Name: "x", Shape: []int{2}, F32: []float32{1, -2.5}}); err != nil {
		t.Fatal(err)
	}
	header := "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }"
	header += strings.Repeat(" ", 128-10-len(header)-1) + "\n" // data starts at byte 128
	want := append([]byte("\x93NUMPY\x01\x00"), byte(len(header)), 0)
	want = append(want, header...)
	want = append(want, 0, 0, 0x80, 0x3f, 0, 0, 0x20, 0xc0) // 1.0, −2.5 as float32 LE
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("npy bytes\n%q\nwant\n%q", b.Bytes(), want)
	}
	if err := WriteNPY(&b, Tensor{Name: "bad", Shape: []int{3}, F32: []float32{1}}); err == nil {
		t.Error("3 declared, 1 value: accepted")
	}
}

// TestSafetensorsLayout parses a written file as the format says: header length, JSON, offsets, data.
func TestSafetensorsLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.safetensors")
	ts := []Tensor{{Name: "w", Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}}, {Name: "y", Shape: []int{3}, I64: []int64{7, -1, 9}}}
	if err := WriteSafetensors(path, ts, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	n := binary.LittleEndian.Uint64(b)
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var w, y struct {
		DType   string `json:"dtype"`
		Shape   []int  `json:"shape"`
		Offsets []int  `json:"data_offsets"`
	}
	json.Unmarshal(h["w"], &w)
	json.Unmarshal(h["y"], &y)
	data := b[8+n:]
	if w.DType != "F32" || w.Offsets[0] != 0 || w.Offsets[1] != 16 || y.DType != "I64" || y.Offsets[0] != 16 || y.Offsets[1] != 40 || len(data) != 40 {
		t.Fatalf("header %s", b[8:8+n])
	}
	if got := int64(binary.LittleEndian.Uint64(data[24:])); got != -1 {
		t.Errorf("y[1] = %d", got)
	}
	if !strings.Contains(string(h["__metadata__"]), `"format":"pt"`) || (8+n)%8 != 0 {
		t.Errorf("metadata %s, data at %d", h["__metadata__"], 8+n)
	}
}

// TestNumPyReads: numpy.load reads the .npz back exactly (skipped without Python and NumPy).
func TestNumPyReads(t *testing.T) {
	py := pythonWith(t, "numpy")
	path := filepath.Join(t.TempDir(), "a.npz")
	if err := WriteNPZ(path, []Tensor{{Name: "m", Shape: []int{2, 3}, F32: []float32{0, 1, 2, 3, 4, 5.5}}, {Name: "l", Shape: []int{2}, I64: []int64{3, -4}}}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "-c", `import numpy as np, sys
z = np.load(sys.argv[1])
print(sorted(z.files), z["m"].dtype, z["m"].shape, z["m"][1, 2], z["l"].dtype, list(z["l"]))`, path).CombinedOutput()
	if got, want := strings.TrimSpace(string(out)), "['l', 'm'] float32 (2, 3) 5.5 int64 [3, -4]"; err != nil || got != want {
		t.Errorf("numpy read %q (%v), want %q", got, err, want)
	}
}

// pythonWith returns a Python that imports module (Debian's /usr/bin/python3 first, else python3 on PATH), or
// skips the test.
func pythonWith(t *testing.T, module string) string {
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if p, err := exec.LookPath(py); err == nil && exec.Command(p, "-c", "import "+module).Run() == nil {
			return p
		}
	}
	t.Skipf("no python3 with %s", module)
	return ""
}

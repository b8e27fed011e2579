// Package tensorfile writes and reads named float32, float64 and int64 arrays in the formats other tools read:
// NumPy's .npy and .npz (numpy.load) and safetensors (safetensors.numpy.load_file, or any reader of the format).
//
// Formats, as written here:
//   - .npy version 1.0: the magic "\x93NUMPY", 1, 0, a little-endian uint16 header length, an ASCII dict
//     {'descr': '<f4', '<f8' or '<i8', 'fortran_order': False, 'shape': (…), } padded with spaces and a newline to
//     a multiple of 64 bytes, then the data in C order, little-endian.
//   - .npz: a zip archive of NAME.npy members (stored, not compressed).
//   - safetensors: a little-endian uint64 header length N, N bytes of JSON {NAME: {"dtype": "F32", "F64" or "I64",
//     "shape": […], "data_offsets": [begin, end]}, …, "__metadata__": {…}}, then the data, each tensor's
//     bytes at its offsets from the end of the header, little-endian, C order.
//
// The readers (ReadNPZ, ReadNPY, ReadSafetensors) accept what these writers write and what NumPy and the
// safetensors library write for the same dtypes, plus float16 and bfloat16 (converted to float32 exactly).
package tensorfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
)

// Tensor is a named array: exactly one of F32, F64 and I64 is set, with Size(Shape) values in C order.
type Tensor struct {
	Name  string
	Shape []int
	F32   []float32
	F64   []float64
	I64   []int64
}

// Float64 returns the values of a float tensor as float64 (F32 converted exactly), or nil for an I64 one.
func (t Tensor) Float64() []float64 {
	if t.F64 != nil {
		return t.F64
	}
	if t.F32 == nil {
		return nil
	}
	v := make([]float64, len(t.F32))
	for i, x := range t.F32 {
		v[i] = float64(x)
	}
	return v
}

// dtype is the tensor's safetensors dtype name.
func (t Tensor) dtype() string {
	switch {
	case t.F64 != nil:
		return "F64"
	case t.I64 != nil:
		return "I64"
	}
	return "F32"
}

func (t Tensor) check() error {
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return fmt.Errorf("tensorfile: %s: negative dimension in %v", t.Name, t.Shape)
		}
		n *= d
	}
	set := 0
	for _, b := range []bool{t.F32 != nil, t.F64 != nil, t.I64 != nil} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("tensorfile: %s: want exactly one of F32, F64 and I64", t.Name)
	}
	if got := len(t.F32) + len(t.F64) + len(t.I64); got != n {
		return fmt.Errorf("tensorfile: %s: %d values for shape %v", t.Name, got, t.Shape)
	}
	return nil
}

func (t Tensor) data() []byte {
	if t.F32 != nil {
		b := make([]byte, 4*len(t.F32))
		for i, v := range t.F32 {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b
	}
	if t.F64 != nil {
		b := make([]byte, 8*len(t.F64))
		for i, v := range t.F64 {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b
	}
	b := make([]byte, 8*len(t.I64))
	for i, v := range t.I64 {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return b
}

// WriteNPY writes t as one .npy file to w.
func WriteNPY(w io.Writer, t Tensor) error {
	if err := t.check(); err != nil {
		return err
	}
	descr := map[string]string{"F32": "<f4", "F64": "<f8", "I64": "<i8"}[t.dtype()]
	dims := make([]string, len(t.Shape))
	for i, d := range t.Shape {
		dims[i] = fmt.Sprint(d)
	}
	shape := strings.Join(dims, ", ")
	if len(t.Shape) == 1 {
		shape += ","
	}
	header := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s), }", descr, shape)
	pad := 64 - (10+len(header)+1)%64
	if pad == 64 {
		pad = 0
	}
	header += strings.Repeat(" ", pad) + "\n"
	var pre bytes.Buffer
	pre.WriteString("\x93NUMPY\x01\x00")
	binary.Write(&pre, binary.LittleEndian, uint16(len(header)))
	pre.WriteString(header)
	if _, err := w.Write(pre.Bytes()); err != nil {
		return err
	}
	_, err := w.Write(t.data())
	return err
}

// WriteNPZ writes the tensors to path as an .npz archive, each as NAME.npy.
func WriteNPZ(path string, ts []Tensor) error {
	return writeFile(path, func(f io.Writer) error {
		z := zip.NewWriter(f)
		for _, t := range ts {
			w, err := z.CreateHeader(&zip.FileHeader{Name: t.Name + ".npy", Method: zip.Store})
			if err != nil {
				return err
			}
			if err := WriteNPY(w, t); err != nil {
				return err
			}
		}
		return z.Close()
	})
}

// WriteNPYFile writes one tensor to path as .npy.
func WriteNPYFile(path string, t Tensor) error {
	return writeFile(path, func(f io.Writer) error { return WriteNPY(f, t) })
}

// WriteSafetensors writes the tensors to path in the safetensors format, with metadata (string values) in the
// header's "__metadata__".
func WriteSafetensors(path string, ts []Tensor, metadata map[string]string) error {
	header := map[string]any{}
	if len(metadata) > 0 {
		header["__metadata__"] = metadata
	}
	var data [][]byte
	off := 0
	for _, t := range ts {
		if err := t.check(); err != nil {
			return err
		}
		if _, dup := header[t.Name]; dup || t.Name == "__metadata__" {
			return fmt.Errorf("tensorfile: duplicate or reserved name %q", t.Name)
		}
		b, dtype := t.data(), t.dtype()
		shape := t.Shape
		if shape == nil {
			shape = []int{}
		}
		header[t.Name] = map[string]any{"dtype": dtype, "shape": shape, "data_offsets": []int{off, off + len(b)}}
		data, off = append(data, b), off+len(b)
	}
	h, err := json.Marshal(header)
	if err != nil {
		return err
	}
	for len(h)%8 != 0 { // the format allows trailing spaces; 8-byte alignment of the data is customary
		h = append(h, ' ')
	}
	return writeFile(path, func(f io.Writer) error {
		if err := binary.Write(f, binary.LittleEndian, uint64(len(h))); err != nil {
			return err
		}
		if _, err := f.Write(h); err != nil {
			return err
		}
		for _, b := range data {
			if _, err := f.Write(b); err != nil {
				return err
			}
		}
		return nil
	})
}

// writeFile writes path through fill, removing a partial file on error.
func writeFile(path string, fill func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("tensorfile: %s: %w", path, err)
	}
	return f.Close()
}

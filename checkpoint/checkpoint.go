// Package checkpoint reads and writes gosimclr's tensor files: a named list of float32/float64/int64 arrays
// plus a JSON metadata blob, protected by a CRC-32C checksum and written atomically (temporary file, fsync,
// rename, fsync of the directory), so that a crash at any moment leaves either the old file or the new one.
//
// Layout (little-endian):
//
//	magic "GOSIMCLR-CKPT-1\n" | u64 header length | header JSON | raw data | u32 CRC-32C of everything before it
package checkpoint

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

const magic = "GOSIMCLR-CKPT-1\n"

// maxHeader bounds the header a reader accepts, so a corrupt length cannot ask for gigabytes.
const maxHeader = 64 << 20

// ErrCorrupt is returned (wrapped) for a file that is truncated, has a bad magic, or fails its checksum.
var ErrCorrupt = errors.New("checkpoint corrupt")

// Tensor is one named array. Exactly one of F32, F64, I64 is set.
type Tensor struct {
	Name string
	Dims []int
	F32  []float32
	F64  []float64
	I64  []int64
}

type entry struct {
	Name  string `json:"name"`
	DType string `json:"dtype"`
	Dims  []int  `json:"dims"`
	Count int    `json:"count"`
}

type header struct {
	Meta    json.RawMessage `json:"meta"`
	Tensors []entry         `json:"tensors"`
}

// Encode serialises meta (any JSON-marshalable value) and tensors.
func Encode(meta any, tensors []Tensor) ([]byte, error) {
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: metadata: %w", err)
	}
	h := header{Meta: m}
	var data bytes.Buffer
	for _, t := range tensors {
		e := entry{Name: t.Name, Dims: t.Dims}
		switch {
		case t.F32 != nil:
			e.DType, e.Count = "float32", len(t.F32)
			binary.Write(&data, binary.LittleEndian, t.F32)
		case t.F64 != nil:
			e.DType, e.Count = "float64", len(t.F64)
			binary.Write(&data, binary.LittleEndian, t.F64)
		default:
			e.DType, e.Count = "int64", len(t.I64)
			binary.Write(&data, binary.LittleEndian, t.I64)
		}
		n := 1
		for _, d := range t.Dims {
			n *= d
		}
		if n != e.Count {
			return nil, fmt.Errorf("checkpoint: tensor %q has %d values for dims %v", t.Name, e.Count, t.Dims)
		}
		h.Tensors = append(h.Tensors, e)
	}
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.WriteString(magic)
	binary.Write(&out, binary.LittleEndian, uint64(len(hj)))
	out.Write(hj)
	out.Write(data.Bytes())
	binary.Write(&out, binary.LittleEndian, crc32.Checksum(out.Bytes(), crcTable))
	return out.Bytes(), nil
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// Decode parses a checkpoint, filling meta (a pointer, or nil to skip) and returning its tensors.
func Decode(b []byte, meta any) ([]Tensor, error) {
	if len(b) < len(magic)+8+4 || string(b[:len(magic)]) != magic {
		return nil, fmt.Errorf("%w: bad magic or too short (%d bytes)", ErrCorrupt, len(b))
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	hl := binary.LittleEndian.Uint64(body[len(magic):])
	rest := body[len(magic)+8:]
	if hl > maxHeader || hl > uint64(len(rest)) {
		return nil, fmt.Errorf("%w: header length %d exceeds file", ErrCorrupt, hl)
	}
	var h header
	if err := json.Unmarshal(rest[:hl], &h); err != nil {
		return nil, fmt.Errorf("%w: header: %v", ErrCorrupt, err)
	}
	if meta != nil && len(h.Meta) > 0 {
		if err := json.Unmarshal(h.Meta, meta); err != nil {
			return nil, fmt.Errorf("checkpoint: metadata: %w", err)
		}
	}
	data := rest[hl:]
	out := make([]Tensor, 0, len(h.Tensors))
	for _, e := range h.Tensors {
		if e.Count < 0 || e.Count > len(data)/4 {
			return nil, fmt.Errorf("%w: tensor %q claims %d values, %d bytes left", ErrCorrupt, e.Name, e.Count, len(data))
		}
		t := Tensor{Name: e.Name, Dims: e.Dims}
		switch e.DType {
		case "float32":
			t.F32 = make([]float32, e.Count)
			for i := range t.F32 {
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
			}
			data = data[4*e.Count:]
		case "float64", "int64":
			if 8*e.Count > len(data) {
				return nil, fmt.Errorf("%w: tensor %q truncated", ErrCorrupt, e.Name)
			}
			if e.DType == "float64" {
				t.F64 = make([]float64, e.Count)
				for i := range t.F64 {
					t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(data[8*i:]))
				}
			} else {
				t.I64 = make([]int64, e.Count)
				for i := range t.I64 {
					t.I64[i] = int64(binary.LittleEndian.Uint64(data[8*i:]))
				}
			}
			data = data[8*e.Count:]
		default:
			return nil, fmt.Errorf("%w: tensor %q has unknown dtype %q", ErrCorrupt, e.Name, e.DType)
		}
		out = append(out, t)
	}
	if len(data) != 0 {
		return nil, fmt.Errorf("%w: %d stray bytes after the tensors", ErrCorrupt, len(data))
	}
	return out, nil
}

// Write encodes and writes a checkpoint to path atomically.
func Write(path string, meta any, tensors []Tensor) error {
	b, err := Encode(meta, tensors)
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, b)
}

// Read reads and decodes the checkpoint at path.
func Read(path string, meta any) ([]Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	ts, err := Decode(b, meta)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %s: %w", path, err)
	}
	return ts, nil
}

// WriteFileAtomic writes b to path (mode 0644) via a temporary file in the same directory: write, fsync,
// rename, fsync the directory. On any error the temporary file is removed and path is untouched.
func WriteFileAtomic(path string, b []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	// CreateTemp makes the file 0600; the result is an ordinary file that others may read, like the
	// metrics.csv and curves.png beside it.
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err = f.Write(b); err != nil {
		return fmt.Errorf("checkpoint: write %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("checkpoint: sync %s: %w", path, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("checkpoint: close %s: %w", path, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ReadMeta reads only the metadata of the file at path (the magic, the header length and the header), without
// reading or checking the tensors: cheap enough to ask whose a checkpoint is. Read checks the whole file.
func ReadMeta(path string, meta any) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	pre := make([]byte, len(magic)+8)
	if _, err := io.ReadFull(f, pre); err != nil || string(pre[:len(magic)]) != magic {
		return fmt.Errorf("%w: %s: bad magic or too short", ErrCorrupt, path)
	}
	hl := binary.LittleEndian.Uint64(pre[len(magic):])
	if hl > maxHeader {
		return fmt.Errorf("%w: %s: header length %d", ErrCorrupt, path, hl)
	}
	b := make([]byte, hl)
	if _, err := io.ReadFull(f, b); err != nil {
		return fmt.Errorf("%w: %s: header: %v", ErrCorrupt, path, err)
	}
	var h header
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("%w: %s: header: %v", ErrCorrupt, path, err)
	}
	if meta != nil && len(h.Meta) > 0 {
		if err := json.Unmarshal(h.Meta, meta); err != nil {
			return fmt.Errorf("checkpoint: %s: metadata: %w", path, err)
		}
	}
	return nil
}

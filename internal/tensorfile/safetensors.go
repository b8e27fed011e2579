package tensorfile

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"unicode/utf8"
)

// MaxSafetensorsHeader caps the JSON header ReadSafetensors accepts (the safetensors library's own limit), so
// that a corrupt length cannot make it allocate gigabytes.
const MaxSafetensorsHeader = 100_000_000

// ErrFormat is wrapped by every error about the contents of a file the readers reject.
var ErrFormat = errors.New("malformed")

func formatf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// elemSize is the byte width of each safetensors dtype the reader converts.
var elemSize = map[string]int{"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8}

// ReadSafetensors reads a safetensors file: its tensors in the order of their data offsets, and the string
// metadata of its header ("__metadata__"; nil when absent). See ParseSafetensors.
func ReadSafetensors(path string) ([]Tensor, map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("tensorfile: %w", err)
	}
	ts, meta, err := ParseSafetensors(b)
	if err != nil {
		return nil, nil, fmt.Errorf("tensorfile: %s: %w", path, err)
	}
	return ts, meta, nil
}

// stEntry is one tensor of a safetensors header.
type stEntry struct {
	name       string
	DType      string `json:"dtype"`
	Shape      []int  `json:"shape"`
	Offsets    []int  `json:"data_offsets"`
	begin, end int
}

// ParseSafetensors parses a whole safetensors file b: a little-endian uint64 header length N
// (≤ MaxSafetensorsHeader), N bytes of UTF-8 JSON (an object of tensors and an optional "__metadata__" of
// strings, padded with trailing spaces at most), then the data. Each tensor has a dtype (F32, F64 and I64 are
// kept; F16 and BF16 are converted to F32 exactly), a shape of non-negative dimensions and data_offsets
// [begin, end] relative to the end of the header, of exactly the shape's size in bytes. The tensors must cover
// the data exactly: no overlap, no gap, no byte after the last one. Duplicate names, unknown keys and other
// dtypes are rejected. Errors wrap ErrFormat.
func ParseSafetensors(b []byte) ([]Tensor, map[string]string, error) {
	if len(b) < 8 {
		return nil, nil, formatf("safetensors: %d bytes, shorter than the 8-byte header length", len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > MaxSafetensorsHeader {
		return nil, nil, formatf("safetensors: header length %d is over the limit of %d bytes", n, MaxSafetensorsHeader)
	}
	if n > uint64(len(b)-8) {
		return nil, nil, formatf("safetensors: header length %d, but only %d bytes follow", n, len(b)-8)
	}
	header, data := b[8:8+n], b[8+n:]
	entries, meta, err := parseSTHeader(header)
	if err != nil {
		return nil, nil, err
	}
	for i := range entries {
		if err := entries[i].check(len(data)); err != nil {
			return nil, nil, err
		}
	}
	sort.SliceStable(entries, func(i, j int) bool {
		a, c := entries[i], entries[j]
		return a.begin < c.begin || (a.begin == c.begin && a.end < c.end)
	})
	at := 0
	for _, e := range entries {
		switch {
		case e.begin < at:
			return nil, nil, formatf("safetensors: %s's data [%d, %d) overlaps the tensor before it (which ends at %d)", e.name, e.begin, e.end, at)
		case e.begin > at:
			return nil, nil, formatf("safetensors: bytes [%d, %d) of the data belong to no tensor", at, e.begin)
		}
		at = e.end
	}
	if at != len(data) {
		return nil, nil, formatf("safetensors: %d bytes after the last tensor's data", len(data)-at)
	}
	ts := make([]Tensor, len(entries))
	for i, e := range entries {
		ts[i] = e.decode(data[e.begin:e.end])
	}
	return ts, meta, nil
}

// parseSTHeader reads the header's JSON object in order, refusing duplicate names and anything after it but
// spaces.
func parseSTHeader(h []byte) ([]stEntry, map[string]string, error) {
	if !utf8.Valid(h) {
		return nil, nil, formatf("safetensors: header is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(h))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, nil, formatf("safetensors: header is not a JSON object")
	}
	var entries []stEntry
	var meta map[string]string
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, formatf("safetensors: header: %v", err)
		}
		name := tok.(string) // an object's keys are strings: the decoder has checked
		if seen[name] {
			return nil, nil, formatf("safetensors: name %q appears twice", name)
		}
		seen[name] = true
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, formatf("safetensors: header: %v", err)
		}
		if name == "__metadata__" {
			if err := json.Unmarshal(raw, &meta); err != nil {
				return nil, nil, formatf("safetensors: __metadata__ must map strings to strings: %v", err)
			}
			continue
		}
		e := stEntry{name: name}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&e); err != nil {
			return nil, nil, formatf("safetensors: tensor %q: %v", name, err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, nil, formatf("safetensors: header: %v", err)
	}
	if rest := h[dec.InputOffset():]; len(bytes.Trim(rest, " ")) > 0 {
		return nil, nil, formatf("safetensors: header ends with %q after its JSON object", rest)
	}
	return entries, meta, nil
}

// check validates an entry's dtype, shape and offsets against a data section of size bytes.
func (e *stEntry) check(size int) error {
	w, ok := elemSize[e.DType]
	if !ok {
		return formatf("safetensors: tensor %q has dtype %q; readable are F32, F64, F16, BF16 and I64", e.name, e.DType)
	}
	if e.Shape == nil || len(e.Offsets) != 2 {
		return formatf("safetensors: tensor %q needs a shape and two data_offsets", e.name)
	}
	n := w
	for _, d := range e.Shape {
		if d < 0 {
			return formatf("safetensors: tensor %q has a negative dimension in %v", e.name, e.Shape)
		}
		if d > 0 && n > size/d { // n·d would exceed the data (and could overflow)
			return formatf("safetensors: tensor %q of shape %v is larger than the file's %d data bytes", e.name, e.Shape, size)
		}
		n *= d
	}
	e.begin, e.end = e.Offsets[0], e.Offsets[1]
	switch {
	case e.begin < 0 || e.end < e.begin || e.end > size:
		return formatf("safetensors: tensor %q has data_offsets %v outside [0, %d]", e.name, e.Offsets, size)
	case e.end-e.begin != n:
		return formatf("safetensors: tensor %q of dtype %s and shape %v needs %d bytes, its data_offsets %v hold %d", e.name, e.DType, e.Shape, n, e.Offsets, e.end-e.begin)
	}
	return nil
}

// decode converts an entry's bytes into a Tensor.
func (e stEntry) decode(b []byte) Tensor {
	t := Tensor{Name: e.name, Shape: e.Shape}
	w := elemSize[e.DType]
	n := len(b) / w
	switch e.DType {
	case "F64":
		t.F64 = make([]float64, n)
		for i := range n {
			t.F64[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	case "I64":
		t.I64 = make([]int64, n)
		for i := range n {
			t.I64[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
	default:
		t.F32 = make([]float32, n)
		for i := range n {
			switch e.DType {
			case "F32":
				t.F32[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
			case "BF16":
				t.F32[i] = math.Float32frombits(uint32(binary.LittleEndian.Uint16(b[2*i:])) << 16)
			case "F16":
				t.F32[i] = Float16(binary.LittleEndian.Uint16(b[2*i:]))
			}
		}
	}
	return t
}

// Float16 converts IEEE 754 half-precision bits to float32 (exactly: every half is a float32).
//
//	sign·2^(e−15)·(1 + m/1024) for 0 < e < 31,  sign·2^(−14)·m/1024 for e = 0,  ±Inf or NaN for e = 31
func Float16(h uint16) float32 {
	sign := uint32(h>>15) << 31
	e, m := uint32(h>>10)&0x1f, uint32(h)&0x3ff
	switch {
	case e == 0x1f: // Inf or NaN, the payload kept
		return math.Float32frombits(sign | 0xff<<23 | m<<13)
	case e == 0 && m == 0:
		return math.Float32frombits(sign)
	case e == 0: // subnormal: m·2^(−24)
		v := float32(m) * (1.0 / (1 << 24))
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (e+127-15)<<23 | m<<13)
}

package tensorfile

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
)

// npyDescr maps the .npy dtypes the reader converts to their safetensors names.
var npyDescr = map[string]string{"<f4": "F32", "<f8": "F64", "<f2": "F16", "<i8": "I64"}

// ReadNPZ reads the arrays of an .npz archive (stored or deflated members NAME.npy), in archive order.
func ReadNPZ(path string) ([]Tensor, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tensorfile: %w", err)
	}
	ts, err := ParseNPZ(b)
	if err != nil {
		return nil, fmt.Errorf("tensorfile: %s: %w", path, err)
	}
	return ts, nil
}

// ParseNPZ parses a whole .npz archive: every member must be NAME.npy, read by ParseNPY, with distinct names.
// A member's declared size bounds what is read of it. Errors about the contents wrap ErrFormat.
func ParseNPZ(b []byte) ([]Tensor, error) {
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, formatf("npz: %v", err)
	}
	var ts []Tensor
	seen := map[string]bool{}
	for _, f := range z.File {
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok || seen[name] {
			return nil, formatf("npz: member %q is not a .npy file of a new name", f.Name)
		}
		seen[name] = true
		if f.UncompressedSize64 > uint64(maxNPZMember) {
			return nil, formatf("npz: member %q declares %d bytes, over the limit of %d", f.Name, f.UncompressedSize64, maxNPZMember)
		}
		r, err := f.Open()
		if err != nil {
			return nil, formatf("npz: %s: %v", f.Name, err)
		}
		data, err := io.ReadAll(io.LimitReader(r, int64(f.UncompressedSize64)+1))
		r.Close()
		if err != nil {
			return nil, formatf("npz: %s: %v", f.Name, err)
		}
		t, err := ParseNPY(data)
		if err != nil {
			return nil, fmt.Errorf("npz: %s: %w", f.Name, err)
		}
		t.Name = name
		ts = append(ts, t)
	}
	return ts, nil
}

// maxNPZMember caps one member of an .npz archive (4 GiB): a deflated member may claim any size.
const maxNPZMember = 4 << 30

// ParseNPY parses a whole .npy file: the magic "\x93NUMPY", version 1.0 (uint16 header length), 2.0 or 3.0
// (uint32), a header dict {'descr': …, 'fortran_order': False, 'shape': (…)} with descr '<f4', '<f8', '<i8' or
// '<f2' (converted to float32), then exactly the shape's data in C order. The name is left empty. Errors wrap
// ErrFormat.
func ParseNPY(b []byte) (Tensor, error) {
	if len(b) < 10 || string(b[:6]) != "\x93NUMPY" {
		return Tensor{}, formatf("npy: no \\x93NUMPY magic")
	}
	var n, at int
	switch b[6] {
	case 1:
		n, at = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return Tensor{}, formatf("npy: truncated header length")
		}
		n, at = int(binary.LittleEndian.Uint32(b[8:])), 12
	default:
		return Tensor{}, formatf("npy: version %d.%d is not 1.0, 2.0 or 3.0", b[6], b[7])
	}
	if n > len(b)-at {
		return Tensor{}, formatf("npy: header length %d, but only %d bytes follow", n, len(b)-at)
	}
	descr, shape, err := parseNPYHeader(string(b[at : at+n]))
	if err != nil {
		return Tensor{}, err
	}
	dtype, ok := npyDescr[descr]
	if !ok {
		return Tensor{}, formatf("npy: dtype %q; readable are '<f4', '<f8', '<f2' and '<i8'", descr)
	}
	e := stEntry{DType: dtype, Shape: shape}
	data := b[at+n:]
	e.Offsets = []int{0, len(data)}
	if err := e.check(len(data)); err != nil {
		return Tensor{}, formatf("npy: shape %v of %s needs other than the %d data bytes there are", shape, descr, len(data))
	}
	return e.decode(data), nil
}

// parseNPYHeader reads the Python dict literal of a .npy header: exactly the keys descr (a string),
// fortran_order (False: Fortran order is refused) and shape (a tuple of integers).
func parseNPYHeader(h string) (descr string, shape []int, err error) {
	p := &pyLexer{s: strings.TrimRight(h, " \n")}
	if !p.eat("{") {
		return "", nil, formatf("npy: header %q is not a dict", h)
	}
	got := map[string]bool{}
	for !p.eat("}") {
		key, ok := p.str()
		if !ok || got[key] || !p.eat(":") {
			return "", nil, formatf("npy: header %q: bad or repeated key", h)
		}
		got[key] = true
		switch key {
		case "descr":
			if descr, ok = p.str(); !ok {
				return "", nil, formatf("npy: header %q: descr is not a string", h)
			}
		case "fortran_order":
			if !p.eat("False") {
				return "", nil, formatf("npy: header %q: only fortran_order False is read", h)
			}
		case "shape":
			if shape, ok = p.tuple(); !ok {
				return "", nil, formatf("npy: header %q: shape is not a tuple of integers ≥ 0", h)
			}
		default:
			return "", nil, formatf("npy: header %q: unknown key %q", h, key)
		}
		if !p.eat(",") && !strings.HasPrefix(p.rest(), "}") {
			return "", nil, formatf("npy: header %q: want , or }", h)
		}
	}
	if p.rest() != "" || len(got) != 3 {
		return "", nil, formatf("npy: header %q: want exactly descr, fortran_order and shape", h)
	}
	return descr, shape, nil
}

// pyLexer reads the few Python literals of a .npy header.
type pyLexer struct {
	s string
	i int
}

func (p *pyLexer) rest() string { return strings.TrimLeft(p.s[p.i:], " ") }

func (p *pyLexer) eat(tok string) bool {
	r := p.rest()
	if !strings.HasPrefix(r, tok) {
		return false
	}
	p.i = len(p.s) - len(r) + len(tok)
	return true
}

// str reads a quoted string without escapes.
func (p *pyLexer) str() (string, bool) {
	r := p.rest()
	if len(r) < 2 || (r[0] != '\'' && r[0] != '"') {
		return "", false
	}
	end := strings.IndexByte(r[1:], r[0])
	if end < 0 || strings.ContainsRune(r[1:1+end], '\\') {
		return "", false
	}
	p.i = len(p.s) - len(r) + end + 2
	return r[1 : 1+end], true
}

// tuple reads (), (n,) or (n, m, …) of non-negative integers.
func (p *pyLexer) tuple() ([]int, bool) {
	if !p.eat("(") {
		return nil, false
	}
	dims := []int{}
	for !p.eat(")") {
		r := p.rest()
		j := 0
		for j < len(r) && r[j] >= '0' && r[j] <= '9' {
			j++
		}
		d, err := strconv.Atoi(r[:j])
		if err != nil || d > math.MaxInt32*64 {
			return nil, false
		}
		dims = append(dims, d)
		p.i = len(p.s) - len(r) + j
		if !p.eat(",") && !strings.HasPrefix(p.rest(), ")") {
			return nil, false
		}
	}
	return dims, true
}

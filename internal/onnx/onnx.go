// Package onnx writes ONNX models (onnx.proto, https://github.com/onnx/onnx/blob/main/onnx/onnx.proto) without
// generated code: the few messages an inference graph needs are encoded field by field with protowire.
//
// Messages and the field numbers used (proto2, repeated scalars unpacked):
//
//	ModelProto         1 ir_version, 2 producer_name, 3 producer_version, 7 graph, 8 opset_import, 14 metadata_props
//	OperatorSetIdProto 1 domain, 2 version
//	GraphProto         1 node, 2 name, 5 initializer, 11 input, 12 output
//	NodeProto          1 input, 2 output, 3 name, 4 op_type, 5 attribute
//	AttributeProto     1 name, 2 f, 3 i, 8 ints, 20 type (FLOAT 1, INT 2, INTS 7)
//	TensorProto        1 dims, 2 data_type (FLOAT 1, INT64 7), 8 name, 9 raw_data (little-endian)
//	ValueInfoProto     1 name, 2 type → TypeProto 1 tensor_type → 1 elem_type, 2 shape → TensorShapeProto 1 dim
//	                   → Dimension 1 dim_value | 2 dim_param
//	StringStringEntryProto 1 key, 2 value
//
// A Graph is built node by node; Model encodes it.
package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"sort"

	"google.golang.org/protobuf/encoding/protowire"
)

// Versions written: IR version 8 with the default domain's opset 17 (ONNX 1.12, read by onnxruntime ≥ 1.12).
const (
	IRVersion = 8
	Opset     = 17
)

// ONNX element types.
const (
	Float = 1
	Int64 = 7
)

// Graph is an ONNX graph under construction. Tensor names are unique: Node names each output after its op
// and a counter.
type Graph struct {
	Name                          string
	nodes, inits, inputs, outputs [][]byte
	n                             int
	consts                        map[string]bool
}

// Dim is a dimension of an input or output: a size ≥ 0, or Batch.
const Batch = -1 // the symbolic dimension "N"

// Input declares a float input of the graph with dims (Batch for the batch axis) and returns its name.
func (g *Graph) Input(name string, dims ...int) string {
	g.inputs = append(g.inputs, valueInfo(name, Float, dims))
	return name
}

// Output makes the tensor x an output of the graph named name (through an Identity node) with dims.
func (g *Graph) Output(x, name string, dims ...int) {
	g.nodes = append(g.nodes, node("Identity", name, []string{x}, []string{name}, nil))
	g.outputs = append(g.outputs, valueInfo(name, Float, dims))
}

// Const adds a float32 initializer of shape dims and returns its name, which must be new.
func (g *Graph) Const(name string, dims []int, v []float32) string {
	g.claim(name)
	if n := size(dims); n != len(v) {
		panic(fmt.Sprintf("onnx: Const %s: %d values for shape %v", name, len(v), dims))
	}
	raw := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(x))
	}
	g.inits = append(g.inits, tensor(name, Float, dims, raw))
	return name
}

// ConstInt64 adds an int64 initializer of shape dims and returns its name.
func (g *Graph) ConstInt64(name string, dims []int, v []int64) string {
	g.claim(name)
	if n := size(dims); n != len(v) {
		panic(fmt.Sprintf("onnx: ConstInt64 %s: %d values for shape %v", name, len(v), dims))
	}
	raw := make([]byte, 8*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint64(raw[8*i:], uint64(x))
	}
	g.inits = append(g.inits, tensor(name, Int64, dims, raw))
	return name
}

// Scalar adds a float32 scalar initializer and returns its name; a name already given is returned as it is
// (a constant used several times, such as GELU's √2, is stored once).
func (g *Graph) Scalar(name string, v float32) string {
	if g.consts[name] {
		return name
	}
	return g.Const(name, []int{}, []float32{v})
}

func (g *Graph) claim(name string) {
	if g.consts[name] {
		panic(fmt.Sprintf("onnx: initializer %q given twice", name))
	}
	if g.consts == nil {
		g.consts = map[string]bool{}
	}
	g.consts[name] = true
}

// Node adds a node of the default domain's op with inputs and attributes, and returns the name of its (single)
// output.
func (g *Graph) Node(op string, inputs []string, attrs ...Attr) string {
	g.n++
	out := fmt.Sprintf("%s_%d", op, g.n)
	g.nodes = append(g.nodes, node(op, out, inputs, []string{out}, attrs))
	return out
}

// Attr is a node attribute: an int, a float or a list of ints.
type Attr struct {
	name string
	typ  int
	i    int64
	f    float32
	ints []int64
}

// Int is an INT attribute.
func Int(name string, v int64) Attr { return Attr{name: name, typ: 2, i: v} }

// FloatAttr is a FLOAT attribute.
func FloatAttr(name string, v float32) Attr { return Attr{name: name, typ: 1, f: v} }

// Ints is an INTS attribute.
func Ints(name string, v ...int64) Attr { return Attr{name: name, typ: 7, ints: v} }

// Model encodes the ONNX model of g: IR version and opset as above, the producer, and metadata (sorted by key).
func (g *Graph) Model(producer, version string, metadata map[string]string) []byte {
	var b []byte
	b = protowire.AppendTag(b, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, IRVersion)
	b = appendString(b, 2, producer)
	b = appendString(b, 3, version)
	var gb []byte
	for _, n := range g.nodes {
		gb = appendBytes(gb, 1, n)
	}
	gb = appendString(gb, 2, g.Name)
	for _, t := range g.inits {
		gb = appendBytes(gb, 5, t)
	}
	for _, v := range g.inputs {
		gb = appendBytes(gb, 11, v)
	}
	for _, v := range g.outputs {
		gb = appendBytes(gb, 12, v)
	}
	b = appendBytes(b, 7, gb)
	var op []byte
	op = appendString(op, 1, "")
	op = protowire.AppendTag(op, 2, protowire.VarintType)
	op = protowire.AppendVarint(op, Opset)
	b = appendBytes(b, 8, op)
	keys := make([]string, 0, len(metadata))
	for k := range metadata {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b = appendBytes(b, 14, appendString(appendString(nil, 1, k), 2, metadata[k]))
	}
	return b
}

func node(op, name string, inputs, outputs []string, attrs []Attr) []byte {
	var b []byte
	for _, in := range inputs {
		b = appendString(b, 1, in)
	}
	for _, out := range outputs {
		b = appendString(b, 2, out)
	}
	b = appendString(b, 3, name)
	b = appendString(b, 4, op)
	for _, a := range attrs {
		b = appendBytes(b, 5, a.encode())
	}
	return b
}

func (a Attr) encode() []byte {
	b := appendString(nil, 1, a.name)
	switch a.typ {
	case 1:
		b = protowire.AppendTag(b, 2, protowire.Fixed32Type)
		b = protowire.AppendFixed32(b, math.Float32bits(a.f))
	case 2:
		b = protowire.AppendTag(b, 3, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(a.i))
	case 7:
		for _, v := range a.ints {
			b = protowire.AppendTag(b, 8, protowire.VarintType)
			b = protowire.AppendVarint(b, uint64(v))
		}
	}
	b = protowire.AppendTag(b, 20, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(a.typ))
}

func tensor(name string, dtype int, dims []int, raw []byte) []byte {
	var b []byte
	for _, d := range dims {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(d))
	}
	b = protowire.AppendTag(b, 2, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(dtype))
	b = appendString(b, 8, name)
	return appendBytes(b, 9, raw)
}

func valueInfo(name string, dtype int, dims []int) []byte {
	var shape []byte
	for _, d := range dims {
		var dim []byte
		if d == Batch {
			dim = appendString(nil, 2, "N")
		} else {
			dim = protowire.AppendTag(nil, 1, protowire.VarintType)
			dim = protowire.AppendVarint(dim, uint64(d))
		}
		shape = appendBytes(shape, 1, dim)
	}
	tt := protowire.AppendTag(nil, 1, protowire.VarintType)
	tt = protowire.AppendVarint(tt, uint64(dtype))
	tt = appendBytes(tt, 2, shape)
	return appendBytes(appendString(nil, 1, name), 2, appendBytes(nil, 1, tt))
}

func appendString(b []byte, num protowire.Number, s string) []byte {
	return appendBytes(b, num, []byte(s))
}

func appendBytes(b []byte, num protowire.Number, v []byte) []byte {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, v)
}

func size(dims []int) int {
	n := 1
	for _, d := range dims {
		n *= d
	}
	return n
}

package onnx

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

var update = flag.Bool("update", false, "update golden files")

// tiny is y = relu(x·c) + d with x [N, 2], c [2] and d a scalar, attributes of every kind on a LeakyRelu
// (alpha) and a Transpose (perm), and metadata.
func tiny() []byte {
	g := &Graph{Name: "tiny"}
	x := g.Input("x", Batch, 2)
	y := g.Node("Mul", []string{x, g.Const("c", []int{2}, []float32{1, -2})})
	y = g.Node("LeakyRelu", []string{y}, FloatAttr("alpha", 0.5))
	y = g.Node("Add", []string{y, g.Scalar("d", 0.25)})
	y = g.Node("Transpose", []string{g.Node("Transpose", []string{y}, Ints("perm", 1, 0))}, Ints("perm", 1, 0))
	g.Output(y, "y", Batch, 2)
	return g.Model("gosimclr-test", "v0", map[string]string{"b": "2", "a": "1"})
}

// fields decodes one level of a protobuf message: field number → raw values (varints as numbers, bytes as
// strings).
func fields(t *testing.T, b []byte) map[protowire.Number][]any {
	t.Helper()
	out := map[protowire.Number][]any{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("bad tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		var v any
		switch typ {
		case protowire.VarintType:
			v, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			var s []byte
			s, n = protowire.ConsumeBytes(b)
			v = string(s)
		case protowire.Fixed32Type:
			v, n = protowire.ConsumeFixed32(b)
		default:
			t.Fatalf("unexpected wire type %d", typ)
		}
		if n < 0 {
			t.Fatalf("field %d: %v", num, protowire.ParseError(n))
		}
		out[num], b = append(out[num], v), b[n:]
	}
	return out
}

// TestModelBytes: the tiny model's bytes equal the golden file (go test -update rewrites it; TestRuntimeRuns
// checks in onnxruntime that the golden file computes what it should), and decode as ONNX's ModelProto.
func TestModelBytes(t *testing.T) {
	b := tiny()
	if *update {
		os.WriteFile("testdata/tiny.onnx", b, 0o644)
	}
	want, err := os.ReadFile("testdata/tiny.onnx")
	if err != nil || !bytes.Equal(b, want) {
		t.Errorf("tiny model: %d bytes, golden %d bytes (%v)", len(b), len(want), err)
	}
	m := fields(t, b)
	if m[1][0] != uint64(IRVersion) || m[2][0] != "gosimclr-test" || len(m[14]) != 2 {
		t.Errorf("ModelProto fields %v", m)
	}
	if op := fields(t, []byte(m[8][0].(string))); op[1][0] != "" || op[2][0] != uint64(Opset) {
		t.Errorf("opset_import %v", op)
	}
	if kv := fields(t, []byte(m[14][0].(string))); kv[1][0] != "a" || kv[2][0] != "1" {
		t.Errorf("metadata not sorted by key: %v", kv)
	}
	g := fields(t, []byte(m[7][0].(string)))
	if len(g[1]) != 6 || g[2][0] != "tiny" || len(g[5]) != 2 || len(g[11]) != 1 || len(g[12]) != 1 {
		t.Fatalf("GraphProto: %d nodes, %d initializers, %d inputs, %d outputs", len(g[1]), len(g[5]), len(g[11]), len(g[12]))
	}
	c := fields(t, []byte(g[5][0].(string)))
	if c[1][0] != uint64(2) || c[2][0] != uint64(Float) || c[8][0] != "c" || c[9][0] != "\x00\x00\x80\x3f\x00\x00\x00\xc0" {
		t.Errorf("TensorProto c: %v", c)
	}
	leaky := fields(t, []byte(g[1][1].(string)))
	if leaky[4][0] != "LeakyRelu" || leaky[1][0] != "Mul_1" || leaky[2][0] != "LeakyRelu_2" {
		t.Errorf("NodeProto: %v", leaky)
	}
	if a := fields(t, []byte(leaky[5][0].(string))); a[1][0] != "alpha" || a[2][0] != uint32(0x3f000000) || a[20][0] != uint64(1) {
		t.Errorf("AttributeProto alpha: %v", a)
	}
}

// TestDuplicateInitializer: a name given twice to Const panics; Scalar reuses it.
func TestDuplicateInitializer(t *testing.T) {
	g := &Graph{}
	if a, b := g.Scalar("k", 1), g.Scalar("k", 1); a != b {
		t.Error("Scalar did not reuse k")
	}
	defer func() {
		if recover() == nil {
			t.Error("Const k twice did not panic")
		}
	}()
	g.Const("k", []int{}, []float32{2})
}

// TestRuntimeRuns: onnxruntime loads the golden tiny model and computes y = leaky_relu(x·c, 0.5) + 0.25 on a
// batch of 3 (the symbolic N). Skipped without onnxruntime.
func TestRuntimeRuns(t *testing.T) {
	py := ""
	for _, p := range []string{"/usr/bin/python3", "python3"} {
		if path, err := exec.LookPath(p); err == nil && exec.Command(path, "-c", "import onnxruntime, numpy").Run() == nil {
			py = path
			break
		}
	}
	if py == "" {
		t.Skip(`no python3 with onnxruntime and numpy (python3 -c "import onnxruntime" fails)`)
	}
	out, err := exec.Command(py, "-c", `import onnxruntime as ort, numpy as np
s = ort.InferenceSession("testdata/tiny.onnx", providers=["CPUExecutionProvider"])
m = s.get_modelmeta().custom_metadata_map
y = s.run(None, {"x": np.array([[1, 1], [-2, 0.5], [0, 3]], np.float32)})[0]
print(y.tolist(), sorted(m.items()), s.get_inputs()[0].shape)`).CombinedOutput()
	want := "[[1.25, -0.75], [-0.75, -0.25], [0.25, -2.75]] [('a', '1'), ('b', '2')] ['N', 2]"
	if got := strings.TrimSpace(string(out)); err != nil || got != want {
		t.Errorf("onnxruntime: %s (%v)\nwant %s", got, err, want)
	}
}

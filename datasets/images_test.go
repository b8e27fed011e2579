package datasets

import (
	"errors"
	"slices"
	"testing"
)

// tinySet returns 3 RGB images of 2×2 whose bytes count up from 0, labels 2, 0, 2 of 3 classes.
func tinySet() *Images {
	px := make([]uint8, 3*2*2*3)
	for i := range px {
		px[i] = uint8(i * 7)
	}
	return &Images{Name: "tiny", N: 3, H: 2, W: 2, C: 3, Pixels: px, Labels: []int{2, 0, 2}, Classes: []string{"a", "b", "c"}}
}

func TestImagesBatch(t *testing.T) {
	m := tinySet()
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	got := m.Batch([]int{2, 0}, nil)
	if len(got) != 24 {
		t.Fatalf("len %d, want 24", len(got))
	}
	for k, i := range []int{2, 0} {
		for j, v := range m.Example(i) {
			if want := float32(v) / 255; got[k*12+j] != want {
				t.Fatalf("batch[%d] = %v, want %v", k*12+j, got[k*12+j], want)
			}
		}
	}
	// dst is reused when large enough.
	dst := make([]float32, 100)
	if out := m.Batch([]int{1}, dst); &out[0] != &dst[0] || len(out) != 12 {
		t.Error("Batch did not reuse dst")
	}
	if got := m.BatchLabels([]int{2, 1}, nil); !slices.Equal(got, []int32{2, 0}) {
		t.Errorf("BatchLabels = %v", got)
	}
	if m.At(1, 1, 0, 2) != m.Pixels[12+3+2] {
		t.Error("At(1, x=1, y=0, c=2) is not byte 12 + 3 + 2")
	}
	if got := m.ClassCounts(); !slices.Equal(got, []int{1, 0, 2}) {
		t.Errorf("ClassCounts = %v", got)
	}
	s := m.Subset("sub", []int{2, 2})
	if s.N != 2 || !slices.Equal(s.Example(1), m.Example(2)) || !slices.Equal(s.Labels, []int{2, 2}) {
		t.Errorf("Subset = %v", s)
	}
	if m.String() != "tiny: 3 × 2×2×3, 3 classes" {
		t.Errorf("String = %q", m.String())
	}
}

func TestImagesValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		edit func(*Images)
		want error
	}{
		{"channels", func(m *Images) { m.C = 2 }, ErrMismatch},
		{"pixels", func(m *Images) { m.Pixels = m.Pixels[1:] }, ErrMismatch},
		{"labels", func(m *Images) { m.Labels = m.Labels[:2] }, ErrMismatch},
		{"label range", func(m *Images) { m.Labels[1] = 3 }, ErrLabelRange},
		{"negative", func(m *Images) { m.Labels[1] = -2 }, ErrLabelRange},
		{"shape", func(m *Images) { m.H = 0 }, ErrMismatch},
	} {
		m := tinySet()
		c.edit(m)
		if err := m.Validate(); !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
	}
}

func TestImagesExamplePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Example(3) of 3 images did not panic")
		}
	}()
	tinySet().Example(3)
}

package augment

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
)

// VectorSpec composes the vector augmentations; a zero field switches its augmentation off, and the zero
// VectorSpec is the identity. Apply applies them in the order
//
//	rotation → shift → noise:   y_i = R(θ_i)·x_i + ξ_i·dir + ε_i
//
// so the shift direction is fixed in input coordinates, not turned with the example, and the noise is isotropic
// whatever came before. This order is ours: the authors' unused code rotates after shifting (paper.md §6.2).
type VectorSpec struct {
	NoiseStd  float64   // std of the additive Gaussian noise ε_ij
	ShiftStd  float64   // std of the shift length ξ_i
	ShiftDir  []float64 // shift direction, length d, used as given; nil = (1, …, 1), the authors' diagonal
	RotateMax float64   // θ_i ~ U[−RotateMax, RotateMax), radians, in the plane of the first two coordinates
}

// VectorParams holds the parameters VectorSpec.Sample drew for one batch; a nil field is an augmentation that is off.
type VectorParams struct {
	Theta *graph.Node // rotation angles θ, [B]
	Xi    *graph.Node // shift lengths ξ, [B]
	Noise *graph.Node // additive noise ε, [B, d]
}

// IsIdentity reports whether s changes nothing.
func (s VectorSpec) IsIdentity() bool { return s.NoiseStd == 0 && s.ShiftStd == 0 && s.RotateMax == 0 }

// Check reports whether s can augment vectors of dimension d: a rotation needs d ≥ 2, a shift direction length d.
func (s VectorSpec) Check(d int) error {
	if s.RotateMax != 0 && d < 2 {
		return fmt.Errorf("augment: rotation turns the first two coordinates and needs d ≥ 2, got d = %d", d)
	}
	if s.ShiftStd != 0 && s.ShiftDir != nil && len(s.ShiftDir) != d {
		return fmt.Errorf("augment: the shift direction has %d coordinates, the data d = %d", len(s.ShiftDir), d)
	}
	return nil
}

// Sample draws the parameters of one batch of batch examples of dimension d, in the order θ, ξ, ε, skipping the
// augmentations that are off (so which are on changes the draws of the others). It returns the advanced RNG state.
// It panics if s.Check(d) fails.
func (s VectorSpec) Sample(rng *graph.Node, batch, d int, dt dtypes.DType) (newRNG *graph.Node, p VectorParams) {
	if err := s.Check(d); err != nil {
		panic(fmt.Errorf("augment: VectorSpec.Sample: %w", err))
	}
	if s.RotateMax != 0 {
		rng, p.Theta = SampleRotation(rng, batch, s.RotateMax, dt)
	}
	if s.ShiftStd != 0 {
		rng, p.Xi = SampleShift(rng, batch, s.ShiftStd, dt)
	}
	if s.NoiseStd != 0 {
		rng, p.Noise = SampleNoise(rng, batch, d, s.NoiseStd, dt)
	}
	return rng, p
}

// Apply returns the augmented views of x [B, d] (rotation → shift → noise, see VectorSpec), using the parameters
// present in p; with none it returns x itself. ref.ApplyVector is its twin.
func (s VectorSpec) Apply(x *graph.Node, p VectorParams) *graph.Node {
	if p.Theta != nil {
		x = Rotate(x, p.Theta)
	}
	if p.Xi != nil {
		x = Shift(x, p.Xi, s.ShiftDir)
	}
	if p.Noise != nil {
		x = AddNoise(x, p.Noise)
	}
	return x
}

// String formats s as ParseVectorSpec reads it, e.g. "noise:0.05,shift:1,dir:1/-1,rotate:3.14", or "none".
func (s VectorSpec) String() string {
	if s.IsIdentity() {
		return "none"
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	var parts []string
	if s.NoiseStd != 0 {
		parts = append(parts, "noise:"+f(s.NoiseStd))
	}
	if s.ShiftStd != 0 {
		parts = append(parts, "shift:"+f(s.ShiftStd))
		if s.ShiftDir != nil {
			dir := make([]string, len(s.ShiftDir))
			for i, v := range s.ShiftDir {
				dir[i] = f(v)
			}
			parts = append(parts, "dir:"+strings.Join(dir, "/"))
		}
	}
	if s.RotateMax != 0 {
		parts = append(parts, "rotate:"+f(s.RotateMax))
	}
	return strings.Join(parts, ",")
}

// ParseVectorSpec reads a comma-separated list of key:value entries (the --augment flag), each key at most once:
//
//	noise:STD      additive Gaussian noise of standard deviation STD
//	shift:STD      shift along dir by ξ ~ N(0, STD²)
//	dir:A/B/…      the shift direction (default the diagonal 1/1/…); only with shift
//	rotate:MAX     rotation by θ ~ U[−MAX, MAX) radians; MAX may end in "pi", e.g. "2pi", "0.5pi"
//
// Values are finite and ≥ 0. "none" is the identity. Example: "shift:1" is the authors' diagonal shift.
func ParseVectorSpec(str string) (VectorSpec, error) {
	var s VectorSpec
	str = strings.TrimSpace(str)
	if str == "none" {
		return s, nil
	}
	if str == "" {
		return s, errors.New(`augment: empty vector augmentation, want e.g. "noise:0.05,shift:1,rotate:pi" or "none"`)
	}
	seen := map[string]bool{}
	for _, entry := range strings.Split(str, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(entry), ":")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" || value == "" {
			return VectorSpec{}, fmt.Errorf("augment: vector augmentation %q: entry %q is not key:value", str, entry)
		}
		if seen[key] {
			return VectorSpec{}, fmt.Errorf("augment: vector augmentation %q: %s given twice", str, key)
		}
		seen[key] = true
		var err error
		switch key {
		case "noise":
			s.NoiseStd, err = parseNonNegative(value, false)
		case "shift":
			s.ShiftStd, err = parseNonNegative(value, false)
		case "rotate":
			s.RotateMax, err = parseNonNegative(value, true)
		case "dir":
			s.ShiftDir, err = parseDirection(value)
		case "none":
			err = errors.New(`"none" cannot be combined with other entries`)
		default:
			err = fmt.Errorf("unknown key %q, want noise, shift, dir or rotate", key)
		}
		if err != nil {
			return VectorSpec{}, fmt.Errorf("augment: vector augmentation %q: %s: %w", str, key, err)
		}
	}
	if seen["dir"] && !seen["shift"] {
		return VectorSpec{}, fmt.Errorf("augment: vector augmentation %q: dir needs a shift entry, e.g. shift:1", str)
	}
	return s, nil
}

// parseNonNegative reads a finite number ≥ 0; with allowPi, a trailing "pi" multiplies it by π ("pi" alone is π).
func parseNonNegative(value string, allowPi bool) (float64, error) {
	scale := 1.0
	if allowPi && strings.HasSuffix(value, "pi") {
		value, scale = strings.TrimSuffix(value, "pi"), math.Pi
		if value == "" {
			value = "1"
		}
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", value)
	}
	v *= scale
	if !(v >= 0) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("want a finite value ≥ 0, got %g", v)
	}
	return v, nil
}

// parseDirection reads "A/B/…" as a finite, non-zero vector.
func parseDirection(value string) ([]float64, error) {
	fields := strings.Split(value, "/")
	dir := make([]float64, len(fields))
	zero := true
	for i, f := range fields {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("coordinate %q is not a finite number", f)
		}
		dir[i], zero = v, zero && v == 0
	}
	if zero {
		return nil, errors.New("the direction must not be zero")
	}
	return dir, nil
}

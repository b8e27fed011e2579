package experiments

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"time"
)

// What the resumable experiments (depth-width, authors-1d, mnist-012) share: the deadline of one sitting and
// the JSON encodings of their cells.

// sittingDeadline is the deadline after which RunUntil starts no new cell: start + budget (none when budget is
// 0), or a passed one with reportOnly, so that nothing runs and only the report of the stored cells is written.
func sittingDeadline(start time.Time, budget time.Duration, reportOnly bool) time.Time {
	switch {
	case reportOnly:
		return time.Unix(0, 0)
	case budget > 0:
		return start.Add(budget)
	}
	return time.Time{}
}

// jsonNum is a float64 that JSON writes as null when it is not finite (encoding/json refuses NaN and ±Inf) and
// reads back from null as NaN; finite values round-trip exactly.
type jsonNum float64

func (x jsonNum) MarshalJSON() ([]byte, error) {
	if f := float64(x); math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(x), 'g', -1, 64), nil
}

func (x *jsonNum) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*x = jsonNum(math.NaN())
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*x = jsonNum(f)
	return err
}

// encodeCodes packs the first n latents of each logged step (step-major: point i at steps[j] is number j·n + i)
// as float32 little-endian in base64. The networks compute in float32, so nothing is lost.
func encodeCodes(steps []int, latents map[int][]float64, n int) string {
	raw := make([]byte, 0, 4*len(steps)*n)
	for _, t := range steps {
		for _, v := range latents[t][:n] {
			raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(float32(v)))
		}
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// decodeCodes unpacks encodeCodes' string into the latents [n] of each of the steps.
func decodeCodes(s string, steps []int, n int) (map[int][]float64, error) {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("codes: %w", err)
	}
	if len(raw) != 4*n*len(steps) {
		return nil, fmt.Errorf("%d bytes of codes for %d points at %d steps", len(raw), n, len(steps))
	}
	out := make(map[int][]float64, len(steps))
	for j, t := range steps {
		z := make([]float64, n)
		for i := range z {
			z[i] = float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*(j*n+i):])))
		}
		out[t] = z
	}
	return out, nil
}

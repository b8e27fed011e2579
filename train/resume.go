package train

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

// ckptMeta is the metadata of a training checkpoint. Together with the tensors (parameters, optimiser state,
// RNG state) and the step count, which fixes the position in the data order (see sampler), it is the whole
// state of a run.
type ckptMeta struct {
	Step    int     `json:"step"`
	Seconds float64 `json:"seconds"` // training time so far, so metrics.csv's clock continues
	Skipped int     `json:"skipped"` // steps skipped by --on-nan skip so far
	Initial float64 `json:"initial-loss"`
	Config  Config  `json:"config"`
	RunID   string  `json:"run-id"` // the run's identity (config.json's environment.run-id); "" before 2026-12-05
}

const ckptPrefix, ckptSuffix = "ckpt-", ".ckpt"

func ckptName(step int) string { return fmt.Sprintf("%s%09d%s", ckptPrefix, step, ckptSuffix) }

// snapshot copies the run's tensors to the host: parameters, optimiser state and RNG state, in their dtypes,
// so that a restore is bit-exact; then the online probe's parameters and state, if the step has one.
func (s *Stepper) snapshot() []checkpoint.Tensor {
	var out []checkpoint.Tensor
	specs := s.Model.Params()
	for i, t := range s.Params {
		out = append(out, toCkpt("param/"+specs[i].Name, t))
	}
	for i, t := range s.State {
		out = append(out, toCkpt(s.stateName(i), t))
	}
	out = append(out, toCkpt("rng", s.RNG))
	return append(out, s.probe.snapshot()...)
}

func toCkpt(name string, t *tensors.Tensor) checkpoint.Tensor {
	c := checkpoint.Tensor{Name: name, Dims: t.Shape().Dimensions}
	switch t.DType() {
	case dtypes.Float32:
		c.F32, _ = tensors.CopyFlatData[float32](t)
	case dtypes.Float64:
		c.F64, _ = tensors.CopyFlatData[float64](t)
	case dtypes.Uint64:
		u, _ := tensors.CopyFlatData[uint64](t)
		c.I64 = make([]int64, len(u))
		for i, v := range u {
			c.I64[i] = int64(v)
		}
	default:
		panic(fmt.Sprintf("train: cannot checkpoint a %s tensor", t.DType()))
	}
	if c.Dims == nil {
		c.Dims = []int{}
	}
	return c
}

// restore replaces the run's tensors by those of a checkpoint, checking names, shapes and dtypes.
func (s *Stepper) restore(ts []checkpoint.Tensor) error {
	want := s.snapshot()
	if len(ts) != len(want) {
		return fmt.Errorf("checkpoint holds %d tensors, this model needs %d", len(ts), len(want))
	}
	for i, t := range ts {
		w := want[i]
		if t.Name != w.Name || !reflect.DeepEqual(normDims(t.Dims), normDims(w.Dims)) ||
			(t.F32 == nil) != (w.F32 == nil) || (t.F64 == nil) != (w.F64 == nil) || (t.I64 == nil) != (w.I64 == nil) {
			return fmt.Errorf("checkpoint tensor %d is %s %v, this model needs %s %v", i, t.Name, t.Dims, w.Name, w.Dims)
		}
	}
	np, ns := len(s.Params), len(s.State)
	for i, t := range ts {
		v := fromCkpt(t)
		switch {
		case i < np:
			s.Params[i] = v
		case i < np+ns:
			s.State[i-np] = v
		case i == np+ns:
			s.RNG = v
		default:
			s.probe.set(i-np-ns-1, v)
		}
	}
	s.replicas = nil // the other devices start again from these values
	return nil
}

// fromCkpt makes a tensor of a checkpoint's entry, in its dtype.
func fromCkpt(t checkpoint.Tensor) *tensors.Tensor {
	switch {
	case t.F32 != nil:
		return tensors.FromFlatDataAndDimensions(t.F32, t.Dims...)
	case t.F64 != nil:
		return tensors.FromFlatDataAndDimensions(t.F64, t.Dims...)
	}
	u := make([]uint64, len(t.I64))
	for j, x := range t.I64 {
		u[j] = uint64(x)
	}
	return tensors.FromFlatDataAndDimensions(u, t.Dims...)
}

// checkpointParams returns the parameters of a checkpoint (its leading "param/" entries, as snapshot writes
// them), checked against the names and shapes of m's parameters and the dtype dt: what evaluating, exporting
// or embedding a run needs, without its optimiser state or a training step.
func checkpointParams(m models.Model, dt dtypes.DType, ts []checkpoint.Tensor) ([]*tensors.Tensor, error) {
	specs := m.Params()
	if len(ts) < len(specs) {
		return nil, fmt.Errorf("checkpoint holds %d tensors, this model has %d parameters", len(ts), len(specs))
	}
	var out []*tensors.Tensor
	for i, p := range specs {
		t := ts[i]
		if t.Name != "param/"+p.Name || !reflect.DeepEqual(normDims(t.Dims), normDims(p.Dims)) ||
			(t.F32 != nil) != (dt == dtypes.Float32) || (t.F64 != nil) != (dt == dtypes.Float64) {
			return nil, fmt.Errorf("checkpoint tensor %d is %s %v, this model needs param/%s %v in %s", i, t.Name, t.Dims, p.Name, p.Dims, dt)
		}
		out = append(out, fromCkpt(t))
	}
	return out, nil
}

func normDims(d []int) []int {
	if len(d) == 0 {
		return nil
	}
	return d
}

// saveCheckpoint writes ckpt-<step>.ckpt atomically into dir and keeps only the newest keep checkpoints of
// this run (meta.RunID, read from each file's header only): a checkpoint of another run, or one whose header
// does not read back, is never removed.
func saveCheckpoint(dir string, st *Stepper, meta ckptMeta, keep int) error {
	if err := checkpoint.Write(filepath.Join(dir, ckptName(meta.Step)), meta, st.snapshot()); err != nil {
		return err
	}
	paths, _ := filepath.Glob(filepath.Join(dir, ckptPrefix+"*"+ckptSuffix))
	sort.Strings(paths)
	var ours []string
	for _, p := range paths {
		var m ckptMeta
		if err := checkpoint.ReadMeta(p, &m); err == nil && m.RunID == meta.RunID {
			ours = append(ours, p)
		}
	}
	for len(ours) > keep {
		os.Remove(ours[0])
		ours = ours[1:]
	}
	return nil
}

// errNoCheckpoint means a resume directory holds no usable checkpoint.
var errNoCheckpoint = errors.New("no usable checkpoint")

// latestCheckpoint returns the newest checkpoint of dir that reads back whole (checksum included) and belongs
// to the run runID ("": any run, for folders written before runs had identities); a torn or corrupted newer
// one is reported on log and passed over. A readable checkpoint of another run is an error: the folder mixes
// runs, and neither its config nor its checkpoints can be trusted to describe the other.
func latestCheckpoint(dir, runID string, log io.Writer) (ckptMeta, []checkpoint.Tensor, string, error) {
	paths, _ := filepath.Glob(filepath.Join(dir, ckptPrefix+"*"+ckptSuffix))
	sort.Sort(sort.Reverse(sort.StringSlice(paths)))
	for _, p := range paths {
		var m ckptMeta
		ts, err := checkpoint.Read(p, &m)
		if err != nil {
			fmt.Fprintf(log, "warning: skipping %v; trying an older checkpoint\n", err)
			continue
		}
		if runID != "" && m.RunID != runID {
			return ckptMeta{}, nil, "", usagef("%s: its checkpoints and its config.json disagree: %s belongs to run %q, the folder's config.json to run %q; "+
				"the folder mixes two runs: move the other run's checkpoints away", dir, filepath.Base(p), m.RunID, runID)
		}
		return m, ts, p, nil
	}
	return ckptMeta{}, nil, "", fmt.Errorf("train: %s: %w (looked for %s*%s); start the run again there with --overwrite (instead of --resume), or choose another --out-dir",
		dir, errNoCheckpoint, ckptPrefix, ckptSuffix)
}

// harmless lists the settings a resumed run may change: they alter neither the model, the data, nor the
// order of computation of the steps already taken.
var harmless = map[string]bool{"steps": true, "log-every": true, "eval-every": true, "eval": true,
	"checkpoint-every": true, "keep-checkpoints": true, "on-nan": true, "backend": true, "devices": true, "out-dir": true, "resume": true}

// configDiff lists the settings that differ between a and b, except the harmless ones, as "--name: a → b".
func configDiff(a, b Config) []string {
	var diffs []string
	a.LRSchedule, b.LRSchedule = a.resolveOptim().LRSchedule, b.resolveOptim().LRSchedule
	a.Method, b.Method = a.resolveMethod().Method, b.resolveMethod().Method // "" (before --method) is simclr
	if a.resolveMethod().method().HasTarget() && a.Steps != b.Steps {       // τ_k's cosine runs over --steps
		diffs = append(diffs, fmt.Sprintf("--steps: %d → %d (the target network's τ schedule of --method %s depends on it)", a.Steps, b.Steps, a.Method))
	} else if a.LRSchedule != optim.Constant || a.Warmup > 0 {
		// The schedule's factors depend on the total number of steps (and a warm-up longer than the
		// finished run would change steps already taken): --steps must stay as it was.
		if a.Steps != b.Steps {
			diffs = append(diffs, fmt.Sprintf("--steps: %d → %d (the --lr-schedule %s / --warmup-steps %d depend on it)", a.Steps, b.Steps, a.LRSchedule, a.Warmup))
		}
	}
	a, b = a.dataDefaults(), b.dataDefaults()
	va, vb, t := reflect.ValueOf(a), reflect.ValueOf(b), reflect.TypeOf(a)
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "-" || harmless[name] {
			continue
		}
		if x, y := va.Field(i).Interface(), vb.Field(i).Interface(); !reflect.DeepEqual(x, y) {
			diffs = append(diffs, fmt.Sprintf("--%s: %v → %v", name, x, y))
		}
	}
	return diffs
}

// dataDefaults gives --stream and --split their defaults where a checkpoint written before they existed has
// none.
func (c Config) dataDefaults() Config {
	d := Defaults()
	if c.Stream == "" {
		c.Stream = d.Stream
	}
	if c.Split == "" {
		c.Split = d.Split
	}
	return c
}

// truncateMetrics keeps the header and the rows of metrics.csv before step, and the row of step itself if
// regular(step) (a row written only because a run ended or was interrupted there is dropped), so that a
// resumed run rewrites exactly what an uninterrupted run writes after its checkpoint.
func truncateMetrics(path string, step int, regular func(int) bool) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("train: resume: %w", err)
	}
	var keep []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if len(keep) > 0 {
			first, _, _ := strings.Cut(line, ",")
			if n, err := strconv.Atoi(first); err != nil || n > step || (n == step && !regular(n)) {
				break
			}
		}
		keep = append(keep, line)
	}
	f.Close()
	return checkpoint.WriteFileAtomic(path, []byte(strings.Join(keep, "\n")+"\n"))
}

package train

import (
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/checkpoint"
)

// Summary is what Run returns.
type Summary struct {
	FinalLoss   float64
	InitialLoss float64
	Steps       int
	Seconds     float64
	OnlineAcc   float64     // the online probe's accuracy on the last step's batch; NaN without the probe
	DataWait    float64     // seconds the steps of this sitting waited for their batches (Loop.DataWait)
	Eval        *EvalReport // nil when evaluation was off or impossible
}

// InterruptedError reports a run stopped by SIGINT or SIGTERM after writing a checkpoint.
type InterruptedError struct {
	Signal os.Signal
	Step   int
	Dir    string
}

func (e InterruptedError) Error() string {
	return fmt.Sprintf("interrupted by %v after step %d; checkpoint written. Resume with: simclr train --resume %s", e.Signal, e.Step, e.Dir)
}

// NaNError reports a step whose loss or gradient was not finite, under --on-nan stop.
type NaNError struct {
	Step           int
	LastCheckpoint string // "" if none was written yet
}

func (e NaNError) Error() string {
	last := "none was written yet"
	if e.LastCheckpoint != "" {
		last = e.LastCheckpoint + " (its parameters are finite)"
	}
	return fmt.Sprintf("loss or gradient is NaN/Inf at step %d; stopped (--on-nan stop). Last good checkpoint: %s. Lower --lr, or use --on-nan skip", e.Step, last)
}

// Run trains as c says, writing into c.OutDir; log receives progress. A UsageError means a bad setting, an
// InterruptedError a signal, a NaNError a non-finite step.
func Run(c Config, log io.Writer) (sum Summary, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("train: internal error: %v\n%s", r, debug.Stack())
		}
	}()
	s, err := Open(c)
	if err != nil {
		return sum, err
	}
	r, err := startSession(s, log)
	if err != nil {
		return sum, err
	}
	defer r.close()
	loop := Loop{Stepper: r.st, First: r.first, Last: s.Config.Steps, Batch: r.batch, Schedule: s.Config.Schedule().Factor,
		After: r.after, DataWait: &r.dataWait}
	if r.st.probe != nil {
		loop.Labels = r.labels
	}
	if err := loop.Run(); err != nil {
		return r.sum, err
	}
	return r.finish()
}

func harmlessList() string {
	var names []string
	for k := range harmless {
		names = append(names, "--"+k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// checkFinite refuses to checkpoint parameters that are not all finite.
func checkFinite(st *Stepper) error {
	specs := st.ParamSpecs()
	for i, v := range st.ParamValues() {
		for j, x := range v {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return fmt.Errorf("train: parameter %s[%d] is %g: refusing to write it to a checkpoint", specs[i].Name, j, x)
			}
		}
	}
	return nil
}

func countParams(ps []arch.Param) int {
	n := 0
	for _, p := range ps {
		n += p.Size()
	}
	return n
}

// saveParams writes the final parameters (float64 values, Model.Params() names) to path.
func saveParams(path string, st *Stepper, step int) error {
	specs := st.ParamSpecs()
	var ts []checkpoint.Tensor
	for i, v := range st.ParamValues() {
		ts = append(ts, checkpoint.Tensor{Name: specs[i].Name, Dims: specs[i].Dims, F64: v})
	}
	return checkpoint.Write(path, map[string]int{"step": step}, ts)
}

// commit is the revision stamped at link time: go build -ldflags "-X github.com/gosimclr/gosimclr/train.commit=REV"
// (scripts/build.sh does it). It wins over everything else, because GOFLAGS=-buildvcs=false and go run leave
// the binary without VCS settings.
var commit string

// GitCommit returns the revision the binary was built from: the link-time stamp (see commit), else the VCS
// revision Go stamped in the binary (with "-dirty" for a modified tree), else `git describe --always --dirty`
// of the working directory (right for go run in the repository, which is how that case arises), else "unknown".
func GitCommit() string {
	if commit != "" {
		return commit
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return rev
		}
	}
	if out, err := exec.Command("git", "describe", "--always", "--dirty", "--abbrev=7").Output(); err == nil {
		return strings.TrimSpace(string(out))
	}
	return "unknown"
}

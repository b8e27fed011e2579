package train

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/ref"
)

// MetricsHeader is the header of metrics.csv.
const MetricsHeader = "step,loss,alignment,uniformity,seconds,loss_align,loss_unif,effective_rank"

type metricsWriter struct {
	f *os.File
	w *bufio.Writer
}

func newMetricsWriter(path string) (*metricsWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m := &metricsWriter{f: f, w: bufio.NewWriter(f)}
	fmt.Fprintln(m.w, MetricsHeader)
	return m, nil
}

// fmtFloat prints the shortest representation that round-trips, so equal runs give equal bytes.
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func (m *metricsWriter) Write(step int, r StepResult, seconds float64) error {
	z := flat64(r.Z)
	erank := ref.EffectiveRank(z, r.Z.Shape().Dimensions[0], r.Z.Shape().Dimensions[1])
	_, err := fmt.Fprintf(m.w, "%d,%s,%s,%s,%.3f,%s,%s,%s\n", step, fmtFloat(r.Loss), fmtFloat(r.Alignment),
		fmtFloat(r.Uniformity), seconds, fmtFloat(r.LossAlign), fmtFloat(r.LossUnif), fmtFloat(erank))
	if err == nil {
		err = m.w.Flush() // a crash loses at most the current row
	}
	if err != nil {
		return fmt.Errorf("train: metrics.csv: %w", err)
	}
	return nil
}

func (m *metricsWriter) Close() error {
	if m.f == nil {
		return nil
	}
	err := m.w.Flush()
	if cerr := m.f.Close(); err == nil {
		err = cerr
	}
	m.f = nil
	return err
}

// writeEmbedding writes the latents of every (unaugmented) example as CSV: index,label,z0,…,z{k−1}.
func writeEmbedding(path string, b compute.Backend, st *Stepper, pts datasets.Points, model string, dt dtypes.DType) error {
	all := make([]int, pts.N)
	for i := range all {
		all[i] = i
	}
	x := batchTensor(model, pts, all, dt)
	embed, err := graph.NewExec(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
		return []*graph.Node{st.Model.Forward(in[1:], in[0], false).Z}
	})
	if err != nil {
		return err
	}
	args := []any{x}
	for _, p := range st.Params {
		args = append(args, p)
	}
	outs, err := embed.Call(args...)
	if err != nil {
		return fmt.Errorf("train: embedding: %w", err)
	}
	z := flat64(outs[0])
	k := len(z) / pts.N
	var sb strings.Builder
	sb.WriteString("index,label")
	for j := range k {
		fmt.Fprintf(&sb, ",z%d", j)
	}
	sb.WriteByte('\n')
	for i := range pts.N {
		fmt.Fprintf(&sb, "%d,%d", i, pts.Labels[i])
		for j := range k {
			sb.WriteString("," + fmtFloat(z[i*k+j]))
		}
		sb.WriteByte('\n')
	}
	return checkpoint.WriteFileAtomic(path, []byte(sb.String()))
}

// progress shows a one-line bar on a terminal, and plain lines otherwise.
type progress struct {
	w     io.Writer
	total int
	tty   bool
}

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, total: total}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(step int, loss, seconds float64) {
	rate := float64(step) / max(seconds, 1e-9)
	eta := float64(p.total-step) / max(rate, 1e-9)
	if !p.tty {
		fmt.Fprintf(p.w, "step %d/%d loss %.6f (%.1f steps/s, eta %.0fs)\n", step, p.total, loss, rate, eta)
		return
	}
	const width = 30
	done := width * step / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d loss %.5f %.1f it/s eta %.0fs ", strings.Repeat("=", done),
		strings.Repeat(" ", width-done), step, p.total, loss, rate, eta)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

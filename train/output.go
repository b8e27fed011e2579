package train

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/gosimclr/gosimclr/checkpoint"
	"github.com/gosimclr/gosimclr/internal/hostmath"
)

// MetricsHeader is the header of metrics.csv. lr is the learning rate of the step (schedule included), epoch
// the passes over the training set so far (step·N/examples), images_per_s the training examples per second
// since the previous row (the time of the periodic kNN left out). seconds and images_per_s are the only columns that depend on timing.
const MetricsHeader = "step,loss,alignment,uniformity,seconds,loss_align,loss_unif,effective_rank,lr,epoch,images_per_s"

// timingColumns are the 0-based indices of MetricsHeader's timing columns.
var timingColumns = []int{4, 10}

type metricsWriter struct {
	f     *os.File
	w     *bufio.Writer
	extra int
	// For lr, epoch and images_per_s: the learning rate at a step, the pairs per step, the examples, and the
	// previous row's step and seconds.
	lr                func(step int) float64
	batch, examples   int
	lastStep, lastSec float64 // lastSec in training seconds: seconds less evalSec
	evalSec           float64 // seconds of this sitting spent on the periodic kNN, which is not training
}

// newMetricsWriter creates path with MetricsHeader plus the extra column names, or appends to it.
func newMetricsWriter(path string, extra []string, appendRows bool) (*metricsWriter, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if appendRows {
		flags = os.O_WRONLY | os.O_APPEND
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: %w", err)
	}
	m := &metricsWriter{f: f, w: bufio.NewWriter(f), extra: len(extra)}
	if !appendRows {
		fmt.Fprintln(m.w, strings.Join(append([]string{MetricsHeader}, extra...), ","))
	}
	return m, nil
}

// fmtFloat prints the shortest representation that round-trips, so equal runs give equal bytes.
func fmtFloat(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

// Write appends one row; a negative extra value is written as an empty field (not measured at this step).
func (m *metricsWriter) Write(step int, r StepResult, seconds float64, extra []float64) error {
	z := flat64(r.Z)
	erank := hostmath.EffectiveRank(z, r.Z.Shape().Dimensions[0], r.Z.Shape().Dimensions[1])
	lr, epoch, ips := 0.0, 0.0, 0.0
	if m.lr != nil {
		lr = m.lr(step)
	}
	if m.examples > 0 {
		epoch = float64(step) * float64(m.batch) / float64(m.examples)
	}
	trained := seconds - m.evalSec
	if dt := trained - m.lastSec; dt > 0 {
		ips = (float64(step) - m.lastStep) * float64(m.batch) / dt
	}
	m.lastStep, m.lastSec = float64(step), trained
	fmt.Fprintf(m.w, "%d,%s,%s,%s,%.3f,%s,%s,%s,%s,%s,%.1f", step, fmtFloat(r.Loss), fmtFloat(r.Alignment),
		fmtFloat(r.Uniformity), seconds, fmtFloat(r.LossAlign), fmtFloat(r.LossUnif), fmtFloat(erank),
		fmtFloat(lr), strconv.FormatFloat(epoch, 'f', 4, 64), ips)
	for _, v := range extra {
		if v < 0 {
			m.w.WriteString(",")
		} else {
			m.w.WriteString("," + fmtFloat(v))
		}
	}
	_, err := m.w.WriteString("\n")
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
func writeEmbedding(path string, f *Featurizer, data *dataset) error {
	_, z, _, k, err := f.run(data)
	if err != nil {
		return err
	}
	var sb strings.Builder
	sb.WriteString("index,label")
	for j := range k {
		fmt.Fprintf(&sb, ",z%d", j)
	}
	sb.WriteByte('\n')
	for i := range data.n {
		fmt.Fprintf(&sb, "%d,%d", i, data.labels[i])
		for j := range k {
			sb.WriteString("," + strconv.FormatFloat(float64(z[i*k+j]), 'g', -1, 32))
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

// update shows a step's loss, the online probe's accuracy (unless NaN: no probe) and, if knn ≥ 0 (measured at
// this step), the kNN accuracy.
func (p *progress) update(step int, loss, seconds, knn, online float64) {
	rate := float64(step) / max(seconds, 1e-9)
	eta := float64(p.total-step) / max(rate, 1e-9)
	acc := ""
	if !math.IsNaN(online) {
		acc = fmt.Sprintf(" online %.4f", online)
	}
	if knn >= 0 {
		acc += fmt.Sprintf(" knn %.4f", knn)
	}
	if !p.tty {
		fmt.Fprintf(p.w, "step %d/%d loss %.6f%s (%.1f steps/s, eta %.0fs)\n", step, p.total, loss, acc, rate, eta)
		return
	}
	const width = 30
	done := width * step / p.total
	fmt.Fprintf(p.w, "\r[%s%s] %d/%d loss %.5f%s %.1f it/s eta %.0fs ", strings.Repeat("=", done),
		strings.Repeat(" ", width-done), step, p.total, loss, acc, rate, eta)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

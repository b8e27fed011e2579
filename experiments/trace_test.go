package experiments

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/internal/survival"
)

// The TestCommittedTrace… tests read each experiment's committed summary.md and the raw files beside it
// (results/<name>/), recompute from the raw files a sample of the numbers the summary prints, and check that
// they match to the printed precision. The raw CSV files hold 6 significant digits (table.add), so a number
// recomputed from them is known only to that rounding: each check allows half a unit of the last printed
// digit plus that rounding carried through the computation (its slack). Numbers the raw files cannot give
// (not stored, or finer than their 6 digits resolve) are skipped, each with a comment saying why. The tables
// and body sentences are required; the verdict sentences may be reworded between runs, so numbers found in
// them are checked where the wording is found and logged as not checked where it is not.
//
// Each test also changes, one at a time, a digit of every number it checked (in a copy of the summary) and
// requires the check to fail: a check that would pass a hand-edited number is itself an error.

// tok is a piece of a summary and the byte offset where it starts.
type tok struct {
	s   string
	off int
}

// printedNum is a number of a summary that a trace checked: where it is, how it was formatted ("" for a number
// compared as text) and the slack of the recomputed value.
type printedNum struct {
	off, end int
	verb     string
	slack    float64
}

// trace collects the checks of one summary.
type trace struct {
	sum        string
	problems   []string
	checked    []printedNum
	notChecked []string // numbers present but not checkable (logged)
}

func (tr *trace) failf(format string, args ...any) {
	tr.problems = append(tr.problems, fmt.Sprintf(format, args...))
}

// num checks that tk, printed with verb (%.4g, %.3f, %+.3f, %.2e, %d), is got to the printed precision:
// |got − printed| ≤ half a unit of the last printed digit + slack.
func (tr *trace) num(what string, tk tok, verb string, got, slack float64) {
	tr.checked = append(tr.checked, printedNum{tk.off, tk.off + len(tk.s), verb, slack})
	p, err := strconv.ParseFloat(tk.s, 64)
	if err != nil {
		tr.failf("%s: %q is not a number", what, tk.s)
		return
	}
	if math.IsNaN(got) || math.IsInf(got, 0) {
		tr.failf("%s: the summary says %s, the raw files give %v", what, tk.s, got)
		return
	}
	if formatNum(verb, got) == tk.s || math.Abs(got-p) <= ulpOf(verb, p)/2+slack+1e-12*math.Abs(p) {
		return
	}
	tr.failf("%s: the summary says %s, the raw files give %s (%.8g, slack %.2g)", what, tk.s, formatNum(verb, got), got, slack)
}

// count checks an integer.
func (tr *trace) count(what string, tk tok, got int) { tr.num(what, tk, "%d", float64(got), 0) }

// text checks that tk is exactly want; its digits count as checked numbers.
func (tr *trace) text(what string, tk tok, want string) {
	for _, n := range numberToks(tk) {
		tr.checked = append(tr.checked, printedNum{n.off, n.off + len(n.s), "", 0})
	}
	if tk.s != want {
		tr.failf("%s: the summary says %q, the raw files give %q", what, tk.s, want)
	}
}

// pm checks a "mean ± std" cell (meanPM: %.4g ± %.2g) against xs, each known to ±e.
func (tr *trace) pm(what string, cell tok, xs []float64, e float64) {
	ns := numberToks(cell)
	if len(ns) != 2 || !strings.Contains(cell.s, " ± ") {
		tr.failf("%s: %q is not mean ± std", what, cell.s)
		return
	}
	m, s := meanStd(xs)
	n := float64(len(xs))
	tr.num(what+" (mean)", ns[0], "%.4g", m, e)
	tr.num(what+" (std)", ns[1], "%.2g", s, e*math.Sqrt(n/(n-1)))
}

// msd checks two number tokens "mean ± SD" printed with verb against xs, each known to ±e.
func (tr *trace) msd(what string, mean, sd tok, verb string, xs []float64, e float64) {
	m, s := meanStd(xs)
	n := float64(len(xs))
	tr.num(what+" (mean)", mean, verb, m, e)
	tr.num(what+" (SD)", sd, verb, s, e*math.Sqrt(n/(n-1)))
}

// rangeCell checks a rangeOf cell, "mean [min, max]" (or the one value), printed with verb, against xs known to ±e.
func (tr *trace) rangeCell(what string, cell tok, verb string, xs []float64, e float64) {
	ns := numberToks(cell)
	if len(xs) == 1 {
		if len(ns) != 1 {
			tr.failf("%s: %q is not one value", what, cell.s)
			return
		}
		tr.num(what, ns[0], verb, xs[0], e)
		return
	}
	if len(ns) != 3 || !strings.Contains(cell.s, "[") {
		tr.failf("%s: %q is not mean [min, max]", what, cell.s)
		return
	}
	m, _ := meanStd(xs)
	tr.num(what+" (mean)", ns[0], verb, m, e)
	tr.num(what+" (min)", ns[1], verb, slices.Min(xs), e)
	tr.num(what+" (max)", ns[2], verb, slices.Max(xs), e)
}

// formatNum formats x as verb would ("%d": the nearest integer).
func formatNum(verb string, x float64) string {
	if verb == "%d" {
		return strconv.FormatInt(int64(math.Round(x)), 10)
	}
	return fmt.Sprintf(verb, x)
}

// decExp is the decimal exponent of x (x = m·10^e, 1 ≤ |m| < 10), exactly; 0 for 0.
func decExp(x float64) int {
	if x == 0 || math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	s := strconv.FormatFloat(x, 'e', -1, 64)
	e, _ := strconv.Atoi(s[strings.IndexByte(s, 'e')+1:])
	return e
}

// ulpOf is the unit of the last digit of p printed with verb: %d, %.Nf, %+.Nf, %.Ne, %.Ng.
func ulpOf(verb string, p float64) float64 {
	if verb == "%d" {
		return 1
	}
	dot := strings.IndexByte(verb, '.')
	n, err := strconv.Atoi(verb[dot+1 : len(verb)-1])
	if dot < 0 || err != nil {
		panic("trace: verb " + verb)
	}
	switch verb[len(verb)-1] {
	case 'f':
		return math.Pow(10, -float64(n))
	case 'e':
		return math.Pow(10, float64(decExp(p)-n))
	case 'g':
		if p == 0 {
			return math.Pow(10, -float64(n))
		}
		return math.Pow(10, float64(decExp(p)-n+1))
	}
	panic("trace: verb " + verb)
}

// csvErr bounds the rounding of x as a raw CSV holds it: half a unit of its 6th significant digit.
func csvErr(x float64) float64 {
	if x == 0 {
		return 0
	}
	return 0.5 * math.Pow(10, float64(decExp(x)-5))
}

// maxErr is the largest csvErr of xs.
func maxErr(xs ...float64) float64 {
	var e float64
	for _, x := range xs {
		e = max(e, csvErr(x))
	}
	return e
}

var numberRe = regexp.MustCompile(`[-+]?\d+(?:\.\d+)?(?:e[-+]\d+)?`)

// numberToks returns the numbers in tk.
func numberToks(tk tok) []tok {
	var out []tok
	for _, m := range numberRe.FindAllStringIndex(tk.s, -1) {
		out = append(out, tok{tk.s[m[0]:m[1]], tk.off + m[0]})
	}
	return out
}

// mdTable returns the cells of the body rows of the first markdown table after the text after whose header
// line starts with header, or nil.
func mdTable(sum, after, header string) [][]tok {
	from := strings.Index(sum, after)
	if from < 0 {
		return nil
	}
	i := strings.Index(sum[from:], "\n"+header)
	if i < 0 {
		return nil
	}
	pos := from + i + 1
	var rows [][]tok
	for n := 0; pos < len(sum); n++ {
		end := strings.IndexByte(sum[pos:], '\n')
		if end < 0 {
			end = len(sum) - pos
		}
		line := sum[pos : pos+end]
		if !strings.HasPrefix(line, "|") {
			break
		}
		if n >= 2 { // header and separator first
			var row []tok
			bars := []int{}
			for j := 0; j < len(line); j++ {
				if line[j] == '|' {
					bars = append(bars, j)
				}
			}
			for k := 0; k+1 < len(bars); k++ {
				raw := line[bars[k]+1 : bars[k+1]]
				lead := len(raw) - len(strings.TrimLeft(raw, " "))
				row = append(row, tok{strings.TrimSpace(raw), pos + bars[k] + 1 + lead})
			}
			rows = append(rows, row)
		}
		pos += end + 1
	}
	return rows
}

// findAll returns the submatches (1…) of every match of re in sum.
func findAll(sum string, re *regexp.Regexp) [][]tok {
	var out [][]tok
	for _, m := range re.FindAllStringSubmatchIndex(sum, -1) {
		var g []tok
		for k := 2; k < len(m); k += 2 {
			if m[k] < 0 {
				g = append(g, tok{"", -1})
				continue
			}
			g = append(g, tok{sum[m[k]:m[k+1]], m[k]})
		}
		out = append(out, g)
	}
	return out
}

// num is a pattern fragment for one printed number.
const num = `([-+]?\d+(?:\.\d+)?(?:e[-+]\d+)?)`

// csvTable is a raw CSV file: its header's columns and its rows.
type csvTable struct {
	col  map[string]int
	rows [][]string
}

func loadCSVTable(t *testing.T, path string) *csvTable {
	t.Helper()
	rows := readCSV(t, path)
	if len(rows) < 2 {
		t.Fatalf("%s: no rows", path)
	}
	c := &csvTable{col: map[string]int{}, rows: rows[1:]}
	for i, h := range rows[0] {
		c.col[h] = i
	}
	return c
}

func (c *csvTable) s(row []string, name string) string {
	i, ok := c.col[name]
	if !ok {
		panic("trace: no column " + name)
	}
	return row[i]
}

// f is the column as a number (NaN where empty or not a number).
func (c *csvTable) f(row []string, name string) float64 {
	v, err := strconv.ParseFloat(c.s(row, name), 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

func (c *csvTable) i(row []string, name string) int {
	v, err := strconv.Atoi(c.s(row, name))
	if err != nil {
		return math.MinInt
	}
	return v
}

// groupRows splits rows into runs by the columns keys, in order of first appearance.
func (c *csvTable) groupRows(keys ...string) ([]string, map[string][][]string) {
	var order []string
	g := map[string][][]string{}
	for _, r := range c.rows {
		var k []string
		for _, n := range keys {
			k = append(k, c.s(r, n))
		}
		key := strings.Join(k, "|")
		if _, ok := g[key]; !ok {
			order = append(order, key)
		}
		g[key] = append(g[key], r)
	}
	return order, g
}

// mutateDigit changes one digit of the number p of sum by 5 units: the least significant digit whose change
// exceeds what p's check tolerates, so that a correct check must notice it.
func mutateDigit(sum string, p printedNum) (string, bool) {
	s := sum[p.off:p.end]
	mant, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mant = s[:i]
		exp, _ = strconv.Atoi(s[i+1:])
	}
	dot := strings.IndexByte(mant, '.')
	if dot < 0 {
		dot = len(mant)
	}
	need := 0.0
	if p.verb != "" {
		v, _ := strconv.ParseFloat(s, 64)
		need = ulpOf(p.verb, v) + 2*p.slack
	}
	for j := len(mant) - 1; j >= 0; j-- {
		c := mant[j]
		if c < '0' || c > '9' {
			continue
		}
		pow := dot - j - 1
		if j > dot {
			pow = dot - j
		}
		if 5*math.Pow(10, float64(pow+exp)) > need*(1+1e-9) {
			b := []byte(sum)
			b[p.off+j] = '0' + (c-'0'+5)%10
			return string(b), true
		}
	}
	return sum, false
}

// runTrace reads dir/summary.md (skipping the test where there is none), runs check on it, reports its
// problems, then requires check to fail on every one-digit edit of a number it checked.
func runTrace(t *testing.T, dir string, check func(sum string) *trace) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.md"))
	if err != nil {
		t.Skip("no committed summary:", err)
	}
	sum := string(b)
	tr := check(sum)
	for _, p := range tr.problems {
		t.Error(p)
	}
	for _, n := range tr.notChecked {
		t.Log("not checked:", n)
	}
	t.Logf("%d numbers checked against the raw files", len(tr.checked))
	if len(tr.checked) == 0 {
		t.Error("no number checked")
	}
	if t.Failed() {
		return
	}
	missed := 0
	for _, p := range tr.checked {
		mut, ok := mutateDigit(sum, p)
		if !ok {
			t.Errorf("%q at byte %d: no one-digit change its check would notice (slack %.2g)", sum[p.off:p.end], p.off, p.slack)
			continue
		}
		if len(check(mut).problems) == 0 {
			if missed++; missed <= 10 {
				t.Errorf("changing %q to %q at byte %d went unnoticed", sum[p.off:p.end], mut[p.off:p.end], p.off)
			}
		}
	}
	if missed > 10 {
		t.Errorf("… %d edits unnoticed in all", missed)
	}
}

// readSettings reads the settings of dir/config.json into s.
func readSettings(t *testing.T, dir string, s any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &struct {
		Settings any `json:"settings"`
	}{s}); err != nil {
		t.Fatal(err)
	}
}

// ---- ntk ----

// TestCommittedTraceNTK: the drift table (mean ± std over seeds of the last logged step of drift.csv), the
// log-log slopes, the locality table (locality.csv), the 6(c) table (correlations, errors and sign counts from
// velocity.csv and pairs.csv) and, where the verdict words them so, its totals and medians.
func TestCommittedTraceNTK(t *testing.T) {
	const dir = "../results/ntk"
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Skip("no committed ntk run:", err)
	}
	drift := loadCSVTable(t, filepath.Join(dir, "drift.csv"))
	loc := loadCSVTable(t, filepath.Join(dir, "locality.csv"))
	vel := loadCSVTable(t, filepath.Join(dir, "velocity.csv"))
	pairs := loadCSVTable(t, filepath.Join(dir, "pairs.csv"))
	runTrace(t, dir, func(sum string) *trace { return traceNTK(sum, drift, loc, vel, pairs) })
}

// ntkDriftSeed is one seed of one cell of drift.csv: its first and last logged rows.
type ntkDriftSeed struct{ first, last []string }

var (
	ntkSlopeRe = regexp.MustCompile(`Log-log slope of D from m = (\d+) to m = (\d+) \(means\): ntk ` + num + `, mean-field ` + num + `;`)
	ntkLocRe   = regexp.MustCompile(`Kernel locality against depth \(ntk scaling, m = (\d+), n = (\d+) seeds\)`)
	ntkVerd12  = regexp.MustCompile(`at m = (\d+) it is ` + num + ` vs ` + num + ` \(n = (\d+) seeds\)`)
	ntkVerd3   = regexp.MustCompile(`From L = (\d+) to L = (\d+) the kernel's within-cluster share goes ` + num + ` → ` + num +
		` at init and ` + num + ` → ` + num + ` after training, its self share ` + num + ` → ` + num + ` and ` + num + ` → ` + num + ` \(n = (\d+)\)`)
	ntkVerd6a = regexp.MustCompile(`Over (\d+) pair-steps \(all cells, init and final, (\d+) seeds\), the block matrix predicts which ` +
		`cluster pairs attract or repel in (\d+) \(own blocks only: (\d+); particles: (\d+); full kernel: (\d+)\)`)
	ntkVerd6b = regexp.MustCompile(`median r = ` + num + ` over (\d+) cell-times \(own: ` + num + `, particles: ` + num + `\)`)
)

func traceNTK(sum string, drift, loc, vel, pairs *csvTable) *trace {
	tr := &trace{sum: sum}
	// drift.csv: per cell (scaling, depth, width), per seed, the rows of step 0 and of the last logged step.
	cells := map[string]map[string]*ntkDriftSeed{}
	var seedsSeen []string
	for _, r := range drift.rows {
		k := drift.s(r, "scaling") + "|" + drift.s(r, "depth") + "|" + drift.s(r, "width")
		if cells[k] == nil {
			cells[k] = map[string]*ntkDriftSeed{}
		}
		sd := drift.s(r, "seed")
		if !slices.Contains(seedsSeen, sd) {
			seedsSeen = append(seedsSeen, sd)
		}
		if cells[k][sd] == nil {
			cells[k][sd] = &ntkDriftSeed{first: r}
		}
		cells[k][sd].last = r
	}
	seedList := func(k string) []*ntkDriftSeed {
		var out []*ntkDriftSeed
		for _, sd := range seedsSeen {
			if s := cells[k][sd]; s != nil {
				out = append(out, s)
			}
		}
		return out
	}
	lastD := func(k string) ([]float64, float64) {
		var xs []float64
		for _, s := range seedList(k) {
			xs = append(xs, drift.f(s.last, "scale_free_drift"))
		}
		return xs, maxErr(xs...)
	}
	rows := mdTable(sum, "### 1–2.", "| scaling | m | lr | D |")
	if rows == nil {
		tr.failf("ntk: drift table not found")
	}
	widths := map[string][]int{}
	for _, row := range rows {
		if len(row) != 9 {
			tr.failf("ntk drift table: row %v has %d cells", row, len(row))
			continue
		}
		k := row[0].s + "|1|" + row[1].s
		ss := seedList(k)
		if len(ss) == 0 {
			tr.failf("ntk drift table: %s m=%s is not in drift.csv", row[0].s, row[1].s)
			continue
		}
		w, _ := strconv.Atoi(row[1].s)
		widths[row[0].s] = append(widths[row[0].s], w)
		what := fmt.Sprintf("ntk drift %s m=%s", row[0].s, row[1].s)
		lr := drift.f(ss[0].first, "lr")
		tr.num(what+" lr", row[2], "%.4g", lr, csvErr(lr))
		var d, a, rho, g0, g1, rel []float64
		var eRho, eRel float64
		for _, s := range ss {
			dl, al := drift.f(s.last, "scale_free_drift"), drift.f(s.last, "alignment")
			n0, n1 := drift.f(s.first, "theta_norm"), drift.f(s.last, "theta_norm")
			p := n1 / n0
			ep := p * (csvErr(n0)/n0 + csvErr(n1)/n1)
			d, a, rho = append(d, dl), append(a, al), append(rho, p)
			g0, g1 = append(g0, drift.f(s.first, "out_norm")), append(g1, drift.f(s.last, "out_norm"))
			// ‖Θ_t − Θ_0‖/‖Θ_0‖ = √(ρ² + 1 − 2ρA) (relDrift) = √((ρ − 1)² + ρD²) since D² = 2 − 2A: from D, whose 6 digits
			// resolve it where A's (0.99999…) do not.
			q := (p-1)*(p-1) + p*dl*dl
			rq := math.Sqrt(q)
			rel = append(rel, rq)
			eRho = max(eRho, ep)
			eRel = max(eRel, (math.Abs(2*(p-1)+dl*dl)*ep+2*p*dl*csvErr(dl))/(2*rq))
			// The alignment column must agree with D (D² = 2 − 2A) to the CSV's rounding.
			if diff := math.Abs(al - (1 - dl*dl/2)); diff > csvErr(al)+dl*csvErr(dl)+1e-12 {
				tr.failf("%s: drift.csv's alignment %g and D %g disagree (1 − D²/2 = %.8g)", what, al, dl, 1-dl*dl/2)
			}
		}
		tr.pm(what+" D", row[3], d, maxErr(d...))
		tr.pm(what+" A", row[4], a, maxErr(a...))
		tr.pm(what+" ‖Θ_t‖/‖Θ_0‖", row[5], rho, eRho)
		tr.pm(what+" ‖g‖ at init", row[6], g0, maxErr(g0...))
		tr.pm(what+" ‖g‖ final", row[7], g1, maxErr(g1...))
		tr.pm(what+" ‖Θ_t − Θ_0‖/‖Θ_0‖", row[8], rel, eRel)
	}
	if m := findAll(sum, ntkSlopeRe); len(m) != 1 {
		tr.failf("ntk: the slope sentence not found")
	} else {
		if ws := widths["ntk"]; len(ws) > 0 {
			tr.count("ntk slope: first width", m[0][0], slices.Min(ws))
			tr.count("ntk slope: last width", m[0][1], slices.Max(ws))
		}
		for i, s := range []string{"ntk", "mean-field"} {
			ws := widths[s]
			if len(ws) == 0 {
				tr.failf("ntk slope: no %s rows", s)
				continue
			}
			a, ea := lastD(fmt.Sprintf("%s|1|%d", s, slices.Min(ws)))
			b, eb := lastD(fmt.Sprintf("%s|1|%d", s, slices.Max(ws)))
			ma, _ := meanStd(a)
			mb, _ := meanStd(b)
			lr := math.Log(float64(slices.Max(ws)) / float64(slices.Min(ws)))
			tr.num("ntk slope "+s, m[0][2+i], "%.2f", math.Log(mb/ma)/lr, (ea/ma+eb/mb)/lr)
		}
	}
	// Verdict (1–2): the drift at the largest width, both scalings.
	if m := findAll(sum, ntkVerd12); len(m) == 1 {
		for i, s := range []string{"ntk", "mean-field"} {
			xs, e := lastD(s + "|1|" + m[0][0].s)
			mean, _ := meanStd(xs)
			tr.num("ntk verdict: D at the largest width, "+s, m[0][1+i], "%.3g", mean, e)
		}
		tr.count("ntk verdict: seeds", m[0][3], len(seedsSeen))
	} else {
		tr.notChecked = append(tr.notChecked, "ntk verdict (1–2): wording not found")
	}

	// locality.csv
	locOf := map[string][][3]float64{} // depth|width|when → per seed (within, self, ratio)
	for _, r := range loc.rows {
		if loc.s(r, "scaling") != "ntk" {
			continue
		}
		k := loc.s(r, "depth") + "|" + loc.s(r, "width") + "|" + loc.s(r, "when")
		locOf[k] = append(locOf[k], [3]float64{loc.f(r, "within"), loc.f(r, "self"), loc.f(r, "ratio")})
	}
	locMean := func(depth, width, when string, j int) ([]float64, float64) {
		var xs []float64
		for _, v := range locOf[depth+"|"+width+"|"+when] {
			xs = append(xs, v[j])
		}
		return xs, maxErr(xs...)
	}
	lm := findAll(sum, ntkLocRe)
	if len(lm) != 1 {
		tr.failf("ntk: the locality heading not found")
		return tr
	}
	width := lm[0][0].s
	rows = mdTable(sum, "### 3.", "| L | Within init |")
	if rows == nil {
		tr.failf("ntk: locality table not found")
	}
	for _, row := range rows {
		if len(row) != 7 {
			tr.failf("ntk locality: row has %d cells", len(row))
			continue
		}
		if n := len(locOf[row[0].s+"|"+width+"|init"]); n == 0 {
			tr.failf("ntk locality: L=%s m=%s not in locality.csv", row[0].s, width)
			continue
		} else {
			tr.count("ntk locality heading: seeds", lm[0][1], n)
		}
		for j, name := range []string{"within", "self", "ratio"} {
			for w, when := range []string{"init", "final"} {
				xs, e := locMean(row[0].s, width, when, j)
				tr.pm(fmt.Sprintf("ntk locality L=%s %s %s", row[0].s, name, when), row[1+2*j+w], xs, e)
			}
		}
	}
	if m := findAll(sum, ntkVerd3); len(m) == 1 {
		l0, l1 := m[0][0].s, m[0][1].s
		g := m[0][2:]
		for i, c := range []struct {
			depth, when string
			j           int
		}{{l0, "init", 0}, {l1, "init", 0}, {l0, "final", 0}, {l1, "final", 0}, {l0, "init", 1}, {l1, "init", 1}, {l0, "final", 1}, {l1, "final", 1}} {
			xs, e := locMean(c.depth, width, c.when, c.j)
			mean, _ := meanStd(xs)
			tr.num(fmt.Sprintf("ntk verdict (3): L=%s %s share %s", c.depth, []string{"within", "self"}[c.j], c.when), g[i], "%.3f", mean, e)
		}
	} else {
		tr.notChecked = append(tr.notChecked, "ntk verdict (3): wording not found")
	}

	// velocity.csv and pairs.csv: 6(c), per cell and time, pooled over seeds.
	preds := []string{"full", "block", "own", "particle"}
	vOrder, vg := vel.groupRows("scaling", "depth", "width", "when")
	_, pg := pairs.groupRows("scaling", "depth", "width", "when")
	type cell6 struct {
		r    [4]float64 // by preds
		errs [4][]float64
		eErr [4]float64
		ag   [4]int
		np   int
	}
	c6 := map[string]*cell6{}
	for _, k := range vOrder {
		c := &cell6{}
		bySeed := map[string][][]string{}
		var seeds []string
		for _, r := range vg[k] {
			sd := vel.s(r, "seed")
			if _, ok := bySeed[sd]; !ok {
				seeds = append(seeds, sd)
			}
			bySeed[sd] = append(bySeed[sd], r)
		}
		var meas []float64
		var pred [4][]float64
		for _, sd := range seeds {
			var m []float64
			var em []float64
			var p [4][]float64
			var ep [4][]float64
			for _, r := range bySeed[sd] {
				m, em = append(m, vel.f(r, "measured")), append(em, csvErr(vel.f(r, "measured")))
				for i, name := range preds {
					p[i], ep[i] = append(p[i], vel.f(r, name)), append(ep[i], csvErr(vel.f(r, name)))
				}
			}
			meas = append(meas, m...)
			for i := range preds {
				pred[i] = append(pred[i], p[i]...)
				re := relErr(p[i], m)
				c.errs[i] = append(c.errs[i], re)
				// ‖pred − meas‖/‖meas‖ moves by at most (‖e_pred + e_meas‖ + relErr·‖e_meas‖)/‖meas‖.
				sumE := make([]float64, len(m))
				for q := range m {
					sumE[q] = ep[i][q] + em[q]
				}
				c.eErr[i] = max(c.eErr[i], (frob(sumE)+re*frob(em))/frob(m))
			}
		}
		for i := range preds {
			c.r[i] = pearson(pred[i], meas)
		}
		// pairs: sign agreement of the predicted and measured separation rates (signs survive the CSV's rounding).
		pb := map[string][][]string{}
		var ps []string
		for _, r := range pg[k] {
			sd := pairs.s(r, "seed")
			if _, ok := pb[sd]; !ok {
				ps = append(ps, sd)
			}
			pb[sd] = append(pb[sd], r)
		}
		for _, sd := range ps {
			var m []float64
			var p [4][]float64
			for _, r := range pb[sd] {
				m = append(m, pairs.f(r, "measured"))
				for i, name := range preds {
					p[i] = append(p[i], pairs.f(r, name))
				}
			}
			for i := range preds {
				c.ag[i] += signAgree(p[i], m)
			}
			c.np += len(m)
		}
		c6[k] = c
	}
	rows = mdTable(sum, "### 4.", "| scaling | L | m | when | r block |")
	if rows == nil {
		tr.failf("ntk: 6(c) table not found")
	}
	if len(rows) != len(vOrder) {
		tr.failf("ntk 6(c): %d rows in the summary, %d cell-times in velocity.csv", len(rows), len(vOrder))
	}
	const rSlack = 1e-5 // a correlation moves far less than this under relative changes of 5e-7 of its inputs
	for _, row := range rows {
		if len(row) != 14 {
			tr.failf("ntk 6(c): row has %d cells", len(row))
			continue
		}
		k := row[0].s + "|" + row[1].s + "|" + row[2].s + "|" + row[3].s
		c := c6[k]
		if c == nil {
			tr.failf("ntk 6(c): %s not in velocity.csv", k)
			continue
		}
		what := "ntk 6(c) " + k
		for j, i := range []int{1, 2, 3} {
			tr.num(what+" r "+preds[i], row[4+j], "%.3f", c.r[i], rSlack)
		}
		tr.pm(what+" error block", row[7], c.errs[1], c.eErr[1])
		tr.pm(what+" error own", row[8], c.errs[2], c.eErr[2])
		// error full Θ: the full linearisation matches the measured step to 1e-3 relative or better, finer than the 6
		// digits of velocity.csv resolve to 4 digits: a mean or std is checked to the CSV's resolution where that is
		// within 10% of it, and skipped (logged) where it is not.
		if ns := numberToks(row[9]); len(ns) == 2 {
			m, s := meanStd(c.errs[0])
			n := float64(len(c.errs[0]))
			for q, v := range []struct {
				verb      string
				val, slck float64
			}{{"%.4g", m, c.eErr[0]}, {"%.2g", s, c.eErr[0] * math.Sqrt(n/(n-1))}} {
				if v.slck <= 0.1*math.Abs(v.val) {
					tr.num(what+" error full Θ", ns[q], v.verb, v.val, v.slck)
				} else {
					tr.notChecked = append(tr.notChecked, fmt.Sprintf("%s error full Θ %s: below the CSV's resolution (slack %.2g)", what, ns[q].s, v.slck))
				}
			}
		} else {
			tr.failf("%s error full Θ: %q is not mean ± std", what, row[9].s)
		}
		for j, i := range []int{1, 2, 3, 0} {
			ns := numberToks(row[10+j])
			if len(ns) != 2 {
				tr.failf("%s signs: %q", what, row[10+j].s)
				continue
			}
			tr.count(what+" signs "+preds[i], ns[0], c.ag[i])
			tr.count(what+" pairs", ns[1], c.np)
		}
	}
	var total int
	var agree [4]int
	var corr [4][]float64
	for _, k := range vOrder {
		c := c6[k]
		total += c.np
		for i := range preds {
			agree[i] += c.ag[i]
			corr[i] = append(corr[i], c.r[i])
		}
	}
	med := func(x []float64) float64 { x = slices.Clone(x); slices.Sort(x); return x[len(x)/2] }
	if m := findAll(sum, ntkVerd6a); len(m) == 1 {
		tr.count("ntk verdict (6c): pair-steps", m[0][0], total)
		tr.count("ntk verdict (6c): seeds", m[0][1], len(seedsSeen))
		for j, i := range []int{1, 2, 3, 0} {
			tr.count("ntk verdict (6c): signs "+preds[i], m[0][2+j], agree[i])
		}
	} else {
		tr.notChecked = append(tr.notChecked, "ntk verdict (6c) sign totals: wording not found")
	}
	if m := findAll(sum, ntkVerd6b); len(m) == 1 {
		tr.num("ntk verdict (6c): median r block", m[0][0], "%.3f", med(corr[1]), rSlack)
		tr.count("ntk verdict (6c): cell-times", m[0][1], len(corr[1]))
		tr.num("ntk verdict (6c): median r own", m[0][2], "%.3f", med(corr[2]), rSlack)
		tr.num("ntk verdict (6c): median r particle", m[0][3], "%.3f", med(corr[3]), rSlack)
	} else {
		tr.notChecked = append(tr.notChecked, "ntk verdict (6c) medians: wording not found")
	}
	return tr
}

// ---- particle-vs-network ----

// TestCommittedTraceParticleVsNetwork: persistence (recomputed from timeseries.csv under the committed rule, and
// persistence.csv agrees) gives both KM tables and the verdict's KM estimates; the last logged rows of
// timeseries.csv give the end-of-run table; the loss gaps and silhouettes of timeseries.csv give the
// equal-gap table, the regular N-gon's loss and the verdict's paired differences.
func TestCommittedTraceParticleVsNetwork(t *testing.T) {
	const dir = "../results/particle-vs-network"
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Skip("no committed particle-vs-network run:", err)
	}
	var c ParticleVsNetworkConfig
	readSettings(t, dir, &c)
	ts := loadCSVTable(t, filepath.Join(dir, "timeseries.csv"))
	ps := loadCSVTable(t, filepath.Join(dir, "persistence.csv"))
	d, err := pointData(c.Clusters, c.PerCluster, c.Radius, c.Scale, c.FirstSeed)
	if err != nil {
		t.Fatal(err)
	}
	// The threshold is a setting (a closed form of the labels), not a result: it is what the run used.
	thr := SilThreshold(d.Labels, d.K, 2)
	runTrace(t, dir, func(sum string) *trace { return tracePVN(sum, c, thr, ts, ps) })
}

// pvnCSVRun is one run of timeseries.csv.
type pvnCSVRun struct {
	method, seed string
	steps        []int
	gap, sil     []float64
	rows         [][]string
}

var (
	pvnLminRe = regexp.MustCompile(`loss gap = loss − loss of the regular N-gon, ` + num + `;`)
	pvnGapRe  = regexp.MustCompile(`At equal loss gap \(` + num + ` to ` + num + `\) its silhouette minus the particles', paired by seed, ` +
		`was positive in (\d+) of (\d+) \(seed, level\) pairs: mean ` + num + `, range \[` + num + `, ` + num + `\]`)
	pvnKMRe = regexp.MustCompile(`\(([^()]*) vs ([^()]*) steps, n = (\d+) and (\d+);`)
)

func tracePVN(sum string, c ParticleVsNetworkConfig, thr float64, ts, ps *csvTable) *trace {
	tr := &trace{sum: sum}
	order, g := ts.groupRows("method", "seed")
	var methods []string
	byMethod := map[string][]*pvnCSVRun{}
	for _, k := range order {
		rs := g[k]
		r := &pvnCSVRun{method: ts.s(rs[0], "method"), seed: ts.s(rs[0], "seed"), rows: rs}
		for _, row := range rs {
			r.steps = append(r.steps, ts.i(row, "step"))
			r.gap, r.sil = append(r.gap, ts.f(row, "loss_gap")), append(r.sil, ts.f(row, "silhouette"))
		}
		if !slices.Contains(methods, r.method) {
			methods = append(methods, r.method)
		}
		byMethod[r.method] = append(byMethod[r.method], r)
	}
	// Persistence from the series, checked against persistence.csv.
	psRow := map[string][]string{}
	for _, r := range ps.rows {
		psRow[ps.s(r, "method")+"|"+ps.s(r, "seed")] = r
	}
	sil, prb := map[string]*persistGroup{}, map[string]*persistGroup{}
	for _, m := range methods {
		sil[m], prb[m] = &persistGroup{}, &persistGroup{}
		for _, r := range byMethod[m] {
			last := r.steps[len(r.steps)-1]
			diverged := last < c.Steps // a diverged run's series stops where it stopped being finite
			var probe []float64
			for _, row := range r.rows {
				probe = append(probe, ts.f(row, "probe_acc"))
			}
			o, ns := persistenceOf(r.steps, r.sil, thr, c.Window, last)
			op, np := persistenceOf(r.steps, probe, probeThreshold, c.Window, last)
			sil[m].add(o, ns, diverged)
			prb[m].add(op, np, diverged)
			pr := psRow[m+"|"+r.seed]
			if pr == nil {
				tr.failf("pvn: %s seed %s not in persistence.csv", m, r.seed)
				continue
			}
			for _, x := range []struct {
				col, want string
			}{{"silhouette_persistence", fmt.Sprint(o.Time)}, {"silhouette_event", fmt.Sprint(o.Event)},
				{"silhouette_never_visible", fmt.Sprint(ns)}, {"probe_persistence", fmt.Sprint(op.Time)},
				{"probe_event", fmt.Sprint(op.Event)}, {"probe_never_visible", fmt.Sprint(np)}, {"diverged", fmt.Sprint(diverged)}} {
				if got := ps.s(pr, x.col); got != x.want {
					tr.failf("pvn %s seed %s: persistence.csv %s = %s, timeseries.csv gives %s", m, r.seed, x.col, got, x.want)
				}
			}
			for _, x := range []struct {
				col string
				v   float64
			}{{"final_silhouette", r.sil[len(r.sil)-1]}, {"final_loss_gap", r.gap[len(r.gap)-1]}} {
				if got := ps.f(pr, x.col); got != x.v {
					tr.failf("pvn %s seed %s: persistence.csv %s = %g, timeseries.csv's last row %g", m, r.seed, x.col, got, x.v)
				}
			}
		}
	}
	for _, tb := range []struct {
		after  string
		groups map[string]*persistGroup
	}{{"Silhouette persistence (primary):", sil}, {"Probe persistence (secondary", prb}} {
		rows := mdTable(sum, tb.after, "| setting | runs |")
		if len(rows) != len(methods) {
			tr.failf("pvn: %q table has %d rows, want %d", tb.after, len(rows), len(methods))
		}
		for _, row := range rows {
			gr := tb.groups[row[0].s]
			if gr == nil || len(row) != len(kmHeader) {
				tr.failf("pvn %s: row %q", tb.after, row[0].s)
				continue
			}
			want := kmRow(row[0].s, *gr)
			for j := 1; j < len(row); j++ {
				tr.text(fmt.Sprintf("pvn %s %s %s", tb.after, row[0].s, kmHeader[j]), row[j], want[j])
			}
		}
	}
	// The regular N-gon's loss: loss − loss_gap of every row.
	if m := findAll(sum, pvnLminRe); len(m) == 1 {
		r0 := ts.rows[0]
		l, gp := ts.f(r0, "loss"), ts.f(r0, "loss_gap")
		tr.num("pvn loss of the regular N-gon", m[0][0], "%.4f", l-gp, csvErr(l)+csvErr(gp))
	} else {
		tr.failf("pvn: the loss of the regular N-gon not found")
	}
	// the K-point configuration's gap (0.0438…) is a closed form (lossOfKPoints), in no raw file: not checked.
	rows := mdTable(sum, "At the last step", "| method | n | loss gap |")
	if len(rows) != len(methods) {
		tr.failf("pvn: end-of-run table has %d rows, want %d", len(rows), len(methods))
	}
	for _, row := range rows {
		rs := byMethod[row[0].s]
		if rs == nil || len(row) != 6 {
			tr.failf("pvn end-of-run: row %q", row[0].s)
			continue
		}
		tr.count("pvn end-of-run "+row[0].s+" n", row[1], len(rs))
		for j, col := range []struct{ name, verb string }{{"loss_gap", "%.3g"}, {"silhouette", "%.3f"}, {"probe_acc", "%.3f"}, {"out_norm", "%.3g"}} {
			var xs []float64
			for _, r := range rs {
				xs = append(xs, ts.f(r.rows[len(r.rows)-1], col.name))
			}
			tr.rangeCell("pvn end-of-run "+row[0].s+" "+col.name, row[2+j], col.verb, xs, maxErr(xs...))
		}
	}
	// Equal-gap comparison (gapComparison) from the series' gaps and silhouettes.
	hi, lo := math.Inf(1), 0.0
	var eHi, eLo float64
	for _, m := range methods {
		for _, r := range byMethod[m] {
			top, bottom := slices.Max(r.gap), slices.Min(r.gap)
			if top < hi {
				hi, eHi = top, csvErr(top)
			}
			if b := max(bottom, 1e-9); b > lo {
				lo, eLo = b, csvErr(b)
			}
		}
	}
	if !(lo < hi) {
		tr.failf("pvn: the runs share no range of gaps")
		return tr
	}
	const levels = 6 // gapComparison's gapLevels
	var lv, eLv []float64
	for i := range levels {
		f := float64(i) / float64(levels-1)
		v := hi * math.Pow(lo/hi, f)
		lv, eLv = append(lv, v), append(eLv, v*((1-f)*eHi/hi+f*eLo/lo))
	}
	// silAt is silAtGap on a run of the CSV, with a bound on the error the CSV's rounding (of the gaps, the
	// silhouettes and the level eg) carries into it.
	silAt := func(r *pvnCSVRun, lev, eg float64) (float64, float64) {
		for i, gi := range r.gap {
			if gi > lev {
				continue
			}
			if i == 0 || gi <= 0 {
				return r.sil[i], csvErr(r.sil[i])
			}
			p := r.gap[i-1]
			den := math.Log(p / gi)
			w := math.Log(p/lev) / den
			dw := ((1-w)*csvErr(p)/p + w*csvErr(gi)/gi + eg/lev) / den
			v := r.sil[i-1] + w*(r.sil[i]-r.sil[i-1])
			return v, maxErr(r.sil[i-1], r.sil[i]) + math.Abs(r.sil[i]-r.sil[i-1])*dw
		}
		return math.NaN(), 0
	}
	rows = mdTable(sum, "Silhouette at equal loss gap", "| loss gap |")
	if len(rows) != levels {
		tr.failf("pvn: equal-gap table has %d rows, want %d", len(rows), levels)
	}
	for li, row := range rows {
		if li >= levels || len(row) != 1+len(methods) {
			tr.failf("pvn equal-gap: row %d has %d cells", li, len(row))
			continue
		}
		tr.num(fmt.Sprintf("pvn equal-gap level %d", li), row[0], "%.3g", lv[li], eLv[li])
		for mi, m := range methods {
			var xs []float64
			var e float64
			for _, r := range byMethod[m] {
				v, ev := silAt(r, lv[li], eLv[li])
				xs, e = append(xs, v), max(e, ev)
			}
			tr.rangeCell(fmt.Sprintf("pvn equal-gap level %d %s", li, m), row[1+mi], "%.3f", xs, e)
		}
	}
	// Verdict: per network, the paired differences from the particles at equal gap, and the KM estimates.
	gm := findAll(sum, pvnGapRe)
	if len(gm) == len(methods)-1 {
		for i, m := range methods[1:] {
			var pos, total int
			var mean float64
			lo2, hi2 := math.Inf(1), math.Inf(-1)
			var e float64
			unsure := 0 // differences within their rounding of 0 (not 0 itself: equal silhouettes of one start)
			for _, r := range byMethod[m] {
				pi := slices.IndexFunc(byMethod[methods[0]], func(p *pvnCSVRun) bool { return p.seed == r.seed })
				if pi < 0 {
					continue
				}
				for li := range lv {
					a, ea := silAt(r, lv[li], eLv[li])
					b, eb := silAt(byMethod[methods[0]][pi], lv[li], eLv[li])
					d := a - b
					if math.IsNaN(d) {
						continue
					}
					total++
					if d > 0 {
						pos++
					}
					if d != 0 && math.Abs(d) <= ea+eb {
						unsure++
					}
					mean += d
					lo2, hi2, e = min(lo2, d), max(hi2, d), max(e, ea+eb)
				}
			}
			mean /= float64(total)
			w := "pvn verdict: " + m
			tr.num(w+" highest level", gm[i][0], "%.3g", hi, eHi)
			tr.num(w+" lowest level", gm[i][1], "%.3g", lo, eLo)
			if unsure == 0 {
				tr.count(w+" positive pairs", gm[i][2], pos)
			} else if p, _ := strconv.Atoi(gm[i][2].s); p < pos-unsure || p > pos+unsure {
				tr.failf("%s positive pairs: the summary says %s, the raw files give %d ± %d", w, gm[i][2].s, pos, unsure)
			}
			tr.count(w+" pairs", gm[i][3], total)
			tr.num(w+" mean difference", gm[i][4], "%+.3f", mean, e)
			tr.num(w+" smallest difference", gm[i][5], "%+.3f", lo2, e)
			tr.num(w+" largest difference", gm[i][6], "%+.3f", hi2, e)
		}
	} else {
		tr.notChecked = append(tr.notChecked, "pvn verdict: equal-gap wording not found")
	}
	var comparable []string
	ep := sil[methods[0]].estimate()
	for _, m := range methods[1:] {
		if sil[m].estimate().N >= 2 && ep.N >= 2 {
			comparable = append(comparable, m)
		}
	}
	if km := findAll(sum, pvnKMRe); len(km) == len(comparable) {
		for i, m := range comparable {
			ea := sil[m].estimate()
			tr.text("pvn verdict KM "+m, km[i][0], ea.String())
			tr.text("pvn verdict KM particles", km[i][1], ep.String())
			tr.count("pvn verdict KM n "+m, km[i][2], ea.N)
			tr.count("pvn verdict KM n particles", km[i][3], ep.N)
		}
	} else {
		tr.notChecked = append(tr.notChecked, "pvn verdict: KM wording not found")
	}
	return tr
}

// ---- authors-1d ----

// TestCommittedTraceAuthors1D: the per-seed table (onset, whether formed at the end, first loss, the
// three-group and four-label metrics at step 0 and at the end) and the onset and across-seed sentence, from
// timeseries.csv.
func TestCommittedTraceAuthors1D(t *testing.T) {
	const dir = "../results/authors-1d"
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Skip("no committed authors-1d run:", err)
	}
	var c Authors1DConfig
	readSettings(t, dir, &c)
	ts := loadCSVTable(t, filepath.Join(dir, "timeseries.csv"))
	runTrace(t, dir, func(sum string) *trace { return traceAuthors1D(sum, c, ts) })
}

var a1dSentenceRe = regexp.MustCompile(`formed in (\d+) of (\d+) seeds by step (\d+) \(onsets \[([^\]]*)\]; censored seeds: > (\d+)\); ` +
	`median onset ([^.]+)\. Still formed at step (\d+) in (\d+) of (\d+)\. Across seeds \(mean ± SD, n = (\d+)\): silhouette₃ ` +
	num + ` ± ` + num + ` at step 0, ` + num + ` ± ` + num + ` at step (\d+); overlap₃ at step (\d+) ` + num + ` ± ` + num + `;`)

func traceAuthors1D(sum string, c Authors1DConfig, ts *csvTable) *trace {
	tr := &trace{sum: sum}
	order, g := ts.groupRows("seed")
	type a1dRun struct {
		first, last  []string
		onset, lost  int
		formedAtEnd  bool
		seed, nSteps string
	}
	runs := map[string]*a1dRun{}
	for _, sd := range order {
		rs := g[sd]
		r := &a1dRun{first: rs[0], last: rs[len(rs)-1], onset: -1, lost: -1, seed: sd}
		for _, row := range rs {
			f := ts.s(row, "formed_3") == "true"
			// formed_3 is the criterion on silhouette_3 and overlap_3 (formed3): the columns must agree, except
			// within the CSV's rounding of the threshold.
			s3, o3 := ts.f(row, "silhouette_3"), ts.f(row, "overlap_3")
			if crit := s3 >= sil3Threshold && o3 <= overlapThreshold; crit != f &&
				math.Abs(s3-sil3Threshold) > csvErr(s3) && math.Abs(o3-overlapThreshold) > csvErr(o3) {
				tr.failf("authors-1d seed %s step %s: formed_3 %v, but silhouette_3 %g and overlap_3 %g", sd, ts.s(row, "step"), f, s3, o3)
			}
			step := ts.i(row, "step")
			if f && r.onset < 0 {
				r.onset = step
			} else if !f && r.onset >= 0 && r.lost < 0 {
				r.lost = step
			}
		}
		r.formedAtEnd = ts.s(r.last, "formed_3") == "true"
		runs[sd] = r
	}
	rows := mdTable(sum, "", "| seed | points | onset (step) |")
	if len(rows) != len(order) {
		tr.failf("authors-1d: table has %d rows, timeseries.csv %d seeds", len(rows), len(order))
	}
	for _, row := range rows {
		r := runs[row[0].s]
		if r == nil || len(row) != 13 {
			tr.failf("authors-1d: row %q", row[0].s)
			continue
		}
		w := "authors-1d seed " + r.seed
		// points: not in timeseries.csv; the run's size is config.json's per-disk × 4 disks.
		tr.count(w+" points", row[1], 4*min(c.PerDisk, 400))
		on := fmt.Sprintf("> %d (censored)", c.Steps)
		if r.onset >= 0 {
			on = fmt.Sprint(r.onset)
		}
		tr.text(w+" onset", row[2], on)
		tr.text(w+" holds at end", row[3], fmt.Sprint(r.formedAtEnd))
		tr.text(w+" first lost", row[4], stepOrNever(r.lost))
		if ns := numberToks(row[5]); len(ns) == 2 {
			s0, s1 := ts.f(r.first, "silhouette_3"), ts.f(r.last, "silhouette_3")
			tr.num(w+" silhouette₃ at 0", ns[0], "%.4f", s0, csvErr(s0))
			tr.num(w+" silhouette₃ at end", ns[1], "%.4f", s1, csvErr(s1))
		} else {
			tr.failf("%s silhouette₃: %q", w, row[5].s)
		}
		for j, col := range []string{"overlap_3", "gap_3", "probe_3", "silhouette_4", "probe_4"} {
			v := ts.f(r.last, col)
			tr.num(w+" "+col+" at end", row[6+j], "%.4f", v, csvErr(v))
		}
		// Cohen's d of labels 0 and 3 (row[11]) needs the codes of every point: timeseries.csv holds only the label
		// means. The last column scores u = x₁ − x₂ of the data, in no raw file. Neither is checked.
	}
	m := findAll(sum, a1dSentenceRe)
	if len(m) != 1 {
		tr.failf("authors-1d: the onset sentence not found")
		return tr
	}
	s := m[0]
	formed, held := 0, 0
	var onsets []float64
	var list []string
	var sil0, silEnd, ovEnd []float64
	for _, sd := range order {
		r := runs[sd]
		if r.onset >= 0 {
			formed++
			onsets = append(onsets, float64(r.onset))
		} else {
			onsets = append(onsets, math.Inf(1))
		}
		if r.formedAtEnd {
			held++
		}
		list = append(list, fmt.Sprintf("seed %s: %s", sd, stepOrNever(r.onset)))
		sil0, silEnd = append(sil0, ts.f(r.first, "silhouette_3")), append(silEnd, ts.f(r.last, "silhouette_3"))
		ovEnd = append(ovEnd, ts.f(r.last, "overlap_3"))
	}
	n := len(order)
	slices.Sort(onsets)
	median := fmt.Sprintf("> %d (censored)", c.Steps)
	if md := onsets[(n-1)/2]; !math.IsInf(md, 1) {
		median = fmt.Sprint(md)
	}
	tr.count("authors-1d formed", s[0], formed)
	tr.count("authors-1d seeds", s[1], n)
	tr.count("authors-1d by step", s[2], c.Steps)
	tr.text("authors-1d onsets", s[3], strings.Join(list, ", "))
	tr.count("authors-1d censored at", s[4], c.Steps)
	tr.text("authors-1d median onset", s[5], median)
	tr.count("authors-1d still formed at step", s[6], c.Steps)
	tr.count("authors-1d still formed", s[7], held)
	tr.count("authors-1d still formed, of", s[8], formed)
	tr.count("authors-1d n", s[9], n)
	tr.msd("authors-1d silhouette₃ at step 0", s[10], s[11], "%.3f", sil0, maxErr(sil0...))
	tr.msd("authors-1d silhouette₃ at the end", s[12], s[13], "%.3f", silEnd, maxErr(silEnd...))
	tr.count("authors-1d end step", s[14], c.Steps)
	tr.count("authors-1d overlap step", s[15], c.Steps)
	tr.msd("authors-1d overlap₃ at the end", s[16], s[17], "%.3f", ovEnd, maxErr(ovEnd...))
	// The sentence's Cohen's d needs every code (see above); the verdict repeats the sentence's numbers.
	return tr
}

// ---- mnist-012 ----

// TestCommittedTraceMNIST: the per-run table (divergence and collapse, silhouettes, probe, loss and code std,
// both persistence times), both KM tables and, where the verdict words them so, its counts and final probe
// accuracies, from timeseries.csv.
func TestCommittedTraceMNIST(t *testing.T) {
	const dir = "../results/mnist-012"
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Skip("no committed mnist-012 run:", err)
	}
	var c MNISTConfig
	readSettings(t, dir, &c)
	ts := loadCSVTable(t, filepath.Join(dir, "timeseries.csv"))
	var labels []int
	for d := range 3 {
		for range c.PerClass {
			labels = append(labels, d)
		}
	}
	// The threshold is a setting (halfway to the silhouette of evenly spaced codes in label blocks), not a result.
	thr := (1 + trivialSilhouette1D(labels, 3)) / 2
	runTrace(t, dir, func(sum string) *trace { return traceMNIST(sum, c, thr, ts) })
}

var mnistVerdictRe = regexp.MustCompile(`(\d+ hidden layers?) \(n = (\d+) seeds, lr [^)]*\): (\d+) diverged, (\d+) collapsed to one code; ` +
	`digit clusters visible in (\d+) of (\d+) runs[^;]*; final probe accuracy ` + num + ` \[` + num + `, ` + num + `\]`)

func traceMNIST(sum string, c MNISTConfig, thr float64, ts *csvTable) *trace {
	tr := &trace{sum: sum}
	type mRun struct {
		method, seed        string
		rows                [][]string
		diverged, collapsed bool
		sil, prb            survival.Obs
		silNever, prbNever  bool
	}
	order, g := ts.groupRows("method", "seed")
	runs := map[string]*mRun{}
	var methods []string
	for _, k := range order {
		rs := g[k]
		r := &mRun{method: ts.s(rs[0], "method"), seed: ts.s(rs[0], "seed"), rows: rs}
		var steps []int
		var ss, ps []float64
		for _, row := range rs {
			steps = append(steps, ts.i(row, "step"))
			ss, ps = append(ss, ts.f(row, "silhouette")), append(ps, ts.f(row, "probe_acc"))
		}
		last := steps[len(steps)-1]
		r.diverged = last < c.Steps // a diverged run's series stops where it stopped being finite
		if !r.diverged {
			last = c.Steps
		}
		r.collapsed = !r.diverged && ts.f(rs[len(rs)-1], "code_std") < collapseStd*math.Sqrt(c.Temperature)
		r.sil, r.silNever = persistenceOf(steps, ss, thr, c.Window, last)
		r.prb, r.prbNever = persistenceOf(steps, ps, probeThreshold, c.Window, last)
		runs[k] = r
		if !slices.Contains(methods, r.method) {
			methods = append(methods, r.method)
		}
	}
	rows := mdTable(sum, "Every run", "| network | seed | diverged |")
	if len(rows) != len(order) {
		tr.failf("mnist: per-run table has %d rows, timeseries.csv %d runs", len(rows), len(order))
	}
	for _, row := range rows {
		if len(row) != 12 {
			tr.failf("mnist: row has %d cells", len(row))
			continue
		}
		r := runs[row[0].s+"|"+row[1].s]
		if r == nil {
			tr.failf("mnist: %s seed %s not in timeseries.csv", row[0].s, row[1].s)
			continue
		}
		w := "mnist " + row[0].s + " seed " + row[1].s
		tr.text(w+" diverged", row[2], yesNo(r.diverged))
		tr.text(w+" collapsed", row[3], yesNo(r.collapsed))
		first, last := r.rows[0], r.rows[len(r.rows)-1]
		s0 := ts.f(first, "silhouette")
		tr.num(w+" silhouette at 0", row[4], "%.4f", s0, csvErr(s0))
		best := 0
		for i, rr := range r.rows {
			if ts.f(rr, "silhouette") > ts.f(r.rows[best], "silhouette") {
				best = i
			}
		}
		if ns := numberToks(row[5]); len(ns) == 2 {
			v := ts.f(r.rows[best], "silhouette")
			tr.num(w+" max silhouette", ns[0], "%.4f", v, csvErr(v))
			tr.count(w+" step of the max silhouette", ns[1], ts.i(r.rows[best], "step"))
		} else {
			tr.failf("%s max silhouette: %q", w, row[5].s)
		}
		for j, col := range []string{"silhouette", "probe_acc", "loss"} {
			v := ts.f(last, col)
			tr.num(w+" "+col+" at last", row[6+j], "%.4f", v, csvErr(v))
		}
		sd := ts.f(last, "code_std")
		tr.num(w+" code std at last", row[9], "%.3g", sd, csvErr(sd))
		tr.text(w+" silhouette persistence", row[10], obsString(r.sil, r.silNever))
		tr.text(w+" probe persistence", row[11], obsString(r.prb, r.prbNever))
	}
	groups := map[string][2]*persistGroup{}
	for _, m := range methods {
		gs, gp := &persistGroup{}, &persistGroup{}
		for _, k := range order {
			if r := runs[k]; r.method == m {
				gs.add(r.sil, r.silNever, r.diverged)
				gp.add(r.prb, r.prbNever, r.diverged)
			}
		}
		groups[m] = [2]*persistGroup{gs, gp}
	}
	for i, after := range []string{"Silhouette persistence:", "Probe persistence"} {
		rows := mdTable(sum, after, "| setting | runs |")
		if len(rows) != len(methods) {
			tr.failf("mnist: %q table has %d rows, want %d", after, len(rows), len(methods))
		}
		for _, row := range rows {
			gr, ok := groups[row[0].s]
			if !ok || len(row) != len(kmHeader) {
				tr.failf("mnist %s: row %q", after, row[0].s)
				continue
			}
			want := kmRow(row[0].s, *gr[i])
			for j := 1; j < len(row); j++ {
				tr.text(fmt.Sprintf("mnist %s %s %s", after, row[0].s, kmHeader[j]), row[j], want[j])
			}
		}
	}
	vm := findAll(sum, mnistVerdictRe)
	if len(vm) != len(methods) {
		tr.notChecked = append(tr.notChecked, "mnist verdict: wording not found")
		return tr
	}
	for _, v := range vm {
		m := v[0].s
		var n, div, col, vis int
		var probes []float64
		for _, k := range order {
			r := runs[k]
			if r.method != m {
				continue
			}
			n++
			if r.diverged {
				div++
			}
			if r.collapsed {
				col++
			}
			if !r.silNever {
				vis++
			}
			probes = append(probes, ts.f(r.rows[len(r.rows)-1], "probe_acc"))
		}
		if n == 0 {
			tr.failf("mnist verdict: %q not in timeseries.csv", m)
			continue
		}
		w := "mnist verdict " + m
		tr.count(w+" seeds", v[1], n)
		tr.count(w+" diverged", v[2], div)
		tr.count(w+" collapsed", v[3], col)
		tr.count(w+" visible", v[4], vis)
		tr.count(w+" runs", v[5], n)
		e := maxErr(probes...)
		mean, _ := meanStd(probes)
		tr.num(w+" final probe (mean)", v[6], "%.3f", mean, e)
		tr.num(w+" final probe (min)", v[7], "%.3f", slices.Min(probes), e)
		tr.num(w+" final probe (max)", v[8], "%.3f", slices.Max(probes), e)
	}
	return tr
}

// ---- loss-landscape ----

// TestCommittedTraceLossLandscape: the worst gaps to the closed forms and the table of minima over
// configurations, every row of the all-rows table and, where the verdict words it so, the smallest cost of
// collapsing, from landscape.csv. landscape.csv holds 6 significant digits where the summary prints 6
// decimals (7 digits): the losses are checked to the CSV's precision.
func TestCommittedTraceLossLandscape(t *testing.T) {
	const dir = "../results/loss-landscape"
	if _, err := os.Stat(filepath.Join(dir, "summary.md")); err != nil {
		t.Skip("no committed loss-landscape run:", err)
	}
	ls := loadCSVTable(t, filepath.Join(dir, "landscape.csv"))
	runTrace(t, dir, func(sum string) *trace { return traceLandscape(sum, ls) })
}

var (
	lsWorstRe = regexp.MustCompile(`Worst \|population − L_unif\(k,τ\)\| over the uniform embeddings: ` + num +
		`; worst \|population − exact K-point sum\| over the collapsed embeddings: ` + num + `;`)
	// Both wordings the verdict has had: "costs between X (large τ) and more" and "costs between X (k = …, τ = …)
	// and Y (k = …, τ = …)".
	lsCollapseRe = regexp.MustCompile(`costs between ` + num + ` \((?:k = (\d+), τ = ([^)]+)|large τ)\)(?: and ` + num + ` \(k = (\d+), τ = ([^)]+)\))?`)
)

func traceLandscape(sum string, ls *csvTable) *trace {
	tr := &trace{sum: sum}
	// Worst gaps to the closed forms: abs_diff (6 digits; printed with 3).
	worst := map[string]float64{}
	for _, r := range ls.rows {
		cfg := ls.s(r, "config")
		if strings.HasPrefix(cfg, "uniform-") {
			cfg = "uniform"
		}
		if d := ls.f(r, "abs_diff"); !math.IsNaN(d) {
			worst[cfg] = max(worst[cfg], d)
		}
	}
	if m := findAll(sum, lsWorstRe); len(m) == 1 {
		tr.num("landscape worst uniform gap", m[0][0], "%.2e", worst["uniform"], csvErr(worst["uniform"]))
		tr.num("landscape worst K-point gap", m[0][1], "%.2e", worst["collapsed"], csvErr(worst["collapsed"]))
	} else {
		tr.failf("landscape: the worst-gap sentence not found")
	}
	// Not checked: the largest difference between the two data sets' minima (~1e-10) and the largest
	// |batch − correction − direct| (~1e-11) are differences of losses that landscape.csv holds to ~5e-6 only.

	// Minima over configurations per data set, k and τ; L_unif is the uniform rows' closed form.
	var datas []string
	type key struct{ k, tau string }
	mins := map[key][]float64{}
	unif := map[key]float64{}
	for _, r := range ls.rows {
		d := ls.s(r, "data")
		if !slices.Contains(datas, d) {
			datas = append(datas, d)
		}
	}
	for _, r := range ls.rows {
		kk := key{ls.s(r, "k"), ls.s(r, "temperature")}
		if mins[kk] == nil {
			mins[kk] = make([]float64, len(datas))
			for i := range mins[kk] {
				mins[kk][i] = math.Inf(1)
			}
		}
		di := slices.Index(datas, ls.s(r, "data"))
		mins[kk][di] = min(mins[kk][di], ls.f(r, "population"))
		if strings.HasPrefix(ls.s(r, "config"), "uniform-") {
			unif[kk] = ls.f(r, "closed_form")
		}
	}
	rows := mdTable(sum, "", "| k | τ | min over configs")
	if len(rows) != len(mins) {
		tr.failf("landscape: minima table has %d rows, landscape.csv %d (k, τ)", len(rows), len(mins))
	}
	for _, row := range rows {
		kk := key{row[0].s, row[1].s}
		if mins[kk] == nil || len(row) != 2+len(datas)+1 {
			tr.failf("landscape minima: row k=%s τ=%s", row[0].s, row[1].s)
			continue
		}
		for di := range datas {
			v := mins[kk][di]
			tr.num(fmt.Sprintf("landscape min k=%s τ=%s data %d", kk.k, kk.tau, di), row[2+di], "%.6f", v, csvErr(v))
		}
		v := unif[kk]
		tr.num(fmt.Sprintf("landscape L_unif k=%s τ=%s", kk.k, kk.tau), row[2+len(datas)], "%.6f", v, csvErr(v))
	}
	// Every row of the all-rows table, in the order of landscape.csv.
	rows = mdTable(sum, "All rows", "| data | k | τ | configuration |")
	if len(rows) != len(ls.rows) {
		tr.failf("landscape: all-rows table has %d rows, landscape.csv %d", len(rows), len(ls.rows))
	}
	for i, row := range rows {
		if i >= len(ls.rows) || len(row) != 8 {
			tr.failf("landscape all rows: row %d", i)
			continue
		}
		r := ls.rows[i]
		w := fmt.Sprintf("landscape row %d", i+1)
		tr.text(w+" data", row[0], strings.SplitN(ls.s(r, "data"), ":", 2)[0])
		tr.text(w+" k", row[1], ls.s(r, "k"))
		tr.text(w+" τ", row[2], ls.s(r, "temperature"))
		tr.text(w+" configuration", row[3], ls.s(r, "config"))
		b, p := ls.f(r, "batch_loss"), ls.f(r, "population")
		tr.num(w+" batch loss", row[4], "%.6f", b, csvErr(b))
		tr.num(w+" population", row[5], "%.6f", p, csvErr(p))
		if cf := ls.f(r, "closed_form"); math.IsNaN(cf) {
			tr.text(w+" closed form", row[6], "—")
			tr.text(w+" |diff|", row[7], "—")
		} else {
			if ns := numberToks(row[6]); len(ns) >= 1 && strings.HasSuffix(row[6].s, "("+ls.s(r, "closed_form_of")+")") {
				tr.num(w+" closed form", ns[0], "%.6f", cf, csvErr(cf))
			} else {
				tr.failf("%s closed form: %q, want the value and (%s)", w, row[6].s, ls.s(r, "closed_form_of"))
			}
			d := ls.f(r, "abs_diff")
			tr.num(w+" |diff|", row[7], "%.2e", d, csvErr(d))
		}
	}
	// Verdict: the smallest (and largest) cost of collapsing over uniform, population(collapsed) − L_unif, with
	// the k and τ where each is reached (to the CSV's precision).
	if m := findAll(sum, lsCollapseRe); len(m) == 1 {
		type ext struct {
			gap, e float64
			k, tau string
		}
		lo, hi := ext{gap: math.Inf(1)}, ext{gap: math.Inf(-1)}
		for _, r := range ls.rows {
			if ls.s(r, "config") != "collapsed" {
				continue
			}
			p, u := ls.f(r, "population"), unif[key{ls.s(r, "k"), ls.s(r, "temperature")}]
			x := ext{p - u, csvErr(p) + csvErr(u), ls.s(r, "k"), ls.s(r, "temperature")}
			if x.gap < lo.gap {
				lo = x
			}
			if x.gap > hi.gap {
				hi = x
			}
		}
		tr.num("landscape verdict: smallest cost of collapsing", m[0][0], "%.2e", lo.gap, lo.e)
		if m[0][1].off >= 0 {
			tr.text("landscape verdict: k of the smallest cost", m[0][1], lo.k)
			tr.text("landscape verdict: τ of the smallest cost", m[0][2], lo.tau)
		}
		if m[0][3].off >= 0 {
			tr.num("landscape verdict: largest cost of collapsing", m[0][3], "%.2e", hi.gap, hi.e)
			tr.text("landscape verdict: k of the largest cost", m[0][4], hi.k)
			tr.text("landscape verdict: τ of the largest cost", m[0][5], hi.tau)
		}
	} else {
		tr.notChecked = append(tr.notChecked, "landscape verdict: collapse cost wording not found")
	}
	return tr
}

package experiments

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Report assembles outDir/REPORT.md from the experiments' summary.json files already in outDir (each written by
// its experiment from its raw files), each rendered as its summary.md is (Summary.Render), in the order of
// Experiments, after outDir/preface.md if there is one. It runs nothing: experiments finish in different
// sittings, and the report states what each folder holds. A missing folder is listed as not run.
func Report(outDir string) error {
	var b strings.Builder
	b.WriteString("# Reproducing Calder & Lee (2025) and testing it on deeper and wider networks\n\n")
	b.WriteString("Assembled by `simclr experiment report` from each experiment's `summary.json`, which the experiment wrote " +
		"from the raw files beside it (CSV, JSON cells, config.json with its commit); each section is that summary rendered, " +
		"as its `summary.md` is. Every setting is ours unless a section cites the authors' code (`doc/paper.md` §6.2).\n\n")
	if pre, err := os.ReadFile(filepath.Join(outDir, "preface.md")); err == nil {
		b.Write(pre)
		b.WriteString("\n")
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	var missing []string
	for _, e := range Experiments {
		s, err := readSummary(filepath.Join(outDir, e.Name))
		if errors.Is(err, os.ErrNotExist) {
			missing = append(missing, e.Name)
			continue
		} else if err != nil {
			return err
		}
		sum, err := s.Render()
		if err != nil {
			return err
		}
		fmt.Fprintf(&b, "## %s\n\nFolder [`%s/`](%s/). Its numbers are recomputed from the raw files by `%s` (`go test ./experiments`).\n\n%s\n",
			e.Name, e.Name, e.Name, TraceTests[e.Name], demote(sum, e.Name))
	}
	if len(missing) > 0 {
		fmt.Fprintf(&b, "## Not run yet\n\n%s: no summary.json in their folders.\n", strings.Join(missing, ", "))
	}
	return os.WriteFile(filepath.Join(outDir, "REPORT.md"), []byte(b.String()), 0o644)
}

// TraceTests names, for each experiment, the test of this package that recomputes its summary's numbers from the raw
// files in its folder (TestTraceTestsExist checks that each exists).
var TraceTests = map[string]string{
	"loss-landscape": "TestCommittedTraceLossLandscape", "particle-vs-network": "TestCommittedTraceParticleVsNetwork",
	"depth-width": "TestCommittedTraceDepthWidth", "ntk": "TestCommittedTraceNTK", "mean-field": "TestCommittedTraceMeanField",
	"authors-1d": "TestCommittedTraceAuthors1D", "methods": "TestMethodsCells", "mnist-012": "TestCommittedTraceMNIST",
	"effective-step": "TestCommittedTraceEffectiveStep", "full-length": "TestCommittedTraceFullLength",
	"temperature": "TestCommittedTraceTemperature", "kernel": "TestCommittedTraceKernel", "unequal": "TestCommittedTraceUnequal",
}

var (
	heading = regexp.MustCompile(`(?m)^(#+) `)
	image   = regexp.MustCompile(`!\[([^\]]*)\]\(([^)/]+)\)`)
)

// demote nests a summary.md under the report's section of its experiment: headings one level deeper, the
// title as a bold line, and figure links relative to the report's folder.
func demote(s, dir string) string {
	title, rest, _ := strings.Cut(s, "\n")
	title = "**" + strings.TrimPrefix(title, "# ") + "**"
	rest = heading.ReplaceAllString(rest, "##$1 ")
	rest = image.ReplaceAllString(rest, "![$1]("+dir+"/$2)")
	return title + "\n" + rest
}

package train

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gosimclr/gosimclr/datasets"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/models"
)

// registryFiles are the only production files that may compare model and data-set names with literals.
var registryFiles = []string{"models/registry.go", "datasets/registry.go"}

// namesAllowed are literals that equal a registered name but belong to another namespace, by file.
var namesAllowed = map[string][]string{
	// Augmentation presets named after the data set they suit; augment.Preset is their registry.
	"datasets/augment/image_pipeline.go": {"stl10", "mnist"},
	// Benchmark workloads (bench/run.go's table), named after the model they time.
	"bench/peer.go": {"mlp", "cnn", "resnet18"},
}

// registeredNames maps every model and data-set name, and the prefix of a data set "x:PATH" ("x:"), to what
// it names.
func registeredNames() map[string]string {
	names := map[string]string{}
	for _, n := range models.Names {
		names[n] = "model"
	}
	for _, n := range datasets.Names {
		names[n] = "data set"
		if p, ok := strings.CutSuffix(n, "PATH"); ok {
			names[p] = "data set prefix"
		}
	}
	return names
}

// stringTests are the functions whose literal arguments compare a name (strings.HasPrefix(c.Data, "folder:")).
var stringTests = []string{"HasPrefix", "HasSuffix", "TrimPrefix", "TrimSuffix", "CutPrefix", "CutSuffix", "EqualFold", "Contains", "Index"}

// nameLiterals returns "file:line: how" for every string literal of the source that equals one of names and
// is used as a comparison: an operand of == or !=, a switch case, a map literal's key, a map index, or an
// argument of one of stringTests.
func nameLiterals(fset *token.FileSet, f *ast.File, names map[string]string) []string {
	var found []string
	check := func(e ast.Expr, context string) {
		lit, ok := ast.Unparen(e).(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return
		}
		v, err := strconv.Unquote(lit.Value)
		if what, ok := names[v]; err == nil && ok {
			found = append(found, fmt.Sprintf("%s: %s %q in %s", fset.Position(lit.Pos()), what, v, context))
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.BinaryExpr:
			if n.Op == token.EQL || n.Op == token.NEQ {
				check(n.X, n.Op.String())
				check(n.Y, n.Op.String())
			}
		case *ast.CaseClause:
			for _, e := range n.List {
				check(e, "a switch case")
			}
		case *ast.CompositeLit:
			if _, ok := n.Type.(*ast.MapType); ok {
				for _, e := range n.Elts {
					if kv, ok := e.(*ast.KeyValueExpr); ok {
						check(kv.Key, "a map key")
					}
				}
			}
		case *ast.IndexExpr:
			check(n.Index, "an index")
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok && slices.Contains(stringTests, sel.Sel.Name) {
				for _, a := range n.Args {
					check(a, sel.Sel.Name)
				}
			}
		}
		return true
	})
	return found
}

// moduleRoot is the folder of the nearest go.mod above the working directory.
func moduleRoot(t *testing.T) string {
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// TestNoNameLiterals: outside the registries (registryFiles), no production Go file of the module compares a
// model or data-set name to a string literal, so that adding a model or a data set is one registry entry. The
// names are read from the registries; namesAllowed lists the literals of other namespaces that coincide.
func TestNoNameLiterals(t *testing.T) {
	root := moduleRoot(t)
	names := registeredNames()
	fset := token.NewFileSet()
	files := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(rel, ".go") || strings.HasSuffix(rel, "_test.go") || slices.Contains(registryFiles, rel) {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		files++
		for _, v := range nameLiterals(fset, f, names) {
			if allowed := namesAllowed[rel]; slices.ContainsFunc(allowed, func(a string) bool { return strings.Contains(v, strconv.Quote(a)) }) {
				continue
			}
			t.Errorf("%s: compare with the registry's fields instead (models.Lookup, datasets.Lookup)", v)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if files < 50 {
		t.Errorf("scanned %d files under %s; the walk missed the module", files, root)
	}
}

// TestNameLiteralsFinds: the scanner of TestNoNameLiterals catches a name in each context it looks at, and
// leaves names used as plain values alone.
func TestNameLiteralsFinds(t *testing.T) {
	src := `package p
func f(c Config) {
	_ = c.Model == "particle"
	_ = "mnist" != c.Data
	switch c.Model {
	case "cnn", "resnet18":
	}
	_ = map[string]int{"cnn": 256, "other": 1}[c.Model]
	_ = widths["mlp"]
	_ = strings.HasPrefix(c.Data, "folder:")
	// values, not comparisons:
	c.Model = "onehidden"
	_ = Config{Data: "clusters"}
	_ = c.Model == "auto"
	load("stl10")
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := nameLiterals(fset, f, registeredNames())
	want := []string{`"particle" in ==`, `"mnist" in !=`, `"cnn" in a switch case`, `"resnet18" in a switch case`,
		`"cnn" in a map key`, `"mlp" in an index`, `"folder:" in HasPrefix`}
	if len(got) != len(want) {
		t.Fatalf("found %d: %q; want %d", len(got), got, len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(got[i], w) {
			t.Errorf("finding %d: %q, want one ending %q", i, got[i], w)
		}
	}
}

// TestRegistriesAgree: every data set's default model is registered and trains on that kind of data, its
// default augmentation parses for that kind, and Resolve picks both.
func TestRegistriesAgree(t *testing.T) {
	for _, name := range datasets.Names {
		d, _ := datasets.Lookup(name)
		m, ok := models.Lookup(d.Model)
		switch {
		case !ok:
			t.Errorf("%s: default model %q is not registered", name, d.Model)
		case d.Kind == datasets.PointSet && !m.OnPoints, d.Kind == datasets.ImageSet && !m.OnImages:
			t.Errorf("%s: default model %s does not train on it", name, d.Model)
		}
		var err error
		if d.Kind == datasets.PointSet {
			_, err = augment.ParseVectorSpec(d.Augment)
		} else {
			_, err = augment.Preset(d.Augment)
		}
		if err != nil {
			t.Errorf("%s: default augmentation: %v", name, err)
		}
		c := Defaults()
		c.Data = strings.Replace(name, "PATH", "x", 1)
		if r := c.Resolve(); r.Model != d.Model || r.Augment != d.Augment || r.Width != m.Width {
			t.Errorf("%s: resolved model %s, augment %s, width %d; want %s, %s, %d", name, r.Model, r.Augment, r.Width, d.Model, d.Augment, m.Width)
		}
	}
}

// TestValidateModelAndData: a model on data it does not train on, and settings a model or data set refuses,
// are usage errors that name the flag and list the values that would do.
func TestValidateModelAndData(t *testing.T) {
	for _, c := range []struct {
		mod  func(*Config)
		want []string
	}{
		{func(c *Config) { c.Model = "cnn" }, []string{"--model cnn needs image data", "mnist, fashion-mnist", "got --data clusters"}},
		{func(c *Config) { c.Data, c.Model = "mnist", "particle" }, []string{"--model particle works on the point data sets", "clusters, disks, annuli"}},
		{func(c *Config) { c.Model, c.Channels = "mlp", []int{4} }, []string{"--channels is for --model cnn, got --model mlp"}},
		{func(c *Config) { c.Depth = 2 }, []string{"--depth must be 1 for --model onehidden"}},
		{func(c *Config) { c.Data, c.ImageSize = "mnist", 32 }, []string{"--image-size applies to --data folder:PATH only"}},
		{func(c *Config) { c.Data, c.DType = "cifar10", "float64" }, []string{"--dtype float64 is for the point data sets"}},
		{func(c *Config) { c.Data = "imagenet" }, []string{"--data must be one of", "annuli mnist"}},
		{func(c *Config) { c.Dim, c.Augment = 7, "shift:1,dir:1/-1" }, []string{"--augment", "d = 7"}},
	} {
		cfg := Defaults()
		c.mod(&cfg)
		err := cfg.Validate()
		for _, w := range c.want {
			if !IsUsage(err) || !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %v, want a usage error containing %q", cfg, err, w)
			}
		}
	}
	for _, data := range []string{"disks", "annuli", "folder:x"} {
		cfg := Defaults()
		cfg.Data, cfg.Dim, cfg.Augment = data, 7, "shift:1,dir:1/-1" // --dim is for clusters; disks and annuli are 2-D
		if data == "folder:x" {
			cfg.ImageSize, cfg.Augment = 32, "auto"
		}
		if err := cfg.Validate(); err != nil {
			t.Errorf("--data %s: %v", data, err)
		}
	}
}

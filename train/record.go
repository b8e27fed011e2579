package train

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gosimclr/gosimclr/checkpoint"
)

// RunRecord is what a run's config.json holds: its settings (the Config, at the top level, so that the file is
// a valid --config) and, apart, what the run found out about its environment. The environment is ignored
// when the file is read back as settings.
type RunRecord struct {
	Config
	Environment Environment `json:"environment"`
}

// Environment describes where and on what a run ran; none of it is a setting.
type Environment struct {
	RunID       string `json:"run-id"` // also in every checkpoint of the run: a folder's files must agree on it
	GitCommit   string `json:"git-commit"`
	GoVersion   string `json:"go-version"`
	SIMD        bool   `json:"simd"`
	BackendDesc string `json:"backend-description"`
	DataName    string `json:"data-name"`
	Examples    int    `json:"examples"`
	TestExample int    `json:"test-examples"`
	Params      int    `json:"parameters"`
}

// recordFile is the on-disk form read back: a RunRecord, or a plain settings file, or a config.json written
// before 2026-12-05 with the environment flat beside the settings (those keys are accepted and dropped).
type recordFile struct {
	Config
	Environment *Environment `json:"environment"`
	OldCommit   string       `json:"git-commit"`
	OldGo       string       `json:"go-version"`
	OldSIMD     bool         `json:"simd"`
	OldBackend  string       `json:"backend-description"`
	OldData     string       `json:"data-name"`
	OldExamples int          `json:"examples"`
	OldTest     int          `json:"test-examples"`
	OldParams   int          `json:"parameters"`
	OldResume   string       `json:"resume"`
}

// ReadRunRecord reads a run's config.json, or any settings file, over base (keys absent from the file keep
// base's values). Unknown keys are errors, so that a misspelt setting is not silently ignored.
func ReadRunRecord(path string, base Config) (RunRecord, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return RunRecord{}, err
	}
	f := recordFile{Config: base}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return RunRecord{}, fmt.Errorf("%s: %w", path, err)
	}
	r := RunRecord{Config: f.Config}
	if f.Environment != nil {
		r.Environment = *f.Environment
	} else {
		r.Environment = Environment{GitCommit: f.OldCommit, GoVersion: f.OldGo, SIMD: f.OldSIMD, BackendDesc: f.OldBackend,
			DataName: f.OldData, Examples: f.OldExamples, TestExample: f.OldTest, Params: f.OldParams}
	}
	return r, nil
}

func writeRecord(dir string, r RunRecord) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("train: output directory: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return checkpoint.WriteFileAtomic(filepath.Join(dir, "config.json"), append(b, '\n'))
}

// newRunID returns a fresh identity for a run: its start time and 32 random bits.
func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

// runFiles are the names a run, and simclr export and embed with their default outputs, write into its
// folder; ckpt-*.ckpt are its checkpoints. --overwrite removes them all, so that no file of the old run is left
// beside the new one.
var runFiles = []string{"config.json", "metrics.csv", "params.ckpt", "eval.json", "embedding.csv", "curves.png",
	"encoder.npz", "encoder.safetensors", "encoder.onnx", "features.npy", "features.labels.npy"}

// existingRunFiles lists the run files present in dir, sorted.
func existingRunFiles(dir string) []string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	var found []string
	for _, e := range entries {
		n := e.Name()
		if slices.Contains(runFiles, n) || (strings.HasPrefix(n, ckptPrefix) && strings.HasSuffix(n, ckptSuffix)) {
			found = append(found, n)
		}
	}
	slices.Sort(found)
	return found
}

// DefaultRunsDir is where a run without --out-dir gets a fresh folder, named by its start time; the link
// DefaultRunsDir/latest then points at it.
const DefaultRunsDir = "runs"

// prepareOutDir readies the folder of a new run. A folder that holds another run's files is refused, unless
// overwrite, which removes those files (and nothing else). With dir empty, a fresh folder under
// DefaultRunsDir is made and linked as DefaultRunsDir/latest; the folder is returned.
func prepareOutDir(dir string, overwrite bool) (string, error) {
	if dir == "" {
		name := time.Now().Format("20060102-150405")
		dir = filepath.Join(DefaultRunsDir, name)
		for i := 2; ; i++ { // two runs started in the same second
			if _, err := os.Stat(dir); os.IsNotExist(err) {
				break
			}
			dir = filepath.Join(DefaultRunsDir, fmt.Sprintf("%s-%d", name, i))
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("train: output directory: %w", err)
		}
		latest := filepath.Join(DefaultRunsDir, "latest")
		if fi, err := os.Lstat(latest); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			os.Remove(latest)
		}
		_ = os.Symlink(filepath.Base(dir), latest) // a convenience: a failure (no symlinks here) is harmless
		return dir, nil
	}
	found := existingRunFiles(dir)
	if len(found) == 0 {
		return dir, nil
	}
	if !overwrite {
		if !slices.ContainsFunc(found, func(n string) bool { return strings.HasPrefix(n, ckptPrefix) }) {
			// Stopped before its first checkpoint (a double Ctrl-C): --resume has nothing to continue.
			return "", usagef("--out-dir %s holds a run that has no checkpoint to resume from (%s): replace it with --overwrite, or choose another --out-dir",
				dir, strings.Join(found, ", "))
		}
		return "", usagef("--out-dir %s holds a run already (%s): continue it with --resume %s, replace it with --overwrite, or choose another --out-dir",
			dir, strings.Join(found, ", "), dir)
	}
	for _, n := range found {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			return "", fmt.Errorf("train: --overwrite: %w", err)
		}
	}
	return dir, nil
}

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/gosimclr/gosimclr/train"
	"github.com/spf13/pflag"
)

// runFlags binds --run and --checkpoint, the flags of every command that opens a trained run.
func runFlags(fs *pflag.FlagSet, verb string) (dir *string, step *int) {
	return fs.String("run", "", "run directory (holding config.json and checkpoints)"),
		fs.Int("checkpoint", 0, verb+" the checkpoint of this step (ckpt-<step>.ckpt; default: the newest)")
}

// checkRunFlags checks what runFlags bound.
func checkRunFlags(dir string, step int) error {
	if dir == "" {
		return usageError{fmt.Errorf("--run DIR is required")}
	}
	if step < 0 {
		return usageError{fmt.Errorf("--checkpoint must be ≥ 1 (a step), got %d", step)}
	}
	return nil
}

// runExport writes a run's trained encoder as .npz or safetensors in PyTorch's layout, or as an ONNX model.
func runExport(args []string) error {
	fs := newFlags("export")
	dir, step := runFlags(fs, "export")
	format := fs.String("format", "npz", "file format: "+strings.Join(train.ExportFormats, ", ")+
		". npz and safetensors: the encoder's (and head's) weights as a PyTorch state_dict (mlp, onehidden, cnn; see the README). "+
		"onnx: the whole evaluation-mode forward pass with its weights (mlp, onehidden, cnn, resnet18 with its batch-norm running averages; opset 17, float32), "+
		"input x [N, d] for points or [N, C, H, W] (NCHW, values in [0, 1]) for images, outputs features [N, F] (what simclr embed writes) and, with a projection head, z [N, k]; "+
		"written by gosimclr itself, no ONNX library needed")
	out := fs.String("out", "", "output file (default RUN/encoder.FORMAT, with --target RUN/encoder-target.FORMAT)")
	target := fs.Bool("target", false, "export the target (momentum) network of a --method byol or mocov3 run instead of the online encoder")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkRunFlags(*dir, *step); err != nil {
		return err
	}
	export := train.ExportRun
	if *target {
		export = train.ExportTarget
	}
	_, err := export(*dir, *step, *format, *out, os.Stderr)
	return err
}

// runEmbed writes a run's encoder features of a data split as .npy (with labels, and optionally the inputs).
func runEmbed(args []string) error {
	fs := newFlags("embed")
	dir, step := runFlags(fs, "use")
	split := fs.String("split", "test", "which split of the run's data: train or test")
	out := fs.String("out", "", "features file [n, F] float32; labels go to OUT.labels.npy when the data has them (default RUN/features.npy)")
	inputs := fs.String("inputs", "", "also write the inputs as the model sees them to this .npy file")
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := checkRunFlags(*dir, *step); err != nil {
		return err
	}
	return train.EmbedRun(*dir, *step, *split, *out, *inputs, os.Stderr)
}

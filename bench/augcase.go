package bench

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/datasets/augment/augmenttest"
	"github.com/gosimclr/gosimclr/ref"
)

// AugmentCase applies SimCLR's CIFAR augmentation preset (sampling included) to a batch of 32×32×3 images;
// throughput is images per second. The reference replays parameters drawn once by the graph. No FLOPs are
// counted: the work is gathers and small matrix products, not a GEMM.
func AugmentCase(images int) Case {
	pl := augment.CIFAR()
	const h, w, c = 32, 32, 3
	x := uniform(6, images*h*w*c)
	cs := Case{Workload: "augment", Views: images, Samples: images}
	var sampled augment.PipelineParams // which ops are on and their static sizes, set when the graph is built
	build := func(b compute.Backend, withParams bool) (*graph.Exec, *tensors.Tensor, *tensors.Tensor, error) {
		e, err := graph.NewExec(b, func(g *graph.Graph, in []*graph.Node) []*graph.Node {
			rng, p := pl.Sample(in[1], images, h, w, c)
			sampled = p
			out := []*graph.Node{pl.Apply(in[0], p), rng}
			if withParams {
				out = append(out, p.Nodes()...)
			}
			return out
		})
		if err != nil {
			return nil, nil, nil, err
		}
		rng, err := graph.RNGStateFromSeed(7)
		return e, tensors.FromFlatDataAndDimensions(x, images, h, w, c), rng, err
	}
	cs.GoMLX = func(b compute.Backend, o StepOptions) (func() error, error) {
		if !o.plain() {
			return nil, errOneDevice("augment")
		}
		e, xt, rng, err := build(b, false)
		if err != nil {
			return nil, err
		}
		return func() error {
			outs, err := e.Call(xt, rng)
			if err != nil {
				return err
			}
			_ = outs[1].Value() // wait for the device
			rng = outs[1]
			outs[0].FinalizeAll()
			return nil
		}, nil
	}
	cs.Ref = func() (func() error, error) {
		b, err := goBackend()
		if err != nil {
			return nil, err
		}
		e, xt, rng, err := build(b, true)
		if err != nil {
			return nil, err
		}
		outs, err := e.Call(xt, rng)
		if err != nil {
			return nil, err
		}
		var vals [][]float32
		for _, o := range outs[2:] {
			v, err := tensors.CopyFlatData[float32](o)
			if err != nil {
				return nil, err
			}
			vals = append(vals, v)
		}
		rp := augmenttest.RefParams(sampled, vals)
		return func() error {
			ref.ImagePipeline(x, images, h, w, c, rp)
			return nil
		}, nil
	}
	return cs
}

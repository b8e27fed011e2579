package augment_test

import (
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/gosimclr/gosimclr/datasets/augment"
	"github.com/gosimclr/gosimclr/datasets/augment/augmenttest"
	"github.com/gosimclr/gosimclr/internal/backendtest"
	"github.com/gosimclr/gosimclr/ref"
)

// TestPairViewsReplay: each view of PairViews is ref.ImagePipeline on its half of the pairs with the view's
// own parameters (the ImageNet recipe without its crop, as train uses it on streamed data; and the preset
// "none", whose views are the two crops themselves). On XLA only the first
// case runs.
func TestPairViewsReplay(t *testing.T) {
	imagenet := augment.ImageNet()
	imagenet.Crop = augment.CropConfig{}
	pipelines, dims := []augment.Pipeline{imagenet, augment.None()}, []imageDims{{4, 24, 20, 3}, {3, 16, 16, 1}}
	if backendtest.XLA() { // each case compiles its graph (seconds on 2 cores): one on XLA
		pipelines, dims = pipelines[:1], dims[:1]
	}
	for _, pl := range pipelines {
		for _, d := range dims {
			x := testImages(imageDims{2 * d.b, d.h, d.w, d.c}, 5) // [B, 2, H, W, C]
			var p [2]augment.PipelineParams
			exec := graph.MustNewExec(imageBackend(), func(pairs, rng *graph.Node) []*graph.Node {
				rng, v1, v2, ps := pl.PairViews(rng, pairs)
				p = ps
				return append(append([]*graph.Node{v1, v2, rng}, ps[0].Nodes()...), ps[1].Nodes()...)
			})
			outs := exec.MustExec(tensors.FromFlatDataAndDimensions(x, d.b, 2, d.h, d.w, d.c), imageSeed(t, 9))
			var values [][]float32
			for _, o := range outs[3:] {
				values = append(values, tensors.MustCopyFlatData[float32](o))
			}
			n0 := len(p[0].Nodes())
			sz := d.h * d.w * d.c
			for v := range 2 {
				half := make([]float32, 0, d.b*sz)
				for k := range d.b {
					half = append(half, x[(2*k+v)*sz:(2*k+v+1)*sz]...)
				}
				vals := values[:n0]
				if v == 1 {
					vals = values[n0:]
				}
				want, _, _ := ref.ImagePipeline(half, d.b, d.h, d.w, d.c, augmenttest.RefParams(p[v], vals))
				got := tensors.MustCopyFlatData[float32](outs[v])
				if diff := maxDiff(got, want); diff > 1e-5 {
					t.Errorf("%s on %v, view %d: graph and ref differ by %g", pl.Name, d, v, diff)
				}
				if pl.Name == "none" && maxDiff(got, half) != 0 {
					t.Errorf("none on %v, view %d: not the host crop itself", d, v)
				}
			}
			exec.Finalize()
		}
	}
}

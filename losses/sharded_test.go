package losses

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// TestInfoNCEShardedAcrossDevices is the ground for data-parallel training (issue 22): on a backend with several
// devices (the pinned XLA CPU plugin exposes 4), NT-Xent over a batch whose rows are split across the devices by
// XLA's automatic sharding (GoMLX AutoSharding over Shardy) is the one-device value on every device: the
// negatives are global. The mean of the per-shard losses, which local negatives would give, differs.
func TestInfoNCEShardedAcrossDevices(t *testing.T) {
	nd := testBackend.NumDevices()
	if nd < 2 {
		t.Skipf("%s has %d device", testBackend.Name(), nd)
	}
	const k, tau = 8, 0.5
	n2 := 2 * nd * 3 // 3 pairs' worth of rows per device; pairs (i, i+N) sit on different devices
	r := rand.New(rand.NewPCG(5, 6))
	z := make([]float32, n2*k)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	loss := func(z *graph.Node) *graph.Node { return InfoNCE(z, tau) }
	want := graph.MustNewExec(testBackend, loss).MustCall1(tensors.FromFlatDataAndDimensions(z, n2, k)).Value().(float32)
	mesh, err := distributed.NewDeviceMesh([]int{nd}, []string{"data"})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := distributed.BuildSpec(mesh).S("data").Done()
	if err != nil {
		t.Fatal(err)
	}
	rows := n2 / nd
	var shards []any
	local := 0.0 // mean of the losses of each device's rows alone
	for d := range nd {
		part := z[d*rows*k : (d+1)*rows*k]
		shards = append(shards, tensors.FromFlatDataAndDimensions(part, rows, k))
		l := graph.MustNewExec(testBackend, loss).MustCall1(tensors.FromFlatDataAndDimensions(part, rows, k))
		local += float64(l.Value().(float32)) / float64(nd)
	}
	outs, err := graph.MustNewExec(testBackend, loss).AutoSharding(mesh).WithInputShardingSpecs(spec).Call(shards...)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != nd {
		t.Fatalf("%d outputs, want one per device (%d)", len(outs), nd)
	}
	for d, o := range outs {
		if got := o.Value().(float32); math.Abs(float64(got-want)) > 1e-6*math.Abs(float64(want)) {
			t.Errorf("device %d: sharded loss %.7g, one-device loss %.7g", d, got, want)
		}
	}
	if math.Abs(local-float64(want)) < 1e-3 {
		t.Errorf("local-negative loss %.7g equals the global one %.7g: the test cannot tell them apart", local, want)
	}
	t.Logf("%d devices: global %.7g, local negatives would give %.7g", nd, want, local)
}

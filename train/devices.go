package train

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/distributed"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/models"
)

// Distribute makes the step data parallel over the first n devices of the backend: each Step splits its batch
// by rows into n equal shards, one per device, and XLA's partitioner (GoMLX AutoSharding over Shardy, a 1-D
// mesh "data") runs the same mathematical step as on one device with the whole batch: the graph is written for
// the global batch, so the embeddings are gathered before the loss (global negatives) and the gradients summed
// across devices by the collectives it inserts. Parameters, optimiser state and RNG are replicated; the Stepper
// keeps device 0's copy in Params, State and RNG, so checkpoints and features read them as on one device.
//
// n = 1 is the one-device step. The Go backend has one device and no collectives: n > 1 there is an error that
// names XLA.
func (s *Stepper) Distribute(n int) error {
	switch {
	case n < 1:
		return fmt.Errorf("train: devices must be ≥ 1, got %d", n)
	case n == s.devices || (n == 1 && s.devices == 0):
		return nil
	}
	if err := deviceCountFits(s.backend, n); err != nil {
		return fmt.Errorf("train: %w", err)
	}
	exec, err := graph.NewExec(s.backend, s.build)
	if err != nil {
		return err
	}
	if n > 1 {
		mesh, err := distributed.NewDeviceMesh([]int{n}, []string{"data"})
		if err != nil {
			return err
		}
		batch, err := distributed.BuildSpec(mesh).S("data").Done()
		if err != nil {
			return err
		}
		// x is split by rows; every later input (rng, lrScale, params, state) is replicated (nil, repeated),
		// but for the online probe's labels, split by rows like x (left to the partitioner, they would be
		// split anyway, as they meet x's rows). Every output (scalars, z, parameters, state) replicated: each
		// device returns whole values.
		specs := []*distributed.ShardingSpec{batch, nil}
		if s.probe != nil {
			specs = append(make([]*distributed.ShardingSpec, 3+len(s.Params)+len(s.State)), batch, nil)
			specs[0] = batch
		}
		exec = exec.AutoSharding(mesh).WithInputShardingSpecs(specs...).WithOutputShardingSpecs(distributed.NewReplicatedShardingSpec(mesh))
	}
	s.exec, s.devices, s.replicas = exec.WithName("simclr_step"), n, nil
	return nil
}

// UseLocalNegatives makes the data-parallel step contrast each device's share of the batch only among itself
// (losses.LocalLoss over Devices() groups) instead of with the whole global batch: fewer negatives, no
// all-gather of the embeddings needed. Call it after Distribute and before the first Step.
func (s *Stepper) UseLocalNegatives() { s.localNegatives = true }

// Devices returns the number of devices the step runs on (1 unless Distribute made it more).
func (s *Stepper) Devices() int { return max(s.devices, 1) }

// stepArgs returns the arguments of one call of the step: for one device x, rng, lrScale, params and state with
// the parameter and state buffers donated; for several, each device's shard of x followed by the replicated
// rest, device by device: device 0 reads Params, State and RNG, every other device its own replica of them
// (kept from its outputs of the last step; host copies at the first step and after a restore). Not donated.
func (s *Stepper) stepArgs(x *tensors.Tensor) ([]any, error) {
	lr := hostTensor(s.DType, []float64{s.LRScale}, nil)
	if s.Devices() == 1 {
		args := []any{x, s.RNG, lr}
		for _, ts := range [][]*tensors.Tensor{s.Params, s.State} {
			for _, p := range ts {
				d, err := graph.DonateTensorBuffer(p, s.backend, 0)
				if err != nil {
					return nil, err
				}
				args = append(args, d)
			}
		}
		pa, err := s.probe.args(s.backend, s.Labels, x)
		return append(args, pa...), err
	}
	shards, err := splitRows(x, s.devices)
	if err != nil {
		return nil, err
	}
	own := append(append([]*tensors.Tensor{s.RNG}, s.Params...), s.State...) // device 0's
	// The probe's parameters and state are replicated like the encoder's, after them; its labels split like x.
	var labels []*tensors.Tensor
	if s.probe != nil {
		if err := s.probe.checkLabels(s.Labels, x); err != nil {
			return nil, err
		}
		if labels, err = splitRows(s.Labels, s.devices); err != nil {
			return nil, err
		}
		own = append(append(own, s.probe.Params...), s.probe.State...)
	}
	if s.replicas == nil { // first step, or after restore: every other device starts from host copies
		s.replicas = make([][]*tensors.Tensor, s.devices)
		for d := 1; d < s.devices; d++ {
			for _, t := range own {
				c, err := hostCopy(t)
				if err != nil {
					return nil, err
				}
				s.replicas[d] = append(s.replicas[d], c)
			}
		}
	}
	var args []any
	for d := range s.devices {
		rep := own
		if d > 0 {
			rep = s.replicas[d]
		}
		if d > 0 { // a host tensor, once used on a device, is bound to it: one each
			lr = hostTensor(s.DType, []float64{s.LRScale}, nil)
		}
		args = append(args, shards[d], rep[0], lr)
		for i, t := range rep[1:] {
			if s.probe != nil && i == len(s.Params)+len(s.State) {
				args = append(args, labels[d])
			}
			args = append(args, t)
		}
	}
	return args, nil
}

// keepReplicas takes the step's outputs (device-major) and keeps each device's new RNG, parameters and state
// after the first as its replica for the next step, returning device 0's outputs.
func (s *Stepper) keepReplicas(outs []*tensors.Tensor) []*tensors.Tensor {
	per := len(outs) / s.devices
	for d := 1; d < s.devices; d++ {
		o := outs[d*per : (d+1)*per]
		for _, t := range o[:numScalarOuts+1] { // the scalars and z: device 0's are the ones read
			t.FinalizeAll()
		}
		if s.probe != nil { // and the probe's scalars, last
			o[len(o)-1].FinalizeAll()
			o = o[:len(o)-1]
		}
		s.replicas[d] = append(s.replicas[d][:0], o[numScalarOuts+1:]...)
	}
	return outs[:per]
}

// hostCopy returns a host tensor with t's shape and values.
func hostCopy(t *tensors.Tensor) (*tensors.Tensor, error) {
	c := tensors.FromShape(t.Shape())
	err := t.ConstBytes(func(src []byte) { c.MutableBytes(func(dst []byte) { copy(dst, src) }) })
	return c, err
}

// splitRows splits the host tensor x [B, …] into n tensors [B/n, …] of consecutive rows.
func splitRows(x *tensors.Tensor, n int) ([]*tensors.Tensor, error) {
	dims := x.Shape().Dimensions
	if len(dims) == 0 || dims[0]%n != 0 {
		return nil, fmt.Errorf("train: a batch of %v rows does not split into %d equal shards: make the batch a multiple of the devices", dims, n)
	}
	shape := x.Shape().Clone()
	shape.Dimensions[0] = dims[0] / n
	out := make([]*tensors.Tensor, n)
	err := x.ConstBytes(func(data []byte) {
		size := len(data) / n
		for i := range out {
			out[i] = tensors.FromShape(shape)
			out[i].MutableBytes(func(dst []byte) { copy(dst, data[i*size:(i+1)*size]) })
		}
	})
	return out, err
}

// devicesFor resolves c.Devices on backend b for batches of n examples: -1 (all) becomes b's device count, and
// a count the backend or the batch cannot take is a usage error that says why.
func devicesFor(c Config, b compute.Backend, n int) (int, error) {
	d := c.Devices
	switch {
	case d == -1:
		d = b.NumDevices()
	case d == 0: // a Setup built from a Config with no devices: one
		return 1, nil
	}
	if err := deviceCountFits(b, d); err != nil {
		return 0, usagef("--devices %d: %v", d, err)
	}
	switch {
	case c.LocalNegatives && d == 1:
		return 0, usagef("--local-negatives needs --devices > 1 (on one device every negative is local)")
	case n%d != 0:
		return 0, usagef("--devices %d: the batch of %d examples does not split into %d equal shards; make --batch-size a multiple of it", d, n, d)
	}
	return d, nil
}

// SetBatchStatGroups makes batch normalisation take its statistics over each of g groups of the batch's
// examples apart (g = Devices() is per-device batch norm, SimCLR's reference without sync) instead of over the
// whole batch (global, "sync" batch norm, what one device computes). Models without batch statistics are not
// affected. Call it before the first Step.
func (s *Stepper) SetBatchStatGroups(g int) { s.bnGroups = g }

// forward runs the model in training mode on views [2N, …] (rows i and N+i the two views of example i). With
// batch-statistic groups (SetBatchStatGroups) and a model that has batch statistics, it runs the model on each
// group's views apart, the rows g·m… of each view block (m = N/groups): a device's share of a data-parallel
// batch. The latents and features are put back in the batch's order and the running averages averaged over
// the groups.
func (s *Stepper) forward(params []*graph.Node, views *graph.Node) models.Output {
	whole := s.Model.Forward(params, views, true)
	groups := s.bnGroups
	if groups <= 1 || len(whole.Stats) == 0 { // no batch statistics: one pass, the same function
		return whole
	}
	n := views.Shape().Dimensions[0] / 2
	if n%groups != 0 {
		panic(fmt.Sprintf("train: %d examples do not split into %d batch-statistic groups", n, groups))
	}
	m := n / groups
	rows := func(x *graph.Node, from, to int) *graph.Node { return graph.SliceAxis(x, 0, graph.AxisRange(from, to)) }
	var z1, z2, f1, f2 []*graph.Node
	stats := map[int]*graph.Node{}
	for g := range groups {
		vg := graph.Concatenate([]*graph.Node{rows(views, g*m, (g+1)*m), rows(views, n+g*m, n+(g+1)*m)}, 0)
		o := s.Model.Forward(params, vg, true)
		z1, z2 = append(z1, rows(o.Z, 0, m)), append(z2, rows(o.Z, m, 2*m))
		f1, f2 = append(f1, rows(o.Features, 0, m)), append(f2, rows(o.Features, m, 2*m))
		for i, v := range o.Stats {
			if stats[i] == nil {
				stats[i] = v
			} else {
				stats[i] = graph.Add(stats[i], v)
			}
		}
	}
	for i, v := range stats {
		stats[i] = graph.DivScalar(v, float64(groups))
	}
	return models.Output{Z: graph.Concatenate(append(z1, z2...), 0), Features: graph.Concatenate(append(f1, f2...), 0), Stats: stats}
}

// deviceCountFits says why backend b cannot run a step on n devices, or nil: the Go backend has one device and
// no collectives; no backend has more devices than it lists.
func deviceCountFits(b compute.Backend, n int) error {
	switch {
	case n > 1 && backend.IsGo(b):
		return fmt.Errorf("the Go backend has one device and no collectives; data-parallel training needs XLA " +
			"(--backend xla:cpu, whose pinned plugin has 4 CPU devices, or xla:cuda)")
	case n > b.NumDevices():
		return fmt.Errorf("backend %s has %d device(s)", b.Name(), b.NumDevices())
	}
	return nil
}

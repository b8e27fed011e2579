package train

import (
	"fmt"
	"sort"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/backend"
	"github.com/gosimclr/gosimclr/losses"
	"github.com/gosimclr/gosimclr/models"
	"github.com/gosimclr/gosimclr/optim"
)

func TestDebugCNNGraph(t *testing.T) {
	be, _ := backend.New("go")
	enc := models.CNNEncoder{
		CNN:  arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense},
		Head: arch.Head{In: arch.DefaultCNNDense, Hidden: 256, Out: 128},
	}
	st, err := NewStepper(be, enc, optim.Optimizer{Name: optim.Adam, LR: 1e-3}, losses.Config{Tau: 0.5}, nil, dtypes.Float32, 1)
	if err != nil {
		t.Fatal(err)
	}
	sh := []shapes.Shape{shapes.Make(dtypes.Float32, 256, 28, 28, 1), st.RNG.Shape()}
	for _, p := range st.Params {
		sh = append(sh, p.Shape())
	}
	for _, p := range st.State {
		sh = append(sh, p.Shape())
	}
	g, err := st.exec.Compile(sh...)
	if err != nil {
		t.Fatal(err)
	}
	tot := map[string]int{}
	for _, n := range g.Nodes() {
		sz := n.Shape().Size()
		tot[n.Type().String()] += sz
		if sz > 100000 {
			fmt.Printf("%-20s %v  <- ", n.Type(), n.Shape())
			for _, in := range n.Inputs() {
				fmt.Printf("%v ", in.Shape())
			}
			fmt.Println()
		}
	}
	var ks []string
	for k := range tot {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return tot[ks[i]] > tot[ks[j]] })
	for _, k := range ks {
		fmt.Printf("%-25s %12d\n", k, tot[k])
	}
}

package bench

import (
	"fmt"

	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/recipe"
	"github.com/gosimclr/gosimclr/ref"
)

// convRef returns the reference step of a convolutional workload: ref.ConvTrainer, float32, Adam, from the
// same initial parameters and views as the graph.
func convRef(m ref.ConvModel, x []float32, views int) func() (func() error, error) {
	return func() (func() error, error) {
		tr := ref.NewConvTrainer[float32](m, 1, ref.LossConfig{Kernel: ref.KernelExp, Temperature: benchTemperature}, recipe.Adam, 1e-3)
		return func() error {
			if l := tr.Step(x, views); l != l {
				return fmt.Errorf("bench: reference loss is NaN")
			}
			return nil
		}, nil
	}
}

func cnnRef(a arch.CNN, head arch.Head, x []float32, views int) func() (func() error, error) {
	return convRef(ref.CNNEncoder{CNN: a, Head: head}, x, views)
}

func resnetRef(a arch.ResNet18, head arch.Head, x []float32, views int) func() (func() error, error) {
	return convRef(ref.ResNetEncoder{ResNet: a, Head: head}, x, views)
}

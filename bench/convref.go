package bench

import "github.com/gosimclr/gosimclr/arch"

// cnnRef and resnetRef return the reference steps of the convolutional workloads; nil until ref has
// convolutional twins.
func cnnRef(a arch.CNN, head arch.Head, x []float32, views int) func() (func() error, error) {
	return nil
}

func resnetRef(a arch.ResNet18, head arch.Head, x []float32, views int) func() (func() error, error) {
	return nil
}

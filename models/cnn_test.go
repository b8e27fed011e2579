package models

import (
	"testing"

	"github.com/gosimclr/gosimclr/arch"
)

// TestCNNParamCount pins the small CNN's size, as flax pins CNN_PARAMS: for 28×28×1, channels 32, 64 and
// 256 dense features, (3·3·1·32 + 32) + (3·3·32·64 + 64) + (7·7·64·256 + 256) = 320 + 18,496 + 803,072; for
// 32×32×3 the first convolution has 3·3·3·32 + 32 = 896 and the dense layer 8·8·64·256 + 256 = 1,048,832.
func TestCNNParamCount(t *testing.T) {
	for _, c := range []struct {
		a    arch.CNN
		want int
	}{
		{arch.CNN{H: 28, W: 28, C: 1, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}, 821_888},
		{arch.CNN{H: 32, W: 32, C: 3, Channels: arch.DefaultCNNChannels, Dense: arch.DefaultCNNDense}, 1_068_224},
		{arch.CNN{H: 29, W: 27, C: 1, Channels: []int{8}, Dense: 10}, (9*8 + 8) + (14*13*8*10 + 10)}, // odd sizes: floor
	} {
		trainable, all := trainableCount(c.a.Params())
		if trainable != c.want || all != c.want {
			t.Errorf("%+v: %d parameters (%d trainable), want %d", c.a, all, trainable, c.want)
		}
		if err := c.a.Validate(); err != nil {
			t.Errorf("%+v: %v", c.a, err)
		}
	}
	if err := (arch.CNN{H: 3, W: 28, C: 1, Channels: []int{4, 4}, Dense: 2}).Validate(); err == nil {
		t.Error("a 3-pixel-high image passed two 2×2 pools")
	}
}

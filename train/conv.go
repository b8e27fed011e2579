package train

import (
	"github.com/gosimclr/gosimclr/arch"
	"github.com/gosimclr/gosimclr/models"
)

// convModel builds the convolutional encoders for image data: the small CNN (width = its dense features) or
// ResNet-18 (width = its base width, stem from --stem), with the projection head on their features.
func convModel(c Config, data *dataset, head arch.Head) (models.Model, error) {
	h, w, ch := data.dims[0], data.dims[1], data.dims[2]
	switch c.Model {
	case "resnet18":
		a := arch.ResNet18{H: h, W: w, C: ch, Stem: c.Stem, Width: c.Width}
		if err := a.Validate(); err != nil {
			return nil, UsageError{err}
		}
		head.In = a.Features()
		return models.ResNetEncoder{ResNet: a, Head: head}, nil
	}
	channels := c.Channels
	if len(channels) == 0 {
		channels = arch.DefaultCNNChannels
	}
	a := arch.CNN{H: h, W: w, C: ch, Channels: channels, Dense: c.Width}
	if err := a.Validate(); err != nil {
		return nil, UsageError{err}
	}
	head.In = a.Features()
	return models.CNNEncoder{CNN: a, Head: head}, nil
}

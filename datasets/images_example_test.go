package datasets_test

import (
	"fmt"
	"log"

	"github.com/gosimclr/gosimclr/datasets"
)

// Load finds a data set by name; with a --data-dir it looks only there.
func ExampleLoad() {
	train, test, err := datasets.Load("mnist", "testdata/mnist-tiny")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(train)
	fmt.Println(test)
	fmt.Println("labels:", train.Labels)
	// Output:
	// mnist/train: 3 × 4×5×1, 10 classes
	// mnist/test: 2 × 4×5×1, 10 classes
	// labels: [5 0 4]
}

// Batch converts uint8 pixels to float32 in [0, 1], one batch at a time.
func ExampleImages_Batch() {
	train, _, err := datasets.Load("folder:folder-tiny.tar.gz", "testdata")
	if err != nil {
		log.Fatal(err)
	}
	batch := train.Batch([]int{2, 0}, nil) // [2, H, W, C]
	fmt.Println(train.Classes, train.Labels, len(batch))
	fmt.Printf("image 2, pixel (0, 0): %v → %.4f\n", train.Example(2)[:3], batch[:3])
	// Output:
	// [cat dog] [0 0 1] 72
	// image 2, pixel (0, 0): [62 62 62] → [0.2431 0.2431 0.2431]
}

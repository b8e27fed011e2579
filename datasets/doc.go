// Package datasets implements synthetic data sets, byte-exact image readers and the registry that finds real
// data without flags.
//
// Image readers return an *Images: N uint8 images of H×W×C (HWC, C = 1 or 3) with labels and class names,
// converted to float32 in [0, 1] one batch at a time (Images.Batch). Formats, with their byte layouts in the
// doc comments of the readers:
//
//	IDX (MNIST, Fashion-MNIST)      ReadIDX, ReadIDXSet, ReadMNIST, ReadFashionMNIST
//	CIFAR-10 / CIFAR-100 binary     ReadCIFAR10, ReadCIFAR100, ReadCIFAR10Dir, ReadCIFAR100Dir
//	STL-10 binary                   ReadSTL10, ReadSTL10Dir; OpenSTL10Unlabeled reads the 100 000
//	                                unlabelled images lazily
//	image folders and their tars    ReadFolder, ReadFolderArchive (PNG, JPEG; class = sub-folder)
//	by name                         Load("mnist" | "fashion-mnist" | "cifar10" | "cifar100" | "stl10" |
//	                                "folder:PATH", dataDir); Open, the same or streamed
//
// Sets too large for memory are a *Stream instead (OpenFolderStream, OpenSTL10Stream; Open chooses by
// StreamThreshold): the files are read and decoded per batch on a pool of goroutines, SimCLR's random resized
// crop is drawn on the host from the full-resolution image (SampleCropBox, ResizeBox), and a Loader assembles a
// run's batches a bounded number of steps ahead.
//
// Every reader checks sizes exactly (a file shorter or longer than its header or record size claims is an
// error), checks label ranges, and compares claimed sizes with the input before allocating. Errors name the
// file and the record or offset, and wrap a sentinel (ErrBadMagic, ErrTruncated, ErrTrailingData,
// ErrLabelRange, ErrMismatch, ErrTooLarge, ErrDecode, ErrEmpty, ErrNotFound) for errors.Is. A reader returns
// either a whole, valid set or an error, never a partial set.
package datasets

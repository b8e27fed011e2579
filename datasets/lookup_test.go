package datasets

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestLookup: every registered name finds its own entry, folder:PATH stands for any folder:… name, and
// unknown names are not found.
func TestLookup(t *testing.T) {
	for _, name := range Names {
		d, ok := Lookup(name)
		if !ok || d.Name != name {
			t.Errorf("Lookup(%q) = %q, %v", name, d.Name, ok)
		}
		if (d.Kind == PointSet) != (d.Points != nil && d.Dim != nil) || (d.Kind == ImageSet) != (d.Images != nil) ||
			d.Model == "" || d.Augment == "" {
			t.Errorf("%s: incomplete entry %+v", name, d)
		}
	}
	for name, want := range map[string]string{
		"folder:/data/imagenette": "folder:PATH", "folder:x.tar.gz": "folder:PATH", "mnist": "mnist",
		"folder": "", "mnist2": "", "imagenet": "", "": "", "PATH": "",
	} {
		d, ok := Lookup(name)
		if ok != (want != "") || d.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, d.Name, ok, want)
		}
	}
}

// TestNamesOf splits the registry into the point and image sets, in registry order.
func TestNamesOf(t *testing.T) {
	points, images := NamesOf(PointSet), NamesOf(ImageSet)
	if want := []string{"clusters", "disks", "annuli"}; !slices.Equal(points, want) {
		t.Errorf("NamesOf(PointSet) = %v, want %v", points, want)
	}
	if want := []string{"mnist", "fashion-mnist", "cifar10", "cifar100", "stl10", "folder:PATH"}; !slices.Equal(images, want) {
		t.Errorf("NamesOf(ImageSet) = %v, want %v", images, want)
	}
	if !slices.Equal(Names, append(points, images...)) {
		t.Errorf("Names = %v", Names)
	}
	if got := SizedNames(); !slices.Equal(got, []string{"folder:PATH"}) {
		t.Errorf("SizedNames() = %v", got)
	}
}

// TestPointSets draws each point set through the registry: the generators and dimensions it promises.
func TestPointSets(t *testing.T) {
	s := ClusterSpec{K: 3, D: 5, PerCluster: 4, Shape: "gaussian", Radius: 0.1, Centers: "random", Scale: 2, Seed: 9}
	for name, want := range map[string][2]int{"clusters": {12, 5}, "disks": {1600, 2}, "annuli": {1200, 2}} {
		d, _ := Lookup(name)
		p, err := d.Points(s)
		if err != nil || p.N != want[0] || p.D != want[1] || d.Dim(s) != p.D {
			t.Errorf("%s: %d×%d points (Dim %d), %v; want %d×%d", name, p.N, p.D, d.Dim(s), err, want[0], want[1])
		}
	}
	again, _ := registry[0].Points(s)
	first, _ := Clusters(s)
	if !slices.Equal(again.X, first.X) {
		t.Error("clusters through the registry differ from Clusters(s)")
	}
}

// TestLoadWithRefuses: unknown names list the choices, point sets are not loaded, and an image size is
// refused by sets of a fixed size.
func TestLoadWithRefuses(t *testing.T) {
	if _, _, err := Load("imagenet", ""); err == nil || !strings.Contains(err.Error(), "fashion-mnist, cifar10") {
		t.Errorf("Load(imagenet): %v, want the list of names", err)
	}
	if _, _, err := Load("disks", ""); !errors.Is(err, ErrMismatch) {
		t.Errorf("Load(disks): %v, want ErrMismatch", err)
	}
	if _, _, err := LoadWith("mnist", "testdata/mnist-tiny", LoadOptions{ImageSize: 8}); !errors.Is(err, ErrMismatch) ||
		!strings.Contains(err.Error(), "folder:PATH") {
		t.Errorf("LoadWith(mnist, ImageSize 8): %v, want ErrMismatch naming folder:PATH", err)
	}
	if _, _, err := Load("folder:", ""); err == nil || !strings.Contains(err.Error(), "empty path") {
		t.Errorf("Load(folder:): %v, want an empty-path error", err)
	}
}

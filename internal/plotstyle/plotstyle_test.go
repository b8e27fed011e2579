package plotstyle

import "testing"

func TestColorWrapsAndNew(t *testing.T) {
	if Color(0) != Palette[0] || Color(13) != Palette[3] || Color(-1) != Palette[9] {
		t.Errorf("Color(0, 13, -1) = %v %v %v", Color(0), Color(13), Color(-1))
	}
	p := New("t", "x", "y", 12)
	if p.Title.Text != "t" || p.X.Label.Text != "x" || p.Y.Label.Text != "y" || !p.Legend.Top || p.Title.TextStyle.Font.Size.Points() != 12 {
		t.Errorf("New: title %q, labels %q %q, legend top %v, title size %v", p.Title.Text, p.X.Label.Text, p.Y.Label.Text, p.Legend.Top, p.Title.TextStyle.Font.Size)
	}
}

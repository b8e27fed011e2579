package experiments

import "math"

// olsSlope fits y = a + b·x by least squares and returns b with its two-sided 95% interval from Student's t on
// n − 2 degrees of freedom (NaN bounds with fewer than 3 points or no spread in x).
func olsSlope(x, y []float64) (b, lo, hi float64) {
	n := float64(len(x))
	var mx, my float64
	for i := range x {
		mx, my = mx+x[i], my+y[i]
	}
	mx, my = mx/n, my/n
	var sxx, sxy float64
	for i := range x {
		sxx += (x[i] - mx) * (x[i] - mx)
		sxy += (x[i] - mx) * (y[i] - my)
	}
	if len(x) < 2 || sxx == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	b = sxy / sxx
	if len(x) < 3 {
		return b, math.NaN(), math.NaN()
	}
	var sse float64
	for i := range x {
		r := y[i] - my - b*(x[i]-mx)
		sse += r * r
	}
	se := math.Sqrt(sse / (n - 2) / sxx)
	t := studentQuantile(0.975, n-2)
	return b, b - t*se, b + t*se
}

// studentQuantile is the p-quantile (p in (0.5, 1)) of Student's t with df degrees of freedom, by bisection on
// its distribution function P(T ≤ t) = 1 − I_{df/(df+t²)}(df/2, 1/2)/2.
func studentQuantile(p, df float64) float64 {
	cdf := func(t float64) float64 { return 1 - regIncBeta(df/(df+t*t), df/2, 0.5)/2 }
	lo, hi := 0.0, 1.0
	for cdf(hi) < p {
		hi *= 2
	}
	for range 200 {
		mid := (lo + hi) / 2
		if cdf(mid) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// regIncBeta is the regularised incomplete beta function I_x(a, b), by its continued fraction (modified Lentz),
// using the symmetry I_x(a, b) = 1 − I_{1−x}(b, a) where the fraction converges slowly.
func regIncBeta(x, a, b float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	case x > (a+1)/(a+b+2):
		return 1 - regIncBeta(1-x, b, a)
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab-la-lb+a*math.Log(x)+b*math.Log(1-x)) / a
	const tiny = 1e-300
	f, c, d := 1.0, 1.0, 0.0
	for i := 0; i <= 400; i++ {
		m := float64(i / 2)
		var num float64
		switch {
		case i == 0:
			num = 1
		case i%2 == 0:
			num = m * (b - m) * x / ((a + 2*m - 1) * (a + 2*m))
		default:
			num = -(a + m) * (a + b + m) * x / ((a + 2*m) * (a + 2*m + 1))
		}
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		d = 1 / d
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		cd := c * d
		f *= cd
		if math.Abs(1-cd) < 1e-15 {
			break
		}
	}
	return front * (f - 1)
}

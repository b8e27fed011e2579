package ref

// LocalLoss is losses.LocalLoss: Loss averaged over groups consecutive groups of the N examples of z [2N, k],
// each group's views contrasted only among themselves; DZ is the gradient of the average. groups must divide N.
func LocalLoss[T Float](z []T, n2, k, groups int, cfg LossConfig) LossResult[T] {
	n := n2 / 2
	m := n / groups
	out := LossResult[T]{DZ: make([]T, len(z))}
	for g := range groups {
		zg := make([]T, 0, 2*m*k)
		zg = append(zg, z[g*m*k:(g+1)*m*k]...)
		zg = append(zg, z[(n+g*m)*k:(n+(g+1)*m)*k]...)
		r := Loss(zg, 2*m, k, cfg)
		out.Loss += r.Loss / float64(groups)
		out.Align += r.Align / float64(groups)
		out.Unif += r.Unif / float64(groups)
		for i := range m * k { // the group's rows back in place, scaled by 1/groups
			out.DZ[g*m*k+i] += r.DZ[i] / T(groups)
			out.DZ[(n+g*m)*k+i] += r.DZ[m*k+i] / T(groups)
		}
	}
	return out
}

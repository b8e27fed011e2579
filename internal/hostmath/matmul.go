package hostmath

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// MatMul returns dst = op(a)·op(b), where op(a) is m×k and op(b) is k×n:
//
//	dst_ij = Σ_p op(a)_ip · op(b)_pj,   op(a) = aᵀ if transA (a stored k×m) else a (stored m×k),
//	                                    op(b) = bᵀ if transB (b stored n×k) else b (stored k×n)
//
// A nil dst allocates an m×n result; otherwise dst[:m*n] is overwritten and returned. dst must not overlap a
// or b. Products with at least smallWork multiply-adds run blocked in the GotoBLAS/BLIS manner: panels of
// op(a) and op(b) are packed into contiguous, zero-padded buffers (which also absorbs the transposes), a
// register-tiled micro-kernel (AVX-512 or AVX2 through simd/archsimd when built with GOEXPERIMENT=simd and
// the CPU has it, plain Go otherwise) computes mr×nr tiles of dst, and tiles of dst are shared out among
// runtime.GOMAXPROCS(0) goroutines. Within one output element the sum over p runs in order p = 0..k−1 in
// blocks of at most kcMax, so results do not depend on the number of goroutines.
//
// It panics if a dimension is negative or a slice is too short.
func MatMul[T Float](dst, a, b []T, m, k, n int, transA, transB bool) []T {
	if m < 0 || k < 0 || n < 0 {
		panic(fmt.Sprintf("hostmath: MatMul: negative dimension m=%d k=%d n=%d", m, k, n))
	}
	if len(a) < m*k || len(b) < k*n {
		panic(fmt.Sprintf("hostmath: MatMul: want len(a) ≥ %d and len(b) ≥ %d, got %d and %d", m*k, k*n, len(a), len(b)))
	}
	switch {
	case dst == nil:
		dst = make([]T, m*n) // already zero
	case len(dst) < m*n:
		panic(fmt.Sprintf("hostmath: MatMul: want len(dst) ≥ %d, got %d", m*n, len(dst)))
	default:
		dst = dst[:m*n]
		clear(dst) // the kernels accumulate into dst
	}
	if m == 0 || n == 0 || k == 0 {
		return dst
	}
	if m*n*k < smallWork {
		matMulNaive(dst, a, b, m, k, n, transA, transB)
		return dst
	}
	gemm(dst, a, b, m, k, n, transA, transB, kernelFor[T]())
	return dst
}

// Block sizes. kcMax bounds the depth of a packed panel so that one kc×nr panel of op(b) stays in L1 while
// the mc×kc block of op(a) streams from L2 (k is split into equal blocks kc ≤ kcMax, so that no block is
// short); mcMax and ncMax bound the tile of dst one task owns.
const (
	kcMax     = 256
	mcMax     = 96
	ncMax     = 768
	smallWork = 32 * 32 * 32 // multiply-adds below which packing costs more than it saves
	taskWork  = 1 << 19      // multiply-adds per goroutine below which one goroutine does all
)

// kernel is a micro-kernel: fn adds the product of an mr×kc packed panel of op(a), laid out [p][i], and a
// kc×nr packed panel of op(b), laid out [p][j], to the mr×nr tile c[i*ldc+j].
type kernel[T Float] struct {
	mr, nr int
	fn     func(kc int, a, b, c []T, ldc int)
}

// matMulNaive is the unblocked triple loop (i, p, j) for products too small to pack; dst is zero on entry.
func matMulNaive[T Float](dst, a, b []T, m, k, n int, transA, transB bool) {
	for i := range m {
		row := dst[i*n : (i+1)*n]
		for p := range k {
			aip := a[i*k+p]
			if transA {
				aip = a[p*m+i]
			}
			if transB {
				for j := range row {
					row[j] += aip * b[j*k+p]
				}
				continue
			}
			for j, bpj := range b[p*n : (p+1)*n] {
				row[j] += aip * bpj
			}
		}
	}
}

// gemm runs the blocked product. op(b) is packed once, by all goroutines together, into kc×nr panels
// (block q of kc rows at offset q·kc·nPad). The tasks are then the tiles of a grid over dst, at most
// mcMax×ncMax each; a goroutine packs the rows of op(a) its tile needs and takes tasks from an atomic counter,
// which keeps both cores busy when one of them is shared with other work.
func gemm[T Float](dst, a, b []T, m, k, n int, transA, transB bool, kn kernel[T]) {
	mr, nr := kn.mr, kn.nr
	rowTiles, colTiles := ceilDiv(m, mcMax), ceilDiv(n, ncMax)
	workers := max(1, min(runtime.GOMAXPROCS(0), m*n*k/taskWork))
	for rowTiles*colTiles < 3*workers && ceilDiv(m, rowTiles+1) >= 2*mr {
		rowTiles++ // finer tiles for balance, while a tile keeps a few micro-panels
	}
	mc := roundUp(ceilDiv(m, rowTiles), mr)
	nc := roundUp(ceilDiv(n, colTiles), nr)
	rowTiles, colTiles = ceilDiv(m, mc), ceilDiv(n, nc)
	tasks := rowTiles * colTiles
	workers = min(workers, tasks)

	nPad := roundUp(n, nr)
	bBuf := getPackBuf[T](k * nPad)
	bp := bBuf.s
	blocks := ceilDiv(k, kcMax)
	kcBlock := ceilDiv(k, blocks)
	panels := nPad / nr
	body := func(lo, hi int) {
		for t := lo; t < hi; t++ {
			p0, jr := (t/panels)*kcBlock, (t%panels)*nr
			kc := min(kcBlock, k-p0)
			packBPanel(bp[p0*nPad+jr*kc:p0*nPad+(jr+nr)*kc], b, k, n, transB, p0, kc, jr, nr)
		}
	}
	if workers == 1 {
		body(0, blocks*panels)
	} else {
		ParallelFor(blocks*panels, 1, body)
	}

	var next atomic.Int64
	work := func() {
		aBuf := getPackBuf[T](mc*kcBlock + mr*nr)
		ap, tmp := aBuf.s[:mc*kcBlock], aBuf.s[mc*kcBlock:]
		for t := int(next.Add(1) - 1); t < tasks; t = int(next.Add(1) - 1) {
			i0, j0 := (t/colTiles)*mc, (t%colTiles)*nc
			gemmTile(dst, a, bp, m, k, n, nPad, kcBlock, transA, kn, i0, min(mc, m-i0), j0, min(nc, n-j0), ap, tmp)
		}
		putPackBuf(aBuf)
	}
	if workers == 1 {
		work()
	} else {
		var wg sync.WaitGroup
		for range workers - 1 {
			wg.Go(work)
		}
		work()
		wg.Wait()
	}
	putPackBuf(bBuf)
}

// gemmTile adds op(a)[i0:i0+mc, :]·op(b)[:, j0:j0+nc] to dst, kcBlock columns of op(a) at a time, with op(b)
// already packed in bp. The loop order is BLIS's: a kc×nr panel of op(b) stays in L1 while the mr×kc panels
// of op(a) stream past it from L2.
func gemmTile[T Float](dst, a, bp []T, m, k, n, nPad, kcBlock int, transA bool, kn kernel[T], i0, mc, j0, nc int, ap, tmp []T) {
	mr, nr := kn.mr, kn.nr
	for p0 := 0; p0 < k; p0 += kcBlock {
		kc := min(kcBlock, k-p0)
		packA(ap, a, m, k, transA, i0, mc, p0, kc, mr)
		for jr := j0; jr < j0+nc; jr += nr {
			bPanel := bp[p0*nPad+jr*kc : p0*nPad+(jr+nr)*kc]
			for ir := 0; ir < mc; ir += mr {
				aPanel := ap[ir*kc : (ir+mr)*kc]
				if ir+mr <= mc && jr+nr <= n {
					kn.fn(kc, aPanel, bPanel, dst[(i0+ir)*n+jr:], n)
					continue
				}
				// Edge tile: compute the full mr×nr tile into tmp (the padding is zero), keep the valid part.
				clear(tmp)
				kn.fn(kc, aPanel, bPanel, tmp, nr)
				for i := range min(mr, mc-ir) {
					row := dst[(i0+ir+i)*n+jr:]
					for j := range min(nr, n-jr) {
						row[j] += tmp[i*nr+j]
					}
				}
			}
		}
	}
}

// packA copies op(a)[i0:i0+mc, p0:p0+kc] into dst as mr-row panels, each laid out [p][i] and zero-padded to
// mr rows: element (ir+i, p) goes to dst[ir*kc + p*mr + i].
func packA[T Float](dst, a []T, m, k int, transA bool, i0, mc, p0, kc, mr int) {
	for ir := 0; ir < mc; ir += mr {
		panel := dst[ir*kc : (ir+mr)*kc]
		rows := min(mr, mc-ir)
		switch {
		case rows < mr:
			clear(panel)
		case transA && mr == 3: // the SIMD kernels' panel: three contiguous values per p
			for p := range kc {
				src := a[(p0+p)*m+i0+ir:][:3]
				q := panel[3*p : 3*p+3 : 3*p+3]
				q[0], q[1], q[2] = src[0], src[1], src[2]
			}
			continue
		case !transA && mr == 3: // the SIMD kernels' panel, written in order from three row streams
			r0 := a[(i0+ir)*k+p0:][:kc]
			r1 := a[(i0+ir+1)*k+p0:][:kc]
			r2 := a[(i0+ir+2)*k+p0:][:kc]
			for p := range r0 {
				q := panel[3*p : 3*p+3 : 3*p+3]
				q[0], q[1], q[2] = r0[p], r1[p], r2[p]
			}
			continue
		}
		if transA { // a is k×m: op(a)_ip = a[p*m+i], contiguous in i
			for p := range kc {
				q := panel[p*mr : p*mr+rows]
				for i, v := range a[(p0+p)*m+i0+ir:][:rows] {
					q[i] = v
				}
			}
			continue
		}
		for i := range rows { // a is m×k: op(a)_ip = a[i*k+p], contiguous in p
			for p, v := range a[(i0+ir+i)*k+p0:][:kc] {
				panel[p*mr+i] = v
			}
		}
	}
}

// packBPanel copies op(b)[p0:p0+kc, j0:j0+nr] into dst [kc][nr], zero-padding the columns at and past n.
func packBPanel[T Float](dst, b []T, k, n int, transB bool, p0, kc, j0, nr int) {
	cols := min(nr, n-j0)
	if cols < nr {
		clear(dst)
	}
	if transB { // b is n×k: op(b)_pj = b[j*k+p], contiguous in p
		for j := range cols {
			for p, v := range b[(j0+j)*k+p0:][:kc] {
				dst[p*nr+j] = v
			}
		}
		return
	}
	for p := range kc { // b is k×n: op(b)_pj = b[p*n+j], contiguous in j
		copy(dst[p*nr:p*nr+cols], b[(p0+p)*n+j0:])
	}
}

// kernelGo is the plain-Go micro-kernel: a 2×4 register tile (8 accumulators, 4 values of op(b) and one of
// op(a) fit the 15 floating-point registers Go allocates on amd64; larger tiles spill and run slower).
func kernelGo[T Float](kc int, a, b, c []T, ldc int) {
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	a, b = a[:2*kc], b[:4*kc]
	for p := range kc {
		ap, bp := a[2*p:2*p+2:2*p+2], b[4*p:4*p+4:4*p+4]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		a0, a1 := ap[0], ap[1]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
	}
	r0, r1 := c[0:4:4], c[ldc:ldc+4:ldc+4]
	r0[0], r0[1], r0[2], r0[3] = r0[0]+c00, r0[1]+c01, r0[2]+c02, r0[3]+c03
	r1[0], r1[1], r1[2], r1[3] = r1[0]+c10, r1[1]+c11, r1[2]+c12, r1[3]+c13
}

// packBuf is a pooled packing buffer; pooling keeps MatMul from allocating once warm.
type packBuf[T Float] struct{ s []T }

var packPools sync.Map // element type (as a *T(nil) key) → *sync.Pool of *packBuf[T]

func getPackBuf[T Float](size int) *packBuf[T] {
	p, ok := packPools.Load((*T)(nil))
	if !ok {
		p, _ = packPools.LoadOrStore((*T)(nil), new(sync.Pool))
	}
	if b, ok := p.(*sync.Pool).Get().(*packBuf[T]); ok && cap(b.s) >= size {
		b.s = b.s[:size]
		return b
	}
	return &packBuf[T]{s: make([]T, size)}
}

func putPackBuf[T Float](b *packBuf[T]) {
	p, _ := packPools.Load((*T)(nil))
	p.(*sync.Pool).Put(b)
}

// TileCols returns n rounded up to whole column tiles of the micro-kernel MatMul uses for T on this CPU: the
// width MatMul pads an op(b) of n columns to, so callers can choose the cheaper of C and (Cᵀ)ᵀ.
func TileCols[T Float](n int) int { return roundUp(n, kernelFor[T]().nr) }

func ceilDiv(a, b int) int { return (a + b - 1) / b }
func roundUp(a, b int) int { return ceilDiv(a, b) * b }

// PeakGFLOPS measures the best throughput of MatMul on size×size operands, in 10⁹ floating-point operations
// (2·size³ per product) per second: it repeats the product for about dur and keeps the fastest run.
func PeakGFLOPS[T Float](size int, dur time.Duration) float64 {
	r := rand.New(rand.NewPCG(1, 2))
	a, b, c := make([]T, size*size), make([]T, size*size), make([]T, size*size)
	for i := range a {
		a[i], b[i] = T(r.NormFloat64()), T(r.NormFloat64())
	}
	best := time.Duration(1<<63 - 1)
	for start := time.Now(); time.Since(start) < dur || best == 1<<63-1; {
		t := time.Now()
		MatMul(c, a, b, size, size, size, false, false)
		best = min(best, time.Since(t))
	}
	return 2 * float64(size) * float64(size) * float64(size) / best.Seconds() / 1e9
}

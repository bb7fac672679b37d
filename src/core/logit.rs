//! L2-regularised logistic regression, fitted by Newton's method (iteratively reweighted least squares).
//!
//! The detector's topic model is `P(topic) = σ(b + Σ wᵢ·xᵢ)` over a few dozen interpretable features
//! ([`crate::core::detect`]); [`fit`] learns `b` and `w` from labelled rows by minimising
//!
//! ```text
//!   −Σ_rows [ y·ln p + (1−y)·ln(1−p) ]  +  ½·λ·Σᵢ wᵢ²        (the bias b is not penalised)
//! ```
//!
//! The objective is strictly convex for λ > 0, so Newton's method converges from zero in a handful of
//! steps, and the result does not depend on the order of rows or on a random seed: refitting the same
//! corpus gives the same weights. With λ > 0 a perfectly separable corpus still has a finite optimum.

/// The logistic function, computed without overflow for large |z|.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// A fitted model: intercept and one weight per feature column.
#[derive(Debug, Clone, PartialEq)]
pub struct Fit {
    pub bias: f64,
    pub weights: Vec<f64>,
}

impl Fit {
    /// The log-odds `b + w·x`.
    pub fn score(&self, x: &[f64]) -> f64 {
        self.bias + self.weights.iter().zip(x).map(|(w, v)| w * v).sum::<f64>()
    }
}

/// Newton steps at most (convergence takes 6–12 on the dev corpus).
const MAX_ITERATIONS: usize = 100;
/// Stop when no coefficient moves by more than this.
const TOLERANCE: f64 = 1e-10;
/// A tiny ridge on the bias keeps the Hessian positive definite when every label is the same.
const BIAS_RIDGE: f64 = 1e-8;

/// Fit `y ~ σ(b + w·x)` with L2 penalty `l2` on `w`. Every row of `x` must have the same length; rows
/// longer or shorter than the first are an error of the caller (the detector builds them).
pub fn fit(x: &[Vec<f64>], y: &[bool], l2: f64) -> Fit {
    let d = x.first().map_or(0, Vec::len);
    // Parameter vector θ = (b, w₁ … w_d).
    let mut theta = vec![0.0; d + 1];
    for _ in 0..MAX_ITERATIONS {
        let mut grad = vec![0.0; d + 1];
        let mut hess = vec![vec![0.0; d + 1]; d + 1];
        for (row, &label) in x.iter().zip(y) {
            let z = theta[0] + row.iter().zip(&theta[1..]).map(|(v, w)| v * w).sum::<f64>();
            let p = sigmoid(z);
            let r = p - if label { 1.0 } else { 0.0 };
            let s = p * (1.0 - p);
            // Augmented row (1, x); only the lower triangle of the Hessian is filled.
            let aug: Vec<f64> = std::iter::once(1.0).chain(row.iter().copied()).collect();
            for (i, &ai) in aug.iter().enumerate() {
                if ai == 0.0 {
                    continue;
                }
                grad[i] += r * ai;
                for (h, &aj) in hess[i].iter_mut().zip(&aug).take(i + 1) {
                    *h += s * ai * aj;
                }
            }
        }
        hess[0][0] += BIAS_RIDGE;
        grad[0] += BIAS_RIDGE * theta[0];
        for i in 1..=d {
            grad[i] += l2 * theta[i];
            hess[i][i] += l2;
        }
        let Some(step) = cholesky_solve(&mut hess, &grad) else {
            break;
        };
        let mut moved = 0.0f64;
        for (t, s) in theta.iter_mut().zip(&step) {
            *t -= s;
            moved = moved.max(s.abs());
        }
        if moved < TOLERANCE {
            break;
        }
    }
    Fit {
        bias: theta[0],
        weights: theta[1..].to_vec(),
    }
}

/// Solve `A·s = b` for a symmetric positive definite `A` given by its lower triangle (overwritten by the
/// Cholesky factor). `None` if `A` is not positive definite.
fn cholesky_solve(a: &mut [Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    for j in 0..n {
        let diag = a[j][j] - (0..j).map(|k| a[j][k] * a[j][k]).sum::<f64>();
        if diag <= 0.0 || !diag.is_finite() {
            return None;
        }
        let l = diag.sqrt();
        a[j][j] = l;
        for i in j + 1..n {
            a[i][j] = (a[i][j] - (0..j).map(|k| a[i][k] * a[j][k]).sum::<f64>()) / l;
        }
    }
    // L·u = b, then Lᵀ·s = u.
    let mut u = vec![0.0; n];
    for i in 0..n {
        u[i] = (b[i] - (0..i).map(|k| a[i][k] * u[k]).sum::<f64>()) / a[i][i];
    }
    let mut s = vec![0.0; n];
    for i in (0..n).rev() {
        s[i] = (u[i] - (i + 1..n).map(|k| a[k][i] * s[k]).sum::<f64>()) / a[i][i];
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gradient of the penalised negative log-likelihood at `f`.
    fn gradient(f: &Fit, x: &[Vec<f64>], y: &[bool], l2: f64) -> Vec<f64> {
        let mut g = vec![0.0; f.weights.len() + 1];
        for (row, &label) in x.iter().zip(y) {
            let r = sigmoid(f.score(row)) - if label { 1.0 } else { 0.0 };
            g[0] += r;
            for (gi, v) in g[1..].iter_mut().zip(row) {
                *gi += r * v;
            }
        }
        for (gi, w) in g[1..].iter_mut().zip(&f.weights) {
            *gi += l2 * w;
        }
        g
    }

    /// A deterministic pseudo-random corpus drawn from a known model.
    fn corpus(n: usize, truth: &[f64], bias: f64) -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let row: Vec<f64> = truth
                .iter()
                .map(|_| if next() < 0.3 { 1.0 } else { 0.0 })
                .collect();
            let z = bias + row.iter().zip(truth).map(|(a, b)| a * b).sum::<f64>();
            y.push(next() < sigmoid(z));
            x.push(row);
        }
        (x, y)
    }

    #[test]
    fn optimum_has_zero_gradient() {
        let (x, y) = corpus(400, &[3.0, -2.0, 0.0, 1.5], -1.0);
        for l2 in [0.1, 1.0, 10.0] {
            let f = fit(&x, &y, l2);
            let g = gradient(&f, &x, &y, l2);
            assert!(g.iter().all(|v| v.abs() < 1e-6), "l2={l2}: {g:?}");
        }
    }

    #[test]
    fn recovers_the_generating_weights() {
        let truth = [3.0, -2.0, 0.0, 1.5];
        let (x, y) = corpus(20_000, &truth, -1.0);
        let f = fit(&x, &y, 0.01);
        for (w, t) in f.weights.iter().zip(truth) {
            assert!((w - t).abs() < 0.2, "{:?} vs {truth:?}", f.weights);
        }
        assert!((f.bias + 1.0).abs() < 0.2, "{}", f.bias);
    }

    #[test]
    fn separable_data_stays_finite_and_penalty_shrinks() {
        let x = vec![vec![1.0], vec![1.0], vec![0.0], vec![0.0]];
        let y = [true, true, false, false];
        let loose = fit(&x, &y, 0.1);
        let tight = fit(&x, &y, 10.0);
        assert!(loose.weights[0].is_finite() && loose.weights[0] > tight.weights[0]);
        assert!(tight.weights[0] > 0.0);
        // A column that never fires gets no weight.
        let x = vec![vec![1.0, 0.0], vec![0.0, 0.0], vec![1.0, 0.0]];
        let f = fit(&x, &[true, false, true], 1.0);
        assert_eq!(f.weights[1], 0.0);
    }

    #[test]
    fn sigmoid_is_stable() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(800.0) == 1.0 && sigmoid(-800.0) == 0.0);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
    }
}

//! Small dense linear algebra in `f64` for ROME and MEMIT: a Cholesky factorisation of a
//! symmetric positive-definite matrix (the 1536 × 1536 second moment `C` of SmolLM2's
//! down-projection inputs) and solves with it.
//!
//! Matrices are row-major `Vec<f64>` of `n × n`. The factorisation is the row-oriented
//! (Cholesky–Banachiewicz) one: every inner product runs over two contiguous row prefixes of
//! `L`, so it vectorises; `n³/3` multiply-adds (≈ 1.2·10⁹ for n = 1536, about a second).

/// What can go wrong factoring or solving.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LinalgError {
    #[error("matrix of {len} values is not {n} x {n}")]
    Shape { n: usize, len: usize },
    #[error("matrix is not positive definite (pivot {pivot} is {value:e})")]
    NotPositiveDefinite { pivot: usize, value: f64 },
    #[error("non-finite value in the matrix")]
    NonFinite,
}

/// `A = L Lᵀ` with `L` lower triangular.
#[derive(Debug, Clone)]
pub struct Cholesky {
    n: usize,
    /// Row-major `n × n`; only the lower triangle is used.
    l: Vec<f64>,
}

impl Cholesky {
    /// Factors the symmetric positive-definite `a` (row-major `n × n`; only its lower
    /// triangle is read).
    pub fn new(a: &[f64], n: usize) -> Result<Self, LinalgError> {
        if a.len() != n * n {
            return Err(LinalgError::Shape { n, len: a.len() });
        }
        if a.iter().any(|v| !v.is_finite()) {
            return Err(LinalgError::NonFinite);
        }
        let mut l = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..=i {
                let (row_i, row_j) = (&l[i * n..i * n + j], &l[j * n..j * n + j]);
                let dot: f64 = row_i.iter().zip(row_j).map(|(x, y)| x * y).sum();
                let s = a[i * n + j] - dot;
                if i == j {
                    if s.is_nan() || s <= 0.0 || !s.is_finite() {
                        return Err(LinalgError::NotPositiveDefinite { pivot: i, value: s });
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        Ok(Self { n, l })
    }

    /// Factors `a + jitter · mean(diag a) · I`, raising the jitter (from `1e-10`, ×100 per
    /// try, at most `1e-2`) only if the plain matrix is not numerically positive definite.
    /// Returns the factor and the relative jitter used (0 when none was needed).
    pub fn new_with_jitter(a: &[f64], n: usize) -> Result<(Self, f64), LinalgError> {
        match Self::new(a, n) {
            Ok(c) => Ok((c, 0.0)),
            Err(LinalgError::NotPositiveDefinite { .. }) => {
                let mean_diag = (0..n).map(|i| a[i * n + i]).sum::<f64>() / n.max(1) as f64;
                let mut rel = 1e-10;
                loop {
                    let mut shifted = a.to_vec();
                    for i in 0..n {
                        shifted[i * n + i] += rel * mean_diag;
                    }
                    match Self::new(&shifted, n) {
                        Ok(c) => return Ok((c, rel)),
                        Err(e @ LinalgError::NotPositiveDefinite { .. }) if rel >= 1e-2 => {
                            return Err(e);
                        }
                        Err(LinalgError::NotPositiveDefinite { .. }) => rel *= 100.0,
                        Err(e) => return Err(e),
                    }
                }
            }
            Err(e) => Err(e),
        }
    }

    pub fn dim(&self) -> usize {
        self.n
    }

    /// `x = A⁻¹ b`.
    ///
    /// # Panics
    /// If `b.len() != n` (a programming error: callers size their vectors from the matrix).
    pub fn solve(&self, b: &[f64]) -> Vec<f64> {
        let n = self.n;
        assert_eq!(
            b.len(),
            n,
            "right-hand side of {} for a {n} x {n} system",
            b.len()
        );
        // L y = b
        let mut y = vec![0.0f64; n];
        for i in 0..n {
            let row = &self.l[i * n..i * n + i];
            let dot: f64 = row.iter().zip(&y[..i]).map(|(l, y)| l * y).sum();
            y[i] = (b[i] - dot) / self.l[i * n + i];
        }
        // Lᵀ x = y, done as column sweeps so `L` is read by rows.
        let mut x = y;
        for i in (0..n).rev() {
            x[i] /= self.l[i * n + i];
            let xi = x[i];
            let row = &self.l[i * n..i * n + i];
            for (xk, l) in x[..i].iter_mut().zip(row) {
                *xk -= l * xi;
            }
        }
        x
    }
}

/// `x = A⁻¹ b` for a small symmetric positive-definite `A` (row-major `n × n`).
pub fn solve_spd(a: &[f64], n: usize, b: &[f64]) -> Result<Vec<f64>, LinalgError> {
    Ok(Cholesky::new(a, n)?.solve(b))
}

/// `y = A x` for row-major `A` of `rows × cols`.
pub fn matvec(a: &[f64], rows: usize, cols: usize, x: &[f64]) -> Vec<f64> {
    (0..rows)
        .map(|r| {
            a[r * cols..(r + 1) * cols]
                .iter()
                .zip(x)
                .map(|(a, x)| a * x)
                .sum()
        })
        .collect()
}

pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_a_hand_computed_system() {
        // A = [[4, 2], [2, 3]], b = [2, 1] → x = [0.5, 0].
        let a = [4.0, 2.0, 2.0, 3.0];
        let x = solve_spd(&a, 2, &[2.0, 1.0]).unwrap();
        assert!((x[0] - 0.5).abs() < 1e-12 && x[1].abs() < 1e-12, "{x:?}");
    }

    #[test]
    fn rejects_indefinite_matrices() {
        let a = [1.0, 2.0, 2.0, 1.0];
        assert!(matches!(
            Cholesky::new(&a, 2),
            Err(LinalgError::NotPositiveDefinite { pivot: 1, .. })
        ));
        assert!(matches!(
            Cholesky::new(&a, 3),
            Err(LinalgError::Shape { .. })
        ));
    }
}

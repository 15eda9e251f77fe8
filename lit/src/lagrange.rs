//! Lagrange interpolation at zero in the exponent: the combined signature is
//! `sum_i lambda_i * share_i` with `lambda_i = prod_{j != i} x_j / (x_j - x_i)`.
//!
//! Two things make this fast: the coefficients need one field inversion in all (Montgomery's
//! batch inversion), and the sum is one multi-scalar multiplication (blst's Pippenger with the
//! `blst` backend) instead of t separate scalar multiplications.

use blsful::inner_types::{Field, G2Projective, Scalar};

/// The coefficients for interpolating at zero from distinct, non-zero `xs`. `None` if two are
/// equal or one is zero (callers refuse those before).
pub fn coefficients_at_zero(xs: &[Scalar]) -> Option<Vec<Scalar>> {
    let n = xs.len();
    // denominators d_i = x_i * prod_{j != i} (x_j - x_i); lambda_i = (prod_j x_j) / d_i
    let mut numerator = Scalar::ONE;
    for x in xs {
        numerator *= x;
    }
    let mut denominators = Vec::with_capacity(n);
    for (i, xi) in xs.iter().enumerate() {
        let mut d = *xi;
        for (j, xj) in xs.iter().enumerate() {
            if i != j {
                d *= *xj - xi;
            }
        }
        if bool::from(d.is_zero()) {
            return None;
        }
        denominators.push(d);
    }
    // Batch inversion: one inversion for all denominators.
    let mut prefix = Vec::with_capacity(n);
    let mut running = Scalar::ONE;
    for d in &denominators {
        prefix.push(running);
        running *= d;
    }
    let mut inverse = Option::<Scalar>::from(running.invert())?;
    let mut out = vec![Scalar::ZERO; n];
    for i in (0..n).rev() {
        out[i] = numerator * inverse * prefix[i];
        inverse *= denominators[i];
    }
    Some(out)
}

/// Below this many points one thread does the whole sum; above, the points are split
/// across the available cores and the partial sums added.
const PARALLEL_FROM: usize = 8;

/// `sum_i scalars_i * points_i`, split across cores for larger sets.
pub fn multi_scalar_mul(points: &[G2Projective], scalars: &[Scalar]) -> G2Projective {
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    if points.len() < PARALLEL_FROM || cores < 2 || points.len() != scalars.len() {
        return msm_one_thread(points, scalars);
    }
    let chunk = points.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let parts: Vec<_> = points
            .chunks(chunk)
            .zip(scalars.chunks(chunk))
            .map(|(p, s)| scope.spawn(move || msm_one_thread(p, s)))
            .collect();
        parts
            .into_iter()
            // A panicking part would be a bug in the curve library: fall back to one thread.
            .map(|h| h.join().ok())
            .try_fold(G2Projective::IDENTITY, |acc, part| part.map(|p| acc + p))
    })
    .unwrap_or_else(|| msm_one_thread(points, scalars))
}

#[cfg(feature = "blst")]
pub(crate) fn msm_one_thread(points: &[G2Projective], scalars: &[Scalar]) -> G2Projective {
    if points.is_empty() || points.len() != scalars.len() {
        return G2Projective::IDENTITY;
    }
    let raw: Vec<blst::blst_p2> = points.iter().map(|p| *p.as_ref()).collect();
    let affine = blst::p2_affines::from(&raw);
    let mut bytes = Vec::with_capacity(32 * scalars.len());
    for s in scalars {
        bytes.extend_from_slice(&s.to_le_bytes());
    }
    let mut out = G2Projective::IDENTITY;
    *out.as_mut() = affine.mult(&bytes, 255);
    out
}

#[cfg(not(feature = "blst"))]
pub(crate) fn msm_one_thread(points: &[G2Projective], scalars: &[Scalar]) -> G2Projective {
    G2Projective::sum_of_products(points, scalars)
}

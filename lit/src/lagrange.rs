//! Lagrange interpolation at zero in the exponent: the combined signature is
//! `sum_i lambda_i * share_i` with `lambda_i = prod_{j != i} x_j / (x_j - x_i)`.
//!
//! Three things make this fast: the coefficients need one field inversion in all (Montgomery's
//! batch inversion); the sum is one multi-scalar multiplication (blst's Pippenger with the
//! `blst` backend) instead of t separate scalar multiplications; and the GLS endomorphism
//! turns its 255-bit scalars into 64-bit ones (`crate::gls`).

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

/// `sum_i scalars_i * points_i` for points in G2 (every share is subgroup-checked when
/// parsed): the GLS expansion to 4t points with 64-bit scalars, then blst's Pippenger, which
/// spreads 32 points or more over the cores itself.
#[cfg(feature = "blst")]
pub fn multi_scalar_mul(points: &[G2Projective], scalars: &[Scalar]) -> G2Projective {
    if points.is_empty() || points.len() != scalars.len() {
        return G2Projective::IDENTITY;
    }
    match crate::gls::Gls::get() {
        Some(gls) => {
            let (expanded, digits) = gls.expand(points, scalars);
            pippenger(&expanded, &digits, 64)
        }
        None => {
            use blsful::inner_types::{Curve, G2Affine, PrimeCurveAffine};
            let mut affine = vec![G2Affine::identity(); points.len()];
            G2Projective::batch_normalize(points, &mut affine);
            let bytes: Vec<u8> = scalars.iter().flat_map(|s| s.to_le_bytes()).collect();
            pippenger(&affine, &bytes, 255)
        }
    }
}

#[cfg(feature = "blst")]
fn pippenger(
    points: &[blsful::inner_types::G2Affine],
    scalars_le: &[u8],
    bits: usize,
) -> G2Projective {
    use blst::MultiPoint;
    let raw: Vec<blst::blst_p2_affine> = points.iter().map(|p| *p.as_ref()).collect();
    let mut out = G2Projective::IDENTITY;
    *out.as_mut() = raw.as_slice().mult(scalars_le, bits);
    out
}

/// The pure-Rust backend (devnet): bls12_381_plus's sum of products, split over the cores.
#[cfg(not(feature = "blst"))]
pub fn multi_scalar_mul(points: &[G2Projective], scalars: &[Scalar]) -> G2Projective {
    if points.is_empty() || points.len() != scalars.len() {
        return G2Projective::IDENTITY;
    }
    let cores = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(4);
    let chunk = points.len().div_ceil(cores);
    std::thread::scope(|scope| {
        let parts: Vec<_> = points
            .chunks(chunk)
            .zip(scalars.chunks(chunk))
            .map(|(p, s)| scope.spawn(move || G2Projective::sum_of_products(p, s)))
            .collect();
        parts
            .into_iter()
            // A panicking part would be a bug in the curve library: fall back to one thread.
            .map(|h| h.join().ok())
            .try_fold(G2Projective::IDENTITY, |acc, part| part.map(|p| acc + p))
    })
    .unwrap_or_else(|| G2Projective::sum_of_products(points, scalars))
}

#[cfg(test)]
mod tests {
    use super::*;
    use blsful::inner_types::Group;

    /// The fast sum equals the schoolbook one, below and above blst's 32-point threading
    /// threshold, with scalars near both ends of the field.
    #[test]
    fn multi_scalar_mul_is_the_sum_of_products() {
        let g = G2Projective::generator();
        for n in [1usize, 2, 3, 7, 8, 9, 20, 31, 33] {
            let points: Vec<G2Projective> = (0..n)
                .map(|i| g * Scalar::from(1_000_003u64 * (i as u64 + 1)))
                .collect();
            let scalars: Vec<Scalar> = (0..n)
                .map(|i| match i % 3 {
                    0 => -Scalar::from(i as u64 + 1),
                    1 => Scalar::from(u64::MAX) * Scalar::from(u64::MAX - i as u64),
                    _ => Scalar::from(i as u64).invert().unwrap_or(Scalar::ONE),
                })
                .collect();
            let expected = points
                .iter()
                .zip(&scalars)
                .fold(G2Projective::IDENTITY, |acc, (p, s)| acc + p * s);
            assert_eq!(multi_scalar_mul(&points, &scalars), expected, "n = {n}");
        }
        assert!(bool::from(Group::is_identity(&multi_scalar_mul(&[], &[]))));
    }
}

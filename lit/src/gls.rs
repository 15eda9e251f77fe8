//! The Galbraith–Lin–Scott endomorphism of G2, to combine shares with 64-bit scalars.
//!
//! On G2 the "untwist–Frobenius–twist" map ψ acts as multiplication by the curve parameter
//! z = -0xd201000000010000 (Scott, "A note on group membership tests for G1, G2 and GT on
//! BLS pairing-friendly curves", 2021: P is in G2 iff ψ(P) = [z]P). Writing a scalar in
//! base |z| as k = d0 + d1·|z| + d2·|z|² + d3·|z|³ (r < |z|⁴, so four digits below 2^64):
//!
//! `[k]P = [d0]P + [d1](-ψ(P)) + [d2]ψ²(P) + [d3](-ψ³(P))`
//!
//! so a sum of t products with 255-bit scalars becomes one of 4t products with 64-bit
//! scalars, which Pippenger's method does in about half the group operations (a quarter of
//! the doublings). ψ of an affine point costs two Fp2 multiplications. The identity holds
//! only for points in G2; every share is subgroup-checked when parsed, and the combined
//! signature is verified by a pairing check afterwards, so a wrong sum is never accepted.
//!
//! The two constants of ψ (c_x and c_y, elements of Fp2) are derived, not copied: from the
//! generator G and [z]G, as c = ψ(G)/conj(G) coordinate-wise; then the map is checked on a
//! second point. If that check failed, `Gls::get` returns `None` and the callers use the
//! plain multi-scalar multiplication. blstrs_plus does not export its Fp2 type, so the pair
//! (c_x, c_y) is kept in a `G2Affine` used as a plain pair of Fp2 values (never as a point).

use std::sync::OnceLock;

use blsful::inner_types::{Curve, Field, G2Affine, G2Projective, Group, PrimeCurveAffine, Scalar};

/// |z| for BLS12-381.
const Z_ABS: u64 = 0xd201_0000_0001_0000;

/// The two Frobenius twist constants of ψ, checked.
#[derive(Debug, Clone, Copy)]
pub struct Gls {
    /// (c_x, c_y) as the coordinates of a G2Affine, not a curve point.
    constants: G2Affine,
}

impl Gls {
    /// The constants, derived and checked once per process.
    pub fn get() -> Option<&'static Gls> {
        static GLS: OnceLock<Option<Gls>> = OnceLock::new();
        GLS.get_or_init(Gls::derive).as_ref()
    }

    fn derive() -> Option<Gls> {
        let g = G2Projective::generator();
        let g_affine = g.to_affine();
        // ψ(G) = [z]G = -[|z|]G
        let psi_g = (-(g * Scalar::from(Z_ABS))).to_affine();
        let (mut gx, mut gy) = (g_affine.x(), g_affine.y());
        gx.frobenius_map(1);
        gy.frobenius_map(1);
        let c_x = psi_g.x() * gx.invert().into_option()?;
        let c_y = psi_g.y() * gy.invert().into_option()?;
        let gls = Gls {
            constants: G2Affine::from_raw_unchecked(c_x, c_y, false),
        };
        // A second, independent point: the constants are those of an endomorphism acting
        // as z, not just a fit to G.
        let other = g.double() + g;
        if G2Projective::from(gls.psi(&other.to_affine())) != -(other * Scalar::from(Z_ABS)) {
            return None;
        }
        Some(gls)
    }

    /// ψ of an affine point: conjugate both coordinates, multiply by the constants.
    pub fn psi(&self, point: &G2Affine) -> G2Affine {
        if bool::from(point.is_identity()) {
            return *point;
        }
        let mut x = point.x();
        x.frobenius_map(1);
        let mut y = point.y();
        y.frobenius_map(1);
        G2Affine::from_raw_unchecked(x * self.constants.x(), y * self.constants.y(), false)
    }

    /// The 4t points and 4t 64-bit little-endian scalars whose multi-scalar product equals
    /// `sum_i scalars_i * points_i` (for points in G2).
    pub fn expand(&self, points: &[G2Projective], scalars: &[Scalar]) -> (Vec<G2Affine>, Vec<u8>) {
        let mut affine = vec![G2Affine::identity(); points.len()];
        G2Projective::batch_normalize(points, &mut affine);
        let mut out_points = Vec::with_capacity(4 * points.len());
        let mut out_scalars = Vec::with_capacity(32 * points.len());
        for (p0, scalar) in affine.iter().zip(scalars) {
            let p1 = self.psi(p0);
            let p2 = self.psi(&p1);
            let p3 = self.psi(&p2);
            // [|z|]P = -ψ(P), [|z|²]P = ψ²(P), [|z|³]P = -ψ³(P)
            out_points.extend_from_slice(&[*p0, -p1, p2, -p3]);
            for digit in base_z_digits(scalar) {
                out_scalars.extend_from_slice(&digit.to_le_bytes());
            }
        }
        (out_points, out_scalars)
    }
}

/// The four base-|z| digits of a canonical scalar (each below |z| < 2^64). Scalars here are
/// Lagrange coefficients, which are public, so variable time is fine.
fn base_z_digits(scalar: &Scalar) -> [u64; 4] {
    let bytes = scalar.to_le_bytes();
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(bytes.chunks_exact(8)) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(word);
    }
    let mut digits = [0u64; 4];
    for digit in &mut digits {
        // limbs, remainder = limbs / |z|, limbs % |z| (long division from the top limb)
        let mut remainder: u128 = 0;
        for limb in limbs.iter_mut().rev() {
            let current = (remainder << 64) | u128::from(*limb);
            *limb = (current / u128::from(Z_ABS)) as u64;
            remainder = current % u128::from(Z_ABS);
        }
        *digit = remainder as u64;
    }
    digits
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endomorphism_is_multiplication_by_z() {
        let gls = Gls::get().expect("derived constants pass their check");
        let p = G2Projective::generator() * Scalar::from(123_456_789u64);
        let expected = -(p * Scalar::from(Z_ABS));
        assert_eq!(G2Projective::from(gls.psi(&p.to_affine())), expected);
    }

    #[test]
    fn digits_recompose_the_scalar() {
        for scalar in [
            Scalar::ZERO,
            Scalar::ONE,
            -Scalar::ONE,
            Scalar::from(Z_ABS),
            -Scalar::from(7u64),
        ] {
            let d = base_z_digits(&scalar);
            let z = Scalar::from(Z_ABS);
            let again = Scalar::from(d[0])
                + z * (Scalar::from(d[1]) + z * (Scalar::from(d[2]) + z * Scalar::from(d[3])));
            assert_eq!(again, scalar);
            assert!(d.iter().all(|digit| *digit < Z_ABS));
        }
    }
}

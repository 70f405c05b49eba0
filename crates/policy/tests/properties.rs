//! Property tests of the arithmetic: division-free comparisons agree with
//! exact rational comparisons, and every displayed figure is within half a
//! fen of the exact one.

use hedui_model::Fen;
use hedui_policy::arith::{per_capita_at_least, per_capita_below};
use hedui_policy::ratio::div_round_half_up;
use hedui_policy::{DeterminationCode as D, Ratio};
use proptest::prelude::*;

use crate::common::*;

/// `P < (a/b) × S` decided by floor division, a formulation independent of
/// cross-multiplication: `W / (L·n) < a·S / b` ⇔ `b·W < a·S·L·n`; with
/// integers, `x / y < k` (y > 0) ⇔ `floor(x / y) < k` when k is an integer,
/// so compare `floor(b·W / (L·n))` with `a·S`.
fn below_by_floor(w: i128, l: i128, n: i128, s: i128, a: i128, b: i128) -> bool {
    (b * w).div_euclid(l * n) < a * s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn division_free_comparisons_agree_with_rational_ones(
        w in 0i64..=10_000_000_000_000,
        n in 1u32..=30,
        s in 1i64..=10_000_000,
        l in 1u32..=120,
        a in 1u64..=20,
        b in 1u64..=20,
    ) {
        let factor = Ratio::new(a.max(b), b).unwrap();
        let (fa, fb) = (i128::from(factor.num()), i128::from(factor.den()));
        let (wi, li, ni, si) = (i128::from(w), i128::from(l), i128::from(n), i128::from(s));
        let c = per_capita_below(Fen(w), l, n, Fen(s), factor);
        prop_assert_eq!(c.holds(), below_by_floor(wi, li, ni, si, fa, fb));
        let c1 = per_capita_below(Fen(w), l, n, Fen(s), Ratio::whole(1));
        prop_assert_eq!(c1.holds(), wi.div_euclid(li * ni) < si);
        let at_least = per_capita_at_least(Fen(w), l, n, Fen(s));
        prop_assert_eq!(at_least.holds(), !c1.holds());
    }

    #[test]
    fn rounding_half_up_is_within_half_a_fen(num in -1_000_000_000_000i128..=1_000_000_000_000, den in 1i128..=100_000) {
        let q = div_round_half_up(num, den);
        // |q − num/den| ≤ 1/2  ⇔  |2·q·den − 2·num| ≤ den
        prop_assert!((2 * q * den - 2 * num).abs() <= den);
        // Exactly half rounds away from zero.
        if (2 * num) % (2 * den) == den {
            prop_assert!(q * den > num);
        }
        if num >= 0 && i64::try_from(num).is_ok() && i64::try_from(den).is_ok() {
            prop_assert_eq!(Fen(num as i64).div_round_half_up(den as i64).0 as i128, q);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn findings_agree_with_exact_arithmetic(w in 0i64..=8_000_000, extra in 0usize..=3) {
        let mut a = applicant();
        if w > 0 {
            other_income(&mut a, "2025-07", w);
        }
        let mut members = vec![a];
        for i in 0..extra {
            members.push(person("成员", "19850505", 100 + i as u32, hedui_model::codes::MemberRelation::Child));
        }
        let n = i128::try_from(members.len()).unwrap();
        let f = run(&household("2026-03-15", members));
        let (wi, l, s) = (i128::from(w), i128::from(L), i128::from(S));
        // P < S exactly as rationals.
        prop_assert_eq!(f.holds(D::Dibao), wi < s * l * n);
        prop_assert_eq!(f.holds(D::LowIncome), s * l * n <= wi && 2 * wi < 3 * s * l * n);
        // H and P shown within half a fen of W / L and W / (L n).
        let h = i128::from(f.income.monthly.0);
        prop_assert!((2 * h * l - 2 * wi).abs() <= l);
        let p = i128::from(f.income.per_capita.unwrap().0);
        prop_assert!((2 * p * l * n - 2 * wi).abs() <= l * n);
        if let Some(b) = &f.benefit {
            let amount = i128::from(b.amount.0);
            prop_assert!((2 * amount * b.denominator - 2 * b.numerator).abs() <= b.denominator);
            // No special member here (adults of working age): the gap alone.
            prop_assert_eq!(b.numerator, (s * n * l - wi) * 5);
        }
    }
}

//! The division-free comparisons of per-capita income with a standard.
//!
//! With `L = lookback_months`, `n` counted members and `W` the window
//! total, the per-capita monthly income is `P = W / (L × n)`. A comparison
//! of `P` with a multiple `a/b` of the standard `S` is made by
//! cross-multiplying, in `i128`, never by dividing:
//!
//! - `P < (a/b) × S` ⇔ `b × W < a × L × S × n`;
//! - `S ≤ P` ⇔ `L × S × n ≤ W`.
//!
//! The sides are returned as a [`Comparison`] so that a report shows
//! exactly what was compared.

use hedui_model::Fen;

use crate::findings::{Comparison, Op};
use crate::ratio::Ratio;

/// `P < factor × S`, as `den × W < num × L × S × n`.
pub fn per_capita_below(w: Fen, lookback: u32, n: u32, standard: Fen, factor: Ratio) -> Comparison {
    Comparison {
        lhs: factor.den_i128() * i128::from(w.0),
        op: Op::Lt,
        rhs: factor.num_i128() * i128::from(lookback) * i128::from(standard.0) * i128::from(n),
    }
}

/// `S ≤ P`, as `L × S × n ≤ W`.
pub fn per_capita_at_least(w: Fen, lookback: u32, n: u32, standard: Fen) -> Comparison {
    Comparison {
        lhs: i128::from(lookback) * i128::from(standard.0) * i128::from(n),
        op: Op::Le,
        rhs: i128::from(w.0),
    }
}

//! Determinations (rules §5) and benefits (差额救助), on integers only.
//!
//! With `L = lookback_months`, `S` the standard, `n` the counted members and
//! `W` the window total, `P = W / (L × n)`, so:
//!
//! | rule | compared as |
//! | --- | --- |
//! | `P < S` | `W < L × S × n` |
//! | `S ≤ P` | `L × S × n ≤ W` |
//! | `P < (a/b) × S` | `b × W < a × L × S × n` |
//! | `(W − E) / L / n < S` | `W − E < L × S × n` |
//! | `P < D / 12` (D per year) | `12 × W < L × n × D` |
//! | `E / W > a/b` | `b × E > a × W` |
//! | member net `/ L < S` | `net < L × S` |
//!
//! all in `i128`. A benefit is an exact fraction `num / den` of fen,
//! rounded half up once.

use hedui_model::Fen;

use crate::arith::{per_capita_at_least, per_capita_below};
use crate::assets::fen_display;
use crate::facts::RecordRef;
use crate::findings::{
    AssetTestName, AssetTests, Benefit, Comparison, Condition, Determination, DeterminationCode,
    Failure, MemberDetermination, Op, ParamValue, SpecialMember, SpecialReason, Trace,
};
use crate::policy::{PolicyVersion, RigidExpenseForm};
use crate::ratio::{Ratio, div_round_half_up};

/// What the determinations need of one counted member.
#[derive(Debug)]
pub(crate) struct MemberCase<'a> {
    pub(crate) id: &'a str,
    pub(crate) window_net: Fen,
    pub(crate) age: Option<i32>,
    pub(crate) severe: Vec<RecordRef>,
    pub(crate) tekun_certs: Vec<RecordRef>,
    pub(crate) special: Vec<SpecialReason>,
}

/// What the determinations need of the household.
#[derive(Debug)]
pub(crate) struct Case<'a> {
    pub(crate) policy: &'a PolicyVersion,
    pub(crate) standard: Fen,
    pub(crate) n: u32,
    pub(crate) w: Fen,
    pub(crate) expense: Fen,
    /// The expense records dated in the window.
    pub(crate) expense_records: Vec<RecordRef>,
    pub(crate) assets: &'a AssetTests,
    /// Counted members, in the request's order.
    pub(crate) members: Vec<MemberCase<'a>>,
}

#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) determinations: Vec<Determination>,
    pub(crate) benefit: Option<Benefit>,
    pub(crate) single_person: Vec<Benefit>,
}

fn from_comparison(name: &'static str, expr: &'static str, c: Comparison) -> Condition {
    Condition::compare(name, expr, c.lhs, c.op, c.rhs)
}

fn asset_conditions(assets: &AssetTests) -> Vec<Condition> {
    assets
        .all()
        .iter()
        .map(|t| Condition {
            name: t.name.code(),
            expr: match t.name {
                AssetTestName::Financial => "financial assets <= financial_months * S * n",
                AssetTestName::Housing => "residential certificates held <= max_residential",
                AssetTestName::Vehicles => "no vehicle held outside allowed_vehicle_kinds",
                AssetTestName::Business => "no flagged entity over business_capital_limit",
            },
            holds: t.pass,
            comparison: t.comparison,
            // The records are in the asset test of the same name.
            records: Vec::new(),
        })
        .collect()
}

impl Case<'_> {
    fn l(&self) -> i128 {
        i128::from(self.policy.params.lookback_months)
    }
    fn s(&self) -> i128 {
        i128::from(self.standard.0)
    }
    fn n(&self) -> i128 {
        i128::from(self.n)
    }
    fn w(&self) -> i128 {
        i128::from(self.w.0)
    }
    /// `L × S × n`: `W` at `P = S`.
    fn lsn(&self) -> i128 {
        self.l() * self.s() * self.n()
    }

    fn n_positive(&self) -> Condition {
        Condition::compare("n_positive", "n > 0", self.n(), Op::Gt, 0)
    }

    fn trace(&self, clause: &'static str) -> Trace {
        Trace::new(clause, &self.policy.policy_ref())
            .param("lookback_months", ParamValue::Int(self.l() as i64))
            .param("S", ParamValue::Money(self.standard))
            .value("W", ParamValue::Money(self.w))
            .value("n", ParamValue::Int(i64::from(self.n)))
    }

    fn household(
        &self,
        code: DeterminationCode,
        mut conditions: Vec<Condition>,
        trace: Trace,
    ) -> Determination {
        conditions.extend(asset_conditions(self.assets));
        Determination {
            code,
            holds: conditions.iter().all(|c| c.holds),
            conditions,
            members: Vec::new(),
            failed: Vec::new(),
            trace,
        }
    }

    fn dibao(&self) -> Determination {
        self.household(
            DeterminationCode::Dibao,
            vec![
                self.n_positive(),
                from_comparison(
                    "p_below_standard",
                    "P < S, as W < lookback_months * S * n",
                    per_capita_below(
                        self.w,
                        self.policy.params.lookback_months,
                        self.n,
                        self.standard,
                        Ratio::whole(1),
                    ),
                ),
            ],
            self.trace("rules §5 dibao: P < S and every asset test passes"),
        )
    }

    fn p_at_least_standard(&self) -> Condition {
        from_comparison(
            "p_at_least_standard",
            "S <= P, as lookback_months * S * n <= W",
            per_capita_at_least(
                self.w,
                self.policy.params.lookback_months,
                self.n,
                self.standard,
            ),
        )
    }

    fn low_income(&self) -> Determination {
        let f = self.policy.params.low_income_factor;
        self.household(
            DeterminationCode::LowIncome,
            vec![
                self.n_positive(),
                self.p_at_least_standard(),
                from_comparison(
                    "p_below_low_income_limit",
                    "P < low_income_factor * S, as den * W < num * lookback_months * S * n",
                    per_capita_below(
                        self.w,
                        self.policy.params.lookback_months,
                        self.n,
                        self.standard,
                        f,
                    ),
                ),
            ],
            self.trace(
                "rules §5 low_income: S <= P < low_income_factor * S and every asset test passes",
            )
            .param("low_income_factor", ParamValue::Ratio(f)),
        )
    }

    fn rigid_expense(&self) -> Determination {
        let e = i128::from(self.expense.0);
        match self.policy.params.rigid_expense {
            RigidExpenseForm::Seed => self.household(
                DeterminationCode::RigidExpense,
                vec![
                    self.n_positive(),
                    self.p_at_least_standard(),
                    Condition::compare(
                        "net_of_expense_below_standard",
                        "(W - E) / lookback_months / n < S, as W - E < lookback_months * S * n",
                        self.w() - e,
                        Op::Lt,
                        self.lsn(),
                    )
                    .with_records(self.expense_records.clone()),
                ],
                self.trace("rules §5 rigid_expense (seed documents): P >= S, (W - E) / lookback_months / n < S, every asset test passes")
                    .param("rigid_expense.form", ParamValue::Text("seed".to_owned()))
                    .value("E", ParamValue::Money(self.expense)),
            ),
            RigidExpenseForm::National2025 {
                disposable_income_per_year: d,
                expense_ratio: r,
            } => self.household(
                DeterminationCode::RigidExpense,
                vec![
                    self.n_positive(),
                    self.p_at_least_standard(),
                    Condition::compare(
                        "p_below_disposable_income",
                        "P < disposable_income_per_year / 12, as 12 * W < lookback_months * n * disposable_income_per_year",
                        12 * self.w(),
                        Op::Lt,
                        self.l() * self.n() * i128::from(d.0),
                    ),
                    Condition::compare(
                        "expense_share_above_ratio",
                        "E / W > expense_ratio, as den * E > num * W",
                        r.den_i128() * e,
                        Op::Gt,
                        r.num_i128() * self.w(),
                    )
                    .with_records(self.expense_records.clone()),
                ],
                self.trace("rules §5 rigid_expense (2025 national form): P >= S, P below last year's per-capita disposable income, E / W above expense_ratio, every asset test passes")
                    .param("rigid_expense.form", ParamValue::Text("national_2025".to_owned()))
                    .param("rigid_expense.disposable_income_per_year", ParamValue::Money(d))
                    .param("rigid_expense.expense_ratio", ParamValue::Ratio(r))
                    .value("E", ParamValue::Money(self.expense)),
            ),
        }
    }

    fn single_person(&self, low_income: bool) -> Determination {
        let mut conditions = vec![
            self.n_positive(),
            Condition::fact(
                "household_low_income",
                "the household is low_income",
                low_income,
                Vec::new(),
            ),
        ];
        conditions.extend(asset_conditions(self.assets));
        let members: Vec<MemberDetermination> = self
            .members
            .iter()
            .map(|m| {
                let c = Condition::fact(
                    "severely_disabled",
                    "a valid certificate of grade 1 or 2, or grade 3 intellectual or mental",
                    !m.severe.is_empty(),
                    m.severe.clone(),
                );
                MemberDetermination {
                    member: m.id.to_owned(),
                    holds: low_income && c.holds,
                    conditions: vec![c],
                }
            })
            .collect();
        Determination {
            code: DeterminationCode::SinglePerson,
            holds: conditions.iter().all(|c| c.holds) && members.iter().any(|m| m.holds),
            conditions,
            members,
            failed: Vec::new(),
            trace: self.trace("rules §5 single_person: the household is low_income and a counted member is severely disabled"),
        }
    }

    fn tekun(&self) -> Determination {
        let p = &self.policy.params;
        let minor = i64::from(p.tekun_minor_age);
        let mut conditions = vec![self.n_positive()];
        conditions.extend(asset_conditions(self.assets));
        let members: Vec<MemberDetermination> = self
            .members
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let by_age = m
                    .age
                    .is_some_and(|a| a >= 60 || i64::from(a) < minor);
                let unable = Condition::fact(
                    "unable_to_work",
                    "aged 60 or more, under tekun_minor_age, or a valid certificate: intellectual or mental grade 1-3, physical grade 1-2, visual grade 1",
                    by_age || !m.tekun_certs.is_empty(),
                    m.tekun_certs.clone(),
                );
                let own = Condition::compare(
                    "own_net_below_standard",
                    "the member's window_net < lookback_months * S",
                    i128::from(m.window_net.0),
                    Op::Lt,
                    self.l() * self.s(),
                );
                let others = self
                    .members
                    .iter()
                    .enumerate()
                    .filter(|(j, o)| *j != i && o.window_net > Fen::ZERO)
                    .count();
                let others = Condition::compare(
                    "no_other_positive_net",
                    "number of other counted members with window_net > 0 == 0",
                    others as i128,
                    Op::Eq,
                    0,
                );
                let conds = vec![unable, own, others];
                MemberDetermination {
                    member: m.id.to_owned(),
                    holds: conds.iter().all(|c| c.holds),
                    conditions: conds,
                }
            })
            .collect();
        Determination {
            code: DeterminationCode::TekunCandidate,
            holds: conditions.iter().all(|c| c.holds) && members.iter().any(|m| m.holds),
            conditions,
            members,
            failed: Vec::new(),
            trace: self
                .trace("rules §5 tekun_candidate: a counted member unable to work, own window net < lookback_months * S, every asset test passes, no other counted member with a positive window net; pending the manual check of legal supporters (法定义务人)")
                .param("tekun_minor_age", ParamValue::Int(minor)),
        }
    }

    fn ineligible(&self, others: &[Determination]) -> Determination {
        let names = |c: DeterminationCode| match c {
            DeterminationCode::Dibao => "not_dibao",
            DeterminationCode::LowIncome => "not_low_income",
            DeterminationCode::RigidExpense => "not_rigid_expense",
            DeterminationCode::SinglePerson => "not_single_person",
            DeterminationCode::TekunCandidate => "not_tekun_candidate",
            DeterminationCode::Ineligible => "ineligible",
        };
        let conditions: Vec<Condition> = others
            .iter()
            .map(|d| {
                Condition::fact(
                    names(d.code),
                    "the determination does not hold",
                    !d.holds,
                    Vec::new(),
                )
            })
            .collect();
        let holds = conditions.iter().all(|c| c.holds);
        let mut failed = Vec::new();
        if holds {
            for d in others {
                for c in d.conditions.iter().filter(|c| !c.holds) {
                    failed.push(Failure {
                        determination: d.code,
                        member: None,
                        condition: c.name,
                    });
                }
                for m in &d.members {
                    for c in m.conditions.iter().filter(|c| !c.holds) {
                        failed.push(Failure {
                            determination: d.code,
                            member: Some(m.member.clone()),
                            condition: c.name,
                        });
                    }
                }
            }
        }
        Determination {
            code: DeterminationCode::Ineligible,
            holds,
            conditions,
            members: Vec::new(),
            failed,
            trace: self.trace("rules §5 ineligible: none of the determinations holds; every failed test is listed"),
        }
    }

    fn increment(&self) -> (i128, i128) {
        let inc = self.policy.params.special_increment;
        (inc.num_i128(), inc.den_i128())
    }

    /// `max(0, S × n − H) + special_increment × S × k`, `H = W / L`:
    /// `(max(0, S·n·L − W) · b + a · S · k · L) / (L · b)`.
    fn dibao_benefit(&self) -> Benefit {
        let (a, b) = self.increment();
        let special: Vec<SpecialMember> = self
            .members
            .iter()
            .filter(|m| !m.special.is_empty())
            .map(|m| SpecialMember {
                member: m.id.to_owned(),
                reasons: m.special.clone(),
            })
            .collect();
        let k = special.len() as i128;
        let num = (self.lsn() - self.w()).max(0) * b + a * self.s() * k * self.l();
        let den = self.l() * b;
        Benefit {
            member: None,
            amount: fen_display(div_round_half_up(num, den)),
            numerator: num,
            denominator: den,
            special_members: special,
            trace: self
                .trace("rules §5 benefit: max(0, S * n - H) + special_increment * S per special member, rounded half up once")
                .param("special_increment", ParamValue::Ratio(self.policy.params.special_increment))
                .value("special_members", ParamValue::Int(k as i64)),
        }
    }

    /// `max(0, S − max(0, net) / L) + special_increment × S`:
    /// `(max(0, S·L − max(0, net)) · b + a · S · L) / (L · b)`.
    fn single_benefit(&self, m: &MemberCase<'_>) -> Benefit {
        let (a, b) = self.increment();
        let net = i128::from(m.window_net.0).max(0);
        let num = (self.s() * self.l() - net).max(0) * b + a * self.s() * self.l();
        let den = self.l() * b;
        Benefit {
            member: Some(m.id.to_owned()),
            amount: fen_display(div_round_half_up(num, den)),
            numerator: num,
            denominator: den,
            special_members: vec![SpecialMember {
                member: m.id.to_owned(),
                reasons: m.special.clone(),
            }],
            trace: Trace::new(
                "rules §5 single_person benefit: max(0, S - max(0, window_net) / lookback_months) + special_increment * S, rounded half up once",
                &self.policy.policy_ref(),
            )
            .param("lookback_months", ParamValue::Int(self.l() as i64))
            .param("S", ParamValue::Money(self.standard))
            .param("special_increment", ParamValue::Ratio(self.policy.params.special_increment))
            .value("window_net", ParamValue::Money(m.window_net)),
        }
    }
}

pub(crate) fn determine(case: &Case<'_>) -> Outcome {
    let dibao = case.dibao();
    let low_income = case.low_income();
    let rigid = case.rigid_expense();
    let single = case.single_person(low_income.holds);
    let tekun = case.tekun();
    let benefit = dibao.holds.then(|| case.dibao_benefit());
    let single_person: Vec<Benefit> = if single.holds {
        case.members
            .iter()
            .zip(&single.members)
            .filter(|(_, d)| d.holds)
            .map(|(m, _)| case.single_benefit(m))
            .collect()
    } else {
        Vec::new()
    };
    let mut determinations = vec![dibao, low_income, rigid, single, tekun];
    let ineligible = case.ineligible(&determinations);
    determinations.push(ineligible);
    Outcome {
        determinations,
        benefit,
        single_person,
    }
}

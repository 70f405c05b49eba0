//! Shared pieces of the generated world: dates as day numbers, money
//! constants, employers and unified social credit codes.

use chrono::Datelike;
use hedui_model::Date;

use crate::data::{self, COUNTIES};
use crate::rng::{Rng, domain};

/// Days from the common era of a date.
pub(crate) fn dn(d: Date) -> i32 {
    d.num_days_from_ce()
}

/// The date of a day number (clamped into chrono's range).
pub(crate) fn day(n: i32) -> Date {
    Date::from_num_days_from_ce_opt(n).unwrap_or(Date::MIN)
}

/// Fen per yuan.
pub(crate) const YUAN: i64 = 100;
/// 低保 standard of the reference policy, urban, fen per month.
pub(crate) const STANDARD_URBAN: i64 = 900 * YUAN;
/// 低保 standard of the reference policy, rural, fen per month.
pub(crate) const STANDARD_RURAL: i64 = 700 * YUAN;
/// Lower bound of the contribution base (60 % of the provincial average).
pub(crate) const BASE_MIN: i64 = 4_100 * YUAN;
/// Upper bound of the contribution base (300 %).
pub(crate) const BASE_MAX: i64 = 20_500 * YUAN;
/// Employment cost deducted per month with wage (policy default).
pub(crate) const EMPLOYMENT_COST: i64 = 300 * YUAN;

/// The monthly standard of a household kind.
pub(crate) fn standard(urban: bool) -> i64 {
    if urban {
        STANDARD_URBAN
    } else {
        STANDARD_RURAL
    }
}

/// Own share of social insurance of an employee: pension 8 %, medical
/// 2 %, unemployment 0.3 % of the base (fen).
pub(crate) fn own_contributions(base: i64, unemployment: bool) -> (i64, i64, i64) {
    let pension = base * 8 / 100;
    let medical = base * 2 / 100;
    let unemp = if unemployment { base * 3 / 1000 } else { 0 };
    (pension, medical, unemp)
}

/// The contribution base of a wage.
pub(crate) fn base_of(wage: i64) -> i64 {
    wage.clamp(BASE_MIN, BASE_MAX) / YUAN * YUAN
}

/// Monthly individual income tax withheld on a wage (a monthly
/// approximation of cumulative withholding: 5,000 yuan allowance, own
/// contributions deducted, the 7-bracket table).
pub(crate) fn wage_tax(gross: i64, contributions: i64) -> i64 {
    let taxable = gross - 5_000 * YUAN - contributions;
    if taxable <= 0 {
        return 0;
    }
    const BRACKETS: [(i64, i64, i64); 7] = [
        (3_000, 3, 0),
        (12_000, 10, 210),
        (25_000, 20, 1_410),
        (35_000, 25, 2_660),
        (55_000, 30, 4_410),
        (80_000, 35, 7_160),
        (i64::MAX / 1_000, 45, 15_160),
    ];
    for (upper, rate, quick) in BRACKETS {
        if taxable <= upper * YUAN {
            return (taxable * rate / 100 - quick * YUAN).max(0);
        }
    }
    0
}

/// Tax withheld on labour remuneration (劳务报酬): 20 % of the amount above
/// 800 yuan (up to 4,000), or of 80 % of it.
pub(crate) fn labour_tax(gross: i64) -> i64 {
    if gross <= 800 * YUAN {
        0
    } else if gross <= 4_000 * YUAN {
        (gross - 800 * YUAN) * 20 / 100
    } else {
        gross * 80 / 100 * 20 / 100
    }
}

/// The net monthly income (as the rules compute it) of a wage.
pub(crate) fn wage_net(gross: i64, unemployment: bool) -> i64 {
    let base = base_of(gross);
    let (p, m, u) = own_contributions(base, unemployment);
    let c = p + m + u;
    gross - c - wage_tax(gross, c) - EMPLOYMENT_COST.min(gross)
}

/// The gross wage whose net is `net` (binary search; at least the net).
pub(crate) fn gross_for_net(net: i64, unemployment: bool) -> i64 {
    let (mut lo, mut hi) = (net.max(0), net.max(0) * 3 + 2_000 * YUAN);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if wage_net(mid, unemployment) < net {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo / YUAN * YUAN
}

/// The characters of the unified social credit code (GB 32100-2015).
const USCC_CHARS: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A valid 18-character unified social credit code: `kind` is the first
/// two characters (`91` enterprise, `92` sole proprietor, `11` organ,
/// `12` public institution), then the region, a 9-character organisation
/// code with its GB 11714 check character, and the MOD 31 check character.
pub(crate) fn uscc(kind: &str, region: &str, rng: &mut Rng) -> String {
    let mut s = String::with_capacity(18);
    s.push_str(kind);
    s.push_str(region);
    // Organisation code: 8 characters and a GB 11714 check character.
    const ORG_W: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let mut org = [0u8; 8];
    let mut sum = 0;
    for (i, o) in org.iter_mut().enumerate() {
        // Digits, and letters of the USCC alphabet in the first positions
        // of enterprise codes, as issued.
        *o = if i < 2 && kind.starts_with('9') && rng.pct(40) {
            USCC_CHARS[10 + rng.index(21)]
        } else {
            b'0' + rng.below(10) as u8
        };
        let v = if o.is_ascii_digit() {
            u32::from(*o - b'0')
        } else {
            u32::from(*o - b'A') + 10
        };
        sum += v * ORG_W[i];
    }
    let c9 = 11 - sum % 11;
    let check = match c9 {
        10 => 'X',
        11 => '0',
        d => char::from(b'0' + d as u8),
    };
    for o in org {
        s.push(char::from(o));
    }
    s.push(check);
    let mut total = 0;
    for (i, c) in s.bytes().enumerate() {
        let v = USCC_CHARS.iter().position(|x| *x == c).unwrap_or(0) as u32;
        total += v * USCC_WEIGHTS[i];
    }
    let c18 = (31 - total % 31) % 31;
    s.push(char::from(USCC_CHARS[c18 as usize]));
    s
}

/// An employer (扣缴义务人 / 参保单位).
#[derive(Debug, Clone)]
pub(crate) struct Employer {
    pub(crate) name: String,
    pub(crate) code: String,
    /// Public organ or institution.
    pub(crate) public: bool,
    /// Percent of its employees with a housing fund.
    pub(crate) fund_pct: u32,
}

/// The employers of the city, and by county the indexes of its public
/// units, firms and civil-affairs bureau.
#[derive(Debug)]
pub(crate) struct Employers {
    pub(crate) all: Vec<Employer>,
    pub(crate) public_by_county: Vec<Vec<u32>>,
    pub(crate) firms_by_county: Vec<Vec<u32>>,
    pub(crate) civil_affairs: Vec<u32>,
}

impl Employers {
    pub(crate) fn generate(seed: u64, persons: usize) -> Employers {
        let mut rng = Rng::derive(seed, domain::EMPLOYERS, 0);
        let n_counties = COUNTIES.len();
        let mut all = Vec::new();
        let mut public_by_county = vec![Vec::new(); n_counties];
        let mut firms_by_county = vec![Vec::new(); n_counties];
        let mut civil_affairs = Vec::with_capacity(n_counties);
        for (ci, county) in COUNTIES.iter().enumerate() {
            for unit in data::COUNTY_UNITS {
                public_by_county[ci].push(all.len() as u32);
                let kind = if unit.contains("医院") || unit.contains("中学") {
                    "12"
                } else {
                    "11"
                };
                all.push(Employer {
                    name: unit.replace("{county}", county.name),
                    code: uscc(kind, county.code, &mut rng),
                    public: true,
                    fund_pct: 95,
                });
            }
            civil_affairs.push(all.len() as u32);
            all.push(Employer {
                name: data::CIVIL_AFFAIRS.replace("{county}", county.name),
                code: uscc("11", county.code, &mut rng),
                public: true,
                fund_pct: 100,
            });
        }
        for unit in data::CITY_UNITS {
            public_by_county[0].push(all.len() as u32);
            all.push(Employer {
                name: (*unit).to_owned(),
                code: uscc("12", data::PREFECTURE_CODE, &mut rng),
                public: true,
                fund_pct: 95,
            });
        }
        // Firms: distinct (prefix, mark, trade) combinations in a seeded
        // order.
        let marks = data::FIRM_MARKS.len();
        let trades = data::FIRM_TRADES.len();
        let prefixes = n_counties + 1;
        let combos = marks * trades * prefixes;
        let wanted = (persons / 150).clamp(30, combos);
        let step = coprime_step(combos, &mut rng);
        let start = rng.index(combos);
        for k in 0..wanted {
            let c = (start + k * step) % combos;
            let (p, rest) = (c % prefixes, c / prefixes);
            let (m, t) = (rest % marks, rest / marks);
            let (county, prefix) = if p == n_counties {
                (rng.index(n_counties), data::PREFECTURE.to_owned())
            } else {
                (p, format!("{}{}", data::PREFECTURE, COUNTIES[p].name))
            };
            let suffix = if rng.pct(70) {
                "有限公司"
            } else {
                "有限责任公司"
            };
            firms_by_county[county].push(all.len() as u32);
            all.push(Employer {
                name: format!(
                    "{prefix}{}{}{suffix}",
                    data::FIRM_MARKS[m],
                    data::FIRM_TRADES[t]
                ),
                code: uscc("91", COUNTIES[county].code, &mut rng),
                public: false,
                fund_pct: rng.range(5, 60) as u32,
            });
        }
        Employers {
            all,
            public_by_county,
            firms_by_county,
            civil_affairs,
        }
    }

    /// An employer for a person of `county`: public with probability
    /// `public_pct`, in another county 15 % of the time.
    pub(crate) fn choose(&self, county: usize, public_pct: u32, rng: &mut Rng) -> u32 {
        let county = if rng.pct(15) {
            rng.index(COUNTIES.len())
        } else {
            county
        };
        let public = rng.pct(public_pct);
        let list = if public || self.firms_by_county[county].is_empty() {
            &self.public_by_county[county]
        } else {
            &self.firms_by_county[county]
        };
        *rng.pick(list)
    }
}

/// A step coprime with `n`, for walking `0..n` in a seeded order.
pub(crate) fn coprime_step(n: usize, rng: &mut Rng) -> usize {
    if n <= 1 {
        return 1;
    }
    loop {
        let s = 1 + rng.index(n - 1);
        if gcd(s, n) == 1 {
            return s;
        }
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_check_characters() {
        // A published example code: 91350100M000100Y43.
        let code = "91350100M000100Y4";
        let mut total = 0;
        for (i, c) in code.bytes().enumerate() {
            total += USCC_CHARS.iter().position(|x| *x == c).unwrap() as u32 * USCC_WEIGHTS[i];
        }
        assert_eq!(USCC_CHARS[((31 - total % 31) % 31) as usize], b'3');
        let mut rng = Rng::new(3);
        let c = uscc("92", "530302", &mut rng);
        assert_eq!(c.len(), 18);
        assert!(c.starts_with("92530302"));
        assert!(c.bytes().all(|b| USCC_CHARS.contains(&b)));
    }

    #[test]
    fn wage_inversion() {
        for net in [500 * YUAN, 2_000 * YUAN, 6_000 * YUAN, 30_000 * YUAN] {
            let g = gross_for_net(net, true);
            let back = wage_net(g, true);
            assert!((back - net).abs() <= 2 * YUAN, "{net} {g} {back}");
        }
        assert_eq!(wage_tax(5_000 * YUAN, 0), 0);
        assert_eq!(wage_tax(10_000 * YUAN, 0), 290 * YUAN);
    }
}

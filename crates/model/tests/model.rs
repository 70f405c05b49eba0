//! Property tests of the parsers and arithmetic of `hedui-model`.

mod id {
    use hedui_model::id::check_char;
    use hedui_model::{IdInvalid, IdNumber};
    use proptest::prelude::*;

    /// A valid 18-character number: a province prefix, a real date, any
    /// sequence code, and its check character.
    fn valid_id() -> impl Strategy<Value = String> {
        (
            prop::sample::select(vec![11u32, 31, 44, 53, 65, 81]),
            0u32..10_000,
            1900i32..2030,
            1u32..=12,
            1u32..=28,
            0u32..1000,
        )
            .prop_map(|(p, county, y, m, d, seq)| {
                let body = format!("{p:02}{county:04}{y:04}{m:02}{d:02}{seq:03}");
                let c = check_char(body.as_bytes()).unwrap() as char;
                format!("{body}{c}")
            })
    }

    proptest! {
        #[test]
        fn valid_numbers_round_trip(s in valid_id()) {
            let p = IdNumber::parse(&s);
            let id = p.id().expect("generated number is valid");
            prop_assert_eq!(id.as_str(), s.as_str());
            prop_assert_eq!(p.status_code(), "valid");
            prop_assert_eq!(id.region_code(), &s[..6]);
            prop_assert_eq!(id.birth_date().format("%Y%m%d").to_string(), &s[6..14]);
            // And the same through the dirty forms departments send.
            let lower = s.to_lowercase();
            let spaced = format!("{} {} {}", &s[..6], &s[6..14], &s[14..]);
            let full: String = s.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            for dirty in [lower, spaced, full] {
                prop_assert_eq!(IdNumber::parse(&dirty).id(), Some(id));
            }
        }

        #[test]
        fn every_single_digit_change_is_detected(s in valid_id(), pos in 0usize..18, delta in 1u8..10) {
            let mut b = s.clone().into_bytes();
            let c = b[pos];
            let digit = if c == b'X' { 10 } else { c - b'0' };
            let new = (digit + delta) % if pos == 17 { 11 } else { 10 };
            b[pos] = if new == 10 { b'X' } else { b'0' + new };
            prop_assume!(b[pos] != c);
            let changed = String::from_utf8(b).unwrap();
            prop_assert!(IdNumber::parse(&changed).id().is_none(), "{} accepted", changed);
        }

        #[test]
        fn every_adjacent_transposition_is_detected(s in valid_id(), pos in 0usize..17) {
            let mut b = s.clone().into_bytes();
            prop_assume!(b[pos] != b[pos + 1]);
            b.swap(pos, pos + 1);
            let swapped = String::from_utf8(b).unwrap();
            prop_assert!(IdNumber::parse(&swapped).id().is_none(), "{} accepted", swapped);
        }

        #[test]
        fn legacy_numbers_upgrade(p in prop::sample::select(vec![11u32, 53]), county in 0u32..10_000,
                                  y in 0u32..100, m in 1u32..=12, d in 1u32..=28, seq in 0u32..1000) {
            let legacy = format!("{p:02}{county:04}{y:02}{m:02}{d:02}{seq:03}");
            let parsed = IdNumber::parse(&legacy);
            prop_assert_eq!(parsed.status_code(), "upgraded");
            let id = parsed.id().unwrap();
            let body = format!("{}19{}", &legacy[..6], &legacy[6..]);
            prop_assert_eq!(&id.as_str()[..17], body.as_str());
            prop_assert_eq!(IdNumber::parse(id.as_str()).id(), Some(id));
        }

        #[test]
        fn parse_never_panics_and_keeps_raw(s in ".{0,30}") {
            let p = IdNumber::parse(&s);
            prop_assert_eq!(&p.raw, &s);
            if let Err(e) = p.result {
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn typed_reasons_name_the_fault() {
        assert_eq!(IdNumber::parse("  ").result, Err(IdInvalid::Missing));
        assert!(matches!(
            IdNumber::parse("5303021980010112").result,
            Err(IdInvalid::Length { len: 16 })
        ));
    }
}

mod name {
    use hedui_model::PersonName;
    use hedui_model::name::{MIDDLE_DOT_LOOKALIKES, normalise, to_traditional};
    use proptest::prelude::*;

    const HAN: &[char] = &[
        '张', '王', '李', '刘', '陈', '杨', '黄', '赵', '伟', '芳', '娜', '敏', '静', '丽', '强',
        '磊', '军', '洋', '勇', '艳', '杰', '娟', '涛', '明', '超', '秀', '英', '华', '国', '建',
        '龙', '凤',
    ];

    fn han_name() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(HAN), 2..4).prop_map(|v| v.into_iter().collect())
    }

    fn noise(name: &str, spaces: &[usize]) -> String {
        let mut out = String::new();
        for (i, c) in name.chars().enumerate() {
            if spaces.contains(&i) {
                out.push(['\u{3000}', ' ', '\u{00A0}'][i % 3]);
            }
            out.push(c);
        }
        out
    }

    proptest! {
        #[test]
        fn normal_form_is_idempotent(s in ".{0,12}") {
            let once = normalise(&s);
            prop_assert_eq!(normalise(&once), once.clone());
            prop_assert!(!once.chars().any(char::is_whitespace));
        }

        #[test]
        fn spaces_and_traditional_forms_agree(n in han_name(), spaces in prop::collection::vec(0usize..4, 0..3)) {
            let base = PersonName::new(&n);
            prop_assert!(PersonName::new(&noise(&n, &spaces)).agrees_with(&base));
            let trad = to_traditional(&n);
            prop_assert!(PersonName::new(&trad).agrees_with(&base), "{} vs {}", trad, n);
            prop_assert_eq!(PersonName::new(&trad).pinyin_key(), base.pinyin_key());
        }

        #[test]
        fn every_middle_dot_agrees(a in han_name(), b in han_name(), dot in prop::sample::select(MIDDLE_DOT_LOOKALIKES)) {
            let canonical = PersonName::new(&format!("{a}·{b}"));
            let variant = PersonName::new(&format!("{a}{dot}{b}"));
            prop_assert!(variant.agrees_with(&canonical));
        }

        #[test]
        fn fullwidth_latin_folds(s in "[A-Za-z]{1,8}") {
            let full: String = s.chars().map(|c| char::from_u32(c as u32 + 0xFEE0).unwrap()).collect();
            prop_assert_eq!(normalise(&full), s.to_lowercase());
        }
    }
}

mod money {
    use hedui_model::Fen;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn display_parse_round_trip(v in -1_000_000_000_000i64..1_000_000_000_000) {
            prop_assert_eq!(Fen::parse_yuan(&Fen(v).to_string()), Ok(Fen(v)));
        }

        #[test]
        fn decimal_and_string_agree(v in -1_000_000_000i64..1_000_000_000, extra in 0u32..4) {
            let scale = 2 + extra as i8;
            let scaled = i128::from(v) * 10i128.pow(extra);
            prop_assert_eq!(Fen::from_decimal(scaled, scale), Ok(Fen(v)));
            let text = format!("{}{}", Fen(v), "0".repeat(extra as usize));
            prop_assert_eq!(Fen::parse_yuan(&text), Ok(Fen(v)));
        }

        #[test]
        fn one_decimal_is_tens_of_fen(y in 0i64..1_000_000, d in 0i64..10) {
            prop_assert_eq!(Fen::parse_yuan(&format!("{y}.{d}")), Ok(Fen(y * 100 + d * 10)));
        }

        #[test]
        fn rounding_is_half_up_and_close(v in -10_000_000i64..10_000_000, n in 1i64..13) {
            let r = Fen(v).div_round_half_up(n).0;
            // |r*n - v| <= n/2, and exact halves go away from zero.
            let diff = r * n - v;
            prop_assert!(2 * diff.abs() <= n);
            if 2 * diff.abs() == n {
                prop_assert!(diff.signum() == v.signum());
            }
        }
    }
}

mod time {
    use hedui_model::Month;
    use hedui_model::time::{age_on, parse_date};
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn month_display_parse_round_trip(y in 1900i32..2100, m in 1u32..=12) {
            let month = Month::new(y, m).unwrap();
            prop_assert_eq!(Month::parse(&month.to_string()), Ok(month));
            prop_assert_eq!(month.plus(12).year(), y + 1);
            prop_assert_eq!(Month::of(month.last_day()), month);
        }

        #[test]
        fn window_is_the_full_months_before(y in 2000i32..2090, m in 1u32..=12, d in 1u32..=28, n in 1u32..25) {
            let date = parse_date(&format!("{y:04}-{m:02}-{d:02}")).unwrap();
            let w = Month::window_before(date, n);
            prop_assert_eq!(w.len(), n as usize);
            prop_assert_eq!(w.last().unwrap().plus(1), Month::of(date));
            prop_assert!(w.windows(2).all(|p| p[0].plus(1) == p[1]));
        }

        #[test]
        fn age_increases_on_the_birthday(y in 1930i32..2020, m in 1u32..=12, d in 1u32..=28, k in 0i32..90) {
            let birth = parse_date(&format!("{y:04}-{m:02}-{d:02}")).unwrap();
            let birthday = parse_date(&format!("{:04}-{m:02}-{d:02}", y + k)).unwrap();
            prop_assert_eq!(age_on(birth, birthday), k);
            prop_assert_eq!(age_on(birth, birthday.pred_opt().unwrap()), k - 1);
        }
    }
}

mod codes {
    use hedui_model::CodeList;
    use hedui_model::codes::*;

    fn every_code_and_label_round_trips<C: CodeList + PartialEq + std::fmt::Debug>() {
        for c in C::ALL {
            assert_eq!(C::parse(c.code()), Some(*c), "{} {}", C::LIST, c.code());
            for alias in c.aliases() {
                assert_eq!(C::parse(alias), Some(*c), "{} {alias}", C::LIST);
            }
        }
    }

    #[test]
    fn all_lists() {
        every_code_and_label_round_trips::<Gender>();
        every_code_and_label_round_trips::<HukouKind>();
        every_code_and_label_round_trips::<HukouStatus>();
        every_code_and_label_round_trips::<DeathKind>();
        every_code_and_label_round_trips::<IncomeKind>();
        every_code_and_label_round_trips::<SocialInsuranceKind>();
        every_code_and_label_round_trips::<Insurance>();
        every_code_and_label_round_trips::<Scheme>();
        every_code_and_label_round_trips::<PropertyUsage>();
        every_code_and_label_round_trips::<VehicleKind>();
        every_code_and_label_round_trips::<AccountKind>();
        every_code_and_label_round_trips::<BusinessRole>();
        every_code_and_label_round_trips::<BusinessStatus>();
        every_code_and_label_round_trips::<DisabilityCategory>();
        every_code_and_label_round_trips::<ExpenseCategory>();
        every_code_and_label_round_trips::<StaffRelation>();
        every_code_and_label_round_trips::<Assistance>();
        every_code_and_label_round_trips::<MemberRelation>();
    }
}

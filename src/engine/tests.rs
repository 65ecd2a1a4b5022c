//! The regulation's rules, pinned with numbers worked out by hand (shown in each comment).

use super::*;
use crate::instrument::Registry;
use proptest::prelude::*;
use std::sync::Arc;

fn instrument(key: &str) -> Arc<Instrument> {
    Registry::built_in().unwrap().get(key).unwrap().clone()
}

fn skm() -> Arc<Instrument> {
    instrument("skm-2017")
}

/// `n` responses in which the first `fours` answer 4 to every item and the rest answer `rest`.
fn uniform(instrument: &Instrument, n: usize, fours: usize, rest: i64) -> Tally {
    let k = instrument.items.len();
    let mut tally = Tally::new(instrument);
    for r in 0..n {
        let v = if r < fours { 4 } else { rest };
        tally.add(instrument, &Answers(vec![Some(v); k])).unwrap();
    }
    tally
}

fn report(instrument: &Instrument, tally: &Tally, mode: Option<&str>) -> IndexReport {
    let options = Options {
        mode: mode.map(str::to_owned),
        ..Options::default()
    };
    compute(instrument, tally, &options).unwrap()
}

fn ikm_text(r: &IndexReport) -> String {
    r.ikm.as_ref().unwrap().format(',')
}

#[test]
fn published_example_84_36_is_grade_b_baik() {
    // 100 respondents. U1..U8: 37 answer 4 and 63 answer 3 (sum 337); U9: 41 fours, 59 threes
    // (sum 341). Σ NRR = 8 × 3,37 + 3,41 = 30,37; index = 30,37 / 9 = 3,374444...;
    // IKM = 3037 / 36 = 84,3611... -> 84,36, in 76,61-88,30: B, Baik.
    let skm = skm();
    let mut tally = Tally::new(&skm);
    for r in 0..100 {
        let mut answers = vec![Some(if r < 37 { 4 } else { 3 }); 9];
        answers[8] = Some(if r < 41 { 4 } else { 3 });
        tally.add(&skm, &Answers(answers)).unwrap();
    }
    let r = report(&skm, &tally, None);
    assert_eq!(ikm_text(&r), "84,36");
    assert_eq!(r.grade.as_deref(), Some("B"));
    assert_eq!(r.performance.as_deref(), Some("Baik"));
    assert_eq!(r.index.as_ref().unwrap().format(','), "3,3744");
    assert_eq!(r.items[0].total, 337);
    assert_eq!(r.items[0].nrr.as_ref().unwrap().format(','), "3,370");
    assert_eq!(r.items[8].nrr.as_ref().unwrap().format(','), "3,410");
    assert_eq!(r.respondents, 100);
}

#[test]
fn a_single_all_four_response_is_100_and_grade_a() {
    let skm = skm();
    let r = report(&skm, &uniform(&skm, 1, 1, 4), None);
    assert_eq!(ikm_text(&r), "100,00");
    assert_eq!(r.grade.as_deref(), Some("A"));
    assert_eq!(r.performance.as_deref(), Some("Sangat baik"));
    assert_eq!(r.index.as_ref().unwrap().format(','), "4,0000");
}

#[test]
fn a_perfect_score_in_form_mode_is_99_90() {
    // 4 × 0,111 × 9 = 3,996; × 25 = 99,90.
    let skm = skm();
    let r = report(&skm, &uniform(&skm, 3, 3, 4), Some("form-0.111"));
    assert_eq!(ikm_text(&r), "99,90");
    assert_eq!(r.grade.as_deref(), Some("A"));
    assert_eq!(r.mode, "form-0.111");
    assert_eq!(
        r.items[0].weighted_nrr.as_ref().unwrap().format(','),
        "0,4440"
    );
}

#[test]
fn all_ones_in_form_mode_falls_below_25_and_takes_the_lowest_grade() {
    // 1 × 0,111 × 9 × 25 = 24,975 -> 24,98, below the table: grade D.
    let skm = skm();
    let r = report(&skm, &uniform(&skm, 2, 0, 1), Some("form-0.111"));
    assert_eq!(ikm_text(&r), "24,98");
    assert_eq!(r.grade.as_deref(), Some("D"));
}

#[test]
fn an_exact_tie_at_80_005_rounds_half_up_to_80_01() {
    // 5000 respondents, every item 1001 fours and 3999 threes: NRR = 16001 / 5000 = 3,2002;
    // IKM = 3,2002 × 25 = 80,005 exactly -> 80,01 (B).
    let skm = skm();
    let r = report(&skm, &uniform(&skm, 5000, 1001, 3), None);
    assert_eq!(ikm_text(&r), "80,01");
    assert_eq!(r.grade.as_deref(), Some("B"));
}

/// Band edges: (respondents, fours, rest, expected IKM, grade). Each item gets the same answers.
#[test]
fn values_on_each_band_edge_take_the_grade_of_their_printed_number() {
    let cases = [
        // 2500 resp.: 1499 threes + 1001 twos = 6499 -> 2,5996 × 25 = 64,99: D.
        (2500, 0, 0, "64,99", "D"),
        // 5 resp.: 3 threes + 2 twos = 13 -> 2,6 × 25 = 65,00: C.
        (5, 0, 0, "65,00", "C"),
        // 125 resp.: 8 fours + 117 threes = 383 -> 3,064 × 25 = 76,60: C.
        (125, 8, 3, "76,60", "C"),
        // 2500 resp.: 161 fours + 2339 threes = 7661 -> 3,0644 × 25 = 76,61: B.
        (2500, 161, 3, "76,61", "B"),
        // 5000 resp.: 321 fours + 4679 threes = 15321 -> 3,0642 × 25 = 76,605 -> 76,61: B.
        (5000, 321, 3, "76,61", "B"),
        // 250 resp.: 133 fours + 117 threes = 883 -> 3,532 × 25 = 88,30: B.
        (250, 133, 3, "88,30", "B"),
        // 2500 resp.: 1331 fours + 1169 threes = 8831 -> 3,5324 × 25 = 88,31: A.
        (2500, 1331, 3, "88,31", "A"),
    ];
    let skm = skm();
    for (n, fours, rest, ikm, grade) in cases {
        let tally = if rest == 0 {
            // The two lowest cases mix threes and twos: the first `threes` answer 3.
            let threes = if n == 2500 { 1499 } else { 3 };
            let mut t = Tally::new(&skm);
            for r in 0..n {
                t.add(
                    &skm,
                    &Answers(vec![Some(if r < threes { 3 } else { 2 }); 9]),
                )
                .unwrap();
            }
            t
        } else {
            uniform(&skm, n, fours, rest)
        };
        let r = report(&skm, &tally, None);
        assert_eq!(ikm_text(&r), ikm, "{n} respondents");
        assert_eq!(r.grade.as_deref(), Some(grade), "{ikm}");
        assert!(
            r.items.iter().all(|i| i.grade.as_deref() == Some(grade)),
            "item grades at {ikm}"
        );
    }
}

#[test]
fn the_grade_table_reads_band_edges_as_printed() {
    let skm = skm();
    let grade = |v: &str| skm.grade(&exact::Fixed::parse(v).unwrap()).letter.clone();
    for (v, g) in [
        ("25.00", "D"),
        ("64.99", "D"),
        ("65.00", "C"),
        ("76.60", "C"),
        ("76.61", "B"),
        ("88.30", "B"),
        ("88.31", "A"),
        ("100.00", "A"),
    ] {
        assert_eq!(grade(v), g, "{v}");
    }
}

#[test]
fn a_population_weighted_rollup_weights_each_childs_exact_ikm() {
    // Child A: one all-4 response, IKM 100, population 300. Child B: one all-2 response,
    // IKM 2 × 25 = 50, population 100. Weighted: (300 × 100 + 100 × 50) / 400 = 87,50: B.
    // Pooled over respondents it would be (100 + 50) / 2 = 75,00: C.
    let skm = skm();
    let (a, b) = (uniform(&skm, 1, 1, 4), uniform(&skm, 1, 0, 2));
    let w = weighted_rollup(&skm, &[(&a, Some(300)), (&b, Some(100))], None)
        .unwrap()
        .unwrap();
    assert_eq!((w.ikm.format(','), w.grade.as_str()), ("87,50".into(), "B"));
    assert_eq!(w.population, 400);
    let mut pooled = a.clone();
    pooled.merge(&b);
    assert_eq!(ikm_text(&report(&skm, &pooled, None)), "75,00");
    // Exactness: thirds. A: IKM 100 × 1; B: 50 × 2 → 200/3 = 66,666... → 66,67 (C).
    let w = weighted_rollup(&skm, &[(&a, Some(1)), (&b, Some(2))], None)
        .unwrap()
        .unwrap();
    assert_eq!((w.ikm.format(','), w.grade.as_str()), ("66,67".into(), "C"));
}

#[test]
fn a_weighted_rollup_needs_a_population_for_every_child_with_responses() {
    let skm = skm();
    let (a, b, empty) = (
        uniform(&skm, 1, 1, 4),
        uniform(&skm, 1, 0, 2),
        Tally::new(&skm),
    );
    assert!(
        weighted_rollup(&skm, &[(&a, Some(300)), (&b, None)], None)
            .unwrap()
            .is_none()
    );
    // A child with no responses needs no population and adds nothing.
    let w = weighted_rollup(&skm, &[(&a, Some(300)), (&empty, None)], None)
        .unwrap()
        .unwrap();
    assert_eq!(w.ikm.format(','), "100,00");
    assert!(
        weighted_rollup(&skm, &[(&empty, None)], None)
            .unwrap()
            .is_none()
    );
}

#[test]
fn a_blank_answer_drops_out_of_its_own_item_only() {
    // r1: all 4. r2: U1 blank, the rest 2. U1: answered 1, total 4, NRR 4. U2..U9: answered 2,
    // total 6, NRR 3. Index = (4 + 8 × 3) / 9 = 28/9; IKM = 700/9 = 77,777... -> 77,78, B.
    let skm = skm();
    let mut tally = Tally::new(&skm);
    tally.add(&skm, &Answers(vec![Some(4); 9])).unwrap();
    let mut second = vec![Some(2); 9];
    second[0] = None;
    tally.add(&skm, &Answers(second)).unwrap();
    let r = report(&skm, &tally, None);
    assert_eq!(r.respondents, 2);
    assert_eq!((r.items[0].answered, r.items[0].total), (1, 4));
    assert_eq!(r.items[0].skipped, 1, "the blank U1 is counted as skipped");
    assert_eq!(r.items[0].nrr.as_ref().unwrap().format(','), "4,000");
    for item in &r.items[1..] {
        assert_eq!((item.answered, item.skipped, item.total), (2, 0, 6));
    }
    assert_eq!(ikm_text(&r), "77,78");
    assert_eq!(r.grade.as_deref(), Some("B"));
}

#[test]
fn an_item_nobody_answered_leaves_the_index_uncomputed_and_says_why() {
    let skm = skm();
    let mut answers = vec![Some(3); 9];
    answers[3] = None;
    let tally = Tally::of(&skm, &[Answers(answers)]).unwrap();
    let r = report(&skm, &tally, None);
    assert!(r.ikm.is_none() && r.grade.is_none());
    assert_eq!(r.notices[0].code, "item_unanswered");
    assert!(r.notices[0].id.contains("U4"));
}

#[test]
fn no_responses_gives_no_index_and_a_notice() {
    let skm = skm();
    let r = report(&skm, &Tally::new(&skm), None);
    assert_eq!(r.respondents, 0);
    assert!(r.ikm.is_none());
    assert_eq!(r.notices[0].code, "no_responses");
}

#[test]
fn out_of_range_and_unknown_items_are_errors_never_counted() {
    let skm = skm();
    assert_eq!(
        Answers::from_pairs(&skm, [("U1", 5)]).unwrap_err(),
        AnswerError::OutOfRange {
            code: "U1".into(),
            value: 5,
            min: 1,
            max: 4
        }
    );
    assert!(matches!(
        Answers::from_pairs(&skm, [("U3", 0)]),
        Err(AnswerError::OutOfRange { .. })
    ));
    assert!(matches!(
        Answers::from_pairs(&skm, [("U10", 3)]),
        Err(AnswerError::UnknownItem { .. })
    ));
    assert!(matches!(
        Answers::from_pairs(&skm, [("U1", 3), ("U1", 4)]),
        Err(AnswerError::Duplicate { .. })
    ));
    assert_eq!(
        Answers::from_pairs(&skm, []).unwrap_err(),
        AnswerError::Empty
    );
    let mut tally = Tally::new(&skm);
    let mut bad = vec![Some(4); 9];
    bad[2] = Some(7);
    assert!(tally.add(&skm, &Answers(bad)).is_err());
    assert_eq!(
        tally,
        Tally::new(&skm),
        "a rejected response leaves the tally untouched"
    );
}

#[test]
fn legacy_2004_rounds_the_index_to_three_decimals_before_conversion() {
    // 14 items, weight 0,071. r1: all 3. r2: thirteen 3s and one 4 (U14). NRR: 3 × 13, 3,5.
    // Index = 0,071 × 42,5 = 3,0175 -> 3,018 (3 decimals); × 25 = 75,45 (B in the 2004 table).
    // Without the pre-rounding it would be 75,4375 -> 75,44.
    let legacy = instrument("ikm-2004");
    let mut second = vec![Some(3); 14];
    second[13] = Some(4);
    let tally = Tally::of(&legacy, &[Answers(vec![Some(3); 14]), Answers(second)]).unwrap();
    let r = report(&legacy, &tally, None);
    assert_eq!(r.mode, "legacy-2004");
    assert_eq!(r.index.as_ref().unwrap().format(','), "3,018");
    assert_eq!(ikm_text(&r), "75,45");
    assert_eq!(r.grade.as_deref(), Some("B"));
    // The same data with equal exact weights: 42,5 / 14 × 25 = 75,892857... -> 75,89.
    assert_eq!(ikm_text(&report(&legacy, &tally, Some("exact"))), "75,89");
}

#[test]
fn legacy_2004_grades_with_its_own_table() {
    // All 4: 14 × 4 × 0,071 = 3,976 -> 99,40, A. All 2: 1,988 -> 49,70, C (43,76-62,50).
    // All 3: 2,982 -> 74,55, B (62,51-81,25). All 1: 0,994 -> 24,85, below the table: D.
    let legacy = instrument("ikm-2004");
    for (v, ikm, grade) in [
        (4, "99,40", "A"),
        (3, "74,55", "B"),
        (2, "49,70", "C"),
        (1, "24,85", "D"),
    ] {
        let r = report(&legacy, &uniform(&legacy, 1, 0, v), None);
        assert_eq!(
            (ikm_text(&r).as_str(), r.grade.as_deref()),
            (ikm, Some(grade))
        );
    }
}

#[test]
fn unknown_mode_is_an_error_naming_the_modes() {
    let skm = skm();
    let err = compute(
        &skm,
        &Tally::new(&skm),
        &Options {
            mode: Some("legacy-2004".into()),
            ..Options::default()
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("exact, form-0.111"), "{err}");
}

#[test]
fn distribution_and_priorities_name_the_weakest_items() {
    // Three respondents; U4 gets 1,1,2 (NRR 1,333), U8 2,2,2 (2), U2 2,3,3 (2,667), rest 4.
    let skm = skm();
    let rows = [
        [4, 2, 4, 1, 4, 4, 4, 2, 4],
        [4, 3, 4, 1, 4, 4, 4, 2, 4],
        [4, 3, 4, 2, 4, 4, 4, 2, 4],
    ];
    let answers: Vec<Answers> = rows
        .iter()
        .map(|r| Answers(r.iter().map(|v| Some(*v)).collect()))
        .collect();
    let r = report(&skm, &Tally::of(&skm, &answers).unwrap(), None);
    assert_eq!(r.priorities, ["U4", "U8", "U2"]);
    let u4 = &r.items[3];
    assert_eq!(u4.distribution.get("1"), Some(&2));
    assert_eq!(u4.distribution.get("2"), Some(&1));
    assert_eq!(u4.distribution.get("4"), Some(&0));
    assert_eq!(u4.nrr.as_ref().unwrap().format(','), "1,333");
    // 1,3333 × 25 = 33,33: D.
    assert_eq!(
        (u4.ikm.as_ref().unwrap().format(','), u4.grade.as_deref()),
        ("33,33".into(), Some("D"))
    );
}

#[test]
fn sample_adequacy_compares_respondents_with_the_minimum() {
    let skm = skm();
    let tally = uniform(&skm, 80, 40, 3);
    let options = |n| Options {
        population: Some(n),
        ..Options::default()
    };
    let enough = compute(&skm, &tally, &options(100))
        .unwrap()
        .sample
        .unwrap();
    assert_eq!((enough.size.minimum, enough.adequate), (80, true));
    let short = compute(&skm, &tally, &options(1000)).unwrap();
    assert_eq!(
        short.sample.as_ref().map(|s| (s.size.minimum, s.adequate)),
        Some((278, false))
    );
    assert!(
        short
            .notices
            .iter()
            .any(|n| n.code == "sample_below_minimum")
    );
}

#[test]
fn tallies_merge_to_the_tally_of_the_union() {
    let skm = skm();
    let a = uniform(&skm, 7, 3, 2);
    let b = uniform(&skm, 5, 1, 3);
    let mut merged = a.clone();
    merged.merge(&b);
    let mut both = Tally::new(&skm);
    for r in 0..7 {
        both.add(&skm, &Answers(vec![Some(if r < 3 { 4 } else { 2 }); 9]))
            .unwrap();
    }
    for r in 0..5 {
        both.add(&skm, &Answers(vec![Some(if r < 1 { 4 } else { 3 }); 9]))
            .unwrap();
    }
    assert_eq!(merged, both);
}

// ---- statistics -------------------------------------------------------------------------------

#[test]
fn confidence_interval_uses_the_t_distribution_over_respondents_scores() {
    // Four respondents, all items equal per respondent: scores 100, 75, 75, 50 (mean 75).
    // s² = (625 + 0 + 0 + 625) / 3 = 416,667; s = 20,4124; t(0,975; 3) = 3,182446;
    // half-width = 3,182446 × 20,4124 / 2 = 32,4808.
    let skm = skm();
    let answers: Vec<Answers> = [4, 3, 3, 2]
        .iter()
        .map(|v| Answers(vec![Some(*v); 9]))
        .collect();
    let r = report(&skm, &Tally::of(&skm, &answers).unwrap(), None);
    let ci = r.statistics.confidence_interval.unwrap();
    assert!((ci.sd - 20.4124).abs() < 1e-3, "{}", ci.sd);
    assert!((ci.half_width - 32.4808).abs() < 1e-3, "{}", ci.half_width);
    assert!(
        (ci.lower - 42.5192).abs() < 1e-3 && (ci.upper - 100.0).abs() < 1e-9,
        "clipped at 100"
    );
}

#[test]
fn an_interval_across_a_boundary_says_the_grade_is_not_yet_certain() {
    // 10 respondents: five all-4 and five all-3, IKM 87,50 (B), s = 13,176; the interval
    // 87,50 ± 2,262 × 13,176 / √10 = ± 9,43 crosses 88,305. The nearest boundary is 0,805
    // away: n with t × 13,176 / √n < 0,805 is about (1,96 × 13,176 / 0,805)² ≈ 1030.
    let skm = skm();
    let r = report(&skm, &uniform(&skm, 10, 5, 3), None);
    assert_eq!(ikm_text(&r), "87,50");
    assert_eq!(r.statistics.grade_certain, Some(false));
    let more = r.statistics.more_responses_needed.unwrap();
    assert!((1010..=1040).contains(&more), "{more}");
    let notice = r
        .notices
        .iter()
        .find(|n| n.code == "grade_uncertain")
        .unwrap();
    assert!(
        notice.id.starts_with("Mutu belum pasti") && notice.en.contains("about"),
        "{notice:?}"
    );
}

#[test]
fn a_tight_interval_inside_one_band_is_certain() {
    let skm = skm();
    // 400 respondents, 100 all-4 and 300 all-3: IKM 81,25, s ≈ 10,84, half-width ≈ 1,07.
    let r = report(&skm, &uniform(&skm, 400, 100, 3), None);
    assert_eq!(r.statistics.grade_certain, Some(true));
    assert!(r.notices.iter().all(|n| n.code != "grade_uncertain"));
}

#[test]
fn cronbach_alpha_and_item_total_correlation_match_hand_computation() {
    // Three items via a 3-item instrument is not available, so use skm-2017 with complete
    // responses where every item moves together: r1 all 4, r2 all 3, r3 all 2, r4 all 1,
    // except U9 which is 4,3,2,2. For perfectly parallel items alpha is close to 1 and every
    // corrected item-total r is positive and large.
    let skm = skm();
    let rows: Vec<Answers> = [(4, 4), (3, 3), (2, 2), (1, 2)]
        .iter()
        .map(|&(v, u9)| {
            let mut a = vec![Some(v); 9];
            a[8] = Some(u9);
            Answers(a)
        })
        .collect();
    let tally = Tally::of(&skm, &rows).unwrap();
    let rel = stats::reliability(&tally).unwrap();
    // Item variances: U1..U8 var(4,3,2,1) = 5/3 each; U9 var(4,3,2,2) = 11/12.
    // Totals: 36, 27, 18, 10: mean 22,75, var = (175,5625 + 18,0625 + 22,5625 + 162,5625)/3
    // = 378,75/3 = 126,25. alpha = 9/8 × (1 − (8 × 5/3 + 11/12) / 126,25)
    // = 1,125 × (1 − 14,25 / 126,25) = 1,125 × 0,887129 = 0,998020.
    assert!(
        (rel.alpha.unwrap() - 0.998_020).abs() < 1e-5,
        "{:?}",
        rel.alpha
    );
    let validity = stats::validity(
        &tally,
        &skm.items.iter().map(|i| i.code.clone()).collect::<Vec<_>>(),
    )
    .unwrap();
    // n = 4, df = 2: t(0,975; 2) = 4,302653; r_crit = 4,302653 / √(2 + 18,5128) = 0,950.
    assert!(
        (validity.critical_r - 0.950).abs() < 1e-3,
        "{}",
        validity.critical_r
    );
    // U1 against the rest (U2..U9 totals 32, 24, 16, 9): r = 38,5 / √(5 × 296,75) = 0,9995; U9 against U1..U8
    // (32, 24, 16, 8): r = corr((4,3,2,2), (4,3,2,1)) = 0,9439.
    let r1 = validity.items[0].r.unwrap();
    let r9 = validity.items[8].r.unwrap();
    assert!((r1 - 0.9995).abs() < 1e-3, "{r1}");
    assert!((r9 - 0.9439).abs() < 1e-3, "{r9}");
    assert!(validity.items[0].valid && !validity.items[8].valid);
}

#[test]
fn welch_test_tells_a_real_difference_from_noise() {
    let skm = skm();
    // 20 respondents scoring 100/75 alternately against 20 scoring 50/75: means 87,5 vs 62,5,
    // each s² = 164,47; se = √(2 × 164,47 / 20) = 4,0555; t = 25 / 4,0555 = 6,164; df = 38.
    let high = uniform(&skm, 20, 10, 3);
    let mut low = Tally::new(&skm);
    for r in 0..20 {
        low.add(&skm, &Answers(vec![Some(if r < 10 { 2 } else { 3 }); 9]))
            .unwrap();
    }
    let w = compare(&skm, &high, &low).unwrap();
    assert!(
        (w.t - 6.164).abs() < 1e-2 && (w.df - 38.0).abs() < 1e-6,
        "{w:?}"
    );
    assert!(w.significant && w.p < 1e-5);
    // The same distribution twice: t = 0, p = 1.
    let same = compare(&skm, &high, &uniform(&skm, 20, 10, 3)).unwrap();
    assert!(!same.significant && (same.p - 1.0).abs() < 1e-9);
}

// ---- properties -------------------------------------------------------------------------------

fn response_strategy() -> impl Strategy<Value = Vec<Option<i64>>> {
    proptest::collection::vec(proptest::option::weighted(0.9, 1i64..=4), 9)
        .prop_filter("at least one answer", |a| a.iter().any(Option::is_some))
}

fn responses_strategy() -> impl Strategy<Value = Vec<Vec<Option<i64>>>> {
    // Every item answered at least once, so the index exists.
    proptest::collection::vec(response_strategy(), 1..60).prop_map(|mut rows| {
        rows.push(vec![Some(1); 9]);
        rows
    })
}

fn tally_of(skm: &Instrument, rows: &[Vec<Option<i64>>]) -> Tally {
    let answers: Vec<Answers> = rows.iter().map(|r| Answers(r.clone())).collect();
    Tally::of(skm, &answers).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn ikm_stays_between_25_and_100(rows in responses_strategy()) {
        let skm = skm();
        let r = report(&skm, &tally_of(&skm, &rows), None);
        let ikm = r.ikm.unwrap().to_q();
        prop_assert!(ikm >= qi(25) && ikm <= qi(100));
    }

    #[test]
    fn ikm_does_not_depend_on_the_order_of_responses(rows in responses_strategy(), seed in any::<u64>()) {
        let skm = skm();
        let mut shuffled = rows.clone();
        // A deterministic shuffle from the seed.
        let len = shuffled.len();
        for i in (1..len).rev() {
            let j = usize::try_from((seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) % (i as u64 + 1)).unwrap();
            shuffled.swap(i, j);
        }
        let a = report(&skm, &tally_of(&skm, &rows), None);
        let b = report(&skm, &tally_of(&skm, &shuffled), None);
        prop_assert_eq!(a.ikm, b.ikm);
        prop_assert_eq!(a.index, b.index);
    }

    #[test]
    fn adding_an_all_four_response_never_lowers_the_ikm(rows in responses_strategy()) {
        let skm = skm();
        let before = report(&skm, &tally_of(&skm, &rows), None).ikm.unwrap();
        let mut more = rows.clone();
        more.push(vec![Some(4); 9]);
        let after = report(&skm, &tally_of(&skm, &more), None).ikm.unwrap();
        prop_assert!(after >= before);
    }

    #[test]
    fn the_printed_grade_always_matches_the_printed_number(rows in responses_strategy(), form in any::<bool>()) {
        let skm = skm();
        let mode = if form { "form-0.111" } else { "exact" };
        let r = report(&skm, &tally_of(&skm, &rows), Some(mode));
        // Read the grade back from the printed text, as a reader with the table would.
        let printed = exact::Fixed::parse(&r.ikm.unwrap().format('.')).unwrap();
        let expected = match printed.hundredths().unwrap() {
            ..=6499 => "D",
            6500..=7660 => "C",
            7661..=8830 => "B",
            _ => "A",
        };
        prop_assert_eq!(r.grade.as_deref(), Some(expected));
        for item in &r.items {
            let printed = item.ikm.as_ref().unwrap().hundredths().unwrap();
            let expected = match printed { ..=6499 => "D", 6500..=7660 => "C", 7661..=8830 => "B", _ => "A" };
            prop_assert_eq!(item.grade.as_deref(), Some(expected));
        }
    }
}

#[test]
fn the_advice_on_more_respondents_stays_within_the_population_not_yet_asked() {
    // Issue 29: 21 respondents of a population of 1,500, eleven all-4 and ten all-3: IKM
    // (11 × 4 + 10 × 3) / 21 × 25 = 88,10 (B), 0,21 below the A boundary 88,305, s = 12,8.
    // Without the population that takes (1,96 × 12,8 / 0,21)² ≈ 14.000 respondents, far more
    // than the 1,479 not yet asked; with the finite population correction
    // n = n₀ · N / (n₀ + N − 1) it is about 1.360 in all, about 1.340 more.
    let skm = skm();
    let tally = uniform(&skm, 21, 11, 3);
    let unbounded = report(&skm, &tally, None);
    assert_eq!(ikm_text(&unbounded), "88,10");
    assert!(unbounded.statistics.more_responses_needed.unwrap() > 1_479);
    let options = Options {
        population: Some(1_500),
        ..Options::default()
    };
    let r = compute(&skm, &tally, &options).unwrap();
    let more = r.statistics.more_responses_needed.unwrap();
    assert!((1_250..=1_479).contains(&more), "{more}");
    let notice = r
        .notices
        .iter()
        .find(|n| n.code == "grade_uncertain")
        .unwrap();
    assert!(
        notice
            .id
            .contains(&format!("sekitar {more} responden lagi")),
        "{}",
        notice.id
    );
    // A census: everyone served has answered, and no more are asked for.
    let everyone = Options {
        population: Some(21),
        ..Options::default()
    };
    let r = compute(&skm, &tally, &everyone).unwrap();
    assert_eq!(r.statistics.more_responses_needed, Some(0));
    let notice = r
        .notices
        .iter()
        .find(|n| n.code == "grade_uncertain")
        .unwrap();
    assert!(!notice.id.contains("responden lagi"), "{}", notice.id);
}

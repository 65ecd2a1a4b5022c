//! Instrument files: every shipped file loads, and each broken file is refused by name and field.

use super::*;
use std::path::Path;

const SKM: &str = include_str!("../../survey-defs/skm-2017.toml");

#[test]
fn every_file_in_survey_defs_loads_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("survey-defs");
    let loaded = registry::load_dir(&dir).unwrap();
    let keys: Vec<&str> = loaded.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["ikm-2004", "skm-2017"]);
}

#[test]
fn skm_2017_has_the_nine_items_in_questionnaire_order() {
    let skm = Registry::built_in()
        .unwrap()
        .get("skm-2017")
        .unwrap()
        .clone();
    let codes: Vec<&str> = skm.items.iter().map(|i| i.code.as_str()).collect();
    assert_eq!(
        codes,
        ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"]
    );
    assert_eq!(skm.items[7].name.id, "Sarana dan Prasarana");
    assert_eq!(
        skm.items[8].name.id,
        "Penanganan Pengaduan, Saran dan Masukan"
    );
    assert_eq!(skm.prose_order[7..], ["U9", "U8"]);
    assert_eq!(skm.items[3].answers[3].id, "Gratis");
    assert!(skm.items.iter().all(|i| {
        i.question
            .id
            .starts_with("Bagaimana pendapat Saudara tentang")
    }));
    assert_eq!((skm.scale_min, skm.scale_max, skm.conversion), (1, 4, 25));
    assert!(skm.weights.iter().all(|w| *w == crate::exact::q(1, 9)));
    let letters: Vec<&str> = skm.grades.iter().map(|g| g.letter.as_str()).collect();
    assert_eq!(letters, ["D", "C", "B", "A"]);
    assert_eq!(skm.grades[2].performance.id, "Baik");
    let profile: Vec<&str> = skm.profile.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(profile, ["gender", "age", "education", "occupation"]);
}

#[test]
fn ikm_2004_has_fourteen_items_weight_0_071_and_three_decimal_index() {
    let legacy = Registry::built_in()
        .unwrap()
        .get("ikm-2004")
        .unwrap()
        .clone();
    assert_eq!(legacy.items.len(), 14);
    let mode = legacy.default_mode();
    assert_eq!(mode.key, "legacy-2004");
    assert_eq!(mode.weight.as_ref().unwrap().format(','), "0,071");
    assert_eq!(mode.index_decimals, Some(3));
    assert_eq!(legacy.grades[0].max.format(','), "43,75");
}

#[test]
fn a_directory_file_overrides_the_built_in_with_the_same_key() {
    let dir = tempfile::tempdir().unwrap();
    let changed = SKM.replace("version = 1", "version = 2");
    std::fs::write(dir.path().join("skm-2017.toml"), changed).unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not an instrument").unwrap();
    let registry = Registry::load(Some(dir.path())).unwrap();
    assert_eq!(registry.get("skm-2017").unwrap().version, 2);
    assert!(registry.get("ikm-2004").is_some());
}

fn broken(from: &str, to: &str) -> InstrumentError {
    let text = SKM.replacen(from, to, 1);
    assert_ne!(text, SKM, "the replacement applies");
    Instrument::from_toml("broken.toml", &text).unwrap_err()
}

#[test]
fn duplicate_item_codes_are_refused() {
    let e = broken("code = \"U2\"", "code = \"U1\"");
    assert_eq!(
        (e.file.as_str(), e.field.as_str()),
        ("broken.toml", "items")
    );
    assert!(e.problem.contains("U1"), "{e}");
}

#[test]
fn a_missing_label_in_a_language_is_refused() {
    let e = broken(
        "{ value = 3, id = \"Mudah\", en = \"Easy\" }",
        "{ value = 3, id = \"Mudah\", en = \"\" }",
    );
    assert_eq!(e.field, "items[1].answers[2].en");
    let e = broken("{ value = 3, id = \"Mudah\", en = \"Easy\" },\n", "");
    assert_eq!(e.field, "items[1].answers");
}

#[test]
fn weights_that_do_not_sum_to_one_are_refused() {
    let weighted = SKM.replace("code = \"U1\"", "code = \"U1\"\nweight = 0.2");
    let e = Instrument::from_toml("w.toml", &weighted).unwrap_err();
    assert_eq!(e.field, "items.weight", "{e}");
    let mut all = SKM.to_owned();
    for code in ["U1", "U2", "U3", "U4", "U5", "U6", "U7", "U8", "U9"] {
        all = all.replace(
            &format!("code = \"{code}\""),
            &format!("code = \"{code}\"\nweight = 0.1"),
        );
    }
    let e = Instrument::from_toml("w.toml", &all).unwrap_err();
    assert!(e.problem.contains("sum to exactly 1"), "{e}");
    let fixed = all.replacen(
        "code = \"U1\"\nweight = 0.1",
        "code = \"U1\"\nweight = 0.2",
        1,
    );
    let ok = Instrument::from_toml("w.toml", &fixed).unwrap();
    assert_eq!(ok.weights[0], crate::exact::q(1, 5));
}

#[test]
fn grade_bands_with_a_gap_or_overlap_are_refused() {
    let e = broken("min = 65.00", "min = 65.01");
    assert_eq!(e.field, "grades[1].min");
    assert!(e.problem.contains("gap"), "{e}");
    let e = broken("min = 65.00", "min = 64.99");
    assert!(e.problem.contains("overlaps"), "{e}");
    let e = broken("max = 100.00", "max = 99.99");
    assert_eq!(e.field, "grades[3].max");
    let e = broken("min = 25.00", "min = 25.5");
    assert_eq!(e.field, "grades[0].min");
    let e = broken("max = 64.99", "max = 64.995");
    assert!(e.problem.contains("two decimals"), "{e}");
}

#[test]
fn unknown_fields_and_syntax_errors_name_the_file() {
    let e = broken("conversion = 25", "conversion = 25\nconvertion = 25");
    assert_eq!(e.file, "broken.toml");
    assert!(e.problem.contains("convertion"), "{e}");
    let e = Instrument::from_toml("x.toml", "key = ").unwrap_err();
    assert_eq!((e.file.as_str(), e.field.as_str()), ("x.toml", "(file)"));
}

#[test]
fn default_mode_and_prose_order_must_refer_to_what_exists() {
    assert_eq!(
        broken("default_mode = \"exact\"", "default_mode = \"fast\"").field,
        "default_mode"
    );
    assert_eq!(
        broken("\"U9\", \"U8\"]", "\"U9\", \"U9\"]").field,
        "prose_order"
    );
}

#[test]
fn skm_2017_lets_a_respondent_skip_u9_only() {
    let skm = Instrument::from_toml("skm-2017.toml", SKM).unwrap();
    let skippable: Vec<&str> = skm
        .items
        .iter()
        .filter(|i| i.skip.is_some())
        .map(|i| i.code.as_str())
        .collect();
    assert_eq!(skippable, ["U9"]);
    let skip = skm.items[8].skip.as_ref().unwrap();
    assert_eq!(skip.id, "Belum pernah menyampaikan pengaduan");
    assert!(!skip.en.is_empty());
}

#[test]
fn a_skip_label_without_english_is_refused() {
    let e = broken("en = \"I have never made a complaint\"", "en = \" \"");
    assert_eq!(e.field, "items[8].skip.en");
}

#[test]
fn paper_spellings_match_a_choice_whatever_their_case_spaces_and_marks() {
    let skm = Registry::built_in()
        .unwrap()
        .get("skm-2017")
        .unwrap()
        .clone();
    for (field, written, code) in [
        ("education", "D3", "D1-D3"),
        ("education", "d-iii", "D1-D3"),
        ("education", "Diploma", "D1-D3"),
        ("education", " s1 / d4 ", "S1"),
        ("education", "SMK", "SMA"),
        ("occupation", "Wiraswasta", "Wirausaha"),
        ("occupation", "pegawai swasta", "Swasta"),
        ("occupation", "PNS", "PNS"),
        ("gender", "perempuan", "P"),
    ] {
        assert_eq!(
            skm.paper_choice(field, written),
            Some(code),
            "{field} {written}"
        );
    }
    assert_eq!(skm.paper_choice("education", "Dokter"), None);
    assert_eq!(skm.paper_choice("age", "34"), None, "not a choice field");
}

#[test]
fn a_spelling_of_two_choices_is_refused() {
    let e = broken(
        r#"{ code = "SMP", id = "SMP", en = "Junior secondary", aliases = ["SMP/MTs", "MTs", "SLTP"] },"#,
        r#"{ code = "SMP", id = "SMP", en = "Junior secondary", aliases = ["SMK"] },"#,
    );
    assert!(e.to_string().contains("SMK"), "{e}");
}

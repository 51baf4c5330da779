//! Unit tests of `picture.rs`.
use super::*;

#[test]
fn word_order_matches_jsonata() {
    let words = word_values();
    let names: Vec<&str> = words.iter().map(|w| w.0.as_str()).collect();
    assert_eq!(&names[..2], ["zero", "one"]);
    assert_eq!(
        &names[40..44],
        ["twenty", "twentieth", "thirty", "thirtieth"]
    );
    assert_eq!(&names[56..59], ["hundred", "hundreieth", "hundredth"]);
    assert_eq!(
        names[59..].join(" "),
        "thousand thousandth million millionth billion billionth trillion trillionth"
    );
}

#[test]
fn irregular_separators_and_unknown_words() {
    let format = analyse_integer_picture("#,##0").unwrap();
    assert!(format.regular);
    assert!(parse_integer_with(&format, "abc").unwrap().is_nan());
    let words = analyse_integer_picture("w").unwrap();
    assert!(parse_integer_with(&words, "one zillion").unwrap().is_nan());
    assert!(parse_integer_with(&words, "").unwrap().is_nan());
    let roman = analyse_integer_picture("I").unwrap();
    assert!(parse_integer_with(&roman, "MXQ").unwrap().is_nan());
    assert_eq!(format_integer_with(-0.0, &roman).unwrap(), "");
    assert_eq!(format_integer_with(2e7, &roman).unwrap_err().code, RUNAWAY);
    let letters = analyse_integer_picture("A").unwrap();
    let infinity = format_integer_with(f64::INFINITY, &letters).unwrap_err();
    assert_eq!(infinity.code, RUNAWAY);
    let long = "#,".repeat(MAX_PICTURE / 2) + "0";
    assert_eq!(analyse_integer_picture(&long).unwrap_err().code, RUNAWAY);
}

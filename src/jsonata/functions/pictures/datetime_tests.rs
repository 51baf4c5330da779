//! Unit tests of `datetime.rs`.
use super::*;

const NOW: f64 = 1_521_801_216_617.0; // 2018-03-23T10:33:36.617Z, a Friday

fn iso(millis: f64) -> String {
    from_millis(millis, None, None).unwrap()
}

fn to(text: &str, picture: &str) -> Option<f64> {
    match to_millis_at(text, Some(picture), NOW) {
        Ok(millis) => millis,
        Err(e) => panic!("{text} with {picture}: {e:?}"),
    }
}

#[test]
fn default_picture_in_other_zones() {
    // $toMillis('2018-10-21T13:05:00Z').[$fromMillis(), $fromMillis($, (),'-0500'), ...]
    let millis = to_millis_at("2018-10-21T13:05:00Z", None, NOW).unwrap();
    let millis = millis.unwrap();
    assert_eq!(iso(millis), "2018-10-21T13:05:00.000Z");
    let in_zone = |zone| from_millis(millis, None, Some(zone)).unwrap();
    assert_eq!(in_zone("-0500"), "2018-10-21T08:05:00.000-05:00");
    assert_eq!(in_zone("0000"), "2018-10-21T13:05:00.000Z");
    assert_eq!(in_zone("+0530"), "2018-10-21T18:35:00.000+05:30");
    // jsonata-js splits -0530 into -6 hours and -30 minutes
    assert_eq!(in_zone("-0530"), "2018-10-21T06:35:00.000-06:30");
    // text parseInt cannot read gives an invalid date, written as jsonata-js writes it
    assert_eq!(in_zone("EST"), "0NaN-NaN-NaNTNaN:NaN:NaN.NaN0N:aN");
}

#[test]
fn now_with_picture_and_zone() {
    // $now('[h]:[m01] [P]', '-0500') is from_millis(<timestamp>, picture, zone)
    let text = from_millis(NOW, Some("[h]:[m01] [PN] [ZN]"), Some("-0500"));
    assert_eq!(text.unwrap_err().code, "D3134");
    let text = from_millis(NOW, Some("[h]:[m01] [PN] [z]"), Some("-0500")).unwrap();
    assert_eq!(text, "5:33 AM GMT-05:00");
}

#[test]
fn times_out_of_range_and_unknown_components() {
    // [Y0001] keeps four digits of the year 275760
    assert_eq!(iso(8.64e15), "5760-09-13T00:00:00.000Z");
    assert_eq!(iso(8.64e15 + 1.0), "0NaN-NaN-NaNTNaN:NaN:NaN.NaNZ");
    assert_eq!(iso(-1.5), "1969-12-31T23:59:59.999Z");
    assert_eq!(from_millis(0.0, Some("[q1]"), None).unwrap(), "undefined");
    let name = |picture| from_millis(9e15, Some(picture), None);
    assert_eq!(name("[MNn]").unwrap(), "undefined");
    assert_eq!(name("[MN]").unwrap_err().code, RUNAWAY);
    assert_eq!(name("[Yw]").unwrap_err().code, RUNAWAY);
    assert_eq!(from_millis(0.0, Some("[MN,*-3]"), None).unwrap(), "JAN");
    assert_eq!(from_millis(0.0, Some("[Y,2]"), None).unwrap(), "70");
    let err = from_millis(0.0, Some("[]"), None).unwrap_err();
    assert_eq!(
        err.message,
        "Unknown component specifier \"\" in date/time picture string"
    );
}

#[test]
fn iso_timestamps_as_v8_reads_them() {
    let parse = |text: &str| to_millis_at(text, None, NOW).unwrap().unwrap();
    assert_eq!(parse("2018-02-30"), parse("2018-03-02"));
    assert_eq!(parse("2018-01-01T24:00:00Z"), parse("2018-01-02"));
    assert_eq!(
        parse("2018-01-01T10:00:00.1239Z"),
        parse("2018-01-01T10:00:00.123Z")
    );
    assert_eq!(parse("2018-01-01T10:00:00"), parse("2018-01-01T10:00:00Z"));
    assert_eq!(
        parse("2018-01-01T15:30:00+05:30"),
        parse("2018-01-01T10:00:00Z")
    );
    assert_eq!(parse("2018Z"), 1_514_764_800_000.0);
    assert_eq!(parse("2018T10:00:00Z"), parse("2018-01-01T10:00:00Z"));
    for invalid in [
        "2018-13-01",
        "2018-01-01+05:00",
        "2018-00",
        "2018-01-01T25:00:00",
    ] {
        assert!(parse(invalid).is_nan(), "{invalid}");
    }
    let err = to_millis_at("2018-1-1", None, NOW).unwrap_err();
    assert_eq!(
        err.message,
        "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given \"2018-1-1\""
    );
}

#[test]
fn leading_components_come_from_now() {
    // $toMillis('13:45', '[H]:[m]') ~> $fromMillis() gives today at 13:45
    assert_eq!(
        iso(to("13:45", "[H]:[m]").unwrap()),
        "2018-03-23T13:45:00.000Z"
    );
    // no am/pm: the hour is taken as given
    assert_eq!(
        iso(to("10:30", "[h]:[m]").unwrap()),
        "2018-03-23T10:30:00.000Z"
    );
    assert_eq!(
        iso(to("05-04", "[M]-[D]").unwrap()),
        "2018-05-04T00:00:00.000Z"
    );
    // two-digit years are 19xx, as with Date.UTC
    assert_eq!(
        iso(to("18-03-05", "[Y,2]-[M]-[D]").unwrap()),
        "1918-03-05T00:00:00.000Z"
    );
    assert_eq!(to("", ""), None);
    assert_eq!(to("x", ""), None);
}

#[test]
fn matching_backtracks_like_a_regular_expression() {
    let at = |text, picture| iso(to(text, picture).unwrap());
    assert_eq!(
        at("2018-01-01t10", "[Y]-[M]-[D]T[H]"),
        "2018-01-01T10:00:00.000Z"
    );
    assert_eq!(
        to_millis_at("2018t10", Some("[Y]T[H]"), NOW)
            .unwrap_err()
            .code,
        "D3136"
    );
    assert_eq!(
        at("seventeen 5 2018", "[Dw] [M] [Y]"),
        "2018-05-17T00:00:00.000Z"
    );
    assert_eq!(
        at("2018-03-0412", "[Y]-[M]-[D01][H]"),
        "2018-03-04T12:00:00.000Z"
    );
    assert_eq!(to("Jan 2018", "[MNn,3-3] [Y]"), Some(1_514_764_800_000.0));
    // a name in the wrong case matches the letters but names nothing: the month is left out
    assert_eq!(at("march 2018", "[MNn] [Y]"), "2018-01-01T00:00:00.000Z");
    // `E` after `Y` is an integer picture: an unsupported numbering sequence
    assert_eq!(
        to_millis_at("2018", Some("[YE]"), NOW).unwrap_err().code,
        "D3130"
    );
    assert_eq!(
        to_millis_at("2018", Some("[Y]-[E]"), NOW).unwrap_err().code,
        "D3133"
    );
}

#[test]
fn matching_is_bounded() {
    let picture = "[Y][M][D][H][m][s]";
    let long = format!("{}x", "1".repeat(3000));
    let err = to_millis_at(&long, Some(picture), NOW).unwrap_err();
    assert_eq!(err.code, RUNAWAY);
    let words = format!("{}x", "one ".repeat(5000));
    assert_eq!(to_millis_at(&words, Some("[Yw]"), NOW).unwrap(), None);
}

#[test]
fn week_dates() {
    let week = |text| {
        let millis = to(text, "[Y]-[M]-[D]").unwrap();
        from_millis(millis, Some("[X0001]-W[W01]-[F1] [xNn] [w]"), None).unwrap()
    };
    assert_eq!(week("2005-01-01"), "2004-W53-6 December 5");
    assert_eq!(week("2008-12-29"), "2009-W01-1 January 1");
    assert_eq!(week("2010-01-03"), "2009-W53-7 December 5");
}

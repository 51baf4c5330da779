//! The matcher against JavaScript's results (each expectation is what
//! `RegExp.prototype.exec` gives in V8 and in the specification's algorithm).

use super::{Exhausted, Regex};

const BIG: u64 = 10_000_000;

/// `exec`: the match and every group (`None` for undefined), or `None`.
fn exec(pattern: &str, flags: &str, s: &str) -> Option<Vec<Option<String>>> {
    let re = Regex::new(pattern, flags).expect("valid pattern");
    let mut budget = BIG;
    let m = re.find_from(s, 0, &mut budget).expect("within budget")?;
    Some(m.into_iter().map(|g| g.map(|r| s[r].to_string())).collect())
}

fn groups(v: &[Option<&str>]) -> Option<Vec<Option<String>>> {
    Some(v.iter().map(|g| g.map(str::to_string)).collect())
}

fn error(pattern: &str) -> String {
    Regex::new(pattern, "").err().expect("a syntax error")
}

/// Steps spent matching, or the reason it gave up within `budget`.
fn steps(pattern: &str, s: &str, budget: u64) -> Result<u64, Exhausted> {
    let re = Regex::new(pattern, "").expect("valid pattern");
    let mut left = budget;
    re.find_from(s, 0, &mut left).map(|_| budget - left)
}

#[test]
fn alternation_is_ordered_and_leftmost() {
    assert_eq!(exec("a|ab", "", "abc"), groups(&[Some("a")]));
    assert_eq!(
        exec("((a)|(ab))((c)|(bc))", "", "abc"),
        groups(&[
            Some("abc"),
            Some("a"),
            Some("a"),
            None,
            Some("bc"),
            None,
            Some("bc")
        ])
    );
    assert_eq!(exec("(a)|b", "", "b"), groups(&[Some("b"), None]));
}

#[test]
fn captures_reset_at_each_iteration() {
    assert_eq!(
        exec("((a)|b)+", "", "ab"),
        groups(&[Some("ab"), Some("b"), None])
    );
    assert_eq!(
        exec("(z)((a+)?(b+)?(c))*", "", "zaacbbbcac"),
        groups(&[
            Some("zaacbbbcac"),
            Some("z"),
            Some("ac"),
            Some("a"),
            None,
            Some("c")
        ])
    );
}

#[test]
fn an_empty_iteration_past_the_minimum_fails() {
    assert_eq!(exec("(a*)*", "", "b"), groups(&[Some(""), None]));
    assert_eq!(exec("(a*)+", "", "b"), groups(&[Some(""), Some("")]));
    assert_eq!(exec("(?:a|)*b", "", "aab"), groups(&[Some("aab")]));
}

#[test]
fn lazy_and_greedy_quantifiers() {
    assert_eq!(exec("a.*?a", "", "abaca"), groups(&[Some("aba")]));
    assert_eq!(exec("a.*a", "", "abaca"), groups(&[Some("abaca")]));
    assert_eq!(exec("a{2,3}", "", "aaaa"), groups(&[Some("aaa")]));
    assert_eq!(exec("a{2,3}?", "", "aaaa"), groups(&[Some("aa")]));
    assert_eq!(
        exec("(ab){2}", "", "abababx"),
        groups(&[Some("abab"), Some("ab")])
    );
    assert_eq!(exec("x*y+$", "", "xxyy"), groups(&[Some("xxyy")]));
}

#[test]
fn backreferences_match_the_group_text_or_empty_when_undefined() {
    assert_eq!(exec("(a)\\1", "", "aa"), groups(&[Some("aa"), Some("a")]));
    assert_eq!(exec("\\1(a)", "", "aa"), groups(&[Some("a"), Some("a")]));
    assert_eq!(
        exec("(?<q>['\"]).*?\\k<q>", "", "say \"hi\" 'x'"),
        groups(&[Some("\"hi\""), Some("\"")])
    );
    assert_eq!(exec("(a)\\1", "i", "aA"), groups(&[Some("aA"), Some("a")]));
}

#[test]
fn lookahead_keeps_its_captures_and_is_atomic() {
    assert_eq!(
        exec("(?=(a+))a*b\\1", "", "baaabac"),
        groups(&[Some("aba"), Some("a")])
    );
    assert_eq!(
        exec("(?=(a+))", "", "baaabac"),
        groups(&[Some(""), Some("aaa")])
    );
    assert_eq!(
        exec("(.*?)a(?!(a+)b\\2c)\\2(.*)", "", "baaabaac"),
        groups(&[Some("baaabaac"), Some("ba"), None, Some("abaac")])
    );
}

#[test]
fn lookbehind_matches_backwards() {
    assert_eq!(
        exec("(?<=\\$)\\d+(\\.\\d*)?", "", "cost $10.53"),
        groups(&[Some("10.53"), Some(".53")])
    );
    assert_eq!(
        exec("(?<=(\\d+)(\\d+))$", "", "1053"),
        groups(&[Some(""), Some("1"), Some("053")])
    );
    assert_eq!(exec("(?<!\\$)\\b\\d+", "", "$10 20"), groups(&[Some("20")]));
}

#[test]
fn class_escapes_are_javascripts() {
    assert_eq!(exec("\\d+", "", "x١٢3"), groups(&[Some("3")]));
    assert_eq!(exec("\\w+", "", "éab"), groups(&[Some("ab")]));
    assert_eq!(
        exec("\\s+", "", "a\u{feff}\u{a0}b"),
        groups(&[Some("\u{feff}\u{a0}")])
    );
    assert_eq!(exec("\\s", "", "a\u{85}b"), None);
    assert_eq!(exec("\\bb\\w*", "", "ab bc"), groups(&[Some("bc")]));
    assert_eq!(exec(".+", "", "ab\rc"), groups(&[Some("ab")]));
    assert_eq!(exec("[^]+", "", "a\nb"), groups(&[Some("a\nb")]));
    assert_eq!(exec("[]", "", "a"), None);
    assert_eq!(exec("[\\d-z]+", "", "1-z"), groups(&[Some("1-z")]));
}

#[test]
fn annex_b_escapes_and_literal_braces() {
    assert_eq!(exec("a{,2}", "", "a{,2}"), groups(&[Some("a{,2}")]));
    assert_eq!(exec("\\8", "", "8"), groups(&[Some("8")]));
    assert_eq!(exec("\\101", "", "A"), groups(&[Some("A")]));
    assert_eq!(exec("\\cJ", "", "\n"), groups(&[Some("\n")]));
    assert_eq!(exec("\\c1", "", "\\c1"), groups(&[Some("\\c1")]));
    assert_eq!(exec("\\x41\\u0042\\q", "", "ABq"), groups(&[Some("ABq")]));
    assert_eq!(exec("\\uD83D\\uDE00", "", "x😀"), groups(&[Some("😀")]));
    assert_eq!(exec("]}", "", "]}"), groups(&[Some("]}")]));
}

#[test]
fn the_i_flag_folds_as_javascript_without_u() {
    assert_eq!(exec("HAT", "i", "a hat"), groups(&[Some("hat")]));
    assert_eq!(exec("[a-z]+", "i", "KЖ"), groups(&[Some("K")]));
    assert_eq!(exec("σ", "i", "Σς"), groups(&[Some("Σ")]));
    assert_eq!(exec("ς", "i", "σ"), groups(&[Some("σ")]));
    assert_eq!(exec("s", "i", "ſ"), None);
    assert_eq!(exec("k", "i", "\u{212a}"), None);
    assert_eq!(exec("[^a]", "i", "Ab"), groups(&[Some("b")]));
}

#[test]
fn the_m_flag_anchors_at_every_line_terminator() {
    assert_eq!(exec("^b", "", "a\nb"), None);
    assert_eq!(exec("^b", "m", "a\rb"), groups(&[Some("b")]));
    assert_eq!(exec("a$", "m", "a\u{2028}b"), groups(&[Some("a")]));
    assert_eq!(exec("a$", "", "a\n"), None);
}

#[test]
fn syntax_errors() {
    assert_eq!(error("a**"), "Nothing to repeat");
    assert_eq!(error("{1}"), "Nothing to repeat");
    assert_eq!(error("(?<=a)*"), "Nothing to repeat");
    assert_eq!(error("(a"), "Unterminated group");
    assert_eq!(error("a)"), "Unmatched ')'");
    assert_eq!(error("[b-a]"), "Range out of order in character class");
    assert_eq!(error("a{2,1}"), "numbers out of order in {} quantifier");
    assert_eq!(error("[a"), "Unterminated character class");
    assert_eq!(error("a\\"), "\\ at end of pattern");
    assert_eq!(error("(?<n>a)(?<n>b)"), "Duplicate capture group name");
    assert_eq!(error("\\k<m>(?<n>a)"), "Invalid named capture referenced");
    assert_eq!(error("(?i:a)"), "Invalid group");
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}a{}", "(".repeat(5000), ")".repeat(5000));
    assert_eq!(
        Regex::new(&deep, "").err().as_deref(),
        Some("Pattern nested too deeply")
    );
    let deep = format!("{}a{}", "(?:".repeat(64), ")".repeat(64));
    assert_eq!(
        Regex::new(&deep, "").err().as_deref(),
        Some("Pattern nested too deeply")
    );
    let wide = format!("{}a{}", "(?:".repeat(63), ")".repeat(63));
    assert!(Regex::new(&wide, "").is_ok());
}

/// The catastrophic patterns stop at the budget given, to the step.
#[test]
fn catastrophic_backtracking_stops_at_the_budget() {
    let a40 = "a".repeat(40);
    let x40 = "x".repeat(40);
    assert_eq!(
        steps("(a+)+$", &format!("{a40}!"), 1_000_000),
        Err(Exhausted::Steps)
    );
    assert_eq!(steps("(a|aa)*b", &a40, 1_000_000), Err(Exhausted::Steps));
    assert_eq!(steps("(x+x+)+y", &x40, 1_000_000), Err(Exhausted::Steps));
    assert_eq!(
        steps("^(\\w+\\s?)*$", &format!("{a40}!"), 1_000_000),
        Err(Exhausted::Steps)
    );
}

/// The same patterns on inputs that match cost steps in proportion to them.
#[test]
fn the_same_patterns_match_cheaply_when_they_can() {
    let a40 = "a".repeat(40);
    assert!(steps("(a+)+$", &a40, 1_000_000).is_ok_and(|n| n < 1_000));
    assert!(steps("(a|aa)*b", &format!("{a40}b"), 1_000_000).is_ok_and(|n| n < 1_000));
    assert!(steps("(x+x+)+y", &format!("{}y", "x".repeat(40)), 1_000_000).is_ok_and(|n| n < 1_000));
    assert!(steps("^(\\w+\\s?)*$", &format!("{a40} {a40}"), 1_000_000).is_ok_and(|n| n < 1_000));
}

/// A greedy loop over one character holds one choice point, however long.
#[test]
fn a_long_subject_needs_no_deep_stack() {
    let s = "a".repeat(2_000_000);
    assert_eq!(exec("^(.*)$", "", &s).map(|m| m.len()), Some(2));
    assert_eq!(
        steps("^(.*)b", &s, 100_000_000).map(|n| n > 4_000_000),
        Ok(true)
    );
}

#[test]
fn too_many_choice_points_is_an_error() {
    let s = "ab".repeat(600_000);
    assert_eq!(steps("(?:a|b)*c", &s, u64::MAX), Err(Exhausted::Stack));
}

/// The deepest trees allowed (64 levels) compile and run on a 256 KiB thread.
#[test]
fn the_deepest_patterns_allowed_fit_a_small_stack() {
    let r = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            // six levels per repetition: + ( * (?= (?: |
            let mixed = format!("{}a{}", "((?=(?:x|".repeat(10), "))*)+".repeat(10));
            let plain = format!("{}a{}", "(?:".repeat(63), ")".repeat(63));
            [mixed, plain].map(|p| {
                let re = Regex::new(&p, "").expect("allowed");
                let mut budget = BIG;
                re.find_from("ba", 0, &mut budget)
                    .map(|m| m.map(|m| m[0].clone()))
            })
        })
        .expect("thread")
        .join()
        .expect("no overflow");
    // The mixed one may skip its lookahead loop: an empty match at 0.
    assert_eq!(r, [Ok(Some(Some(0..0))), Ok(Some(Some(1..2)))]);
}

mod hostile {
    use super::super::Regex;
    use proptest::prelude::*;

    /// Pattern text made of the syntax's own characters, so most inputs get
    /// past the first token.
    fn pattern() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                "a", "b", "(", ")", "(?:", "(?=", "(?!", "(?<=", "(?<!", "(?<n>", "[", "]", "^",
                "-", "|", "*", "+", "?", "{", "}", "{2}", "{1,}", ",", "\\", "\\1", "\\2",
                "\\k<n>", "\\b", "\\d", "\\u00", "\\x", "\\c", ".", "$", "σ", "😀",
            ]),
            0..24,
        )
        .prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Any pattern compiles or is refused, and any match ends within its
        /// budget, without a panic.
        #[test]
        fn any_pattern_on_any_subject_ends(p in pattern(), flags in "[im]{0,2}", s in "[ab σ😀\n]{0,12}") {
            if let Ok(re) = Regex::new(&p, &flags) {
                let mut budget = 20_000;
                let _ = re.find_from(&s, 0, &mut budget);
                prop_assert!(budget <= 20_000);
            }
        }
    }
}

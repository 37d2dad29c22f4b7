//! Examples of each parser's rule, and properties over generated text: the parsers never panic,
//! and they accept exactly what their docs say.

use proptest::prelude::*;

use super::*;

#[test]
fn widths_parse_and_reject() {
    assert_eq!(parse_widths("5,3,5").unwrap().0, vec![5, 3, 5]);
    assert_eq!(parse_widths(" 5, 3 ,5 ").unwrap().0, vec![5, 3, 5]);
    assert_eq!(parse_widths("20,30,25,10").unwrap().to_string(), "20,30,25,10");
    assert!(parse_widths("").unwrap_err().contains("empty list"));
    assert!(parse_widths("5,x,5").unwrap_err().contains("item 2 ('x')"));
    assert!(parse_widths("5,,5").unwrap_err().contains("item 2 of the list is empty"));
    assert!(parse_widths("5,-3").unwrap_err().contains("item 2 ('-3')"));
}

#[test]
fn numbers_parse_and_reject() {
    assert_eq!(parse_count("1e5"), Ok(100_000));
    assert_eq!(parse_count("500"), Ok(500));
    assert!(parse_count("0").is_err());
    assert!(parse_count("1.5").is_err());
    assert!(parse_count("-3").is_err());
    assert_eq!(parse_count_or_zero("0"), Ok(0));
    assert_eq!(parse_positive("5e-7"), Ok(5e-7));
    for bad in ["0", "-1e-5", "NaN", "inf", "x"] {
        assert!(parse_positive(bad).is_err(), "{bad}");
    }
    assert_eq!(parse_non_negative("0"), Ok(0.0));
    assert!(parse_non_negative("-0.5").is_err());
    assert_eq!(parse_probability("0.9"), Ok(0.9));
    for bad in ["0", "1", "1.5", "-0.1", "NaN", "x"] {
        assert!(parse_probability(bad).is_err(), "{bad}");
    }
}

#[test]
fn lists_of_distinct_reals_parse_and_reject() {
    let positive = |text: &str| parse_distinct_reals(text, "1e-7,2e-7", "a finite number > 0", |v| v > 0.0);
    assert_eq!(positive("1e-7, 2e-7,4e-7").unwrap(), vec![1e-7, 2e-7, 4e-7]);
    assert!(positive("").unwrap_err().contains("empty list"));
    assert!(positive("1e-7,,2e-7").unwrap_err().contains("item 2 of the list is empty"));
    assert!(positive("1e-7,x").unwrap_err().contains("item 2 ('x')"));
    for bad in ["nan", "-1e-7", "0", "inf"] {
        assert!(positive(bad).unwrap_err().contains("finite number > 0"), "{bad}");
    }
    assert!(positive("1e-7,1.0e-7").unwrap_err().contains("repeats item 1"));
    assert!(positive("1e-7,1e300").unwrap_err().contains("item 2 ('1e300') is outside the range of f32"));
}

#[test]
fn reals_outside_f32_are_refused() {
    for bad in ["1e-320", "1e39", "3.5e38"] {
        assert!(parse_positive(bad).unwrap_err().contains("outside the range of f32"), "{bad}");
        assert!(parse_non_negative(bad).unwrap_err().contains("outside the range of f32"), "{bad}");
    }
    assert_eq!(parse_positive("3.4e38"), Ok(3.4e38));
    assert_eq!(parse_non_negative("0"), Ok(0.0));
}

/// Text that looks like numbers, lists and words, and anything at all.
fn text() -> impl Strategy<Value = String> {
    prop_oneof!["[-+0-9.eE, ]{0,16}", "[-+0-9a-zA-Z.,_ ]{0,16}", any::<String>()]
}

/// Positive f64 values across f32's range and beyond it.
fn magnitude() -> impl Strategy<Value = f64> {
    (any::<f64>(), -330i32..330).prop_map(|(m, e)| (m.abs().fract() + 0.5) * 10f64.powi(e))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn counts_accept_exactly_whole_numbers(text in text()) {
        match parse_count_or_zero(&text) {
            Ok(n) => {
                let t = text.trim();
                let whole = t.parse::<usize>() == Ok(n) || t.parse::<f64>().is_ok_and(|x| x == n as f64 && x <= 1e15);
                prop_assert!(whole, "{:?} gave {}", text, n);
                prop_assert_eq!(parse_count(&text).is_ok(), n >= 1);
            }
            Err(_) => prop_assert!(parse_count(&text).is_err()),
        }
        let _ = parse_probability(&text);
    }

    #[test]
    fn every_count_round_trips(n in any::<usize>(), pad in "[ ]{0,2}", m in 1usize..1000, e in 0i32..13) {
        prop_assert_eq!(parse_count_or_zero(&format!("{pad}{n}{pad}")), Ok(n));
        prop_assert_eq!(parse_count(&n.to_string()).is_ok(), n >= 1);
        // Scientific notation for whole numbers up to 1e15.
        prop_assert_eq!(parse_count(&format!("{m}e{e}")), Ok(m * 10usize.pow(e as u32)));
    }

    #[test]
    fn reals_accept_exactly_finite_numbers_in_f32_range(text in text()) {
        let number = text.trim().parse::<f64>().ok();
        let usable = |x: f64| x.is_finite() && F32_RANGE.contains(&x.abs());
        match parse_positive(&text) {
            Ok(x) => prop_assert!(number == Some(x) && x > 0.0 && usable(x), "{:?} gave {}", text, x),
            Err(_) => prop_assert!(!number.is_some_and(|x| x > 0.0 && usable(x)), "{:?} refused", text),
        }
        match parse_non_negative(&text) {
            Ok(x) => prop_assert!(number == Some(x) && (x == 0.0 || x > 0.0 && usable(x)), "{:?}", text),
            Err(_) => prop_assert!(!number.is_some_and(|x| x == 0.0 || x > 0.0 && usable(x)), "{:?}", text),
        }
        let _ = parse_distinct_reals(&text, "1,2", "a finite number ≥ 0", |v| v >= 0.0);
    }

    #[test]
    fn every_real_in_range_round_trips(x in magnitude()) {
        let usable = F32_RANGE.contains(&x);
        for text in [x.to_string(), format!("{x:e}"), format!("{x:?}"), format!(" {x:E} ")] {
            prop_assert_eq!(parse_positive(&text).ok(), usable.then_some(x), "{}", text);
            let list = parse_distinct_reals(&format!("{text},{text}"), "1,2", "a finite number > 0", |v| v > 0.0);
            prop_assert!(list.is_err(), "a repeated item is refused");
        }
    }

    #[test]
    fn widths_accept_exactly_lists_of_integers(text in text()) {
        match parse_widths(&text) {
            Ok(Widths(widths)) => {
                let items: Vec<Result<usize, _>> = text.split(',').map(|i| i.trim().parse::<usize>()).collect();
                prop_assert_eq!(items.into_iter().collect::<Result<Vec<_>, _>>().ok(), Some(widths));
            }
            Err(message) => prop_assert!(!message.is_empty()),
        }
    }

    #[test]
    fn every_list_of_widths_round_trips(widths in proptest::collection::vec(any::<usize>(), 1..8), space in "[ ]{0,2}") {
        let text = widths.iter().map(|w| format!("{space}{w}{space}")).collect::<Vec<_>>().join(",");
        prop_assert_eq!(parse_widths(&text).map(|w| w.0), Ok(widths));
    }
}

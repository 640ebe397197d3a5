//! QRS detection scored bxb-style against every annotated WFDB record of the corpus.

mod common;

use worker_ecg::eval::{Options, evaluate_dir, gross, table};

/// The bar: gross sensitivity and positive predictivity of at least 99.5 %.
const BAR: f64 = 99.5;

#[test]
fn gross_se_and_ppv_reach_the_bar() {
    let dir = common::ecg("");
    let results = evaluate_dir(&dir, Options::default()).unwrap();
    assert!(
        !results.is_empty(),
        "no annotated WFDB record under {}",
        dir.display()
    );
    println!("{}", table(&results));
    for r in &results {
        assert!(r.is_ok(), "{:?}", r.as_ref().err());
    }
    let g = gross(&results);
    assert!(g.tp > 1000, "too few beats compared: {g:?}");
    assert!(
        g.se() >= BAR && g.ppv() >= BAR,
        "gross Se {:.3}% +P {:.3}% below {BAR}%",
        g.se(),
        g.ppv()
    );
}

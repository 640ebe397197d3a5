//! A [`Page`] as SVG: user units are millimetres; text is real SVG text (so any viewer's fonts
//! print Chinese names); each trace is clipped to its cell with a `clipPath`.

use std::fmt::Write;

use super::{Ink, Page, Rect, Text};

/// Writes `page` as an SVG document.
pub fn page_svg(page: &Page) -> String {
    let (w, h) = (page.width_mm, page.height_mm);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}mm" height="{h}mm" viewBox="0 0 {w} {h}">"#
    );
    let _ = write!(s, r##"<rect width="100%" height="100%" fill="#fff"/>"##);
    grid(&mut s, &page.grid);
    s.push_str("<defs>");
    for (k, t) in page.traces.iter().enumerate() {
        let r = t.clip;
        let _ = write!(
            s,
            r#"<clipPath id="cell{k}"><rect x="{:.2}" y="{:.2}" width="{:.2}" height="{:.2}"/></clipPath>"#,
            r.x, r.y, r.w, r.h
        );
    }
    s.push_str("</defs>");
    for p in &page.pulses {
        path(&mut s, p, "");
    }
    for (k, t) in page.traces.iter().enumerate() {
        path(
            &mut s,
            &t.points_mm,
            &format!(r#" clip-path="url(#cell{k})""#),
        );
    }
    for t in page.traces.iter().map(|t| &t.label).chain(&page.texts) {
        text(&mut s, t);
    }
    s.push_str("</svg>\n");
    s
}

fn grid(s: &mut String, g: &Rect) {
    let mut minor = String::new();
    let mut major = String::new();
    let (right, bottom) = (g.x + g.w, g.y + g.h);
    for k in 0..=(g.w.floor() as usize) {
        let d = if k % 5 == 0 { &mut major } else { &mut minor };
        let x = g.x + k as f64;
        let _ = write!(d, "M{x} {}V{bottom}", g.y);
    }
    for k in 0..=(g.h.floor() as usize) {
        let d = if k % 5 == 0 { &mut major } else { &mut minor };
        let y = g.y + k as f64;
        let _ = write!(d, "M{} {y:.2}H{right}", g.x);
    }
    let _ = write!(
        s,
        r##"<path d="{minor}" stroke="#f6c8c8" stroke-width="0.08" fill="none"/>"##
    );
    let _ = write!(
        s,
        r##"<path d="{major}" stroke="#e89494" stroke-width="0.18" fill="none"/>"##
    );
}

fn path(s: &mut String, pts: &[(f64, f64)], extra: &str) {
    if pts.len() < 2 {
        return;
    }
    let mut d = String::with_capacity(pts.len() * 14);
    for (k, (x, y)) in pts.iter().enumerate() {
        let _ = write!(d, "{}{x:.2} {y:.2}", if k == 0 { "M" } else { "L" });
    }
    let _ = write!(
        s,
        r#"<path d="{d}" stroke="black" stroke-width="0.25" fill="none"{extra}/>"#
    );
}

fn text(s: &mut String, t: &Text) {
    let [r, g, b] = t.ink.rgb();
    let fill = if t.ink == Ink::Black {
        String::new()
    } else {
        format!(r##" fill="#{r:02x}{g:02x}{b:02x}""##)
    };
    let weight = if t.bold { r#" font-weight="bold""# } else { "" };
    let _ = write!(
        s,
        r#"<text x="{:.1}" y="{:.1}" font-size="{:.2}" font-family="sans-serif"{fill}{weight}>{}</text>"#,
        t.x_mm,
        t.y_mm,
        t.size_mm,
        escape(&t.text)
    );
}

fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

//! The error-code tables of README.md and PROTOCOL.md are generated from
//! `ErrorCode`, the one definition; these tests fail when a table and the
//! enum disagree. Run with `UPDATE_ERROR_TABLES=1` to rewrite the tables in
//! place.

use std::path::PathBuf;

use reactor_protocol::ErrorCode;

const START: &str = "<!-- error-codes:start -->";
const END: &str = "<!-- error-codes:end -->";

fn table() -> String {
    let mut out = String::from("\n| code | component | recoverable | when |\n|---|---|---|---|\n");
    for &code in ErrorCode::ALL {
        out.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            code.as_str(),
            code.component().as_str(),
            if code.recoverable() { "yes" } else { "no" },
            code.description().trim().replace('|', "\\|"),
        ));
    }
    out
}

/// Checks (or, with `UPDATE_ERROR_TABLES`, rewrites) the table in `file`,
/// a document at the workspace root.
fn check(file: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let start = text.find(START).unwrap_or_else(|| panic!("{file} has no {START} marker")) + START.len();
    let end = text.find(END).unwrap_or_else(|| panic!("{file} has no {END} marker"));
    assert!(start <= end, "{file}'s error-code markers are out of order");
    let expected = table();
    if text[start..end] == expected {
        return;
    }
    if std::env::var_os("UPDATE_ERROR_TABLES").is_some() {
        std::fs::write(&path, format!("{}{}{}", &text[..start], expected, &text[end..])).unwrap();
        return;
    }
    panic!(
        "{file}'s error table is out of date with ErrorCode; rerun with UPDATE_ERROR_TABLES=1.\nexpected:{expected}"
    );
}

#[test]
fn readme_error_table_matches_the_enum() {
    check("README.md");
}

#[test]
fn protocol_md_error_table_matches_the_enum() {
    check("PROTOCOL.md");
}

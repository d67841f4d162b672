//! README.md's error-code table is generated from `ErrorCode`, like
//! PROTOCOL.md's (tests/error_table.rs, same format); this test fails when
//! README.md and the enum disagree. Run with `UPDATE_README_MD=1` to rewrite
//! the table in place.

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

#[test]
fn readme_error_table_matches_the_enum() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let text = std::fs::read_to_string(&path).expect("README.md at the workspace root");
    let start = text.find(START).expect("README.md has the <!-- error-codes:start --> marker") + START.len();
    let end = text.find(END).expect("README.md has the <!-- error-codes:end --> marker");
    assert!(start <= end, "README.md's error-code markers are out of order");
    let expected = table();
    if text[start..end] != expected {
        if std::env::var_os("UPDATE_README_MD").is_some() {
            let updated = format!("{}{}{}", &text[..start], expected, &text[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!("README.md's error table is out of date with ErrorCode; rerun with UPDATE_README_MD=1.\nexpected:{expected}");
    }
}

#[test]
fn readme_and_protocol_md_carry_the_same_table() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let block = |file: &str| {
        let text = std::fs::read_to_string(root.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let start = text.find(START).unwrap_or_else(|| panic!("{file}: no start marker")) + START.len();
        let end = text.find(END).unwrap_or_else(|| panic!("{file}: no end marker"));
        text[start..end].to_string()
    };
    if std::env::var_os("UPDATE_README_MD").is_some() {
        return; // the test above is rewriting README.md
    }
    assert_eq!(block("README.md"), block("PROTOCOL.md"), "README.md and PROTOCOL.md show different error tables");
}

//! PROTOCOL.md's error-code table is generated from `ErrorCode`; this test
//! fails when the two disagree. Run with `UPDATE_PROTOCOL_MD=1` to rewrite
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
fn protocol_md_error_table_matches_the_enum() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../PROTOCOL.md");
    let text = std::fs::read_to_string(&path).expect("PROTOCOL.md beside the protocol crate");
    let start = text.find(START).expect("start marker") + START.len();
    let end = text.find(END).expect("end marker");
    let expected = table();
    if &text[start..end] != expected {
        if std::env::var_os("UPDATE_PROTOCOL_MD").is_some() {
            let updated = format!("{}{}{}", &text[..start], expected, &text[end..]);
            std::fs::write(&path, updated).unwrap();
            return;
        }
        panic!(
            "PROTOCOL.md's error table is out of date with ErrorCode; rerun with UPDATE_PROTOCOL_MD=1.\nexpected:{expected}"
        );
    }
}

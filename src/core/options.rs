//! The constructor's options, checked once so the rest of the SDK can trust them.

/// One option as the JS object held it.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    Missing,
    Str(String),
    Bool(bool),
    /// Any other JS type; the string is its `typeof`.
    Other(String),
}

/// The options exactly as given, before checking.
#[derive(Clone, Debug, PartialEq)]
pub struct RawOptions {
    pub model_name: OptionValue,
    pub insecure_api_key: OptionValue,
    pub queueing: OptionValue,
    pub coordinator_url: OptionValue,
    pub development: OptionValue,
    pub local: OptionValue,
    pub validate_messages: OptionValue,
}

/// Where the reference coordinator listens when started by `npm run demo`.
pub const DEFAULT_COORDINATOR_URL: &str = "http://localhost:8080";

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub model_name: String,
    pub api_key: String,
    pub queueing: bool,
    /// No trailing slash.
    pub coordinator_url: String,
    /// Hold `sendMessage`/`publishVideoStream` before `ready` instead of rejecting.
    pub development: bool,
    /// Talk straight to one machine's runtime API at `coordinator_url`.
    pub local: bool,
    /// Check each `sendMessage` against the model's schema before sending.
    pub validate_messages: bool,
}

/// A bad option: which one, and what is wrong with it.
#[derive(Clone, Debug, PartialEq)]
pub struct OptionError {
    pub option: &'static str,
    pub message: String,
}

impl Options {
    pub fn parse(raw: RawOptions) -> Result<Options, OptionError> {
        let local = boolean("local", raw.local, false)?;
        let model_name = string("modelName", raw.model_name, None)?;
        // A local runtime needs no key: there is no coordinator to show it to.
        let api_key = if local {
            string("insecureApiKey", raw.insecure_api_key, Some(""))?
        } else {
            string("insecureApiKey", raw.insecure_api_key, None)?
        };
        let url = string("coordinatorUrl", raw.coordinator_url, Some(DEFAULT_COORDINATOR_URL))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() <= "https://".len() {
            return Err(OptionError {
                option: "coordinatorUrl",
                message: format!("option `coordinatorUrl` must be an http:// or https:// URL, got \"{url}\""),
            });
        }
        Ok(Options {
            model_name,
            api_key,
            queueing: boolean("queueing", raw.queueing, false)?,
            coordinator_url: url.trim_end_matches('/').into(),
            development: boolean("development", raw.development, false)?,
            local,
            validate_messages: boolean("validateMessages", raw.validate_messages, false)?,
        })
    }
}

fn string(option: &'static str, value: OptionValue, default: Option<&str>) -> Result<String, OptionError> {
    let fail = |message: String| Err(OptionError { option, message });
    match (value, default) {
        (OptionValue::Str(s), _) if !s.chars().all(char::is_whitespace) => Ok(s),
        (OptionValue::Missing, Some(default)) => Ok(default.into()),
        (OptionValue::Missing, None) => fail(format!("option `{option}` is required")),
        (OptionValue::Str(_), Some("")) => Ok(String::new()),
        (OptionValue::Str(_), _) => fail(format!("option `{option}` must not be empty")),
        (OptionValue::Bool(_), _) => fail(format!("option `{option}` must be a string, got boolean")),
        (OptionValue::Other(t), _) => fail(format!("option `{option}` must be a string, got {t}")),
    }
}

fn boolean(option: &'static str, value: OptionValue, default: bool) -> Result<bool, OptionError> {
    match value {
        OptionValue::Bool(b) => Ok(b),
        OptionValue::Missing => Ok(default),
        OptionValue::Str(_) => {
            Err(OptionError { option, message: format!("option `{option}` must be a boolean, got string") })
        }
        OptionValue::Other(t) => {
            Err(OptionError { option, message: format!("option `{option}` must be a boolean, got {t}") })
        }
    }
}

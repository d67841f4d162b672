//! The constructor's options, checked once so the rest of the SDK can trust them.

/// One option as the JS object held it.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    Missing,
    Str(String),
    Bool(bool),
    Number(f64),
    /// An array, element by element.
    List(Vec<OptionValue>),
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
    pub reconnect: OptionValue,
}

/// Where the reference coordinator listens when started by `npm run demo`.
pub const DEFAULT_COORDINATOR_URL: &str = "http://localhost:8080";

/// `reconnect: true` (the default): the delays before each attempt to
/// re-make a dropped link, in ms; after the last one fails, the SDK gives up.
pub const DEFAULT_RECONNECT_DELAYS_MS: [u32; 5] = [0, 300, 1_200, 2_700, 4_800];
/// Bounds of a `reconnect` array, so that a typo cannot keep a dead session
/// retrying for hours.
pub const MAX_RECONNECT_ATTEMPTS: usize = 32;
pub const MAX_RECONNECT_DELAY_MS: f64 = 60_000.0;

#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub model_name: String,
    pub api_key: String,
    pub queueing: bool,
    /// No trailing slash. The first of a `coordinatorUrl` list.
    pub coordinator_url: String,
    /// The rest of a `coordinatorUrl` list, tried in turn after
    /// `coordinator_url` (README "Several coordinators"); empty for one URL.
    pub fallback_urls: Vec<String>,
    /// Hold `sendMessage`/`publishVideoStream` before `ready` instead of rejecting.
    pub development: bool,
    /// Talk straight to one machine's runtime API at `coordinator_url`.
    pub local: bool,
    /// Check each `sendMessage` against the model's schema before sending.
    pub validate_messages: bool,
    /// Delays before each attempt to re-make a dropped link (ms); empty:
    /// never retry, a drop ends the session.
    pub reconnect: Vec<u32>,
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
        // It goes in a header: a value fetch() cannot carry would fail the
        // request without an answer.
        if api_key.chars().any(|c| c.is_control() || c > '\u{ff}') {
            return Err(OptionError {
                option: "insecureApiKey",
                message: "option `insecureApiKey` must not hold control characters (line breaks) or characters beyond Latin-1: it is sent in an HTTP header".into(),
            });
        }
        let mut urls = coordinator_urls(raw.coordinator_url)?;
        if local && urls.len() > 1 {
            return Err(OptionError {
                option: "coordinatorUrl",
                message: "option `coordinatorUrl` takes one URL in local mode (one runtime), got a list".into(),
            });
        }
        let url = urls.remove(0);
        Ok(Options {
            model_name,
            api_key,
            queueing: boolean("queueing", raw.queueing, false)?,
            coordinator_url: url,
            fallback_urls: urls,
            development: boolean("development", raw.development, false)?,
            local,
            validate_messages: boolean("validateMessages", raw.validate_messages, false)?,
            reconnect: reconnect(raw.reconnect)?,
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
        (other, _) => fail(format!("option `{option}` must be a string, got {}", other.type_name())),
    }
}

/// `coordinatorUrl`: one URL or a non-empty array of them, each checked.
fn coordinator_urls(value: OptionValue) -> Result<Vec<String>, OptionError> {
    let fail = |message: String| Err(OptionError { option: "coordinatorUrl", message });
    // Only an absent option has a default, not a hole in a list.
    let (values, default) = match value {
        OptionValue::List(values) if values.is_empty() => {
            return fail("option `coordinatorUrl` must not be an empty array".into())
        }
        OptionValue::List(values) => (values, None),
        single => (vec![single], Some(DEFAULT_COORDINATOR_URL)),
    };
    let mut urls = Vec::with_capacity(values.len());
    for value in values {
        let url = string("coordinatorUrl", value, default)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() <= "https://".len() {
            return fail(format!("option `coordinatorUrl` must be an http:// or https:// URL, got \"{url}\""));
        }
        urls.push(url.trim_end_matches('/').to_string());
    }
    Ok(urls)
}

fn boolean(option: &'static str, value: OptionValue, default: bool) -> Result<bool, OptionError> {
    match value {
        OptionValue::Bool(b) => Ok(b),
        OptionValue::Missing => Ok(default),
        other => Err(OptionError {
            option,
            message: format!("option `{option}` must be a boolean, got {}", other.type_name()),
        }),
    }
}

/// `reconnect`: `true`/absent, `false`, or the delays (ms) before each attempt.
fn reconnect(value: OptionValue) -> Result<Vec<u32>, OptionError> {
    let fail = |message: String| Err(OptionError { option: "reconnect", message });
    let delays = match value {
        OptionValue::Missing | OptionValue::Bool(true) => return Ok(DEFAULT_RECONNECT_DELAYS_MS.to_vec()),
        OptionValue::Bool(false) => return Ok(Vec::new()),
        OptionValue::List(delays) => delays,
        other => {
            return fail(format!(
                "option `reconnect` must be a boolean or an array of delays in ms, got {}",
                other.type_name()
            ))
        }
    };
    if delays.len() > MAX_RECONNECT_ATTEMPTS {
        return fail(format!(
            "option `reconnect` allows at most {MAX_RECONNECT_ATTEMPTS} attempts, got {}",
            delays.len()
        ));
    }
    let mut ms = Vec::with_capacity(delays.len());
    for (i, delay) in delays.into_iter().enumerate() {
        match delay {
            OptionValue::Number(n) if (0.0..=MAX_RECONNECT_DELAY_MS).contains(&n) => ms.push(n.round() as u32),
            OptionValue::Number(_) => {
                return fail(format!("option `reconnect`: delay {i} must be between 0 and {MAX_RECONNECT_DELAY_MS} ms"))
            }
            other => return fail(format!("option `reconnect`: delay {i} must be a number, got {}", other.type_name())),
        }
    }
    Ok(ms)
}

impl OptionValue {
    /// As JS `typeof` would say, with `null` and `array` told apart.
    fn type_name(&self) -> &str {
        match self {
            OptionValue::Missing => "undefined",
            OptionValue::Str(_) => "string",
            OptionValue::Bool(_) => "boolean",
            OptionValue::Number(_) => "number",
            OptionValue::List(_) => "array",
            OptionValue::Other(t) => t,
        }
    }
}

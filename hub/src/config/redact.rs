//! Secrets out of what is printed and logged: `hub config`, start-up messages, errors naming a
//! database or bucket URL.
//!
//! Two rules, applied to every string of the configuration so that a section added later is
//! covered too: a value whose key names a secret (`password`, `secret`, `token`, `credential`)
//! becomes `***`; any other value has the password of a URL (`scheme://user:PASSWORD@host`) and
//! secret-named parameters (`?password=…`, libpq's `password=…`) replaced by `***`.

/// What replaces a secret.
pub const MASK: &str = "***";

/// Key names whose values are secrets.
const SECRET_WORDS: [&str; 5] = ["password", "secret", "token", "credential", "passphrase"];

/// True if a key (a TOML key, URL parameter or libpq keyword) names a secret.
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    SECRET_WORDS.iter().any(|w| key.contains(w))
}

/// `text` (a URL, a libpq connection string, or anything else) with its secrets masked.
pub fn redact_url(text: &str) -> String {
    let text = redact_userinfo(text);
    redact_parameters(&text)
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn redact_userinfo(url: &str) -> String {
    let Some(scheme) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user = rest[..at].split(':').next().unwrap_or_default();
    let has_password = rest[..at].contains(':');
    let creds = if has_password {
        format!("{user}:{MASK}")
    } else {
        user.to_owned()
    };
    format!("{}{creds}{}", &url[..scheme + 3], &rest[at..])
}

/// `…?password=x&sslmode=y` and `host=h password=x` → the values of secret keys masked.
fn redact_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let (before, after) = rest.split_at(eq);
        let key_start = before
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |i| i + 1);
        out.push_str(before);
        out.push('=');
        let after = &after[1..];
        let value_end = after.find(['&', ' ', ';', '#']).unwrap_or(after.len());
        if is_secret_key(&before[key_start..]) && value_end > 0 {
            out.push_str(MASK);
        } else {
            out.push_str(&after[..value_end]);
        }
        rest = &after[value_end..];
    }
    out.push_str(rest);
    out
}

/// Masks, in place, every secret in a TOML table (the configuration as `hub config` prints it).
pub fn redact_table(table: &mut toml::Table) {
    for (key, value) in table.iter_mut() {
        redact_value(key, value);
    }
}

fn redact_value(key: &str, value: &mut toml::Value) {
    match value {
        toml::Value::String(s) if is_secret_key(key) && !s.is_empty() => *s = MASK.into(),
        toml::Value::String(s) => *s = redact_url(s),
        toml::Value::Table(t) => redact_table(t),
        toml::Value::Array(items) => items.iter_mut().for_each(|v| redact_value(key, v)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_urls_and_connection_strings_are_masked() {
        let cases = [
            (
                "postgres://hub:s3cret@db:5432/hub?sslmode=verify-full",
                "postgres://hub:***@db:5432/hub?sslmode=verify-full",
            ),
            (
                "postgres://hub@db/hub?password=s3cret&sslmode=require",
                "postgres://hub@db/hub?password=***&sslmode=require",
            ),
            (
                "host=/tmp dbname=hub password=s3cret user=hub",
                "host=/tmp dbname=hub password=*** user=hub",
            ),
            ("s3://bucket", "s3://bucket"),
            ("postgres://hub@db/hub", "postgres://hub@db/hub"),
            ("sqlite", "sqlite"),
        ];
        for (raw, shown) in cases {
            assert_eq!(redact_url(raw), shown);
        }
    }

    #[test]
    fn secret_keys_are_masked_wherever_they_sit() {
        let mut t: toml::Table = toml::from_str(
            "[storage]\ndatabase = \"postgres://a:pw1@h/d\"\n\
             [export]\nauth_token = \"T0K3N\"\nsecret_access_key = \"pw2\"\nkey_file = \"/k\"\n",
        )
        .unwrap();
        redact_table(&mut t);
        let text = toml::to_string(&t).unwrap();
        for secret in ["pw1", "T0K3N", "pw2"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(
            text.contains("/k"),
            "paths of key files are not secrets: {text}"
        );
    }
}

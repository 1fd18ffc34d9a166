//! Where a checkpoint is: a Hub id (with revision) or a directory URL.

/// Where to fetch a checkpoint from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Location {
    /// A Hugging Face Hub model id and revision.
    Hub { id: String, revision: String },
    /// A directory URL (absolute, or relative to the page) holding the files.
    Url(String),
}

impl Location {
    /// `bert-base-uncased`, `google/bert_uncased_L-2_H-128_A-2@main`, `https://…/dir/`,
    /// `./assets/` or `assets/`: an id has no scheme and at most one `/`; the rest are URLs.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("type a Hugging Face model id (e.g. bert-base-uncased) or a URL".into());
        }
        let is_url = text.contains("://")
            || text.starts_with('.')
            || text.starts_with('/')
            || text.ends_with('/');
        if is_url {
            let base = if text.ends_with('/') {
                text.to_string()
            } else {
                format!("{text}/")
            };
            return Ok(Self::Url(base));
        }
        let (id, revision) = match text.split_once('@') {
            Some((id, rev)) if !rev.is_empty() => (id, rev),
            _ => (text, "main"),
        };
        let valid = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
                && !s.starts_with('.')
        };
        let parts: Vec<&str> = id.split('/').collect();
        if parts.len() > 2 || !parts.iter().all(|p| valid(p)) {
            return Err(format!(
                "`{id}` is not a Hub model id (letters, digits, - _ . and at most one /, like google-bert/bert-base-uncased)"
            ));
        }
        if !revision
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        {
            return Err(format!("`{revision}` is not a valid revision"));
        }
        Ok(Self::Hub {
            id: id.into(),
            revision: revision.into(),
        })
    }

    /// The URL of one file of the checkpoint.
    pub fn file_url(&self, name: &str) -> String {
        match self {
            Self::Hub { id, revision } => {
                format!("https://huggingface.co/{id}/resolve/{revision}/{name}")
            }
            Self::Url(base) => format!("{base}{name}"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Hub { id, revision } => format!("{id}@{revision} (Hugging Face Hub)"),
            Self::Url(base) => base.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Location;

    #[test]
    fn hub_ids_urls_and_bad_input() {
        let hub = |id: &str, revision: &str| Location::Hub {
            id: id.into(),
            revision: revision.into(),
        };
        assert_eq!(
            Location::parse(" bert-base-uncased "),
            Ok(hub("bert-base-uncased", "main"))
        );
        assert_eq!(
            Location::parse("google/bert_uncased_L-2_H-128_A-2@v1.0"),
            Ok(hub("google/bert_uncased_L-2_H-128_A-2", "v1.0"))
        );
        assert_eq!(
            Location::parse("assets/"),
            Ok(Location::Url("assets/".into()))
        );
        assert_eq!(
            Location::parse("https://example.org/m"),
            Ok(Location::Url("https://example.org/m/".into()))
        );
        for bad in ["", "   ", "a/b/c", "bad id", "x@rev with space", "-_/.x"] {
            assert!(Location::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(
            hub("a/b", "main").file_url("config.json"),
            "https://huggingface.co/a/b/resolve/main/config.json"
        );
    }
}

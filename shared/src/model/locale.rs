//! The languages people read this bundle's texts in: an account's `locale`, or
//! what a request asks for. The texts themselves are the catalogue of `locale/`.

/// A language of the catalogue: an account's `locale`, or what a request asks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    En,
    ZhCn,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Self::En, Self::ZhCn];

    /// The tag stored on an account and written in fixtures.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::ZhCn => "zh-CN",
        }
    }

    /// An account's `locale` as stored or seeded: exactly `en` or `zh-CN` (any case).
    pub fn parse(tag: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.as_str().eq_ignore_ascii_case(tag.trim()))
    }

    /// A language range of `Accept-Language` this catalogue serves: `en`, `en-*`,
    /// `zh`, `zh-CN`, `zh-Hans`, `zh-Hans-CN`, `zh-SG` (simplified Chinese).
    fn from_range(range: &str) -> Option<Self> {
        let range = range.trim().to_ascii_lowercase();
        let mut parts = range.split('-');
        match parts.next()? {
            "en" => Some(Self::En),
            "zh" => match parts.next() {
                None | Some("cn" | "hans" | "sg") => Some(Self::ZhCn),
                _ => None,
            },
            _ => None,
        }
    }

    /// The language an `Accept-Language` header prefers among those served
    /// (highest `q` first, then the header's order); `None` when it names none.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        let mut best: Option<(u16, Self)> = None;
        for item in header.split(',').take(32) {
            let mut fields = item.split(';');
            let Some(locale) = fields.next().and_then(Self::from_range) else { continue };
            let q = fields
                .filter_map(|f| f.trim().strip_prefix("q=").or_else(|| f.trim().strip_prefix("Q=")))
                .find_map(|v| v.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let q = (q.clamp(0.0, 1.0) * 1000.0) as u16;
            if q > 0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, locale));
            }
        }
        best.map(|(_, l)| l)
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_served_language() {
        let pick = Locale::from_accept_language;
        assert_eq!(pick("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(pick("zh-CN,zh;q=0.9,en;q=0.8"), Some(Locale::ZhCn));
        assert_eq!(pick("en-US,en;q=0.9,zh-CN;q=0.8"), Some(Locale::En));
        assert_eq!(pick("fr-FR, en;q=0.5, zh-Hans;q=0.7"), Some(Locale::ZhCn));
        assert_eq!(pick("zh-TW"), None);
        assert_eq!(pick("fr, de"), None);
        assert_eq!(pick("en;q=0, zh"), Some(Locale::ZhCn));
        assert_eq!(pick(""), None);
        assert_eq!(pick("*"), None);
    }

    #[test]
    fn an_account_locale_is_en_or_zh_cn() {
        assert_eq!(Locale::parse("zh-CN"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("zh-cn"), Some(Locale::ZhCn));
        assert_eq!(Locale::parse("en"), Some(Locale::En));
        assert_eq!(Locale::parse("zh"), None);
        assert_eq!(Locale::parse("fr"), None);
        assert_eq!(Locale::default().as_str(), "en");
    }
}

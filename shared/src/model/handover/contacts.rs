//! The contacts a profile keeps apart from the account's email and phone.

/// Whose contact a profile keeps apart from the account's email and phone (docs/seeds.md#handover, step 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactRole {
    Login,
    Security,
    Service,
    Admin,
}

impl ContactRole {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Login => "login",
            Self::Security => "security",
            Self::Service => "service",
            Self::Admin => "admin",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Email,
    Phone,
}

/// One separately kept contact, e.g. the security email. Absent: it follows the account's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactSlot {
    pub role: ContactRole,
    pub channel: Channel,
}

impl ContactSlot {
    pub const ALL: [ContactSlot; 8] = {
        use Channel::*;
        use ContactRole::*;
        [
            ContactSlot { role: Login, channel: Email },
            ContactSlot { role: Login, channel: Phone },
            ContactSlot { role: Security, channel: Email },
            ContactSlot { role: Security, channel: Phone },
            ContactSlot { role: Service, channel: Email },
            ContactSlot { role: Service, channel: Phone },
            ContactSlot { role: Admin, channel: Email },
            ContactSlot { role: Admin, channel: Phone },
        ]
    };

    /// `security_email` and the like, as fixtures and the profile name them.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|slot| slot.name() == s)
    }

    pub fn name(self) -> String {
        let channel = match self.channel {
            Channel::Email => "email",
            Channel::Phone => "phone",
        };
        format!("{}_{channel}", self.role.as_str())
    }
}

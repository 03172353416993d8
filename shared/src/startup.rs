//! Where a cold start's time goes. `shared::runtime` times each step of init
//! on the monotonic clock and logs them once, as one `startup` line, just
//! before the first poll; scripts/bench reads that line (docs/benchmark.md#the-init-breakdown).
//! Durations only: no setting's value is logged.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// One step of init, in the order `shared::runtime` takes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The JSON log subscriber and its filter.
    Logging,
    /// The function's settings read from the environment.
    Configuration,
    /// The SDK's configuration: region, credentials chain, profile files, retry and timeout settings.
    SdkConfig,
    /// The DynamoDB, SES, Secrets Manager and Cognito clients (each only where the function uses it).
    Clients,
    /// The code secret read from Secrets Manager and the DynamoDB warm-up, side by side (wall time).
    Connections,
}

impl Phase {
    pub const ALL: [Phase; 5] = [Self::Logging, Self::Configuration, Self::SdkConfig, Self::Clients, Self::Connections];

    pub fn name(self) -> &'static str {
        match self {
            Self::Logging => "logging",
            Self::Configuration => "configuration",
            Self::SdkConfig => "sdk_config",
            Self::Clients => "clients",
            Self::Connections => "connections",
        }
    }
}

/// The marks of one process's init.
#[derive(Debug, Clone)]
pub struct Startup {
    began: Instant,
    /// Wall clock at `began`, so a launcher can tell how long exec → `main` took.
    began_unix_us: u128,
    last: Instant,
    phases: Vec<(Phase, Duration)>,
    /// The secret read alone (its share of [`Phase::Connections`]); none when the key is in the environment.
    pub secret: Option<Duration>,
    /// The warm-up GetItem alone: TLS roots, connect, handshake and the request.
    pub warm_up: Option<Duration>,
}

impl Default for Startup {
    fn default() -> Self {
        Self::begin()
    }
}

impl Startup {
    pub fn begin() -> Self {
        let began = Instant::now();
        let began_unix_us = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros());
        Self { began, began_unix_us, last: began, phases: Vec::new(), secret: None, warm_up: None }
    }

    /// Closes `phase`: the time since the previous mark.
    pub fn mark(&mut self, phase: Phase) {
        let now = Instant::now();
        self.phases.push((phase, now - self.last));
        self.last = now;
    }

    pub fn took(&self, phase: Phase) -> Duration {
        self.phases.iter().filter(|(p, _)| *p == phase).map(|(_, d)| *d).sum()
    }

    /// The `startup` log line: one integer field per phase, in µs.
    pub fn log(&self) {
        let us = |d: Duration| d.as_micros() as u64;
        let phase = |p: Phase| us(self.took(p));
        tracing::info!(
            main_unix_us = self.began_unix_us as u64,
            logging_us = phase(Phase::Logging),
            configuration_us = phase(Phase::Configuration),
            sdk_config_us = phase(Phase::SdkConfig),
            clients_us = phase(Phase::Clients),
            connections_us = phase(Phase::Connections),
            secret_us = self.secret.map_or(0, us),
            warm_up_us = self.warm_up.map_or(0, us),
            init_us = us(self.last - self.began),
            "startup"
        );
    }
}

/// Runs `work` and says how long it took.
pub async fn timed<T>(work: impl std::future::Future<Output = T>) -> (T, Duration) {
    let t = Instant::now();
    let out = work.await;
    (out, t.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_add_up_to_the_time_since_the_beginning() {
        let mut s = Startup::begin();
        std::thread::sleep(Duration::from_millis(2));
        s.mark(Phase::Logging);
        s.mark(Phase::Configuration);
        let sum: Duration = Phase::ALL.iter().map(|p| s.took(*p)).sum();
        assert_eq!(sum, s.last - s.began);
        assert!(s.took(Phase::Logging) >= Duration::from_millis(2));
        assert_eq!(s.took(Phase::Clients), Duration::ZERO);
        assert!(s.began_unix_us > 1_700_000_000_000_000);
    }
}

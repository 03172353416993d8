//! Order statistics of timings, nearest-rank (no interpolation: with 20
//! samples the p95 is the 19th smallest, with 1,000 the p99 is the 990th).

use serde::Serialize;
use std::time::Duration;

#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub samples: usize,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn rank(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    let k = ((p / 100.0) * n as f64).ceil() as usize;
    sorted[k.clamp(1, n) - 1]
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut v: Vec<f64> = samples.iter().copied().map(ms).collect();
        v.sort_by(|a, b| a.total_cmp(b));
        Some(Self {
            samples: v.len(),
            min_ms: v[0],
            p50_ms: rank(&v, 50.0),
            p95_ms: rank(&v, 95.0),
            p99_ms: rank(&v, 99.0),
            max_ms: v[v.len() - 1],
            mean_ms: v.iter().sum::<f64>() / v.len() as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let twenty: Vec<Duration> = (1..=20).map(Duration::from_millis).collect();
        let s = Stats::of(&twenty).unwrap();
        assert_eq!((s.p50_ms, s.p95_ms, s.max_ms), (10.0, 19.0, 20.0));
        let thousand: Vec<Duration> = (1..=1000).rev().map(Duration::from_millis).collect();
        let s = Stats::of(&thousand).unwrap();
        assert_eq!((s.p50_ms, s.p99_ms), (500.0, 990.0));
        assert!(Stats::of(&[]).is_none());
    }
}

use super::*;

fn call<'a>(method: &'a str, path: &'a str) -> Call<'a> {
    Call {
        method,
        path,
        decoded: decode_lossy(path),
        now: "2030-01-01T00:00:00Z".parse().unwrap(),
    }
}

#[test]
fn times_run_out_and_paths_filter() {
    let f = Faults::default();
    f.set(Some(Fault {
        path: Some("/api".into()),
        status: Some(503),
        times: Some(2),
        ..Fault::default()
    }));
    assert!(f.take(&call("GET", "/other")).is_none());
    assert!(f.take(&call("GET", "/api/x")).is_some());
    assert!(f.take(&call("GET", "/api/x")).is_some());
    assert!(f.take(&call("GET", "/api/x")).is_none());
    assert!(f.get().is_none() && f.is_empty());
}

#[test]
fn method_subject_and_window_select_the_calls() {
    let f = Faults::default();
    f.set_all(vec![
        Fault {
            method: Some("post".into()),
            status: Some(500),
            ..Fault::default()
        },
        Fault {
            subject: Some("Jean Dupont".into()),
            status: Some(404),
            ..Fault::default()
        },
        Fault {
            from: Some("2030-01-01T00:00:00Z".parse().unwrap()),
            until: Some("2030-01-01T01:00:00Z".parse().unwrap()),
            status: Some(503),
            ..Fault::default()
        },
    ]);
    let status = |c: &Call<'_>| f.take(c).and_then(|a| a.fault.status);
    assert_eq!(status(&call("POST", "/token")), Some(500));
    assert_eq!(status(&call("GET", "/q?nom=Jean+Dupont")), Some(404));
    assert_eq!(status(&call("GET", "/q?nom=Jean%20Dupont")), Some(404));
    // In the window, then after it.
    assert_eq!(status(&call("GET", "/q")), Some(503));
    let mut later = call("GET", "/q");
    later.now = "2030-01-01T01:00:00Z".parse().unwrap();
    assert_eq!(status(&later), None);
}

#[test]
fn every_nth_and_a_seeded_share_are_repeatable() {
    let nth = Faults::default();
    nth.set(Some(Fault {
        every: Some(3),
        status: Some(503),
        ..Fault::default()
    }));
    let hits: Vec<bool> = (0..9)
        .map(|_| nth.take(&call("GET", "/")).is_some())
        .collect();
    assert_eq!(
        hits,
        [false, false, true, false, false, true, false, false, true]
    );
    let share = |seed| {
        let f = Faults::default();
        f.set(Some(Fault {
            probability: Some(0.3),
            seed: Some(seed),
            status: Some(503),
            ..Fault::default()
        }));
        (0..1000)
            .map(|_| f.take(&call("GET", "/")).is_some())
            .collect::<Vec<_>>()
    };
    let (a, b) = (share(7), share(7));
    assert_eq!(a, b, "the same seed, the same calls");
    let n = a.iter().filter(|h| **h).count();
    assert!((250..350).contains(&n), "about 30 %: {n}");
}

#[test]
fn latencies_stay_in_their_bounds_with_a_lognormal_median() {
    let f = Faults::default();
    f.set(Some(Fault {
        latency: Some(Latency::Lognormal {
            median_ms: 100.0,
            sigma: 0.5,
            cap_ms: 400,
        }),
        ..Fault::default()
    }));
    let mut waits: Vec<u64> = (0..2001)
        .map(|_| f.take(&call("GET", "/")).unwrap().wait_ms)
        .collect();
    waits.sort();
    let median = waits[1000];
    assert!((90..=110).contains(&median), "median {median}");
    assert!(*waits.last().unwrap() <= 400);
    f.set(Some(Fault {
        delay_ms: 10,
        latency: Some(Latency::Uniform {
            min_ms: 5,
            max_ms: 15,
        }),
        ..Fault::default()
    }));
    for _ in 0..200 {
        let w = f.take(&call("GET", "/")).unwrap().wait_ms;
        assert!((15..=25).contains(&w), "{w}");
    }
}

#[test]
fn nonsense_is_refused() {
    let bad = [
        Fault {
            status: Some(99),
            ..Fault::default()
        },
        Fault {
            status: Some(500),
            malformed: true,
            ..Fault::default()
        },
        Fault {
            status: Some(503),
            connection: Some(ConnectionFault::Reset),
            ..Fault::default()
        },
        Fault {
            times: Some(0),
            ..Fault::default()
        },
        Fault {
            every: Some(0),
            ..Fault::default()
        },
        Fault {
            probability: Some(1.5),
            ..Fault::default()
        },
        Fault {
            latency: Some(Latency::Uniform {
                min_ms: 9,
                max_ms: 1,
            }),
            ..Fault::default()
        },
        Fault {
            dribble: Some(Dribble {
                chunks: 0,
                over_ms: 10,
            }),
            ..Fault::default()
        },
        Fault {
            from: Some("2030-01-02T00:00:00Z".parse().unwrap()),
            until: Some("2030-01-01T00:00:00Z".parse().unwrap()),
            ..Fault::default()
        },
    ];
    for f in bad {
        assert!(f.check().is_err(), "{f:?}");
    }
    assert!(Fault::default().check().is_ok());
}

#[test]
fn decoding_is_lossy_never_failing() {
    assert_eq!(decode_lossy("a%20b+c%2"), "a b c%2");
    assert_eq!(decode_lossy("%FF"), "\u{fffd}");
}

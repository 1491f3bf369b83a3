//! Complete FranceConnect sign-ins per second on the embedded platform: authorize → selection
//! page → redirect to the identity provider → login page → login → broker callback (the broker
//! exchanges the provider's code and verifies its ID token and userinfo) → information page →
//! consent → token → userinfo. Each sign-in is fresh (no SSO).
//! Baseline in the same run: the same number of browser/client requests (10) to a raw hyper
//! server. Target: at least 500 complete sign-ins/s on 2 cores.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use simulators::platform::{Platform, PlatformConfig};

const CITIZENS: usize = 32;
const SIGN_INS: usize = 256;
const CALLBACK: &str = "http://127.0.0.1:7999/callback";
const CLIENT: (&str, &str) = (
    "bec4000000000000000000000000000000000000000000000000000000000001",
    "bench-fc-secret-0123456789-local-only",
);

fn between<'a>(html: &'a str, before: &str, after: &str) -> &'a str {
    let start = html
        .find(before)
        .map(|i| i + before.len())
        .expect("marker on the page");
    &html[start..start + html[start..].find(after).expect("end marker")]
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_string()
}

async fn sign_in(http: &reqwest::Client, fc: &str) {
    let params = [
        ("response_type", "code"),
        ("client_id", CLIENT.0),
        ("redirect_uri", CALLBACK),
        ("scope", "openid profile birth email"),
        ("state", "state-0123456789abcdefghij"),
        ("nonce", "nonce-0123456789abcdefghijkl"),
        ("acr_values", "eidas1"),
    ];
    let page = http
        .get(format!(
            "{fc}/api/v2/authorize?{}",
            serde_urlencoded::to_string(params).unwrap()
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let uid = between(&page, "name=\"uid\" value=\"", "\"").to_string();
    let r = http
        .post(format!("{fc}/api/v2/redirect-to-idp"))
        .form(&[("uid", uid.as_str()), ("idp", "idp-impots")])
        .send()
        .await
        .unwrap();
    let idp_authorize = location(&r);
    let idp_base = idp_authorize
        .split("/authorize")
        .next()
        .unwrap()
        .to_string();
    let login_page = http
        .get(&idp_authorize)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let idp_uid = between(&login_page, "name=\"uid\" value=\"", "\"").to_string();
    let r = http
        .post(format!("{idp_base}/login"))
        .form(&[
            ("uid", idp_uid.as_str()),
            ("login", "famille-eaje-aeeh"),
            ("password", "123"),
        ])
        .send()
        .await
        .unwrap();
    let r = http.get(location(&r)).send().await.unwrap();
    assert!(r.status().is_redirection(), "callback: {}", r.status());
    let consent_url = format!("{fc}{}", location(&r));
    let consent = http
        .get(&consent_url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = between(&consent, "name=\"csrf\" value=\"", "\"").to_string();
    let r = http
        .post(&consent_url)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let back = location(&r);
    let code = between(&back, "code=", "&").to_string();
    let tokens: serde_json::Value = http
        .post(format!("{fc}/api/v2/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", CALLBACK),
            ("client_id", CLIENT.0),
            ("client_secret", CLIENT.1),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let info = http
        .get(format!("{fc}/api/v2/userinfo"))
        .bearer_auth(tokens["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert!(info.status().is_success());
    info.bytes().await.unwrap();
}

async fn ten_hellos(http: &reqwest::Client, hello: &str) {
    for _ in 0..10 {
        http.get(hello).send().await.unwrap().bytes().await.unwrap();
    }
}

fn signins(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut config = PlatformConfig::ephemeral();
    config.population.citizens = 10_000;
    config.population.companies = 2_000;
    let platform = rt.block_on(Platform::start(&config, None)).unwrap();
    let fc = platform.party("fc").unwrap().base_url.clone();
    let (hello_addr, _server) = rt.block_on(bench::hello_server()).unwrap();
    let hello = format!("http://{hello_addr}/");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(CITIZENS)
        .build()
        .unwrap();

    let mut group = c.benchmark_group("signin");
    group.throughput(Throughput::Elements(SIGN_INS as u64));
    group.sample_size(10);
    let run = |job: fn(reqwest::Client, String) -> tokio::task::JoinHandle<()>, target: &str| {
        rt.block_on(async {
            let tasks: Vec<_> = (0..CITIZENS)
                .map(|_| job(http.clone(), target.to_string()))
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    };
    group.bench_function("baseline_10_requests_raw_hyper", |b| {
        b.iter(|| {
            run(
                |http, url| {
                    tokio::spawn(async move {
                        for _ in 0..SIGN_INS / CITIZENS {
                            ten_hellos(&http, &url).await
                        }
                    })
                },
                &hello,
            );
        })
    });
    group.bench_function("complete_sign_in_fc", |b| {
        b.iter(|| {
            run(
                |http, url| {
                    tokio::spawn(async move {
                        for _ in 0..SIGN_INS / CITIZENS {
                            sign_in(&http, &url).await
                        }
                    })
                },
                &fc,
            );
            // Bounded memory between samples, as a long run would keep it.
            for p in &platform.parties {
                p.core.journal.clear();
            }
        })
    });
    group.finish();
    rt.block_on(platform.shutdown());
}

criterion_group!(benches, signins);
criterion_main!(benches);

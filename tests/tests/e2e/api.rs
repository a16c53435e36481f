//! The HTTP API over real models, the real index engine and the local
//! object store (`imgtag_tests::api_server`): auth and tenant isolation,
//! every endpoint, the limits, and every JSON answer checked against
//! `docs/openapi.json`.

use imgtag_tests::api_server::{MAX_BODY_BYTES, MAX_WIDTH, api_server};
use imgtag_tests::openapi::{assert_schema, document};
use imgtag_tests::{SAMPLES, sample};
use reqwest::StatusCode;
use reqwest::header;
use serde_json::Value;

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::new()
}

fn url(path: &str) -> String {
    format!("{}{path}", api_server().url)
}

async fn get(key: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = client().get(url(path));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    request.send().await.unwrap()
}

/// Status and JSON body.
async fn get_json(key: Option<&str>, path: &str) -> (StatusCode, Value) {
    let response = get(key, path).await;
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn upload(key: &str, query: &str, form: reqwest::multipart::Form) -> (StatusCode, Value) {
    let response = client()
        .post(url(&format!("/api/v1/search/image{query}")))
        .bearer_auth(key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

fn image_form(name: &str, bytes: Vec<u8>) -> reqwest::multipart::Form {
    reqwest::multipart::Form::new().part(
        "image",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    )
}

fn tiny_png() -> Vec<u8> {
    let mut png = Vec::new();
    image::RgbImage::new(8, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn filenames(body: &Value) -> Vec<&str> {
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["record"]["filename"].as_str().unwrap())
        .collect()
}

fn ids(body: &Value) -> Vec<&str> {
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|hit| hit["record"]["image_id"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_key_is_required_and_grants_exactly_one_tenant() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();
    let other = server.other_key.as_str();
    let coffee = &server.acme_ids["coffee.png"];
    let endpoints = [
        "/api/v1/search?text=coffee".to_owned(),
        format!("/api/v1/images/{coffee}"),
        format!("/api/v1/images/{coffee}/similar"),
        format!("/api/v1/images/{coffee}/renditions/thumb"),
        "/api/v1/facets/tag".to_owned(),
        "/api/v1/stats".to_owned(),
    ];
    for path in &endpoints {
        for key in [None, Some("imgtag_wrong"), Some(&server.acme_key[..20])] {
            let response = get(key, path).await;
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{path} {key:?}"
            );
            assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
            let body: Value = response.json().await.unwrap();
            assert_eq!(code(&body), "api.unauthorized");
            assert_schema(&doc, "ErrorBody", &body);
        }
    }
    // Another scheme, or the digest instead of the key, is no key.
    let basic = client()
        .get(url("/api/v1/stats"))
        .header(header::AUTHORIZATION, format!("Basic {acme}"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::UNAUTHORIZED);
    // The upload endpoint checks the key before reading the body.
    let anonymous = client()
        .post(url("/api/v1/search/image"))
        .multipart(image_form("tiny.png", tiny_png()))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);

    // Each key sees its own tenant only.
    let (status, body) = get_json(Some(acme), "/api/v1/search?text=coffee&limit=20").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["hits"].as_array().unwrap().len(), SAMPLES.len());
    assert!(
        body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["record"]["tenant_id"] == "acme")
    );
    let (_, body) = get_json(Some(other), "/api/v1/search?text=coffee&limit=20").await;
    assert_eq!(ids(&body), [server.other_coffee_id.as_str()]);
    let (_, stats) = get_json(Some(other), "/api/v1/stats").await;
    assert_eq!(stats["tenant_id"], "other");
    assert_eq!(stats["total"], 1);

    // Another tenant's image is "not found", exactly like a missing one.
    let missing = "00000000-0000-5000-8000-000000000000";
    for id in [coffee.as_str(), missing] {
        for path in [
            format!("/api/v1/images/{id}"),
            format!("/api/v1/images/{id}/similar"),
            format!("/api/v1/images/{id}/renditions/thumb"),
        ] {
            let (status, body) = get_json(Some(other), &path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert_eq!(code(&body), "index.not_found", "{path}");
            assert_eq!(body["error"]["message"], format!("image {id} not found"));
        }
    }
    // The tenant cannot be chosen by a parameter.
    let (status, body) = get_json(Some(other), "/api/v1/search?text=coffee&tenant=acme").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "api.bad_request");
}

/// `path` with its query text percent-encoded.
fn encoded(path: &str, query: &[(&str, &str)]) -> String {
    let with_query = reqwest::Url::parse_with_params("http://localhost/", query).unwrap();
    format!("{path}?{}", with_query.query().unwrap_or_default())
}

#[tokio::test]
async fn chinese_queries_tag_names_and_the_answer_language() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();

    // By meaning, in Chinese: the coffee first, found by its vector.
    let path = encoded("/api/v1/search", &[("text", "一杯咖啡"), ("lang", "zh")]);
    let (status, body) = get_json(Some(acme), &path).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_schema(&doc, "SearchOutput", &body);
    assert_eq!(body["lang"], "zh");
    assert_eq!(filenames(&body)[0], "coffee.png", "{body}");
    assert!(body["hits"][0]["why"]["vector"].as_f64().unwrap() > 0.0);

    // A tag named in Chinese: the cat carries `cat`, and says so, with the
    // tag's Chinese name among its labels.
    let path = encoded("/api/v1/search", &[("text", "猫"), ("lang", "zh")]);
    let (_, body) = get_json(Some(acme), &path).await;
    assert_eq!(filenames(&body)[0], "chelsea.png", "{body}");
    let first = &body["hits"][0];
    assert!(
        first["why"]["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "cat"),
        "{first}"
    );
    assert_eq!(first["tag_labels"]["cat"], "猫");

    // Filters take either name.
    let by_zh = encoded("/api/v1/search", &[("text", "coffee"), ("tag", "猫")]);
    let by_en = encoded("/api/v1/search", &[("text", "coffee"), ("tag", "cat")]);
    let (_, zh) = get_json(Some(acme), &by_zh).await;
    let (_, en) = get_json(Some(acme), &by_en).await;
    assert_eq!(filenames(&zh), ["chelsea.png"]);
    assert_eq!(ids(&zh), ids(&en));

    // Without `lang`, Accept-Language decides; English has no labels.
    let response = client()
        .get(url(&encoded("/api/v1/search", &[("text", "猫")])))
        .bearer_auth(acme)
        .header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8")
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["lang"], "zh");
    let (_, english) = get_json(Some(acme), &encoded("/api/v1/search", &[("text", "猫")])).await;
    assert_eq!(english["lang"], "en");
    assert!(english["hits"][0].get("tag_labels").is_none());

    // Full-width and case fold: the same answer.
    let (_, wide) = get_json(
        Some(acme),
        &encoded("/api/v1/search", &[("text", "ＣＯＦＦＥＥ")]),
    )
    .await;
    let (_, narrow) = get_json(
        Some(acme),
        &encoded("/api/v1/search", &[("text", "coffee")]),
    )
    .await;
    assert_eq!(filenames(&wide)[0], filenames(&narrow)[0]);

    // A bad language is a 400.
    let (status, body) = get_json(Some(acme), "/api/v1/search?text=cat&lang=klingon").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "api.bad_request");

    // The vocabulary, in both languages.
    let (status, tags) = get_json(Some(acme), "/api/v1/tags?lang=zh").await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "TagVocabulary", &tags);
    let list = tags["tags"].as_array().unwrap();
    assert!(list.len() >= 70, "{}", list.len());
    assert!(
        list.iter()
            .all(|t| t["zh"].is_string() && t["label"] == t["zh"])
    );
    let cat = list.iter().find(|t| t["name"] == "cat").unwrap();
    assert_eq!(cat["zh"], "猫");
    let (status, _) = get_json(None, "/api/v1/tags").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn searches_rank_filter_and_page() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();

    let (status, text) = get_json(Some(acme), "/api/v1/search?text=coffee").await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "SearchOutput", &text);
    assert_eq!(text["query"], "text: coffee");
    assert_eq!(filenames(&text)[0], "coffee.png");
    let scores: Vec<f64> = text["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // By upload: the cat itself ranks first.
    let cat = fs_err::read(sample("chelsea.png")).unwrap();
    let (status, similar) = upload(acme, "", image_form("my cat.png", cat)).await;
    assert_eq!(status, StatusCode::OK, "{similar}");
    assert_schema(&doc, "SearchOutput", &similar);
    assert_eq!(similar["query"], "image: my cat.png");
    assert_eq!(filenames(&similar)[0], "chelsea.png");
    assert!(similar["hits"][0]["score"].as_f64().unwrap() > 0.99);

    // Like a stored image: itself left out.
    let coffee = &server.acme_ids["coffee.png"];
    let (status, like) = get_json(Some(acme), &format!("/api/v1/images/{coffee}/similar")).await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "SearchOutput", &like);
    assert_eq!(like["hits"].as_array().unwrap().len(), SAMPLES.len() - 1);
    assert!(!ids(&like).contains(&coffee.as_str()));

    // Paging.
    let (_, two) = get_json(Some(acme), "/api/v1/search?text=coffee&limit=2").await;
    assert_eq!(ids(&two), ids(&text)[..2]);
    let (_, next) = get_json(Some(acme), "/api/v1/search?text=coffee&limit=2&offset=2").await;
    assert_eq!(ids(&next), ids(&text)[2..4]);

    // Filters: a tag only the cat carries, a customer nobody has, dates.
    let cat_record = &similar["hits"][0]["record"];
    let rare_tag = cat_record["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .find(|tag| {
            text["hits"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|h| {
                    h["record"]["tags"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|t| t == tag)
                })
                .count()
                == 1
        })
        .expect("the cat has a tag of its own");
    let (_, tagged) = get_json(
        Some(acme),
        &format!("/api/v1/search?text=coffee&tag={rare_tag}"),
    )
    .await;
    assert_eq!(filenames(&tagged), ["chelsea.png"]);
    let (_, facet) = get_json(Some(acme), &format!("/api/v1/facets/tag?tag={rare_tag}")).await;
    assert!(
        facet["counts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["count"] == 1)
    );
    let (_, nobody) = get_json(Some(acme), "/api/v1/search?text=coffee&customer=nobody").await;
    assert_eq!(nobody["hits"].as_array().unwrap().len(), 0);
    let (_, customer) = get_json(
        Some(acme),
        "/api/v1/search?text=coffee&customer=acme-customer",
    )
    .await;
    assert_eq!(customer["hits"].as_array().unwrap().len(), SAMPLES.len());
    // The samples carry no capture date: a date range excludes them all.
    let (status, dated) = get_json(
        Some(acme),
        "/api/v1/search?text=coffee&since=2020-01-01&until=2030-01-01",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(dated["hits"].as_array().unwrap().len(), 0);

    // Refused parameters.
    for query in [
        "text=coffee&colour=red",
        "text=coffee&since=yesterday",
        "text=coffee&limit=0",
        "text=coffee&limit=101",
        "text=coffee&include_sensitive=perhaps",
        "tag=cat",
    ] {
        let (status, body) = get_json(Some(acme), &format!("/api/v1/search?{query}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{query}: {body}");
        assert_eq!(code(&body), "api.bad_request", "{query}");
        assert_schema(&doc, "ErrorBody", &body);
    }
    let (status, _) = get_json(
        Some(acme),
        &format!("/api/v1/images/{coffee}/similar?offset=3"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn records_and_renditions_with_content_types_and_caching() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();
    let coffee = &server.acme_ids["coffee.png"];

    let (status, record) = get_json(Some(acme), &format!("/api/v1/images/{coffee}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "ImageRecord", &record);
    assert_eq!(record["image_id"], coffee.as_str());
    assert_eq!(record["filename"], "coffee.png");
    assert_eq!(record["customer_id"], "acme-customer");
    let tag = record["tag_scores"]
        .as_object()
        .unwrap()
        .values()
        .next()
        .unwrap();
    assert!(tag["model"].as_str().unwrap().contains('@'), "{tag}");

    for name in ["thumb", "preview"] {
        let path = format!("/api/v1/images/{coffee}/renditions/{name}");
        let response = get(Some(acme), &path).await;
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "image/webp");
        let cache = headers[header::CACHE_CONTROL].to_str().unwrap();
        assert!(cache.starts_with("private, max-age="), "{cache}");
        assert_eq!(headers[header::VARY], "Authorization");
        let etag = headers[header::ETAG].to_str().unwrap().to_owned();
        let bytes = response.bytes().await.unwrap();
        assert_eq!(
            bytes.len() as u64,
            record["renditions"][name]["bytes"].as_u64().unwrap()
        );
        let image = image::load_from_memory_with_format(&bytes, image::ImageFormat::WebP).unwrap();
        assert!(image.width().max(image.height()) <= 1600);
        // Revalidation: 304 with no body.
        let again = client()
            .get(url(&path))
            .bearer_auth(acme)
            .header(header::IF_NONE_MATCH, &etag)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(again.headers()[header::ETAG], etag.as_str());
        assert!(again.bytes().await.unwrap().is_empty());
    }
    // The original is never served; unknown renditions and ids are 404.
    assert!(record["renditions"]["original"].is_object());
    for path in [
        format!("/api/v1/images/{coffee}/renditions/original"),
        format!("/api/v1/images/{coffee}/renditions/poster"),
        "/api/v1/images/not-a-uuid".to_owned(),
        "/api/v1/nothing-here".to_owned(),
    ] {
        let (status, body) = get_json(Some(acme), &path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_schema(&doc, "ErrorBody", &body);
    }
}

#[tokio::test]
async fn facets_stats_health_and_the_openapi_document() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();

    let (status, tags) = get_json(Some(acme), "/api/v1/facets/tag").await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "FacetsOutput", &tags);
    let counts = tags["counts"].as_array().unwrap();
    assert!(!counts.is_empty());
    assert!(
        counts
            .windows(2)
            .all(|w| w[0]["count"].as_u64() >= w[1]["count"].as_u64())
    );
    let (_, formats) = get_json(Some(acme), "/api/v1/facets/format").await;
    let total: u64 = formats["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, SAMPLES.len() as u64);
    let (status, body) = get_json(Some(acme), "/api/v1/facets/colour").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "api.not_found");

    let (status, stats) = get_json(Some(acme), "/api/v1/stats").await;
    assert_eq!(status, StatusCode::OK);
    assert_schema(&doc, "StatsOutput", &stats);
    assert_eq!(stats["tenant_id"], "acme");
    assert_eq!(stats["total"], SAMPLES.len());

    for path in ["/healthz", "/readyz"] {
        let (status, body) = get_json(None, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_schema(&doc, "Status", &body);
    }

    // The served document is the checked-in one, and it lists every route.
    let (status, served) = get_json(None, "/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(served, doc);
    let mut documented: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    documented.sort_unstable();
    let mut routes: Vec<&str> = imgtag_workers::api::API_ROUTES.to_vec();
    routes.sort_unstable();
    assert_eq!(documented, routes);

    // The page and its assets, under a strict policy.
    for (path, kind) in [
        ("/", "text/html"),
        ("/app.js", "text/javascript"),
        ("/app.css", "text/css"),
    ] {
        let response = get(None, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with(kind)
        );
        let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(policy.contains("script-src 'self'"), "{policy}");
    }
    let page = get(None, "/").await.text().await.unwrap();
    assert!(
        page.contains("/app.js") && !page.contains("<script>"),
        "no inline scripts"
    );
}

#[tokio::test]
async fn uploads_are_bounded_and_bad_images_get_clear_errors() {
    let server = api_server();
    let doc = document();
    let acme = server.acme_key.as_str();

    // Over the body limit: refused before it is decoded.
    let big = vec![0u8; usize::try_from(MAX_BODY_BYTES).unwrap() + 1024];
    let (status, body) = upload(acme, "", image_form("big.jpg", big)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "api.too_large");
    assert_schema(&doc, "ErrorBody", &body);

    // Wider than [decode] max_width: the bounded decoder refuses it.
    let mut png = Vec::new();
    image::RgbImage::new(MAX_WIDTH + 1, 8)
        .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    let (status, body) = upload(acme, "", image_form("wide.png", png)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(code(&body), "image.too_large");

    // Not an image, a truncated one, an empty one.
    let coffee = fs_err::read(sample("coffee.png")).unwrap();
    for (name, bytes, expected) in [
        (
            "notes.txt",
            b"just some text, not an image".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
        (
            "cut.png",
            coffee[..coffee.len() / 3].to_vec(),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        ("empty.png", Vec::new(), StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (status, body) = upload(acme, "", image_form(name, bytes)).await;
        assert_eq!(status, expected, "{name}: {body}");
        assert!(code(&body).starts_with("image."), "{name}: {body}");
        assert_eq!(body["error"]["retryable"], false);
    }

    // Malformed forms.
    let no_image = reqwest::multipart::Form::new().text("picture", "x");
    let (status, body) = upload(acme, "", no_image).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let two = image_form("a.png", coffee.clone()).part(
        "image",
        reqwest::multipart::Part::bytes(coffee.clone()).file_name("b.png"),
    );
    let (status, _) = upload(acme, "", two).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = upload(acme, "?text=cat", image_form("c.png", coffee)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let not_multipart = client()
        .post(url("/api/v1/search/image"))
        .bearer_auth(acme)
        .body("plain")
        .send()
        .await
        .unwrap();
    assert_eq!(not_multipart.status(), StatusCode::BAD_REQUEST);
}

//! The client against scripted servers on 127.0.0.1: each connection reads requests and writes
//! the next canned answer, so framing, reuse and closing can be set byte by byte.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;

/// What the server does for one request.
#[derive(Clone)]
enum Step {
    /// Writes these parts, pausing between them.
    Answer(Vec<&'static str>),
    /// Writes these parts, then closes the connection.
    AnswerAndClose(Vec<&'static str>),
    /// Closes the connection without answering.
    Close,
}

struct Server {
    url: String,
    connections: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Serves `steps` in order, across connections: a closed connection's next request, on a new
/// connection, gets the next step.
async fn server(steps: Vec<Step>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp?x=1", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (count, log) = (connections.clone(), requests.clone());
    tokio::spawn(async move {
        let mut steps = steps.into_iter();
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            loop {
                let Some(request) = read_request(&mut socket).await else {
                    break;
                };
                log.lock().unwrap().push(request);
                let Some(step) = steps.next() else { return };
                let (parts, close) = match step {
                    Step::Answer(parts) => (parts, false),
                    Step::AnswerAndClose(parts) => (parts, true),
                    Step::Close => (Vec::new(), true),
                };
                for part in parts {
                    socket.write_all(part.as_bytes()).await.unwrap();
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                if close {
                    break;
                }
            }
        }
    });
    Server {
        url,
        connections,
        requests,
    }
}

/// One request's head and body, or `None` when the client closed the connection.
async fn read_request(socket: &mut TcpStream) -> Option<String> {
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .map_or(0, |n| n.parse::<usize>().unwrap());
            if bytes.len() >= end + 4 + length {
                return Some(text);
            }
        }
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
}

fn endpoint(url: &str) -> Endpoint {
    Endpoint::new(url, Duration::from_secs(1)).unwrap()
}

/// Sends a POST on `idle`; the status, the body, and the connection to go on with.
async fn post(endpoint: &Endpoint, idle: Option<Idle>) -> Result<(u16, String, Option<Idle>), Error> {
    let request = endpoint.request(&Method::POST, &HeaderMap::new(), Some(b"{}"));
    let mut response = endpoint.send(idle, &request).await?;
    let mut body = Vec::new();
    while let Some(chunk) = response.body.chunk().await? {
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body).unwrap();
    Ok((response.status, text, response.body.into_idle()))
}

const OK_HI: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi";

#[tokio::test]
async fn a_kept_connection_carries_the_next_request() {
    let server = server(vec![Step::Answer(vec![OK_HI]), Step::Answer(vec![OK_HI])]).await;
    let endpoint = endpoint(&server.url);
    let (status, body, idle) = post(&endpoint, None).await.unwrap();
    assert_eq!((status, body.as_str()), (200, "hi"));
    assert!(idle.is_some());
    let (_, body, _) = post(&endpoint, idle).await.unwrap();
    assert_eq!(body, "hi");
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_request_has_its_host_target_and_length() {
    let server = server(vec![Step::Answer(vec![OK_HI])]).await;
    post(&endpoint(&server.url), None).await.unwrap();
    let request = server.requests.lock().unwrap()[0].clone();
    let port = server.url.split(':').nth(2).unwrap().split('/').next().unwrap();
    assert_eq!(
        request,
        format!("POST /mcp?x=1 HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-length: 2\r\n\r\n{{}}")
    );
}

#[test]
fn given_headers_and_credentials() {
    let endpoint = endpoint("http://us%20er:p%40ss@[::1]:8080/mcp");
    let plain = endpoint.request(&Method::DELETE, &HeaderMap::new(), None);
    assert_eq!(
        String::from_utf8(plain).unwrap(),
        "DELETE /mcp HTTP/1.1\r\nhost: [::1]:8080\r\nauthorization: Basic dXMgZXI6cEBzcw==\r\n\r\n"
    );
    let mut own = HeaderMap::new();
    own.insert(HOST, HeaderValue::from_static("example.org"));
    own.insert(AUTHORIZATION, HeaderValue::from_static("Bearer t"));
    let given = endpoint.request(&Method::DELETE, &own, None);
    assert_eq!(
        String::from_utf8(given).unwrap(),
        "DELETE /mcp HTTP/1.1\r\nhost: example.org\r\nauthorization: Bearer t\r\n\r\n"
    );
}

#[test]
fn only_http_urls_with_a_host() {
    for url in ["ftp://h/mcp", "not a url", "http://[::1/mcp", "unix:/run/mcp.sock"] {
        let error = Endpoint::new(url, Duration::from_secs(1)).unwrap_err();
        assert!(matches!(error, Unsent::Invalid(_)), "{url}: {error:?}");
    }
    assert!(Endpoint::new("https://localhost/mcp", Duration::from_secs(1)).is_ok());
}

#[tokio::test]
async fn a_chunked_body_in_pieces_with_a_trailer() {
    let parts = vec![
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
        "5\r\nhel",
        "lo\r\n6;ext=1\r\n world\r\n0\r\n",
        "checksum: x\r\n\r\n",
    ];
    let server = server(vec![Step::Answer(parts), Step::Answer(vec![OK_HI])]).await;
    let endpoint = endpoint(&server.url);
    let (_, body, idle) = post(&endpoint, None).await.unwrap();
    assert_eq!(body, "hello world");
    post(&endpoint, idle).await.unwrap();
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn interim_answers_are_skipped() {
    let parts = vec!["HTTP/1.1 100 Continue\r\n\r\n", OK_HI];
    let server = server(vec![Step::Answer(parts)]).await;
    let (status, body, _) = post(&endpoint(&server.url), None).await.unwrap();
    assert_eq!((status, body.as_str()), (200, "hi"));
}

#[tokio::test]
async fn a_body_to_the_end_of_the_connection_is_not_kept() {
    let parts = vec!["HTTP/1.1 200 OK\r\n\r\nall ", "of it"];
    let server = server(vec![Step::AnswerAndClose(parts)]).await;
    let (_, body, idle) = post(&endpoint(&server.url), None).await.unwrap();
    assert_eq!(body, "all of it");
    assert!(idle.is_none());
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    let server = server(vec![Step::AnswerAndClose(vec![OK_HI]), Step::Answer(vec![OK_HI])]).await;
    let endpoint = endpoint(&server.url);
    let (_, _, idle) = post(&endpoint, None).await.unwrap();
    assert!(idle.is_some(), "the answer said nothing of closing");
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (_, body, _) = post(&endpoint, idle).await.unwrap();
    assert_eq!(body, "hi");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_kept_connection_closed_as_the_request_went_out_is_tried_once_more_on_a_new_one() {
    let server = server(vec![Step::Answer(vec![OK_HI]), Step::Close, Step::Answer(vec![OK_HI])]).await;
    let endpoint = endpoint(&server.url);
    let (_, _, idle) = post(&endpoint, None).await.unwrap();
    let (_, body, _) = post(&endpoint, idle).await.unwrap();
    assert_eq!(body, "hi");
    assert_eq!(server.connections.load(Ordering::SeqCst), 2);
    assert_eq!(server.requests.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_kept_connection_that_breaks_in_the_answer_is_not_tried_again() {
    let server = server(vec![
        Step::Answer(vec![OK_HI]),
        Step::AnswerAndClose(vec!["HTTP/1.1 200 OK\r\ncontent-le"]),
        Step::Answer(vec![OK_HI]),
    ])
    .await;
    let endpoint = endpoint(&server.url);
    let (_, _, idle) = post(&endpoint, None).await.unwrap();
    let error = post(&endpoint, idle).await.unwrap_err();
    assert!(
        error.to_string().contains("in the middle of the answer's head"),
        "{error}"
    );
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_tls_endpoint_that_does_not_speak_tls_fails_to_connect() {
    // A plain HTTP answer to the TLS hello.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}/mcp", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        socket.write_all(OK_HI.as_bytes()).await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    });
    let error = post(&endpoint(&url), None).await.unwrap_err();
    match error {
        Error::Unsent(Unsent::Connect { reason, .. }) => assert!(reason.starts_with("TLS handshake"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_https_url_goes_to_port_443_with_its_name() {
    let endpoint = endpoint("https://example.org/a/mcp");
    assert_eq!((endpoint.port, endpoint.authority.as_str()), (443, "example.org"));
    assert!(endpoint.tls.is_some());
}

#[tokio::test]
async fn the_rest_of_a_body_that_comes_later_is_read_before_the_next_request() {
    let parts = vec![
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhi\r\n",
        "0\r\n\r\n",
    ];
    let server = server(vec![Step::Answer(parts), Step::Answer(vec![OK_HI])]).await;
    let endpoint = endpoint(&server.url);
    let request = endpoint.request(&Method::POST, &HeaderMap::new(), Some(b"{}"));
    let mut response = endpoint.send(None, &request).await.unwrap();
    assert_eq!(&response.body.chunk().await.unwrap().unwrap()[..], b"hi");
    // Parked before the last chunk came, as after an SSE answer.
    let idle = response.body.into_idle();
    assert!(idle.is_some());
    tokio::time::sleep(Duration::from_millis(100)).await;
    post(&endpoint, idle).await.unwrap();
    assert_eq!(server.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn broken_answers_are_errors() {
    let huge: &'static str =
        Box::leak(format!("HTTP/1.1 200 OK\r\nx: {}\r\n\r\n", "y".repeat(70_000)).into_boxed_str());
    let cases: Vec<(Vec<&'static str>, &str)> = vec![
        (
            vec!["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort"],
            "5 bytes short",
        ),
        (
            vec!["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n"],
            "chunk size",
        ),
        (
            vec!["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nhiya\r\n"],
            "longer than its size",
        ),
        (vec!["HTTP/1.1 200"], "in the middle of the answer's head"),
        (vec![], "without answering"),
        (vec![huge], "larger than"),
    ];
    for (parts, expected) in cases {
        let server = server(vec![Step::AnswerAndClose(parts)]).await;
        let error = match post(&endpoint(&server.url), None).await {
            Err(error) => error,
            Ok(answer) => panic!("{expected}: {:?}", answer.1),
        };
        assert!(error.to_string().contains(expected), "{expected}: {error}");
    }
}

#[tokio::test]
async fn nobody_listening_is_unsent() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/mcp", listener.local_addr().unwrap());
    drop(listener);
    let error = post(&endpoint(&url), None).await.unwrap_err();
    assert!(
        matches!(&error, Error::Unsent(Unsent::Connect { url: u, .. }) if *u == url),
        "{error:?}"
    );
}

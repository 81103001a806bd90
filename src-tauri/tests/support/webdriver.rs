//! A minimal W3C WebDriver client (just the endpoints the tests use) talking to `tauri-driver`,
//! which starts the real app through Debian's `WebKitWebDriver`. Plain JSON over HTTP with `ureq`
//! keeps the test dependency small.

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The key WebDriver uses for element references.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running `tauri-driver`; killed on drop.
pub struct Driver {
    child: Child,
    pub port: u16,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Fails (never skips) when `tauri-driver` or `WebKitWebDriver` is missing.
pub fn require_drivers() -> (String, String) {
    let find = |name: &str, hint: &str| {
        let out = Command::new("sh")
            .args(["-c", &format!("command -v {name}")])
            .output()
            .expect("sh");
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(!path.is_empty(), "{name} not found: {hint}");
        path
    };
    (
        find(
            "tauri-driver",
            "`cargo install tauri-driver --locked` (scripts/test-app.sh does it)",
        ),
        find("WebKitWebDriver", "`apt-get install webkit2gtk-driver`"),
    )
}

impl Driver {
    /// Starts tauri-driver with the app's environment (config and data dirs).
    pub fn start(dirs: &Path) -> Driver {
        let (driver, native) = require_drivers();
        let (port, native_port) = (free_port(), free_port());
        let child = Command::new(driver)
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
                "--native-driver",
                &native,
            ])
            .env("SSE_TRAY_CONFIG_DIR", dirs.join("config"))
            .env("SSE_TRAY_DATA_DIR", dirs.join("data"))
            // A home of its own: start-at-login writes ~/.config/autostart, WebKit its caches.
            .env("HOME", dirs.join("home"))
            .env("RUST_LOG", "warn,sse_tray=info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dirs.join("driver.log")).expect("driver log"))
            .spawn()
            .expect("start tauri-driver");
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "tauri-driver did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        driver
    }

    /// Opens a session: tauri-driver starts `application`.
    pub fn session(&self, application: &str) -> Session {
        self.session_with_args(application, &[])
    }

    /// Opens a session: tauri-driver starts `application` with `args`.
    pub fn session_with_args(&self, application: &str, args: &[&str]) -> Session {
        let base = format!("http://127.0.0.1:{}", self.port);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "wry",
            "tauri:options": {"application": application, "args": args}
        }}});
        let reply: Value = ureq::post(&format!("{base}/session"))
            .send_json(caps)
            .unwrap_or_else(|e| panic!("new session: {e}"))
            .into_json()
            .expect("session json");
        let id = reply["value"]["sessionId"]
            .as_str()
            .expect("sessionId")
            .to_owned();
        Session {
            base: format!("{base}/session/{id}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One WebDriver session (the app's window).
pub struct Session {
    base: String,
}

impl Session {
    fn post(&self, path: &str, body: Value) -> Result<Value, String> {
        match ureq::post(&format!("{}{path}", self.base)).send_json(body) {
            Ok(r) => Ok(r.into_json::<Value>().map_err(|e| e.to_string())?["value"].take()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_string().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    fn get(&self, path: &str) -> Result<Value, String> {
        match ureq::get(&format!("{}{path}", self.base)).call() {
            Ok(r) => Ok(r.into_json::<Value>().map_err(|e| e.to_string())?["value"].take()),
            Err(ureq::Error::Status(_, r)) => Err(r.into_string().unwrap_or_default()),
            Err(e) => Err(e.to_string()),
        }
    }

    /// Runs `script` (a function body; `arguments` available) and returns its value.
    pub fn execute(&self, script: &str, args: Value) -> Value {
        self.post("/execute/sync", json!({"script": script, "args": args}))
            .unwrap_or_else(|e| panic!("execute: {e}"))
    }

    /// Runs an async `script` that calls `arguments[arguments.length - 1]` with its result.
    pub fn execute_async(&self, script: &str) -> Value {
        self.post("/execute/async", json!({"script": script, "args": []}))
            .unwrap_or_else(|e| panic!("execute async: {e}"))
    }

    /// Polls `script` until it returns something truthy (not null/false/0/""), for `secs`.
    pub fn wait_for(&self, what: &str, secs: u64, script: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let value = self
                .post("/execute/sync", json!({"script": script, "args": []}))
                .unwrap_or(Value::Null);
            let truthy = match &value {
                Value::Null | Value::Bool(false) => false,
                Value::Number(n) => n.as_f64() != Some(0.0),
                Value::String(s) => !s.is_empty(),
                _ => true,
            };
            if truthy {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} (last: {value})"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Finds one element by CSS selector.
    pub fn find(&self, css: &str) -> String {
        let found = self
            .post("/element", json!({"using": "css selector", "value": css}))
            .unwrap_or_else(|e| panic!("find {css}: {e}"));
        match found[ELEMENT].as_str() {
            Some(id) => id.to_owned(),
            None => panic!("find {css}: no element reference in {found}"),
        }
    }

    pub fn click(&self, element: &str) {
        self.post(&format!("/element/{element}/click"), json!({}))
            .unwrap_or_else(|e| panic!("click: {e}"));
    }

    pub fn type_text(&self, element: &str, text: &str) {
        self.post(&format!("/element/{element}/value"), json!({"text": text}))
            .unwrap_or_else(|e| panic!("type: {e}"));
    }

    pub fn text(&self, element: &str) -> String {
        self.get(&format!("/element/{element}/text"))
            .unwrap_or_else(|e| panic!("text: {e}"))
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The text of an open `alert()`, if any.
    pub fn alert_text(&self) -> Option<String> {
        self.get("/alert/text")
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
    }

    /// Saves what the window shows now, with the theme forced to `theme` (`light` or `dark`),
    /// as `target/screenshots/<name>.png` (WebDriver's Take Screenshot: the page as WebKit
    /// painted it). Fails unless it is a PNG at least 720 px wide whose background is as light
    /// or as dark as the theme says; returns the decoded image.
    pub fn screenshot(&self, name: &str, theme: &str) -> image::RgbaImage {
        use base64::Engine as _;
        self.execute(
            "document.documentElement.dataset.theme = arguments[0];",
            json!([theme]),
        );
        // Two frames, so the forced theme is painted before the capture.
        self.execute_async(
            "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
        );
        let encoded = self
            .get("/screenshot")
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        self.execute("delete document.documentElement.dataset.theme;", json!([]));
        let png = base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("screenshot {name}: not base64: {e}"));
        let picture = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .unwrap_or_else(|e| panic!("screenshot {name}: not a PNG: {e}"))
            .to_rgba8();
        assert!(
            picture.width() >= 720,
            "screenshot {name}: {}px wide",
            picture.width()
        );
        // The page's background, just inside the bottom-left corner: dark means dark.
        let corner = picture.get_pixel(2, picture.height() - 3);
        let luma =
            (u32::from(corner[0]) * 299 + u32::from(corner[1]) * 587 + u32::from(corner[2]) * 114)
                / 1000;
        match theme {
            "dark" => assert!(
                luma < 80,
                "screenshot {name}: dark theme but background {corner:?}"
            ),
            _ => assert!(
                luma > 180,
                "screenshot {name}: light theme but background {corner:?}"
            ),
        }
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../screenshots");
        std::fs::create_dir_all(&dir).expect("screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, &png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        eprintln!("saved {}", path.display());
        picture
    }

    pub fn close(self) {
        let _ = ureq::delete(&self.base).call();
    }
}

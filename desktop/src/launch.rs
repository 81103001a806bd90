//! The command line of `sse-tray`: `--hidden` (start in the tray, for autostart), `--settings`
//! (open the settings window instead of the history), `--demo` (run the built-in demo stream)
//! and `--version`. Parsed by hand because a second instance's arguments arrive as a plain
//! `Vec<String>` (see [`crate::single_instance`]) and go through the same function.

/// What the command line asks for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LaunchOptions {
    /// Start with no window.
    pub hidden: bool,
    /// Open the settings window at start instead of the history window.
    pub settings: bool,
    /// Subscribe to the built-in demo stream instead of (in addition to nothing in) config.toml.
    pub demo: bool,
    /// Print the version and exit.
    pub version: bool,
}

/// Parses the arguments after the program name; unknown arguments are returned as errors so a
/// typo is not silently ignored.
pub fn parse<I: IntoIterator<Item = S>, S: AsRef<str>>(args: I) -> Result<LaunchOptions, String> {
    let mut options = LaunchOptions::default();
    for arg in args {
        match arg.as_ref() {
            "--hidden" => options.hidden = true,
            "--demo" => options.demo = true,
            "--settings" => options.settings = true,
            "--version" | "-V" => options.version = true,
            other => {
                return Err(format!(
                    "unknown argument `{other}` (expected --hidden, --settings, --demo or --version)"
                ));
            }
        }
    }
    Ok(options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_parse_and_typos_are_refused() {
        assert_eq!(parse(Vec::<String>::new()), Ok(LaunchOptions::default()));
        assert_eq!(
            parse(["--demo", "--hidden"]),
            Ok(LaunchOptions {
                hidden: true,
                demo: true,
                ..LaunchOptions::default()
            })
        );
        assert!(parse(["--hiden"]).is_err());
    }
}

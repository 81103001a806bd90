//! Where checked images live: `<data dir>/images/<sha256 of the URL>.<ext>`, private files (0600
//! in a 0700 directory), under a byte budget. The name is derived from the URL alone, so the
//! history window finds an event's image without any table ([`ImageCache::cached`] with the URL
//! from [`crate::notify::payload::event_image`]), and an image once fetched is never fetched again
//! while it is cached. The budget evicts the least recently used files first (a cache hit
//! refreshes a file's modification time); the newest file is never evicted, so an image larger
//! than a tiny budget is still shown once.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};

use super::decode::ImageKind;

/// The default byte budget of the cache.
pub const DEFAULT_BUDGET: u64 = 64 * 1024 * 1024;

/// The image cache directory and its budget.
#[derive(Clone, Debug)]
pub struct ImageCache {
    dir: PathBuf,
    budget: u64,
}

/// One file in the cache, as eviction sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// When it was written or last used.
    pub modified: SystemTime,
}

impl ImageCache {
    /// A cache in `dir` holding at most `budget` bytes (after the newest file).
    pub fn new(dir: impl Into<PathBuf>, budget: u64) -> Self {
        Self {
            dir: dir.into(),
            budget,
        }
    }

    /// The cache in `<data_dir>/images` with [`DEFAULT_BUDGET`].
    pub fn in_data_dir(data_dir: &Path) -> Self {
        Self::new(data_dir.join("images"), DEFAULT_BUDGET)
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file name, without extension, of `url`'s image: its SHA-256 in lower-case hex.
    pub fn file_stem(url: &str) -> String {
        Sha256::digest(url.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Where `url`'s image is cached, if it is.
    pub fn cached(&self, url: &str) -> Option<PathBuf> {
        let stem = Self::file_stem(url);
        ImageKind::ALL
            .iter()
            .map(|kind| self.dir.join(format!("{stem}.{}", kind.extension())))
            .find(|path| path.is_file())
    }

    /// [`Self::cached`], marking the file as recently used so the budget keeps it longer.
    pub fn use_cached(&self, url: &str) -> Option<PathBuf> {
        let path = self.cached(url)?;
        let touched = fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_modified(SystemTime::now()));
        if let Err(error) = touched {
            tracing::debug!(%error, path = %path.display(), "could not mark a cached image used");
        }
        Some(path)
    }

    /// `url`'s cached image as a `data:` URL for the history window, checked again on the way
    /// out (a file someone swapped in the cache dir is not shown); `None` when it is not cached
    /// or not an image. Nothing is fetched: the window shows only what the app already checked.
    pub fn data_url(&self, url: &str) -> Option<String> {
        use base64::Engine as _;
        let bytes = fs::read(self.cached(url)?).ok()?;
        let kind = super::decode::check(&bytes).ok()?;
        let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
        Some(format!("data:{};base64,{encoded}", kind.mime()))
    }

    /// Stores a checked image for `url` (atomically, private) and evicts old files over the
    /// budget. Returns the stored file.
    pub fn store(&self, url: &str, kind: ImageKind, bytes: &[u8]) -> crate::Result<PathBuf> {
        let path = self
            .dir
            .join(format!("{}.{}", Self::file_stem(url), kind.extension()));
        crate::atomic_file::write_atomic(&path, bytes)?;
        for old in over_budget(self.files(), self.budget, &path) {
            match fs::remove_file(&old) {
                Ok(()) => tracing::debug!(path = %old.display(), "image evicted from the cache"),
                Err(error) if error.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(%error, path = %old.display(), "could not evict a cached image");
                }
            }
        }
        Ok(path)
    }

    /// The cache's own files (`<64 hex>.<known extension>`); temp files and anything a person put
    /// there are not counted and never deleted.
    pub fn files(&self) -> Vec<CachedFile> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(Result::ok)
            .filter(|entry| is_cache_name(&entry.file_name().to_string_lossy()))
            .filter_map(|entry| {
                let meta = entry.metadata().ok().filter(fs::Metadata::is_file)?;
                Some(CachedFile {
                    path: entry.path(),
                    size: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                })
            })
            .collect()
    }
}

fn is_cache_name(name: &str) -> bool {
    let Some((stem, ext)) = name.split_once('.') else {
        return false;
    };
    stem.len() == 64
        && stem.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && ImageKind::ALL.iter().any(|kind| kind.extension() == ext)
}

/// Which files to delete so the rest fit in `budget` bytes: the least recently used first, never
/// `keep` (the file just stored).
pub fn over_budget(mut files: Vec<CachedFile>, budget: u64, keep: &Path) -> Vec<PathBuf> {
    let mut total: u64 = files.iter().map(|f| f.size).sum();
    files.sort_by(|a, b| a.modified.cmp(&b.modified).then(a.path.cmp(&b.path)));
    let mut evict = Vec::new();
    for file in files {
        if total <= budget {
            break;
        }
        if file.path != keep {
            total = total.saturating_sub(file.size);
            evict.push(file.path);
        }
    }
    evict
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn file(name: &str, size: u64, age_secs: u64) -> CachedFile {
        CachedFile {
            path: PathBuf::from(name),
            size,
            modified: SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000 - age_secs),
        }
    }

    #[test]
    fn only_a_cached_checked_image_becomes_a_data_url() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cache = ImageCache::new(dir.path(), DEFAULT_BUDGET);
        let url = "https://i.example/a.png";
        assert_eq!(cache.data_url(url), None, "nothing is fetched");
        let mut png = Vec::new();
        image::RgbImage::new(2, 2)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .expect("encode");
        cache.store(url, ImageKind::Png, &png).expect("store");
        let data = cache.data_url(url).expect("cached");
        assert!(data.starts_with("data:image/png;base64,iVBOR"), "{data}");
        // A file swapped in by someone else is not shown.
        let other = "https://i.example/b.png";
        cache
            .store(other, ImageKind::Png, b"<svg onload=alert(1)>")
            .expect("store");
        assert_eq!(cache.data_url(other), None);
    }

    #[test]
    fn names_are_the_urls_sha256() {
        let stem = ImageCache::file_stem("https://i.example/a.png");
        assert_eq!(stem.len(), 64);
        assert_eq!(stem, ImageCache::file_stem("https://i.example/a.png"));
        assert_ne!(stem, ImageCache::file_stem("https://i.example/b.png"));
        // The known digest of the empty string: the hex is the plain SHA-256.
        assert_eq!(
            ImageCache::file_stem(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert!(is_cache_name(&format!("{stem}.png")));
        assert!(!is_cache_name(&format!(".{stem}.png.tmp-1-2")));
        assert!(!is_cache_name(&format!("{stem}.svg")));
        assert!(!is_cache_name("notes.png"));
    }

    #[test]
    fn the_oldest_go_first_until_the_rest_fit_and_the_new_one_stays() {
        let files = vec![
            file("new", 40, 0),
            file("old", 30, 300),
            file("mid", 30, 200),
            file("recent", 30, 100),
        ];
        assert_eq!(
            over_budget(files.clone(), 70, Path::new("new")),
            [PathBuf::from("old"), PathBuf::from("mid")]
        );
        assert_eq!(
            over_budget(files.clone(), 100, Path::new("new")),
            [PathBuf::from("old")]
        );
        assert!(over_budget(files.clone(), 130, Path::new("new")).is_empty());
        // A budget smaller than the new file alone: everything else goes, the new one stays.
        let evicted = over_budget(files, 10, Path::new("new"));
        assert_eq!(evicted.len(), 3);
        assert!(!evicted.contains(&PathBuf::from("new")));
    }

    #[test]
    fn storing_over_budget_evicts_and_finds_by_url() {
        let dir = tempfile::tempdir().unwrap();
        let cache = ImageCache::new(dir.path().join("images"), 250);
        let a = cache
            .store("https://x/a", ImageKind::Png, &[1; 100])
            .unwrap();
        // Different modification times without sleeping.
        fs::File::options()
            .write(true)
            .open(&a)
            .unwrap()
            .set_modified(SystemTime::UNIX_EPOCH + Duration::from_secs(1))
            .unwrap();
        let b = cache
            .store("https://x/b", ImageKind::Gif, &[2; 100])
            .unwrap();
        assert_eq!(cache.cached("https://x/a"), Some(a.clone()));
        assert_eq!(cache.cached("https://x/b"), Some(b.clone()));
        assert!(b.to_string_lossy().ends_with(".gif"));
        fs::write(cache.dir().join("mine.txt"), [0; 500]).unwrap();
        let c = cache
            .store("https://x/c", ImageKind::Jpeg, &[3; 100])
            .unwrap();
        assert_eq!(cache.cached("https://x/a"), None, "the oldest went");
        assert_eq!(cache.cached("https://x/b"), Some(b));
        assert_eq!(cache.cached("https://x/c"), Some(c.clone()));
        assert!(cache.dir().join("mine.txt").exists(), "not ours to delete");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&c).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let mode = fs::metadata(cache.dir()).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
    }
}
